/*  tt_hash -- SHA-256 over OpenSSL's EVP, a table-driven CRC32C, FNV-1a. */
#include "tt_hash.h"

#include <openssl/evp.h>
#include <string.h>

#include "tt_err.h"

void
tt_sha256_init(tt_sha256_t *h)
{
    h->ctx = EVP_MD_CTX_new();
    TT_ASSERT(h->ctx && EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1);
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
    TT_ASSERT(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == TT_SHA256_LEN);
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

uint32_t
tt_crc32c(uint32_t crc, const void *data, size_t len)
{
    /* Benign race: every thread computes the same table. */
    if (s_crc_table[1] == 0)
        s_crc_init();
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = s_crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
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
