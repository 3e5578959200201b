#!/bin/bash
# One convert job over 1, 2 and 3 MPI ranks on local input: every output file (pattern and
# single-file forms, with --limit, and a file full of quoted line breaks cut into tiny splits so
# that speculative splits run on other ranks and are re-run at verification) is byte-identical
# (--seed) to the single-process run; rows equal Python's csv module (read with python3-avro);
# the summary lists every rank and the splits add up.
. "$(dirname "$0")/lib.sh"
PYC="$PY $CSVAVRO_SRC/tests/convert/check_avro.py"
"$CSVAVRO_BUILD/gen_taxi" --bytes 2500000 --seed 5 > "$T/t.csv"
REF=(--where 'passenger_count > 3' --select medallion,passenger_count,trip_time_in_secs
     --seed 11 --split-size 200K -j2)
$C convert "$T/t.csv" "$T/ref/t.*.avro" "${REF[@]}" -q || fail "single-process run"
$C convert "$T/t.csv" "$T/ref1.avro" "${REF[@]}" -q || fail "single-process run (one file)"
$C convert "$T/t.csv" "$T/reflim/t.*.avro" "${REF[@]}" --limit 777 -q || fail "single-process --limit"
nsplits=$(ls "$T/ref" | grep -c avro)
[ "$nsplits" -ge 12 ] || fail "expected at least 12 splits, got $nsplits"

for np in $NPS; do
  mpi $np $C convert "$T/t.csv" "$T/np$np/t.*.avro" "${REF[@]}" --progress lines 2> "$T/log$np" ||
    { cat "$T/log$np" >&2; fail "mpirun -np $np"; }
  same_tree "$T/ref" "$T/np$np"
  splits_by_rank "$T/log$np" > "$T/ranks$np"
  [ "$(wc -l < "$T/ranks$np")" -eq $np ] || fail "np $np: summary lists $(wc -l < "$T/ranks$np") ranks: $(cat "$T/log$np")"
  [ "$(awk -F: '{s += $2} END {print s}' "$T/ranks$np")" -eq "$nsplits" ] || fail "np $np: split counts do not add up: $(cat "$T/ranks$np")"
  [ "$(awk -F: '{s += $5} END {print s}' "$T/ranks$np")" -eq "$nsplits" ] || fail "np $np: local input splits have no hosts: $(cat "$T/ranks$np")"
  grep -q "^csvavro convert: done: 1 input .*, $nsplits splits" "$T/log$np" || fail "np $np summary: $(cat "$T/log$np")"
  ok "np $np: pattern output identical to the single-process run ($(tr '\n' ' ' < "$T/ranks$np"))"
done

$PYC rows "$T/t.csv" --where-gt passenger_count 3 --select medallion,passenger_count,trip_time_in_secs \
  --types passenger_count=long,trip_time_in_secs=long > "$T/exp.jsonl"
$PYC read "$T/np3" > "$T/got.jsonl"
[ "$(wc -l < "$T/exp.jsonl")" -gt 1000 ] || fail "too few expected rows"
cmp -s "$T/exp.jsonl" "$T/got.jsonl" || fail "np 3 rows differ from Python's csv module: $(diff "$T/exp.jsonl" "$T/got.jsonl" | head -5)"
ok "np 3 rows equal Python's csv module (python3-avro)"

mpi 3 $C convert "$T/t.csv" "$T/one.avro" "${REF[@]}" -q || fail "np 3 single file"
cmp -s "$T/ref1.avro" "$T/one.avro" || fail "np 3 single file differs"
mpi 2 $C convert "$T/t.csv" "$T/np2lim/t.*.avro" "${REF[@]}" --limit 777 -q || fail "np 2 --limit"
same_tree "$T/reflim" "$T/np2lim"
ok "single-file form and --limit identical"

# quoted fields with line breaks, 48-byte splits: speculation across ranks
$PY "$CSVAVRO_SRC/tests/convert/gen_quoted.py" "$T/q.csv" 300 4 mixed
Q=(--split-size 48 --seed 3 -j1)
$C convert "$T/q.csv" "$T/qref/q.*.avro" "${Q[@]}" --progress lines 2> "$T/qlog" || fail "single quoted"
grep -q "([1-9][0-9]* re-run)" "$T/qlog" || fail "expected re-runs: $(cat "$T/qlog")"
mpi 3 $C convert "$T/q.csv" "$T/q3/q.*.avro" "${Q[@]}" --progress lines 2> "$T/qlog3" ||
  { cat "$T/qlog3" >&2; fail "np 3 quoted"; }
same_tree "$T/qref" "$T/q3"
grep -q "([1-9][0-9]* re-run)" "$T/qlog3" || fail "np 3: expected re-runs: $(cat "$T/qlog3")"
ok "quoted line breaks in 48-byte splits over 3 ranks: identical ($(grep -o '[0-9]* re-run' "$T/qlog3"))"

# bad values in many splits with --on-error reject: the same reject file and files
$C schema "$T/t.csv" > "$T/t.avsc" || fail schema
awk -F, -v OFS=, 'NR > 1 && NR % 400 == 0 {$8 = "x" NR} {print}' "$T/t.csv" > "$T/bad.csv"
nbad=$(awk 'NR > 1 && NR % 400 == 0' "$T/t.csv" | wc -l)
B=(--schema "$T/t.avsc" --on-error reject --seed 4 --split-size 100K -j1 -q)
$C convert "$T/bad.csv" "$T/bref/t.*.avro" "${B[@]}" --reject-file "$T/rej.ref" || fail "single-process rejects"
mpi 3 $C convert "$T/bad.csv" "$T/b3/t.*.avro" "${B[@]}" --reject-file "$T/rej.3" || fail "np 3 rejects"
[ "$(wc -l < "$T/rej.ref")" -eq "$nbad" ] || fail "expected $nbad rejects: $(wc -l < "$T/rej.ref")"
cmp -s "$T/rej.ref" "$T/rej.3" || fail "np 3 reject file differs"
same_tree "$T/bref" "$T/b3"
ok "np 3: $nbad rejects from every rank, the same reject file and outputs"

# inputs with different headers (--union-by-name) and a --schema matched by name with
# defaults: the plan carries each input's column map and the defaults to every rank
awk 'NR <= 3000' "$T/t.csv" > "$T/u1.csv"
awk -F, -v OFS=, '{sub(/\r$/, "")} NR == 1 || (NR > 3000 && NR <= 6000) {t = $1; $1 = $2; $2 = t; NF = NF - 1; print}' \
  "$T/t.csv" > "$T/u2.csv"
awk -F, -v OFS=, '{sub(/\r$/, "")} NR == 1 {print $0, "extra"} NR > 6000 && NR <= 9000 {print $0, NR}' \
  "$T/t.csv" > "$T/u3.csv"
U=(--seed 7 --split-size 60K -j2 -q)
$C convert --union-by-name "$T/u1.csv" "$T/u2.csv" "$T/u3.csv" "$T/uref/u.*.avro" "${U[@]}" ||
  fail "single-process --union-by-name"
mpi 3 $C convert --union-by-name "$T/u1.csv" "$T/u2.csv" "$T/u3.csv" "$T/u3r/u.*.avro" "${U[@]}" ||
  fail "np 3 --union-by-name"
same_tree "$T/uref" "$T/u3r"
cat > "$T/u.avsc" <<'AVSC'
{"type": "record", "name": "U", "fields": [
 {"name": "passenger_count", "type": "long"},
 {"name": "hack_license", "type": "string"},
 {"name": "fare", "type": "double", "default": 2.5},
 {"name": "note", "type": ["null", "string"], "default": null}]}
AVSC
$C convert "$T/u1.csv" "$T/u2.csv" "$T/u3.csv" "$T/sref/u.*.avro" --schema "$T/u.avsc" "${U[@]}" ||
  fail "single-process --schema by name"
mpi 3 $C convert "$T/u1.csv" "$T/u2.csv" "$T/u3.csv" "$T/s3r/u.*.avro" --schema "$T/u.avsc" "${U[@]}" ||
  fail "np 3 --schema by name"
same_tree "$T/sref" "$T/s3r"
/usr/bin/python3 - "$T" <<'PY' || fail "--union-by-name / --schema rows differ from Python's csv module"
import csv, glob, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
t = sys.argv[1]
def rows(d):
    out = []
    for f in sorted(glob.glob(d + "/u.*.avro"), key=lambda p: int(p.split(".")[-2])):
        out += [dict(x) for x in DataFileReader(open(f, "rb"), DatumReader())]
    return out
src = [list(csv.DictReader(open(f"{t}/u{i}.csv", newline=""))) for i in (1, 2, 3)]
got = rows(t + "/s3r")
exp = [{"passenger_count": int(r["passenger_count"]), "hack_license": r["hack_license"],
        "fare": 2.5, "note": None} for s in src for r in s]
assert got == exp, (len(got), len(exp))
got = rows(t + "/u3r")
exp_extra = [None] * (len(src[0]) + len(src[1])) + [int(r["extra"]) for r in src[2]]
assert [r["extra"] for r in got] == exp_extra
exp_med = [r["medallion"] for s in src for r in s]
assert [r["medallion"] for r in got] == exp_med
num = lambda v: float(v) if v != "" else None
exp_drop = [num(r["dropoff_latitude"]) for r in src[0]] + [None] * len(src[1]) + \
    [num(r["dropoff_latitude"]) for r in src[2]]
assert [r["dropoff_latitude"] for r in got] == exp_drop
PY
ok "np 3: --union-by-name and --schema by name over three headers: identical, rows equal Python's csv"

# errors: rank 0 reports a planning error once, every rank exits non-zero
if mpi 2 $C convert "$T/nope.csv" "$T/x/t.*.avro" -q 2> "$T/err"; then fail "missing input accepted"; fi
[ "$(grep -c 'input does not exist' "$T/err")" -eq 1 ] || fail "planning error: $(cat "$T/err")"
if mpi 2 $C convert "$T/t.csv" "$T/np3/t.*.avro" -q 2> "$T/err"; then fail "existing output accepted"; fi
[ "$(grep -c 'output exists' "$T/err")" -eq 1 ] || fail "refusal: $(cat "$T/err")"
mpi 2 $C convert "$T/t.csv" "$T/dry/t.*.avro" "${REF[@]}" --dry-run > "$T/plan" || fail "dry run"
[ "$(grep -c '^plan: ' "$T/plan")" -eq 1 ] && [ ! -e "$T/dry" ] || fail "dry run: $(cat "$T/plan")"
ok "errors and dry run reported once by rank 0"
echo OK
