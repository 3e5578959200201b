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
  pyjob.py pandas-full INPUT.csv OUT.avro the full conversion (every column, typed by pandas,
                                          datetime-looking text columns parsed) + python3-avro
  pyjob.py sample INPUT.csv FILE.avro N   decodes the first N records with python3-avro and
                                          compares every field with the CSV row read by the csv
                                          module (by column name, type-aware: ints, exact
                                          doubles, timestamps, dates, booleans, strings, empty =
                                          null); prints the number of values compared

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


DT_RE = None


def _dt_re():
    global DT_RE
    if DT_RE is None:
        import re
        DT_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$")
    return DT_RE


def _micros(text):
    import datetime
    m = _dt_re().match(text)
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m.group(4) is None:
        return None
    frac = (m.group(7) or "").ljust(6, "0")
    t = datetime.datetime(y, mo, d, int(m.group(4)), int(m.group(5)), int(m.group(6)))
    delta = t - datetime.datetime(1970, 1, 1)
    return (delta.days * 86400 + delta.seconds) * 1000000 + int(frac or 0)


def _same(text, v):
    """Does the Avro value v hold the CSV text? Independent of csvavro's own parsers."""
    import datetime
    if v is None:
        return text == ""
    if isinstance(v, bool):
        return text.strip().lower() in (("true", "1", "t", "yes", "y") if v else ("false", "0", "f", "no", "n"))
    if isinstance(v, int):
        t = text.strip()
        try:
            return int(t) == v
        except ValueError:
            pass
        us = _micros(t)
        if us is not None:  # local-timestamp-micros / -millis arrive as their long
            return v in (us, us // 1000)
        m = _dt_re().match(t)
        if m and m.group(4) is None:  # a date as days since the epoch
            return (datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                    - datetime.date(1970, 1, 1)).days == v
        return False
    if isinstance(v, float):
        try:
            return float(text) == v  # exact: csvavro must round like Python's correctly rounded float()
        except ValueError:
            return False
    if isinstance(v, datetime.datetime):
        us = _micros(text.strip())
        if us is None:
            return False
        if v.tzinfo is not None:
            v = v.replace(tzinfo=None)
        delta = v - datetime.datetime(1970, 1, 1)
        return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds == us
    if isinstance(v, datetime.date):
        return v.isoformat() == text.strip()
    if isinstance(v, str):
        return v == text
    if isinstance(v, bytes):
        return v == text.encode("utf-8")
    return False


def sample(csv_path, avro_path, n):
    import avro.datafile
    import avro.io
    import itertools
    checked = 0
    with open(csv_path, newline="", encoding="utf-8") as fc, open(avro_path, "rb") as fa:
        rows = csv.reader(fc)
        header = next(rows)
        col = {name: i for i, name in enumerate(header)}
        r = avro.datafile.DataFileReader(fa, avro.io.DatumReader())
        for k, (row, rec) in enumerate(zip(rows, itertools.islice(r, n))):
            for name, v in rec.items():
                if name not in col:
                    raise ValueError("record %d: field %r is not a CSV column" % (k + 1, name))
                text = row[col[name]] if col[name] < len(row) else ""
                if not _same(text, v):
                    raise ValueError("record %d, column %r: CSV %r but Avro %r" % (k + 1, name, text, v))
                checked += 1
        r.close()
    if checked == 0:
        raise ValueError("no value compared")
    return checked


def pandas_full(inp, out):
    import pandas as pd
    import avro.datafile
    import avro.io
    import avro.schema

    df = pd.read_csv(inp, keep_default_na=False, na_values=[""])
    fields = []
    conv = []
    for name in df.columns:
        s = df[name]
        if s.dtype == object:
            sample_v = s.dropna().head(50).tolist()
            if sample_v and all(isinstance(x, str) and _micros(x) is not None for x in sample_v):
                s = pd.to_datetime(s, format="%Y-%m-%d %H:%M:%S")
                df[name] = s
        if str(s.dtype).startswith("datetime64"):
            fields.append({"name": name, "type": ["null", {"type": "long", "logicalType": "local-timestamp-micros"}]})
            vals = (s.astype("int64") // 1000).tolist()
        elif s.dtype == bool:
            fields.append({"name": name, "type": ["null", "boolean"]})
            vals = s.tolist()
        elif str(s.dtype).startswith("int"):
            fields.append({"name": name, "type": ["null", "long"]})
            vals = s.tolist()
        elif str(s.dtype).startswith("float"):
            fields.append({"name": name, "type": ["null", "double"]})
            vals = s.tolist()
        else:
            fields.append({"name": name, "type": ["null", "string"]})
            vals = s.tolist()
        conv.append((name, vals, s.isna().tolist()))
    schema = avro.schema.parse(json.dumps({"type": "record", "name": "Row", "namespace": "bench",
                                           "fields": fields}))
    n = 0
    with open(out, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec="deflate")
        for i in range(len(df)):
            w.append({name: (None if nulls[i] else vals[i]) for name, vals, nulls in conv})
            n += 1
        w.close()
    return n


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
    if len(argv) == 4 and argv[1] == "pandas-full":
        print(pandas_full(argv[2], argv[3]))
        return 0
    if len(argv) == 5 and argv[1] == "sample":
        print(sample(argv[2], argv[3], int(argv[4])))
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
