/* sim_engine.c — the discrete-event engine of `hotpath sim`: events, timers, per-CPU fair run queues, task programs, wake-up placement and the run (hp_sim_run). The scenario parser and the command line are in sim.c. */
#include "sim.h"
#include "sim_scn.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hp_rand.h"

/* ================================================================== */
/* Simulation state                                                    */
/* ================================================================== */

enum { T_NEW, T_RUNNABLE, T_SLEEPING, T_EXITED };
enum { E_TICK, E_WAKE, E_DONE, E_END };

typedef struct sim_task {
	hp_sched_entity_t se;
	const scn_task_t *def;
	const char *name;
	int idx;
	int state;
	int cpu;                /* current or last CPU, -1 before the first run */
	uint64_t allowed;       /* CPU mask */
	/* position in the program */
	int phase, ev;
	long phase_iter, loop_iter;
	int ev_active;          /* the current run/runtime event has started */
	uint64_t work_left;     /* run: CPU ns still to do */
	uint64_t runtime_end;   /* runtime: wall time it ends */
	uint64_t t_first;       /* thread start: the base of its timers */
	uint64_t wake_ref;      /* when the pending wake-up was due */
	int pending_lat;
	/* results */
	uint64_t runtime, switches, wakeups;
	int64_t *lat;
	size_t nlat, caplat;
} sim_task_t;

typedef struct sim_cpu {
	hp_cfs_rq_t rq;
	sim_task_t *curr;
	uint64_t last;          /* curr's progress is accounted up to here */
	uint64_t gen;           /* bumps on every switch: older DONE events are stale */
} sim_cpu_t;

typedef struct sim_event {
	uint64_t time;
	uint64_t seq;           /* ties run in the order events were made */
	int kind;
	int target;             /* CPU or task */
	uint64_t gen;
} sim_event_t;

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
	sim_event_t *heap;
	size_t nheap, capheap;
	uint64_t seq;
	sim_timer_t *timers;    /* shared timers, then per-thread "unique" ones */
	uint64_t now, w0, w1, tick_ns;
	uint64_t events;
	int oom;
	char *err;
	size_t errlen;
} sim_t;

static inline sim_task_t *task_of(hp_sched_entity_t *se)
{
	return se ? hp_rb_entry(se, sim_task_t, se) : NULL;
}

/* ================================================================== */
/* Event queue (binary heap by time, then creation order)              */
/* ================================================================== */

static inline int ev_before(const sim_event_t *a, const sim_event_t *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void push(sim_t *s, uint64_t time, int kind, int target, uint64_t gen)
{
	sim_event_t e = { time, s->seq++, kind, target, gen };
	size_t i;

	if (s->nheap == s->capheap) {
		size_t cap = s->capheap ? s->capheap * 2 : 256;
		sim_event_t *h = realloc(s->heap, cap * sizeof(*h));

		if (!h) {
			s->oom = 1;
			return;
		}
		s->heap = h;
		s->capheap = cap;
	}
	for (i = s->nheap++; i > 0; i = (i - 1) / 2) {
		size_t p = (i - 1) / 2;

		if (!ev_before(&e, &s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
	}
	s->heap[i] = e;
}

static sim_event_t pop(sim_t *s)
{
	sim_event_t top = s->heap[0], last = s->heap[--s->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && ev_before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

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

static void add_latency(sim_t *s, sim_task_t *t, int64_t lat)
{
	if (t->nlat == t->caplat) {
		size_t cap = t->caplat ? t->caplat * 2 : 64;
		int64_t *l = realloc(t->lat, cap * sizeof(*l));

		if (!l) {
			s->oom = 1;
			return;
		}
		t->lat = l;
		t->caplat = cap;
	}
	t->lat[t->nlat++] = lat;
}

/* ================================================================== */
/* Task programs                                                       */
/* ================================================================== */

static sim_timer_t *timer_of(sim_t *s, const sim_task_t *t, const scn_ev_t *ev)
{
	const scn_timer_t *d = &s->scn->timers[ev->timer];

	if (!d->unique)
		return &s->timers[ev->timer];
	return &s->timers[s->scn->ntimers + (size_t)t->idx * (size_t)s->scn->ntimers + (size_t)ev->timer];
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

	hp_dequeue_entity(&c->rq, &t->se, HP_DEQUEUE_SLEEP);
	if (exiting) {
		t->state = T_EXITED;
		return;
	}
	t->state = T_SLEEPING;
	t->wake_ref = due;
	push(s, wake, E_WAKE, t->idx, 0);
}

/* Runs the program of the task on the CPU from its current event: starts
 * a run/runtime event (returns 0 with *done_at, when it will end), or
 * goes to sleep or exits (returns 1). */
static int run_program(sim_t *s, sim_task_t *t, uint64_t *done_at)
{
	for (int guard = 0; guard < 1000000; guard++) {
		const scn_ev_t *ev = &t->def->ph[t->phase].ev[t->ev];

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
				block(s, t, 0, s->now + ev->ns, s->now + ev->ns);
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
				block(s, t, 0, tm->t_next, tm->t_next);
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

/* schedule(): the CPU picks again and runs what it picked. A pick that
 * goes to sleep at once (a task whose next event is a sleep) makes the
 * CPU pick again at the same instant. */
static void schedule(sim_t *s, sim_cpu_t *c, const char *why)
{
	int cpu = (int)(c - s->cpu);

	for (int guard = 0; guard < 100000 && !s->oom; guard++) {
		sim_task_t *prev = c->curr, *next;
		uint64_t done_at;

		account(s, c, s->now);
		next = task_of(hp_pick_next_task(&c->rq));
		c->gen++;
		if (next != prev) {
			trace_switch(s, cpu, prev, next, why);
			if (next && in_window(s, s->now))
				next->switches++;
		}
		c->curr = next;
		if (!next)
			return;
		next->cpu = cpu;
		if (next->pending_lat) {
			next->pending_lat = 0;
			if (in_window(s, next->wake_ref))
				add_latency(s, next, (int64_t)(s->now - next->wake_ref));
		}
		if (run_program(s, next, &done_at) == 0) {
			push(s, done_at, E_DONE, cpu, c->gen);
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

static int cpu_idle(const sim_cpu_t *c)
{
	return !c->curr && !c->rq.nr_running;
}

/* select_task_rq(), simply: the previous CPU when idle, else an idle one
 * the task may use, else the previous one, else the least loaded. */
static int select_cpu(sim_t *s, const sim_task_t *t)
{
	int best = -1;

	if (t->cpu >= 0 && (t->allowed >> t->cpu & 1) && cpu_idle(&s->cpu[t->cpu]))
		return t->cpu;
	for (int c = 0; c < s->ncpu; c++)
		if ((t->allowed >> c & 1) && cpu_idle(&s->cpu[c]))
			return c;
	if (t->cpu >= 0 && (t->allowed >> t->cpu & 1))
		return t->cpu;
	for (int c = 0; c < s->ncpu; c++)
		if ((t->allowed >> c & 1) &&
		    (best < 0 || s->cpu[c].rq.nr_running < s->cpu[best].rq.nr_running))
			best = c;
	return best;
}

static void wake(sim_t *s, sim_task_t *t)
{
	/* 6.12+: a delayed sleeper is still queued where it slept (ttwu_runnable()) */
	int cpu = t->se.sched_delayed ? t->cpu : select_cpu(s, t), flags;
	sim_cpu_t *c = &s->cpu[cpu];

	if (t->state == T_NEW) {
		t->t_first = s->now;
		flags = HP_ENQUEUE_INITIAL;
	} else {
		flags = HP_ENQUEUE_WAKEUP;
		if (t->cpu != cpu) {
			hp_migrate_sleeping_entity(&s->cpu[t->cpu].rq, &t->se);
			flags |= HP_ENQUEUE_MIGRATED;
		}
		t->pending_lat = 1;
		if (in_window(s, t->wake_ref))
			t->wakeups++;
	}
	t->state = T_RUNNABLE;
	t->cpu = cpu;
	account(s, c, s->now);
	hp_enqueue_entity(&c->rq, &t->se, flags);
	if (!c->curr)
		schedule(s, c, "wakeup");
	else if (hp_check_preempt_wakeup(&c->rq, &t->se))
		schedule(s, c, "preempt");
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

static void sim_free(sim_t *s)
{
	for (int i = 0; i < s->nt; i++)
		free(s->t[i].lat);
	free(s->t);
	free(s->cpu);
	free(s->heap);
	free(s->timers);
}

int hp_sim_run(const hp_scn_t *scn, const hp_sim_opts_t *o, hp_sim_res_t *r, char *err, size_t errlen)
{
	sim_t s;
	hp_sched_tunables_t tun;
	uint64_t rng = o->seed, all;
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
	s.scn = scn;
	s.o = o;
	s.err = err;
	s.errlen = errlen;
	s.ncpu = o->ncpus;
	s.nt = scn->nthr;
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
	s.t = calloc((size_t)s.nt, sizeof(*s.t));
	s.cpu = calloc((size_t)s.ncpu, sizeof(*s.cpu));
	s.timers = calloc((size_t)scn->ntimers * (size_t)(s.nt + 1) + 1, sizeof(*s.timers));
	if (!s.t || !s.cpu || !s.timers) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int c = 0; c < s.ncpu; c++)
		hp_cfs_rq_init(&s.cpu[c].rq, o->policy, &tun);
	for (int i = 0; i < s.nt; i++) {
		sim_task_t *t = &s.t[i];

		t->def = &scn->task[scn->thr[i].task];
		t->name = scn->thr[i].name;
		t->idx = i;
		t->cpu = -1;
		t->allowed = o->ignore_affinity || !t->def->cpus ? all : t->def->cpus;
		hp_se_init(&t->se, t->def->nice, (uint32_t)i);
		/* rt-app starts its threads one after another */
		push(&s, hp_splitmix64(&rng) % 100000, E_WAKE, i, 0);
	}
	for (int c = 0; c < s.ncpu; c++)
		/* the tick's phase against the tasks' start is chance on a real
		 * machine: drawn from the seed, per CPU */
		push(&s, 1 + hp_splitmix64(&rng) % s.tick_ns, E_TICK, c, 0);
	push(&s, scn->duration_ns, E_END, 0, 0);
	if (o->trace)
		fputs("time_ns,cpu,prev,next,reason\n", o->trace);

	while (s.nheap && !s.oom) {
		sim_event_t e = pop(&s);

		s.now = e.time;
		s.events++;
		if (e.kind == E_END)
			break;
		if (e.kind == E_TICK) {
			sim_cpu_t *c = &s.cpu[e.target];

			if (c->curr) {
				account(&s, c, s.now);
				if (hp_entity_tick(&c->rq))
					schedule(&s, c, "tick");
			}
			push(&s, s.now + s.tick_ns, E_TICK, e.target, 0);
		} else if (e.kind == E_WAKE) {
			wake(&s, &s.t[e.target]);
		} else if (e.kind == E_DONE) {
			sim_cpu_t *c = &s.cpu[e.target];
			sim_task_t *t = c->curr;
			uint64_t done_at;

			if (e.gen != c->gen || !t)
				continue;
			account(&s, c, s.now);
			if (run_program(&s, t, &done_at) == 0)
				push(&s, done_at, E_DONE, e.target, c->gen);
			else
				schedule(&s, c, t->state == T_EXITED ? "exit" : "sleep");
		}
	}
	if (s.oom) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		rc = -2;
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
		q->wakeup_p50_ns = q->wakeup_p99_ns = q->wakeup_max_ns = -1;
		if (t->nlat) {
			hp_sim_sort_ns(t->lat, t->nlat);
			q->wakeup_p50_ns = hp_sim_pct(t->lat, t->nlat, 50);
			q->wakeup_p99_ns = hp_sim_pct(t->lat, t->nlat, 99);
			q->wakeup_max_ns = t->lat[t->nlat - 1];
		}
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

