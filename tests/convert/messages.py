#!/usr/bin/python3
"""Errors that must not mislead (issue 19): each case states what a user needs to read and
checks the exit code and the message or file. Expected bad records come from Python's csv
module and int() (independent of csvavro's parser).

env: CSVAVRO_BIN (the csvavro executable)
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("CSVAVRO_BIN", "build/csvavro")
failures = []


def check(name, cond, detail=""):
    print("%-60s %s" % (name, "ok" if cond else "FAIL"))
    if not cond:
        failures.append(name)
        if detail:
            print("    " + str(detail).replace("\n", "\n    "))


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def bad_lines(text, ncols):
    """1-based physical lines of the records that are bad for a table of longs: broken quoting
    (Python's strict csv reader refuses it), a wrong field count, or a field int() refuses."""
    out = []
    for line, raw in enumerate(text.splitlines()[1:], start=2):
        try:
            rec = next(csv.reader([raw], strict=True))
            bad = len(rec) != ncols or not all(v.lstrip("+-").isdigit() for v in rec)
        except csv.Error:
            bad = True
        if bad:
            out.append(line)
    return out


def main():
    d = tempfile.mkdtemp()
    # bad values in several columns (the loads go column by column), a ragged record and a
    # broken quote (found by the scanner before any value): rejects must be in input order
    data = "a,b,c\n1,2,x\n2,y,3\n3\n4,5,6\n5,\"a\"b,7\n6,z,8\n7,8,9\n8,q,w\n"
    path = os.path.join(d, "r.csv")
    with open(path, "w") as f:
        f.write(data)
    want = bad_lines(data, 3)
    types = ["--type", "a=long", "--type", "b=long", "--type", "c=long"]

    rc, out, err = run("convert", path, os.path.join(d, "o.avro"), "-q", "--on-error", "reject",
                       *types)
    check("--on-error reject without --reject-file: usage error",
          rc == 2 and "--reject-file" in err and not os.path.exists(os.path.join(d, "o.avro")),
          f"exit {rc}: {err}")

    rej = os.path.join(d, "rej.jsonl")
    rc, out, err = run("convert", path, os.path.join(d, "o2.avro"), "-q", "--on-error", "reject",
                       "--reject-file", rej, *types)
    lines = [json.loads(x)["line"] for x in open(rej)] if rc == 0 else None
    check("reject file in input order (values, ragged, quoting mixed)", lines == want,
          f"exit {rc} {err}: lines {lines}, want {want}")

    # --max-errors: the error names the first record over the limit in input order
    for n in range(1, len(want)):
        rc, out, err = run("convert", path, os.path.join(d, f"m{n}.avro"), "-q", "--on-error",
                           "skip", "--max-errors", str(n), *types)
        check(f"--max-errors {n} names line {want[n]}",
              rc == 1 and f"r.csv:{want[n]}:" in err and "max-errors" in err, err)

    # a value contradicting a type inferred from the sample, late in the file: a hint, and no
    # internal "split N:" fragment
    late = os.path.join(d, "late.csv")
    with open(late, "w") as f:
        f.write("id,n\n" + "".join(f"{i},{i}\n" for i in range(30000)) + "30000,abc\n")
    rc, out, err = run("convert", late, os.path.join(d, "late.avro"), "-q")
    check("late contradiction: located, with the --type/--infer-rows hint",
          rc == 1 and "late.csv:30002:" in err and "--type 'n=string'" in err
          and "--infer-rows all" in err, err)
    check("no internal 'split N:' fragment", "split 0" not in err, err)
    rc, out, err = run("convert", late, os.path.join(d, "late2.avro"), "-q", "--type", "n=long")
    check("no hint when the user gave the type", rc == 1 and "--type 'n" not in err, err)

    # --where errors: a place in the expression, not a byte of data, and a caret under it
    rc, out, err = run("convert", late, os.path.join(d, "w.avro"), "-q", "--where", "n >> 3")
    lines = err.splitlines()
    check("--where error: 'at column 4 of the expression' and a caret",
          rc in (1, 2) and "at column 4" in err and "expression" in err and "byte" not in err
          and len(lines) == 3 and lines[1] == "  n >> 3" and lines[2] == "     ^", err)

    # inputs: a glob in a directory part, a directory of directories: say what is supported
    for sub in ("y=1", "y=2"):
        os.makedirs(os.path.join(d, "tree", sub))
        with open(os.path.join(d, "tree", sub, "t.csv"), "w") as f:
            f.write("a,b\n1,2\n")
    rc, out, err = run("convert", os.path.join(d, "tree", "*", "t.csv"),
                       os.path.join(d, "g.avro"), "-q")
    check("glob in a directory part: says globs work in the last component",
          rc == 1 and "last path component" in err, err)
    rc, out, err = run("convert", os.path.join(d, "tree"), os.path.join(d, "g.avro"), "-q")
    check("directory of directories: says subdirectories are not read",
          rc == 1 and "2 subdirectories" in err and "not in its subdirectories" in err, err)

    subprocess.run(["rm", "-rf", d])
    print("FAILURES: %s" % failures if failures else "all ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
