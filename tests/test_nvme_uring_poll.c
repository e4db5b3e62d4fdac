/* test_nvme_uring_poll.c — poll or hybrid (argv[1]) mode: real reads where the device has poll queues, else the exact reason and exit 77. */
#include "t_uring.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/utsname.h>
#include <unistd.h>

static int check(void *arg, uint64_t i, uint64_t off, const void *buf, size_t len)
{
	(void)i;
	*(uint64_t *)arg += hp_uring_pattern_check(buf, off, len) != 0;
	return 0;
}

/* kernel release >= maj.min */
static int kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;
	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 0;
	return a > maj || (a == maj && b >= min);
}

int main(int argc, char **argv)
{
	int mode = hp_uring_mode_parse(argc > 1 ? argv[1] : "poll");
	T_CHECK(mode == HP_URING_POLL || mode == HP_URING_HYBRID);
	if (mode < 0)
		return t_done("nvme_uring_poll");
	char path[4096], why[512];
	t_nvme_file(4u << 20, path, sizeof(path));
	hp_uring_info_t in;
	T_CHECK_MSG(hp_uring_probe(path, &in, why, sizeof(why)) == 0, "%s", why);

	int r = hp_uring_available(path, mode, why, sizeof(why));
	if (r == 0) {
		/* a device with poll queues: the same checks as irq mode */
		hp_uring_t *h = hp_uring_open(path, mode, why, sizeof(why));
		T_CHECK_MSG(h != NULL, "%s", why);
		uint64_t bad = 0;
		T_CHECK(hp_uring_run_check(h, 500, 3, check, &bad) == 0);
		hp_uring_stats_t s = hp_uring_stats(h);
		T_CHECK(bad == 0 && s.reads == 500 && s.bytes == 500ull * 4096 && !s.short_reads);
		printf("%s: 500 reads, %" PRIu64 " EAGAIN retries\n", argv[1], s.eagain);
		hp_uring_close(h);
		unlink(path);
		return t_done("nvme_uring_poll");
	}
	printf("%s unavailable: %s\n", hp_uring_mode_name(mode), why);
	char reason[512];
	snprintf(reason, sizeof(reason), "%s", why);
	if (mode == HP_URING_HYBRID && !kernel_at_least(6, 13)) {
		T_CHECK(r == -EINVAL && strstr(why, "lacks IORING_SETUP_HYBRID_IOPOLL"));
	} else if (in.io_poll == 0) {
		T_CHECK(r == -EOPNOTSUPP);
		T_CHECK(strstr(why, "no poll queues (io_poll=0)") != NULL);
		T_CHECK(strstr(why, "poll_queues=N") != NULL);
		char dev[80];
		snprintf(dev, sizeof(dev), "/dev/%s:", in.disk);
		T_CHECK_MSG(strstr(why, dev) == why, "reason does not name %s", dev);
		/* the ring sets up; the first polled read fails at the block
		 * layer and nothing is counted as read */
		hp_uring_t *h = hp_uring_open(path, mode, why, sizeof(why));
		T_CHECK_MSG(h != NULL, "%s", why);
		T_CHECK(hp_uring_run(h, 10, 1) == -EOPNOTSUPP);
		T_CHECK(hp_uring_stats(h).reads == 0 && hp_uring_stats(h).bytes == 0);
		hp_uring_close(h);
	} else {
		T_CHECK_MSG(r < 0 && why[0], "io_poll=%d but unavailable: %d", in.io_poll, r);
	}
	unlink(path);
	if (t_failures)
		return t_done("nvme_uring_poll");
	t_skip(reason);
}
