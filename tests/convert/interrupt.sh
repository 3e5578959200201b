#!/usr/bin/env bash
# Interrupted runs: SIGINT mid-job (-j1, small splits, a slow codec) must exit 130 and leave
# nothing final (no part file, no _SUCCESS, no temporary directory); a rerun then succeeds with
# every row. A run killed with SIGKILL leaves its temporary directory behind; the next run
# removes it (its pid is dead).
set -euo pipefail
BIN=${CSVAVRO_BIN:?} BUILD=${CSVAVRO_BUILD:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$T"
"$BUILD/gen_taxi" --bytes 6000000 --seed 4 > big.csv
rows=$(( $(wc -l < big.csv) - 1 ))

start_and_wait() { # $1 = output dir; starts the job, waits for its third split file
  "$BIN" convert big.csv "$1/t.*.avro" --codec xz --level 6 -j1 --split-size 128K --seed 1 -q &
  pid=$!
  for _ in $(seq 1 3000); do
    if compgen -G "$1/.csvavro-tmp-*/split.2.avro" > /dev/null; then return 0; fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
  done
  fail "the job ended before it could be interrupted"
}

start_and_wait o
kill -INT $pid
set +e
wait $pid; rc=$?
set -e
[ $rc -eq 130 ] || fail "SIGINT: exit code $rc, expected 130"
[ -z "$(ls -A o)" ] || fail "SIGINT left files: $(ls -A o)"

"$BIN" convert big.csv 'o/t.*.avro' -j2 --split-size 128K -q
[ -f o/_SUCCESS ] || fail "rerun: no _SUCCESS"
n=$("$BIN" cat 'o/t.*.avro' --count)
[ "$n" -eq "$rows" ] || fail "rerun: $n rows, expected $rows"

# SIGKILL: the temporary directory stays; the next run into the same place removes it
start_and_wait k
kill -KILL $pid
wait $pid || true
compgen -G "k/.csvavro-tmp-*" > /dev/null || fail "SIGKILL: no temporary directory to clean"
"$BIN" convert big.csv 'k/t.*.avro' -j2 --split-size 1M -q
compgen -G "k/.csvavro-tmp-*" > /dev/null && fail "stale temporary directory not removed"
n=$("$BIN" cat 'k/t.*.avro' --count)
[ "$n" -eq "$rows" ] || fail "after SIGKILL: $n rows, expected $rows"
echo OK
