#!/usr/bin/env bash
# bench/run.sh — csvavro side by side with its peers on the reference job (issue 8); `make bench`.
#
# Builds csvavro, generates (once, cached in bench/data/) a NYC-taxi-like CSV with the project's
# generator, installs the npm peers into bench/node_modules from bench/peers/package-lock.json,
# then times the reference job
#   --where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs
# with csvavro (-j1/-j2, default codec and each of null, deflate, snappy, zstandard; plus stages),
# Polars (scanCSV and readCSV, POLARS_MAX_THREADS=1/2), DuckDB (read_csv -> Parquet, threads
# 1/2), pandas + python3-avro (on a 100 MB slice) and the single-core memchr newline count. Every
# run's output row count is read back and compared with the count computed once by Python's csv
# module before its time counts. Writes bench/RESULTS.md and bench/results.png.
#
# Environment:
#   CSVAVRO_BUILD       build directory (default build/; configured if it has no CMakeCache.txt)
#   BENCH_BYTES         size of the main file (default 1000000000)
#   BENCH_PANDAS_BYTES  size of the pandas slice (default 100000000, at most BENCH_BYTES)
#   BENCH_SEED          generator seed (default 2013)
#   BENCH_RUNS          timed runs per case (default 3): median and min–max are reported
#   BENCH_BIG=1         also run csvavro -j2 on a 4 GB file (peak RSS flatness)
#   BENCH_BIG_BYTES     size of that file (default 4000000000)
#   BENCH_TOOLS         regex on case ids to run only some (e.g. 'csvavro|memchr'); default all
#   BENCH_RESULTS       where to write the Markdown (default bench/RESULTS.md); the chart goes
#                       beside it as results.png
#   BENCH_PY_BYTES      size of the file for the Python package pairs (case id "python":
#                       bench/bench_python.py -> RESULTS-python.md beside RESULTS.md; default
#                       the pandas slice size)
#
# A peer that fails is reported as failed with its error and the others go on; the exit status
# is non-zero only when csvavro itself fails or writes a wrong row count (or set-up fails).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${CSVAVRO_BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BYTES=${BENCH_BYTES:-1000000000}
PBYTES=${BENCH_PANDAS_BYTES:-100000000}
((PBYTES > BYTES)) && PBYTES=$BYTES
SEED=${BENCH_SEED:-2013}
RUNS=${BENCH_RUNS:-3}
BIG=${BENCH_BIG:-0}
BIG_BYTES=${BENCH_BIG_BYTES:-4000000000}
TOOLS=${BENCH_TOOLS:-.}
RESULTS=${BENCH_RESULTS:-$BENCH/RESULTS.md}
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac
CHART=$(dirname "$RESULTS")/results.png
DATA=$BENCH/data
OUT=$BENCH/out
PY=/usr/bin/python3 # Debian's: it has python3-avro and python3-pandas
PYJOB=$BENCH/peers/pyjob.py
WHERE='passenger_count > 3'
SELECT=pickup_datetime,passenger_count,trip_time_in_secs

say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
    say "FATAL: $*"
    exit 1
}

mkdir -p "$DATA" "$OUT" "$(dirname "$RESULTS")" || die "cannot create $DATA, $OUT or the results folder"
TSV=$OUT/results.tsv   # one line per case (see write_case)
COMPAT=$OUT/compat.tsv # one line per output checked by the other readers
: >"$TSV"
: >"$COMPAT"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
DATE_START=$(date -u '+%Y-%m-%d %H:%M UTC')
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)

# ---------------------------------------------------------------- system packages (root only)
apt_updated=0
need_pkg() { # need_pkg TEST-COMMAND PACKAGE: installs PACKAGE when TEST-COMMAND fails
    if eval "$1" >/dev/null 2>&1; then return 0; fi
    if [ "$(id -u)" != 0 ]; then
        say "missing $2 (not root: cannot install it); the cases that need it will fail"
        return 1
    fi
    say "installing Debian package $2"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >"$OUT/apt.log" 2>&1; then
        if ((!apt_updated)); then
            apt_updated=1
            apt-get update -q >>"$OUT/apt.log" 2>&1
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >>"$OUT/apt.log" 2>&1
        fi
    fi
    eval "$1" >/dev/null 2>&1 || {
        say "could not install $2 (see $OUT/apt.log)"
        return 1
    }
}
need_pkg 'test -x /usr/bin/time' time || die "GNU time is needed for every measurement"
need_pkg 'command -v gnuplot' gnuplot-nox
need_pkg "$PY -c 'import avro'" python3-avro
need_pkg "$PY -c 'import pandas'" python3-pandas
need_pkg 'command -v avrocat' avro-bin
need_pkg 'command -v node && command -v npm' nodejs

# ---------------------------------------------------------------- build
say "building csvavro in $BUILD"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$OUT/cmake.log" 2>&1 ||
        die "cmake configure failed (see $OUT/cmake.log)"
fi
JOBS=$(nproc)
cmake --build "$BUILD" -j "$JOBS" --target csvavro gen_taxi >"$OUT/build.log" 2>&1 ||
    die "build of csvavro failed (see $OUT/build.log)"
CSVAVRO=$BUILD/csvavro
GEN=$BUILD/gen_taxi
# optional stage tools of other modules (a failure only drops their stage rows)
SCAN_TOOL=
if cmake --build "$BUILD" -j "$JOBS" --target bench_csv_scan >>"$OUT/build.log" 2>&1 &&
    [ -x "$BUILD/bench_csv_scan" ]; then SCAN_TOOL=$BUILD/bench_csv_scan; fi
# the memchr ceiling: from the build (bench/tools.cmake) or compiled here
MEMCHR=$BUILD/memchr_count
if [ ! -x "$MEMCHR" ] || [ "$MEMCHR" -ot "$BENCH/memchr_count.c" ]; then
    mkdir -p "$OUT/bin"
    MEMCHR=$OUT/bin/memchr_count
    cc -O2 -Wall -Wextra -Werror -o "$MEMCHR" "$BENCH/memchr_count.c" 2>"$OUT/memchr_cc.log" ||
        say "cannot compile memchr_count (see $OUT/memchr_cc.log)"
fi

# ---------------------------------------------------------------- data (generated once, cached)
gen_file() { # gen_file BYTES -> prints the path; the file and its counts are cached
    local f=$DATA/taxi-$1-s$SEED.csv
    if [ ! -s "$f" ]; then
        say "generating $f"
        # to stdout: with -o, gen_taxi calls ferror() after fclose() and can exit 1 at random
        "$GEN" --bytes "$1" --seed "$SEED" >"$f.tmp" 2>>"$OUT/gen.log" && mv "$f.tmp" "$f" ||
            die "gen_taxi failed (see $OUT/gen.log)"
    fi
    if [ ! -s "$f.counts" ] || [ "$f.counts" -ot "$f" ]; then
        say "counting $f independently (Python csv module, wc -l)"
        local kept lines
        kept=$("$PY" "$PYJOB" expected "$f") || die "expected count failed"
        lines=$(wc -l <"$f") || die "wc failed"
        printf '%s %s\n' "$kept" "$lines" >"$f.counts.tmp" && mv "$f.counts.tmp" "$f.counts"
    fi
    printf '%s\n' "$f"
}
MAIN=$(gen_file "$BYTES") || exit 1
read -r MAIN_KEPT MAIN_LINES <"$MAIN.counts"
MAIN_SIZE=$(stat -c %s "$MAIN")
SLICE=$(gen_file "$PBYTES") || exit 1
read -r SLICE_KEPT SLICE_LINES <"$SLICE.counts"
SLICE_SIZE=$(stat -c %s "$SLICE")
say "main file $MAIN: $MAIN_SIZE bytes, $((MAIN_LINES - 1)) rows, $MAIN_KEPT kept by the job"

# ---------------------------------------------------------------- npm peers
NODE_OK=0
install_npm() {
    local lock=$BENCH/peers/package-lock.json stamp=$BENCH/node_modules/.bench-lock.sha256
    local want
    want=$(sha256sum "$lock" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    say "installing the npm peers (npm ci) into bench/node_modules"
    rm -rf "$OUT/npm" && mkdir -p "$OUT/npm" &&
        cp "$BENCH/peers/package.json" "$lock" "$OUT/npm/" || return 1
    # npm ci refuses this lock: nodejs-polars 0.26.1 names optional platform packages that were
    # never published at that version, so the lock cannot list them. npm install with the same
    # lock installs the same pinned, integrity-checked versions and skips the missing ones.
    if ! (cd "$OUT/npm" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1; then
        say "npm ci refused the lock (see $OUT/npm.log); npm install --no-save with the same lock"
        (cd "$OUT/npm" && npm install --no-save --no-audit --no-fund --loglevel=error) \
            >>"$OUT/npm.log" 2>&1 || {
            say "npm install failed (see $OUT/npm.log)"
            return 1
        }
    fi
    rm -rf "$BENCH/node_modules" && mv "$OUT/npm/node_modules" "$BENCH/node_modules" &&
        printf '%s\n' "$want" >"$stamp"
}
if command -v node >/dev/null && install_npm; then NODE_OK=1; fi

# ---------------------------------------------------------------- measuring
# Counters of an output, each printing a row count or failing with its error on stderr.
count_blocks() { "$PY" "$PYJOB" blocks "$1"; }    # container framing only (independent)
count_pyavro() { "$PY" "$PYJOB" read "$1"; }      # full decode by python3-avro
count_avrocat() { # full decode by Apache Avro C (it prints its errors on stdout)
    if ! avrocat "$1" >"$OUT/avrocat.out" 2>&1; then
        grep -v '^{' "$OUT/avrocat.out" | head -3 >&2
        return 1
    fi
    wc -l <"$OUT/avrocat.out"
}
count_polars() { (cd "$BENCH/peers" && node polars_job.js count "$1"); } # pl.readAvro
count_parquet() { (cd "$BENCH/peers" && node duckdb_job.js count "$1"); }
count_lines() { tr -d ' \n' <"$1"; } # memchr_count prints the newline count on stdout
count_scan() { sed -n 's/.* rows=\([0-9]*\) .*/\1/p' "$1"; }

oneline() { tr '\n\t' '  ' <"$1" | sed 's/  */ /g' | cut -c1-300; }

FAILED_CSVAVRO=0
# run_case ID TOOL THREADS CODEC INPUT EXPECTED COUNTER COMPAT -- COMMAND...
#   The command may use $D (the case's scratch directory, emptied before each run) and writes
#   $D/out.* ; COUNTER is count_* applied to $D/out.* (or to the stdout file for count_lines and
#   count_scan). COMPAT=1 checks the last output with python3-avro, avrocat and the framing.
run_case() {
    local id=$1 tool=$2 threads=$3 codec=$4 input=$5 expected=$6 counter=$7 compat=$8
    shift 9
    if ! [[ $id =~ $TOOLS ]]; then return 0; fi
    D=$OUT/case/$id
    local times=$OUT/case/$id.times status=ok note= rows=- r
    local size
    size=$(stat -c %s "$input")
    mkdir -p "$OUT/case" && : >"$times"
    cat "$input" >/dev/null # warm-up: the file is in the page cache for every run
    say "case $id (${RUNS} runs): $*"
    for ((r = 1; r <= RUNS; r++)); do
        rm -rf "$D" && mkdir -p "$D"
        local cmd=()
        local a
        for a in "$@"; do cmd+=("${a//\$D/$D}"); done
        /usr/bin/time -f '%e %U %S %M' -o "$D.time" "${cmd[@]}" >"$D.stdout" 2>"$D.stderr"
        local rc=$?
        if ((rc != 0)); then
            status=failed
            note="exit $rc: $(oneline "$D.stderr")"
            break
        fi
        local target
        case $counter in
        count_lines | count_scan) target=$D.stdout ;;
        *) target=$(ls -d "$D"/out.* 2>/dev/null | head -1) ;;
        esac
        if [ -z "$target" ]; then
            status=failed
            note="no output file"
            break
        fi
        if ! rows=$($counter "$target" 2>"$D.count.err"); then
            status=failed
            note="reading its output back failed: $(oneline "$D.count.err")"
            break
        fi
        if [ "$rows" != "$expected" ]; then
            status=wrong-count
            note="wrote $rows rows, expected $expected"
            break
        fi
        tail -1 "$D.time" >>"$times"
    done
    if [ "$status" = ok ] && [ "$compat" = 1 ]; then
        local c1 c2 c3 c4 out
        out=$(ls -d "$D"/out.* | head -1)
        c1=$(count_blocks "$out" 2>"$D.c1") && c1="$c1 rows" || c1="error: $(oneline "$D.c1")"
        [ -s "$D.c1" ] && c1="$c1 ($(oneline "$D.c1"))"
        c2=$(count_pyavro "$out" 2>"$D.c2") && c2="$c2 rows" || c2="error: $(oneline "$D.c2" | sed 's/.*IgnoredLogicalType[^)]*) *//')"
        c3=$(count_avrocat "$out" 2>"$D.c3") && c3="$c3 rows" || c3="error: $(oneline "$D.c3")"
        if ((NODE_OK)); then
            c4=$(count_polars "$out" 2>"$D.c4") && c4="$c4 rows" || c4="error: $(oneline "$D.c4")"
        else
            c4="not run (npm peers not installed)"
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$expected" "$c1" "$c2" "$c3" "$c4" >>"$COMPAT"
    fi
    local outbytes=-
    if [ "$status" = ok ] && ls -d "$D"/out.* >/dev/null 2>&1; then
        outbytes=$(cat "$D"/out.* | wc -c)
    fi
    # stats: median, min, max of wall, cpu (user+sys), rss (KiB)
    local stats
    stats=$(awk '{ print $1, $2 + $3, $4 }' "$times" | "$PY" -c '
import sys, statistics
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
if not rows:
    print("- - - - - - - - -"); sys.exit()
out = []
for k in range(3):
    v = [r[k] for r in rows]
    out += [statistics.median(v), min(v), max(v)]
print(" ".join("%.6g" % x for x in out))')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$tool" "$threads" "$codec" \
        "$size" "$status" "$(wc -l <"$times")" "$stats" "$rows" "$expected" "$note" "$outbytes" >>"$TSV"
    if [ "$status" != ok ]; then
        say "case $id: $status: $note"
        if [[ $tool == csvavro* ]]; then FAILED_CSVAVRO=1; fi
    fi
    return 0
}

JOB=(--where "$WHERE" --select "$SELECT" -q)

# single-core ceiling
run_case memchr "memchr newline count" 1 - "$MAIN" "$MAIN_LINES" count_lines 0 -- "$MEMCHR" "$MAIN"

# csvavro: the reference job, default codec and each codec, 1 and 2 threads
for j in 1 2; do
    run_case "csvavro-j$j" csvavro "$j" default "$MAIN" "$MAIN_KEPT" count_blocks $((j == 1)) -- \
        "$CSVAVRO" convert "$MAIN" '$D/out.avro' "${JOB[@]}" -j "$j"
done
for codec in null deflate snappy zstandard; do
    for j in 1 2; do
        run_case "csvavro-$codec-j$j" "csvavro --codec $codec" "$j" "$codec" "$MAIN" "$MAIN_KEPT" \
            count_blocks $((j == 1)) -- "$CSVAVRO" convert "$MAIN" '$D/out.avro' "${JOB[@]}" -j "$j" --codec "$codec"
    done
done
# stages: scan only and scan + typed job columns (one core, the CSV module's own benchmark
# driver), parse + filter through the CLI (a filter that keeps no row: nothing is encoded)
if [ -n "$SCAN_TOOL" ]; then
    run_case stage-scan "stage: scan only (bench_csv_scan --cols none)" 1 - "$MAIN" \
        "$((MAIN_LINES - 1))" count_scan 0 -- "$SCAN_TOOL" "$MAIN" --cols none
    run_case stage-parse "stage: scan + parse job columns (bench_csv_scan --cols job)" 1 - "$MAIN" \
        "$((MAIN_LINES - 1))" count_scan 0 -- "$SCAN_TOOL" "$MAIN" --cols job
fi
for j in 1 2; do
    run_case "stage-filter-j$j" "stage: parse + filter, no row kept (csvavro)" "$j" null "$MAIN" 0 \
        count_blocks 0 -- "$CSVAVRO" convert "$MAIN" '$D/out.avro' --where 'passenger_count > 1000' \
        --select "$SELECT" -q --codec null -j "$j"
done
# the same slice as pandas, for a pair on the same input
run_case csvavro-slice-j1 "csvavro (slice)" 1 default "$SLICE" "$SLICE_KEPT" count_blocks 0 -- \
    "$CSVAVRO" convert "$SLICE" '$D/out.avro' "${JOB[@]}" -j 1

# peers
for j in 1 2; do
    for mode in scan read; do
        if ((NODE_OK)); then
            run_case "polars-$mode-j$j" "Polars ${mode}CSV" "$j" avro-null "$MAIN" "$MAIN_KEPT" \
                count_blocks 1 -- env POLARS_MAX_THREADS="$j" node "$BENCH/peers/polars_job.js" \
                "$mode" "$MAIN" '$D/out.avro'
        else
            printf 'polars-%s-j%s\tPolars %sCSV\t%s\t-\t%s\tfailed\t0\t- - - - - - - - -\t-\t%s\tnpm peers not installed\t-\n' \
                "$mode" "$j" "$mode" "$j" "$MAIN_SIZE" "$MAIN_KEPT" >>"$TSV"
        fi
    done
    if ((NODE_OK)); then
        run_case "duckdb-j$j" "DuckDB read_csv -> Parquet" "$j" parquet "$MAIN" "$MAIN_KEPT" \
            count_parquet 0 -- node "$BENCH/peers/duckdb_job.js" job "$j" "$MAIN" '$D/out.parquet'
    else
        printf 'duckdb-j%s\tDuckDB read_csv -> Parquet\t%s\t-\t%s\tfailed\t0\t- - - - - - - - -\t-\t%s\tnpm peers not installed\t-\n' \
            "$j" "$j" "$MAIN_SIZE" "$MAIN_KEPT" >>"$TSV"
    fi
done
run_case pandas-j1 "pandas + python3-avro" 1 deflate "$SLICE" "$SLICE_KEPT" count_blocks 1 -- \
    "$PY" "$PYJOB" pandas "$SLICE" '$D/out.avro'

# peak RSS flatness: 1 GB vs 4 GB at -j2
if [ "$BIG" = 1 ]; then
    BIGF=$(gen_file "$BIG_BYTES") || exit 1
    read -r BIG_KEPT _ <"$BIGF.counts"
    run_case csvavro-big-j2 "csvavro (big file)" 2 default "$BIGF" "$BIG_KEPT" count_blocks 0 -- \
        "$CSVAVRO" convert "$BIGF" '$D/out.avro' "${JOB[@]}" -j 2
fi

# ---------------------------------------------------------------- same records?
# Digest of avrocat's JSON dump of each readable output: csvavro's codecs and thread counts must
# all give the same records, and pandas (python3-avro) the same as csvavro on the slice.
SAME=$OUT/same.tsv
: >"$SAME"
digest() { [ -f "$OUT/case/$1/out.avro" ] && avrocat "$OUT/case/$1/out.avro" 2>/dev/null | md5sum | cut -c1-12; }
for id in csvavro-j1 csvavro-j2 csvavro-null-j1 csvavro-null-j2 csvavro-deflate-j1 \
    csvavro-deflate-j2 csvavro-snappy-j1 csvavro-snappy-j2 csvavro-slice-j1 pandas-j1; do
    if grep -q "^$id	[^	]*	[^	]*	[^	]*	[^	]*	ok	" "$TSV"; then
        printf '%s\t%s\n' "$id" "$(digest "$id")" >>"$SAME"
    fi
done

# ---------------------------------------------------------------- machine and versions
MACHINE=$OUT/machine.txt
{
    printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    printf 'cores\t%s\n' "$(nproc)"
    printf 'ram\t%s\n' "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    printf 'kernel\t%s\n' "$(uname -sr)"
    printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
    printf 'compiler\t%s\n' "$(cc --version | head -1)"
    printf 'csvavro\t%s (git %s)\n' "$("$CSVAVRO" --version 2>/dev/null | head -1)" \
        "$GIT_REV"
    printf 'node\t%s\n' "$(node --version 2>/dev/null)"
    if ((NODE_OK)); then
        printf 'polars\tnodejs-polars %s\n' "$(cd "$BENCH" && node -p 'require("nodejs-polars/package.json").version')"
        printf 'duckdb\t@duckdb/node-api %s (DuckDB %s)\n' \
            "$(cd "$BENCH" && node -p 'require("@duckdb/node-api/package.json").version')" \
            "$(cd "$BENCH/peers" && node duckdb_job.js version)"
    fi
    printf 'python\t%s\n' "$("$PY" "$PYJOB" versions 2>&1)"
    printf 'avrocat\tavro-bin %s\n' "$(dpkg-query -W -f '${Version}' avro-bin 2>/dev/null)"
    printf 'load_start\t%s\n' "$LOAD_START"
    printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'date\t%s\n' "$DATE_START"
    printf 'runs\t%s\n' "$RUNS"
    printf 'main\t%s\t%s\t%s\t%s\n' "$(basename "$MAIN")" "$MAIN_SIZE" "$((MAIN_LINES - 1))" "$MAIN_KEPT"
    printf 'slice\t%s\t%s\t%s\t%s\n' "$(basename "$SLICE")" "$SLICE_SIZE" "$((SLICE_LINES - 1))" "$SLICE_KEPT"
    printf 'command\t%s\n' "make bench  (bash bench/run.sh; BENCH_BYTES=$BYTES BENCH_RUNS=$RUNS BENCH_BIG=$BIG${CSVAVRO_BUILD:+ CSVAVRO_BUILD=$CSVAVRO_BUILD})"
    printf 'others\t%s\n' "$(ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 > 20 && $2 !~ /^(ps|awk|sort|tr)$/ { print $2 }' | sort -u | tr '\n' ' ')"
} >"$MACHINE"

# ---------------------------------------------------------------- report and chart
if [[ encode =~ $TOOLS ]]; then
    ENC=$BUILD/bench_avro_encode
    if cmake --build "$BUILD" -j "$JOBS" --target bench_avro_encode >>"$OUT/build.log" 2>&1 &&
        [ -x "$ENC" ]; then
        say "encode-only stage: bench_avro_encode"
        "$ENC" 2000000 >"$OUT/encode.txt" 2>&1 || : >"$OUT/encode.txt"
    fi
fi
if [[ python =~ $TOOLS ]]; then
    PYFILE=$(gen_file "${BENCH_PY_BYTES:-$PBYTES}")
    say "python package pairs: bench_python.py on $(basename "$PYFILE")"
    if cmake --build "$BUILD" -j "$JOBS" --target csvavro_python >>"$OUT/build.log" 2>&1; then
        "$PY" "$BENCH/bench_python.py" --build "$BUILD" --csv "$PYFILE" --runs "$RUNS" \
            --out "$(dirname "$RESULTS")/RESULTS-python.md" >"$OUT/python.txt" 2>&1 ||
            say "bench_python.py failed (see $OUT/python.txt)"
    else
        say "the Python package did not build (see $OUT/build.log)"
    fi
fi
"$PY" "$BENCH/report.py" "$OUT" "$RESULTS" || die "report failed"
if command -v gnuplot >/dev/null && [ -s "$OUT/chart.dat" ]; then
    gnuplot -e "datafile='$OUT/chart.dat'; outfile='$CHART'" "$BENCH/chart.gp" 2>"$OUT/gnuplot.log" ||
        say "gnuplot failed (see $OUT/gnuplot.log)"
fi
say "wrote $RESULTS and $CHART"
if ((FAILED_CSVAVRO)); then
    say "csvavro failed or wrote a wrong row count: see $RESULTS"
    exit 1
fi
exit 0
