/* bsdtree.c — the CFS run queue over libbsd's <bsd/sys/tree.h> red-black tree, used as it comes (baseline). */
#include "rq_baselines.h"

/* HP_HAVE_LIBBSD: set by baselines/sched/meson.build when libbsd is found */
#if defined(HP_HAVE_LIBBSD) && HP_HAVE_LIBBSD

#include <bsd/sys/tree.h>

typedef struct bse {
	hp_sched_entity_t se;
	RB_ENTRY(bse) link;
} bse_t;

/* RB_INSERT refuses equal keys, so the id breaks ties. */
static int bse_cmp(const bse_t *a, const bse_t *b)
{
	int64_t d = (int64_t)(a->se.vruntime - b->se.vruntime);

	if (d)
		return d < 0 ? -1 : 1;
	return (a->se.id > b->se.id) - (a->se.id < b->se.id);
}

RB_HEAD(bsd_rq, bse);
/* libbsd leaves __unused undefined (it clashes with Linux headers), but its
 * RB_GENERATE_STATIC uses it to silence the functions we do not call. */
#ifndef __unused
#define __unused __attribute__((unused))
#define HP_UNDEF_UNUSED
#endif
RB_GENERATE_STATIC(bsd_rq, bse, link, bse_cmp)
#ifdef HP_UNDEF_UNUSED
#undef __unused
#endif

typedef struct tl {
	struct bsd_rq root;
} tl_t;

static int tl_init(tl_t *t, size_t cap)
{
	(void)cap;
	RB_INIT(&t->root);
	return 0;
}

static void tl_fini(tl_t *t)
{
	(void)t;
}

static void tl_insert(tl_t *t, hp_sched_entity_t *se)
{
	RB_INSERT(bsd_rq, &t->root, (bse_t *)se);
}

static void tl_erase(tl_t *t, hp_sched_entity_t *se)
{
	RB_REMOVE(bsd_rq, &t->root, (bse_t *)se);
}

static hp_sched_entity_t *tl_first(tl_t *t)
{
	bse_t *e = RB_MIN(bsd_rq, &t->root);

	return e ? &e->se : NULL;
}

#include "rq_generic.h"

const hp_rq_ops_t hp_sched_bsd_ops = {
	.name = "bsd_rbtree", .se_size = sizeof(bse_t), .available = NULL, G_OPS,
};

#else

static const char *bsd_unavailable(void)
{
	return "libbsd (<bsd/sys/tree.h>) not found at build time (Debian: apt-get install libbsd-dev)";
}

const hp_rq_ops_t hp_sched_bsd_ops = {
	.name = "bsd_rbtree", .se_size = sizeof(hp_sched_entity_t), .available = bsd_unavailable,
};

#endif
