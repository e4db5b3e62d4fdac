/* hpmalloc.h — a malloc over impl/slub's kmalloc and impl/buddy's pages: the core of libhotpath-malloc.so.
 *
 * How a request is served (sizes after rounding 0..15 up to 16, so every
 * block is 16-byte aligned as max_align_t needs):
 *   16 .. 8192 bytes     hp_kmalloc: the kmalloc-16 .. kmalloc-8192 size
 *                        classes (96 and 192 included), per-CPU freelists
 *                        with the cmpxchg16b fast path (slub.h, stand-in b:
 *                        any thread, pinned or not)
 *   8 KiB .. 4 MiB       hp_kmalloc's large path: a buddy block of
 *                        get_order(size) pages (kmalloc_large)
 *   above 4 MiB          a private mmap with a 32-byte header, as the kernel
 *                        falls back from kmalloc to vmalloc in kvmalloc()
 * The arena (buddy zone) is one MAP_NORESERVE mapping made on first use;
 * memory freed to it is kept for reuse, never returned to the system. When
 * the arena is full, requests fall back to mmap (one warning on stderr).
 *
 * Alignment (posix_memalign, aligned_alloc, memalign, valloc, pvalloc):
 * up to 16 is plain malloc; larger powers of two up to 4 MiB use a
 * power-of-two kmalloc size >= the alignment (the kmalloc caches and buddy
 * blocks are naturally aligned); beyond that an over-sized mmap.
 *
 * Environment, read once when the allocator starts:
 *   HOTPATH_MALLOC_ARENA=SIZE      arena size (bytes, or with K/M/G), default 1G
 *   HOTPATH_MALLOC_SLAB_DEBUG=STR  slab_debug for the kmalloc caches (slub.h
 *                                  syntax: "FZPU", "F,kmalloc-64"); default none
 *   HOTPATH_MALLOC_HARDENED=1      XOR-hardened free pointers
 *   HOTPATH_MALLOC_GEN=GEN         the SLUB generation under kmalloc: sheaves
 *                                  (7.0 per-CPU sheaves + barn, default: the
 *                                  faster on larson) or cpu-slab (6.6 per-CPU
 *                                  slab); anything else is reported on stderr
 *                                  and the default used
 *   HOTPATH_MALLOC_STATS=1|/path   at exit, one line of call counters on
 *                                  stderr (1) or appended to the file /path
 *
 * Thread safety: every function is thread-safe. Nothing here calls libc's
 * malloc; memory needed while the allocator starts (impl/buddy allocates its
 * zone descriptor with calloc, which comes back here) is served from mmap.
 * Known limit: fork() in a multi-threaded program while another thread is
 * inside the allocator may leave a lock held in the child (impl/slub and
 * impl/buddy have no lock-all hook for pthread_atfork yet).
 */
#ifndef HP_MALLOC_H
#define HP_MALLOC_H

#include <stddef.h>
#include <stdint.h>

/* The malloc family, with the C / POSIX / glibc semantics of the
 * unprefixed names (errno ENOMEM or EINVAL on failure; free(NULL) and
 * realloc(p, 0) as glibc: the latter frees p and returns NULL). */
void *hp_malloc(size_t size);
void hp_free(void *p);
void *hp_calloc(size_t n, size_t size);
void *hp_realloc(void *p, size_t size);
/* align: a power of two multiple of sizeof(void *), else EINVAL. */
int hp_posix_memalign(void **out, size_t align, size_t size);
/* align: a power of two, else NULL with EINVAL. */
void *hp_aligned_alloc(size_t align, size_t size);
/* glibc's memalign: an alignment that is not a power of two is rounded up
 * to the next one. */
void *hp_memalign(size_t align, size_t size);
void *hp_valloc(size_t size);          /* page-aligned */
void *hp_pvalloc(size_t size);         /* page-aligned, size rounded up to pages */
/* Bytes usable at p (>= what was asked); 0 for NULL. Not const, as
 * glibc declares it. */
size_t hp_malloc_usable_size(void *p);

/* Call counters (kept only when HOTPATH_MALLOC_STATS is set, or after
 * hp_malloc_stats_enable(1)). */
typedef struct hp_malloc_stats {
	uint64_t malloc, calloc, realloc, memalign, free; /* calls (memalign: every aligned API) */
	uint64_t slab;          /* served by a kmalloc size class */
	uint64_t pages;         /* served by a buddy block (kmalloc_large) */
	uint64_t mmap;          /* served by mmap (huge, start-up, or arena full) */
	uint64_t failed;        /* returned NULL for lack of memory */
} hp_malloc_stats_t;

void hp_malloc_stats_enable(int on);
void hp_malloc_get_stats(hp_malloc_stats_t *out);
/* The line HOTPATH_MALLOC_STATS prints: "hotpath-malloc: <program> pid <n>:
 * malloc <n> calloc <n> ... failed <n>\n", built without malloc. Returns its
 * length (truncated to len - 1). */
size_t hp_malloc_stats_line(char *buf, size_t len);

/* Starts the allocator now (the first call of any function above does it
 * otherwise). 0, or -1 when the arena cannot be mapped (every request then
 * goes to mmap). */
int hp_malloc_init(void);

#endif
