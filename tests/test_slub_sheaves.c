/* test_slub_sheaves.c — generation `sheaves` (7.0) of impl/slub: seeded operation sequences with the sheaf/barn invariants and object conservation checked after every operation, remote frees, bulk, a multi-thread stress, and each lock stand-in.
 *
 * Built twice (tests/meson.build): against impl/slub, where every check
 * must hold, and with -DT_MUTANT against impl/slub built with
 * -DHP_SLUB_MUTATE_SHEAF_FLUSH (a flush that loses an object), where the
 * seeded sequences must be caught by the conservation check and by
 * nothing else: the mutant test passes only when that exact failure is
 * found, so it proves the check tests the flush.
 */
#include "t_util.h"
#include "hp_rand.h"
#include "slub.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#define MAXLIVE 4096

static long conservation_seen;        /* checker reports of lost or extra objects */

typedef struct seq {
	hp_kmem_cache_t *s;
	size_t size;
	void *live[MAXLIVE];
	long nlive;
	uint64_t rng;
	long violations;                  /* checker reports */
	char first[300];                  /* the first one */
} seq_t;

static void fill(void *p, size_t size)
{
	uint64_t *w = p;

	for (size_t i = 0; i < size / 8; i++)
		w[i] = (uintptr_t)p ^ (i * 0x9e3779b97f4a7c15ull);
}

static int intact(const void *p, size_t size)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < size / 8; i++)
		if (w[i] != ((uintptr_t)p ^ (i * 0x9e3779b97f4a7c15ull)))
			return 0;
	return 1;
}

static void check(seq_t *q, const char *after)
{
	char err[256];
	long bad = hp_kmem_cache_sheaves_check(q->s, q->nlive, NULL, err, sizeof err);

	if (bad) {
		if (strstr(err, "not conserved"))
			conservation_seen++;
		if (!q->violations)
			snprintf(q->first, sizeof q->first, "after %s: %s", after, err);
		q->violations += bad;
	}
}

static void take(seq_t *q, void *p)
{
	if (!p) {
		T_CHECK_MSG(0, "%s: allocation failed", hp_kmem_cache_sheaf_capacity(q->s) ? "sheaves" : "?");
		return;
	}
	fill(p, q->size);
	q->live[q->nlive++] = p;
}

static void *give(seq_t *q, long i)
{
	void *p = q->live[i];

	T_CHECK_MSG(intact(p, q->size), "object %p overwritten while live (handed out twice?)", p);
	q->live[i] = q->live[--q->nlive];
	return p;
}

/* One seeded operation: alloc, free (newest or random), bulk alloc/free
 * of up to 100 (beyond a sheaf), kfree, zalloc, shrink. */
static const char *step(seq_t *q)
{
	uint64_t r = hp_splitmix64(&q->rng);
	unsigned op = (unsigned)(r % 100);

	if (op < 40 && q->nlive < MAXLIVE - 128) {
		take(q, hp_kmem_cache_alloc(q->s));
		return "alloc";
	}
	if (op < 75 && q->nlive) {
		hp_kmem_cache_free(q->s, give(q, (long)((r >> 8) % (uint64_t)q->nlive)));
		return "free";
	}
	if (op < 83 && q->nlive < MAXLIVE - 128) {
		void *v[100];
		size_t n = 1 + (r >> 8) % 100;

		T_CHECK(hp_kmem_cache_alloc_bulk(q->s, n, v) == n);
		for (size_t i = 0; i < n; i++)
			take(q, v[i]);
		return "bulk alloc";
	}
	if (op < 91 && q->nlive) {
		void *v[101];
		size_t n = 1 + (r >> 8) % 100, k = 0;

		while (k < n && q->nlive)
			v[k++] = give(q, (long)((r >> 20) % (uint64_t)q->nlive));
		v[k++] = NULL;   /* skipped */
		hp_kmem_cache_free_bulk(q->s, k, v);
		return "bulk free";
	}
	if (op < 95 && q->nlive < MAXLIVE - 128) {
		unsigned char *p = hp_kmem_cache_zalloc(q->s);
		int zero = 1;

		for (size_t i = 0; p && i < q->size; i++)
			zero &= p[i] == 0;
		T_CHECK(zero);
		take(q, p);
		return "zalloc";
	}
	if (op < 99 && q->nlive) {
		hp_kfree(give(q, q->nlive - 1));   /* kfree of a kmem_cache object: the same path */
		return "kfree";
	}
	hp_kmem_cache_shrink(q->s);
	return "shrink";
}

static void drain(seq_t *q)
{
	while (q->nlive)
		hp_kmem_cache_free(q->s, give(q, q->nlive - 1));
}

/* The seeded sequences over a cache of each size and lock stand-in;
 * returns the violations the checker found. */
static long run_sequences(unsigned flags, const char *tag, int steps)
{
	static const size_t sizes[] = { 8, 64, 256, 1500, 5000 };
	long total = 0;

	for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
		for (uint64_t seed = 1; seed <= 3; seed++) {
			static seq_t q;
			char name[48], err[200];
			hp_sheaves_info_t info;

			memset(&q, 0, sizeof q);
			snprintf(name, sizeof name, "sh-%s-%zu-%llu", tag, sizes[z], (unsigned long long)seed);
			q.size = sizes[z];
			q.rng = seed * 1000 + z;
			q.s = hp_kmem_cache_create(name, sizes[z], 0, HP_SLAB_SHEAVES | flags, NULL, err, sizeof err);
			T_CHECK_MSG(q.s != NULL, "%s: %s", name, err);
			if (!q.s)
				continue;
			T_CHECK(hp_kmem_cache_sheaf_capacity(q.s) > 0);
			check(&q, "create");
			for (int i = 0; i < steps; i++)
				check(&q, step(&q));
			drain(&q);
			check(&q, "drain");
			hp_kmem_cache_sheaves_check(q.s, 0, &info, err, sizeof err);
			/* the sequence went through every layer: refills, the barn */
			T_CHECK_MSG(info.sstat[HP_SHEAF_STAT_REFILL] > 0, "%s: no refill", name);
			if (q.violations)
				fprintf(stderr, "%s: %ld violations, first %s\n", name, q.violations, q.first);
			total += q.violations;
#ifndef T_MUTANT
			T_CHECK_MSG(hp_kmem_cache_destroy(q.s) == 0, "%s: destroy found objects left", name);
#endif
		}
	return total;
}

/* ------------------------------------------------------------------ */

#ifndef T_MUTANT

/* The barn fills and drains: a free burst larger than two sheaves per CPU
 * puts full sheaves in the barn (at most 10), an alloc burst takes them
 * back; the flush beyond the barn's limit returns objects to slabs. */
static void test_barn(void)
{
	static seq_t q;
	char err[200];
	hp_sheaves_info_t info;
	unsigned cap;

	memset(&q, 0, sizeof q);
	q.size = 64;
	q.s = hp_kmem_cache_create("sh-barn", 64, 0, HP_SLAB_SHEAVES, NULL, err, sizeof err);
	T_CHECK(q.s != NULL);
	if (!q.s)
		return;
	cap = hp_kmem_cache_sheaf_capacity(q.s);
	T_CHECK(cap == 60);   /* 120 / 2 objects, a 512-byte sheaf */
	for (unsigned i = 0; i < cap * 16; i++)
		take(&q, hp_kmem_cache_alloc(q.s));
	check(&q, "alloc burst");
	drain(&q);
	check(&q, "free burst");
	hp_kmem_cache_sheaves_check(q.s, 0, &info, err, sizeof err);
	T_CHECK_MSG(info.barn_full >= 1 && info.barn_full <= HP_SLAB_SHEAVES_MAX_FULL, "barn_full %u", info.barn_full);
	T_CHECK(info.sstat[HP_SHEAF_STAT_BARN_PUT] > 0);
	T_CHECK(info.sstat[HP_SHEAF_STAT_FLUSH] > 0);   /* 16 sheaves freed, at most 2 + 10 kept */
	for (unsigned i = 0; i < cap * 8; i++)
		take(&q, hp_kmem_cache_alloc(q.s));
	check(&q, "alloc again");
	hp_kmem_cache_sheaves_check(q.s, (long)q.nlive, &info, err, sizeof err);
	T_CHECK(info.sstat[HP_SHEAF_STAT_BARN_GET] > 0);
	drain(&q);
	T_CHECK(hp_kmem_cache_shrink(q.s) > 0);
	hp_kmem_cache_sheaves_check(q.s, 0, &info, err, sizeof err);
	T_CHECK(info.in_pcs == 0 && info.in_barn == 0 && info.nr_slabs == 0);
	T_CHECK(q.violations == 0);
	if (q.violations)
		fprintf(stderr, "barn: %s\n", q.first);
	T_CHECK(hp_kmem_cache_destroy(q.s) == 0);
}

/* Remote frees: objects allocated here, freed by another thread (another
 * CPU when the scheduler agrees): on one node they go into that thread's
 * sheaf; conservation holds after. */
typedef struct remote {
	hp_kmem_cache_t *s;
	void **v;
	size_t n;
	int cpu;
} remote_t;

static void *remote_free(void *arg)
{
	remote_t *r = arg;

	if (r->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(r->cpu, &set);
		(void)sched_setaffinity(0, sizeof set, &set);
	}
	for (size_t i = 0; i < r->n; i++)
		hp_kmem_cache_free(r->s, r->v[i]);
	return NULL;
}

static void test_remote(void)
{
	static void *v[3000];
	char err[200];
	hp_kmem_cache_t *s = hp_kmem_cache_create("sh-remote", 128, 0, HP_SLAB_SHEAVES | HP_SLAB_PCPU_RSEQ, NULL, err,
						  sizeof err);
	remote_t r = { s, v, 3000, sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : -1 };
	pthread_t t;
	hp_sheaves_info_t info;

	T_CHECK(s != NULL);
	if (!s)
		return;
	for (size_t i = 0; i < r.n; i++) {
		v[i] = hp_kmem_cache_alloc(s);
		T_CHECK(v[i] != NULL);
	}
	T_CHECK(hp_kmem_cache_sheaves_check(s, (long)r.n, NULL, err, sizeof err) == 0);
	T_CHECK(pthread_create(&t, NULL, remote_free, &r) == 0);
	pthread_join(t, NULL);
	T_CHECK_MSG(hp_kmem_cache_sheaves_check(s, 0, &info, err, sizeof err) == 0, "%s", err);
	T_CHECK(info.in_pcs + info.in_barn == info.slab_inuse);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
}

/* Multi-thread stress: threads allocate, hand objects to each other
 * through a shared pool and free, on one shared cache per stand-in;
 * every object is checked intact when freed; at the end conservation. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define MT_OPS 20000
#else
#define MT_OPS 200000
#endif
#define MT_THREADS 4
#define MT_POOL 256

typedef struct mt {
	hp_kmem_cache_t *s;
	void *pool[MT_POOL];              /* exchanged with __atomic_exchange_n */
	int bad;
} mt_t;

static void *mt_worker(void *arg)
{
	mt_t *m = ((void **)arg)[0];
	uint64_t rng = (uintptr_t)((void **)arg)[1];

	for (int i = 0; i < MT_OPS; i++) {
		uint64_t r = hp_splitmix64(&rng);
		unsigned slot = (unsigned)(r % MT_POOL);
		uint64_t *p = NULL;

		if (r & (1ull << 40)) {
			p = hp_kmem_cache_alloc(m->s);
			if (!p) {
				__atomic_store_n(&m->bad, 1, __ATOMIC_RELAXED);
				continue;
			}
			p[0] = (uintptr_t)p;
			p[1] = ~(uintptr_t)p;
		}
		p = __atomic_exchange_n(&m->pool[slot], p, __ATOMIC_ACQ_REL);
		if (p) {
			if (p[0] != (uintptr_t)p || p[1] != ~(uintptr_t)p)
				__atomic_store_n(&m->bad, 2, __ATOMIC_RELAXED);
			if (r & (1ull << 41)) {
				void *v[1] = { p };

				hp_kmem_cache_free_bulk(m->s, 1, v);
			} else {
				hp_kmem_cache_free(m->s, p);
			}
		}
	}
	return NULL;
}

static void test_mt(unsigned flags, const char *name)
{
	static mt_t m;
	pthread_t t[MT_THREADS];
	void *args[MT_THREADS][2];
	char err[200];

	memset(&m, 0, sizeof m);
	m.s = hp_kmem_cache_create(name, 48, 0, HP_SLAB_SHEAVES | flags, NULL, err, sizeof err);
	T_CHECK(m.s != NULL);
	if (!m.s)
		return;
	for (int i = 0; i < MT_THREADS; i++) {
		args[i][0] = &m;
		args[i][1] = (void *)(uintptr_t)(i + 1);
		T_CHECK(pthread_create(&t[i], NULL, mt_worker, args[i]) == 0);
	}
	for (int i = 0; i < MT_THREADS; i++)
		pthread_join(t[i], NULL);
	T_CHECK_MSG(m.bad == 0, "%s: bad %d (1: alloc failed, 2: object overwritten)", name, m.bad);
	{
		long held = 0;

		for (int i = 0; i < MT_POOL; i++)
			held += m.pool[i] != NULL;
		T_CHECK_MSG(hp_kmem_cache_sheaves_check(m.s, held, NULL, err, sizeof err) == 0, "%s: %s", name, err);
		for (int i = 0; i < MT_POOL; i++)
			hp_kmem_cache_free(m.s, m.pool[i]);
	}
	T_CHECK_MSG(hp_kmem_cache_sheaves_check(m.s, 0, NULL, err, sizeof err) == 0, "%s: %s", name, err);
	T_CHECK(hp_kmem_cache_destroy(m.s) == 0);
}

/* The pinned stand-in from a thread that declared its CPU (the inline
 * pinned fast paths) and from one that did not (the shared unit). */
static void test_pinned(void)
{
	cpu_set_t set, old;
	static seq_t q;
	char err[200];

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_getaffinity(0, sizeof old, &old) != 0 || sched_setaffinity(0, sizeof set, &set) != 0 ||
	    hp_slub_set_cpu(0) != 0) {
		printf("pinned: cannot bind to CPU 0, declared-thread part not run\n");
		return;
	}
	memset(&q, 0, sizeof q);
	q.size = 64;
	q.s = hp_kmem_cache_create("sh-pinned", 64, 0, HP_SLAB_SHEAVES | HP_SLAB_PCPU_PINNED, NULL, err, sizeof err);
	T_CHECK(q.s != NULL);
	if (q.s) {
		for (int i = 0; i < 500; i++) {
			take(&q, hp_kmem_cache_alloc_sheaves_pinned(q.s));
			check(&q, "pinned alloc");
		}
		while (q.nlive) {
			hp_kmem_cache_free_sheaves_pinned(q.s, give(&q, q.nlive - 1));
			check(&q, "pinned free");
		}
		T_CHECK_MSG(q.violations == 0, "%s", q.first);
		T_CHECK(hp_kmem_cache_destroy(q.s) == 0);
	}
	hp_slub_set_cpu(-1);
	sched_setaffinity(0, sizeof old, &old);
}

/* The sheaves kmalloc set: every size class, kfree back, conservation in
 * one class; and the generation names. */
static void test_kmalloc(void)
{
	static void *p[400];
	char err[200];
	hp_kmem_cache_t *s64;

	for (size_t sz = 1; sz <= 8192; sz = sz * 3 + 1) {
		for (int i = 0; i < 400; i++) {
			p[i] = hp_kmalloc_set(HP_KMALLOC_SET_SHEAVES, sz);
			T_CHECK(p[i] != NULL);
			if (p[i])
				memset(p[i], 0x33, sz);
		}
		for (int i = 0; i < 400; i++)
			hp_kfree(p[i]);
	}
	s64 = hp_kmalloc_cache(64, HP_KMALLOC_SET_SHEAVES);
	T_CHECK(s64 && hp_kmem_cache_sheaf_capacity(s64) == 60);
	T_CHECK_MSG(s64 && hp_kmem_cache_sheaves_check(s64, 0, NULL, err, sizeof err) == 0, "%s", err);
	T_CHECK(hp_kmem_cache_sheaf_capacity(hp_kmalloc_cache(64, HP_KMALLOC_SET_CMPXCHG)) == 0);
	T_CHECK(hp_kmem_cache_sheaves_check(hp_kmalloc_cache(64, HP_KMALLOC_SET_CMPXCHG), 0, NULL, err, sizeof err) < 0);
	T_CHECK(hp_slub_generation_set("sheaves") == HP_KMALLOC_SET_SHEAVES);
	T_CHECK(hp_slub_generation_set("cpu-slab") == HP_KMALLOC_SET_CMPXCHG);
	T_CHECK(hp_slub_generation_set("slab") == -1);
	/* capacities: 120/52/24/6 halved, rounded up to a kmalloc class */
	{
		hp_kmem_cache_t *a = hp_kmalloc_cache(512, HP_KMALLOC_SET_SHEAVES);
		hp_kmem_cache_t *b = hp_kmalloc_cache(2048, HP_KMALLOC_SET_SHEAVES);
		hp_kmem_cache_t *c = hp_kmalloc_cache(8192, HP_KMALLOC_SET_SHEAVES);

		T_CHECK(hp_kmem_cache_sheaf_capacity(a) == 28);
		T_CHECK(hp_kmem_cache_sheaf_capacity(b) == 12);
		T_CHECK(hp_kmem_cache_sheaf_capacity(c) == 4);
	}
	/* a distro sheaves cache is refused with the reason */
	T_CHECK(hp_kmem_cache_create("sh-distro", 64, 0, HP_SLAB_SHEAVES | HP_SLAB_KCONFIG_DISTRO, NULL, err, sizeof err) ==
		NULL);
	T_CHECK(strstr(err, "not modelled") != NULL);
	/* a debug cache of the sheaves generation has none (as in the kernel) */
	{
		hp_kmem_cache_t *d = hp_kmem_cache_create("sh-debug", 64, 0, HP_SLAB_SHEAVES | HP_SLAB_DEBUG_ALL, NULL, err,
							  sizeof err);

		T_CHECK(d && hp_kmem_cache_sheaf_capacity(d) == 0);
		hp_kmem_cache_free(d, hp_kmem_cache_alloc(d));
		T_CHECK(d && hp_kmem_cache_errors(d) == 0);
		T_CHECK(hp_kmem_cache_destroy(d) == 0);
	}
}
#endif

int main(void)
{
	hp_slub_config_t cfg = { .arena_bytes = 512u << 20, .seed = 7, .slab_debug = "-" };
	char err[200];

	if (hp_slub_init(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "init: %s\n", err);
		return 1;
	}
#ifdef T_MUTANT
	{
		/* the flush loses an object: conservation must catch it, and only it */
		long bad = run_sequences(0, "lock", 600);

		printf("mutant: %ld violations found\n", bad);
		T_CHECK_MSG(bad > 0, "the checker did not notice a flush that loses objects");
		T_CHECK_MSG(conservation_seen > 0, "the mutant was caught, but not by the conservation check");
		T_CHECK(t_failures == 0);
		return t_done("test_slub_sheaves_mutant");
	}
#else
	T_CHECK(run_sequences(0, "lock", 1500) == 0);
	T_CHECK(run_sequences(HP_SLAB_PCPU_RSEQ, "rseq", 1500) == 0);
	T_CHECK(run_sequences(HP_SLAB_PCPU_PINNED, "pin-shared", 600) == 0);   /* undeclared thread */
	T_CHECK(run_sequences(HP_SLAB_FREELIST_HARDENED, "hard", 600) == 0);
	test_barn();
	test_remote();
	test_mt(0, "sh-mt-lock");
	test_mt(HP_SLAB_PCPU_RSEQ, "sh-mt-rseq");
	test_mt(HP_SLAB_PCPU_PINNED, "sh-mt-pin-shared");
	test_pinned();
	test_kmalloc();
	printf("rseq stand-in: %s\n", hp_slub_rseq_available() ? "rseq critical sections" : "unavailable, spinlock used");
	return t_done("test_slub_sheaves");
#endif
}
