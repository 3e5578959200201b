#!/usr/bin/env bash
# make demo: generate a NYC-taxi-like sample, show it, run the reference job on it and print a
# few decoded rows of the output.
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
