/* slub_variant.c — suite slub: the measured loops compiled for one variant family.
 *
 * Per-variant compilation (the one mechanism, also used by rcu_variant.c):
 * impl's fast path is inline, and a loop must call it inline to be
 * compared fairly with a direct call into malloc, so this file is compiled
 * once per variant family by a meson foreach in bench/meson.build, each
 * time with -DSLUB_V_<VARIANT> (-DSLUB_V_PINNED, -DSLUB_V_CMPXCHG,
 * -DSLUB_V_RSEQ, -DSLUB_V_LIBC; generation sheaves (7.0): -DSLUB_V_SHEAVES,
 * the rseq lock stand-in, and -DSLUB_V_SHEAVES_PINNED). The define picks the allocator calls (T_* below) the
 * loops are compiled over; the compilation exports one table of loops,
 * hp_slub_loops_<variant> (slub_bench.h), which bench/slub.c selects for a
 * variant. No allocator call in a loop goes through a function pointer;
 * only one call per batch of n iterations is indirect.
 *
 * The primitives each family defines:
 *   T_BEGIN(st, ctx)      per-run set-up of the calling thread; 0 ok, else skip
 *   T_ALLOC(c, sz)        one object of sz bytes (c: the job's cache, impl)
 *   T_FREE(c, p)          give it back
 *   T_BULK_ALLOC(c, sz, n, v) n objects into v[], returns how many
 *   T_BULK_FREE(c, n, v)  give them back
 *   T_KMALLOC(sz)         a kmalloc/malloc of any size (the trace)
 *   T_KFREE(p)            kfree/free (the trace)
 * The cache and size are copied to locals first: the loops' compiler
 * barriers would otherwise reload them from the job on every iteration.
 */
#include "bench_skip.h"
#include "hp.h"
#include "slub.h"
#include "slub_bench.h"

#include <stdlib.h>

#if defined(SLUB_V_PINNED) || defined(SLUB_V_SHEAVES_PINNED)
static int pinned_begin(hp_state_t *st, hp_ctx_t *ctx)
{
	int cpu = ctx->cpus[st->thread_index];

	if (hp_slub_set_cpu(cpu) == 0)
		return 0;
	bench_skipf(st, "%s: the thread is not bound to CPU %d alone", ctx->v->name, cpu);
	return -1;
}
#endif

#if defined(SLUB_V_PINNED)
#define V_SYM pinned
#define V_CACHE 1
#define V_PINNED 1
#define V_SET HP_KMALLOC_SET_PINNED

#define T_BEGIN(st, ctx) pinned_begin(st, ctx)
#define T_ALLOC(c, sz) hp_kmem_cache_alloc_pinned(c)
#define T_FREE(c, p) hp_kmem_cache_free_pinned((c), (p))
#define T_BULK_ALLOC(c, sz, n, v) hp_kmem_cache_alloc_bulk((c), (n), (v))
#define T_BULK_FREE(c, n, v) hp_kmem_cache_free_bulk((c), (n), (v))
#define T_KMALLOC(sz) hp_kmalloc_pinned(sz)
#define T_KFREE(p) hp_kfree(p)

#elif defined(SLUB_V_CMPXCHG)
#define V_SYM cmpxchg
#define V_CACHE 1
#define V_PINNED 0
#define V_SET HP_KMALLOC_SET_CMPXCHG
#define T_BEGIN(st, ctx) ((void)(st), (void)(ctx), 0)
#define T_ALLOC(c, sz) hp_kmem_cache_alloc_cmpxchg(c)
#define T_FREE(c, p) hp_kmem_cache_free_cmpxchg((c), (p))
#define T_BULK_ALLOC(c, sz, n, v) hp_kmem_cache_alloc_bulk((c), (n), (v))
#define T_BULK_FREE(c, n, v) hp_kmem_cache_free_bulk((c), (n), (v))
#define T_KMALLOC(sz) hp_kmalloc(sz)
#define T_KFREE(p) hp_kfree(p)

#elif defined(SLUB_V_RSEQ)
/* cpu-slab (6.6), stand-in (c): rseq critical section + unlocked cmpxchg16b */
#define V_SYM rseq
#define V_CACHE 1
#define V_PINNED 0
#define V_SET HP_KMALLOC_SET_RSEQ
#define T_BEGIN(st, ctx) ((void)(st), (void)(ctx), 0)
#define T_ALLOC(c, sz) hp_kmem_cache_alloc_rseq(c)
#define T_FREE(c, p) hp_kmem_cache_free_rseq((c), (p))
#define T_BULK_ALLOC(c, sz, n, v) hp_kmem_cache_alloc_bulk((c), (n), (v))
#define T_BULK_FREE(c, n, v) hp_kmem_cache_free_bulk((c), (n), (v))
#define T_KMALLOC(sz) hp_kmalloc_set(HP_KMALLOC_SET_RSEQ, (sz))
#define T_KFREE(p) hp_kfree(p)

#elif defined(SLUB_V_SHEAVES)
/* sheaves (7.0): alloc_from_pcs/free_to_pcs with the rseq lock stand-in
 * (the per-CPU spinlock where rseq is unavailable) */
#define V_SYM sheaves
#define V_CACHE 1
#define V_PINNED 0
#define V_SET HP_KMALLOC_SET_SHEAVES
#define T_BEGIN(st, ctx) ((void)(st), (void)(ctx), 0)
#define T_ALLOC(c, sz) hp_kmem_cache_alloc_sheaves(c)
#define T_FREE(c, p) hp_kmem_cache_free_sheaves((c), (p))
#define T_BULK_ALLOC(c, sz, n, v) hp_kmem_cache_alloc_bulk((c), (n), (v))
#define T_BULK_FREE(c, n, v) hp_kmem_cache_free_bulk((c), (n), (v))
#define T_KMALLOC(sz) hp_kmalloc_set(HP_KMALLOC_SET_SHEAVES, (sz))
#define T_KFREE(p) hp_kfree(p)

#elif defined(SLUB_V_SHEAVES_PINNED)
/* sheaves (7.0), the pinned thread's ownership as the lock stand-in */
#define V_SYM sheaves_pinned
#define V_CACHE 1
#define V_PINNED 1
#define V_SET HP_KMALLOC_SET_SHEAVES_PINNED
#define T_BEGIN(st, ctx) pinned_begin(st, ctx)
#define T_ALLOC(c, sz) hp_kmem_cache_alloc_sheaves_pinned(c)
#define T_FREE(c, p) hp_kmem_cache_free_sheaves_pinned((c), (p))
#define T_BULK_ALLOC(c, sz, n, v) hp_kmem_cache_alloc_bulk((c), (n), (v))
#define T_BULK_FREE(c, n, v) hp_kmem_cache_free_bulk((c), (n), (v))
#define T_KMALLOC(sz) hp_kmalloc_set(HP_KMALLOC_SET_SHEAVES_PINNED, (sz))
#define T_KFREE(p) hp_kfree(p)

#elif defined(SLUB_V_LIBC)
/* the process's malloc, whichever LD_PRELOAD put in front */
#define V_SYM libc
#define V_CACHE 0
#define V_PINNED 0
#define V_SET 0

static size_t libc_bulk_alloc(size_t size, size_t n, void **v)
{
	for (size_t i = 0; i < n; i++)
		v[i] = malloc(size);
	return n;
}

static void libc_bulk_free(size_t n, void **v)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

#define T_BEGIN(st, ctx) ((void)(st), (void)(ctx), 0)
#define T_ALLOC(c, sz) malloc(sz)
#define T_FREE(c, p) free(p)
#define T_BULK_ALLOC(c, sz, n, v) libc_bulk_alloc((sz), (n), (v))
#define T_BULK_FREE(c, n, v) libc_bulk_free((n), (v))
#define T_KMALLOC(sz) malloc(sz)
#define T_KFREE(p) free(p)

#else
#error "slub_variant.c: build with -DSLUB_V_<variant> (PINNED, CMPXCHG, RSEQ, SHEAVES, SHEAVES_PINNED or LIBC)"
#endif


/* alloc+free of one object: the per-CPU fast path on both sides */
static void pair_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const slub_job_t *j = ctx->data;
	hp_kmem_cache_t *const cache = j->cache;
	const size_t size = j->size;

	(void)cache;
	(void)size;
	if (T_BEGIN(st, ctx) != 0)
		return;
	while (n--) {
		void *p = T_ALLOC(cache, size);

		hp_do_not_optimize_ptr(p);
		T_FREE(cache, p);
	}
}

/* a batch of BULK_N objects allocated, then freed */
static void bulk_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const slub_job_t *j = ctx->data;
	hp_kmem_cache_t *const cache = j->cache;
	const size_t size = j->size;
	uint64_t left = n;
	void *v[BULK_N];

	(void)cache;
	(void)size;
	if (T_BEGIN(st, ctx) != 0)
		return;
	while (left--) {
		size_t got = T_BULK_ALLOC(cache, size, BULK_N, v);

		hp_do_not_optimize_ptr(v[0]);
		T_BULK_FREE(cache, got, v);
	}
	hp_add_items(st, (double)n * BULK_N);
}

/* producer (the measured thread, first CPU): n objects in batches of
 * REMOTE_BATCH; each is allocated here, written, and handed over to the
 * consumer, which frees it on the second CPU while the producer waits
 * (the lockstep handoff of slub_bench.h). The time per object is alloc +
 * remote free + the batch's two handoffs / REMOTE_BATCH. Counters: each
 * side's own loop time per object (alloc_ns, free_ns; the rest is the
 * handoff); a consumer that freed a different number of objects than were
 * handed over fails the run (hp_fatal). */
static void remote_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	slub_job_t *j = ctx->data;
	hp_kmem_cache_t *const cache = j->cache;
	const size_t size = j->size;
	handoff_t *const h = j->handoff;
	const uint64_t freed0 = h->freed, free_ns0 = h->free_ns, allocated0 = j->allocated;
	uint64_t alloc_ns = 0;

	(void)cache;
	(void)size;
	if (T_BEGIN(st, ctx) != 0)
		return;
	for (uint64_t i = 0; i < n;) {
		const uint32_t b = n - i < REMOTE_BATCH ? (uint32_t)(n - i) : REMOTE_BATCH;
		const uint64_t t0 = handoff_now_ns();
		uint32_t k = 0;

		for (uint32_t m = 0; m < b; m++, i++) {
			uint64_t *p = T_ALLOC(cache, size);

			if (p) {
				*p = i;
				h->obj[k++] = p;
			}
		}
		alloc_ns += handoff_now_ns() - t0;
		j->allocated += k;
		handoff_post(h, k);
	}
	if (h->freed - freed0 != j->allocated - allocated0)
		hp_fatal(ctx, "the consumer freed %llu objects, the producer handed over %llu",
			 (unsigned long long)(h->freed - freed0), (unsigned long long)(j->allocated - allocated0));
	if (n) {
		hp_counter(st, "alloc_ns_per_object", (double)alloc_ns / (double)n);
		hp_counter(st, "free_ns_per_object", (double)(h->free_ns - free_ns0) / (double)n);
	}
}

/* consumer (its own thread on the second CPU): free each batch that arrives */
static void *consumer(void *arg)
{
	slub_job_t *j = arg;
	hp_kmem_cache_t *const cache = j->cache;
	handoff_t *const h = j->handoff;
	uint32_t k;

	(void)cache;
	if (consumer_start(j) != 0)
		return NULL;
	while ((k = handoff_take(h, &j->stop)) != 0) {
		const uint64_t t0 = handoff_now_ns();

		for (uint32_t m = 0; m < k; m++)
			T_FREE(cache, h->obj[m]);
		handoff_done(h, k, handoff_now_ns() - t0);
	}
	return NULL;
}

/* one step of the seeded object-lifetime trace per iteration */
static void trace_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	slub_job_t *j = ctx->data;
	trace_t *t = j->trace;
	uint64_t pos = t->pos;

	if (T_BEGIN(st, ctx) != 0)
		return;
	for (uint64_t i = 0; i < n; i++) {
		const trace_op_t *op = &t->ops[pos];

		if (op->size) {
			uint64_t *p = T_KMALLOC(op->size);

			if (p)
				*p = pos;
			t->slot[op->slot] = p;
		} else {
			T_KFREE(t->slot[op->slot]);
			t->slot[op->slot] = NULL;
		}
		if (++pos == t->nops)
			pos = 0;
	}
	t->pos = pos;
}

/* ------------------------------------------------------------------ */
/* The variant's table                                                 */
/* ------------------------------------------------------------------ */

#define V_CAT_(a, b) a##b
#define V_CAT(a, b) V_CAT_(a, b)
#define V_STR_(x) #x
#define V_STR(x) V_STR_(x)

const slub_loops_t V_CAT(hp_slub_loops_, V_SYM) = {
	.name = V_STR(V_SYM),
	.cache = V_CACHE,
	.pinned = V_PINNED,
	.kmalloc_set = V_SET,
	.pair_run = pair_run,
	.bulk_run = bulk_run,
	.remote_run = remote_run,
	.trace_run = trace_run,
	.consumer = consumer,
};
