#!/bin/bash
# Data locality: csvavro-hdfsd with DataNodes dn1, dn2, dn3 on 127.0.0.2/3/4, replication 1,
# 128K blocks; three ranks each claim one of those hosts (CSVAVRO_HOSTNAME, one mpirun app
# context per rank). Every split must be processed by the rank on its replica's host: the
# summary's per-rank local counts equal the blocks on that host, remote counts are 0. The
# locality wait (delay scheduling) makes this independent of timing. A fourth run with a rank
# on a host without a DataNode: that rank can only read remotely; the output stays identical.
. "$(dirname "$0")/lib.sh"
start_hdfsd --datanode-hosts --datanodes 3 --replication 1 --block-size 128K
for _ in $(seq 1 600); do [ "$(grep -c '^datanode ' "$T/srv/out")" -ge 3 ] && break; sleep 0.05; done
for i in 1 2 3; do
  grep -q "^datanode $i 127\.0\.0\.$((i + 1)):[0-9]* dn$i\$" "$T/srv/out" || fail "datanode line: $(cat "$T/srv/out")"
done
U=hdfs://$NN
"$CSVAVRO_BUILD/gen_taxi" --bytes 1600000 --seed 9 > "$T/t.csv"
$C fs put "$T/t.csv" $U/tmp/t.csv || fail put
REF=(--select medallion,passenger_count,trip_time_in_secs --seed 5 -j1)
$C convert $U/tmp/t.csv "$T/plan/t.*.avro" "${REF[@]}" --dry-run > "$T/plan" || fail "dry run"
nsplits=$(grep -c '^split ' "$T/plan")
[ "$nsplits" -ge 12 ] || fail "expected at least 12 splits (blocks): $(cat "$T/plan")"
for i in 1 2 3; do
  n=$(grep -c "^split .* hosts dn$i\$" "$T/plan" || true)
  [ "$n" -ge 3 ] || fail "expected blocks spread over the DataNodes: $(cat "$T/plan")"
  eval "blocks_dn$i=$n"
done
$C convert $U/tmp/t.csv "$T/ref/t.*.avro" "${REF[@]}" -q || fail "single-process run"

app() { echo -np 1 env CSVAVRO_HOSTNAME=$1 $C convert $U/tmp/t.csv "$T/$2/t.*.avro" "${REF[@]}" --progress lines; }
CSVAVRO_LOCALITY_WAIT_MS=60000 timeout 180 "${MPIRUN[@]}" $(app dn1 loc) : $(app dn2 loc) : $(app dn3 loc) 2> "$T/log" ||
  { cat "$T/log" >&2; fail "mpirun with three hosts"; }
same_tree "$T/ref" "$T/loc"
splits_by_rank "$T/log" > "$T/ranks"
for i in 1 2 3; do
  eval "want=\$blocks_dn$i"
  line=$(grep "^csvavro convert: rank $((i - 1)) (dn$i): " "$T/log") || fail "no summary line for rank $((i - 1)): $(cat "$T/log")"
  echo "$line" | grep -q ": $want splits\{0,1\}: $want local, 0 remote, 0 without hosts\$" ||
    fail "rank $((i - 1)) on dn$i holds $want blocks: $line"
done
ok "every split processed on its replica's host: $(tr '\n' ' ' < "$T/ranks")"

# a rank on a host without a DataNode reads only remotely (locality wait 0: it takes remote
# splits at once); the others read locally what they take
timeout 180 "${MPIRUN[@]}" $(app dn1 mix) : $(app dn2 mix) : $(app elsewhere mix) 2> "$T/log2" ||
  { cat "$T/log2" >&2; fail "mpirun with a host without data"; }
same_tree "$T/ref" "$T/mix"
line=$(grep "^csvavro convert: rank 2 (elsewhere): " "$T/log2") || fail "summary: $(cat "$T/log2")"
echo "$line" | grep -q ": 0 local, [0-9]* remote, 0 without hosts\$" || fail "rank on elsewhere: $line"
splits_by_rank "$T/log2" > "$T/ranks2"
[ "$(awk -F: '{s += $3 + $4} END {print s}' "$T/ranks2")" -eq "$nsplits" ] || fail "counts: $(cat "$T/ranks2")"
ok "a rank without local data reads remotely, output identical: $(tr '\n' ' ' < "$T/ranks2")"
echo OK
