/* test_slub_numa.c — emulated NUMA nodes in impl/slub (issue 10 §3: "remote-node frees straight to the slab"): two nodes forced over the machine's CPUs (cpu % 2), seeded operation sequences with node-0 and node-1 allocations (hp_kmem_cache_alloc_node) freed on a CPU of node 0 (and of node 1 when there is one), the sheaf/barn invariants and object conservation checked after every operation (hp_kmem_cache_sheaves_check: every object in a CPU's sheaves and a node's barn is of that node, every slab on its node's partial list), and after each free of a remote-node object: the CPU's sheaves did not grow (the object went to its slab, __slab_free). Every sheaves lock stand-in.
 *
 * Built twice (tests/meson.build): against impl/slub, and with -DT_MUTANT
 * against impl/slub built with -DHP_SLUB_MUTATE_REMOTE_NODE_TO_SHEAF (the
 * node test of slab_free() left out: a remote-node object goes into the
 * local sheaf), registered should_fail: the checks above must catch it.
 */
#include "t_util.h"
#include "hp_rand.h"
#include "slub.h"

#include <sched.h>
#include <stdint.h>

#define MAXLIVE 2048

typedef struct seq {
	hp_kmem_cache_t *s;
	void *live[MAXLIVE];
	long nlive;
	uint64_t rng;
	long violations, remote_frees, remote_in_sheaf;
	char first[300];
} seq_t;

static void check(seq_t *q, const char *after)
{
	char err[256];
	long bad = hp_kmem_cache_sheaves_check(q->s, q->nlive, NULL, err, sizeof err);

	if (bad) {
		if (!q->violations)
			snprintf(q->first, sizeof q->first, "after %s: %s", after, err);
		q->violations += bad;
	}
}

static unsigned long in_pcs(seq_t *q)
{
	hp_sheaves_info_t info;

	hp_kmem_cache_sheaves_check(q->s, -1, &info, NULL, 0);
	return info.in_pcs;
}

static void take(seq_t *q, void *p, int node)
{
	T_CHECK_MSG(p != NULL, "allocation (node %d) failed", node);
	if (!p)
		return;
	if (node >= 0)
		T_CHECK_MSG(hp_slub_obj_node(p) == node, "alloc_node(%d) gave an object of node %d", node,
			    hp_slub_obj_node(p));
	q->live[q->nlive++] = p;
}

/* Frees live[i]; a remote-node object must not land in the sheaves. */
static void put(seq_t *q, long i, int how, int local)
{
	void *p = q->live[i];
	int remote = hp_slub_obj_node(p) != local;
	unsigned long before = remote ? in_pcs(q) : 0;

	q->live[i] = q->live[--q->nlive];
	if (how == 0)
		hp_kmem_cache_free(q->s, p);
	else if (how == 1)
		hp_kfree(p);
	else
		hp_kmem_cache_free_bulk(q->s, 1, &p);
	if (remote) {
		q->remote_frees++;
		if (in_pcs(q) != before)
			q->remote_in_sheaf++;
	}
}

static const char *step(seq_t *q, int local)
{
	uint64_t r = hp_splitmix64(&q->rng);
	unsigned op = (unsigned)(r % 100);

	if (op < 25 && q->nlive < MAXLIVE - 128) {
		take(q, hp_kmem_cache_alloc(q->s), -1);
		return "alloc";
	}
	if (op < 45 && q->nlive < MAXLIVE - 128) {
		int node = (int)((r >> 8) & 1);

		take(q, hp_kmem_cache_alloc_node(q->s, node), node);
		return "alloc_node";
	}
	if (op < 85 && q->nlive) {
		put(q, (long)((r >> 8) % (uint64_t)q->nlive), (int)((r >> 40) % 3), local);
		return "free";
	}
	if (op < 95 && q->nlive < MAXLIVE - 128) {
		void *v[64];
		size_t n = 1 + (r >> 8) % 64;

		T_CHECK(hp_kmem_cache_alloc_bulk(q->s, n, v) == n);
		for (size_t i = 0; i < n; i++)
			take(q, v[i], -1);
		return "bulk alloc";
	}
	hp_kmem_cache_shrink(q->s);
	return "shrink";
}

static int bind(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof set, &set);
}

/* One seeded sequence per stand-in, seed and CPU; returns violations. */
static long run(unsigned flags, const char *tag, int cpu, uint64_t seed, long *remote, long *in_sheaf)
{
	static seq_t q;
	char name[48], err[200];
	int local = hp_slub_cpu_node(cpu);

	if (bind(cpu) != 0)
		return 0;
	if ((flags & HP_SLAB_PCPU_PINNED) && hp_slub_set_cpu(cpu) != 0) {
		printf("%s: cannot declare CPU %d, not run\n", tag, cpu);
		return 0;
	}
	memset(&q, 0, sizeof q);
	q.rng = seed;
	snprintf(name, sizeof name, "numa-%s-%d-%llu", tag, cpu, (unsigned long long)seed);
	q.s = hp_kmem_cache_create(name, 64, 0, HP_SLAB_SHEAVES | flags, NULL, err, sizeof err);
	T_CHECK_MSG(q.s != NULL, "%s: %s", name, err);
	if (!q.s)
		return 0;
	check(&q, "create");
	for (int i = 0; i < 3000; i++)
		check(&q, step(&q, local));
	while (q.nlive)
		put(&q, q.nlive - 1, 0, local);
	check(&q, "drain");
	if (q.violations)
		fprintf(stderr, "%s: %ld violations, first %s\n", name, q.violations, q.first);
	*remote += q.remote_frees;
	*in_sheaf += q.remote_in_sheaf;
	T_CHECK_MSG(hp_kmem_cache_destroy(q.s) == 0 || q.violations, "%s: destroy found objects left", name);
	if (flags & HP_SLAB_PCPU_PINNED)
		hp_slub_set_cpu(-1);
	return q.violations;
}

int main(void)
{
	static const struct { unsigned flags; const char *tag; } st[] = {
		{ 0, "lock" }, { HP_SLAB_PCPU_RSEQ, "rseq" }, { HP_SLAB_PCPU_PINNED, "pinned" },
	};
	cpu_set_t all;
	long violations = 0, remote = 0, in_sheaf = 0;
	int ncpu = hp_slub_nr_cpus();

	T_CHECK(hp_slub_ensure_init() == 0);
	T_CHECK(hp_slub_set_nodes(0, NULL) == -1);
	T_CHECK(hp_slub_set_nodes(HP_SLUB_MAX_NODES + 1, NULL) == -1);
	T_CHECK(hp_slub_nr_nodes() == 1);
	T_CHECK(hp_slub_set_nodes(2, NULL) == 0);   /* cpu % 2 */
	T_CHECK(hp_slub_nr_nodes() == 2);
	T_CHECK(hp_slub_cpu_node(0) == 0 && hp_slub_cpu_node(1) == 1);
	sched_getaffinity(0, sizeof all, &all);
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
		for (int cpu = 0; cpu < ncpu && cpu < 2; cpu++) {
			if (!CPU_ISSET(cpu, &all))
				continue;
			for (uint64_t seed = 1; seed <= 3; seed++)
				violations += run(st[i].flags, st[i].tag, cpu, seed * 7919 + i, &remote, &in_sheaf);
		}
	sched_setaffinity(0, sizeof all, &all);
	{
		hp_kmem_cache_t *s = hp_kmem_cache_create("numa-badnode", 64, 0, HP_SLAB_SHEAVES, NULL, NULL, 0);

		T_CHECK(s && hp_kmem_cache_alloc_node(s, 2) == NULL);
		T_CHECK(s && hp_kmem_cache_destroy(s) == 0);
	}
	printf("remote-node frees: %ld, of which into a sheaf: %ld; invariant violations: %ld\n", remote, in_sheaf,
	       violations);
	T_CHECK_MSG(remote > 100, "only %ld remote-node frees exercised", remote);
	T_CHECK_MSG(in_sheaf == 0, "%ld remote-node frees went into the local sheaves", in_sheaf);
	T_CHECK_MSG(violations == 0, "%ld sheaf/barn/conservation violations", violations);
	return t_done("slub_numa");
}
