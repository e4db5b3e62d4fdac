/* test_sched_closest.c — the fidelity case's closest set (impl/sched/sim_closest.h) on known samples: a clear winner, an overlapping pair, a model beaten in every run, a model beaten in some runs only, ties, missing runs. Built again with HP_SIM_MUTATE_CLOSEST_ANY_RUN ("beaten in any run") and HP_SIM_MUTATE_CLOSEST_TIE_BEATS ("an equal distance beats"), each of which must fail. */
#include <math.h>

#include "sim_closest.h"
#include "t_util.h"

#define R 3

/* The set of n models with run distances d (n x R), as a bit mask; its size in *size. */
static unsigned set_of(const double d[][R], int n, int *size)
{
	int in[8];
	unsigned mask = 0;

	*size = hp_closest_set(&d[0][0], n, R, in);
	for (int m = 0; m < n; m++)
		mask |= (unsigned)(in[m] != 0) << m;
	return mask;
}

#define CHECK_SET(d, n, want_mask) do { \
	int size_; \
	unsigned got_ = set_of(d, n, &size_); \
	T_CHECK_MSG(got_ == (want_mask) && size_ == __builtin_popcount(want_mask), \
		    "set 0x%x (size %d), want 0x%x", got_, size_, (unsigned)(want_mask)); \
} while (0)

int main(void)
{
	/* a clear winner: model 0 closer than both others in every run */
	const double clear[][R] = { { 10, 20, 30 }, { 100, 200, 300 }, { 50, 60, 70 } };
	CHECK_SET(clear, 3, 0x1);

	/* an overlapping pair (as eevdf-6.6 and 6.12 on `interactive`): each
	 * wins some run, so neither is beaten; the far model (cfs) loses every
	 * run to both and is out */
	const double pair[][R] = { { 2100, 3800, 2500 }, { 67, 1011, 500 }, { 122, 972, 400 } };
	CHECK_SET(pair, 3, 0x6);

	/* beaten in two runs of three is not beaten: the paired rule needs all */
	const double some[][R] = { { 1, 2, 9 }, { 2, 3, 1 } };
	CHECK_SET(some, 2, 0x3);
	/* beaten in every run, by a model that is itself beaten: still out */
	const double chain[][R] = { { 3, 3, 3 }, { 2, 2, 2 }, { 1, 1, 1 } };
	CHECK_SET(chain, 3, 0x4);
	T_CHECK(hp_closest_beats(chain[2], chain[0], R) && !hp_closest_beats(chain[0], chain[2], R));

	/* ties: equal distances do not beat, in one run or in all */
	const double tie_all[][R] = { { 5, 5, 5 }, { 5, 5, 5 } };
	CHECK_SET(tie_all, 2, 0x3);
	const double tie_one[][R] = { { 5, 6, 7 }, { 5, 7, 8 }, { 9, 9, 9 } };
	CHECK_SET(tie_one, 3, 0x3);
	T_CHECK(!hp_closest_beats(tie_all[0], tie_all[1], R) && !hp_closest_beats(tie_one[0], tie_one[1], R));

	/* a model is not compared with itself: one model is its own set */
	const double one[][R] = { { 42, 43, 44 } };
	CHECK_SET(one, 1, 0x1);

	/* missing runs: a model with no distance is out and beats nobody; a
	 * run where one of two is missing is a run the other does not win */
	const double miss[][R] = { { NAN, NAN, NAN }, { 5, 6, 7 }, { 1, 2, NAN }, { 9, 9, 9 } };
	CHECK_SET(miss, 4, 0x6);
	const double none[][R] = { { NAN, NAN, NAN }, { NAN, NAN, NAN } };
	CHECK_SET(none, 2, 0x0);
	T_CHECK(!hp_closest_beats(clear[0], clear[1], 0));

	return t_done("test_sched_closest");
}
