/* buddy.c — suite "buddy": the page allocator of impl/buddy against aligned allocation in malloc libraries and the kernel's page-fault path.
 *
 * Cases pcp_hit, pcp_miss, order, aligned, trace and pcp_tune, every
 * variant called through hp_mem_ops_t; trace also records the zone's
 * fragmentation over the trace as counters, drawn by buddy-trace-frag;
 * pcp_tune runs the 6.6 and 6.7 pcp generations on a free-heavy trace and
 * records zone->lock acquisitions per op. The variants do not all do the
 * same work: `kernel-fault-path` maps, faults in, zeroes and unmaps pages
 * (see its adapter). Documented in docs/suites/buddy.md.
 */
#include "bench_skip.h"
#include "hp.h"
#include "hp_compiler.h"
#include "plot.h"
#include "record.h"
#include "memops.h"
#include "malloc_variants.h"
#include "probes.h"
#include "buddy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  /* Linux 5.14 */
#endif

/* ------------------------------------------------------------------ */
/* impl adapters: a zone per job, a pcp per measured thread            */
/* ------------------------------------------------------------------ */

static hp_buddy_zone_t *g_zone;   /* the job's zone (jobs run one at a time) */
static __thread int t_cpu;        /* pcp index: the measured thread's index */

static void *impl_alloc_pages(unsigned order)
{
	return hp_buddy_get_free_pages_cpu(g_zone, t_cpu, HP_GFP_MOVABLE, order);
}

static void impl_free_pages(void *p, unsigned order)
{
	hp_buddy_free_pages_addr_cpu(g_zone, t_cpu, p, order);
}

static void *impl_locked_alloc_pages(unsigned order)
{
	return hp_buddy_get_free_pages(g_zone, HP_GFP_MOVABLE, order);
}

static void impl_locked_free_pages(void *p, unsigned order)
{
	hp_buddy_free_pages_addr(g_zone, p, order);
}

/* an impl variant's ops: the calls, and the pcp generation of its zone */
typedef struct impl_ops {
	hp_mem_ops_t mem;             /* first: MEM(ctx) reads it */
	hp_buddy_pcp_gen_t gen;
} impl_ops_t;

static const impl_ops_t impl_ops = {
	.mem = { .name = "buddy", .alloc_pages = impl_alloc_pages, .free_pages = impl_free_pages },
	.gen = HP_BUDDY_PCP_GEN_6_6,
};
static const impl_ops_t impl67_ops = {
	.mem = { .name = "buddy-6.7", .alloc_pages = impl_alloc_pages, .free_pages = impl_free_pages },
	.gen = HP_BUDDY_PCP_GEN_6_7,
};
/* impl-inline calls hp_buddy_pcp_alloc_inline / _free_inline in its own
 * loop (inline_pair_run); these adapters are never called by it */
static const impl_ops_t impl_inline_ops = {
	.mem = { .name = "buddy-inline", .alloc_pages = impl_alloc_pages, .free_pages = impl_free_pages },
	.gen = HP_BUDDY_PCP_GEN_6_6,
};
static const impl_ops_t impl_locked_ops = {
	.mem = { .name = "buddy_locked", .alloc_pages = impl_locked_alloc_pages, .free_pages = impl_locked_free_pages },
	.gen = HP_BUDDY_PCP_GEN_6_6,
};

/* ------------------------------------------------------------------ */
/* kernel-fault-path adapter: what the page_alloc probe does, in two   */
/* ------------------------------------------------------------------ */

/* Not the kernel's page allocator: user space cannot call alloc_pages().
 * This is the anonymous page-fault path that ends in it: mmap (a VMA),
 * MADV_POPULATE_WRITE (one fault per page: an order-0 page from the pcp,
 * zeroed, a PTE and page-table pages), munmap (unmap, free to the pcp, TLB
 * flush). Far more work than a pcp pop and push; no ratio against impl is
 * a statement about the allocators. */

static int populate_by_touch;     /* the kernel predates MADV_POPULATE_WRITE */

/* mmap + MADV_NOHUGEPAGE + populate: 2^order order-0 pages from the
 * kernel's pcp lists, zeroed and mapped (hp_kp_page_alloc without munmap) */
static void *kern_alloc_pages(unsigned order)
{
	size_t len = HP_PAGE_SIZE << order;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_NOHUGEPAGE) != 0)
		goto fail;
	if (!populate_by_touch) {
		if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
			return p;
		if (errno != EINVAL)
			goto fail;
		populate_by_touch = 1;
	}
	for (size_t off = 0; off < len; off += HP_PAGE_SIZE)
		((volatile unsigned char *)p)[off] = 1;
	return p;
fail:
	munmap(p, len);
	return NULL;
}

static void kern_free_pages(void *p, unsigned order)
{
	munmap(p, HP_PAGE_SIZE << order);
}

static const hp_mem_ops_t kern_ops = {
	.name = "kernel-fault-path", .alloc_pages = kern_alloc_pages, .free_pages = kern_free_pages,
};

/* ------------------------------------------------------------------ */
/* Variants                                                            */
/* ------------------------------------------------------------------ */

static const char *kern_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_kp_available();
}

/* impl: pinned pcp, 6.6 rules; impl-6.7: the same with 6.7's pcp->high
 * auto-tuning; impl_locked: sched_getcpu() + the pcp trylock, 6.6 rules;
 * kernel-fault-path: mmap + populate + munmap (above). */
/* the page-fault path's work class: equal to no other variant's */
#define WORK_FAULT_PATH "syscalls+page-faults"
/* impl-inline's: an inlined pcp pop and push with the pcp bound at setup,
 * the same shape as slub's pair/impl-pinned ("inline-fixed-cache"); no
 * other variant of pcp_hit does that work, so no "vs impl" ratio */
#define WORK_INLINE_PCP "inline-fixed-pcp"

static const hp_variant_t v_impl = {
	.name = "impl", .kind = HP_KIND_IMPL, .ops = &impl_ops, .work_class = HP_WORK_PAGES,
	.work = "alloc_pages/free_pages out of line: the caller's pcp without a lock (6.6 rules), "
		"page descriptor set up on alloc and checked on free",
};
static const hp_variant_t v_impl67 = {
	.name = "impl-6.7", .kind = HP_KIND_IMPL, .ops = &impl67_ops, .work_class = HP_WORK_PAGES,
	.work = "as impl, with 6.7's pcp->high auto-tuning: its bookkeeping on every free",
};
static const hp_variant_t v_impl_inline = {
	.name = "impl-inline", .kind = HP_KIND_IMPL, .ops = &impl_inline_ops, .work_class = WORK_INLINE_PCP,
	.work = "inline alloc_pages(0)+__free_pages, 6.6: pcp bound at setup, no call, no argument checks; keeps the "
		"watermark, pageblock mt, refcount drop, high test (equal work only to inline variants: slub "
		"pair/impl-pinned)",
};
static const hp_variant_t v_impl_locked = {
	.name = "impl_locked", .kind = HP_KIND_IMPL, .ops = &impl_locked_ops, .work_class = HP_WORK_PAGES,
	.work = "as impl, plus sched_getcpu() and the pcp spinlock (trylock, else the zone), as 6.6",
};
static const hp_variant_t v_kernel = {
	.name = "kernel-fault-path", .kind = HP_KIND_KERNEL, .available = kern_available, .ops = &kern_ops,
	.work_class = WORK_FAULT_PATH,
	.work = "not the page allocator: mmap + MADV_POPULATE_WRITE (a fault per page: a pcp page, zeroed, "
		"mapped) + munmap (unmap, free, TLB flush)",
};

#define MEM(ctx) ((const hp_mem_ops_t *)(ctx)->v->ops)
/* every impl variant's ops is an impl_ops_t; no other variant is IMPL */
#define IS_IMPL(ctx) ((ctx)->v->kind == HP_KIND_IMPL)
#define GEN(ctx) (((const impl_ops_t *)(ctx)->v->ops)->gen)

/* ------------------------------------------------------------------ */
/* Seeded trace                                                        */
/* ------------------------------------------------------------------ */

#define TRACE_ZONE_BYTES ((size_t)64 << 20)
#define TRACE_OPS 32768           /* allocation phase; then everything is freed */
#define TRACE_SLOTS 4096
#define NSAMPLES 32
static const unsigned frag_orders[] = { 3, 6, 9, 10 };
#define NFRAG (sizeof frag_orders / sizeof frag_orders[0])

typedef struct top {
	uint16_t slot;
	uint8_t order;
	uint8_t alloc;                /* 1 alloc into slot, 0 free slot */
} top_t;

typedef struct sample {
	int unusable[NFRAG], extfrag[NFRAG];
	unsigned long free_pages;
} sample_t;

typedef struct trace {
	top_t *ops;
	size_t len;                   /* all ops, the final frees included */
	size_t main_len;              /* the allocation phase */
	sample_t samples[NSAMPLES];   /* impl only */
	uint64_t failed;              /* impl: allocations refused over the trace */
	void **slot;                  /* live blocks while running */
	uint8_t *slot_order;          /* and their orders */
} trace_t;

/* a draw in [0, n) from the trace's xoshiro256** (hp_rand.h) */
#define XO_BELOW(r, n) ((unsigned)hp_xoshiro_below((r), (n)))

/* Orders skewed to small, as page-allocator traffic is: 60% order 0, a
 * tail up to order 10 (1 in 200). */
static unsigned pick_order(hp_xoshiro_t *r)
{
	unsigned x = XO_BELOW(r, 1000);
	if (x < 600) return 0;
	if (x < 750) return 1;
	if (x < 830) return 2;
	if (x < 900) return 3;
	if (x < 970) return 4 + XO_BELOW(r, 3);
	if (x < 995) return 7 + XO_BELOW(r, 3);
	return 10;
}

/* The allocation phase: live memory follows a triangle wave between 25%
 * and 90% of the zone (two periods); frees pick a random live block. One
 * order-0 allocation in two is long-lived (freed only at the end, up to
 * 1/5 of the zone), as unmovable kernel pages are: they pin the blocks
 * around them and fragment the zone as the wave goes down and up again. */
static trace_t *trace_make(uint64_t seed)
{
	trace_t *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->ops = calloc(TRACE_OPS + TRACE_SLOTS, sizeof *t->ops);
	t->slot = calloc(TRACE_SLOTS, sizeof *t->slot);
	t->slot_order = calloc(TRACE_SLOTS, 1);
	uint8_t *order = calloc(TRACE_SLOTS, 1);
	uint16_t *free_slots = calloc(TRACE_SLOTS, sizeof *free_slots);
	uint16_t *live_slots = calloc(TRACE_SLOTS, sizeof *live_slots);
	uint16_t *sticky_slots = calloc(TRACE_SLOTS, sizeof *sticky_slots);
	if (!t->ops || !t->slot || !t->slot_order || !order || !free_slots || !live_slots || !sticky_slots) {
		free(order); free(free_slots); free(live_slots); free(sticky_slots);
		free(t->ops); free(t->slot); free(t->slot_order); free(t);
		return NULL;
	}
	hp_xoshiro_t r;
	hp_xoshiro_seed(&r, seed);
	const unsigned long zone_pages = TRACE_ZONE_BYTES / HP_PAGE_SIZE;
	const unsigned long lo = zone_pages / 4, hi = zone_pages * 9 / 10, sticky_max = zone_pages / 5;
	unsigned long live_pages = 0;
	int nfree = TRACE_SLOTS, nlive = 0, nsticky = 0;
	for (int i = 0; i < TRACE_SLOTS; i++)
		free_slots[i] = (uint16_t)(TRACE_SLOTS - 1 - i);
	size_t n = 0;
	for (size_t i = 0; i < TRACE_OPS; i++) {
		size_t ph = i % (TRACE_OPS / 2), half = TRACE_OPS / 4;
		unsigned long target = lo + (hi - lo) * (ph < half ? ph : 2 * half - ph) / half;
		int want_alloc = live_pages < target ? XO_BELOW(&r, 10) < 7 : XO_BELOW(&r, 10) < 3;
		unsigned o = pick_order(&r);
		if (want_alloc && nfree && live_pages + (1UL << o) <= hi) {
			uint16_t s = free_slots[--nfree];
			order[s] = (uint8_t)o;
			if (o == 0 && (unsigned long)nsticky < sticky_max && XO_BELOW(&r, 2) == 0)
				sticky_slots[nsticky++] = s;
			else
				live_slots[nlive++] = s;
			live_pages += 1UL << o;
			t->ops[n++] = (top_t){ .slot = s, .order = (uint8_t)o, .alloc = 1 };
		} else if (nlive) {
			int k = (int)XO_BELOW(&r, (unsigned)nlive);
			uint16_t s = live_slots[k];
			live_slots[k] = live_slots[--nlive];
			free_slots[nfree++] = s;
			live_pages -= 1UL << order[s];
			t->ops[n++] = (top_t){ .slot = s, .order = order[s], .alloc = 0 };
		}
	}
	t->main_len = n;
	while (nlive) {
		uint16_t s = live_slots[--nlive];
		t->ops[n++] = (top_t){ .slot = s, .order = order[s], .alloc = 0 };
	}
	while (nsticky) {
		uint16_t s = sticky_slots[--nsticky];
		t->ops[n++] = (top_t){ .slot = s, .order = 0, .alloc = 0 };
	}
	t->len = n;
	free(order); free(free_slots); free(live_slots); free(sticky_slots);
	return t;
}

static void trace_free(trace_t *t)
{
	if (!t)
		return;
	free(t->ops);
	free(t->slot);
	free(t->slot_order);
	free(t);
}

/* One op; a failed allocation leaves its slot empty, and its free is then
 * skipped. Returns 0 when an allocation failed. */
static inline int trace_step(const hp_mem_ops_t *ops, trace_t *t, size_t i)
{
	top_t op = t->ops[i];
	if (op.alloc) {
		void *p = ops->alloc_pages(op.order);
		hp_do_not_optimize(p);
		t->slot[op.slot] = p;
		t->slot_order[op.slot] = op.order;
		return p != NULL;
	}
	if (t->slot[op.slot]) {
		ops->free_pages(t->slot[op.slot], op.order);
		t->slot[op.slot] = NULL;
	}
	return 1;
}

/* Frees what a batch that stopped mid-trace left allocated. */
static void trace_release(const hp_mem_ops_t *ops, trace_t *t)
{
	for (size_t s = 0; s < TRACE_SLOTS; s++)
		if (t->slot[s]) {
			ops->free_pages(t->slot[s], t->slot_order[s]);
			t->slot[s] = NULL;
		}
}

/* ------------------------------------------------------------------ */
/* Set-up shared by the cases                                          */
/* ------------------------------------------------------------------ */

typedef struct bench {
	trace_t *trace;
	char err[200];                /* set-up failure: run() skips with it */
} bench_t;

static hp_buddy_zone_t *make_zone(const hp_ctx_t *ctx, int pcp_off, size_t bytes, char *err, size_t errlen)
{
	hp_buddy_config_t cfg = {
		.arena_bytes = bytes,
		/* a pcp per selected CPU, as many as measured threads at least */
		.ncpus = ctx->ncpus > ctx->threads ? ctx->ncpus : ctx->threads,
		.pcp_mode = pcp_off ? HP_BUDDY_PCP_OFF : HP_BUDDY_PCP_KERNEL,
		.pcp_gen = GEN(ctx),
	};
	return hp_buddy_create(&cfg, err, errlen);
}

/* Replays the whole trace on the job's fresh zone, sampling the
 * fragmentation indices: the figures depend on the seed alone. */
static void trace_sample(trace_t *t)
{
	size_t next = 0;
	t->failed = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (!trace_step(&impl_ops.mem, t, i))
			t->failed++;
		if (next < NSAMPLES && i + 1 == (next + 1) * t->main_len / NSAMPLES) {
			sample_t *s = &t->samples[next++];
			for (size_t k = 0; k < NFRAG; k++) {
				s->unusable[k] = hp_buddy_unusable_index(g_zone, frag_orders[k]);
				s->extfrag[k] = hp_buddy_extfrag_index(g_zone, frag_orders[k]);
			}
			s->free_pages = hp_buddy_free_pages_count(g_zone);
		}
	}
}

/* The job of every case: for impl a fresh zone (its pcp switched off for
 * pcp_miss), and the trace for the trace case. A failure is kept in b->err
 * for run() to skip with. */
static void *job_setup(hp_ctx_t *ctx, int pcp_off, int with_trace)
{
	bench_t *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	t_cpu = 0;
	if (with_trace) {
		b->trace = trace_make(ctx->seed);
		if (!b->trace) {
			snprintf(b->err, sizeof b->err, "trace: out of memory");
			return b;
		}
	}
	if (IS_IMPL(ctx)) {
		size_t bytes = b->trace ? TRACE_ZONE_BYTES : 0;   /* 0: the 1 GiB default */
		char err[160];
		g_zone = make_zone(ctx, pcp_off, bytes, err, sizeof err);
		if (!g_zone) {
			snprintf(b->err, sizeof b->err, "buddy zone: %s", err);
			return b;
		}
		if (b->trace)
			trace_sample(b->trace);
	}
	return b;
}

static void *bench_setup(hp_ctx_t *ctx) { return job_setup(ctx, 0, 0); }
static void *pcp_miss_setup(hp_ctx_t *ctx) { return job_setup(ctx, 1, 0); }
static void *trace_setup(hp_ctx_t *ctx) { return job_setup(ctx, 0, 1); }

static void bench_teardown(hp_ctx_t *ctx, void *data)
{
	bench_t *b = data;
	(void)ctx;
	if (g_zone) {
		hp_buddy_destroy(g_zone);
		g_zone = NULL;
	}
	if (b) {
		trace_free(b->trace);
		free(b);
	}
}

static int setup_failed(hp_state_t *st, const hp_ctx_t *ctx)
{
	const bench_t *b = ctx->data;
	if (b && !b->err[0])
		return 0;
	hp_skip(st, b ? b->err : "out of memory in setup");
	return 1;
}

/* the message is formatted per call (bench_skip.h): threads never share it */
static void skip_nomem(hp_state_t *st, const hp_ctx_t *ctx, unsigned order)
{
	bench_skipf(st, "%s: alloc_pages(order %u) failed", ctx->v->name, order);
}

/* ------------------------------------------------------------------ */
/* Pair cases: pcp_hit, pcp_miss, order                                */
/* ------------------------------------------------------------------ */

/* impl-inline: the pair inlined here, on this thread's pcp bound once */
static void inline_pair_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	hp_buddy_pcp_ref_t ref;
	char err[128];
	if (hp_buddy_pcp_bind(g_zone, st->thread_index, HP_GFP_MOVABLE, &ref, err, sizeof err) != 0) {
		bench_skipf(st, "impl-inline: %s", err);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		hp_page_t *p = hp_buddy_pcp_alloc_inline(&ref);
		if (unlikely(!p)) {
			skip_nomem(st, ctx, 0);
			return;
		}
		hp_do_not_optimize(p);
		hp_buddy_pcp_free_inline(&ref, p);
	}
	hp_add_items(st, (double)n);
}

static void pair_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	if (setup_failed(st, ctx))
		return;
	if (ctx->v == &v_impl_inline) {
		inline_pair_run(st, n, ctx);
		return;
	}
	const hp_mem_ops_t *ops = MEM(ctx);
	unsigned order = (unsigned)ctx->p->value;
	t_cpu = st->thread_index;
	for (uint64_t i = 0; i < n; i++) {
		void *p = ops->alloc_pages(order);
		if (unlikely(!p)) {
			skip_nomem(st, ctx, order);
			return;
		}
		hp_do_not_optimize(p);
		ops->free_pages(p, order);
	}
	hp_add_items(st, (double)n * (double)(1u << order));
}

static const hp_variant_t *const hit_variants[] = {
	&v_impl, &v_impl67, &v_impl_locked, &v_impl_inline, HP_MALLOC_PAGE_VARIANTS, &v_kernel, NULL,
};

static const hp_case_t case_pcp_hit = {
	.name = "pcp_hit",
	.desc = "order-0 alloc+free through the per-CPU page lists, 1..N threads (kernel-fault-path: mmap+fault+munmap, not equal work)",
	.op_unit = "pair",
	.thread_sweep = 1,
	.setup = bench_setup,
	.teardown = bench_teardown,
	.run = pair_run,
	.variants = hit_variants,
};

static const hp_variant_t *const miss_variants[] = { &v_impl, NULL };

static const hp_case_t case_pcp_miss = {
	.name = "pcp_miss",
	.desc = "order-0 alloc+free with the pcp off: zone->lock, split and merge",
	.op_unit = "pair",
	.setup = pcp_miss_setup,
	.teardown = bench_teardown,
	.run = pair_run,
	.variants = miss_variants,
};

#define ORDER(o, s) { .label = s, .value = o, .items = (double)(1u << (o)) }
#define ORDER_FULL(o, s) { .label = s, .value = o, .items = (double)(1u << (o)), .full_only = 1 }
/* The quick profile keeps order 0 and 3 (the pcp orders' ends), 9 (the
 * pageblock) and 10 (MAX_ORDER); the other seven run in --profile full or
 * with a --filter that names them (the default run must stay near 5 min). */
static const hp_param_t orders[] = {
	ORDER(0, "0"), ORDER_FULL(1, "1"), ORDER_FULL(2, "2"), ORDER(3, "3"), ORDER_FULL(4, "4"),
	ORDER_FULL(5, "5"), ORDER_FULL(6, "6"), ORDER_FULL(7, "7"), ORDER_FULL(8, "8"), ORDER(9, "9"),
	ORDER(10, "10"), { .label = NULL },
};
#undef ORDER
#undef ORDER_FULL

static const hp_variant_t *const order_variants[] = { &v_impl, &v_kernel, NULL };

static const hp_case_t case_order = {
	.name = "order",
	.desc = "alloc+free of 2^order pages, order 0..10",
	.op_unit = "pair",
	.item_unit = "page",
	.param_name = "order",
	.params = orders,
	.setup = bench_setup,
	.teardown = bench_teardown,
	.run = pair_run,
	.variants = order_variants,
};

/* The mallocs at two sizes only (order 0 is in pcp_hit): 11 orders of 5
 * allocators would be 55 more benchmarks, a minute of the quick profile. */
static const hp_param_t aligned_orders[] = {
	{ .label = "3", .value = 3, .items = 8 },
	{ .label = "10", .value = 10, .items = 1024 },
	{ .label = NULL },
};

static const hp_variant_t *const aligned_variants[] = {
	&v_impl, HP_MALLOC_PAGE_VARIANTS, NULL,
};

static const hp_case_t case_aligned = {
	.name = "aligned",
	.desc = "alloc+free of 2^order pages vs posix_memalign of the same size and alignment",
	.op_unit = "pair",
	.item_unit = "page",
	.param_name = "order",
	.params = aligned_orders,
	.setup = bench_setup,
	.teardown = bench_teardown,
	.run = pair_run,
	.variants = aligned_variants,
};

static const hp_variant_t *const all_variants[] = {
	&v_impl, HP_MALLOC_PAGE_VARIANTS, &v_kernel, NULL,
};

/* ------------------------------------------------------------------ */
/* trace                                                               */
/* ------------------------------------------------------------------ */

static void trace_counters(hp_state_t *st, const trace_t *t)
{
	char name[48];
	for (int s = 0; s < NSAMPLES; s++) {
		const sample_t *sm = &t->samples[s];
		for (size_t k = 0; k < NFRAG; k++) {
			snprintf(name, sizeof name, "s%02d_unusable_o%u", s, frag_orders[k]);
			hp_counter(st, name, sm->unusable[k]);
			snprintf(name, sizeof name, "s%02d_extfrag_o%u", s, frag_orders[k]);
			hp_counter(st, name, sm->extfrag[k]);
		}
		snprintf(name, sizeof name, "s%02d_free_pages", s);
		hp_counter(st, name, (double)sm->free_pages);
	}
	hp_counter(st, "trace_failed_allocs", (double)t->failed);
}

static void trace_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	if (setup_failed(st, ctx))
		return;
	bench_t *b = ctx->data;
	trace_t *t = b->trace;
	const hp_mem_ops_t *ops = MEM(ctx);
	int impl = IS_IMPL(ctx);
	t_cpu = 0;
	if (impl) {
		/* every batch from a fresh zone: the same blocks, the same
		 * failures, the same instruction counts */
		char err[160];
		hp_pause(st);
		hp_buddy_destroy(g_zone);
		g_zone = make_zone(ctx, 0, TRACE_ZONE_BYTES, err, sizeof err);
		hp_resume(st);
		if (!g_zone) {
			bench_skipf(st, "buddy zone: %s", err);
			return;
		}
	}
	size_t pos = 0;
	for (uint64_t i = 0; i < n; i++) {
		trace_step(ops, t, pos);
		if (++pos == t->len)
			pos = 0;
	}
	hp_pause(st);
	trace_release(ops, t);
	if (impl)
		trace_counters(st, t);
	hp_resume(st);
}

static const hp_case_t case_trace = {
	.name = "trace",
	.desc = "seeded mixed-order alloc/free trace; impl records fragmentation over time",
	.op_unit = "op",
	.setup = trace_setup,
	.teardown = bench_teardown,
	.run = trace_run,
	.variants = all_variants,
};

/* ------------------------------------------------------------------ */
/* pcp_tune: a free-heavy burst trace on the 6.6 and 6.7 generations   */
/* ------------------------------------------------------------------ */

/* The kernel's rules on a 1 GiB zone split over TUNE_CPUS pcps: batch 63,
 * 6.6 high (and 6.7 high_min) 1286 / 4 = 321, 6.7 high_max 262144 / 8 / 4
 * = 8192. Fixed, not the run's CPU count, so the figures depend on the seed
 * alone. */
#define TUNE_CPUS 4
#define TUNE_OPS 49152            /* bursts are added until the trace has this many ops */
#define TUNE_BURST_MIN 128        /* pages allocated (then freed) per burst */
#define TUNE_BURST_MAX 1536
enum { TOP_FREE = 0, TOP_ALLOC = 1, TOP_TICK = 2 };

/* pcp_tune's trace is a trace_t (ops, len, slot, slot_order; no samples) */

/* Bursts: allocate 128..1536 pages (90% order 0, the rest orders 1..3),
 * then free them all in a shuffled order, as a task exiting or a network
 * burst completing frees what it took. After one burst in four the CPU
 * idles: a vmstat tick (decay_pcp_high in 6.7, nothing in 6.6). */
static trace_t *tune_make(uint64_t seed)
{
	trace_t *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	/* every burst is whole (all it allocates it frees), so the trace can
	 * wrap with nothing held: room for one more burst and a tick */
	t->ops = calloc(TUNE_OPS + 2 * TUNE_BURST_MAX + 1, sizeof *t->ops);
	t->slot = calloc(TRACE_SLOTS, sizeof *t->slot);
	t->slot_order = calloc(TRACE_SLOTS, 1);
	uint16_t *live = calloc(TRACE_SLOTS, sizeof *live);
	if (!t->ops || !t->slot || !t->slot_order || !live) {
		free(t->ops); free(t->slot); free(t->slot_order); free(live); free(t);
		return NULL;
	}
	hp_xoshiro_t r;
	hp_xoshiro_seed(&r, seed ^ 0x7075636e65ULL);
	size_t n = 0;
	while (n < TUNE_OPS) {
		unsigned target = TUNE_BURST_MIN + XO_BELOW(&r, TUNE_BURST_MAX - TUNE_BURST_MIN + 1), pages = 0;
		int nlive = 0;
		uint8_t order[TRACE_SLOTS];
		while (pages < target) {
			unsigned o = XO_BELOW(&r, 10) ? 0 : 1 + XO_BELOW(&r, HP_PAGE_ALLOC_COSTLY_ORDER);
			order[nlive] = (uint8_t)o;
			live[nlive] = (uint16_t)nlive;
			t->ops[n++] = (top_t){ .slot = (uint16_t)nlive, .order = (uint8_t)o, .alloc = TOP_ALLOC };
			nlive++;
			pages += 1u << o;
		}
		while (nlive) {
			int k = (int)XO_BELOW(&r, (unsigned)nlive);
			uint16_t sl = live[k];
			live[k] = live[--nlive];
			t->ops[n++] = (top_t){ .slot = sl, .order = order[sl], .alloc = TOP_FREE };
		}
		if (XO_BELOW(&r, 4) == 0)
			t->ops[n++] = (top_t){ .alloc = TOP_TICK };
	}
	t->len = n;
	free(live);
	return t;
}

typedef struct tune_bench {
	trace_t *t;
	hp_buddy_pcp_gen_t gen;
	char err[200];
} tune_bench_t;

static hp_buddy_zone_t *tune_zone(hp_buddy_pcp_gen_t gen, char *err, size_t errlen)
{
	hp_buddy_config_t cfg = { .ncpus = TUNE_CPUS, .pcp_gen = gen };
	return hp_buddy_create(&cfg, err, errlen);
}

static void *tune_setup(hp_ctx_t *ctx)
{
	tune_bench_t *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->gen = GEN(ctx);
	b->t = tune_make(ctx->seed);
	if (!b->t)
		snprintf(b->err, sizeof b->err, "pcp_tune trace: out of memory");
	return b;
}

static void tune_teardown(hp_ctx_t *ctx, void *data)
{
	tune_bench_t *b = data;
	(void)ctx;
	if (g_zone) {
		hp_buddy_destroy(g_zone);
		g_zone = NULL;
	}
	if (b) {
		trace_free(b->t);
		free(b);
	}
}

static void tune_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	tune_bench_t *b = ctx->data;
	if (!b || b->err[0]) {
		hp_skip(st, b ? b->err : "out of memory in setup");
		return;
	}
	trace_t *t = b->t;
	char err[160];
	/* every batch from a fresh zone, as in trace: the same work each time */
	hp_pause(st);
	hp_buddy_destroy(g_zone);
	g_zone = tune_zone(b->gen, err, sizeof err);
	hp_resume(st);
	if (!g_zone) {
		bench_skipf(st, "buddy zone: %s", err);
		return;
	}
	hp_buddy_zone_t *z = g_zone;
	size_t pos = 0;
	for (uint64_t i = 0; i < n; i++) {
		top_t op = t->ops[pos];
		if (op.alloc == TOP_ALLOC) {
			void *p = hp_buddy_get_free_pages_cpu(z, 0, HP_GFP_MOVABLE, op.order);
			if (unlikely(!p)) {
				bench_skipf(st, "%s: alloc_pages(order %u) failed", ctx->v->name, op.order);
				return;
			}
			t->slot[op.slot] = p;
			t->slot_order[op.slot] = op.order;
		} else if (op.alloc == TOP_FREE) {
			hp_buddy_free_pages_addr_cpu(z, 0, t->slot[op.slot], op.order);
			t->slot[op.slot] = NULL;
		} else {
			hp_buddy_pcp_decay(z, 0);
		}
		if (++pos == t->len)
			pos = 0;
	}
	hp_pause(st);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	/* what a batch that stopped mid-burst holds */
	for (size_t sl = 0; sl < TRACE_SLOTS; sl++)
		if (t->slot[sl]) {
			hp_buddy_free_pages_addr_cpu(z, 0, t->slot[sl], t->slot_order[sl]);
			t->slot[sl] = NULL;
		}
	/* per op of the batch: the lock the pcp exists to avoid */
	hp_counter(st, "zone_lock_per_op", (double)s.zone_lock_acquisitions / (double)n);
	hp_resume(st);
}

static const hp_variant_t *const tune_variants[] = { &v_impl, &v_impl67, NULL };

static const hp_case_t case_pcp_tune = {
	.name = "pcp_tune",
	.desc = "free-heavy burst trace (orders 0..3, vmstat ticks): 6.6 fixed pcp high vs 6.7 auto-tuned; zone_lock_per_op",
	.op_unit = "op",
	.setup = tune_setup,
	.teardown = tune_teardown,
	.run = tune_run,
	.variants = tune_variants,
};

/* ------------------------------------------------------------------ */
/* The fragmentation plot (buddy-trace-frag)                           */
/* ------------------------------------------------------------------ */

/* The first value of a counter of the impl trace (every repetition holds
 * the same, they depend on the seed alone); NAN when absent. */
static double trace_counter(const hp_bench_set_t *r, const char *metric)
{
	for (size_t i = 0; i < r->n; i++) {
		const hp_bench_vals_t *x = &r->b[i];
		if (!strcmp(x->suite, "buddy") && !strcmp(x->case_, "trace") && !strcmp(x->kind, "impl") &&
		    !strcmp(x->metric, metric) && x->n)
			return x->v[0];
	}
	return NAN;
}

/* One row of the .dat per sample of the trace: position, the unusable and
 * extfrag indices at each order, the free fraction. Returns the rows. */
static int frag_rows(FILE *f, const hp_bench_set_t *r)
{
	static const char *const kinds[] = { "unusable", "extfrag" };
	char name[48];
	int rows = 0;

	for (int s = 0; s < NSAMPLES; s++) {
		snprintf(name, sizeof name, "s%02d_free_pages", s);
		double freep = trace_counter(r, name);
		if (isnan(freep))
			continue;
		fprintf(f, "%d %.4f", s, (s + 1.0) / NSAMPLES);
		for (int k = 0; k < 2; k++)
			for (size_t o = 0; o < NFRAG; o++) {
				snprintf(name, sizeof name, "s%02d_%s_o%u", s, kinds[k], frag_orders[o]);
				double v = trace_counter(r, name);
				/* extfrag -1000: the order was free; no point to draw */
				if (isnan(v) || v < 0)
					fprintf(f, " NaN");
				else
					fprintf(f, " %.3f", v / 1000);
			}
		fprintf(f, " %.4f\n", freep / (TRACE_ZONE_BYTES / HP_PAGE_SIZE));
		rows++;
	}
	return rows;
}

static int buddy_plot_frag(const char *plotdir, const hp_bench_set_t *r, const char *tdir, char *err, size_t errlen)
{
	char path[4096], tmpl[4096], *d = NULL;
	size_t len = 0;
	int rows;
	FILE *f;

	if (isnan(trace_counter(r, "s00_free_pages")))
		return 0;
	f = open_memstream(&d, &len);
	if (!f) {
		snprintf(err, errlen, "buddy plot: out of memory");
		return -1;
	}
	fprintf(f, "# hotpath buddy: fragmentation of the impl zone along the seeded trace (x1000 indices as 0..1)\n"
		"# sample position unusable_o3 unusable_o6 unusable_o9 unusable_o10 extfrag_o3 extfrag_o6"
		" extfrag_o9 extfrag_o10 free_fraction\n");
	rows = frag_rows(f, r);
	if (fclose(f) != 0 || !d) {
		free(d);
		snprintf(err, errlen, "buddy plot: out of memory");
		return -1;
	}
	snprintf(path, sizeof path, "%s/buddy-trace-frag.dat", plotdir);
	if (hp_write_atomic(path, d, len) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(d);
		return -1;
	}
	free(d);
	if (!rows)
		return 0;
	snprintf(tmpl, sizeof tmpl, "%s/buddy_frag.gp", tdir);
	return hp_plot_render(plotdir, "buddy-trace-frag", tmpl,
			      "title='buddy: fragmentation along the trace (impl)'", err, errlen) < 0 ? -1 : 1;
}

static const hp_plot_fn buddy_plots[] = { buddy_plot_frag, NULL };

/* ------------------------------------------------------------------ */
/* Suite                                                               */
/* ------------------------------------------------------------------ */

static const hp_case_t *const buddy_cases[] = {
	&case_pcp_hit, &case_pcp_miss, &case_order, &case_aligned, &case_trace, &case_pcp_tune, NULL,
};

const hp_suite_t hp_suite_buddy = {
	.name = "buddy",
	.desc = "buddy page allocator (Linux 6.6 mm/page_alloc.c, 6.7 pcp tuning) vs aligned malloc and the kernel's page-fault path",
	.doc = "docs/suites/buddy.md",
	.cases = buddy_cases,
	.plots = buddy_plots,
};
