/* slub_bench.h — suite slub: what bench/slub.c and the per-variant
 * compilations of bench/slub_variant.c share: the job of a run, the
 * remote_free ring, the trace, and the table of measured loops each
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

#define BULK_N 16
#define RING_N 1024
#define TRACE_ALLOCS 32768

typedef struct ring {
	_Alignas(64) uint64_t head;      /* written by the producer */
	_Alignas(64) uint64_t tail;      /* written by the consumer */
	_Alignas(64) void *slot[RING_N];
} ring_t;

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
	ring_t *ring;                    /* remote_free */
	pthread_t consumer;
	int consumer_cpu, consumer_state;/* 0 starting, 1 running, -1 failed */
	int (*bind_cpu)(int cpu);
	int stop;
	trace_t *trace;
} slub_job_t;

static inline void ring_push(ring_t *r, void *p)
{
	uint64_t h = r->head;

	if (!p)
		return;
	while (h - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= RING_N)
		hp_cpu_relax();
	r->slot[h & (RING_N - 1)] = p;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
}

/* NULL once stop is set and the ring is empty */
static inline void *ring_pop(ring_t *r, const int *stop)
{
	uint64_t t = r->tail;
	unsigned spins = 0;
	void *p;

	while (t == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(stop, __ATOMIC_ACQUIRE) && t == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE))
			return NULL;
		if (++spins < 2000)
			hp_cpu_relax();
		else
			sched_yield();
	}
	p = r->slot[t & (RING_N - 1)];
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
	return p;
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
