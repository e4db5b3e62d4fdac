/* test_buddy_pcp.c — per-CPU page lists: the kernel's batch/high sizing, batched refill and drain, free_factor, free_high, the boot pageset. */
#include "t_util.h"
#include "buddy.h"

static hp_buddy_zone_t *mk(size_t bytes, int ncpus, hp_buddy_pcp_mode_t mode, int high, int batch)
{
	hp_buddy_config_t cfg = {
		.arena_bytes = bytes, .ncpus = ncpus, .pcp_mode = mode,
		.pcp_high = high, .pcp_batch = batch, .min_free_kbytes = -1,
	};
	char err[256];
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, err, sizeof err);
	T_CHECK_MSG(z != NULL, "%s", err);
	return z;
}

static void check(hp_buddy_zone_t *z)
{
	char err[512];
	T_CHECK_MSG(hp_buddy_check(z, err, sizeof err) == 0, "%s", err);
}

/* zone_batchsize() / zone_highsize() of Linux 6.6 */
static void kernel_sizes(void)
{
	/* 1 GiB, 2 CPUs: batch = rounddown_pow_of_two(64 + 32) - 1 = 63;
	 * high = low watermark 1286 / 2 CPUs = 643 (>= 4 * 63) */
	hp_buddy_config_t cfg = { .ncpus = 2 };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	T_CHECK(z != NULL);
	if (z) {
		int high, batch;
		hp_buddy_get_pcp(z, &high, &batch);
		T_CHECK_MSG(batch == 63 && high == 643, "high %d batch %d", high, batch);
		hp_buddy_destroy(z);
	}
	/* 64 MiB, 4 CPUs: managed 16384 >> 10 = 16, /4 = 4, 2^n(6) - 1 = 3;
	 * min 1024 KiB = 256 pages, gap max(64, 16) = 64: low 320, /4 = 80 */
	cfg = (hp_buddy_config_t){ .arena_bytes = 64u << 20, .ncpus = 4 };
	z = hp_buddy_create(&cfg, NULL, 0);
	if (z) {
		int high, batch;
		hp_buddy_get_pcp(z, &high, &batch);
		T_CHECK_MSG(batch == 3 && high == 80, "high %d batch %d", high, batch);
		/* no watermarks: high falls back to 4 batches */
		hp_buddy_set_min_free_kbytes(z, 0);
		hp_buddy_get_pcp(z, &high, &batch);
		T_CHECK_MSG(batch == 3 && high == 12, "high %d batch %d", high, batch);
		hp_buddy_destroy(z);
	}
	/* a tiny zone still gets batch 1 (max(1, zone_batchsize())) */
	cfg = (hp_buddy_config_t){ .arena_bytes = 1u << 20, .ncpus = 1 };
	z = hp_buddy_create(&cfg, NULL, 0);
	if (z) {
		int batch;
		hp_buddy_get_pcp(z, NULL, &batch);
		T_CHECK(batch == 1);
		hp_buddy_destroy(z);
	}
}

/* refill in batches, drain in batches that double while only freeing */
static void batch_and_high(void)
{
	hp_buddy_zone_t *z = mk(16u << 20, 2, HP_BUDDY_PCP_CUSTOM, 32, 8);
	if (!z)
		return;
	const unsigned long total = 4096;
	hp_page_t *p[64];
	hp_buddy_stats_t s;

	p[0] = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0);
	T_CHECK(hp_buddy_pcp_count(z, 0) == 7);          /* refilled 8, took 1 */
	T_CHECK(hp_buddy_free_pages_count(z) == total - 8);
	for (int i = 1; i < 8; i++)
		p[i] = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.pcp_refills == 1 && s.pcp_hits == 8 && hp_buddy_pcp_count(z, 0) == 0);
	for (int i = 8; i < 40; i++)
		p[i] = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.pcp_refills == 5 && hp_buddy_pcp_count(z, 0) == 0);
	T_CHECK(hp_buddy_pcp_count(z, 1) == 0);          /* the other CPU's untouched */
	check(z);

	/* frees 1..32: the 32nd reaches high and frees a batch of 8 */
	for (int i = 0; i < 31; i++)
		hp_buddy_free_pages_cpu(z, 0, p[i], 0);
	T_CHECK(hp_buddy_pcp_count(z, 0) == 31);
	hp_buddy_free_pages_cpu(z, 0, p[31], 0);
	T_CHECK(hp_buddy_pcp_count(z, 0) == 24);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.pcp_drains == 1);
	/* frees 33..40: high again, now batch << free_factor = 16 */
	for (int i = 32; i < 40; i++)
		hp_buddy_free_pages_cpu(z, 0, p[i], 0);
	T_CHECK_MSG(hp_buddy_pcp_count(z, 0) == 16, "count %d", hp_buddy_pcp_count(z, 0));
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.pcp_drains == 2);
	T_CHECK(hp_buddy_free_pages_count(z) == total - 16);
	check(z);

	/* order 2 refills batch >> 2 = 2 blocks (8 pages) */
	hp_page_t *q = hp_buddy_alloc_pages_cpu(z, 1, HP_GFP_MOVABLE, 2);
	T_CHECK(q != NULL && hp_buddy_pcp_count(z, 1) == 4);
	/* free_high: a high-order free while free_factor is up (cpu 0 has
	 * been freeing without allocating) empties the whole pcp */
	hp_page_t *r = hp_buddy_alloc_pages_cpu(z, 1, HP_GFP_MOVABLE, 1);
	hp_buddy_free_pages_cpu(z, 0, r, 1);
	T_CHECK_MSG(hp_buddy_pcp_count(z, 0) == 0, "count %d", hp_buddy_pcp_count(z, 0));
	check(z);
	/* allocating halves free_factor again: now the same free stays */
	hp_page_t *t = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0);
	hp_page_t *u = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0);
	hp_page_t *v = hp_buddy_alloc_pages_cpu(z, 1, HP_GFP_MOVABLE, 1);
	hp_buddy_free_pages_cpu(z, 0, v, 1);
	T_CHECK(hp_buddy_pcp_count(z, 0) > 0);
	hp_buddy_free_pages_cpu(z, 0, t, 0);
	hp_buddy_free_pages_cpu(z, 0, u, 0);
	hp_buddy_free_pages_cpu(z, 1, q, 2);
	hp_buddy_drain_all(z);
	T_CHECK(hp_buddy_free_pages_count(z) == total && hp_buddy_nr_free(z, HP_MAX_ORDER) == 4);
	check(z);

	/* LIFO: a freed page is the next one handed out (cache-hot) */
	hp_page_t *a = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	hp_buddy_free_pages_cpu(z, 0, a, 0);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0) == a);
	hp_buddy_free_pages_cpu(z, 0, a, 0);
	/* order > 3 bypasses the pcp */
	int before = hp_buddy_pcp_count(z, 0);
	hp_page_t *big = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 4);
	T_CHECK(big && hp_buddy_pcp_count(z, 0) == before);
	hp_buddy_free_pages_cpu(z, 0, big, 4);
	T_CHECK(hp_buddy_pcp_count(z, 0) == before);
	check(z);
	hp_buddy_destroy(z);
}

/* the boot pageset (high 0, batch 1): every operation goes to the zone */
static void pcp_off(void)
{
	hp_buddy_zone_t *z = mk(8u << 20, 1, HP_BUDDY_PCP_OFF, 0, 0);
	if (!z)
		return;
	hp_page_t *a = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	T_CHECK(hp_buddy_pcp_count(z, 0) == 0 && hp_buddy_free_pages_count(z) == 2047);
	hp_buddy_free_pages_cpu(z, 0, a, 0);
	T_CHECK(hp_buddy_pcp_count(z, 0) == 0 && hp_buddy_free_pages_count(z) == 2048);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.pcp_refills == 1 && s.pcp_drains == 1);
	/* switching it on at run time */
	T_CHECK(hp_buddy_set_pcp(z, -1, 4) == -1 && hp_buddy_set_pcp(z, 16, 0) == -1);
	T_CHECK(hp_buddy_set_pcp(z, 16, 4) == 0);
	a = hp_buddy_alloc_pages(z, HP_GFP_KERNEL, 0);    /* locked path */
	T_CHECK(a != NULL);
	hp_buddy_free_pages(z, a, 0);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.pcp_pages == 4 || s.pcp_contended > 0);
	check(z);
	hp_buddy_destroy(z);
}

int main(void)
{
	kernel_sizes();
	batch_and_high();
	pcp_off();
	return t_done("test_buddy_pcp");
}
