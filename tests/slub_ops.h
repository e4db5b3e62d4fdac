/* slub_ops.h — an operation-stream executor over impl/slub, shared by the libFuzzer harness (fuzz_slub.c) and its deterministic replay (test_slub_replay.c).
 *
 * A stream is bytes read three at a time: an opcode and two argument
 * bytes. The executor keeps up to SO_SLOTS live objects, each filled with
 * a cookie derived from its address, and checks after every step that
 * cookies are intact, that no two live objects overlap, that ksize covers
 * the request, and that the allocator reports exactly the errors the
 * stream provoked on purpose (one-byte overflows on the debug cache). At
 * the end everything is freed and every cache must be empty again.
 */
#ifndef HP_SLUB_OPS_H
#define HP_SLUB_OPS_H

#include "slub.h"

#include <stdint.h>
#include <string.h>

#define SO_SLOTS 64
#define SO_CACHES 4

/* The generation the stream runs on: cpu-slab (6.6, default) or, with
 * -DSO_GEN_SHEAVES (test_slub_replay_sheaves), sheaves (7.0): every cache
 * is created with HP_SLAB_SHEAVES (the debug one then has no sheaves, as
 * in the kernel), kmalloc is the sheaves set, and every 8th step checks
 * the sheaves invariants and the conservation of each non-debug cache. */
#ifdef SO_GEN_SHEAVES
#define SO_GEN_FLAGS HP_SLAB_SHEAVES
#define SO_KMALLOC(sz) hp_kmalloc_set(HP_KMALLOC_SET_SHEAVES, (sz))
#else
#define SO_GEN_FLAGS 0u
#define SO_KMALLOC(sz) hp_kmalloc(sz)
#endif

typedef struct so_obj {
	unsigned char *p;
	size_t size;          /* requested */
	int cache;            /* -1: kmalloc, else so_caches index */
} so_obj_t;

typedef struct so_state {
	hp_kmem_cache_t *caches[SO_CACHES];
	size_t cache_size[SO_CACHES];
	so_obj_t obj[SO_SLOTS];
	uint64_t expected_errors;     /* provoked on purpose, cumulative */
	uint64_t reports;             /* seen by the hook, cumulative */
	const char *failure;          /* first broken invariant, or NULL */
} so_state_t;

static so_state_t so;

static void so_hook(void *arg, const hp_slub_report_t *r)
{
	(void)arg;
	(void)r;
	so.reports++;
}

/* Caches: a plain one, a hardened one with an odd size, a debug one
 * (FZPU) and one without per-CPU partial slabs. */
static int so_setup(void)
{
	static const struct { const char *name; size_t size; unsigned flags; } c[SO_CACHES] = {
		{ "so-plain", 72, 0 },
		{ "so-hard", 200, HP_SLAB_FREELIST_HARDENED },
		{ "so-debug", 40, HP_SLAB_DEBUG_ALL },
		{ "so-nopart", 1500, HP_SLAB_NO_CPU_PARTIAL },
	};
	char err[200];

	if (so.caches[0])
		return 0;
	if (hp_slub_ensure_init() != 0)
		return -1;
	hp_slub_set_report(so_hook, NULL);
	for (int i = 0; i < SO_CACHES; i++) {
		so.caches[i] = hp_kmem_cache_create(c[i].name, c[i].size, 0, c[i].flags | SO_GEN_FLAGS, NULL, err, sizeof err);
		so.cache_size[i] = c[i].size;
		if (!so.caches[i])
			return -1;
	}
	return 0;
}

static unsigned char so_cookie(const void *p, size_t i)
{
	uintptr_t a = (uintptr_t)p;

	return (unsigned char)((a >> 3) ^ (a >> 11) ^ (i * 7) ^ 0x5c);
}

static void so_fill(so_obj_t *o)
{
	for (size_t i = 0; i < o->size; i++)
		o->p[i] = so_cookie(o->p, i);
}

static int so_intact(const so_obj_t *o)
{
	for (size_t i = 0; i < o->size; i++)
		if (o->p[i] != so_cookie(o->p, i))
			return 0;
	return 1;
}

static void so_fail(const char *why)
{
	if (!so.failure)
		so.failure = why;
}

/* a new object must not overlap a live one */
static void so_place(int slot, void *p, size_t size, int cache)
{
	so_obj_t *o = &so.obj[slot];

	if (!p) {
		so_fail("allocation failed");
		return;
	}
	if (size && hp_ksize(p) < size)
		so_fail("ksize smaller than the request");
	for (int i = 0; i < SO_SLOTS; i++) {
		so_obj_t *q = &so.obj[i];

		if (q->p && q->size && size && (unsigned char *)p < q->p + q->size && q->p < (unsigned char *)p + size)
			so_fail("two live objects overlap");
	}
	o->p = p;
	o->size = size;
	o->cache = cache;
	so_fill(o);
}

static void so_release(int slot)
{
	so_obj_t *o = &so.obj[slot];

	if (!o->p)
		return;
	if (!so_intact(o))
		so_fail("cookie overwritten while live");
	if (o->cache < 0)
		hp_kfree(o->p);
	else
		hp_kmem_cache_free(so.caches[o->cache], o->p);
	o->p = NULL;
}

static size_t so_kmalloc_size(unsigned a, unsigned b)
{
	switch (a >> 6) {
	case 0: return 1 + (b & 63);                 /* tiny */
	case 1: return 1 + ((a & 63) << 2 | b) % 1024;
	case 2: return 1 + ((size_t)(a & 63) << 8 | b) % 8192;
	default: return 8193 + ((size_t)(a & 63) << 8 | b) * 3;   /* large: buddy */
	}
}

/* One step; returns bytes consumed (3). */
static void so_step(unsigned op, unsigned a, unsigned b)
{
	int slot = (int)(a % SO_SLOTS);
	int c = (int)(b % SO_CACHES);

	switch (op % 10) {
	case 0: /* kmalloc */
		so_release(slot);
		so_place(slot, SO_KMALLOC(so_kmalloc_size(a, b)), so_kmalloc_size(a, b), -1);
		break;
	case 1: /* kmem_cache_alloc */
		so_release(slot);
		so_place(slot, hp_kmem_cache_alloc(so.caches[c]), so.cache_size[c], c);
		break;
	case 2: /* free */
	case 3:
		so_release(slot);
		break;
	case 4: { /* bulk alloc into consecutive slots, then maybe bulk free some */
		void *v[16];
		size_t n = 1 + (b >> 4) % 16;

		for (size_t i = 0; i < n; i++)
			so_release((int)((slot + i) % SO_SLOTS));
		if (hp_kmem_cache_alloc_bulk(so.caches[c], n, v) != n) {
			so_fail("bulk allocation failed");
			break;
		}
		for (size_t i = 0; i < n; i++)
			so_place((int)((slot + i) % SO_SLOTS), v[i], so.cache_size[c], c);
		break;
	}
	case 5: { /* bulk free of the live objects among 16 slots (kfree_bulk when mixed) */
		void *v[16];
		size_t n = 0;
		int only = -2;

		for (int i = 0; i < 16; i++) {
			so_obj_t *o = &so.obj[(slot + i) % SO_SLOTS];

			if (!o->p)
				continue;
			if (!so_intact(o))
				so_fail("cookie overwritten while live");
			only = only == -2 || only == o->cache ? o->cache : -3;
			v[n++] = o->p;
			o->p = NULL;
		}
		hp_kmem_cache_free_bulk(only >= 0 && (b & 1) ? so.caches[only] : NULL, n, v);
		break;
	}
	case 6: { /* krealloc keeps the contents */
		so_obj_t *o = &so.obj[slot];
		size_t nsz = so_kmalloc_size(b, a), keep;
		unsigned char *np;

		if (!o->p || o->cache >= 0)
			break;
		if (!so_intact(o))
			so_fail("cookie overwritten while live");
		keep = o->size < nsz ? o->size : nsz;
		np = hp_krealloc(o->p, nsz);
		if (!np) {
			so_fail("krealloc failed");
			break;
		}
		for (size_t i = 0; i < keep; i++)
			if (np[i] != so_cookie(o->p, i))
				so_fail("krealloc lost the contents");
		o->p = NULL;
		so_place(slot, np, nsz, -1);
		break;
	}
	case 7: /* overflow one byte of a debug object, then free it: exactly one report */
		if (so.obj[slot].p && so.obj[slot].cache == 2) {
			so_obj_t *o = &so.obj[slot];

			o->p[o->size] ^= 0x5a;
			so.expected_errors++;
			hp_kmem_cache_free(so.caches[2], o->p);
			o->p = NULL;
		}
		break;
	case 8: /* shrink */
		hp_kmem_cache_shrink(so.caches[c]);
		break;
	case 9: /* zalloc */
		so_release(slot);
		{
			unsigned char *p = hp_kmem_cache_zalloc(so.caches[c]);

			for (size_t i = 0; p && i < so.cache_size[c]; i++)
				if (p[i])
					so_fail("kmem_cache_zalloc gave a non-zero byte");
			so_place(slot, p, so.cache_size[c], c);
		}
		break;
	}
	if (so.reports != so.expected_errors)
		so_fail("the allocator reported an error the stream did not cause (or missed one)");
#ifdef SO_GEN_SHEAVES
	{
		static unsigned steps;

		if (++steps % 8 == 0)
			for (int i = 0; i < SO_CACHES; i++) {
				long live = 0;

				if (!hp_kmem_cache_sheaf_capacity(so.caches[i]))
					continue;   /* the debug cache: no sheaves */
				for (int k = 0; k < SO_SLOTS; k++)
					live += so.obj[k].p && so.obj[k].cache == i;
				if (hp_kmem_cache_sheaves_check(so.caches[i], live, NULL, NULL, 0) != 0)
					so_fail("a sheaves invariant or object conservation broke");
			}
	}
#endif
}

/* Runs a stream from the empty state back to the empty state. NULL on
 * success, else the first broken invariant. */
static const char *so_run(const uint8_t *data, size_t len)
{
	so.failure = NULL;
	if (so_setup() != 0)
		return "set-up failed";
	for (size_t i = 0; i + 3 <= len && !so.failure; i += 3)
		so_step(data[i], data[i + 1], data[i + 2]);
	for (int i = 0; i < SO_SLOTS; i++)
		so_release(i);
	for (int i = 0; i < SO_CACHES && !so.failure; i++) {
		hp_kmem_cache_info_t in;

		hp_kmem_cache_shrink(so.caches[i]);
		hp_kmem_cache_get_info(so.caches[i], &in);
		if (in.active_objs || in.nr_slabs)
			so_fail("a cache still holds objects after everything was freed");
		if (hp_kmem_cache_validate(so.caches[i]) != 0)
			so_fail("validate found damage");
	}
	if (so.reports != so.expected_errors)
		so_fail("error count differs from the errors provoked");
	return so.failure;
}

#endif
