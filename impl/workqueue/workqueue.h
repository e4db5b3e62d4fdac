/* workqueue.h — the queue_work hot path of Linux 6.6 (kernel/workqueue.c) in user space.
 *
 * Kernel version followed: Linux 6.6 (LTS), per-CPU (bound) workqueues.
 * What is modelled is the path a work item takes from queue_work to its
 * function and back: the PENDING bit, the per-CPU worker_pool with its
 * worklist and idle workers, concurrency management (wake a worker only
 * when none is running), process_one_work, flush_work's barrier and a
 * drain. Not modelled: unbound workqueues and their affinity scopes,
 * max_active and the inactive list, rescuers, the manager that creates and
 * destroys workers (a pool has a fixed set), delayed and RCU works,
 * cancel_work, flush colours, and wq_worker_sleeping() (see below).
 *
 *   here                          kernel (6.6)
 *   ----------------------------  --------------------------------------------
 *   hp_work_t                     struct work_struct: data (atomic_long_t
 *                                 with the WORK_STRUCT_* bits), entry, func
 *   hp_init_work()                INIT_WORK()
 *   hp_work_pending()             work_pending(): the PENDING bit
 *   hp_alloc_workqueue()          alloc_workqueue() of a per-CPU wq, plus
 *                                 the per-CPU worker_pools it uses (the
 *                                 kernel shares those between all wqs;
 *                                 here each wq has its own)
 *   hp_queue_work_on()            queue_work_on(): test_and_set_bit(PENDING),
 *                                 __queue_work(), insert_work(), kick_pool()
 *   hp_queue_work()               queue_work(): WORK_CPU_UNBOUND, i.e. the
 *                                 pool of the CPU the caller runs on
 *   (internal) worker_thread      worker_thread(): worker_leave_idle,
 *                                 need_more_worker, nr_running, keep_working,
 *                                 worker_enter_idle, schedule()
 *   (internal) process_one_work   process_one_work(): the non-reentrancy
 *                                 collision check, list_del_init,
 *                                 set_work_pool_and_clear_pending() BEFORE
 *                                 the function is called, then the call
 *   hp_flush_work()               flush_work(): start_flush_work() inserts a
 *                                 barrier work (insert_wq_barrier) after the
 *                                 target, or first on the scheduled list of
 *                                 the worker running it, and waits for it
 *   hp_drain_workqueue()          drain_workqueue(), simplified: waits until
 *                                 every pool is idle (see the function)
 *   hp_destroy_workqueue()        destroy_workqueue()
 *
 * The PENDING bit. queue_work_on does test_and_set_bit(PENDING) (an atomic
 * fetch-or, a full barrier) and returns false when it was already set: a
 * work queued twice before it runs runs once. process_one_work clears it
 * under pool->lock before calling the function, so a work queued again
 * while (or by) its function runs runs once more, never zero times.
 *
 * Concurrency management. A pool counts its running workers (nr_running);
 * insert_work is followed by kick_pool(), which wakes the first idle worker
 * only when the worklist is non-empty and nr_running is 0
 * (need_more_worker). A worker drains the worklist while it is the only
 * running one (keep_working), so a burst of works queued while it runs
 * costs no wake-up at all. The kernel also lowers nr_running when a work
 * function blocks (wq_worker_sleeping, from the scheduler) so that another
 * worker takes over; user space cannot see a thread block, so here a
 * worker counts as running until its function returns: extra workers of a
 * pool only run works when the running one is idle.
 *
 * User-space stand-ins and why:
 *  - pool->lock (raw_spinlock_t, taken with irqs off) is a pthread mutex: a
 *    spinning waiter on a preempted holder would burn its time slice, which
 *    the kernel avoids by disabling preemption.
 *  - A worker's sleep (__set_current_state(TASK_IDLE) under pool->lock,
 *    unlock, schedule()) is a futex: worker_enter_idle sets the worker's
 *    wake word to 0 under the lock; the thread waits while it is 0.
 *    wake_up_process() is an atomic exchange of the word to 1 and, only
 *    when it was 0, a FUTEX_WAKE: as try_to_wake_up() returns at once for a
 *    task that is already running, a second kick of a woken worker costs no
 *    system call. The FUTEX_WAKE is issued after pool->lock is dropped (the
 *    kernel wakes under its spinlock; a woken thread would block on a held
 *    mutex straight away); the exchange under the lock keeps it safe.
 *  - Per-CPU pools are bound by CPU affinity: pool i's workers are pinned to
 *    os_cpu[i] when given. The CPU a pool stands for is not enforced for
 *    the queuer: hp_queue_work_on() may be called from any thread.
 *  - work->data keeps only the flag bits; the pool a work was last queued
 *    on (get_work_pool) is a separate field.
 *
 * Costs (gcc 12 -O2, x86_64, 2-vCPU KVM guest; the workqueue suite's
 * figures, see docs/suites/workqueue.md): hp_queue_work_on of a work that
 * is already pending is one locked fetch-or; otherwise the fetch-or, the
 * pool mutex (uncontended: two atomics), a list insert and the kick_pool
 * test, plus one FUTEX_WAKE system call when the worker sleeps. The
 * dispatch side is the worker's futex wake-up (the scheduler's cost,
 * microseconds in a VM), then per work the mutex, a list_del_init, a store
 * to data and an indirect call.
 *
 * Thread safety: hp_queue_work[_on], hp_work_pending and hp_flush_work are
 * safe from any thread, also from inside a work function (a work may
 * requeue itself). hp_flush_work must not be called by the work it flushes
 * (it would wait for itself; the kernel warns). hp_drain_workqueue and
 * hp_destroy_workqueue need the queuers stopped; destroy is quiescent.
 *
 * Errors: -EINVAL for bad arguments, -ENOMEM, and a negated errno from
 * pthreads or sched_setaffinity.
 */
#ifndef HP_WORKQUEUE_H
#define HP_WORKQUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hp_list.h"

#ifdef __cplusplus
extern "C" {
#endif

/* work->data bits, with the kernel's bit numbers (include/linux/workqueue.h) */
#define HP_WORK_STRUCT_PENDING 0x1ul    /* WORK_STRUCT_PENDING_BIT 0: queued, not yet started */
#define HP_WORK_STRUCT_PWQ 0x4ul        /* WORK_STRUCT_PWQ_BIT 2: on a pool's list */
#define HP_WORK_STRUCT_LINKED 0x8ul     /* WORK_STRUCT_LINKED_BIT 3: the next work goes with it */

#define HP_WQ_MAX_POOLS 1024
#define HP_WQ_MAX_WORKERS 64            /* per pool */

struct hp_work;
struct hp_worker_pool;
typedef void (*hp_work_func_t)(struct hp_work *work);

typedef struct hp_work {
	_Atomic unsigned long data;     /* HP_WORK_STRUCT_* */
	hp_list_t entry;                /* on a worklist or a worker's scheduled list */
	hp_work_func_t func;
	struct hp_worker_pool *_Atomic pool;  /* last pool queued on (get_work_pool) */
} hp_work_t;

typedef struct hp_workqueue hp_workqueue_t;

typedef struct hp_wq_config {
	unsigned npools;                /* per-CPU pools, 1..HP_WQ_MAX_POOLS (default 1) */
	unsigned workers_per_pool;      /* 1..HP_WQ_MAX_WORKERS (default 1) */
	const int *os_cpu;              /* NULL, or npools entries: the OS CPU of
					   pool i's workers, -1 for none */
	/* Pins the calling thread to an OS CPU, 0 or -1; NULL: sched_setaffinity. */
	int (*bind_cpu)(int os_cpu);
} hp_wq_config_t;

/* Per-pool counters, read under pool->lock. */
typedef struct hp_wq_stats {
	uint64_t queued;                /* queue_work calls that queued (PENDING was clear) */
	uint64_t kicks;                 /* kick_pool found work and an idle worker */
	uint64_t wakeups;               /* ... and the worker slept: a FUTEX_WAKE */
	uint64_t works_run;             /* work functions called (barriers included) */
	uint64_t sleeps;                /* workers that went idle */
	uint64_t collisions;            /* works moved to the worker already running them */
} hp_wq_stats_t;

void hp_wq_config_init(hp_wq_config_t *cfg);
/* Creates the pools and starts their workers (idle). 0 and *out, or
 * -EINVAL / -ENOMEM / -errno (a failed pthread_create or binding). */
int hp_alloc_workqueue(const hp_wq_config_t *cfg, hp_workqueue_t **out);
/* Drains, stops the workers and frees. Quiescent: nobody queues. */
int hp_destroy_workqueue(hp_workqueue_t *wq);

/* INIT_WORK: data 0, entry empty, func. Not while the work is queued. */
void hp_init_work(hp_work_t *work, hp_work_func_t func);
static inline bool hp_work_pending(hp_work_t *work)
{
	return atomic_load_explicit(&work->data, memory_order_relaxed) & HP_WORK_STRUCT_PENDING;
}

/* queue_work_on(): true if queued on pool `cpu`, false if it was already
 * pending (nothing done). A work running elsewhere is queued on the pool
 * that runs it, so it never runs twice at once (__queue_work's last_pool).
 * An out-of-range cpu is taken modulo npools. */
bool hp_queue_work_on(hp_workqueue_t *wq, unsigned cpu, hp_work_t *work);
/* queue_work(): the pool whose os_cpu is the caller's CPU (sched_getcpu),
 * pool 0 when none is. */
bool hp_queue_work(hp_workqueue_t *wq, hp_work_t *work);

/* flush_work(): waits until the last queueing of `work` has finished
 * running. true if it waited, false if the work was idle (not queued, not
 * running). A work queued while the flush waits may still be pending when
 * it returns, as in the kernel. */
bool hp_flush_work(hp_work_t *work);

/* Waits until every pool has an empty worklist and every worker is idle.
 * The kernel's drain_workqueue also refuses new works from outside the
 * queue while it drains; here the caller must have stopped queueing (works
 * that requeue themselves keep it waiting until they stop). */
void hp_drain_workqueue(hp_workqueue_t *wq);

unsigned hp_wq_npools(const hp_workqueue_t *wq);
/* Pins the calling thread to os_cpu (nothing for -1) through bind_cpu, or
 * sched_setaffinity when it is NULL: how workers (and the baselines'
 * worker threads) are placed. 0 or a negated errno. */
int hp_wq_bind_thread(int (*bind_cpu)(int), int os_cpu);
int hp_wq_stats(hp_workqueue_t *wq, unsigned pool, hp_wq_stats_t *out);

/* ================================================================== */
/* The workqueue suite's variant contract                              */
/* ================================================================== */

/* One queue with one worker thread: what every variant of the workqueue
 * suite (bench/workqueue.c) provides. Works are hp_work_t for all of them,
 * with the same PENDING rule: queue returns false, doing nothing, while a
 * work is pending, and PENDING is cleared before the function runs. */
typedef struct hp_wq_ops {
	const char *name;
	/* The worker on OS CPU os_cpu (-1: not pinned); bind_cpu as in
	 * hp_wq_config_t. 0 and *q, or a negated errno. */
	int (*create)(int os_cpu, int (*bind_cpu)(int), void **q);
	void (*destroy)(void *q);
	bool (*queue)(void *q, hp_work_t *work);
	/* Waits until the work's last queueing has run; true if it waited. */
	bool (*flush)(void *q, hp_work_t *work);
	/* Waits until nothing is queued or running (queuers stopped). */
	void (*drain)(void *q);
	/* Wake-ups issued so far (system calls that woke or could wake the
	 * worker: FUTEX_WAKE, a condition signal to a waiting worker, an
	 * eventfd write). */
	uint64_t (*wakeups)(void *q);
} hp_wq_ops_t;

/* The model above: one pool, one worker. */
extern const hp_wq_ops_t hp_wq_impl_ops;

#ifdef __cplusplus
}
#endif

#endif
