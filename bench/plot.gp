# bench/plot.gp - plot of bench/paper's mean curves: gap to the optimum against iteration, one
# panel per latent dimension n. bench/paper runs it as
#   gnuplot -e "datafile='build/bench/paper-mean.dat'; outfile='docs/bench/paper.png'; \
#               dims='8 32 128 512'; subtitle='...'" bench/plot.gp
# datafile holds one block per n (blocks separated by two blank lines), columns: iteration, then
# the mean gap (0 - best score so far) of dss-authors, dss-true, random-gauss, random-positive,
# dss-authors-escape, dss-true-escape, dss-authors-adaptive, dss-true-adaptive (libdss 1.1).
if (!exists("datafile")) datafile = 'build/bench/paper-mean.dat'
if (!exists("outfile")) outfile = 'docs/bench/paper.png'
if (!exists("dims")) dims = '8 32 128 512'
if (!exists("subtitle")) subtitle = ''

npanels = words(dims)
cols = (npanels > 1) ? 2 : 1
rows = (npanels + cols - 1) / cols

set terminal pngcairo size 600 * cols, 450 * rows font ",10"
set output outfile
set multiplot layout rows, cols title sprintf("libdss: the paper's synthetic benchmark (m = 1024, gamma = 2) - %s", subtitle)
set logscale y
set format y "10^{%L}"
set grid
set key center right opaque box font ",9"
set xlabel "iteration"
set ylabel "gap to optimum (0 - best score), mean over cases"
do for [i = 1:npanels] {
    set title sprintf("n = %s", word(dims, i))
    plot datafile index (i - 1) using 1:2 with lines lw 2 lc rgb "#1f77b4" title "DSS, authors' Jacobian", \
         ''       index (i - 1) using 1:3 with lines lw 2 lc rgb "#2ca02c" title "DSS, true Jacobian", \
         ''       index (i - 1) using 1:4 with lines lw 2 lc rgb "#d62728" title "random (Gaussian)", \
         ''       index (i - 1) using 1:5 with lines lw 2 dt 2 lc rgb "#ff7f0e" title "random (positive, authors')", \
         ''       index (i - 1) using 1:6 with lines lw 2 dt 3 lc rgb "#1f77b4" title "escape, authors' Jacobian", \
         ''       index (i - 1) using 1:7 with lines lw 2 dt 3 lc rgb "#2ca02c" title "escape, true Jacobian", \
         ''       index (i - 1) using 1:8 with lines lw 1 dt 4 lc rgb "#9467bd" title "adaptive, authors' Jacobian", \
         ''       index (i - 1) using 1:9 with lines lw 1 dt 4 lc rgb "#8c564b" title "adaptive, true Jacobian"
}
unset multiplot
