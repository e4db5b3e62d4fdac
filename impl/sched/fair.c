/* fair.c — the fair class's run queue by kernel version: CFS as in Linux 6.1, EEVDF as in Linux 6.6, 6.12 and 6.17. */
#include "fair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The switch path (put_prev, pick, set_next, update_curr) is a handful of
 * small steps; the kernel inlines them into pick_next_task_fair(), and so
 * do we, behind the exported entry points. */
#define always_inline inline __attribute__((always_inline))

/* ================================================================== */
/* Tables and fixed-point arithmetic                                   */
/* ================================================================== */

/* Each nice level is about 10% of CPU time away from the next (a factor of
 * about 1.25 between weights); nice 0 is 1024. Linux 2.6.23 onwards. */
const uint32_t hp_sched_prio_to_weight[40] = {
	/* -20 */ 88761, 71755, 56483, 46273, 36291,
	/* -15 */ 29154, 23254, 18705, 14949, 11916,
	/* -10 */ 9548, 7620, 6100, 4904, 3906,
	/*  -5 */ 3121, 2501, 1991, 1586, 1277,
	/*   0 */ 1024, 820, 655, 526, 423,
	/*   5 */ 335, 272, 215, 172, 137,
	/*  10 */ 110, 87, 70, 56, 45,
	/*  15 */ 36, 29, 23, 18, 15,
};

/* 2^32 / weight, precomputed so that scaling by a task's weight is a
 * multiply and a shift. */
const uint32_t hp_sched_prio_to_wmult[40] = {
	/* -20 */ 48388, 59856, 76040, 92818, 118348,
	/* -15 */ 147320, 184698, 229616, 287308, 360437,
	/* -10 */ 449829, 563644, 704093, 875809, 1099582,
	/*  -5 */ 1376151, 1717300, 2157191, 2708050, 3363326,
	/*   0 */ 4194304, 5237765, 6557202, 8165337, 10153587,
	/*   5 */ 12820798, 15790321, 19976592, 24970740, 31350126,
	/*  10 */ 39045157, 49367440, 61356676, 76695844, 95443717,
	/*  15 */ 119304647, 148102320, 186737708, 238609294, 286331153,
};

static inline int fls32(uint32_t x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

/* A queue's summed weight changes all the time; its inverse is computed
 * only when a scaling needs it (kernel __update_inv_weight()). */
static inline void update_inv_weight(hp_load_weight_t *lw)
{
	if (lw->inv_weight)
		return;
	if (lw->weight >= HP_WMULT_CONST)
		lw->inv_weight = 1;
	else if (!lw->weight)
		lw->inv_weight = HP_WMULT_CONST;
	else
		lw->inv_weight = (uint32_t)(HP_WMULT_CONST / lw->weight);
}

uint64_t hp_calc_delta(uint64_t delta, uint64_t weight, hp_load_weight_t *lw)
{
	uint64_t fact = weight;
	uint32_t hi = (uint32_t)(fact >> 32);
	int shift = HP_WMULT_SHIFT;

	update_inv_weight(lw);
	/* keep each factor within 32 bits by moving bits from the factor
	 * into the final shift */
	if (hi) {
		int fs = fls32(hi);

		shift -= fs;
		fact >>= fs;
	}
	fact = (uint64_t)(uint32_t)fact * lw->inv_weight;
	hi = (uint32_t)(fact >> 32);
	if (hi) {
		int fs = fls32(hi);

		shift -= fs;
		fact >>= fs;
	}
	return (uint64_t)(((unsigned __int128)delta * (uint32_t)fact) >> shift);
}

/* ================================================================== */
/* Tunables, entities, queues                                          */
/* ================================================================== */

void hp_sched_tunables_init(hp_sched_tunables_t *t, int ncpus, int hz)
{
	unsigned n = ncpus < 1 ? 1u : ncpus > 8 ? 8u : (unsigned)ncpus;
	unsigned factor = 1;

	/* 1 + ilog2(n) */
	while (n >>= 1)
		factor++;
	if (hz < 1)
		hz = 250;
	memset(t, 0, sizeof(*t));
	t->factor = factor;
	t->latency_ns = 6000000ull * factor;
	t->min_granularity_ns = 750000ull * factor;
	t->wakeup_granularity_ns = 1000000ull * factor;
	t->nr_latency = (unsigned)((t->latency_ns + t->min_granularity_ns - 1) / t->min_granularity_ns);
	t->base_slice_ns = 750000ull * factor;
	t->tick_ns = (1000000000ull + (uint64_t)hz / 2) / (uint64_t)hz;
	t->normalized_base_slice_ns = 750000ull;
}

/* ================================================================== */
/* Policies by kernel version                                          */
/* ================================================================== */

static const char *const policy_names[HP_SCHED_NPOLICIES] = {
	[HP_SCHED_CFS_6_1] = "cfs-6.1",
	[HP_SCHED_EEVDF_6_6] = "eevdf-6.6",
	[HP_SCHED_EEVDF_6_12] = "eevdf-6.12",
	[HP_SCHED_EEVDF_6_17] = "eevdf-6.17",
};

const char *hp_sched_policy_name(hp_sched_policy_t p)
{
	return (unsigned)p < HP_SCHED_NPOLICIES ? policy_names[p] : "?";
}

const char *hp_sched_policy_names(void)
{
	return "cfs-6.1, eevdf-6.6, eevdf-6.12, eevdf-6.17, cfs (= cfs-6.1), eevdf (= eevdf-6.17)";
}

int hp_sched_policy_parse(const char *name, hp_sched_policy_t *p)
{
	if (!strcmp(name, "cfs")) {
		*p = HP_SCHED_CFS;
		return 0;
	}
	if (!strcmp(name, "eevdf")) {
		*p = HP_SCHED_EEVDF;
		return 0;
	}
	for (int i = 0; i < HP_SCHED_NPOLICIES; i++)
		if (!strcmp(name, policy_names[i])) {
			*p = (hp_sched_policy_t)i;
			return 0;
		}
	return -1;
}

int hp_sched_policy_for_release(const char *release, hp_sched_policy_t *p)
{
	unsigned major, minor;
	int n = 0;

	if (!release || sscanf(release, "%u.%u%n", &major, &minor, &n) != 2 || !n)
		return -1;
	if (major < 6 || (major == 6 && minor < 6))
		*p = HP_SCHED_CFS_6_1;
	else if (major == 6 && minor < 12)
		*p = HP_SCHED_EEVDF_6_6;
	else if (major == 6 && minor < 17)
		*p = HP_SCHED_EEVDF_6_12;
	else
		*p = HP_SCHED_EEVDF_6_17;
	return 0;
}

void hp_se_init(hp_sched_entity_t *se, int nice, uint32_t id)
{
	memset(se, 0, sizeof(*se));
	if (nice < HP_NICE_MIN)
		nice = HP_NICE_MIN;
	if (nice > HP_NICE_MAX)
		nice = HP_NICE_MAX;
	se->nice = nice;
	se->load.weight = hp_sched_prio_to_weight[nice - HP_NICE_MIN];
	se->load.inv_weight = hp_sched_prio_to_wmult[nice - HP_NICE_MIN];
	se->id = id;
}

void hp_se_set_slice(hp_sched_entity_t *se, uint64_t ns)
{
	if (!ns) {
		se->custom_slice = 0;
		return;
	}
	if (ns < 100000)
		ns = 100000;
	if (ns > 100000000)
		ns = 100000000;
	se->slice = ns;
	se->custom_slice = 1;
}

void hp_cfs_rq_init(hp_cfs_rq_t *rq, hp_sched_policy_t policy, const hp_sched_tunables_t *t)
{
	memset(rq, 0, sizeof(*rq));
	rq->policy = policy;
	rq->tun = *t;
	/* Linux 6.15 made the base slice 0.70 ms (scaled as before); stable
	 * 6.6.y and 6.12.y took the change too, the models of those releases
	 * keep 0.75 ms */
	if (policy >= HP_SCHED_EEVDF_6_17 && t->normalized_base_slice_ns == 750000ull) {
		rq->tun.normalized_base_slice_ns = 700000ull;
		rq->tun.base_slice_ns = 700000ull * t->factor;
	}
	rq->min_vruntime = (uint64_t)-(INT64_C(1) << 20);
	hp_rb_init_cached(&rq->tasks);
}

void hp_cfs_rq_set_min_vruntime(hp_cfs_rq_t *rq, uint64_t v)
{
	if (!rq->nr_running)
		rq->min_vruntime = v;
}

/* ================================================================== */
/* The timeline and the EEVDF sums                                     */
/* ================================================================== */

#define IS_EEVDF(rq) ((rq)->policy != HP_SCHED_CFS_6_1)
/* 6.8 on: the tree is ordered by deadline, augmented with min_vruntime;
 * with it come the 6.12 features (delayed dequeue, custom slices,
 * PREEMPT_SHORT) in the models here */
#define DL_TREE(rq) ((rq)->policy >= HP_SCHED_EEVDF_6_12)
#define AT_612(rq) ((rq)->policy >= HP_SCHED_EEVDF_6_12)
/* 6.17 on: RUN_TO_PARITY protects up to the shortest queued slice (vprot) */
#define AT_617(rq) ((rq)->policy >= HP_SCHED_EEVDF_6_17)

/* EEVDF keeps vruntimes relative to min_vruntime in its sums, so that the
 * products with weights stay small. */
static inline int64_t entity_key(const hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	return (int64_t)(se->vruntime - rq->min_vruntime);
}

/* The augmented value: the earliest deadline below and at this node. */
static int min_deadline_update(hp_rb_node_t *n)
{
	hp_sched_entity_t *se = hp_se_of(n);
	uint64_t m = se->deadline;

	if (n->left) {
		uint64_t l = hp_se_of(n->left)->min_deadline;

		if ((int64_t)(l - m) < 0)
			m = l;
	}
	if (n->right) {
		uint64_t r = hp_se_of(n->right)->min_deadline;

		if ((int64_t)(r - m) < 0)
			m = r;
	}
	if (se->min_deadline == m)
		return 0;
	se->min_deadline = m;
	return 1;
}

static const hp_rb_augment_t min_deadline_cb = { min_deadline_update };

/* 6.8+ (min_vruntime) and 6.12+ (min_slice): the smallest vruntime and
 * slice below and at this node, for the deadline-ordered tree. */
static int min_vruntime_update(hp_rb_node_t *n)
{
	hp_sched_entity_t *se = hp_se_of(n);
	uint64_t mv = se->vruntime, ms = se->slice;

	for (int i = 0; i < 2; i++) {
		hp_rb_node_t *c = i ? n->right : n->left;

		if (c) {
			hp_sched_entity_t *ce = hp_se_of(c);

			if ((int64_t)(ce->min_vruntime - mv) < 0)
				mv = ce->min_vruntime;
			if (ce->min_slice < ms)
				ms = ce->min_slice;
		}
	}
	if (se->min_vruntime == mv && se->min_slice == ms)
		return 0;
	se->min_vruntime = mv;
	se->min_slice = ms;
	return 1;
}

static const hp_rb_augment_t min_vruntime_cb = { min_vruntime_update };

static inline int deadline_before(const hp_sched_entity_t *a, const hp_sched_entity_t *b)
{
	return (int64_t)(a->deadline - b->deadline) < 0;
}

static inline void avg_vruntime_add(hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	rq->avg_vruntime += entity_key(rq, se) * (int64_t)se->load.weight;
	rq->avg_load += se->load.weight;
}

static inline void avg_vruntime_sub(hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	rq->avg_vruntime -= entity_key(rq, se) * (int64_t)se->load.weight;
	rq->avg_load -= se->load.weight;
}

/* __enqueue_entity(): equal keys go right, after their equals, so tasks
 * with the same vruntime run in the order they were queued. */
static always_inline void timeline_insert(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	hp_rb_node_t **link = &rq->tasks.root.node, *parent = NULL;
	int leftmost = 1, by_deadline = DL_TREE(rq);

	while (*link) {
		const hp_sched_entity_t *pe;

		parent = *link;
		pe = hp_rb_entry(parent, hp_sched_entity_t, run_node);
		if (by_deadline ? deadline_before(se, pe) : hp_vruntime_before(se->vruntime, pe->vruntime)) {
			link = &parent->left;
		} else {
			link = &parent->right;
			leftmost = 0;
		}
	}
	hp_rb_link_node(&se->run_node, parent, link);
	if (by_deadline) {
		avg_vruntime_add(rq, se);
		se->min_vruntime = se->vruntime;
		se->min_slice = se->slice;
		hp_rb_insert_cached(&se->run_node, &rq->tasks, leftmost, &min_vruntime_cb);
	} else if (IS_EEVDF(rq)) {
		avg_vruntime_add(rq, se);
		se->min_deadline = se->deadline;
		hp_rb_insert_cached(&se->run_node, &rq->tasks, leftmost, &min_deadline_cb);
	} else {
		hp_rb_insert_cached(&se->run_node, &rq->tasks, leftmost, NULL);
	}
}

static always_inline void timeline_erase(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	if (DL_TREE(rq)) {
		hp_rb_erase_cached(&se->run_node, &rq->tasks, &min_vruntime_cb);
		avg_vruntime_sub(rq, se);
	} else if (IS_EEVDF(rq)) {
		hp_rb_erase_cached(&se->run_node, &rq->tasks, &min_deadline_cb);
		avg_vruntime_sub(rq, se);
	} else {
		hp_rb_erase_cached(&se->run_node, &rq->tasks, NULL);
	}
}

/* min_vruntime follows the smallest vruntime of the running entity and the
 * leftmost, and never goes back. Under EEVDF the sums are relative to it,
 * so moving it forward by d takes d * load off them. */
static always_inline void update_min_vruntime(hp_cfs_rq_t *rq)
{
	hp_sched_entity_t *curr = rq->curr, *left = hp_se_of(rq->tasks.leftmost);
	uint64_t v = rq->min_vruntime;
	int64_t d;

	if (curr) {
		if (curr->on_rq)
			v = curr->vruntime;
		else
			curr = NULL;
	}
	if (left) {
		/* the deadline-ordered tree keeps its smallest vruntime at the root */
		uint64_t lv = DL_TREE(rq) ? hp_se_of(rq->tasks.root.node)->min_vruntime : left->vruntime;

		v = curr ? hp_vruntime_min(v, lv) : lv;
	}
	d = (int64_t)(v - rq->min_vruntime);
	if (d > 0) {
		if (IS_EEVDF(rq))
			rq->avg_vruntime -= (int64_t)rq->avg_load * d;
		rq->min_vruntime = v;
	}
}

static always_inline void clear_buddies(hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	if (rq->next == se)
		rq->next = NULL;
	if (rq->last == se)
		rq->last = NULL;
}

/* ================================================================== */
/* EEVDF: average, eligibility, lag, deadline (Linux 6.6)              */
/* ================================================================== */

static always_inline uint64_t avg_vruntime(const hp_cfs_rq_t *rq)
{
	const hp_sched_entity_t *curr = rq->curr;
	int64_t avg = rq->avg_vruntime, load = (int64_t)rq->avg_load;

	/* the running entity is out of the tree but still competes */
	if (curr && curr->on_rq) {
		avg += entity_key(rq, curr) * (int64_t)curr->load.weight;
		load += (int64_t)curr->load.weight;
	}
	if (load) {
		/* C division truncates towards zero; round down instead */
		if (avg < 0)
			avg -= load - 1;
		avg /= load;
	}
	return rq->min_vruntime + (uint64_t)avg;
}

/* vruntime_eligible() (6.8): would an entity at vruntime v be eligible? */
static always_inline int vruntime_eligible(const hp_cfs_rq_t *rq, uint64_t v)
{
	const hp_sched_entity_t *curr = rq->curr;
	int64_t avg = rq->avg_vruntime, load = (int64_t)rq->avg_load;

	if (curr && curr->on_rq) {
		avg += entity_key(rq, curr) * (int64_t)curr->load.weight;
		load += (int64_t)curr->load.weight;
	}
	return avg >= (int64_t)(v - rq->min_vruntime) * load;
}

static always_inline int entity_eligible(const hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	return vruntime_eligible(rq, se->vruntime);
}

uint64_t hp_avg_vruntime(const hp_cfs_rq_t *rq)
{
	return avg_vruntime(rq);
}

int hp_entity_eligible(const hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	return entity_eligible(rq, se);
}

uint64_t hp_eevdf_lag_limit(const hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	uint64_t span = 2 * se->slice;
	hp_load_weight_t lw = se->load;

	if (span < rq->tun.tick_ns)
		span = rq->tun.tick_ns;
	if (lw.weight == HP_NICE_0_LOAD)
		return span;
	return hp_calc_delta(span, HP_NICE_0_LOAD, &lw);
}

/* update_entity_lag(): lag = V - v, clamped so that a task cannot bank more
 * than about two slices (or a tick) of service, either way, across a sleep. */
static void update_entity_lag(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	int64_t lag = (int64_t)(avg_vruntime(rq) - se->vruntime);
	int64_t limit = (int64_t)hp_eevdf_lag_limit(rq, se);

	se->vlag = lag < -limit ? -limit : lag > limit ? limit : lag;
}

/* update_deadline(): once the running entity reaches its deadline it gets a
 * new request of one base slice, and the CPU goes to whoever is now first. */
static always_inline void update_deadline(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	if ((int64_t)(se->vruntime - se->deadline) < 0)
		return;
	/* 6.12: a custom slice stays */
	if (!(AT_612(rq) && se->custom_slice))
		se->slice = rq->tun.base_slice_ns;
	se->deadline = se->vruntime + hp_calc_delta_fair(se->slice, se);
	if (rq->nr_running > 1) {
		rq->need_resched = 1;
		clear_buddies(rq, se);
	}
}

/* ------------------------------------------------------------------ */
/* RUN_TO_PARITY's slice protection, by version                        */
/* ------------------------------------------------------------------ */

/* cfs_rq_min_slice() (6.12): the shortest slice queued, curr included. */
static uint64_t rq_min_slice(const hp_cfs_rq_t *rq)
{
	const hp_sched_entity_t *curr = rq->curr;
	uint64_t m = UINT64_MAX;

	if (curr && curr->on_rq)
		m = curr->slice;
	if (rq->tasks.root.node) {
		uint64_t r = hp_se_of(rq->tasks.root.node)->min_slice;

		if (r < m)
			m = r;
	}
	return m;
}

/* At pick. To 6.16 the deadline the pick was made with is stashed in vlag
 * (unused until dequeue); 6.17 protects until vprot: the deadline, or
 * sooner when a queued entity has a shorter slice. */
static always_inline void set_protect_slice(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	if (AT_617(rq)) {
		uint64_t slice = rq_min_slice(rq), vprot = se->deadline;

		if (se->slice < slice)
			slice = se->slice;
		if (slice != se->slice)
			vprot = hp_vruntime_min(vprot, se->vruntime + hp_calc_delta_fair(slice, se));
		se->vprot = vprot;
	} else {
		se->vlag = (int64_t)se->deadline;
	}
}

static always_inline int protect_slice(const hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	if (AT_617(rq))
		return (int64_t)(se->vprot - se->vruntime) > 0;
	return (uint64_t)se->vlag == se->deadline;
}

static always_inline void cancel_protect_slice(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	if (!protect_slice(rq, se))
		return;
	if (AT_617(rq))
		se->vprot = se->vruntime;
	else
		se->vlag = (int64_t)se->deadline + 1;
}

/* pick_eevdf() as in 6.6: among eligible entities, the earliest deadline.
 * The tree is ordered by vruntime, so eligibility (v <= V) holds for a
 * prefix of it: walking down, an ineligible node sends us left; at an
 * eligible node its whole left subtree is eligible too, and min_deadline
 * says whether the best deadline is down there, at the node, or further
 * right. The running entity (eligible, queued) is the starting best, so a
 * node met on the walk replaces it only with a strictly earlier deadline;
 * the best left subtree replaces it when its minimum is not later. */
static hp_sched_entity_t *pick_eevdf_66(hp_cfs_rq_t *rq)
{
	hp_rb_node_t *node = rq->tasks.root.node;
	hp_sched_entity_t *curr = rq->curr, *best, *best_left = NULL;

#ifdef HP_SCHED_MUTATE_PICK_IGNORES_CURR
	curr = NULL; /* the oracle test's mutant: the running entity never competes */
#endif
	if (curr && (!curr->on_rq || !entity_eligible(rq, curr)))
		curr = NULL;
	best = curr;
	/* RUN_TO_PARITY: the running entity keeps the CPU until it has used the
	 * slice it was picked with, as long as it stays eligible. */
	if (curr && protect_slice(rq, curr))
		return curr;

	while (node) {
		hp_sched_entity_t *se = hp_se_of(node);

		if (!entity_eligible(rq, se)) {
			node = node->left;
			continue;
		}
		if (!best || deadline_before(se, best))
			best = se;
		if (node->left) {
			hp_sched_entity_t *left = hp_se_of(node->left);

			if (!best_left || (int64_t)(left->min_deadline - best_left->min_deadline) < 0)
				best_left = left;
			/* the best is in the all-eligible left subtree */
			if (left->min_deadline == se->min_deadline)
				break;
		}
		/* the best is this node itself */
		if (se->deadline == se->min_deadline)
			break;
		node = node->right;
	}

	if (best_left && (!best || (int64_t)(best_left->min_deadline - best->deadline) <= 0)) {
		/* descend the eligible subtree to the node holding its minimum */
		node = &best_left->run_node;
		while (node) {
			hp_sched_entity_t *se = hp_se_of(node);

			if (se->deadline == se->min_deadline) {
				best = se;
				break;
			}
			if (node->left && hp_se_of(node->left)->min_deadline == se->min_deadline)
				node = node->left;
			else
				node = node->right;
		}
	}
	/* Cannot happen with consistent sums (someone is always eligible); the
	 * kernel then warns and takes the leftmost, and so do we. */
	if (!best)
		best = hp_se_of(rq->tasks.leftmost);
	return best;
}

/* pick_eevdf() as in 6.8 to 6.18, on the deadline-ordered tree: a lone
 * entity without looking; the protected running entity; else the first
 * eligible entity in deadline order (the leftmost if eligible, else a
 * descent that goes left whenever the left subtree holds an eligible
 * vruntime); the running entity only with a strictly earlier deadline. */
static hp_sched_entity_t *pick_eevdf_612(hp_cfs_rq_t *rq, int protect)
{
	hp_rb_node_t *node = rq->tasks.root.node;
	hp_sched_entity_t *first = hp_se_of(rq->tasks.leftmost), *curr = rq->curr, *best = NULL;

#ifdef HP_SCHED_MUTATE_PICK_IGNORES_CURR
	curr = NULL;
#endif
	if (rq->nr_running == 1)
		return curr && curr->on_rq ? curr : first;
	if (curr && (!curr->on_rq || !entity_eligible(rq, curr)))
		curr = NULL;
	if (curr && protect && protect_slice(rq, curr))
		return curr;
	if (first && entity_eligible(rq, first)) {
		best = first;
	} else {
		while (node) {
			hp_rb_node_t *left = node->left;
			hp_sched_entity_t *se;

			/* an eligible entity on the left has an earlier deadline */
			if (left && vruntime_eligible(rq, hp_se_of(left)->min_vruntime)) {
				node = left;
				continue;
			}
			se = hp_se_of(node);
			if (entity_eligible(rq, se)) {
				best = se;
				break;
			}
			node = node->right;
		}
	}
	if (!best || (curr && deadline_before(curr, best)))
		best = curr;
	if (!best)
		best = first;
	return best;
}

static always_inline hp_sched_entity_t *pick_eevdf(hp_cfs_rq_t *rq)
{
	return DL_TREE(rq) ? pick_eevdf_612(rq, 1) : pick_eevdf_66(rq);
}

/* ================================================================== */
/* CFS: slices, wakeup granularity (Linux 6.1)                         */
/* ================================================================== */

uint64_t hp_cfs_slice_of(const hp_sched_tunables_t *t, hp_load_weight_t *rq_load,
			 unsigned nr_running, const hp_sched_entity_t *se)
{
	unsigned nr = nr_running + !se->on_rq;
	uint64_t period, slice;
	hp_load_weight_t lw, *load = rq_load;

	/* sched period: the latency, stretched once more than nr_latency
	 * tasks would get less than min_granularity each */
	period = nr > t->nr_latency ? (uint64_t)nr * t->min_granularity_ns : t->latency_ns;
	if (!se->on_rq) {
		lw = *rq_load;
		hp_load_add(&lw, se->load.weight);
		load = &lw;
	}
	slice = hp_calc_delta(period, se->load.weight, load);
	if (slice < t->min_granularity_ns)
		slice = t->min_granularity_ns;
	return slice;
}

uint64_t hp_cfs_sched_slice(hp_cfs_rq_t *rq, const hp_sched_entity_t *se)
{
	return hp_cfs_slice_of(&rq->tun, &rq->load, rq->nr_running, se);
}

/* wakeup_preempt_entity(): 1 when curr is ahead of se by more than the
 * wakeup granularity (converted to se's virtual time), -1 when it is not
 * ahead at all, 0 in between. */
static always_inline int wakeup_preempt_entity(const hp_sched_entity_t *curr, hp_sched_entity_t *se,
				 const hp_cfs_rq_t *rq)
{
	int64_t vdiff = (int64_t)(curr->vruntime - se->vruntime);

	if (vdiff <= 0)
		return -1;
	if (vdiff > (int64_t)hp_calc_delta_fair(rq->tun.wakeup_granularity_ns, se))
		return 1;
	return 0;
}

static always_inline hp_sched_entity_t *pick_cfs(hp_cfs_rq_t *rq)
{
	hp_sched_entity_t *left = hp_se_of(rq->tasks.leftmost), *curr = rq->curr;

	if (curr && !curr->on_rq)
		curr = NULL;
	if (!left || (curr && hp_vruntime_before(curr->vruntime, left->vruntime)))
		left = curr;
	if (!left)
		return NULL;
	/* the wakee that preempted, then the task it preempted, as long as
	 * running them is not too unfair to the leftmost */
	if (rq->next && wakeup_preempt_entity(rq->next, left, rq) < 1)
		return rq->next;
	if (rq->last && wakeup_preempt_entity(rq->last, left, rq) < 1)
		return rq->last;
	return left;
}

/* check_preempt_tick(): a task that ran its ideal slice is preempted; one
 * that ran at least min_granularity is preempted when it is more than a
 * slice of virtual time ahead of the leftmost. */
static void check_preempt_tick(hp_cfs_rq_t *rq, hp_sched_entity_t *curr)
{
	uint64_t ideal = hp_cfs_sched_slice(rq, curr);
	uint64_t ran = curr->sum_exec_runtime - curr->prev_sum_exec_runtime;
	hp_sched_entity_t *left;
	int64_t delta;

	if (ideal > rq->tun.latency_ns)
		ideal = rq->tun.latency_ns;
	if (ran > ideal) {
		rq->need_resched = 1;
		clear_buddies(rq, curr);
		return;
	}
	if (ran < rq->tun.min_granularity_ns)
		return;
	left = hp_se_of(rq->tasks.leftmost);
	if (!left)
		return;
	delta = (int64_t)(curr->vruntime - left->vruntime);
	if (delta > (int64_t)ideal)
		rq->need_resched = 1;
}

/* ================================================================== */
/* Accounting and placement                                            */
/* ================================================================== */

static always_inline int update_curr(hp_cfs_rq_t *rq)
{
	hp_sched_entity_t *curr = rq->curr;
	int64_t delta;

	if (!curr)
		return rq->need_resched;
	delta = (int64_t)(rq->clock - curr->exec_start);
	if (delta <= 0)
		return rq->need_resched;
	curr->exec_start = rq->clock;
	curr->sum_exec_runtime += (uint64_t)delta;
	curr->vruntime += hp_calc_delta_fair((uint64_t)delta, curr);
	if (IS_EEVDF(rq))
		update_deadline(rq, curr);
	update_min_vruntime(rq);
	/* 6.12 PREEMPT_SHORT's other half (did_preempt_short()): once its
	 * protection is gone, the running entity goes as soon as it is no
	 * longer eligible. 6.17 ("sched/fair: Always trigger resched at the
	 * end of a protected period"): as soon as the protection is gone,
	 * eligible or not. */
	if (AT_612(rq) && curr->on_rq && rq->nr_running > 1 && !protect_slice(rq, curr) &&
#ifdef HP_SCHED_MUTATE_617_RESCHED_NEEDS_INELIGIBLE
	    !entity_eligible(rq, curr)) {       /* test mutant: 6.17 keeps 6.12's rule */
#else
	    (AT_617(rq) || !entity_eligible(rq, curr))) {
#endif
		rq->need_resched = 1;
		clear_buddies(rq, curr);
	}
	return rq->need_resched;
}

int hp_update_curr(hp_cfs_rq_t *rq)
{
	return update_curr(rq);
}

static always_inline void place_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se, int flags)
{
	if (IS_EEVDF(rq)) {
		uint64_t v = avg_vruntime(rq), vslice;
		int64_t lag = 0;

		if (!(AT_612(rq) && se->custom_slice))
			se->slice = rq->tun.base_slice_ns;
		vslice = hp_calc_delta_fair(se->slice, se);
		if (rq->nr_running && se->vlag) {
			const hp_sched_entity_t *curr = rq->curr;
			int64_t load = (int64_t)rq->avg_load;

			/* Joining moves V towards the newcomer. Inflate the lag
			 * by (W + w) / W so that, once it is in, its lag is the
			 * one it left with: V' - v = vlag. */
			lag = se->vlag;
			if (curr && curr->on_rq)
				load += (int64_t)curr->load.weight;
			lag *= load + (int64_t)se->load.weight;
			if (!load)
				load = 1;
			lag /= load;
		}
		se->vruntime = v - (uint64_t)lag;
		/* 6.12 PLACE_REL_DEADLINE: moved between queues, not asleep:
		 * the deadline keeps its distance */
		if (se->rel_deadline) {
			se->deadline += se->vruntime;
			se->rel_deadline = 0;
			return;
		}
		/* a newcomer starts halfway through a slice, like the average
		 * task it joins (PLACE_DEADLINE_INITIAL) */
		if (flags & HP_ENQUEUE_INITIAL)
			vslice /= 2;
		se->deadline = se->vruntime + vslice;
		return;
	}

	if (flags & HP_ENQUEUE_INITIAL) {
		/* START_DEBIT: a new task owes one slice, so that forking does
		 * not gain CPU time. (The kernel also takes the parent's vruntime
		 * when that is later; a task here has no parent on the queue.) */
		se->vruntime = rq->min_vruntime +
			       hp_calc_delta_fair(hp_cfs_sched_slice(rq, se), se);
		return;
	}
	/* A sleeper gets credit of half a latency (GENTLE_FAIR_SLEEPERS), but
	 * never moves backwards: sleeping cannot buy more than that. */
	se->vruntime = hp_vruntime_max(se->vruntime, rq->min_vruntime - (rq->tun.latency_ns >> 1));
}

static void update_entity_lag(hp_cfs_rq_t *rq, hp_sched_entity_t *se);

/* requeue_delayed_entity() (6.12): a delayed entity woken before a pick
 * took it out is still queued; it only stops being delayed. If it has
 * meanwhile earned positive lag, it starts again at the average with a
 * fresh deadline instead (DELAY_ZERO). */
static void requeue_delayed(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	int is_curr = rq->curr == se;

	update_curr(rq);
	update_entity_lag(rq, se);
	if (se->vlag > 0) {
		rq->nr_running--;
		if (!is_curr)
			timeline_erase(rq, se);
		/* V without se: its lag was measured with se in the average, and
		 * placement adds se's weight back (nr_running only gates it) */
		se->vlag = 0;
		place_entity(rq, se, 0);
		if (!is_curr)
			timeline_insert(rq, se);
		rq->nr_running++;
	}
	se->sched_delayed = 0;
}

void hp_enqueue_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se, int flags)
{
	int is_curr = rq->curr == se;

	if (se->sched_delayed) {
		requeue_delayed(rq, se);
		return;
	}
	if (IS_EEVDF(rq)) {
		/* Linux 6.6 places every entity it enqueues; the running one
		 * before update_curr() so that its own time is not counted twice */
		if (is_curr)
			place_entity(rq, se, flags);
		update_curr(rq);
		if (!is_curr)
			place_entity(rq, se, flags);
	} else if (flags & HP_ENQUEUE_INITIAL) {
		update_curr(rq);
		place_entity(rq, se, flags);
	} else {
		/* An entity that left for another queue carries its vruntime
		 * relative to the old min_vruntime; make it absolute here. */
		int renorm = !(flags & HP_ENQUEUE_WAKEUP) || (flags & HP_ENQUEUE_MIGRATED);

		if (renorm && is_curr)
			se->vruntime += rq->min_vruntime;
		update_curr(rq);
		if (renorm && !is_curr)
			se->vruntime += rq->min_vruntime;
		if (flags & HP_ENQUEUE_WAKEUP)
			place_entity(rq, se, flags);
	}
	hp_load_add(&rq->load, se->load.weight);
	rq->nr_running++;
	if (!is_curr)
		timeline_insert(rq, se);
	se->on_rq = 1;
}

/* The internal flag of a pick's final dequeue of a delayed entity. */
#define DEQUEUE_DELAYED 0x100

static int dequeue_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se, int flags)
{
	update_curr(rq);
	/* 6.12 DELAY_DEQUEUE: a sleeper that has had more than its share
	 * stays queued, competing (and being passed over) until it is picked
	 * again or woken */
	if (AT_612(rq) && !(flags & DEQUEUE_DELAYED) && (flags & HP_DEQUEUE_SLEEP) &&
	    !entity_eligible(rq, se)) {
		se->sched_delayed = 1;
		return 0;
	}
	clear_buddies(rq, se);
	/* the lag is taken while se still counts in the average */
	if (IS_EEVDF(rq))
		update_entity_lag(rq, se);
	if (AT_612(rq) && !(flags & HP_DEQUEUE_SLEEP)) {
		se->deadline -= se->vruntime;
		se->rel_deadline = 1;
	}
	if (se != rq->curr)
		timeline_erase(rq, se);
	se->on_rq = 0;
	hp_load_sub(&rq->load, se->load.weight);
	rq->nr_running--;
	/* CFS: leaving for another queue, keep the vruntime relative */
	if (!IS_EEVDF(rq) && !(flags & HP_DEQUEUE_SLEEP))
		se->vruntime -= rq->min_vruntime;
	update_min_vruntime(rq);
	if (flags & DEQUEUE_DELAYED) {
		/* DELAY_ZERO: it waited for the 0-lag point; no credit beyond */
		se->sched_delayed = 0;
		if (se->vlag > 0)
			se->vlag = 0;
	}
	return 1;
}

int hp_dequeue_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se, int flags)
{
	return dequeue_entity(rq, se, flags & ~DEQUEUE_DELAYED);
}

int hp_dequeue_delayed(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	if (!se->sched_delayed)
		return 0;
	return dequeue_entity(rq, se, HP_DEQUEUE_SLEEP | DEQUEUE_DELAYED);
}

void hp_migrate_sleeping_entity(const hp_cfs_rq_t *from, hp_sched_entity_t *se)
{
	if (!IS_EEVDF(from))
		se->vruntime -= from->min_vruntime;
}

/* ================================================================== */
/* Pick, switch, tick, wakeup preemption                               */
/* ================================================================== */

static always_inline hp_sched_entity_t *pick_next_entity(hp_cfs_rq_t *rq)
{
	if (!rq->nr_running)
		return NULL;
	return IS_EEVDF(rq) ? pick_eevdf(rq) : pick_cfs(rq);
}

static always_inline void put_prev_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *prev)
{
	if (prev->on_rq) {
		update_curr(rq);
		timeline_insert(rq, prev);
	}
	rq->curr = NULL;
}

static always_inline void set_next_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	clear_buddies(rq, se);
	if (se->on_rq) {
		timeline_erase(rq, se);
		/* RUN_TO_PARITY: what protects the pick's slice */
		if (IS_EEVDF(rq))
			set_protect_slice(rq, se);
	}
	se->exec_start = rq->clock;
	rq->curr = se;
	se->prev_sum_exec_runtime = se->sum_exec_runtime;
}

hp_sched_entity_t *hp_pick_next_entity(hp_cfs_rq_t *rq)
{
	return pick_next_entity(rq);
}

void hp_put_prev_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *prev)
{
	put_prev_entity(rq, prev);
}

void hp_set_next_entity(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	set_next_entity(rq, se);
}

hp_sched_entity_t *hp_pick_next_task(hp_cfs_rq_t *rq)
{
	hp_sched_entity_t *se, *prev = rq->curr;

	for (;;) {
		if (rq->curr && rq->curr->on_rq)
			update_curr(rq);
		se = pick_next_entity(rq);
		if (!se || !se->sched_delayed)
			break;
		/* 6.12: a delayed entity picked is dequeued for good (the
		 * sleep it asked for), and the pick goes again */
		dequeue_entity(rq, se, HP_DEQUEUE_SLEEP | DEQUEUE_DELAYED);
	}
	if (se != prev) {
		if (prev)
			put_prev_entity(rq, prev);
		if (se)
			set_next_entity(rq, se);
	}
	rq->need_resched = 0;
	return se;
}

int hp_entity_tick(hp_cfs_rq_t *rq)
{
	update_curr(rq);
	/* EEVDF preempts from update_deadline(); Linux 6.6 dropped the
	 * separate tick check */
	if (!IS_EEVDF(rq) && rq->curr && rq->curr->on_rq && rq->nr_running > 1)
		check_preempt_tick(rq, rq->curr);
	return rq->need_resched;
}

int hp_check_preempt_wakeup(hp_cfs_rq_t *rq, hp_sched_entity_t *se)
{
	hp_sched_entity_t *curr = rq->curr;

	if (!curr)
		return 1;
	if (curr == se || rq->need_resched)
		return rq->need_resched;
	if (IS_EEVDF(rq)) {
		update_curr(rq);
#ifdef HP_SCHED_MUTATE_617_SHORT_CANCELS
		if (0) {                        /* test mutant: 6.17 keeps 6.12's wake-up rule */
#else
		if (AT_617(rq)) {
#endif
			/* 6.17 ("sched/fair: Remove spurious shorter slice
			 * preemption"): a wakee with a shorter slice picks as if
			 * the running entity were unprotected, and ends its
			 * protection only when that pick is the wakee */
			int short_ = curr->on_rq && se->slice < curr->slice;

			if (pick_eevdf_612(rq, !short_) == se) {
				if (short_)
					cancel_protect_slice(rq, curr);
				rq->need_resched = 1;
			} else if (short_) {
				/* update_protect_slice() (RUN_TO_PARITY): not
				 * preempted, but the protection shrinks to the
				 * shortest queued slice */
				curr->vprot = hp_vruntime_min(curr->vprot, curr->vruntime +
							      hp_calc_delta_fair(rq_min_slice(rq), curr));
			}
			return rq->need_resched;
		}
		/* 6.12 PREEMPT_SHORT (do_preempt_short()): an eligible wakee with a
		 * shorter slice ends the running entity's protection when its
		 * deadline is earlier or the running entity is no longer eligible,
		 * even when the pick below is not the wakee */
		if (AT_612(rq) && curr->on_rq && se->slice < curr->slice && entity_eligible(rq, se) &&
		    (deadline_before(se, curr) || !entity_eligible(rq, curr)))
			cancel_protect_slice(rq, curr);
		if (pick_eevdf(rq) == se)
			rq->need_resched = 1;
		return rq->need_resched;
	}
	update_curr(rq);
	if (wakeup_preempt_entity(curr, se, rq) == 1) {
		/* run the wakee next; once the queue is crowded, remember the
		 * preempted task so that it gets the CPU back soon */
		rq->next = se;
		rq->need_resched = 1;
		if (curr->on_rq && rq->nr_running >= rq->tun.nr_latency)
			rq->last = curr;
	}
	return rq->need_resched;
}

/* ================================================================== */
/* Checker                                                             */
/* ================================================================== */

/* Minimum deadline of a subtree, checking every node's min_deadline on
 * the way. Returns 0 or -1 with err. */
static int check_min_deadline(const hp_rb_node_t *n, uint64_t *out, char *err, size_t errlen)
{
	const hp_sched_entity_t *se = hp_se_of(n);
	uint64_t m = se->deadline, sub;

	if (n->left) {
		if (check_min_deadline(n->left, &sub, err, errlen))
			return -1;
		if ((int64_t)(sub - m) < 0)
			m = sub;
	}
	if (n->right) {
		if (check_min_deadline(n->right, &sub, err, errlen))
			return -1;
		if ((int64_t)(sub - m) < 0)
			m = sub;
	}
	if (se->min_deadline != m) {
		snprintf(err, errlen, "entity %u: min_deadline %llu, its subtree's minimum is %llu",
			 se->id, (unsigned long long)se->min_deadline, (unsigned long long)m);
		return -1;
	}
	*out = m;
	return 0;
}

/* The same for the deadline-ordered tree's min_vruntime and min_slice. */
static int check_min_vruntime(const hp_rb_node_t *n, uint64_t *mv_out, uint64_t *ms_out, char *err,
			      size_t errlen)
{
	const hp_sched_entity_t *se = hp_se_of(n);
	uint64_t mv = se->vruntime, ms = se->slice, v, sl;

	for (int i = 0; i < 2; i++) {
		const hp_rb_node_t *c = i ? n->right : n->left;

		if (!c)
			continue;
		if (check_min_vruntime(c, &v, &sl, err, errlen))
			return -1;
		if ((int64_t)(v - mv) < 0)
			mv = v;
		if (sl < ms)
			ms = sl;
	}
	if (se->min_vruntime != mv || se->min_slice != ms) {
		snprintf(err, errlen, "entity %u: min_vruntime %llu / min_slice %llu, its subtree's minima are %llu / %llu",
			 se->id, (unsigned long long)se->min_vruntime, (unsigned long long)se->min_slice,
			 (unsigned long long)mv, (unsigned long long)ms);
		return -1;
	}
	*mv_out = mv;
	*ms_out = ms;
	return 0;
}

int hp_cfs_rq_check(const hp_cfs_rq_t *rq, char *err, size_t errlen)
{
	const hp_rb_node_t *n, *first = hp_rb_first(&rq->tasks.root);
	const hp_sched_entity_t *prev = NULL;
	uint64_t count = 0, weight = 0, avg_load = 0;
	int64_t avg = 0;

	if (hp_rb_check(&rq->tasks.root, err, errlen) < 0)
		return -1;
	if (first != rq->tasks.leftmost) {
		snprintf(err, errlen, "cached leftmost %p is not the first node %p",
			 (const void *)rq->tasks.leftmost, (const void *)first);
		return -1;
	}
	for (n = first; n; n = hp_rb_next(n)) {
		const hp_sched_entity_t *se = hp_se_of(n);

		if (se == rq->curr) {
			snprintf(err, errlen, "entity %u is running and in the tree", se->id);
			return -1;
		}
		if (!se->on_rq) {
			snprintf(err, errlen, "entity %u is in the tree but not on_rq", se->id);
			return -1;
		}
		if (se->sched_delayed && !AT_612(rq)) {
			snprintf(err, errlen, "entity %u is delayed under %s (no delayed dequeue)", se->id,
				 hp_sched_policy_name(rq->policy));
			return -1;
		}
		if (prev && (DL_TREE(rq) ? deadline_before(se, prev) : hp_vruntime_before(se->vruntime, prev->vruntime))) {
			snprintf(err, errlen, "keys out of order: entity %u (%s %llu) after %u (%llu)", se->id,
				 DL_TREE(rq) ? "deadline" : "vruntime",
				 (unsigned long long)(DL_TREE(rq) ? se->deadline : se->vruntime), prev->id,
				 (unsigned long long)(DL_TREE(rq) ? prev->deadline : prev->vruntime));
			return -1;
		}
		count++;
		weight += se->load.weight;
		avg += entity_key(rq, se) * (int64_t)se->load.weight;
		avg_load += se->load.weight;
		prev = se;
	}
	if (rq->curr && rq->curr->on_rq) {
		count++;
		weight += rq->curr->load.weight;
	}
	if (count != rq->nr_running) {
		snprintf(err, errlen, "nr_running %u, but %llu entities are queued", rq->nr_running,
			 (unsigned long long)count);
		return -1;
	}
	if (weight != rq->load.weight) {
		snprintf(err, errlen, "load %llu, but the queued weights sum to %llu",
			 (unsigned long long)rq->load.weight, (unsigned long long)weight);
		return -1;
	}
	if (rq->next && !rq->next->on_rq) {
		snprintf(err, errlen, "next buddy %u is not queued", rq->next->id);
		return -1;
	}
	if (rq->last && !rq->last->on_rq) {
		snprintf(err, errlen, "last buddy %u is not queued", rq->last->id);
		return -1;
	}
	if (IS_EEVDF(rq)) {
		uint64_t m;

		if (avg != rq->avg_vruntime || avg_load != rq->avg_load) {
			snprintf(err, errlen, "avg_vruntime %lld / avg_load %llu, but the tree sums to %lld / %llu",
				 (long long)rq->avg_vruntime, (unsigned long long)rq->avg_load,
				 (long long)avg, (unsigned long long)avg_load);
			return -1;
		}
		if (DL_TREE(rq)) {
			uint64_t ms;

			if (rq->tasks.root.node && check_min_vruntime(rq->tasks.root.node, &m, &ms, err, errlen))
				return -1;
		} else if (rq->tasks.root.node && check_min_deadline(rq->tasks.root.node, &m, err, errlen)) {
			return -1;
		}
	}
	return 0;
}

/* ================================================================== */
/* Ops tables                                                          */
/* ================================================================== */

static void *rq_create(hp_sched_policy_t policy, const hp_sched_tunables_t *t)
{
	hp_cfs_rq_t *rq = malloc(sizeof(*rq));

	if (rq)
		hp_cfs_rq_init(rq, policy, t);
	return rq;
}

static void *cfs_create(const hp_sched_tunables_t *t, size_t max_tasks)
{
	(void)max_tasks;
	return rq_create(HP_SCHED_CFS, t);
}

static void *eevdf_create(const hp_sched_tunables_t *t, size_t max_tasks)
{
	(void)max_tasks;
	return rq_create(HP_SCHED_EEVDF_6_6, t);
}

static void ops_destroy(void *rq) { free(rq); }
static void ops_set_clock(void *rq, uint64_t now) { hp_cfs_rq_set_clock(rq, now); }
static void ops_enqueue(void *rq, hp_sched_entity_t *se, int flags) { hp_enqueue_entity(rq, se, flags); }
static void ops_dequeue(void *rq, hp_sched_entity_t *se, int flags) { (void)hp_dequeue_entity(rq, se, flags); }
static hp_sched_entity_t *ops_pick_next(void *rq) { return hp_pick_next_task(rq); }
static int ops_tick(void *rq) { return hp_entity_tick(rq); }
static hp_sched_entity_t *ops_curr(void *rq) { return ((hp_cfs_rq_t *)rq)->curr; }

const hp_rq_ops_t hp_sched_cfs_ops = {
	.name = "cfs", .se_size = sizeof(hp_sched_entity_t), .available = NULL,
	.create = cfs_create, .destroy = ops_destroy, .set_clock = ops_set_clock,
	.enqueue = ops_enqueue, .dequeue = ops_dequeue, .pick_next = ops_pick_next,
	.tick = ops_tick, .curr = ops_curr,
};

const hp_rq_ops_t hp_sched_eevdf_ops = {
	.name = "eevdf", .se_size = sizeof(hp_sched_entity_t), .available = NULL,
	.create = eevdf_create, .destroy = ops_destroy, .set_clock = ops_set_clock,
	.enqueue = ops_enqueue, .dequeue = ops_dequeue, .pick_next = ops_pick_next,
	.tick = ops_tick, .curr = ops_curr,
};
