/* fair.h — the fair-class run queue by kernel version: CFS (Linux 6.1) and EEVDF (Linux 6.6, 6.12, 6.17), on one intrusive rbtree.
 *
 * One hp_cfs_rq_t is one CPU's fair run queue (kernel: struct cfs_rq),
 * holding hp_sched_entity_t (kernel: struct sched_entity) of single tasks:
 * no group scheduling, no PELT load tracking, no bandwidth control. Time is
 * the caller's: it sets the queue's clock (rq_clock_task) before each call,
 * so the same code runs under a real clock (the benchmarks) and under a
 * virtual one (the simulator, impl/sched/sim.c).
 *
 * Policies, chosen per queue (hp_sched_policy_t; names for the command line
 * from hp_sched_policy_name()):
 * - cfs-6.1 (HP_SCHED_CFS_6_1) follows Linux 6.1 (the last LTS before
 *   EEVDF; the fair class was the same through 6.5): the tree is ordered by
 *   vruntime and the leftmost entity runs; tick preemption after the task's
 *   slice of sched_latency; wakeup preemption when the woken task is more
 *   than the wakeup granularity behind; sleepers placed half a latency
 *   behind min_vruntime (GENTLE_FAIR_SLEEPERS); next/last buddies.
 * - eevdf-6.6 (HP_SCHED_EEVDF_6_6) follows Linux 6.6 (EEVDF became the fair
 *   class there): the vruntime-ordered tree augmented with each subtree's
 *   earliest virtual deadline; the pick is the eligible entity (vruntime
 *   not after the load-weighted average V) with the earliest deadline, and
 *   the running entity, when eligible, is the starting best that a queued
 *   one replaces only with a strictly earlier deadline; lag is kept across
 *   sleep, clamped, and restored on wakeup (PLACE_LAG); a new entity starts
 *   with half a slice (PLACE_DEADLINE_INITIAL); a picked entity keeps the
 *   CPU until its slice is used (RUN_TO_PARITY).
 * - eevdf-6.12 (HP_SCHED_EEVDF_6_12) adds what changed up to Linux 6.12:
 *   the tree ordered by virtual deadline, augmented with each subtree's
 *   smallest vruntime, the pick the first eligible entity in deadline order
 *   and the running entity taken only with a strictly earlier deadline
 *   (6.8); a lone entity picked without looking (6.8); delayed dequeue: an
 *   entity going to sleep while not eligible (negative lag) stays queued
 *   until it is picked, is then dequeued with its lag clipped to at most 0,
 *   and, woken before that, is simply marked runnable again (DELAY_DEQUEUE,
 *   DELAY_ZERO, 6.12); per-task slices from sched_attr.sched_runtime,
 *   0.1..100 ms (6.12); a woken entity with a shorter slice than the
 *   running one cancels its RUN_TO_PARITY protection (PREEMPT_SHORT, 6.12).
 * - eevdf-6.17 (HP_SCHED_EEVDF_6_17), Linux 6.17 and later (6.18 included):
 *   RUN_TO_PARITY protects the running entity only up to the shortest slice
 *   among the queued entities (vprot), and an entity with a shorter slice
 *   woken without preempting shortens the protection; such a wakee ends the
 *   protection only when it is the pick made without it; update_curr()
 *   (hp_update_curr(), so every tick and wake-up check) reschedules as soon
 *   as the protection has passed, eligible or not; the base slice is
 *   0.70 ms instead of 0.75 ms (scaled by CPUs as before; Linux 6.15).
 * `cfs` and `eevdf` name the newest of each (HP_SCHED_CFS, HP_SCHED_EEVDF).
 *
 * Picks happen with the running entity still running (out of the tree),
 * then the old one is put back and the new one set (pick_next_task_fair()
 * with CONFIG_FAIR_GROUP_SCHED, as distributions build 6.6; always in
 * 6.12's pick_task_fair()); picking the running entity again changes nothing.
 *
 * Weights are the kernel's nice-to-weight table with NICE_0_LOAD = 1024 (the
 * kernel's 64-bit builds keep 10 more fraction bits in load.weight and drop
 * them again, scale_load_down(), before every use made here, so the results
 * are the same). Virtual times wrap: every comparison is by the sign of the
 * 64-bit difference, as in the kernel.
 */
#ifndef HP_SCHED_FAIR_H
#define HP_SCHED_FAIR_H

#include <stddef.h>
#include <stdint.h>

#include "rbtree.h"

/* ================================================================== */
/* Weights and fixed-point scaling (kernel/sched/core.c, fair.c)       */
/* ================================================================== */

#define HP_NICE_MIN (-20)
#define HP_NICE_MAX 19
#define HP_NICE_0_LOAD 1024u
#define HP_WMULT_SHIFT 32
#define HP_WMULT_CONST 0xffffffffu      /* kernel WMULT_CONST: ~0U */

/* sched_prio_to_weight[] and sched_prio_to_wmult[] (2^32 / weight), index
 * nice + 20; the same values since Linux 2.6.23. */
extern const uint32_t hp_sched_prio_to_weight[40];
extern const uint32_t hp_sched_prio_to_wmult[40];

/* kernel struct load_weight; inv_weight 0 means "recompute when needed". */
typedef struct hp_load_weight {
	uint64_t weight;
	uint32_t inv_weight;
} hp_load_weight_t;

/* delta * weight / lw->weight in 32.32 fixed point without a division
 * (kernel __calc_delta()): the inverse of lw->weight is cached, and the
 * factor is shifted down when it would not fit 32 bits, so the 64x32-bit
 * product never overflows. */
uint64_t hp_calc_delta(uint64_t delta, uint64_t weight, hp_load_weight_t *lw);

static inline void hp_load_add(hp_load_weight_t *lw, uint64_t w)
{
	lw->weight += w;
	lw->inv_weight = 0;
}

static inline void hp_load_sub(hp_load_weight_t *lw, uint64_t w)
{
	lw->weight -= w;
	lw->inv_weight = 0;
}

/* ================================================================== */
/* Tunables (kernel/sched/fair.c, SCHED_TUNABLESCALING_LOG)            */
/* ================================================================== */

typedef enum {
	HP_SCHED_CFS_6_1,
	HP_SCHED_EEVDF_6_6,
	HP_SCHED_EEVDF_6_12,
	HP_SCHED_EEVDF_6_17,
	HP_SCHED_NPOLICIES
} hp_sched_policy_t;

/* The aliases: the newest model of each. */
#define HP_SCHED_CFS HP_SCHED_CFS_6_1
#define HP_SCHED_EEVDF HP_SCHED_EEVDF_6_17

static inline int hp_sched_is_eevdf(hp_sched_policy_t p)
{
	return p != HP_SCHED_CFS_6_1;
}

/* Names of the models (no kernel counterpart; O(number of models)).
 * "cfs-6.1", "eevdf-6.6", "eevdf-6.12", "eevdf-6.17". */
const char *hp_sched_policy_name(hp_sched_policy_t p);
/* A policy by its name or alias ("cfs", "eevdf"). 0, or -1 when unknown. */
int hp_sched_policy_parse(const char *name, hp_sched_policy_t *p);
/* The names hp_sched_policy_parse() takes, comma-separated, for messages. */
const char *hp_sched_policy_names(void);
/* The model of a kernel release string (uname -r: "6.18.44-...", "6.1.0-13-amd64"):
 * cfs-6.1 before 6.6, eevdf-6.6 before 6.12, eevdf-6.12 before 6.17,
 * eevdf-6.17 from there on. -1 when the string does not start with
 * MAJOR.MINOR. */
int hp_sched_policy_for_release(const char *release, hp_sched_policy_t *p);

typedef struct hp_sched_tunables {
	unsigned factor;             /* 1 + ilog2(min(ncpus, 8)) */
	uint64_t latency_ns;         /* sysctl_sched_latency: 6 ms * factor (CFS) */
	uint64_t min_granularity_ns; /* sysctl_sched_min_granularity: 0.75 ms * factor (CFS) */
	uint64_t wakeup_granularity_ns; /* sysctl_sched_wakeup_granularity: 1 ms * factor (CFS) */
	unsigned nr_latency;         /* sched_nr_latency: latency / min_granularity = 8 */
	uint64_t base_slice_ns;      /* sysctl_sched_base_slice: 0.75 ms * factor (EEVDF) */
	uint64_t tick_ns;            /* TICK_NSEC: one tick at HZ, for the EEVDF lag limit */
	uint64_t normalized_base_slice_ns; /* normalized_sysctl_sched_base_slice: 0.75 ms, unscaled */
} hp_sched_tunables_t;

/* The kernel scales its tunables by the number of online CPUs (capped at 8)
 * so that bigger machines get longer slices; hz sets the tick length. */
void hp_sched_tunables_init(hp_sched_tunables_t *t, int ncpus, int hz);

/* ================================================================== */
/* Entities and run queues                                             */
/* ================================================================== */

/* kernel struct sched_entity, the fields the fair class uses here. */
typedef struct hp_sched_entity {
	hp_rb_node_t run_node;          /* in hp_cfs_rq_t.tasks while queued and not running */
	uint64_t vruntime;              /* virtual runtime: ns scaled by NICE_0_LOAD / weight */
	uint64_t deadline;              /* EEVDF virtual deadline: vruntime at pick + vslice */
	uint64_t min_deadline;          /* 6.6: earliest deadline in this node's subtree */
	uint64_t min_vruntime;          /* 6.12+: smallest vruntime in this node's subtree */
	uint64_t min_slice;             /* 6.12+: shortest slice in this node's subtree */
	int64_t vlag;                   /* EEVDF lag kept while asleep; at pick, the deadline (RUN_TO_PARITY, to 6.16) */
	uint64_t vprot;                 /* 6.17+: RUN_TO_PARITY protects the running entity until this vruntime */
	uint64_t slice;                 /* EEVDF request size in ns (base slice, or the custom one) */
	int custom_slice;               /* 6.12+: slice set by hp_se_set_slice() (sched_attr.sched_runtime) */
	int sched_delayed;              /* 6.12+: asleep but still queued (DELAY_DEQUEUE) */
	int rel_deadline;               /* 6.12+: deadline kept relative to vruntime while off a queue (not asleep) */
	hp_load_weight_t load;          /* weight from the nice value, inverse from the table */
	uint64_t exec_start;            /* clock when it last started running or was accounted */
	uint64_t sum_exec_runtime;      /* ns on the CPU */
	uint64_t prev_sum_exec_runtime; /* sum_exec_runtime when last picked */
	int on_rq;                      /* queued (or running) on a run queue */
	int nice;
	uint32_t id;                    /* the caller's name for it (checker messages, traces) */
} hp_sched_entity_t;

/* kernel struct cfs_rq, the fair class's per-CPU run queue. */
typedef struct hp_cfs_rq {
	hp_load_weight_t load;          /* sum of queued weights, the running entity included */
	unsigned nr_running;            /* queued entities, the running one included */
	uint64_t min_vruntime;          /* monotonic floor of the queue's vruntimes */
	hp_rb_root_cached_t tasks;      /* tasks_timeline: queued, not running, by vruntime */
	hp_sched_entity_t *curr;        /* the running entity, or NULL */
	hp_sched_entity_t *next, *last; /* CFS buddies: the wakee, and the task it preempted */
	int64_t avg_vruntime;           /* EEVDF: sum over the tree of (vruntime - min_vruntime) * weight */
	uint64_t avg_load;              /* EEVDF: sum over the tree of weight */
	uint64_t clock;                 /* rq_clock_task, ns, set by the caller */
	int need_resched;               /* resched_curr() was asked for; a pick clears it */
	hp_sched_policy_t policy;
	hp_sched_tunables_t tun;
} hp_cfs_rq_t;

/* Enqueue / dequeue flags (the kernel's ENQUEUE_* / DEQUEUE_* that matter here). */
enum {
	HP_ENQUEUE_WAKEUP = 1,   /* waking from sleep: CFS sleeper credit, EEVDF lag restored */
	HP_ENQUEUE_INITIAL = 2,  /* a new task: CFS START_DEBIT, EEVDF half a slice */
	HP_ENQUEUE_MIGRATED = 4, /* moved from another queue (its vruntime was made relative) */
	HP_DEQUEUE_SLEEP = 1,    /* going to sleep (else: leaving for another queue) */
};

/* Sets weight and inverse weight from nice (-20..19, clamped), clears the rest. */
void hp_se_init(hp_sched_entity_t *se, int nice, uint32_t id);
/* sched_setattr() with sched_runtime for a fair task (Linux 6.12+,
 * __setparam_fair()): the slice, clamped to 0.1..100 ms; 0 goes back to the
 * base slice. Only on an entity that is not queued; the 6.6 model and CFS
 * ignore it. */
void hp_se_set_slice(hp_sched_entity_t *se, uint64_t ns); /* O(1) */
/* An empty queue. min_vruntime starts at 2^64 - 2^20 as in the kernel, so
 * that the wrap-around of virtual time is crossed after 1 ms, not years. */
void hp_cfs_rq_init(hp_cfs_rq_t *rq, hp_sched_policy_t policy, const hp_sched_tunables_t *t);
/* Only on an empty queue: a different starting point for virtual time. */
void hp_cfs_rq_set_min_vruntime(hp_cfs_rq_t *rq, uint64_t v);

static inline void hp_cfs_rq_set_clock(hp_cfs_rq_t *rq, uint64_t now)
{
	rq->clock = now;
}

/* update_curr(): charges the running entity for the time since exec_start
 * (vruntime += delta * NICE_0_LOAD / weight), moves min_vruntime on, and
 * under EEVDF gives it a new deadline when it passed the old one. Returns 1
 * when EEVDF asks for a reschedule (slice used up, others waiting). */
int hp_update_curr(hp_cfs_rq_t *rq);

/* enqueue_entity(): places se (sleeper credit or lag, per the policy and
 * flags), accounts its weight, and puts it in the tree unless it is curr. */
void hp_enqueue_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se, int flags);
/* dequeue_entity(): takes se out (EEVDF: records its clamped lag first).
 * se may be curr; it then stays curr until the next pick. From 6.12 an
 * entity going to sleep (HP_DEQUEUE_SLEEP) while not eligible stays queued
 * with sched_delayed set (returns 0); a later pick dequeues it for good, an
 * enqueue (its wake-up) makes it runnable again where it is. Returns 1 when
 * se left the queue. */
int hp_dequeue_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se, int flags);

/* 6.12+: a delayed entity leaves its queue for good now (what a pick of it,
 * or the load balancer moving it, does: DEQUEUE_SLEEP | DEQUEUE_DELAYED);
 * its positive lag is clipped to 0. Returns 0 when se is not delayed. */
int hp_dequeue_delayed(hp_cfs_rq_t *rq, hp_sched_entity_t *se); /* O(log n), as a dequeue */

/* A sleeping entity woken on another queue (migrate_task_rq_fair()): CFS
 * makes its vruntime relative to the queue it leaves; enqueue it on the new
 * one with HP_ENQUEUE_WAKEUP | HP_ENQUEUE_MIGRATED. EEVDF needs nothing:
 * its lag travels with it. */
void hp_migrate_sleeping_entity(const hp_cfs_rq_t *from, hp_sched_entity_t *se);

/* pick_next_entity() without changing anything: CFS the leftmost (or a
 * buddy), EEVDF pick_eevdf(): the eligible entity with the earliest
 * deadline, ties broken as the queue's kernel version does (see the top of
 * this file). The running entity counts when it is still queued. A delayed
 * entity may be returned (the caller dequeues it: hp_pick_next_task()). */
hp_sched_entity_t *hp_pick_next_entity(hp_cfs_rq_t *rq);
/* put_prev_entity(): the running entity goes back into the tree (if still queued). */
void hp_put_prev_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *prev);
/* set_next_entity(): se leaves the tree and becomes curr. */
void hp_set_next_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se);
/* A whole switch as pick_next_task_fair() does it: update the running
 * entity, pick with it still running, (6.12+) dequeue a delayed pick for
 * good and pick again, then put the running entity back and set the pick
 * (nothing when it is the running one). Returns the pick, or NULL when the
 * queue is empty. O(log n) per pick, plus one dequeue per delayed entity. */
hp_sched_entity_t *hp_pick_next_task(hp_cfs_rq_t *rq);

/* entity_tick(): update_curr() and, under CFS, check_preempt_tick(). Returns
 * 1 when the running entity should be preempted. */
int hp_entity_tick(hp_cfs_rq_t *rq);
/* check_preempt_wakeup(): should the just-enqueued se preempt curr? CFS:
 * curr is more than the wakeup granularity (in se's virtual time) ahead of
 * se; it then also marks the buddies. EEVDF: se is what a pick would take. */
int hp_check_preempt_wakeup(hp_cfs_rq_t *rq, hp_sched_entity_t *se);

/* ================================================================== */
/* EEVDF pieces, exported for tests and the simulator                  */
/* ================================================================== */

/* avg_vruntime(): the load-weighted average vruntime V of the queue (the
 * running entity included), rounded down. */
uint64_t hp_avg_vruntime(const hp_cfs_rq_t *rq);
/* entity_eligible(): vruntime(se) <= V, tested as
 * sum((v_i - v0) * w_i) >= (v_se - v0) * sum(w_i), without dividing. */
int hp_entity_eligible(const hp_cfs_rq_t *rq, const hp_sched_entity_t *se);
/* The clamp update_entity_lag() applies: the virtual time of
 * max(2 * slice, one tick) at se's weight (6.6 to 6.18). */
uint64_t hp_eevdf_lag_limit(const hp_cfs_rq_t *rq, const hp_sched_entity_t *se);

/* CFS sched_slice(): se's wall-clock share of the period (latency, or
 * nr_running * min_granularity beyond nr_latency), at least min_granularity. */
uint64_t hp_cfs_sched_slice(hp_cfs_rq_t *rq, const hp_sched_entity_t *se);
/* The same from its parts (a queue's load and count), for run queues built
 * on other structures (baselines/sched). */
uint64_t hp_cfs_slice_of(const hp_sched_tunables_t *t, hp_load_weight_t *rq_load,
			 unsigned nr_running, const hp_sched_entity_t *se);

/* vruntime arithmetic that survives the wrap of 64-bit virtual time. */
static inline int hp_vruntime_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

static inline uint64_t hp_vruntime_max(uint64_t a, uint64_t b)
{
	return (int64_t)(b - a) > 0 ? b : a;
}

static inline uint64_t hp_vruntime_min(uint64_t a, uint64_t b)
{
	return (int64_t)(b - a) < 0 ? b : a;
}

/* calc_delta_fair(): wall-clock ns to se's virtual ns. */
static inline uint64_t hp_calc_delta_fair(uint64_t delta, hp_sched_entity_t *se)
{
	if (se->load.weight != HP_NICE_0_LOAD)
		delta = hp_calc_delta(delta, HP_NICE_0_LOAD, &se->load);
	return delta;
}

static inline hp_sched_entity_t *hp_se_of(const hp_rb_node_t *n)
{
	return n ? hp_rb_entry(n, hp_sched_entity_t, run_node) : NULL;
}

/* Checks every invariant of the queue: the red-black rules; the cached
 * leftmost is the first node; keys in order never decrease (by signed
 * difference; vruntime, or from 6.12 the deadline); the sum of weights is
 * the queue's load and the count is nr_running (curr included when queued,
 * delayed entities included); curr is not in the tree; only 6.12+ has
 * delayed entities, and they are queued; under EEVDF every node's
 * augmented value (min_deadline; from 6.12 min_vruntime and min_slice) is
 * the minimum of its subtree and the avg_vruntime/avg_load sums match the
 * tree. Returns 0, or -1 with err. */
int hp_cfs_rq_check(const hp_cfs_rq_t *rq, char *err, size_t errlen);

/* ================================================================== */
/* Ops table: the same run-queue operations for every variant          */
/* ================================================================== */

/* The benchmark drives every run queue through this table, the impl
 * (hp_sched_cfs_ops: cfs-6.1; hp_sched_eevdf_ops: eevdf-6.6) and the baselines (binary heap, sorted list, BSD tree) alike.
 * Entities are the caller's, se_size bytes each: an hp_sched_entity_t
 * first, then whatever node the variant needs. */
typedef struct hp_rq_ops {
	const char *name;
	size_t se_size;
	/* NULL, or why this variant cannot run (e.g. built without libbsd). */
	const char *(*available)(void);
	/* An empty queue. max_tasks bounds what will be enqueued at once. */
	void *(*create)(const hp_sched_tunables_t *t, size_t max_tasks);
	void (*destroy)(void *rq);
	void (*set_clock)(void *rq, uint64_t now);
	void (*enqueue)(void *rq, hp_sched_entity_t *se, int flags);
	void (*dequeue)(void *rq, hp_sched_entity_t *se, int flags);
	hp_sched_entity_t *(*pick_next)(void *rq);     /* put_prev + pick + set_next */
	int (*tick)(void *rq);                         /* 1 = resched */
	hp_sched_entity_t *(*curr)(void *rq);
} hp_rq_ops_t;

extern const hp_rq_ops_t hp_sched_cfs_ops;
extern const hp_rq_ops_t hp_sched_eevdf_ops;

#endif
