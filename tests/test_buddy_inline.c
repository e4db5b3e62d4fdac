/* test_buddy_inline.c — the inline order-0 pcp fast path (hp_buddy_pcp_alloc_inline / _free_inline): binding and its refusals, the empty-list refill, the drain at high, the boot pageset, the watermark, references, and a seeded sequence mixing the inline and out-of-line paths on two CPUs that must leave the zone exactly as the out-of-line path alone does (same pages, same pcp state after every operation), with pages conserved and every invariant checked after each operation. The mutant build (-DHP_BUDDY_MUTATE_INLINE_NOCOUNT: the inline alloc forgets pcp->count) must fail. */
#include "t_util.h"
#include <stdint.h>
#include <string.h>
#include "buddy.h"
#include "hp_rand.h"

#define MB (1u << 20)

static hp_buddy_zone_t *mk(size_t bytes, int ncpus, hp_buddy_pcp_mode_t mode, int high, int batch, long min_kb)
{
	hp_buddy_config_t cfg = {
		.arena_bytes = bytes, .ncpus = ncpus, .pcp_mode = mode,
		.pcp_high = high, .pcp_batch = batch, .min_free_kbytes = min_kb,
	};
	char err[256];
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, err, sizeof err);
	T_CHECK_MSG(z != NULL, "%s", err);
	return z;
}

static int check(hp_buddy_zone_t *z, const char *when)
{
	char err[512];
	int rc = hp_buddy_check(z, err, sizeof err);
	T_CHECK_MSG(rc == 0, "%s: %s", when, err);
	return rc;
}

static hp_buddy_pcp_ref_t bind(hp_buddy_zone_t *z, int cpu, unsigned gfp)
{
	hp_buddy_pcp_ref_t r;
	char err[128];
	memset(&r, 0, sizeof r);
	T_CHECK_MSG(hp_buddy_pcp_bind(z, cpu, gfp, &r, err, sizeof err) == 0, "bind cpu %d gfp %u: %s", cpu, gfp, err);
	return r;
}

static hp_buddy_pcp_info_t info(hp_buddy_zone_t *z, int cpu)
{
	hp_buddy_pcp_info_t i;
	hp_buddy_get_pcp_info(z, cpu, &i);
	return i;
}

static hp_buddy_stats_t stats(hp_buddy_zone_t *z)
{
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	return s;
}

/* what the inline path refuses to bind, with a reason */
static void bind_refusals(void)
{
	hp_buddy_zone_t *z = mk(8 * MB, 2, HP_BUDDY_PCP_KERNEL, 0, 0, -1);
	if (!z)
		return;
	hp_buddy_pcp_ref_t r;
	char err[128];
	err[0] = 0;
	T_CHECK(hp_buddy_pcp_bind(z, 2, HP_GFP_MOVABLE, &r, err, sizeof err) == -1 && strstr(err, "cpu"));
	T_CHECK(hp_buddy_pcp_bind(z, -1, HP_GFP_MOVABLE, &r, err, sizeof err) == -1);
	T_CHECK(hp_buddy_pcp_bind(z, 0, HP_GFP_MOVABLE | HP_GFP_ZERO, &r, err, sizeof err) == -1 && strstr(err, "gfp"));
	T_CHECK(hp_buddy_pcp_bind(z, 0, HP_GFP_MOVABLE | HP_GFP_RECLAIMABLE, &r, err, sizeof err) == -1);
	T_CHECK(hp_buddy_pcp_bind(z, 0, HP_GFP_KERNEL, &r, NULL, 0) == 0);
	T_CHECK(hp_buddy_pcp_bind(z, 1, HP_GFP_RECLAIMABLE, &r, NULL, 0) == 0);
	hp_buddy_destroy(z);

	hp_buddy_config_t cfg = { .arena_bytes = 8 * MB, .ncpus = 1, .debug = HP_BUDDY_DEBUG_POISON };
	z = hp_buddy_create(&cfg, NULL, 0);
	T_CHECK(z != NULL);
	if (z) {
		T_CHECK(hp_buddy_pcp_bind(z, 0, HP_GFP_MOVABLE, &r, err, sizeof err) == -1 && strstr(err, "debug"));
		hp_buddy_destroy(z);
	}
	cfg = (hp_buddy_config_t){ .arena_bytes = 8 * MB, .ncpus = 1, .pcp_gen = HP_BUDDY_PCP_GEN_6_7 };
	z = hp_buddy_create(&cfg, NULL, 0);
	T_CHECK(z != NULL);
	if (z) {
		T_CHECK(hp_buddy_pcp_bind(z, 0, HP_GFP_MOVABLE, &r, err, sizeof err) == -1 && strstr(err, "6.7"));
		hp_buddy_destroy(z);
	}
}

/* an empty list refills a batch through the out-of-line path; a free that
 * brings count to high drains nr_pcp_free() pages, doubling while only
 * freeing (6.6's free_factor) */
static void refill_and_drain(void)
{
	hp_buddy_zone_t *z = mk(16 * MB, 2, HP_BUDDY_PCP_CUSTOM, 32, 8, -1);
	if (!z)
		return;
	const unsigned long total = 4096;
	hp_buddy_pcp_ref_t r = bind(z, 1, HP_GFP_MOVABLE);
	hp_page_t *p[48];

	p[0] = hp_buddy_pcp_alloc_inline(&r);
	T_CHECK(p[0] != NULL);
	T_CHECK_MSG(info(z, 1).count == 7, "count %d after the first alloc (refill 8, take 1)", info(z, 1).count);
	T_CHECK(hp_buddy_free_pages_count(z) == total - 8 && info(z, 0).count == 0);
	hp_buddy_stats_t s = stats(z);
	T_CHECK(s.pcp_refills == 1 && s.pcp_hits == 1 && s.alloc_pages == 1);
	for (int i = 1; i < 40; i++) {
		p[i] = hp_buddy_pcp_alloc_inline(&r);
		T_CHECK(p[i] != NULL);
		T_CHECK(info(z, 1).count == 7 - i % 8);
	}
	s = stats(z);
	T_CHECK_MSG(s.pcp_refills == 5 && s.pcp_hits == 40 && s.alloc_pages == 40, "refills %llu hits %llu",
		    (unsigned long long)s.pcp_refills, (unsigned long long)s.pcp_hits);
	/* a broken pcp count would make the drains below loop for pages the
	 * lists do not hold: stop here */
	if (check(z, "after 40 allocations") != 0)
		goto out;
	/* the page state: one reference, an allocated head of order 0 */
	T_CHECK(p[3]->refcount == 1 && p[3]->flags == HP_PG_HEAD && p[3]->order == 0 && p[3]->mt == HP_MIGRATE_MOVABLE);
	/* 31 frees: below high; the 32nd reaches it: 8 drained (free_factor 0) */
	for (int i = 0; i < 31; i++)
		hp_buddy_pcp_free_inline(&r, p[i]);
	T_CHECK(info(z, 1).count == 31 && stats(z).pcp_drains == 0);
	T_CHECK(p[30]->flags == HP_PG_PCP && p[30]->refcount == 0 && p[30]->cpu == 1);
	hp_buddy_pcp_free_inline(&r, p[31]);
	T_CHECK_MSG(info(z, 1).count == 24 && stats(z).pcp_drains == 1, "count %d drains %llu", info(z, 1).count,
		    (unsigned long long)stats(z).pcp_drains);
	/* 8 more: at 32 again, the batch doubled to 16 */
	for (int i = 32; i < 40; i++)
		hp_buddy_pcp_free_inline(&r, p[i]);
	T_CHECK_MSG(info(z, 1).count == 16 && stats(z).pcp_drains == 2, "count %d", info(z, 1).count);
	/* an allocation halves free_factor (rmqueue_pcplist) */
	T_CHECK(info(z, 1).free_count == 2);
	p[0] = hp_buddy_pcp_alloc_inline(&r);
	T_CHECK(info(z, 1).free_count == 1 && info(z, 1).count == 15);
	/* LIFO: the page freed last comes back first */
	T_CHECK(p[0] == p[39]);
	hp_buddy_pcp_free_inline(&r, p[0]);
	s = stats(z);
	T_CHECK(s.alloc_pages == 0 && s.free_pages + s.pcp_pages == total);
	check(z, "after the drains");
out:
	hp_buddy_destroy(z);
}

/* the boot pageset (high 0, batch 1): every inline alloc refills one page,
 * every inline free drains it again */
static void boot_pageset(void)
{
	hp_buddy_zone_t *z = mk(8 * MB, 1, HP_BUDDY_PCP_OFF, 0, 0, -1);
	if (!z)
		return;
	hp_buddy_pcp_ref_t r = bind(z, 0, HP_GFP_KERNEL);
	hp_page_t *a = hp_buddy_pcp_alloc_inline(&r);
	T_CHECK(a != NULL && info(z, 0).count == 0 && hp_buddy_free_pages_count(z) == 2047);
	hp_buddy_pcp_free_inline(&r, a);
	T_CHECK(info(z, 0).count == 0 && hp_buddy_free_pages_count(z) == 2048);
	T_CHECK(stats(z).pcp_refills == 1 && stats(z).pcp_drains == 1);
	check(z, "boot pageset");
	hp_buddy_destroy(z);
}

/* below the low watermark the inline alloc returns what the out-of-line
 * allocator returns: the same number of pages, then NULL */
static void watermark(void)
{
	hp_buddy_zone_t *a = mk(8 * MB, 1, HP_BUDDY_PCP_CUSTOM, 64, 16, 1024);
	hp_buddy_zone_t *b = mk(8 * MB, 1, HP_BUDDY_PCP_CUSTOM, 64, 16, 1024);
	if (!a || !b)
		goto out;
	hp_buddy_pcp_ref_t r = bind(a, 0, HP_GFP_MOVABLE);
	static hp_page_t *pa[2048], *pb[2048];
	int na = 0, nb = 0;
	while (na < 2048 && (pa[na] = hp_buddy_pcp_alloc_inline(&r)) != NULL)
		na++;
	while (nb < 2048 && (pb[nb] = hp_buddy_alloc_pages_cpu(b, 0, HP_GFP_MOVABLE, 0)) != NULL)
		nb++;
	T_CHECK_MSG(na == nb && na > 0 && na < 2048, "inline %d pages, out of line %d", na, nb);
	T_CHECK(stats(a).fail_wmark > 0 && stats(a).alloc_pages == (unsigned long)na);
	T_CHECK(hp_buddy_free_pages_count(a) == hp_buddy_free_pages_count(b));
	for (int i = 0; i < na; i++)
		hp_buddy_pcp_free_inline(&r, pa[i]);
	T_CHECK(stats(a).alloc_pages == 0);
	check(a, "watermark");
out:
	if (a)
		hp_buddy_destroy(a);
	if (b)
		hp_buddy_destroy(b);
}

/* put_page_testzero(): a page with another reference only loses one */
static void references(void)
{
	hp_buddy_zone_t *z = mk(8 * MB, 1, HP_BUDDY_PCP_CUSTOM, 32, 8, -1);
	if (!z)
		return;
	hp_buddy_pcp_ref_t r = bind(z, 0, HP_GFP_MOVABLE);
	hp_page_t *p = hp_buddy_pcp_alloc_inline(&r);
	int c = info(z, 0).count;
	hp_buddy_get_page(p);
	hp_buddy_pcp_free_inline(&r, p);
	T_CHECK(p->refcount == 1 && p->flags == HP_PG_HEAD && info(z, 0).count == c && stats(z).alloc_pages == 1);
	hp_buddy_pcp_free_inline(&r, p);
	T_CHECK(p->refcount == 0 && p->flags == HP_PG_PCP && info(z, 0).count == c + 1 && stats(z).alloc_pages == 0);
	check(z, "references");
	hp_buddy_destroy(z);
}

/* ------------------------------------------------------------------ */
/* Seeded sequence: inline and out-of-line mixed vs out-of-line alone  */
/* ------------------------------------------------------------------ */

#define NCPU 2
#define MAXLIVE 4096

typedef struct live {
	hp_page_t *pa, *pb;        /* the page in zone A (mixed) and B (out of line) */
	unsigned order;
	int extra;                 /* an extra reference taken (hp_buddy_get_page) */
	uint64_t stamp;
} live_t;

static int same_state(hp_buddy_zone_t *a, hp_buddy_zone_t *b, unsigned long live_pages, const char *when)
{
	int bad = 0;
	for (int c = 0; c < NCPU; c++) {
		hp_buddy_pcp_info_t ia = info(a, c), ib = info(b, c);
		if (ia.count != ib.count || ia.high != ib.high || ia.free_count != ib.free_count) {
			T_CHECK_MSG(0, "%s: cpu %d: mixed count %d high %d free_factor %d, out of line %d %d %d", when, c,
				    ia.count, ia.high, ia.free_count, ib.count, ib.high, ib.free_count);
			bad = 1;
		}
	}
	hp_buddy_stats_t sa = stats(a), sb = stats(b);
	if (sa.free_pages != sb.free_pages || sa.pcp_refills != sb.pcp_refills || sa.pcp_drains != sb.pcp_drains ||
	    sa.alloc_pages != live_pages || sb.alloc_pages != live_pages) {
		T_CHECK_MSG(0, "%s: free %lu/%lu refills %llu/%llu drains %llu/%llu allocated %lu/%lu, live %lu", when,
			    sa.free_pages, sb.free_pages, (unsigned long long)sa.pcp_refills,
			    (unsigned long long)sb.pcp_refills, (unsigned long long)sa.pcp_drains,
			    (unsigned long long)sb.pcp_drains, sa.alloc_pages, sb.alloc_pages, live_pages);
		bad = 1;
	}
	if (sa.free_pages + sa.pcp_pages + sa.guard_pages + live_pages != sa.total_pages) {
		T_CHECK_MSG(0, "%s: pages not conserved", when);
		bad = 1;
	}
	return bad;
}

static void mixed_sequence(uint64_t seed, int ops, int high, int batch, long min_kb)
{
	/* 1024 pages: the growing quarters run the zone dry */
	hp_buddy_zone_t *a = mk(4 * MB, NCPU, HP_BUDDY_PCP_CUSTOM, high, batch, min_kb);
	hp_buddy_zone_t *b = mk(4 * MB, NCPU, HP_BUDDY_PCP_CUSTOM, high, batch, min_kb);
	static live_t live[MAXLIVE];
	hp_buddy_pcp_ref_t ref[NCPU][2];
	static const unsigned gfps[2] = { HP_GFP_MOVABLE, HP_GFP_KERNEL };
	hp_xoshiro_t rng;
	int n = 0, inl_alloc = 0, inl_free = 0, nulls = 0;
	unsigned long live_pages = 0;
	char when[96];

	if (!a || !b)
		goto out;
	for (int c = 0; c < NCPU; c++)
		for (int g = 0; g < 2; g++)
			ref[c][g] = bind(a, c, gfps[g]);
	hp_xoshiro_seed(&rng, seed);
	for (int op = 0; op < ops && !t_failures; op++) {
		int c = (int)hp_xoshiro_below(&rng, NCPU), g = (int)hp_xoshiro_below(&rng, 2);
		int inl = (int)hp_xoshiro_below(&rng, 2);
		unsigned roll = (unsigned)hp_xoshiro_below(&rng, 100);
		/* live memory swings: mostly allocating in the first and third
		 * quarters (to exhaustion), mostly freeing in the others */
		int grow = ((op * 4 / ops) & 1) == 0;
		snprintf(when, sizeof when, "seed %llu op %d", (unsigned long long)seed, op);
		if (roll < 3) {
			/* orders 1..3 and 5, out of line on both */
			unsigned order = (unsigned)hp_xoshiro_below(&rng, 4) + 1;
			if (order == 4)
				order = 5;
			if (n == MAXLIVE)
				continue;
			hp_page_t *pa = hp_buddy_alloc_pages_cpu(a, c, gfps[g], order);
			hp_page_t *pb = hp_buddy_alloc_pages_cpu(b, c, gfps[g], order);
			T_CHECK_MSG((pa == NULL) == (pb == NULL), "%s: order %u alloc differs", when, order);
			if (pa && pb) {
				T_CHECK_MSG(hp_page_to_pfn(a, pa) == hp_page_to_pfn(b, pb), "%s: order %u pfn differs", when,
					    order);
				live[n++] = (live_t){ .pa = pa, .pb = pb, .order = order };
				live_pages += 1ul << order;
			} else {
				if (pa)
					hp_buddy_free_pages_cpu(a, c, pa, order);
				if (pb)
					hp_buddy_free_pages_cpu(b, c, pb, order);
			}
		} else if (roll < 5 && n) {
			/* an extra reference on a live order-0 page */
			live_t *l = &live[hp_xoshiro_below(&rng, (uint64_t)n)];
			if (l->order == 0 && !l->extra) {
				hp_buddy_get_page(l->pa);
				hp_buddy_get_page(l->pb);
				l->extra = 1;
			}
		} else if (roll < 6) {
			/* drain_pages(cpu) on both (quiescent here) */
			hp_buddy_drain_cpu(a, c);
			hp_buddy_drain_cpu(b, c);
		} else if (n < MAXLIVE && (n == 0 || (grow ? roll < 85 : roll >= 70))) {
			hp_page_t *pa = inl ? hp_buddy_pcp_alloc_inline(&ref[c][g]) : hp_buddy_alloc_pages_cpu(a, c, gfps[g], 0);
			hp_page_t *pb = hp_buddy_alloc_pages_cpu(b, c, gfps[g], 0);
			inl_alloc += inl;
			T_CHECK_MSG((pa == NULL) == (pb == NULL), "%s: order-0 alloc (%s) differs", when,
				    inl ? "inline" : "out of line");
			if (!pa || !pb) {
				nulls++;
				if (pa)
					hp_buddy_free_pages_cpu(a, c, pa, 0);
				if (pb)
					hp_buddy_free_pages_cpu(b, c, pb, 0);
			} else {
				T_CHECK_MSG(hp_page_to_pfn(a, pa) == hp_page_to_pfn(b, pb), "%s: pfn %zu (%s) vs %zu", when,
					    hp_page_to_pfn(a, pa), inl ? "inline" : "out of line", hp_page_to_pfn(b, pb));
				T_CHECK_MSG(pa->refcount == 1 && pa->flags == HP_PG_HEAD && pa->order == 0 &&
						    pa->mt == pb->mt,
					    "%s: page state refcount %d flags %#x order %u mt %u/%u", when, pa->refcount,
					    pa->flags, pa->order, pa->mt, pb->mt);
				uint64_t stamp = seed * 1000003u + (uint64_t)op;
				/* no page handed out twice: its stamp survives until its free */
				memcpy(hp_page_address(a, pa), &stamp, sizeof stamp);
				live[n++] = (live_t){ .pa = pa, .pb = pb, .order = 0, .stamp = stamp };
				live_pages++;
			}
		} else if (n) {
			int i = (int)hp_xoshiro_below(&rng, (uint64_t)n);
			live_t l = live[i];
			if (l.order == 0) {
				uint64_t got;
				memcpy(&got, hp_page_address(a, l.pa), sizeof got);
				T_CHECK_MSG(got == l.stamp, "%s: page %zu overwritten while allocated", when,
					    hp_page_to_pfn(a, l.pa));
				if (inl)
					hp_buddy_pcp_free_inline(&ref[c][g], l.pa);
				else
					hp_buddy_free_pages_cpu(a, c, l.pa, 0);
				inl_free += inl;
				hp_buddy_free_pages_cpu(b, c, l.pb, 0);
			} else {
				hp_buddy_free_pages_cpu(a, c, l.pa, l.order);
				hp_buddy_free_pages_cpu(b, c, l.pb, l.order);
			}
			if (l.extra) {
				/* one reference dropped: still allocated */
				live[i].extra = 0;
				T_CHECK_MSG(l.pa->refcount == 1 && l.pa->flags == HP_PG_HEAD, "%s: extra reference lost", when);
			} else {
				live[i] = live[--n];
				live_pages -= 1ul << l.order;
			}
		}
		if (check(a, when) || check(b, when) || same_state(a, b, live_pages, when))
			break;
	}
	if (t_failures)
		goto out;   /* a broken zone: its drains may not terminate */
	/* the sequence reached what it is meant to exercise */
	hp_buddy_stats_t s = stats(a);
	T_CHECK_MSG(inl_alloc > ops / 8 && inl_free > ops / 8 && s.pcp_refills > 10 && s.pcp_drains > 10,
		    "seed %llu: %d inline allocs, %d inline frees, %llu refills, %llu drains",
		    (unsigned long long)seed, inl_alloc, inl_free, (unsigned long long)s.pcp_refills,
		    (unsigned long long)s.pcp_drains);
	T_CHECK_MSG(nulls > 0, "seed %llu: the zone never ran dry", (unsigned long long)seed);
	if (min_kb >= 0)
		T_CHECK_MSG(s.fail_wmark > 0, "seed %llu: the watermark never refused", (unsigned long long)seed);
	/* everything back: every page free again */
	while (n) {
		live_t l = live[--n];
		for (int k = 0; k <= l.extra; k++) {
			hp_buddy_free_pages_cpu(a, 0, l.pa, l.order);
			hp_buddy_free_pages_cpu(b, 0, l.pb, l.order);
		}
	}
	hp_buddy_drain_all(a);
	hp_buddy_drain_all(b);
	s = stats(a);
	T_CHECK_MSG(s.free_pages == s.total_pages && s.alloc_pages == 0, "free %lu of %lu at the end", s.free_pages,
		    s.total_pages);
	check(a, "the end");
out:
	if (a)
		hp_buddy_destroy(a);
	if (b)
		hp_buddy_destroy(b);
}

/* test_buddy_inline [--sequences] [SEED [OPS]]: --sequences runs the
 * seeded sequences alone (the mutant's second test: they catch it too) */
int main(int argc, char **argv)
{
	int only_seq = argc > 1 && !strcmp(argv[1], "--sequences");
	argv += only_seq;
	argc -= only_seq;
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x1d1e;
	int ops = argc > 2 ? atoi(argv[2]) : 12000;
	if (ops <= 0) {
		fprintf(stderr, "usage: test_buddy_inline [--sequences] [SEED [OPS>0]]\n");
		return 2;
	}
	/* each part runs only while everything before it passed: a broken
	 * pcp count can make a later drain look for pages forever */
	void (*const parts[])(void) = { bind_refusals, refill_and_drain, boot_pageset, watermark, references };
	for (size_t i = 0; !only_seq && i < sizeof parts / sizeof parts[0] && !t_failures; i++)
		parts[i]();
	/* no watermarks, the zone run empty; then with them (min 256 KiB:
	 * low at 80 pages), where the fast path must refuse */
	if (!t_failures)
		mixed_sequence(seed, ops, 32, 8, -1);
	if (!t_failures)
		mixed_sequence(seed + 1, ops, 96, 15, 256);
	return t_done("test_buddy_inline");
}
