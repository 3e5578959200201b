#!/usr/bin/env bash
# The reference job on a generated NYC-taxi-like file:
#   csvavro convert trip_data.csv 'out/trip.*.avro' --where 'passenger_count > 3' \
#       --select pickup_datetime,passenger_count,trip_time_in_secs
# Rows (count and values, in order) must equal an independent computation with Python's csv
# module, read back with python3-avro. Size: REF_BYTES (default 60 MB; 4 MB under the sanitizer
# build; the `large` variant sets 1 GB and compares count and an order-sensitive digest).
set -euo pipefail
BIN=${CSVAVRO_BIN:?} BUILD=${CSVAVRO_BUILD:?}
PY=/usr/bin/python3
bytes=${REF_BYTES:-60000000}
if [ "$bytes" -ge 500000000 ] && [ "${CSVAVRO_LARGE:-0}" != 1 ]; then
  echo "skipped: set CSVAVRO_LARGE=1 to run the reference job on $bytes bytes"; exit 77
fi
[ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && bytes=4000000
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
"$BUILD/gen_taxi" --bytes "$bytes" --seed 42 > trip_data.csv
"$BIN" convert trip_data.csv 'out/trip.*.avro' --where 'passenger_count > 3' \
  --select pickup_datetime,passenger_count,trip_time_in_secs --split-size 16M -j2 2> summary.txt
cat summary.txt
$PY - <<'PYEOF'
import csv, datetime, glob, hashlib, json, re, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader

epoch = datetime.datetime(1970, 1, 1)
def micros(s):
    d = datetime.datetime(int(s[0:4]), int(s[5:7]), int(s[8:10]), int(s[11:13]), int(s[14:16]), int(s[17:19]))
    return (d - epoch) // datetime.timedelta(microseconds=1)

exp = hashlib.sha256(); n_exp = 0; n_read = 0
with open("trip_data.csv", newline="") as f:
    rd = csv.reader(f)
    h = next(rd)
    ip, ic, it = h.index("pickup_datetime"), h.index("passenger_count"), h.index("trip_time_in_secs")
    for r in rd:
        n_read += 1
        if r[ic] and int(r[ic]) > 3:
            exp.update(json.dumps([micros(r[ip]), int(r[ic]), int(r[it])]).encode()); n_exp += 1

got = hashlib.sha256(); n_got = 0
files = sorted(glob.glob("out/trip.*.avro"), key=lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)])
for p in files:
    with open(p, "rb") as fh:
        rdr = DataFileReader(fh, DatumReader())
        assert [f.name for f in rdr.datum_reader.writers_schema.fields] == ["pickup_datetime", "passenger_count", "trip_time_in_secs"]
        for rec in rdr:
            got.update(json.dumps([rec["pickup_datetime"], rec["passenger_count"], rec["trip_time_in_secs"]]).encode()); n_got += 1
        rdr.close()
man = json.load(open("out/_SUCCESS"))
print(f"python csv: {n_read} rows read, {n_exp} kept; python3-avro: {n_got} rows in {len(files)} files")
assert n_got == n_exp and got.digest() == exp.digest(), "rows differ"
assert man["rows_kept"] == n_exp and man["rows_read"] == n_read
PYEOF
grep -q "rows read" summary.txt
echo OK
