/* test_buddy_wmark.c — watermarks: the kernel's min/low/high from min_free_kbytes, and allocations failing cleanly below them by reserve rights. */
#include "t_util.h"
#include "buddy.h"

static void check(hp_buddy_zone_t *z)
{
	char err[512];
	T_CHECK_MSG(hp_buddy_check(z, err, sizeof err) == 0, "%s", err);
}

static void values(void)
{
	/* 1 GiB: min_free_kbytes = int_sqrt(1048576 * 16) = 4096 KiB = 1024
	 * pages; gap = max(1024 / 4, 262144 * 10 / 10000 = 262) */
	hp_buddy_config_t cfg = { .ncpus = 1 };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	T_CHECK(z != NULL);
	if (!z)
		return;
	hp_buddy_wmarks_t w;
	hp_buddy_get_wmarks(z, &w);
	T_CHECK_MSG(w.min == 1024 && w.low == 1286 && w.high == 1548, "%lu %lu %lu", w.min, w.low, w.high);
	/* min_free_kbytes = 65536: 16384 pages, gap 4096 */
	T_CHECK(hp_buddy_set_min_free_kbytes(z, 65536) == 0);
	hp_buddy_get_wmarks(z, &w);
	T_CHECK_MSG(w.min == 16384 && w.low == 20480 && w.high == 24576, "%lu %lu %lu", w.min, w.low, w.high);
	T_CHECK(hp_buddy_set_min_free_kbytes(z, -5) == -1);
	hp_buddy_destroy(z);

	/* 4 MiB: int_sqrt(4096 * 16) = 256 KiB = 64 pages, gap max(16, 1) */
	cfg = (hp_buddy_config_t){ .arena_bytes = 4u << 20, .ncpus = 1 };
	z = hp_buddy_create(&cfg, NULL, 0);
	hp_buddy_get_wmarks(z, &w);
	T_CHECK_MSG(w.min == 64 && w.low == 80 && w.high == 96, "%lu %lu %lu", w.min, w.low, w.high);
	hp_buddy_destroy(z);

	/* tiny: the 128 KiB floor = 32 pages */
	cfg = (hp_buddy_config_t){ .arena_bytes = 256u << 10, .ncpus = 1 };
	z = hp_buddy_create(&cfg, NULL, 0);
	hp_buddy_get_wmarks(z, &w);
	T_CHECK_MSG(w.min == 32 && w.low == 40 && w.high == 48, "%lu %lu %lu", w.min, w.low, w.high);
	hp_buddy_destroy(z);
}

static int drain_until_null(hp_buddy_zone_t *z, unsigned gfp, unsigned order, hp_page_t **keep, int *nk)
{
	int n = 0;
	hp_page_t *p;
	while ((p = hp_buddy_alloc_pages_cpu(z, 0, gfp, order)) != NULL) {
		keep[(*nk)++] = p;
		n++;
	}
	return n;
}

/* 4 MiB zone, pcp off so every allocation moves NR_FREE_PAGES by one */
static void failing(void)
{
	hp_buddy_config_t cfg = { .arena_bytes = 4u << 20, .ncpus = 1, .pcp_mode = HP_BUDDY_PCP_OFF };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	if (!z)
		return;
	static hp_page_t *keep[1024];
	int nk = 0;
	hp_buddy_stats_t s;

	/* plain requests: low first, then min: they stop with min (64) free */
	int n = drain_until_null(z, HP_GFP_KERNEL, 0, keep, &nk);
	T_CHECK_MSG(n == 1024 - 64, "got %d", n);
	T_CHECK(hp_buddy_free_pages_count(z) == 64);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.fail_wmark == 1 && s.fail_nomem == 0);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0) == NULL);
	check(z);
	/* __GFP_HIGH: down to min - min/2 = 32 */
	n = drain_until_null(z, HP_GFP_HIGH, 0, keep, &nk);
	T_CHECK_MSG(n == 32, "got %d", n);
	/* GFP_ATOMIC: 32 - 32/4 = 24 */
	n = drain_until_null(z, HP_GFP_ATOMIC, 0, keep, &nk);
	T_CHECK_MSG(n == 8, "got %d", n);
	/* __GFP_MEMALLOC: no watermark, all of it, then out of memory */
	n = drain_until_null(z, HP_GFP_MEMALLOC, 0, keep, &nk);
	T_CHECK_MSG(n == 24, "got %d", n);
	hp_buddy_get_stats(z, &s);
	T_CHECK_MSG(s.fail_wmark == 4 && s.fail_nomem == 1, "fail_wmark %llu fail_nomem %llu",
		    (unsigned long long)s.fail_wmark, (unsigned long long)s.fail_nomem);
	T_CHECK(hp_buddy_free_pages_count(z) == 0);
	check(z);
	for (int i = 0; i < nk; i++)
		hp_buddy_free_pages_cpu(z, 0, keep[i], 0);
	nk = 0;
	T_CHECK(hp_buddy_free_pages_count(z) == 1024);

	/* high order: free - (2^order - 1) must stay above the mark */
	hp_buddy_wmarks_t w;
	hp_buddy_get_wmarks(z, &w);
	T_CHECK(hp_buddy_watermark_ok(z, 3, 1024 - 8, 0) == 1);   /* 1024 - 7 > 1016 */
	T_CHECK(hp_buddy_watermark_ok(z, 3, 1024 - 7, 0) == 0);
	T_CHECK(hp_buddy_watermark_ok(z, 3, 1024 - 7, HP_GFP_HIGH) == 1);
	T_CHECK(hp_buddy_watermark_ok(z, 11, 0, 0) == 0);
	n = drain_until_null(z, HP_GFP_KERNEL, 3, keep, &nk);
	/* each success needs free - 7 > min (64), so they run while free >= 72:
	 * 1024, 1016, ... 72 is 120 blocks, leaving 64 */
	T_CHECK_MSG(n == 120, "got %d order-3 blocks", n);
	T_CHECK(hp_buddy_free_pages_count(z) == 64);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0) == NULL);
	for (int i = 0; i < nk; i++)
		hp_buddy_free_pages_cpu(z, 0, keep[i], 3);
	nk = 0;
	check(z);
	hp_buddy_destroy(z);
}

/* pages on pcp lists are not free to the watermark check, as in the kernel */
static void pcp_pages_not_free(void)
{
	hp_buddy_config_t cfg = { .arena_bytes = 4u << 20, .ncpus = 1, .pcp_mode = HP_BUDDY_PCP_CUSTOM,
				  .pcp_high = 512, .pcp_batch = 100 };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	if (!z)
		return;
	hp_page_t *p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	T_CHECK(hp_buddy_free_pages_count(z) == 1024 - 100 && hp_buddy_pcp_count(z, 0) == 99);
	hp_buddy_free_pages_cpu(z, 0, p, 0);
	check(z);
	hp_buddy_destroy(z);
}

int main(void)
{
	values();
	failing();
	pcp_pages_not_free();
	return t_done("test_buddy_wmark");
}
