/* slub.c — suite "slub": impl/slub's per-CPU slab allocator against glibc, jemalloc, mimalloc, tcmalloc and libhotpath-malloc.
 *
 * What each case measures (README text):
 *
 * - pair: one alloc + free of an object of the param's size, the per-CPU
 *   fast path on both sides after the first slab. impl: the kmalloc-N
 *   cache is looked up once in setup (as kmalloc of a constant size does
 *   at compile time) and the pair is kmem_cache_alloc + kmem_cache_free on
 *   it, inlined: impl-pinned with plain loads and stores (the thread is
 *   bound and has declared its CPU), impl-cmpxchg with the rseq cpu_id and
 *   a locked cmpxchg16b each way. Baselines: malloc(N) + free(p), direct
 *   calls into the process's malloc (LD_PRELOAD picks which), in a child.
 * - bulk: kmem_cache_alloc_bulk of 16 objects of 64 bytes then
 *   kmem_cache_free_bulk of them (one slot hold and one detached freelist
 *   per batch); baselines: 16 malloc then 16 free. Reported per batch and
 *   per object.
 * - remote_free: the measured thread (first CPU) allocates 64-byte objects
 *   and hands them through a single-producer ring to a consumer thread on
 *   the second CPU, which frees them: every free is a free to another
 *   CPU's slab (impl: __slab_free, a cmpxchg16b on the slab's own
 *   freelist). Time per object handed over; the slower side sets the pace.
 * - trace: a seeded object-lifetime trace replayed one operation per
 *   iteration: 32768 allocations of sizes skewed small (45% 8-64 bytes,
 *   30% -256, 17% -1024, 7% -8192, 1% -32768) with lifetimes 60% short
 *   (1-16 later allocations), 30% medium (-1024), 10% long (-16384), each
 *   object freed when its lifetime ends; the same trace for every
 *   variant. impl: kmalloc/kfree (size class lookup, page-descriptor
 *   lookup on free, buddy above 8192).
 * - sweep: the 64-byte pair on 1..N threads, one per CPU: the per-CPU
 *   paths should scale linearly.
 *
 * Every measured loop is written once (slub_tmpl.h) and compiled once per
 * variant family, so impl's inline fast path is compared with a direct
 * call into malloc, never through a function pointer on one side only.
 */
#include "hp.h"
#include "memops.h"
#include "malloc_variants.h"
#include "slub.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BULK_N 16
#define RING_N 1024
#define TRACE_ALLOCS 32768

/* ------------------------------------------------------------------ */
/* Job data                                                            */
/* ------------------------------------------------------------------ */

typedef struct ring {
	_Alignas(64) uint64_t head;      /* written by the producer */
	_Alignas(64) uint64_t tail;      /* written by the consumer */
	_Alignas(64) void *slot[RING_N];
} ring_t;

typedef struct trace_op {
	uint32_t size;                   /* 0: free */
	uint32_t slot;
} trace_op_t;

typedef struct trace {
	trace_op_t *ops;
	size_t nops;
	void **slot;
	uint64_t pos;                    /* where the next run() continues */
} trace_t;

enum { F_PINNED, F_CMPXCHG, F_LIBC };

typedef struct slub_job {
	int fam;
	size_t size;
	hp_kmem_cache_t *cache;          /* impl: the kmalloc cache of size */
	ring_t *ring;                    /* remote_free */
	pthread_t consumer;
	int consumer_cpu, consumer_state;/* 0 starting, 1 running, -1 failed */
	int (*bind_cpu)(int cpu);
	int stop;
	trace_t *trace;
} slub_job_t;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void ring_push(ring_t *r, void *p)
{
	uint64_t h = r->head;

	if (!p)
		return;
	while (h - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= RING_N)
		cpu_relax();
	r->slot[h & (RING_N - 1)] = p;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
}

/* NULL once stop is set and the ring is empty */
static void *ring_pop(ring_t *r, const int *stop)
{
	uint64_t t = r->tail;
	unsigned spins = 0;
	void *p;

	while (t == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(stop, __ATOMIC_ACQUIRE) && t == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE))
			return NULL;
		if (++spins < 2000)
			cpu_relax();
		else
			sched_yield();
	}
	p = r->slot[t & (RING_N - 1)];
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
	return p;
}

static int consumer_start(slub_job_t *j)
{
	int ok = j->bind_cpu(j->consumer_cpu) == 0;

	if (ok && j->fam == F_PINNED)
		ok = hp_slub_set_cpu(j->consumer_cpu) == 0;
	__atomic_store_n(&j->consumer_state, ok ? 1 : -1, __ATOMIC_RELEASE);
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* The measured loops, once per family                                 */
/* ------------------------------------------------------------------ */

static char skip_msg[64][96];

static int pinned_begin(hp_state_t *st, hp_ctx_t *ctx)
{
	int cpu = ctx->cpus[st->thread_index];

	if (hp_slub_set_cpu(cpu) == 0)
		return 0;
	snprintf(skip_msg[st->thread_index % 64], sizeof skip_msg[0],
		 "impl-pinned: the thread is not bound to CPU %d alone", cpu);
	hp_skip(st, skip_msg[st->thread_index % 64]);
	return -1;
}

#define T_SUFFIX pinned
#define T_BEGIN(st, ctx) pinned_begin(st, ctx)
#define T_ALLOC(c, sz) hp_kmem_cache_alloc_pinned(c)
#define T_FREE(c, p) hp_kmem_cache_free_pinned((c), (p))
#define T_BULK_ALLOC(c, sz, n, v) hp_kmem_cache_alloc_bulk((c), (n), (v))
#define T_BULK_FREE(c, n, v) hp_kmem_cache_free_bulk((c), (n), (v))
#define T_KMALLOC(sz) hp_kmalloc_pinned(sz)
#define T_KFREE(p) hp_kfree(p)
#include "slub_tmpl.h"

#define T_SUFFIX cmpxchg
#define T_BEGIN(st, ctx) ((void)(st), (void)(ctx), 0)
#define T_ALLOC(c, sz) hp_kmem_cache_alloc_cmpxchg(c)
#define T_FREE(c, p) hp_kmem_cache_free_cmpxchg((c), (p))
#define T_BULK_ALLOC(c, sz, n, v) hp_kmem_cache_alloc_bulk((c), (n), (v))
#define T_BULK_FREE(c, n, v) hp_kmem_cache_free_bulk((c), (n), (v))
#define T_KMALLOC(sz) hp_kmalloc(sz)
#define T_KFREE(p) hp_kfree(p)
#include "slub_tmpl.h"

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

#define T_SUFFIX libc
#define T_BEGIN(st, ctx) ((void)(st), (void)(ctx), 0)
#define T_ALLOC(c, sz) malloc(sz)
#define T_FREE(c, p) free(p)
#define T_BULK_ALLOC(c, sz, n, v) libc_bulk_alloc((sz), (n), (v))
#define T_BULK_FREE(c, n, v) libc_bulk_free((n), (v))
#define T_KMALLOC(sz) malloc(sz)
#define T_KFREE(p) free(p)
#include "slub_tmpl.h"

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

static int family(const hp_ctx_t *ctx)
{
	return ctx->v == &v_pinned ? F_PINNED : ctx->v == &v_cmpxchg ? F_CMPXCHG : F_LIBC;
}

#define DISPATCH(name)                                                         \
	static void name(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)            \
	{                                                                      \
		switch (((slub_job_t *)ctx->data)->fam) {                      \
		case F_PINNED: name##_pinned(st, n, ctx); break;               \
		case F_CMPXCHG: name##_cmpxchg(st, n, ctx); break;             \
		default: name##_libc(st, n, ctx); break;                       \
		}                                                              \
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
	j->fam = family(ctx);
	j->size = size;
	if (j->fam != F_LIBC) {
		j->cache = hp_kmalloc_cache(size, j->fam == F_PINNED);
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
	void *(*fn)(void *) = j && j->fam == F_PINNED ? consumer_pinned
			      : j && j->fam == F_CMPXCHG ? consumer_cmpxchg : consumer_libc;
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
	if (pthread_create(&j->consumer, NULL, fn, j) != 0) {
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
