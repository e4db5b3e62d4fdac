/* slub.h — a user-space model of Linux's SLUB slab allocator (mm/slub.c) over impl/buddy.
 *
 * Kernel version followed: Linux 6.6 (LTS). Where later kernels changed a
 * rule (6.7 reworked calculate_order(), 6.8 stopped freezing per-CPU
 * partial slabs, 6.8 renamed slub_debug to slab_debug), this file keeps
 * 6.6's behaviour and only borrows the newer name slab_debug. That is the
 * `cpu-slab` generation; a cache created with HP_SLAB_SHEAVES is of the
 * `sheaves` generation of 6.18/7.0 instead (section "Generation 7.0"
 * below, impl/slub/sheaves.c), over the same slab layer.
 *
 *   here                              kernel (6.6)
 *   --------------------------------  ----------------------------------------
 *   hp_kmem_cache_t                   struct kmem_cache (one node)
 *   hp_kmem_cache_cpu_t               struct kmem_cache_cpu: freelist + tid,
 *                                     slab, partial; one per CPU per cache
 *   per-CPU units (64 KiB a CPU)      the percpu area: a cache's
 *                                     kmem_cache_cpu sits at the same offset
 *                                     (s->cpu_off, the kernel's s->cpu_slab)
 *                                     in every CPU's unit
 *   hp_slab_t                         struct slab (an overlay on struct page
 *                                     there; here a descriptor array parallel
 *                                     to buddy's mem_map, reached through
 *                                     hp_page_t.priv)
 *   slab order                        calculate_order()/calc_slab_order()
 *                                     with slub_min_objects, slub_min_order,
 *                                     slub_max_order (3), MAX_OBJS_PER_PAGE
 *   min_partial, cpu_partial          set_min_partial(), set_cpu_partial()
 *   slow paths                        ___slab_alloc, get_partial_node,
 *                                     acquire_slab, get_freelist,
 *                                     deactivate_slab, put_cpu_partial,
 *                                     __unfreeze_partials, __slab_free,
 *                                     discard_slab
 *   bulk                              kmem_cache_alloc_bulk,
 *                                     kmem_cache_free_bulk with
 *                                     build_detached_freelist
 *   hp_kmalloc / hp_kfree / hp_ksize  __kmalloc -> kmalloc_slab()
 *                                     (size_index[] for <= 192, fls above;
 *                                     8..8192 with 96 and 192) ->
 *                                     slab_alloc_node; __kmalloc_large_node
 *                                     for > 8192; kfree -> virt_to_slab
 *                                     (address -> pfn -> page ->
 *                                     compound_head -> slab) -> slab_cache
 *                                     -> do_slab_free; ksize/__ksize
 *   hp_kmem_cache_alloc_ool/_free_ool kmem_cache_alloc / kmem_cache_free as
 *                                     exported (out of line)
 *   HP_SLAB_FREELIST_HARDENED         CONFIG_SLAB_FREELIST_HARDENED
 *   slab_debug F Z P U                SLAB_CONSISTENCY_CHECKS, SLAB_RED_ZONE,
 *                                     SLAB_POISON, SLAB_STORE_USER
 *   hp_slub_slabinfo()                /proc/slabinfo (version 2.1)
 *
 * Free pointers. Every free object holds the address of the next free one
 * inside itself, at s->offset: the middle of the object (rounded down to a
 * word) unless the object must stay intact while free (a constructor,
 * poisoning, or a red zone on an object smaller than a word), in which
 * case just past the object. With HP_SLAB_FREELIST_HARDENED the stored
 * word is the pointer XORed with the cache's random key and with the
 * byte-swapped address of the word itself, so a leaked or overwritten free
 * pointer is useless without both the key and the location. Hardened
 * caches take an out-of-line per-CPU path (the inline fast paths stay
 * free of the encoding; see hp_slub_get_fp_).
 *
 * The per-CPU fast path. The kernel pops and pushes objects on the current
 * CPU's c->freelist without disabling preemption: it reads c->tid, then
 * c->freelist, and publishes the new head with this_cpu_cmpxchg_double
 * (this_cpu_try_cmpxchg128 in 6.6) on the pair (freelist, tid); a thread
 * preempted or migrated in between sees its tid changed and retries. User
 * space cannot run code on "this CPU" atomically, so a cache picks one of
 * three stand-ins at creation ((c), HP_SLAB_PCPU_RSEQ, the closest to the
 * kernel's unlocked per-CPU cmpxchg, is described at its fast path below):
 *
 *  (a) pinned (HP_SLAB_PCPU_PINNED): the calling thread is bound to one CPU
 *      and has said so with hp_slub_set_cpu(); only that thread uses that
 *      CPU's slots of pinned caches. The fast path is plain loads and
 *      stores between compiler barriers (preempt_disable()'s barrier); the
 *      fast path leaves the tid alone, since only a cmpxchg would check it.
 *      Its cost is that of the kernel's path minus the cmpxchg.
 *  (b) cmpxchg (the default): any thread, pinned or not. The slot is found
 *      at run time from rseq's cpu_id (glibc registers rseq; sched_getcpu()
 *      when it did not), and the pair (freelist, tid) is replaced with a
 *      lock-prefixed cmpxchg16b (-mcx16, __sync on unsigned __int128). The
 *      slow paths hold the slot by setting bit 0 of tid (no fast path can
 *      then succeed on it), which stands in for local_lock/preemption off.
 *
 *  Which is closer to the kernel: (b) in structure, (a) in cost. (b) is the
 *  kernel's algorithm step for step - tid read, freelist read, a
 *  double-width compare-and-swap that fails when the thread was preempted
 *  or moved - and it is correct for threads that move. But the kernel's
 *  cmpxchg16b has no lock prefix (a per-CPU operation only has to be atomic
 *  against interrupts on its own CPU), while here another CPU may really
 *  be using the slot, so the instruction must be locked: some 20 cycles a
 *  pop or push that the kernel does not pay. (a) pays nothing for
 *  atomicity, which is what the kernel's unlocked cmpxchg16b nearly costs,
 *  but it is only correct because the threads cannot move. Both are
 *  measured by the `slub` suite (variants impl-pinned and impl-cmpxchg).
 *
 * Slabs come from impl/buddy (HP_GFP_COMP blocks; the head page's priv
 * points at the slab descriptor and owner is HP_SLUB_OWNER_SLAB), so
 * hp_kfree(p) finds the cache from the pointer alone: virt_to_page,
 * compound_head, page->priv, slab->cache. kmalloc sizes above 8192 are
 * buddy blocks of get_order(size) (owner HP_SLUB_OWNER_LARGE).
 *
 * Debugging (slab_debug letters, per cache or for all caches through
 * hp_slub_config_t.slab_debug / the HP_SLAB_DEBUG environment variable):
 *   F  consistency checks on alloc and free (object pointer valid, not
 *      already free, red zones, poison, padding and free pointer intact).
 *      Z, P and U only write their patterns; F checks them, as in the kernel.
 *   Z  red zones: a word (or more, for alignment) left of each object and
 *      the bytes right of it up to the next word, 0xbb while the object is
 *      free and 0xcc while in use; for kmalloc caches with U the bytes past
 *      the requested size are red zone too ("kmalloc Redzone").
 *   P  poison: free objects filled 0x6b with a final 0xa5, new slab memory
 *      and padding 0x5a.
 *   U  owner tracking: the allocating and the freeing call site, thread id,
 *      CPU and time of each object.
 *  Each fault found is reported once through the report hook (default: a
 *  kernel-style message written to stderr with write(2)), counted, and
 *  repaired (bytes restored, a broken freelist rebuilt from the red zones,
 *  a bad or double free ignored) so the program goes on. Unlike the kernel,
 *  which leaks an object whose checks fail at free, an object whose only
 *  fault was an overwritten red zone or poison is freed once the bytes are
 *  restored. Debug caches never use the per-CPU fast path: every alloc and
 *  free takes the node's list lock, as the kernel's debug caches do.
 *
 * Thread safety: everything is thread-safe except where a comment says
 * "quiescent" (no concurrent users of the cache) and the pinned fast path,
 * which is for threads that called hp_slub_set_cpu(). Nothing here calls
 * malloc, calloc, realloc or free, directly or through stdio: memory comes
 * from mmap (the buddy arena, the per-CPU area) and from this allocator's
 * own "kmem_cache" cache, and reports are formatted by hand and written
 * with write(2); so this library can be the core of a malloc.
 *
 * Kernel-config stand-in (per cache: HP_SLAB_KCONFIG_DISTRO, default
 * `minimal`; kmalloc: one set per stand-in and config, hp_kmalloc_set):
 *   minimal  what a kernel with every option off runs: slab_alloc_node()'s
 *            and do_slab_free()'s fast paths and nothing else (the inline
 *            functions; out of line hp_kmalloc/hp_kfree/_ool).
 *   distro   out-of-line entry (__kmalloc / kmem_cache_alloc), plus, as the
 *            branches a distro kernel executes when nothing is enabled:
 *            slab_pre_alloc_hook() (a call to should_failslab(), noinline
 *            in 6.6; memcg_slab_pre_alloc_hook()'s memcg_kmem_online and
 *            SLAB_ACCOUNT tests), kfence_alloc()'s key and allocation-gate
 *            read, CONFIG_SLAB_FREELIST_HARDENED get/set_freepointer()
 *            (ptr ^ s->random ^ swab(&ptr), set_freepointer()'s
 *            BUG_ON(object == fp)), prefetch_freepointer(),
 *            maybe_wipe_obj_freeptr() and slab_post_alloc_hook()'s
 *            init-on-alloc/free keys, slab_free_hook()'s init_on_free, and
 *            cache_from_obj() in kmem_cache_free (virt_to_cache(x) == s).
 *            A static key costs the kernel a nop and the stand-in a load,
 *            test and branch. Distro caches must not be given to the
 *            inline _pinned/_cmpxchg functions (they do not decode); the
 *            generic hp_kmem_cache_alloc/free send them out of line.
 *
 * Costs (gcc 12 -O2, x86_64, callgrind instructions; README "The slub
 * suite" has the measured figures): a pinned inline kmem_cache_alloc +
 * kmem_cache_free pair is 20 instructions with no atomic (~2 ns); an
 * inline cmpxchg pair adds two locked cmpxchg16b and two rseq cpu_id
 * reads (~12 ns on a quiet host; on a guest where cmpxchg16b itself costs
 * ~100 ns, as the 2-vCPU KVM guest of docs/suites/slub.md, 50-130 ns; the
 * rseq stand-in's unlocked cmpxchg16b is no cheaper there). Out of line,
 * minimal: hp_kmalloc_pinned(64) is 17 instructions (size_index[] or fls,
 * the set's cache, the pinned pop) and hp_kfree 22 (page descriptor ->
 * slab, its copy of the cache's pin_off and free pointer offset, c->slab
 * compare, push): 39 a pair plus the caller's call and loop (6: 45 in
 * slub/kmalloc_pair/impl-pinned/64); distro pinned about 128 a
 * pair (hooks, the should_failslab call, hardened encoding, a second
 * dispatch in kfree). The cmpxchg and rseq stand-ins add their atomics
 * (under valgrind, which has no rseq, the cpu id costs a getcpu call);
 * a free to a slab other than this CPU's is a cmpxchg16b on the slab;
 * other slow paths are one or two hundred instructions; a new slab costs
 * a buddy allocation plus a write to every object.
 *
 * Hooks the lock-holding code calls (the report hook, constructors) must
 * not allocate from or free to the cache concerned.
 */
#ifndef HP_SLUB_H
#define HP_SLUB_H

#include <stddef.h>
#include <stdint.h>

#include "buddy.h"
#include "hp_compiler.h"
#include "hp_cpu.h"
#include "hp_list.h"

/* The cmpxchg stand-in inlines a 16-byte compare-and-swap: with -mcx16
 * gcc and clang emit lock cmpxchg16b for __sync on unsigned __int128 (no
 * libatomic call, so it is lock-free); meson checks that it links, and
 * hp_slub_init() that the CPU has the instruction (CPUID.1:ECX.CX16). */
#if !defined(__GCC_HAVE_SYNC_COMPARE_AND_SWAP_16)
#error "impl/slub needs a 16-byte compare-and-swap: build with -mcx16 (x86_64), which hp_slub_dep adds"
#endif

/* ------------------------------------------------------------------ */
/* Constants                                                           */
/* ------------------------------------------------------------------ */

#define HP_SLUB_MAX_CPUS 1024         /* CPU ids >= this are not supported */
#define HP_SLUB_MAX_NODES 4           /* emulated NUMA nodes (hp_slub_set_nodes) */
#define HP_NUMA_NO_NODE (-1)          /* NUMA_NO_NODE */
#define HP_SLUB_PCPU_UNIT_SHIFT 16    /* per-CPU unit: 64 KiB a CPU */
#define HP_SLUB_TID_STEP ((uint64_t)2 * HP_SLUB_MAX_CPUS) /* TID_STEP: the cpu id lives in the low bits, bit 0 = slot held */
/* What next_tid() adds. -DHP_SLUB_MUTATE_NO_TID (a test-only build, see
 * tests/meson.build: slub_tid_mutant) never advances the tid, which must
 * make tests/test_slub_tid.c fail: that is how the test proves it tests it. */
#ifdef HP_SLUB_MUTATE_NO_TID
#define HP_SLUB_TID_ADVANCE ((uint64_t)0)
#else
#define HP_SLUB_TID_ADVANCE HP_SLUB_TID_STEP
#endif
#define HP_KMALLOC_MIN_SIZE 8
#define HP_KMALLOC_MAX_CACHE_SIZE 8192 /* KMALLOC_MAX_CACHE_SIZE: PAGE_SIZE << 1 */
#define HP_KMALLOC_SHIFT_HIGH 13
#define HP_KMALLOC_NR_CACHES 14        /* index 0 unused, 1 = 96, 2 = 192, 3..13 = 2^i */
/* kmalloc sets (the kernel has one, per kmalloc_type(); here one per
 * fast-path stand-in and config): hp_kmalloc_set(set, size). */
#define HP_KMALLOC_SET_CMPXCHG 0       /* hp_kmalloc: stand-in (b), minimal */
#define HP_KMALLOC_SET_PINNED 1        /* hp_kmalloc_pinned: stand-in (a), minimal */
#define HP_KMALLOC_SET_RSEQ 2          /* stand-in (c), minimal */
#define HP_KMALLOC_SET_DISTRO 3        /* + one of the above: the distro config */
#define HP_KMALLOC_SET_SHEAVES 6       /* generation `sheaves`, rseq stand-in (spinlock without rseq) */
#define HP_KMALLOC_SET_SHEAVES_PINNED 7 /* generation `sheaves`, pinned stand-in */
#define HP_KMALLOC_NR_SETS 8
#define HP_SLUB_MAX_ALIGN 8192         /* largest align kmem_cache_create accepts */
#define HP_ZERO_SIZE_PTR ((void *)16)  /* ZERO_SIZE_PTR: what kmalloc(0) returns */

/* Byte patterns (include/linux/poison.h) */
#define HP_SLUB_RED_INACTIVE 0xbb      /* SLUB_RED_INACTIVE */
#define HP_SLUB_RED_ACTIVE 0xcc        /* SLUB_RED_ACTIVE */
#define HP_POISON_INUSE 0x5a           /* new slab memory, padding */
#define HP_POISON_FREE 0x6b            /* a free object */
#define HP_POISON_END 0xa5             /* last byte of a poisoned object */

/* Owner tags in hp_page_t.owner of a block this allocator took from buddy. */
#define HP_SLUB_OWNER_SLAB 0x534c4142u  /* "SLAB": a slab, priv = its hp_slab_t */
#define HP_SLUB_OWNER_LARGE 0x4b4d4c47u /* "KMLG": a kmalloc() > 8192 */

/* kmem_cache_create flags (the kernel's SLAB_* subset that means something here) */
enum {
	HP_SLAB_CONSISTENCY_CHECKS = 1u << 0, /* F */
	HP_SLAB_RED_ZONE = 1u << 1,           /* Z */
	HP_SLAB_POISON = 1u << 2,             /* P */
	HP_SLAB_STORE_USER = 1u << 3,         /* U */
	HP_SLAB_HWCACHE_ALIGN = 1u << 4,      /* align objects to 64 bytes */
	HP_SLAB_FREELIST_HARDENED = 1u << 5,  /* XOR-encoded free pointers */
	HP_SLAB_PCPU_PINNED = 1u << 6,        /* fast path stand-in (a); default (b) */
	HP_SLAB_NO_CPU_PARTIAL = 1u << 7,     /* no per-CPU partial slabs (CONFIG_SLUB_CPU_PARTIAL=n) */
	HP_SLAB_KMALLOC = 1u << 8,            /* a kmalloc cache (set by kmalloc itself) */
	HP_SLAB_KCONFIG_DISTRO = 1u << 9,     /* kernel-config stand-in `distro` (implies HARDENED); default `minimal` */
	HP_SLAB_PCPU_RSEQ = 1u << 10,         /* fast path stand-in (c): rseq critical section + unlocked cmpxchg16b */
	HP_SLAB_SHEAVES = 1u << 11,           /* generation `sheaves` (7.0): per-CPU sheaves + barn; default `cpu-slab` (6.6) */
	HP_SLAB_DEBUG_ALL = HP_SLAB_CONSISTENCY_CHECKS | HP_SLAB_RED_ZONE | HP_SLAB_POISON | HP_SLAB_STORE_USER,
};

/* ------------------------------------------------------------------ */
/* Global set-up                                                       */
/* ------------------------------------------------------------------ */

/* Zero-initialise, then set what differs from the defaults. */
typedef struct hp_slub_config {
	size_t arena_bytes;       /* buddy arena; 0 = $HP_SLUB_ARENA (bytes, K/M/G suffix) or 1 GiB */
	const char *slab_debug;   /* boot parameter syntax: "FZPU" for every cache,
	                           * "FZ,kmalloc-64,dentry*" for the named ones (a trailing
	                           * '*' matches a prefix), "-" or "" for none; NULL =
	                           * $HP_SLAB_DEBUG or none */
	unsigned slub_min_objects;/* 0 = 4 * (fls(present CPUs) + 1) */
	unsigned slub_min_order;  /* 0 */
	unsigned slub_max_order;  /* 0 = PAGE_ALLOC_COSTLY_ORDER (3); at most HP_MAX_ORDER */
	int hardened;             /* 1: every cache gets HP_SLAB_FREELIST_HARDENED */
	unsigned buddy_debug;     /* HP_BUDDY_DEBUG_* for the arena */
	uint64_t seed;            /* 0 = random keys from getrandom(); else keys derived from it */
} hp_slub_config_t;

/* Sets the allocator up explicitly (before any other call); -1 with a
 * reason when it is already set up or the configuration is bad. */
int hp_slub_init(const hp_slub_config_t *cfg, char *err, size_t errlen);
/* Sets it up with the defaults (and the environment) if nobody has; safe
 * to call from any thread at any time, including the first malloc of a
 * process: it never calls malloc. 0, or -1 when the arena cannot be
 * mapped (then every allocation returns NULL). */
int hp_slub_ensure_init(void);
/* The buddy zone slabs and large kmallocs come from (NULL before init). */
hp_buddy_zone_t *hp_slub_zone(void);
/* Possible CPU ids are 0 .. hp_slub_nr_cpus() - 1 (nr_cpu_ids). */
int hp_slub_nr_cpus(void);
/* Non-zero when p lies in the allocator's arena (it may still be free or
 * not an object start). */
int hp_slub_contains(const void *p);

/* Pinned stand-in: the calling thread declares that it is bound to `cpu`
 * and is the only user of that CPU's slots of HP_SLAB_PCPU_PINNED caches
 * (the runner binds bench threads before run()). Checks that the thread's
 * affinity is exactly that CPU. 0, or -1 (cpu out of range, not bound to
 * it). hp_slub_set_cpu(-1) forgets it. Calling the inline pinned functions
 * without it is undefined; the generic ones then take a locked path. */
int hp_slub_set_cpu(int cpu);
int hp_slub_get_cpu(void);    /* the declared CPU, -1 if none */

/* fork() support, for pthread_atfork(prepare, parent, child) (what
 * libhotpath-malloc.so registers). prepare takes slab_mutex, holds every
 * per-CPU slot a thread that may move can reach (each slot of every
 * default cache, the shared unit of pinned ones: the tid "held" bit set
 * and the freelist put aside in fork_fl), then every node's list_lock,
 * then the zone's locks (hp_buddy_fork_prepare): slub before buddy, the
 * order the slow paths take them in, so no thread is half-way through a
 * slow path when fork() copies the memory. parent puts all of it back;
 * child does the same in the child's only thread, re-initialising the
 * mutexes and spinlock rather than unlocking them, so the child may
 * allocate and free at once. No-ops before set-up. Pinned CPU units take
 * no lock: a pinned thread must not be allocating across a fork. */
void hp_slub_fork_prepare(void);
void hp_slub_fork_parent(void);
void hp_slub_fork_child(void);

/* ------------------------------------------------------------------ */
/* Types the inline fast paths need                                    */
/* ------------------------------------------------------------------ */

typedef unsigned __int128 hp_u128_t;
typedef uintptr_t __attribute__((may_alias)) hp_slub_word_t;
/* a free pointer inside an object: the user wrote that memory with other types */
typedef void *__attribute__((may_alias)) hp_slub_fp_t;

struct hp_slab;

/* struct kmem_cache_cpu (6.6). The first 16 bytes are one cmpxchg16b
 * operand. slab_addr/slab_bytes describe c->slab so that the free fast
 * path's "slab == c->slab" is a range test instead of a page lookup. */
typedef struct hp_kmem_cache_cpu {
	union {
		struct {
			void *freelist;       /* next free object of the cpu slab (lockless list) */
			uint64_t tid;         /* transaction id; bit 0 set: a slow path holds the slot */
		};
		hp_u128_t freelist_tid;
	};
	uintptr_t slab_addr;              /* first byte of c->slab, 0 = none */
	uintptr_t slab_bytes;             /* its length (PAGE_SIZE << order); 0 = none, or a hardened cache */
	struct hp_slab *slab;             /* the cpu slab, frozen */
	struct hp_slab *partial;          /* per-CPU partial slabs, frozen, linked by next */
	void *hfreelist;                  /* a hardened cache's cpu freelist (freelist stays NULL) */
	void *fork_fl;                    /* the freelist hp_slub_fork_prepare() took while it holds the slot */
	uint64_t stat[24];                /* HP_SLUB_STAT_*, this CPU's share */
} __attribute__((aligned(64))) hp_kmem_cache_cpu_t;

/* cmpxchg16b needs its 16-byte operand 16-byte aligned (else #GP), and a
 * locked one that straddled two cache lines would be a split lock (on
 * KVM with split-lock detection a trap per operation): slots start on a
 * cache line of a page-aligned unit, and (freelist, tid) is their first
 * 16 bytes. tests/test_slub_rseq_abi.c checks the run-time addresses. */
_Static_assert(offsetof(hp_kmem_cache_cpu_t, freelist_tid) == 0, "(freelist, tid) opens the slot");
_Static_assert(_Alignof(hp_kmem_cache_cpu_t) == 64 && sizeof(hp_kmem_cache_cpu_t) % 64 == 0,
	       "each slot starts on its own cache line");

/* The fields of struct kmem_cache the inline fast paths read; the rest of
 * the cache is private (slub.c). */
typedef struct hp_kmem_cache_hot {
	uintptr_t cpu_off;        /* s->cpu_slab: this cache's offset in a per-CPU unit */
	uint32_t flags;           /* HP_SLAB_* */
	uint32_t offset;          /* free pointer offset in an object */
	uintptr_t random;         /* s->random: the hardening key */
	uint32_t path;            /* HP_SLUB_PATH_*: which out-of-line fast path serves this cache */
	uint32_t pin_off;         /* cpu_off for a pinned `minimal` cache, else 0: chunk 0 of every
	                           * unit is never allocated and stays zero (freelist and slab NULL),
	                           * so hp_kfree's pinned fast path needs no test of path */
} hp_kmem_cache_hot_t;

/* hot.path: the stand-in (low 2 bits) and the config (bit 2), or SLOW for
 * caches that never take a per-CPU fast path (slab_debug caches, and
 * HP_SLAB_FREELIST_HARDENED caches of the `minimal` config, whose cpu
 * freelist is hidden in c->hfreelist). */
enum {
	HP_SLUB_PATH_CMPXCHG = 0, HP_SLUB_PATH_PINNED = 1, HP_SLUB_PATH_RSEQ = 2,
	HP_SLUB_PATH_DISTRO = 4,  /* | one of the three */
	HP_SLUB_PATH_SLOW = 8,
	HP_SLUB_PATH_SHEAVES = 16, /* | CMPXCHG (the per-CPU spinlock), PINNED or RSEQ: the sheaves lock stand-in */
	HP_SLUB_PATH_NUMA = 32,    /* | SHEAVES | a stand-in: created with more than one emulated node, so the
	                            * free fast path tests the slab's node (slab_free(), 6.18/7.0) */
};

typedef struct hp_kmem_cache hp_kmem_cache_t;

/* Set once at init (the per-CPU area) and per thread (pinned CPU unit).
 * Not for direct use. */
extern char *hp_slub_pcpu_base_;
extern __thread char *hp_slub_this_unit_ __attribute__((tls_model("initial-exec")));

/* ------------------------------------------------------------------ */
/* Caches                                                              */
/* ------------------------------------------------------------------ */

/* kmem_cache_create(name, size, align, flags, ctor). size 1 .. about 4 MiB
 * (the object with its debug metadata must fit an order-HP_MAX_ORDER
 * slab); align 0 or a power of two <= HP_SLUB_MAX_ALIGN; name non-empty,
 * < 48 characters. NULL with the reason in err on bad input or when out of
 * memory. The slab_debug configuration adds its flags to matching names. */
hp_kmem_cache_t *hp_kmem_cache_create(const char *name, size_t size, size_t align, unsigned flags,
				      void (*ctor)(void *), char *err, size_t errlen);
/* kmem_cache_destroy: flushes the per-CPU slabs and gives every slab back
 * to buddy. Objects still allocated are reported (one "Objects remaining
 * in <name> on __kmem_cache_shutdown()" per slab, with the objects listed)
 * and the cache is then kept alive as the kernel keeps it: -1, and the
 * caller may free them and destroy again. 0 when destroyed. NULL: 0.
 * The kmalloc caches and "kmem_cache" are never destroyed (-1).
 * Quiescent. */
int hp_kmem_cache_destroy(hp_kmem_cache_t *s);
/* kmem_cache_shrink: flush the per-CPU slabs and free empty slabs beyond
 * none. Quiescent for pinned caches. Returns slabs freed. */
int hp_kmem_cache_shrink(hp_kmem_cache_t *s);

/* Out-of-line entry points of the slow paths (used by the inlines).
 * caller 0: the slow path records its own return address, which is the
 * call site the inline fast path was expanded into (_RET_IP_). */
void *hp_kmem_cache_alloc_slow(hp_kmem_cache_t *s, unsigned long caller);
void hp_kmem_cache_free_slow(hp_kmem_cache_t *s, void *x, unsigned long caller);
#define HP_SLUB_THIS_IP 0UL

#define hp_slub_barrier_() __asm__ volatile("" ::: "memory")

#if defined(__SANITIZE_THREAD__)
#define HP_SLUB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HP_SLUB_TSAN 1
#endif
#endif

/* ThreadSanitizer cannot see the rseq stand-in's unlocked cmpxchg16b (it is
 * inline asm), so every object handed from one thread to another through a
 * CPU slot would be reported. Under TSan only, the rseq paths tell it what
 * the slot's one-CPU ownership orders: a push or a slow path's give-back
 * releases the cache, a pop or a hold acquires it. This orders every rseq
 * operation on a cache after every earlier one, more than the slots do, so
 * TSan may miss a race between rseq operations; it reports none falsely. */
#ifdef HP_SLUB_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define hp_slub_tsan_acquire_(a) __tsan_acquire((void *)(uintptr_t)(a))
#define hp_slub_tsan_release_(a) __tsan_release((void *)(uintptr_t)(a))
#else
#define hp_slub_tsan_acquire_(a) ((void)0)
#define hp_slub_tsan_release_(a) ((void)0)
#endif

static inline const hp_kmem_cache_hot_t *hp_slub_hot_(const hp_kmem_cache_t *s)
{
	return (const hp_kmem_cache_hot_t *)(const void *)s;
}

/* get_freepointer / set_freepointer of the inline fast paths. They never
 * see a hardened cache: its cpu freelist is kept in c->hfreelist (c->freelist
 * stays NULL, so the alloc fast path goes slow) and its c->slab_bytes is 0
 * (so the free fast path goes slow), and the out-of-line paths encode and
 * decode its free pointers. The kernel's CONFIG_SLAB_FREELIST_HARDENED is
 * a build option paying its XORs inline in every cache; a per-cache flag
 * here must not cost unhardened caches a test on every operation. */
static inline void *hp_slub_get_fp_(const hp_kmem_cache_t *s, void *obj)
{
	return *(const hp_slub_fp_t *)(const void *)((const char *)obj + hp_slub_hot_(s)->offset);
}
static inline void hp_slub_set_fp_(const hp_kmem_cache_t *s, void *obj, void *fp)
{
	*(hp_slub_fp_t *)(void *)((char *)obj + hp_slub_hot_(s)->offset) = fp;
}

/* get_freepointer_safe: the object may already belong to another thread
 * that moved onto this slot; the value read is then stale and the cmpxchg
 * fails. A data race by design, hidden from ThreadSanitizer. */
#ifdef HP_SLUB_TSAN
__attribute__((noinline, unused, no_sanitize("thread"))) static
#else
static inline
#endif
void *hp_slub_get_fp_racy_(const hp_kmem_cache_t *s, void *obj)
{
	return *(const hp_slub_fp_t *)(const void *)((const char *)obj + hp_slub_hot_(s)->offset);
}

/* ------------------------------------------------------------------ */
/* Fast path (a): pinned threads, plain loads and stores               */
/* ------------------------------------------------------------------ */

static inline hp_kmem_cache_cpu_t *hp_slub_pinned_cpu_(const hp_kmem_cache_t *s)
{
	return (hp_kmem_cache_cpu_t *)(hp_slub_this_unit_ + hp_slub_hot_(s)->cpu_off);
}

/* kmem_cache_alloc for an HP_SLAB_PCPU_PINNED cache from a thread that
 * called hp_slub_set_cpu(). NULL when out of memory. The pinned fast path
 * leaves c->tid alone: the tid exists to make a cmpxchg fail after
 * preemption or migration, a pinned thread has neither, and nothing reads
 * a pinned slot's tid (the slow paths still advance it). */
static inline __attribute__((always_inline)) void *hp_kmem_cache_alloc_pinned(hp_kmem_cache_t *s)
{
	hp_kmem_cache_cpu_t *c;
	void *obj;

	hp_slub_barrier_();
	c = hp_slub_pinned_cpu_(s);
	obj = c->freelist;
	if (unlikely(!obj))
		return hp_kmem_cache_alloc_slow(s, HP_SLUB_THIS_IP);
	c->freelist = hp_slub_get_fp_(s, obj);
	hp_slub_barrier_();
	return obj;
}

/* kmem_cache_free for an HP_SLAB_PCPU_PINNED cache from a pinned thread. */
static inline __attribute__((always_inline)) void hp_kmem_cache_free_pinned(hp_kmem_cache_t *s, void *x)
{
	hp_kmem_cache_cpu_t *c;

	hp_slub_barrier_();
	c = hp_slub_pinned_cpu_(s);
	if (unlikely((uintptr_t)x - c->slab_addr >= c->slab_bytes)) {
		hp_kmem_cache_free_slow(s, x, HP_SLUB_THIS_IP);
		return;
	}
	hp_slub_set_fp_(s, x, c->freelist);
	c->freelist = x;
	hp_slub_barrier_();
}

/* ------------------------------------------------------------------ */
/* Fast path (b): any thread, slot from rseq, cmpxchg16b on (freelist, tid) */
/* ------------------------------------------------------------------ */

int hp_slub_cpu_slow_(void);

/* The CPU this thread runs on now (raw_smp_processor_id()): rseq's
 * cpu_id, which the kernel keeps current on every return to user space. */
static inline unsigned hp_slub_cur_cpu_(void)
{
#if defined(__x86_64__) && defined(HP_SLUB_HAVE_RSEQ) && HP_SLUB_HAVE_RSEQ
	int cpu = hp_cpu_rseq_id();   /* impl/include/hp_cpu.h */

	if (likely(cpu >= 0))
		return (unsigned)cpu;
#endif
	return (unsigned)hp_slub_cpu_slow_();
}

static inline hp_kmem_cache_cpu_t *hp_slub_this_cpu_(const hp_kmem_cache_t *s)
{
	return (hp_kmem_cache_cpu_t *)(hp_slub_pcpu_base_ + ((uintptr_t)hp_slub_cur_cpu_() << HP_SLUB_PCPU_UNIT_SHIFT) +
				       hp_slub_hot_(s)->cpu_off);
}

/* this_cpu_cmpxchg_double(s->cpu_slab->freelist, s->cpu_slab->tid, ...) */
static inline int hp_slub_cas_ft_(hp_kmem_cache_cpu_t *c, void *ofl, uint64_t otid, void *nfl, uint64_t ntid)
{
	hp_u128_t o = (hp_u128_t)(uintptr_t)ofl | ((hp_u128_t)otid << 64);
	hp_u128_t n = (hp_u128_t)(uintptr_t)nfl | ((hp_u128_t)ntid << 64);
	return __sync_bool_compare_and_swap(&c->freelist_tid, o, n);
}

/* The cmpxchg alloc fast path in its two halves, so that a test can stop
 * a thread between them (tests/test_slub_tid.c: the ABA case the tid is
 * for). begin is slab_alloc_node()'s reads: c, tid, c->freelist and the
 * object's free pointer (0: the freelist is empty or the slot held);
 * commit is __update_cpu_freelist_fast(): the cmpxchg16b that succeeds
 * only if (freelist, tid) are still what begin read. */
typedef struct hp_slub_txn {
	hp_kmem_cache_cpu_t *c;
	uint64_t tid;
	void *obj, *next;
} hp_slub_txn_t;

static inline __attribute__((always_inline)) int hp_slub_alloc_begin_(const hp_kmem_cache_t *s, hp_slub_txn_t *t)
{
	t->c = hp_slub_this_cpu_(s);
	t->tid = __atomic_load_n(&t->c->tid, __ATOMIC_ACQUIRE);
	t->obj = __atomic_load_n(&t->c->freelist, __ATOMIC_RELAXED);
	/* a held slot has freelist NULL, so this also sends us to the slow path */
	if (unlikely(!t->obj))
		return 0;
	t->next = hp_slub_get_fp_racy_(s, t->obj);
	return 1;
}
static inline __attribute__((always_inline)) int hp_slub_alloc_commit_(const hp_slub_txn_t *t)
{
	return hp_slub_cas_ft_(t->c, t->obj, t->tid, t->next, t->tid + HP_SLUB_TID_ADVANCE);
}

/* kmem_cache_alloc for a default (cmpxchg) cache, from any thread. */
static inline __attribute__((always_inline)) void *hp_kmem_cache_alloc_cmpxchg(hp_kmem_cache_t *s)
{
	for (;;) {
		hp_slub_txn_t t;

		if (unlikely(!hp_slub_alloc_begin_(s, &t)))
			return hp_kmem_cache_alloc_slow(s, HP_SLUB_THIS_IP);
		if (likely(hp_slub_alloc_commit_(&t)))
			return t.obj;
	}
}

/* kmem_cache_free for a default (cmpxchg) cache, from any thread. */
static inline __attribute__((always_inline)) void hp_kmem_cache_free_cmpxchg(hp_kmem_cache_t *s, void *x)
{
	for (;;) {
		hp_kmem_cache_cpu_t *c = hp_slub_this_cpu_(s);
		uint64_t tid = __atomic_load_n(&c->tid, __ATOMIC_ACQUIRE);
		void *fl;

		if (unlikely(((uintptr_t)x - __atomic_load_n(&c->slab_addr, __ATOMIC_RELAXED) >=
				       __atomic_load_n(&c->slab_bytes, __ATOMIC_RELAXED)) | (tid & 1))) {
			hp_kmem_cache_free_slow(s, x, HP_SLUB_THIS_IP);
			return;
		}
		fl = __atomic_load_n(&c->freelist, __ATOMIC_RELAXED);
		hp_slub_set_fp_(s, x, fl);
		if (likely(hp_slub_cas_ft_(c, fl, tid, x, tid + HP_SLUB_TID_ADVANCE)))
			return;
	}
}


/* ------------------------------------------------------------------ */
/* Fast path (c): rseq critical section + unlocked cmpxchg16b          */
/* ------------------------------------------------------------------ */

/* The kernel's this_cpu_try_cmpxchg128() is a cmpxchg16b WITHOUT the lock
 * prefix, %gs-relative: it addresses the slot of the CPU that executes the
 * instruction, and only that CPU ever writes it; an instruction is not
 * interrupted midway, so it is atomic against preemption, which is all a
 * per-CPU operation needs. The tid (which encodes the CPU) then makes the
 * cmpxchg fail when the thread was preempted or moved between reading
 * c->tid/c->freelist and the cmpxchg: after a move, the %gs-relative
 * cmpxchg compares the OLD CPU's tid with the NEW CPU's slot.
 *
 * User space has no %gs-relative per-CPU addressing: the slot address is
 * computed from rseq's cpu_id before the cmpxchg. Without more, a thread
 * that read cpu_id = 0 and then moved to CPU 1 would execute its cmpxchg16b
 * on CPU 0's slot FROM CPU 1, while a thread on CPU 0 may be executing its
 * own cmpxchg16b on the same slot. The tid check does not help: both read
 * the same (freelist, tid), and an unlocked cmpxchg16b is a separate read
 * and write on the bus (the SDM: without LOCK it is not atomic, and it
 * writes the destination even when the comparison fails), so the two can
 * interleave read-read-write-write and both "succeed": one object handed
 * out twice, or a free lost. So the bare stand-in is NOT safe, and the
 * fast paths below run as a real rseq critical section (struct rseq_cs,
 * an abort handler behind the RSEQ_SIG glibc registered; written here
 * after the rseq(2) ABI, modelled on librseq's x86 macros): cpu_id is read
 * inside it, and the kernel restarts it at the abort handler if the thread
 * is preempted, migrated or signalled before the commit, which is the
 * cmpxchg16b, its last instruction. A critical section therefore runs
 * start-to-commit on one CPU with no other thread of that CPU in between,
 * and only sections running on CPU k touch slot k: the unlocked
 * cmpxchg16b is atomic enough, exactly as the kernel's is.
 *
 * The slow paths: a slot is held (tid bit 0, freelist NULL) by an rseq
 * section on its own CPU too (hp_slub_rseq_hold_); the holder may then
 * move and give the slot back from anywhere with a LOCKED cmpxchg16b.
 * That foreign write is safe: while the slot is held, a fast alloc sees
 * freelist NULL and a fast free sees tid odd, and neither executes its
 * cmpxchg16b on it; the one interleaving where a section read tid before
 * the release and freelist after it ends in a cmpxchg16b that reads the
 * released value (x86 orders the loads), fails on the tid and writes back
 * that same value, and no other foreign write can follow before a new
 * hold, which again happens on CPU k. Holds of OTHER CPUs' slots (flush
 * at kmem_cache_shrink/destroy, hp_slub_fork_prepare) would not be safe:
 * for rseq caches shrink and destroy are quiescent, and fork takes no slot
 * (no thread may be allocating from an rseq cache across a fork).
 *
 * The tid is still compared and advanced, as in the kernel, though inside
 * a critical section it can only fail after a foreign release. Needs
 * x86_64, glibc >= 2.35 with its rseq registration active in every thread
 * that uses an rseq cache (not under valgrind, which refuses rseq, nor
 * with GLIBC_TUNABLES=glibc.pthread.rseq=0): when hp_slub_init() finds
 * rseq unavailable, HP_SLAB_PCPU_RSEQ caches become cmpxchg caches (b)
 * (hp_slub_rseq_available() says which; hp_kmem_cache_get_info() shows the
 * flags in effect). Cost: the cmpxchg stand-in's path with the lock
 * prefix gone and one store (rseq->rseq_cs) added per operation. */
int hp_slub_rseq_available(void);
/* rseq critical sections of this thread restarted at their abort handler
 * (cpu-slab fast path (c), its slow paths' holds and the sheaves rseq
 * stand-in), since the thread started; 0 where rseq is unavailable. A
 * fast path that aborted on every operation (an abort loop) shows here as
 * about one abort an operation; tests/test_slub_rseq_abi.c checks both
 * that aborts are counted and that a quiet loop has almost none. */
uint64_t hp_slub_rseq_aborts(void);

#if defined(__x86_64__) && defined(HP_SLUB_HAVE_RSEQ) && HP_SLUB_HAVE_RSEQ
#define HP_SLUB_RSEQ_ASM 1
#define HP_SLUB_RSEQ_SIG 0x53053053 /* glibc's RSEQ_SIG on x86 */
#define HP_SLUB_STR2_(x) #x
#define HP_SLUB_STR_(x) HP_SLUB_STR2_(x)

/* This thread's count of rseq aborts (the kernel restarted a critical
 * section at its abort handler: preemption, migration or a signal before
 * the commit). The abort handler increments it (slot register as scratch:
 * the section recomputes it), so the fast path pays nothing. Read it with
 * hp_slub_rseq_aborts(). */
extern __thread uint64_t hp_slub_rseq_aborts_ __attribute__((tls_model("initial-exec")));

static inline char *hp_slub_rseq_area_(void)
{
	extern const ptrdiff_t __rseq_offset;
	char *tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp + __rseq_offset;
}

/* The critical section's descriptor (label 9), its abort handler behind
 * the signature (label 4: restart from label 0), the store of &cs into
 * rseq->rseq_cs, and label 1 (start_ip), where the caller's asm goes on;
 * the commit must be followed by label 2 (post-commit). */
#ifndef HP_SLUB_MUTATE_NO_ABORT_COUNT
#define HP_SLUB_RSEQ_COUNT_ABORT_(slot)                                        \
	"movq hp_slub_rseq_aborts_@gottpoff(%%rip), %" slot "\n\t"            \
	"incq %%fs:(%" slot ")\n\t"
#else   /* mutant (tests/meson.build): aborts go uncounted */
#define HP_SLUB_RSEQ_COUNT_ABORT_(slot) ""
#endif
#define HP_SLUB_RSEQ_PROLOGUE_(slot, rs)                                      \
	".pushsection __rseq_cs, \"aw\"\n\t"                                  \
	".balign 32\n"                                                        \
	"9:\t.long 0, 0\n\t"                                                  \
	".quad 1f, 2f - 1f, 4f\n\t"                                           \
	".popsection\n\t"                                                     \
	".pushsection __rseq_failure, \"ax\"\n\t"                             \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                          \
	".long " HP_SLUB_STR_(HP_SLUB_RSEQ_SIG) "\n"                          \
	"4:\t" HP_SLUB_RSEQ_COUNT_ABORT_(slot)                               \
	"jmp 0f\n\t"                                                          \
	".popsection\n"                                                       \
	"0:\tleaq 9b(%%rip), %" slot "\n\t"                                   \
	"movq %" slot ", 8(%" rs ")\n"                                        \
	"1:\tmovl 4(%" rs "), %k" slot "\n\t"   /* rseq->cpu_id */            \
	"shlq $" HP_SLUB_STR_(HP_SLUB_PCPU_UNIT_SHIFT) ", %" slot "\n\t"      \
	"addq %[base], %" slot "\n\t"

/* Pop: the object, or NULL (freelist empty or slot held: slow path).
 * distro: the free pointer is CONFIG_SLAB_FREELIST_HARDENED-encoded
 * (freelist_ptr_decode: ptr ^ s->random ^ swab(&ptr)). */
static inline __attribute__((always_inline)) void *hp_slub_rseq_pop_(const hp_kmem_cache_t *s, int distro)
{
	char *rs = hp_slub_rseq_area_();
	uintptr_t base = (uintptr_t)hp_slub_pcpu_base_ + hp_slub_hot_(s)->cpu_off;
	uintptr_t off = hp_slub_hot_(s)->offset;
	void *obj;
	uint64_t tid, next, ntid;
	uintptr_t slot;

	if (!distro) {
		__asm__ volatile(HP_SLUB_RSEQ_PROLOGUE_("[slot]", "[rs]")
				 "movq 8(%[slot]), %%rdx\n\t"         /* tid */
				 "movq (%[slot]), %%rax\n\t"          /* freelist */
				 "testq %%rax, %%rax\n\t"
				 "jz 3f\n\t"
				 "movq (%%rax,%[off]), %%rbx\n\t"     /* get_freepointer */
				 "leaq %c[step](%%rdx), %%rcx\n\t"    /* next_tid */
				 "cmpxchg16b (%[slot])\n"
				 "2:\tjnz 0b\n"
				 "3:\n"
				 : [slot] "=&r"(slot), "=&a"(obj), "=&d"(tid), "=&b"(next), "=&c"(ntid)
				 : [rs] "r"(rs), [base] "r"(base), [off] "r"(off), [step] "i"(HP_SLUB_TID_ADVANCE)
				 : "memory", "cc");
	} else {
		uintptr_t key = hp_slub_hot_(s)->random;

		__asm__ volatile(HP_SLUB_RSEQ_PROLOGUE_("[slot]", "[rs]")
				 "movq 8(%[slot]), %%rdx\n\t"
				 "movq (%[slot]), %%rax\n\t"
				 "testq %%rax, %%rax\n\t"
				 "jz 3f\n\t"
				 "leaq (%%rax,%[off]), %%rbx\n\t"     /* &ptr */
				 "movq (%%rbx), %%rcx\n\t"
				 "bswapq %%rbx\n\t"
				 "xorq %%rcx, %%rbx\n\t"
				 "xorq %[key], %%rbx\n\t"             /* decoded */
				 "leaq %c[step](%%rdx), %%rcx\n\t"
				 "cmpxchg16b (%[slot])\n"
				 "2:\tjnz 0b\n"
				 "3:\n"
				 : [slot] "=&r"(slot), "=&a"(obj), "=&d"(tid), "=&b"(next), "=&c"(ntid)
				 : [rs] "r"(rs), [base] "r"(base), [off] "r"(off), [key] "r"(key),
				   [step] "i"(HP_SLUB_TID_ADVANCE)
				 : "memory", "cc");
		if (obj)   /* prefetch_freepointer() */
			__builtin_prefetch((const char *)(uintptr_t)next + off, 1);
	}
	hp_slub_tsan_acquire_(s);
	return obj;
}

/* Push x when it lies in this CPU's cpu slab and the slot is not held:
 * 1, else 0 (the slow path). distro: encoded free pointer, and
 * set_freepointer()'s BUG_ON(object == fp) naive double-free check (ud2). */
static inline __attribute__((always_inline)) int hp_slub_rseq_push_(const hp_kmem_cache_t *s, void *x, int distro)
{
	char *rs = hp_slub_rseq_area_();
	uintptr_t base = (uintptr_t)hp_slub_pcpu_base_ + hp_slub_hot_(s)->cpu_off;
	uintptr_t off = hp_slub_hot_(s)->offset;
	uintptr_t slot, tmp;
	void *fl;
	uint64_t tid, ntid;
	int ok;

	hp_slub_tsan_release_(s);
	if (!distro) {
		__asm__ volatile(HP_SLUB_RSEQ_PROLOGUE_("[slot]", "[rs]")
				 "movq 8(%[slot]), %%rdx\n\t"         /* tid */
				 "testb $1, %%dl\n\t"                 /* held */
				 "jnz 3f\n\t"
				 "movq %%rbx, %[tmp]\n\t"
				 "subq %c[sa](%[slot]), %[tmp]\n\t"   /* x - slab_addr */
				 "cmpq %c[sb](%[slot]), %[tmp]\n\t"   /* >= slab_bytes: not the cpu slab */
				 "jae 3f\n\t"
				 "movq (%[slot]), %%rax\n\t"          /* freelist */
				 "movq %%rax, (%%rbx,%[off])\n\t"     /* set_freepointer */
				 "leaq %c[step](%%rdx), %%rcx\n\t"
				 "cmpxchg16b (%[slot])\n"
				 "2:\tjnz 0b\n\t"
				 "movl $1, %[ok]\n\t"
				 "jmp 5f\n"
				 "3:\txorl %[ok], %[ok]\n"
				 "5:\n"
				 : [slot] "=&r"(slot), [tmp] "=&r"(tmp), [ok] "=&r"(ok), "=&a"(fl), "=&d"(tid), "=&c"(ntid)
				 : [rs] "r"(rs), [base] "r"(base), [off] "r"(off), "b"(x), [step] "i"(HP_SLUB_TID_ADVANCE),
				   [sa] "i"(offsetof(hp_kmem_cache_cpu_t, slab_addr)),
				   [sb] "i"(offsetof(hp_kmem_cache_cpu_t, slab_bytes))
				 : "memory", "cc");
	} else {
		uintptr_t key = hp_slub_hot_(s)->random;

		__asm__ volatile(HP_SLUB_RSEQ_PROLOGUE_("[slot]", "[rs]")
				 "movq 8(%[slot]), %%rdx\n\t"
				 "testb $1, %%dl\n\t"
				 "jnz 3f\n\t"
				 "movq %%rbx, %[tmp]\n\t"
				 "subq %c[sa](%[slot]), %[tmp]\n\t"
				 "cmpq %c[sb](%[slot]), %[tmp]\n\t"
				 "jae 3f\n\t"
				 "movq (%[slot]), %%rax\n\t"
				 "cmpq %%rax, %%rbx\n\t"              /* BUG_ON(object == fp) */
				 "jne 6f\n\t"
				 "ud2\n"
				 "6:\tleaq (%%rbx,%[off]), %[tmp]\n\t"  /* &ptr */
				 "movq %[tmp], %%rcx\n\t"
				 "bswapq %%rcx\n\t"
				 "xorq %%rax, %%rcx\n\t"
				 "xorq %[key], %%rcx\n\t"
				 "movq %%rcx, (%[tmp])\n\t"           /* freelist_ptr_encode */
				 "leaq %c[step](%%rdx), %%rcx\n\t"
				 "cmpxchg16b (%[slot])\n"
				 "2:\tjnz 0b\n\t"
				 "movl $1, %[ok]\n\t"
				 "jmp 5f\n"
				 "3:\txorl %[ok], %[ok]\n"
				 "5:\n"
				 : [slot] "=&r"(slot), [tmp] "=&r"(tmp), [ok] "=&r"(ok), "=&a"(fl), "=&d"(tid), "=&c"(ntid)
				 : [rs] "r"(rs), [base] "r"(base), [off] "r"(off), "b"(x), [key] "r"(key),
				   [step] "i"(HP_SLUB_TID_ADVANCE),
				   [sa] "i"(offsetof(hp_kmem_cache_cpu_t, slab_addr)),
				   [sb] "i"(offsetof(hp_kmem_cache_cpu_t, slab_bytes))
				 : "memory", "cc");
	}
	return ok;
}

/* A slow path's hold of this CPU's slot (local_lock in the kernel): in a
 * critical section, (freelist, tid) -> (NULL, tid | 1). The slot, with
 * *fl the freelist taken; NULL when it is already held (back off, retry). */
static inline __attribute__((always_inline)) hp_kmem_cache_cpu_t *hp_slub_rseq_hold_(const hp_kmem_cache_t *s, void **fl)
{
	char *rs = hp_slub_rseq_area_();
	uintptr_t base = (uintptr_t)hp_slub_pcpu_base_ + hp_slub_hot_(s)->cpu_off;
	uintptr_t slot;
	void *old;
	uint64_t tid, nfl, ntid;
	int ok;

	__asm__ volatile(HP_SLUB_RSEQ_PROLOGUE_("[slot]", "[rs]")
			 "movq 8(%[slot]), %%rdx\n\t"
			 "testb $1, %%dl\n\t"
			 "jnz 3f\n\t"
			 "movq (%[slot]), %%rax\n\t"
			 "xorl %%ebx, %%ebx\n\t"
			 "leaq 1(%%rdx), %%rcx\n\t"
			 "cmpxchg16b (%[slot])\n"
			 "2:\tjnz 0b\n\t"
			 "movl $1, %[ok]\n\t"
			 "jmp 5f\n"
			 "3:\txorl %[ok], %[ok]\n"
			 "5:\n"
			 : [slot] "=&r"(slot), [ok] "=&r"(ok), "=&a"(old), "=&d"(tid), "=&b"(nfl), "=&c"(ntid)
			 : [rs] "r"(rs), [base] "r"(base)
			 : "memory", "cc");
	*fl = old;
	if (ok)
		hp_slub_tsan_acquire_(s);
	return ok ? (hp_kmem_cache_cpu_t *)slot : NULL;
}
#endif /* HP_SLUB_RSEQ_ASM */

void *hp_kmem_cache_alloc_ool(hp_kmem_cache_t *s);
void hp_kmem_cache_free_ool(hp_kmem_cache_t *s, void *x);

/* kmem_cache_alloc / kmem_cache_free for an HP_SLAB_PCPU_RSEQ cache of the
 * `minimal` config, from any thread. Where rseq is unavailable the cache
 * is a cmpxchg cache and these are the out-of-line entry points. */
static inline __attribute__((always_inline)) void *hp_kmem_cache_alloc_rseq(hp_kmem_cache_t *s)
{
#ifdef HP_SLUB_RSEQ_ASM
	if (likely(hp_slub_hot_(s)->path == HP_SLUB_PATH_RSEQ)) {
		void *obj = hp_slub_rseq_pop_(s, 0);

		if (likely(obj != NULL))
			return obj;
		return hp_kmem_cache_alloc_slow(s, HP_SLUB_THIS_IP);
	}
#endif
	return hp_kmem_cache_alloc_ool(s);
}
static inline __attribute__((always_inline)) void hp_kmem_cache_free_rseq(hp_kmem_cache_t *s, void *x)
{
#ifdef HP_SLUB_RSEQ_ASM
	if (likely(hp_slub_hot_(s)->path == HP_SLUB_PATH_RSEQ)) {
		if (unlikely(!hp_slub_rseq_push_(s, x, 0)))
			hp_kmem_cache_free_slow(s, x, HP_SLUB_THIS_IP);
		return;
	}
#endif
	hp_kmem_cache_free_ool(s, x);
}

/* ------------------------------------------------------------------ */
/* Generation 7.0: sheaves (per-CPU object arrays) and the barn         */
/* ------------------------------------------------------------------ */

/* A cache created with HP_SLAB_SHEAVES is of the `sheaves` generation
 * (Linux 7.0; opt-in per cache in 6.18 through kmem_cache_args.
 * sheaf_capacity, "slab: add opt-in caching layer of percpu sheaves";
 * every cache in 7.0, whose slab/for-7.0/sheaves merge removed struct
 * kmem_cache_cpu, the tid and CONFIG_SLUB_CPU_PARTIAL). Without the flag
 * a cache is of the `cpu-slab` generation (6.6: the rest of this file).
 *
 *   here                              kernel (6.18 / 7.0)
 *   --------------------------------  ----------------------------------------
 *   hp_slab_sheaf_t                   struct slab_sheaf: size objects in
 *                                     objects[], capacity s->sheaf_capacity
 *   hp_slub_pcs_t                     struct slub_percpu_sheaves: lock, main,
 *                                     spare (no rcu_free: no kfree_rcu here)
 *   the barn (slub_int.h)             struct node_barn: spinlock, lists of
 *                                     full and empty sheaves, nr_full/nr_empty
 *                                     (at most 10 of each, MAX_FULL_SHEAVES /
 *                                     MAX_EMPTY_SHEAVES)
 *   hp_slub_bootstrap_sheaf           bootstrap_sheaf (7.0): the empty,
 *                                     capacity-0 main a CPU starts with
 *   alloc fast path                   alloc_from_pcs(): lock, pop main
 *   free fast path                    free_to_pcs(): lock, push main
 *   slow paths (sheaves.c)            __pcs_replace_empty_main (spare swap,
 *                                     barn_replace_empty_sheaf, refill),
 *                                     __pcs_replace_full_main (spare swap,
 *                                     barn_replace_full_sheaf, flush),
 *                                     refill_sheaf/__refill_objects (7.0:
 *                                     objects straight off partial slabs),
 *                                     sheaf_flush_main/__kmem_cache_free_bulk,
 *                                     alloc_from_pcs_bulk/free_to_pcs_bulk
 *
 * Sheaf capacity: 7.0's "slab: add sheaves to most caches" derives it from
 * 6.6's cpu-partial object count (set_cpu_partial(): 120, 52, 24 or 6 by
 * object size), halved (a CPU holds two sheaves), and rounded up so that a
 * sheaf fills its kmalloc size class: 60, 28, 12 and 4 objects here.
 * Sheaves themselves come from kmalloc (alloc_empty_sheaf -> kzalloc) of
 * the cpu-slab set 0, so that a sheaves kmalloc cache never allocates its
 * own sheaves.
 *
 * Emulated NUMA nodes (hp_slub_set_nodes). A node here is a label, not
 * memory: every slab comes from the one buddy arena, and carries the node
 * it was allocated for (slab->nid, slab_nid()). What the kernel keeps per
 * node, a sheaves cache keeps per node too: partial lists
 * (kmem_cache_node, get_node(s, nid)) and a barn (kmem_cache_node->barn,
 * 6.18). A CPU's node is numa_mem_id(): the map given to
 * hp_slub_set_nodes. Each step and the 6.18/7.0 function it mirrors:
 *   free        slab_free(): an object whose slab is of the freeing CPU's
 *               node goes to the CPU's sheaf (free_to_pcs); of another
 *               node, straight to its slab (__slab_free), under that
 *               node's list_lock when the slab changes lists. The test is
 *               compiled only into caches created with more than one node
 *               (hot.path | HP_SLUB_PATH_NUMA): a one-node cache's free
 *               fast path is the same instructions as before. The inline
 *               hp_kmem_cache_free_sheaves* skip the test: use them on
 *               one-node caches only (hp_kmem_cache_free takes the
 *               out-of-line path, which tests it).
 *   alloc       slab_alloc_node(s, NUMA_NO_NODE or numa_mem_id()):
 *               alloc_from_pcs(). For another node (6.18 alloc_from_pcs
 *               returns NULL when node != numa_mem_id(); 7.0 the same)
 *               the sheaves are bypassed: __slab_alloc_node -> one object
 *               from that node's partial slabs or a new slab of that node
 *               (hp_kmem_cache_alloc_node).
 *   refill      __refill_objects (7.0): from the local node's partial
 *               list, then new slabs of the local node.
 *   barn        get_barn(s): the local node's barn for every swap; a
 *               flushed or rcu-freed sheaf's objects go to their own
 *               slabs (whatever node), as sheaf_flush_main does.
 *   bulk free   free_to_pcs_bulk (6.18): remote-node objects are set
 *               apart and freed to their slabs (__kmem_cache_free_bulk).
 *   kfree_rcu   __kfree_rcu_sheaf (6.18): a remote-node object is not
 *               taken (the caller's other kfree_rcu path).
 * The cpu-slab generation (6.6) keeps node 0 for every slab: its free of
 * an object not on the CPU's slab is __slab_free whatever the node, so a
 * remote-node free costs what a remote free does there; 6.6's per-node
 * partial lists and get_any_partial are not emulated. Debug caches: node
 * 0. Default: one node (every test true, no per-node cost).
 * A free by another CPU of the same node ("remote_free") costs what a
 * local free does in the sheaves generation; in the cpu-slab generation
 * it is a cmpxchg16b on the slab's freelist (__slab_free).
 *
 * The lock. The kernel protects a CPU's sheaves with local_trylock (a
 * preempt_disable() on !PREEMPT_RT, a per-CPU spinlock on PREEMPT_RT);
 * when the trylock fails (re-entry from an interrupt) the operation goes
 * straight to the slabs. The stand-ins, picked by the fast-path flag the
 * cpu-slab generation uses for the same purpose:
 *   HP_SLAB_PCPU_PINNED  the declared thread's ownership of its CPU's unit
 *                        (hp_slub_set_cpu): plain loads and stores, what
 *                        preempt_disable() costs; other threads use a
 *                        shared unit with the per-CPU lock below.
 *   HP_SLAB_PCPU_RSEQ    an rseq critical section on this CPU: the fast
 *                        paths test pcs->lock == 0, and their commit is
 *                        the one store of sheaf->size, so a thread
 *                        preempted or moved before it restarts; a slow path
 *                        takes the lock by a commit store of 1 in such a
 *                        section (hence only on its own CPU, where no fast
 *                        path can be half-way) and may release it from
 *                        anywhere. No atomic instruction at all: the
 *                        closest to the kernel's preempt_disable().
 *   neither              a per-CPU spinlock (xchg to take, a store to
 *                        release), the PREEMPT_RT form of local_lock: one
 *                        locked instruction per operation.
 *  The rseq stand-in needs what fast path (c) needs; without rseq (and in
 *  ThreadSanitizer builds, which cannot see an rseq section's ordering)
 *  such caches use the per-CPU spinlock. When the lock is taken (a thread
 *  moved while holding it), the operation goes to the slabs, as the
 *  kernel's does when local_trylock fails.
 *
 * slab_debug: caches with debug flags get no sheaves (as in 6.18 and 7.0):
 * every operation takes the node's list_lock (alloc_single_from_partial,
 * free_to_partial_list), the same path in both generations.
 *
 * Costs: the pinned pair is a load of main, a load and store of size and
 * a load or store of objects[] each way (~10 instructions); rseq adds the
 * rseq_cs store and cpu_id read; the spinlock adds a locked xchg each way.
 * A refill or flush is one list_lock round and a cmpxchg16b per slab
 * touched; swapping with spare is a few stores; the barn a mutex round.
 */
#define HP_SLAB_SHEAVES_MAX_FULL 10   /* MAX_FULL_SHEAVES (6.18) */
#define HP_SLAB_SHEAVES_MAX_EMPTY 10  /* MAX_EMPTY_SHEAVES (6.18) */

typedef struct hp_slab_sheaf {
	union {
		hp_list_t barn_list;      /* on the barn's full or empty list */
		void *rcu_head[2];        /* an rcu_free sheaf handed to call_rcu (hp_kfree_rcu_sheaf) */
	};
	hp_kmem_cache_t *cache;
	uint32_t size;                    /* objects held: objects[0 .. size-1] */
	uint32_t capacity;                /* 0: the bootstrap sheaf */
	void *objects[];
} hp_slab_sheaf_t;

/* struct slub_percpu_sheaves, in a cache's per-CPU chunk (where a
 * cpu-slab cache has its hp_kmem_cache_cpu_t; stat[] at the same offset,
 * so the statistics code serves both). */
typedef struct hp_slub_pcs {
	uint32_t lock;                    /* 0 free, 1 held (stand-ins above) */
	uint32_t pad_;
	hp_slab_sheaf_t *main;            /* never NULL once set up */
	hp_slab_sheaf_t *spare;           /* NULL, or an empty or a full sheaf */
	uint64_t sstat[5];                /* HP_SHEAF_STAT_* */
	uint64_t stat[24];                /* HP_SLUB_STAT_* (the cpu-slab layout) */
} __attribute__((aligned(64))) hp_slub_pcs_t;

enum { HP_SHEAF_STAT_REFILL, HP_SHEAF_STAT_FLUSH, HP_SHEAF_STAT_SWAP, HP_SHEAF_STAT_BARN_GET,
       HP_SHEAF_STAT_BARN_PUT, HP_SHEAF_NR_STATS };

_Static_assert(sizeof(hp_slub_pcs_t) == sizeof(hp_kmem_cache_cpu_t), "pcs overlays kmem_cache_cpu");
_Static_assert(offsetof(hp_slub_pcs_t, stat) == offsetof(hp_kmem_cache_cpu_t, stat), "stat[] shared");

/* Emulated NUMA (see "Emulated NUMA nodes" above).
 * hp_slub_set_nodes(nr, cpu_node): nr nodes (1..HP_SLUB_MAX_NODES);
 * cpu_node[cpu] the node of each CPU id below the number of CPUs (NULL:
 * cpu % nr). Takes effect for caches created afterwards (kmalloc sets
 * included, when created after it): call it before them, quiescent. 0, or
 * -1 (EINVAL) for a bad count or node. Cost: none on the one-node paths.
 * hp_slub_nr_nodes(): nr_node_ids. hp_slub_cpu_node(cpu): cpu_to_node(),
 * -1 for a bad cpu. hp_slub_obj_node(x): slab_nid(virt_to_slab(x)), -1
 * when x is no slab object.
 * hp_kmem_cache_alloc_node(s, node): kmem_cache_alloc_node(); node
 * HP_NUMA_NO_NODE or the local node: hp_kmem_cache_alloc; another node
 * of a sheaves cache: an object of a slab of that node, bypassing the
 * sheaves (a list_lock round, or a new slab); the cpu-slab generation
 * (node 0 only) ignores node. NULL when out of memory or node is bad. */
int hp_slub_set_nodes(unsigned nr_nodes, const int *cpu_node);
unsigned hp_slub_nr_nodes(void);
int hp_slub_cpu_node(int cpu);
int hp_slub_obj_node(const void *x);
void *hp_kmem_cache_alloc_node(hp_kmem_cache_t *s, int node);

/* Slow paths (sheaves.c). */
void *hp_sheaves_alloc_slow(hp_kmem_cache_t *s);
void *hp_sheaves_alloc_node_slow(hp_kmem_cache_t *s, unsigned nid);  /* __slab_alloc_node for nid */
void hp_sheaves_free_slow(hp_kmem_cache_t *s, void *x);

static inline hp_slub_pcs_t *hp_slub_pinned_pcs_(const hp_kmem_cache_t *s)
{
	return (hp_slub_pcs_t *)(hp_slub_this_unit_ + hp_slub_hot_(s)->cpu_off);
}

/* alloc_from_pcs() for a pinned sheaves cache from its declared thread. */
static inline __attribute__((always_inline)) void *hp_kmem_cache_alloc_sheaves_pinned(hp_kmem_cache_t *s)
{
	hp_slab_sheaf_t *sh;
	uint32_t n;
	void *obj;

	hp_slub_barrier_();
	sh = hp_slub_pinned_pcs_(s)->main;
	n = sh->size;
	if (unlikely(!n))
		return hp_sheaves_alloc_slow(s);
	obj = sh->objects[--n];
	sh->size = n;
	hp_slub_barrier_();
	return obj;
}
/* free_to_pcs() for a pinned sheaves cache from its declared thread. */
static inline __attribute__((always_inline)) void hp_kmem_cache_free_sheaves_pinned(hp_kmem_cache_t *s, void *x)
{
	hp_slab_sheaf_t *sh;
	uint32_t n;

	hp_slub_barrier_();
	sh = hp_slub_pinned_pcs_(s)->main;
	n = sh->size;
	if (unlikely(n >= sh->capacity)) {
		hp_sheaves_free_slow(s, x);
		return;
	}
	sh->objects[n] = x;
	sh->size = n + 1;
	hp_slub_barrier_();
}

static inline hp_slub_pcs_t *hp_slub_this_pcs_(const hp_kmem_cache_t *s)
{
	return (hp_slub_pcs_t *)(void *)hp_slub_this_cpu_(s);
}

/* The per-CPU spinlock stand-in (local_trylock on PREEMPT_RT): 1 held. */
static inline int hp_slub_pcs_trylock_(hp_slub_pcs_t *c)
{
	return __atomic_exchange_n(&c->lock, 1u, __ATOMIC_ACQUIRE) == 0;
}
static inline void hp_slub_pcs_unlock_(hp_slub_pcs_t *c)
{
	__atomic_store_n(&c->lock, 0u, __ATOMIC_RELEASE);
}

/* The spinlock stand-in's fast paths: pop/push under this CPU's lock;
 * NULL / 0 for the slow path (lock taken, main empty or full). */
static inline __attribute__((always_inline)) void *hp_sheaves_lock_pop_(const hp_kmem_cache_t *s)
{
	hp_slub_pcs_t *c = hp_slub_this_pcs_(s);
	hp_slab_sheaf_t *sh;
	void *obj = NULL;
	uint32_t n;

	if (unlikely(!hp_slub_pcs_trylock_(c)))
		return NULL;
	sh = c->main;
	n = sh->size;
	if (likely(n)) {
		obj = sh->objects[--n];
		sh->size = n;
	}
	hp_slub_pcs_unlock_(c);
	return obj;
}
static inline __attribute__((always_inline)) int hp_sheaves_lock_push_(const hp_kmem_cache_t *s, void *x)
{
	hp_slub_pcs_t *c = hp_slub_this_pcs_(s);
	hp_slab_sheaf_t *sh;
	int ok = 0;
	uint32_t n;

	if (unlikely(!hp_slub_pcs_trylock_(c)))
		return 0;
	sh = c->main;
	n = sh->size;
	if (likely(n < sh->capacity)) {
		sh->objects[n] = x;
		sh->size = n + 1;
		ok = 1;
	}
	hp_slub_pcs_unlock_(c);
	return ok;
}

#if defined(HP_SLUB_RSEQ_ASM) && !defined(HP_SLUB_TSAN)
#define HP_SHEAVES_RSEQ_ASM 1
/* The rseq stand-in's pop: in a critical section on this CPU, lock free,
 * main non-empty, object read, commit = the store of size - 1. */
static inline __attribute__((always_inline)) void *hp_sheaves_rseq_pop_(const hp_kmem_cache_t *s)
{
	char *rs = hp_slub_rseq_area_();
	uintptr_t base = (uintptr_t)hp_slub_pcpu_base_ + hp_slub_hot_(s)->cpu_off;
	uintptr_t slot, sh;
	uint64_t n;
	void *obj;

	__asm__ volatile(HP_SLUB_RSEQ_PROLOGUE_("[slot]", "[rs]")
			 "cmpl $0, (%[slot])\n\t"               /* pcs->lock */
			 "jne 3f\n\t"
			 "movq %c[mo](%[slot]), %[sh]\n\t"      /* pcs->main */
			 "movl %c[so](%[sh]), %k[n]\n\t"        /* main->size */
			 "testl %k[n], %k[n]\n\t"
			 "jz 3f\n\t"
			 "subl $1, %k[n]\n\t"
			 "movq %c[oo](%[sh],%[n],8), %[obj]\n\t"
			 "movl %k[n], %c[so](%[sh])\n"          /* commit */
			 "2:\tjmp 5f\n"
			 "3:\txorl %k[obj], %k[obj]\n"
			 "5:\n"
			 : [slot] "=&r"(slot), [sh] "=&r"(sh), [n] "=&r"(n), [obj] "=&r"(obj)
			 : [rs] "r"(rs), [base] "r"(base), [mo] "i"(offsetof(hp_slub_pcs_t, main)),
			   [so] "i"(offsetof(hp_slab_sheaf_t, size)), [oo] "i"(offsetof(hp_slab_sheaf_t, objects))
			 : "memory", "cc");
	return obj;
}
/* The rseq stand-in's push: lock free, main not full, objects[size] = x,
 * commit = the store of size + 1 (an aborted section's store into the
 * unused slot is harmless). */
static inline __attribute__((always_inline)) int hp_sheaves_rseq_push_(const hp_kmem_cache_t *s, void *x)
{
	char *rs = hp_slub_rseq_area_();
	uintptr_t base = (uintptr_t)hp_slub_pcpu_base_ + hp_slub_hot_(s)->cpu_off;
	uintptr_t slot, sh;
	uint64_t n;
	int ok;

	__asm__ volatile(HP_SLUB_RSEQ_PROLOGUE_("[slot]", "[rs]")
			 "cmpl $0, (%[slot])\n\t"
			 "jne 3f\n\t"
			 "movq %c[mo](%[slot]), %[sh]\n\t"
			 "movl %c[so](%[sh]), %k[n]\n\t"
			 "cmpl %c[co](%[sh]), %k[n]\n\t"        /* full */
			 "jae 3f\n\t"
			 "movq %[x], %c[oo](%[sh],%[n],8)\n\t"
			 "addl $1, %k[n]\n\t"
			 "movl %k[n], %c[so](%[sh])\n"          /* commit */
			 "2:\tmovl $1, %[ok]\n\t"
			 "jmp 5f\n"
			 "3:\txorl %[ok], %[ok]\n"
			 "5:\n"
			 : [slot] "=&r"(slot), [sh] "=&r"(sh), [n] "=&r"(n), [ok] "=&r"(ok)
			 : [rs] "r"(rs), [base] "r"(base), [x] "r"(x), [mo] "i"(offsetof(hp_slub_pcs_t, main)),
			   [so] "i"(offsetof(hp_slab_sheaf_t, size)), [co] "i"(offsetof(hp_slab_sheaf_t, capacity)),
			   [oo] "i"(offsetof(hp_slab_sheaf_t, objects))
			 : "memory", "cc");
	return ok;
}
/* A slow path's local_trylock: in a critical section on this CPU, lock
 * 0 -> 1. This CPU's pcs, or NULL when the lock is held. */
static inline __attribute__((always_inline)) hp_slub_pcs_t *hp_sheaves_rseq_lock_(const hp_kmem_cache_t *s)
{
	char *rs = hp_slub_rseq_area_();
	uintptr_t base = (uintptr_t)hp_slub_pcpu_base_ + hp_slub_hot_(s)->cpu_off;
	uintptr_t slot;
	int ok;

	__asm__ volatile(HP_SLUB_RSEQ_PROLOGUE_("[slot]", "[rs]")
			 "cmpl $0, (%[slot])\n\t"
			 "jne 3f\n\t"
			 "movl $1, (%[slot])\n"                 /* commit */
			 "2:\tmovl $1, %[ok]\n\t"
			 "jmp 5f\n"
			 "3:\txorl %[ok], %[ok]\n"
			 "5:\n"
			 : [slot] "=&r"(slot), [ok] "=&r"(ok)
			 : [rs] "r"(rs), [base] "r"(base)
			 : "memory", "cc");
	return ok ? (hp_slub_pcs_t *)slot : NULL;
}
#endif

/* kmem_cache_alloc / kmem_cache_free for a sheaves cache with the rseq
 * stand-in (any thread); the spinlock stand-in when rseq is unavailable. */
static inline __attribute__((always_inline)) void *hp_kmem_cache_alloc_sheaves(hp_kmem_cache_t *s)
{
	void *obj;

#ifdef HP_SHEAVES_RSEQ_ASM
	if (likely(hp_slub_hot_(s)->path == (HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ)))
		obj = hp_sheaves_rseq_pop_(s);
	else
#endif
		obj = hp_sheaves_lock_pop_(s);
	if (likely(obj != NULL))
		return obj;
	return hp_sheaves_alloc_slow(s);
}
static inline __attribute__((always_inline)) void hp_kmem_cache_free_sheaves(hp_kmem_cache_t *s, void *x)
{
	int ok;

#ifdef HP_SHEAVES_RSEQ_ASM
	if (likely(hp_slub_hot_(s)->path == (HP_SLUB_PATH_SHEAVES | HP_SLUB_PATH_RSEQ)))
		ok = hp_sheaves_rseq_push_(s, x);
	else
#endif
		ok = hp_sheaves_lock_push_(s, x);
	if (unlikely(!ok))
		hp_sheaves_free_slow(s, x);
}

/* The sheaves generation's state for tests (quiescent: no thread inside
 * the cache). hp_kmem_cache_sheaves_check() checks every invariant of the
 * layer and of object conservation and fills *out; live is the number of
 * objects the caller holds (allocated, not freed), or -1 to skip the
 * conservation check. Returns the number of violations (0: all hold); the
 * first is described in err. Invariants: every CPU's main is non-NULL and
 * the bootstrap sheaf or of the cache's capacity, size <= capacity, spare
 * of the capacity or NULL, no lock held; the barn's counts match its
 * lists, each at most 10, full sheaves full and empty ones empty; every
 * object in a sheaf is an object start of a slab of this cache and is on
 * no slab freelist and in no other sheaf slot; every partial slab's
 * freelist holds objects - inuse objects; slab objects in use == objects
 * in sheaves + live. A non-sheaves cache: -1 (err says so). */
typedef struct hp_sheaves_info {
	unsigned capacity;
	unsigned long in_pcs, in_barn;        /* objects in per-CPU sheaves, in barn sheaves */
	unsigned long in_rcu;                 /* objects in rcu_free sheaves still on their CPUs */
	unsigned barn_full, barn_empty;
	unsigned long slab_inuse;             /* objects in use on slabs (sheaves + caller) */
	unsigned long nr_slabs, nr_partial;
	uint64_t sstat[HP_SHEAF_NR_STATS];    /* summed over CPUs */
} hp_sheaves_info_t;
long hp_kmem_cache_sheaves_check(hp_kmem_cache_t *s, long live, hp_sheaves_info_t *out, char *err, size_t errlen);
/* kfree_rcu through a sheaf (Linux 6.18 "slab: sheaf for kfree_rcu",
 * __kfree_rcu_sheaf / rcu_free_sheaf; every cache in 7.0, where
 * kvfree_call_rcu tries it first). Each CPU of a sheaves cache has a third
 * sheaf, rcu_free (here in a per-unit array the cache maps on first use,
 * one 64-byte line a unit, since the per-CPU slot has no room left). An
 * object freed with kfree_rcu goes into it under the pcs lock; when it is
 * full it leaves the CPU and is handed to call_rcu as ONE callback, whose
 * function, after the grace period, gives the whole sheaf back to the
 * cache: to the barn as a full sheaf when the barn has fewer than 10,
 * else its objects to their slabs and the empty sheaf to the barn (or
 * freed). One call_rcu per sheaf_capacity objects, and the objects come
 * back as a sheaf a later allocation takes whole.
 *
 * impl/slub does not depend on an RCU implementation: the caller passes
 * its call_rcu as call_rcu(head), which must arrange that
 * hp_kfree_rcu_sheaf_done(head) runs after a grace period that began
 * after the call. head is HP_SLUB_RCU_HEAD_BYTES of pointer-aligned
 * storage inside the sheaf that the caller's RCU may use as its callback
 * head (an impl/rcu hp_rcu_head_t fits).
 *
 * hp_kfree_rcu_sheaf(s, obj, call_rcu): s is obj's cache, or NULL to look
 * it up from obj's slab (kfree_rcu of a kmalloc object). 1: obj is queued;
 * 0: not taken (not a sheaves cache, the pcs lock is held, no empty sheaf
 * to be had): the caller uses its other kfree_rcu path. Cost: a trylock,
 * one store and a size update; every capacity-th call an empty sheaf from
 * the barn (a mutex round) or from kmalloc, and one call_rcu.
 * hp_kfree_rcu_sheaf_flush(s, call_rcu) (flush_rcu_sheaves_on_cache, part
 * of kvfree_rcu_barrier): every CPU's partly filled rcu_free sheaf to
 * call_rcu; returns how many sheaves. The caller then waits with its
 * rcu_barrier. Objects in an rcu_free sheaf not yet handed over are still
 * in use: flush them before kmem_cache_shrink/destroy (destroy reports
 * them as left over otherwise). hp_kmem_cache_sheaves_check() counts the
 * rcu_free sheaves still on their CPUs (info.in_rcu); sheaves handed to
 * call_rcu and not yet back are the caller's live objects. */
#define HP_SLUB_RCU_HEAD_BYTES (2 * sizeof(void *))
typedef void (*hp_slub_call_rcu_t)(void *head);
int hp_kfree_rcu_sheaf(hp_kmem_cache_t *s, void *obj, hp_slub_call_rcu_t call_rcu);
void hp_kfree_rcu_sheaf_done(void *head);
unsigned hp_kfree_rcu_sheaf_flush(hp_kmem_cache_t *s, hp_slub_call_rcu_t call_rcu);
/* The sheaf capacity of a cache (0: cpu-slab generation or a debug cache). */
unsigned hp_kmem_cache_sheaf_capacity(const hp_kmem_cache_t *s);
/* The kmalloc set and hp_kmalloc/hp_kfree generation libhotpath-malloc
 * and benches use by name: "cpu-slab" -> HP_KMALLOC_SET_CMPXCHG,
 * "sheaves" -> HP_KMALLOC_SET_SHEAVES; -1 for anything else. */
int hp_slub_generation_set(const char *name);

/* ------------------------------------------------------------------ */
/* Generic entry points                                                */
/* ------------------------------------------------------------------ */

/* kmem_cache_alloc(s, GFP_KERNEL): picks the cache's stand-in. For a
 * pinned cache from a thread that has not called hp_slub_set_cpu() it
 * takes a locked path instead of the fast path. NULL when out of memory. */
static inline void *hp_kmem_cache_alloc(hp_kmem_cache_t *s)
{
	if (hp_slub_hot_(s)->flags & HP_SLAB_SHEAVES)
		return hp_kmem_cache_alloc_ool(s);
	if (hp_slub_hot_(s)->flags & HP_SLAB_PCPU_PINNED) {
		if (unlikely(!hp_slub_this_unit_ || (hp_slub_hot_(s)->flags & HP_SLAB_KCONFIG_DISTRO)))
			return hp_kmem_cache_alloc_ool(s);
		return hp_kmem_cache_alloc_pinned(s);
	}
	if (hp_slub_hot_(s)->flags & (HP_SLAB_PCPU_RSEQ | HP_SLAB_KCONFIG_DISTRO))
		return hp_kmem_cache_alloc_ool(s);
	return hp_kmem_cache_alloc_cmpxchg(s);
}
/* kmem_cache_free(s, x); x == NULL is a no-op. */
static inline void hp_kmem_cache_free(hp_kmem_cache_t *s, void *x)
{
	if (hp_slub_hot_(s)->flags & HP_SLAB_SHEAVES) {
		hp_kmem_cache_free_ool(s, x);
		return;
	}
	if (hp_slub_hot_(s)->flags & HP_SLAB_PCPU_PINNED) {
		if (unlikely(!hp_slub_this_unit_ || (hp_slub_hot_(s)->flags & HP_SLAB_KCONFIG_DISTRO))) {
			hp_kmem_cache_free_ool(s, x);
			return;
		}
		hp_kmem_cache_free_pinned(s, x);
		return;
	}
	if (hp_slub_hot_(s)->flags & (HP_SLAB_PCPU_RSEQ | HP_SLAB_KCONFIG_DISTRO)) {
		hp_kmem_cache_free_ool(s, x);
		return;
	}
	hp_kmem_cache_free_cmpxchg(s, x);
}
/* kmem_cache_zalloc */
void *hp_kmem_cache_zalloc(hp_kmem_cache_t *s);

/* kmem_cache_alloc_bulk: n objects into p[]; n, or 0 (nothing allocated)
 * when out of memory. One slot hold (or none, pinned) for the lot. */
size_t hp_kmem_cache_alloc_bulk(hp_kmem_cache_t *s, size_t n, void **p);
/* kmem_cache_free_bulk: s may be NULL for kmalloc'd objects (kfree_bulk);
 * objects of one slab go back as one detached freelist. NULL entries are
 * skipped. */
void hp_kmem_cache_free_bulk(hp_kmem_cache_t *s, size_t n, void **p);

/* ------------------------------------------------------------------ */
/* kmalloc                                                             */
/* ------------------------------------------------------------------ */

/* kmalloc(size, GFP_KERNEL): 0 -> HP_ZERO_SIZE_PTR; 1..8192 from the size
 * class caches kmalloc-8 .. kmalloc-8192 (96 and 192 included); larger
 * sizes are buddy blocks of get_order(size) pages. Alignment: a
 * power-of-two class is aligned to its size, kmalloc-96 to 32, kmalloc-192
 * to 64, large blocks to 4096 << order (so malloc-style 16-byte alignment
 * holds for every size > 8). NULL when out of memory. */
void *hp_kmalloc(size_t size);
void *hp_kzalloc(size_t size);
/* The same over the pinned kmalloc caches (a second set, "kmalloc-p-N"):
 * for threads that called hp_slub_set_cpu(), else a locked path. */
void *hp_kmalloc_pinned(size_t size);
/* kfree: NULL and HP_ZERO_SIZE_PTR are no-ops. Finds the cache from the
 * page descriptor. A pointer outside the arena, or (with F) not the start
 * of an allocated object, is reported and ignored. */
void hp_kfree(const void *p);
/* ksize: the usable size of an allocation (slab_ksize: the object size,
 * or the whole slot without debugging; the block for large sizes). 0 for
 * NULL / HP_ZERO_SIZE_PTR / foreign pointers. As since Linux 6.2, it also
 * lifts the kmalloc red zone of that object: all ksize() bytes are usable. */
size_t hp_ksize(const void *p);
/* krealloc: contents kept up to min(old ksize, size); size 0 frees and
 * returns HP_ZERO_SIZE_PTR. NULL (old block untouched) when out of memory. */
void *hp_krealloc(const void *p, size_t size);
/* The same over any kmalloc set (HP_KMALLOC_SET_*; sets other than 0 and
 * 1 are created on first use). NULL for a set out of range. */
void *hp_kmalloc_set(unsigned set, size_t size);
/* kmalloc_slab(): the cache kmalloc(size) of a set uses (set 0: hp_kmalloc's,
 * 1: hp_kmalloc_pinned's); NULL for 0 or > 8192 or a bad set. */
hp_kmem_cache_t *hp_kmalloc_cache(size_t size, int set);
/* kmalloc_size_roundup() */
size_t hp_kmalloc_size_roundup(size_t size);

/* ------------------------------------------------------------------ */
/* Debugging: reports                                                  */
/* ------------------------------------------------------------------ */

typedef enum {
	HP_SLUB_ERR_REDZONE,        /* Left/Right Redzone or kmalloc Redzone overwritten */
	HP_SLUB_ERR_POISON,         /* Poison / End Poison overwritten (write after free) */
	HP_SLUB_ERR_PADDING,        /* Object padding / slab Padding overwritten */
	HP_SLUB_ERR_FREEPTR,        /* Freepointer corrupt / Freechain corrupt */
	HP_SLUB_ERR_DOUBLE_FREE,    /* Object already free */
	HP_SLUB_ERR_BAD_POINTER,    /* Invalid object pointer, pointer outside the arena, wrong cache */
	HP_SLUB_ERR_SLAB,           /* slab counters inconsistent */
	HP_SLUB_ERR_LEAK,           /* Objects remaining on __kmem_cache_shutdown() */
} hp_slub_err_t;

/* An owner record (struct track): where and when an object was last
 * allocated or freed. */
typedef struct hp_slub_track {
	unsigned long addr;       /* call site (0: none recorded) */
	int cpu;
	int tid;                  /* thread id (gettid) */
	uint64_t when_ns;         /* CLOCK_MONOTONIC */
} hp_slub_track_t;

typedef struct hp_slub_report {
	hp_slub_err_t kind;
	const char *cache;        /* cache name, or "kmalloc" for a bad kfree */
	const char *what;         /* e.g. "Right Redzone overwritten", "Object already free" */
	const void *object;       /* the object (or the pointer given), NULL if none */
	const void *slab;         /* the slab's first byte, NULL if none */
	long offset;              /* first bad byte's offset from the object, -1 if n/a */
	size_t bad_bytes;         /* first to last bad byte, inclusive; 0 if n/a */
	int expected, found;      /* pattern byte and the first bad byte, -1 if n/a */
	size_t count;             /* LEAK: objects remaining in that slab */
	const hp_slub_track_t *alloc_track, *free_track; /* with U, else NULL */
	const char *fix;          /* what was repaired, e.g. "Restoring Right Redzone 0x..-0x..=0xcc" */
	const char *text;         /* the whole message as the default hook prints it */
} hp_slub_report_t;

typedef void (*hp_slub_report_fn)(void *arg, const hp_slub_report_t *r);

/* Replaces the report hook (NULL: the default, which writes r->text to
 * stderr with write(2)). Returns the previous one. */
hp_slub_report_fn hp_slub_set_report(hp_slub_report_fn fn, void *arg);
/* Errors found so far: in one cache, and in all (including bad kfrees). */
uint64_t hp_kmem_cache_errors(const hp_kmem_cache_t *s);
uint64_t hp_slub_errors(void);

/* validate_slab_cache(): checks every slab of the cache (counters, the
 * freelist, and with F every object's patterns), reporting and repairing
 * what it finds. Returns the number of errors found. Quiescent. */
long hp_kmem_cache_validate(hp_kmem_cache_t *s);

/* ------------------------------------------------------------------ */
/* Observability                                                       */
/* ------------------------------------------------------------------ */

typedef struct hp_kmem_cache_info {
	const char *name;
	unsigned flags;           /* HP_SLAB_* in effect (with slab_debug's) */
	size_t object_size;       /* what the user asked for */
	size_t size;              /* the stride: object + metadata + alignment */
	size_t align, inuse, offset, red_left_pad;
	unsigned order, objects;  /* s->oo */
	unsigned min_order, min_objects; /* s->min (fallback when oo fails) */
	unsigned long min_partial;
	unsigned cpu_partial, cpu_partial_slabs;
	/* counts (racy snapshots unless quiescent) */
	unsigned long nr_slabs, nr_objs, active_objs, nr_partial;
	uint64_t errors;
} hp_kmem_cache_info_t;
void hp_kmem_cache_get_info(const hp_kmem_cache_t *s, hp_kmem_cache_info_t *out);

/* CONFIG_SLUB_STATS counters (slow paths only; the fast path counts nothing). */
enum {
	HP_SLUB_STAT_ALLOC_SLOWPATH, HP_SLUB_STAT_FREE_SLOWPATH, HP_SLUB_STAT_FREE_FROZEN,
	HP_SLUB_STAT_FREE_ADD_PARTIAL, HP_SLUB_STAT_FREE_REMOVE_PARTIAL, HP_SLUB_STAT_ALLOC_FROM_PARTIAL,
	HP_SLUB_STAT_ALLOC_SLAB, HP_SLUB_STAT_ALLOC_REFILL, HP_SLUB_STAT_FREE_SLAB,
	HP_SLUB_STAT_CPUSLAB_FLUSH, HP_SLUB_STAT_DEACTIVATE_FULL, HP_SLUB_STAT_DEACTIVATE_EMPTY,
	HP_SLUB_STAT_DEACTIVATE_TO_TAIL, HP_SLUB_STAT_DEACTIVATE_REMOTE_FREES, HP_SLUB_STAT_DEACTIVATE_BYPASS,
	HP_SLUB_STAT_ORDER_FALLBACK, HP_SLUB_STAT_CMPXCHG_DOUBLE_FAIL, HP_SLUB_STAT_CPU_PARTIAL_ALLOC,
	HP_SLUB_STAT_CPU_PARTIAL_FREE, HP_SLUB_STAT_CPU_PARTIAL_NODE, HP_SLUB_STAT_CPU_PARTIAL_DRAIN,
	HP_SLUB_STAT_BULK_ALLOC, HP_SLUB_STAT_BULK_FREE,
	HP_SLUB_NR_STATS
};
extern const char *const hp_slub_stat_names[HP_SLUB_NR_STATS];
/* Sums of every CPU's counters (racy snapshot). */
void hp_kmem_cache_stats(const hp_kmem_cache_t *s, uint64_t out[HP_SLUB_NR_STATS]);

/* /proc/slabinfo, version 2.1, every cache, newest first (as the kernel
 * lists slab_caches). snprintf semantics: returns the length needed. */
int hp_slub_slabinfo(char *buf, size_t len);
/* The same written to a file descriptor; -1 on a write error. */
int hp_slub_slabinfo_fd(int fd);

/* calculate_order(size) with the configured slub_min/max_order and
 * min_objects: the order of a slab of objects of this stride, -1 if none
 * fits. objects (may be NULL) gets order_objects(). */
int hp_slub_calculate_order(size_t size, unsigned *objects);

#endif
