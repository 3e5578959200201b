#!/usr/bin/env bash
# dl_missing.sh — the optional libraries csvavro loads on first use (src/core/core_dl.h,
# docs/internals.md "Start-up"): when the library cannot be loaded, the job that needs it fails
# with a message naming the feature, the library and the loader's reason, exits non-zero and
# writes no output; runs that do not need it are unaffected. The library is made unloadable
# honestly, through the system loader: a directory on LD_LIBRARY_PATH holds a file with the
# library's soname that is either empty ("file too short": dlopen fails) or another, unrelated
# library (dlopen succeeds, dlsym fails: "undefined symbol"). The sonames come from the build
# (CSVAVRO_SONAME_<LIB>, the libraries the build found).
#   zip input (libzip)      convert of a .zip
#   snappy (libsnappy)      convert of repetitive data (goes on with our encoder's fast mode:
#                           checked by python3-avro), cat of a snappy file (fails)
#   MPI (libmpi)            convert with CSVAVRO_MPI=1 (no launcher needed to reach MPI_Init),
#                           when the build has MPI
# The secure-HDFS libraries are checked where a Kerberos server runs: hdfs_secure.sh (GSS-API),
# hdfs_dtoken.sh (Cyrus SASL), hdfs_dtp.sh (OpenSSL's libcrypto).
set -euo pipefail
BIN=${CSVAVRO_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
# an unrelated library that every build links (zlib), to stand in for the missing one
OTHER=$(ldd "$BIN" | awk '$1 == "libz.so.1" {print $3}')
[ -f "$OTHER" ] || fail "cannot find libz.so.1 in ldd $BIN"

# fakes SONAME: $T/empty/SONAME (too short) and $T/other/SONAME (zlib under that name)
fakes() {
  mkdir -p empty other
  : > "empty/$1"
  cp "$OTHER" "other/$1"
}
# refused NAME PATTERN OUT CMD...: CMD fails (status 1) with PATTERN in its stderr, OUT absent
refused() {
  local n=$1 pat=$2 out=$3 rc=0
  shift 3
  "$@" 2> err.txt > /dev/null || rc=$?
  [ $rc -ne 0 ] || fail "$n: exit status 0 (expected a failure)"
  grep -qF -- "$pat" err.txt || fail "$n: stderr lacks \"$pat\": $(cat err.txt)"
  [ -z "$out" ] || [ ! -e "$out" ] || fail "$n: $out was written"
  echo "ok: $n: $(head -1 err.txt)"
}

printf 'id,name\n1,a\n2,b\n' > t.csv
/usr/bin/python3 -c 'import zipfile; zipfile.ZipFile("t.zip", "w").write("t.csv")'

# zip input
Z=${CSVAVRO_SONAME_LIBZIP:?}
fakes "$Z"
refused "zip input, $Z unloadable" "t.zip: zip input needs $Z: empty/$Z: file too short" \
  out1.avro env LD_LIBRARY_PATH=empty "$BIN" convert t.zip out1.avro
refused "zip input, $Z without its symbols" "t.zip: zip input needs $Z: other/$Z: undefined symbol: zip_" \
  out2.avro env LD_LIBRARY_PATH=other "$BIN" convert t.zip out2.avro
# the same run without the zip archive does not need the library
LD_LIBRARY_PATH=empty "$BIN" convert t.csv plain.avro 2> /dev/null || fail "plain CSV needs libzip"
LD_LIBRARY_PATH=empty "$BIN" --version > /dev/null || fail "--version needs libzip"
# and with the real library the archive converts (values: tests/input/real_header.sh)
"$BIN" convert t.zip good.avro 2> /dev/null || fail "zip input with the real $Z"
echo "ok: plain CSV and --version run without $Z; the archive converts with it"

# snappy (the default codec): our encoder needs libsnappy only for data that repeats a lot (its
# thorough mode) and goes on without it; reading a snappy file needs it
N=${CSVAVRO_SONAME_SNAPPY:?}
fakes "$N"
/usr/bin/python3 - > rep.csv <<'PYEOF'
print("id,name,note")
for i in range(20000):
    print(f"{i},name-{i % 7},the same long note on every row of this file and repeated")
PYEOF
LD_LIBRARY_PATH=empty "$BIN" convert rep.csv rep_nolib.avro 2> /dev/null || fail "snappy output without $N"
"$BIN" convert rep.csv rep_lib.avro 2> /dev/null || fail "snappy output with $N"
# both files hold the CSV's rows, read by python3-avro (python3-snappy decodes)
for f in rep_nolib.avro rep_lib.avro; do
  /usr/bin/python3 - "$f" <<'PYEOF' || fail "$f: rows differ from the CSV"
import csv, sys
from avro.datafile import DataFileReader
from avro.io import DatumReader
with open("rep.csv", newline="") as fh:
    want = [{"id": int(r["id"]), "name": r["name"], "note": r["note"]} for r in csv.DictReader(fh)]
with DataFileReader(open(sys.argv[1], "rb"), DatumReader()) as r:
    assert r.meta["avro.codec"] == b"snappy", r.meta["avro.codec"]
    got = list(r)
assert got == want, (len(got), len(want), got[:2], want[:2])
PYEOF
done
# libsnappy's thorough mode made the file with the library smaller
[ "$(stat -c %s rep_lib.avro)" -lt "$(stat -c %s rep_nolib.avro)" ] ||
  fail "the thorough mode did not run: $(stat -c %s rep_lib.avro) >= $(stat -c %s rep_nolib.avro) bytes"
echo "ok: snappy output without $N (fast mode only) and with it, both read back by python3-avro"
refused "reading a snappy file, $N unloadable" "the snappy codec needs $N: empty/$N: file too short" \
  "" env LD_LIBRARY_PATH=empty "$BIN" cat rep_lib.avro
refused "reading a snappy file, $N without its symbols" "the snappy codec needs $N: other/$N: undefined symbol: snappy_" \
  "" env LD_LIBRARY_PATH=other "$BIN" cat rep_lib.avro

# MPI: CSVAVRO_MPI=1 makes convert initialise MPI (a singleton without a launcher)
if [ -n "${CSVAVRO_SONAME_MPI:-}" ]; then
  M=$CSVAVRO_SONAME_MPI
  fakes "$M"
  refused "MPI, $M unloadable" "MPI (started by an MPI launcher, or CSVAVRO_MPI=1) needs $M: empty/$M: file too short" \
    m1.avro env CSVAVRO_MPI=1 LD_LIBRARY_PATH=empty "$BIN" convert t.csv m1.avro
  refused "MPI, $M without its symbols" "needs $M: other/$M: undefined symbol: MPI_" \
    m2.avro env CSVAVRO_MPI=1 LD_LIBRARY_PATH=other "$BIN" convert t.csv m2.avro
  # not under a launcher: the library is never loaded
  LD_LIBRARY_PATH=empty "$BIN" convert t.csv m3.avro 2> /dev/null || fail "a run without MPI needs $M"
  echo "ok: a run outside MPI does not need $M"
else
  echo "note: this build has no MPI (CSVAVRO_SONAME_MPI unset): MPI not checked"
fi
