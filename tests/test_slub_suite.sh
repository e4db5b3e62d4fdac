# test_slub_suite.sh — the slub suite's own plot, slub-generations: a smoke run of the impl variants of pair, kmalloc_pair, cache_pair and remote_free draws cpu-slab (6.6) and sheaves (7.0) side by side, like with like, with the medians of results.csv; a run without sheaves variants draws no such plot.
. "$(dirname "$0")/t_lib.sh"

if ! command -v "${HP_GNUPLOT:-gnuplot}" >/dev/null; then
	echo "SKIP: gnuplot not found in PATH: the test checks a plot"
	exit 77
fi

run() { # run OUT FILTER: a smoke run of the slub suite; sets d to its folder, 1 when it failed
	local rc=0
	d=
	"$HP" run --suite slub --profile smoke --cpus auto --filter "$2" --out "$T_TMP/$1" --quiet \
		>"$T_TMP/$1.out" 2>"$T_TMP/$1.err" || rc=$?
	[ "$rc" = 0 ] || { cat "$T_TMP/$1.err" >&2; t_fail "run --filter '$2' exited $rc"; return 1; }
	grep -qi "failed" "$T_TMP/$1.err" && t_fail "a job or plot of --filter '$2' failed: $(cat "$T_TMP/$1.err")"
	d=$(tail -n 1 "$T_TMP/$1.out")
	[ -d "$d/plots" ] || { t_fail "run --filter '$2': no plots folder in '$d'"; return 1; }
}

# both generations: the plot, in every format, with the medians of results.csv
run gen '(pair|remote_free)/impl' || t_done
for ext in dat svg png pdf; do
	[ -s "$d/plots/slub-generations.$ext" ] || t_fail "no plots/slub-generations.$ext"
done
if [ -s "$d/plots/slub-generations.dat" ]; then
	python3 - "$d/results.csv" "$d/plots/slub-generations.dat" <<'PY' || t_fail "slub-generations.dat content"
import csv, math, shlex, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["metric"] == "real_time" and r["threads"] == "1"]
def med(case, variant, param):
    v = [float(r["value"]) for r in rows if (r["case"], r["variant"], r["param"]) == (case, variant, param)]
    return (statistics.median(v), min(v), max(v)) if v else None
dat = {}
for line in open(sys.argv[2]):
    if line.startswith("#") or not line.strip():
        continue
    f = shlex.split(line)
    assert len(f) == 22, f
    dat[(f[1], f[2])] = f
# pinned pair, then the per-CPU-op pair: (cpu-slab, sheaves) each
inline = ("impl-pinned", "impl-sheaves-pinned", "impl-rseq", "impl-sheaves")
# no sheaves-pinned variant there: the pinned pair is left out, cmpxchg is the per-CPU op
call = (None, None, "impl-cmpxchg", "impl-sheaves")
pairing = {"pair": inline, "remote_free": inline, "kmalloc_pair": call, "cache_pair": call}
# a row for every case/param that ran impl-sheaves (sizes some profiles leave out have none)
want = {(r["case"], r["param"]): pairing[r["case"]] for r in rows if r["variant"] == "impl-sheaves"}
must = {("pair", "64"), ("kmalloc_pair", "64"), ("cache_pair", "64")}
if any(r["case"] == "remote_free" for r in rows):
    must.add(("remote_free", "64"))   # (one CPU: remote_free is unavailable)
assert must <= set(want), (sorted(must), sorted(want))
assert set(dat) == set(want), (sorted(dat), sorted(want))
for key, variants in want.items():
    f = dat[key]
    assert (f[19], f[20]) == (variants[0] or "-", variants[2]), (key, f[19:21])
    xs = []
    for i, v in enumerate(variants):
        x, m, lo, hi = (float(t) for t in f[3 + 4 * i: 7 + 4 * i])
        if v is None:
            assert all(math.isnan(t) for t in (x, m, lo, hi)), (key, i, f)
            continue
        got = med(key[0], v, key[1])
        assert got, (key, v, "not in results.csv")
        for a, b in zip((m, lo, hi), got):
            assert abs(a - b) <= 1e-6 * b, (key, v, (m, lo, hi), got)
        assert 0 < lo <= m <= hi, (key, v, f)
        xs.append(x)
    # side by side, 0.2 apart, centred on the row's x
    n = int(f[0])
    assert all(abs(b - a - 0.2) < 1e-6 for a, b in zip(xs, xs[1:])), (key, xs)
    assert abs(sum(xs) / len(xs) - n) < 1e-6, (key, xs)
print("slub-generations.dat:", len(dat), "rows, both generations")
PY
fi

# no sheaves variant in the run: no such plot (the standard bars still drawn)
run old '/pair/impl-(pinned|cmpxchg)' || t_done
[ -s "$d/plots/slub-bars.png" ] || t_fail "the run without sheaves drew no slub-bars"
for ext in dat svg png pdf; do
	[ ! -e "$d/plots/slub-generations.$ext" ] || t_fail "plots/slub-generations.$ext drawn without sheaves rows"
done
t_done
