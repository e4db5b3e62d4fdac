/* thread_queue.c — a pthread worker behind a mutex-protected list, woken by a condition variable or an eventfd (wq_baselines.h). */
#include "wq_baselines.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef enum { TQ_CONDVAR, TQ_EVENTFD } tq_kind_t;

typedef struct tq {
	tq_kind_t kind;
	pthread_mutex_t lock;
	pthread_cond_t more;            /* condvar: the worker waits here */
	pthread_cond_t done;            /* flush and drain wait here */
	int efd;                        /* eventfd: the worker reads here */
	hp_list_t list;
	hp_work_t *current;
	bool waiting, stop;
	bool signalled;                 /* cond: a signal is on its way to the waiting worker */
	unsigned watchers;              /* flushers and drainers waiting on `done` */
	uint64_t wakeups;
	int os_cpu;
	int (*bind_cpu)(int);
	_Atomic int ready;              /* 1 bound and running, or -errno */
	pthread_t th;
} tq_t;

/* Takes the first work and runs it unlocked; lock held on entry and exit. */
static void tq_run_one(tq_t *q)
{
	hp_work_t *w = hp_list_first_entry(&q->list, hp_work_t, entry);

	hp_list_del_init(&w->entry);
	atomic_store_explicit(&w->data, 0, memory_order_relaxed);   /* PENDING off before the call */
	q->current = w;
	pthread_mutex_unlock(&q->lock);
	w->func(w);
	pthread_mutex_lock(&q->lock);
	q->current = NULL;
	if (q->watchers)
		pthread_cond_broadcast(&q->done);
}

static void *tq_worker(void *arg)
{
	tq_t *q = arg;
	int rc = hp_wq_bind_thread(q->bind_cpu, q->os_cpu);

	atomic_store_explicit(&q->ready, rc ? rc : 1, memory_order_release);
	if (rc)
		return NULL;
	pthread_mutex_lock(&q->lock);
	while (!q->stop) {
		if (hp_list_empty(&q->list)) {
			if (q->kind == TQ_CONDVAR) {
				q->waiting = true;
				pthread_cond_wait(&q->more, &q->lock);
				q->waiting = q->signalled = false;
			} else {
				uint64_t cnt;

				pthread_mutex_unlock(&q->lock);
				while (read(q->efd, &cnt, sizeof cnt) < 0 && errno == EINTR)
					;
				pthread_mutex_lock(&q->lock);
			}
			continue;
		}
		tq_run_one(q);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void tq_free(tq_t *q)
{
	if (q->efd >= 0)
		close(q->efd);
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->done);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static int tq_create(tq_kind_t kind, int os_cpu, int (*bind_cpu)(int), void **out)
{
	tq_t *q = calloc(1, sizeof *q);
	int rc;

	if (!q)
		return -ENOMEM;
	q->kind = kind;
	q->os_cpu = os_cpu;
	q->bind_cpu = bind_cpu;
	q->efd = -1;
	hp_list_init(&q->list);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->more, NULL);
	pthread_cond_init(&q->done, NULL);
	if (kind == TQ_EVENTFD && (q->efd = eventfd(0, EFD_CLOEXEC)) < 0) {
		rc = -errno;
		tq_free(q);
		return rc;
	}
	rc = pthread_create(&q->th, NULL, tq_worker, q);
	if (rc != 0) {
		tq_free(q);
		return -rc;
	}
	while ((rc = atomic_load_explicit(&q->ready, memory_order_acquire)) == 0)
		sched_yield();
	if (rc < 0) {
		pthread_join(q->th, NULL);
		tq_free(q);
		return rc;
	}
	*out = q;
	return 0;
}

static void tq_kick(tq_t *q)
{
	uint64_t one = 1;

	if (q->kind == TQ_CONDVAR) {
		pthread_cond_signal(&q->more);
		return;
	}
	while (write(q->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static bool tq_queue(void *p, hp_work_t *w)
{
	tq_t *q = p;

	pthread_mutex_lock(&q->lock);
	if (atomic_load_explicit(&w->data, memory_order_relaxed) & HP_WORK_STRUCT_PENDING) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	atomic_store_explicit(&w->data, HP_WORK_STRUCT_PENDING, memory_order_relaxed);
	hp_list_add_tail(&w->entry, &q->list);
	/* counted: the system calls that wake the worker (a signal to a
	 * worker already signalled makes none in glibc) */
	if (q->kind == TQ_EVENTFD || (q->waiting && !q->signalled)) {
		q->wakeups++;
		q->signalled = true;
	}
	pthread_mutex_unlock(&q->lock);
	tq_kick(q);
	return true;
}

static bool tq_flush(void *p, hp_work_t *w)
{
	tq_t *q = p;
	bool waited = false;

	pthread_mutex_lock(&q->lock);
	q->watchers++;
	while ((atomic_load_explicit(&w->data, memory_order_relaxed) & HP_WORK_STRUCT_PENDING) ||
	       q->current == w) {
		waited = true;
		pthread_cond_wait(&q->done, &q->lock);
	}
	q->watchers--;
	pthread_mutex_unlock(&q->lock);
	return waited;
}

static void tq_drain(void *p)
{
	tq_t *q = p;

	pthread_mutex_lock(&q->lock);
	q->watchers++;
	while (!hp_list_empty(&q->list) || q->current)
		pthread_cond_wait(&q->done, &q->lock);
	q->watchers--;
	pthread_mutex_unlock(&q->lock);
}

static void tq_destroy(void *p)
{
	tq_t *q = p;

	tq_drain(q);
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_mutex_unlock(&q->lock);
	tq_kick(q);
	pthread_join(q->th, NULL);
	tq_free(q);
}

static uint64_t tq_wakeups(void *p)
{
	tq_t *q = p;
	uint64_t n;

	pthread_mutex_lock(&q->lock);
	n = q->wakeups;
	pthread_mutex_unlock(&q->lock);
	return n;
}

static int condvar_create(int os_cpu, int (*bind_cpu)(int), void **q)
{
	return tq_create(TQ_CONDVAR, os_cpu, bind_cpu, q);
}

static int eventfd_create(int os_cpu, int (*bind_cpu)(int), void **q)
{
	return tq_create(TQ_EVENTFD, os_cpu, bind_cpu, q);
}

const hp_wq_ops_t hp_wq_cond_ops = {
	.name = "cond",
	.create = condvar_create,
	.destroy = tq_destroy,
	.queue = tq_queue,
	.flush = tq_flush,
	.drain = tq_drain,
	.wakeups = tq_wakeups,
};

const hp_wq_ops_t hp_wq_eventfd_ops = {
	.name = "eventfd",
	.create = eventfd_create,
	.destroy = tq_destroy,
	.queue = tq_queue,
	.flush = tq_flush,
	.drain = tq_drain,
	.wakeups = tq_wakeups,
};
