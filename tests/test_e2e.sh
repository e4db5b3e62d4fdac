# test_e2e.sh — `hotpath run --suite kernel --profile smoke` writes a complete results folder, never overwriting one.
. "$(dirname "$0")/t_lib.sh"
out="$T_TMP/res"

rc=0; "$HP" run --suite kernel --profile smoke --out "$out" --quiet >"$T_TMP/stdout" 2>"$T_TMP/stderr" || rc=$?
[ "$rc" = 0 ] || { cat "$T_TMP/stderr"; t_fail "run exited $rc"; t_done; }
dir=$(tail -n 1 "$T_TMP/stdout")
case "$(basename "$dir")" in
[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]-*) t_ok "run folder name $(basename "$dir")" ;;
*) t_fail "run folder name '$dir' is not <YYYYmmdd-HHMMSS>-<host>" ;;
esac
[ "$(dirname "$dir")" = "$out" ] || t_fail "run folder $dir is not under --out $out"
[ -s "$T_TMP/stderr" ] && t_fail "--quiet printed on stderr: $(cat "$T_TMP/stderr")"

for f in env.json topology.xml results.csv results.json summary.md; do
	[ -s "$dir/$f" ] || t_fail "missing or empty $f"
done
ls "$dir" | grep -q '\.tmp' && t_fail "temporary files left: $(ls "$dir")"

# env.json: every field of the contract
t_json "$dir/env.json" "all(k in d for k in ['date','host','kernel_release','kernel_version','cmdline','cpu_model','microcode','tsc','nominal_mhz','governor','turbo','smt','isolcpus','nohz_full','aslr','thp','compiler','cflags','build_type','git','libraries','seed','command_line','warnings','timer','status'])"
t_json "$dir/env.json" "d['status'] == 'complete' and isinstance(d['warnings'], list) and d['seed'] == 1"
t_json "$dir/env.json" "'--profile smoke' in d['command_line']"
grep -q '<topology' "$dir/topology.xml" || t_fail "topology.xml is not an hwloc export"

# results.csv: the header, and each probe measured
head -n 1 "$dir/results.csv" | grep -qx 'suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value' ||
	t_fail "results.csv header: $(head -n 1 "$dir/results.csv")"
for c in syscall minor_fault page_alloc ctx_switch signal; do
	grep -q "^kernel,$c,kernel,kernel,.*,real_time,ns/" "$dir/results.csv" || t_fail "no real_time rows for $c"
done
python3 - "$dir/results.csv" <<'PY' || t_fail "results.csv content"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows, "no rows"
orders = {r['param'] for r in rows if r['case'] == 'page_alloc' and r['metric'] == 'real_time'}
assert orders == {'0', '3', '9', '10'}, orders  # 1, 2, 4-8: full_only
assert any(r['metric'] == 'real_time_per_item' and r['unit'] == 'ns/page' for r in rows)
reps = {r['rep'] for r in rows if r['case'] == 'syscall' and r['metric'] == 'real_time' and r['threads'] == '1'}
assert reps == {'0', '1'}, reps
for r in rows:
    float(r['value'])
    assert r['cpus'], r
    if r['metric'] == 'real_time':
        assert float(r['value']) > 0, r
PY

# results.json: Google Benchmark's shape
t_json "$dir/results.json" "'context' in d and len(d['benchmarks']) > 0 and all(b['time_unit'] == 'ns' and b['run_type'] == 'iteration' for b in d['benchmarks'] if not b.get('error_occurred'))"
t_json "$dir/results.json" "any(b['name'].startswith('kernel/syscall/kernel') for b in d['benchmarks'])"

grep -q '^# hotpath results' "$dir/summary.md" || t_fail "summary.md title"
grep -q 'Complete' "$dir/summary.md" || t_fail "summary.md does not say the run is complete"
for c in syscall minor_fault page_alloc ctx_switch signal; do
	grep -q "$c" "$dir/summary.md" || t_fail "summary.md lacks $c"
done

if command -v gnuplot >/dev/null; then
	for ext in svg png pdf; do
		ls "$dir"/plots/*."$ext" >/dev/null 2>&1 || t_fail "no $ext plots"
	done
	# `hotpath plot` redraws
	rm -rf "$dir/plots"
	"$HP" plot "$dir" >/dev/null || t_fail "hotpath plot failed"
	ls "$dir"/plots/*.png >/dev/null 2>&1 || t_fail "hotpath plot drew nothing"
fi

# a second run never overwrites the first
rc=0; "$HP" run --suite kernel --filter 'syscall' --profile smoke --out "$out" --quiet --no-plots >"$T_TMP/stdout2" 2>&1 || rc=$?
dir2=$(tail -n 1 "$T_TMP/stdout2")
[ "$rc" = 0 ] && [ "$dir2" != "$dir" ] && [ -d "$dir2" ] || t_fail "second run: rc=$rc dir2=$dir2"
[ -s "$dir/results.csv" ] || t_fail "first run's results were lost"

# compare two results folders
rc=0; "$HP" compare "$dir" "$dir2" >"$T_TMP/cmp" 2>&1 || rc=$?
[ "$rc" = 0 ] || t_fail "compare exited $rc: $(cat "$T_TMP/cmp")"
grep -q "kernel/syscall/kernel" "$T_TMP/cmp" || t_fail "compare does not list syscall: $(cat "$T_TMP/cmp")"
grep -Eq "same|faster|slower" "$T_TMP/cmp" || t_fail "compare gives no verdict"
t_done
