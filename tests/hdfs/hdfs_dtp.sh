#!/bin/bash
# hdfs_dtp.sh — data transfer protection against a real MIT KDC (scripts/testkdc.sh): at every
# combination of hadoop.rpc.protection x dfs.data.transfer.protection (3 x 3), plus
# dfs.encrypt.data.transfer (with and without AES/CTR), csvavro and Debian's independent Go
# client (kinit'd) each put, cat, ls, mv and rm against a secure csvavro-hdfsd (replication 2,
# so the in-process pipeline forwards too), and each reads the other's files byte for byte.
# The server's log must show the layer asked for (AES/CTR where negotiated). The reference job
# hdfs -> hdfs on one combination gives the reference rows (Python's csv module + python3-avro).
# Then the mismatches, each a clear error: a client without the protection the DataNode
# requires (csvavro and Go), a client requiring more than the DataNode offers (both), a client
# doing SASL with a DataNode that does not. Also: protection with block tokens under SIMPLE, and
# an expired block token refused inside the handshake (the reader fetches new ones).
. "$(dirname "$0")/lib.sh"
# Cyrus SASL's DIGEST-MD5 plugin leaks a fetched cipher per privacy connection (library-internal:
# tests/hdfs/lsan.supp); its frames are found only with the slow unwinder
export ASAN_OPTIONS="fast_unwind_on_malloc=0:$ASAN_OPTIONS"
export LSAN_OPTIONS="suppressions=$CSVAVRO_SRC/tests/hdfs/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
have_go_hdfs || { echo "SKIP: Debian's hdfs (hdfs-cli) is not installed"; exit 77; }
KDC=$T/kdc
rc=0
bash "$CSVAVRO_SRC/scripts/testkdc.sh" start "$KDC" >"$T/kdc.env" || rc=$?
[ $rc -eq 77 ] && { echo "SKIP: MIT krb5-kdc is not installed"; exit 77; }
[ $rc -eq 0 ] || fail "the test KDC did not start"
. "$T/kdc.env"
# (set +e: under errexit the (exit $r) of a failed run would end the trap before cleanup)
trap 'r=$?; set +e; bash "$CSVAVRO_SRC/scripts/testkdc.sh" stop "$KDC"; (exit $r); cleanup' EXIT
C=$CSVAVRO_BIN
PRINC=hdfs/localhost@CSVAVRO.TEST
kinit -kt "$KDC/alice.keytab" alice || fail "kinit alice"

# dstart RPC-QOP HDFSD-ARGS...: a secure server whose conf dir is $T/conf
dstart() {
  local q=$1
  shift
  rm -rf "$T/conf" "$T/srv"
  start_hdfsd -v --block-size 256K --replication 2 --keytab "$KDC/hdfs.keytab" \
    --kerberos-principal "$PRINC" --rpc-protection "$q" --conf-dir "$T/conf" "$@"
  unset HADOOP_NAMENODE
  export HADOOP_CONF_DIR=$T/conf
}

# round NAME LOG-PATTERN: both clients, every operation, cross reads
round() {
  local n=$1 pat=$2 d=/tmp/$1
  $C fs mkdir -p "hdfs://$d" || fail "$n: csvavro mkdir"
  $C fs put "$T/d1" "hdfs://$d/c1" || fail "$n: csvavro put"
  hdfs put "$T/d2" "$d/g2" || fail "$n: hdfs put"
  hdfs cat "$d/c1" >"$T/o1" || fail "$n: hdfs cat"
  same "$T/d1" "$T/o1" "$n: csvavro-written file read by Go"
  $C fs cat "hdfs://$d/g2" >"$T/o2" || fail "$n: csvavro cat"
  same "$T/d2" "$T/o2" "$n: Go-written file read by csvavro"
  hdfs ls "$d" >"$T/ls" || fail "$n: hdfs ls"
  [ "$(tr '\n' ' ' <"$T/ls")" = "c1 g2 " ] || fail "$n: hdfs ls: $(cat "$T/ls")"
  $C fs ls "hdfs://$d" >"$T/ls2" || fail "$n: csvavro ls"
  grep -q c1 "$T/ls2" && grep -q g2 "$T/ls2" || fail "$n: csvavro ls: $(cat "$T/ls2")"
  $C fs mv "hdfs://$d/c1" "hdfs://$d/c1m" || fail "$n: csvavro mv"
  hdfs mv "$d/g2" "$d/g2m" || fail "$n: hdfs mv"
  hdfs cat "$d/c1m" | cmp -s - "$T/d1" || fail "$n: moved file (Go)"
  $C fs cat "hdfs://$d/g2m" | cmp -s - "$T/d2" || fail "$n: moved file (csvavro)"
  $C fs rm "hdfs://$d/g2m" || fail "$n: csvavro rm"
  hdfs rm "$d/c1m" || fail "$n: hdfs rm"
  [ -z "$(hdfs ls "$d")" ] || fail "$n: directory not empty after rm"
  grep -q "datanode SASL handshake: .*$pat" "$T/srv/err" ||
    fail "$n: the DataNode log lacks '$pat': $(grep 'SASL handshake' "$T/srv/err" | sort | uniq -c)"
  if grep 'SASL handshake' "$T/srv/err" | grep -v -q -- "$pat"; then
    fail "$n: a handshake other than '$pat': $(grep 'SASL handshake' "$T/srv/err" | sort | uniq -c)"
  fi
  ok "$n: put/cat/ls/mv/rm by csvavro and Go, cross reads byte for byte ($pat)"
}

mkdata "$T/d1" 600000 1 # 3 blocks of 256K
mkdata "$T/d2" 70001 2
for rq in authentication integrity privacy; do
  for dq in authentication integrity privacy; do
    extra=()
    pat="block token, layer $dq"
    [ $dq = authentication ] && pat="$pat\$"
    [ $dq = integrity ] && pat="$pat (DIGEST-MD5 frames)"
    if [ $dq = privacy ] && [ $rq = privacy ]; then # the AES/CTR cipher option
      extra=(--data-transfer-aes)
      pat="$pat with AES/CTR"
    elif [ $dq = privacy ]; then
      pat="$pat (DIGEST-MD5 frames)"
    fi
    dstart $rq --data-transfer-protection $dq "${extra[@]}"
    grep -q "<name>dfs.data.transfer.protection</name>" "$T/conf/hdfs-site.xml" ||
      fail "conf dir lacks dfs.data.transfer.protection"
    round "rpc-$rq-dt-$dq" "$pat"
    stop_hdfsd
  done
done

dstart privacy --encrypt-data-transfer --data-transfer-aes
grep -q "<name>dfs.encrypt.data.transfer</name>" "$T/conf/hdfs-site.xml" ||
  fail "conf dir lacks dfs.encrypt.data.transfer"
round "rpc-privacy-encrypt-aes" "data encryption key, layer privacy with AES/CTR"
# the reference job hdfs -> hdfs under encrypted data transfer: input put by Go, output
# fetched by Go and read by python3-avro, rows equal to Python's csv module's
"$CSVAVRO_BUILD/gen_taxi" --bytes 600000 --seed 7 >"$T/trip.csv"
hdfs mkdir -p /tmp/ref && hdfs put "$T/trip.csv" /tmp/ref/trip_data.csv || fail "ref input"
$C convert hdfs:///tmp/ref/trip_data.csv 'hdfs:///tmp/ref/out/trip.*.avro' \
  --where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs \
  --split-size 256K -j2 2>"$T/summary" || { cat "$T/summary" >&2; fail "reference job"; }
mkdir "$T/refout"
for f in $(hdfs ls /tmp/ref/out | grep '\.avro$'); do hdfs get "/tmp/ref/out/$f" "$T/refout/$f"; done
$PY - "$T/trip.csv" "$T/refout" <<'PYEOF' || fail "reference job rows"
import csv, datetime, glob, re, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
ep = datetime.datetime(1970, 1, 1)
def us(s):
    d = datetime.datetime(*(int(x) for x in (s[0:4], s[5:7], s[8:10], s[11:13], s[14:16], s[17:19])))
    return (d - ep) // datetime.timedelta(microseconds=1)
with open(sys.argv[1], newline="") as f:
    rd = csv.reader(f); h = next(rd)
    ip, ic, it = h.index("pickup_datetime"), h.index("passenger_count"), h.index("trip_time_in_secs")
    exp = [(us(r[ip]), int(r[ic]), int(r[it])) for r in rd if r[ic] and int(r[ic]) > 3]
got = []
key = lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]
for p in sorted(glob.glob(sys.argv[2] + "/*.avro"), key=key):
    with open(p, "rb") as fh:
        for r in DataFileReader(fh, DatumReader()):
            got.append((r["pickup_datetime"], r["passenger_count"], r["trip_time_in_secs"]))
print(f"reference job: {len(exp)} rows expected, {len(got)} read back")
assert exp == got and len(exp) > 0
PYEOF
ok "reference job hdfs -> hdfs under Kerberos + dfs.encrypt.data.transfer gives the reference rows"
stop_hdfsd
dstart authentication --encrypt-data-transfer
round "rpc-authentication-encrypt-digest" "data encryption key, layer privacy (DIGEST-MD5 frames)"

# mismatches, against this server (encrypted data transfer) and an integrity one
refused() { # what, pattern, command...: must fail with pattern in stderr
  local what=$1 pat=$2
  shift 2
  if "$@" >"$T/out" 2>"$T/err"; then fail "$what: succeeded"; fi
  grep -q -i -- "$pat" "$T/err" || fail "$what: unexpected message: $(cat "$T/err")"
  ok "$what refused: $(head -c 300 "$T/err" | tr '\n' ' ')"
}
hdfs put "$T/d2" /tmp/f || fail "put for the mismatch checks"
NNADDR=$(sed -n 1p "$T/srv/out")
mkconf() { # dir hdfs-extra
  mkdir -p "$1"
  printf '<configuration>%s</configuration>\n' "$(prop fs.defaultFS "hdfs://$NNADDR")$(prop \
    hadoop.security.authentication kerberos)" >"$1/core-site.xml"
  printf '<configuration>%s%s</configuration>\n' "$(prop dfs.namenode.kerberos.principal "$PRINC")" \
    "$2" >"$1/hdfs-site.xml"
}
prop() { printf '<property><name>%s</name><value>%s</value></property>' "$1" "$2"; }
mkconf "$T/c-none" ""
# no dfs.encrypt.data.transfer in the client's conf: the NameNode's server defaults say so
# (encryptDataTransfer), and both clients follow them, as Java's does
HADOOP_CONF_DIR=$T/c-none $C fs cat hdfs:///tmp/f | cmp -s - "$T/d2" ||
  fail "csvavro does not follow the NameNode's encryptDataTransfer"
HADOOP_CONF_DIR=$T/c-none hdfs cat /tmp/f | cmp -s - "$T/d2" ||
  fail "Go does not follow the NameNode's encryptDataTransfer"
ok "encryption from the NameNode's server defaults alone (csvavro and Go)"
stop_hdfsd
dstart authentication --data-transfer-protection integrity
hdfs put "$T/d2" /tmp/f || fail "put for the mismatch checks"
NNADDR=$(sed -n 1p "$T/srv/out")
mkconf "$T/c-none" ""
HADOOP_CONF_DIR=$T/c-none refused "client without protection, DataNode integrity (csvavro)" \
  "requires SASL data transfer protection (dfs.data.transfer.protection=integrity)" \
  $C fs put "$T/d2" hdfs:///tmp/f2
HADOOP_CONF_DIR=$T/c-none refused "client without protection, DataNode integrity (Go)" \
  "requires SASL data transfer protection" hdfs cat /tmp/f
mkconf "$T/c-priv" "$(prop dfs.data.transfer.protection privacy)"
HADOOP_CONF_DIR=$T/c-priv refused "client requiring privacy, DataNode integrity (csvavro)" \
  "protection mismatch: the server offers integrity, this client accepts privacy" \
  $C fs cat hdfs:///tmp/f
HADOOP_CONF_DIR=$T/c-priv refused "client requiring privacy, DataNode integrity (Go)" \
  "invalid qop" hdfs cat /tmp/f
stop_hdfsd
start_hdfsd --block-tokens --data-transfer-protection integrity --conf-dir "$T/conf2"
export HADOOP_CONF_DIR=$T/conf2
$C fs put "$T/d2" hdfs:///tmp/plain || fail "block tokens without Kerberos: put"
$C fs cat hdfs:///tmp/plain | cmp -s - "$T/d2" || fail "block tokens without Kerberos: cat"
ok "data transfer protection with block tokens and SIMPLE authentication"
# an expired block token inside the handshake: the DataNode refuses it (accessTokenError) and
# the client fetches new block locations and tokens, once, and reads on
stop_hdfsd
start_hdfsd -v --block-tokens --block-token-lifetime 2 --data-transfer-protection integrity \
  --conf-dir "$T/conf4"
export HADOOP_CONF_DIR=$T/conf4
$C fs put "$T/d2" hdfs:///stale || fail "put for the stale-token check"
"${HDFS_LIVE:?}" --stale-token "hdfs:///stale" "$T/d2" 4 || fail "read with expired tokens"
grep -q "SASL handshake refused: Block token is expired" "$T/srv/err" ||
  fail "the DataNode did not refuse the stale token in the handshake: $(grep -i sasl "$T/srv/err" | tail -3)"
ok "an expired block token is refused inside the SASL handshake; the reader gets new ones"
stop_hdfsd
start_hdfsd --keytab "$KDC/hdfs.keytab" --kerberos-principal "$PRINC" --conf-dir "$T/conf3"
export HADOOP_CONF_DIR=$T/conf3
unset HADOOP_NAMENODE
hdfs mkdir -p /tmp/m && hdfs put "$T/d2" /tmp/m/f || { hdfs ls -l /; fail "put for the mismatch checks"; }
NNADDR=$(sed -n 1p "$T/srv/out")
mkconf "$T/c-int" "$(prop dfs.data.transfer.protection integrity)"
HADOOP_CONF_DIR=$T/c-int refused "client doing SASL, DataNode without protection" \
  "does not use data transfer protection" $C fs cat hdfs:///tmp/m/f
ok "all mismatches clear"
