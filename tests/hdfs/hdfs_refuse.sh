#!/bin/bash
# hdfs_refuse.sh — files csvavro cannot read correctly are refused, never misread: a file in an
# encryption zone (FileEncryptionInfo + HAS_CRYPT) or erasure-coded (EC policy + HAS_EC), on
# read (fs cat/get, convert) and on write into such a directory (nothing is left behind). The
# server marks them through its control port (`mark PATH crypt|ec`); Debian's Go client checks
# that the marked statuses are well-formed (it lists them) and that the bytes are really there.
. "$(dirname "$0")/lib.sh"
have_go_hdfs || { echo "SKIP: Debian's hdfs (hdfs-cli) is not installed"; exit 77; }
start_hdfsd --block-size 1M --replication 1
C=$CSVAVRO_BIN
printf 'id,name\n1,a\n2,b\n' >"$T/in.csv"
mkdata "$T/blob" 70000 7
$C fs mkdir -p hdfs:///zone hdfs:///ec hdfs:///plain || fail mkdir
for d in zone ec plain; do
  $C fs put "$T/in.csv" "hdfs:///$d/in.csv" || fail "put $d"
  $C fs put "$T/blob" "hdfs:///$d/blob" || fail "put $d blob"
done
ctl "mark /zone crypt"
ctl "mark /zone/in.csv crypt"
ctl "mark /zone/blob crypt"
ctl "mark /ec ec"
ctl "mark /ec/in.csv ec"
ctl "mark /ec/blob ec"
# the marked statuses parse in the independent client, and the data is there for it
hdfs ls -l /zone /ec >"$T/ls" || fail "hdfs ls of marked files"
grep -q in.csv "$T/ls" || fail "hdfs ls: $(cat "$T/ls")"
hdfs cat /zone/blob | cmp -s - "$T/blob" || fail "the Go client does not see the bytes"
# reads are refused with the reason
expect_refusal() { # what, pattern, command...
  local what=$1 pat=$2; shift 2
  if "$@" >"$T/out" 2>"$T/err"; then fail "$what succeeded"; fi
  grep -q "$pat" "$T/err" || fail "$what: unexpected error: $(cat "$T/err")"
  [ ! -s "$T/out" ] || fail "$what wrote $(wc -c <"$T/out") bytes to stdout"
  ok "$what refused: $(head -c 200 "$T/err")"
}
expect_refusal "cat of an encryption-zone file" "encryption zone" $C fs cat hdfs:///zone/blob
expect_refusal "get of an encryption-zone file" "encryption zone" $C fs get hdfs:///zone/blob "$T/got"
[ ! -e "$T/got" ] || fail "get left $T/got behind"
expect_refusal "cat of an erasure-coded file" "erasure-coded" $C fs cat hdfs:///ec/blob
expect_refusal "convert from an encryption zone" "encryption zone" $C convert hdfs:///zone/in.csv "$T/o.avro"
expect_refusal "convert from an erasure-coded file" "erasure-coded" $C convert hdfs:///ec/in.csv "$T/o2.avro"
# writes into such a directory are refused and leave nothing behind
expect_refusal "put into an encryption zone" "encryption zone" $C fs put "$T/blob" hdfs:///zone/new
expect_refusal "put into an erasure-coded directory" "erasure-coding" $C fs put "$T/blob" hdfs:///ec/new
expect_refusal "convert into an encryption zone" "encryption zone" $C convert "$T/in.csv" hdfs:///zone/out.avro
hdfs ls /zone /ec >"$T/ls2" || fail "hdfs ls after refusals"
if grep -q -E 'new|out.avro|csvavro-tmp' "$T/ls2"; then fail "a refused write left a file: $(cat "$T/ls2")"; fi
ok "refused writes left nothing"
# plain files still work, and unmarking makes the file readable again
$C fs cat hdfs:///plain/blob | cmp -s - "$T/blob" || fail "plain file"
ctl "mark /zone/blob none"
$C fs cat hdfs:///zone/blob | cmp -s - "$T/blob" || fail "unmarked file"
ok "plain and unmarked files read"
