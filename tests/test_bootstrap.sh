# test_bootstrap.sh — scripts/hotpath, not root and missing a package: prints the exact install command and exits 2 without building.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
fake=$(mktemp -d /tmp/hotpath-boot.XXXXXX)
trap 'rm -rf "$fake"' EXIT
fail=0
# a dpkg that lacks libhwloc-dev and gnuplot-nox, and a non-root id
cat >"$fake/dpkg-query" <<'SH'
#!/bin/sh
for a in "$@"; do p=$a; done
case $p in libhwloc-dev|gnuplot-nox) exit 1 ;; esac
echo "install ok installed"
SH
printf '#!/bin/sh\necho 1000\n' >"$fake/id"
printf '#!/bin/sh\necho "meson must not run" >&2; exit 42\n' >"$fake/meson"
chmod +x "$fake"/*
out=$(PATH="$fake:$PATH" HOTPATH_BUILD="$fake/build" bash "$root/scripts/hotpath" run 2>&1) && rc=0 || rc=$?
if [ "$rc" != 2 ]; then echo "FAIL: exit $rc, expected 2: $out"; fail=1; fi
grep -q "sudo apt-get install -y libhwloc-dev gnuplot-nox" <<<"$out" || { echo "FAIL: no exact install command: $out"; fail=1; }
grep -q "meson must not run" <<<"$out" && { echo "FAIL: it went on to build"; fail=1; }
# only an optional package missing: it says so and goes on (to our fake meson)
cat >"$fake/dpkg-query" <<'SH'
#!/bin/sh
for a in "$@"; do p=$a; done
case $p in gnuplot-nox) exit 1 ;; esac
echo "install ok installed"
SH
out=$(PATH="$fake:$PATH" HOTPATH_BUILD="$fake/build" bash "$root/scripts/hotpath" run 2>&1) && rc=0 || rc=$?
grep -q "optional packages not installed.*gnuplot-nox" <<<"$out" || { echo "FAIL: optional package not reported: $out"; fail=1; }
grep -q "meson setup failed" <<<"$out" || { echo "FAIL: did not go on to configure: $out"; fail=1; }
[ "$rc" = 1 ] || { echo "FAIL: a failed configure exited $rc, expected 1"; fail=1; }
[ "$fail" = 0 ] && echo "bootstrap checks passed"
exit $fail
