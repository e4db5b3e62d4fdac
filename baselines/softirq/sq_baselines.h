/* sq_baselines.h — the softirq suite's baselines, behind impl/softirq's
 * ops table (hp_sq_ops_t, softirq_ops.h). Each does the deferred work of
 * an event, once per event, another way than a softirq:
 *  - direct: the case's action called at once through a function pointer
 *    (the volatile pointer keeps the call): no raise, no pending mask, no
 *    dispatch. The floor: what the work costs with nothing deferred.
 *  - thread: a worker thread, the threaded handler's shape. An event is
 *    posted by an atomic add on a request word and a FUTEX_WAKE, the worker
 *    counts it and publishes `done` with another FUTEX_WAKE, and the poster
 *    sleeps on `done` (FUTEX_WAIT) until then: two wake-ups and two context
 *    switches per event on one CPU. For remote the worker runs on the
 *    other CPU and, for the busy target, spins on the words instead of
 *    sleeping (no system calls: the cost is the cache lines' round trip).
 *  - kernel: the running kernel's own NET_RX, through baselines/kernel's
 *    UDP loopback probe: one datagram sent and received per event
 *    (udp_sendmsg ... do_softirq -> net_rx_action -> udp_rcv, then recvmsg),
 *    system calls included. It reports the raises the kernel deferred
 *    (deferred), and is unavailable where there is no IPv4 loopback.
 */
#ifndef HP_SQ_BASELINES_H
#define HP_SQ_BASELINES_H

#include "softirq_ops.h"

extern const hp_sq_ops_t hp_sq_ops_direct, hp_sq_ops_thread, hp_sq_ops_kernel;

/* NULL when the kernel baseline can run here, else why not (cached). */
const char *hp_sq_kernel_unavailable(void);

#endif
