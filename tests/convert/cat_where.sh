#!/usr/bin/env bash
# cat --where on record columns (issue 15): a partitioned dataset, a plain file, a glob and a
# file written by python3-avro, each against python3-avro reading the same files and a Python
# predicate: SQL nulls, timestamp comparisons, a partition + record filter (a damaged file in a
# pruned partition is never opened), --count, --format csv and avro, -n; an unknown column
# (did-you-mean) and a term on an array field (named) are clear errors.
set -euo pipefail
BIN=${CSVAVRO_BIN:?} SRC=${CSVAVRO_SRC:?}
PY=/usr/bin/python3
$PY -c 'import avro' 2> /dev/null || { echo "SKIP: python3-avro missing"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
cd "$T"

$PY - <<'PYEOF'
import random, datetime
r = random.Random(3)
t0 = datetime.datetime(2013, 1, 1)
with open("p.csv", "w") as f:
    f.write("id,ts,city,fare,vendor\n")
    for i in range(3000):
        ts = "" if r.random() < 0.05 else (t0 + datetime.timedelta(seconds=r.randrange(365 * 86400))).strftime("%Y-%m-%d %H:%M:%S")
        fare = "" if r.random() < 0.1 else "%.2f" % (r.random() * 50)
        f.write('%d,%s,%s,%s,%s\n' % (i, ts, r.choice(["NYC", "BOS", ""]), fare, r.choice(["CMT", "VTS"])))
PYEOF
"$BIN" convert p.csv ds/ --partition-by 'year(ts),city' --split-size 20K -q
"$BIN" convert p.csv plain.avro -q
mkdir parts && "$BIN" convert p.csv 'parts/t.*.avro' --split-size 30K -q

# want.py TARGET PRED: the ids python3-avro reads from TARGET's files (partition columns from
# the Hive paths) where PRED (Python, over a dict r) is true, one per line, sorted
cat > want.py <<'PYEOF'
import datetime, glob, os, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
target, pred = sys.argv[1], eval("lambda r: " + sys.argv[2])
UTC = datetime.timezone.utc
def ts(s):  # csvavro writes local-timestamp-micros, which python3-avro leaves as a number
    return datetime.datetime.fromisoformat(s)
def utc(s):
    return datetime.datetime.fromisoformat(s).replace(tzinfo=UTC)
def local(v):
    return v if v is None else datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=v)
files = sorted(glob.glob(target + "/**/*.avro", recursive=True)) if os.path.isdir(target) else sorted(glob.glob(target))
ids = []
for fn in files:
    part = {}
    for d in os.path.relpath(fn, target).split("/")[:-1] if os.path.isdir(target) else []:
        k, v = d.split("=", 1)
        part[k] = None if v == "__HIVE_DEFAULT_PARTITION__" else (int(v) if v.isdigit() else v)
    for rec in DataFileReader(open(fn, "rb"), DatumReader()):
        rec.update(part)
        if isinstance(rec.get("ts"), int):
            rec["ts"] = local(rec["ts"])
        if pred(rec):
            ids.append(rec["id"])
print("\n".join(str(i) for i in sorted(ids)))
PYEOF
export PYTHONWARNINGS=ignore
ids() { $PY -c 'import json, sys; print("\n".join(str(i) for i in sorted(json.loads(l)["id"] for l in sys.stdin)))'; }
# check TARGET EXPR PRED: cat's records and --count against want.py
check() {
  $PY want.py "$1" "$3" > want.txt
  check_got "$1" "$2"
}
check_got() {
  "$BIN" cat "$1" --where "$2" | ids > got.txt || fail "cat $1 --where '$2'"
  diff -q want.txt got.txt > /dev/null || fail "cat $1 --where '$2': $(wc -l < got.txt) records, python3-avro $(wc -l < want.txt)"
  [ -s want.txt ] || fail "cat $1 --where '$2': python3-avro finds no record (a useless case)"
  n=$("$BIN" cat "$1" --where "$2" --count)
  [ "$n" = "$(wc -l < want.txt)" ] || fail "cat $1 --where '$2' --count: $n, python3-avro $(wc -l < want.txt)"
}
NULLS='r["fare"] is None'
check ds 'fare is null' "$NULLS"
check plain.avro 'fare is null' "$NULLS"
# SQL nulls: not (null > 10) is null, not true; `or` with a true side is true
check ds "not (fare > 10) or vendor = 'CMT'" \
  '(r["fare"] is not None and not r["fare"] > 10) or r["vendor"] == "CMT"'
TS='r["ts"] is not None and ts("2013-07-01T12:00:00") <= r["ts"] < ts("2013-08-01")'
check ds "ts >= '2013-07-01 12:00:00' and ts < '2013-08-01'" "$TS"
check plain.avro "ts >= '2013-07-01T12:00:00' and ts < '2013-08-01'" "$TS"
check 'parts/t.*.avro' "fare >= 25.5 and vendor = 'VTS'" 'r["fare"] is not None and r["fare"] >= 25.5 and r["vendor"] == "VTS"'
check ds "year is null or fare < 2" 'r["year"] is None or (r["fare"] is not None and r["fare"] < 2)'
ok "cat --where on records: dataset, file, glob; nulls, timestamps, --count"

# --format avro with partition and record terms over the dataset (before its files are damaged)
avro_ids() { $PY -c 'import sys; from avro.datafile import DataFileReader; from avro.io import DatumReader
print("\n".join(str(i) for i in sorted(r["id"] for r in DataFileReader(open(sys.argv[1], "rb"), DatumReader()))))' "$1"; }
"$BIN" cat ds --where "city = 'NYC' and fare > 40" --format avro -o md.avro
$PY want.py ds 'r["city"] == "NYC" and r["fare"] is not None and r["fare"] > 40' > want.txt
avro_ids md.avro > got.txt
diff -q want.txt got.txt > /dev/null || fail "--format avro on the dataset with record terms"
$PY -c 'import sys; from avro.datafile import DataFileReader; from avro.io import DatumReader
assert all(r["city"] == "NYC" and r["year"] in (None, 2013) for r in DataFileReader(open("md.avro", "rb"), DatumReader()))' ||
  fail "--format avro with record terms: partition columns not restored"
ok "cat DATASET --where --format avro: python3-avro reads the matching records"

# partition + record terms: the partitions the partition terms rule out are never opened
$PY want.py ds 'r["city"] == "NYC" and r["fare"] is not None and r["fare"] > 40 and r["year"] == 2013' > want.txt
for f in ds/*/city=BOS/*.avro; do : > "$f"; done
check_got ds "city = 'NYC' and fare > 40 and year = 2013"
if "$BIN" cat ds --where "fare > 40" --count > /dev/null 2>&1; then fail "the damaged files were not read"; fi
ok "cat --where: partition terms prune, record terms filter"

# -n and --format csv count only matching records
[ "$("$BIN" cat plain.avro --where 'fare > 45' -n 5 | wc -l)" = 5 ] || fail "-n with --where"
"$BIN" cat plain.avro --where 'fare > 45' --format csv > got.csv
$PY want.py plain.avro 'r["fare"] is not None and r["fare"] > 45' > want.txt
$PY -c 'import csv, sys; print("\n".join(str(i) for i in sorted(int(r["id"]) for r in csv.DictReader(open("got.csv", newline="")))))' > got.txt
diff -q want.txt got.txt > /dev/null || fail "--format csv with --where"
ok "cat --where with -n and --format csv"

# a file written by python3-avro: timestamp-millis, a nullable int with null first
$PY - <<'PYEOF'
import avro.schema, avro.datafile, avro.io, datetime
UTC = datetime.timezone.utc
s = avro.schema.parse('{"type":"record","name":"r","fields":[{"name":"id","type":"long"},'
    '{"name":"n","type":["null","int"]},{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}]}')
w = avro.datafile.DataFileWriter(open("py.avro", "wb"), avro.io.DatumWriter(), s, codec="deflate")
for i in range(500):
    w.append({"id": i, "n": None if i % 7 == 0 else i % 50,
              "t": datetime.datetime(2019, 12, 31, 23, 0, tzinfo=UTC) + datetime.timedelta(minutes=i)})
w.close()
s = avro.schema.parse('{"type":"record","name":"r","fields":[{"name":"id","type":"long"},'
    '{"name":"tags","type":{"type":"array","items":"string"}}]}')
w = avro.datafile.DataFileWriter(open("nested.avro", "wb"), avro.io.DatumWriter(), s)
w.append({"id": 1, "tags": ["a"]})
w.close()
PYEOF
check py.avro "n is null or (t >= '2020-01-01T00:00Z' and n > 40)" \
  'r["n"] is None or (r["t"] >= utc("2020-01-01T00:00") and r["n"] > 40)'
ok "cat --where on a python3-avro file"

# errors: an unknown column (did-you-mean), a nested field named
if "$BIN" cat ds --where "city = 'NYC' and fair > 3" > out.txt 2> err.txt; then fail "unknown column accepted"; fi
grep -q 'unknown column `fair` (did you mean `fare`?)' err.txt || fail "no did-you-mean: $(cat err.txt)"
[ ! -s out.txt ] || fail "records printed before the error"
if "$BIN" cat nested.avro --where "tags = 'a'" 2> err.txt; then fail "nested field accepted"; fi
grep -q 'tags' err.txt && grep -q 'array' err.txt || fail "nested field not named: $(cat err.txt)"
ok "cat --where errors: did-you-mean, nested field"

# --format avro with record terms: the merged file holds exactly the matching records (python3-avro
# reads it); an error (unknown column) leaves no file behind
"$BIN" cat plain.avro --where 'fare > 45' --format avro -o m.avro
$PY want.py plain.avro 'r["fare"] is not None and r["fare"] > 45' > want.txt
avro_ids m.avro > got.txt
diff -q want.txt got.txt > /dev/null || fail "--format avro with record terms: $(wc -l < got.txt) records, python3-avro $(wc -l < want.txt)"
if "$BIN" cat plain.avro --where 'fair > 45' --format avro -o m3.avro 2> err.txt; then fail "unknown column accepted"; fi
grep -q 'unknown column `fair`' err.txt || fail "--format avro: $(cat err.txt)"
[ ! -e m3.avro ] || fail "--format avro left a file after an error"
ok "cat --where --format avro: record terms filter the merged records"
