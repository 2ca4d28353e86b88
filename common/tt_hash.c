/*  tt_hash -- SHA-256 over libsodium, a table-driven CRC32C, FNV-1a. */
#include "tt_hash.h"

#include <sodium.h>
#include <string.h>

#include "tt_err.h"

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(tt_sha256_t),
               "tt_sha256_t too small for libsodium's state");

void
tt_sha256_init(tt_sha256_t *h)
{
    crypto_hash_sha256_init((crypto_hash_sha256_state *)h->opaque);
}

void
tt_sha256_update(tt_sha256_t *h, const void *data, size_t len)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)h->opaque, data, len);
}

void
tt_sha256_final(tt_sha256_t *h, uint8_t out[TT_SHA256_LEN])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)h->opaque, out);
}

void
tt_sha256(const void *data, size_t len, uint8_t out[TT_SHA256_LEN])
{
    crypto_hash_sha256(out, data, len);
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
