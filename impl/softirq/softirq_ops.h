/* softirq_ops.h — the ops table through which the softirq suite runs one
 * variant (hp_variant_t.ops of suite softirq), and impl/softirq's two
 * tables (dispatch at irq_exit, or in ksoftirqd with threadirqs).
 *
 * Why here: the type wraps this library's machine, so it is declared next
 * to it, as hp_softirq_mode_ops_t is; the baselines (baselines/softirq/:
 * a direct call, a futex-woken thread, the kernel's loopback) include this
 * header and fill the same type, and the bench only selects a table.
 * Nothing here names the harness: what a variant needs from a case comes
 * in hp_sq_env_t, so impl/softirq includes neither the harness nor the
 * baselines.
 */
#ifndef HP_SOFTIRQ_OPS_H
#define HP_SOFTIRQ_OPS_H

#include <stdatomic.h>
#include <stdint.h>

#include "softirq.h"

/* What one case asks of a variant, filled by the bench before open. */
typedef struct hp_sq_env {
	int remote;                     /* the event comes from the other CPU */
	int target_idle;                /* remote: the other side sleeps between events (else it spins) */
	int os_cpu[2];                  /* OS CPU of the measuring thread, of the other side */
	int (*bind_cpu)(int os_cpu);    /* pins the calling thread, or NULL */
	/* the case's NET_RX action and its argument; it counts the events it
	 * saw in *action_count (remote: publishes the last event's number in
	 * *published) */
	void (*act)(hp_softirq_cpu_t *cpu, void *arg);
	void *act_arg;
	const uint64_t *action_count;
	const _Atomic uint64_t *published;
} hp_sq_env_t;

/* One variant. A loop the variant lacks is NULL (its cases do not list it). */
typedef struct hp_sq_ops {
	/* the variant's machinery for one case; NULL on failure. env outlives it. */
	void *(*open)(const hp_sq_env_t *env);
	void (*close)(void *inst);
	/* raise_dispatch: n events; returns how many the deferred work saw */
	uint64_t (*events)(void *inst, uint64_t n);
	/* remote: n events from the other CPU; returns how many were served */
	uint64_t (*remote)(void *inst, uint64_t n);
	/* impl: the machine, for the cases that drive it themselves (restart,
	 * tasklet) and its counters; NULL for the baselines */
	hp_softirq_sys_t *(*sys)(void *inst);
	/* deferred raises the kernel reported since the last call (kernel), or NULL */
	uint64_t (*deferred)(void *inst);
	/* why the last loop failed, or NULL (a system call of the kernel's loopback) */
	const char *(*error)(void *inst);
	int other_thread;               /* the work always runs in another thread */
} hp_sq_ops_t;

/* impl: NET_RX raised by a hardirq and run at irq_exit, or (threadirqs) by
 * ksoftirqd, which the interrupted thread's cond_resched lets run */
extern const hp_sq_ops_t hp_sq_ops_irq_exit, hp_sq_ops_threadirqs;

#endif
