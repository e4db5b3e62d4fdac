/* rundir.c — the run folder and the result files written into it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rundir.h"

int hp_make_run_dir(const char *out, char *dir, size_t len, char *err, size_t errlen)
{
	if (hp_mkdir_p(out) != 0) {
		snprintf(err, errlen, "--out: cannot create '%s': %s", out, strerror(errno));
		return -1;
	}
	char host[128] = "host", stamp[32];
	gethostname(host, sizeof host - 1);
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	/* a second run started in the same second gets -2, -3, ... */
	for (int k = 1; k < 1000; k++) {
		int n;
		if (k == 1)
			n = snprintf(dir, len, "%s/%s-%s", out, stamp, host);
		else
			n = snprintf(dir, len, "%s/%s-%s-%d", out, stamp, host, k);
		if (n < 0 || (size_t)n >= len) {
			snprintf(err, errlen, "--out: '%s' is too long for a run folder path (limit %zu characters)",
				 out, len - 1);
			return -1;
		}
		if (mkdir(dir, 0755) == 0)
			return 0;
		if (errno != EEXIST) {
			snprintf(err, errlen, "--out: cannot create a run folder in '%s': %s", out, strerror(errno));
			return -1;
		}
	}
	snprintf(err, errlen, "--out: too many run folders named %s-%s in '%s'", stamp, host, out);
	return -1;
}

/* The three result files must always describe the same benchmarks: each
 * is first written whole to a staging name (".<name>.new"), and only when
 * all three are written are they renamed over the previous ones. A write
 * error (a full disk) leaves the previous three in place, consistent with
 * each other, and no staging file behind. Renames within one folder need no
 * space; a failing rename is reported like a failing write. */
static const char *const out_names[] = { "results.csv", "results.json", "summary.md" };

static void stage_name(char *p, size_t len, const char *dir, const char *name)
{
	snprintf(p, len, "%s/.%s.new", dir, name);
}

int hp_write_outputs(const char *dir, const hp_results_t *r, struct json_object *env,
		     const char *note, int complete, const struct hp_suite *const *suites,
		     char *err, size_t errlen)
{
	char p[PATH_MAX], final[PATH_MAX];
	int i, rc;
	struct json_object *ctx = NULL;

	stage_name(p, sizeof p, dir, out_names[0]);
	if (hp_write_csv(p, r) != 0)
		goto fail;
	stage_name(p, sizeof p, dir, out_names[1]);
	/* results.json takes ownership of its context; env stays ours */
	json_object_deep_copy(env, &ctx, NULL);
	rc = hp_write_results_json(p, r, ctx);
	if (rc != 0)
		goto fail;
	stage_name(p, sizeof p, dir, out_names[2]);
	if (hp_write_summary_suites(p, r, note, complete, suites) != 0)
		goto fail;
	for (i = 0; i < 3; i++) {
		stage_name(p, sizeof p, dir, out_names[i]);
		snprintf(final, sizeof final, "%s/%s", dir, out_names[i]);
		if (rename(p, final) != 0)
			goto fail;
	}
	return 0;
fail:
	rc = errno;
	/* name the file the user knows, not the staging name */
	for (i = 0; i < 3; i++) {
		char sp[PATH_MAX];
		stage_name(sp, sizeof sp, dir, out_names[i]);
		if (!strcmp(sp, p))
			snprintf(p, sizeof p, "%s/%s", dir, out_names[i]);
		unlink(sp);
	}
	snprintf(err, errlen, "cannot write %s: %s", p, strerror(rc));
	errno = rc;
	return -1;
}

void hp_env_warn(struct json_object *env, const char *msg)
{
	struct json_object *w;
	if (!json_object_object_get_ex(env, "warnings", &w)) {
		w = json_object_new_array();
		json_object_object_add(env, "warnings", w);
	}
	json_object_array_add(w, json_object_new_string(msg));
}
