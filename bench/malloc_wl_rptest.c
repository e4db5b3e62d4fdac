/* malloc_wl_rptest.c — malloc-workloads: rptest, rpmalloc's benchmark
 * (Mattias Jansson's rpmalloc-benchmark) as mimalloc-bench packages and runs
 * it, `rptest T 0 1 2 500 1000 100 8 16000`, written from its definition.
 *
 * Parameters, in the program's order: T threads; random sizes (mode 0) with
 * a linear drop-off (size mode 1) on [8, 16000]; a cross-thread batch every
 * 2nd loop; 500 loops an iteration; 1000 slots a thread; an op count of 100
 * (a loop's allocations are 30..99 % of it, its frees 80 % of that).
 *
 * A thread owns 1000 slots, empty at first. Loop l of iteration it (a
 * thread lives two iterations) does:
 *  1. take the list of batches other threads pushed to it (a lock-free
 *     stack) and, after step 2, free every block of each, then the batch's
 *     pointer array and its header;
 *  2. free_tab[(it + l) % 257] x 0.8 frees, walking the slots with a
 *     stride of 11 (the second prime, from 7 up, that does not divide the
 *     slot count); an empty slot costs nothing;
 *  3. alloc_tab[(it + l) % 311] allocations, walking with a stride of 7
 *     (the first such prime): the slot's block is freed first if there is
 *     one; the size is size_tab[(si + 2) % 2000] for a running size index
 *     si (set to (T index + 1) x (it + 1) x 37 at each iteration's start,
 *     advanced per allocation);
 *  4. on every 2nd loop (when T > 1): a batch header and an array of as
 *     many pointers as step 3 made allocations, and as many more blocks
 *     (sizes continuing the size index), pushed to the next thread round
 *     robin (skipping itself): those are the cross-thread frees.
 * A block under 4096 bytes comes, in turn by (si + k) % 3 for the loop's
 * k-th allocation, from calloc, memalign(8) or memalign(16) (those then
 * memset to 0xCD); a larger one from calloc: every byte is written. Then
 * its first 8 bytes (the program: 4), one byte a page and its last byte.
 * At an iteration's end a thread waits for every thread to finish the
 * iteration's loops, frees the batches pushed to it and every slot's
 * block. After two iterations it starts its successor on the same slots
 * and exits (the program starts new threads for its second pair of
 * iterations), so no block outlives the thread that allocated it except a
 * batch on its way to its receiver.
 *
 * The tables (2000 sizes, 311 allocation and 257 free percentages) are the
 * program's kind but not its numbers: drawn once from the seed, sizes
 * uniform on [0, 100000) scaled to [min, max] then given the linear
 * drop-off (size i becomes min + (size i+2 - min) x |w_i + w_(i+1) - 1|,
 * w = 1 - (size - min) / (max - min): mostly small, a few up to max), the
 * percentages uniform on 30..99 as the program's are.
 *
 * One op is one memory operation as the program counts them: a malloc, a
 * free, and 2 for a batch's header and array (made or freed). The figure is
 * the program's: memory ops per CPU second, the ops of all threads over the
 * sum of the time each thread spent working (its wait at an iteration's end
 * excluded), so the case's time is that sum (ns per op = 1e9 / the figure),
 * not the wall clock. Differences: the program sends cross-thread batches
 * until the first thread ends an iteration; here every thread sends on
 * every 2nd loop, so the counts do not depend on timing. run(n) does whole
 * loops on every thread, about n ops, and scales the time to n.
 */
#include "malloc_wl.h"
#include "hp_rand.h"
#include "hp_time.h"

#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#define RP_SIZES 2000u
#define RP_ALLOC_TAB 311u
#define RP_FREE_TAB 257u
#define RP_MIN 8u
#define RP_MAX 16000u
#define RP_LOOPS 500u           /* loops an iteration */
#define RP_SLOTS 1000u
#define RP_CROSS 2u             /* a batch every 2nd loop */
#define RP_ITERS 2u             /* iterations a thread lives */
#define RP_PAGE 4096u

/* A batch of blocks made for another thread (the program's thread_pointers). */
typedef struct rp_batch {
	struct rp_batch *next;
	uint32_t count;
	uint32_t gen;           /* OS thread that made it */
	void **ptr;
} rp_batch_t;

struct rptest;

typedef struct rp_thr {
	struct rptest *r;
	int index;
	void **slot;
	uint32_t *owner;        /* OS thread that allocated the slot's block */
	_Atomic(rp_batch_t *) inbox;
	/* where the thread is: iteration of its life, loop, walks */
	unsigned iter, loop, alloc_idx, free_idx, size_idx, cross_idx;
	uint64_t todo;          /* loops left in this batch */
	uint32_t gen;
	/* counts (the test checks them) */
	uint64_t ops;           /* memory ops as the program counts them */
	uint64_t allocs, slot_frees, foreign_slot_frees, remote_frees, batches_sent, batches_freed;
	uint64_t blocks_sent, threads, loops;
	uint64_t freed;         /* sizes read back from freed blocks: the checksum */
	double busy;            /* seconds spent working */
	pthread_cond_t go;
	char pad[64];
} rp_thr_t;

typedef struct rptest {
	const hp_mem_ops_t *ops;
	int n;
	unsigned loops, slots, alloc_step, free_step;
	uint32_t size[RP_SIZES];
	uint8_t alloc_n[RP_ALLOC_TAB], free_n[RP_FREE_TAB];
	rp_thr_t *thr;
	_Atomic uint32_t next_gen;
	pthread_mutex_t mu;
	pthread_cond_t cv, bar_cv;
	int running, alive, quit;
	unsigned bar_count, bar_phase;
} rptest_t;

static void *rp_thread(void *arg);

/* The first prime from 7 up that does not divide n, after `after`. */
static unsigned rp_stride(unsigned n, unsigned after)
{
	for (unsigned p = after + 1;; p++) {
		int prime = p >= 7;

		for (unsigned d = 2; prime && d * d <= p; d++)
			prime = p % d != 0;
		if (prime && n % p != 0)
			return p;
	}
}

/* The size tables: uniform on [0, 100000) scaled to [min, max], then the
 * linear drop-off (size mode 1). */
static void rp_tables(rptest_t *r, uint64_t seed)
{
	uint64_t s = seed ^ 0x47e57ull;
	uint32_t even[RP_SIZES];
	double range = RP_MAX - RP_MIN;

	for (unsigned i = 0; i < RP_SIZES; i++)
		even[i] = RP_MIN + (uint32_t)lround(range * (double)(hp_splitmix64(&s) % 100000) / 100000.0);
	for (unsigned i = 0; i < RP_SIZES; i++) {
		double w0 = 1.0 - (even[i] - RP_MIN) / range;
		double w1 = 1.0 - (even[(i + 1) % RP_SIZES] - RP_MIN) / range;

		r->size[i] = RP_MIN + (uint32_t)((double)(even[(i + 2) % RP_SIZES] - RP_MIN) * fabs(w0 + w1 - 1.0));
	}
	for (unsigned i = 0; i < RP_ALLOC_TAB; i++)
		r->alloc_n[i] = (uint8_t)(30 + hp_splitmix64(&s) % 70);
	for (unsigned i = 0; i < RP_FREE_TAB; i++)
		r->free_n[i] = (uint8_t)(30 + hp_splitmix64(&s) % 70);
}

/* A loop's frees and allocations (op count 100: the percentages as they are). */
static unsigned rp_nfree(const rptest_t *r, unsigned iter, unsigned loop)
{
	return (unsigned)(0.8 * r->free_n[(iter + loop) % RP_FREE_TAB]);
}

static unsigned rp_nalloc(const rptest_t *r, unsigned iter, unsigned loop)
{
	return r->alloc_n[(iter + loop) % RP_ALLOC_TAB];
}

static rptest_t *rp_new(const hp_mem_ops_t *ops, int n, unsigned loops, unsigned slots, uint64_t seed)
{
	rptest_t *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->thr = calloc((size_t)n, sizeof *r->thr);
	if (!r->thr) {
		free(r);
		return NULL;
	}
	r->ops = ops;
	r->n = n;
	r->loops = loops;
	r->slots = slots;
	r->alloc_step = rp_stride(slots, 0);
	r->free_step = rp_stride(slots, r->alloc_step);
	rp_tables(r, seed);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	pthread_cond_init(&r->bar_cv, NULL);
	for (int i = 0; i < n; i++) {
		rp_thr_t *t = &r->thr[i];

		t->r = r;
		t->index = i;
		t->slot = calloc(slots, sizeof *t->slot);
		t->owner = calloc(slots, sizeof *t->owner);
		if (!t->slot || !t->owner) {
			fprintf(stderr, "malloc-workloads: rptest: out of memory\n");
			abort();
		}
		atomic_init(&t->inbox, NULL);
		t->size_idx = (unsigned)((i + 1) * 37) % RP_SIZES;
		pthread_cond_init(&t->go, NULL);
	}
	/* the program's threads start before its clock */
	r->alive = n;
	for (int i = 0; i < n; i++) {
		pthread_attr_t a;
		pthread_t t;

		if (pthread_attr_init(&a) != 0 || pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) != 0 ||
		    pthread_create(&t, &a, rp_thread, &r->thr[i]) != 0) {
			fprintf(stderr, "malloc-workloads: pthread_create failed\n");
			abort();
		}
		pthread_attr_destroy(&a);
	}
	return r;
}

/* A block: calloc or memalign + memset (every byte written), then the
 * cookie, a byte a page and the last byte. */
static void *rp_block(rp_thr_t *t, uint32_t size, unsigned k)
{
	static const size_t align[3] = { 0, 8, 16 };
	size_t al = size < RP_PAGE ? align[(t->size_idx + k) % 3] : 0;
	unsigned char *b;

	if (al) {
		b = memalign(al, size);
		if (b)
			memset(b, 0xcd, size);
	} else {
		b = calloc(1, size);
	}
	if (!b) {
		fprintf(stderr, "malloc-workloads: rptest: allocation of %u bytes failed\n", size);
		abort();
	}
	memcpy(b, &(uint64_t){ wl_cookie(size) }, 8);
	for (uint32_t p = 1; p < (size - 1) / RP_PAGE; p++)
		b[(size_t)p * RP_PAGE] = 1;
	if (size > 8)
		b[size - 1] = (unsigned char)size;
	t->allocs++;
	t->ops++;
	return b;
}

/* The next block: size_tab[(si + 2) % 2000], its source chosen by si (as
 * the program, before si advances). */
static void *rp_block_next(rp_thr_t *t, unsigned k)
{
	void *b = rp_block(t, t->r->size[(t->size_idx + 2) % RP_SIZES], k);

	t->size_idx = (t->size_idx + 1) % RP_SIZES;
	return b;
}

/* Frees a slot's block (if any): a free on the thread that allocated it. */
static void rp_free_slot(rp_thr_t *t, unsigned i)
{
	if (!t->slot[i])
		return;
	t->freed += wl_block_free(t->r->ops, t->slot[i], "rptest");
	t->foreign_slot_frees += t->owner[i] != t->gen;
	t->slot[i] = NULL;
	t->slot_frees++;
	t->ops++;
}

/* Frees every batch of a list: its blocks, its array, its header. */
static void rp_free_batches(rp_thr_t *t, rp_batch_t *b)
{
	while (b) {
		rp_batch_t *next = b->next;

		for (uint32_t i = 0; i < b->count; i++)
			t->freed += wl_block_free(t->r->ops, b->ptr[i], "rptest (cross-thread)");
		t->remote_frees += (uint64_t)b->count * (b->gen != t->gen);
		t->ops += b->count + 2;
		t->batches_freed++;
		t->r->ops->free(b->ptr, b->count * sizeof *b->ptr);
		t->r->ops->free(b, sizeof *b);
		b = next;
	}
}

static void rp_send(rp_thr_t *t, unsigned count)
{
	rptest_t *r = t->r;
	rp_batch_t *b = memalign(16, sizeof *b);
	rp_thr_t *to;

	if (!b || !(b->ptr = memalign(16, (count ? count : 1) * sizeof *b->ptr))) {
		fprintf(stderr, "malloc-workloads: rptest: batch allocation failed\n");
		abort();
	}
	b->count = count;
	b->gen = t->gen;
	t->ops += 2;
	for (unsigned k = 0; k < count; k++)
		b->ptr[k] = rp_block_next(t, k);
	t->blocks_sent += count;
	t->batches_sent++;
#ifdef WL_MUTATE_RPTEST_LOCAL
	/* the test's mutant: the sender frees its own batch (no cross-thread free) */
	b->next = NULL;
	rp_free_batches(t, b);
	return;
#endif
	t->cross_idx = (t->cross_idx + 1) % (unsigned)r->n;
	if (t->cross_idx == (unsigned)t->index)
		t->cross_idx = (t->cross_idx + 1) % (unsigned)r->n;
	to = &r->thr[t->cross_idx];
	b->next = atomic_load_explicit(&to->inbox, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&to->inbox, &b->next, b, memory_order_release,
						      memory_order_relaxed))
		;
}

/* One loop of the thread's current iteration. */
static void rp_loop(rp_thr_t *t)
{
	rptest_t *r = t->r;
	rp_batch_t *in = atomic_exchange_explicit(&t->inbox, NULL, memory_order_acquire);
	unsigned nf = rp_nfree(r, t->iter, t->loop), na = rp_nalloc(r, t->iter, t->loop);

	/* the program takes the list first and frees it after the slot frees */
	for (unsigned k = 0; k < nf; k++) {
		rp_free_slot(t, t->free_idx);
		t->free_idx = (t->free_idx + r->free_step) % r->slots;
	}
	rp_free_batches(t, in);         /* the batches taken at the loop's start */
	for (unsigned k = 0; k < na; k++) {
		unsigned i = t->alloc_idx;

		rp_free_slot(t, i);
		t->slot[i] = rp_block_next(t, k);
		t->owner[i] = t->gen;
		t->alloc_idx = (t->alloc_idx + r->alloc_step) % r->slots;
	}
	if (r->n > 1 && t->loop % RP_CROSS == 0)
		rp_send(t, na);
	t->loops++;
}

/* An iteration's end: wait for every thread to finish its loops (not
 * counted as work), then free what was pushed here and every slot. */
static void rp_iteration_end(rp_thr_t *t, double *t0)
{
	rptest_t *r = t->r;
	unsigned phase;

	t->busy += hp_mono_s() - *t0;
	pthread_mutex_lock(&r->mu);
	phase = r->bar_phase;
	if (++r->bar_count == (unsigned)r->n) {
		r->bar_count = 0;
		r->bar_phase++;
		pthread_cond_broadcast(&r->bar_cv);
	} else {
		while (r->bar_phase == phase)
			pthread_cond_wait(&r->bar_cv, &r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	*t0 = hp_mono_s();
	rp_free_batches(t, atomic_exchange_explicit(&t->inbox, NULL, memory_order_acquire));
	for (unsigned i = 0; i < r->slots; i++)
		rp_free_slot(t, i);
	t->loop = 0;
	t->iter = (t->iter + 1) % RP_ITERS;
	t->size_idx = (unsigned)((t->index + 1) * (int)(t->iter + 1) * 37) % RP_SIZES;
}

/* A thread's life: batches of loops, two iterations, then its successor. */
static void *rp_thread(void *arg)
{
	rp_thr_t *t = arg;
	rptest_t *r = t->r;

	pthread_mutex_lock(&r->mu);
	t->gen = atomic_fetch_add_explicit(&r->next_gen, 1, memory_order_relaxed) + 1;
	t->threads++;
	for (;;) {
		uint64_t k, done = 0;
		double t0;
		int life_over = 0;

		while (t->todo == 0 && !r->quit)
			pthread_cond_wait(&t->go, &r->mu);
		if (t->todo == 0)
			break;                  /* quit */
		k = t->todo;
		pthread_mutex_unlock(&r->mu);
		t0 = hp_mono_s();
		while (done < k && !life_over) {
			rp_loop(t);
			done++;
			if (++t->loop == r->loops) {
				rp_iteration_end(t, &t0);
				life_over = t->iter == 0;
			}
		}
		t->busy += hp_mono_s() - t0;
		pthread_mutex_lock(&r->mu);
		t->todo -= done;
		if (t->todo == 0 && --r->running == 0)
			pthread_cond_signal(&r->cv);
		if (life_over) {
			pthread_attr_t a;
			pthread_t nt;

			t->alloc_idx = t->free_idx = t->cross_idx = 0;
			if (pthread_attr_init(&a) != 0 || pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) != 0 ||
			    pthread_create(&nt, &a, rp_thread, t) != 0) {
				fprintf(stderr, "malloc-workloads: pthread_create failed\n");
				abort();
			}
			pthread_attr_destroy(&a);
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
	}
	if (--r->alive == 0)
		pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* `loops` loops on every thread. */
static void rp_batch(rptest_t *r, uint64_t loops)
{
	pthread_mutex_lock(&r->mu);
	r->running = r->n;
	for (int i = 0; i < r->n; i++) {
		r->thr[i].todo = loops;
		pthread_cond_signal(&r->thr[i].go);
	}
	while (r->running > 0)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

/* Ends the threads (they keep what they hold). */
static void rp_quit(rptest_t *r)
{
	pthread_mutex_lock(&r->mu);
	r->quit = 1;
	for (int i = 0; i < r->n; i++)
		pthread_cond_signal(&r->thr[i].go);
	while (r->alive > 0)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

/* Ends the threads, then frees what is left (outside any timing). */
static void rp_free(rptest_t *r)
{
	rp_quit(r);
	for (int i = 0; i < r->n; i++) {
		rp_thr_t *t = &r->thr[i];

		for (rp_batch_t *b = atomic_exchange(&t->inbox, NULL), *nx; b; b = nx) {
			nx = b->next;
			for (uint32_t k = 0; k < b->count; k++)
				wl_block_free(r->ops, b->ptr[k], "rptest teardown");
			r->ops->free(b->ptr, b->count * sizeof *b->ptr);
			r->ops->free(b, sizeof *b);
		}
		for (unsigned k = 0; k < r->slots; k++)
			if (t->slot[k])
				wl_block_free(r->ops, t->slot[k], "rptest teardown");
		free(t->slot);
		free(t->owner);
		pthread_cond_destroy(&t->go);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	pthread_cond_destroy(&r->bar_cv);
	free(r->thr);
	free(r);
}

static void *rp_setup(hp_ctx_t *ctx)
{
	int64_t w = ctx->p && ctx->p->value > 0 ? ctx->p->value : 1;

	wl_unpin(ctx);

	return rp_new(WL_OPS(ctx), w > WL_MAX_THREADS ? WL_MAX_THREADS : (int)w, RP_LOOPS, RP_SLOTS, ctx->seed);
}

/* About n ops in whole loops (the ops a loop makes are learnt as it goes);
 * the time, the threads' working time, is scaled to n. */
static void rp_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	rptest_t *r = ctx->data;
	uint64_t ops0 = 0, ops = 0, loops0 = 0, loops;
	double busy0 = 0, busy = 0, per_loop, c0 = wl_cpu_s();

	wl_unpin(ctx);

	for (int i = 0; i < r->n; i++) {
		ops0 += r->thr[i].ops;
		busy0 += r->thr[i].busy;
		loops0 += r->thr[i].loops;
	}
	/* ops a loop of one thread makes: from what has run, else ~130 */
	per_loop = loops0 ? (double)ops0 / (double)loops0 : 130.0;
	loops = (uint64_t)((double)n / ((double)r->n * per_loop) + 0.5);
	rp_batch(r, loops ? loops : 1);
	for (int i = 0; i < r->n; i++) {
		ops += r->thr[i].ops;
		busy += r->thr[i].busy;
	}
	ops -= ops0;
	busy -= busy0;
	hp_set_iteration_time(st, ops ? busy * (double)n / (double)ops : busy);
	hp_counter(st, "ops_per_cpu_sec", busy > 0 ? (double)ops / busy : 0);
	wl_cpu_counter(st, c0, (double)ops);
	wl_rss_counter(st);
}

static void rp_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	rp_free(data);
}

static const hp_param_t rp_params[] = {
	{ .label = "1", .value = 1, .full_only = 1 },
	{ .label = "2", .value = 2, .min_cpus = 2 },
	{ .label = "4", .value = 4, .min_cpus = 4, .full_only = 1 },
	{ .label = NULL },
};

const hp_case_t wl_case_rptest = {
	.name = "rptest",
	.desc = "rpmalloc's rptest (T 0 1 2 500 1000 100 8 16000): 1000 slots a thread, 8..16000 B skewed small, "
		"calloc/memalign, a batch to another thread every 2nd loop; op = one malloc or free",
	.op_unit = "op",
	.param_name = "threads",
	.params = rp_params,
	.manual_time = 1,
	.setup = rp_setup,
	.teardown = rp_teardown,
	.run = rp_run,
	.variants = wl_variants,
};
