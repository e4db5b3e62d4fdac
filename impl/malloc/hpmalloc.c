/* hpmalloc.c — the malloc family over hp_kmalloc, buddy blocks and mmap (hpmalloc.h); with HP_MALLOC_EXPORT_LIBC it also defines malloc, free, ... for libhotpath-malloc.so. */
#include "hpmalloc.h"
#include "slub.h"
#include "hp_compiler.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HPM_MIN 16                                        /* alignof(max_align_t) */
#define HPM_PAGE ((size_t)HP_PAGE_SIZE)
#define HPM_SLAB_MAX ((size_t)HP_KMALLOC_MAX_CACHE_SIZE)   /* 8192 */
#define HPM_LARGE_MAX (HPM_PAGE << HP_MAX_ORDER)          /* 4 MiB: the largest buddy block */
#define HPM_DEFAULT_ARENA ((size_t)1 << 30)
#define HPM_SIZE_MAX ((size_t)PTRDIFF_MAX)                /* glibc refuses more, so do we */

/* ------------------------------------------------------------------ */
/* Messages without stdio                                              */
/* ------------------------------------------------------------------ */

/* stdio may allocate: everything here is written with write(2). */
static void put_str(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Appends s to buf[*off..len-1], always NUL-terminated. */
static void cat_str(char *buf, size_t len, size_t *off, const char *s)
{
	while (*s && *off + 1 < len)
		buf[(*off)++] = *s++;
	if (len)
		buf[*off < len ? *off : len - 1] = '\0';
}

static void cat_u64(char *buf, size_t len, size_t *off, uint64_t v)
{
	char tmp[24];
	int i = (int)sizeof tmp - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	cat_str(buf, len, off, tmp + i);
}

static __attribute__((noreturn)) void fatal_ptr(const char *fn, const void *p)
{
	char msg[160];
	size_t off = 0;
	uintptr_t a = (uintptr_t)p;
	char hex[19] = "0x";

	for (int i = 0; i < 16; i++)
		hex[2 + i] = "0123456789abcdef"[(a >> (60 - 4 * i)) & 15];
	hex[18] = '\0';
	cat_str(msg, sizeof msg, &off, "hotpath-malloc: ");
	cat_str(msg, sizeof msg, &off, fn);
	cat_str(msg, sizeof msg, &off, "(");
	cat_str(msg, sizeof msg, &off, hex);
	cat_str(msg, sizeof msg, &off, "): not a pointer from this allocator\n");
	put_str(2, msg);
	abort();
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

enum { C_MALLOC, C_CALLOC, C_REALLOC, C_MEMALIGN, C_FREE, C_SLAB, C_PAGES, C_MMAP, C_FAILED, C_N };

/* Sharded so that threads counting at once do not share a cache line. */
#define HPM_SHARDS 32
typedef struct hpm_shard {
	_Atomic uint64_t c[C_N];
} __attribute__((aligned(128))) hpm_shard_t;

static hpm_shard_t g_shard[HPM_SHARDS];
static _Atomic unsigned g_next_shard;
static _Atomic int g_stats_on;
static __thread unsigned t_shard __attribute__((tls_model("initial-exec")));   /* shard + 1 */

static inline void count(int what)
{
	if (likely(!atomic_load_explicit(&g_stats_on, memory_order_relaxed)))
		return;
	unsigned s = t_shard;
	if (!s)
		t_shard = s = 1 + atomic_fetch_add_explicit(&g_next_shard, 1, memory_order_relaxed) % HPM_SHARDS;
	atomic_fetch_add_explicit(&g_shard[s - 1].c[what], 1, memory_order_relaxed);
}

void hp_malloc_stats_enable(int on)
{
	atomic_store_explicit(&g_stats_on, on != 0, memory_order_relaxed);
}

void hp_malloc_get_stats(hp_malloc_stats_t *out)
{
	uint64_t v[C_N] = { 0 };

	for (int s = 0; s < HPM_SHARDS; s++)
		for (int i = 0; i < C_N; i++)
			v[i] += atomic_load_explicit(&g_shard[s].c[i], memory_order_relaxed);
	out->malloc = v[C_MALLOC];
	out->calloc = v[C_CALLOC];
	out->realloc = v[C_REALLOC];
	out->memalign = v[C_MEMALIGN];
	out->free = v[C_FREE];
	out->slab = v[C_SLAB];
	out->pages = v[C_PAGES];
	out->mmap = v[C_MMAP];
	out->failed = v[C_FAILED];
}

size_t hp_malloc_stats_line(char *buf, size_t len)
{
	static const char *const names[C_N] = {
		"malloc", "calloc", "realloc", "memalign", "free", "slab", "pages", "mmap", "failed",
	};
	hp_malloc_stats_t s;
	size_t off = 0;

	if (!len)
		return 0;
	hp_malloc_get_stats(&s);
	const uint64_t v[C_N] = { s.malloc, s.calloc, s.realloc, s.memalign, s.free,
				  s.slab, s.pages, s.mmap, s.failed };
	buf[0] = '\0';
	cat_str(buf, len, &off, "hotpath-malloc: ");
	cat_str(buf, len, &off, program_invocation_short_name[0] ? program_invocation_short_name : "?");
	cat_str(buf, len, &off, " pid ");
	cat_u64(buf, len, &off, (uint64_t)getpid());
	cat_str(buf, len, &off, ":");
	for (int i = 0; i < C_N; i++) {
		cat_str(buf, len, &off, " ");
		cat_str(buf, len, &off, names[i]);
		cat_str(buf, len, &off, " ");
		cat_u64(buf, len, &off, v[i]);
	}
	cat_str(buf, len, &off, "\n");
	return off;
}

/* Where HOTPATH_MALLOC_STATS sends the line at exit: "" = stderr. */
static char g_stats_path[512];

static void stats_from_env(void)
{
	const char *e = getenv("HOTPATH_MALLOC_STATS");

	if (!e || !*e || strcmp(e, "0") == 0)
		return;
	if (e[0] == '/' && strlen(e) < sizeof g_stats_path)
		memcpy(g_stats_path, e, strlen(e) + 1);
	hp_malloc_stats_enable(1);
}

__attribute__((destructor)) static void stats_at_exit(void)
{
	char line[512];
	size_t n;
	int fd = 2;

	if (!atomic_load_explicit(&g_stats_on, memory_order_relaxed) || !getenv("HOTPATH_MALLOC_STATS"))
		return;
	n = hp_malloc_stats_line(line, sizeof line);
	if (g_stats_path[0]) {
		fd = open(g_stats_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return;
	}
	/* one write: lines of concurrent processes stay whole (O_APPEND) */
	if (write(fd, line, n) < 0) {
		/* nothing sensible to do at exit */
	}
	if (fd != 2)
		close(fd);
}

/* ------------------------------------------------------------------ */
/* Start-up                                                            */
/* ------------------------------------------------------------------ */

enum { S_UNINIT, S_STARTING, S_READY, S_NOARENA };
static _Atomic int g_state;
static hp_buddy_zone_t *_Atomic g_zone;  /* the arena; set before S_READY is published */
static size_t g_arena_bytes;
static _Atomic int g_arena_full_said;
static _Atomic int g_atfork_done;
/* set while this thread starts the allocator: buddy's calloc comes back
 * here, and is served from mmap instead of waiting for itself */
static __thread int t_starting __attribute__((tls_model("initial-exec")));

/* "512M", "4G", "1073741824"; 0 when malformed. */
static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	return *end ? 0 : (size_t)v;
}

/* The SLUB generation the kmalloc calls use (HOTPATH_MALLOC_GEN): the
 * kmalloc set of cpu-slab (6.6, stand-in (b)) or of sheaves (7.0, rseq
 * lock stand-in). Written once before S_READY is published. Default
 * sheaves: the faster on larson (malloc-workloads, 1 and 2 threads, 2-vCPU
 * KVM guest, 2026-12-04: 386 vs 989 ns/op and 914 vs 2199; see
 * docs/suites/slub.md, "Generations"). */
#define HPM_GEN_DEFAULT HP_KMALLOC_SET_SHEAVES
static int g_kset = HPM_GEN_DEFAULT;

static inline void *kmalloc_gen(size_t size)
{
	return g_kset == HP_KMALLOC_SET_CMPXCHG ? hp_kmalloc(size) : hp_kmalloc_set((unsigned)g_kset, size);
}

static int start_arena(void)
{
	hp_slub_config_t cfg;
	const char *e;
	char err[200];

	stats_from_env();
	memset(&cfg, 0, sizeof cfg);
	e = getenv("HOTPATH_MALLOC_ARENA");
	cfg.arena_bytes = parse_size(e);
	if (e && !cfg.arena_bytes)
		put_str(2, "hotpath-malloc: HOTPATH_MALLOC_ARENA is not a size (bytes, or a number with K, M or G); using 1G\n");
	if (!cfg.arena_bytes)
		cfg.arena_bytes = HPM_DEFAULT_ARENA;
	/* our own variables, not HP_SLAB_DEBUG/HP_SLUB_ARENA: those belong to
	 * the harness's slub suite and its children inherit them */
	e = getenv("HOTPATH_MALLOC_SLAB_DEBUG");
	cfg.slab_debug = e && *e ? e : "-";
	e = getenv("HOTPATH_MALLOC_HARDENED");
	cfg.hardened = e && strcmp(e, "1") == 0;
	e = getenv("HOTPATH_MALLOC_GEN");
	if (e && *e) {
		int set = hp_slub_generation_set(e);

		if (set < 0)
			put_str(2, "hotpath-malloc: HOTPATH_MALLOC_GEN must be cpu-slab or sheaves; using the default\n");
		else
			g_kset = set;
	}
	g_arena_bytes = cfg.arena_bytes;
	if (hp_slub_init(&cfg, err, sizeof err) != 0 && !hp_slub_zone()) {
		put_str(2, "hotpath-malloc: cannot set up the arena: ");
		put_str(2, err);
		put_str(2, "; every request goes to mmap\n");
		return 0;
	}
	/* set up already (a program linking impl/slub itself): share it */
	atomic_store_explicit(&g_zone, hp_slub_zone(), memory_order_relaxed);
	if (!hp_slub_zone())
		return 0;
	/* a thread that forks while another is inside a slow path (a slot
	 * held, a list_lock or a zone lock taken) would leave the child's
	 * allocator locked for good; slub's hooks take everything first.
	 * Once only (this runs once per process, but be sure): taking the
	 * locks twice in prepare would deadlock. glibc keeps the first
	 * handlers in static storage, so this does not call malloc. */
	if (!atomic_exchange_explicit(&g_atfork_done, 1, memory_order_relaxed) &&
	    pthread_atfork(hp_slub_fork_prepare, hp_slub_fork_parent, hp_slub_fork_child) != 0)
		put_str(2, "hotpath-malloc: pthread_atfork failed; a fork() while another thread allocates may hang the child\n");
	return 1;
}

static __attribute__((noinline)) int start_slow(void)
{
	int s = atomic_load_explicit(&g_state, memory_order_acquire);
	int expect = S_UNINIT;

	if (s >= S_READY)
		return s == S_READY;
	if (t_starting)
		return 0;
	if (atomic_compare_exchange_strong_explicit(&g_state, &expect, S_STARTING,
						    memory_order_acq_rel, memory_order_acquire)) {
		int ok;

		t_starting = 1;
		ok = start_arena();
		t_starting = 0;
		atomic_store_explicit(&g_state, ok ? S_READY : S_NOARENA, memory_order_release);
		return ok;
	}
	while ((s = atomic_load_explicit(&g_state, memory_order_acquire)) == S_STARTING)
		sched_yield();
	return s == S_READY;
}

static inline int ready(void)
{
	return likely(atomic_load_explicit(&g_state, memory_order_acquire) == S_READY) || start_slow();
}

int hp_malloc_init(void)
{
	return ready() ? 0 : -1;
}

/* HOTPATH_MALLOC_STATS may be invisible to a first malloc made before libc
 * set up environ; look again once constructors run. */
__attribute__((constructor)) static void stats_at_start(void)
{
	if (!atomic_load_explicit(&g_stats_on, memory_order_relaxed))
		stats_from_env();
}

static inline hp_buddy_zone_t *arena_of(const void *p)
{
	hp_buddy_zone_t *z = atomic_load_explicit(&g_zone, memory_order_relaxed);

	return z && hp_buddy_contains(z, p) ? z : NULL;
}

static void arena_full(void)
{
	char msg[200];
	size_t off = 0;

	if (atomic_exchange_explicit(&g_arena_full_said, 1, memory_order_relaxed))
		return;
	cat_str(msg, sizeof msg, &off, "hotpath-malloc: the ");
	cat_u64(msg, sizeof msg, &off, g_arena_bytes >> 20);
	cat_str(msg, sizeof msg, &off, " MiB arena is full: more memory comes from mmap, slowly (raise HOTPATH_MALLOC_ARENA)\n");
	put_str(2, msg);
}

/* ------------------------------------------------------------------ */
/* mmap'd blocks: above 4 MiB, over-aligned, start-up, arena full      */
/* ------------------------------------------------------------------ */

#define HPM_BIG_MAGIC 0x6870626967626c6bull  /* "hpbigblk" */

/* Right before the pointer handed out; 32 bytes so the default pointer
 * keeps 16-byte (and 32-byte) alignment. */
typedef struct hpm_big {
	uint64_t magic;         /* HPM_BIG_MAGIC ^ the pointer: catches foreign frees */
	void *base;             /* the mapping */
	size_t map_len;
	size_t usable;          /* from the pointer to the end of the mapping */
} hpm_big_t;

#define HPM_BIG_HDR sizeof(hpm_big_t)

static void *big_alloc(size_t size, size_t align)
{
	size_t lead = align > HPM_BIG_HDR ? align : HPM_BIG_HDR;
	size_t len;
	void *base;
	uintptr_t p;
	hpm_big_t *h;

	if (size > HPM_SIZE_MAX - lead - HPM_PAGE)
		return NULL;
	len = (size + lead + HPM_PAGE - 1) & ~(HPM_PAGE - 1);
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	p = ((uintptr_t)base + HPM_BIG_HDR + align - 1) & ~(uintptr_t)(align - 1);
	h = (hpm_big_t *)p - 1;
	h->magic = HPM_BIG_MAGIC ^ p;
	h->base = base;
	h->map_len = len;
	h->usable = (uintptr_t)base + len - p;
	count(C_MMAP);
	return (void *)p;
}

static hpm_big_t *big_hdr(const void *p, const char *fn)
{
	hpm_big_t *h;

	if ((uintptr_t)p & (HPM_MIN - 1))
		fatal_ptr(fn, p);
	h = (hpm_big_t *)p - 1;
	if (h->magic != (HPM_BIG_MAGIC ^ (uintptr_t)p))
		fatal_ptr(fn, p);
	return h;
}

static void big_free(void *p)
{
	hpm_big_t *h = big_hdr(p, "free");

	h->magic = 0;
	munmap(h->base, h->map_len);
}

/* ------------------------------------------------------------------ */
/* The malloc family                                                   */
/* ------------------------------------------------------------------ */

static void *alloc_aligned(size_t align, size_t size);

static inline void *alloc(size_t size)
{
	if (likely(size <= HPM_LARGE_MAX) && likely(ready())) {
		void *p = kmalloc_gen(size < HPM_MIN ? HPM_MIN : size);

		if (likely(p && !((uintptr_t)p & (HPM_MIN - 1)))) {
			count(size <= HPM_SLAB_MAX ? C_SLAB : C_PAGES);
			return p;
		}
		if (p) {
			/* slab_debug's left red zone puts kmalloc-96 and -192
			 * objects 8 bytes off; the power-of-two classes keep
			 * their alignment */
			hp_kfree(p);
			return alloc_aligned(HPM_MIN * 2, size);
		}
		arena_full();
	}
	void *p = size <= HPM_SIZE_MAX ? big_alloc(size, HPM_MIN) : NULL;

	if (!p) {
		count(C_FAILED);
		errno = ENOMEM;
	}
	return p;
}

static inline void release(void *p)
{
	if (likely(arena_of(p) != NULL))
		hp_kfree(p);
	else
		big_free(p);
}

static size_t usable(const void *p, const char *fn)
{
	if (arena_of(p))
		return hp_ksize(p);
	return big_hdr(p, fn)->usable;
}

static int is_pow2(size_t a)
{
	return a && !(a & (a - 1));
}

static size_t pow2_up(size_t v)
{
	return v <= 1 ? 1 : (size_t)1 << (64 - __builtin_clzll((unsigned long long)(v - 1)));
}

/* align: a power of two. */
static void *alloc_aligned(size_t align, size_t size)
{
	void *p;

	if (align <= HPM_MIN)
		return alloc(size);
	if (size <= HPM_LARGE_MAX && align <= HPM_LARGE_MAX && ready()) {
		size_t want = pow2_up(size < align ? align : size);

		/* power-of-two kmalloc sizes and buddy blocks are naturally
		 * aligned; slab_debug's red zones may shift objects, so check */
		p = kmalloc_gen(want);
		if (p && !((uintptr_t)p & (align - 1))) {
			count(want <= HPM_SLAB_MAX ? C_SLAB : C_PAGES);
			return p;
		}
		if (p)
			hp_kfree(p);
		else
			arena_full();
	}
	p = size <= HPM_SIZE_MAX ? big_alloc(size, align) : NULL;
	if (!p) {
		count(C_FAILED);
		errno = ENOMEM;
	}
	return p;
}

void *hp_malloc(size_t size)
{
	count(C_MALLOC);
	return alloc(size);
}

void hp_free(void *p)
{
	if (!p)
		return;
	count(C_FREE);
	release(p);
}

void *hp_calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	count(C_CALLOC);
	if (__builtin_mul_overflow(n, size, &total)) {
		count(C_FAILED);
		errno = ENOMEM;
		return NULL;
	}
	p = alloc(total);
	/* a fresh mapping is zero already; arena memory is recycled */
	if (p && arena_of(p))
		memset(p, 0, total);
	return p;
}

void *hp_realloc(void *p, size_t size)
{
	size_t old;
	void *n;

	count(C_REALLOC);
	if (!p)
		return alloc(size);
	if (size == 0) {
		count(C_FREE);
		release(p);
		return NULL;
	}
	old = usable(p, "realloc");
	/* shrinking by less than half keeps the block, as growing within it */
	if (size <= old && (size >= old / 2 || old <= 64))
		return p;
	if (!arena_of(p) && size > HPM_LARGE_MAX && size <= HPM_SIZE_MAX - HPM_PAGE) {
		hpm_big_t *h = big_hdr(p, "realloc");

		if ((uintptr_t)p - (uintptr_t)h->base == HPM_BIG_HDR) {
			size_t len = (size + HPM_BIG_HDR + HPM_PAGE - 1) & ~(HPM_PAGE - 1);
			void *base = mremap(h->base, h->map_len, len, MREMAP_MAYMOVE);

			if (base != MAP_FAILED) {
				uintptr_t q = (uintptr_t)base + HPM_BIG_HDR;

				h = (hpm_big_t *)q - 1;
				h->magic = HPM_BIG_MAGIC ^ q;
				h->base = base;
				h->map_len = len;
				h->usable = len - HPM_BIG_HDR;
				return (void *)q;
			}
		}
	}
	n = alloc(size);
	if (!n)
		return NULL;            /* p is untouched, as C says */
	memcpy(n, p, old < size ? old : size);
	count(C_FREE);
	release(p);
	return n;
}

int hp_posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	count(C_MEMALIGN);
	if (!is_pow2(align) || align % sizeof(void *))
		return EINVAL;
	int saved = errno;
	p = alloc_aligned(align, size);
	errno = saved;          /* posix_memalign reports through its result */
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *hp_aligned_alloc(size_t align, size_t size)
{
	count(C_MEMALIGN);
	if (!is_pow2(align)) {
		errno = EINVAL;
		return NULL;
	}
	return alloc_aligned(align, size);
}

void *hp_memalign(size_t align, size_t size)
{
	count(C_MEMALIGN);
	if (align > HPM_SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	return alloc_aligned(pow2_up(align), size);
}

void *hp_valloc(size_t size)
{
	count(C_MEMALIGN);
	return alloc_aligned(HPM_PAGE, size);
}

void *hp_pvalloc(size_t size)
{
	count(C_MEMALIGN);
	if (size > HPM_SIZE_MAX - HPM_PAGE) {
		count(C_FAILED);
		errno = ENOMEM;
		return NULL;
	}
	size = size ? (size + HPM_PAGE - 1) & ~(HPM_PAGE - 1) : HPM_PAGE;
	return alloc_aligned(HPM_PAGE, size);
}

size_t hp_malloc_usable_size(void *p)
{
	return p ? usable(p, "malloc_usable_size") : 0;
}

/* ------------------------------------------------------------------ */
/* The libc names (libhotpath-malloc.so only)                          */
/* ------------------------------------------------------------------ */

#ifdef HP_MALLOC_EXPORT_LIBC
#include <malloc.h>

#define HPM_EXPORT(name, target) \
	__typeof__(target) name __attribute__((alias(#target), visibility("default")))

HPM_EXPORT(malloc, hp_malloc);
HPM_EXPORT(free, hp_free);
HPM_EXPORT(calloc, hp_calloc);
HPM_EXPORT(realloc, hp_realloc);
HPM_EXPORT(posix_memalign, hp_posix_memalign);
HPM_EXPORT(aligned_alloc, hp_aligned_alloc);
HPM_EXPORT(memalign, hp_memalign);
HPM_EXPORT(valloc, hp_valloc);
HPM_EXPORT(pvalloc, hp_pvalloc);
HPM_EXPORT(malloc_usable_size, hp_malloc_usable_size);
#endif
