#!/usr/bin/python3
"""Interop: `csvavro cat` on files python3-avro writes, covering the Avro type system — unions
of every shape (a single branch such as ["long"], null first or last, several non-null
branches), and whatever other types the reader supports — compared record by record with
python3-avro's own decoding of the same file (DatumReader), mapped to JSON by the rules of the
README's `cat` section (independently written here, from the schema).

usage: interop_cat_types.py [CASE...]     env: CSVAVRO_BIN (the csvavro executable)
"""
import datetime
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
}


def type_name(t):
    """Avro's name for a union branch (the key of the Avro JSON encoding's wrapper)."""
    if isinstance(t, str):
        return t
    if t["type"] in ("record", "enum", "fixed"):
        ns = t.get("namespace")
        return t["name"] if "." in t["name"] or not ns else ns + "." + t["name"]
    return t["type"]


def union_match(branches, v):
    """The branch python3-avro chose for v (its own rule: the first that validates)."""
    for b in branches:
        if avro.io.validate(avro.schema.parse(json.dumps(b)), v):
            return b
    raise ValueError(f"no branch for {v!r}")


def fmt_ts(v, per_sec, digits, z):
    secs, frac = divmod(v, per_sec)
    t = EPOCH + datetime.timedelta(seconds=secs)
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % (t.year, t.month, t.day, t.hour, t.minute, t.second)
    return s + "." + str(frac).rjust(digits, "0") + ("Z" if z else "")


def expected(t, v):
    """JSON value `csvavro cat` prints for python3-avro's decoded value v of type t."""
    if isinstance(t, list):
        if v is None:
            return None
        b = union_match(t, v)
        nonnull = [x for x in t if x != "null"]
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
        if base == "fixed":
            return v.decode("latin-1")
        if lt == "date" and base == "int":
            return v.isoformat() if isinstance(v, datetime.date) else v
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
        return float(v)
    if t == "bytes":
        return v.decode("latin-1")
    return v


def same(t, got, exp):
    """Equal as JSON values, floats bit for bit (as doubles; floats were widened exactly)."""
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


def write(path, schema, rows, codec="null"):
    s = avro.schema.parse(json.dumps(schema))
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
    return fails


def main(argv):
    names = argv[1:] or list(CASES)
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            schema, rows = CASES[name]
            fails += run_case(tmp, name, schema, rows)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
