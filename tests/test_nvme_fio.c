/* test_nvme_fio.c — the fio runner: irq numbers parsed, poll gives fio's reason, missing fio and timeouts handled, no process left. */
#include "t_uring.h"

#include <dirent.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

/* children of this process still alive (or zombies) */
static int children(void)
{
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char p[300], b[512];
		snprintf(p, sizeof(p), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		if (fgets(b, sizeof(b), f)) {
			char *c = strrchr(b, ')');
			int ppid = 0;
			if (c && sscanf(c + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
				n++;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	char path[4096], why[512];
	hp_uring_fio_result_t r;
	t_nvme_file(16u << 20, path, sizeof(path));
	hp_uring_fio_opts_t o = {.path = path, .mode = HP_URING_IRQ, .cpu = 0, .ios = 1000,
		.seed = 7, .timeout_s = 30};

	/* fio missing: from PATH, or a named binary that is not there */
	char *saved = strdup(getenv("PATH") ? getenv("PATH") : "");
	setenv("PATH", "/nonexistent", 1);
	int ret = hp_uring_fio_run(&o, &r, why, sizeof(why));
	T_CHECK_MSG(ret == -ENOENT && !strcmp(why, "fio not installed (apt-get install fio)"), "%d '%s'", ret, why);
	setenv("PATH", saved, 1);
	free(saved);
	o.fio = "/nonexistent/fio";
	T_CHECK(hp_uring_fio_run(&o, &r, why, sizeof(why)) == -ENOENT);
	o.fio = NULL;

	/* bad options */
	T_CHECK(hp_uring_fio_run(NULL, &r, why, sizeof(why)) == -EINVAL);
	o.mode = 7;
	T_CHECK(hp_uring_fio_run(&o, &r, why, sizeof(why)) == -EINVAL);
	o.mode = HP_URING_HYBRID;
	T_CHECK(hp_uring_fio_run(&o, &r, why, sizeof(why)) == -EOPNOTSUPP && strstr(why, "hybrid"));
	o.mode = HP_URING_IRQ;
	o.ios = 0;
	T_CHECK(hp_uring_fio_run(&o, &r, why, sizeof(why)) == -EINVAL);
	o.ios = 1000;

	if (system("command -v fio >/dev/null 2>&1") != 0) {
		unlink(path);
		if (t_failures)
			return t_done("nvme_fio");
		t_skip("fio not installed (apt-get install fio)");
	}

	/* the target is checked before fio runs */
	hp_uring_fio_opts_t bad = o;
	bad.path = "/nonexistent/x";
	T_CHECK(hp_uring_fio_run(&bad, &r, why, sizeof(why)) == -ENOENT && strstr(why, "no such file"));

	/* irq: a number of reads, parsed */
	ret = hp_uring_fio_run(&o, &r, why, sizeof(why));
	T_CHECK_MSG(ret == 0, "fio irq: %d %s", ret, why);
	T_CHECK(!strncmp(r.version, "fio-", 4) && r.error == 0);
	T_CHECK_MSG(r.ios == 1000 && r.bytes == 1000ull * 4096, "ios %llu bytes %llu",
		(unsigned long long)r.ios, (unsigned long long)r.bytes);
	T_CHECK(r.iops > 0 && r.clat_mean_ns > 0 && r.lat_mean_ns >= r.clat_mean_ns);
	T_CHECK(r.clat_min_ns > 0 && r.clat_min_ns <= r.clat_mean_ns && r.clat_mean_ns <= r.clat_max_ns);
	T_CHECK(r.clat_p50_ns > 0 && r.clat_p50_ns <= r.clat_p99_ns && r.clat_p99_ns <= r.clat_p999_ns);
	printf("fio %s irq: %.0f IOPS, clat mean %.1f us p50 %.1f p99 %.1f us\n", r.version,
		r.iops, r.clat_mean_ns / 1e3, r.clat_p50_ns / 1e3, r.clat_p99_ns / 1e3);

	/* irq for a runtime */
	o.ios = 0;
	o.runtime_s = 0.3;
	ret = hp_uring_fio_run(&o, &r, why, sizeof(why));
	T_CHECK_MSG(ret == 0 && r.ios > 0 && r.iops > 0, "fio runtime: %d %s", ret, why);

	/* poll: fio's own error where the device has no poll queues */
	hp_uring_info_t in;
	T_CHECK(hp_uring_probe(path, &in, why, sizeof(why)) == 0);
	o.mode = HP_URING_POLL;
	o.ios = 200;
	ret = hp_uring_fio_run(&o, &r, why, sizeof(why));
	printf("fio poll: %d %s\n", ret, ret ? why : "ok");
	if (in.io_poll == 0) {
		T_CHECK_MSG(ret == -EOPNOTSUPP && r.error == EOPNOTSUPP, "%d %d", ret, r.error);
		T_CHECK_MSG(strstr(why, "fio:") == why && strstr(why, "Operation not supported"), "'%s'", why);
	} else {
		T_CHECK(ret == 0 && r.ios == 200);
	}

	/* a timeout kills fio */
	o.mode = HP_URING_IRQ;
	o.ios = 0;
	o.runtime_s = 30;
	o.timeout_s = 1;
	time_t t0 = time(NULL);
	ret = hp_uring_fio_run(&o, &r, why, sizeof(why));
	/* killed at the 1 s timeout, not waited for until its 30 s end (the
	 * bound is loose on purpose: it tests the kill, not speed) */
	T_CHECK_MSG(time(NULL) - t0 < 15, "returned after %ld s", (long)(time(NULL) - t0));
	T_CHECK_MSG(ret == -ETIMEDOUT && strstr(why, "timed out"), "%d '%s'", ret, why);
	T_CHECK_MSG(children() == 0, "%d child processes left", children());
	unlink(path);
	return t_done("nvme_fio");
}
