/* hp_time.h — monotonic clock readings for code that times itself outside
 * the runner (deadlines, emulated device service times, watchdogs).
 * CLOCK_MONOTONIC through the vDSO: ~20 ns, no system call. */
#ifndef HP_TIME_H
#define HP_TIME_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC. */
static inline uint64_t hp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Seconds on CLOCK_MONOTONIC, as a double (for measured spans). */
static inline double hp_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
