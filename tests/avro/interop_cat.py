#!/usr/bin/python3
"""Interop: files written by python3-avro (every csvavro type, unions with null in both orders,
codecs null/deflate/snappy/zstandard/bzip2) are read by `csvavro cat` and every value is compared
field by field with the values Python put in, using the JSON mapping documented in the README.
Also: -n, --count, --schema, --meta, and part-number order for directories and globs.

env: CSVAVRO_BIN (the csvavro executable)
"""
import datetime
import io
import json
import math
import os
import random
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
UTC = datetime.timezone.utc

SCHEMA = {
    "type": "record", "name": "PyRow", "namespace": "py.test",
    "fields": [
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "i_n", "type": ["int", "null"]},
        {"name": "l", "type": "long"},
        {"name": "l_n", "type": ["null", "long"], "default": None},
        {"name": "f", "type": "float"},
        {"name": "d", "type": ["null", "double"]},
        {"name": "s", "type": "string"},
        {"name": "s_n", "type": ["string", "null"]},
        {"name": "by", "type": "bytes"},
        {"name": "dt", "type": {"type": "int", "logicalType": "date"}},
        {"name": "ts", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
        {"name": "tsm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "lts", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "ltsm", "type": ["null", {"type": "long", "logicalType": "local-timestamp-millis"}]},
    ],
}

STRINGS = ["", "plain", "quote \" back \\ slash", "ctl \x01\x1f\n\t\r", "héllo", "日本", "\U0001F600",
           "x" * 300]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def make_rows(rng, n):
    rows = []
    for k in range(n):
        maybe = lambda v: None if rng.random() < 0.2 else v  # noqa: E731
        fl = rng.choice([0.0, -0.0, 1.5, float("nan"), float("inf"), -float("inf"),
                         f32(rng.uniform(-1e6, 1e6)), 1e-45, 3.4028234663852886e38])
        db = rng.choice([0.1, -0.0, 5e-324, 1e308, float("nan"), float("-inf"),
                         rng.uniform(-1e12, 1e12), rng.random()])
        rows.append({
            "b": rng.random() < 0.5,
            "i": rng.choice([-2**31, 2**31 - 1, 0, rng.randint(-2**31, 2**31 - 1)]),
            "i_n": maybe(rng.randint(-1000, 1000)),
            "l": rng.choice([-2**63, 2**63 - 1, -1, rng.randint(-2**63, 2**63 - 1)]),
            "l_n": maybe(rng.randint(-2**40, 2**40)),
            "f": f32(fl),
            "d": maybe(db),
            "s": rng.choice(STRINGS),
            "s_n": maybe(rng.choice(STRINGS)),
            "by": bytes(rng.randrange(256) for _ in range(rng.randrange(12))),
            "dt": datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randint(-25000, 40000)),
            "ts": maybe(datetime.datetime(1970, 1, 1, tzinfo=UTC)
                        + datetime.timedelta(microseconds=rng.randint(-2 * 10**15, 4 * 10**15))),
            "tsm": datetime.datetime(1970, 1, 1, tzinfo=UTC)
            + datetime.timedelta(milliseconds=rng.randint(-2 * 10**12, 4 * 10**12)),
            "lts": rng.randint(-2 * 10**15, 4 * 10**15),
            "ltsm": maybe(rng.randint(-2 * 10**12, 4 * 10**12)),
        })
    return rows


def write(path, rows, codec, meta=None):
    schema = avro.schema.parse(json.dumps(SCHEMA))
    with open(path, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=codec)
        for k, v in (meta or {}).items():
            w.set_meta(k, v)
        for n, r in enumerate(rows):
            w.append(r)
            if n % 97 == 96:
                w.flush()  # several blocks per file
        w.close()


def expected(name, v):
    """The value `csvavro cat` must print for python value v (README mapping)."""
    if v is None:
        return None
    if name == "f" or name == "d":
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if name == "by":
        return v.decode("latin-1")
    if name == "dt":
        return v.isoformat() if v.year >= 1 else None
    if name == "ts":
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ").rjust(27, "0")
    if name == "tsm":
        return v.strftime("%Y-%m-%dT%H:%M:%S.").rjust(20, "0") + "%03dZ" % (v.microsecond // 1000)
    if name == "lts":
        t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=v)
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f").rjust(26, "0")
    if name == "ltsm":
        t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=v)
        return t.strftime("%Y-%m-%dT%H:%M:%S.").rjust(20, "0") + "%03d" % (t.microsecond // 1000)
    return v


def same(name, got, exp):
    if name == "f" and isinstance(exp, float):
        return isinstance(got, (int, float)) and struct.pack("<f", got) == struct.pack("<f", exp)
    if name == "d" and isinstance(exp, float):
        return isinstance(got, (int, float)) and struct.pack("<d", got) == struct.pack("<d", exp)
    if name == "b":
        return got is exp
    return got == exp and type(got) is type(exp)


def cat(*args):
    p = subprocess.run([BIN, "cat", *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"csvavro cat {args}: exit {p.returncode}: {p.stderr}")
    return p.stdout


def main():
    rng = random.Random(20240611)
    fails = 0

    def check(cond, msg):
        nonlocal fails
        if not cond:
            fails += 1
            print("FAIL:", msg)

    with tempfile.TemporaryDirectory() as tmp:
        for codec in ["null", "deflate", "snappy", "zstandard", "bzip2"]:
            rows = make_rows(rng, 700)
            path = os.path.join(tmp, f"py_{codec}.avro")
            write(path, rows, codec, {"who": b"python"})
            out = cat(path).splitlines()
            check(len(out) == len(rows), f"{codec}: {len(out)} lines, expected {len(rows)}")
            bad = 0
            for k, (line, row) in enumerate(zip(out, rows)):
                got = json.loads(line)
                check(list(got.keys()) == [f["name"] for f in SCHEMA["fields"]], f"{codec}: keys")
                for name, v in row.items():
                    e = expected(name, v)
                    if not same(name, got[name], e):
                        bad += 1
                        if bad <= 8:
                            print(f"FAIL: {codec} record {k} field {name}: got {got[name]!r}, "
                                  f"expected {e!r}")
            fails += bad
            check(cat(path, "--count").strip() == str(len(rows)), f"{codec}: --count")
            check(len(cat(path, "-n", "5").splitlines()) == 5, f"{codec}: -n 5")
            check(json.loads(cat(path, "--schema")) == json.loads(json.dumps(SCHEMA))
                  or json.loads(cat(path, "--schema"))["name"] == "PyRow", f"{codec}: --schema")
            meta = json.loads(cat(path, "--meta"))
            check(meta.get("avro.codec", "null") == codec and meta.get("who") == "python",
                  f"{codec}: --meta {meta}")
            print(f"python3-avro/{codec} -> csvavro cat: {len(rows)} records compared")

        # Part files: natural order of the part number, for a directory and for a glob.
        parts = os.path.join(tmp, "parts")
        os.mkdir(parts)
        order = [1, 2, 3, 9, 10, 11, 100]
        for n in order:
            rows = make_rows(rng, 1)
            rows[0]["i"] = n
            write(os.path.join(parts, f"trip.{n}.avro"), rows, "null")
        open(os.path.join(parts, "_SUCCESS"), "w").close()
        for arg in [parts, os.path.join(parts, "trip.*.avro")]:
            got = [json.loads(line)["i"] for line in cat(arg).splitlines()]
            check(got == order, f"part order for {arg}: {got}")
            check(cat(arg, "--count").strip() == str(len(order)), f"--count over {arg}")
            check([json.loads(x)["i"] for x in cat(arg, "-n", "3").splitlines()] == order[:3],
                  f"-n 3 over {arg}")
        print("part-number order checked")

        # Errors: a damaged file (exit 1, message with file, byte offset and block number),
        # a missing file (exit 1), a bad option (exit 2); binary metadata prints as JSON.
        rows = make_rows(rng, 300)
        path = os.path.join(tmp, "dmg.avro")
        write(path, rows, "snappy", {"bin": bytes([0, 0xff, 0xc3, 0x28, 65])})
        meta = json.loads(cat(path, "--meta"))
        check(meta["bin"] == "\x00\xff\xc3(A", f"binary metadata: {meta['bin']!r}")
        data = bytearray(open(path, "rb").read())
        data[len(data) - 40] ^= 0xFF  # inside the last block: snappy data or its CRC
        open(path, "wb").write(bytes(data))
        p = subprocess.run([BIN, "cat", path], capture_output=True, text=True)
        check(p.returncode == 1 and path in p.stderr and "block " in p.stderr
              and "byte " in p.stderr, f"damaged file: exit {p.returncode}: {p.stderr}")
        p = subprocess.run([BIN, "cat", path, "--count"], capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.strip() == "300", f"--count skips decoding: {p}")
        p = subprocess.run([BIN, "cat", os.path.join(tmp, "missing.avro")], capture_output=True)
        check(p.returncode == 1, f"missing file: exit {p.returncode}")
        p = subprocess.run([BIN, "cat", path, "--bogus"], capture_output=True)
        check(p.returncode == 2, f"bad option: exit {p.returncode}")
        print("error cases checked")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
