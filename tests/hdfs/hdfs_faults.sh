#!/bin/bash
# hdfs_faults.sh — fault injection through csvavro-hdfsd's control port:
#   read: a DataNode that cuts connections mid-block, DataNodes stopped while a slow read runs,
#         a DataNode refusing READ_BLOCK, a corrupted replica (CRC mismatch -> another replica),
#         all replicas corrupted (a clear checksum error, never bad bytes), a stalled DataNode
#         (socket timeout -> another replica), DataNodes slow but steady (no timeout);
#   write: a DataNode lost mid-block, a DataNode refusing WRITE_BLOCK, complete() false N times;
#   NameNode: refusing for a moment (retried), then down (clear error after bounded retries).
. "$(dirname "$0")/lib.sh"
start_hdfsd --block-size 1M --replication 3 --read-packet 16384 ${HDFSD_VERBOSE:+-v}
C=$CSVAVRO_BIN
U=hdfs://$NN
mkdata "$T/big" 6000000 11
$C fs put "$T/big" $U/big || fail "put"

# --- reads
for i in 1 2 3; do
  ctl "drop-after $i 300000"
  $C fs cat $U/big >"$T/r" || fail "read with DataNode $i cutting connections"
  same "$T/big" "$T/r" "read with DataNode $i cutting connections"
  ctl reset
done
ok "DataNode cutting connections mid-read"

ctl "slow 1 5"; ctl "slow 2 5"; ctl "slow 3 5"
( sleep 0.4; ctl "dn-stop 1"; ctl "dn-stop 2" ) &
stopper=$!
$C fs cat $U/big >"$T/r" || fail "read while DataNodes stop"
wait $stopper
same "$T/big" "$T/r" "read while DataNodes stop"
ctl reset; ctl "dn-start 1"; ctl "dn-start 2"
ok "DataNodes stopped mid-read"

ctl "dn-fail-read 1 1"; ctl "dn-fail-read 2 1"
$C fs cat $U/big >"$T/r" || fail "read with READ_BLOCK refused"
same "$T/big" "$T/r" "read with READ_BLOCK refused by 2 of 3"
ctl reset
ok "READ_BLOCK refused"

ctl "corrupt /big 0 0"; ctl "corrupt /big 3 1"
$C fs cat $U/big >"$T/r" || fail "read with corrupted replicas"
same "$T/big" "$T/r" "read with a corrupted replica"
ok "corrupted replica detected and skipped"
ctl "corrupt /big 2 0"; ctl "corrupt /big 2 1"; ctl "corrupt /big 2 2"
if $C fs cat $U/big >"$T/r" 2>"$T/err"; then fail "read of a block corrupted on every replica succeeded"; fi
grep -q "checksum mismatch" "$T/err" || fail "no checksum error: $(cat "$T/err")"
grep -q "every replica failed" "$T/err" || fail "message: $(cat "$T/err")"
[ "$(stat -c %s "$T/r")" -le 2097152 ] || fail "bytes past the bad block were written"
ok "block corrupt everywhere: clear error ($(head -1 "$T/err" | cut -c1-160))"

mkdata "$T/small" 400000 12
$C fs put "$T/small" $U/small || fail "put small"
ctl "slow 1 3000"; ctl "slow 2 3000"
CSVAVRO_HDFS_TIMEOUT_MS=500 $C fs cat $U/small >"$T/r" || fail "read with stalled DataNodes"
same "$T/small" "$T/r" "read with stalled DataNodes"
ctl reset
ok "stalled DataNodes time out, read from the third"

# a DataNode that sends slowly but steadily (a packet every 150 ms, timeout 500 ms) is read as
# it sends: the client's low-water mark (it sleeps until the range's remaining 100,000 bytes,
# 7 packets, are there) must not turn it into a timeout
mkdata "$T/slow" 100000 13
$C fs put "$T/slow" $U/slow || fail "put slow"
ctl "slow 1 150"; ctl "slow 2 150"; ctl "slow 3 150"
CSVAVRO_HDFS_TIMEOUT_MS=500 $C fs cat $U/slow >"$T/r" 2>"$T/err" ||
  fail "read from DataNodes sending a packet every 150 ms: $(cat "$T/err")"
same "$T/slow" "$T/r" "read from slow DataNodes"
ctl reset
ok "slow but steady DataNodes: no timeout"

# --- writes
for i in 1 2 3; do
  ctl "drop-after $i 500000"
  $C fs put "$T/big" $U/w$i || fail "write with DataNode $i lost mid-block"
  ctl reset
  $C fs cat $U/w$i >"$T/r" || fail "read back w$i"
  same "$T/big" "$T/r" "written with DataNode $i lost"
  if have_go_hdfs; then hdfs cat /w$i | cmp -s - "$T/big" || fail "Go reads w$i"; fi
done
ok "DataNode lost mid-write: the write completes"

ctl "dn-fail-write 2 1"
$C fs put "$T/big" $U/wf || fail "write with WRITE_BLOCK refused"
ctl reset
$C fs cat $U/wf | cmp -s - "$T/big" || fail "read back wf"
ok "WRITE_BLOCK refused by one DataNode"

ctl "dn-stop 3"
$C fs put "$T/big" $U/ws || fail "write with a DataNode stopped"
$C fs cat $U/ws | cmp -s - "$T/big" || fail "read back ws"
ctl "dn-start 3"
ok "DataNode stopped (connections refused) during a write"

ctl "complete-false 3"
$C fs put "$T/small" $U/cf || fail "write with complete=false x3"
$C fs cat $U/cf | cmp -s - "$T/small" || fail "read back cf"
ok "complete() false retried"

# --- NameNode
ctl "nn-refuse 1"
CSVAVRO_HDFS_RETRIES=6 CSVAVRO_HDFS_BACKOFF_MS=200 $C fs stat $U/small >/dev/null || fail "stat while the NameNode refuses for 1 s"
ok "NameNode refusing briefly: retried"
stop_hdfsd
start=$(date +%s%N)
if CSVAVRO_HDFS_RETRIES=3 CSVAVRO_HDFS_BACKOFF_MS=100 $C fs ls $U/ >/dev/null 2>"$T/err"; then fail "ls with the NameNode down"; fi
end=$(date +%s%N)
grep -q "NameNode unreachable after 4 attempts" "$T/err" || fail "message: $(cat "$T/err")"
ok "NameNode down: $(cat "$T/err") ($(( (end - start) / 1000000 )) ms)"
