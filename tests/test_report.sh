#!/bin/bash
# test_report.sh HOTPATH — `hotpath report`, `run --report`, `compare --report`.
# 1. Numbers: a fixture with known values (t_report_fixture.py): each row's
#    median, min, max, CV and equal-work ratio are the ones computed here from
#    results.csv, the variant of another work class gets no ratio, and the
#    95% interval is the one `hotpath compare` prints for the same values
#    against a folder of ones (the same seeded bootstrap).
# 2. In a browser: headless Chromium loads the report of a real smoke run and
#    of the hostile fixture from disk; the DOM holds every suite, plot and
#    benchmark row (t_report_check.py dom), no script error is logged, and a
#    screenshot is not blank. Skipped (77) without chromium, after 1 and 3.
# 3. Bad input exits 2, an unwritable report.html 1.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/t_lib.sh"

F=$T_TMP/fx
python3 "$HERE/t_report_fixture.py" "$F" --hostile || { echo "FAIL: fixture"; exit 1; }
t_expect 0 "report.html" -- report "$F"

# ---- 1. the numbers ----
python3 - "$F" <<'PY'
import os, sys
d = sys.argv[1]
# a folder with the same benchmarks, every value 1: compare ONES F gives
# median(F)/1 with the bootstrap interval of F's median
os.makedirs(d + "-ones", exist_ok=True)
for n in ("env.json", "results.json"):
    open(d + "-ones/" + n, "w").write(open(d + "/" + n).read())
import csv
with open(d + "/results.csv", newline="") as f, open(d + "-ones/results.csv", "w", newline="") as g:
    w = csv.writer(g, lineterminator="\n")
    for i, r in enumerate(csv.reader(f)):
        w.writerow(r if i == 0 else r[:-1] + ["1"])
PY
"$HP" compare "$F-ones" "$F" >"$T_TMP/cmp.txt" 2>&1 || t_fail "compare ones fixture: $(cat "$T_TMP/cmp.txt")"
python3 - "$F" "$T_TMP/cmp.txt" <<'PY' || t_fail "report numbers differ from results.csv / hotpath compare"
import csv, re, statistics, sys
from html.parser import HTMLParser
d, cmp = sys.argv[1], sys.argv[2]
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.rows = []; s.cell = None; s.tbl = None
    def handle_starttag(s, t, a):
        a = dict(a)
        if t == "table" and "bench" in (a.get("class") or ""):
            s.tbl = (a["data-case"], a["data-param"], a["data-threads"])
        if t == "tr" and s.tbl and "data-variant" in a:
            s.rows.append({"key": s.tbl + (a["data-variant"],), "cells": []})
        if t == "td" and s.tbl and s.rows:
            s.cell = {"v": a.get("data-v"), "text": ""}
            s.rows[-1]["cells"].append(s.cell)
    def handle_data(s, data):
        if s.cell is not None:
            s.cell["text"] += data
    def handle_endtag(s, t):
        if t == "td": s.cell = None
        if t == "table": s.tbl = None
p = P(); p.feed(open(d + "/report.html", encoding="utf-8").read())
vals = {}
for r in csv.DictReader(open(d + "/results.csv", newline="")):
    if r["metric"] == "real_time":
        vals.setdefault((r["case"], r["param"], r["threads"], r["variant"]), []).append(float(r["value"]))
ci = {}
for line in open(cmp):
    m = re.match(r"(\S+)/threads:(\d+):real_time\s.*\[([\d.]+), ([\d.]+)\]", line)
    if m:
        parts = m.group(1).split("/")
        ci[m.group(1), m.group(2)] = (float(m.group(3)), float(m.group(4)))
assert len(p.rows) == len(vals) == 8, (len(p.rows), len(vals))
bad = []
for row in p.rows:
    case, param, thr, var = row["key"]
    v = vals[row["key"]]
    c = row["cells"]
    # variant kind n median min max cv interval ratio
    med, lo, hi = statistics.median(v), min(v), max(v)
    cv = statistics.stdev(v) / statistics.mean(v) * 100
    got = [float(c[i]["v"]) for i in (2, 3, 4, 5, 6)]
    if got != [len(v), med, lo, hi] + [got[4]] or abs(got[4] - cv) > 1e-9 * cv:
        bad.append(("figures", row["key"], got, [len(v), med, lo, hi, cv]))
    # the interval: what compare prints for the same values
    name = "fx/%s/%s%s" % (case, var, "" if param == "-" else "/" + param)
    if len(v) >= 3:
        want = ci.get((name, thr))
        txt = c[7]["text"]
        m = re.match(r"\[([\d.e+-]+), ([\d.e+-]+)\]", txt)
        if not want or not m or abs(float(m.group(1)) - want[0]) > 5e-4 or abs(float(m.group(2)) - want[1]) > 5e-4:
            bad.append(("interval", row["key"], txt, want))
        if not (lo <= float(m.group(1)) <= med <= float(m.group(2)) <= hi):
            bad.append(("interval bounds", row["key"], txt))
    elif "too few" not in c[7]["text"] and "needed" not in c[7]["text"]:
        bad.append(("interval with 2 reps", row["key"], c[7]["text"]))
    # the ratio to the impl variant of the table, only for equal work
    ref = statistics.median(vals[(case, param, thr, "impl")])
    if var.startswith("<script>"):
        if c[8]["v"] is not None or "not equal work" not in c[8]["text"]:
            bad.append(("ratio across work classes", row["key"], c[8]))
    elif c[8]["v"] is None or abs(float(c[8]["v"]) - med / ref) > 1e-12:
        bad.append(("ratio", row["key"], c[8], med / ref))
assert not bad, bad
print("numbers ok: %d rows" % len(p.rows))
PY

# ---- 3. bad input and write errors ----
t_expect 2 "expected one results folder" -- report
t_expect 2 "not a results folder" -- report "$T_TMP/nope"
mkdir -p "$T_TMP/empty"
t_expect 2 "no results.csv" -- report "$T_TMP/empty"
cp -r "$F" "$T_TMP/bad"
echo 'fx,c,impl,impl,-,1,0,real_time,ns/call,9,inf' >>"$T_TMP/bad/results.csv"
t_expect 2 "results.csv:[0-9]+: value" -- report "$T_TMP/bad"
cp -r "$F" "$T_TMP/badjson"
echo '[1]' >"$T_TMP/badjson/env.json"
t_expect 2 "env.json: not a JSON object" -- report "$T_TMP/badjson"
cp -r "$F" "$T_TMP/ro"
rm -f "$T_TMP/ro/report.html" && mkdir "$T_TMP/ro/report.html"
t_expect 1 "cannot write .*report.html" -- report "$T_TMP/ro"

# a real run: run --report, and compare --report of it with itself
RUNS=$T_TMP/runs
mkdir -p "$RUNS"
R=$("$HP" run --suite kernel --profile smoke --reps 3 --out "$RUNS" --quiet --report 2>"$T_TMP/run.err" | tail -1)
if [ ! -s "$R/report.html" ]; then
	t_fail "run --report wrote no report.html in '$R': $(tail -5 "$T_TMP/run.err")"
	t_done
fi
t_ok "run --report wrote $R/report.html"
t_expect 0 "" -- compare "$R" "$R" --report
n_cmp=$(grep -c '<svg class="dist"' "$R/compare.html")
n_bench=$(tail -n +2 "$R/results.csv" | cut -d, -f1-6 | sort -u | wc -l)
[ "$n_cmp" = "$n_bench" ] && t_ok "compare.html: $n_cmp distributions" ||
	t_fail "compare.html draws $n_cmp distributions for $n_bench benchmarks"
grep -q '<td class="same">same</td>' "$R/compare.html" || t_fail "compare.html: a folder against itself is not 'same'"
t_expect 2 "expected two results folders" -- compare "$R" "$R" --html

# ---- 2. in a browser ----
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	echo "chromium not found (apt-get install chromium): browser checks skipped"
	[ "$T_FAIL" -gt 0 ] && t_done
	exit 77
fi
B=$T_TMP/browser
mkdir -p "$B"
chrome() {  # chrome OUTFLAG PAGE STDOUT
	HOME=$B timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-dev-shm-usage \
		--enable-logging=stderr --v=0 --user-data-dir="$B/profile" --virtual-time-budget=2000 \
		--window-size=1280,900 "$1" "file://$2" >"$3" 2>>"$B/stderr.txt"
}
for page in "$R" "$F"; do
	: >"$B/stderr.txt"
	chrome --dump-dom "$page/report.html" "$B/dom.html"
	[ -s "$B/dom.html" ] || t_fail "chromium dumped no DOM for $page/report.html"
	python3 "$HERE/t_report_check.py" dom "$B/dom.html" "$page" || t_fail "DOM of $page/report.html"
	if grep -E "Uncaught|Page load failed|CONSOLE\(.*(rror|ERROR)" "$B/stderr.txt"; then
		t_fail "console errors loading $page/report.html"
	fi
done
# the comparison page's script runs too
: >"$B/stderr.txt"
chrome --dump-dom "$R/compare.html" "$B/cdom.html"
grep -q 'data-sortable="ready"' "$B/cdom.html" || t_fail "compare.html: the script did not run"
grep -E "Uncaught|Page load failed" "$B/stderr.txt" && t_fail "console errors loading compare.html"
(cd "$B" && chrome --screenshot="$B/shot.png" "$R/report.html" /dev/null)
[ -s "$B/shot.png" ] || t_fail "no screenshot"
python3 "$HERE/t_report_check.py" png "$B/shot.png" || t_fail "the screenshot is blank"
t_done
