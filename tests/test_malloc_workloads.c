/* test_malloc_workloads.c — the malloc-workloads cases give the same checksums under every available allocator, with two threads too, catch a corrupted block, and the published workloads (larson, xmalloc, cache_scratch/thrash, glibc_simple/thread, mstress, rptest, alloc_test) perform the operations, hand-overs and cross-thread frees their definitions imply. `--only rptest|alloc_test|xmalloc|unpin` runs that check alone (the mutants). */
#include "t_util.h"
#include "../bench/malloc_workloads.c"
#include "../bench/malloc_wl_orig.c"
#include "../bench/malloc_wl_glibc.c"
#include "../bench/malloc_wl_mstress.c"
#include "../bench/malloc_wl_rptest.c"
#include "../bench/malloc_wl_alloctest.c"

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
	return ((xmalloc_t *)data)->thr[t].freed;
}

static const hp_case_t *const cases[] = { &case_larson, &case_xmalloc, NULL };

static void orig_checksums(char *out, size_t len);

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
	off = strlen(out);
	orig_checksums(out + off, len - off);
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
			if ((*v)->child_env) {     /* entries separated by '\n' */
				char *env = strdup((*v)->child_env), *save = NULL;

				for (char *e = strtok_r(env, "\n", &save); e; e = strtok_r(NULL, "\n", &save))
					putenv(e);
			}
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
		/* both threads freed blocks */
		for (int t = 0; t < 2; t++)
			T_CHECK_MSG(freed_of(cases[i], ctx.data, t) > 0, "%s thread %d freed nothing", cases[i]->name, t);
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

/* ------------------------------------------------------------------ */
/* The published workloads: their arithmetic on tiny runs              */
/* ------------------------------------------------------------------ */

/* One slot set's expected counts, replaying its random stream: a thread
 * lives rounds x chunks ops, then a new one takes the set over (batches
 * do not matter); every slot a thread touches first holds a block another
 * thread (or main) allocated. */
static void la_expect(uint64_t seed0, unsigned chunks, unsigned rounds, uint64_t total, uint64_t *cross,
		      uint64_t *threads)
{
	uint64_t rng = seed0, life = (uint64_t)rounds * chunks;
	unsigned char *seen = calloc(chunks, 1);

	*cross = 0;
	*threads = 1 + total / life;    /* a life's end starts the next thread */
	for (uint64_t i = 0; i < total; i++) {
		uint32_t v = (uint32_t)(hp_splitmix64(&rng) % chunks);

		if (i % life == 0)
			memset(seen, 0, chunks);
		(void)hp_splitmix64(&rng);      /* the size */
		*cross += !seen[v];
		seen[v] = 1;
	}
	free(seen);
}

static void test_larson_arith(void)
{
	const unsigned chunks = 64, rounds = 3;          /* a life: 192 ops */
	const uint64_t batch[3] = { 1001, 77, 31 };
	larson_o_t *l = la_new(&hp_mem_libc_ops, 2, chunks, rounds, T_SEED);

	T_CHECK(l != NULL);
	if (!l)
		return;
	for (int b = 0; b < 3; b++)
		la_batch(l, batch[b]);
	for (int i = 0; i < 2; i++) {
		la_set_t *s = &l->set[i];
		uint64_t total = 0, cross, threads;

		for (int b = 0; b < 3; b++)     /* set 0 gets the odd op */
			total += batch[b] / 2 + (i == 0 && batch[b] % 2);
		la_expect(s->seed0, chunks, rounds, total, &cross, &threads);
		T_CHECK_MSG(s->ops == total, "larson set %d: %" PRIu64 " ops", i, s->ops);
		T_CHECK_MSG(s->cross == cross, "larson set %d: %" PRIu64 " cross-thread frees, expected %" PRIu64,
			    i, s->cross, cross);
		la_quit(l);     /* a successor may still be starting */
		T_CHECK_MSG(s->threads == threads, "larson set %d: %" PRIu64 " threads, expected %" PRIu64, i,
			    s->threads, threads);
		printf("larson set %d: %" PRIu64 " ops, %" PRIu64 " threads, %" PRIu64 " cross-thread frees\n", i,
		       s->ops, s->threads, s->cross);
	}
	T_CHECK(l->set[0].threads == 3);        /* 556 ops: two lives of 192 and part of a third */
	la_free(l);
}

static void test_xmalloc_arith(void)
{
	for (int w = 1; w <= 3; w++) {
		xmalloc_o_t *x = xo_new(&hp_mem_libc_ops, w, 16, w == 3 ? 200 : 64);
		uint64_t frees = 0, made = 0, sum = 0, left;

		T_CHECK(x != NULL);
		if (!x)
			return;
		xo_batchrun(x, 150);            /* more than the stack's 100 */
		T_CHECK(x->count <= x->limit + w);      /* at most one batch past the limit per allocating thread */
		xo_batchrun(x, 7);              /* takes from what the first run left too */
		for (int i = 0; i < w; i++) {
			made += x->thr[i].made;
			T_CHECK(x->thr[i].frees == 0);          /* allocating threads free nothing */
			frees += x->thr[w + i].frees;
			sum += x->thr[w + i].sum;
			T_CHECK(x->thr[w + i].made == 0);       /* freeing threads allocate nothing */
		}
		/* the freeing threads free exactly the batches asked for; the
		 * allocating ones' lead stays on the stack, freed by the teardown */
		T_CHECK_MSG(frees == 157 * 16, "xmalloc w=%d: freed %" PRIu64, w, frees);
		T_CHECK_MSG(sum == 157 * 120, "xmalloc w=%d: checksum %" PRIu64, w, sum);
		left = (uint64_t)x->count * 16;
		T_CHECK_MSG(made == frees + left, "xmalloc w=%d: made %" PRIu64 ", freed %" PRIu64 ", left %" PRIu64,
			    w, made, frees, left);
		printf("xmalloc w=%d: %" PRIu64 " objects made, %" PRIu64 " freed in the runs, %" PRIu64 " left\n", w,
		       made, frees, left);
		xo_drain(x);
		T_CHECK(x->stack == NULL && x->count == 0);
		T_CHECK_MSG(x->drained == left && x->drained_sum == left / 16 * 120,
			    "xmalloc w=%d: teardown freed %" PRIu64 " of %" PRIu64 " left", w, x->drained, left);
		xo_free(x);
	}
}

static void test_cache_arith(void)
{
	for (int scratch = 0; scratch < 2; scratch++) {
		cache_o_t *c = co_new(&hp_mem_libc_ops, 3, 2, 3000, scratch);

		T_CHECK(c != NULL);
		if (!c)
			return;
		co_batch(c, 4);
		co_batch(c, 1);
		for (int i = 0; i < 3; i++) {
			co_thr_t *t = &c->thr[i];

			T_CHECK_MSG(t->iters == 5 && t->writes == 5 * 1000 * 2 && t->sum == 5 * 1000 * 3,
				    "cache thread %d: %" PRIu64 " iterations, %" PRIu64 " writes, sum %" PRIu64, i,
				    t->iters, t->writes, t->sum);
			/* cache_scratch: the main thread's object, freed once by its thread */
			T_CHECK(t->given_frees == (uint64_t)scratch && t->given == NULL);
		}
		co_free(c);
	}
}

/* glibc_simple: a cycle is 3 sizes x 4 counts x 1600 blocks, every block
 * freed, byte size-1 of each read back before its free. */
static void test_glibc_simple_arith(void)
{
	gsimple_t *g = calloc(1, sizeof *g);
	uint64_t blocks = 0, iters = 0;

	T_CHECK(g != NULL);
	if (!g)
		return;
	g->ops = &hp_mem_libc_ops;
	while (blocks < 2 * 3 * 4 * 1600) {     /* two cycles */
		blocks += gs_iteration(g);
		iters++;
	}
	T_CHECK_MSG(blocks == 2 * 19200 && iters == 2 * 3 * 85, "glibc_simple: %" PRIu64 " blocks in %" PRIu64
		    " iterations", blocks, iters);
	T_CHECK(g->ops_done == blocks && g->frees == blocks && g->step == 0);
	T_CHECK_MSG(g->sum == 2 * 4 * 1600 * (15 + 31 + 63), "glibc_simple: sum %" PRIu64, g->sum);
	free(g);
}

/* glibc_thread: each thread does its share; a slot's first op finds it
 * empty, every later one frees the block the previous op there put. */
static void test_glibc_thread_arith(void)
{
	gthread_t *g = gt_new(&hp_mem_libc_ops, 3, T_SEED);
	const uint64_t n[2] = { 2000, 1001 };
	uint64_t ops[3] = { 0 }, sizes_ok = 1;

	T_CHECK(g != NULL);
	if (!g)
		return;
	for (unsigned i = 0; i < GT_SIZES; i++)
		sizes_ok &= g->size[i] >= 4 && g->size[i] <= 32768;
	T_CHECK(sizes_ok);
	for (int b = 0; b < 2; b++) {
		gt_batch(g, n[b]);
		for (int t = 0; t < 3; t++)
			ops[t] += n[b] / 3 + ((uint64_t)t < n[b] % 3);
	}
	for (int t = 0; t < 3; t++) {
		unsigned char seen[GT_SET] = { 0 };
		uint64_t firsts = 0, freed = 0;
		uint32_t last[GT_SET] = { 0 };

		for (uint64_t i = 0; i < ops[t]; i++) {
			unsigned idx = g->off[i % GT_OFFSETS], size = g->size[i % GT_SIZES];

			if (!seen[idx]) {
				seen[idx] = 1;
				firsts++;
			} else {
				freed += last[idx];
			}
			last[idx] = size;
		}
		T_CHECK_MSG(g->thr[t].ops == ops[t] && g->thr[t].frees == ops[t] - firsts && g->thr[t].freed == freed,
			    "glibc_thread %d: %" PRIu64 " ops, %" PRIu64 " frees (%" PRIu64 " bytes), expected %" PRIu64
			    ", %" PRIu64 " (%" PRIu64 ")", t, g->thr[t].ops, g->thr[t].frees, g->thr[t].freed, ops[t],
			    ops[t] - firsts, freed);
	}
	gt_free(g);
}

/* mstress: thread t makes 1.5 x 100 x scale x (t % 8 + 1) allocations an
 * iteration; every object is freed once (by a thread, the calling thread's
 * transfer sweep or the teardown), and each thread's counts do not depend
 * on the others. */
static void test_mstress_arith(void)
{
	for (int n = 1; n <= 3; n++) {
		mstress_t *m = ms_new(&hp_mem_libc_ops, n, 2, T_SEED);
		uint64_t allocs = 0, frees = 0, words = 0, expect = 0;

		T_CHECK(m != NULL);
		if (!m)
			return;
		for (int it = 0; it < 3; it++)
			ms_iteration(m);
		for (int t = 0; t < n; t++) {
			uint64_t a = 100 * 2 * (uint64_t)(t % 8 + 1);

			T_CHECK_MSG(m->thr[t].allocs == 3 * (a + a / 2), "mstress n=%d thread %d: %" PRIu64 " allocations",
				    n, t, m->thr[t].allocs);
			expect += 3 * (a + a / 2);
			allocs += m->thr[t].allocs;
			frees += m->thr[t].frees;
			words += m->thr[t].words;
		}
		T_CHECK(words >= allocs);
		/* the transfer slots hold the rest; the teardown frees them */
		uint64_t held = 0;

		for (unsigned i = 0; i < MS_TRANSFERS; i++)
			held += atomic_load(&m->transfer[i]) != NULL;
		T_CHECK_MSG(allocs == expect && frees + m->main_frees + held == allocs,
			    "mstress n=%d: %" PRIu64 " allocations, %" PRIu64 " + %" PRIu64 " freed, %" PRIu64 " held", n,
			    allocs, frees, m->main_frees, held);
		T_CHECK(m->main_frees > 0 || held > 0);         /* objects did go through the transfer slots */
		ms_free_all(m);
	}
}

/* rptest: an independent replay of each thread's loops (the slot walks,
 * the loop's counts from the tables, the iteration ends, the round-robin
 * batches) gives its allocations, slot frees and blocks sent; every block
 * sent is freed by its receiver (or still in its inbox after the last
 * batch), never by the sender; no slot's block is freed by another thread;
 * a thread lives two iterations. */
typedef struct rp_expect {
	uint64_t allocs, slot_frees, sent, batches, received, threads;
} rp_expect_t;

static void rp_replay(const rptest_t *r, uint64_t loops, rp_expect_t *e)
{
	unsigned char *occ = calloc((size_t)r->n * r->slots, 1);

	memset(e, 0, (size_t)r->n * sizeof *e);
	for (int i = 0; i < r->n; i++) {
		unsigned char *o = occ + (size_t)i * r->slots;
		unsigned iter = 0, loop = 0, ai = 0, fi = 0, cross = 0;

		e[i].threads = 1;
		for (uint64_t l = 0; l < loops; l++) {
			unsigned nf = rp_nfree(r, iter, loop), na = rp_nalloc(r, iter, loop);

			for (unsigned k = 0; k < nf; k++, fi = (fi + r->free_step) % r->slots)
				if (o[fi]) {
					o[fi] = 0;
					e[i].slot_frees++;
				}
			for (unsigned k = 0; k < na; k++, ai = (ai + r->alloc_step) % r->slots) {
				e[i].slot_frees += o[ai];
				o[ai] = 1;
				e[i].allocs++;
			}
			if (r->n > 1 && loop % 2 == 0) {
				cross = (cross + 1) % (unsigned)r->n;
				if (cross == (unsigned)i)
					cross = (cross + 1) % (unsigned)r->n;
				e[i].allocs += na;
				e[i].sent += na;
				e[i].batches++;
				e[cross].received += na;
			}
			if (++loop == r->loops) {
				for (unsigned k = 0; k < r->slots; k++) {
					e[i].slot_frees += o[k];
					o[k] = 0;
				}
				loop = 0;
				iter = (iter + 1) % 2;
				if (iter == 0) {
					ai = fi = cross = 0;
					e[i].threads++;
				}
			}
		}
	}
	free(occ);
}

static void test_rptest_arith(void)
{
	const uint64_t batch[3] = { 5, 9, 20 };          /* 34 loops: two lives of 14, part of a third */

	for (int n = 1; n <= 3; n += 2) {
		rptest_t *r = rp_new(&hp_mem_libc_ops, n, 7, 64, T_SEED);
		rp_expect_t e[3];

		T_CHECK(r != NULL);
		if (!r)
			return;
		T_CHECK(r->alloc_step == 7 && r->free_step == 11);      /* 64: 7 and 11 divide it not */
		for (int b = 0; b < 3; b++)
			rp_batch(r, batch[b]);
		rp_quit(r);
		rp_replay(r, 34, e);
		for (int i = 0; i < n; i++) {
			rp_thr_t *t = &r->thr[i];
			uint64_t pending = 0;

			for (rp_batch_t *b = atomic_load(&t->inbox); b; b = b->next)
				pending += b->count;
			T_CHECK_MSG(t->loops == 34 && t->allocs == e[i].allocs && t->slot_frees == e[i].slot_frees,
				    "rptest n=%d thread %d: %" PRIu64 " loops, %" PRIu64 " allocations, %" PRIu64
				    " slot frees; expected 34, %" PRIu64 ", %" PRIu64, n, i, t->loops, t->allocs,
				    t->slot_frees, e[i].allocs, e[i].slot_frees);
			T_CHECK_MSG(t->blocks_sent == e[i].sent && t->batches_sent == e[i].batches,
				    "rptest n=%d thread %d: sent %" PRIu64 " blocks in %" PRIu64 " batches, expected %"
				    PRIu64 " in %" PRIu64, n, i, t->blocks_sent, t->batches_sent, e[i].sent, e[i].batches);
			T_CHECK_MSG(t->remote_frees + pending == e[i].received,
				    "rptest n=%d thread %d: %" PRIu64 " cross-thread frees + %" PRIu64
				    " pending, expected %" PRIu64 " received", n, i, t->remote_frees, pending, e[i].received);
			T_CHECK_MSG(t->foreign_slot_frees == 0, "rptest n=%d thread %d: %" PRIu64
				    " slot blocks freed by another thread", n, i, t->foreign_slot_frees);
			T_CHECK_MSG(t->threads == e[i].threads, "rptest n=%d thread %d: %" PRIu64 " threads, expected %"
				    PRIu64, n, i, t->threads, e[i].threads);
			/* the program's count: 1 a malloc or free, 2 a batch made or freed */
			T_CHECK_MSG(t->ops == t->allocs + t->slot_frees + t->remote_frees +
					      2 * (t->batches_sent + t->batches_freed),
				    "rptest n=%d thread %d: %" PRIu64 " ops", n, i, t->ops);
			printf("rptest n=%d thread %d: %" PRIu64 " ops, %" PRIu64 " allocations, %" PRIu64
			       " cross-thread frees (+%" PRIu64 " pending), %" PRIu64 " threads\n", n, i, t->ops,
			       t->allocs, t->remote_frees, pending, t->threads);
		}
		if (n > 1)
			T_CHECK(e[0].received > 0);
		rp_free(r);
	}
}

/* alloc_test: a replay of a thread's random stream (saturation, then the
 * 80/20 slot choice and sizes) gives its allocations, frees and the bytes
 * read back; every free is on the allocating thread, which lives from setup
 * to teardown; the exit frees what is left. */
static void test_alloc_test_arith(void)
{
	const uint64_t n[2] = { 3001, 10000 };
	const int nt = 3;
	alloctest_t *a = at_new_test(&hp_mem_libc_ops, nt, 3 * 4096, T_SEED);
	uint64_t ops[3] = { 0 };

	T_CHECK(a != NULL);
	if (!a)
		return;
	/* the 80/20 ranges: 7 of them, covering the slots, the hot one small */
	T_CHECK(a->thr[0].off[7] == 4096 && a->thr[0].off[1] - a->thr[0].off[0] == (uint32_t)(4096 * 0.000064) &&
		a->thr[0].off[7] - a->thr[0].off[6] > 1000);
	for (int b = 0; b < 2; b++) {
		at_batch(a, n[b]);
		for (int i = 0; i < nt; i++)
			ops[i] += n[b] / 3 + ((uint64_t)i < n[b] % 3);
	}
	for (int i = 0; i < nt; i++) {
		at_thr_t *t = &a->thr[i];
		uint64_t rng = T_SEED ^ 0xa110c7e57ull, setup = 0, allocs = 0, frees = 0, sum = 0, hot = 0;
		uint32_t *size = calloc(t->items, sizeof *size);

		for (uint32_t g = 0; g + 32 <= t->items; g += 32) {
			uint32_t mask = (uint32_t)hp_splitmix64(&rng);

			for (unsigned j = 0; j < 32; j++)
				if (mask >> j & 1) {
					size[g + j] = at_size(hp_splitmix64(&rng));
					setup++;
				}
		}
		for (uint64_t k = 0; k < ops[i]; k++) {
			uint32_t s = at_pick(t, hp_splitmix64(&rng));

			hot += s < t->off[2];
			if (size[s]) {
				sum += (uint64_t)size[s] * (size[s] & 255);
				size[s] = 0;
				frees++;
			} else {
				size[s] = at_size(hp_splitmix64(&rng));
				T_CHECK(size[s] >= 5 && size[s] <= 1024);
				allocs++;
			}
		}
		free(size);
		T_CHECK_MSG(t->ops == ops[i] && t->setup_blocks == setup && t->allocs == allocs && t->frees == frees &&
			    t->sum == sum, "alloc_test thread %d: %" PRIu64 " ops, %" PRIu64 " + %" PRIu64
			    " allocations, %" PRIu64 " frees, sum %" PRIu64 "; expected %" PRIu64 ", %" PRIu64 " + %"
			    PRIu64 ", %" PRIu64 ", %" PRIu64, i, t->ops, t->setup_blocks, t->allocs, t->frees, t->sum,
			    ops[i], setup, allocs, frees, sum);
		/* 65.5 % of the ops go to the two hottest ranges (0.8^6 + 6 x 0.2 x 0.8^5) */
		T_CHECK_MSG(hot * 100 > ops[i] * 60 && hot * 100 < ops[i] * 71, "alloc_test thread %d: %" PRIu64 " of %" PRIu64 " ops hot", i, hot,
			    ops[i]);
		T_CHECK_MSG(t->foreign_frees == 0 && t->threads == 1, "alloc_test thread %d: %" PRIu64
			    " frees of another thread's blocks, %" PRIu64 " threads", i, t->foreign_frees, t->threads);
	}
	at_quit(a);
	for (int i = 0; i < nt; i++) {
		at_thr_t *t = &a->thr[i];

		T_CHECK_MSG(t->frees == t->setup_blocks + t->allocs && t->foreign_frees == 0,
			    "alloc_test thread %d at exit: %" PRIu64 " frees of %" PRIu64 " blocks, %" PRIu64 " foreign",
			    i, t->frees, t->setup_blocks + t->allocs, t->foreign_frees);
		printf("alloc_test thread %d: %" PRIu64 " ops, %" PRIu64 " + %" PRIu64 " allocations, %" PRIu64
		       " frees, 0 cross-thread\n", i, t->ops, t->setup_blocks, t->allocs, t->frees);
	}
	at_free(a);
}

/* The cases that start their own threads run them on every CPU of the run:
 * setup() and run() widen the calling (pinned) thread's affinity, which
 * the threads they start inherit. */
static int t_ncpus_allowed(void)
{
	cpu_set_t set;

	return pthread_getaffinity_np(pthread_self(), sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
}

static void t_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Returns 0, or 77 when CPUs 0 and 1 are not both allowed (not checked). */
static int test_unpin(void)
{
	static const hp_case_t *const threaded[] = { &wl_case_larson, &wl_case_xmalloc, &wl_case_cache_scratch,
						     &wl_case_cache_thrash, &wl_case_glibc_thread, &wl_case_mstress,
						     &wl_case_rptest, &wl_case_alloc_test, NULL };
	static const hp_param_t two = { .label = "2", .value = 2 };
	static const int cpus[2] = { 0, 1 };
	cpu_set_t saved;

	pthread_getaffinity_np(pthread_self(), sizeof saved, &saved);
	if (!CPU_ISSET(0, &saved) || !CPU_ISSET(1, &saved)) {
		printf("unpin: CPUs 0 and 1 are not both allowed here; not checked\n");
		return 77;
	}
	for (int i = 0; threaded[i]; i++) {
		const hp_case_t *c = threaded[i];
		hp_ctx_t ctx = { .c = c, .v = &hp_v_glibc, .p = &two, .seed = T_SEED, .threads = 1,
				 .cpus = cpus, .ncpus = 2, .all_cpus = cpus };
		hp_state_t st = { .ops = &nop_ops, .threads = 1 };
		int after_setup, after_run;

		t_pin(1);
		ctx.data = c->setup(&ctx);
		after_setup = t_ncpus_allowed();
		t_pin(1);
		if (ctx.data)
			c->run(&st, 3, &ctx);
		after_run = t_ncpus_allowed();
		T_CHECK_MSG(ctx.data && after_setup == 2 && after_run == 2,
			    "%s: its threads would run on %d CPU(s) after setup, %d after run, not the run's 2",
			    c->name, after_setup, after_run);
		if (ctx.data)
			c->teardown(&ctx, ctx.data);
	}
	pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
	return 0;
}

/* Single-threaded runs whose results depend only on the seed. */
static void orig_checksums(char *out, size_t len)
{
	larson_o_t *l = la_new(&hp_mem_libc_ops, 1, 64, 3, T_SEED);
	xmalloc_o_t *x = xo_new(&hp_mem_libc_ops, 1, 16, 64);
	cache_o_t *cs = co_new(&hp_mem_libc_ops, 2, 1, 1000, 1), *ct = co_new(&hp_mem_libc_ops, 2, 1, 1000, 0);
	uint64_t lsum = 0, xsum = 0;

	if (!l || !x || !cs || !ct) {
		snprintf(out, len, " setup failed");
		return;
	}
	la_batch(l, 5000);
	lsum = l->set[0].freed;
	xo_batchrun(x, 5);
	xsum = x->thr[1].sum;
	co_batch(cs, 7);
	co_batch(ct, 7);
	snprintf(out, len, " larson=%" PRIu64 " xmalloc=%" PRIu64 " cache_scratch=%" PRIu64 " cache_thrash=%" PRIu64,
		 lsum, xsum, cs->thr[0].sum + cs->thr[1].sum, ct->thr[0].sum + ct->thr[1].sum);
	la_free(l);
	xo_free(x);
	co_free(cs);
	co_free(ct);

	gthread_t *gt = gt_new(&hp_mem_libc_ops, 1, T_SEED);
	gsimple_t *gs = calloc(1, sizeof *gs);
	size_t off = strlen(out);

	if (!gt || !gs) {
		snprintf(out + off, len - off, " glibc setup failed");
		return;
	}
	gs->ops = &hp_mem_libc_ops;
	for (int i = 0; i < 300; i++)
		gs_iteration(gs);
	gt_batch(gt, 20000);
	snprintf(out + off, len - off, " glibc_simple=%" PRIu64 " glibc_thread=%" PRIu64, gs->sum, gt->thr[0].freed);
	free(gs);
	gt_free(gt);

	/* two whole iterations (the slots are empty at their ends) and 20000 ops */
	rptest_t *rp = rp_new(&hp_mem_libc_ops, 1, 50, RP_SLOTS, T_SEED);
	alloctest_t *at = at_new_test(&hp_mem_libc_ops, 1, 1u << 14, T_SEED);

	off = strlen(out);
	if (!rp || !at) {
		snprintf(out + off, len - off, " rptest/alloc_test setup failed");
		return;
	}
	rp_batch(rp, 100);
	at_batch(at, 20000);
	snprintf(out + off, len - off, " rptest=%" PRIu64 " alloc_test=%" PRIu64, rp->thr[0].freed, at->thr[0].sum);
	rp_free(rp);
	at_free(at);
}

int main(int argc, char **argv)
{
	char ref[512];

	if (argc == 3 && strcmp(argv[1], "--only") == 0) {
		if (strcmp(argv[2], "rptest") == 0)
			test_rptest_arith();
		else if (strcmp(argv[2], "alloc_test") == 0)
			test_alloc_test_arith();
		else if (strcmp(argv[2], "xmalloc") == 0)
			test_xmalloc_arith();
		else if (strcmp(argv[2], "unpin") == 0) {
			if (test_unpin() == 77)
				return 77;
		} else
			T_CHECK_MSG(0, "--only: unknown workload %s", argv[2]);
		return t_done("test_malloc_workloads");
	}
	checksums(ref, sizeof ref);
	if (argc == 2 && strcmp(argv[1], "--child") == 0) {
		printf("%s\n", ref);
		return 0;
	}
	printf("in-process      %s\n", ref);
	T_CHECK(strncmp(ref, "larson_crossfree=", 17) == 0);
	/* 5 batches x 16 objects, byte 8 of object i is i % 256; 2 x 7 iterations x 500 writes of 1 */
	T_CHECK_MSG(strstr(ref, " xmalloc=600 ") != NULL, "%s", ref);
	T_CHECK_MSG(strstr(ref, " cache_scratch=7000 cache_thrash=7000") != NULL, "%s", ref);
	test_larson_arith();
	test_xmalloc_arith();
	test_cache_arith();
	test_glibc_simple_arith();
	test_glibc_thread_arith();
	test_mstress_arith();
	test_rptest_arith();
	test_alloc_test_arith();
	(void)test_unpin();
	test_allocators(ref);
	test_two_threads();
	test_corruption();
	return t_done("test_malloc_workloads");
}
