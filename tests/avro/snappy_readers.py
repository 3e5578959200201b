#!/usr/bin/python3
"""Our snappy encoder on real Avro blocks, checked by independent readers.

Generated taxi CSV (bench/gen_taxi) and a few edge files (one row; one row repeated, very
compressible; 300 columns of bench/gen_wide) are converted twice with the same seed and block
size: with the default codec (snappy) and with --codec null. For every block of the snappy
file:
  - python-snappy (Debian python3-snappy) decompresses the data before the CRC to exactly the
    bytes of the null file's block (same rows per block: the block policy looks only at the
    uncompressed size);
  - the last 4 bytes are the big-endian CRC-32 of those bytes (zlib.crc32).
Then python3-avro reads the snappy file (its own snappy decoder + CRC check) and every value of
every record is compared with the CSV as Python's csv module reads it; avrocat (the Avro C
library, libsnappy) reads it too: same record count, and the string and long fields of every
record equal to the CSV's text.

env: CSVAVRO_BIN, CSVAVRO_BUILD
"""
import csv
import datetime
import json
import os
import subprocess
import sys
import tempfile
import warnings
import zlib

try:
    import snappy
    import avro.datafile
    import avro.io
except ImportError as e:  # scripts/deps.sh installs python3-snappy and python3-avro
    print(f"SKIP: {e}")
    sys.exit(77)

warnings.filterwarnings("ignore")  # python3-avro 1.11 warns about local-timestamp-*
BIN = os.environ.get("CSVAVRO_BIN", "build/csvavro")
BUILD = os.environ.get("CSVAVRO_BUILD", "build")
EPOCH = datetime.datetime(1970, 1, 1)


def varint(b, pos):
    shift = acc = 0
    while True:
        c = b[pos]
        pos += 1
        acc |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return (acc >> 1) ^ -(acc & 1), pos


def container_blocks(path):
    """[(count, data)] of an Avro object container file, and its codec."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:4] == b"Obj\x01", path
    pos, meta = 4, {}
    while True:
        cnt, pos = varint(b, pos)
        if cnt == 0:
            break
        if cnt < 0:
            _, pos = varint(b, pos)
            cnt = -cnt
        for _ in range(cnt):
            kl, pos = varint(b, pos)
            k = b[pos:pos + kl].decode()
            pos += kl
            vl, pos = varint(b, pos)
            meta[k] = b[pos:pos + vl]
            pos += vl
    sync = b[pos:pos + 16]
    pos += 16
    out = []
    while pos < len(b):
        cnt, pos = varint(b, pos)
        size, pos = varint(b, pos)
        out.append((cnt, b[pos:pos + size]))
        pos += size
        assert b[pos:pos + 16] == sync, f"{path}: sync marker at byte {pos}"
        pos += 16
    return meta.get("avro.codec", b"null").decode(), out


def same(text, v):
    """Does python3-avro's value v hold the CSV text (csv module)?"""
    if v is None:
        return text == ""
    if isinstance(v, bool):
        return text.lower() == ("true" if v else "false")
    if isinstance(v, float):
        return float(text) == v
    if isinstance(v, int):
        try:
            return int(text) == v
        except ValueError:  # avrocat: local-timestamp-micros as its long, a date as days
            if len(text) == 10:
                return (datetime.date.fromisoformat(text) - EPOCH.date()).days == v
            t = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
            d = t - EPOCH
            return (d.days * 86400 + d.seconds) * 1000000 == v
    if isinstance(v, datetime.datetime):
        t = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        return v.replace(tzinfo=None) == t
    if isinstance(v, datetime.date):
        return v.isoformat() == text
    return v == text


def check(name, csv_path, block_size, fails):
    d = os.path.dirname(csv_path)
    files = {}
    for codec in ("snappy", "null"):
        out = os.path.join(d, f"{name}-{codec}.avro")
        cmd = [BIN, "convert", csv_path, out, "-q", "-j", "1", "--seed", "17", "--overwrite",
               "--block-size", str(block_size)]
        if codec == "null":
            cmd += ["--codec", "null"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            print(f"FAIL {name}: convert --codec {codec}: {p.stderr}")
            return fails + 1
        files[codec] = out
    codec, sb = container_blocks(files["snappy"])
    ncodec, nb = container_blocks(files["null"])
    if codec != "snappy" or ncodec != "null" or len(sb) != len(nb):
        print(f"FAIL {name}: codecs {codec}/{ncodec}, {len(sb)} vs {len(nb)} blocks")
        return fails + 1
    packed = raw = 0
    for i, ((c1, s), (c2, n)) in enumerate(zip(sb, nb)):
        body, crc = s[:-4], int.from_bytes(s[-4:], "big")
        got = snappy.uncompress(body)
        if c1 != c2 or got != n:
            print(f"FAIL {name}: block {i}: python-snappy gives {len(got)} bytes, "
                  f"the null file's block has {len(n)} ({c1} vs {c2} records)")
            fails += 1
        if crc != zlib.crc32(n):
            print(f"FAIL {name}: block {i}: CRC {crc:08x}, zlib says {zlib.crc32(n):08x}")
            fails += 1
        packed += len(s)
        raw += len(n)
    rows = sum(c for c, _ in sb)

    # python3-avro: every value of every record against the csv module
    with open(csv_path, newline="", encoding="utf-8") as fc, open(files["snappy"], "rb") as fa:
        it = csv.reader(fc)
        header = next(it)
        r = avro.datafile.DataFileReader(fa, avro.io.DatumReader())
        n_rec = n_val = 0
        for k, (row, rec) in enumerate(zip(it, r)):
            n_rec += 1
            for j, (key, v) in enumerate(rec.items()):
                n_val += 1
                if not same(row[j], v):
                    print(f"FAIL {name}: record {k + 1} field {key}: CSV {row[j]!r}, "
                          f"python3-avro {v!r}")
                    return fails + 1
        rest = sum(1 for _ in r) + sum(1 for _ in it)
        r.close()
    if n_rec != rows or rest:
        print(f"FAIL {name}: python3-avro/csv read {n_rec} (+{rest}) records, blocks say {rows}")
        fails += 1

    # avrocat (libsnappy): record count, strings and longs
    p = subprocess.run(["avrocat", files["snappy"]], capture_output=True, text=True)
    lines = p.stdout.splitlines()
    if p.returncode or len(lines) != rows:
        print(f"FAIL {name}: avrocat exit {p.returncode}, {len(lines)} records of {rows}: "
              f"{p.stderr[:300]}")
        return fails + 1
    with open(csv_path, newline="", encoding="utf-8") as fc:
        it = csv.reader(fc)
        header = next(it)
        for k, (row, line) in enumerate(zip(it, lines)):
            rec = json.loads(line)
            for j, key in enumerate(header):
                v = rec[key]
                if isinstance(v, dict):  # a union branch: {"string": ...}
                    (v,) = v.values()
                if isinstance(v, str) and v != row[j] or type(v) is int and not same(row[j], v):
                    print(f"FAIL {name}: avrocat record {k + 1} field {key}: {v!r} vs {row[j]!r}")
                    return fails + 1
    print(f"{name}: {len(sb)} blocks, {raw} -> {packed} bytes ({packed / max(raw, 1):.3f}), "
          f"{rows} records, {n_val} values checked (python-snappy, zlib CRC, python3-avro, avrocat)")
    return fails


def main():
    fails = 0
    d = tempfile.mkdtemp(prefix="csvavro-snappy-")
    taxi = os.path.join(d, "taxi.csv")
    subprocess.run([os.path.join(BUILD, "gen_taxi"), "--bytes", "2000000", "--seed", "5", "--lf",
                    "-o", taxi], check=True)
    for bs in (1 << 20, 65536, 100003):
        fails = check(f"taxi-bs{bs}", taxi, bs, fails)
    wide = os.path.join(d, "wide.csv")
    with open(wide, "wb") as f:
        subprocess.run([os.path.join(BUILD, "gen_wide"), "--bytes", "1500000", "--seed", "3"],
                       stdout=f, check=True)
    fails = check("wide", wide, 1 << 20, fails)
    with open(taxi, encoding="utf-8") as f:
        head = [next(f), next(f)]
    one = os.path.join(d, "one.csv")
    with open(one, "w", encoding="utf-8") as f:
        f.writelines(head)
    fails = check("one-row", one, 1 << 20, fails)
    rep = os.path.join(d, "repeat.csv")
    with open(rep, "w", encoding="utf-8") as f:
        f.write(head[0] + head[1] * 20000)
    fails = check("repeated-row", rep, 1 << 20, fails)
    if fails:
        print(f"{fails} failure(s); files kept in {d}")
        return 1
    subprocess.run(["rm", "-rf", d])
    return 0


if __name__ == "__main__":
    sys.exit(main())
