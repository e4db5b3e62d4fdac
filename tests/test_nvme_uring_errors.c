/* test_nvme_uring_errors.c — bad targets and arguments get a defined -errno and a reason that says what to do. */
#include "t_uring.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <unistd.h>

static char why[512];

/* probe, open (irq) and available all refuse path with err and a reason
 * containing `needle` */
static void refuse(const char *path, int err, const char *needle)
{
	hp_uring_info_t in;
	why[0] = 0;
	int r = hp_uring_probe(path, &in, why, sizeof(why));
	T_CHECK_MSG(r == err && strstr(why, needle), "probe %s: %d '%s'", path, r, why);
	why[0] = 0;
	errno = 0;
	hp_uring_t *h = hp_uring_open(path, HP_URING_IRQ, why, sizeof(why));
	T_CHECK_MSG(!h && errno == -err && strstr(why, needle), "open %s: errno %d '%s'", path, errno, why);
	hp_uring_close(h);
	why[0] = 0;
	r = hp_uring_available(path, HP_URING_IRQ, why, sizeof(why));
	T_CHECK_MSG(r == err && strstr(why, needle), "available %s: %d '%s'", path, r, why);
	printf("%-28s -> %s\n", path, why);
}

int main(void)
{
	char path[4096];
	t_nvme_file(64 << 10, path, sizeof(path));

	refuse("/nonexistent/hotpath-nvme", -ENOENT, "no such file");
	refuse(t_nvme_dir(), -EISDIR, "is a directory");
	refuse("/dev/null", -EINVAL, "not a regular file or a block device");

	/* tmpfs: O_DIRECT opens succeed since 6.6 but read memory */
	struct statfs sf;
	if (statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC) {
		char shm[] = "/dev/shm/hotpath-nvme-XXXXXX";
		int fd = mkstemp(shm);
		T_CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
		close(fd);
		refuse(shm, -EINVAL, "does not support O_DIRECT");
		unlink(shm);
		char p2[256];
		int r = hp_uring_make_file("/dev/shm", 1 << 20, p2, sizeof(p2), why, sizeof(why));
		T_CHECK_MSG(r == -EINVAL && strstr(why, "O_DIRECT"), "make_file on tmpfs: %d '%s'", r, why);
	} else {
		printf("/dev/shm is not tmpfs here: tmpfs case not run\n");
	}

	/* smaller than one read */
	char small[4096];
	snprintf(small, sizeof(small), "%s.small", path);
	int fd = open(small, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	T_CHECK(fd >= 0 && write(fd, "0123456789", 10) == 10);
	close(fd);
	refuse(small, -EINVAL, "smaller than one read");
	unlink(small);

	/* unreadable: as root, from a child that drops to nobody */
	T_CHECK(chmod(path, 0600) == 0);
	if (geteuid() == 0) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(3);
			int r = hp_uring_available(path, HP_URING_IRQ, why, sizeof(why));
			printf("as nobody: %s\n", why);
			fflush(stdout);
			_exit(r == -EACCES && strstr(why, "Permission denied") &&
				strstr(why, "run as root") ? 0 : 1);
		}
		int st = 0;
		T_CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
		T_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "permission case: status %#x", st);
	} else {
		T_CHECK(chmod(path, 0) == 0);
		int r = hp_uring_available(path, HP_URING_IRQ, why, sizeof(why));
		T_CHECK_MSG(r == -EACCES && strstr(why, "run as root"), "%d '%s'", r, why);
		T_CHECK(chmod(path, 0600) == 0);
	}

	/* bad modes and NULLs */
	for (int m = -1; m <= HP_URING_NMODES; m += HP_URING_NMODES + 1) {
		errno = 0;
		T_CHECK(hp_uring_open(path, m, why, sizeof(why)) == NULL && errno == EINVAL);
		T_CHECK(strstr(why, "unknown mode") != NULL);
		T_CHECK(hp_uring_available(path, m, why, sizeof(why)) == -EINVAL);
		T_CHECK_STR(hp_uring_mode_name(m), "?");
	}
	for (int m = 0; m < HP_URING_NMODES; m++)
		T_CHECK(hp_uring_mode_parse(hp_uring_mode_name(m)) == m);
	T_CHECK(hp_uring_mode_parse("polled") == -EINVAL && hp_uring_mode_parse(NULL) == -EINVAL);
	T_CHECK(hp_uring_probe(NULL, NULL, why, sizeof(why)) == -EINVAL);
	T_CHECK(hp_uring_open(NULL, HP_URING_IRQ, NULL, 0) == NULL && errno == EINVAL);
	T_CHECK(hp_uring_run(NULL, 1, 1) == -EINVAL);
	T_CHECK(hp_uring_stats(NULL).reads == 0 && hp_uring_info(NULL) == NULL);
	hp_uring_stats_reset(NULL);
	hp_uring_close(NULL);
	T_CHECK(hp_uring_pattern_check(NULL, 0, 8) == -EINVAL);
	T_CHECK(hp_uring_pattern_check(why, 4, 8) == -EINVAL);
	T_CHECK(hp_uring_make_file("/nonexistent/dir", 4096, small, sizeof(small), why, sizeof(why)) == -ENOENT);
	T_CHECK(hp_uring_make_file(NULL, 4096, small, sizeof(small), why, sizeof(why)) == -EINVAL);

	/* the good file still works after all that */
	T_CHECK_MSG(hp_uring_available(path, HP_URING_IRQ, why, sizeof(why)) == 0, "%s", why);
	unlink(path);
	return t_done("nvme_uring_errors");
}
