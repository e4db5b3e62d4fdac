/* sheaves.c — generation `sheaves` of impl/slub: per-CPU sheaves and the
 * node barn of Linux 6.18 (opt-in) / 7.0 (every cache), over the slab
 * layer slub.c shares with generation `cpu-slab` (6.6). slub.h, section
 * "Generation 7.0", describes the design, the lock stand-ins and costs.
 *
 * Where each behaviour comes from:
 *   6.18 "slab: add opt-in caching layer of percpu sheaves": main/spare,
 *        alloc_from_pcs/free_to_pcs, __pcs_replace_empty_main and
 *        __pcs_replace_full_main, the barn (barn_replace_empty_sheaf,
 *        barn_replace_full_sheaf, MAX_FULL/EMPTY_SHEAVES = 10),
 *        sheaf_flush_main, alloc_from_pcs_bulk/free_to_pcs_bulk, the
 *        fallback to the slabs when local_trylock fails.
 *   7.0  slab/for-7.0/sheaves: every cache has sheaves (capacity from
 *        "slab: add sheaves to most caches"), the bootstrap sheaf, no
 *        kmem_cache_cpu / tid / cpu partial lists: a refill takes objects
 *        straight off the node's partial slabs under list_lock
 *        (__refill_objects), one cmpxchg16b on (freelist, counters) a
 *        slab, and a new slab when the list is empty.
 */
#include "slub_int.h"

#include <sched.h>
#include <string.h>
#include <sys/mman.h>

/* The bootstrap sheaf (7.0): capacity 0, so both fast paths fail on it
 * and the slow path replaces it with a real sheaf on first use. Never
 * written. */
static hp_slab_sheaf_t bootstrap_sheaf;

/* ------------------------------------------------------------------ */
/* Capacity, sheaves, the per-CPU lock                                 */
/* ------------------------------------------------------------------ */

/* set_cpu_partial()'s object count halved, rounded up to fill the sheaf's
 * kmalloc size class (header 32 bytes + 8 a slot). */
unsigned sheaves_capacity_for(unsigned size)
{
	unsigned nr = size >= HP_PAGE_SIZE ? 6 : size >= 1024 ? 24 : size >= 256 ? 52 : 120;
	size_t bytes = sizeof(hp_slab_sheaf_t) + (size_t)(nr / 2) * sizeof(void *);
	size_t cls = 8;

	while (cls < bytes)
		cls <<= 1;
	return (unsigned)((cls - sizeof(hp_slab_sheaf_t)) / sizeof(void *));
}

unsigned hp_kmem_cache_sheaf_capacity(const hp_kmem_cache_t *s)
{
	return s ? s->sheaf_capacity : 0;
}

int hp_slub_generation_set(const char *name)
{
	if (!name)
		return -1;
	if (!strcmp(name, "cpu-slab"))
		return HP_KMALLOC_SET_CMPXCHG;
	if (!strcmp(name, "sheaves"))
		return HP_KMALLOC_SET_SHEAVES;
	return -1;
}

static hp_slub_pcs_t *unit_pcs(const hp_kmem_cache_t *s, int unit)
{
	return (hp_slub_pcs_t *)(void *)slub_unit_slot(s, unit);
}

static inline void sstat(hp_slub_pcs_t *c, int item)
{
	__atomic_store_n(&c->sstat[item], __atomic_load_n(&c->sstat[item], __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

/* alloc_empty_sheaf(): kzalloc of the cpu-slab set 0 (never this cache) */
static hp_slab_sheaf_t *alloc_empty_sheaf(hp_kmem_cache_t *s)
{
	hp_slab_sheaf_t *sh = hp_kmalloc(sizeof *sh + (size_t)s->sheaf_capacity * sizeof(void *));

	if (!sh)
		return NULL;
	hp_list_init(&sh->barn_list);
	sh->cache = s;
	sh->size = 0;
	sh->capacity = s->sheaf_capacity;
	return sh;
}

static void free_empty_sheaf(hp_slab_sheaf_t *sh)
{
	if (sh && sh != &bootstrap_sheaf)
		hp_kfree(sh);
}

void sheaves_open(hp_kmem_cache_t *s)
{
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
		hp_node_barn_t *b = &s->barn[nid];

		pthread_mutex_init(&b->lock, NULL);
		hp_list_init(&b->sheaves_full);
		hp_list_init(&b->sheaves_empty);
		b->nr_full = b->nr_empty = 0;
	}
	for (int u = 0; u <= hp_slub_nr_cpus(); u++) {
		hp_slub_pcs_t *c = unit_pcs(s, u);

		memset(c, 0, sizeof *c);
		c->main = &bootstrap_sheaf;
	}
	s->rcu_free = NULL;
}

/* local_trylock(&s->cpu_sheaves->lock) for the cache's stand-in: this
 * CPU's pcs, *locked saying whether it must be unlocked; NULL when the
 * lock is taken (the caller goes to the slabs, as the kernel does). */
static hp_slub_pcs_t *pcs_trylock(const hp_kmem_cache_t *s, int *locked)
{
	unsigned how = s->hot.path & 3u;
	hp_slub_pcs_t *c;

	if (how == HP_SLUB_PATH_PINNED) {
		if (hp_slub_this_unit_) {
			*locked = 0;   /* the declared thread owns its unit */
			return hp_slub_pinned_pcs_(s);
		}
		c = unit_pcs(s, hp_slub_nr_cpus());   /* undeclared threads: the shared unit */
		*locked = 1;
		return hp_slub_pcs_trylock_(c) ? c : NULL;
	}
	*locked = 1;
#ifdef HP_SHEAVES_RSEQ_ASM
	if (how == HP_SLUB_PATH_RSEQ)
		return hp_sheaves_rseq_lock_(s);
#endif
	c = hp_slub_this_pcs_(s);
	return hp_slub_pcs_trylock_(c) ? c : NULL;
}

static void pcs_unlock(hp_slub_pcs_t *c, int locked)
{
	if (locked)
		hp_slub_pcs_unlock_(c);
}

/* ------------------------------------------------------------------ */
/* The slab layer: refill and flush                                    */
/* ------------------------------------------------------------------ */

/* Takes up to want objects off one slab's freelist into out[]: a
 * cmpxchg16b on (freelist, counters) that fails, and is retried, when a
 * free pushed onto the slab meanwhile. List_lock held (or a new slab no
 * one else knows). Returns how many; *empty set when the slab has none left. */
static unsigned take_from_slab(hp_kmem_cache_t *s, hp_slab_t *slab, void **out, unsigned want, int *empty)
{
	for (;;) {
		/* acquire: pairs with the cmpxchg16b that pushed these objects
		 * (their free pointers were written before it) */
		void *fl = __atomic_load_n(&slab->freelist, __ATOMIC_ACQUIRE), *p = fl;
		uint64_t oc = __atomic_load_n(&slab->counters, __ATOMIC_RELAXED);
		unsigned k = 0;

		while (p && k < want) {
			out[k++] = p;
			p = fp_get(s, p);
		}
		if (slub_slab_update(slab, fl, oc, p, oc + k)) {   /* inuse += k */
			*empty = p == NULL;
			return k;
		}
	}
}

/* __refill_objects() (7.0): up to want objects into out[] from node nid's
 * partial slabs under list_lock, then from new slabs of that node
 * (new_slab(s, flags, node)). Returns how many (fewer only when out of
 * memory). */
static unsigned refill_objects(hp_kmem_cache_t *s, unsigned nid, void **out, unsigned want)
{
	hp_kmem_cache_node_t *n = &s->node[nid];
	unsigned got = 0;
	int empty;

	if (__atomic_load_n(&n->nr_partial, __ATOMIC_RELAXED)) {
		slub_lock_node(n);
		while (got < want && !hp_list_empty(&n->partial)) {
			hp_slab_t *slab = slab_of_list(n->partial.next);

			got += take_from_slab(s, slab, out + got, want - got, &empty);
			if (empty)
				slub_remove_partial(n, slab);   /* full: on no list (no debug here) */
			slub_stat(s, HP_SLUB_STAT_ALLOC_FROM_PARTIAL);
		}
		slub_unlock_node(n);
	}
	while (got < want) {
		hp_slab_t *slab = slub_new_slab(s, nid);

		if (!slab)
			break;
		got += take_from_slab(s, slab, out + got, want - got, &empty);
		if (!empty) {
			slub_lock_node(n);
			slub_add_partial(n, slab, 0);
			slub_unlock_node(n);
		}
	}
	return got;
}

/* One object straight to its slab (__slab_free). */
static void free_to_slab_one(hp_kmem_cache_t *s, void *x)
{
	hp_slab_t *slab = slub_virt_to_slab(x);

	fp_set(s, x, NULL);
	slub_free_to_slab(s, slab, x, x, 1);
}

/* sheaf_flush_main() / __kmem_cache_free_bulk(): objs[0..n-1] back to
 * their slabs, those of one slab as one detached freelist (one
 * cmpxchg16b). objs[] is scratch afterwards. -DHP_SLUB_MUTATE_SHEAF_FLUSH
 * (tests/meson.build: slub_sheaves_mutant) loses the last object, which
 * the conservation check of tests/test_slub_sheaves.c must catch. */
static void flush_objects(hp_kmem_cache_t *s, void **objs, unsigned n)
{
#ifdef HP_SLUB_MUTATE_SHEAF_FLUSH
	if (n)
		n--;
#endif
	for (unsigned i = 0; i < n; i++) {
		void *head = objs[i], *tail = head;
		hp_slab_t *slab;
		uintptr_t base, bytes;
		unsigned cnt = 1;

		if (!head)
			continue;
		slab = slub_virt_to_slab(head);
		base = slab->addr;
		bytes = OO_BYTES(slab->order);
		fp_set(s, tail, NULL);
		for (unsigned j = i + 1; j < n; j++) {
			void *o = objs[j];

			if (o && (uintptr_t)o - base < bytes) {
				fp_set(s, o, head);
				head = o;
				cnt++;
				objs[j] = NULL;
			}
		}
		slub_free_to_slab(s, slab, head, tail, cnt);
	}
}

static void flush_sheaf(hp_kmem_cache_t *s, hp_slab_sheaf_t *sh)
{
	flush_objects(s, sh->objects, sh->size);
	sh->size = 0;
}

/* ------------------------------------------------------------------ */
/* The barn                                                            */
/* ------------------------------------------------------------------ */

static hp_slab_sheaf_t *barn_take(hp_list_t *list, unsigned *nr)
{
	hp_slab_sheaf_t *sh;

	if (hp_list_empty(list))
		return NULL;
	sh = hp_list_entry(list->next, hp_slab_sheaf_t, barn_list);
	hp_list_del(&sh->barn_list);
	__atomic_store_n(nr, *nr - 1, __ATOMIC_RELAXED);
	return sh;
}

static void barn_add(hp_list_t *list, unsigned *nr, hp_slab_sheaf_t *sh)
{
	hp_list_add(&sh->barn_list, list);
	__atomic_store_n(nr, *nr + 1, __ATOMIC_RELAXED);
}

/* get_barn(s): the barn of the node of the CPU whose pcs is c */
static hp_node_barn_t *get_barn(hp_kmem_cache_t *s, const hp_slub_pcs_t *c)
{
	return &s->barn[slub_unit_node(s, c)];
}

/* barn_get_empty_sheaf() */
static hp_slab_sheaf_t *barn_get_empty(hp_node_barn_t *b)
{
	hp_slab_sheaf_t *sh = NULL;

	if (!__atomic_load_n(&b->nr_empty, __ATOMIC_RELAXED))
		return NULL;
	pthread_mutex_lock(&b->lock);
	sh = barn_take(&b->sheaves_empty, &b->nr_empty);
	pthread_mutex_unlock(&b->lock);
	return sh;
}

/* barn_put_empty_sheaf(), or free it when the barn holds enough */
static void barn_put_empty(hp_node_barn_t *b, hp_slab_sheaf_t *sh)
{
	int put = 0;

	if (sh == &bootstrap_sheaf)
		return;
	pthread_mutex_lock(&b->lock);
	if (b->nr_empty < HP_SLAB_SHEAVES_MAX_EMPTY) {
		barn_add(&b->sheaves_empty, &b->nr_empty, sh);
		put = 1;
	}
	pthread_mutex_unlock(&b->lock);
	if (!put)
		free_empty_sheaf(sh);
}

/* ------------------------------------------------------------------ */
/* Replacing main (pcs lock held)                                      */
/* ------------------------------------------------------------------ */

/* __pcs_replace_empty_main(): main is empty. A non-empty spare becomes
 * main; else a full sheaf from the barn (barn_replace_empty_sheaf); else,
 * when refill is allowed, an empty sheaf (spare, barn, or a new one)
 * refilled from the slabs. 0, or -1 (no object to be had this way). */
static int replace_empty_main(hp_kmem_cache_t *s, hp_slub_pcs_t *c, int refill)
{
	hp_node_barn_t *b = get_barn(s, c);
	hp_slab_sheaf_t *old = c->main, *full = NULL, *empty;
	unsigned got;

	if (c->spare && c->spare->size) {
		c->main = c->spare;
		c->spare = old;
		sstat(c, HP_SHEAF_STAT_SWAP);
		return 0;
	}
	if (__atomic_load_n(&b->nr_full, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&b->lock);
		full = barn_take(&b->sheaves_full, &b->nr_full);
		pthread_mutex_unlock(&b->lock);
	}
	if (full) {
		c->main = full;
		sstat(c, HP_SHEAF_STAT_BARN_GET);
		if (old != &bootstrap_sheaf) {
			if (!c->spare)
				c->spare = old;
			else
				barn_put_empty(b, old);
		}
		return 0;
	}
	if (!refill)
		return -1;
	if (old != &bootstrap_sheaf) {
		empty = old;
	} else if (c->spare) {   /* an empty spare */
		empty = c->spare;
		c->spare = NULL;
	} else {
		empty = barn_get_empty(b);
		if (!empty)
			empty = alloc_empty_sheaf(s);
		if (!empty)
			return -1;
	}
	c->main = empty;
	got = refill_objects(s, slub_unit_node(s, c), empty->objects, empty->capacity);
	empty->size = got;
	sstat(c, HP_SHEAF_STAT_REFILL);
	return got ? 0 : -1;
}

/* __pcs_replace_full_main(): main is full (or the bootstrap sheaf). An
 * empty spare becomes main; with no spare, main becomes the spare and an
 * empty sheaf main; else main goes to the barn for an empty one
 * (barn_replace_full_sheaf); when the barn holds MAX_FULL_SHEAVES (or no
 * sheaf can be had) main is flushed to the slabs (sheaf_flush_main). */
static void replace_full_main(hp_kmem_cache_t *s, hp_slub_pcs_t *c)
{
	hp_node_barn_t *b = get_barn(s, c);
	hp_slab_sheaf_t *old = c->main, *empty = NULL;

	if (c->spare && !c->spare->size) {
		c->main = c->spare;
		c->spare = old == &bootstrap_sheaf ? NULL : old;
		sstat(c, HP_SHEAF_STAT_SWAP);
		return;
	}
	if (old == &bootstrap_sheaf || !c->spare) {
		empty = barn_get_empty(b);
		if (!empty)
			empty = alloc_empty_sheaf(s);
		if (empty) {
			if (old != &bootstrap_sheaf)
				c->spare = old;
			c->main = empty;
			return;
		}
		if (old == &bootstrap_sheaf)
			return;   /* still full: the caller frees to the slab */
	}
	pthread_mutex_lock(&b->lock);
	if (b->nr_full < HP_SLAB_SHEAVES_MAX_FULL && b->nr_empty) {
		empty = barn_take(&b->sheaves_empty, &b->nr_empty);
		barn_add(&b->sheaves_full, &b->nr_full, old);
		pthread_mutex_unlock(&b->lock);
		c->main = empty;
		sstat(c, HP_SHEAF_STAT_BARN_PUT);
		return;
	}
	if (b->nr_full < HP_SLAB_SHEAVES_MAX_FULL) {
		pthread_mutex_unlock(&b->lock);
		empty = alloc_empty_sheaf(s);   /* outside the barn lock */
		if (empty) {
			int put = 0;

			pthread_mutex_lock(&b->lock);
			if (b->nr_full < HP_SLAB_SHEAVES_MAX_FULL) {
				barn_add(&b->sheaves_full, &b->nr_full, old);
				put = 1;
			}
			pthread_mutex_unlock(&b->lock);
			if (put) {
				c->main = empty;
				sstat(c, HP_SHEAF_STAT_BARN_PUT);
				return;
			}
			free_empty_sheaf(empty);
		}
	} else {
		pthread_mutex_unlock(&b->lock);
	}
	flush_sheaf(s, old);
	sstat(c, HP_SHEAF_STAT_FLUSH);
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

/* slab_alloc_node() of a sheaves cache: alloc_from_pcs() with its slow
 * path, else (lock taken, out of memory for sheaves) one object from the
 * slabs (__slab_alloc_node). NULL when out of memory. */
void *hp_sheaves_alloc_slow(hp_kmem_cache_t *s)
{
	int locked;
	hp_slub_pcs_t *c = pcs_trylock(s, &locked);
	void *obj = NULL;

	if (c) {
		hp_slab_sheaf_t *sh = c->main;

		if (sh->size || replace_empty_main(s, c, 1) == 0) {
			sh = c->main;
			obj = sh->objects[--sh->size];
		}
		pcs_unlock(c, locked);
		if (obj)
			return obj;
	}
	slub_stat(s, HP_SLUB_STAT_ALLOC_SLOWPATH);
	return refill_objects(s, slub_numa_mem_id(), &obj, 1) ? obj : NULL;
}

/* slab_alloc_node() for a node other than the local one: the sheaves are
 * bypassed (6.18 alloc_from_pcs gives NULL for node != numa_mem_id()),
 * __slab_alloc_node -> one object of a slab of that node. */
void *hp_sheaves_alloc_node_slow(hp_kmem_cache_t *s, unsigned nid)
{
	void *obj = NULL;

	slub_stat(s, HP_SLUB_STAT_ALLOC_SLOWPATH);
	return refill_objects(s, nid, &obj, 1) ? obj : NULL;
}

/* slab_free() of a sheaves cache: free_to_pcs() with its slow path, else
 * (lock taken) __slab_free. */
void hp_sheaves_free_slow(hp_kmem_cache_t *s, void *x)
{
	int locked;
	hp_slub_pcs_t *c = pcs_trylock(s, &locked);

#ifndef HP_SLUB_MUTATE_REMOTE_NODE_TO_SHEAF
	/* slab_free(): an object of another node goes to its slab */
	if (c && slub_nr_nodes > 1 && (unsigned)slub_virt_to_slab(x)->nid != slub_unit_node(s, c)) {
		pcs_unlock(c, locked);
		free_to_slab_one(s, x);
		return;
	}
#endif
	if (c) {
		hp_slab_sheaf_t *sh = c->main;

		if (sh->size >= sh->capacity) {
			replace_full_main(s, c);
			sh = c->main;
		}
		if (sh->size < sh->capacity) {
			sh->objects[sh->size++] = x;
			pcs_unlock(c, locked);
			return;
		}
		pcs_unlock(c, locked);
	}
	free_to_slab_one(s, x);
}

/* kmem_cache_alloc_bulk(): alloc_from_pcs_bulk() takes what main, spare
 * and the barn's full sheaves hold; the rest comes from the slabs
 * (__kmem_cache_alloc_bulk -> __refill_objects). n, or 0 (nothing
 * allocated) when out of memory. */
size_t sheaves_alloc_bulk(hp_kmem_cache_t *s, size_t n, void **p)
{
	int locked;
	hp_slub_pcs_t *c = pcs_trylock(s, &locked);
	size_t i = 0;

	if (c) {
		while (i < n) {
			hp_slab_sheaf_t *sh = c->main;
			unsigned k;

			if (!sh->size && replace_empty_main(s, c, 0) != 0)
				break;
			sh = c->main;
			k = sh->size < n - i ? sh->size : (unsigned)(n - i);
			sh->size -= k;
			memcpy(p + i, sh->objects + sh->size, k * sizeof(void *));
			i += k;
		}
		pcs_unlock(c, locked);
	}
	slub_stat(s, HP_SLUB_STAT_BULK_ALLOC);
	while (i < n) {
		unsigned want = n - i > 0xffffu ? 0xffffu : (unsigned)(n - i);
		unsigned got = refill_objects(s, slub_numa_mem_id(), p + i, want);

		i += got;
		if (got < want) {
			sheaves_free_bulk(s, i, p);
			return 0;
		}
	}
	return n;
}

/* kmem_cache_free_bulk(): free_to_pcs_bulk() fills main (replacing it
 * when full); what the sheaves cannot take goes to the slabs. NULL and
 * ZERO_SIZE_PTR entries are skipped. */
void sheaves_free_bulk(hp_kmem_cache_t *s, size_t n, void **p)
{
	int locked;
	hp_slub_pcs_t *c = pcs_trylock(s, &locked);
	unsigned nid = c ? slub_unit_node(s, c) : 0;
	size_t i = 0;

	if (c) {
		while (i < n) {
			hp_slab_sheaf_t *sh = c->main;

			if (!p[i] || p[i] == HP_ZERO_SIZE_PTR) {
				i++;
				continue;
			}
			/* free_to_pcs_bulk(): remote-node objects to their slabs */
			if (slub_nr_nodes > 1 && (unsigned)slub_virt_to_slab(p[i])->nid != nid) {
				free_to_slab_one(s, p[i++]);
				continue;
			}
			if (sh->size >= sh->capacity) {
				replace_full_main(s, c);
				sh = c->main;
				if (sh->size >= sh->capacity)
					break;
			}
			sh->objects[sh->size++] = p[i++];
		}
		pcs_unlock(c, locked);
	}
	slub_stat(s, HP_SLUB_STAT_BULK_FREE);
	for (; i < n; i++)
		if (p[i] && p[i] != HP_ZERO_SIZE_PTR)
			free_to_slab_one(s, p[i]);
}

/* ------------------------------------------------------------------ */
/* kfree_rcu through a sheaf (6.18 __kfree_rcu_sheaf, rcu_free_sheaf)   */
/* ------------------------------------------------------------------ */

#define RCU_FREE_STRIDE 8   /* pointers a unit: one 64-byte line, no false sharing */

static size_t rcu_free_bytes(void)
{
	return (size_t)(hp_slub_nr_cpus() + 1) * RCU_FREE_STRIDE * sizeof(hp_slab_sheaf_t *);
}

/* The unit's rcu_free slot; the array is mapped on first use (a race
 * loser unmaps its copy). NULL when it cannot be mapped. */
static hp_slab_sheaf_t **rcu_free_slot(hp_kmem_cache_t *s, const hp_slub_pcs_t *c)
{
	hp_slab_sheaf_t **a = __atomic_load_n(&s->rcu_free, __ATOMIC_ACQUIRE);
	size_t unit = ((uintptr_t)c - (uintptr_t)hp_slub_pcpu_base_ - s->hot.cpu_off) >> HP_SLUB_PCPU_UNIT_SHIFT;

	if (!a) {
		hp_slab_sheaf_t **mine = mmap(NULL, rcu_free_bytes(), PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (mine == MAP_FAILED)
			return NULL;
		if (__atomic_compare_exchange_n(&s->rcu_free, &a, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			a = mine;
		else
			munmap(mine, rcu_free_bytes());
	}
	return a + unit * RCU_FREE_STRIDE;
}

int hp_kfree_rcu_sheaf(hp_kmem_cache_t *s, void *obj, hp_slub_call_rcu_t call_rcu)
{
	hp_slab_sheaf_t **slot, *sh, *full = NULL;
	hp_slub_pcs_t *c;
	int locked;

	if (!s) {
		hp_slab_t *slab = obj ? slub_virt_to_slab(obj) : NULL;

		s = slab ? slab->cache : NULL;
	}
	if (!s || !sheaves_cache(s) || !call_rcu)
		return 0;
	c = pcs_trylock(s, &locked);
	if (!c)
		return 0;
	/* __kfree_rcu_sheaf (6.18): a remote-node object is not taken */
	if (slub_nr_nodes > 1 && (unsigned)slub_virt_to_slab(obj)->nid != slub_unit_node(s, c)) {
		pcs_unlock(c, locked);
		return 0;
	}
	slot = rcu_free_slot(s, c);
	if (!slot) {
		pcs_unlock(c, locked);
		return 0;
	}
	sh = *slot;
	if (!sh) {
		sh = barn_get_empty(get_barn(s, c));
		if (!sh)
			sh = alloc_empty_sheaf(s);
		if (!sh) {
			pcs_unlock(c, locked);
			return 0;
		}
		*slot = sh;
	}
	sh->objects[sh->size++] = obj;
	if (sh->size >= sh->capacity) {
		*slot = NULL;   /* the full sheaf leaves the CPU */
		full = sh;
	}
	pcs_unlock(c, locked);
	if (full) {
#ifdef HP_SLUB_MUTATE_RCU_SHEAF_NOWAIT
		/* the mutation tests/meson.build's rcu_sheaf_mutant must catch:
		 * the objects go back without waiting for a grace period */
		hp_kfree_rcu_sheaf_done(full->rcu_head);
#else
		call_rcu(full->rcu_head);
#endif
	}
	return 1;
}

/* rcu_free_sheaf(): after the grace period. A full sheaf to the barn
 * while it holds fewer than MAX_FULL_SHEAVES; otherwise (or a partly
 * filled sheaf from a flush, which the barn's full list must not hold)
 * the objects to their slabs and the empty sheaf to the barn or freed. */
void hp_kfree_rcu_sheaf_done(void *head)
{
	hp_slab_sheaf_t *sh = (hp_slab_sheaf_t *)(void *)((char *)head - offsetof(hp_slab_sheaf_t, rcu_head));
	hp_kmem_cache_t *s = sh->cache;
	/* rcu_free_sheaf(): the barn of the node the callback runs on; a
	 * sheaf holds one node's objects (kfree_rcu takes no remote-node
	 * object), so a full one goes to its objects' node's barn */
	hp_node_barn_t *b = &s->barn[sh->size ? (unsigned)slub_virt_to_slab(sh->objects[0])->nid : slub_numa_mem_id()];

	hp_list_init(&sh->barn_list);
	if (sh->size == sh->capacity) {
		pthread_mutex_lock(&b->lock);
		if (b->nr_full < HP_SLAB_SHEAVES_MAX_FULL) {
			barn_add(&b->sheaves_full, &b->nr_full, sh);
			pthread_mutex_unlock(&b->lock);
			return;
		}
		pthread_mutex_unlock(&b->lock);
	}
	flush_sheaf(s, sh);
	barn_put_empty(b, sh);
}

unsigned hp_kfree_rcu_sheaf_flush(hp_kmem_cache_t *s, hp_slub_call_rcu_t call_rcu)
{
	hp_slab_sheaf_t **a;
	unsigned handed = 0;

	if (!s || !sheaves_cache(s) || !call_rcu)
		return 0;
	a = __atomic_load_n(&s->rcu_free, __ATOMIC_ACQUIRE);
	if (!a)
		return 0;
	for (int u = 0; u <= hp_slub_nr_cpus(); u++) {
		hp_slub_pcs_t *c = unit_pcs(s, u);
		hp_slab_sheaf_t *sh = NULL;

		/* the unit's lock (a pinned cache's declared threads do not
		 * take it: flush those while they are outside the cache) */
		for (unsigned k = 0; !hp_slub_pcs_trylock_(c); k++)
			if (k > 64)
				sched_yield();
		if (a[(size_t)u * RCU_FREE_STRIDE] && a[(size_t)u * RCU_FREE_STRIDE]->size) {
			sh = a[(size_t)u * RCU_FREE_STRIDE];
			a[(size_t)u * RCU_FREE_STRIDE] = NULL;
		}
		hp_slub_pcs_unlock_(c);
		if (sh) {
			call_rcu(sh->rcu_head);
			handed++;
		}
	}
	return handed;
}

/* destroy: the rcu_free sheaves left (empty ones; a non-empty one keeps
 * its objects in use, which destroy has reported) and the array. */
void sheaves_close(hp_kmem_cache_t *s)
{
	hp_slab_sheaf_t **a = s->rcu_free;

	if (!a)
		return;
	for (int u = 0; u <= hp_slub_nr_cpus(); u++)
		free_empty_sheaf(a[(size_t)u * RCU_FREE_STRIDE]);
	munmap(a, rcu_free_bytes());
	s->rcu_free = NULL;
}

/* flush_all_cpus_locked() + barn_shrink() (kmem_cache_shrink/destroy):
 * every sheaf's objects back to the slabs and the sheaves freed; each
 * CPU's main is the bootstrap sheaf again. Quiescent. */
void sheaves_flush_all(hp_kmem_cache_t *s)
{
	hp_slab_sheaf_t *sh;

	for (int u = 0; u <= hp_slub_nr_cpus(); u++) {
		hp_slub_pcs_t *c = unit_pcs(s, u);

		if (c->main != &bootstrap_sheaf) {
			flush_sheaf(s, c->main);
			free_empty_sheaf(c->main);
			c->main = &bootstrap_sheaf;
			sstat(c, HP_SHEAF_STAT_FLUSH);
		}
		if (c->spare) {
			flush_sheaf(s, c->spare);
			free_empty_sheaf(c->spare);
			c->spare = NULL;
		}
	}
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
		hp_node_barn_t *b = &s->barn[nid];

		pthread_mutex_lock(&b->lock);
		while ((sh = barn_take(&b->sheaves_full, &b->nr_full)) != NULL) {
			flush_sheaf(s, sh);
			free_empty_sheaf(sh);
		}
		while ((sh = barn_take(&b->sheaves_empty, &b->nr_empty)) != NULL)
			free_empty_sheaf(sh);
		pthread_mutex_unlock(&b->lock);
	}
}

/* fork: every unit's pcs lock (pinned units excepted: a pinned thread must
 * not allocate across a fork), then the barn lock. A fast path between
 * its lock test and its commit when another thread takes the lock here
 * only finishes a consistent one-store update: the holder here changes
 * nothing. */
void sheaves_fork_prepare(hp_kmem_cache_t *s)
{
	int first = (s->hot.path & 3u) == HP_SLUB_PATH_PINNED ? hp_slub_nr_cpus() : 0;

	for (int u = first; u <= hp_slub_nr_cpus(); u++) {
		hp_slub_pcs_t *c = unit_pcs(s, u);

		for (unsigned k = 0; !hp_slub_pcs_trylock_(c); k++)
			if (k > 64)
				sched_yield();
	}
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++)
		pthread_mutex_lock(&s->barn[nid].lock);
}

void sheaves_fork_release(hp_kmem_cache_t *s, int child)
{
	int first = (s->hot.path & 3u) == HP_SLUB_PATH_PINNED ? hp_slub_nr_cpus() : 0;

	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
		if (child)
			pthread_mutex_init(&s->barn[nid].lock, NULL);
		else
			pthread_mutex_unlock(&s->barn[nid].lock);
	}
	for (int u = first; u <= hp_slub_nr_cpus(); u++)
		hp_slub_pcs_unlock_(unit_pcs(s, u));
}

/* ------------------------------------------------------------------ */
/* The invariant checker (tests)                                       */
/* ------------------------------------------------------------------ */

typedef struct check {
	hp_kmem_cache_t *s;
	long bad;
	char *err;
	size_t errlen;
	uintptr_t *objs;
	size_t nobjs, cap;
} check_t;

static void fail(check_t *k, const char *what, uint64_t a, uint64_t b)
{
	hp_fmt_t f = { k->err, k->errlen, 0 };

	if (!k->bad++ && k->err && k->errlen) {
		fmt_str(&f, k->s->name);
		fmt_str(&f, ": ");
		fmt_str(&f, what);
		fmt_str(&f, " (");
		fmt_u(&f, a, 0);
		fmt_str(&f, ", ");
		fmt_u(&f, b, 0);
		fmt_str(&f, ")");
		fmt_end(&f);
	}
}

/* An object pointer of a sheaf: a slab object start of this cache. */
static void check_object(check_t *k, void *o)
{
	hp_slab_t *slab = slub_virt_to_slab(o);
	uintptr_t off;

	if (!slab || slab->cache != k->s) {
		fail(k, "object in a sheaf is not in a slab of this cache", (uintptr_t)o, 0);
		return;
	}
	off = (uintptr_t)o - slab->addr - k->s->red_left_pad;
	if (off % k->s->size || off / k->s->size >= CNT_OBJECTS(slab->counters))
		fail(k, "object in a sheaf is not an object start", (uintptr_t)o, off);
	if (k->nobjs < k->cap)
		k->objs[k->nobjs++] = (uintptr_t)o;
}

/* nid >= 0: every object must be of a slab of that node (a CPU's
 * sheaves and a node's barn hold that node's objects only) */
static void check_sheaf(check_t *k, const hp_slab_sheaf_t *sh, int may_bootstrap, int nid)
{
	if (sh == &bootstrap_sheaf) {
		if (!may_bootstrap)
			fail(k, "bootstrap sheaf where a real sheaf must be", 0, 0);
		if (sh->size || sh->capacity)
			fail(k, "bootstrap sheaf written", sh->size, sh->capacity);
		return;
	}
	if (sh->cache != k->s || sh->capacity != k->s->sheaf_capacity)
		fail(k, "sheaf of another cache or capacity", sh->capacity, k->s->sheaf_capacity);
	if (sh->size > sh->capacity) {
		fail(k, "sheaf size above capacity", sh->size, sh->capacity);
		return;
	}
	for (unsigned i = 0; i < sh->size; i++) {
		hp_slab_t *slab;

		check_object(k, sh->objects[i]);
		slab = slub_virt_to_slab(sh->objects[i]);
		if (nid >= 0 && slab && slab->nid != (unsigned)nid)
			fail(k, "object of another node in a sheaf (object's node, sheaf's node)", slab->nid,
			     (uint64_t)nid);
	}
}

static void sort_words(uintptr_t *a, size_t n)   /* shell sort: no malloc, no recursion */
{
	for (size_t gap = n / 2; gap; gap /= 2)
		for (size_t i = gap; i < n; i++) {
			uintptr_t v = a[i];
			size_t j = i;

			for (; j >= gap && a[j - gap] > v; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
}

static int in_sorted(const uintptr_t *a, size_t n, uintptr_t v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo] == v;
}

long hp_kmem_cache_sheaves_check(hp_kmem_cache_t *s, long live, hp_sheaves_info_t *out, char *err, size_t errlen)
{
	check_t k = { .s = s, .err = err, .errlen = errlen };
	hp_sheaves_info_t info;
	unsigned long partial_free = 0, in_pcs = 0, in_barn = 0, in_rcu = 0, nr_partial = 0, total_objects = 0;
	unsigned nf = 0, ne = 0;
	int ncpu = hp_slub_nr_cpus();
	size_t bytes;

	memset(&info, 0, sizeof info);
	if (err && errlen)
		err[0] = '\0';
	if (!sheaves_cache(s)) {
		fail(&k, "not a cache of generation `sheaves` (cpu-slab, or a slab_debug cache)", 0, 0);
		if (out)
			*out = info;
		return -1;
	}
	k.cap = (size_t)(ncpu + 1) * 3 * s->sheaf_capacity +
		(size_t)(HP_SLAB_SHEAVES_MAX_FULL + 1) * s->sheaf_capacity;
	bytes = k.cap * sizeof(uintptr_t);
	k.objs = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k.objs == MAP_FAILED) {
		fail(&k, "cannot map scratch memory for the check", bytes, 0);
		return k.bad;
	}
	for (int u = 0; u <= ncpu; u++) {
		hp_slub_pcs_t *c = unit_pcs(s, u);
		int unid = u < ncpu ? (int)slub_unit_node(s, c) : -1;   /* the shared unit: any node */

		if (__atomic_load_n(&c->lock, __ATOMIC_ACQUIRE))
			fail(&k, "pcs lock held while quiescent (unit, lock)", (uint64_t)u, c->lock);
		if (!c->main) {
			fail(&k, "pcs main is NULL (unit)", (uint64_t)u, 0);
			continue;
		}
		check_sheaf(&k, c->main, 1, unid);
		in_pcs += c->main->size;
		if (c->spare) {
			check_sheaf(&k, c->spare, 0, unid);
			in_pcs += c->spare->size;
		}
		for (int i = 0; i < HP_SHEAF_NR_STATS; i++)
			info.sstat[i] += c->sstat[i];
		if (s->rcu_free && s->rcu_free[(size_t)u * RCU_FREE_STRIDE]) {
			const hp_slab_sheaf_t *r = s->rcu_free[(size_t)u * RCU_FREE_STRIDE];

			check_sheaf(&k, r, 0, unid);
			if (r->size >= r->capacity)
				fail(&k, "full rcu_free sheaf left on its CPU (unit, size)", (uint64_t)u, r->size);
			in_rcu += r->size;
		}
	}
	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
	hp_node_barn_t *b = &s->barn[nid];
	unsigned bf = 0, be = 0;

	pthread_mutex_lock(&b->lock);
	for (hp_list_t *l = b->sheaves_full.next; l != &b->sheaves_full; l = l->next) {
		hp_slab_sheaf_t *sh = hp_list_entry(l, hp_slab_sheaf_t, barn_list);

		check_sheaf(&k, sh, 0, (int)nid);
		if (sh->size != sh->capacity)
			fail(&k, "barn full sheaf not full (size, capacity)", sh->size, sh->capacity);
		in_barn += sh->size;
		bf++;
	}
	for (hp_list_t *l = b->sheaves_empty.next; l != &b->sheaves_empty; l = l->next) {
		hp_slab_sheaf_t *sh = hp_list_entry(l, hp_slab_sheaf_t, barn_list);

		check_sheaf(&k, sh, 0, -1);
		if (sh->size)
			fail(&k, "barn empty sheaf not empty (size)", sh->size, 0);
		be++;
	}
	if (bf != b->nr_full || be != b->nr_empty)
		fail(&k, "barn counts do not match its lists (nr_full, listed)", b->nr_full, bf);
	if (bf > HP_SLAB_SHEAVES_MAX_FULL || be > HP_SLAB_SHEAVES_MAX_EMPTY)
		fail(&k, "barn over its limits (full, empty)", bf, be);
	if (nid >= slub_nr_nodes && (bf || be))
		fail(&k, "barn of a node beyond nr_node_ids holds sheaves (node, sheaves)", nid, bf + be);
	pthread_mutex_unlock(&b->lock);
	nf += bf;
	ne += be;
	}

	sort_words(k.objs, k.nobjs);
	for (size_t i = 1; i < k.nobjs; i++)
		if (k.objs[i] == k.objs[i - 1])
			fail(&k, "object in two sheaf slots (address)", k.objs[i], 0);

	for (unsigned nid = 0; nid < HP_SLUB_MAX_NODES; nid++) {
	hp_kmem_cache_node_t *n = &s->node[nid];
	unsigned long np = 0;

	slub_lock_node(n);
	for (hp_list_t *l = n->partial.next; l != &n->partial; l = l->next) {
		hp_slab_t *slab = slab_of_list(l);
		uint64_t cnt = slab->counters;
		unsigned nfree = 0, expect = CNT_OBJECTS(cnt) - CNT_INUSE(cnt);

		np++;
		if (slab->nid != nid)
			fail(&k, "slab on another node's partial list (slab's node, list's node)", slab->nid, nid);
		if (CNT_FROZEN(cnt))
			fail(&k, "frozen slab in generation sheaves (slab)", slab->addr, 0);
		for (void *p = slab->freelist; p && nfree <= expect; p = fp_get(s, p)) {
			nfree++;
			if ((uintptr_t)p - slab->addr >= OO_BYTES(slab->order))
				fail(&k, "slab freelist leaves its slab (slab, object)", slab->addr, (uintptr_t)p);
			else if (in_sorted(k.objs, k.nobjs, (uintptr_t)p))
				fail(&k, "object both free on its slab and in a sheaf", (uintptr_t)p, 0);
		}
		if (nfree != expect)
			fail(&k, "slab freelist length != objects - inuse (length, expected)", nfree, expect);
		partial_free += expect;
	}
	if (np != n->nr_partial)
		fail(&k, "nr_partial does not match the list (nr_partial, listed)", n->nr_partial, np);
	slub_unlock_node(n);
	nr_partial += np;
	info.nr_slabs += (unsigned long)n->nr_slabs;
	total_objects += (unsigned long)n->total_objects;
	}

	info.capacity = s->sheaf_capacity;
	info.in_pcs = in_pcs;
	info.in_barn = in_barn;
	info.in_rcu = in_rcu;
	info.barn_full = nf;
	info.barn_empty = ne;
	info.nr_partial = nr_partial;
	info.slab_inuse = total_objects - partial_free;
	if (live >= 0 && info.slab_inuse != in_pcs + in_barn + in_rcu + (unsigned long)live)
		fail(&k, "objects not conserved: in use on slabs != in sheaves + held by the caller (in use, sheaves+held)",
		     info.slab_inuse, in_pcs + in_barn + in_rcu + (unsigned long)live);
	munmap(k.objs, bytes);
	if (out)
		*out = info;
	return k.bad;
}
