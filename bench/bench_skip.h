/* bench_skip.h — a formatted hp_skip() for the benches.
 *
 * Every backend copies the reason inside hp_skip() (Google Benchmark into a
 * std::string, the others into their own buffer), so the message only has
 * to live for the call: it is formatted to its full length on the heap and
 * freed, never cut short and never shared between threads.
 */
#ifndef HP_BENCH_SKIP_H
#define HP_BENCH_SKIP_H

#include "hp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static inline __attribute__((format(printf, 2, 3)))
void bench_skipf(hp_state_t *st, const char *fmt, ...)
{
	char *m = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&m, fmt, ap);
	va_end(ap);
	hp_skip(st, rc < 0 ? "out of memory formatting the reason of a skip" : m);
	if (rc >= 0)
		free(m);
}

#endif
