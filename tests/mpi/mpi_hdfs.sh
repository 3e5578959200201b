#!/bin/bash
# One convert job over 1, 2 and 3 MPI ranks on csvavro-hdfsd input (256K blocks, replication 2):
# hdfs -> hdfs and hdfs -> local outputs are byte-identical (--seed) to the single-process run;
# the summary counts splits whose replicas sit on hosts without a rank as remote, and as local
# once the ranks claim the DataNodes' host name.
. "$(dirname "$0")/lib.sh"
start_hdfsd --block-size 256K --replication 2
U=hdfs://$NN
"$CSVAVRO_BUILD/gen_taxi" --bytes 1500000 --seed 8 > "$T/t.csv"
$C fs mkdir -p $U/in || fail mkdir
$C fs put "$T/t.csv" $U/in/t.csv || fail put
REF=(--where 'passenger_count > 2' --select pickup_datetime,passenger_count,trip_distance
     --seed 21 --split-size 128K -j1)
$C convert $U/in/t.csv "$T/ref/t.*.avro" "${REF[@]}" -q || fail "single-process hdfs -> local"
$C convert $U/in/t.csv "$U/ref/t.*.avro" "${REF[@]}" -q || fail "single-process hdfs -> hdfs"
nsplits=$(ls "$T/ref" | grep -c avro)
[ "$nsplits" -ge 10 ] || fail "expected at least 10 splits, got $nsplits"
for i in $(seq 0 $((nsplits - 1))); do
  $C fs cat $U/ref/t.$i.avro | cmp -s - "$T/ref/t.$i.avro" || fail "hdfs and local reference differ (split $i)"
done

for np in $NPS; do
  mpi $np $C convert $U/in/t.csv "$U/np$np/t.*.avro" "${REF[@]}" --progress lines 2> "$T/log$np" ||
    { cat "$T/log$np" >&2; fail "mpirun -np $np hdfs -> hdfs"; }
  mkdir -p "$T/got$np"
  for i in $(seq 0 $((nsplits - 1))); do $C fs cat $U/np$np/t.$i.avro > "$T/got$np/t.$i.avro"; done
  $C fs cat $U/np$np/_SUCCESS > "$T/got$np/_SUCCESS"
  [ "$($C fs ls $U/np$np | wc -l)" -eq $((nsplits + 1)) ] || fail "np $np: unexpected files: $($C fs ls $U/np$np)"
  sed "s#$U/ref/#$U/np$np/#g" <($C fs cat $U/ref/_SUCCESS) | manifest_norm > "$T/man.ref"
  manifest_norm < "$T/got$np/_SUCCESS" | cmp -s - "$T/man.ref" || fail "np $np: _SUCCESS differs"
  rm "$T/got$np/_SUCCESS"
  diff -rq --exclude=_SUCCESS "$T/ref" "$T/got$np" || fail "np $np: hdfs output differs from the single-process run"
  splits_by_rank "$T/log$np" > "$T/ranks$np"
  [ "$(wc -l < "$T/ranks$np")" -eq $np ] || fail "np $np: summary: $(cat "$T/log$np")"
  # the DataNodes call themselves "localhost"; the ranks' host is this machine's name
  [ "$(awk -F: '{s += $4} END {print s}' "$T/ranks$np")" -eq "$nsplits" ] || fail "np $np: expected only remote splits: $(cat "$T/ranks$np")"
  ok "np $np: hdfs -> hdfs identical ($(tr '\n' ' ' < "$T/ranks$np"))"
done

CSVAVRO_HOSTNAME=localhost mpi 3 $C convert $U/in/t.csv "$T/np3/t.*.avro" "${REF[@]}" --progress lines 2> "$T/log" ||
  { cat "$T/log" >&2; fail "mpirun -np 3 hdfs -> local"; }
same_tree "$T/ref" "$T/np3"
splits_by_rank "$T/log" > "$T/ranks"
[ "$(awk -F: '{s += $3} END {print s}' "$T/ranks")" -eq "$nsplits" ] || fail "expected only local splits: $(cat "$T/ranks")"
ok "np 3: hdfs -> local identical, every split local for ranks named localhost ($(tr '\n' ' ' < "$T/ranks"))"
echo OK
