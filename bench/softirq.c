/* softirq.c — suite "softirq": raising and dispatching deferred work (impl/softirq) against threads and the kernel.
 *
 * Cases raise_dispatch, restart, tasklet and remote: one event taken end
 * to end, the deferred work done before the next event; every variant
 * checks that the action ran once per event. The variants' ops tables
 * are impl/softirq's (softirq_ops.h) and baselines/softirq's; this file
 * selects them and runs the cases.
 * Documented in docs/suites/softirq.md.
 */
#include "hp.h"
#include "softirq.h"
#include "softirq_ops.h"
#include "sq_baselines.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The state of a run                                                  */
/* ------------------------------------------------------------------ */

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

/* A variant's ops (hp_variant_t.ops) are an hp_sq_ops_t: impl/softirq's
 * dispatch modes (softirq_ops.h) or baselines/softirq's tables. */
#define SQ_OPS(ctx) ((const hp_sq_ops_t *)(ctx)->v->ops)

typedef struct sq {
	const hp_ctx_t *ctx;
	const hp_sq_ops_t *ops;
	hp_sq_env_t env;                /* what the variant was opened with */
	void *inst;                     /* the variant's machinery */
	hp_softirq_sys_t *sys;          /* impl: its machine, else NULL */
	/* the actions' own counts and state, one event at a time */
	uint64_t count;                 /* NET_RX actions that counted an event */
	uint64_t k, left;               /* restart: runs per event, runs to go */
	_Atomic uint64_t published;     /* remote: last event number the action saw */
	hp_tasklet_t tl;
	uint64_t tl_count;
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

static void sq_free(sq_t *q)
{
	if (!q)
		return;
	if (q->inst)
		q->ops->close(q->inst);
	free(q);
}

/* The variant opened for the case: the machine's CPUs (the second
 * selected CPU for the other side of remote), the case's action. */
static void *sq_setup(hp_ctx_t *ctx)
{
	const sq_case_t *cs = SQ_CASE(ctx);
	sq_t *q = calloc(1, sizeof *q);

	if (!q)
		return NULL;
	q->ctx = ctx;
	q->ops = SQ_OPS(ctx);
	q->env = (hp_sq_env_t){
		.remote = cs->remote,
		.target_idle = cs->remote && ctx->p->value == 1,
		.os_cpu = { ctx->cpus[0], ctx->ncpus > 1 ? ctx->all_cpus[1] : ctx->cpus[0] },
		.bind_cpu = ctx->bind_cpu,
		.act = cs->act, .act_arg = q,
		.action_count = &q->count, .published = &q->published,
	};
	hp_tasklet_init(&q->tl, tl_func, (unsigned long)q);
	q->inst = q->ops->open(&q->env);
	if (!q->inst) {
		sq_free(q);
		return NULL;
	}
	q->sys = q->ops->sys ? q->ops->sys(q->inst) : NULL;
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
	const char *err;

	hp_pause(st);
	err = q->ops->error ? q->ops->error(q->inst) : NULL;
	if (err)
		hp_fatal(q->ctx, "%s", err);
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
	if (q->ops->deferred) {
		uint64_t d = q->ops->deferred(q->inst);

		if (n)
			hp_counter(st, "deferred_per_event", (double)d / (double)n);
	}
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
	q->count = q->ops->events(q->inst, n);
	sq_leave(st, q, n, q->count);
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
	uint64_t got;

	hp_pause(st);
	q->count = 0;
	hp_resume(st);
	got = q->ops->remote(q->inst, n);
	hp_pause(st);
	if (got != n)
		hp_fatal(ctx, "%llu events, the deferred work ran %llu times", (unsigned long long)n,
			 (unsigned long long)got);
	hp_resume(st);
}

/* ------------------------------------------------------------------ */
/* Variants and cases                                                  */
/* ------------------------------------------------------------------ */

/* baselines/softirq says why not (no kernel probes, no IPv4 loopback) */
static const char *kernel_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_sq_kernel_unavailable();
}

static const char *sq_available(const hp_ctx_t *ctx)
{
	if (ctx->bind_cpu && hp_metric_is_callgrind(ctx->metric) &&
	    (SQ_OPS(ctx)->other_thread || ctx->p->value > SQ_CASE(ctx)->handoff_above))
		return "hands work to another thread: valgrind serialises threads, so its count is the scheduler's, "
		       "not the path's";
	return NULL;
}

/* The tables: impl/softirq/softirq_ops.h (impl, impl-threadirqs) and
 * baselines/softirq/sq_baselines.h (direct, thread, kernel). */
#define SQ_VARIANT(id, vname, k, table, avail) \
	static const hp_variant_t id = { .name = vname, .kind = k, .available = avail, .ops = &(table) }
SQ_VARIANT(v_impl, "impl", HP_KIND_IMPL, hp_sq_ops_irq_exit, sq_available);
SQ_VARIANT(v_threadirqs, "impl-threadirqs", HP_KIND_IMPL, hp_sq_ops_threadirqs, sq_available);
SQ_VARIANT(v_direct, "direct", HP_KIND_BASELINE, hp_sq_ops_direct, sq_available);
SQ_VARIANT(v_thread, "thread", HP_KIND_BASELINE, hp_sq_ops_thread, sq_available);
SQ_VARIANT(v_kernel, "kernel", HP_KIND_KERNEL, hp_sq_ops_kernel, kernel_available);
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
