#!/bin/bash
# test_merge.sh — `hotpath merge` (issue 15, section 1): two real smoke runs
# of the kernel suite merged; rows, run names, env.json copies, order
# independence (byte-equal folders for both orders), the refusals (exit 2
# and the reason, nothing left behind), and plot / compare on the merged
# folder. Usage: test_merge.sh path/to/hotpath
. "$(dirname "$0")/t_lib.sh"
T=$T_TMP

# two real runs (about a second each); --quiet prints only the run folder
A=$("$HP" run --suite kernel --profile smoke --out "$T/ra" --quiet --no-plots) || { echo "run A failed"; exit 1; }
B=$("$HP" run --suite kernel --profile smoke --out "$T/rb" --quiet --no-plots) || { echo "run B failed"; exit 1; }
# two runs started in the same second get the same folder name (in other
# parents); a same-host merge tells them apart by folder name, so give B its own
if [ "$(basename "$A")" = "$(basename "$B")" ]; then mv "$B" "$B-b"; B="$B-b"; fi
[ -f "$A/results.csv" ] && [ -f "$B/results.csv" ] || { echo "runs wrote no results.csv"; exit 1; }

# C: B as if measured on another host (only env.json's host differs)
cp -r "$B" "$T/c"; C=$T/c
python3 - "$C/env.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["host"] = "otherhost"
open(sys.argv[1], "w").write(json.dumps(d, indent=2) + "\n")
PY

rows() { tail -n +2 "$1" | wc -l; }

# ---- merge with labels ---------------------------------------------------
t_expect 0 'hotpath merge: 2 runs into .*: x y' -- merge --out "$T/m1" --label x --label y "$A" "$B"
M=$T/m1
head -1 "$M/results.csv" | grep -qx 'suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value,run' \
	&& t_ok "merged header: the run column last" || t_fail "merged header: $(head -1 "$M/results.csv")"
[ "$(rows "$M/results.csv")" = $(( $(rows "$A/results.csv") + $(rows "$B/results.csv") )) ] \
	&& t_ok "merged rows = rows of A + rows of B" || t_fail "merged rows $(rows "$M/results.csv")"
# each run's rows, run column cut off, are its source's rows in order, byte for byte
for p in "x:$A" "y:$B"; do
	r=${p%%:*} d=${p#*:}
	if python3 - "$M/results.csv" "$d/results.csv" "$r" <<'PY'
import csv, sys
m = [row for row in csv.reader(open(sys.argv[1], newline=''))][1:]
s = [row for row in csv.reader(open(sys.argv[2], newline=''))][1:]
mine = [row[:-1] for row in m if row[-1] == sys.argv[3]]
sys.exit(0 if mine == s and len(s) > 0 else 1)
PY
	then t_ok "run $r's rows are its folder's rows"; else t_fail "run $r's rows differ from $d/results.csv"; fi
done
cmp -s "$M/runs/x/env.json" "$A/env.json" && cmp -s "$M/runs/y/env.json" "$B/env.json" \
	&& t_ok "runs/<run>/env.json are the sources' env.json, byte for byte" || t_fail "env.json copies differ"
t_json "$M/merged.json" 'd["results_format"] == 2 and [r["run"] for r in d["runs"]] == ["x", "y"]'
nb=$(python3 -c 'import json,sys; print(sum(len(json.load(open(f))["benchmarks"]) for f in sys.argv[1:]))' "$A/results.json" "$B/results.json")
t_json "$M/results.json" "len(d['benchmarks']) == $nb and all(b['name'].startswith(b['run'] + '/') for b in d['benchmarks']) and [r['run'] for r in d['context']['runs']] == ['x', 'y']"
grep -q '| benchmark:metric | unit | x | y |' "$M/summary.md" && grep -q '^| kernel/syscall/kernel/threads:1:real_time | ns/call |' "$M/summary.md" \
	&& t_ok "summary.md: a column per run" || t_fail "summary.md: $(head -20 "$M/summary.md")"
ls -a "$T" | grep -q '\.merge-' && t_fail "a temporary folder was left: $(ls -a "$T")" || t_ok "no temporary folder left"

# ---- order independence: the same bytes for both orders ---------------------
t_expect 0 '' -- merge --label y --label x --out "$T/m2" "$B" "$A"
diff -r "$T/m1" "$T/m2" >/dev/null && t_ok "labelled merge: same bytes for both orders" \
	|| t_fail "labelled merge differs by order: $(diff -r "$T/m1" "$T/m2" | head -5)"
# names from env.json: <host>_<kernel release>_<commit>
t_expect 0 '' -- merge --out "$T/m3" "$A" "$C"
t_expect 0 '' -- merge "$C" "$A" --out "$T/m4"
diff -r "$T/m3" "$T/m4" >/dev/null && t_ok "named merge: same bytes for both orders" \
	|| t_fail "named merge differs by order: $(diff -r "$T/m3" "$T/m4" | head -5)"
want=$(python3 - "$A/env.json" "$C/env.json" <<'PY'
import json, re, sys
n = []
for f in sys.argv[1:]:
    d = json.load(open(f))
    n.append(re.sub(r'[^A-Za-z0-9._+-]', '_', "%s_%s_%s" % (d["host"], d["kernel_release"], d["git"]["revision"][:12]))[:64])
print(" ".join(sorted(n)))
PY
)
got=$(python3 -c 'import json,sys; print(" ".join(r["run"] for r in json.load(open(sys.argv[1]))["runs"]))' "$T/m3/merged.json")
[ "$got" = "$want" ] && t_ok "runs named from host, kernel, commit: $got" || t_fail "run names '$got', expected '$want'"
[ -f "$T/m3/runs/${want%% *}/env.json" ] && [ -f "$T/m3/runs/${want##* }/env.json" ] \
	&& t_ok "runs/<name>/env.json for named runs" || t_fail "no runs/<name>/env.json: $(ls "$T/m3/runs")"

# ---- refusals: exit 2 with the reason, nothing written ------------------------
# two runs of one machine, kernel and commit (a job array on one node): the
# names from env.json get the folder's name as a suffix, in any order
t_expect 0 '' -- merge --out "$T/s1" "$A" "$B"
t_expect 0 '' -- merge --out "$T/s2" "$B" "$A"
diff -r "$T/s1" "$T/s2" >/dev/null && t_ok "same-host merge: same bytes for both orders" || t_fail "same-host merge differs by order"
got=$(python3 -c 'import json,sys; print(" ".join(r["run"] for r in json.load(open(sys.argv[1]))["runs"]))' "$T/s1/merged.json")
base=$(python3 - "$A/env.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
print(re.sub(r'[^A-Za-z0-9._+-]', '_', "%s_%s_%s" % (d["host"], d["kernel_release"], d["git"]["revision"][:12])))
PY
)
want2=$(printf '%s\n' "${base}_$(basename "$A")" "${base}_$(basename "$B")" | sort | tr '\n' ' ')
[ "$got " = "$want2" ] && t_ok "shared names take the folder's name: $got" || t_fail "run names '$got', expected '$want2'"
# ... and when even that is shared, merge refuses
mkdir -p "$T/p1" "$T/p2"; cp -r "$A" "$T/p1/r"; cp -r "$A" "$T/p2/r"
t_expect 2 "duplicate run name '.*_r' .*share host, kernel, commit and folder name; name them with one --label" -- merge --out "$T/no1" "$T/p1/r" "$T/p2/r"
t_expect 2 "duplicate run name 'x'" -- merge --out "$T/no2" --label x --label x "$A" "$B"
t_expect 2 '1 --label for 2 folders' -- merge --out "$T/no3" --label x "$A" "$B"
t_expect 2 "--label 'a/b' is not a run name" -- merge --out "$T/no4" --label a/b --label y "$A" "$B"
t_expect 2 'are the same folder' -- merge --out "$T/no5" --label x --label y "$A" "$A/"
t_expect 2 '--out M is required' -- merge "$A" "$B"
t_expect 2 'no results folder given' -- merge --out "$T/no6"
t_expect 2 'is not a results folder' -- merge --out "$T/no7" --label x --label y "$A" "$T"
t_expect 2 'is itself a merged folder' -- merge --out "$T/no8" --label x --label y "$A" "$M"
# a non-empty --out is never touched
mkdir "$T/full"; echo keep > "$T/full/f"
t_expect 2 'exists and is not empty' -- merge --out "$T/full" --label x --label y "$A" "$B"
[ "$(ls "$T/full")" = f ] && [ "$(cat "$T/full/f")" = keep ] && t_ok "non-empty --out untouched" || t_fail "--out folder changed"
# an empty --out is filled
mkdir "$T/empty"
t_expect 0 '' -- merge --out "$T/empty" --label x --label y "$A" "$B"
diff -r "$T/empty" "$M" >/dev/null && t_ok "empty --out: the merged folder" || t_fail "empty --out differs from m1"
# results-format versions
cp -r "$B" "$T/v3"
python3 - "$T/v3/env.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["results_format"] = 3
open(sys.argv[1], "w").write(json.dumps(d) + "\n")
PY
t_expect 2 'different results-format versions: .* is version 1, .* is version 3' -- merge --out "$T/no9" --label x --label y "$A" "$T/v3"
t_expect 2 'results-format version 3: this hotpath merges version 1 only' -- merge --out "$T/no9" "$T/v3"
# a damaged folder: results.csv cut short (no final newline), env.json not JSON
cp -r "$B" "$T/cut"; head -c -1 "$B/results.csv" > "$T/cut/results.csv"
t_expect 2 'cut/results.csv:[0-9]+: the last line has no terminating newline' -- merge --out "$T/no10" --label x --label y "$A" "$T/cut"
cp -r "$B" "$T/badenv"; echo '{"host": ' > "$T/badenv/env.json"
t_expect 2 'badenv/env.json: damaged' -- merge --out "$T/no11" --label x --label y "$A" "$T/badenv"
cp -r "$B" "$T/nan"; sed -i '2s/,[^,]*$/,nan/' "$T/nan/results.csv"
t_expect 2 'nan/results.csv:2: value "nan"' -- merge --out "$T/no12" --label x --label y "$A" "$T/nan"
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
	[ -e "$T/no$n" ] && t_fail "refused merge no$n left $T/no$n"
done
ls -a "$T" | grep -q '\.merge-' && t_fail "a refused merge left a temporary folder: $(ls -a "$T")" || t_ok "refusals leave nothing behind"

# ---- readers: compare and plot on the merged folder ---------------------------
out=$("$HP" compare "$M" --runs x,y 2>&1) && rc=0 || rc=$?
[ "$rc" = 0 ] && grep -q "^A: $M run x" <<<"$out" && grep -q "^B: $M run y" <<<"$out" \
	&& t_ok "compare M --runs x,y" || t_fail "compare M --runs x,y: rc $rc: $out"
# the same table as comparing the two folders themselves
ref=$("$HP" compare "$A" "$B" 2>&1 | tail -n +3)
[ "$(tail -n +3 <<<"$out")" = "$ref" ] && t_ok "compare M --runs x,y = compare A B" \
	|| t_fail "compare M --runs x,y differs from compare A B: $(diff <(tail -n +3 <<<"$out") <(echo "$ref") | head -5)"
t_expect 2 "has no run 'nope' \(its runs: x, y\)" -- compare "$M" --runs x,nope
t_expect 2 'expected two run names X,Y' -- compare "$M" --runs x
t_expect 2 'the same run twice' -- compare "$M" --runs x,x
t_expect 2 'is a merged folder .*--runs X,Y' -- compare "$M" "$A"
t_expect 2 'is a merged folder .*--runs X,Y' -- compare "$A" "$M"
t_expect 2 'is not a merged folder' -- compare "$A" --runs x,y
# a merged results.csv in a folder without merged.json is refused, not misread
mkdir "$T/fake"; cp "$M/results.csv" "$T/fake/"; cp "$A/env.json" "$T/fake/"
t_expect 2 'fake/results.csv:1: this is a merged results.csv' -- compare "$T/fake" "$A"
t_expect 2 'fake/results.csv:1: this is a merged results.csv' -- plot "$T/fake"
# and a single run's results.csv in a folder that claims to be merged
mkdir "$T/fake2"; cp "$A/results.csv" "$T/fake2/"; cp "$M/merged.json" "$T/fake2/"; cp -r "$M/runs" "$T/fake2/"
t_expect 2 "fake2/results.csv:1: this is a single run's results.csv" -- compare "$T/fake2" --runs x,y
t_expect 2 "fake2/results.csv:1: this is a single run's results.csv" -- plot "$T/fake2"

# plot: two variants per case (A and B with each kernel row repeated as
# variant "other") so the order of the bars shows the runs side by side
for p in "ax:$A" "by:$B"; do
	cp -r "${p#*:}" "$T/${p%%:*}"
	python3 - "$T/${p%%:*}/results.csv" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
extra = [l.replace(",kernel,kernel,", ",other,kernel,", 1) for l in lines[1:] if ",kernel,kernel," in l]
open(sys.argv[1], "w").write("".join(lines + extra))
PY
done
t_expect 0 '' -- merge --out "$T/mp" --label x --label y "$T/ax" "$T/by"
out=$("$HP" plot "$T/mp" 2>&1) && rc=0 || rc=$?
if [ "$rc" = 1 ] && grep -q 'cannot draw plots' <<<"$out"; then
	echo "plot: gnuplot unavailable here, plot checks skipped: $out"
elif [ "$rc" = 0 ]; then
	# each variant's bars: run x then run y, side by side
	lab=$(grep -o '"[a-z]*@[xy]"' "$T/mp/plots/kernel-bars.dat" | tr -d '"' | tr '\n' ' ')
	[ "$lab" = "kernel@x kernel@y other@x other@y " ] && t_ok "plot M: a bar per variant and run, runs side by side ($lab)" \
		|| t_fail "plot M: bars '$lab', expected kernel@x kernel@y other@x other@y"
	[ -s "$T/mp/plots/kernel-bars.svg" ] && t_ok "plot M: kernel-bars.svg" || t_fail "plot M drew no kernel-bars.svg"
	ls "$T/mp/plots/"*-threads.dat >/dev/null 2>&1 && grep -q '"kernel@y"' "$T"/mp/plots/*-threads.dat \
		&& t_ok "plot M: thread sweeps with a line per run" || t_fail "plot M: no thread sweep line per run"
else
	t_fail "plot M: rc $rc: $out"
fi
t_done
