# test_fuzz_slub.sh — builds the libFuzzer harness over impl/slub's operation stream with clang (when the project is built with gcc) and runs it briefly.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
clang=${CLANG:-clang}
command -v "$clang" >/dev/null || { echo "SKIP: clang not found (apt-get install clang)"; exit 77; }
tmp=$(mktemp -d /tmp/hotpath-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
flags="-std=gnu11 -D_GNU_SOURCE -O1 -g -mcx16 -fsanitize=fuzzer,address,undefined"
if ! "$clang" $flags -x c -o "$tmp/probe" - >/dev/null 2>&1 <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
C
then
	echo "SKIP: $clang cannot link -fsanitize=fuzzer here (libFuzzer runtime missing)"
	exit 77
fi
"$clang" $flags -I"$root/impl/include" -I"$root/impl/slub" -I"$root/impl/buddy" -I"$root/tests" \
	"$root/tests/fuzz_slub.c" "$root/impl/slub/slub.c" "$root/impl/slub/slub_debug.c" "$root/impl/slub/sheaves.c" \
	"$root/impl/buddy/buddy.c" -lpthread -o "$tmp/fuzz_slub" || { echo "FAIL: building the fuzzer"; exit 1; }
mkdir "$tmp/corpus"
# a short, seeded run: any crash, sanitizer report or failed check exits non-zero
"$tmp/fuzz_slub" -seed=1 -max_total_time=${HP_FUZZ_SECONDS:-10} -rss_limit_mb=4096 \
	-artifact_prefix="$tmp/" "$tmp/corpus" 2>"$tmp/log"
rc=$?
tail -n 3 "$tmp/log"
if [ "$rc" != 0 ]; then
	cat "$tmp/log" >&2
	for a in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-*; do [ -e "$a" ] && cp "$a" "$root/" && echo "saved $(basename "$a") in $root" >&2; done
	exit 1
fi
exit 0
