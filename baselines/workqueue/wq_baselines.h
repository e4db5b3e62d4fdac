/* wq_baselines.h — the workqueue suite's baselines: one pthread worker fed
 * through a mutex-protected list, woken by a condition variable or by an
 * eventfd, behind impl/workqueue's ops table (hp_wq_ops_t).
 *
 * Both keep the model's PENDING rule with a plain test-and-set under their
 * mutex (queue returns false for a pending work; the worker clears PENDING
 * when it takes the work, before calling it), so every variant does the
 * same work. What differs is the wake-up:
 *  - cond: queue = lock, append, unlock, pthread_cond_signal. glibc's
 *    signal makes no system call when nobody waits, so the worker is woken
 *    (FUTEX_WAKE) only when it sleeps in pthread_cond_wait; it takes one
 *    work per lock round.
 *  - eventfd: queue = lock, append, unlock, write(efd, 1): a system call per
 *    work whatever the worker does; the worker blocks in read(efd) and then
 *    drains the list. The usual shape of an event loop fed from threads.
 * flush waits until the work is neither pending nor running (later
 * queueings included); drain until the list is empty and the worker idle.
 */
#ifndef HP_WQ_BASELINES_H
#define HP_WQ_BASELINES_H

#include "workqueue.h"

extern const hp_wq_ops_t hp_wq_cond_ops;
extern const hp_wq_ops_t hp_wq_eventfd_ops;

#endif
