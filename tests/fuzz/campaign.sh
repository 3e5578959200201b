#!/usr/bin/env bash
# tests/fuzz/campaign.sh — a long fuzzing campaign on a shared machine: ONE libFuzzer process at
# a time, niced, each target in turn for CHUNK seconds (default 60), round after round, until
# killed (SIGTERM/SIGINT stops the current fuzzer too). Each target grows its own corpus in
# WORK/<target> (seeded from tests/fuzz/corpus/<target>, which is never written); findings
# (crash-*, leak-*, timeout-*, oom-*) land in WORK/findings/<target>/. While QUIET_FILE exists
# (default /work/notes/quiet) no new chunk starts. Per chunk one line is appended to
# WORK/log.tsv: time, target, seconds, execs, cov, ft, exit status.
#
#   tests/fuzz/campaign.sh [BUILD_DIR] [WORK_DIR]     (defaults: build-fuzz, /work/fuzzwork)
#   tests/fuzz/campaign.sh --report [WORK_DIR]        totals per target from log.tsv
# Targets are those with an executable BUILD_DIR/fuzz_<name>, re-checked every round, so new
# targets join the rotation once built.
set -u
# The decoders hold up to their documented state (zstd window 128 MiB, xz memlimit 256 MiB,
# src/io/io_input.c): their targets may allocate that much; every other target 100 MB.
malloc_limit_mb() {
    case $1 in gunzip | bunzip2 | unzstd | unxz | unzip | chunks) echo 320 ;; *) echo 100 ;; esac
}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = "--report" ]; then
    WORK=${2:-/work/fuzzwork}
    printf '%-10s %8s %12s %6s %6s %7s\n' target minutes execs cov ft nonzero
    awk -F'\t' 'NR > 1 { s[$2] += $3; e[$2] += $4; if ($5 != "") c[$2] = $5; if ($6 != "") f[$2] = $6;
                         if ($7 != 0) bad[$2]++ }
                END { for (t in s) printf "%-10s %8.1f %12d %6s %6s %7d\n", t, s[t] / 60, e[t], c[t], f[t], bad[t] }' \
        "$WORK/log.tsv" | sort
    exit 0
fi
BUILD=${1:-$SRC/build-fuzz}
WORK=${2:-/work/fuzzwork}
CHUNK=${CHUNK:-60}
QUIET_FILE=${QUIET_FILE:-/work/notes/quiet}
ALL="csv_value csv_scan where avro_read roundtrip hdfs_rpc hdfs_read hdfsd_image hdfs_sasl hdfsd_sasl hdfs_token hdfsd_dtoken chunks hdfs_dtp hdfsd_dtp"
mkdir -p "$WORK/logs"
[ -f "$WORK/log.tsv" ] || printf 'time\ttarget\tseconds\texecs\tcov\tft\tstatus\n' >"$WORK/log.tsv"
child=
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
while :; do
    ran=0
    for t in $ALL; do
        bin=$BUILD/fuzz_$t
        [ -x "$bin" ] || continue
        while [ -e "$QUIET_FILE" ]; do sleep 5; done
        mkdir -p "$WORK/$t" "$WORK/findings/$t"
        seeds=$SRC/tests/fuzz/corpus/$t
        [ -d "$seeds" ] || seeds=
        log=$WORK/logs/$t.last
        t0=$(date +%s)
        envs=() # the DataNode SASL targets: see tests/hdfs/lsan.supp
        case $t in *_dtp | hdfsd_dtoken) envs=(LSAN_OPTIONS="suppressions=$SRC/tests/hdfs/lsan.supp:print_suppressions=0"
                                ASAN_OPTIONS="fast_unwind_on_malloc=0:${ASAN_OPTIONS:-}") ;; esac
        env "${envs[@]}" nice -n 10 "$bin" -max_total_time="$CHUNK" -rss_limit_mb=2048 -malloc_limit_mb="$(malloc_limit_mb "$t")" -timeout=10 \
            -print_final_stats=1 -artifact_prefix="$WORK/findings/$t/" "$WORK/$t" $seeds \
            >"$log" 2>&1 &
        child=$!
        wait "$child"
        rc=$?
        child=
        secs=$(($(date +%s) - t0))
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%FT%T)" "$t" "$secs" "${execs:-0}" \
            "$cov" "$ft" "$rc" >>"$WORK/log.tsv"
        [ "$rc" != 0 ] && cp "$log" "$WORK/findings/$t/log-$(date +%s).txt"
        ran=1
    done
    [ "$ran" = 1 ] || sleep 30
done
