/* sim_hist.c — the log-linear histogram of sim_hist.h. */
#include "sim_hist.h"

#include <stdlib.h>
#include <string.h>

void hp_hist_init(hp_hist_t *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hp_hist_free(hp_hist_t *h)
{
	for (unsigned g = 0; g < HP_HIST_GROUPS; g++)
		free(h->grp[g]);
	hp_hist_init(h);
}

unsigned hp_hist_bucket(uint64_t v)
{
	unsigned msb, g;

	if (v < HP_HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	g = msb - HP_HIST_SUB_BITS + 1;
	return g * HP_HIST_SUB + (unsigned)(v >> (g - 1)) - HP_HIST_SUB;
}

void hp_hist_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi)
{
	unsigned g = b / HP_HIST_SUB, sub = b % HP_HIST_SUB;

	if (g == 0) {
		*lo = *hi = sub;
		return;
	}
	*lo = (uint64_t)(HP_HIST_SUB + sub) << (g - 1);
	*hi = *lo + ((UINT64_C(1) << (g - 1)) - 1);
}

static int add_n(hp_hist_t *h, unsigned b, uint64_t k)
{
	unsigned g = b / HP_HIST_SUB;

	if (!h->grp[g]) {
		h->grp[g] = calloc(HP_HIST_SUB, sizeof(uint64_t));
		if (!h->grp[g])
			return -1;
	}
	h->grp[g][b % HP_HIST_SUB] += k;
	h->n += k;
	return 0;
}

int hp_hist_add(hp_hist_t *h, uint64_t v)
{
	if (add_n(h, hp_hist_bucket(v), 1))
		return -1;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	return 0;
}

int hp_hist_merge(hp_hist_t *dst, const hp_hist_t *src)
{
	for (unsigned g = 0; g < HP_HIST_GROUPS; g++) {
		if (!src->grp[g])
			continue;
		for (unsigned i = 0; i < HP_HIST_SUB; i++)
			if (src->grp[g][i] && add_n(dst, g * HP_HIST_SUB + i, src->grp[g][i]))
				return -1;
	}
	if (src->n) {
		if (src->min < dst->min)
			dst->min = src->min;
		if (src->max > dst->max)
			dst->max = src->max;
	}
	return 0;
}

int64_t hp_hist_rank(const hp_hist_t *h, uint64_t r)
{
	uint64_t cum = 0, lo, hi, mid;

	if (r == 0 || r > h->n)
		return -1;
	if (r == h->n)
		return (int64_t)h->max;
	for (unsigned g = 0; g < HP_HIST_GROUPS; g++) {
		if (!h->grp[g])
			continue;
		for (unsigned i = 0; i < HP_HIST_SUB; i++) {
			cum += h->grp[g][i];
			if (cum < r)
				continue;
			hp_hist_bucket_range(g * HP_HIST_SUB + i, &lo, &hi);
			mid = lo + (hi - lo) / 2;
			if (mid < h->min)
				mid = h->min;
			if (mid > h->max)
				mid = h->max;
			return (int64_t)mid;
		}
	}
	return -1;      /* not reached: the counts add up to n */
}

int64_t hp_hist_pct_bp(const hp_hist_t *h, unsigned bp)
{
	uint64_t r;

	if (!h->n)
		return -1;
	if (bp > 10000)
		bp = 10000;
	r = (h->n * bp + 9999) / 10000;
	return hp_hist_rank(h, r ? r : 1);
}

int64_t hp_hist_pct(const hp_hist_t *h, unsigned p)
{
	return hp_hist_pct_bp(h, p > 100 ? 10000 : p * 100);
}

size_t hp_hist_bytes(const hp_hist_t *h)
{
	size_t b = 0;

	for (unsigned g = 0; g < HP_HIST_GROUPS; g++)
		b += h->grp[g] ? HP_HIST_SUB * sizeof(uint64_t) : 0;
	return b;
}
