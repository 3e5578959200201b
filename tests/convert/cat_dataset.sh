#!/usr/bin/env bash
# Reading a partitioned dataset back in every output format of `csvavro cat`:
#   --format csv    partition columns restored as the last columns (integers as numbers, the
#                   default partition as an empty cell) = Python's csv module on the input;
#   --format avro   the dataset merged into one Avro file (-o FILE and stdout, --codec), its
#                   schema the dataset's (the latest job's, which reads the earlier jobs' files:
#                   an appended job added a nullable column) plus the partition columns
#                   (["null","long"] for integer values, ["null","string"] else): read back by
#                   python3-avro and by avrocat (avro-bin), records = Python's csv module;
#   a glob of files whose schemas resolve to the first one's (a promotion, another field order);
#   refusals: files whose schemas do not resolve (no output file left), -o without avro.
set -euo pipefail
BIN=${CSVAVRO_BIN:?} SRC=${CSVAVRO_SRC:?}
PY=/usr/bin/python3
command -v avrocat > /dev/null || { echo "SKIP: avrocat (avro-bin) missing"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
cd "$T"

# a year of rows; cities that need escaping, empty (null) values
$PY - <<'PYEOF'
import random, datetime
r = random.Random(11)
cities = ["NYC", "a/b", "x=y", "50%", "", "São Paulo", 'q"r,s']
t0 = datetime.datetime(2013, 1, 1)
with open("p.csv", "w") as f:
    f.write("id,ts,city,v\n")
    for i in range(3000):
        ts = "" if r.random() < 0.03 else (t0 + datetime.timedelta(seconds=r.randrange(365 * 86400))).strftime("%Y-%m-%d %H:%M:%S")
        f.write('%d,%s,"%s",%.3f\n' % (i, ts, r.choice(cities).replace('"', '""'), r.random() * 100))
PYEOF
P=(--partition-by 'year(ts),month(ts),city' --split-size 30K -q)
# job 1 without v, job 2 (append) with it: the dataset schema gains a nullable column
"$BIN" convert p.csv ds/ "${P[@]}" --select id,ts
"$BIN" convert p.csv ds/ "${P[@]}" --mode append

# expected rows: (id, ts, v or None, year, month, city) from Python's csv module, both jobs
cat > expect.py <<'PYEOF'
import csv, json, sys
rows = []
for job in (1, 2):
    for r in csv.DictReader(open("p.csv", newline="")):
        ts = r["ts"]
        rows.append([int(r["id"]), ts.replace(" ", "T") + ".000000" if ts else None,
                     float(r["v"]) if job == 2 else None,
                     int(ts[:4]) if ts else None, int(ts[5:7]) if ts else None, r["city"] or None])
print(json.dumps(sorted(rows, key=json.dumps)))
PYEOF
$PY expect.py > exp.json

# --format csv
"$BIN" cat ds --format csv > got.csv
$PY - <<'PYEOF' || fail "cat --format csv"
import csv, json
rd = csv.reader(open("got.csv", newline=""))
head = next(rd)
assert head == ["id", "ts", "v", "year", "month", "city"], head
got = []
for c in rd:
    cell = lambda s, f: None if s == "" else f(s)
    got.append([int(c[0]), cell(c[1], str), cell(c[2], float), cell(c[3], int), cell(c[4], int),
                cell(c[5], str)])
exp = json.load(open("exp.json"))
got = sorted(got, key=json.dumps)
assert got == exp, ([g for g in got if g not in exp][:3], len(got), len(exp))
PYEOF
ok "cat DIR --format csv: $(($(wc -l < got.csv) - 1)) rows, partition columns restored = Python's csv"

# --format avro, to a file and to stdout
"$BIN" cat ds --format avro --codec deflate -o m.avro
"$BIN" cat ds --format avro > s.avro
[ ! -e .m.avro.csvavro-tmp-* ] 2> /dev/null || fail "temporary file left"
cat > got_avro.py <<'PYEOF'
import json, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
f = open(sys.argv[1], "rb")
rd = DataFileReader(f, DatumReader())
s = json.loads(rd.meta["avro.schema"])
assert rd.meta["avro.codec"].decode() == sys.argv[2], rd.meta["avro.codec"]
types = {x["name"]: x["type"] for x in s["fields"]}
assert list(types) == ["id", "ts", "v", "year", "month", "city"], list(types)
assert types["year"] == ["null", "long"] and types["month"] == ["null", "long"], types
assert types["city"] == ["null", "string"], types
got = []
import datetime
for r in rd:
    ts = r["ts"]  # local-timestamp-micros: python3-avro 1.11 gives the number
    if isinstance(ts, int):
        ts = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=ts)
    got.append([r["id"], ts.strftime("%Y-%m-%dT%H:%M:%S.%f") if ts else None, r["v"], r["year"],
                r["month"], r["city"]])
exp = json.load(open("exp.json"))
got = sorted(got, key=json.dumps)
assert got == exp, ([g for g in got if g not in exp][:3], len(got), len(exp))
print(len(got))
PYEOF
n=$($PY got_avro.py m.avro deflate) || fail "python3-avro reading the merged file"
$PY got_avro.py s.avro snappy > /dev/null || fail "python3-avro reading the merged file (stdout)"
[ "$(avrocat m.avro | wc -l)" -eq "$n" ] || fail "avrocat: $(avrocat m.avro 2>&1 | head -3)"
avrocat s.avro | $PY -c '
import json, sys
n = 0
for line in sys.stdin:
    r = json.loads(line)
    assert set(r) == {"id", "ts", "v", "year", "month", "city"}, r
    assert r["month"] is None or 1 <= r["month"]["long"] <= 12, r
    n += 1
print(n)' > avrocat.n || fail "avrocat records"
[ "$(cat avrocat.n)" -eq "$n" ] || fail "avrocat: $(cat avrocat.n) records, expected $n"
[ "$("$BIN" cat m.avro --count)" -eq "$n" ] || fail "cat --count of the merged file"
ok "cat DIR --format avro (-o and stdout, deflate and snappy): $n records = Python's csv (python3-avro, avrocat)"

# --where prunes what is merged; a glob of files merges too
"$BIN" cat ds --where 'month = 3' --format avro -o w.avro
want=$($PY -c 'import json; print(sum(1 for r in json.load(open("exp.json")) if r[4] == 3))')
[ "$("$BIN" cat w.avro --count)" -eq "$want" ] || fail "--where with --format avro"
ok "--where prunes the merge ($want records)"

# a glob whose files resolve to the first one's schema: int promoted to long
mkdir g2
"$BIN" convert p.csv g2/a.avro --select id,city -q
"$BIN" convert p.csv g2/b.avro --select city,id --type id=int -q
"$BIN" cat 'g2/*.avro' --format avro -o g2.avro
$PY - <<'PYEOF' || fail "a promoted, reordered file merged"
import csv, warnings  # cities are quoted: an empty one is the empty string
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
exp = [(int(r["id"]), r["city"]) for r in csv.DictReader(open("p.csv", newline=""))]
got = [(r["id"], r["city"]) for r in DataFileReader(open("g2.avro", "rb"), DatumReader())]
assert got == exp + exp, ([(i, g, e) for i, (g, e) in enumerate(zip(got, exp + exp)) if g != e][:3], len(got))
PYEOF
ok "a glob: int promoted to long, fields re-ordered by name"

# refusals: schemas that do not resolve (nothing written), -o without --format avro
mkdir g
"$BIN" convert p.csv g/a.avro --select id,ts -q
"$BIN" convert p.csv g/b.avro --select id,ts --type id=string -q
set +e
"$BIN" cat 'g/*.avro' --format avro -o g/m.avro 2> err.txt; rc=$?
set -e
[ $rc -ne 0 ] && grep -q "does not resolve" err.txt || fail "incompatible schemas: $rc $(cat err.txt)"
[ -z "$(ls g | grep -v '^[ab].avro$')" ] || fail "a failed merge left: $(ls g)"
set +e
"$BIN" cat ds -o x.avro 2> err.txt; rc=$?
set -e
[ $rc -eq 2 ] || fail "-o without --format avro: $rc"
ok "refusals"
echo OK
