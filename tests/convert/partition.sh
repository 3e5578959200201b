#!/usr/bin/env bash
# --partition-by: Hive-style directories year=/month=/city= with Hive's escaping and
# __HIVE_DEFAULT_PARTITION__, checked against Python's csv grouping of the same CSV; records
# read back with python3-avro (tests/convert/check_dataset.py: manifest = files, rows, schemas);
# partition columns left out of the records unless --keep-partition-columns; --partition-buffer 8K
# forces writers to close and partitions to come back in new part files, and the rows of one
# partition from one split stay in input order; -j 2; --dry-run prints the layout; append and
# overwrite of a partitioned dataset.
#
# partition.sh        local
# partition.sh hdfs   into csvavro-hdfsd, fetched for the checks with Debian's Go `hdfs` client
. "$(dirname "$0")/dataset_lib.sh" "${1:-}" p
# hdfs: fewer, larger splits (every part file costs NameNode and DataNode round trips)
if [ "$ON_HDFS" = hdfs ]; then SPLIT=100K; else SPLIT=20K; fi

# rows over a year in random order; cities that need escaping; empty (null) values
$PY - <<'PYEOF'
import random, datetime
r = random.Random(7)
cities = ["NYC", "a/b", "x=y", "50%", "", "São Paulo", "q?r#s"]
t0 = datetime.datetime(2013, 1, 1)
with open("p.csv", "w") as f:
    f.write("id,ts,city,v\n")
    for i in range(4000):
        ts = "" if r.random() < 0.03 else (t0 + datetime.timedelta(seconds=r.randrange(365 * 86400))).strftime("%Y-%m-%d %H:%M:%S")
        c = r.choice(cities)
        f.write('%d,%s,"%s",%.3f\n' % (i, ts, c, r.random() * 100))
PYEOF

# expectation: Python's csv grouping with Hive's path escaping
cat > expect.py <<'PYEOF'
import csv, json, sys
ESC = set('"#%\'*/:=?\\{[]^') | {chr(c) for c in range(1, 32)} | {"\x7f"}
def esc(v):
    if v == "" or v is None:
        return "__HIVE_DEFAULT_PARTITION__"
    return "".join("%%%02X" % ord(c) if c in ESC else c for c in v)
levels = sys.argv[1].split(",")
out = {}
with open("p.csv", newline="") as f:
    for row in csv.DictReader(f):
        ts = row["ts"]
        vals = {"year": ts[:4] if ts else "", "month": ts[5:7] if ts else "",
                "hour": ts[11:13] if ts else "", "city": row["city"]}
        key = "/".join("%s=%s" % (k, esc(vals[k])) for k in levels)
        out.setdefault(key, []).append(int(row["id"]))
print(json.dumps(out, sort_keys=True))
PYEOF
# got: partition path -> ids read back (python3-avro via check_dataset's output order), plus
# the input-order check per (partition, split)
cat > got.py <<'PYEOF'
import json, os, re, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
d, want_fields = sys.argv[1], sys.argv[2].split(",")
m = json.load(open(os.path.join(d, "_SUCCESS")))
out, runs = {}, {}
for o in m["outputs"]:
    part, base = o["name"].rsplit("/", 1)
    mm = re.match(r"part-(\d+)-(\d+)(-[0-9a-f]{12})?\.avro$", base)
    assert mm, base
    with open(os.path.join(d, o["name"]), "rb") as f:
        ids = []
        for rec in DataFileReader(f, DatumReader()):
            assert sorted(rec) == sorted(want_fields), (sorted(rec), want_fields)
            ids.append(rec["id"])
    out.setdefault(part, []).extend(ids)
    runs.setdefault((part, mm.group(1), mm.group(3)), []).append((int(mm.group(2)), ids))
    # the manifest's partition values are the unescaped path values
    for kv in part.split("/"):
        k, v = kv.split("=", 1)
        pv = o["partition"][k]
        assert (pv is None) == (v == "__HIVE_DEFAULT_PARTITION__"), (pv, v)
for key, files in runs.items():
    ids = [i for _, chunk in sorted(files) for i in chunk]
    assert ids == sorted(ids), ("rows of one partition from one split out of input order", key)
print(json.dumps({k: sorted(v) for k, v in out.items()}, sort_keys=True))
PYEOF

run_check() { # $1 dataset, $2 levels, $3 record fields
  fetch "$1" "$W/got"
  $DS "$W/got" > /dev/null || fail "dataset check of $1"
  $PY expect.py "$2" > exp.json
  $PY got.py "$W/got" "$3" > got.json || fail "read back $1"
  cmp -s exp.json got.json || fail "$1: partitions differ from Python's grouping: $($PY -c '
import json; e=json.load(open("exp.json")); g=json.load(open("got.json"))
print(sorted(set(e) ^ set(g))[:5], [k for k in e if k in g and sorted(e[k]) != g[k]][:5])')"
}

"$BIN" convert p.csv "$BASE/a/" --partition-by 'year(ts),month(ts),city' --dry-run > plan.txt
grep -q '^partitions: .*/year=<year(ts)>/month=<month(ts)>/city=<city>/part-<split>-<seq>.avro' plan.txt ||
  fail "dry run layout: $(grep partitions plan.txt)"
"$BIN" convert p.csv "$BASE/a/" --partition-by 'year(ts),month(ts),city' -j2 --split-size $SPLIT \
  --partition-buffer 8K -q
run_check "$BASE/a" year,month,city id,ts,v
nfiles=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["outputs"]))' "$W/got/_SUCCESS")
nparts=$($PY -c 'import json; print(len(json.load(open("exp.json"))))')
[ "$nfiles" -gt "$nparts" ] || fail "expected several flushes to give more files ($nfiles) than partitions ($nparts)"
ok "year(ts)/month(ts)/city: $nparts partitions, $nfiles files, = Python's grouping, input order kept"

"$BIN" convert p.csv "$BASE/k/" --partition-by 'H=hour(ts)' --keep-partition-columns --split-size 30K -q
sed -i 's/"hour": ts\[11:13\]/"H": ts[11:13]/' expect.py
run_check "$BASE/k" H id,ts,city,v
ok "NAME=hour(ts) with --keep-partition-columns"

# append into the partitioned dataset, then overwrite it
"$BIN" convert p.csv "$BASE/a/" --partition-by 'year(ts),month(ts),city' --mode append -q
fetch "$BASE/a" "$W/got"
n=$($DS "$W/got" | wc -l)
[ "$n" -eq 8000 ] || fail "append: $n rows"
"$BIN" convert p.csv "$BASE/a/" --partition-by 'year(ts),month(ts),city' --mode overwrite \
  --split-size 1M -q
run_check "$BASE/a" year,month,city id,ts,v
ok "append and overwrite of a partitioned dataset"

# cat DIR: partition columns restored from the paths; --where prunes partitions (a damaged
# file in a pruned partition is never opened)
"$BIN" cat "$BASE/a" > cat.jsonl
$PY - <<'PYEOF' || fail "cat DIR: restored partition columns"
import csv, json
rows = {int(r["id"]): r for r in csv.DictReader(open("p.csv", newline=""))}
n = 0
for line in open("cat.jsonl"):
    rec = json.loads(line)
    r = rows[rec["id"]]
    ts = r["ts"]
    assert rec["year"] == (int(ts[:4]) if ts else None), (rec, r)
    assert rec["month"] == (int(ts[5:7]) if ts else None), (rec, r)
    assert rec["city"] == (r["city"] or None), (rec, r)
    n += 1
assert n == len(rows), (n, len(rows))
PYEOF
want=$($PY -c '
import csv
print(sum(1 for r in csv.DictReader(open("p.csv", newline="")) if r["ts"][5:7] == "03" and r["city"] in ("a/b", "x=y")))')
got=$("$BIN" cat "$BASE/a" --where "month = 3 and city in ('a/b', 'x=y')" --count)
[ "$got" = "$want" ] || fail "cat --where on partitions: $got rows, Python $want"
if [ "$ON_HDFS" != hdfs ]; then
  victim=$(ls "$BASE"/a/year=2013/month=07/city=NYC/*.avro | head -1)
  head -c 100 "$victim" > v.tmp && cat v.tmp > "$victim"
  got=$("$BIN" cat "$BASE/a" --where "month = 3 and city in ('a/b', 'x=y')" --count) || fail "pruned partition opened"
  [ "$got" = "$want" ] || fail "cat --where after damage: $got"
  if "$BIN" cat "$BASE/a" --count > /dev/null 2>&1; then fail "the damaged file was not read without --where"; fi
fi
ok "cat DIR restores partition columns; --where prunes partitions"

set +e
"$BIN" convert p.csv "$BASE/one.avro" --partition-by city -q 2> err.txt; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "single file" err.txt || fail "partitioned single file: $rc $(cat err.txt)"
set +e
"$BIN" convert p.csv "$BASE/b/" --partition-by 'month(city)' -q 2> err.txt; rc=$?
set -e
[ $rc -ne 0 ] && grep -q "not a date or timestamp" err.txt || fail "month(string): $rc $(cat err.txt)"
ok "usage errors"
echo OK
