# dataset_lib.sh — the set-up shared by the dataset tests (commit_crash.sh, modes.sh,
# partition.sh), sourced as `. dataset_lib.sh WHERE NAME`:
#   WHERE ""     local: a temp dir $T (removed at exit), datasets under BASE=$T/NAME
#   WHERE hdfs   csvavro-hdfsd (tests/hdfs/lib.sh; 1 MiB blocks), BASE=hdfs://$NN/NAME, local
#                copies for the checks under W=$T/w, fetched with Debian's Go `hdfs` client
#                (exit 77 when it is missing: scripts/deps.sh installs it)
# Sets BIN SRC BUILD PY DS ON_HDFS T W BASE (created, empty), defines fail, ok and
# fetch DATASET LOCAL_DIR (a copy; an empty directory when DATASET does not exist), cds to W.
set -euo pipefail
BIN=${CSVAVRO_BIN:?} SRC=${CSVAVRO_SRC:?}
BUILD=${CSVAVRO_BUILD:-}
PY=/usr/bin/python3
DS="$PY $SRC/tests/convert/check_dataset.py"
ON_HDFS=${1:-}
if [ "$ON_HDFS" = hdfs ]; then
  . "$SRC/tests/hdfs/lib.sh"
  command -v hdfs > /dev/null || { echo "SKIP: Debian's hdfs client (hdfs-cli) missing"; exit 77; }
  start_hdfsd --block-size 1M
  W="$T/w"
  mkdir -p "$W"
  BASE=hdfs://$NN/$2
  "$BIN" fs mkdir -p "$BASE"
else
  T=$(mktemp -d)
  trap 'rm -rf "$T"' EXIT
  fail() { echo "FAIL: $*" >&2; exit 1; }
  ok() { echo "ok: $*"; }
  W="$T"
  BASE="$T/$2"
  mkdir -p "$BASE"
fi
cd "$W"

fetch() {
  rm -rf "$2"
  if [ "$ON_HDFS" = hdfs ]; then
    local p=${1#hdfs://$NN}
    if hdfs ls "$p" > /dev/null 2>&1; then hdfs get "$p" "$2" > /dev/null; else mkdir -p "$2"; fi
  else
    if [ -d "$1" ]; then cp -a "$1" "$2"; else mkdir -p "$2"; fi
  fi
}
