/* test_workqueue.c — impl/workqueue and its baselines: PENDING, requeue from the function, every queueing runs once under 2 queuers, flush, no lost wake-up, one wake-up per burst, non-reentrancy.
 *
 * The generic checks run against every ops table (impl, cond, eventfd); the
 * model's own (stats, flush barrier, two pools) against the library. Every
 * wait has a watchdog: a wait that times out is a lost wake-up, reported
 * as such and the test ends at once (its threads are stuck).
 *
 * Mutation proof: built with -DT_WQ_MUTANT against a deliberately broken
 * library (impl/workqueue/meson.build: no_wake, late_clear, racy_idle) and
 * run with `--expect AREA`, the test passes only when a check of that area
 * failed: tests/meson.build runs each mutant that way.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "hp_time.h"
#include "t_util.h"
#include "workqueue.h"
#ifndef T_WQ_MUTANT
#include "wq_baselines.h"
#endif

#define WATCHDOG_NS (5ull * 1000000000ull)

static const char *area = "";           /* the group of checks running now */
static const char *expect_area;         /* --expect: the area that must fail */
static int caught;

static int finish(void)
{
	if (expect_area) {
		if (caught) {
			printf("workqueue: the broken build was caught by the '%s' checks\n", expect_area);
			return 0;
		}
		fprintf(stderr, "workqueue: the broken build was NOT caught by the '%s' checks\n", expect_area);
		return 1;
	}
	return t_done("workqueue");
}

static void fail_at(const char *where, int line, const char *what)
{
	fprintf(stderr, "[%s] %s:%d: check failed: %s\n", where, __FILE__, line, what);
	t_failures++;
	if (expect_area && !strcmp(where, expect_area))
		caught = 1;
}

#define CHECK(c) do { if (!(c)) fail_at(area, __LINE__, #c); } while (0)

/* Waits (yielding) until *v >= want; a time-out is a lost wake-up: the
 * worker sleeps with work queued. Ends the test, threads stuck. */
static void wait_for(_Atomic int *v, int want, const char *what, int line)
{
	uint64_t t0 = hp_now_ns();

	while (atomic_load_explicit(v, memory_order_acquire) < want) {
		if (hp_now_ns() - t0 > WATCHDOG_NS) {
			char m[200];

			snprintf(m, sizeof m, "%s: %d of %d after 5 s (during '%s')", what,
				 atomic_load(v), want, area);
			fail_at("lost-wakeup", line, m);
			int rc = finish();

			fflush(NULL);
			_exit(rc);
		}
		sched_yield();
	}
}
#define WAIT_FOR(v, want, what) wait_for((v), (want), (what), __LINE__)

typedef struct t_item {
	hp_work_t work;
	_Atomic int runs;
	_Atomic int running, max_running;
	_Atomic int requeue_left, requeue_refused;
	const hp_wq_ops_t *ops;
	void *q;
} t_item_t;

static _Atomic int gate_open;

#define ITEM(w) hp_container_of((w), t_item_t, work)

static void enter(t_item_t *it)
{
	int r = atomic_fetch_add(&it->running, 1) + 1;
	int m = atomic_load(&it->max_running);

	while (r > m && !atomic_compare_exchange_weak(&it->max_running, &m, r))
		;
}

static void leave(t_item_t *it)
{
	atomic_fetch_sub(&it->running, 1);
	atomic_fetch_add_explicit(&it->runs, 1, memory_order_release);
}

static void count_fn(hp_work_t *w)
{
	enter(ITEM(w));
	leave(ITEM(w));
}

static void gate_fn(hp_work_t *w)
{
	enter(ITEM(w));
	while (!atomic_load_explicit(&gate_open, memory_order_acquire))
		sched_yield();
	leave(ITEM(w));
}

static void requeue_fn(hp_work_t *w)
{
	t_item_t *it = ITEM(w);

	enter(it);
	if (atomic_fetch_sub(&it->requeue_left, 1) > 0 && !it->ops->queue(it->q, w))
		atomic_fetch_add(&it->requeue_refused, 1);
	leave(it);
}

static void slow_fn(hp_work_t *w)
{
	struct timespec ts = { 0, 20 * 1000000 };

	enter(ITEM(w));
	nanosleep(&ts, NULL);
	leave(ITEM(w));
}

static void item_init(t_item_t *it, hp_work_func_t fn, const hp_wq_ops_t *ops, void *q)
{
	memset(it, 0, sizeof *it);
	hp_init_work(&it->work, fn);
	it->ops = ops;
	it->q = q;
}

/* ------------------------------------------------------------------ */
/* Checks through the ops table, for every variant                      */
/* ------------------------------------------------------------------ */

/* PENDING: a pending item queued again returns false and runs once. */
static void t_pending(const hp_wq_ops_t *ops, void *q)
{
	t_item_t g, b;

	area = "pending";
	item_init(&g, gate_fn, ops, q);
	item_init(&b, count_fn, ops, q);
	atomic_store(&gate_open, 0);
	CHECK(ops->queue(q, &g.work));
	WAIT_FOR(&g.running, 1, "gate item started");
	CHECK(ops->queue(q, &b.work));
	CHECK(hp_work_pending(&b.work));
	CHECK(!ops->queue(q, &b.work));        /* already pending: nothing done */
	CHECK(!ops->queue(q, &b.work));
	atomic_store(&gate_open, 1);
	WAIT_FOR(&b.runs, 1, "pending item ran");
	ops->drain(q);
	CHECK(atomic_load(&b.runs) == 1);
	CHECK(!hp_work_pending(&b.work));
	CHECK(atomic_load(&g.runs) == 1);
}

/* PENDING is cleared before the call: an item queued while it runs, or by
 * its own function, runs again. */
static void t_requeue(const hp_wq_ops_t *ops, void *q)
{
	t_item_t g, r;

	area = "requeue";
	item_init(&g, gate_fn, ops, q);
	atomic_store(&gate_open, 0);
	CHECK(ops->queue(q, &g.work));
	WAIT_FOR(&g.running, 1, "gate item started");
	CHECK(!hp_work_pending(&g.work));
	CHECK(ops->queue(q, &g.work));         /* running, not pending: queued again */
	atomic_store(&gate_open, 1);
	WAIT_FOR(&g.runs, 2, "item queued while running ran again");
	ops->drain(q);
	CHECK(atomic_load(&g.runs) == 2);
	CHECK(atomic_load(&g.max_running) == 1);

	item_init(&r, requeue_fn, ops, q);
	atomic_store(&r.requeue_left, 10);
	CHECK(ops->queue(q, &r.work));
	ops->drain(q);
	CHECK(atomic_load(&r.requeue_refused) == 0);
	CHECK(atomic_load(&r.runs) == 11);
}

/* Two threads queue their own items and a shared one, as fast as they
 * can: every queueing that returned true runs exactly once. */
#define CONC_ITEMS 32
#define CONC_ROUNDS 2000

typedef struct conc {
	const hp_wq_ops_t *ops;
	void *q;
	t_item_t own[CONC_ITEMS];
	int trues[CONC_ITEMS];
	t_item_t *shared;
	_Atomic int *shared_trues;
} conc_t;

static void *conc_thread(void *arg)
{
	conc_t *c = arg;

	for (int r = 0; r < CONC_ROUNDS; r++) {
		for (int i = 0; i < CONC_ITEMS; i++)
			c->trues[i] += c->ops->queue(c->q, &c->own[i].work);
		if (c->ops->queue(c->q, &c->shared->work))
			atomic_fetch_add(c->shared_trues, 1);
	}
	return NULL;
}

static void t_concurrent(const hp_wq_ops_t *ops, void *q)
{
	static conc_t c[2];
	t_item_t shared;
	_Atomic int shared_trues = 0;
	pthread_t th[2];

	area = "concurrent";
	item_init(&shared, count_fn, ops, q);
	for (int k = 0; k < 2; k++) {
		c[k].ops = ops;
		c[k].q = q;
		c[k].shared = &shared;
		c[k].shared_trues = &shared_trues;
		for (int i = 0; i < CONC_ITEMS; i++) {
			item_init(&c[k].own[i], count_fn, ops, q);
			c[k].trues[i] = 0;
		}
	}
	for (int k = 0; k < 2; k++)
		CHECK(pthread_create(&th[k], NULL, conc_thread, &c[k]) == 0);
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	WAIT_FOR(&shared.runs, atomic_load(&shared_trues), "shared item's queueings ran");
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < CONC_ITEMS; i++)
			WAIT_FOR(&c[k].own[i].runs, c[k].trues[i], "own item's queueings ran");
	ops->drain(q);
	CHECK(atomic_load(&shared.runs) == atomic_load(&shared_trues));
	CHECK(atomic_load(&shared.runs) >= 1);
	CHECK(atomic_load(&shared.max_running) == 1);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < CONC_ITEMS; i++) {
			CHECK(atomic_load(&c[k].own[i].runs) == c[k].trues[i]);
			CHECK(c[k].trues[i] >= 1);
		}
}

/* flush waits for the item's run; an idle item returns false at once. */
static void t_flush(const hp_wq_ops_t *ops, void *q)
{
	t_item_t s;

	area = "flush";
	item_init(&s, slow_fn, ops, q);
	CHECK(!ops->flush(q, &s.work));
	CHECK(ops->queue(q, &s.work));
	CHECK(ops->flush(q, &s.work));
	CHECK(atomic_load(&s.runs) == 1);
	CHECK(ops->queue(q, &s.work));
	WAIT_FOR(&s.running, 1, "slow item started");
	CHECK(ops->flush(q, &s.work));         /* running: waits for the end */
	CHECK(atomic_load(&s.runs) == 2);
	CHECK(!ops->flush(q, &s.work));
}

/* Round trips for up to 1 s: queue, wait until it ran, again; the worker
 * goes to sleep between most of them. A lost wake-up hangs a wait. */
static void t_stress(const hp_wq_ops_t *ops, void *q)
{
	t_item_t it;
	uint64_t t0 = hp_now_ns();
	int n = 0;

	area = "stress";
	item_init(&it, count_fn, ops, q);
	while (n < 50000 && hp_now_ns() - t0 < 1000000000ull) {
		CHECK(ops->queue(q, &it.work));
		WAIT_FOR(&it.runs, ++n, "round trip");
	}
	ops->drain(q);
	CHECK(atomic_load(&it.runs) == n);
	printf("%s: %d round trips\n", ops->name, n);
}

static void t_ops(const hp_wq_ops_t *ops, int os_cpu)
{
	void *q = NULL;
	int rc = ops->create(os_cpu, NULL, &q);

	CHECK(rc == 0);
	if (rc != 0)
		return;
	printf("%s: worker on CPU %d\n", ops->name, os_cpu);
	t_pending(ops, q);
	t_requeue(ops, q);
	t_concurrent(ops, q);
	t_flush(ops, q);
	t_stress(ops, q);
	ops->destroy(q);
}

/* ------------------------------------------------------------------ */
/* The model's own                                                     */
/* ------------------------------------------------------------------ */

static void t_api(void)
{
	hp_wq_config_t cfg;
	hp_workqueue_t *wq = NULL;
	int bad[1] = { -2 };

	area = "api";
	hp_wq_config_init(&cfg);
	CHECK(cfg.npools == 1 && cfg.workers_per_pool == 1 && !cfg.os_cpu);
	CHECK(hp_alloc_workqueue(NULL, &wq) == -EINVAL);
	CHECK(hp_alloc_workqueue(&cfg, NULL) == -EINVAL);
	cfg.npools = 0; CHECK(hp_alloc_workqueue(&cfg, &wq) == -EINVAL); cfg.npools = 1;
	cfg.workers_per_pool = HP_WQ_MAX_WORKERS + 1;
	CHECK(hp_alloc_workqueue(&cfg, &wq) == -EINVAL);
	cfg.workers_per_pool = 1;
	cfg.os_cpu = bad; CHECK(hp_alloc_workqueue(&cfg, &wq) == -EINVAL); cfg.os_cpu = NULL;
	CHECK(hp_destroy_workqueue(NULL) == -EINVAL);
	CHECK(HP_WORK_STRUCT_PENDING == 1);
}

/* A burst queued while the worker runs costs no wake-up (need_more_worker
 * is false while nr_running is 1): one FUTEX_WAKE for 1 + 64 works. */
static void t_batch(void)
{
	hp_wq_config_t cfg;
	hp_workqueue_t *wq;
	hp_wq_stats_t s0, s1;
	t_item_t g, b[64];

	area = "batch";
	hp_wq_config_init(&cfg);
	cfg.workers_per_pool = 2;
	CHECK(hp_alloc_workqueue(&cfg, &wq) == 0);
	/* both workers asleep: each went idle once from its thread */
	for (uint64_t t0 = hp_now_ns(); hp_wq_stats(wq, 0, &s0) == 0 && s0.sleeps < 2;) {
		CHECK(hp_now_ns() - t0 < WATCHDOG_NS);
		if (hp_now_ns() - t0 >= WATCHDOG_NS)
			break;
		sched_yield();
	}
	item_init(&g, gate_fn, NULL, NULL);
	atomic_store(&gate_open, 0);
	CHECK(hp_queue_work(wq, &g.work));
	WAIT_FOR(&g.running, 1, "gate item started");
	for (int i = 0; i < 64; i++) {
		item_init(&b[i], count_fn, NULL, NULL);
		CHECK(hp_queue_work_on(wq, 0, &b[i].work));
	}
	atomic_store(&gate_open, 1);
	hp_drain_workqueue(wq);
	CHECK(hp_wq_stats(wq, 0, &s1) == 0);
	CHECK(s1.queued - s0.queued == 65);
	CHECK(s1.works_run - s0.works_run == 65);
	CHECK(s1.wakeups - s0.wakeups == 1);    /* the gate's; the second worker never woke */
	for (int i = 0; i < 64; i++)
		CHECK(atomic_load(&b[i].runs) == 1);
	CHECK(hp_wq_stats(wq, 1, &s1) == -EINVAL);
	CHECK(hp_destroy_workqueue(wq) == 0);
}

static void *open_gate_later(void *arg)
{
	struct timespec ts = { 0, 50 * 1000000 };

	(void)arg;
	nanosleep(&ts, NULL);
	atomic_store(&gate_open, 1);
	return NULL;
}

/* Queued on pool 1 while it runs on pool 0, an item goes to pool 0 and
 * never runs on both at once (__queue_work's last_pool). flush_work
 * inserts its barrier behind a pending item (LINKED) and the item runs
 * before the flush returns. */
static void t_pools(void)
{
	hp_wq_config_t cfg;
	hp_workqueue_t *wq;
	hp_wq_stats_t p0, p1;
	t_item_t g, s;
	pthread_t opener;

	area = "pools";
	hp_wq_config_init(&cfg);
	cfg.npools = 2;
	CHECK(hp_alloc_workqueue(&cfg, &wq) == 0);
	CHECK(hp_wq_npools(wq) == 2);
	item_init(&g, gate_fn, NULL, NULL);
	atomic_store(&gate_open, 0);
	CHECK(hp_queue_work_on(wq, 0, &g.work));
	WAIT_FOR(&g.running, 1, "gate item started");
	CHECK(hp_queue_work_on(wq, 1, &g.work));
	CHECK(hp_wq_stats(wq, 0, &p0) == 0 && hp_wq_stats(wq, 1, &p1) == 0);
	CHECK(p0.queued == 2 && p1.queued == 0);
	atomic_store(&gate_open, 1);
	hp_drain_workqueue(wq);
	CHECK(atomic_load(&g.runs) == 2 && atomic_load(&g.max_running) == 1);

	item_init(&s, slow_fn, NULL, NULL);
	atomic_store(&gate_open, 0);
	CHECK(hp_queue_work_on(wq, 1, &g.work));
	WAIT_FOR(&g.running, 1, "gate item started on pool 1");
	CHECK(hp_queue_work_on(wq, 1, &s.work));       /* pending behind the gate */
	CHECK(pthread_create(&opener, NULL, open_gate_later, NULL) == 0);
	CHECK(hp_flush_work(&s.work));                 /* barrier LINKED behind s */
	pthread_join(opener, NULL);
	CHECK(atomic_load(&s.runs) == 1);
	CHECK(!hp_flush_work(&s.work));
	CHECK(hp_destroy_workqueue(wq) == 0);
}

/* destroy drains: works queued just before it all run, nothing leaks. */
static void t_destroy(void)
{
	hp_wq_config_t cfg;
	hp_workqueue_t *wq;
	t_item_t it[100];

	area = "destroy";
	hp_wq_config_init(&cfg);
	CHECK(hp_alloc_workqueue(&cfg, &wq) == 0);
	for (int i = 0; i < 100; i++) {
		item_init(&it[i], count_fn, NULL, NULL);
		CHECK(hp_queue_work(wq, &it[i].work));
	}
	CHECK(hp_destroy_workqueue(wq) == 0);
	for (int i = 0; i < 100; i++)
		CHECK(atomic_load(&it[i].runs) == 1);
}

int main(int argc, char **argv)
{
	cpu_set_t set;
	int cpus[2] = { -1, -1 }, n = 0;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--expect") && i + 1 < argc)
			expect_area = argv[++i];
	/* the worker on another CPU than main's when there are two */
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	t_api();
	t_ops(&hp_wq_impl_ops, -1);
	if (n == 2)
		t_ops(&hp_wq_impl_ops, cpus[1]);
	if (n >= 1) {
		/* worker and queuer on one CPU: each wake-up is a switch */
		CPU_ZERO(&set);
		CPU_SET(cpus[0], &set);
		if (sched_setaffinity(0, sizeof set, &set) == 0)
			t_ops(&hp_wq_impl_ops, cpus[0]);
		CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
	}
	t_batch();
	t_pools();
	t_destroy();
#ifndef T_WQ_MUTANT
	t_ops(&hp_wq_cond_ops, -1);
	t_ops(&hp_wq_eventfd_ops, -1);
#endif
	return finish();
}
