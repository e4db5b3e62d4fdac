# test_nvme_suite.sh — `hotpath run --suite nvme --profile smoke`: the emulated queue pair's three completion loops at every service time (never faster than the device, interrupts only where there should be), io_uring and fio on the default target or a reason, and nothing left behind.
. "$(dirname "$0")/t_lib.sh"

# the default target needs a disk-backed directory (tmpfs has no real O_DIRECT)
dir=$T_TMP/blk
[ "$(stat -f -c %T "$T_TMP")" = tmpfs ] && dir=$(mktemp -d /var/tmp/hotpath-test.XXXXXX)
mkdir -p "$dir"
trap 'rm -rf "$T_TMP"; [ "$dir" = "$T_TMP/blk" ] || rm -rf "$dir"' EXIT
rc=0
HOTPATH_BLOCK_DIR=$dir "$HP" run --suite nvme --profile smoke --cpus auto --out "$T_TMP/r" --quiet \
	>"$T_TMP/stdout" 2>"$T_TMP/stderr" || rc=$?
[ "$rc" = 0 ] || { cat "$T_TMP/stderr" >&2; t_fail "run exited $rc"; t_done; }
d=$(tail -n 1 "$T_TMP/stdout")
[ -s "$d/results.csv" ] || { t_fail "no results.csv in '$d'"; t_done; }
# the default target is unlinked as soon as it is made
[ -z "$(ls -A "$dir")" ] || t_fail "left behind in HOTPATH_BLOCK_DIR: $(ls "$dir")"
ncpu=$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))')

python3 - "$d/results.csv" "$d/results.json" "$ncpu" <<'PY' || t_fail "results content"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
bench = json.load(open(sys.argv[2]))["benchmarks"]
ncpu = int(sys.argv[3])
def vals(case, variant, param, metric):
    return [float(r["value"]) for r in rows if r["case"] == case and r["variant"] == variant
            and r["param"] == param and r["metric"] == metric]
def reason(name):
    for b in bench:
        if b["name"].startswith(name) and b.get("error_occurred"):
            return b.get("error_message", "")
    return None
if ncpu >= 2:
    for svc, ns in [("2us", 2000), ("8us", 8000), ("32us", 32000)]:
        for v in ["impl-poll", "impl-irq", "impl-hybrid"]:
            t = vals("emulated", v, svc, "real_time")
            assert t, (v, svc, "no real_time")
            # the controller busy-waits the service time: no read is faster
            assert all(x >= ns for x in t), (v, svc, t)
        # a poll queue has no interrupt, and its host never sleeps
        for m in ["irqs_per_read", "sleeps_per_read"]:
            x = vals("emulated", "impl-poll", svc, m)
            assert x and all(y == 0 for y in x), ("impl-poll", svc, m, x)
        # every read on the interrupt queue raised its interrupt
        x = vals("emulated", "impl-irq", svc, "irqs_per_read")
        assert x and all(y >= 0.99 for y in x), ("impl-irq", svc, "irqs_per_read", x)
    # at 32 us the interrupt host sleeps, and the hybrid host naps before
    # polling (but not before its first completion: no mean yet)
    med = lambda v: sorted(v)[len(v) // 2]
    s = vals("emulated", "impl-irq", "32us", "sleeps_per_read")
    assert s and med(s) > 0.5, ("impl-irq sleeps per read", s)
    s = vals("emulated", "impl-hybrid", "32us", "hybrid_sleeps_per_read")
    assert s and med(s) > 0.5, ("impl-hybrid sleeps per read", s)
    # coalescing: at most one threshold interrupt per `thr` completions.
    # The 100 us aggregation timer sends the rest, and on a loaded machine
    # (the controller thread preempted) it sends most of them, so only the
    # threshold's share is a bound; without coalescing, one per read.
    for thr in [1, 4, 16]:
        x = vals("coalesce", "impl-irq", str(thr), "irqs_per_read")
        t = vals("coalesce", "impl-irq", str(thr), "timer_irqs_per_read")
        assert x and len(x) == len(t), ("coalesce", thr, x, t)
        for y, z in zip(x, t):
            assert y - z <= 1.0 / thr + 0.01 and y <= 1.0 + 1e-9, ("coalesce", thr, "irqs", y, "timer", z)
            assert thr > 1 or y == 1.0, ("coalesce", thr, "irqs", y)
else:
    assert reason("nvme/emulated"), "emulated on one CPU: no reason given"
# io_uring: a number, or a reason naming what is missing
for v in ["uring-irq", "uring-poll", "uring-hybrid", "fio-irq", "fio-poll"]:
    t = vals("uring", v, "-", "real_time")
    why = reason("nvme/uring/" + v)
    assert (t and all(x > 0 for x in t)) or why, (v, "neither a time nor a reason")
    if not t:
        print(v, "unavailable:", why)
assert vals("uring", "uring-irq", "-", "real_time"), "uring-irq did not run on the default target"
PY
grep -qiE "crash|failed" "$T_TMP/stderr" && t_fail "a job failed: $(cat "$T_TMP/stderr")"
# the crossover: the quick points only (full_only ones left out), its
# break-even in summary.md and, where gnuplot runs, its figure
if [ "$ncpu" -ge 2 ]; then
	grep -q '^nvme,emulated,impl-poll,impl,16us,' "$d/results.csv" && t_fail "full_only 16us ran in smoke"
	grep -qE '^- (break-even device time [0-9.]+ us|break-even (below|not reached))' "$d/summary.md" ||
		t_fail "no break-even line in summary.md"
	grep -q 'interrupt overhead: irq minus poll latency at 2 us' "$d/summary.md" ||
		t_fail "no interrupt overhead in summary.md"
	if [ -f "$d/plots/nvme-bars.svg" ]; then
		for e in svg png pdf dat; do
			[ -s "$d/plots/nvme-crossover.$e" ] || t_fail "no plots/nvme-crossover.$e"
		done
	fi
fi
t_done
