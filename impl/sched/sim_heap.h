/* sim_heap.h — the simulator's event queue: an indexed binary min-heap of timer slots, re-armed and cancelled in place.
 *
 * Every pending event of the simulator is one of a fixed set of slots
 * (0..nslots-1: per CPU its tick and the end of its running event, per
 * task its wake-up, the end of the run). A slot is armed at a time or not
 * at all; arming an armed slot moves it (no stale copy is left behind, the
 * pile-up of issue 12), so the heap never holds more than nslots entries.
 * Entries fire by time, then by the order they were armed (a sequence
 * number), which keeps runs deterministic. Kernel counterpart: the hrtimer
 * queue (a timerqueue, an rbtree with a cached leftmost, per CPU, Linux
 * 6.6 kernel/time/hrtimer.c), which also re-arms in place; here one heap
 * holds every CPU's timers since virtual time is global.
 *
 * Costs: arm, cancel and pop O(log n) sift steps of a 24-byte entry and a
 * position update each; peek O(1). Memory 28 bytes per slot, allocated once.
 */
#ifndef HP_SIM_HEAP_H
#define HP_SIM_HEAP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct hp_evh_ent {
	uint64_t time;
	uint64_t seq;           /* ties fire in the order they were armed */
	uint32_t slot;
} hp_evh_ent_t;

typedef struct hp_evheap {
	hp_evh_ent_t *heap;     /* heap[0] fires first */
	int32_t *pos;           /* pos[slot]: index in heap, or -1 when not armed */
	uint32_t n, nslots;
	uint64_t seq;
} hp_evheap_t;

/* An empty queue for nslots slots. 0, or -1 when out of memory. */
static inline int hp_evheap_init(hp_evheap_t *h, uint32_t nslots)
{
	memset(h, 0, sizeof(*h));
	h->heap = calloc(nslots ? nslots : 1, sizeof(*h->heap));
	h->pos = malloc((nslots ? nslots : 1) * sizeof(*h->pos));
	if (!h->heap || !h->pos) {
		free(h->heap);
		free(h->pos);
		h->heap = NULL;
		h->pos = NULL;
		return -1;
	}
	memset(h->pos, 0xff, (nslots ? nslots : 1) * sizeof(*h->pos));
	h->nslots = nslots;
	return 0;
}

static inline void hp_evheap_free(hp_evheap_t *h)
{
	free(h->heap);
	free(h->pos);
	memset(h, 0, sizeof(*h));
}

static inline int hp_evh_before(const hp_evh_ent_t *a, const hp_evh_ent_t *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static inline void hp_evheap_up_(hp_evheap_t *h, uint32_t i)
{
	hp_evh_ent_t e = h->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!hp_evh_before(&e, &h->heap[p]))
			break;
		h->heap[i] = h->heap[p];
		h->pos[h->heap[i].slot] = (int32_t)i;
		i = p;
	}
	h->heap[i] = e;
	h->pos[e.slot] = (int32_t)i;
}

static inline void hp_evheap_down_(hp_evheap_t *h, uint32_t i)
{
	hp_evh_ent_t e = h->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && hp_evh_before(&h->heap[c + 1], &h->heap[c]))
			c++;
		if (!hp_evh_before(&h->heap[c], &e))
			break;
		h->heap[i] = h->heap[c];
		h->pos[h->heap[i].slot] = (int32_t)i;
		i = c;
	}
	h->heap[i] = e;
	h->pos[e.slot] = (int32_t)i;
}

static inline int hp_evheap_armed(const hp_evheap_t *h, uint32_t slot)
{
	return h->pos[slot] >= 0;
}

/* Arms slot at time, or moves it there when armed already; either way it
 * counts as armed now (after others armed earlier for the same instant). */
static inline void hp_evheap_arm(hp_evheap_t *h, uint32_t slot, uint64_t time)
{
	int32_t p = h->pos[slot];
	hp_evh_ent_t e = { time, h->seq++, slot };

	if (p < 0) {
		h->heap[h->n] = e;
		hp_evheap_up_(h, h->n++);
		return;
	}
	h->heap[p] = e;
	hp_evheap_up_(h, (uint32_t)p);
	hp_evheap_down_(h, (uint32_t)h->pos[slot]);
}

/* Disarms slot (nothing when it is not armed). */
static inline void hp_evheap_cancel(hp_evheap_t *h, uint32_t slot)
{
	int32_t p = h->pos[slot];
	uint32_t moved;

	if (p < 0)
		return;
	h->pos[slot] = -1;
	if ((uint32_t)p == --h->n)
		return;
	moved = h->heap[h->n].slot;
	h->heap[p] = h->heap[h->n];
	h->pos[moved] = p;
	hp_evheap_up_(h, (uint32_t)p);
	hp_evheap_down_(h, (uint32_t)h->pos[moved]);
}

/* Removes and returns the first entry; only when n > 0. */
static inline hp_evh_ent_t hp_evheap_pop(hp_evheap_t *h)
{
	hp_evh_ent_t top = h->heap[0];

	h->pos[top.slot] = -1;
	if (--h->n) {
		h->heap[0] = h->heap[h->n];
		h->pos[h->heap[0].slot] = 0;
		hp_evheap_down_(h, 0);
	}
	return top;
}

#endif
