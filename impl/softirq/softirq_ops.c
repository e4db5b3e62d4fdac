/* softirq_ops.c — impl/softirq's variants of the softirq suite (softirq_ops.h):
 * the machine in one dispatch mode, NET_RX bound to the case's action, and
 * for remote a second CPU owned by a target thread. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "hp_compiler.h"
#include "softirq_ops.h"

typedef struct sq_impl {
	hp_softirq_sys_t *sys;
	const hp_sq_env_t *env;
	uint64_t next;                  /* remote: the event number being sent */
	pthread_t target;
	int target_started;
	_Atomic int target_ready, target_stop;
} sq_impl_t;

static void irq_raise(hp_softirq_cpu_t *cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	hp_raise_softirq(HP_NET_RX_SOFTIRQ);
}

/* Owns CPU 1 of the machine on the other OS CPU: spins with cond_resched
 * points (busy) or sleeps in nanosleep, which its interrupt signal cuts
 * short (idle). */
static void *target_main(void *arg)
{
	sq_impl_t *m = arg;

	if (m->env->bind_cpu)
		m->env->bind_cpu(m->env->os_cpu[1]);
	if (hp_softirq_cpu_attach(m->sys, 1) != 0) {
		atomic_store_explicit(&m->target_ready, -1, memory_order_release);
		return NULL;
	}
	atomic_store_explicit(&m->target_ready, 1, memory_order_release);
	while (!atomic_load_explicit(&m->target_stop, memory_order_acquire)) {
		if (m->env->target_idle) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		} else {
			for (int i = 0; i < 256; i++)
				hp_cpu_relax();
		}
		hp_softirq_cond_resched();
	}
	hp_softirq_cpu_detach();
	return NULL;
}

static void impl_close(void *inst)
{
	sq_impl_t *m = inst;

	if (!m)
		return;
	if (m->target_started) {
		atomic_store_explicit(&m->target_stop, 1, memory_order_release);
		pthread_join(m->target, NULL);
	}
	if (m->sys)
		hp_softirq_destroy(m->sys);
	free(m);
}

static void *impl_open(const hp_sq_env_t *env, const hp_softirq_mode_ops_t *mode)
{
	sq_impl_t *m = calloc(1, sizeof *m);
	hp_softirq_config_t cfg;

	if (!m)
		return NULL;
	m->env = env;
	hp_softirq_config_init(&cfg);
	cfg.ncpus = env->remote ? 2 : 1;
	cfg.force_irqthreads = mode->force_irqthreads;
	cfg.ksoftirqd_os_cpu = env->os_cpu;
	if (hp_softirq_create(&cfg, &m->sys) != 0 ||
	    hp_open_softirq(m->sys, HP_NET_RX_SOFTIRQ, env->act, env->act_arg) != 0)
		goto fail;
	if (!env->remote)
		return m;
	if (pthread_create(&m->target, NULL, target_main, m) != 0)
		goto fail;
	m->target_started = 1;
	while (!atomic_load_explicit(&m->target_ready, memory_order_acquire))
		sched_yield();
	if (atomic_load_explicit(&m->target_ready, memory_order_acquire) > 0)
		return m;
fail:
	impl_close(m);
	return NULL;
}

static void *open_irq_exit(const hp_sq_env_t *env)
{
	return impl_open(env, &hp_softirq_ops_irq_exit);
}

static void *open_threadirqs(const hp_sq_env_t *env)
{
	return impl_open(env, &hp_softirq_ops_threadirqs);
}

static hp_softirq_sys_t *impl_sys(void *inst)
{
	return ((sq_impl_t *)inst)->sys;
}

static uint64_t irq_exit_events(void *inst, uint64_t n)
{
	const sq_impl_t *m = inst;

	for (uint64_t i = 0; i < n; i++)
		hp_softirq_irq(irq_raise, NULL);
	return *m->env->action_count;
}

/* the interrupted thread's cond_resched hands the CPU to ksoftirqd */
static uint64_t threadirqs_events(void *inst, uint64_t n)
{
	const sq_impl_t *m = inst;

	for (uint64_t i = 0; i < n; i++) {
		hp_softirq_irq(irq_raise, NULL);
		hp_softirq_cond_resched();
	}
	return *m->env->action_count;
}

/* an interrupt to CPU 1 per event; the action publishes the event's
 * number, which the sender waits for */
static uint64_t impl_remote(void *inst, uint64_t n)
{
	sq_impl_t *m = inst;
	const _Atomic uint64_t *published = m->env->published;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = ++m->next;

		while (hp_softirq_send_irq(m->sys, 1, irq_raise, NULL) == -EAGAIN)
			hp_cpu_relax();
		while (atomic_load_explicit(published, memory_order_acquire) != want)
			hp_cpu_relax();
	}
	return n;       /* each event waited for its own number */
}

const hp_sq_ops_t hp_sq_ops_irq_exit = {
	.open = open_irq_exit, .close = impl_close, .events = irq_exit_events, .remote = impl_remote,
	.sys = impl_sys,
};

const hp_sq_ops_t hp_sq_ops_threadirqs = {
	.open = open_threadirqs, .close = impl_close, .events = threadirqs_events, .sys = impl_sys,
	.other_thread = 1,
};
