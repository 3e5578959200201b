#!/usr/bin/python3
"""Issue 13 "Headers and values", checked against Python's csv module and python3-avro:
  - header names trimmed of ASCII whitespace (the original text in csvavro.header); --select,
    --where, --rename and --type take the trimmed name; did-you-mean for unknown names;
  - --skip-initial-space = csv.reader(skipinitialspace=True), quoted fields after spaces too;
  - --trim strips spaces/tabs around unquoted values;
  - a trailing column with an empty header name (green-taxi files) is dropped with a note, on
    the SIMD and the scalar scanner, at several split sizes; a value in it is an error;
    --keep-empty-columns keeps it.
"""
import csv, datetime, json, os, random

from readback import T, check, finish, read, run

rnd = random.Random(7)
# 1. spaces after commas in the header and in values; quoted values after the spaces
p = os.path.join(T, "sp.csv")
with open(p, "w", newline="") as f:
    f.write("id, name, city , n\r\n")
    for i in range(3000):
        name = rnd.choice(['alpha', '"be, ta"', '"ga\r\nmma"', 'delta ', ''])
        f.write(f"{i}, {name},  {rnd.choice(['x', 'y z', ''])}, {rnd.randrange(100)}\r\n")
exp = list(csv.reader(open(p, newline=""), skipinitialspace=True))
hdr = [h.strip() for h in exp[0]]
for extra in ([], ["--split-size", "4K", "-j", "2"]):
    out = os.path.join(T, "sp.avro")
    run("convert", p, out, "--skip-initial-space", "--overwrite", "-q", "--type", "n=string",
        "--type", "id=string", *extra)
    sch, rows = read(out)
    check(f"skip-initial-space names {extra}", [f["name"] for f in sch["fields"]] == hdr, sch)
    got = [[r[h] if r[h] is not None else "" for h in hdr] for r in rows]
    check(f"skip-initial-space rows {extra}", got == exp[1:], f"{got[:3]} vs {exp[1:4]}")

# 2. --trim (unquoted values), --select/--where/--rename/--type by the trimmed names
p = os.path.join(T, "tr.csv")
with open(p, "w", newline="") as f:
    f.write(" id ,\tcode\t, qty\n")
    for i in range(500):
        f.write(f"{i} ,\t{rnd.choice(['a', 'b b', ''])} , {rnd.randrange(10)}\n")
exp = [[c.strip(" \t") for c in r] for r in csv.reader(open(p, newline=""))]
out = os.path.join(T, "tr.avro")
run("convert", p, out, "--trim", "--overwrite", "-q", "--select", "qty,code,id", "--where",
    "qty > 4", "--rename", "code=c", "--type", "qty=int")
sch, rows = read(out)
check("trim names", [f["name"] for f in sch["fields"]] == ["qty", "c", "id"], sch)
check("trim original text kept", [f.get("csvavro.header") for f in sch["fields"]] == [" qty", "\tcode\t", " id "], sch)
want = [[int(r[2]), r[1] or None, int(r[0])] for r in exp[1:] if int(r[2]) > 4]
got = [[r["qty"], r["c"], r["id"]] for r in rows]
check("trim rows", got == want, f"{got[:3]} vs {want[:3]}")
e = run("convert", p, out, "--trim", "--overwrite", "--select", "qtty", code=1).stderr
check("did you mean --select", 'did you mean "qty"' in e, e)
e = run("convert", p, out, "--trim", "--overwrite", "--rename", "cde=x", code=1).stderr
check("did you mean --rename", 'did you mean "code"' in e, e)
e = run("schema", p, "--type", "qtx=int", code=2).stderr
check("did you mean --type", "did you mean 'qty'" in e, e)

# 3. trailing empty column: dropped with a note; SIMD and scalar scanners; several splits
p = os.path.join(T, "green.csv")
with open(p, "w", newline="") as f:
    f.write("VendorID,lpep_pickup_datetime,Trip_type ,\r\n")
    for i in range(20000):
        f.write(f"{i % 2 + 1},2015-01-{i % 28 + 1:02d} 00:00:{i % 60:02d},{'' if i % 7 == 0 else i % 3},\r\n")
exp = list(csv.reader(open(p, newline="")))
for env in ({}, {"CSVAVRO_SIMD": "scalar"}):
    for extra in ([], ["--split-size", "16K", "-j", "2"]):
        out = os.path.join(T, "g.avro")
        pr = run("convert", p, out, "--overwrite", *extra, env=env)  # exit 0 asserted
        check(f"trailing empty note {env} {extra}",
              "the last header column has no name: dropped" in pr.stderr, pr.stderr)
        sch, rows = read(out)
        check(f"trailing empty schema {env} {extra}",
              [f["name"] for f in sch["fields"]] == ["VendorID", "lpep_pickup_datetime", "Trip_type"], sch)
        got = [[str(r["VendorID"]), "" if r["Trip_type"] is None else str(r["Trip_type"])] for r in rows]
        want = [[r[0], r[2]] for r in exp[1:]]
        check(f"trailing empty rows {env} {extra}", got == want and all(r[3] == "" for r in exp[1:]))
out = os.path.join(T, "g.avro")
run("convert", p, out, "--overwrite", "-q", "--keep-empty-columns")
sch, rows = read(out)
check("keep-empty-columns", len(sch["fields"]) == 4 and all(r["_"] is None for r in rows), sch)
bad = os.path.join(T, "bad.csv")
with open(bad, "w") as f:
    f.write("a,b,\n1,2,\n3,4,oops\n")
e = run("convert", bad, out, "--overwrite", code=1).stderr
check("value in the dropped column is an error", "bad.csv:3:" in e and "3 fields, expected 2" in e, e)

# 4. --timestamps: the inferred naive timestamps as timestamp-millis/-micros (text taken as UTC)
# or string; default local-timestamp-micros
p = os.path.join(T, "ts.csv")
with open(p, "w") as f:
    f.write("t,n\n2013-01-01 15:11:48,1\n2013-01-13 04:36:00.25,2\n")
want_ms = [int((datetime.datetime.strptime(x, fmt) - datetime.datetime(1970, 1, 1)) / datetime.timedelta(milliseconds=1))
           for x, fmt in (("2013-01-01 15:11:48", "%Y-%m-%d %H:%M:%S"), ("2013-01-13 04:36:00.25", "%Y-%m-%d %H:%M:%S.%f"))]
for choice, logical, scale in (("timestamp-millis", "timestamp-millis", 1), ("timestamp-micros", "timestamp-micros", 1000),
                               (None, "local-timestamp-micros", 1000), ("string", None, None)):
    out = os.path.join(T, "ts.avro")
    run("convert", p, out, "--overwrite", "-q", *(["--timestamps", choice] if choice else []))
    sch, recs = read(out)
    ft = sch["fields"][0]["type"]
    ft = [x for x in ft if x != "null"][0] if isinstance(ft, list) else ft
    got_logical = ft.get("logicalType") if isinstance(ft, dict) else None
    check(f"--timestamps {choice} type", got_logical == logical and (logical or ft == "string"), ft)
    vals = [json.loads(x) for x in run("cat", out).stdout.splitlines()]
    if scale:
        # csvavro cat prints the instant as text; check the raw numbers python3-avro reads
        raw = [x["t"] for x in recs]
        num = [int((x.replace(tzinfo=None) - datetime.datetime(1970, 1, 1)) / datetime.timedelta(microseconds=1)) if isinstance(x, datetime.datetime) else x for x in raw]
        check(f"--timestamps {choice} values", num == [m * 1000 for m in want_ms] if scale == 1000 or logical == "timestamp-millis" else False, f"{num} vs {want_ms}")
    else:
        check("--timestamps string values", [v["t"] for v in vals] == ["2013-01-01 15:11:48", "2013-01-13 04:36:00.25"], vals)
e = run("convert", p, out, "--timestamps", "date", code=2).stderr
check("--timestamps bad value", "--timestamps must be" in e, e)

finish()
