# sched_fidelity.gp — sched suite, one scenario: its focus task's wake-up
# latency quantiles measured under the running kernel (rt-app; median over
# the runs, bars from the fastest to the slowest run) beside each model's
# prediction from `hotpath sim` (median over seeds, bars the 95% interval).
#
# hotpath sets (gnuplot -e): term outfile datafile title models
# datafile rows: x quantile meas meas_min meas_max, then median lo hi per model

if (term eq 'pdfcairo') {
    set terminal pdfcairo size 4.5in,3.0in font 'Sans,6' fontscale 1 linewidth 1.4 pointscale 0.4 noenhanced
} else {
    if (term eq 'pngcairo') {
        set terminal pngcairo size 1350,900 font 'Sans,20' linewidth 3 noenhanced
    } else {
        set terminal svg size 1350,900 font 'sans-serif,20' linewidth 3 background '#ffffff' noenhanced
    }
}
set output outfile

set title title
set xlabel 'wake-up latency quantile of the focus task'
set ylabel 'latency (ms)'
set border 3
set xtics nomirror
set ytics nomirror
set grid ytics linecolor rgb '#d8d8d8'
set xrange [-0.5:5.5]
set yrange [0:*]
set key inside top left samplen 2 box opaque

array col[4] = ['#D55E00', '#0072B2', '#009E73', '#CC79A7']
plot datafile using 1:3:4:5:xticlabels(2) with yerrorlines linecolor rgb '#000000' pointtype 7 pointsize 1.4 title 'measured (this kernel)', \
     for [m=1:4] datafile using ($1 - 0.3 + 0.12 * m):(column(3 + 3 * m)):(column(4 + 3 * m)):(column(5 + 3 * m)) \
         with yerrorbars linecolor rgb col[m] pointtype 4 + 2 * m pointsize 1.2 title word(models, m)
set output
