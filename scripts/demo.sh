#!/usr/bin/env bash
# make demo: generate a NYC-taxi-like sample, show it, run the reference job on it and print a
# few decoded rows of the output; then the same job on csvavro-hdfsd, plain and kerberized.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
D=$B/demo
mkdir -p "$D"
$B/gen_taxi --rows 200000 --seed 1 > "$D/trip_data.csv"
echo "== csvavro head $D/trip_data.csv -n 5"
$B/csvavro head "$D/trip_data.csv" -n 5 || true
echo
echo "== csvavro convert $D/trip_data.csv '$D/out/trip.*.avro' --where 'passenger_count > 3' \\"
echo "       --select pickup_datetime,passenger_count,trip_time_in_secs --split-size 8M --overwrite"
$B/csvavro convert "$D/trip_data.csv" "$D/out/trip.*.avro" --where 'passenger_count > 3' \
    --select pickup_datetime,passenger_count,trip_time_in_secs --split-size 8M --overwrite
echo
echo "== ls $D/out"
ls -l "$D/out"
echo
echo "== csvavro cat '$D/out/trip.*.avro' -n 5"
$B/csvavro cat "$D/out/trip.*.avro" -n 5
echo
echo "== the same rows read by python3-avro"
/usr/bin/python3 - "$D/out/trip.0.avro" <<'PYEOF'
import sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
with open(sys.argv[1], "rb") as f:
    for i, rec in enumerate(DataFileReader(f, DatumReader())):
        if i == 5:
            break
        print(rec)
PYEOF

# The same job on HDFS: our HDFS-compatible server (csvavro-hdfsd, 3 DataNodes on 127.0.0.2-4, 8 MiB blocks, 2 replicas)
# on a free port, the CSV put into it, converted hdfs:// -> hdfs:// with splits on the blocks.
HD=$D/hdfs
rm -rf "$HD"
mkdir -p "$HD"
$B/csvavro-hdfsd --data "$HD/data" --port 0 --block-size 8M --datanode-hosts --replication 2 >"$HD/out" 2>"$HD/err" &
HDFSD_PID=$!
trap 'kill $HDFSD_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -s "$HD/out" ] && break
  sleep 0.05
done
NN=$(sed -n 1p "$HD/out")
[ -n "$NN" ] || { cat "$HD/err" >&2; echo "demo: csvavro-hdfsd did not start" >&2; exit 1; }
echo
echo "== csvavro-hdfsd listening on $NN"
$B/csvavro fs mkdir -p "hdfs://$NN/nyc"
$B/csvavro fs put "$D/trip_data.csv" "hdfs://$NN/nyc/trip_data.csv"
echo "== csvavro fs ls -l hdfs://$NN/nyc"
$B/csvavro fs ls -l "hdfs://$NN/nyc"
echo
echo "== csvavro convert hdfs://$NN/nyc/trip_data.csv 'hdfs://$NN/nyc/avro/trip.*.avro' ... --dry-run"
$B/csvavro convert "hdfs://$NN/nyc/trip_data.csv" "hdfs://$NN/nyc/avro/trip.*.avro" \
    --where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs --dry-run
echo
echo "== the same without --dry-run"
$B/csvavro convert "hdfs://$NN/nyc/trip_data.csv" "hdfs://$NN/nyc/avro/trip.*.avro" \
    --where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs
$B/csvavro fs ls "hdfs://$NN/nyc/avro"
echo
echo "== csvavro cat --count 'hdfs://$NN/nyc/avro/trip.*.avro' (read back: must equal rows kept)"
$B/csvavro cat --count "hdfs://$NN/nyc/avro/trip.*.avro"

# The same job on a kerberized HDFS: a throwaway MIT KDC (scripts/testkdc.sh, loopback only),
# csvavro-hdfsd in secure mode (Kerberos-only RPC, privacy, block tokens) and alice's ticket.
echo
if ! bash scripts/testkdc.sh start "$HD/kdc" >"$HD/kdc.env" 2>"$HD/kdc.err"; then
  echo "== secure leg skipped: $(tail -1 "$HD/kdc.err") (scripts/deps.sh installs the MIT KDC)"
  exit 0
fi
(
  . "$HD/kdc.env"
  trap 'bash scripts/testkdc.sh stop "$HD/kdc"; kill $SPID 2>/dev/null || true' EXIT
  $B/csvavro-hdfsd --data "$HD/sdata" --keytab "$HD/kdc/hdfs.keytab" \
      --kerberos-principal hdfs/localhost@CSVAVRO.TEST --rpc-protection privacy \
      --conf-dir "$HD/conf" >"$HD/sout" 2>"$HD/serr" &
  SPID=$!
  for _ in $(seq 1 100); do [ -s "$HD/sout" ] && break; sleep 0.05; done
  export HADOOP_CONF_DIR=$HD/conf
  echo "== secure csvavro-hdfsd on $(sed -n 1p "$HD/sout") (realm CSVAVRO.TEST, rpc protection privacy)"
  echo "== without a ticket:"
  $B/csvavro fs ls hdfs:/// || true
  kinit -kt "$HD/kdc/alice.keytab" alice
  echo "== kinit alice; csvavro fs put + convert hdfs:// -> hdfs:// + cat --count"
  $B/csvavro fs mkdir -p hdfs:///tmp/nyc
  $B/csvavro fs put "$D/trip_data.csv" hdfs:///tmp/nyc/trip_data.csv
  $B/csvavro convert hdfs:///tmp/nyc/trip_data.csv 'hdfs:///tmp/nyc/avro/trip.*.avro' \
      --where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs
  $B/csvavro fs ls -l hdfs:///tmp/nyc/avro
  $B/csvavro cat --count 'hdfs:///tmp/nyc/avro/trip.*.avro'
)
