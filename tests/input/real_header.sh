#!/usr/bin/env bash
# Issue 13 "Done means": the README's headline command, unchanged,
#   csvavro convert INPUT 'out/trip.*.avro' --where 'passenger_count > 3' \
#       --select pickup_datetime,passenger_count,trip_time_in_secs
# on a file with the real TLC 2013 header (a space after every comma), and on the same file as
# .gz, .bz2, .zst, .xz, .zip, multi-member gzip, multi-stream bzip2, multi-frame zstd, gzip
# bytes named .csv, and piped through stdin (plain and gzip): every run gives the same rows as
# Python's csv module computes (read back with python3-avro). Then the refusals: a .gz that is
# not gzip, truncated data, a zip with two files, --infer-rows all on a stream.
set -euo pipefail
BIN=${CSVAVRO_BIN:?} SRC=${CSVAVRO_SRC:?}
PY=/usr/bin/python3
for t in gzip bzip2 zstd xz zip; do
  command -v $t > /dev/null || { echo "skipped: $t not installed (scripts/deps.sh)"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
rows=6000
[ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && rows=3000
$PY "$SRC/tests/input/gen_tlc.py" $rows 13 > trip_data_1.csv
head -c 300 trip_data_1.csv | head -1 | grep -q '^medallion, hack_license, vendor_id,'

# the variants
gzip -c trip_data_1.csv > v.csv.gz
bzip2 -c trip_data_1.csv > v.csv.bz2
zstd -q -c trip_data_1.csv > v.csv.zst
xz -c trip_data_1.csv > v.csv.xz
zip -q v.zip trip_data_1.csv
cp v.csv.gz gzip_named.csv
# several members/streams/frames: cut the file at arbitrary byte offsets (inside records)
split -b 200000 trip_data_1.csv part.
for p in part.*; do gzip -c "$p" >> multi.csv.gz; bzip2 -c "$p" >> multi.csv.bz2; zstd -q -c "$p" >> multi.csv.zst; done
[ "$(ls part.* | wc -l)" -ge 2 ]

$PY - > expected.jsonl <<'PYEOF'
import csv, datetime, json
epoch = datetime.datetime(1970, 1, 1)
def micros(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
    return (d - epoch) // datetime.timedelta(microseconds=1)
with open("trip_data_1.csv", newline="") as f:
    rd = csv.reader(f)
    h = [c.strip() for c in next(rd)]
    ip, ic, it = h.index("pickup_datetime"), h.index("passenger_count"), h.index("trip_time_in_secs")
    for r in rd:
        if r[ic] and int(r[ic]) > 3:
            print(json.dumps([micros(r[ip]), int(r[ic]), int(r[it])]))
PYEOF
[ "$(wc -l < expected.jsonl)" -gt 100 ]

check() { # name: compare out/trip.*.avro with expected.jsonl, and the trimmed names
  $PY - "$1" <<'PYEOF'
import glob, json, re, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
nat = lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]
got = []
for p in sorted(glob.glob("out/trip.*.avro"), key=nat):
    with open(p, "rb") as fh:
        r = DataFileReader(fh, DatumReader())
        sch = json.loads(r.meta["avro.schema"])
        assert [f["name"] for f in sch["fields"]] == ["pickup_datetime", "passenger_count", "trip_time_in_secs"], sch
        # the header text as written in the file stays in the field attribute
        assert sch["fields"][0].get("csvavro.header") == " pickup_datetime", sch["fields"][0]
        got += [json.dumps([x["pickup_datetime"], x["passenger_count"], x["trip_time_in_secs"]]) for x in r]
        r.close()
exp = open("expected.jsonl").read().split("\n")[:-1]
print(f"{sys.argv[1]}: {len(got)} rows, expected {len(exp)}")
assert got == exp, f"{sys.argv[1]}: rows differ"
PYEOF
}

run() { # name input [extra options]: the headline command, unchanged
  local name=$1 in=$2; shift 2
  rm -rf out
  "$BIN" convert "$in" 'out/trip.*.avro' --where 'passenger_count > 3' \
    --select pickup_datetime,passenger_count,trip_time_in_secs -q "$@"
  check "$name"
}

run plain trip_data_1.csv
run plain-small-splits trip_data_1.csv --split-size 64K -j2
for v in v.csv.gz v.csv.bz2 v.csv.zst v.csv.xz v.zip multi.csv.gz multi.csv.bz2 multi.csv.zst gzip_named.csv; do
  run "$v" "$v"
done
rm -rf out
cat trip_data_1.csv | "$BIN" convert - 'out/trip.*.avro' --where 'passenger_count > 3' \
  --select pickup_datetime,passenger_count,trip_time_in_secs -q
check stdin
rm -rf out
gzip -c trip_data_1.csv | "$BIN" convert - 'out/trip.*.avro' --where 'passenger_count > 3' \
  --select pickup_datetime,passenger_count,trip_time_in_secs -q
check stdin-gzip
rm -rf out
"$BIN" convert /dev/stdin 'out/trip.*.avro' --where 'passenger_count > 3' \
  --select pickup_datetime,passenger_count,trip_time_in_secs -q < <(zstd -q -c trip_data_1.csv)
check dev-stdin-zstd
# one Avro container on stdout: gzip | convert - -
rm -rf out; mkdir out
gzip -c trip_data_1.csv | "$BIN" convert - - --where 'passenger_count > 3' \
  --select pickup_datetime,passenger_count,trip_time_in_secs -q > out/trip.0.avro
check stdin-to-stdout
# the dry run names the codec; a compressed input is one split
rm -rf out
"$BIN" convert v.csv.bz2 'out/trip.*.avro' --dry-run > plan.txt
grep -q '^input 0: v.csv.bz2 (bzip2, read as a stream: one split)' plan.txt
[ "$(grep -c '^split ' plan.txt)" = 1 ]
# several compressed inputs run in parallel (one split each), rows in input order
mkdir many
for i in 1 2 3; do cp trip_data_1.csv many/t$i.csv; done
gzip many/t1.csv; bzip2 many/t2.csv; zstd -q --rm many/t3.csv
rm -rf out
"$BIN" convert many 'out/trip.*.avro' --select pickup_datetime -j2 -q
[ "$($BIN cat 'out/trip.*.avro' --count)" = $((3 * rows)) ] || { echo "parallel: wrong count"; exit 1; }
# head and schema on compressed input and stdin
"$BIN" head v.csv.xz -n 2 | grep -q 'pickup_datetime'
gzip -c trip_data_1.csv | "$BIN" schema - | grep -q '"csvavro.header": " pickup_datetime"'

# refusals: clear message naming the file, non-zero exit, no output
expect_fail() { # code pattern command...
  local code=$1 pat=$2; shift 2
  rm -rf out
  set +e; "$@" > msg.txt 2>&1; local rc=$?; set -e
  [ $rc = "$code" ] || { echo "exit $rc, want $code: $*"; cat msg.txt; exit 1; }
  grep -q -- "$pat" msg.txt || { echo "message lacks '$pat': $*"; cat msg.txt; exit 1; }
  [ ! -e out ] || { echo "output left behind: $*"; exit 1; }
}
printf 'a,b\n1,2\n' > notgzip.csv.gz
expect_fail 1 "notgzip.csv.gz: the name says gzip but the data does not start like gzip" \
  "$BIN" convert notgzip.csv.gz 'out/x.*.avro'
head -c 50000 v.csv.gz > trunc.csv.gz
expect_fail 1 "trunc.csv.gz: gzip data: truncated" "$BIN" convert trunc.csv.gz 'out/x.*.avro'
head -c 50000 v.csv.zst > trunc.csv.zst
expect_fail 1 "trunc.csv.zst: zstd data: truncated" "$BIN" convert trunc.csv.zst 'out/x.*.avro'
head -c 50000 v.csv.bz2 > trunc.csv.bz2
expect_fail 1 "trunc.csv.bz2: bzip2 data: truncated" "$BIN" convert trunc.csv.bz2 'out/x.*.avro'
head -c 50000 v.csv.xz > trunc.csv.xz
expect_fail 1 "trunc.csv.xz: xz data: truncated" "$BIN" convert trunc.csv.xz 'out/x.*.avro'
cp trip_data_1.csv second.csv
zip -q two.zip trip_data_1.csv second.csv
expect_fail 2 'two.zip: zip archive holds 2 files ("trip_data_1.csv", "second.csv")' \
  "$BIN" convert two.zip 'out/x.*.avro'
set +e; cat trip_data_1.csv | "$BIN" convert - 'out/x.*.avro' --infer-rows all > msg.txt 2>&1; rc=$?; set -e
[ $rc = 2 ] && grep -q "is a stream, read once" msg.txt || { echo "infer-rows all on stdin: exit $rc"; cat msg.txt; exit 1; }
echo OK
