# targets.gp — bench/targets.png: each issue-17 target's measured median as a share of its goal
# (1.0 = exactly at the goal; for the peak-RSS target, goal / measured). Called by
# bench/bench_targets.sh: gnuplot -e "datafile='…/chart.dat'; outfile='…/targets.png'" targets.gp
# chart.dat: "target id" <TAB> measured / goal.
if (!exists("datafile")) datafile = 'bench/out/targets/chart.dat'
if (!exists("outfile")) outfile = 'bench/targets.png'
set terminal pngcairo size 1000,520 font "sans,10" noenhanced
set output outfile
set title "Issue 17 targets: measured median / goal (interleaved pairs; 1.0 = at the goal, higher is better)"
set datafile separator "\t"
set style fill solid 0.85 border -1
set boxwidth 0.6
set yrange [0:2.2]
set label "bars above 2.2 are cut; the number is the value" at graph 0.01, graph 0.96 font ",8"
set grid ytics
set xtics rotate by -20 left nomirror
set ylabel "measured / goal"
set bmargin 5
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#c0392b" lw 2 dt 2
plot datafile using 0:($2 > 2.2 ? 2.2 : $2):($2 >= 1 ? 0x2f6db5 : 0xe08a1e):xtic(1) with boxes lc rgb variable notitle, \
     '' using 0:($2 > 2.1 ? 2.1 : $2):(sprintf("%.2f", $2)) with labels offset 0,0.7 font ",9" notitle
