/* buddy.h — a user-space model of Linux's buddy page allocator (mm/page_alloc.c).
 *
 * Kernel version followed: Linux 6.6 (LTS). Where later kernels changed a
 * rule (MAX_ORDER renamed MAX_PAGE_ORDER in 6.8, the migratetype accounting
 * rework of 6.9), this file keeps 6.6. One later rule is a second
 * generation, chosen per zone at creation (hp_buddy_config_t.pcp_gen):
 * 6.7's automatic pcp->high tuning (the "mm: PCP high auto-tuning" series,
 * Huang Ying, merged for 6.7): high moves between high_min (6.6's high) and
 * high_max (managed / 8 over the CPUs), raised by refills (nr_pcp_alloc) and
 * by frees that reach it (nr_pcp_high: free_count + batch), lowered below
 * the high watermark (ZONE_BELOW_HIGH) and by the vmstat worker's
 * decay_pcp_high (hp_buddy_pcp_decay); drains free as many pages as were
 * freed in a row (free_count) and refills scale by alloc_factor, both
 * capped at CONFIG_PCP_BATCH_SCALE_MAX 5. Not modelled from that series:
 * PCPF_FREE_HIGH_BATCH (set from the CPU's cache size), ZONE_RECLAIM_ACTIVE
 * (nothing reclaims here), the chunked drain_pages_zone.
 *
 * One zone ("Normal", node 0) manages a private mmap'd arena of 4 KiB pages
 * (default 1 GiB, MAP_NORESERVE, aligned to a max-order block so that an
 * order-N block is naturally aligned in memory as in pfn space). Pieces and
 * their kernel counterparts:
 *
 *   here                           kernel (6.6)
 *   -----------------------------  -------------------------------------------
 *   hp_page_t, mem_map[]           struct page, the memmap of the zone
 *   free_area[0..HP_MAX_ORDER]     zone->free_area[NR_PAGE_ORDERS], one list
 *     x HP_MIGRATE_TYPES lists       per migratetype, nr_free per order
 *   buddy pfn = pfn ^ (1<<order)   __find_buddy_pfn()
 *   split on alloc / merge on free expand() / __free_one_page()
 *   per-CPU page lists (pcp)       struct per_cpu_pages: the orders
 *                                  pcp_allowed_order() admits, 0..3 x 3
 *                                  migratetypes (order_to_pindex) and, with
 *                                  cfg.thp (CONFIG_TRANSPARENT_HUGEPAGE), one
 *                                  list for pageblock_order 9 (NR_PCP_THP 1);
 *                                  count, high, batch, free_factor;
 *                                  rmqueue_bulk() refill and
 *                                  free_pcppages_bulk() drain under zone->lock
 *   pageblock migratetypes         pageblock_flags (pageblock_order 9),
 *                                  fallbacks[], __rmqueue_fallback(),
 *                                  steal_suitable_fallback()
 *   watermarks min/low/high        __setup_per_zone_wmarks() from
 *                                  min_free_kbytes, __zone_watermark_ok()
 *   hp_buddy_buddyinfo()           /proc/buddyinfo
 *   hp_buddy_unusable_index()      debugfs extfrag/unusable_index (mm/vmstat.c)
 *   hp_buddy_extfrag_index()       debugfs extfrag/extfrag_index (mm/vmstat.c)
 *   HP_BUDDY_DEBUG_POISON          CONFIG_PAGE_POISONING: 0xaa on free,
 *                                  checked on allocation (mm/page_poison.c)
 *   guard_minorder                 debug_guardpage_minorder (DEBUG_PAGEALLOC):
 *                                  split-off buddies below it become
 *                                  inaccessible guard pages (mprotect here)
 *
 * Not modelled: multiple zones/nodes, lowmem_reserve, reclaim, compaction,
 * kswapd, watermark boosting, highatomic reserves, CMA, isolation, page
 * shuffling, memcg.
 *
 * Per-CPU access: the kernel protects a pcp with preempt/migrate-disable plus
 * pcp->lock (a spinlock since 5.19/6.0, taken with spin_trylock: on
 * contention the allocation goes straight to the buddy lists under
 * zone->lock). User space cannot disable preemption, so two stand-ins:
 *  - locked (hp_buddy_alloc_pages / hp_buddy_free_pages): the CPU is
 *    sched_getcpu(); the pcp's lock is try-locked and on failure the request
 *    goes to the zone, exactly as 6.6's pcp_spin_trylock path. Safe for any
 *    thread at any time; this is the closer one to 6.6 (the kernel takes the
 *    same uncontended lock), and impl/slub allocates its slabs with it.
 *  - pinned (hp_buddy_*_cpu): the caller names the CPU and promises that only
 *    one thread uses that pcp at a time (a thread pinned to its CPU, as the
 *    benchmark's threads are); plain loads and stores, no lock. This is the
 *    kernel before 5.19 (local_irq_save around the pcp). Mixing both on the
 *    same CPU index at the same time is the caller's bug.
 *
 * Costs (gcc 12 -O2, x86_64, 2-vCPU KVM guest; `hotpath run --suite buddy
 * --metric instructions`, which adds ~20 instructions of benchmark loop and
 * ops-table calls per pair):
 *  - orders 0..3 served by the pcp (the inlined fast path: a list pop and a
 *    push, no lock): alloc+free ~109 instructions at order 0 (alloc 45,
 *    free 64; 129 in the suite's pcp_hit, 2026-12-04; docs/suites/buddy.md
 *    has the breakdown), ~145 at orders 1..3 (172); 7-10 ns per
 *    pair when the machine is quiet; the 6.7 generation adds its free-side
 *    bookkeeping (alloc_factor, free_count, the high-order flag,
 *    nr_pcp_high's clamp) to every free: ~27 more (156 in pcp_hit);
 *  - the inline order-0 pair on a pcp bound at setup
 *    (hp_buddy_pcp_alloc_inline / _free_inline, below): 55 instructions
 *    with the benchmark loop, no call, no argument checks;
 *  - order 9 with thp goes through the pcp on the slow path (not inlined);
 *  - the locked stand-in adds sched_getcpu() and an uncontended
 *    exchange on the pcp lock: ~110 more instructions, ~5-8 ns;
 *  - a pcp refill or drain takes zone->lock and moves `batch` blocks
 *    (O(MAX_ORDER) list operations each);
 *  - orders 4..10 go to the buddy lists under zone->lock: split down from
 *    the smallest free block that fits and merge back, ~85 instructions per
 *    level (order 10 from a fresh zone: ~350, order 4: ~860);
 *  - with the pcp off, an order-0 pair in a fresh zone splits 10 levels and
 *    merges 10: ~1280 instructions, 65-115 ns;
 *  - debug poisoning: a memset and a scan of 4 KiB per page on each free
 *    and allocation; guard pages: an mprotect per guard set or cleared.
 *
 * Thread safety: every function is thread-safe except where it says
 * "quiescent" (no concurrent pinned users of the pcps involved).
 */
#ifndef HP_BUDDY_H
#define HP_BUDDY_H

#include <stddef.h>
#include <stdint.h>

#include "hp_list.h"

/* ------------------------------------------------------------------ */
/* Constants (Linux 6.6, x86_64)                                       */
/* ------------------------------------------------------------------ */

#define HP_PAGE_SHIFT 12
#define HP_PAGE_SIZE (1UL << HP_PAGE_SHIFT)
#define HP_MAX_ORDER 10             /* MAX_ORDER of 6.4-6.7 (inclusive) */
#define HP_NR_ORDERS (HP_MAX_ORDER + 1)  /* NR_PAGE_ORDERS */
#define HP_PAGEBLOCK_ORDER 9        /* pageblock_order = HPAGE_PMD_ORDER */
#define HP_PAGEBLOCK_PAGES (1UL << HP_PAGEBLOCK_ORDER)
#define HP_PAGE_ALLOC_COSTLY_ORDER 3 /* highest order kept on pcp lists */
#define HP_PAGE_POISON 0xaa         /* PAGE_POISON */

/* enum migratetype (the first three are MIGRATE_PCPTYPES) */
typedef enum {
	HP_MIGRATE_UNMOVABLE = 0,
	HP_MIGRATE_MOVABLE = 1,
	HP_MIGRATE_RECLAIMABLE = 2,
	HP_MIGRATE_TYPES = 3,
} hp_migratetype_t;

/* gfp flags: the subset that means something here. Migratetype comes from
 * MOVABLE / RECLAIMABLE (neither: unmovable, as GFP_KERNEL). */
enum {
	HP_GFP_KERNEL = 0,
	HP_GFP_MOVABLE = 1u << 0,      /* __GFP_MOVABLE */
	HP_GFP_RECLAIMABLE = 1u << 1,  /* __GFP_RECLAIMABLE */
	HP_GFP_HIGH = 1u << 2,         /* __GFP_HIGH: ALLOC_MIN_RESERVE, min/2 */
	HP_GFP_NOWAIT = 1u << 3,       /* no direct reclaim: ALLOC_NON_BLOCK */
	HP_GFP_ATOMIC = HP_GFP_HIGH | HP_GFP_NOWAIT, /* GFP_ATOMIC: down to 3/8 of min */
	HP_GFP_MEMALLOC = 1u << 4,     /* ALLOC_NO_WATERMARKS */
	HP_GFP_ZERO = 1u << 5,         /* __GFP_ZERO */
	HP_GFP_COMP = 1u << 6,         /* __GFP_COMP: tails point to the head */
};

/* ------------------------------------------------------------------ */
/* Page descriptor (struct page)                                       */
/* ------------------------------------------------------------------ */

/* page->flags bits that matter here */
enum {
	HP_PG_BUDDY = 1u << 0,    /* free, on free_area[order] (PageBuddy) */
	HP_PG_PCP = 1u << 1,      /* free, on a pcp list, order = its order */
	HP_PG_GUARD = 1u << 2,    /* guard page block head (PageGuard) */
	HP_PG_HEAD = 1u << 3,     /* first page of an allocation of `order` */
	HP_PG_TAIL = 1u << 4,     /* tail of a __GFP_COMP allocation */
	HP_PG_COMP = 1u << 5,     /* head of a __GFP_COMP allocation (with HEAD) */
};

/* struct page, 32 bytes. `lru` links a free block (head page only) on its
 * list; while allocated the same words hold compound_head (tails of a
 * HP_GFP_COMP allocation) and `priv`, which belongs to the allocation's
 * owner (page->private / the struct slab overlay: impl/slub keeps its slab
 * pointer here). */
typedef struct hp_page {
	union {
		hp_list_t lru;            /* free: buddy_list / pcp_list */
		struct {
			struct hp_page *head; /* allocated tail: compound_head */
			void *priv;           /* allocated head: owner's data */
		};
	};
	uint32_t flags;               /* HP_PG_* */
	int32_t refcount;             /* _refcount: 1 when allocated, 0 free */
	uint8_t order;                /* free: buddy order; head: alloc order */
	uint8_t mt;                   /* free: list migratetype; head: requested */
	uint16_t cpu;                 /* pcp: the CPU whose list holds it */
	uint32_t owner;               /* allocated head: free for the owner */
} hp_page_t;

/* ------------------------------------------------------------------ */
/* Zone                                                                */
/* ------------------------------------------------------------------ */

typedef struct hp_buddy_zone hp_buddy_zone_t;

/* The first members of every zone, public so the conversions below inline
 * (virt_to_page / page_address are on impl/slub's kfree path). */
typedef struct hp_buddy_zone_head {
	uint8_t *base;          /* address of pfn 0 */
	hp_page_t *mem_map;     /* descriptor of pfn i is mem_map[i] */
	size_t nr_pages;        /* pages in the zone (managed pages) */
} hp_buddy_zone_head_t;

/* struct per_cpu_pages (6.6 and 6.7), public so that the inline order-0
 * fast path below compiles into its caller; only impl/buddy and that path
 * touch it. `free_factor` is 6.6's shift (the drain batch doubles while
 * only freeing) and 6.7's free_count (pages freed since allocations last
 * halved it): one field, because both generations halve it on every
 * allocation and the fast paths do that blind. lists[]: NR_PCP_LISTS of
 * 6.6, orders 0..3 x MIGRATE_PCPTYPES (order_to_pindex: 3 * order + mt)
 * and the THP list (pageblock_order, any migratetype) last. */
typedef struct hp_buddy_pcp {
	int lock;                     /* pcp->lock (locked stand-in only; __atomic) */
	int count;                    /* pages on the lists */
	int high;                     /* drain when count reaches it (6.7: tuned) */
	int batch;                    /* chunk moved to/from the zone */
	int free_factor;              /* 6.6 free_factor / 6.7 free_count */
	int high_min, high_max;       /* 6.7: the range high is tuned in */
	uint8_t alloc_factor;         /* 6.7: refill batch scaling while only allocating */
	uint8_t flags;                /* 6.7: PCPF_* */
	uint64_t hits, frees;         /* allocations / frees through this pcp */
	hp_list_t lists[HP_MIGRATE_TYPES * (HP_PAGE_ALLOC_COSTLY_ORDER + 1) + 1];
} __attribute__((aligned(64))) hp_buddy_pcp_t;

/* Debug reports: corruption found by the poison check, bad frees. */
typedef enum {
	HP_BUDDY_ERR_SINGLE_BIT,  /* one byte of a poisoned page differs in one bit */
	HP_BUDDY_ERR_CORRUPTION,  /* poison overwritten otherwise */
	HP_BUDDY_ERR_BAD_FREE,    /* free of a free page, a tail, or a wrong order */
} hp_buddy_err_t;

typedef struct hp_buddy_report {
	hp_buddy_err_t kind;
	size_t pfn;             /* the page (for corruption: the page of the first bad byte) */
	void *addr;             /* its address */
	size_t byte;            /* offset of the first bad byte in that page */
	int bit;                /* SINGLE_BIT: the flipped bit 0..7, else -1 */
	uint8_t expected, found;/* HP_PAGE_POISON and what was there (first bad byte) */
	size_t bad_bytes;       /* bytes from the first to the last bad one, inclusive */
	unsigned order;         /* order of the allocation / free */
	const char *msg;        /* one line, e.g. "pagealloc: single bit error" */
} hp_buddy_report_t;

typedef void (*hp_buddy_report_fn)(void *arg, const hp_buddy_report_t *r);

/* Debug flags */
enum {
	HP_BUDDY_DEBUG_POISON = 1u << 0,  /* poison on free, check on alloc */
};

/* pcp set-up (zero = the kernel's rules) */
typedef enum {
	HP_BUDDY_PCP_KERNEL = 0,  /* batch = zone_batchsize(), high = zone_highsize() */
	HP_BUDDY_PCP_OFF,         /* boot pageset: high 0, batch 1: every op hits the zone */
	HP_BUDDY_PCP_CUSTOM,      /* pcp_high / pcp_batch below */
} hp_buddy_pcp_mode_t;

/* pcp generation (the kernel release whose per-CPU rules the zone uses) */
typedef enum {
	HP_BUDDY_PCP_GEN_6_6 = 0, /* fixed high (zone_highsize), free_factor drains */
	HP_BUDDY_PCP_GEN_6_7,     /* high auto-tuned in [high_min, high_max] */
} hp_buddy_pcp_gen_t;

/* Zero-initialise, then set what differs from the defaults. */
typedef struct hp_buddy_config {
	size_t arena_bytes;       /* 0 = 1 GiB; rounded down to whole pages; >= 1 page */
	int ncpus;                /* pcp sets; 0 = sysconf(_SC_NPROCESSORS_CONF) */
	hp_buddy_pcp_mode_t pcp_mode;
	int pcp_high, pcp_batch;  /* CUSTOM: high >= 0, batch >= 1 */
	hp_buddy_pcp_gen_t pcp_gen; /* 0 = 6.6 */
	int pcp_high_max;         /* CUSTOM + GEN_6_7: high_max (>= pcp_high; 0 = pcp_high,
	                           * no tuning, as percpu_pagelist_high_fraction does) */
	int thp;                  /* non-zero: CONFIG_TRANSPARENT_HUGEPAGE, order 9 on the pcp */
	/* Watermarks: 0 = the kernel's rule for a machine with this zone as its
	 * lowmem: int_sqrt(16 * KiB) clamped to 128..262144; > 0: this value;
	 * < 0: no reserve (all watermarks 0). low/high follow
	 * __setup_per_zone_wmarks with watermark_scale_factor 10. */
	long min_free_kbytes;
	unsigned debug;           /* HP_BUDDY_DEBUG_* */
	unsigned guard_minorder;  /* 0 = off; 1..HP_MAX_ORDER (needs an arena we can mprotect) */
	hp_buddy_report_fn report;/* NULL = print to stderr */
	void *report_arg;
	const char *name;         /* zone name in dumps; NULL = "Normal" */
} hp_buddy_config_t;

/* Maps the arena and the memmap, frees every page into free_area (largest
 * aligned blocks, all pageblocks MOVABLE as at boot) and sets watermarks and
 * pcp high/batch. NULL with a reason in err (bad size, bad mode, mmap
 * failure). cfg may be NULL (all defaults). */
hp_buddy_zone_t *hp_buddy_create(const hp_buddy_config_t *cfg, char *err, size_t errlen);
/* Unmaps everything. Pages still allocated are lost with it. */
void hp_buddy_destroy(hp_buddy_zone_t *z);

/* ------------------------------------------------------------------ */
/* Allocation (alloc_pages / __free_pages)                             */
/* ------------------------------------------------------------------ */

/* alloc_pages(gfp, order): 2^order contiguous pages, naturally aligned.
 * Orders 0..HP_PAGE_ALLOC_COSTLY_ORDER (and HP_PAGEBLOCK_ORDER in a thp
 * zone) go through this CPU's pcp lists; others straight to the buddy lists. NULL when order > HP_MAX_ORDER,
 * when no block is free, or when the allocation would take the zone below
 * its watermark (tried against low, then min as the slow path would, with
 * HP_GFP_HIGH / ATOMIC allowed deeper, HP_GFP_MEMALLOC ignoring them).
 * Locked stand-in (see the top of this file); cpu = sched_getcpu(). */
hp_page_t *hp_buddy_alloc_pages(hp_buddy_zone_t *z, unsigned gfp, unsigned order);
/* __free_pages(page, order): drops the reference; at zero the block goes to
 * this CPU's pcp list (order <= 3, or 9 with thp) or back to the buddy
 * lists, merging.
 * A wrong order, a tail page, or a page that is already free is reported
 * (HP_BUDDY_ERR_BAD_FREE) and ignored. NULL is a no-op. */
void hp_buddy_free_pages(hp_buddy_zone_t *z, hp_page_t *page, unsigned order);

/* The same, pinned stand-in: the caller guarantees that it is the only user
 * of pcp `cpu` (0 <= cpu < ncpus; out of range is taken modulo ncpus). */
hp_page_t *hp_buddy_alloc_pages_cpu(hp_buddy_zone_t *z, int cpu, unsigned gfp, unsigned order);
void hp_buddy_free_pages_cpu(hp_buddy_zone_t *z, int cpu, hp_page_t *page, unsigned order);

/* Address API (__get_free_pages / free_pages(addr, order)). */
void *hp_buddy_get_free_pages(hp_buddy_zone_t *z, unsigned gfp, unsigned order);
void hp_buddy_free_pages_addr(hp_buddy_zone_t *z, void *addr, unsigned order);
void *hp_buddy_get_free_pages_cpu(hp_buddy_zone_t *z, int cpu, unsigned gfp, unsigned order);
void hp_buddy_free_pages_addr_cpu(hp_buddy_zone_t *z, int cpu, void *addr, unsigned order);

/* get_page(): one more reference; hp_buddy_free_pages then frees only when
 * the count drops to zero. */
void hp_buddy_get_page(hp_page_t *page);

/* ------------------------------------------------------------------ */
/* Conversions (inline: pfn_to_page, page_address, virt_to_page)      */
/* ------------------------------------------------------------------ */

static inline const hp_buddy_zone_head_t *hp_buddy_head_(const hp_buddy_zone_t *z)
{
	return (const hp_buddy_zone_head_t *)(const void *)z;
}
static inline size_t hp_page_to_pfn(const hp_buddy_zone_t *z, const hp_page_t *p)
{
	return (size_t)(p - hp_buddy_head_(z)->mem_map);
}
static inline hp_page_t *hp_pfn_to_page(const hp_buddy_zone_t *z, size_t pfn)
{
	return hp_buddy_head_(z)->mem_map + pfn;
}
static inline void *hp_page_address(const hp_buddy_zone_t *z, const hp_page_t *p)
{
	return hp_buddy_head_(z)->base + (hp_page_to_pfn(z, p) << HP_PAGE_SHIFT);
}
/* Non-zero when addr lies in the zone's arena (for foreign-pointer checks). */
static inline int hp_buddy_contains(const hp_buddy_zone_t *z, const void *addr)
{
	const hp_buddy_zone_head_t *h = hp_buddy_head_(z);
	uintptr_t a = (uintptr_t)addr, b = (uintptr_t)h->base;
	return a >= b && a - b < (uintptr_t)h->nr_pages << HP_PAGE_SHIFT;
}
/* The descriptor of the page holding addr (which must be in the zone). */
static inline hp_page_t *hp_virt_to_page(const hp_buddy_zone_t *z, const void *addr)
{
	const hp_buddy_zone_head_t *h = hp_buddy_head_(z);
	return h->mem_map + (((uintptr_t)addr - (uintptr_t)h->base) >> HP_PAGE_SHIFT);
}
/* compound_head(): the head of a HP_GFP_COMP allocation, else page itself. */
static inline hp_page_t *hp_compound_head(hp_page_t *p)
{
	return (p->flags & HP_PG_TAIL) ? p->head : p;
}

/* ------------------------------------------------------------------ */
/* Per-CPU lists and watermarks                                        */
/* ------------------------------------------------------------------ */

/* drain_pages(cpu) / drain_all_pages(): give the pcp's pages back to the
 * buddy lists. Takes the pcp lock: quiescent for pinned users of `cpu`. */
void hp_buddy_drain_cpu(hp_buddy_zone_t *z, int cpu);
void hp_buddy_drain_all(hp_buddy_zone_t *z);

/* Sets every pcp's high and batch (percpu_pagelist_high_fraction-like:
 * in a 6.7 zone high_min = high_max = high, tuning off); high 0 and batch
 * 1 is the boot pageset (pcp off). Drains first. -1 on bad values
 * (batch < 1, high < 0). Quiescent. */
int hp_buddy_set_pcp(hp_buddy_zone_t *z, int high, int batch);
/* The same with 6.7's range (pageset_update); high starts at high_min.
 * -1 on bad values, or high_max != high_min in a 6.6 zone. Quiescent. */
int hp_buddy_set_pcp_range(hp_buddy_zone_t *z, int high_min, int high_max, int batch);
/* pcp 0's current high and batch. */
void hp_buddy_get_pcp(const hp_buddy_zone_t *z, int *high, int *batch);

typedef struct hp_buddy_pcp_info {
	int count, high, high_min, high_max, batch;
	int free_count;           /* 6.6: free_factor; 6.7: free_count */
	int alloc_factor;         /* 6.7 */
	int below_high;           /* 6.7: the zone's ZONE_BELOW_HIGH */
} hp_buddy_pcp_info_t;
/* One pcp's state. Quiescent for pinned users of `cpu`. */
void hp_buddy_get_pcp_info(hp_buddy_zone_t *z, int cpu, hp_buddy_pcp_info_t *info);
hp_buddy_pcp_gen_t hp_buddy_pcp_gen(const hp_buddy_zone_t *z);
/* decay_pcp_high() (6.7, mm/page_alloc.c), which the vmstat worker runs
 * for every pcp about once a second: high drops by an eighth (not below
 * high_min, nor more than 32 batches below count) and the pages above it
 * are freed to the zone. Returns 1 while there is more to do, else 0.
 * A 6.6 zone has no decay (its worker only drains remote-node pcps): 0.
 * The caller is the clock; takes the pcp lock (quiescent for pinned users). */
int hp_buddy_pcp_decay(hp_buddy_zone_t *z, int cpu);
/* Pages on pcp `cpu`'s lists (pcp->count). Quiescent for pinned users. */
int hp_buddy_pcp_count(hp_buddy_zone_t *z, int cpu);
int hp_buddy_ncpus(const hp_buddy_zone_t *z);

/* fork() support (pthread_atfork's three hooks): prepare takes every pcp
 * lock and then zone->lock, so no other thread is inside the zone when
 * fork() copies it; parent releases them; child re-initialises them (the
 * child has only the forking thread, and everything is consistent). A
 * user of the zone that has its own locks above buddy (impl/slub) takes
 * those first. Pinned (_cpu) users take no lock: they must not be running
 * in another thread across a fork. */
void hp_buddy_fork_prepare(hp_buddy_zone_t *z);
void hp_buddy_fork_parent(hp_buddy_zone_t *z);
void hp_buddy_fork_child(hp_buddy_zone_t *z);

typedef struct hp_buddy_wmarks {
	unsigned long min, low, high;   /* pages */
} hp_buddy_wmarks_t;
void hp_buddy_get_wmarks(const hp_buddy_zone_t *z, hp_buddy_wmarks_t *w);
/* Recomputes the watermarks (and pcp high under the kernel rule) from
 * min_free_kbytes (>= 0; 0 gives min 0 and low/high from
 * watermark_scale_factor alone). -1 on a negative value. */
int hp_buddy_set_min_free_kbytes(hp_buddy_zone_t *z, long kbytes);
/* __zone_watermark_ok(order, mark) for gfp's reserve rights, as allocation
 * checks it: 1 ok, 0 not. */
int hp_buddy_watermark_ok(hp_buddy_zone_t *z, unsigned order, unsigned long mark, unsigned gfp);

/* ------------------------------------------------------------------ */
/* Inline order-0 pcp fast path (a pcp bound at setup)                 */
/* ------------------------------------------------------------------ */

/* The equal-shape counterpart of impl/slub's inline pair with the cache
 * fixed at setup: alloc_pages(gfp, 0) / __free_pages(page, 0) on a pcp hit,
 * compiled into the caller, with the zone, the pcp and the allocation's
 * migratetype bound once (hp_buddy_pcp_bind) and the caller trusted, as the
 * kernel's internal callers are after gfp processing: no order, gfp, cpu
 * or page-state checks. Everything else (empty list: the batched refill,
 * rmqueue_bulk; count at high: the drain, free_pcppages_bulk; the
 * watermark refused) leaves through one out-of-line call into the same
 * code hp_buddy_alloc_pages_cpu / hp_buddy_free_pages_cpu run, so the two
 * paths keep one pcp and mix freely on it (pages conserved, pcp->count
 * equal to its lists). Pinned stand-in: the caller is the pcp's only user
 * (see the top of this file); the kernel's pcp_spin_trylock/unlock around
 * each side (a locked cmpxchg and a store, plus preempt_count) is not paid.
 *
 * Kernel work kept (6.6, mm/page_alloc.c, a non-debug build):
 *  alloc  get_page_from_freelist: zone_watermark_fast() at order 0 (free
 *           pages above the low mark; 6.7 zones: the high mark while
 *           ZONE_BELOW_HIGH is clear, as the out-of-line path);
 *         rmqueue_pcplist: pcp->free_factor >>= 1; the count of the
 *           allocation (__count_zid_vm_events PGALLOC: pcp->hits here);
 *         __rmqueue_pcplist: list_first_entry, list_del (with its two
 *           poison stores), pcp->count -= 1;
 *         check_new_pages: nothing - in 6.6 it runs only under the
 *           check_pages_enabled static key (CONFIG_DEBUG_VM, or any page
 *           debugging/hardening option: debug_pagealloc, page_poisoning,
 *           init_on_alloc/free), off in a non-debug build;
 *         post_alloc_hook / prep_new_page: set_page_private(0),
 *           set_page_refcounted (1); here also the model's own page state
 *           (flags = head, the requested migratetype, the owner word), which
 *           stands in for the kernel's clear_page_pfmemalloc store.
 *  free   __free_pages: put_page_testzero() (an atomic decrement; a page
 *           with other references is not freed);
 *         free_pages_prepare's cheap part: the page flags reset
 *           (PAGE_FLAGS_CHECK_AT_PREP cleared: flags = on-pcp here);
 *           free_page_is_bad() is debug-only (check_pages_enabled), as are
 *           the poison, page_owner, kasan and init_on_free hooks (static
 *           keys, off); HWPoison, memcg kmem uncharge and PageMappingFlags
 *           are not modelled;
 *         free_unref_page_prepare: get_pfnblock_migratetype() (the
 *           pageblock's migratetype, looked up per page, not the bound one)
 *           and set_pcppage_migratetype();
 *         free_unref_page_commit: PGFREE count (pcp->frees), list_add to
 *           lists[order_to_pindex(mt, 0)], pcp->count += 1, the 6.6 high
 *           test (nr_pcp_high: high, 0 for the boot pageset); at high the
 *           out-of-line drain (nr_pcp_free with free_factor,
 *           free_pcppages_bulk under zone->lock).
 *  Not kept: the kernel's gfp processing before all this
 *  (__alloc_pages: gfp_allowed_mask, prepare_alloc_pages, the zonelist
 *  walk's first zone), ZONE_BOOSTED_WATERMARK and NUMA statistics
 *  (zone_statistics), the zone flags test in nr_pcp_high
 *  (ZONE_RECLAIM_ACTIVE: nothing reclaims here).
 *
 * Cost (gcc 12 -O2, x86_64, callgrind, 2026-12-05): the pair is 55
 * instructions in `hotpath run --suite buddy --metric instructions
 * --filter pcp_hit/impl-inline` (alloc 25, free 27, benchmark loop 3),
 * against 129 for the out-of-line `impl` pair and 20 for impl/slub's
 * inline `pair/impl-pinned/64` in the same run (2.75x);
 * docs/suites/buddy.md has the breakdown per step. */

/* What hp_buddy_pcp_bind fixes. Fields are read by the inline functions
 * only; set them through hp_buddy_pcp_bind. */
typedef struct hp_buddy_pcp_ref {
	hp_buddy_pcp_t *pcp;          /* this CPU's pcp */
	hp_list_t *list;              /* pcp->lists[order_to_pindex(mt, 0)] */
	const long *free_wm;          /* [0] NR_FREE_PAGES, [1] the order-0 fast watermark */
	hp_page_t *mem_map;           /* the zone's memmap (vmemmap) */
	const uint8_t *pageblock_mt;  /* pageblock_flags: a migratetype per pageblock */
	hp_buddy_zone_t *zone;        /* for the slow paths */
	uint16_t cpu;                 /* the pcp's CPU index */
	uint8_t mt;                   /* the allocations' migratetype (from gfp) */
} hp_buddy_pcp_ref_t;

/* Binds `ref` to pcp `cpu` of zone z for order-0 allocations of gfp's
 * migratetype (HP_GFP_KERNEL, HP_GFP_MOVABLE or HP_GFP_RECLAIMABLE; other
 * gfp bits are refused: they need the out-of-line path). 0, or -1 with a
 * reason in err: cpu out of range, other gfp bits, a debug zone (its checks
 * are on the out-of-line path), a 6.7 zone (its free-side tuning is not
 * inlined). The reference stays valid while the zone exists. */
int hp_buddy_pcp_bind(hp_buddy_zone_t *z, int cpu, unsigned gfp, hp_buddy_pcp_ref_t *ref, char *err,
		      size_t errlen);

/* The out-of-line exits (not for other callers): the refill or refused
 * allocation through the out-of-line allocator's slow path, and the drain
 * when a free brought count to high (`freed`, just added to its list, says
 * which list the drain starts from, as free_unref_page_commit's pindex). */
hp_page_t *hp_buddy_pcp_alloc_slow_(const hp_buddy_pcp_ref_t *ref);
void hp_buddy_pcp_drain_high_(const hp_buddy_pcp_ref_t *ref, const hp_page_t *freed);

/* alloc_pages(gfp, 0) on the bound pcp: an order-0 page with one
 * reference, or NULL (watermark, or the zone out of pages: the slow path's
 * answer). Kernel: get_page_from_freelist's zone_watermark_fast +
 * rmqueue_pcplist/__rmqueue_pcplist + prep_new_page (6.6). Cost: 25
 * instructions on a hit; a miss adds the refill (rmqueue_bulk: zone->lock
 * and `batch` blocks). */
static inline __attribute__((always_inline)) hp_page_t *hp_buddy_pcp_alloc_inline(const hp_buddy_pcp_ref_t *ref)
{
	const long *wm = ref->free_wm;
	hp_list_t *list = ref->list, *first;

	if (__builtin_expect(__atomic_load_n(&wm[0], __ATOMIC_RELAXED) <= __atomic_load_n(&wm[1], __ATOMIC_RELAXED), 0))
		return hp_buddy_pcp_alloc_slow_(ref);
	first = list->next;
	if (__builtin_expect(first == list, 0))
		return hp_buddy_pcp_alloc_slow_(ref);
	hp_list_del(first);
	hp_buddy_pcp_t *pcp = ref->pcp;
#ifndef HP_BUDDY_MUTATE_INLINE_NOCOUNT
	pcp->count--;
#endif  /* mutant (tests/meson.build): the count is not decremented */
	pcp->free_factor >>= 1;
	pcp->hits++;
	hp_page_t *p = hp_list_entry(first, hp_page_t, lru);
	__atomic_store_n(&p->flags, (uint32_t)HP_PG_HEAD, __ATOMIC_RELAXED);
	__atomic_store_n(&p->mt, ref->mt, __ATOMIC_RELAXED);
	p->priv = NULL;
	p->owner = 0;
	__atomic_store_n(&p->refcount, 1, __ATOMIC_RELAXED);
	return p;
}

/* __free_pages(page, 0) onto the bound pcp. page is an order-0 page of the
 * zone, allocated by any path without HP_GFP_COMP at a higher order
 * (trusted, not checked: a wrong page corrupts the zone as in the kernel).
 * A page with other references (hp_buddy_get_page) only loses one. Kernel:
 * __free_pages -> free_unref_page (free_pages_prepare's non-debug part,
 * free_unref_page_prepare, free_unref_page_commit), 6.6. Cost: 27
 * instructions, one of them an atomic decrement; at high add the drain
 * (free_pcppages_bulk: zone->lock and a batch of merges). */
static inline __attribute__((always_inline)) void hp_buddy_pcp_free_inline(const hp_buddy_pcp_ref_t *ref,
									  hp_page_t *page)
{
	if (__atomic_sub_fetch(&page->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	/* page_to_pfn() and pfn >> pageblock_order as one shift of the
	 * descriptor's byte offset (sizeof(hp_page_t) is a power of two) */
	size_t pb = ((uintptr_t)page - (uintptr_t)ref->mem_map) / (sizeof(hp_page_t) << HP_PAGEBLOCK_ORDER);
	size_t mt = __atomic_load_n(&ref->pageblock_mt[pb], __ATOMIC_RELAXED);
	hp_buddy_pcp_t *pcp = ref->pcp;
	hp_list_t *head = &pcp->lists[mt];   /* order_to_pindex(mt, 0) */
	/* the list head's address once, in a register: without this GCC
	 * computes it twice. Emits nothing. */
	__asm__("" : "+r"(head));
	__atomic_store_n(&page->mt, (uint8_t)mt, __ATOMIC_RELAXED);
	page->cpu = ref->cpu;
	__atomic_store_n(&page->flags, (uint32_t)HP_PG_PCP, __ATOMIC_RELAXED);
	/* list_add(&page->lru, head), its four stores in an order that keeps
	 * GCC from pairing the page's two into an SSE store (three more
	 * instructions to build the pair) */
	hp_list_t *next = head->next;
	page->lru.prev = head;
	next->prev = &page->lru;
	page->lru.next = next;
	head->next = &page->lru;
	pcp->frees++;
	int count = ++pcp->count;
	if (__builtin_expect(count >= pcp->high, 0))
		hp_buddy_pcp_drain_high_(ref, page);
}

/* ------------------------------------------------------------------ */
/* Observability                                                       */
/* ------------------------------------------------------------------ */

/* NR_FREE_PAGES: pages on the buddy lists (not on pcp lists, not guards). */
unsigned long hp_buddy_free_pages_count(hp_buddy_zone_t *z);
/* free_area[order].nr_free (all migratetypes); -1 for a bad order. */
long hp_buddy_nr_free(hp_buddy_zone_t *z, unsigned order);
/* Blocks on free_area[order].free_list[mt]. */
long hp_buddy_nr_free_mt(hp_buddy_zone_t *z, unsigned order, hp_migratetype_t mt);
/* get_pageblock_migratetype() of the pageblock holding pfn. */
hp_migratetype_t hp_buddy_pageblock_mt(hp_buddy_zone_t *z, size_t pfn);

/* The zone's line of /proc/buddyinfo ("Node 0, zone   Normal" then
 * nr_free of each order as %6lu, space-separated, a trailing space and
 * '\n'). snprintf semantics: returns the length it needs. */
int hp_buddy_buddyinfo(hp_buddy_zone_t *z, char *buf, size_t len);

/* mm/vmstat.c, 6.6, integer math as the kernel's: values x1000.
 * unusable_free_index(): 0 .. 1000 (1000 when nothing is free).
 * __fragmentation_index(): -1000 when an order-`order` block is free, else
 * 0 (failure due to lack of memory) .. 1000 (due to fragmentation); 0 when
 * nothing is free. Bad order: -2000 (the kernel WARNs and returns 0). */
int hp_buddy_unusable_index(hp_buddy_zone_t *z, unsigned order);
int hp_buddy_extfrag_index(hp_buddy_zone_t *z, unsigned order);
/* The same computed from nr_free[0..HP_MAX_ORDER] alone (hand-built states). */
int hp_buddy_unusable_index_of(const unsigned long nr_free[HP_NR_ORDERS], unsigned order);
int hp_buddy_extfrag_index_of(const unsigned long nr_free[HP_NR_ORDERS], unsigned order);
/* The zone's line of debugfs extfrag/unusable_index ("%d.%03d " per order)
 * and extfrag/extfrag_index ("%2d.%03d " per order). snprintf semantics. */
int hp_buddy_unusable_show(hp_buddy_zone_t *z, char *buf, size_t len);
int hp_buddy_extfrag_show(hp_buddy_zone_t *z, char *buf, size_t len);

typedef struct hp_buddy_stats {
	unsigned long total_pages;    /* managed pages */
	unsigned long free_pages;     /* NR_FREE_PAGES (buddy lists) */
	unsigned long pcp_pages;      /* on all pcp lists */
	unsigned long guard_pages;    /* held as guard pages */
	unsigned long alloc_pages;    /* handed out and not yet freed */
	uint64_t allocs, frees;       /* successful calls */
	uint64_t fail_order, fail_wmark, fail_nomem; /* failed allocations by cause */
	uint64_t pcp_hits;            /* allocations served from a pcp list */
	uint64_t pcp_refills;         /* rmqueue_bulk calls */
	uint64_t pcp_drains;          /* free_pcppages_bulk calls */
	uint64_t pcp_contended;       /* locked path: trylock failed, went to zone */
	uint64_t zone_lock_acquisitions; /* zone->lock taken by allocation, free, refill,
	                                  * drain, decay (not by these observers) */
	uint64_t fallbacks;           /* __rmqueue_fallback successes (mm_page_alloc_extfrag) */
	uint64_t block_steals;        /* pageblocks whose migratetype changed */
	uint64_t poison_errors;       /* debug: corrupted pages found */
	uint64_t bad_frees;
} hp_buddy_stats_t;
/* Quiescent for pinned users (reads every pcp under its lock). */
void hp_buddy_get_stats(hp_buddy_zone_t *z, hp_buddy_stats_t *s);

/* Checks every invariant: each free block is aligned to its order, lies in
 * the zone and is flagged free with that order; no two free buddies of the
 * same order are left unmerged; each list's length equals its nr_free and
 * NR_FREE_PAGES equals their sum; pcp counts match their lists; free +
 * pcp + guard + allocated = total; each pcp high in [high_min, high_max]
 * (one value in a 6.6 zone). 0 ok, else -1 with the first violation
 * in err. Quiescent (takes the zone lock and every pcp lock). */
int hp_buddy_check(hp_buddy_zone_t *z, char *err, size_t errlen);

#endif
