# bench/gallery.gp - bench/gallery's median curves: the slider against the best galleries, per
# latent dimension n, the median gap to the optimum against iterations (choices, left) and
# against generator points (right). Run from the repository root, e.g.
#   gnuplot -e "datafile='docs/bench/gallery-paper-true.dat'; outfile='docs/bench/gallery-paper-true.png'; \
#               dims='8 32 128 512'; subtitle='the paper's policy, true Jacobian'" bench/gallery.gp
# datafile: bench/gallery --curves output, one block per n (in the order of dims), each with a
# header line naming its columns (iter, NAME:gap, NAME:points); several runs' files may be
# concatenated with two blank lines between them. The methods plotted must be in every block.
if (!exists("datafile")) datafile = 'docs/bench/gallery-paper-true.dat'
if (!exists("outfile")) outfile = 'docs/bench/gallery-paper-true.png'
if (!exists("dims")) dims = '8 32 128 512'
if (!exists("subtitle")) subtitle = ''
if (!exists("methods")) methods = 'slider 3x3r1 5x5r1 5x5r2 7x7r1 9x9r1'

labels = 'slider 3x3r1 5x5r1 5x5r2 7x7r1 9x9r1'
colors = '#000000 #1f77b4 #2ca02c #ff7f0e #d62728 #9467bd'
label(m) = (m eq 'slider') ? 'slider (65 points + refine 2)' : \
           sprintf('%s gallery%s', m[1:3], strlen(m) > 3 ? ' + refine '.m[5:5] : '')
color(m) = word(colors, (m eq 'slider') ? 1 : (m eq '3x3r1') ? 2 : (m eq '5x5r1') ? 3 : \
                        (m eq '5x5r2') ? 4 : (m eq '7x7r1') ? 5 : 6)
width(m) = (m eq 'slider') ? 3 : 1.5

npanels = words(dims)
set datafile columnheaders
set terminal pngcairo size 1200, 420 * npanels font ",10"
set output outfile
set multiplot layout npanels, 2 title sprintf("libdss: slider against 2-D galleries, the paper's synthetic problem (m = 1024, gamma = 2) - %s", subtitle)
set logscale y
set format y "10^{%L}"
set yrange [1e-10:1e6]
set grid
set key below horizontal maxrows 2 font ",8" samplen 2
set ylabel "median gap to optimum"
do for [i = 1:npanels] {
    set autoscale x
    set title sprintf("n = %s: against iterations (choices)", word(dims, i))
    unset logscale x
    set format x "%g"
    plot for [m in methods] datafile index (i - 1) using 1:m.':gap' with lines \
         lw width(m) lc rgb color(m) title label(m)
    stats datafile index (i - 1) using 'slider:points' nooutput
    set xrange [0:2.5 * STATS_max] # the galleries within the issue's budget (2x) and a bit more
    set title sprintf("n = %s: against generator points (mean over cases, cumulative)", word(dims, i))
    plot for [m in methods] datafile index (i - 1) using m.':points':m.':gap' with lines \
         lw width(m) lc rgb color(m) title label(m)
}
unset multiplot
