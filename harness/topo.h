/* topo.h — machine topology, CPU lists and binding (hwloc).
 *
 * The runner binds every measured thread and child process to one PU and
 * records the PU it actually ran on, so a published number says where it was
 * measured.
 */
#ifndef HP_TOPO_H
#define HP_TOPO_H

#include <stddef.h>

#define HP_MAX_CPUS 1024

typedef struct hp_topo hp_topo_t;

/* Loads the topology of this machine; NULL with *err set on failure. */
hp_topo_t *hp_topo_load(char *err, size_t errlen);
/* Loads a synthetic hwloc topology ("pack:2 core:4 pu:2", all CPUs
 * allowed), so tests can stand in for machines with SMT and NUMA nodes.
 * Binding calls on it fail cleanly (-1, "synthetic topology"). */
hp_topo_t *hp_topo_load_synthetic(const char *desc, char *err, size_t errlen);
void hp_topo_free(hp_topo_t *t);

/* Parses a CPU list ("0-3,8,10", "auto") into OS CPU indices, in the order
 * written (ranges ascending), duplicates rejected. "auto" picks one PU per
 * physical core (skipping SMT siblings), in core order, with CPU 0 last.
 * Rejects CPUs that do not exist or are outside the process's allowed set.
 * Returns the number of CPUs, or -1 with a message in err naming the bad
 * value and what is valid (the CLI exits 2 with it). */
int hp_cpulist_parse(hp_topo_t *t, const char *spec, int *cpus, int max,
		     char *err, size_t errlen);
/* Formats cpus as a list ("0-3,8"); returns buf. An item that does not fit
 * is left out whole, never cut to a wrong CPU number; 5 * n + 1 bytes
 * (CPU numbers below 10000) always hold the whole list. */
char *hp_cpulist_format(const int *cpus, int n, char *buf, size_t len);

/* Binds the calling thread to one CPU (strict where supported) and, on NUMA
 * machines, its memory to that CPU's node. Returns 0 or -1 with err. */
int hp_topo_bind_thread(hp_topo_t *t, int cpu, char *err, size_t errlen);
/* Same for a whole process (a child before exec). */
int hp_topo_bind_process(hp_topo_t *t, int cpu, char *err, size_t errlen);
/* The CPU the calling thread last ran on (hwloc_get_last_cpu_location), -1
 * if unknown. */
int hp_topo_last_cpu(hp_topo_t *t);

/* Facts for env.json. */
int hp_topo_npus(hp_topo_t *t);
int hp_topo_ncores(hp_topo_t *t);
int hp_topo_nnuma(hp_topo_t *t);
/* Number of PUs sharing the core of `cpu` (>1 means SMT). */
int hp_topo_smt_width(hp_topo_t *t, int cpu);
/* 1 if two CPUs of the list share a physical core. */
int hp_topo_smt_siblings_in(hp_topo_t *t, const int *cpus, int n);
/* The process's allowed CPU set as a list string. */
char *hp_topo_allowed(hp_topo_t *t, char *buf, size_t len);

/* The caches callgrind's simulator models (--metric cache): the first-level
 * instruction (I1) and data (D1) caches and the last-level cache (LL) above
 * `cpu` (its first PU when cpu is -1 or unknown), as hwloc reports them. */
typedef enum { HP_CACHE_I1, HP_CACHE_D1, HP_CACHE_LL, HP_NCACHES } hp_cache_level_t;
typedef struct hp_cache_geom {
	unsigned long long size;   /* bytes */
	int assoc;                 /* ways */
	int line;                  /* bytes */
	/* 1: pass as --I1/--D1/--LL=size,assoc,line. 0: hwloc's figures cannot
	 * be simulated as they are (missing, associativity unknown, set count not
	 * a power of two) and valgrind sizes this level itself from CPUID; `why`
	 * says which. */
	int given;
	char why[96];
} hp_cache_geom_t;
/* Fills g[HP_NCACHES]; never fails (a level hwloc lacks gets given 0). */
void hp_topo_cachesim(hp_topo_t *t, int cpu, hp_cache_geom_t g[HP_NCACHES]);
/* --metric cache: valgrind's arguments for the cache simulator of `cpu`
 * ("--cache-sim=yes", then --I1=/--D1=/--LL=size,assoc,line for each level
 * hwloc gives in a shape valgrind can simulate; the others valgrind sizes
 * from CPUID), written to argv (room for 5 with the NULL) with the strings in
 * buf. Returns the number of arguments. env.json records the same geometry
 * (hp_topo_cachesim). */
int hp_topo_cachesim_args(hp_topo_t *t, int cpu, const char **argv, char buf[HP_NCACHES][96]);
/* "I1", "D1", "LL" */
const char *hp_cache_level_name(hp_cache_level_t l);

/* Writes the hwloc XML export atomically to path. Returns 0 or -1. */
int hp_topo_export_xml(hp_topo_t *t, const char *path, char *err, size_t errlen);

#endif
