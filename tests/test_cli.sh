# test_cli.sh — every CLI error path exits 2 with a message naming the bad value, and leaves nothing behind.
. "$(dirname "$0")/t_lib.sh"
out="$T_TMP/out"
mkdir -p "$out"

t_expect 2 "no command" -- 
t_expect 2 "unknown command 'frob'" -- frob
t_expect 0 "usage: hotpath" -- --help
t_expect 2 "unknown suite 'nosuch' \(valid: kernel" -- run --suite nosuch --out "$out"
t_expect 2 "unknown suite 'nosuch'" -- run --suite kernel,nosuch --out "$out"
t_expect 2 "CPU 9999 does not exist" -- run --cpus 9999 --out "$out"
t_expect 2 "bad CPU list 'abc'" -- run --cpus abc --out "$out"
t_expect 2 "bad CPU list '3-1'|3-1" -- run --cpus 3-1 --out "$out"
t_expect 2 "listed twice" -- run --cpus 0,0 --out "$out"
if [ "$(nproc --all)" -ge 2 ] && command -v taskset >/dev/null; then
	rc=0; msg=$(taskset -c 0 "$HP" run --cpus 1 --out "$out" 2>&1) || rc=$?
	if [ "$rc" = 2 ] && grep -q "CPU 1 is not in this process's allowed set" <<<"$msg"; then
		t_ok "CPU outside the allowed set rejected"
	else
		t_fail "taskset -c 0 hotpath run --cpus 1: rc=$rc: $msg"
	fi
fi
t_expect 2 "unknown profile 'bogus' \(valid: smoke, quick, full\)" -- run --profile bogus --out "$out"
t_expect 2 "--reps: '0'" -- run --reps 0 --out "$out"
t_expect 2 "--reps: 'x'" -- run --reps x --out "$out"
t_expect 2 "unknown metric 'cycles' \(valid: time, instructions, perf, cache\)" -- run --metric cycles --out "$out"
t_expect 2 "--seed: '-1'" -- run --seed -1 --out "$out"
t_expect 2 "option '--suite' needs a value" -- run --suite
t_expect 2 "option '--out' needs a value" -- run --out
t_expect 2 "unknown option '--frob'" -- run --frob
t_expect 2 "does not apply to list" -- list --metric time
t_expect 2 "bad regular expression" -- run --filter '(' --out "$out"
t_expect 2 "matches no benchmark" -- run --filter 'no-such-thing' --out "$out"
t_expect 2 "unexpected argument 'extra'" -- run extra --out "$out"
touch "$T_TMP/afile"
t_expect 2 "--out: cannot create '$T_TMP/afile/x'" -- run --out "$T_TMP/afile/x" --suite kernel --profile smoke
t_expect 2 "not a results folder" -- plot "$T_TMP/nope"
t_expect 2 "not a results folder" -- plot "$T_TMP"
t_expect 2 "expected one results folder" -- plot
t_expect 2 "not a results folder" -- compare "$T_TMP" "$T_TMP"
t_expect 2 "expected two results folders" -- compare "$T_TMP"
t_expect 2 "unknown suite 'nosuch'" -- list --suite nosuch
t_expect 0 "syscall" -- list
t_expect 0 "page_alloc" -- list --suite kernel
t_expect 0 "" -- env
t_expect 0 '"warnings"' -- env --json

# bad input never leaves a run folder behind
if [ -n "$(ls -A "$out")" ]; then
	t_fail "bad input left files in --out: $(ls -A "$out")"
else
	t_ok "no run folder created by bad input"
fi
t_done
