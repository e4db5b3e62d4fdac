# rcu_update.gp — rcu suite: read_mostly's operations per second (all threads) against each thread's update fraction, one line per variant.
#
# hotpath sets (gnuplot -e): term outfile datafile title
#   nvar    variant blocks in datafile (0..nvar-1), the variant's name heading each
#   colors  palette index of each block (the variant's place in the suite's run order)
#   logy    1 for a log y axis (the medians span more than 30x)
#   ymin ymax  y range in millions of ops/s (the whiskers with a margin)
# datafile blocks: x_index fraction ops_s_median ops_s_min ops_s_max
#   (x is categorical: the sweep's fractions, evenly spaced, 0% included)

# The palette of bars.gp and threads.gp, so a variant keeps its colour.
palette = '#0072B2 #D55E00 #009E73 #E69F00 #CC79A7 #56B4E9 #000000 #999999 #882255 #332288 #999933 #44AA99'
shapes = '7 5 9 11 13 15 7 5 9 11 13 15'
col(i) = word(palette, int(word(colors, i)) + 1)
shape(i) = int(word(shapes, (i - 1) % 12 + 1))

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

set xlabel 'updates (share of each thread''s operations)'
set ylabel 'million operations/s (all threads)'
set border 3
set xtics nomirror
set ytics nomirror
set grid xtics ytics linecolor rgb '#d8d8d8'
set offsets 0.3, 0.3, 0, 0
if (logy) { set logscale y; set format y '%g'; set yrange [ymin:ymax] } else { set yrange [0:ymax] }
set errorbars 0.5
set pointintervalbox 1e-6
set rmargin 2
set key outside top center horizontal samplen 2 maxrows 2 title title

plot for [i=1:nvar] datafile index (i-1) using 1:($3/1e6):($4/1e6):($5/1e6) with yerrorbars \
         linecolor rgb col(i) pointtype shape(i) pointsize 1.8 notitle, \
     for [i=1:nvar] datafile index (i-1) using 1:($3/1e6):xtic(2) with linespoints \
         linecolor rgb col(i) linewidth 1.5 pointtype shape(i) pointsize 1.8 title columnheader(1)
set output
