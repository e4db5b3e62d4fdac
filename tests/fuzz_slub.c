/* fuzz_slub.c — libFuzzer harness: an operation stream (slub_ops.h) over impl/slub's caches, kmalloc, bulk paths and the debug cache.
 *
 * Built only when the C compiler is clang (meson: tests/meson.build):
 *   CC=clang meson setup build-fuzz && ninja -C build-fuzz tests/fuzz_slub
 *   ./build-fuzz/tests/fuzz_slub -max_total_time=60 corpus/
 * A crash or a broken invariant aborts with the reason on stderr; replay a
 * saved input with ./build-fuzz/tests/fuzz_slub crash-<hash>. The same
 * executor runs in every build as tests/test_slub_replay.c.
 */
#include "slub_ops.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = so_run(data, size);

	if (why) {
		fprintf(stderr, "fuzz_slub: %s\n", why);
		abort();
	}
	return 0;
}
