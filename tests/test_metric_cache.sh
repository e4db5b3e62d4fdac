# test_metric_cache.sh — `hotpath run --metric cache`: misses per op from callgrind's cache simulator, equal in two runs, the geometry in env.json, cache_d1_misses the primary metric in summary.md; multi-threaded cases skipped with the reason. Skips (77) without valgrind.
. "$(dirname "$0")/t_lib.sh"

why=$("$HP" list --suite slub 2>/dev/null | sed -n 's/.*instructions: unavailable: \([^;]*\);.*/\1/p')
[ -z "$why" ] || { echo "SKIP: $why"; exit 77; }
for k in 1 2; do
	"$HP" run --suite slub --metric cache --profile smoke --filter '^slub/kmalloc_pair/impl-pinned/(64|4096)$' \
		--out "$T_TMP/r$k" --quiet >"$T_TMP/out$k" 2>"$T_TMP/err$k" ||
		{ t_fail "run $k exited non-zero: $(cat "$T_TMP/err$k")"; t_done; }
done
d1=$(tail -n 1 "$T_TMP/out1") d2=$(tail -n 1 "$T_TMP/out2")
python3 - "$d1" "$d2" <<'PY' || t_fail "results"
import csv, json, sys
def rows(d):
    return {(r["variant"], r["param"], r["rep"], r["metric"]): (r["unit"], float(r["value"]))
            for r in csv.DictReader(open(d + "/results.csv"))}
a, b = rows(sys.argv[1]), rows(sys.argv[2])
want = ["cache_i1_misses", "cache_d1_misses", "cache_ll_misses", "instructions"]
for p in ["64", "4096"]:
    for m in want:
        k = ("impl-pinned", p, "0", m)
        assert k in a, ("missing", k)
        unit, v = a[k]
        assert v >= 0, (k, v)
        assert unit == ("instr/pair" if m == "instructions" else "misses/pair"), (k, unit)
        # callgrind's counts: equal from run to run
        assert a[k] == b[k], (k, a[k], b[k])
    assert a[("impl-pinned", p, "0", "instructions")][1] > 0
env = json.load(open(sys.argv[1] + "/env.json"))
assert env["metric"] == "cache", env["metric"]
for lvl in ["I1", "D1", "LL"]:
    c = env["cache_sim"][lvl]
    assert c["source"] == "hwloc" or c["source"].startswith("valgrind's CPUID detection ("), c
    if c["source"] == "hwloc":
        assert c["size"] > 0 and c["assoc"] > 0 and c["line"] > 0, c
s = open(sys.argv[1] + "/summary.md").read()
assert "1 thread: cache_d1_misses" in s, "primary metric is not cache_d1_misses"
PY
# a case that needs a second running thread says why instead of a count
"$HP" run --suite nvme --metric cache --profile smoke --filter '^nvme/emulated/impl-poll/2us$' \
	--out "$T_TMP/w" --quiet >"$T_TMP/wout" 2>&1 || true
w=$(tail -n 1 "$T_TMP/wout")
grep -q 'valgrind serialises threads' "$w/summary.md" 2>/dev/null ||
	t_fail "nvme/emulated under --metric cache: no reason in summary.md ($(cat "$T_TMP/wout"))"
t_done
