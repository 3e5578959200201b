#!/usr/bin/python3
"""The reference job's rows, checked independently:

  reference_rows.py CSV DIR

CSV is the job's input (gen_taxi), DIR holds the job's output files (*.avro, read in part-number
order by python3-avro). The expectation comes from Python's csv module: the rows with
passenger_count > 3, as (pickup_datetime in microseconds since the epoch, passenger_count,
trip_time_in_secs), in input order. Exits non-zero unless both are equal and not empty.
"""
import csv
import datetime
import glob
import re
import sys
import warnings

warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader  # noqa: E402
from avro.io import DatumReader  # noqa: E402

EPOCH = datetime.datetime(1970, 1, 1)


def micros(s):
    d = datetime.datetime(*(int(x) for x in (s[0:4], s[5:7], s[8:10], s[11:13], s[14:16], s[17:19])))
    return (d - EPOCH) // datetime.timedelta(microseconds=1)


def natural(s):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def main(csv_path, out_dir):
    with open(csv_path, newline="") as f:
        rd = csv.reader(f)
        h = next(rd)
        ip, ic, it = h.index("pickup_datetime"), h.index("passenger_count"), h.index("trip_time_in_secs")
        exp = [(micros(r[ip]), int(r[ic]), int(r[it])) for r in rd if r[ic] and int(r[ic]) > 3]
    got = []
    for p in sorted(glob.glob(out_dir + "/*.avro"), key=natural):
        with open(p, "rb") as fh:
            for r in DataFileReader(fh, DatumReader()):
                got.append((r["pickup_datetime"], r["passenger_count"], r["trip_time_in_secs"]))
    print(f"reference job: {len(exp)} rows expected, {len(got)} read back")
    if exp != got or not exp:
        first = next((i for i, (a, b) in enumerate(zip(exp, got)) if a != b), min(len(exp), len(got)))
        print(f"reference job: rows differ from row {first}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
