/* malloc_wl_alloctest.c — malloc-workloads: alloc_test, OLogN
 * Technologies' alloc-test (node-dot-cpp/alloc-test) as mimalloc-bench
 * builds (BENCH=4: new/delete, memory access "full") and runs it,
 * `alloc-test 1` and `alloc-test N`, written from its definition.
 *
 * T threads; each owns 2^18 / T slots and draws from its own random stream
 * (every thread from the same seed, as in the program). Setup
 * ("saturation"): for each group of 32 slots a random 32-bit word decides
 * which get a block (about half). Then each op picks a slot by a 6-level
 * 80/20 rule: the slots are cut into 7 ranges, range j holding
 * C(6,j) 0.2^(6-j) 0.8^j of them and picked with probability
 * C(6,j) 0.2^j 0.8^(6-j) (a quarter of the ops go to 0.0064 % of the
 * slots, 0.0064 % of the ops to a quarter of them), the slot uniform in its
 * range. An occupied slot's block is read in full (every byte, as words)
 * and freed; an empty slot gets a new block, every byte written with the
 * size's low byte. Sizes: class k in 2..9 with probability 2^-(k-1) (k = 9:
 * 2^-7), then uniform on (2^k, 2^(k+1)]: 5..1024 bytes, most under 16. At
 * the end a thread reads and frees every block it still holds. Every free
 * is made by the thread that allocated the block.
 *
 * One op = one step of the main loop (an allocation or a free); n = ops of
 * all threads, split evenly; the time is the wall clock of all threads'
 * ops, so ns per op = the program's "ms per 1 million" (it runs 10^8 ops a
 * thread). Differences: the program times its saturation and its final
 * frees with the ops (about 2^17 blocks each way against 10^8 ops a
 * thread); here they are done at setup and teardown, outside the time. The
 * threads are started at setup and live until teardown (as the program's
 * live its whole run), so a batch boundary never moves a block to another
 * thread. Each block's bytes are checked when read (a wrong byte aborts);
 * the checksum is the sum of the bytes read.
 */
#include "malloc_wl.h"
#include "hp_rand.h"
#include "hp_time.h"

#include <pthread.h>
#include <stdatomic.h>

#define AT_ITEMS (1u << 18)     /* slots of all threads */
#define AT_SIZE_EXP 10u         /* sizes up to 2^10 */
#define AT_LEVELS 7

struct alloctest;

typedef struct at_slot {
	unsigned char *p;
	uint32_t size;
	uint32_t gen;           /* OS thread that allocated it */
} at_slot_t;

typedef struct at_thr {
	struct alloctest *a;
	at_slot_t *slot;
	uint32_t items;
	uint32_t bound[AT_LEVELS - 1];  /* r1 below bound[j]: range j */
	uint32_t off[AT_LEVELS + 1];    /* range j: [off[j], off[j+1]) */
	uint64_t rng;
	uint64_t todo;
	uint32_t gen;
	uint64_t ops, allocs, frees, foreign_frees, threads, setup_blocks;
	uint64_t sum;           /* bytes read back: the checksum */
	pthread_cond_t go;
	char pad[64];
} at_thr_t;

typedef struct alloctest {
	const hp_mem_ops_t *ops;
	int n;
	at_thr_t *thr;
	_Atomic uint32_t next_gen;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, alive, ready, quit;
} alloctest_t;

/* C(6, j) p^j (1-p)^(6-j) */
static double at_binom6(int j, double p)
{
	static const double c6[7] = { 1, 6, 15, 20, 15, 6, 1 };
	double v = c6[j];

	for (int i = 0; i < j; i++)
		v *= p;
	for (int i = j; i < 6; i++)
		v *= 1 - p;
	return v;
}

/* The 80/20 ranges of a thread's items: range j is picked with probability
 * 0.8^(6-j) 0.2^j x C(6,j) and holds the items' share of range 6 - j. */
static void at_ranges(at_thr_t *t)
{
	double cum = 0;

	for (int j = 0; j < AT_LEVELS - 1; j++) {
		cum += at_binom6(j, 0.2);
		t->bound[j] = (uint32_t)(4294967295.0 * cum);
	}
	t->off[0] = 0;
	for (int j = 0; j < AT_LEVELS - 1; j++)
		t->off[j + 1] = t->off[j] + (uint32_t)(t->items * at_binom6(6 - j, 0.2));
	t->off[AT_LEVELS] = t->items;
}

static uint32_t at_pick(const at_thr_t *t, uint64_t r)
{
	uint32_t r1 = (uint32_t)r, r2 = (uint32_t)(r >> 32), span;
	int j = 0;

	while (j < AT_LEVELS - 1 && r1 >= t->bound[j])
		j++;
	span = t->off[j + 1] - t->off[j];
	return t->off[j] + (span ? r2 % span : 0);
}

/* Class k = 2 + the trailing zeros of a 7-bit number + 1, then uniform on
 * (2^k, 2^(k+1)]. */
static uint32_t at_size(uint64_t r)
{
	unsigned bits = AT_SIZE_EXP - 3;
	uint32_t c = (uint32_t)(r & ((1u << bits) - 1)) + 1;
	unsigned k = (unsigned)__builtin_ctz(c) + 2;

	r >>= bits;
	return (uint32_t)(r & ((1u << k) - 1)) + 1 + (1u << k);
}

static unsigned char *at_new(at_thr_t *t, at_slot_t *s, uint32_t size)
{
	unsigned char *p = t->a->ops->alloc(size);

	if (!p) {
		fprintf(stderr, "malloc-workloads: alloc_test: malloc(%u) returned NULL\n", size);
		abort();
	}
	memset(p, (unsigned char)size, size);
	s->p = p;
	s->size = size;
	s->gen = t->gen;
	return p;
}

/* Reads every byte (as words, then the tail), checks them, frees. */
static void at_release(at_thr_t *t, at_slot_t *s)
{
	uint64_t want = 0x0101010101010101ull * (unsigned char)s->size, w, bad = 0;
	size_t i = 0;

	for (; i + 8 <= s->size; i += 8) {
		memcpy(&w, s->p + i, 8);
		bad |= w ^ want;
	}
	for (; i < s->size; i++)
		bad |= s->p[i] ^ (unsigned char)s->size;
	if (bad) {
		fprintf(stderr, "malloc-workloads: alloc_test: block %p of %u bytes corrupted\n", (void *)s->p, s->size);
		abort();
	}
	t->sum += (uint64_t)s->size * (unsigned char)s->size;
	t->foreign_frees += s->gen != t->gen;
	t->a->ops->free(s->p, s->size);
	s->p = NULL;
	t->frees++;
}

static void at_saturate(at_thr_t *t)
{
	for (uint32_t g = 0; g + 32 <= t->items; g += 32) {
		uint32_t mask = (uint32_t)hp_splitmix64(&t->rng);

		for (unsigned j = 0; j < 32; j++)
			if (mask >> j & 1) {
				at_new(t, &t->slot[g + j], at_size(hp_splitmix64(&t->rng)));
				t->setup_blocks++;
			}
	}
}

static void at_ops(at_thr_t *t, uint64_t k)
{
	for (uint64_t i = 0; i < k; i++) {
		at_slot_t *s = &t->slot[at_pick(t, hp_splitmix64(&t->rng))];

		if (s->p) {
			at_release(t, s);
		} else {
			at_new(t, s, at_size(hp_splitmix64(&t->rng)));
			t->allocs++;
		}
	}
	t->ops += k;
}

static void *at_thread(void *arg)
{
	at_thr_t *t = arg;
	alloctest_t *a = t->a;

	t->gen = atomic_fetch_add_explicit(&a->next_gen, 1, memory_order_relaxed) + 1;
	if (t->threads++ == 0)
		at_saturate(t);         /* the first thread of the slots (the mutant's later ones do not) */
	pthread_mutex_lock(&a->mu);
	if (t->threads == 1 && ++a->ready == a->n)
		pthread_cond_signal(&a->cv);
	for (;;) {
		uint64_t k;

		while (t->todo == 0 && !a->quit)
			pthread_cond_wait(&t->go, &a->mu);
		if (t->todo == 0)
			break;
		k = t->todo;
		pthread_mutex_unlock(&a->mu);
		at_ops(t, k);
		pthread_mutex_lock(&a->mu);
		t->todo = 0;
		if (--a->running == 0)
			pthread_cond_signal(&a->cv);
#ifdef WL_MUTATE_ALLOCTEST_RESPAWN
		/* the test's mutant: a new thread for every batch (as glibc_thread
		 * does), so the next batch frees blocks this thread allocated */
		{
			pthread_attr_t at;
			pthread_t nt;

			if (pthread_attr_init(&at) == 0 && pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) == 0 &&
			    pthread_create(&nt, &at, at_thread, t) == 0) {
				pthread_attr_destroy(&at);
				pthread_mutex_unlock(&a->mu);
				return NULL;
			}
		}
#endif
	}
	pthread_mutex_unlock(&a->mu);
	/* the program's end: read and free every block still held */
	for (uint32_t i = 0; i < t->items; i++)
		if (t->slot[i].p)
			at_release(t, &t->slot[i]);
	pthread_mutex_lock(&a->mu);
	if (--a->alive == 0)
		pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static alloctest_t *at_new_test(const hp_mem_ops_t *ops, int n, uint32_t items, uint64_t seed)
{
	alloctest_t *a = calloc(1, sizeof *a);

	if (!a)
		return NULL;
	a->thr = calloc((size_t)n, sizeof *a->thr);
	if (!a->thr) {
		free(a);
		return NULL;
	}
	a->ops = ops;
	a->n = n;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	for (int i = 0; i < n; i++) {
		at_thr_t *t = &a->thr[i];

		t->a = a;
		t->items = items / (uint32_t)n;
		t->slot = calloc(t->items, sizeof *t->slot);
		if (!t->slot) {
			fprintf(stderr, "malloc-workloads: alloc_test: out of memory\n");
			abort();
		}
		t->rng = seed ^ 0xa110c7e57ull;
		at_ranges(t);
		pthread_cond_init(&t->go, NULL);
	}
	a->alive = n;
	for (int i = 0; i < n; i++) {
		pthread_attr_t at;
		pthread_t nt;

		if (pthread_attr_init(&at) != 0 || pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) != 0 ||
		    pthread_create(&nt, &at, at_thread, &a->thr[i]) != 0) {
			fprintf(stderr, "malloc-workloads: pthread_create failed\n");
			abort();
		}
		pthread_attr_destroy(&at);
	}
	pthread_mutex_lock(&a->mu);
	while (a->ready < n)
		pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
	return a;
}

/* n ops over the threads (the first n % T get one more). */
static void at_batch(alloctest_t *a, uint64_t n)
{
	pthread_mutex_lock(&a->mu);
	a->running = 0;
	for (int i = 0; i < a->n; i++) {
		a->thr[i].todo = n / (uint64_t)a->n + ((uint64_t)i < n % (uint64_t)a->n);
		a->running += a->thr[i].todo > 0;
		pthread_cond_signal(&a->thr[i].go);
	}
	while (a->running > 0)
		pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
}

/* Ends the threads; each frees what it holds. */
static void at_quit(alloctest_t *a)
{
	pthread_mutex_lock(&a->mu);
	a->quit = 1;
	for (int i = 0; i < a->n; i++)
		pthread_cond_signal(&a->thr[i].go);
	while (a->alive > 0)
		pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
}

static void at_free(alloctest_t *a)
{
	at_quit(a);
	for (int i = 0; i < a->n; i++) {
		free(a->thr[i].slot);
		pthread_cond_destroy(&a->thr[i].go);
	}
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a->thr);
	free(a);
}

static void *at_setup(hp_ctx_t *ctx)
{
	int64_t w = ctx->p && ctx->p->value > 0 ? ctx->p->value : 1;

	wl_unpin(ctx);

	return at_new_test(WL_OPS(ctx), w > WL_MAX_THREADS ? WL_MAX_THREADS : (int)w, AT_ITEMS, ctx->seed);
}

static void at_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	double c0 = wl_cpu_s(), t0 = hp_mono_s(), t;

	wl_unpin(ctx);

	at_batch(ctx->data, n);
	t = hp_mono_s() - t0;
	hp_set_iteration_time(st, t);
	wl_cpu_counter(st, c0, (double)n);
	wl_rss_counter(st);
}

static void at_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	at_free(data);
}

/* bench.sh: alloc-test1 and alloc-testN (N = the CPU count, at most 16) */
static const hp_param_t at_params[] = {
	{ .label = "1", .value = 1, .full_only = 1 },
	{ .label = "2", .value = 2, .min_cpus = 2 },
	{ .label = "4", .value = 4, .min_cpus = 4, .full_only = 1 },
	{ .label = NULL },
};

const hp_case_t wl_case_alloc_test = {
	.name = "alloc_test",
	.desc = "OLogN alloc-test (alloc-test T): 2^18/T slots a thread picked by a 6-level 80/20 rule, "
		"free (reading every byte) or malloc 5..1024 B (writing every byte); op = one step",
	.op_unit = "op",
	.param_name = "threads",
	.params = at_params,
	.manual_time = 1,
	.setup = at_setup,
	.teardown = at_teardown,
	.run = at_run,
	.variants = wl_variants,
};
