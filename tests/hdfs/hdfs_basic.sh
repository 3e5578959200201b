#!/bin/bash
# hdfs_basic.sh — namespace operations through `csvavro fs` against csvavro-hdfsd: mkdir [-p],
# ls [-l] (paged listings: the server's page size is 2), stat, du [-s], df, mv, rm [-r], and
# error cases with exit codes. Expected values come from Debian's Go `hdfs` client where it has
# the operation, else from the files we created.
. "$(dirname "$0")/lib.sh"
start_hdfsd --block-size 1M --replication 2 --ls-limit 2
C=$CSVAVRO_BIN
U=hdfs://$NN
$C fs mkdir -p $U/t/a/b || fail "mkdir -p"
$C fs mkdir -p $U/t/a/b || fail "mkdir -p twice"
if $C fs mkdir $U/t/a 2>/dev/null; then fail "mkdir of an existing dir succeeded"; fi
if $C fs mkdir $U/t/zz/yy 2>"$T/err"; then fail "mkdir without -p and a missing parent"; fi
grep -q FileNotFoundException "$T/err" || fail "mkdir error: $(cat "$T/err")"
for i in 1 2 3 4 5; do
  mkdata "$T/f$i" $((i * 1000)) $i
  $C fs put "$T/f$i" "$U/t/f$i" || fail "put f$i"
done
# ls: names in byte order, all pages
$C fs ls $U/t >"$T/ls"
printf '%s\n' $U/t/a $U/t/f1 $U/t/f2 $U/t/f3 $U/t/f4 $U/t/f5 | diff - "$T/ls" || fail "ls"
ok "ls over paged listings"
if have_go_hdfs; then
  hdfs ls /t | sed "s|^|$U/t/|" | diff - "$T/ls" || fail "ls differs from hdfs ls"
  ok "ls matches hdfs ls"
fi
# ls -l: header, mode, replication, owner, group, size, date, path
$C fs ls -l $U/t >"$T/lsl"
head -1 "$T/lsl" | grep -qx "Found 6 items" || fail "ls -l header: $(head -1 "$T/lsl")"
grep -E "^drwxr-xr-x +- tester supergroup +0 [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} $U/t/a\$" "$T/lsl" >/dev/null || fail "ls -l dir line: $(cat "$T/lsl")"
grep -E "^-rw-r--r-- +2 tester supergroup +3000 [0-9-]+ [0-9:]+ $U/t/f3\$" "$T/lsl" >/dev/null || fail "ls -l file line: $(cat "$T/lsl")"
ok "ls -l"
# stat
$C fs stat $U/t/f2 | grep -E "^regular file 2000 2 1048576 tester supergroup [0-9-]+ [0-9:]+ f2\$" >/dev/null || fail "stat file: $($C fs stat $U/t/f2)"
$C fs stat $U/t/a | grep -E "^directory 0 0 0 tester supergroup .* a\$" >/dev/null || fail "stat dir: $($C fs stat $U/t/a)"
if $C fs stat $U/t/nope 2>"$T/err"; then fail "stat of a missing path"; fi
grep -q "no such file" "$T/err" || fail "stat error: $(cat "$T/err")"
ok stat
# du / du -s (against the sizes we wrote, and hdfs du -s)
$C fs du -s $U/t | awk '{print $1}' | grep -qx 15000 || fail "du -s: $($C fs du -s $U/t)"
$C fs du $U/t | awk '{print $1}' | tr '\n' ' ' | grep -qx "0 1000 2000 3000 4000 5000 " || fail "du: $($C fs du $U/t)"
if have_go_hdfs; then
  [ "$(hdfs du -s /t | awk '{print $1}')" = 15000 ] || fail "hdfs du -s disagrees"
fi
ok du
# df: same numbers as hdfs df
$C fs df >"$T/df"
head -1 "$T/df" | grep -q "Filesystem.*Size.*Used.*Available.*Use%" || fail "df header"
if have_go_hdfs; then
  read -r _ size used avail _ < <(sed -n 2p "$T/df")
  read -r _ gsize gused gavail _ < <(hdfs df | sed -n 2p)
  [ "$size" = "$gsize" ] || fail "df size $size vs $gsize"
  [ "$used" -gt 0 ] || fail "df used $used"
fi
ok df
# mv: rename, into a directory, refusing an existing destination
$C fs mv $U/t/f1 $U/t/g1 || fail mv
$C fs mv $U/t/g1 $U/t/a || fail "mv into dir"
$C fs cat $U/t/a/g1 | cmp -s - "$T/f1" || fail "moved content"
if $C fs mv $U/t/f2 $U/t/f3 2>/dev/null; then fail "mv over an existing file"; fi
if $C fs mv $U/t/nope $U/t/x 2>/dev/null; then fail "mv of a missing file"; fi
ok mv
# rm: file, dir without -r refused, -r, -f on missing
$C fs rm $U/t/f2 | grep -qx "Deleted $U/t/f2" || fail "rm output"
if $C fs rm $U/t/a 2>/dev/null; then fail "rm of a dir without -r"; fi
$C fs rm -r $U/t/a >/dev/null || fail "rm -r"
if $C fs rm $U/t/a 2>/dev/null; then fail "rm of a missing path"; fi
$C fs rm -f $U/t/a || fail "rm -f of a missing path"
$C fs ls $U/t | diff - <(printf '%s\n' $U/t/f3 $U/t/f4 $U/t/f5) || fail "ls after rm"
ok rm
# exit codes: usage 2, runtime 1
set +e
$C fs frob >/dev/null 2>&1; [ $? = 2 ] || fail "unknown op exit code"
$C fs cat $U/t/nope >/dev/null 2>&1; [ $? = 1 ] || fail "missing file exit code"
set -e
# HA-style address list: the first NameNode is down, the client fails over to the second
HADOOP_NAMENODE=127.0.0.1:1,$NN $C fs ls hdfs:///t | grep -qx "hdfs:///t/f3" || fail "failover to the second NameNode"
ok "NameNode list failover"
# fs.defaultFS from $HADOOP_CONF_DIR/core-site.xml
mkdir -p "$T/conf"
printf '<?xml version="1.0"?>\n<configuration>\n  <property>\n    <name>fs.defaultFS</name>\n    <value>hdfs://%s</value>\n  </property>\n</configuration>\n' "$NN" >"$T/conf/core-site.xml"
(unset HADOOP_NAMENODE; HADOOP_CONF_DIR=$T/conf $C fs ls hdfs:///t) | grep -qx "hdfs:///t/f4" || fail "HADOOP_CONF_DIR"
(unset HADOOP_NAMENODE HADOOP_CONF_DIR; HADOOP_HOME=$T/none $C fs ls hdfs:///t 2>"$T/err") && fail "no NameNode configured"
grep -q "no HDFS NameNode" "$T/err" || fail "message without a NameNode: $(cat "$T/err")"
ok "HADOOP_CONF_DIR / fs.defaultFS"
# local paths work the same way
mkdir -p "$T/loc"
$C fs put "$T/f3" "$T/loc/x" && cmp -s "$T/f3" "$T/loc/x" || fail "local put"
$C fs ls "$T/loc" | grep -qx "$T/loc/x" || fail "local ls"
ok "local paths"
# the control port's `cpu` (how bench_hdfs_read.sh measures the server apart from the client):
# the server's own user + system time in microseconds, all threads, growing while it serves
cpu_us() {
  $PY - "$CTL" <<'PYEOF'
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=10)
s.sendall(b"cpu\n")
print(s.makefile().readline().strip())
PYEOF
}
c0=$(cpu_us)
$C fs cat hdfs:///t/f3 | cmp -s - "$T/f3" || fail "read between the cpu queries"
c1=$(cpu_us)
[[ $c0 =~ ^ok\ [0-9]+$ && $c1 =~ ^ok\ [0-9]+$ ]] || fail "cpu answered '$c0', then '$c1'"
[ "${c1#ok }" -gt "${c0#ok }" ] || fail "the server's CPU time did not grow over a read: $c0, then $c1"
ok "control port: cpu"
