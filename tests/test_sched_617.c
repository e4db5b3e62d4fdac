/* test_sched_617.c — eevdf-6.17's update_curr() against eevdf-6.12's on a
 * queue built by hand: from Linux 6.17 ("sched/fair: Always trigger resched
 * at the end of a protected period") the running entity is rescheduled as
 * soon as its protection (vprot) has passed, even while it is still
 * eligible; 6.12 reschedules an unprotected running entity only once it is
 * not eligible, and protects it up to its deadline.
 *
 * The queue: X and Y (nice 0, the base slice) and S (nice 0, a 100 µs
 * custom slice). S runs first for 1 ms and goes to sleep ineligible, so it
 * stays queued, delayed (6.12+), with its short slice. The next pick is X or
 * Y; under 6.17 its protection reaches only 100 µs of its run (the shortest
 * queued slice, S's). After 200 µs of run the picked entity is still
 * eligible (S's 1 ms keeps the average ahead of it) and before its deadline:
 * 6.17 must ask for a reschedule, 6.12 must not.
 *
 * And the wake-up rule ("sched/fair: Remove spurious shorter slice
 * preemption", 6.17): protected_after_short_wakeup() below.
 *
 * Mutants (should fail): fair.c built with
 * -DHP_SCHED_MUTATE_617_RESCHED_NEEDS_INELIGIBLE (6.17 keeps 6.12's
 * update_curr rule) and with -DHP_SCHED_MUTATE_617_SHORT_CANCELS (6.17
 * keeps 6.12's wake-up rule). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "fair.h"

static int fails;

#define CHECK(c, ...)                                                    \
	do {                                                             \
		if (!(c)) {                                              \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                    \
			fputc('\n', stderr);                             \
			fails++;                                         \
		}                                                        \
	} while (0)

static int check_rq(const hp_cfs_rq_t *rq, const char *what)
{
	char err[256];

	if (hp_cfs_rq_check(rq, err, sizeof err)) {
		fprintf(stderr, "FAIL: %s: %s\n", what, err);
		fails++;
		return -1;
	}
	return 0;
}

/* Returns hp_update_curr()'s answer after 200 µs of the second pick's run,
 * or -1 when the set-up did not come out as the comment above says. */
static int resched_after_vprot(hp_sched_policy_t p)
{
	hp_sched_tunables_t tun;
	hp_cfs_rq_t rq;
	hp_sched_entity_t x, y, s, *cur;
	const char *name = hp_sched_policy_name(p);
	uint64_t t = 1000;

	hp_sched_tunables_init(&tun, 1, 250);
	hp_cfs_rq_init(&rq, p, &tun);
	hp_se_init(&s, 0, 3);
	hp_se_set_slice(&s, 100000);
	hp_se_init(&x, 0, 1);
	hp_se_init(&y, 0, 2);
	hp_cfs_rq_set_clock(&rq, t);
	hp_enqueue_entity(&rq, &s, HP_ENQUEUE_INITIAL);
	hp_enqueue_entity(&rq, &x, HP_ENQUEUE_INITIAL);
	hp_enqueue_entity(&rq, &y, HP_ENQUEUE_INITIAL);
	/* S first: the earliest deadline (half of its 100 µs slice) */
	cur = hp_pick_next_task(&rq);
	CHECK(cur == &s, "%s: the first pick is not S (id %u)", name, cur ? cur->id : 0);
	if (cur != &s)
		return -1;
	t += 1000000;                           /* S runs 1 ms */
	hp_cfs_rq_set_clock(&rq, t);
	hp_update_curr(&rq);
	hp_dequeue_entity(&rq, &s, HP_DEQUEUE_SLEEP);
	CHECK(s.on_rq && s.sched_delayed, "%s: S went to sleep ineligible but is not delayed", name);
	cur = hp_pick_next_task(&rq);
	CHECK(cur == &x || cur == &y, "%s: the second pick is not X or Y", name);
	if (check_rq(&rq, name) || (cur != &x && cur != &y) || !s.on_rq)
		return -1;
	t += 200000;                            /* X or Y runs 200 µs */
	hp_cfs_rq_set_clock(&rq, t);
	{
		int r = hp_update_curr(&rq);

		CHECK(hp_entity_eligible(&rq, cur), "%s: the running entity is not eligible after 200 µs", name);
		CHECK(hp_vruntime_before(cur->vruntime, cur->deadline),
		      "%s: the running entity passed its deadline in 200 µs", name);
		check_rq(&rq, name);
		return r;
	}
}

/* The wake-up rule. Z (new), then X and Y woken with positive lag (1 and
 * 1.5 ms of virtual time): X is picked (the earliest deadline then) and
 * protected to its deadline; Y, woken with the same slice, does not preempt
 * the protected X though its deadline is earlier. Then W, with a 100 µs
 * slice and no lag: eligible, its deadline before X's but after Y's. 6.12
 * cancels X's protection (W eligible with an earlier deadline) even though
 * the pick is Y, not W; 6.17 picks without the protection, finds Y, and
 * only shortens it to 100 µs of X's run. Neither preempts. Returns 1 when
 * X is still protected afterwards, 0 when not, -1 on a set-up that did not
 * come out as described. */
static int protected_after_short_wakeup(hp_sched_policy_t p)
{
	hp_sched_tunables_t tun;
	hp_cfs_rq_t rq;
	hp_sched_entity_t x, y, z, w, *cur;
	const char *name = hp_sched_policy_name(p);
	int prot;

	hp_sched_tunables_init(&tun, 1, 250);
	hp_cfs_rq_init(&rq, p, &tun);
	hp_se_init(&z, 0, 0);
	hp_se_init(&x, 0, 1);
	hp_se_init(&y, 0, 2);
	hp_se_init(&w, 0, 3);
	hp_se_set_slice(&w, 100000);
	hp_cfs_rq_set_clock(&rq, 1000);
	hp_enqueue_entity(&rq, &z, HP_ENQUEUE_INITIAL);
	x.vlag = 1000000;
	hp_enqueue_entity(&rq, &x, HP_ENQUEUE_WAKEUP);
	cur = hp_pick_next_task(&rq);
	CHECK(cur == &x, "%s: the first pick is not X", name);
	if (cur != &x)
		return -1;
	y.vlag = 1500000;
	hp_enqueue_entity(&rq, &y, HP_ENQUEUE_WAKEUP);
	CHECK(hp_vruntime_before(y.deadline, x.deadline), "%s: Y's deadline is not before X's", name);
	CHECK(!hp_check_preempt_wakeup(&rq, &y), "%s: Y preempted the protected X", name);
	hp_enqueue_entity(&rq, &w, HP_ENQUEUE_WAKEUP);
	CHECK(hp_entity_eligible(&rq, &w) && hp_entity_eligible(&rq, &x) && hp_entity_eligible(&rq, &y),
	      "%s: X, Y and W should all be eligible", name);
	CHECK(hp_vruntime_before(w.deadline, x.deadline) && hp_vruntime_before(y.deadline, w.deadline),
	      "%s: W's deadline should lie between Y's and X's", name);
	CHECK(!hp_check_preempt_wakeup(&rq, &w), "%s: W preempted, but the earliest eligible deadline is Y's", name);
	if (check_rq(&rq, name))
		return -1;
	if (p >= HP_SCHED_EEVDF_6_17) {
		prot = (int64_t)(x.vprot - x.vruntime) > 0;
		CHECK(!prot || x.vprot - x.vruntime <= hp_calc_delta_fair(100000, &x),
		      "%s: X's protection was not shortened to W's slice", name);
	} else {
		prot = (uint64_t)x.vlag == x.deadline;
	}
	return prot;
}

int main(void)
{
	int r12 = resched_after_vprot(HP_SCHED_EEVDF_6_12), r17 = resched_after_vprot(HP_SCHED_EEVDF_6_17);
	int p12 = protected_after_short_wakeup(HP_SCHED_EEVDF_6_12);
	int p17 = protected_after_short_wakeup(HP_SCHED_EEVDF_6_17);

	CHECK(p12 == 0, "eevdf-6.12: a shorter-slice wakee with an earlier deadline did not cancel the protection (%d)",
	      p12);
	CHECK(p17 == 1, "eevdf-6.17: a shorter-slice wakee that is not the pick cancelled the protection (%d)", p17);

	CHECK(r12 == 0, "eevdf-6.12: update_curr asked for a reschedule of an eligible, protected entity (%d)", r12);
	CHECK(r17 == 1, "eevdf-6.17: update_curr did not reschedule once vprot (100 µs) had passed (%d)", r17);
	if (fails) {
		fprintf(stderr, "%d failure(s)\n", fails);
		return 1;
	}
	printf("ok: 6.17 reschedules at vprot while eligible, 6.12 keeps the protection to the deadline;"
	       " a shorter-slice wakee that is not the pick cancels the protection under 6.12 only\n");
	return 0;
}
