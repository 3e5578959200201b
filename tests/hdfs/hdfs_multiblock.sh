#!/bin/bash
# hdfs_multiblock.sh — a 24 MiB file in 1 MiB blocks with replication 3, both directions
# (Debian's hdfs writes / csvavro reads, csvavro writes / hdfs reads), then library checks
# (hdfs_live: block map with replica hosts, 4 threads sharing one fs, 4 MiB sequential preads,
# a slow write with the lease renewer running, confirmed in the server's call log; ranged reads
# on reused DataNode connections and after the DataNode closed an idle one).
. "$(dirname "$0")/lib.sh"
: "${HDFS_LIVE:?}"
start_hdfsd --block-size 1M --replication 3 -v
C=$CSVAVRO_BIN
SIZE=$((24 * 1048576 + 12345))
mkdata "$T/m" $SIZE 5
$C fs put "$T/m" hdfs:///m || fail "csvavro put"
$C fs stat hdfs:///m | grep -q "^regular file $SIZE 3 1048576 " || fail "stat: $($C fs stat hdfs:///m)"
if have_go_hdfs; then
  hdfs cat /m | cmp -s - "$T/m" || fail "hdfs cat of the csvavro-written file"
  hdfs put "$T/m" /g || fail "hdfs put"
  $C fs cat hdfs:///g | cmp -s - "$T/m" || fail "csvavro cat of the Go-written file"
  ok "25 blocks both ways"
fi
CSVAVRO_HDFS_LEASE_RENEW_MS=200 "$HDFS_LIVE" hdfs:///m "$T/m" 25 1048576 3 || fail "hdfs_live"
grep -q "renewLease" "$T/srv/err" || fail "no renewLease during the slow write"
ok "library checks"
# READ_BLOCK ranges on reused connections, and a request after the DataNode closed the idle one
# (its keep-alive is 4 s), with one DataNode left: no failover to hide a client that gives up
ctl "dn-stop 2"
ctl "dn-stop 3"
"$HDFS_LIVE" --idle hdfs:///m "$T/m" || fail "hdfs_live --idle"
ok "reused and timed-out DataNode connections"
