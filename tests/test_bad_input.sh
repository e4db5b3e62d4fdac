# test_bad_input.sh — the bad-input table (issue 12): every row is a bad
# command line, a damaged results folder or a bad scenario, with the exit
# code and a fragment of the message it must give; then the faults that need
# more than one command (a full disk, stdout on /dev/full, non-UTF-8 bytes
# in JSON, Ctrl-C, a 1M-row results.csv).
. "$(dirname "$0")/t_lib.sh"
export HP_SELFTEST=1
out="$T_TMP/out"
mkdir -p "$out"
NROWS=0
row() { NROWS=$((NROWS + 1)); t_expect "$@"; }

# t_nocontrol TEXT WHAT: a message must not carry raw control bytes
t_nocontrol() {
	if LC_ALL=C grep -q '[[:cntrl:]]' <<<"$1"; then t_fail "$2: raw control byte in: $(od -c <<<"$1" | head -3)"
	else t_ok "$2: no raw control byte"; fi
}

# ---- 1. the command line ------------------------------------------------
deep=$(python3 -c "print('(' * 20000 + ')' * 20000)")
row 2 "--filter: the regular expression is 40000 characters long \(limit 256\)" -- run --suite kernel --profile smoke --filter "$deep" --out "$out"
row 2 "--filter: groups nested more than 8 deep" -- run --filter "${deep:19900:200}" --out "$out"
row 2 "--filter: groups nested more than 8 deep" -- run --filter '(((((((((a)))))))))' --out "$out"
row 2 "--filter: the regular expression is 300 characters long \(limit 256\)" -- run --filter "$(printf 'a%.0s' {1..300})" --out "$out"
row 2 "expand to more than 10000" -- run --filter '((a{1,255}){1,255}){1,255}' --out "$out"
row 2 "expand to more than 10000" -- run --filter 'a{1,20000}' --out "$out"
row 2 "matches no benchmark" -- run --filter '((((((((zzqq))))))))' --out "$out"
row 2 "matches no benchmark" -- run --filter '(Q{1,100}){1,100}' --out "$out"
row 2 "bad regular expression" -- run --filter '(' --out "$out"
row 2 "bad regular expression" -- run --filter 'a{2,1}' --out "$out"
row 2 "bad regular expression" -- run --filter '[z-a]' --out "$out"
row 2 "--suite: empty suite list" -- run --suite '' --out "$out"
row 2 "--suite: empty suite list" -- run --suite , --out "$out"
row 2 "--suite: empty suite list" -- run --suite ,,, --out "$out"
row 2 "--suite: empty suite list" -- list --suite ''
row 2 "unknown suite 'nosuch'" -- list --suite nosuch
row 2 "unknown suite ' kernel'" -- run --suite ' kernel' --out "$out"
row 2 "option '--quiet' takes no value" -- run --quiet=1
row 2 "option '--no-plots' takes no value" -- run --no-plots=yes
row 2 "option '--json' takes no value" -- env --json=1
row 2 "option '--help' takes no value" -- list --help=x
row 2 "unknown option '--\\\\x01'" -- run --$'\x01'
row 2 "unknown option '-x'" -- run -x
row 2 "unknown option '--frob'" -- run --frob
row 2 "option '--seed' needs a value" -- run --seed
row 2 "option '--filter' needs a value" -- run --filter
row 2 "option '--cpus' needs a value" -- env --cpus
row 2 "does not apply to env" -- env --suite kernel
row 2 "does not apply to list" -- list --out "$out"
row 2 "does not apply to run" -- run --json
row 2 "--seed: '-1'" -- run --seed -1 --out "$out"
row 2 "--seed: '\+1'" -- run --seed +1 --out "$out"
row 2 "--seed: ' 1'" -- run --seed ' 1' --out "$out"
row 2 "--seed: '0x'" -- run --seed 0x --out "$out"
row 2 "--seed: '0x-1'" -- run --seed 0x-1 --out "$out"
row 2 "--seed: '18446744073709551616'" -- run --seed 18446744073709551616 --out "$out"
row 2 "--seed: '1e3'" -- run --seed 1e3 --out "$out"
row 2 "--seed: ''" -- run --seed '' --out "$out"
# a leading zero is decimal, never octal: 09 parses (then the filter matches nothing)
row 2 "matches no benchmark" -- run --seed 09 --filter nomatch --out "$out"
row 2 "matches no benchmark" -- run --seed 0x1F --filter nomatch --out "$out"
row 2 "matches no benchmark" -- run --seed 18446744073709551615 --filter nomatch --out "$out"
row 2 "--reps: '0'" -- run --reps 0 --out "$out"
row 2 "--reps: '1001'" -- run --reps 1001 --out "$out"
row 2 "--reps: '-3'" -- run --reps -3 --out "$out"
row 2 "--reps: '2x'" -- run --reps 2x --out "$out"
row 2 "--reps: ''" -- run --reps '' --out "$out"
row 2 "unknown profile ''" -- run --profile '' --out "$out"
row 2 "unknown profile 'QUICK'" -- run --profile QUICK --out "$out"
row 2 "unknown metric ''" -- run --metric '' --out "$out"
row 2 "unknown metric 'Time'" -- run --metric Time --out "$out"
row 2 "--out: empty folder name" -- run --out ''
row 2 "--out: the folder name holds control character 0x0a" -- run --suite kernel --profile smoke --out "$T_TMP/a"$'\n'"b"
row 2 "--out: the folder name holds control character 0x1b" -- run --out "$T_TMP/"$'\e[31m'
row 2 "--out: the folder name holds control character 0x09" -- run --out "$T_TMP/"$'a\tb'
row 2 "--cpus: empty CPU list" -- run --cpus '' --out "$out"
row 2 "bad CPU list '-'" -- run --cpus - --out "$out"
row 2 "bad CPU list '0-'" -- run --cpus 0- --out "$out"
row 2 "bad CPU list" -- run --cpus 0,,1 --out "$out"
row 2 "CPU 99999 does not exist" -- list --cpus 99999
row 2 "bad CPU list 'x'" -- env --cpus x
row 2 "unexpected argument 'extra'" -- list extra
row 2 "unexpected argument 'x'" -- env x
row 2 "unknown command ''" -- ''
row 2 "unknown command 'RUN'" -- RUN
row 2 "expected two results folders" -- compare "$out"
row 2 "expected two results folders" -- compare a b c
row 2 "expected one results folder" -- plot a b
[ -d "$T_TMP/a"$'\n'"b" ] && t_fail "--out with a newline made a folder"
msg=$("$HP" run --$'\x01' 2>&1); t_nocontrol "$msg" "unknown option with a control byte"
msg=$("$HP" run --quiet=1 2>&1); t_nocontrol "$msg" "--quiet=1"

# --seed 010 is ten (it was octal 8)
rc=0; "$HP" run --suite selftest --filter 'env_probe/inproc' --profile smoke --seed 010 --out "$T_TMP/seed" --quiet --no-plots >"$T_TMP/so" 2>&1 || rc=$?
[ "$rc" = 0 ] || t_fail "run --seed 010 exited $rc: $(cat "$T_TMP/so")"
t_json "$(tail -n 1 "$T_TMP/so")/env.json" "d['seed'] == 10"

# ---- 2. damaged results folders: compare and plot exit 2 naming file and line
rc=0; "$HP" run --suite selftest --filter 'env_probe/inproc' --profile smoke --reps 3 --out "$T_TMP/good" --quiet --no-plots >"$T_TMP/go" 2>&1 || rc=$?
[ "$rc" = 0 ] || t_fail "reference run exited $rc: $(cat "$T_TMP/go")"
good=$(tail -n 1 "$T_TMP/go")
H=suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value
R='selftest,env_probe,inproc,impl,-,1,0,real_time,ns/op,0,5.5'
n=0
damaged() {   # damaged CODE PATTERN CSV-TEXT [ENV-TEXT]: a folder with these files
	n=$((n + 1))
	local d="$T_TMP/dmg$n"
	mkdir -p "$d"
	printf '%s' "$3" >"$d/results.csv"
	printf '%s' "${4-{\"status\":\"complete\",\"metric\":\"time\"\}}" >"$d/env.json"
	row "$1" "$2" -- compare "$good" "$d"
}
damaged 2 "results.csv:3: the last line has no terminating newline" "$H"$'\n'"$R"$'\n'"${R%5.5}4880.35" 
# the issue's case: 4880.35 cut to 4
damaged 2 "results.csv:3: the last line has no terminating newline" "$H"$'\n'"$R"$'\n'"${R%5.5}4"
damaged 2 "results.csv:2: the last line has no terminating newline" "$H"$'\n'"${R%,5.5}"
damaged 2 "results.csv:1: the last line has no terminating newline" "$H"
damaged 2 "results.csv:1: empty file" ""
damaged 2 "results.csv:2: value \"nan\" of metric real_time is not a number \(NaN\)" "$H"$'\n'"${R%5.5}nan"$'\n'
damaged 2 "results.csv:2: .*is not a number \(NaN\)" "$H"$'\n'"${R%5.5}-NaN"$'\n'
damaged 2 "results.csv:2: .*is infinite" "$H"$'\n'"${R%5.5}inf"$'\n'
damaged 2 "results.csv:2: .*is infinite" "$H"$'\n'"${R%5.5}Infinity"$'\n'
damaged 2 "results.csv:3: .*is infinite" "$H"$'\n'"$R"$'\n'"${R%5.5}-inf"$'\n'
damaged 2 "results.csv:2: value \"1e999\" is not a number" "$H"$'\n'"${R%5.5}1e999"$'\n'
damaged 2 "results.csv:2: .*is negative" "$H"$'\n'"${R%5.5}-5"$'\n'
damaged 2 "results.csv:2: .*is zero" "$H"$'\n'"${R%5.5}0"$'\n'
damaged 2 "results.csv:2: .*is zero" "$H"$'\n'"${R%5.5}-0.0"$'\n'
damaged 2 "results.csv:2: .*more than 1e15" "$H"$'\n'"${R%5.5}1e308"$'\n'
damaged 2 "results.csv:2: value \"\" is not a number" "$H"$'\n'"${R%5.5}"$'\n'
damaged 2 "results.csv:2: value \"0x\" is not a number" "$H"$'\n'"${R%5.5}0x"$'\n'
damaged 2 "results.csv:2: value \"5.5 \" is not a number" "$H"$'\n'"$R "$'\n'
damaged 2 "results.csv:2: 12 fields, expected 11" "$H"$'\n'"$R,1"$'\n'
damaged 2 "results.csv:2: 10 fields, expected 11" "$H"$'\n'"${R%,5.5}"$'\n'
damaged 2 "results.csv:2: threads \"0\"" "$H"$'\n'"${R/,1,0,/,0,0,}"$'\n'
damaged 2 "results.csv:2: rep \"-1\"" "$H"$'\n'"${R%0,5.5}-1,5.5"$'\n'
damaged 2 "results.csv:1: header is" "${H/value/val}"$'\n'"$R"$'\n'
damaged 2 "results.csv:1: header is" $'\n'"$H"$'\n'"$R"$'\n'
damaged 2 "results.csv:2: unterminated quoted field" "$H"$'\n'"selftest,\"env"$'\n'
damaged 2 "results.csv:2: a quote inside an unquoted field" "$H"$'\n'"sel\"ftest${R#selftest}"$'\n'
damaged 2 "env.json: not a JSON object" "$H"$'\n'"$R"$'\n' "[1, 2]"
damaged 2 "env.json: not a JSON object" "$H"$'\n'"$R"$'\n' "{\"status\": "
damaged 2 "env.json: not a JSON object" "$H"$'\n'"$R"$'\n' ""
mkdir -p "$T_TMP/nocsv" && cp "$good/env.json" "$T_TMP/nocsv/"
row 2 "no results.csv" -- compare "$good" "$T_TMP/nocsv"
row 2 "no results.csv" -- plot "$T_TMP/nocsv"
mkdir -p "$T_TMP/noenv" && cp "$good/results.csv" "$T_TMP/noenv/"
row 2 "no env.json" -- compare "$T_TMP/noenv" "$good"
# plot reads the same way
row 2 "results.csv:2: .*is infinite" -- plot "$T_TMP/dmg8"
row 2 "results.csv:3: the last line has no terminating newline" -- plot "$T_TMP/dmg1"
# a folder path longer than any message buffer: the reason is kept
long="$T_TMP"; for k in 1 2 3 4 5 6; do long="$long/$(printf 'd%.0s' {1..200})"; done
mkdir -p "$long" && cp "$T_TMP/dmg1/"* "$long/"
row 2 "the last line has no terminating newline" -- compare "$good" "$long"

# compare says when B did not finish or measured another metric
mkdir -p "$T_TMP/intr" && cp "$good/results.csv" "$T_TMP/intr/"
printf '{"status":"interrupted","metric":"instructions"}\n' >"$T_TMP/intr/env.json"
row 0 "note: B \(.*\) did not finish: env.json says status \"interrupted\"" -- compare "$good" "$T_TMP/intr"
row 0 "note: A was run with --metric time and B with --metric instructions" -- compare "$good" "$T_TMP/intr"
printf '{"status":"running"}\n' >"$T_TMP/intr/env.json"
row 0 "note: A \(.*\) did not finish: .*crashed" -- compare "$T_TMP/intr" "$good"

# ---- 3. scenarios (hotpath sim): bad input is exit 2 naming the field
if "$HP" sim --help >/dev/null 2>&1; then
	scn() { printf '%s' "$3" >"$T_TMP/scn.json"; row "$1" "$2" -- sim "$T_TMP/scn.json"; }
	scn 2 "priority: 30" '{"global": {"duration": 1}, "tasks": {"t1": {"priority": 30, "run": 5}}}'
	scn 2 "sleep: -2 is negative" '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5, "sleep": -2}}}'
	scn 2 "unknown key 'yield'" '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5, "yield": ""}}}'
	scn 2 "global: unknown key 'ftrace'" '{"global": {"duration": 1, "ftrace": true}, "tasks": {"t1": {"run": 5}}}'
	scn 2 "CPU 1 is not simulated" '{"global": {"duration": 1}, "tasks": {"t1": {"cpus": [1], "run": 5}}}'
	scn 2 "line 1: unexpected end of file: the scenario is empty or cut short" '{"global": {"duration": 1}, "tasks": '
	scn 2 "line 1: unexpected end of file: the scenario is empty or cut short" ''
	scn 2 "line 3: unexpected end of file: the scenario is empty or cut short" $' \n\n  '
	scn 2 "line 2: unexpected end of file: the scenario is empty or cut short" $'{"global": {"duration": 1},\n "tasks": {"t1": {"run": 5}}'
	scn 2 "the scenario is not a JSON object \(the top level is null" 'null'
	scn 2 "the scenario is not a JSON object \(the top level is null" $'null\n'
	scn 2 "the scenario is not a JSON object \(the top level is int" '5'
	scn 2 "the scenario is not a JSON object \(the top level is array" '[{"global": {"duration": 1}}]'
	scn 2 "JSON syntax error: object value separator" '{"global": {"duration": 1} "tasks": {}}'
	# json-c keeps the last of two equal keys: a duplicate is refused, naming it
	scn 2 "line 1: tasks: duplicate task name 't1'" '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5}, "t1": {"run": 7}}}'
	scn 2 "line 3: tasks: duplicate task name 'b'" $'{"global": {"duration": 1}, "tasks": {"a": {"run": 5},\n"b": {"run": 5}, "c": {"run": 5},\n"b": {"run": 5}, "a": {"run": 5}}}'
	scn 2 "tasks: duplicate task name 'a'" '{"global": {"duration": 1}, "tasks": {"a": {"run": 5}, "\u0061": {"run": 7}}}'
	scn 2 "tasks: duplicate task name 'a'" $'{"global": {"duration": 1}, "tasks": {"a": {"run": 5}, /* c */ \'a\': {"run": 7}}}'
	scn 2 "duplicate key 'global' at the top level" '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5}}, "global": {"duration": 9}}'
	scn 2 "duplicate key 'tasks' at the top level" '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5}}, "tasks": {"t2": {"run": 5}}}'
	scn 2 "tasks.t1: duplicate key 'run'" '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5, "sleep": 1, "run": 7}}}'
	scn 2 "global: duplicate key 'duration'" '{"global": {"duration": 1, "duration": 2}, "tasks": {"t1": {"run": 5}}}'
	scn 2 "tasks.t1.phases: duplicate key 'p'" '{"global": {"duration": 1}, "tasks": {"t1": {"phases": {"p": {"run": 5}, "p": {"run": 6}}}}}'
	# the same names in different objects are fine (the run succeeds)
	scn 0 "task,nice" '{"global": {"duration": 1}, "tasks": {"a": {"run": 5, "sleep": 5}, "b": {"phases": {"a": {"run": 5}, "b": {"run": 5, "sleep": 5}}}}}'
	scn 2 "text after the JSON object" '{"global": {"duration": 1}, "tasks": {"t1": {"run": 5}}} x'
	row 2 "No such file" -- sim "$T_TMP/missing.json"
	row 2 "--policy: unknown policy 'fifo'" -- sim "$T_TMP/scn.json" --policy fifo
	row 2 "--hz: 'x'" -- sim "$T_TMP/scn.json" --hz x
fi

# ---- 4. stdout that cannot be written: exit 1 naming it
if [ -w /dev/full ]; then
	for args in "list --suite kernel" "env" "env --json" "--help" "compare $good $good"; do
		NROWS=$((NROWS + 1))
		rc=0; msg=$("$HP" $args 2>&1 >/dev/full) || rc=$?
		if [ "$rc" = 1 ] && grep -q "cannot write to standard output: No space left on device" <<<"$msg"; then
			t_ok "hotpath $args > /dev/full -> 1"
		else t_fail "hotpath $args > /dev/full exited $rc: $msg"; fi
	done
	NROWS=$((NROWS + 1))
	rc=0; msg=$("$HP" run --suite selftest --filter 'env_probe/inproc' --profile smoke --out "$T_TMP/full" --quiet --no-plots 2>&1 >/dev/full) || rc=$?
	[ "$rc" = 1 ] && grep -q "cannot write to standard output" <<<"$msg" && t_ok "run --quiet > /dev/full -> 1" ||
		t_fail "run --quiet > /dev/full exited $rc: $msg"
fi

# ---- 5. every JSON hotpath writes is valid UTF-8, parsed strictly
strict_json() {
	python3 - "$@" <<'PY'
import json, sys
bad = 0
for p in sys.argv[1:]:
    try:
        json.loads(open(p, 'rb').read().decode('utf-8', errors='strict'))
    except Exception as e:
        print(f"{p}: {e}"); bad += 1
sys.exit(1 if bad else 0)
PY
}
u8out="$T_TMP/u8"$'\xff\xc0'
rc=0; "$HP" run --suite selftest --filter $'env_probe/inproc|\xe9' --profile smoke --out "$u8out" --quiet --no-plots >"$T_TMP/uo" 2>&1 || rc=$?
[ "$rc" = 0 ] || t_fail "non-UTF-8 --out run exited $rc: $(cat "$T_TMP/uo")"
for f in "$u8out"/*/env.json "$u8out"/*/results.json; do
	strict_json "$f" && t_ok "strict UTF-8 JSON: ${f##*/}" || t_fail "invalid UTF-8 or JSON in $f"
done
t_json "$(ls -d "$u8out"/*)/env.json" "'\ufffd' in d['command_line']"
"$HP" env --json >"$T_TMP/env.json" && strict_json "$T_TMP/env.json" && t_ok "env --json is strict JSON" || t_fail "env --json"
strict_json "$good/env.json" "$good/results.json" && t_ok "a plain run's JSON is strict" || t_fail "plain run JSON"

# ---- 6. Ctrl-C: summary.md does not say every benchmark ran
"$HP" run --suite selftest --filter 'spin' --profile full --reps 3 --out "$T_TMP/int" --quiet --no-plots >"$T_TMP/io" 2>&1 &
pid=$!
sleep 1.5
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 130 ] || t_fail "interrupted run exited $rc, expected 130"
idir=$(ls -d "$T_TMP/int"/*)
if grep -q "^Interrupted: " "$idir/summary.md" && ! grep -q "Every benchmark ran" "$idir/summary.md" &&
	grep -q "The run did not finish" "$idir/summary.md"; then t_ok "summary.md after Ctrl-C"
else t_fail "summary.md after Ctrl-C contradicts itself: $(cat "$idir/summary.md")"; fi

# ---- 7. compare's memory grows with the benchmarks, not the rows
python3 - "$T_TMP/big" <<'PY'
import os, sys
d = sys.argv[1]; os.makedirs(d)
with open(d + '/results.csv', 'w') as f:
    f.write("suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value\n")
    row = "s,c,v,impl,-,1,0,cpu_time,ns/op,0,12.5\n"
    f.write(row * 1000000)
    for r in range(3):
        f.write(f"s,c,v,impl,-,1,0,real_time,ns/op,{r},{10 + r}\n")
open(d + '/env.json', 'w').write('{"status":"complete","metric":"time"}\n')
PY
# max RSS of `hotpath compare DIR DIR`, in KB (a sanitizer's own memory is
# the same for both sizes, so the difference is what the rows cost)
compare_rss() {
	python3 - "$HP" "$1" <<'PY'
import resource, subprocess, sys
r = subprocess.run([sys.argv[1], 'compare', sys.argv[2], sys.argv[2]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
ok = r.returncode == 0 and b's/c/v/threads:1:real_time' in r.stdout
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if ok else -1)
PY
}
mkdir -p "$T_TMP/small"
head -n 1 "$T_TMP/big/results.csv" >"$T_TMP/small/results.csv"
tail -n 3 "$T_TMP/big/results.csv" >>"$T_TMP/small/results.csv"
cp "$T_TMP/big/env.json" "$T_TMP/small/"
size_kb=$(( $(stat -c %s "$T_TMP/big/results.csv") / 1024 ))
rss_small=$(compare_rss "$T_TMP/small"); rss_big=$(compare_rss "$T_TMP/big")
echo "compare max RSS: ${rss_small} KB for 3 rows, ${rss_big} KB for 1M rows (${size_kb} KB)"
# the old reader held every row as a 500-byte record: 20 times the file;
# a sanitizer's allocator keeps more of what is freed, so it gets twice the room
limit_kb=$((size_kb / 2))
case "${HP_SANITIZE:-none}" in none | '') ;; *) limit_kb=$((size_kb * 2)) ;; esac
if [ "$rss_small" -gt 0 ] && [ "$rss_big" -gt 0 ] && [ $((rss_big - rss_small)) -lt "$limit_kb" ]; then
	t_ok "compare of a 1M-row results.csv grows by ${limit_kb} KB at most"
else t_fail "compare of a 1M-row results.csv: ${rss_small} KB -> ${rss_big} KB for a ${size_kb} KB file"; fi

# ---- 8. a full disk (a 64 KiB tmpfs; root only): the run stops, says so, exit 1
if [ "$(id -u)" = 0 ] && mkdir -p "$T_TMP/fs" && mount -t tmpfs -o size=64k tmpfs "$T_TMP/fs" 2>/dev/null; then
	trap 'umount "$T_TMP/fs" 2>/dev/null; rm -rf "$T_TMP"' EXIT
	NROWS=$((NROWS + 1))
	rc=0; "$HP" run --suite kernel --profile smoke --out "$T_TMP/fs" >"$T_TMP/fo" 2>"$T_TMP/fe" || rc=$?
	fdir=$(ls -d "$T_TMP/fs"/*/ | head -n 1)
	[ "$rc" = 1 ] || t_fail "full disk: run exited $rc, expected 1"
	grep -q "No space left on device" "$T_TMP/fe" || t_fail "full disk: no reason given: $(cat "$T_TMP/fe")"
	grep -q "Complete" "$T_TMP/fo" && t_fail "full disk: 'Complete' printed: $(head -n 1 "$T_TMP/fo")"
	grep -q "^hotpath: Stopped: [0-9]* of [0-9]* benchmarks ran" "$T_TMP/fo" || t_fail "full disk: no 'Stopped' line: $(head -n 1 "$T_TMP/fo")"
	[ -e "$fdir/plots" ] && t_fail "full disk: plots drawn after a failed write"
	ls "$fdir" | grep -q '\.tmp' && t_fail "full disk: temporary files left"
	t_json "$fdir/env.json" "d['status'] == 'failed'"
	# plot on a nearly full disk: no image is left cut short
	NROWS=$((NROWS + 1))
	rm -rf "${T_TMP:?}/fs/"*
	rc=0; "$HP" run --suite kernel --profile smoke --filter '^kernel/page_alloc' --out "$T_TMP/kres" --quiet --no-plots >"$T_TMP/ko" 2>&1 || rc=$?
	[ "$rc" = 0 ] || t_fail "kernel page_alloc run exited $rc: $(cat "$T_TMP/ko")"
	mkdir -p "$T_TMP/fs/p/plots"
	cp "$(tail -n 1 "$T_TMP/ko")/results.csv" "$(tail -n 1 "$T_TMP/ko")/env.json" "$T_TMP/fs/p/"
	avail=$(df -k --output=avail "$T_TMP/fs" | tail -n 1)
	head -c $(( (avail - 12) * 1024 )) /dev/zero >"$T_TMP/fs/filler" 2>/dev/null
	rc=0; "$HP" plot "$T_TMP/fs/p" >"$T_TMP/po" 2>&1 || rc=$?
	[ "$rc" = 1 ] || t_fail "plot on a full disk exited $rc: $(cat "$T_TMP/po")"
	for f in "$T_TMP/fs/p/plots/"*.svg; do
		[ -e "$f" ] || continue
		tail -c 20 "$f" | grep -q '</svg>' || t_fail "plot left a cut SVG: $f"
	done
	ls "$T_TMP/fs/p/plots" | grep -q '\.tmp' && t_fail "plot left temporary files"
	t_ok "full disk checks done"
	umount "$T_TMP/fs"
else
	echo "full-disk checks skipped: needs root and a tmpfs mount"
fi

echo "bad-input table: $NROWS rows"
[ "$NROWS" -ge 100 ] || t_fail "the table has $NROWS rows, fewer than 100"
t_done
