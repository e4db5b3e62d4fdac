/* slub_bench.h — suite slub: what bench/slub.c and the per-variant
 * compilations of bench/slub_variant.c share: the job of a run, the
 * remote_free handoff, the trace, and the table of measured loops each
 * compilation exports (hp_slub_loops_<variant>).
 */
#ifndef HP_SLUB_BENCH_H
#define HP_SLUB_BENCH_H

#include "hp.h"
#include "hp_compiler.h"
#include "slub.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#define BULK_N 16
#define RING_N 1024
#define TRACE_ALLOCS 32768

/* The remote_free (and remote_node) handoff, in lockstep: the producer
 * allocates a batch of up to REMOTE_BATCH objects on its CPU into obj[],
 * posts it (one release store of posted), and waits until the consumer on
 * the other CPU has freed the whole batch (done == posted) before it
 * allocates the next one. So the producer's clock covers, per batch: the
 * allocations, one handoff each way (two cache lines cross: posted/count,
 * then done) and the consumer's frees; the two threads never run the
 * measured work at the same time and neither waits for anything but the
 * other's share of it. Per object: alloc + remote free + 2 handoffs / batch.
 * The consumer times its free loop itself (free_ns) and counts what it
 * frees (freed), so a run can check conservation: freed == allocated. */
#define REMOTE_BATCH 64

typedef struct handoff {
	_Alignas(64) uint64_t posted;    /* batches posted, written by the producer */
	uint32_t count;                  /* objects in the posted batch */
	_Alignas(64) uint64_t done;      /* batches freed, written by the consumer */
	uint64_t freed;                  /* objects freed, consumer-side */
	uint64_t free_ns;                /* consumer time inside its free loops */
	_Alignas(64) void *obj[REMOTE_BATCH];
} handoff_t;

typedef struct trace_op {
	uint32_t size;                   /* 0: free */
	uint32_t slot;
} trace_op_t;

typedef struct trace {
	trace_op_t *ops;
	size_t nops;
	void **slot;
	uint64_t pos;                    /* where the next run() continues */
} trace_t;

struct slub_job;

/* The measured loops of one variant family, compiled with its allocator
 * calls inlined (bench/slub_variant.c). */
typedef struct slub_loops {
	const char *name;
	int cache;                       /* 1: impl, the job holds the kmalloc cache of its size */
	int pinned;                      /* impl-pinned: threads declare their CPU (hp_slub_set_cpu) */
	int kmalloc_set;                 /* impl: the HP_KMALLOC_SET_* the job's cache comes from */
	void (*pair_run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx);
	void (*bulk_run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx);
	void (*remote_run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx);
	void (*trace_run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx);
	void *(*consumer)(void *job);    /* remote_free's consumer thread */
} slub_loops_t;

extern const slub_loops_t hp_slub_loops_pinned, hp_slub_loops_cmpxchg, hp_slub_loops_libc;
/* generation sheaves (7.0) and cpu-slab's rseq stand-in */
extern const slub_loops_t hp_slub_loops_rseq, hp_slub_loops_sheaves, hp_slub_loops_sheaves_pinned;

typedef struct slub_job {
	const slub_loops_t *loops;
	size_t size;
	hp_kmem_cache_t *cache;          /* impl: the kmalloc cache of size */
	handoff_t *handoff;              /* remote_free, remote_node: the batch handoff */
	uint64_t allocated;              /* remote_free, remote_node: objects the producer handed over */
	pthread_t consumer;
	int consumer_cpu, consumer_state;/* 0 starting, 1 running, -1 failed */
	int (*bind_cpu)(int cpu);
	int stop;
	trace_t *trace;
} slub_job_t;

static inline uint64_t handoff_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* spin a little, then let the other thread (or another job) have the CPU */
static inline void handoff_backoff(unsigned *spins)
{
	if (++*spins < 2000)
		hp_cpu_relax();
	else
		sched_yield();
}

/* producer: hand obj[0..k) over and wait until the consumer freed them all */
static inline void handoff_post(handoff_t *h, uint32_t k)
{
	const uint64_t b = h->posted + 1;
	unsigned spins = 0;

	if (!k)
		return;
	h->count = k;
	__atomic_store_n(&h->posted, b, __ATOMIC_RELEASE);
	while (__atomic_load_n(&h->done, __ATOMIC_ACQUIRE) != b)
		handoff_backoff(&spins);
}

/* consumer: the number of objects in the next batch (obj[0..k)), or 0 once
 * stop is set and nothing is posted */
static inline uint32_t handoff_take(handoff_t *h, const int *stop)
{
	const uint64_t d = h->done;
	unsigned spins = 0;

	while (__atomic_load_n(&h->posted, __ATOMIC_ACQUIRE) == d) {
		if (__atomic_load_n(stop, __ATOMIC_ACQUIRE) && __atomic_load_n(&h->posted, __ATOMIC_ACQUIRE) == d)
			return 0;
		handoff_backoff(&spins);
	}
#ifdef HP_SLUB_MUTATE_HANDOFF_SHORT
	return h->count - 1;   /* mutant: the consumer leaves the batch's last object behind */
#else
	return h->count;
#endif
}

/* consumer: k objects of the batch freed in ns; the producer may go on */
static inline void handoff_done(handoff_t *h, uint32_t k, uint64_t ns)
{
	h->freed += k;
	h->free_ns += ns;
	__atomic_store_n(&h->done, h->done + 1, __ATOMIC_RELEASE);
}

static inline int consumer_start(slub_job_t *j)
{
	int ok = j->bind_cpu(j->consumer_cpu) == 0;

	if (ok && j->loops->pinned)
		ok = hp_slub_set_cpu(j->consumer_cpu) == 0;
	__atomic_store_n(&j->consumer_state, ok ? 1 : -1, __ATOMIC_RELEASE);
	return ok ? 0 : -1;
}

#endif
