/* malloc_wl_glibc.c — malloc-workloads: glibc_simple and glibc_thread,
 * glibc's malloc micro-benchmarks (benchtests/bench-malloc-simple.c and
 * bench-malloc-thread.c) as mimalloc-bench packages them, written from
 * their definitions.
 *
 * - glibc_simple: iterations of: allocate k blocks of s bytes writing
 *   every byte, free the first half first-in first-out and the second
 *   half last-in first-out; k in {25, 100, 400, 1600}, s in {16, 32, 64},
 *   each (s, k) getting the same number of blocks (iterations in the
 *   ratio 64 : 16 : 4 : 1). One op = one block's malloc, writes and free.
 * - glibc_thread: T threads, each with a working set of 1024 slots
 *   (empty at first); one op frees the block at a random slot and puts a
 *   new block there whose size follows an inverse-square distribution on
 *   4..32768 bytes, writing every byte. The offsets (4096) and sizes
 *   (8000) are drawn once and every thread walks the same sequence, as in
 *   the program. n = ops of all threads; counter iters_per_sec (the
 *   program prints its iteration count for a 2 s run).
 */
#include "malloc_wl.h"
#include "hp_rand.h"
#include "hp_time.h"

#include <pthread.h>

/* ------------------------------------------------------------------ */
/* glibc_simple                                                        */
/* ------------------------------------------------------------------ */

#define GS_MAXK 1600u
static const unsigned gs_sizes[3] = { 16, 32, 64 };
static const unsigned gs_counts[4] = { 25, 100, 400, 1600 };

typedef struct gsimple {
	const hp_mem_ops_t *ops;
	unsigned step;          /* position in the cycle: (size, count, iteration) */
	uint64_t ops_done, frees, sum;
	unsigned char *arr[GS_MAXK];
} gsimple_t;

/* The cycle: for each size, for each count k, 1600 / k iterations of k blocks. */
static void gs_step(gsimple_t *g, unsigned *size, unsigned *k)
{
	unsigned per = 0, si = g->step / 85, r = g->step % 85;       /* 64+16+4+1 iterations per size */

	for (unsigned ki = 0; ki < 4; ki++) {
		per = GS_MAXK / gs_counts[ki];
		if (r < per) {
			*size = gs_sizes[si];
			*k = gs_counts[ki];
			break;
		}
		r -= per;
	}
	g->step = (g->step + 1) % (3 * 85);
}

static void gs_free(gsimple_t *g, unsigned char *b, unsigned size)
{
	if (b[0] != 0 || b[size - 1] != (unsigned char)(size - 1)) {
		fprintf(stderr, "malloc-workloads: glibc_simple: block %p corrupted\n", (void *)b);
		abort();
	}
	g->sum += b[size - 1];
	g->ops->free(b, size);
	g->frees++;
}

/* One iteration; returns its k. */
static unsigned gs_iteration(gsimple_t *g)
{
	unsigned size = 16, k = 25;

	gs_step(g, &size, &k);
	for (unsigned i = 0; i < k; i++) {
		volatile unsigned char *b = g->ops->alloc(size);

		if (!b) {
			fprintf(stderr, "malloc-workloads: glibc_simple: malloc(%u) returned NULL\n", size);
			abort();
		}
		for (unsigned j = 0; j < size; j++)
			b[j] = (unsigned char)j;
		g->arr[i] = (unsigned char *)b;
	}
	for (unsigned i = 0; i < k / 2; i++)
		gs_free(g, g->arr[i], size);
	for (unsigned i = k; i-- > k / 2;)
		gs_free(g, g->arr[i], size);
	g->ops_done += k;
	return k;
}

static void *gs_setup(hp_ctx_t *ctx)
{
	gsimple_t *g = calloc(1, sizeof *g);

	if (g)
		g->ops = WL_OPS(ctx);
	return g;
}

/* Whole iterations until n blocks are done; the time is scaled back to n. */
static void gs_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	gsimple_t *g = ctx->data;
	uint64_t done = 0;
	double c0 = wl_cpu_s(), t0 = hp_mono_s(), t;

	while (done < n)
		done += gs_iteration(g);
	t = hp_mono_s() - t0;
	hp_set_iteration_time(st, t * (double)n / (double)done);
	wl_cpu_counter(st, c0, (double)done);
	wl_rss_counter(st);
}

static void gs_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	free(data);
}

/* ------------------------------------------------------------------ */
/* glibc_thread                                                        */
/* ------------------------------------------------------------------ */

#define GT_SET 1024u
#define GT_OFFSETS (GT_SET * 4)
#define GT_SIZES 8000u
#define GT_MIN 4.0f
#define GT_MAX 32768.0f

struct gthread;

typedef struct gt_thr {
	struct gthread *g;
	pthread_t t;
	void *slot[GT_SET];
	uint32_t size[GT_SET];
	unsigned off_state, size_state;
	uint64_t todo, ops, frees, freed;
	char pad[64];
} gt_thr_t;

typedef struct gthread {
	const hp_mem_ops_t *ops;
	int n;
	uint16_t off[GT_OFFSETS];
	uint16_t size[GT_SIZES];
	gt_thr_t *thr;
} gthread_t;

/* Inverse square on [min, max]: invert the distribution's CDF at u. */
static unsigned gt_size_of(double u)
{
	double lo = 1.0 / GT_MIN, hi = 1.0 / GT_MAX;

	return (unsigned)(1.0 / (lo - (lo - hi) * u));
}

static gthread_t *gt_new(const hp_mem_ops_t *ops, int n, uint64_t seed)
{
	gthread_t *g = calloc(1, sizeof *g);
	uint64_t s = seed ^ 0x91bcull;

	if (!g)
		return NULL;
	g->thr = calloc((size_t)n, sizeof *g->thr);
	if (!g->thr) {
		free(g);
		return NULL;
	}
	g->ops = ops;
	g->n = n;
	for (unsigned i = 0; i < GT_OFFSETS; i++)
		g->off[i] = (uint16_t)(hp_splitmix64(&s) % GT_SET);
	for (unsigned i = 0; i < GT_SIZES; i++)
		g->size[i] = (uint16_t)gt_size_of((double)(hp_splitmix64(&s) >> 11) / 9007199254740992.0);
	for (int i = 0; i < n; i++)
		g->thr[i].g = g;
	return g;
}

static void *gt_worker(void *arg)
{
	gt_thr_t *me = arg;
	gthread_t *g = me->g;

	for (uint64_t i = 0; i < me->todo; i++) {
		unsigned idx = g->off[me->off_state++ % GT_OFFSETS];
		unsigned size = g->size[me->size_state++ % GT_SIZES];
		volatile unsigned char *b;

		if (me->slot[idx]) {
			unsigned char *o = me->slot[idx];
			unsigned os = me->size[idx];

			if (o[os - 1] != (unsigned char)(os - 1)) {
				fprintf(stderr, "malloc-workloads: glibc_thread: block %p corrupted\n", (void *)o);
				abort();
			}
			g->ops->free(o, os);
			me->frees++;
			me->freed += os;
		}
		b = g->ops->alloc(size);
		if (!b) {
			fprintf(stderr, "malloc-workloads: glibc_thread: malloc(%u) returned NULL\n", size);
			abort();
		}
		for (unsigned j = 0; j < size; j++)
			b[j] = (unsigned char)j;
		me->slot[idx] = (void *)b;
		me->size[idx] = size;
	}
	me->ops += me->todo;
	return NULL;
}

static void gt_batch(gthread_t *g, uint64_t n)
{
	for (int i = 0; i < g->n; i++) {
		g->thr[i].todo = n / (uint64_t)g->n + ((uint64_t)i < n % (uint64_t)g->n);
		if (pthread_create(&g->thr[i].t, NULL, gt_worker, &g->thr[i]) != 0) {
			fprintf(stderr, "malloc-workloads: pthread_create failed\n");
			abort();
		}
	}
	for (int i = 0; i < g->n; i++)
		pthread_join(g->thr[i].t, NULL);
}

static void gt_free(gthread_t *g)
{
	for (int i = 0; i < g->n; i++)
		for (unsigned j = 0; j < GT_SET; j++)
			if (g->thr[i].slot[j])
				g->ops->free(g->thr[i].slot[j], g->thr[i].size[j]);
	free(g->thr);
	free(g);
}

static void *gt_setup(hp_ctx_t *ctx)
{
	int64_t w = ctx->p && ctx->p->value > 0 ? ctx->p->value : 1;

	wl_unpin(ctx);

	return gt_new(WL_OPS(ctx), w > WL_MAX_THREADS ? WL_MAX_THREADS : (int)w, ctx->seed);
}

static void gt_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	double c0 = wl_cpu_s(), t0 = hp_mono_s(), t;

	wl_unpin(ctx);

	gt_batch(ctx->data, n);
	t = hp_mono_s() - t0;
	hp_set_iteration_time(st, t);
	hp_counter(st, "iters_per_sec", t > 0 ? (double)n / t : 0);
	wl_cpu_counter(st, c0, (double)n);
	wl_rss_counter(st);
}

static void gt_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	gt_free(data);
}

static const hp_param_t gt_params[] = {
	{ .label = "1", .value = 1, .full_only = 1 },
	{ .label = "2", .value = 2, .min_cpus = 2 },
	{ .label = "4", .value = 4, .min_cpus = 4, .full_only = 1 },
	{ .label = NULL },
};

const hp_case_t wl_case_glibc_simple = {
	.name = "glibc_simple",
	.desc = "glibc bench-malloc-simple: k in {25..1600} blocks of 16/32/64 B, every byte written, "
		"half freed FIFO, half LIFO; op = one block",
	.op_unit = "block",
	.manual_time = 1,
	.setup = gs_setup,
	.teardown = gs_teardown,
	.run = gs_run,
	.variants = wl_variants,
};

const hp_case_t wl_case_glibc_thread = {
	.name = "glibc_thread",
	.desc = "glibc bench-malloc-thread: per thread 1024 slots, free + malloc 4..32768 B (inverse square), "
		"every byte written; op = one slot replaced",
	.op_unit = "op",
	.param_name = "threads",
	.params = gt_params,
	.manual_time = 1,
	.setup = gt_setup,
	.teardown = gt_teardown,
	.run = gt_run,
	.variants = wl_variants,
};
