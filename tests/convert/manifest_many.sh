#!/usr/bin/env bash
# The streamed manifest at thousands of partitions (hour level over a year, tiny splits and a
# tiny --partition-buffer, so each split writes hundreds of part files and some partitions get
# several): the part files' bookkeeping lives in list files under the job's temporary
# directory, and the manifest and the intent record are written from them, one entry at a
# time. Checked independently (Python): the manifest lists every *.avro file on disk exactly
# once and no other; each job's "files" are its outputs in order; rows per partition equal
# Python's csv grouping of the CSV(s) by pickup hour, their sum the csv module's row count;
# partition values match the paths; a sample of the files read back with python3-avro holds
# the rows the manifest says. Then jobs are killed (SIGKILL, fault point CSVAVRO_COMMIT_FAULT)
# in the middle of their commit — an append among its renames and partition directories, an
# overwrite among the old files it moves aside and among its renames — and a reader (`cat
# DIR --count`) recovers: the dataset is byte for byte the one before (manifest, every file,
# no directory added or lost).
#
# manifest_many.sh      local (under /dev/shm when there is one: thousands of files, each
#                       fsynced, created, renamed, copied and removed several times, take
#                       minutes on a busy shared disk and a second in memory)
if [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
. "$(dirname "$0")/dataset_lib.sh" "${1:-}" mm
: "${BUILD:?}"
export CSVAVRO_LEASE_MS=1000
"$BUILD/gen_taxi" --rows 2000 --seed 3 > a.csv
"$BUILD/gen_taxi" --rows 400 --seed 4 > b.csv
SPEC='year(pickup_datetime),month(pickup_datetime),day(pickup_datetime),hour(pickup_datetime)'
OPTS=(--partition-by "$SPEC" --split-size 64K --partition-buffer 16K -j2 -q --seed 5)
D="$BASE/d"

cat > check.py <<'PYEOF'
import csv, json, os, sys, warnings
warnings.filterwarnings("ignore")
d, csvs = sys.argv[1], sys.argv[2:]
want = {}
for c in csvs:
    with open(c, newline="") as f:
        for r in csv.DictReader(f):
            t = r["pickup_datetime"]
            k = "year=%s/month=%s/day=%s/hour=%s" % (t[:4], t[5:7], t[8:10], t[11:13])
            want[k] = want.get(k, 0) + 1
m = json.load(open(os.path.join(d, "_SUCCESS")))
names = [o["name"] for o in m["outputs"]]
assert len(names) == len(set(names)), "a file listed twice"
disk = set()
for root, dirs, files in os.walk(d):
    dirs[:] = [x for x in dirs if not x.startswith((".", "_"))]
    for f in files:
        if f.endswith(".avro"):
            disk.add(os.path.relpath(os.path.join(root, f), d))
    assert files or dirs, "empty directory " + root
assert set(names) == disk, (sorted(set(names) - disk)[:5], sorted(disk - set(names))[:5])
assert [n for j in m["jobs"] for n in j["files"]] == names, "jobs' files != outputs"
got = {}
for o in m["outputs"]:
    k = o["name"].rsplit("/", 1)[0]
    p = o["partition"]
    assert k == "year=%s/month=%s/day=%s/hour=%s" % (p["year"], p["month"], p["day"], p["hour"]), o
    got[k] = got.get(k, 0) + o["rows"]
assert got == want, "rows per partition differ from Python's grouping"
assert m["rows"] == sum(want.values()) == sum(o["rows"] for o in m["outputs"])
from avro.datafile import DataFileReader
from avro.io import DatumReader
for o in m["outputs"][::40]:
    with open(os.path.join(d, o["name"]), "rb") as f:
        n = sum(1 for _ in DataFileReader(f, DatumReader()))
    assert n == o["rows"], (o["name"], n, o["rows"])
print(len(names), len(want), m["rows"])
PYEOF
# the dataset as bytes: every file (outside dead jobs' temporary directories) with its digest,
# every directory
snap() {
  (cd "$1" && find . -path './.csvavro-tmp-*' -prune -o -type d -print | sort &&
    find . -path './.csvavro-tmp-*' -prune -o -type f -print0 | sort -z | xargs -0 md5sum)
}
rows() { $DS count "$1"; }
na=$(rows a.csv) nb=$(rows b.csv)

"$BIN" convert a.csv "$D/" "${OPTS[@]}"
read -r files parts total < <($PY check.py "$D" a.csv) || fail "first job: manifest check"
[ "$files" -ge 1500 ] && [ "$parts" -ge 1500 ] || fail "only $files files in $parts partitions"
[ "$total" -eq "$na" ] && [ "$("$BIN" cat "$D" --count)" -eq "$na" ] || fail "first job: rows"
ok "first job: $files part files in $parts partitions, each listed once, rows = Python's grouping"
cp -a "$D" "$BASE/d0"
snap "$BASE/d0" > d0.snap

# the append undisturbed (its trace numbers the steps of its commit), then killed mid-commit
rm -rf "$D" && cp -a "$BASE/d0" "$D"
CSVAVRO_COMMIT_TRACE=1 "$BIN" convert b.csv "$D/" "${OPTS[@]}" --mode append 2> append.trace
read -r files parts total < <($PY check.py "$D" a.csv b.csv) || fail "append: manifest check"
[ "$total" -eq $((na + nb)) ] && [ "$("$BIN" cat "$D" --count)" -eq $((na + nb)) ] || fail "append: rows"
ok "append: $files files listed once, rows per partition = Python's grouping of both CSVs"
cp -a "$D" "$BASE/d1"

# kill_at MODE TRACE STEP-NAME WHICH: kills the job at the WHICH-th (first, mid, last) step
# named STEP-NAME of its commit, then a reader recovers: the dataset must be d0 as it was
kill_at() {
  local mode=$1 trace=$2 step=$3 which=$4 ns n
  ns=$(grep -n ": $step\$" "$trace" | cut -d: -f1)
  [ -n "$ns" ] || fail "$mode: no step \"$step\" in the trace"
  case $which in
    first) n=$(echo "$ns" | head -1) ;;
    last) n=$(echo "$ns" | tail -1) ;;
    *) n=$(echo "$ns" | sed -n "$(( ($(echo "$ns" | wc -l) + 1) / 2 ))p") ;;
  esac
  rm -rf "$D" && cp -a "$BASE/d0" "$D"
  set +e
  CSVAVRO_COMMIT_FAULT=$n "$BIN" convert b.csv "$D/" "${OPTS[@]}" --mode "$mode" 2> err.txt
  local rc=$?
  set -e
  [ $rc -eq 137 ] || fail "$mode at step $n ($step): exit $rc $(cat err.txt)"
  [ -e "$D/_csvavro.intent" ] || fail "$mode at step $n: no intent record left to recover"
  [ "$("$BIN" cat "$D" --count)" -eq "$na" ] || fail "$mode at step $n: cat --count"
  [ ! -e "$D/_csvavro.intent" ] || fail "$mode at step $n: the reader did not recover"
  snap "$D" > d.snap
  cmp -s d0.snap d.snap || fail "$mode killed at step $n ($step): the dataset changed: $(diff d0.snap d.snap | head -5)"
  ok "$mode killed at step $n ($which \"$step\"), recovered by a reader: the dataset as before"
}
kill_at append append.trace "a file renamed to its final name" mid
kill_at append append.trace "a partition directory created" last

# an overwrite of the first job's dataset, undisturbed, then killed mid-commit
rm -rf "$D" && cp -a "$BASE/d0" "$D"
CSVAVRO_COMMIT_TRACE=1 "$BIN" convert b.csv "$D/" "${OPTS[@]}" --mode overwrite 2> overwrite.trace
read -r files parts total < <($PY check.py "$D" b.csv) || fail "overwrite: manifest check"
[ "$total" -eq "$nb" ] || fail "overwrite: rows"
[ -z "$(ls -A "$D" | grep '^\.csvavro-tmp-' || true)" ] || fail "overwrite: temporary directory left"
ok "overwrite: only its $files files remain, no empty partition directory"
kill_at overwrite overwrite.trace "an old file moved aside" mid
kill_at overwrite overwrite.trace "a file renamed to its final name" mid
