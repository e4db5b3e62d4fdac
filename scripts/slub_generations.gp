# slub_generations.gp — slub suite: the primary metric per op of each case (and param) at 1 thread,
# cpu-slab (6.6) and sheaves (7.0) side by side, like with like: pinned beside pinned, cpu-slab's
# per-CPU-op stand-in (rseq, else cmpxchg) beside sheaves. Whiskers from the fastest to the slowest
# repetition.
#
# hotpath sets (gnuplot -e): term outfile datafile title xlabel ylabel
#   nrow    rows in datafile (x = 0..nrow-1)
#   logy    1 for a log y axis (the medians span more than two decades)
#   ymin ymax  y range (the whiskers with a margin; ymin 0 on a linear axis)
# datafile columns: x case param, then for each bar (pinned cpu-slab, pinned sheaves, cpu-slab,
#   sheaves) its x position, median, min, max (NaN: that variant did not run), then the cpu-slab
#   variants of the two pairs. The bars present are centred on x, each 0.2 wide.

# Okabe-Ito: blues for cpu-slab, oranges for sheaves; the pinned pair in the lighter tone.
colors = '#56B4E9 #E69F00 #0072B2 #D55E00'
col(i) = word(colors, i)
name(i) = i == 1 ? 'cpu-slab pinned' : i == 2 ? 'sheaves pinned' : \
          i == 3 ? 'cpu-slab rseq (*cmpxchg)' : 'sheaves'
# case/param, starred where cpu-slab's per-CPU-op bar is its cmpxchg stand-in (no rseq variant)
ticklabel(c, p) = (strcol(p) eq '' ? strcol(c) : strcol(c) . '/' . strcol(p)) . \
                  (strcol(21) eq 'impl-cmpxchg' ? '*' : '')

# One column of a paper (3.5 in) at 300 px per inch, as bars.gp.
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

set xlabel xlabel
set ylabel ylabel
set border 3
set xtics nomirror scale 0 rotate by 35 right
set ytics nomirror
set grid ytics linecolor rgb '#d8d8d8'
set xrange [-0.6:nrow - 0.4]
if (logy) { set logscale y; set format y '%.0s%c'; set yrange [ymin:ymax] } else { set yrange [0:ymax] }
set boxwidth 0.2 absolute
set style fill solid 0.9 border linecolor rgb '#202020'
set errorbars 0.6
set pointintervalbox 1e-6
set rmargin 2
set key title title
# the key's font a little smaller than the axes' (6 pt in the PDF, 22 px in the PNG and SVG)
kfont = term eq 'pdfcairo' ? ',5' : ',18'
set key outside top center horizontal maxcols 2 samplen 1.2 width 1 font kfont

plot datafile using 1:(NaN):xtic(ticklabel(2, 3)) notitle, \
     for [i=1:4] datafile using (column(4 * i)):(column(4 * i + 1)) with boxes linecolor rgb col(i) \
         title name(i), \
     for [i=1:4] datafile using (column(4 * i)):(column(4 * i + 1)):(column(4 * i + 2)):(column(4 * i + 3)) \
         with yerrorbars pointsize 0 linecolor rgb '#000000' notitle
set output
