/* t_nvme.h — shared by the impl/nvme tests: a watchdog for a host that waits forever. */
#ifndef HP_T_NVME_H
#define HP_T_NVME_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvme.h"

/* A lost completion leaves the host waiting forever (the wait loops have no
 * time-out, as in the kernel). The watchdog looks every `seconds`: when the
 * queue in use (t_nvme_wd_q) consumed no CQE during the whole period, it
 * reports the counters and fails. A host that is only slow (a loaded
 * machine: many runnable tasks on two CPUs) makes progress and is left to
 * the test's own time limit. */
static hp_nvme_queue_t *t_nvme_wd_q;
static hp_nvme_queue_t *t_nvme_wd_last_q;
static unsigned long long t_nvme_wd_last_done;
static unsigned t_nvme_wd_period;

static void t_nvme_wd_fire(int sig)
{
	hp_nvme_stats_t st;
	char msg[200];
	int n;

	(void)sig;
	memset(&st, 0, sizeof(st));
	if (t_nvme_wd_q)
		hp_nvme_stats(t_nvme_wd_q, &st);
	if (t_nvme_wd_q != t_nvme_wd_last_q || st.completed != t_nvme_wd_last_done) {
		t_nvme_wd_last_q = t_nvme_wd_q;     /* progress: look again later */
		t_nvme_wd_last_done = st.completed;
		alarm(t_nvme_wd_period);
		return;
	}
	n = snprintf(msg, sizeof(msg), "watchdog: stuck waiting (no CQE for %u s); %llu CQEs consumed, %llu commands "
		"submitted, bad_cqes %llu, cq_wraps %llu\n", t_nvme_wd_period, (unsigned long long)st.completed,
		(unsigned long long)st.submitted, (unsigned long long)st.bad_cqes,
		(unsigned long long)st.cq_wraps);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	_exit(1);
}

static inline void t_nvme_watchdog(unsigned seconds)
{
	t_nvme_wd_period = seconds;
	signal(SIGALRM, t_nvme_wd_fire);
	alarm(seconds);
}

#endif
