#!/usr/bin/python3
"""Issue 13 "Schema contract", checked against Python's csv module and python3-avro:
  - --schema FILE.avsc maps fields to CSV columns by name (trimmed header text, the Avro name
    of the header, the csvavro.header attribute); records follow the schema's field order;
    a field the CSV lacks takes its default (null in a union, long, double, string, boolean,
    date, timestamp-millis, bytes, bytes and fixed decimals); no default: an error naming the
    field and the input before any output; an extra CSV column is dropped with a note naming
    it, --strict-schema makes it an error; --no-header maps by position; a bad value names
    line, column and value; several splits and threads;
  - inputs whose headers differ: the error names both files and the added / removed / renamed
    (or reordered) columns; --union-by-name over three TLC-style headers (2013 with spaces
    after commas, 2015, 2019 with a trailing empty column): columns unioned in first-seen
    order, types widened (long+double -> double, long+string -> string), missing values null,
    -j 2 with small splits; `csvavro schema --union-by-name` gives the same schema;
  - --dry-run prints the mapping (text, and JSON per input);
  - a --schema field's Avro "aliases" name the column in other years' headers.
"""
import csv, datetime, json, os
from decimal import Decimal

from readback import T, check, finish, read, run


def path(name):
    return os.path.join(T, name)


def write_csv(name, header, rows, trailing=""):
    with open(path(name), "w", newline="") as f:
        f.write(header + trailing + "\n")
        w = csv.writer(f, lineterminator=trailing + "\n")
        for r in rows:
            w.writerow(r)
    return path(name)


EPOCH = datetime.datetime(1970, 1, 1)


def micros(text):
    d = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return (d - EPOCH) // datetime.timedelta(microseconds=1)


# ---------------------------------------------------------------- 1. --schema by name
N = 3000
src_rows = []
for i in range(N):
    src_rows.append([str(i), f"name {i}" if i % 7 else "", f"{i % 100}.{i % 10}5",
                     f"2024-01-{1 + i % 28:02d} 0{i % 10}:00:00", "x" * (i % 3)])
# spaces around the header names; "fare amount" becomes fare_amount; "extra" is not in the schema
src = write_csv("trips.csv", " id , name,fare amount,pickup,extra", src_rows)
avsc = path("trips.avsc")
fields = [
    {"name": "fare_amount", "type": "double"},
    {"name": "pickup", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "id", "type": "long"},
    {"name": "tip", "type": ["null", "double"], "default": None},
    {"name": "tolls", "type": "double", "default": 1.25},
    {"name": "rate_code", "type": "long", "default": 99},
    {"name": "small", "type": "int", "default": -7},
    {"name": "flag", "type": "string", "default": "N, \"quoted\" é"},
    {"name": "ok", "type": "boolean", "default": False},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}, "default": 19723},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"},
     "default": 1700000000123},
    {"name": "raw", "type": "bytes", "default": "\u0000\u00ffA"},
    {"name": "fee", "type": {"type": "bytes", "logicalType": "decimal", "precision": 8,
                             "scale": 2}, "default": "\u00fa"},  # 0xfa = -6 -> -0.06
    {"name": "fee16", "type": {"type": "fixed", "name": "D4", "size": 4, "logicalType": "decimal",
                               "precision": 9, "scale": 3},
     "default": "\u0000\u0000\u0004\u00d2"},  # 1234 -> 1.234
    {"name": "name", "type": ["null", "string"], "default": None},
]
json.dump({"type": "record", "name": "Trip", "fields": fields}, open(avsc, "w"))
want_names = [f["name"] for f in fields]


def expect_row(r):
    ident, name, fare, pickup = int(r[0]), r[1], float(r[2]), micros(r[3])
    return {"fare_amount": fare,
            "pickup": datetime.datetime.fromtimestamp(pickup / 1e6, datetime.timezone.utc),
            "id": ident, "tip": None, "tolls": 1.25, "rate_code": 99, "small": -7,
            "flag": "N, \"quoted\" é", "ok": False, "day": datetime.date(2024, 1, 1),
            "ts": datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, datetime.timezone.utc),
            "raw": b"\x00\xffA", "fee": Decimal("-0.06"), "fee16": Decimal("1.234"),
            "name": name if name else None}


exp = [expect_row(r) for r in list(csv.reader(open(src, newline="")))[1:]]
for extra in ([], ["--split-size", "16K", "-j", "2"]):
    out = path("trips.avro")
    p = run("convert", src, out, "--schema", avsc, "--overwrite", "--progress", "none", *extra)
    sch, rows = read(out)
    check(f"records in the schema's field order {extra}",
          [f["name"] for f in sch["fields"]] == want_names and list(rows[0]) == want_names,
          [f["name"] for f in sch["fields"]])
    rows.sort(key=lambda x: x["id"])
    bad = [(a, b) for a, b in zip(rows, exp) if a != b]
    check(f"values by name and defaults == Python csv {extra}", rows == exp,
          f"{len(rows)} vs {len(exp)}; first {bad[:1]}")
    check(f"the extra column is dropped with a note naming it {extra}",
          "note:" in p.stderr and '"extra"' in p.stderr and "dropped" in p.stderr, p.stderr)

# the mapping on --dry-run
p = run("convert", src, path("dry.avro"), "--schema", avsc, "--dry-run")
check("--dry-run shows field <- column and defaults",
      'fare_amount <- column 3 "fare amount"' in p.stdout and "id <- column 1" in p.stdout
      and "tolls <- default 1.25" in p.stdout and '(dropped) column 5 "extra"' in p.stdout,
      p.stdout)
check("--dry-run writes nothing", not os.path.exists(path("dry.avro")))

# --strict-schema: the extra column is an error, nothing is written
out = path("strict.avro")
p = run("convert", src, out, "--schema", avsc, "--strict-schema", "-q", code=None)
check("--strict-schema: error naming the input and the column",
      p.returncode != 0 and "trips.csv" in p.stderr and '"extra"' in p.stderr
      and "--strict-schema" in p.stderr, p.stderr)
check("--strict-schema: nothing written", not os.path.exists(out))

# a field without default the CSV lacks: an error naming the field and the file, no output
nodef = path("nodef.avsc")
json.dump({"type": "record", "name": "Trip", "fields": fields + [
    {"name": "total_amount", "type": "double"}]}, open(nodef, "w"))
out = path("nodef.avro")
p = run("convert", src, out, "--schema", nodef, "-q", code=None)
check("missing field without default: error naming field, schema and input",
      p.returncode != 0 and '"total_amount"' in p.stderr and "nodef.avsc" in p.stderr
      and "trips.csv" in p.stderr and "default" in p.stderr, p.stderr)
check("missing field without default: nothing written", not os.path.exists(out))

# a default that does not fit its type: an error naming the field
baddef = path("baddef.avsc")
json.dump({"type": "record", "name": "Trip", "fields": [
    {"name": "id", "type": "long"}, {"name": "tip", "type": "double", "default": "zero"}]},
    open(baddef, "w"))
p = run("convert", src, path("baddef.avro"), "--schema", baddef, "-q", code=None)
check("a default of the wrong type: error naming the field",
      p.returncode != 0 and '"tip"' in p.stderr and '"zero"' in p.stderr, p.stderr)

# a bad value in a mapped column: line, the input's column position, field name, value
badsrc = write_csv("bad.csv", "name,fare amount,id,pickup",
                   [["a", "1.5", "1", "2024-01-01 00:00:00"],
                    ["b", "2.5", "2", "2024-01-01 00:00:00"],
                    ["c", "x1.5", "3", "2024-01-01 00:00:00"]])
p = run("convert", badsrc, path("bad.avro"), "--schema", avsc, "-q", code=None)
check("a type error names line, column and value",
      p.returncode != 0 and "bad.csv:4" in p.stderr and "column 2 (fare_amount)" in p.stderr
      and '"x1.5"' in p.stderr, p.stderr)

# the csvavro.header attribute: a schema written by `csvavro schema` maps a reordered CSV
h1 = write_csv("h1.csv", "Trip Id,Fare $,when", [["1", "2.5", "2024-01-02"]])
sp = run("schema", h1).stdout
open(path("h1.avsc"), "w").write(sp)
h2 = write_csv("h2.csv", "when,Trip Id,Fare $", [["2024-02-03", "7", "9.75"]])
_, rows = read(path("h2.avro")) if run("convert", h2, path("h2.avro"), "--schema",
                                       path("h1.avsc"), "-q") else (None, None)
check("csvavro.header attribute maps a reordered CSV",
      rows == [{"Trip_Id": 7, "Fare__": 9.75, "when": datetime.date(2024, 2, 3)}], rows)

# --no-header: by position, as before
nh = write_csv("nh.csv", "1,2.5,2024-01-01 10:00:00", [["2", "3.5", "2024-01-02 11:00:00"]])
pos_avsc = path("pos.avsc")
json.dump({"type": "record", "name": "P", "fields": [
    {"name": "a", "type": "long"}, {"name": "b", "type": "double"},
    {"name": "c", "type": "string"}]}, open(pos_avsc, "w"))
run("convert", nh, path("nh.avro"), "--schema", pos_avsc, "--no-header", "-q")
_, rows = read(path("nh.avro"))
exp_nh = [{"a": int(r[0]), "b": float(r[1]), "c": r[2]} for r in csv.reader(open(nh, newline=""))]
check("--no-header: fields by position", rows == exp_nh, rows)
bad_pos = path("pos2.avsc")
json.dump({"type": "record", "name": "P", "fields": [
    {"name": "a", "type": "long"}, {"name": "b", "type": "double"}]}, open(bad_pos, "w"))
p = run("convert", nh, path("nh2.avro"), "--schema", bad_pos, "--no-header", "-q", code=None)
check("--no-header: column count must match", p.returncode != 0 and "3 columns" in p.stderr,
      p.stderr)

# ---------------------------------------------------------------- 2. headers that differ
# 2013: "vendor_id, pickup_datetime, ..." (a space after every comma); 2015: renamed columns,
# a new one; 2019: one more and a trailing empty column; fare_amount integral in 2013 only,
# store_and_fwd_flag numeric in 2015 only, passenger_count empty in one 2019 row
y13 = write_csv("y13.csv", "vendor_id, pickup_datetime, passenger_count, fare_amount, "
                "store_and_fwd_flag",
                [["VTS", f"2013-01-01 0{i % 10}:0{i % 6}:00", str(1 + i % 4), str(5 + i % 9),
                  "N" if i % 2 else ""] for i in range(1500)])
y15 = write_csv("y15.csv", "VendorID,tpep_pickup_datetime,passenger_count,fare_amount,"
                "store_and_fwd_flag,improvement_surcharge",
                [[str(1 + i % 2), f"2015-01-02 1{i % 10}:00:00", str(1 + i % 3),
                  f"{5 + i % 9}.5", str(i % 2), "0.3"] for i in range(1500)])
y19 = write_csv("y19.csv", "VendorID,tpep_pickup_datetime,passenger_count,fare_amount,"
                "store_and_fwd_flag,improvement_surcharge,congestion_surcharge",
                [[str(1 + i % 2), f"2019-01-03 2{i % 4}:00:00", "" if i % 5 == 0 else "2",
                  f"{7 + i % 3}.25", "Y", "0.3", "2.5"] for i in range(1500)], trailing=",")

p = run("convert", y13, y15, y19, path("nounion.avro"), "-q", code=None)
check("different headers without --union-by-name: which file, from which, how",
      p.returncode != 0 and "y15.csv" in p.stderr and "differs from" in p.stderr
      and "y13.csv" in p.stderr and 'added "improvement_surcharge"' in p.stderr
      and 'renamed "vendor_id" -> "VendorID"' in p.stderr and "--union-by-name" in p.stderr,
      p.stderr)
p = run("convert", y15, y19, path("nounion.avro"), "-q", code=None)
check("different headers: an added column", p.returncode != 0
      and 'y19.csv' in p.stderr and 'added "congestion_surcharge"' in p.stderr, p.stderr)
p = run("convert", y19, y15, path("nounion.avro"), "-q", code=None)
check("different headers: a removed column", p.returncode != 0
      and 'removed "congestion_surcharge"' in p.stderr, p.stderr)
ro = write_csv("reorder.csv", "passenger_count,VendorID,tpep_pickup_datetime,fare_amount,"
               "store_and_fwd_flag,improvement_surcharge", [["1", "2", "2015-01-01 00:00:00",
                                                           "1.5", "N", "0.3"]])
p = run("convert", y15, ro, path("nounion.avro"), "-q", code=None)
check("different headers: the same columns reordered", p.returncode != 0
      and "another order" in p.stderr and "reorder.csv" in p.stderr, p.stderr)
check("nothing written by the failed jobs", not os.path.exists(path("nounion.avro")))

# the expectation from Python's csv module: names trimmed, first-seen order, widened types
files = [y13, y15, y19]
tables = []
for fpath in files:
    rows = list(csv.reader(open(fpath, newline="")))
    hdr = [h.strip() for h in rows[0]]
    if hdr[-1] == "":
        hdr = hdr[:-1]
    tables.append((hdr, [r[:len(hdr)] for r in rows[1:]]))
order = []
for hdr, _ in tables:
    for h in hdr:
        if h not in order:
            order.append(h)


def kind(v):
    if v == "":
        return None
    try:
        int(v)
        return "long"
    except ValueError:
        pass
    try:
        float(v)
        return "double"
    except ValueError:
        pass
    try:
        micros(v)
        return "ts"
    except ValueError:
        return "string"


types = {}
for h in order:
    ks = set()
    for hdr, rows in tables:
        if h in hdr:
            ks |= {kind(r[hdr.index(h)]) for r in rows}
    ks.discard(None)
    types[h] = (ks.pop() if len(ks) == 1 else "double" if ks <= {"long", "double"}
                else "string")


def conv(v, t):
    if v == "":
        return None
    return {"long": int, "double": float, "ts": micros, "string": str}[t](v)


exp_u = []
for hdr, rows in tables:
    for r in rows:
        exp_u.append({h: (conv(r[hdr.index(h)], types[h]) if h in hdr else None) for h in order})
check("test data widens: long+double, long+string, renamed columns",
      types["fare_amount"] == "double" and types["store_and_fwd_flag"] == "string"
      and types["passenger_count"] == "long" and len(order) == 9, types)

for extra in ([], ["-j", "2", "--split-size", "8K"]):
    out = path("union.avro")
    run("convert", "--union-by-name", y13, y15, y19, out, "--overwrite", "-q", *extra)
    sch, rows = read(out)
    names = [f["name"] for f in sch["fields"]]
    check(f"union: columns by name in first-seen order {extra}", names == order, names)
    avro_t = {f["name"]: f["type"] for f in sch["fields"]}
    check(f"union: every column nullable {extra}",
          all(isinstance(t, list) and t[0] == "null" for t in avro_t.values()), avro_t)
    check(f"union: widened types {extra}",
          avro_t["fare_amount"][1] == "double" and avro_t["store_and_fwd_flag"][1] == "string"
          and avro_t["passenger_count"][1] == "long", avro_t)
    bad = [(a, b) for a, b in zip(rows, exp_u) if a != b]
    check(f"union: values == Python csv, missing values null {extra}", rows == exp_u,
          f"{len(rows)} vs {len(exp_u)}; first {bad[:1]}")
p = run("schema", "--union-by-name", y13, y15, y19)
check("csvavro schema --union-by-name: the same schema",
      [f["name"] for f in json.loads(p.stdout)["fields"]] == order, p.stdout[:300])
p = run("convert", "--union-by-name", y13, y15, y19, path("udry.avro"), "--dry-run")
check("--dry-run with --union-by-name shows the mapping per input layout",
      "VendorID <- null (not in this input)" in p.stdout
      and 'VendorID <- column 1 "VendorID"' in p.stdout
      and 'pickup_datetime <- column 2 " pickup_datetime"' in p.stdout, p.stdout)
p = run("convert", "--union-by-name", y13, y15, y19, path("udry.avro"), "--dry-run",
        "--progress", "json")
cols = [i.get("columns") for i in json.loads(p.stdout)["inputs"]]
exp_cols = [{h: (hdr.index(h) + 1 if h in hdr else None) for h in order} for hdr, _ in tables]
check("--dry-run --progress json: each input's columns by field", cols == exp_cols, cols)
p = run("convert", "--union-by-name", "--no-header", y13, y15, path("u2.avro"), code=None)
check("--union-by-name with --no-header: a usage error", p.returncode == 2, p.stderr)

# --schema over inputs with different headers: each mapped by name
u_avsc = path("u.avsc")
json.dump({"type": "record", "name": "U", "fields": [
    {"name": "fare_amount", "type": "double"},
    {"name": "passenger_count", "type": ["null", "long"], "default": None},
    {"name": "improvement_surcharge", "type": "double", "default": 0.0},
    # Avro aliases: the column's names in other years
    {"name": "pickup", "type": "string", "aliases": ["pickup_datetime", "tpep_pickup_datetime"]}]},
    open(u_avsc, "w"))
run("convert", y13, y15, path("su.avro"), "--schema", u_avsc, "-q", "-j", "2")
_, rows = read(path("su.avro"))
exp_su = []
for hdr, rs in tables[:2]:
    for r in rs:
        d = dict(zip(hdr, r))
        exp_su.append({"fare_amount": float(d["fare_amount"]),
                       "passenger_count": conv(d["passenger_count"], "long"),
                       "improvement_surcharge": float(d.get("improvement_surcharge", "0")),
                       "pickup": d.get("pickup_datetime", d.get("tpep_pickup_datetime"))})
check("--schema over inputs with different headers: each by name and by alias", rows == exp_su,
      f"{len(rows)} vs {len(exp_su)}")

finish()
