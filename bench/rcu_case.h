/* rcu_case.h — suite rcu: the case code, written once against the variant
 * primitives (listed in impl/rcu/rcu_v_impl.h) and compiled once per
 * variant by rcu_variant.c. Included once per translation unit; V_SYM names
 * the variant's exported ops table (hp_rcu_ops_<V_SYM>).
 *
 * Structures (both read through V_READ / v_deref, updated copy-and-publish
 * under v_write_lock, old nodes handed to v_retire):
 * - a pointer swap: one published node, read with lock / dereference / one
 *   field / unlock (read_side);
 * - a small hash table: 64 buckets, 256 keys, singly linked chains (about 4
 *   nodes each); a lookup walks one chain, an update replaces one key's
 *   node by a new copy (read_scaling, read_mostly).
 * Nodes come from a type-stable pool (never unmapped while the case runs),
 * which the seqlock needs and every variant uses, so all pay the same
 * allocation cost. Every field is read with a relaxed atomic load (a plain
 * mov on x86) for the same reason.
 */
#ifndef HP_RCU_CASE_H
#define HP_RCU_CASE_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hp_config.h"
#include "hp_time.h"
#include "rcu_bench.h"

#if HP_HAVE_CALLGRIND
#include <valgrind/valgrind.h>
#define ON_VALGRIND() RUNNING_ON_VALGRIND
#else
#define ON_VALGRIND() 0
#endif

#ifndef V_SYM
#error "rcu_case.h: V_SYM (the variant's table name) must be defined"
#endif

/* variants without synchronize_rcu_expedited (gp_latency's exp params
 * report them unavailable before anything runs) */
#ifndef V_HAS_EXP
#define V_HAS_EXP 0
static inline void v_synchronize_exp(void) {}
#endif

#define V_LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define V_ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#define QS_EVERY 1024           /* reads between quiescent states (qsbr) */
#define NKEYS 256
#define NBUCKET 64
#define MAX_CHAIN 64            /* a seqlock reader may follow a recycled node */
#define NOPS 8000               /* per-thread operation sequence, cycled; a
                                 * multiple of every sweep block (1e6/ppm) */
#define POOL_SPARE 65536        /* nodes beyond the live ones, for grace periods */
#define OP_UPDATE 0x80000000u
#define MAX_THREADS 256

/* ================================================================== */
/* Nodes and their pool                                                */
/* ================================================================== */

typedef struct node {
	v_head_t rh;            /* first: the callback's head is the node */
	uint64_t key, val, chk; /* chk == ~val, always */
	struct node *next;      /* hash chain */
	struct node *free_next; /* pool */
} __attribute__((aligned(64))) node_t;

/* local is the update side's (under v_write_lock, or the only thread);
 * returned is a lock-free stack anyone pushes onto (callbacks included)
 * and the allocator empties in one exchange, so there is no ABA. */
typedef struct pool {
	node_t *nodes;
	size_t n;
	node_t *local;
	node_t *returned;
} pool_t;

static int pool_init(pool_t *p, size_t n)
{
	p->nodes = aligned_alloc(64, n * sizeof(node_t));
	if (!p->nodes)
		return -1;
	memset(p->nodes, 0, n * sizeof(node_t));
	p->n = n;
	p->local = NULL;
	p->returned = NULL;
	for (size_t i = n; i-- > 0;) {
		p->nodes[i].free_next = p->local;
		p->local = &p->nodes[i];
	}
	return 0;
}

static node_t *pool_get(pool_t *p)
{
	node_t *x = p->local;

	if (!x)
		x = __atomic_exchange_n(&p->returned, NULL, __ATOMIC_ACQUIRE);
	if (x)
		p->local = x->free_next;
	return x;
}

static pool_t *cur_pool;        /* the running case's pool (set by setup) */

static void pool_put(pool_t *p, node_t *x)
{
	node_t *old = __atomic_load_n(&p->returned, __ATOMIC_RELAXED);

	do
		x->free_next = old;
	while (!__atomic_compare_exchange_n(&p->returned, &old, x, 1, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
}

/* The callback has only the head; one case runs at a time per variant, so
 * the pool is found through a static. */
static void node_free_cb(v_head_t *h)
{
	pool_put(__atomic_load_n(&cur_pool, __ATOMIC_ACQUIRE), (node_t *)(void *)h);
}

/* ================================================================== */
/* Shared state of one run                                             */
/* ================================================================== */

typedef struct sh {
	v_lock_t lk;
	node_t *gp __attribute__((aligned(64)));   /* the pointer swap */
	node_t *bucket[NBUCKET];                   /* the hash table */
	pool_t pool;
	uint32_t *ops[MAX_THREADS];                /* per thread: key | OP_UPDATE */
	int threads;
	uint64_t gen;                              /* values of updates (under the lock) */
	uint64_t bad;                              /* inconsistent reads seen */
	/* background threads: the updater (read_mostly/upd), busy readers (gp_latency) */
	pthread_t bg[MAX_THREADS];
	int nbg;
	int bg_stop;
	int bg_ready;
	uint64_t updates;
	int (*bind_cpu)(int cpu);
	int bg_cpu[MAX_THREADS];
	uint64_t seed;
} sh_t;

static void sh_free(sh_t *s);

static void node_fill(node_t *n, uint64_t key, uint64_t val)
{
	V_ST(n->key, key);
	V_ST(n->val, val);
	V_ST(n->chk, ~val);
}

/* Pool, pointer and table filled; ops for `threads` threads with an update
 * fraction of ppm parts per million. */
static sh_t *sh_new(const hp_ctx_t *ctx, int threads, uint64_t ppm)
{
	/* the sweep's fractions divide a million, and NOPS is a multiple of
	 * each block (checked here so a new fraction cannot silently skew) */
	if (ppm && (ppm > 1000000u || 1000000u % ppm || NOPS % (1000000u / ppm))) {
		fprintf(stderr, "rcu: update fraction %llu ppm: 1e6/ppm must divide %d\n",
			(unsigned long long)ppm, NOPS);
		return NULL;
	}

	sh_t *s = aligned_alloc(64, sizeof(sh_t));
	uint64_t x = ctx->seed;

	if (!s)
		return NULL;
	memset(s, 0, sizeof *s);
	v_lock_init(&s->lk);
	if (pool_init(&s->pool, NKEYS + 1 + POOL_SPARE) != 0) {
		free(s);
		return NULL;
	}
	__atomic_store_n(&cur_pool, &s->pool, __ATOMIC_RELEASE);
	s->seed = ctx->seed;
	s->bind_cpu = ctx->bind_cpu;
	s->threads = 0;
	s->gp = pool_get(&s->pool);
	if (!s->gp) {
		sh_free(s);
		return NULL;
	}
	node_fill(s->gp, 0, 1);
	/* keys inserted in a seeded order, so chain order depends on the seed */
	uint32_t order[NKEYS];

	for (uint32_t i = 0; i < NKEYS; i++)
		order[i] = i;
	for (uint32_t i = NKEYS - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(hp_splitmix64(&x) % (i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < NKEYS; i++) {
		uint32_t k = order[i];
		node_t *n = pool_get(&s->pool);

		if (!n) {
			sh_free(s);
			return NULL;
		}

		node_fill(n, k, hp_splitmix64(&x));
		n->next = s->bucket[k % NBUCKET];
		s->bucket[k % NBUCKET] = n;
	}
	s->threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	for (int t = 0; t < s->threads; t++) {
		uint64_t y = ctx->seed ^ (0x5851f42d4c957f2dull * (uint64_t)(t + 1));

		s->ops[t] = malloc(NOPS * sizeof(uint32_t));
		if (!s->ops[t]) {
			sh_free(s);
			return NULL;
		}
		for (int i = 0; i < NOPS; i++)
			s->ops[t][i] = (uint32_t)(hp_splitmix64(&y) % NKEYS);
		/* Updates stratified: one at a seeded position in every block of
		 * 1e6/ppm operations, so any stretch of the sequence (a short
		 * batch included) has the asked share to within one update. */
		if (ppm) {
			uint32_t blk = (uint32_t)(1000000u / ppm);

			for (uint32_t b = 0; b < NOPS; b += blk)
				s->ops[t][b + hp_splitmix64(&y) % blk] |= OP_UPDATE;
		}
	}
	return s;
}

static void bg_stop_all(sh_t *s)
{
	__atomic_store_n(&s->bg_stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < s->nbg; i++)
		pthread_join(s->bg[i], NULL);
	s->nbg = 0;
}

static void sh_free(sh_t *s)
{
	if (!s)
		return;
	bg_stop_all(s);
	/* callbacks still queued point into the pool */
	v_barrier();
	for (int t = 0; t < s->threads; t++)
		free(s->ops[t]);
	v_lock_destroy(&s->lk);
	free(s->pool.nodes);
	free(s);
}

static void case_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	sh_free(data);
}

/* The grace-period machinery's threads (impl's GP thread, liburcu's
 * call_rcu thread) inherit the CPU binding of the thread that creates them.
 * Create them once from a thread bound to all selected CPUs, so they are
 * not stuck on one measured CPU. */
static void warm_noop_cb(v_head_t *h)
{
	(void)h;
}

static void *warm_gp_main(void *arg)
{
	static v_head_t h;

	(void)arg;
	v_thread_enter();
	v_retire(&h, warm_noop_cb);
	v_barrier();
	v_thread_exit();
	return NULL;
}

static void warm_gp_threads(const hp_ctx_t *ctx)
{
	static int done;
	pthread_attr_t a;
	pthread_t t;
	cpu_set_t set;

	if (!V_HAS_GP || done)
		return;
	done = 1;
	CPU_ZERO(&set);
	for (int i = 0; i < ctx->ncpus; i++)
		CPU_SET(ctx->all_cpus[i], &set);
	pthread_attr_init(&a);
	pthread_attr_setaffinity_np(&a, sizeof set, &set);
	if (pthread_create(&t, &a, warm_gp_main, NULL) == 0)
		pthread_join(t, NULL);
	pthread_attr_destroy(&a);
}

/* ================================================================== */
/* Operations                                                          */
/* ================================================================== */

/* A lookup: 1 and the value when found consistent, 0 when inconsistent. */
static inline int lookup(sh_t *s, uint32_t k, uint64_t *out)
{
	uint64_t v, c;
	int found;

	V_READ(&s->lk,
		node_t *p = v_deref(s->bucket[k % NBUCKET]);
		found = 0;
		v = c = 0;
		for (int steps = 0; p && steps < MAX_CHAIN; steps++) {
			if (V_LD(p->key) == k) {
				v = V_LD(p->val);
				c = V_LD(p->chk);
				found = 1;
				break;
			}
			p = v_deref(p->next);
		});
	*out = v;
	return found && c == ~v;
}

/* Replaces key k's node by a copy with value val. The pool running dry
 * means nodes wait for grace periods: wait for them outside the lock. */
static void update(sh_t *s, uint32_t k)
{
	node_t *n, *old, **pp;
	uint64_t val;

	for (;;) {
		v_write_lock(&s->lk);
		n = pool_get(&s->pool);
		if (n)
			break;
		v_write_unlock(&s->lk);
		v_barrier();
	}
	val = ++s->gen;
	pp = &s->bucket[k % NBUCKET];
	while ((old = *pp) && old->key != k)
		pp = &old->next;
	node_fill(n, k, val);
	V_ST(n->next, old ? old->next : NULL);
	v_publish(*pp, n);
	v_write_unlock(&s->lk);
	if (old)
		v_retire(&old->rh, node_free_cb);
}

static void note_bad(hp_state_t *st, sh_t *s, uint64_t bad)
{
	if (!bad)
		return;
	__atomic_fetch_add(&s->bad, bad, __ATOMIC_RELAXED);
	hp_skip(st, "rcu: a reader saw an inconsistent node: the variant does not synchronise");
}

/* ================================================================== */
/* read_side: lock, dereference, one load, unlock                      */
/* ================================================================== */

static void *read_side_setup(hp_ctx_t *ctx)
{
	warm_gp_threads(ctx);
	return sh_new(ctx, ctx->threads, 0);
}

static void read_side_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sh_t *s = ctx->data;
	uint64_t sum = 0;

	hp_pause(st);
	v_thread_enter();
	hp_resume(st);
	for (uint64_t done = 0; done < n;) {
		uint64_t m = n - done < QS_EVERY ? n - done : QS_EVERY;

		for (uint64_t i = 0; i < m; i++) {
			uint64_t v;

			V_READ(&s->lk,
				node_t *p = v_deref(s->gp);
				v = V_LD(p->val));
			sum += v;
		}
		done += m;
		v_quiescent();
	}
	hp_pause(st);
	v_thread_exit();
	hp_resume(st);
	hp_do_not_optimize(sum);
}

/* ================================================================== */
/* read_scaling and read_mostly: the hash table                        */
/* ================================================================== */

static void *updater_main(void *arg)
{
	sh_t *s = arg;
	uint64_t x = s->seed ^ 0xd1b54a32d192ed03ull;
	struct timespec next;

	if (s->bind_cpu)
		s->bind_cpu(s->bg_cpu[0]);
	v_thread_enter();
	__atomic_store_n(&s->bg_ready, 1, __ATOMIC_RELEASE);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!__atomic_load_n(&s->bg_stop, __ATOMIC_ACQUIRE)) {
		struct timespec now;

		update(s, (uint32_t)(hp_splitmix64(&x) % NKEYS));
		__atomic_store_n(&s->updates, s->updates + 1, __ATOMIC_RELAXED);
		next.tv_nsec += HP_RCU_UPDATER_PERIOD_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		v_offline();
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		v_online();
		/* far behind (a preempted updater): do not catch up in a burst */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec + 1)
			next = now;
	}
	v_thread_exit();
	return NULL;
}

static void *hash_setup(hp_ctx_t *ctx)
{
	int64_t mode = ctx->p->value;
	sh_t *s;

	warm_gp_threads(ctx);
	s = sh_new(ctx, ctx->threads, mode > 0 ? (uint64_t)mode : 0);
	if (!s)
		return NULL;
	if (mode == HP_RCU_MODE_UPDATER && !ON_VALGRIND()) {
		/* on the last selected CPU: alone there while the readers use
		 * fewer CPUs, sharing the last reader's otherwise */
		s->bg_cpu[0] = ctx->all_cpus[ctx->ncpus - 1];
		if (pthread_create(&s->bg[0], NULL, updater_main, s) != 0) {
			sh_free(s);
			return NULL;
		}
		s->nbg = 1;
		while (!__atomic_load_n(&s->bg_ready, __ATOMIC_ACQUIRE))
			sched_yield();
	}
	return s;
}


/* Every thread runs its own seeded operation sequence: lookups, and with
 * an update fraction, updates of random keys. */
static void hash_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sh_t *s = ctx->data;
	const uint32_t *ops = s->ops[st->thread_index % s->threads];
	uint64_t sum = 0, bad = 0, u0 = 0;
	double t0 = 0;
	uint32_t i = 0;

	hp_pause(st);
	v_thread_enter();
	if (s->nbg) {
		u0 = __atomic_load_n(&s->updates, __ATOMIC_RELAXED);
		t0 = hp_mono_s();
	}
	hp_resume(st);
	for (uint64_t done = 0; done < n;) {
		uint64_t m = n - done < QS_EVERY ? n - done : QS_EVERY;

		for (uint64_t j = 0; j < m; j++) {
			uint32_t op = ops[i++ % NOPS];
			uint64_t v;

			if (op & OP_UPDATE) {
				update(s, op & ~OP_UPDATE);
			} else {
				bad += !lookup(s, op, &v);
				sum += v;
			}
		}
		done += m;
		v_quiescent();
	}
	hp_pause(st);
	/* Counters are averaged over the measured threads, so every thread
	 * reports its own figure. */
	if (ctx->c->params && ctx->p->value >= 0 && n > 0) {
		/* the share of updates this thread really made, replayed from
		 * its sequence outside the clock (the sweep's x, checked by
		 * tests/test_rcu_suite.sh) */
		uint64_t u = 0;

		for (uint64_t j = 0; j < n; j++)
			u += (ops[j % NOPS] & OP_UPDATE) != 0;
		hp_counter(st, "update_ppm", (double)u * 1e6 / (double)n);
		hp_counter(st, "ops_per_thread", (double)n);
	}
	if (s->nbg) {
		/* the updater's rate over this thread's batch */
		double dt = hp_mono_s() - t0;

		if (dt > 0)
			hp_counter(st, "updates_per_s",
				   (double)(__atomic_load_n(&s->updates, __ATOMIC_RELAXED) - u0) / dt);
	}
	v_thread_exit();
	hp_resume(st);
	hp_do_not_optimize(sum);
	note_bad(st, s, bad);
}

/* ================================================================== */
/* gp_latency: synchronize_rcu, idle or with busy readers              */
/* ================================================================== */

static void *busy_reader_main(void *arg)
{
	sh_t *s = arg;
	int me = __atomic_fetch_add(&s->bg_ready, 1, __ATOMIC_ACQ_REL);
	uint64_t sum = 0;

	if (s->bind_cpu)
		s->bind_cpu(s->bg_cpu[me]);
	v_thread_enter();
	while (!__atomic_load_n(&s->bg_stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < QS_EVERY; i++) {
			uint64_t v;

			V_READ(&s->lk,
				node_t *p = v_deref(s->gp);
				v = V_LD(p->val));
			sum += v;
		}
		v_quiescent();
	}
	v_thread_exit();
	hp_do_not_optimize(sum);
	return NULL;
}

static void *gp_setup(hp_ctx_t *ctx)
{
	sh_t *s;

	warm_gp_threads(ctx);
	s = sh_new(ctx, 1, 0);
	if (!s || !(ctx->p->value & HP_RCU_GP_READERS) || ON_VALGRIND())
		return s;
	/* one busy reader on every selected CPU but the measuring one */
	for (int i = 0; i < ctx->ncpus && s->nbg < MAX_THREADS; i++) {
		if (ctx->all_cpus[i] == ctx->cpus[0])
			continue;
		s->bg_cpu[s->nbg] = ctx->all_cpus[i];
		if (pthread_create(&s->bg[s->nbg], NULL, busy_reader_main, s) != 0)
			break;
		s->nbg++;
	}
	return s;
}

static void gp_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	int exp = (ctx->p->value & HP_RCU_GP_EXP) != 0;

	if (!V_HAS_GP || (exp && !V_HAS_EXP))
		return;
	hp_pause(st);
	v_thread_enter();
	hp_resume(st);
	if (exp)
		for (uint64_t i = 0; i < n; i++)
			v_synchronize_exp();
	else
		for (uint64_t i = 0; i < n; i++)
			v_synchronize();
	hp_pause(st);
	if (v_membarrier() >= 0)
		hp_counter(st, "membarrier", v_membarrier());
	v_thread_exit();
	hp_resume(st);
}

/* ================================================================== */
/* call_rcu: queue one callback; the batch ends with rcu_barrier       */
/* ================================================================== */

static void *cb_setup(hp_ctx_t *ctx)
{
	warm_gp_threads(ctx);
	return sh_new(ctx, 1, 0);
}

/* One op = take a node, call_rcu it to go back to the pool. The pool holds
 * 64 Ki nodes: when it runs dry, rcu_barrier waits for them (flow control,
 * inside the timing); the batch ends with one too, so every callback queued
 * in it has run when the clock stops. */
static void cb_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	sh_t *s = ctx->data;

	if (!V_HAS_GP)
		return;
	hp_pause(st);
	v_thread_enter();
	hp_resume(st);
	for (uint64_t done = 0; done < n;) {
		uint64_t m = n - done < QS_EVERY ? n - done : QS_EVERY;

		for (uint64_t i = 0; i < m; i++) {
			node_t *x = pool_get(&s->pool);

			while (!x) {
				v_barrier();
				x = pool_get(&s->pool);
			}
			v_retire(&x->rh, node_free_cb);
		}
		done += m;
		v_quiescent();
	}
	v_barrier();
	hp_pause(st);
	v_thread_exit();
	hp_resume(st);
}

#ifdef V_HAS_KFREE
/* ================================================================== */
/* kfree_rcu: batched per CPU against one call_rcu per object           */
/* ================================================================== */

#include <malloc.h>

#include "slub.h"

#define KF_OBJ 64               /* bytes per object, head included */

typedef struct kf_obj {
	v_head_t rh;
	char pad[KF_OBJ - sizeof(v_head_t)];
} kf_obj_t;

static uint64_t kf_freed;       /* per_object: objects the callbacks freed */

static void kf_free_cb(v_head_t *h)
{
	free(h);
	__atomic_fetch_add(&kf_freed, 1, __ATOMIC_RELAXED);
}

/* retire=sheaf: the objects come from a 64-byte impl/slub cache of
 * generation sheaves (7.0) and go through its per-CPU rcu_free sheaf
 * (hp_kfree_rcu_sheaf), handed to this flavour's call_rcu when full. */
static hp_kmem_cache_t *kf_cache;
static uint64_t kf_fallback;    /* sheaf: objects the rcu sheaf refused (one call_rcu each) */

static void kf_sheaf_cb(v_head_t *h)
{
	hp_kfree_rcu_sheaf_done(h);
}

_Static_assert(sizeof(v_head_t) <= HP_SLUB_RCU_HEAD_BYTES, "an rcu head fits in a sheaf's rcu_head");

static void kf_sheaf_call_rcu(void *head)
{
	v_retire((v_head_t *)head, kf_sheaf_cb);
}

static void kf_slab_free_cb(v_head_t *h)
{
	hp_kmem_cache_free(kf_cache, h);
}

static void *kf_setup(hp_ctx_t *ctx)
{
	warm_gp_threads(ctx);
	if (ctx->p->value == 2 && !kf_cache) {
		char err[160];

		kf_cache = hp_kmem_cache_create("rcu-kfree-sheaf", KF_OBJ, 0, HP_SLAB_SHEAVES, NULL, err, sizeof err);
		if (!kf_cache) {
			fprintf(stderr, "rcu: kfree_rcu: kmem_cache_create: %s\n", err);
			return NULL;
		}
	}
	return sh_new(ctx, 1, 0);
}

static void kf_teardown(hp_ctx_t *ctx, void *data)
{
	case_teardown(ctx, data);
	if (kf_cache && hp_kmem_cache_destroy(kf_cache) == 0)
		kf_cache = NULL;
}

/* Slab memory the sheaf cache holds: its slabs' pages. */
static double kf_slab_bytes(void)
{
	hp_kmem_cache_info_t ki;

	hp_kmem_cache_get_info(kf_cache, &ki);
	return (double)ki.nr_slabs * (double)((size_t)HP_PAGE_SIZE << ki.order);
}

/* Bytes malloc has handed out and not taken back (the whole process's;
 * the case reports the rise over its start). 0 where the allocator does
 * not say (sanitizers replace malloc). */
static double kf_heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (double)mi.uordblks + (double)mi.hblkhd;
}

/* retire=sheaf (see kf_run). A refused object (lock taken, no sheaf to
 * be had) takes one call_rcu, counted in sheaf_fallback. At the end,
 * outside the clock, the cache's invariants and conservation are checked
 * (every object back in a sheaf or on its slab). */
static void kf_sheaf_run(hp_state_t *st, uint64_t n)
{
	double m0, peak = 0;
	hp_sheaves_info_t info;
	char err[200];

	hp_pause(st);
	if (!kf_cache) {
		hp_skip(st, "rcu: kfree_rcu: no sheaves cache (kmem_cache_create failed)");
		hp_resume(st);
		return;
	}
	v_thread_enter();
	m0 = kf_slab_bytes();
	__atomic_store_n(&kf_fallback, 0, __ATOMIC_RELAXED);
	hp_resume(st);
	for (uint64_t done = 0; done < n;) {
		uint64_t m = n - done < QS_EVERY ? n - done : QS_EVERY;

		for (uint64_t i = 0; i < m; i++) {
			kf_obj_t *o = hp_kmem_cache_alloc(kf_cache);

			if (!o) {
				hp_skip(st, "rcu: kfree_rcu: out of memory");
				break;
			}
			o->pad[0] = (char)i;
			if (!hp_kfree_rcu_sheaf(kf_cache, o, kf_sheaf_call_rcu)) {
				kf_fallback++;
				v_retire(&o->rh, kf_slab_free_cb);
			}
		}
		done += m;
		v_quiescent();
		hp_pause(st);
		if (kf_slab_bytes() - m0 > peak)
			peak = kf_slab_bytes() - m0;
		hp_resume(st);
	}
	hp_kfree_rcu_sheaf_flush(kf_cache, kf_sheaf_call_rcu);
	v_barrier();
	hp_pause(st);
	if (hp_kmem_cache_sheaves_check(kf_cache, 0, &info, err, sizeof err) != 0)
		hp_skip(st, "rcu: kfree_rcu: an object was not returned to the cache by the end of the batch");
	hp_counter(st, "objs_per_gp_cb", (double)hp_kmem_cache_sheaf_capacity(kf_cache));
	hp_counter(st, "sheaf_fallback", (double)kf_fallback);
	hp_counter(st, "peak_heap_kib", peak / 1024);
	v_thread_exit();
	hp_resume(st);
}

/* One op = allocate one 64-byte object and retire it: kvfree_call_rcu
 * (batched) or call_rcu with a callback that frees it (per_object), both
 * on malloc's objects; or (sheaf) kmem_cache_alloc from a sheaves cache
 * and hp_kfree_rcu_sheaf. The batch ends with kvfree_rcu_barrier /
 * rcu_barrier (sheaf: hp_kfree_rcu_sheaf_flush + rcu_barrier) inside the
 * timing, so every object is freed when the clock stops. Every 1024 ops,
 * outside the clock, the memory in use is sampled for the peak: malloc's
 * bytes handed out, or (sheaf) the cache's slab pages. */
static void kf_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	int batched = ctx->p->value == 1, sheaf = ctx->p->value == 2;
	double h0, peak = 0;
	hp_rcu_stats_t s0, s1;

	if (sheaf) {
		kf_sheaf_run(st, n);
		return;
	}
	hp_pause(st);
	v_thread_enter();
	h0 = kf_heap();
	hp_rcu_stats(&s0);
	__atomic_store_n(&kf_freed, 0, __ATOMIC_RELAXED);
	hp_resume(st);
	for (uint64_t done = 0; done < n;) {
		uint64_t m = n - done < QS_EVERY ? n - done : QS_EVERY;

		for (uint64_t i = 0; i < m; i++) {
			kf_obj_t *o = malloc(sizeof *o);

			if (!o) {
				hp_skip(st, "rcu: kfree_rcu: out of memory");
				break;
			}
			o->pad[0] = (char)i;
			if (batched)
				v_kfree_rcu(o);
			else
				v_retire(&o->rh, kf_free_cb);
		}
		done += m;
		v_quiescent();
		hp_pause(st);
		if (kf_heap() - h0 > peak)
			peak = kf_heap() - h0;
		hp_resume(st);
	}
	if (batched)
		v_kfree_barrier();
	else
		v_barrier();
	hp_pause(st);
	hp_rcu_stats(&s1);
	{
		uint64_t freed = batched ? s1.kfree_freed - s0.kfree_freed
					 : __atomic_load_n(&kf_freed, __ATOMIC_RELAXED);

		if (freed != n)
			hp_skip(st, "rcu: kfree_rcu: an object was not freed by the end of the batch");
		if (batched)
			hp_counter(st, "objs_per_gp_cb", (double)n /
				   (double)(s1.kfree_pages - s0.kfree_pages ? s1.kfree_pages - s0.kfree_pages : 1));
		if (kf_heap() > 0)
			hp_counter(st, "peak_heap_kib", peak / 1024);
	}
	v_thread_exit();
	hp_resume(st);
}
#endif

#ifdef V_SRCU
/* ================================================================== */
/* srcu_domains: synchronize_srcu beside readers asleep in other domains */
/* ================================================================== */

#define SRCU_OTHER 4            /* other domains, one sleeping reader each */

typedef struct srcu_sh {
	hp_srcu_struct_t other[SRCU_OTHER];
	pthread_t th[SRCU_OTHER];
	int nth, ninit;
	int stop, ready;
} srcu_sh_t;

typedef struct srcu_arg {
	srcu_sh_t *s;
	int k;
} srcu_arg_t;

static srcu_arg_t srcu_args[SRCU_OTHER];

/* Enters its domain and sleeps there until the case ends. */
static void *srcu_sleeper_main(void *arg)
{
	srcu_arg_t *a = arg;
	int idx = hp_srcu_read_lock(&a->s->other[a->k]);
	struct timespec ts = { 0, 1000000 };

	__atomic_fetch_add(&a->s->ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&a->s->stop, __ATOMIC_ACQUIRE))
		nanosleep(&ts, NULL);
	hp_srcu_read_unlock(&a->s->other[a->k], idx);
	return NULL;
}

static void srcu_dom_teardown(hp_ctx_t *ctx, void *data)
{
	srcu_sh_t *s = data;

	(void)ctx;
	if (!s)
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < s->nth; i++)
		pthread_join(s->th[i], NULL);
	for (int i = 0; i < s->ninit; i++)
		hp_cleanup_srcu_struct(&s->other[i]);
	free(s);
}

static void *srcu_dom_setup(hp_ctx_t *ctx)
{
	srcu_sh_t *s = calloc(1, sizeof *s);

	(void)v_domain();
	if (!s)
		return NULL;
	for (; s->ninit < SRCU_OTHER; s->ninit++)
		if (hp_init_srcu_struct(&s->other[s->ninit]) != 0) {
			srcu_dom_teardown(ctx, s);
			return NULL;
		}
	if (ctx->p->value == 0)
		return s;
	for (int k = 0; k < SRCU_OTHER; k++) {
		srcu_args[k] = (srcu_arg_t){ s, k };
		if (pthread_create(&s->th[s->nth], NULL, srcu_sleeper_main, &srcu_args[k]) != 0)
			break;
		s->nth++;
	}
	while (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) < s->nth)
		sched_yield();
	return s;
}

static void srcu_dom_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	srcu_sh_t *s = ctx->data;
	int blocked = 0;

	for (uint64_t i = 0; i < n; i++)
		hp_synchronize_srcu(&v_dom);
	hp_pause(st);
	for (int k = 0; k < s->nth; k++)
		blocked += hp_srcu_readers_active(&s->other[k]) != 0;
	/* the readers really were inside their domains all along */
	hp_counter(st, "blocked_domains", blocked);
	hp_resume(st);
}
#endif

/* ================================================================== */
/* The variant's ops table                                             */
/* ================================================================== */

#define HP_RCU_VT_CAT_(a, b) a##b
#define HP_RCU_VT_CAT(a, b) HP_RCU_VT_CAT_(a, b)

#ifndef V_LIBURCU
#define V_LIBURCU 0
#endif

const hp_rcu_ops_t HP_RCU_VT_CAT(hp_rcu_ops_, V_SYM) = {
	.name = V_NAME,
	.has_gp = V_HAS_GP,
	.has_exp = V_HAS_EXP,
	.liburcu = V_LIBURCU,
	.membarrier = v_membarrier,
	.read_side = { read_side_setup, case_teardown, read_side_run },
	.read_scaling = { hash_setup, case_teardown, hash_run },
	.read_mostly = { hash_setup, case_teardown, hash_run },
	.gp_latency = { gp_setup, case_teardown, gp_run },
	.call_rcu = { cb_setup, case_teardown, cb_run },
#ifdef V_SRCU
	.srcu_domains = { srcu_dom_setup, srcu_dom_teardown, srcu_dom_run },
#endif
#ifdef V_HAS_KFREE
	.kfree_rcu = { kf_setup, kf_teardown, kf_run },
#endif
};

#endif
