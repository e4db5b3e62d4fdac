# test_rcu_suite.sh — `hotpath run --suite rcu --profile smoke --filter read_mostly`: every variant at every point of the update-fraction sweep, each thread really making that share of updates, the background updater running, and the sweep's plot (ops/s against the fraction, one line per variant).
. "$(dirname "$0")/t_lib.sh"

rc=0
"$HP" run --suite rcu --profile smoke --cpus auto --filter read_mostly --out "$T_TMP/r" --quiet \
	>"$T_TMP/stdout" 2>"$T_TMP/stderr" || rc=$?
[ "$rc" = 0 ] || { cat "$T_TMP/stderr" >&2; t_fail "run exited $rc"; t_done; }
d=$(tail -n 1 "$T_TMP/stdout")
[ -s "$d/results.csv" ] || { t_fail "no results.csv in '$d'"; t_done; }
# The background updater wakes every 100 us; a smoke batch (2 ms) can end
# before a loaded machine schedules it at all, so whether it makes updates
# is checked on quick-profile batches (0.1 s) of the upd point alone.
rc=0
"$HP" run --suite rcu --profile quick --reps 2 --cpus auto --filter 'read_mostly/.*/upd$' \
	--out "$T_TMP/u" --quiet --no-plots >"$T_TMP/stdout_u" 2>"$T_TMP/stderr_u" || rc=$?
[ "$rc" = 0 ] || { cat "$T_TMP/stderr_u" >&2; t_fail "upd run exited $rc"; t_done; }
du=$(tail -n 1 "$T_TMP/stdout_u")

python3 - "$d/results.csv" "$du/results.csv" <<'PY' || t_fail "results.csv content"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
urows = list(csv.DictReader(open(sys.argv[2])))
rm = [r for r in rows if r["case"] == "read_mostly"]
top = max(int(r["threads"]) for r in rm)
# one thread per selected CPU, and no other thread count (HP_THREADS_ALL)
assert {int(r["threads"]) for r in rm} == {top}, sorted({r["threads"] for r in rm})
variants = {"qsbr", "memb", "urcu-memb", "urcu-signal", "rwlock", "seqlock"}
sweep = {"0%": 0, "0.1%": 1000, "1%": 10000, "10%": 100000, "50%": 500000}
have = {r["variant"] for r in rm if r["metric"] == "real_time"}
# liburcu's are absent only where liburcu is (the variant says unavailable)
assert variants - {"urcu-memb", "urcu-signal"} <= have, have
for v in have:
    for p in list(sweep) + ["upd"]:
        t = [float(r["value"]) for r in rm if r["variant"] == v and r["param"] == p
             and r["metric"] == "real_time" and int(r["threads"]) == top]
        assert t and all(x > 0 for x in t), (v, p, "no real_time at", top, "threads")
    # the share of updates each thread made: the sweep's x, as asked
    for p, want in sweep.items():
        def ctr(name):
            return {(r["threads"], r["rep"]): float(r["value"]) for r in rm
                    if r["variant"] == v and r["param"] == p and r["metric"] == name}
        got, n = ctr("update_ppm"), ctr("ops_per_thread")
        assert got and set(got) == set(n), (v, p, "no update_ppm / ops_per_thread counters")
        for k, g in got.items():
            # updates are stratified (one per block of 1e6/ppm ops), so
            # every batch has the share to within one update
            assert n[k] >= 1 and abs(g - want) * n[k] / 1e6 <= 1.0 + 1e-6, \
                (v, p, k, "update_ppm", g, "over", n[k], "ops; asked", want)
    # the background updater runs (one replacement every 100 us at most)
    ups = [float(r["value"]) for r in rm if r["variant"] == v and r["param"] == "upd"
           and r["metric"] == "updates_per_s"]
    # (a short batch's window can hold one update more than 100 us allow)
    assert ups and all(0 <= u < 1e6 for u in ups), (v, "updates_per_s", ups)
    # over 0.1 s batches it made updates (no rate floor: that is a timing
    # check, and a reader-preferring rwlock starves the writer under load)
    uq = [float(r["value"]) for r in urows if r["case"] == "read_mostly" and r["variant"] == v
          and r["param"] == "upd" and r["metric"] == "updates_per_s"]
    assert uq and max(uq) > 0, (v, "updates_per_s over 0.1 s batches", uq)
    assert not [r for r in rm if r["variant"] == v and r["param"] == "upd" and r["metric"] == "update_ppm"]
print("variants:", sorted(have), "at", top, "threads")
PY

if command -v gnuplot >/dev/null; then
	for ext in dat svg png pdf; do
		[ -s "$d/plots/rcu-read_mostly-updates.$ext" ] || t_fail "no plots/rcu-read_mostly-updates.$ext"
	done
	python3 - "$d/plots/rcu-read_mostly-updates.dat" <<'PY' || t_fail "rcu-read_mostly-updates.dat content"
import sys
blocks = [b for b in open(sys.argv[1]).read().split("\n\n\n") if b.strip()]
names, fracs = [], None
for b in blocks:
    lines = [l for l in b.splitlines() if l and not l.startswith("#")]
    names.append(lines[0].strip('"'))
    pts = [l.split() for l in lines[1:]]
    f = [p[1].strip('"') for p in pts]
    # the sweep in its order, at evenly spaced x, the upd point left out
    assert f == ["0%", "0.1%", "1%", "10%", "50%"], (names[-1], f)
    assert [int(p[0]) for p in pts] == list(range(5)), pts
    for p in pts:
        med, lo, hi = map(float, p[2:5])
        assert 0 < lo <= med <= hi, (names[-1], p)
assert {"qsbr", "memb", "rwlock", "seqlock"} <= set(names), names
PY
fi
grep -qi "failed" "$T_TMP/stderr" && t_fail "a job failed: $(cat "$T_TMP/stderr")"
t_done
