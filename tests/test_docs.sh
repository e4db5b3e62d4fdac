#!/bin/bash
# test_docs.sh — the docs stay true: README.md is a front page (<= 300 lines), every relative link in README.md and docs/ resolves, every suite the binary lists has its docs page, and no page cites a document outside the repository.
# usage: test_docs.sh path/to/hotpath [source-root]   (the root defaults to this script's parent folder)
set -u
HP=${1:?usage: $0 path/to/hotpath [source-root]}
ROOT=${2:-$(cd "$(dirname "$0")/.." && pwd)}
MAX_README_LINES=300
fail=0
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

# meson passes the binary relative to the build folder: resolve it first
case "$HP" in /*) ;; *) HP=$PWD/$HP ;; esac
cd "$ROOT" || { echo "FAIL: no source root '$ROOT'" >&2; exit 1; }
[ -f README.md ] || { echo "FAIL: no README.md in $ROOT" >&2; exit 1; }
[ -d docs ] || { echo "FAIL: no docs/ in $ROOT" >&2; exit 1; }

# 1. the front page stays a front page
n=$(wc -l <README.md)
[ "$n" -le "$MAX_README_LINES" ] || bad "README.md has $n lines (at most $MAX_README_LINES: move detail to docs/)"

mapfile -t pages < <(find docs -name '*.md' | sort)
pages=(README.md "${pages[@]}")

# 2. relative links resolve (fenced code blocks are not prose; URLs and
#    in-page anchors are not checked)
for p in "${pages[@]}"; do
	dir=$(dirname "$p")
	while IFS= read -r target; do
		case "$target" in
		http://* | https://* | mailto:* | '#'*) continue ;;
		esac
		path=${target%%#*}
		path=${path%% *}          # [x](file "title")
		[ -e "$dir/$path" ] || bad "$p: link to '$target': no such file ($dir/$path)"
	done < <(awk '/^[ \t]*```/ { code = !code; next } !code' "$p" |
		grep -oE '\]\([^)[:space:]]+( "[^"]*")?\)' | sed -E 's/^\]\(//; s/\)$//')
done

# 3. every suite the binary lists has a page, and the README links it;
#    every descriptor's .doc names an existing page
suites=$("$HP" list 2>/dev/null | grep -E '^[a-z0-9_-]+ — ' | sed 's/ — .*//')
[ -n "$suites" ] || bad "'$HP list' printed no suites"
for s in $suites; do
	[ -f "docs/suites/$s.md" ] || bad "suite '$s' has no page docs/suites/$s.md"
	grep -q "docs/suites/$s.md" README.md || bad "README.md does not link docs/suites/$s.md"
done
while IFS= read -r doc; do
	[ -f "$doc" ] || bad "a suite descriptor names .doc = \"$doc\", which does not exist"
done < <(grep -ho '\.doc = "[^"]*"' bench/*.c 2>/dev/null | sed -E 's/.*"(.*)"/\1/')

# 4. nothing outside the repository is cited
for p in "${pages[@]}" results/README.md; do
	[ -f "$p" ] || continue
	if grep -n -i -E 'design\.md|\.\./shared' "$p" >/dev/null; then
		bad "$p cites a document outside the repository: $(grep -n -i -E 'design\.md|\.\./shared' "$p" | head -n 3 | tr '\n' ' ')"
	fi
done

if [ "$fail" -gt 0 ]; then
	echo "$fail docs check(s) failed" >&2
	exit 1
fi
echo "ok: README.md $n lines, ${#pages[@]} pages, links, suite pages ($(echo $suites | wc -w) suites)"
