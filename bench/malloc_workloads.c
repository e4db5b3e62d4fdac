/* malloc_workloads.c — suite "malloc-workloads": allocator workloads of the kinds allocator papers use, under each malloc.
 *
 * Every variant is the process's malloc in a child process (glibc as is;
 * jemalloc, mimalloc, tcmalloc_minimal and libhotpath-malloc.so through
 * LD_PRELOAD, baselines/malloc/malloc_variants.h), so each child's peak RSS
 * (getrusage ru_maxrss, recorded per repetition as the counter
 * "peak_rss_kib") is that allocator's footprint on top of the same hotpath
 * binary. libhotpath-malloc.so is the variant under test here, so it is the
 * "impl" of this suite (summary ratios are to it); in the slub suite the
 * same library is a baseline next to the slub impl.
 *
 * The published programs' workloads (larson, xmalloc, cache_scratch,
 * cache_thrash) are in malloc_wl_orig.c, glibc's in malloc_wl_glibc.c,
 * mstress, rptest and alloc_test in malloc_wl_mstress.c, _rptest.c and
 * _alloctest.c. This file holds two symmetric
 * variants of them that stress remote frees in a way the originals do not:
 *
 * - larson_crossfree: each thread owns 4096 slots, initially
 *   filled by the main thread; one op frees a random slot's block and puts
 *   a new block of a random size (8..1000 bytes) there. One op in 8 swaps
 *   the new block with a shared exchange array instead, so blocks allocated
 *   by one thread are freed by another (the server handing a connection's
 *   buffers to another worker). Sizes and slots come from the seed.
 * - xmalloc_ring: thread i allocates a block (16..256 bytes), passes it on a
 *   single-producer single-consumer ring to thread i+1 (mod threads), and
 *   frees one block received from thread i-1. Nearly every free is a remote
 *   free when threads > 1; with one thread the ring is a FIFO delay line to
 *   itself. A thread whose outgoing ring is full frees the block itself (it
 *   never waits, so a neighbour between batches cannot stall it).
 *
 * Each block carries a header (its size and a cookie) and a tail byte,
 * checked when it is freed; a mismatch means the allocator handed out
 * overlapping or corrupted memory, and the child aborts with a message
 * (recorded as a failed run, never as a number).
 */
#include "malloc_wl.h"
#include "hp_malloc_config.h"
#include "hp_rand.h"

#include <stdatomic.h>

/* ------------------------------------------------------------------ */
/* larson                                                              */
/* ------------------------------------------------------------------ */

#define LARSON_SLOTS 4096u
#define LARSON_OPS 65536u       /* per-thread op sequence, cycled */
#define LARSON_XCHG 1024u       /* shared exchange slots */
#define LARSON_MIN 8u
#define LARSON_MAX 1000u

typedef struct larson_op {
	uint16_t slot;
	uint16_t size;
	uint16_t xchg;          /* exchange slot + 1, or 0 */
} larson_op_t;

typedef struct larson_thr {
	void *slot[LARSON_SLOTS];
	larson_op_t op[LARSON_OPS];
	uint64_t pos;
	uint64_t freed;         /* bytes freed by run(): the checksum */
	char pad[64];
} larson_thr_t;

typedef struct larson {
	int nthr;
	_Atomic(void *) xchg[LARSON_XCHG];
	larson_thr_t *thr;
} larson_t;

static void *larson_setup(hp_ctx_t *ctx)
{
	const hp_mem_ops_t *ops = WL_OPS(ctx);
	larson_t *l = calloc(1, sizeof *l);
	uint64_t s = ctx->seed ^ 0x1a750aull;

	if (!l)
		return NULL;
	l->nthr = wl_threads(ctx);
	l->thr = calloc((size_t)l->nthr, sizeof *l->thr);
	if (!l->thr) {
		free(l);
		return NULL;
	}
	for (int t = 0; t < l->nthr; t++) {
		larson_thr_t *th = &l->thr[t];

		for (unsigned i = 0; i < LARSON_OPS; i++) {
			uint64_t r = hp_splitmix64(&s);

			th->op[i].slot = (uint16_t)(r % LARSON_SLOTS);
			th->op[i].size = (uint16_t)(LARSON_MIN + (r >> 16) % (LARSON_MAX - LARSON_MIN + 1));
			th->op[i].xchg = ((r >> 32) & 7) == 0 ? (uint16_t)(1 + (r >> 40) % LARSON_XCHG) : 0;
		}
		for (unsigned i = 0; i < LARSON_SLOTS; i++)
			th->slot[i] = wl_block_new(ops, (uint32_t)(LARSON_MIN + hp_splitmix64(&s) % (LARSON_MAX - LARSON_MIN + 1)));
	}
	for (unsigned i = 0; i < LARSON_XCHG; i++)
		atomic_init(&l->xchg[i], wl_block_new(ops, LARSON_MIN + (uint32_t)(hp_splitmix64(&s) % 64)));
	return l;
}

static void larson_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const hp_mem_ops_t *ops = WL_OPS(ctx);
	larson_t *l = ctx->data;
	larson_thr_t *th = &l->thr[st->thread_index % l->nthr];
	uint64_t pos = th->pos;

	for (uint64_t i = 0; i < n; i++, pos++) {
		const larson_op_t *op = &th->op[pos % LARSON_OPS];
		void *b;

		th->freed += wl_block_free(ops, th->slot[op->slot], "larson");
		b = wl_block_new(ops, op->size);
		if (op->xchg)
			b = atomic_exchange_explicit(&l->xchg[op->xchg - 1], b, memory_order_acq_rel);
		th->slot[op->slot] = b;
	}
	th->pos = pos;
	wl_rss_counter(st);
}

static void larson_teardown(hp_ctx_t *ctx, void *data)
{
	const hp_mem_ops_t *ops = WL_OPS(ctx);
	larson_t *l = data;

	for (int t = 0; t < l->nthr; t++)
		for (unsigned i = 0; i < LARSON_SLOTS; i++)
			wl_block_free(ops, l->thr[t].slot[i], "larson teardown");
	for (unsigned i = 0; i < LARSON_XCHG; i++)
		wl_block_free(ops, atomic_load(&l->xchg[i]), "larson teardown");
	free(l->thr);
	free(l);
}

/* ------------------------------------------------------------------ */
/* xmalloc: producer/consumer rings                                    */
/* ------------------------------------------------------------------ */

#define XM_RING 1024u           /* power of two */
#define XM_SIZES 4096u
#define XM_MIN 16u
#define XM_MAX 256u

/* One single-producer single-consumer ring; head and tail on their own
 * cache lines so the ring itself does not false-share. */
typedef struct xm_ring {
	_Alignas(64) _Atomic uint64_t head;     /* next to consume */
	_Alignas(64) _Atomic uint64_t tail;     /* next to fill */
	_Alignas(64) void *slot[XM_RING];
} xm_ring_t;

typedef struct xm_thr {
	_Alignas(64) uint64_t pos;
	uint64_t freed;         /* bytes freed by run() */
	uint16_t size[XM_SIZES];
} xm_thr_t;

typedef struct xmalloc {
	int nthr;
	xm_ring_t *ring;        /* ring i: thread i produces, thread i+1 consumes */
	xm_thr_t *thr;
} xmalloc_t;

static void *xmalloc_setup(hp_ctx_t *ctx)
{
	xmalloc_t *x = calloc(1, sizeof *x);
	uint64_t s = ctx->seed ^ 0x3a110cull;

	if (!x)
		return NULL;
	x->nthr = wl_threads(ctx);
	x->ring = aligned_alloc(64, (size_t)x->nthr * sizeof *x->ring);
	x->thr = aligned_alloc(64, (size_t)x->nthr * sizeof *x->thr);
	if (!x->ring || !x->thr) {
		free(x->ring);
		free(x->thr);
		free(x);
		return NULL;
	}
	memset(x->ring, 0, (size_t)x->nthr * sizeof *x->ring);
	for (int t = 0; t < x->nthr; t++) {
		x->thr[t].pos = 0;
		x->thr[t].freed = 0;
		for (unsigned i = 0; i < XM_SIZES; i++)
			x->thr[t].size[i] = (uint16_t)(XM_MIN + hp_splitmix64(&s) % (XM_MAX - XM_MIN + 1));
	}
	return x;
}

static void xmalloc_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const hp_mem_ops_t *ops = WL_OPS(ctx);
	xmalloc_t *x = ctx->data;
	int me = st->thread_index % x->nthr;
	xm_thr_t *th = &x->thr[me];
	xm_ring_t *out = &x->ring[me];
	xm_ring_t *in = &x->ring[(me + x->nthr - 1) % x->nthr];
	uint64_t pos = th->pos;

	for (uint64_t i = 0; i < n; i++, pos++) {
		void *b = wl_block_new(ops, th->size[pos % XM_SIZES]);
		uint64_t t = atomic_load_explicit(&out->tail, memory_order_relaxed);

		if (t - atomic_load_explicit(&out->head, memory_order_acquire) < XM_RING) {
			out->slot[t % XM_RING] = b;
			atomic_store_explicit(&out->tail, t + 1, memory_order_release);
		} else {
			th->freed += wl_block_free(ops, b, "xmalloc (ring full)");
		}
		uint64_t h = atomic_load_explicit(&in->head, memory_order_relaxed);
		if (h != atomic_load_explicit(&in->tail, memory_order_acquire)) {
			void *r = in->slot[h % XM_RING];

			atomic_store_explicit(&in->head, h + 1, memory_order_release);
			th->freed += wl_block_free(ops, r, "xmalloc");
		}
	}
	th->pos = pos;
	wl_rss_counter(st);
}

static void xmalloc_teardown(hp_ctx_t *ctx, void *data)
{
	const hp_mem_ops_t *ops = WL_OPS(ctx);
	xmalloc_t *x = data;

	for (int t = 0; t < x->nthr; t++) {
		xm_ring_t *r = &x->ring[t];

		for (uint64_t h = atomic_load(&r->head); h != atomic_load(&r->tail); h++)
			wl_block_free(ops, r->slot[h % XM_RING], "xmalloc teardown");
	}
	free(x->ring);
	free(x->thr);
	free(x);
}

/* ------------------------------------------------------------------ */
/* Registry                                                            */
/* ------------------------------------------------------------------ */

/* libhotpath-malloc.so is what this suite is about: the same preload as
 * hp_v_hotpath_malloc, as the impl variant. */
static const char *impl_available(const hp_ctx_t *ctx)
{
	return hp_v_hotpath_malloc.available(ctx);
}

static const hp_variant_t v_hotpath_impl = {
	.name = "hotpath_malloc", .kind = HP_KIND_IMPL, .available = impl_available,
	.ops = &hp_mem_libc_ops, .child_env = "LD_PRELOAD=" HP_MALLOC_HOTPATH_SO,
	.work = "the workload's malloc(size) + free(p) through the PLT into libhotpath-malloc "
		"(kmalloc/kfree of impl/slub behind the malloc API), default SLUB generation: sheaves (7.0)",
	.work_class = HP_WORK_MALLOC,
};

/* the same library on the other SLUB generation (the default, above, is sheaves) */
static const hp_variant_t v_hotpath_cpuslab = {
	.name = "hotpath_malloc_cpuslab", .kind = HP_KIND_IMPL, .available = impl_available,
	.ops = &hp_mem_libc_ops, .child_env = "LD_PRELOAD=" HP_MALLOC_HOTPATH_SO "\nHOTPATH_MALLOC_GEN=cpu-slab",
	.work = "as hotpath_malloc, HOTPATH_MALLOC_GEN=cpu-slab: kmalloc over the per-CPU slab (SLUB 6.6, stand-in "
		"(b): locked cmpxchg16b)",
	.work_class = HP_WORK_MALLOC,
};

const hp_variant_t *const wl_variants[] = {
	&v_hotpath_impl, &v_hotpath_cpuslab, &hp_v_glibc, &hp_v_jemalloc, &hp_v_mimalloc, &hp_v_tcmalloc, NULL,
};

/* hotpath's own variants, threaded on every selected CPU: --profile full
 * (or a --filter naming them) only, to keep the default run short. */
static const hp_param_t wl_full_only[] = {
	{ .label = "-", .full_only = 1 },
	{ .label = NULL },
};

static const hp_case_t case_larson = {
	.name = "larson_crossfree",
	.desc = "symmetric larson: free a random slot, allocate 8..1000 bytes, 1 op in 8 hands its block to another thread",
	.op_unit = "op",
	.params = wl_full_only,
	.thread_sweep = HP_THREADS_ALL,
	.setup = larson_setup,
	.teardown = larson_teardown,
	.run = larson_run,
	.variants = wl_variants,
};

static const hp_case_t case_xmalloc = {
	.name = "xmalloc_ring",
	.desc = "ring of threads: allocate 16..256 bytes, pass to the next thread, free one from the previous",
	.op_unit = "op",
	.params = wl_full_only,
	.thread_sweep = HP_THREADS_ALL,
	.setup = xmalloc_setup,
	.teardown = xmalloc_teardown,
	.run = xmalloc_run,
	.variants = wl_variants,
};

const hp_suite_t hp_suite_malloc_workloads = {
	.name = "malloc-workloads",
	.desc = "mimalloc-bench workloads as published (larson, xmalloc-test, cache-scratch/thrash, glibc-simple/thread, mstress, rptest, alloc-test) and symmetric variants under each malloc via LD_PRELOAD: time and peak RSS",
	.doc = "docs/suites/malloc-workloads.md",
	.cases = (const hp_case_t *const[]){ &wl_case_larson, &wl_case_xmalloc, &wl_case_cache_scratch, &wl_case_cache_thrash,
					     &wl_case_glibc_simple, &wl_case_glibc_thread, &wl_case_mstress,
					     &wl_case_rptest, &wl_case_alloc_test, &case_larson, &case_xmalloc, NULL },
};
