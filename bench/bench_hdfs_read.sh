#!/bin/bash
# bench_hdfs_read.sh — HDFS read throughput of csvavro's native client from csvavro-hdfsd on
# loopback, next to a local read of the same file (and Debian's Go `hdfs cat` when installed).
# usage: bench/bench_hdfs_read.sh [BUILD_DIR] [MiB]   (defaults: build, 256)
# Each reader streams the file to /dev/null through `cat` (4 MiB preads for csvavro);
# best of 3 runs. The page cache is warm for both (the server's replicas are local files), so
# the ratio measures protocol + checksum cost, not disks. Then the reference job (`convert
# --where 'passenger_count > 3'`, 3 columns, -j1 and -j2, 64 MiB splits = blocks) on a
# gen_taxi file of the same size, from the local file and from hdfs://, output to local disk.
set -euo pipefail
B=${1:-build}
MIB=${2:-256}
C=$B/csvavro
D=$B/csvavro-hdfsd
[ -x "$C" ] && [ -x "$D" ] || { echo "build csvavro and csvavro-hdfsd in $B first" >&2; exit 2; }
T=$(mktemp -d /tmp/csvavro-bench-hdfs.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$T"' EXIT
"$D" --data "$T/srv" --port 0 --block-size 64M --replication 1 --datanodes 1 >"$T/out" 2>/dev/null &
PID=$!
for _ in $(seq 100); do [ -s "$T/out" ] && break; sleep 0.05; done
export HADOOP_NAMENODE=$(head -1 "$T/out") HADOOP_USER_NAME=$(id -un)
/usr/bin/python3 -c "import os,sys; f=open(sys.argv[1],'wb'); [f.write(os.urandom(1<<20)) for _ in range(int(sys.argv[2]))]" "$T/f" "$MIB"
"$C" fs put "$T/f" hdfs:///f
best() { # best wall time in seconds of 3 runs of "$@"
  local b=999999 s e t
  for _ in 1 2 3; do
    s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
    t=$(( (e - s) / 1000 )); [ $t -lt $b ] && b=$t
  done
  echo "$b"
}
rate() { awk -v m="$MIB" -v us="$1" 'BEGIN { printf "%8.1f MiB/s (%.3f s)", m / (us / 1e6), us / 1e6 }'; }
loc=$(best "$C" fs cat "$T/f")
hd=$(best "$C" fs cat hdfs:///f)
echo "file: $MIB MiB, 64 MiB blocks, replication 1, CRC32C $( grep -q sse4_2 /proc/cpuinfo && echo '(SSE4.2)' )"
echo "local   csvavro fs cat FILE         $(rate $loc)"
echo "hdfs    csvavro fs cat hdfs:///f    $(rate $hd)   ($(awk -v a=$loc -v b=$hd 'BEGIN{printf "%.2f", b/a}')x local time)"
if command -v hdfs >/dev/null; then
  go=$(best hdfs cat /f)
  echo "hdfs    Debian hdfs cat /f (Go)     $(rate $go)"
fi

# the reference job: each split read through the 1 MiB split reader, local file vs hdfs://
"$B/gen_taxi" --bytes $((MIB << 20)) --seed 1 > "$T/taxi.csv"
"$C" fs put "$T/taxi.csv" hdfs:///taxi.csv
JOB=(--where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs
     --split-size 64M --overwrite --seed 1 -q)
echo "reference job on a $MIB MiB gen_taxi file, 64 MiB splits, output to local disk:"
for j in 1 2; do
  l=$(best "$C" convert "$T/taxi.csv" "$T/l.avro" "${JOB[@]}" -j$j)
  h=$(best "$C" convert hdfs:///taxi.csv "$T/h.avro" "${JOB[@]}" -j$j)
  echo "-j$j     local                       $(rate $l)"
  echo "-j$j     hdfs://                     $(rate $h)   ($(awk -v a=$l -v b=$h 'BEGIN{printf "%.2f", b/a}')x local time)"
done
# the last timed runs' outputs hold the same records (the bytes differ: local splits start after the header, hdfs:// splits at
# block boundaries, so the Avro blocks are cut elsewhere)
cmp -s <("$C" cat "$T/l.avro") <("$C" cat "$T/h.avro") ||
  { echo "FAIL: hdfs:// and local outputs hold different records" >&2; exit 1; }
echo "same records from both ($("$C" cat "$T/h.avro" --count) rows)"
