/* test_hpmalloc.c — hp_malloc and friends linked directly: C/POSIX semantics, alignment, the size paths, and a cross-thread stress (run under TSan and ASan). */
#include "t_util.h"
#include "hpmalloc.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Semantics of each entry point                                       */
/* ------------------------------------------------------------------ */

static int filled(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void test_sizes(void)
{
	/* every path: small classes, 96/192, the largest class, buddy blocks,
	 * the largest buddy block, mmap */
	static const size_t sizes[] = { 0, 1, 7, 8, 9, 15, 16, 17, 24, 33, 64, 95, 96, 97, 191, 192, 193,
					1000, 4095, 4096, 8191, 8192, 8193, 12288, 65536, 1 << 20,
					(4u << 20) - 1, 4u << 20, (4u << 20) + 1, 9u << 20 };
	void *p[sizeof sizes / sizeof sizes[0]];

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];

		p[i] = hp_malloc(n);
		T_CHECK_MSG(p[i] != NULL, "malloc(%zu)", n);
		if (!p[i])
			continue;
		T_CHECK_MSG(((uintptr_t)p[i] & 15) == 0, "malloc(%zu) = %p is not 16-byte aligned", n, p[i]);
		T_CHECK_MSG(hp_malloc_usable_size(p[i]) >= n, "usable_size(malloc(%zu)) = %zu", n,
			    hp_malloc_usable_size(p[i]));
		memset(p[i], (int)(i + 1), n);
	}
	/* no two live blocks overlap: each still holds its own byte */
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		if (!p[i])
			continue;
		T_CHECK_MSG(filled(p[i], sizes[i], (unsigned char)(i + 1)), "block of %zu bytes overwritten", sizes[i]);
		hp_free(p[i]);
	}
	T_CHECK(hp_malloc_usable_size(NULL) == 0);
	hp_free(NULL);
	/* absurd sizes fail cleanly */
	errno = 0;
	T_CHECK(hp_malloc(SIZE_MAX) == NULL && errno == ENOMEM);
	errno = 0;
	T_CHECK(hp_malloc((size_t)PTRDIFF_MAX + 1) == NULL && errno == ENOMEM);
}

static void test_calloc(void)
{
	/* recycled arena memory must come back zeroed */
	for (int round = 0; round < 2; round++) {
		unsigned char *a = hp_malloc(200);
		unsigned char *big = hp_malloc(100000);

		memset(a, 0xee, 200);
		memset(big, 0xee, 100000);
		hp_free(a);
		hp_free(big);
		unsigned char *z = hp_calloc(25, 8);
		unsigned char *zb = hp_calloc(1000, 100);
		T_CHECK(z && filled(z, 200, 0));
		T_CHECK(zb && filled(zb, 100000, 0));
		hp_free(z);
		hp_free(zb);
	}
	unsigned char *h = hp_calloc(5, 1 << 20);       /* mmap path */
	T_CHECK(h && filled(h, 5u << 20, 0));
	hp_free(h);
	errno = 0;
	T_CHECK(hp_calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
	void *z0 = hp_calloc(0, 0);
	T_CHECK(z0 != NULL);
	hp_free(z0);
}

static void test_realloc(void)
{
	/* grow through every path, keeping the contents */
	static const size_t steps[] = { 1, 10, 100, 1000, 5000, 9000, 70000, 3u << 20, 6u << 20, 20u << 20,
					5u << 20, 100000, 50, 3 };
	unsigned char *p = NULL;
	size_t have = 0;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		size_t n = steps[i], keep = have < n ? have : n;

		p = hp_realloc(p, n);
		T_CHECK_MSG(p != NULL, "realloc to %zu", n);
		if (!p)
			return;
		for (size_t k = 0; k < keep; k++)
			if (p[k] != (unsigned char)(k * 7)) {
				T_CHECK_MSG(0, "realloc to %zu lost byte %zu", n, k);
				break;
			}
		for (size_t k = keep; k < n; k++)
			p[k] = (unsigned char)(k * 7);
		have = n;
		T_CHECK(hp_malloc_usable_size(p) >= n);
	}
	/* realloc(p, 0) frees and returns NULL (glibc) */
	T_CHECK(hp_realloc(p, 0) == NULL);
	/* a failed realloc leaves the block alone */
	p = hp_malloc(32);
	memset(p, 0x5c, 32);
	errno = 0;
	T_CHECK(hp_realloc(p, SIZE_MAX - 8) == NULL && errno == ENOMEM);
	T_CHECK(filled(p, 32, 0x5c));
	hp_free(p);
}

static void test_aligned(void)
{
	static const size_t aligns[] = { 8, 16, 32, 64, 128, 256, 4096, 8192, 65536, 1u << 20, 8u << 20 };
	static const size_t sizes[] = { 1, 24, 100, 3000, 10000, 5u << 20 };

	for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
		for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
			size_t al = aligns[a], n = sizes[s];
			void *p = NULL;

			T_CHECK_MSG(hp_posix_memalign(&p, al, n) == 0, "posix_memalign(%zu, %zu)", al, n);
			T_CHECK_MSG(p && ((uintptr_t)p & (al - 1)) == 0, "posix_memalign(%zu, %zu) = %p", al, n, p);
			if (p) {
				memset(p, 0xab, n);
				T_CHECK(hp_malloc_usable_size(p) >= n);
				hp_free(p);
			}
			p = hp_aligned_alloc(al, n);
			T_CHECK_MSG(p && ((uintptr_t)p & (al - 1)) == 0, "aligned_alloc(%zu, %zu) = %p", al, n, p);
			hp_free(p);
			p = hp_memalign(al, n);
			T_CHECK_MSG(p && ((uintptr_t)p & (al - 1)) == 0, "memalign(%zu, %zu) = %p", al, n, p);
			hp_free(p);
		}
	void *p = (void *)1;
	T_CHECK(hp_posix_memalign(&p, 24, 10) == EINVAL && p == (void *)1);
	T_CHECK(hp_posix_memalign(&p, 4, 10) == EINVAL);     /* not a multiple of sizeof(void *) */
	T_CHECK(hp_posix_memalign(&p, 0, 10) == EINVAL);
	T_CHECK(hp_posix_memalign(&p, 64, SIZE_MAX - 100) == ENOMEM && p == (void *)1);
	errno = 0;
	T_CHECK(hp_aligned_alloc(48, 10) == NULL && errno == EINVAL);
	/* glibc's memalign rounds a bad alignment up */
	p = hp_memalign(48, 10);
	T_CHECK(p && ((uintptr_t)p & 63) == 0);
	hp_free(p);
	p = hp_valloc(10);
	T_CHECK(p && ((uintptr_t)p & 4095) == 0);
	hp_free(p);
	p = hp_pvalloc(5000);
	T_CHECK(p && ((uintptr_t)p & 4095) == 0 && hp_malloc_usable_size(p) >= 8192);
	hp_free(p);
	p = hp_pvalloc(0);
	T_CHECK(p && hp_malloc_usable_size(p) >= 4096);
	hp_free(p);
}

static void test_stats(void)
{
	hp_malloc_stats_t a, b;
	char line[512];

	hp_malloc_stats_enable(1);
	hp_malloc_get_stats(&a);
	void *x = hp_malloc(40), *y = hp_malloc(100000), *z = hp_malloc(10u << 20);
	void *w = hp_calloc(2, 8);
	x = hp_realloc(x, 50);
	hp_free(x);
	hp_free(y);
	hp_free(z);
	hp_free(w);
	hp_malloc_get_stats(&b);
	hp_malloc_stats_enable(0);
	T_CHECK(b.malloc - a.malloc == 3);
	T_CHECK(b.calloc - a.calloc == 1);
	T_CHECK(b.realloc - a.realloc == 1);
	T_CHECK(b.free - a.free == 4);
	T_CHECK(b.slab - a.slab == 2);
	T_CHECK(b.pages - a.pages == 1);
	T_CHECK(b.mmap - a.mmap == 1);
	size_t n = hp_malloc_stats_line(line, sizeof line);
	T_CHECK(n == strlen(line) && n > 0 && line[n - 1] == '\n');
	T_CHECK_MSG(strncmp(line, "hotpath-malloc: test_hpmalloc pid ", 34) == 0, "%s", line);
	T_CHECK_MSG(strstr(line, " malloc ") && strstr(line, " failed "), "%s", line);
	/* truncation keeps the string terminated */
	T_CHECK(hp_malloc_stats_line(line, 10) == 9 && strlen(line) == 9);
}

/* ------------------------------------------------------------------ */
/* Threads: objects allocated on one thread, checked and freed on another */
/* ------------------------------------------------------------------ */

#define NTHR 4
#define RING 256
#define PER_THREAD 20000

typedef struct ring {
	_Atomic size_t head, tail;
	void *slot[RING];
} ring_t;

static ring_t rings[NTHR];
static _Atomic int bad;

static uint64_t cookie(const void *p, size_t n)
{
	return ((uintptr_t)p * 0x9e3779b97f4a7c15ull) ^ n;
}

static void *make(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	unsigned r = *seed >> 8;
	size_t n = (r & 7) == 0 ? 8192 + r % 100000 : 16 + r % 600;
	uint64_t *p;

	if (r % 97 == 0) {
		void *q = NULL;
		if (hp_posix_memalign(&q, 256, n) != 0 || ((uintptr_t)q & 255))
			atomic_fetch_add(&bad, 1);
		p = q;
	} else {
		p = hp_malloc(n);
	}
	if (!p) {
		atomic_fetch_add(&bad, 1);
		return NULL;
	}
	p[0] = n;
	p[1] = cookie(p, n);
	((unsigned char *)p)[n - 1] = (unsigned char)n;
	return p;
}

static void check_free(void *v)
{
	uint64_t *p = v;
	size_t n = p[0];

	if (n < 16 || p[1] != cookie(p, n) || ((unsigned char *)p)[n - 1] != (unsigned char)n ||
	    hp_malloc_usable_size(p) < n)
		atomic_fetch_add(&bad, 1);
	hp_free(p);
}

static void *worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	ring_t *out = &rings[me], *in = &rings[(me + NTHR - 1) % NTHR];
	unsigned seed = 0x1234u + (unsigned)me;
	int sent = 0, got = 0;

	while (sent < PER_THREAD || got < PER_THREAD) {
		if (sent < PER_THREAD) {
			size_t t = atomic_load_explicit(&out->tail, memory_order_relaxed);
			if (t - atomic_load_explicit(&out->head, memory_order_acquire) < RING) {
				void *p = make(&seed);
				if (!p)
					return NULL;
				/* some stay local for a while: realloc them first */
				if (sent % 5 == 0) {
					uint64_t n = ((uint64_t *)p)[0];
					uint64_t *q = hp_realloc(p, n + 300);
					if (!q || q[0] != n) {
						atomic_fetch_add(&bad, 1);
						return NULL;
					}
					q[0] = n + 300;
					q[1] = cookie(q, n + 300);
					((unsigned char *)q)[n + 299] = (unsigned char)(n + 300);
					p = q;
				}
				out->slot[t % RING] = p;
				atomic_store_explicit(&out->tail, t + 1, memory_order_release);
				sent++;
			}
		}
		size_t h = atomic_load_explicit(&in->head, memory_order_relaxed);
		if (h != atomic_load_explicit(&in->tail, memory_order_acquire)) {
			void *p = in->slot[h % RING];
			atomic_store_explicit(&in->head, h + 1, memory_order_release);
			check_free(p);
			got++;
		} else if (sent == PER_THREAD) {
			sched_yield();  /* 4 threads on fewer CPUs: let the producer run */
		}
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[NTHR];

	for (int i = 0; i < NTHR; i++)
		T_CHECK(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0);
	for (int i = 0; i < NTHR; i++)
		pthread_join(th[i], NULL);
	T_CHECK_MSG(atomic_load(&bad) == 0, "%d objects corrupted, misaligned or not allocated", atomic_load(&bad));
}

/* A pointer this allocator never handed out is refused loudly (glibc:
 * "free(): invalid pointer"), not freed into the arena. */
static void test_foreign(void)
{
	static uint64_t fake[8] __attribute__((aligned(64)));

	for (int which = 0; which < 2; which++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			if (!freopen("/dev/null", "w", stderr))
				_exit(3);
			if (which == 0)
				hp_free(&fake[4]);
			else
				(void)hp_realloc(&fake[4], 100);
			_exit(0);
		}
		int ws = 0;
		waitpid(pid, &ws, 0);
		T_CHECK_MSG(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT, "%s of a foreign pointer: status %#x",
			    which ? "realloc" : "free", ws);
	}
}

int main(void)
{
	T_CHECK(hp_malloc_init() == 0);
	test_sizes();
	test_calloc();
	test_realloc();
	test_aligned();
	test_stats();
	test_foreign();
	test_threads();
	return t_done("test_hpmalloc");
}
