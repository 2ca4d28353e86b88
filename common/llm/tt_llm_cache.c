/*  tt_llm_cache -- LMDB-backed API cache with oldest-first eviction.
 *
 *  Two tables in one environment:
 *    "answers": digest (32 bytes) -> header (version, usage, stamp) + content
 *    "age":     stamp (8 bytes big-endian ms) + digest -> empty
 *  "age" sorts by insertion time, so eviction walks it from the front. Stamps
 *  are wall-clock milliseconds, bumped past the newest stored stamp so that
 *  they strictly increase across every process that writes.
 *
 *  Durability: MDB_NOMETASYNC. A crash may forget the last answers stored (the
 *  cache is a cache) but cannot corrupt the file. MAP_FULL evicts and retries;
 *  MAP_RESIZED (another process grew the map) adopts the new size and retries.
 */
#define TT_LOG_MODULE "llm-cache"
#include "tt_llm_cache.h"

#include <lmdb.h>
#include <string.h>

#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"

#define S_VERSION     1u
#define S_HEADER_LEN  20 /* version u32, prompt u32, completion u32, stamp u64 */
#define S_AGE_KEY_LEN (8 + TT_SHA256_LEN)
#define S_MAX_READERS 1024
#define S_EVICT_SHARE 100 /* evict max_entries/100 extra at a time */

struct tt_llm_cache {
    MDB_env *env;
    MDB_dbi answers;
    MDB_dbi age;
    size_t max_entries;
    char *path;
};

static tt_err_t
s_fail(tt_llm_cache_t *self, const char *what, int rc)
{
    TT_LOG_ERROR("%s: %s: %s", self->path, what, mdb_strerror(rc));
    return TT_EDB;
}

static void
s_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
s_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Begin a transaction, adopting a map another process has grown. */
static int
s_begin(tt_llm_cache_t *self, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(self->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(self->env, 0);
        rc = mdb_txn_begin(self->env, NULL, flags, txn);
    }
    return rc;
}

tt_err_t
tt_llm_cache_open(const char *path, size_t max_entries, tt_llm_cache_t **out)
{
    *out = NULL;
    tt_llm_cache_t *self = tt_new(tt_llm_cache_t);
    self->path = tt_strdup(path);
    self->max_entries = max_entries ? max_entries : 1;
    int rc = mdb_env_create(&self->env);
    if (rc)
        goto fail;
    mdb_env_set_maxdbs(self->env, 2);
    mdb_env_set_maxreaders(self->env, S_MAX_READERS);
    mdb_env_set_mapsize(self->env, TT_LLM_CACHE_MAP_BYTES);
    rc = mdb_env_open(self->env, path, MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC, 0600);
    if (rc)
        goto fail;
    int dead = 0;
    mdb_reader_check(self->env, &dead);
    if (dead)
        TT_LOG_INFO("%s: cleared %d stale reader slot(s)", path, dead);
    MDB_txn *txn;
    if ((rc = s_begin(self, 0, &txn)))
        goto fail;
    if ((rc = mdb_dbi_open(txn, "answers", MDB_CREATE, &self->answers)) ||
        (rc = mdb_dbi_open(txn, "age", MDB_CREATE, &self->age))) {
        mdb_txn_abort(txn);
        goto fail;
    }
    if ((rc = mdb_txn_commit(txn)))
        goto fail;
    *out = self;
    return TT_OK;
fail:
    s_fail(self, "cannot open the API cache", rc);
    tt_llm_cache_close(&self);
    return TT_EDB;
}

void
tt_llm_cache_close(tt_llm_cache_t **self_p)
{
    tt_llm_cache_t *self = *self_p;
    if (!self)
        return;
    if (self->env)
        mdb_env_close(self->env);
    free(self->path);
    free(self);
    *self_p = NULL;
}

tt_err_t
tt_llm_cache_get(tt_llm_cache_t *self, const uint8_t digest[TT_SHA256_LEN], char **content,
                 uint32_t *prompt_tokens, uint32_t *completion_tokens)
{
    *content = NULL;
    MDB_txn *txn;
    int rc = s_begin(self, MDB_RDONLY, &txn);
    if (rc)
        return s_fail(self, "read", rc);
    MDB_val key = {TT_SHA256_LEN, (void *)digest}, val;
    rc = mdb_get(txn, self->answers, &key, &val);
    tt_err_t err = TT_ENOTFOUND;
    if (rc == MDB_SUCCESS && val.mv_size >= S_HEADER_LEN && s_get_u32(val.mv_data) == S_VERSION) {
        const uint8_t *p = val.mv_data;
        *prompt_tokens = s_get_u32(p + 4);
        *completion_tokens = s_get_u32(p + 8);
        *content = tt_strndup((const char *)p + S_HEADER_LEN, val.mv_size - S_HEADER_LEN);
        err = TT_OK;
    } else if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        err = s_fail(self, "read", rc);
    }
    mdb_txn_abort(txn);
    return err;
}

/* Delete the n oldest answers. */
static int
s_evict(tt_llm_cache_t *self, MDB_txn *txn, size_t n)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->age, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (size_t i = 0; i < n && (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == MDB_SUCCESS; i++) {
        if (k.mv_size == S_AGE_KEY_LEN) {
            MDB_val digest = {TT_SHA256_LEN, (uint8_t *)k.mv_data + 8};
            rc = mdb_del(txn, self->answers, &digest, NULL);
            if (rc && rc != MDB_NOTFOUND)
                break;
        }
        if ((rc = mdb_cursor_del(cur, 0)))
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

/* A stamp later than every stamp stored, so "age" is in insertion order even
 * for puts within one millisecond. Write transactions are serialized across
 * processes, so reading the last stamp inside ours is race-free. */
static uint64_t
s_next_stamp(tt_llm_cache_t *self, MDB_txn *txn)
{
    uint64_t stamp = (uint64_t)tt_wall_ms(), last = 0;
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(txn, self->age, &cur) == MDB_SUCCESS) {
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == MDB_SUCCESS && k.mv_size >= 8)
            for (int i = 0; i < 8; i++)
                last = last << 8 | ((const uint8_t *)k.mv_data)[i];
        mdb_cursor_close(cur);
    }
    return stamp > last ? stamp : last + 1;
}

static int
s_put_once(tt_llm_cache_t *self, const uint8_t *digest, const char *content, uint32_t pt,
           uint32_t ct, size_t evict_extra)
{
    MDB_txn *txn;
    int rc = s_begin(self, 0, &txn);
    if (rc)
        return rc;
    MDB_stat st;
    MDB_val key = {TT_SHA256_LEN, (void *)digest}, old;
    if ((rc = mdb_get(txn, self->answers, &key, &old)) == MDB_SUCCESS) {
        mdb_txn_abort(txn); /* another process stored it first */
        return MDB_SUCCESS;
    }
    if ((rc = mdb_stat(txn, self->answers, &st)))
        goto fail;
    if (st.ms_entries + 1 > self->max_entries || evict_extra) {
        size_t over =
            st.ms_entries + 1 > self->max_entries
                ? st.ms_entries + 1 - self->max_entries + self->max_entries / S_EVICT_SHARE
                : 0;
        if ((rc = s_evict(self, txn, over + evict_extra)))
            goto fail;
    }
    size_t clen = strlen(content);
    uint64_t stamp = s_next_stamp(self, txn);
    MDB_val val = {S_HEADER_LEN + clen, NULL};
    if ((rc = mdb_put(txn, self->answers, &key, &val, MDB_RESERVE)))
        goto fail;
    uint8_t *p = val.mv_data;
    s_put_u32(p, S_VERSION);
    s_put_u32(p + 4, pt);
    s_put_u32(p + 8, ct);
    s_put_u32(p + 12, (uint32_t)stamp);
    s_put_u32(p + 16, (uint32_t)(stamp >> 32));
    memcpy(p + S_HEADER_LEN, content, clen);
    uint8_t age_key[S_AGE_KEY_LEN];
    for (int i = 0; i < 8; i++)
        age_key[i] = (uint8_t)(stamp >> (56 - 8 * i));
    memcpy(age_key + 8, digest, TT_SHA256_LEN);
    MDB_val ak = {sizeof age_key, age_key}, av = {0, ""};
    if ((rc = mdb_put(txn, self->age, &ak, &av, 0)))
        goto fail;
    return mdb_txn_commit(txn);
fail:
    mdb_txn_abort(txn);
    return rc;
}

tt_err_t
tt_llm_cache_put(tt_llm_cache_t *self, const uint8_t digest[TT_SHA256_LEN], const char *content,
                 uint32_t prompt_tokens, uint32_t completion_tokens)
{
    int rc = s_put_once(self, digest, content, prompt_tokens, completion_tokens, 0);
    if (rc == MDB_MAP_FULL) {
        /* Make room: a tenth of the bound, at least one entry. */
        size_t n = self->max_entries / 10 + 1;
        TT_LOG_WARN("%s: map full, evicting the %zu oldest answers", self->path, n);
        rc = s_put_once(self, digest, content, prompt_tokens, completion_tokens, n);
    }
    return rc ? s_fail(self, "write", rc) : TT_OK;
}

size_t
tt_llm_cache_count(tt_llm_cache_t *self)
{
    MDB_txn *txn;
    MDB_stat st = {0};
    if (s_begin(self, MDB_RDONLY, &txn) == MDB_SUCCESS) {
        mdb_stat(txn, self->answers, &st);
        mdb_txn_abort(txn);
    }
    return st.ms_entries;
}
