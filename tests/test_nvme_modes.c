/* test_nvme_modes.c — impl/nvme: POLL, IRQ and HYBRID each complete 10,000 QD1 reads; IRQ sleeps, HYBRID sleeps once it has statistics then polls. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "nvme.h"
#include "t_nvme.h"
#include "t_util.h"

#define N 10000u
#define NBLK 1024u

static uint64_t buf[4096 / 8];

/* N QD1 reads of LBA i % NBLK; returns how many came back wrong */
static unsigned run(hp_nvme_queue_t *q, hp_nvme_mode_t mode, unsigned n)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++) {
		hp_nvme_sqe_t s = { .opcode = HP_NVME_CMD_READ, .nsid = HP_NVME_NSID,
			.prp1 = (uintptr_t)buf, .slba = (i * 7u) % NBLK, .nlb = 0 };
		hp_nvme_cqe_t e;
		int cid;

		memset(buf, 0, sizeof(buf));
		cid = hp_nvme_submit(q, &s);
		if (cid < 0 || hp_nvme_wait(q, mode, cid, &e) != 0 || e.cid != cid ||
		    e.status >> 1 != HP_NVME_SC_SUCCESS) {
			bad++;
			continue;
		}
		for (unsigned w = 0; w < 512; w++)
			if (buf[w] != hp_nvme_pattern(s.slba, w)) {
				bad++;
				break;
			}
	}
	return bad;
}

static hp_nvme_queue_t *make(bool irq, hp_nvme_svc_t svc, uint64_t ns)
{
	hp_nvme_config_t cfg;
	hp_nvme_queue_t *q = NULL;

	hp_nvme_config_init(&cfg);
	cfg.irq = irq;
	cfg.svc = svc;
	cfg.svc_ns = ns;
	cfg.ns_blocks = NBLK;
	cfg.seed = 42;
	T_CHECK(hp_nvme_create(&cfg, &q) == 0);
	t_nvme_wd_q = q;
	return q;
}

#define U(x) ((unsigned long long)(x))

int main(void)
{
	hp_nvme_queue_t *q;
	hp_nvme_stats_t st;
	unsigned bad;

	t_nvme_watchdog(10);
	/* sleeps as asked: the 50 us default timer slack would dwarf them */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	/* POLL on a queue with interrupts: every CQE raises one (no
	 * coalescing), nobody sleeps on them */
	q = make(true, HP_NVME_SVC_FIXED, 5000);
	if (!q)
		return t_done("nvme_modes");
	bad = run(q, HP_NVME_POLL, N);
	T_CHECK_MSG(bad == 0, "POLL: %u bad", bad);
	hp_nvme_stats(q, &st);
	T_CHECK(st.completed == N && st.ctrl_cmds == N);
	T_CHECK_MSG(st.irqs == N && st.irqs_coalesced == 0, "irqs %llu", U(st.irqs));
	T_CHECK(st.sleeps == 0 && st.hybrid_sleeps == 0);
	T_CHECK_MSG(st.poll_spins > 0, "a 5 us device never made POLL spin");
	printf("POLL:   %llu spins, %llu irqs raised and ignored\n", U(st.poll_spins), U(st.irqs));

	/* waiting for one command while others complete before it */
	{
		hp_nvme_sqe_t s[3];
		hp_nvme_cqe_t e;

		memset(s, 0, sizeof(s));
		for (int i = 0; i < 3; i++) {
			s[i].opcode = HP_NVME_CMD_FLUSH;
			s[i].nsid = HP_NVME_NSID;
		}
		T_CHECK(hp_nvme_submit_batch(q, s, 3) == 3);
		T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, s[2].cid, &e) == 0 && e.cid == s[2].cid);
		T_CHECK(hp_nvme_inflight(q) == 2);
		T_CHECK(hp_nvme_wait(q, HP_NVME_IRQ, HP_NVME_ANY, &e) == 0 && e.cid == s[0].cid);
		T_CHECK(hp_nvme_wait(q, HP_NVME_HYBRID, HP_NVME_ANY, &e) == 0 && e.cid == s[1].cid);
		T_CHECK(hp_nvme_inflight(q) == 0);
		T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, s[2].cid, &e) == -EINVAL);
	}
	t_nvme_wd_q = NULL;
	hp_nvme_destroy(q);

	/* IRQ: sleeps on the vector, never spins */
	q = make(true, HP_NVME_SVC_FIXED, 20000);
	if (!q)
		return t_done("nvme_modes");
	bad = run(q, HP_NVME_IRQ, N);
	T_CHECK_MSG(bad == 0, "IRQ: %u bad", bad);
	hp_nvme_stats(q, &st);
	T_CHECK(st.completed == N && st.irqs == N);
	T_CHECK_MSG(st.sleeps > 0, "IRQ mode never slept");
	T_CHECK(st.irq_handled >= N && st.irq_handled <= st.irqs);
	T_CHECK(st.poll_spins == 0 && st.hybrid_sleeps == 0);
	printf("IRQ:    %llu sleeps for %u commands\n", U(st.sleeps), N);
	t_nvme_wd_q = NULL;
	hp_nvme_destroy(q);

	/* HYBRID on a polled queue (no interrupt can complete anything, so
	 * every completion was found by polling after the sleep); service
	 * times exponential, mean 20 us */
	q = make(false, HP_NVME_SVC_EXP, 20000);
	if (!q)
		return t_done("nvme_modes");
	bad = run(q, HP_NVME_HYBRID, 1);
	hp_nvme_stats(q, &st);
	/* no statistics yet: classic polling, as blk_mq_poll_nsecs() == 0 */
	T_CHECK(bad == 0 && st.hybrid_classic == 1 && st.hybrid_sleeps == 0);
	T_CHECK(st.mean_ns > 0);
	bad = run(q, HP_NVME_HYBRID, N - 1);
	T_CHECK_MSG(bad == 0, "HYBRID: %u bad", bad);
	hp_nvme_stats(q, &st);
	T_CHECK(st.completed == N && st.hybrid_classic == 1);
	T_CHECK_MSG(st.hybrid_sleeps > 0, "HYBRID never slept with statistics");
	T_CHECK(st.hybrid_sleeps <= N - 1);             /* at most once per wait */
	T_CHECK(st.hybrid_sleep_ns > 0 && st.hybrid_slept_ns >= st.hybrid_sleep_ns);
	T_CHECK(st.sleeps == 0 && st.irqs == 0);
	printf("HYBRID: %llu sleeps (asked %llu us, slept %llu us), %llu spins, mean %llu ns\n",
		U(st.hybrid_sleeps), U(st.hybrid_sleep_ns / 1000), U(st.hybrid_slept_ns / 1000),
		U(st.poll_spins), U(st.mean_ns));
	t_nvme_wd_q = NULL;
	hp_nvme_destroy(q);
	return t_done("nvme_modes");
}
