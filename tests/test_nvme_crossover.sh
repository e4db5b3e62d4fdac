# test_nvme_crossover.sh — the nvme crossover's break-even from known medians: `hotpath plot` on a hand-made results.csv whose polling gain (latency saved minus host CPU added) crosses zero at a known device time, one that never crosses, one that is below the range, and a sweep with fewer points.
. "$(dirname "$0")/t_lib.sh"

# gen DIR SHAPE POINTS: emulated rows (3 reps each) with latencies and host
# CPU in us made from the device time t:
#   cross: poll lat t+1, irq lat t+10, poll cpu t+1, irq cpu 2
#          gain = 9 - (t - 1) = 10 - t: zero at t = 10 us, between 8 and 16,
#          interpolated on log t: 8 * 2^(2/8) = 9.51 us
#   never: irq lat t+1000: the gain stays positive up to 128 us
#   dip:   as cross, but irq lat t+0.5 at 2 us (one noisy point where
#          interrupts win): the break-even is still the one above which
#          polling never gains, 9.51 us
#   below: poll lat t+1, irq lat t+1, poll cpu t+5, irq cpu 2: gain < 0 at once
gen() {
	mkdir -p "$1"
	python3 - "$1/results.csv" "$2" "$3" <<'PY'
import sys
path, shape, pts = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3].split(",")]
with open(path, "w") as f:
    f.write("suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value\n")
    for t in pts:
        if shape in ("cross", "dip"):
            lat = {"impl-poll": t + 1, "impl-irq": t + 10, "impl-hybrid": t + 60}
            cpu = {"impl-poll": t + 1, "impl-irq": 2, "impl-hybrid": 3}
            if shape == "dip" and t == 2:
                lat["impl-irq"] = t + 0.5
        elif shape == "never":
            lat = {"impl-poll": t + 1, "impl-irq": t + 1000, "impl-hybrid": t + 60}
            cpu = {"impl-poll": t + 1, "impl-irq": 2, "impl-hybrid": 3}
        else:
            lat = {"impl-poll": t + 1, "impl-irq": t + 1, "impl-hybrid": t + 60}
            cpu = {"impl-poll": t + 5, "impl-irq": 2, "impl-hybrid": 3}
        for v in ["impl-poll", "impl-irq", "impl-hybrid"]:
            for rep in range(3):
                row = "nvme,emulated,%s,impl,%dus,1,1" % (v, t)
                f.write("%s,real_time,ns/read,%d,%g\n" % (row, rep, lat[v] * 1000))
                f.write("%s,host_cpu_ns_per_read,ns/read,%d,%g\n" % (row, rep, cpu[v] * 1000))
                if v == "impl-hybrid":
                    f.write("%s,hybrid_overslept_ns,ns,%d,%g\n" % (row, rep, 55000))
PY
}

all=1,2,4,8,16,32,64,128
check() {   # check DIR PATTERN WHAT
	local rc=0 out
	out=$("$HP" plot "$1" 2>&1) || rc=$?
	if [ "$rc" = 1 ] && grep -qi gnuplot <<<"$out"; then
		echo "SKIP: $out"; exit 77
	fi
	[ "$rc" = 0 ] || { t_fail "$3: hotpath plot exited $rc: $out"; return; }
	[ -s "$1/plots/nvme-crossover.svg" ] || t_fail "$3: no nvme-crossover.svg"
	grep -qE -- "$2" "$1/plots/nvme-crossover.dat" && t_ok "$3" ||
		t_fail "$3: nvme-crossover.dat does not say /$2/: $(head -3 "$1/plots/nvme-crossover.dat")"
}
gen "$T_TMP/a" cross "$all"
check "$T_TMP/a" '^# break-even device time 9\.5 us \(interpolated; points 1, 2, 4, 8, 16, 32, 64, 128 us\)' cross
grep -q '^# interrupt overhead: 9000 ns/read at 1 us' "$T_TMP/a/plots/nvme-crossover.dat" ||
	t_fail "interrupt overhead (irq - poll at 1 us = 9 us) not in the .dat"
# the hybrid's oversleep is drawn as measured: its column holds 55 us
awk '!/^#/ && $8 != 55 { bad = 1 } END { exit bad }' "$T_TMP/a/plots/nvme-crossover.dat" ||
	t_fail "hybrid oversleep column is not the measured 55 us"
gen "$T_TMP/e" dip "$all"
check "$T_TMP/e" '^# break-even device time 9\.5 us' dip
gen "$T_TMP/b" never "$all"
check "$T_TMP/b" '^# break-even not reached in the swept range: polling still better at 128 us' never
gen "$T_TMP/c" below "$all"
check "$T_TMP/c" '^# break-even below the swept range' below
# the quick profile's three points: drawn from what exists, and said so
gen "$T_TMP/d" cross 2,8,32
check "$T_TMP/d" '^# break-even device time [0-9.]+ us \(interpolated; points 2, 8, 32 us\)' quick-points
t_done
