/* memops.c — hp_mem_libc_ops: the memory ops table over the process's own malloc. */
#include "memops.h"

#include <stdlib.h>

static void *libc_alloc(size_t size)
{
	return malloc(size);
}

static void libc_free(void *p, size_t size)
{
	(void)size;
	free(p);
}

/* A block of 2^order pages aligned to its own size, as alloc_pages gives:
 * the aligned-allocation path each allocator has (a different path from
 * small malloc in all of them). */
static void *libc_alloc_pages(unsigned order)
{
	size_t sz = (size_t)4096 << order;
	void *p = NULL;

	if (order > 20 || posix_memalign(&p, sz, sz) != 0)
		return NULL;
	return p;
}

static void libc_free_pages(void *p, unsigned order)
{
	(void)order;
	free(p);
}

const hp_mem_ops_t hp_mem_libc_ops = {
	.name = "libc",
	.alloc = libc_alloc,
	.free = libc_free,
	.alloc_bulk = NULL,
	.free_bulk = NULL,
	.alloc_pages = libc_alloc_pages,
	.free_pages = libc_free_pages,
};
