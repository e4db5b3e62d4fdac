/* test_slub_mt.c — threads: cookie-filled objects verified at free, objects and bulk batches passed between threads (remote frees), migrating unpinned threads on the cmpxchg path and pinned threads on the plain path. */
#include "t_util.h"
#include "slub.h"
#include "hp_rand.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#if defined(__SANITIZE_THREAD__)
#define OPS 12000
#elif defined(__SANITIZE_ADDRESS__)
#define OPS 30000
#else
#define OPS 200000
#endif
#define LIVE 256
#define BOX 512

typedef struct mailbox {
	pthread_mutex_t lock;
	int n;
	void *p[BOX];
	size_t sz[BOX];
} mailbox_t;

typedef struct worker {
	int id, nthreads, pinned_cpu, migrate;
	hp_kmem_cache_t *cache;      /* 72-byte objects (cmpxchg or pinned) */
	hp_kmem_cache_t *hcache;     /* 88-byte objects, the same with hardened free pointers */
	int pinned;
	uint64_t rng;
	long bad_cookies, sent, received, bulk;
} worker_t;

static mailbox_t boxes[64];
static worker_t workers[64];
static int allowed[64], nallowed;

/* The cookie of an object depends on its address and size only, so any
 * thread can check it. */
static unsigned char cookie(const void *p, size_t i)
{
	uintptr_t a = (uintptr_t)p;

	return (unsigned char)((a >> 4) ^ (a >> 13) ^ (i * 31));
}

static void fill(void *p, size_t sz)
{
	unsigned char *c = p;

	for (size_t i = 0; i < sz; i++)
		c[i] = cookie(p, i);
}

static int check(const void *p, size_t sz)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < sz; i++)
		if (c[i] != cookie(p, i))
			return 0;
	return 1;
}

static void *obj_alloc(worker_t *w, size_t *sz)
{
	unsigned r = (unsigned)hp_splitmix64(&w->rng);
	void *p;

	if (r % 3 == 0) {
		*sz = 72;
		p = w->pinned ? hp_kmem_cache_alloc_pinned(w->cache) : hp_kmem_cache_alloc(w->cache);
	} else if (r % 3 == 1 && (r & 16)) {
		*sz = 88;
		p = hp_kmem_cache_alloc(w->hcache);
	} else {
		static const size_t sizes[] = { 8, 16, 40, 64, 96, 150, 192, 256, 700, 2000, 5000, 9000 };
		*sz = sizes[(r >> 8) % 12];
		p = w->pinned ? hp_kmalloc_pinned(*sz) : hp_kmalloc(*sz);
	}
	if (p)
		fill(p, *sz);
	return p;
}

static void obj_free(worker_t *w, void *p, size_t sz)
{
	if (!check(p, sz))
		w->bad_cookies++;
	memset(p, 0xee, sz);
	if (sz == 72) {
		if (w->pinned)
			hp_kmem_cache_free_pinned(w->cache, p);
		else
			hp_kmem_cache_free(w->cache, p);
	} else if (sz == 88) {
		hp_kmem_cache_free(w->hcache, p);
	} else {
		hp_kfree(p);
	}
}

static void drain(worker_t *w)
{
	mailbox_t *b = &boxes[w->id];
	void *p[BOX];
	size_t sz[BOX];
	int n;

	pthread_mutex_lock(&b->lock);
	n = b->n;
	memcpy(p, b->p, sizeof(void *) * (size_t)n);
	memcpy(sz, b->sz, sizeof(size_t) * (size_t)n);
	b->n = 0;
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; i < n; i++)
		obj_free(w, p[i], sz[i]);
	w->received += n;
}

static void send_to(worker_t *w, int to, void *p, size_t sz)
{
	mailbox_t *b = &boxes[to];

	pthread_mutex_lock(&b->lock);
	if (b->n < BOX) {
		b->p[b->n] = p;
		b->sz[b->n++] = sz;
		p = NULL;
	}
	pthread_mutex_unlock(&b->lock);
	if (p)
		obj_free(w, p, sz);
	else
		w->sent++;
}

static void bind_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	void *live[LIVE];
	size_t live_sz[LIVE];
	int nlive = 0;

	if (w->pinned) {
		bind_to(w->pinned_cpu);
		if (hp_slub_set_cpu(w->pinned_cpu) != 0) {
			w->bad_cookies = -1000000;
			return NULL;
		}
	}
	for (long op = 0; op < OPS; op++) {
		unsigned r = (unsigned)hp_splitmix64(&w->rng);

		if (w->migrate && op % 500 == 0)
			bind_to(allowed[(op / 500) % nallowed]);
		if (op % 64 == 0)
			drain(w);
		if (r % 97 == 0) {
			/* a bulk batch, freed half here and half by a neighbour */
			void *b[16];
			size_t got = hp_kmem_cache_alloc_bulk(w->cache, 16, b);

			if (got == 16) {
				for (int i = 0; i < 16; i++)
					fill(b[i], 72);
				for (int i = 0; i < 8; i++)
					send_to(w, (w->id + 1) % w->nthreads, b[i], 72);
				for (int i = 8; i < 16; i++)
					if (!check(b[i], 72))
						w->bad_cookies++;
				hp_kmem_cache_free_bulk(w->cache, 8, b + 8);
				w->bulk++;
			}
			continue;
		}
		if (nlive < LIVE && (r & 1)) {
			size_t sz;
			void *p = obj_alloc(w, &sz);

			if (p) {
				live[nlive] = p;
				live_sz[nlive++] = sz;
			}
		} else if (nlive) {
			int i = (int)((r >> 1) % (unsigned)nlive);
			void *p = live[i];
			size_t sz = live_sz[i];

			live[i] = live[--nlive];
			live_sz[i] = live_sz[nlive];
			if ((r >> 20) % 3 == 0 && w->nthreads > 1)
				send_to(w, (int)((r >> 24) % (unsigned)w->nthreads), p, sz);
			else
				obj_free(w, p, sz);
		}
	}
	while (nlive--)
		obj_free(w, live[nlive], live_sz[nlive]);
	return NULL;
}

static void run(int nthreads, hp_kmem_cache_t *cache, hp_kmem_cache_t *hcache, int pinned)
{
	pthread_t th[64];

	for (int i = 0; i < nthreads; i++) {
		workers[i] = (worker_t){
			.id = i, .nthreads = nthreads, .cache = cache, .hcache = hcache, .pinned = pinned,
			.pinned_cpu = allowed[i % nallowed], .migrate = !pinned && (i % 2 == 0),
			.rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1),
		};
		boxes[i].n = 0;
	}
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker_main, &workers[i]);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	/* what is still in the mailboxes: free it here (remote to everyone) */
	for (int i = 0; i < nthreads; i++) {
		worker_t w0 = { .cache = cache, .hcache = hcache, .pinned = 0 };

		w0.id = i;
		if (pinned) {
			/* the main thread is no pinned worker: the locked path */
			for (int k = 0; k < boxes[i].n; k++) {
				if (!check(boxes[i].p[k], boxes[i].sz[k]))
					workers[i].bad_cookies++;
				if (boxes[i].sz[k] == 72)
					hp_kmem_cache_free(cache, boxes[i].p[k]);
				else if (boxes[i].sz[k] == 88)
					hp_kmem_cache_free(hcache, boxes[i].p[k]);
				else
					hp_kfree(boxes[i].p[k]);
			}
			boxes[i].n = 0;
		} else {
			drain(&w0);
			workers[i].bad_cookies += w0.bad_cookies;
		}
	}
	long sent = 0, bulk = 0;
	for (int i = 0; i < nthreads; i++) {
		T_CHECK_MSG(workers[i].bad_cookies == 0, "thread %d: %ld bad cookies", i, workers[i].bad_cookies);
		sent += workers[i].sent;
		bulk += workers[i].bulk;
	}
	T_CHECK(bulk > 0 && (nthreads == 1 || sent > 0));
}

/* every object went back: once the per-CPU slabs are flushed, no slab
 * holds an object */
static void check_empty(hp_kmem_cache_t *s)
{
	hp_kmem_cache_info_t in;

	hp_kmem_cache_shrink(s);
	hp_kmem_cache_get_info(s, &in);
	T_CHECK_MSG(in.active_objs == 0 && in.nr_slabs == 0, "%s: %lu active in %lu slabs", in.name,
		    in.active_objs, in.nr_slabs);
}

int main(void)
{
	hp_slub_config_t cfg = { .arena_bytes = 512u << 20, .seed = 3, .slab_debug = "-" };
	cpu_set_t set;
	char err[256];

	if (hp_slub_init(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "init: %s\n", err);
		return 1;
	}
	for (int i = 0; i < 64; i++)
		pthread_mutex_init(&boxes[i].lock, NULL);
	sched_getaffinity(0, sizeof set, &set);
	for (int i = 0; i < CPU_SETSIZE && nallowed < 64; i++)
		if (CPU_ISSET(i, &set))
			allowed[nallowed++] = i;

	/* (b) cmpxchg: more threads than CPUs, half of them hopping CPUs */
	hp_kmem_cache_t *c = hp_kmem_cache_create("mt-cmpxchg", 72, 0, 0, NULL, err, sizeof err);
	hp_kmem_cache_t *ch = hp_kmem_cache_create("mt-cmpxchg-h", 88, 0, HP_SLAB_FREELIST_HARDENED, NULL, err, sizeof err);
	int nt = nallowed * 2 < 4 ? 4 : nallowed * 2;
	if (nt > 16)
		nt = 16;
	run(nt, c, ch, 0);
	check_empty(c);
	check_empty(ch);
	for (int k = 1; k < HP_KMALLOC_NR_CACHES; k++)
		check_empty(hp_kmalloc_cache(k == 1 ? 96 : k == 2 ? 192 : (size_t)1 << k, 0));

	/* (a) pinned: one thread per allowed CPU */
	hp_kmem_cache_t *p = hp_kmem_cache_create("mt-pinned", 72, 0, HP_SLAB_PCPU_PINNED, NULL, err, sizeof err);
	hp_kmem_cache_t *ph = hp_kmem_cache_create("mt-pinned-h", 88, 0, HP_SLAB_PCPU_PINNED | HP_SLAB_FREELIST_HARDENED,
						   NULL, err, sizeof err);
	run(nallowed > 16 ? 16 : nallowed, p, ph, 1);
	check_empty(p);
	check_empty(ph);
	for (int k = 1; k < HP_KMALLOC_NR_CACHES; k++)
		check_empty(hp_kmalloc_cache(k == 1 ? 96 : k == 2 ? 192 : (size_t)1 << k, 1));

	sched_setaffinity(0, sizeof set, &set);
	T_CHECK(hp_kmem_cache_destroy(c) == 0);
	T_CHECK(hp_kmem_cache_destroy(ch) == 0);
	T_CHECK(hp_kmem_cache_destroy(p) == 0);
	T_CHECK(hp_kmem_cache_destroy(ph) == 0);
	T_CHECK(hp_slub_errors() == 0);
	return t_done("test_slub_mt");
}
