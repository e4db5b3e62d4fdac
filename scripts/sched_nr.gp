# sched_nr.gp — sched suite: cost per operation against nr_running (log x),
# one line per variant, whiskers from the fastest to the slowest repetition.
#
# hotpath sets (gnuplot -e): term outfile datafile title ylabel
#   nvar   variant blocks in datafile (0..nvar-1), the variant's name heading each
#   logy   1 for a log y axis (the medians span more than 30x)
# datafile blocks: nr_running median min max

# The palette of bars.gp and threads.gp, in the suite's variant order.
palette = '#0072B2 #D55E00 #009E73 #E69F00 #CC79A7 #56B4E9 #000000 #999999 #882255 #332288 #999933 #44AA99'
shapes = '7 5 9 11 13 15 7 5'
col(i) = word(palette, (i - 1) % 12 + 1)
shape(i) = int(word(shapes, (i - 1) % 8 + 1))

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

set xlabel 'nr_running (tasks on the run queue)'
set ylabel ylabel
set border 3
set logscale x 10
set format x '10^{%L}'
set format x '%.0f'
set xtics nomirror
set ytics nomirror
set mxtics 10
set grid xtics ytics linecolor rgb '#d8d8d8'
set xrange [0.6:170000]
if (logy) { set logscale y; set format y '%.0s%c' } else { set yrange [0:*] }
set errorbars 0.5
set pointintervalbox 1e-6
set rmargin 3
set key outside top center horizontal samplen 2 title title

plot for [i=1:nvar] datafile index (i-1) using 1:2:3:4 with yerrorbars \
         linecolor rgb col(i) pointtype shape(i) pointsize 1.8 notitle, \
     for [i=1:nvar] datafile index (i-1) using 1:2 with linespoints \
         linecolor rgb col(i) linewidth 1.5 pointtype shape(i) pointsize 1.8 title columnheader(1)
set output
