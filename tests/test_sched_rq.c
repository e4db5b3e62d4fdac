/* test_sched_rq.c — CFS/EEVDF run queue by kernel version: weight tables, fixed-point scaling, policy names and releases, the run-queue checker after every operation of long seeded random sequences (delayed dequeue included), EEVDF lag, vruntime wrap-around, and pick_eevdf against a brute-force oracle of each version with the running entity on and off the tree. */
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
	long ops, clamps, lag_checks, picks, switches, delayed, delayed_woken;
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
				int had = rq.nr_running > 0, was_delayed = se[k].sched_delayed;

				/* 6.12+: some sleepers get custom slices */
				if (!se[k].on_rq && rnd_below(4) == 0)
					hp_se_set_slice(&se[k], rnd_below(4) ? 0 : 50000 + rnd_below(5000000));
				s->delayed_woken += was_delayed;

				what = "wakeup";
				hp_enqueue_entity(&rq, &se[k], HP_ENQUEUE_WAKEUP);
				state[k] = QUEUED;
				/* PLACE_LAG: once in, its lag is the one it slept with */
				if (hp_sched_is_eevdf(pol) && had && !was_delayed) {
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
				int left = hp_dequeue_entity(&rq, &se[k], HP_DEQUEUE_SLEEP);
				state[k] = ASLEEP;
				T_CHECK_MSG(left == !se[k].sched_delayed && left == !se[k].on_rq,
					    "op %ld: dequeue returned %d, delayed %d, on_rq %d", op, left,
					    se[k].sched_delayed, se[k].on_rq);
				T_CHECK_MSG(left || pol >= HP_SCHED_EEVDF_6_12, "op %ld: %s delayed a dequeue", op,
					    hp_sched_policy_name(pol));
				/* delayed: only what was not eligible */
				if (!left) {
					s->delayed++;
					T_CHECK(!hp_entity_eligible(&rq, &se[k]));
				}
				if (hp_sched_is_eevdf(pol) && left) {
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
	for (int p = 0; p < HP_SCHED_NPOLICIES; p++) {
		seqstats_t s = { 0 };

		for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++)
			for (uint64_t seed = 1; seed <= 4; seed++)
				sequence((hp_sched_policy_t)p, bases[b], seed * 7919 + b, 30000, &s);
		printf("%s: %ld ops checked, %ld picks, %ld tick switches, %ld lags checked on wakeup,"
		       " %ld clamped, %ld dequeues delayed (%ld woken while delayed)\n",
		       hp_sched_policy_name((hp_sched_policy_t)p), s.ops, s.picks, s.switches, s.lag_checks,
		       s.clamps, s.delayed, s.delayed_woken);
		if (hp_sched_is_eevdf((hp_sched_policy_t)p)) {
			T_CHECK(s.lag_checks > 1000);
			/* the long runs must have pushed some lag into the clamp */
			T_CHECK(s.clamps > 10);
		}
		if (p >= HP_SCHED_EEVDF_6_12)
			T_CHECK(s.delayed > 1000 && s.delayed_woken > 100);
	}
}

/* ------------------------------------------------------------------ */
/* Picks                                                               */
/* ------------------------------------------------------------------ */

/* The brute-force side of the oracle: eligibility from the definition,
 * sum(w_i * (v_i - v0)) >= (v - v0) * sum(w_i) over every queued entity,
 * the running one included while queued (128-bit, no running sums). */
static int bf_eligible(const hp_cfs_rq_t *rq, const hp_sched_entity_t *se, int n, const hp_sched_entity_t *all)
{
	__int128 sum = 0, load = 0;

	for (int i = 0; i < n; i++) {
		if (!all[i].on_rq)
			continue;
		sum += (__int128)(int64_t)(all[i].vruntime - rq->min_vruntime) * (__int128)all[i].load.weight;
		load += all[i].load.weight;
	}
	return sum >= (__int128)(int64_t)(se->vruntime - rq->min_vruntime) * load;
}

/* RUN_TO_PARITY's protection as each version states it. */
static int bf_protected(hp_sched_policy_t pol, const hp_sched_entity_t *c)
{
	if (pol >= HP_SCHED_EEVDF_6_17)
		return (int64_t)(c->vprot - c->vruntime) > 0;
	return (uint64_t)c->vlag == c->deadline;
}

/* 6.6's tie between the running entity and a queued one E with the same
 * (earliest) deadline: the walk down the vruntime tree keeps the running
 * entity when it meets E on its path, and takes E when E lies in the left
 * subtree of an eligible node (all of which is eligible: the best-left
 * branch). */
static int e_in_eligible_left(const hp_cfs_rq_t *rq, const hp_sched_entity_t *e, int n,
			      const hp_sched_entity_t *all)
{
	const hp_rb_node_t *c = &e->run_node, *p;

	for (p = hp_rb_parent(c); p; c = p, p = hp_rb_parent(p))
		if (p->left == c && bf_eligible(rq, hp_se_of(p), n, all))
			return 1;
	return 0;
}

typedef struct oracle_stats {
	long picks, curr_on, curr_off_queued, curr_asleep, protected, ties_curr, ties_tree, lone;
} oracle_stats_t;

/* What pick_eevdf() of the queue's version returns, from the definition:
 * candidates are the queued entities that are eligible (the running one
 * too while queued); the protected running entity first; 6.12+: a lone
 * entity without looking; else the earliest deadline, a tie between the
 * running entity and a queued one going as described above. */
static const hp_sched_entity_t *oracle_pick(const hp_cfs_rq_t *rq, int n, const hp_sched_entity_t *all,
					    oracle_stats_t *st)
{
	hp_sched_policy_t pol = rq->policy;
	const hp_sched_entity_t *curr = rq->curr, *best = NULL;

	if (pol >= HP_SCHED_EEVDF_6_12 && rq->nr_running == 1) {
		st->lone++;
		if (curr && curr->on_rq)
			return curr;
		for (int i = 0; i < n; i++)
			if (all[i].on_rq)
				return &all[i];
	}
	if (curr && (!curr->on_rq || !bf_eligible(rq, curr, n, all)))
		curr = NULL;
	if (curr && bf_protected(pol, curr)) {
		st->protected++;
		return curr;
	}
	for (int i = 0; i < n; i++) {
		const hp_sched_entity_t *se = &all[i];

		if (!se->on_rq || se == rq->curr || !bf_eligible(rq, se, n, all))
			continue;
		if (!best || (int64_t)(se->deadline - best->deadline) < 0)
			best = se;
	}
	if (curr && best && curr->deadline == best->deadline) {
		int tree_wins = pol >= HP_SCHED_EEVDF_6_12 || e_in_eligible_left(rq, best, n, all);

		if (tree_wins)
			st->ties_tree++;
		else
			st->ties_curr++;
		return tree_wins ? best : curr;
	}
	if (curr && (!best || (int64_t)(curr->deadline - best->deadline) < 0))
		return curr;
	return best;
}

/* pick_eevdf of every EEVDF version against oracle_pick(), with the running
 * entity in every state: running and queued (off the tree), running after
 * its dequeue (off the tree, not queued; 6.12+ maybe delayed), put back
 * into the tree (no running entity), and with its deadline made equal to
 * the best queued one's (ties) with its protection ended. Queued deadlines
 * are made distinct so that the oracle's answer is unique. */
static void test_eevdf_pick_oracle(hp_sched_policy_t pol)
{
	hp_sched_tunables_t tun;
	hp_cfs_rq_t rq;
	enum { N = 200 };
	static hp_sched_entity_t se[N];
	oracle_stats_t st = { 0 };
	long bad = 0;

	rng_state = 42 + (uint64_t)pol;
	hp_sched_tunables_init(&tun, 1, 250);
	for (int round = 0; round < 60 && bad < 5; round++) {
		int n = 1 + (int)rnd_below(round < 10 ? 4 : N);

		hp_cfs_rq_init(&rq, pol, &tun);
		for (int i = 0; i < n; i++) {
			hp_se_init(&se[i], (int)rnd_below(40) - 20, (uint32_t)i);
			if (rnd_below(3) == 0)
				hp_se_set_slice(&se[i], 100000 + rnd_below(6000000));
			se[i].vlag = (int64_t)rnd_below(8000000) - 4000000;
			rq.clock += 1 + rnd_below(1000); /* distinct placements */
			hp_enqueue_entity(&rq, &se[i], HP_ENQUEUE_WAKEUP);
		}
		hp_pick_next_task(&rq);
		for (int step = 0; step < 60 && bad < 5; step++) {
			int what = (int)rnd_below(10);
			const hp_sched_entity_t *want;
			hp_sched_entity_t *got, *c = rq.curr;

			if (what < 2 && c) {
				/* "curr on the tree": the running entity goes back */
				hp_put_prev_entity(&rq, c);
			} else if (what < 3 && c && c->on_rq && rq.nr_running > 1) {
				/* the running entity goes to sleep; it stays curr until the pick */
				hp_dequeue_entity(&rq, c, HP_DEQUEUE_SLEEP);
			} else if (what < 6 && c && c->on_rq && hp_se_of(rq.tasks.leftmost)) {
				/* a tie: curr's deadline set to the best queued eligible one's
				 * (curr is out of the tree, so no augment changes), protection off */
				hp_sched_entity_t *b = NULL;

				for (int i = 0; i < n; i++)
					if (se[i].on_rq && &se[i] != c && hp_entity_eligible(&rq, &se[i]) &&
					    (!b || (int64_t)(se[i].deadline - b->deadline) < 0))
						b = &se[i];
				if (b) {
					c->deadline = b->deadline;
					c->vlag = (int64_t)c->deadline + 1;
					c->vprot = c->vruntime;
				}
			} else if (what < 7 && c && c->on_rq) {
				/* protection ended, no tie */
				c->vlag = (int64_t)c->deadline + 1;
				c->vprot = c->vruntime;
			}
			if (rq.curr) {
				if (rq.curr->on_rq)
					st.curr_on++;
				else
					st.curr_asleep++;
			} else {
				st.curr_off_queued++;
			}
			/* distinct queued deadlines: a duplicate pair would make the
			 * answer depend on insertion order, which the oracle does not model */
			int dup = 0;
			for (int i = 0; i < n && !dup; i++)
				for (int j = i + 1; j < n && !dup; j++)
					dup = se[i].on_rq && se[j].on_rq && &se[i] != rq.curr && &se[j] != rq.curr &&
					      se[i].deadline == se[j].deadline;
			if (!dup && rq.nr_running) {
				want = oracle_pick(&rq, n, se, &st);
				got = hp_pick_next_entity(&rq);
				st.picks++;
				if (got != want) {
					bad++;
					fprintf(stderr, "%s round %d step %d (%s, %u queued): picked %d (deadline %llu),"
						" oracle %d (%llu); curr %d\n", hp_sched_policy_name(pol), round, step,
						rq.curr ? (rq.curr->on_rq ? "curr queued" : "curr asleep") : "no curr",
						rq.nr_running, got ? (int)got->id : -1,
						got ? (unsigned long long)got->deadline : 0ULL, want ? (int)want->id : -1,
						want ? (unsigned long long)want->deadline : 0ULL,
						rq.curr ? (int)rq.curr->id : -1);
				}
			}
			/* then a real switch, time passing, and sleepers back */
			hp_pick_next_task(&rq);
			rq.clock += rnd_below(3000000);
			hp_update_curr(&rq);
			for (int i = 0; i < n; i++)
				if ((!se[i].on_rq || se[i].sched_delayed) && rnd_below(3) == 0 && &se[i] != rq.curr) {
					hp_enqueue_entity(&rq, &se[i], HP_ENQUEUE_WAKEUP);
					if (hp_check_preempt_wakeup(&rq, &se[i]))
						hp_pick_next_task(&rq);
				}
			char err[256];
			if (hp_cfs_rq_check(&rq, err, sizeof err)) {
				fprintf(stderr, "%s: %s\n", hp_sched_policy_name(pol), err);
				bad++;
			}
		}
	}
	printf("%s pick oracle: %ld picks (curr queued %ld, curr asleep %ld, curr back in the tree %ld;"
	       " protected %ld, ties kept by curr %ld, ties to the tree %ld, lone %ld), %ld wrong\n",
	       hp_sched_policy_name(pol), st.picks, st.curr_on, st.curr_asleep, st.curr_off_queued,
	       st.protected, st.ties_curr, st.ties_tree, st.lone, bad);
	T_CHECK(bad == 0);
	/* every branch of the oracle was exercised */
	T_CHECK(st.picks > 2000 && st.curr_on > 300 && st.curr_asleep > 50 && st.curr_off_queued > 300);
	T_CHECK(st.protected > 50 && st.ties_tree > 50);
	if (pol == HP_SCHED_EEVDF_6_6)
		T_CHECK(st.ties_curr > 50);
	if (pol >= HP_SCHED_EEVDF_6_12)
		T_CHECK(st.lone > 0);
}

static void test_policy_names(void)
{
	hp_sched_policy_t p;

	for (int i = 0; i < HP_SCHED_NPOLICIES; i++)
		T_CHECK(hp_sched_policy_parse(hp_sched_policy_name((hp_sched_policy_t)i), &p) == 0 && (int)p == i);
	T_CHECK(hp_sched_policy_parse("cfs", &p) == 0 && p == HP_SCHED_CFS_6_1);
	T_CHECK(hp_sched_policy_parse("eevdf", &p) == 0 && p == HP_SCHED_EEVDF_6_17);
	T_CHECK(hp_sched_policy_parse("eevdf-6.7", &p) == -1 && hp_sched_policy_parse("", &p) == -1);
	static const struct { const char *rel; hp_sched_policy_t want; } rels[] = {
		{ "5.15.0-91-generic", HP_SCHED_CFS_6_1 }, { "6.1.0-13-amd64", HP_SCHED_CFS_6_1 },
		{ "6.5.13", HP_SCHED_CFS_6_1 }, { "6.6.8-arch1", HP_SCHED_EEVDF_6_6 },
		{ "6.11.0", HP_SCHED_EEVDF_6_6 }, { "6.12.9+bpo-amd64", HP_SCHED_EEVDF_6_12 },
		{ "6.16.1", HP_SCHED_EEVDF_6_12 }, { "6.17.0", HP_SCHED_EEVDF_6_17 },
		{ "6.18.44-fc-v1272", HP_SCHED_EEVDF_6_17 }, { "7.0.0", HP_SCHED_EEVDF_6_17 },
	};
	for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++)
		T_CHECK_MSG(hp_sched_policy_for_release(rels[i].rel, &p) == 0 && p == rels[i].want,
			    "%s gave %s", rels[i].rel, hp_sched_policy_name(p));
	T_CHECK(hp_sched_policy_for_release("linux", &p) == -1 && hp_sched_policy_for_release("6", &p) == -1);
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
#ifdef HP_SCHED_MUTATE_PICK_IGNORES_CURR
	/* the mutant build: only the oracle, which must fail */
	for (int p = HP_SCHED_EEVDF_6_6; p < HP_SCHED_NPOLICIES; p++)
		test_eevdf_pick_oracle((hp_sched_policy_t)p);
	return t_done("test_sched_rq (pick ignores curr: must fail)");
#endif
	test_tables();
	test_calc_delta();
	test_wrap();
	test_sequences();
	test_policy_names();
	for (int p = HP_SCHED_EEVDF_6_6; p < HP_SCHED_NPOLICIES; p++)
		test_eevdf_pick_oracle((hp_sched_policy_t)p);
	test_baselines();
	return t_done("test_sched_rq");
}
