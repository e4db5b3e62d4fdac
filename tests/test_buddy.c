/* test_buddy.c — buddy allocator invariants over long seeded random sequences (6.6 pcp, and 6.7 auto-tuned pcp with the THP list and decay ticks), exhaustion, bad orders and bad frees. */
#include "t_util.h"
#include "buddy.h"
#include "hp_rand.h"

#include <stdint.h>
#include <string.h>

static uint64_t rng_state;

static unsigned rnd(unsigned n) { return (unsigned)(hp_splitmix64(&rng_state) % n); }

typedef struct held {
	void *addr;
	unsigned order;
	uint64_t cookie;
} held_t;

static int nbad;
static hp_buddy_report_t last;

static void on_report(void *arg, const hp_buddy_report_t *r)
{
	(void)arg;
	nbad++;
	last = *r;
}

/* the pcp generation of the zones mkzone() makes; 6.7 zones also get the
 * THP list, and CUSTOM ones the range [24, 96] */
static hp_buddy_pcp_gen_t g_gen;

static hp_buddy_zone_t *mkzone(size_t bytes, int ncpus, hp_buddy_pcp_mode_t mode, long min_kb)
{
	int gen67 = g_gen == HP_BUDDY_PCP_GEN_6_7;
	hp_buddy_config_t cfg = {
		.arena_bytes = bytes, .ncpus = ncpus, .pcp_mode = mode,
		.pcp_high = 24, .pcp_batch = 6, .min_free_kbytes = min_kb,
		.report = on_report, .pcp_gen = g_gen, .thp = gen67,
		.pcp_high_max = gen67 && mode == HP_BUDDY_PCP_CUSTOM ? 96 : 0,
	};
	char err[256];
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, err, sizeof err);
	T_CHECK_MSG(z != NULL, "%s", err);
	return z;
}

static int check(hp_buddy_zone_t *z, const char *when, long step)
{
	char err[512];
	if (hp_buddy_check(z, err, sizeof err) == 0)
		return 0;
	fprintf(stderr, "invariant broken %s (step %ld): %s\n", when, step, err);
	t_failures++;
	return -1;
}

static void fill(held_t *h)
{
	uint64_t *w = h->addr;
	size_t n = (HP_PAGE_SIZE << h->order) / 8;
	/* first and last words of each page: enough to catch two live
	 * allocations sharing memory */
	for (size_t i = 0; i < n; i += HP_PAGE_SIZE / 8) {
		w[i] = h->cookie + i;
		w[i + HP_PAGE_SIZE / 8 - 1] = ~(h->cookie + i);
	}
}

static int verify(const held_t *h)
{
	const uint64_t *w = h->addr;
	size_t n = (HP_PAGE_SIZE << h->order) / 8;
	for (size_t i = 0; i < n; i += HP_PAGE_SIZE / 8)
		if (w[i] != h->cookie + i || w[i + HP_PAGE_SIZE / 8 - 1] != ~(h->cookie + i))
			return 0;
	return 1;
}

/* Random alloc/free/drain over a zone with an odd-sized tail, checking
 * every invariant after every operation. */
static void random_sequence(uint64_t seed, hp_buddy_pcp_mode_t mode, long steps)
{
	rng_state = seed;
	/* 8 MiB plus 13 pages: two max-order blocks and a ragged tail */
	hp_buddy_zone_t *z = mkzone((8u << 20) + 13 * HP_PAGE_SIZE, 3, mode, -1);
	if (!z)
		return;
	enum { MAXH = 4096 };
	static held_t held[MAXH];
	int nh = 0;
	long fails = 0;
	unsigned long total = hp_buddy_free_pages_count(z);
	T_CHECK(total == 2048 + 13);
	check(z, "after create", 0);

	for (long step = 0; step < steps && !t_failures; step++) {
		unsigned op = rnd(100);
		int cpu = (int)rnd(3);
		if (op < 55 && nh < MAXH) {
			/* orders skewed to small, as real workloads are */
			unsigned order = rnd(4) ? rnd(4) : rnd(HP_MAX_ORDER + 1);
			unsigned gfp = (unsigned[]){ HP_GFP_KERNEL, HP_GFP_MOVABLE, HP_GFP_RECLAIMABLE }[rnd(3)];
			void *a = hp_buddy_get_free_pages_cpu(z, cpu, gfp, order);
			if (!a) {
				fails++;
			} else {
				uintptr_t off = (uintptr_t)a - (uintptr_t)hp_page_address(z, hp_pfn_to_page(z, 0));
				T_CHECK_MSG((off & ((HP_PAGE_SIZE << order) - 1)) == 0, "order %u block at offset %#lx",
					    order, (unsigned long)off);
				held[nh] = (held_t){ a, order, hp_splitmix64(&rng_state) };
				fill(&held[nh]);
				nh++;
			}
		} else if (op < 97 && nh) {
			int i = (int)rnd((unsigned)nh);
			T_CHECK_MSG(verify(&held[i]), "allocation at %p order %u was overwritten", held[i].addr,
				    held[i].order);
			hp_buddy_free_pages_addr_cpu(z, cpu, held[i].addr, held[i].order);
			held[i] = held[--nh];
		} else if (g_gen == HP_BUDDY_PCP_GEN_6_7 && op < 99) {
			hp_buddy_pcp_decay(z, cpu);    /* a vmstat tick */
		} else {
			hp_buddy_drain_cpu(z, cpu);
		}
		check(z, "after an operation", step);
	}
	T_CHECK(fails > 0);   /* the sequence did run the zone dry at times */
	while (nh) {
		T_CHECK(verify(&held[nh - 1]));
		hp_buddy_free_pages_addr_cpu(z, (int)rnd(3), held[nh - 1].addr, held[nh - 1].order);
		nh--;
	}
	hp_buddy_drain_all(z);
	check(z, "after freeing everything", steps);
	/* everything merged back: two order-10 blocks and the tail's 8+4+1 */
	T_CHECK(hp_buddy_free_pages_count(z) == total);
	T_CHECK(hp_buddy_nr_free(z, 10) == 2);
	T_CHECK(hp_buddy_nr_free(z, 3) == 1 && hp_buddy_nr_free(z, 2) == 1 && hp_buddy_nr_free(z, 0) == 1);
	T_CHECK(nbad == 0);
	hp_buddy_destroy(z);
}

/* Exhaustion: with no watermarks every page can be had, then NULL. */
static void exhaustion(hp_buddy_pcp_mode_t mode)
{
	hp_buddy_zone_t *z = mkzone(8u << 20, 1, mode, -1);
	if (!z)
		return;
	size_t total = 2048, got = 0;
	static hp_page_t *pages[2048];
	hp_page_t *p;
	while ((p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0)) != NULL) {
		T_CHECK(got < total);
		if (got >= total)
			break;
		pages[got++] = p;
	}
	T_CHECK_MSG(got == total, "got %zu of %zu pages", got, total);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_MOVABLE, 0) == NULL);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 3) == NULL);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.fail_nomem >= 3 && s.alloc_pages == total && s.free_pages == 0);
	check(z, "exhausted", 0);
	for (size_t i = 0; i < got; i++)
		hp_buddy_free_pages_cpu(z, 0, pages[i], 0);
	hp_buddy_drain_all(z);
	check(z, "refilled", 0);
	T_CHECK(hp_buddy_nr_free(z, HP_MAX_ORDER) == 2);

	/* max-order blocks: exactly two, then NULL */
	hp_page_t *a = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, HP_MAX_ORDER);
	hp_page_t *b = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, HP_MAX_ORDER);
	T_CHECK(a && b && a != b);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, HP_MAX_ORDER) == NULL);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0) == NULL);
	hp_buddy_free_pages_cpu(z, 0, a, HP_MAX_ORDER);
	hp_buddy_free_pages_cpu(z, 0, b, HP_MAX_ORDER);
	check(z, "after max order", 0);
	hp_buddy_destroy(z);
}

/* order > HP_MAX_ORDER is refused, counted, and changes nothing */
static void bad_orders(void)
{
	hp_buddy_zone_t *z = mkzone(8u << 20, 1, HP_BUDDY_PCP_KERNEL, 0);
	if (!z)
		return;
	unsigned long before = hp_buddy_free_pages_count(z);
	T_CHECK(hp_buddy_alloc_pages(z, HP_GFP_KERNEL, HP_MAX_ORDER + 1) == NULL);
	T_CHECK(hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 31) == NULL);
	T_CHECK(hp_buddy_get_free_pages(z, HP_GFP_KERNEL, 1000) == NULL);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.fail_order == 3);
	T_CHECK(hp_buddy_free_pages_count(z) == before);
	T_CHECK(hp_buddy_nr_free(z, HP_MAX_ORDER + 1) == -1);
	check(z, "after bad orders", 0);
	hp_buddy_destroy(z);
}

/* Frees that must not happen are reported once each and ignored. */
static void bad_frees(void)
{
	hp_buddy_zone_t *z = mkzone(8u << 20, 1, HP_BUDDY_PCP_KERNEL, -1);
	if (!z)
		return;
	nbad = 0;
	hp_page_t *p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 2);
	size_t pfn = hp_page_to_pfn(z, p);
	hp_buddy_free_pages_cpu(z, 0, p, 1);            /* wrong order */
	T_CHECK(nbad == 1 && last.kind == HP_BUDDY_ERR_BAD_FREE && last.pfn == pfn);
	hp_buddy_free_pages_cpu(z, 0, p + 1, 0);        /* a page inside it */
	T_CHECK(nbad == 2 && last.pfn == pfn + 1);
	hp_buddy_get_page(p);                           /* two references */
	hp_buddy_free_pages_cpu(z, 0, p, 2);
	T_CHECK(nbad == 2 && p->refcount == 1);         /* still allocated */
	hp_buddy_free_pages_cpu(z, 0, p, 2);
	T_CHECK(nbad == 2);
	hp_buddy_free_pages_cpu(z, 0, p, 2);            /* double free */
	T_CHECK(nbad == 3 && last.pfn == pfn);
	int x;
	hp_buddy_free_pages_addr(z, &x, 0);             /* foreign pointer */
	T_CHECK(nbad == 4 && last.pfn == (size_t)-1);
	void *a = hp_buddy_get_free_pages(z, HP_GFP_KERNEL, 0);
	hp_buddy_free_pages_addr(z, (char *)a + 8, 0);  /* not page aligned */
	T_CHECK(nbad == 5);
	hp_buddy_free_pages_addr(z, a, 0);
	hp_buddy_free_pages(z, NULL, 0);                /* no-op */
	hp_buddy_free_pages_addr(z, NULL, 3);
	T_CHECK(nbad == 5);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.bad_frees == 5);
	check(z, "after bad frees", 0);
	hp_buddy_destroy(z);
	nbad = 0;
}

/* GFP_COMP: tails find their head (what impl/slub's virt_to_slab needs). */
static void compound(void)
{
	hp_buddy_zone_t *z = mkzone(8u << 20, 1, HP_BUDDY_PCP_KERNEL, -1);
	if (!z)
		return;
	hp_page_t *p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL | HP_GFP_COMP | HP_GFP_ZERO, 3);
	T_CHECK(p != NULL);
	char *a = hp_page_address(z, p);
	T_CHECK(a[0] == 0 && a[8 * HP_PAGE_SIZE - 1] == 0);
	for (int i = 0; i < 8; i++)
		T_CHECK(hp_compound_head(hp_virt_to_page(z, a + i * HP_PAGE_SIZE + 17)) == p);
	T_CHECK(hp_buddy_contains(z, a) && !hp_buddy_contains(z, &p));
	p->priv = &p;
	check(z, "compound allocated", 0);
	hp_buddy_free_pages_cpu(z, 0, p, 3);
	check(z, "compound freed", 0);
	hp_buddy_destroy(z);
}

static void bad_config(void)
{
	char err[256];
	hp_buddy_config_t c = { .arena_bytes = 100 };
	T_CHECK(hp_buddy_create(&c, err, sizeof err) == NULL && strstr(err, "100"));
	c = (hp_buddy_config_t){ .arena_bytes = 1 << 20, .ncpus = -3 };
	T_CHECK(hp_buddy_create(&c, err, sizeof err) == NULL && strstr(err, "ncpus -3"));
	c = (hp_buddy_config_t){ .arena_bytes = 1 << 20, .pcp_mode = HP_BUDDY_PCP_CUSTOM, .pcp_batch = 0 };
	T_CHECK(hp_buddy_create(&c, err, sizeof err) == NULL && strstr(err, "batch"));
	c = (hp_buddy_config_t){ .arena_bytes = 1 << 20, .guard_minorder = 11 };
	T_CHECK(hp_buddy_create(&c, err, sizeof err) == NULL && strstr(err, "guard_minorder 11"));
	c = (hp_buddy_config_t){ .arena_bytes = 1 << 20, .debug = 0x40 };
	T_CHECK(hp_buddy_create(&c, err, sizeof err) == NULL && strstr(err, "0x40"));
	/* NULL config: the 1 GiB default */
	hp_buddy_zone_t *z = hp_buddy_create(NULL, err, sizeof err);
	T_CHECK_MSG(z != NULL, "%s", err);
	if (z) {
		hp_buddy_stats_t s;
		hp_buddy_get_stats(z, &s);
		T_CHECK(s.total_pages == 262144 && hp_buddy_nr_free(z, HP_MAX_ORDER) == 256);
		hp_buddy_destroy(z);
	}
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eed;
	long steps = argc > 2 ? strtol(argv[2], NULL, 0) : 6000;
	printf("seed %#llx, %ld steps\n", (unsigned long long)seed, steps);
	bad_config();
	random_sequence(seed, HP_BUDDY_PCP_KERNEL, steps);
	random_sequence(seed + 1, HP_BUDDY_PCP_CUSTOM, steps);
	random_sequence(seed + 2, HP_BUDDY_PCP_OFF, steps);
	exhaustion(HP_BUDDY_PCP_KERNEL);
	exhaustion(HP_BUDDY_PCP_OFF);
	/* the same on 6.7 zones with the THP list */
	g_gen = HP_BUDDY_PCP_GEN_6_7;
	random_sequence(seed + 3, HP_BUDDY_PCP_KERNEL, steps);
	random_sequence(seed + 4, HP_BUDDY_PCP_CUSTOM, steps);
	exhaustion(HP_BUDDY_PCP_KERNEL);
	g_gen = HP_BUDDY_PCP_GEN_6_6;
	bad_orders();
	bad_frees();
	compound();
	return t_done("test_buddy");
}
