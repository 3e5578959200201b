#!/usr/bin/python3
"""Damage detection per codec (issue 19): one flipped bit anywhere after the container header of
a file written with a codec that carries a checksum (zstandard's frame checksum, snappy's CRC-32,
xz's CRC-64, bzip2's CRC) must make `csvavro cat` fail, or print exactly the records it printed
before — never other values with exit 0. The undamaged file must give the ids Python wrote. (null and deflate carry no checksum: the README says so.)

env: CSVAVRO_BIN
"""
import json
import os
import random
import subprocess
import sys
import tempfile

BIN = os.environ.get("CSVAVRO_BIN", "build/csvavro")


def main():
    rng = random.Random(19)
    fails = 0
    d = tempfile.mkdtemp()
    csv = os.path.join(d, "in.csv")
    with open(csv, "w") as f:
        f.write("id,name,x\n")
        for i in range(3000):
            f.write(f"{i},n{rng.randrange(10**12):x},{rng.random()}\n")
    for codec in ("zstandard", "snappy", "xz", "bzip2"):
        path = os.path.join(d, f"{codec}.avro")
        p = subprocess.run([BIN, "convert", csv, path, "-q", "--codec", codec, "--block-size",
                            "16K", "--seed", "1"], capture_output=True, text=True)
        if p.returncode:
            print(f"FAIL: convert {codec}: {p.stderr}")
            fails += 1
            continue
        good = subprocess.run([BIN, "cat", path], capture_output=True, text=True).stdout
        if [json.loads(x)["id"] for x in good.splitlines()] != list(range(3000)):
            print(f"FAIL: {codec}: the undamaged file does not read back")
            fails += 1
            continue
        data = open(path, "rb").read()
        # every block ends with the sync marker, which also ends the header: the first block
        # starts after its first occurrence
        sync = data[-16:]
        start = data.index(sync) + 16
        silent = detected = same = 0
        for k in range(60):
            pos = rng.randrange(start, len(data))
            bad = bytearray(data)
            bad[pos] ^= 1 << rng.randrange(8)
            bpath = os.path.join(d, "bad.avro")
            with open(bpath, "wb") as f:
                f.write(bad)
            q = subprocess.run([BIN, "cat", bpath], capture_output=True, text=True)
            if q.returncode != 0:
                detected += 1
            elif q.stdout == good:
                same += 1
            else:
                silent += 1
                if silent <= 3:
                    print(f"FAIL: {codec}: bit flip at byte {pos} printed other records, exit 0")
        fails += silent
        print(f"{codec}: 60 flips: {detected} detected, {same} harmless, {silent} silent")
    subprocess.run(["rm", "-rf", d])
    print("FAILURES: %d" % fails if fails else "all ok")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
