/* test_nvme_uring_dev.c — irq-mode reads of a block device (root only): a self-detaching loop device over a pattern file, and the raw disk when it may be opened. */
#include "t_uring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int check(void *arg, uint64_t i, uint64_t off, const void *buf, size_t len)
{
	(void)i;
	*(uint64_t *)arg += hp_uring_pattern_check(buf, off, len) != 0;
	return 0;
}

/* Binds a free loop device to path (read-only, direct I/O, 4 KiB logical
 * blocks, detached by the kernel on the last close); returns its fd, which
 * the caller keeps open while the device is used, and its name in dev. */
static int loop_attach(const char *path, char *dev, size_t len)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	int bfd = open(path, O_RDONLY | O_CLOEXEC);
	int r = -EBUSY;
	for (int tries = 0; bfd >= 0 && tries < 5 && r == -EBUSY; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			r = -errno;
			break;
		}
		snprintf(dev, len, "/dev/loop%d", n);
		int lfd = open(dev, O_RDONLY | O_CLOEXEC);
		if (lfd < 0) {
			r = -errno;
			break;
		}
		struct loop_config c;
		memset(&c, 0, sizeof(c));
		c.fd = (unsigned)bfd;
		c.block_size = 4096;
		c.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
		if (ioctl(lfd, LOOP_CONFIGURE, &c) == 0) {
			r = lfd;
			break;
		}
		r = -errno;
		close(lfd);
	}
	if (bfd >= 0)
		close(bfd);
	close(ctl);
	return r;
}

int main(void)
{
	char path[4096], why[512], dev[128];
	t_nvme_file(4u << 20, path, sizeof(path));
	int lfd = geteuid() == 0 ? loop_attach(path, dev, sizeof(dev)) : -EPERM;
	if (lfd < 0) {
		unlink(path);
		char m[200];
		snprintf(m, sizeof(m), "no loop device to read (needs root): %s", strerror(-lfd));
		t_skip(m);
	}
	hp_uring_info_t in;
	int r = hp_uring_probe(dev, &in, why, sizeof(why));
	T_CHECK_MSG(r == 0, "%s", why);
	T_CHECK(in.is_blockdev);
	T_CHECK_MSG(in.lbs == 4096, "BLKSSZGET %u", in.lbs);
	T_CHECK(in.read_size == 4096 && in.size == (4u << 20) && in.nblocks == 1024);
	T_CHECK_STR(in.dev, dev + 5);
	T_CHECK_STR(in.disk, dev + 5);
	T_CHECK(in.sysfs && in.io_poll == 0 && in.nr_requests > 0);
	printf("%s: lbs %u size %llu disk %s driver '%s' io_poll %d nr_requests %d\n", dev,
		in.lbs, (unsigned long long)in.size, in.disk, in.driver, in.io_poll, in.nr_requests);

	/* through the block device the file's pattern comes back at each offset */
	hp_uring_t *h = hp_uring_open(dev, HP_URING_IRQ, why, sizeof(why));
	T_CHECK_MSG(h != NULL, "%s", why);
	uint64_t bad = 0;
	T_CHECK(hp_uring_run_check(h, 300, 11, check, &bad) == 0);
	hp_uring_stats_t s = hp_uring_stats(h);
	T_CHECK(bad == 0 && s.reads == 300 && s.bytes == 300ull * 4096 && !s.short_reads);
	hp_uring_close(h);

	/* no poll queues on loop: the reason names the device */
	for (int m = HP_URING_POLL; m <= HP_URING_HYBRID; m++) {
		r = hp_uring_available(dev, m, why, sizeof(why));
		printf("%s %s: %s\n", dev, hp_uring_mode_name(m), r ? why : "available");
		T_CHECK((r == -EOPNOTSUPP && strstr(why, "no poll queues") && strstr(why, dev) == why) ||
			(m == HP_URING_HYBRID && r == -EINVAL && strstr(why, "lacks")));
	}
	close(lfd);     /* last close: the kernel detaches the loop device */
	unlink(path);

	/* the raw disk under the file, when this machine lets root open it */
	hp_uring_info_t fin;
	t_nvme_file(64 << 10, path, sizeof(path));
	T_CHECK(hp_uring_probe(path, &fin, why, sizeof(why)) == 0);
	unlink(path);
	if (fin.dev[0]) {
		snprintf(dev, sizeof(dev), "/dev/%s", fin.dev);
		r = hp_uring_available(dev, HP_URING_IRQ, why, sizeof(why));
		printf("%s irq: %s\n", dev, r ? why : "available");
		T_CHECK(r == 0 || r == -EPERM || r == -EACCES || r == -ENOENT);
	}
	return t_done("nvme_uring_dev");
}
