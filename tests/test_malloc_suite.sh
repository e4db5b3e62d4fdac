# test_malloc_suite.sh — `hotpath run --suite malloc-workloads --profile smoke`: every available allocator measured (time, CPU time and peak RSS, and the programs' own figures: larson ops/s, xmalloc frees/s, rptest ops per CPU second) in every case, the others recorded with their reason.
. "$(dirname "$0")/t_lib.sh"
out="$T_TMP/res"

"$HP" list --suite malloc-workloads >"$T_TMP/list" 2>&1 || { t_fail "list: $(cat "$T_TMP/list")"; t_done; }
# variant lines: name, kind, then "available" or "unavailable: why"
avail=$(awk '($2 == "impl" || $2 == "baseline") && $3 == "available" { print $1 }' "$T_TMP/list" | sort -u)
unavail=$(awk '($2 == "impl" || $2 == "baseline") && $3 == "unavailable:" { print $1 }' "$T_TMP/list" | sort -u)
[ -n "$avail" ] || { t_fail "no variant available: $(cat "$T_TMP/list")"; t_done; }
echo "available: $(echo $avail); unavailable: $(echo $unavail)"

rc=0; "$HP" run --suite malloc-workloads --profile smoke --cpus auto --out "$out" --no-plots --quiet \
	>"$T_TMP/stdout" 2>"$T_TMP/stderr" || rc=$?
[ "$rc" = 0 ] || { cat "$T_TMP/stderr"; t_fail "run exited $rc"; t_done; }
dir=$(tail -n 1 "$T_TMP/stdout")
csv="$dir/results.csv"
# the symmetric variants are --profile full points; a --filter naming them runs them
rc=0; "$HP" run --suite malloc-workloads --profile smoke --cpus auto --filter 'crossfree|ring' --out "$out" \
	--no-plots --quiet >"$T_TMP/stdout2" 2>>"$T_TMP/stderr" || rc=$?
[ "$rc" = 0 ] || { cat "$T_TMP/stderr"; t_fail "run --filter exited $rc"; t_done; }
csv2="$(tail -n 1 "$T_TMP/stdout2")/results.csv"
[ -s "$csv2" ] || { t_fail "no results.csv for the symmetric variants"; t_done; }
tail -n +2 "$csv2" >>"$csv"
[ -s "$csv" ] || { t_fail "no results.csv in '$dir'"; t_done; }

python3 - "$csv" "$(echo $avail)" "$(echo $unavail)" "$(nproc)" <<'PY' || t_fail "results.csv content"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
avail, unavail = sys.argv[2].split(), sys.argv[3].split()
# the programs' quick points are their 2-thread runs: they need 2 CPUs
two = int(sys.argv[4]) >= 2
cases = ["larson", "xmalloc", "cache_scratch", "cache_thrash", "glibc_simple", "glibc_thread",
         "rptest", "alloc_test", "larson_crossfree", "xmalloc_ring"]
# the programs' own figures, per repetition
figure = {"larson": "ops_per_sec", "xmalloc": "frees_per_sec", "glibc_thread": "iters_per_sec",
          "rptest": "ops_per_cpu_sec"}
# the cases that start their own threads: CPU time per op next to the wall time
cpu = {"larson", "xmalloc", "cache_scratch", "cache_thrash", "glibc_simple", "glibc_thread", "rptest", "alloc_test"}
for c in cases:
    if not two and c not in ("glibc_simple", "larson_crossfree", "xmalloc_ring"):
        continue
    for v in avail:
        got = [r for r in rows if r["case"] == c and r["variant"] == v]
        if c in figure:
            f = [float(r["value"]) for r in got if r["metric"] == figure[c]]
            assert f and all(x > 0 for x in f), (c, v, "no", figure[c])
        if c in cpu:
            f = [float(r["value"]) for r in got if r["metric"] == "cpu_ns_per_op"]
            assert f and all(x > 0 for x in f), (c, v, "no cpu_ns_per_op")
        t = [float(r["value"]) for r in got if r["metric"] == "real_time"]
        rss = [float(r["value"]) for r in got if r["metric"] == "peak_rss_kib"]
        assert t and all(x > 0 for x in t), (c, v, "no real_time")
        # a whole hotpath process with its allocator: more than 1 MiB, less than 2 GiB
        assert rss and all(1024 < x < 2 << 20 for x in rss), (c, v, rss)
    for v in unavail:
        assert not [r for r in rows if r["case"] == c and r["variant"] == v], (c, v, "measured but unavailable")
kinds = {r["variant"]: r["kind"] for r in rows}
assert kinds.get("hotpath_malloc", "impl") == "impl", kinds
assert kinds.get("hotpath_malloc_cpuslab", "impl") == "impl", kinds   # the other SLUB generation
assert all(kinds[v] == "baseline" for v in kinds if not v.startswith("hotpath_malloc")), kinds
PY
for v in $unavail; do
	grep -q "unavailable" "$dir/summary.md" || t_fail "summary.md does not say why $v is unavailable"
done
grep -qi "failed" "$T_TMP/stderr" && t_fail "a job failed: $(cat "$T_TMP/stderr")"
t_done
