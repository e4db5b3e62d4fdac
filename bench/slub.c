/* slub.c — suite "slub": impl/slub's per-CPU slab allocator against glibc, jemalloc, mimalloc, tcmalloc and libhotpath-malloc.
 *
 * Cases pair, bulk, remote_free, trace and sweep; each loop is compiled
 * once per variant (bench/slub_variant.c, built per variant by
 * bench/meson.build), so impl's inline fast path is compared with a direct
 * call into malloc.
 * Documented in docs/suites/slub.md.
 */
#include "hp.h"
#include "memops.h"
#include "malloc_variants.h"
#include "slub.h"
#include "slub_bench.h"

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

static const hp_mem_ops_t impl_cmpxchg_ops = {
	.name = "slub-cmpxchg", .alloc = hp_kmalloc, .free = impl_free,
	.alloc_bulk = impl_alloc_bulk, .free_bulk = impl_free_bulk,
};
static const hp_mem_ops_t impl_pinned_ops = {
	.name = "slub-pinned", .alloc = hp_kmalloc_pinned, .free = impl_free,
	.alloc_bulk = impl_pinned_alloc_bulk, .free_bulk = impl_free_bulk,
};

static const char *impl_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_slub_ensure_init() == 0 ? NULL : "impl/slub: the arena could not be mapped";
}

static const hp_variant_t v_pinned = {
	.name = "impl-pinned", .kind = HP_KIND_IMPL, .available = impl_available, .ops = &impl_pinned_ops,
};
static const hp_variant_t v_cmpxchg = {
	.name = "impl-cmpxchg", .kind = HP_KIND_IMPL, .available = impl_available, .ops = &impl_cmpxchg_ops,
};

static const hp_variant_t *const all_variants[] = {
	&v_pinned, &v_cmpxchg, &hp_v_glibc, &hp_v_jemalloc, &hp_v_mimalloc, &hp_v_tcmalloc,
	&hp_v_hotpath_malloc, NULL,
};

/* The loops compiled for the variant (slub_variant.c): impl's two fast
 * paths have their own; every malloc library runs the libc compilation
 * (the child's LD_PRELOAD decides which malloc it calls). */
static const slub_loops_t *loops_of(const hp_ctx_t *ctx)
{
	return ctx->v == &v_pinned ? &hp_slub_loops_pinned : ctx->v == &v_cmpxchg ? &hp_slub_loops_cmpxchg
										    : &hp_slub_loops_libc;
}

#define DISPATCH(name)                                                         \
	static void name(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)            \
	{                                                                      \
		((slub_job_t *)ctx->data)->loops->name(st, n, ctx);            \
	}
DISPATCH(pair_run)
DISPATCH(bulk_run)
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
		j->cache = hp_kmalloc_cache(size, j->loops->pinned);
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
	if (posix_memalign((void **)&j->ring, 64, sizeof(ring_t)) != 0) {
		free(j);
		return NULL;
	}
	memset(j->ring, 0, sizeof(ring_t));
	j->bind_cpu = ctx->bind_cpu;
	j->consumer_cpu = ctx->all_cpus[1];
	if (pthread_create(&j->consumer, NULL, j->loops->consumer, j) != 0) {
		free(j->ring);
		free(j);
		return NULL;
	}
	while ((st = __atomic_load_n(&j->consumer_state, __ATOMIC_ACQUIRE)) == 0)
		sched_yield();
	if (st < 0) {
		pthread_join(j->consumer, NULL);
		free(j->ring);
		free(j);
		return NULL;
	}
	return j;
}

static void remote_teardown(hp_ctx_t *ctx, void *data)
{
	slub_job_t *j = data;

	(void)ctx;
	__atomic_store_n(&j->stop, 1, __ATOMIC_RELEASE);
	pthread_join(j->consumer, NULL);
	free(j->ring);
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
/* Cases                                                               */
/* ------------------------------------------------------------------ */

/* Two classes keep `--profile quick` of the suite under a minute on a
 * 2-CPU machine (7 variants, ~0.9 s a benchmark): 64 (the fast-path goal)
 * and 1024 (order-2 slabs; the top of glibc's tcache). The pair reuses one
 * object, so impl's cost hardly depends on the class; the baselines' size
 * class lookup does. Add classes here for a fuller run. */
static const hp_param_t pair_sizes[] = {
	{ .label = "64", .value = 64 },
	{ .label = "1024", .value = 1024 },
	{ .label = NULL },
};

static const hp_case_t c_pair = {
	.name = "pair",
	.desc = "alloc+free of one object per size class (impl: inline kmem_cache fast path; others: malloc/free)",
	.op_unit = "pair",
	.param_name = "size",
	.params = pair_sizes,
	.setup = pair_setup, .teardown = job_teardown, .run = pair_run,
	.variants = all_variants,
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
	.variants = all_variants,
};

static const hp_param_t remote_params[] = {
	{ .label = "64", .value = 64, .min_cpus = 2 },
	{ .label = NULL },
};

static const hp_case_t c_remote = {
	.name = "remote_free",
	.desc = "producer allocates on the first CPU, a consumer frees on the second (frees to another CPU's slab)",
	.op_unit = "object",
	.param_name = "size",
	.params = remote_params,
	.setup = remote_setup, .teardown = remote_teardown, .run = remote_run,
	.variants = all_variants,
};

static const hp_case_t c_trace = {
	.name = "trace",
	.desc = "seeded object-lifetime trace (sizes 8..32768, short and long lives) replayed, one op per iteration",
	.op_unit = "op",
	.setup = trace_setup, .teardown = trace_teardown, .run = trace_run,
	.variants = all_variants,
};

static const hp_case_t c_sweep = {
	.name = "sweep",
	.desc = "64-byte alloc+free pair on 1..N threads, one per CPU (per-CPU scalability)",
	.op_unit = "pair",
	.thread_sweep = 1,
	.setup = fixed64_setup, .teardown = job_teardown, .run = pair_run,
	.variants = all_variants,
};

const hp_suite_t hp_suite_slub = {
	.name = "slub",
	.desc = "SLUB: per-CPU slab fast paths, bulk, remote frees, a lifetime trace, vs malloc libraries",
	.doc = "docs/suites/slub.md",
	.cases = (const hp_case_t *const[]){ &c_pair, &c_bulk, &c_remote, &c_trace, &c_sweep, NULL },
};
