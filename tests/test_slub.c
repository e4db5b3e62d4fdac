/* test_slub.c — impl/slub basics: slab orders as the kernel picks them, kmalloc classes, alignment, bad input, bulk, hardening, both fast paths, slabinfo. */
#include "t_util.h"
#include "slub.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>

/* The report hook: counts and remembers the last report. */
static int n_reports;
static hp_slub_err_t last_kind;
static char last_what[128];

static void hook(void *arg, const hp_slub_report_t *r)
{
	(void)arg;
	n_reports++;
	last_kind = r->kind;
	snprintf(last_what, sizeof last_what, "%s", r->what);
}

/* Each kmalloc class: order and objects per slab as Linux 6.6 picks them
 * with slub_min_objects = 12 (what 4 * (fls(2) + 1) gives on a 2-CPU
 * machine) - the same as the 2-CPU kernel's /proc/slabinfo. */
static void test_orders(void)
{
	static const struct { size_t size; unsigned order, objects; } want[] = {
		{ 8, 0, 512 }, { 16, 0, 256 }, { 32, 0, 128 }, { 64, 0, 64 }, { 96, 0, 42 },
		{ 128, 0, 32 }, { 192, 0, 21 }, { 256, 0, 16 }, { 512, 1, 16 }, { 1024, 2, 16 },
		{ 2048, 3, 16 }, { 4096, 3, 8 }, { 8192, 3, 4 },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		hp_kmem_cache_t *s = hp_kmalloc_cache(want[i].size, 0);
		hp_kmem_cache_info_t in;

		T_CHECK(s != NULL);
		if (!s)
			continue;
		hp_kmem_cache_get_info(s, &in);
		T_CHECK_MSG(in.order == want[i].order && in.objects == want[i].objects,
			    "kmalloc-%zu: order %u objects %u, want %u/%u", want[i].size, in.order, in.objects,
			    want[i].order, want[i].objects);
		T_CHECK(in.size == want[i].size);
	}
	/* a single 5000-byte object does not fit 12 per order 3: 6 per order 3 */
	unsigned objs = 0;
	int o = hp_slub_calculate_order(5000, &objs);
	T_CHECK_MSG(o == 3 && objs == 6, "5000: order %d objects %u", o, objs);
	/* beyond slub_max_order: the smallest order that holds one */
	o = hp_slub_calculate_order(100000, &objs);
	T_CHECK_MSG(o == 5 && objs == 1, "100000: order %d objects %u", o, objs);
	T_CHECK(hp_slub_calculate_order(5u << 20, NULL) == -1);
}

static void test_kmalloc(void)
{
	T_CHECK(hp_kmalloc(0) == HP_ZERO_SIZE_PTR);
	T_CHECK(hp_ksize(HP_ZERO_SIZE_PTR) == 0);
	hp_kfree(NULL);
	hp_kfree(HP_ZERO_SIZE_PTR);
	for (size_t sz = 1; sz <= 8192; sz += (sz < 256 ? 1 : 61)) {
		unsigned char *p = hp_kmalloc(sz);
		size_t cls = hp_kmalloc_size_roundup(sz);

		T_CHECK_MSG(p != NULL, "kmalloc(%zu)", sz);
		if (!p)
			continue;
		T_CHECK_MSG(hp_ksize(p) == cls, "ksize(kmalloc(%zu)) = %zu, class %zu", sz, hp_ksize(p), cls);
		T_CHECK(cls >= sz);
		if (cls > 8)
			T_CHECK_MSG(((uintptr_t)p & 15) == 0, "kmalloc(%zu) not 16-aligned", sz);
		if (!(cls & (cls - 1)))
			T_CHECK_MSG(((uintptr_t)p & (cls - 1)) == 0, "kmalloc(%zu) not aligned to %zu", sz, cls);
		memset(p, 0x77, hp_ksize(p));
		hp_kfree(p);
	}
	T_CHECK(hp_kmalloc_size_roundup(96) == 96 && hp_kmalloc_size_roundup(97) == 128);
	T_CHECK(hp_kmalloc_size_roundup(129) == 192 && hp_kmalloc_size_roundup(193) == 256);
	/* large: buddy blocks */
	void *big = hp_kmalloc(8193);
	T_CHECK(big && ((uintptr_t)big & 4095) == 0 && hp_ksize(big) == 16384);
	void *big2 = hp_kmalloc(1 << 20);
	T_CHECK(big2 && ((uintptr_t)big2 & ((1 << 20) - 1)) == 0 && hp_ksize(big2) == (1 << 20));
	memset(big2, 1, 1 << 20);
	hp_kfree(big);
	hp_kfree(big2);
	T_CHECK(hp_kmalloc((size_t)64 << 20) == NULL);   /* > order 10 */
	/* kzalloc, krealloc */
	unsigned char *z = hp_kzalloc(100);
	int allzero = 1;
	for (int i = 0; i < 100; i++)
		allzero &= z[i] == 0;
	T_CHECK(allzero);
	memcpy(z, "hello", 6);
	z = hp_krealloc(z, 120);          /* fits kmalloc-128: same object */
	T_CHECK(z && strcmp((char *)z, "hello") == 0);
	z = hp_krealloc(z, 5000);
	T_CHECK(z && strcmp((char *)z, "hello") == 0 && hp_ksize(z) == 8192);
	T_CHECK(hp_krealloc(z, 0) == HP_ZERO_SIZE_PTR);
}

static void test_bad_input(void)
{
	char err[256];
	int before = n_reports;

	T_CHECK(hp_kmem_cache_create("zero", 0, 0, 0, NULL, err, sizeof err) == NULL);
	T_CHECK_MSG(strstr(err, "size 0") != NULL, "%s", err);
	T_CHECK(hp_kmem_cache_create("a3", 64, 3, 0, NULL, err, sizeof err) == NULL);
	T_CHECK_MSG(strstr(err, "align 3") && strstr(err, "power of two"), "%s", err);
	T_CHECK(hp_kmem_cache_create("amax", 64, 1 << 20, 0, NULL, err, sizeof err) == NULL);
	T_CHECK_MSG(strstr(err, "align 1048576") != NULL, "%s", err);
	T_CHECK(hp_kmem_cache_create("huge", (size_t)8 << 20, 0, 0, NULL, err, sizeof err) == NULL);
	T_CHECK_MSG(strstr(err, "8388608") != NULL, "%s", err);
	T_CHECK(hp_kmem_cache_create(NULL, 64, 0, 0, NULL, err, sizeof err) == NULL);
	T_CHECK_MSG(strstr(err, "name") != NULL, "%s", err);
	T_CHECK(hp_kmem_cache_create("flags", 64, 0, 1u << 30, NULL, err, sizeof err) == NULL);
	T_CHECK_MSG(strstr(err, "flag") != NULL, "%s", err);
	/* a pointer from outside the arena is caught even without slab_debug */
	static long not_ours[8];
	hp_kfree(&not_ours[2]);
	T_CHECK(n_reports == before + 1 && last_kind == HP_SLUB_ERR_BAD_POINTER);
	T_CHECK(hp_ksize(&not_ours[2]) == 0);
	/* kmem_cache_free into the wrong cache */
	hp_kmem_cache_t *a = hp_kmem_cache_create("wrong-a", 40, 0, 0, NULL, err, sizeof err);
	hp_kmem_cache_t *b = hp_kmem_cache_create("wrong-b", 48, 0, 0, NULL, err, sizeof err);
	void *o = hp_kmem_cache_alloc(a);
	hp_kmem_cache_free(b, o);
	T_CHECK(n_reports == before + 2 && last_kind == HP_SLUB_ERR_BAD_POINTER);
	hp_kmem_cache_free(a, o);
	T_CHECK(hp_kmem_cache_destroy(a) == 0);
	T_CHECK(hp_kmem_cache_destroy(b) == 0);
	T_CHECK(n_reports == before + 2);
}

/* min_partial: empty slabs beyond it go back to buddy */
static void test_slab_recycling(void)
{
	char err[256];
	hp_kmem_cache_t *s = hp_kmem_cache_create("recycle", 256, 0, HP_SLAB_NO_CPU_PARTIAL, NULL, err, sizeof err);
	hp_kmem_cache_info_t in;
	enum { N = 16 * 40 };
	static void *p[N];

	T_CHECK(s != NULL);
	for (int i = 0; i < N; i++)
		p[i] = hp_kmem_cache_alloc(s);
	hp_kmem_cache_get_info(s, &in);
	T_CHECK_MSG(in.nr_slabs == 40 && in.active_objs == N, "%lu slabs %lu active", in.nr_slabs, in.active_objs);
	T_CHECK(in.min_partial == 5);   /* ilog2(256) / 2 = 4, raised to MIN_PARTIAL */
	/* distinct, non-overlapping */
	for (int i = 1; i < N; i++)
		T_CHECK((char *)p[i] != (char *)p[i - 1]);
	for (int i = 0; i < N; i++)
		hp_kmem_cache_free(s, p[i]);
	hp_kmem_cache_get_info(s, &in);
	/* the cpu slab plus at most min_partial empty partial slabs remain */
	T_CHECK_MSG(in.nr_slabs <= 1 + in.min_partial && in.nr_slabs >= 1, "%lu slabs left", in.nr_slabs);
	T_CHECK(hp_kmem_cache_shrink(s) >= 1);
	hp_kmem_cache_get_info(s, &in);
	T_CHECK_MSG(in.nr_slabs == 0, "%lu slabs after shrink", in.nr_slabs);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
}

static void test_bulk(hp_kmem_cache_t *s)
{
	void *p[300];
	hp_kmem_cache_info_t in0, in;

	hp_kmem_cache_get_info(s, &in0);
	for (int round = 0; round < 4; round++) {
		size_t n = round == 0 ? 16 : round == 1 ? 1 : 300;

		T_CHECK(hp_kmem_cache_alloc_bulk(s, n, p) == n);
		for (size_t i = 0; i < n; i++) {
			memset(p[i], (int)i, 64);
			for (size_t j = 0; j < i && j < 20; j++)
				T_CHECK(p[i] != p[j]);
		}
		/* free in an interleaved order, with a NULL among them */
		if (n > 2) {
			void *t = p[0];
			p[0] = p[n / 2];
			p[n / 2] = t;
			void *keep = p[1];
			p[1] = NULL;
			hp_kmem_cache_free_bulk(s, n, p);
			hp_kmem_cache_free(s, keep);
		} else {
			hp_kmem_cache_free_bulk(s, n, p);
		}
	}
	/* everything went back: once the per-CPU slabs are flushed (they
	 * count as active in slabinfo, as in the kernel) nothing is in use */
	hp_kmem_cache_shrink(s);
	hp_kmem_cache_get_info(s, &in);
	T_CHECK_MSG(in.active_objs == 0 && in.nr_slabs == 0,
		    "active %lu -> %lu, %lu slabs", in0.active_objs, in.active_objs, in.nr_slabs);
	/* kfree_bulk: mixed caches and a large block */
	void *m[5] = { hp_kmalloc(8), hp_kmalloc(100), hp_kmalloc(20000), hp_kmalloc(100), hp_kmalloc(4000) };
	hp_kmem_cache_free_bulk(NULL, 5, m);
}

static void test_hardened(void)
{
	char err[256];
	hp_kmem_cache_t *h = hp_kmem_cache_create("hardened", 64, 0, HP_SLAB_FREELIST_HARDENED, NULL, err, sizeof err);
	hp_kmem_cache_t *plain = hp_kmem_cache_create("plain", 64, 0, 0, NULL, err, sizeof err);
	hp_kmem_cache_info_t ih, ip;

	T_CHECK(h && plain);
	hp_kmem_cache_get_info(h, &ih);
	hp_kmem_cache_get_info(plain, &ip);
	T_CHECK(ih.offset == 32 && ip.offset == 32);   /* the middle of the object (6.6) */
	void *a = hp_kmem_cache_alloc(h), *b = hp_kmem_cache_alloc(h);
	void *c = hp_kmem_cache_alloc(plain), *d = hp_kmem_cache_alloc(plain);
	hp_kmem_cache_free(h, b);
	hp_kmem_cache_free(h, a);     /* a's free pointer -> b */
	hp_kmem_cache_free(plain, d);
	hp_kmem_cache_free(plain, c); /* c's free pointer -> d */
	uintptr_t ha = *(uintptr_t *)((char *)a + ih.offset), pc = *(uintptr_t *)((char *)c + ip.offset);
	T_CHECK(pc == (uintptr_t)d);
	T_CHECK(ha != (uintptr_t)b && ha != 0);
	/* the encoding is ptr ^ key ^ swab(address of the word) */
	uintptr_t key = ha ^ (uintptr_t)b ^ __builtin_bswap64((uint64_t)((char *)a + ih.offset));
	T_CHECK(key != 0);
	/* and it decodes: the next two allocations are a then b */
	T_CHECK(hp_kmem_cache_alloc(h) == a && hp_kmem_cache_alloc(h) == b);
	hp_kmem_cache_free(h, a);
	hp_kmem_cache_free(h, b);
	T_CHECK(hp_kmem_cache_destroy(h) == 0 && hp_kmem_cache_destroy(plain) == 0);
}

static int first_allowed_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			return i;
	return -1;
}

static void test_pinned(void)
{
	char err[256];
	int cpu = first_allowed_cpu();
	cpu_set_t one, orig;

	T_CHECK(cpu >= 0);
	sched_getaffinity(0, sizeof orig, &orig);
	T_CHECK(hp_slub_set_cpu(cpu) == -1 || CPU_COUNT(&orig) == 1);  /* not bound yet */
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	T_CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
	T_CHECK(hp_slub_set_cpu(cpu) == 0 && hp_slub_get_cpu() == cpu);
	T_CHECK(hp_slub_set_cpu(hp_slub_nr_cpus()) == -1);

	hp_kmem_cache_t *s = hp_kmem_cache_create("pinned", 64, 0, HP_SLAB_PCPU_PINNED, NULL, err, sizeof err);
	T_CHECK(s != NULL);
	void *p[200];
	for (int i = 0; i < 200; i++) {
		p[i] = hp_kmem_cache_alloc_pinned(s);
		memset(p[i], 0x5c, 64);
	}
	for (int i = 0; i < 200; i++)
		hp_kmem_cache_free_pinned(s, p[i]);
	/* LIFO on the cpu freelist */
	void *x = hp_kmem_cache_alloc_pinned(s);
	T_CHECK(x == p[199]);
	hp_kmem_cache_free_pinned(s, x);
	test_bulk(s);
	void *k = hp_kmalloc_pinned(64);
	T_CHECK(k && hp_ksize(k) == 64);
	hp_kfree(k);
	/* a thread that did not declare a CPU takes the locked path */
	T_CHECK(hp_slub_set_cpu(-1) == 0 && hp_slub_get_cpu() == -1);
	void *y = hp_kmem_cache_alloc(s);
	T_CHECK(y != NULL);
	hp_kmem_cache_free(s, y);
	k = hp_kmalloc_pinned(100);
	hp_kfree(k);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
	sched_setaffinity(0, sizeof orig, &orig);
}

static void test_slabinfo(void)
{
	char buf[16384];
	int n = hp_slub_slabinfo(buf, sizeof buf);

	T_CHECK(n > 0 && (size_t)n < sizeof buf);
	static const char head[] = "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> <objsize> "
				   "<objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : "
				   "slabdata <active_slabs> <num_slabs> <sharedavail>\n";
	T_CHECK(strncmp(buf, head, sizeof head - 1) == 0);
	/* a line as the kernel prints it: %-17s %6lu %6lu %6u %4u %4d */
	void *o = hp_kmalloc(96);
	n = hp_slub_slabinfo(buf, sizeof buf);
	char *line = strstr(buf, "\nkmalloc-96 ");
	T_CHECK(line != NULL);
	if (line) {
		char name[32];
		unsigned long act, num, objsize, perslab, pages, a1, a2, a3, s1, s2, s3;
		int k = sscanf(line + 1, "%31s %lu %lu %lu %lu %lu : tunables %lu %lu %lu : slabdata %lu %lu %lu",
			       name, &act, &num, &objsize, &perslab, &pages, &a1, &a2, &a3, &s1, &s2, &s3);
		T_CHECK(k == 12 && objsize == 96 && perslab == 42 && pages == 1 && act >= 1 && num >= act &&
			s1 == s2 && s1 >= 1 && a1 == 0);
		T_CHECK(line[1 + 17] == ' ' && line[1 + 10] == ' ');   /* name padded to 17 */
	}
	hp_kfree(o);
	T_CHECK(strstr(buf, "\nkmem_cache ") != NULL);
	/* snprintf semantics */
	char small[10];
	int need = hp_slub_slabinfo(small, sizeof small);
	T_CHECK(need > 10 && strlen(small) == 9);
}

static void ctor_fill(void *p)
{
	memset(p, 0x3c, 24);
}

static void test_ctor(void)
{
	char err[256];
	hp_kmem_cache_t *s = hp_kmem_cache_create("ctor", 24, 0, 0, ctor_fill, err, sizeof err);
	hp_kmem_cache_info_t in;

	T_CHECK(s != NULL);
	hp_kmem_cache_get_info(s, &in);
	T_CHECK(in.offset >= 24);          /* the free pointer lives past the object */
	unsigned char *p = hp_kmem_cache_alloc(s);
	int ok = 1;
	for (int i = 0; i < 24; i++)
		ok &= p[i] == 0x3c;
	T_CHECK(ok);
	hp_kmem_cache_free(s, p);
	p = hp_kmem_cache_alloc(s);       /* constructed state survives a free */
	ok = 1;
	for (int i = 0; i < 24; i++)
		ok &= p[i] == 0x3c;
	T_CHECK(ok);
	hp_kmem_cache_free(s, p);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
}

int main(void)
{
	hp_slub_config_t cfg = { .arena_bytes = 256u << 20, .slub_min_objects = 12, .seed = 1, .slab_debug = "-" };
	char err[256];

	T_CHECK(hp_slub_init(&cfg, err, sizeof err) == 0);
	T_CHECK(hp_slub_init(&cfg, err, sizeof err) == -1 && strstr(err, "already"));
	hp_slub_set_report(hook, NULL);
	test_orders();
	test_kmalloc();
	test_bad_input();
	test_slab_recycling();
	{
		hp_kmem_cache_t *s = hp_kmem_cache_create("bulk", 64, 0, 0, NULL, err, sizeof err);
		test_bulk(s);
		T_CHECK(hp_kmem_cache_destroy(s) == 0);
	}
	test_hardened();
	test_pinned();
	test_ctor();
	test_slabinfo();
	T_CHECK(hp_slub_errors() == (uint64_t)n_reports);
	return t_done("test_slub");
}
