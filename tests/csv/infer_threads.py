#!/usr/bin/python3
"""Schema inference on two threads (issue 17, csv_infer.c): with -j >= 2 a helper thread samples
the second half of an input's windows while the planning thread samples the first half, and the
two states are joined. The schema must be the one-thread one, and both must be what the rules of
docs/input.md give for the planted values (this test's own model: a lattice join over the
classes of the values each region holds).

Inputs of ~6 MB (sampled in 8 windows; under 4 MiB the first rows are read, on one thread):
every column holds one kind of value in the first 55% of the rows (the windows of the planning
thread) and another in the last 45% (the helper's windows), e.g. longs then doubles, dates then
timestamps, longs then booleans, nothing then longs. The first column is a quoted text with line
breaks, so windows start inside quoted fields (their first rows are bogus: ragged rows are
skipped, the others only add strings to the string column). Variants: LF and CRLF, the default
sample and --infer-rows 800 (windows of ~100 rows), -j 2 and -j 3, and `csvavro schema` (the
public API, one thread).
"""
import csv, io, json, os, random, re, subprocess, sys, tempfile

BIN = os.environ["CSVAVRO_BIN"]
T = tempfile.mkdtemp()
rnd = random.Random(41)
ROWS = 48000

# class of each planted kind (docs/input.md); the model's join
KIND = {
    "long": lambda: str(rnd.randint(-10**9, 10**9)),
    "double": lambda: "%.4f" % (rnd.random() * 1000),
    "date": lambda: "20%02d-%02d-%02d" % (rnd.randint(0, 30), rnd.randint(1, 12), rnd.randint(1, 28)),
    "local_ts": lambda: "2013-%02d-%02d %02d:%02d:%02d"
    % (rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59)),
    "instant": lambda: "2013-%02d-%02dT%02d:%02d:%02dZ"
    % (rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59)),
    "bool": lambda: rnd.choice(["true", "false"]),
    "ovf": lambda: str(10**19 + rnd.randint(0, 10**18)),  # all digits, over int64: a string
    "text": lambda: rnd.choice(["abc", "x y", "12a", "-"]),
    "null": lambda: "",
}
CLASS = {"long": "long", "double": "double", "date": "date", "local_ts": "local_ts",
         "instant": "instant", "bool": "bool", "ovf": "string", "text": "string", "null": None}
AVRO = {"long": "long", "double": "double", "date": "date", "local_ts": "local-timestamp-micros",
        "instant": "timestamp-micros", "bool": "boolean", "string": "string", None: "string"}


def join(a, b):
    if a is None or a == b:
        return b
    if b is None:
        return a
    if {a, b} == {"long", "double"}:
        return "double"
    if {a, b} == {"date", "local_ts"}:
        return "local_ts"
    return "string"


# (first region, second region) per column: transitions that widen, that fall to string, and
# classes seen only by one thread
COLS = [("long", "double"), ("double", "long"), ("date", "local_ts"), ("local_ts", "date"),
        ("long", "bool"), ("null", "long"), ("long", "null"), ("null", "null"),
        ("local_ts", "instant"), ("long", "ovf"), ("bool", "bool"), ("instant", "instant"),
        ("date", "long"), ("null", "date"), ("double", "text"), ("long", "long")]


def quoted_text():
    return rnd.choice(["a\nb", "line\r\nbreak", "plain", "x\ny\nz", ""]) + "!" * rnd.randint(0, 40)


def write(path, eol):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator=eol, quoting=csv.QUOTE_MINIMAL)
        w.writerow(["note"] + ["c%d_%s_%s" % (i, a, b) for i, (a, b) in enumerate(COLS)])
        for r in range(ROWS):
            second = r >= ROWS * 55 // 100
            w.writerow([quoted_text()] + [KIND[b if second else a]() for a, b in COLS])


def expected():
    types = {"note": "string"}
    for i, (a, b) in enumerate(COLS):
        types["c%d_%s_%s" % (i, a, b)] = AVRO[join(CLASS[a], CLASS[b])]
    return types


def field_types(schema):
    out = {}
    for fl in schema["fields"]:
        t = fl["type"]
        if isinstance(t, list):
            t = [x for x in t if x != "null"][0]
        if isinstance(t, dict):
            t = t.get("logicalType", t["type"])
        out[fl["name"]] = t
    return out


def plan_schema(path, *opts):
    p = subprocess.run([BIN, "convert", path, os.path.join(T, "out.avro"), "--dry-run", *opts],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("FAIL: convert --dry-run %s: %s" % (" ".join(opts), p.stderr))
    return json.loads(p.stdout[p.stdout.index("\nschema:\n") + 9:])


failures = 0
want = expected()
for eol in ("\n", "\r\n"):
    path = os.path.join(T, "in.csv")
    write(path, eol)
    assert os.path.getsize(path) > 5 << 20, os.path.getsize(path)
    for sample in ([], ["--infer-rows", "800"]):
        one = plan_schema(path, "-j", "1", *sample)
        p = subprocess.run([BIN, "schema", path, *sample], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("FAIL: schema: " + p.stderr)
        runs = {"-j 1": one, "schema": json.loads(p.stdout)}
        for j in ("2", "3"):
            runs["-j " + j] = plan_schema(path, "-j", j, *sample)
        for name, s in runs.items():
            if s != one:
                print("FAIL %r %s %s: the schema differs from -j 1:\n%s\n%s"
                      % (eol, sample, name, json.dumps(s), json.dumps(one)))
                failures += 1
            got = field_types(s)
            if got != want:
                bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
                print("FAIL %r %s %s: types (got, expected): %s" % (eol, sample, name, bad))
                failures += 1
subprocess.run(["rm", "-rf", T])
if failures:
    sys.exit(1)
print("OK: %d columns, LF and CRLF, two sample sizes, -j 1/2/3 and `schema` agree with the model"
      % (len(COLS) + 1))
