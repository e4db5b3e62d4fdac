# t_lib.sh — helpers for the shell tests (sourced): t_ prefix, exit 77 to skip.
set -u
HP=${1:?usage: $0 path/to/hotpath}
T_FAIL=0
T_TMP=$(mktemp -d /tmp/hotpath-test.XXXXXX)
trap 'rm -rf "$T_TMP"' EXIT

t_fail() { echo "FAIL: $*" >&2; T_FAIL=$((T_FAIL + 1)); }
t_ok() { echo "ok: $*"; }

# t_expect CODE PATTERN -- args... : runs hotpath, checks exit code and that
# stderr+stdout matches the (grep -E) pattern.
t_expect() {
	local want=$1 pat=$2 out rc
	shift 3
	out=$("$HP" "$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" != "$want" ]; then
		t_fail "hotpath $* exited $rc, expected $want; output: $out"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then
		t_fail "hotpath $*: output does not match /$pat/: $out"
	else
		t_ok "hotpath $* -> $rc"
	fi
}

t_done() {
	if [ "$T_FAIL" -gt 0 ]; then
		echo "$T_FAIL check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# t_json FILE PYEXPR : evaluates a python expression with `d` = the parsed
# JSON; fails the test when it is false.
t_json() {
	python3 - "$1" "$2" <<'PY' || t_fail "$1: $2"
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)
PY
}
