#!/usr/bin/python3
"""Projection pushdown into the CSV scan (issue 17), differentially.

Many generated CSVs full of nasty quoting (delimiters, CR, LF, CRLF and doubled quotes inside
quoted fields, CR/LF/CRLF record ends, blank lines, no final line end) with bad records sprinkled
in (too few and too many fields, text after a closing quote, values that are not of their
column's type in needed and in unneeded columns, a quote left open at the end of the input, a
header whose last name is empty) go through `--where COL OP N --select ...` jobs with random
filter and output columns (so the last needed column is early, in the middle or the last one),
every --on-error mode, -j1 and -j2 with small splits, small batches and every scanner kind.

Each job runs twice: with the pushdown and with CSVAVRO_SCAN_ALL=1 (every field's offsets
stored, the reader as it was before the pushdown). Both must agree exactly: exit status,
stderr, the records (python3-avro) and the reject file's bytes. Independently, the kept records
(values through python3-avro) and the rejected ones (their byte offsets and columns, in input
order) must be what this file's own model of the CSV gives; the model's field texts are checked
against Python's csv module first. Under --on-error fail the error must name the first bad
record's line when that record is a structural one (the scanner reports those first).
"""
import csv, datetime, io, json, os, random, shutil, subprocess, sys, tempfile, warnings

warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader

BIN = os.environ["CSVAVRO_BIN"]
T = tempfile.mkdtemp(prefix="cav_pushdown_")
N_FILES = int(os.environ.get("PUSHDOWN_FILES", "24"))
fails = 0
checks = 0
rnd = random.Random(1717)
EPOCH = datetime.datetime(1970, 1, 1)

COLS = ["a", "s1", "b", "d", "s2", "ts", "c", "s3", "e", "s4"]
TYPES = {"a": "long", "b": "long", "c": "long", "e": "long", "d": "double",
         "ts": "local-timestamp", "s1": "string", "s2": "string", "s3": "string", "s4": "string"}
LONGS = ["a", "b", "c", "e"]
NC = len(COLS)


def check(name, cond, msg=""):
    global fails, checks
    checks += 1
    if not cond:
        fails += 1
        print(f"FAIL {name}: {msg}"[:3000])


# ------------------------------------------------------------------ the model of one file

PIECES = ["x", "y z", ",", "\n", "\r\n", "\r", '"', '""', ",\n,", "é", "-", "1", " "]


def rand_text():
    return "".join(rnd.choice(PIECES) for _ in range(rnd.randrange(0, 5)))


def quote(t):
    return '"' + t.replace('"', '""') + '"'


def enc_field(col, value):
    """CSV text of a good value: quoted when it must be, and now and then when it need not."""
    if value == "":
        return rnd.choice(["", "", "", '""']) if col.startswith("s") else ""
    if any(ch in value for ch in ',"\r\n') or rnd.random() < 0.05:
        return quote(value)
    return value


def good_value(col):
    t = TYPES[col]
    if rnd.random() < 0.04:
        return ""
    if t == "long":
        return str(rnd.randrange(-1000, 1000))
    if t == "double":
        return repr(rnd.uniform(-100, 100)) if rnd.random() < 0.7 else str(rnd.randrange(-50, 50))
    if t == "local-timestamp":
        d = datetime.datetime(2013, 1, 1) + datetime.timedelta(seconds=rnd.randrange(10**8))
        return d.strftime("%Y-%m-%d %H:%M:%S")
    return rand_text()


def bad_value(col):
    return rnd.choice(["x1", "1.5.2", "--3", "12a", "2013-13-45 99:99:99", "nan?"]) \
        if TYPES[col] != "string" else None


class Rec:
    """One record: its text (without line end), what is wrong with it, and its values."""

    def __init__(self):
        self.text = ""
        self.kind = "good"  # good, short, long, badquote, badvalue, open
        self.values = {}  # column -> text value (good columns)
        self.field_texts = []  # CSV texts of the fields, in order
        self.bad_col = None  # badvalue: the column
        self.bad_at = None  # badquote: index in text of the byte after the closing quote
        self.start = 0  # byte offset in the file


def make_file(path, rows, trailing_empty, eol_style, bad_rate):
    header = ",".join(COLS) + ("," if trailing_empty else "")
    recs = []
    for _ in range(rows):
        r = Rec()
        vals = {c: good_value(c) for c in COLS}
        texts = [enc_field(c, vals[c]) for c in COLS]
        x = rnd.random()
        if x < bad_rate:
            r.kind = "short"
            k = rnd.randrange(1, NC)
            texts = texts[:k]
            if texts == [""]:
                texts = ["7"]  # an empty line would be a blank line, not a record
        elif x < 2 * bad_rate:
            r.kind = "long"
            texts = texts + [enc_field("s1", rand_text() or "z") for _ in range(rnd.randrange(1, 4))]
            if trailing_empty and len(texts) == NC + 1 and texts[-1] in ("", '""'):
                texts[-1] = "z"  # an empty extra field is allowed under an empty header name
        elif x < 3 * bad_rate:
            r.kind = "badquote"
            k = rnd.randrange(NC)
            texts[k] = quote(vals[COLS[k]] or "q") + rnd.choice(["x", " ", "é"])
        elif x < 5 * bad_rate:
            col = rnd.choice([c for c in COLS if TYPES[c] != "string"])
            r.kind = "badvalue"
            r.bad_col = col
            vals[col] = bad_value(col)
            texts[COLS.index(col)] = vals[col] if rnd.random() < 0.8 else quote(vals[col])
        if trailing_empty and r.kind in ("good", "badvalue") and rnd.random() < 0.7:
            texts = texts + [""]  # (a quoted "" there is a ragged record)
        r.values = vals
        r.field_texts = texts
        r.text = ",".join(texts)
        if r.kind == "badquote":
            # the first byte after a closing quote that is neither a delimiter, a line end nor
            # a doubled quote (the generator made exactly one)
            pre = ",".join(texts[:k])
            r.bad_at = len(pre) + (1 if k else 0) + len(quote(vals[COLS[k]] or "q"))
        recs.append(r)
    if recs and rnd.random() < 0.15:
        # a quote left open at the end: the last record reads to the end of the input
        r = recs[-1]
        r.kind = "open"
        r.text = r.text + ',"never closed\n,x'
    eols = {"lf": ["\n"], "crlf": ["\r\n"], "cr": ["\r"], "mixed": ["\n", "\r\n", "\r"]}[eol_style]
    out = bytearray()
    out += header.encode() + rnd.choice(eols).encode()
    for i, r in enumerate(recs):
        if rnd.random() < 0.03:
            out += rnd.choice(["\n", "\r\n", "\n\n"]).encode()  # blank lines
        r.start = len(out)
        out += r.text.encode()
        last = i == len(recs) - 1
        if not last or (r.kind != "open" and rnd.random() < 0.6):
            out += rnd.choice(eols).encode()
    with open(path, "wb") as f:
        f.write(out)
    return bytes(out), recs


def byte_offset(r, char_index):
    """Byte offset in the file of character char_index of record r's text."""
    return r.start + len(r.text[:char_index].encode())


def field_start(r, k):
    """Character index in r.text of field k's first character."""
    return sum(len(t) + 1 for t in r.field_texts[:k])


def line_of(data, off):
    """1-based physical line of byte off: LF, CR and CRLF each end one line."""
    pre = data[:off]
    n = pre.count(b"\n") + pre.count(b"\r") - pre.count(b"\r\n")
    return n + 1


def python_cross_check(name, data, recs, trailing_empty):
    """Python's csv module reads the file's fields as the model wrote them (records without a
    closing-quote error or an open quote, which Python reads differently by design)."""
    if any(r.kind in ("badquote", "open") for r in recs):
        return
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    rows = [x for x in rows if x]  # blank lines
    body = rows[1:]
    want = []
    for r in recs:
        fields = [t[1:-1].replace('""', '"') if t.startswith('"') else t for t in r.field_texts]
        want.append(fields)
    check(f"{name}: Python's csv module reads the model's fields", body == want,
          f"{len(body)} rows vs {len(want)}")


# ------------------------------------------------------------------ expectations

def typed(col, text):
    t = TYPES[col]
    if t == "long":
        return int(text)
    if t == "double":
        return float(text)
    if t == "local-timestamp":
        d = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S") - EPOCH
        return (d.days * 86400 + d.seconds) * 10**6
    return text


def cell(r, col):
    """(is_null, value) of a column of a structurally good record as csvavro reads it."""
    k = COLS.index(col)
    t = r.field_texts[k]
    quoted = t.startswith('"')
    v = t[1:-1].replace('""', '"') if quoted else t
    if v == "" and (not quoted or TYPES[col] != "string"):
        return True, None
    return False, v


def expect(recs, where_col, op, n, select):
    """Kept records (dicts of typed values) and rejected ones ((offset, column or None)) in
    input order, under --on-error skip/reject; and the first bad record (for fail)."""
    kept, rejected = [], []
    for r in recs:
        if r.kind in ("short", "long", "open"):
            rejected.append((r.start, None))
            continue
        if r.kind == "badquote":
            rejected.append((byte_offset(r, r.bad_at), None))
            continue
        bad = r.bad_col

        def err(col):
            return (byte_offset(r, field_start(r, COLS.index(col))), col)

        if bad == where_col:
            rejected.append(err(bad))
            continue
        is_null, v = cell(r, where_col)
        if is_null:
            continue
        x = int(v)
        if not (x > n if op == ">" else x <= n):
            continue
        if bad in select:
            rejected.append(err(bad))
            continue
        rec = {}
        for c in select:
            is_null, v = cell(r, c)
            rec[c] = None if is_null else typed(c, v)
        kept.append(rec)
    return kept, rejected


def norm(v):
    if isinstance(v, datetime.datetime):
        d = v.replace(tzinfo=None) - EPOCH
        return (d.days * 86400 + d.seconds) * 10**6 + d.microseconds
    return v


def read_avro(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        rd = DataFileReader(f, DatumReader())
        rows = [{k: norm(v) for k, v in x.items()} for x in rd]
        rd.close()
    return rows


def run_job(csv_path, tag, args, env_extra):
    out = os.path.join(T, f"{tag}.avro")
    rej = os.path.join(T, f"{tag}.rej")
    for p in (out, rej):
        if os.path.exists(p):
            os.remove(p)
    env = dict(os.environ)
    env.pop("CSVAVRO_SCAN_ALL", None)
    env.update(env_extra)
    a = [BIN, "convert", csv_path, out, "-q", "--overwrite", *args]
    if "reject" in args:
        a += ["--reject-file", rej]
    p = subprocess.run(a, capture_output=True, env=env)
    rej_bytes = open(rej, "rb").read() if os.path.exists(rej) else None
    stderr = p.stderr.decode("utf-8", "replace").replace(tag, "TAG")
    return p.returncode, stderr, (read_avro(out) if p.returncode == 0 else None), rej_bytes


types_args = []
for c in COLS:
    types_args += ["--type", f"{c}={TYPES[c]}"]

for fi in range(N_FILES):
    rows = rnd.choice([40, 150, 600, 2500, 8000])
    trailing_empty = rnd.random() < 0.25
    eol = rnd.choice(["lf", "crlf", "cr", "mixed"])
    bad_rate = rnd.choice([0.0, 0.01, 0.04])
    path = os.path.join(T, f"f{fi}.csv")
    data, recs = make_file(path, rows, trailing_empty, eol, bad_rate)
    fname = f"file {fi} ({rows} rows, {eol}, bad {bad_rate}{', empty last name' if trailing_empty else ''})"
    python_cross_check(fname, data, recs, trailing_empty)
    for ji in range(3):
        where_col = rnd.choice(LONGS)
        op = rnd.choice([">", "<="])
        n = rnd.randrange(-800, 800)
        select = rnd.sample(COLS, rnd.randrange(1, 5))
        mode = rnd.choice(["skip", "reject", "fail"])
        args = ["--where", f"{where_col} {op} {n}", "--select", ",".join(select),
                "--on-error", mode, *types_args, "--batch-rows", str(rnd.choice([3, 64, 16384]))]
        if rnd.random() < 0.5:
            args += ["-j", "1"]
        else:
            args += ["-j", "2", "--split-size", str(rnd.choice([700, 3000, 20000]))]
        simd = rnd.choice([None, "scalar", "sse2", "avx2", "avx512", "vbmi2"])
        env = {"CSVAVRO_SIMD": simd} if simd else {}
        name = f"{fname} job {ji}: --where '{where_col} {op} {n}' --select {','.join(select)} " \
               f"--on-error {mode} {' '.join(args[-4:])} simd={simd or 'auto'}"
        got = run_job(path, f"p{fi}_{ji}", args, env)
        ref = run_job(path, f"a{fi}_{ji}", args, dict(env, CSVAVRO_SCAN_ALL="1"))
        check(f"{name}: pushdown == scan-all (status)", got[0] == ref[0], f"{got[0]} vs {ref[0]}")
        check(f"{name}: pushdown == scan-all (stderr)", got[1] == ref[1], f"{got[1]!r} vs {ref[1]!r}")
        check(f"{name}: pushdown == scan-all (records)", got[2] == ref[2], "records differ")
        check(f"{name}: pushdown == scan-all (reject file)", got[3] == ref[3], "reject files differ")
        kept, rejected = expect(recs, where_col, op, n, select)
        if mode == "fail":
            first = next((r for r in recs if r.kind != "good"), None)
            if not rejected:
                check(f"{name}: no bad record, exit 0", got[0] == 0, got[1])
            else:
                check(f"{name}: fails", got[0] != 0, "exit 0 with bad records")
            if rejected and first is not None and first.kind in ("short", "long", "badquote"):
                # the first bad record is structural: the scanner reports it before any value
                off = first.start if first.kind != "badquote" else byte_offset(first, first.bad_at)
                want = f":{line_of(data, off)}:"
                check(f"{name}: error at line {line_of(data, off)}", want in got[1], got[1])
            if got[0] == 0:
                check(f"{name}: records", got[2] == kept, f"{len(got[2] or [])} vs {len(kept)}")
            continue
        check(f"{name}: exit 0", got[0] == 0, got[1])
        if got[0] != 0:
            continue
        check(f"{name}: kept records equal the model's ({len(kept)})", got[2] == kept,
              f"{len(got[2])} vs {len(kept)}; first diff: " +
              str(next(((a, b) for a, b in zip(got[2], kept) if a != b), None)))
        if mode == "reject":
            lines = [json.loads(x) for x in (got[3] or b"").decode().splitlines()]
            have = [(x["offset"], x["column"]) for x in lines]
            check(f"{name}: rejected records equal the model's ({len(rejected)})",
                  have == rejected, f"{have[:5]} vs {rejected[:5]}")
            check(f"{name}: reject lines name the physical line",
                  all(x["line"] == line_of(data, x["offset"]) for x in lines), "line mismatch")

print(f"{checks} checks, {fails} failed")
if fails:
    print(f"(files kept in {T})")
else:
    shutil.rmtree(T, ignore_errors=True)
sys.exit(1 if fails else 0)
