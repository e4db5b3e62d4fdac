# test_buddy_suite.sh — `hotpath run --suite buddy --profile smoke`: every case measured, the trace's fragmentation counters recorded and repeatable for a seed, pcp_tune's zone->lock counter for both pcp generations, and the pcp fast paths' instruction counts (out of line and inline).
. "$(dirname "$0")/t_lib.sh"

run() {   # run OUTDIR ARGS... : prints the results folder
	local out=$1 rc=0
	shift
	"$HP" run --suite buddy --profile smoke --cpus auto --out "$out" --no-plots --quiet "$@" \
		>"$T_TMP/stdout" 2>"$T_TMP/stderr" || rc=$?
	[ "$rc" = 0 ] || { cat "$T_TMP/stderr" >&2; t_fail "run $* exited $rc"; return 1; }
	tail -n 1 "$T_TMP/stdout"
}

a=$(run "$T_TMP/a" --seed 7) || t_done
b=$(run "$T_TMP/b" --seed 7 --filter 'trace/impl') || t_done
c=$(run "$T_TMP/c" --seed 8 --filter 'trace/impl') || t_done
# pcp_tune's lock counter is per op of a batch that starts from a fresh
# zone: a smoke batch of a few ops is all start-up (2 locks per op seen on a
# fresh machine), so the counter is checked on batches of 0.1 s
tn=$(run "$T_TMP/tn" --seed 7 --filter 'pcp_tune' --profile quick --reps 2) || t_done

python3 - "$a/results.csv" "$b/results.csv" "$c/results.csv" "$tn/results.csv" <<'PY' || t_fail "results.csv content"
import csv, sys
rows = [list(csv.DictReader(open(f))) for f in sys.argv[1:]]
a = rows[0]
assert [r for r in a if r["case"] == "pcp_tune" and r["metric"] == "zone_lock_per_op"], "no pcp_tune counter"
for case in ["pcp_hit", "pcp_miss", "order", "aligned", "trace", "pcp_tune"]:
    t = [float(r["value"]) for r in a if r["case"] == case and r["variant"] == "impl" and r["metric"] == "real_time"]
    assert t and all(x > 0 for x in t), (case, "no impl real_time")
# the 6.7 generation runs beside 6.6 in pcp_hit and pcp_tune
for case in ["pcp_hit", "pcp_tune"]:
    assert [r for r in a if r["case"] == case and r["variant"] == "impl-6.7" and r["metric"] == "real_time"], case
# the page-fault path is named for what it does; the old name is gone
assert not [r for r in a if r["variant"] == "kernel"], "a buddy variant is still called kernel"
# pcp_tune: zone->lock per op, repeatable, and the auto-tuned pcp takes it
# less often on the free-heavy bursts (the mechanism, not a speed)
lk = {}
for r in rows[3]:
    if r["case"] == "pcp_tune" and r["metric"] == "zone_lock_per_op":
        lk.setdefault(r["variant"], set()).add(float(r["value"]))
assert set(lk) == {"impl", "impl-6.7"}, lk
l66, l67 = min(lk["impl"]), min(lk["impl-6.7"])
assert 0 < l67 < l66, lk
# orders 0, 3, 9 and 10 for impl (the other seven are full_only)
params = {r["param"] for r in a if r["case"] == "order" and r["variant"] == "impl" and r["metric"] == "real_time"}
assert params == {"0", "3", "9", "10"}, params
# per-page figure for the order case
assert [r for r in a if r["case"] == "order" and r["metric"] == "real_time_per_item"], "no per-page rows"

def frag(rs):
    """the fragmentation counters of the impl trace, per repetition"""
    out = {}
    for r in rs:
        if r["case"] == "trace" and r["variant"] == "impl" and (r["metric"][:1] == "s" or r["metric"] == "trace_failed_allocs"):
            out.setdefault(r["rep"], {})[r["metric"]] = float(r["value"])
    return out
fa, fb, fc = frag(rows[0]), frag(rows[1]), frag(rows[2])
assert fa, "no fragmentation counters"
names = {"s%02d_%s_o%d" % (s, k, o) for s in range(32) for k in ("unusable", "extfrag") for o in (3, 6, 9, 10)}
names |= {"s%02d_free_pages" % s for s in range(32)} | {"trace_failed_allocs"}
for rep, m in fa.items():
    assert set(m) == names, sorted(set(m) ^ names)[:5]
    for k, v in m.items():
        if "_unusable_" in k:
            assert 0 <= v <= 1000, (k, v)
        elif "_extfrag_" in k:
            assert v == -1000 or 0 <= v <= 1000, (k, v)
        elif k.endswith("free_pages"):
            assert 0 < v <= 16384, (k, v)
# the same seed gives the same figures, in every repetition and every run
ref = fa["0"]
for m in list(fa.values()) + list(fb.values()):
    assert m == ref, "fragmentation counters differ for the same seed"
# another seed, another trace
assert any(m != ref for m in fc.values()), "seed 8 gave the same counters as seed 7"
# the unusable index moves over the trace (it is a time series, not a constant)
assert len({ref["s%02d_unusable_o9" % s] for s in range(32)}) > 3
PY

# the fragmentation plot, drawn from the counters
if command -v gnuplot >/dev/null; then
	"$HP" plot "$a" >"$T_TMP/plot" 2>&1 || t_fail "hotpath plot: $(cat "$T_TMP/plot")"
	for ext in dat svg png pdf; do
		[ -s "$a/plots/buddy-trace-frag.$ext" ] || t_fail "no plots/buddy-trace-frag.$ext"
	done
	[ "$(grep -vc '^#' "$a/plots/buddy-trace-frag.dat")" = 32 ] || t_fail "buddy-trace-frag.dat: not 32 samples"
fi

# the pinned pcp fast path: a fixed instruction count (callgrind), far
# below the slow path; not under sanitizers, which valgrind cannot run
if [ "${HP_SANITIZE:-none}" = none ] && command -v valgrind >/dev/null; then
	d=$(run "$T_TMP/d" --metric instructions --filter 'pcp_(hit|miss)/impl(-6.7|-inline)?/') || t_done
	python3 - "$d/results.csv" "$d/summary.md" <<'PY' || t_fail "instruction counts"
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
# the inline pair does other work than the out-of-line impl: no ratio, its
# work line and class in the summary
s = open(sys.argv[2]).read()
hit = s[s.index("### pcp_hit\n"):s.index("### pcp_miss\n")]
m = re.search(r"^\| impl-inline \|.*\|\s*([^|]*?)\s*\|$", hit, re.M)
assert m and m.group(1) == "— (inline-fixed-pcp vs call+aligned-pages: not equal work)", m and m.group(1)
assert "- impl-inline [inline-fixed-pcp]: inline alloc_pages(0)" in hit
ins = {(r["case"], r["variant"]): float(r["value"]) for r in rows if r["metric"] == "instructions"}
print("instructions per pair:", ins)
# Measured counts, within 10% (gcc 12 -O2, x86_64, 2026-12-04; impl-inline
# 2026-12-05), from
#   hotpath run --suite buddy --profile smoke --metric instructions \
#       --filter 'pcp_(hit|miss)/impl(-6.7|-inline)?/'
# 129 for the pinned 6.6 pair, 156 with 6.7's free-side bookkeeping (both
# including ~25 instructions of benchmark loop and ops-table calls), 55 for
# the inline pair with the pcp bound at setup (loop included; issue 10's
# goal is <= 60, 3x slub's inline pair). A change to the fast path that
# moves them more than 10% must update these.
for key, want in {("pcp_hit", "impl"): 129, ("pcp_hit", "impl-6.7"): 156, ("pcp_hit", "impl-inline"): 55}.items():
    got = ins[key]
    assert abs(got - want) <= 0.10 * want, (key, got, want)
assert ins[("pcp_miss", "impl")] > 4 * ins[("pcp_hit", "impl")], ins
assert ins[("pcp_hit", "impl-inline")] <= 60, ins
PY
fi
grep -qi "failed" "$T_TMP/stderr" && t_fail "a job failed: $(cat "$T_TMP/stderr")"
t_done
