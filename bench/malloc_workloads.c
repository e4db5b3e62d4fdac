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
 * - larson: a server simulation after Larson and Krishnan (ISMM 1998), as
 *   in mimalloc-bench's larson: each thread owns 4096 slots, initially
 *   filled by the main thread; one op frees a random slot's block and puts
 *   a new block of a random size (8..1000 bytes) there. One op in 8 swaps
 *   the new block with a shared exchange array instead, so blocks allocated
 *   by one thread are freed by another (the server handing a connection's
 *   buffers to another worker). Sizes and slots come from the seed.
 * - xmalloc: producer/consumer after Lever and Boreham's xmalloc-test:
 *   thread i allocates a block (16..256 bytes), passes it on a
 *   single-producer single-consumer ring to thread i+1 (mod threads), and
 *   frees one block received from thread i-1. Nearly every free is a remote
 *   free when threads > 1; with one thread the ring is a FIFO delay line to
 *   itself. A thread whose outgoing ring is full frees the block itself (it
 *   never waits, so a neighbour between batches cannot stall it).
 * - cache_scratch: passive false sharing after Hoard's cache-scratch: the
 *   main thread allocates one 8-byte object per thread back to back (so
 *   they share cache lines) and hands object i to thread i. One op writes
 *   the thread's current object 64 times, frees it and allocates a new
 *   8-byte one. An allocator that gives a thread back the block it freed
 *   keeps it writing the line the other threads write: throughput at N
 *   threads falls below N times one thread.
 *
 * Each block carries a header (its size and a cookie) and a tail byte,
 * checked when it is freed; a mismatch means the allocator handed out
 * overlapping or corrupted memory, and the child aborts with a message
 * (recorded as a failed run, never as a number).
 */
#include "hp.h"
#include "hp_malloc_config.h"
#include "malloc_variants.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define WL_OPS(ctx) ((const hp_mem_ops_t *)(ctx)->v->ops)
#define WL_MAX_THREADS 256

/* ------------------------------------------------------------------ */
/* Seeded randomness and checked blocks                                */
/* ------------------------------------------------------------------ */

static uint64_t wl_cookie(uint32_t size)
{
	return ((uint64_t)size << 32) | ((size * 0x9e3779b1u) ^ 0x5a17c0deu);
}

/* Every block is at least 8 bytes: a header word, and its last byte. */
static void *wl_block_new(const hp_mem_ops_t *ops, uint32_t size)
{
	unsigned char *b = ops->alloc(size);

	if (!b) {
		fprintf(stderr, "malloc-workloads: malloc(%u) returned NULL\n", size);
		abort();
	}
	memcpy(b, &(uint64_t){ wl_cookie(size) }, 8);
	if (size > 8)
		b[size - 1] = (unsigned char)size;
	return b;
}

/* Returns the block's size after checking it; aborts on a bad block. */
static uint32_t wl_block_check(const void *p, const char *where)
{
	const unsigned char *b = p;
	uint64_t h;
	uint32_t size;

	memcpy(&h, b, 8);
	size = (uint32_t)(h >> 32);
	if (h != wl_cookie(size) || size < 8 || (size > 8 && b[size - 1] != (unsigned char)size)) {
		fprintf(stderr, "malloc-workloads: %s: block %p corrupted (header %#llx)\n",
			where, p, (unsigned long long)h);
		abort();
	}
	return size;
}

/* Returns the size the block's header recorded (checked); the tests sum
 * these as a checksum that must not depend on the allocator. */
static uint32_t wl_block_free(const hp_mem_ops_t *ops, void *p, const char *where)
{
	uint32_t size = wl_block_check(p, where);

	ops->free(p, size);
	return size;
}

static void wl_rss_counter(hp_state_t *st)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		hp_counter(st, "peak_rss_kib", (double)ru.ru_maxrss);
}

static int wl_threads(const hp_ctx_t *ctx)
{
	int t = ctx->threads > 0 ? ctx->threads : 1;

	return t > WL_MAX_THREADS ? WL_MAX_THREADS : t;
}

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
/* cache_scratch: passive false sharing                                */
/* ------------------------------------------------------------------ */

#define CS_SIZE 8u
#define CS_WRITES 64u

typedef struct cs_thr {
	_Alignas(64) void *obj;         /* the thread's current object */
	uint64_t freed;                 /* bytes freed by run() */
} cs_thr_t;

typedef struct cscratch {
	int nthr;
	cs_thr_t *thr;
} cscratch_t;

static void *cs_setup(hp_ctx_t *ctx)
{
	const hp_mem_ops_t *ops = WL_OPS(ctx);
	cscratch_t *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->nthr = wl_threads(ctx);
	c->thr = aligned_alloc(64, (size_t)c->nthr * sizeof *c->thr);
	if (!c->thr) {
		free(c);
		return NULL;
	}
	/* back to back, from one thread: the objects the threads are handed */
	for (int t = 0; t < c->nthr; t++) {
		c->thr[t].obj = wl_block_new(ops, CS_SIZE);
		c->thr[t].freed = 0;
	}
	return c;
}

static void cs_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const hp_mem_ops_t *ops = WL_OPS(ctx);
	cscratch_t *c = ctx->data;
	cs_thr_t *th = &c->thr[st->thread_index % c->nthr];
	void *obj = th->obj;

	for (uint64_t i = 0; i < n; i++) {
		volatile unsigned char *b = obj;

		/* bytes 0..7 hold the header: write it and put it back */
		for (unsigned w = 0; w < CS_WRITES; w++)
			b[w % CS_SIZE]++;
		for (unsigned k = 0; k < CS_SIZE; k++)
			b[k] = (unsigned char)(b[k] - CS_WRITES / CS_SIZE);
		th->freed += wl_block_free(ops, obj, "cache_scratch");
		obj = wl_block_new(ops, CS_SIZE);
	}
	th->obj = obj;
	wl_rss_counter(st);
}

static void cs_teardown(hp_ctx_t *ctx, void *data)
{
	const hp_mem_ops_t *ops = WL_OPS(ctx);
	cscratch_t *c = data;

	for (int t = 0; t < c->nthr; t++)
		wl_block_free(ops, c->thr[t].obj, "cache_scratch teardown");
	free(c->thr);
	free(c);
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

static const hp_variant_t *const wl_variants[] = {
	&v_hotpath_impl, &v_hotpath_cpuslab, &hp_v_glibc, &hp_v_jemalloc, &hp_v_mimalloc, &hp_v_tcmalloc, NULL,
};

static const hp_case_t case_larson = {
	.name = "larson",
	.desc = "server simulation: free a random slot, allocate 8..1000 bytes, 1 in 8 handed to another thread",
	.op_unit = "op",
	.thread_sweep = 1,
	.setup = larson_setup,
	.teardown = larson_teardown,
	.run = larson_run,
	.variants = wl_variants,
};

static const hp_case_t case_xmalloc = {
	.name = "xmalloc",
	.desc = "producer/consumer: allocate 16..256 bytes, pass to the next thread, free one from the previous",
	.op_unit = "op",
	.thread_sweep = 1,
	.setup = xmalloc_setup,
	.teardown = xmalloc_teardown,
	.run = xmalloc_run,
	.variants = wl_variants,
};

static const hp_case_t case_cache_scratch = {
	.name = "cache_scratch",
	.desc = "passive false sharing: 64 writes to an 8-byte object, free, allocate another",
	.op_unit = "op",
	.thread_sweep = 1,
	.setup = cs_setup,
	.teardown = cs_teardown,
	.run = cs_run,
	.variants = wl_variants,
};

const hp_suite_t hp_suite_malloc_workloads = {
	.name = "malloc-workloads",
	.desc = "allocator workloads (larson, xmalloc, cache-scratch) under each malloc via LD_PRELOAD: time and peak RSS",
	.doc = "docs/suites/malloc-workloads.md",
	.cases = (const hp_case_t *const[]){ &case_larson, &case_xmalloc, &case_cache_scratch, NULL },
};
