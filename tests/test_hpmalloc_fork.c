/* test_hpmalloc_fork.c — fork() while other threads allocate: each child's hp_malloc/hp_free must work (no lock left held by a thread the child lacks). */
#include "t_util.h"
#include "hpmalloc.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 3
#define NFORKS 200
#define RING 64
/* A child that has not exited by then is stuck (a deadlock hangs for ever,
 * so a generous limit loses nothing): sanitizer runtimes make fork and the
 * child's allocations several times slower, more so on a loaded machine. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define CHILD_LIMIT_MS 20000
#else
#define CHILD_LIMIT_MS 3000
#endif

static atomic_int stop;

/* Sizes from the small kmalloc classes up to buddy blocks, in batches, so
 * that slow paths (slot held, list_lock, pcp and zone locks) are often
 * under way when the main thread forks. */
static void *hammer(void *arg)
{
	static const size_t sizes[] = { 16, 48, 96, 200, 512, 1500, 4096, 8192, 16384, 70000, 300000 };
	void *ring[RING] = { 0 };
	unsigned x = (unsigned)(uintptr_t)arg * 2654435761u + 1;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < RING; i++) {
			x = x * 1103515245u + 12345u;
			hp_free(ring[i]);
			ring[i] = hp_malloc(sizes[(x >> 16) % (sizeof sizes / sizeof sizes[0])]);
			if (ring[i])
				*(volatile char *)ring[i] = 1;
		}
		/* empty whole slabs now and then, so frees reach the node and buddy */
		if ((x >> 8) % 4 == 0)
			for (int i = 0; i < RING; i++) {
				hp_free(ring[i]);
				ring[i] = NULL;
			}
	}
	for (int i = 0; i < RING; i++)
		hp_free(ring[i]);
	return NULL;
}

/* In the child: a few allocations of every kind; exit code 0 only when
 * they all worked. */
static void child_body(void)
{
	static const size_t sizes[] = { 8, 64, 96, 192, 1024, 8192, 20000, 1 << 20 };
	void *p[sizeof sizes / sizeof sizes[0]];

	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			p[i] = hp_malloc(sizes[i]);
			if (!p[i])
				_exit(2);
			memset(p[i], 0x5a, sizes[i]);
		}
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
			hp_free(p[i]);
	}
	_exit(0);
}

/* 0 = exited 0, 1 = exited otherwise or crashed, 2 = stuck (killed) */
static int wait_child(pid_t pid, int *status)
{
	struct timespec ms = { 0, 1000000 };

	for (int waited = 0; waited < CHILD_LIMIT_MS; waited++) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return WIFEXITED(*status) && WEXITSTATUS(*status) == 0 ? 0 : 1;
		if (r < 0 && errno != EINTR)
			return 1;
		nanosleep(&ms, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return 2;
}

int main(void)
{
	pthread_t th[NTHREADS];
	int stuck = 0, bad = 0, forked = 0;

	/* the process's last word if something still hangs */
	alarm(60);
	T_CHECK(hp_malloc_init() == 0);
	for (int i = 0; i < NTHREADS; i++)
		T_CHECK(pthread_create(&th[i], NULL, hammer, (void *)(uintptr_t)(i + 1)) == 0);
	for (int f = 0; f < NFORKS && !stuck; f++) {
		int status = 0, r;
		pid_t pid = fork();

		if (pid == 0)
			child_body();
		T_CHECK_MSG(pid > 0, "fork %d: %s", f, strerror(errno));
		if (pid < 0)
			break;
		forked++;
		r = wait_child(pid, &status);
		if (r == 2) {
			stuck++;
			T_CHECK_MSG(0, "fork %d: the child hung in hp_malloc/hp_free (killed after %d ms)", f,
				    CHILD_LIMIT_MS);
		} else if (r == 1) {
			bad++;
			T_CHECK_MSG(0, "fork %d: the child failed (status 0x%x)", f, status);
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	T_CHECK_MSG(forked == NFORKS && !stuck && !bad, "%d forks, %d stuck, %d failed", forked, stuck, bad);
	/* and the parent still allocates after all the prepare/parent hooks */
	{
		void *p = hp_malloc(100), *q = hp_malloc(1 << 20);

		T_CHECK(p != NULL && q != NULL);
		hp_free(p);
		hp_free(q);
	}
	return t_done("hpmalloc_fork");
}
