/* buddy.c — the buddy page allocator of Linux 6.6 (mm/page_alloc.c, mm/vmstat.c) over an mmap'd arena. */
#include "buddy.h"
#include "hp_compiler.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

/* NR_PCP_LISTS of 6.6: NR_LOWORDER_PCP_LISTS (orders 0..3 x
 * MIGRATE_PCPTYPES) plus NR_PCP_THP, one list for pageblock_order shared by
 * every migratetype, present when the zone is created with `thp` (the
 * kernel's CONFIG_TRANSPARENT_HUGEPAGE). z->nr_pcp_lists is 12 or 13. */
#define NR_LOWORDER_PCP_LISTS (HP_MIGRATE_TYPES * (HP_PAGE_ALLOC_COSTLY_ORDER + 1))
#define NR_PCP_LISTS_MAX (NR_LOWORDER_PCP_LISTS + 1)
#define CACHELINE 64

/* 6.7: CONFIG_PCP_BATCH_SCALE_MAX (default 5) and
 * MIN_PERCPU_PAGELIST_HIGH_FRACTION (high_max = managed / 8 over the CPUs) */
#define PCP_BATCH_SCALE_MAX 5
#define MIN_PERCPU_PAGELIST_HIGH_FRACTION 8
/* pcp->flags (6.7): the previous free was of order 1..3 */
#define PCPF_PREV_FREE_HIGH_ORDER 1u

enum { WMARK_MIN, WMARK_LOW, WMARK_HIGH, NR_WMARK };

/* alloc_flags of the watermark check (mm/internal.h) */
enum {
	ALLOC_MIN_RESERVE = 1u << 0,  /* __GFP_HIGH */
	ALLOC_NON_BLOCK = 1u << 1,    /* no direct reclaim */
};

/* struct per_cpu_pages, 6.6 and 6.7: hp_buddy_pcp_t, public in buddy.h
 * for the inline order-0 fast path (hp_buddy_pcp_alloc_inline). */
typedef hp_buddy_pcp_t hp_pcp_t;
_Static_assert(sizeof(((hp_pcp_t *)0)->lists) / sizeof(hp_list_t) == NR_PCP_LISTS_MAX, "NR_PCP_LISTS");

typedef struct free_area {        /* struct free_area */
	hp_list_t free_list[HP_MIGRATE_TYPES];
	unsigned long nr_free;
} free_area_t;

struct hp_buddy_zone {
	hp_buddy_zone_head_t h;       /* must stay first (buddy.h inlines) */
	/* read-mostly */
	unsigned long wmark[NR_WMARK];/* _watermark[] (relaxed atomics) */
	int no_wmarks;                /* min_free_kbytes < 0 */
	unsigned fast_block;          /* non-zero sends every request down the slow path */
	int ncpus;
	int gen67;                    /* HP_BUDDY_PCP_GEN_6_7: pcp->high auto-tuning */
	int thp;                      /* CONFIG_TRANSPARENT_HUGEPAGE: order 9 on the pcp */
	int nr_pcp_lists;             /* NR_PCP_LISTS: 12, 13 with thp */
	int below_high;               /* 6.7 ZONE_BELOW_HIGH (relaxed atomic) */
	unsigned debug;
	unsigned guard_minorder;
	hp_pcp_t *pcp;
	uint8_t *pageblock_mt;        /* pageblock_flags: one migratetype each */
	size_t nr_pageblocks;
	hp_buddy_pcp_mode_t pcp_mode;
	long min_free_kbytes;
	hp_buddy_report_fn report;
	void *report_arg;
	char name[16];
	void *arena_map;              /* what to munmap */
	size_t arena_map_len, memmap_len;

	/* NR_FREE_PAGES: read without the lock by every allocation's watermark
	 * check, written under it; its own line so list updates don't bounce it */
	_Alignas(CACHELINE) long free_pages;
	/* the order-0 fast path's watermark: free_pages must exceed it; read
	 * with free_pages by every allocation, written rarely (wmark changes,
	 * 6.7's ZONE_BELOW_HIGH), so beside it: the inline fast path reaches
	 * both through one pointer (hp_buddy_pcp_ref_t.free_wm) */
	long fast_mark;

	/* everything below under zone->lock */
	_Alignas(CACHELINE) pthread_spinlock_t lock;
	uint64_t lock_taken;          /* zone->lock acquisitions (observability) */
	free_area_t free_area[HP_NR_ORDERS];
	unsigned long guard_pages;
	uint64_t zone_allocs, zone_frees; /* straight to/from the buddy lists */
	uint64_t refills, drains, fallbacks, block_steals;

	/* rare events, any thread (relaxed atomics) */
	_Alignas(CACHELINE) uint64_t fail_order, fail_wmark, fail_nomem;
	uint64_t contended, poison_errors, bad_frees;
};

/* fallbacks[] of 6.6: where each migratetype steals from, in order */
static const int fallbacks[HP_MIGRATE_TYPES][HP_MIGRATE_TYPES - 1] = {
	[HP_MIGRATE_UNMOVABLE] = { HP_MIGRATE_RECLAIMABLE, HP_MIGRATE_MOVABLE },
	[HP_MIGRATE_MOVABLE] = { HP_MIGRATE_RECLAIMABLE, HP_MIGRATE_UNMOVABLE },
	[HP_MIGRATE_RECLAIMABLE] = { HP_MIGRATE_UNMOVABLE, HP_MIGRATE_MOVABLE },
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

#define RELAXED __ATOMIC_RELAXED
#define ld(p) __atomic_load_n((p), RELAXED)
#define st(p, v) __atomic_store_n((p), (v), RELAXED)
#define inc(p) __atomic_fetch_add((p), 1, RELAXED)

static inline hp_page_t *lru_page(hp_list_t *l) { return hp_list_entry(l, hp_page_t, lru); }

/* page->flags is read by other CPUs looking for a free buddy while the
 * page's owner changes it without the zone lock (PageBuddy is read the same
 * way in the kernel), hence relaxed atomics: plain moves on x86. */
static inline uint32_t pflags(const hp_page_t *p) { return ld(&p->flags); }
static inline void set_pflags(hp_page_t *p, uint32_t f) { st(&p->flags, f); }

static inline size_t pfn_of(const hp_buddy_zone_t *z, const hp_page_t *p) { return (size_t)(p - z->h.mem_map); }
static inline hp_page_t *page_of(const hp_buddy_zone_t *z, size_t pfn) { return z->h.mem_map + pfn; }
static inline uint8_t *addr_of(const hp_buddy_zone_t *z, size_t pfn) { return z->h.base + (pfn << HP_PAGE_SHIFT); }

static inline int gfp_migratetype(unsigned gfp)
{
	if (gfp & HP_GFP_MOVABLE)
		return HP_MIGRATE_MOVABLE;
	if (gfp & HP_GFP_RECLAIMABLE)
		return HP_MIGRATE_RECLAIMABLE;
	return HP_MIGRATE_UNMOVABLE;
}

static inline int get_pageblock_mt(const hp_buddy_zone_t *z, size_t pfn)
{
	return ld(&z->pageblock_mt[pfn >> HP_PAGEBLOCK_ORDER]);
}
static inline void set_pageblock_mt(hp_buddy_zone_t *z, size_t pfn, int mt)
{
	st(&z->pageblock_mt[pfn >> HP_PAGEBLOCK_ORDER], (uint8_t)mt);
}

/* order_to_pindex() / pindex_to_order() of 6.6: the THP list is the one
 * after the low-order lists, whatever the migratetype */
static inline int order_to_pindex(int mt, unsigned order)
{
	if (order > HP_PAGE_ALLOC_COSTLY_ORDER)
		return NR_LOWORDER_PCP_LISTS;
	return (int)(HP_MIGRATE_TYPES * order) + mt;
}
static inline unsigned pindex_to_order(int pindex)
{
	if (pindex >= NR_LOWORDER_PCP_LISTS)
		return HP_PAGEBLOCK_ORDER;
	return (unsigned)(pindex / HP_MIGRATE_TYPES);
}
/* pcp_allowed_order() of 6.6: 0..PAGE_ALLOC_COSTLY_ORDER, and
 * pageblock_order (HPAGE_PMD_ORDER) with THP */
static inline int pcp_allowed_order(const hp_buddy_zone_t *z, unsigned order)
{
	return order <= HP_PAGE_ALLOC_COSTLY_ORDER || (order == HP_PAGEBLOCK_ORDER && z->thp);
}

static inline void zone_lock(hp_buddy_zone_t *z)
{
	pthread_spin_lock(&z->lock);
	z->lock_taken++;
}
/* observers (stats, buddyinfo, check): not counted in lock_taken */
static inline void zone_lock_quiet(hp_buddy_zone_t *z) { pthread_spin_lock(&z->lock); }
static inline void zone_unlock(hp_buddy_zone_t *z) { pthread_spin_unlock(&z->lock); }
static inline void mod_free_pages(hp_buddy_zone_t *z, long d) { st(&z->free_pages, ld(&z->free_pages) + d); }

static inline int pcp_trylock(hp_pcp_t *p)
{
	return __atomic_load_n(&p->lock, __ATOMIC_RELAXED) == 0 &&
	       __atomic_exchange_n(&p->lock, 1, __ATOMIC_ACQUIRE) == 0;
}
static void pcp_lock(hp_pcp_t *p)
{
	for (unsigned spins = 0; !pcp_trylock(p); spins++)
		if (spins > 64)
			sched_yield();
}
static inline void pcp_unlock(hp_pcp_t *p) { __atomic_store_n(&p->lock, 0, __ATOMIC_RELEASE); }

static inline hp_pcp_t *pcp_of(hp_buddy_zone_t *z, int cpu)
{
	unsigned c = (unsigned)cpu;
	if (unlikely(c >= (unsigned)z->ncpus))
		c %= (unsigned)z->ncpus;
	return &z->pcp[c];
}

static void report(hp_buddy_zone_t *z, const hp_buddy_report_t *r)
{
	if (z->report) {
		z->report(z->report_arg, r);
		return;
	}
	if (r->kind == HP_BUDDY_ERR_BAD_FREE)
		fprintf(stderr, "hp_buddy: %s: pfn %zu (%p) order %u\n", r->msg, r->pfn, r->addr, r->order);
	else
		fprintf(stderr, "hp_buddy: %s: pfn %zu (%p) byte %zu bit %d: expected 0x%02x found 0x%02x (%zu bytes affected)\n",
			r->msg, r->pfn, r->addr, r->byte, r->bit, r->expected, r->found, r->bad_bytes);
}

static void bad_free(hp_buddy_zone_t *z, size_t pfn, void *addr, unsigned order, const char *msg)
{
	hp_buddy_report_t r = {
		.kind = HP_BUDDY_ERR_BAD_FREE, .pfn = pfn, .addr = addr, .byte = 0, .bit = -1,
		.order = order, .msg = msg,
	};
	inc(&z->bad_frees);
	report(z, &r);
}

/* ------------------------------------------------------------------ */
/* Debug: poisoning (mm/page_poison.c) and guard pages                 */
/* ------------------------------------------------------------------ */

static void poison_pages(hp_buddy_zone_t *z, size_t pfn, unsigned order)
{
	memset(addr_of(z, pfn), HP_PAGE_POISON, HP_PAGE_SIZE << order);
}

/* check_poison_mem(): per page, the first and last byte that lost the
 * poison; one byte off by one bit is a single bit error (bad RAM), anything
 * else corruption (a stray write after free). */
static void check_poison(hp_buddy_zone_t *z, size_t pfn, unsigned order)
{
	for (size_t i = 0; i < ((size_t)1 << order); i++) {
		const uint8_t *m = addr_of(z, pfn + i);
		size_t first = HP_PAGE_SIZE, last = 0;
		for (size_t b = 0; b < HP_PAGE_SIZE; b += 8) {
			uint64_t w;
			memcpy(&w, m + b, 8);
			if (likely(w == 0xaaaaaaaaaaaaaaaaULL))
				continue;
			for (size_t k = b; k < b + 8; k++)
				if (m[k] != HP_PAGE_POISON) {
					if (first == HP_PAGE_SIZE)
						first = k;
					last = k;
				}
		}
		if (first == HP_PAGE_SIZE)
			continue;
		uint8_t diff = (uint8_t)(m[first] ^ HP_PAGE_POISON);
		int single = first == last && (diff & (diff - 1)) == 0;
		hp_buddy_report_t r = {
			.kind = single ? HP_BUDDY_ERR_SINGLE_BIT : HP_BUDDY_ERR_CORRUPTION,
			.pfn = pfn + i, .addr = (void *)m, .byte = first,
			.bit = single ? __builtin_ctz(diff) : -1,
			.expected = HP_PAGE_POISON, .found = m[first],
			.bad_bytes = last - first + 1, .order = order,
			.msg = single ? "pagealloc: single bit error" : "pagealloc: memory corruption",
		};
		inc(&z->poison_errors);
		report(z, &r);
	}
}

/* set_page_guard(): below guard_minorder a split-off buddy is not put on
 * a free list but made inaccessible, so that overruns of its neighbour
 * fault. It stays out of NR_FREE_PAGES until its buddy comes back. */
static int set_page_guard(hp_buddy_zone_t *z, size_t pfn, unsigned order, int mt)
{
	if (order >= z->guard_minorder)
		return 0;
	hp_page_t *p = page_of(z, pfn);
	p->order = (uint8_t)order;
	p->mt = (uint8_t)mt;
	set_pflags(p, HP_PG_GUARD);
	mprotect(addr_of(z, pfn), HP_PAGE_SIZE << order, PROT_NONE);
	z->guard_pages += 1UL << order;
	mod_free_pages(z, -(1L << order));
	return 1;
}

static void clear_page_guard(hp_buddy_zone_t *z, size_t pfn, unsigned order)
{
	set_pflags(page_of(z, pfn), 0);
	mprotect(addr_of(z, pfn), HP_PAGE_SIZE << order, PROT_READ | PROT_WRITE);
	z->guard_pages -= 1UL << order;
	mod_free_pages(z, 1L << order);
}

/* ------------------------------------------------------------------ */
/* Free lists (zone->lock held)                                        */
/* ------------------------------------------------------------------ */

static inline void add_to_free_list(hp_buddy_zone_t *z, hp_page_t *p, unsigned order, int mt, int tail)
{
	free_area_t *a = &z->free_area[order];
	p->order = (uint8_t)order;
	p->mt = (uint8_t)mt;
	set_pflags(p, HP_PG_BUDDY);
	if (tail)
		hp_list_add_tail(&p->lru, &a->free_list[mt]);
	else
		hp_list_add(&p->lru, &a->free_list[mt]);
	st(&a->nr_free, a->nr_free + 1);
}

static inline void del_page_from_free_list(hp_buddy_zone_t *z, hp_page_t *p, unsigned order)
{
	hp_list_del(&p->lru);
	set_pflags(p, 0);
	st(&z->free_area[order].nr_free, z->free_area[order].nr_free - 1);
}

static inline void move_to_free_list(hp_buddy_zone_t *z, hp_page_t *p, unsigned order, int mt)
{
	/* list_move_tail(), as the kernel: the page stays free, no poisoning */
	hp_list_move_tail(&p->lru, &z->free_area[order].free_list[mt]);
	p->mt = (uint8_t)mt;
}

/* page_is_buddy(): the buddy is free (or a guard) with exactly this order */
static inline int page_is_buddy(const hp_buddy_zone_t *z, size_t buddy_pfn, unsigned order)
{
	if (buddy_pfn >= z->h.nr_pages)
		return 0;
	const hp_page_t *b = page_of(z, buddy_pfn);
	return (pflags(b) & (HP_PG_BUDDY | HP_PG_GUARD)) && b->order == order;
}

/* buddy_merge_likely(): if the next-order buddy is free, this block will
 * probably merge soon, so queue it at the tail and keep it unallocated. */
static inline int buddy_merge_likely(const hp_buddy_zone_t *z, size_t pfn, size_t buddy_pfn, unsigned order)
{
	if (order >= HP_MAX_ORDER - 1)
		return 0;
	size_t higher = pfn & buddy_pfn;
	return page_is_buddy(z, higher ^ ((size_t)1 << (order + 1)), order + 1);
}

/* __free_one_page(): merge with free buddies as long as there is one */
static void free_one_page_locked(hp_buddy_zone_t *z, size_t pfn, unsigned order, int mt)
{
	mod_free_pages(z, 1L << order);
	size_t buddy_pfn = 0;
	int merged = 0;
	while (order < HP_MAX_ORDER) {
		buddy_pfn = pfn ^ ((size_t)1 << order);
		if (!page_is_buddy(z, buddy_pfn, order))
			break;
		hp_page_t *b = page_of(z, buddy_pfn);
		if (pflags(b) & HP_PG_GUARD)
			clear_page_guard(z, buddy_pfn, order);
		else
			del_page_from_free_list(z, b, order);
		pfn &= buddy_pfn;
		order++;
		merged = 1;
	}
	(void)merged;
	buddy_pfn = pfn ^ ((size_t)1 << order);
	int to_tail = buddy_merge_likely(z, pfn, buddy_pfn, order);
	add_to_free_list(z, page_of(z, pfn), order, mt, to_tail);
}

/* expand(): split a block of order high down to low, freeing the halves */
static inline void expand(hp_buddy_zone_t *z, size_t pfn, unsigned low, unsigned high, int mt)
{
	while (high > low) {
		high--;
		size_t half = pfn + ((size_t)1 << high);
		if (unlikely(z->guard_minorder) && set_page_guard(z, half, high, mt))
			continue;
		add_to_free_list(z, page_of(z, half), high, mt, 0);
	}
}

/* __rmqueue_smallest(): the smallest block of this migratetype that fits */
static inline hp_page_t *rmqueue_smallest(hp_buddy_zone_t *z, unsigned order, int mt)
{
	for (unsigned o = order; o <= HP_MAX_ORDER; o++) {
		hp_list_t *l = &z->free_area[o].free_list[mt];
		if (hp_list_empty(l))
			continue;
		hp_page_t *p = lru_page(l->next);
		del_page_from_free_list(z, p, o);
		expand(z, pfn_of(z, p), order, o, mt);
		p->mt = (uint8_t)mt;
		return p;
	}
	return NULL;
}

/* can_steal_fallback(): whole pageblocks may be claimed for big requests
 * and for unmovable/reclaimable ones (they fragment less if clustered) */
static inline int can_steal_fallback(unsigned order, int start_mt)
{
	if (order >= HP_PAGEBLOCK_ORDER)
		return 1;
	return order >= HP_PAGEBLOCK_ORDER / 2 || start_mt == HP_MIGRATE_RECLAIMABLE ||
	       start_mt == HP_MIGRATE_UNMOVABLE;
}

static int find_suitable_fallback(hp_buddy_zone_t *z, unsigned order, int mt, int *can_steal)
{
	free_area_t *a = &z->free_area[order];
	if (!a->nr_free)
		return -1;
	*can_steal = 0;
	for (int i = 0; i < HP_MIGRATE_TYPES - 1; i++) {
		int fmt = fallbacks[mt][i];
		if (hp_list_empty(&a->free_list[fmt]))
			continue;
		if (can_steal_fallback(order, mt))
			*can_steal = 1;
		return fmt;
	}
	return -1;
}

/* move_freepages_block(): move every free block of the pageblock to mt's
 * lists; count the pages of movable allocations in it (the kernel counts
 * PageLRU/__PageMovable pages; here an allocation's requested type tells). */
static unsigned long move_freepages_block(hp_buddy_zone_t *z, size_t pfn, int mt, unsigned long *movable)
{
	size_t start = pfn & ~(HP_PAGEBLOCK_PAGES - 1);
	size_t end = start + HP_PAGEBLOCK_PAGES - 1;
	unsigned long moved = 0;
	*movable = 0;
	if (end >= z->h.nr_pages)
		return 0;
	for (size_t p = start; p <= end;) {
		hp_page_t *pg = page_of(z, p);
		uint32_t f = pflags(pg);
		if (f & HP_PG_BUDDY) {
			move_to_free_list(z, pg, pg->order, mt);
			moved += 1UL << pg->order;
			p += (size_t)1 << pg->order;
		} else if (f & (HP_PG_HEAD | HP_PG_PCP | HP_PG_GUARD)) {
			/* not the zone's: its owner may be freeing it right now
			 * (the kernel reads PageLRU just as racily); an allocation
			 * heading here lies inside this pageblock, a larger one
			 * would cover it and leave nothing to steal */
			unsigned o = ld(&pg->order);
			if ((f & HP_PG_HEAD) && ld(&pg->mt) == HP_MIGRATE_MOVABLE)
				*movable += 1UL << o;
			p += (size_t)1 << o;
		} else {
			p++;
		}
	}
	return moved;
}

/* steal_suitable_fallback() */
static void steal_suitable_fallback(hp_buddy_zone_t *z, hp_page_t *page, int start_type, int whole_block)
{
	size_t pfn = pfn_of(z, page);
	unsigned order = page->order;
	int old_type = get_pageblock_mt(z, pfn);

	if (order >= HP_PAGEBLOCK_ORDER) {
		/* change_pageblock_range(): the block is ours entirely */
		for (size_t b = 0; b < ((size_t)1 << (order - HP_PAGEBLOCK_ORDER)); b++)
			set_pageblock_mt(z, pfn + (b << HP_PAGEBLOCK_ORDER), start_type);
		z->block_steals += (size_t)1 << (order - HP_PAGEBLOCK_ORDER);
		goto single_page;
	}
	if (!whole_block)
		goto single_page;

	unsigned long movable;
	unsigned long free = move_freepages_block(z, pfn, start_type, &movable);
	if (!free)
		goto single_page;

	unsigned long alike;
	if (start_type == HP_MIGRATE_MOVABLE)
		alike = movable;
	else if (old_type == HP_MIGRATE_MOVABLE)
		alike = HP_PAGEBLOCK_PAGES - (free + movable);
	else
		alike = 0;
	/* claim the block when at least half of it is free or alike */
	if (free + alike >= (1UL << (HP_PAGEBLOCK_ORDER - 1))) {
		set_pageblock_mt(z, pfn, start_type);
		z->block_steals++;
	}
	return;

single_page:
	move_to_free_list(z, page, order, start_type);
}

/* __rmqueue_fallback(): steal the largest block of a fallback type (the
 * pageblock with the most free pages, roughly), except that a movable
 * request that may not take the whole block takes the smallest instead */
static int rmqueue_fallback(hp_buddy_zone_t *z, unsigned order, int start_mt)
{
	int can_steal = 0, fmt = -1;
	int co;
	for (co = HP_MAX_ORDER; co >= (int)order; co--) {
		fmt = find_suitable_fallback(z, (unsigned)co, start_mt, &can_steal);
		if (fmt == -1)
			continue;
		if (!can_steal && start_mt == HP_MIGRATE_MOVABLE && co > (int)order)
			goto find_smallest;
		goto do_steal;
	}
	return 0;

find_smallest:
	for (co = (int)order; co <= HP_MAX_ORDER; co++) {
		fmt = find_suitable_fallback(z, (unsigned)co, start_mt, &can_steal);
		if (fmt != -1)
			break;
	}
do_steal:;
	hp_page_t *p = lru_page(z->free_area[co].free_list[fmt].next);
	steal_suitable_fallback(z, p, start_mt, can_steal);
	z->fallbacks++;
	return 1;
}

/* __rmqueue() without CMA: own type first, then steal and retry */
static hp_page_t *rmqueue_locked(hp_buddy_zone_t *z, unsigned order, int mt)
{
	for (;;) {
		hp_page_t *p = rmqueue_smallest(z, order, mt);
		if (likely(p))
			return p;
		if (!rmqueue_fallback(z, order, mt))
			return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Watermarks (__setup_per_zone_wmarks, __zone_watermark_ok)           */
/* ------------------------------------------------------------------ */

static unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0, b = 1UL << (sizeof(long) * 8 - 2);
	while (b > x)
		b >>= 2;
	while (b) {
		if (x >= r + b) {
			x -= r + b;
			r = (r >> 1) + b;
		} else {
			r >>= 1;
		}
		b >>= 2;
	}
	return r;
}

/* calculate_min_free_kbytes() with this zone as all of lowmem */
static long default_min_free_kbytes(size_t nr_pages)
{
	unsigned long kb = int_sqrt((unsigned long)nr_pages * (HP_PAGE_SIZE >> 10) * 16);
	if (kb < 128)
		kb = 128;
	if (kb > 262144)
		kb = 262144;
	return (long)kb;
}

static void setup_wmarks(hp_buddy_zone_t *z, long min_free_kbytes)
{
	unsigned long managed = z->h.nr_pages;
	unsigned long min = min_free_kbytes > 0 ? (unsigned long)min_free_kbytes >> (HP_PAGE_SHIFT - 10) : 0;
	/* one zone: its share of pages_min is all of it */
	/* watermark_scale_factor 10: mult_frac(managed, 10, 10000) */
	unsigned long scale = (managed / 10000) * 10 + ((managed % 10000) * 10) / 10000;
	unsigned long gap = min >> 2 > scale ? min >> 2 : scale;
	if (min_free_kbytes < 0)
		gap = 0;   /* no reserve at all (not a kernel setting) */
	st(&z->wmark[WMARK_MIN], min);
	st(&z->wmark[WMARK_LOW], min + gap);
	st(&z->wmark[WMARK_HIGH], min + 2 * gap);
	/* zone_watermark_fast()'s order-0 test against low, as one compare
	 * (6.7 without ZONE_BELOW_HIGH: against high, see update_fast_mark) */
	st(&z->fast_mark, z->no_wmarks ? LONG_MIN : (long)(z->gen67 && !ld(&z->below_high) ? min + 2 * gap : min + gap));
}

/* __zone_watermark_ok() without lowmem_reserve and highatomic reserves */
static int watermark_ok(hp_buddy_zone_t *z, unsigned order, unsigned long mark, unsigned alloc_flags, long free_pages)
{
	long min = (long)mark;
	free_pages -= (1L << order) - 1;
	if (alloc_flags & ALLOC_MIN_RESERVE) {
		min -= min / 2;
		if (alloc_flags & ALLOC_NON_BLOCK)
			min -= min / 4;
	}
	if (free_pages <= min)
		return 0;
	if (!order)
		return 1;
	/* a high-order request needs a free block of at least its order (of
	 * any type: all three here are MIGRATE_PCPTYPES); nr_free is read
	 * without the lock, as the kernel does */
	for (unsigned o = order; o <= HP_MAX_ORDER; o++)
		if (ld(&z->free_area[o].nr_free))
			return 1;
	return 0;
}

static inline unsigned gfp_alloc_flags(unsigned gfp)
{
	unsigned f = 0;
	if (gfp & HP_GFP_HIGH)
		f |= ALLOC_MIN_RESERVE;
	if (gfp & HP_GFP_NOWAIT)
		f |= ALLOC_NON_BLOCK;
	return f;
}

/* get_page_from_freelist()'s zone_watermark_fast() against low, then the
 * slow path's check against min with the request's reserve rights; there is
 * no reclaim to wait for, so below both the allocation fails. */
static inline int wmark_allows(hp_buddy_zone_t *z, unsigned order, unsigned gfp)
{
	if (z->no_wmarks || (gfp & HP_GFP_MEMALLOC))
		return 1;
	long free = ld(&z->free_pages);
	unsigned long low = ld(&z->wmark[WMARK_LOW]);
	if (likely(!order) && free > (long)low)
		return 1;
	if (watermark_ok(z, order, low, 0, free))
		return 1;
	return watermark_ok(z, order, ld(&z->wmark[WMARK_MIN]), gfp_alloc_flags(gfp), free);
}

/* ------------------------------------------------------------------ */
/* Per-CPU page lists                                                  */
/* ------------------------------------------------------------------ */

/* zone_batchsize(): ~0.1% of the zone or 1 MiB, /4, then 2^n - 1 */
static int zone_batchsize(size_t managed)
{
	long batch = (long)(managed >> 10);
	if (batch > (long)((1UL << 20) / HP_PAGE_SIZE))
		batch = (long)((1UL << 20) / HP_PAGE_SIZE);
	batch /= 4;
	if (batch < 1)
		batch = 1;
	long x = batch + batch / 2, p = 1;
	while (p * 2 <= x)
		p *= 2;
	batch = p - 1;
	return batch < 1 ? 1 : (int)batch;  /* max(1, zone_batchsize()) */
}

/* zone_highsize(): the low watermark (fraction 0) or managed / fraction,
 * split over the CPUs, at least 4 batches. 6.6 uses fraction 0 for high;
 * 6.7 uses it for high_min and MIN_PERCPU_PAGELIST_HIGH_FRACTION for
 * high_max (zone_set_pageset_high_and_batch()). */
static int zone_highsize(hp_buddy_zone_t *z, int batch, int fraction)
{
	unsigned long total = fraction ? z->h.nr_pages / (unsigned long)fraction : ld(&z->wmark[WMARK_LOW]);
	long high = (long)(total / (unsigned long)z->ncpus);
	if (high < (long)batch << 2)
		high = (long)batch << 2;
	if (high > INT_MAX / 2)
		high = INT_MAX / 2;
	return (int)high;
}

/* high/batch by the zone's mode; *high_max is 6.7's (== *high for 6.6, the
 * boot pageset and a custom high without a range) */
static void pcp_setup(hp_buddy_zone_t *z, int *high, int *high_max, int *batch)
{
	switch (z->pcp_mode) {
	case HP_BUDDY_PCP_OFF:
		*high = *high_max = 0;
		*batch = 1;
		break;
	case HP_BUDDY_PCP_CUSTOM:
		if (!z->gen67 || *high_max < *high)
			*high_max = *high;
		break;
	default:
		*batch = zone_batchsize(z->h.nr_pages);
		*high = zone_highsize(z, *batch, 0);
		*high_max = z->gen67 ? zone_highsize(z, *batch, MIN_PERCPU_PAGELIST_HIGH_FRACTION) : *high;
		break;
	}
}

/* pageset_update(): quiescent (caller holds the pcp lock or is its user) */
static void pcp_set(hp_pcp_t *pcp, int high, int high_max, int batch)
{
	pcp->high = pcp->high_min = high;
	pcp->high_max = high_max;
	pcp->batch = batch;
	pcp->free_factor = 0;
	pcp->alloc_factor = 0;
	pcp->flags = 0;
}

/* The order-0 fast path's watermark, one compare: low; in 6.7 high while
 * ZONE_BELOW_HIGH is clear, so the allocation that crosses high takes the
 * slow path, which sets the bit as get_page_from_freelist() does. */
static void update_fast_mark(hp_buddy_zone_t *z)
{
	long m = (long)ld(&z->wmark[WMARK_LOW]);
	if (z->gen67 && !ld(&z->below_high))
		m = (long)ld(&z->wmark[WMARK_HIGH]);
	st(&z->fast_mark, z->no_wmarks ? LONG_MIN : m);
}

/* rmqueue_bulk(): `count` blocks of `order` onto a pcp list, one lock hold */
static int rmqueue_bulk(hp_buddy_zone_t *z, int cpu, unsigned order, int count, hp_list_t *list, int mt)
{
	int i;
	zone_lock(z);
	for (i = 0; i < count; i++) {
		hp_page_t *p = rmqueue_locked(z, order, mt);
		if (unlikely(!p))
			break;
		set_pflags(p, HP_PG_PCP);
		p->order = (uint8_t)order;
		p->cpu = (uint16_t)cpu;
		/* the list keeps the order the pages came off the free lists */
		hp_list_add_tail(&p->lru, list);
	}
	mod_free_pages(z, -((long)i << order));
	z->refills++;
	zone_unlock(z);
	return i;
}

/* free_pcppages_bulk(): `count` pages back to the buddy lists, emptying
 * lists round-robin from the one just freed to, oldest pages first */
static void free_pcppages_bulk(hp_buddy_zone_t *z, int count, hp_pcp_t *pcp, int pindex)
{
	if (count > pcp->count)
		count = pcp->count;
	if (count <= 0)
		return;
	pindex--;
	zone_lock(z);
	z->drains++;
	while (count > 0) {
		hp_list_t *list;
		do {
			if (++pindex > z->nr_pcp_lists - 1)
				pindex = 0;
			list = &pcp->lists[pindex];
		} while (hp_list_empty(list));
		unsigned order = pindex_to_order(pindex);
		int nr = 1 << order;
		do {
			hp_page_t *p = lru_page(list->prev);
			int mt = p->mt;
			hp_list_del(&p->lru);
			set_pflags(p, 0);
			count -= nr;
			pcp->count -= nr;
			free_one_page_locked(z, pfn_of(z, p), order, mt);
		} while (count > 0 && !hp_list_empty(list));
	}
	zone_unlock(z);
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* nr_pcp_alloc() of 6.7: the refill batch, growing pcp->high by a batch
 * per refill (unless the zone is below its high watermark) and doubling the
 * order-0 batch (alloc_factor) while allocations run without frees */
static int nr_pcp_alloc(hp_buddy_zone_t *z, hp_pcp_t *pcp, unsigned order)
{
	int base = pcp->batch, batch;
	int high = pcp->high = clampi(pcp->high, pcp->high_min, pcp->high_max);
	if (unlikely(high < base))
		return 1;
	batch = order ? base : base << pcp->alloc_factor;
#ifndef HP_BUDDY_MUTATE_NO_RAISE
	if (pcp->high_min != pcp->high_max && !ld(&z->below_high)) {
		high = high + batch < pcp->high_max ? high + batch : pcp->high_max;
		pcp->high = high;
	}
#else
	(void)z;      /* mutant (tests/meson.build): high never rises */
#endif
	if (!order) {
		int max_nr = high - pcp->count - base;
		if (max_nr < base)
			max_nr = base;
		if (batch <= max_nr && pcp->alloc_factor < PCP_BATCH_SCALE_MAX)
			pcp->alloc_factor++;
		if (batch > max_nr)
			batch = max_nr;
	}
	if (batch > 1) {
		batch >>= order;
		if (batch < 2)
			batch = 2;
	}
	return batch;
}

/* __rmqueue_pcplist(): pop the list, refilling it in a batch when empty
 * (6.6: batch >> order, at least 2; 6.7: nr_pcp_alloc()) */
static inline hp_page_t *rmqueue_pcplist(hp_buddy_zone_t *z, hp_pcp_t *pcp, int cpu, unsigned order, int mt)
{
	hp_list_t *list = &pcp->lists[order_to_pindex(mt, order)];
	pcp->free_factor >>= 1;
	if (unlikely(hp_list_empty(list))) {
		int batch;
		if (z->gen67) {
			batch = nr_pcp_alloc(z, pcp, order);
		} else {
			batch = pcp->batch;
			if (batch > 1) {
				batch >>= order;
				if (batch < 2)
					batch = 2;
			}
		}
		pcp->count += rmqueue_bulk(z, cpu, order, batch, list, mt) << order;
		if (unlikely(hp_list_empty(list)))
			return NULL;
	}
	hp_page_t *p = lru_page(list->next);
	hp_list_del(&p->lru);
	pcp->count -= 1 << order;
	pcp->hits++;
	return p;
}

/* nr_pcp_free() of 6.6: free a batch, doubling while frees run without allocs */
static int nr_pcp_free(hp_pcp_t *pcp, int high, int free_high)
{
	int batch = pcp->batch;
	if (unlikely(free_high))
		return pcp->count;
	if (unlikely(high < batch))
		return 1;
	int min_nr = batch, max_nr = high - batch;
	batch <<= pcp->free_factor;
	if (batch < max_nr)
		pcp->free_factor++;
	return batch < min_nr ? min_nr : batch > max_nr ? max_nr : batch;
}

/* 6.6's tail of free_unref_page_commit(): the page is on its list */
static __attribute__((noinline)) void pcp_drain_high(hp_buddy_zone_t *z, hp_pcp_t *pcp, int high, int free_high,
						     int pindex)
{
	free_pcppages_bulk(z, nr_pcp_free(pcp, high, free_high), pcp, pindex);
}

/* nr_pcp_high() of 6.7 (no ZONE_RECLAIM_ACTIVE: nothing reclaims here):
 * keeps high in [high_min, high_max]; a free_high drain lowers it; below
 * the high watermark it shrinks by the pages being freed; a free that
 * reaches high raises it to hold what is being freed plus a batch. */
static int nr_pcp_high(hp_buddy_zone_t *z, hp_pcp_t *pcp, int batch, int free_high)
{
	int hmin = pcp->high_min, hmax = pcp->high_max;
	int high = pcp->high = clampi(pcp->high, hmin, hmax);
	if (unlikely(!high))
		return 0;
	if (unlikely(free_high)) {
		int h = high - (batch << PCP_BATCH_SCALE_MAX);
		pcp->high = h > hmin ? h : hmin;
		return 0;
	}
	if (hmin == hmax)
		return high;
	if (ld(&z->below_high)) {
		int fc = pcp->free_factor > batch ? pcp->free_factor : batch;
		int h = high - fc;
		pcp->high = h > hmin ? h : hmin;
		high = pcp->count > hmin ? pcp->count : hmin;
	} else if (pcp->count >= high) {
		int need = pcp->free_factor + batch;
#ifndef HP_BUDDY_MUTATE_NO_RAISE
		if (pcp->high < need)
			pcp->high = clampi(need, hmin, hmax);
#else
		(void)need;   /* mutant (tests/meson.build): high never rises */
#endif
	}
	return high;
}

/* nr_pcp_free() of 6.7: as many as were freed in a row (free_count),
 * clamped to [batch, high - batch]; a free_high drain up to 32 batches */
static int nr_pcp_free67(hp_pcp_t *pcp, int batch, int high, int free_high)
{
	if (unlikely(free_high))
		return pcp->count < batch << PCP_BATCH_SCALE_MAX ? pcp->count : batch << PCP_BATCH_SCALE_MAX;
	if (unlikely(high < batch))
		return 1;
	int max_nr = high - batch;
	return pcp->free_factor < batch ? batch : pcp->free_factor > max_nr ? max_nr : pcp->free_factor;
}

static __attribute__((noinline)) void pcp_drain_high67(hp_buddy_zone_t *z, hp_pcp_t *pcp, int batch, int high,
						       int free_high, int pindex)
{
	free_pcppages_bulk(z, nr_pcp_free67(pcp, batch, high, free_high), pcp, pindex);
	if (ld(&z->below_high) &&
	    watermark_ok(z, 0, ld(&z->wmark[WMARK_HIGH]), 0, ld(&z->free_pages))) {
		st(&z->below_high, 0);
		update_fast_mark(z);
	}
}

/* 6.7's free_unref_page_commit() after the list_add: the high-order
 * free_high detection (PCPF_PREV_FREE_HIGH_ORDER; PCPF_FREE_HIGH_BATCH,
 * set from the cache size, is not modelled), free_count, nr_pcp_high(). */
static inline void pcp_commit67(hp_buddy_zone_t *z, hp_pcp_t *pcp, unsigned order, int pindex)
{
	int batch = pcp->batch, free_high = 0;
	pcp->alloc_factor >>= 1;
	if (order && order <= HP_PAGE_ALLOC_COSTLY_ORDER) {
		free_high = pcp->free_factor >= batch && (pcp->flags & PCPF_PREV_FREE_HIGH_ORDER);
		pcp->flags |= PCPF_PREV_FREE_HIGH_ORDER;
	} else if (pcp->flags & PCPF_PREV_FREE_HIGH_ORDER) {
		pcp->flags &= (uint8_t)~PCPF_PREV_FREE_HIGH_ORDER;
	}
	if (pcp->free_factor < batch << PCP_BATCH_SCALE_MAX)
		pcp->free_factor += 1 << order;
	int high = nr_pcp_high(z, pcp, batch, free_high);
	if (unlikely(pcp->count >= high))
		pcp_drain_high67(z, pcp, batch, high, free_high, pindex);
}

/* free_unref_page_commit() */
static inline void pcp_free_commit(hp_buddy_zone_t *z, hp_pcp_t *pcp, int cpu, hp_page_t *p, unsigned order, int mt)
{
	int pindex = order_to_pindex(mt, order);
	st(&p->order, (uint8_t)order);
	st(&p->mt, (uint8_t)mt);
	p->cpu = (uint16_t)cpu;
	set_pflags(p, HP_PG_PCP);
	hp_list_add(&p->lru, &pcp->lists[pindex]);
	pcp->count += 1 << order;
	pcp->frees++;
	if (z->gen67) {
		pcp_commit67(z, pcp, order, pindex);
		return;
	}
	/* a pcp that only frees high-order pages should not sit on them */
	int free_high = pcp->free_factor && order && order <= HP_PAGE_ALLOC_COSTLY_ORDER;
	int high = (!pcp->high || free_high) ? 0 : pcp->high;
	if (unlikely(pcp->count >= high))
		free_pcppages_bulk(z, nr_pcp_free(pcp, high, free_high), pcp, pindex);
}

static void drain_pcp_locked(hp_buddy_zone_t *z, hp_pcp_t *pcp)
{
	if (pcp->count)
		free_pcppages_bulk(z, pcp->count, pcp, 0);
}

void hp_buddy_drain_cpu(hp_buddy_zone_t *z, int cpu)
{
	hp_pcp_t *pcp = pcp_of(z, cpu);
	pcp_lock(pcp);
	drain_pcp_locked(z, pcp);
	pcp_unlock(pcp);
}

void hp_buddy_drain_all(hp_buddy_zone_t *z)
{
	for (int c = 0; c < z->ncpus; c++)
		hp_buddy_drain_cpu(z, c);
}

/* decay_pcp_high() of 6.7, the vmstat worker's per-pcp step */
int hp_buddy_pcp_decay(hp_buddy_zone_t *z, int cpu)
{
	if (!z->gen67)
		return 0;
	hp_pcp_t *pcp = pcp_of(z, cpu);
	int todo = 0;
	pcp_lock(pcp);
	int hmin = pcp->high_min, batch = pcp->batch;
	if (pcp->high > hmin) {
		int a = pcp->count - (batch << PCP_BATCH_SCALE_MAX), b = pcp->high - (pcp->high >> 3);
		int h = a > b ? a : b;
		pcp->high = h > hmin ? h : hmin;
		if (pcp->high > hmin)
			todo = 1;
	}
	int to_drain = pcp->count - pcp->high;
	if (to_drain > 0) {
		free_pcppages_bulk(z, to_drain, pcp, 0);
		todo = 1;
	}
	pcp_unlock(pcp);
	return todo;
}

int hp_buddy_set_pcp(hp_buddy_zone_t *z, int high, int batch)
{
	return hp_buddy_set_pcp_range(z, high, high, batch);
}

int hp_buddy_set_pcp_range(hp_buddy_zone_t *z, int high_min, int high_max, int batch)
{
	if (high_min < 0 || batch < 1 || high_max < high_min || (!z->gen67 && high_max != high_min))
		return -1;
	for (int c = 0; c < z->ncpus; c++) {
		hp_pcp_t *pcp = &z->pcp[c];
		pcp_lock(pcp);
		drain_pcp_locked(z, pcp);
		pcp_set(pcp, high_min, high_max, batch);
		pcp_unlock(pcp);
	}
	z->pcp_mode = HP_BUDDY_PCP_CUSTOM;
	return 0;
}

void hp_buddy_get_pcp(const hp_buddy_zone_t *z, int *high, int *batch)
{
	if (high)
		*high = z->pcp[0].high;
	if (batch)
		*batch = z->pcp[0].batch;
}

void hp_buddy_get_pcp_info(hp_buddy_zone_t *z, int cpu, hp_buddy_pcp_info_t *info)
{
	hp_pcp_t *pcp = pcp_of(z, cpu);
	pcp_lock(pcp);
	info->count = pcp->count;
	info->high = pcp->high;
	info->high_min = pcp->high_min;
	info->high_max = pcp->high_max;
	info->batch = pcp->batch;
	info->free_count = pcp->free_factor;
	info->alloc_factor = pcp->alloc_factor;
	pcp_unlock(pcp);
	info->below_high = ld(&z->below_high);
}

hp_buddy_pcp_gen_t hp_buddy_pcp_gen(const hp_buddy_zone_t *z)
{
	return z->gen67 ? HP_BUDDY_PCP_GEN_6_7 : HP_BUDDY_PCP_GEN_6_6;
}

int hp_buddy_pcp_count(hp_buddy_zone_t *z, int cpu)
{
	hp_pcp_t *pcp = pcp_of(z, cpu);
	pcp_lock(pcp);
	int n = pcp->count;
	pcp_unlock(pcp);
	return n;
}

int hp_buddy_ncpus(const hp_buddy_zone_t *z) { return z->ncpus; }

/* ------------------------------------------------------------------ */
/* fork                                                                */
/* ------------------------------------------------------------------ */

/* Same order as a refill or drain (pcp, then zone), so taking them all
 * cannot deadlock against a thread that is half-way through one. */
void hp_buddy_fork_prepare(hp_buddy_zone_t *z)
{
	for (int c = 0; c < z->ncpus; c++)
		pcp_lock(&z->pcp[c]);
	zone_lock(z);
}

void hp_buddy_fork_parent(hp_buddy_zone_t *z)
{
	zone_unlock(z);
	for (int c = z->ncpus - 1; c >= 0; c--)
		pcp_unlock(&z->pcp[c]);
}

/* The child's lone thread holds everything; a fresh spinlock rather than
 * an unlock, since the owner the lock remembers (if any) is gone. */
void hp_buddy_fork_child(hp_buddy_zone_t *z)
{
	pthread_spin_init(&z->lock, PTHREAD_PROCESS_PRIVATE);
	for (int c = z->ncpus - 1; c >= 0; c--)
		pcp_unlock(&z->pcp[c]);
}

/* ------------------------------------------------------------------ */
/* Allocation and free                                                 */
/* ------------------------------------------------------------------ */

/* rmqueue_buddy(): straight from the free lists under zone->lock */
static hp_page_t *rmqueue_buddy(hp_buddy_zone_t *z, unsigned order, int mt)
{
	zone_lock(z);
	hp_page_t *p = rmqueue_locked(z, order, mt);
	if (p) {
		mod_free_pages(z, -(1L << order));
		z->zone_allocs++;
	}
	zone_unlock(z);
	return p;
}

/* free_one_page() */
static void free_to_zone(hp_buddy_zone_t *z, size_t pfn, unsigned order, int mt)
{
	zone_lock(z);
	free_one_page_locked(z, pfn, order, mt);
	z->zone_frees++;
	zone_unlock(z);
}

static void prep_new_page_slow(hp_buddy_zone_t *z, hp_page_t *p, unsigned order, unsigned gfp)
{
	size_t pfn = pfn_of(z, p);
	if (z->debug & HP_BUDDY_DEBUG_POISON)
		check_poison(z, pfn, order);
	if (gfp & HP_GFP_ZERO)
		memset(addr_of(z, pfn), 0, HP_PAGE_SIZE << order);
	if ((gfp & HP_GFP_COMP) && order) {
		set_pflags(p, HP_PG_HEAD | HP_PG_COMP);
		for (size_t i = 1; i < ((size_t)1 << order); i++) {
			p[i].head = p;
			set_pflags(&p[i], HP_PG_TAIL);
		}
	}
}

/* prep_new_page(): the page leaves the allocator with one reference */
static inline hp_page_t *prep_new_page(hp_buddy_zone_t *z, hp_page_t *p, unsigned order, unsigned gfp, int mt)
{
	set_pflags(p, HP_PG_HEAD);
	st(&p->order, (uint8_t)order);
	st(&p->mt, (uint8_t)mt);
	p->priv = NULL;
	p->owner = 0;
	st(&p->refcount, 1);
	if (unlikely(z->debug || (gfp & (HP_GFP_ZERO | HP_GFP_COMP))))
		prep_new_page_slow(z, p, order, gfp);
	return p;
}

static hp_page_t *alloc_fail_order(hp_buddy_zone_t *z)
{
	inc(&z->fail_order);
	return NULL;
}

static hp_page_t *alloc_fail_wmark(hp_buddy_zone_t *z)
{
	inc(&z->fail_wmark);
	return NULL;
}

/* Every request the fast paths below do not take: order 0..3 through the
 * pcp (pinned: no lock; locked: trylock, else the zone), larger orders
 * from the buddy lists, and all the checks. */
static __attribute__((noinline, cold))
hp_page_t *alloc_pages_slow(hp_buddy_zone_t *z, int cpu, int locked, unsigned gfp, unsigned order)
{
	if (unlikely(order > HP_MAX_ORDER))
		return alloc_fail_order(z);
	/* 6.7: an allocation that finds the zone below its high watermark
	 * sets ZONE_BELOW_HIGH (get_page_from_freelist) */
	if (z->gen67 && !z->no_wmarks && !ld(&z->below_high) &&
	    !watermark_ok(z, order, ld(&z->wmark[WMARK_HIGH]), gfp_alloc_flags(gfp), ld(&z->free_pages))) {
		st(&z->below_high, 1);
		update_fast_mark(z);
	}
	if (unlikely(!wmark_allows(z, order, gfp)))
		return alloc_fail_wmark(z);
	int mt = gfp_migratetype(gfp);
	hp_page_t *p = NULL;
	if (likely(pcp_allowed_order(z, order))) {
		hp_pcp_t *pcp = pcp_of(z, cpu);
		if (!locked) {
			p = rmqueue_pcplist(z, pcp, (int)(pcp - z->pcp), order, mt);
		} else if (pcp_trylock(pcp)) {
			p = rmqueue_pcplist(z, pcp, (int)(pcp - z->pcp), order, mt);
			pcp_unlock(pcp);
		} else {
			inc(&z->contended);
		}
	}
	if (unlikely(!p)) {
		p = rmqueue_buddy(z, order, mt);
		if (!p) {
			inc(&z->fail_nomem);
			return NULL;
		}
	}
	return prep_new_page(z, p, order, gfp, mt);
}

/* free_pages_prepare(): sanity checks; 0 when the free must not happen */
static int free_prepare_slow(hp_buddy_zone_t *z, hp_page_t *p, unsigned order)
{
	size_t pfn = pfn_of(z, p);
	uint32_t f = pflags(p);
	if (order > HP_MAX_ORDER) {
		bad_free(z, pfn, addr_of(z, pfn), order, "bad page: order out of range");
		return 0;
	}
	if (f & (HP_PG_BUDDY | HP_PG_PCP | HP_PG_GUARD) || !(f & HP_PG_HEAD)) {
		bad_free(z, pfn, addr_of(z, pfn), order,
			 f & HP_PG_TAIL ? "bad page: freeing a tail page" :
			 "bad page: freeing a page that is not allocated (double free?)");
		return 0;
	}
	if (p->order != order) {
		bad_free(z, pfn, addr_of(z, pfn), order, "bad page: freed with another order than allocated");
		return 0;
	}
	int32_t ref = ld(&p->refcount);
	if (ref <= 0) {
		bad_free(z, pfn, addr_of(z, pfn), order, "bad page: refcount already zero");
		return 0;
	}
	/* put_page_testzero() */
	if (ref != 1 && __atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return 0;
	st(&p->refcount, 0);
	if (f & HP_PG_COMP)
		for (size_t i = 1; i < ((size_t)1 << order); i++)
			set_pflags(&p[i], 0);
	return 1;
}

static __attribute__((noinline, cold))
void free_pages_slow(hp_buddy_zone_t *z, int cpu, int locked, hp_page_t *p, unsigned order)
{
	if (unlikely(!p))
		return;
	/* the common case, one reference to a plain allocation of this order,
	 * needs no atomic: nobody else holds a reference to take */
	if (likely(pflags(p) == HP_PG_HEAD && p->order == order && ld(&p->refcount) == 1))
		st(&p->refcount, 0);
	else if (!free_prepare_slow(z, p, order))
		return;
	size_t pfn = pfn_of(z, p);
	if (unlikely(z->debug & HP_BUDDY_DEBUG_POISON))
		poison_pages(z, pfn, order);
	int mt = get_pageblock_mt(z, pfn);
	if (likely(pcp_allowed_order(z, order))) {
		hp_pcp_t *pcp = pcp_of(z, cpu);
		int c = (int)(pcp - z->pcp);
		if (!locked) {
			pcp_free_commit(z, pcp, c, p, order, mt);
			return;
		}
		if (pcp_trylock(pcp)) {
			pcp_free_commit(z, pcp, c, p, order, mt);
			pcp_unlock(pcp);
			return;
		}
		inc(&z->contended);
	}
	set_pflags(p, 0);
	free_to_zone(z, pfn, order, mt);
}

/* ------------------------------------------------------------------ */
/* Fast paths: orders 0..3 through the pcp                             */
/* ------------------------------------------------------------------ */

/* The kernel's path for orders 0..3 (get_page_from_freelist ->
 * zone_watermark_fast -> rmqueue_pcplist -> prep_new_page, and
 * free_unref_page -> free_unref_page_commit) when nothing unusual happens: no debug, a plain
 * migratetype, the watermark clear, the list not empty / not full.
 * Everything else goes to the slow paths above, which apply the very same
 * rules. The slow calls are tail calls, so the fast paths save no
 * registers. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* The pcp list's address, computed once into a register: without this
 * GCC rebuilds it for the list head's load and again for its value (three
 * more instructions each way). Emits nothing. */
#define fast_list_addr(l) __asm__("" : "+r"(l))

/* __zone_watermark_ok()'s "a block of at least this order is free" */
static ALWAYS_INLINE int has_block(hp_buddy_zone_t *z, unsigned order)
{
	for (unsigned o = order; o <= HP_MAX_ORDER; o++)
		if (ld(&z->free_area[o].nr_free))
			return 1;
	return 0;
}

static ALWAYS_INLINE hp_page_t *allocp_fast(hp_buddy_zone_t *z, int cpu, unsigned gfp, unsigned order)
{
	/* gfp 0, MOVABLE or RECLAIMABLE alone is its migratetype; anything
	 * else (and debug mode, via fast_block) takes the slow path */
	if (unlikely(order > HP_PAGE_ALLOC_COSTLY_ORDER || (gfp | z->fast_block) > HP_MIGRATE_RECLAIMABLE ||
		     (unsigned)cpu >= (unsigned)z->ncpus))
		return NULL;
	/* zone_watermark_fast() against low: free - (2^order - 1) > low */
	if (unlikely(ld(&z->free_pages) - ((1L << order) - 1) <= ld(&z->fast_mark)))
		return NULL;
	if (order && !z->no_wmarks && unlikely(!has_block(z, order)))
		return NULL;
	hp_pcp_t *pcp = &z->pcp[cpu];
	hp_list_t *list = &pcp->lists[order_to_pindex((int)gfp, order)];
	fast_list_addr(list);
	hp_list_t *first = list->next;
	if (unlikely(first == list))
		return NULL;
	/* list_del() as __rmqueue_pcplist(): the poison stores are part of the
	 * kernel's cost (p->priv then overwrites the second one) */
	hp_list_del(first);
	pcp->count -= 1 << order;
	pcp->free_factor >>= 1;
	pcp->hits++;
	hp_page_t *p = lru_page(first);
	set_pflags(p, HP_PG_HEAD);
	st(&p->order, (uint8_t)order);
	st(&p->mt, (uint8_t)gfp);
	p->priv = NULL;
	p->owner = 0;
	st(&p->refcount, 1);
	return p;
}

static ALWAYS_INLINE int freep_ok(hp_buddy_zone_t *z, int cpu, hp_page_t *p, unsigned order)
{
	return likely(order <= HP_PAGE_ALLOC_COSTLY_ORDER && pflags(p) == HP_PG_HEAD && p->order == order &&
		      ld(&p->refcount) == 1 && !z->fast_block && (unsigned)cpu < (unsigned)z->ncpus);
}

/* freep_ok() held: free_unref_page_commit() */
static ALWAYS_INLINE void freep_commit(hp_buddy_zone_t *z, hp_pcp_t *pcp, int cpu, hp_page_t *p, size_t pfn,
				       unsigned order)
{
	int mt = get_pageblock_mt(z, pfn), pindex = order_to_pindex(mt, order);
	hp_list_t *head = &pcp->lists[pindex];
	fast_list_addr(head);
	st(&p->refcount, 0);
	st(&p->mt, (uint8_t)mt);
	p->cpu = (uint16_t)cpu;
	set_pflags(p, HP_PG_PCP);
	hp_list_add(&p->lru, head);
	pcp->frees++;
	pcp->count += 1 << order;
	if (z->gen67) {
		pcp_commit67(z, pcp, order, pindex);
		return;
	}
	/* a pcp that only frees high-order pages should not sit on them */
	int free_high = pcp->free_factor && order;
	int high = free_high ? 0 : pcp->high;
	if (unlikely(pcp->count >= high))
		pcp_drain_high(z, pcp, high, free_high, pindex);
}

/* order 0 is the common case: inlined with a constant order it loses the
 * shifts, the free_high test and the block search */
static ALWAYS_INLINE hp_page_t *alloc_fast(hp_buddy_zone_t *z, int cpu, unsigned gfp, unsigned order)
{
	return likely(!order) ? allocp_fast(z, cpu, gfp, 0) : allocp_fast(z, cpu, gfp, order);
}

static ALWAYS_INLINE void free_commit(hp_buddy_zone_t *z, hp_pcp_t *pcp, int cpu, hp_page_t *p, size_t pfn,
				      unsigned order)
{
	if (likely(!order))
		freep_commit(z, pcp, cpu, p, pfn, 0);
	else
		freep_commit(z, pcp, cpu, p, pfn, order);
}

static inline int this_cpu(void)
{
	int c = sched_getcpu();
	return c < 0 ? 0 : c;
}

static __attribute__((noinline, cold)) void *get_free_pages_slow(hp_buddy_zone_t *z, int cpu, int locked,
							     unsigned gfp, unsigned order)
{
	hp_page_t *p = alloc_pages_slow(z, cpu, locked, gfp, order);
	return p ? addr_of(z, pfn_of(z, p)) : NULL;
}

hp_page_t *hp_buddy_alloc_pages_cpu(hp_buddy_zone_t *z, int cpu, unsigned gfp, unsigned order)
{
	hp_page_t *p = alloc_fast(z, cpu, gfp, order);
	if (likely(p))
		return p;
	return alloc_pages_slow(z, cpu, 0, gfp, order);
}

void *hp_buddy_get_free_pages_cpu(hp_buddy_zone_t *z, int cpu, unsigned gfp, unsigned order)
{
	hp_page_t *p = alloc_fast(z, cpu, gfp, order);
	if (likely(p))
		return addr_of(z, pfn_of(z, p));
	return get_free_pages_slow(z, cpu, 0, gfp, order);
}

static ALWAYS_INLINE hp_page_t *alloc_locked_fast(hp_buddy_zone_t *z, int cpu, unsigned gfp, unsigned order)
{
	if (order > HP_PAGE_ALLOC_COSTLY_ORDER || (unsigned)cpu >= (unsigned)z->ncpus)
		return NULL;
	hp_pcp_t *pcp = &z->pcp[cpu];
	if (unlikely(!pcp_trylock(pcp)))
		return NULL;
	hp_page_t *p = alloc_fast(z, cpu, gfp, order);
	pcp_unlock(pcp);
	return p;
}

hp_page_t *hp_buddy_alloc_pages(hp_buddy_zone_t *z, unsigned gfp, unsigned order)
{
	int cpu = this_cpu();
	hp_page_t *p = alloc_locked_fast(z, cpu, gfp, order);
	if (likely(p))
		return p;
	return alloc_pages_slow(z, cpu, 1, gfp, order);
}

void *hp_buddy_get_free_pages(hp_buddy_zone_t *z, unsigned gfp, unsigned order)
{
	int cpu = this_cpu();
	hp_page_t *p = alloc_locked_fast(z, cpu, gfp, order);
	if (likely(p))
		return addr_of(z, pfn_of(z, p));
	return get_free_pages_slow(z, cpu, 1, gfp, order);
}

static ALWAYS_INLINE void free_pages_cpu(hp_buddy_zone_t *z, int cpu, hp_page_t *p, size_t pfn, unsigned order)
{
	if (unlikely(!freep_ok(z, cpu, p, order))) {
		free_pages_slow(z, cpu, 0, p, order);
		return;
	}
	free_commit(z, &z->pcp[cpu], cpu, p, pfn, order);
}

static ALWAYS_INLINE void free_pages_locked(hp_buddy_zone_t *z, hp_page_t *p, size_t pfn, unsigned order)
{
	int cpu = this_cpu();
	if (likely(freep_ok(z, cpu, p, order))) {
		hp_pcp_t *pcp = &z->pcp[cpu];
		if (likely(pcp_trylock(pcp))) {
			free_commit(z, pcp, cpu, p, pfn, order);
			pcp_unlock(pcp);
			return;
		}
	}
	free_pages_slow(z, cpu, 1, p, order);
}

void hp_buddy_free_pages(hp_buddy_zone_t *z, hp_page_t *page, unsigned order)
{
	if (likely(page))
		free_pages_locked(z, page, pfn_of(z, page), order);
}

void hp_buddy_free_pages_cpu(hp_buddy_zone_t *z, int cpu, hp_page_t *page, unsigned order)
{
	if (likely(page))
		free_pages_cpu(z, cpu, page, pfn_of(z, page), order);
}

static __attribute__((noinline, cold)) void bad_addr(hp_buddy_zone_t *z, void *addr, unsigned order)
{
	if (!hp_buddy_contains(z, addr))
		bad_free(z, (size_t)-1, addr, order, "bad page: address outside the zone");
	else
		bad_free(z, pfn_of(z, hp_virt_to_page(z, addr)), addr, order, "bad page: address not page aligned");
}

/* 0 unless addr is a page of the zone: offset in range and page aligned */
static ALWAYS_INLINE int addr_bad(const hp_buddy_zone_t *z, const void *addr, uintptr_t *off)
{
	*off = (uintptr_t)addr - (uintptr_t)z->h.base;
	/* compared as a pfn: the shift is the one virt_to_page needs next */
	return unlikely((*off >> HP_PAGE_SHIFT) >= z->h.nr_pages || (*off & (HP_PAGE_SIZE - 1)));
}

void hp_buddy_free_pages_addr(hp_buddy_zone_t *z, void *addr, unsigned order)
{
	uintptr_t off;
	if (!addr)
		return;
	if (addr_bad(z, addr, &off)) {
		bad_addr(z, addr, order);
		return;
	}
	free_pages_locked(z, z->h.mem_map + (off >> HP_PAGE_SHIFT), off >> HP_PAGE_SHIFT, order);
}

void hp_buddy_free_pages_addr_cpu(hp_buddy_zone_t *z, int cpu, void *addr, unsigned order)
{
	uintptr_t off;
	if (unlikely(!addr))
		return;
	if (addr_bad(z, addr, &off)) {
		bad_addr(z, addr, order);
		return;
	}
	free_pages_cpu(z, cpu, z->h.mem_map + (off >> HP_PAGE_SHIFT), off >> HP_PAGE_SHIFT, order);
}

/* ------------------------------------------------------------------ */
/* Inline order-0 fast path: binding and its out-of-line exits         */
/* ------------------------------------------------------------------ */

_Static_assert((sizeof(hp_page_t) & (sizeof(hp_page_t) - 1)) == 0, "the inline free's pageblock shift");
_Static_assert(offsetof(struct hp_buddy_zone, fast_mark) == offsetof(struct hp_buddy_zone, free_pages) + sizeof(long),
	       "hp_buddy_pcp_ref_t.free_wm reads free_pages and fast_mark as a pair");

int hp_buddy_pcp_bind(hp_buddy_zone_t *z, int cpu, unsigned gfp, hp_buddy_pcp_ref_t *ref, char *err, size_t errlen)
{
	const char *why = NULL;
	if (!z || !ref)
		why = "no zone or no reference";
	else if (cpu < 0 || cpu >= z->ncpus)
		why = "cpu out of range";
	else if (gfp & ~(unsigned)(HP_GFP_MOVABLE | HP_GFP_RECLAIMABLE) ||
		 gfp == (HP_GFP_MOVABLE | HP_GFP_RECLAIMABLE))
		why = "gfp other than a migratetype needs the out-of-line path";
	else if (z->fast_block)
		why = "a debug zone's checks are on the out-of-line path";
	else if (z->gen67)
		why = "a 6.7 zone's free-side pcp->high tuning is not inlined";
	if (why) {
		if (err && errlen)
			snprintf(err, errlen, "%s", why);
		return -1;
	}
	int mt = gfp_migratetype(gfp);
	hp_pcp_t *pcp = &z->pcp[cpu];
	*ref = (hp_buddy_pcp_ref_t){
		.pcp = pcp,
		.list = &pcp->lists[order_to_pindex(mt, 0)],
		.free_wm = &z->free_pages,
		.mem_map = z->h.mem_map,
		.pageblock_mt = z->pageblock_mt,
		.zone = z,
		.cpu = (uint16_t)cpu,
		.mt = (uint8_t)mt,
	};
	return 0;
}

/* the watermark refused or the list is empty: the out-of-line path (the
 * same watermark test, 6.7's ZONE_BELOW_HIGH, the batched refill); the
 * migratetype is the gfp (HP_GFP_MOVABLE == HP_MIGRATE_MOVABLE, ...) */
hp_page_t *hp_buddy_pcp_alloc_slow_(const hp_buddy_pcp_ref_t *ref)
{
	return alloc_pages_slow(ref->zone, ref->cpu, 0, ref->mt, 0);
}

/* free_unref_page_commit()'s tail at order 0 in a 6.6 zone: count reached
 * high (0 for the boot pageset), drain nr_pcp_free() pages */
void hp_buddy_pcp_drain_high_(const hp_buddy_pcp_ref_t *ref, const hp_page_t *freed)
{
	hp_pcp_t *pcp = ref->pcp;
	pcp_drain_high(ref->zone, pcp, pcp->high, 0, order_to_pindex(freed->mt, 0));
}

void hp_buddy_get_page(hp_page_t *page)
{
	__atomic_add_fetch(&page->refcount, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Zone creation                                                       */
/* ------------------------------------------------------------------ */

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

hp_buddy_zone_t *hp_buddy_create(const hp_buddy_config_t *cfg_in, char *err, size_t errlen)
{
	static const hp_buddy_config_t defaults;
	const hp_buddy_config_t *cfg = cfg_in ? cfg_in : &defaults;
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof dummy;
	}
	size_t bytes = cfg->arena_bytes ? cfg->arena_bytes : (size_t)1 << 30;
	size_t nr_pages = bytes >> HP_PAGE_SHIFT;
	const size_t max_block = HP_PAGE_SIZE << HP_MAX_ORDER;

	if (nr_pages == 0) {
		snprintf(err, errlen, "arena_bytes %zu is smaller than one page (%lu bytes)", bytes, HP_PAGE_SIZE);
		return NULL;
	}
	if (nr_pages > ((size_t)1 << 40) >> HP_PAGE_SHIFT << 8) {
		snprintf(err, errlen, "arena_bytes %zu is too large (at most 256 TiB)", bytes);
		return NULL;
	}
	long nproc = sysconf(_SC_NPROCESSORS_CONF);
	int ncpus = cfg->ncpus ? cfg->ncpus : (nproc > 0 ? (int)nproc : 1);
	if (ncpus < 1 || ncpus > 4096) {
		snprintf(err, errlen, "ncpus %d is out of range (1..4096, or 0 for the machine's)", cfg->ncpus);
		return NULL;
	}
	if ((unsigned)cfg->pcp_mode > HP_BUDDY_PCP_CUSTOM) {
		snprintf(err, errlen, "pcp_mode %d is not one of KERNEL (0), OFF (1), CUSTOM (2)", (int)cfg->pcp_mode);
		return NULL;
	}
	if (cfg->pcp_mode == HP_BUDDY_PCP_CUSTOM && (cfg->pcp_high < 0 || cfg->pcp_batch < 1)) {
		snprintf(err, errlen, "pcp_high %d / pcp_batch %d invalid: high must be >= 0 and batch >= 1",
			 cfg->pcp_high, cfg->pcp_batch);
		return NULL;
	}
	if ((unsigned)cfg->pcp_gen > HP_BUDDY_PCP_GEN_6_7) {
		snprintf(err, errlen, "pcp_gen %d is not one of GEN_6_6 (0), GEN_6_7 (1)", (int)cfg->pcp_gen);
		return NULL;
	}
	if (cfg->pcp_high_max && (cfg->pcp_mode != HP_BUDDY_PCP_CUSTOM || cfg->pcp_gen != HP_BUDDY_PCP_GEN_6_7 ||
				  cfg->pcp_high_max < cfg->pcp_high)) {
		snprintf(err, errlen, "pcp_high_max %d needs pcp_mode CUSTOM, pcp_gen GEN_6_7 and a value >= pcp_high %d",
			 cfg->pcp_high_max, cfg->pcp_high);
		return NULL;
	}
	if (cfg->guard_minorder > HP_MAX_ORDER) {
		snprintf(err, errlen, "guard_minorder %u is out of range (0 = off, 1..%d)", cfg->guard_minorder, HP_MAX_ORDER);
		return NULL;
	}
	if (cfg->guard_minorder && sysconf(_SC_PAGESIZE) != (long)HP_PAGE_SIZE) {
		snprintf(err, errlen, "guard pages need a %lu-byte system page size, this one has %ld",
			 HP_PAGE_SIZE, sysconf(_SC_PAGESIZE));
		return NULL;
	}
	if (cfg->debug & ~(unsigned)HP_BUDDY_DEBUG_POISON) {
		snprintf(err, errlen, "debug flags 0x%x unknown (valid: HP_BUDDY_DEBUG_POISON = 0x%x)",
			 cfg->debug, (unsigned)HP_BUDDY_DEBUG_POISON);
		return NULL;
	}

	/* nothing here comes from malloc: impl/slub builds a malloc on this
	 * zone, and a zone created inside malloc must not call it */
	hp_buddy_zone_t *z = map_anon(sizeof *z);
	if (!z) {
		snprintf(err, errlen, "out of memory for the zone");
		return NULL;
	}
	z->h.nr_pages = nr_pages;
	z->ncpus = ncpus;
	z->debug = cfg->debug;
	z->fast_block = cfg->debug ? 0x100 : 0;
	z->guard_minorder = cfg->guard_minorder;
	z->report = cfg->report;
	z->report_arg = cfg->report_arg;
	z->pcp_mode = cfg->pcp_mode;
	z->gen67 = cfg->pcp_gen == HP_BUDDY_PCP_GEN_6_7;
	z->thp = cfg->thp != 0;
	z->nr_pcp_lists = z->thp ? NR_PCP_LISTS_MAX : NR_LOWORDER_PCP_LISTS;
	snprintf(z->name, sizeof z->name, "%s", cfg->name ? cfg->name : "Normal");
	pthread_spin_init(&z->lock, PTHREAD_PROCESS_PRIVATE);

	/* the arena, aligned to a max-order block so pfn and address
	 * alignment agree */
	size_t len = nr_pages << HP_PAGE_SHIFT;
	z->arena_map_len = len + max_block;
	z->arena_map = map_anon(z->arena_map_len);
	z->memmap_len = nr_pages * sizeof(hp_page_t);
	z->h.mem_map = map_anon(z->memmap_len);
	z->nr_pageblocks = (nr_pages + HP_PAGEBLOCK_PAGES - 1) >> HP_PAGEBLOCK_ORDER;
	z->pageblock_mt = map_anon(z->nr_pageblocks);
	z->pcp = map_anon(sizeof(hp_pcp_t) * (size_t)ncpus);
	if (!z->arena_map || !z->h.mem_map || !z->pageblock_mt || !z->pcp) {
		snprintf(err, errlen, "cannot map a %zu-byte arena and its %zu-byte memmap: %s",
			 len, z->memmap_len, strerror(errno));
		hp_buddy_destroy(z);
		return NULL;
	}
	uintptr_t a = ((uintptr_t)z->arena_map + max_block - 1) & ~(uintptr_t)(max_block - 1);
	z->h.base = (uint8_t *)a;

	for (unsigned o = 0; o <= HP_MAX_ORDER; o++)
		for (int m = 0; m < HP_MIGRATE_TYPES; m++)
			hp_list_init(&z->free_area[o].free_list[m]);
	/* memmap_init(): every pageblock starts MOVABLE */
	memset(z->pageblock_mt, HP_MIGRATE_MOVABLE, z->nr_pageblocks);

	z->min_free_kbytes = cfg->min_free_kbytes;
	z->no_wmarks = cfg->min_free_kbytes < 0;
	setup_wmarks(z, cfg->min_free_kbytes == 0 ? default_min_free_kbytes(nr_pages) :
			cfg->min_free_kbytes);

	int high = cfg->pcp_high, high_max = cfg->pcp_high_max, batch = cfg->pcp_batch;
	pcp_setup(z, &high, &high_max, &batch);
	for (int c = 0; c < ncpus; c++) {
		hp_pcp_t *pcp = &z->pcp[c];
		memset(pcp, 0, sizeof *pcp);
		pcp_set(pcp, high, high_max, batch);
		for (int i = 0; i < NR_PCP_LISTS_MAX; i++)
			hp_list_init(&pcp->lists[i]);
	}

	/* memblock_free_all(): hand the arena over in the largest aligned
	 * blocks; page poisoning poisons them on the way, as at boot */
	if (z->debug & HP_BUDDY_DEBUG_POISON)
		memset(z->h.base, HP_PAGE_POISON, len);
	zone_lock(z);
	for (size_t pfn = 0; pfn < nr_pages;) {
		unsigned o = HP_MAX_ORDER;
		while (o && ((pfn & (((size_t)1 << o) - 1)) || pfn + ((size_t)1 << o) > nr_pages))
			o--;
		free_one_page_locked(z, pfn, o, HP_MIGRATE_MOVABLE);
		pfn += (size_t)1 << o;
	}
	zone_unlock(z);
	return z;
}

void hp_buddy_destroy(hp_buddy_zone_t *z)
{
	if (!z)
		return;
	if (z->arena_map)
		munmap(z->arena_map, z->arena_map_len);
	if (z->h.mem_map)
		munmap(z->h.mem_map, z->memmap_len);
	if (z->pageblock_mt)
		munmap(z->pageblock_mt, z->nr_pageblocks);
	if (z->pcp)
		munmap(z->pcp, sizeof(hp_pcp_t) * (size_t)z->ncpus);
	pthread_spin_destroy(&z->lock);
	munmap(z, sizeof *z);
}

/* ------------------------------------------------------------------ */
/* Watermark and pcp settings                                          */
/* ------------------------------------------------------------------ */

void hp_buddy_get_wmarks(const hp_buddy_zone_t *z, hp_buddy_wmarks_t *w)
{
	w->min = ld(&z->wmark[WMARK_MIN]);
	w->low = ld(&z->wmark[WMARK_LOW]);
	w->high = ld(&z->wmark[WMARK_HIGH]);
}

int hp_buddy_set_min_free_kbytes(hp_buddy_zone_t *z, long kbytes)
{
	if (kbytes < 0)
		return -1;
	z->min_free_kbytes = kbytes;
	z->no_wmarks = 0;
	setup_wmarks(z, kbytes);
	if (ld(&z->below_high) &&
	    watermark_ok(z, 0, ld(&z->wmark[WMARK_HIGH]), 0, ld(&z->free_pages)))
		st(&z->below_high, 0);
	update_fast_mark(z);
	if (z->pcp_mode == HP_BUDDY_PCP_KERNEL) {
		int high = 0, high_max = 0, batch = 0;
		pcp_setup(z, &high, &high_max, &batch);
		for (int c = 0; c < z->ncpus; c++) {
			hp_pcp_t *pcp = &z->pcp[c];
			pcp_lock(pcp);
			/* zone_set_pageset_high_and_batch(): the range and batch;
			 * 6.7 keeps a tuned high, clamped into the new range on use */
			int cur = pcp->high;
			pcp->high_min = high;
			pcp->high_max = high_max;
			pcp->batch = batch;
			pcp->high = z->gen67 ? clampi(cur, high, high_max) : high;
			pcp_unlock(pcp);
		}
	}
	return 0;
}

int hp_buddy_watermark_ok(hp_buddy_zone_t *z, unsigned order, unsigned long mark, unsigned gfp)
{
	if (order > HP_MAX_ORDER)
		return 0;
	return watermark_ok(z, order, mark, gfp_alloc_flags(gfp), ld(&z->free_pages));
}

/* ------------------------------------------------------------------ */
/* Observability                                                       */
/* ------------------------------------------------------------------ */

unsigned long hp_buddy_free_pages_count(hp_buddy_zone_t *z)
{
	return (unsigned long)ld(&z->free_pages);
}

long hp_buddy_nr_free(hp_buddy_zone_t *z, unsigned order)
{
	if (order > HP_MAX_ORDER)
		return -1;
	zone_lock_quiet(z);
	long n = (long)z->free_area[order].nr_free;
	zone_unlock(z);
	return n;
}

long hp_buddy_nr_free_mt(hp_buddy_zone_t *z, unsigned order, hp_migratetype_t mt)
{
	if (order > HP_MAX_ORDER || (unsigned)mt >= HP_MIGRATE_TYPES)
		return -1;
	long n = 0;
	zone_lock_quiet(z);
	const hp_list_t *h = &z->free_area[order].free_list[mt];
	for (const hp_list_t *l = h->next; l != h; l = l->next)
		n++;
	zone_unlock(z);
	return n;
}

hp_migratetype_t hp_buddy_pageblock_mt(hp_buddy_zone_t *z, size_t pfn)
{
	if (pfn >= z->h.nr_pages)
		return HP_MIGRATE_TYPES;
	return (hp_migratetype_t)get_pageblock_mt(z, pfn);
}

static void snapshot_nr_free(hp_buddy_zone_t *z, unsigned long nr[HP_NR_ORDERS])
{
	zone_lock_quiet(z);
	for (unsigned o = 0; o <= HP_MAX_ORDER; o++)
		nr[o] = z->free_area[o].nr_free;
	zone_unlock(z);
}

int hp_buddy_buddyinfo(hp_buddy_zone_t *z, char *buf, size_t len)
{
	unsigned long nr[HP_NR_ORDERS];
	snapshot_nr_free(z, nr);
	char tmp[256];
	int n = snprintf(tmp, sizeof tmp, "Node %d, zone %8s ", 0, z->name);
	for (unsigned o = 0; o <= HP_MAX_ORDER; o++)
		n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%6lu ", nr[o]);
	n += snprintf(tmp + n, sizeof tmp - (size_t)n, "\n");
	return snprintf(buf, len, "%s", tmp);
}

/* struct contig_page_info and fill_contig_page_info() */
typedef struct contig_info {
	unsigned long free_pages, free_blocks_total, free_blocks_suitable;
} contig_info_t;

static void fill_contig_info(const unsigned long nr[HP_NR_ORDERS], unsigned suitable, contig_info_t *ci)
{
	ci->free_pages = ci->free_blocks_total = ci->free_blocks_suitable = 0;
	for (unsigned o = 0; o <= HP_MAX_ORDER; o++) {
		ci->free_blocks_total += nr[o];
		ci->free_pages += nr[o] << o;
		if (o >= suitable)
			ci->free_blocks_suitable += nr[o] << (o - suitable);
	}
}

/* unusable_free_index() */
static int unusable_index(unsigned order, const contig_info_t *ci)
{
	if (ci->free_pages == 0)
		return 1000;
	return (int)(((unsigned long long)(ci->free_pages - (ci->free_blocks_suitable << order)) * 1000ULL) /
		     ci->free_pages);
}

/* __fragmentation_index() */
static int frag_index(unsigned order, const contig_info_t *ci)
{
	unsigned long long requested = 1ULL << order;
	if (!ci->free_blocks_total)
		return 0;
	if (ci->free_blocks_suitable)
		return -1000;
	return (int)(1000 - ((1000 + (ci->free_pages * 1000ULL) / requested) / ci->free_blocks_total));
}

int hp_buddy_unusable_index_of(const unsigned long nr[HP_NR_ORDERS], unsigned order)
{
	if (order > HP_MAX_ORDER)
		return -2000;
	contig_info_t ci;
	fill_contig_info(nr, order, &ci);
	return unusable_index(order, &ci);
}

int hp_buddy_extfrag_index_of(const unsigned long nr[HP_NR_ORDERS], unsigned order)
{
	if (order > HP_MAX_ORDER)
		return -2000;
	contig_info_t ci;
	fill_contig_info(nr, order, &ci);
	return frag_index(order, &ci);
}

int hp_buddy_unusable_index(hp_buddy_zone_t *z, unsigned order)
{
	unsigned long nr[HP_NR_ORDERS];
	snapshot_nr_free(z, nr);
	return hp_buddy_unusable_index_of(nr, order);
}

int hp_buddy_extfrag_index(hp_buddy_zone_t *z, unsigned order)
{
	unsigned long nr[HP_NR_ORDERS];
	snapshot_nr_free(z, nr);
	return hp_buddy_extfrag_index_of(nr, order);
}

static int index_show(hp_buddy_zone_t *z, char *buf, size_t len, int extfrag)
{
	unsigned long nr[HP_NR_ORDERS];
	snapshot_nr_free(z, nr);
	char tmp[256];
	int n = snprintf(tmp, sizeof tmp, "Node %d, zone %8s ", 0, z->name);
	for (unsigned o = 0; o <= HP_MAX_ORDER; o++) {
		int v = extfrag ? hp_buddy_extfrag_index_of(nr, o) : hp_buddy_unusable_index_of(nr, o);
		n += snprintf(tmp + n, sizeof tmp - (size_t)n, extfrag ? "%2d.%03d " : "%d.%03d ",
			      v / 1000, v % 1000 < 0 ? -(v % 1000) : v % 1000);
	}
	n += snprintf(tmp + n, sizeof tmp - (size_t)n, "\n");
	return snprintf(buf, len, "%s", tmp);
}

int hp_buddy_unusable_show(hp_buddy_zone_t *z, char *buf, size_t len) { return index_show(z, buf, len, 0); }
int hp_buddy_extfrag_show(hp_buddy_zone_t *z, char *buf, size_t len) { return index_show(z, buf, len, 1); }

void hp_buddy_get_stats(hp_buddy_zone_t *z, hp_buddy_stats_t *s)
{
	memset(s, 0, sizeof *s);
	for (int c = 0; c < z->ncpus; c++) {
		hp_pcp_t *pcp = &z->pcp[c];
		pcp_lock(pcp);
		s->pcp_pages += (unsigned long)pcp->count;
		s->pcp_hits += pcp->hits;
		s->frees += pcp->frees;
		pcp_unlock(pcp);
	}
	zone_lock_quiet(z);
	s->total_pages = z->h.nr_pages;
	s->free_pages = (unsigned long)ld(&z->free_pages);
	s->guard_pages = z->guard_pages;
	s->allocs = s->pcp_hits + z->zone_allocs;
	s->frees += z->zone_frees;
	s->pcp_refills = z->refills;
	s->pcp_drains = z->drains;
	s->fallbacks = z->fallbacks;
	s->block_steals = z->block_steals;
	s->zone_lock_acquisitions = z->lock_taken;
	zone_unlock(z);
	s->alloc_pages = s->total_pages - s->free_pages - s->pcp_pages - s->guard_pages;
	s->fail_order = ld(&z->fail_order);
	s->fail_wmark = ld(&z->fail_wmark);
	s->fail_nomem = ld(&z->fail_nomem);
	s->pcp_contended = ld(&z->contended);
	s->poison_errors = ld(&z->poison_errors);
	s->bad_frees = ld(&z->bad_frees);
}

/* ------------------------------------------------------------------ */
/* Invariant check                                                     */
/* ------------------------------------------------------------------ */

typedef struct checker {
	hp_buddy_zone_t *z;
	uint8_t *seen;                /* one bit per pfn */
	char *err;
	size_t errlen;
	int bad;
} checker_t;

__attribute__((format(printf, 2, 3)))
static void fail(checker_t *c, const char *fmt, ...)
{
	if (c->bad++)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

/* marks pfn .. pfn + 2^order - 1 as covered by exactly one block */
static void cover(checker_t *c, size_t pfn, unsigned order, const char *what)
{
	size_t n = (size_t)1 << order;
	if (pfn & (n - 1)) {
		fail(c, "%s block at pfn %zu is not aligned to its order %u", what, pfn, order);
		return;
	}
	if (pfn + n > c->z->h.nr_pages) {
		fail(c, "%s block at pfn %zu order %u runs past the zone end (%zu pages)", what, pfn, order, c->z->h.nr_pages);
		return;
	}
	for (size_t i = pfn; i < pfn + n; i++) {
		if (c->seen[i >> 3] & (1u << (i & 7))) {
			fail(c, "pfn %zu is covered twice (%s block at %zu, order %u)", i, what, pfn, order);
			return;
		}
		c->seen[i >> 3] |= (uint8_t)(1u << (i & 7));
		if (i != pfn && (pflags(&c->z->h.mem_map[i]) & ~(uint32_t)HP_PG_TAIL)) {
			fail(c, "pfn %zu inside the %s block at %zu has flags 0x%x", i, what, pfn, pflags(&c->z->h.mem_map[i]));
			return;
		}
	}
}

int hp_buddy_check(hp_buddy_zone_t *z, char *err, size_t errlen)
{
	char dummy[8];
	checker_t c = { .z = z, .err = err ? err : dummy, .errlen = err ? errlen : sizeof dummy };
	size_t seen_len = (z->h.nr_pages + 7) / 8;
	c.seen = map_anon(seen_len);
	if (!c.seen) {
		snprintf(c.err, c.errlen, "out of memory for the check");
		return -1;
	}
	for (int i = 0; i < z->ncpus; i++)
		pcp_lock(&z->pcp[i]);
	zone_lock_quiet(z);

	unsigned long free_sum = 0;
	for (unsigned o = 0; o <= HP_MAX_ORDER && !c.bad; o++) {
		unsigned long n = 0;
		for (int m = 0; m < HP_MIGRATE_TYPES && !c.bad; m++) {
			const hp_list_t *h = &z->free_area[o].free_list[m];
			for (const hp_list_t *l = h->next; l != h && !c.bad; l = l->next) {
				hp_page_t *p = lru_page((hp_list_t *)l);
				size_t pfn = pfn_of(z, p);
				if (l->next->prev != l) {
					fail(&c, "free list order %u mt %d broken at pfn %zu", o, m, pfn);
					break;
				}
				if (pflags(p) != HP_PG_BUDDY || p->order != o || p->mt != m) {
					fail(&c, "pfn %zu on free_area[%u].free_list[%d] has flags 0x%x, order %u, mt %u",
					     pfn, o, m, pflags(p), p->order, p->mt);
					break;
				}
				cover(&c, pfn, o, "free");
				size_t bp = pfn ^ ((size_t)1 << o);
				if (o < HP_MAX_ORDER && page_is_buddy(z, bp, o))
					fail(&c, "free block at pfn %zu and its buddy at pfn %zu are both free at order %u, unmerged",
					     pfn, bp, o);
				n++;
			}
		}
		if (!c.bad && n != z->free_area[o].nr_free)
			fail(&c, "free_area[%u].nr_free is %lu but its lists hold %lu blocks", o,
			     z->free_area[o].nr_free, n);
		free_sum += n << o;
	}
	if (!c.bad && free_sum != (unsigned long)ld(&z->free_pages))
		fail(&c, "NR_FREE_PAGES is %ld but the free lists hold %lu pages", ld(&z->free_pages), free_sum);

	unsigned long pcp_sum = 0;
	for (int cpu = 0; cpu < z->ncpus && !c.bad; cpu++) {
		hp_pcp_t *pcp = &z->pcp[cpu];
		long cnt = 0;
		for (int i = 0; i < NR_PCP_LISTS_MAX && !c.bad; i++) {
			unsigned o = pindex_to_order(i);
			const hp_list_t *h = &pcp->lists[i];
			if (i >= z->nr_pcp_lists && h->next != h) {
				fail(&c, "cpu %d: pcp list %d (THP) holds pages in a zone created without thp", cpu, i);
				break;
			}
			/* the THP list holds every migratetype */
			int want_mt = i < NR_LOWORDER_PCP_LISTS ? i % HP_MIGRATE_TYPES : -1;
			for (const hp_list_t *l = h->next; l != h && !c.bad; l = l->next) {
				hp_page_t *p = lru_page((hp_list_t *)l);
				size_t pfn = pfn_of(z, p);
				if (pflags(p) != HP_PG_PCP || p->order != o || (want_mt >= 0 && p->mt != want_mt) ||
				    p->cpu != cpu) {
					fail(&c, "pfn %zu on cpu %d's pcp list %d has flags 0x%x, order %u, mt %u, cpu %u",
					     pfn, cpu, i, pflags(p), p->order, p->mt, p->cpu);
					break;
				}
				cover(&c, pfn, o, "pcp");
				cnt += 1L << o;
			}
		}
		if (!c.bad && cnt != pcp->count)
			fail(&c, "cpu %d: pcp->count is %d but its lists hold %ld pages", cpu, pcp->count, cnt);
		/* 6.7 keeps high in its range; 6.6's range is the one value */
		if (!c.bad && (pcp->high < pcp->high_min || pcp->high > pcp->high_max ||
			       (!z->gen67 && pcp->high_min != pcp->high_max)))
			fail(&c, "cpu %d: pcp high %d outside [%d, %d]", cpu, pcp->high, pcp->high_min, pcp->high_max);
		pcp_sum += (unsigned long)cnt;
	}

	unsigned long guard_sum = 0, alloc_sum = 0;
	for (size_t pfn = 0; pfn < z->h.nr_pages && !c.bad; pfn++) {
		hp_page_t *p = page_of(z, pfn);
		uint32_t f = pflags(p);
		if (f & HP_PG_GUARD) {
			cover(&c, pfn, p->order, "guard");
			guard_sum += 1UL << p->order;
		} else if (f & HP_PG_HEAD) {
			if (ld(&p->refcount) < 1)
				fail(&c, "allocated page at pfn %zu has refcount %d", pfn, ld(&p->refcount));
			cover(&c, pfn, p->order, "allocated");
			if (f & HP_PG_COMP)
				for (size_t i = 1; i < ((size_t)1 << p->order) && !c.bad; i++)
					if (pflags(&p[i]) != HP_PG_TAIL || p[i].head != p)
						fail(&c, "tail pfn %zu of compound page %zu does not point to it", pfn + i, pfn);
			alloc_sum += 1UL << p->order;
		}
	}
	if (!c.bad && guard_sum != z->guard_pages)
		fail(&c, "guard pages counted %lu but %lu are marked", z->guard_pages, guard_sum);
	if (!c.bad && free_sum + pcp_sum + guard_sum + alloc_sum != z->h.nr_pages)
		fail(&c, "free + pcp + guard + allocated = %lu pages, the zone has %zu",
		     free_sum + pcp_sum + guard_sum + alloc_sum, z->h.nr_pages);

	zone_unlock(z);
	for (int i = z->ncpus - 1; i >= 0; i--)
		pcp_unlock(&z->pcp[i]);
	munmap(c.seen, seen_len);
	return c.bad ? -1 : 0;
}
