/* nvme.h — an NVMe I/O queue pair with an emulated controller and the host's polled, interrupt and hybrid completion loops.
 *
 * Followed: NVMe Base Specification 1.4 (queue entries, phase tag,
 * doorbells, Interrupt Coalescing feature) and Linux 6.6
 * drivers/nvme/host/pci.c + block/blk-mq.c for the host side. Hybrid
 * polling is NOT in 6.6: blk-mq's hybrid poll (4.10 .. 6.3) was removed in
 * 6.4 by 54bdd67d0f88 "blk-mq: remove hybrid polling"; 6.6 only classic-
 * polls (io_uring IOPOLL, BLK_POLL_NOSLEEP), and io_uring got a new one in
 * 6.13 (IORING_SETUP_HYBRID_IOPOLL). HP_NVME_HYBRID follows the 6.3
 * blk_mq_poll_hybrid() described below.
 *
 * One queue pair = one submission queue (SQ) and one completion queue (CQ),
 * a tail doorbell for the SQ and a head doorbell for the CQ, an in-memory
 * namespace (nsid 1), and a controller thread that plays the device. The
 * CQ has the SQ's depth unless cfg.cq_depth says otherwise; the spec sizes
 * them independently (and lets several SQs share a CQ). With the same
 * depth the tags (qdepth-1 in flight) keep the CQ from ever filling, as in
 * Linux; a smaller CQ fills, and the controller then stalls until the
 * host's head doorbell frees a slot (ctrl_cq_full counts the stalls), the
 * case in which the order "copy the CQEs out, then write the doorbell"
 * is what keeps entries from being overwritten while the host reads them.
 *
 *   here                            NVMe 1.4 / Linux 6.6
 *   ------------------------------  ------------------------------------------
 *   hp_nvme_sqe_t (64 bytes)        struct nvme_command / nvme_rw_command
 *   hp_nvme_cqe_t (16 bytes)        struct nvme_completion (status bit 0 = P)
 *   hp_nvme_submit[_batch]()        blk-mq tag allocation + nvme_sq_copy_cmd()
 *                                   + nvme_write_sq_db() (one doorbell write
 *                                   per batch, as ->queue_rqs / commit_rqs)
 *   tags (cid = tag, 0..qdepth-2)   blk-mq tags; an I/O queue has q_depth - 1
 *                                   usable entries (full = tail + 1 == head)
 *   hp_nvme_reap()                  nvme_process_cq(): while nvme_cqe_pending()
 *                                   (phase == nvmeq->cq_phase) handle the CQE,
 *                                   nvme_update_cq_head() flips cq_phase on
 *                                   wrap; then one nvme_ring_cq_doorbell()
 *   (internal) find by cid          nvme_find_rq(); a CQE for an id not in
 *                                   flight is counted (bad_cqes) and dropped,
 *                                   as the driver warns and ignores it
 *   hp_nvme_wait(HP_NVME_POLL)      blk_mq_poll() -> nvme_poll(): spin on the
 *                                   CQ phase tag (io_uring IORING_SETUP_IOPOLL)
 *   hp_nvme_wait(HP_NVME_IRQ)       sleep until the MSI-X vector fires, then
 *                                   nvme_irq() -> nvme_process_cq() ->
 *                                   blk_mq_complete_request()
 *   hp_nvme_wait(HP_NVME_HYBRID)    blk_mq_poll_hybrid() (6.3): sleep
 *                                   blk_mq_poll_nsecs() = (mean + 1) / 2 of
 *                                   the completion times, once per wait, then
 *                                   classic poll; no samples yet -> classic
 *   cfg.irq = false                 a poll queue (nvme poll_queues=): its CQ
 *                                   has no interrupt vector
 *   cfg.coalesce_*                  Set Features, Interrupt Coalescing (FID
 *                                   08h): aggregation threshold and time
 *   controller thread               the device: fetch on SQ doorbell, execute,
 *                                   post CQE, signal MSI-X
 *
 * Memory ordering (C11 atomics where hardware has DMA / posted writes):
 *  - host: write the SQE (plain), then store the SQ tail doorbell with
 *    release; controller: load the doorbell with acquire, then read SQEs.
 *    (The driver's writel() after the SQE copy orders the same way.)
 *  - controller: copy read data to the host buffer and write every CQE
 *    field, then store the status word (phase tag) with release; host:
 *    load the status with acquire, and only on a matching phase read the
 *    rest. A device's DMA write of the CQE is ordered the same way (the
 *    phase tag is valid only once the whole entry is visible).
 *  - host: copy out every consumed CQE, then store the CQ head doorbell
 *    with release; controller: load it with acquire before it reuses a CQ
 *    slot (it stalls on a full CQ, see cq_depth).
 *  - interrupt: the controller bumps a sequence word (seq_cst) and
 *    FUTEX_WAKEs only if the host announced it sleeps (Dekker on two
 *    seq_cst words), so an interrupt nobody waits for costs no syscall.
 *
 * The controller (stand-in for hardware): one thread, optionally pinned
 * (cfg.device_os_cpu), spinning on the SQ tail doorbell as the device
 * fetches commands. It runs one command at a time: service time starts at
 * fetch, the data copy happens inside it, and it busy-waits until
 * fetch + service time (fixed, or exponential with the configured mean
 * drawn from a xoshiro256** seeded by cfg.seed, so a run repeats) to keep
 * latency precise. It is a single-server device: queue depth adds waiting,
 * not parallelism. Read copies (NLB+1) * lba_size bytes from the namespace
 * to the address in prp1, write copies the other way, flush does nothing.
 * The namespace starts filled with hp_nvme_pattern(lba, word).
 *
 * Interrupts: a futex word stands in for the MSI-X vector (one vector per
 * queue). Coalescing as the spec's feature: a CQE raises the interrupt when
 * the CQEs not yet signalled reach coalesce_thr, or when coalesce_time_ns
 * has passed since the first of them was posted (the controller checks its
 * timer while idle, while busy-waiting and while stalled on a full CQ).
 * coalesce_thr <= 1 or coalesce_time_ns == 0 means no aggregation (the
 * spec: threshold is 0's based, time 0 is "no delay"): every CQE raises
 * one. Units differ from the spec (count and ns instead of a 0's based
 * count and 100 us).
 *
 * The host loops:
 *  - POLL spins on the phase tag of the CQ head entry (the one it waits
 *    for or any), reaping whatever is there; poll_spins counts empty polls.
 *    blk_mq_poll stops when need_resched(); here the user-space stand-in is
 *    a sched_yield() every HP_NVME_YIELD_SPINS empty polls, so a host
 *    sharing an OS CPU with the controller still progresses. The controller
 *    idles the same way. On a queue with interrupts, POLL still works
 *    (the interrupts are raised and counted, nobody sleeps on them).
 *  - IRQ learns of completions only through the vector, as a task in
 *    io_schedule() does: when it fired since last handled, the "handler"
 *    reaps (nvme_irq -> nvme_process_cq, all CQEs present, signalled or
 *    not; one that finds none counts as spurious, IRQ_NONE); otherwise the
 *    host sleeps on the futex (sleeps counts FUTEX_WAITs). It never looks
 *    at the CQ without an interrupt, so coalescing delays it. On a
 *    queue created without interrupts it returns -EOPNOTSUPP: the mirror of
 *    io_uring IOPOLL on a device without poll queues (which fails with
 *    -EOPNOTSUPP because there is nothing to poll): here there is nothing
 *    to sleep on.
 *  - HYBRID: the kernel's stats were per size bucket over 100 ms windows
 *    (blk_stat); here the statistic is the mean completion time (submit to
 *    reap, as rq->io_start_time_ns to completion) of the last
 *    HP_NVME_HYBRID_WINDOW completions of the queue, whatever mode reaped
 *    them. With no sample yet it polls classically (hybrid_classic).
 *    Otherwise, if nothing is pending, it sleeps (mean + 1) / 2 ns relative
 *    with clock_nanosleep (CLOCK_MONOTONIC), once per wait, then polls.
 *    Caution: a user-space sleep is stretched by the thread's timer slack
 *    (50 us by default for SCHED_OTHER; prctl(PR_SET_TIMERSLACK, 1) to
 *    remove it); hybrid_slept_ns (measured) against hybrid_sleep_ns
 *    (asked) shows it. The kernel's blk_mq_poll_hybrid_sleep() set its
 *    hrtimer's expiry without a slack range, so the nvme suite runs its
 *    hybrid host with a timer slack of 1 ns. On a VM the nap still
 *    overruns by the host's timer latency (~40 us on the guest this was
 *    written on), and since the mean is of submit-to-reap times, the
 *    overrun feeds back into the next nap, as it would in the kernel.
 *
 * Costs (gcc 12 -O2, x86_64, 2-vCPU KVM guest; instructions from
 * callgrind, times from a quick loop, not a benchmark; service time 0):
 *  - hp_nvme_submit: ~93 instructions including a vDSO clock read (the
 *    submit time for the hybrid statistic); ~60 ns. hp_nvme_submit_batch of
 *    32: ~30 ns per command (one clock read, one doorbell).
 *  - hp_nvme_reap of one CQE: ~130 instructions (a clock read, tag lookup,
 *    done list, the doorbell); of 32 CQEs: ~66 per CQE, ~15-20 ns. An
 *    empty poll (phase mismatch) is a load and a compare, a few ns.
 *  - a QD1 round trip with POLL: ~0.5 us, mostly the cache lines of the
 *    SQE, doorbells and CQE moving between the two vCPUs. IRQ adds a
 *    FUTEX_WAKE by the controller and a wake-up of the host (~20 us on
 *    this VM); HYBRID adds a clock_nanosleep and its wake-up latency.
 *
 * Thread safety: one host thread per queue pair does submit, reap, wait,
 * collect and stats (as a Linux nvme_queue's SQ is guarded by sq_lock and
 * its CQ by the irq handler or cq_poll_lock: here the single host thread is
 * both, so no lock is taken). The controller thread is internal. Controller
 * counters are atomics; host counters are plain, so read stats from the
 * host thread. create/destroy are not concurrent with anything on the
 * queue. Under ThreadSanitizer every ordering is visible (atomics only;
 * futex is used just to block).
 *
 * Errors: -EINVAL for a NULL argument, a bad config field (qdepth not a
 * power of two in 2..4096, cq_depth neither 0 nor such a power of two,
 * lba_size not a power of two in 512..65536, ns_blocks 0 or namespace
 * > 1 GiB, bad svc model, svc_ns > 60 s, device_os_cpu < -1 or
 * >= CPU_SETSIZE), a bad cid or mode; -EAGAIN when all tags are in flight
 * (queue full: nothing is written to the SQ); -EOPNOTSUPP for an IRQ wait
 * on a polled queue; -ENOENT when waiting for "any" with nothing in
 * flight; -ENOMEM; a negated errno from pthreads / sched_setaffinity.
 * Command errors come back in the CQE status (HP_NVME_SC_*), not as returns.
 */
#ifndef HP_NVME_H
#define HP_NVME_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================== */
/* Constants (NVMe 1.4; Linux 6.6 include/linux/nvme.h)                */
/* ================================================================== */

#define HP_NVME_MAX_QDEPTH 4096         /* here; the spec allows 64 Ki (CAP.MQES) */
#define HP_NVME_NSID 1                  /* the one namespace */
#define HP_NVME_SQID 1                  /* first I/O queue (0 is admin) */

enum {                                  /* NVM command set opcodes */
	HP_NVME_CMD_FLUSH = 0x00,
	HP_NVME_CMD_WRITE = 0x01,
	HP_NVME_CMD_READ = 0x02,
};

/* Status codes, generic command status (SCT 0): CQE status = SC << 1 | P,
 * as the kernel reads it (le16_to_cpu(cqe->status) >> 1). */
enum {
	HP_NVME_SC_SUCCESS = 0x00,
	HP_NVME_SC_INVALID_OPCODE = 0x01,
	HP_NVME_SC_INVALID_FIELD = 0x02,    /* prp1 == 0 for a transfer */
	HP_NVME_SC_INVALID_NS = 0x0b,       /* nsid != 1 */
	HP_NVME_SC_LBA_RANGE = 0x80,        /* SLBA + NLB beyond the namespace */
};
#define HP_NVME_STATUS_SC(status) ((unsigned)(status) >> 1)
#define HP_NVME_STATUS_PHASE(status) ((unsigned)(status) & 1u)

#define HP_NVME_HYBRID_WINDOW 32        /* completions in the running mean */
#define HP_NVME_YIELD_SPINS 4096        /* empty polls between sched_yield()s */
#define HP_NVME_ANY (-1)                /* hp_nvme_wait: any command */

/* ================================================================== */
/* Queue entries                                                       */
/* ================================================================== */

/* Submission queue entry, 64 bytes (struct nvme_rw_command). */
typedef struct hp_nvme_sqe {
	uint8_t opcode;                 /* CDW0 7:0   HP_NVME_CMD_* */
	uint8_t flags;                  /* CDW0 15:8  FUSE/PSDT (ignored) */
	uint16_t cid;                   /* CDW0 31:16 set by submit (the tag) */
	uint32_t nsid;                  /* must be HP_NVME_NSID */
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1;                  /* host buffer address (PRP1 stand-in:
					   one virtually contiguous buffer) */
	uint64_t prp2;
	uint64_t slba;                  /* CDW10-11 starting LBA */
	uint16_t nlb;                   /* CDW12 15:0 blocks - 1 (0's based) */
	uint16_t control;               /* CDW12 31:16 */
	uint32_t cdw13, cdw14, cdw15;
} hp_nvme_sqe_t;

/* Completion queue entry, 16 bytes (struct nvme_completion); what the
 * host hands back is a copy of the ring entry. */
typedef struct hp_nvme_cqe {
	uint32_t result;                /* DW0 command specific (0) */
	uint32_t rsvd;                  /* DW1 */
	uint16_t sq_head;               /* DW2 SQ head after fetching this one */
	uint16_t sq_id;                 /* HP_NVME_SQID */
	uint16_t cid;                   /* DW3 command id */
	uint16_t status;                /* SC << 1 | phase tag */
} hp_nvme_cqe_t;

/* The namespace's initial content: 64-bit word `word` of LBA `lba`
 * (distinct for every lba < 2^44 and word < 2^20). */
static inline uint64_t hp_nvme_pattern(uint64_t lba, unsigned word)
{
	return ((lba << 20) | word) * 0x9e3779b97f4a7c15ull ^ 0x6e766d65ull;
}

/* ================================================================== */
/* Configuration, lifecycle, statistics                                */
/* ================================================================== */

typedef enum {
	HP_NVME_SVC_FIXED = 0,          /* every command takes svc_ns */
	HP_NVME_SVC_EXP = 1,            /* exponential, mean svc_ns */
} hp_nvme_svc_t;

typedef enum {
	HP_NVME_POLL = 0,
	HP_NVME_IRQ = 1,
	HP_NVME_HYBRID = 2,
} hp_nvme_mode_t;

/* A completion mode as a variant of a benchmark: how the host waits and
 * whether its queue needs an interrupt vector (a poll queue has none, as
 * nvme's poll_queues). One table per mode, defined in nvme.c. */
typedef struct hp_nvme_mode_ops {
	const char *name;               /* "poll", "irq", "hybrid" */
	hp_nvme_mode_t mode;            /* passed to hp_nvme_wait() */
	bool irq;                       /* hp_nvme_config_t.irq for its queue */
} hp_nvme_mode_ops_t;

extern const hp_nvme_mode_ops_t hp_nvme_ops_poll, hp_nvme_ops_irq, hp_nvme_ops_hybrid;

/* Fill with hp_nvme_config_init(), then change fields. */
typedef struct hp_nvme_config {
	unsigned qdepth;                /* SQ entries, power of 2, 2..4096
					   (default 64); qdepth-1 in flight */
	unsigned cq_depth;              /* CQ entries, power of 2, 2..4096;
					   0 (default) = qdepth */
	unsigned lba_size;              /* power of 2, 512..65536 (default 4096) */
	uint64_t ns_blocks;             /* namespace size in LBAs (default 1024);
					   ns_blocks * lba_size <= 1 GiB */
	hp_nvme_svc_t svc;              /* default HP_NVME_SVC_FIXED */
	uint64_t svc_ns;                /* service time or its mean (default 10 us) */
	uint64_t seed;                  /* service-time PRNG seed (default 1) */
	int device_os_cpu;              /* pin the controller; -1 = no (default) */
	bool irq;                       /* interrupts on (default); false = a
					   polled queue */
	unsigned coalesce_thr;          /* aggregation threshold (default 0) */
	uint64_t coalesce_time_ns;      /* aggregation time (default 0 = off) */
} hp_nvme_config_t;

typedef struct hp_nvme_stats {
	/* host side (plain; read from the host thread) */
	uint64_t submitted;             /* commands written to the SQ */
	uint64_t sq_doorbells;          /* SQ tail doorbell writes */
	uint64_t completed;             /* CQEs consumed by reap */
	uint64_t cq_doorbells;          /* CQ head doorbell writes */
	uint64_t cq_wraps;              /* host's expected phase flips */
	uint64_t bad_cqes;              /* CQEs whose cid was not in flight */
	uint64_t sleeps;                /* IRQ waits: FUTEX_WAITs */
	uint64_t irq_handled;           /* IRQ waits: handler runs (reap after
					   the vector fired, maybe several firings) */
	uint64_t irq_spurious;          /*   of which found no CQE (IRQ_NONE) */
	uint64_t poll_spins;            /* empty polls (POLL and HYBRID) */
	uint64_t hybrid_sleeps;         /* HYBRID: clock_nanosleep calls */
	uint64_t hybrid_sleep_ns;       /*   sum of the sleeps asked for */
	uint64_t hybrid_slept_ns;       /*   sum of the sleeps measured */
	uint64_t hybrid_classic;        /* HYBRID waits with no statistic yet */
	uint64_t mean_ns;               /* current running mean, 0 = none */
	/* controller side (snapshot of atomics) */
	uint64_t ctrl_cmds;             /* commands executed */
	uint64_t ctrl_cq_wraps;         /* controller phase flips */
	uint64_t irqs;                  /* interrupts raised */
	uint64_t irqs_coalesced;        /* CQEs that raised no interrupt of their own */
	uint64_t irqs_timer;            /* of irqs: by the aggregation time */
	uint64_t ctrl_cq_full;          /* stalls on a full CQ (0 unless
					   cq_depth < qdepth) */
	uint64_t ctrl_overrun;          /* commands that ran past their service time */
} hp_nvme_stats_t;

typedef struct hp_nvme_queue hp_nvme_queue_t;

void hp_nvme_config_init(hp_nvme_config_t *cfg);
/* Allocates the rings and the namespace (filled with hp_nvme_pattern) and
 * starts the controller. 0 and *out, -EINVAL, -ENOMEM or -errno. */
int hp_nvme_create(const hp_nvme_config_t *cfg, hp_nvme_queue_t **out);
/* Stops the controller thread (joins it) and frees everything; commands
 * in flight are dropped. NULL is a no-op. */
void hp_nvme_destroy(hp_nvme_queue_t *q);
/* Counters. -EINVAL on NULL. */
int hp_nvme_stats(const hp_nvme_queue_t *q, hp_nvme_stats_t *out);
/* Namespace memory (for checks; not synchronised with the controller:
 * read it only with no write in flight). NULL on a NULL queue. */
void *hp_nvme_ns(hp_nvme_queue_t *q, uint64_t *bytes);

/* ================================================================== */
/* Host side                                                           */
/* ================================================================== */

/* Takes a free tag, sets sqe->cid to it, copies the SQE to the SQ tail and
 * writes the tail doorbell. Returns the cid (>= 0), -EAGAIN when qdepth-1
 * commands are in flight (a command is in flight until collected by wait
 * or collect), -EINVAL on NULL. The controller checks the command itself. */
int hp_nvme_submit(hp_nvme_queue_t *q, hp_nvme_sqe_t *sqe);
/* Submits sqes[0..n) in order with one doorbell write, as far as tags
 * last; sets each cid. Returns the number submitted (>= 1), -EAGAIN if
 * none could be, -EINVAL on NULL or n == 0. */
int hp_nvme_submit_batch(hp_nvme_queue_t *q, hp_nvme_sqe_t *sqes, unsigned n);
/* nvme_process_cq(): consumes every CQE whose phase matches, marks its
 * command done (in CQ order), writes the CQ head doorbell once if it
 * consumed any. Never blocks. Returns the number consumed, -EINVAL. */
int hp_nvme_reap(hp_nvme_queue_t *q);
/* Waits with `mode` until command `cid` (or HP_NVME_ANY: the oldest done
 * command) is done, collects it into *out (may be NULL) and frees its
 * tag. Returns 0, -EINVAL (bad mode, or cid not in flight), -EOPNOTSUPP
 * (HP_NVME_IRQ on a polled queue), -ENOENT (ANY with nothing in flight). */
int hp_nvme_wait(hp_nvme_queue_t *q, hp_nvme_mode_t mode, int cid, hp_nvme_cqe_t *out);
/* Collects up to max done commands (in completion order) without waiting
 * or reaping. Returns how many, -EINVAL. */
int hp_nvme_collect(hp_nvme_queue_t *q, hp_nvme_cqe_t *out, unsigned max);
/* Commands submitted and not yet collected. */
unsigned hp_nvme_inflight(const hp_nvme_queue_t *q);

#ifdef __cplusplus
}
#endif

#endif
