/* hp_futex.h — private futex wait/wake on a 32-bit word: the user-space
 * stand-in for a task sleeping in schedule() and wake_up_process().
 * FUTEX_WAIT returns at once when *w != val (the check the kernel makes
 * under its hash-bucket lock), so "set a flag, then wait for it to change"
 * cannot lose a wake-up. Spurious returns happen: callers loop. */
#ifndef HP_FUTEX_H
#define HP_FUTEX_H

#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleeps while *w == val, at most `timeout` (NULL: no limit). 0 when woken
 * or the value differed, -1 with errno (ETIMEDOUT, EAGAIN, EINTR). */
static inline int hp_futex_wait(uint32_t *w, uint32_t val, const struct timespec *timeout)
{
	return (int)syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, timeout, NULL, 0);
}

/* Wakes up to n sleepers on w; returns how many it woke. */
static inline int hp_futex_wake(uint32_t *w, int n)
{
	return (int)syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#endif
