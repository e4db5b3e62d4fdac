/* memops.h — the ops table shared by the memory suites (buddy, slub,
 * malloc-workloads): each variant, impl or baseline, does the same work
 * through it.
 *
 * Baseline allocators (glibc, jemalloc, mimalloc, tcmalloc, and hotpath's
 * own libhotpath-malloc.so) are all measured through the process's malloc:
 * each runs in a child process with LD_PRELOAD of its library
 * (hp_variant_t.child_env), so their ops are the plain libc calls
 * (hp_mem_libc_ops) and only the environment differs. impl variants fill the
 * table with impl/buddy or impl/slub calls.
 */
#ifndef HP_MEMOPS_H
#define HP_MEMOPS_H

#include <stddef.h>

typedef struct hp_mem_ops {
	const char *name;
	/* Objects: malloc / kmalloc. free gets the size the caller asked for
	 * (kfree ignores it; a sized free may use it). */
	void *(*alloc)(size_t size);
	void (*free)(void *p, size_t size);
	/* Bulk: fill out[0..n) (returns how many were allocated) and free them.
	 * NULL means "loop over alloc/free". */
	size_t (*alloc_bulk)(size_t size, size_t n, void **out);
	void (*free_bulk)(size_t size, size_t n, void **p);
	/* Pages: 2^order naturally aligned 4 KiB pages (alloc_pages /
	 * posix_memalign(4096 << order, 4096 << order)). */
	void *(*alloc_pages)(unsigned order);
	void (*free_pages)(void *p, unsigned order);
} hp_mem_ops_t;

/* The process's own malloc (whatever LD_PRELOAD put there). */
extern const hp_mem_ops_t hp_mem_libc_ops;

#endif
