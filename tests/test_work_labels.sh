# test_work_labels.sh — equal-work labels end to end: `hotpath list` prints a work line and class under every variant of the slub and malloc-workloads suites (and the buddy suite's malloc page family); a smoke run's summary.md gives a "vs impl" ratio between variants of equal class (slub kmalloc_pair: impl-pinned and glibc both call+size-lookup+ptr-free) and the reason instead between unequal ones (slub pair: inline-fixed-cache vs a malloc call); results.json keeps the classes in context.work.
. "$(dirname "$0")/t_lib.sh"

# 1. every variant line is followed by its work line: "work: <text> [<class>]"
"$HP" list --suite slub,malloc-workloads,buddy >"$T_TMP/list" 2>&1 || { t_fail "list: $(cat "$T_TMP/list")"; t_done; }
python3 - "$T_TMP/list" <<'PY' || t_fail "hotpath list: a variant without its work line"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
suite = case = None
bad, seen = [], 0
for i, l in enumerate(lines):
    if re.match(r"^\S", l) and " — " in l:
        suite = l.split()[0]
    elif re.match(r"^  \S", l):
        case = l.split()[0]
    m = re.match(r"^      (\S+)\s+(impl|baseline|kernel)\s", l)
    if not m:
        continue
    # buddy: only the malloc page family is checked here (its impl variants are buddy's own)
    if suite == "buddy" and "(own process)" not in l:
        continue
    seen += 1
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    w = re.match(r"^\s+work: (.+) \[([^\]]+)\]$", nxt)
    if not w:
        bad.append(f"{suite}/{case}/{m.group(1)}: no work line")
    elif suite == "buddy" and w.group(2) != "call+aligned-pages":
        bad.append(f"buddy/{case}/{m.group(1)}: class {w.group(2)}")
assert seen > 40, f"only {seen} variant lines found"
assert not bad, "\n".join(bad)
print(f"ok: {seen} variants state their work")
PY

# 2. the ratio rule in a real run
out="$T_TMP/res"
rc=0; "$HP" run --suite slub --filter '^slub/(pair|kmalloc_pair)/(impl-pinned|glibc)/64$' --profile smoke \
	--out "$out" --no-plots --quiet >"$T_TMP/stdout" 2>"$T_TMP/stderr" || rc=$?
[ "$rc" = 0 ] || { cat "$T_TMP/stderr"; t_fail "run exited $rc"; t_done; }
dir=$(tail -n 1 "$T_TMP/stdout")
python3 - "$dir/summary.md" "$dir/results.json" <<'PY' || t_fail "summary.md / results.json: the equal-work rule"
import json, re, sys
s = open(sys.argv[1]).read()
pair = s[s.index("### pair\n"):s.index("### kmalloc_pair\n")]
kpair = s[s.index("### kmalloc_pair\n"):]
row = lambda sec, v: re.search(r"^\| %s \|.*\|\s*([^|]*?)\s*\|$" % re.escape(v), sec, re.M).group(1)
assert row(pair, "impl-pinned") == "1.00x", row(pair, "impl-pinned")
assert row(pair, "glibc") == "— (call+size-lookup+ptr-free vs inline-fixed-cache: not equal work)", row(pair, "glibc")
assert row(kpair, "impl-pinned") == "1.00x", row(kpair, "impl-pinned")
assert re.fullmatch(r"[0-9.]+x", row(kpair, "glibc")), row(kpair, "glibc")
assert "- glibc [call+size-lookup+ptr-free]: malloc(size) + free(p)" in pair
assert "- impl-pinned [inline-fixed-cache]: inline kmem_cache_alloc/free" in pair
assert "- impl-pinned [call+size-lookup+ptr-free]: hp_kmalloc_pinned(size) + hp_kfree(p)" in kpair
work = json.load(open(sys.argv[2]))["context"]["work"]
got = {(w["case"], w["variant"]): w["work_class"] for w in work}
assert got == {("pair", "impl-pinned"): "inline-fixed-cache", ("pair", "glibc"): "call+size-lookup+ptr-free",
               ("kmalloc_pair", "impl-pinned"): "call+size-lookup+ptr-free",
               ("kmalloc_pair", "glibc"): "call+size-lookup+ptr-free"}, got
print("ok: ratios only between equal work")
PY
t_done
