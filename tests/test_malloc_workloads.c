/* test_malloc_workloads.c — the malloc-workloads cases give the same checksums under every available allocator, with two threads too, and catch a corrupted block. */
#include "t_util.h"
#include "../bench/malloc_workloads.c"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_SEED 42
#define T_OPS 30000

/* ------------------------------------------------------------------ */
/* A state whose backend does nothing (no clock, counters dropped)     */
/* ------------------------------------------------------------------ */

static void nop(hp_state_t *st) { (void)st; }
static void nop_time(hp_state_t *st, double s) { (void)st; (void)s; }
static void nop_counter(hp_state_t *st, const char *n, double v) { (void)st; (void)n; (void)v; }
static void nop_skip(hp_state_t *st, const char *m) { (void)st; (void)m; }
static const hp_state_ops_t nop_ops = { nop, nop, nop_time, nop_counter, nop_skip };

static hp_ctx_t make_ctx(const hp_case_t *c, int threads)
{
	static const hp_param_t none = { .label = "-" };
	static const int cpus[2] = { 0, 0 };
	hp_ctx_t ctx = {
		.c = c, .v = &hp_v_glibc, .p = &none, .seed = T_SEED, .threads = threads,
		.cpus = cpus, .ncpus = 1, .all_cpus = cpus,
	};
	return ctx;
}

/* The bytes each case's thread 0 freed: the checksum. */
static uint64_t freed_of(const hp_case_t *c, void *data, int t)
{
	if (c == &case_larson)
		return ((larson_t *)data)->thr[t].freed;
	if (c == &case_xmalloc)
		return ((xmalloc_t *)data)->thr[t].freed;
	return ((cscratch_t *)data)->thr[t].freed;
}

static const hp_case_t *const cases[] = { &case_larson, &case_xmalloc, &case_cache_scratch, NULL };

/* One thread, fixed op count in uneven batches (run() must continue where
 * it stopped): a line of checksums that depends only on the seed. */
static void checksums(char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (int i = 0; cases[i]; i++) {
		hp_ctx_t ctx = make_ctx(cases[i], 1);
		hp_state_t st = { .ops = &nop_ops, .threads = 1 };
		uint64_t done = 0, batch = 1;

		ctx.data = cases[i]->setup(&ctx);
		if (!ctx.data) {
			snprintf(out, len, "setup of %s failed", cases[i]->name);
			return;
		}
		while (done < T_OPS) {
			uint64_t n = T_OPS - done < batch ? T_OPS - done : batch;
			cases[i]->run(&st, n, &ctx);
			done += n;
			batch = batch * 3 + 1;
		}
		off += (size_t)snprintf(out + off, len - off, "%s%s=%" PRIu64, i ? " " : "", cases[i]->name,
					freed_of(cases[i], ctx.data, 0));
		cases[i]->teardown(&ctx, ctx.data);
	}
}

/* ------------------------------------------------------------------ */
/* Under each allocator                                                */
/* ------------------------------------------------------------------ */

static void test_allocators(const char *ref)
{
	int ran = 0;

	for (const hp_variant_t *const *v = wl_variants; *v; v++) {
		const char *why = (*v)->available ? (*v)->available(NULL) : NULL;
		int pfd[2];
		char buf[512];
		ssize_t n, got = 0;

		if (why) {
			printf("%-15s unavailable: %s\n", (*v)->name, why);
			continue;
		}
		if (pipe(pfd) != 0)
			return;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			dup2(pfd[1], 1);
			close(pfd[0]);
			if ((*v)->child_env)
				putenv((char *)(*v)->child_env);
			execl("/proc/self/exe", "test_malloc_workloads", "--child", (char *)NULL);
			_exit(127);
		}
		close(pfd[1]);
		while ((n = read(pfd[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
			got += n;
		close(pfd[0]);
		buf[got > 0 ? got : 0] = '\0';
		if (got > 0 && buf[got - 1] == '\n')
			buf[got - 1] = '\0';
		int ws = 0;
		waitpid(pid, &ws, 0);
		T_CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s: child status %#x", (*v)->name, ws);
		T_CHECK_MSG(strcmp(buf, ref) == 0, "%s: checksums '%s', in-process '%s'", (*v)->name, buf, ref);
		printf("%-15s %s\n", (*v)->name, buf);
		ran++;
	}
	T_CHECK(ran > 0);
}

/* ------------------------------------------------------------------ */
/* Two threads: cross-thread frees, every block checked at teardown    */
/* ------------------------------------------------------------------ */

typedef struct targ {
	const hp_case_t *c;
	hp_ctx_t *ctx;
	int index;
} targ_t;

static void *thread_main(void *a)
{
	targ_t *t = a;
	hp_state_t st = { .ops = &nop_ops, .thread_index = t->index, .threads = 2 };

	for (int b = 0; b < 4; b++)
		t->c->run(&st, T_OPS / 4, t->ctx);
	return NULL;
}

static void test_two_threads(void)
{
	for (int i = 0; cases[i]; i++) {
		hp_ctx_t ctx = make_ctx(cases[i], 2);
		pthread_t th[2];
		targ_t ta[2];

		ctx.data = cases[i]->setup(&ctx);
		T_CHECK(ctx.data != NULL);
		if (!ctx.data)
			continue;
		for (int t = 0; t < 2; t++) {
			ta[t] = (targ_t){ cases[i], &ctx, t };
			T_CHECK(pthread_create(&th[t], NULL, thread_main, &ta[t]) == 0);
		}
		for (int t = 0; t < 2; t++)
			pthread_join(th[t], NULL);
		/* both threads freed blocks (cache_scratch: exactly 8 bytes an op) */
		for (int t = 0; t < 2; t++)
			T_CHECK_MSG(freed_of(cases[i], ctx.data, t) > 0, "%s thread %d freed nothing", cases[i]->name, t);
		if (cases[i] == &case_cache_scratch)
			T_CHECK(freed_of(cases[i], ctx.data, 1) == (uint64_t)T_OPS / 4 * 4 * CS_SIZE);
		cases[i]->teardown(&ctx, ctx.data);     /* checks every remaining block */
	}
}

/* ------------------------------------------------------------------ */
/* A corrupted block aborts the run                                    */
/* ------------------------------------------------------------------ */

static void test_corruption(void)
{
	for (int which = 0; which < 2; which++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			hp_ctx_t ctx = make_ctx(&case_larson, 1);
			larson_t *l = larson_setup(&ctx);
			unsigned char *b = l->thr[0].slot[7];

			if (which == 0)
				b[3] ^= 0x10;           /* the header */
			else
				b[wl_block_check(b, "test") - 1] ^= 1; /* the last byte */
			ctx.data = l;
			freopen("/dev/null", "w", stderr);
			larson_teardown(&ctx, l);
			_exit(0);               /* not caught */
		}
		int ws = 0;
		waitpid(pid, &ws, 0);
		T_CHECK_MSG(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT,
			    "a corrupted %s was not caught (status %#x)", which ? "last byte" : "header", ws);
	}
}

int main(int argc, char **argv)
{
	char ref[512];

	checksums(ref, sizeof ref);
	if (argc == 2 && strcmp(argv[1], "--child") == 0) {
		printf("%s\n", ref);
		return 0;
	}
	printf("in-process      %s\n", ref);
	T_CHECK(strncmp(ref, "larson=", 7) == 0);
	T_CHECK_MSG(strstr(ref, "cache_scratch=240000") != NULL, "%s", ref);       /* 8 bytes x T_OPS */
	test_allocators(ref);
	test_two_threads();
	test_corruption();
	return t_done("test_malloc_workloads");
}
