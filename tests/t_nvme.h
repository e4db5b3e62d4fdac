/* t_nvme.h — shared by the impl/nvme tests: a watchdog for a host that waits forever. */
#ifndef HP_T_NVME_H
#define HP_T_NVME_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvme.h"

/* A lost completion leaves the host waiting forever (the wait loops have no
 * time-out, as in the kernel): after `seconds`, report the counters of the
 * queue in use (t_nvme_wd_q) and fail. */
static hp_nvme_queue_t *t_nvme_wd_q;

static void t_nvme_wd_fire(int sig)
{
	hp_nvme_stats_t st;
	char msg[200];
	int n;

	(void)sig;
	memset(&st, 0, sizeof(st));
	if (t_nvme_wd_q)
		hp_nvme_stats(t_nvme_wd_q, &st);
	n = snprintf(msg, sizeof(msg), "watchdog: stuck waiting; %llu CQEs consumed, %llu commands "
		"submitted, bad_cqes %llu, cq_wraps %llu\n", (unsigned long long)st.completed,
		(unsigned long long)st.submitted, (unsigned long long)st.bad_cqes,
		(unsigned long long)st.cq_wraps);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	_exit(1);
}

static inline void t_nvme_watchdog(unsigned seconds)
{
	signal(SIGALRM, t_nvme_wd_fire);
	alarm(seconds);
}

#endif
