#!/usr/bin/python3
"""The conversion's fast paths (issue 17) against Python's csv module, datetime and python3-avro:
  - the per-batch ASCII check that replaces the per-field UTF-8 check: files where most batches
    are pure ASCII and a few rows, anywhere, hold valid multi-byte UTF-8 or invalid bytes (bare,
    quoted, with doubled quotes) in a string column; under --on-error skip exactly the rows
    whose field is not UTF-8 (bytes.decode) are dropped, every kept value equals Python's;
    under --on-error fail the error names the first such row's line and column;
  - the typed loops of every column type (long, int, double, boolean, date, local timestamp,
    timestamp with a zone, string): values equal Python's int(), float(), the date and
    datetime arithmetic of the datetime module; empty fields null; quoted values and values
    that are not of the column's type take the slow path and give the same values or errors;
  - schema inference (the classification shortcuts) on the same files: the inferred Avro type
    of each column is the one the rules of docs/input.md give for its values (Python regexes
    and datetime, independent of csvavro's parsers).
Runs at -j1 and at -j2 with small splits (batches and splits end in different places).
"""
import csv, datetime, io, os, random, re, subprocess, sys

# the shared read-back helpers of the input tests: T (removed at exit), check, read, finish
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "input"))
from readback import BIN, T, check, finish, read  # noqa: E402

rnd = random.Random(17)
EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_Z = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True)


def rand_double():
    k = rnd.randrange(6)
    if k == 0:
        return str(rnd.randrange(-10**6, 10**6))  # an integer in a double column
    if k == 1:
        return f"{rnd.uniform(-1e5, 1e5):.{rnd.randrange(0, 8)}f}"
    if k == 2:
        return repr(rnd.uniform(-1, 1) * 10**rnd.randrange(-30, 30))
    if k == 3:
        return f"{rnd.randrange(1, 10**rnd.randrange(1, 25))}e{rnd.randrange(-340, 310)}"
    if k == 4:
        return "." + str(rnd.randrange(10**6))
    return f"{rnd.uniform(-1e3, 1e3):.17g}"


def rand_dt():
    return datetime.date(1, 1, 1) + datetime.timedelta(days=rnd.randrange(3652058))


def rand_ts(frac):
    d = rand_dt()
    s = f"{d.isoformat()} {rnd.randrange(24):02}:{rnd.randrange(60):02}:{rnd.randrange(60):02}"
    if frac:
        s += "." + "".join(rnd.choice("0123456789") for _ in range(rnd.randrange(1, 7)))
    return s


def rand_str(bad_rate):
    x = rnd.random()
    if x < bad_rate:
        return rnd.choice([b"\xff", b"ab\xc3", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                           b"x\x80y", b"\xe2\x82"])
    if x < 2 * bad_rate:
        return rnd.choice(["é", "日本語", "ü-x", "€", "🎉ok"]).encode()
    n = rnd.randrange(0, 12)
    return "".join(rnd.choice("abcdefghij ,\"'-") for _ in range(n)).encode()


def field(b, quote_rate=0.05):
    """CSV text of bytes b: quoted when needed or at random."""
    if b == b"":
        return b""
    if any(c in b for c in b',"\r\n') or rnd.random() < quote_rate:
        return b'"' + b.replace(b'"', b'""') + b'"'
    return b


# m and m2: longs of every varint length (1..10 bytes), one early in the record and one last
# (the Avro writer stores short varints with one 8-byte store when later fields follow)
def rand_magnitude():
    """a long of a random bit length 0..63, either sign, +-2 around the power of two"""
    if rnd.random() < 0.02:
        return ""
    v = rnd.choice([-1, 1]) * (2**rnd.randrange(64) + rnd.randrange(-2, 3))
    return str(max(-2**63, min(2**63 - 1, v)))


COLS = ["i", "m", "n32", "d", "b", "dt", "ts", "tz", "s", "m2"]
S_AT = COLS.index("s")


def gen(path, rows, bad_rate):
    """One row in about 1/bad_rate has a non-UTF-8 string; typed columns stay valid."""
    with open(path, "wb") as f:
        f.write((",".join(COLS) + "\n").encode())
        for _ in range(rows):
            i = "" if rnd.random() < 0.02 else str(rnd.randrange(-2**63, 2**63))
            n32 = str(rnd.randrange(-2**31, 2**31))
            d = "" if rnd.random() < 0.02 else rand_double()
            b = rnd.choice(["true", "false", "TRUE", "False"])
            dt = "" if rnd.random() < 0.02 else rand_dt().isoformat()
            ts = rand_ts(rnd.random() < 0.3)
            tz = rand_ts(rnd.random() < 0.3) + rnd.choice(["Z", "+01:00", "-05:30", "+00:00"])
            s = rand_str(bad_rate)
            m, m2 = rand_magnitude(), rand_magnitude()
            vals = ([field(v.encode()) for v in (i, m, n32, d, b, dt, ts, tz)] + [field(s)] +
                    [field(m2.encode())])
            f.write(b",".join(vals) + b"\n")


def expected(path):
    """Python's view: rows (bytes) and whether each one's string is valid UTF-8."""
    with open(path, "rb") as f:
        data = f.read()
    txt = data.decode("latin-1")  # byte-preserving
    rows = list(csv.reader(io.StringIO(txt, newline="")))
    hdr, body = rows[0], rows[1:]
    out = []
    for r in body:
        raw = [c.encode("latin-1") for c in r]
        try:
            raw[S_AT].decode("utf-8")
            ok = True
        except UnicodeDecodeError:
            ok = False
        out.append((raw, ok))
    return hdr, out


def ts_micros(s, zone):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(.*)", s)
    d = datetime.date.fromisoformat(m.group(1))
    us = int((m.group(5) or "0").ljust(6, "0"))
    t = datetime.datetime(d.year, d.month, d.day, int(m.group(2)), int(m.group(3)),
                          int(m.group(4)), us)
    z = m.group(6)
    if zone:
        off = datetime.timedelta(0)
        if z and z != "Z":
            sign = 1 if z[0] == "+" else -1
            off = sign * datetime.timedelta(hours=int(z[1:3]), minutes=int(z[4:6]))
        t = t.replace(tzinfo=datetime.timezone(off))
        delta = t - EPOCH_Z
    else:
        delta = t - EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds


def value_of(col, b):
    """The expected Avro value (as python3-avro returns it) of CSV text b in column col."""
    s = b.decode("utf-8")
    if s == "":
        return None  # the empty unquoted field (field() never quotes an empty one)
    if col == "s":
        return s
    if col in ("i", "n32", "m", "m2"):
        return int(s)
    if col == "d":
        return float(s)
    if col == "b":
        return s.lower() == "true"
    if col == "dt":
        return datetime.date.fromisoformat(s)
    return ts_micros(s, col == "tz")


def norm(col, v):
    """python3-avro's value in comparable form (timestamps as micros since the epoch)."""
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            d = v - EPOCH
        else:
            d = v - EPOCH_Z
        return (d.days * 86400 + d.seconds) * 10**6 + d.microseconds
    return v


def avro_types(sch):
    out = {}
    for f in sch["fields"]:
        t = f["type"]
        if isinstance(t, list):
            t = [x for x in t if x != "null"][0]
        if isinstance(t, dict):
            t = t.get("logicalType", t["type"])
        out[f["name"]] = t
    return out


# Inference rules (docs/input.md), independent of csvavro's parsers: the widest class of the
# column's non-empty values.
LONG = re.compile(r"[+-]?\d+")
DOUBLE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
TS = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)?")


def classify(s):
    if LONG.fullmatch(s):
        return "long" if -2**63 <= int(s) < 2**63 else "string"
    if DOUBLE.fullmatch(s):
        return "double"
    if s.lower() in ("true", "false"):
        return "boolean"
    if re.fullmatch(r"\d{4}-\d\d-\d\d", s):
        try:
            datetime.date.fromisoformat(s)
            return "date"
        except ValueError:
            return "string"
    if TS.fullmatch(s):
        try:
            ts_micros(s, True)
        except ValueError:
            return "string"
        return "timestamp-micros" if s[19:].lstrip(".0123456789") else "local-timestamp-micros"
    return "string"


def join(a, b):
    if a is None or a == b:
        return b
    pair = {a, b}
    if pair == {"long", "double"}:
        return "double"
    if pair == {"date", "local-timestamp-micros"}:
        return "local-timestamp-micros"
    return "string"


def infer_expected(rows):
    cls = {c: None for c in COLS}
    for raw, _ in rows:
        for c, b in zip(COLS, raw):
            if b == b"":
                continue
            try:
                s = b.decode("utf-8")
            except UnicodeDecodeError:
                s = "\x00"
            cls[c] = join(cls[c], classify(s))
    return {c: (v or "string") for c, v in cls.items()}


def compare(name, path, out, rows, extra):
    p = run("convert", path, out, "-q", "--overwrite", "--on-error", "skip", "--infer-rows",
            "all", "--type", "n32=int", *extra)
    if p.returncode != 0:
        check(name, False, p.stderr.decode("utf-8", "replace"))
        return
    sch, got = read(out)
    want_types = infer_expected(rows)
    want_types["n32"] = "int"
    check(f"{name}: inferred types", avro_types(sch) == want_types,
          f"{avro_types(sch)} != {want_types}")
    want = [raw for raw, ok in rows if ok]
    check(f"{name}: rows kept ({len(want)} of {len(rows)})", len(got) == len(want),
          f"{len(got)} != {len(want)}")
    bad = 0
    for k, (raw, rec) in enumerate(zip(want, got)):
        for c, b in zip(COLS, raw):
            e, g = value_of(c, b), norm(c, rec[c])
            if e != g or type(e) != type(g):
                bad += 1
                if bad <= 5:
                    print(f"  row {k} column {c}: text {b!r} expected {e!r} got {g!r}")
    check(f"{name}: every value equal to Python's", bad == 0, f"{bad} differences")


for label, rows_n, bad_rate in (("mostly-ascii", 30000, 0.0004), ("dense", 5000, 0.05),
                                ("ascii-only", 12000, 0.0)):
    path = os.path.join(T, f"{label}.csv")
    gen(path, rows_n, bad_rate)
    _, rows = expected(path)
    for extra in ([], ["-j", "2", "--split-size", "64K"]):
        compare(f"{label} {' '.join(extra) or '-j1'}", path, os.path.join(T, f"{label}.avro"),
                rows, ["-j", "1"] + extra if not extra else extra)
    # --on-error fail: the first row whose string is not UTF-8, by line and column
    first = next((k for k, (_, ok) in enumerate(rows) if not ok), None)
    p = run("convert", path, os.path.join(T, "fail.avro"), "-q", "--overwrite", "-j", "1",
            "--type", "s=string")
    err = p.stderr.decode("utf-8", "replace")
    if first is None:
        check(f"{label}: no bad row, exit 0", p.returncode == 0, err)
    else:
        # no quoted newlines are generated: record k is on line k + 2
        check(f"{label}: fails at line {first + 2}, column s",
              p.returncode != 0 and f":{first + 2}:" in err and "UTF-8" in err and f"column {S_AT + 1} (s)" in err,
              err)

finish()
