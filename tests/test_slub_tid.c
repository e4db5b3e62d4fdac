/* test_slub_tid.c — the ABA case SLUB's transaction id exists for, built
 * deterministically: an allocation stopped between reading the cpu
 * freelist and its cmpxchg (hp_slub_alloc_begin_ / hp_slub_alloc_commit_,
 * the two halves of the inline cmpxchg fast path), while the same CPU
 * allocates and frees in between so that the freelist head is the same
 * object again but its next pointer changed. The stale commit must fail.
 * Built a second time against impl/slub compiled with
 * -DHP_SLUB_MUTATE_NO_TID (tid never advanced) as slub_tid_mutant, which
 * meson expects to FAIL: that proves this test catches a tid that does not
 * move. Also: the out-of-line kmalloc sets and kmem_cache_*_ool of every
 * stand-in and config, and the distro config's encoded free pointers. */
#include "t_util.h"
#include "slub.h"

#include <sched.h>
#include <stdint.h>

static void pin_here(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	(void)sched_setaffinity(0, sizeof set, &set);   /* best effort: the steps below take microseconds */
}

static void test_aba(void)
{
	char err[256];
	hp_kmem_cache_t *s = hp_kmem_cache_create("tid-aba", 64, 0, 0, NULL, err, sizeof err);
	hp_slub_txn_t t = { 0 };
	void *a, *b, *c, *d;
	int ok;

	T_CHECK_MSG(s != NULL, "%s", err);
	if (!s)
		return;
	/* a cpu slab with at least three free objects on the cpu freelist */
	a = hp_kmem_cache_alloc_cmpxchg(s);
	hp_kmem_cache_free_cmpxchg(s, a);

	/* the interrupted allocation: it has read tid, the head X and X's next Y */
	T_CHECK(hp_slub_alloc_begin_(s, &t));
	/* the same CPU meanwhile: allocate X and Y, free X: the head is X again,
	 * and X's next is now Z (Y's old next), while Y is in use */
	a = hp_kmem_cache_alloc_cmpxchg(s);
	b = hp_kmem_cache_alloc_cmpxchg(s);
	T_CHECK(a == t.obj);
	T_CHECK(b == t.next);
	hp_kmem_cache_free_cmpxchg(s, a);
	T_CHECK(__atomic_load_n(&t.c->freelist, __ATOMIC_RELAXED) == t.obj);   /* ABA: same head */
	/* the interrupted allocation resumes: (freelist, tid) must not match */
	ok = hp_slub_alloc_commit_(&t);
	T_CHECK_MSG(!ok, "the stale cmpxchg succeeded: the tid did not change across alloc/alloc/free");
	/* whatever happened, no object may be handed out twice */
	c = hp_kmem_cache_alloc_cmpxchg(s);
	d = hp_kmem_cache_alloc_cmpxchg(s);
	T_CHECK_MSG(c != b && d != b, "object %p allocated twice", b);
	T_CHECK(c != d);
	if (ok)
		return;   /* the freelist is corrupt (b handed out twice): leave the cache alone */
	/* live now: b, and c (== a, allocated again) and d */
	T_CHECK(c == a);
	hp_kmem_cache_free_cmpxchg(s, b);
	hp_kmem_cache_free_cmpxchg(s, c);
	hp_kmem_cache_free_cmpxchg(s, d);
	T_CHECK(hp_kmem_cache_destroy(s) == 0);
}

/* every kmalloc set and every cache flavour: allocate a few hundred objects,
 * fill them, free them through every entry point, check nothing overlaps */
static void fill_check(void **p, int n, size_t sz)
{
	for (int i = 0; i < n; i++)
		memset(p[i], i & 0xff, sz);
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < sz; k++)
			if (((unsigned char *)p[i])[k] != (unsigned char)(i & 0xff)) {
				T_CHECK_MSG(0, "object %d overwritten (overlapping objects)", i);
				return;
			}
}

static void test_sets(void)
{
	enum { N = 300 };
	static void *p[N];
	const size_t sizes[] = { 8, 64, 100, 192, 200, 1024, 4096, 8192 };

	for (unsigned set = 0; set < HP_KMALLOC_NR_SETS; set++)
		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			for (int i = 0; i < N; i++) {
				p[i] = hp_kmalloc_set(set, sizes[k]);
				T_CHECK(p[i] != NULL);
				if (!p[i])
					return;
			}
			fill_check(p, N, sizes[k]);
			for (int i = 0; i < N; i++)
				hp_kfree(p[i]);
			T_CHECK(hp_kmalloc_cache(sizes[k], (int)set) != NULL);
		}
	T_CHECK(hp_kmalloc_set(HP_KMALLOC_NR_SETS, 64) == NULL);
}

static void test_ool(void)
{
	const unsigned flav[] = { 0, HP_SLAB_PCPU_PINNED, HP_SLAB_PCPU_RSEQ, HP_SLAB_KCONFIG_DISTRO,
				  HP_SLAB_KCONFIG_DISTRO | HP_SLAB_PCPU_PINNED, HP_SLAB_KCONFIG_DISTRO | HP_SLAB_PCPU_RSEQ };
	enum { N = 500 };
	static void *p[N];
	char err[256];

	for (unsigned f = 0; f < sizeof flav / sizeof flav[0]; f++) {
		hp_kmem_cache_t *s = hp_kmem_cache_create("ool", 48, 0, flav[f], NULL, err, sizeof err);
		hp_kmem_cache_info_t in;

		T_CHECK_MSG(s != NULL, "%s", err);
		if (!s)
			continue;
		hp_kmem_cache_get_info(s, &in);
		if (flav[f] & HP_SLAB_KCONFIG_DISTRO)
			T_CHECK(in.flags & HP_SLAB_FREELIST_HARDENED);
		for (int i = 0; i < N; i++) {
			p[i] = (i & 1) ? hp_kmem_cache_alloc_ool(s) : hp_kmem_cache_alloc(s);
			T_CHECK(p[i] != NULL);
		}
		fill_check(p, N, 48);
		/* free half, then look at a free object's free pointer: encoded under distro */
		for (int i = 0; i < N; i += 2)
			hp_kmem_cache_free_ool(s, p[i]);
		if (flav[f] & HP_SLAB_KCONFIG_DISTRO) {
			void *x = hp_kmem_cache_alloc_ool(s), *y = hp_kmem_cache_alloc_ool(s);
			uintptr_t raw;

			/* y was x's successor; x freed again holds an encoded pointer to the head */
			hp_kmem_cache_free_ool(s, y);
			hp_kmem_cache_free_ool(s, x);
			memcpy(&raw, (char *)x + in.offset, sizeof raw);
			T_CHECK_MSG(raw != (uintptr_t)y, "distro free pointer stored in the clear");
		}
		for (int i = 1; i < N; i += 2)
			hp_kmem_cache_free(s, p[i]);
		T_CHECK(hp_kmem_cache_destroy(s) == 0);
	}
}

int main(void)
{
	pin_here();
	if (hp_slub_ensure_init() != 0) {
		fprintf(stderr, "slab allocator set-up failed\n");
		return 1;
	}
	test_aba();
	test_sets();
	test_ool();
	return t_done("test_slub_tid");
}
