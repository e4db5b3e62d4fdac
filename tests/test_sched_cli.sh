# test_sched_cli.sh — `hotpath sim` (output, determinism, --trace, exit 2 on bad input) and a smoke run of the sched suite with its own plots.
. "$(dirname "$0")/t_lib.sh"
SC=$(cd "$(dirname "$0")/../scripts/scenarios" && pwd)

# ---- hotpath sim: the CSV, byte for byte the same for the same seed
"$HP" sim "$SC/nice_pair.json" --policy cfs --seed 3 >"$T_TMP/a.csv" || t_fail "sim nice_pair exited $?"
"$HP" sim "$SC/nice_pair.json" --policy cfs --seed 3 --trace "$T_TMP/trace.csv" >"$T_TMP/b.csv" ||
	t_fail "sim with --trace exited $?"
cmp -s "$T_TMP/a.csv" "$T_TMP/b.csv" && t_ok "same seed, same CSV" || t_fail "same seed, different CSV"
head -n 1 "$T_TMP/a.csv" | grep -q '^task,nice,weight,runtime_ns,share,switches,wakeups,wakeup_p50_ns,wakeup_p99_ns,wakeup_max_ns,migrations$' ||
	t_fail "CSV header: $(head -n 1 "$T_TMP/a.csv")"
[ "$(grep -c '^nice[01],' "$T_TMP/a.csv")" = 2 ] || t_fail "not one row per task: $(cat "$T_TMP/a.csv")"
tail -n 1 "$T_TMP/a.csv" | grep -qE '^# jain_fairness=0\.99[0-9]+ .*policy=cfs' || t_fail "last line: $(tail -n 1 "$T_TMP/a.csv")"
head -n 1 "$T_TMP/trace.csv" | grep -qx 'time_ns,cpu,prev,next,reason' || t_fail "trace header"
[ "$(wc -l <"$T_TMP/trace.csv")" -gt 100 ] || t_fail "trace has $(wc -l <"$T_TMP/trace.csv") lines"
"$HP" sim "$SC/interactive.json" --cpus 2 --hz 1000 --policy eevdf >"$T_TMP/c.csv" || t_fail "sim interactive exited $?"
grep -qE '^ui,0,1024,[0-9]+,0\.1' "$T_TMP/c.csv" || t_fail "interactive ui row: $(cat "$T_TMP/c.csv")"
t_expect 0 'usage: hotpath sim' -- sim --help

# ---- bad input: exit 2, naming the task and field
bad() {
	printf '%s' "$1" >"$T_TMP/bad.json"
	t_expect 2 "$2" -- sim "$T_TMP/bad.json"
}
bad '{"global": {"duration": 1}, "tasks": {"t1": {"priority": 30, "run": 5}}}' "task 't1': priority: 30 .*-20\.\.19"
bad '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5, "sleep": -2}}}' "task 't1': sleep: -2 is negative"
bad '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5, "yield": ""}}}' "task 't1': unknown key 'yield'"
# the custom slice: 100..100000 µs (the kernel's 0.1..100 ms), an integer
bad '{"global": {"duration": 1}, "tasks": {"t1": {"slice": 99, "run": 5}}}' "task 't1': slice: 99 µs \\(valid: 100\.\.100000 µs"
bad '{"global": {"duration": 1}, "tasks": {"t1": {"slice": 100001, "run": 5}}}' "task 't1': slice: 100001 µs"
bad '{"global": {"duration": 1}, "tasks": {"t1": {"slice": "fast", "run": 5}}}' "task 't1': slice: expected an integer"
bad '{"global": {"duration": 1, "ftrace": true}, "tasks": {"t1": {"run": 5}}}' "global: unknown key 'ftrace'"
bad '{"global": {"duration": 1}, "tasks": {"t1": {"cpus": [1], "run": 5}}}' "task 't1': cpus: CPU 1 is not simulated"
bad '{"global": {"duration": 1}, "tasks": ' "unexpected end of file"
t_expect 2 "No such file" -- sim "$T_TMP/missing.json"
t_expect 2 "no scenario file" -- sim
t_expect 2 "--policy: unknown policy 'fifo'" -- sim "$SC/nice_pair.json" --policy fifo
t_expect 2 "--cpus: '0'" -- sim "$SC/nice_pair.json" --cpus 0
t_expect 2 "--hz: 'x'" -- sim "$SC/nice_pair.json" --hz x
t_expect 2 "unexpected argument" -- sim "$SC/nice_pair.json" "$SC/nice_mix.json"

# ---- models by kernel version, --policy auto, distributions over seeds
for p in cfs-6.1 eevdf-6.6 eevdf-6.12 eevdf-6.17; do
	"$HP" sim "$SC/lag_burst.json" --policy $p --seed 5 >"$T_TMP/$p.csv" || t_fail "sim --policy $p exited $?"
	tail -n 1 "$T_TMP/$p.csv" | grep -q "policy=$p " || t_fail "$p: $(tail -n 1 "$T_TMP/$p.csv")"
done
cmp -s "$T_TMP/eevdf-6.6.csv" "$T_TMP/eevdf-6.12.csv" && t_fail "eevdf-6.6 and eevdf-6.12 predict the same for lag_burst"
"$HP" sim "$SC/lag_burst.json" --policy auto >/dev/null 2>"$T_TMP/auto.err" || t_fail "--policy auto exited $?"
grep -qE '^hotpath sim: --policy auto: (cfs-6\.1|eevdf-6\.(6|12|17)) \(running kernel .+\)$' "$T_TMP/auto.err" ||
	t_fail "--policy auto did not name its model: $(cat "$T_TMP/auto.err")"
"$HP" sim "$SC/lag_burst.json" --seeds 6 --seed 3 >"$T_TMP/d1.csv" || t_fail "--seeds 6 exited $?"
"$HP" sim "$SC/lag_burst.json" --seed 3 --seeds 6 >"$T_TMP/d2.csv" || t_fail "--seeds 6 (again) exited $?"
cmp -s "$T_TMP/d1.csv" "$T_TMP/d2.csv" && t_ok "same seed list, same distribution" || t_fail "same seed list, different distribution"
head -n 1 "$T_TMP/d1.csv" | grep -qx 'task,metric,median,lo95,hi95,n' || t_fail "--seeds header: $(head -n 1 "$T_TMP/d1.csv")"
[ "$(grep -c '^burst,\(p50_ns\|p90_ns\|p99_ns\|share\|switches\),' "$T_TMP/d1.csv")" = 5 ] || t_fail "--seeds rows: $(cat "$T_TMP/d1.csv")"
tail -n 1 "$T_TMP/d1.csv" | grep -q 'policy=eevdf-6.17 seeds=3..8 (6)' || t_fail "--seeds comment: $(tail -n 1 "$T_TMP/d1.csv")"
t_expect 2 "--seeds: '0' \\(valid: 1\\.\\.10000\\)" -- sim "$SC/lag_burst.json" --seeds 0
t_expect 2 "--seeds: 'x'" -- sim "$SC/lag_burst.json" --seeds x
t_expect 2 "--policy: unknown policy 'eevdf-6.7' \\(valid: cfs-6.1, eevdf-6.6, eevdf-6.12, eevdf-6.17" -- \
	sim "$SC/lag_burst.json" --policy eevdf-6.7
t_expect 2 "--trace: one seed only" -- sim "$SC/lag_burst.json" --seeds 2 --trace "$T_TMP/t.csv"
t_expect 2 "--wake-delay: '10001' \\(valid: 0\\.\\.10000 µs\\)" -- sim "$SC/lag_burst.json" --wake-delay 10001
t_expect 2 "--wake-delay: '-1'" -- sim "$SC/lag_burst.json" --wake-delay -1
t_expect 2 "--clock-poll: '0' \\(valid: 1\\.\\.10000 µs\\)" -- sim "$SC/lag_burst.json" --clock-poll 0
t_expect 2 "--clock-poll: '10001'" -- sim "$SC/lag_burst.json" --clock-poll 10001
# the delay reaches the latencies: cfs-6.1 preempts for ui at once, so
# its p50, p99 and max are the delay itself (0 without it)
"$HP" sim "$SC/interactive.json" --policy cfs-6.1 --wake-delay 300 >"$T_TMP/wd.csv" || t_fail "--wake-delay 300 exited $?"
grep -q '^ui,.*,300000,300000,' "$T_TMP/wd.csv" && t_ok "--wake-delay in the latencies" ||
	t_fail "--wake-delay 300: cfs-6.1's ui p50/p99 not 300 µs: $(grep '^ui,' "$T_TMP/wd.csv")"

# ---- the suite, smoke profile, small queues (fidelity runs rt-app: left out)
rc=0
"$HP" run --suite sched --profile smoke --filter '^sched/(pick_next|enqueue_dequeue|tick)/[^/]+/(1|100)$' \
	--out "$T_TMP/res" --quiet >"$T_TMP/stdout" 2>"$T_TMP/stderr" || rc=$?
[ "$rc" = 0 ] || t_fail "sched smoke run exited $rc: $(cat "$T_TMP/stderr")"
dir=$(tail -n 1 "$T_TMP/stdout")
python3 - "$dir/results.csv" <<'PY' || t_fail "sched results.csv"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r['metric'] == 'real_time']
for case, vs in (('pick_next', ('cfs', 'eevdf', 'heap', 'sorted_list')),
                 ('enqueue_dequeue', ('cfs', 'eevdf', 'heap', 'sorted_list')), ('tick', ('cfs', 'eevdf'))):
    for v in vs:
        got = {r['param'] for r in rows if r['case'] == case and r['variant'] == v}
        assert got == {'1', '100'}, (case, v, got)
PY
if "$HP" list --suite sched 2>/dev/null | grep -q 'bsd_rbtree.*unavailable'; then
	echo "bsd_rbtree unavailable here (libbsd-dev missing)"
else
	grep -q '^sched,pick_next,bsd_rbtree,baseline,100,' "$dir/results.csv" || t_fail "no bsd_rbtree rows"
fi
if [ -z "${HP_GNUPLOT:-}" ] && ! command -v gnuplot >/dev/null; then
	echo "gnuplot missing: plots not checked"
else
	for c in pick_next enqueue_dequeue tick; do
		for e in svg png pdf dat; do
			[ -s "$dir/plots/sched-$c-nr.$e" ] || t_fail "no plot sched-$c-nr.$e"
		done
	done
fi
t_done
