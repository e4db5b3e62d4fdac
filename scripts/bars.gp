# bars.gp — grouped bars: median of the primary metric per op, one bar per
# variant, whiskers from the fastest to the slowest repetition.
#
# hotpath sets (gnuplot -e): term outfile datafile title xlabel ylabel
#   nvar    variant blocks in datafile (1..nvar); block 0 holds the x tick
#           labels: x, case (or param), param (or empty)
#   colors  palette index of each block, space-separated
#   logy    1 for a log y axis (values span > 2 decades); ymin its bottom
#   xmin xmax bw xrot   x range, bar width, tick label rotation (degrees)
#   bmarg   bottom margin in lines, sized by hotpath from the labels

# Okabe-Ito (tells colours apart for colour-blind readers and in greyscale),
# then four of Paul Tol's muted scheme for suites with up to 12 variants.
palette = '#0072B2 #D55E00 #009E73 #E69F00 #CC79A7 #56B4E9 #000000 #999999 #882255 #332288 #999933 #44AA99'
col(i) = word(palette, int(word(colors, i)) + 1)
# Tick label: case over param on two lines, or one line when rotated.
ticklabel(c, p) = strcol(p) eq '' ? strcol(c) : \
                  strcol(c) . (xrot != 0 ? ' ' : "\n") . strcol(p)

# Sized for one column of a paper (3.5 in); the PNG and SVG are the same
# figure at 300 px per inch, so text keeps its proportion everywhere.
# noenhanced: case names have underscores, which are not subscripts. The
# SVG names the CSS generic family, which every browser resolves.
if (term eq 'pdfcairo') {
    set terminal pdfcairo size 3.5in,2.6in font 'Sans,6' fontscale 1 linewidth 1.4 pointscale 0.3 noenhanced
} else {
    if (term eq 'pngcairo') {
        set terminal pngcairo size 1050,780 font 'Sans,25' linewidth 3 noenhanced
    } else {
        set terminal svg size 1050,780 font 'sans-serif,25' linewidth 3 background '#ffffff' noenhanced
    }
}
set output outfile

set xlabel xlabel
set ylabel ylabel
set border 3
set xtics nomirror scale 0
if (xrot != 0) { set xtics rotate by xrot right }
set ytics nomirror
set grid ytics linecolor rgb '#d8d8d8'
set xrange [xmin:xmax]
set yrange [ymin:*]
# Decades of nanoseconds read best with SI prefixes: 100, 1k, 10k.
if (logy) { set logscale y; set format y '%.0s%c' }
set boxwidth bw absolute
set style fill solid 0.9 border linecolor rgb '#202020'
set errorbars 1.0
# gnuplot blanks a disc around an errorbar's centre point; 0 would mean the
# default size, so a tiny one hides it.
set pointintervalbox 1e-6
# Nothing sticks out to the right; rotated labels hang down to the left.
set rmargin 2
# gnuplot misjudges the room that rotated or two-line labels need.
if (bmarg > 0) { set bmargin bmarg }
# The key sits above the plot, where it cannot hide a bar; the chart's
# title heads it, so title and key take one band of the figure. A single
# variant is named in the title instead.
if (nvar > 1) {
    set key outside top center horizontal samplen 1.5 width 1 title title
} else {
    set title title; unset key
}

plot datafile index 0 using 1:(NaN):xtic(ticklabel(2, 3)) notitle, \
     for [i=1:nvar] datafile index i using 1:2 with boxes linecolor rgb col(i) title columnheader(1), \
     for [i=1:nvar] datafile index i using 1:2:3:4 with yerrorbars pointsize 0 linecolor rgb '#000000' notitle
set output
