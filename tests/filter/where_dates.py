#!/usr/bin/python3
"""`--where` date and timestamp literals against CSV date/timestamp values, including year 0
(the filter once had its own day count with C's truncating division: `d = '0000-01-01'` kept
the row 0000-01-02). Expectations come from Python: rows are selected with the csv module by
comparing (year, month, day[, time]) tuples, and the day numbers python3-avro reads back are
checked against datetime.date arithmetic (year 0, which datetime cannot hold, as 366 days before
0001-01-01: year 0 is a leap year in the proleptic Gregorian calendar).

env: CSVAVRO_BIN (the csvavro executable)
"""
import csv
import datetime
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
import avro.datafile  # noqa: E402
import avro.io  # noqa: E402

# python3-avro turns a date into datetime.date: keep the day number instead
avro.io.BinaryDecoder.read_date_from_int = avro.io.BinaryDecoder.read_int

BIN = os.environ.get("CSVAVRO_BIN", "build/csvavro")
DATES = ["0000-01-01", "0000-01-02", "0000-02-28", "0000-02-29", "0000-03-01", "0000-12-31",
         "0001-01-01", "0399-12-31", "0400-03-01", "1582-10-15", "1969-12-31", "1970-01-01",
         "2000-02-29", "2024-12-31", "9999-12-31"]
EPOCH = datetime.date(1970, 1, 1)


def days(text):
    y, m, d = (int(x) for x in text.split("-"))
    if y >= 1:
        return (datetime.date(y, m, d) - EPOCH).days
    # year 0 has the leap year 2000's day numbers
    doy = datetime.date(2000, m, d).timetuple().tm_yday
    return (datetime.date(1, 1, 1) - EPOCH).days - 366 + doy - 1


def key(text):
    return tuple(int(x) for x in text.replace(" ", "-").replace(":", "-").split("-"))


def read_avro(path):
    """Rows of an Avro file with dates read as their day numbers (year 0 does not fit a
    datetime.date) and local timestamps as microseconds."""
    with open(path, "rb") as f:
        rd = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        rows = list(rd)
        rd.close()
    return rows


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.csv")
        with open(src, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["n", "d", "ts"])
            for i, d in enumerate(DATES):
                w.writerow([i, d, d + " 12:30:00"])
        schema = os.path.join(tmp, "s.avsc")
        with open(schema, "w") as f:
            json.dump({"type": "record", "name": "r", "fields": [
                {"name": "n", "type": "long"},
                {"name": "d", "type": {"type": "int", "logicalType": "date"}},
                {"name": "ts", "type": {"type": "long", "logicalType": "local-timestamp-micros"}}]}, f)
        with open(src, newline="") as f:
            table = list(csv.DictReader(f))
        cases = []
        for lit in DATES:
            for op in ("=", "<", ">="):
                cases.append((f"d {op} '{lit}'", "d", lit, op))
            cases.append((f"ts > '{lit} 12:29:59.999999999'", "ts", lit + " 12:29:59", ">"))
        for k, (expr, col, lit, op) in enumerate(cases):
            out = os.path.join(tmp, f"o{k}.avro")
            r = subprocess.run([BIN, "convert", src, out, "--schema", schema, "--where", expr,
                                "--quiet"], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {expr}: exit {r.returncode}: {r.stderr.strip()}")
                failures += 1
                continue
            if col == "d":
                pick = {"=": lambda a, b: a == b, "<": lambda a, b: a < b,
                        ">=": lambda a, b: a >= b}[op]
                want = [row for row in table if pick(key(row["d"]), key(lit))]
            else:  # the literal lies strictly between 12:29:59.999999 and 12:30:00
                want = [row for row in table if key(row["d"]) >= key(lit[:10])]
            got = read_avro(out)
            if [g["n"] for g in got] != [int(row["n"]) for row in want]:
                print(f"FAIL {expr}: rows {[g['n'] for g in got]}, "
                      f"want {[int(row['n']) for row in want]}")
                failures += 1
                continue
            for g in got:
                d = DATES[g["n"]]
                if g["d"] != days(d) or g["ts"] != days(d) * 86400000000 + 45000000000:
                    print(f"FAIL {expr}: row {g['n']} ({d}) read back as {g['d']}, {g['ts']}")
                    failures += 1
    print(f"{len(cases)} filters checked, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
