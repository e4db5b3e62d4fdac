/* workqueue.c — suite "workqueue": queue_work + worker dispatch (impl/workqueue) against a condition-variable and an eventfd worker.
 *
 * Every variant is one queue with one worker thread behind hp_wq_ops_t
 * (impl/workqueue/workqueue.h); the cases call through the variant's table
 * and check the work: each queued item ran exactly once, else hp_fatal.
 * The measuring thread waits for the items on a futex that the items'
 * function wakes, the same code for every variant. What each case measures
 * and what it does not: docs/suites/workqueue.md.
 */
#include "hp.h"
#include "hp_futex.h"
#include "hp_time.h"
#include "workqueue.h"
#include "wq_baselines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WQ_OPS(ctx) ((const hp_wq_ops_t *)(ctx)->v->ops)

/* A wait longer than this is a lost wake-up, not a slow machine. */
#define WQ_WATCHDOG_NS (10ull * 1000000000ull)

struct wq_run;

typedef struct wq_item {
	hp_work_t work;
	uint64_t runs;                  /* written by the worker only */
	struct wq_run *r;
} wq_item_t;

/* One queue and its items, for one (variant, param). */
typedef struct wq_run {
	const hp_ctx_t *ctx;
	void *q;
	_Atomic uint32_t ran;           /* items run (mod 2^32): the futex the measuring thread waits on */
	_Atomic uint32_t waiting;       /* the measuring thread sleeps on `ran` ... */
	_Atomic uint32_t target;        /* ... until it reaches this: only that item wakes it */
	int worker_cpu;
	char err[160];                  /* setup failed: run() skips with it */
	int nitems;
	wq_item_t items[];
} wq_run_t;

static void item_fn(hp_work_t *w)
{
	wq_item_t *it = hp_container_of(w, wq_item_t, work);
	wq_run_t *r = it->r;

	it->runs++;
	uint32_t v = atomic_fetch_add_explicit(&r->ran, 1, memory_order_seq_cst) + 1;

	if (atomic_load_explicit(&r->waiting, memory_order_seq_cst) &&
	    v == atomic_load_explicit(&r->target, memory_order_seq_cst))
		hp_futex_wake((uint32_t *)&r->ran, 1);
}

/* Sleeps until `ran` reaches want; only the item that gets it there wakes
 * it (not one wake per item of a burst). Announcing the target and the
 * wait, then re-reading (all seq_cst), pairs with item_fn's add-then-check:
 * one side sees the other, so this wake-up cannot be lost; a lost one is
 * the variant's. */
static void wait_ran(wq_run_t *r, uint32_t want)
{
	uint64_t t0 = 0;
	uint32_t v;

	while ((v = atomic_load_explicit(&r->ran, memory_order_acquire)) != want) {
		struct timespec ts = { 1, 0 };

		atomic_store_explicit(&r->target, want, memory_order_seq_cst);
		atomic_store_explicit(&r->waiting, 1, memory_order_seq_cst);
		v = atomic_load_explicit(&r->ran, memory_order_seq_cst);
		if (v != want)
			hp_futex_wait((uint32_t *)&r->ran, v, &ts);
		atomic_store_explicit(&r->waiting, 0, memory_order_relaxed);
		if (!t0) {
			t0 = hp_now_ns();
		} else if (hp_now_ns() - t0 > WQ_WATCHDOG_NS) {
			v = atomic_load_explicit(&r->ran, memory_order_acquire);
			hp_fatal(r->ctx, "lost wake-up: %u item(s) still queued after %llu s (worker on CPU %d)",
				 want - v, WQ_WATCHDOG_NS / 1000000000ull, r->worker_cpu);
		}
	}
}

/* The first selected CPU other than the measuring thread's, or its own. */
static int other_cpu(const hp_ctx_t *ctx)
{
	for (int k = 0; k < ctx->ncpus; k++)
		if (ctx->all_cpus[k] != ctx->cpus[0])
			return ctx->all_cpus[k];
	return ctx->cpus[0];
}

static wq_run_t *wq_setup(hp_ctx_t *ctx, int worker_cpu, int nitems)
{
	wq_run_t *r = calloc(1, sizeof(*r) + (size_t)nitems * sizeof(r->items[0]));
	int rc;

	if (!r)
		return NULL;
	r->ctx = ctx;
	r->worker_cpu = worker_cpu;
	r->nitems = nitems;
	for (int i = 0; i < nitems; i++) {
		hp_init_work(&r->items[i].work, item_fn);
		r->items[i].r = r;
	}
	rc = WQ_OPS(ctx)->create(worker_cpu, ctx->bind_cpu, &r->q);
	if (rc != 0) {
		snprintf(r->err, sizeof r->err, "%s: worker on CPU %d: %s", WQ_OPS(ctx)->name, worker_cpu,
			 strerror(-rc));
		r->q = NULL;
	}
	return r;
}

static void wq_teardown(hp_ctx_t *ctx, void *data)
{
	wq_run_t *r = data;

	if (!r)
		return;
	if (r->q)
		WQ_OPS(ctx)->destroy(r->q);
	free(r);
}

/* 0 when the run can go on; otherwise it has skipped with the reason. */
static int wq_check_setup(hp_state_t *st, const wq_run_t *r)
{
	if (!r) {
		hp_skip(st, "workqueue: out of memory in setup");
		return -1;
	}
	if (r->err[0]) {
		hp_skip(st, r->err);
		return -1;
	}
	return 0;
}

/* Clock paused: every item ran exactly `want` more times than at the
 * start of the batch (runs0), and the wake-ups per item as a counter. */
static void wq_end_batch(hp_state_t *st, wq_run_t *r, const uint64_t *runs0, uint64_t want,
			 uint64_t wake0, double items)
{
	hp_pause(st);
	WQ_OPS(r->ctx)->drain(r->q);
	for (int i = 0; i < r->nitems; i++)
		if (r->items[i].runs - runs0[i] != want)
			hp_fatal(r->ctx, "item %d ran %llu times for %llu queueings", i,
				 (unsigned long long)(r->items[i].runs - runs0[i]), (unsigned long long)want);
	if (items > 0)
		hp_counter(st, "wakeups_per_item", (double)(WQ_OPS(r->ctx)->wakeups(r->q) - wake0) / items);
	hp_resume(st);
}

static void wq_queue_or_die(const wq_run_t *r, wq_item_t *it)
{
	if (!WQ_OPS(r->ctx)->queue(r->q, &it->work))
		hp_fatal(r->ctx, "queue returned false: item %d still pending after it ran",
			 (int)(it - r->items));
}

/* ------------------------------------------------------------------ */
/* queue_dispatch                                                      */
/* ------------------------------------------------------------------ */

enum { SAME_CPU, CROSS_CPU };

static const hp_param_t dispatch_params[] = {
	{ .label = "same_cpu", .value = SAME_CPU, .min_cpus = 1 },
	{ .label = "cross_cpu", .value = CROSS_CPU, .min_cpus = 2 },
	{ .label = NULL },
};

static void *dispatch_setup(hp_ctx_t *ctx)
{
	return wq_setup(ctx, ctx->p->value == CROSS_CPU ? other_cpu(ctx) : ctx->cpus[0], 1);
}

static void dispatch_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	wq_run_t *r = ctx->data;
	uint64_t runs0, wake0;
	uint32_t want;

	if (wq_check_setup(st, r))
		return;
	hp_pause(st);
	runs0 = r->items[0].runs;
	wake0 = WQ_OPS(ctx)->wakeups(r->q);
	want = atomic_load_explicit(&r->ran, memory_order_acquire);
	hp_resume(st);
	for (uint64_t i = 0; i < n; i++) {
		wq_queue_or_die(r, &r->items[0]);
		wait_ran(r, ++want);
	}
	wq_end_batch(st, r, &runs0, n, wake0, (double)n);
}

/* ------------------------------------------------------------------ */
/* burst                                                               */
/* ------------------------------------------------------------------ */

static const hp_param_t burst_params[] = {
	{ .label = "16", .value = 16, .items = 16 },
	{ .label = "256", .value = 256, .items = 256 },
	{ .label = NULL },
};

static void *burst_setup(hp_ctx_t *ctx)
{
	return wq_setup(ctx, other_cpu(ctx), (int)ctx->p->value);
}

static void burst_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	wq_run_t *r = ctx->data;
	uint64_t *runs0, wake0;
	uint32_t want;

	if (wq_check_setup(st, r))
		return;
	hp_pause(st);
	runs0 = malloc((size_t)r->nitems * sizeof(*runs0));
	if (!runs0)
		hp_fatal(ctx, "out of memory for %d item counts", r->nitems);
	for (int i = 0; i < r->nitems; i++)
		runs0[i] = r->items[i].runs;
	wake0 = WQ_OPS(ctx)->wakeups(r->q);
	want = atomic_load_explicit(&r->ran, memory_order_acquire);
	hp_counter(st, "worker_cross_cpu", r->worker_cpu != ctx->cpus[0]);
	hp_resume(st);
	for (uint64_t i = 0; i < n; i++) {
		for (int k = 0; k < r->nitems; k++)
			wq_queue_or_die(r, &r->items[k]);
		want += (uint32_t)r->nitems;
		wait_ran(r, want);
	}
	hp_add_items(st, (double)n * (double)r->nitems);
	wq_end_batch(st, r, runs0, n, wake0, (double)n * (double)r->nitems);
	free(runs0);
}

/* ------------------------------------------------------------------ */
/* Variants, cases, suite                                              */
/* ------------------------------------------------------------------ */

static const char *wq_available(const hp_ctx_t *ctx)
{
	if (ctx->bind_cpu && hp_metric_is_callgrind(ctx->metric))
		return "hands each item to a worker thread: valgrind serialises threads, so a count would "
		       "be the scheduler's, not the path's";
	return NULL;
}

static const hp_variant_t v_impl = {
	.name = "impl", .kind = HP_KIND_IMPL, .available = wq_available, .ops = &hp_wq_impl_ops,
};
static const hp_variant_t v_cond = {
	.name = "cond", .kind = HP_KIND_BASELINE, .available = wq_available, .ops = &hp_wq_cond_ops,
};
static const hp_variant_t v_eventfd = {
	.name = "eventfd", .kind = HP_KIND_BASELINE, .available = wq_available, .ops = &hp_wq_eventfd_ops,
};

static const hp_variant_t *const wq_variants[] = { &v_impl, &v_cond, &v_eventfd, NULL };

static const hp_case_t c_queue_dispatch = {
	.name = "queue_dispatch",
	.desc = "queue one work item and sleep until the worker ran it: the round trip",
	.op_unit = "round_trip",
	.param_name = "placement",
	.params = dispatch_params,
	.setup = dispatch_setup, .teardown = wq_teardown, .run = dispatch_run,
	.variants = wq_variants,
};

static const hp_case_t c_burst = {
	.name = "burst",
	.desc = "queue N items back to back, the worker drains them (no wake-up while it runs)",
	.op_unit = "burst",
	.item_unit = "item",
	.param_name = "items per burst",
	.params = burst_params,
	.setup = burst_setup, .teardown = wq_teardown, .run = burst_run,
	.variants = wq_variants,
};

const hp_suite_t hp_suite_workqueue = {
	.name = "workqueue",
	.desc = "queue_work + worker dispatch: impl vs a condition-variable and an eventfd worker",
	.doc = "docs/suites/workqueue.md",
	.cases = (const hp_case_t *const[]){ &c_queue_dispatch, &c_burst, NULL },
};
