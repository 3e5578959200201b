#!/usr/bin/env bash
# make demo: generate a NYC-taxi-like sample and run the main commands on it.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
mkdir -p build/demo
$B/gen_taxi --rows 200000 --seed 1 > build/demo/trip_data.csv
echo "== csvavro head build/demo/trip_data.csv"
$B/csvavro head build/demo/trip_data.csv -n 5
echo "== csvavro schema build/demo/trip_data.csv"
$B/csvavro schema build/demo/trip_data.csv
