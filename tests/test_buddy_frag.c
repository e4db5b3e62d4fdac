/* test_buddy_frag.c — /proc/buddyinfo format and the unusable-free and extfrag indices (mm/vmstat.c, Linux 6.6) on hand-built and real states. */
#include "t_util.h"
#include "buddy.h"

#include <string.h>

static void indices_by_hand(void)
{
	/* four free order-0 pages and nothing else */
	unsigned long a[HP_NR_ORDERS] = { 4 };
	T_CHECK(hp_buddy_extfrag_index_of(a, 0) == -1000);        /* would succeed */
	T_CHECK(hp_buddy_unusable_index_of(a, 0) == 0);
	/* 1000 - (1000 + 4*1000/2) / 4 */
	T_CHECK(hp_buddy_extfrag_index_of(a, 1) == 250);
	T_CHECK(hp_buddy_unusable_index_of(a, 1) == 1000);
	T_CHECK(hp_buddy_extfrag_index_of(a, 3) == 625);          /* 1000 - 1500/4 */
	/* 4000/1024 truncates to 3: 1000 - 1003/4 */
	T_CHECK(hp_buddy_extfrag_index_of(a, 10) == 750);

	/* two order-0 blocks and one order-2: 6 pages in 3 blocks */
	unsigned long b[HP_NR_ORDERS] = { 2, 0, 1 };
	T_CHECK(hp_buddy_extfrag_index_of(b, 1) == -1000);
	T_CHECK(hp_buddy_unusable_index_of(b, 1) == 333);         /* (6 - 2*2) * 1000 / 6 */
	T_CHECK(hp_buddy_unusable_index_of(b, 2) == 333);         /* (6 - 1*4) * 1000 / 6 */
	T_CHECK(hp_buddy_extfrag_index_of(b, 3) == 417);          /* 1000 - (1000 + 750) / 3 */
	T_CHECK(hp_buddy_unusable_index_of(b, 3) == 1000);

	/* nothing free: unusable 1000 (all of nothing), extfrag 0 (lack of memory) */
	unsigned long e[HP_NR_ORDERS] = { 0 };
	T_CHECK(hp_buddy_unusable_index_of(e, 4) == 1000);
	T_CHECK(hp_buddy_extfrag_index_of(e, 4) == 0);

	/* one max-order block: nothing is unusable for any order */
	unsigned long m[HP_NR_ORDERS] = { [HP_MAX_ORDER] = 1 };
	for (unsigned o = 0; o <= HP_MAX_ORDER; o++)
		T_CHECK(hp_buddy_unusable_index_of(m, o) == 0 && hp_buddy_extfrag_index_of(m, o) == -1000);
	T_CHECK(hp_buddy_extfrag_index_of(m, 11) == -2000 && hp_buddy_unusable_index_of(m, 11) == -2000);
}

static void check(hp_buddy_zone_t *z)
{
	char err[512];
	T_CHECK_MSG(hp_buddy_check(z, err, sizeof err) == 0, "%s", err);
}

static void real_zone(void)
{
	hp_buddy_config_t cfg = { .arena_bytes = 8u << 20, .ncpus = 1, .pcp_mode = HP_BUDDY_PCP_OFF,
				  .min_free_kbytes = -1 };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	T_CHECK(z != NULL);
	if (!z)
		return;
	char buf[512];
	int n = hp_buddy_buddyinfo(z, buf, sizeof buf);
	T_CHECK_STR(buf, "Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      0      2 \n");
	T_CHECK(n == (int)strlen(buf));
	T_CHECK(hp_buddy_buddyinfo(z, NULL, 0) == n);        /* snprintf semantics */

	/* one page out: one free block of each order 0..9 is split off */
	hp_page_t *p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	hp_buddy_buddyinfo(z, buf, sizeof buf);
	T_CHECK_STR(buf, "Node 0, zone   Normal      1      1      1      1      1      1      1      1      1      1      1 \n");
	/* 2047 pages free; order k can use sum(2^(o-k)) blocks of o >= k:
	 * order 2: (2047 - 511*4) * 1000 / 2047 = 1; order 10: 1023000/2047 */
	hp_buddy_unusable_show(z, buf, sizeof buf);
	T_CHECK_STR(buf, "Node 0, zone   Normal 0.000 0.000 0.001 0.003 0.007 0.015 0.030 0.062 0.124 0.249 0.499 \n");
	hp_buddy_extfrag_show(z, buf, sizeof buf);
	T_CHECK_STR(buf, "Node 0, zone   Normal -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 \n");
	hp_buddy_free_pages_cpu(z, 0, p, 0);

	/* every page out, then every even pfn back: 1024 lone order-0 pages */
	static hp_page_t *pg[2048];
	for (int i = 0; i < 2048; i++)
		pg[i] = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	for (int i = 0; i < 2048; i++)
		if (hp_page_to_pfn(z, pg[i]) % 2 == 0)
			hp_buddy_free_pages_cpu(z, 0, pg[i], 0);
	check(z);
	T_CHECK(hp_buddy_nr_free(z, 0) == 1024 && hp_buddy_nr_free(z, 1) == 0);
	/* order 1: 1000 - (1000 + 1024000/2) / 1024 = 1000 - 500 */
	T_CHECK(hp_buddy_extfrag_index(z, 1) == 500);
	T_CHECK(hp_buddy_unusable_index(z, 1) == 1000);
	T_CHECK(hp_buddy_extfrag_index(z, 0) == -1000 && hp_buddy_unusable_index(z, 0) == 0);
	hp_buddy_extfrag_show(z, buf, sizeof buf);
	/* 1000 - (1000 + 1024000 / 2^k) / 1024 for k = 1..10 */
	T_CHECK_STR(buf, "Node 0, zone   Normal -1.000  0.500  0.750  0.875  0.937  0.968  0.984  0.992  0.996  0.998  0.999 \n");
	hp_buddy_unusable_show(z, buf, sizeof buf);
	T_CHECK_STR(buf, "Node 0, zone   Normal 0.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 \n");
	/* 1024 pages free but no pair: order 1 fails for lack of a block */
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 1) == NULL);
	hp_buddy_set_min_free_kbytes(z, 0);
	T_CHECK(hp_buddy_watermark_ok(z, 1, 0, 0) == 0);
	T_CHECK(hp_buddy_watermark_ok(z, 0, 0, 0) == 1);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.fail_nomem == 1);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 1) == NULL);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.fail_wmark == 1);
	for (int i = 0; i < 2048; i++)
		if (hp_page_to_pfn(z, pg[i]) % 2 == 1)
			hp_buddy_free_pages_cpu(z, 0, pg[i], 0);
	check(z);
	hp_buddy_buddyinfo(z, buf, sizeof buf);
	T_CHECK_STR(buf, "Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      0      2 \n");

	/* a named zone and a truncating buffer */
	hp_buddy_destroy(z);
	cfg.name = "DMA32";
	z = hp_buddy_create(&cfg, NULL, 0);
	char small[20];
	n = hp_buddy_buddyinfo(z, small, sizeof small);
	T_CHECK(n > (int)sizeof small && strcmp(small, "Node 0, zone    DMA") == 0);
	hp_buddy_destroy(z);
}

/* migratetypes: unmovable requests steal from MOVABLE pageblocks and, per
 * steal_suitable_fallback, claim a whole pageblock; movable ones then stay
 * out of it */
static void fallback(void)
{
	hp_buddy_config_t cfg = { .arena_bytes = 8u << 20, .ncpus = 1, .pcp_mode = HP_BUDDY_PCP_OFF,
				  .min_free_kbytes = -1 };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	if (!z)
		return;
	for (size_t pfn = 0; pfn < 2048; pfn += HP_PAGEBLOCK_PAGES)
		T_CHECK(hp_buddy_pageblock_mt(z, pfn) == HP_MIGRATE_MOVABLE);
	hp_page_t *u = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	size_t upfn = hp_page_to_pfn(z, u);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.fallbacks == 1);
	/* it stole the largest block (order 10 >= pageblock_order): both
	 * pageblocks of it are UNMOVABLE now */
	T_CHECK(hp_buddy_pageblock_mt(z, upfn) == HP_MIGRATE_UNMOVABLE);
	T_CHECK(hp_buddy_pageblock_mt(z, upfn ^ HP_PAGEBLOCK_PAGES) == HP_MIGRATE_UNMOVABLE);
	T_CHECK(hp_buddy_nr_free_mt(z, 9, HP_MIGRATE_UNMOVABLE) == 1);
	/* a movable request comes from the other max-order block */
	hp_page_t *m = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0);
	T_CHECK((hp_page_to_pfn(z, m) >> HP_MAX_ORDER) != (upfn >> HP_MAX_ORDER));
	T_CHECK(hp_buddy_pageblock_mt(z, hp_page_to_pfn(z, m)) == HP_MIGRATE_MOVABLE);
	/* a reclaimable one falls back to UNMOVABLE first (fallbacks[] order) */
	hp_page_t *r = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_RECLAIMABLE, 0);
	T_CHECK((hp_page_to_pfn(z, r) >> HP_MAX_ORDER) == (upfn >> HP_MAX_ORDER));
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.fallbacks == 2 && s.block_steals >= 3);
	check(z);
	hp_buddy_free_pages_cpu(z, 0, u, 0);
	hp_buddy_free_pages_cpu(z, 0, m, 0);
	hp_buddy_free_pages_cpu(z, 0, r, 0);
	check(z);
	T_CHECK(hp_buddy_nr_free(z, HP_MAX_ORDER) == 2);
	hp_buddy_destroy(z);
}

int main(void)
{
	indices_by_hand();
	real_zone();
	fallback();
	return t_done("test_buddy_frag");
}
