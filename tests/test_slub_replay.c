/* test_slub_replay.c — the libFuzzer harness's operation stream (slub_ops.h), replayed deterministically from seeds so every build exercises it. */
#include "t_util.h"
#include "slub_ops.h"
#include "hp_rand.h"

/* ThreadSanitizer makes every byte of cookie checking ~20x slower */
#if defined(__SANITIZE_THREAD__)
#define T_SEEDS 16
#else
#define T_SEEDS 120
#endif

int main(void)
{
	static uint8_t buf[3 * 4000];
	hp_slub_config_t cfg = { .arena_bytes = 256u << 20, .seed = 11, .slab_debug = "-" };
	char err[200];
	int streams = 0;

	if (hp_slub_init(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "init: %s\n", err);
		return 1;
	}
	/* the empty stream, a stream of one op of each kind, then seeded ones
	 * of growing length */
	T_CHECK(so_run(buf, 0) == NULL);
	for (unsigned op = 0; op < 10; op++) {
		uint8_t one[6] = { 1, 5, 2, (uint8_t)op, 5, 2 };
		const char *why = so_run(one, sizeof one);

		T_CHECK_MSG(why == NULL, "op %u: %s", op, why);
	}
	for (uint64_t seed = 1; seed <= T_SEEDS; seed++) {
		uint64_t s = seed;
		size_t len = 3 * (size_t)(10 + (seed * 37) % 3990);
		const char *why;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)hp_splitmix64(&s);
		why = so_run(buf, len);
		T_CHECK_MSG(why == NULL, "seed %llu (%zu ops): %s", (unsigned long long)seed, len / 3, why);
		streams++;
	}
	T_CHECK(so.expected_errors > 0 && so.reports == so.expected_errors);
#ifdef SO_GEN_SHEAVES
	/* generation sheaves: the plain, hardened and no-partial caches have sheaves, the debug one none */
	T_CHECK(hp_kmem_cache_sheaf_capacity(so.caches[0]) > 0 && hp_kmem_cache_sheaf_capacity(so.caches[1]) > 0 &&
		hp_kmem_cache_sheaf_capacity(so.caches[2]) == 0 && hp_kmem_cache_sheaf_capacity(so.caches[3]) > 0);
#endif
	printf("%d streams, %llu provoked errors reported exactly\n", streams, (unsigned long long)so.expected_errors);
	return t_done("test_slub_replay");
}
