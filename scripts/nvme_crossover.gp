# nvme_crossover.gp — nvme suite: the FAST'12 crossover, poll vs interrupt vs hybrid.
#
# hotpath sets (gnuplot -e): term outfile datafile title even tmin tmax
#   even: the break-even device time in us (0 = none in the swept range)
# datafile columns: device_us poll_lat_us irq_lat_us hybrid_lat_us
#   poll_cpu_us irq_cpu_us hybrid_cpu_us hybrid_overslept_us (medians)

palette = '#0072B2 #D55E00 #009E73'
col(i) = word(palette, i)
names = 'impl-poll impl-irq impl-hybrid'

if (term eq 'pdfcairo') {
    set terminal pdfcairo size 6in,2.8in font 'Sans,6' fontscale 1 linewidth 1.4 pointscale 0.3 noenhanced
} else {
    if (term eq 'pngcairo') {
        set terminal pngcairo size 1800,840 font 'Sans,20' linewidth 3 noenhanced
    } else {
        set terminal svg size 1800,840 font 'sans-serif,20' linewidth 3 background '#ffffff' noenhanced
    }
}
set output outfile
set datafile missing 'NaN'
set logscale xy
set xrange [tmin / 1.3 : tmax * 1.3]
set border 3
set xtics nomirror
set ytics nomirror
set grid xtics ytics linecolor rgb '#d8d8d8'
set xlabel 'device service time (us)'
set multiplot layout 1,2 title title
if (even > 0) {
    set arrow 1 from even, graph 0 to even, graph 1 nohead dashtype 2 linecolor rgb '#555555'
    set label 1 sprintf('break-even %.1f us', even) at even, graph 0.95 offset 0.5,0 left
}
set ylabel 'latency per read (us)'
set key top left
plot for [i=1:3] datafile using 1:(column(i + 1)) with linespoints linecolor rgb col(i) \
         pointtype 7 pointsize 1.2 title word(names, i), \
     datafile using 1:1 with lines linecolor rgb '#999999' dashtype 3 title 'device time', \
     datafile using 1:($8 > 0 ? $4 : NaN):(sprintf('+%.0f', $8)) with labels offset 0,1 \
         textcolor rgb col(3) notitle
set ylabel 'host CPU per read (us)'
plot for [i=1:3] datafile using 1:(column(i + 4)) with linespoints linecolor rgb col(i) \
         pointtype 7 pointsize 1.2 title word(names, i)
unset multiplot
set output
