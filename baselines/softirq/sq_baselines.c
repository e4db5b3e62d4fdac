/* sq_baselines.c — the softirq suite's baselines (sq_baselines.h): a direct
 * call, a futex-woken worker thread, the kernel's loopback NET_RX. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_compiler.h"
#include "hp_futex.h"
#include "probes.h"
#include "sq_baselines.h"

/* ------------------------------------------------------------------ */
/* direct                                                              */
/* ------------------------------------------------------------------ */

static void *direct_open(const hp_sq_env_t *env)
{
	return (void *)env;
}

static void direct_close(void *inst)
{
	(void)inst;
}

static uint64_t direct_events(void *inst, uint64_t n)
{
	const hp_sq_env_t *env = inst;
	void (*volatile h)(hp_softirq_cpu_t *, void *) = env->act;
	void *arg = env->act_arg;

	for (uint64_t i = 0; i < n; i++)
		h(NULL, arg);
	return *env->action_count;
}

const hp_sq_ops_t hp_sq_ops_direct = { .open = direct_open, .close = direct_close, .events = direct_events };

/* ------------------------------------------------------------------ */
/* thread                                                              */
/* ------------------------------------------------------------------ */

/* A worker thread: waits for `req` to move past what it has served, runs
 * the event (counts it) and publishes `done`; spins or sleeps on req. */
typedef struct worker {
	_Atomic uint32_t req;   /* events posted */
	_Atomic uint32_t done;  /* events served */
	_Atomic int stop;
	int spin;               /* poll req instead of sleeping on it */
	int os_cpu;
	int (*bind)(int cpu);
	uint64_t count;         /* the action's own count (the worker's) */
	pthread_t th;
} worker_t;

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	uint32_t seen = 0;

	if (w->bind && w->os_cpu >= 0)
		w->bind(w->os_cpu);
	for (;;) {
		uint32_t r = atomic_load_explicit(&w->req, memory_order_acquire);

		if (r == seen) {
			if (atomic_load_explicit(&w->stop, memory_order_acquire))
				break;
			if (w->spin)
				hp_cpu_relax();
			else
				hp_futex_wait((uint32_t *)&w->req, seen, NULL);
			continue;
		}
		while (seen != r) {     /* the deferred work: one count per event */
			seen++;
			w->count++;
		}
		atomic_store_explicit(&w->done, seen, memory_order_release);
		if (!w->spin)
			hp_futex_wake((uint32_t *)&w->done, 1);
	}
	return NULL;
}

/* the worker on this CPU, or on the other one for remote (where it spins
 * for the busy target) */
static void *thread_open(const hp_sq_env_t *env)
{
	worker_t *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->os_cpu = env->remote ? env->os_cpu[1] : env->os_cpu[0];
	w->spin = env->remote && !env->target_idle;
	w->bind = env->bind_cpu;
	if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
		free(w);
		return NULL;
	}
	return w;
}

static void thread_close(void *inst)
{
	worker_t *w = inst;

	if (!w)
		return;
	atomic_store_explicit(&w->stop, 1, memory_order_release);
	atomic_fetch_add_explicit(&w->req, 0, memory_order_release);
	hp_futex_wake((uint32_t *)&w->req, 1);
	pthread_join(w->th, NULL);
	free(w);
}

/* One event through the worker: post, then wait for it to be served
 * (sleeping when the worker sleeps: both sides of a threaded handler). */
static inline void worker_event(worker_t *w)
{
	uint32_t r = atomic_fetch_add_explicit(&w->req, 1, memory_order_acq_rel) + 1;

	if (!w->spin)
		hp_futex_wake((uint32_t *)&w->req, 1);
	for (;;) {
		uint32_t d = atomic_load_explicit(&w->done, memory_order_acquire);

		if (d == r)
			return;
		if (w->spin)
			hp_cpu_relax();
		else
			hp_futex_wait((uint32_t *)&w->done, d, NULL);
	}
}

/* raise_dispatch and remote alike: n events, then the worker's count */
static uint64_t thread_events(void *inst, uint64_t n)
{
	worker_t *w = inst;
	uint64_t got;

	for (uint64_t i = 0; i < n; i++)
		worker_event(w);
	got = w->count;
	w->count = 0;
	return got;
}

const hp_sq_ops_t hp_sq_ops_thread = {
	.open = thread_open, .close = thread_close, .events = thread_events, .remote = thread_events,
	.other_thread = 1,
};

/* ------------------------------------------------------------------ */
/* kernel                                                              */
/* ------------------------------------------------------------------ */

typedef struct sq_kernel {
	hp_kp_udp_t udp;
	char err[160];
} sq_kernel_t;

static void *kernel_open(const hp_sq_env_t *env)
{
	sq_kernel_t *k = calloc(1, sizeof *k);

	(void)env;
	if (!k)
		return NULL;
	k->udp.tx = k->udp.rx = -1;
	if (hp_kp_udp_open(&k->udp) != 0) {     /* it closed what it opened */
		free(k);
		return NULL;
	}
	return k;
}

static void kernel_close(void *inst)
{
	sq_kernel_t *k = inst;

	if (!k)
		return;
	hp_kp_udp_close(&k->udp);
	free(k);
}

static uint64_t kernel_events(void *inst, uint64_t n)
{
	sq_kernel_t *k = inst;
	uint64_t seq0 = k->udp.seq;
	int rc = hp_kp_udp_round(&k->udp, n);

	if (rc != 0)
		snprintf(k->err, sizeof k->err, "udp round trip: %s", strerror(-rc));
	return k->udp.seq - seq0;
}

static uint64_t kernel_deferred(void *inst)
{
	sq_kernel_t *k = inst;
	uint64_t d = k->udp.deferred;

	k->udp.deferred = 0;
	return d;
}

static const char *kernel_error(void *inst)
{
	sq_kernel_t *k = inst;

	return k->err[0] ? k->err : NULL;
}

const hp_sq_ops_t hp_sq_ops_kernel = {
	.open = kernel_open, .close = kernel_close, .events = kernel_events,
	.deferred = kernel_deferred, .error = kernel_error,
};

const char *hp_sq_kernel_unavailable(void)
{
	static char why[160];
	static int checked;
	const char *k = hp_kp_available();

	if (k)
		return k;
	if (!checked) {
		/* a network namespace without an IPv4 loopback, a seccomp
		 * filter on socket(): say so, do not fail */
		hp_kp_udp_t u;
		int rc = hp_kp_udp_open(&u);

		if (rc == 0)
			hp_kp_udp_close(&u);
		else
			snprintf(why, sizeof why, "no UDP over IPv4 loopback here: %s", strerror(-rc));
		checked = 1;
	}
	return why[0] ? why : NULL;
}
