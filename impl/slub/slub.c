/* slub.c — SLUB (Linux 6.6 mm/slub.c): caches, slow paths, bulk, kmalloc, slabinfo; over impl/buddy. */
#include "slub_int.h"
#include "hp_rand.h"
#include "hp_time.h"

#include <errno.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

/* ================================================================== */
/* Global state                                                        */
/* ================================================================== */

char *hp_slub_pcpu_base_;
__thread char *hp_slub_this_unit_ __attribute__((tls_model("initial-exec")));
/* The out-of-line pinned fast paths' view of hp_slub_this_unit_: the same
 * unit once the thread called hp_slub_set_cpu(), else an all-zero unit
 * (freelist NULL, slab NULL) on which both fast paths fail, so they need
 * no test for "declared" (it is never written). */
static char nounit[1u << HP_SLUB_PCPU_UNIT_SHIFT] __attribute__((aligned(64)));
static __thread char *fast_unit __attribute__((tls_model("initial-exec"))) = nounit;

hp_buddy_zone_t *slub_zone;
hp_slab_t *slub_slab_map;

enum { ST_NONE, ST_STARTING, ST_READY, ST_FAILED };

/* What the pinned kmalloc set holds before set-up: cpu_off 0 (with
 * nounit, a NULL cpu freelist), so hp_kmalloc_pinned()'s fast path needs
 * no test for "set up" (see kmalloc_fast). */
static hp_kmem_cache_t nocache;

#define PCPU_CHUNK ((uintptr_t)sizeof(hp_kmem_cache_cpu_t))
#define PCPU_CHUNKS ((int)((1u << HP_SLUB_PCPU_UNIT_SHIFT) / sizeof(hp_kmem_cache_cpu_t)))

static struct {
	int state;                        /* ST_*, atomic */
	int nr_cpus;                      /* nr_cpu_ids; unit nr_cpus is the shared one */
	int nr_present;                   /* num_present_cpus() */
	unsigned min_objects, min_order, max_order;
	unsigned debug_flags;             /* slab_debug letters */
	int debug_all;                    /* ... for every cache, else for debug_names */
	char debug_names[256];            /* "name,prefix*,..." */
	int hardened;
	uint64_t key_state;               /* splitmix64 state for cache keys, 0: getrandom */
	size_t pcpu_len, map_len;
	pthread_mutex_t slab_mutex;       /* caches list, per-CPU chunks */
	hp_list_t caches;                 /* slab_caches, newest first */
	uint64_t chunk_used[(1u << HP_SLUB_PCPU_UNIT_SHIFT) / sizeof(hp_kmem_cache_cpu_t) / 64 + 1];
	hp_kmem_cache_t *kmalloc[HP_KMALLOC_NR_SETS][HP_KMALLOC_NR_CACHES];
	uint8_t size_index[24];           /* kmalloc_size_index[] (next to kmalloc[]: one base register) */
	int rseq_ok;                      /* rseq registered: HP_SLAB_PCPU_RSEQ caches use it */
} g = {
	.slab_mutex = PTHREAD_MUTEX_INITIALIZER,
#define NC_ &nocache
	.kmalloc[HP_KMALLOC_SET_PINNED] = { NC_, NC_, NC_, NC_, NC_, NC_, NC_, NC_, NC_, NC_, NC_, NC_, NC_, NC_ },
#undef NC_
	/* kmalloc_size_index[] of 6.6: sizes 1..192 in steps of 8 -> cache index
	 * (1 = kmalloc-96, 2 = kmalloc-192, n = kmalloc-2^n). */
	.size_index = { 3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2 },
};

/* The "kmem_cache" cache: cache descriptors come from it (the kernel's
 * boot cache), so creating a cache never needs malloc. */
static hp_kmem_cache_t boot_cache;
static __thread int t_initialising __attribute__((tls_model("initial-exec")));

const char *const hp_slub_stat_names[HP_SLUB_NR_STATS] = {
	"alloc_slowpath", "free_slowpath", "free_frozen", "free_add_partial", "free_remove_partial",
	"alloc_from_partial", "alloc_slab", "alloc_refill", "free_slab", "cpuslab_flush",
	"deactivate_full", "deactivate_empty", "deactivate_to_tail", "deactivate_remote_frees",
	"deactivate_bypass", "order_fallback", "cmpxchg_double_fail", "cpu_partial_alloc",
	"cpu_partial_free", "cpu_partial_node", "cpu_partial_drain", "bulk_alloc", "bulk_free",
};

/* ================================================================== */
/* Small helpers                                                       */
/* ================================================================== */

static void set_err(char *err, size_t len, const char *a, const char *b, uint64_t n, const char *c)
{
	hp_fmt_t f = { err, len, 0 };

	if (!err || !len)
		return;
	fmt_str(&f, a);
	if (b) {
		fmt_str(&f, b);
		fmt_u(&f, n, 0);
	}
	if (c)
		fmt_str(&f, c);
	fmt_end(&f);
}

static void backoff(unsigned n)
{
	if (n < 64) {
		hp_cpu_relax();
	} else {
		sched_yield();
	}
}

static unsigned fls_u(unsigned long v)
{
	return v ? 64u - (unsigned)__builtin_clzl(v) : 0;
}

/* get_order(): the smallest order whose block holds n bytes */
static unsigned get_order(size_t n)
{
	unsigned o = 0;

	while (((size_t)HP_PAGE_SIZE << o) < n)
		o++;
	return o;
}

static uintptr_t new_key(void)
{
	uint64_t k = 0;

	if (g.key_state)
		return (uintptr_t)hp_splitmix64(&g.key_state);
	if (getrandom(&k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
		/* no entropy yet: the clock and the stack address, mixed */
		k = hp_now_ns() ^ (uint64_t)(uintptr_t)&k;
		k = hp_splitmix64(&k);
	}
	return (uintptr_t)k;
}

/* Reads a CPU list file (/sys/devices/system/cpu/possible): highest id + 1
 * and the count, without stdio. */
static int read_cpulist(const char *path, int *max_plus_1, int *count)
{
	char buf[512];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long a = -1, cur = 0;
	int have = 0, in_range = 0;

	*max_plus_1 = *count = 0;
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (char *p = buf;; p++) {
		if (*p >= '0' && *p <= '9') {
			cur = cur * 10 + (*p - '0');
			have = 1;
			continue;
		}
		if (have) {
			long lo = in_range ? a : cur, hi = cur;

			if (*p == '-' && !in_range) {
				a = cur;
				in_range = 1;
				cur = 0;
				have = 0;
				continue;
			}
			if (hi >= lo) {
				*count += (int)(hi - lo + 1);
				if (hi + 1 > *max_plus_1)
					*max_plus_1 = (int)(hi + 1);
			}
			in_range = 0;
			cur = 0;
			have = 0;
		}
		if (*p == '\0')
			break;
	}
	return *max_plus_1 > 0 ? 0 : -1;
}

/* "512M", "4G", "1073741824" -> bytes; 0 if malformed */
static size_t parse_bytes(const char *s)
{
	size_t v = 0;

	if (!s || !*s)
		return 0;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (size_t)(*s - '0');
	switch (*s) {
	case 'k': case 'K': v <<= 10; s++; break;
	case 'm': case 'M': v <<= 20; s++; break;
	case 'g': case 'G': v <<= 30; s++; break;
	default: break;
	}
	return *s ? 0 : v;
}

/* slab_debug=<letters>[,<name>,...]; -1 on an unknown letter */
static int parse_slab_debug(const char *str, char *err, size_t errlen)
{
	const char *p = str;
	unsigned flags = 0;
	int any_letter = 0;

	g.debug_flags = 0;
	g.debug_all = 0;
	g.debug_names[0] = '\0';
	if (!str || !*str || strcmp(str, "-") == 0)
		return 0;
	for (; *p && *p != ','; p++) {
		any_letter = 1;
		switch (*p) {
		case 'F': case 'f': flags |= HP_SLAB_CONSISTENCY_CHECKS; break;
		case 'Z': case 'z': flags |= HP_SLAB_RED_ZONE; break;
		case 'P': case 'p': flags |= HP_SLAB_POISON; break;
		case 'U': case 'u': flags |= HP_SLAB_STORE_USER; break;
		case '-': flags = 0; break;
		default: {
			char bad[2] = { *p, 0 };
			hp_fmt_t f = { err, errlen, 0 };

			if (err && errlen) {
				fmt_str(&f, "slab_debug: unknown option '");
				fmt_str(&f, bad);
				fmt_str(&f, "' in \"");
				fmt_str(&f, str);
				fmt_str(&f, "\" (valid: F Z P U, - for none, then optional ,cache-name list)");
				fmt_end(&f);
			}
			return -1;
		}
		}
	}
	if (!any_letter)
		flags = HP_SLAB_DEBUG_ALL;   /* no letters: all of them, as the kernel */
	g.debug_flags = flags;
	if (*p == ',' && p[1]) {
		size_t n = strlen(p + 1);

		if (n >= sizeof g.debug_names) {
			set_err(err, errlen, "slab_debug: the cache name list is longer than 255 characters", NULL, 0, NULL);
			return -1;
		}
		memcpy(g.debug_names, p + 1, n + 1);
	} else {
		g.debug_all = 1;
	}
	return 0;
}

static int debug_name_match(const char *name)
{
	const char *p = g.debug_names;

	if (g.debug_all)
		return 1;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n && p[n - 1] == '*') {
			if (strncmp(name, p, n - 1) == 0)
				return 1;
		} else if (n && strlen(name) == n && strncmp(name, p, n) == 0) {
			return 1;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* ================================================================== */
/* Per-CPU units                                                       */
/* ================================================================== */

static hp_kmem_cache_cpu_t *unit_slot(const hp_kmem_cache_t *s, int unit)
{
	return (hp_kmem_cache_cpu_t *)(hp_slub_pcpu_base_ + ((uintptr_t)unit << HP_SLUB_PCPU_UNIT_SHIFT) +
				       s->hot.cpu_off);
}

/* pcpu_alloc: one chunk at the same offset in every unit; slab_mutex held */
static int chunk_alloc(hp_kmem_cache_t *s)
{
	for (int i = 1; i < PCPU_CHUNKS; i++) {   /* chunk 0: the zero slot (hot.pin_off) */
		if (g.chunk_used[i / 64] & (1ull << (i % 64)))
			continue;
		g.chunk_used[i / 64] |= 1ull << (i % 64);
		s->pcpu_chunk = i;
		s->hot.cpu_off = (uintptr_t)i * PCPU_CHUNK;
		for (int u = 0; u <= g.nr_cpus; u++) {
			hp_kmem_cache_cpu_t *c = unit_slot(s, u);

			memset(c, 0, sizeof *c);
			c->tid = (uint64_t)u << 1;   /* init_tid(cpu): the cpu id in the low bits */
		}
		return 0;
	}
	return -1;
}

static void chunk_free(hp_kmem_cache_t *s)
{
	int i = s->pcpu_chunk;

	g.chunk_used[i / 64] &= ~(1ull << (i % 64));
}

int hp_slub_cpu_slow_(void)
{
	int cpu = sched_getcpu();

	if (cpu < 0)
		cpu = 0;
	return g.nr_cpus > 0 ? cpu % g.nr_cpus : 0;
}

/* The slot a slow path of this thread works on, and whether it must be
 * held atomically (any slot a thread that may move can reach). */
static inline __attribute__((always_inline)) hp_kmem_cache_cpu_t *my_slot(const hp_kmem_cache_t *s, int *locked)
{
	if (s->hot.flags & HP_SLAB_PCPU_PINNED) {
		if (hp_slub_this_unit_) {
			*locked = 0;
			return (hp_kmem_cache_cpu_t *)(hp_slub_this_unit_ + s->hot.cpu_off);
		}
		*locked = 1;   /* undeclared thread: the shared unit, always held */
		return unit_slot(s, g.nr_cpus);
	}
	*locked = 1;
	return unit_slot(s, (int)hp_slub_cur_cpu_());
}

/* A plain load and store, not a locked add: the counters are statistics
 * (CONFIG_SLUB_STATS), and a count lost when two threads share a slot is
 * cheaper than a lock prefix on every slow path. */
static inline void stat_c(hp_kmem_cache_cpu_t *c, int item)
{
	STORE(&c->stat[item], LOAD(&c->stat[item]) + 1);
}

static void stat(const hp_kmem_cache_t *s, int item)
{
	int locked;

	stat_c(my_slot(s, &locked), item);
}

/* Holds the slot for a slow path (local_lock / preemption off in the
 * kernel): sets bit 0 of tid and takes the cpu freelist, which the holder
 * owns until slot_release() puts back a new one. While held, fast allocs
 * see freelist NULL and fast frees see tid odd: both go slow and wait. */
static void *slot_hold(const hp_kmem_cache_t *s, hp_kmem_cache_cpu_t *c, int locked)
{
	void *fl = NULL;

	if (!locked) {
		fl = c->freelist;
		c->freelist = NULL;
	} else {
		for (unsigned n = 0;; n++) {
			uint64_t tid = LOAD_ACQ(&c->tid);

			fl = LOAD(&c->freelist);
			if (!(tid & 1) && cas128(&c->freelist_tid, (uintptr_t)fl, tid, 0, tid | 1))
				break;
			backoff(n);
		}
	}
	/* a hardened cache's cpu freelist is never visible to the fast paths */
	return hidden_fl(s) ? c->hfreelist : fl;
}

static void slot_release(const hp_kmem_cache_t *s, hp_kmem_cache_cpu_t *c, int locked, void *fl)
{
	uint64_t tid;

	if (hidden_fl(s)) {
		c->hfreelist = fl;
		fl = NULL;
	}
	if (!locked) {
		c->freelist = fl;
		c->tid += HP_SLUB_TID_ADVANCE;
		return;
	}
	tid = LOAD(&c->tid);
	hp_slub_tsan_release_(s);   /* an rseq pop acquires it (slub.h) */
	/* nobody else can change a held slot */
	if (!cas128(&c->freelist_tid, 0, tid, (uintptr_t)fl, (tid & ~(uint64_t)1) + HP_SLUB_TID_ADVANCE))
		__builtin_trap();
}

/* Holds this thread's slot for a slow path: my_slot() + slot_hold(), or
 * for an rseq cache the hold in an rseq critical section on this CPU (no
 * other CPU may write a slot an unlocked cmpxchg16b may be updating; see
 * slub.h, fast path (c)). Returns the slot, *fl the freelist taken. */
static hp_kmem_cache_cpu_t *hold_my_slot(const hp_kmem_cache_t *s, int *locked, void **fl)
{
	hp_kmem_cache_cpu_t *c;

#ifdef HP_SLUB_RSEQ_ASM
	if (rseq_cache(s)) {
		*locked = 1;
		for (unsigned n = 0;; n++) {
			c = hp_slub_rseq_hold_(s, fl);
			if (c)
				break;
			backoff(n);
		}
		if (hidden_fl(s))
			*fl = c->hfreelist;
		return c;
	}
#endif
	c = my_slot(s, locked);
	*fl = slot_hold(s, c, *locked);
	return c;
}

static void set_cpu_slab(const hp_kmem_cache_t *s, hp_kmem_cache_cpu_t *c, hp_slab_t *slab)
{
	STORE(&c->slab, slab);
	STORE(&c->slab_addr, slab ? slab->addr : 0);
	STORE(&c->slab_bytes, slab && !hidden_fl(s) ? OO_BYTES(slab->order) : 0);
}

/* ================================================================== */
/* Slab order and object layout (calculate_order, calculate_sizes)     */
/* ================================================================== */

static unsigned order_objects(unsigned order, unsigned size)
{
	return (unsigned)(OO_BYTES(order) / size);
}

/* calc_slab_order() of 6.6: the lowest order >= what min_objects need
 * whose leftover is at most 1/fract_leftover of the slab. */
static unsigned calc_slab_order(unsigned size, unsigned min_objects, unsigned max_order, unsigned fract_leftover)
{
	unsigned min_order = g.min_order, order;

	if (order_objects(min_order, size) > MAX_OBJS_PER_PAGE)
		return get_order((size_t)size * MAX_OBJS_PER_PAGE) - 1;
	order = get_order((size_t)min_objects * size);
	if (order < min_order)
		order = min_order;
	for (; order <= max_order; order++) {
		unsigned long slab_size = OO_BYTES(order);

		if (slab_size % size <= slab_size / fract_leftover)
			break;
	}
	return order;
}

static int calculate_order(unsigned size)
{
	unsigned min_objects = g.min_objects, max_objects, order;

	if (!min_objects) {
		int nr = g.nr_present;

		if (nr <= 1)
			nr = g.nr_cpus;
		min_objects = 4 * (fls_u((unsigned long)nr) + 1);
	}
	max_objects = order_objects(g.max_order, size);
	if (min_objects > max_objects)
		min_objects = max_objects;
	while (min_objects > 1) {
		for (unsigned fraction = 16; fraction >= 4; fraction /= 2) {
			order = calc_slab_order(size, min_objects, g.max_order, fraction);
			if (order <= g.max_order)
				return (int)order;
		}
		min_objects--;
	}
	order = calc_slab_order(size, 1, g.max_order, 1);
	if (order <= g.max_order)
		return (int)order;
	order = calc_slab_order(size, 1, HP_MAX_ORDER, 1);
	if (order <= HP_MAX_ORDER)
		return (int)order;
	return -1;
}

int hp_slub_calculate_order(size_t size, unsigned *objects)
{
	int o;

	if (hp_slub_ensure_init() != 0 || size == 0 || size > OO_BYTES(HP_MAX_ORDER))
		return -1;
	o = calculate_order((unsigned)size);
	if (o >= 0 && objects)
		*objects = order_objects((unsigned)o, (unsigned)size);
	return o;
}

static unsigned align_up(unsigned v, unsigned a)
{
	return (v + a - 1) & ~(a - 1);
}

/* calculate_alignment() */
static unsigned calculate_alignment(unsigned flags, unsigned align, unsigned size)
{
	if (flags & HP_SLAB_HWCACHE_ALIGN) {
		unsigned ralign = 64;

		while (size <= ralign / 2)
			ralign /= 2;
		if (ralign > align)
			align = ralign;
	}
	if (align < 8)
		align = 8;
	return align_up(align, (unsigned)sizeof(void *));
}

/* calculate_sizes() of 6.6: the object, then its red zone word, the free
 * pointer when it must live outside, the two tracks and the kmalloc
 * request size, the padding word, the left red zone; then the order. */
static int calculate_sizes(hp_kmem_cache_t *s)
{
	unsigned flags = s->hot.flags, size = align_up(s->object_size, (unsigned)sizeof(void *));
	int order;

	if ((flags & HP_SLAB_RED_ZONE) && size == s->object_size)
		size += sizeof(void *);
	s->inuse = size;
	if (debug_orig_size(s) || (flags & HP_SLAB_POISON) || s->ctor ||
	    ((flags & HP_SLAB_RED_ZONE) && s->object_size < sizeof(void *))) {
		s->hot.offset = size;
		size += sizeof(void *);
	} else {
		s->hot.offset = (s->object_size / 2) & ~(unsigned)(sizeof(void *) - 1);
	}
	if (flags & HP_SLAB_STORE_USER) {
		size += 2 * (unsigned)sizeof(hp_slub_track_t);
		if (flags & HP_SLAB_KMALLOC)
			size += sizeof(unsigned);
	}
	s->red_left_pad = 0;
	if (flags & HP_SLAB_RED_ZONE) {
		size += sizeof(void *);
		s->red_left_pad = align_up((unsigned)sizeof(void *), s->align);
		size += s->red_left_pad;
	}
	size = align_up(size, s->align);
	s->size = size;
	order = calculate_order(size);
	if (order < 0)
		return -1;
	s->oo_order = (unsigned)order;
	s->oo_objects = order_objects((unsigned)order, size);
	s->min_order = get_order(size);
	s->min_objects = order_objects(s->min_order, size);
	if (s->min_order > s->oo_order) {
		s->min_order = s->oo_order;
		s->min_objects = s->oo_objects;
	}
	return 0;
}

static int has_cpu_partial(const hp_kmem_cache_t *s)
{
	return !kmem_cache_debug(s) && !(s->hot.flags & HP_SLAB_NO_CPU_PARTIAL);
}

/* set_min_partial(), set_cpu_partial() */
static void set_partial_limits(hp_kmem_cache_t *s)
{
	unsigned long mp = fls_u(s->size) ? (fls_u(s->size) - 1) / 2 : 0;   /* ilog2(size) / 2 */
	unsigned nr;

	if (mp < 5)
		mp = 5;        /* MIN_PARTIAL */
	if (mp > 10)
		mp = 10;       /* MAX_PARTIAL */
	s->min_partial = mp;
	if (!has_cpu_partial(s))
		nr = 0;
	else if (s->size >= HP_PAGE_SIZE)
		nr = 6;
	else if (s->size >= 1024)
		nr = 24;
	else if (s->size >= 256)
		nr = 52;
	else
		nr = 120;
	s->cpu_partial = nr;
	s->cpu_partial_slabs = nr ? (nr * 2 + s->oo_objects - 1) / s->oo_objects : 0;
}

/* ================================================================== */
/* Slabs: allocation from buddy, node lists, discard                   */
/* ================================================================== */

hp_slab_t *slub_virt_to_slab(const void *x)
{
	hp_page_t *pg;

	if (!slub_zone || !hp_buddy_contains(slub_zone, x))
		return NULL;
	pg = hp_compound_head(hp_virt_to_page(slub_zone, x));
	if (LOAD(&pg->owner) != HP_SLUB_OWNER_SLAB)
		return NULL;
	return (hp_slab_t *)pg->priv;
}

static void inc_slabs_node(hp_kmem_cache_t *s, unsigned nid, unsigned objects)
{
	ADD(&s->node[nid].nr_slabs, 1);
	ADD(&s->node[nid].total_objects, (long)objects);
}

static void dec_slabs_node(hp_kmem_cache_t *s, unsigned nid, unsigned objects)
{
	ADD(&s->node[nid].nr_slabs, -1);
	ADD(&s->node[nid].total_objects, -(long)objects);
}

/* allocate_slab(): oo first, then the minimum order; objects chained in
 * address order (no CONFIG_SLAB_FREELIST_RANDOM). Not yet counted. */
static hp_slab_t *new_slab(hp_kmem_cache_t *s, unsigned nid)
{
	unsigned order = s->oo_order, objects = s->oo_objects;
	hp_page_t *pg = hp_buddy_alloc_pages(slub_zone, HP_GFP_KERNEL | HP_GFP_COMP, order);
	hp_slab_t *slab;
	char *p, *next;

	if (!pg && s->min_order != order) {
		order = s->min_order;
		objects = s->min_objects;
		pg = hp_buddy_alloc_pages(slub_zone, HP_GFP_KERNEL | HP_GFP_COMP, order);
		if (pg)
			stat(s, HP_SLUB_STAT_ORDER_FALLBACK);
	}
	if (!pg)
		return NULL;
	slab = slub_slab_map + hp_page_to_pfn(slub_zone, pg);
	memset(slab, 0, sizeof *slab);
	slab->addr = (uintptr_t)hp_page_address(slub_zone, pg);
	slab->order = (uint8_t)order;
	slab->nid = (uint8_t)nid;
	slab->cache = s;
	slab->pin_off = s->hot.pin_off;
	slab->fp_offset = s->hot.offset;
	slab->counters = CNT_MAKE(0, objects, 0);
	hp_list_init(&slab->slab_list);
	pg->priv = slab;
	STORE(&pg->owner, HP_SLUB_OWNER_SLAB);
	if (kmem_cache_debug(s))
		debug_setup_slab(s, slab);
	p = slab_object(s, slab, 0);
	slab->freelist = p;
	for (unsigned i = 0; i < objects; i++, p = next) {
		next = i + 1 < objects ? p + s->size : NULL;
		if (s->ctor)
			s->ctor(p);
		fp_set(s, p, next);
	}
	return slab;
}

/* free_slab() */
static void free_slab(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	hp_page_t *pg = hp_virt_to_page(slub_zone, (void *)slab->addr);

	if (s->hot.flags & HP_SLAB_CONSISTENCY_CHECKS)
		debug_free_slab_checks(s, slab);
	STORE(&pg->owner, 0u);
	pg->priv = NULL;
	slab->cache = NULL;
	hp_buddy_free_pages(slub_zone, pg, slab->order);
}

static void discard_slab(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	dec_slabs_node(s, slab->nid, CNT_OBJECTS(LOAD(&slab->counters)));
	free_slab(s, slab);
	stat(s, HP_SLUB_STAT_FREE_SLAB);
}

static void lock_node(hp_kmem_cache_node_t *n) { pthread_mutex_lock(&n->list_lock); }
static void unlock_node(hp_kmem_cache_node_t *n) { pthread_mutex_unlock(&n->list_lock); }

/* add_partial / remove_partial / add_full / remove_full, list_lock held */
static void add_partial(hp_kmem_cache_node_t *n, hp_slab_t *slab, int tail)
{
	STORE(&n->nr_partial, LOAD(&n->nr_partial) + 1);
	if (tail)
		hp_list_add_tail(&slab->slab_list, &n->partial);
	else
		hp_list_add(&slab->slab_list, &n->partial);
	slab->on_list = SLAB_ON_PARTIAL;
}

static void remove_partial(hp_kmem_cache_node_t *n, hp_slab_t *slab)
{
	hp_list_del(&slab->slab_list);
	STORE(&n->nr_partial, LOAD(&n->nr_partial) - 1);
	slab->on_list = SLAB_ON_NONE;
}

static void add_full(hp_kmem_cache_t *s, hp_kmem_cache_node_t *n, hp_slab_t *slab)
{
	if (!(s->hot.flags & HP_SLAB_STORE_USER))
		return;
	hp_list_add(&slab->slab_list, &n->full);
	slab->on_list = SLAB_ON_FULL;
}

static void remove_full(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	if (!(s->hot.flags & HP_SLAB_STORE_USER) || slab->on_list != SLAB_ON_FULL)
		return;
	hp_list_del(&slab->slab_list);
	slab->on_list = SLAB_ON_NONE;
}

static int slab_update(hp_slab_t *slab, void *ofl, uint64_t ocnt, void *nfl, uint64_t ncnt)
{
	return cas128(&slab->freelist_counters, (uintptr_t)ofl, ocnt, (uintptr_t)nfl, ncnt);
}

/* The slab layer as sheaves.c (generation `sheaves`) reaches it. */
static void slab_free_remote(hp_kmem_cache_t *s, hp_kmem_cache_cpu_t *sc, hp_slab_t *slab, void *head, void *tail,
			     unsigned cnt);
void slub_lock_node(hp_kmem_cache_node_t *n) { lock_node(n); }
void slub_unlock_node(hp_kmem_cache_node_t *n) { unlock_node(n); }
void slub_add_partial(hp_kmem_cache_node_t *n, hp_slab_t *slab, int tail) { add_partial(n, slab, tail); }
void slub_remove_partial(hp_kmem_cache_node_t *n, hp_slab_t *slab) { remove_partial(n, slab); }
int slub_slab_update(hp_slab_t *slab, void *ofl, uint64_t ocnt, void *nfl, uint64_t ncnt)
{
	return slab_update(slab, ofl, ocnt, nfl, ncnt);
}
hp_kmem_cache_cpu_t *slub_unit_slot(const hp_kmem_cache_t *s, int unit) { return unit_slot(s, unit); }
void slub_stat(const hp_kmem_cache_t *s, int item) { stat(s, item); }
hp_slab_t *slub_new_slab(hp_kmem_cache_t *s, unsigned nid)
{
	hp_slab_t *slab = new_slab(s, nid);

	if (slab) {
		inc_slabs_node(s, nid, CNT_OBJECTS(slab->counters));
		stat(s, HP_SLUB_STAT_ALLOC_SLAB);
	}
	return slab;
}
void slub_free_to_slab(hp_kmem_cache_t *s, hp_slab_t *slab, void *head, void *tail, unsigned cnt)
{
	int locked;

	slab_free_remote(s, my_slot(s, &locked), slab, head, tail, cnt);
}

/* ================================================================== */
/* Unfreezing: deactivate_slab, __unfreeze_partials                   */
/* ================================================================== */

/* __unfreeze_partials(): per-CPU partial slabs back to the node list;
 * empty ones beyond min_partial back to buddy. */
static void unfreeze_partials(hp_kmem_cache_t *s, hp_slab_t *partial)
{
	hp_kmem_cache_node_t *n = &s->node[0];   /* cpu-slab, debug: one node */
	hp_slab_t *discard = NULL;

	lock_node(n);
	while (partial) {
		hp_slab_t *slab = partial;
		void *fl;
		uint64_t oc, nc;

		partial = slab->next;
		do {
			fl = LOAD(&slab->freelist);
			oc = LOAD(&slab->counters);
			nc = oc & ~CNT_MAKE(0, 0, 1);
		} while (!slab_update(slab, fl, oc, fl, nc));
		if (!CNT_INUSE(nc) && LOAD(&n->nr_partial) >= s->min_partial) {
			slab->next = discard;
			discard = slab;
		} else {
			add_partial(n, slab, 1);
			stat(s, HP_SLUB_STAT_FREE_ADD_PARTIAL);
		}
	}
	unlock_node(n);
	while (discard) {
		hp_slab_t *slab = discard;

		discard = slab->next;
		stat(s, HP_SLUB_STAT_DEACTIVATE_EMPTY);
		discard_slab(s, slab);
	}
}

/* deactivate_slab(): the cpu slab stops being one; its cpu freelist is
 * spliced in front of the slab's own freelist, then the slab goes to the
 * partial list (head, or tail if it had remote frees), is freed when empty
 * and the node has enough partial slabs, or stays on no list when full. */
static void deactivate_slab(hp_kmem_cache_t *s, hp_slab_t *slab, void *freelist)
{
	hp_kmem_cache_node_t *n = &s->node[0];   /* cpu-slab, debug: one node */
	void *tail_obj = NULL, *ofl;
	unsigned free_delta = 0;
	uint64_t oc, nc;
	int tail = 0;

	if (LOAD(&slab->freelist)) {
		stat(s, HP_SLUB_STAT_DEACTIVATE_REMOTE_FREES);
		tail = 1;
	}
	for (void *p = freelist; p; p = fp_get(s, p)) {
		tail_obj = p;
		free_delta++;
	}
	do {
		ofl = LOAD(&slab->freelist);
		oc = LOAD(&slab->counters);
		nc = (oc & ~CNT_MAKE(0xffff, 0, 1)) | CNT_MAKE(CNT_INUSE(oc) - free_delta, 0, 0);
		if (tail_obj)
			fp_set(s, tail_obj, ofl);
	} while (!slab_update(slab, ofl, oc, tail_obj ? freelist : ofl, nc));

	if (!CNT_INUSE(nc) && LOAD(&n->nr_partial) >= s->min_partial) {
		stat(s, HP_SLUB_STAT_DEACTIVATE_EMPTY);
		discard_slab(s, slab);
	} else if (tail_obj || ofl) {
		lock_node(n);
		add_partial(n, slab, tail);
		unlock_node(n);
		stat(s, tail ? HP_SLUB_STAT_DEACTIVATE_TO_TAIL : HP_SLUB_STAT_FREE_ADD_PARTIAL);
	} else {
		stat(s, HP_SLUB_STAT_DEACTIVATE_FULL);
	}
}

/* put_cpu_partial(): a slab just frozen by a free joins this CPU's
 * partial chain; when the chain already holds cpu_partial_slabs, the whole
 * chain is unfrozen onto the node list first (drain). */
static void put_cpu_partial(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	int locked;
	hp_kmem_cache_cpu_t *c = my_slot(s, &locked);
	void *fl = slot_hold(s, c, locked);
	hp_slab_t *old = c->partial, *drain = NULL;
	int slabs = 0;

	if (old) {
		if (old->slabs >= (int)s->cpu_partial_slabs) {
			drain = old;
			old = NULL;
		} else {
			slabs = old->slabs;
		}
	}
	slab->slabs = slabs + 1;
	slab->next = old;
	c->partial = slab;
	slot_release(s, c, locked, fl);
	if (drain) {
		unfreeze_partials(s, drain);
		stat_c(c, HP_SLUB_STAT_CPU_PARTIAL_DRAIN);
	}
}

/* ================================================================== */
/* Allocation slow path (___slab_alloc)                                */
/* ================================================================== */

/* get_freelist(): take the slab's freelist (the remote frees); the slab
 * stays frozen if there was one, else it becomes a full slab on no list. */
static void *get_freelist(hp_slab_t *slab)
{
	void *fl;
	uint64_t oc, nc;

	do {
		fl = LOAD(&slab->freelist);
		oc = LOAD(&slab->counters);
		nc = CNT_MAKE(CNT_OBJECTS(oc), CNT_OBJECTS(oc), fl != NULL) | (oc & ~(uint64_t)0xffffffffu);
	} while (!slab_update(slab, fl, oc, NULL, nc));
	return fl;
}

/* get_partial_node(): under list_lock, freeze the first partial slab for
 * the cpu slab (taking its freelist), then more onto the per-CPU partial
 * chain until it holds more than cpu_partial_slabs / 2. c is held. */
static void *get_partial_node(hp_kmem_cache_t *s, hp_kmem_cache_cpu_t *c, hp_slab_t **ret)
{
	hp_kmem_cache_node_t *n = &s->node[0];   /* cpu-slab, debug: one node */
	void *object = NULL;
	unsigned partial_slabs = 0;

	if (!LOAD(&n->nr_partial))
		return NULL;
	lock_node(n);
	while (!hp_list_empty(&n->partial)) {
		hp_slab_t *slab = slab_of_list(n->partial.next);
		void *fl;
		uint64_t oc, nc;

		/* acquire_slab() */
		do {
			fl = LOAD(&slab->freelist);
			oc = LOAD(&slab->counters);
			if (!object)
				nc = CNT_MAKE(CNT_OBJECTS(oc), CNT_OBJECTS(oc), 1) | (oc & ~(uint64_t)0xffffffffu);
			else
				nc = oc | CNT_MAKE(0, 0, 1);
		} while (!slab_update(slab, fl, oc, object ? fl : NULL, nc));
		remove_partial(n, slab);
		if (!object) {
			*ret = slab;
			object = fl;
			stat_c(c, HP_SLUB_STAT_ALLOC_FROM_PARTIAL);
		} else {
			/* put_cpu_partial(s, slab, 0) with c already held */
			int slabs = c->partial ? c->partial->slabs : 0;

			slab->slabs = slabs + 1;
			slab->next = c->partial;
			c->partial = slab;
			stat_c(c, HP_SLUB_STAT_CPU_PARTIAL_NODE);
			partial_slabs++;
		}
		if (!has_cpu_partial(s) || partial_slabs > s->cpu_partial_slabs / 2)
			break;
	}
	unlock_node(n);
	return object;
}

/* ___slab_alloc() with the slot held: *cfl is the cpu freelist the holder
 * owns; returns an object and leaves the rest of the freelist in *cfl. */
static void *slab_alloc_held(hp_kmem_cache_t *s, hp_kmem_cache_cpu_t *c, void **cfl)
{
	hp_slab_t *slab;
	void *freelist;

	stat_c(c, HP_SLUB_STAT_ALLOC_SLOWPATH);
	if (*cfl) {        /* refilled since the fast path looked */
		freelist = *cfl;
		goto load_freelist;
	}
reread:
	slab = c->slab;
	if (!slab)
		goto new_slab;
	freelist = get_freelist(slab);
	if (!freelist) {
		set_cpu_slab(s, c, NULL);
		stat_c(c, HP_SLUB_STAT_DEACTIVATE_BYPASS);
		goto new_slab;
	}
	stat_c(c, HP_SLUB_STAT_ALLOC_REFILL);
load_freelist:
	*cfl = fp_get(s, freelist);
	return freelist;

new_slab:
	if (c->partial) {
		slab = c->partial;
		c->partial = slab->next;
		set_cpu_slab(s, c, slab);
		stat_c(c, HP_SLUB_STAT_CPU_PARTIAL_ALLOC);
		goto reread;
	}
	freelist = get_partial_node(s, c, &slab);
	if (freelist) {
		set_cpu_slab(s, c, slab);
		goto load_freelist;
	}
	slab = new_slab(s, 0);
	if (!slab)
		return NULL;
	stat_c(c, HP_SLUB_STAT_ALLOC_SLAB);
	freelist = slab->freelist;
	slab->freelist = NULL;
	slab->counters = CNT_MAKE(CNT_OBJECTS(slab->counters), CNT_OBJECTS(slab->counters), 1);
	inc_slabs_node(s, 0, CNT_OBJECTS(slab->counters));
	set_cpu_slab(s, c, slab);
	goto load_freelist;
}

/* Debug caches (and nothing else): one object at a time from the node
 * lists under list_lock (alloc_single_from_partial / _from_new_slab). */
static void *alloc_debug(hp_kmem_cache_t *s, unsigned long addr, size_t orig_size)
{
	hp_kmem_cache_node_t *n = &s->node[0];   /* cpu-slab, debug: one node */
	hp_slab_t *slab;
	void *obj = NULL;

	lock_node(n);
	while (!obj && !hp_list_empty(&n->partial)) {
		slab = slab_of_list(n->partial.next);
		obj = debug_take_object(s, slab, addr, orig_size);
		if (!slab->freelist) {
			remove_partial(n, slab);
			add_full(s, n, slab);
		}
	}
	unlock_node(n);
	if (obj)
		return obj;
	slab = new_slab(s, 0);
	if (!slab)
		return NULL;
	stat(s, HP_SLUB_STAT_ALLOC_SLAB);
	lock_node(n);
	inc_slabs_node(s, 0, CNT_OBJECTS(slab->counters));
	obj = debug_take_object(s, slab, addr, orig_size);
	if (slab->freelist)
		add_partial(n, slab, 0);
	else
		add_full(s, n, slab);
	unlock_node(n);
	return obj;
}

static void *slab_alloc(hp_kmem_cache_t *s, unsigned long addr, size_t orig_size)
{
	int locked;
	hp_kmem_cache_cpu_t *c;
	void *fl, *obj;

	if (kmem_cache_debug(s))
		return alloc_debug(s, addr, orig_size);
	if (sheaves_cache(s))
		return hp_sheaves_alloc_slow(s);   /* generation `sheaves` */
	c = hold_my_slot(s, &locked, &fl);
	obj = fl;
	if (obj)
		fl = fp_get(s, obj);
	else
		obj = slab_alloc_held(s, c, &fl);
	slot_release(s, c, locked, fl);
	return obj;
}

void *hp_kmem_cache_alloc_slow(hp_kmem_cache_t *s, unsigned long caller)
{
	if (!caller)
		caller = (unsigned long)__builtin_return_address(0);
	return slab_alloc(s, caller, s->object_size);
}

void *hp_kmem_cache_zalloc(hp_kmem_cache_t *s)
{
	void *p = slab_alloc(s, (unsigned long)__builtin_return_address(0), s->object_size);

	if (p)
		memset(p, 0, s->object_size);
	return p;
}

/* ================================================================== */
/* Free slow path (__slab_free, do_slab_free)                          */
/* ================================================================== */

static void report_bad_pointer(const hp_kmem_cache_t *s, const char *cache_name, const void *x, const char *what)
{
	hp_slub_err_info_t e = {
		.kind = HP_SLUB_ERR_BAD_POINTER, .s = s, .cache_name = cache_name, .what = what,
		.object = x, .offset = -1, .expected = -1, .found = -1,
		.fix = "Object not freed",
	};

	slub_report(&e);
}

/* free_to_partial_list(): debug caches, under list_lock */
static void free_debug(hp_kmem_cache_t *s, hp_slab_t *slab, void *x, unsigned long addr)
{
	hp_kmem_cache_node_t *n = &s->node[0];   /* cpu-slab, debug: one node */
	hp_slab_t *to_free = NULL;
	void *prior;

	lock_node(n);
	if (!debug_free_processing(s, slab, x, addr)) {
		unlock_node(n);
		return;
	}
	prior = slab->freelist;
	fp_set(s, x, prior);
	slab->freelist = x;
	slab->counters -= 1;   /* inuse-- */
	if (!CNT_INUSE(slab->counters) && n->nr_partial >= s->min_partial)
		to_free = slab;
	if (!prior) {
		remove_full(s, slab);
		if (!to_free) {
			add_partial(n, slab, 1);
			stat(s, HP_SLUB_STAT_FREE_ADD_PARTIAL);
		}
	} else if (to_free) {
		remove_partial(n, slab);
		stat(s, HP_SLUB_STAT_FREE_REMOVE_PARTIAL);
	}
	unlock_node(n);
	if (to_free)
		discard_slab(s, to_free);
}

/* __slab_free(): objects head..tail (cnt of them, chained) go onto the
 * slab's own freelist with a cmpxchg16b on (freelist, counters), lock-free
 * unless the slab must change lists: a full slab becomes partial (frozen
 * onto this CPU's partial chain), an empty one is freed when the node has
 * min_partial partial slabs. */
static void slab_free_remote(hp_kmem_cache_t *s, hp_kmem_cache_cpu_t *sc, hp_slab_t *slab, void *head, void *tail,
			     unsigned cnt)
{
	hp_kmem_cache_node_t *n = &s->node[slab->nid];   /* get_node(s, slab_nid(slab)) */
	int locked = 0, was_frozen;
	void *prior;
	uint64_t oc, nc;

	stat_c(sc, HP_SLUB_STAT_FREE_SLOWPATH);
	do {
		if (locked) {
			unlock_node(n);
			locked = 0;
		}
		prior = LOAD(&slab->freelist);
		oc = LOAD(&slab->counters);
		fp_set(s, tail, prior);
		nc = oc - cnt;        /* inuse -= cnt */
		was_frozen = CNT_FROZEN(oc);
		if ((!CNT_INUSE(nc) || !prior) && !was_frozen) {
			if (has_cpu_partial(s) && !prior) {
				nc |= CNT_MAKE(0, 0, 1);
			} else {
				lock_node(n);
				locked = 1;
			}
		}
	} while (!slab_update(slab, prior, oc, head, nc));

	if (!locked) {
		if (was_frozen)
			stat_c(sc, HP_SLUB_STAT_FREE_FROZEN);
		else if (CNT_FROZEN(nc)) {
			put_cpu_partial(s, slab);
			stat_c(sc, HP_SLUB_STAT_CPU_PARTIAL_FREE);
		}
		return;
	}
	if (!CNT_INUSE(nc) && n->nr_partial >= s->min_partial) {
		if (prior) {
			remove_partial(n, slab);
			stat(s, HP_SLUB_STAT_FREE_REMOVE_PARTIAL);
		} else {
			remove_full(s, slab);
		}
		unlock_node(n);
		discard_slab(s, slab);
		return;
	}
	if (!has_cpu_partial(s) && !prior) {
		remove_full(s, slab);
		add_partial(n, slab, 1);
		stat(s, HP_SLUB_STAT_FREE_ADD_PARTIAL);
	}
	unlock_node(n);
}

/* do_slab_free(): onto the cpu freelist when the slab is this CPU's cpu
 * slab, else __slab_free. */
static void slab_free(hp_kmem_cache_t *s, hp_slab_t *slab, void *head, void *tail, unsigned cnt)
{
	int locked;
	hp_kmem_cache_cpu_t *c = my_slot(s, &locked);

	if (!locked) {
		if (c->slab == slab) {
			void **fl = hidden_fl(s) ? &c->hfreelist : &c->freelist;

			fp_set(s, tail, *fl);
			*fl = head;
			c->tid += HP_SLUB_TID_ADVANCE;
			return;
		}
		slab_free_remote(s, c, slab, head, tail, cnt);
		return;
	}
	if (hidden_fl(s) || rseq_cache(s)) {
		void *fl;

		c = hold_my_slot(s, &locked, &fl);
		if (c->slab == slab) {
			fp_set(s, tail, fl);
			slot_release(s, c, locked, head);
			return;
		}
		slot_release(s, c, locked, fl);
		slab_free_remote(s, c, slab, head, tail, cnt);
		return;
	}
	for (unsigned n = 0;; n++) {
		uint64_t tid = LOAD_ACQ(&c->tid);
		void *fl;

		if (tid & 1) {         /* a slow path holds the slot: wait */
			backoff(n);
			c = my_slot(s, &locked);
			continue;
		}
		if (LOAD(&c->slab) != slab)
			break;
		fl = LOAD(&c->freelist);
		fp_set(s, tail, fl);
		if (cas128(&c->freelist_tid, (uintptr_t)fl, tid, (uintptr_t)head, tid + HP_SLUB_TID_ADVANCE))
			return;
		c = my_slot(s, &locked);
	}
	slab_free_remote(s, c, slab, head, tail, cnt);
}

/* The slab of x if it belongs to s; else reported (NULL). */
static hp_slab_t *cache_slab_of(hp_kmem_cache_t *s, const void *x)
{
	hp_slab_t *slab = slub_virt_to_slab(x);

	if (!slab) {
		report_bad_pointer(s, NULL, x, slub_zone && hp_buddy_contains(slub_zone, x)
					       ? "Invalid object pointer (not in a slab page)"
					       : "Invalid object pointer (outside the slab arena)");
		return NULL;
	}
	if (slab->cache != s) {
		report_bad_pointer(s, NULL, x, "Wrong slab cache: the object belongs to another cache");
		return NULL;
	}
	return slab;
}

static void free_one(hp_kmem_cache_t *s, hp_slab_t *slab, void *x, unsigned long caller)
{
	if (kmem_cache_debug(s)) {
		free_debug(s, slab, x, caller);
		return;
	}
	if (sheaves_cache(s)) {
		hp_sheaves_free_slow(s, x);   /* generation `sheaves` */
		return;
	}
	slab_free(s, slab, x, x, 1);
}

void hp_kmem_cache_free_slow(hp_kmem_cache_t *s, void *x, unsigned long caller)
{
	hp_slab_t *slab;

	if (!caller)
		caller = (unsigned long)__builtin_return_address(0);
	if (!x)
		return;
	slab = cache_slab_of(s, x);
	if (slab)
		free_one(s, slab, x, caller);
}

/* ================================================================== */
/* Bulk                                                                */
/* ================================================================== */

size_t hp_kmem_cache_alloc_bulk(hp_kmem_cache_t *s, size_t n, void **p)
{
	unsigned long caller = (unsigned long)__builtin_return_address(0);
	hp_kmem_cache_cpu_t *c;
	int locked;
	void *fl;
	size_t i;

	if (!n)
		return 0;
	if (kmem_cache_debug(s)) {
		for (i = 0; i < n; i++) {
			p[i] = alloc_debug(s, caller, s->object_size);
			if (!p[i]) {
				hp_kmem_cache_free_bulk(s, i, p);
				return 0;
			}
		}
		return n;
	}
	if (sheaves_cache(s))
		return sheaves_alloc_bulk(s, n, p);   /* alloc_from_pcs_bulk (6.18) */
	c = hold_my_slot(s, &locked, &fl);
	i = 0;
	while (i < n) {
		void *obj = fl;

		if (unlikely(!obj)) {
			obj = slab_alloc_held(s, c, &fl);
			if (!obj) {
				slot_release(s, c, locked, fl);
				hp_kmem_cache_free_bulk(s, i, p);
				return 0;
			}
			p[i++] = obj;
		} else if (hardened(s)) {
			fl = fp_get(s, obj);
			p[i++] = obj;
		} else {
			/* a run of pops off the cpu freelist, the offset in a register */
			const uintptr_t off = s->hot.offset;

			do {
				p[i++] = obj;
				obj = *(hp_slub_fp_t *)((char *)obj + off);
			} while (obj && i < n);
			fl = obj;
		}
	}
	slot_release(s, c, locked, fl);
	return n;
}

static void kfree_at(const void *x, unsigned long caller);

/* kmem_cache_free_bulk() with build_detached_freelist(): the last object
 * picks the slab; up to 3 non-matching objects are looked past while
 * gathering the others of that slab into one chain, freed in one go. */
void hp_kmem_cache_free_bulk(hp_kmem_cache_t *s, size_t n, void **p)
{
	unsigned long caller = (unsigned long)__builtin_return_address(0);

	if (s && sheaves_cache(s)) {
		sheaves_free_bulk(s, n, p);   /* free_to_pcs_bulk (6.18) */
		return;
	}
	while (n) {
		void *obj = p[--n], *head, *tail;
		hp_kmem_cache_t *cs;
		hp_slab_t *slab;
		uintptr_t base, bytes;
		unsigned cnt = 1, lookahead = 3;
		size_t same;

		if (!obj || obj == HP_ZERO_SIZE_PTR)
			continue;
		slab = NULL;
		if (s && !kmem_cache_debug(s)) {
			/* most batches go back to the cpu slab: a pinned owner may
			 * try it before the page descriptor (nobody else changes
			 * its c->slab; in a shared slot it may be replaced and
			 * freed under us, so those take the lookup) */
			int lk;
			hp_kmem_cache_cpu_t *c = my_slot(s, &lk);
			hp_slab_t *h = lk ? NULL : c->slab;

			if (h && (uintptr_t)obj - h->addr < OO_BYTES(h->order))
				slab = h;
			cs = s;
		}
		if (slab) {
			/* found */
		} else if (!s) {
			slab = slub_virt_to_slab(obj);
			if (!slab) {
				kfree_at(obj, caller);   /* large kmalloc, or reported */
				continue;
			}
			cs = slab->cache;
		} else {
			cs = s;
			slab = cache_slab_of(s, obj);
			if (!slab)
				continue;
		}
		if (kmem_cache_debug(cs)) {
			free_debug(cs, slab, obj, caller);
			continue;
		}
		if (sheaves_cache(cs)) {   /* kfree_bulk of a sheaves kmalloc object */
			hp_sheaves_free_slow(cs, obj);
			continue;
		}
		head = tail = obj;
		fp_set(cs, obj, NULL);
		base = slab->addr;
		bytes = OO_BYTES(slab->order);
		if (!hardened(cs)) {
			/* the common case: the objects before it are of the same slab */
			const uintptr_t off = cs->hot.offset;

			size_t n0 = n;

			while (n) {
				void *o = p[n - 1];

				if ((uintptr_t)o - base >= bytes)
					break;
				*(hp_slub_fp_t *)((char *)o + off) = head;
				head = o;
				n--;
			}
			cnt += (unsigned)(n0 - n);
		}
		same = n;
		while (n) {
			void *o = p[--n];

			if (o && (uintptr_t)o - base < bytes) {
				fp_set(cs, o, head);
				head = o;
				cnt++;
				same--;
				if (n != same) {
					void *t = p[n];

					p[n] = p[same];
					p[same] = t;
				}
				continue;
			}
			if (!--lookahead)
				break;
		}
		n = same;
		slab_free(cs, slab, head, tail, cnt);
	}
}

/* ================================================================== */
/* Caches                                                              */
/* ================================================================== */

static void node_init(hp_kmem_cache_node_t *n)
{
	pthread_mutex_init(&n->list_lock, NULL);
	n->nr_partial = 0;
	hp_list_init(&n->partial);
	hp_list_init(&n->full);
	n->nr_slabs = n->total_objects = 0;
}

/* kmem_cache_open() on a zeroed descriptor; slab_mutex held. */
static int cache_open(hp_kmem_cache_t *s, const char *name, size_t size, size_t align, unsigned flags,
		      void (*ctor)(void *), char *err, size_t errlen)
{
	size_t nl = strlen(name);

	memcpy(s->name, name, nl + 1);
	if (g.debug_flags && debug_name_match(name))
		flags |= g.debug_flags;
	if (g.hardened)
		flags |= HP_SLAB_FREELIST_HARDENED;
	if (flags & HP_SLAB_KCONFIG_DISTRO)
		flags |= HP_SLAB_FREELIST_HARDENED;   /* distro kernels set CONFIG_SLAB_FREELIST_HARDENED */
	if ((flags & HP_SLAB_PCPU_RSEQ) && !g.rseq_ok)
		flags &= ~(unsigned)HP_SLAB_PCPU_RSEQ;   /* no rseq: the cmpxchg stand-in (b) */
#ifndef HP_SHEAVES_RSEQ_ASM
	if (flags & HP_SLAB_SHEAVES)
		flags &= ~(unsigned)HP_SLAB_PCPU_RSEQ;   /* sheaves: the per-CPU spinlock (slub.h) */
#endif
	if (flags & HP_SLAB_SHEAVES)
		flags |= HP_SLAB_NO_CPU_PARTIAL;        /* 7.0 removed CONFIG_SLUB_CPU_PARTIAL */
	s->hot.flags = flags;
	s->hot.random = (flags & HP_SLAB_FREELIST_HARDENED) ? new_key() : 0;
	if (flags & HP_SLAB_DEBUG_FLAGS)
		s->hot.path = HP_SLUB_PATH_SLOW;   /* a debug cache gets no sheaves (6.18, 7.0) */
	else if (flags & HP_SLAB_SHEAVES)      /* sheaves hold no free pointers: hardening stays in the slab layer */
		s->hot.path = HP_SLUB_PATH_SHEAVES | ((flags & HP_SLAB_PCPU_PINNED) ? HP_SLUB_PATH_PINNED
						       : (flags & HP_SLAB_PCPU_RSEQ) ? HP_SLUB_PATH_RSEQ : HP_SLUB_PATH_CMPXCHG) |
			      (LOAD(&slub_nr_nodes) > 1 ? HP_SLUB_PATH_NUMA : 0);
	else if (hidden_fl(s))
		s->hot.path = HP_SLUB_PATH_SLOW;
	else
		s->hot.path = ((flags & HP_SLAB_PCPU_PINNED) ? HP_SLUB_PATH_PINNED
			       : (flags & HP_SLAB_PCPU_RSEQ) ? HP_SLUB_PATH_RSEQ : HP_SLUB_PATH_CMPXCHG) |
			      ((flags & HP_SLAB_KCONFIG_DISTRO) ? HP_SLUB_PATH_DISTRO : 0);
	s->object_size = (unsigned)size;
	s->ctor = ctor;
	s->align = calculate_alignment(flags, (unsigned)align, (unsigned)size);
	if (calculate_sizes(s) != 0) {
		hp_fmt_t f = { err, errlen, 0 };

		if (err && errlen) {
			fmt_str(&f, "cache \"");
			fmt_str(&f, name);
			fmt_str(&f, "\": objects of ");
			fmt_u(&f, size, 0);
			fmt_str(&f, " bytes (a stride of ");
			fmt_u(&f, s->size, 0);
			fmt_str(&f, " with debug metadata and alignment) do not fit an order-10 slab");
			fmt_end(&f);
		}
		return -1;
	}
	set_partial_limits(s);
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++)
		node_init(&s->node[nid]);
	if (chunk_alloc(s) != 0) {
		set_err(err, errlen, "too many caches: the per-CPU units hold ", "", (uint64_t)PCPU_CHUNKS, "");
		return -1;
	}
	s->hot.pin_off = s->hot.path == HP_SLUB_PATH_PINNED ? (uint32_t)s->hot.cpu_off : 0;
	if (s->hot.path & HP_SLUB_PATH_SHEAVES) {
		s->sheaf_capacity = sheaves_capacity_for(s->size);
		sheaves_open(s);
	}
	hp_list_add(&s->list, &g.caches);
	return 0;
}

hp_kmem_cache_t *hp_kmem_cache_create(const char *name, size_t size, size_t align, unsigned flags,
				      void (*ctor)(void *), char *err, size_t errlen)
{
	const unsigned known = HP_SLAB_DEBUG_ALL | HP_SLAB_HWCACHE_ALIGN | HP_SLAB_FREELIST_HARDENED |
			       HP_SLAB_PCPU_PINNED | HP_SLAB_NO_CPU_PARTIAL | HP_SLAB_KCONFIG_DISTRO | HP_SLAB_PCPU_RSEQ |
			       HP_SLAB_SHEAVES;
	hp_kmem_cache_t *s;

	if (!name || !*name) {
		set_err(err, errlen, "kmem_cache_create: name is NULL or empty", NULL, 0, NULL);
		return NULL;
	}
	if (strlen(name) >= sizeof s->name) {
		set_err(err, errlen, "kmem_cache_create: name is longer than ", "", sizeof s->name - 1,
			" characters");
		return NULL;
	}
	if (size == 0) {
		set_err(err, errlen, "kmem_cache_create: size 0 (objects need at least 1 byte)", NULL, 0, NULL);
		return NULL;
	}
	if (size > OO_BYTES(HP_MAX_ORDER)) {
		set_err(err, errlen, "kmem_cache_create: size ", "", size, "");
		if (err && errlen) {
			hp_fmt_t f = { err, errlen, strlen(err) };

			fmt_str(&f, " is larger than an order-10 slab (4194304 bytes)");
			fmt_end(&f);
		}
		return NULL;
	}
	if (align & (align - 1)) {
		set_err(err, errlen, "kmem_cache_create: align ", "", align, " is not a power of two (valid: 0 or 1, 2, 4 .. 8192)");
		return NULL;
	}
	if (align > HP_SLUB_MAX_ALIGN) {
		set_err(err, errlen, "kmem_cache_create: align ", "", align, " is larger than 8192 (valid: 0 or a power of two <= 8192)");
		return NULL;
	}
	if (flags & ~known) {
		set_err(err, errlen, "kmem_cache_create: unknown flag bits ", "", flags & ~known, " (see HP_SLAB_* in slub.h)");
		return NULL;
	}
	if ((flags & HP_SLAB_PCPU_PINNED) && (flags & HP_SLAB_PCPU_RSEQ)) {
		set_err(err, errlen, "kmem_cache_create: HP_SLAB_PCPU_PINNED and HP_SLAB_PCPU_RSEQ are two fast-path stand-ins; pick one", NULL, 0, NULL);
		return NULL;
	}
	if ((flags & HP_SLAB_SHEAVES) && (flags & HP_SLAB_KCONFIG_DISTRO)) {
		set_err(err, errlen, "kmem_cache_create: HP_SLAB_SHEAVES with HP_SLAB_KCONFIG_DISTRO is not modelled (the distro config is the 6.6 cpu-slab fast path)", NULL, 0, NULL);
		return NULL;
	}
	if (hp_slub_ensure_init() != 0) {
		set_err(err, errlen, "kmem_cache_create: the slab allocator could not be set up (arena mmap failed)", NULL, 0, NULL);
		return NULL;
	}
	s = hp_kmem_cache_alloc(&boot_cache);
	if (!s) {
		set_err(err, errlen, "kmem_cache_create: out of memory for the cache descriptor", NULL, 0, NULL);
		return NULL;
	}
	memset(s, 0, sizeof *s);
	pthread_mutex_lock(&g.slab_mutex);
	if (cache_open(s, name, size, align, flags, ctor, err, errlen) != 0) {
		pthread_mutex_unlock(&g.slab_mutex);
		hp_kmem_cache_free(&boot_cache, s);
		return NULL;
	}
	pthread_mutex_unlock(&g.slab_mutex);
	return s;
}

/* flush_cpu_slab() for one unit: quiescent for pinned units. */
static void flush_unit(hp_kmem_cache_t *s, int unit)
{
	hp_kmem_cache_cpu_t *c = unit_slot(s, unit);
	int locked = !(s->hot.flags & HP_SLAB_PCPU_PINNED) || unit == g.nr_cpus;
	void *fl = slot_hold(s, c, locked);
	hp_slab_t *slab = c->slab, *partial = c->partial;

	set_cpu_slab(s, c, NULL);
	c->partial = NULL;
	slot_release(s, c, locked, NULL);
	if (slab) {
		deactivate_slab(s, slab, fl);
		stat_c(c, HP_SLUB_STAT_CPUSLAB_FLUSH);
	}
	if (partial)
		unfreeze_partials(s, partial);
}

static void flush_all(hp_kmem_cache_t *s)
{
	if (sheaves_cache(s)) {
		sheaves_flush_all(s);   /* pcs_flush_all + barn_shrink */
		return;
	}
	for (int u = 0; u <= g.nr_cpus; u++)
		flush_unit(s, u);
}

/* Empty partial slabs back to buddy (all of them); returns how many. */
static int discard_empty_partials_node(hp_kmem_cache_t *s, hp_kmem_cache_node_t *n)
{
	hp_slab_t *discard = NULL;
	int freed = 0;

	lock_node(n);
	for (hp_list_t *l = n->partial.next, *nx; l != &n->partial; l = nx) {
		hp_slab_t *slab = slab_of_list(l);

		nx = l->next;
		if (!CNT_INUSE(LOAD(&slab->counters))) {
			remove_partial(n, slab);
			slab->next = discard;
			discard = slab;
		}
	}
	unlock_node(n);
	while (discard) {
		hp_slab_t *slab = discard;

		discard = slab->next;
		discard_slab(s, slab);
		freed++;
	}
	return freed;
}
static int discard_empty_partials(hp_kmem_cache_t *s)
{
	int freed = 0;

	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++)
		freed += discard_empty_partials_node(s, &s->node[nid]);
	return freed;
}

int hp_kmem_cache_shrink(hp_kmem_cache_t *s)
{
	if (!s)
		return 0;
	flush_all(s);
	return discard_empty_partials(s);
}

int hp_kmem_cache_destroy(hp_kmem_cache_t *s)
{
	hp_kmem_cache_node_t *n;
	long remaining_objs, reported_objs = 0;
	int leaks = 0;

	if (!s)
		return 0;
	if (s == &boot_cache || (s->hot.flags & HP_SLAB_KMALLOC))
		return -1;     /* the kernel never destroys these either */
	pthread_mutex_lock(&g.slab_mutex);
	flush_all(s);
	discard_empty_partials(s);
	remaining_objs = 0;
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
	n = &s->node[nid];
	/* free_partial(): what is left has objects in use */
	lock_node(n);
	for (hp_list_t *l = n->partial.next; l != &n->partial; l = l->next) {
		hp_slab_t *slab = slab_of_list(l);

		debug_report_leaks(s, slab);
		reported_objs += CNT_OBJECTS(slab->counters);
		leaks++;
	}
	for (hp_list_t *l = n->full.next; l != &n->full; l = l->next) {
		hp_slab_t *slab = slab_of_list(l);

		debug_report_leaks(s, slab);
		reported_objs += CNT_OBJECTS(slab->counters);
		leaks++;
	}
	unlock_node(n);
	remaining_objs += LOAD(&n->total_objects);
	}
	remaining_objs -= reported_objs;
	if (remaining_objs > 0) {
		/* full slabs of a cache without U are on no list: all in use */
		hp_slub_err_info_t e = {
			.kind = HP_SLUB_ERR_LEAK, .s = s, .what = "Objects remaining on __kmem_cache_shutdown()",
			.offset = -1, .expected = -1, .found = -1, .count = (size_t)remaining_objs,
			.fix = "Slab cache kept: it still has objects",
		};
		slub_report(&e);
		leaks++;
	}
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++)
		if (LOAD(&s->node[nid].nr_slabs))
			leaks++;
	if (leaks) {
		pthread_mutex_unlock(&g.slab_mutex);
		return -1;
	}
	hp_list_del(&s->list);
	if (sheaves_cache(s))
		sheaves_close(s);
	chunk_free(s);
	pthread_mutex_unlock(&g.slab_mutex);
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++)
		pthread_mutex_destroy(&s->node[nid].list_lock);
	hp_kmem_cache_free(&boot_cache, s);
	return 0;
}

long hp_kmem_cache_validate(hp_kmem_cache_t *s)
{
	long errs = 0;

	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
	hp_kmem_cache_node_t *n = &s->node[nid];

	lock_node(n);
	for (hp_list_t *l = n->partial.next; l != &n->partial; l = l->next)
		errs += debug_validate_slab(s, slab_of_list(l));
	for (hp_list_t *l = n->full.next; l != &n->full; l = l->next)
		errs += debug_validate_slab(s, slab_of_list(l));
	unlock_node(n);
	}
	return errs;
}

/* ================================================================== */
/* kmalloc                                                             */
/* ================================================================== */

/* kmalloc_size_index[] lives in g (see there) */
#define size_index g.size_index

static inline unsigned kmalloc_index(size_t size)
{
	if (size <= 192)
		return size_index[(size - 1) / 8];
	return fls_u(size - 1);
}

static size_t kmalloc_class_size(unsigned idx)
{
	return idx == 1 ? 96 : idx == 2 ? 192 : (size_t)1 << idx;
}

static int kmalloc_set_create(unsigned set);

hp_kmem_cache_t *hp_kmalloc_cache(size_t size, int set)
{
	if (!size || size > HP_KMALLOC_MAX_CACHE_SIZE || set < 0 || set >= HP_KMALLOC_NR_SETS ||
	    hp_slub_ensure_init() != 0 || kmalloc_set_create((unsigned)set) != 0)
		return NULL;
	return LOAD_ACQ(&g.kmalloc[set][kmalloc_index(size)]);
}

size_t hp_kmalloc_size_roundup(size_t size)
{
	if (!size)
		return 0;
	if (size > HP_KMALLOC_MAX_CACHE_SIZE)
		return (size_t)HP_PAGE_SIZE << get_order(size);
	return kmalloc_class_size(kmalloc_index(size));
}

/* __kmalloc_large_node(): get_order(size) pages straight from buddy */
static void *kmalloc_large(size_t size)
{
	unsigned order = get_order(size);
	hp_page_t *pg;

	if (order > HP_MAX_ORDER || hp_slub_ensure_init() != 0)
		return NULL;
	pg = hp_buddy_alloc_pages(slub_zone, HP_GFP_KERNEL | HP_GFP_COMP, order);
	if (!pg)
		return NULL;
	pg->priv = NULL;
	STORE(&pg->owner, HP_SLUB_OWNER_LARGE);
	return hp_page_address(slub_zone, pg);
}

/* ------------------------------------------------------------------ */
/* The `distro` config's hooks: the branches a distribution kernel's    */
/* fast path executes when nothing is enabled                          */
/* ------------------------------------------------------------------ */

/* Their state: what the kernel's static keys and globals would read on a
 * distro kernel with nothing switched on but memcg (systemd mounts the
 * memory controller, so memcg_kmem_online() is true there) and kfence
 * (sampling, its allocation gate shut between samples). Written once
 * here; the loads are what the stand-in costs. A static key is a patched
 * jump (a 5-byte nop when off), so each key costs the kernel one nop and
 * here a load, a test and a branch: a little more than the kernel. */
static struct {
	int memcg_kmem_online;        /* memcg_kmem_online_key: on */
	int kfence_allocation_key;    /* kfence_allocation_key: on (CONFIG_KFENCE, sample interval > 0) */
	int kfence_allocation_gate;   /* atomic kfence_allocation_gate: non-zero between samples */
	int init_on_alloc, init_on_free; /* static keys, off */
} hooks = { 1, 1, 1, 0, 0 };

/* should_failslab(): 6.6 calls it out of line on every allocation
 * (noinline, ALLOW_ERROR_INJECTION, so distro kernels with
 * CONFIG_FUNCTION_ERROR_INJECTION keep the call); without CONFIG_FAILSLAB
 * it returns 0. */
__attribute__((noinline)) int hp_slub_should_failslab_(const hp_kmem_cache_t *s)
{
	__asm__ volatile("" ::"r"(s));
	return 0;
}

/* slab_pre_alloc_hook() + kfence_alloc()'s sampling check: 0 to go on,
 * 1 when a hook takes the allocation over (never, with nothing enabled) */
static inline __attribute__((always_inline)) int distro_pre_alloc(const hp_kmem_cache_t *s)
{
	if (unlikely(hp_slub_should_failslab_(s)))
		return 1;
	/* memcg_slab_pre_alloc_hook(): only __GFP_ACCOUNT or SLAB_ACCOUNT allocations are charged */
	if (LOAD(&hooks.memcg_kmem_online) && unlikely(s->hot.flags & 0x80000000u))
		return 1;
	/* kfence_alloc(): static_branch_likely(&kfence_allocation_key), then atomic_read(&kfence_allocation_gate) */
	if (LOAD(&hooks.kfence_allocation_key) && unlikely(!LOAD(&hooks.kfence_allocation_gate)))
		return 1;
	return 0;
}

/* maybe_wipe_obj_freeptr(), slab_want_init_on_alloc() and
 * slab_post_alloc_hook() (kasan and kmemleak compiled out or off;
 * memcg_slab_post_alloc_hook() returns at !objcg) */
static inline __attribute__((always_inline)) void distro_post_alloc(const hp_kmem_cache_t *s, void *obj)
{
	if (unlikely(LOAD(&hooks.init_on_free)))
		*(void **)((char *)obj + s->hot.offset) = NULL;
	if (unlikely(LOAD(&hooks.init_on_alloc)))
		memset(obj, 0, s->object_size);
}

/* slab_free(): memcg_slab_free_hook() (returns at !slab_objcgs()) and
 * slab_free_freelist_hook()/slab_free_hook() (init_on_free off) */
static inline __attribute__((always_inline)) void distro_free_hook(const hp_kmem_cache_t *s, void *x)
{
	if (unlikely(LOAD(&hooks.init_on_free)))
		memset(x, 0, s->object_size);
}

/* ------------------------------------------------------------------ */
/* Out-of-line fast paths                                              */
/* ------------------------------------------------------------------ */

/* virt_to_slab() for the fast paths: address -> pfn -> page descriptor
 * (compound_head) -> slab, with the arena's bounds (a pointer outside it
 * is not a kernel address; here it is reported) cached in one line. */
static struct {
	uintptr_t base, bytes;   /* the buddy arena; bytes 0 before set-up */
	hp_page_t *mem_map;
} kv;

static inline __attribute__((always_inline)) hp_slab_t *fast_virt_to_slab(const void *x)
{
	uintptr_t off = (uintptr_t)x - kv.base;
	hp_page_t *pg;

	if (unlikely(off >= kv.bytes))
		return NULL;
	pg = kv.mem_map + (off >> HP_PAGE_SHIFT);
	if (pg->flags & HP_PG_TAIL)
		pg = pg->head;
	if (unlikely(pg->owner != HP_SLUB_OWNER_SLAB))
		return NULL;
	return (hp_slab_t *)pg->priv;
}

/* slab_alloc_node()'s fast path for each stand-in and config: the object,
 * or NULL for the slow path. */
static inline __attribute__((always_inline)) void *fast_alloc(hp_kmem_cache_t *s, unsigned path)
{
	hp_kmem_cache_cpu_t *c;
	void *obj;

	switch (path) {
	case HP_SLUB_PATH_PINNED:
	case HP_SLUB_PATH_PINNED | HP_SLUB_PATH_DISTRO: {
		/* nounit, or pin_off 0 (not a pinned minimal cache): c->freelist NULL */
		c = (hp_kmem_cache_cpu_t *)(fast_unit + ((path & HP_SLUB_PATH_DISTRO) ? s->hot.cpu_off : s->hot.pin_off));
		hp_slub_barrier_();
		obj = c->freelist;
#if defined(__x86_64__)
		/* load the object straight into the return register: GCC
		 * otherwise keeps c there and pays a move at the return */
		if (!(path & HP_SLUB_PATH_DISTRO))
			__asm__("" : "+a"(obj));
#endif
		if (unlikely(!obj))
			return NULL;
		if (path & HP_SLUB_PATH_DISTRO) {
			void *next = fp_get(s, obj);

			c->freelist = next;
			c->tid += HP_SLUB_TID_ADVANCE;   /* the kernel's cmpxchg advances it */
			__builtin_prefetch((char *)next + s->hot.offset, 1);
		} else {
			c->freelist = hp_slub_get_fp_(s, obj);
		}
		hp_slub_barrier_();
		return obj;
	}
	case HP_SLUB_PATH_CMPXCHG:
	case HP_SLUB_PATH_CMPXCHG | HP_SLUB_PATH_DISTRO:
		for (;;) {
			hp_slub_txn_t t;

			if (unlikely(!hp_slub_alloc_begin_(s, &t)))
				return NULL;
			if (path & HP_SLUB_PATH_DISTRO)
				t.next = fp_get(s, t.obj);
			if (likely(hp_slub_alloc_commit_(&t))) {
				if (path & HP_SLUB_PATH_DISTRO)
					__builtin_prefetch((char *)t.next + s->hot.offset, 1);
				return t.obj;
			}
		}
#ifdef HP_SLUB_RSEQ_ASM
	case HP_SLUB_PATH_RSEQ:
		return hp_slub_rseq_pop_(s, 0);
	case HP_SLUB_PATH_RSEQ | HP_SLUB_PATH_DISTRO:
		return hp_slub_rseq_pop_(s, 1);
#endif
	/* generation `sheaves`: alloc_from_pcs() */
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_PINNED:
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_PINNED | HP_SLUB_PATH_NUMA:
		if (unlikely(!hp_slub_this_unit_))
			return NULL;
		return hp_kmem_cache_alloc_sheaves_pinned(s);
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG:
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG | HP_SLUB_PATH_NUMA:
		return hp_sheaves_lock_pop_(s);
#ifdef HP_SHEAVES_RSEQ_ASM
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ:
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ | HP_SLUB_PATH_NUMA:
		return hp_sheaves_rseq_pop_(s);
#endif
	default:
		return NULL;
	}
}

/* do_slab_free()'s fast path: 1 when x went onto this CPU's freelist
 * (its slab is this CPU's cpu slab), 0 for the slow path. */
static inline __attribute__((always_inline)) int fast_free(hp_kmem_cache_t *s, hp_slab_t *slab, void *x, unsigned path)
{
	hp_kmem_cache_cpu_t *c;

	switch (path) {
	case HP_SLUB_PATH_PINNED:
	case HP_SLUB_PATH_PINNED | HP_SLUB_PATH_DISTRO: {
		void *fl;

		/* nounit, or pin_off 0 (not a pinned minimal cache): c->slab NULL */
		c = (hp_kmem_cache_cpu_t *)(fast_unit + ((path & HP_SLUB_PATH_DISTRO) ? s->hot.cpu_off : s->hot.pin_off));
		hp_slub_barrier_();
		if (unlikely(c->slab != slab))
			return 0;
		fl = c->freelist;
		if (path & HP_SLUB_PATH_DISTRO) {
			if (unlikely(fl == x))   /* set_freepointer(): BUG_ON(object == fp) */
				__builtin_trap();
			fp_set(s, x, fl);
			c->tid += HP_SLUB_TID_ADVANCE;
		} else {
			hp_slub_set_fp_(s, x, fl);
		}
		c->freelist = x;
		hp_slub_barrier_();
		return 1;
	}
	case HP_SLUB_PATH_CMPXCHG:
	case HP_SLUB_PATH_CMPXCHG | HP_SLUB_PATH_DISTRO:
		for (;;) {
			uint64_t tid;
			void *fl;

			c = hp_slub_this_cpu_(s);
			tid = LOAD_ACQ(&c->tid);
			if (unlikely((tid & 1) || LOAD(&c->slab) != slab))
				return 0;
			fl = LOAD(&c->freelist);
			if (path & HP_SLUB_PATH_DISTRO) {
				if (unlikely(fl == x))
					__builtin_trap();
				fp_set(s, x, fl);
			} else {
				hp_slub_set_fp_(s, x, fl);
			}
			if (likely(hp_slub_cas_ft_(c, fl, tid, x, tid + HP_SLUB_TID_ADVANCE)))
				return 1;
		}
#ifdef HP_SLUB_RSEQ_ASM
	case HP_SLUB_PATH_RSEQ:
		return hp_slub_rseq_push_(s, x, 0);
	case HP_SLUB_PATH_RSEQ | HP_SLUB_PATH_DISTRO:
		return hp_slub_rseq_push_(s, x, 1);
#endif
	/* generation `sheaves`: slab_free()'s node test (more than one node),
	 * then free_to_pcs(); a remote-node object goes to free_one ->
	 * hp_sheaves_free_slow, which sends it to its slab (__slab_free) */
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_PINNED | HP_SLUB_PATH_NUMA:
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG | HP_SLUB_PATH_NUMA:
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ | HP_SLUB_PATH_NUMA:
#ifndef HP_SLUB_MUTATE_REMOTE_NODE_TO_SHEAF
		if (unlikely(slab->nid != slub_numa_mem_id()))
			return 0;
#endif
		return fast_free(s, slab, x, path & ~(unsigned)HP_SLUB_PATH_NUMA);
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_PINNED: {
		hp_slab_sheaf_t *sh;

		(void)slab;
		if (unlikely(!hp_slub_this_unit_))
			return 0;
		hp_slub_barrier_();
		sh = hp_slub_pinned_pcs_(s)->main;
		if (unlikely(sh->size >= sh->capacity))
			return 0;
		sh->objects[sh->size] = x;
		sh->size++;
		hp_slub_barrier_();
		return 1;
	}
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG:
		return hp_sheaves_lock_push_(s, x);
#ifdef HP_SHEAVES_RSEQ_ASM
	case HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ:
		return hp_sheaves_rseq_push_(s, x);
#endif
	default:
		return 0;
	}
}

/* Everything but a fast-path kmalloc: size 0, large sizes, before set-up,
 * a set not created yet, an empty cpu freelist, debug caches (which also
 * record the request size). */
static __attribute__((noinline)) void *kmalloc_cold(size_t size, unsigned set, unsigned long caller)
{
	hp_kmem_cache_t *s;
	void *obj;

	if (size > HP_KMALLOC_MAX_CACHE_SIZE)
		return kmalloc_large(size);
	if (!size)
		return HP_ZERO_SIZE_PTR;
	if (hp_slub_ensure_init() != 0 || kmalloc_set_create(set) != 0)
		return NULL;
	s = LOAD_ACQ(&g.kmalloc[set][kmalloc_index(size)]);
	if (kmem_cache_debug(s))
		return alloc_debug(s, caller, size);
	if (s->hot.flags & HP_SLAB_KCONFIG_DISTRO) {
		if (distro_pre_alloc(s))
			return NULL;
		obj = slab_alloc(s, caller, s->object_size);
		if (obj)
			distro_post_alloc(s, obj);
		return obj;
	}
	return slab_alloc(s, caller, s->object_size);
}

/* __kmalloc(): kmalloc_slab()'s size_index[] / fls lookup, then
 * slab_alloc_node()'s fast path; everything else in kmalloc_cold(). With
 * set a constant, the stand-in and config are known at compile time
 * (hp_kmalloc, hp_kmalloc_pinned); hp_kmalloc_set dispatches on s->hot.path. */
/* kmalloc_slab()'s lookup for size 1..192 (size_index[]) and above
 * (fls), then the set's cache, published by kmalloc_set_create (a release
 * store; on x86 an acquire load is a plain mov). Both loads address the
 * set's row of g.kmalloc[] from one base register, the size_index[] table
 * at a constant distance from it (the asm only hides the row's address
 * from GCC, which would otherwise rebuild it with an add on every call). */
static inline __attribute__((always_inline)) hp_kmem_cache_t *kmalloc_lookup(unsigned set, size_t size, int small)
{
	hp_kmem_cache_t *const *row = g.kmalloc[set];
	size_t idx;

#if defined(__x86_64__) && !defined(HP_SLUB_TSAN)
	__asm__("" : "+r"(row));
#endif
	if (small)
		idx = ((const uint8_t *)row + ((const char *)size_index - (const char *)g.kmalloc[set]))[(size - 1) >> 3];
	else
		idx = fls_u(size - 1);
#if defined(__x86_64__) && !defined(HP_SLUB_TSAN)
	{
		/* a plain load, then a compiler barrier: x86 keeps loads in
		 * order, so this is the acquire load's instruction */
		hp_kmem_cache_t *s = row[idx];

		hp_slub_barrier_();
		return s;
	}
#else
	return LOAD_ACQ(&row[idx]);
#endif
}

static inline __attribute__((always_inline)) void *kmalloc_fast(unsigned set, int set_known, size_t size)
{
	hp_kmem_cache_t *s;
	unsigned path;
	void *obj;

	if (likely(size - 1 < 192))
		s = kmalloc_lookup(set, size, 1);
	else if (likely(size - 1 < HP_KMALLOC_MAX_CACHE_SIZE))
		s = kmalloc_lookup(set, size, 0);
	else
		goto cold;
	if (set_known && set == HP_KMALLOC_SET_PINNED) {
		/* never NULL: before set-up the set is all nocache, and a thread
		 * that has no unit reads nounit's NULL freelist */
		path = HP_SLUB_PATH_PINNED;
	} else {
		if (unlikely(!s))
			goto cold;
		if (set_known && set >= HP_KMALLOC_SET_SHEAVES) {
			/* generation `sheaves`: without rseq the set's caches use the
			 * per-CPU spinlock, served by kmalloc_cold */
			path = HP_SLUB_PATH_SHEAVES |
			       (set == HP_KMALLOC_SET_SHEAVES_PINNED ? HP_SLUB_PATH_PINNED : HP_SLUB_PATH_RSEQ);
			if (unlikely(s->hot.path != path)) {
				/* no rseq (valgrind, TSan): the set's caches took the
				 * per-CPU spinlock stand-in; pop under it here rather
				 * than through kmalloc_cold on every call. More than
				 * one node (HP_SLUB_PATH_NUMA): allocation is the same */
				obj = NULL;
				if (set == HP_KMALLOC_SET_SHEAVES &&
				    s->hot.path == (HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG))
					obj = hp_sheaves_lock_pop_(s);
				else if ((s->hot.path & ~(unsigned)HP_SLUB_PATH_NUMA) == path)
					obj = fast_alloc(s, path);
				else if (set == HP_KMALLOC_SET_SHEAVES && s->hot.path == (HP_SLUB_PATH_NUMA |
									   HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG))
					obj = hp_sheaves_lock_pop_(s);
				if (likely(obj != NULL))
					return obj;
				goto cold;
			}
		} else if (set_known) {
			/* the set's path; a debug cache's cpu freelist is always
			 * NULL; an rseq set without rseq is a cmpxchg set */
			path = (set % 3 == 1 ? HP_SLUB_PATH_PINNED : set % 3 == 2 ? HP_SLUB_PATH_RSEQ : HP_SLUB_PATH_CMPXCHG) |
			       (set >= HP_KMALLOC_SET_DISTRO ? HP_SLUB_PATH_DISTRO : 0);
			if ((path & 3) == HP_SLUB_PATH_RSEQ && unlikely(s->hot.path != path))
				goto cold;
		} else {
			path = s->hot.path;
		}
	}
	if (path & HP_SLUB_PATH_DISTRO) {
		if (unlikely(distro_pre_alloc(s)))
			return NULL;
		obj = fast_alloc(s, path);
		if (unlikely(!obj))
			goto cold;
		distro_post_alloc(s, obj);
		return obj;
	}
	obj = fast_alloc(s, path);
	if (likely(obj != NULL))
		return obj;
cold:
	return kmalloc_cold(size, set, (unsigned long)__builtin_return_address(0));
}

void *hp_kmalloc(size_t size)
{
	return kmalloc_fast(HP_KMALLOC_SET_CMPXCHG, 0, size);
}

void *hp_kmalloc_pinned(size_t size)
{
	return kmalloc_fast(HP_KMALLOC_SET_PINNED, 1, size);
}

static __attribute__((noinline)) void *kmalloc_rseq(size_t size) { return kmalloc_fast(2, 1, size); }
static __attribute__((noinline)) void *kmalloc_dcmpxchg(size_t size) { return kmalloc_fast(3, 1, size); }
static __attribute__((noinline)) void *kmalloc_dpinned(size_t size) { return kmalloc_fast(4, 1, size); }
static __attribute__((noinline)) void *kmalloc_drseq(size_t size) { return kmalloc_fast(5, 1, size); }
static __attribute__((noinline)) void *kmalloc_sheaves(size_t size) { return kmalloc_fast(6, 1, size); }
static __attribute__((noinline)) void *kmalloc_sheaves_pin(size_t size) { return kmalloc_fast(7, 1, size); }

/* one function per set, each compiled for its set's path alone */
static void *(*const kmalloc_set_fn[HP_KMALLOC_NR_SETS])(size_t) = {
	hp_kmalloc, hp_kmalloc_pinned, kmalloc_rseq, kmalloc_dcmpxchg, kmalloc_dpinned, kmalloc_drseq,
	kmalloc_sheaves, kmalloc_sheaves_pin,
};

void *hp_kmalloc_set(unsigned set, size_t size)
{
	if (unlikely(set >= HP_KMALLOC_NR_SETS))
		return NULL;
	return kmalloc_set_fn[set](size);
}

void *hp_kzalloc(size_t size)
{
	void *p = hp_kmalloc(size);

	if (p && p != HP_ZERO_SIZE_PTR)
		memset(p, 0, size);
	return p;
}

static __attribute__((noinline)) void kfree_at(const void *x, unsigned long caller)
{
	hp_page_t *pg;
	unsigned owner;

	if ((uintptr_t)x <= (uintptr_t)HP_ZERO_SIZE_PTR)
		return;
	if (!slub_zone || !hp_buddy_contains(slub_zone, x)) {
		report_bad_pointer(NULL, "kmalloc", x, "kfree: pointer outside the slab arena (not from kmalloc)");
		return;
	}
	pg = hp_compound_head(hp_virt_to_page(slub_zone, x));
	owner = LOAD(&pg->owner);
	if (owner == HP_SLUB_OWNER_SLAB) {
		hp_slab_t *slab = pg->priv;
		hp_kmem_cache_t *s = slab->cache;

		/* the slab is known: do_slab_free() without a second lookup */
		if (s->hot.flags & HP_SLAB_KCONFIG_DISTRO)
			distro_free_hook(s, (void *)x);
		free_one(s, slab, (void *)x, caller);
		return;
	}
	if (owner == HP_SLUB_OWNER_LARGE) {
		if (x != hp_page_address(slub_zone, pg)) {
			report_bad_pointer(NULL, "kmalloc", x, "kfree: pointer inside a large kmalloc block, not its start");
			return;
		}
		STORE(&pg->owner, 0u);
		hp_buddy_free_pages(slub_zone, pg, pg->order);
		return;
	}
	report_bad_pointer(NULL, "kmalloc", x, "kfree: pointer to a page that holds no kmalloc object");
}

/* kfree() of a slab object once the slab is known, for every path but
 * the pinned minimal fast path hp_kfree() inlines: one function per path
 * (each with its fast path compiled for that path alone, so none pays for
 * another's registers), reached through a table. */
#define KFREE_PATH_FN(name, P)                                                                   \
	static __attribute__((noinline)) void name(hp_kmem_cache_t *s, hp_slab_t *slab, void *x, \
						  unsigned long caller)                          \
	{                                                                                         \
		if ((P) & HP_SLUB_PATH_DISTRO)                                                    \
			distro_free_hook(s, x);                                                   \
		if (likely(fast_free(s, slab, x, (P))))                                  \
			return;                                                                   \
		free_one(s, slab, x, caller);                                                     \
	}
KFREE_PATH_FN(kfree_cmpxchg, HP_SLUB_PATH_CMPXCHG)
KFREE_PATH_FN(kfree_pinned, HP_SLUB_PATH_PINNED)
KFREE_PATH_FN(kfree_rseq, HP_SLUB_PATH_RSEQ)
KFREE_PATH_FN(kfree_dcmpxchg, HP_SLUB_PATH_CMPXCHG | HP_SLUB_PATH_DISTRO)
KFREE_PATH_FN(kfree_dpinned, HP_SLUB_PATH_PINNED | HP_SLUB_PATH_DISTRO)
KFREE_PATH_FN(kfree_drseq, HP_SLUB_PATH_RSEQ | HP_SLUB_PATH_DISTRO)
KFREE_PATH_FN(kfree_slow, HP_SLUB_PATH_SLOW)
KFREE_PATH_FN(kfree_sheaves_lock, HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG)
KFREE_PATH_FN(kfree_sheaves_pinned, HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_PINNED)
KFREE_PATH_FN(kfree_sheaves_rseq, HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ)
KFREE_PATH_FN(kfree_sheaves_lock_numa, HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG | HP_SLUB_PATH_NUMA)
KFREE_PATH_FN(kfree_sheaves_pinned_numa, HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_PINNED | HP_SLUB_PATH_NUMA)
KFREE_PATH_FN(kfree_sheaves_rseq_numa, HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ | HP_SLUB_PATH_NUMA)

typedef void (*kfree_fn_t)(hp_kmem_cache_t *, hp_slab_t *, void *, unsigned long);
static const kfree_fn_t kfree_path[HP_SLUB_PATH_NUMA + HP_SLUB_PATH_SHEAVES + 3] = {
	[HP_SLUB_PATH_CMPXCHG] = kfree_cmpxchg, [HP_SLUB_PATH_PINNED] = kfree_pinned,
	[HP_SLUB_PATH_RSEQ] = kfree_rseq, [3] = kfree_slow,
	[HP_SLUB_PATH_DISTRO | HP_SLUB_PATH_CMPXCHG] = kfree_dcmpxchg,
	[HP_SLUB_PATH_DISTRO | HP_SLUB_PATH_PINNED] = kfree_dpinned,
	[HP_SLUB_PATH_DISTRO | HP_SLUB_PATH_RSEQ] = kfree_drseq, [7] = kfree_slow,
	[HP_SLUB_PATH_SLOW] = kfree_slow,
	[HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG] = kfree_sheaves_lock,
	[HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_PINNED] = kfree_sheaves_pinned,
	[HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ] = kfree_sheaves_rseq,
	[HP_SLUB_PATH_NUMA | HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_CMPXCHG] = kfree_sheaves_lock_numa,
	[HP_SLUB_PATH_NUMA | HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_PINNED] = kfree_sheaves_pinned_numa,
	[HP_SLUB_PATH_NUMA | HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ] = kfree_sheaves_rseq_numa,
};

static inline void kfree_slab(hp_kmem_cache_t *s, hp_slab_t *slab, void *x, unsigned long caller)
{
	kfree_path[s->hot.path](s, slab, x, caller);
}

/* kfree(): virt_to_slab() through the page descriptor (address -> pfn ->
 * page, compound_head, folio_test_slab -> slab), slab->slab_cache, then
 * do_slab_free()'s fast path for the cache's stand-in and config. */
void hp_kfree(const void *x)
{
	uintptr_t off = (uintptr_t)x - kv.base;
	hp_page_t *pg;
	hp_slab_t *slab;
	hp_kmem_cache_t *s;
	hp_kmem_cache_cpu_t *c;

	/* NULL, ZERO_SIZE_PTR, before set-up (bytes 0), foreign: kfree_at */
	if (unlikely(off >= kv.bytes))
		goto cold;
	pg = kv.mem_map + (off >> HP_PAGE_SHIFT);
	if (pg->flags & HP_PG_TAIL)
		pg = pg->head;
	if (unlikely(pg->owner != HP_SLUB_OWNER_SLAB))
		goto cold;   /* large kmalloc, or not ours */
	slab = (hp_slab_t *)pg->priv;
	/* do_slab_free()'s fast path for a pinned minimal cache, with the
	 * cache's pin_off and free pointer offset read from the slab (see
	 * hp_slab_t). A cache other than a pinned minimal one has pin_off 0
	 * and reads the zero slot, whose c->slab is NULL: kfree_slab. */
	c = (hp_kmem_cache_cpu_t *)(fast_unit + slab->pin_off);
	hp_slub_barrier_();
	if (likely(c->slab == slab)) {
		*(hp_slub_fp_t *)(void *)((char *)x + slab->fp_offset) = c->freelist;   /* set_freepointer */
		c->freelist = (void *)x;
		hp_slub_barrier_();
		return;
	}
	s = slab->cache;
	kfree_slab(s, slab, (void *)x, (unsigned long)__builtin_return_address(0));
	return;
cold:
	kfree_at(x, (unsigned long)__builtin_return_address(0));
}

/* kmem_cache_alloc() / kmem_cache_free() as the kernel exports them: out
 * of line, for every stand-in and config. distro: the hooks, and on free
 * cache_from_obj() (CONFIG_SLAB_FREELIST_HARDENED: virt_to_cache(x) must
 * be s, else "Wrong slab cache" and nothing is freed). minimal: free still
 * finds the slab from the page descriptor (slab_free(s, virt_to_slab(x)))
 * and compares it with c->slab, as the kernel does. */
void *hp_kmem_cache_alloc_ool(hp_kmem_cache_t *s)
{
	unsigned path = s->hot.path;
	void *obj;

	if (path & HP_SLUB_PATH_DISTRO) {
		if (unlikely(distro_pre_alloc(s)))
			return NULL;
		obj = fast_alloc(s, path);
		if (unlikely(!obj))
			obj = slab_alloc(s, (unsigned long)__builtin_return_address(0), s->object_size);
		if (obj)
			distro_post_alloc(s, obj);
		return obj;
	}
	obj = fast_alloc(s, path);
	if (likely(obj != NULL))
		return obj;
	return hp_kmem_cache_alloc_slow(s, (unsigned long)__builtin_return_address(0));
}

void hp_kmem_cache_free_ool(hp_kmem_cache_t *s, void *x)
{
	unsigned long caller = (unsigned long)__builtin_return_address(0);
	unsigned path = s->hot.path;
	hp_slab_t *slab = fast_virt_to_slab(x);

	if (unlikely(!slab || slab->cache != s)) {
		hp_kmem_cache_free_slow(s, x, caller);   /* NULL, or reported */
		return;
	}
	if (path & HP_SLUB_PATH_DISTRO)
		distro_free_hook(s, x);
	if (likely(fast_free(s, slab, x, path)))
		return;
	free_one(s, slab, x, caller);
}

/* slab_ksize() */
static size_t slab_ksize(const hp_kmem_cache_t *s)
{
	if (s->hot.flags & (HP_SLAB_RED_ZONE | HP_SLAB_POISON))
		return s->object_size;
	if (s->hot.flags & HP_SLAB_STORE_USER)
		return s->inuse;
	return s->size;
}

size_t hp_ksize(const void *x)
{
	hp_page_t *pg;
	unsigned owner;

	if ((uintptr_t)x <= (uintptr_t)HP_ZERO_SIZE_PTR || !slub_zone || !hp_buddy_contains(slub_zone, x))
		return 0;
	pg = hp_compound_head(hp_virt_to_page(slub_zone, x));
	owner = LOAD(&pg->owner);
	if (owner == HP_SLUB_OWNER_SLAB) {
		hp_kmem_cache_t *s = ((hp_slab_t *)pg->priv)->cache;

		if (debug_orig_size(s))   /* skip_orig_size_check() */
			debug_set_orig_size(s, (void *)x, s->object_size);
		return slab_ksize(s);
	}
	if (owner == HP_SLUB_OWNER_LARGE)
		return (size_t)HP_PAGE_SIZE << pg->order;
	return 0;
}

void *hp_krealloc(const void *p, size_t size)
{
	size_t ks;
	void *n;

	if (!size) {
		hp_kfree(p);
		return HP_ZERO_SIZE_PTR;
	}
	if ((uintptr_t)p <= (uintptr_t)HP_ZERO_SIZE_PTR)
		return hp_kmalloc(size);
	ks = hp_ksize(p);
	if (ks >= size)
		return (void *)p;
	n = hp_kmalloc(size);
	if (!n)
		return NULL;
	memcpy(n, p, ks);
	hp_kfree(p);
	return n;
}

/* ================================================================== */
/* Set-up                                                              */
/* ================================================================== */

/* create_kmalloc_caches() for one set: sets 0 and 1 at set-up, the others
 * on first use. 0, or -1 when out of memory. */
static const char *const kmalloc_set_prefix[HP_KMALLOC_NR_SETS] = {
	"kmalloc-", "kmalloc-pin-", "kmalloc-rseq-", "kmalloc-distro-", "kmalloc-distro-pin-", "kmalloc-distro-rseq-",
	"kmalloc-sheaves-", "kmalloc-sheaves-pin-",
};
static const unsigned kmalloc_set_flags[HP_KMALLOC_NR_SETS] = {
	0, HP_SLAB_PCPU_PINNED, HP_SLAB_PCPU_RSEQ,
	HP_SLAB_KCONFIG_DISTRO, HP_SLAB_KCONFIG_DISTRO | HP_SLAB_PCPU_PINNED, HP_SLAB_KCONFIG_DISTRO | HP_SLAB_PCPU_RSEQ,
	HP_SLAB_SHEAVES | HP_SLAB_PCPU_RSEQ, HP_SLAB_SHEAVES | HP_SLAB_PCPU_PINNED,
};

static int kmalloc_set_create(unsigned set)
{
	int rc = 0;

	hp_kmem_cache_t *last = LOAD_ACQ(&g.kmalloc[set][HP_KMALLOC_NR_CACHES - 1]);

	if (last && last != &nocache)
		return 0;
	pthread_mutex_lock(&g.slab_mutex);
	for (unsigned idx = 1; idx < HP_KMALLOC_NR_CACHES && !rc; idx++) {
		size_t sz = kmalloc_class_size(idx);
		char name[48];
		hp_fmt_t f = { name, sizeof name, 0 };
		hp_kmem_cache_t *s;

		if (g.kmalloc[set][idx] && g.kmalloc[set][idx] != &nocache)
			continue;
		fmt_str(&f, kmalloc_set_prefix[set]);
		if (sz >= 1024) {
			fmt_u(&f, sz >> 10, 0);
			fmt_str(&f, "k");
		} else {
			fmt_u(&f, sz, 0);
		}
		fmt_end(&f);
		s = hp_kmem_cache_alloc(&boot_cache);
		if (!s) {
			rc = -1;
			break;
		}
		memset(s, 0, sizeof *s);
		/* create_kmalloc_cache(): power-of-two sizes naturally aligned */
		if (cache_open(s, name, sz, (sz & (sz - 1)) ? 8 : sz, HP_SLAB_KMALLOC | kmalloc_set_flags[set], NULL, NULL,
			       0) != 0) {
			hp_kmem_cache_free(&boot_cache, s);
			rc = -1;
			break;
		}
		s->kmalloc_index = (int)idx;
		__atomic_store_n(&g.kmalloc[set][idx], s, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&g.slab_mutex);
	return rc;
}

static int rseq_registered(void)
{
#ifdef HP_SLUB_RSEQ_ASM
	return *(volatile int *)(hp_slub_rseq_area_() + 4) >= 0;   /* rseq->cpu_id */
#else
	return 0;
#endif
}

#ifdef HP_SLUB_RSEQ_ASM
__thread uint64_t hp_slub_rseq_aborts_ __attribute__((tls_model("initial-exec")));
#endif

uint64_t hp_slub_rseq_aborts(void)
{
#ifdef HP_SLUB_RSEQ_ASM
	return *(volatile uint64_t *)&hp_slub_rseq_aborts_;
#else
	return 0;
#endif
}

int hp_slub_rseq_available(void)
{
	return LOAD_ACQ(&g.state) == ST_READY ? g.rseq_ok : rseq_registered();
}

static int do_init(const hp_slub_config_t *cfg, char *err, size_t errlen)
{
	hp_slub_config_t def;
	hp_buddy_config_t bc;
	const char *dbg;
	int maxp1, cnt;
	char berr[256];

	if (!cfg) {
		memset(&def, 0, sizeof def);
		cfg = &def;
	}
#if defined(__x86_64__)
	{
		unsigned a, b, c, d;

		if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_CMPXCHG16B)) {
			set_err(err, errlen, "this CPU has no cmpxchg16b (CPUID.1:ECX.CX16), which the per-CPU fast path needs",
				NULL, 0, NULL);
			return -2;
		}
	}
#endif
	if (read_cpulist("/sys/devices/system/cpu/possible", &maxp1, &cnt) != 0) {
		long n = sysconf(_SC_NPROCESSORS_CONF);

		maxp1 = n > 0 ? (int)n : 1;
	}
	if (maxp1 > HP_SLUB_MAX_CPUS - 1)
		maxp1 = HP_SLUB_MAX_CPUS - 1;
	g.nr_cpus = maxp1;
	if (read_cpulist("/sys/devices/system/cpu/present", &maxp1, &cnt) != 0)
		cnt = g.nr_cpus;
	g.nr_present = cnt;
	g.min_objects = cfg->slub_min_objects;
	g.min_order = cfg->slub_min_order;
	g.max_order = cfg->slub_max_order ? cfg->slub_max_order : HP_PAGE_ALLOC_COSTLY_ORDER;
	if (g.max_order > HP_MAX_ORDER || g.min_order > g.max_order) {
		set_err(err, errlen, "slub_min_order/slub_max_order: need min <= max <= ", "", HP_MAX_ORDER, "");
		return -1;
	}
	dbg = cfg->slab_debug ? cfg->slab_debug : getenv("HP_SLAB_DEBUG");
	if (parse_slab_debug(dbg, err, errlen) != 0)
		return -1;
	g.hardened = cfg->hardened;
	g.rseq_ok = rseq_registered();
	g.key_state = cfg->seed;

	memset(&bc, 0, sizeof bc);
	bc.arena_bytes = cfg->arena_bytes ? cfg->arena_bytes : parse_bytes(getenv("HP_SLUB_ARENA"));
	bc.ncpus = g.nr_cpus;
	bc.debug = cfg->buddy_debug;
	slub_zone = hp_buddy_create(&bc, berr, sizeof berr);
	if (!slub_zone) {
		set_err(err, errlen, "buddy: ", NULL, 0, berr);
		return -2;
	}
	g.map_len = hp_buddy_head_(slub_zone)->nr_pages * sizeof(hp_slab_t);
	slub_slab_map = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	g.pcpu_len = (size_t)(g.nr_cpus + 1) << HP_SLUB_PCPU_UNIT_SHIFT;
	hp_slub_pcpu_base_ = mmap(NULL, g.pcpu_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (slub_slab_map == MAP_FAILED || hp_slub_pcpu_base_ == MAP_FAILED) {
		set_err(err, errlen, "cannot map the slab descriptors and per-CPU units: ", NULL, 0, strerror(errno));
		return -2;
	}
	hp_list_init(&g.caches);

	/* the boot cache first, then kmalloc's two sets */
	pthread_mutex_lock(&g.slab_mutex);
	if (cache_open(&boot_cache, "kmem_cache", sizeof(hp_kmem_cache_t), 64, 0, NULL, err, errlen) != 0) {
		pthread_mutex_unlock(&g.slab_mutex);
		return -2;
	}
	pthread_mutex_unlock(&g.slab_mutex);
	if (kmalloc_set_create(HP_KMALLOC_SET_CMPXCHG) != 0 || kmalloc_set_create(HP_KMALLOC_SET_PINNED) != 0) {
		set_err(err, errlen, "out of memory creating the kmalloc caches", NULL, 0, NULL);
		return -2;
	}
	kv.mem_map = hp_buddy_head_(slub_zone)->mem_map;
	kv.base = (uintptr_t)hp_buddy_head_(slub_zone)->base;
	STORE(&kv.bytes, (uintptr_t)hp_buddy_head_(slub_zone)->nr_pages << HP_PAGE_SHIFT);
	return 0;
}

static int start(const hp_slub_config_t *cfg, char *err, size_t errlen, int explicit_call)
{
	int st = LOAD_ACQ(&g.state), expect = ST_NONE, rc;

	if (st == ST_READY)
		return explicit_call ? (set_err(err, errlen, "the slab allocator is already set up", NULL, 0, NULL), -1) : 0;
	if (st == ST_FAILED) {
		set_err(err, errlen, "the slab allocator could not be set up earlier", NULL, 0, NULL);
		return -1;
	}
	if (t_initialising)
		return -1;   /* re-entered from our own set-up (e.g. buddy's calloc) */
	if (!__atomic_compare_exchange_n(&g.state, &expect, ST_STARTING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		while ((st = LOAD_ACQ(&g.state)) == ST_STARTING)
			sched_yield();
		if (st == ST_READY)
			return explicit_call ? (set_err(err, errlen, "the slab allocator is already set up", NULL, 0, NULL), -1) : 0;
		return explicit_call ? start(cfg, err, errlen, explicit_call) : (st == ST_NONE ? start(cfg, err, errlen, 0) : -1);
	}
	t_initialising = 1;
	rc = do_init(cfg, err, errlen);
	t_initialising = 0;
	/* a bad configuration leaves nothing behind; a failed mmap is final */
	__atomic_store_n(&g.state, rc == 0 ? ST_READY : rc == -1 ? ST_NONE : ST_FAILED, __ATOMIC_RELEASE);
	return rc == 0 ? 0 : -1;
}

int hp_slub_init(const hp_slub_config_t *cfg, char *err, size_t errlen)
{
	return start(cfg, err, errlen, 1);
}

int hp_slub_ensure_init(void)
{
	if (likely(LOAD_ACQ(&g.state) == ST_READY))
		return 0;
	return start(NULL, NULL, 0, 0);
}

hp_buddy_zone_t *hp_slub_zone(void)
{
	return LOAD_ACQ(&g.state) == ST_READY ? slub_zone : NULL;
}

int hp_slub_nr_cpus(void)
{
	return hp_slub_ensure_init() == 0 ? g.nr_cpus : 0;
}

int hp_slub_contains(const void *p)
{
	hp_buddy_zone_t *z = hp_slub_zone();

	return z && hp_buddy_contains(z, p);
}

int hp_slub_set_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu == -1) {
		hp_slub_this_unit_ = NULL;
		fast_unit = nounit;
		return 0;
	}
	if (hp_slub_ensure_init() != 0 || cpu < 0 || cpu >= g.nr_cpus)
		return -1;
	if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1 || !CPU_ISSET(cpu, &set))
		return -1;
	hp_slub_this_unit_ = hp_slub_pcpu_base_ + ((uintptr_t)cpu << HP_SLUB_PCPU_UNIT_SHIFT);
	fast_unit = hp_slub_this_unit_;
	return 0;
}

/* ================================================================== */
/* Emulated NUMA nodes                                                 */
/* ================================================================== */

unsigned slub_nr_nodes = 1;                       /* nr_node_ids */
static uint8_t slub_cpu_node[HP_SLUB_MAX_CPUS];   /* cpu_to_node() */

int hp_slub_set_nodes(unsigned nr_nodes, const int *cpu_node)
{
	if (hp_slub_ensure_init() != 0)
		return -1;
	if (nr_nodes < 1 || nr_nodes > HP_SLUB_MAX_NODES) {
		errno = EINVAL;
		return -1;
	}
	for (int c = 0; c < g.nr_cpus; c++)
		if (cpu_node && (cpu_node[c] < 0 || (unsigned)cpu_node[c] >= nr_nodes)) {
			errno = EINVAL;
			return -1;
		}
	for (int c = 0; c < HP_SLUB_MAX_CPUS; c++)
		slub_cpu_node[c] = (uint8_t)(cpu_node && c < g.nr_cpus ? (unsigned)cpu_node[c] : (unsigned)c % nr_nodes);
	STORE(&slub_nr_nodes, nr_nodes);
	return 0;
}

unsigned hp_slub_nr_nodes(void) { return LOAD(&slub_nr_nodes); }

int hp_slub_cpu_node(int cpu)
{
	if (cpu < 0 || cpu >= HP_SLUB_MAX_CPUS)
		return -1;
	return slub_cpu_node[cpu];
}

int hp_slub_obj_node(const void *x)
{
	hp_slab_t *slab = slub_virt_to_slab(x);

	return slab ? slab->nid : -1;
}

/* numa_mem_id(): the node of the CPU this thread runs on (a pinned
 * thread: its declared CPU, which its affinity makes the same) */
unsigned slub_numa_mem_id(void)
{
	unsigned cpu;

	if (LOAD(&slub_nr_nodes) == 1)
		return 0;
	cpu = hp_slub_this_unit_ ? (unsigned)((hp_slub_this_unit_ - hp_slub_pcpu_base_) >> HP_SLUB_PCPU_UNIT_SHIFT)
				 : hp_slub_cur_cpu_();
	return cpu < HP_SLUB_MAX_CPUS ? slub_cpu_node[cpu] : 0;
}

/* The node of the CPU whose unit holds c (s's per-CPU slot); the shared
 * unit (threads without one, of a pinned cache) is the running CPU's. */
unsigned slub_unit_node(const hp_kmem_cache_t *s, const void *c)
{
	uintptr_t u = ((uintptr_t)((const char *)c - hp_slub_pcpu_base_) - s->hot.cpu_off) >> HP_SLUB_PCPU_UNIT_SHIFT;

	if (LOAD(&slub_nr_nodes) == 1)
		return 0;
	return u < (uintptr_t)g.nr_cpus ? slub_cpu_node[u] : slub_numa_mem_id();
}

void *hp_kmem_cache_alloc_node(hp_kmem_cache_t *s, int node)
{
	if (node != HP_NUMA_NO_NODE && (node < 0 || (unsigned)node >= LOAD(&slub_nr_nodes)))
		return NULL;
	if (node == HP_NUMA_NO_NODE || !sheaves_cache(s) || (unsigned)node == slub_numa_mem_id())
		return hp_kmem_cache_alloc_ool(s);
	return hp_sheaves_alloc_node_slow(s, (unsigned)node);
}

int hp_slub_get_cpu(void)
{
	if (!hp_slub_this_unit_)
		return -1;
	return (int)((hp_slub_this_unit_ - hp_slub_pcpu_base_) >> HP_SLUB_PCPU_UNIT_SHIFT);
}

/* ================================================================== */
/* fork                                                                */
/* ================================================================== */

#define FOR_EACH_CACHE(s)                                                     \
	for (hp_list_t *l_ = g.caches.next; l_ != &g.caches; l_ = l_->next)  \
		for (hp_kmem_cache_t *s = hp_list_entry(l_, hp_kmem_cache_t, list); s; s = NULL)

/* the slots slot_hold() takes atomically: every unit of a default cache,
 * the shared unit of a pinned one */
static int fork_unit_first(const hp_kmem_cache_t *s)
{
	if (rseq_cache(s) || sheaves_cache(s))
		return g.nr_cpus + 1;   /* none: see slub.h, fast path (c); sheaves: sheaves_fork_prepare */
	return (s->hot.flags & HP_SLAB_PCPU_PINNED) ? g.nr_cpus : 0;
}

static int fork_held;   /* prepare found the allocator set up: undo it after */

void hp_slub_fork_prepare(void)
{
	fork_held = LOAD_ACQ(&g.state) == ST_READY;
	if (!fork_held)
		return;
	/* slab_mutex, slots, list_locks, buddy: the slow paths' order */
	pthread_mutex_lock(&g.slab_mutex);
	FOR_EACH_CACHE(s)
		if (sheaves_cache(s))
			sheaves_fork_prepare(s);   /* every pcs lock, then the barn's: before the set-0
						    * slots a sheaves slow path may wait for (kmalloc of a sheaf) */
	FOR_EACH_CACHE(s)
		for (int u = fork_unit_first(s); u <= g.nr_cpus; u++) {
			hp_kmem_cache_cpu_t *c = unit_slot(s, u);

			c->fork_fl = slot_hold(s, c, 1);
		}
	FOR_EACH_CACHE(s)
		for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++)
			lock_node(&s->node[nid]);
	hp_buddy_fork_prepare(slub_zone);
}

static void fork_release(int child)
{
	if (!fork_held)
		return;
	if (child)
		hp_buddy_fork_child(slub_zone);
	else
		hp_buddy_fork_parent(slub_zone);
	FOR_EACH_CACHE(s) {
		for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
			if (child)
				pthread_mutex_init(&s->node[nid].list_lock, NULL);
			else
				unlock_node(&s->node[nid]);
		}
		if (sheaves_cache(s))
			sheaves_fork_release(s, child);
		for (int u = fork_unit_first(s); u <= g.nr_cpus; u++) {
			hp_kmem_cache_cpu_t *c = unit_slot(s, u);
			void *fl = c->fork_fl;

			c->fork_fl = NULL;
			slot_release(s, c, 1, fl);
		}
	}
	if (child)
		pthread_mutex_init(&g.slab_mutex, NULL);
	else
		pthread_mutex_unlock(&g.slab_mutex);
	fork_held = 0;
}

void hp_slub_fork_parent(void) { fork_release(0); }
void hp_slub_fork_child(void) { fork_release(1); }

/* ================================================================== */
/* Observability                                                       */
/* ================================================================== */

static unsigned long count_partial_free(hp_kmem_cache_t *s)
{
	unsigned long fr = 0;

	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
	hp_kmem_cache_node_t *n = &s->node[nid];

	lock_node(n);
	for (hp_list_t *l = n->partial.next; l != &n->partial; l = l->next) {
		uint64_t c = LOAD(&slab_of_list(l)->counters);

		fr += CNT_OBJECTS(c) - CNT_INUSE(c);
	}
	unlock_node(n);
	}
	return fr;
}

void hp_kmem_cache_get_info(const hp_kmem_cache_t *cs, hp_kmem_cache_info_t *o)
{
	hp_kmem_cache_t *s = (hp_kmem_cache_t *)cs;

	memset(o, 0, sizeof *o);
	o->name = s->name;
	o->flags = s->hot.flags;
	o->object_size = s->object_size;
	o->size = s->size;
	o->align = s->align;
	o->inuse = s->inuse;
	o->offset = s->hot.offset;
	o->red_left_pad = s->red_left_pad;
	o->order = s->oo_order;
	o->objects = s->oo_objects;
	o->min_order = s->min_order;
	o->min_objects = s->min_objects;
	o->min_partial = s->min_partial;
	o->cpu_partial = s->cpu_partial;
	o->cpu_partial_slabs = s->cpu_partial_slabs;
	o->nr_slabs = o->nr_objs = o->nr_partial = 0;
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
		o->nr_slabs += (unsigned long)LOAD(&s->node[nid].nr_slabs);
		o->nr_objs += (unsigned long)LOAD(&s->node[nid].total_objects);
		o->nr_partial += LOAD(&s->node[nid].nr_partial);
	}
	o->active_objs = o->nr_objs - count_partial_free(s);
	o->errors = LOAD(&s->errors);
}

void hp_kmem_cache_stats(const hp_kmem_cache_t *s, uint64_t out[HP_SLUB_NR_STATS])
{
	memset(out, 0, sizeof(uint64_t) * HP_SLUB_NR_STATS);
	for (int u = 0; u <= g.nr_cpus; u++) {
		hp_kmem_cache_cpu_t *c = unit_slot(s, u);

		for (int i = 0; i < HP_SLUB_NR_STATS; i++)
			out[i] += LOAD(&c->stat[i]);
	}
}

uint64_t hp_kmem_cache_errors(const hp_kmem_cache_t *s)
{
	return LOAD(&s->errors);
}

/* One cache's line of /proc/slabinfo (cache_show()) */
static void slabinfo_line(hp_fmt_t *f, hp_kmem_cache_t *s)
{
	hp_kmem_cache_info_t in;

	hp_kmem_cache_get_info(s, &in);
	fmt_pad(f, s->name, 17, 1);
	fmt_str(f, " ");
	fmt_u(f, in.active_objs, 6);
	fmt_str(f, " ");
	fmt_u(f, in.nr_objs, 6);
	fmt_str(f, " ");
	fmt_u(f, s->size, 6);
	fmt_str(f, " ");
	fmt_u(f, s->oo_objects, 4);
	fmt_str(f, " ");
	fmt_u(f, 1u << s->oo_order, 4);
	fmt_str(f, " : tunables ");
	fmt_u(f, 0, 4);
	fmt_str(f, " ");
	fmt_u(f, 0, 4);
	fmt_str(f, " ");
	fmt_u(f, 0, 4);
	fmt_str(f, " : slabdata ");
	fmt_u(f, in.nr_slabs, 6);
	fmt_str(f, " ");
	fmt_u(f, in.nr_slabs, 6);
	fmt_str(f, " ");
	fmt_u(f, 0, 6);
	fmt_str(f, "\n");
}

int hp_slub_slabinfo(char *buf, size_t len)
{
	hp_fmt_t f = { buf, len, 0 };

	fmt_str(&f, "slabinfo - version: 2.1\n"
		    "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
		    " : tunables <limit> <batchcount> <sharedfactor>"
		    " : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	if (hp_slub_ensure_init() == 0) {
		pthread_mutex_lock(&g.slab_mutex);
		for (hp_list_t *l = g.caches.next; l != &g.caches; l = l->next)
			slabinfo_line(&f, hp_list_entry(l, hp_kmem_cache_t, list));
		pthread_mutex_unlock(&g.slab_mutex);
	}
	fmt_end(&f);
	return (int)f.pos;
}

int hp_slub_slabinfo_fd(int fd)
{
	char stackbuf[8192];
	int need = hp_slub_slabinfo(stackbuf, sizeof stackbuf);
	char *buf = stackbuf;
	size_t maplen = 0, off = 0;
	int rc = 0;

	if ((size_t)need >= sizeof stackbuf) {
		maplen = (size_t)need + 4096;
		buf = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			return -1;
		need = hp_slub_slabinfo(buf, maplen);
		if ((size_t)need >= maplen)
			need = (int)maplen - 1;
	}
	while (off < (size_t)need) {
		ssize_t w = write(fd, buf + off, (size_t)need - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -1;
			break;
		}
		off += (size_t)w;
	}
	if (maplen)
		munmap(buf, maplen);
	return rc;
}
