# test_runner.sh — child processes with their own environment, unavailable variants, crashes, Ctrl-C, and repeatable instruction counts.
. "$(dirname "$0")/t_lib.sh"
export HP_SELFTEST=1
out="$T_TMP/res"

# 1. a child variant runs in its own process with its own environment; its
#    records are merged; an unavailable variant says why.
rc=0; "$HP" run --suite selftest --filter env_probe --profile smoke --out "$out" --quiet --no-plots >"$T_TMP/o1" 2>&1 || rc=$?
dir=$(tail -n 1 "$T_TMP/o1")
[ "$rc" = 0 ] || t_fail "env_probe run exited $rc: $(cat "$T_TMP/o1")"
python3 - "$dir/results.csv" <<'PY' || t_fail "child variant records"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
pid = {r['variant']: r['value'] for r in rows if r['metric'] == 'pid'}
assert set(pid) == {'inproc', 'child'}, pid
assert pid['inproc'] != pid['child'], "the child variant ran in the runner's process"
assert not any(r['variant'] == 'never' for r in rows)
# every record exactly once: a child's records are merged once, not per status
keys = [(r['variant'], r['threads'], r['metric'], r['rep']) for r in rows]
dup = sorted({k for k in keys if keys.count(k) > 1})
assert not dup, "records merged twice: %s" % dup[:4]
PY
t_json "$dir/results.json" "any(b.get('error_occurred') and 'never runs' in b['error_message'] and b['error_message'].startswith('unavailable') for b in d['benchmarks'])"
grep -q "never runs" "$dir/summary.md" || t_fail "summary.md does not say why 'never' did not run"

# 1b. a full_only point (spin/c) is left out of a smoke run without a
#     --filter, and run when a --filter selects it
rc=0; "$HP" run --suite selftest --profile smoke --out "$T_TMP/fo" --quiet --no-plots >"$T_TMP/fo1" 2>&1 || rc=$?
[ "$rc" = 0 ] || t_fail "selftest smoke run exited $rc: $(cat "$T_TMP/fo1")"
fo=$(tail -n 1 "$T_TMP/fo1")
grep -q '^selftest,spin,inproc,inproc\?,\?b,' "$fo/results.csv" || grep -q '^selftest,spin,inproc,[a-z]*,b,' "$fo/results.csv" || t_fail "spin/b missing from the smoke run"
if grep -q '^selftest,spin,inproc,[a-z]*,c,' "$fo/results.csv"; then t_fail "the full_only point spin/c ran in a smoke run without --filter"; fi
rc=0; "$HP" run --suite selftest --filter 'spin/inproc/c' --profile smoke --out "$T_TMP/fo" --quiet --no-plots >"$T_TMP/fo2" 2>&1 || rc=$?
fo=$(tail -n 1 "$T_TMP/fo2")
[ "$rc" = 0 ] && grep -q '^selftest,spin,inproc,[a-z]*,c,' "$fo/results.csv" || t_fail "--filter did not select the full_only point spin/c: $(cat "$T_TMP/fo2")"

# 2. a crash keeps the results of the benchmarks that finished, and says so
rc=0; HP_SELFTEST_CRASH=1 "$HP" run --suite selftest --filter 'env_probe/inproc|crash' --profile smoke --out "$out" --quiet --no-plots >"$T_TMP/o2" 2>"$T_TMP/e2" || rc=$?
[ "$rc" -gt 128 ] || t_fail "crash run exited $rc, expected death by signal"
grep -q "crashed while running selftest/crash" "$T_TMP/e2" || t_fail "crash not reported: $(cat "$T_TMP/e2")"
cdir=$(ls -d "$out"/* | sort | tail -n 1)
grep -q "^selftest,env_probe,inproc," "$cdir/results.csv" || t_fail "records of the finished benchmark lost in the crash"
t_json "$cdir/env.json" "d['status'] == 'running'"
ls "$cdir" | grep -q '\.tmp' && t_fail "crash left temporary files"

# 3. Ctrl-C: the current benchmark finishes, the rest does not run, exit 130
"$HP" run --suite selftest --filter 'spin' --profile full --reps 3 --out "$T_TMP/int" --quiet --no-plots >"$T_TMP/o3" 2>&1 &
pid=$!
sleep 1.5
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 130 ] || t_fail "interrupted run exited $rc, expected 130"
idir=$(ls -d "$T_TMP/int"/*)
t_json "$idir/env.json" "d['status'] == 'interrupted'"
grep -q "Interrupted" "$idir/summary.md" || t_fail "summary.md does not say the run was interrupted"
head -n 1 "$idir/results.csv" | grep -q '^suite,case' || t_fail "interrupted run has no results.csv"

# 4. instruction counts are identical from run to run
if "$HP" list | grep -q "instructions: available"; then
	for k in 1 2; do
		rc=0; "$HP" run --suite selftest --filter 'spin/inproc/a' --metric instructions --profile smoke --out "$T_TMP/ins$k" --quiet --no-plots >"$T_TMP/i$k" 2>&1 || rc=$?
		[ "$rc" = 0 ] || t_fail "instructions run $k exited $rc: $(cat "$T_TMP/i$k")"
	done
	a=$(grep ',instructions,' "$T_TMP"/ins1/*/results.csv | cut -d, -f11)
	b=$(grep ',instructions,' "$T_TMP"/ins2/*/results.csv | cut -d, -f11)
	if [ -n "$a" ] && [ "$a" = "$b" ]; then t_ok "instructions per op $a == $b"; else t_fail "instructions differ: '$a' vs '$b'"; fi
	python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if 3 <= v <= 40 else 1)" "${a:-0}" || t_fail "xorshift step counted as $a instructions"
else
	echo "instructions metric unavailable here: that part skipped"
fi
t_done
