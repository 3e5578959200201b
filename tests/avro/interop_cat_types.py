#!/usr/bin/python3
"""Interop: `csvavro cat` on files python3-avro writes, covering the Avro type system — unions
of every shape (a single branch such as ["long"], null first or last, several non-null
branches), and whatever other types the reader supports — compared record by record with
python3-avro's own decoding of the same file (DatumReader), mapped to JSON by the rules of the
README's `cat` section (independently written here, from the schema); `cat --format avro` of
each file (twice, into one file) read back by python3-avro (the same values) and avrocat.

usage: interop_cat_types.py [CASE...]     env: CSVAVRO_BIN (the csvavro executable)
"""
import datetime
import decimal
import io
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")  # python3-avro 1.11 warns about local-timestamp-*
import avro.datafile  # noqa: E402
import avro.io  # noqa: E402
import avro.schema  # noqa: E402

BIN = os.environ.get("CSVAVRO_BIN", "build/csvavro")
EPOCH = datetime.datetime(1970, 1, 1)
PRIMS = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def rec(name, fields):
    return {"type": "record", "name": name, "fields": [{"name": n, "type": t} for n, t in fields]}


DEC = {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 2}
DECF = {"type": "fixed", "name": "D9", "size": 9, "logicalType": "decimal", "precision": 20,
        "scale": 3}
NODE = {"type": "record", "name": "Node", "namespace": "list",
        "fields": [{"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]}
UTC = datetime.timezone.utc

# name -> (schema, rows). Values are what python3-avro's DatumWriter takes.
CASES = {
    "single_branch": (
        rec("S", [("u", ["long"]), ("w", "string"), ("s", ["string"]), ("n", ["null"]),
                  ("d", [{"type": "int", "logicalType": "date"}]), ("x", ["double"])]),
        [{"u": 5, "w": "a", "s": "", "n": None, "d": datetime.date(2013, 1, 7), "x": -0.0},
         {"u": -3, "w": "bc", "s": "é", "n": None, "d": datetime.date(1, 1, 1), "x": 1e300},
         {"u": 2**63 - 1, "w": "", "s": "x" * 200, "n": None, "d": datetime.date(9999, 12, 31),
          "x": 5e-324}]),
    "null_last": (
        rec("N", [("a", ["long", "null"]), ("b", ["null", "string"]), ("c", ["boolean", "null"])]),
        [{"a": 1, "b": None, "c": True}, {"a": None, "b": "x", "c": None},
         {"a": -2**63, "b": "", "c": False}]),
    "complex": (
        {"type": "record", "name": "C", "namespace": "t.x", "fields": [
            {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
            {"name": "e2", "type": "Color"},
            {"name": "fx", "type": {"type": "fixed", "name": "F4", "size": 4}},
            {"name": "by", "type": "bytes"},
            {"name": "arr", "type": {"type": "array", "items": "long"}},
            {"name": "m", "type": {"type": "map", "values": ["null", "double"]}},
            {"name": "inner", "type": {"type": "record", "name": "In", "namespace": "o",
                                       "fields": [{"name": "s", "type": "string"},
                                                  {"name": "f", "type": "t.x.F4"}]}},
            {"name": "recs", "type": {"type": "array", "items": "o.In"}},
            {"name": "nest", "type": {"type": "array", "items": {"type": "map", "values": {
                "type": "array", "items": "int"}}}},
            {"name": "u3", "type": ["null", "int", "string", "o.In"]},
            {"name": "u2", "type": ["int", "string"]},
            {"name": "ua", "type": [{"type": "array", "items": "int"}, {"type": "map",
                                                                       "values": "int"}]},
            {"name": "lst", "type": NODE},
            {"name": "empty", "type": {"type": "record", "name": "E", "fields": []}},
            {"name": "nulls", "type": {"type": "array", "items": "null"}},
            {"name": "fl", "type": "float"},
        ]},
        [{"e": "RED", "e2": "GREEN", "fx": b"\x00\xff\"a", "by": bytes(range(256)),
          "arr": [1, -2, 2**62], "m": {"k": 1.5, "é\n": None, "": -0.0},
          "inner": {"s": "q\"uote", "f": b"abcd"},
          "recs": [{"s": "", "f": b"1234"}, {"s": "z", "f": b"\n\r\t\x7f"}],
          "nest": [{"a": [1, 2], "b": []}, {}], "u3": None, "u2": 7, "ua": [3],
          "lst": {"v": 1, "next": {"v": 2, "next": {"v": 3, "next": None}}}, "empty": {},
          "nulls": [None, None, None], "fl": 1e-45},
         {"e": "GREEN", "e2": "RED", "fx": b"\x80\x00\x00\x01", "by": b"", "arr": [],
          "m": {}, "inner": {"s": "日本", "f": b"\x00\x00\x00\x00"}, "recs": [],
          "nest": [], "u3": 42, "u2": "seven", "ua": {"x": 1, "y": -1},
          "lst": {"v": 0, "next": None}, "empty": {}, "nulls": [], "fl": -3.4028234663852886e38},
         {"e": "RED", "e2": "RED", "fx": b"abcd", "by": b"\x00", "arr": [0], "m": {"x": None},
          "inner": {"s": "", "f": b"wxyz"}, "recs": [{"s": "a", "f": b"bbbb"}], "nest": [{}],
          "u3": "str", "u2": -1, "ua": {}, "lst": {"v": -1, "next": None}, "empty": {},
          "nulls": [None], "fl": 0.1}]),
    "union_record": (
        rec("UR", [("u", ["null", "string", {"type": "record", "name": "P", "fields": [
            {"name": "x", "type": "int"}]}])]),
        [{"u": {"x": 1}}, {"u": "s"}, {"u": None}]),
    "logical": (
        rec("L", [("dt", {"type": "int", "logicalType": "date"}),
                  ("tm", {"type": "int", "logicalType": "time-millis"}),
                  ("tu", {"type": "long", "logicalType": "time-micros"}),
                  ("tsm", {"type": "long", "logicalType": "timestamp-millis"}),
                  ("tsu", ["null", {"type": "long", "logicalType": "timestamp-micros"}]),
                  ("ltm", {"type": "long", "logicalType": "local-timestamp-millis"}),
                  ("ltu", {"type": "long", "logicalType": "local-timestamp-micros"}),
                  ("dec", DEC), ("decf", DECF), ("decn", ["null", DEC]),
                  ("uu", {"type": "string", "logicalType": "uuid"}),
                  ("odd", {"type": "string", "logicalType": "date"}),
                  ("unknown", {"type": "long", "logicalType": "no-such-type"})]),
        [{"dt": datetime.date(1970, 1, 1), "tm": datetime.time(23, 59, 59, 999000),
          "tu": datetime.time(0, 0, 0, 1), "tsm": datetime.datetime(2013, 1, 7, 23, 54, 15,
                                                                     123000, tzinfo=UTC),
          "tsu": datetime.datetime(1, 1, 1, tzinfo=UTC), "ltm": 0, "ltu": -1,
          "dec": decimal.Decimal("-12.30"), "decf": decimal.Decimal("123456789.123"),
          "decn": None, "uu": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "odd": "x",
          "unknown": 5},
         {"dt": datetime.date(1582, 10, 4), "tm": datetime.time(0, 0), "tu":
          datetime.time(12, 30, 0, 500000), "tsm": datetime.datetime(1969, 12, 31, 23, 59, 59,
                                                                     999000, tzinfo=UTC),
          "tsu": datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
          "ltm": 1357602855123, "ltu": 253402300799999999, "dec": decimal.Decimal("0.00"),
          "decf": decimal.Decimal("-0.001"), "decn": decimal.Decimal("99999999999999999.99"),
          "uu": "00000000-0000-0000-0000-000000000000", "odd": "", "unknown": -5}]),
}
# top-level schemas that are not records: one value per line
TOP = {
    "top_long": ("long", [1, -2, 2**63 - 1]),
    "top_array": ({"type": "array", "items": ["null", "string"]}, [["a", None], []]),
    "top_union": (["null", "double", "string"], [None, 1.5, "x"]),
}
def type_name(t):
    """Avro's name for a union branch (the key of the Avro JSON encoding's wrapper)."""
    t = resolve(t)
    if isinstance(t, str):
        return t
    if t["type"] in ("record", "enum", "fixed"):
        return t["_full"]
    return t["type"]


NAMED = {}


def register(t, ns=""):
    """Collects named types by full and short name (the test's own resolution)."""
    if isinstance(t, list):
        for b in t:
            register(b, ns)
    elif isinstance(t, dict):
        if t["type"] in ("record", "enum", "fixed"):
            name = t["name"]
            ns2 = name.rsplit(".", 1)[0] if "." in name else t.get("namespace", ns)
            full = name if "." in name else (ns2 + "." + name if ns2 else name)
            t["_full"] = full
            NAMED[full] = t
            NAMED.setdefault(name.rsplit(".", 1)[-1], t)
            for f in t.get("fields", []):
                register(f["type"], ns2)
        elif t["type"] in ("array", "map"):
            register(t.get("items", t.get("values")), ns)


def resolve(t):
    return NAMED[t] if isinstance(t, str) and t not in PRIMS else t


def union_match(branches, v):
    """The branch python3-avro chose for v (its own rule: the first that validates)."""
    for b in branches:
        b = resolve(b)
        clean = json.loads(json.dumps(b, default=str).replace('"_full"', '"_x"'))
        try:
            if avro.io.validate(avro.schema.parse(json.dumps(clean)), v):
                return b
        except Exception:
            pass
    raise ValueError(f"no branch for {v!r}")


def fmt_ts(v, per_sec, digits, z):
    secs, frac = divmod(v, per_sec)
    t = EPOCH + datetime.timedelta(seconds=secs)  # years 1..9999 only, as in these cases
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % (t.year, t.month, t.day, t.hour, t.minute, t.second)
    return s + "." + str(frac).rjust(digits, "0") + ("Z" if z else "")


def expected(t, v):
    """JSON value `csvavro cat` prints for python3-avro's decoded value v of type t."""
    t = resolve(t)
    if isinstance(t, list):
        if v is None:
            return None
        nonnull = [x for x in t if x != "null"]
        b = nonnull[0] if len(nonnull) == 1 else union_match(nonnull, v)
        inner = expected(b, v)
        return inner if len(nonnull) <= 1 else {type_name(b): inner}
    if isinstance(t, dict):
        lt, base = t.get("logicalType"), t["type"]
        if base == "record":
            return {f["name"]: expected(f["type"], v[f["name"]]) for f in t["fields"]}
        if base == "array":
            return [expected(t["items"], x) for x in v]
        if base == "map":
            return {k: expected(t["values"], x) for k, x in v.items()}
        if base == "enum":
            return v
        if lt == "decimal" and base in ("bytes", "fixed"):
            return format(v, "f")
        if base == "fixed":
            return v.decode("latin-1")
        if lt == "date" and base == "int":
            return v.isoformat() if isinstance(v, datetime.date) else v
        if lt in ("time-millis", "time-micros"):
            if isinstance(v, datetime.time):
                us = ((v.hour * 60 + v.minute) * 60 + v.second) * 10**6 + v.microsecond
                v = us // 1000 if lt == "time-millis" else us
            per, digits = (1000, 3) if lt == "time-millis" else (10**6, 6)
            s = v // per
            return "%02d:%02d:%02d.%0*d" % (s // 3600, s // 60 % 60, s % 60, digits, v % per)
        if lt in ("timestamp-micros", "timestamp-millis", "local-timestamp-micros",
                  "local-timestamp-millis") and base == "long":
            if isinstance(v, datetime.datetime):  # python3-avro converted it: back to the int
                d = v.replace(tzinfo=None) - EPOCH
                v = (d.days * 86400 + d.seconds) * 10**6 + d.microseconds
                if lt.endswith("millis"):
                    v //= 1000
            micros = lt.endswith("micros")
            return fmt_ts(v, 10**6 if micros else 1000, 6 if micros else 3,
                          not lt.startswith("local"))
        return expected(base, v)
    if t in ("float", "double"):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return F32(v) if t == "float" else float(v)
    if t == "bytes":
        return v.decode("latin-1")
    if t == "string":
        return str(v)
    return v


class F32(float):
    """A float value: printed in its shortest float form, compared as a float32."""


def same(t, got, exp):
    """Equal as JSON values, doubles bit for bit, floats bit for bit as float32."""
    if isinstance(exp, F32):
        return isinstance(got, float) and struct.pack("<f", got) == struct.pack("<f", exp)
    if isinstance(exp, float):
        return isinstance(got, float) and struct.pack("<d", got) == struct.pack("<d", exp)
    if isinstance(exp, bool) or exp is None:
        return got is exp
    if isinstance(exp, list):
        return isinstance(got, list) and len(got) == len(exp) and all(
            same(None, g, e) for g, e in zip(got, exp))
    if isinstance(exp, dict):
        return isinstance(got, dict) and list(got) == list(exp) and all(
            same(None, got[k], exp[k]) for k in exp)
    return type(got) is type(exp) and got == exp


def clean(schema):
    return json.loads(json.dumps(schema).replace('"_full"', '"_x"'))


def write(path, schema, rows, codec="null"):
    s = avro.schema.parse(json.dumps(clean(schema)))
    with open(path, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), s, codec=codec)
        for r in rows:
            w.append(r)
        w.close()


def read_python(path):
    with open(path, "rb") as f:
        return list(avro.datafile.DataFileReader(f, avro.io.DatumReader()))


def run_case(tmp, name, schema, rows, codec="null"):
    path = os.path.join(tmp, f"{name}.{codec}.avro")
    write(path, schema, rows, codec)
    decoded = read_python(path)
    p = subprocess.run([BIN, "cat", path], capture_output=True, text=True)
    fails = 0
    if p.returncode != 0:
        print(f"FAIL: {name}/{codec}: exit {p.returncode}: {p.stderr.strip()}")
        return 1
    lines = p.stdout.splitlines()
    if len(lines) != len(decoded):
        print(f"FAIL: {name}/{codec}: {len(lines)} lines, python3-avro decodes {len(decoded)}")
        fails += 1
    for k, (line, v) in enumerate(zip(lines, decoded)):
        exp = expected(schema, v)
        got = json.loads(line)
        if not same(schema, got, exp):
            fails += 1
            if fails <= 5:
                print(f"FAIL: {name}/{codec} record {k + 1}: got {line}, expected "
                      f"{json.dumps(exp)}")
    c = subprocess.run([BIN, "cat", "--count", path], capture_output=True, text=True)
    if c.returncode != 0 or c.stdout.strip() != str(len(decoded)):
        print(f"FAIL: {name}/{codec}: --count: exit {c.returncode} {c.stdout!r} {c.stderr!r}")
        fails += 1
    if not fails:
        print(f"ok: {name}/{codec}: {len(decoded)} records as python3-avro decodes them")
    return fails + run_merge(tmp, name, schema, path, decoded, codec)


def run_merge(tmp, name, schema, path, decoded, codec):
    """`cat --format avro` re-encodes every record (two copies of the file, one output with
    another codec): python3-avro reads the same values back twice, avrocat (avro-bin) as many
    records."""
    out = os.path.join(tmp, f"{name}.{codec}.merged.avro")
    oc = "deflate" if codec == "null" else "null"
    p = subprocess.run([BIN, "cat", path, path, "--format", "avro", "--codec", oc, "-o", out],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAIL: {name}/{codec}: cat --format avro: exit {p.returncode}: {p.stderr.strip()}")
        return 1
    back = read_python(out)
    fails = 0
    if len(back) != 2 * len(decoded):
        print(f"FAIL: {name}/{codec}: merged {len(back)} records, expected {2 * len(decoded)}")
        return 1
    for k, (b, v) in enumerate(zip(back, decoded + decoded)):
        if not same(schema, expected(schema, b), expected(schema, v)):
            fails += 1
            if fails <= 3:
                print(f"FAIL: {name}/{codec}: merged record {k + 1}: {b!r} != {v!r}")
    a = subprocess.run(["avrocat", out], capture_output=True, text=True)
    if a.returncode != 0 or len(a.stdout.splitlines()) != len(back):
        print(f"FAIL: {name}/{codec}: avrocat on the merged file: exit {a.returncode} "
              f"{len(a.stdout.splitlines())} lines {a.stderr.strip()[:200]}")
        fails += 1
    if not fails:
        print(f"ok: {name}/{codec}: cat --format avro ({oc}): python3-avro and avrocat read it")
    return fails


def run_csv(tmp):
    """--format csv of a flat file: what Python's csv module reads back equals the values."""
    import csv
    schema = rec("V", [("s", ["null", "string"]), ("n", "long"), ("by", "bytes"),
                       ("d", ["null", {"type": "int", "logicalType": "date"}]),
                       ("a", {"type": "array", "items": "int"})])
    rows = [{"s": 'a,"b"\nc', "n": 1, "by": b"\xff\x00", "d": datetime.date(2013, 1, 7),
             "a": [1, 2]},
            {"s": "", "n": -2, "by": b"", "d": None, "a": []},
            {"s": None, "n": 3, "by": b"x", "d": datetime.date(1, 1, 1), "a": [3]}]
    path = os.path.join(tmp, "csv.avro")
    write(path, schema, rows)
    p = subprocess.run([BIN, "cat", "--format", "csv", path], capture_output=True, text=True)
    got = list(csv.reader(io.StringIO(p.stdout, newline="")))
    want = [["s", "n", "by", "d", "a"],
            ['a,"b"\nc', "1", "\u00ff\x00", "2013-01-07", "[1,2]"],
            ["", "-2", "", "", "[]"],
            ["", "3", "x", "0001-01-01", "[3]"]]
    # null and "" both read as "" with the csv module: tell them apart by the raw text
    ok = p.returncode == 0 and got == want and '\n"",-2,' in p.stdout and "\n,3," in p.stdout
    print(("ok" if ok else "FAIL") + f": --format csv: {got if not ok else ''}{p.stderr}")
    return 0 if ok else 1


def run_messages(tmp):
    """Header-only commands need no codec; errors give the byte offset once; shortest floats."""
    fails = 0
    schema, rows = CASES["single_branch"]
    path = os.path.join(tmp, "lz.avro")
    write(path, schema, rows)
    data = open(path, "rb").read()
    i = data.index(b"avro.codec") + len(b"avro.codec") + 1  # the value's length byte, then it
    data = data[:i] + b"lz4x" + data[i + 4:]
    open(path, "wb").write(data)

    def cat(*a):
        return subprocess.run([BIN, "cat", *a], capture_output=True, text=True)

    for opt, want in (("--schema", '"name": "S"'), ("--meta", '"avro.codec": "lz4x"'),
                      ("--count", "3")):
        p = cat(opt, path)
        if p.returncode != 0 or want.replace(" ", "") not in p.stdout.replace(" ", ""):
            print(f"FAIL: unknown codec: cat {opt}: exit {p.returncode} {p.stdout!r} {p.stderr}")
            fails += 1
    p = cat(path)
    if p.returncode != 1 or 'unknown codec "lz4x"' not in p.stderr:
        print(f"FAIL: unknown codec: cat: exit {p.returncode} {p.stderr}")
        fails += 1
    if p.stderr.count("byte ") != 1:
        print(f"FAIL: the byte offset is said once: {p.stderr}")
        fails += 1
    # shortest forms of subnormals (5e-324 in single_branch, 1e-45 as a float)
    path = os.path.join(tmp, "sub.avro")
    write(path, rec("F", [("d", "double"), ("f", "float")]), [{"d": 5e-324, "f": 1e-45}])
    p = cat(path)
    if p.stdout.strip() != '{"d":5e-324,"f":1e-45}':
        print(f"FAIL: shortest subnormals: {p.stdout}")
        fails += 1
    print(("ok" if not fails else "FAIL") + ": unknown codec, offsets, subnormals")
    return fails


def main(argv):
    names = argv[1:] or list(CASES) + list(TOP) + ["csv", "messages"]
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if name == "csv":
                fails += run_csv(tmp)
                continue
            if name == "messages":
                fails += run_messages(tmp)
                continue
            schema, rows = CASES[name] if name in CASES else TOP[name]
            NAMED.clear()
            register(schema)
            codecs = ["null", "deflate", "snappy", "zstandard", "bzip2"] if name == "complex" \
                else ["null"]
            for codec in codecs:
                fails += run_case(tmp, name, schema, rows, codec)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
