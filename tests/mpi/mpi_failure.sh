#!/bin/bash
# A rank fails mid-job (test-only injection: CSVAVRO_FAIL_RANK=r CSVAVRO_FAIL_AFTER_SPLITS=k):
# the job exits non-zero with that rank's error, printed once by rank 0 with the rank number;
# nothing final is left (no outputs, no _SUCCESS, no temporary directory; with --overwrite the
# old outputs stay as they were); the rerun succeeds with the same files as the single-process
# run. Local output with rank 1 and rank 0 failing, HDFS output with rank 2 failing.
. "$(dirname "$0")/lib.sh"
"$CSVAVRO_BUILD/gen_taxi" --bytes 2000000 --seed 12 > "$T/t.csv"
REF=(--where 'trip_time_in_secs > 600' --select medallion,trip_time_in_secs --seed 2 --split-size 100K -j1)
$C convert "$T/t.csv" "$T/ref/t.*.avro" "${REF[@]}" -q || fail "single-process run"

FAIL_RANKS="1 0"
[ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && FAIL_RANKS=0 # rank 2 (not 0) fails in the hdfs case below
for r in $FAIL_RANKS; do
  if CSVAVRO_FAIL_RANK=$r CSVAVRO_FAIL_AFTER_SPLITS=2 mpi 3 $C convert "$T/t.csv" "$T/out$r/t.*.avro" "${REF[@]}" \
      --progress lines 2> "$T/err$r"; then
    fail "rank $r failed but the job succeeded"
  fi
  [ "$(grep -c '^csvavro: split [0-9]*: rank '$r' ([^)]*): injected failure' "$T/err$r")" -eq 1 ] ||
    fail "rank $r's error, once: $(cat "$T/err$r")"
  grep -q "csvavro convert: done" "$T/err$r" && fail "summary after a failure: $(cat "$T/err$r")"
  [ -z "$(ls -A "$T/out$r" 2>/dev/null)" ] || fail "left behind: $(ls -A "$T/out$r")"
  mpi 3 $C convert "$T/t.csv" "$T/out$r/t.*.avro" "${REF[@]}" -q || fail "rerun after rank $r failed"
  same_tree "$T/ref" "$T/out$r"
  ok "rank $r fails after 2 splits: job failed with its error, nothing left, rerun identical"
done

# --overwrite: a failed job leaves the old outputs as they were
cp -r "$T/out0" "$T/before"
if CSVAVRO_FAIL_RANK=2 CSVAVRO_FAIL_AFTER_SPLITS=1 mpi 3 $C convert "$T/t.csv" "$T/out0/t.*.avro" --overwrite \
    --select medallion --seed 9 --split-size 100K -j1 -q 2> "$T/err"; then
  fail "failed --overwrite job succeeded"
fi
grep -q "rank 2 .*injected failure" "$T/err" || fail "error: $(cat "$T/err")"
diff -r "$T/before" "$T/out0" || fail "old outputs changed by a failed --overwrite job"
ok "failed --overwrite job keeps the old outputs"

# HDFS output
start_hdfsd --block-size 512K --replication 1
U=hdfs://$NN
$C fs put "$T/t.csv" $U/tmp/t.csv || fail put
if CSVAVRO_FAIL_RANK=2 CSVAVRO_FAIL_AFTER_SPLITS=1 mpi 3 $C convert $U/tmp/t.csv "$U/tmp/out/t.*.avro" "${REF[@]}" \
    -q 2> "$T/err"; then
  fail "hdfs: rank 2 failed but the job succeeded"
fi
grep -q "^csvavro: split [0-9]*: rank 2 ([^)]*): injected failure" "$T/err" || fail "hdfs error: $(cat "$T/err")"
[ -z "$($C fs ls $U/tmp/out 2>/dev/null)" ] || fail "left on hdfs: $($C fs ls $U/tmp/out)"
mpi 3 $C convert $U/tmp/t.csv "$U/tmp/out/t.*.avro" "${REF[@]}" -q || fail "hdfs rerun"
$C convert $U/tmp/t.csv "$T/href/t.*.avro" "${REF[@]}" -q || fail "hdfs single-process"
for f in "$T"/href/*.avro; do
  $C fs cat "$U/tmp/out/$(basename "$f")" | cmp -s - "$f" || fail "hdfs rerun: $(basename "$f") differs"
done
ok "hdfs: rank 2 fails, nothing left on hdfs, rerun identical"
echo OK
