#!/usr/bin/python3
"""Writes a CSV full of quoted fields (commas, CR, LF, CRLF, doubled quotes inside quotes) with
Python's csv module, plus blank lines between records. Deterministic for a given seed.

usage: gen_quoted.py OUT.csv ROWS SEED [lf|crlf|mixed]
"""
import csv
import io
import random
import sys

out, rows, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
style = sys.argv[4] if len(sys.argv) > 4 else "mixed"
rng = random.Random(seed)
pieces = ["a", "b,c", "\n", "\r\n", "\r", '"', '""', ",\n,", " x ", "é", "line\nbreak", "1", "-"]


def text():
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))


# The writer always uses "\r\n" so that fields holding a lone CR or LF get quoted; the record
# terminator is then swapped for LF on some rows (mixed) and blank lines are sprinkled in.
with open(out, "w", newline="", encoding="utf-8") as f:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def emit(row):
        buf.seek(0)
        buf.truncate()
        w.writerow(row)
        s = buf.getvalue()[:-2]
        term = "\r\n" if style == "crlf" else "\n" if style == "lf" else rng.choice(["\n", "\r\n"])
        f.write(s + term)

    emit(["id", "text", "n", "note"])
    for i in range(rows):
        if style == "mixed" and rng.random() < 0.1:
            f.write(rng.choice(["\n", "\r\n", "\n\n"]))
        emit([i, text(), rng.randint(-5, 5), text()])
