# test_workqueue_suite.sh — `hotpath run --suite workqueue --profile smoke`: every case, variant and placement measured, each variant's wake-ups per item (eventfd: exactly 1; impl: at most 1, the burst's batching), and instructions reported unavailable with the reason.
. "$(dirname "$0")/t_lib.sh"

rc=0
"$HP" run --suite workqueue --profile smoke --cpus auto --out "$T_TMP/r" --quiet \
	>"$T_TMP/stdout" 2>"$T_TMP/stderr" || rc=$?
[ "$rc" = 0 ] || { cat "$T_TMP/stderr" >&2; t_fail "run exited $rc"; t_done; }
d=$(tail -n 1 "$T_TMP/stdout")
[ -s "$d/results.csv" ] || { t_fail "no results.csv in '$d'"; t_done; }
ncpu=$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))')

python3 - "$d/results.csv" "$ncpu" <<'PY' || t_fail "results.csv content"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ncpu = int(sys.argv[2])
def vals(case, variant, param, metric):
    return [float(r["value"]) for r in rows if r["suite"] == "workqueue" and r["case"] == case
            and r["variant"] == variant and r["param"] == param and r["metric"] == metric]
variants = ["impl", "cond", "eventfd"]
for v in variants:
    for p in ["same_cpu"] + (["cross_cpu"] if ncpu >= 2 else []):
        t = vals("queue_dispatch", v, p, "real_time")
        assert t and all(x > 0 for x in t), ("queue_dispatch", v, p, t)
        w = vals("queue_dispatch", v, p, "wakeups_per_item")
        assert w and all(0 <= x <= 1 for x in w), ("queue_dispatch wake-ups", v, p, w)
    for p in ["16", "256"]:
        t = vals("burst", v, p, "real_time")
        assert t and all(x > 0 for x in t), ("burst", v, p, t)
        w = vals("burst", v, p, "wakeups_per_item")
        assert w, ("burst wake-ups missing", v, p)
        if v == "eventfd":
            assert all(x == 1 for x in w), ("eventfd writes once per item", p, w)
        else:
            assert all(0 < x <= 1 for x in w), ("wake-ups per item", v, p, w)
        x = vals("burst", v, p, "worker_cross_cpu")
        assert x and all(c == (1 if ncpu >= 2 else 0) for c in x), ("burst placement", v, p, x)
# the per-item unit of burst
assert any(r["case"] == "burst" and r["unit"].endswith("/item") for r in rows), "no per-item rows"
print("ok:", len(rows), "rows")
PY

# a lost item is hp_fatal, not a number: nothing failed or crashed
grep -qiE "failed|crash" "$T_TMP/stderr" && t_fail "a job failed: $(cat "$T_TMP/stderr")"
[ -s "$d/summary.md" ] && grep -q "## workqueue" "$d/summary.md" || t_fail "summary.md has no workqueue section"

# --metric instructions: every variant hands work to a thread, so each is
# recorded unavailable with the reason (needs valgrind to be chosen at all)
if "$HP" list 2>/dev/null | grep -q "instructions: available"; then
	rc=0
	"$HP" run --suite workqueue --filter 'queue_dispatch/impl/same_cpu' --metric instructions \
		--profile smoke --out "$T_TMP/ri" --quiet >"$T_TMP/istdout" 2>"$T_TMP/istderr" || rc=$?
	[ "$rc" = 0 ] || t_fail "instructions run exited $rc: $(cat "$T_TMP/istderr")"
	di=$(tail -n 1 "$T_TMP/istdout")
	grep -rq "valgrind serialises threads" "$di" "$T_TMP/istderr" "$T_TMP/istdout" ||
		t_fail "instructions: no 'unavailable' reason recorded in $di"
fi
t_done
