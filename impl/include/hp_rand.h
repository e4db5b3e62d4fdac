/* hp_rand.h — the seeded PRNGs every workload is drawn from: the same seed
 * gives the same operations in every case, every variant, every run.
 *
 * splitmix64 (Steele, Lea and Flood, OOPSLA 2014): one 64-bit word of state,
 * used to draw seeds and short sequences. xoshiro256** (Blackman and Vigna,
 * 2018): 256 bits of state seeded from splitmix64, for long traces. Both are
 * a handful of ALU instructions per draw, no memory traffic beyond the state.
 */
#ifndef HP_RAND_H
#define HP_RAND_H

#include <stdint.h>

/* Advances *x and returns the next splitmix64 output. */
static inline uint64_t hp_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

typedef struct hp_xoshiro {
	uint64_t s[4];
} hp_xoshiro_t;

/* Seeds the four words with consecutive splitmix64 outputs of `seed` (the
 * seeding the xoshiro authors recommend); never all zero. */
static inline void hp_xoshiro_seed(hp_xoshiro_t *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = hp_splitmix64(&seed);
}

static inline uint64_t hp_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* The next xoshiro256** output. */
static inline uint64_t hp_xoshiro_next(hp_xoshiro_t *r)
{
	uint64_t *s = r->s;
	uint64_t out = hp_rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = hp_rotl64(s[3], 45);
	return out;
}

/* A draw in [0, n) by modulo (n > 0): the small bias is irrelevant for
 * workload generation and keeps every existing sequence unchanged. */
static inline uint64_t hp_xoshiro_below(hp_xoshiro_t *r, uint64_t n) { return hp_xoshiro_next(r) % n; }

#endif
