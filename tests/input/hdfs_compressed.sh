#!/bin/bash
# hdfs_compressed.sh — compressed input from hdfs:// (issue 13): a .gz, a .bz2 and a multi-frame
# .zst stored on csvavro-hdfsd in 256 KiB HDFS blocks (written by Debian's Go `hdfs` client when
# installed, else by `csvavro fs put`) convert to exactly the rows Python's csv module reads from
# the plain file (python3-avro read-back); the .bz2 and .zst also cut into splits at block/frame
# boundaries (ranged reads over the DataNode protocol) at several split sizes, -j1 and -j2.
. "$(dirname "$0")/../hdfs/lib.sh"
for t in gzip bzip2 zstd; do command -v $t >/dev/null || { echo "skipped: $t not installed (scripts/deps.sh)"; exit 77; }; done
start_hdfsd --block-size 256K
C=$CSVAVRO_BIN
$PY - "$T/data.csv" <<'PYEOF'
import csv, random, sys
r = random.Random(77)
words = ["a", "b,c", 'q "x"', "l1\nl2", "crlf\r\nx", ""]
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "note", "n"])
    for i in range(12000):
        w.writerow([i, " ".join(r.choice(words) for _ in range(r.randint(0, 25))), r.randint(0, 10**6)])
PYEOF
cd "$T"
gzip -c data.csv > data.csv.gz
bzip2 -1 -c data.csv > data.csv.bz2
split -b 100000 data.csv part.
for p in part.*; do zstd -q -c "$p"; done > data.csv.zst
for f in data.csv.gz data.csv.bz2 data.csv.zst; do
  if have_go_hdfs; then hdfs put "$f" "/$f" || fail "hdfs put $f"; else $C fs put "$f" "hdfs:///$f" || fail "put $f"; fi
done
check() { # avro file, label
  $PY - "$T/data.csv" "$1" "$2" <<'PYEOF' || fail "$2"
import csv, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
with open(sys.argv[1], newline="") as f:
    want = [[int(r[0]), r[1], int(r[2])] for r in list(csv.reader(f))[1:]]
with open(sys.argv[2], "rb") as f:
    got = [["" if v is None else v for v in x.values()] for x in DataFileReader(f, DatumReader())]
if got != want:
    print(f"{sys.argv[3]}: {len(got)} rows, want {len(want)}", file=sys.stderr)
    sys.exit(1)
PYEOF
}
$C convert hdfs:///data.csv.gz "$T/gz.avro" -q || fail "convert .gz"
check "$T/gz.avro" "hdfs .gz"
ok "hdfs .gz: same rows"
for f in data.csv.bz2 data.csv.zst; do
  n=$($C convert "hdfs:///$f" "$T/o.avro" --split-size 30000 --dry-run --overwrite | sed -n 's/^plan: 1 input, \([0-9]*\) split.*/\1/p')
  [ "${n:-0}" -ge 3 ] || fail "$f: $n splits over hdfs://"
  for ss in 7000 30000 1000000000; do
    for j in 1 2; do
      $C convert "hdfs:///$f" "$T/o.avro" --overwrite -q --split-size $ss -j $j || fail "convert $f $ss -j$j"
      check "$T/o.avro" "hdfs $f split $ss -j$j"
    done
  done
  ok "hdfs $f: same rows, $n splits at 30000"
done
