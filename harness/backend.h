/* backend.h — what a measuring backend is given and what it hands back.
 *
 * The runner plans jobs (one suite/case/variant/param/threads each) and
 * gives every job to one backend together with the run environment (CPUs,
 * profile, seed, metric). A backend builds the case's hp_ctx_t from them
 * (hp_job_ctx), measures, and appends to an hp_results_t: zero or more
 * records (one per metric and repetition) and exactly one status. That one
 * status is the contract the runner counts on; every early return of a
 * backend sets it.
 *
 * Backends:
 *   gbench     time, in this process, through Google Benchmark (gbench.h)
 *   perf       hardware counters, in this process, one thread
 *   callgrind  instruction counts, in a child under valgrind
 *   child      any metric, in a child process with the variant's own
 *              environment (LD_PRELOAD variants, cases with partners);
 *              also the other end: `hotpath __child` (hp_child_main)
 */
#ifndef HP_BACKEND_H
#define HP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "hp.h"
#include "record.h"
#include "runner.h"
#include "topo.h"

/* Room for "suite/case/variant/param"; the planner refuses longer names
 * (hp_job_name returns -1), so later formatting never cuts one short. */
#define HP_JOB_NAME_MAX 256

/* One benchmark of the plan. */
typedef struct hp_job {
	const hp_suite_t *s;
	const hp_case_t *c;
	const hp_variant_t *v;
	const hp_param_t *p;    /* never NULL: hp_param_none for cases without params */
	int threads;
} hp_job_t;

/* What every job of a run shares. */
typedef struct hp_runenv {
	hp_topo_t *topo;
	int cpus[HP_MAX_CPUS];
	int ncpus;
	uint64_t seed;
	const hp_profile_t *prof;
	int reps;
	hp_metric_t metric;
} hp_runenv_t;

/* A backend: measures job j and appends its records and one status. */
typedef void (*hp_backend_fn)(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out);

void hp_backend_gbench(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out);
void hp_backend_perf(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out);
void hp_backend_callgrind(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out);
void hp_backend_child(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out);

/* ---- shared by the backends (backend.c) ---- */

extern const hp_param_t hp_param_none;   /* the "-" point of a case without params */
int hp_case_nparams(const hp_case_t *c);
const hp_param_t *hp_case_param(const hp_case_t *c, int i);

/* "suite/case/variant/param" into buf; -1 when it does not fit in len. */
int hp_job_name(const hp_job_t *j, char *buf, size_t len);

/* The context a case sees for job j. Its bind_cpu binds through re->topo,
 * which becomes the topology of every later bind (one run, one topology). */
void hp_job_ctx(const hp_runenv_t *re, const hp_job_t *j, hp_ctx_t *ctx);

/* One record of job j: metric, unit "<prefix>/<per>" (or just prefix). */
void hp_emit(hp_results_t *out, const hp_job_t *j, const char *cpus, const char *metric,
	     const char *unit_prefix, const char *per, int rep, double value);
/* Job j's status; fmt may be NULL (no message). */
void hp_set_status(hp_results_t *out, const hp_job_t *j, hp_metric_t m,
		   hp_status_kind_t st, double secs, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* '+'-joined CPU numbers ("1+0"), the form of the record's cpus column. */
size_t hp_cpus_string(const int *cpus, int n, char *buf, size_t len);
const char *hp_job_op_unit(const hp_job_t *j);

/* State ops that measure nothing (warm-up). With st->backend set to a
 * char[256], a skip keeps its reason there. */
extern const hp_state_ops_t hp_nop_ops;
/* Pieces for backends that have no use for them. */
void hp_nop_time(hp_state_t *st, double s);
void hp_nop_counter(hp_state_t *st, const char *name, double v);
void hp_drop_skip(hp_state_t *st, const char *msg);

/* Runs the case untimed for about `seconds` (at least once); *n_out gets
 * the last batch size. Returns 0, or -1 when the case skipped itself (msg
 * says why). */
int hp_warm_up(const hp_job_t *j, hp_ctx_t *ctx, double seconds, uint64_t *n_out,
	       char *msg, size_t msglen);

/* ---- the callgrind backend's in-child half (backend_callgrind.c) ---- */

/* In the valgrind child: counts n and 2n iterations in two dumps. Returns 0,
 * -1 failed or -2 skipped (msg says why). */
int hp_callgrind_count(const hp_runenv_t *re, const hp_job_t *j, char *msg, size_t len);

/* ---- child processes (backend_child.c) ---- */

/* Remembers the CPU set before the runner binds anything: children start
 * from it and so see the CPUs the runner was allowed. Call before binding. */
void hp_child_save_affinity(void);

/* Runs job j as `hotpath __child` in a child process, its command line
 * prefixed by `wrapper` (NULL-terminated, e.g. valgrind and its options;
 * NULL for none), with the variant's environment entry and `extra_env`
 * (NULL for none). The child's records and statuses go to *got; *pid and
 * *wait_status describe how it ended. Returns the number of statuses the
 * child wrote, or -1 when it could not be started (status set in out). */
int hp_child_spawn(const hp_runenv_t *re, const hp_job_t *j, const char *const *wrapper,
		   const char *extra_env, hp_results_t *got, int *pid, int *wait_status,
		   hp_results_t *out);

/* Sets a failed status in out when the child died or wrote no status; then
 * returns 1, else 0. */
int hp_child_ended_badly(const hp_runenv_t *re, const hp_job_t *j, int nst, int wait_status,
			 double secs, hp_results_t *out);

#endif
