/* hp_list.h — a circular doubly linked intrusive list with the kernel's
 * semantics (include/linux/list.h, Linux 6.6), shared by impl/ and tests.
 *
 * As in the kernel, hp_list_del() poisons the removed node (next and prev
 * point at two distinct non-canonical addresses, LIST_POISON1/2 with the
 * x86_64 POISON_POINTER_DELTA), so a use after removal faults at once
 * instead of corrupting a list; hp_list_del_init() re-initialises the node
 * to an empty list, for code that tests hp_list_empty() on it afterwards.
 * Every operation is O(1): two to four stores.
 */
#ifndef HP_LIST_H
#define HP_LIST_H

#include <stdint.h>

#include "hp_compiler.h"

typedef struct hp_list {
	struct hp_list *next, *prev;
} hp_list_t;

/* LIST_POISON1/2 (include/linux/poison.h) plus x86_64's POISON_POINTER_DELTA
 * 0xdead000000000000: not canonical addresses, so a dereference faults. */
#define HP_LIST_POISON1 ((hp_list_t *)(uintptr_t)0xdead000000000100ull)
#define HP_LIST_POISON2 ((hp_list_t *)(uintptr_t)0xdead000000000122ull)

#define HP_LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void hp_list_init(hp_list_t *h) { h->next = h->prev = h; }
static inline int hp_list_empty(const hp_list_t *h) { return h->next == h; }

static inline void hp_list_link_(hp_list_t *n, hp_list_t *prev, hp_list_t *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
/* list_add: insert n after head (stack order). */
static inline void hp_list_add(hp_list_t *n, hp_list_t *head) { hp_list_link_(n, head, head->next); }
/* list_add_tail: insert n before head (queue order). */
static inline void hp_list_add_tail(hp_list_t *n, hp_list_t *head) { hp_list_link_(n, head->prev, head); }

/* __list_del_entry: unlink n, leaving its pointers as they were. */
static inline void hp_list_del_entry(hp_list_t *n)
{
	n->next->prev = n->prev;
	n->prev->next = n->next;
}
/* list_del: unlink n and poison it. */
static inline void hp_list_del(hp_list_t *n)
{
	hp_list_del_entry(n);
	n->next = HP_LIST_POISON1;
	n->prev = HP_LIST_POISON2;
}
/* list_del_init: unlink n and make it an empty list. */
static inline void hp_list_del_init(hp_list_t *n)
{
	hp_list_del_entry(n);
	hp_list_init(n);
}
/* list_move / list_move_tail: unlink n and insert it at head / tail. */
static inline void hp_list_move(hp_list_t *n, hp_list_t *head) { hp_list_del_entry(n); hp_list_add(n, head); }
static inline void hp_list_move_tail(hp_list_t *n, hp_list_t *head) { hp_list_del_entry(n); hp_list_add_tail(n, head); }

/* list_entry (hp_container_of is in hp_compiler.h) */
#define hp_list_entry(ptr, type, member) hp_container_of(ptr, type, member)
#define hp_list_first_entry(head, type, member) hp_list_entry((head)->next, type, member)
#define hp_list_for_each(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
/* Safe against removal of pos. */
#define hp_list_for_each_safe(pos, n, head) \
	for ((pos) = (head)->next, (n) = (pos)->next; (pos) != (head); (pos) = (n), (n) = (pos)->next)

#endif
