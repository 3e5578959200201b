#!/usr/bin/python3
"""Interop: files written by csvavro's container writer (tests/avro/avro_testwrite, every type,
every codec) are read by python3-avro (avro.datafile) and by avrocat (avro-bin) where they support
the codec, and every value is compared field by field with the values the C program put in
(EXPECTED.jsonl, written from the C values, floats as bit patterns).

usage: interop_read.py python|avrocat  (env CSVAVRO_BUILD: the build directory)
"""
import datetime
import json
import lzma
import os
import struct
import subprocess
import sys
import tempfile

import warnings

import avro.codecs
import avro.datafile
import avro.io

warnings.filterwarnings("ignore")  # python3-avro 1.11 warns about local-timestamp-*
BUILD = os.environ.get("CSVAVRO_BUILD", "build")
WRITER = os.path.join(BUILD, "avro_testwrite")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
DAY0 = datetime.date(1970, 1, 1)

TYPES = {"b": "boolean", "b_n": "boolean", "i": "int", "i_n": "int", "l": "long",
         "Trip_Distance": "long", "f": "float", "f_n": "float", "d": "double", "d_n": "double",
         "s": "string", "s_n": "string", "by": "bytes", "by_n": "bytes", "dt": "date",
         "ts": "timestamp-micros", "lts": "local-timestamp-micros", "tsm": "timestamp-millis",
         "ltsm": "local-timestamp-millis"}


class XZCodec(avro.codecs.Codec):
    """python3-avro 1.11 has no xz codec; decode the .xz block with the standard lzma module."""

    @staticmethod
    def compress(data):
        return lzma.compress(data), len(data)

    @staticmethod
    def decompress(readers_decoder):
        data = readers_decoder.read_bytes()
        return avro.io.BinaryDecoder(__import__("io").BytesIO(lzma.decompress(data)))


def python_norm(name, v):
    """python3-avro's value -> the representation of EXPECTED.jsonl."""
    if v is None:
        return None
    t = TYPES[name]
    if t == "float":
        return struct.unpack("<I", struct.pack("<f", v))[0]
    if t == "double":
        return struct.unpack("<Q", struct.pack("<d", v))[0]
    if t == "bytes":
        return v.hex()
    if t == "date":
        return (v - DAY0).days
    if t in ("timestamp-micros", "timestamp-millis"):
        us = (v - EPOCH) // datetime.timedelta(microseconds=1)
        return us if t == "timestamp-micros" else us // 1000
    return v  # local-timestamp-* are plain longs for python3-avro 1.11


def avrocat_norm(name, v):
    """avrocat's JSON (Avro JSON encoding: unions wrapped as {"type": value}) -> EXPECTED."""
    if isinstance(v, dict):
        assert len(v) == 1, v
        v = next(iter(v.values()))
    if v is None:
        return None
    t = TYPES[name]
    if t == "float":
        return struct.unpack("<I", struct.pack("<f", v))[0]
    if t == "double":
        return struct.unpack("<Q", struct.pack("<d", v))[0]
    if t == "bytes":
        return v.encode("latin-1").hex()
    return v


def compare(label, got_rows, exp_rows):
    bad = 0
    if len(got_rows) != len(exp_rows):
        print(f"{label}: {len(got_rows)} records, expected {len(exp_rows)}")
        return 1
    for i, (g, e) in enumerate(zip(got_rows, exp_rows)):
        if list(g.keys()) != list(e.keys()):
            print(f"{label}: record {i}: fields {list(g.keys())} != {list(e.keys())}")
            return 1
        for k in e:
            if g[k] != e[k]:
                bad += 1
                if bad <= 10:
                    print(f"{label}: record {i} field {k}: got {g[k]!r} expected {e[k]!r}")
    return 1 if bad else 0


def write(tmp, codec, finite=False, rows=1500, block=3000):
    out = os.path.join(tmp, f"t_{codec}.avro")
    exp = os.path.join(tmp, f"t_{codec}.jsonl")
    env = dict(os.environ)
    if finite:
        env["AVRO_TESTWRITE_FINITE"] = "1"
    subprocess.run([WRITER, out, exp, codec, str(rows), str(block), "42"], check=True, env=env)
    with open(exp) as f:
        return out, [json.loads(line) for line in f]


def main():
    mode = sys.argv[1]
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        if mode == "python":
            avro.codecs.KNOWN_CODECS["xz"] = XZCodec
            for codec in ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]:
                path, exp = write(tmp, codec)
                with open(path, "rb") as f:
                    rd = avro.datafile.DataFileReader(f, avro.io.DatumReader())
                    meta = rd.meta
                    got = [{k: python_norm(k, v) for k, v in rec.items()} for rec in rd]
                    schema = json.loads(meta["avro.schema"].decode())
                    rd.close()
                fails += compare(f"python3-avro/{codec}", got, exp)
                if meta.get("avro.codec", b"null").decode() != codec:
                    print(f"{codec}: avro.codec is {meta.get('avro.codec')}")
                    fails += 1
                if meta.get("test.key") != b"test value" or meta.get("other") != "ü".encode():
                    print(f"{codec}: user metadata wrong: {meta}")
                    fails += 1
                f0 = [f for f in schema["fields"] if f["name"] == "Trip_Distance"][0]
                if f0.get("csvavro.header") != "Trip Distance" or f0["type"] != ["null", "long"] \
                        or "default" not in f0 or f0["default"] is not None:
                    print(f"{codec}: schema field wrong: {f0}")
                    fails += 1
                print(f"python3-avro/{codec}: {len(got)} records compared")
            # block targets that cut blocks inside each appended batch of rows: every record
            # its own block, and a few records per block (the row encoder flushes mid-batch)
            for block in [1, 150, 1000]:
                path, exp = write(tmp, "null", block=block)
                with open(path, "rb") as f:
                    rd = avro.datafile.DataFileReader(f, avro.io.DatumReader())
                    got = [{k: python_norm(k, v) for k, v in rec.items()} for rec in rd]
                    rd.close()
                fails += compare(f"python3-avro/null/block {block}", got, exp)
                print(f"python3-avro/null/block {block}: {len(got)} records compared")
        elif mode == "avrocat":
            # avro-c reads null, deflate and snappy (its "lzma" is not Avro's "xz"); its JSON
            # printer cannot print NaN or infinities and stops bytes at a NUL, so these files
            # use finite floats and NUL-free bytes (AVRO_TESTWRITE_FINITE).
            for codec in ["null", "deflate", "snappy"]:
                path, exp = write(tmp, codec, finite=True)
                p = subprocess.run(["avrocat", path], capture_output=True, text=True)
                if p.returncode != 0 or p.stderr:
                    print(f"avrocat/{codec}: exit {p.returncode}: {p.stderr[:500]}")
                    fails += 1
                    continue
                got = []
                for line in p.stdout.splitlines():
                    rec = json.loads(line)
                    got.append({k: avrocat_norm(k, v) for k, v in rec.items()})
                fails += compare(f"avrocat/{codec}", got, exp)
                print(f"avrocat/{codec}: {len(got)} records compared")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
