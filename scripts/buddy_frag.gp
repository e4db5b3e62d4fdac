# buddy_frag.gp — buddy suite: the zone's fragmentation over the seeded trace (impl only).
#
# hotpath sets (gnuplot -e): term outfile datafile title
# datafile columns: sample position(0..1) unusable_o3 unusable_o6 unusable_o9
#   unusable_o10 extfrag_o3 extfrag_o6 extfrag_o9 extfrag_o10 free_fraction
#   (indices in 0..1; an extfrag of NaN means a block of that order was free,
#   the kernel's -1.000)

palette = '#0072B2 #D55E00 #009E73 #E69F00'
col(i) = word(palette, i)

if (term eq 'pdfcairo') {
    set terminal pdfcairo size 3.5in,2.6in font 'Sans,6' fontscale 1 linewidth 1.4 pointscale 0.3 noenhanced
} else {
    if (term eq 'pngcairo') {
        set terminal pngcairo size 1050,780 font 'Sans,22' linewidth 3 noenhanced
    } else {
        set terminal svg size 1050,780 font 'sans-serif,22' linewidth 3 background '#ffffff' noenhanced
    }
}
set output outfile

set xlabel 'position in the trace (fraction of its allocation phase)'
set ylabel 'index (0 = none, 1 = all)'
set border 3
set xtics nomirror
set ytics nomirror
set grid xtics ytics linecolor rgb '#d8d8d8'
set xrange [0:1]
set yrange [0:1.05]
set datafile missing 'NaN'
set key outside top center horizontal samplen 2 maxrows 3 title title

plot for [i=1:4] datafile using 2:(column(i + 2)) with linespoints linecolor rgb col(i) \
         pointtype 7 pointsize 1.2 title sprintf('unusable o%s', word('3 6 9 10', i)), \
     for [i=3:4] datafile using 2:(column(i + 6)) with points linecolor rgb col(i) \
         pointtype 5 pointsize 2 title sprintf('extfrag o%s', word('3 6 9 10', i)), \
     datafile using 2:11 with lines linecolor rgb '#999999' dashtype 2 title 'free / total'
set output
