#!/bin/bash
# hdfs_secure.sh — Kerberos against a real MIT KDC (scripts/testkdc.sh, loopback, temp dir):
# csvavro and Debian's independent Go client (hdfs-cli, kinit'd) against csvavro-hdfsd in secure
# mode at every hadoop.rpc.protection (authentication, integrity, privacy): put, cat, ls, mv, rm,
# and each reads the other's files byte for byte. Then the refusals, each with a clear message:
# another user's 0700 file, no ticket, an expired ticket, a wrong NameNode principal, a QOP
# mismatch, a SIMPLE client against the secure server and a Kerberos client against a SIMPLE
# one, an unloadable GSS-API library (named in the message); keytab login (CSVAVRO_KEYTAB/CSVAVRO_PRINCIPAL) and _HOST in the principal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secure_lib.sh"
export HADOOP_USER_NAME=mallory # ignored under Kerberos: owners must come out as alice
KRB5CCNAME=FILE:$T/bob.cc kinit -kt "$KDC/bob.keytab" bob || fail "kinit bob"

mkdata "$T/d1" 1500000 1
mkdata "$T/d2" 70001 2
for q in authentication integrity privacy; do
  secure_start "$q"
  grep -q "<value>$q</value>" "$T/conf/core-site.xml" || fail "conf dir lacks the protection"
  cross_ops "$q" "/tmp/$q"
  ok "rpc protection $q: put/cat/ls/mv/rm, cross reads byte for byte (csvavro and Go)"
  stop_hdfsd
done

# the reference job hdfs -> hdfs on a privacy server: input put by Go, output fetched by Go and
# read by python3-avro, rows equal to Python's csv module's
secure_start privacy
reference_job 3000000 1M
ok "reference job hdfs -> hdfs under Kerberos + privacy gives the reference rows"

# the refusals, against the same privacy server
$C fs mkdir -p hdfs:///tmp/priv || fail mkdir
$C fs put "$T/d2" hdfs:///tmp/priv/secret || fail put
hdfs chmod 700 /tmp/priv || fail chmod
KRB5CCNAME=FILE:$T/bob.cc refused "bob reading alice's 0700 file (csvavro)" "Permission denied" \
  $C fs cat hdfs:///tmp/priv/secret
KRB5CCNAME=FILE:$T/bob.cc refused "bob reading alice's 0700 file (Go)" "permission denied" \
  hdfs cat /tmp/priv/secret
KRB5CCNAME=FILE:$T/bob.cc refused "bob writing into alice's 0700 dir" "Permission denied" \
  $C fs put "$T/d2" hdfs:///tmp/priv/bob
KRB5CCNAME=FILE:$T/none refused "no ticket" "kinit" $C fs ls hdfs:///
# MIT's GSS-API is loaded on first use (src/core/core_dl.h): an unloadable one (an empty file by
# its soname first on LD_LIBRARY_PATH) fails the Kerberos login with a message naming it
G=${CSVAVRO_SONAME_GSSAPI:?}
mkdir -p "$T/nolib" && : >"$T/nolib/$G"
LD_LIBRARY_PATH=$T/nolib refused "Kerberos without $G" "hdfs:///: Kerberos needs $G: $T/nolib/$G: file too short" \
  $C fs ls hdfs:///
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
