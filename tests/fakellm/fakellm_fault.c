/*  fakellm_fault -- which requests fail, and how: the seeded draw and the script.
 *
 *  A fault is a pure function of (seed, body digest, sighting number), so the
 *  same run gives the same faults whatever the thread timing, and the retry of
 *  a failed request (same body, next sighting) gets an independent draw. The
 *  sighting counter is a lock-free open-addressing table keyed by the first
 *  eight bytes of the digest; when its probe window is full the body counts as
 *  new (only possible after ~65k distinct bodies in one run).
 */
#include <string.h>

#include "fakellm_impl.h"
#include "tt_hash.h"
#include "tt_mem.h"

/* Weights from the design: 429 10, 500/503 5, reset 5, stall 3, truncated 5,
 * schema-invalid 2. */
static const struct {
    fakellm_fault_t fault;
    unsigned weight;
    const char *name;
} s_kinds[] = {
    {FAKELLM_FAULT_NONE, 0, "none"},
    {FAKELLM_FAULT_RATE_LIMIT, 10, "rate_limit"},
    {FAKELLM_FAULT_SERVER_ERROR, 5, "server_error"},
    {FAKELLM_FAULT_RESET, 5, "reset"},
    {FAKELLM_FAULT_STALL, 3, "stall"},
    {FAKELLM_FAULT_TRUNCATED, 5, "truncated"},
    {FAKELLM_FAULT_BAD_SCHEMA, 2, "bad_schema"},
};

const char *
fakellm_fault_name(fakellm_fault_t fault)
{
    return fault >= 0 && fault < FAKELLM_FAULT_KINDS ? s_kinds[fault].name : "unknown";
}

static uint64_t
s_hash(uint64_t seed, const uint8_t digest[32], uint64_t seen, uint64_t salt)
{
    uint8_t buf[48];
    memcpy(buf, digest, 32);
    for (int i = 0; i < 8; i++) {
        buf[32 + i] = (uint8_t)(seed >> (8 * i));
        buf[40 + i] = (uint8_t)(seen >> (8 * i));
    }
    return tt_fnv1a(buf, sizeof buf, salt);
}

fakellm_fault_t
fakellm_draw(uint64_t seed, double rate, const uint8_t digest[32], uint64_t seen)
{
    if (rate <= 0)
        return FAKELLM_FAULT_NONE;
    double u = (double)(s_hash(seed, digest, seen, 0x5eed) >> 11) * 0x1.0p-53;
    if (u >= rate)
        return FAKELLM_FAULT_NONE;
    unsigned total = 0;
    for (int k = 1; k < FAKELLM_FAULT_KINDS; k++)
        total += s_kinds[k].weight;
    unsigned pick = (unsigned)(s_hash(seed, digest, seen, 0xfa17) % total);
    for (int k = 1; k < FAKELLM_FAULT_KINDS; k++) {
        if (pick < s_kinds[k].weight)
            return s_kinds[k].fault;
        pick -= s_kinds[k].weight;
    }
    return FAKELLM_FAULT_NONE;
}

uint64_t
fakellm_seen(fakellm_t *f, const uint8_t digest[32])
{
    uint64_t key = 0;
    memcpy(&key, digest, sizeof key);
    key |= 1; /* 0 marks an empty slot */
    for (unsigned probe = 0; probe < FAKELLM_SEEN_PROBES; probe++) {
        fakellm_seen_t *slot = &f->seen[(key + probe) & (FAKELLM_SEEN_SLOTS - 1)];
        uint64_t cur = atomic_load(&slot->key);
        if (cur == 0 && atomic_compare_exchange_strong(&slot->key, &cur, key))
            cur = key;
        if (cur == key)
            return atomic_fetch_add(&slot->count, 1);
    }
    return 0;
}

void
fakellm_seen_clear(fakellm_t *f)
{
    for (unsigned i = 0; i < FAKELLM_SEEN_SLOTS; i++) {
        atomic_store(&f->seen[i].key, 0);
        atomic_store(&f->seen[i].count, 0);
    }
}

const fakellm_script_t *
fakellm_script_next(fakellm_t *f)
{
    size_t len = atomic_load(&f->script_len);
    if (atomic_load(&f->script_next) >= len)
        return NULL;
    size_t i = atomic_fetch_add(&f->script_next, 1);
    return i < len ? &f->script[i] : NULL;
}

void
fakellm_script_free(fakellm_script_t *entries, size_t n)
{
    for (size_t i = 0; entries && i < n; i++) {
        free((char *)entries[i].code);
        free((char *)entries[i].should_retry);
        free((char *)entries[i].content);
    }
    free(entries);
}

void
fakellm_script(fakellm_t *f, const fakellm_script_t *entries, size_t n)
{
    fakellm_script_t *copy = n ? tt_calloc(n, sizeof *copy) : NULL;
    for (size_t i = 0; i < n; i++) {
        copy[i] = entries[i];
        copy[i].code = entries[i].code ? tt_strdup(entries[i].code) : NULL;
        copy[i].should_retry = entries[i].should_retry ? tt_strdup(entries[i].should_retry) : NULL;
        copy[i].content = entries[i].content ? tt_strdup(entries[i].content) : NULL;
    }
    /* Callers replace the script only while no request is in flight. */
    atomic_store(&f->script_len, 0);
    fakellm_script_free(f->script, f->script_n);
    f->script = copy;
    f->script_n = n;
    atomic_store(&f->script_next, 0);
    atomic_store(&f->script_len, n);
}
