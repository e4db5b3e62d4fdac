# test_malloc_preload.sh — libhotpath-malloc.so runs real programs under LD_PRELOAD (bash, cc, python3/perl, sort) with the same output as glibc.
set -u
SO=${1:?usage: $0 path/to/libhotpath-malloc.so}
T_FAIL=0
T_TMP=$(mktemp -d /tmp/hotpath-preload.XXXXXX)
trap 'rm -rf "$T_TMP"' EXIT
t_fail() { echo "FAIL: $*" >&2; T_FAIL=$((T_FAIL + 1)); }
t_ok() { echo "ok: $*"; }

if [ "${HP_SANITIZE:-none}" != none ]; then
	echo "SKIP: built with b_sanitize=$HP_SANITIZE: the sanitizer runtime must come first in the library list, so the library cannot be preloaded into these programs (test_hpmalloc covers the code here)"
	exit 77
fi
[ -f "$SO" ] || { echo "FAIL: $SO does not exist" >&2; exit 1; }
export LC_ALL=C
STATS="$T_TMP/stats"

# pre NAME CMD...: runs CMD with and without the library; outputs and exit
# codes must match. Every process started under the preload appends its
# counters to $STATS at exit.
pre() {
	local name=$1 ref got rc_ref rc_got
	shift
	ref=$("$@" 2>"$T_TMP/ref.err") && rc_ref=0 || rc_ref=$?
	got=$(LD_PRELOAD="$SO" HOTPATH_MALLOC_STATS="$STATS" "$@" 2>"$T_TMP/got.err") && rc_got=0 || rc_got=$?
	if [ "$rc_ref" != "$rc_got" ]; then
		t_fail "$name: exit $rc_got under the preload, $rc_ref without; stderr: $(head -c 2000 "$T_TMP/got.err")"
	elif [ "$ref" != "$got" ]; then
		t_fail "$name: output differs under the preload: '$(head -c 300 <<<"$got")' vs '$(head -c 300 <<<"$ref")'"
	elif [ -z "$ref" ]; then
		t_fail "$name: no output (the check would be empty)"
	else
		t_ok "$name: same output ($(wc -c <<<"$ref") bytes)"
	fi
}

# used NAME: the program NAME (its comm) ran with the library as its malloc
used() {
	local n
	n=$(awk -v p="$1" '$1 == "hotpath-malloc:" && $2 == p { for (i = 3; i < NF; i++) if ($i == "malloc") s += $(i + 1) } END { print s + 0 }' "$STATS")
	if [ "$n" -gt 0 ]; then
		t_ok "$1 called the library's malloc $n times"
	else
		t_fail "$1 left no counters in $STATS: was the library its malloc? $(cat "$STATS" 2>/dev/null | head -20)"
	fi
}

# --- the library is mapped and is the malloc -------------------------------
maps=$(LD_PRELOAD="$SO" cat /proc/self/maps)
grep -qF "$(basename "$SO")" <<<"$maps" && t_ok "mapped into cat" || t_fail "$SO not in cat's /proc/self/maps"

# --- a shell: loops, arrays, command substitution, pipelines, subshells ---
pre bash bash -c '
	s=""; declare -a a
	for i in $(seq 1 3000); do a[$i]=$((i * i % 7919)); s="$s${i: -1}"; done
	x=$(printf "%s\n" "${a[@]}" | sort -n | uniq -c | sort -rn | head -3 | tr -s " ")
	y=$( (for w in alpha beta gamma; do echo "$w ${#s}"; done) | tr a-z A-Z | paste -sd,)
	declare -A h; for i in $(seq 1 500); do h[k$i]=$i; done
	echo "${#a[@]} ${#s} ${h[k77]} ${#h[@]} $x $y"'
used bash

# --- a compiler: cc compiles and links a small program ---------------------
if command -v cc >/dev/null; then
	cat >"$T_TMP/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *next; char name[24]; long v; };
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int main(void)
{
	struct node *head = NULL;
	char *names[2000];
	unsigned long h = 5381;
	for (int i = 0; i < 2000; i++) {
		struct node *n = malloc(sizeof *n);
		snprintf(n->name, sizeof n->name, "n%d", (i * 7919) % 2000);
		n->v = i;
		n->next = head;
		head = n;
		names[i] = strdup(n->name);
	}
	qsort(names, 2000, sizeof names[0], cmp);
	for (int i = 0; i < 2000; i++) {
		for (char *c = names[i]; *c; c++)
			h = h * 33 + (unsigned char)*c;
		free(names[i]);
	}
	while (head) { struct node *n = head->next; free(head); head = n; }
	printf("%s %lu\n", "done", h);
	return 0;
}
EOF
	if LD_PRELOAD="$SO" HOTPATH_MALLOC_STATS="$STATS" cc -O2 -Wall -o "$T_TMP/prog" "$T_TMP/prog.c" 2>"$T_TMP/cc.err"; then
		cc -O2 -Wall -o "$T_TMP/prog.ref" "$T_TMP/prog.c"
		pre "cc-built program" "$T_TMP/prog"
		a=$("$T_TMP/prog"); b=$("$T_TMP/prog.ref")
		[ "$a" = "$b" ] && t_ok "program compiled under the preload prints what the reference prints" ||
			t_fail "compiled program: '$a' vs reference '$b'"
		used cc1
	else
		t_fail "cc under the preload failed: $(head -c 2000 "$T_TMP/cc.err")"
	fi
else
	echo "note: no cc, compiler check skipped"
fi

# --- slab_debug through the malloc: a one-byte overflow is reported, the
# program goes on, and every block stays 16-byte aligned -----------------------
if command -v cc >/dev/null; then
	cat >"$T_TMP/dbg.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	int bad = 0;
	for (int s = 1; s < 9000; s += 7) {
		void *p = malloc(s), *q = aligned_alloc(64, s);
		bad += ((uintptr_t)p & 15) != 0;
		bad += ((uintptr_t)q & 63) != 0;
		free(p);
		free(q);
	}
	char *x = malloc(20);
	x[20] = 1;              /* one past the end */
	free(x);
	printf("misaligned %d\n", bad);
	return 0;
}
EOF
	if cc -O0 -o "$T_TMP/dbg" "$T_TMP/dbg.c"; then
		out=$(HOTPATH_MALLOC_SLAB_DEBUG=FZPU LD_PRELOAD="$SO" "$T_TMP/dbg" 2>"$T_TMP/dbg.err") && rc=0 || rc=$?
		[ "$rc" = 0 ] && [ "$out" = "misaligned 0" ] && t_ok "slab_debug FZPU: aligned blocks, program went on" ||
			t_fail "slab_debug FZPU: exit $rc, '$out'"
		grep -q "kmalloc Redzone overwritten" "$T_TMP/dbg.err" && t_ok "slab_debug caught the overflow" ||
			t_fail "slab_debug did not report the overflow: $(head -c 1000 "$T_TMP/dbg.err")"
		out=$(LD_PRELOAD="$SO" "$T_TMP/dbg" 2>&1)
		[ "$out" = "misaligned 0" ] && t_ok "without slab_debug: silent, aligned" || t_fail "without slab_debug: '$out'"
	fi
fi

# --- interpreters ------------------------------------------------------------
py=$(command -v python3.11 || command -v python3 || true)
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
if [ -n "$py" ]; then
	pre python3 "$py" -c '
import hashlib
d = {}
for i in range(200000):
    d["k%d" % i] = [i, str(i) * (i % 7), {"x": i}]
for i in range(0, 200000, 3):
    del d["k%d" % i]
s = sorted(d.items(), key=lambda kv: kv[1][0] % 9973)
b = bytearray()
for k, v in s[:50000]:
    b += k.encode() + v[1].encode()
print(len(d), hashlib.sha256(bytes(b)).hexdigest())'
	used "$(basename "$py")"
fi
if command -v perl >/dev/null; then
	pre perl perl -e 'my %h; for my $i (1..100000) { $h{"k$i"} = [$i, "x" x ($i % 13)] }
		delete $h{"k$_"} for grep { $_ % 3 == 0 } 1..100000;
		my $s = join(",", map { $h{$_}[0] } (sort keys %h)[0..999]);
		print scalar(keys %h), " ", length($s), " ", unpack("%32C*", $s), "\n"'
	used perl
fi

# --- sort on a large generated file, one and two threads ----------------------
awk 'BEGIN { x = 12345; for (i = 0; i < 200000; i++) { x = (x * 1103515245 + 12345) % 2147483648;
	printf "%08x line %d %s\n", x, i, substr("abcdefghijklmnopqrstuvwxyz", x % 26 + 1, x % 17) } }' >"$T_TMP/big.txt"
pre "sort 200k lines" sort "$T_TMP/big.txt"
pre "sort 200k lines, 2 threads, 1 MiB buffer (temporary files)" sort --parallel=2 -S 1M -T "$T_TMP" -k3,3 -k1,1 "$T_TMP/big.txt"
used sort

if [ "$T_FAIL" -gt 0 ]; then
	echo "$T_FAIL check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
