/* t_uring.h — shared by the nvme io_uring tests (baselines/nvme): a pattern file on a disk-backed directory. */
#ifndef HP_T_URING_H
#define HP_T_URING_H

#include "t_util.h"
#include "uring.h"

/* $HP_URING_DIR, else /var/tmp (on disk where /tmp may be tmpfs). */
static inline const char *t_nvme_dir(void)
{
	const char *d = getenv("HP_URING_DIR");
	return d && *d ? d : "/var/tmp";
}

/* Makes a pattern file of `size` bytes into path; skips the test when the
 * directory cannot hold one (tmpfs, read-only). */
static inline void t_nvme_file(uint64_t size, char *path, size_t len)
{
	char why[512];
	int r = hp_uring_make_file(t_nvme_dir(), size, path, len, why, sizeof(why));
	if (r) {
		char msg[600];
		snprintf(msg, sizeof(msg), "no pattern file (set HP_URING_DIR to a disk-backed dir): %s", why);
		t_skip(msg);
	}
}

#endif
