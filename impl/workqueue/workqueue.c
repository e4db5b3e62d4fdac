/* workqueue.c — queue_work, worker_thread and process_one_work of Linux 6.6 (see workqueue.h). */
#include "workqueue.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "hp_compiler.h"
#include "hp_futex.h"

/* Deliberately broken builds, for the tests' mutation proofs only
 * (impl/workqueue/meson.build builds them when a test links them):
 *   1  kick_pool never wakes a worker (a lost wake-up, always)
 *   2  PENDING cleared after the work function instead of before it
 *   3  the worker drops pool->lock between finding the worklist empty and
 *      entering idle (the classic lost wake-up window, widened by a yield) */
#ifndef HP_WQ_MUTATION
#define HP_WQ_MUTATION 0
#endif

typedef struct hp_worker {
	hp_list_t node;                 /* on pool->idle_list while idle */
	hp_list_t scheduled;            /* works assigned to this worker */
	_Atomic uint32_t wake;          /* 0: asleep or going to sleep; 1: woken (TASK_RUNNING) */
	hp_work_t *current_work;        /* under pool->lock */
	hp_work_func_t current_func;
	bool idle, stop;
	struct hp_worker_pool *pool;
	pthread_t th;
	bool started;
	_Atomic int ready;              /* 1 bound and running, or -errno */
} hp_worker_t;

typedef struct hp_worker_pool {
	pthread_mutex_t lock;           /* pool->lock */
	hp_list_t worklist;
	hp_list_t idle_list;
	int nr_running;                 /* under lock (the kernel's is atomic for the scheduler hook) */
	int nr_workers, nr_idle;
	int os_cpu;
	int (*bind_cpu)(int);
	unsigned nr_drainers;
	_Atomic uint32_t idle_seq;      /* bumped when the pool goes idle with drainers waiting */
	hp_wq_stats_t st;
	hp_worker_t *workers;
} __attribute__((aligned(64))) hp_worker_pool_t;

struct hp_workqueue {
	unsigned npools;
	hp_worker_pool_t *pools;
};

/* insert_wq_barrier's struct wq_barrier: a work whose function completes. */
typedef struct wq_barrier {
	hp_work_t work;
	_Atomic uint32_t done;
} wq_barrier_t;

static void wq_barrier_func(hp_work_t *work);

/* ------------------------------------------------------------------ */
/* Pool helpers, all with pool->lock held                             */
/* ------------------------------------------------------------------ */

static inline bool need_more_worker(const hp_worker_pool_t *pool)
{
	return !hp_list_empty(&pool->worklist) && pool->nr_running == 0;
}

static inline bool keep_working(const hp_worker_pool_t *pool)
{
	return !hp_list_empty(&pool->worklist) && pool->nr_running <= 1;
}

/* kick_pool(): wake the first idle worker if work waits and nobody runs.
 * Returns the worker whose futex must be woken once the lock is dropped,
 * or NULL (none needed, or the worker was already woken: try_to_wake_up on
 * a running task). */
static hp_worker_t *kick_pool(hp_worker_pool_t *pool)
{
	hp_worker_t *w;

	if (!need_more_worker(pool) || hp_list_empty(&pool->idle_list))
		return NULL;
	w = hp_list_first_entry(&pool->idle_list, hp_worker_t, node);
	pool->st.kicks++;
	if (HP_WQ_MUTATION == 1)
		return NULL;
	if (atomic_exchange_explicit(&w->wake, 1, memory_order_acq_rel) != 0)
		return NULL;
	pool->st.wakeups++;
	return w;
}

static inline void wake_worker(hp_worker_t *w)
{
	if (w)
		hp_futex_wake((uint32_t *)&w->wake, 1);
}

static void worker_enter_idle(hp_worker_t *w)
{
	hp_worker_pool_t *pool = w->pool;

	w->idle = true;
	pool->nr_idle++;
	atomic_store_explicit(&w->wake, 0, memory_order_relaxed);
	hp_list_add(&w->node, &pool->idle_list);
	pool->st.sleeps++;
	if (pool->nr_drainers && pool->nr_idle == pool->nr_workers && hp_list_empty(&pool->worklist)) {
		atomic_fetch_add_explicit(&pool->idle_seq, 1, memory_order_release);
		hp_futex_wake((uint32_t *)&pool->idle_seq, INT32_MAX);
	}
}

static void worker_leave_idle(hp_worker_t *w)
{
	if (!w->idle)
		return;
	w->idle = false;
	w->pool->nr_idle--;
	hp_list_del_init(&w->node);
}

static hp_worker_t *find_worker_executing_work(hp_worker_pool_t *pool, const hp_work_t *work)
{
	for (int i = 0; i < pool->nr_workers; i++) {
		hp_worker_t *w = &pool->workers[i];

		if (w->current_work == work && w->current_func == work->func)
			return w;
	}
	return NULL;
}

/* move_linked_works(): the work and the chain of LINKED ones after it. */
static void move_linked_works(hp_work_t *work, hp_list_t *head)
{
	for (;;) {
		hp_work_t *next = hp_list_entry(work->entry.next, hp_work_t, entry);
		bool linked = atomic_load_explicit(&work->data, memory_order_relaxed) & HP_WORK_STRUCT_LINKED;

		hp_list_move_tail(&work->entry, head);
		if (!linked)
			break;
		work = next;
	}
}

/* insert_work(): mark it queued on this pool and put it before `head`. */
static void insert_work(hp_worker_pool_t *pool, hp_work_t *work, hp_list_t *head, unsigned long extra)
{
	atomic_store_explicit(&work->pool, pool, memory_order_relaxed);
	atomic_fetch_or_explicit(&work->data, HP_WORK_STRUCT_PWQ | extra, memory_order_relaxed);
	hp_list_add_tail(&work->entry, head);
}

/* ------------------------------------------------------------------ */
/* The worker                                                          */
/* ------------------------------------------------------------------ */

/* process_one_work(), called and returning with pool->lock held. */
static void process_one_work(hp_worker_t *w, hp_work_t *work)
{
	hp_worker_pool_t *pool = w->pool;
	hp_worker_t *collision = find_worker_executing_work(pool, work);
	hp_worker_t *kick;

	if (unlikely(collision)) {
		/* running on another worker of this pool: that one runs it
		 * again after the current call, never both at once */
		move_linked_works(work, &collision->scheduled);
		pool->st.collisions++;
		return;
	}
	w->current_work = work;
	w->current_func = work->func;
	hp_list_del_init(&work->entry);
	/* a no-op for a per-CPU pool (this worker runs), kept as in 6.6 */
	kick = kick_pool(pool);
	/* set_work_pool_and_clear_pending(): the function may queue it again */
	if (HP_WQ_MUTATION == 2 && work->func != wq_barrier_func)
		atomic_fetch_and_explicit(&work->data, HP_WORK_STRUCT_PENDING, memory_order_release);
	else
		atomic_store_explicit(&work->data, 0, memory_order_release);
	pthread_mutex_unlock(&pool->lock);
	wake_worker(kick);

	w->current_func(work);

	pthread_mutex_lock(&pool->lock);
	if (HP_WQ_MUTATION == 2 && w->current_func != wq_barrier_func)
		atomic_store_explicit(&work->data, 0, memory_order_release);
	pool->st.works_run++;
	w->current_work = NULL;
	w->current_func = NULL;
}

static void process_scheduled_works(hp_worker_t *w)
{
	while (!hp_list_empty(&w->scheduled))
		process_one_work(w, hp_list_first_entry(&w->scheduled, hp_work_t, entry));
}

int hp_wq_bind_thread(int (*bind_cpu)(int), int os_cpu)
{
	cpu_set_t set;

	if (os_cpu < 0)
		return 0;
	if (bind_cpu)
		return bind_cpu(os_cpu) == 0 ? 0 : -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(os_cpu, &set);
	return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

/* worker_thread(): woken, it takes works while it is the only running
 * worker, then goes idle and sleeps until kick_pool wakes it. */
static void *worker_thread(void *arg)
{
	hp_worker_t *w = arg;
	hp_worker_pool_t *pool = w->pool;

	int rc = hp_wq_bind_thread(pool->bind_cpu, pool->os_cpu);

	atomic_store_explicit(&w->ready, rc ? rc : 1, memory_order_release);
	if (rc)
		return NULL;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		if (w->stop)
			break;
		worker_leave_idle(w);
		if (need_more_worker(pool)) {
			pool->nr_running++;     /* worker_clr_flags(WORKER_PREP) */
			do {
				hp_work_t *work = hp_list_first_entry(&pool->worklist, hp_work_t, entry);

				if (likely(!(atomic_load_explicit(&work->data, memory_order_relaxed) &
					     HP_WORK_STRUCT_LINKED))) {
					process_one_work(w, work);
					process_scheduled_works(w);
				} else {
					move_linked_works(work, &w->scheduled);
					process_scheduled_works(w);
				}
			} while (keep_working(pool));
			pool->nr_running--;     /* worker_set_flags(WORKER_PREP) */
		}
		if (HP_WQ_MUTATION == 3) {
			pthread_mutex_unlock(&pool->lock);
			sched_yield();
			pthread_mutex_lock(&pool->lock);
		}
		worker_enter_idle(w);
		pthread_mutex_unlock(&pool->lock);
		while (atomic_load_explicit(&w->wake, memory_order_acquire) == 0)
			hp_futex_wait((uint32_t *)&w->wake, 0, NULL);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Queueing                                                            */
/* ------------------------------------------------------------------ */

void hp_init_work(hp_work_t *work, hp_work_func_t func)
{
	atomic_store_explicit(&work->data, 0, memory_order_relaxed);
	hp_list_init(&work->entry);
	work->func = func;
	atomic_store_explicit(&work->pool, NULL, memory_order_relaxed);
}

/* __queue_work() for a per-CPU pool. PENDING is ours: nobody else queues
 * this work until it is cleared. */
static void queue_on(hp_worker_pool_t *pool, hp_work_t *work)
{
	hp_worker_pool_t *last = atomic_load_explicit(&work->pool, memory_order_relaxed);
	hp_worker_t *kick;
	bool locked = false;

	if (last && last != pool) {
		/* it may still run on its last pool: queue it there, so that it
		 * never runs on two pools at once */
		pthread_mutex_lock(&last->lock);
		if (find_worker_executing_work(last, work)) {
			pool = last;
			locked = true;
		} else {
			pthread_mutex_unlock(&last->lock);
		}
	}
	if (!locked)
		pthread_mutex_lock(&pool->lock);
	insert_work(pool, work, &pool->worklist, 0);
	pool->st.queued++;
	kick = kick_pool(pool);
	pthread_mutex_unlock(&pool->lock);
	wake_worker(kick);
}

bool hp_queue_work_on(hp_workqueue_t *wq, unsigned cpu, hp_work_t *work)
{
	/* test_and_set_bit(WORK_STRUCT_PENDING_BIT): a full barrier */
	if (atomic_fetch_or_explicit(&work->data, HP_WORK_STRUCT_PENDING, memory_order_seq_cst) &
	    HP_WORK_STRUCT_PENDING)
		return false;
	queue_on(&wq->pools[cpu % wq->npools], work);
	return true;
}

bool hp_queue_work(hp_workqueue_t *wq, hp_work_t *work)
{
	int cpu = sched_getcpu();
	unsigned p = 0;

	for (unsigned i = 0; cpu >= 0 && i < wq->npools; i++)
		if (wq->pools[i].os_cpu == cpu) {
			p = i;
			break;
		}
	return hp_queue_work_on(wq, p, work);
}

/* ------------------------------------------------------------------ */
/* Flush and drain                                                     */
/* ------------------------------------------------------------------ */

static void wq_barrier_func(hp_work_t *work)
{
	wq_barrier_t *b = hp_container_of(work, wq_barrier_t, work);

	atomic_store_explicit(&b->done, 1, memory_order_release);
	hp_futex_wake((uint32_t *)&b->done, 1);
}

bool hp_flush_work(hp_work_t *work)
{
	hp_worker_pool_t *pool = atomic_load_explicit(&work->pool, memory_order_acquire);
	hp_worker_t *worker = NULL;
	wq_barrier_t barr;
	hp_list_t *head;
	unsigned long linked = 0;

	if (!pool)
		return false;
	hp_init_work(&barr.work, wq_barrier_func);
	atomic_store_explicit(&barr.done, 0, memory_order_relaxed);
	atomic_store_explicit(&barr.work.data, HP_WORK_STRUCT_PENDING, memory_order_relaxed);
	pthread_mutex_lock(&pool->lock);
	if (atomic_load_explicit(&work->data, memory_order_relaxed) & HP_WORK_STRUCT_PWQ) {
		/* queued (PWQ is set and cleared under the lock): after it */
		if (atomic_load_explicit(&work->pool, memory_order_relaxed) != pool)
			goto already_gone;
		head = work->entry.next;
		linked = atomic_fetch_or_explicit(&work->data, HP_WORK_STRUCT_LINKED, memory_order_relaxed) &
			 HP_WORK_STRUCT_LINKED;
	} else {
		worker = find_worker_executing_work(pool, work);
		if (!worker)
			goto already_gone;
		head = worker->scheduled.next;      /* run next by the worker running it */
	}
	insert_work(pool, &barr.work, head, linked);
	pthread_mutex_unlock(&pool->lock);
	while (atomic_load_explicit(&barr.done, memory_order_acquire) == 0)
		hp_futex_wait((uint32_t *)&barr.done, 0, NULL);
	/* the worker no longer touches barr once its function has stored
	 * done (it only compares the pointer later), as complete() on an
	 * on-stack completion in the kernel */
	return true;
already_gone:
	pthread_mutex_unlock(&pool->lock);
	return false;
}

static bool pool_idle(const hp_worker_pool_t *pool)
{
	return hp_list_empty(&pool->worklist) && pool->nr_idle == pool->nr_workers;
}

void hp_drain_workqueue(hp_workqueue_t *wq)
{
	for (unsigned i = 0; i < wq->npools; i++) {
		hp_worker_pool_t *pool = &wq->pools[i];

		pthread_mutex_lock(&pool->lock);
		while (!pool_idle(pool)) {
			uint32_t seq = atomic_load_explicit(&pool->idle_seq, memory_order_acquire);

			pool->nr_drainers++;
			pthread_mutex_unlock(&pool->lock);
			hp_futex_wait((uint32_t *)&pool->idle_seq, seq, NULL);
			pthread_mutex_lock(&pool->lock);
			pool->nr_drainers--;
		}
		pthread_mutex_unlock(&pool->lock);
	}
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */
/* ------------------------------------------------------------------ */

void hp_wq_config_init(hp_wq_config_t *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->npools = 1;
	cfg->workers_per_pool = 1;
}

static void stop_pool(hp_worker_pool_t *pool)
{
	for (int i = 0; i < pool->nr_workers; i++) {
		hp_worker_t *w = &pool->workers[i];

		if (!w->started)
			continue;
		pthread_mutex_lock(&pool->lock);
		w->stop = true;
		atomic_store_explicit(&w->wake, 1, memory_order_release);
		pthread_mutex_unlock(&pool->lock);
		hp_futex_wake((uint32_t *)&w->wake, 1);
		pthread_join(w->th, NULL);
		w->started = false;
	}
}

static void free_wq(hp_workqueue_t *wq)
{
	for (unsigned i = 0; i < wq->npools; i++) {
		stop_pool(&wq->pools[i]);
		pthread_mutex_destroy(&wq->pools[i].lock);
		free(wq->pools[i].workers);
	}
	free(wq->pools);
	free(wq);
}

static int start_pool(hp_worker_pool_t *pool, const hp_wq_config_t *cfg, unsigned idx)
{
	pool->os_cpu = cfg->os_cpu ? cfg->os_cpu[idx] : -1;
	pool->bind_cpu = cfg->bind_cpu;
	hp_list_init(&pool->worklist);
	hp_list_init(&pool->idle_list);
	pthread_mutex_init(&pool->lock, NULL);
	pool->workers = calloc(cfg->workers_per_pool, sizeof *pool->workers);
	if (!pool->workers)
		return -ENOMEM;
	pool->nr_workers = (int)cfg->workers_per_pool;
	for (int i = 0; i < pool->nr_workers; i++) {
		hp_worker_t *w = &pool->workers[i];

		w->pool = pool;
		hp_list_init(&w->scheduled);
		hp_list_init(&w->node);
		/* create_worker(): the new worker is idle, and woken at once
		 * (its first sleep is counted when its thread gets there) */
		pthread_mutex_lock(&pool->lock);        /* earlier workers run already */
		w->idle = true;
		pool->nr_idle++;
		hp_list_add(&w->node, &pool->idle_list);
		atomic_store_explicit(&w->wake, 1, memory_order_relaxed);
		pthread_mutex_unlock(&pool->lock);
		int rc = pthread_create(&w->th, NULL, worker_thread, w);

		if (rc != 0)
			return -rc;
		w->started = true;
		while ((rc = atomic_load_explicit(&w->ready, memory_order_acquire)) == 0)
			sched_yield();
		if (rc < 0)
			return rc;      /* the thread has returned; stop_pool joins it */
	}
	return 0;
}

int hp_alloc_workqueue(const hp_wq_config_t *cfg, hp_workqueue_t **out)
{
	hp_workqueue_t *wq;
	int rc = 0;

	if (!cfg || !out || cfg->npools < 1 || cfg->npools > HP_WQ_MAX_POOLS ||
	    cfg->workers_per_pool < 1 || cfg->workers_per_pool > HP_WQ_MAX_WORKERS)
		return -EINVAL;
	for (unsigned i = 0; cfg->os_cpu && i < cfg->npools; i++)
		if (cfg->os_cpu[i] < -1 || cfg->os_cpu[i] >= CPU_SETSIZE)
			return -EINVAL;
	wq = calloc(1, sizeof *wq);
	if (!wq)
		return -ENOMEM;
	wq->pools = aligned_alloc(64, cfg->npools * sizeof *wq->pools);
	if (!wq->pools) {
		free(wq);
		return -ENOMEM;
	}
	memset(wq->pools, 0, cfg->npools * sizeof *wq->pools);
	for (unsigned i = 0; i < cfg->npools && rc == 0; i++) {
		wq->npools = i + 1;
		rc = start_pool(&wq->pools[i], cfg, i);
	}
	if (rc != 0) {
		free_wq(wq);
		return rc;
	}
	*out = wq;
	return 0;
}

int hp_destroy_workqueue(hp_workqueue_t *wq)
{
	if (!wq)
		return -EINVAL;
	hp_drain_workqueue(wq);
	free_wq(wq);
	return 0;
}

unsigned hp_wq_npools(const hp_workqueue_t *wq)
{
	return wq->npools;
}

int hp_wq_stats(hp_workqueue_t *wq, unsigned pool, hp_wq_stats_t *out)
{
	if (!wq || !out || pool >= wq->npools)
		return -EINVAL;
	pthread_mutex_lock(&wq->pools[pool].lock);
	*out = wq->pools[pool].st;
	pthread_mutex_unlock(&wq->pools[pool].lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The suite's ops table: one pool, one worker                         */
/* ------------------------------------------------------------------ */

static int impl_create(int os_cpu, int (*bind_cpu)(int), void **q)
{
	hp_wq_config_t cfg;

	hp_wq_config_init(&cfg);
	cfg.os_cpu = &os_cpu;
	cfg.bind_cpu = bind_cpu;
	return hp_alloc_workqueue(&cfg, (hp_workqueue_t **)q);
}

static void impl_destroy(void *q)
{
	hp_destroy_workqueue(q);
}

static bool impl_queue(void *q, hp_work_t *work)
{
	return hp_queue_work_on(q, 0, work);
}

static bool impl_flush(void *q, hp_work_t *work)
{
	(void)q;
	return hp_flush_work(work);
}

static void impl_drain(void *q)
{
	hp_drain_workqueue(q);
}

static uint64_t impl_wakeups(void *q)
{
	hp_wq_stats_t s;

	return hp_wq_stats(q, 0, &s) == 0 ? s.wakeups : 0;
}

const hp_wq_ops_t hp_wq_impl_ops = {
	.name = "impl",
	.create = impl_create,
	.destroy = impl_destroy,
	.queue = impl_queue,
	.flush = impl_flush,
	.drain = impl_drain,
	.wakeups = impl_wakeups,
};
