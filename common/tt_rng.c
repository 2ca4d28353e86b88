/*  tt_rng -- splitmix64: tiny, fast, good enough for simulation choices. */
#include "tt_rng.h"

void
tt_rng_seed(tt_rng_t *rng, uint64_t seed)
{
    rng->state = seed ^ 0x6A09E667F3BCC909ull;
}

uint64_t
tt_rng_next(tt_rng_t *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t
tt_rng_below(tt_rng_t *rng, uint64_t n)
{
    /* rejection sampling removes modulo bias */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = tt_rng_next(rng);
    } while (x >= limit);
    return x % n;
}

double
tt_rng_unit(tt_rng_t *rng)
{
    return (double)(tt_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

void
tt_rng_shuffle(tt_rng_t *rng, uint32_t *items, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)tt_rng_below(rng, i);
        uint32_t t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}
