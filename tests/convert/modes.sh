#!/usr/bin/env bash
# Output modes and the commit lock: --mode error|overwrite|append|ignore; append's schema
# check under Avro's resolution rules (before any byte is written); concurrent --overwrite
# jobs never leave a mixed dataset; concurrent appends are both listed; a dead holder's lock
# is taken over, a live one waited for; temp dirs of dead jobs of another host are removed
# by lease, live ones kept; a reject file that cannot be written leaves nothing final.
# Every dataset is checked with tests/convert/check_dataset.py (python3-avro; manifest = files,
# each file's schema = its job's schema); counts come from Python's csv module.
#
# modes.sh          local directories
# modes.sh hdfs     the lock, leases and concurrency on csvavro-hdfsd (Go `hdfs` for listings)
. "$(dirname "$0")/dataset_lib.sh" "${1:-}" m
: "${BUILD:?}"
export CSVAVRO_LEASE_MS=1000
"$BUILD/gen_taxi" --rows 1500 --seed 1 > a.csv
"$BUILD/gen_taxi" --rows 1100 --seed 2 > b.csv
na=$($DS count a.csv) nb=$($DS count b.csv)
OPTS=(--split-size 20K -q)

lsa() { if [ "$ON_HDFS" = hdfs ]; then hdfs ls -a "${1#hdfs://$NN}"; else ls -a "$1"; fi; }
check() { fetch "$1" "$W/chk"; $DS "$W/chk" > "$W/chk.json" || fail "$2: dataset check"; wc -l < "$W/chk.json"; }

# --- concurrent --overwrite pairs (different columns): one of them, never a mix
for i in 1 2 3 4; do
  "$BIN" convert a.csv "$BASE/c$i/t.*.avro" "${OPTS[@]}" --select passenger_count,trip_time_in_secs --overwrite & p1=$!
  "$BIN" convert b.csv "$BASE/c$i/t.*.avro" "${OPTS[@]}" --select passenger_count,trip_distance --overwrite & p2=$!
  wait $p1 || fail "overwrite pair $i: job 1 failed"
  wait $p2 || fail "overwrite pair $i: job 2 failed"
  n=$(check "$BASE/c$i" "overwrite pair $i")
  [ "$n" -eq "$na" ] || [ "$n" -eq "$nb" ] || fail "overwrite pair $i: $n rows (a $na, b $nb)"
  fields=$($PY -c 'import json,sys; print(",".join(f["name"] for f in json.load(open(sys.argv[1]))["schema"]["fields"]))' "$W/chk/_SUCCESS")
  if [ "$n" -eq "$na" ]; then want=passenger_count,trip_time_in_secs; else want=passenger_count,trip_distance; fi
  [ "$fields" = "$want" ] || fail "overwrite pair $i: manifest schema $fields with $n rows"
done
ok "4 concurrent --overwrite pairs: each dataset is one job's, its manifest describes it"

# --- concurrent appends into one dataset: both land, both listed
"$BIN" convert a.csv "$BASE/app/t.*.avro" "${OPTS[@]}"
"$BIN" convert b.csv "$BASE/app/t.*.avro" "${OPTS[@]}" --mode append & p1=$!
"$BIN" convert a.csv "$BASE/app/t.*.avro" "${OPTS[@]}" --mode append & p2=$!
wait $p1 || fail "append 1"
wait $p2 || fail "append 2"
n=$(check "$BASE/app" "concurrent appends")
[ "$n" -eq $((2 * na + nb)) ] || fail "concurrent appends: $n rows, expected $((2 * na + nb))"
[ "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["jobs"]))' "$W/chk/_SUCCESS")" -eq 3 ] || fail "3 jobs"
[ "$("$BIN" cat "$BASE/app" --count)" -eq "$n" ] || fail "cat DIR --count"
ok "two concurrent appends: $n rows, 3 jobs listed"

# --- a dead holder's lock is taken over (a host that is not this one: by lease)
"$BIN" convert a.csv "$BASE/lk/t.*.avro" "${OPTS[@]}"
printf '.csvavro-tmp-elsewhere-1-00000000\n' > lock.txt
if [ "$ON_HDFS" = hdfs ]; then "$BIN" fs put lock.txt "$BASE/lk/_csvavro.lock"; else cp lock.txt "$BASE/lk/_csvavro.lock"; fi
"$BIN" convert b.csv "$BASE/lk/t.*.avro" "${OPTS[@]}" --mode append || fail "stale lock not taken over"
n=$(check "$BASE/lk" "stale lock")
[ "$n" -eq $((na + nb)) ] || fail "stale lock: $n rows"
ok "the lock of a dead holder (no heartbeat for the lease) is taken over"

# --- a live holder (heartbeat kept by this script) is waited for, not overrun
mkdir_remote() { if [ "$ON_HDFS" = hdfs ]; then "$BIN" fs mkdir -p "$1"; else mkdir -p "$1"; fi; }
mv_remote() { if [ "$ON_HDFS" = hdfs ]; then "$BIN" fs mv "$1" "$2"; else mv "$1" "$2"; fi; }
H=.csvavro-tmp-elsewhere-2-00000000
mkdir_remote "$BASE/lk/$H"
: > hb
if [ "$ON_HDFS" = hdfs ]; then "$BIN" fs put hb "$BASE/lk/$H/a"; else cp hb "$BASE/lk/$H/a"; fi
printf '%s\n' "$H" > lock.txt
if [ "$ON_HDFS" = hdfs ]; then "$BIN" fs put lock.txt "$BASE/lk/_csvavro.lock"; else cp lock.txt "$BASE/lk/_csvavro.lock"; fi
(for k in $(seq 1 12); do
   if [ $((k % 2)) -eq 1 ]; then mv_remote "$BASE/lk/$H/a" "$BASE/lk/$H/b"; else mv_remote "$BASE/lk/$H/b" "$BASE/lk/$H/a"; fi
   sleep 0.2
 done; date +%s%3N > hb.stopped) & hbp=$!
"$BIN" convert b.csv "$BASE/lk/t.*.avro" "${OPTS[@]}" --mode append || fail "append after a live holder"
wait $hbp
fetch "$BASE/lk" "$W/chk"
committed=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"][-1]["committed_ms"])' "$W/chk/_SUCCESS")
[ "$committed" -gt "$(cat hb.stopped)" ] || fail "committed while the holder was alive"
ok "a live holder's lock is waited for"

# --- temp dirs of dead jobs of other hosts go by lease; fresh ones stay
G=.csvavro-tmp-otherhost-99-deadbeef
mkdir_remote "$BASE/lk/$G"
sleep 1.3
F=.csvavro-tmp-otherhost-98-feedbeef
mkdir_remote "$BASE/lk/$F"
CSVAVRO_LEASE_MS=1000 "$BIN" convert b.csv "$BASE/lk/t.*.avro" "${OPTS[@]}" --mode append
lsa "$BASE/lk" > ls.txt
if grep -q "$G" ls.txt; then fail "a dead job's temp dir (no heartbeat for the lease) was kept"; fi
if grep -q "$H" ls.txt; then fail "the stopped holder's temp dir was kept"; fi
ok "temporary directories of dead jobs removed by lease"
if [ "$ON_HDFS" = hdfs ]; then
  "$BIN" fs mkdir -p "$BASE/lk/$F"
  CSVAVRO_LEASE_MS=60000 "$BIN" convert b.csv "$BASE/lk/t.*.avro" "${OPTS[@]}" --mode append
  hdfs ls -a /m/lk > ls.txt
  grep -q "$F" ls.txt || fail "a live job's temp dir (within the lease) was removed"
  ok "a fresh temp dir of another host is kept"
  echo OK
  exit 0
fi

# --- local only from here: twelve monthly appends (the last two at the same moment)
total=0
for m in $(seq 1 12); do
  "$BUILD/gen_taxi" --rows $((100 + 7 * m)) --seed $((40 + m)) > "m$m.csv"
  total=$((total + $($DS count "m$m.csv")))
done
for m in $(seq 1 10); do
  "$BIN" convert "m$m.csv" "$BASE/months/" --mode append -q --split-size 8K
done
"$BIN" convert m11.csv "$BASE/months/" --mode append -q --split-size 8K & p1=$!
"$BIN" convert m12.csv "$BASE/months/" --mode append -q --split-size 8K & p2=$!
wait $p1 || fail "month 11"
wait $p2 || fail "month 12"
[ "$("$BIN" cat "$BASE/months" --count)" -eq "$total" ] || fail "12 appends: cat --count != $total"
[ "$(check "$BASE/months" "12 appends")" -eq "$total" ] || fail "12 appends: python3-avro rows"
[ "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["jobs"]))' "$W/chk/_SUCCESS")" -eq 12 ] || fail "12 jobs"
ok "twelve appends (two concurrent): $total rows = Python's count, every file listed once"

# --- modes and schema checks
# error (default): refused, unchanged
cp -a "$BASE/app" before
set +e
"$BIN" convert a.csv "$BASE/app/other.*.avro" -q 2> err.txt; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "output exists" err.txt || fail "second pattern into a dataset not refused: $rc $(cat err.txt)"
diff -r before "$BASE/app" > /dev/null || fail "refused job changed the dataset"
# ignore: nothing written, exit 0
"$BIN" convert a.csv "$BASE/app/t.*.avro" --mode ignore 2> err.txt || fail "ignore"
grep -q "nothing written" err.txt || fail "ignore message: $(cat err.txt)"
diff -r before "$BASE/app" > /dev/null || fail "--mode ignore changed the dataset"
"$BIN" convert a.csv "$BASE/ign/t.*.avro" --mode ignore -q
[ "$(check "$BASE/ign" ignore)" -eq "$na" ] || fail "ignore into nothing writes"
# append needs a dataset; --overwrite contradicts append
set +e
"$BIN" convert a.csv "$BASE/one.avro" --mode append -q 2> err.txt; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "single file" err.txt || fail "append to a single file: $rc $(cat err.txt)"
set +e
"$BIN" convert a.csv "$BASE/x/" --mode append --overwrite -q 2> err.txt; rc=$?
set -e
[ $rc -eq 2 ] || fail "--overwrite with --mode append: $rc"
ok "modes error, ignore; usage errors"

# append schema rules: promotion accepted, an incompatible type and a new non-null field refused
"$BIN" convert a.csv "$BASE/sc/" --select passenger_count,trip_time_in_secs --type passenger_count=int -q
"$BIN" convert b.csv "$BASE/sc/" --select passenger_count,trip_time_in_secs --mode append -q || fail "int -> long append"
"$BIN" convert b.csv "$BASE/sc/" --select trip_time_in_secs --mode append -q || fail "dropped field append"
cp -a "$BASE/sc" sc.before
# the inferred schema with medallion non-null: a new field without a default
"$BIN" schema b.csv | $PY -c '
import json, sys
s = json.load(sys.stdin)
for f in s["fields"]:
    if f["name"] == "medallion":
        f["type"] = "string"
        f.pop("default", None)
print(json.dumps(s))' > nonnull.avsc
for bad in "--select passenger_count,trip_time_in_secs --type trip_time_in_secs=string" \
           "--select passenger_count,trip_time_in_secs,medallion --schema nonnull.avsc"; do
  set +e
  # shellcheck disable=SC2086
  "$BIN" convert b.csv "$BASE/sc/" $bad --mode append -q 2> err.txt; rc=$?
  set -e
  [ $rc -ne 0 ] && grep -q "Avro's resolution rules.*\(trip_time_in_secs\|medallion\)" err.txt ||
    fail "append $bad: $rc $(cat err.txt)"
  diff -r sc.before "$BASE/sc" > /dev/null || fail "refused append ($bad) wrote something"
  ls -a "$BASE/sc" | grep -q csvavro && fail "refused append left a temp dir"
done
n=$(check "$BASE/sc" "schema evolution")
[ "$n" -eq $((na + 2 * nb)) ] || fail "schema evolution: $n rows"
$PY - "$BASE/sc" <<'PYEOF' || fail "python3-avro reads the evolved dataset with the latest schema"
import json, os, sys, warnings
warnings.filterwarnings("ignore")
import avro.schema
from avro.datafile import DataFileReader
from avro.io import DatumReader
d = sys.argv[1]
m = json.load(open(os.path.join(d, "_SUCCESS")))
reader = avro.schema.parse(json.dumps(m["schema"]))
n = 0
for o in m["outputs"]:
    with open(os.path.join(d, o["name"]), "rb") as f:
        for rec in DataFileReader(f, DatumReader(readers_schema=reader)):
            assert set(rec) == {"trip_time_in_secs"}, rec
            n += 1
assert n == m["rows"], (n, m["rows"])
PYEOF
ok "append: promotions and dropped fields accepted, incompatible schemas refused before any byte"

# a reject file that cannot be written: nothing final (it is complete before the first rename)
: > notadir
set +e
"$BIN" convert b.csv "$BASE/rj/t.*.avro" "${OPTS[@]}" --type store_and_fwd_flag=boolean \
  --on-error reject --reject-file notadir/rej.jsonl 2> err.txt; rc=$?
set -e
[ $rc -eq 1 ] || fail "unwritable reject file: exit $rc"
[ -z "$(ls -A "$BASE/rj" 2> /dev/null)" ] || fail "unwritable reject file left: $(ls -A "$BASE/rj")"
"$BIN" convert b.csv "$BASE/rj/t.*.avro" "${OPTS[@]}" --type store_and_fwd_flag=boolean \
  --on-error reject --reject-file rej.jsonl || fail "rerun after the reject failure"
ok "a reject file that fails to write leaves no output"
echo OK
