/* kernel.c — suite "kernel": hot paths of the running kernel, measured from user space.
 *
 * Probes of the running kernel from user space (baselines/kernel/probes.h):
 * syscall, minor_fault, page_alloc, ctx_switch, signal, each the kernel's
 * own path timed around one entry. Under --metric instructions only the
 * user-space side is counted, never the kernel's work.
 * Documented in docs/suites/kernel.md.
 */
#include "hp.h"
#include "probes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KOPS(ctx) ((const hp_kp_ops_t *)(ctx)->v->ops)

/* Messages for hp_skip, one slot per measured thread, in static storage so
 * they outlive the thread that wrote them. */
static char skip_msgs[64][160];

static char *skip_buf(const hp_state_t *st)
{
	return skip_msgs[(unsigned)st->thread_index % 64];
}

static void skip_err(hp_state_t *st, const char *what, int err)
{
	char *m = skip_buf(st);

	snprintf(m, sizeof(skip_msgs[0]), "%s: %s", what, strerror(err < 0 ? -err : err));
	hp_skip(st, m);
}

static const char *kernel_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_kp_kernel_ops.available();
}

static const hp_variant_t kernel_variant = {
	.name = "kernel",
	.kind = HP_KIND_KERNEL,
	.available = kernel_available,
	.ops = &hp_kp_kernel_ops,
	.child_env = NULL,
};

static const hp_variant_t *const kernel_variants[] = { &kernel_variant, NULL };

/* ------------------------------------------------------------------ */
/* syscall                                                             */
/* ------------------------------------------------------------------ */

static void syscall_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	long pid = KOPS(ctx)->getpid_n(n);

	(void)st;
	hp_do_not_optimize(pid);
}

static const hp_case_t case_syscall = {
	.name = "syscall",
	.desc = "raw getpid system call: kernel entry and exit",
	.op_unit = "call",
	.thread_sweep = 1,
	.run = syscall_run,
	.variants = kernel_variants,
};

/* ------------------------------------------------------------------ */
/* minor_fault                                                         */
/* ------------------------------------------------------------------ */

#define FAULT_CHUNK 4096        /* pages mapped per batch, 16 MiB with 4 KiB pages */

/* The region lives on the stack of each call, so the number of chunks (and
 * every user-space instruction) depends on n alone. */
static void fault_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const hp_kp_ops_t *ops = KOPS(ctx);
	hp_kp_region_t r;

	while (n > 0) {
		size_t chunk = n < FAULT_CHUNK ? (size_t)n : FAULT_CHUNK, done;
		int err;

		hp_pause(st);
		err = ops->fault_map(&r, chunk);
		hp_resume(st);
		if (err) {
			skip_err(st, "minor_fault: mmap", err);
			return;
		}
		done = ops->fault_touch(&r, chunk);
		hp_pause(st);
		ops->fault_unmap(&r);
		hp_resume(st);
		n -= done;
	}
}

static const hp_case_t case_minor_fault = {
	.name = "minor_fault",
	.desc = "first write to a fresh anonymous 4 KiB page (one minor fault)",
	.op_unit = "fault",
	.thread_sweep = 1,
	.run = fault_run,
	.variants = kernel_variants,
};

/* ------------------------------------------------------------------ */
/* page_alloc                                                          */
/* ------------------------------------------------------------------ */

#define ORDER(o, s) { .label = s, .value = o, .items = (double)(1u << (o)) }
#define ORDER_FULL(o, s) { .label = s, .value = o, .items = (double)(1u << (o)), .full_only = 1 }
/* As buddy's order case: 0, 3, 9 and 10 in every profile, the rest in
 * --profile full or with a --filter that names them. */
static const hp_param_t page_orders[] = {
	ORDER(0, "0"), ORDER_FULL(1, "1"), ORDER_FULL(2, "2"), ORDER(3, "3"), ORDER_FULL(4, "4"),
	ORDER_FULL(5, "5"), ORDER_FULL(6, "6"), ORDER_FULL(7, "7"), ORDER_FULL(8, "8"), ORDER(9, "9"),
	ORDER(10, "10"), { .label = NULL },
};
#undef ORDER
#undef ORDER_FULL

static void page_alloc_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const hp_kp_ops_t *ops = KOPS(ctx);
	unsigned order = (unsigned)ctx->p->value;
	void *where = NULL;

	for (uint64_t i = 0; i < n; i++) {
		int err = ops->page_alloc(order, &where);

		if (err) {
			skip_err(st, "page_alloc: mmap/populate", err);
			return;
		}
		hp_do_not_optimize(where);
	}
	hp_add_items(st, (double)n * ctx->p->items);
}

static const hp_case_t case_page_alloc = {
	.name = "page_alloc",
	.desc = "page-fault path, not the page allocator alone: mmap + MADV_POPULATE_WRITE (fault, zero, map) + munmap (unmap, TLB flush) of 2^order 4 KiB pages, no THP",
	.op_unit = "call",
	.item_unit = "page",
	.param_name = "order",
	.params = page_orders,
	.run = page_alloc_run,
	.variants = kernel_variants,
};

/* ------------------------------------------------------------------ */
/* ctx_switch                                                          */
/* ------------------------------------------------------------------ */

enum { SAME_CPU, CROSS_CPU };

static const hp_param_t ctx_placements[] = {
	{ .label = "same_cpu", .value = SAME_CPU, .items = 2, .min_cpus = 1 },
	{ .label = "cross_cpu", .value = CROSS_CPU, .items = 2, .min_cpus = 2 },
	{ .label = NULL },
};

/* One partner per measured thread (the runner uses one thread here). */
typedef struct ctxsw {
	int n;
	char err[160];          /* set when setup failed; run() skips with it */
	hp_kp_pingpong_t pp[];
} ctxsw_t;

/* The partner's CPU: the thread's own, or the first selected CPU that is
 * not (all_cpus[1] for thread 0 on all_cpus[0]). */
static int partner_cpu(const hp_ctx_t *ctx, int i)
{
	int own = ctx->cpus[i];

	if (ctx->p->value == SAME_CPU)
		return own;
	for (int k = 0; k < ctx->ncpus; k++)
		if (ctx->all_cpus[k] != own)
			return ctx->all_cpus[k];
	return -1;
}

static void *ctxsw_setup(hp_ctx_t *ctx)
{
	const hp_kp_ops_t *ops = KOPS(ctx);
	int threads = ctx->threads > 0 ? ctx->threads : 1;
	ctxsw_t *d = calloc(1, sizeof(*d) + (size_t)threads * sizeof(d->pp[0]));

	if (!d)
		return NULL;
	for (int i = 0; i < threads; i++) {
		int cpu = partner_cpu(ctx, i), err;

		if (cpu < 0) {
			snprintf(d->err, sizeof(d->err),
				 "ctx_switch: cross_cpu needs a selected CPU other than %d",
				 ctx->cpus[i]);
			break;
		}
		err = ops->pingpong_start(&d->pp[i], cpu, ctx->bind_cpu);
		if (err) {
			snprintf(d->err, sizeof(d->err), "ctx_switch: partner on CPU %d: %s", cpu,
				 strerror(-err));
			break;
		}
		d->n++;
	}
	return d;
}

static void ctxsw_teardown(hp_ctx_t *ctx, void *data)
{
	ctxsw_t *d = data;

	if (!d)
		return;
	for (int i = 0; i < d->n; i++)
		KOPS(ctx)->pingpong_stop(&d->pp[i]);
	free(d);
}

static void ctxsw_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	ctxsw_t *d = ctx->data;
	int err;

	if (!d) {
		hp_skip(st, "ctx_switch: out of memory in setup");
		return;
	}
	if (d->err[0]) {
		hp_skip(st, d->err);
		return;
	}
	if (st->thread_index >= d->n) {
		hp_skip(st, "ctx_switch: no partner for this thread");
		return;
	}
	err = KOPS(ctx)->pingpong(&d->pp[st->thread_index], n);
	if (err) {
		skip_err(st, "ctx_switch: ping-pong", err);
		return;
	}
	hp_add_items(st, (double)n * ctx->p->items);
}

static const hp_case_t case_ctx_switch = {
	.name = "ctx_switch",
	.desc = "pipe ping-pong with a partner process (perf bench sched pipe)",
	.op_unit = "round_trip",
	.item_unit = "switch",
	.param_name = "placement",
	.params = ctx_placements,
	.setup = ctxsw_setup,
	.teardown = ctxsw_teardown,
	.run = ctxsw_run,
	.variants = kernel_variants,
};

/* ------------------------------------------------------------------ */
/* signal                                                              */
/* ------------------------------------------------------------------ */

/* Non-NULL data means the handler is installed. */
static void *signal_setup(hp_ctx_t *ctx)
{
	static int installed;   /* a non-NULL token; the address is all that matters */

	return KOPS(ctx)->signal_install() == 0 ? &installed : NULL;
}

static void signal_teardown(hp_ctx_t *ctx, void *data)
{
	if (data)
		KOPS(ctx)->signal_restore();
}

static void signal_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	uint64_t ran;

	if (!ctx->data) {
		hp_skip(st, "signal: cannot install the " HP_KP_SIGNAL_NAME " handler");
		return;
	}
	ran = KOPS(ctx)->signal_self(n);
	if (ran != n) {
		char *m = skip_buf(st);

		snprintf(m, sizeof(skip_msgs[0]),
			 "signal: handler ran %llu times for %llu signals (" HP_KP_SIGNAL_NAME
			 " blocked in this thread?)", (unsigned long long)ran, (unsigned long long)n);
		hp_skip(st, m);
	}
}

static const hp_case_t case_signal = {
	.name = "signal",
	.desc = "tgkill SIGUSR1 to oneself, delivered on syscall exit",
	.op_unit = "signal",
	.setup = signal_setup,
	.teardown = signal_teardown,
	.run = signal_run,
	.variants = kernel_variants,
};

/* ------------------------------------------------------------------ */
/* Suite                                                               */
/* ------------------------------------------------------------------ */

static const hp_case_t *const kernel_cases[] = {
	&case_syscall, &case_minor_fault, &case_page_alloc, &case_ctx_switch, &case_signal, NULL,
};

const hp_suite_t hp_suite_kernel = {
	.name = "kernel",
	.desc = "the running kernel's hot paths, measured from user space",
	.doc = "docs/suites/kernel.md",
	.cases = kernel_cases,
};
