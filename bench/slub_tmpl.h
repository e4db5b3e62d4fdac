/* slub_tmpl.h — the `slub` suite's measured loops, included by bench/slub.c once per variant family so each is compiled with its own allocator calls inlined.
 *
 * Before including, define:
 *   T_SUFFIX              name suffix of the generated functions
 *   T_BEGIN(st, ctx)      per-run set-up of the calling thread; 0 ok, else skip
 *   T_ALLOC(c, sz)        one object of sz bytes (c: the job's cache, impl)
 *   T_FREE(c, p)          give it back
 *   T_BULK_ALLOC(c, sz, n, v) n objects into v[], returns how many
 *   T_BULK_FREE(c, n, v)  give them back
 *   T_KMALLOC(sz)         a kmalloc/malloc of any size (the trace)
 *   T_KFREE(p)            kfree/free (the trace)
 * No allocator call here goes through a function pointer. The cache and
 * size are copied to locals first: the loops' compiler barriers would
 * otherwise reload them from the job on every iteration.
 */
#define T_CAT2(a, b) a##_##b
#define T_CAT(a, b) T_CAT2(a, b)
#define T_FN(name) T_CAT(name, T_SUFFIX)

/* alloc+free of one object: the per-CPU fast path on both sides */
static void T_FN(pair_run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const slub_job_t *j = ctx->data;
	hp_kmem_cache_t *const cache = j->cache;
	const size_t size = j->size;

	(void)cache;
	(void)size;
	if (T_BEGIN(st, ctx) != 0)
		return;
	while (n--) {
		void *p = T_ALLOC(cache, size);

		hp_do_not_optimize_ptr(p);
		T_FREE(cache, p);
	}
}

/* a batch of BULK_N objects allocated, then freed */
static void T_FN(bulk_run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const slub_job_t *j = ctx->data;
	hp_kmem_cache_t *const cache = j->cache;
	const size_t size = j->size;
	uint64_t left = n;
	void *v[BULK_N];

	(void)cache;
	(void)size;
	if (T_BEGIN(st, ctx) != 0)
		return;
	while (left--) {
		size_t got = T_BULK_ALLOC(cache, size, BULK_N, v);

		hp_do_not_optimize_ptr(v[0]);
		T_BULK_FREE(cache, got, v);
	}
	hp_add_items(st, (double)n * BULK_N);
}

/* producer: allocate, write a word, hand over to the consumer's CPU */
static void T_FN(remote_run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const slub_job_t *j = ctx->data;
	hp_kmem_cache_t *const cache = j->cache;
	const size_t size = j->size;

	(void)cache;
	(void)size;
	if (T_BEGIN(st, ctx) != 0)
		return;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *p = T_ALLOC(cache, size);

		if (p)
			*p = i;
		ring_push(j->ring, p);
	}
}

/* consumer (its own thread on the second CPU): free what arrives */
static void *T_FN(consumer)(void *arg)
{
	slub_job_t *j = arg;
	hp_kmem_cache_t *const cache = j->cache;

	(void)cache;
	if (consumer_start(j) != 0)
		return NULL;
	for (;;) {
		void *p = ring_pop(j->ring, &j->stop);

		if (!p)
			break;
		T_FREE(cache, p);
	}
	return NULL;
}

/* one step of the seeded object-lifetime trace per iteration */
static void T_FN(trace_run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	slub_job_t *j = ctx->data;
	trace_t *t = j->trace;
	uint64_t pos = t->pos;

	if (T_BEGIN(st, ctx) != 0)
		return;
	for (uint64_t i = 0; i < n; i++) {
		const trace_op_t *op = &t->ops[pos];

		if (op->size) {
			uint64_t *p = T_KMALLOC(op->size);

			if (p)
				*p = pos;
			t->slot[op->slot] = p;
		} else {
			T_KFREE(t->slot[op->slot]);
			t->slot[op->slot] = NULL;
		}
		if (++pos == t->nops)
			pos = 0;
	}
	t->pos = pos;
}

#undef T_FN
#undef T_CAT
#undef T_CAT2
#undef T_SUFFIX
#undef T_BEGIN
#undef T_ALLOC
#undef T_FREE
#undef T_BULK_ALLOC
#undef T_BULK_FREE
#undef T_KMALLOC
#undef T_KFREE
