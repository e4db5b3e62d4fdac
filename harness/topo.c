/* topo.c — machine topology, CPU lists and thread/process binding on hwloc. */
#include "topo.h"

#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Thread-safety: after load nothing here modifies the topology or the
 * allowed set, and hwloc documents read-only queries and the binding calls as
 * safe to run concurrently on an unmodified topology, so the runner may bind
 * several benchmark threads at once. Every bitmap a call needs is its own.
 *
 * Memory binding on NUMA machines is best effort: if the CPU binding worked
 * and only the memory binding failed (old kernel, no libnuma policy support,
 * seccomp), the call still succeeds and the failure is ignored quietly,
 * because the CPU placement is what the published numbers depend on and the
 * first-touch policy still puts most memory on the local node.
 */

/* hwloc 2.1 renamed the flag that keeps cgroup-disallowed CPUs visible. */
#if HWLOC_API_VERSION >= 0x00020100
#define HP_FLAG_ALL_CPUS HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED
#else
#define HP_FLAG_ALL_CPUS HWLOC_TOPOLOGY_FLAG_WHOLE_SYSTEM
#endif

/* Caps parsed numbers well below INT_MAX; anything larger cannot exist. */
#define HP_CPU_NUM_CAP 100000000L

struct hp_topo {
	hwloc_topology_t topo;
	int synthetic;
	/* PUs present in the topology (including cgroup-disallowed ones, so a
	 * user is told "not allowed" rather than "does not exist"). */
	hwloc_bitmap_t present;
	/* PUs this process may run on, captured at load. */
	hwloc_bitmap_t allowed;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

static hp_topo_t *topo_alloc(char *err, size_t errlen)
{
	hp_topo_t *t = calloc(1, sizeof(*t));

	if (!t) {
		set_err(err, errlen, "topology: out of memory");
		return NULL;
	}
	if (hwloc_topology_init(&t->topo) < 0) {
		set_err(err, errlen, "topology: hwloc_topology_init failed: %s",
			strerror(errno));
		free(t);
		return NULL;
	}
	return t;
}

/* Fills present/allowed once the topology is loaded. */
static int topo_sets(hp_topo_t *t, char *err, size_t errlen)
{
	hwloc_const_cpuset_t topo_set = hwloc_topology_get_topology_cpuset(t->topo);

	t->present = hwloc_bitmap_dup(topo_set);
	t->allowed = hwloc_bitmap_alloc();
	if (!t->present || !t->allowed) {
		set_err(err, errlen, "topology: out of memory");
		return -1;
	}
	if (t->synthetic) {
		hwloc_bitmap_copy(t->allowed, topo_set);
		return 0;
	}
	/* The process binding reflects taskset as well as the cgroup; the
	 * topology's allowed set only knows the cgroup, hence the fallback. */
	if (hwloc_get_cpubind(t->topo, t->allowed, HWLOC_CPUBIND_PROCESS) < 0 ||
	    hwloc_bitmap_iszero(t->allowed))
		hwloc_bitmap_copy(t->allowed, hwloc_topology_get_allowed_cpuset(t->topo));
	hwloc_bitmap_and(t->allowed, t->allowed,
			 hwloc_topology_get_allowed_cpuset(t->topo));
	hwloc_bitmap_and(t->allowed, t->allowed, t->present);
	if (hwloc_bitmap_iszero(t->allowed)) {
		set_err(err, errlen, "topology: this process is allowed no CPU of this machine");
		return -1;
	}
	return 0;
}

hp_topo_t *hp_topo_load(char *err, size_t errlen)
{
	hp_topo_t *t = topo_alloc(err, errlen);

	if (!t)
		return NULL;
	if (hwloc_topology_set_flags(t->topo, HP_FLAG_ALL_CPUS) < 0 ||
	    hwloc_topology_load(t->topo) < 0) {
		set_err(err, errlen, "topology: hwloc cannot load the topology of this machine: %s",
			strerror(errno));
		hp_topo_free(t);
		return NULL;
	}
	if (topo_sets(t, err, errlen) < 0) {
		hp_topo_free(t);
		return NULL;
	}
	return t;
}

hp_topo_t *hp_topo_load_synthetic(const char *desc, char *err, size_t errlen)
{
	hp_topo_t *t = topo_alloc(err, errlen);

	if (!t)
		return NULL;
	t->synthetic = 1;
	if (!desc || hwloc_topology_set_synthetic(t->topo, desc) < 0) {
		set_err(err, errlen,
			"topology: bad synthetic description '%s': expected hwloc synthetic syntax such as 'pack:2 core:4 pu:2'",
			desc ? desc : "(null)");
		hp_topo_free(t);
		return NULL;
	}
	if (hwloc_topology_load(t->topo) < 0) {
		set_err(err, errlen, "topology: hwloc cannot load synthetic topology '%s': %s",
			desc, strerror(errno));
		hp_topo_free(t);
		return NULL;
	}
	if (topo_sets(t, err, errlen) < 0) {
		hp_topo_free(t);
		return NULL;
	}
	return t;
}

void hp_topo_free(hp_topo_t *t)
{
	if (!t)
		return;
	hwloc_bitmap_free(t->present);
	hwloc_bitmap_free(t->allowed);
	hwloc_topology_destroy(t->topo);
	free(t);
}

/* ------------------------------------------------------------------------ */
/* CPU lists                                                                */
/* ------------------------------------------------------------------------ */

#define HP_CPULIST_HINT "expected CPU numbers and ranges such as 0-3,8,10, or auto"

static void set_syntax_err(const char *spec, const char *item, size_t itemlen,
			   char *err, size_t errlen)
{
	if (itemlen == strlen(spec))
		set_err(err, errlen, "--cpus: bad CPU list '%s': " HP_CPULIST_HINT, spec);
	else
		set_err(err, errlen, "--cpus: bad CPU list '%s' (at '%.*s'): " HP_CPULIST_HINT,
			spec, (int)itemlen, item);
}

/* Reads a run of digits at *p; -1 if there is none. Large values are
 * clamped to HP_CPU_NUM_CAP so they report as nonexistent, not overflow. */
static long read_num(const char **p)
{
	const char *s = *p;
	long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (v < HP_CPU_NUM_CAP)
			v = v * 10 + (*s - '0');
		s++;
	}
	*p = s;
	return v < HP_CPU_NUM_CAP ? v : HP_CPU_NUM_CAP;
}

/* A bitmap as a CPU list in a new string (NULL when out of memory): the
 * message shows the whole set however large the machine. */
static char *cpuset_text(hwloc_const_bitmap_t set)
{
	char *s = NULL;

	if (hwloc_bitmap_list_asprintf(&s, set) < 0)
		return NULL;
	return s;
}

/* Appends one CPU after checking it exists, is allowed and is new. */
static int add_cpu(hp_topo_t *t, long cpu, hwloc_bitmap_t seen, int *cpus,
		   int *n, int max, char *err, size_t errlen)
{
	char *set;

	if (!hwloc_bitmap_isset(t->present, (unsigned)cpu)) {
		set = cpuset_text(t->present);
		set_err(err, errlen, "--cpus: CPU %ld does not exist (this machine has CPUs %s)",
			cpu, set ? set : "?");
		free(set);
		return -1;
	}
	if (!hwloc_bitmap_isset(t->allowed, (unsigned)cpu)) {
		set = cpuset_text(t->allowed);
		set_err(err, errlen,
			"--cpus: CPU %ld is not in this process's allowed set %s (restricted by taskset or a cgroup)",
			cpu, set ? set : "?");
		free(set);
		return -1;
	}
	if (hwloc_bitmap_isset(seen, (unsigned)cpu)) {
		set_err(err, errlen, "--cpus: CPU %ld is listed twice", cpu);
		return -1;
	}
	if (*n >= max) {
		set_err(err, errlen, "--cpus: too many CPUs: at most %d can be used", max);
		return -1;
	}
	hwloc_bitmap_set(seen, (unsigned)cpu);
	cpus[(*n)++] = (int)cpu;
	return 0;
}

static int parse_auto(hp_topo_t *t, int *cpus, int max, char *err, size_t errlen)
{
	hwloc_bitmap_t pick = hwloc_bitmap_alloc();
	hwloc_obj_type_t unit = HWLOC_OBJ_CORE;
	hwloc_obj_t obj = NULL;
	int n = 0, zero_pick = -1;

	if (!pick) {
		set_err(err, errlen, "--cpus: out of memory");
		return -1;
	}
	/* Some platforms expose no Core objects; each PU is then its own core. */
	if (hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_CORE) <= 0)
		unit = HWLOC_OBJ_PU;
	while ((obj = hwloc_get_next_obj_by_type(t->topo, unit, obj)) != NULL) {
		int cpu;

		if (!obj->cpuset)
			continue;
		hwloc_bitmap_and(pick, obj->cpuset, t->allowed);
		cpu = hwloc_bitmap_first(pick);
		if (cpu < 0)
			continue;
		/* CPU 0 takes interrupts and housekeeping on most systems. */
		if (hwloc_bitmap_isset(obj->cpuset, 0)) {
			zero_pick = cpu;
			continue;
		}
		if (n >= max) {
			hwloc_bitmap_free(pick);
			set_err(err, errlen, "--cpus: auto found more than %d cores; give an explicit list", max);
			return -1;
		}
		cpus[n++] = cpu;
	}
	hwloc_bitmap_free(pick);
	if (zero_pick >= 0) {
		if (n >= max) {
			set_err(err, errlen, "--cpus: auto found more than %d cores; give an explicit list", max);
			return -1;
		}
		cpus[n++] = zero_pick;
	}
	if (n == 0) {
		set_err(err, errlen, "--cpus: auto found no allowed CPU");
		return -1;
	}
	return n;
}

int hp_cpulist_parse(hp_topo_t *t, const char *spec, int *cpus, int max,
		     char *err, size_t errlen)
{
	hwloc_bitmap_t seen;
	const char *p;
	int n = 0;

	if (!spec || !*spec) {
		set_err(err, errlen, "--cpus: empty CPU list: " HP_CPULIST_HINT);
		return -1;
	}
	if (!t || !cpus || max <= 0) {
		set_err(err, errlen, "--cpus: internal error: no topology or output array");
		return -1;
	}
	if (strcmp(spec, "auto") == 0)
		return parse_auto(t, cpus, max, err, errlen);

	seen = hwloc_bitmap_alloc();
	if (!seen) {
		set_err(err, errlen, "--cpus: out of memory");
		return -1;
	}
	p = spec;
	for (;;) {
		const char *item = p;
		size_t itemlen = strcspn(item, ",");
		long lo, hi, c;

		lo = read_num(&p);
		hi = lo;
		if (lo >= 0 && *p == '-') {
			p++;
			hi = read_num(&p);
		}
		if (lo < 0 || hi < 0 || (*p != ',' && *p != '\0')) {
			set_syntax_err(spec, item, itemlen, err, errlen);
			goto fail;
		}
		if (lo >= HP_CPU_NUM_CAP) {
			char *have = cpuset_text(t->present);

			set_err(err, errlen, "--cpus: CPU %.*s does not exist (this machine has CPUs %s)",
				(int)strspn(item, "0123456789"), item, have ? have : "?");
			free(have);
			goto fail;
		}
		if (hi < lo) {
			set_err(err, errlen,
				"--cpus: bad range '%.*s' in CPU list '%s': ranges must be ascending (write %ld-%ld)",
				(int)itemlen, item, spec, hi, lo);
			goto fail;
		}
		for (c = lo; c <= hi; c++)
			if (add_cpu(t, c, seen, cpus, &n, max, err, errlen) < 0)
				goto fail;
		if (*p == '\0')
			break;
		p++;	/* the comma; an empty item after it fails read_num */
	}
	hwloc_bitmap_free(seen);
	return n;
fail:
	hwloc_bitmap_free(seen);
	return -1;
}

char *hp_cpulist_format(const int *cpus, int n, char *buf, size_t len)
{
	size_t off = 0;
	int i = 0;

	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	while (cpus && i < n) {
		int j = i, w;

		/* Collapse an ascending run of consecutive CPUs into a range. */
		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		if (j > i)
			w = snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "",
				     cpus[i], cpus[j]);
		else
			w = snprintf(buf + off, len - off, "%s%d", off ? "," : "", cpus[i]);
		if (w < 0 || (size_t)w >= len - off) {
			buf[off] = '\0';	/* never leave half an item */
			break;
		}
		off += (size_t)w;
		i = j + 1;
	}
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Binding                                                                  */
/* ------------------------------------------------------------------------ */

static hwloc_obj_t pu_of(hp_topo_t *t, int cpu)
{
	if (!t || cpu < 0)
		return NULL;
	return hwloc_get_pu_obj_by_os_index(t->topo, (unsigned)cpu);
}

static int bind_common(hp_topo_t *t, int cpu, int process, char *err, size_t errlen)
{
	const char *what = process ? "process" : "thread";
	int how = process ? HWLOC_CPUBIND_PROCESS : HWLOC_CPUBIND_THREAD;
	hwloc_obj_t pu;
	hwloc_bitmap_t set;
	int rc, e;

	if (!t) {
		set_err(err, errlen, "bind %s to CPU %d: no topology", what, cpu);
		return -1;
	}
	if (t->synthetic) {
		set_err(err, errlen, "bind %s to CPU %d: synthetic topology", what, cpu);
		return -1;
	}
	pu = pu_of(t, cpu);
	if (!pu) {
		char *have = cpuset_text(t->present);

		set_err(err, errlen, "bind %s to CPU %d: CPU does not exist (this machine has CPUs %s)",
			what, cpu, have ? have : "?");
		free(have);
		return -1;
	}
	set = hwloc_bitmap_alloc();
	if (!set) {
		set_err(err, errlen, "bind %s to CPU %d: out of memory", what, cpu);
		return -1;
	}
	hwloc_bitmap_only(set, (unsigned)cpu);
	rc = hwloc_set_cpubind(t->topo, set, how | HWLOC_CPUBIND_STRICT);
	/* Strict binding is a wish; some OSes refuse it outright. */
	if (rc < 0)
		rc = hwloc_set_cpubind(t->topo, set, how);
	e = errno;
	hwloc_bitmap_free(set);
	if (rc < 0) {
		set_err(err, errlen, "bind %s to CPU %d: %s", what, cpu, strerror(e));
		return -1;
	}
	if (pu->nodeset && hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE) > 1) {
		/* A process about to exec is single-threaded, so the thread
		 * policy (flag 0 falls back to it) is what exec inherits. */
		int mflags = HWLOC_MEMBIND_BYNODESET | (process ? 0 : HWLOC_MEMBIND_THREAD);

		(void)hwloc_set_membind(t->topo, pu->nodeset, HWLOC_MEMBIND_BIND, mflags);
	}
	return 0;
}

int hp_topo_bind_thread(hp_topo_t *t, int cpu, char *err, size_t errlen)
{
	return bind_common(t, cpu, 0, err, errlen);
}

int hp_topo_bind_process(hp_topo_t *t, int cpu, char *err, size_t errlen)
{
	return bind_common(t, cpu, 1, err, errlen);
}

int hp_topo_last_cpu(hp_topo_t *t)
{
	hwloc_bitmap_t set;
	int cpu = -1;

	if (!t || t->synthetic)
		return -1;
	set = hwloc_bitmap_alloc();
	if (!set)
		return -1;
	if (hwloc_get_last_cpu_location(t->topo, set, HWLOC_CPUBIND_THREAD) == 0)
		cpu = hwloc_bitmap_first(set);
	hwloc_bitmap_free(set);
	return cpu;
}

/* ------------------------------------------------------------------------ */
/* Facts                                                                    */
/* ------------------------------------------------------------------------ */

int hp_topo_npus(hp_topo_t *t)
{
	return t ? hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PU) : 0;
}

int hp_topo_ncores(hp_topo_t *t)
{
	int n;

	if (!t)
		return 0;
	n = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_CORE);
	return n > 0 ? n : hp_topo_npus(t);
}

int hp_topo_nnuma(hp_topo_t *t)
{
	int n;

	if (!t)
		return 0;
	n = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE);
	return n > 0 ? n : 1;
}

/* The core holding cpu, or the PU itself where hwloc shows no cores. */
static hwloc_obj_t core_of(hp_topo_t *t, int cpu)
{
	hwloc_obj_t pu = pu_of(t, cpu), core;

	if (!pu)
		return NULL;
	core = hwloc_get_ancestor_obj_by_type(t->topo, HWLOC_OBJ_CORE, pu);
	return core ? core : pu;
}

/* -1 for a CPU that does not exist. */
int hp_topo_smt_width(hp_topo_t *t, int cpu)
{
	hwloc_obj_t core = core_of(t, cpu);

	if (!core || !core->cpuset)
		return -1;
	return hwloc_bitmap_weight(core->cpuset);
}

int hp_topo_smt_siblings_in(hp_topo_t *t, const int *cpus, int n)
{
	int i, j;

	if (!t || !cpus)
		return 0;
	for (i = 0; i < n; i++) {
		hwloc_obj_t a = core_of(t, cpus[i]);

		if (!a)
			continue;
		for (j = i + 1; j < n; j++)
			if (cpus[j] != cpus[i] && core_of(t, cpus[j]) == a)
				return 1;
	}
	return 0;
}

char *hp_topo_allowed(hp_topo_t *t, char *buf, size_t len)
{
	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	if (t && hwloc_bitmap_list_snprintf(buf, len, t->allowed) < 0)
		buf[0] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* XML export                                                               */
/* ------------------------------------------------------------------------ */

int hp_topo_export_xml(hp_topo_t *t, const char *path, char *err, size_t errlen)
{
	char *tmp;
	size_t plen;
	int fd, e;

	if (!t || !path || !*path) {
		set_err(err, errlen, "topology export: no topology or empty path");
		return -1;
	}
	plen = strlen(path);
	tmp = malloc(plen + sizeof(".tmp"));
	if (!tmp) {
		set_err(err, errlen, "topology export to '%s': out of memory", path);
		return -1;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", sizeof(".tmp"));

	if (hwloc_topology_export_xml(t->topo, tmp, 0) < 0) {
		e = errno;
		set_err(err, errlen, "topology export to '%s': %s", tmp, strerror(e));
		goto fail;
	}
	/* The rename must not publish a file whose data is still in flight. */
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		set_err(err, errlen, "topology export to '%s': fsync: %s", tmp, strerror(e));
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		e = errno;
		set_err(err, errlen, "topology export: rename '%s' to '%s': %s", tmp, path,
			strerror(e));
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Cache geometry for callgrind's simulator                            */
/* ------------------------------------------------------------------ */

const char *hp_cache_level_name(hp_cache_level_t l)
{
	static const char *const n[HP_NCACHES] = { "I1", "D1", "LL" };

	return (unsigned)l < HP_NCACHES ? n[l] : "?";
}

static int pow2(unsigned long long x) { return x && !(x & (x - 1)); }

/* One cache object into g: given when valgrind can simulate it as it is
 * (its simulator needs a power-of-two line size and set count). */
static void cache_take(hwloc_obj_t o, hp_cache_geom_t *g)
{
	const struct hwloc_cache_attr_s *c = &o->attr->cache;
	unsigned long long lines;

	g->size = c->size;
	g->line = (int)c->linesize;
	g->assoc = c->associativity;
	if (!c->size || !pow2(c->linesize)) {
		snprintf(g->why, sizeof g->why, "hwloc gives no size or line size");
		return;
	}
	lines = c->size / c->linesize;
	if (c->associativity == -1)
		g->assoc = (int)lines;    /* fully associative: one set */
	if (g->assoc <= 0) {
		snprintf(g->why, sizeof g->why, "hwloc gives no associativity");
		return;
	}
	if (lines % (unsigned)g->assoc || !pow2(lines / (unsigned)g->assoc)) {
		snprintf(g->why, sizeof g->why, "%llu sets of %d ways is not a power of two",
			 lines / (unsigned)g->assoc, g->assoc);
		return;
	}
	g->given = 1;
}

void hp_topo_cachesim(hp_topo_t *t, int cpu, hp_cache_geom_t g[HP_NCACHES])
{
	hwloc_obj_t pu = NULL, o, ll = NULL;

	memset(g, 0, HP_NCACHES * sizeof *g);
	for (int l = 0; l < HP_NCACHES; l++)
		snprintf(g[l].why, sizeof g[l].why, "hwloc reports no %s cache", hp_cache_level_name(l));
	if (!t)
		return;
	if (cpu >= 0)
		pu = hwloc_get_pu_obj_by_os_index(t->topo, (unsigned)cpu);
	if (!pu)
		pu = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, 0);
	for (o = pu ? pu->parent : NULL; o; o = o->parent) {
		if (!hwloc_obj_type_is_cache(o->type))
			continue;
		if (o->type == HWLOC_OBJ_L1ICACHE)
			cache_take(o, &g[HP_CACHE_I1]);
		else if (o->attr->cache.depth == 1 && o->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION)
			cache_take(o, &g[HP_CACHE_D1]);
		if (o->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION && o->attr->cache.depth > 1)
			ll = o;   /* the last data or unified cache on the way up */
	}
	if (ll)
		cache_take(ll, &g[HP_CACHE_LL]);
}

int hp_topo_cachesim_args(hp_topo_t *t, int cpu, const char **argv, char buf[HP_NCACHES][96])
{
	hp_cache_geom_t g[HP_NCACHES];
	int n = 0;

	hp_topo_cachesim(t, cpu, g);
	argv[n++] = "--cache-sim=yes";
	for (int l = 0; l < HP_NCACHES; l++)
		if (g[l].given) {
			snprintf(buf[l], sizeof buf[l], "--%s=%llu,%d,%d", hp_cache_level_name(l), g[l].size,
				 g[l].assoc, g[l].line);
			argv[n++] = buf[l];
		}
	argv[n] = NULL;
	return n;
}
