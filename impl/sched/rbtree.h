/* rbtree.h — an intrusive red-black tree with a cached leftmost node and optional augmentation.
 *
 * Modelled on the kernel's lib/rbtree.c interface (Linux 2.6.x onwards, the
 * cached-leftmost root since 4.14): the caller embeds an hp_rb_node_t in its
 * own struct, walks down to the insertion point itself (so the comparison is
 * inlined at the call site, as with rb_add_cached()), links the node, and
 * asks the tree to rebalance. Duplicate keys are allowed: the caller decides
 * where an equal key goes (the scheduler sends it right, after its equals).
 *
 * Augmentation (the EEVDF min_deadline of Linux 6.6): a node may carry a value
 * computed from itself and its two children. The tree calls `update` on
 * every node whose subtree changed: up the path after an insert or erase,
 * and on both nodes of each rotation. `update` returns nonzero when the
 * node's value changed; an unchanged value stops the walk upwards, because
 * nothing above can change either.
 *
 * Costs: insert and erase O(log n) with at most 2 (insert) or 3 (erase)
 * rotations; first() O(1) through the cache; next() O(1) amortised.
 */
#ifndef HP_SCHED_RBTREE_H
#define HP_SCHED_RBTREE_H

#include <stddef.h>
#include <stdint.h>

#include "hp_compiler.h"

#define HP_RB_RED 0u
#define HP_RB_BLACK 1u

/* Parent pointer and colour share one word (bit 0), as in the kernel: nodes
 * are pointer-aligned, and a smaller node keeps more of them in cache. */
typedef struct hp_rb_node {
	uintptr_t parent_color;
	struct hp_rb_node *left;
	struct hp_rb_node *right;
} hp_rb_node_t;

typedef struct hp_rb_root {
	hp_rb_node_t *node;
} hp_rb_root_t;

/* The root plus the leftmost node, so that the smallest key is one load. */
typedef struct hp_rb_root_cached {
	hp_rb_root_t root;
	hp_rb_node_t *leftmost;
} hp_rb_root_cached_t;

typedef struct hp_rb_augment {
	int (*update)(hp_rb_node_t *node);
} hp_rb_augment_t;

/* rb_entry() */
#define hp_rb_entry(ptr, type, member) hp_container_of(ptr, type, member)

static inline hp_rb_node_t *hp_rb_parent(const hp_rb_node_t *n)
{
	return (hp_rb_node_t *)(n->parent_color & ~(uintptr_t)1);
}

static inline unsigned hp_rb_color(const hp_rb_node_t *n)
{
	return (unsigned)(n->parent_color & 1);
}

/* Hooks a fresh node under `parent` at `*link` (a child slot of parent, or
 * the root slot). New nodes are red. Follow with an insert call. */
static inline void hp_rb_link_node(hp_rb_node_t *node, hp_rb_node_t *parent, hp_rb_node_t **link)
{
	node->parent_color = (uintptr_t)parent | HP_RB_RED;
	node->left = node->right = NULL;
	*link = node;
}

static inline void hp_rb_init_cached(hp_rb_root_cached_t *r)
{
	r->root.node = NULL;
	r->leftmost = NULL;
}

static inline hp_rb_node_t *hp_rb_first_cached(const hp_rb_root_cached_t *r)
{
	return r->leftmost;
}

/* Rebalances after hp_rb_link_node(). `aug` may be NULL. */
void hp_rb_insert(hp_rb_node_t *node, hp_rb_root_t *root, const hp_rb_augment_t *aug);
/* Unlinks node and rebalances. `aug` may be NULL. */
void hp_rb_erase(hp_rb_node_t *node, hp_rb_root_t *root, const hp_rb_augment_t *aug);

/* Cached variants: `leftmost` says the caller only ever went left on the
 * way down, so the new node is the smallest. */
static inline void hp_rb_insert_cached(hp_rb_node_t *node, hp_rb_root_cached_t *r, int leftmost,
				       const hp_rb_augment_t *aug)
{
	if (leftmost)
		r->leftmost = node;
	hp_rb_insert(node, &r->root, aug);
}

hp_rb_node_t *hp_rb_next(const hp_rb_node_t *node);
hp_rb_node_t *hp_rb_prev(const hp_rb_node_t *node);
hp_rb_node_t *hp_rb_first(const hp_rb_root_t *root);
hp_rb_node_t *hp_rb_last(const hp_rb_root_t *root);

static inline void hp_rb_erase_cached(hp_rb_node_t *node, hp_rb_root_cached_t *r,
				      const hp_rb_augment_t *aug)
{
	if (r->leftmost == node)
		r->leftmost = hp_rb_next(node);
	hp_rb_erase(node, &r->root, aug);
}

/* Checks the red-black rules and the parent links of the whole tree: the
 * root is black, no red node has a red child, every path has the same
 * number of black nodes, and each child points back at its parent.
 * Returns the black height (>= 1), or -1 with a message in err. */
int hp_rb_check(const hp_rb_root_t *root, char *err, size_t errlen);

#endif
