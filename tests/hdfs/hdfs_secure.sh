#!/bin/bash
# hdfs_secure.sh — Kerberos against a real MIT KDC (scripts/testkdc.sh, loopback, temp dir):
# csvavro and Debian's independent Go client (hdfs-cli, kinit'd) against csvavro-hdfsd in secure
# mode at every hadoop.rpc.protection (authentication, integrity, privacy): put, cat, ls, mv, rm,
# and each reads the other's files byte for byte. Then the refusals, each with a clear message:
# another user's 0700 file, no ticket, an expired ticket, a wrong NameNode principal, a QOP
# mismatch, a SIMPLE client against the secure server and a Kerberos client against a SIMPLE
# one; keytab login (CSVAVRO_KEYTAB/CSVAVRO_PRINCIPAL) and _HOST in the principal.
. "$(dirname "$0")/lib.sh"
have_go_hdfs || { echo "SKIP: Debian's hdfs (hdfs-cli) is not installed"; exit 77; }
KDC=$T/kdc
rc=0
bash "$CSVAVRO_SRC/scripts/testkdc.sh" start "$KDC" >"$T/kdc.env" || rc=$?
[ $rc -eq 77 ] && { echo "SKIP: MIT krb5-kdc is not installed"; exit 77; }
[ $rc -eq 0 ] || fail "the test KDC did not start"
. "$T/kdc.env"
# (set +e: under errexit the (exit $r) of a failed run would end the trap before cleanup)
trap 'r=$?; set +e; bash "$CSVAVRO_SRC/scripts/testkdc.sh" stop "$KDC"; (exit $r); cleanup' EXIT
export HADOOP_USER_NAME=mallory # ignored under Kerberos: owners must come out as alice
C=$CSVAVRO_BIN
PRINC=hdfs/localhost@CSVAVRO.TEST
kinit -kt "$KDC/alice.keytab" alice || fail "kinit alice"
KRB5CCNAME=FILE:$T/bob.cc kinit -kt "$KDC/bob.keytab" bob || fail "kinit bob"

# secure_start QOP: a secure server whose conf dir is $T/conf
secure_start() {
  rm -rf "$T/conf"
  start_hdfsd --block-size 1M --replication 2 --keytab "$KDC/hdfs.keytab" \
    --kerberos-principal "$PRINC" --rpc-protection "$1" --conf-dir "$T/conf"
  unset HADOOP_NAMENODE # everything from the conf dir, as users would do it
  export HADOOP_CONF_DIR=$T/conf
}

mkdata "$T/d1" 1500000 1
mkdata "$T/d2" 70001 2
for q in authentication integrity privacy; do
  secure_start "$q"
  grep -q "<value>$q</value>" "$T/conf/core-site.xml" || fail "conf dir lacks the protection"
  $C fs mkdir -p "hdfs:///tmp/$q" || fail "$q: csvavro mkdir"
  $C fs put "$T/d1" "hdfs:///tmp/$q/c1" || fail "$q: csvavro put"
  hdfs put "$T/d2" "/tmp/$q/g2" || fail "$q: hdfs put"
  hdfs cat "/tmp/$q/c1" >"$T/o1" || fail "$q: hdfs cat"
  same "$T/d1" "$T/o1" "$q: csvavro-written file read by Go"
  $C fs cat "hdfs:///tmp/$q/g2" >"$T/o2" || fail "$q: csvavro cat"
  same "$T/d2" "$T/o2" "$q: Go-written file read by csvavro"
  hdfs ls -l "/tmp/$q" >"$T/ls" || fail "$q: hdfs ls"
  [ "$(grep -c ' alice ' "$T/ls")" = 2 ] || fail "$q: owners are not alice: $(cat "$T/ls")"
  $C fs ls "hdfs:///tmp/$q" >"$T/ls2" || fail "$q: csvavro ls"
  grep -q c1 "$T/ls2" && grep -q g2 "$T/ls2" || fail "$q: csvavro ls: $(cat "$T/ls2")"
  $C fs mv "hdfs:///tmp/$q/c1" "hdfs:///tmp/$q/c1m" || fail "$q: csvavro mv"
  hdfs mv "/tmp/$q/g2" "/tmp/$q/g2m" || fail "$q: hdfs mv"
  hdfs cat "/tmp/$q/c1m" | cmp -s - "$T/d1" || fail "$q: moved file (Go)"
  $C fs cat "hdfs:///tmp/$q/g2m" | cmp -s - "$T/d2" || fail "$q: moved file (csvavro)"
  $C fs rm "hdfs:///tmp/$q/g2m" || fail "$q: csvavro rm"
  hdfs rm "/tmp/$q/c1m" || fail "$q: hdfs rm"
  [ -z "$(hdfs ls "/tmp/$q")" ] || fail "$q: directory not empty after rm"
  ok "rpc protection $q: put/cat/ls/mv/rm, cross reads byte for byte (csvavro and Go)"
  stop_hdfsd
done

# the reference job hdfs -> hdfs on a privacy server: input put by Go, output fetched by Go and
# read by python3-avro, rows equal to Python's csv module's
secure_start privacy
"$CSVAVRO_BUILD/gen_taxi" --bytes 3000000 --seed 7 >"$T/trip.csv"
hdfs mkdir -p /tmp/ref && hdfs put "$T/trip.csv" /tmp/ref/trip_data.csv || fail "ref input"
$C convert hdfs:///tmp/ref/trip_data.csv 'hdfs:///tmp/ref/out/trip.*.avro' \
  --where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs \
  --split-size 1M -j2 2>"$T/summary" || { cat "$T/summary" >&2; fail "reference job"; }
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
exp = []
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
ok "reference job hdfs -> hdfs under Kerberos + privacy gives the reference rows"

# the refusals, against the same privacy server
$C fs mkdir -p hdfs:///tmp/priv || fail mkdir
$C fs put "$T/d2" hdfs:///tmp/priv/secret || fail put
hdfs chmod 700 /tmp/priv || fail chmod
refused() { # what, pattern, command...: must fail with pattern in stderr
  local what=$1 pat=$2
  shift 2
  if "$@" >"$T/out" 2>"$T/err"; then fail "$what: succeeded"; fi
  grep -q -i -- "$pat" "$T/err" || fail "$what: unexpected message: $(cat "$T/err")"
  ok "$what refused: $(head -c 240 "$T/err" | tr '\n' ' ')"
}
KRB5CCNAME=FILE:$T/bob.cc refused "bob reading alice's 0700 file (csvavro)" "Permission denied" \
  $C fs cat hdfs:///tmp/priv/secret
KRB5CCNAME=FILE:$T/bob.cc refused "bob reading alice's 0700 file (Go)" "permission denied" \
  hdfs cat /tmp/priv/secret
KRB5CCNAME=FILE:$T/bob.cc refused "bob writing into alice's 0700 dir" "Permission denied" \
  $C fs put "$T/d2" hdfs:///tmp/priv/bob
KRB5CCNAME=FILE:$T/none refused "no ticket" "kinit" $C fs ls hdfs:///
KRB5CCNAME=FILE:$T/short kinit -l 2s -kt "$KDC/bob.keytab" bob || fail "kinit -l 2s"
sleep 3
KRB5CCNAME=FILE:$T/short refused "expired ticket" "expired" $C fs ls hdfs:///
# keytab login instead of a ticket cache
KRB5CCNAME=FILE:$T/none CSVAVRO_KEYTAB=$KDC/bob.keytab CSVAVRO_PRINCIPAL=bob \
  $C fs put "$T/d2" hdfs:///tmp/bob-keytab || fail "keytab login"
hdfs ls -l /tmp/bob-keytab | grep -q ' bob ' || fail "keytab login: not owned by bob"
KRB5CCNAME=FILE:$T/none $C --keytab "$KDC/bob.keytab" --principal bob fs ls -l hdfs:///tmp/bob-keytab \
  >"$T/out" || fail "--keytab/--principal"
grep -q bob "$T/out" || fail "--keytab/--principal: $(cat "$T/out")"
ok "keytab login (CSVAVRO_KEYTAB, CSVAVRO_PRINCIPAL; --keytab, --principal)"
KRB5CCNAME=FILE:$T/none CSVAVRO_KEYTAB=$KDC/bob.keytab CSVAVRO_PRINCIPAL=carol \
  refused "keytab without that principal" "carol" $C fs ls hdfs:///
# other configurations, derived from the server's
NNADDR=$(sed -n 1p "$T/srv/out")
mkconf() { # dir core-extra hdfs-extra
  mkdir -p "$1"
  printf '<configuration>%s</configuration>\n' "$2" >"$1/core-site.xml"
  printf '<configuration>%s</configuration>\n' "$3" >"$1/hdfs-site.xml"
}
prop() { printf '<property><name>%s</name><value>%s</value></property>' "$1" "$2"; }
KRB=$(prop hadoop.security.authentication kerberos)
mkconf "$T/c-host" "$(prop fs.defaultFS "hdfs://localhost:${NNADDR##*:}")$KRB$(prop hadoop.rpc.protection privacy)" \
  "$(prop dfs.namenode.kerberos.principal 'hdfs/_HOST@CSVAVRO.TEST')"
HADOOP_CONF_DIR=$T/c-host $C fs cat hdfs:///tmp/priv/secret | cmp -s - "$T/d2" || fail "_HOST principal"
HADOOP_CONF_DIR=$T/c-host hdfs cat /tmp/priv/secret | cmp -s - "$T/d2" || fail "_HOST principal (Go)"
ok "dfs.namenode.kerberos.principal with _HOST"
mkconf "$T/c-wrong" "$(prop fs.defaultFS "hdfs://$NNADDR")$KRB$(prop hadoop.rpc.protection privacy)" \
  "$(prop dfs.namenode.kerberos.principal 'nn/localhost@CSVAVRO.TEST')"
HADOOP_CONF_DIR=$T/c-wrong refused "wrong NameNode principal" "not found in Kerberos database" \
  $C fs ls hdfs:///
HADOOP_CONF_DIR=$T/c-wrong refused "wrong NameNode principal (Go)" "" hdfs ls /
mkconf "$T/c-qop" "$(prop fs.defaultFS "hdfs://$NNADDR")$KRB$(prop hadoop.rpc.protection integrity)" \
  "$(prop dfs.namenode.kerberos.principal "$PRINC")"
HADOOP_CONF_DIR=$T/c-qop refused "QOP mismatch (client integrity, server privacy)" \
  "hadoop.rpc.protection mismatch" $C fs ls hdfs:///
mkconf "$T/c-dtp" "$(prop fs.defaultFS "hdfs://$NNADDR")$KRB$(prop hadoop.rpc.protection privacy)" \
  "$(prop dfs.namenode.kerberos.principal "$PRINC")$(prop dfs.data.transfer.protection privacy)"
HADOOP_CONF_DIR=$T/c-dtp $C fs ls hdfs:///tmp/priv >/dev/null || fail "namespace ops with dfs.data.transfer.protection"
HADOOP_CONF_DIR=$T/c-dtp refused "reading with dfs.data.transfer.protection from DataNodes without" \
  "does not use data transfer protection" $C fs cat hdfs:///tmp/priv/secret
HADOOP_CONF_DIR=$T/c-dtp refused "writing with dfs.data.transfer.protection to DataNodes without" \
  "does not use data transfer protection" $C fs put "$T/d2" hdfs:///tmp/priv/dtp
mkconf "$T/c-simple" "$(prop fs.defaultFS "hdfs://$NNADDR")" ""
HADOOP_CONF_DIR=$T/c-simple refused "SIMPLE client against the secure server" \
  "SIMPLE authentication is not enabled" $C fs ls hdfs:///
HADOOP_CONF_DIR=$T/c-simple refused "SIMPLE client against the secure server (Go)" "" hdfs ls /
stop_hdfsd
# a Kerberos client against a SIMPLE server
start_hdfsd
mkconf "$T/c-plain" "$(prop fs.defaultFS "hdfs://$(sed -n 1p "$T/srv/out")")$KRB" ""
unset HADOOP_NAMENODE
HADOOP_CONF_DIR=$T/c-plain refused "Kerberos client against a SIMPLE server" \
  "does not use Kerberos" $C fs ls hdfs:///
ok "all refusals clear"
