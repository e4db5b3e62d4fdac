/* test_nvme_errors.c — impl/nvme: command status codes, queue full (-EAGAIN), IRQ waits on a polled queue, bad config and arguments. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "nvme.h"
#include "t_util.h"

static uint64_t buf[4][512];

/* submits one command and returns its status code (or 0xffff) */
static unsigned status_of(hp_nvme_queue_t *q, hp_nvme_sqe_t s)
{
	hp_nvme_cqe_t e;
	int cid = hp_nvme_submit(q, &s);

	if (cid < 0 || hp_nvme_wait(q, HP_NVME_POLL, cid, &e) != 0 || e.cid != cid)
		return 0xffff;
	return HP_NVME_STATUS_SC(e.status);
}

int main(void)
{
	hp_nvme_config_t cfg, c;
	hp_nvme_queue_t *q = NULL;
	hp_nvme_stats_t st;
	hp_nvme_cqe_t e[4];
	hp_nvme_sqe_t s[4];

	alarm(60);
	/* bad configs */
	hp_nvme_config_init(&cfg);
	T_CHECK(cfg.qdepth == 64 && cfg.lba_size == 4096 && cfg.irq && cfg.device_os_cpu == -1);
	T_CHECK(hp_nvme_create(NULL, &q) == -EINVAL);
	T_CHECK(hp_nvme_create(&cfg, NULL) == -EINVAL);
#define BAD(field, v) do { c = cfg; c.field = v; q = NULL; \
		T_CHECK_MSG(hp_nvme_create(&c, &q) == -EINVAL && !q, #field " = " #v); } while (0)
	BAD(qdepth, 0);
	BAD(qdepth, 1);
	BAD(qdepth, 48);
	BAD(qdepth, 8192);
	BAD(cq_depth, 1);
	BAD(cq_depth, 6);
	BAD(cq_depth, 8192);
	BAD(svc_ns, 61000000000ull);
	BAD(lba_size, 256);
	BAD(lba_size, 4000);
	BAD(lba_size, 131072);
	BAD(ns_blocks, 0);
	BAD(ns_blocks, (1ull << 30) / 4096 + 1);
	BAD(svc, (hp_nvme_svc_t)7);
	BAD(device_os_cpu, -2);
	BAD(device_os_cpu, 1 << 20);
	T_CHECK(hp_nvme_stats(NULL, &st) == -EINVAL);
	hp_nvme_destroy(NULL);

	/* a polled queue of depth 4 (3 commands in flight at most) */
	cfg.qdepth = 4;
	cfg.ns_blocks = 64;
	cfg.svc_ns = 1000;
	cfg.irq = false;
	cfg.device_os_cpu = 0;          /* pinning works (CPU 0 always exists) */
	T_CHECK(hp_nvme_create(&cfg, &q) == 0);
	if (!q)
		return t_done("nvme_errors");

	/* status codes */
	hp_nvme_sqe_t rd = { .opcode = HP_NVME_CMD_READ, .nsid = HP_NVME_NSID,
		.prp1 = (uintptr_t)buf[0], .slba = 0, .nlb = 0 };
	hp_nvme_sqe_t x;
	x = rd; x.slba = 64;            T_CHECK(status_of(q, x) == HP_NVME_SC_LBA_RANGE);
	x = rd; x.slba = 63; x.nlb = 1; T_CHECK(status_of(q, x) == HP_NVME_SC_LBA_RANGE);
	x = rd; x.slba = UINT64_MAX;    T_CHECK(status_of(q, x) == HP_NVME_SC_LBA_RANGE);
	x = rd; x.opcode = HP_NVME_CMD_WRITE; x.slba = 60; x.nlb = 7;
	T_CHECK(status_of(q, x) == HP_NVME_SC_LBA_RANGE);
	x = rd; x.slba = 63;            T_CHECK(status_of(q, x) == HP_NVME_SC_SUCCESS);
	T_CHECK(buf[0][5] == hp_nvme_pattern(63, 5));
	x = rd; x.opcode = 0x7f;        T_CHECK(status_of(q, x) == HP_NVME_SC_INVALID_OPCODE);
	x = rd; x.opcode = 0x04;        T_CHECK(status_of(q, x) == HP_NVME_SC_INVALID_OPCODE);
	x = rd; x.nsid = 2;             T_CHECK(status_of(q, x) == HP_NVME_SC_INVALID_NS);
	x = rd; x.prp1 = 0;             T_CHECK(status_of(q, x) == HP_NVME_SC_INVALID_FIELD);
	x = rd; x.opcode = HP_NVME_CMD_FLUSH; T_CHECK(status_of(q, x) == HP_NVME_SC_SUCCESS);

	/* queue full: three in flight, the fourth is refused and nothing
	 * is overwritten: all three come back with their own data */
	for (int i = 0; i < 4; i++) {
		s[i] = rd;
		s[i].prp1 = (uintptr_t)buf[i];
		s[i].slba = 10 + (uint64_t)i;
		memset(buf[i], 0, sizeof(buf[i]));
	}
	hp_nvme_stats(q, &st);
	uint64_t sub0 = st.submitted, db0 = st.sq_doorbells;
	T_CHECK(hp_nvme_submit(q, &s[0]) >= 0);
	T_CHECK(hp_nvme_submit_batch(q, &s[1], 2) == 2);
	T_CHECK(hp_nvme_inflight(q) == 3);
	T_CHECK(hp_nvme_submit(q, &s[3]) == -EAGAIN);
	T_CHECK(hp_nvme_submit_batch(q, &s[3], 1) == -EAGAIN);
	hp_nvme_stats(q, &st);
	T_CHECK(st.submitted == sub0 + 3 && st.sq_doorbells == db0 + 2);
	T_CHECK(s[0].cid != s[1].cid && s[1].cid != s[2].cid && s[0].cid != s[2].cid);
	for (int i = 0; i < 3; i++) {
		T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, HP_NVME_ANY, &e[i]) == 0);
		T_CHECK(e[i].cid == s[i].cid && e[i].status >> 1 == 0);
		T_CHECK(buf[i][100] == hp_nvme_pattern(10 + (uint64_t)i, 100));
	}
	/* partial batch: two tags free after one more goes in */
	T_CHECK(hp_nvme_submit(q, &s[0]) >= 0);
	T_CHECK(hp_nvme_submit_batch(q, &s[1], 3) == 2);
	T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, s[2].cid, &e[0]) == 0 && e[0].cid == s[2].cid);
	T_CHECK(hp_nvme_collect(q, e, 4) >= 0);
	while (hp_nvme_inflight(q))
		T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, HP_NVME_ANY, &e[0]) == 0);
	T_CHECK(buf[3][0] == 0);        /* the refused command never ran */
	hp_nvme_stats(q, &st);
	T_CHECK(st.bad_cqes == 0 && st.ctrl_cq_full == 0);

	/* bad waits and arguments */
	T_CHECK(hp_nvme_submit(q, &rd) >= 0);
	T_CHECK(hp_nvme_wait(q, HP_NVME_IRQ, HP_NVME_ANY, &e[0]) == -EOPNOTSUPP);
	T_CHECK(hp_nvme_wait(q, HP_NVME_IRQ, rd.cid, &e[0]) == -EOPNOTSUPP);
	T_CHECK(hp_nvme_wait(q, (hp_nvme_mode_t)3, rd.cid, &e[0]) == -EINVAL);
	T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, 3, &e[0]) == -EINVAL);     /* beyond the tags */
	T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, -2, &e[0]) == -EINVAL);
	T_CHECK(hp_nvme_wait(NULL, HP_NVME_POLL, 0, &e[0]) == -EINVAL);
	T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, rd.cid, NULL) == 0);
	T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, rd.cid, NULL) == -EINVAL); /* collected */
	T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, HP_NVME_ANY, &e[0]) == -ENOENT);
	T_CHECK(hp_nvme_collect(q, NULL, 1) == -EINVAL);
	T_CHECK(hp_nvme_collect(q, e, 4) == 0);
	T_CHECK(hp_nvme_submit(NULL, &rd) == -EINVAL && hp_nvme_submit(q, NULL) == -EINVAL);
	T_CHECK(hp_nvme_submit_batch(q, s, 0) == -EINVAL);
	T_CHECK(hp_nvme_reap(NULL) == -EINVAL);
	T_CHECK(hp_nvme_reap(q) == 0);

	/* destroy with commands in flight (sanitizers watch for leaks) */
	T_CHECK(hp_nvme_submit_batch(q, s, 3) == 3);
	hp_nvme_destroy(q);
	return t_done("nvme_errors");
}
