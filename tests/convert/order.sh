#!/usr/bin/env bash
# The single-file output assembled live at -j2/-j3 (src/exec/exec_single.c): many small splits,
# slow and fast workers (CSVAVRO_TEST_SPLIT_DELAY: the splits si % MOD == REM sleep after
# each batch), the reorder buffer at its default, tiny (chunks, then split files) and off
# (every ahead split spills). Every output must hold exactly the records Python's csv module
# reads, in input order, and the same records as the -j1 output, read back by python3-avro.
# CSVAVRO_ORDER_TRACE shows that each path ran (bytes through memory, bytes spilled, the
# assembly reaching the end before the commit). A failure in a middle split (an injected write
# error of its sink, a bad value) fails the job and leaves no output and no temporary files.
# ORDER_QUICK=1 (the ThreadSanitizer run) keeps a few cases.
set -euo pipefail
BIN=${CSVAVRO_BIN:?} SRC=${CSVAVRO_SRC:?}
PY=/usr/bin/python3
$PY -c 'import avro.datafile' 2>/dev/null || { echo "SKIP: python3-avro missing"; exit 77; }
T=$(mktemp -d)
trap '[ -n "${ORDER_KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
QUICK=${ORDER_QUICK:-0}
[ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && QUICK=1

# a plain file (no quoted line breaks: every speculative start is right, so the assembly runs
# to the end live) and one full of quoted line breaks (wrong guesses stall it: the commit
# appends the rest after the verification walk)
$PY - "$T/plain.csv" <<'PYEOF'
import csv, random, sys
rng = random.Random(17)
with open(sys.argv[1], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "amount", "name", "n"])
    for i in range(6000):
        name = rng.choice(["a", "b,c", "é x", "", "quote\"d", "long " * rng.randint(0, 12)])
        w.writerow([i, "%.3f" % (rng.random() * 1000), name, rng.randint(-99999, 99999)])
PYEOF
$PY "$SRC/tests/convert/gen_quoted.py" "$T/quoted.csv" 1500 23 mixed
TY_plain="--type id=long --type amount=double --type n=long"
TY_quoted="--type id=long --type n=long"
$PY "$SRC/tests/convert/check_avro.py" rows "$T/plain.csv" --types id=long,amount=double,n=long \
  > "$T/plain.expect"
$PY "$SRC/tests/convert/check_avro.py" rows "$T/quoted.csv" --types id=long,n=long > "$T/quoted.expect"
[ "$(wc -l < "$T/plain.expect")" -eq 6000 ] || fail "plain expectation rows"
[ "$(wc -l < "$T/quoted.expect")" -eq 1500 ] || fail "quoted expectation rows"
# the guided tail (exec_plan.c): with the default split size at -j2 the job's last splits
# shrink to 1 MiB, so inputs of a few MiB run in several splits: a 4.7 MB plain file and a
# 2.6 MB one full of quoted line breaks
$PY - "$T/bigplain.csv" 46000 <<'PYEOF'
import csv, random, sys
rng = random.Random(29)
with open(sys.argv[1], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "amount", "name", "n"])
    for i in range(int(sys.argv[2])):
        name = rng.choice(["a", "b,c", "é x", "", "quote\"d"]) + "long " * rng.randint(0, 30)
        w.writerow([i, "%.3f" % (rng.random() * 1000), name, rng.randint(-99999, 99999)])
PYEOF
$PY "$SRC/tests/convert/gen_quoted.py" "$T/bigquoted.csv" 88000 31 mixed
TY_bigplain=$TY_plain
TY_bigquoted=$TY_quoted
$PY "$SRC/tests/convert/check_avro.py" rows "$T/bigplain.csv" --types id=long,amount=double,n=long \
  > "$T/bigplain.expect"
$PY "$SRC/tests/convert/check_avro.py" rows "$T/bigquoted.csv" --types id=long,n=long \
  > "$T/bigquoted.expect"
# the plan: contiguous splits from the data start to the end of the file, none larger than the
# one before it, the last ones 1 MiB (the last at most 1.5 MiB), several of them
for in in bigplain bigquoted; do
  "$BIN" convert "$T/$in.csv" "$T/$in-plan.avro" -j 2 --dry-run > "$T/$in.plan"
  $PY - "$T/$in.csv" "$T/$in.plan" <<'PYEOF' || fail "guided tail plan of $in: $(cat "$T/$in.plan")"
import os, re, sys
size = os.path.getsize(sys.argv[1])
data_start = open(sys.argv[1], "rb").read(4096).index(b"\n") + 1
splits = [(int(a), int(b)) for a, b in re.findall(r"^split \d+: input 0 bytes (\d+)\.\.(\d+)",
                                                 open(sys.argv[2]).read(), re.M)]
assert len(splits) >= 3, splits
assert splits[0][0] == data_start and splits[-1][1] == size, (data_start, size, splits)
assert all(splits[i][1] == splits[i + 1][0] for i in range(len(splits) - 1)), splits
lens = [b - a for a, b in splits]
assert all(lens[i] >= lens[i + 1] for i in range(len(lens) - 2)), lens
assert lens[-2] == 1 << 20 and (1 << 19) <= lens[-1] <= 3 << 19, lens
PYEOF
done

: > "$T/list"
n=0
# run NAME INPUT [env…] -- [convert options…]: converts into $T/NAME.avro with the trace on
run() {
  local name=$1 in=$2; shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local ty=TY_$in
  env CSVAVRO_ORDER_TRACE=1 "${envs[@]}" "$BIN" convert "$T/$in.csv" "$T/$name.avro" ${!ty} \
    --seed 5 -q "$@" 2> "$T/$name.err" || { cat "$T/$name.err" >&2; fail "$name"; }
  echo "$in $T/$name.avro" >> "$T/list"
  n=$((n + 1))
}
# trace NAME: the numbers of the run's reorder buffer line
mem_of() { sed -n 's/.* \([0-9]*\) bytes through memory.*/\1/p' "$T/$1.err"; }
spill_of() { sed -n 's/.* \([0-9]*\) bytes spilled.*/\1/p' "$T/$1.err"; }
stalled() { grep -q '(stalled)' "$T/$1.err"; }
count_of() { sed -n "s/.* \([0-9]*\) $2.*/\1/p" "$T/$1.err"; }

SMALL="--split-size 8K --batch-rows 64 --block-size 2K"
for in in plain quoted; do
  run "$in-j1" $in -- -j 1 $SMALL
  run "$in-default" $in -- -j 2 $SMALL
  run "$in-even-slow" $in CSVAVRO_TEST_SPLIT_DELAY=2:0:2 -- -j 2 $SMALL
  run "$in-tiny" $in CSVAVRO_TEST_SPLIT_DELAY=3:0:3 -- -j 2 $SMALL --reorder-buffer 16K
  run "$in-nomem" $in CSVAVRO_TEST_SPLIT_DELAY=2:0:2 -- -j 2 $SMALL --reorder-buffer 1
  if [ "$QUICK" = 0 ]; then
    run "$in-odd-slow" $in CSVAVRO_TEST_SPLIT_DELAY=2:1:2 -- -j 2 $SMALL
    run "$in-j3" $in CSVAVRO_TEST_SPLIT_DELAY=3:1:2 -- -j 3 $SMALL --reorder-buffer 24K
    run "$in-snappy" $in CSVAVRO_TEST_SPLIT_DELAY=2:0:1 -- -j 2 $SMALL --codec snappy \
      --reorder-buffer 16K
    run "$in-deflate-j2" $in -- -j 2 --split-size 3K --codec deflate
  fi
done
for in in bigplain bigquoted; do
  run "$in-j1" $in -- -j 1
  run "$in-j2" $in -- -j 2
  run "$in-j2-slow" $in CSVAVRO_TEST_SPLIT_DELAY=2:1:1 -- -j 2 --batch-rows 2000
done

# each path ran (the plain file: the assembly reaches the end live in every run)
for r in default even-slow tiny nomem; do
  stalled plain-$r && fail "plain-$r stalled: $(cat "$T/plain-$r.err")"
  grep -q "splits in the output before the commit" "$T/plain-$r.err" || fail "no trace for $r"
done
[ "$(mem_of plain-even-slow)" -gt 0 ] || fail "even-slow kept nothing in memory: $(cat "$T/plain-even-slow.err")"
[ "$(spill_of plain-even-slow)" -eq 0 ] || fail "even-slow spilled with the default buffer"
[ "$(mem_of plain-tiny)" -gt 0 ] || fail "tiny buffer: nothing in memory"
[ "$(spill_of plain-tiny)" -gt 0 ] || fail "tiny buffer: nothing spilled"
[ "$(mem_of plain-nomem)" -eq 0 ] || fail "--reorder-buffer 1 kept bytes in memory"
[ "$(spill_of plain-nomem)" -gt 0 ] || fail "--reorder-buffer 1: nothing spilled"
# the three ways a split reaches the output (summed over the plain runs): the head when claimed,
# granted while running, finished ahead and written by its own worker when handed the token
for what in "the head when claimed" "granted while running" "written by their worker after"; do
  total=0
  for r in default even-slow tiny nomem; do total=$((total + $(count_of plain-$r "$what"))); done
  [ "$total" -gt 0 ] || fail "no split was $what: $(cat "$T"/plain-*.err)"
done
# and every split got there by one of them (none stalled, none left for the commit)
for r in default even-slow tiny nomem; do
  n_out=$(sed -n 's/.* \([0-9]*\) of [0-9]* splits in the output.*/\1/p' "$T/plain-$r.err")
  sum=0
  for what in "the head when claimed" "granted while running" "written by their worker after"; do
    sum=$((sum + $(count_of plain-$r "$what")))
  done
  [ "$sum" -eq "$n_out" ] || fail "plain-$r: $sum splits reached the output of $n_out: $(cat "$T/plain-$r.err")"
done
stalled quoted-default || stalled quoted-even-slow || stalled quoted-tiny \
  || fail "no quoted run stalled (its wrong guesses should)"
for r in bigplain-j2 bigplain-j2-slow; do
  stalled $r && fail "$r stalled: $(cat "$T/$r.err")"
  [ "$(sed -n 's/.* of \([0-9]*\) splits in the output.*/\1/p' "$T/$r.err")" -ge 4 ] \
    || fail "$r: not cut into guided splits: $(cat "$T/$r.err")"
done

# one python process reads them all: the expectation, and the -j1 output's records
$PY - "$T" "$SRC" <<'PYEOF'
import io, sys, contextlib
T, SRC = sys.argv[1], sys.argv[2]
sys.path.insert(0, SRC + "/tests/convert")
import check_avro
def records(path):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        check_avro.cmd_read([path])
    return buf.getvalue()
kinds = ("plain", "quoted", "bigplain", "bigquoted")
expect = {k: open("%s/%s.expect" % (T, k), encoding="utf-8").read() for k in kinds}
ref = {k: records("%s/%s-j1.avro" % (T, k)) for k in kinds}
for k in ref:
    if ref[k] != expect[k]:
        sys.exit("MISMATCH: -j1 output of %s differs from the csv module" % k)
runs = [l.split() for l in open(T + "/list").read().splitlines()]
for k, path in runs:
    got = records(path)
    if got != expect[k] or got != ref[k]:
        g, e = got.splitlines(), expect[k].splitlines()
        bad = next((i for i in range(min(len(g), len(e))) if g[i] != e[i]), min(len(g), len(e)))
        sys.exit("MISMATCH %s: %d records, expected %d; first difference at record %d: %r vs %r"
                 % (path, len(g), len(e), bad, g[bad] if bad < len(g) else None,
                    e[bad] if bad < len(e) else None))
print("all", len(runs), "outputs hold the csv module's records in order")
PYEOF

# failures in a middle split: nothing is left behind
nothing_left() {
  [ ! -e "$T/$1.avro" ] || fail "$1: output written"
  ! ls -A "$T" | grep -q '^\.csvavro-tmp' || fail "$1: temporary directory left: $(ls -A "$T")"
}
for spec in "2:0:2" "2:1:2"; do
  rc=0
  env CSVAVRO_TEST_SPLIT_FAIL=7 CSVAVRO_TEST_SPLIT_DELAY=$spec "$BIN" convert "$T/plain.csv" \
    "$T/fail.avro" $TY_plain -j 2 $SMALL --reorder-buffer 16K -q 2> "$T/fail.err" || rc=$?
  [ $rc = 1 ] || fail "injected failure ($spec): exit $rc, $(cat "$T/fail.err")"
  grep -q "injected failure" "$T/fail.err" || fail "injected failure not reported: $(cat "$T/fail.err")"
  nothing_left fail
done
# a bad value past the middle of the file (split ~20 of ~45): the job fails naming its line
$PY - "$T/plain.csv" "$T/bad.csv" <<'PYEOF'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
lines[4001] = "oops" + lines[4001][lines[4001].index(","):]
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines))
PYEOF
cp "$T/bad.csv" "$T/plain.csv"
rc=0
env CSVAVRO_TEST_SPLIT_DELAY=2:0:2 "$BIN" convert "$T/plain.csv" "$T/bad.avro" $TY_plain -j 2 \
  $SMALL --reorder-buffer 16K -q 2> "$T/bad.err" || rc=$?
[ $rc = 1 ] || fail "bad value: exit $rc, $(cat "$T/bad.err")"
grep -q "plain.csv:4002: .*oops" "$T/bad.err" || fail "bad value: line not named: $(cat "$T/bad.err")"
nothing_left bad
echo "OK ($n outputs)"
