#!/bin/bash
# convert against csvavro-hdfsd: an hdfs:// input of several blocks is cut at the block
# boundaries (the plan names each split's replica hosts), outputs go to hdfs:// in the pattern
# and single-file forms through the temporary directory and _SUCCESS, an existing output is
# refused; rows equal those of the same job on the local copy; a part file that cannot be closed
# fails the job and nothing is committed.
. "$(dirname "$0")/../hdfs/lib.sh"
start_hdfsd --block-size 1M --replication 2
C=$CSVAVRO_BIN
U=hdfs://$NN
"$CSVAVRO_BUILD/gen_taxi" --bytes 3500000 --seed 6 > "$T/trip.csv"
$C fs mkdir -p $U/nyc || fail mkdir
$C fs put "$T/trip.csv" $U/nyc/trip.csv || fail put
REF=(--where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs)

$C convert $U/nyc/trip.csv "$U/nyc/avro/trip.*.avro" "${REF[@]}" --dry-run > "$T/plan" || fail "dry run"
[ "$(grep -c '^split ' "$T/plan")" -eq 4 ] || fail "expected 4 splits (4 blocks): $(cat "$T/plan")"
grep '^split 1: ' "$T/plan" | grep -q "bytes 1048576\.\.2097152 (1048576) -> .* hosts " || fail "block-aligned split with hosts: $(cat "$T/plan")"
ok "splits at block boundaries with hosts"

$C convert $U/nyc/trip.csv "$U/nyc/avro/trip.*.avro" "${REF[@]}" -j2 -q || fail "convert to hdfs"
$C convert "$T/trip.csv" "$T/local/trip.*.avro" "${REF[@]}" -q || fail "local convert"
$C cat "$U/nyc/avro/trip.*.avro" > "$T/got.jsonl" || fail "cat from hdfs"
$C cat "$T/local/trip.*.avro" > "$T/exp.jsonl"
cmp -s "$T/got.jsonl" "$T/exp.jsonl" || fail "hdfs output differs from the local run"
[ "$(wc -l < "$T/got.jsonl")" -gt 1000 ] || fail "too few rows"
$C fs cat $U/nyc/avro/_SUCCESS | $PY -c 'import json,sys; m=json.load(sys.stdin); assert len(m["outputs"]) == 4, m; assert m["outputs"][0]["path"].startswith("hdfs://"), m' || fail "manifest"
$C fs ls $U/nyc/avro | grep -q csvavro-tmp && fail "temporary directory left on hdfs"
ok "pattern output on hdfs"

$C convert $U/nyc/trip.csv $U/nyc/one.avro "${REF[@]}" -q || fail "single file on hdfs"
$C cat $U/nyc/one.avro | cmp -s - "$T/exp.jsonl" || fail "single file rows"
if $C convert $U/nyc/trip.csv $U/nyc/one.avro -q 2>"$T/err"; then fail "existing hdfs output not refused"; fi
grep -q "exists" "$T/err" || fail "refusal: $(cat "$T/err")"
$C convert $U/nyc/trip.csv $U/nyc/one.avro "${REF[@]}" --overwrite -q || fail "--overwrite on hdfs"
ok "single file on hdfs, refusal and --overwrite"

# the single output assembled live at -j2 (exec_single.c): small splits, slow even splits, a
# tiny reorder buffer so that the splits running ahead spill to split files on hdfs; the full
# conversion's rows equal the local -j1 run's; an injected write failure of a middle split
# leaves neither the output nor the temporary directory
$C convert "$T/trip.csv" "$T/full1.avro" -j1 -q || fail "local full conversion"
$C cat "$T/full1.avro" > "$T/full1.jsonl"
CSVAVRO_TEST_SPLIT_DELAY=2:0:2 CSVAVRO_ORDER_TRACE=1 $C convert $U/nyc/trip.csv $U/nyc/live.avro \
  -j2 --split-size 256K --reorder-buffer 64K --block-size 16K -q 2>"$T/trace" \
  || fail "live single output on hdfs: $(cat "$T/trace")"
spilled=$(sed -n 's/.* \([0-9]*\) bytes spilled.*/\1/p' "$T/trace")
[ "${spilled:-0}" -gt 0 ] || fail "nothing spilled to hdfs: $(cat "$T/trace")"
$C cat $U/nyc/live.avro | cmp -s - "$T/full1.jsonl" || fail "live single output rows differ"
if CSVAVRO_TEST_SPLIT_FAIL=5 $C convert $U/nyc/trip.csv $U/nyc/live2.avro -j2 --split-size 256K \
  --reorder-buffer 64K -q 2>"$T/err"; then fail "injected failure succeeded"; fi
grep -q "injected failure" "$T/err" || fail "injected failure: $(cat "$T/err")"
$C fs ls $U/nyc | grep -q "live2\|csvavro-tmp" && fail "failed job left files: $($C fs ls $U/nyc)"
ok "single output assembled live on hdfs (spilling), a failed middle split leaves nothing"

# a part file whose close fails (closed by the background closer while the other splits run:
# every DataNode cuts its connections after 2000 bytes, so the pipelines are set up while the
# split runs and the data, sent when the file is closed, does not arrive) fails the job, names
# the file and commits nothing
for i in 1 2 3; do ctl "drop-after $i 2000"; done
if $C convert "$T/trip.csv" $U/nyc/cut/ "${REF[@]}" --split-size 1M -j2 -q 2>"$T/err"; then fail "job with failing part files succeeded"; fi
ctl reset
grep -q "split\.[0-9]*\.avro" "$T/err" || fail "error does not name the file: $(cat "$T/err")"
if $C fs ls $U/nyc/cut 2>/dev/null | grep -q "_SUCCESS\|part-"; then fail "files committed: $($C fs ls $U/nyc/cut)"; fi
ok "failed close of a part file: $(head -1 "$T/err")"
echo OK
