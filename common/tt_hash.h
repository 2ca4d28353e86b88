/*  tt_hash -- digests and checksums.
 *
 *  SHA-256 for anything that must not collide: request digests, the log's hash
 *  chain, cache keys. It is OpenSSL's (libcrypto, already linked by libcurl):
 *  with the CPU's SHA extensions it hashes a 12 KB prompt in ~7 us, where
 *  libsodium's portable code takes ~34 us -- on the path of every model call. CRC32C (Castagnoli)
 * for framing, where it only has to catch accidents. FNV-1a for cheap, stable, non-adversarial
 * choices (the offline model picking a phrase).
 */
#ifndef TT_HASH_H
#define TT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TT_SHA256_LEN     32
#define TT_SHA256_HEX_LEN 64

typedef struct {
    void *ctx; /* EVP_MD_CTX, freed by tt_sha256_final */
} tt_sha256_t;

void tt_sha256_init(tt_sha256_t *h);
void tt_sha256_update(tt_sha256_t *h, const void *data, size_t len);
void tt_sha256_final(tt_sha256_t *h, uint8_t out[TT_SHA256_LEN]);
void tt_sha256(const void *data, size_t len, uint8_t out[TT_SHA256_LEN]);

/* Lower-case hex of len bytes into out (2*len+1 bytes). Returns out. */
char *tt_hex(const uint8_t *bytes, size_t len, char *out);

/* CRC32C (Castagnoli), continued from CRC (0 to start): with the CPU's crc32
 * instruction where it has one, else by table. tt_crc32c_portable is always
 * the table (tests hold the two to each other). */
uint32_t tt_crc32c(uint32_t crc, const void *data, size_t len);
uint32_t tt_crc32c_portable(uint32_t crc, const void *data, size_t len);

uint64_t tt_fnv1a(const void *data, size_t len, uint64_t seed);
uint64_t tt_fnv1a_str(const char *s, uint64_t seed);

#endif
