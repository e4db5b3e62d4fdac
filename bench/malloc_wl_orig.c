/* malloc_wl_orig.c — malloc-workloads: larson, xmalloc, cache_scratch and
 * cache_thrash as the published programs define them (mimalloc-bench's
 * larson, xmalloc-test, cache-scratch and cache-thrash, with the parameters
 * its bench.sh passes), written from their descriptions.
 *
 * These cases start their own threads (as the programs do) and time them
 * with the wall clock (manual_time): the harness runs one measured thread,
 * whose run(n) starts the workers, waits for them and reports the elapsed
 * time. The param is the programs' thread count.
 *
 * - larson (Larson and Krishnan, ISMM 1998): T slot sets of 5000 blocks of
 *   8..999 bytes, filled and shuffled by the main thread, which then
 *   replaces 4 x 5000 x T random blocks. One op frees a random slot's block
 *   and allocates a new one there. A thread works its slot set for
 *   rounds x chunks = 100 x 5000 ops, then starts its successor on the same
 *   set and exits: the successor frees the blocks its predecessor
 *   allocated (about 1% of ops cross threads). A batch ending mid-life
 *   leaves the thread waiting for the next batch. n = ops of all threads;
 *   counter ops_per_sec = the program's "Throughput".
 * - xmalloc (xmalloc-test, Lever and Boreham): W allocating threads fill
 *   batches of 4096 objects of 64 bytes (writing the first min(size, 128)
 *   bytes) and push them on one mutex-protected stack of at most 100
 *   batches; W freeing threads pop batches and free every object and the
 *   batch. Every free is a remote free. n = frees; counter frees_per_sec.
 * - cache_scratch / cache_thrash (Hoard's, Berger et al., ASPLOS 2000): T
 *   threads each run iterations of: allocate a 1-byte object, write and
 *   read it 2000000 / T times, free it. cache_scratch first hands thread i
 *   the i-th of T objects the main thread allocated back to back, which the
 *   thread frees (passive false sharing: an allocator that reuses that
 *   block on the thread puts the threads on one cache line); cache_thrash
 *   does not (active false sharing: the allocator itself places threads'
 *   objects on one line). n = iterations of every thread; the program's
 *   figure (time of 1000 iterations) is 1000 x the time per op.
 */
#include "malloc_wl.h"
#include "hp_rand.h"
#include "hp_time.h"

#include <pthread.h>
#include <stdatomic.h>

/* Starts fn(arg) on a new detached thread, or aborts: the programs' threads. */
static void wl_spawn_detached(void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;
	pthread_t t;

	if (pthread_attr_init(&a) != 0 || pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_create(&t, &a, fn, arg) != 0) {
		fprintf(stderr, "malloc-workloads: pthread_create failed\n");
		abort();
	}
	pthread_attr_destroy(&a);
}

static void wl_spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (pthread_create(t, NULL, fn, arg) != 0) {
		fprintf(stderr, "malloc-workloads: pthread_create failed\n");
		abort();
	}
}

static int wl_workers(const hp_ctx_t *ctx)
{
	int64_t w = ctx->p && ctx->p->value > 0 ? ctx->p->value : 1;

	return w > WL_MAX_THREADS ? WL_MAX_THREADS : (int)w;
}

/* ------------------------------------------------------------------ */
/* larson                                                              */
/* ------------------------------------------------------------------ */

#define LA_MIN 8u
#define LA_MAX 1000u            /* sizes min + r % (max - min): 8..999 */
#define LA_CHUNKS 5000u         /* blocks per thread */
#define LA_ROUNDS 100u          /* a thread's life: rounds x chunks ops */

struct larson_o;

typedef struct la_set {
	struct larson_o *l;
	void **blk;
	uint32_t *owner;        /* generation that allocated the slot's block (0: main) */
	uint64_t seed0;         /* the set's first random state (tests replay it) */
	uint64_t rng;
	uint64_t gen_left;      /* ops left in the working thread's life */
	uint64_t todo;          /* ops left in this batch */
	uint32_t gen;           /* generation of the thread working the set */
	uint64_t ops, cross, threads, freed;
	pthread_cond_t go;      /* the set's thread waits here for a batch */
	char pad[64];
} la_set_t;

typedef struct larson_o {
	const hp_mem_ops_t *ops;
	unsigned chunks, rounds;
	int nset;
	la_set_t *set;
	void **blk;
	uint32_t *owner;
	_Atomic uint32_t next_gen;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, alive, quit;
} larson_o_t;

static void *la_thread(void *arg);

static uint32_t la_size(uint64_t *rng)
{
	return LA_MIN + (uint32_t)(hp_splitmix64(rng) % (LA_MAX - LA_MIN));
}

static larson_o_t *la_new(const hp_mem_ops_t *ops, int nset, unsigned chunks, unsigned rounds, uint64_t seed)
{
	larson_o_t *l = calloc(1, sizeof *l);
	size_t nb = (size_t)nset * chunks;
	uint64_t s = seed ^ 0x1a750a0full;

	if (!l)
		return NULL;
	l->ops = ops;
	l->chunks = chunks;
	l->rounds = rounds;
	l->nset = nset;
	l->set = calloc((size_t)nset, sizeof *l->set);
	l->blk = calloc(nb, sizeof *l->blk);
	l->owner = calloc(nb, sizeof *l->owner);
	if (!l->set || !l->blk || !l->owner) {
		free(l->set);
		free(l->blk);
		free(l->owner);
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	/* the main thread's warm-up: fill, shuffle, replace 4 x blocks at random */
	for (size_t i = 0; i < nb; i++)
		l->blk[i] = wl_block_new(ops, la_size(&s));
	for (size_t i = nb; i > 1; i--) {
		size_t j = hp_splitmix64(&s) % i;
		void *t = l->blk[j];

		l->blk[j] = l->blk[i - 1];
		l->blk[i - 1] = t;
	}
	for (size_t k = 0; k < 4 * nb; k++) {
		size_t v = hp_splitmix64(&s) % nb;

		wl_block_free(ops, l->blk[v], "larson warm-up");
		l->blk[v] = wl_block_new(ops, la_size(&s));
	}
	for (int i = 0; i < nset; i++) {
		la_set_t *st = &l->set[i];

		st->l = l;
		st->blk = &l->blk[(size_t)i * chunks];
		st->owner = &l->owner[(size_t)i * chunks];
		st->seed0 = st->rng = hp_splitmix64(&s);
		st->gen_left = (uint64_t)rounds * chunks;
		pthread_cond_init(&st->go, NULL);
	}
	/* the program starts its threads before its clock */
	l->alive = nset;
	for (int i = 0; i < nset; i++)
		wl_spawn_detached(la_thread, &l->set[i]);
	return l;
}

/* One thread's life on a slot set: it waits for a batch's ops, does them
 * (the lock is not held), and when its life of rounds x chunks ops is over
 * starts its successor on the same set and exits, as the program's
 * threads do; a batch that ends mid-life leaves the thread waiting for the
 * next. l->alive counts the sets' threads (a successor takes its
 * predecessor's place), l->running the sets with ops left in the batch. */
static void *la_thread(void *arg)
{
	la_set_t *s = arg;
	larson_o_t *l = s->l;
	const hp_mem_ops_t *ops = l->ops;
	/* a number per OS thread: blocks this thread allocated carry it */
	static _Thread_local uint32_t my_gen;
	uint32_t gen;

	if (!my_gen)
		my_gen = atomic_fetch_add_explicit(&l->next_gen, 1, memory_order_relaxed) + 1;
	gen = my_gen;
	pthread_mutex_lock(&l->mu);
	s->gen = gen;
	s->threads++;
	for (;;) {
		uint64_t k;

		while (s->todo == 0 && !l->quit)
			pthread_cond_wait(&s->go, &l->mu);
		if (s->todo == 0)
			break;                  /* quit */
		k = s->todo < s->gen_left ? s->todo : s->gen_left;
		pthread_mutex_unlock(&l->mu);
		for (uint64_t i = 0; i < k; i++) {
			uint32_t v = (uint32_t)(hp_splitmix64(&s->rng) % l->chunks);

			s->cross += s->owner[v] != gen;
			s->freed += wl_block_free(ops, s->blk[v], "larson");
			/* the program writes 2 bytes at the block's start; here the cookie */
			s->blk[v] = wl_block_new(ops, la_size(&s->rng));
			s->owner[v] = gen;
		}
		pthread_mutex_lock(&l->mu);
		s->ops += k;
		s->todo -= k;
		s->gen_left -= k;
		if (s->todo == 0 && --l->running == 0)
			pthread_cond_signal(&l->cv);
		if (s->gen_left == 0) {
			s->gen_left = (uint64_t)l->rounds * l->chunks;
#ifdef WL_MUTATE_NO_HANDOFF
			s->threads++;   /* the test's mutant: the next life on the same thread */
			continue;
#else
			wl_spawn_detached(la_thread, s);
			pthread_mutex_unlock(&l->mu);
			return NULL;
#endif
		}
	}
	if (--l->alive == 0)
		pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* n ops over the sets (the first n % sets get one more), each done by the
 * set's thread and its successors. */
static void la_batch(larson_o_t *l, uint64_t n)
{
	pthread_mutex_lock(&l->mu);
	l->running = 0;
	for (int i = 0; i < l->nset; i++) {
		l->set[i].todo = n / (uint64_t)l->nset + ((uint64_t)i < n % (uint64_t)l->nset);
		l->running += l->set[i].todo > 0;
		pthread_cond_signal(&l->set[i].go);
	}
	while (l->running > 0)
		pthread_cond_wait(&l->cv, &l->mu);
	pthread_mutex_unlock(&l->mu);
}

/* Ends every set's thread and waits for them. */
static void la_quit(larson_o_t *l)
{
	pthread_mutex_lock(&l->mu);
	l->quit = 1;
	for (int i = 0; i < l->nset; i++)
		pthread_cond_signal(&l->set[i].go);
	while (l->alive > 0)
		pthread_cond_wait(&l->cv, &l->mu);
	pthread_mutex_unlock(&l->mu);
}

static void la_free(larson_o_t *l)
{
	la_quit(l);
	for (size_t i = 0; i < (size_t)l->nset * l->chunks; i++)
		wl_block_free(l->ops, l->blk[i], "larson teardown");
	for (int i = 0; i < l->nset; i++)
		pthread_cond_destroy(&l->set[i].go);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l->set);
	free(l->blk);
	free(l->owner);
	free(l);
}

static void *la_setup(hp_ctx_t *ctx)
{
	wl_unpin(ctx);
	return la_new(WL_OPS(ctx), wl_workers(ctx), LA_CHUNKS, LA_ROUNDS, ctx->seed);
}

static void la_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	double c0 = wl_cpu_s(), t0 = hp_mono_s(), t;

	wl_unpin(ctx);

	la_batch(ctx->data, n);
	t = hp_mono_s() - t0;
	hp_set_iteration_time(st, t);
	hp_counter(st, "ops_per_sec", t > 0 ? (double)n / t : 0);
	wl_cpu_counter(st, c0, (double)n);
	wl_rss_counter(st);
}

static void la_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	la_free(data);
}

/* ------------------------------------------------------------------ */
/* xmalloc                                                             */
/* ------------------------------------------------------------------ */

#define XO_BATCH 4096u          /* objects per batch */
#define XO_SIZE 64u             /* bench.sh: -s 64 */
#define XO_LIMIT 100            /* batches the stack holds at most */

typedef struct xo_batch {
	struct xo_batch *next;
	void *obj[XO_BATCH];
} xo_batch_t;

struct xmalloc_o;

typedef struct xo_thr {
	struct xmalloc_o *x;
	pthread_t t;
	uint64_t frees;         /* objects freed (freeing threads) */
	uint64_t made;          /* objects allocated (allocating threads) */
	uint64_t sum;           /* byte 8 of each freed object: the data written */
	int role;               /* 1: allocating, 0: freeing */
	char pad[64];
} xo_thr_t;

typedef struct xmalloc_o {
	const hp_mem_ops_t *ops;
	int w;
	unsigned batch, size;
	int limit;
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	xo_batch_t *stack;
	int count;
	uint64_t batches;       /* this run's batches: the freeing threads take that many */
	uint64_t taken;         /* batches taken in this run (under mu) */
	_Atomic int done;       /* set with the run's last batch taken: allocating threads stop */
	uint64_t drained, drained_sum;  /* objects (and byte-8 sum) left on the stack, freed by xo_drain */
	pthread_cond_t go, idle;        /* workers wait for a run on go; xo_batchrun for them on idle */
	unsigned gen;                   /* runs started (under mu) */
	int finished, quit;             /* workers done with this run; teardown */
	xo_thr_t *thr;          /* [0, w): allocating; [w, 2w): freeing */
} xmalloc_o_t;

static void *xo_worker(void *arg);

static xmalloc_o_t *xo_new(const hp_mem_ops_t *ops, int w, unsigned batch, unsigned size)
{
	xmalloc_o_t *x = calloc(1, sizeof *x);

	if (!x)
		return NULL;
	x->thr = calloc(2 * (size_t)w, sizeof *x->thr);
	if (!x->thr) {
		free(x);
		return NULL;
	}
	x->ops = ops;
	x->w = w;
	x->batch = batch > XO_BATCH ? XO_BATCH : batch;
	x->size = size < 9 ? 9 : size;
	x->limit = XO_LIMIT;
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->nonempty, NULL);
	pthread_cond_init(&x->nonfull, NULL);
	pthread_cond_init(&x->go, NULL);
	pthread_cond_init(&x->idle, NULL);
	for (int i = 0; i < 2 * w; i++) {
		x->thr[i].x = x;
		x->thr[i].role = i < w;
	}
	/* the program's threads live through its whole run: start them once,
	 * freeing then allocating thread as it does; they wait for each run */
	for (int i = 0; i < w; i++) {
		wl_spawn(&x->thr[w + i].t, xo_worker, &x->thr[w + i]);
		wl_spawn(&x->thr[i].t, xo_worker, &x->thr[i]);
	}
	return x;
}

static void *xo_allocator(void *arg)
{
	xo_thr_t *me = arg;
	xmalloc_o_t *x = me->x;
	/* the program writes min(size, 128) bytes; the last byte is the check's */
	size_t len = (x->size > 128 ? 128 : x->size - 1) - 8;

	/* as the program's: fill batches until the run is over, the last one
	 * (finished after the end) is pushed even on a full stack */
	while (!atomic_load_explicit(&x->done, memory_order_acquire)) {
		xo_batch_t *b = x->ops->alloc(sizeof *b);

		if (!b) {
			fprintf(stderr, "malloc-workloads: xmalloc: batch allocation failed\n");
			abort();
		}
		for (unsigned i = 0; i < x->batch; i++) {
			unsigned char *o = wl_block_new(x->ops, x->size);

			memset(o + 8, (int)(i % 256), len);
			b->obj[i] = o;
		}
		me->made += x->batch;
		pthread_mutex_lock(&x->mu);
		while (x->count >= x->limit && !atomic_load_explicit(&x->done, memory_order_relaxed))
			pthread_cond_wait(&x->nonfull, &x->mu);
		b->next = x->stack;
		x->stack = b;
		x->count++;
		pthread_cond_signal(&x->nonempty);
		pthread_mutex_unlock(&x->mu);
	}
	return NULL;
}

/* Frees every object of b and b; returns the objects' byte-8 sum. */
static uint64_t xo_release(xmalloc_o_t *x, xo_batch_t *b)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < x->batch; i++) {
		sum += ((unsigned char *)b->obj[i])[8];
		wl_block_free(x->ops, b->obj[i], "xmalloc");
	}
	x->ops->free(b, sizeof *b);
	return sum;
}

static void *xo_releaser(void *arg)
{
	xo_thr_t *me = arg;
	xmalloc_o_t *x = me->x;

	for (;;) {
		xo_batch_t *b;

		pthread_mutex_lock(&x->mu);
		while (x->taken < x->batches && !x->stack)
			pthread_cond_wait(&x->nonempty, &x->mu);
		if (x->taken >= x->batches) {
			pthread_mutex_unlock(&x->mu);
			return NULL;
		}
		b = x->stack;
		x->stack = b->next;
		x->count--;
		if (++x->taken == x->batches) {
			/* the run's last batch: the program's time is up */
			atomic_store_explicit(&x->done, 1, memory_order_release);
			pthread_cond_broadcast(&x->nonfull);
			pthread_cond_broadcast(&x->nonempty);
		} else {
			pthread_cond_signal(&x->nonfull);
		}
		pthread_mutex_unlock(&x->mu);
		me->sum += xo_release(x, b);
		me->frees += x->batch;
	}
}

/* A worker: waits for each run and plays its role in it until teardown. */
static void *xo_worker(void *arg)
{
	xo_thr_t *me = arg;
	xmalloc_o_t *x = me->x;
	unsigned seen = 0;

	for (;;) {
		pthread_mutex_lock(&x->mu);
		while (x->gen == seen && !x->quit)
			pthread_cond_wait(&x->go, &x->mu);
		if (x->quit) {
			pthread_mutex_unlock(&x->mu);
			return NULL;
		}
		seen = x->gen;
		pthread_mutex_unlock(&x->mu);
		if (me->role)
			xo_allocator(me);
		else
			xo_releaser(me);
		pthread_mutex_lock(&x->mu);
		if (++x->finished == 2 * x->w)
			pthread_cond_signal(&x->idle);
		pthread_mutex_unlock(&x->mu);
	}
}

/* Moves `batches` batches from the allocating to the freeing threads: the
 * freeing threads free exactly that many, the allocating ones fill batches
 * until then. What they made beyond stays on the stack for the next run (as
 * the program's queue outlives its frees count; xo_free frees it). */
static void xo_batchrun(xmalloc_o_t *x, uint64_t batches)
{
	pthread_mutex_lock(&x->mu);
	x->batches = batches;
	x->taken = 0;
	x->finished = 0;
	atomic_store(&x->done, batches == 0);
	x->gen++;
	pthread_cond_broadcast(&x->go);
	while (x->finished < 2 * x->w)
		pthread_cond_wait(&x->idle, &x->mu);
	pthread_mutex_unlock(&x->mu);
}

/* Frees the batches left on the stack (the program's teardown, untimed). */
static void xo_drain(xmalloc_o_t *x)
{
	while (x->stack) {
		xo_batch_t *b = x->stack;

		x->stack = b->next;
		x->count--;
#ifndef WL_MUTATE_XMALLOC_LEAK
		x->drained += x->batch;
		x->drained_sum += xo_release(x, b);
#endif
	}
}

static void xo_free(xmalloc_o_t *x)
{
	pthread_mutex_lock(&x->mu);
	x->quit = 1;
	pthread_cond_broadcast(&x->go);
	pthread_mutex_unlock(&x->mu);
	for (int i = 0; i < 2 * x->w; i++)
		pthread_join(x->thr[i].t, NULL);
	xo_drain(x);
	pthread_cond_destroy(&x->go);
	pthread_cond_destroy(&x->idle);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->nonempty);
	pthread_cond_destroy(&x->nonfull);
	free(x->thr);
	free(x);
}

static void *xo_setup(hp_ctx_t *ctx)
{
	wl_unpin(ctx);
	return xo_new(WL_OPS(ctx), wl_workers(ctx), XO_BATCH, XO_SIZE);
}

/* n frees, rounded up to whole batches; the time is scaled back to n. */
static void xo_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	xmalloc_o_t *x = ctx->data;
	uint64_t batches = (n + x->batch - 1) / x->batch;
	double c0 = wl_cpu_s(), t0 = hp_mono_s(), t;

	wl_unpin(ctx);

	xo_batchrun(x, batches);
	t = hp_mono_s() - t0;
	hp_set_iteration_time(st, t * (double)n / (double)(batches * x->batch));
	hp_counter(st, "frees_per_sec", t > 0 ? (double)(batches * x->batch) / t : 0);
	wl_cpu_counter(st, c0, (double)(batches * x->batch));
	wl_rss_counter(st);
}

static void xo_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	xo_free(data);
}

/* ------------------------------------------------------------------ */
/* cache_scratch, cache_thrash                                         */
/* ------------------------------------------------------------------ */

#define CO_OBJ 1u               /* bench.sh: objSize 1 */
#define CO_REPS 2000000u        /* repetitions, divided among the threads */

struct cache_o;

typedef struct co_thr {
	struct cache_o *c;
	pthread_t t;
	void *given;            /* cache_scratch: the main thread's object, freed first */
	uint64_t todo;
	uint64_t iters, writes, sum, given_frees;
	char pad[64];
} co_thr_t;

typedef struct cache_o {
	const hp_mem_ops_t *ops;
	int n;
	unsigned obj, reps;     /* reps: per thread and iteration (total / n) */
	co_thr_t *thr;
} cache_o_t;

static cache_o_t *co_new(const hp_mem_ops_t *ops, int n, unsigned obj, unsigned total_reps, int scratch)
{
	cache_o_t *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->thr = calloc((size_t)n, sizeof *c->thr);
	if (!c->thr) {
		free(c);
		return NULL;
	}
	c->ops = ops;
	c->n = n;
	c->obj = obj;
	c->reps = total_reps / (unsigned)n;
	for (int i = 0; i < n; i++) {
		c->thr[i].c = c;
		if (scratch && !(c->thr[i].given = ops->alloc(obj))) {
			fprintf(stderr, "malloc-workloads: cache_scratch: malloc(%u) returned NULL\n", obj);
			abort();
		}
	}
	return c;
}

static void *co_worker(void *arg)
{
	co_thr_t *me = arg;
	cache_o_t *c = me->c;

	if (me->given) {
		c->ops->free(me->given, c->obj);
		me->given = NULL;
		me->given_frees++;
	}
	for (uint64_t it = 0; it < me->todo; it++) {
		volatile unsigned char *o = c->ops->alloc(c->obj);

		if (!o) {
			fprintf(stderr, "malloc-workloads: cache: malloc(%u) returned NULL\n", c->obj);
			abort();
		}
		/* volatile: every write and read happens (the original's may be deleted) */
		for (unsigned r = 0; r < c->reps; r++)
			for (unsigned k = 0; k < c->obj; k++) {
				o[k] = (unsigned char)(k + 1);
				me->sum += o[k];
			}
		me->writes += (uint64_t)c->reps * c->obj;
		c->ops->free((void *)o, c->obj);
	}
	me->iters += me->todo;
	return NULL;
}

static void co_batch(cache_o_t *c, uint64_t n)
{
	for (int i = 0; i < c->n; i++) {
		c->thr[i].todo = n;
		wl_spawn(&c->thr[i].t, co_worker, &c->thr[i]);
	}
	for (int i = 0; i < c->n; i++)
		pthread_join(c->thr[i].t, NULL);
}

static void co_free(cache_o_t *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->thr[i].given)
			c->ops->free(c->thr[i].given, c->obj);
	free(c->thr);
	free(c);
}

static void *cscr_setup(hp_ctx_t *ctx)
{
	wl_unpin(ctx);
	return co_new(WL_OPS(ctx), wl_workers(ctx), CO_OBJ, CO_REPS, 1);
}

static void *cthr_setup(hp_ctx_t *ctx)
{
	wl_unpin(ctx);
	return co_new(WL_OPS(ctx), wl_workers(ctx), CO_OBJ, CO_REPS, 0);
}

static void co_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	double c0 = wl_cpu_s(), t0 = hp_mono_s();

	wl_unpin(ctx);

	co_batch(ctx->data, n);
	hp_set_iteration_time(st, hp_mono_s() - t0);
	wl_cpu_counter(st, c0, (double)n);
	wl_rss_counter(st);
}

static void co_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	co_free(data);
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

/* bench.sh runs these with the machine's CPU count ($procs; also 1 for
 * cache-scratch1/cache-thrash1): the 2-thread points are quick, the others
 * --profile full. */
static const hp_param_t wl_thread_params[] = {
	{ .label = "1", .value = 1, .full_only = 1 },
	{ .label = "2", .value = 2, .min_cpus = 2 },
	{ .label = "4", .value = 4, .min_cpus = 4, .full_only = 1 },
	{ .label = NULL },
};

const hp_case_t wl_case_larson = {
	.name = "larson",
	.desc = "larson as published: 5000 blocks of 8..999 B per thread, free+malloc a random slot, "
		"a thread hands its slots to a new thread every 100 x 5000 ops",
	.op_unit = "op",
	.param_name = "threads",
	.params = wl_thread_params,
	.manual_time = 1,
	.setup = la_setup,
	.teardown = la_teardown,
	.run = la_run,
	.variants = wl_variants,
};

const hp_case_t wl_case_xmalloc = {
	.name = "xmalloc",
	.desc = "xmalloc-test as published: W threads allocate batches of 4096 x 64 B, W others free them "
		"(mutex-protected stack of <= 100 batches); op = one free",
	.op_unit = "free",
	.param_name = "threads",
	.params = wl_thread_params,
	.manual_time = 1,
	.setup = xo_setup,
	.teardown = xo_teardown,
	.run = xo_run,
	.variants = wl_variants,
};

const hp_case_t wl_case_cache_scratch = {
	.name = "cache_scratch",
	.desc = "Hoard's cache-scratch: each thread frees a main-thread object, then malloc(1), "
		"2000000/T writes, free; op = one iteration of every thread",
	.op_unit = "iteration",
	.param_name = "threads",
	.params = wl_thread_params,
	.manual_time = 1,
	.setup = cscr_setup,
	.teardown = co_teardown,
	.run = co_run,
	.variants = wl_variants,
};

const hp_case_t wl_case_cache_thrash = {
	.name = "cache_thrash",
	.desc = "Hoard's cache-thrash: malloc(1), 2000000/T writes, free, on T threads; "
		"op = one iteration of every thread",
	.op_unit = "iteration",
	.param_name = "threads",
	.params = wl_thread_params,
	.manual_time = 1,
	.setup = cthr_setup,
	.teardown = co_teardown,
	.run = co_run,
	.variants = wl_variants,
};
