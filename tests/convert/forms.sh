#!/usr/bin/env bash
# convert: every OUTPUT form, overwrite refusal and --overwrite, --dry-run, the _SUCCESS
# manifest, byte-identical reruns with --seed (any -j), --limit (first N rows in input order,
# any split size/threads), --select/--exclude/--rename, directory and glob inputs, empty and
# header-only inputs, reject files and error locations. Expectations come from Python's csv
# module and python3-avro (tests/convert/check_avro.py).
set -euo pipefail
BIN=${CSVAVRO_BIN:?} SRC=${CSVAVRO_SRC:?} BUILD=${CSVAVRO_BUILD:?}
PY=/usr/bin/python3
CHK="$PY $SRC/tests/convert/check_avro.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$T"

"$BUILD/gen_taxi" --rows 3000 --seed 3 > trip.csv  # (-o: exit status unreliable)
REF=(--where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs)
# expected rows of the reference job (python3-avro reads local-timestamp-micros as a long: µs)
$PY - <<'PYEOF' > expect.jsonl
import csv, json, datetime
with open("trip.csv", newline="") as f:
    for r in csv.DictReader(f):
        if r["passenger_count"] and int(r["passenger_count"]) > 3:
            d = datetime.datetime.strptime(r["pickup_datetime"], "%Y-%m-%d %H:%M:%S")
            ts = (d - datetime.datetime(1970, 1, 1)) // datetime.timedelta(microseconds=1)
            print(json.dumps({"pickup_datetime": ts, "passenger_count": int(r["passenger_count"]),
                              "trip_time_in_secs": int(r["trip_time_in_secs"])}))
PYEOF
nexp=$(wc -l < expect.jsonl)
[ "$nexp" -gt 100 ] || fail "too few expected rows ($nexp)"

# --- pattern form
"$BIN" convert trip.csv 'pat/trip.*.avro' "${REF[@]}" --split-size 50K -j2 -q
nsplit=$(ls pat/trip.*.avro | wc -l)
[ "$nsplit" -ge 5 ] || fail "pattern: only $nsplit files"
[ -f pat/trip.0.avro ] && [ -f "pat/trip.$((nsplit - 1)).avro" ] || fail "pattern: names"
[ -f pat/_SUCCESS ] || fail "pattern: no _SUCCESS"
ls -a pat | grep -q csvavro-tmp && fail "pattern: temporary directory left"
$CHK read 'pat/trip.*.avro' > got.jsonl
cmp -s got.jsonl expect.jsonl || fail "pattern: rows differ"

# --- directory form (trailing slash creates it), part-00000.avro...
"$BIN" convert trip.csv outdir/ "${REF[@]}" --split-size 100K -q
[ -f outdir/part-00000.avro ] && [ -f outdir/_SUCCESS ] || fail "dir form names"
$CHK read outdir > got.jsonl
cmp -s got.jsonl expect.jsonl || fail "dir form: rows differ"

# --- single file form
"$BIN" convert trip.csv one.avro "${REF[@]}" --split-size 64K -j2 -q
$CHK read one.avro > got.jsonl
cmp -s got.jsonl expect.jsonl || fail "single form: rows differ"
# a single file is one rename and drops no manifest into its (shared) directory
[ ! -e _SUCCESS ] || fail "single form: a _SUCCESS beside the file"
ls -a | grep -q csvavro && fail "single form: leftovers: $(ls -a | grep csvavro)"

# --- manifest
$PY - "$nsplit" "$nexp" <<'PYEOF'
import json, os, sys
n, rows = int(sys.argv[1]), int(sys.argv[2])
m = json.load(open("pat/_SUCCESS"))
assert len(m["outputs"]) == n, m["outputs"]
assert sum(o["rows"] for o in m["outputs"]) == rows
for o in m["outputs"]:
    assert os.path.getsize(o["path"]) == o["bytes"], o
assert m["inputs"][0]["size"] == os.path.getsize("trip.csv")
assert m["rows_kept"] == rows and m["rows_read"] == 3000
assert m["schema_fingerprint"]["algorithm"] == "CRC-64-AVRO"
assert len(m["schema_fingerprint"]["value"]) == 16
assert m["options"]["where"]
assert [f["name"] for f in m["schema"]["fields"]] == ["pickup_datetime", "passenger_count", "trip_time_in_secs"]
# CRC-64-AVRO (the Avro specification's Rabin fingerprint) of the stored writer schema
import warnings; warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
EMPTY, M = 0xc15d213aa4d7a795, (1 << 64) - 1
table = []
for i in range(256):
    fp = i
    for _ in range(8):
        fp = (fp >> 1) ^ (EMPTY & (-(fp & 1) & M))
    table.append(fp)
with open(m["outputs"][0]["path"], "rb") as fh:
    stored = DataFileReader(fh, DatumReader()).meta["avro.schema"]
fp = EMPTY
for b in stored:
    fp = (fp >> 8) ^ table[(fp ^ b) & 0xff]
assert m["schema_fingerprint"]["value"] == "%016x" % fp, (m["schema_fingerprint"], "%016x" % fp)
assert m["format"] == "csvavro-dataset/1" and m["rows"] == rows
assert [o["name"] for o in m["outputs"]] == ["trip.%d.avro" % i for i in range(n)]
assert len(m["jobs"]) == 1 and m["jobs"][0]["files"] == [o["name"] for o in m["outputs"]]
PYEOF

# --- overwrite refusal, then --overwrite replaces (and removes old extra parts)
set +e
"$BIN" convert trip.csv 'pat/trip.*.avro' -q 2> err.txt; rc=$?
set -e
[ $rc -ne 0 ] || fail "existing output was not refused"
grep -q "exists" err.txt || fail "refusal message: $(cat err.txt)"
"$BIN" convert trip.csv 'pat/trip.*.avro' "${REF[@]}" --split-size 200K --overwrite -q
n2=$(ls pat/trip.*.avro | wc -l)
[ "$n2" -lt "$nsplit" ] || fail "overwrite: old extra parts kept ($n2 files)"
$CHK read 'pat/trip.*.avro' > got.jsonl
cmp -s got.jsonl expect.jsonl || fail "overwrite: rows differ"
set +e
"$BIN" convert trip.csv one.avro -q 2> err.txt; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "exists" err.txt || fail "single file not refused"

# --- dry run writes nothing and prints the plan
"$BIN" convert trip.csv 'dry/x.*.avro' "${REF[@]}" --split-size 100K --dry-run > plan.txt
[ ! -e dry ] || fail "dry run wrote something"
grep -q "^split 0: input 0 bytes" plan.txt && grep -q "dry/x.0.avro" plan.txt || fail "plan: $(head plan.txt)"
grep -q '"passenger_count"' plan.txt || fail "plan has no schema"

# --- reruns with --seed are byte-identical, whatever -j
"$BIN" convert trip.csv 'r1/t.*.avro' "${REF[@]}" --split-size 60K --seed 9 -j1 -q
"$BIN" convert trip.csv 'r2/t.*.avro' "${REF[@]}" --split-size 60K --seed 9 -j2 -q
for f in r1/t.*.avro; do cmp -s "$f" "r2/$(basename "$f")" || fail "seeded rerun differs: $f"; done
# the manifests agree but for what names the run (job id, time, directory, thread count)
python3 - r1/_SUCCESS r2/_SUCCESS <<'PY' || fail "seeded reruns: manifests differ beyond job id, time, threads"
import json, sys
def norm(x):
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items() if k not in ("job", "committed_ms", "threads")}
    if isinstance(x, list):
        return [norm(v) for v in x]
    return x.replace("r1/", "rX/").replace("r2/", "rX/") if isinstance(x, str) else x
a, b = (norm(json.load(open(f))) for f in sys.argv[1:3])
sys.exit(0 if a == b and a else 1)
PY

# --- --limit: the first N rows in input order, for any split size and thread count
lims="0 1 7 150 100000" sizes="9K 40K 1G"
[ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && lims="0 7 150" sizes="9K 1G"
for lim in $lims; do
  head -n "$lim" expect.jsonl > lim.jsonl
  for ss in $sizes; do
    for j in 1 2; do
      rm -rf lim
      "$BIN" convert trip.csv 'lim/t.*.avro' "${REF[@]}" --limit $lim --split-size $ss -j $j -q
      $CHK read 'lim/t.*.avro' > got.jsonl
      cmp -s got.jsonl lim.jsonl || fail "--limit $lim split $ss -j $j: $(wc -l < got.jsonl) rows"
    done
  done
done

# --- select/exclude/rename
"$BIN" convert trip.csv sel.avro --select passenger_count,vendor_id --rename vendor_id=vendor -q
$CHK read sel.avro > sel.jsonl
head -n 1 sel.jsonl | grep -q '^{"passenger_count": [0-9]*, "vendor": "' || fail "rename/select order"
"$BIN" convert trip.csv exc.avro --exclude medallion,hack_license -q
$CHK read exc.avro > exc.jsonl
head -n 1 exc.jsonl | grep -q medallion && fail "exclude"
set +e
"$BIN" convert trip.csv bad.avro --select nope -q 2> err.txt; rc=$?
set -e
[ $rc -ne 0 ] && grep -q 'unknown column "nope"' err.txt || fail "unknown --select column"

# --- directory input (name order) and glob input, two files
mkdir in
head -n 1001 trip.csv > in/a.csv
(head -n 1 trip.csv; tail -n +1002 trip.csv) > in/b.csv
touch in/_ignored
"$BIN" convert in 'd/t.*.avro' "${REF[@]}" --split-size 30K -q
$CHK read 'd/t.*.avro' > got.jsonl
cmp -s got.jsonl expect.jsonl || fail "directory input"
"$BIN" convert 'in/*.csv' g.avro "${REF[@]}" --split-size 30K -q
$CHK read g.avro > got.jsonl
cmp -s got.jsonl expect.jsonl || fail "glob input"

# --- header-only input: one empty file per split; empty input with other inputs: skipped
head -n 1 trip.csv > hdr.csv
"$BIN" convert hdr.csv 'h/t.*.avro' -q
[ -f h/t.0.avro ] && [ ! -e h/t.1.avro ] || fail "header-only: files"
[ "$($CHK read h/t.0.avro | wc -l)" -eq 0 ] || fail "header-only: rows"
: > empty.csv
"$BIN" convert empty.csv hdr.csv 'e/t.*.avro' -q
[ -f e/t.0.avro ] && [ "$($CHK read e/t.0.avro | wc -l)" -eq 0 ] || fail "empty + header-only"
set +e
"$BIN" convert empty.csv e2.avro -q 2> err.txt; rc=$?
set -e
[ $rc -eq 1 ] && grep -qi "empty" err.txt || fail "all-empty input: rc=$rc $(cat err.txt)"
[ ! -e e2.avro ] || fail "all-empty input wrote a file"

# --- bad rows: fail with a location; reject file in split order; summary counts
$PY - <<'PYEOF'
lines = open("trip.csv", newline="").read().split("\r\n")
bad = {5: "x", 1200: "y", 2500: "z"}
for i, v in bad.items():
    f = lines[i].split(",")
    f[7] = v  # passenger_count
    lines[i] = ",".join(f)
lines[1800] = lines[1800] + ",extra"
open("bad.csv", "w", newline="").write("\r\n".join(lines))
PYEOF
# the schema of the good file (inference on bad.csv would stop at the first bad record)
"$BIN" convert trip.csv full/ --limit 0 -q
$PY -c 'import json; print(json.dumps(json.load(open("full/_SUCCESS"))["schema"]))' > trip.avsc
REF+=(--schema trip.avsc)
set +e
"$BIN" convert bad.csv 'b/t.*.avro' "${REF[@]}" --split-size 50K -q 2> err.txt; rc=$?
set -e
[ $rc -eq 1 ] || fail "bad value did not fail (rc=$rc)"
grep -q 'bad.csv:6' err.txt && grep -q '"x"' err.txt && grep -q passenger_count err.txt || fail "error location: $(cat err.txt)"
[ ! -e b ] || [ -z "$(ls -A b)" ] || fail "failed run left files: $(ls -A b)"
"$BIN" convert bad.csv 'b/t.*.avro' "${REF[@]}" --split-size 50K -j2 --on-error reject --reject-file rej.jsonl 2> sum.txt
grep -Eq "rows read 3000, kept [0-9]+, rejected 4;" sum.txt || fail "summary: $(cat sum.txt)"
$PY - <<'PYEOF'
import json
rej = [json.loads(l) for l in open("rej.jsonl")]
assert [r["line"] for r in rej] == [6, 1201, 1801, 2501], rej
assert rej[0]["value"] == "x" and rej[0]["column"] == "passenger_count", rej[0]
assert all(r["path"].endswith("bad.csv") for r in rej)
PYEOF
# a bad value in an output-only column: checked only in the rows the filter keeps (a row the
# filter drops is never converted there); in a kept row it fails / is rejected as usual
$PY - <<'PYEOF'
import csv
lines = open("trip.csv", newline="").read().split("\r\n")
hdr = lines[0].split(",")
pc, tt = hdr.index("passenger_count"), hdr.index("trip_time_in_secs")
drop = next(i for i in range(1, len(lines)) if lines[i] and int(lines[i].split(",")[pc]) <= 3)
keep = next(i for i in range(1, len(lines)) if lines[i] and int(lines[i].split(",")[pc]) > 3)
for name, i in (("dropbad.csv", drop), ("keepbad.csv", keep)):
    ls = list(lines)
    f = ls[i].split(","); f[tt] = "soon"; ls[i] = ",".join(f)
    open(name, "w", newline="").write("\r\n".join(ls))
open("keepbad.line", "w").write(str(keep + 1))
PYEOF
"$BIN" convert dropbad.csv 'db/t.*.avro' "${REF[@]}" --split-size 50K -j2 -q || fail "bad value in a dropped row failed the job"
$CHK read 'db/t.*.avro' > db.jsonl && cmp -s db.jsonl expect.jsonl || fail "dropped bad row: rows differ"
set +e
"$BIN" convert keepbad.csv 'kb/t.*.avro' "${REF[@]}" --split-size 50K -q 2> err.txt; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "keepbad.csv:$(cat keepbad.line):.*\"soon\"" err.txt || fail "bad value in a kept row: rc=$rc $(cat err.txt)"
# a bad value in the second input: the job fails with that error (not with "interrupted" from
# the splits stopped because of it); with --limit satisfied by the first input it is never read
$PY - <<'PYEOF'
lines = open("trip.csv", newline="").read().split("\r\n")
f = lines[2].split(","); f[7] = "bad"; lines[2] = ",".join(f)
open("in2_b.csv", "w", newline="").write("\r\n".join(lines))
PYEOF
set +e
"$BIN" convert trip.csv in2_b.csv 'two/t.*.avro' --schema trip.avsc -j2 -q 2> err.txt; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'in2_b.csv:3: .*"bad"' err.txt || fail "second input's error: rc=$rc $(cat err.txt)"
"$BIN" convert trip.csv in2_b.csv 'two/t.*.avro' --schema trip.avsc -j2 --limit 10 -q || fail "limit before the bad row"
[ "$("$BIN" cat 'two/t.*.avro' --count)" -eq 10 ] || fail "limit over two inputs"
# a null in a --not-null column is a bad value of its record: fail names file, line and
# column; skip drops that record; reject writes it to the reject file (independent check:
# python3-avro reads the kept rows)
printf 'a,b\n1,x\n,y\n3,z\n' > nn.csv
set +e
"$BIN" convert nn.csv nnf.avro --not-null a -q 2> err.txt; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'nn.csv:3: .*column 1 (a).*non-nullable' err.txt && [ ! -e nnf.avro ] ||
  fail "null in a --not-null column: rc=$rc $(cat err.txt)"
"$BIN" convert nn.csv nns.avro --not-null a --on-error reject --reject-file nnrej.jsonl -q ||
  fail "null in a --not-null column with reject"
$PY - <<'PYEOF' || fail "--not-null with reject: wrong rows or reject line"
import json, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
rows = [(r["a"], r["b"]) for r in DataFileReader(open("nns.avro", "rb"), DatumReader())]
assert rows == [(1, "x"), (3, "z")], rows
rej = [json.loads(l) for l in open("nnrej.jsonl")]
assert len(rej) == 1 and rej[0]["line"] == 3 and rej[0]["column"] == "a" and rej[0]["raw"] == ",y", rej
PYEOF
echo OK
