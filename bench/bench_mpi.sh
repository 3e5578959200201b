#!/usr/bin/env bash
# bench/bench_mpi.sh — one convert job in one process vs over MPI ranks (issue 7).
#
# Times the reference job
#   --where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs
# on a generated NYC-taxi-like file (cached in bench/data/) as:
#   one process -j1 | mpirun -np 1 -j1 | mpirun -np 2 -j1 (each rank one worker) | one process -j2
# and the fixed costs a cluster run adds or cannot spread: mpirun start-up + MPI_Init (a job on a
# header-only file over 2 ranks), rank-0 planning (--dry-run: inputs, header, schema inference,
# splits), and the per-split cost (one process -j1 time / splits). Every run's outputs must be
# byte-identical (--seed) to the first one's. Prints a Markdown table and writes it to
# BENCH_MPI_RESULTS (default bench/out/mpi-results.md).
#
# For clean numbers pause other work first (on the project VM: touch /work/notes/quiet, and
# rm it afterwards).
#
# Environment:
#   CSVAVRO_BUILD      build directory with MPI (default build/)
#   BENCH_MPI_BYTES    size of the file (default 500000000)
#   BENCH_SEED         generator seed (default 2013)
#   BENCH_RUNS         timed runs per case (default 5; the median and min-max are reported)
#   BENCH_SPLIT        --split-size (default 64M, the convert default)
#   MPIRUN_FLAGS       extra mpirun flags (default: --oversubscribe --bind-to none)
#   BENCH_MPI_OUT      where the outputs go (default /dev/shm/csvavro-bench-mpi: tmpfs, so that
#                      the disk's fsync speed does not hide the CPU work; removed at the end)
#   BENCH_JOB          reference (default) or heavy: every column, --codec deflate (CPU-bound:
#                      parse, convert and compress every field, little output)
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CSVAVRO_BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BYTES=${BENCH_MPI_BYTES:-500000000}
SEED=${BENCH_SEED:-2013}
RUNS=${BENCH_RUNS:-5}
SPLIT=${BENCH_SPLIT:-64M}
DATA=$ROOT/bench/data
# outputs on tmpfs by default: this VM's disk (fsync at close) would otherwise set the pace
OUT=${BENCH_MPI_OUT:-}
if [ -z "$OUT" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then OUT=/dev/shm/csvavro-bench-mpi; else OUT=$ROOT/bench/out/mpi; fi
fi
RESULTS=${BENCH_MPI_RESULTS:-$ROOT/bench/out/mpi-results-${BENCH_JOB:-reference}.md}
C=$BUILD/csvavro
read -r -a FLAGS <<< "${MPIRUN_FLAGS:---oversubscribe --bind-to none}"
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
KIND=${BENCH_JOB:-reference}
case $KIND in
  reference) JOB=(--where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs) ;;
  heavy) JOB=(--codec deflate) ;;
  *) echo "BENCH_JOB: reference or heavy" >&2; exit 2 ;;
esac
JOB+=(--seed 1 --split-size "$SPLIT" --progress lines --overwrite)

say() { printf '[bench-mpi %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FATAL: $*"; exit 1; }
command -v mpirun > /dev/null || die "mpirun not found (apt-get install openmpi-bin)"
[ -x "$C" ] || die "$C not built (make, or set CSVAVRO_BUILD)"
ldd "$C" | grep -q libmpi || die "$C was built without MPI (install libopenmpi-dev and reconfigure)"
[ -x "$BUILD/gen_taxi" ] || die "$BUILD/gen_taxi not built"
mkdir -p "$DATA" "$OUT" "$(dirname "$RESULTS")" || die "cannot create $DATA or $OUT"

IN=$DATA/taxi-$BYTES-s$SEED.csv
if [ ! -s "$IN" ]; then
  say "generating $IN"
  "$BUILD/gen_taxi" --bytes "$BYTES" --seed "$SEED" > "$IN.tmp" && mv "$IN.tmp" "$IN" || die "gen_taxi failed"
fi
MB=$(awk -v b="$(stat -c %s "$IN")" 'BEGIN {printf "%.1f", b / 1e6}')

now() { date +%s.%N; }
# run_once ID CMD...: one run of CMD; appends the wall-clock seconds to $ID.t and the job's own
# elapsed time from its summary (temporary directory to commit, without process start-up and
# MPI_Init) to $ID.j
run_once() {
  local id=$1 t0 t1
  shift
  t0=$(now)
  "$@" 2> "$OUT/$id.err" > "$OUT/$id.out" || { cat "$OUT/$id.err" >&2; die "$id failed"; }
  t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$OUT/$id.t"
  sed -n 's/^csvavro convert: done: .*; \([0-9.]*\) s, .*/\1/p' "$OUT/$id.err" >> "$OUT/$id.j"
}
# time_cases ID... : RUNS rounds, each running every case once in turn (so that other load on
# the machine hits every case alike); CMD_<ID> holds each case's command
time_cases() {
  local id r
  for id in "$@"; do : > "$OUT/$id.t"; : > "$OUT/$id.j"; done
  for r in $(seq 1 "$RUNS"); do
    for id in "$@"; do
      eval "run_once $id \"\${CMD_$id[@]}\""
    done
  done
  for id in "$@"; do
    sort -g "$OUT/$id.t" -o "$OUT/$id.t"
    sort -g "$OUT/$id.j" -o "$OUT/$id.j"
    say "$id: wall $(tr '\n' ' ' < "$OUT/$id.t")s; job $(tr '\n' ' ' < "$OUT/$id.j")s"
  done
}
# median ID [t|j], range ID [t|j]
median() { awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}' "$OUT/$1.${2:-t}"; }
range() { awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f–%.2f", lo, hi}' "$OUT/$1.${2:-t}"; }
same_as_first() { diff -rq --exclude=_SUCCESS "$OUT/p1" "$OUT/$1" > /dev/null || die "$1: outputs differ from the one-process run"; }

NSPLITS=$("$C" convert "$IN" "$OUT/dry/t.*.avro" "${JOB[@]}" --dry-run | grep -c '^split ')
say "$IN: $MB MB, $NSPLITS splits of $SPLIT"

CMD_p1=("$C" convert "$IN" "$OUT/p1/t.*.avro" "${JOB[@]}" -j1)
CMD_n1=(mpirun "${FLAGS[@]}" -np 1 "$C" convert "$IN" "$OUT/n1/t.*.avro" "${JOB[@]}" -j1)
CMD_n2=(mpirun "${FLAGS[@]}" -np 2 "$C" convert "$IN" "$OUT/n2/t.*.avro" "${JOB[@]}" -j1)
CMD_p2=("$C" convert "$IN" "$OUT/p2/t.*.avro" "${JOB[@]}" -j2)
head -1000 "$IN" > "$OUT/small.csv"
CMD_launch=(mpirun "${FLAGS[@]}" -np 2 "$C" convert "$OUT/small.csv" "$OUT/launch/t.*.avro" "${JOB[@]}" -j1)
CMD_plan=("$C" convert "$IN" "$OUT/plan/t.*.avro" "${JOB[@]}" --dry-run)
time_cases p1 n1 n2 p2 launch plan
for id in n1 n2 p2; do same_as_first $id; done

row() { # id label workers
  awk -v l="$2" -v w="$3" -v m="$(median "$1")" -v r="$(range "$1")" -v mb="$MB" -v p1="$(median p1)" \
    -v jm="$(median "$1" j)" -v jr="$(range "$1" j)" -v jp1="$(median p1 j)" \
    'BEGIN {printf "| %s | %s | %.2f (%s) | %.0f | %.2f× | %.2f (%s) | %.0f | %.2f× |\n", l, w, m, r, mb / m, p1 / m, jm, jr, mb / jm, jp1 / jm}'
}
{
  echo "## One convert job over MPI ranks — $(date -u +%Y-%m-%d), $(nproc) cores, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "Input: $MB MB generated NYC-taxi-like CSV, $NSPLITS splits of $SPLIT; job: $KIND (\`${JOB[*]:0:${#JOB[@]}-7}\`);"
  echo "outputs in $OUT; median of $RUNS runs (min–max). Open MPI $(mpirun --version 2>&1 | head -1 | awk '{print $NF}'), \`mpirun ${FLAGS[*]}\`."
  echo
  echo "| case | workers | wall s | wall MB/s | speed-up | job s | job MB/s | job speed-up |"
  echo "|---|---|---|---|---|---|---|---|"
  row p1 "one process, -j1" 1
  row n1 "mpirun -np 1, -j1" 1
  row n2 "mpirun -np 2, -j1 each" 2
  row p2 "one process, -j2" 2
  echo
  echo
  echo "wall: the whole command (with mpirun and MPI_Init); job: the summary's elapsed time"
  echo "(temporary directory, plan broadcast, splits, verification, commit)."
  echo
  awk -v p1="$(median p1 j)" -v n="$NSPLITS" -v l="$(median launch)" -v lj="$(median launch j)" -v pl="$(median plan)" 'BEGIN {
    printf "- per-split cost (one process -j1, job time / splits): %.3f s per %s split\n", p1 / n, "'"$SPLIT"'"
    printf "- mpirun -np 2 on a 1000-line input: %.2f s wall, of which the job %.3f s (the rest: mpirun start-up, MPI_Init, MPI_Finalize)\n", l, lj
    printf "- rank-0 planning of this input (--dry-run, wall: process start, list, header, schema inference, splits): %.3f s\n", pl
  }'
} | tee "$RESULTS"
say "written $RESULTS"
case $OUT in /dev/shm/*) rm -rf "$OUT" ;; esac
