/*  tt_hash -- SHA-256 over OpenSSL's EVP, CRC32C (the CPU's instruction or a table), FNV-1a. */
#include "tt_hash.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "tt_err.h"

/* OpenSSL 3 looks the algorithm up again on every EVP_sha256() digest: once
 * a process is enough (kept to the end; a fork inherits it). */
static EVP_MD *s_fetched;
static pthread_once_t s_fetch_once = PTHREAD_ONCE_INIT;

static void
s_fetch(void)
{
    s_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
s_sha256_md(void)
{
    pthread_once(&s_fetch_once, s_fetch);
    return s_fetched ? s_fetched : EVP_sha256();
}

void
tt_sha256_init(tt_sha256_t *h)
{
    h->ctx = EVP_MD_CTX_new();
    TT_ASSERT(h->ctx && EVP_DigestInit_ex(h->ctx, s_sha256_md(), NULL) == 1);
}

void
tt_sha256_update(tt_sha256_t *h, const void *data, size_t len)
{
    TT_ASSERT(EVP_DigestUpdate(h->ctx, data, len) == 1);
}

void
tt_sha256_final(tt_sha256_t *h, uint8_t out[TT_SHA256_LEN])
{
    unsigned int len = 0;
    TT_ASSERT(EVP_DigestFinal_ex(h->ctx, out, &len) == 1 && len == TT_SHA256_LEN);
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void
tt_sha256(const void *data, size_t len, uint8_t out[TT_SHA256_LEN])
{
    unsigned int n = 0;
    TT_ASSERT(EVP_Digest(data, len, out, &n, s_sha256_md(), NULL) == 1 && n == TT_SHA256_LEN);
}

char *
tt_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

static uint32_t s_crc_table[256];

static void
s_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        s_crc_table[i] = c;
    }
}

static uint32_t
s_crc32c_table(uint32_t crc, const uint8_t *p, size_t len)
{
    /* Benign race: every thread computes the same table. */
    if (s_crc_table[1] == 0)
        s_crc_init();
    while (len--)
        crc = s_crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* SSE 4.2's crc32 instruction computes this very CRC, 8 bytes at a time: a
 * log record's check costs a tenth of the table's. */
__attribute__((target("sse4.2"))) static uint32_t
s_crc32c_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = crc;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
    }
    for (; len; p++, len--)
        c = __builtin_ia32_crc32qi((uint32_t)c, *p);
    return (uint32_t)c;
}

static bool
s_has_sse42(void)
{
    /* Benign race, as the table's */
    static int has = -1;
    if (has < 0) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    }
    return has == 1;
}
#endif

uint32_t
tt_crc32c_portable(uint32_t crc, const void *data, size_t len)
{
    return ~s_crc32c_table(~crc, data, len);
}

uint32_t
tt_crc32c(uint32_t crc, const void *data, size_t len)
{
#if defined(__x86_64__)
    if (s_has_sse42())
        return ~s_crc32c_sse42(~crc, data, len);
#endif
    return tt_crc32c_portable(crc, data, len);
}

uint64_t
tt_fnv1a(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ (seed * 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    /* final avalanche so nearby inputs land far apart */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

uint64_t
tt_fnv1a_str(const char *s, uint64_t seed)
{
    return tt_fnv1a(s, strlen(s), seed);
}
