#!/usr/bin/python3
"""csvavro.read_csv / head / schema / convert against Python's csv module (the independent
reader): every value of a file full of quoted commas, quotes and line breaks, read with split
sizes that cut inside quoted fields; dtypes; where/select; Error fields on bad input;
convert's stats and bytes against the CLI's."""
import csv
import datetime
import filecmp
import os

from pyhelp import check, cli, done, equal, gen_csv, need, tmpdir

need("numpy", "pandas")
import pandas as pd  # noqa: E402

import csvavro  # noqa: E402

T = tmpdir()
src = os.path.join(T, "t.csv")
gen_csv(src, 1500, seed=3)

# expected: Python's csv module, typed by hand (empty unquoted field = null)
with open(src, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, data = rows[0], rows[1:]


def exp(col, conv):
    i = header.index(col)
    return [None if r[i] == "" else conv(r[i]) for r in data]


def got(df, col):
    return [None if pd.isna(v) else v for v in df[col].tolist()]


def ts(s):
    return pd.Timestamp(datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S"))


def day(s):
    return pd.Timestamp(datetime.datetime.strptime(s, "%Y-%m-%d"))


expected = {"id": exp("id", int), "name": exp("name", str), "score": exp("score", float),
            "flag": exp("flag", lambda v: v == "true"), "day": exp("day", day),
            "at": exp("at", ts), "count": exp("count", int)}

for split in (997, 64 << 20):
    df = csvavro.read_csv(src, split_size=split, threads=2)
    equal(list(df.columns), header, "read_csv columns (split %d)" % split)
    equal(len(df), len(data), "read_csv rows (split %d)" % split)
    for c in header:
        equal(got(df, c), expected[c], "read_csv values of %s (split %d)" % (c, split))
equal({c: str(t) for c, t in df.dtypes.items()},
      {"id": "Int64", "name": "string", "score": "float64", "flag": "boolean",
       "day": "datetime64[ns]", "at": "datetime64[ns]", "count": "Int64"}, "read_csv dtypes")

# where + select, vs the csv module
df = csvavro.read_csv(src, where="count > 1000 and flag", select=["count", "name"], threads=2)
keep = [i for i, r in enumerate(data)
        if r[6] != "" and int(r[6]) > 1000 and r[3] == "true"]
equal(list(df.columns), ["count", "name"], "where/select columns")
equal(got(df, "count"), [expected["count"][i] for i in keep], "where/select count values")
equal(got(df, "name"), [expected["name"][i] for i in keep], "where/select name values")

# head: the first rows, typed
h = csvavro.head(src, n=7)
equal(len(h), 7, "head rows")
for c in header:
    equal(got(h, c), expected[c][:7], "head values of %s" % c)
equal(str(h["count"].dtype), "Int64", "head dtype Int64")

# schema: what `csvavro schema` says
s = csvavro.schema(src, select=["at", "id"])
equal(s["name"].tolist(), ["at", "id"], "schema names after select")
equal(s["type"].tolist(), ["local-timestamp", "long"], "schema types")
check(s.attrs["avro_schema"]["type"] == "record", "schema carries the Avro JSON")

# union_by_name: inputs with different headers give one schema, columns in first-seen order
u1 = os.path.join(T, "u1.csv")
u2 = os.path.join(T, "u2.csv")
open(u1, "w").write("a, b\n1,x\n")
open(u2, "w").write("b,c\ny,2.5\n")
s = csvavro.schema([u1, u2], union_by_name=True)
equal(s["name"].tolist(), ["a", "b", "c"], "union_by_name: columns by name, first seen first")
equal(s["type"].tolist(), ["long", "string", "double"], "union_by_name: types")

# errors carry the C error's fields
bad = os.path.join(T, "bad.csv")
with open(bad, "w") as f:
    f.write("a,b\n1,x\n2,y\nthree,z\n")
try:
    csvavro.read_csv(bad, types={"a": "long"})
    check(False, "bad value raises")
except csvavro.Error as e:
    equal((e.status_name, e.line, e.column, e.column_name, e.value),
          ("CSVAVRO_E_VALUE", 4, 0, "a", "three"), "Error fields of a bad value")
    check(e.path.endswith("bad.csv") and e.offset == 12, "Error path and byte offset")
try:
    csvavro.read_csv(os.path.join(T, "missing.csv"))
    check(False, "missing input raises")
except FileNotFoundError as e:
    check(isinstance(e, csvavro.Error) and e.status_name == "CSVAVRO_E_NOT_FOUND",
          "missing input: csvavro.NotFoundError is a FileNotFoundError")
try:
    csvavro.read_csv(src, where="cuont > 3")
    check(False, "bad filter raises")
except csvavro.Error as e:
    check(e.status_name == "CSVAVRO_E_EXPR" and "did you mean" in e.message,
          "bad filter: CSVAVRO_E_EXPR with a did-you-mean")

# convert: stats against the csv module, files against the CLI's (same seed)
calls = []
st = csvavro.convert(src, os.path.join(T, "py", "t.*.avro"), split_size=4096, threads=2,
                     seed=11, where="count > 1000", codec="deflate",
                     progress=lambda s, final: calls.append(final))
cli("convert", src, os.path.join(T, "cli", "t.*.avro"), "--split-size", 4096, "-j", 2,
    "--seed", 11, "--where", "count > 1000", "--codec", "deflate", "-q")
equal(st.rows_read, len(data), "stats rows_read")
equal(st.rows_kept, sum(1 for v in expected["count"] if v is not None and v > 1000),
      "stats rows_kept")
files = sorted(n for n in os.listdir(os.path.join(T, "cli")) if n.endswith(".avro"))
equal(sorted(n for n in os.listdir(os.path.join(T, "py")) if n.endswith(".avro")), files,
      "convert writes the CLI's file names")
equal(st.files_written, len(files), "stats files_written")
check(all(filecmp.cmp(os.path.join(T, "py", n), os.path.join(T, "cli", n), shallow=False)
          for n in files), "convert's files are the CLI's, byte for byte (seed)")
check(calls and calls[-1] == 1, "progress callback called, last with final=1")
try:
    csvavro.convert(src, os.path.join(T, "py", "t.*.avro"), progress=False)
    check(False, "existing output raises")
except FileExistsError:
    check(True, "existing output: ExistsError (a FileExistsError)")
done()
