#!/usr/bin/python3
"""csvavro.read_avro against python3-avro (the independent reader): files written by
python3-avro (every primitive and logical type, unions with null first and second, several
blocks, each codec it writes) and by csvavro (a dataset directory, a glob, columns=), decoded
column-wise and compared value by value; a corrupt file gives csvavro.Error with its offset.
Decimals (bytes and fixed, nullable either way, up to 76 digits): read_avro gives the
decimal.Decimal values python3-avro reads, on python3-avro's files and on the CLI's
(--type COL=decimal(P,S), --schema fixed); read_csv and head give the CSV text's exact value."""
import csv
import datetime
import decimal
import io
import random
import json
import os

from pyhelp import check, cli, done, equal, need, tmpdir

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

# decimals: python3-avro writes decimal.Decimal values (bytes and fixed, both union orders, the
# largest precisions), csvavro decodes them column-wise to decimal.Decimal
DSCHEMA = {"type": "record", "name": "D", "fields": [
    {"name": "a", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10,
                                    "scale": 2}]},
    {"name": "b", "type": [{"type": "fixed", "name": "F16", "size": 16, "logicalType": "decimal",
                            "precision": 38, "scale": 4}, "null"]},
    {"name": "c", "type": {"type": "bytes", "logicalType": "decimal", "precision": 76,
                           "scale": 20}},
    {"name": "e", "type": {"type": "fixed", "name": "F3", "size": 3, "logicalType": "decimal",
                           "precision": 6}},
]}
rnd = random.Random(16)


def rdec(p, s):
    """A random decimal of at most p digits, s of them after the point (edges now and then)."""
    k = rnd.random()
    if k < 0.05:
        n = 0
    elif k < 0.15:
        n = rnd.choice([1, -1, 10**p - 1, -(10**p - 1), 10**(p - 1), -(10**(p - 1))])
    else:
        n = rnd.randint(-(10**rnd.randint(1, p)) + 1, 10**rnd.randint(1, p) - 1)
    return decimal.Decimal(n).scaleb(-s, decimal.Context(prec=100))


def drec(k):
    return {"a": None if k % 4 == 0 else rdec(10, 2), "b": None if k % 5 == 1 else rdec(38, 4),
            "c": rdec(76, 20), "e": rdec(6, 0)}


dsch = avro.schema.parse(json.dumps(DSCHEMA))
for codec in ("null", "deflate"):
    p = os.path.join(T, "dec-%s.avro" % codec)
    with open(p, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), dsch, codec=codec)
        for k in range(700):
            w.append(drec(k))
            if k % 200 == 199:
                w.sync()
        w.close()
    ref = read_ref(p)
    check(all(isinstance(r["c"], decimal.Decimal) for r in ref), "python3-avro reads Decimals")
    df = csvavro.read_avro(p)
    equal({c: str(t) for c, t in df.dtypes.items()}, {c: "object" for c in "abce"},
          "decimal dtypes (object of Decimal)")
    for col in "abce":
        got = df[col].tolist()
        exp = [r[col] for r in ref]
        # equal values, and the same digits and exponent (the schema's scale)
        equal([None if v is None else (v, v.as_tuple().exponent) for v in got],
              [None if v is None else (v, v.as_tuple().exponent) for v in exp],
              "%s: decimal values of %s vs python3-avro" % (codec, col))
    sub = csvavro.read_avro(p, columns=["e", "a"])
    equal(sub["a"].tolist(), [r["a"] for r in ref], "decimal columns= values")

# the CLI's decimals (--type decimal(P,S) = bytes; --schema fixed), vs python3-avro and vs the
# CSV text read by Python's csv + decimal modules (read_csv, head)
src = os.path.join(T, "dec.csv")
with open(src, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "amt", "big"])
    for k in range(2000):
        w.writerow([k, "" if k % 9 == 0 else str(rdec(12, 3)),
                    rnd.choice(["-0", "0", "+.5", "007.10", str(rdec(30, 1))])])
with open(src, newline="") as f:
    crow = list(csv.reader(f))[1:]
ctx = decimal.Context(prec=100)
exp_amt = [None if r[1] == "" else decimal.Decimal(r[1]).quantize(decimal.Decimal("0.001"), context=ctx)
           for r in crow]
exp_big = [decimal.Decimal(r[2]).quantize(decimal.Decimal("0.1"), context=ctx) for r in crow]
types = {"amt": "decimal(12,3)", "big": "decimal(31,1)"}
out = os.path.join(T, "cli-dec.avro")
cli("convert", src, out, "--type", "amt=decimal(12,3)", "--type", "big=decimal(31,1)",
    "--split-size", "8K", "-j", "2", "-q")
ref = read_ref(out)
df = csvavro.read_avro(out)
equal(df["amt"].tolist(), [r["amt"] for r in ref], "CLI decimals: read_avro == python3-avro (amt)")
equal(df["big"].tolist(), [r["big"] for r in ref], "CLI decimals: read_avro == python3-avro (big)")
equal(df["amt"].tolist(), exp_amt, "CLI decimals: == Python's decimal of the CSV text")
favsc = json.dumps({"type": "record", "name": "R", "fields": [
    {"name": "id", "type": "long"},
    {"name": "amt", "type": ["null", {"type": "fixed", "name": "A", "size": 6,
                                      "logicalType": "decimal", "precision": 12, "scale": 3}]},
    {"name": "big", "type": {"type": "fixed", "name": "B", "size": 13, "logicalType": "decimal",
                             "precision": 31, "scale": 1}}]})
outf = os.path.join(T, "cli-fixed.avro")
csvavro.convert(src, outf, schema=favsc, progress=False)
ref = read_ref(outf)
df = csvavro.read_avro(outf)
equal((df["amt"].tolist(), df["big"].tolist()), ([r["amt"] for r in ref], [r["big"] for r in ref]),
      "fixed decimals written by csvavro: read_avro == python3-avro")
equal(df["big"].tolist(), exp_big, "fixed decimals == Python's decimal of the CSV text")
rc = csvavro.read_csv(src, types=types, split_size=8192, threads=2)
equal(rc["amt"].tolist(), exp_amt, "read_csv decimal(12,3) values")
equal(rc["big"].tolist(), exp_big, "read_csv decimal(31,1) values")
equal([v.as_tuple().exponent for v in rc["big"].tolist()], [-1] * len(crow), "read_csv scale")
sc = csvavro.schema(src, types=types)
equal(sc["type"].tolist(), ["long", "decimal(12,3)", "decimal(31,1)"], "schema: decimal(P,S)")
h = csvavro.head(src, n=12, types=types)
equal((h["amt"].tolist(), h["big"].tolist()), (exp_amt[:12], exp_big[:12]), "head decimals")
equal(str(h["big"].dtype), "object", "head decimal dtype")

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
