/* sim_closest.h — which models a fidelity measurement cannot tell apart: the "closest set" by pairwise dominance over paired runs (bench/sched.c's fidelity case, docs/suites/sched.md "Fidelity").
 *
 * Input: per model and per measured run, the model's distance from that
 * run (smaller is closer). Every model is compared with the same runs, so
 * the comparison is paired: run k's draw (the load on the machine, the
 * tick's phase) is the same for both models.
 *
 * Rule: model a beats model b when a's distance is strictly smaller than
 * b's in every run. A run where either distance is NAN (no latencies
 * measured) is one a does not win, so it protects b; equal distances do not
 * beat either. The closest set is the set of models no other model beats;
 * a model with no finite distance at all is left out of it.
 *
 * Weakness: with R runs a model is excluded only when it loses all R, so
 * of two models that predict equally well, pure noise excludes a given one
 * with probability (1/2)^R (it loses every run): 1/8 for R = 3, and one or
 * the other with 1/4. The set says "the measurement cannot tell these
 * apart", not "these are equally good".
 *
 * No kernel counterpart. Cost: O(M^2 * R) comparisons for M models.
 */
#ifndef HP_SIM_CLOSEST_H
#define HP_SIM_CLOSEST_H

#include <math.h>

/* Whether the model with run distances a[0..nruns-1] beats the one with
 * b[0..nruns-1] (see the rule above); 0 when nruns is 0. O(nruns). */
static inline int hp_closest_beats(const double *a, const double *b, int nruns)
{
	int won = 0;

	for (int k = 0; k < nruns; k++) {
#ifdef HP_SIM_MUTATE_CLOSEST_ANY_RUN
		/* mutant: "beaten in any run" */
		if (a[k] < b[k])
			return 1;
#elif defined HP_SIM_MUTATE_CLOSEST_TIE_BEATS
		/* mutant: an equal distance wins */
		if (!(a[k] <= b[k]))
			return 0;
		won++;
#else
		if (!(a[k] < b[k]))     /* NAN compares false: not a win */
			return 0;
		won++;
#endif
	}
	return won > 0;
}

/* The closest set of nmodels models over nruns runs: dist holds model m's
 * distance from run k at dist[m * nruns + k]. Sets in_set[m] to 1 for the
 * models in the set, 0 for the others; returns the set's size (0 when no
 * model has a finite distance). O(nmodels^2 * nruns). */
static inline int hp_closest_set(const double *dist, int nmodels, int nruns, int *in_set)
{
	int size = 0;

	for (int b = 0; b < nmodels; b++) {
		int any = 0;

		for (int k = 0; k < nruns; k++)
			any |= isfinite(dist[b * nruns + k]);
		in_set[b] = any;
		for (int a = 0; a < nmodels && in_set[b]; a++)
			if (a != b && hp_closest_beats(dist + a * nruns, dist + b * nruns, nruns))
				in_set[b] = 0;
		size += in_set[b];
	}
	return size;
}

#endif
