/* nvme.c — impl/nvme: queue pair, emulated controller thread, host submit/reap and the polled, interrupt and hybrid completion loops. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* pthread_attr_setaffinity_np, pthread_setname_np */
#endif
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hp_compiler.h"
#include "hp_futex.h"
#include "hp_rand.h"
#include "hp_time.h"
#include "nvme.h"

#define CACHELINE 64
#define NS_MAX_BYTES (1ull << 30)

/* ================================================================== */
/* Types                                                               */
/* ================================================================== */

/* A CQ slot as the device writes it: struct nvme_completion, with the
 * status word atomic because the phase tag in it publishes the entry. */
typedef struct ring_cqe {
	uint32_t result;
	uint32_t rsvd;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	_Atomic uint16_t status;
} ring_cqe_t;

_Static_assert(sizeof(hp_nvme_sqe_t) == 64, "SQE is 64 bytes");
_Static_assert(offsetof(hp_nvme_sqe_t, prp1) == 24 && offsetof(hp_nvme_sqe_t, slba) == 40 &&
	offsetof(hp_nvme_sqe_t, nlb) == 48, "SQE layout follows nvme_rw_command");
_Static_assert(sizeof(hp_nvme_cqe_t) == 16 && sizeof(ring_cqe_t) == 16, "CQE is 16 bytes");
_Static_assert(offsetof(ring_cqe_t, status) == offsetof(hp_nvme_cqe_t, status), "CQE layout");

enum { TAG_FREE = 0, TAG_INFLIGHT, TAG_DONE };

/* One request (the blk-mq request behind a tag). Done requests sit on a
 * doubly linked list in completion order so that waiting for one cid and
 * collecting "any" are both O(1). */
typedef struct tag {
	uint64_t submit_ns;
	hp_nvme_cqe_t cqe;
	int32_t prev, next;
	uint8_t state;
} tag_t;

/* Controller counters: the controller is the only writer. */
typedef struct ctrl_stats {
	_Atomic uint64_t cmds, wraps, irqs, coalesced, timer, cq_full, overrun;
} ctrl_stats_t;

/* struct nvme_queue (host) + the device's view of the same queue pair. */
struct hp_nvme_queue {
	hp_nvme_config_t cfg;
	uint32_t mask;                  /* SQ: qdepth - 1 */
	uint32_t cq_mask;               /* CQ: cq_depth - 1 */
	unsigned ntags;                 /* qdepth - 1 */
	hp_nvme_sqe_t *sq;
	ring_cqe_t *cq;
	uint8_t *ns;
	uint64_t ns_bytes;
	pthread_t thr;

	/* "BAR0": doorbell registers and the MSI-X stand-in, a line each */
	_Alignas(CACHELINE) _Atomic uint32_t sq_tail_db;
	_Alignas(CACHELINE) _Atomic uint32_t cq_head_db;
	_Alignas(CACHELINE) _Atomic uint32_t irq_seq;   /* futex word */
	_Atomic uint32_t irq_waiting;                   /* host sleeps on it */
	_Alignas(CACHELINE) _Atomic uint32_t stop;

	/* host private (nvmeq->sq_tail, cq_head, cq_phase and blk-mq tags) */
	_Alignas(CACHELINE) uint32_t sq_tail;
	uint32_t cq_head;
	uint16_t cq_phase;
	unsigned nfree;
	unsigned inflight;
	int32_t done_head, done_tail;
	uint32_t irq_handled;           /* irq_seq when the handler last ran */
	tag_t *tags;
	uint16_t *free_tags;
	uint64_t lat[HP_NVME_HYBRID_WINDOW];
	unsigned lat_n, lat_i;
	uint64_t lat_sum;
	hp_nvme_stats_t hs;

	/* controller private */
	_Alignas(CACHELINE) uint32_t c_sq_head;
	uint32_t c_cq_tail;
	uint32_t c_cq_head;             /* last CQ head doorbell value read */
	uint16_t c_phase;
	unsigned c_pending;             /* CQEs posted, not yet signalled */
	uint64_t c_pending_since;
	hp_xoshiro_t rng;
	bool c_coalesce;
	ctrl_stats_t cs;
};

/* ================================================================== */
/* Small helpers                                                       */
/* ================================================================== */

/* Single-writer counter: a relaxed load and store, no locked RMW. */
static inline void cbump(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
		memory_order_relaxed);
}

static inline uint64_t cget(const _Atomic uint64_t *c)
{
	return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

static bool pow2_in(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/* ================================================================== */
/* Controller (the device)                                             */
/* ================================================================== */

/* MSI-X message: bump the vector's word, wake the host only if it sleeps.
 * seq_cst on both sides: either we see irq_waiting, or the host sees the
 * new irq_seq before it sleeps (and FUTEX_WAIT rechecks it anyway). */
static void ctrl_fire(hp_nvme_queue_t *q, bool by_timer)
{
	cbump(&q->cs.irqs, 1);
	cbump(&q->cs.coalesced, q->c_pending - 1);
	if (by_timer)
		cbump(&q->cs.timer, 1);
	q->c_pending = 0;
	atomic_fetch_add_explicit(&q->irq_seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&q->irq_waiting, memory_order_seq_cst))
		hp_futex_wake((uint32_t *)&q->irq_seq, INT_MAX);
}

/* Aggregation time: fire once the oldest unsignalled CQE is old enough. */
static inline void ctrl_timer(hp_nvme_queue_t *q, uint64_t now)
{
	if (q->c_pending && now - q->c_pending_since >= q->cfg.coalesce_time_ns)
		ctrl_fire(q, true);
}

static uint64_t ctrl_service_ns(hp_nvme_queue_t *q)
{
	double u;

	if (q->cfg.svc == HP_NVME_SVC_FIXED || q->cfg.svc_ns == 0)
		return q->cfg.svc_ns;
	/* u in (0, 1]: -ln(u) is Exp(1) */
	u = (double)((hp_xoshiro_next(&q->rng) >> 11) + 1) * 0x1p-53;
	return (uint64_t)(-log(u) * (double)q->cfg.svc_ns + 0.5);
}

static uint16_t ctrl_execute(hp_nvme_queue_t *q, const hp_nvme_sqe_t *c)
{
	uint64_t nb = (uint64_t)c->nlb + 1, off, len;

	switch (c->opcode) {
	case HP_NVME_CMD_FLUSH:
		if (c->nsid != HP_NVME_NSID && c->nsid != 0xffffffffu)
			return HP_NVME_SC_INVALID_NS;
		return HP_NVME_SC_SUCCESS;
	case HP_NVME_CMD_READ:
	case HP_NVME_CMD_WRITE:
		if (c->nsid != HP_NVME_NSID)
			return HP_NVME_SC_INVALID_NS;
		if (c->slba >= q->cfg.ns_blocks || nb > q->cfg.ns_blocks - c->slba)
			return HP_NVME_SC_LBA_RANGE;
		if (!c->prp1)
			return HP_NVME_SC_INVALID_FIELD;
		off = c->slba * q->cfg.lba_size;
		len = nb * q->cfg.lba_size;
		if (c->opcode == HP_NVME_CMD_READ)
			memcpy((void *)(uintptr_t)c->prp1, q->ns + off, len);
		else
			memcpy(q->ns + off, (const void *)(uintptr_t)c->prp1, len);
		return HP_NVME_SC_SUCCESS;
	default:
		return HP_NVME_SC_INVALID_OPCODE;
	}
}

/* Writes the CQE at the CQ tail: every field first, the status word with
 * the phase tag last (release), as the device's DMA makes the phase tag
 * visible only with the whole entry. Returns false if told to stop. */
static bool ctrl_post(hp_nvme_queue_t *q, uint16_t cid, uint16_t sc)
{
	uint32_t next = (q->c_cq_tail + 1) & q->cq_mask;
	ring_cqe_t *e = &q->cq[q->c_cq_tail];

	if (next == q->c_cq_head) {
		/* The acquire pairs with the host's release after it copied the
		 * entries out: only then may the slot be overwritten. */
		q->c_cq_head = atomic_load_explicit(&q->cq_head_db, memory_order_acquire);
		if (next == q->c_cq_head)
			cbump(&q->cs.cq_full, 1);
		while (next == q->c_cq_head) {
			if (atomic_load_explicit(&q->stop, memory_order_relaxed))
				return false;
			/* an IRQ host may be asleep on CQEs still unsignalled */
			if (q->c_pending && q->c_coalesce)
				ctrl_timer(q, hp_now_ns());
			hp_cpu_relax();
			q->c_cq_head = atomic_load_explicit(&q->cq_head_db, memory_order_acquire);
		}
	}
	e->result = 0;
	e->rsvd = 0;
	e->sq_head = (uint16_t)q->c_sq_head;
	e->sq_id = HP_NVME_SQID;
	e->cid = cid;
	atomic_store_explicit(&e->status, (uint16_t)(sc << 1 | q->c_phase), memory_order_release);
	q->c_cq_tail = next;
	if (next == 0) {                /* wrapped: the next round has the other phase */
		q->c_phase ^= 1;
		cbump(&q->cs.wraps, 1);
	}
	if (q->cfg.irq) {
		if (q->c_pending++ == 0 && q->c_coalesce)
			q->c_pending_since = hp_now_ns();
		if (!q->c_coalesce || q->c_pending >= q->cfg.coalesce_thr)
			ctrl_fire(q, false);
	}
	return true;
}

static void *ctrl_main(void *arg)
{
	hp_nvme_queue_t *q = arg;
	unsigned idle = 0;

	while (!atomic_load_explicit(&q->stop, memory_order_relaxed)) {
		/* Fetch: the acquire pairs with the host's release after it
		 * wrote the SQEs. */
		uint32_t tail = atomic_load_explicit(&q->sq_tail_db, memory_order_acquire);
		hp_nvme_sqe_t cmd;
		uint64_t t0 = 0, svc, now;
		uint16_t sc;

		if (q->c_sq_head == tail) {
			if (q->c_pending && q->c_coalesce)
				ctrl_timer(q, hp_now_ns());
			hp_cpu_relax();
			if (++idle % HP_NVME_YIELD_SPINS == 0)
				sched_yield();
			continue;
		}
		idle = 0;
		memcpy(&cmd, &q->sq[q->c_sq_head], sizeof(cmd));
		q->c_sq_head = (q->c_sq_head + 1) & q->mask;
		svc = ctrl_service_ns(q);
		if (svc || q->c_coalesce)
			t0 = hp_now_ns();
		sc = ctrl_execute(q, &cmd);
		if (svc) {
			/* busy-wait to the deadline: precise, as a device would be */
			now = hp_now_ns();
			if (now > t0 + svc)
				cbump(&q->cs.overrun, 1);
			while (now < t0 + svc) {
				if (q->c_pending && q->c_coalesce)
					ctrl_timer(q, now);
				if (atomic_load_explicit(&q->stop, memory_order_relaxed))
					return NULL;
				hp_cpu_relax();
				now = hp_now_ns();
			}
		}
		cbump(&q->cs.cmds, 1);
		if (!ctrl_post(q, cmd.cid, sc))
			break;
	}
	return NULL;
}

/* ================================================================== */
/* Lifecycle                                                           */
/* ================================================================== */

void hp_nvme_config_init(hp_nvme_config_t *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->qdepth = 64;
	cfg->lba_size = 4096;
	cfg->ns_blocks = 1024;
	cfg->svc = HP_NVME_SVC_FIXED;
	cfg->svc_ns = 10000;
	cfg->seed = 1;
	cfg->device_os_cpu = -1;
	cfg->irq = true;
}

static int config_ok(const hp_nvme_config_t *c)
{
	if (!pow2_in(c->qdepth, 2, HP_NVME_MAX_QDEPTH) || !pow2_in(c->lba_size, 512, 65536))
		return 0;
	if (c->ns_blocks == 0 || c->ns_blocks > NS_MAX_BYTES / c->lba_size)
		return 0;
	if (c->cq_depth && !pow2_in(c->cq_depth, 2, HP_NVME_MAX_QDEPTH))
		return 0;
	if (c->svc != HP_NVME_SVC_FIXED && c->svc != HP_NVME_SVC_EXP)
		return 0;
	if (c->svc_ns > 60ull * 1000000000u)    /* a minute: surely a unit mistake */
		return 0;
	if (c->device_os_cpu < -1 || c->device_os_cpu >= CPU_SETSIZE)
		return 0;
	return 1;
}

static void queue_free(hp_nvme_queue_t *q)
{
	free(q->sq);
	free(q->cq);
	free(q->ns);
	free(q->tags);
	free(q->free_tags);
	free(q);
}

int hp_nvme_create(const hp_nvme_config_t *cfg, hp_nvme_queue_t **out)
{
	hp_nvme_queue_t *q;
	pthread_attr_t attr;
	uint64_t w, nwords;
	unsigned i, d, cd;
	int rc;

	if (!cfg || !out || !config_ok(cfg))
		return -EINVAL;
	*out = NULL;
	q = aligned_alloc(CACHELINE, sizeof(*q));
	if (!q)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->cfg = *cfg;
	d = cfg->qdepth;
	cd = cfg->cq_depth ? cfg->cq_depth : d;
	q->cfg.cq_depth = cd;
	q->mask = d - 1;
	q->cq_mask = cd - 1;
	q->ntags = d - 1;
	q->ns_bytes = cfg->ns_blocks * cfg->lba_size;
	q->sq = aligned_alloc(CACHELINE, (size_t)d * sizeof(hp_nvme_sqe_t));
	q->cq = aligned_alloc(CACHELINE, (size_t)cd * sizeof(ring_cqe_t) < CACHELINE ?
		CACHELINE : (size_t)cd * sizeof(ring_cqe_t));
	q->ns = malloc(q->ns_bytes);
	q->tags = calloc(q->ntags, sizeof(tag_t));
	q->free_tags = malloc(q->ntags * sizeof(uint16_t));
	if (!q->sq || !q->cq || !q->ns || !q->tags || !q->free_tags) {
		queue_free(q);
		return -ENOMEM;
	}
	memset(q->sq, 0, (size_t)d * sizeof(hp_nvme_sqe_t));
	/* CQ memory starts zeroed: phase 0, while both sides expect 1 first */
	for (i = 0; i < cd; i++) {
		memset(&q->cq[i], 0, sizeof(q->cq[i]));
		atomic_init(&q->cq[i].status, 0);
	}
	nwords = cfg->lba_size / 8;
	for (w = 0; w < q->ns_bytes / 8; w++) {
		uint64_t v = hp_nvme_pattern(w / nwords, (unsigned)(w % nwords));
		memcpy(q->ns + w * 8, &v, 8);
	}
	/* pop order 0, 1, 2, ... */
	for (i = 0; i < q->ntags; i++)
		q->free_tags[i] = (uint16_t)(q->ntags - 1 - i);
	q->nfree = q->ntags;
	q->done_head = q->done_tail = -1;
	q->cq_phase = 1;
	q->c_phase = 1;
	q->c_coalesce = cfg->irq && cfg->coalesce_thr > 1 && cfg->coalesce_time_ns > 0;
	hp_xoshiro_seed(&q->rng, cfg->seed);
	atomic_init(&q->sq_tail_db, 0);
	atomic_init(&q->cq_head_db, 0);
	atomic_init(&q->irq_seq, 0);
	atomic_init(&q->irq_waiting, 0);
	atomic_init(&q->stop, 0);

	rc = pthread_attr_init(&attr);
	if (rc) {
		queue_free(q);
		return -rc;
	}
	if (cfg->device_os_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cfg->device_os_cpu, &set);
		rc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (!rc)
		rc = pthread_create(&q->thr, &attr, ctrl_main, q);
	pthread_attr_destroy(&attr);
	if (rc) {
		queue_free(q);
		return -rc;
	}
	pthread_setname_np(q->thr, "hp-nvme-ctrl");
	*out = q;
	return 0;
}

void hp_nvme_destroy(hp_nvme_queue_t *q)
{
	if (!q)
		return;
	atomic_store_explicit(&q->stop, 1, memory_order_relaxed);
	pthread_join(q->thr, NULL);
	queue_free(q);
}

int hp_nvme_stats(const hp_nvme_queue_t *q, hp_nvme_stats_t *out)
{
	if (!q || !out)
		return -EINVAL;
	*out = q->hs;
	out->mean_ns = q->lat_n ? q->lat_sum / q->lat_n : 0;
	out->ctrl_cmds = cget(&q->cs.cmds);
	out->ctrl_cq_wraps = cget(&q->cs.wraps);
	out->irqs = cget(&q->cs.irqs);
	out->irqs_coalesced = cget(&q->cs.coalesced);
	out->irqs_timer = cget(&q->cs.timer);
	out->ctrl_cq_full = cget(&q->cs.cq_full);
	out->ctrl_overrun = cget(&q->cs.overrun);
	return 0;
}

void *hp_nvme_ns(hp_nvme_queue_t *q, uint64_t *bytes)
{
	if (!q)
		return NULL;
	if (bytes)
		*bytes = q->ns_bytes;
	return q->ns;
}

unsigned hp_nvme_inflight(const hp_nvme_queue_t *q)
{
	return q ? q->inflight : 0;
}

/* ================================================================== */
/* Host: submission                                                    */
/* ================================================================== */

int hp_nvme_submit_batch(hp_nvme_queue_t *q, hp_nvme_sqe_t *sqes, unsigned n)
{
	uint32_t tail;
	uint64_t now;
	unsigned i, k;

	if (!q || !sqes || n == 0)
		return -EINVAL;
	k = n < q->nfree ? n : q->nfree;
	if (k == 0)
		return -EAGAIN;
	now = hp_now_ns();
	tail = q->sq_tail;
	for (i = 0; i < k; i++) {
		uint16_t t = q->free_tags[--q->nfree];

		q->tags[t].state = TAG_INFLIGHT;
		q->tags[t].submit_ns = now;
		sqes[i].cid = t;
		memcpy(&q->sq[tail], &sqes[i], sizeof(hp_nvme_sqe_t));
		tail = (tail + 1) & q->mask;
	}
	q->sq_tail = tail;
	/* the doorbell write publishes the SQEs (writel after the copy) */
	atomic_store_explicit(&q->sq_tail_db, tail, memory_order_release);
	q->inflight += k;
	q->hs.submitted += k;
	q->hs.sq_doorbells++;
	return (int)k;
}

int hp_nvme_submit(hp_nvme_queue_t *q, hp_nvme_sqe_t *sqe)
{
	int rc = hp_nvme_submit_batch(q, sqe, 1);

	return rc == 1 ? sqe->cid : rc;
}

/* ================================================================== */
/* Host: completion                                                    */
/* ================================================================== */

static void lat_sample(hp_nvme_queue_t *q, uint64_t ns)
{
	if (q->lat_n < HP_NVME_HYBRID_WINDOW) {
		q->lat_n++;
	} else {
		q->lat_sum -= q->lat[q->lat_i];
	}
	q->lat[q->lat_i] = ns;
	q->lat_sum += ns;
	q->lat_i = (q->lat_i + 1) % HP_NVME_HYBRID_WINDOW;
}

/* blk_mq_complete_request() for the CQE's command: look the tag up
 * (nvme_find_rq), mark it done, queue it for collection. */
static void complete_one(hp_nvme_queue_t *q, const hp_nvme_cqe_t *c, uint64_t now)
{
	tag_t *t;

	if (c->cid >= q->ntags || q->tags[c->cid].state != TAG_INFLIGHT) {
		q->hs.bad_cqes++;
		return;
	}
	t = &q->tags[c->cid];
	t->cqe = *c;
	t->state = TAG_DONE;
	t->next = -1;
	t->prev = q->done_tail;
	if (q->done_tail >= 0)
		q->tags[q->done_tail].next = c->cid;
	else
		q->done_head = c->cid;
	q->done_tail = c->cid;
	lat_sample(q, now - t->submit_ns);
}

int hp_nvme_reap(hp_nvme_queue_t *q)
{
	uint32_t head;
	uint16_t phase;
	uint64_t now = 0;
	int n = 0;

	if (!q)
		return -EINVAL;
	head = q->cq_head;
	phase = q->cq_phase;
	for (;;) {
		ring_cqe_t *e = &q->cq[head];
		/* nvme_cqe_pending(): the acquire pairs with the device's
		 * release of the status word, the last thing it writes */
		uint16_t st = atomic_load_explicit(&e->status, memory_order_acquire);
		hp_nvme_cqe_t c;

		if ((st & 1u) != phase)
			break;
		c.result = e->result;
		c.rsvd = e->rsvd;
		c.sq_head = e->sq_head;
		c.sq_id = e->sq_id;
		c.cid = e->cid;
		c.status = st;
		if (n++ == 0)
			now = hp_now_ns();
		/* nvme_update_cq_head(): wrap flips the phase we expect */
		head = (head + 1) & q->cq_mask;
		if (head == 0) {
			phase ^= 1;
			q->hs.cq_wraps++;
		}
		complete_one(q, &c, now);
	}
	if (n) {
		q->cq_head = head;
		q->cq_phase = phase;
		/* nvme_ring_cq_doorbell(): after the entries were copied out */
		atomic_store_explicit(&q->cq_head_db, head, memory_order_release);
		q->hs.cq_doorbells++;
		q->hs.completed += (unsigned)n;
	}
	return n;
}

static bool is_done(const hp_nvme_queue_t *q, int cid)
{
	return cid == HP_NVME_ANY ? q->done_head >= 0 : q->tags[cid].state == TAG_DONE;
}

/* Unlinks a done command, hands its CQE out, frees its tag. */
static void take(hp_nvme_queue_t *q, int cid, hp_nvme_cqe_t *out)
{
	tag_t *t;

	if (cid == HP_NVME_ANY)
		cid = q->done_head;
	t = &q->tags[cid];
	if (t->prev >= 0)
		q->tags[t->prev].next = t->next;
	else
		q->done_head = t->next;
	if (t->next >= 0)
		q->tags[t->next].prev = t->prev;
	else
		q->done_tail = t->prev;
	if (out)
		*out = t->cqe;
	t->state = TAG_FREE;
	q->free_tags[q->nfree++] = (uint16_t)cid;
	q->inflight--;
}

static inline void poll_spin(hp_nvme_queue_t *q, unsigned *spins)
{
	q->hs.poll_spins++;
	hp_cpu_relax();
	/* need_resched() stand-in: let a controller sharing our CPU run */
	if (++*spins % HP_NVME_YIELD_SPINS == 0)
		sched_yield();
}

/* blk_mq_poll_hybrid_sleep() (Linux 6.3): half the mean, relative. */
static void hybrid_sleep(hp_nvme_queue_t *q)
{
	uint64_t ns = (q->lat_sum / q->lat_n + 1) / 2, t0;
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	t0 = hp_now_ns();
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
	q->hs.hybrid_sleeps++;
	q->hs.hybrid_sleep_ns += ns;
	q->hs.hybrid_slept_ns += hp_now_ns() - t0;
}

/* IRQ mode: the host learns of completions only through the vector. If
 * it fired since we last handled it, run the "handler" (nvme_irq ->
 * nvme_process_cq); otherwise sleep until it fires. A handler that finds
 * nothing (CQEs already taken by an earlier one) is IRQ_NONE: spurious. */
static void irq_wait(hp_nvme_queue_t *q)
{
	uint32_t seq = atomic_load_explicit(&q->irq_seq, memory_order_seq_cst);

	if (seq == q->irq_handled) {
		atomic_store_explicit(&q->irq_waiting, 1, memory_order_seq_cst);
		if (atomic_load_explicit(&q->irq_seq, memory_order_seq_cst) == seq) {
			hp_futex_wait((uint32_t *)&q->irq_seq, seq, NULL);
			q->hs.sleeps++;
		}
		atomic_store_explicit(&q->irq_waiting, 0, memory_order_relaxed);
		/* the acquire pairs with the controller's bump after its CQEs */
		seq = atomic_load_explicit(&q->irq_seq, memory_order_acquire);
		if (seq == q->irq_handled)
			return;         /* woken without an interrupt: sleep again */
	}
	q->irq_handled = seq;
	q->hs.irq_handled++;
	if (hp_nvme_reap(q) == 0)
		q->hs.irq_spurious++;
}

int hp_nvme_wait(hp_nvme_queue_t *q, hp_nvme_mode_t mode, int cid, hp_nvme_cqe_t *out)
{
	unsigned spins = 0;
	bool slept = false;

	if (!q || (mode != HP_NVME_POLL && mode != HP_NVME_IRQ && mode != HP_NVME_HYBRID))
		return -EINVAL;
	if (cid == HP_NVME_ANY) {
		if (q->inflight == 0)
			return -ENOENT;
	} else if (cid < 0 || (unsigned)cid >= q->ntags || q->tags[cid].state == TAG_FREE) {
		return -EINVAL;
	}
	if (mode == HP_NVME_IRQ && !q->cfg.irq)
		return -EOPNOTSUPP;

	while (!is_done(q, cid)) {
		if (mode == HP_NVME_IRQ) {
			irq_wait(q);
			continue;
		}
		if (hp_nvme_reap(q) > 0)
			continue;
		if (mode == HP_NVME_HYBRID && !slept) {
			/* once per wait, as RQF_MQ_POLL_SLEPT */
			slept = true;
			if (q->lat_n == 0) {
				q->hs.hybrid_classic++;
			} else {
				hybrid_sleep(q);
				continue;
			}
		}
		poll_spin(q, &spins);
	}
	take(q, cid, out);
	return 0;
}

int hp_nvme_collect(hp_nvme_queue_t *q, hp_nvme_cqe_t *out, unsigned max)
{
	unsigned n = 0;

	if (!q || (!out && max))
		return -EINVAL;
	while (n < max && q->done_head >= 0)
		take(q, HP_NVME_ANY, &out[n++]);
	return (int)n;
}

/* The completion modes as variant tables (nvme.h). */
const hp_nvme_mode_ops_t hp_nvme_ops_poll = { .name = "poll", .mode = HP_NVME_POLL, .irq = false };
const hp_nvme_mode_ops_t hp_nvme_ops_irq = { .name = "irq", .mode = HP_NVME_IRQ, .irq = true };
const hp_nvme_mode_ops_t hp_nvme_ops_hybrid = { .name = "hybrid", .mode = HP_NVME_HYBRID, .irq = true };
