/* hp_cpu.h — the CPU this thread runs on now, the user-space
 * raw_smp_processor_id(): glibc (>= 2.35, x86_64) registers an rseq area
 * for every thread, and the kernel writes the current CPU into its cpu_id
 * on every return to user space; reading it is two loads and no call
 * (sched_getcpu() is a call into glibc, which reads the same field).
 * Where rseq is not registered (valgrind, GLIBC_TUNABLES=
 * glibc.pthread.rseq=0) cpu_id is negative and the readers below fall
 * back to sched_getcpu(). The answer may be stale by the time it is used
 * (the thread can migrate): per-CPU data chosen with it needs a lock, a
 * compare-and-swap or an rseq critical section, as with the kernel's
 * raw_smp_processor_id().
 *
 * Used by impl/slub (the cmpxchg stand-in's slot). impl/buddy's locked
 * stand-in still calls sched_getcpu(): with it, its pair was no faster on
 * the 2-vCPU guest of docs/suites/buddy.md (2026-12-04; the pcp lock's
 * exchange dominates there) and 11 instructions longer under callgrind,
 * which has no rseq and so pays the failed read and the call. */
#ifndef HP_CPU_H
#define HP_CPU_H

#include <sched.h>
#include <stddef.h>

#if defined(__x86_64__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define HP_CPU_HAVE_RSEQ 1
#endif

/* rseq's cpu_id for this thread: >= 0, or negative when rseq is not
 * registered here (or not available in this build). */
static inline int hp_cpu_rseq_id(void)
{
#ifdef HP_CPU_HAVE_RSEQ
	extern const ptrdiff_t __rseq_offset;
	char *tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return __atomic_load_n((const int *)(tp + __rseq_offset + 4), __ATOMIC_RELAXED); /* struct rseq.cpu_id */
#else
	return -1;
#endif
}

/* The current CPU: rseq's cpu_id, else sched_getcpu(); 0 when neither
 * can tell. */
static inline int hp_cpu_current(void)
{
	int cpu = hp_cpu_rseq_id();

	if (__builtin_expect(cpu >= 0, 1))
		return cpu;
	cpu = sched_getcpu();
	return cpu < 0 ? 0 : cpu;
}

#endif /* HP_CPU_H */
