/* malloc_variants.c — the allocator baselines (glibc, jemalloc, mimalloc,
 * tcmalloc, libhotpath-malloc.so), each the process's malloc in a child. */
#include "malloc_variants.h"
#include "hp_malloc_config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Availability                                                        */
/* ------------------------------------------------------------------ */

/* A sanitizer runtime replaces malloc itself and insists on coming first in
 * the library list: preloading another allocator into an instrumented
 * hotpath either aborts at start or measures nothing meaningful. */
static const char *sanitizer_reason(void)
{
	if (strcmp(HP_MALLOC_SANITIZE, "none") == 0 || HP_MALLOC_SANITIZE[0] == '\0')
		return NULL;
	return "an LD_PRELOAD allocator cannot run in a sanitizer build (b_sanitize="
	       HP_MALLOC_SANITIZE " owns malloc)";
}

/* The library must exist when the run starts, not only when hotpath was
 * configured: packages come and go, build dirs get cleaned. */
const char *hp_malloc_lib_unavailable(const char *path, const char *soname, const char *hint)
{
	static _Thread_local char why[512];
	const char *s = sanitizer_reason();

	if (s)
		return s;
	if (!path[0]) {
		snprintf(why, sizeof why, "%s not found at build time (%s, then reconfigure)", soname, hint);
		return why;
	}
	if (access(path, R_OK) != 0) {
		snprintf(why, sizeof why, "%s not found (%s)", path, hint);
		return why;
	}
	return NULL;
}

static const char *glibc_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return NULL;
}

static const char *jemalloc_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_malloc_lib_unavailable(HP_MALLOC_JEMALLOC_SO, "libjemalloc.so.2", "apt-get install libjemalloc2");
}

static const char *mimalloc_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_malloc_lib_unavailable(HP_MALLOC_MIMALLOC_SO, "libmimalloc.so.2", "apt-get install libmimalloc2.0");
}

static const char *tcmalloc_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_malloc_lib_unavailable(HP_MALLOC_TCMALLOC_SO, "libtcmalloc_minimal.so.4",
			  "apt-get install libtcmalloc-minimal4");
}

static const char *hotpath_malloc_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return hp_malloc_lib_unavailable(HP_MALLOC_HOTPATH_SO, "libhotpath-malloc.so",
			  HP_MALLOC_HOTPATH_SO[0] ? "build it: ninja -C " HP_MALLOC_BUILD_ROOT
						  : "impl/slub or impl/buddy was missing");
}

/* ------------------------------------------------------------------ */
/* Variants                                                            */
/* ------------------------------------------------------------------ */

/* glibc needs no preload, but it runs in a child process as well (the
 * runner starts one for any child_env; HP_ALLOCATOR is only a marker): a
 * fresh heap and a peak RSS of its own, like every other allocator, rather
 * than the harness's heap after earlier cases. */
const hp_variant_t hp_v_glibc = {
	.name = "glibc", .kind = HP_KIND_BASELINE, .available = glibc_available,
	.ops = &hp_mem_libc_ops, .child_env = "HP_ALLOCATOR=glibc",
};

const hp_variant_t hp_v_jemalloc = {
	.name = "jemalloc", .kind = HP_KIND_BASELINE, .available = jemalloc_available,
	.ops = &hp_mem_libc_ops, .child_env = "LD_PRELOAD=" HP_MALLOC_JEMALLOC_SO,
};

const hp_variant_t hp_v_mimalloc = {
	.name = "mimalloc", .kind = HP_KIND_BASELINE, .available = mimalloc_available,
	.ops = &hp_mem_libc_ops, .child_env = "LD_PRELOAD=" HP_MALLOC_MIMALLOC_SO,
};

const hp_variant_t hp_v_tcmalloc = {
	.name = "tcmalloc", .kind = HP_KIND_BASELINE, .available = tcmalloc_available,
	.ops = &hp_mem_libc_ops, .child_env = "LD_PRELOAD=" HP_MALLOC_TCMALLOC_SO,
};

const hp_variant_t hp_v_hotpath_malloc = {
	.name = "hotpath_malloc", .kind = HP_KIND_BASELINE, .available = hotpath_malloc_available,
	.ops = &hp_mem_libc_ops, .child_env = "LD_PRELOAD=" HP_MALLOC_HOTPATH_SO,
};

const char *hp_malloc_variant_lib(const hp_variant_t *v)
{
	if (v == &hp_v_glibc)
		return "";
	if (v == &hp_v_jemalloc)
		return HP_MALLOC_JEMALLOC_SO;
	if (v == &hp_v_mimalloc)
		return HP_MALLOC_MIMALLOC_SO;
	if (v == &hp_v_tcmalloc)
		return HP_MALLOC_TCMALLOC_SO;
	if (v == &hp_v_hotpath_malloc)
		return HP_MALLOC_HOTPATH_SO;
	return NULL;
}
