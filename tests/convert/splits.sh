#!/usr/bin/env bash
# Split-boundary exactness: a CSV full of quoted fields with commas, CR, LF and CRLF inside,
# converted with every split size from 1 to 64 bytes (speculative splits cut everywhere,
# including inside quoted fields and between CR and LF), -j1 and -j2, pattern and single-file
# outputs. Every run must give exactly the records Python's csv module reads, in order, read
# back with python3-avro, like the single-split run.
set -euo pipefail
BIN=${CSVAVRO_BIN:?} SRC=${CSVAVRO_SRC:?}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for style in mixed crlf; do
  $PY "$SRC/tests/convert/gen_quoted.py" "$T/q.csv" 40 11 $style
  TYPES=--type=id=long,n=long
  $PY "$SRC/tests/convert/check_avro.py" rows "$T/q.csv" --types id=long,n=long > "$T/expect.jsonl"
  [ "$(wc -l < "$T/expect.jsonl")" -eq 40 ] || fail "python expectation has $(wc -l < "$T/expect.jsonl") rows"
  "$BIN" convert "$T/q.csv" "$T/ref.avro" --type id=long --type n=long --split-size 1G --seed 5 -q \
    || fail "single-split run"
  echo "$T/ref.avro" > "$T/list"
  size=$(stat -c %s "$T/q.csv")
  sizes="$(seq 1 64) 97 $((size / 2))"
  [ $style = crlf ] && sizes="$(seq 1 17) 31 64 $((size / 2))"  # (every fsync costs: keep it short)
  [ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && sizes="$(seq 1 9) 13 16 23 31 47 64 $((size / 2))"
  for s in $sizes; do
    j=$(( (s % 2) + 1 ))
    if (( s % 3 == 0 && s >= 24 )); then  # (one fsynced file per split: keep it to few splits)
      out="$T/s$s/part.*.avro"; what="$T/s$s"
    else
      out="$T/s$s.avro"; what="$T/s$s.avro"
    fi
    "$BIN" convert "$T/q.csv" "$out" --type id=long --type n=long --split-size $s -j $j --seed 5 -q \
      || fail "split size $s"
    echo "$what" >> "$T/list"
  done
  # one python process reads them all
  $PY - "$T" "$SRC" <<'PYEOF'
import io, sys, contextlib
T, SRC = sys.argv[1], sys.argv[2]
sys.path.insert(0, SRC + "/tests/convert")
import check_avro
expect = open(T + "/expect.jsonl", encoding="utf-8").read()
runs = open(T + "/list").read().split()
for what in runs:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        check_avro.cmd_read([what])
    if buf.getvalue() != expect:
        print("MISMATCH for", what)
        print("expected:", expect[:500]); print("got:", buf.getvalue()[:500])
        sys.exit(1)
print("all", len(runs), "runs match")
PYEOF
  rm -rf "$T"/s* "$T/list" "$T/ref.avro"
done
echo OK
