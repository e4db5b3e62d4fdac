/* test_nvme_uring.c — irq-mode QD1 reads of a pattern file: data, offsets, counters, short reads. */
#include "t_uring.h"
#include "hp_time.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE (8u << 20)

typedef struct rec {
	uint64_t n, bad_data, bad_index, bad_off;
	uint64_t offs[1000];
	uint64_t nblocks, rs;
	uint64_t stop_at;       /* return 1234 from this read on (0: never) */
} rec_t;

static int check(void *arg, uint64_t i, uint64_t off, const void *buf, size_t len)
{
	rec_t *r = arg;
	if (i != r->n)
		r->bad_index++;
	if (off % r->rs || off + len > r->nblocks * r->rs || len != r->rs)
		r->bad_off++;
	if (hp_uring_pattern_check(buf, off, len))
		r->bad_data++;
	if (r->n < sizeof(r->offs) / sizeof(r->offs[0]))
		r->offs[r->n] = off;
	r->n++;
	if (r->stop_at && r->n >= r->stop_at)
		return 1234;
	return 0;
}

int main(void)
{
	char path[4096], why[512];
	t_nvme_file(FILE_SIZE, path, sizeof(path));

	/* the file holds the pattern, read back O_DIRECT outside the library */
	int fd = open(path, O_RDONLY | O_DIRECT);
	T_CHECK(fd >= 0);
	void *blk = NULL;
	T_CHECK(posix_memalign(&blk, 4096, 4096) == 0);
	T_CHECK(pread(fd, blk, 4096, 4096 * 7) == 4096);
	T_CHECK(hp_uring_pattern_check(blk, 4096 * 7, 4096) == 0);
	T_CHECK(hp_uring_pattern_check(blk, 4096 * 8, 4096) == -EILSEQ);   /* offsets differ */
	close(fd);

	hp_uring_info_t in;
	T_CHECK_MSG(hp_uring_probe(path, &in, why, sizeof(why)) == 0, "%s", why);
	T_CHECK(!in.is_blockdev);
	T_CHECK(in.size == FILE_SIZE);
	T_CHECK(in.read_size == 4096 && in.read_size % in.lbs == 0);
	T_CHECK(in.nblocks == FILE_SIZE / 4096);
	printf("target %s: lbs %u mem_align %u dev %s disk %s driver %s model '%s' io_poll %d "
		"io_poll_delay %d nr_requests %d\n", path, in.lbs, in.mem_align, in.dev, in.disk,
		in.driver, in.model, in.io_poll, in.io_poll_delay, in.nr_requests);

	hp_uring_t *h = hp_uring_open(path, HP_URING_IRQ, why, sizeof(why));
	T_CHECK_MSG(h != NULL, "%s", why);
	if (!h)
		return t_done("nvme_uring");
	T_CHECK(hp_uring_info(h)->nblocks == in.nblocks);

	/* every read returns the pattern of its own offset; counters exact */
	static rec_t a, b;
	a.nblocks = b.nblocks = in.nblocks;
	a.rs = b.rs = in.read_size;
	T_CHECK(hp_uring_run_check(h, 1000, 42, check, &a) == 0);
	hp_uring_stats_t s = hp_uring_stats(h);
	T_CHECK(a.n == 1000 && !a.bad_data && !a.bad_index && !a.bad_off);
	T_CHECK(s.reads == 1000 && s.bytes == 1000ull * 4096 && s.short_reads == 0 && s.eagain == 0);

	/* uniform over the file: many distinct blocks, both halves hit */
	uint64_t distinct = 0, low = 0;
	for (int i = 0; i < 1000; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = a.offs[j] == a.offs[i];
		distinct += !seen;
		low += a.offs[i] < FILE_SIZE / 2;
	}
	T_CHECK_MSG(distinct > 700 && low > 300 && low < 700, "distinct %" PRIu64 " low %" PRIu64,
		distinct, low);

	/* same seed, same offsets; another seed, others */
	hp_uring_stats_reset(h);
	T_CHECK(hp_uring_stats(h).reads == 0);
	T_CHECK(hp_uring_run_check(h, 1000, 42, check, &b) == 0);
	T_CHECK(!memcmp(a.offs, b.offs, sizeof(a.offs)));
	memset(&b, 0, sizeof(b));
	b.nblocks = in.nblocks;
	b.rs = in.read_size;
	T_CHECK(hp_uring_run_check(h, 1000, 43, check, &b) == 0);
	T_CHECK(memcmp(a.offs, b.offs, sizeof(a.offs)) != 0);
	T_CHECK(!b.bad_data);
	T_CHECK(hp_uring_stats(h).reads == 2000);

	/* a check that fails ends the run with its value */
	memset(&b, 0, sizeof(b));
	b.nblocks = in.nblocks;
	b.rs = in.read_size;
	b.stop_at = 5;
	hp_uring_stats_reset(h);
	T_CHECK(hp_uring_run_check(h, 100, 1, check, &b) == 1234);
	T_CHECK(b.n == 5 && hp_uring_stats(h).reads == 5);

	/* the timed loop itself (no check): counters only; print a scale */
	hp_uring_stats_reset(h);
	T_CHECK(hp_uring_run(h, 100, 9) == 0);     /* warm-up */
	uint64_t t0 = hp_now_ns();
	T_CHECK(hp_uring_run(h, 2000, 7) == 0);
	uint64_t t1 = hp_now_ns();
	s = hp_uring_stats(h);
	T_CHECK(s.reads == 2100 && s.bytes == 2100ull * 4096 && !s.short_reads);
	printf("irq: %.1f us per 4 KiB QD1 read (2000 reads; a scale, not asserted)\n",
		(double)(t1 - t0) / 2000 / 1000);
	T_CHECK(hp_uring_run(h, 0, 7) == 0);
	T_CHECK(hp_uring_stats(h).reads == 2100);

	/* the file shrinks under the handle: reads past the new end come back
	 * short and end the run with -EIO, counted */
	T_CHECK(truncate(path, 6144) == 0);
	hp_uring_stats_reset(h);
	int r = hp_uring_run(h, 1000, 5);
	s = hp_uring_stats(h);
	T_CHECK_MSG(r == -EIO, "run on a shrunk file: %d", r);
	T_CHECK(s.short_reads == 1 && s.reads < 1000);
	hp_uring_close(h);
	hp_uring_close(NULL);
	unlink(path);
	free(blk);
	return t_done("nvme_uring");
}
