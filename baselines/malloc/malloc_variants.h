/* malloc_variants.h — the baseline allocator variants shared by the memory
 * suites (buddy, slub, malloc-workloads).
 *
 * Each is HP_KIND_BASELINE with ops = &hp_mem_libc_ops: the case calls the
 * process's malloc and the variant decides which malloc that is. jemalloc,
 * mimalloc, tcmalloc and hotpath_malloc run in a child process with
 * child_env "LD_PRELOAD=<absolute path found at configure time>"; their
 * available() checks at run time that the library file exists and says
 * which package provides it when it does not. glibc runs in a child process
 * too (child_env "HP_ALLOCATOR=glibc", an inert marker) so that every
 * allocator starts from an equally fresh heap and its peak RSS is its own,
 * not the harness's.
 */
#ifndef HP_MALLOC_VARIANTS_H
#define HP_MALLOC_VARIANTS_H

#include "hp.h"
#include "memops.h"

/* Work classes of the memory suites (hp_variant_t.work_class): variants of
 * a case with equal class do the same work, and only they get a "vs impl"
 * ratio in summary.md (docs/suites/slub.md, "What each comparison means"). */
/* inline kmem_cache_alloc/free, the cache fixed at setup, no call */
#define HP_WORK_INLINE_CACHE "inline-fixed-cache"
/* out-of-line allocation by size (kmalloc, malloc): a size class found at
 * run time, and a free that finds the object's metadata from the pointer */
#define HP_WORK_MALLOC "call+size-lookup+ptr-free"
/* out-of-line allocation from a fixed-size API (kmem_cache_alloc/free;
 * jemalloc mallocx/sdallocx, mimalloc mi_malloc_small/mi_free_size,
 * tcmalloc tc_malloc/tc_free_sized): the closest each allocator offers */
#define HP_WORK_FIXED_API "call+fixed-size-api"
/* a batch of objects: kmem_cache_alloc_bulk/free_bulk (one call each way) */
#define HP_WORK_BULK "bulk-call"
/* a naturally aligned block of 2^order pages (alloc_pages; posix_memalign) */
#define HP_WORK_PAGES "call+aligned-pages"

/* malloc(size)/free(p) of the process's malloc (work class HP_WORK_MALLOC):
 * the slub suite's by-size cases and malloc-workloads. */
extern const hp_variant_t hp_v_glibc, hp_v_jemalloc, hp_v_mimalloc, hp_v_tcmalloc, hp_v_hotpath_malloc;
#define HP_MALLOC_VARIANTS &hp_v_glibc, &hp_v_jemalloc, &hp_v_mimalloc, &hp_v_tcmalloc, &hp_v_hotpath_malloc

/* The same libraries allocating pages: posix_memalign(4096 << order) and
 * free (work class HP_WORK_PAGES, the buddy suite), with the same names. */
extern const hp_variant_t hp_v_glibc_pages, hp_v_jemalloc_pages, hp_v_mimalloc_pages, hp_v_tcmalloc_pages;
#define HP_MALLOC_PAGE_VARIANTS &hp_v_glibc_pages, &hp_v_jemalloc_pages, &hp_v_mimalloc_pages, &hp_v_tcmalloc_pages

/* The same libraries through their closest fixed-size API (work class
 * HP_WORK_FIXED_API, the slub suite's cache_pair), with the same names.
 * ops is an hp_mem_ops_t whose alloc(size)/free(p, size) call the
 * library's functions, found with dlsym in the child that preloads it:
 * call hp_malloc_fixed_bind() there first. glibc and libhotpath-malloc
 * have no such API: their available() says so. */
extern const hp_variant_t hp_v_glibc_fixed, hp_v_jemalloc_fixed, hp_v_mimalloc_fixed, hp_v_tcmalloc_fixed,
	hp_v_hotpath_malloc_fixed;
#define HP_MALLOC_FIXED_VARIANTS &hp_v_glibc_fixed, &hp_v_jemalloc_fixed, &hp_v_mimalloc_fixed, \
	&hp_v_tcmalloc_fixed, &hp_v_hotpath_malloc_fixed
/* Resolves v's fixed-size functions in this process (the child that
 * preloads v's library). 0; or -1 with the reason in why (a function the
 * library does not export, v not one of the above). `size` is the object
 * size the run will use: mimalloc's mi_malloc_small serves sizes <= 1024
 * only (MI_SMALL_SIZE_MAX), larger sizes are refused with that reason. */
int hp_malloc_fixed_bind(const hp_variant_t *v, size_t size, char *why, size_t len);

/* The preloaded library's absolute path ("" for glibc, NULL if the variant
 * is not one of the above, by-size or fixed-size). */
const char *hp_malloc_variant_lib(const hp_variant_t *v);

/* The availability rule of the preloaded variants: NULL when a library at
 * `path` can be preloaded here, else a reason naming the file (or soname
 * when path is "", not found at build time) and `hint` (how to get it).
 * In a sanitizer build it is always a reason. The reason is in
 * thread-local storage, valid until the next call. */
const char *hp_malloc_lib_unavailable(const char *path, const char *soname, const char *hint);

#endif
