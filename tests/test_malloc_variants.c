/* test_malloc_variants.c — hp_mem_libc_ops, and the allocator variants: availability rules, that each child_env really makes its library the process's malloc, the three families (by size, pages, fixed size) and their work classes, and that each fixed-size API binds and works in the child that preloads its library. */
#include "t_util.h"
#include "malloc_variants.h"
#include "hp_malloc_config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static const hp_variant_t *const all[] = {
	&hp_v_glibc, &hp_v_jemalloc, &hp_v_mimalloc, &hp_v_tcmalloc, &hp_v_hotpath_malloc, NULL,
};

/* The same libraries, family by family, in the same order as all[]. */
static const hp_variant_t *const pages[] = {
	&hp_v_glibc_pages, &hp_v_jemalloc_pages, &hp_v_mimalloc_pages, &hp_v_tcmalloc_pages, NULL,
};
static const hp_variant_t *const fixed[] = {
	&hp_v_glibc_fixed, &hp_v_jemalloc_fixed, &hp_v_mimalloc_fixed, &hp_v_tcmalloc_fixed, &hp_v_hotpath_malloc_fixed,
	NULL,
};

static int sanitized(void)
{
	return strcmp(HP_MALLOC_SANITIZE, "none") != 0 && HP_MALLOC_SANITIZE[0];
}

/* The child side: is the malloc the dynamic linker binds the library we
 * expect? argv: --child <soname fragment or "libc.so"> */
static int child_main(const char *want)
{
	Dl_info di;
	void *m = dlsym(RTLD_DEFAULT, "malloc");

	if (!m || !dladdr(m, &di) || !di.dli_fname) {
		fprintf(stderr, "child: cannot resolve malloc\n");
		return 3;
	}
	/* and it works */
	void *p = malloc(100), *q = NULL;
	int ok = p && posix_memalign(&q, 4096, 5000) == 0 && ((uintptr_t)q & 4095) == 0;
	free(p);
	free(q);
	if (!ok || !strstr(di.dli_fname, want)) {
		fprintf(stderr, "child: malloc comes from %s, expected %s (works: %d)\n", di.dli_fname, want, ok);
		return 4;
	}
	return 0;
}

/* The child side of test_fixed: --fixed <index in fixed[]> <size>: bind the
 * library's fixed-size pair, then allocate, write and free through it. */
static int child_fixed(int i, size_t size)
{
	const hp_variant_t *v = fixed[i];
	const hp_mem_ops_t *o = v->ops;
	char why[256] = "";
	void *keep[64];

	if (hp_malloc_fixed_bind(v, size, why, sizeof why) != 0) {
		fprintf(stderr, "child: %s: %s\n", v->name, why);
		return 5;
	}
	for (int round = 0; round < 100; round++) {
		for (int k = 0; k < 64; k++) {
			keep[k] = o->alloc(size);
			if (!keep[k] || ((uintptr_t)keep[k] & 7)) {
				fprintf(stderr, "child: %s: alloc(%zu) = %p\n", v->name, size, keep[k]);
				return 6;
			}
			memset(keep[k], k, size);
		}
		for (int k = 0; k < 64; k++) {
			/* distinct objects: nobody wrote over another's bytes */
			if (((unsigned char *)keep[k])[size - 1] != k) {
				fprintf(stderr, "child: %s: object %d overwritten\n", v->name, k);
				return 7;
			}
			o->free(keep[k], size);
		}
	}
	return 0;
}

static void test_ops(void)
{
	const hp_mem_ops_t *o = &hp_mem_libc_ops;

	T_CHECK_STR(o->name, "libc");
	T_CHECK(o->alloc_bulk == NULL && o->free_bulk == NULL);
	for (unsigned order = 0; order <= 10; order++) {
		size_t sz = (size_t)4096 << order;
		unsigned char *p = o->alloc_pages(order);

		T_CHECK_MSG(p && ((uintptr_t)p & (sz - 1)) == 0, "alloc_pages(%u) = %p", order, (void *)p);
		if (p) {
			p[0] = 1;
			p[sz - 1] = 2;
			o->free_pages(p, order);
		}
	}
	T_CHECK(o->alloc_pages(40) == NULL);
	char *s = o->alloc(64);
	T_CHECK(s != NULL);
	memset(s, 'x', 64);
	o->free(s, 64);
}

static void test_rules(void)
{
	const char *r;

	r = hp_malloc_lib_unavailable("", "libfoo.so.9", "apt-get install libfoo9");
	T_CHECK_MSG(r && (sanitized() ? strstr(r, "sanitizer") != NULL :
			  strstr(r, "libfoo.so.9 not found at build time (apt-get install libfoo9") != NULL), "%s", r ? r : "(null)");
	r = hp_malloc_lib_unavailable("/nonexistent/libfoo.so.9", "libfoo.so.9", "apt-get install libfoo9");
	T_CHECK_MSG(r && (sanitized() || strstr(r, "/nonexistent/libfoo.so.9 not found (apt-get install libfoo9)")),
		    "%s", r ? r : "(null)");
	r = hp_malloc_lib_unavailable("/proc/self/exe", "exe", "-");
	if (sanitized())
		T_CHECK_MSG(r && strstr(r, "sanitizer") && strstr(r, HP_MALLOC_SANITIZE), "%s", r ? r : "(null)");
	else
		T_CHECK_MSG(r == NULL, "an existing file is unavailable: %s", r ? r : "(null)");

	for (int i = 0; all[i]; i++) {
		const hp_variant_t *v = all[i];
		const char *lib = hp_malloc_variant_lib(v);

		T_CHECK(v->kind == HP_KIND_BASELINE);
		T_CHECK(v->ops == &hp_mem_libc_ops);
		T_CHECK(lib != NULL);
		T_CHECK_MSG(v->child_env != NULL, "%s runs in-process", v->name);
		if (v == &hp_v_glibc) {
			T_CHECK(v->available(NULL) == NULL);
			T_CHECK(strncmp(v->child_env, "LD_PRELOAD", 10) != 0);
			continue;
		}
		/* LD_PRELOAD=<the same absolute path> */
		T_CHECK_MSG(strncmp(v->child_env, "LD_PRELOAD=", 11) == 0 && strcmp(v->child_env + 11, lib) == 0,
			    "%s: %s", v->name, v->child_env);
		T_CHECK_MSG(!lib[0] || lib[0] == '/', "%s: relative path %s", v->name, lib);
		r = v->available(NULL);
		int can = !sanitized() && lib[0] && access(lib, R_OK) == 0;
		T_CHECK_MSG(can == (r == NULL), "%s: available() says %s", v->name, r ? r : "yes");
		printf("%-15s %s\n", v->name, r ? r : lib);
	}
	T_CHECK(hp_malloc_variant_lib(NULL) == NULL);
}

/* The three families: same name, environment and library as the by-size
 * variant; each states its work under its own class. */
static void test_families(void)
{
	for (int i = 0; all[i]; i++) {
		const hp_variant_t *v = all[i], *f = fixed[i], *pg = i < 4 ? pages[i] : NULL;

		T_CHECK_MSG(v->work && v->work[0] && !strcmp(v->work_class, HP_WORK_MALLOC), "%s", v->name);
		T_CHECK(f && !strcmp(f->name, v->name) && !strcmp(f->child_env, v->child_env) &&
			f->kind == HP_KIND_BASELINE && !strcmp(f->work_class, HP_WORK_FIXED_API) && f->work[0]);
		T_CHECK(f && !strcmp(hp_malloc_variant_lib(f), hp_malloc_variant_lib(v)));
		if (pg) {
			T_CHECK(!strcmp(pg->name, v->name) && !strcmp(pg->child_env, v->child_env) &&
				pg->ops == &hp_mem_libc_ops && !strcmp(pg->work_class, HP_WORK_PAGES) && pg->work[0]);
			T_CHECK(!strcmp(hp_malloc_variant_lib(pg), hp_malloc_variant_lib(v)));
			/* the same availability rule */
			T_CHECK((pg->available(NULL) == NULL) == (v->available(NULL) == NULL));
		}
	}
	/* no fixed-size API: unavailable whatever is installed, saying why */
	T_CHECK(hp_v_glibc_fixed.available(NULL) && strstr(hp_v_glibc_fixed.available(NULL), "no fixed-size"));
	T_CHECK(hp_v_hotpath_malloc_fixed.available(NULL) &&
		strstr(hp_v_hotpath_malloc_fixed.available(NULL), "only the malloc API"));
	/* bind refuses a variant without an API, and mimalloc's small call above 1024 bytes */
	char why[256];

	T_CHECK(hp_malloc_fixed_bind(&hp_v_glibc_fixed, 64, why, sizeof why) == -1 && strstr(why, "no fixed-size"));
	T_CHECK(hp_malloc_fixed_bind(&hp_v_glibc, 64, why, sizeof why) == -1);
	T_CHECK(hp_malloc_fixed_bind(&hp_v_mimalloc_fixed, 4096, why, sizeof why) == -1 &&
		strstr(why, "MI_SMALL_SIZE_MAX"));
	/* here nothing is preloaded: jemalloc's mallocx is not found, and the reason names it */
	if (!dlsym(RTLD_DEFAULT, "mallocx"))
		T_CHECK_MSG(hp_malloc_fixed_bind(&hp_v_jemalloc_fixed, 64, why, sizeof why) == -1 &&
			    strstr(why, "mallocx is not exported"), "%s", why);
}

/* Each available fixed-size variant, in a child that preloads its library,
 * binds its functions and allocates and frees correctly through them. */
static void test_fixed_children(void)
{
	static const char *const sizes[] = { "8", "64", "1024" };

	for (int i = 0; fixed[i]; i++) {
		const hp_variant_t *v = fixed[i];

		if (v->available(NULL))
			continue;
		for (int k = 0; k < 3; k++) {
			char idx[8];
			pid_t pid;
			int ws = 0;

			snprintf(idx, sizeof idx, "%d", i);
			pid = fork();
			if (pid == 0) {
				putenv((char *)v->child_env);
				execl("/proc/self/exe", "test_malloc_variants", "--fixed", idx, sizes[k], (char *)NULL);
				_exit(127);
			}
			waitpid(pid, &ws, 0);
			T_CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s fixed, size %s: child failed (status %#x)",
				    v->name, sizes[k], ws);
		}
	}
}

/* Each available variant's child_env, applied to a fresh process, makes
 * its library the malloc (or leaves libc's, for glibc). */
static void test_children(void)
{
	for (int i = 0; all[i]; i++) {
		const hp_variant_t *v = all[i];
		const char *lib = hp_malloc_variant_lib(v);
		const char *want = lib[0] ? strrchr(lib, '/') + 1 : "libc.so";

		if (v->available(NULL) || (v == &hp_v_glibc && sanitized()))
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			putenv((char *)v->child_env);
			execl("/proc/self/exe", "test_malloc_variants", "--child", want, (char *)NULL);
			_exit(127);
		}
		int ws = 0;
		waitpid(pid, &ws, 0);
		T_CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s: child with %s failed (status %#x)",
			    v->name, v->child_env, ws);
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--fixed") == 0)
		return child_fixed(atoi(argv[2]), (size_t)strtoull(argv[3], NULL, 10));
	test_ops();
	test_rules();
	test_families();
	test_children();
	test_fixed_children();
	return t_done("test_malloc_variants");
}
