/* uring_int.h — what uring.c and fio.c share and do not export. */
#ifndef HP_URING_INT_H
#define HP_URING_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the reason (when there is a buffer) and returns err. */
static inline __attribute__((format(printf, 4, 5)))
int say(char *why, size_t len, int err, const char *fmt, ...)
{
	if (why && len) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

#endif
