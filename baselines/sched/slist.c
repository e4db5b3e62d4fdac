/* slist.c — the CFS run queue over a sorted doubly linked list (baseline; O(n) insertion). */
#include <stdlib.h>

#include "rq_baselines.h"

typedef struct bse {
	hp_sched_entity_t se;
	struct bse *prev, *next;
} bse_t;

/* A circular list around a sentinel, smallest vruntime first. */
typedef struct tl {
	bse_t head;
} tl_t;

static int tl_init(tl_t *l, size_t cap)
{
	(void)cap;
	l->head.prev = l->head.next = &l->head;
	return 0;
}

static void tl_fini(tl_t *l)
{
	(void)l;
}

/* Walks from the smallest key to the first larger one (equal keys stay in
 * the order they came, as in the rbtree). */
static void tl_insert(tl_t *l, hp_sched_entity_t *se)
{
	bse_t *e = (bse_t *)se, *pos = l->head.next;

	while (pos != &l->head && !hp_vruntime_before(se->vruntime, pos->se.vruntime))
		pos = pos->next;
	e->next = pos;
	e->prev = pos->prev;
	pos->prev->next = e;
	pos->prev = e;
}

static void tl_erase(tl_t *l, hp_sched_entity_t *se)
{
	bse_t *e = (bse_t *)se;

	(void)l;
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static hp_sched_entity_t *tl_first(tl_t *l)
{
	return l->head.next != &l->head ? &l->head.next->se : NULL;
}

#include "rq_generic.h"

const hp_rq_ops_t hp_sched_slist_ops = {
	.name = "sorted_list", .se_size = sizeof(bse_t), .available = NULL, G_OPS,
};
