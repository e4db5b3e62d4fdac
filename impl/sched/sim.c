/* sim.c — rt-app scenarios (json-c), the CSV output and the command line of `hotpath sim`; the engine is sim_engine.c. */
#include "sim.h"
#include "sim_scn.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================== */
/* Scenario parsing                                                    */
/* ================================================================== */

typedef struct perr {
	char *buf;
	size_t len;
	const char *file;
} perr_t;

__attribute__((format(printf, 2, 3)))
static int fail(perr_t *e, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	n = (size_t)snprintf(e->buf, e->len, "%s: ", e->file);
	if (n >= e->len)
		n = e->len ? e->len - 1 : 0;
	va_start(ap, fmt);
	vsnprintf(e->buf + n, e->len - n, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *jtype(struct json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

/* An integer field (json-c int; a double with an integral value is taken
 * too, rt-app files sometimes have "1000.0"). */
static int get_int(perr_t *e, const char *where, const char *field, struct json_object *v, int64_t *out)
{
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (d == floor(d) && fabs(d) < 9e15) {
			*out = (int64_t)d;
			return 0;
		}
	}
	return fail(e, "%s: %s: expected an integer, got %s %s", where, field, jtype(v),
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

/* A duration in µs: an integer >= 0 (> 0 when `positive`), returned in ns. */
static int get_us(perr_t *e, const char *where, const char *field, struct json_object *v,
		  int positive, uint64_t *ns)
{
	int64_t us;

	if (get_int(e, where, field, v, &us))
		return -1;
	if (us < 0)
		return fail(e, "%s: %s: %" PRId64 " is negative (a time in microseconds must be >= 0)",
			    where, field, us);
	if (positive && us == 0)
		return fail(e, "%s: %s: 0 (must be at least 1 microsecond)", where, field);
	if (us > INT64_C(1000000000000))
		return fail(e, "%s: %s: %" PRId64 " µs is more than 11 days", where, field, us);
	*ns = (uint64_t)us * 1000;
	return 0;
}

static int check_policy(perr_t *e, const char *where, const char *field, struct json_object *v)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return fail(e, "%s: %s: expected a string, got %s", where, field, jtype(v));
	s = json_object_get_string(v);
	if (strcmp(s, "SCHED_OTHER") != 0)
		return fail(e, "%s: %s: '%s' is not simulated (only SCHED_OTHER, the fair class)",
			    where, field, s);
	return 0;
}

/* rt-app tells events by the start of their key, so that one phase can
 * hold several of a kind ("run0", "run1"); here the rest must be a
 * separator or digits, so that typos are still caught. */
static int event_kind(const char *key, ev_kind_t *kind)
{
	static const struct { const char *name; ev_kind_t kind; } evs[] = {
		{ "runtime", EV_RUNTIME }, { "run", EV_RUN }, { "sleep", EV_SLEEP }, { "timer", EV_TIMER },
	};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		size_t n = strlen(evs[i].name);
		const char *rest = key + n;

		if (strncmp(key, evs[i].name, n) != 0)
			continue;
		if (*rest == '_' || *rest == '-')
			rest++;
		while (*rest >= '0' && *rest <= '9')
			rest++;
		if (*rest == 0 && (rest == key + n || key[n] != 0)) {
			*kind = evs[i].kind;
			return 0;
		}
	}
	return -1;
}

static size_t ref_hash(const char *ref)
{
	uint64_t h = 1469598103934665603ull;    /* FNV-1a */

	for (; *ref; ref++)
		h = (h ^ (unsigned char)*ref) * 1099511628211ull;
	return (size_t)h;
}

/* The index of the timer named ref, made on first use. A hash of the refs
 * keeps this O(1) (a linear search made 200,000 timers take 54 s, issue 12). */
static int timer_index(hp_scn_t *s, const char *ref)
{
	size_t i;

	if ((size_t)s->ntimers * 2 + 2 > s->thcap) {
		size_t cap = s->thcap ? s->thcap * 2 : 64;
		int *h = malloc(cap * sizeof(*h));

		if (!h)
			return -1;
		memset(h, 0xff, cap * sizeof(*h));
		for (int k = 0; k < s->ntimers; k++) {
			for (i = ref_hash(s->timers[k].ref) & (cap - 1); h[i] >= 0; i = (i + 1) & (cap - 1))
				;
			h[i] = k;
		}
		free(s->thash);
		s->thash = h;
		s->thcap = cap;
	}
	for (i = ref_hash(ref) & (s->thcap - 1); s->thash[i] >= 0; i = (i + 1) & (s->thcap - 1))
		if (!strcmp(s->timers[s->thash[i]].ref, ref))
			return s->thash[i];
	if (s->ntimers == s->captimers) {
		int cap = s->captimers ? s->captimers * 2 : 16;
		scn_timer_t *t = realloc(s->timers, (size_t)cap * sizeof(*t));

		if (!t)
			return -1;
		s->timers = t;
		s->captimers = cap;
	}
	scn_timer_t *t = &s->timers[s->ntimers];
	memset(t, 0, sizeof(*t));
	snprintf(t->ref, sizeof t->ref, "%s", ref);
	t->unique = !strncmp(ref, "unique", 6);
	s->thash[i] = s->ntimers;
	return s->ntimers++;
}

/* Where each timer event keeps its state in a run: shared timers one slot
 * each, "unique" ones a slot per thread, numbered within their task (so a
 * run needs nshared + the sum over threads of their task's nunique slots,
 * not timers x threads). O(events). */
static int assign_timer_slots(perr_t *e, hp_scn_t *s)
{
	int *stamp = malloc((size_t)(s->ntimers ? s->ntimers : 1) * sizeof(*stamp) * 2), *local;

	if (!stamp)
		return fail(e, "out of memory");
	local = stamp + (s->ntimers ? s->ntimers : 1);
	for (int k = 0; k < s->ntimers; k++) {
		stamp[k] = -1;
		if (!s->timers[k].unique)
			s->timers[k].slot = s->nshared++;
	}
	for (int ti = 0; ti < s->ntask; ti++) {
		scn_task_t *t = &s->task[ti];

		for (int p = 0; p < t->nph; p++)
			for (int i = 0; i < t->ph[p].nev; i++) {
				scn_ev_t *ev = &t->ph[p].ev[i];

				if (ev->kind != EV_TIMER)
					continue;
				if (!s->timers[ev->timer].unique) {
					ev->slot = s->timers[ev->timer].slot;
					continue;
				}
				if (stamp[ev->timer] != ti) {
					stamp[ev->timer] = ti;
					local[ev->timer] = t->nunique++;
				}
				ev->slot = local[ev->timer];
			}
	}
	free(stamp);
	free(s->thash);
	s->thash = NULL;
	s->thcap = 0;
	return 0;
}

static int parse_timer(perr_t *e, hp_scn_t *s, const char *where, const char *field,
		       struct json_object *v, scn_ev_t *ev)
{
	const char *ref = NULL;
	int have_period = 0;

	if (!json_object_is_type(v, json_type_object))
		return fail(e, "%s: %s: expected an object {\"ref\": ..., \"period\": ...}, got %s",
			    where, field, jtype(v));
	json_object_object_foreach(v, k, x) {
		if (!strcmp(k, "ref")) {
			if (!json_object_is_type(x, json_type_string))
				return fail(e, "%s: %s.ref: expected a string, got %s", where, field, jtype(x));
			ref = json_object_get_string(x);
			/* timers are told apart by the whole name: none is cut short */
			if (strlen(ref) >= sizeof(((scn_timer_t *)0)->ref))
				return fail(e, "%s: %s.ref: the name is longer than %zu characters", where, field,
					    sizeof(((scn_timer_t *)0)->ref) - 1);
		} else if (!strcmp(k, "period")) {
			char f[96];

			snprintf(f, sizeof f, "%s.period", field);
			if (get_us(e, where, f, x, 1, &ev->ns))
				return -1;
			have_period = 1;
		} else if (!strcmp(k, "mode")) {
			const char *m = json_object_is_type(x, json_type_string) ? json_object_get_string(x) : "";

			if (!strcmp(m, "absolute"))
				ev->absolute = 1;
			else if (strcmp(m, "relative") != 0)
				return fail(e, "%s: %s.mode: %s is not a timer mode (valid: \"relative\", \"absolute\")",
					    where, field, json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN));
		} else {
			return fail(e, "%s: %s: unknown key '%s' (supported: ref, period, mode)", where, field, k);
		}
	}
	if (!ref)
		return fail(e, "%s: %s: missing \"ref\" (the timer's name; \"unique\" for one per thread)",
			    where, field);
	if (!have_period)
		return fail(e, "%s: %s: missing \"period\" (µs)", where, field);
	ev->kind = EV_TIMER;
	ev->timer = timer_index(s, ref);
	if (ev->timer < 0)
		return fail(e, "out of memory");
	return 0;
}

/* Events of one phase (or of a task without "phases"). Keys other than
 * events are handled by the caller and skipped here. */
static int parse_events(perr_t *e, hp_scn_t *s, const char *where, struct json_object *o,
			const char *const *skip, scn_phase_t *ph)
{
	json_object_object_foreach(o, k, v) {
		ev_kind_t kind;
		int skipped = 0;

		for (int i = 0; skip[i]; i++)
			if (!strcmp(k, skip[i]))
				skipped = 1;
		if (skipped)
			continue;
		if (event_kind(k, &kind) != 0)
			return -2;      /* the caller names the key and what is valid */
		scn_ev_t *ev;

		if (ph->nev == ph->capev) {
			int cap = ph->capev ? ph->capev * 2 : 8;

			ev = realloc(ph->ev, (size_t)cap * sizeof(*ev));
			if (!ev)
				return fail(e, "out of memory");
			ph->ev = ev;
			ph->capev = cap;
		}
		ev = &ph->ev[ph->nev];
		memset(ev, 0, sizeof(*ev));
		ev->kind = kind;
		if (kind == EV_TIMER) {
			if (parse_timer(e, s, where, k, v, ev))
				return -1;
		} else if (get_us(e, where, k, v, 0, &ev->ns)) {
			return -1;
		}
		ph->nev++;
	}
	return 0;
}

static const char *const task_keys[] = { "instance", "loop", "priority", "policy", "cpus", "slice", "phases",
					  NULL };
static const char *const phase_keys[] = { "loop", NULL };

static int parse_task(perr_t *e, hp_scn_t *s, const char *key, struct json_object *o, scn_task_t *t)
{
	char where[160];
	struct json_object *phases = NULL;
	int64_t v;
	int rc;

	snprintf(where, sizeof where, "task '%s'", key);
	if (strlen(key) >= sizeof t->key)
		return fail(e, "%s: the name is longer than %zu characters", where, sizeof t->key - 1);
	if (!*key)
		return fail(e, "tasks: a task with an empty name");
	snprintf(t->key, sizeof t->key, "%s", key);
	t->instance = 1;
	t->loop = -1;
	if (!json_object_is_type(o, json_type_object))
		return fail(e, "%s: expected an object, got %s", where, jtype(o));
	json_object_object_foreach(o, k, x) {
		if (!strcmp(k, "instance")) {
			if (get_int(e, where, k, x, &v))
				return -1;
			if (v < 1 || v > 1024)
				return fail(e, "%s: instance: %" PRId64 " (valid: 1..1024)", where, v);
			t->instance = (int)v;
		} else if (!strcmp(k, "loop")) {
			if (get_int(e, where, k, x, &v))
				return -1;
			if (v != -1 && v < 1)
				return fail(e, "%s: loop: %" PRId64 " (valid: -1 for forever, or >= 1)", where, v);
			t->loop = (long)v;
		} else if (!strcmp(k, "priority")) {
			if (get_int(e, where, k, x, &v))
				return -1;
			if (v < HP_NICE_MIN || v > HP_NICE_MAX)
				return fail(e, "%s: priority: %" PRId64 " is not a nice value (valid for SCHED_OTHER: -20..19)",
					    where, v);
			t->nice = (int)v;
		} else if (!strcmp(k, "policy")) {
			if (check_policy(e, where, k, x))
				return -1;
		} else if (!strcmp(k, "cpus")) {
			if (!json_object_is_type(x, json_type_array) || json_object_array_length(x) == 0)
				return fail(e, "%s: cpus: expected a non-empty array of CPU numbers, got %s",
					    where, json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN));
			for (size_t i = 0; i < json_object_array_length(x); i++) {
				if (get_int(e, where, "cpus", json_object_array_get_idx(x, i), &v))
					return -1;
				if (v < 0 || v >= HP_SIM_MAX_CPUS)
					return fail(e, "%s: cpus: CPU %" PRId64 " (valid: 0..%d)", where, v,
						    HP_SIM_MAX_CPUS - 1);
				t->cpus |= UINT64_C(1) << v;
			}
		} else if (!strcmp(k, "slice")) {
			/* hotpath's key, not rt-app's: sched_attr.sched_runtime of a
			 * SCHED_OTHER task (Linux 6.12+), which the kernel clamps to
			 * 0.1..100 ms; a value outside that is refused, not clamped */
			if (get_int(e, where, k, x, &v))
				return -1;
			if (v < HP_SCN_SLICE_MIN_US || v > HP_SCN_SLICE_MAX_US)
				return fail(e, "%s: slice: %" PRId64 " µs (valid: %d..%d µs, the kernel's 0.1..100 ms)",
					    where, v, HP_SCN_SLICE_MIN_US, HP_SCN_SLICE_MAX_US);
			t->slice_ns = (uint64_t)v * 1000;
		} else if (!strcmp(k, "phases")) {
			phases = x;
		}
	}

	if (phases) {
		if (!json_object_is_type(phases, json_type_object) || json_object_object_length(phases) == 0)
			return fail(e, "%s: phases: expected a non-empty object of phases, got %s", where,
				    jtype(phases));
		json_object_object_foreach(o, k2, x2) {
			ev_kind_t kind;

			(void)x2;
			if (event_kind(k2, &kind) == 0)
				return fail(e, "%s: %s: events go inside the phases when \"phases\" is given",
					    where, k2);
		}
		t->ph = calloc((size_t)json_object_object_length(phases), sizeof(*t->ph));
		if (!t->ph)
			return fail(e, "out of memory");
		json_object_object_foreach(phases, pk, po) {
			scn_phase_t *ph = &t->ph[t->nph++];
			char pw[240];

			snprintf(pw, sizeof pw, "%s phase '%s'", where, pk);
			ph->loop = 1;
			if (!json_object_is_type(po, json_type_object))
				return fail(e, "%s: expected an object, got %s", pw, jtype(po));
			json_object_object_foreach(po, k3, x3) {
				if (strcmp(k3, "loop") != 0)
					continue;
				if (get_int(e, pw, k3, x3, &v))
					return -1;
				if (v < 1)
					return fail(e, "%s: loop: %" PRId64 " (valid: >= 1)", pw, v);
				ph->loop = (long)v;
			}
			rc = parse_events(e, s, pw, po, phase_keys, ph);
			if (rc == -2) {
				json_object_object_foreach(po, k4, x4) {
					ev_kind_t kind;

					(void)x4;
					if (strcmp(k4, "loop") && event_kind(k4, &kind))
						return fail(e, "%s: unknown key '%s' (supported: loop, run, runtime, sleep, timer)",
							    pw, k4);
				}
			}
			if (rc)
				return -1;
			if (!ph->nev)
				return fail(e, "%s: no events (run, runtime, sleep, timer)", pw);
		}
	} else {
		t->ph = calloc(1, sizeof(*t->ph));
		if (!t->ph)
			return fail(e, "out of memory");
		t->nph = 1;
		t->ph[0].loop = 1;
		rc = parse_events(e, s, where, o, task_keys, &t->ph[0]);
		if (rc == -2) {
			json_object_object_foreach(o, k4, x4) {
				ev_kind_t kind;
				int known = 0;

				(void)x4;
				for (int i = 0; task_keys[i]; i++)
					if (!strcmp(k4, task_keys[i]))
						known = 1;
				if (!known && event_kind(k4, &kind))
					return fail(e, "%s: unknown key '%s' (supported: instance, loop, priority, policy,"
						    " cpus, slice, phases, run, runtime, sleep, timer)", where, k4);
			}
		}
		if (rc)
			return -1;
		if (!t->ph[0].nev)
			return fail(e, "%s: no events (run, runtime, sleep, timer) and no phases", where);
	}

	/* A loop that takes no time would spin at one instant forever. */
	uint64_t total = 0;
	for (int p = 0; p < t->nph; p++)
		for (int i = 0; i < t->ph[p].nev; i++)
			total += t->ph[p].ev[i].ns;
	if (!total)
		return fail(e, "%s: every event takes 0 µs: the task would loop forever at one instant", where);
	return 0;
}

static int parse_root(perr_t *e, hp_scn_t *s, struct json_object *root)
{
	struct json_object *global = NULL, *tasks = NULL;
	int64_t v;

	if (!json_object_is_type(root, json_type_object))
		return fail(e, "expected a JSON object at the top, got %s", jtype(root));
	json_object_object_foreach(root, k, x) {
		if (!strcmp(k, "global"))
			global = x;
		else if (!strcmp(k, "tasks"))
			tasks = x;
		else
			return fail(e, "unknown key '%s' at the top level (supported: global, tasks)", k);
	}
	if (!global)
		return fail(e, "no \"global\" object (the simulator needs global.duration)");
	if (!json_object_is_type(global, json_type_object))
		return fail(e, "global: expected an object, got %s", jtype(global));
	json_object_object_foreach(global, gk, gx) {
		if (!strcmp(gk, "duration")) {
			if (get_int(e, "global", gk, gx, &v))
				return -1;
			if (v < 1 || v > 86400)
				return fail(e, "global: duration: %" PRId64 " (the simulator needs a finite duration:"
					    " 1..86400 seconds)", v);
			s->duration_ns = (uint64_t)v * 1000000000ull;
		} else if (!strcmp(gk, "default_policy")) {
			if (check_policy(e, "global", gk, gx))
				return -1;
		} else {
			return fail(e, "global: unknown key '%s' (supported: duration, default_policy)", gk);
		}
	}
	if (!s->duration_ns)
		return fail(e, "global: no \"duration\" (seconds)");
	if (!tasks || !json_object_is_type(tasks, json_type_object) || json_object_object_length(tasks) == 0)
		return fail(e, "tasks: expected a non-empty object of tasks");
	s->task = calloc((size_t)json_object_object_length(tasks), sizeof(*s->task));
	if (!s->task)
		return fail(e, "out of memory");
	json_object_object_foreach(tasks, tk, tx) {
		if (parse_task(e, s, tk, tx, &s->task[s->ntask++]))
			return -1;
	}
	if (assign_timer_slots(e, s))
		return -1;
	for (int i = 0; i < s->ntask; i++) {
		s->nthr += s->task[i].instance;
		if (s->nthr > HP_SIM_MAX_THREADS)
			return fail(e, "tasks: more than %d threads in all (instances included)", HP_SIM_MAX_THREADS);
	}
	s->thr = calloc((size_t)s->nthr, sizeof(*s->thr));
	if (!s->thr)
		return fail(e, "out of memory");
	for (int i = 0, n = 0; i < s->ntask; i++)
		for (int k = 0; k < s->task[i].instance; k++, n++) {
			s->thr[n].task = i;
			s->thr[n].inst = k;
			if (s->task[i].instance > 1)
				snprintf(s->thr[n].name, sizeof s->thr[n].name, "%s-%d", s->task[i].key, k);
			else
				snprintf(s->thr[n].name, sizeof s->thr[n].name, "%s", s->task[i].key);
		}
	return 0;
}

void hp_scn_free(hp_scn_t *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->ntask; i++) {
		for (int p = 0; p < s->task[i].nph; p++)
			free(s->task[i].ph[p].ev);
		free(s->task[i].ph);
	}
	free(s->task);
	free(s->timers);
	free(s->thash);
	free(s->thr);
	free(s);
}

/* Duplicate keys. json-c keeps only the last of two equal keys in an
 * object, so a second task "a" or a second "global" would silently replace
 * the first (issue 12). After json-c has accepted the text, this walks it
 * once more, collects each object's keys and refuses any key given twice.
 * It knows what json-c's non-strict mode accepts: comments, single-quoted
 * strings, trailing commas. */
typedef struct dkey {
	const char *p;          /* decoded key (points into text, or owned) */
	size_t len;
	size_t off;             /* where the key starts in the text */
	char *own;
} dkey_t;

typedef struct dscan {
	perr_t *e;
	const char *t;
	size_t len, i;
} dscan_t;

static void dskip(dscan_t *d)
{
	while (d->i < d->len) {
		char c = d->t[d->i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			d->i++;
		} else if (c == '/' && d->i + 1 < d->len && d->t[d->i + 1] == '*') {
			const char *end = strstr(d->t + d->i + 2, "*/");

			d->i = end ? (size_t)(end - d->t) + 2 : d->len;
		} else if (c == '/' && d->i + 1 < d->len && d->t[d->i + 1] == '/') {
			while (d->i < d->len && d->t[d->i] != '\n')
				d->i++;
		} else {
			break;
		}
	}
}

/* Skip a string at d->i (its opening quote); returns 1 if it holds an escape. */
static int dstring(dscan_t *d)
{
	char q = d->t[d->i++];
	int esc = 0;

	while (d->i < d->len && d->t[d->i] != q) {
		if (d->t[d->i] == '\\') {
			esc = 1;
			d->i++;
		}
		d->i++;
	}
	d->i++;
	return esc;
}

static int dkey_cmp(const void *a, const void *b)
{
	const dkey_t *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int dvalue(dscan_t *d, const char *path, int depth);

static int dobject(dscan_t *d, const char *path, int depth)
{
	dkey_t *k = NULL;
	size_t nk = 0, cap = 0;
	int rc = 0;

	d->i++;         /* '{' */
	for (;;) {
		dskip(d);
		if (d->i >= d->len || d->t[d->i] == '}') {
			d->i++;
			break;
		}
		if (d->t[d->i] == ',') {
			d->i++;
			continue;
		}
		if (d->t[d->i] != '"' && d->t[d->i] != '\'') {
			d->i = d->len;  /* not what json-c accepted: stop checking */
			break;
		}
		if (nk == cap) {
			dkey_t *n2 = realloc(k, (cap = cap ? cap * 2 : 16) * sizeof(*k));

			if (!n2) {
				rc = fail(d->e, "out of memory");
				goto out;
			}
			k = n2;
		}
		dkey_t *kk = &k[nk++];
		size_t start = d->i;

		memset(kk, 0, sizeof(*kk));
		kk->off = start;
		if (dstring(d)) {
			/* an escape: let json-c decode the key */
			size_t n = d->i - start;
			char *raw = malloc(n + 1);
			struct json_object *js;

			if (!raw) {
				rc = fail(d->e, "out of memory");
				goto out;
			}
			memcpy(raw, d->t + start, n);
			raw[n] = 0;
			js = json_tokener_parse(raw);
			free(raw);
			if (js && json_object_is_type(js, json_type_string)) {
				kk->len = (size_t)json_object_get_string_len(js);
				kk->own = malloc(kk->len + 1);
				if (kk->own)
					memcpy(kk->own, json_object_get_string(js), kk->len + 1);
			}
			json_object_put(js);
			if (!kk->own) {
				rc = fail(d->e, "out of memory");
				goto out;
			}
			kk->p = kk->own;
		} else {
			kk->p = d->t + start + 1;
			kk->len = d->i - start - 2;
		}
		dskip(d);
		if (d->i < d->len && d->t[d->i] == ':')
			d->i++;
		char sub[200];

		if (depth == 0)
			snprintf(sub, sizeof sub, "%.*s", (int)(kk->len < 60 ? kk->len : 60), kk->p);
		else
			snprintf(sub, sizeof sub, "%s.%.*s", path, (int)(kk->len < 60 ? kk->len : 60), kk->p);
		if (dvalue(d, sub, depth + 1)) {
			rc = -1;
			goto out;
		}
	}
	if (nk > 1) {
		const dkey_t *dup = NULL;

		qsort(k, nk, sizeof(*k), dkey_cmp);
		for (size_t j = 1; j < nk; j++)
			if (k[j].len == k[j - 1].len && !memcmp(k[j].p, k[j - 1].p, k[j].len) &&
			    (!dup || k[j].off < dup->off))
				dup = &k[j];
		if (dup) {
			int line = 1;

			for (size_t j = 0; j < dup->off; j++)
				line += d->t[j] == '\n';
			if (depth == 0)
				rc = fail(d->e, "line %d: duplicate key '%.*s' at the top level (JSON would keep only"
					  " the last one)", line, (int)dup->len, dup->p);
			else if (depth == 1 && !strcmp(path, "tasks"))
				rc = fail(d->e, "line %d: tasks: duplicate task name '%.*s' (JSON would keep only"
					  " the last one; give each task its own name)", line, (int)dup->len, dup->p);
			else
				rc = fail(d->e, "line %d: %s: duplicate key '%.*s' (JSON would keep only the last"
					  " one; several events of a kind are run0, run1, ...)", line, path,
					  (int)dup->len, dup->p);
		}
	}
out:
	for (size_t j = 0; j < nk; j++)
		free(k[j].own);
	free(k);
	return rc;
}

static int dvalue(dscan_t *d, const char *path, int depth)
{
	dskip(d);
	if (d->i >= d->len || depth > 64)
		return 0;
	switch (d->t[d->i]) {
	case '{':
		return dobject(d, path, depth);
	case '[':
		d->i++;
		for (;;) {
			dskip(d);
			if (d->i >= d->len || d->t[d->i] == ']') {
				d->i++;
				return 0;
			}
			if (d->t[d->i] == ',') {
				d->i++;
				continue;
			}
			size_t before = d->i;

			if (dvalue(d, path, depth + 1))
				return -1;
			if (d->i == before)
				d->i++;
		}
	case '"':
	case '\'':
		dstring(d);
		return 0;
	default:
		while (d->i < d->len && !strchr(",]}:/ \t\r\n\f\v", d->t[d->i]))
			d->i++;
		return 0;
	}
}

static int check_duplicate_keys(perr_t *e, const char *text, size_t len)
{
	dscan_t d = { e, text, len, 0 };

	return dvalue(&d, "", 0);
}

hp_scn_t *hp_scn_parse(const char *text, const char *name, char *err, size_t errlen)
{
	perr_t e = { err, errlen, name ? name : "scenario" };
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root;
	enum json_tokener_error jerr;
	hp_scn_t *s;
	size_t len = strlen(text), end;

	if (!tok) {
		fail(&e, "out of memory");
		return NULL;
	}
	if (len > INT32_MAX - 1) {
		json_tokener_free(tok);
		fail(&e, "larger than 2 GiB");
		return NULL;
	}
	/* The terminating NUL goes in too: it tells json-c the text ends here,
	 * so that a bare literal ("null", "1") is complete rather than waiting
	 * for more. */
	root = json_tokener_parse_ex(tok, text, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr != json_tokener_success) {
		int line = 1;

		for (size_t i = 0; i < end && i < len; i++)
			line += text[i] == '\n';
		if (jerr == json_tokener_continue || end >= len)
			fail(&e, "line %d: unexpected end of file: the scenario is empty or cut short", line);
		else
			fail(&e, "line %d: JSON syntax error: %s", line, json_tokener_error_desc(jerr));
		json_object_put(root);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);
	for (size_t i = end; i < len; i++)
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r') {
			fail(&e, "text after the JSON object (at byte %zu)", i);
			json_object_put(root);
			return NULL;
		}
	if (!json_object_is_type(root, json_type_object)) {
		fail(&e, "the scenario is not a JSON object (the top level is %s; expected"
		     " {\"global\": {...}, \"tasks\": {...}})", root ? jtype(root) : "null");
		json_object_put(root);
		return NULL;
	}
	if (check_duplicate_keys(&e, text, len)) {
		json_object_put(root);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		fail(&e, "out of memory");
	} else if (parse_root(&e, s, root) != 0) {
		hp_scn_free(s);
		s = NULL;
	}
	json_object_put(root);
	return s;
}

hp_scn_t *hp_scn_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	hp_scn_t *s;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!b) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return NULL;
			}
			buf = b;
		}
		size_t k = fread(buf + n, 1, cap - n - 1, f);

		n += k;
		if (k == 0)
			break;
		if (n > (64u << 20)) {
			free(buf);
			fclose(f);
			snprintf(err, errlen, "%s: larger than 64 MiB", path);
			return NULL;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	if (memchr(buf, 0, n)) {
		snprintf(err, errlen, "%s: not a text file (contains NUL bytes)", path);
		free(buf);
		return NULL;
	}
	s = hp_scn_parse(buf, path, err, errlen);
	free(buf);
	return s;
}

uint64_t hp_scn_duration_ns(const hp_scn_t *s) { return s->duration_ns; }
int hp_scn_nthreads(const hp_scn_t *s) { return s->nthr; }
const char *hp_scn_thread_name(const hp_scn_t *s, int i) { return s->thr[i].name; }
const char *hp_scn_thread_key(const hp_scn_t *s, int i) { return s->task[s->thr[i].task].key; }
int hp_scn_thread_nice(const hp_scn_t *s, int i) { return s->task[s->thr[i].task].nice; }
uint64_t hp_scn_thread_slice_ns(const hp_scn_t *s, int i) { return s->task[s->thr[i].task].slice_ns; }

int hp_scn_max_cpu(const hp_scn_t *s)
{
	int m = -1;

	for (int i = 0; i < s->ntask; i++)
		for (int c = 0; c < HP_SIM_MAX_CPUS; c++)
			if (s->task[i].cpus & (UINT64_C(1) << c) && c > m)
				m = c;
	return m;
}

static void opt_i64(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, ",%" PRId64, v);
	else
		fputc(',', f);
}

void hp_sim_write_csv(FILE *f, const hp_sim_res_t *r, const hp_sim_opts_t *o)
{
	fputs("task,nice,weight,runtime_ns,share,switches,wakeups,wakeup_p50_ns,wakeup_p99_ns,wakeup_max_ns,migrations\n", f);
	for (int i = 0; i < r->ntasks; i++) {
		const hp_sim_task_res_t *q = &r->task[i];

		hp_sim_csv_field(f, q->name);
		fprintf(f, ",%d,%u,%" PRIu64 ",%.6f,%" PRIu64 ",%" PRIu64, q->nice, q->weight,
			q->runtime_ns, q->share, q->switches, q->wakeups);
		opt_i64(f, q->wakeup_p50_ns);
		opt_i64(f, q->wakeup_p99_ns);
		opt_i64(f, q->wakeup_max_ns);
		fprintf(f, ",%" PRIu64 "\n", q->migrations);
	}
	fprintf(f, "# jain_fairness=%.6f (runtime/weight, %d tasks) policy=%s cpus=%d hz=%d seed=%" PRIu64
		" window_ns=%" PRIu64 "\n", r->jain, r->ntasks, hp_sched_policy_name(o->policy),
		o->ncpus, o->hz, o->seed, r->window_ns);
}
