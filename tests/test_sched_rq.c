/* test_sched_rq.c — CFS/EEVDF run queue: weight tables, fixed-point scaling, the run-queue checker after every operation of long seeded random sequences, EEVDF lag, vruntime wrap-around. */
#include <inttypes.h>
#include <stdint.h>

#include "hp_rand.h"

#include "fair.h"
#include "rq_baselines.h"
#include "t_util.h"

/* The kernel's tables (kernel/sched/core.c), typed in again here so that a
 * change to impl/sched's copy is caught. */
static const uint32_t kernel_weight[40] = {
	88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
	9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
	1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
	110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
};

static uint64_t rng_state;

static uint64_t rnd(void) { return hp_splitmix64(&rng_state); }

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

/* ------------------------------------------------------------------ */
/* Tables and scaling                                                  */
/* ------------------------------------------------------------------ */

static void test_tables(void)
{
	for (int i = 0; i < 40; i++) {
		uint64_t exact = (UINT64_C(1) << 32) / hp_sched_prio_to_weight[i];
		int64_t d = (int64_t)hp_sched_prio_to_wmult[i] - (int64_t)exact;

		T_CHECK_MSG(hp_sched_prio_to_weight[i] == kernel_weight[i],
			    "nice %d: weight %u, kernel %u", i - 20, hp_sched_prio_to_weight[i], kernel_weight[i]);
		T_CHECK_MSG(d >= -1 && d <= 1, "nice %d: inverse %u, 2^32/w = %" PRIu64, i - 20,
			    hp_sched_prio_to_wmult[i], exact);
	}
	/* neighbouring nice levels differ by about 1.25 */
	for (int i = 1; i < 40; i++) {
		double r = (double)hp_sched_prio_to_weight[i - 1] / hp_sched_prio_to_weight[i];

		T_CHECK_MSG(r > 1.19 && r < 1.31, "nice %d/%d ratio %.3f", i - 21, i - 20, r);
	}
}

static void test_calc_delta(void)
{
	hp_sched_entity_t se;
	hp_load_weight_t lw = { .weight = 2048, .inv_weight = 0 };

	/* half the weight: half the time, to within the fixed point's rounding */
	uint64_t d = hp_calc_delta(1000000, 1024, &lw);
	T_CHECK_MSG(d >= 499999 && d <= 500000, "1 ms at 1024/2048 gave %" PRIu64, d);
	T_CHECK(lw.inv_weight == UINT32_MAX / 2048);

	/* nice 0 runs at wall speed; nice 19 (weight 15) ages 1024/15 times faster */
	hp_se_init(&se, 0, 0);
	T_CHECK(hp_calc_delta_fair(123456789, &se) == 123456789);
	hp_se_init(&se, 19, 0);
	d = hp_calc_delta_fair(15000000, &se);
	T_CHECK_MSG(d >= 1023990000 && d <= 1024000000, "nice 19: %" PRIu64, d);
	hp_se_init(&se, -20, 0);
	d = hp_calc_delta_fair(88761000, &se);
	T_CHECK_MSG(d >= 1023990 && d <= 1024000, "nice -20: %" PRIu64, d);

	/* a weight beyond 32 bits: the factor is shifted down, not overflowed */
	hp_load_weight_t one = { .weight = 1024, .inv_weight = 0 };
	d = hp_calc_delta(1000, UINT64_C(1) << 33, &one);
	T_CHECK_MSG(d >= 8388600000 && d <= 8388608000, "1000 * 2^33 / 1024 gave %" PRIu64, d);

	/* tunables scale by 1 + ilog2(ncpus), capped at 8 CPUs */
	hp_sched_tunables_t t;
	hp_sched_tunables_init(&t, 1, 250);
	T_CHECK(t.factor == 1 && t.latency_ns == 6000000 && t.min_granularity_ns == 750000 &&
		t.wakeup_granularity_ns == 1000000 && t.nr_latency == 8 && t.tick_ns == 4000000);
	hp_sched_tunables_init(&t, 2, 1000);
	T_CHECK(t.factor == 2 && t.latency_ns == 12000000 && t.base_slice_ns == 1500000 &&
		t.tick_ns == 1000000);
	hp_sched_tunables_init(&t, 64, 100);
	T_CHECK(t.factor == 4 && t.wakeup_granularity_ns == 4000000 && t.nr_latency == 8);
}

static void test_wrap(void)
{
	/* ordering by signed difference survives 2^64 and 2^63 */
	T_CHECK(hp_vruntime_before(UINT64_MAX - 5, 3));
	T_CHECK(!hp_vruntime_before(3, UINT64_MAX - 5));
	T_CHECK(hp_vruntime_before((UINT64_C(1) << 63) - 10, (UINT64_C(1) << 63) + 10));
	T_CHECK(hp_vruntime_max(UINT64_MAX - 5, 3) == 3);
	T_CHECK(hp_vruntime_min(UINT64_MAX - 5, 3) == UINT64_MAX - 5);
}

/* ------------------------------------------------------------------ */
/* Random sequences against the checker                               */
/* ------------------------------------------------------------------ */

#define NT 48

enum { UNUSED, QUEUED, ASLEEP };

typedef struct seqstats {
	long ops, clamps, lag_checks, picks, switches;
} seqstats_t;

static int check_rq(hp_cfs_rq_t *rq, const char *what, long op, uint64_t *minv)
{
	char err[256];

	if (hp_cfs_rq_check(rq, err, sizeof err) != 0) {
		fprintf(stderr, "op %ld (%s): %s\n", op, what, err);
		t_failures++;
		return -1;
	}
	if (hp_vruntime_before(rq->min_vruntime, *minv)) {
		fprintf(stderr, "op %ld (%s): min_vruntime went back\n", op, what);
		t_failures++;
		return -1;
	}
	*minv = rq->min_vruntime;
	return 0;
}

static void sequence(hp_sched_policy_t pol, uint64_t base, uint64_t seed, long nops, seqstats_t *s)
{
	hp_sched_tunables_t tun;
	hp_cfs_rq_t rq;
	hp_sched_entity_t se[NT];
	int state[NT] = { 0 };
	uint64_t minv;
	const char *what = "";

	rng_state = seed;
	hp_sched_tunables_init(&tun, 2, 250);
	hp_cfs_rq_init(&rq, pol, &tun);
	hp_cfs_rq_set_min_vruntime(&rq, base);
	minv = rq.min_vruntime;
	for (long op = 0; op < nops && !t_failures; op++) {
		int k = (int)rnd_below(NT), r = (int)rnd_below(100);

		s->ops++;
		if (r < 25) {
			/* run for a while, with or without a tick: long runs make big lags */
			rq.clock += rnd_below(r < 5 ? 50000000 : 4000000);
			what = "tick";
			if (hp_entity_tick(&rq) || !rq.curr) {
				hp_pick_next_task(&rq);
				s->switches++;
			}
		} else if (r < 40) {
			rq.clock += rnd_below(2000000);
			what = "pick";
			hp_pick_next_task(&rq);
			s->picks++;
		} else if (r < 60) {
			if (state[k] == UNUSED) {
				hp_se_init(&se[k], (int)rnd_below(40) - 20, (uint32_t)k);
				what = "enqueue new";
				hp_enqueue_entity(&rq, &se[k], HP_ENQUEUE_INITIAL);
				state[k] = QUEUED;
			} else if (state[k] == ASLEEP) {
				int64_t vlag = se[k].vlag;
				int had = rq.nr_running > 0;

				what = "wakeup";
				hp_enqueue_entity(&rq, &se[k], HP_ENQUEUE_WAKEUP);
				state[k] = QUEUED;
				/* PLACE_LAG: once in, its lag is the one it slept with */
				if (pol == HP_SCHED_EEVDF && had) {
					int64_t lag = (int64_t)(hp_avg_vruntime(&rq) - se[k].vruntime);

					s->lag_checks++;
					T_CHECK_MSG(lag - vlag <= 4 && vlag - lag <= 4,
						    "op %ld: woke with lag %lld, slept with %lld", op,
						    (long long)lag, (long long)vlag);
				}
				if (hp_check_preempt_wakeup(&rq, &se[k]))
					hp_pick_next_task(&rq);
			}
		} else if (r < 85) {
			if (state[k] == QUEUED) {
				int was_curr = rq.curr == &se[k];

				what = "dequeue sleep";
				hp_dequeue_entity(&rq, &se[k], HP_DEQUEUE_SLEEP);
				state[k] = ASLEEP;
				if (pol == HP_SCHED_EEVDF) {
					int64_t lim = (int64_t)hp_eevdf_lag_limit(&rq, &se[k]);

					T_CHECK_MSG(se[k].vlag >= -lim && se[k].vlag <= lim,
						    "op %ld: lag %lld outside +-%lld", op,
						    (long long)se[k].vlag, (long long)lim);
					if (se[k].vlag == lim || se[k].vlag == -lim)
						s->clamps++;
				}
				if (was_curr)
					hp_pick_next_task(&rq);
			}
		} else if (r < 92) {
			/* leave and come back without sleeping (a migration, CFS
			 * keeps the vruntime relative meanwhile) */
			if (state[k] == QUEUED && rq.curr != &se[k]) {
				what = "dequeue+enqueue";
				hp_dequeue_entity(&rq, &se[k], 0);
				if (check_rq(&rq, what, op, &minv))
					break;
				hp_enqueue_entity(&rq, &se[k], 0);
			}
		} else {
			if (!rq.curr && rq.nr_running) {
				what = "idle pick";
				hp_pick_next_task(&rq);
			}
		}
		if (check_rq(&rq, what, op, &minv))
			break;
	}
}

static void test_sequences(void)
{
	static const uint64_t bases[] = {
		(uint64_t)-(INT64_C(1) << 20),          /* the kernel's start: wraps after 1 ms */
		(UINT64_C(1) << 63) - (UINT64_C(1) << 20), /* crosses the sign bit */
		0,
	};
	for (int p = 0; p < 2; p++) {
		seqstats_t s = { 0 };

		for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++)
			for (uint64_t seed = 1; seed <= 4; seed++)
				sequence(p ? HP_SCHED_EEVDF : HP_SCHED_CFS, bases[b], seed * 7919 + b, 30000, &s);
		printf("%s: %ld ops checked, %ld picks, %ld tick switches, %ld lags checked on wakeup,"
		       " %ld clamped\n", p ? "eevdf" : "cfs", s.ops, s.picks, s.switches, s.lag_checks,
		       s.clamps);
		if (p) {
			T_CHECK(s.lag_checks > 1000);
			/* the long runs must have pushed some lag into the clamp */
			T_CHECK(s.clamps > 10);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Picks                                                               */
/* ------------------------------------------------------------------ */

/* EEVDF's pick, compared with a brute-force search over all entities:
 * the eligible one with the earliest deadline. */
static void test_eevdf_pick_bruteforce(void)
{
	hp_sched_tunables_t tun;
	hp_cfs_rq_t rq;
	enum { N = 300 };
	static hp_sched_entity_t se[N];
	long checked = 0;

	rng_state = 42;
	hp_sched_tunables_init(&tun, 1, 250);
	for (int round = 0; round < 50; round++) {
		hp_cfs_rq_init(&rq, HP_SCHED_EEVDF, &tun);
		int n = 1 + (int)rnd_below(N);

		for (int i = 0; i < n; i++) {
			hp_se_init(&se[i], (int)rnd_below(40) - 20, (uint32_t)i);
			se[i].vlag = (int64_t)rnd_below(8000000) - 4000000;
			hp_enqueue_entity(&rq, &se[i], HP_ENQUEUE_WAKEUP);
		}
		for (int step = 0; step < 40; step++) {
			hp_sched_entity_t *best = NULL, *got;

			/* the running entity goes back first, so that the whole
			 * queue is in the tree (pick_next_task_fair's simple path) */
			if (rq.curr)
				hp_put_prev_entity(&rq, rq.curr);
			for (int i = 0; i < n; i++) {
				if (!se[i].on_rq || !hp_entity_eligible(&rq, &se[i]))
					continue;
				if (!best || (int64_t)(se[i].deadline - best->deadline) < 0)
					best = &se[i];
			}
			got = hp_pick_next_entity(&rq);
			T_CHECK(got != NULL && best != NULL);
			/* ties in deadline may pick either */
			T_CHECK_MSG(got && best && got->deadline == best->deadline,
				    "round %d step %d: picked %u (deadline %llu), best %u (%llu)", round, step,
				    got ? got->id : 0, got ? (unsigned long long)got->deadline : 0ULL,
				    best ? best->id : 0, best ? (unsigned long long)best->deadline : 0ULL);
			checked++;
			if (!got)
				break;
			hp_set_next_entity(&rq, got);
			/* RUN_TO_PARITY: right after the pick, the running entity
			 * is what a pick returns while it stays eligible */
			if (hp_entity_eligible(&rq, got))
				T_CHECK(hp_pick_next_entity(&rq) == got);
			rq.clock += rnd_below(3000000);
			hp_update_curr(&rq);
		}
	}
	printf("eevdf pick: %ld picks match a brute-force search\n", checked);
}

/* Every variant, baseline or not, runs the leftmost: after each switch the
 * running entity has the smallest vruntime of the queue (brute force). */
static void test_baselines(void)
{
	const hp_rq_ops_t *ops[] = { &hp_sched_cfs_ops, &hp_sched_heap_ops, &hp_sched_slist_ops,
				     &hp_sched_bsd_ops };
	hp_sched_tunables_t tun;
	enum { N = 200, OPS = 20000 };

	hp_sched_tunables_init(&tun, 1, 250);
	for (int v = 0; v < 4; v++) {
		if (ops[v]->available && ops[v]->available()) {
			printf("%s: %s\n", ops[v]->name, ops[v]->available());
			continue;
		}
		char *mem = calloc(N, ops[v]->se_size);
		void *rq = ops[v]->create(&tun, N);
		uint64_t clock = 0;
		long picks = 0, bad = 0;

#define SE(i) ((hp_sched_entity_t *)(mem + (size_t)(i) * ops[v]->se_size))
		rng_state = 5;
		for (int i = 0; i < N; i++) {
			hp_se_init(SE(i), (int)rnd_below(11) - 5, (uint32_t)i);
			ops[v]->enqueue(rq, SE(i), HP_ENQUEUE_INITIAL);
		}
		ops[v]->pick_next(rq);
		for (int i = 0; i < OPS; i++) {
			hp_sched_entity_t *se = SE(rnd_below(N)), *c;

			clock += rnd_below(1000000);
			ops[v]->set_clock(rq, clock);
			if (se != ops[v]->curr(rq) && rnd_below(2)) {
				ops[v]->dequeue(rq, se, HP_DEQUEUE_SLEEP);
				ops[v]->enqueue(rq, se, HP_ENQUEUE_WAKEUP);
			}
			if (!ops[v]->tick(rq) && rnd_below(4))
				continue;
			c = ops[v]->pick_next(rq);
			picks++;
			for (int k = 0; k < N; k++)
				if (SE(k) != c && SE(k)->on_rq && hp_vruntime_before(SE(k)->vruntime, c->vruntime))
					bad++;
		}
#undef SE
		ops[v]->destroy(rq);
		free(mem);
		T_CHECK_MSG(bad == 0 && picks > 1000, "%s: %ld of %ld picks were not the leftmost",
			    ops[v]->name, bad, picks);
	}
}

int main(void)
{
	test_tables();
	test_calc_delta();
	test_wrap();
	test_sequences();
	test_eevdf_pick_bruteforce();
	test_baselines();
	return t_done("test_sched_rq");
}
