#!/usr/bin/env bash
# cat --where beyond flat records (issue 15), against python3-avro decoding the same files and
# a Python predicate: (1) a python3-avro file with nested records, arrays, maps, enums, fixed,
# unions of several types and logical types: terms on top-level scalars and on dotted paths into
# nested records (null when a record on the path is null), the other fields carried along; a
# term on an array, a map, a record or a union of several types is an error naming it;
# (2) --format avro with record terms: the merged file, read by python3-avro, holds exactly the
# matching records (partition columns restored in a dataset); (3) a dataset whose later append
# added a column: older files read it as null through the dataset's schema (python3-avro's own
# schema resolution gives the expectation), SQL nulls (a comparison with null is false).
set -euo pipefail
BIN=${CSVAVRO_BIN:?}
PY=/usr/bin/python3
$PY -c 'import avro' 2> /dev/null || { echo "SKIP: python3-avro missing"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
cd "$T"
export PYTHONWARNINGS=ignore

# ------------------------------------------------------------------ (1) nested file
$PY - <<'PYEOF'
import avro.schema, avro.datafile, avro.io, datetime, random
r = random.Random(5)
s = avro.schema.parse('''{"type": "record", "name": "trip", "namespace": "t", "fields": [
  {"name": "id", "type": "long"},
  {"name": "name", "type": "string"},
  {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "attrs", "type": {"type": "map", "values": "long"}},
  {"name": "loc", "type": ["null", {"type": "record", "name": "Loc", "fields": [
      {"name": "city", "type": "string"},
      {"name": "zip", "type": ["null", "int"]},
      {"name": "geo", "type": {"type": "record", "name": "Geo", "fields": [
          {"name": "lat", "type": "double"}, {"name": "lon", "type": "double"}]}}]}]},
  {"name": "u", "type": ["null", "string", "long"]},
  {"name": "fx", "type": {"type": "fixed", "name": "F4", "size": 4}},
  {"name": "score", "type": ["float", "null"]},
  {"name": "d", "type": {"type": "int", "logicalType": "date"}},
  {"name": "flag", "type": "boolean"},
  {"name": "b", "type": "bytes"}]}''')
w = avro.datafile.DataFileWriter(open("nested.avro", "wb"), avro.io.DatumWriter(), s, codec="deflate")
for i in range(2500):
    loc = None if r.random() < 0.2 else {
        "city": r.choice(["NYC", "BOS", "SFO"]),
        "zip": None if r.random() < 0.3 else r.randrange(10000, 99999),
        "geo": {"lat": r.randrange(-90 * 8, 90 * 8) / 8, "lon": r.randrange(-180, 180) / 4}}
    w.append({"id": i, "name": "n%d" % r.randrange(50), "kind": r.choice("ABC"),
              "tags": [r.choice(["x", "y", "z"]) for _ in range(r.randrange(4))],
              "attrs": {"k%d" % j: r.randrange(100) for j in range(r.randrange(3))},
              "loc": loc, "u": r.choice([None, "s%d" % r.randrange(9), r.randrange(-5, 5)]),
              "fx": bytes(r.randrange(256) for _ in range(4)),
              "score": None if r.random() < 0.15 else r.randrange(16) / 8,
              "d": datetime.date(2020, 1, 1) + datetime.timedelta(days=r.randrange(366)),
              "flag": r.random() < 0.5, "b": bytes(r.randrange(256) for _ in range(r.randrange(5)))})
w.close()
PYEOF
# want.py FILE PRED: the ids python3-avro reads from FILE where PRED (over a dict r) holds
cat > want.py <<'PYEOF'
import datetime, sys
from avro.datafile import DataFileReader
from avro.io import DatumReader
pred = eval("lambda r: " + sys.argv[2])
loc = lambda r: r["loc"] or {}
ids = [rec["id"] for rec in DataFileReader(open(sys.argv[1], "rb"), DatumReader()) if pred(rec)]
print("\n".join(str(i) for i in sorted(ids)))
PYEOF
ids() { $PY -c 'import json, sys; print("\n".join(str(i) for i in sorted(json.loads(l)["id"] for l in sys.stdin)))'; }
# check EXPR PRED: cat's records, --count and --format csv against want.py; each kept line is
# the unfiltered cat's line for that record (the nested fields carried along whole)
"$BIN" cat nested.avro > all.jsonl
check() {
  $PY want.py nested.avro "$2" > want.txt
  [ -s want.txt ] || fail "'$1': python3-avro finds no record (a useless case)"
  "$BIN" cat nested.avro --where "$1" > got.jsonl || fail "cat --where '$1'"
  ids < got.jsonl > got.txt
  diff -q want.txt got.txt > /dev/null || fail "cat --where '$1': $(wc -l < got.txt) records, python3-avro $(wc -l < want.txt)"
  $PY - got.jsonl <<'PYEOF' || fail "cat --where '$1': a kept line differs from the unfiltered one"
import json, sys
full = {json.loads(l)["id"]: l for l in open("all.jsonl")}
assert all(full[json.loads(l)["id"]] == l for l in open(sys.argv[1]))
PYEOF
  n=$("$BIN" cat nested.avro --where "$1" --count)
  [ "$n" = "$(wc -l < want.txt)" ] || fail "cat --where '$1' --count: $n, python3-avro $(wc -l < want.txt)"
  "$BIN" cat nested.avro --where "$1" --format csv > got.csv
  $PY -c 'import csv, sys; print("\n".join(str(i) for i in sorted(int(r["id"]) for r in csv.DictReader(open("got.csv", newline="")))))' > got.txt
  diff -q want.txt got.txt > /dev/null || fail "cat --where '$1' --format csv"
}
check "kind = 'B' and id > 100" 'r["kind"] == "B" and r["id"] > 100'
check "score is null or score < 0.5" 'r["score"] is None or r["score"] < 0.5'
check "not (score >= 1)" 'r["score"] is not None and not r["score"] >= 1'
check "d >= '2020-10-01' and flag = true" 'r["d"] >= datetime.date(2020, 10, 1) and r["flag"]'
check "loc.city = 'NYC'" 'loc(r).get("city") == "NYC"'
check "loc.zip is null" 'loc(r).get("zip") is None'
check "loc.zip > 50000 or loc.geo.lat < -45.5" \
  '(loc(r).get("zip") or 0) > 50000 or (r["loc"] is not None and r["loc"]["geo"]["lat"] < -45.5)'
check '`loc.geo.lon` >= 10 and loc.geo.lon <= 20 and name in ('"'n1', 'n2'"')' \
  'r["loc"] is not None and 10 <= r["loc"]["geo"]["lon"] <= 20 and r["name"] in ("n1", "n2")'
ok "cat --where on a nested python3-avro file: top-level scalars, enums, dates, dotted paths, --count, csv"

# terms on fields that are no scalar: an error naming the field and its type, nothing printed
for t in "tags=an array" "attrs=a map" "u=a union of several types" "loc=a record" "loc.geo=a record"; do
  f=${t%%=*} what=${t#*=}
  if "$BIN" cat nested.avro --where "$f = 'x'" > out.txt 2> err.txt; then fail "--where on $f accepted"; fi
  grep -q "field \`$f\` is $what" err.txt || fail "--where on $f: $(cat err.txt)"
  [ ! -s out.txt ] || fail "--where on $f: records printed before the error"
done
if "$BIN" cat nested.avro --where "loc.cty = 'NYC'" 2> err.txt; then fail "unknown nested field accepted"; fi
grep -q 'unknown column `loc.cty` (did you mean' err.txt || fail "no did-you-mean: $(cat err.txt)"
ok "cat --where: arrays, maps, records, unions of several types named; did-you-mean on paths"

# a recursive schema (a linked list): paths through it as deep as asked, within the limit
$PY - <<'PYEOF'
import avro.schema, avro.datafile, avro.io
s = avro.schema.parse('{"type": "record", "name": "Node", "fields": [{"name": "id", "type": "long"},'
                      '{"name": "next", "type": ["null", "Node"]}]}')
w = avro.datafile.DataFileWriter(open("list.avro", "wb"), avro.io.DatumWriter(), s)
for i in range(300):
    node = None
    for k in range(i % 5):
        node = {"id": i * 10 + k, "next": node}
    w.append({"id": i, "next": node})
w.close()
PYEOF
$PY - > want.txt <<'PYEOF'
from avro.datafile import DataFileReader
from avro.io import DatumReader
def at(r, n):
    for _ in range(n):
        r = r["next"] if r else None
    return r
print("\n".join(str(r["id"]) for r in DataFileReader(open("list.avro", "rb"), DatumReader())
                if at(r, 2) is not None and at(r, 2)["id"] < 1000 and at(r, 3) is None))
PYEOF
"$BIN" cat list.avro --where "next.next.id < 1000 and next.next.next.id is null" | ids > got.txt
[ -s want.txt ] && diff -q want.txt got.txt > /dev/null || fail "--where on a recursive schema's paths"
ok "cat --where through a recursive schema"

# ------------------------------------------------------------------ (2) --format avro, a file
# same.py MERGED SOURCE PRED: the merged file's records are SOURCE's where PRED, in order
cat > same.py <<'PYEOF'
import datetime, sys
from avro.datafile import DataFileReader
from avro.io import DatumReader
pred = eval("lambda r: " + sys.argv[3])
loc = lambda r: r["loc"] or {}
got = list(DataFileReader(open(sys.argv[1], "rb"), DatumReader()))
want = [r for r in DataFileReader(open(sys.argv[2], "rb"), DatumReader()) if pred(r)]
assert want, "no record matches: a useless case"
assert got == want, "%d records, python3-avro %d" % (len(got), len(want))
PYEOF
"$BIN" cat nested.avro --where "loc.city = 'BOS' and kind <> 'C'" --format avro -o m.avro
$PY same.py m.avro nested.avro 'loc(r).get("city") == "BOS" and r["kind"] != "C"' ||
  fail "--format avro with record terms"
"$BIN" cat nested.avro --where "score is null" --format avro --codec deflate > m2.avro
$PY same.py m2.avro nested.avro 'r["score"] is None' || fail "--format avro to stdout"
ok "cat --where --format avro on a nested file: python3-avro reads exactly the matching records"

# ------------------------------------------------------------------ (3) schema evolution
$PY - <<'PYEOF'
import random
r = random.Random(9)
with open("jan.csv", "w") as f:
    f.write("id,city,fare\n")
    for i in range(1500):
        f.write("%d,%s,%s\n" % (i, r.choice(["NYC", "BOS"]), "" if r.random() < 0.1 else r.randrange(100) / 4))
with open("feb.csv", "w") as f:
    f.write("id,city,fare,tip\n")
    for i in range(1500, 3000):
        f.write("%d,%s,%s,%s\n" % (i, r.choice(["NYC", "BOS"]), r.randrange(100) / 4,
                                   "" if r.random() < 0.2 else r.randrange(40) / 4))
PYEOF
"$BIN" convert jan.csv ds/ --partition-by city --split-size 20K -q
"$BIN" convert feb.csv ds/ --partition-by city --mode append --split-size 20K -q
# evo.py DIR PRED: ids of the dataset's files read by python3-avro with the latest job's schema
# as the reader schema (its own resolution: tip null in January's files), city from the path
cat > evo.py <<'PYEOF'
import glob, json, os, sys
import avro.schema
from avro.datafile import DataFileReader
from avro.io import DatumReader
d, pred = sys.argv[1], eval("lambda r: " + sys.argv[2])
files = sorted(glob.glob(d + "/**/*.avro", recursive=True))
def schema_of(f):
    return DataFileReader(open(f, "rb"), DatumReader()).get_meta("avro.schema").decode()
# the reader schema: the widest writer schema (the appended job's), parsed by python3-avro
rs = avro.schema.parse(max((schema_of(f) for f in files), key=lambda s: len(json.loads(s)["fields"])))
recs = []
for fn in files:
    part = dict(p.split("=", 1) for p in os.path.relpath(fn, d).split("/")[:-1])
    for rec in DataFileReader(open(fn, "rb"), DatumReader(readers_schema=rs)):
        rec.update(part)
        if pred(rec):
            recs.append(rec)
if len(sys.argv) > 3:  # the merged file: the same records (partition column appended)
    got = sorted(DataFileReader(open(sys.argv[3], "rb"), DatumReader()), key=lambda r: r["id"])
    want = sorted(recs, key=lambda r: r["id"])
    assert got == want, "merged: %d records, python3-avro %d; first %s vs %s" % (len(got), len(want), got[:1], want[:1])
else:
    print("\n".join(str(i) for i in sorted(r["id"] for r in recs)))
PYEOF
evo() {
  $PY evo.py ds "$2" > want.txt
  [ -s want.txt ] || fail "'$1': python3-avro finds no record (a useless case)"
  "$BIN" cat ds --where "$1" | ids > got.txt || fail "cat ds --where '$1'"
  diff -q want.txt got.txt > /dev/null || fail "cat ds --where '$1': $(wc -l < got.txt) records, python3-avro $(wc -l < want.txt)"
  n=$("$BIN" cat ds --where "$1" --count)
  [ "$n" = "$(wc -l < want.txt)" ] || fail "cat ds --where '$1' --count: $n, python3-avro $(wc -l < want.txt)"
}
evo "tip is null" 'r["tip"] is None'
evo "tip > 5" 'r["tip"] is not None and r["tip"] > 5'
evo "not (tip > 5) and city = 'NYC'" 'r["tip"] is not None and not r["tip"] > 5 and r["city"] == "NYC"'
evo "tip is null and id >= 1500" 'r["tip"] is None and r["id"] >= 1500'
[ "$(grep -c . want.txt)" -lt 1500 ] || fail "the February nulls are not a strict subset"
"$BIN" cat ds --where "tip is null and city = 'BOS'" --format avro -o evo.avro
$PY evo.py ds 'r["tip"] is None and r["city"] == "BOS"' evo.avro || fail "--format avro on the evolved dataset"
"$BIN" cat ds --where "tip >= 0 or fare is null" --format csv > evo.csv
$PY evo.py ds '(r["tip"] is not None and r["tip"] >= 0) or r["fare"] is None' > want.txt
$PY -c 'import csv; print("\n".join(str(i) for i in sorted(int(r["id"]) for r in csv.DictReader(open("evo.csv", newline="")))))' > got.txt
diff -q want.txt got.txt > /dev/null || fail "--format csv on the evolved dataset"
ok "cat DATASET --where through the dataset's schema: an added column reads as null in older files"
