/* t_util.h — helpers shared by the C tests (liburing style: t_ prefix,
 * exit 77 when the machine cannot do what a test needs). */
#ifndef HP_T_UTIL_H
#define HP_T_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T_SKIP 77

static int t_failures;

#define T_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		t_failures++; \
	} \
} while (0)

#define T_CHECK_MSG(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
		t_failures++; \
	} \
} while (0)

#define T_CHECK_STR(a, b) do { \
	const char *t_a_ = (a), *t_b_ = (b); \
	if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) { \
		fprintf(stderr, "%s:%d: \"%s\" != \"%s\" (%s vs %s)\n", __FILE__, __LINE__, \
			t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)", #a, #b); \
		t_failures++; \
	} \
} while (0)

static inline void t_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(T_SKIP);
}

/* Waits up to 5 s for *p (written by another thread) to reach want;
 * 1 when it did, 0 on time-out. */
static inline int t_wait_at_least(int *p, int want)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(p, __ATOMIC_ACQUIRE) >= want)
			return 1;
		usleep(1000);
	}
	return 0;
}

/* Sleeps us microseconds, resuming after signals (the rcu tests' readers
 * are interrupted by their own signals). */
static inline void t_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Ends a test: prints a summary and returns the exit code for meson. */
static inline int t_done(const char *name)
{
	if (t_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, t_failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

#endif
