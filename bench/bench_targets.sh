#!/bin/bash
# bench/bench_targets.sh — every speed target of issue 17 in one run, as interleaved pairs,
# with the verdict table (Markdown) and a chart of measured / target. Part of `make bench`.
#
# usage: bash bench/bench_targets.sh [--pairs N]        (default 7 pairs per target, at least 5)
#
# Each target is an interleaved comparison (A B A B ...) of bench/bench_full.sh --compare or
# bench/bench_hdfs_read.sh --pairs; the ratio of a pair is the one the target names (peer time /
# csvavro time, or -j1 / -j2, or local / hdfs://), and the verdict uses the median of the pairs.
# The wide-table target comes from bench_full.sh's own cases (median of BENCH_RUNS runs).
# Writes $BENCH_TARGETS_OUT (default bench/out/targets): targets.tsv, targets.md, the raw logs,
# and the chart $BENCH_TARGETS_PNG (default bench/targets.png; gnuplot, skipped without it).
# Environment: CSVAVRO_BUILD as for bench_full.sh; BENCH_TARGETS_WIDE=0 leaves out the wide
# table (it generates a 1 GB file the first time); BENCH_TARGETS_HDFS=0 leaves out hdfs://;
# BENCH_TARGETS_BIG=0 leaves out the peak-RSS check at 1 GB and 4 GB (-j2, full job; the 4 GB
# file is generated the first time, and the 4 GB output is written and removed).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
PAIRS=7
while (($#)); do
    case $1 in
    --pairs) PAIRS=${2:?} && shift 2 ;;
    -h | --help)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) echo "bench_targets: unknown argument $1" >&2 && exit 2 ;;
    esac
done
((PAIRS >= 5)) || { echo "bench_targets: --pairs must be at least 5" >&2; exit 2; }
OUT=${BENCH_TARGETS_OUT:-$BENCH/out/targets}
PNG=${BENCH_TARGETS_PNG:-$BENCH/targets.png}
BUILD=${CSVAVRO_BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
mkdir -p "$OUT" || exit 1
TSV=$OUT/targets.tsv
printf 'id\ttarget\tgoal\tmedian wall ratio\tmedian CPU ratio\tpairs (wall)\tload before\tload after\n' >"$TSV"
say() { printf '[bench-targets %s] %s\n' "$(date +%T)" "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
FAILED=0

# full ID "TARGET TEXT" GOAL -- bench_full.sh arguments: one --compare run, its per-pair ratios
# and medians; INVERT=1 when the target is A/B (the speed-up of -j2) rather than B/A
full() {
    local id=$1 text=$2 goal=$3 invert=$4 log=$OUT/$1.log l0 pairs wall cpu
    shift 5
    l0=$(load)
    say "$id: bench_full.sh $*"
    if ! BENCH_FULL_RESULTS=$OUT/full-unused.md bash "$BENCH/bench_full.sh" "$@" --pairs "$PAIRS" >"$log" 2>&1; then
        say "$id FAILED (see $log)"
        FAILED=1
        printf '%s\t%s\t%s\tFAILED\t-\t-\t%s\t%s\n' "$id" "$text" "$goal" "$l0" "$(load)" >>"$TSV"
        return
    fi
    # the per-pair lines: pair, A wall, B wall, B/A, A CPU, B CPU, B/A CPU
    pairs=$(awk -F'\t' -v inv="$invert" '$1 ~ /^[0-9]+$/ { r = inv ? ($4 > 0 ? 1 / $4 : 0) : $4; printf "%s%.2f", n++ ? " " : "", r }' "$log")
    wall=$(awk -F'\t' -v inv="$invert" '$1 ~ /^[0-9]+$/ { print inv ? ($4 > 0 ? 1 / $4 : 0) : $4 }' "$log" | sort -g |
        awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    cpu=$(awk -F'\t' -v inv="$invert" '$1 ~ /^[0-9]+$/ { print inv ? ($7 > 0 ? 1 / $7 : 0) : $7 }' "$log" | sort -g |
        awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$text" "$goal" "$wall" "$cpu" "$pairs" "$l0" "$(load)" >>"$TSV"
}

full duckdb "full job, default codec, 1 thread: × DuckDB read_csv→Parquet" 3.5 0 -- --compare duckdb
full polars-read "full job, --codec null, 1 thread: × Polars readCSV→Avro" 3 0 -- --compare polars-read --codec null
full polars-scan "reference job, 1 thread: × Polars scanCSV→Avro" 4 0 -- --compare polars-scan --job ref
BENCH_FULL_BYTES=1000000000 full memchr "reference job, --codec null, 1 GB: fraction of memchr's speed" 0.5 0 -- \
    --compare memchr --job ref --codec null
full j2-null "full job, --codec null: -j2 speed-up over -j1" 1.8 1 -- --compare csvavro-null-j2 --codec null -j 1
full j2-snappy "full job, default codec (snappy): -j2 speed-up over -j1" 1.8 1 -- --compare csvavro-snappy-j2 -j 1

if [ "${BENCH_TARGETS_HDFS:-1}" != 0 ]; then
    l0=$(load)
    log=$OUT/hdfs.log
    say "hdfs: bench_hdfs_read.sh --pairs $PAIRS"
    if bash "$BENCH/bench_hdfs_read.sh" --pairs "$PAIRS" "$BUILD" 256 >"$log" 2>&1; then
        # the pair rows of the Markdown table: | n | ... | wall ratio | CPU ratio |
        pairs=$(awk -F'|' '$2 ~ /^ [0-9]+ $/ { gsub(/ /, "", $(NF-2)); printf "%s%s", n++ ? " " : "", $(NF-2) }' "$log")
        wall=$(awk -F'|' '$2 ~ /median/ { gsub(/[ *]/, "", $(NF-2)); print $(NF-2) }' "$log")
        cpu=$(awk -F'|' '$2 ~ /median/ { gsub(/[ *]/, "", $(NF-1)); print $(NF-1) }' "$log")
        printf 'hdfs\t%s\t0.7\t%s\t%s\t%s\t%s\t%s\n' "hdfs:// reference job, 1 thread: fraction of the local file's speed" \
            "$wall" "$cpu" "$pairs" "$l0" "$(load)" >>"$TSV"
    else
        say "hdfs FAILED (see $log)"
        FAILED=1
    fi
fi

if [ "${BENCH_TARGETS_WIDE:-1}" != 0 ]; then
    l0=$(load)
    log=$OUT/wide.log
    say "wide: bench_full.sh cases full-csvavro-j1 and wide-*"
    if BENCH_TOOLS='^(full-csvavro-j1|wide-csvavro-j[12]):' BENCH_FULL_RESULTS=$OUT/wide.md \
        bash "$BENCH/bench_full.sh" >"$log" 2>&1; then
        r=$(sed -n 's/.*wide table MB\/s \/ 14-column MB\/s at -j1: \([0-9.]*\)%.*/\1/p' "$OUT/wide.md")
        m=$(sed -n 's/.*wide table peak RSS at -j2: \([0-9.]*\) MiB.*/\1/p' "$OUT/wide.md")
        printf 'wide\t%s\t0.7\t%s\t-\t-\t%s\t%s\n' "wide table (300 columns, 1 GB), -j1: MB/s as a fraction of the 14-column file's" \
            "$(awk -v r="$r" 'BEGIN { printf "%.2f", r / 100 }')" "$l0" "$(load)" >>"$TSV"
        printf 'wide-rss\t%s\t128\t%s\t-\t-\t%s\t%s\n' "wide table, -j2: peak RSS MiB (at most)" "$m" "$l0" "$(load)" >>"$TSV"
    else
        say "wide FAILED (see $log)"
        FAILED=1
    fi
fi

if [ "${BENCH_TARGETS_BIG:-1}" != 0 ]; then
    # peak RSS at -j2, full job, default codec, 1 GB and 4 GB inputs: at most 128 MiB and flat
    l0=$(load)
    log=$OUT/rss.log
    say "rss: full job -j2 on 1 GB and 4 GB taxi files"
    : >"$log"
    rss=()
    for gb in 1 4; do
        f=$BENCH/data/taxi-${gb}000000000-s2013.csv
        if [ ! -s "$f" ]; then
            "$BUILD/gen_taxi" --bytes "${gb}000000000" --seed 2013 >"$f.tmp" && mv "$f.tmp" "$f" ||
                { say "rss: generating $f failed"; FAILED=1; break; }
        fi
        rm -f "$OUT/rss.avro"
        if /usr/bin/python3 "$BENCH/peers/timeit.py" "$OUT/rss.time" "$BUILD/csvavro" convert "$f" \
            "$OUT/rss.avro" -q -j 2 >>"$log" 2>&1 &&
            n=$(/usr/bin/python3 "$BENCH/peers/pyjob.py" blocks "$OUT/rss.avro") &&
            [ "$n" = "$(($(wc -l <"$f") - 1))" ]; then
            rss+=("$(awk '{ printf "%.0f", $4 / 1024 }' "$OUT/rss.time")")
            echo "$gb GB: $(cat "$OUT/rss.time") (wall user sys maxrss KiB), $n rows read back" >>"$log"
        else
            say "rss: the $gb GB run failed or wrote a wrong row count (see $log)"
            FAILED=1
        fi
        rm -f "$OUT/rss.avro"
    done
    if ((${#rss[@]} == 2)); then
        printf 'rss\t%s\t128\t%s\t-\t%s\t%s\t%s\n' "full job, -j2: peak RSS MiB at 4 GB (at most; 1 GB → 4 GB)" \
            "${rss[1]}" "${rss[0]} ${rss[1]}" "$l0" "$(load)" >>"$TSV"
    fi
fi

# ---------------------------------------------------------------- verdicts, Markdown, chart
awk -F'\t' 'NR > 1 && $4 != "FAILED" {
        met = ($1 ~ /rss/) ? ($4 <= $3) : ($4 >= $3)
        share = ($1 ~ /rss/) ? ($4 > 0 ? $3 / $4 : 0) : $4 / $3
        printf "%s\t%.3f\t%s\n", $1, share, met ? "met" : "not met" }' "$TSV" >"$OUT/verdicts.tsv"
{
    printf '## Issue 17 targets (bench/bench_targets.sh, %s, git %s, %s pairs per target)\n\n' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" "$PAIRS"
    printf '| target | goal | median (wall) | median (CPU) | pairs (wall) | load before → after | verdict |\n'
    printf '| --- | --- | --- | --- | --- | --- | --- |\n'
    awk -F'\t' 'FNR == NR { v[$1] = $3; next } FNR > 1 {
            goal = ($1 ~ /rss/) ? "≤ " $3 : "≥ " $3
            printf "| %s | %s | %s | %s | %s | %s → %s | %s |\n", $2, goal, $4, $5, $6, $7, $8, ($1 in v) ? v[$1] : "FAILED" }' \
        "$OUT/verdicts.tsv" "$TSV"
    printf '\nRatios: peer time / csvavro time (DuckDB, Polars); memchr time / csvavro time (memchr); -j1 time / -j2 time (its CPU column: -j1 CPU / -j2 CPU, below 1 when -j2 does extra work); local time / hdfs:// time (the test server pinned to its own CPU, see bench_hdfs_read.sh). Every csvavro output was read back (row counts; bench_full.sh also compares sampled values with python3-avro against the csv module).\n'
} >"$OUT/targets.md"
cat "$OUT/targets.md"

if command -v gnuplot >/dev/null; then
    awk -F'\t' 'FNR == NR { lab[$1] = $2; next } { printf "\"%s\"\t%s\n", $1, $2 }' "$TSV" "$OUT/verdicts.tsv" >"$OUT/chart.dat"
    gnuplot -e "datafile='$OUT/chart.dat'; outfile='$PNG'" "$BENCH/targets.gp" 2>"$OUT/gnuplot.err" ||
        say "gnuplot failed (see $OUT/gnuplot.err)"
else
    say "gnuplot not installed: no chart (apt-get install gnuplot-nox)"
fi
exit "$FAILED"
