/* test_buddy_pcp.c — per-CPU page lists: the kernel's batch/high sizing, batched refill and drain, free_factor, free_high, the boot pageset, orders 1..3 and the THP list on the pcp, and 6.7's pcp->high auto-tuning (raised by frees and refills, lowered by free_high, below the high watermark and by decay). */
#include "t_util.h"
#include <string.h>
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


static hp_page_t *al(hp_buddy_zone_t *z, int cpu, unsigned gfp, unsigned order)
{
	hp_page_t *p = hp_buddy_alloc_pages_cpu(z, cpu, gfp, order);
	T_CHECK_MSG(p != NULL, "alloc order %u on cpu %d failed", order, cpu);
	return p;
}

static hp_buddy_pcp_info_t info(hp_buddy_zone_t *z, int cpu)
{
	hp_buddy_pcp_info_t i;
	hp_buddy_get_pcp_info(z, cpu, &i);
	return i;
}

/* orders 1..3 (pcp_allowed_order) are served from their own pcp lists:
 * a refill of max(batch >> order, 2) blocks, the freed block handed out
 * again, no zone access in between */
static void pcp_orders(void)
{
	hp_buddy_zone_t *z = mk(16u << 20, 1, HP_BUDDY_PCP_CUSTOM, 64, 8);
	if (!z)
		return;
	for (unsigned o = 1; o <= HP_PAGE_ALLOC_COSTLY_ORDER; o++) {
		hp_buddy_stats_t s0, s1;
		hp_buddy_drain_all(z);
		hp_buddy_get_stats(z, &s0);
		int blocks = (8 >> o) < 2 ? 2 : 8 >> o;
		hp_page_t *a = al(z, 0, HP_GFP_MOVABLE, o);
		T_CHECK_MSG(hp_buddy_pcp_count(z, 0) == (blocks - 1) << o, "order %u: count %d", o,
			    hp_buddy_pcp_count(z, 0));
		hp_buddy_free_pages_cpu(z, 0, a, o);
		T_CHECK(hp_buddy_pcp_count(z, 0) == blocks << o);
		hp_page_t *b = al(z, 0, HP_GFP_MOVABLE, o);
		T_CHECK_MSG(b == a, "order %u: the freed block was not reused from the pcp", o);
		hp_buddy_get_stats(z, &s1);
		T_CHECK_MSG(s1.pcp_hits == s0.pcp_hits + 2 && s1.pcp_refills == s0.pcp_refills + 1 &&
			    s1.zone_lock_acquisitions == s0.zone_lock_acquisitions + 1,
			    "order %u: hits %lu refills %lu locks %lu", o, (unsigned long)(s1.pcp_hits - s0.pcp_hits),
			    (unsigned long)(s1.pcp_refills - s0.pcp_refills),
			    (unsigned long)(s1.zone_lock_acquisitions - s0.zone_lock_acquisitions));
		hp_buddy_free_pages_cpu(z, 0, b, o);
		check(z);
	}
	/* a 6.6 zone has no decay: high stays */
	T_CHECK(hp_buddy_pcp_decay(z, 0) == 0 && info(z, 0).high == 64);
	hp_buddy_destroy(z);
}

/* pageblock_order (9) on the pcp when the zone has THP: one list shared by
 * every migratetype, refilled max(batch >> 9, 2) = 2 blocks at a time */
static void pcp_thp(void)
{
	for (int thp = 0; thp <= 1; thp++) {
		hp_buddy_config_t cfg = {
			.arena_bytes = 64u << 20, .ncpus = 1, .pcp_mode = HP_BUDDY_PCP_CUSTOM,
			.pcp_high = 1000, .pcp_batch = 63, .min_free_kbytes = -1, .thp = thp,
		};
		char err[256];
		hp_buddy_zone_t *z = hp_buddy_create(&cfg, err, sizeof err);
		T_CHECK_MSG(z != NULL, "%s", err);
		if (!z)
			return;
		hp_buddy_stats_t s;
		hp_page_t *a = al(z, 0, HP_GFP_MOVABLE, HP_PAGEBLOCK_ORDER);
		hp_buddy_get_stats(z, &s);
		if (!thp) {
			/* without THP order 9 is not a pcp order */
			T_CHECK(hp_buddy_pcp_count(z, 0) == 0 && s.pcp_hits == 0 && s.pcp_refills == 0);
			hp_buddy_free_pages_cpu(z, 0, a, HP_PAGEBLOCK_ORDER);
			T_CHECK(hp_buddy_pcp_count(z, 0) == 0);
			check(z);
			hp_buddy_destroy(z);
			continue;
		}
		T_CHECK_MSG(hp_buddy_pcp_count(z, 0) == 512 && s.pcp_hits == 1 && s.pcp_refills == 1,
			    "count %d hits %lu refills %lu", hp_buddy_pcp_count(z, 0), (unsigned long)s.pcp_hits,
			    (unsigned long)s.pcp_refills);
		/* an unmovable THP request takes the block on the shared list */
		hp_page_t *b = al(z, 0, HP_GFP_KERNEL, HP_PAGEBLOCK_ORDER);
		T_CHECK(hp_buddy_pcp_count(z, 0) == 0);
		check(z);
		/* frees: 512, then 1024 >= high 1000 drains a batch of 63
		 * pages, i.e. one whole block */
		hp_buddy_free_pages_cpu(z, 0, b, HP_PAGEBLOCK_ORDER);
		T_CHECK(hp_buddy_pcp_count(z, 0) == 512);
		hp_buddy_free_pages_cpu(z, 0, a, HP_PAGEBLOCK_ORDER);
		hp_buddy_get_stats(z, &s);
		T_CHECK_MSG(hp_buddy_pcp_count(z, 0) == 512 && s.pcp_drains == 1, "count %d drains %lu",
			    hp_buddy_pcp_count(z, 0), (unsigned long)s.pcp_drains);
		/* LIFO: the block freed last is handed out first */
		T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, HP_PAGEBLOCK_ORDER) == a);
		hp_buddy_free_pages_cpu(z, 0, a, HP_PAGEBLOCK_ORDER);
		check(z);
		hp_buddy_drain_all(z);
		T_CHECK(hp_buddy_free_pages_count(z) == 16384);
		hp_buddy_destroy(z);
	}
}

static hp_buddy_zone_t *mk67(size_t bytes, int ncpus, int high_min, int high_max, int batch)
{
	hp_buddy_config_t cfg = {
		.arena_bytes = bytes, .ncpus = ncpus, .pcp_mode = HP_BUDDY_PCP_CUSTOM,
		.pcp_high = high_min, .pcp_high_max = high_max, .pcp_batch = batch,
		.pcp_gen = HP_BUDDY_PCP_GEN_6_7, .min_free_kbytes = -1,
	};
	char err[256];
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, err, sizeof err);
	T_CHECK_MSG(z != NULL, "%s", err);
	return z;
}

/* 6.7's sizes: high_min is 6.6's high, high_max managed / 8 over the CPUs */
static void tune_sizes(void)
{
	hp_buddy_config_t cfg = { .ncpus = 2, .pcp_gen = HP_BUDDY_PCP_GEN_6_7 };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	T_CHECK(z != NULL);
	if (!z)
		return;
	hp_buddy_pcp_info_t i = info(z, 1);
	T_CHECK_MSG(i.batch == 63 && i.high_min == 643 && i.high_max == 16384 && i.high == 643,
		    "batch %d high %d in [%d, %d]", i.batch, i.high, i.high_min, i.high_max);
	T_CHECK(hp_buddy_pcp_gen(z) == HP_BUDDY_PCP_GEN_6_7);
	/* set_pcp is the manual tuning: high_min = high_max, tuning off */
	T_CHECK(hp_buddy_set_pcp(z, 100, 10) == 0);
	i = info(z, 0);
	T_CHECK(i.high == 100 && i.high_min == 100 && i.high_max == 100);
	T_CHECK(hp_buddy_set_pcp_range(z, 100, 50, 10) == -1);
	hp_buddy_destroy(z);
	/* a 6.6 zone has no range */
	z = mk(8u << 20, 1, HP_BUDDY_PCP_CUSTOM, 32, 8);
	if (z) {
		T_CHECK(hp_buddy_set_pcp_range(z, 32, 64, 8) == -1);
		T_CHECK(hp_buddy_pcp_gen(z) == HP_BUDDY_PCP_GEN_6_6);
		hp_buddy_destroy(z);
	}
	/* bad generation and range in the config */
	char err[256];
	cfg = (hp_buddy_config_t){ .arena_bytes = 8u << 20, .pcp_gen = (hp_buddy_pcp_gen_t)7 };
	T_CHECK(hp_buddy_create(&cfg, err, sizeof err) == NULL && strstr(err, "pcp_gen 7"));
	cfg = (hp_buddy_config_t){ .arena_bytes = 8u << 20, .pcp_mode = HP_BUDDY_PCP_CUSTOM, .pcp_high = 64,
				   .pcp_batch = 8, .pcp_high_max = 32, .pcp_gen = HP_BUDDY_PCP_GEN_6_7 };
	T_CHECK(hp_buddy_create(&cfg, err, sizeof err) == NULL && strstr(err, "pcp_high_max 32"));
}

/* Frees without allocations raise high to free_count + batch each time
 * count reaches it, never past high_max; the drain frees as many pages as
 * were freed in a row, clamped to [batch, high - batch]. Worked through
 * nr_pcp_high() / nr_pcp_free() of 6.7 with high_min 32, high_max 256,
 * batch 8 (free_count saturates at batch << 5 = 256). */
static void tune_free_raises(hp_buddy_zone_t *z, hp_page_t **pg, int n)
{
	static const struct { int frees, count, high; } want[] = {
		{ 31, 31, 32 }, { 32, 8, 40 }, { 63, 39, 40 }, { 64, 8, 72 }, { 128, 8, 136 },
		{ 256, 8, 256 }, { 504, 8, 256 },
	};
	int k = 0;
	for (int i = 0; i < n; i++) {
		hp_buddy_free_pages_cpu(z, 0, pg[i], 0);
		hp_buddy_pcp_info_t s = info(z, 0);
		T_CHECK_MSG(s.high >= s.high_min && s.high <= s.high_max, "free %d: high %d out of [%d, %d]", i + 1,
			    s.high, s.high_min, s.high_max);
		if (k < (int)(sizeof want / sizeof want[0]) && want[k].frees == i + 1) {
			T_CHECK_MSG(s.count == want[k].count && s.high == want[k].high,
				    "after %d frees: count %d high %d, want count %d high %d", i + 1, s.count, s.high,
				    want[k].count, want[k].high);
			k++;
		}
	}
}

static void tune_rules(void)
{
	enum { N = 696 };
	hp_buddy_zone_t *z = mk67(16u << 20, 4, 32, 256, 8);
	if (!z)
		return;
	static hp_page_t *pg[N];
	for (int i = 0; i < N; i++)
		pg[i] = al(z, 1, HP_GFP_MOVABLE, 0);
	check(z);
	/* 504 frees on cpu 0 (which never allocates) */
	tune_free_raises(z, pg, 504);
	check(z);
	/* 192 more: count 200, below high 256, nothing drained */
	for (int i = 504; i < N; i++)
		hp_buddy_free_pages_cpu(z, 0, pg[i], 0);
	hp_buddy_pcp_info_t s = info(z, 0);
	T_CHECK_MSG(s.count == 200 && s.high == 256, "count %d high %d", s.count, s.high);
	/* decay: high loses an eighth per tick down to high_min, and the
	 * pages above it go back to the zone */
	int ticks = 0, prev = s.high;
	while (hp_buddy_pcp_decay(z, 0) && ticks < 100) {
		s = info(z, 0);
		int want = prev - (prev >> 3) > 32 ? prev - (prev >> 3) : 32;
		T_CHECK_MSG(s.high == want && s.count <= s.high, "tick %d: high %d (want %d) count %d", ticks, s.high,
			    want, s.count);
		prev = s.high;
		ticks++;
	}
	s = info(z, 0);
	T_CHECK_MSG(s.high == 32 && s.count <= 32 && ticks > 5 && ticks < 30, "after %d ticks: high %d count %d",
		    ticks, s.high, s.count);
	check(z);

	/* refills raise high by their batch; order-0 refills double while only
	 * allocating (alloc_factor), within high - count - batch */
	hp_page_t *q[16];
	for (int i = 0; i < 9; i++)
		q[i] = al(z, 2, HP_GFP_MOVABLE, 0);
	s = info(z, 2);
	T_CHECK_MSG(s.high == 56 && s.count == 15 && s.alloc_factor == 2, "cpu 2: high %d count %d alloc_factor %d",
		    s.high, s.count, s.alloc_factor);
	hp_buddy_free_pages_cpu(z, 2, q[0], 0);
	T_CHECK(info(z, 2).alloc_factor == 1);
	for (int i = 1; i < 9; i++)
		hp_buddy_free_pages_cpu(z, 2, q[i], 0);

	/* free_high: a run of order-1..3 frees with free_count >= batch
	 * drains the pcp and drops high by 32 batches (not below high_min) */
	for (int i = 0; i < 5; i++)
		q[i] = al(z, 1, HP_GFP_MOVABLE, 1);
	for (int i = 0; i < 4; i++)
		hp_buddy_free_pages_cpu(z, 3, q[i], 1);
	T_CHECK_MSG(info(z, 3).count == 8, "cpu 3: count %d", info(z, 3).count);
	hp_buddy_free_pages_cpu(z, 3, q[4], 1);
	s = info(z, 3);
	T_CHECK_MSG(s.count == 0 && s.high == 32, "cpu 3 after free_high: count %d high %d", s.count, s.high);
	check(z);
	hp_buddy_drain_all(z);
	T_CHECK(hp_buddy_free_pages_count(z) == 4096);
	hp_buddy_destroy(z);
}

/* ZONE_BELOW_HIGH: set by the allocation that finds free pages at or
 * below the high watermark, cleared by a drain that lifts them above it;
 * while set, frees shrink high back to high_min */
static void tune_below_high(void)
{
	hp_buddy_config_t cfg = { .arena_bytes = 16u << 20, .ncpus = 1, .pcp_gen = HP_BUDDY_PCP_GEN_6_7 };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	T_CHECK(z != NULL);
	if (!z)
		return;
	hp_buddy_wmarks_t w;
	hp_buddy_get_wmarks(z, &w);
	static hp_page_t *pg[4096];
	int n = 0, set_at = -1;
	while (n < 4096) {
		unsigned long before = hp_buddy_free_pages_count(z);
		hp_page_t *p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0);
		if (!p)
			break;
		pg[n++] = p;
		int b = info(z, 0).below_high;
		if (b && set_at < 0) {
			set_at = n;
			T_CHECK_MSG(before <= w.high, "below_high set with %lu free, high watermark %lu", before, w.high);
		} else if (!b) {
			T_CHECK_MSG(before > w.high, "below_high not set with %lu free, high watermark %lu", before, w.high);
		}
	}
	T_CHECK_MSG(set_at > 0 && n > set_at && n < 4096, "set at %d, %d allocated", set_at, n);
	hp_buddy_pcp_info_t s = info(z, 0);
	T_CHECK_MSG(s.high > s.high_min, "refills did not raise high: %d", s.high);
	for (int i = 0; i < n; i++)
		hp_buddy_free_pages_cpu(z, 0, pg[i], 0);
	s = info(z, 0);
	T_CHECK_MSG(!s.below_high && s.high == s.high_min, "after the frees: below_high %d, high %d (min %d)",
		    s.below_high, s.high, s.high_min);
	check(z);
	hp_buddy_destroy(z);
}

int main(void)
{
	kernel_sizes();
	batch_and_high();
	pcp_off();
	pcp_orders();
	pcp_thp();
	tune_sizes();
	tune_rules();
	tune_below_high();
	return t_done("test_buddy_pcp");
}
