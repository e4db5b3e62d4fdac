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

extern const hp_variant_t hp_v_glibc, hp_v_jemalloc, hp_v_mimalloc, hp_v_tcmalloc, hp_v_hotpath_malloc;

/* The preloaded library's absolute path ("" for glibc, NULL if the variant
 * is not one of the above). */
const char *hp_malloc_variant_lib(const hp_variant_t *v);

/* The availability rule of the preloaded variants: NULL when a library at
 * `path` can be preloaded here, else a reason naming the file (or soname
 * when path is "", not found at build time) and `hint` (how to get it).
 * In a sanitizer build it is always a reason. The reason is in
 * thread-local storage, valid until the next call. */
const char *hp_malloc_lib_unavailable(const char *path, const char *soname, const char *hint);

#endif
