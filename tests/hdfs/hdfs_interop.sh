#!/bin/bash
# hdfs_interop.sh — byte-identical cross reads between csvavro's client and Debian's
# independent Go client (hdfs-cli) through csvavro-hdfsd: files put by `hdfs put` (CRC32
# replicas) read by `csvavro fs cat/get/head`, files put by `csvavro fs put` (CRC32C) read by
# `hdfs cat`, at the chunk/packet/block edges; plus unaligned head -c.
. "$(dirname "$0")/lib.sh"
have_go_hdfs || { echo "SKIP: Debian's hdfs (hdfs-cli) is not installed"; exit 77; }
start_hdfsd --block-size 1M --replication 3 --read-packet 1536
C=$CSVAVRO_BIN
$C fs mkdir -p hdfs:///x/go hdfs:///x/c || fail mkdir
for n in 0 1 511 512 513 65535 65536 64513 1048576 1048577 2500000; do
  mkdata "$T/d$n" "$n" "$n"
  # Go writes, we read
  hdfs put "$T/d$n" "/x/go/d$n" || fail "hdfs put $n"
  $C fs cat "hdfs:///x/go/d$n" >"$T/r$n" || fail "csvavro fs cat $n"
  same "$T/d$n" "$T/r$n" "Go-written $n bytes read by csvavro"
  rm -f "$T/g$n"
  $C fs get "hdfs:///x/go/d$n" "$T/g$n" || fail "csvavro fs get $n"
  same "$T/d$n" "$T/g$n" "csvavro fs get $n"
  # we write, Go reads
  $C fs put "$T/d$n" "hdfs://$NN/x/c/d$n" || fail "csvavro fs put $n"
  hdfs cat "/x/c/d$n" >"$T/q$n" || fail "hdfs cat $n"
  same "$T/d$n" "$T/q$n" "csvavro-written $n bytes read by Go"
  $C fs cat "hdfs:///x/c/d$n" >"$T/s$n" || fail "csvavro reads its own $n"
  same "$T/d$n" "$T/s$n" "csvavro round trip $n"
done
ok "cross reads at sizes 0..2500000"
# unaligned head -c, against the local file's head -c
for c in 1 100 511 513 70000 1048577; do
  $C fs head -c "$c" hdfs:///x/go/d2500000 >"$T/h1"
  head -c "$c" "$T/d2500000" >"$T/h2"
  same "$T/h1" "$T/h2" "head -c $c"
done
$C fs head hdfs:///x/c/d2500000 | cmp -s - <(head -c 1024 "$T/d2500000") || fail "head default 1024"
ok "head -c"
# put refuses an existing file without -f, overwrites with -f
if $C fs put "$T/d1" hdfs:///x/c/d513 2>"$T/err"; then fail "put over an existing file"; fi
grep -q "FileAlreadyExistsException" "$T/err" || fail "put error: $(cat "$T/err")"
$C fs put -f "$T/d1" hdfs:///x/c/d513 || fail "put -f"
hdfs cat /x/c/d513 | cmp -s - "$T/d1" || fail "overwritten content"
# put into a directory takes the base name
$C fs put "$T/d511" hdfs:///x || fail "put into dir"
hdfs cat /x/d511 | cmp -s - "$T/d511" || fail "put into dir content"
ok "put semantics"
