#!/usr/bin/env python3
"""t_report_fixture.py DIR [--hostile] -- writes a small results folder with
known values for the report/export tests: suite fx, case c with an impl
reference (10..50), a baseline of equal work (1..5) and one of another work
class (100..500), a second case with a thread sweep, and one benchmark that
did not run. With --hostile the host and a variant hold every character
HTML and LaTeX treat specially."""
import csv, json, os, sys

d = sys.argv[1]
hostile = "--hostile" in sys.argv
HOST = 'h<b>&"x\'_%$#{}~^\\|' if hostile else "fixture-host"
ODD = '<script>alert(1)</script>&_%$#{}~^\\|"' if hostile else "odd"
os.makedirs(os.path.join(d, "plots"), exist_ok=True)
rows = []
def bench(suite, case, variant, kind, param, threads, vals, metric="real_time", unit="ns/call"):
    for i, v in enumerate(vals):
        rows.append([suite, case, variant, kind, param, threads, "0", metric, unit, i, v])
        rows.append([suite, case, variant, kind, param, threads, "0", "cpu_time", unit, i, v + 0.5])
bench("fx", "c", "impl", "impl", "-", 1, [30, 10, 50, 20, 40])
bench("fx", "c", "base", "baseline", "-", 1, [3, 1, 5, 2, 4])
bench("fx", "c", ODD, "baseline", "-", 1, [300, 100, 500, 200, 400])
for t in (1, 2):
    bench("fx", "sweep", "impl", "impl", "64", t, [7.5 * t, 7.25 * t, 7.75 * t])
    bench("fx", "sweep", "kernel", "kernel", "64", t, [15 * t, 14 * t, 16 * t])
bench("fy", "one", "impl", "impl", "-", 1, [1000.5, 1001.5])
# two small drawings: one of suite fx, one of no suite in the folder
for name, colour in (("fx-bars", "#1f5fbf"), ("zz-other", "#d9661f")):
    with open(os.path.join(d, "plots", name + ".svg"), "w") as f:
        f.write('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
                '<svg width="200" height="100" viewBox="0 0 200 100" '
                'xmlns="http://www.w3.org/2000/svg"><rect x="10" y="10" width="120" '
                'height="60" fill="%s"/></svg>\n' % colour)
with open(os.path.join(d, "results.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow("suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value".split(","))
    w.writerows(rows)
env = {"date": "2026-12-04T20:00:00Z", "host": HOST, "kernel_release": "6.18.0-fx",
       "kernel_version": "#1 SMP", "cpu_model": "Fixture CPU @ 2.0GHz",
       "git": {"revision": "0123456789abcdef", "dirty": False},
       "command_line": "hotpath run --suite fx", "seed": 7, "profile": "quick",
       "metric": "time", "repetitions": 5, "status": "complete",
       "warnings": ["isolation: no isolated CPUs <fixture>"]}
json.dump(env, open(os.path.join(d, "env.json"), "w"), indent=1)
work = [{"suite": "fx", "case": "c", "variant": "impl", "work": "one call", "work_class": "call"},
        {"suite": "fx", "case": "c", "variant": "base", "work": "one call", "work_class": "call"},
        {"suite": "fx", "case": "c", "variant": ODD, "work": "two calls", "work_class": "call+call"}]
res = {"context": {"work": work}, "benchmarks": [
    {"name": "fx/c/missing/threads:1", "error_occurred": True,
     "error_message": "unavailable: no <device> here"}]}
json.dump(res, open(os.path.join(d, "results.json"), "w"), indent=1)
