/* slub.c — suite "slub": impl/slub's per-CPU slab allocator against glibc, jemalloc, mimalloc, tcmalloc and libhotpath-malloc.
 *
 * Cases pair, bulk, remote_free, trace and sweep: each loop is compiled
 * once per variant (bench/slub_variant.c, built per variant by
 * bench/meson.build), so impl's inline fast path runs inline. kmalloc_pair
 * and cache_pair call out of line on every side (loops here). Every
 * variant states its work (hp_variant_t.work, .work_class; the classes in
 * malloc_variants.h): summary.md puts only variants of equal class in a
 * ratio. Its own plot, slub-generations (scripts/slub_generations.gp),
 * puts cpu-slab (6.6) and sheaves (7.0) side by side per case.
 * Documented in docs/suites/slub.md.
 */
#include "hp.h"
#include "memops.h"
#include "malloc_variants.h"
#include "slub.h"
#include "slub_bench.h"
#include "bench_skip.h"
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Variants                                                            */
/* ------------------------------------------------------------------ */

static void impl_free(void *p, size_t size)
{
	(void)size;
	hp_kfree(p);
}

static size_t impl_alloc_bulk(size_t size, size_t n, void **out)
{
	hp_kmem_cache_t *s = hp_kmalloc_cache(size, 0);

	return s ? hp_kmem_cache_alloc_bulk(s, n, out) : 0;
}

static void impl_free_bulk(size_t size, size_t n, void **p)
{
	(void)size;
	hp_kmem_cache_free_bulk(NULL, n, p);
}

static size_t impl_pinned_alloc_bulk(size_t size, size_t n, void **out)
{
	hp_kmem_cache_t *s = hp_kmalloc_cache(size, 1);

	return s ? hp_kmem_cache_alloc_bulk(s, n, out) : 0;
}

static void *kmalloc_distro(size_t size)
{
	return hp_kmalloc_set(HP_KMALLOC_SET_DISTRO + HP_KMALLOC_SET_PINNED, size);
}

static size_t impl_distro_alloc_bulk(size_t size, size_t n, void **out)
{
	hp_kmem_cache_t *s = hp_kmalloc_cache(size, HP_KMALLOC_SET_DISTRO + HP_KMALLOC_SET_PINNED);

	return s ? hp_kmem_cache_alloc_bulk(s, n, out) : 0;
}

/* One ops table per fast-path stand-in (and config); the variants of each
 * work class point at them. ops.alloc is the by-size entry (kmalloc). */
static const hp_mem_ops_t impl_cmpxchg_ops = {
	.name = "slub-cmpxchg", .alloc = hp_kmalloc, .free = impl_free,
	.alloc_bulk = impl_alloc_bulk, .free_bulk = impl_free_bulk,
};
static const hp_mem_ops_t impl_pinned_ops = {
	.name = "slub-pinned", .alloc = hp_kmalloc_pinned, .free = impl_free,
	.alloc_bulk = impl_pinned_alloc_bulk, .free_bulk = impl_free_bulk,
};
static const hp_mem_ops_t impl_distro_ops = {
	.name = "slub-distro", .alloc = kmalloc_distro, .free = impl_free,
	.alloc_bulk = impl_distro_alloc_bulk, .free_bulk = impl_free_bulk,
};

/* cpu-slab's rseq stand-in and generation sheaves (7.0; W2, issue 10 §3):
 * one ops table per loops compilation, set = its kmalloc set */
#define IMPL_OPS(id, nm, set)                                                                        \
	static void *id##_kmalloc(size_t size) { return hp_kmalloc_set(set, size); }                \
	static size_t id##_alloc_bulk(size_t size, size_t n, void **out)                             \
	{                                                                                            \
		hp_kmem_cache_t *s = hp_kmalloc_cache(size, set);                                    \
		return s ? hp_kmem_cache_alloc_bulk(s, n, out) : 0;                                  \
	}                                                                                            \
	static const hp_mem_ops_t id = { .name = nm, .alloc = id##_kmalloc, .free = impl_free,       \
					 .alloc_bulk = id##_alloc_bulk, .free_bulk = impl_free_bulk }
IMPL_OPS(impl_rseq_ops, "slub-rseq", HP_KMALLOC_SET_RSEQ);
IMPL_OPS(impl_sheaves_ops, "slub-sheaves", HP_KMALLOC_SET_SHEAVES);
IMPL_OPS(impl_sheaves_pinned_ops, "slub-sheaves-pinned", HP_KMALLOC_SET_SHEAVES_PINNED);

static const char *impl_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_slub_ensure_init() == 0 ? NULL : "impl/slub: the arena could not be mapped";
}

/* An impl variant: a stand-in's ops under one of the case's work classes
 * (one name per stand-in and config, the same in every case). */
#define IMPL_V(id, nm, opsp, wk, cls) \
	static const hp_variant_t id = { .name = nm, .kind = HP_KIND_IMPL, .available = impl_available, \
					 .ops = opsp, .work = wk, .work_class = cls }

/* pair, remote_free, sweep: the inline fast path over a cache fixed at setup */
#define W_PINNED "inline kmem_cache_alloc/free, stand-in (a) pinned: cache fixed at setup, no call, no size lookup, " \
       "free is a range test on the cpu slab; no hardening, no hooks"
IMPL_V(v_pinned, "impl-pinned", &impl_pinned_ops, W_PINNED, HP_WORK_INLINE_CACHE);
#define W_CMPXCHG "inline kmem_cache_alloc/free, stand-in (b): rseq cpu id + a locked cmpxchg16b each way; cache fixed at " \
       "setup, no call, no size lookup, free is a range test"
IMPL_V(v_cmpxchg, "impl-cmpxchg", &impl_cmpxchg_ops, W_CMPXCHG, HP_WORK_INLINE_CACHE);
/* bulk: kmem_cache_alloc_bulk/free_bulk */
IMPL_V(v_pinned_bulk, "impl-pinned", &impl_pinned_ops,
       "kmem_cache_alloc_bulk + kmem_cache_free_bulk of 16 objects: one call each way, one detached freelist",
       HP_WORK_BULK);
IMPL_V(v_cmpxchg_bulk, "impl-cmpxchg", &impl_cmpxchg_ops,
       "kmem_cache_alloc_bulk + kmem_cache_free_bulk of 16 objects: one call each way, one slot hold",
       HP_WORK_BULK);
/* trace, kmalloc_pair: kmalloc(size) + kfree(p) out of line */
IMPL_V(v_pinned_call, "impl-pinned", &impl_pinned_ops,
       "hp_kmalloc_pinned(size) + hp_kfree(p) out of line, minimal config: size_index[]/fls size class at run "
       "time, kfree finds the slab from the page descriptor; pinned pop/push", HP_WORK_MALLOC);
IMPL_V(v_cmpxchg_call, "impl-cmpxchg", &impl_cmpxchg_ops,
       "hp_kmalloc(size) + hp_kfree(p) out of line, minimal config: size class at run time, kfree from the page "
       "descriptor; rseq cpu id + locked cmpxchg16b each way", HP_WORK_MALLOC);
IMPL_V(v_distro_call, "impl-distro", &impl_distro_ops,
       "kmalloc(size) + kfree(p) of the distro config (pinned): hooks, kfence gate, hardened free pointers, "
       "cache_from_obj; plus the kmalloc set dispatch (hp_kmalloc_set)", HP_WORK_MALLOC);
/* cache_pair: kmem_cache_alloc(s) + kmem_cache_free(s, p) out of line */
IMPL_V(v_pinned_cache, "impl-pinned", &impl_pinned_ops,
       "hp_kmem_cache_alloc_ool(s) + hp_kmem_cache_free_ool(s, p), minimal config (kmem_cache_alloc/free as "
       "exported): no size lookup, free finds the slab from the page descriptor", HP_WORK_FIXED_API);
IMPL_V(v_cmpxchg_cache, "impl-cmpxchg", &impl_cmpxchg_ops,
       "hp_kmem_cache_alloc_ool(s) + hp_kmem_cache_free_ool(s, p), minimal config, stand-in (b): rseq cpu id + "
       "locked cmpxchg16b each way", HP_WORK_FIXED_API);
IMPL_V(v_distro_cache, "impl-distro", &impl_distro_ops,
       "hp_kmem_cache_alloc_ool(s) + hp_kmem_cache_free_ool(s, p), distro config (pinned): hooks, kfence gate, "
       "hardened free pointers, cache_from_obj", HP_WORK_FIXED_API);

/* generation sheaves (7.0) beside cpu-slab (6.6); cpu-slab's rseq stand-in (c) */
#define GEN_V(id, nm, opsp, what)                                                                                 \
	IMPL_V(id, nm, opsp, "inline kmem_cache_alloc/free, " what "; cache fixed at setup, no call, no size lookup", \
	       HP_WORK_INLINE_CACHE);                                                                              \
	IMPL_V(id##_bulk, nm, opsp, "kmem_cache_alloc_bulk + kmem_cache_free_bulk of 16 objects, " what,          \
	       HP_WORK_BULK);                                                                                      \
	IMPL_V(id##_call, nm, opsp, "kmalloc(size) + kfree(p) out of line, minimal config: size class at run time, " \
	       "kfree from the page descriptor; " what, HP_WORK_MALLOC);                                          \
	IMPL_V(id##_cache, nm, opsp, "hp_kmem_cache_alloc_ool(s) + hp_kmem_cache_free_ool(s, p), minimal config, " \
	       what, HP_WORK_FIXED_API)
#define W_RSEQ "inline kmem_cache_alloc/free, cpu-slab (6.6) stand-in (c): rseq critical section + unlocked cmpxchg16b each " \
       "way; cache fixed at setup, no call, no size lookup"
IMPL_V(v_rseq, "impl-rseq", &impl_rseq_ops, W_RSEQ, HP_WORK_INLINE_CACHE);
#define W_SHEAVES_WHAT \
	"sheaves (7.0): pop/push on this CPU's main sheaf in an rseq section (local_trylock stand-in; a per-CPU " \
	"spinlock without rseq)"
GEN_V(v_sheaves, "impl-sheaves", &impl_sheaves_ops, W_SHEAVES_WHAT);
#define W_SHEAVES_PINNED "inline kmem_cache_alloc/free, sheaves (7.0), pinned thread owns its CPU's sheaves: plain pop/push on main; " \
       "cache fixed at setup, no call, no size lookup"
IMPL_V(v_sheaves_pinned, "impl-sheaves-pinned", &impl_sheaves_pinned_ops, W_SHEAVES_PINNED, HP_WORK_INLINE_CACHE);
/* (impl-rseq and impl-sheaves-pinned: inline cases only, to keep the quick profile short) */
/* remote_free: the inline work above over the batch handoff (slub_bench.h);
 * the malloc baselines run the same handoff (the case's desc says so) */
#define REMOTE_HANDOFF \
	"; remote_free handoff: the producer allocates a batch of 64 on CPU A, hands it over in one slot and waits " \
	"until the consumer on CPU B has freed all 64 (lockstep; per object: alloc + remote free + 2 handoffs/64)"
_Static_assert(REMOTE_BATCH == 64, "REMOTE_HANDOFF and the case desc say 64");
IMPL_V(v_pinned_remote, "impl-pinned", &impl_pinned_ops, W_PINNED REMOTE_HANDOFF, HP_WORK_INLINE_CACHE);
IMPL_V(v_cmpxchg_remote, "impl-cmpxchg", &impl_cmpxchg_ops, W_CMPXCHG REMOTE_HANDOFF, HP_WORK_INLINE_CACHE);
IMPL_V(v_rseq_remote, "impl-rseq", &impl_rseq_ops, W_RSEQ REMOTE_HANDOFF, HP_WORK_INLINE_CACHE);
IMPL_V(v_sheaves_remote, "impl-sheaves", &impl_sheaves_ops,
       "inline kmem_cache_alloc/free, " W_SHEAVES_WHAT "; cache fixed at setup, no call, no size lookup" REMOTE_HANDOFF,
       HP_WORK_INLINE_CACHE);
IMPL_V(v_sheaves_pinned_remote, "impl-sheaves-pinned", &impl_sheaves_pinned_ops, W_SHEAVES_PINNED REMOTE_HANDOFF,
       HP_WORK_INLINE_CACHE);
/* remote_node: its own cache over 2 emulated nodes, kmem_cache_alloc/free out of line */
#define HP_WORK_REMOTE_NODE "call+remote-free-2-nodes"
IMPL_V(v_rseq_node, "impl-rseq", &impl_rseq_ops,
       "producer kmem_cache_alloc, consumer on the other CPU kmem_cache_free out of line, batches of 64 handed "
       "over in lockstep as in remote_free, 2 emulated nodes; cpu-slab (6.6) stand-in (c): a free off the cpu slab is __slab_free whatever the node", HP_WORK_REMOTE_NODE);
IMPL_V(v_sheaves_node, "impl-sheaves", &impl_sheaves_ops,
       "producer kmem_cache_alloc, consumer on the other CPU kmem_cache_free out of line, batches of 64 handed "
       "over in lockstep as in remote_free, 2 emulated nodes; sheaves (7.0): same node -> the consumer's sheaf, other node -> __slab_free", HP_WORK_REMOTE_NODE);

/* The variant lists, one per work class. A new stand-in or generation adds
 * one IMPL_V per class above and one entry per list. */
static const hp_variant_t *const inline_variants[] = {
	&v_pinned, &v_cmpxchg, &v_rseq, &v_sheaves, &v_sheaves_pinned, HP_MALLOC_VARIANTS, NULL,
};
static const hp_variant_t *const remote_variants[] = {
	&v_pinned_remote, &v_cmpxchg_remote, &v_rseq_remote, &v_sheaves_remote, &v_sheaves_pinned_remote,
	HP_MALLOC_VARIANTS, NULL,
};
static const hp_variant_t *const bulk_variants[] = {
	&v_pinned_bulk, &v_cmpxchg_bulk, &v_sheaves_bulk, HP_MALLOC_VARIANTS, NULL,
};
static const hp_variant_t *const trace_variants[] = {
	&v_pinned_call, &v_cmpxchg_call, &v_sheaves_call, HP_MALLOC_VARIANTS, NULL,
};
static const hp_variant_t *const kmalloc_variants[] = {
	&v_pinned_call, &v_cmpxchg_call, &v_distro_call, &v_sheaves_call, HP_MALLOC_VARIANTS, NULL,
};
static const hp_variant_t *const node_variants[] = { &v_rseq_node, &v_sheaves_node, NULL };
static const hp_variant_t *const cache_variants[] = {
	&v_pinned_cache, &v_cmpxchg_cache, &v_distro_cache, &v_sheaves_cache, HP_MALLOC_FIXED_VARIANTS, NULL,
};

/* The loops compiled for the variant (slub_variant.c): impl's two fast
 * paths have their own; every malloc library runs the libc compilation
 * (the child's LD_PRELOAD decides which malloc it calls). */
static const slub_loops_t *loops_of(const hp_ctx_t *ctx)
{
	return ctx->v->ops == &impl_pinned_ops ? &hp_slub_loops_pinned
	       : ctx->v->ops == &impl_cmpxchg_ops ? &hp_slub_loops_cmpxchg
	       : ctx->v->ops == &impl_rseq_ops ? &hp_slub_loops_rseq
	       : ctx->v->ops == &impl_sheaves_ops ? &hp_slub_loops_sheaves
	       : ctx->v->ops == &impl_sheaves_pinned_ops ? &hp_slub_loops_sheaves_pinned
						  : &hp_slub_loops_libc;
}

#define DISPATCH(name)                                                         \
	static void name(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)            \
	{                                                                      \
		((slub_job_t *)ctx->data)->loops->name(st, n, ctx);            \
	}
DISPATCH(bulk_run)

/* pair: the rseq variants also report their critical sections' aborts
 * per pair (hp_slub_rseq_aborts): a slow rseq pair with ~0 aborts is not
 * an abort loop */
static void pair_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const int rseq = ctx->v->ops == &impl_rseq_ops || ctx->v->ops == &impl_sheaves_ops;
	const uint64_t a0 = rseq ? hp_slub_rseq_aborts() : 0;

	((slub_job_t *)ctx->data)->loops->pair_run(st, n, ctx);
	if (rseq && n && hp_slub_rseq_available())
		hp_counter(st, "rseq_aborts_per_pair", (double)(hp_slub_rseq_aborts() - a0) / (double)n);
}
DISPATCH(remote_run)
DISPATCH(trace_run)

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

static slub_job_t *job_new(hp_ctx_t *ctx, size_t size)
{
	slub_job_t *j = calloc(1, sizeof *j);

	if (!j)
		return NULL;
	j->loops = loops_of(ctx);
	j->size = size;
	if (j->loops->cache) {
		j->cache = hp_kmalloc_cache(size, j->loops->kmalloc_set);
		if (!j->cache) {
			free(j);
			return NULL;
		}
	}
	return j;
}

static void *pair_setup(hp_ctx_t *ctx)
{
	return job_new(ctx, (size_t)ctx->p->value);
}

static void *fixed64_setup(hp_ctx_t *ctx)
{
	return job_new(ctx, 64);
}

static void job_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	free(data);
}

static void *remote_setup(hp_ctx_t *ctx)
{
	slub_job_t *j = job_new(ctx, 64);
	int st;

	if (!j)
		return NULL;
	if (posix_memalign((void **)&j->handoff, 64, sizeof(handoff_t)) != 0) {
		free(j);
		return NULL;
	}
	memset(j->handoff, 0, sizeof(handoff_t));
	j->bind_cpu = ctx->bind_cpu;
	j->consumer_cpu = ctx->all_cpus[1];
	if (pthread_create(&j->consumer, NULL, j->loops->consumer, j) != 0) {
		free(j->handoff);
		free(j);
		return NULL;
	}
	while ((st = __atomic_load_n(&j->consumer_state, __ATOMIC_ACQUIRE)) == 0)
		sched_yield();
	if (st < 0) {
		pthread_join(j->consumer, NULL);
		free(j->handoff);
		free(j);
		return NULL;
	}
	return j;
}

/* remote_node: a cache of its own, created with 2 emulated nodes: the
 * producer's CPU is node 0, the consumer's node 0 (same_node) or node 1
 * (remote_node). The nodes go back to one at teardown. */
static void *node_consumer(void *arg)
{
	slub_job_t *j = arg;
	handoff_t *const h = j->handoff;
	uint32_t k;

	if (consumer_start(j) != 0)
		return NULL;
	while ((k = handoff_take(h, &j->stop)) != 0) {
		const uint64_t t0 = handoff_now_ns();

		for (uint32_t m = 0; m < k; m++)
			hp_kmem_cache_free(j->cache, h->obj[m]);
		handoff_done(h, k, handoff_now_ns() - t0);
	}
	return NULL;
}

static void *node_setup(hp_ctx_t *ctx)
{
	slub_job_t *j;
	int map[HP_SLUB_MAX_CPUS], st;
	char err[160];
	unsigned flags = ctx->v->ops == &impl_sheaves_ops ? HP_SLAB_SHEAVES | HP_SLAB_PCPU_RSEQ : HP_SLAB_PCPU_RSEQ;
	int prod = ctx->all_cpus[0], cons = ctx->all_cpus[1];

	if (hp_slub_ensure_init() != 0 || prod < 0 || cons < 0 || prod >= HP_SLUB_MAX_CPUS ||
	    cons >= HP_SLUB_MAX_CPUS || !(j = calloc(1, sizeof *j)))
		return NULL;
	for (int c = 0; c < HP_SLUB_MAX_CPUS; c++)
		map[c] = 0;
	map[cons] = ctx->p->value ? 1 : 0;
	if (hp_slub_set_nodes(2, map) != 0)
		goto fail;
	j->loops = &hp_slub_loops_libc;   /* not pinned: consumer_start binds only */
	j->size = 64;
	j->cache = hp_kmem_cache_create(ctx->p->value ? "bench-remote-node" : "bench-same-node", 64, 0, flags, NULL,
					err, sizeof err);
	if (!j->cache || posix_memalign((void **)&j->handoff, 64, sizeof(handoff_t)) != 0)
		goto fail;
	memset(j->handoff, 0, sizeof(handoff_t));
	j->bind_cpu = ctx->bind_cpu;
	j->consumer_cpu = cons;
	if (pthread_create(&j->consumer, NULL, node_consumer, j) != 0)
		goto fail;
	while ((st = __atomic_load_n(&j->consumer_state, __ATOMIC_ACQUIRE)) == 0)
		sched_yield();
	if (st < 0) {
		pthread_join(j->consumer, NULL);
		goto fail;
	}
	return j;
fail:
	free(j->handoff);
	if (j->cache)
		hp_kmem_cache_destroy(j->cache);
	free(j);
	hp_slub_set_nodes(1, NULL);
	return NULL;
}

/* the producer of remote_free's lockstep handoff (slub_bench.h), with
 * kmem_cache_alloc/free out of line; the same conservation check */
static void node_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	slub_job_t *j = ctx->data;
	handoff_t *const h = j->handoff;
	const uint64_t freed0 = h->freed, allocated0 = j->allocated;

	(void)st;
	for (uint64_t i = 0; i < n;) {
		const uint32_t b = n - i < REMOTE_BATCH ? (uint32_t)(n - i) : REMOTE_BATCH;
		uint32_t k = 0;

		for (uint32_t m = 0; m < b; m++, i++) {
			uint64_t *p = hp_kmem_cache_alloc(j->cache);

			if (p) {
				*p = i;
				h->obj[k++] = p;
			}
		}
		j->allocated += k;
		handoff_post(h, k);
	}
	if (h->freed - freed0 != j->allocated - allocated0)
		hp_fatal(ctx, "the consumer freed %llu objects, the producer handed over %llu",
			 (unsigned long long)(h->freed - freed0), (unsigned long long)(j->allocated - allocated0));
}

static void node_teardown(hp_ctx_t *ctx, void *data)
{
	slub_job_t *j = data;

	(void)ctx;
	__atomic_store_n(&j->stop, 1, __ATOMIC_RELEASE);
	pthread_join(j->consumer, NULL);
	hp_kmem_cache_destroy(j->cache);
	free(j->handoff);
	free(j);
	hp_slub_set_nodes(1, NULL);
}

static void remote_teardown(hp_ctx_t *ctx, void *data)
{
	slub_job_t *j = data;

	(void)ctx;
	__atomic_store_n(&j->stop, 1, __ATOMIC_RELEASE);
	pthread_join(j->consumer, NULL);
	free(j->handoff);
	free(j);
}

static uint32_t uniform(uint64_t *s, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(hp_splitmix64(s) % (hi - lo + 1));
}

/* The trace: allocation i is freed when allocation i + lifetime happens
 * (or at the end), so the trace ends with nothing live and can repeat. */
static trace_t *trace_build(uint64_t seed)
{
	trace_t *t = calloc(1, sizeof *t);
	uint32_t *ft = malloc(sizeof(uint32_t) * TRACE_ALLOCS);
	uint32_t *count = calloc(TRACE_ALLOCS + 2, sizeof(uint32_t));
	uint32_t *order = malloc(sizeof(uint32_t) * TRACE_ALLOCS);
	uint32_t *sizes = malloc(sizeof(uint32_t) * TRACE_ALLOCS);
	uint64_t s = seed ^ 0x5a5b5c5d5e5f6061ull;
	size_t k = 0, f = 0;

	if (!t || !ft || !count || !order || !sizes)
		goto fail;
	t->nops = 2 * TRACE_ALLOCS;
	t->ops = malloc(sizeof(trace_op_t) * t->nops);
	t->slot = calloc(TRACE_ALLOCS, sizeof(void *));
	if (!t->ops || !t->slot)
		goto fail;
	for (uint32_t i = 0; i < TRACE_ALLOCS; i++) {
		uint32_t r = uniform(&s, 0, 99), life;

		sizes[i] = r < 45 ? uniform(&s, 8, 64) : r < 75 ? uniform(&s, 65, 256) : r < 92 ? uniform(&s, 257, 1024)
			 : r < 99 ? uniform(&s, 1025, 8192) : uniform(&s, 8193, 32768);
		r = uniform(&s, 0, 99);
		life = r < 60 ? uniform(&s, 1, 16) : r < 90 ? uniform(&s, 17, 1024) : uniform(&s, 1025, 16384);
		ft[i] = i + life < TRACE_ALLOCS ? i + life : TRACE_ALLOCS;
		count[ft[i] + 1]++;
	}
	/* counting sort of the frees by time, stable in allocation order */
	for (uint32_t i = 1; i < TRACE_ALLOCS + 2; i++)
		count[i] += count[i - 1];
	for (uint32_t i = 0; i < TRACE_ALLOCS; i++)
		order[count[ft[i]]++] = i;
	for (uint32_t tm = 0; tm <= TRACE_ALLOCS; tm++) {
		if (tm < TRACE_ALLOCS)
			t->ops[k++] = (trace_op_t){ .size = sizes[tm], .slot = tm };
		while (f < TRACE_ALLOCS && ft[order[f]] == tm)
			t->ops[k++] = (trace_op_t){ .size = 0, .slot = order[f++] };
	}
	free(ft);
	free(count);
	free(order);
	free(sizes);
	return t;
fail:
	if (t) {
		free(t->ops);
		free(t->slot);
	}
	free(t);
	free(ft);
	free(count);
	free(order);
	free(sizes);
	return NULL;
}

static void *trace_setup(hp_ctx_t *ctx)
{
	slub_job_t *j = job_new(ctx, 64);

	if (!j)
		return NULL;
	j->trace = trace_build(ctx->seed);
	if (!j->trace) {
		free(j);
		return NULL;
	}
	return j;
}

static void trace_teardown(hp_ctx_t *ctx, void *data)
{
	slub_job_t *j = data;
	const hp_mem_ops_t *ops = ctx->v->ops;

	for (size_t i = 0; i < TRACE_ALLOCS; i++)
		if (j->trace->slot[i])
			ops->free(j->trace->slot[i], 0);
	free(j->trace->ops);
	free(j->trace->slot);
	free(j->trace);
	free(j);
}

/* ------------------------------------------------------------------ */
/* kmalloc_pair and cache_pair: out-of-line calls, equal work          */
/* ------------------------------------------------------------------ */

/* Not per-variant compilations: every call here is out of line on every
 * side, so one loop per entry point is enough. The size is read from the
 * job at run time; the compiler cannot see it. */
typedef struct call_job {
	size_t size;
	hp_kmem_cache_t *cache;          /* cache_pair, impl */
	char why[256];                   /* non-empty: the run skips with this reason */
} call_job_t;

/* Pinned and distro (pinned) variants declare their CPU, as pinned_begin
 * does in slub_variant.c; 0, or -1 after skipping. */
static int call_begin(hp_state_t *st, hp_ctx_t *ctx)
{
	const call_job_t *j = ctx->data;
	int cpu = ctx->cpus[st->thread_index];

	if (j->why[0]) {
		hp_skip(st, j->why);
		return -1;
	}
	if ((ctx->v->ops != &impl_pinned_ops && ctx->v->ops != &impl_distro_ops) || hp_slub_set_cpu(cpu) == 0)
		return 0;
	bench_skipf(st, "%s: the thread is not bound to CPU %d alone", ctx->v->name, cpu);
	return -1;
}

static void *call_setup(hp_ctx_t *ctx)
{
	call_job_t *j = calloc(1, sizeof *j);
	const hp_mem_ops_t *ops = ctx->v->ops;

	if (!j)
		return NULL;
	j->size = (size_t)ctx->p->value;
	if (ctx->v->kind == HP_KIND_IMPL) {
		if (hp_slub_ensure_init() != 0) {
			free(j);
			return NULL;
		}
		if (ctx->c->variants == cache_variants) {
			int set = ops == &impl_pinned_ops   ? HP_KMALLOC_SET_PINNED
				  : ops == &impl_distro_ops ? HP_KMALLOC_SET_DISTRO + HP_KMALLOC_SET_PINNED
				  : ops == &impl_sheaves_ops   ? HP_KMALLOC_SET_SHEAVES
							    : HP_KMALLOC_SET_CMPXCHG;

			j->cache = hp_kmalloc_cache(j->size, set);
			if (!j->cache) {
				free(j);
				return NULL;
			}
		}
	} else if (ctx->c->variants == cache_variants) {
		/* in the child that preloads the library */
		hp_malloc_fixed_bind(ctx->v, j->size, j->why, sizeof j->why);
	}
	return j;
}

/* n alloc+free pairs through one by-size entry point */
#define KMALLOC_LOOP(fn, ALLOC, FREE)                                          \
	static void fn(uint64_t n, size_t size)                                \
	{                                                                      \
		while (n--) {                                                  \
			void *p = ALLOC(size);                                 \
                                                                               \
			hp_do_not_optimize_ptr(p);                             \
			FREE(p);                                               \
		}                                                              \
	}
KMALLOC_LOOP(kmalloc_loop_pinned, hp_kmalloc_pinned, hp_kfree)
KMALLOC_LOOP(kmalloc_loop_cmpxchg, hp_kmalloc, hp_kfree)
KMALLOC_LOOP(kmalloc_loop_distro, kmalloc_distro, hp_kfree)
KMALLOC_LOOP(kmalloc_loop_libc, malloc, free)
KMALLOC_LOOP(kmalloc_loop_sheaves, impl_sheaves_ops_kmalloc, hp_kfree)

static void kmalloc_pair_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const call_job_t *j = ctx->data;
	const hp_mem_ops_t *ops = ctx->v->ops;

	if (call_begin(st, ctx) != 0)
		return;
	if (ops == &impl_pinned_ops)
		kmalloc_loop_pinned(n, j->size);
	else if (ops == &impl_cmpxchg_ops)
		kmalloc_loop_cmpxchg(n, j->size);
	else if (ops == &impl_distro_ops)
		kmalloc_loop_distro(n, j->size);
	else if (ops == &impl_sheaves_ops)
		kmalloc_loop_sheaves(n, j->size);
	else
		kmalloc_loop_libc(n, j->size);   /* the child's malloc, whichever is preloaded */
}

static void cache_pair_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const call_job_t *j = ctx->data;

	if (call_begin(st, ctx) != 0)
		return;
	if (j->cache) {
		hp_kmem_cache_t *const s = j->cache;

		while (n--) {
			void *p = hp_kmem_cache_alloc_ool(s);

			hp_do_not_optimize_ptr(p);
			hp_kmem_cache_free_ool(s, p);
		}
	} else {
		/* the library's fixed-size pair (hp_malloc_fixed_bind) */
		void *(*const alloc)(size_t) = ((const hp_mem_ops_t *)ctx->v->ops)->alloc;
		void (*const release)(void *, size_t) = ((const hp_mem_ops_t *)ctx->v->ops)->free;
		const size_t size = j->size;

		while (n--) {
			void *p = alloc(size);

			hp_do_not_optimize_ptr(p);
			release(p, size);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

/* Two classes keep `--profile quick` of the suite under a minute on a
 * 2-CPU machine (7 variants, ~0.9 s a benchmark): 64 (the fast-path goal)
 * and 1024 (order-2 slabs; the top of glibc's tcache). The pair reuses one
 * object, so impl's cost hardly depends on the class; the baselines' size
 * class lookup does. Add classes here for a fuller run. */
static const hp_param_t pair_sizes[] = {
	{ .label = "64", .value = 64 },
	{ .label = "1024", .value = 1024, .full_only = 1 },   /* --profile full or --filter */
	{ .label = NULL },
};

static const hp_case_t c_pair = {
	.name = "pair",
	.desc = "alloc+free of one object per size class (impl: inline kmem_cache fast path; others: malloc/free; "
		"not equal work: ratios only between inline variants)",
	.op_unit = "pair",
	.param_name = "size",
	.params = pair_sizes,
	.setup = pair_setup, .teardown = job_teardown, .run = pair_run,
	.variants = inline_variants,
};

/* The equal-work headline: the sizes of the issue (8 and 64 tiny, 192 the
 * top of size_index[], 1024 and 4096 through fls, larger slabs). */
/* 64 (the headline) and 4096 in every profile; the other sizes in
 * --profile full (or a --filter), to keep the default run short. */
static const hp_param_t kmalloc_sizes[] = {
	{ .label = "8", .value = 8, .full_only = 1 },
	{ .label = "64", .value = 64 },
	{ .label = "192", .value = 192, .full_only = 1 },
	{ .label = "1024", .value = 1024, .full_only = 1 },
	{ .label = "4096", .value = 4096 },
	{ .label = NULL },
};

static const hp_case_t c_kmalloc_pair = {
	.name = "kmalloc_pair",
	.desc = "kmalloc(size)+kfree(p) out of line with a run-time size, against malloc(size)+free(p): equal work",
	.op_unit = "pair",
	.param_name = "size",
	.params = kmalloc_sizes,
	.setup = call_setup, .teardown = job_teardown, .run = kmalloc_pair_run,
	.variants = kmalloc_variants,
};

/* Two sizes keep the quick profile short: 64 (the goal's size) and 1024
 * (the largest mi_malloc_small serves). */
static const hp_param_t cache_sizes[] = {
	{ .label = "64", .value = 64 },
	{ .label = "1024", .value = 1024, .full_only = 1 },   /* --profile full or --filter */
	{ .label = NULL },
};

static const hp_case_t c_cache_pair = {
	.name = "cache_pair",
	.desc = "kmem_cache_alloc+kmem_cache_free out of line, against each malloc's closest fixed-size API",
	.op_unit = "pair",
	.param_name = "size",
	.params = cache_sizes,
	.setup = call_setup, .teardown = job_teardown, .run = cache_pair_run,
	.variants = cache_variants,
};

static const hp_param_t bulk_params[] = {
	{ .label = "16", .value = 16, .items = BULK_N },
	{ .label = NULL },
};

static const hp_case_t c_bulk = {
	.name = "bulk",
	.desc = "16 objects of 64 bytes allocated and freed as a batch (kmem_cache_alloc_bulk/free_bulk)",
	.op_unit = "batch",
	.item_unit = "object",
	.param_name = "batch",
	.params = bulk_params,
	.setup = fixed64_setup, .teardown = job_teardown, .run = bulk_run,
	.variants = bulk_variants,
};

static const hp_param_t remote_params[] = {
	{ .label = "64", .value = 64, .min_cpus = 2 },
	{ .label = NULL },
};

static const hp_case_t c_remote = {
	.name = "remote_free",
	.desc = "a producer on the first CPU allocates 64-byte objects in batches of 64, hands each batch over in one "
		"slot and waits while a consumer on the second CPU frees it (frees to another CPU's slab); per object",
	.op_unit = "object",
	.param_name = "size",
	.params = remote_params,
	.setup = remote_setup, .teardown = remote_teardown, .run = remote_run,
	.variants = remote_variants,
};

static const hp_param_t node_params[] = {
	/* --profile full or --filter only: the quick profile has remote_free */
	{ .label = "same_node", .value = 0, .min_cpus = 2, .full_only = 1 },
	{ .label = "remote_node", .value = 1, .min_cpus = 2, .full_only = 1 },
	{ .label = NULL },
};

static const hp_case_t c_remote_node = {
	.name = "remote_node",
	.desc = "remote_free over 2 emulated nodes: the consumer's CPU on the producer's node or the other one "
		"(sheaves: sheaf vs __slab_free)",
	.op_unit = "object",
	.param_name = "node",
	.params = node_params,
	.setup = node_setup, .teardown = node_teardown, .run = node_run,
	.variants = node_variants,
};

static const hp_case_t c_trace = {
	.name = "trace",
	.desc = "seeded object-lifetime trace (sizes 8..32768, short and long lives) replayed, one op per iteration",
	.op_unit = "op",
	.setup = trace_setup, .teardown = trace_teardown, .run = trace_run,
	.variants = trace_variants,
};

static const hp_case_t c_sweep = {
	.name = "sweep",
	.desc = "64-byte alloc+free pair on 1..N threads, one per CPU (per-CPU scalability)",
	.op_unit = "pair",
	.thread_sweep = 1,
	.setup = fixed64_setup, .teardown = job_teardown, .run = pair_run,
	.variants = inline_variants,
};

/* ------------------------------------------------------------------ */
/* Plot: the two generations side by side per case (slub-generations) */
/* ------------------------------------------------------------------ */

/* Like with like: each pair is a cpu-slab (6.6) variant and the sheaves
 * (7.0) variant doing the same work. The per-CPU-op pair takes cpu-slab's
 * rseq stand-in where the case runs it (the closest to
 * this_cpu_try_cmpxchg128), else its cmpxchg one. */
extern const hp_suite_t hp_suite_slub;

enum { GEN_PINNED, GEN_PERCPU, GEN_NPAIR };
static const char *const gen_cpuslab[GEN_NPAIR][2] = {
	[GEN_PINNED] = { "impl-pinned", NULL },
	[GEN_PERCPU] = { "impl-rseq", "impl-cmpxchg" },
};
static const char *const gen_sheaves[GEN_NPAIR] = {
	[GEN_PINNED] = "impl-sheaves-pinned", [GEN_PERCPU] = "impl-sheaves",
};

/* median, fastest and slowest repetition of one benchmark; n == 0: none */
typedef struct gen_val {
	double med, lo, hi;
	size_t n;
} gen_val_t;

static gen_val_t gen_value(hp_plot_pts_t *pts, const char *variant, const char *param)
{
	for (size_t k = 0; variant && k < pts->n; k++) {
		hp_plot_pt_t *pt = &pts->p[k];

		if (strcmp(pt->variant, variant) || strcmp(pt->param, param) || !pt->n)
			continue;
		double med = hp_median(pt->v, pt->n);   /* sorts v */

		return (gen_val_t){ med, pt->v[0], pt->v[pt->n - 1], pt->n };
	}
	return (gen_val_t){ NAN, NAN, NAN, 0 };
}

/* real_time when the suite measured time, else instructions, else
 * perf_cycles (the standard plots' choice); NULL when none. */
static const char *gen_metric(const hp_bench_set_t *r)
{
	static const char *const order[] = { "real_time", "instructions", "perf_cycles" };
	int best = 3;

	for (size_t i = 0; i < r->n; i++)
		for (int k = 0; k < best && !strcmp(r->b[i].suite, "slub"); k++)
			if (!strcmp(r->b[i].metric, order[k]))
				best = k;
	return best < 3 ? order[best] : NULL;
}

/* The repetitions of case c's metric per (variant, param) at the fewest
 * threads it ran with (sweep: 1); the unit of its rows in *unit. */
static int gen_points(const hp_bench_set_t *r, const char *metric, const hp_case_t *c, hp_plot_pts_t *pts,
		      const char **unit)
{
	int thr = 0;

	for (size_t i = 0; i < r->n; i++) {
		const hp_bench_vals_t *x = &r->b[i];

		if (!strcmp(x->suite, "slub") && !strcmp(x->case_, c->name) && !strcmp(x->metric, metric) &&
		    (thr == 0 || x->threads < thr))
			thr = x->threads;
	}
	for (size_t i = 0; i < r->n; i++) {
		const hp_bench_vals_t *x = &r->b[i];

		if (strcmp(x->suite, "slub") || strcmp(x->case_, c->name) || strcmp(x->metric, metric) ||
		    x->threads != thr || strcmp(x->kind, "impl"))
			continue;
		for (size_t k = 0; k < x->n; k++) {
			if (!isfinite(x->v[k]))
				continue;
			if (hp_plot_pts_add(pts, x->variant, x->param, x->v[k]) != 0)
				return -1;
			*unit = x->unit;
		}
	}
	return 0;
}

/* The rows and ranges the template's settings are drawn from. */
typedef struct gen_sum {
	int rows, sheaves;      /* x positions written; sheaves bars among them */
	double lo, hi;          /* medians */
	double wlo, whi;        /* whiskers */
} gen_sum_t;

/* One row per case[/param] that has a sheaves value: x label case param,
 * then per pair (pinned, per-CPU op) the x position, median, min and max
 * of cpu-slab and of sheaves (NaN for a side not run; a pair whose sheaves
 * side did not run is left out whole), the two pairs' cpu-slab variants
 * ("-": none) and the unit. The bars present are centred on the row's x. */
static int gen_rows(FILE *f, const hp_bench_set_t *r, const char *metric, gen_sum_t *sum)
{
	for (const hp_case_t *const *cp = hp_suite_slub.cases; *cp; cp++) {
		const hp_case_t *c = *cp;
		static const hp_param_t none[] = { { .label = "-" }, { .label = NULL } };
		const hp_param_t *params = c->params ? c->params : none;
		hp_plot_pts_t pts = { 0 };
		const char *unit = NULL;

		if (gen_points(r, metric, c, &pts, &unit) != 0) {
			hp_plot_pts_free(&pts);
			return -1;
		}
		for (const hp_param_t *p = params; p->label; p++) {
			gen_val_t v[GEN_NPAIR][2];
			const char *cs[GEN_NPAIR] = { NULL, NULL };
			int nbar = 0, have = 0;

			for (int g = 0; g < GEN_NPAIR; g++) {
				v[g][0] = (gen_val_t){ NAN, NAN, NAN, 0 };
				for (int k = 0; k < 2 && gen_cpuslab[g][k] && !v[g][0].n; k++) {
					v[g][0] = gen_value(&pts, gen_cpuslab[g][k], p->label);
					cs[g] = gen_cpuslab[g][k];
				}
				v[g][1] = gen_value(&pts, gen_sheaves[g], p->label);
				/* a pair is drawn when its sheaves side ran */
				if (!v[g][1].n)
					v[g][0] = (gen_val_t){ NAN, NAN, NAN, 0 };
				if (!v[g][0].n)
					cs[g] = NULL;
				nbar += (v[g][0].n > 0) + (v[g][1].n > 0);
				have |= v[g][1].n > 0;
			}
			if (!have)
				continue;
			fprintf(f, "%d \"%s\" \"%s\"", sum->rows, c->name, strcmp(p->label, "-") ? p->label : "");
			/* bar slots 0..nbar-1, centred on the row, 0.2 wide */
			for (int g = 0, slot = 0; g < GEN_NPAIR; g++)
				for (int k = 0; k < 2; k++) {
					const gen_val_t *x = &v[g][k];
					double pos = x->n ? sum->rows + 0.2 * (slot++ - (nbar - 1) / 2.0) : NAN;

					if (!x->n) {
						fprintf(f, " NaN NaN NaN NaN");
						continue;
					}
					fprintf(f, " %.3f %.9g %.9g %.9g", pos, x->med, x->lo, x->hi);
					sum->sheaves += k;
					sum->lo = fmin(sum->lo, x->med);
					sum->hi = fmax(sum->hi, x->med);
					sum->wlo = fmin(sum->wlo, x->lo);
					sum->whi = fmax(sum->whi, x->hi);
				}
			fprintf(f, " \"%s\" \"%s\" \"%s\"\n", cs[GEN_PINNED] ? cs[GEN_PINNED] : "-",
				cs[GEN_PERCPU] ? cs[GEN_PERCPU] : "-", unit ? unit : "");
			sum->rows++;
		}
		hp_plot_pts_free(&pts);
	}
	return 0;
}

/* Writes plots/slub-generations.dat and draws it with
 * scripts/slub_generations.gp. */
static int gen_draw(const char *plotdir, const char *tdir, const char *metric, const char *dat, size_t len,
		    const gen_sum_t *sum, char *err, size_t errlen)
{
	char path[4096], tmpl[4096], *gv;
	int logy = sum->lo > 0 && sum->hi / sum->lo > 100, rc;
	const char *what = !strcmp(metric, "real_time") ? "ns" : !strcmp(metric, "instructions") ? "instructions"
												    : "cycles";

	snprintf(path, sizeof path, "%s/slub-generations.dat", plotdir);
	if (hp_write_atomic(path, dat, len) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(tmpl, sizeof tmpl, "%s/slub_generations.gp", tdir);
	if (asprintf(&gv, "title='slub: cpu-slab (6.6) vs sheaves (7.0)'; xlabel='case/param, 1 thread';"
		     " ylabel='%s per op, median (min-max)'; nrow=%d; logy=%d; ymin=%.9g; ymax=%.9g",
		     what, sum->rows, logy, logy ? sum->wlo / 1.5 : 0.0,
		     logy ? sum->whi * 1.5 : sum->whi * 1.08) < 0) {
		snprintf(err, errlen, "slub plot: out of memory");
		return -1;
	}
	rc = hp_plot_render(plotdir, "slub-generations", tmpl, gv, err, errlen) < 0 ? -1 : 1;
	free(gv);
	return rc;
}

/* The primary metric per op of each case[/param] at 1 thread, bars of the
 * two generations side by side: pinned cpu-slab beside pinned sheaves,
 * cpu-slab's per-CPU-op stand-in (rseq, else cmpxchg) beside sheaves.
 * Nothing is drawn (0) when the results hold no sheaves rows. */
static int slub_plot_generations(const char *plotdir, const hp_bench_set_t *r, const char *tdir, char *err,
				 size_t errlen)
{
	const char *metric = gen_metric(r);
	gen_sum_t sum = { .lo = INFINITY, .wlo = INFINITY };
	char *buf = NULL;
	size_t len = 0;
	int rc;
	FILE *f;

	if (!metric)
		return 0;
	f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, errlen, "slub plot: out of memory");
		return -1;
	}
	fprintf(f, "# hotpath slub: %s per op at 1 thread, cpu-slab (6.6) and sheaves (7.0) side by side\n"
		"# x case param pinned_cpu_slab_x med min max pinned_sheaves_x med min max"
		" cpu_slab_x med min max sheaves_x med min max pinned_cpu_slab_variant cpu_slab_variant\n"
		"# (pinned: impl-pinned vs impl-sheaves-pinned; per-CPU op: impl-rseq, else impl-cmpxchg,"
		" vs impl-sheaves; NaN: not run)\n", metric);
	rc = gen_rows(f, r, metric, &sum);
	if (fclose(f) != 0 || !buf || rc != 0) {
		free(buf);
		snprintf(err, errlen, "slub plot: out of memory");
		return -1;
	}
	rc = sum.sheaves ? gen_draw(plotdir, tdir, metric, buf, len, &sum, err, errlen) : 0;
	free(buf);
	return rc;
}

static const hp_plot_fn slub_plots[] = { slub_plot_generations, NULL };

const hp_suite_t hp_suite_slub = {
	.name = "slub",
	.desc = "SLUB: per-CPU slab fast paths, kmalloc and kmem_cache calls, bulk, remote frees, a lifetime trace, "
		"vs malloc libraries",
	.doc = "docs/suites/slub.md",
	.cases = (const hp_case_t *const[]){ &c_pair, &c_kmalloc_pair, &c_cache_pair, &c_bulk, &c_remote, &c_remote_node, &c_trace,
					     &c_sweep, NULL },
	.plots = slub_plots,
};
