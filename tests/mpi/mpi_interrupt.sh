#!/bin/bash
# An interrupted MPI job (SIGINT or SIGTERM to mpirun, and Ctrl-C = SIGINT to the whole process
# group) exits non-zero, says "interrupted", leaves no rank running and nothing final (no part
# file, no _SUCCESS, no temporary directory); the rerun gives the single-process outputs.
# -j1, small splits and xz -6 keep the job slow enough (~5 s) to be caught mid-way: mpirun takes
# up to ~2 s to pass a signal on and end, and a job that finishes first commits normally.
. "$(dirname "$0")/lib.sh"
"$CSVAVRO_BUILD/gen_taxi" --bytes 40000000 --seed 4 > "$T/big.csv"
JOB=(convert "$T/big.csv" -j1 --split-size 128K --seed 1 -q)
SLOW=(--codec xz --level 6)

n=0
for how in INT:mpirun TERM:mpirun INT:group; do
  sig=${how%%:*} to=${how#*:}
  n=$((n + 1))
  out=$T/o$n
  # setsid: mpirun leads its own process group, as a job started from a shell prompt does
  setsid "${MPIRUN[@]}" -np 2 $C "${JOB[@]}" "${SLOW[@]}" "$out/t.*.avro" 2> "$T/err$n" &
  pid=$!
  for _ in $(seq 1 6000); do
    compgen -G "$out/.csvavro-tmp-*/split.3.avro" > /dev/null && break
    kill -0 $pid 2>/dev/null || fail "$how: the job ended before it could be interrupted"
    sleep 0.01
  done
  compgen -G "$out/.csvavro-tmp-*/split.3.avro" > /dev/null || fail "$how: no split written in 60 s"
  if [ "$to" = group ]; then kill -"$sig" -- -$pid; else kill -"$sig" $pid; fi
  set +e
  wait $pid
  rc=$?
  set -e
  [ $rc -ne 0 ] || fail "$how: interrupted job exited 0"
  grep -q "^csvavro: interrupted" "$T/err$n" || fail "$how: no 'interrupted' message: $(cat "$T/err$n")"
  for _ in $(seq 1 100); do pgrep -f -- "$out/t" > /dev/null || break; sleep 0.1; done
  pgrep -fa -- "$out/t" && fail "$how: ranks still running"
  [ -z "$(ls -A "$out" 2>/dev/null)" ] || fail "$how: left behind: $(ls -A "$out")"
  ok "SIG$sig to $to: exit $rc, interrupted, nothing left"
done

$C "${JOB[@]}" "$T/ref/t.*.avro" || fail "single-process run"
mpi 2 $C "${JOB[@]}" "$T/o1/t.*.avro" || fail "rerun"
same_tree "$T/ref" "$T/o1"
ok "rerun after an interrupt gives the single-process outputs"
echo OK
