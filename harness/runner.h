/* runner.h — runs a plan of benchmarks (suite -> case -> variant -> param ->
 * threads) on pinned CPUs and writes the results folder. The measuring
 * backends behind it are described in backend.h. */
#ifndef HP_RUNNER_H
#define HP_RUNNER_H

#include <stdint.h>
#include "hp.h"
#include "topo.h"

typedef enum { HP_METRIC_TIME, HP_METRIC_INSTRUCTIONS, HP_METRIC_PERF, HP_METRIC_CACHE } hp_metric_t;
/* instructions and cache both count under callgrind (backend_callgrind.c) */
#define HP_METRIC_CALLGRIND(m) ((m) == HP_METRIC_INSTRUCTIONS || (m) == HP_METRIC_CACHE)

/* Repetitions, minimum time per repetition and warm-up of a profile. */
typedef struct hp_profile {
	const char *name;
	int reps;
	double min_time_s;      /* Google Benchmark's minimum time per repetition */
	double warmup_s;        /* untimed run before the first repetition */
	uint64_t count_iters;   /* iterations of an instructions / perf count (N; 2N also runs) */
} hp_profile_t;

extern const hp_profile_t hp_profiles[];  /* smoke, quick, full; NULL-terminated by name */
const hp_profile_t *hp_profile_find(const char *name);

typedef struct hp_run_opts {
	const char *suites;     /* comma list, NULL = every suite */
	const char *filter;     /* POSIX ERE on "suite/case/variant/param", or NULL */
	const char *cpus_spec;  /* "auto" or a list */
	const hp_profile_t *profile;
	int reps;               /* 0 = the profile's */
	uint64_t seed;
	hp_metric_t metric;
	const char *out;        /* parent of the run folder */
	int no_plots;
	int quiet;
	const char *command_line;
	char *dir_out;          /* if set, gets the run folder (dir_len bytes) once made */
	size_t dir_len;
} hp_run_opts_t;

/* `hotpath run`: returns the exit code (0, 1 when a benchmark failed, 2 bad
 * input, 130 interrupted, 99 internal error). Prints the run folder. */
int hp_run(const hp_run_opts_t *o);

/* Hidden `hotpath __child ...`: runs one benchmark in this process (started
 * by the runner with its own environment, or under valgrind) and writes
 * its records and status as JSON lines to the fd given by --fd. */
int hp_child_main(int argc, char **argv);

/* Limits of a --filter, checked before regcomp (whose recursion and
 * copies of bounded repetitions are otherwise unbounded). */
#define HP_FILTER_MAX_LEN 256
#define HP_FILTER_MAX_DEPTH 8
#define HP_FILTER_MAX_SIZE 10000
/* 0 when re is within those limits, else -1 with err naming the limit. */
int hp_filter_check(const char *re, char *err, size_t errlen);

const char *hp_metric_name(hp_metric_t m);
int hp_metric_parse(const char *s, hp_metric_t *m);

/* Fills out[] (room for max entries, the last one the NULL terminator) with
 * the suites of the comma list (every suite when list is NULL; "" and ","
 * are errors),
 * each once, in the order given. Returns how many, or -1 with err: an
 * unknown suite (the message lists the valid ones), an empty list, or more
 * suites than max - 1 (the message names that limit). */
int hp_select_suites(const char *list, const hp_suite_t **out, int max,
		     char *err, size_t errlen);

#endif
