/* test_cpulist.c — CPU list parsing, auto selection, SMT facts, binding and XML export (topo.c). */
#include "t_util.h"
#include "topo.h"

#include <dirent.h>
#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char err[512];

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static hp_topo_t *synth(const char *desc)
{
	hp_topo_t *t = hp_topo_load_synthetic(desc, err, sizeof(err));

	T_CHECK_MSG(t != NULL, "synthetic '%s': %s", desc, err);
	if (!t)
		exit(1);
	return t;
}

/* Parses spec and compares with the expected list, given as a string so a
 * failure prints readably. */
static void expect_list(hp_topo_t *t, const char *spec, const char *want)
{
	int cpus[HP_MAX_CPUS];
	char got[1024];
	int n;

	err[0] = '\0';
	n = hp_cpulist_parse(t, spec, cpus, HP_MAX_CPUS, err, sizeof(err));
	T_CHECK_MSG(n >= 0, "parse '%s' failed: %s", spec, err);
	if (n < 0)
		return;
	got[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t l = strlen(got);
		snprintf(got + l, sizeof(got) - l, "%s%d", i ? "," : "", cpus[i]);
	}
	T_CHECK_STR(got, want);
}

/* Expects a parse error whose message contains every fragment given. */
static void expect_err(hp_topo_t *t, const char *spec, int max, const char *frag1,
		       const char *frag2)
{
	int cpus[HP_MAX_CPUS];
	int n;

	err[0] = '\0';
	n = hp_cpulist_parse(t, spec, cpus, max, err, sizeof(err));
	T_CHECK_MSG(n == -1, "parse '%s' should fail, got %d", spec ? spec : "(null)", n);
	T_CHECK_MSG(strncmp(err, "--cpus: ", 8) == 0, "'%s': message '%s'", spec, err);
	T_CHECK_MSG(strstr(err, frag1) != NULL, "'%s': '%s' lacks '%s'", spec, err, frag1);
	if (frag2)
		T_CHECK_MSG(strstr(err, frag2) != NULL, "'%s': '%s' lacks '%s'", spec, err, frag2);
}

static void spin(void)
{
	volatile unsigned long x = 0;

	for (unsigned long i = 0; i < 200000; i++)
		x += i;
	(void)x;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

static void test_parse(void)
{
	hp_topo_t *t = synth("pack:1 core:16 pu:1");	/* CPUs 0-15 */
	const char *hint = "expected CPU numbers and ranges such as 0-3,8,10, or auto";
	int cpus[HP_MAX_CPUS];

	expect_list(t, "0-3,8,10", "0,1,2,3,8,10");
	expect_list(t, "5", "5");
	expect_list(t, "15,0-2", "15,0,1,2");
	expect_list(t, "3-3", "3");
	expect_list(t, "007", "7");
	expect_list(t, "0-15", "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15");

	/* Syntax: the whole list and, for a later item, the item are named. */
	expect_err(t, "x1", HP_MAX_CPUS, "bad CPU list 'x1': ", hint);
	expect_err(t, "0,x1", HP_MAX_CPUS, "bad CPU list '0,x1' (at 'x1')", hint);
	expect_err(t, "1,,2", HP_MAX_CPUS, "bad CPU list '1,,2'", hint);
	expect_err(t, "1,", HP_MAX_CPUS, "bad CPU list '1,'", hint);
	expect_err(t, ",1", HP_MAX_CPUS, "bad CPU list ',1'", hint);
	expect_err(t, " 1", HP_MAX_CPUS, "bad CPU list ' 1'", hint);
	expect_err(t, "1 ", HP_MAX_CPUS, "bad CPU list '1 '", hint);
	expect_err(t, "1, 2", HP_MAX_CPUS, "bad CPU list '1, 2' (at ' 2')", hint);
	expect_err(t, "1-", HP_MAX_CPUS, "bad CPU list '1-'", hint);
	expect_err(t, "-1", HP_MAX_CPUS, "bad CPU list '-1'", hint);
	expect_err(t, "1-2-3", HP_MAX_CPUS, "bad CPU list '1-2-3'", hint);
	expect_err(t, "0x1", HP_MAX_CPUS, "bad CPU list '0x1'", hint);
	expect_err(t, "+1", HP_MAX_CPUS, "bad CPU list '+1'", hint);
	expect_err(t, "auto ", HP_MAX_CPUS, "bad CPU list 'auto '", hint);
	expect_err(t, "AUTO", HP_MAX_CPUS, "bad CPU list 'AUTO'", hint);
	expect_err(t, "", HP_MAX_CPUS, "empty CPU list", hint);
	expect_err(t, NULL, HP_MAX_CPUS, "empty CPU list", hint);

	/* Ranges must ascend. */
	expect_err(t, "3-1", HP_MAX_CPUS, "bad range '3-1'", "ascending (write 1-3)");
	expect_err(t, "0,9-4", HP_MAX_CPUS, "bad range '9-4' in CPU list '0,9-4'", "write 4-9");

	/* Duplicates, including through overlapping ranges. */
	expect_err(t, "2,2", HP_MAX_CPUS, "CPU 2 is listed twice", NULL);
	expect_err(t, "1,2,1", HP_MAX_CPUS, "CPU 1 is listed twice", NULL);
	expect_err(t, "0-3,2-5", HP_MAX_CPUS, "CPU 2 is listed twice", NULL);

	/* Existence names the CPU and the machine's CPUs. */
	expect_err(t, "16", HP_MAX_CPUS, "CPU 16 does not exist", "(this machine has CPUs 0-15)");
	expect_err(t, "14-20", HP_MAX_CPUS, "CPU 16 does not exist", "0-15");
	expect_err(t, "99999999999999999999", HP_MAX_CPUS,
		   "CPU 99999999999999999999 does not exist", "0-15");

	/* The caller's capacity is honoured. */
	expect_err(t, "0-4", 4, "too many CPUs", "at most 4");
	T_CHECK(hp_cpulist_parse(t, "0-3", cpus, 4, err, sizeof(err)) == 4);
	expect_err(t, "auto", 3, "more than 3 cores", NULL);
	T_CHECK(hp_cpulist_parse(t, "0", NULL, 4, err, sizeof(err)) == -1);
	T_CHECK(hp_cpulist_parse(NULL, "0", cpus, 4, err, sizeof(err)) == -1);
	/* A NULL/zero-length err must not crash. */
	T_CHECK(hp_cpulist_parse(t, "x", cpus, 4, NULL, 0) == -1);

	hp_topo_free(t);
}

/* ------------------------------------------------------------------------ */
/* Formatting                                                               */
/* ------------------------------------------------------------------------ */

static void test_format(void)
{
	hp_topo_t *t = synth("pack:2 core:32 pu:1");	/* CPUs 0-63 */
	int a[] = {0, 1, 2, 3, 8, 10}, b[] = {7, 0, 1, 2}, c[] = {3, 2, 1}, d[] = {4, 5};
	char buf[1024], small[6];
	unsigned seed = 12345;

	T_CHECK_STR(hp_cpulist_format(a, 6, buf, sizeof(buf)), "0-3,8,10");
	T_CHECK_STR(hp_cpulist_format(b, 4, buf, sizeof(buf)), "7,0-2");
	T_CHECK_STR(hp_cpulist_format(c, 3, buf, sizeof(buf)), "3,2,1");
	T_CHECK_STR(hp_cpulist_format(d, 2, buf, sizeof(buf)), "4-5");
	T_CHECK_STR(hp_cpulist_format(a, 0, buf, sizeof(buf)), "");
	/* Too small a buffer keeps whole items only. */
	T_CHECK_STR(hp_cpulist_format(a, 6, small, sizeof(small)), "0-3,8");
	T_CHECK_STR(hp_cpulist_format(a, 6, small, 3), "");

	/* parse(format(x)) == x for lists of distinct CPUs in any order. */
	for (int round = 0; round < 300; round++) {
		int x[64], y[HP_MAX_CPUS], used[64] = {0}, n, m;

		n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 64;
		for (int i = 0; i < n; i++) {
			int v;

			/* Bias towards runs so ranges get exercised. */
			seed = seed * 1103515245u + 12345u;
			v = (i && (seed >> 20) % 3 && x[i - 1] + 1 < 64) ? x[i - 1] + 1
								    : (int)((seed >> 8) % 64);
			while (used[v])
				v = (v + 1) % 64;
			used[v] = 1;
			x[i] = v;
		}
		hp_cpulist_format(x, n, buf, sizeof(buf));
		m = hp_cpulist_parse(t, buf, y, HP_MAX_CPUS, err, sizeof(err));
		T_CHECK_MSG(m == n, "round trip '%s': %d vs %d (%s)", buf, m, n, err);
		if (m == n)
			T_CHECK_MSG(memcmp(x, y, (size_t)n * sizeof(int)) == 0,
				    "round trip '%s' changed the list", buf);
	}
	hp_topo_free(t);
}

/* ------------------------------------------------------------------------ */
/* Synthetic machines: auto, SMT, counts                                    */
/* ------------------------------------------------------------------------ */

static void test_synthetic(void)
{
	hp_topo_t *t;
	char buf[256];
	int l01[] = {0, 1}, l02[] = {0, 2}, l0123[] = {0, 1, 2, 3}, l11[] = {1, 1};

	/* SMT with hwloc's default numbering: siblings are consecutive. */
	t = synth("pack:1 core:4 pu:2");
	T_CHECK(hp_topo_npus(t) == 8);
	T_CHECK(hp_topo_ncores(t) == 4);
	T_CHECK(hp_topo_nnuma(t) == 1);
	expect_list(t, "auto", "2,4,6,0");
	T_CHECK(hp_topo_smt_width(t, 0) == 2);
	T_CHECK(hp_topo_smt_width(t, 7) == 2);
	T_CHECK(hp_topo_smt_width(t, 8) == -1);
	T_CHECK(hp_topo_smt_width(t, -1) == -1);
	T_CHECK(hp_topo_smt_siblings_in(t, l01, 2) == 1);
	T_CHECK(hp_topo_smt_siblings_in(t, l02, 2) == 0);
	T_CHECK(hp_topo_smt_siblings_in(t, l11, 2) == 0);
	T_CHECK_STR(hp_topo_allowed(t, buf, sizeof(buf)), "0-7");
	/* Synthetic topologies cannot bind. */
	T_CHECK(hp_topo_bind_thread(t, 0, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "synthetic topology") != NULL);
	T_CHECK(hp_topo_bind_process(t, 0, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "synthetic topology") != NULL);
	T_CHECK(hp_topo_last_cpu(t) == -1);
	hp_topo_free(t);

	/* No SMT, two packages. */
	t = synth("pack:2 core:2 pu:1");
	T_CHECK(hp_topo_npus(t) == 4);
	T_CHECK(hp_topo_ncores(t) == 4);
	expect_list(t, "auto", "1,2,3,0");
	T_CHECK(hp_topo_smt_width(t, 3) == 1);
	T_CHECK(hp_topo_smt_siblings_in(t, l0123, 4) == 0);
	hp_topo_free(t);

	/* Two NUMA nodes. */
	t = synth("pack:2 numa:1 core:2 pu:2");
	T_CHECK(hp_topo_npus(t) == 8);
	T_CHECK(hp_topo_ncores(t) == 4);
	T_CHECK(hp_topo_nnuma(t) == 2);
	expect_list(t, "auto", "2,4,6,0");
	T_CHECK(hp_topo_smt_width(t, 5) == 2);
	T_CHECK(hp_topo_smt_siblings_in(t, l0123, 4) == 1);
	T_CHECK(hp_topo_bind_thread(t, 4, err, sizeof(err)) == -1);
	hp_topo_free(t);

	/* Linux-style SMT numbering: core k holds CPUs k and k+ncores, so
	 * auto must pick the lowest OS index of each core, not every other. */
	t = synth("pack:2 core:2 pu:2(indexes=0,4,1,5,2,6,3,7)");
	expect_list(t, "auto", "1,2,3,0");
	{
		int sib[] = {3, 7}, nosib[] = {0, 1, 2, 3};

		T_CHECK(hp_topo_smt_siblings_in(t, sib, 2) == 1);
		T_CHECK(hp_topo_smt_siblings_in(t, nosib, 4) == 0);
		T_CHECK(hp_topo_smt_siblings_in(t, l01, 2) == 0);
	}
	hp_topo_free(t);

	/* CPU 0's core is not the first core in hwloc order. */
	t = synth("pack:1 core:3 pu:2(indexes=2,3,0,1,4,5)");
	expect_list(t, "auto", "2,4,0");
	hp_topo_free(t);

	/* Bad descriptions fail cleanly with the description named. */
	err[0] = '\0';
	T_CHECK(hp_topo_load_synthetic("pack:banana", err, sizeof(err)) == NULL);
	T_CHECK_MSG(strstr(err, "'pack:banana'") != NULL, "%s", err);
	T_CHECK(hp_topo_load_synthetic(NULL, err, sizeof(err)) == NULL);
}

/* ------------------------------------------------------------------------ */
/* The real machine                                                         */
/* ------------------------------------------------------------------------ */

static int g_allowed[HP_MAX_CPUS], g_nallowed;
static hp_topo_t *g_real;

struct worker {
	int id, bad, binds;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char e[256];

	for (int k = 0; k < 40; k++) {
		int cpu = g_allowed[(w->id + k) % g_nallowed];

		if (hp_topo_bind_thread(g_real, cpu, e, sizeof(e)) < 0) {
			w->bad++;
			continue;
		}
		spin();
		if (hp_topo_last_cpu(g_real) != cpu)
			w->bad++;
		w->binds++;
	}
	return NULL;
}

/* Runs in a re-executed copy of this test whose affinity was narrowed to
 * CPU `mine` before exec, as taskset does (a fork alone would leave helper
 * threads, such as TSan's, on the old mask). `other` is not allowed there. */
static int restricted_child(int mine, int other)
{
	cpu_set_t set;
	hp_topo_t *t;
	char e[512], want[160];
	int cpus[4];

	t = hp_topo_load(e, sizeof(e));
	if (!t)
		return 11;
	snprintf(want, sizeof(want), "%d", other);
	if (hp_cpulist_parse(t, want, cpus, 4, e, sizeof(e)) != -1)
		return 12;
	snprintf(want, sizeof(want),
		 "CPU %d is not in this process's allowed set %d (restricted by taskset or a cgroup)",
		 other, mine);
	if (!strstr(e, want)) {
		fprintf(stderr, "got '%s'\nwant '%s'\n", e, want);
		return 13;
	}
	if (hp_cpulist_parse(t, "auto", cpus, 4, e, sizeof(e)) != 1 || cpus[0] != mine)
		return 14;
	hp_topo_allowed(t, want, sizeof(want));
	if (atoi(want) != mine || strchr(want, ',') || strchr(want, '-'))
		return 15;
	/* Binding beyond taskset's mask is allowed; the process ends up on
	 * exactly that CPU. */
	if (hp_topo_bind_process(t, other, e, sizeof(e)) < 0)
		return 16;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) != 1 ||
	    !CPU_ISSET(other, &set))
		return 17;
	spin();
	if (hp_topo_last_cpu(t) != other)
		return 18;
	hp_topo_free(t);
	return 0;
}

static void test_restricted_child(void)
{
	pid_t pid;
	int status;

	if (g_nallowed < 2)
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char a[16], b[16];
		char *args[] = { "test_cpulist", "--restricted-child", a, b, NULL };
		cpu_set_t set;

		snprintf(a, sizeof(a), "%d", g_allowed[0]);
		snprintf(b, sizeof(b), "%d", g_allowed[1]);
		CPU_ZERO(&set);
		CPU_SET(g_allowed[0], &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			_exit(10);
		execv("/proc/self/exe", args);
		_exit(9);
	}
	T_CHECK(pid > 0);
	if (pid <= 0)
		return;
	T_CHECK(waitpid(pid, &status, 0) == pid);
	T_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "restricted child status %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void test_real(void)
{
	char buf[2048], present[64];
	int cpus[HP_MAX_CPUS], n;
	pthread_t th[4];
	struct worker w[4];

	g_real = hp_topo_load(err, sizeof(err));
	T_CHECK_MSG(g_real != NULL, "load: %s", err);
	if (!g_real)
		return;
	T_CHECK(hp_topo_npus(g_real) >= 1);
	T_CHECK(hp_topo_ncores(g_real) >= 1 && hp_topo_ncores(g_real) <= hp_topo_npus(g_real));
	T_CHECK(hp_topo_nnuma(g_real) >= 1);

	/* The allowed string parses back to the allowed CPUs. */
	hp_topo_allowed(g_real, buf, sizeof(buf));
	g_nallowed = hp_cpulist_parse(g_real, buf, g_allowed, HP_MAX_CPUS, err, sizeof(err));
	T_CHECK_MSG(g_nallowed >= 1, "allowed '%s' does not parse: %s", buf, err);
	if (g_nallowed < 1)
		return;
	{
		cpu_set_t set;

		CPU_ZERO(&set);
		T_CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
		T_CHECK_MSG(CPU_COUNT(&set) == g_nallowed, "affinity has %d CPUs, allowed %d",
			    CPU_COUNT(&set), g_nallowed);
		for (int i = 0; i < g_nallowed; i++)
			T_CHECK(CPU_ISSET(g_allowed[i], &set));
	}

	/* auto picks distinct allowed CPUs, one per core. */
	n = hp_cpulist_parse(g_real, "auto", cpus, HP_MAX_CPUS, err, sizeof(err));
	T_CHECK_MSG(n >= 1 && n <= hp_topo_ncores(g_real), "auto: %d (%s)", n, err);
	if (n > 0)
		T_CHECK(hp_topo_smt_siblings_in(g_real, cpus, n) == 0);

	test_restricted_child();

	/* Binding to each allowed CPU moves the thread there. */
	for (int i = 0; i < g_nallowed; i++) {
		int rc = hp_topo_bind_thread(g_real, g_allowed[i], err, sizeof(err));

		T_CHECK_MSG(rc == 0, "bind to %d: %s", g_allowed[i], err);
		spin();
		T_CHECK_MSG(hp_topo_last_cpu(g_real) == g_allowed[i], "bound to %d, ran on %d",
			    g_allowed[i], hp_topo_last_cpu(g_real));
		T_CHECK(hp_topo_smt_width(g_real, g_allowed[i]) >= 1);
	}

	/* A CPU that does not exist is rejected, by parse and by bind. */
	snprintf(present, sizeof(present), "%d", HP_MAX_CPUS * 4);
	expect_err(g_real, present, HP_MAX_CPUS, "does not exist", "this machine has CPUs");
	T_CHECK(hp_topo_bind_thread(g_real, HP_MAX_CPUS * 4, err, sizeof(err)) == -1);
	T_CHECK_MSG(strstr(err, "does not exist") != NULL, "%s", err);
	T_CHECK(hp_topo_bind_thread(g_real, -1, err, sizeof(err)) == -1);

	/* Concurrent binding from several threads. */
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .id = i };
		T_CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		T_CHECK_MSG(w[i].bad == 0 && w[i].binds == 40, "worker %d: %d bad, %d binds",
			    i, w[i].bad, w[i].binds);
	}
}

/* ------------------------------------------------------------------------ */
/* XML export                                                               */
/* ------------------------------------------------------------------------ */

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void check_xml(hp_topo_t *t, const char *dir, const char *name)
{
	char path[512], tmp[520], head[256];
	hwloc_topology_t back;
	FILE *f;
	size_t got;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	T_CHECK_MSG(hp_topo_export_xml(t, path, err, sizeof(err)) == 0, "export: %s", err);
	T_CHECK(access(tmp, F_OK) != 0);
	f = fopen(path, "r");
	T_CHECK(f != NULL);
	if (!f)
		return;
	got = fread(head, 1, sizeof(head) - 1, f);
	fclose(f);
	head[got] = '\0';
	T_CHECK_MSG(strncmp(head, "<?xml", 5) == 0, "head: %.40s", head);
	T_CHECK_MSG(strstr(head, "<topology") != NULL, "head: %.200s", head);

	/* hwloc reads it back as the same machine. */
	T_CHECK(hwloc_topology_init(&back) == 0);
	T_CHECK(hwloc_topology_set_xml(back, path) == 0);
	T_CHECK(hwloc_topology_load(back) == 0);
	T_CHECK(hwloc_get_nbobjs_by_type(back, HWLOC_OBJ_PU) == hp_topo_npus(t));
	if (hwloc_get_nbobjs_by_type(back, HWLOC_OBJ_CORE) > 0)
		T_CHECK(hwloc_get_nbobjs_by_type(back, HWLOC_OBJ_CORE) == hp_topo_ncores(t));
	hwloc_topology_destroy(back);
}

static void test_export(void)
{
	char dir[] = "/tmp/hp_test_cpulist_XXXXXX", path[256];
	hp_topo_t *s = synth("pack:2 numa:1 core:2 pu:2");

	T_CHECK(mkdtemp(dir) != NULL);
	if (g_real)
		check_xml(g_real, dir, "topology.xml");
	check_xml(s, dir, "synthetic.xml");
	/* Overwriting an existing file works and still leaves no .tmp. */
	check_xml(s, dir, "synthetic.xml");
	T_CHECK(count_entries(dir) == (g_real ? 2 : 1));

	/* An unwritable destination fails, names the path, leaves nothing. */
	snprintf(path, sizeof(path), "%s/missing/topology.xml", dir);
	err[0] = '\0';
	T_CHECK(hp_topo_export_xml(s, path, err, sizeof(err)) == -1);
	T_CHECK_MSG(strstr(err, path) != NULL, "%s", err);
	T_CHECK(hp_topo_export_xml(s, "", err, sizeof(err)) == -1);
	T_CHECK(count_entries(dir) == (g_real ? 2 : 1));

	snprintf(path, sizeof(path), "%s/topology.xml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/synthetic.xml", dir);
	unlink(path);
	T_CHECK(rmdir(dir) == 0);
	hp_topo_free(s);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--restricted-child") == 0)
		return restricted_child(atoi(argv[2]), atoi(argv[3]));
	test_parse();
	test_format();
	test_synthetic();
	test_real();
	test_export();
	hp_topo_free(g_real);
	return t_done("test_cpulist");
}
