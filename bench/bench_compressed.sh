#!/usr/bin/env bash
# bench/bench_compressed.sh — compressed CSV input (issue 13), part of `make bench`.
#
# The reference job (--where 'passenger_count > 3' --select pickup_datetime,passenger_count,
# trip_time_in_secs) on one generated NYC-taxi-like file as plain CSV and as .gz, .bz2, .zst and
# .xz (made once with the Debian tools, cached in bench/data/), one thread each, next to the floor
# of each codec: its own command-line decompressor piped into `wc -l` (zcat, bzcat, zstdcat,
# xzcat). MB/s are of the decompressed CSV, "in MB/s" of the compressed file. Then the parallel
# cases: a bzip2 file and a multi-frame zstd file (frames of 4 MiB of CSV, as pzstd or a
# seekable-format writer makes them), each cut into splits at block/frame boundaries, and four
# compressed inputs (one split each), at -j1 and -j2 (runs interleaved: j1, j2, j1, j2, ...). Every csvavro output's row count is read back (container framing,
# bench/peers/pyjob.py blocks) and compared with the count Python's csv module computed.
# Writes bench/RESULTS-compressed.md.
#
# Environment: CSVAVRO_BUILD (default build/), BENCH_COMP_BYTES (default 200000000),
# BENCH_RUNS (default 3; median reported), BENCH_SEED (default 2013).
set -u -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CSVAVRO_BUILD:-$ROOT/build}
BYTES=${BENCH_COMP_BYTES:-200000000}
RUNS=${BENCH_RUNS:-3}
SEED=${BENCH_SEED:-2013}
DATA=$ROOT/bench/data
OUT=$ROOT/bench/out/compressed
RESULTS=${BENCH_COMP_RESULTS:-$ROOT/bench/RESULTS-compressed.md}
PY=/usr/bin/python3
CSVAVRO=$BUILD/csvavro
say() { printf '[bench-compressed %s] %s\n' "$(date +%T)" "$*" >&2; }
mkdir -p "$DATA" "$OUT"
for t in gzip bzip2 zstd xz; do command -v $t >/dev/null || { say "missing $t (scripts/deps.sh)"; exit 1; }; done
[ -x "$CSVAVRO" ] || { say "build csvavro first (make)"; exit 1; }

F=$DATA/comp-$BYTES-$SEED.csv
if [ ! -s "$F.counts" ]; then
    say "generating $F"
    "$BUILD/gen_taxi" --bytes "$BYTES" --seed "$SEED" >"$F" || exit 1
    "$PY" - "$F" >"$F.counts" <<'PYEOF' || exit 1
import csv, sys
kept = rows = 0
with open(sys.argv[1], newline="") as f:
    rd = csv.reader(f); h = next(rd); ic = h.index("passenger_count")
    for r in rd:
        rows += 1
        if r[ic] and int(r[ic]) > 3: kept += 1
print(kept, rows)
PYEOF
fi
read -r KEPT ROWS <"$F.counts"
LINES=$((ROWS + 1))
declare -A EXT=([gzip]=gz [bzip2]=bz2 [zstd]=zst [xz]=xz) CAT=([gzip]=zcat [bzip2]=bzcat [zstd]=zstdcat [xz]=xzcat)
for c in gzip bzip2 zstd xz; do
    z=$F.${EXT[$c]}
    if [ ! -s "$z" ]; then say "compressing with $c"; $c -c "$F" >"$z.tmp" && mv "$z.tmp" "$z" || exit 1; fi
done
SIZE=$(stat -c %s "$F")

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# timeit NAME EXPECTED COUNTER -- command... : median wall seconds over RUNS, checks the count
timeit() {
    local name=$1 expected=$2 counter=$3; shift 4
    local ts=() r t got
    for ((r = 1; r <= RUNS; r++)); do
        rm -rf "$OUT/o" && mkdir -p "$OUT/o"
        /usr/bin/time -f '%e' -o "$OUT/time" bash -c "$*" >"$OUT/stdout" 2>"$OUT/stderr"
        t=$(tail -1 "$OUT/time")
        got=$($counter)
        if [ "$got" != "$expected" ]; then say "$name: count $got, expected $expected"; cat "$OUT/stderr" >&2; return 1; fi
        ts+=("$t")
    done
    printf '%s\n' "${ts[@]}" | median
}
lines_count() { tr -d ' \n' <"$OUT/stdout"; }
avro_count() { local n=0 k; for f in "$OUT"/o/*.avro; do k=$("$PY" "$ROOT/bench/peers/pyjob.py" blocks "$f") || return 1; n=$((n + k)); done; echo $n; }
JOB="--where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs -q"
mbs() { awk -v b="$SIZE" -v t="$1" 'BEGIN { printf "%.0f", (t > 0 ? b / 1e6 / t : 0) }'; }
mbsc() { awk -v b="$2" -v t="$1" 'BEGIN { printf "%.1f", (t > 0 ? b / 1e6 / t : 0) }'; }
# pairs NAME EXPECTED -- j1-command -- j2-command: RUNS interleaved pairs, "median1 median2"
pairs() {
    local name=$1 expected=$2 c1=$4 c2=$6 r a b cpu got t1s=() t2s=() c1s=() c2s=()
    for ((r = 1; r <= RUNS; r++)); do
        for k in 1 2; do
            rm -rf "$OUT/o" && mkdir -p "$OUT/o"
            if [ $k = 1 ]; then a=$c1; else a=$c2; fi
            /usr/bin/time -f '%e %U %S' -o "$OUT/time" bash -c "$a" >"$OUT/stdout" 2>"$OUT/stderr"
            got=$(avro_count)
            if [ "$got" != "$expected" ]; then say "$name -j$k: count $got, expected $expected"; cat "$OUT/stderr" >&2; return 1; fi
            b=$(tail -1 "$OUT/time" | awk '{print $1}')
            cpu=$(tail -1 "$OUT/time" | awk '{printf "%.2f", $2 + $3}')
            if [ $k = 1 ]; then t1s+=("$b"); c1s+=("$cpu"); else t2s+=("$b"); c2s+=("$cpu"); fi
        done
    done
    echo "$(printf '%s\n' "${t1s[@]}" | median) $(printf '%s\n' "${t2s[@]}" | median) $(printf '%s\n' "${c1s[@]}" | median) $(printf '%s\n' "${c2s[@]}" | median)"
}

{
    echo "# Compressed input (bench/bench_compressed.sh)"
    echo
    echo "$(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//');"
    echo "file: gen_taxi $SIZE bytes ($ROWS rows, $KEPT kept by the reference job); median of $RUNS runs;"
    echo "MB/s of decompressed CSV. Floor = the codec's own decompressor into \`wc -l\` (one core)."
    echo
    echo "| input | compressed bytes | csvavro convert -j1 | MB/s | in MB/s | floor | floor s | floor MB/s | floor in MB/s | csvavro / floor |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$RESULTS.tmp"
t=$(timeit plain "$KEPT" avro_count -- "$CSVAVRO convert '$F' '$OUT/o/out.avro' $JOB -j1") || exit 1
w=$(timeit wc "$LINES" lines_count -- "wc -l < '$F'") || exit 1
echo "| plain CSV | $SIZE | ${t} s | $(mbs "$t") | $(mbs "$t") | wc -l | ${w} s | $(mbs "$w") | $(mbs "$w") | - |" >>"$RESULTS.tmp"
for c in gzip bzip2 zstd xz; do
    z=$F.${EXT[$c]}
    say "$c"
    t=$(timeit "$c" "$KEPT" avro_count -- "$CSVAVRO convert '$z' '$OUT/o/out.avro' $JOB -j1") || exit 1
    w=$(timeit "${CAT[$c]}" "$LINES" lines_count -- "${CAT[$c]} '$z' | wc -l") || exit 1
    ratio=$(awk -v a="$t" -v b="$w" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
    zs=$(stat -c %s "$z")
    echo "| .${EXT[$c]} | $zs | ${t} s | $(mbs "$t") | $(mbsc "$t" "$zs") | ${CAT[$c]} \\| wc -l | ${w} s | $(mbs "$w") | $(mbsc "$w" "$zs") | $ratio |" >>"$RESULTS.tmp"
done
# splittable: one bzip2 file, one multi-frame zstd file, cut at blocks / frames
ZF=$F.frames.zst
if [ ! -s "$ZF" ]; then
    say "multi-frame zstd"
    rm -rf "$OUT/fr" && mkdir -p "$OUT/fr" && split -b 4194304 "$F" "$OUT/fr/p." &&
        for p in "$OUT"/fr/p.*; do zstd -q -c "$p"; done >"$ZF.tmp" && mv "$ZF.tmp" "$ZF" || exit 1
    rm -rf "$OUT/fr"
fi
{
    echo
    echo "One file cut into splits at bzip2 block / zstd frame boundaries (--split-size = compressed"
    echo "size / 8; $RUNS interleaved -j1/-j2 pairs, medians; the machine is shared, so noisy):"
    echo
    echo "| input | compressed bytes | splits | -j1 | in MB/s | -j2 | in MB/s | speed-up | CPU s -j1 | CPU s -j2 | CPU s one split |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >>"$RESULTS.tmp"
for z in "$F.bz2" "$ZF"; do
    zs=$(stat -c %s "$z")
    ss=$((zs / 8 + 1))
    say "split $z"
    nsp=$("$CSVAVRO" convert "$z" "$OUT/o/out.avro" --split-size $ss --dry-run --overwrite | sed -n 's/^plan: 1 input, \([0-9]*\) split.*/\1/p')
    read -r a b ca cb < <(pairs "$z" "$KEPT" -- "$CSVAVRO convert '$z' '$OUT/o/out.avro' $JOB --split-size $ss -j1" -- "$CSVAVRO convert '$z' '$OUT/o/out.avro' $JOB --split-size $ss -j2") || exit 1
    # the same file as one split (--split-size larger than it): the CPU the splits add
    rm -rf "$OUT/o" && mkdir -p "$OUT/o"
    /usr/bin/time -f '%U %S' -o "$OUT/time" bash -c "$CSVAVRO convert '$z' '$OUT/o/out.avro' $JOB --split-size 100G -j1" >/dev/null 2>&1
    c0=$(tail -1 "$OUT/time" | awk '{printf "%.2f", $1 + $2}')
    echo "| $(basename "$z" | sed 's/^comp-[0-9]*-[0-9]*//') | $zs | $nsp | ${a} s | $(mbsc "$a" "$zs") | ${b} s | $(mbsc "$b" "$zs") | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')x | $ca | $cb | $c0 |" >>"$RESULTS.tmp"
done
# parallel: four compressed inputs (gz, bz2, zst, xz): one split each (--split-size larger than
# the bzip2 file: no block splits here)
say "parallel"
rm -rf "$OUT/in" && mkdir -p "$OUT/in"
for c in gzip bzip2 zstd xz; do ln -s "$F.${EXT[$c]}" "$OUT/in/t.csv.${EXT[$c]}"; done
read -r t1 t2 _ _ < <(pairs par $((4 * KEPT)) -- "$CSVAVRO convert '$OUT/in' '$OUT/o/' $JOB -j1 --split-size 100G" -- "$CSVAVRO convert '$OUT/in' '$OUT/o/' $JOB -j2 --split-size 100G") || exit 1
{
    echo
    echo "Four compressed inputs (.gz, .bz2, .zst, .xz; one split each): -j1 ${t1} s, -j2 ${t2} s,"
    echo "speed-up $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')x (the slowest input, xz or bzip2, bounds -j2)."
} >>"$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
cat "$RESULTS"
