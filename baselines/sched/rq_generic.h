/* rq_generic.h — the CFS run queue of impl/sched (Linux 6.1 semantics) over any timeline structure.
 *
 * One source built once per structure, as liburcu builds its flavours: the
 * including file defines tl_t and five static functions, then includes this
 * header, which defines the run-queue operations and G_OPS (the ops-table
 * fields). Everything but the timeline is the same arithmetic as
 * impl/sched/fair.c in CFS mode (hp_calc_delta, hp_cfs_slice_of, the
 * placement, tick and min_vruntime rules), so a benchmark that compares
 * variants compares the structures:
 *
 *   static int tl_init(tl_t *tl, size_t cap);     0, or -1 without memory
 *   static void tl_fini(tl_t *tl);
 *   static void tl_insert(tl_t *tl, hp_sched_entity_t *se);
 *   static void tl_erase(tl_t *tl, hp_sched_entity_t *se);
 *   static hp_sched_entity_t *tl_first(tl_t *tl);  smallest vruntime, or NULL
 *
 * No buddies (the benchmark never triggers wakeup preemption) and CFS only:
 * EEVDF needs the augmented tree.
 */
#ifndef HP_RQ_GENERIC_H
#define HP_RQ_GENERIC_H

#include <stdlib.h>
#include <string.h>

#include "fair.h"

typedef struct grq {
	hp_load_weight_t load;
	unsigned nr_running;
	uint64_t min_vruntime;
	hp_sched_entity_t *curr;
	uint64_t clock;
	int need_resched;
	hp_sched_tunables_t tun;
	tl_t tl;
} grq_t;

static void g_update_min_vruntime(grq_t *rq)
{
	hp_sched_entity_t *curr = rq->curr, *left = tl_first(&rq->tl);
	uint64_t v = rq->min_vruntime;

	if (curr) {
		if (curr->on_rq)
			v = curr->vruntime;
		else
			curr = NULL;
	}
	if (left)
		v = curr ? hp_vruntime_min(v, left->vruntime) : left->vruntime;
	rq->min_vruntime = hp_vruntime_max(rq->min_vruntime, v);
}

static void g_update_curr(grq_t *rq)
{
	hp_sched_entity_t *curr = rq->curr;
	int64_t delta;

	if (!curr)
		return;
	delta = (int64_t)(rq->clock - curr->exec_start);
	if (delta <= 0)
		return;
	curr->exec_start = rq->clock;
	curr->sum_exec_runtime += (uint64_t)delta;
	curr->vruntime += hp_calc_delta_fair((uint64_t)delta, curr);
	g_update_min_vruntime(rq);
}

static void *g_create(const hp_sched_tunables_t *t, size_t max_tasks)
{
	grq_t *rq = calloc(1, sizeof(*rq));

	if (!rq)
		return NULL;
	rq->tun = *t;
	rq->min_vruntime = (uint64_t)-(INT64_C(1) << 20);
	if (tl_init(&rq->tl, max_tasks) != 0) {
		free(rq);
		return NULL;
	}
	return rq;
}

static void g_destroy(void *p)
{
	grq_t *rq = p;

	if (!rq)
		return;
	tl_fini(&rq->tl);
	free(rq);
}

static void g_set_clock(void *p, uint64_t now)
{
	((grq_t *)p)->clock = now;
}

static void g_enqueue(void *p, hp_sched_entity_t *se, int flags)
{
	grq_t *rq = p;
	int is_curr = rq->curr == se;

	if (flags & HP_ENQUEUE_INITIAL) {
		g_update_curr(rq);
		se->vruntime = rq->min_vruntime +
			       hp_calc_delta_fair(hp_cfs_slice_of(&rq->tun, &rq->load, rq->nr_running, se), se);
	} else {
		int renorm = !(flags & HP_ENQUEUE_WAKEUP) || (flags & HP_ENQUEUE_MIGRATED);

		if (renorm && is_curr)
			se->vruntime += rq->min_vruntime;
		g_update_curr(rq);
		if (renorm && !is_curr)
			se->vruntime += rq->min_vruntime;
		if (flags & HP_ENQUEUE_WAKEUP)
			se->vruntime = hp_vruntime_max(se->vruntime,
						       rq->min_vruntime - (rq->tun.latency_ns >> 1));
	}
	hp_load_add(&rq->load, se->load.weight);
	rq->nr_running++;
	if (!is_curr)
		tl_insert(&rq->tl, se);
	se->on_rq = 1;
}

static void g_dequeue(void *p, hp_sched_entity_t *se, int flags)
{
	grq_t *rq = p;

	g_update_curr(rq);
	if (se != rq->curr)
		tl_erase(&rq->tl, se);
	se->on_rq = 0;
	hp_load_sub(&rq->load, se->load.weight);
	rq->nr_running--;
	if (!(flags & HP_DEQUEUE_SLEEP))
		se->vruntime -= rq->min_vruntime;
	g_update_min_vruntime(rq);
}

static hp_sched_entity_t *g_pick_next(void *p)
{
	grq_t *rq = p;
	hp_sched_entity_t *prev = rq->curr, *se;

	if (prev) {
		if (prev->on_rq) {
			g_update_curr(rq);
			tl_insert(&rq->tl, prev);
		}
		rq->curr = NULL;
	}
	se = tl_first(&rq->tl);
	if (se) {
		tl_erase(&rq->tl, se);
		se->exec_start = rq->clock;
		se->prev_sum_exec_runtime = se->sum_exec_runtime;
		rq->curr = se;
	}
	rq->need_resched = 0;
	return se;
}

static int g_tick(void *p)
{
	grq_t *rq = p;
	hp_sched_entity_t *curr = rq->curr, *left;
	uint64_t ideal, ran;

	g_update_curr(rq);
	if (!curr || !curr->on_rq || rq->nr_running < 2)
		return rq->need_resched;
	ideal = hp_cfs_slice_of(&rq->tun, &rq->load, rq->nr_running, curr);
	if (ideal > rq->tun.latency_ns)
		ideal = rq->tun.latency_ns;
	ran = curr->sum_exec_runtime - curr->prev_sum_exec_runtime;
	if (ran > ideal) {
		rq->need_resched = 1;
		return 1;
	}
	if (ran < rq->tun.min_granularity_ns)
		return rq->need_resched;
	left = tl_first(&rq->tl);
	if (left && (int64_t)(curr->vruntime - left->vruntime) > (int64_t)ideal)
		rq->need_resched = 1;
	return rq->need_resched;
}

static hp_sched_entity_t *g_curr(void *p)
{
	return ((grq_t *)p)->curr;
}

#define G_OPS \
	.create = g_create, .destroy = g_destroy, .set_clock = g_set_clock, \
	.enqueue = g_enqueue, .dequeue = g_dequeue, .pick_next = g_pick_next, \
	.tick = g_tick, .curr = g_curr

#endif
