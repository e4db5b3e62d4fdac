/* rundir.h — the run folder: its creation and the files the runner keeps
 * up to date in it after every benchmark. */
#ifndef HP_RUNDIR_H
#define HP_RUNDIR_H

#include <stddef.h>
#include <json-c/json.h>

#include "record.h"

/* Creates out/<YYYYmmdd-HHMMSS>-<host> (and out itself), never reusing an
 * existing folder; its path goes to dir. 0, or -1 with err. */
int hp_make_run_dir(const char *out, char *dir, size_t len, char *err, size_t errlen);

/* results.csv, results.json (with env as its context) and summary.md (with
 * note; complete 0 while the run goes on or after it stopped early) in dir.
 * All three are written to staging names first and renamed only when all
 * three were written, so they always hold the same benchmarks: on the first
 * write error the previous three stay as they were and no staging file is
 * left. summary.md gets each suite's own lines (hp_suite_t.summary) from
 * `suites` (NULL: none). 0, or -1 with err naming the file (its final name)
 * and the reason. */
int hp_write_outputs(const char *dir, const hp_results_t *r, struct json_object *env,
		     const char *note, int complete, const struct hp_suite *const *suites,
		     char *err, size_t errlen);

/* Appends msg to env's "warnings" array (created when missing). */
void hp_env_warn(struct json_object *env, const char *msg);

#endif
