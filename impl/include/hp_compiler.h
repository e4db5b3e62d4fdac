/* hp_compiler.h — compiler hints, container_of and the spin-wait pause, shared by impl/,
 * baselines/, bench/, harness/ and tests/ (no harness dependency).
 *
 * Kernel counterparts: likely()/unlikely() (include/linux/compiler.h),
 * container_of() (include/linux/container_of.h, without its type check) and
 * cpu_relax() (arch/x86/include/asm/vdso/processor.h: `rep; nop`, i.e. PAUSE).
 */
#ifndef HP_COMPILER_H
#define HP_COMPILER_H

#include <stddef.h>

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* The structure that embeds the member `ptr` points at. */
#define hp_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* One spin-wait step: PAUSE on x86 (yields the pipeline to the SMT sibling
 * and avoids the memory-order flush when the loop exits), YIELD on arm64, a
 * compiler barrier elsewhere. Cost: ~10-140 cycles on x86 depending on the
 * core (Skylake-SP made PAUSE ~140 cycles). */
static inline void hp_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

#endif
