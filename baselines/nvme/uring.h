/* uring.h — QD1 random reads over io_uring on a real block device or file (interrupt, polled, hybrid polled) and a fio runner.
 *
 * The kernel baseline of the nvme suite: impl/nvme/ emulates an NVMe queue
 * pair and its three completion loops in user space; this library drives the
 * real ones through io_uring (liburing 2.0+), one 4 KiB read at a time, so
 * the two can be compared per read. A plain C11 library (libc, liburing,
 * json-c for the fio runner), Linux only, no harness dependency.
 *
 *   mode    ring flags                      completion (names as of Linux 6.13+)
 *   ------  ------------------------------  -------------------------------------------
 *   irq     none                            the device interrupts: virtio/NVMe IRQ ->
 *                                           blk_mq_complete_request -> bio end_io ->
 *                                           io_req_rw_complete -> CQE (task work); the
 *                                           task sleeps in io_cqring_wait until then
 *   poll    IORING_SETUP_IOPOLL             no interrupt: io_uring_enter(GETEVENTS) ->
 *                                           io_iopoll_check -> io_do_iopoll -> the
 *                                           file's ->iopoll (iocb_bio_iopoll) ->
 *                                           bio_poll -> blk_mq_poll -> the driver's
 *                                           ->poll (nvme_poll) spins on the CQ
 *   hybrid  IOPOLL | IORING_SETUP_          as poll, but the first poll of a request
 *           HYBRID_IOPOLL (6.13+)           sleeps (hrtimer) about half the mean
 *                                           completion time the ring measured, then spins
 *
 * Submission is the same in every mode: io_uring_enter -> io_submit_sqes ->
 * io_read -> ->read_iter: blkdev_read_iter -> blkdev_direct_IO for a block
 * device, ext4_file_read_iter (xfs, btrfs alike) -> iomap_dio_rw for a file
 * -> submit_bio -> blk_mq_submit_bio -> the driver's ->queue_rq (virtio_queue_rq
 * / nvme_queue_rq) -> doorbell. A polled read carries REQ_POLLED and goes to
 * one of the device's poll queues; a device without them fails it with
 * BLK_STS_NOTSUPP, which the CQE reports as -EOPNOTSUPP.
 *
 * Targets are opened O_RDONLY | O_DIRECT: the page cache is bypassed, every
 * read reaches the device (but a virtual disk's host may still serve it from
 * its own cache). A file read also crosses the filesystem's extent lookup
 * (iomap_iter -> ext4_iomap_begin) before the bio: a few hundred ns more than
 * a block device read, the price of a default target nobody has to pick.
 *
 * Offsets: a splitmix64 stream from the seed picks block-aligned offsets,
 * uniform over the target (with replacement), one read at a time (QD1). The
 * fio runner uses fio's own generator seeded with the same seed: the same
 * distribution, not the same offsets.
 *
 * Cost, measured on a 2-vCPU x86_64 KVM guest, Linux 6.18, virtio-blk (no
 * poll queues), ext4 file, irq mode, one thread pinned: 43-53 us per 4 KiB
 * read over 2000 reads (fio on the same file: clat mean 47-57 us, p50 ~55 us).
 * A scale, not a reference: it is dominated by the host's virtual disk (a
 * loop device over the file adds the loop driver's own direct I/O). Bare-metal
 * NVMe is typically ~10 us irq and a few us less polled: measure it there.
 *
 * Unavailable here (reported by hp_uring_available(), never faked): poll and
 * hybrid, because virtio-blk on this machine has no poll queues (io_poll=0),
 * so every polled read fails with -EOPNOTSUPP; on NVMe, load the driver with
 * nvme.poll_queues=N. Hybrid also needs Linux 6.13+.
 *
 * Threads: a handle belongs to one thread at a time; different handles may
 * run in different threads. hp_uring_fio_run() may run in any thread (it
 * forks and execs fio).
 *
 * Errors: every function returns 0 or -errno (a handle: NULL and errno) and,
 * where it takes a `why` buffer, a one-line reason a user can act on.
 */
#ifndef HP_URING_H
#define HP_URING_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Modes and targets                                                   */
/* ------------------------------------------------------------------ */

typedef enum hp_uring_mode {
	HP_URING_IRQ = 0,        /* completion by interrupt */
	HP_URING_POLL,           /* IORING_SETUP_IOPOLL */
	HP_URING_HYBRID,         /* IOPOLL | IORING_SETUP_HYBRID_IOPOLL */
	HP_URING_NMODES
} hp_uring_mode_t;

/* A way of reading a target as a benchmark variant: a completion mode,
 * through this library's QD1 loop or through fio's io_uring engine. One
 * table per variant, defined in uring.c. */
typedef struct hp_uring_ops {
	const char *name;
	int mode;               /* HP_URING_* */
	int via_fio;            /* 1: hp_uring_fio_run(); 0: hp_uring_open() + hp_uring_run() */
} hp_uring_ops_t;

extern const hp_uring_ops_t hp_uring_ops_irq, hp_uring_ops_poll, hp_uring_ops_hybrid,
	hp_uring_ops_fio_irq, hp_uring_ops_fio_poll;

/* "irq", "poll", "hybrid"; "?" for a bad mode. */
const char *hp_uring_mode_name(int mode);
/* The mode of a name above, or -EINVAL. */
int hp_uring_mode_parse(const char *name);

#define HP_URING_READ_SIZE 4096u   /* bytes per read, unless the block is larger */

/* What the library learnt about a target. The queue facts are those of the
 * whole disk whose request queue serves the I/O (a partition's parent; a
 * file's backing device's disk), read from /sys/block/<disk>/queue. */
typedef struct hp_uring_info {
	char path[4096];        /* the target as given */
	int is_blockdev;        /* 1: block device, 0: regular file */
	uint64_t size;          /* bytes (BLKGETSIZE64 or st_size) */
	uint32_t lbs;           /* logical block size (BLKSSZGET), or the file's
	                         * O_DIRECT offset alignment (statx STATX_DIOALIGN,
	                         * 6.1+; else st_blksize) */
	uint32_t mem_align;     /* buffer alignment O_DIRECT needs */
	uint32_t read_size;     /* bytes per read: max(4096, lbs) */
	uint64_t nblocks;       /* size / read_size: the offsets drawn from */
	char dev[64];           /* the block device (vda1, nvme0n1p2), "" unknown */
	char disk[64];          /* its whole disk (vda, nvme0n1), "" unknown */
	int sysfs;              /* 1 when the queue facts below were read */
	int io_poll;            /* queue/io_poll: 1 the driver has poll queues */
	int io_poll_delay;      /* queue/io_poll_delay (-1 classic polling) */
	int nr_requests;        /* queue/nr_requests */
	char model[128];        /* device/model, "" when the disk has none */
	char driver[64];        /* the disk's driver (nvme, virtio_blk), "" unknown */
} hp_uring_info_t;

/* Fills *info for path without doing I/O: stats it, opens it O_RDONLY |
 * O_DIRECT, reads sizes and sysfs. Returns 0, or -errno with a reason:
 * -ENOENT (no such path), -EACCES/-EPERM (cannot open), -EISDIR, -EINVAL (not
 * a regular file or block device; O_DIRECT refused; a tmpfs/ramfs file, whose
 * "direct" reads come from memory; smaller than one read). Cost: a few
 * system calls and sysfs reads; not for timed loops. */
int hp_uring_probe(const char *path, hp_uring_info_t *info, char *why, size_t len);

/* ------------------------------------------------------------------ */
/* The default target: a pattern file                                  */
/* ------------------------------------------------------------------ */

#define HP_URING_FILE_SIZE (64u << 20)  /* default size of a pattern file */

/* The 64-bit word the pattern file holds at byte offset off (a multiple of
 * 8): a mix of the offset, so a read from a wrong offset never matches. */
uint64_t hp_uring_pattern_word(uint64_t off);

/* Creates dir/hotpath-nvme-XXXXXX (mkstemp), fills it with `size` bytes of
 * the pattern (0: HP_URING_FILE_SIZE; rounded up to 4 KiB), fsyncs it, drops
 * its pages from the page cache and stores its path in path[pathlen]. The
 * caller removes it (unlink). Refuses a directory whose filesystem cannot do
 * real O_DIRECT (tmpfs, ramfs) with -EINVAL. Returns 0 or -errno with a
 * reason. Cost: writing the file (~0.1-1 s for 64 MiB). */
int hp_uring_make_file(const char *dir, uint64_t size, char *path, size_t pathlen,
		char *why, size_t len);

/* 0 when buf[0..n) equals the pattern at file offset off (both multiples of
 * 8), else -EILSEQ. */
int hp_uring_pattern_check(const void *buf, uint64_t off, size_t n);

/* ------------------------------------------------------------------ */
/* The QD1 read loop                                                   */
/* ------------------------------------------------------------------ */

typedef struct hp_uring hp_uring_t;   /* opaque: ring, fd, buffer */

typedef struct hp_uring_stats {
	uint64_t reads;         /* reads that completed with the full length */
	uint64_t bytes;         /* bytes they read */
	uint64_t short_reads;   /* completions with 0 <= res < read_size */
	uint64_t eagain;        /* -EAGAIN completions, resubmitted */
} hp_uring_stats_t;

/* Probes path, opens it O_RDONLY | O_DIRECT and sets up a 1-entry ring of
 * `mode`. No I/O is done (a poll mode on a device without poll queues opens
 * fine and fails on the first read: use hp_uring_available() first). Returns
 * the handle, or NULL with errno set and a reason in err (bad mode:
 * EINVAL; io_uring disabled or missing; ring setup refused, e.g. hybrid on a
 * kernel before 6.13). Cost: io_uring_setup and the probe; not timed. */
hp_uring_t *hp_uring_open(const char *path, int mode, char *err, size_t errlen);

/* What hp_uring_open() learnt about the target. */
const hp_uring_info_t *hp_uring_info(const hp_uring_t *h);

/* The timed loop: n reads, one at a time, at offsets drawn from a splitmix64
 * stream seeded with `seed` (same seed, same offsets). Each read: get an SQE,
 * prep a read of read_size bytes into the aligned buffer, io_uring_submit_and_wait
 * (one io_uring_enter that submits and, in poll modes, polls), take the CQE.
 * A -EAGAIN completion is resubmitted (counted); any other negative res ends
 * the run with that -errno; a res other than read_size ends it with -EIO
 * (counted as a short read). Adds to the handle's counters. Returns 0, or
 * -errno (-EINVAL for a NULL handle).
 * Cost per read: one io_uring_enter plus the device (see the top). */
int hp_uring_run(hp_uring_t *h, uint64_t n, uint64_t seed);

/* As hp_uring_run(), calling check(arg, i, off, buf, len) after each read
 * completes (i counts from 0 within the call); a nonzero return ends the run
 * with it. For tests and verification only: the callback runs inside the
 * loop, so do not time it. */
typedef int (*hp_uring_check_fn)(void *arg, uint64_t i, uint64_t off, const void *buf, size_t len);
int hp_uring_run_check(hp_uring_t *h, uint64_t n, uint64_t seed,
		hp_uring_check_fn check, void *arg);

/* The counters since open (or the last reset). */
hp_uring_stats_t hp_uring_stats(const hp_uring_t *h);
void hp_uring_stats_reset(hp_uring_t *h);

/* Tears the ring down and closes the target; NULL is fine. */
void hp_uring_close(hp_uring_t *h);

/* 0 when `mode` works on path: opens it and does one real read in that mode.
 * Else -errno and the reason in why, e.g.
 *   "/dev/vda: no poll queues (io_poll=0); on NVMe load nvme with poll_queues=N"
 *   "kernel 6.6.0 lacks IORING_SETUP_HYBRID_IOPOLL (6.13+)"
 *   "/dev/shm/x: filesystem does not support O_DIRECT (tmpfs)"
 *   "cannot open /dev/nvme0n1: Permission denied (run as root or pick a readable device)"
 * Cost: a probe, a ring setup and one read. */
int hp_uring_available(const char *path, int mode, char *why, size_t len);

/* ------------------------------------------------------------------ */
/* fio                                                                 */
/* ------------------------------------------------------------------ */

/* One fio job on the same target: rw=randread bs=<read_size> iodepth=1
 * direct=1 ioengine=io_uring numjobs=1 thread readonly, hipri for poll mode
 * (fio 3.33 has no hybrid polling option: hybrid is -EOPNOTSUPP with that
 * reason), norandommap (offsets with replacement, as hp_uring_run),
 * randseed=seed, cpus_allowed=cpu, for exactly `ios` reads (number_ios and
 * io_size) or, when ios is 0, `runtime_s` seconds (time_based). */
typedef struct hp_uring_fio_opts {
	const char *path;       /* target */
	int mode;               /* HP_URING_IRQ or HP_URING_POLL */
	int cpu;                /* CPU to pin the job to, -1: unpinned */
	uint64_t ios;           /* reads; 0: run for runtime_s */
	double runtime_s;       /* used when ios is 0 (> 0) */
	uint64_t seed;          /* fio randseed */
	double timeout_s;       /* kill fio after this long (0: 60 s) */
	const char *fio;        /* fio binary; NULL: "fio" searched on PATH */
} hp_uring_fio_opts_t;

typedef struct hp_uring_fio_result {
	char version[32];       /* "fio-3.33" */
	int error;              /* the job's error (errno), 0 ok */
	uint64_t ios;           /* read.total_ios */
	uint64_t bytes;         /* read.io_bytes */
	double iops;            /* read.iops */
	double clat_mean_ns;    /* read.clat_ns.mean: completion latency */
	double clat_min_ns, clat_max_ns;
	double clat_p50_ns, clat_p99_ns, clat_p999_ns;  /* percentiles */
	double lat_mean_ns;     /* read.lat_ns.mean: submission + completion */
} hp_uring_fio_result_t;

/* Runs fio in a child process (its own process group, killed with SIGKILL on
 * timeout or when the caller dies; nothing is left behind), parses its JSON
 * output with json-c into *r. Returns 0 when the job read without error,
 * else -errno with a reason: -ENOENT "fio not installed (apt-get install
 * fio)"; fio's own error line (e.g. "fio: io_u error on file /dev/vda:
 * Operation not supported ..." for poll mode without poll queues) with the
 * job's -error; -ETIMEDOUT; -EPROTO for output that does not parse;
 * -EINVAL for bad options. Cost: a fork/exec and the run. */
int hp_uring_fio_run(const hp_uring_fio_opts_t *o, hp_uring_fio_result_t *r,
		char *why, size_t len);

/* The fio executable hp_uring_fio_run() would run: `fio` as a path (with a
 * '/') or a name searched on PATH (NULL: "fio"), into out. 0, or -ENOENT
 * with "fio not installed (apt-get install fio)" in why. Cost: a few
 * access() calls. */
int hp_uring_fio_find(const char *fio, char *out, size_t len, char *why, size_t whylen);

#endif
