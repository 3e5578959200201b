#!/usr/bin/python3
"""Issue 13 "Done means": exact splits of compressed inputs (src/io/io_chunks.c), checked
against Python's csv module and python3-avro read-back.

One CSV with quoted fields holding commas, quotes, LF and CRLF (some of them longer than a
whole bzip2 block, so that a split can lie entirely inside one record), converted from
  - bzip2 -1 (blocks of 100k: several blocks, boundaries inside records and quoted fields),
  - several bzip2 streams concatenated (end-of-stream marks inside the data),
  - zstd frames concatenated (cat a.zst b.zst ...),
  - a zstd seekable-format file (frames + the seek table, built here),
at many split sizes (tiny ones included: most splits then hold no block start) with -j 1 and
-j 2: every run must give exactly the csv module's rows in the file's order. --dry-run must
show the codec and the splits (frame counts that add up to the frames written). A single-frame
zstd stays one split. Damaged data (a flipped byte in a bzip2 block, a truncated zstd frame)
is a clear error, whatever the split.
"""
import csv, io, json, os, random, re, shutil, struct, subprocess, sys, tempfile, warnings

warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader

BIN = os.environ["CSVAVRO_BIN"]
for tool in ("bzip2", "zstd"):
    if not shutil.which(tool):
        print(f"skipped: {tool} not installed (scripts/deps.sh)")
        sys.exit(77)
SAN = os.environ.get("CSVAVRO_SANITIZE", "OFF") == "ON"
T = tempfile.mkdtemp()
fails = 0


def check(name, cond, msg=""):
    global fails
    if not cond:
        fails += 1
        print(f"FAIL {name}: {msg}")


def run(*args, code=0):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if p.returncode != code:
        raise AssertionError(f"{args}: exit {p.returncode}, want {code}\n{p.stderr}")
    return p


def read_rows(path):
    with open(path, "rb") as f:
        r = DataFileReader(f, DatumReader())
        # an empty field is null (csvavro's rule for an empty unquoted value)
        rows = [["" if v is None else v for v in x.values()] for x in r]
        r.close()
    return rows


# ---- the data: quoted newlines everywhere, a few fields longer than a bzip2 block
csv.field_size_limit(1 << 24)
rnd = random.Random(1313)
words = ["alpha", "beta", "gamma, delta", 'say "hi"', "x\ny", "crlf\r\ninside", "tab\there", ""]
n_rows = 2500 if SAN else 6000
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(["id", "name", "note", "count"])
for i in range(n_rows):
    if i in (700, 3100):  # a field longer than a 100k block, full of line ends
        note = "\n".join(f"line {k}, with a comma" for k in range(9000))
    else:
        note = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 40)))
    w.writerow([i, f"n{rnd.randint(0, 10**9)}", note, rnd.randint(-5, 10**6)])
text = buf.getvalue()
src = os.path.join(T, "data.csv")
with open(src, "w", newline="") as f:
    f.write(text)
expected = [[int(r[0]), r[1], r[2], int(r[3])] for r in list(csv.reader(io.StringIO(text)))[1:]]


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, cwd=T)


# ---- the compressed variants
sh("bzip2 -1 -c data.csv > one.csv.bz2")
sh("split -b 90001 data.csv part.")
parts = sorted(p for p in os.listdir(T) if p.startswith("part."))
sh("rm -f multi.csv.bz2 frames.csv.zst; for p in part.*; do bzip2 -1 -c $p >> multi.csv.bz2; "
   "zstd -q -c $p >> frames.csv.zst; done")
sh("zstd -q -c data.csv > single.csv.zst")

# the seekable format: frames of 64 KiB of input, then the seek table in a skippable frame
# (magic 0x184D2A5E, entries of compressed and decompressed size, footer: number of frames,
# descriptor, magic 0x8F92EAB1)
entries, blob = [], b""
raw = text.encode()
for k in range(0, len(raw), 65536):
    piece = raw[k:k + 65536]
    z = subprocess.run(["zstd", "-q", "-c"], input=piece, capture_output=True, check=True).stdout
    entries.append((len(z), len(piece)))
    blob += z
table = b"".join(struct.pack("<II", c, d) for c, d in entries)
table += struct.pack("<IBI", len(entries), 0, 0x8F92EAB1)
blob += struct.pack("<II", 0x184D2A5E, len(table)) + table
with open(os.path.join(T, "seekable.csv.zst"), "wb") as f:
    f.write(blob)

# ---- dry runs: codec, splits, frame counts
p = run("convert", os.path.join(T, "frames.csv.zst"), os.path.join(T, "o.avro"), "--dry-run",
        "--split-size", "20000")
lines = p.stdout.splitlines()
check("dry-run zstd input", any("zstd" in l and "splits at frame boundaries" in l for l in lines),
      p.stdout[:400])
nframes = sum(int(l.split("(")[1].split(",")[1].split()[0]) for l in lines
              if l.startswith("split ") and "frames" in l)
check("dry-run zstd frames", nframes == len(parts), f"{nframes} frames listed, {len(parts)} written")
p = run("convert", os.path.join(T, "one.csv.bz2"), os.path.join(T, "o.avro"), "--dry-run",
        "--split-size", "30000")
check("dry-run bzip2", "splits at block boundaries" in p.stdout and "block markers" in p.stdout,
      p.stdout[:400])
markers = sum(int(l.split("(")[1].split(",")[1].split()[0]) for l in p.stdout.splitlines()
              if l.startswith("split ") and "block markers" in l)
nblocks = subprocess.run(["bzip2", "-tvv", os.path.join(T, "one.csv.bz2")], capture_output=True,
                         text=True).stderr.count("[")
check("dry-run bzip2 blocks", markers == nblocks and markers >= 4,
      f"{markers} block markers listed, bzip2 -tvv counts {nblocks}")
p = run("convert", os.path.join(T, "single.csv.zst"), os.path.join(T, "o.avro"), "--dry-run",
        "--split-size", "1000")
check("single frame: one split", "1 split," in p.stdout and "one split" in p.stdout,
      p.stdout[:300])
p = run("convert", os.path.join(T, "seekable.csv.zst"), os.path.join(T, "o.avro"), "--dry-run",
        "--split-size", "20000")
check("seekable: splits", "splits at frame boundaries" in p.stdout, p.stdout[:300])

# ---- conversions at many split sizes
sizes = [333, 1000, 4096, 9999, 30000, 65537, 150000, 10**9]
if SAN:
    sizes = [1000, 9999, 65537, 10**9]
variants = ["one.csv.bz2", "multi.csv.bz2", "frames.csv.zst", "seekable.csv.zst"]
for v in variants:
    for k, ss in enumerate(sizes):
        for j in ("1", "2") if k % 2 == 0 else ("2",):
            out = os.path.join(T, "o.avro")
            try:
                run("convert", os.path.join(T, v), out, "--overwrite", "-q", "--split-size",
                    str(ss), "-j", j)
                got = read_rows(out)
            except AssertionError as e:
                check(f"{v} {ss} -j{j}", False, str(e)[:500])
                continue
            same = got == expected
            if not same:
                bad = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                           min(len(got), len(expected)))
                check(f"{v} split {ss} -j{j}", False,
                      f"{len(got)} rows, want {len(expected)}; first difference at row {bad}")

# split sizes below the first block's offset (byte 4): the first range holds no block, its
# header position lies in a later range's bytes; and a header cut over several zstd frames
sbuf = io.StringIO()
sw = csv.writer(sbuf, lineterminator="\n")
sw.writerow(["id", "name", "note", "count"])
sw.writerows(expected[:300])
small, small_rows = sbuf.getvalue(), expected[:300]
open(os.path.join(T, "small.csv"), "w", newline="").write(small)
sh("bzip2 -1 -c small.csv > small.csv.bz2")
sh("head -c 5 small.csv | zstd -q -c > hdr.csv.zst; tail -c +6 small.csv | head -c 20 | "
   "zstd -q -c >> hdr.csv.zst; tail -c +26 small.csv | zstd -q -c >> hdr.csv.zst")
for v, ss in (("small.csv.bz2", "1"), ("small.csv.bz2", "3"), ("small.csv.bz2", "5"),
              ("hdr.csv.zst", "1"), ("hdr.csv.zst", "10")):
    out = os.path.join(T, "o.avro")
    run("convert", os.path.join(T, v), out, "--overwrite", "-q", "--split-size", ss, "-j", "2")
    got = read_rows(out)
    check(f"{v} split {ss}", got == small_rows, f"{len(got)} rows, want {len(small_rows)}")

# per-split output files: in split order they hold the same rows (empty splits included)
d = os.path.join(T, "parts")
run("convert", os.path.join(T, "one.csv.bz2"), d + "/p.*.avro", "-q", "--split-size", "9999")
files = sorted(os.listdir(d), key=lambda s: int(s.split(".")[1]) if s.startswith("p.") else -1)
got = [r for f in files if f.endswith(".avro") for r in read_rows(os.path.join(d, f))]
check("per-split files", got == expected, f"{len(got)} rows, want {len(expected)}")

# ---- damage: a clear error whatever the split
data = bytearray(open(os.path.join(T, "one.csv.bz2"), "rb").read())
data[len(data) // 2] ^= 0x40
open(os.path.join(T, "bad.csv.bz2"), "wb").write(bytes(data))
for ss in ("5000", "1000000000"):
    p = run("convert", os.path.join(T, "bad.csv.bz2"), os.path.join(T, "o.avro"), "--overwrite",
            "-q", "--split-size", ss, code=1)
    check(f"corrupt bzip2 ({ss})", "bzip2" in p.stderr and "bad.csv.bz2" in p.stderr, p.stderr)
data = open(os.path.join(T, "frames.csv.zst"), "rb").read()
open(os.path.join(T, "cut.csv.zst"), "wb").write(data[:-7])
for ss in ("5000", "1000000000"):
    p = subprocess.run([BIN, "convert", os.path.join(T, "cut.csv.zst"), os.path.join(T, "o.avro"),
                        "--overwrite", "-q", "--split-size", ss], capture_output=True, text=True)
    check(f"truncated zstd ({ss})", p.returncode != 0 and "zstd" in p.stderr and
          "truncated" in p.stderr, p.stderr)

# a bad record deep inside: the error names the line and byte offset of the whole input
bad_text = text.replace("\n2200,", "\n2200,extra,", 1)
assert bad_text != text
open(os.path.join(T, "badrec.csv"), "w", newline="").write(bad_text)
sh("bzip2 -1 -c badrec.csv > badrec.csv.bz2")
want = subprocess.run([BIN, "convert", os.path.join(T, "badrec.csv"), os.path.join(T, "o.avro"),
                       "--overwrite", "-q", "--split-size", "1000000000"], capture_output=True,
                      text=True).stderr
p = run("convert", os.path.join(T, "badrec.csv.bz2"), os.path.join(T, "o.avro"), "--overwrite",
        "-q", "--split-size", "7000", code=1)
loc = lambda s: (re.search(r"csv(?:\.bz2)?:(\d+):", s), re.search(r"byte (\d+)", s))
(wl, wb), (gl, gb) = loc(want), loc(p.stderr)
check("bad record: line and byte", wl and wb and gl and gb and wl.group(1) == gl.group(1) and
      wb.group(1) == gb.group(1), f"{p.stderr.strip()} vs {want.strip()}")

shutil.rmtree(T)
print(f"compressed_splits: {len(variants)} inputs x {len(sizes)} split sizes, {fails} failures")
sys.exit(1 if fails else 0)
