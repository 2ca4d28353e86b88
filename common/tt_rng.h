/*  tt_rng -- a small seeded generator (splitmix64) for deterministic choices.
 *
 *  Every random choice in a simulation comes from a tt_rng_t seeded from the
 *  run's seed, so the same seed gives the same run. Not for cryptography.
 */
#ifndef TT_RNG_H
#define TT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t state;
} tt_rng_t;

void tt_rng_seed(tt_rng_t *rng, uint64_t seed);
uint64_t tt_rng_next(tt_rng_t *rng);
/* Uniform in [0, n); n > 0. */
uint64_t tt_rng_below(tt_rng_t *rng, uint64_t n);
/* Uniform in [0, 1). */
double tt_rng_unit(tt_rng_t *rng);
/* Fisher-Yates over n indices. */
void tt_rng_shuffle(tt_rng_t *rng, uint32_t *items, size_t n);

#endif
