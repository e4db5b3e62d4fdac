/* test_nvme_ring.c — impl/nvme: 100,000 commands through a depth-8 queue (CQ of 8; then 25,000 with a CQ of 4): each completes once, right cid, phase flips per wrap, data right. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "hp_rand.h"
#include "nvme.h"
#include "t_nvme.h"
#include "t_util.h"

#define NCMDS 100000u
#define QD 8u
#define LBA 512u
#define NBLK 256u               /* [0,128): pattern, never written; [128,256): written */
#define MAXB 4u                 /* blocks per command: nlb 0..3 */

typedef struct cmd {            /* what the test expects of one command */
	uint32_t seq;
	uint8_t op;
	uint8_t nb;
	uint16_t buf;
	uint64_t slba;
	uint64_t stamp[MAXB];   /* read: what each LBA must hold; 0 = the pattern */
} cmd_t;

static uint64_t shadow[NBLK];   /* stamp last written per LBA, 0 = pattern */
static uint64_t bufs[QD][MAXB * LBA / 8];
static uint8_t done_count[NCMDS];
static cmd_t by_cid[QD];
static int cid_busy[QD];

static uint64_t rng;

static uint64_t word_of(uint64_t stamp, uint64_t lba, unsigned w)
{
	return stamp ? stamp * 0x100000001b3ull + w : hp_nvme_pattern(lba, w);
}

static int check_read(const cmd_t *c)
{
	for (unsigned b = 0; b < c->nb; b++)
		for (unsigned w = 0; w < LBA / 8; w++)
			if (bufs[c->buf][b * (LBA / 8) + w] != word_of(c->stamp[b], c->slba + b, w))
				return 0;
	return 1;
}

/* one run of ncmds commands; cqd = CQ depth (a CQ smaller than the SQ
 * fills up and makes the controller wait for the CQ head doorbell) */
static void ring(unsigned cqd, unsigned ncmds)
{
	hp_nvme_config_t cfg;
	hp_nvme_queue_t *q = NULL;
	hp_nvme_stats_t st;
	unsigned free_buf[QD], nfree_buf = QD, seq = 0, got = 0, bad_data = 0, bad_phase = 0,
		bad_cid = 0, writes = 0, reads_b = 0;

	memset(shadow, 0, sizeof(shadow));
	memset(done_count, 0, sizeof(done_count));
	memset(cid_busy, 0, sizeof(cid_busy));
	rng = 0x6e766d65;
	for (unsigned i = 0; i < QD; i++)
		free_buf[i] = i;
	hp_nvme_config_init(&cfg);
	cfg.qdepth = QD;
	cfg.cq_depth = cqd;
	cfg.lba_size = LBA;
	cfg.ns_blocks = NBLK;
	cfg.svc_ns = 0;
	cfg.irq = false;
	T_CHECK(hp_nvme_create(&cfg, &q) == 0);
	if (!q)
		return;
	t_nvme_wd_q = q;

	while (got < ncmds) {
		/* fill the queue: up to QD-1 in flight, a random batch size */
		unsigned want = (unsigned)(hp_splitmix64(&rng) % QD) + 1, n = 0;
		hp_nvme_sqe_t sq[QD];
		cmd_t cs[QD];

		while (n < want && seq + n < ncmds && nfree_buf > 0 &&
		       hp_nvme_inflight(q) + n < QD - 1) {
			hp_nvme_sqe_t *s = &sq[n];
			cmd_t *c = &cs[n];
			uint64_t r = hp_splitmix64(&rng);

			memset(s, 0, sizeof(*s));
			memset(c, 0, sizeof(*c));
			c->seq = seq + n;
			c->buf = (uint16_t)free_buf[--nfree_buf];
			c->nb = (uint8_t)(r % MAXB + 1);
			c->op = (r >> 8) % 8 == 0 ? HP_NVME_CMD_WRITE :
				(r >> 8) % 8 == 1 ? HP_NVME_CMD_FLUSH : HP_NVME_CMD_READ;
			/* writes only to [128,256); reads anywhere */
			c->slba = c->op == HP_NVME_CMD_WRITE ? 128 + (r >> 16) % (128 - MAXB + 1) :
				(r >> 16) % (NBLK - MAXB + 1);
			for (unsigned b = 0; b < c->nb; b++) {
				uint64_t lba = c->slba + b;

				if (c->op == HP_NVME_CMD_WRITE) {
					uint64_t stamp = ((uint64_t)c->seq << 8) | (b + 1);

					for (unsigned w = 0; w < LBA / 8; w++)
						bufs[c->buf][b * (LBA / 8) + w] = word_of(stamp, lba, w);
					shadow[lba] = stamp;
				} else {
					c->stamp[b] = shadow[lba];
				}
			}
			if (c->op == HP_NVME_CMD_READ)
				memset(bufs[c->buf], 0xa5, sizeof(bufs[c->buf]));
			s->opcode = c->op;
			s->nsid = HP_NVME_NSID;
			s->prp1 = (uintptr_t)bufs[c->buf];
			s->slba = c->slba;
			s->nlb = (uint16_t)(c->nb - 1);
			n++;
		}
		if (n) {
			int k = hp_nvme_submit_batch(q, sq, n);

			T_CHECK_MSG(k == (int)n, "batch %u -> %d", n, k);
			if (k != (int)n)
				break;
			for (unsigned i = 0; i < n; i++) {
				T_CHECK(sq[i].cid < QD - 1 && !cid_busy[sq[i].cid]);
				cid_busy[sq[i].cid] = 1;
				by_cid[sq[i].cid] = cs[i];
				writes += cs[i].op == HP_NVME_CMD_WRITE;
			}
			seq += n;
		}

		/* one blocking wait, then whatever else is done, in CQ order */
		hp_nvme_cqe_t cq[QD];
		int m;

		T_CHECK(hp_nvme_wait(q, HP_NVME_POLL, HP_NVME_ANY, &cq[0]) == 0);
		m = hp_nvme_collect(q, cq + 1, QD - 1);
		T_CHECK(m >= 0);
		for (int i = 0; i <= m; i++) {
			hp_nvme_cqe_t *e = &cq[i];
			cmd_t *c;

			/* the k-th CQE of the queue was posted in CQ round
			 * k / cqd, phase 1 on even rounds, 0 on odd ones */
			if (HP_NVME_STATUS_PHASE(e->status) != (((got / cqd) & 1u) ^ 1u))
				bad_phase++;
			if (e->cid >= QD - 1 || !cid_busy[e->cid]) {
				bad_cid++;
				got++;
				continue;
			}
			c = &by_cid[e->cid];
			cid_busy[e->cid] = 0;
			T_CHECK(HP_NVME_STATUS_SC(e->status) == HP_NVME_SC_SUCCESS);
			T_CHECK(e->sq_id == HP_NVME_SQID);
			if (c->seq < NCMDS)
				done_count[c->seq]++;
			if (c->op == HP_NVME_CMD_READ) {
				if (!check_read(c))
					bad_data++;
				reads_b += c->slba + c->nb > 128;
			}
			free_buf[nfree_buf++] = c->buf;
			got++;
		}
	}

	unsigned once = 0;

	for (unsigned i = 0; i < ncmds; i++)
		once += done_count[i] == 1;
	T_CHECK_MSG(once == ncmds, "%u of %u completed exactly once", once, ncmds);
	T_CHECK_MSG(bad_cid == 0, "%u CQEs with a cid not in flight", bad_cid);
	T_CHECK_MSG(bad_phase == 0, "%u CQEs with the wrong phase tag", bad_phase);
	T_CHECK_MSG(bad_data == 0, "%u reads returned wrong data", bad_data);
	T_CHECK(writes > ncmds / 16 && reads_b > ncmds / 16);
	T_CHECK(hp_nvme_stats(q, &st) == 0);
	T_CHECK(st.submitted == ncmds && st.completed == ncmds && st.ctrl_cmds == ncmds);
	T_CHECK_MSG(st.cq_wraps == ncmds / cqd && st.ctrl_cq_wraps == ncmds / cqd,
		"wraps host %llu ctrl %llu", (unsigned long long)st.cq_wraps,
		(unsigned long long)st.ctrl_cq_wraps);
	T_CHECK(st.bad_cqes == 0);
	T_CHECK(cqd < QD || st.ctrl_cq_full == 0);     /* tags keep a full-size CQ from filling */
	T_CHECK(st.sq_doorbells <= st.submitted && st.cq_doorbells <= st.completed);
	T_CHECK(st.irqs == 0 && st.sleeps == 0);        /* a polled queue */
	T_CHECK(hp_nvme_inflight(q) == 0);

	/* the namespace: [0,128) untouched, [128,256) holds the last writes */
	uint64_t bytes = 0;
	const uint64_t *ns = hp_nvme_ns(q, &bytes);
	unsigned ns_bad = 0;

	T_CHECK(ns && bytes == (uint64_t)NBLK * LBA);
	for (unsigned l = 0; ns && l < NBLK; l++)
		for (unsigned w = 0; w < LBA / 8; w++)
			ns_bad += ns[l * (LBA / 8) + w] != word_of(shadow[l], l, w);
	T_CHECK_MSG(ns_bad == 0, "%u namespace words wrong", ns_bad);
	printf("nvme_ring: CQ %u: %u commands, %u writes, %llu SQ doorbells, %llu CQ doorbells, "
		"%llu poll spins, %llu controller stalls on a full CQ\n",
		cqd, ncmds, writes, (unsigned long long)st.sq_doorbells,
		(unsigned long long)st.cq_doorbells, (unsigned long long)st.poll_spins,
		(unsigned long long)st.ctrl_cq_full);
	t_nvme_wd_q = NULL;
	hp_nvme_destroy(q);
}

int main(void)
{
	t_nvme_watchdog(10);
	ring(QD, NCMDS);
	ring(QD / 2, NCMDS / 4);
	return t_done("nvme_ring");
}
