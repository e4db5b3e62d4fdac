/* test_nvme_coalesce.c — impl/nvme: interrupt coalescing: one interrupt per threshold CQEs, the aggregation time delivers the remainder. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "nvme.h"
#include "t_util.h"

#define U(x) ((unsigned long long)(x))

/* n flushes in one batch, all reaped through IRQ waits; returns stats once
 * every CQE has been signalled (irqs + coalesced == n). The handler takes
 * CQEs whether signalled or not, so the host may finish before the last
 * interrupt: wait for it, up to 10 s, so the counts are final. */
static unsigned g_cq_depth;     /* 0: the SQ's */

static hp_nvme_stats_t run(unsigned thr, uint64_t time_ns, unsigned n)
{
	hp_nvme_config_t cfg;
	hp_nvme_queue_t *q = NULL;
	hp_nvme_stats_t st;
	static hp_nvme_sqe_t s[1024];
	unsigned got = 0;

	memset(&st, 0, sizeof(st));
	hp_nvme_config_init(&cfg);
	cfg.qdepth = 1024;
	cfg.cq_depth = g_cq_depth;
	cfg.svc_ns = 0;
	cfg.coalesce_thr = thr;
	cfg.coalesce_time_ns = time_ns;
	T_CHECK(hp_nvme_create(&cfg, &q) == 0);
	if (!q)
		return st;
	memset(s, 0, sizeof(s));
	for (unsigned i = 0; i < n; i++) {
		s[i].opcode = HP_NVME_CMD_FLUSH;
		s[i].nsid = HP_NVME_NSID;
	}
	T_CHECK(hp_nvme_submit_batch(q, s, n) == (int)n);
	while (got < n) {
		hp_nvme_cqe_t e;

		if (hp_nvme_wait(q, HP_NVME_IRQ, HP_NVME_ANY, &e) != 0)
			break;
		T_CHECK(e.status >> 1 == HP_NVME_SC_SUCCESS);
		got++;
	}
	T_CHECK(got == n);
	for (int i = 0; i < 10000; i++) {
		hp_nvme_stats(q, &st);
		if (st.irqs + st.irqs_coalesced >= n)
			break;
		usleep(1000);
	}
	hp_nvme_destroy(q);
	return st;
}

int main(void)
{
	hp_nvme_stats_t st;

	alarm(60);
	/* 400 = 50 * 8: only the threshold fires; a long time never does */
	st = run(8, 2000000000ull, 400);
	T_CHECK_MSG(st.irqs == 50 && st.irqs_coalesced == 350 && st.irqs_timer == 0,
		"thr 8, 400 CQEs: irqs %llu coalesced %llu timer %llu",
		U(st.irqs), U(st.irqs_coalesced), U(st.irqs_timer));

	/* 403: 50 by count, the last 3 by the aggregation time (200 ms) */
	st = run(8, 200000000ull, 403);
	T_CHECK_MSG(st.irqs == 51 && st.irqs_coalesced == 352 && st.irqs_timer == 1,
		"thr 8, 403 CQEs: irqs %llu coalesced %llu timer %llu",
		U(st.irqs), U(st.irqs_coalesced), U(st.irqs_timer));
	T_CHECK(st.sleeps > 0 && st.irq_handled >= 1 && st.irq_handled <= 51);

	/* 0/0, threshold without time (spec: time 0 = no delay), threshold 1:
	 * one interrupt per CQE */
	st = run(0, 0, 100);
	T_CHECK(st.irqs == 100 && st.irqs_coalesced == 0);
	st = run(8, 0, 100);
	T_CHECK(st.irqs == 100 && st.irqs_coalesced == 0);
	st = run(1, 1000000, 100);
	T_CHECK(st.irqs == 100 && st.irqs_coalesced == 0);

	/* time only (threshold larger than the batch): no interrupt but the
	 * timer's exists, so the host can only have been woken by it */
	st = run(1000, 50000000ull, 37);
	T_CHECK_MSG(st.irqs == 1 && st.irqs_timer == 1 && st.irqs_coalesced == 36,
		"time only: irqs %llu timer %llu", U(st.irqs), U(st.irqs_timer));
	T_CHECK(st.sleeps >= 1 && st.irq_handled == 1 && st.irq_spurious == 0);
	/* a 4-entry CQ fills with 3 unsignalled CQEs below the threshold: the
	 * stalled controller must still fire the timer, or the host sleeps
	 * forever (alarm) */
	g_cq_depth = 4;
	st = run(8, 1000000, 100);
	T_CHECK_MSG(st.irqs >= 34 && st.irqs_timer == st.irqs && st.irqs + st.irqs_coalesced == 100,
		"CQ 4: irqs %llu timer %llu coalesced %llu", U(st.irqs), U(st.irqs_timer),
		U(st.irqs_coalesced));
	T_CHECK(st.ctrl_cq_full > 0);
	return t_done("nvme_coalesce");
}
