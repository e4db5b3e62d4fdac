/* env.c — the machine, the build and every noise source we can see (env.json, `hotpath env`). */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <inttypes.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>
#include <json-c/json.h>

#include "env.h"
#include "hp_config.h"
#include "metrics.h"
#include "stats.h"
#include "topo.h"

extern char **environ;

/* ================================================================== */
/* /proc and /sys, under $HP_SYSROOT                                   */
/* ================================================================== */

/* Every /proc and /sys read goes through this prefix so that the tests
 * can stand a fake tree in for the machine. Facts that come from
 * instructions or syscalls (cpuid, uname, clocks) are always the real
 * machine's. */
static const char *sysroot(void)
{
	const char *r = getenv("HP_SYSROOT");

	return r ? r : "";
}

/* Reads a small file (sysroot + path) with trailing whitespace trimmed.
 * Returns its length, or -1 when it cannot be read or does not fit in buf
 * (then with a message naming the file and the limit: a cut-off CPU list
 * or command line would be silently wrong in env.json). */
static int sys_read(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sys_read(char *buf, size_t len, const char *fmt, ...)
{
	char *rel = NULL, *path = NULL;
	va_list ap;
	FILE *f = NULL;
	size_t n = 0;
	int rc = -1;

	buf[0] = '\0';
	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		rel = NULL;
	va_end(ap);
	if (!rel || asprintf(&path, "%s%s", sysroot(), rel) < 0) {
		path = NULL;
		goto out;
	}
	f = fopen(path, "r");
	if (!f)
		goto out;
	n = fread(buf, 1, len - 1, f);
	if (ferror(f))
		goto out;
	if (n == len - 1 && fgetc(f) != EOF) {
		fprintf(stderr, "hotpath: %s is longer than %zu bytes, the most env reads from it; "
			"left out\n", path, len - 1);
		goto out;
	}
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t' ||
		     buf[n - 1] == '\r'))
		buf[--n] = '\0';
	rc = (int)n;
out:
	if (rc < 0)
		buf[0] = '\0';
	if (f)
		fclose(f);
	free(path);
	free(rel);
	return rc;
}

/* A kernel CPU list ("0-3,8", "", "(null)") into a membership map.
 * Returns the number of CPUs, or -1 when it is not a list. */
static int cpuset_parse(const char *s, unsigned char set[HP_MAX_CPUS])
{
	int n = 0;

	memset(set, 0, HP_MAX_CPUS);
	if (!s || !*s || !strcmp(s, "(null)"))
		return 0;
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0 || a >= HP_MAX_CPUS)
			return -1;
		b = a;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b >= HP_MAX_CPUS)
				return -1;
			s = end;
		}
		for (long c = a; c <= b; c++)
			if (!set[c]) {
				set[c] = 1;
				n++;
			}
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -1;
		else
			break;
	}
	return n;
}

/* ================================================================== */
/* /proc/cpuinfo                                                       */
/* ================================================================== */

typedef struct cpuinfo {
	char model[160];
	char microcode[48];
	double mhz;             /* "cpu MHz": current clock, 0 if absent */
	int hypervisor, constant_tsc, nonstop_tsc;
	int found;              /* the file was read */
} cpuinfo_t;

static int has_word(const char *list, const char *w)
{
	size_t wl = strlen(w);

	for (const char *p = list; (p = strstr(p, w)); p += wl)
		if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n'))
			return 1;
	return 0;
}

/* A value into a fixed field; one that does not fit is cut with a message
 * naming the limit (model names are ~50 characters, the fields far more). */
static void field_copy(char *dst, size_t len, const char *val, const char *what)
{
	if (strlen(val) >= len)
		fprintf(stderr, "hotpath: %s longer than %zu characters, cut: %s\n", what,
			len - 1, val);
	snprintf(dst, len, "%s", val);
}

/* The first processor's block is enough: the flags we look at are the
 * same on every CPU the kernel brought up. */
static void cpuinfo_read(const char *root, cpuinfo_t *ci)
{
	char *path, *line = NULL;
	size_t cap = 0;
	int seen = 0;
	FILE *f;

	memset(ci, 0, sizeof *ci);
	if (asprintf(&path, "%s/proc/cpuinfo", root) < 0)
		return;
	f = fopen(path, "r");
	free(path);
	if (!f)
		return;
	ci->found = 1;
	while (getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':'), *val, *k_end;

		if (line[0] == '\n') {
			if (seen)
				break;
			continue;
		}
		seen = 1;
		if (!colon)
			continue;
		for (k_end = colon; k_end > line && (k_end[-1] == ' ' || k_end[-1] == '\t'); k_end--)
			;
		*k_end = '\0';
		val = colon + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		val[strcspn(val, "\n")] = '\0';
		if (!strcmp(line, "model name") && !ci->model[0])
			field_copy(ci->model, sizeof ci->model, val, "cpuinfo model name");
		else if (!strcmp(line, "microcode") && !ci->microcode[0])
			field_copy(ci->microcode, sizeof ci->microcode, val, "cpuinfo microcode");
		else if (!strcmp(line, "cpu MHz") && !ci->mhz)
			ci->mhz = strtod(val, NULL);
		else if (!strcmp(line, "flags")) {
			ci->hypervisor = has_word(val, "hypervisor");
			ci->constant_tsc = has_word(val, "constant_tsc");
			ci->nonstop_tsc = has_word(val, "nonstop_tsc");
		}
	}
	free(line);
	fclose(f);
}

/* ================================================================== */
/* TSC and clocks                                                      */
/* ================================================================== */

static double raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;
static int tsc_inv;
static double tsc_rate;

#define TSC_ROUNDS 3
#define TSC_ROUND_NS 10e6   /* 3 x 10 ms: ~0.1% on a 1 us clock read */

static void tsc_init(void)
{
	cpuinfo_t ci;

	/* The real machine's file, not $HP_SYSROOT's: the runner times
	 * with this. */
	cpuinfo_read("", &ci);
	if (ci.found) {
		tsc_inv = ci.constant_tsc && ci.nonstop_tsc;
	} else {
#if defined(__x86_64__) || defined(__i386__)
		unsigned a, b, c, d;

		/* CPUID 0x80000007 EDX bit 8: invariant TSC. */
		tsc_inv = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
		ci.constant_tsc = tsc_inv;
#endif
	}
#if defined(__x86_64__) || defined(__i386__)
	/* Without constant_tsc the tick rate follows the core clock, so no
	 * one ticks-per-ns figure exists. */
	if (!ci.constant_tsc)
		return;
	double r[TSC_ROUNDS];
	for (int i = 0; i < TSC_ROUNDS; i++) {
		/* Bracket each TSC read by two clock reads and take the
		 * midpoint, so a preemption between them costs little. */
		double t0a = raw_ns();
		uint64_t c0 = hp_rdtsc();
		double t0b = raw_ns(), t1a, t1b;
		uint64_t c1;

		do
			t1a = raw_ns();
		while (t1a - t0b < TSC_ROUND_NS);
		c1 = hp_rdtsc();
		t1b = raw_ns();
		if (c1 <= c0)
			return;
		r[i] = (double)(c1 - c0) / ((t1a + t1b) / 2 - (t0a + t0b) / 2);
	}
	tsc_rate = hp_median(r, TSC_ROUNDS);
#endif
}

int hp_tsc_invariant(void)
{
	pthread_once(&tsc_once, tsc_init);
	return tsc_inv;
}

double hp_tsc_per_ns(void)
{
	pthread_once(&tsc_once, tsc_init);
	return tsc_rate;
}

#define OV_BATCHES 9
#define OV_READS 500

static volatile uint64_t ov_sink;

static double clock_cost(clockid_t id)
{
	double per[OV_BATCHES];

	for (int b = 0; b < OV_BATCHES; b++) {
		struct timespec ts;
		double t0 = raw_ns();

		for (int i = 0; i < OV_READS; i++) {
			clock_gettime(id, &ts);
			ov_sink += (uint64_t)ts.tv_nsec;
		}
		per[b] = (raw_ns() - t0) / OV_READS;
	}
	return hp_median(per, OV_BATCHES);
}

static double rdtsc_cost(void)
{
	double per[OV_BATCHES];

	for (int b = 0; b < OV_BATCHES; b++) {
		double t0 = raw_ns();

		for (int i = 0; i < OV_READS; i++)
			ov_sink += hp_rdtsc();
		per[b] = (raw_ns() - t0) / OV_READS;
	}
	return hp_median(per, OV_BATCHES);
}

/* Numbers in env.json are rounded to what is meaningful, so the file
 * does not show 2596.1440000000002. */
static struct json_object *jnum(double v, int decimals)
{
	char s[64];

	snprintf(s, sizeof s, "%.*f", decimals, v);
	return json_object_new_double_s(v, s);
}

struct json_object *hp_timer_overhead(void)
{
	struct json_object *o = json_object_new_object();

	/* Medians of batches: one preemption spoils a batch, not the figure. */
	json_object_object_add(o, "clock_gettime_monotonic_ns", jnum(clock_cost(CLOCK_MONOTONIC), 2));
	json_object_object_add(o, "clock_gettime_cputime_ns",
			       jnum(clock_cost(CLOCK_PROCESS_CPUTIME_ID), 2));
#if defined(__x86_64__) || defined(__i386__)
	json_object_object_add(o, "rdtsc_ns", jnum(rdtsc_cost(), 2));
#else
	(void)rdtsc_cost;
	json_object_object_add(o, "rdtsc_ns", NULL);
#endif
	return o;
}

/* ================================================================== */
/* Virtualization                                                      */
/* ================================================================== */

static const char *virt_from_cpuid(void)
{
#if defined(__x86_64__) || defined(__i386__)
	static const struct { const char *sig; const char *name; } sigs[] = {
		{"KVMKVMKVM\0\0\0", "kvm"},    {"Linux KVM Hv", "kvm"},
		{"Microsoft Hv", "microsoft"}, {"VMwareVMware", "vmware"},
		{"XenVMMXenVMM", "xen"},       {"TCGTCGTCGTCG", "qemu"},
		{"bhyve bhyve ", "bhyve"},     {" lrpepyh  vr", "parallels"},
		{"ACRNACRNACRN", "acrn"},      {"VBoxVBoxVBox", "oracle"},
		{"QNXQVMBSQG\0\0", "qnx"},
	};
	unsigned a, b, c, d;
	char sig[12];

	/* Leaf 0x40000000 is only meaningful when CPUID says a hypervisor is
	 * present (leaf 1 ECX bit 31); on bare metal it echoes another leaf. */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
		return NULL;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (!memcmp(sig, sigs[i].sig, 12))
			return sigs[i].name;
#endif
	return NULL;
}

static const char *virt_from_dmi(void)
{
	static const struct { const char *vendor; const char *product; const char *name; } dmi[] = {
		{"QEMU", NULL, "qemu"},
		{NULL, "KVM", "kvm"},
		{"VMware", NULL, "vmware"},
		{"innotek GmbH", NULL, "oracle"},
		{"Oracle Corporation", "VirtualBox", "oracle"},
		{"Xen", NULL, "xen"},
		{"Bochs", NULL, "bochs"},
		{"Parallels", NULL, "parallels"},
		{"BHYVE", NULL, "bhyve"},
		{"Microsoft Corporation", "Virtual Machine", "microsoft"},
		{"Google", "Google Compute Engine", "google"},
		{"Firecracker", NULL, "firecracker"},
	};
	char vendor[128], product[128];

	sys_read(vendor, sizeof vendor, "/sys/class/dmi/id/sys_vendor");
	sys_read(product, sizeof product, "/sys/class/dmi/id/product_name");
	if (!vendor[0] && !product[0])
		return NULL;
	for (size_t i = 0; i < sizeof dmi / sizeof dmi[0]; i++) {
		if (dmi[i].vendor && strncmp(vendor, dmi[i].vendor, strlen(dmi[i].vendor)))
			continue;
		if (dmi[i].product && strncmp(product, dmi[i].product, strlen(dmi[i].product)))
			continue;
		return dmi[i].name;
	}
	return NULL;
}

/* The hypervisor flag of (sysroot's) /proc/cpuinfo decides whether we are
 * a guest; CPUID's hypervisor leaf or DMI then name the hypervisor. DMI
 * alone also names full-virtualization guests that hide the flag. */
const char *hp_virt_name(void)
{
	cpuinfo_t ci;
	const char *n;

	cpuinfo_read(sysroot(), &ci);
	if (ci.hypervisor) {
		if ((n = virt_from_cpuid()) || (n = virt_from_dmi()))
			return n;
		return "unknown";
	}
	n = virt_from_dmi();
	return n ? n : "none";
}

/* ================================================================== */
/* Child processes (git, gnuplot --version)                            */
/* ================================================================== */

/* Runs argv (PATH lookup) with stdin and stderr on /dev/null and returns
 * its exit status (or -1), its stdout in out, trailing newlines trimmed. */
static int run_capture(char *const argv[], char *out, size_t len)
{
	posix_spawn_file_actions_t fa;
	int p[2], st = 0, rc;
	size_t n = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		return -1;
	}
	for (;;) {
		char tmp[512];
		ssize_t r = read(p[0], tmp, sizeof tmp);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		/* Keep draining past a full buffer so the child never blocks. */
		for (ssize_t i = 0; i < r && n + 1 < len; i++)
			out[n++] = tmp[i];
	}
	close(p[0]);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct json_object *git_facts(void)
{
	struct json_object *g = json_object_new_object();
	char rev[128], st[256];
	char *rev_argv[] = {"git", "-C", HP_SOURCE_ROOT, "rev-parse", "HEAD", NULL};
	/* --no-optional-locks: status must not take index.lock while someone
	 * else commits; untracked files (results/) do not make a build dirty. */
	char *st_argv[] = {"git", "--no-optional-locks", "-C", HP_SOURCE_ROOT, "status",
			   "--porcelain", "--untracked-files=no", NULL};

	if (run_capture(rev_argv, rev, sizeof rev) != 0 || !rev[0]) {
		json_object_object_add(g, "revision", json_object_new_string("unknown"));
		json_object_object_add(g, "dirty", json_object_new_string("unknown"));
		return g;
	}
	json_object_object_add(g, "revision", json_object_new_string(rev));
	if (run_capture(st_argv, st, sizeof st) != 0)
		json_object_object_add(g, "dirty", json_object_new_string("unknown"));
	else
		json_object_object_add(g, "dirty", json_object_new_boolean(st[0] != '\0'));
	return g;
}

static struct json_object *library_versions(void)
{
	struct json_object *l = json_object_new_object();
	char list[] = HP_LIBVERSIONS, *save = NULL, out[256];
	unsigned v = hwloc_get_api_version();

	/* What the build was configured against ... */
	for (char *kv = strtok_r(list, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq || eq == kv)
			continue;
		*eq = '\0';
		json_object_object_add(l, kv, json_object_new_string(eq + 1));
	}
	/* ... and what this process actually loaded or will run. */
	snprintf(out, sizeof out, "%u.%u.%u", (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
	json_object_object_add(l, "hwloc_runtime_api", json_object_new_string(out));
	json_object_object_add(l, "json-c_runtime", json_object_new_string(json_c_version()));
	json_object_object_add(l, "glibc_runtime", json_object_new_string(gnu_get_libc_version()));

	char *gp[] = {HP_GNUPLOT, "--version", NULL};
	json_object_object_add(l, "gnuplot",
			       json_object_new_string(run_capture(gp, out, sizeof out) == 0 && out[0]
						      ? out : "missing"));
	if (HP_VALGRIND[0]) {
		char *vg[] = {HP_VALGRIND, "--version", NULL};
		json_object_object_add(l, "valgrind_runtime",
				       json_object_new_string(run_capture(vg, out, sizeof out) == 0 &&
							      out[0] ? out : "missing"));
	}
	return l;
}

/* ================================================================== */
/* Capture                                                             */
/* ================================================================== */

typedef struct warn_ctx {
	struct json_object *arr;
} warn_ctx_t;

static void warn(warn_ctx_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(warn_ctx_t *w, const char *fmt, ...)
{
	char *buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "hotpath: out of memory\n");
		abort();
	}
	json_object_array_add(w->arr, json_object_new_string(buf));
	free(buf);
}

static void set_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* Room for any list of HP_MAX_CPUS CPU numbers (each below 10000, so at
 * most four digits and a comma; a range is never longer than its items):
 * hp_cpulist_format never has to drop an item into a buffer this size. */
#define CPULIST_MAX (5 * HP_MAX_CPUS + 1)

/* List of the CPUs in set (formatted); buf has CPULIST_MAX bytes. */
static const char *set_fmt(const unsigned char *set, char *buf, size_t len)
{
	int cpus[HP_MAX_CPUS], n = 0;

	for (int c = 0; c < HP_MAX_CPUS; c++)
		if (set[c])
			cpus[n++] = c;
	return hp_cpulist_format(cpus, n, buf, len);
}

/* The bracketed choice of a THP setting ("always [madvise] never"). */
static struct json_object *thp_value(const char *file)
{
	char buf[256], *a, *b;

	if (sys_read(buf, sizeof buf, "/sys/kernel/mm/transparent_hugepage/%s", file) < 0)
		return json_object_new_string("unknown");
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!a || !b)
		return json_object_new_string(buf);
	*b = '\0';
	return json_object_new_string(a + 1);
}

/* Nominal clock: the cpufreq base frequency, else the one in the model
 * name ("... @ 2.60GHz"), else cpuinfo's current clock (what a VM shows). */
static void nominal_mhz(struct json_object *env, const cpuinfo_t *ci, int cpu)
{
	char buf[64];
	const char *at;
	double ghz;

	if (sys_read(buf, sizeof buf, "/sys/devices/system/cpu/cpu%d/cpufreq/base_frequency", cpu) > 0 &&
	    atof(buf) > 0) {
		json_object_object_add(env, "nominal_mhz", jnum(atof(buf) / 1000, 0));
		set_str(env, "nominal_mhz_source", "cpufreq base_frequency");
	} else if ((at = strrchr(ci->model, '@')) && sscanf(at + 1, "%lfGHz", &ghz) == 1 && ghz > 0) {
		json_object_object_add(env, "nominal_mhz", jnum(ghz * 1000, 0));
		set_str(env, "nominal_mhz_source", "cpu model name");
	} else if (ci->mhz > 0) {
		json_object_object_add(env, "nominal_mhz", jnum(ci->mhz, 3));
		set_str(env, "nominal_mhz_source", "/proc/cpuinfo cpu MHz (current clock)");
	} else {
		json_object_object_add(env, "nominal_mhz", NULL);
		set_str(env, "nominal_mhz_source", "unknown");
	}
}

/* Governor of each CPU checked; one warning naming every CPU that is not
 * on "performance". */
static void governors(struct json_object *env, warn_ctx_t *w, const int *cpus, int n)
{
	struct json_object *g = json_object_new_object();
	/* the first 8 distinct governors are named, the rest shown as "..." */
	char bad_names[8][64];
	unsigned char bad_sets[8][HP_MAX_CPUS];
	int nbad = 0, overflow = 0;

	memset(bad_sets, 0, sizeof bad_sets);
	for (int i = 0; i < n; i++) {
		char key[16], gov[64];
		int j;

		snprintf(key, sizeof key, "%d", cpus[i]);
		if (sys_read(gov, sizeof gov, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor",
			     cpus[i]) <= 0)
			snprintf(gov, sizeof gov, "unknown");
		json_object_object_add(g, key, json_object_new_string(gov));
		if (!strcmp(gov, "performance"))
			continue;
		for (j = 0; j < nbad && strcmp(bad_names[j], gov); j++)
			;
		if (j == nbad) {
			if (nbad == 8) {
				overflow = 1;
				continue;
			}
			snprintf(bad_names[nbad++], sizeof bad_names[0], "%s", gov);
		}
		if (cpus[i] >= 0 && cpus[i] < HP_MAX_CPUS)
			bad_sets[j][cpus[i]] = 1;
	}
	json_object_object_add(env, "governor", g);
	if (!nbad)
		return;

	char *what = NULL, list[CPULIST_MAX];
	size_t wlen = 0;
	int unknown = 0;
	FILE *wf = open_memstream(&what, &wlen);

	if (!wf) {
		fprintf(stderr, "hotpath: out of memory\n");
		abort();
	}
	for (int j = 0; j < nbad; j++) {
		unknown |= !strcmp(bad_names[j], "unknown");
		fprintf(wf, "%s%s on CPU %s", j ? ", " : "", bad_names[j],
			set_fmt(bad_sets[j], list, sizeof list));
	}
	if (fclose(wf) != 0 || !what) {
		fprintf(stderr, "hotpath: out of memory\n");
		abort();
	}
	warn(w, "frequency scaling: governor %s%s (not performance): the clock can change "
	     "during a measurement. Fix: cpupower frequency-set -g performance (or write "
	     "performance to /sys/devices/system/cpu/cpuN/cpufreq/scaling_governor)%s",
	     what, overflow ? ", ..." : "",
	     unknown ? "; where no cpufreq exists (a VM, or no driver) the host or firmware "
		       "sets the clock: fix it there" : "");
	free(what);
}

/* turbo/boost: intel_pstate's no_turbo, else cpufreq's global boost, else
 * the per-policy boost of amd-pstate. */
static void turbo(struct json_object *env, warn_ctx_t *w, const int *cpus, int n)
{
	char buf[32], src[128] = "";
	const char *state = "unknown";

	if (sys_read(buf, sizeof buf, "/sys/devices/system/cpu/intel_pstate/no_turbo") > 0) {
		state = buf[0] == '1' ? "off" : "on";
		snprintf(src, sizeof src, "/sys/devices/system/cpu/intel_pstate/no_turbo=%s", buf);
	} else if (sys_read(buf, sizeof buf, "/sys/devices/system/cpu/cpufreq/boost") > 0) {
		state = buf[0] == '1' ? "on" : "off";
		snprintf(src, sizeof src, "/sys/devices/system/cpu/cpufreq/boost=%s", buf);
	} else {
		for (int i = 0; i < n; i++) {
			if (sys_read(buf, sizeof buf, "/sys/devices/system/cpu/cpu%d/cpufreq/boost",
				     cpus[i]) <= 0)
				continue;
			snprintf(src, sizeof src, "/sys/devices/system/cpu/cpu%d/cpufreq/boost=%s",
				 cpus[i], buf);
			state = buf[0] == '1' ? "on" : "off";
			if (buf[0] == '1')
				break;
		}
	}
	set_str(env, "turbo", state);
	if (!strcmp(state, "on"))
		warn(w, "turbo: boost is on (%s): the clock rises and falls with temperature and "
		     "the load on other cores. Fix: echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo "
		     "or echo 0 > /sys/devices/system/cpu/cpufreq/boost", src);
}

static void smt(struct json_object *env, warn_ctx_t *w, hp_topo_t *t, const hp_env_opts_t *o)
{
	struct json_object *s = json_object_new_object();
	char buf[32];
	int active, siblings = 0;

	if (sys_read(buf, sizeof buf, "/sys/devices/system/cpu/smt/active") > 0) {
		active = buf[0] == '1';
	} else {
		active = 0;
		for (int c = 0, n = hp_topo_npus(t); c < n && !active; c++)
			active = hp_topo_smt_width(t, c) > 1;
	}
	if (o && o->cpus && o->ncpus > 0)
		siblings = hp_topo_smt_siblings_in(t, o->cpus, o->ncpus);
	json_object_object_add(s, "active", json_object_new_boolean(active));
	json_object_object_add(s, "siblings_in_use", json_object_new_boolean(siblings));
	json_object_object_add(env, "smt", s);
	if (siblings)
		warn(w, "SMT: two of the selected CPUs are hyperthreads of one core: they share its "
		     "execution units and caches. Fix: --cpus auto (one PU per core) or disable SMT "
		     "(echo off > /sys/devices/system/cpu/smt/control)");
	else if (active)
		warn(w, "SMT: SMT is active: whatever runs on the sibling of a measured CPU shares "
		     "its core. Fix: disable SMT (echo off > /sys/devices/system/cpu/smt/control) or "
		     "keep the siblings idle (isolcpus= covering both siblings)");
}

/* isolcpus and nohz_full against the CPUs that will be measured (the
 * selection, or with none, the isolated CPUs themselves). */
static void isolation(struct json_object *env, warn_ctx_t *w, const hp_env_opts_t *o)
{
	char iso[CPULIST_MAX], nohz[CPULIST_MAX], list[CPULIST_MAX], want[CPULIST_MAX];
	unsigned char iso_set[HP_MAX_CPUS], nohz_set[HP_MAX_CPUS], sel[HP_MAX_CPUS];
	unsigned char miss[HP_MAX_CPUS], miss_nohz[HP_MAX_CPUS];
	int niso, nmiss = 0, nmiss_nohz = 0;

	sys_read(iso, sizeof iso, "/sys/devices/system/cpu/isolated");
	sys_read(nohz, sizeof nohz, "/sys/devices/system/cpu/nohz_full");
	if (!strcmp(nohz, "(null)"))
		nohz[0] = '\0';
	set_str(env, "isolcpus", iso);
	set_str(env, "nohz_full", nohz);
	niso = cpuset_parse(iso, iso_set);
	if (cpuset_parse(nohz, nohz_set) < 0)
		memset(nohz_set, 0, sizeof nohz_set);
	if (niso < 0)
		niso = 0;

	memset(sel, 0, sizeof sel);
	if (o && o->cpus && o->ncpus > 0) {
		for (int i = 0; i < o->ncpus; i++)
			if (o->cpus[i] >= 0 && o->cpus[i] < HP_MAX_CPUS)
				sel[o->cpus[i]] = 1;
	} else {
		memcpy(sel, iso_set, sizeof sel);
	}
	for (int c = 0; c < HP_MAX_CPUS; c++) {
		miss[c] = sel[c] && !iso_set[c];
		miss_nohz[c] = sel[c] && iso_set[c] && !nohz_set[c];
		nmiss += miss[c];
		nmiss_nohz += miss_nohz[c];
	}
	if (!niso) {
		warn(w, "isolation: no isolated CPUs: other tasks, interrupts and kernel threads share "
		     "the measured CPUs. Fix: boot with isolcpus=LIST nohz_full=LIST rcu_nocbs=LIST "
		     "and run with --cpus LIST");
	} else if (nmiss) {
		warn(w, "isolation: CPU %s not isolated (isolated: %s): other tasks can run there. "
		     "Fix: run with --cpus %s, or add them to isolcpus= nohz_full= rcu_nocbs=",
		     set_fmt(miss, list, sizeof list), iso, iso);
	}
	if (nmiss_nohz)
		warn(w, "nohz_full: CPU %s isolated but not nohz_full (nohz_full: %s): the scheduler "
		     "tick still interrupts the measurement. Fix: boot with nohz_full=%s rcu_nocbs=%s",
		     set_fmt(miss_nohz, list, sizeof list), nohz[0] ? nohz : "none",
		     set_fmt(miss_nohz, want, sizeof want), want);
}

/* The CPUs whose settings matter: the selection, else every online CPU. */
static int checked_cpus(hp_topo_t *t, const hp_env_opts_t *o, int *cpus)
{
	unsigned char set[HP_MAX_CPUS];
	char buf[CPULIST_MAX];
	int n = 0;

	if (o && o->cpus && o->ncpus > 0) {
		for (int i = 0; i < o->ncpus && i < HP_MAX_CPUS; i++)
			cpus[n++] = o->cpus[i];
		return n;
	}
	if (sys_read(buf, sizeof buf, "/sys/devices/system/cpu/online") > 0 &&
	    cpuset_parse(buf, set) > 0) {
		for (int c = 0; c < HP_MAX_CPUS; c++)
			if (set[c])
				cpus[n++] = c;
		return n;
	}
	n = hp_topo_npus(t);
	if (n <= 0)
		n = 1;
	for (int c = 0; c < n && c < HP_MAX_CPUS; c++)
		cpus[c] = c;
	return n < HP_MAX_CPUS ? n : HP_MAX_CPUS;
}

/* Seeds up to 2^53 are JSON numbers (exact in every reader, jq and
 * JavaScript included); larger ones are decimal strings so that no
 * reader rounds them. */
static struct json_object *seed_json(uint64_t seed)
{
	char buf[32];

	if (seed <= (1ULL << 53))
		return json_object_new_int64((int64_t)seed);
	snprintf(buf, sizeof buf, "%" PRIu64, seed);
	return json_object_new_string(buf);
}

/* When and where: date, version, uname, the kernel command line. */
static void env_host(struct json_object *env)
{
	struct utsname u;
	char buf[4096], date[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	set_str(env, "date", date);
	set_str(env, "hotpath_version", HP_VERSION);
	if (uname(&u) == 0) {
		set_str(env, "host", u.nodename);
		set_str(env, "kernel_release", u.release);
		set_str(env, "kernel_version", u.version);
		set_str(env, "arch", u.machine);
	} else {
		set_str(env, "host", "unknown");
		set_str(env, "kernel_release", "unknown");
		set_str(env, "kernel_version", "unknown");
		set_str(env, "arch", "unknown");
	}
	set_str(env, "cmdline", sys_read(buf, sizeof buf, "/proc/cmdline") >= 0 ? buf : "unknown");
}

/* The processor: model, microcode, TSC. */
static void env_processor(struct json_object *env, cpuinfo_t *ci)
{
	struct json_object *tsc = json_object_new_object();
	double rate;

	cpuinfo_read(sysroot(), ci);
	set_str(env, "cpu_model", ci->model[0] ? ci->model : "unknown");
	if (!ci->microcode[0] &&
	    sys_read(ci->microcode, sizeof ci->microcode, "/sys/devices/system/cpu/cpu0/microcode/version") <= 0)
		snprintf(ci->microcode, sizeof ci->microcode, "unknown");
	set_str(env, "microcode", ci->microcode);

	rate = hp_tsc_per_ns();
	json_object_object_add(tsc, "invariant", json_object_new_boolean(hp_tsc_invariant()));
	json_object_object_add(tsc, "mhz", rate > 0 ? jnum(rate * 1000, 3) : NULL);
	json_object_object_add(env, "tsc", tsc);
}

/* Kernel settings that add noise: ASLR, THP, a hypervisor, no perf. */
static void env_noise(struct json_object *env, warn_ctx_t *w)
{
	struct json_object *thp = json_object_new_object();
	char buf[512];
	const char *virt, *why;

	if (sys_read(buf, sizeof buf, "/proc/sys/kernel/randomize_va_space") > 0) {
		int aslr = atoi(buf);

		json_object_object_add(env, "aslr", json_object_new_int(aslr));
		if (aslr != 0)
			warn(w, "ASLR: randomize_va_space=%d: addresses, and with them cache and TLB "
			     "conflicts, change from run to run. Fix: echo 0 > "
			     "/proc/sys/kernel/randomize_va_space, or run under setarch -R", aslr);
	} else {
		json_object_object_add(env, "aslr", NULL);
	}
	json_object_object_add(thp, "enabled", thp_value("enabled"));
	json_object_object_add(thp, "defrag", thp_value("defrag"));
	json_object_object_add(env, "thp", thp);

	virt = hp_virt_name();
	set_str(env, "virtualization", virt);
	if (strcmp(virt, "none"))
		warn(w, "virtual machine: running under %s: the hypervisor steals time and "
		     "hardware counters are usually missing. Fix: prefer --metric instructions "
		     "(callgrind) for stable counts, compare only runs on the same host, pin the "
		     "vCPUs on the host", virt);

	why = hp_perf_unavailable();
	if (why) {
		/* why is at most a few hundred characters (metrics.c) */
		snprintf(buf, sizeof buf, "unavailable: %s", why);
		set_str(env, "perf", buf);
		warn(w, "perf: hardware counters unavailable (%s): --metric perf cannot run. Fix: on "
		     "bare metal run as root or lower kernel.perf_event_paranoid; in a VM enable the "
		     "vPMU; or use --metric instructions", why);
	} else {
		json_object_object_add(env, "perf", NULL);
	}
	json_object_object_add(env, "timer", hp_timer_overhead());
}

/* The selected CPUs and the machine's size. */
static void env_cpus(struct json_object *env, hp_topo_t *t, const hp_env_opts_t *o)
{
	char buf[CPULIST_MAX];

	if (o && o->cpus && o->ncpus > 0)
		set_str(env, "cpus", hp_cpulist_format(o->cpus, o->ncpus, buf, sizeof buf));
	else
		set_str(env, "cpus", NULL);
	if (t) {
		json_object_object_add(env, "pus", json_object_new_int(hp_topo_npus(t)));
		json_object_object_add(env, "cores", json_object_new_int(hp_topo_ncores(t)));
		json_object_object_add(env, "numa_nodes", json_object_new_int(hp_topo_nnuma(t)));
	} else {
		json_object_object_add(env, "pus", NULL);
		json_object_object_add(env, "cores", NULL);
		json_object_object_add(env, "numa_nodes", NULL);
	}
}

/* How hotpath was built, and the libraries it runs with. */
static void env_build(struct json_object *env, warn_ctx_t *w, const hp_env_opts_t *o)
{
	struct json_object *libs;

	set_str(env, "compiler", HP_CC);
	set_str(env, "cflags", HP_CFLAGS);
	set_str(env, "build_type", HP_BUILDTYPE);
	set_str(env, "sanitize", HP_SANITIZE);
	json_object_object_add(env, "git", git_facts());
	libs = library_versions();
	if (o && o->gbench_build) {
		json_object_object_add(libs, "benchmark_build", json_object_new_string(o->gbench_build));
		if (!strcmp(o->gbench_build, "debug"))
			warn(w, "Google Benchmark: libbenchmark was built as DEBUG (no NDEBUG): its "
			     "assertions run in its per-batch bookkeeping. hotpath runs each benchmark "
			     "as one batch, so this adds a fixed cost per batch, not per op, but tools "
			     "reading results.json see a debug library. Fix: a release build of "
			     "libbenchmark (cmake -DCMAKE_BUILD_TYPE=Release)");
	}
	json_object_object_add(env, "libraries", libs);
}

/* The keys of env.json come in this order: machine, processor, frequency
 * and isolation of the checked CPUs, noise, topology, build, the run. */
/* --metric cache: the geometry callgrind simulates (docs/metrics.md), per
 * level: size, ways and line as hwloc reports them, and "source": "hwloc"
 * when passed to valgrind as is, else why valgrind sized it from CPUID. */
static struct json_object *cachesim_json(hp_topo_t *t, int cpu)
{
	struct json_object *c = json_object_new_object();
	hp_cache_geom_t g[HP_NCACHES];

	hp_topo_cachesim(t, cpu, g);
	for (int l = 0; l < HP_NCACHES; l++) {
		struct json_object *x = json_object_new_object();
		char src[160];

		json_object_object_add(x, "size", json_object_new_int64((int64_t)g[l].size));
		json_object_object_add(x, "assoc", json_object_new_int(g[l].assoc));
		json_object_object_add(x, "line", json_object_new_int(g[l].line));
		if (g[l].given)
			snprintf(src, sizeof src, "hwloc");
		else
			snprintf(src, sizeof src, "valgrind's CPUID detection (%s)", g[l].why);
		json_object_object_add(x, "source", json_object_new_string(src));
		json_object_object_add(c, hp_cache_level_name(l), x);
	}
	return c;
}

struct json_object *hp_env_capture(hp_topo_t *t, const hp_env_opts_t *o)
{
	struct json_object *env = json_object_new_object();
	warn_ctx_t w = {json_object_new_array()};
	int *cpus = calloc(HP_MAX_CPUS, sizeof *cpus);
	cpuinfo_t ci;
	int ncpus;

	env_host(env);
	env_processor(env, &ci);
	if (!cpus) {
		json_object_put(env);
		json_object_put(w.arr);
		return NULL;
	}
	ncpus = checked_cpus(t, o, cpus);
	nominal_mhz(env, &ci, cpus[0]);
	governors(env, &w, cpus, ncpus);
	turbo(env, &w, cpus, ncpus);
	free(cpus);
	smt(env, &w, t, o);
	isolation(env, &w, o);
	env_noise(env, &w);
	env_cpus(env, t, o);
	env_build(env, &w, o);

	json_object_object_add(env, "seed", seed_json(o ? o->seed : 0));
	set_str(env, "command_line", o ? o->command_line : NULL);
	set_str(env, "metric", o ? o->metric : NULL);
	if (o && o->metric && !strcmp(o->metric, "cache"))
		json_object_object_add(env, "cache_sim", cachesim_json(t, o->ncpus > 0 ? o->cpus[0] : -1));
	set_str(env, "profile", o ? o->profile : NULL);
	json_object_object_add(env, "warnings", w.arr);
	return env;
}

/* ================================================================== */
/* Printing                                                            */
/* ================================================================== */

static const char *scalar(struct json_object *v, char *buf, size_t len)
{
	if (!v)
		return "-";
	switch (json_object_get_type(v)) {
	case json_type_string:
		return json_object_get_string(v)[0] ? json_object_get_string(v) : "(none)";
	case json_type_double:
		snprintf(buf, len, "%.6g", json_object_get_double(v));
		return buf;
	default:
		return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	}
}

int hp_env_print(struct json_object *env, FILE *out)
{
	struct json_object *warnings = NULL;
	char buf[64];
	int n = 0;

	if (!env || !json_object_is_type(env, json_type_object)) {
		fprintf(out, "no environment\n");
		return 0;
	}
	json_object_object_foreach(env, key, val) {
		if (!strcmp(key, "warnings")) {
			warnings = val;
			continue;
		}
		if (val && json_object_is_type(val, json_type_object)) {
			fprintf(out, "%s:\n", key);
			json_object_object_foreach(val, k2, v2)
				fprintf(out, "  %-28s %s\n", k2, scalar(v2, buf, sizeof buf));
		} else {
			fprintf(out, "%-30s %s\n", key, scalar(val, buf, sizeof buf));
		}
	}
	if (warnings && json_object_is_type(warnings, json_type_array))
		n = (int)json_object_array_length(warnings);
	if (!n) {
		fprintf(out, "\nno noise sources found\n");
		return 0;
	}
	fprintf(out, "\n%d noise source%s found:\n", n, n == 1 ? "" : "s");
	for (int i = 0; i < n; i++)
		fprintf(out, "  ! %s\n",
			json_object_get_string(json_object_array_get_idx(warnings, (size_t)i)));
	return n;
}
