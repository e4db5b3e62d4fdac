/* heap.c — the CFS run queue over an array binary min-heap (baseline). */
#include <stdlib.h>

#include "rq_baselines.h"

typedef struct bse {
	hp_sched_entity_t se;
	size_t idx;             /* position in the heap array */
} bse_t;

typedef struct tl {
	bse_t **a;
	size_t n, cap;
} tl_t;

static inline int before(const bse_t *x, const bse_t *y)
{
	return hp_vruntime_before(x->se.vruntime, y->se.vruntime);
}

static inline void put(tl_t *h, size_t i, bse_t *e)
{
	h->a[i] = e;
	e->idx = i;
}

static void sift_up(tl_t *h, size_t i, bse_t *e)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!before(e, h->a[p]))
			break;
		put(h, i, h->a[p]);
		i = p;
	}
	put(h, i, e);
}

static void sift_down(tl_t *h, size_t i, bse_t *e)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(h->a[c + 1], h->a[c]))
			c++;
		if (!before(h->a[c], e))
			break;
		put(h, i, h->a[c]);
		i = c;
	}
	put(h, i, e);
}

static int tl_init(tl_t *h, size_t cap)
{
	h->cap = cap ? cap : 1;
	h->n = 0;
	h->a = malloc(h->cap * sizeof(*h->a));
	return h->a ? 0 : -1;
}

static void tl_fini(tl_t *h)
{
	free(h->a);
}

static void tl_insert(tl_t *h, hp_sched_entity_t *se)
{
	if (h->n == h->cap) {
		bse_t **a = realloc(h->a, 2 * h->cap * sizeof(*a));

		if (!a)
			abort();        /* create() was told the maximum; never happens */
		h->a = a;
		h->cap *= 2;
	}
	sift_up(h, h->n++, (bse_t *)se);
}

static void tl_erase(tl_t *h, hp_sched_entity_t *se)
{
	size_t i = ((bse_t *)se)->idx;
	bse_t *last = h->a[--h->n];

	if (i == h->n)
		return;
	/* the last element fills the hole, then moves whichever way it must */
	if (i > 0 && before(last, h->a[(i - 1) / 2]))
		sift_up(h, i, last);
	else
		sift_down(h, i, last);
}

static hp_sched_entity_t *tl_first(tl_t *h)
{
	return h->n ? &h->a[0]->se : NULL;
}

#include "rq_generic.h"

const hp_rq_ops_t hp_sched_heap_ops = {
	.name = "heap", .se_size = sizeof(bse_t), .available = NULL, G_OPS,
};
