/* malloc_wl_mstress.c — malloc-workloads: mstress, mimalloc-bench's
 * allocator stress test (bench/mstress, `mstress T 50 25`), written from
 * its definition.
 *
 * One iteration starts T threads (thread 0 on the calling thread, as the
 * program's main thread joins in); thread t makes a = 100 x scale x
 * (t % 8 + 1) allocations into its data array and a / 2 into a retained
 * array, choosing at each step with even odds which (data while any are
 * left, retained when data is done). A data object is 1..16 words, a
 * retained one 1..64 words; 1% of objects are 100 x larger, of those 10%
 * 1000 x and 1% 10000 x (up to 10 MiB). Every word is written on
 * allocation and checked on free. After each step the thread frees a
 * random data object with chance 67% and with chance 26% swaps a random
 * data object with one of 1000 shared transfer slots (so objects move
 * between threads and are freed on another thread or a later iteration).
 * At its end a thread frees everything it still holds; after each
 * iteration the calling thread frees about half the transfer slots
 * (chance 51%). Chances are the program's `r % 100 <= p`. One op = one
 * iteration; n iterations per batch; the program's figure is the time of
 * 25 iterations. Difference: the program frees all transfer slots after
 * its last iteration; hotpath frees them at teardown (outside the time).
 */
#include "malloc_wl.h"
#include "hp_rand.h"
#include "hp_time.h"

#include <pthread.h>
#include <stdatomic.h>

#define MS_TRANSFERS 1000u
#define MS_SCALE 50u
#define MS_COOKIE 0xbf58476d1ce4e5b9ull

struct mstress;

typedef struct ms_thr {
	struct mstress *m;
	pthread_t t;
	int tid;
	uint64_t allocs, frees, words;  /* words: written by this thread's allocations */
	char pad[64];
} ms_thr_t;

typedef struct mstress {
	const hp_mem_ops_t *ops;
	int n;
	unsigned scale;
	uint64_t seed, iter;
	uint64_t main_frees;
	_Atomic(uint64_t *) transfer[MS_TRANSFERS];
	ms_thr_t *thr;
} mstress_t;

static int ms_chance(unsigned p, uint64_t *r)
{
	return hp_splitmix64(r) % 100 <= p;
}

static uint64_t *ms_alloc(ms_thr_t *me, size_t items, uint64_t *r)
{
	uint64_t *p;

	if (ms_chance(1, r)) {
		if (ms_chance(1, r))
			items *= 10000;
		else if (ms_chance(10, r))
			items *= 1000;
		else
			items *= 100;
	}
	if (items == 40)
		items++;        /* the program avoids a size glibc's pthreads uses */
	p = me->m->ops->alloc(items * sizeof *p);
	if (!p) {
		fprintf(stderr, "malloc-workloads: mstress: malloc(%zu) returned NULL\n", items * sizeof *p);
		abort();
	}
	for (size_t i = 0; i < items; i++)
		p[i] = (items - i) ^ MS_COOKIE;
	me->allocs++;
	me->words += items;
	return p;
}

static void ms_free(const hp_mem_ops_t *ops, uint64_t *p, uint64_t *frees)
{
	uint64_t items;

	if (!p)
		return;
	items = p[0] ^ MS_COOKIE;
	for (uint64_t i = 0; i < items; i++)
		if ((p[i] ^ MS_COOKIE) != items - i) {
			fprintf(stderr, "malloc-workloads: mstress: block %p corrupted at word %llu\n", (void *)p,
				(unsigned long long)i);
			abort();
		}
	ops->free(p, items * sizeof *p);
	++*frees;
}

static void *ms_stress(void *arg)
{
	ms_thr_t *me = arg;
	mstress_t *m = me->m;
	const hp_mem_ops_t *ops = m->ops;
	uint64_t r = m->seed ^ ((uint64_t)(me->tid + 1) * 43) ^ (m->iter << 20);
	size_t allocs = (size_t)100 * m->scale * (size_t)(me->tid % 8 + 1), retain = allocs / 2;
	size_t top = 0, rtop = 0;
	uint64_t **data = malloc(allocs * sizeof *data), **kept = malloc(retain * sizeof *kept);

	if (!data || !kept) {
		fprintf(stderr, "malloc-workloads: mstress: out of memory\n");
		abort();
	}
	while (allocs > 0 || retain > 0) {
		if (retain == 0 || (ms_chance(50, &r) && allocs > 0)) {
			allocs--;
			data[top++] = ms_alloc(me, (size_t)1 << (hp_splitmix64(&r) % 5), &r);
		} else {
			kept[rtop++] = ms_alloc(me, (size_t)1 << (hp_splitmix64(&r) % 7), &r);
			retain--;
		}
		if (ms_chance(66, &r) && top > 0) {
			size_t i = hp_splitmix64(&r) % top;

			ms_free(ops, data[i], &me->frees);
			data[i] = NULL;
		}
		if (ms_chance(25, &r) && top > 0) {
			size_t i = hp_splitmix64(&r) % top;
			size_t j = hp_splitmix64(&r) % MS_TRANSFERS;

			data[i] = atomic_exchange_explicit(&m->transfer[j], data[i], memory_order_acq_rel);
		}
	}
	for (size_t i = 0; i < rtop; i++)
		ms_free(ops, kept[i], &me->frees);
	for (size_t i = 0; i < top; i++)
		ms_free(ops, data[i], &me->frees);
	free(data);
	free(kept);
	return NULL;
}

static mstress_t *ms_new(const hp_mem_ops_t *ops, int n, unsigned scale, uint64_t seed)
{
	mstress_t *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	m->thr = calloc((size_t)n, sizeof *m->thr);
	if (!m->thr) {
		free(m);
		return NULL;
	}
	m->ops = ops;
	m->n = n;
	m->scale = scale;
	m->seed = seed;
	for (unsigned i = 0; i < MS_TRANSFERS; i++)
		atomic_init(&m->transfer[i], NULL);
	for (int i = 0; i < n; i++) {
		m->thr[i].m = m;
		m->thr[i].tid = i;
	}
	return m;
}

/* One iteration: T threads, then about half the transfer slots freed. */
static void ms_iteration(mstress_t *m)
{
	uint64_t r = m->seed ^ (43 * 43) ^ (m->iter * 0x9e37ull);

	for (int i = 1; i < m->n; i++)
		if (pthread_create(&m->thr[i].t, NULL, ms_stress, &m->thr[i]) != 0) {
			fprintf(stderr, "malloc-workloads: pthread_create failed\n");
			abort();
		}
	ms_stress(&m->thr[0]);
	for (int i = 1; i < m->n; i++)
		pthread_join(m->thr[i].t, NULL);
	for (unsigned i = 0; i < MS_TRANSFERS; i++)
		if (ms_chance(50, &r))
			ms_free(m->ops, atomic_exchange(&m->transfer[i], NULL), &m->main_frees);
	m->iter++;
}

static void ms_free_all(mstress_t *m)
{
	for (unsigned i = 0; i < MS_TRANSFERS; i++)
		ms_free(m->ops, atomic_exchange(&m->transfer[i], NULL), &m->main_frees);
	free(m->thr);
	free(m);
}

static void *ms_setup(hp_ctx_t *ctx)
{
	int64_t w = ctx->p && ctx->p->value > 0 ? ctx->p->value : 1;

	wl_unpin(ctx);

	return ms_new(WL_OPS(ctx), w > WL_MAX_THREADS ? WL_MAX_THREADS : (int)w, MS_SCALE, ctx->seed);
}

static void ms_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	double c0 = wl_cpu_s(), t0 = hp_mono_s();

	wl_unpin(ctx);

	for (uint64_t i = 0; i < n; i++)
		ms_iteration(ctx->data);
	hp_set_iteration_time(st, hp_mono_s() - t0);
	wl_cpu_counter(st, c0, (double)n);
	wl_rss_counter(st);
}

static void ms_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	ms_free_all(data);
}

static const hp_param_t ms_params[] = {
	{ .label = "1", .value = 1, .full_only = 1 },
	{ .label = "2", .value = 2, .min_cpus = 2, .full_only = 1 },
	{ .label = "4", .value = 4, .min_cpus = 4, .full_only = 1 },
	{ .label = NULL },
};

const hp_case_t wl_case_mstress = {
	.name = "mstress",
	.desc = "mimalloc-bench mstress (T 50 25): T threads allocate 1..64 words (1% up to 10000x), "
		"free 2/3, swap 1/4 through 1000 shared slots; op = one iteration",
	.op_unit = "iteration",
	.param_name = "threads",
	.params = ms_params,
	.manual_time = 1,
	.setup = ms_setup,
	.teardown = ms_teardown,
	.run = ms_run,
	.variants = wl_variants,
};
