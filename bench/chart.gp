# chart.gp — bench/results.png: MB/s of the reference job per tool, at 1 and 2 threads.
# Called by bench/run.sh: gnuplot -e "datafile='…/chart.dat'; outfile='…/results.png'" chart.gp
# chart.dat (written by bench/report.py): "label" MB/s-1-thread MB/s-2-threads, "-" = not run.
if (!exists("datafile")) datafile = 'bench/out/chart.dat'
if (!exists("outfile")) outfile = 'bench/results.png'
set terminal pngcairo size 1100,560 font "sans,10" noenhanced
set output outfile
set title "Reference job (filter + select to Avro/Parquet), file in page cache: MB/s of input (higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set datafile missing "-"
set datafile separator "\t"
set ylabel "MB/s"
set logscale y
set yrange [1:*]
set grid ytics
set xtics rotate by -25 left nomirror
set key top right
set bmargin 6
plot datafile using 2:xtic(1) title "1 thread" lc rgb "#2f6db5", \
     '' using 3 title "2 threads" lc rgb "#e08a1e", \
     '' using 0:($2):(sprintf("%.0f", $2)) with labels offset -1.2,0.6 font ",8" notitle, \
     '' using 0:($3):(sprintf("%.0f", $3)) with labels offset 1.2,0.6 font ",8" notitle
