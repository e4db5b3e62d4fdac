# threads.gp — throughput of all threads together against the thread count,
# one line per variant (and param), whiskers over repetitions.
#
# hotpath sets (gnuplot -e): term outfile datafile title xlabel ylabel
#   nlines  line blocks in datafile (0..nlines-1), title in each header
#   nkeyv nkeyp  key-only blocks after them: variants, then params (or 0 0)
#   colors  palette index of each line; ptypes  point shape index of each
#   logy    1 for a log y axis (values span > 2 decades)
#   yscale  divisor of the ops/s columns (1e6 when ylabel says millions)
#   xmin xmax   x range (thread counts)

# Same palette as bars.gp, so a variant keeps its colour across plots.
palette = '#0072B2 #D55E00 #009E73 #E69F00 #CC79A7 #56B4E9 #000000 #999999 #882255 #332288 #999933 #44AA99'
shapes = '7 5 9 11 13 15'
col(i) = word(palette, int(word(colors, i)) + 1)
shape(i) = int(word(shapes, int(word(ptypes, i)) + 1))

# Column-width sizes and fonts: see bars.gp.
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
set xtics nomirror
if (xmax - xmin <= 17) { set xtics 1 }
set ytics nomirror
set grid xtics ytics linecolor rgb '#d8d8d8'
set xrange [xmin:xmax]
if (logy) { set logscale y; set format y '%.0s%c' } else { set yrange [0:*] }
set errorbars 0.5
# no blank disc around points, which would cut the lines (see bars.gp)
set pointintervalbox 1e-6
set rmargin 2
# Above the plot, headed by the title, as in bars.gp; a single line needs
# no key (hotpath names its variant in the title).
if (nlines > 1) {
    set key outside top center horizontal samplen 2 title title
} else {
    set title title; unset key
}

# Whiskers first and without a title, so the key shows plain line samples.
# With nkeyv + nkeyp > 0 the lines are untitled and the key is made of the
# blocks after them: a coloured line per variant, a grey shape per param.
if (nkeyv + nkeyp == 0) {
    plot for [i=1:nlines] datafile index (i-1) using 1:($2/yscale):($3/yscale):($4/yscale) \
             with yerrorbars linecolor rgb col(i) pointtype shape(i) pointsize 1.8 notitle, \
         for [i=1:nlines] datafile index (i-1) using 1:($2/yscale) with linespoints \
             linecolor rgb col(i) linewidth 1.5 pointtype shape(i) pointsize 1.8 title columnheader(1)
} else {
    plot for [i=1:nlines] datafile index (i-1) using 1:($2/yscale):($3/yscale):($4/yscale) \
             with yerrorbars linecolor rgb col(i) pointtype shape(i) pointsize 1.8 notitle, \
         for [i=1:nlines] datafile index (i-1) using 1:($2/yscale) with linespoints \
             linecolor rgb col(i) linewidth 1.5 pointtype shape(i) pointsize 1.8 notitle, \
         for [i=nlines+1:nlines+nkeyv] datafile index (i-1) using 1:2 with lines \
             linecolor rgb col(i) linewidth 1.5 title columnheader(1), \
         for [i=nlines+nkeyv+1:nlines+nkeyv+nkeyp] datafile index (i-1) using 1:2 with points \
             linecolor rgb '#505050' pointtype shape(i) pointsize 1.8 title columnheader(1)
}
set output
