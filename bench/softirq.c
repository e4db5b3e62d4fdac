/* softirq.c — suite "softirq": raising and dispatching deferred work (impl/softirq) against threads and the kernel.
 *
 * Cases raise_dispatch, restart, tasklet and remote: one event taken end
 * to end, the deferred work done before the next event; every variant
 * checks that the action ran once per event.
 * Documented in docs/suites/softirq.md.
 */
#include "hp.h"
#include "hp_compiler.h"
#include "probes.h"
#include "softirq.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Shared bits                                                         */
/* ------------------------------------------------------------------ */

static long futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	futex(w, FUTEX_WAKE_PRIVATE, 1);
}

/* A worker thread: waits for `req` to move past what it has served, runs
 * the event (counts it) and publishes `done`; spins or sleeps on req. */
typedef struct worker {
	_Atomic uint32_t req;   /* events posted */
	_Atomic uint32_t done;  /* events served */
	_Atomic int stop;
	int spin;               /* poll req instead of sleeping on it */
	int os_cpu;
	int (*bind)(int cpu);
	uint64_t count;         /* the action's own count (the worker's) */
	pthread_t th;
	int started;
} worker_t;

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	uint32_t seen = 0;

	if (w->bind && w->os_cpu >= 0)
		w->bind(w->os_cpu);
	for (;;) {
		uint32_t r = atomic_load_explicit(&w->req, memory_order_acquire);

		if (r == seen) {
			if (atomic_load_explicit(&w->stop, memory_order_acquire))
				break;
			if (w->spin)
				hp_cpu_relax();
			else
				futex(&w->req, FUTEX_WAIT_PRIVATE, seen);
			continue;
		}
		while (seen != r) {     /* the deferred work: one count per event */
			seen++;
			w->count++;
		}
		atomic_store_explicit(&w->done, seen, memory_order_release);
		if (!w->spin)
			futex_wake(&w->done);
	}
	return NULL;
}

static int worker_start(worker_t *w, int os_cpu, int spin, int (*bind)(int))
{
	memset(w, 0, sizeof *w);
	w->os_cpu = os_cpu;
	w->spin = spin;
	w->bind = bind;
	if (pthread_create(&w->th, NULL, worker_main, w) != 0)
		return -1;
	w->started = 1;
	return 0;
}

static void worker_stop(worker_t *w)
{
	if (!w->started)
		return;
	atomic_store_explicit(&w->stop, 1, memory_order_release);
	atomic_fetch_add_explicit(&w->req, 0, memory_order_release);
	futex(&w->req, FUTEX_WAKE_PRIVATE, 1);
	pthread_join(w->th, NULL);
	w->started = 0;
}

/* One event through the worker: post, then wait for it to be served
 * (sleeping when the worker sleeps: both sides of a threaded handler). */
static inline void worker_event(worker_t *w)
{
	uint32_t r = atomic_fetch_add_explicit(&w->req, 1, memory_order_acq_rel) + 1;

	if (!w->spin)
		futex_wake(&w->req);
	for (;;) {
		uint32_t d = atomic_load_explicit(&w->done, memory_order_acquire);

		if (d == r)
			return;
		if (w->spin)
			hp_cpu_relax();
		else
			futex(&w->done, FUTEX_WAIT_PRIVATE, d);
	}
}

/* ------------------------------------------------------------------ */
/* The softirq machine of a run                                        */
/* ------------------------------------------------------------------ */

typedef struct sq sq_t;

/* A case's own choices, in the struct around its hp_case_t (ctx->c points
 * at .c, the first member): the machine's size, the NET_RX action, which
 * counters it reports, and from which param the work leaves the thread. */
typedef struct sq_case {
	hp_case_t c;
	int remote;                     /* the event comes from the other CPU */
	void (*act)(hp_softirq_cpu_t *cpu, void *arg);
	int restart_counters;           /* passes, deferrals, ksoftirqd runs */
	int64_t handoff_above;          /* a param above this hands work to another thread */
} sq_case_t;
#define SQ_CASE(ctx) ((const sq_case_t *)(const void *)(ctx)->c)

/* A variant's ops (hp_variant_t.ops): its machinery and its event loops.
 * The impl variants wrap impl/softirq's dispatch modes; the baselines are
 * a direct call, a worker thread, and the kernel's loopback
 * (baselines/kernel). A loop the variant lacks is NULL (its cases do not
 * list it). */
typedef struct sq_ops {
	const hp_softirq_mode_ops_t *mode;      /* impl: the machine's dispatch */
	int (*open)(sq_t *q, hp_ctx_t *ctx);
	/* raise_dispatch: n events; returns how many the deferred work saw */
	uint64_t (*events)(hp_ctx_t *ctx, sq_t *q, uint64_t n);
	/* remote: n events from the other CPU; returns how many were served */
	uint64_t (*remote)(sq_t *q, uint64_t n);
	int other_thread;               /* the work always runs in another thread */
	int udp;                        /* reports the kernel's deferred raises */
} sq_ops_t;
#define SQ_OPS(ctx) ((const sq_ops_t *)(ctx)->v->ops)

typedef struct sq {
	hp_softirq_sys_t *sys;
	const hp_ctx_t *ctx;
	const sq_ops_t *ops;
	/* the actions' own counts and state, one event at a time */
	uint64_t count;                 /* NET_RX actions that counted an event */
	uint64_t k, left;               /* restart: runs per event, runs to go */
	_Atomic uint64_t published;     /* remote: last event number the action saw */
	uint64_t next;                  /* remote: the event number being sent */
	hp_tasklet_t tl;
	uint64_t tl_count;
	/* baselines */
	worker_t w;
	hp_kp_udp_t udp;
	/* remote target thread (impl) */
	pthread_t target;
	int target_started;
	_Atomic int target_ready, target_stop;
	int target_idle;
	int target_os_cpu;
	char err[160];
	hp_softirq_stats_t s0;
} sq_t;

static void act_count(hp_softirq_cpu_t *cpu, void *arg)
{
	sq_t *q = arg;

	(void)cpu;
	q->count++;
}

static void act_restart(hp_softirq_cpu_t *cpu, void *arg)
{
	sq_t *q = arg;

	(void)cpu;
	if (q->left && --q->left)
		hp_raise_softirq(HP_NET_RX_SOFTIRQ);
	else
		q->count++;
}

static void act_publish(hp_softirq_cpu_t *cpu, void *arg)
{
	sq_t *q = arg;

	(void)cpu;
	atomic_store_explicit(&q->published, atomic_load_explicit(&q->published, memory_order_relaxed) + 1,
			      memory_order_release);
}

static void irq_raise(hp_softirq_cpu_t *cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	hp_raise_softirq(HP_NET_RX_SOFTIRQ);
}

static void irq_direct(hp_softirq_cpu_t *cpu, void *arg)
{
	act_count(cpu, arg);
}

static void tl_func(unsigned long data)
{
	((sq_t *)data)->tl_count++;
}

static void irq_tasklet(hp_softirq_cpu_t *cpu, void *arg)
{
	sq_t *q = arg;

	(void)cpu;
	hp_tasklet_schedule(&q->tl);
}

static void irq_tasklet_hi(hp_softirq_cpu_t *cpu, void *arg)
{
	sq_t *q = arg;

	(void)cpu;
	hp_tasklet_hi_schedule(&q->tl);
}

/* Owns CPU 1 of the machine on the second selected CPU: spins with
 * cond_resched points (busy) or sleeps in nanosleep, which its interrupt
 * signal cuts short (idle). */
static void *target_main(void *arg)
{
	sq_t *q = arg;

	if (q->ctx->bind_cpu)
		q->ctx->bind_cpu(q->target_os_cpu);
	if (hp_softirq_cpu_attach(q->sys, 1) != 0) {
		atomic_store_explicit(&q->target_ready, -1, memory_order_release);
		return NULL;
	}
	atomic_store_explicit(&q->target_ready, 1, memory_order_release);
	while (!atomic_load_explicit(&q->target_stop, memory_order_acquire)) {
		if (q->target_idle) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		} else {
			for (int i = 0; i < 256; i++)
				hp_cpu_relax();
		}
		hp_softirq_cond_resched();
	}
	hp_softirq_cpu_detach();
	return NULL;
}

static void sq_free(sq_t *q)
{
	if (!q)
		return;
	if (q->target_started) {
		atomic_store_explicit(&q->target_stop, 1, memory_order_release);
		pthread_join(q->target, NULL);
	}
	worker_stop(&q->w);
	hp_kp_udp_close(&q->udp);
	if (q->sys)
		hp_softirq_destroy(q->sys);
	free(q);
}

/* impl: the softirq machine in the variant's dispatch mode, NET_RX bound
 * to the case's action; for remote, a second CPU owned by target_main. */
static int impl_open(sq_t *q, hp_ctx_t *ctx)
{
	const sq_case_t *cs = SQ_CASE(ctx);
	hp_softirq_config_t cfg;
	int os[2] = { ctx->cpus[0], ctx->ncpus > 1 ? ctx->all_cpus[1] : ctx->cpus[0] };

	hp_softirq_config_init(&cfg);
	cfg.ncpus = cs->remote ? 2 : 1;
	cfg.force_irqthreads = q->ops->mode->force_irqthreads;
	cfg.ksoftirqd_os_cpu = os;
	if (hp_softirq_create(&cfg, &q->sys) != 0)
		return -1;
	if (hp_open_softirq(q->sys, HP_NET_RX_SOFTIRQ, cs->act, q) != 0)
		return -1;
	hp_tasklet_init(&q->tl, tl_func, (unsigned long)q);
	if (!cs->remote)
		return 0;
	q->target_idle = ctx->p->value == 1;
	q->target_os_cpu = os[1];
	if (pthread_create(&q->target, NULL, target_main, q) != 0)
		return -1;
	q->target_started = 1;
	while (!atomic_load_explicit(&q->target_ready, memory_order_acquire))
		sched_yield();
	return atomic_load_explicit(&q->target_ready, memory_order_acquire) < 0 ? -1 : 0;
}

/* thread: the worker on this CPU, or on the other one for remote (where
 * it spins for the busy param) */
static int thread_open(sq_t *q, hp_ctx_t *ctx)
{
	int remote = SQ_CASE(ctx)->remote;
	int os = remote ? ctx->all_cpus[1] : ctx->cpus[0];

	return worker_start(&q->w, os, remote && ctx->p->value == 0, ctx->bind_cpu);
}

static int direct_open(sq_t *q, hp_ctx_t *ctx)
{
	(void)q;
	(void)ctx;
	return 0;
}

static int kernel_open(sq_t *q, hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_kp_udp_open(&q->udp);
}

static void *sq_setup(hp_ctx_t *ctx)
{
	sq_t *q = calloc(1, sizeof *q);

	if (!q)
		return NULL;
	q->ctx = ctx;
	q->ops = SQ_OPS(ctx);
	q->udp.tx = q->udp.rx = -1;
	if (q->ops->open(q, ctx) != 0) {
		sq_free(q);
		return NULL;
	}
	return q;
}

static void sq_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	sq_free(data);
}

/* Per batch, clock paused: the measuring thread becomes CPU 0 of the
 * machine (impl variants), and the counters start. */
static void sq_enter(hp_state_t *st, sq_t *q)
{
	hp_pause(st);
	if (q->sys) {
		int rc = hp_softirq_cpu_attach(q->sys, 0);

		if (rc != 0)
			hp_fatal(q->ctx, "hp_softirq_cpu_attach: %s", strerror(-rc));
		hp_softirq_stats(q->sys, 0, &q->s0);
	}
	q->count = 0;
	q->tl_count = 0;
	hp_resume(st);
}

static void sq_leave(hp_state_t *st, sq_t *q, uint64_t n, uint64_t got)
{
	hp_pause(st);
	if (q->sys) {
		hp_softirq_stats_t s1;

		/* the deferred work left in ksoftirqd runs before we count */
		while (hp_softirq_cond_resched() > 0)
			;
		hp_softirq_stats(q->sys, 0, &s1);
		hp_softirq_cpu_detach();
		if (n && SQ_CASE(q->ctx)->restart_counters) {
			hp_counter(st, "passes_per_event", (double)(s1.passes - q->s0.passes) / (double)n);
			/* restart-limit deferrals are exact: (k - 1) / 10 per
			 * event; the 2 ms limit can also end a run when the
			 * thread is preempted mid-pass (a VM, a busy CPU) */
			hp_counter(st, "restart_defer_per_event",
				   (double)(s1.defer_restart - q->s0.defer_restart) / (double)n);
			hp_counter(st, "time_defer_per_event",
				   (double)(s1.defer_time + s1.defer_resched - q->s0.defer_time -
					    q->s0.defer_resched) / (double)n);
			hp_counter(st, "ksoftirqd_per_event",
				   (double)(s1.ksoftirqd_runs - q->s0.ksoftirqd_runs) / (double)n);
		}
	}
	if (q->ops->udp && n)
		hp_counter(st, "deferred_per_event", (double)q->udp.deferred / (double)n);
	if (got != n)
		hp_fatal(q->ctx, "%llu events, the deferred work ran %llu times",
			 (unsigned long long)n, (unsigned long long)got);
	hp_resume(st);
}

/* ------------------------------------------------------------------ */
/* raise_dispatch                                                      */
/* ------------------------------------------------------------------ */

static uint64_t irq_exit_events(hp_ctx_t *ctx, sq_t *q, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i++)
		hp_softirq_irq(irq_raise, NULL);
	return q->count;
}

/* the interrupted thread's cond_resched hands the CPU to ksoftirqd */
static uint64_t threadirqs_events(hp_ctx_t *ctx, sq_t *q, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		hp_softirq_irq(irq_raise, NULL);
		hp_softirq_cond_resched();
	}
	return q->count;
}

static uint64_t direct_events(hp_ctx_t *ctx, sq_t *q, uint64_t n)
{
	void (*volatile h)(hp_softirq_cpu_t *, void *) = irq_direct;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++)
		h(NULL, q);
	return q->count;
}

static uint64_t thread_events(hp_ctx_t *ctx, sq_t *q, uint64_t n)
{
	uint64_t got;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++)
		worker_event(&q->w);
	got = q->w.count;
	q->w.count = 0;
	return got;
}

static uint64_t kernel_events(hp_ctx_t *ctx, sq_t *q, uint64_t n)
{
	uint64_t seq0 = q->udp.seq;
	int rc = hp_kp_udp_round(&q->udp, n);

	if (rc != 0)
		hp_fatal(ctx, "udp round trip: %s", strerror(-rc));
	return q->udp.seq - seq0;
}

static void raise_dispatch_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sq_t *q = ctx->data;

	sq_enter(st, q);
	q->count = q->ops->events(ctx, q, n);
	sq_leave(st, q, n, q->count);
	q->udp.deferred = 0;
}

/* ------------------------------------------------------------------ */
/* restart                                                             */
/* ------------------------------------------------------------------ */

static void restart_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sq_t *q = ctx->data;

	q->k = (uint64_t)ctx->p->value;
	sq_enter(st, q);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = q->count + 1;

		q->left = q->k;
		hp_softirq_irq(irq_raise, NULL);
		while (q->count != want)
			if (hp_softirq_cond_resched() <= 0 && q->count != want)
				hp_fatal(ctx, "event %llu: work pending but ksoftirqd not runnable",
					 (unsigned long long)i);
	}
	sq_leave(st, q, n, q->count);
}

/* ------------------------------------------------------------------ */
/* tasklet                                                             */
/* ------------------------------------------------------------------ */

static void tasklet_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sq_t *q = ctx->data;
	hp_irq_handler_t h = ctx->p->value ? irq_tasklet_hi : irq_tasklet;

	sq_enter(st, q);
	for (uint64_t i = 0; i < n; i++)
		hp_softirq_irq(h, q);
	sq_leave(st, q, n, q->tl_count);
}

/* ------------------------------------------------------------------ */
/* remote                                                              */
/* ------------------------------------------------------------------ */

/* impl: an interrupt to CPU 1 per event; the action publishes the
 * event's number, which the sender waits for */
static uint64_t impl_remote(sq_t *q, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = ++q->next;

		while (hp_softirq_send_irq(q->sys, 1, irq_raise, NULL) == -EAGAIN)
			hp_cpu_relax();
		while (atomic_load_explicit(&q->published, memory_order_acquire) != want)
			hp_cpu_relax();
	}
	return n;       /* each event waited for its own number */
}

static uint64_t thread_remote(sq_t *q, uint64_t n)
{
	uint64_t got;

	for (uint64_t i = 0; i < n; i++)
		worker_event(&q->w);
	got = q->w.count;
	q->w.count = 0;
	return got;
}

static void remote_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sq_t *q = ctx->data;
	uint64_t got;

	hp_pause(st);
	q->count = 0;
	hp_resume(st);
	got = q->ops->remote(q, n);
	hp_pause(st);
	if (got != n)
		hp_fatal(ctx, "%llu events, the deferred work ran %llu times", (unsigned long long)n,
			 (unsigned long long)got);
	hp_resume(st);
}

/* ------------------------------------------------------------------ */
/* Variants and cases                                                  */
/* ------------------------------------------------------------------ */

static const char *kernel_available(const hp_ctx_t *ctx)
{
	static char why[160];
	static int checked;
	const char *k = hp_kp_available();

	(void)ctx;
	if (k)
		return k;
	if (!checked) {
		/* a network namespace without an IPv4 loopback, a seccomp
		 * filter on socket(): say so, do not fail */
		hp_kp_udp_t u;
		int rc = hp_kp_udp_open(&u);

		if (rc == 0)
			hp_kp_udp_close(&u);
		else
			snprintf(why, sizeof why, "no UDP over IPv4 loopback here: %s", strerror(-rc));
		checked = 1;
	}
	return why[0] ? why : NULL;
}

static const char *sq_available(const hp_ctx_t *ctx)
{
	if (ctx->bind_cpu && !strcmp(ctx->metric, "instructions") &&
	    (SQ_OPS(ctx)->other_thread || ctx->p->value > SQ_CASE(ctx)->handoff_above))
		return "hands work to another thread: valgrind serialises threads, so its count is the scheduler's, "
		       "not the path's";
	return NULL;
}

static const sq_ops_t ops_impl = {
	.mode = &hp_softirq_ops_irq_exit, .open = impl_open, .events = irq_exit_events, .remote = impl_remote,
};
static const sq_ops_t ops_threadirqs = {
	.mode = &hp_softirq_ops_threadirqs, .open = impl_open, .events = threadirqs_events, .other_thread = 1,
};
static const sq_ops_t ops_direct = { .open = direct_open, .events = direct_events };
static const sq_ops_t ops_thread = {
	.open = thread_open, .events = thread_events, .remote = thread_remote, .other_thread = 1,
};
static const sq_ops_t ops_kernel = { .open = kernel_open, .events = kernel_events, .udp = 1 };

#define SQ_VARIANT(id, vname, k, table, avail) \
	static const hp_variant_t id = { .name = vname, .kind = k, .available = avail, .ops = &(table) }
SQ_VARIANT(v_impl, "impl", HP_KIND_IMPL, ops_impl, sq_available);
SQ_VARIANT(v_threadirqs, "impl-threadirqs", HP_KIND_IMPL, ops_threadirqs, sq_available);
SQ_VARIANT(v_direct, "direct", HP_KIND_BASELINE, ops_direct, sq_available);
SQ_VARIANT(v_thread, "thread", HP_KIND_BASELINE, ops_thread, sq_available);
SQ_VARIANT(v_kernel, "kernel", HP_KIND_KERNEL, ops_kernel, kernel_available);
#undef SQ_VARIANT
static const hp_variant_t *const rd_variants[] = {
	&v_impl, &v_threadirqs, &v_direct, &v_thread, &v_kernel, NULL,
};
static const hp_variant_t *const impl_only[] = { &v_impl, NULL };
static const hp_variant_t *const remote_variants[] = { &v_impl, &v_thread, NULL };

static const sq_case_t c_raise_dispatch = {
	.c = {
		.name = "raise_dispatch",
		.desc = "a hardirq raises NET_RX, the action runs (irq_exit, ksoftirqd, a thread, or the kernel's loopback)",
		.op_unit = "event",
		.setup = sq_setup, .teardown = sq_teardown, .run = raise_dispatch_run,
		.variants = rd_variants,
	},
	.act = act_count, .handoff_above = INT64_MAX,
};

static const hp_param_t restart_params[] = {
	{ .label = "1", .value = 1 }, { .label = "10", .value = 10 },
	{ .label = "11", .value = 11 }, { .label = "40", .value = 40 },
	{ .label = NULL },
};

static const sq_case_t c_restart = {
	.c = {
		.name = "restart",
		.desc = "the action re-raises itself until it ran k times: MAX_SOFTIRQ_RESTART, then ksoftirqd",
		.op_unit = "event",
		.param_name = "runs per event",
		.params = restart_params,
		.setup = sq_setup, .teardown = sq_teardown, .run = restart_run,
		.variants = impl_only,
	},
	/* past the restart limit the rest of the event runs in ksoftirqd */
	.act = act_restart, .restart_counters = 1, .handoff_above = HP_MAX_SOFTIRQ_RESTART,
};

static const hp_param_t tasklet_params[] = {
	{ .label = "normal", .value = 0 }, { .label = "hi", .value = 1 }, { .label = NULL },
};

static const sq_case_t c_tasklet = {
	.c = {
		.name = "tasklet",
		.desc = "a hardirq schedules a tasklet, which runs at irq_exit",
		.op_unit = "event",
		.param_name = "list",
		.params = tasklet_params,
		.setup = sq_setup, .teardown = sq_teardown, .run = tasklet_run,
		.variants = impl_only,
	},
	.act = act_count, .handoff_above = INT64_MAX,
};

static const hp_param_t remote_params[] = {
	{ .label = "busy", .value = 0, .min_cpus = 2 },
	{ .label = "idle", .value = 1, .min_cpus = 2 },
	{ .label = NULL },
};

static const sq_case_t c_remote = {
	.c = {
		.name = "remote",
		.desc = "an interrupt from the other CPU (signal) or a futex wake-up: the round trip to the deferred work",
		.op_unit = "event",
		.param_name = "target",
		.params = remote_params,
		.setup = sq_setup, .teardown = sq_teardown, .run = remote_run,
		.variants = remote_variants,
	},
	/* every param: the work is on the other CPU's thread */
	.act = act_publish, .remote = 1, .handoff_above = INT64_MIN,
};

const hp_suite_t hp_suite_softirq = {
	.name = "softirq",
	.desc = "softirq raise and dispatch, the restart limit, tasklets: impl vs threads and the kernel",
	.doc = "docs/suites/softirq.md",
	.cases = (const hp_case_t *const[]){
		&c_raise_dispatch.c, &c_restart.c, &c_tasklet.c, &c_remote.c, NULL,
	},
};
