#!/usr/bin/env bash
# bench/bench_full.sh — the full conversion (issue 17): every column typed, no filter, csvavro
# next to its peers; the wide table; and interleaved A/B comparisons. Part of `make bench`.
#
#   bash bench/bench_full.sh                  all cases (below), Markdown to $BENCH_FULL_RESULTS
#   bash bench/bench_full.sh --compare PEER [--pairs N] [--job full|ref] [--codec C] [-j N]
#        interleaves csvavro with one peer (A B A B ..., N pairs, default 5, at least 5) on the
#        same file and prints each pair's ratios (peer wall / csvavro wall, and the same for
#        CPU time = user + system) and their medians.
#        PEER: polars-read, polars-scan, duckdb, pandas (on the slice), memchr, or csvavro-CODEC
#        (csvavro against itself with another codec), or csvavro-CODEC-jN (with N threads: -j2
#        against -j1 is `--compare csvavro-null-j2 --codec null -j 1`; its wall ratio is
#        -j2/-j1, the speed-up its inverse, and the CPU ratio shows any extra work of -j2).
#        --job ref runs the filtered reference job
#        of bench/run.sh instead of the full conversion (not for pandas).
#
# Cases of the full run (each output's row count read back and compared with `wc -l` - 1 of the
# input; csvavro's and pandas' outputs also decoded by python3-avro, their first BENCH_SAMPLE
# records compared value by value with the CSV as Python's csv module reads it):
#   full-csvavro-CODEC-j1   csvavro convert, every codec (null, deflate, snappy, zstandard,
#                           bzip2, xz on the slice only: they are slow), schema inferred (typed)
#   full-csvavro-j2         default codec, 2 threads
#   full-polars-read/scan   nodejs-polars readCSV(tryParseDates) / scanCSV(parseDates) -> writeAvro
#   full-duckdb             @duckdb/node-api read_csv -> COPY TO Parquet, threads=1
#   full-pandas             pandas.read_csv + python3-avro (deflate) on the slice
#   wide-csvavro-j1/-j2     the generated wide table (gen_wide.c: 300 mixed columns)
#
# Timing: bench/peers/timeit.py around each run (wall to the microsecond, CPU = user + system of
# the process and its threads and children from wait4, peak RSS), then an untimed `sync`, so
# that no run pays for the write-back of the one before it (csvavro fsyncs its output, the peers
# do not).
# Environment: CSVAVRO_BUILD (default build/), BENCH_FULL_BYTES (taxi file, default 2e8),
# BENCH_WIDE_BYTES (wide table, default 1e9), BENCH_FULL_SLICE_BYTES (pandas and slow codecs,
# default 2e7), BENCH_SEED (2013), BENCH_RUNS (3), BENCH_SAMPLE (records compared, 2000),
# BENCH_TOOLS (regex on case ids), BENCH_FULL_RESULTS (default bench/out/full.md).
# Smoke run: BENCH_FULL_BYTES=5000000 BENCH_WIDE_BYTES=5000000 BENCH_FULL_SLICE_BYTES=1000000
#            BENCH_RUNS=1 bash bench/bench_full.sh
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${CSVAVRO_BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BYTES=${BENCH_FULL_BYTES:-200000000}
WBYTES=${BENCH_WIDE_BYTES:-1000000000}
SBYTES=${BENCH_FULL_SLICE_BYTES:-20000000}
((SBYTES > BYTES)) && SBYTES=$BYTES
SEED=${BENCH_SEED:-2013}
RUNS=${BENCH_RUNS:-3}
SAMPLE=${BENCH_SAMPLE:-2000}
TOOLS=${BENCH_TOOLS:-.}
RESULTS=${BENCH_FULL_RESULTS:-$BENCH/out/full.md}
DATA=$BENCH/data
OUT=$BENCH/out/full
PY=/usr/bin/python3
PYJOB=$BENCH/peers/pyjob.py
WHERE='passenger_count > 3'
SELECT=pickup_datetime,passenger_count,trip_time_in_secs

say() { printf '[bench-full %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
    say "FATAL: $*"
    exit 1
}

COMPARE= PAIRS=5 JOBKIND=full CCODEC= CJ=1
while (($#)); do
    case $1 in
    --compare) COMPARE=${2:?--compare needs a peer} && shift 2 ;;
    --pairs) PAIRS=${2:?} && shift 2 ;;
    --job) JOBKIND=${2:?} && shift 2 ;;
    --codec) CCODEC=${2:?} && shift 2 ;;
    -j) CJ=${2:?} && shift 2 ;;
    -h | --help)
        sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
((PAIRS >= 5)) || die "--pairs must be at least 5"
case $JOBKIND in full | ref) ;; *) die "--job is full or ref" ;; esac

mkdir -p "$DATA" "$OUT" "$(dirname "$RESULTS")" || die "cannot create $DATA or $OUT"
"$PY" -c 'import avro' 2>/dev/null || die "python3-avro is needed (apt-get install python3-avro)"

# ---------------------------------------------------------------- build, tools, data
say "building csvavro in $BUILD"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$OUT/cmake.log" 2>&1 ||
        die "cmake configure failed (see $OUT/cmake.log)"
fi
cmake --build "$BUILD" -j "$(nproc)" --target csvavro gen_taxi >"$OUT/build.log" 2>&1 ||
    die "build of csvavro failed (see $OUT/build.log)"
CSVAVRO=$BUILD/csvavro
mkdir -p "$OUT/bin"
GENW=$OUT/bin/gen_wide
if [ ! -x "$GENW" ] || [ "$GENW" -ot "$BENCH/gen_wide.c" ] || [ "$GENW" -ot "$BENCH/gen_common.h" ]; then
    cc -O2 -Wall -Wextra -Werror -o "$GENW" "$BENCH/gen_wide.c" 2>"$OUT/gen_wide_cc.log" ||
        die "cannot compile gen_wide (see $OUT/gen_wide_cc.log)"
fi
MEMCHR=$BUILD/memchr_count
if [ ! -x "$MEMCHR" ]; then
    MEMCHR=$OUT/bin/memchr_count
    [ -x "$MEMCHR" ] || cc -O2 -o "$MEMCHR" "$BENCH/memchr_count.c" || die "cannot compile memchr_count"
fi

gen() { # gen taxi|wide BYTES -> path (cached with its line count)
    local f=$DATA/$1-$2-s$SEED.csv
    if [ ! -s "$f" ]; then
        say "generating $f"
        if [ "$1" = taxi ]; then
            "$BUILD/gen_taxi" --bytes "$2" --seed "$SEED" >"$f.tmp"
        else
            "$GENW" --bytes "$2" --seed "$SEED" >"$f.tmp"
        fi && mv "$f.tmp" "$f" || die "generating $f failed"
    fi
    if [ ! -s "$f.lines" ] || [ "$f.lines" -ot "$f" ]; then
        wc -l <"$f" >"$f.lines" || die "wc failed"
    fi
    printf '%s\n' "$f"
}

# npm peers: the same pinned install as bench/run.sh (bench/node_modules)
NODE_OK=0
if command -v node >/dev/null; then
    lock=$BENCH/peers/package-lock.json stamp=$BENCH/node_modules/.bench-lock.sha256
    want=$(sha256sum "$lock" | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing the npm peers into bench/node_modules (pinned lock)"
        rm -rf "$OUT/npm" && mkdir -p "$OUT/npm" && cp "$BENCH/peers/package.json" "$lock" "$OUT/npm/" &&
            (cd "$OUT/npm" && { npm ci --no-audit --no-fund --loglevel=error ||
                npm install --no-save --no-audit --no-fund --loglevel=error; }) >"$OUT/npm.log" 2>&1 &&
            rm -rf "$BENCH/node_modules" && mv "$OUT/npm/node_modules" "$BENCH/node_modules" &&
            printf '%s\n' "$want" >"$stamp" || say "npm install failed (see $OUT/npm.log)"
    fi
    [ -f "$stamp" ] && NODE_OK=1
fi

# ---------------------------------------------------------------- one timed, checked run
count_avro() { "$PY" "$PYJOB" blocks "$1"; }
count_parquet() { (cd "$BENCH/peers" && node duckdb_job.js count "$1"); }
count_lines() { tr -d ' \n' <"$1"; }

# cmd_for ID INPUT DIR -> sets CMD (array), COUNTER, OUTF, EXP_KIND for a case id
cmd_for() {
    local id=$1 in=$2 d=$3 codec j
    OUTF=$d/out.avro COUNTER=count_avro
    case $id in
    memchr)
        CMD=("$MEMCHR" "$in") COUNTER=count_lines OUTF=$d.stdout
        ;;
    csvavro-*)
        codec=${id#csvavro-}
        codec=${codec%-j*}
        j=${id##*-j}
        CMD=("$CSVAVRO" convert "$in" "$OUTF" -q -j "$j")
        [ "$codec" != default ] && CMD+=(--codec "$codec")
        [ "$JOBKIND" = ref ] && CMD+=(--where "$WHERE" --select "$SELECT")
        ;;
    polars-read | polars-scan)
        local mode=${id#polars-}
        [ "$JOBKIND" = full ] && mode=full-$mode
        CMD=(env POLARS_MAX_THREADS="$CJ" node "$BENCH/peers/polars_job.js" "$mode" "$in" "$OUTF")
        ;;
    duckdb)
        OUTF=$d/out.parquet COUNTER=count_parquet
        local m=job
        [ "$JOBKIND" = full ] && m=full
        CMD=(node "$BENCH/peers/duckdb_job.js" "$m" "$CJ" "$in" "$OUTF")
        ;;
    pandas)
        local m=pandas
        [ "$JOBKIND" = full ] && m=pandas-full
        CMD=("$PY" "$PYJOB" "$m" "$in" "$OUTF")
        ;;
    *) die "unknown case $id" ;;
    esac
}

# run_once ID INPUT EXPECTED -> prints "wall cpu rss_kib"; fails with the reason on stderr
run_once() {
    local id=$1 in=$2 expected=$3 d=$OUT/case/$1 rows
    rm -rf "$d" && mkdir -p "$d"
    cmd_for "$id" "$in" "$d"
    if ! "$PY" "$BENCH/peers/timeit.py" "$d.time" "${CMD[@]}" >"$d.stdout" 2>"$d.stderr"; then
        echo "$id failed: $(head -c 300 "$d.stderr")" >&2
        return 1
    fi
    # untimed: the outputs of tools that do not fsync (Polars, DuckDB, memchr's none) would
    # otherwise be written back while the next run (of the other tool) is timed
    sync
    if ! rows=$($COUNTER "$OUTF" 2>"$d.count.err"); then
        echo "$id: reading its output back failed: $(head -c 300 "$d.count.err")" >&2
        return 1
    fi
    if [ "$rows" != "$expected" ]; then
        echo "$id: wrote $rows rows, expected $expected" >&2
        return 1
    fi
    awk '{ printf "%.3f %.3f %s\n", $1, $2 + $3, $4 }' "$d.time" | tail -1
}

check_values() { # check_values ID INPUT: python3-avro vs the csv module on the first records
    local d=$OUT/case/$1
    "$PY" "$PYJOB" sample "$2" "$d/out.avro" "$SAMPLE" 2>"$d.sample.err" ||
        { echo "values differ: $(grep -v -e IgnoredLogicalType -e warnings.warn "$d.sample.err" | tr '\n|' '  ' | head -c 300)"; return 1; }
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

MAIN=$(gen taxi "$BYTES") || exit 1
MAIN_ROWS=$(($(cat "$MAIN.lines") - 1))
SLICE=$(gen taxi "$SBYTES") || exit 1
SLICE_ROWS=$(($(cat "$SLICE.lines") - 1))

# ---------------------------------------------------------------- --compare
if [ -n "$COMPARE" ]; then
    codec=${CCODEC:-}
    in=$MAIN rows=$MAIN_ROWS
    [ "$COMPARE" = pandas ] && in=$SLICE rows=$SLICE_ROWS
    if [ -z "$codec" ]; then
        case $COMPARE in polars-*) codec=null ;; *) codec=default ;; esac
    fi
    A=csvavro-$codec-j$CJ B=$COMPARE
    case $B in csvavro-*-j[0-9]*) ;; csvavro-*) B=$B-j$CJ ;; esac
    case $B in polars-* | duckdb) ((NODE_OK)) || die "npm peers not installed" ;; esac
    if [ "$JOBKIND" = ref ]; then
        [ "$B" = pandas ] && die "--job ref is not wired for pandas here (bench/run.sh has it)"
        rows=$("$PY" "$PYJOB" expected "$in") || die "expected count failed"
    fi
    [ "$B" = memchr ] && brows=$(cat "$in.lines") || brows=$rows
    cat "$in" >/dev/null
    say "interleaving $A and $B on $(basename "$in") ($JOBKIND job), $PAIRS pairs; load $(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'pair\t%s wall s\t%s wall s\tratio (B/A)\tCPU s A\tCPU s B\tCPU ratio (B/A)\n' "$A" "$B"
    : >"$OUT/ratios"
    : >"$OUT/cpu_ratios"
    for ((p = 1; p <= PAIRS; p++)); do
        ra=$(run_once "$A" "$in" "$rows") || die "csvavro failed"
        rb=$(run_once "$B" "$in" "$brows") || die "peer failed"
        read -r wa ca _ <<<"$ra"
        read -r wb cb _ <<<"$rb"
        ratio=$(awk -v a="$wa" -v b="$wb" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "inf" }')
        cratio=$(awk -v a="$ca" -v b="$cb" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "inf" }')
        echo "$ratio" >>"$OUT/ratios"
        echo "$cratio" >>"$OUT/cpu_ratios"
        printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$wa" "$wb" "$ratio" "$ca" "$cb" "$cratio"
    done
    # wall time is what a user waits for; on a loaded machine it mostly measures the queue for
    # the CPU, so the CPU time (user + system) ratio is printed next to it
    printf 'median ratio %s / %s: %s wall, %s CPU  (load at end %s)\n' "$B" "$A" \
        "$(median <"$OUT/ratios")" "$(median <"$OUT/cpu_ratios")" "$(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ $B == csvavro-*-j* && ${B%-j*} == "${A%-j*}" && $B != "$A" ]]; then
        printf 'speed-up %s over %s: %s (median of the per-pair wall ratios A/B)\n' "$B" "$A" \
            "$(awk '{ if ($1 > 0) print 1 / $1 }' "$OUT/ratios" | median | xargs printf '%.2f')"
    fi
    if [[ $A == csvavro-* ]] && [ "$JOBKIND" = full ]; then
        v=$(check_values "$A" "$in") || die "$v"
        say "values: $v compared, all equal (python3-avro vs csv module)"
    fi
    exit 0
fi

# ---------------------------------------------------------------- full run
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
TSV=$OUT/results.tsv
: >"$TSV"
FAILED=0
case_() { # case_ ID LABEL INPUT EXPECTED CHECK(0/1) [TARGET-ID-PREFIX]
    local id=$1 label=$2 in=$3 exp=$4 check=$5 r w=() c=() m=() note=ok size
    [[ $id =~ $TOOLS ]] || return 0
    size=$(stat -c %s "$in")
    cat "$in" >/dev/null
    say "case $id ($RUNS runs)"
    for ((k = 1; k <= RUNS; k++)); do
        if ! r=$(run_once "${id#*:}" "$in" "$exp" 2>"$OUT/err"); then
            note="FAILED: $(tr '\n|' '  ' <"$OUT/err")"
            break
        fi
        read -r a b cc <<<"$r"
        w+=("$a") c+=("$b") m+=("$cc")
    done
    if [ "$note" = ok ] && ((check)) && [[ $id == *-xz-* ]]; then
        note="ok (python3-avro has no xz codec: row count only)"
    elif [ "$note" = ok ] && ((check)); then
        if v=$(check_values "${id#*:}" "$in"); then note="$v values equal"; else note=$v; fi
    fi
    case $note in FAILED* | values*) [[ $id == *csvavro* ]] && FAILED=1 ;; esac
    local mw mc mm
    mw=$(printf '%s\n' "${w[@]:-}" | median) mc=$(printf '%s\n' "${c[@]:-}" | median)
    mm=$(printf '%s\n' "${m[@]:-}" | median)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${id%%:*}" "$label" "$size" "$exp" "$mw" "$mc" "$mm" "$note" >>"$TSV"
    case $note in FAILED* | values*) say "case $id: $note" ;; esac
}
case_ memchr "memchr newline count (ceiling)" "$MAIN" "$(cat "$MAIN.lines")" 0
for codec in null deflate snappy zstandard; do
    case_ "full-csvavro-$codec-j1:csvavro-$codec-j1" "csvavro --codec $codec -j1" "$MAIN" "$MAIN_ROWS" 1
done
case_ "full-csvavro-j1:csvavro-default-j1" "csvavro (default codec) -j1" "$MAIN" "$MAIN_ROWS" 1
case_ "full-csvavro-j2:csvavro-default-j2" "csvavro (default codec) -j2" "$MAIN" "$MAIN_ROWS" 1
for codec in bzip2 xz; do
    case_ "full-slice-csvavro-$codec-j1:csvavro-$codec-j1" "csvavro --codec $codec -j1 (slice)" "$SLICE" "$SLICE_ROWS" 1
done
case_ "full-slice-csvavro-j1:csvavro-default-j1" "csvavro (default codec) -j1 (slice)" "$SLICE" "$SLICE_ROWS" 1
if ((NODE_OK)); then
    case_ "full-polars-read:polars-read" "Polars readCSV(tryParseDates) -> writeAvro, 1 thread" "$MAIN" "$MAIN_ROWS" 0
    case_ "full-polars-scan:polars-scan" "Polars scanCSV(parseDates) -> writeAvro, 1 thread" "$MAIN" "$MAIN_ROWS" 0
    case_ "full-duckdb:duckdb" "DuckDB read_csv -> Parquet, 1 thread" "$MAIN" "$MAIN_ROWS" 0
else
    say "npm peers not installed: Polars and DuckDB cases left out"
fi
case_ "full-pandas:pandas" "pandas + python3-avro (deflate) (slice)" "$SLICE" "$SLICE_ROWS" 1
WIDE=$(gen wide "$WBYTES") || exit 1
WIDE_ROWS=$(($(cat "$WIDE.lines") - 1))
case_ "wide-csvavro-j1:csvavro-default-j1" "csvavro -j1, wide table (300 columns)" "$WIDE" "$WIDE_ROWS" 1
case_ "wide-csvavro-j2:csvavro-default-j2" "csvavro -j2, wide table (300 columns)" "$WIDE" "$WIDE_ROWS" 1

# ---------------------------------------------------------------- report
{
    printf '## Full conversion and wide table (bench/bench_full.sh, %s, git %s)\n\n' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
    printf 'Load (1/5/15 min) at start %s, at end %s, on %s cores. Median of %s runs. Taxi file %s bytes (%s rows), slice %s bytes, wide table %s bytes (%s rows). Every output'"'"'s row count read back; "N values equal": python3-avro decoded the first %s records and each value equals the CSV text read by the csv module.\n\n' \
        "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" "$RUNS" "$BYTES" "$MAIN_ROWS" "$SBYTES" "$WBYTES" "$WIDE_ROWS" "$SAMPLE"
    printf '| case | what | MB/s | wall s | CPU s | peak RSS MiB | rows | check |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n'
    awk -F'\t' '{ mbs = ($5 > 0) ? sprintf("%.0f", $3 / 1e6 / $5) : "-";
        printf "| %s | %s | %s | %s | %s | %.0f | %s | %s |\n", $1, $2, mbs, $5, $6, $7 / 1024, $4, $8 }' "$TSV"
    printf '\n'
    awk -F'\t' '$5 > 0 { mbs[$1] = $3 / 1e6 / $5; w[$1] = $5; rss[$1] = $7 / 1024 }
        END {
            if (w["full-csvavro-null-j1"] && w["full-polars-read"]) printf "- csvavro --codec null -j1 vs Polars readCSV→Avro: %.2f× (target 3×)\n", w["full-polars-read"] / w["full-csvavro-null-j1"];
            if (w["full-csvavro-null-j1"] && w["full-polars-scan"]) printf "- csvavro --codec null -j1 vs Polars scanCSV→Avro: %.2f×\n", w["full-polars-scan"] / w["full-csvavro-null-j1"];
            if (w["full-csvavro-j1"] && w["full-duckdb"]) printf "- csvavro default codec -j1 vs DuckDB→Parquet: %.2f× (target 3.5×)\n", w["full-duckdb"] / w["full-csvavro-j1"];
            if (w["full-csvavro-j1"] && w["full-csvavro-j2"]) printf "- -j2 vs -j1 (default codec): %.2f× (target 1.8×)\n", w["full-csvavro-j1"] / w["full-csvavro-j2"];
            if (w["full-slice-csvavro-j1"] && w["full-pandas"]) printf "- csvavro vs pandas + python3-avro on the slice: %.1f×\n", w["full-pandas"] / w["full-slice-csvavro-j1"];
            if (mbs["wide-csvavro-j1"] && mbs["full-csvavro-j1"]) printf "- wide table MB/s / 14-column MB/s at -j1: %.0f%% (target ≥ 70%%)\n", 100 * mbs["wide-csvavro-j1"] / mbs["full-csvavro-j1"];
            if (rss["wide-csvavro-j2"]) printf "- wide table peak RSS at -j2: %.0f MiB (target ≤ 128)\n", rss["wide-csvavro-j2"];
        }' "$TSV"
    printf '\nThese are consecutive runs, not interleaved pairs: for a ratio use `bash bench/bench_full.sh --compare PEER` (A B A B …).\n'
} >"$RESULTS"
cat "$RESULTS"
if ((FAILED)); then
    say "csvavro failed, wrote a wrong count or wrong values: see $RESULTS"
    exit 1
fi
exit 0
