/* sim_engine.c — the discrete-event engine of `hotpath sim`: the event queue, per-CPU fair run queues, task programs, wake-up placement, load balancing and the run (hp_sim_run). The scenario parser and the command line are in sim.c.
 *
 * Bounded by construction (issue 12): every pending event is one of a
 * fixed set of timers (per CPU a tick and the end of the running task's
 * event, per task its wake-up, one for the end of the run) kept in an
 * indexed binary heap and re-armed or cancelled in place, so the queue
 * never holds more than 2 * CPUs + tasks + 1 entries and no stale event
 * piles up; latencies go into fixed-size histograms (sim_hist.h); shared
 * and "unique" rt-app timers have one slot each. Memory is O(tasks + CPUs
 * + scenario size) whatever the simulated time.
 */
#include "sim.h"
#include "sim_scn.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hp_list.h"
#include "sim_heap.h"
#include "hp_rand.h"

/* ================================================================== */
/* Simulation state                                                    */
/* ================================================================== */

enum { T_NEW, T_RUNNABLE, T_SLEEPING, T_EXITED };

/* The scheduling domain of the load balancer: one flat domain over every
 * simulated CPU, each CPU a group of its own (sd_init() for an MC domain
 * without SMT below it, Linux 6.6). */
#define LB_IMBALANCE_PCT 117            /* sd->imbalance_pct of MC domains */
#define LB_BUSY_FACTOR 16               /* sd->busy_factor */
#define LB_CACHE_NICE_TRIES 1           /* sd->cache_nice_tries of MC domains */
#define LB_MIGRATION_COST_NS 500000ull  /* sysctl_sched_migration_cost */
#define LB_NR_MIGRATE 32u               /* sysctl_sched_nr_migrate (SCHED_NR_MIGRATE_BREAK) */

typedef struct sim_task {
	hp_sched_entity_t se;
	hp_list_t node;         /* in its CPU's task list while runnable (kernel: se.group_node in rq->cfs_tasks) */
	const scn_task_t *def;
	const char *name;
	int idx;
	int state;
	int cpu;                /* current or last CPU, -1 before the first run */
	int recent_cpu;         /* p->recent_used_cpu: the CPU before the last wake-up's, -1 none */
	uint64_t allowed;       /* CPU mask */
	struct sim_timer *utimers; /* its "unique" rt-app timers (def->nunique) */
	/* position in the program */
	int phase, ev;
	long phase_iter, loop_iter;
	int ev_active;          /* the current run/runtime event has started */
	uint64_t work_left;     /* run: CPU ns still to do */
	uint64_t runtime_end;   /* runtime: wall time it ends */
	uint64_t t_first;       /* thread start: the base of its timers */
	uint64_t wake_ref;      /* when the pending wake-up was due */
	int pending_lat;
	/* PELT (pelt_update()): the decayed runnable sum, the part of the
	 * current 1024 µs period already in it, and the time it is up to */
	hp_pelt_t pelt;
	/* results */
	uint64_t runtime, switches, wakeups, migrations;
	hp_hist_t lat;
} sim_task_t;

typedef struct sim_cpu {
	hp_cfs_rq_t rq;
	sim_task_t *curr;
	uint64_t last;          /* curr's progress is accounted up to here */
	hp_list_t tasks;        /* runnable tasks here, curr included, most recently picked first */
	unsigned nr;            /* runnable tasks here (the list's length; delayed entities not counted) */
	uint64_t load;          /* their weights (the checker's; the balancer reads PELT loads) */
	uint64_t min_vr_seen;   /* checker: the queue's min_vruntime last time */
	/* this CPU's copy of the domain (struct sched_domain) */
	uint64_t last_balance;  /* ns */
	unsigned balance_interval_ms;
	unsigned nr_balance_failed;
} sim_cpu_t;

typedef struct sim_timer {
	int init;
	uint64_t t_next;
} sim_timer_t;

typedef struct sim {
	const hp_scn_t *scn;
	const hp_sim_opts_t *o;
	sim_task_t *t;
	int nt;
	sim_cpu_t *cpu;
	int ncpu;
	hp_evheap_t q;          /* every pending event: a fixed set of timer slots */
	sim_timer_t *timers;    /* shared rt-app timers, then every thread's "unique" ones */
	uint64_t now, w0, w1, tick_ns;
	uint64_t events, max_events;
	uint64_t steps;         /* task-program steps (the limit applies to these too) */
	unsigned lb_min_interval_ms, lb_max_interval_ms;
	int balance;
	uint64_t wake_delay;    /* hp_sim_opts_t.wake_delay_ns */
	uint64_t clock_poll;    /* hp_sim_opts_t.clock_poll_ns */
	uint64_t tick_phase;    /* every CPU's first tick, drawn from the seed */
	int oom;                /* stop: err says why; 1 internal, 2 the event limit (bad input) */
	char *err;
	size_t errlen;
} sim_t;

static void pelt_update(sim_task_t *t, uint64_t now);

static inline sim_task_t *task_of(hp_sched_entity_t *se)
{
	return se ? hp_rb_entry(se, sim_task_t, se) : NULL;
}

/* ================================================================== */
/* Event queue: timer slots in an indexed binary heap (sim_heap.h)     */
/* ================================================================== */

/* Slots: per CPU its tick and the end of its running event, per task its
 * wake-up, the end of the run, then per CPU its running task's next read
 * of its CPU clock (hp_sim_opts_t.clock_poll_ns). */
static inline uint32_t slot_tick(const sim_t *s, int cpu) { (void)s; return (uint32_t)cpu; }
static inline uint32_t slot_done(const sim_t *s, int cpu) { return (uint32_t)(s->ncpu + cpu); }
static inline uint32_t slot_wake(const sim_t *s, int task) { return (uint32_t)(2 * s->ncpu + task); }
static inline uint32_t slot_end(const sim_t *s) { return (uint32_t)(2 * s->ncpu + s->nt); }
static inline uint32_t slot_poll(const sim_t *s, int cpu) { return (uint32_t)(2 * s->ncpu + s->nt + 1 + cpu); }

static inline void arm(sim_t *s, uint32_t slot, uint64_t time) { hp_evheap_arm(&s->q, slot, time); }
static inline void cancel(sim_t *s, uint32_t slot) { hp_evheap_cancel(&s->q, slot); }

/* ================================================================== */
/* Accounting and tracing                                              */
/* ================================================================== */

static inline int in_window(const sim_t *s, uint64_t t)
{
	return t >= s->w0 && t < s->w1;
}

/* Charges the running task for [cpu->last, now): its run event's work
 * and its runtime in the measurement window. */
static void account(sim_t *s, sim_cpu_t *c, uint64_t now)
{
	sim_task_t *t = c->curr;

	if (t && now > c->last) {
		uint64_t dt = now - c->last;
		uint64_t a = c->last > s->w0 ? c->last : s->w0, b = now < s->w1 ? now : s->w1;

		if (b > a)
			t->runtime += b - a;
		if (t->ev_active) {
			const scn_ev_t *ev = &t->def->ph[t->phase].ev[t->ev];

			if (ev->kind == EV_RUN)
				t->work_left = t->work_left > dt ? t->work_left - dt : 0;
		}
	}
	c->last = now;
	hp_cfs_rq_set_clock(&c->rq, now);
}

static void trace_switch(sim_t *s, int cpu, const sim_task_t *prev, const sim_task_t *next,
			 const char *why)
{
	FILE *f = s->o->trace;

	if (!f)
		return;
	fprintf(f, "%" PRIu64 ",%d,", s->now, cpu);
	hp_sim_csv_field(f, prev ? prev->name : "-");
	fputc(',', f);
	hp_sim_csv_field(f, next ? next->name : "-");
	fprintf(f, ",%s\n", why);
}

static void trace_migrate(sim_t *s, const sim_task_t *t, int from, int to, const char *why)
{
	FILE *f = s->o->trace;

	if (!f)
		return;
	fprintf(f, "%" PRIu64 ",%d,", s->now, to);
	hp_sim_csv_field(f, t->name);
	fputc(',', f);
	hp_sim_csv_field(f, t->name);
	fprintf(f, ",migrate-%s-from-%d\n", why, from);
}

/* ================================================================== */
/* Per-CPU lists of runnable tasks                                     */
/* ================================================================== */

/* account_entity_enqueue(): at the head, like a pick (the list is MRU) */
static void cpu_add_task(sim_cpu_t *c, sim_task_t *t)
{
	hp_list_add(&t->node, &c->tasks);
	c->nr++;
	c->load += t->se.load.weight;
}

static void cpu_del_task(sim_cpu_t *c, sim_task_t *t)
{
	hp_list_del_init(&t->node);
	c->nr--;
	c->load -= t->se.load.weight;
}

/* ================================================================== */
/* Task programs                                                       */
/* ================================================================== */

static sim_timer_t *timer_of(sim_t *s, sim_task_t *t, const scn_ev_t *ev)
{
	if (!s->scn->timers[ev->timer].unique)
		return &s->timers[ev->slot];
	return &t->utimers[ev->slot];
}

/* Moves to the event after the current one. Returns 0, or 1 when the
 * program has ended (every loop done). */
static int next_event(sim_task_t *t)
{
	const scn_task_t *d = t->def;

	t->ev_active = 0;
	if (++t->ev < d->ph[t->phase].nev)
		return 0;
	t->ev = 0;
	if (++t->phase_iter < d->ph[t->phase].loop)
		return 0;
	t->phase_iter = 0;
	if (++t->phase < d->nph)
		return 0;
	t->phase = 0;
	t->loop_iter++;
	return d->loop != -1 && t->loop_iter >= d->loop;
}

/* The running task leaves the CPU: asleep until `wake` (due at `due`, the
 * reference of its wake-up latency), or for good. */
static void block(sim_t *s, sim_task_t *t, int exiting, uint64_t wake, uint64_t due)
{
	sim_cpu_t *c = &s->cpu[t->cpu];

	/* from 6.12 the entity may stay queued, delayed (fair.h); it is no
	 * longer runnable either way */
	hp_dequeue_entity(&c->rq, &t->se, HP_DEQUEUE_SLEEP);
	cpu_del_task(c, t);
	pelt_update(t, s->now);         /* runnable up to now */
	if (exiting) {
		t->state = T_EXITED;
		return;
	}
	t->state = T_SLEEPING;
	t->wake_ref = due;
	arm(s, slot_wake(s, t->idx), wake);
}

/* Runs the program of the task on the CPU from its current event: starts
 * a run/runtime event (returns 0 with *done_at, when it will end), or
 * goes to sleep or exits (returns 1). */
static int run_program(sim_t *s, sim_task_t *t, uint64_t *done_at)
{
	for (int guard = 0; guard < 1000000; guard++) {
		const scn_ev_t *ev = &t->def->ph[t->phase].ev[t->ev];

		s->steps++;
		if (t->ev_active) {
			if (ev->kind == EV_RUN && t->work_left) {
				*done_at = s->now + t->work_left;
				return 0;
			}
			/* rt-app's runtime loop notices the time only while it runs */
			if (ev->kind == EV_RUNTIME && s->now < t->runtime_end) {
				*done_at = t->runtime_end;
				return 0;
			}
			if (next_event(t)) {
				block(s, t, 1, 0, 0);
				return 1;
			}
			continue;
		}
		switch (ev->kind) {
		case EV_RUN:
			t->work_left = ev->ns;
			t->ev_active = 1;
			break;
		case EV_RUNTIME:
			t->runtime_end = s->now + ev->ns;
			t->ev_active = 1;
			break;
		case EV_SLEEP:
			if (next_event(t)) {
				block(s, t, 1, 0, 0);
				return 1;
			}
			if (ev->ns) {
				block(s, t, 0, s->now + ev->ns + s->wake_delay, s->now + ev->ns);
				return 1;
			}
			break;
		case EV_TIMER: {
			/* rt-app: the timer's first expiry is the thread's start
			 * plus a period; when the task is late it does not sleep,
			 * and a relative timer restarts from now */
			sim_timer_t *tm = timer_of(s, t, ev);

			if (!tm->init) {
				tm->init = 1;
				tm->t_next = t->t_first;
			}
			tm->t_next += ev->ns;
			if (next_event(t)) {
				block(s, t, 1, 0, 0);
				return 1;
			}
			if (s->now < tm->t_next) {
				block(s, t, 0, tm->t_next + s->wake_delay, tm->t_next);
				return 1;
			}
			if (!ev->absolute)
				tm->t_next = s->now;
			break;
		}
		}
	}
	snprintf(s->err, s->errlen, "task '%s' did not advance in 1000000 steps at %" PRIu64 " ns",
		 t->name, s->now);
	s->oom = 1;
	return 1;
}

/* ================================================================== */
/* Load balancing (kernel/sched/fair.c, Linux 6.6, one flat domain)    */
/* ================================================================== */

static void schedule(sim_t *s, sim_cpu_t *c, const char *why);

/* The running task's next CPU-clock read (hp_sim_opts_t.clock_poll_ns):
 * armed while it executes a "run" event (the load generator measures its
 * CPU time with CLOCK_THREAD_CPUTIME_ID), otherwise not. */
static void poll_arm(sim_t *s, sim_cpu_t *c, int cpu)
{
	const sim_task_t *t = c->curr;

#ifdef HP_SIM_MUTATE_NO_CLOCK_POLL
	return;                                 /* test mutant: the clock_poll test must notice */
#endif
	if (!s->clock_poll)
		return;
	if (t && t->ev_active && t->def->ph[t->phase].ev[t->ev].kind == EV_RUN)
		arm(s, slot_poll(s, cpu), s->now + s->clock_poll);
	else
		cancel(s, slot_poll(s, cpu));
}

/* PELT, the balancer's load (a documented subset of kernel/sched/pelt.c,
 * ___update_load_avg() for a task's load, Linux 6.6): time in units of
 * 1024 ns ("µs"), 1024 of them a period; a period's contribution decays
 * by y per period with y^32 = 1/2; a task's load_sum grows by the time it
 * is runnable (running or waiting; 1 per µs) and decays while it sleeps:
 * accumulate_sum() with its three segments (the rest of the period it was
 * in, the whole periods between, the part of the current one), and
 * load_avg = weight * load_sum / (LOAD_AVG_MAX - 1024 + period_contrib).
 * A new task starts at its full weight (init_entity_runnable_average()).
 * A CPU's load is the sum of the load_avg of the tasks attached to it,
 * runnable and blocked (a sleeping task's load stays where it slept and
 * decays there, as cfs_rq->avg.load_avg's blocked part does; it moves
 * with the task on migration: attach/detach_entity_load_avg()). The
 * decay y^n is computed in double (exp2), not from the kernel's 32-entry
 * table of 32-bit multipliers (and LOAD_AVG_MAX is the series' exact sum,
 * sim_scn.h), so sums differ from the kernel's in the
 * last units; a delayed entity (6.12+, asleep but queued) counts as blocked
 * here, as runnable in the kernel; util_avg and runnable_avg are not kept
 * (group types stay by runnable count). Cost: O(1) per update; a CPU's
 * load O(tasks) (every task brought up to date). */
static double pelt_decay(uint64_t periods)
{
	return periods > 64 * 32 ? 0.0 : exp2(-(double)periods / 32.0);
}

void hp_pelt_init(hp_pelt_t *p, uint64_t now)
{
	p->sum = HP_PELT_LOAD_AVG_MAX - HP_PELT_PERIOD;
	p->contrib = 0;
	p->last = now;
}

void hp_pelt_update(hp_pelt_t *p, uint64_t now, int runnable)
{
	uint64_t delta, d, periods;

	if (now <= p->last)
		return;
	delta = (now - p->last) >> 10;
	if (!delta)
		return;
	p->last += delta << 10;
	d = delta + p->contrib;
	periods = d / HP_PELT_PERIOD;
	if (periods) {
		double yp = pelt_decay(periods);

#ifndef HP_SIM_MUTATE_PELT_NO_DECAY
		p->sum *= yp;
#endif
		if (runnable) {
			/* the rest of the period it was in, decayed; the whole
			 * periods between; the part of the current one */
			double c1 = (double)(HP_PELT_PERIOD - p->contrib) * yp;
			double c2 = HP_PELT_LOAD_AVG_MAX - HP_PELT_LOAD_AVG_MAX * yp - HP_PELT_PERIOD;

			p->sum += c1 + (c2 > 0 ? c2 : 0) + (double)(d % HP_PELT_PERIOD);
		}
		p->contrib = (uint32_t)(d % HP_PELT_PERIOD);
	} else {
		if (runnable)
			p->sum += (double)delta;
		p->contrib = (uint32_t)d;
	}
}

double hp_pelt_load(const hp_pelt_t *p, uint32_t weight)
{
	return (double)weight * p->sum / (HP_PELT_LOAD_AVG_MAX - HP_PELT_PERIOD + (double)p->contrib);
}

/* Brings t's load up to now, runnable over the whole interval when it is
 * T_RUNNABLE (call it before the state changes). */
static void pelt_update(sim_task_t *t, uint64_t now)
{
	hp_pelt_update(&t->pelt, now, t->state == T_RUNNABLE);
}

/* load_avg as the balancer reads it: whole units, at least 1 (task_h_load()'s max(.., 1)). */
static uint64_t pelt_load(const sim_task_t *t)
{
	double l = hp_pelt_load(&t->pelt, t->se.load.weight);

	return l < 1 ? 1 : (uint64_t)l;
}

/* Every CPU's PELT load at s->now into load[] (every attached task brought up to date). */
static void pelt_cpu_loads(sim_t *s, uint64_t *load)
{
	for (int k = 0; k < s->ncpu; k++)
		load[k] = 0;
	for (int i = 0; i < s->nt; i++) {
		sim_task_t *t = &s->t[i];

		if (t->cpu < 0 || (t->state != T_RUNNABLE && t->state != T_SLEEPING))
			continue;
		pelt_update(t, s->now);
		load[t->cpu] += pelt_load(t);
	}
}

static int cpu_idle(const sim_cpu_t *c)
{
	return !c->curr && !c->nr;
}

static int cpu_index(const sim_t *s, const sim_cpu_t *c)
{
	return (int)(c - s->cpu);
}

/* Moves runnable task t from src to dst (detach_task() + attach_task()):
 * dequeued as leaving (not sleeping), enqueued as migrated, then the
 * wake-up preemption check on dst. A running t leaves src first (active
 * balancing: the stopper preempts it), and src picks again. Returns 1
 * when t should preempt dst's running task. */
static int migrate_runnable(sim_t *s, sim_task_t *t, sim_cpu_t *src, sim_cpu_t *dst, const char *why)
{
	int running = src->curr == t;

	account(s, src, s->now);
	hp_dequeue_entity(&src->rq, &t->se, 0);
	cpu_del_task(src, t);
	trace_migrate(s, t, cpu_index(s, src), cpu_index(s, dst), why);
	t->cpu = cpu_index(s, dst);
	t->migrations++;
	if (running)
		schedule(s, src, why);
	account(s, dst, s->now);
	hp_enqueue_entity(&dst->rq, &t->se, HP_ENQUEUE_MIGRATED);
	cpu_add_task(dst, t);
#ifdef HP_SIM_MUTATE_LOST_LOAD
	dst->load -= t->se.load.weight;         /* test mutant: the checker must notice */
#endif
	return dst->curr && hp_check_preempt_wakeup(&dst->rq, &t->se);
}

typedef enum { LB_NOT_IDLE, LB_IDLE, LB_NEWLY_IDLE } lb_idle_t;
/* group_type of update_sg_lb_stats(), for groups of one CPU */
enum { G_HAS_SPARE, G_FULLY_BUSY, G_OVERLOADED };

static int group_type(const sim_cpu_t *c)
{
	return c->nr >= 2 ? G_OVERLOADED : c->nr == 1 ? G_FULLY_BUSY : G_HAS_SPARE;
}

/* can_migrate_task(): allowed on dst, not running, and not cache hot
 * (ran within the migration cost, or is a CFS buddy while dst has work)
 * unless balancing has failed more than cache_nice_tries times. */
static int can_migrate(const sim_t *s, const sim_task_t *t, const sim_cpu_t *src, const sim_cpu_t *dst,
		       int dst_cpu, unsigned failed)
{
	int hot;

	(void)s;
	if (!(t->allowed >> dst_cpu & 1) || src->curr == t)
		return 0;
	hot = (dst->nr && (src->rq.next == &t->se || src->rq.last == &t->se)) ||
	      (int64_t)(src->rq.clock - t->se.exec_start) < (int64_t)LB_MIGRATION_COST_NS;
	return !hot || failed > LB_CACHE_NICE_TRIES;
}

/* load_balance() for this CPU over the one domain. Returns the tasks
 * moved; *resched when one of them should preempt this CPU's running task
 * (the caller schedules). The subset modelled:
 * - find_busiest_group(): groups are single CPUs classed by their runnable
 *   count (0 has_spare, 1 fully_busy, 2+ overloaded; no utilization, so a
 *   lone task counts as busy whatever it does); only an overloaded CPU can
 *   be the busiest (a fully busy one has nothing to give up), the one with
 *   the most load (PELT: pelt_cpu_loads()), the first
 *   from this CPU on in a tie;
 * - with this CPU overloaded too: nothing when its load is not below the
 *   busiest's and the average, or when busiest * 100 <= this * imbalance_pct;
 * - calculate_imbalance(): an idle CPU asks for tasks (migrate_task, half
 *   the difference in runnable counts, at least one); a busy one for load
 *   (migrate_load: min(busiest - average, average - this));
 * - detach_tasks(): from the least recently picked end of the busiest's
 *   list, at most sysctl_sched_nr_migrate looked at, skipping what
 *   can_migrate() refuses and, by load, tasks heavier than the imbalance
 *   (the limit halves with each failed balance: shr_bound);
 * - failure: nr_balance_failed++ (not when newly idle), and past
 *   cache_nice_tries + 2 failures active balancing moves one task,
 *   the running one included, ignoring hotness and load; success resets it.
 * The balance interval: min_interval (the domain's CPU count, ms) after an
 * imbalance, doubled up to max_interval when balanced. */
static int load_balance(sim_t *s, sim_cpu_t *c, lb_idle_t idle, int *resched)
{
	int this_cpu = cpu_index(s, c), moved = 0;
	sim_cpu_t *busiest = NULL;
	uint64_t total = 0, avg, imbalance, lc, lb, pl[HP_SIM_MAX_CPUS];
	int migrate_load;
	unsigned looked = 0;

	pelt_cpu_loads(s, pl);
	for (int k = 0; k < s->ncpu; k++) {
		sim_cpu_t *o = &s->cpu[(this_cpu + k) % s->ncpu];

		total += pl[cpu_index(s, o)];
		if (o == c || group_type(o) != G_OVERLOADED)
			continue;
		if (!busiest || pl[cpu_index(s, o)] > pl[cpu_index(s, busiest)])
			busiest = o;
	}
	if (!busiest)
		goto balanced;
	lc = pl[this_cpu];
	lb = pl[cpu_index(s, busiest)];
	avg = total / (uint64_t)s->ncpu;
	if (group_type(c) == G_OVERLOADED) {
		if (lc >= lb || lc >= avg || 100 * lb <= LB_IMBALANCE_PCT * lc)
			goto balanced;
	}
	if (group_type(c) == G_HAS_SPARE) {
		migrate_load = 0;
		imbalance = (busiest->nr - c->nr) / 2;
		if (!imbalance)
			imbalance = 1;
	} else {
		if (lc >= lb || lc >= avg)
			goto balanced;
		migrate_load = 1;
		imbalance = lb - avg < avg - lc ? lb - avg : avg - lc;
	}

	/* detach_tasks(): from the tail; a task passed over goes to the head */
	account(s, busiest, s->now);
	for (unsigned n = busiest->nr; n && looked < LB_NR_MIGRATE && imbalance; n--) {
		sim_task_t *t;
		uint64_t load;

		if (idle != LB_NOT_IDLE && busiest->nr <= 1)
			break;
		looked++;
		t = hp_list_entry(busiest->tasks.prev, sim_task_t, node);
		load = pelt_load(t);    /* up to date: pelt_cpu_loads() */
		if (!can_migrate(s, t, busiest, c, this_cpu, c->nr_balance_failed) ||
		    (migrate_load && (c->nr_balance_failed >= 64 ? 0 : load >> c->nr_balance_failed) > imbalance)) {
			hp_list_move(&t->node, &busiest->tasks);
			continue;
		}
		imbalance = migrate_load ? (load >= imbalance ? 0 : imbalance - load) : imbalance - 1;
		*resched |= migrate_runnable(s, t, busiest, c, "balance");
		moved++;
	}
	if (moved) {
		c->nr_balance_failed = 0;
	} else {
		if (idle != LB_NEWLY_IDLE)
			c->nr_balance_failed++;
		if (c->nr_balance_failed > LB_CACHE_NICE_TRIES + 2) {
			/* active_load_balance_cpu_stop(): the first task from
			 * the tail that may run here, the running one too */
			hp_list_t *p;

			for (p = busiest->tasks.prev; p != &busiest->tasks && busiest->nr > 1; p = p->prev) {
				sim_task_t *t = hp_list_entry(p, sim_task_t, node);

				if (t->allowed >> this_cpu & 1) {
					*resched |= migrate_runnable(s, t, busiest, c, "active-balance");
					moved++;
					break;
				}
			}
			c->nr_balance_failed = LB_CACHE_NICE_TRIES + 1;
		}
	}
	c->balance_interval_ms = s->lb_min_interval_ms;
	return moved;

balanced:
	c->nr_balance_failed = 0;
	if (idle != LB_NEWLY_IDLE && c->balance_interval_ms < s->lb_max_interval_ms)
		c->balance_interval_ms *= 2;
	return 0;
}

/* rebalance_domains() from the tick: when the interval (times busy_factor
 * on a busy CPU, in jiffies, clamped to 1..HZ*CPUs/10) has passed. Runs
 * the idle CPU's pick itself; returns 1 when the running task should be
 * preempted (the caller schedules). */
static int periodic_balance(sim_t *s, sim_cpu_t *c)
{
	int busy = c->curr != NULL, resched = 0;
	uint64_t ms = (uint64_t)c->balance_interval_ms * (busy ? LB_BUSY_FACTOR : 1);
	uint64_t j = (ms * 1000000ull + s->tick_ns - 1) / s->tick_ns, jmax;

	if (busy && j > 1)
		j--;
	jmax = 100000000ull * (uint64_t)s->ncpu / s->tick_ns;   /* HZ * CPUs / 10 */
	if (j > jmax)
		j = jmax;
	if (j < 1)
		j = 1;
	if (s->now < c->last_balance + j * s->tick_ns)
		return 0;
	c->last_balance = s->now;
	if (!load_balance(s, c, busy ? LB_NOT_IDLE : LB_IDLE, &resched))
		return 0;
	if (!c->curr) {
		schedule(s, c, "balance");
		return 0;
	}
	return resched;
}

/* newidle_balance(): a CPU about to go idle pulls when some CPU has more
 * than one runnable task (rd->overload). The kernel also skips it when the
 * CPU's average idle time is below the cost of balancing; not modelled. */
static int newidle_balance(sim_t *s, sim_cpu_t *c)
{
	int overload = 0, resched = 0;

	for (int k = 0; k < s->ncpu; k++)
		overload |= s->cpu[k].nr > 1;
	if (!overload)
		return 0;
	return load_balance(s, c, LB_NEWLY_IDLE, &resched);
}

/* ================================================================== */
/* Switching, wake-up placement                                        */
/* ================================================================== */

/* schedule(): the CPU picks again and runs what it picked. A pick that
 * goes to sleep at once (a task whose next event is a sleep) makes the
 * CPU pick again at the same instant; an empty queue balances (newly
 * idle) before the CPU goes idle. */
static void schedule(sim_t *s, sim_cpu_t *c, const char *why)
{
	int cpu = cpu_index(s, c);

	for (int guard = 0; guard < 100000 && !s->oom; guard++) {
		sim_task_t *prev = c->curr, *next;
		uint64_t done_at;

		account(s, c, s->now);
		next = task_of(hp_pick_next_task(&c->rq));
		if (!next && s->balance && !c->nr) {
			/* pick_next_task_fair(): nothing here, try to pull */
			c->curr = NULL;
			if (newidle_balance(s, c))
				next = task_of(hp_pick_next_task(&c->rq));
		}
		if (next != prev) {
			trace_switch(s, cpu, prev, next, why);
			if (next && in_window(s, s->now))
				next->switches++;
		}
		c->curr = next;
		if (!next) {
			cancel(s, slot_done(s, cpu));
			poll_arm(s, c, cpu);
			return;
		}
		hp_list_move(&next->node, &c->tasks);
		if (next->pending_lat) {
			next->pending_lat = 0;
			if (in_window(s, next->wake_ref) && hp_hist_add(&next->lat, s->now - next->wake_ref)) {
				snprintf(s->err, s->errlen, "out of memory");
				s->oom = 1;
			}
		}
		if (run_program(s, next, &done_at) == 0) {
			arm(s, slot_done(s, cpu), done_at);
			poll_arm(s, c, cpu);
			return;
		}
		why = next->state == T_EXITED ? "exit" : "sleep";
	}
	if (!s->oom) {
		snprintf(s->err, s->errlen, "CPU %d found nothing runnable that would run at %" PRIu64 " ns",
			 cpu, s->now);
		s->oom = 1;
	}
}

/* select_task_rq_fair() on a flat topology, for a wake-up from sleep
 * (select_idle_sibling(), Linux 6.6; the waker is the timer on the CPU the
 * task slept on, so wake_affine() keeps the previous CPU as the target):
 * the previous CPU when idle, else the recently used one when idle, else
 * the first idle CPU after the previous one (select_idle_cpu()'s wrap-around
 * scan, without SIS_UTIL's limit on its length), else the previous one.
 * A new thread (fork balancing, find_idlest_cpu()): an idle CPU, else the
 * least loaded. Only CPUs the task may use. */
static int select_cpu(sim_t *s, sim_task_t *t)
{
	int best = -1, prev = t->cpu;

	if (prev >= 0 && (t->allowed >> prev & 1)) {
		int r = t->recent_cpu;

		if (cpu_idle(&s->cpu[prev]))
			return prev;
		if (r >= 0 && r != prev && (t->allowed >> r & 1) && cpu_idle(&s->cpu[r])) {
			t->recent_cpu = prev;
			return r;
		}
		t->recent_cpu = prev;
		for (int k = 1; k < s->ncpu; k++) {
			int c = (prev + k) % s->ncpu;

			if ((t->allowed >> c & 1) && cpu_idle(&s->cpu[c]))
				return c;
		}
		return prev;
	}
	for (int c = 0; c < s->ncpu; c++)
		if ((t->allowed >> c & 1) && cpu_idle(&s->cpu[c]))
			return c;
	for (int c = 0; c < s->ncpu; c++)
		if ((t->allowed >> c & 1) && (best < 0 || s->cpu[c].nr < s->cpu[best].nr))
			best = c;
	return best;
}

static void wake(sim_t *s, sim_task_t *t)
{
	int cpu, flags;
	sim_cpu_t *c;

	/* ttwu_runnable(): an entity still queued (6.12 delayed dequeue) is
	 * made runnable where it is */
	cpu = t->se.on_rq ? t->cpu : select_cpu(s, t);
	c = &s->cpu[cpu];
	if (t->state == T_NEW) {
		t->t_first = s->now;
		flags = HP_ENQUEUE_INITIAL;
		/* init_entity_runnable_average(): a new task at its full weight */
		hp_pelt_init(&t->pelt, s->now);
	} else {
		pelt_update(t, s->now);         /* asleep up to now */
		flags = HP_ENQUEUE_WAKEUP;
		if (t->cpu != cpu) {
			hp_migrate_sleeping_entity(&s->cpu[t->cpu].rq, &t->se);
			flags |= HP_ENQUEUE_MIGRATED;
			t->migrations++;
			trace_migrate(s, t, t->cpu, cpu, "wakeup");
		}
		t->pending_lat = 1;
		if (in_window(s, t->wake_ref))
			t->wakeups++;
	}
	t->state = T_RUNNABLE;
	t->cpu = cpu;
	account(s, c, s->now);
	hp_enqueue_entity(&c->rq, &t->se, flags);
	cpu_add_task(c, t);
	if (!c->curr)
		schedule(s, c, "wakeup");
	else if (hp_check_preempt_wakeup(&c->rq, &t->se))
		schedule(s, c, "preempt");
}

/* ================================================================== */
/* The checker (hp_sim_opts_t.check)                                   */
/* ================================================================== */

__attribute__((format(printf, 3, 4)))
static int check_fail(sim_t *s, const char *what, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	n = (size_t)snprintf(s->err, s->errlen, "checker after %s at %" PRIu64 " ns: ", what, s->now);
	if (n < s->errlen) {
		va_start(ap, fmt);
		vsnprintf(s->err + n, s->errlen - n, fmt, ap);
		va_end(ap);
	}
	s->oom = 1;
	return -1;
}

/* Every invariant of the simulation: each queue's own (hp_cfs_rq_check());
 * every runnable task on exactly one CPU's list, its own; the lists'
 * counts and load sums; each queue's nr_running and load are the runnable
 * tasks on it plus the delayed entities left on it; curr is runnable and
 * the queue's curr; no CPU idle with runnable tasks; min_vruntime never
 * goes back; a sleeping task has its wake-up armed, an exited one none.
 * O(tasks + CPUs); only with opts.check. */
static int check_all(sim_t *s, const char *what)
{
	char e[256];
	int seen_bad = -1;

	for (int i = 0; i < s->nt; i++)
		s->t[i].pending_lat = s->t[i].pending_lat ? 1 : 0;
	for (int k = 0; k < s->ncpu; k++) {
		sim_cpu_t *c = &s->cpu[k];
		unsigned n = 0, qn = 0;
		uint64_t load = 0, qload = 0;
		hp_list_t *p;

		if (hp_cfs_rq_check(&c->rq, e, sizeof e))
			return check_fail(s, what, "CPU %d: %s", k, e);
		hp_list_for_each(p, &c->tasks) {
			sim_task_t *t = hp_list_entry(p, sim_task_t, node);

			if (++n > (unsigned)s->nt)
				return check_fail(s, what, "CPU %d: its task list loops", k);
			if (t->state != T_RUNNABLE || t->cpu != k || !t->se.on_rq)
				return check_fail(s, what, "CPU %d lists '%s' (state %d, cpu %d, on_rq %d)", k,
						  t->name, t->state, t->cpu, t->se.on_rq);
			load += t->se.load.weight;
			t->pending_lat |= 2;    /* seen on a list */
		}
		if (n != c->nr || load != c->load)
			return check_fail(s, what, "CPU %d: %u tasks of load %" PRIu64 " listed, counted %u of %" PRIu64,
					  k, n, load, c->nr, c->load);
		for (int i = 0; i < s->nt; i++) {
			const sim_task_t *t = &s->t[i];

			if (t->se.on_rq && t->cpu == k) {
				qn++;
				qload += t->se.load.weight;
			}
		}
		if (qn != c->rq.nr_running || qload != c->rq.load.weight)
			return check_fail(s, what, "CPU %d: queue has nr_running %u load %" PRIu64
					  ", its tasks %u and %" PRIu64, k, c->rq.nr_running, c->rq.load.weight, qn, qload);
		if (c->curr && (c->rq.curr != &c->curr->se || c->curr->state != T_RUNNABLE || c->curr->cpu != k))
			return check_fail(s, what, "CPU %d: curr '%s' is not the queue's running runnable task",
					  k, c->curr->name);
		if (!c->curr && c->nr)
			return check_fail(s, what, "CPU %d idle with %u runnable tasks", k, c->nr);
		if (hp_vruntime_before(c->rq.min_vruntime, c->min_vr_seen))
			return check_fail(s, what, "CPU %d: min_vruntime went back from %" PRIu64 " to %" PRIu64,
					  k, c->min_vr_seen, c->rq.min_vruntime);
		c->min_vr_seen = c->rq.min_vruntime;
	}
	for (int i = 0; i < s->nt; i++) {
		sim_task_t *t = &s->t[i];
		int listed = t->pending_lat & 2, armed = hp_evheap_armed(&s->q, slot_wake(s, i));

		t->pending_lat &= 1;
		if ((t->state == T_RUNNABLE) != !!listed)
			seen_bad = i;
		else if ((t->state == T_SLEEPING || t->state == T_NEW) != armed)
			seen_bad = i;
		else if (t->state != T_RUNNABLE && t->se.on_rq && !t->se.sched_delayed)
			seen_bad = i;
		if (seen_bad >= 0)
			return check_fail(s, what, "task '%s': state %d, listed %d, wake-up armed %d, on_rq %d",
					  t->name, t->state, !!listed, armed, t->se.on_rq);
	}
	return 0;
}
/* ================================================================== */
/* The run                                                             */
/* ================================================================== */

void hp_sim_opts_default(hp_sim_opts_t *o)
{
	memset(o, 0, sizeof(*o));
	o->policy = HP_SCHED_EEVDF;
	o->seed = 1;
	o->ncpus = 1;
	o->hz = 250;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void hp_sim_sort_ns(int64_t *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_i64);
}

int64_t hp_sim_pct(const int64_t *v, size_t n, unsigned p)
{
	size_t r = (n * p + 99) / 100;

	return n ? v[r ? r - 1 : 0] : -1;
}

/* An estimate of the events a run takes (within a few per cent on the
 * shipped scenarios; the run itself stops at the limit when it is wrong):
 * per thread, its loops in
 * the duration (a loop lasts at least the sum of its run, runtime and
 * sleep times and its unique timers' periods; a shared timer's period is
 * split among the threads that use it) times its events per loop, plus
 * the ticks and the threads' starts. Saturates at UINT64_MAX. */
uint64_t hp_sim_estimate_events(const hp_scn_t *scn, const hp_sim_opts_t *o)
{
	uint64_t tick_ns = (1000000000ull + (uint64_t)o->hz / 2) / (uint64_t)(o->hz > 0 ? o->hz : 250);
	double est = (double)scn->duration_ns / (double)tick_ns * (o->ncpus > 0 ? o->ncpus : 1) + scn->nthr;
	/* clock reads, at most one per clock_poll_ns per CPU */
	if (o->clock_poll_ns)
		est += (double)scn->duration_ns / (double)o->clock_poll_ns * (o->ncpus > 0 ? o->ncpus : 1);
	int *users = calloc((size_t)scn->ntimers + 1, sizeof(*users));

	if (!users)
		return UINT64_MAX;
	for (int i = 0; i < scn->ntask; i++)
		for (int p = 0; p < scn->task[i].nph; p++)
			for (int e = 0; e < scn->task[i].ph[p].nev; e++)
				if (scn->task[i].ph[p].ev[e].kind == EV_TIMER)
					users[scn->task[i].ph[p].ev[e].timer] += scn->task[i].instance;
	for (int i = 0; i < scn->ntask; i++) {
		const scn_task_t *t = &scn->task[i];
		double loop_ns = 0, nev = 0, loops;

		for (int p = 0; p < t->nph; p++) {
			double ph_ns = 0;

			for (int e = 0; e < t->ph[p].nev; e++) {
				const scn_ev_t *ev = &t->ph[p].ev[e];

				if (ev->kind != EV_TIMER)
					ph_ns += (double)ev->ns;
				else if (scn->timers[ev->timer].unique)
					ph_ns += (double)ev->ns;
				else
					ph_ns += (double)ev->ns / (users[ev->timer] ? users[ev->timer] : 1);
			}
			loop_ns += ph_ns * (double)t->ph[p].loop;
			nev += (double)t->ph[p].nev * (double)t->ph[p].loop;
		}
		loops = loop_ns > 0 ? (double)scn->duration_ns / loop_ns + 1 : 1;
		if (t->loop != -1 && loops > (double)t->loop)
			loops = (double)t->loop;
		est += loops * nev * t->instance;
	}
	free(users);
	return est >= 1.8e19 ? UINT64_MAX : (uint64_t)est;
}

static void sim_free(sim_t *s)
{
	if (s->t)
		for (int i = 0; i < s->nt; i++)
			hp_hist_free(&s->t[i].lat);
	free(s->t);
	free(s->cpu);
	hp_evheap_free(&s->q);
	free(s->timers);
}

/* One event. 0, or -1 at the end of the run. */
static int step(sim_t *s)
{
	hp_evh_ent_t e = hp_evheap_pop(&s->q);
	uint32_t slot = e.slot;

	s->now = e.time;
	s->events++;
	if (slot == slot_end(s))
		return -1;
	if (slot < (uint32_t)s->ncpu) {
		sim_cpu_t *c = &s->cpu[slot];

		int resched = 0;

		/* scheduler_tick(): the tick asks for a switch; the balancing
		 * softirq runs before the switch happens (on the way out of the
		 * interrupt), with the preempted task still running */
		if (c->curr) {
			account(s, c, s->now);
			resched = hp_entity_tick(&c->rq);
		}
		if (s->balance)
			resched |= periodic_balance(s, c);
		if (resched)
			schedule(s, c, "tick");
		arm(s, slot, s->now + s->tick_ns);
	} else if (slot < 2u * (uint32_t)s->ncpu) {
		sim_cpu_t *c = &s->cpu[slot - (uint32_t)s->ncpu];
		sim_task_t *t = c->curr;
		uint64_t done_at;

		account(s, c, s->now);
		if (run_program(s, t, &done_at) == 0) {
			arm(s, slot, done_at);
			poll_arm(s, c, (int)(slot - (uint32_t)s->ncpu));
		} else {
			schedule(s, c, t->state == T_EXITED ? "exit" : "sleep");
		}
	} else if (slot < 2u * (uint32_t)s->ncpu + (uint32_t)s->nt) {
		wake(s, &s->t[slot - 2u * (uint32_t)s->ncpu]);
	} else {
		/* the running task reads its CPU clock: task_sched_runtime()
		 * runs update_curr(), whose preemption checks act at once (the
		 * reschedule happens on the way back to user space) */
		int cpu = (int)(slot - slot_poll(s, 0));
		sim_cpu_t *c = &s->cpu[cpu];

		if (!c->curr)
			return 0;
		account(s, c, s->now);
		if (hp_update_curr(&c->rq))
			schedule(s, c, "clock");
		else
			poll_arm(s, c, cpu);
	}
	return 0;
}

int hp_sim_run(const hp_scn_t *scn, const hp_sim_opts_t *o, hp_sim_res_t *r, char *err, size_t errlen)
{
	sim_t s;
	hp_sched_tunables_t tun;
	uint64_t rng = o->seed, all, est;
	size_t nut = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	if (errlen)
		err[0] = 0;
	if (o->ncpus < 1 || o->ncpus > HP_SIM_MAX_CPUS) {
		snprintf(err, errlen, "%d CPUs (valid: 1..%d)", o->ncpus, HP_SIM_MAX_CPUS);
		return -1;
	}
	if (o->hz < 10 || o->hz > 10000) {
		snprintf(err, errlen, "HZ %d (valid: 10..10000)", o->hz);
		return -1;
	}
	all = o->ncpus == 64 ? ~UINT64_C(0) : (UINT64_C(1) << o->ncpus) - 1;
	if (!o->ignore_affinity)
		for (int i = 0; i < scn->ntask; i++)
			if (scn->task[i].cpus & ~all) {
				int bad = 0;

				while (!((scn->task[i].cpus & ~all) >> bad & 1))
					bad++;
				snprintf(err, errlen, "task '%s': cpus: CPU %d is not simulated (%d CPU%s: 0..%d;"
					 " use --cpus)", scn->task[i].key, bad, o->ncpus, o->ncpus == 1 ? "" : "s",
					 o->ncpus - 1);
				return -1;
			}
	s.max_events = o->max_events ? o->max_events : HP_SIM_MAX_EVENTS;
	est = hp_sim_estimate_events(scn, o);
	if (est > s.max_events) {
		snprintf(err, errlen, "this run would simulate about %.3g events, more than the limit of %.3g"
			 " (HP_SIM_MAX_EVENTS): shorten global.duration, lengthen the shortest events or use"
			 " fewer threads", (double)est, (double)s.max_events);
		return -1;
	}
	s.scn = scn;
	s.o = o;
	s.err = err;
	s.errlen = errlen;
	s.ncpu = o->ncpus;
	s.nt = scn->nthr;
	s.balance = !o->no_balance && o->ncpus > 1;
	s.wake_delay = o->wake_delay_ns;
	s.clock_poll = o->clock_poll_ns;
#ifdef HP_SIM_MUTATE_NO_WAKE_DELAY
	s.wake_delay = 0;                       /* test mutant: the wake_delay test must notice */
#endif
#ifdef HP_SIM_MUTATE_NO_BALANCE
	s.balance = 0;                          /* test mutant: 3 hogs on 2 CPUs must notice */
#endif
	s.w0 = o->window_start_ns;
	s.w1 = o->window_end_ns ? o->window_end_ns : scn->duration_ns;
	if (s.w1 > scn->duration_ns)
		s.w1 = scn->duration_ns;
	if (s.w0 >= s.w1) {
		snprintf(err, errlen, "empty measurement window [%" PRIu64 ", %" PRIu64 ") ns", s.w0, s.w1);
		return -1;
	}
	hp_sched_tunables_init(&tun, o->scale_cpus > 0 ? o->scale_cpus : o->ncpus, o->hz);
	s.tick_ns = tun.tick_ns;
	/* sd_init(): min_interval = the domain's CPUs (ms), max twice that */
	s.lb_min_interval_ms = (unsigned)s.ncpu;
	s.lb_max_interval_ms = 2u * (unsigned)s.ncpu;
	for (int i = 0; i < s.nt; i++)
		nut += (size_t)scn->task[scn->thr[i].task].nunique;
	s.t = calloc((size_t)s.nt, sizeof(*s.t));
	s.cpu = calloc((size_t)s.ncpu, sizeof(*s.cpu));
	s.timers = calloc((size_t)scn->nshared + nut + 1, sizeof(*s.timers));
	if (!s.t || !s.cpu || !s.timers || hp_evheap_init(&s.q, 3u * (uint32_t)s.ncpu + (uint32_t)s.nt + 1)) {
		snprintf(err, errlen, "out of memory");
		rc = -2;
		goto out;
	}
	for (int c = 0; c < s.ncpu; c++) {
		hp_cfs_rq_init(&s.cpu[c].rq, o->policy, &tun);
		hp_list_init(&s.cpu[c].tasks);
		s.cpu[c].min_vr_seen = s.cpu[c].rq.min_vruntime;
		s.cpu[c].balance_interval_ms = s.lb_min_interval_ms;
	}
	nut = (size_t)scn->nshared;
	for (int i = 0; i < s.nt; i++) {
		sim_task_t *t = &s.t[i];

		t->def = &scn->task[scn->thr[i].task];
		t->name = scn->thr[i].name;
		t->idx = i;
		t->cpu = -1;
		t->recent_cpu = -1;
		t->allowed = o->ignore_affinity || !t->def->cpus ? all : t->def->cpus;
		t->utimers = &s.timers[nut];
		nut += (size_t)t->def->nunique;
		hp_list_init(&t->node);
		hp_hist_init(&t->lat);
		hp_se_init(&t->se, t->def->nice, (uint32_t)i);
#ifndef HP_SIM_MUTATE_IGNORE_SLICE
		/* sched_setattr() before the thread first runs (the models
		 * before 6.12 keep the base slice whatever it says) */
		if (t->def->slice_ns)
			hp_se_set_slice(&t->se, t->def->slice_ns);
#endif
		/* rt-app starts its threads one after another */
		arm(&s, slot_wake(&s, i), hp_splitmix64(&rng) % 100000);
	}
	/* the tick's phase against the tasks' start is chance on a real
	 * machine: drawn from the seed. One phase for every CPU: without the
	 * skew_tick boot option (off by default, and off here) every CPU's tick
	 * hrtimer expires on the same jiffy boundary (tick_setup_sched_timer()) */
	s.tick_phase = hp_splitmix64(&rng) % s.tick_ns;
	for (int c = 0; c < s.ncpu; c++)
		arm(&s, slot_tick(&s, c), 1 + s.tick_phase);
	arm(&s, slot_end(&s), scn->duration_ns);
	if (o->trace)
		fputs("time_ns,cpu,prev,next,reason\n", o->trace);

	while (s.q.n && !s.oom) {
		if (step(&s))
			break;
		if (o->check && !s.oom)
			check_all(&s, "an event");
		if ((s.events > s.max_events || s.steps > s.max_events) && !s.oom) {
			snprintf(err, errlen, "stopped at %.3g s of simulated time: more than the limit of %.3g events"
				 " or task steps (shorten global.duration or lengthen the shortest events)",
				 (double)s.now * 1e-9, (double)s.max_events);
			s.oom = 2;
		}
	}
	if (s.oom) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		rc = s.oom == 2 ? -1 : -2;
		goto out;
	}
	for (int c = 0; c < s.ncpu; c++)
		account(&s, &s.cpu[c], scn->duration_ns);

	r->ntasks = s.nt;
	r->window_ns = s.w1 - s.w0;
	r->events = s.events;
	r->task = calloc((size_t)s.nt, sizeof(*r->task));
	if (!r->task) {
		snprintf(err, errlen, "out of memory");
		rc = -2;
		goto out;
	}
	double sx = 0, sxx = 0;
	for (int i = 0; i < s.nt; i++) {
		sim_task_t *t = &s.t[i];
		hp_sim_task_res_t *q = &r->task[i];
		double x;

		snprintf(q->name, sizeof q->name, "%s", t->name);
		q->nice = t->se.nice;
		q->weight = (uint32_t)t->se.load.weight;
		q->runtime_ns = t->runtime;
		q->share = (double)t->runtime / (double)r->window_ns;
		q->switches = t->switches;
		q->wakeups = t->wakeups;
		q->migrations = t->migrations;
		q->lat = t->lat;        /* the result owns the histogram now */
		hp_hist_init(&t->lat);
		q->wakeup_p50_ns = hp_hist_pct(&q->lat, 50);
		q->wakeup_p90_ns = hp_hist_pct(&q->lat, 90);
		q->wakeup_p99_ns = hp_hist_pct(&q->lat, 99);
		q->wakeup_max_ns = q->lat.n ? (int64_t)q->lat.max : -1;
		x = (double)t->runtime / (double)q->weight;
		sx += x;
		sxx += x * x;
	}
	r->jain = sxx > 0 ? sx * sx / ((double)s.nt * sxx) : NAN;
	rc = 0;
out:
	sim_free(&s);
	return rc;
}

void hp_sim_res_free(hp_sim_res_t *r)
{
	for (int i = 0; r->task && i < r->ntasks; i++)
		hp_hist_free(&r->task[i].lat);
	free(r->task);
	memset(r, 0, sizeof(*r));
}

void hp_sim_csv_field(FILE *f, const char *v)
{
	if (!strpbrk(v, ",\"\r\n")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputc('"', f);
}
