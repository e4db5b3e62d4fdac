/* softirq.c — suite "softirq": raising and dispatching deferred work (impl/softirq) against threads and the kernel.
 *
 * One operation is one event taken end to end: something in hardirq context
 * (or a producer thread) asks for deferred work, and the deferred work has
 * run before the next event starts. What each case measures (README text):
 *
 * - raise_dispatch: a hardirq on the measuring thread's CPU whose handler
 *   raises NET_RX; the action counts the event.
 *     impl             hp_softirq_irq(): irq_enter, handler, irq_exit, which
 *                      runs __do_softirq right there (6.6's invoke_softirq);
 *     impl-threadirqs  force_irqthreads: irq_exit wakes ksoftirqd/0 instead
 *                      and the thread's cond_resched hands it the CPU (a
 *                      futex wake-up and two handoffs per event);
 *     direct           the handler calls the action through a pointer: the
 *                      floor, no softirq machinery at all;
 *     thread           a worker thread on the same CPU (a threaded IRQ
 *                      handler or a workqueue): post with a futex wake,
 *                      wait for the worker's futex wake back;
 *     kernel           a UDP datagram over loopback (baselines/kernel): the
 *                      real NET_RX_SOFTIRQ raise and its dispatch at
 *                      local_bh_enable, inside the send system call, plus
 *                      the UDP/IP stack and a receive call around them.
 * - restart: the action re-raises its own vector until it has run k times
 *   for the event (k = 1, 10, 11, 40). Up to MAX_SOFTIRQ_RESTART (10)
 *   passes run inside the one __do_softirq; from the 11th the rest is left
 *   to ksoftirqd, reached at the thread's next cond_resched. Counters per
 *   event: passes, deferrals on the restart limit and on the time limit (or
 *   need_resched), ksoftirqd runs.
 * - tasklet: the hardirq handler schedules a tasklet (normal: TASKLET_SOFTIRQ,
 *   hi: HI_SOFTIRQ), which runs at irq_exit.
 * - remote (2 CPUs): the event comes from the other CPU. impl: the
 *   measuring thread sends an interrupt to CPU 1 of the softirq machine
 *   (hp_softirq_send_irq: a queued request and a real-time signal to the
 *   thread that owns CPU 1, pinned to the second selected CPU), whose
 *   handler raises NET_RX; the action publishes the event's number, which
 *   the sender waits for. thread: the same with a worker thread that the
 *   sender wakes through a futex. Params: busy (the target spins, as a CPU
 *   running a task) and idle (the target sleeps: in the kernel an idle CPU
 *   woken by the IPI; here a thread blocked in a system call that the
 *   signal or futex wakes).
 *
 * Every variant checks that the action ran once per event (a lost or extra
 * event aborts the run with a message).
 */
#include "hp.h"
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

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
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
				cpu_relax();
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
			cpu_relax();
		else
			futex(&w->done, FUTEX_WAIT_PRIVATE, d);
	}
}

/* ------------------------------------------------------------------ */
/* The softirq machine of a run                                        */
/* ------------------------------------------------------------------ */

enum { V_IMPL, V_THREADIRQS, V_DIRECT, V_THREAD, V_KERNEL };

typedef struct sq {
	hp_softirq_sys_t *sys;
	const hp_ctx_t *ctx;
	int kind;
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
				cpu_relax();
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

static int case_is(const hp_ctx_t *ctx, const char *name)
{
	return !strcmp(ctx->c->name, name);
}

static void *sq_setup(hp_ctx_t *ctx)
{
	sq_t *q = calloc(1, sizeof *q);
	int remote = case_is(ctx, "remote");
	int kind = (int)(intptr_t)ctx->v->ops;

	if (!q)
		return NULL;
	q->ctx = ctx;
	q->kind = kind;
	q->udp.tx = q->udp.rx = -1;
	if (kind == V_IMPL || kind == V_THREADIRQS) {
		hp_softirq_config_t cfg;
		int os[2] = { ctx->cpus[0], ctx->ncpus > 1 ? ctx->all_cpus[1] : ctx->cpus[0] };

		hp_softirq_config_init(&cfg);
		cfg.ncpus = remote ? 2 : 1;
		cfg.force_irqthreads = kind == V_THREADIRQS;
		cfg.ksoftirqd_os_cpu = os;
		if (hp_softirq_create(&cfg, &q->sys) != 0)
			goto fail;
		hp_softirq_action_t act = case_is(ctx, "restart") ? act_restart :
					  remote ? act_publish : act_count;

		if (hp_open_softirq(q->sys, HP_NET_RX_SOFTIRQ, act, q) != 0)
			goto fail;
		hp_tasklet_init(&q->tl, tl_func, (unsigned long)q);
		if (remote) {
			q->target_idle = ctx->p->value == 1;
			q->target_os_cpu = os[1];
			if (pthread_create(&q->target, NULL, target_main, q) != 0)
				goto fail;
			q->target_started = 1;
			while (!atomic_load_explicit(&q->target_ready, memory_order_acquire))
				sched_yield();
			if (atomic_load_explicit(&q->target_ready, memory_order_acquire) < 0)
				goto fail;
		}
	} else if (kind == V_THREAD) {
		int os = remote ? ctx->all_cpus[1] : ctx->cpus[0];

		if (worker_start(&q->w, os, remote && ctx->p->value == 0, ctx->bind_cpu) != 0)
			goto fail;
	} else if (kind == V_KERNEL) {
		if (hp_kp_udp_open(&q->udp) != 0)
			goto fail;
	}
	return q;
fail:
	sq_free(q);
	return NULL;
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
		if (n && case_is(q->ctx, "restart")) {
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
	if (q->kind == V_KERNEL && n)
		hp_counter(st, "deferred_per_event", (double)q->udp.deferred / (double)n);
	if (got != n)
		hp_fatal(q->ctx, "%llu events, the deferred work ran %llu times",
			 (unsigned long long)n, (unsigned long long)got);
	hp_resume(st);
}

/* ------------------------------------------------------------------ */
/* raise_dispatch                                                      */
/* ------------------------------------------------------------------ */

static void raise_dispatch_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sq_t *q = ctx->data;

	sq_enter(st, q);
	switch (q->kind) {
	case V_IMPL:
		for (uint64_t i = 0; i < n; i++)
			hp_softirq_irq(irq_raise, NULL);
		break;
	case V_THREADIRQS:
		for (uint64_t i = 0; i < n; i++) {
			hp_softirq_irq(irq_raise, NULL);
			hp_softirq_cond_resched();
		}
		break;
	case V_DIRECT: {
		void (*volatile h)(hp_softirq_cpu_t *, void *) = irq_direct;

		for (uint64_t i = 0; i < n; i++)
			h(NULL, q);
		break;
	}
	case V_THREAD:
		for (uint64_t i = 0; i < n; i++)
			worker_event(&q->w);
		q->count = q->w.count;
		q->w.count = 0;
		break;
	case V_KERNEL: {
		uint64_t seq0 = q->udp.seq;
		int rc = hp_kp_udp_round(&q->udp, n);

		if (rc != 0)
			hp_fatal(ctx, "udp round trip: %s", strerror(-rc));
		q->count = q->udp.seq - seq0;
		break;
	}
	}
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

static void remote_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sq_t *q = ctx->data;
	uint64_t got = 0;

	hp_pause(st);
	q->count = 0;
	hp_resume(st);
	if (q->kind == V_IMPL) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t want = ++q->next;

			while (hp_softirq_send_irq(q->sys, 1, irq_raise, NULL) == -EAGAIN)
				cpu_relax();
			while (atomic_load_explicit(&q->published, memory_order_acquire) != want)
				cpu_relax();
		}
		got = n;        /* each event waited for its own number */
	} else {
		for (uint64_t i = 0; i < n; i++)
			worker_event(&q->w);
		got = q->w.count;
		q->w.count = 0;
	}
	hp_pause(st);
	if (got != n)
		hp_fatal(ctx, "%llu events, the deferred work ran %llu times", (unsigned long long)n,
			 (unsigned long long)got);
	hp_resume(st);
}

/* ------------------------------------------------------------------ */
/* Variants and cases                                                  */
/* ------------------------------------------------------------------ */

static const char *sq_available(const hp_ctx_t *ctx)
{
	int kind = (int)(intptr_t)ctx->v->ops;

	if (kind == V_KERNEL) {
		static char why[160];
		static int checked;
		const char *k = hp_kp_available();

		if (k)
			return k;
		if (!checked) {
			/* a network namespace without an IPv4 loopback, a
			 * seccomp filter on socket(): say so, do not fail */
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
	if (ctx->bind_cpu && !strcmp(ctx->metric, "instructions") &&
	    (kind == V_THREADIRQS || kind == V_THREAD || case_is(ctx, "remote") ||
	     (case_is(ctx, "restart") && ctx->p->value > HP_MAX_SOFTIRQ_RESTART)))
		return "hands work to another thread: valgrind serialises threads, so its count is the scheduler's, "
		       "not the path's";
	return NULL;
}

#define SQ_VARIANT(id, vname, k, kindv) \
	static const hp_variant_t id = { .name = vname, .kind = k, .available = sq_available, \
		.ops = (const void *)(intptr_t)(kindv) }
SQ_VARIANT(v_impl, "impl", HP_KIND_IMPL, V_IMPL);
SQ_VARIANT(v_threadirqs, "impl-threadirqs", HP_KIND_IMPL, V_THREADIRQS);
SQ_VARIANT(v_direct, "direct", HP_KIND_BASELINE, V_DIRECT);
SQ_VARIANT(v_thread, "thread", HP_KIND_BASELINE, V_THREAD);
SQ_VARIANT(v_kernel, "kernel", HP_KIND_KERNEL, V_KERNEL);
#undef SQ_VARIANT

static const hp_variant_t *const rd_variants[] = {
	&v_impl, &v_threadirqs, &v_direct, &v_thread, &v_kernel, NULL,
};
static const hp_variant_t *const impl_only[] = { &v_impl, NULL };
static const hp_variant_t *const remote_variants[] = { &v_impl, &v_thread, NULL };

static const hp_case_t c_raise_dispatch = {
	.name = "raise_dispatch",
	.desc = "a hardirq raises NET_RX, the action runs (irq_exit, ksoftirqd, a thread, or the kernel's loopback)",
	.op_unit = "event",
	.setup = sq_setup, .teardown = sq_teardown, .run = raise_dispatch_run,
	.variants = rd_variants,
};

static const hp_param_t restart_params[] = {
	{ .label = "1", .value = 1 }, { .label = "10", .value = 10 },
	{ .label = "11", .value = 11 }, { .label = "40", .value = 40 },
	{ .label = NULL },
};

static const hp_case_t c_restart = {
	.name = "restart",
	.desc = "the action re-raises itself until it ran k times: MAX_SOFTIRQ_RESTART, then ksoftirqd",
	.op_unit = "event",
	.param_name = "runs per event",
	.params = restart_params,
	.setup = sq_setup, .teardown = sq_teardown, .run = restart_run,
	.variants = impl_only,
};

static const hp_param_t tasklet_params[] = {
	{ .label = "normal", .value = 0 }, { .label = "hi", .value = 1 }, { .label = NULL },
};

static const hp_case_t c_tasklet = {
	.name = "tasklet",
	.desc = "a hardirq schedules a tasklet, which runs at irq_exit",
	.op_unit = "event",
	.param_name = "list",
	.params = tasklet_params,
	.setup = sq_setup, .teardown = sq_teardown, .run = tasklet_run,
	.variants = impl_only,
};

static const hp_param_t remote_params[] = {
	{ .label = "busy", .value = 0, .min_cpus = 2 },
	{ .label = "idle", .value = 1, .min_cpus = 2 },
	{ .label = NULL },
};

static const hp_case_t c_remote = {
	.name = "remote",
	.desc = "an interrupt from the other CPU (signal) or a futex wake-up: the round trip to the deferred work",
	.op_unit = "event",
	.param_name = "target",
	.params = remote_params,
	.setup = sq_setup, .teardown = sq_teardown, .run = remote_run,
	.variants = remote_variants,
};

const hp_suite_t hp_suite_softirq = {
	.name = "softirq",
	.desc = "softirq raise and dispatch, the restart limit, tasklets: impl vs threads and the kernel",
	.doc = "docs/suites/softirq.md",
	.cases = (const hp_case_t *const[]){
		&c_raise_dispatch, &c_restart, &c_tasklet, &c_remote, NULL,
	},
};
