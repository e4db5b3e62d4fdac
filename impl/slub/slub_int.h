/* slub_int.h — impl/slub's private types and helpers, shared by slub.c and slub_debug.c. */
#ifndef HP_SLUB_INT_H
#define HP_SLUB_INT_H

#include <pthread.h>
#include <stdarg.h>

#include "hp_list.h"
#include "slub.h"

#define HP_SLUB_HIDDEN __attribute__((visibility("hidden")))

/* ------------------------------------------------------------------ */
/* struct slab                                                         */
/* ------------------------------------------------------------------ */

/* slab->counters (6.6): inuse:16, objects:15, frozen:1 in the low word. */
#define CNT_INUSE(v) ((unsigned)((v) & 0xffffu))
#define CNT_OBJECTS(v) ((unsigned)(((v) >> 16) & 0x7fffu))
#define CNT_FROZEN(v) ((unsigned)(((v) >> 31) & 1u))
#define CNT_MAKE(inuse, objects, frozen) \
	((uint64_t)(inuse) | ((uint64_t)(objects) << 16) | ((uint64_t)(frozen) << 31))
#define MAX_OBJS_PER_PAGE 32767u       /* objects is 15 bits */

enum { SLAB_ON_NONE, SLAB_ON_PARTIAL, SLAB_ON_FULL };

/* struct slab (6.6), 64 bytes, one per head pfn of buddy's mem_map. The
 * first 16 bytes are one cmpxchg16b operand (slab_update_freelist). */
typedef struct hp_slab {
	union {
		struct {
			void *freelist;       /* free objects not on a cpu freelist */
			uint64_t counters;    /* CNT_*: inuse, objects, frozen */
		};
		hp_u128_t freelist_counters;
	};
	hp_kmem_cache_t *cache;           /* slab_cache */
	union {
		hp_list_t slab_list;      /* node partial / full list */
		struct {                  /* per-CPU partial chain (frozen) */
			struct hp_slab *next;
			int slabs;        /* slabs on the chain from here */
		};
	};
	uintptr_t addr;                   /* first byte */
	uint8_t order;
	uint8_t on_list;                  /* SLAB_ON_*, under the node lock */
	uint8_t nid;                      /* slab_nid(): the emulated node it was allocated for */
	uint8_t pad_[1];
	/* copies of cache->hot.pin_off and cache->hot.offset (fixed for the
	 * cache's life), for hp_kfree()'s pinned fast path: in the kernel
	 * struct slab overlays struct page, so kfree loads slab->slab_cache
	 * straight from the page; here the slab descriptor is one more load
	 * away (page->priv), and these spare the load of the cache, keeping
	 * the fast path at the kernel's number of loads */
	uint32_t pin_off;
	uint32_t fp_offset;
	uint8_t pad2_[4];
} __attribute__((aligned(64))) hp_slab_t;

_Static_assert(sizeof(hp_slab_t) == 64, "hp_slab_t is one cache line");

/* ------------------------------------------------------------------ */
/* struct kmem_cache_node, struct kmem_cache                           */
/* ------------------------------------------------------------------ */

typedef struct hp_kmem_cache_node {
	pthread_mutex_t list_lock;        /* spinlock_t list_lock */
	unsigned long nr_partial;         /* written under list_lock, read racily (atomic) */
	hp_list_t partial;
	long nr_slabs;                    /* atomic */
	long total_objects;               /* atomic */
	hp_list_t full;                   /* SLAB_STORE_USER only */
} hp_kmem_cache_node_t;

/* struct node_barn (6.18): a node's spare full and empty sheaves. */
typedef struct hp_node_barn {
	pthread_mutex_t lock;             /* spinlock_t lock */
	hp_list_t sheaves_full, sheaves_empty;
	unsigned nr_full, nr_empty;       /* written under lock, read racily */
} hp_node_barn_t;

struct hp_kmem_cache {
	hp_kmem_cache_hot_t hot;          /* cpu_off, flags, offset, random: the inlines' view */
	unsigned object_size;             /* what the user asked for */
	unsigned size;                    /* stride */
	unsigned inuse;                   /* object_size aligned up, + red zone word */
	unsigned align;
	unsigned red_left_pad;
	unsigned oo_order, oo_objects;    /* s->oo */
	unsigned min_order, min_objects;  /* s->min */
	unsigned long min_partial;
	unsigned cpu_partial, cpu_partial_slabs;
	int kmalloc_index;                /* kmalloc cache index, 0 if none */
	int pcpu_chunk;                   /* chunk index in the per-CPU units */
	void (*ctor)(void *);
	uint64_t errors;                  /* atomic */
	hp_list_t list;                   /* slab_caches, under slab_mutex */
	char name[48];
	/* s->node[]: one per emulated node (hp_slub_set_nodes); the cpu-slab
	 * generation and debug caches use node 0 only */
	hp_kmem_cache_node_t node[HP_SLUB_MAX_NODES];
	unsigned sheaf_capacity;          /* generation `sheaves` (sheaves.c); 0: cpu-slab, or a debug cache */
	hp_node_barn_t barn[HP_SLUB_MAX_NODES]; /* sheaves: each node's barn (kmem_cache_node->barn) */
	struct hp_slab_sheaf **rcu_free;  /* sheaves: pcs->rcu_free, 8 pointers (a line) a unit, mapped on first kfree_rcu */
} __attribute__((aligned(64)));

#define HP_SLAB_DEBUG_FLAGS (HP_SLAB_DEBUG_ALL)
#define OO_BYTES(order) ((uintptr_t)HP_PAGE_SIZE << (order))

static inline int kmem_cache_debug(const hp_kmem_cache_t *s)
{
	return (s->hot.flags & HP_SLAB_DEBUG_FLAGS) != 0;
}
/* __OBJECT_POISON: poison only objects we may overwrite while free */
static inline int object_poison(const hp_kmem_cache_t *s)
{
	return (s->hot.flags & HP_SLAB_POISON) && !s->ctor;
}
static inline int freeptr_outside_object(const hp_kmem_cache_t *s)
{
	return s->hot.offset >= s->inuse;
}
/* get_info_end(): end of the free pointer area */
static inline unsigned info_end(const hp_kmem_cache_t *s)
{
	return freeptr_outside_object(s) ? s->inuse + (unsigned)sizeof(void *) : s->inuse;
}
static inline int debug_orig_size(const hp_kmem_cache_t *s)
{
	return (s->hot.flags & HP_SLAB_STORE_USER) && (s->hot.flags & HP_SLAB_KMALLOC);
}

/* ------------------------------------------------------------------ */
/* Atomics and small helpers                                           */
/* ------------------------------------------------------------------ */

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

static inline int cas128(hp_u128_t *p, uintptr_t o0, uint64_t o1, uintptr_t n0, uint64_t n1)
{
	hp_u128_t o = (hp_u128_t)o0 | ((hp_u128_t)o1 << 64);
	hp_u128_t n = (hp_u128_t)n0 | ((hp_u128_t)n1 << 64);
	return __sync_bool_compare_and_swap(p, o, n);
}

#define slab_of_list(l) hp_list_entry(l, hp_slab_t, slab_list)

/* get_freepointer / set_freepointer for the out-of-line paths: with
 * CONFIG_SLAB_FREELIST_HARDENED's encoding, ptr ^ key ^ swab(&word). */
static inline void *fp_get(const hp_kmem_cache_t *s, const void *obj)
{
	uintptr_t where = (uintptr_t)obj + s->hot.offset, v = *(const hp_slub_word_t *)where;

	if (s->hot.flags & HP_SLAB_FREELIST_HARDENED)
		v ^= s->hot.random ^ __builtin_bswap64((uint64_t)where);
	return (void *)v;
}
static inline void fp_set(const hp_kmem_cache_t *s, void *obj, const void *fp)
{
	uintptr_t where = (uintptr_t)obj + s->hot.offset, v = (uintptr_t)fp;

	if (s->hot.flags & HP_SLAB_FREELIST_HARDENED)
		v ^= s->hot.random ^ __builtin_bswap64((uint64_t)where);
	*(hp_slub_word_t *)where = v;
}
static inline int hardened(const hp_kmem_cache_t *s)
{
	return (s->hot.flags & HP_SLAB_FREELIST_HARDENED) != 0;
}
/* The cpu freelist is hidden in c->hfreelist (c->freelist stays NULL and
 * c->slab_bytes 0, so the inline fast paths always go slow): hardened
 * caches of the `minimal` config. `distro` caches keep theirs in
 * c->freelist, as the kernel does, and only their out-of-line fast paths
 * (which decode) may touch it. */
static inline int hidden_fl(const hp_kmem_cache_t *s)
{
	return (s->hot.flags & (HP_SLAB_FREELIST_HARDENED | HP_SLAB_KCONFIG_DISTRO)) == HP_SLAB_FREELIST_HARDENED;
}
static inline int rseq_cache(const hp_kmem_cache_t *s)
{
	return (s->hot.flags & HP_SLAB_PCPU_RSEQ) != 0;
}

/* ------------------------------------------------------------------ */
/* Shared between slub.c and slub_debug.c                              */
/* ------------------------------------------------------------------ */

/* A tiny formatter over a fixed buffer (no stdio: it may malloc). Counts
 * what did not fit, for snprintf semantics. */
typedef struct hp_fmt {
	char *buf;
	size_t len, pos;
} hp_fmt_t;

HP_SLUB_HIDDEN void fmt_str(hp_fmt_t *f, const char *s);
HP_SLUB_HIDDEN void fmt_pad(hp_fmt_t *f, const char *s, int width, int left);
HP_SLUB_HIDDEN void fmt_u(hp_fmt_t *f, uint64_t v, int width);
HP_SLUB_HIDDEN void fmt_i(hp_fmt_t *f, int64_t v);
HP_SLUB_HIDDEN void fmt_hex(hp_fmt_t *f, uint64_t v);  /* 0x... */
HP_SLUB_HIDDEN void fmt_end(hp_fmt_t *f);              /* NUL-terminate */

/* Globals other files need */
HP_SLUB_HIDDEN extern hp_buddy_zone_t *slub_zone;
HP_SLUB_HIDDEN extern hp_slab_t *slub_slab_map;
HP_SLUB_HIDDEN hp_slab_t *slub_virt_to_slab(const void *x);   /* NULL: not a slab page */

/* Iterate objects of a slab: object i starts at addr + i*size + red_left_pad. */
static inline char *slab_object(const hp_kmem_cache_t *s, const hp_slab_t *slab, unsigned i)
{
	return (char *)slab->addr + (size_t)i * s->size + s->red_left_pad;
}

/* slub_debug.c: the checks (called under the node's list_lock for debug caches) */
HP_SLUB_HIDDEN void debug_setup_slab(hp_kmem_cache_t *s, hp_slab_t *slab);    /* new slab: poison, init objects */
HP_SLUB_HIDDEN void debug_init_object(hp_kmem_cache_t *s, void *obj, int val);
/* Takes the first free object off a debug cache's slab (list_lock held),
 * checking and repairing on the way; NULL only when the slab's freelist
 * had to be given up (it is then NULL). */
HP_SLUB_HIDDEN void *debug_take_object(hp_kmem_cache_t *s, hp_slab_t *slab, unsigned long addr, size_t orig_size);
/* Returns 1: free it; 0: do not (bad pointer, double free: reported). */
HP_SLUB_HIDDEN int debug_free_processing(hp_kmem_cache_t *s, hp_slab_t *slab, void *obj, unsigned long addr);
HP_SLUB_HIDDEN void debug_free_slab_checks(hp_kmem_cache_t *s, hp_slab_t *slab);
HP_SLUB_HIDDEN int debug_check_valid_pointer(const hp_kmem_cache_t *s, const hp_slab_t *slab, const void *obj);
HP_SLUB_HIDDEN void debug_report_leaks(hp_kmem_cache_t *s, hp_slab_t *slab);
HP_SLUB_HIDDEN void debug_set_orig_size(hp_kmem_cache_t *s, void *obj, size_t orig);
HP_SLUB_HIDDEN size_t debug_get_orig_size(const hp_kmem_cache_t *s, const void *obj);
HP_SLUB_HIDDEN long debug_validate_slab(hp_kmem_cache_t *s, hp_slab_t *slab);

/* slub.c for sheaves.c: the slab layer both generations share. */
HP_SLUB_HIDDEN void slub_lock_node(hp_kmem_cache_node_t *n);
HP_SLUB_HIDDEN void slub_unlock_node(hp_kmem_cache_node_t *n);
HP_SLUB_HIDDEN void slub_add_partial(hp_kmem_cache_node_t *n, hp_slab_t *slab, int tail);
HP_SLUB_HIDDEN void slub_remove_partial(hp_kmem_cache_node_t *n, hp_slab_t *slab);
HP_SLUB_HIDDEN hp_slab_t *slub_new_slab(hp_kmem_cache_t *s, unsigned nid); /* allocate_slab(), counted */
/* Emulated NUMA (hp_slub_set_nodes): node count, and numa_mem_id() of
 * the CPU whose per-CPU unit c (a pcs or kmem_cache_cpu of s) is. */
HP_SLUB_HIDDEN extern unsigned slub_nr_nodes;
HP_SLUB_HIDDEN unsigned slub_unit_node(const hp_kmem_cache_t *s, const void *c);
HP_SLUB_HIDDEN unsigned slub_numa_mem_id(void);
HP_SLUB_HIDDEN int slub_slab_update(hp_slab_t *slab, void *ofl, uint64_t ocnt, void *nfl, uint64_t ncnt);
/* __slab_free() of head..tail (cnt objects of slab, chained) */
HP_SLUB_HIDDEN void slub_free_to_slab(hp_kmem_cache_t *s, hp_slab_t *slab, void *head, void *tail, unsigned cnt);
HP_SLUB_HIDDEN hp_kmem_cache_cpu_t *slub_unit_slot(const hp_kmem_cache_t *s, int unit);
HP_SLUB_HIDDEN void slub_stat(const hp_kmem_cache_t *s, int item);

/* sheaves.c for slub.c */
HP_SLUB_HIDDEN unsigned sheaves_capacity_for(unsigned size);
HP_SLUB_HIDDEN void sheaves_open(hp_kmem_cache_t *s);                 /* after chunk_alloc */
HP_SLUB_HIDDEN void sheaves_flush_all(hp_kmem_cache_t *s);            /* shrink/destroy: quiescent */
HP_SLUB_HIDDEN void sheaves_close(hp_kmem_cache_t *s);                /* destroy: unmaps rcu_free */
HP_SLUB_HIDDEN size_t sheaves_alloc_bulk(hp_kmem_cache_t *s, size_t n, void **p);
HP_SLUB_HIDDEN void sheaves_free_bulk(hp_kmem_cache_t *s, size_t n, void **p); /* objects of s only */
HP_SLUB_HIDDEN void sheaves_fork_prepare(hp_kmem_cache_t *s);
HP_SLUB_HIDDEN void sheaves_fork_release(hp_kmem_cache_t *s, int child);
static inline int sheaves_cache(const hp_kmem_cache_t *s)
{
	return s->sheaf_capacity != 0;
}

/* A report of kind k about object/slab; what is a printf-free message built by the caller. */
typedef struct hp_slub_err_info {
	hp_slub_err_t kind;
	const hp_kmem_cache_t *s;         /* may be NULL */
	const char *cache_name;           /* used when s is NULL */
	const char *what;
	const hp_slab_t *slab;
	const void *object;
	long offset;
	size_t bad_bytes;
	int expected, found;
	size_t count;
	const char *fix;
	const char *extra;                /* more lines for the text (leak list) */
} hp_slub_err_info_t;
HP_SLUB_HIDDEN void slub_report(const hp_slub_err_info_t *e);

#endif
