/* rq_baselines.h — run queues for the sched suite built on other structures: a binary heap, a sorted list, BSD's sys/tree.h red-black tree.
 *
 * Each is the CFS run queue of impl/sched with its rbtree swapped for the
 * structure (rq_generic.h), driven through the same hp_rq_ops_t:
 * - heap: an array binary min-heap of entities by vruntime, each entity
 *   keeping its index for O(log n) removal from the middle; first is O(1).
 * - slist: a doubly linked list kept sorted, insertion walking from the
 *   head (O(n)); first and removal O(1).
 * - bsd_rbtree: libbsd's <bsd/sys/tree.h> RB_* macros used as they come:
 *   no cached leftmost, so first is RB_MIN (O(log n)); keys made unique by
 *   the entity id, since RB_INSERT refuses duplicates.
 */
#ifndef HP_RQ_BASELINES_H
#define HP_RQ_BASELINES_H

#include "fair.h"

extern const hp_rq_ops_t hp_sched_heap_ops;
extern const hp_rq_ops_t hp_sched_slist_ops;
extern const hp_rq_ops_t hp_sched_bsd_ops;

#endif
