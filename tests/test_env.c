/* test_env.c — env.json on the real machine, and each noise warning against fake /proc and /sys trees (HP_SYSROOT). */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "gbench.h"
#include "hp_config.h"
#include "metrics.h"
#include "t_util.h"
#include "topo.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static int has_key(struct json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

#define T_TYPE(o, k, type) T_CHECK_MSG(get(o, k) && json_object_is_type(get(o, k), type), \
				       "key %s missing or not %s", k, #type)

/* Warnings whose text starts with tag ("ASLR:", ...). */
static int nwarn(struct json_object *env, const char *tag)
{
	struct json_object *w = get(env, "warnings");
	int n = 0;

	if (!w || !json_object_is_type(w, json_type_array))
		return -1;
	for (size_t i = 0; i < json_object_array_length(w); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(w, i));

		n += s && !strncmp(s, tag, strlen(tag));
	}
	return n;
}

static const char *warn_text(struct json_object *env, const char *tag)
{
	struct json_object *w = get(env, "warnings");

	for (size_t i = 0; w && i < json_object_array_length(w); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(w, i));

		if (s && !strncmp(s, tag, strlen(tag)))
			return s;
	}
	return "";
}

static void dump_warnings(const char *what, struct json_object *env)
{
	struct json_object *w = get(env, "warnings");

	fprintf(stderr, "  warnings of %s:\n", what);
	for (size_t i = 0; w && i < json_object_array_length(w); i++)
		fprintf(stderr, "    %s\n", json_object_get_string(json_object_array_get_idx(w, i)));
}

/* The first "flags" line of the real /proc/cpuinfo has the word. */
static int real_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *tok = strtok(strchr(line, ':') + 1, " \n"); tok; tok = strtok(NULL, " \n"))
			found |= !strcmp(tok, flag);
		break;
	}
	free(line);
	fclose(f);
	return found;
}

/* ------------------------------------------------------------------ */
/* fake trees                                                          */
/* ------------------------------------------------------------------ */

static char root[] = "/tmp/hp-test-env-XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[1024];

	snprintf(path, sizeof path, "%s%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			perror(path);
			exit(1);
		}
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void del(const char *rel)
{
	char path[1024];

	snprintf(path, sizeof path, "%s%s", root, rel);
	unlink(path);
}

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(p);
}

static void rm_tree(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define CPUINFO(flags) \
	"processor\t: 0\nvendor_id\t: FakeVendor\nmodel name\t: Fake CPU @ 3.00GHz\n" \
	"microcode\t: 0xabc\ncpu MHz\t\t: 1200.000\nflags\t\t: fpu tsc " flags "\n\n" \
	"processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu hypervisor\n\n"

/* A machine set up for benchmarking: nothing to warn about. */
static void quiet_tree(void)
{
	rm_tree();
	if (mkdir(root, 0700) < 0) {
		perror(root);
		exit(1);
	}
	put("/proc/cpuinfo", CPUINFO("constant_tsc nonstop_tsc"));
	put("/proc/cmdline", "isolcpus=0-1 nohz_full=0-1 quiet\n");
	put("/proc/sys/kernel/randomize_va_space", "0\n");
	put("/sys/devices/system/cpu/online", "0-1\n");
	put("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n");
	put("/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "performance\n");
	put("/sys/devices/system/cpu/cpufreq/boost", "0\n");
	put("/sys/devices/system/cpu/isolated", "0-1\n");
	put("/sys/devices/system/cpu/nohz_full", "0-1\n");
	put("/sys/devices/system/cpu/smt/active", "0\n");
	put("/sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n");
	put("/sys/kernel/mm/transparent_hugepage/defrag", "[always] defer never\n");
}

static const int two[] = {0, 1};

static struct json_object *capture(hp_topo_t *t, const int *cpus, int n)
{
	hp_env_opts_t o = {.cpus = cpus, .ncpus = n, .seed = 7, .command_line = "test_env",
			   .metric = "time", .profile = "smoke"};
	struct json_object *env = hp_env_capture(t, &o);

	if (!env) {
		fprintf(stderr, "hp_env_capture returned NULL\n");
		exit(1);
	}
	return env;
}

/* Warnings of the fake machine that are not the real machine's perf. */
static int nwarn_fake(struct json_object *env)
{
	struct json_object *w = get(env, "warnings");

	return (int)json_object_array_length(w) - nwarn(env, "perf:");
}

static void test_fake(void)
{
	struct json_object *env, *g;
	int perf_missing = hp_perf_unavailable() != NULL;

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(1);
	}
	setenv("HP_SYSROOT", root, 1);

	/* governor=performance, no hypervisor, ASLR off, isolated: silence */
	quiet_tree();
	env = capture(NULL, two, 2);
	T_CHECK_MSG(nwarn_fake(env) == 0, "quiet tree has %d warning(s)", nwarn_fake(env));
	if (nwarn_fake(env))
		dump_warnings("quiet tree", env);
	T_CHECK(nwarn(env, "perf:") == perf_missing);
	T_CHECK_STR(str(env, "virtualization"), "none");
	T_CHECK_STR(str(env, "turbo"), "off");
	T_CHECK_STR(str(env, "isolcpus"), "0-1");
	T_CHECK_STR(str(env, "nohz_full"), "0-1");
	T_CHECK_STR(str(env, "cpu_model"), "Fake CPU @ 3.00GHz");
	T_CHECK_STR(str(env, "microcode"), "0xabc");
	T_CHECK_STR(str(env, "cmdline"), "isolcpus=0-1 nohz_full=0-1 quiet");
	T_CHECK_STR(str(env, "cpus"), "0-1");
	T_CHECK(json_object_get_int(get(env, "aslr")) == 0 &&
		json_object_is_type(get(env, "aslr"), json_type_int));
	T_CHECK_STR(str(get(env, "thp"), "enabled"), "never");
	T_CHECK_STR(str(get(env, "thp"), "defrag"), "always");
	T_CHECK(json_object_get_double(get(env, "nominal_mhz")) == 3000.0);
	g = get(env, "governor");
	T_CHECK_STR(str(g, "0"), "performance");
	T_CHECK_STR(str(g, "1"), "performance");
	T_CHECK(json_object_object_length(g) == 2);
	T_CHECK(!json_object_get_boolean(get(get(env, "smt"), "active")));
	T_CHECK(get(env, "pus") == NULL && has_key(env, "pus"));   /* no topology: null */
	json_object_put(env);

	/* governor=powersave on one CPU: one frequency warning naming it */
	put("/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "powersave\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "frequency scaling:") == 1);
	T_CHECK_MSG(strstr(warn_text(env, "frequency"), "powersave on CPU 1"), "%s",
		    warn_text(env, "frequency"));
	T_CHECK(nwarn_fake(env) == 1);
	json_object_put(env);
	/* ... and only the selected CPUs count */
	env = capture(NULL, two, 1);
	T_CHECK(nwarn(env, "frequency scaling:") == 0);
	T_CHECK(json_object_object_length(get(env, "governor")) == 1);
	json_object_put(env);
	/* no cpufreq at all (a VM): governor unknown is a warning too */
	del("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
	del("/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "frequency scaling:") == 1);
	T_CHECK_STR(str(get(env, "governor"), "0"), "unknown");
	T_CHECK_MSG(strstr(warn_text(env, "frequency"), "unknown on CPU 0-1"), "%s",
		    warn_text(env, "frequency"));
	json_object_put(env);

	/* turbo: cpufreq boost=1, intel_pstate no_turbo=0 / 1 */
	quiet_tree();
	put("/sys/devices/system/cpu/cpufreq/boost", "1\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "turbo:") == 1);
	T_CHECK_STR(str(env, "turbo"), "on");
	T_CHECK(nwarn_fake(env) == 1);
	json_object_put(env);
	put("/sys/devices/system/cpu/intel_pstate/no_turbo", "1\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "turbo:") == 0);
	T_CHECK_STR(str(env, "turbo"), "off");
	json_object_put(env);
	put("/sys/devices/system/cpu/intel_pstate/no_turbo", "0\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "turbo:") == 1);
	json_object_put(env);
	del("/sys/devices/system/cpu/intel_pstate/no_turbo");
	del("/sys/devices/system/cpu/cpufreq/boost");
	env = capture(NULL, two, 2);
	T_CHECK_STR(str(env, "turbo"), "unknown");
	T_CHECK(nwarn(env, "turbo:") == 0);
	json_object_put(env);
	put("/sys/devices/system/cpu/cpu1/cpufreq/boost", "1\n");   /* amd-pstate, per policy */
	env = capture(NULL, two, 2);
	T_CHECK_STR(str(env, "turbo"), "on");
	json_object_put(env);

	/* ASLR on */
	quiet_tree();
	put("/proc/sys/kernel/randomize_va_space", "2\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "ASLR:") == 1);
	T_CHECK(nwarn_fake(env) == 1);
	T_CHECK(json_object_get_int(get(env, "aslr")) == 2);
	json_object_put(env);

	/* VM: the hypervisor flag; or DMI naming one */
	quiet_tree();
	put("/proc/cpuinfo", CPUINFO("constant_tsc hypervisor nonstop_tsc"));
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "virtual machine:") == 1);
	T_CHECK(nwarn_fake(env) == 1);
	T_CHECK(str(env, "virtualization") && strcmp(str(env, "virtualization"), "none"));
	json_object_put(env);
	quiet_tree();
	put("/sys/class/dmi/id/sys_vendor", "QEMU\n");
	put("/sys/class/dmi/id/product_name", "Standard PC (Q35 + ICH9, 2009)\n");
	env = capture(NULL, two, 2);
	T_CHECK_STR(str(env, "virtualization"), "qemu");
	T_CHECK(nwarn(env, "virtual machine:") == 1);
	json_object_put(env);
	put("/sys/class/dmi/id/sys_vendor", "Dell Inc.\n");
	put("/sys/class/dmi/id/product_name", "PowerEdge R650\n");
	T_CHECK_STR(hp_virt_name(), "none");

	/* isolation */
	quiet_tree();
	put("/sys/devices/system/cpu/isolated", "\n");
	put("/sys/devices/system/cpu/nohz_full", "(null)\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "isolation:") == 1);
	T_CHECK(nwarn(env, "nohz_full:") == 0);
	T_CHECK_MSG(strstr(warn_text(env, "isolation:"), "no isolated CPUs"), "%s",
		    warn_text(env, "isolation:"));
	T_CHECK_STR(str(env, "nohz_full"), "");
	json_object_put(env);
	put("/sys/devices/system/cpu/isolated", "1-3\n");
	put("/sys/devices/system/cpu/nohz_full", "1-3\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "isolation:") == 1);
	T_CHECK_MSG(strstr(warn_text(env, "isolation:"), "CPU 0 not isolated"), "%s",
		    warn_text(env, "isolation:"));
	json_object_put(env);
	/* the selected CPUs isolated but ticking */
	put("/sys/devices/system/cpu/isolated", "0-3\n");
	put("/sys/devices/system/cpu/nohz_full", "1\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "isolation:") == 0);
	T_CHECK(nwarn(env, "nohz_full:") == 1);
	T_CHECK_MSG(strstr(warn_text(env, "nohz_full:"), "CPU 0 isolated"), "%s",
		    warn_text(env, "nohz_full:"));
	json_object_put(env);
	/* isolated list containing the selected CPUs: no isolation warning */
	put("/sys/devices/system/cpu/nohz_full", "0-3\n");
	env = capture(NULL, two, 2);
	T_CHECK(nwarn(env, "isolation:") == 0 && nwarn(env, "nohz_full:") == 0);
	json_object_put(env);
	/* no selection (hotpath env): the isolated CPUs are what matters */
	env = capture(NULL, NULL, 0);
	T_CHECK(nwarn(env, "isolation:") == 0 && nwarn(env, "nohz_full:") == 0);
	T_CHECK(get(env, "cpus") == NULL && has_key(env, "cpus"));
	T_CHECK(json_object_object_length(get(env, "governor")) == 2);   /* online 0-1 */
	json_object_put(env);

	/* SMT, on a synthetic two-way SMT machine */
	char err[256];
	hp_topo_t *smt = hp_topo_load_synthetic("pack:1 core:2 pu:2", err, sizeof err);
	T_CHECK_MSG(smt != NULL, "%s", err);
	if (smt) {
		int sib[] = {0, 1}, apart[] = {0, 2};

		quiet_tree();
		put("/sys/devices/system/cpu/isolated", "0-3\n");
		put("/sys/devices/system/cpu/nohz_full", "0-3\n");
		put("/sys/devices/system/cpu/smt/active", "1\n");
		env = capture(smt, sib, 2);
		T_CHECK(nwarn(env, "SMT:") == 1);
		T_CHECK(json_object_get_boolean(get(get(env, "smt"), "siblings_in_use")));
		T_CHECK(strstr(warn_text(env, "SMT:"), "hyperthreads of one core") != NULL);
		T_CHECK(json_object_get_int(get(env, "pus")) == 4);
		T_CHECK(json_object_get_int(get(env, "cores")) == 2);
		json_object_put(env);
		env = capture(smt, apart, 2);
		T_CHECK(nwarn(env, "SMT:") == 1);
		T_CHECK(!json_object_get_boolean(get(get(env, "smt"), "siblings_in_use")));
		T_CHECK(json_object_get_boolean(get(get(env, "smt"), "active")));
		json_object_put(env);
		/* no smt/active file: the topology decides */
		del("/sys/devices/system/cpu/smt/active");
		env = capture(smt, apart, 2);
		T_CHECK(json_object_get_boolean(get(get(env, "smt"), "active")));
		json_object_put(env);
		put("/sys/devices/system/cpu/smt/active", "0\n");
		env = capture(smt, apart, 2);
		T_CHECK(nwarn(env, "SMT:") == 0);
		json_object_put(env);
		hp_topo_free(smt);
	}

	/* an empty tree: nothing readable, nothing crashes */
	rm_tree();
	mkdir(root, 0700);
	env = capture(NULL, two, 2);
	T_CHECK_STR(str(env, "cpu_model"), "unknown");
	T_CHECK(has_key(env, "aslr") && get(env, "aslr") == NULL);
	T_CHECK(nwarn(env, "frequency scaling:") == 1);
	T_CHECK(nwarn(env, "isolation:") == 1);
	T_CHECK(nwarn(env, "ASLR:") == 0);
	T_CHECK_STR(str(env, "virtualization"), "none");
	json_object_put(env);

	rm_tree();
	unsetenv("HP_SYSROOT");
}

/* ------------------------------------------------------------------ */
/* the real machine                                                    */
/* ------------------------------------------------------------------ */

static void test_real(void)
{
	char err[256];
	hp_topo_t *t = hp_topo_load(err, sizeof err);
	int cpus[HP_MAX_CPUS], n;
	struct json_object *env, *o;

	T_CHECK_MSG(t != NULL, "%s", err);
	if (!t)
		return;
	n = hp_cpulist_parse(t, "auto", cpus, HP_MAX_CPUS, err, sizeof err);
	T_CHECK_MSG(n > 0, "%s", err);
	if (n <= 0)
		n = 0;
	hp_env_opts_t opts = {.cpus = cpus, .ncpus = n, .seed = 12345, .command_line = "hotpath run x",
			      .metric = "instructions", .profile = "quick"};
	env = hp_env_capture(t, &opts);
	T_CHECK(env != NULL);
	if (!env) {
		hp_topo_free(t);
		return;
	}

	static const char *const strings[] = {
		"date", "host", "kernel_release", "kernel_version", "cmdline", "cpu_model",
		"microcode", "turbo", "isolcpus", "nohz_full", "compiler", "cflags", "build_type",
		"sanitize", "command_line", "metric", "profile", "virtualization", "cpus",
		"hotpath_version",
	};
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		T_TYPE(env, strings[i], json_type_string);
	T_TYPE(env, "tsc", json_type_object);
	T_TYPE(env, "governor", json_type_object);
	T_TYPE(env, "smt", json_type_object);
	T_TYPE(env, "thp", json_type_object);
	T_TYPE(env, "git", json_type_object);
	T_TYPE(env, "libraries", json_type_object);
	T_TYPE(env, "timer", json_type_object);
	T_TYPE(env, "warnings", json_type_array);
	T_TYPE(env, "seed", json_type_int);
	T_TYPE(env, "pus", json_type_int);
	T_TYPE(env, "cores", json_type_int);
	T_TYPE(env, "numa_nodes", json_type_int);
	T_CHECK(has_key(env, "nominal_mhz") && has_key(env, "aslr") && has_key(env, "perf"));

	const char *date = str(env, "date");
	T_CHECK_MSG(date && strlen(date) == 20 && date[4] == '-' && date[10] == 'T' && date[19] == 'Z',
		    "date %s", date ? date : "(null)");
	T_CHECK(json_object_get_int64(get(env, "seed")) == 12345);
	T_CHECK_STR(str(env, "metric"), "instructions");
	T_CHECK_STR(str(env, "hotpath_version"), HP_VERSION);
	T_CHECK_STR(str(env, "sanitize"), HP_SANITIZE);
	T_CHECK(json_object_get_int(get(env, "pus")) == hp_topo_npus(t));
	const char *turbo = str(env, "turbo");
	T_CHECK(turbo && (!strcmp(turbo, "on") || !strcmp(turbo, "off") || !strcmp(turbo, "unknown")));

	o = get(env, "tsc");
	T_TYPE(o, "invariant", json_type_boolean);
	T_CHECK(json_object_get_boolean(get(o, "invariant")) == hp_tsc_invariant());
	if (hp_tsc_per_ns() > 0) {
		T_TYPE(o, "mhz", json_type_double);
		double mhz = json_object_get_double(get(o, "mhz"));
		T_CHECK_MSG(mhz > 0.9 * hp_tsc_per_ns() * 1000 && mhz < 1.1 * hp_tsc_per_ns() * 1000,
			    "tsc.mhz %g vs %g", mhz, hp_tsc_per_ns() * 1000);
	}
	o = get(env, "governor");
	T_CHECK((int)json_object_object_length(o) == n);
	o = get(env, "smt");
	T_TYPE(o, "active", json_type_boolean);
	T_TYPE(o, "siblings_in_use", json_type_boolean);
	T_CHECK(!json_object_get_boolean(get(o, "siblings_in_use")));   /* "auto": one PU per core */
	o = get(env, "thp");
	T_TYPE(o, "enabled", json_type_string);
	T_TYPE(o, "defrag", json_type_string);
	o = get(env, "git");
	T_TYPE(o, "revision", json_type_string);
	T_CHECK(get(o, "dirty") && (json_object_is_type(get(o, "dirty"), json_type_boolean) ||
				    json_object_is_type(get(o, "dirty"), json_type_string)));
	if (access(HP_SOURCE_ROOT "/.git", F_OK) == 0 && access("/usr/bin/git", X_OK) == 0)
		T_CHECK_MSG(str(o, "revision") && strlen(str(o, "revision")) == 40, "revision %s",
			    str(o, "revision"));
	o = get(env, "libraries");
	T_TYPE(o, "hwloc", json_type_string);
	T_TYPE(o, "json-c", json_type_string);
	T_TYPE(o, "hwloc_runtime_api", json_type_string);
	T_CHECK_STR(str(o, "json-c_runtime"), json_c_version());
	T_TYPE(o, "gnuplot", json_type_string);
	o = get(env, "timer");
	T_TYPE(o, "clock_gettime_monotonic_ns", json_type_double);
	T_TYPE(o, "clock_gettime_cputime_ns", json_type_double);
	T_CHECK(json_object_get_double(get(o, "clock_gettime_monotonic_ns")) > 0);
	T_CHECK(json_object_get_double(get(o, "clock_gettime_cputime_ns")) > 0);
#if defined(__x86_64__)
	T_TYPE(o, "rdtsc_ns", json_type_double);
	T_CHECK(json_object_get_double(get(o, "rdtsc_ns")) > 0);
#endif

	/* warnings: an array of strings, one per noise source found here */
	o = get(env, "warnings");
	for (size_t i = 0; o && i < json_object_array_length(o); i++)
		T_CHECK(json_object_is_type(json_object_array_get_idx(o, i), json_type_string));
	int hyper = real_flag("hypervisor");
	if (hyper >= 0) {
		T_CHECK_MSG(nwarn(env, "virtual machine:") == hyper, "hypervisor flag %d", hyper);
		T_CHECK(!strcmp(str(env, "virtualization"), "none") == !hyper);
	}
	FILE *f = fopen("/proc/sys/kernel/randomize_va_space", "r");
	int aslr = -1;
	if (f) {
		if (fscanf(f, "%d", &aslr) != 1)
			aslr = -1;
		fclose(f);
	}
	if (aslr >= 0) {
		T_CHECK(nwarn(env, "ASLR:") == (aslr != 0));
		T_CHECK(json_object_get_int(get(env, "aslr")) == aslr);
	}
	const char *why = hp_perf_unavailable();
	T_CHECK(nwarn(env, "perf:") == (why != NULL));
	if (why) {
		T_CHECK(str(env, "perf") && !strncmp(str(env, "perf"), "unavailable: ", 13));
		T_CHECK(strstr(warn_text(env, "perf:"), why) != NULL);
	} else {
		T_CHECK(has_key(env, "perf") && get(env, "perf") == NULL);
	}

	/* hp_env_print: every fact and every warning, returns their number */
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int nw = hp_env_print(env, mem);
	fclose(mem);
	T_CHECK(nw == (int)json_object_array_length(get(env, "warnings")));
	T_CHECK(text && strstr(text, "cpu_model") && strstr(text, str(env, "cpu_model")));
	for (int i = 0; i < nw; i++)
		T_CHECK(strstr(text, json_object_get_string(
					     json_object_array_get_idx(get(env, "warnings"), (size_t)i))));
	fputs(text, stdout);
	free(text);

	/* big seeds stay exact: a string */
	opts.seed = UINT64_MAX;
	json_object_put(env);
	env = hp_env_capture(t, &opts);
	T_CHECK_STR(str(env, "seed"), "18446744073709551615");
	json_object_put(env);
	hp_topo_free(t);
}

static void *tsc_thread(void *arg)
{
	*(double *)arg = hp_tsc_per_ns();
	return NULL;
}

static void test_tsc(void)
{
	/* Threads racing for the first calibration all see the same value. */
	pthread_t th[4];
	double seen[4];
	int started = 0;
	for (int i = 0; i < 4; i++)
		started += pthread_create(&th[started], NULL, tsc_thread, &seen[started]) == 0;
	T_CHECK(started == 4);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (int i = 1; i < started; i++)
		T_CHECK(seen[i] == seen[0]);

	int cst = real_flag("constant_tsc"), nst = real_flag("nonstop_tsc");

	if (cst >= 0)
		T_CHECK(hp_tsc_invariant() == (cst && nst));
#if defined(__x86_64__) || defined(__i386__)
	uint64_t a = hp_rdtsc();
	struct timespec ts = {0, 2000000};
	nanosleep(&ts, NULL);
	uint64_t b = hp_rdtsc();
	T_CHECK_MSG(b > a, "rdtsc did not advance: %" PRIu64 " -> %" PRIu64, a, b);
	if (cst > 0) {
		double r = hp_tsc_per_ns();

		T_CHECK_MSG(r > 0.05 && r < 20, "tsc_per_ns %g", r);
		T_CHECK(hp_tsc_per_ns() == r);   /* cached */
		/* 2 ms slept: at least that many ticks (sleep never ends early) */
		T_CHECK_MSG((double)(b - a) / r >= 1.9e6, "%g ns for a 2 ms sleep", (b - a) / r);
		printf("tsc: %.3f MHz\n", r * 1000);
	}
#endif
	T_CHECK(hp_virt_name() != NULL);
}

/* The build of libbenchmark: recorded, and a debug one warned about. */
static void test_gbench_build(void)
{
	static const char *const kinds[] = {"debug", "release", NULL};

	for (int i = 0; i < 3; i++) {
		hp_env_opts_t o = {.cpus = two, .ncpus = 1, .seed = 1, .command_line = "test_env",
				   .metric = "time", .profile = "smoke", .gbench_build = kinds[i]};
		struct json_object *env = hp_env_capture(NULL, &o), *libs;

		T_CHECK(env != NULL);
		if (!env)
			return;
		libs = get(env, "libraries");
		T_CHECK_MSG(nwarn(env, "Google Benchmark:") == (i == 0), "build %s: %d warning(s)",
			    kinds[i] ? kinds[i] : "unknown", nwarn(env, "Google Benchmark:"));
		if (kinds[i])
			T_CHECK_STR(str(libs, "benchmark_build"), kinds[i]);
		else
			T_CHECK(!has_key(libs, "benchmark_build"));
		json_object_put(env);
	}
	/* the wrapper's own answer is one of the two */
	const char *b = hp_gb_library_build();
	T_CHECK_MSG(!strcmp(b, "debug") || !strcmp(b, "release"), "hp_gb_library_build: %s", b);
}

int main(void)
{
	unsetenv("HP_SYSROOT");
	test_tsc();
	test_real();
	test_fake();
	test_gbench_build();
	return t_done("test_env");
}
