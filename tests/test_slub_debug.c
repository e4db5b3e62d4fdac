/* test_slub_debug.c — slab_debug F/Z/P/U: each fault reported exactly once through the hook, counted and repaired; leaks at destroy; bad pointers. */
#include "t_util.h"
#include "slub.h"

#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Built a second time with -DT_GEN_SHEAVES (test
 * slub_debug_sheaves): every cache and kmalloc of generation sheaves (7.0),
 * where the same exact counts must hold. */
#ifdef T_GEN_SHEAVES
#define T_GEN_FLAGS HP_SLAB_SHEAVES
#define T_KMALLOC(sz) hp_kmalloc_set(HP_KMALLOC_SET_SHEAVES, (sz))
#define T_KPFX "kmalloc-sheaves-"
#else
#define T_GEN_FLAGS 0u
#define T_KMALLOC(sz) hp_kmalloc(sz)
#define T_KPFX "kmalloc-"
#endif

#define MAXR 16
static int n;                         /* reports since the last reset() */
static hp_slub_report_t rep[MAXR];    /* copies (pointers valid only during the hook) */
static char whats[MAXR][96], texts[MAXR][2048];
static hp_slub_track_t atr[MAXR], ftr[MAXR];
static int has_atr[MAXR], has_ftr[MAXR];

static void hook(void *arg, const hp_slub_report_t *r)
{
	(void)arg;
	if (n < MAXR) {
		rep[n] = *r;
		snprintf(whats[n], sizeof whats[n], "%s", r->what);
		snprintf(texts[n], sizeof texts[n], "%s", r->text);
		has_atr[n] = r->alloc_track != NULL;
		has_ftr[n] = r->free_track != NULL;
		if (r->alloc_track)
			atr[n] = *r->alloc_track;
		if (r->free_track)
			ftr[n] = *r->free_track;
	}
	n++;
}

static void reset(void) { n = 0; }

static hp_kmem_cache_t *mk(const char *name, size_t size)
{
	char err[256];
	hp_kmem_cache_t *s = hp_kmem_cache_create(name, size, 0, HP_SLAB_DEBUG_ALL | T_GEN_FLAGS, NULL, err, sizeof err);

	T_CHECK_MSG(s != NULL, "%s", err);
	return s;
}

/* overflow by one byte: the right red zone */
static void test_right_redzone(void)
{
	unsigned char *p;

	reset();
	p = T_KMALLOC(64);
	p[64] = 0x11;
	hp_kfree(p);
	T_CHECK_MSG(n == 1, "%d reports", n);
	T_CHECK(rep[0].kind == HP_SLUB_ERR_REDZONE && strcmp(whats[0], "Right Redzone overwritten") == 0);
	T_CHECK(rep[0].offset == 64 && rep[0].bad_bytes == 1 && rep[0].found == 0x11 && rep[0].expected == 0xcc);
	T_CHECK(rep[0].object == p);
	/* the default hook prints this; the first error of the process is "Not tainted" */
	T_CHECK_MSG(strstr(texts[0], "\nBUG " T_KPFX "64 (Not tainted): Right Redzone overwritten\n") != NULL, "%s", texts[0]);
	T_CHECK(strstr(texts[0], "FIX " T_KPFX "64: Restoring Right Redzone") != NULL);
	/* U: who allocated and who freed it */
	T_CHECK(has_atr[0] && atr[0].addr != 0 && atr[0].tid == (int)syscall(SYS_gettid));
	T_CHECK(strstr(texts[0], "INFO: Allocated in 0x") != NULL);
	/* repaired: the same object goes round again without a report */
	reset();
	p = T_KMALLOC(64);
	hp_kfree(p);
	T_CHECK(n == 0);
}

/* the kmalloc red zone: bytes past the requested size */
static void test_kmalloc_redzone(void)
{
	unsigned char *p;

	reset();
	p = T_KMALLOC(60);
	memset(p, 1, 60);     /* all 60 bytes are usable */
	hp_kfree(p);
	T_CHECK(n == 0);
	p = T_KMALLOC(60);
	p[60] = 0;            /* one past the request, inside kmalloc-64's object */
	hp_kfree(p);
	T_CHECK_MSG(n == 1 && rep[0].kind == HP_SLUB_ERR_REDZONE &&
		    strcmp(whats[0], "kmalloc Redzone overwritten") == 0 && rep[0].offset == 60, "%d: %s", n, whats[0]);
	/* ksize() lifts the kmalloc red zone of that object (Linux 6.2+) */
	reset();
	p = T_KMALLOC(60);
	T_CHECK(hp_ksize(p) == 64);
	memset(p, 2, 64);
	hp_kfree(p);
	T_CHECK(n == 0);
}

static void test_left_redzone(void)
{
	hp_kmem_cache_t *s = mk("left-rz", 48);
	unsigned char *p = hp_kmem_cache_alloc(s);

	reset();
	p[-1] = 0x42;
	hp_kmem_cache_free(s, p);
	T_CHECK(n == 1 && strcmp(whats[0], "Left Redzone overwritten") == 0 && rep[0].offset == -1);
	T_CHECK(hp_kmem_cache_errors(s) == 1);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
}

/* write after free: at byte 0, in the middle, at the end marker */
static void test_use_after_free(void)
{
	static const struct { int off; unsigned char v; const char *what; } cases[] = {
		{ 0, 0x00, "Poison overwritten" },
		{ 40, 0x99, "Poison overwritten" },
		{ 95, 0x6b, "End Poison overwritten" },
	};
	hp_kmem_cache_t *s = mk("uaf", 96);

	for (int i = 0; i < 3; i++) {
		unsigned char *a = hp_kmem_cache_alloc(s), *b;

		hp_kmem_cache_free(s, a);
		reset();
		a[cases[i].off] = cases[i].v;
		b = hp_kmem_cache_alloc(s);       /* the same object comes back first */
		T_CHECK(b == a);
		T_CHECK_MSG(n == 1 && rep[0].kind == HP_SLUB_ERR_POISON && strcmp(whats[0], cases[i].what) == 0 &&
			    rep[0].offset == cases[i].off && rep[0].found == cases[i].v,
			    "case %d: %d reports, %s @%ld", i, n, n ? whats[0] : "-", n ? rep[0].offset : 0L);
		T_CHECK(has_ftr[0] && ftr[0].addr != 0);   /* where it was freed */
		/* an allocated object is poisoned too (use of uninitialised memory shows 0x6b) */
		T_CHECK(b[1] == 0x6b && b[95] == 0xa5);
		reset();
		hp_kmem_cache_free(s, b);
		T_CHECK(n == 0);
	}
	T_CHECK(hp_kmem_cache_errors(s) == 3);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
}

static void test_freepointer(void)
{
	hp_kmem_cache_t *s = mk("freeptr", 64);
	hp_kmem_cache_info_t in;
	void *a, *b, *c, *d;

	hp_kmem_cache_get_info(s, &in);
	T_CHECK(in.offset >= 64);   /* poisoning keeps the free pointer outside */
	a = hp_kmem_cache_alloc(s);
	b = hp_kmem_cache_alloc(s);
	hp_kmem_cache_free(s, a);
	hp_kmem_cache_free(s, b);   /* freelist: b -> a -> the never-used rest */
	reset();
	*(uintptr_t *)((char *)b + in.offset) = 0x1234;
	c = hp_kmem_cache_alloc(s);
	T_CHECK(c == b);
	T_CHECK_MSG(n == 1 && rep[0].kind == HP_SLUB_ERR_FREEPTR && strcmp(whats[0], "Freepointer corrupt") == 0,
		    "%d reports: %s", n, n ? whats[0] : "-");
	/* the freelist was rebuilt from the red zones: a comes back, nothing lost */
	reset();
	d = hp_kmem_cache_alloc(s);
	T_CHECK(d == a);
	hp_kmem_cache_free(s, c);
	hp_kmem_cache_free(s, d);
	T_CHECK(hp_kmem_cache_validate(s) == 0);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
	T_CHECK_MSG(n == 0, "%d: %s", n, n ? texts[0] : "");
}

static void test_double_free(void)
{
	hp_kmem_cache_t *s = mk("dfree", 32);
	void *a = hp_kmem_cache_alloc(s), *b, *c;

	hp_kmem_cache_free(s, a);
	reset();
	hp_kmem_cache_free(s, a);
	T_CHECK(n == 1 && rep[0].kind == HP_SLUB_ERR_DOUBLE_FREE && strcmp(whats[0], "Object already free") == 0);
	T_CHECK(rep[0].object == a);
	/* a is on the freelist once: two allocations give two objects */
	b = hp_kmem_cache_alloc(s);
	c = hp_kmem_cache_alloc(s);
	T_CHECK(b != c);
	hp_kmem_cache_free(s, b);
	hp_kmem_cache_free(s, c);
	T_CHECK(n == 1);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
}

static void test_bad_pointers(void)
{
	static long not_ours[4];
	unsigned char *p = T_KMALLOC(128), *big;

	reset();
	hp_kfree(p + 8);                        /* inside an object */
	T_CHECK(n == 1 && rep[0].kind == HP_SLUB_ERR_BAD_POINTER && strcmp(whats[0], "Invalid object pointer") == 0);
	hp_kfree(not_ours);                     /* outside the arena */
	T_CHECK(n == 2 && rep[1].kind == HP_SLUB_ERR_BAD_POINTER);
	big = T_KMALLOC(20000);
	hp_kfree(big);
	hp_kfree(big);                          /* a page no longer ours */
	T_CHECK(n == 3 && rep[2].kind == HP_SLUB_ERR_BAD_POINTER);
	hp_kfree(p);
	T_CHECK(n == 3);
	hp_kfree(NULL);
	T_CHECK(n == 3);
}

static void test_leak(void)
{
	hp_kmem_cache_t *s = mk("leaky", 100);
	void *p[3];

	for (int i = 0; i < 3; i++)
		p[i] = hp_kmem_cache_alloc(s);
	reset();
	T_CHECK(hp_kmem_cache_destroy(s) == -1);
	T_CHECK_MSG(n == 1 && rep[0].kind == HP_SLUB_ERR_LEAK && rep[0].count == 3 &&
		    strcmp(whats[0], "Objects remaining in leaky on __kmem_cache_shutdown()") == 0,
		    "%d reports, count %zu", n, n ? rep[0].count : 0);
	T_CHECK(strstr(texts[0], "Object 0x") != NULL);
	/* the cache is still there: free them and destroy again */
	for (int i = 0; i < 3; i++)
		hp_kmem_cache_free(s, p[i]);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
	T_CHECK(n == 1);
}

/* a full slab leaked by a cache without debugging: one report for it */
static void test_leak_nodebug(void)
{
	char err[256];
	hp_kmem_cache_t *s = hp_kmem_cache_create("leaky-plain", 2048, 0, T_GEN_FLAGS, NULL, err, sizeof err);
	hp_kmem_cache_info_t in;
	void *p[16];

	hp_kmem_cache_get_info(s, &in);
	T_CHECK(in.objects == 16 && !(in.flags & HP_SLAB_DEBUG_ALL));
	for (int i = 0; i < 16; i++)
		p[i] = hp_kmem_cache_alloc(s);
	reset();
	T_CHECK(hp_kmem_cache_destroy(s) == -1);
#ifdef T_GEN_SHEAVES
	/* sheaves (capacity 12): the first refill took 12 objects of slab 1, the
	 * second its other 4 and 8 of a new slab 2, and LIFO pops handed out
	 * 12 of slab 1 and 4 of slab 2: after the flush both slabs are partial,
	 * one report each, 16 objects in all */
	T_CHECK_MSG(n == 2 && rep[0].kind == HP_SLUB_ERR_LEAK && rep[1].kind == HP_SLUB_ERR_LEAK &&
			    rep[0].count + rep[1].count == 16,
		    "%d reports", n);
#else
	T_CHECK_MSG(n == 1 && rep[0].kind == HP_SLUB_ERR_LEAK && rep[0].count == 16, "%d reports", n);
#endif
	for (int i = 0; i < 16; i++)
		hp_kmem_cache_free(s, p[i]);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
}

/* validate finds what nobody tripped over yet */
static void test_validate(void)
{
	hp_kmem_cache_t *s = mk("validate", 200);
	unsigned char *a = hp_kmem_cache_alloc(s), *b = hp_kmem_cache_alloc(s);

	hp_kmem_cache_free(s, a);
	reset();
	a[100] = 1;          /* after free */
	b[200] = 2;          /* right red zone of a live object */
	T_CHECK(hp_kmem_cache_validate(s) == 2);
	T_CHECK(n == 2);
	T_CHECK(hp_kmem_cache_validate(s) == 0);   /* repaired */
	hp_kmem_cache_free(s, b);
	T_CHECK(hp_kmem_cache_destroy(s) == 0 && n == 2);
}

/* the letters one at a time: Z alone writes red zones but F checks them */
static void test_flags_alone(void)
{
	char err[256];
	hp_kmem_cache_t *z = hp_kmem_cache_create("only-z", 64, 0, HP_SLAB_RED_ZONE | T_GEN_FLAGS, NULL, err, sizeof err);
	unsigned char *p = hp_kmem_cache_alloc(z);

	reset();
	T_CHECK(p[64] == 0xcc && p[-1] == 0xcc);
	p[64] = 0;
	hp_kmem_cache_free(z, p);
	T_CHECK(n == 0);     /* as in the kernel: no F, no check */
	p = hp_kmem_cache_alloc(z);
	hp_kmem_cache_free(z, p);
	T_CHECK(hp_kmem_cache_destroy(z) == 0);
}

int main(void)
{
	hp_slub_config_t cfg = { .arena_bytes = 128u << 20, .seed = 7, .slab_debug = "FZPU,kmalloc-*" };
	char err[256];
	uint64_t total;

	if (hp_slub_init(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "init: %s\n", err);
		return 1;
	}
	/* a bad slab_debug string is refused with a reason */
	{
		hp_slub_config_t bad = { .slab_debug = "FQ" };
		T_CHECK(hp_slub_init(&bad, err, sizeof err) == -1);
	}
	hp_slub_set_report(hook, NULL);
	T_CHECK(hp_slub_errors() == 0);
	test_right_redzone();
	test_kmalloc_redzone();
	test_left_redzone();
	test_use_after_free();
	test_freepointer();
	test_double_free();
	test_bad_pointers();
	test_leak();
	test_leak_nodebug();
	test_validate();
	test_flags_alone();
	total = hp_slub_errors();
	/* 1 + 1 + 1 + 3 + 1 + 1 + 3 + 1 + 1 + 2 (cpu-slab); sheaves: the
	 * plain cache's leak is two reports (test_leak_nodebug) */
#ifdef T_GEN_SHEAVES
	T_CHECK_MSG(total == 16, "%llu errors in all", (unsigned long long)total);
#else
	T_CHECK_MSG(total == 15, "%llu errors in all", (unsigned long long)total);
#endif
	return t_done("test_slub_debug");
}
