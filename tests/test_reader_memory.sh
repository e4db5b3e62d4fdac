#!/usr/bin/env bash
# issue 12: the readers of a results folder keep each benchmark's values,
# never its rows. `hotpath plot`, `export --latex` and `report` of a
# 1M-row results.csv (4 benchmarks, 1000 repetitions of 250 metrics each)
# must peak within half the file's size of what they use on the same
# folder with 3 repetitions. Loading the rows (an hp_record_t is about
# 1.3 KiB) would take some 1.3 GB, thirty times the file.
# (compare has the same check in test_bad_input.sh.)
. "$(dirname "$0")/t_lib.sh"

python3 - "$T_TMP/big" "$T_TMP/small" <<'PY'
import os, sys
metrics = [("real_time", "ns/op"), ("cpu_time", "ns/op")] + [(f"c{k:03d}", "count") for k in range(248)]
for d, reps in ((sys.argv[1], 1000), (sys.argv[2], 3)):
    os.makedirs(d)
    with open(d + "/results.csv", "w") as f:
        f.write("suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value\n")
        for b in range(4):
            kind = "impl" if b == 0 else "baseline"
            for r in range(reps):
                f.writelines(f"mem,alloc,v{b},{kind},-,1,0,{m},{u},{r},{10 * (b + 1) + (r % 7) * 0.25 + i}\n"
                             for i, (m, u) in enumerate(metrics))
    with open(d + "/env.json", "w") as f:
        f.write('{"status":"complete","metric":"time","host":"test","date":"2026-12-05"}\n')
PY
rows=$(($(wc -l <"$T_TMP/big/results.csv") - 1))
[ "$rows" = 1000000 ] || t_fail "the generated results.csv has $rows rows, not 1000000"
size_kb=$(($(stat -c %s "$T_TMP/big/results.csv") / 1024))

# peak RSS in KB of hotpath itself running ARGS, with DIR in ARGS replaced
# by folder $1: its VmHWM, sampled until it exits (gnuplot, its child, is
# not counted: it draws the same either way), or when it was too quick to
# be sampled, the peak of it and its children; -1 when it failed
peak_rss() {
	python3 - "$HP" "$@" <<'PY'
import resource, subprocess, sys, tempfile, time
d = sys.argv[2]
log = tempfile.TemporaryFile()
p = subprocess.Popen([sys.argv[1]] + [d if a == "DIR" else a for a in sys.argv[3:]],
                     stdout=log, stderr=subprocess.STDOUT)
hwm = 0
while p.poll() is None:
    try:
        for line in open(f"/proc/{p.pid}/status"):
            if line.startswith("VmHWM:"):
                hwm = max(hwm, int(line.split()[1]))
    except (OSError, ValueError):
        pass
    time.sleep(0.002)
log.seek(0)
out = log.read()
if p.returncode != 0:
    sys.stderr.write(out.decode(errors="replace")[-2000:])
    print(-1)
else:
    print(hwm or resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# the old readers held every row: thirty times the file. Under ASan, what
# is freed waits in a quarantine of 256 MB by default (export's bootstrap
# alone frees 130 MB of qsort buffers): 8 MB of it here, where the memory
# kept is what is measured, and the build gets four times the room for its
# redzones and the rest.
limit_kb=$((size_kb / 2))
case "${HP_SANITIZE:-none}" in
none | '') ;;
*)
	limit_kb=$((size_kb * 2))
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
	;;
esac

check() {
	local what=$1 small big
	shift
	small=$(peak_rss "$T_TMP/small" "$@"); big=$(peak_rss "$T_TMP/big" "$@")
	echo "$what: peak RSS ${small} KB for 3 repetitions, ${big} KB for 1M rows (${size_kb} KB file)"
	if [ "$small" -gt 0 ] && [ "$big" -gt 0 ] && [ $((big - small)) -lt "$limit_kb" ]; then
		t_ok "$what of a 1M-row results.csv grows by less than ${limit_kb} KB"
	else
		t_fail "$what of a 1M-row results.csv: ${small} KB -> ${big} KB (limit +${limit_kb} KB)"
	fi
}

if command -v "${HP_GNUPLOT:-gnuplot}" >/dev/null; then
	check plot plot DIR
	# what it drew is every repetition of the 4 benchmarks
	dat="$T_TMP/big/plots/mem-bars.dat"
	if [ -f "$dat" ] && [ "$(grep -c ' 1000 "alloc"$' "$dat")" = 4 ]; then t_ok "mem-bars.dat: 4 bars of 1000 reps"
	else t_fail "mem-bars.dat: $(cat "$dat" 2>&1)"; fi
else
	echo "gnuplot not found: plot's memory is not checked here"
fi
check "export --latex" export DIR --latex
grep -q 'v3' "$T_TMP/big/tables/mem.tex" && t_ok "tables/mem.tex lists the variants" ||
	t_fail "tables/mem.tex: $(cat "$T_TMP/big/tables/mem.tex" 2>&1 | head -n 30)"
check report report DIR
grep -q '1000' "$T_TMP/big/report.html" && t_ok "report.html counts 1000 repetitions" ||
	t_fail "report.html has no 1000-repetition row"
t_done
