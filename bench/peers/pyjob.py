#!/usr/bin/python3
"""pyjob.py — the Python side of bench/run.sh (run with Debian's /usr/bin/python3).

  pyjob.py pandas INPUT.csv OUTPUT.avro   the reference job with pandas.read_csv + python3-avro
                                          (the stack the reference job replaces); prints rows
  pyjob.py expected INPUT.csv             rows where passenger_count > 3, by the csv module: the
                                          independent expected count (empty = null = not kept)
  pyjob.py read FILE.avro                 rows of an Avro file, fully decoded by python3-avro
                                          (fails as python3-avro fails, e.g. on a bad schema)
  pyjob.py blocks FILE.avro               rows of an Avro container counted from its block
                                          headers only (no schema parsing): works on files
                                          python3-avro refuses, and checks magic and sync markers
  pyjob.py versions                       versions of pandas and python3-avro

Exits 1 with the error on stderr when a step fails.
"""
import csv
import io
import json
import sys


def expected(path):
    n = 0
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r)
        i = header.index("passenger_count")
        for row in r:
            v = row[i].strip() if i < len(row) else ""
            if v and int(v) > 3:
                n += 1
    return n


SCHEMA = {
    "type": "record",
    "name": "Row",
    "namespace": "bench",
    "fields": [
        {"name": "pickup_datetime",
         "type": ["null", {"type": "long", "logicalType": "local-timestamp-micros"}],
         "default": None},
        {"name": "passenger_count", "type": ["null", "long"], "default": None},
        {"name": "trip_time_in_secs", "type": ["null", "long"], "default": None},
    ],
}


def pandas_job(inp, out):
    import pandas as pd
    import avro.datafile
    import avro.io
    import avro.schema

    # Only the three columns are read (usecols) and the datetimes are parsed after the filter with
    # an explicit format: the fastest plain pandas way to the same typed output.
    cols = ["pickup_datetime", "passenger_count", "trip_time_in_secs"]
    df = pd.read_csv(inp, usecols=cols)
    df = df[df["passenger_count"] > 3][cols]
    df["pickup_datetime"] = pd.to_datetime(df["pickup_datetime"], format="%Y-%m-%d %H:%M:%S")
    schema = avro.schema.parse(json.dumps(SCHEMA))
    # local-timestamp-micros is written as its long (microseconds since the epoch, no zone).
    ts = df["pickup_datetime"].astype("int64") // 1000
    n = 0
    with open(out, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec="deflate")
        for t, p, s, tnull, pnull, snull in zip(
            ts.tolist(), df["passenger_count"].tolist(), df["trip_time_in_secs"].tolist(),
            df["pickup_datetime"].isna().tolist(), df["passenger_count"].isna().tolist(),
            df["trip_time_in_secs"].isna().tolist()):
            w.append({
                "pickup_datetime": None if tnull else int(t),
                "passenger_count": None if pnull else int(p),
                "trip_time_in_secs": None if snull else int(s),
            })
            n += 1
        w.close()
    return n


def read_avro(path):
    import avro.datafile
    import avro.io

    n = 0
    with open(path, "rb") as f:
        r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        for _ in r:
            n += 1
        r.close()
    return n


def _long(b, pos):
    shift = 0
    acc = 0
    while True:
        if pos >= len(b):
            raise ValueError("truncated varint at byte %d" % pos)
        c = b[pos]
        pos += 1
        acc |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            break
        if shift > 63:
            raise ValueError("varint too long at byte %d" % pos)
    return (acc >> 1) ^ -(acc & 1), pos


def _header(b, pos):
    """Parses a container header at pos; returns (sync, position after it)."""
    if b[pos:pos + 4] != b"Obj\x01":
        raise ValueError("not an Avro container header at byte %d (bad magic)" % pos)
    pos += 4
    while True:  # header metadata map
        cnt, pos = _long(b, pos)
        if cnt == 0:
            break
        if cnt < 0:
            _, pos = _long(b, pos)
            cnt = -cnt
        for _ in range(cnt):
            for _kv in range(2):
                ln, pos = _long(b, pos)
                pos += ln
    if pos + 16 > len(b):
        raise ValueError("truncated header")
    return b[pos:pos + 16], pos + 16


def blocks(path):
    """Rows from the block headers. A second "Obj\x01" header where a block should start is
    not valid Avro (one header per file) but is counted and reported on stderr: some writers
    append one container per chunk to the same file."""
    with open(path, "rb") as f:
        b = f.read()
    sync, pos = _header(b, 0)
    rows = 0
    headers = 1
    while pos < len(b):
        if b[pos:pos + 4] == b"Obj\x01":
            sync, pos = _header(b, pos)
            headers += 1
            continue
        cnt, pos = _long(b, pos)
        size, pos = _long(b, pos)
        if cnt < 0 or size < 0 or pos + size + 16 > len(b):
            raise ValueError("bad block header at byte %d" % pos)
        pos += size
        if b[pos:pos + 16] != sync:
            raise ValueError("sync marker mismatch at byte %d" % pos)
        pos += 16
        rows += cnt
    if headers > 1:
        sys.stderr.write("warning: %d container headers concatenated in one file\n" % headers)
    return rows


def versions():
    import pandas
    import avro
    print("pandas %s, python3-avro %s, Python %s" % (
        pandas.__version__, getattr(avro, "__version__", "?"), sys.version.split()[0]))


def main(argv):
    if len(argv) == 2 and argv[1] == "versions":
        versions()
        return 0
    if len(argv) == 4 and argv[1] == "pandas":
        print(pandas_job(argv[2], argv[3]))
        return 0
    if len(argv) == 3 and argv[1] in ("expected", "read", "blocks"):
        print({"expected": expected, "read": read_avro, "blocks": blocks}[argv[1]](argv[2]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # reported by run.sh as the tool's error
        sys.stderr.write("%s: %s\n" % (type(e).__name__, e))
        sys.exit(1)
