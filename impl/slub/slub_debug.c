/* slub_debug.c — slab_debug F/Z/P/U (Linux 6.6 mm/slub.c's CONFIG_SLUB_DEBUG part), reports and a malloc-free formatter. */
#include "slub_int.h"
#include "hp_time.h"

#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ================================================================== */
/* Formatter (no stdio: it may call malloc)                            */
/* ================================================================== */

static void fmt_ch(hp_fmt_t *f, char c)
{
	if (f->buf && f->pos + 1 < f->len)
		f->buf[f->pos] = c;
	f->pos++;
}

void fmt_str(hp_fmt_t *f, const char *s)
{
	while (*s)
		fmt_ch(f, *s++);
}

void fmt_pad(hp_fmt_t *f, const char *s, int width, int left)
{
	int n = (int)strlen(s);

	if (!left)
		for (int i = n; i < width; i++)
			fmt_ch(f, ' ');
	fmt_str(f, s);
	if (left)
		for (int i = n; i < width; i++)
			fmt_ch(f, ' ');
}

void fmt_u(hp_fmt_t *f, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (int i = n; i < width; i++)
		fmt_ch(f, ' ');
	while (n)
		fmt_ch(f, tmp[--n]);
}

void fmt_i(hp_fmt_t *f, int64_t v)
{
	if (v < 0) {
		fmt_ch(f, '-');
		fmt_u(f, (uint64_t)0 - (uint64_t)v, 0);
	} else {
		fmt_u(f, (uint64_t)v, 0);
	}
}

void fmt_hex(hp_fmt_t *f, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	fmt_str(f, "0x");
	while (n)
		fmt_ch(f, tmp[--n]);
}

void fmt_end(hp_fmt_t *f)
{
	if (f->buf && f->len)
		f->buf[f->pos < f->len ? f->pos : f->len - 1] = '\0';
}

/* ================================================================== */
/* Reports                                                             */
/* ================================================================== */

static uint64_t g_errors;
static hp_slub_report_fn g_report_fn;
static void *g_report_arg;

hp_slub_report_fn hp_slub_set_report(hp_slub_report_fn fn, void *arg)
{
	hp_slub_report_fn old = __atomic_exchange_n(&g_report_fn, fn, __ATOMIC_ACQ_REL);

	__atomic_store_n(&g_report_arg, arg, __ATOMIC_RELEASE);
	return old;
}

uint64_t hp_slub_errors(void)
{
	return LOAD(&g_errors);
}

/* The two struct track after the free pointer area */
static hp_slub_track_t *get_track(const hp_kmem_cache_t *s, const void *obj, int freed)
{
	return (hp_slub_track_t *)(void *)((char *)obj + info_end(s)) + freed;
}

static void set_track(const hp_kmem_cache_t *s, const void *obj, int freed, unsigned long addr)
{
	hp_slub_track_t *t = get_track(s, obj, freed);
	int cpu = sched_getcpu();

	t->addr = addr;
	t->cpu = cpu;
	t->tid = (int)syscall(SYS_gettid);
	t->when_ns = hp_now_ns();
}

static void fmt_track(hp_fmt_t *f, const char *what, const hp_slub_track_t *t)
{
	if (!t->addr)
		return;
	fmt_str(f, "INFO: ");
	fmt_str(f, what);
	fmt_str(f, " in ");
	fmt_hex(f, t->addr);
	fmt_str(f, " age=");
	fmt_u(f, (hp_now_ns() - t->when_ns) / 1000000, 0);
	fmt_str(f, "ms cpu=");
	fmt_i(f, t->cpu);
	fmt_str(f, " pid=");
	fmt_i(f, t->tid);
	fmt_str(f, "\n");
}

static int object_in_slab(const hp_kmem_cache_t *s, const hp_slab_t *slab, const void *obj)
{
	uintptr_t a = (uintptr_t)obj;

	return slab && a >= slab->addr && a < slab->addr + OO_BYTES(slab->order) &&
	       a + info_end(s) + 2 * sizeof(hp_slub_track_t) <= slab->addr + OO_BYTES(slab->order);
}

/* slab_bug() + print_trailer() + slab_fix(), then the hook */
void slub_report(const hp_slub_err_info_t *e)
{
	char text[4096];
	hp_fmt_t f = { text, sizeof text, 0 };
	const char *name = e->s ? e->s->name : e->cache_name ? e->cache_name : "kmalloc";
	const hp_slub_track_t *ta = NULL, *tf = NULL;
	uint64_t before = __atomic_fetch_add(&g_errors, 1, __ATOMIC_RELAXED);
	hp_slub_report_fn fn = __atomic_load_n(&g_report_fn, __ATOMIC_ACQUIRE);

	if (e->s)
		ADD(&((hp_kmem_cache_t *)e->s)->errors, 1);
	fmt_str(&f, "=============================================================================\nBUG ");
	fmt_str(&f, name);
	fmt_str(&f, before ? " (Tainted: B): " : " (Not tainted): ");
	fmt_str(&f, e->what);
	fmt_str(&f, "\n-----------------------------------------------------------------------------\n\n");
	if (e->bad_bytes && e->object) {
		uintptr_t fault = (uintptr_t)e->object + (uintptr_t)e->offset;

		fmt_hex(&f, fault);
		fmt_str(&f, "-");
		fmt_hex(&f, fault + e->bad_bytes - 1);
		fmt_str(&f, " @offset=");
		fmt_u(&f, e->slab ? fault - e->slab->addr : (uint64_t)e->offset, 0);
		fmt_str(&f, ". First byte ");
		fmt_hex(&f, (unsigned)e->found);
		fmt_str(&f, " instead of ");
		fmt_hex(&f, (unsigned)e->expected);
		fmt_str(&f, "\n");
	}
	if (e->slab) {
		uint64_t c = LOAD(&e->slab->counters);

		fmt_str(&f, "Slab ");
		fmt_hex(&f, e->slab->addr);
		fmt_str(&f, " objects=");
		fmt_u(&f, CNT_OBJECTS(c), 0);
		fmt_str(&f, " used=");
		fmt_u(&f, CNT_INUSE(c), 0);
		fmt_str(&f, " fp=");
		fmt_hex(&f, (uintptr_t)LOAD(&e->slab->freelist));
		fmt_str(&f, CNT_FROZEN(c) ? " flags=frozen\n" : " flags=\n");
	}
	if (e->object) {
		fmt_str(&f, "Object ");
		fmt_hex(&f, (uintptr_t)e->object);
		if (e->slab && (uintptr_t)e->object >= e->slab->addr) {
			fmt_str(&f, " @offset=");
			fmt_u(&f, (uintptr_t)e->object - e->slab->addr, 0);
		}
		fmt_str(&f, "\n");
		if (e->s && (e->s->hot.flags & HP_SLAB_STORE_USER) && object_in_slab(e->s, e->slab, e->object) &&
		    debug_check_valid_pointer(e->s, e->slab, e->object)) {
			ta = get_track(e->s, e->object, 0);
			tf = get_track(e->s, e->object, 1);
			fmt_track(&f, "Allocated", ta);
			fmt_track(&f, "Freed", tf);
		}
	}
	if (e->extra)
		fmt_str(&f, e->extra);
	if (e->fix) {
		fmt_str(&f, "FIX ");
		fmt_str(&f, name);
		fmt_str(&f, ": ");
		fmt_str(&f, e->fix);
		fmt_str(&f, "\n");
	}
	fmt_str(&f, "\n");
	fmt_end(&f);

	if (fn) {
		hp_slub_report_t r = {
			.kind = e->kind, .cache = name, .what = e->what, .object = e->object,
			.slab = e->slab ? (const void *)e->slab->addr : NULL, .offset = e->offset,
			.bad_bytes = e->bad_bytes, .expected = e->expected, .found = e->found,
			.count = e->count, .alloc_track = ta, .free_track = tf, .fix = e->fix, .text = text,
		};
		fn(__atomic_load_n(&g_report_arg, __ATOMIC_ACQUIRE), &r);
	} else {
		size_t off = 0, n = strlen(text);

		while (off < n) {
			ssize_t w = write(2, text + off, n - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
}

static void slab_err(const hp_kmem_cache_t *s, const hp_slab_t *slab, hp_slub_err_t kind, const char *what,
		     const void *obj, const char *fix)
{
	hp_slub_err_info_t e = {
		.kind = kind, .s = s, .what = what, .slab = slab, .object = obj,
		.offset = -1, .expected = -1, .found = -1, .fix = fix,
	};

	slub_report(&e);
}

/* ================================================================== */
/* Object layout helpers                                               */
/* ================================================================== */

int debug_check_valid_pointer(const hp_kmem_cache_t *s, const hp_slab_t *slab, const void *obj)
{
	uintptr_t p, base = slab->addr;
	unsigned objects = CNT_OBJECTS(LOAD(&slab->counters));

	if (!obj)
		return 1;
	p = (uintptr_t)obj - s->red_left_pad;
	if ((uintptr_t)obj < s->red_left_pad || p < base || p >= base + (uintptr_t)objects * s->size ||
	    (p - base) % s->size)
		return 0;
	return 1;
}

static unsigned *orig_size_ptr(const hp_kmem_cache_t *s, const void *obj)
{
	return (unsigned *)(void *)((char *)obj + info_end(s) + 2 * sizeof(hp_slub_track_t));
}

void debug_set_orig_size(hp_kmem_cache_t *s, void *obj, size_t orig)
{
	if (debug_orig_size(s))
		*orig_size_ptr(s, obj) = (unsigned)orig;
}

size_t debug_get_orig_size(const hp_kmem_cache_t *s, const void *obj)
{
	if (!debug_orig_size(s))
		return s->object_size;
	return *orig_size_ptr(s, obj);
}

/* init_object(): red zones to val, the object poisoned (up to the kmalloc
 * request size while active) */
void debug_init_object(hp_kmem_cache_t *s, void *obj, int val)
{
	unsigned char *p = obj;
	unsigned poison_size = s->object_size;

	if (s->hot.flags & HP_SLAB_RED_ZONE) {
		memset(p - s->red_left_pad, val, s->red_left_pad);
		if (debug_orig_size(s) && val == HP_SLUB_RED_ACTIVE) {
			poison_size = (unsigned)debug_get_orig_size(s, obj);
			if (poison_size > s->object_size)
				poison_size = s->object_size;
		}
	}
	if (object_poison(s) && poison_size) {
		memset(p, HP_POISON_FREE, poison_size - 1);
		p[poison_size - 1] = HP_POISON_END;
	}
	if (s->hot.flags & HP_SLAB_RED_ZONE)
		memset(p + poison_size, val, s->inuse - poison_size);
}

/* setup_slab_debug() + setup_object_debug() for every object */
void debug_setup_slab(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	unsigned objects = CNT_OBJECTS(slab->counters);

	if (s->hot.flags & HP_SLAB_POISON)
		memset((void *)slab->addr, HP_POISON_INUSE, OO_BYTES(slab->order));
	for (unsigned i = 0; i < objects; i++) {
		char *p = slab_object(s, slab, i);

		if (s->hot.flags & (HP_SLAB_RED_ZONE | HP_SLAB_POISON))
			debug_init_object(s, p, HP_SLUB_RED_INACTIVE);
		if (s->hot.flags & HP_SLAB_STORE_USER)
			memset(get_track(s, p, 0), 0, 2 * sizeof(hp_slub_track_t));
	}
}

/* ================================================================== */
/* Checks                                                              */
/* ================================================================== */

static hp_slub_err_t kind_of(const char *what)
{
	if (strstr(what, "Redzone"))
		return HP_SLUB_ERR_REDZONE;
	if (strstr(what, "Poison"))
		return HP_SLUB_ERR_POISON;
	return HP_SLUB_ERR_PADDING;
}

/* check_bytes_and_report(): the first and last byte that differ from
 * value, reported once, then restored. 1 when all were right. */
static int check_bytes(hp_kmem_cache_t *s, const hp_slab_t *slab, void *obj, const char *what,
		       unsigned char *start, int value, size_t bytes)
{
	unsigned char *fault = NULL, *end;
	char whatbuf[64], fix[160];
	hp_fmt_t fw = { whatbuf, sizeof whatbuf, 0 }, ff = { fix, sizeof fix, 0 };

	for (size_t i = 0; i < bytes; i++) {
		if (start[i] != (unsigned char)value) {
			fault = start + i;
			break;
		}
	}
	if (!fault)
		return 1;
	end = start + bytes;
	while (end > fault && end[-1] == (unsigned char)value)
		end--;
	fmt_str(&fw, what);
	fmt_str(&fw, " overwritten");
	fmt_end(&fw);
	fmt_str(&ff, "Restoring ");
	fmt_str(&ff, what);
	fmt_str(&ff, " ");
	fmt_hex(&ff, (uintptr_t)fault);
	fmt_str(&ff, "-");
	fmt_hex(&ff, (uintptr_t)end - 1);
	fmt_str(&ff, "=");
	fmt_hex(&ff, (unsigned)value);
	fmt_end(&ff);
	{
		hp_slub_err_info_t e = {
			.kind = kind_of(what), .s = s, .what = whatbuf, .slab = slab, .object = obj,
			.offset = (long)((uintptr_t)fault - (uintptr_t)obj), .bad_bytes = (size_t)(end - fault),
			.expected = value, .found = fault[0], .fix = fix,
		};
		slub_report(&e);
	}
	memset(fault, value, (size_t)(end - fault));
	return 0;
}

/* check_pad_bytes(): after the metadata up to the next object */
static int check_pad_bytes(hp_kmem_cache_t *s, const hp_slab_t *slab, unsigned char *p)
{
	unsigned off = info_end(s), size_from_object;

	if (s->hot.flags & HP_SLAB_STORE_USER) {
		off += 2 * (unsigned)sizeof(hp_slub_track_t);
		if (s->hot.flags & HP_SLAB_KMALLOC)
			off += sizeof(unsigned);
	}
	size_from_object = s->size - ((s->hot.flags & HP_SLAB_RED_ZONE) ? s->red_left_pad : 0);
	if (size_from_object <= off)
		return 1;
	return check_bytes(s, slab, p, "Object padding", p + off, HP_POISON_INUSE, size_from_object - off);
}

/* check_object(): red zones, kmalloc red zone, poison, padding, and the
 * free pointer. Byte faults are reported and repaired here; a bad free
 * pointer is reported and flagged in *fp_bad for the caller to repair. */
static int check_object(hp_kmem_cache_t *s, const hp_slab_t *slab, void *obj, int val, int *fp_bad)
{
	unsigned char *p = obj, *endobject = p + s->object_size;
	int ok = 1;

	*fp_bad = 0;
	if (s->hot.flags & HP_SLAB_RED_ZONE) {
		if (!check_bytes(s, slab, obj, "Left Redzone", p - s->red_left_pad, val, s->red_left_pad))
			ok = 0;
		if (!check_bytes(s, slab, obj, "Right Redzone", endobject, val, s->inuse - s->object_size))
			ok = 0;
		if (debug_orig_size(s) && val == HP_SLUB_RED_ACTIVE) {
			size_t orig = debug_get_orig_size(s, obj);

			if (s->object_size > orig &&
			    !check_bytes(s, slab, obj, "kmalloc Redzone", p + orig, val, s->object_size - orig))
				ok = 0;
		}
	} else if ((s->hot.flags & HP_SLAB_POISON) && s->object_size < s->inuse) {
		if (!check_bytes(s, slab, obj, "Alignment padding", endobject, HP_POISON_INUSE,
				 s->inuse - s->object_size))
			ok = 0;
	}
	if (s->hot.flags & HP_SLAB_POISON) {
		if (val != HP_SLUB_RED_ACTIVE && object_poison(s) &&
		    (!check_bytes(s, slab, obj, "Poison", p, HP_POISON_FREE, s->object_size - 1) ||
		     !check_bytes(s, slab, obj, "End Poison", p + s->object_size - 1, HP_POISON_END, 1)))
			ok = 0;
		if (!check_pad_bytes(s, slab, p))
			ok = 0;
	}
	if ((freeptr_outside_object(s) || val != HP_SLUB_RED_ACTIVE) &&
	    !debug_check_valid_pointer(s, slab, fp_get(s, obj))) {
		slab_err(s, slab, HP_SLUB_ERR_FREEPTR, "Freepointer corrupt", obj,
			 (s->hot.flags & HP_SLAB_RED_ZONE) ? "Freelist rebuilt from the red zones"
							   : "Freelist cleared: the rest of this slab's free objects are lost");
		fp_set(s, obj, NULL);   /* zap it, as the kernel does */
		*fp_bad = 1;
		ok = 0;
	}
	return ok;
}

/* Repair of a broken freelist: with red zones, each object's right red
 * zone says whether it is free (0xbb) or in use (0xcc), so the list is
 * rebuilt from them (except, being allocated, counts as in use); without,
 * the kernel's answer: the list is dropped and every object counted used. */
static void repair_freelist(hp_kmem_cache_t *s, hp_slab_t *slab, void *except)
{
	unsigned objects = CNT_OBJECTS(slab->counters), nfree = 0;
	void *head = NULL;

	if (!(s->hot.flags & HP_SLAB_RED_ZONE)) {
		slab->freelist = NULL;
		slab->counters = CNT_MAKE(objects, objects, CNT_FROZEN(slab->counters));
		return;
	}
	for (unsigned i = objects; i-- > 0;) {
		unsigned char *p = (unsigned char *)slab_object(s, slab, i);
		int st = p[s->object_size];

		if (st != HP_SLUB_RED_INACTIVE && st != HP_SLUB_RED_ACTIVE)
			st = p[-1];
		if (p == except || st != HP_SLUB_RED_INACTIVE)
			continue;
		fp_set(s, p, head);
		head = p;
		nfree++;
	}
	slab->freelist = head;
	slab->counters = CNT_MAKE(objects - nfree, objects, CNT_FROZEN(slab->counters));
}

/* check_slab(): the counters are sane */
static int check_slab(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	unsigned objects = CNT_OBJECTS(slab->counters), inuse = CNT_INUSE(slab->counters);
	unsigned maxobj = (unsigned)(OO_BYTES(slab->order) / s->size);

	if (maxobj > MAX_OBJS_PER_PAGE)
		maxobj = MAX_OBJS_PER_PAGE;
	if (objects != maxobj) {
		slab_err(s, slab, HP_SLUB_ERR_SLAB, "Wrong number of objects", NULL, "Number of objects adjusted");
		slab->counters = CNT_MAKE(inuse > maxobj ? maxobj : inuse, maxobj, CNT_FROZEN(slab->counters));
		return 0;
	}
	if (inuse > objects) {
		slab_err(s, slab, HP_SLUB_ERR_SLAB, "inuse > objects", NULL, "Object count adjusted");
		slab->counters = CNT_MAKE(objects, objects, CNT_FROZEN(slab->counters));
		return 0;
	}
	return 1;
}

/* on_freelist(): is search on the slab's freelist? Also checks the chain
 * and the in-use count, repairing both. */
static int on_freelist(hp_kmem_cache_t *s, hp_slab_t *slab, const void *search)
{
	unsigned objects = CNT_OBJECTS(slab->counters), nr = 0;
	void *fp = slab->freelist, *object = NULL;

	while (fp && nr <= objects) {
		if (fp == search)
			return 1;
		if (!debug_check_valid_pointer(s, slab, fp)) {
			if (object)
				slab_err(s, slab, HP_SLUB_ERR_FREEPTR, "Freechain corrupt", object,
					 (s->hot.flags & HP_SLAB_RED_ZONE) ? "Freelist rebuilt from the red zones"
									   : "Freelist cleared");
			else
				slab_err(s, slab, HP_SLUB_ERR_FREEPTR, "Freepointer corrupt", NULL,
					 (s->hot.flags & HP_SLAB_RED_ZONE) ? "Freelist rebuilt from the red zones"
									   : "Freelist cleared");
			repair_freelist(s, slab, NULL);
			return on_freelist(s, slab, search);
		}
		object = fp;
		fp = fp_get(s, object);
		nr++;
	}
	if (CNT_INUSE(slab->counters) != objects - nr) {
		slab_err(s, slab, HP_SLUB_ERR_SLAB, "Wrong object count", NULL, "Object count adjusted");
		slab->counters = CNT_MAKE(objects - nr, objects, CNT_FROZEN(slab->counters));
	}
	return search == NULL;
}

void *debug_take_object(hp_kmem_cache_t *s, hp_slab_t *slab, unsigned long addr, size_t orig_size)
{
	void *obj = slab->freelist;
	int fp_bad = 0;

	if (!obj)
		return NULL;
	if (s->hot.flags & HP_SLAB_CONSISTENCY_CHECKS) {
		check_slab(s, slab);
		if (!debug_check_valid_pointer(s, slab, obj)) {
			slab_err(s, slab, HP_SLUB_ERR_FREEPTR, "Freelist Pointer check fails", obj,
				 (s->hot.flags & HP_SLAB_RED_ZONE) ? "Freelist rebuilt from the red zones"
								   : "Marking all objects used");
			repair_freelist(s, slab, NULL);
			obj = slab->freelist;
			if (!obj)
				return NULL;
		}
		check_object(s, slab, obj, HP_SLUB_RED_INACTIVE, &fp_bad);
	}
	if (fp_bad) {
		repair_freelist(s, slab, obj);
		if (!(s->hot.flags & HP_SLAB_RED_ZONE))
			slab->freelist = NULL;
	} else {
		slab->freelist = fp_get(s, obj);
		slab->counters += 1;
	}
	if (s->hot.flags & HP_SLAB_STORE_USER)
		set_track(s, obj, 0, addr);
	debug_set_orig_size(s, obj, orig_size);
	if (s->hot.flags & (HP_SLAB_RED_ZONE | HP_SLAB_POISON))
		debug_init_object(s, obj, HP_SLUB_RED_ACTIVE);
	return obj;
}

int debug_free_processing(hp_kmem_cache_t *s, hp_slab_t *slab, void *obj, unsigned long addr)
{
	if (s->hot.flags & HP_SLAB_CONSISTENCY_CHECKS) {
		int fp_bad;

		if (!debug_check_valid_pointer(s, slab, obj)) {
			slab_err(s, slab, HP_SLUB_ERR_BAD_POINTER, "Invalid object pointer", obj, "Object not freed");
			return 0;
		}
		if (on_freelist(s, slab, obj)) {
			slab_err(s, slab, HP_SLUB_ERR_DOUBLE_FREE, "Object already free", obj, "Object not freed");
			return 0;
		}
		/* faults in the bytes are repaired by now; the object is freed */
		check_object(s, slab, obj, HP_SLUB_RED_ACTIVE, &fp_bad);
	}
	if (s->hot.flags & HP_SLAB_STORE_USER)
		set_track(s, obj, 1, addr);
	if (s->hot.flags & (HP_SLAB_RED_ZONE | HP_SLAB_POISON))
		debug_init_object(s, obj, HP_SLUB_RED_INACTIVE);
	return 1;
}

/* slab_pad_check() + every object checked free, before a slab goes back */
void debug_free_slab_checks(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	unsigned objects = CNT_OBJECTS(slab->counters);
	size_t used = (size_t)objects * s->size, len = OO_BYTES(slab->order);
	int fp_bad;

	if ((s->hot.flags & HP_SLAB_POISON) && used < len)
		check_bytes(s, slab, (void *)slab->addr, "Padding", (unsigned char *)slab->addr + used,
			    HP_POISON_INUSE, len - used);
	for (unsigned i = 0; i < objects; i++)
		check_object(s, slab, slab_object(s, slab, i), HP_SLUB_RED_INACTIVE, &fp_bad);
}

/* Marks free objects in bits[]; returns how many */
static unsigned mark_free(const hp_kmem_cache_t *s, const hp_slab_t *slab, uint64_t *bits)
{
	unsigned objects = CNT_OBJECTS(slab->counters), n = 0;

	memset(bits, 0, ((objects + 63) / 64) * sizeof(uint64_t));
	for (void *p = slab->freelist; p && n <= objects; p = fp_get(s, p)) {
		uintptr_t i;

		if (!debug_check_valid_pointer(s, slab, p))
			break;
		i = ((uintptr_t)p - s->red_left_pad - slab->addr) / s->size;
		bits[i / 64] |= 1ull << (i % 64);
		n++;
	}
	return n;
}

/* list_slab_objects(): one report per slab, the objects still in use listed */
void debug_report_leaks(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	uint64_t bits[(MAX_OBJS_PER_PAGE + 64) / 64];
	unsigned objects = CNT_OBJECTS(slab->counters), listed = 0, inuse;
	char extra[1536], what[96];
	hp_fmt_t f = { extra, sizeof extra, 0 }, fw = { what, sizeof what, 0 };

	inuse = objects - mark_free(s, slab, bits);
	for (unsigned i = 0; i < objects && listed < 8; i++) {
		char *p;

		if (bits[i / 64] & (1ull << (i % 64)))
			continue;
		p = slab_object(s, slab, i);
		fmt_str(&f, "Object ");
		fmt_hex(&f, (uintptr_t)p);
		fmt_str(&f, " @offset=");
		fmt_u(&f, (uintptr_t)p - slab->addr, 0);
		fmt_str(&f, "\n");
		if (s->hot.flags & HP_SLAB_STORE_USER)
			fmt_track(&f, "Allocated", get_track(s, p, 0));
		listed++;
	}
	if (inuse > listed)
		fmt_str(&f, "...\n");
	fmt_end(&f);
	fmt_str(&fw, "Objects remaining in ");
	fmt_str(&fw, s->name);
	fmt_str(&fw, " on __kmem_cache_shutdown()");
	fmt_end(&fw);
	{
		hp_slub_err_info_t e = {
			.kind = HP_SLUB_ERR_LEAK, .s = s, .what = what, .slab = slab, .offset = -1,
			.expected = -1, .found = -1, .count = inuse, .extra = extra,
			.fix = "Slab cache kept: it still has objects",
		};
		slub_report(&e);
	}
}

/* validate_slab() */
long debug_validate_slab(hp_kmem_cache_t *s, hp_slab_t *slab)
{
	uint64_t before = LOAD(&s->errors), bits[(MAX_OBJS_PER_PAGE + 64) / 64];
	unsigned objects;
	int fp_bad;

	check_slab(s, slab);
	if (!kmem_cache_debug(s))
		return (long)(LOAD(&s->errors) - before);   /* lock-free frees may be running */
	on_freelist(s, slab, NULL);
	objects = CNT_OBJECTS(slab->counters);
	if (s->hot.flags & HP_SLAB_CONSISTENCY_CHECKS) {
		mark_free(s, slab, bits);
		for (unsigned i = 0; i < objects; i++) {
			int is_free = !!(bits[i / 64] & (1ull << (i % 64)));
			void *p = slab_object(s, slab, i);

			check_object(s, slab, p, is_free ? HP_SLUB_RED_INACTIVE : HP_SLUB_RED_ACTIVE, &fp_bad);
			if (fp_bad)
				repair_freelist(s, slab, NULL);
		}
	}
	return (long)(LOAD(&s->errors) - before);
}
