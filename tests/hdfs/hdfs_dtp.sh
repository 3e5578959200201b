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
. "$(dirname "$0")/secure_lib.sh"
digest_privacy_leaks
SECURE_BLOCK=256K

# round NAME LOG-PATTERN: both clients, every operation, cross reads
round() {
  local n=$1 pat=$2 d=/tmp/$1
  cross_ops "$n" "$d"
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
    secure_start $rq --data-transfer-protection $dq "${extra[@]}"
    grep -q "<name>dfs.data.transfer.protection</name>" "$T/conf/hdfs-site.xml" ||
      fail "conf dir lacks dfs.data.transfer.protection"
    round "rpc-$rq-dt-$dq" "$pat"
    stop_hdfsd
  done
done

secure_start privacy --encrypt-data-transfer --data-transfer-aes
grep -q "<name>dfs.encrypt.data.transfer</name>" "$T/conf/hdfs-site.xml" ||
  fail "conf dir lacks dfs.encrypt.data.transfer"
round "rpc-privacy-encrypt-aes" "data encryption key, layer privacy with AES/CTR"
# the reference job hdfs -> hdfs under encrypted data transfer: input put by Go, output
# fetched by Go and read by python3-avro, rows equal to Python's csv module's
reference_job 600000 256K
ok "reference job hdfs -> hdfs under Kerberos + dfs.encrypt.data.transfer gives the reference rows"
stop_hdfsd
secure_start authentication --encrypt-data-transfer
round "rpc-authentication-encrypt-digest" "data encryption key, layer privacy (DIGEST-MD5 frames)"

# mismatches, against this server (encrypted data transfer) and an integrity one
hdfs put "$T/d2" /tmp/f || fail "put for the mismatch checks"
NNADDR=$(sed -n 1p "$T/srv/out")
mkconf() { # dir hdfs-extra
  mkdir -p "$1"
  printf '<configuration>%s</configuration>\n' "$(prop fs.defaultFS "hdfs://$NNADDR")$(prop \
    hadoop.security.authentication kerberos)" >"$1/core-site.xml"
  printf '<configuration>%s%s</configuration>\n' "$(prop dfs.namenode.kerberos.principal "$PRINC")" \
    "$2" >"$1/hdfs-site.xml"
}
mkconf "$T/c-none" ""
# no dfs.encrypt.data.transfer in the client's conf: the NameNode's server defaults say so
# (encryptDataTransfer), and both clients follow them, as Java's does
HADOOP_CONF_DIR=$T/c-none $C fs cat hdfs:///tmp/f | cmp -s - "$T/d2" ||
  fail "csvavro does not follow the NameNode's encryptDataTransfer"
HADOOP_CONF_DIR=$T/c-none hdfs cat /tmp/f | cmp -s - "$T/d2" ||
  fail "Go does not follow the NameNode's encryptDataTransfer"
ok "encryption from the NameNode's server defaults alone (csvavro and Go)"
stop_hdfsd
secure_start authentication --data-transfer-protection integrity
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
