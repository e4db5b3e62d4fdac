/* uring.c — QD1 random reads over io_uring (irq, poll, hybrid poll) on a block device or an O_DIRECT file. */
#include "uring.h"
#include "uring_int.h"
#include "hp_rand.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <liburing.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Linux 6.13 (include/uapi/linux/io_uring.h): the first poll of a request
 * sleeps before it spins. liburing releases before 2.9 do not define it. */
#ifndef IORING_SETUP_HYBRID_IOPOLL
#define IORING_SETUP_HYBRID_IOPOLL (1U << 17)
#endif

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */


/* Reads one line of a sysfs file into buf without its newline; 0 or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		buf[0] = 0;
		return -EIO;
	}
	fclose(f);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int read_int(const char *path, int *v)
{
	char b[64];
	int r = read_line(path, b, sizeof(b));
	if (r)
		return r;
	char *end;
	long x = strtol(b, &end, 10);
	if (end == b)
		return -EINVAL;
	*v = (int)x;
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* ------------------------------------------------------------------ */
/* Modes                                                               */
/* ------------------------------------------------------------------ */

static const char *const mode_names[HP_URING_NMODES] = {"irq", "poll", "hybrid"};

const char *hp_uring_mode_name(int mode)
{
	return mode >= 0 && mode < HP_URING_NMODES ? mode_names[mode] : "?";
}

int hp_uring_mode_parse(const char *name)
{
	for (int m = 0; name && m < HP_URING_NMODES; m++)
		if (!strcmp(name, mode_names[m]))
			return m;
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Target probe                                                        */
/* ------------------------------------------------------------------ */

/* The block device dev_t: its name, its whole disk and the disk's queue. */
static void sysfs_facts(dev_t d, hp_uring_info_t *in)
{
	char p[PATH_MAX], real[PATH_MAX], b[256];
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u", major(d), minor(d));
	if (!realpath(p, real))
		return;         /* no block device behind it (btrfs, NFS, overlay...) */
	snprintf(in->dev, sizeof(in->dev), "%s", base_name(real));
	snprintf(p, sizeof(p), "%s/partition", real);
	if (access(p, F_OK) == 0) {
		/* a partition's directory sits inside its disk's */
		char *slash = strrchr(real, '/');
		*slash = 0;
		snprintf(in->disk, sizeof(in->disk), "%s", base_name(real));
	} else {
		snprintf(in->disk, sizeof(in->disk), "%s", in->dev);
	}
	snprintf(p, sizeof(p), "/sys/block/%s/queue/io_poll", in->disk);
	if (read_int(p, &in->io_poll) == 0)
		in->sysfs = 1;
	snprintf(p, sizeof(p), "/sys/block/%s/queue/io_poll_delay", in->disk);
	read_int(p, &in->io_poll_delay);
	snprintf(p, sizeof(p), "/sys/block/%s/queue/nr_requests", in->disk);
	read_int(p, &in->nr_requests);
	snprintf(p, sizeof(p), "/sys/block/%s/device/model", in->disk);
	if (read_line(p, b, sizeof(b)) == 0)
		snprintf(in->model, sizeof(in->model), "%s", b);
	/* nvme: block/device is the controller, whose parent has the driver */
	const char *drv[] = {"device/driver", "device/device/driver"};
	for (size_t i = 0; i < sizeof(drv) / sizeof(drv[0]) && !in->driver[0]; i++) {
		snprintf(p, sizeof(p), "/sys/block/%s/%s", in->disk, drv[i]);
		if (realpath(p, real))
			snprintf(in->driver, sizeof(in->driver), "%s", base_name(real));
	}
}

static int open_error(const char *path, int e, char *why, size_t len)
{
	if (e == ENOENT || e == ENOTDIR)
		return say(why, len, -e, "%s: no such file or device", path);
	if ((e == EACCES || e == EPERM) && geteuid() == 0)
		return say(why, len, -e, "cannot open %s: %s (refused even to root: a device cgroup, "
			"container or LSM policy; pick another target)", path, strerror(e));
	if (e == EACCES || e == EPERM || e == EROFS)
		return say(why, len, -e, "cannot open %s: %s (run as root or pick a readable device)",
			path, strerror(e));
	if (e == EINVAL)
		return say(why, len, -e, "%s: filesystem does not support O_DIRECT", path);
	return say(why, len, -e, "cannot open %s: %s", path, strerror(e));
}

/* hp_uring_probe(), leaving the O_DIRECT descriptor open in *fdp. */
static int probe_fd(const char *path, hp_uring_info_t *in, int *fdp, char *why, size_t len)
{
	*fdp = -1;
	if (!path || !in)
		return say(why, len, -EINVAL, "no target given");
	memset(in, 0, sizeof(*in));
	in->io_poll = in->io_poll_delay = in->nr_requests = -1;
	if (strlen(path) >= sizeof(in->path))
		return say(why, len, -ENAMETOOLONG, "%.64s...: path too long", path);
	snprintf(in->path, sizeof(in->path), "%s", path);

	struct stat st;
	if (stat(path, &st))
		return open_error(path, errno, why, len);
	if (S_ISDIR(st.st_mode))
		return say(why, len, -EISDIR, "%s is a directory (give a block device or a file)", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return say(why, len, -EINVAL, "%s is not a regular file or a block device", path);
	in->is_blockdev = S_ISBLK(st.st_mode);

	if (!in->is_blockdev) {
		/* tmpfs accepts O_DIRECT opens since 6.6 but serves them from
		 * memory: no device behind them, so not a target */
		struct statfs sf;
		if (statfs(path, &sf) == 0 &&
				(sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC))
			return say(why, len, -EINVAL,
				"%s: filesystem does not support O_DIRECT (%s: reads would come from memory)",
				path, sf.f_type == TMPFS_MAGIC ? "tmpfs" : "ramfs");
	}

	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return open_error(path, errno, why, len);

	int r = 0;
	if (in->is_blockdev) {
		int lbs = 0;
		uint64_t sz = 0;
		if (ioctl(fd, BLKSSZGET, &lbs) || ioctl(fd, BLKGETSIZE64, &sz)) {
			r = say(why, len, -errno, "%s: block size ioctl: %s", path, strerror(errno));
			goto fail;
		}
		in->lbs = in->mem_align = (uint32_t)lbs;
		in->size = sz;
		sysfs_facts(st.st_rdev, in);
	} else {
		in->size = (uint64_t)st.st_size;
		in->lbs = (uint32_t)st.st_blksize;
		in->mem_align = 512;
#ifdef STATX_DIOALIGN
		struct statx sx;
		if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
				(sx.stx_mask & STATX_DIOALIGN)) {
			if (!sx.stx_dio_offset_align) {
				r = say(why, len, -EINVAL, "%s: filesystem does not support O_DIRECT", path);
				goto fail;
			}
			in->lbs = sx.stx_dio_offset_align;
			in->mem_align = sx.stx_dio_mem_align;
		}
#endif
		sysfs_facts(st.st_dev, in);
	}
	if (!in->lbs || (in->lbs & (in->lbs - 1))) {
		r = say(why, len, -EINVAL, "%s: odd block size %u", path, in->lbs);
		goto fail;
	}
	in->read_size = in->lbs > HP_URING_READ_SIZE ? in->lbs : HP_URING_READ_SIZE;
	in->nblocks = in->size / in->read_size;
	if (!in->nblocks) {
		r = say(why, len, -EINVAL, "%s is smaller than one read (%" PRIu64 " < %u bytes)",
			path, in->size, in->read_size);
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return r;
}

int hp_uring_probe(const char *path, hp_uring_info_t *info, char *why, size_t len)
{
	int fd;
	int r = probe_fd(path, info, &fd, why, len);
	if (fd >= 0)
		close(fd);
	return r;
}

/* ------------------------------------------------------------------ */
/* Pattern file                                                        */
/* ------------------------------------------------------------------ */

uint64_t hp_uring_pattern_word(uint64_t off)
{
	uint64_t s = off ^ 0x686f747061746821ull;       /* "hotpath!" */
	return hp_splitmix64(&s);
}

int hp_uring_pattern_check(const void *buf, uint64_t off, size_t n)
{
	const unsigned char *p = buf;
	if (!buf || (off & 7) || (n & 7))
		return -EINVAL;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w != hp_uring_pattern_word(off + i))
			return -EILSEQ;
	}
	return 0;
}

int hp_uring_make_file(const char *dir, uint64_t size, char *path, size_t pathlen,
		char *why, size_t len)
{
	if (!dir || !path || !pathlen)
		return say(why, len, -EINVAL, "no directory or path buffer given");
	if (!size)
		size = HP_URING_FILE_SIZE;
	size = (size + 4095) & ~(uint64_t)4095;
	struct statfs sf;
	if (statfs(dir, &sf))
		return say(why, len, -errno, "%s: %s", dir, strerror(errno));
	if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)
		return say(why, len, -EINVAL,
			"%s: filesystem does not support O_DIRECT (%s); pick a directory on a disk",
			dir, sf.f_type == TMPFS_MAGIC ? "tmpfs" : "ramfs");
	if ((size_t)snprintf(path, pathlen, "%s/hotpath-nvme-XXXXXX", dir) >= pathlen)
		return say(why, len, -ENAMETOOLONG, "%s: path too long", dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return say(why, len, -e, "cannot create a file in %s: %s", dir, strerror(e));
	}
	enum { CHUNK = 1 << 20 };
	uint64_t *b = malloc(CHUNK);
	int r = 0;
	if (!b) {
		r = say(why, len, -ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		for (size_t i = 0; i < n / 8; i++)
			b[i] = hp_uring_pattern_word(off + 8 * i);
		for (size_t done = 0; done < n; ) {
			ssize_t w = pwrite(fd, (char *)b + done, n - done, (off_t)(off + done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				int e = w < 0 ? errno : ENOSPC;
				r = say(why, len, -e, "writing %s: %s", path, strerror(e));
				goto out;
			}
			done += (size_t)w;
		}
	}
	/* on the device before anyone reads it O_DIRECT; out of the page cache
	 * so a buffered reader (none here) would not see it hot either */
	if (fsync(fd)) {
		r = say(why, len, -errno, "fsync %s: %s", path, strerror(errno));
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
out:
	free(b);
	close(fd);
	if (r)
		unlink(path);
	return r;
}

/* ------------------------------------------------------------------ */
/* The ring and the loop                                               */
/* ------------------------------------------------------------------ */

struct hp_uring {
	struct io_uring ring;
	int fd;
	int mode;
	void *buf;              /* read_size bytes, aligned for O_DIRECT */
	hp_uring_info_t info;
	hp_uring_stats_t st;
};

static int ring_error(int err, int mode, char *why, size_t len)
{
	struct utsname u;
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	if (err == -ENOSYS)
		return say(why, len, err, "kernel %s without io_uring (CONFIG_IO_URING=n)", u.release);
	if (err == -EPERM) {
		int dis = -1;
		read_int("/proc/sys/kernel/io_uring_disabled", &dis);
		return say(why, len, err, "io_uring disabled (kernel.io_uring_disabled=%d)", dis);
	}
	if (err == -EINVAL && mode == HP_URING_HYBRID)
		return say(why, len, err, "kernel %s lacks IORING_SETUP_HYBRID_IOPOLL (6.13+)", u.release);
	if (err == -ENOMEM)
		return say(why, len, err, "io_uring setup: out of locked memory (RLIMIT_MEMLOCK)");
	return say(why, len, err, "io_uring setup (%s): %s", hp_uring_mode_name(mode), strerror(-err));
}

hp_uring_t *hp_uring_open(const char *path, int mode, char *err, size_t errlen)
{
	int r;
	if (mode < 0 || mode >= HP_URING_NMODES) {
		r = say(err, errlen, -EINVAL, "unknown mode %d (valid: irq, poll, hybrid)", mode);
		errno = -r;
		return NULL;
	}
	hp_uring_t *h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		say(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	h->mode = mode;
	r = probe_fd(path, &h->info, &h->fd, err, errlen);
	if (r)
		goto fail;
	size_t align = h->info.read_size;
	if (align < h->info.mem_align)
		align = h->info.mem_align;
	if (posix_memalign(&h->buf, align, h->info.read_size)) {
		h->buf = NULL;
		r = say(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	if (mode != HP_URING_IRQ)
		p.flags |= IORING_SETUP_IOPOLL;
	if (mode == HP_URING_HYBRID)
		p.flags |= IORING_SETUP_HYBRID_IOPOLL;
	r = io_uring_queue_init_params(2, &h->ring, &p);
	if (r) {
		ring_error(r, mode, err, errlen);
		goto fail;
	}
	return h;
fail:
	if (h->fd >= 0)
		close(h->fd);
	free(h->buf);
	free(h);
	errno = -r;
	return NULL;
}

const hp_uring_info_t *hp_uring_info(const hp_uring_t *h)
{
	return h ? &h->info : NULL;
}

int hp_uring_run_check(hp_uring_t *h, uint64_t n, uint64_t seed,
		hp_uring_check_fn check, void *arg)
{
	if (!h)
		return -EINVAL;
	const unsigned rs = h->info.read_size;
	const uint64_t nb = h->info.nblocks;
	uint64_t s = seed;
	for (uint64_t i = 0; i < n; i++) {
		/* multiply-shift: uniform over the blocks without a division */
		uint64_t off = (uint64_t)(((unsigned __int128)hp_splitmix64(&s) * nb) >> 64) * rs;
		int res;
		for (;;) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&h->ring);
			if (!sqe)
				return -EBUSY;  /* cannot happen at QD1 */
			io_uring_prep_read(sqe, h->fd, h->buf, rs, off);
			sqe->user_data = i;
			int r = io_uring_submit_and_wait(&h->ring, 1);
			if (r < 0 && r != -EINTR)
				return r;
			struct io_uring_cqe *cqe;
			do
				r = io_uring_wait_cqe(&h->ring, &cqe);
			while (r == -EINTR);
			if (r)
				return r;
			res = cqe->res;
			io_uring_cqe_seen(&h->ring, cqe);
			if (res != -EAGAIN)
				break;
			/* no request or tag free (polled queues run out under
			 * REQ_NOWAIT): the read was not done, issue it again */
			h->st.eagain++;
		}
		if (res < 0)
			return res;
		if ((unsigned)res != rs) {
			h->st.short_reads++;
			return -EIO;
		}
		h->st.reads++;
		h->st.bytes += (unsigned)res;
		if (check) {
			int c = check(arg, i, off, h->buf, rs);
			if (c)
				return c;
		}
	}
	return 0;
}

int hp_uring_run(hp_uring_t *h, uint64_t n, uint64_t seed)
{
	return hp_uring_run_check(h, n, seed, NULL, NULL);
}

hp_uring_stats_t hp_uring_stats(const hp_uring_t *h)
{
	hp_uring_stats_t z = {0, 0, 0, 0};
	return h ? h->st : z;
}

void hp_uring_stats_reset(hp_uring_t *h)
{
	if (h)
		memset(&h->st, 0, sizeof(h->st));
}

void hp_uring_close(hp_uring_t *h)
{
	if (!h)
		return;
	io_uring_queue_exit(&h->ring);
	close(h->fd);
	free(h->buf);
	free(h);
}

/* ------------------------------------------------------------------ */
/* Availability: one real read                                         */
/* ------------------------------------------------------------------ */

int hp_uring_available(const char *path, int mode, char *why, size_t len)
{
	hp_uring_t *h = hp_uring_open(path, mode, why, len);
	if (!h)
		return -errno;
	int r = hp_uring_run(h, 1, 0);
	const hp_uring_info_t *in = &h->info;
	char dev[80];
	if (in->disk[0])
		snprintf(dev, sizeof(dev), "/dev/%s", in->disk);
	else
		snprintf(dev, sizeof(dev), "%s", path);
	if (r == -EOPNOTSUPP && mode != HP_URING_IRQ) {
		if (in->io_poll == 0)
			say(why, len, r, "%s: no poll queues (io_poll=0); on NVMe load nvme with poll_queues=N", dev);
		else if (in->io_poll < 0)
			say(why, len, r, "%s: polled read not supported (io_poll unknown: no block device "
				"queue found for this target)", dev);
		else
			say(why, len, r, "%s: polled read not supported (io_poll=%d): %s", dev,
				in->io_poll, strerror(-r));
	} else if (r == -EIO && hp_uring_stats(h).short_reads) {
		say(why, len, r, "%s: short read (target shrank?)", path);
	} else if (r) {
		say(why, len, r, "%s: %s read failed: %s", path, hp_uring_mode_name(mode), strerror(-r));
	}
	hp_uring_close(h);
	return r;
}

/* The variant tables (uring.h): the library's own loop in each mode, and
 * fio's io_uring engine (no hybrid: fio has no option for it). */
const hp_uring_ops_t hp_uring_ops_irq = { .name = "irq", .mode = HP_URING_IRQ, .via_fio = 0 };
const hp_uring_ops_t hp_uring_ops_poll = { .name = "poll", .mode = HP_URING_POLL, .via_fio = 0 };
const hp_uring_ops_t hp_uring_ops_hybrid = { .name = "hybrid", .mode = HP_URING_HYBRID, .via_fio = 0 };
const hp_uring_ops_t hp_uring_ops_fio_irq = { .name = "fio-irq", .mode = HP_URING_IRQ, .via_fio = 1 };
const hp_uring_ops_t hp_uring_ops_fio_poll = { .name = "fio-poll", .mode = HP_URING_POLL, .via_fio = 1 };
