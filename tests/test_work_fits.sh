# test_work_fits.sh — every work line of every suite fits hp_work_t and has a class: `hotpath list` prints each variant's stated work in full; a line of sizeof(hp_work_t.work) bytes or more (or a class of sizeof(work_class) or more) would be dropped by hp_results_set_work at run time, and summary.md would say "work not stated" (bench/slub's impl-sheaves did, issue 10). The limits are read from harness/record.h. Args: hotpath record.h [--mutant] (--mutant adds one line a byte too long to the listing: the check must fail).
. "$(dirname "$0")/t_lib.sh"
REC=${2:?usage: $0 hotpath harness/record.h [--mutant]}
MUT=${3:-}

"$HP" list >"$T_TMP/list" 2>&1 || { t_fail "list: $(cat "$T_TMP/list")"; t_done; }
python3 - "$T_TMP/list" "$REC" "$MUT" <<'PY' || t_fail "a work line does not fit hp_work_t or has no class"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
rec = open(sys.argv[2]).read()
body = rec[rec.index("typedef struct hp_work {"):rec.index("} hp_work_t;")]
wmax = int(re.search(r"char work\[(\d+)\]", body).group(1))
cmax = int(re.search(r"char work_class\[(\d+)\]", body).group(1))
if sys.argv[3] == "--mutant":
    lines += ["mut — a suite", "  mutcase — x", "      impl                   impl      available",
              "                             work: " + "x" * wmax + " [inline-fixed-cache]"]
suite = case = None
bad, seen = [], 0
for i, l in enumerate(lines):
    if re.match(r"^\S", l) and " — " in l:
        suite = l.split()[0]
    elif re.match(r"^  \S", l):
        case = l.split()[0]
    w = re.match(r"^\s+work: (.*)$", l)
    if not w:
        continue
    seen += 1
    var = next((lines[k].split()[0] for k in range(i - 1, -1, -1) if re.match(r"^      \S", lines[k])), "?")
    m = re.fullmatch(r"(.+) \[([^\[\]]+)\]", w.group(1))
    if not m:
        bad.append(f"{suite}/{case}/{var}: work line without a [class]")
        continue
    n, c = len(m.group(1).encode()), len(m.group(2).encode())
    if n >= wmax:
        bad.append(f"{suite}/{case}/{var}: work line of {n} bytes, hp_work_t holds {wmax - 1}")
    if c >= cmax:
        bad.append(f"{suite}/{case}/{var}: work class of {c} bytes, hp_work_t holds {cmax - 1}")
assert seen > 40, f"only {seen} work lines found"
assert not bad, "\n".join(bad)
print(f"ok: {seen} work lines fit hp_work_t ({wmax - 1} bytes) and name a class")
PY
t_done
