# sched_fidelity.gp — sched suite: each task's CPU share measured under the
# running kernel (rt-app) against the share `hotpath sim` predicts, with the
# line of agreement and a band of +-3 percentage points around it.
#
# hotpath sets (gnuplot -e): term outfile datafile title
# datafile rows: predicted measured diff_pp "scenario/task"

if (term eq 'pdfcairo') {
    set terminal pdfcairo size 3.5in,3.2in font 'Sans,6' fontscale 1 linewidth 1.4 pointscale 0.3 noenhanced
} else {
    if (term eq 'pngcairo') {
        set terminal pngcairo size 1050,960 font 'Sans,22' linewidth 3 noenhanced
    } else {
        set terminal svg size 1050,960 font 'sans-serif,22' linewidth 3 background '#ffffff' noenhanced
    }
}
set output outfile

stats datafile using 1:2 nooutput
top = (STATS_max_x > STATS_max_y ? STATS_max_x : STATS_max_y) * 1.12
if (top > 1) { top = 1.05 }

set title title
set xlabel 'predicted share of the CPU (hotpath sim)'
set ylabel 'measured share of the CPU (rt-app, this kernel)'
set border 3
set xtics nomirror
set ytics nomirror
set grid xtics ytics linecolor rgb '#d8d8d8'
set size ratio -1
set xrange [0:top]
set yrange [0:top]
set key inside top left samplen 2 box opaque

plot x + 0.03 with lines dashtype 2 linecolor rgb '#999999' title '+-3 points', \
     x - 0.03 with lines dashtype 2 linecolor rgb '#999999' notitle, \
     x with lines linecolor rgb '#000000' title 'measured = predicted', \
     datafile using 1:2 with points pointtype 7 pointsize 1.6 linecolor rgb '#0072B2' notitle, \
     datafile using 1:2:4 with labels offset char 0.6,-0.6 left font ',14' textcolor rgb '#404040' notitle
set output
