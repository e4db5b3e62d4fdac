/* malloc_variants.c — the allocator baselines (glibc, jemalloc, mimalloc,
 * tcmalloc, libhotpath-malloc.so), each the process's malloc in a child. */
#include "malloc_variants.h"
#include "hp_malloc_config.h"

#include <dlfcn.h>
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
 * than the harness's heap after earlier cases.
 *
 * Each library is a family of three variants of one name, one per work
 * class: by size (malloc/free), pages (posix_memalign), fixed size. */
#define ENV_GLIBC "HP_ALLOCATOR=glibc"
#define ENV_JEMALLOC "LD_PRELOAD=" HP_MALLOC_JEMALLOC_SO
#define ENV_MIMALLOC "LD_PRELOAD=" HP_MALLOC_MIMALLOC_SO
#define ENV_TCMALLOC "LD_PRELOAD=" HP_MALLOC_TCMALLOC_SO
#define ENV_HOTPATH "LD_PRELOAD=" HP_MALLOC_HOTPATH_SO

#define BY_SIZE(id, nm, avail, env, wk) \
	const hp_variant_t id = { .name = nm, .kind = HP_KIND_BASELINE, .available = avail, \
				  .ops = &hp_mem_libc_ops, .child_env = env, .work = wk, .work_class = HP_WORK_MALLOC }
#define PAGES(id, nm, avail, env) \
	const hp_variant_t id = { .name = nm, .kind = HP_KIND_BASELINE, .available = avail, \
				  .ops = &hp_mem_libc_ops, .child_env = env, .work_class = HP_WORK_PAGES, \
				  .work = "posix_memalign(4096 << order, 4096 << order) + free through the PLT: " \
					  "this malloc's aligned-allocation path (a different path from small malloc)" }

BY_SIZE(hp_v_glibc, "glibc", glibc_available, ENV_GLIBC,
	"malloc(size) + free(p) through the PLT: tcache bin from the size at run time, free reads the chunk header");
BY_SIZE(hp_v_jemalloc, "jemalloc", jemalloc_available, ENV_JEMALLOC,
	"malloc(size) + free(p) through the PLT: size class at run time, free looks the extent up in the rtree");
BY_SIZE(hp_v_mimalloc, "mimalloc", mimalloc_available, ENV_MIMALLOC,
	"malloc(size) + free(p) through the PLT: size class at run time, free finds the page from the segment");
BY_SIZE(hp_v_tcmalloc, "tcmalloc", tcmalloc_available, ENV_TCMALLOC,
	"malloc(size) + free(p) through the PLT: size class at run time, free looks the span up in the pagemap");
BY_SIZE(hp_v_hotpath_malloc, "hotpath_malloc", hotpath_malloc_available, ENV_HOTPATH,
	"malloc(size) + free(p) through the PLT into libhotpath-malloc (hp_kmalloc/hp_kfree behind a malloc API)");

PAGES(hp_v_glibc_pages, "glibc", glibc_available, ENV_GLIBC);
PAGES(hp_v_jemalloc_pages, "jemalloc", jemalloc_available, ENV_JEMALLOC);
PAGES(hp_v_mimalloc_pages, "mimalloc", mimalloc_available, ENV_MIMALLOC);
PAGES(hp_v_tcmalloc_pages, "tcmalloc", tcmalloc_available, ENV_TCMALLOC);

/* ---- fixed-size APIs --------------------------------------------------- */

/* Found with dlsym in the child that preloads the library (the harness
 * itself does not link them); the wrappers tail-call them. */
static void *(*je_mallocx)(size_t size, int flags);
static void (*je_sdallocx)(void *p, size_t size, int flags);
static void *(*mi_small)(size_t size);
static void (*mi_free_sz)(void *p, size_t size);
static void *(*tc_alloc)(size_t size);
static void (*tc_free_sz)(void *p, size_t size);

static void *je_fixed_alloc(size_t size) { return je_mallocx(size, 0); }
static void je_fixed_free(void *p, size_t size) { je_sdallocx(p, size, 0); }
static void *mi_fixed_alloc(size_t size) { return mi_small(size); }
static void mi_fixed_free(void *p, size_t size) { mi_free_sz(p, size); }
static void *tc_fixed_alloc(size_t size) { return tc_alloc(size); }
static void tc_fixed_free(void *p, size_t size) { tc_free_sz(p, size); }

static const hp_mem_ops_t je_fixed_ops = { .name = "jemalloc-fixed", .alloc = je_fixed_alloc, .free = je_fixed_free };
static const hp_mem_ops_t mi_fixed_ops = { .name = "mimalloc-fixed", .alloc = mi_fixed_alloc, .free = mi_fixed_free };
static const hp_mem_ops_t tc_fixed_ops = { .name = "tcmalloc-fixed", .alloc = tc_fixed_alloc, .free = tc_fixed_free };

static const char *glibc_fixed_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return "glibc has no fixed-size or sized-free call: malloc/free is all it offers (the by-size case has it)";
}

static const char *hotpath_fixed_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return "libhotpath-malloc exports only the malloc API; its fixed-size call is impl's kmem_cache_alloc "
	       "(the impl-* variants of this case)";
}

/* mi_malloc_small serves sizes up to MI_SMALL_SIZE_MAX: 128 words */
#define MI_SMALL_MAX (128 * sizeof(void *))

#define FIXED(id, nm, avail, opsp, env, wk) \
	const hp_variant_t id = { .name = nm, .kind = HP_KIND_BASELINE, .available = avail, .ops = opsp, \
				  .child_env = env, .work = wk, .work_class = HP_WORK_FIXED_API }

FIXED(hp_v_glibc_fixed, "glibc", glibc_fixed_available, &hp_mem_libc_ops, ENV_GLIBC,
      "none: glibc has no fixed-size API");
FIXED(hp_v_jemalloc_fixed, "jemalloc", jemalloc_available, &je_fixed_ops, ENV_JEMALLOC,
      "mallocx(size, 0) + sdallocx(p, size, 0): size class from the size, sized free (no rtree size lookup)");
FIXED(hp_v_mimalloc_fixed, "mimalloc", mimalloc_available, &mi_fixed_ops, ENV_MIMALLOC,
      "mi_malloc_small(size) + mi_free_size(p, size): direct small-page lookup (sizes <= 1024), sized free");
FIXED(hp_v_tcmalloc_fixed, "tcmalloc", tcmalloc_available, &tc_fixed_ops, ENV_TCMALLOC,
      "tc_malloc(size) + tc_free_sized(p, size): size class from the size, sized free (no pagemap lookup)");
FIXED(hp_v_hotpath_malloc_fixed, "hotpath_malloc", hotpath_fixed_available, &hp_mem_libc_ops, ENV_HOTPATH,
      "none: libhotpath-malloc has no fixed-size API");

static int bind_one(const char *lib, const char *name, void **fn, char *why, size_t len)
{
	*fn = dlsym(RTLD_DEFAULT, name);
	if (*fn)
		return 0;
	snprintf(why, len, "%s: %s is not exported by the preloaded library (is LD_PRELOAD set?)", lib, name);
	return -1;
}

int hp_malloc_fixed_bind(const hp_variant_t *v, size_t size, char *why, size_t len)
{
	if (v == &hp_v_jemalloc_fixed)
		return bind_one("jemalloc", "mallocx", (void **)&je_mallocx, why, len) ||
		       bind_one("jemalloc", "sdallocx", (void **)&je_sdallocx, why, len) ? -1 : 0;
	if (v == &hp_v_mimalloc_fixed) {
		if (size > MI_SMALL_MAX) {
			snprintf(why, len, "mimalloc: mi_malloc_small serves sizes <= %zu (MI_SMALL_SIZE_MAX), not %zu",
				 MI_SMALL_MAX, size);
			return -1;
		}
		return bind_one("mimalloc", "mi_malloc_small", (void **)&mi_small, why, len) ||
		       bind_one("mimalloc", "mi_free_size", (void **)&mi_free_sz, why, len) ? -1 : 0;
	}
	if (v == &hp_v_tcmalloc_fixed)
		return bind_one("tcmalloc", "tc_malloc", (void **)&tc_alloc, why, len) ||
		       bind_one("tcmalloc", "tc_free_sized", (void **)&tc_free_sz, why, len) ? -1 : 0;
	snprintf(why, len, "%s has no fixed-size API", v && v->name ? v->name : "(null)");
	return -1;
}

const char *hp_malloc_variant_lib(const hp_variant_t *v)
{
	if (v == &hp_v_glibc || v == &hp_v_glibc_pages || v == &hp_v_glibc_fixed)
		return "";
	if (v == &hp_v_jemalloc || v == &hp_v_jemalloc_pages || v == &hp_v_jemalloc_fixed)
		return HP_MALLOC_JEMALLOC_SO;
	if (v == &hp_v_mimalloc || v == &hp_v_mimalloc_pages || v == &hp_v_mimalloc_fixed)
		return HP_MALLOC_MIMALLOC_SO;
	if (v == &hp_v_tcmalloc || v == &hp_v_tcmalloc_pages || v == &hp_v_tcmalloc_fixed)
		return HP_MALLOC_TCMALLOC_SO;
	if (v == &hp_v_hotpath_malloc || v == &hp_v_hotpath_malloc_fixed)
		return HP_MALLOC_HOTPATH_SO;
	return NULL;
}
