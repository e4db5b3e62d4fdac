/* env.h — the machine and every noise source we can see (env.json). */
#ifndef HP_ENV_H
#define HP_ENV_H

#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>
#include "topo.h"

typedef struct hp_env_opts {
	const int *cpus;        /* selected CPUs (may be NULL: none yet) */
	int ncpus;
	uint64_t seed;
	const char *command_line;  /* the command line, joined */
	const char *metric;        /* time | instructions | perf | cache */
	const char *profile;
	/* "debug" or "release": how the linked libbenchmark was built
	 * (hp_gb_library_build()); NULL when unknown (not recorded) */
	const char *gbench_build;
} hp_env_opts_t;

/* Builds the env.json object: date (ISO 8601 UTC), host, kernel release
 * and version, /proc/cmdline, CPU model, microcode, TSC (invariant flag,
 * measured MHz), nominal MHz, governor per selected CPU, turbo/boost, SMT
 * (active, siblings in use), isolcpus and nohz_full, ASLR, THP, compiler and
 * flags, build type, sanitizer, git revision and dirty flag, versions of
 * every library, seed, command line, virtualization, perf availability,
 * timer overhead, and "warnings": one string per noise source found
 * (frequency scaling, turbo, SMT siblings in use, no isolated CPUs, ASLR on,
 * running in a VM, perf counters missing, a debug build of Google
 * Benchmark), each with advice. */
struct json_object *hp_env_capture(hp_topo_t *t, const hp_env_opts_t *o);

/* Prints the environment for people (`hotpath env`): each fact, then each
 * warning with what to do about it. Returns the number of warnings. */
int hp_env_print(struct json_object *env, FILE *out);

/* ---- timing facts, also used by the runner ---- */
/* 1 if the TSC is invariant (constant_tsc and nonstop_tsc). */
int hp_tsc_invariant(void);
/* TSC ticks per nanosecond, measured once against CLOCK_MONOTONIC_RAW
 * (cached); 0 when there is no usable TSC. */
double hp_tsc_per_ns(void);
static inline uint64_t hp_rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	return 0;
#endif
}
/* The cost of reading the clocks, measured (ns per read): clock_gettime
 * (CLOCK_MONOTONIC), CLOCK_PROCESS_CPUTIME_ID, rdtsc. Filled into env.json
 * under "timer". */
struct json_object *hp_timer_overhead(void);

/* Virtualization detected ("kvm", "none", ...) from cpuid / DMI. */
const char *hp_virt_name(void);

#endif
