#!/usr/bin/python3
"""csvavro.read_avro against python3-avro (the independent reader): files written by
python3-avro (every primitive and logical type, unions with null first and second, several
blocks, each codec it writes) and by csvavro (a dataset directory, a glob, columns=), decoded
column-wise and compared value by value; a corrupt file gives csvavro.Error with its offset."""
import datetime
import io
import json
import os

from pyhelp import check, done, equal, need, tmpdir

need("numpy", "pandas", "avro")
import avro.datafile  # noqa: E402
import avro.io  # noqa: E402
import avro.schema  # noqa: E402
import pandas as pd  # noqa: E402

import csvavro  # noqa: E402

T = tmpdir()
UTC = datetime.timezone.utc
SCHEMA = {"type": "record", "name": "R", "fields": [
    {"name": "b", "type": "boolean"},
    {"name": "i", "type": ["null", "int"]},
    {"name": "l", "type": ["long", "null"]},
    {"name": "f", "type": "float"},
    {"name": "d", "type": ["null", "double"]},
    {"name": "s", "type": ["null", "string"]},
    {"name": "y", "type": "bytes"},
    {"name": "dt", "type": ["null", {"type": "int", "logicalType": "date"}]},
    {"name": "tu", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
    {"name": "tm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
]}


def rec(k):
    return {"b": k % 3 == 0, "i": None if k % 5 == 0 else k * 7 - 1000,
            "l": None if k % 4 == 0 else (k - 500) * 2**33, "f": k / 4.0,
            "d": None if k % 6 == 0 else k * 1.5e300 / 1000, "s": None if k % 7 == 0 else
            "s%d ü \"q\" %s" % (k, "\n" * (k % 2)), "y": bytes([k % 256, 0, 255]),
            "dt": None if k % 9 == 0 else datetime.date(1970, 1, 1) + datetime.timedelta(days=k),
            "tu": None if k % 8 == 0 else datetime.datetime(2013, 1, 1, tzinfo=UTC)
            + datetime.timedelta(microseconds=k * 1234567),
            "tm": datetime.datetime(2020, 2, 29, tzinfo=UTC) + datetime.timedelta(milliseconds=k)}


def write(path, codec, n):
    sch = avro.schema.parse(json.dumps(SCHEMA))
    with open(path, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), sch, codec=codec)
        for k in range(n):
            w.append(rec(k))
            if k % 97 == 96:
                w.sync()  # several blocks
        w.close()


def read_ref(path):
    with open(path, "rb") as f:
        r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        out = list(r)
        r.close()
    return out


def norm(v):
    if v is None or v is pd.NA or (isinstance(v, float) and v != v) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


for codec in ("null", "deflate", "snappy"):
    p = os.path.join(T, "py-%s.avro" % codec)
    write(p, codec, 500)
    ref = read_ref(p)
    df = csvavro.read_avro(p)
    equal(len(df), len(ref), "%s: rows" % codec)
    equal(list(df.columns), [f["name"] for f in SCHEMA["fields"]], "%s: columns" % codec)
    for col in df.columns:
        vals = [norm(v) for v in df[col].tolist()]
        exp = [r[col] for r in ref]
        if col == "dt":
            exp = [None if v is None else datetime.datetime(v.year, v.month, v.day) for v in exp]
        if col == "f":
            exp = [float(v) for v in exp]
        equal(vals, exp, "%s: values of %s" % (codec, col))
equal({c: str(t) for c, t in df.dtypes.items()},
      {"b": "boolean", "i": "Int32", "l": "Int64", "f": "float32", "d": "float64",
       "s": "string", "y": "object", "dt": "datetime64[ns]", "tu": "datetime64[ns, UTC]",
       "tm": "datetime64[ns, UTC]"}, "dtypes")

# columns=: only these, in this order
sub = csvavro.read_avro(os.path.join(T, "py-null.avro"), columns=["s", "i"])
equal(list(sub.columns), ["s", "i"], "columns= order")
equal([norm(v) for v in sub["i"].tolist()], [r["i"] for r in read_ref(os.path.join(T, "py-null.avro"))],
      "columns= values")
try:
    csvavro.read_avro(os.path.join(T, "py-null.avro"), columns=["nope"])
    check(False, "unknown column raises")
except csvavro.Error as e:
    check(e.status_name == "CSVAVRO_E_SCHEMA" and "nope" in e.message, "unknown column: E_SCHEMA")

# a csvavro dataset: directory (manifest), glob; compared with python3-avro per file
src = os.path.join(T, "in.csv")
with open(src, "w") as f:
    f.write("k,v\n" + "".join("%d,v%d\n" % (k, k) for k in range(3000)))
out = os.path.join(T, "ds")
csvavro.convert(src, out + "/", split_size=5000, progress=False, codec="zstandard")
files = sorted(n for n in os.listdir(out) if n.endswith(".avro"))
check(len(files) > 3, "dataset has several part files")
ref = [r for n in files for r in read_ref(os.path.join(out, n))]
for what, path in (("directory", out), ("glob", os.path.join(out, "part-*.avro"))):
    df = csvavro.read_avro(path)
    equal(df["k"].tolist(), [r["k"] for r in ref], "dataset %s: k values" % what)
    equal(df["v"].tolist(), [r["v"] for r in ref], "dataset %s: v values" % what)

# corrupt data: an error with the file's offset, never a crash
p = os.path.join(T, "py-null.avro")
b = bytearray(open(p, "rb").read())
b[len(b) // 2:len(b) // 2 + 40] = b"\xff" * 40
open(os.path.join(T, "bad.avro"), "wb").write(bytes(b))
try:
    csvavro.read_avro(os.path.join(T, "bad.avro"))
    check(False, "corrupt file raises")
except csvavro.Error as e:
    check(e.status_name == "CSVAVRO_E_CORRUPT" and e.offset is not None and e.offset > 0,
          "corrupt file: CSVAVRO_E_CORRUPT with an offset (%s)" % e)
del io
done()
