#!/usr/bin/env bash
# bench_partition.sh — peak RSS, time and files of a partitioned convert as the number of
# partitions grows: 12 (year, month), 365 (+ day) and 8 760 (+ hour) partitions of the same
# generated year of trips (gen_taxi: rows in random time order). Each run is checked: `cat DIR
# --count` equals the CSV's rows (Python's csv module) and the manifest lists as many
# partitions as Python's grouping of the CSV finds. Prints a markdown table.
#
#   bench/bench_partition.sh [MB (default 30)] [THREADS (default 2)]
#   env CSVAVRO_BUILD (default build)
set -euo pipefail
MB=${1:-30}
J=${2:-2}
B=${CSVAVRO_BUILD:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$B/gen_taxi" --bytes $((MB * 1000000)) --seed 2013 > "$T/t.csv"
rows=$(/usr/bin/python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))) - 1)' "$T/t.csv")
echo "input: $MB MB of gen_taxi trips ($rows rows, a year in random order), -j$J, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| partitions | --partition-by | peak RSS | wall | files |"
echo "| ---: | --- | ---: | ---: | ---: |"
for spec in 'year(pickup_datetime),month(pickup_datetime)' \
            'year(pickup_datetime),month(pickup_datetime),day(pickup_datetime)' \
            'year(pickup_datetime),month(pickup_datetime),day(pickup_datetime),hour(pickup_datetime)'; do
  rm -rf "$T/o"
  /usr/bin/time -f '%M %e' -o "$T/time" "$B/csvavro" convert "$T/t.csv" "$T/o/" --partition-by "$spec" -j"$J" -q
  read -r rss wall < "$T/time"
  got=$("$B/csvavro" cat "$T/o" --count)
  [ "$got" -eq "$rows" ] || { echo "FAIL: $spec: cat --count $got, csv $rows" >&2; exit 1; }
  read -r parts files < <(/usr/bin/python3 - "$T/o/_SUCCESS" "$T/t.csv" "$spec" <<'PYEOF'
import csv, json, sys
m = json.load(open(sys.argv[1]))
n = sys.argv[3].count("(")
cut = {2: 7, 3: 10, 4: 13}[n]  # "2013-01", "2013-01-05", "2013-01-05 17"
want = {r["pickup_datetime"][:cut] for r in csv.DictReader(open(sys.argv[2], newline=""))}
got = {tuple(sorted(o["partition"].items())) for o in m["outputs"]}
assert len(got) == len(want), (len(got), len(want))
print(len(got), len(m["outputs"]))
PYEOF
)
  printf '| %s | `%s` | %d MB | %.1f s | %d |\n' "$parts" "$spec" $((rss / 1024)) "$wall" "$files"
done
