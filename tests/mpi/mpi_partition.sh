#!/bin/bash
# --partition-by over MPI ranks: every rank writes the part files of the splits it is handed
# (names carry the split number, so they are unique across ranks), rank 0 commits one manifest
# listing all of them. A year of generated trips partitioned by year(pickup_datetime),
# month(pickup_datetime) over 2 ranks: byte-identical (--seed) to the single-process run;
# directories and record counts equal Python's csv grouping; every record read back with
# python3-avro (tests/convert/check_dataset.py: manifest = files, rows, schemas); an append over
# 2 ranks adds tagged part files; the same job into csvavro-hdfsd, fetched with Go `hdfs`.
. "$(dirname "$0")/lib.sh"
DS="$PY $CSVAVRO_SRC/tests/convert/check_dataset.py"
"$CSVAVRO_BUILD/gen_taxi" --bytes 1200000 --seed 9 > "$T/t.csv"
P=(--partition-by 'year(pickup_datetime),month(pickup_datetime)' --select medallion,pickup_datetime,passenger_count
   --seed 7 --split-size 100K -j2)
$C convert "$T/t.csv" "$T/ref/" "${P[@]}" -q || fail "single-process run"
NP=2
[ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && NP=3 # lib.sh: the sanitizer build tries 3 ranks only

# expected: partition directory -> rows (Python's csv grouping)
$PY - "$T/t.csv" > "$T/exp.json" <<'PYEOF'
import csv, json, sys
out = {}
for r in csv.DictReader(open(sys.argv[1], newline="")):
    ts = r["pickup_datetime"]
    k = "year=%s/month=%s" % (ts[:4], ts[5:7])
    out[k] = out.get(k, 0) + 1
print(json.dumps(out, sort_keys=True))
PYEOF
# got: partition directory -> rows read by python3-avro, for the manifest's files
got() {
  $DS "$1" > "$T/recs.jsonl" || fail "$2: dataset check (python3-avro)"
  $PY - "$1" <<'PYEOF'
import json, os, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
d = sys.argv[1]
m = json.load(open(os.path.join(d, "_SUCCESS")))
out = {}
for o in m["outputs"]:
    part = o["name"].rsplit("/", 1)[0]
    with open(os.path.join(d, o["name"]), "rb") as f:
        for rec in DataFileReader(f, DatumReader()):
            assert sorted(rec) == ["medallion", "passenger_count", "pickup_datetime"], rec
            out[part] = out.get(part, 0) + 1
print(json.dumps(out, sort_keys=True))
PYEOF
}

mpi $NP $C convert "$T/t.csv" "$T/np/" "${P[@]}" --progress lines 2> "$T/log" ||
  { cat "$T/log" >&2; fail "mpirun -np $NP"; }
splits_by_rank "$T/log" > "$T/ranks"
[ "$(wc -l < "$T/ranks")" -eq $NP ] || fail "summary: $(cat "$T/log")"
[ "$(awk -F: '$2 > 0' "$T/ranks" | wc -l)" -eq $NP ] || fail "not every rank ran splits: $(cat "$T/ranks")"
same_tree "$T/ref" "$T/np"
got "$T/np" np > "$T/got.json"
cmp -s "$T/exp.json" "$T/got.json" || fail "partitions differ from Python's grouping: $(cat "$T/got.json")"
[ "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/got.json")" -eq 12 ] || fail "expected 12 months"
ok "np $NP: 12 month partitions = Python's grouping, identical to the single-process run ($(tr '\n' ' ' < "$T/ranks"))"

# an append over the ranks: part files tagged with the job's tag, both jobs listed
mpi $NP $C convert "$T/t.csv" "$T/np/" "${P[@]}" --mode append -q || fail "np $NP append"
got "$T/np" append > "$T/got2.json"
$PY -c '
import json, sys
e = json.load(open(sys.argv[1])); g = json.load(open(sys.argv[2]))
assert g == {k: 2 * v for k, v in e.items()}, (e, g)
m = json.load(open(sys.argv[3] + "/_SUCCESS"))
assert len(m["jobs"]) == 2, m["jobs"]
import re
tagged = [o["name"] for o in m["outputs"] if re.search(r"/part-\d{5}-\d{3}-[0-9a-f]{12}\.avro$", o["name"])]
assert len(tagged) == len(m["jobs"][1]["files"]) > 0, tagged
' "$T/exp.json" "$T/got2.json" "$T/np" || fail "append over $NP ranks"
[ "$($C cat "$T/np" --count)" -eq $((2 * $(($(wc -l < "$T/t.csv") - 1)))) ] || fail "cat --count after the append"
ok "np $NP: append adds tagged part files from every rank, both jobs listed"

# into csvavro-hdfsd
if have_go_hdfs; then
  start_hdfsd --block-size 256K
  mpi $NP $C convert "$T/t.csv" "hdfs://$NN/p/" "${P[@]}" -q || fail "np $NP into hdfs"
  hdfs get /p "$T/hp" > /dev/null || fail "hdfs get"
  got "$T/hp" hdfs > "$T/got3.json"
  cmp -s "$T/exp.json" "$T/got3.json" || fail "hdfs: partitions differ from Python's grouping"
  diff -rq --exclude=_SUCCESS "$T/ref" "$T/hp" || fail "hdfs: files differ from the single-process run"
  ok "np $NP into hdfs://: the same files and partitions"
else
  echo "note: Debian's Go hdfs client missing: hdfs leg not run (scripts/deps.sh installs it)"
fi
echo OK
