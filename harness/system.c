/* system.c — `hotpath system show | tune --cpus LIST | reset` (system.h).
 *
 * Each setting is one file under $HP_SYSROOT: its current bytes are read,
 * compared with the advised value, and (tune) replaced after the old bytes
 * are saved to the state file; reset writes the saved bytes back. Settings
 * that only a reboot changes (isolcpus, nohz_full, rcu_nocbs, nosmt) are
 * printed as a kernel command line to add. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <json-c/json.h>

#include "fsutil.h"
#include "hp.h"
#include "system.h"
#include "topo.h"

#define MAXCPU 4096
#define VAL_MAX 4096
#define STATE_FORMAT 1

#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC 0x62656572
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* One setting: a file, what it holds, what we advise. */
typedef struct setting {
	char name[48];		/* short label: "governor cpu3", "ASLR" */
	char path[256];		/* relative to the sysroot: /proc/sys/... */
	int selector;		/* "a [b] c" file: the value is the bracketed word */
	int tunable;		/* tune may write it (needs no reboot) */
	int state;		/* see ST_* */
	char cur[VAL_MAX];	/* the file's bytes (ST_OK/ST_RO) */
	char curval[VAL_MAX];	/* the value shown: trimmed, or the selected word */
	char advised[VAL_MAX];	/* the value tune writes; "" when already fine */
	char note[160];		/* why it is not tuned, or what it means */
} setting_t;

enum { ST_OK, ST_MISSING, ST_RO, ST_BADBYTES };

static const char *sysroot(void)
{
	const char *r = getenv("HP_SYSROOT");

	return r ? r : "";
}

static char *full_path(const char *rel)
{
	char *p;

	if (asprintf(&p, "%s%s", sysroot(), rel) < 0)
		return NULL;
	return p;
}

/* The raw bytes of sysroot+rel into buf (NUL-terminated); -1 when missing
 * or unreadable or longer than the buffer. */
static int read_raw(const char *rel, char *buf, size_t len)
{
	char *p = full_path(rel);
	int fd, rc = -1;
	ssize_t n;
	size_t got = 0;

	buf[0] = '\0';
	if (!p)
		return -1;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -1;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	if (got < len - 1 || read(fd, &(char){0}, 1) == 0)
		rc = (int)got;
	close(fd);
	buf[rc < 0 ? 0 : got] = '\0';
	return rc;
}

static void trim_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	while (n && (src[n - 1] == '\n' || src[n - 1] == ' ' || src[n - 1] == '\t'))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The bracketed word of "always [madvise] never" into dst; 0 or -1. */
static int selected_word(const char *text, char *dst, size_t len)
{
	const char *a = strchr(text, '['), *b = a ? strchr(a, ']') : NULL;

	if (!a || !b || (size_t)(b - a - 1) >= len)
		return -1;
	memcpy(dst, a + 1, (size_t)(b - a - 1));
	dst[b - a - 1] = '\0';
	return 0;
}

/* Printable ASCII plus newline and tab only: what the state file (JSON) can
 * hold byte for byte. */
static int plain_bytes(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 0x20 && *s < 0x7f) || *s == '\n' || *s == '\t'))
			return 0;
	return 1;
}

/* ---- CPU sets ---- */

/* "0-3,8" into mask (MAXCPU flags). 0, or -1 on a malformed list. */
static int mask_parse(const char *s, unsigned char *mask)
{
	memset(mask, 0, MAXCPU);
	while (*s == ' ')
		s++;
	if (!*s || *s == '\n')
		return 0;
	for (;;) {
		char *end;
		long lo = strtol(s, &end, 10), hi = lo;

		if (end == s || lo < 0)
			return -1;
		s = end;
		if (*s == '-') {
			hi = strtol(s + 1, &end, 10);
			if (end == s + 1)
				return -1;
			s = end;
		}
		if (hi < lo || hi >= MAXCPU)
			return -1;
		for (long c = lo; c <= hi; c++)
			mask[c] = 1;
		if (*s == ',') {
			s++;
			continue;
		}
		return (*s == '\0' || *s == '\n') ? 0 : -1;
	}
}

static char *mask_format(const unsigned char *mask, char *buf, size_t len)
{
	static int cpus[MAXCPU];
	int n = 0;

	for (int c = 0; c < MAXCPU; c++)
		if (mask[c])
			cpus[n++] = c;
	return hp_cpulist_format(cpus, n, buf, len);
}

/* ---- the settings ---- */

typedef struct plan {
	setting_t *s;
	int n, cap;
	int cpus[MAXCPU];
	int ncpus;
	char cpulist[MAXCPU * 5 + 1];
	char cmdline_add[512];	/* what to add to the kernel command line */
	char cmdline_note[256];
} plan_t;

static setting_t *add(plan_t *p, const char *name, const char *path, int selector)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 32;
		p->s = realloc(p->s, (size_t)p->cap * sizeof *p->s);
		if (!p->s) {
			fprintf(stderr, "hotpath system: out of memory\n");
			exit(HP_EXIT_INTERNAL);
		}
	}
	setting_t *s = &p->s[p->n++];
	memset(s, 0, sizeof *s);
	hp_strlcpy(s->name, name, sizeof s->name);
	hp_strlcpy(s->path, path, sizeof s->path);
	s->selector = selector;
	s->tunable = 1;
	if (read_raw(path, s->cur, sizeof s->cur) < 0) {
		s->state = ST_MISSING;
		return s;
	}
	if (!plain_bytes(s->cur)) {
		s->state = ST_BADBYTES;
		return s;
	}
	if (selector) {
		if (selected_word(s->cur, s->curval, sizeof s->curval) < 0)
			trim_copy(s->curval, sizeof s->curval, s->cur);
	} else
		trim_copy(s->curval, sizeof s->curval, s->cur);
	char *fp = full_path(path);
	struct stat st;
	if (fp && stat(fp, &st) == 0 && !(st.st_mode & 0222))
		s->state = ST_RO;
	free(fp);
	return s;
}

/* advise value v unless the current value already is v */
static void advise(setting_t *s, const char *v)
{
	if (s->state == ST_MISSING || s->state == ST_BADBYTES)
		return;
	if (strcmp(s->curval, v) != 0)
		hp_strlcpy(s->advised, v, sizeof s->advised);
}

static int by_number(const struct dirent **a, const struct dirent **b)
{
	long x = atol((*a)->d_name), y = atol((*b)->d_name);

	return (x > y) - (x < y);
}

static int numeric_dir(const struct dirent *d)
{
	return d->d_name[0] >= '0' && d->d_name[0] <= '9';
}

/* isolcpus=/nohz_full=/rcu_nocbs= of /proc/cmdline: which measured CPUs
 * each one misses goes to the command line to add. */
static void isolation(plan_t *p)
{
	static const char *const keys[] = { "isolcpus", "nohz_full", "rcu_nocbs" };
	static char raw[VAL_MAX];
	static unsigned char have[MAXCPU];
	char *o = p->cmdline_add;
	size_t left = sizeof p->cmdline_add;

	if (read_raw("/proc/cmdline", raw, sizeof raw) < 0) {
		snprintf(p->cmdline_note, sizeof p->cmdline_note, "%s/proc/cmdline unreadable", sysroot());
		return;
	}
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		setting_t *s = add(p, keys[k], "/proc/cmdline", 0);
		char want[64], *v;
		int ok = 1;

		s->tunable = 0;
		snprintf(want, sizeof want, "%s=", keys[k]);
		v = NULL;
		for (char *q = raw; (q = strstr(q, want)); q++)
			if (q == raw || q[-1] == ' ') {
				v = q + strlen(want);
				break;
			}
		s->curval[0] = '\0';
		memset(have, 0, sizeof have);
		if (v) {
			size_t len = strcspn(v, " \n");
			snprintf(s->curval, sizeof s->curval, "%.*s", (int)len, v);
			/* isolcpus may carry flags first: "domain,managed_irq,2-3" */
			char *list = s->curval;
			while (*list && (*list < '0' || *list > '9')) {
				char *c = strchr(list, ',');
				list = c ? c + 1 : list + strlen(list);
			}
			if (mask_parse(list, have) < 0)
				memset(have, 0, sizeof have);
		} else
			hp_strlcpy(s->curval, "(not set)", sizeof s->curval);
		for (int i = 0; i < p->ncpus; i++)
			if (!have[p->cpus[i]])
				ok = 0;
		hp_strlcpy(s->note, "needs a reboot", sizeof s->note);
		if (!ok) {
			snprintf(s->advised, sizeof s->advised, "%s", p->cpulist);
			int w = snprintf(o, left, "%s%s=%s", o == p->cmdline_add ? "" : " ", keys[k], p->cpulist);
			if (w > 0 && (size_t)w < left) {
				o += w;
				left -= (size_t)w;
			}
		}
		s->state = ST_OK;
	}
}

static void irqs(plan_t *p)
{
	static unsigned char online[MAXCPU], cur[MAXCPU], other[MAXCPU];
	static char buf[VAL_MAX], otherlist[MAXCPU * 5 + 1];
	struct dirent **ents = NULL;
	char *dir = full_path("/proc/irq");
	int n, nother = 0;

	if (read_raw("/sys/devices/system/cpu/online", buf, sizeof buf) < 0 ||
	    mask_parse(buf, online) < 0) {
		fprintf(stderr, "hotpath system: %s/sys/devices/system/cpu/online unreadable: IRQ affinity not checked\n",
			sysroot());
		free(dir);
		return;
	}
	memcpy(other, online, sizeof other);
	for (int i = 0; i < p->ncpus; i++)
		other[p->cpus[i]] = 0;
	for (int c = 0; c < MAXCPU; c++)
		nother += other[c];
	mask_format(other, otherlist, sizeof otherlist);
	n = dir ? scandir(dir, &ents, numeric_dir, by_number) : -1;
	free(dir);
	if (n < 0) {
		fprintf(stderr, "hotpath system: %s/proc/irq unreadable: IRQ affinity not checked\n", sysroot());
		return;
	}
	for (int i = 0; i < n; i++) {
		char name[48], path[256];

		snprintf(name, sizeof name, "IRQ %.20s affinity", ents[i]->d_name);
		snprintf(path, sizeof path, "/proc/irq/%.200s/smp_affinity_list", ents[i]->d_name);
		free(ents[i]);
		setting_t *s = add(p, name, path, 0);
		if (s->state == ST_MISSING || s->state == ST_BADBYTES)
			continue;
		int hits = 0;
		if (mask_parse(s->curval, cur) < 0) {
			hp_strlcpy(s->note, "unreadable CPU list", sizeof s->note);
			s->tunable = 0;
			continue;
		}
		for (int k = 0; k < p->ncpus; k++)
			hits += cur[p->cpus[k]];
		if (!hits)
			continue;
		if (!nother) {
			s->tunable = 0;
			hp_strlcpy(s->note, "every online CPU is measured: nowhere to move it", sizeof s->note);
			hp_strlcpy(s->advised, "(a CPU not measured)", sizeof s->advised);
			continue;
		}
		hp_strlcpy(s->advised, otherlist, sizeof s->advised);
	}
	free(ents);
}

static void build(plan_t *p)
{
	char path[256], name[48];
	static char buf[VAL_MAX];

	for (int i = 0; i < p->ncpus; i++) {
		snprintf(name, sizeof name, "governor cpu%d", p->cpus[i]);
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor", p->cpus[i]);
		advise(add(p, name, path, 0), "performance");
	}
	advise(add(p, "turbo (intel_pstate no_turbo)", "/sys/devices/system/cpu/intel_pstate/no_turbo", 0), "1");
	advise(add(p, "turbo (cpufreq boost)", "/sys/devices/system/cpu/cpufreq/boost", 0), "0");
	setting_t *s = add(p, "SMT", "/sys/devices/system/cpu/smt/control", 0);
	s->tunable = 0;
	if (s->state == ST_OK && !strcmp(s->curval, "on")) {
		hp_strlcpy(s->advised, "off", sizeof s->advised);
		hp_strlcpy(s->note, "not tuned: turning SMT off takes CPUs offline; "
			    "add nosmt to the command line or pick one CPU per core", sizeof s->note);
	}
	advise(add(p, "ASLR", "/proc/sys/kernel/randomize_va_space", 0), "0");
	advise(add(p, "THP enabled", "/sys/kernel/mm/transparent_hugepage/enabled", 1), "never");
	advise(add(p, "THP defrag", "/sys/kernel/mm/transparent_hugepage/defrag", 1), "never");
	s = add(p, "perf_event_paranoid", "/proc/sys/kernel/perf_event_paranoid", 0);
	if (s->state != ST_MISSING && s->state != ST_BADBYTES && atoi(s->curval) > 1)
		hp_strlcpy(s->advised, "1", sizeof s->advised);
	advise(add(p, "NMI watchdog", "/proc/sys/kernel/nmi_watchdog", 0), "0");
	irqs(p);
	isolation(p);
	(void)buf;
}

/* ---- writing a setting ---- */

/* Whether the file is a real kernel attribute (sysfs/procfs) or a plain
 * file of a fake tree. */
static int on_kernel_fs(const char *full)
{
	struct statfs sf;

	if (statfs(full, &sf) < 0)
		return 1;
	return (unsigned long)sf.f_type == SYSFS_MAGIC || (unsigned long)sf.f_type == PROC_SUPER_MAGIC;
}

/* Writes bytes to sysroot+rel in one write. 0, or -1 with errno. */
static int write_bytes(const char *rel, const char *data, size_t len)
{
	char *p = full_path(rel);
	int fd, rc = -1, saved;

	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, data, len);
	if (w == (ssize_t)len)
		rc = 0;
	else if (w >= 0)
		errno = EIO;
	saved = errno;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	errno = saved;
	return rc;
}

/* The value tune writes. A selector file of the kernel takes the bare
 * word; in a fake tree (a plain file) the selector text is rewritten with
 * the bracket moved, so that it reads back as the kernel's would. */
static int write_value(const setting_t *s, const char *value)
{
	char *fp = full_path(s->path);
	int kernel = fp ? on_kernel_fs(fp) : 1;
	char out[VAL_MAX + 8];

	free(fp);
	if (s->selector && !kernel) {
		char *o = out;
		const char *t = s->cur;
		size_t vlen = strlen(value);

		while (*t && *t != '\n' && o < out + sizeof out - vlen - 4) {
			while (*t == ' ')
				*o++ = *t++;
			const char *w = t;
			while (*t && *t != ' ' && *t != '\n')
				t++;
			size_t wl = (size_t)(t - w);
			if (wl && *w == '[')
				w++, wl -= 2;
			if (wl == vlen && !memcmp(w, value, vlen))
				o += sprintf(o, "[%.*s]", (int)wl, w);
			else
				o += sprintf(o, "%.*s", (int)wl, w);
		}
		*o++ = '\n';
		return write_bytes(s->path, out, (size_t)(o - out));
	}
	snprintf(out, sizeof out, "%s\n", value);
	return write_bytes(s->path, out, strlen(out));
}

/* ---- the state file ---- */

static char *state_path(void)
{
	const char *e = getenv("HP_STATE");
	char *p;

	if (e && *e)
		return strdup(e);
	if (asprintf(&p, "%s/var/lib/hotpath/system-state.json", sysroot()) < 0)
		return NULL;
	return p;
}

static int need_root(const char *verb)
{
	if (geteuid() == 0)
		return 0;
	const char *over = getenv("HP_SYSTEM_NONROOT_OK");
	const char *r = sysroot();
	if (over && !strcmp(over, "1") && *r && strcmp(r, "/") != 0)
		return 0;
	fprintf(stderr, "hotpath system %s: needs root (it writes /proc and /sys); run it with sudo\n", verb);
	return -1;
}

/* ---- show ---- */

static const char *status(const setting_t *s)
{
	switch (s->state) {
	case ST_MISSING: return "missing (skipped)";
	case ST_BADBYTES: return "unexpected bytes (skipped)";
	case ST_RO: if (s->advised[0]) return "read-only (skipped)";
		break;
	}
	if (!s->advised[0])
		return "ok";
	if (!s->tunable)
		return s->note[0] ? s->note : "not tuned";
	return "tune changes it";
}

static void show(const plan_t *p)
{
	printf("measured CPUs: %s%s%s\n", p->cpulist, *sysroot() ? "   sysroot: " : "", sysroot());
	printf("%-30s %-22s %-22s %s\n", "setting", "current", "advised", "status");
	for (int i = 0; i < p->n; i++) {
		const setting_t *s = &p->s[i];
		printf("%-30s %-22s %-22s %s\n", s->name,
		       s->state == ST_MISSING ? "-" : s->curval,
		       s->advised[0] ? s->advised : "(as is)", status(s));
	}
	if (p->cmdline_add[0])
		printf("needs a reboot: add to the kernel command line: %s\n", p->cmdline_add);
	if (p->cmdline_note[0])
		printf("isolation not checked: %s\n", p->cmdline_note);
}

/* ---- tune ---- */

static int tune(plan_t *p)
{
	char *sp = state_path();
	struct stat st;
	int rc = HP_EXIT_OK, changed = 0;

	if (!sp)
		return HP_EXIT_INTERNAL;
	if (stat(sp, &st) == 0) {
		fprintf(stderr, "hotpath system tune: %s exists: the machine is already tuned; "
			"run hotpath system reset first (it restores the saved values)\n", sp);
		free(sp);
		return HP_EXIT_USAGE;
	}
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(root, "hotpath_system_state", json_object_new_int(STATE_FORMAT));
	json_object_object_add(root, "sysroot", json_object_new_string(sysroot()));
	json_object_object_add(root, "cpus", json_object_new_string(p->cpulist));
	json_object_object_add(root, "saved", arr);
	for (int i = 0; i < p->n; i++) {
		setting_t *s = &p->s[i];
		if (!s->advised[0] || !s->tunable || s->state != ST_OK)
			continue;
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "path", json_object_new_string(s->path));
		json_object_object_add(e, "bytes", json_object_new_string(s->cur));
		json_object_object_add(e, "selector", json_object_new_boolean(s->selector));
		json_object_array_add(arr, e);
	}
	/* saved before anything changes */
	char *dir = strdup(sp), *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		hp_mkdir_p(dir);
	}
	free(dir);
	if (hp_write_json_atomic(sp, root) < 0) {
		fprintf(stderr, "hotpath system tune: cannot write the state file %s: %s; nothing changed\n",
			sp, strerror(errno));
		json_object_put(root);
		free(sp);
		return HP_EXIT_FAIL;
	}
	json_object_put(root);
	for (int i = 0; i < p->n; i++) {
		setting_t *s = &p->s[i];
		if (s->state == ST_MISSING && s->tunable) {
			printf("skipped %s%s: missing\n", sysroot(), s->path);
			continue;
		}
		if (!s->advised[0] || !s->tunable)
			continue;
		if (s->state != ST_OK) {
			printf("skipped %s%s: %s\n", sysroot(), s->path, status(s));
			continue;
		}
		if (write_value(s, s->advised) < 0) {
			printf("skipped %s%s: cannot write %s: %s\n", sysroot(), s->path, s->advised, strerror(errno));
			continue;
		}
		printf("changed %s%s: %s -> %s\n", sysroot(), s->path, s->curval, s->advised);
		changed++;
	}
	for (int i = 0; i < p->n; i++)
		if (p->s[i].advised[0] && !p->s[i].tunable && p->s[i].state == ST_OK &&
		    strcmp(p->s[i].path, "/proc/cmdline") != 0)
			printf("not changed %s%s: %s\n", sysroot(), p->s[i].path, p->s[i].note);
	if (p->cmdline_add[0])
		printf("needs a reboot: add to the kernel command line: %s\n", p->cmdline_add);
	printf("%d setting%s changed; previous values saved in %s (hotpath system reset restores them)\n",
	       changed, changed == 1 ? "" : "s", sp);
	free(sp);
	return rc;
}

/* ---- reset ---- */

static int reset(void)
{
	char *sp = state_path();
	size_t len;
	char *text;
	int failed = 0, restored = 0;

	if (!sp)
		return HP_EXIT_INTERNAL;
	text = hp_slurp(sp, &len);
	if (!text) {
		fprintf(stderr, "hotpath system reset: no state file %s (%s): nothing to reset "
			"(hotpath system tune writes it)\n", sp, strerror(errno));
		free(sp);
		return HP_EXIT_USAGE;
	}
	char *z = realloc(text, len + 1);
	if (!z) {
		free(text);
		free(sp);
		return HP_EXIT_INTERNAL;
	}
	z[len] = '\0';
	struct json_object *root = json_tokener_parse(z), *v, *arr;
	free(z);
	if (!root || !json_object_object_get_ex(root, "hotpath_system_state", &v) ||
	    json_object_get_int(v) != STATE_FORMAT || !json_object_object_get_ex(root, "saved", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		fprintf(stderr, "hotpath system reset: %s is not a hotpath system state file (format %d)\n",
			sp, STATE_FORMAT);
		json_object_put(root);
		free(sp);
		return HP_EXIT_USAGE;
	}
	if (json_object_object_get_ex(root, "sysroot", &v) &&
	    strcmp(json_object_get_string(v), sysroot()) != 0) {
		fprintf(stderr, "hotpath system reset: %s was written for sysroot '%s', not '%s'\n",
			sp, json_object_get_string(v), sysroot());
		json_object_put(root);
		free(sp);
		return HP_EXIT_USAGE;
	}
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *jp, *jb, *js;
		if (!json_object_object_get_ex(e, "path", &jp) || !json_object_object_get_ex(e, "bytes", &jb) ||
		    !json_object_object_get_ex(e, "selector", &js)) {
			fprintf(stderr, "hotpath system reset: %s: entry %zu lacks path, bytes or selector\n", sp, i);
			failed++;
			continue;
		}
		const char *path = json_object_get_string(jp), *bytes = json_object_get_string(jb);
		if (strncmp(path, "/proc/", 6) != 0 && strncmp(path, "/sys/", 5) != 0) {
			fprintf(stderr, "hotpath system reset: %s: entry %zu: '%s' is not under /proc or /sys\n",
				sp, i, path);
			failed++;
			continue;
		}
		char *fp = full_path(path);
		int kernel = fp ? on_kernel_fs(fp) : 1;
		free(fp);
		char word[VAL_MAX];
		int rc;
		if (json_object_get_boolean(js) && kernel && selected_word(bytes, word, sizeof word) == 0) {
			size_t wl = strlen(word);
			word[wl] = '\n';
			rc = write_bytes(path, word, wl + 1);
		} else
			rc = write_bytes(path, bytes, strlen(bytes));
		char shown[VAL_MAX];
		trim_copy(shown, sizeof shown, bytes);
		if (rc < 0) {
			printf("failed %s%s: cannot restore %s: %s\n", sysroot(), path, shown, strerror(errno));
			failed++;
		} else {
			printf("restored %s%s: %s\n", sysroot(), path, shown);
			restored++;
		}
	}
	json_object_put(root);
	if (failed) {
		printf("%d restored, %d failed; the state file %s is kept\n", restored, failed, sp);
		free(sp);
		return HP_EXIT_FAIL;
	}
	if (unlink(sp) < 0)
		fprintf(stderr, "hotpath system reset: cannot remove %s: %s\n", sp, strerror(errno));
	printf("%d setting%s restored; %s removed\n", restored, restored == 1 ? "" : "s", sp);
	free(sp);
	return HP_EXIT_OK;
}

static int usage(const char *msg, const char *arg)
{
	fprintf(stderr, "hotpath system: %s%s%s\n"
		"usage: hotpath system show [--cpus LIST] | tune --cpus LIST | reset\n",
		msg, arg ? arg : "", arg ? "'" : "");
	return HP_EXIT_USAGE;
}

int hp_system_main(int argc, char **argv)
{
	const char *cpus = NULL;
	char err[512];

	if (argc < 2)
		return usage("no subcommand given (valid: show, tune, reset)", NULL);
	const char *verb = argv[1];
	if (strcmp(verb, "show") && strcmp(verb, "tune") && strcmp(verb, "reset"))
		return usage("unknown subcommand (valid: show, tune, reset): '", verb);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--cpus") && i + 1 < argc && strcmp(verb, "reset") != 0)
			cpus = argv[++i];
		else if (!strncmp(argv[i], "--cpus=", 7) && strcmp(verb, "reset") != 0)
			cpus = argv[i] + 7;
		else if (!strcmp(argv[i], "--cpus"))
			return usage(strcmp(verb, "reset") ? "--cpus needs a CPU list" : "reset takes no options", NULL);
		else
			return usage("unexpected argument '", argv[i]);
	}
	if (!strcmp(verb, "reset")) {
		if (need_root("reset") < 0)
			return HP_EXIT_USAGE;
		return reset();
	}
	if (!strcmp(verb, "tune") && !cpus)
		return usage("tune needs --cpus LIST (the CPUs you will measure on, e.g. 1 or 2-3)", NULL);
	if (!cpus)
		cpus = "auto";

	plan_t *p = calloc(1, sizeof *p);
	if (!p)
		return HP_EXIT_INTERNAL;
	hp_topo_t *t = hp_topo_load(err, sizeof err);
	if (!t) {
		fprintf(stderr, "hotpath system: %s\n", err);
		free(p);
		return HP_EXIT_INTERNAL;
	}
	p->ncpus = hp_cpulist_parse(t, cpus, p->cpus, MAXCPU, err, sizeof err);
	hp_topo_free(t);
	if (p->ncpus < 0) {
		fprintf(stderr, "hotpath system %s: %s\n", verb, err);
		free(p);
		return HP_EXIT_USAGE;
	}
	hp_cpulist_format(p->cpus, p->ncpus, p->cpulist, sizeof p->cpulist);
	int rc;
	if (!strcmp(verb, "tune") && need_root("tune") < 0)
		rc = HP_EXIT_USAGE;
	else {
		build(p);
		rc = !strcmp(verb, "show") ? (show(p), HP_EXIT_OK) : tune(p);
	}
	free(p->s);
	free(p);
	return rc;
}
