/* test_malloc_variants.c — hp_mem_libc_ops, and the allocator variants: availability rules, and that each child_env really makes its library the process's malloc. */
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
	test_ops();
	test_rules();
	test_children();
	return t_done("test_malloc_variants");
}
