#!/usr/bin/env bash
# tests/fuzz/ci.sh — the time-boxed fuzz run of CI (`make fuzz-ci`): every libFuzzer target of
# tests/fuzz/targets.txt in BUILD_DIR for SECONDS each (default 30; 21 targets = 10.5 min),
# starting from the committed corpus copied to a scratch directory (the repository is never
# written). Fails on the first finding and prints its log and the reproducer path (kept under
# the scratch directory).
#   tests/fuzz/ci.sh [BUILD_DIR] [SECONDS]
set -uo pipefail
# The decoders hold up to their documented state (zstd window 128 MiB, xz memlimit 256 MiB,
# src/io/io_input.c): their targets may allocate that much; every other target 100 MB.
malloc_limit_mb() {
    case $1 in gunzip | bunzip2 | unzstd | unxz | unzip | chunks) echo 320 ;; *) echo 100 ;; esac
}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build-fuzz}
SECS=${2:-30}
TARGETS=$(sed '/^#/d' "$SRC/tests/fuzz/targets.txt")
W=$(mktemp -d /tmp/csvavro-fuzz-ci.XXXXXX)
fail=0
for t in $TARGETS; do
    [ -x "$BUILD/fuzz_$t" ] || { echo "fuzz-ci: $BUILD/fuzz_$t missing (make fuzz)" >&2; exit 1; }
    mkdir -p "$W/$t/corpus" "$W/$t/art"
    cp "$SRC/tests/fuzz/corpus/$t/"* "$W/$t/corpus/"
    # the DataNode SASL targets and the token server: Cyrus SASL's DIGEST-MD5 plugin leaks a
    # fetched cipher per privacy connection, and a string when a response gives a directive
    # twice (library-internal, tests/hdfs/lsan.supp; slow unwinder to see it)
    envs=()
    case $t in *_dtp | hdfsd_dtoken) envs=(LSAN_OPTIONS="suppressions=$SRC/tests/hdfs/lsan.supp:print_suppressions=0"
                            ASAN_OPTIONS="fast_unwind_on_malloc=0:${ASAN_OPTIONS:-}") ;; esac
    env "${envs[@]}" "$BUILD/fuzz_$t" -max_total_time="$SECS" -rss_limit_mb=2048 -malloc_limit_mb="$(malloc_limit_mb $t)" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$W/$t/art/" "$W/$t/corpus" >"$W/$t/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/$t/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$W/$t/log" | tail -1)
    if [ $rc -ne 0 ]; then
        echo "fuzz-ci: $t FAILED (exit $rc); reproducer: $(ls "$W/$t/art/"* 2>/dev/null)" >&2
        tail -40 "$W/$t/log" >&2
        fail=1
    else
        echo "fuzz-ci: $t ok (${SECS}s, ${execs:-?} execs, $cov)"
    fi
done
if [ $fail -eq 0 ]; then rm -rf "$W"; else echo "fuzz-ci: findings kept in $W" >&2; fi
exit $fail
