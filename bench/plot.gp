# The scaling chart of docs/performance.md from bench/run.sh's CSV.
#
#   gnuplot -e "csv='docs/performance.csv'; out='docs/performance.png'" bench/plot.gp
#
# Three panels over the service count (10 endpoints each), log-log: wall
# seconds and CPU seconds (user + system, less sensitive to other load on
# the machine) of a fresh load of the whole table (svcnft apply through its
# netlink batch, the same apply through libnftables, nft -f of the compiled
# text) and of compile alone, then their peak RSS.  Rows of the default
# cluster only (not BENCH_MIX's "mix" rows).  Needs gnuplot (Debian:
# gnuplot-nox).
if (!exists("csv")) csv = 'docs/performance.csv'
if (!exists("out")) out = 'docs/performance.png'

set terminal pngcairo size 1500,540 font 'DejaVu Sans,11' noenhanced
set output out
set datafile separator comma
set datafile columnheaders
set logscale xy
set grid xtics ytics mxtics mytics lc rgb '#e0e0e0'
set key top left box opaque
set xlabel 'services (x 10 endpoints)'
set format x '%.0s%c'
set xtics (1000, 3000, 10000, 30000)
set xrange [700:45000]
set style data linespoints
# the default cluster's rows (header kept for the column names)
data = sprintf("< awk -F, 'NR == 1 || $2 == \"default\"' '%s'", csv)

# the load the runs shared the machine with, for the title
stats data using 'load1' nooutput
set multiplot layout 1,3 title sprintf('svcnft: loading the whole table into a fresh network namespace (medians; 1-minute load average %.1f-%.1f at the start of each size)', STATS_min, STATS_max)
set ylabel 'wall seconds'
plot data using 'services':'libnftables_s' title 'apply via libnftables' lw 2 pt 5, \
     ''   using 'services':'nft_f_s' title 'nft -f of the compiled text' lw 2 pt 9, \
     ''   using 'services':'apply_s' title 'svcnft apply (netlink batch)' lw 3 pt 7, \
     ''   using 'services':'compile_s' title 'svcnft compile (no kernel)' lw 1 dt 2 pt 6

set ylabel 'CPU seconds (user + system)'
plot data using 'services':'libnftables_cpu_s' title 'apply via libnftables' lw 2 pt 5, \
     ''   using 'services':'nft_f_cpu_s' title 'nft -f' lw 2 pt 9, \
     ''   using 'services':'apply_cpu_s' title 'svcnft apply (netlink batch)' lw 3 pt 7, \
     ''   using 'services':'compile_cpu_s' title 'svcnft compile' lw 1 dt 2 pt 6

set ylabel 'peak RSS (MB)'
plot data using 'services':'libnftables_rss_mb' title 'apply via libnftables' lw 2 pt 5, \
     ''   using 'services':'nft_f_rss_mb' title 'nft -f' lw 2 pt 9, \
     ''   using 'services':'apply_rss_mb' title 'svcnft apply (netlink batch)' lw 3 pt 7, \
     ''   using 'services':'compile_rss_mb' title 'svcnft compile' lw 1 dt 2 pt 6
unset multiplot
