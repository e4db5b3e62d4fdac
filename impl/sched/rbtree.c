/* rbtree.c — red-black tree rebalancing (insert, erase) with augmentation hooks, and a checker. */
#include "rbtree.h"

#include <stdio.h>

/* ================================================================== */
/* Small helpers                                                       */
/* ================================================================== */

static inline void set_parent(hp_rb_node_t *n, hp_rb_node_t *p)
{
	n->parent_color = (uintptr_t)p | (n->parent_color & 1);
}

static inline void set_color(hp_rb_node_t *n, unsigned c)
{
	n->parent_color = (n->parent_color & ~(uintptr_t)1) | c;
}

static inline int is_red(const hp_rb_node_t *n)
{
	return n && hp_rb_color(n) == HP_RB_RED;
}

static inline int is_black(const hp_rb_node_t *n)
{
	return !n || hp_rb_color(n) == HP_RB_BLACK;
}

static inline void replace_child(hp_rb_root_t *root, hp_rb_node_t *parent,
				 hp_rb_node_t *old, hp_rb_node_t *new)
{
	if (!parent)
		root->node = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/* Puts v where u was (u's parent now points at v). */
static inline void transplant(hp_rb_root_t *root, hp_rb_node_t *u, hp_rb_node_t *v)
{
	hp_rb_node_t *p = hp_rb_parent(u);

	replace_child(root, p, u, v);
	if (v)
		set_parent(v, p);
}

/* The cores below are inlined into one copy without augmentation and one
 * with, so that the plain tree (CFS) pays nothing for the hooks.
 *
 * A rotation keeps the set of nodes under the rotated position, so only the
 * two nodes that swap places need their augmented value recomputed: first
 * the one that went down (its children changed), then the one that came up. */
#define always_inline inline __attribute__((always_inline))

static always_inline void rotate_left(hp_rb_root_t *root, hp_rb_node_t *x, const hp_rb_augment_t *aug)
{
	hp_rb_node_t *y = x->right, *p = hp_rb_parent(x);

	x->right = y->left;
	if (y->left)
		set_parent(y->left, x);
	set_parent(y, p);
	replace_child(root, p, x, y);
	y->left = x;
	set_parent(x, y);
	if (aug) {
		aug->update(x);
		aug->update(y);
	}
}

static always_inline void rotate_right(hp_rb_root_t *root, hp_rb_node_t *x, const hp_rb_augment_t *aug)
{
	hp_rb_node_t *y = x->left, *p = hp_rb_parent(x);

	x->left = y->right;
	if (y->right)
		set_parent(y->right, x);
	set_parent(y, p);
	replace_child(root, p, x, y);
	y->right = x;
	set_parent(x, y);
	if (aug) {
		aug->update(x);
		aug->update(y);
	}
}

/* ================================================================== */
/* Insert                                                              */
/* ================================================================== */

static always_inline void insert_core(hp_rb_node_t *node, hp_rb_root_t *root, const hp_rb_augment_t *aug)
{
	hp_rb_node_t *z = node, *p, *g, *u;

	/* The new leaf changes the values on its path only; the rotations below
	 * then keep them right locally. */
	if (aug) {
		aug->update(node);
		for (p = hp_rb_parent(node); p && aug->update(p); p = hp_rb_parent(p))
			;
	}

	while ((p = hp_rb_parent(z)) && is_red(p)) {
		g = hp_rb_parent(p);    /* a red node is never the root */
		if (p == g->left) {
			u = g->right;
			if (is_red(u)) {
				/* recolour and move the problem two levels up */
				set_color(p, HP_RB_BLACK);
				set_color(u, HP_RB_BLACK);
				set_color(g, HP_RB_RED);
				z = g;
				continue;
			}
			if (z == p->right) {
				rotate_left(root, p, aug);
				z = p;
				p = hp_rb_parent(z);
			}
			set_color(p, HP_RB_BLACK);
			set_color(g, HP_RB_RED);
			rotate_right(root, g, aug);
		} else {
			u = g->left;
			if (is_red(u)) {
				set_color(p, HP_RB_BLACK);
				set_color(u, HP_RB_BLACK);
				set_color(g, HP_RB_RED);
				z = g;
				continue;
			}
			if (z == p->left) {
				rotate_right(root, p, aug);
				z = p;
				p = hp_rb_parent(z);
			}
			set_color(p, HP_RB_BLACK);
			set_color(g, HP_RB_RED);
			rotate_left(root, g, aug);
		}
	}
	set_color(root->node, HP_RB_BLACK);
}

/* ================================================================== */
/* Erase                                                               */
/* ================================================================== */

/* Restores the black height after a black node left the path to x (which
 * may be NULL, hence its parent is passed along). */
static always_inline void erase_fixup(hp_rb_root_t *root, hp_rb_node_t *x, hp_rb_node_t *xp,
			const hp_rb_augment_t *aug)
{
	hp_rb_node_t *w;

	while (x != root->node && is_black(x)) {
		/* When x is NULL and xp->left is NULL too, x is the left child:
		 * its sibling cannot be NULL, it carries the missing black. */
		if (x == xp->left) {
			w = xp->right;
			if (is_red(w)) {
				set_color(w, HP_RB_BLACK);
				set_color(xp, HP_RB_RED);
				rotate_left(root, xp, aug);
				w = xp->right;
			}
			if (is_black(w->left) && is_black(w->right)) {
				set_color(w, HP_RB_RED);
				x = xp;
				xp = hp_rb_parent(x);
				continue;
			}
			if (is_black(w->right)) {
				set_color(w->left, HP_RB_BLACK);
				set_color(w, HP_RB_RED);
				rotate_right(root, w, aug);
				w = xp->right;
			}
			set_color(w, hp_rb_color(xp));
			set_color(xp, HP_RB_BLACK);
			set_color(w->right, HP_RB_BLACK);
			rotate_left(root, xp, aug);
		} else {
			w = xp->left;
			if (is_red(w)) {
				set_color(w, HP_RB_BLACK);
				set_color(xp, HP_RB_RED);
				rotate_right(root, xp, aug);
				w = xp->left;
			}
			if (is_black(w->left) && is_black(w->right)) {
				set_color(w, HP_RB_RED);
				x = xp;
				xp = hp_rb_parent(x);
				continue;
			}
			if (is_black(w->left)) {
				set_color(w->right, HP_RB_BLACK);
				set_color(w, HP_RB_RED);
				rotate_left(root, w, aug);
				w = xp->left;
			}
			set_color(w, hp_rb_color(xp));
			set_color(xp, HP_RB_BLACK);
			set_color(w->left, HP_RB_BLACK);
			rotate_right(root, xp, aug);
		}
		x = root->node;
		break;
	}
	if (x)
		set_color(x, HP_RB_BLACK);
}

static always_inline void erase_core(hp_rb_node_t *z, hp_rb_root_t *root, const hp_rb_augment_t *aug)
{
	hp_rb_node_t *x, *xp, *y = z, *moved = NULL;
	unsigned removed_color = hp_rb_color(z);

	if (!z->left || !z->right) {
		/* At most one child. A lone child is red (its sibling path has no
		 * black node, so neither may it) and z black: the child takes
		 * z's place and colour and every path keeps its black count. */
		hp_rb_node_t *child = z->left ? z->left : z->right;
		uintptr_t pc = z->parent_color;

		xp = (hp_rb_node_t *)(pc & ~(uintptr_t)1);
		replace_child(root, xp, z, child);
		if (child)
			child->parent_color = pc;
		if (aug)
			for (hp_rb_node_t *n = xp; n && aug->update(n); n = hp_rb_parent(n))
				;
		if (!child && (pc & 1))
			erase_fixup(root, NULL, xp, aug);
		return;
	} else {
		/* Two children: the successor (leftmost of the right subtree)
		 * takes z's place and colour; the successor's own slot loses a
		 * node instead. */
		y = z->right;
		while (y->left)
			y = y->left;
		removed_color = hp_rb_color(y);
		x = y->right;
		if (hp_rb_parent(y) == z) {
			xp = y;
		} else {
			xp = hp_rb_parent(y);
			transplant(root, y, x);
			y->right = z->right;
			set_parent(y->right, y);
		}
		transplant(root, z, y);
		y->left = z->left;
		set_parent(y->left, y);
		set_color(y, hp_rb_color(z));
		moved = y;
	}

	/* Recompute from where the node went missing up to the root. Up to and
	 * including the successor's new place every value must be recomputed:
	 * the structure changed there, and the successor's stored value is its
	 * old one, not the erased node's, so "unchanged" means nothing yet.
	 * Above it, an unchanged value ends the walk. */
	if (aug) {
		int past_moved = moved == NULL;

		for (hp_rb_node_t *n = xp; n; n = hp_rb_parent(n)) {
			int changed = aug->update(n);

			if (!changed && past_moved)
				break;
			if (n == moved)
				past_moved = 1;
		}
	}

	if (removed_color == HP_RB_BLACK)
		erase_fixup(root, x, xp, aug);
}

void hp_rb_insert(hp_rb_node_t *node, hp_rb_root_t *root, const hp_rb_augment_t *aug)
{
	if (aug)
		insert_core(node, root, aug);
	else
		insert_core(node, root, NULL);
}

void hp_rb_erase(hp_rb_node_t *node, hp_rb_root_t *root, const hp_rb_augment_t *aug)
{
	if (aug)
		erase_core(node, root, aug);
	else
		erase_core(node, root, NULL);
}

/* ================================================================== */
/* Iteration                                                           */
/* ================================================================== */

hp_rb_node_t *hp_rb_first(const hp_rb_root_t *root)
{
	hp_rb_node_t *n = root->node;

	if (!n)
		return NULL;
	while (n->left)
		n = n->left;
	return n;
}

hp_rb_node_t *hp_rb_last(const hp_rb_root_t *root)
{
	hp_rb_node_t *n = root->node;

	if (!n)
		return NULL;
	while (n->right)
		n = n->right;
	return n;
}

hp_rb_node_t *hp_rb_next(const hp_rb_node_t *node)
{
	const hp_rb_node_t *n = node;
	hp_rb_node_t *p;

	if (n->right) {
		p = n->right;
		while (p->left)
			p = p->left;
		return p;
	}
	for (p = hp_rb_parent(n); p && n == p->right; p = hp_rb_parent(p))
		n = p;
	return p;
}

hp_rb_node_t *hp_rb_prev(const hp_rb_node_t *node)
{
	const hp_rb_node_t *n = node;
	hp_rb_node_t *p;

	if (n->left) {
		p = n->left;
		while (p->right)
			p = p->right;
		return p;
	}
	for (p = hp_rb_parent(n); p && n == p->left; p = hp_rb_parent(p))
		n = p;
	return p;
}

/* ================================================================== */
/* Checker                                                             */
/* ================================================================== */

static int check_sub(const hp_rb_node_t *n, const hp_rb_node_t *parent, int depth,
		     char *err, size_t errlen)
{
	int lh, rh;

	if (!n)
		return 1;
	if (depth > 128) {
		snprintf(err, errlen, "rbtree: deeper than 128 levels (a cycle?)");
		return -1;
	}
	if (hp_rb_parent(n) != parent) {
		snprintf(err, errlen, "rbtree: node %p has parent %p, expected %p", (const void *)n,
			 (void *)hp_rb_parent(n), (const void *)parent);
		return -1;
	}
	if (is_red(n) && (is_red(n->left) || is_red(n->right))) {
		snprintf(err, errlen, "rbtree: red node %p has a red child", (const void *)n);
		return -1;
	}
	lh = check_sub(n->left, n, depth + 1, err, errlen);
	if (lh < 0)
		return -1;
	rh = check_sub(n->right, n, depth + 1, err, errlen);
	if (rh < 0)
		return -1;
	if (lh != rh) {
		snprintf(err, errlen, "rbtree: node %p has black heights %d (left) and %d (right)",
			 (const void *)n, lh, rh);
		return -1;
	}
	return lh + (is_black(n) ? 1 : 0);
}

int hp_rb_check(const hp_rb_root_t *root, char *err, size_t errlen)
{
	if (root->node && !is_black(root->node)) {
		snprintf(err, errlen, "rbtree: the root is red");
		return -1;
	}
	return check_sub(root->node, NULL, 0, err, errlen);
}
