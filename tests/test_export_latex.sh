#!/bin/bash
# test_export_latex.sh HOTPATH — `hotpath export DIR --latex`: the numbers in
# the tables and macros are the medians / equal-work ratios of a fixture with
# known values; a hostile host and variant name come out escaped; every table
# and macros.tex compile with pdflatex -halt-on-error (skipped, 77, without
# pdflatex); bad input exits 2, an unwritable file 1.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/t_lib.sh"

F=$T_TMP/fx
python3 "$HERE/t_report_fixture.py" "$F" --hostile || { echo "FAIL: fixture"; exit 1; }
t_expect 0 "tables/macros.tex" -- export "$F" --latex
for f in fx.tex fy.tex macros.tex; do
	[ -s "$F/tables/$f" ] || t_fail "tables/$f not written"
done

# the numbers: medians and ratios of the fixture (known values)
python3 - "$F/tables" <<'PY' || t_fail "numbers in the tables and macros"
import re, sys
d = sys.argv[1]
m = dict(re.findall(r'\\newcommand\{\\([A-Za-z]+)\}\{([^}]*)\}', open(d + "/macros.tex").read()))
want = {"hpFxCImplNs": "30", "hpFxCBaseNs": "3", "hpFxCBaseNsRatio": "0.100",
        "hpFxSweepKernelSixFourThreadsTwoNs": "30", "hpFxSweepKernelSixFourThreadsTwoNsRatio": "2.000",
        "hpFyOneImplNs": "1001"}
bad = [(k, v, m.get(k)) for k, v in want.items() if m.get(k) != v]
assert not bad, bad
# the variant of another work class has a median but no ratio
odd = [k for k in m if k.startswith("hpFxCXdmScript")]
assert len(odd) == 1 and m[odd[0]] == "300", odd
names = re.findall(r'\\newcommand\{\\([^}]*)\}', open(d + "/macros.tex").read())
assert all(re.fullmatch(r'[A-Za-z]+', n) for n in names), names
assert len(names) == len(set(names)), "duplicate macro names"
t = open(d + "/fx.tex").read()
# rows: variant & param & threads & median & [lo, hi] & ratio
assert re.search(r'^base & -- & 1 & 3 & \[1, 5\] & 0\.100 \\\\$', t, re.M), "base row"
assert re.search(r'^kernel & 64 & 2 & 30 & \[28, 32\] & 2\.000 \\\\$', t, re.M), "kernel row"
# escaped: no raw special character of the hostile names outside commands
assert r'\textless{}script\textgreater{}alert(1)\textless{}/script\textgreater{}\&\_\%\$\#\{\}\textasciitilde{}\textasciicircum{}\textbackslash{}\textbar{}{\ttfamily\char34}' in t, "variant escaping"
assert r'h\textless{}b\textgreater{}\&{\ttfamily\char34}x' in t, "host escaping"
assert "& \\multicolumn{1}{c}{---} \\\\" in t.split("char34} &")[1].split("\n")[0], "no ratio across work classes"
PY

# compile every table and the macros
if ! command -v pdflatex >/dev/null; then
	echo "pdflatex not found (apt-get install texlive-latex-base texlive-latex-recommended): compile skipped"
	[ "$T_FAIL" -gt 0 ] && t_done
	exit 77
fi
DOC=$T_TMP/doc
mkdir -p "$DOC"
{
	echo '\documentclass{article}'
	echo '\usepackage{booktabs,dcolumn}'
	echo "\\input{$F/tables/macros.tex}"
	echo '\begin{document}'
	echo 'The impl median is \hpFxCImplNs\,ns; base runs at \hpFxCBaseNsRatio{} of it.'
	for t in "$F"/tables/*.tex; do
		[ "$(basename "$t")" = macros.tex ] || echo "\\input{$t}"
	done
	echo '\end{document}'
} >"$DOC/doc.tex"
if (cd "$DOC" && HOME=$DOC TEXMFVAR=$DOC/texmf timeout 60 pdflatex -interaction=nonstopmode -halt-on-error doc.tex) >"$DOC/out.txt" 2>&1; then
	t_ok "pdflatex compiled every table and macros.tex"
	if command -v pdftotext >/dev/null; then
		pdftotext "$DOC/doc.pdf" "$DOC/doc.txt"
		grep -q 'alert(1)' "$DOC/doc.txt" && grep -q 'impl median is 30' "$DOC/doc.txt" ||
			t_fail "the PDF lacks the escaped variant or the macro's value"
	fi
else
	t_fail "pdflatex failed: $(grep -A3 '^!' "$DOC/out.txt" | head -8)"
fi

# bad input: 2, naming what is wrong; unwritable: 1, naming the file
t_expect 2 "expected a results folder" -- export "$F"
t_expect 2 "valid formats: --latex" -- export "$F" --html
t_expect 2 "not a results folder" -- export "$T_TMP/nope" --latex
mkdir -p "$T_TMP/empty"
t_expect 2 "no results.csv" -- export "$T_TMP/empty" --latex
cp -r "$F" "$T_TMP/bad"
echo 'fx,c,impl,impl,-,1,0,real_time,ns/call,9,nan' >>"$T_TMP/bad/results.csv"
t_expect 2 "results.csv" -- export "$T_TMP/bad" --latex
rm -f "$F/tables/fx.tex" && mkdir "$F/tables/fx.tex"
t_expect 1 "cannot write .*tables/fx.tex" -- export "$F" --latex
t_done
