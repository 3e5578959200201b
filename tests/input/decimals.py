#!/usr/bin/python3
"""Issue 13 "decimal logical type", checked against Python's csv and decimal modules and
python3-avro (which reads Avro decimals back as decimal.Decimal):
  - --type COL=decimal(P,S) (Avro bytes) and --schema with bytes and fixed decimals;
  - exact text -> unscaled two's complement: negatives, zero, -0, leading zeros, .5, max
    precision (38 digits in a fixed of 16 bytes, 76 digits in bytes), several split sizes;
  - refusals (more fractional digits than S, more digits than P, exponents, junk) are value
    errors under --on-error: fail names file, line, column and value; reject writes exactly
    the refused rows; the text is never written as bytes;
  - csvavro cat prints the exact decimal text.
"""
import csv, json, os, random
from decimal import Decimal, InvalidOperation, getcontext

from readback import T, check, finish, read, run

getcontext().prec = 400

def expected(text, p, s):
    """The Decimal csvavro must write for text at decimal(p, s), or None when it must refuse."""
    if text == "":
        return "null"
    t = text[1:] if text[:1] in "+-" else text
    if not t or any(c not in "0123456789." for c in t) or t.count(".") > 1 or t == ".":
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    q = d.quantize(Decimal(1).scaleb(-s))
    if q != d:  # would need rounding
        return None
    if len(q.as_tuple().digits) > p and q != 0:
        return None
    return q


rnd = random.Random(13)


def rand_text(p, s):
    k = rnd.random()
    if k < 0.05:
        return ""
    if k < 0.10:
        return rnd.choice(["0", "-0", "+0", "0.0", "000", ".5", "-.5", "5.", "007.10", "-000.01"])
    if k < 0.15:
        return rnd.choice(["1e3", "abc", "1.2.3", "--1", "+", ".", " 1", "1,5", "0x10", "NaN"])
    ni = rnd.randint(0, p - s + (1 if rnd.random() < 0.1 else 0))
    nf = rnd.randint(0, s + (1 if rnd.random() < 0.1 else 0))
    ip = "".join(rnd.choice("0123456789") for _ in range(ni))
    fp = "".join(rnd.choice("0123456789") for _ in range(nf))
    if rnd.random() < 0.1:
        ip = "00" + ip
    t = ip + ("." + fp if fp or rnd.random() < 0.2 else "")
    if not t or t == ".":
        t = "0"
    return rnd.choice(["", "-", "+"]) + t


# 1. --type COL=decimal(P,S): bytes; several splits; reject exactly the refusals
cases = [(10, 2), (1, 0), (5, 5), (38, 9), (76, 20)]
p = os.path.join(T, "d.csv")
with open(p, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id"] + [f"d{i}" for i in range(len(cases))])
    for i in range(4000):
        w.writerow([i] + [rand_text(P, S) for P, S in cases])
src = list(csv.reader(open(p, newline="")))
types = ",".join(f"d{i}=decimal({P},{S})" for i, (P, S) in enumerate(cases))
exp_rows, exp_bad = [], []
for r in src[1:]:
    vals = [expected(r[1 + i], P, S) for i, (P, S) in enumerate(cases)]
    if any(v is None for v in vals):
        exp_bad.append(int(r[0]))
    else:
        exp_rows.append({"id": int(r[0]), **{f"d{i}": (None if v == "null" else v)
                                             for i, v in enumerate(vals)}})
check("test data has refusals and values", len(exp_bad) > 100 and len(exp_rows) > 500,
      (len(exp_bad), len(exp_rows)))
for extra in ([], ["--split-size", "8K", "-j", "2"]):
    out = os.path.join(T, "d.avro")
    rej = os.path.join(T, "rej.jsonl")
    run("convert", p, out, "-q", "--overwrite", "--type", "id=long", "--type", types,
        "--on-error", "reject", "--reject-file", rej, *extra)
    sch, rows = read(out)
    ft = {f["name"]: f["type"] for f in sch["fields"]}
    check(f"schema bytes decimal {extra}",
          all(ft[f"d{i}"][1] == {"type": "bytes", "logicalType": "decimal", "precision": P,
                                 "scale": S} for i, (P, S) in enumerate(cases)), ft)
    rows.sort(key=lambda x: x["id"])
    bad_val = [(x, y) for x, y in zip(rows, exp_rows) if x != y]
    check(f"values == Python Decimal {extra}", rows == exp_rows,
          f"{len(rows)} vs {len(exp_rows)}; first {bad_val[:2]}")
    check(f"values are Decimal, not bytes {extra}",
          all(isinstance(x["d0"], Decimal) for x in rows if x["d0"] is not None))
    rj = [json.loads(l) for l in open(rej)]
    got_bad = sorted(int(x["raw"].split(",")[0]) for x in rj)
    check(f"rejected rows == Python's refusals {extra}", got_bad == exp_bad,
          f"{got_bad[:10]} vs {exp_bad[:10]}")

# 2. --schema: bytes and fixed decimals at max precision, non-nullable
avsc = os.path.join(T, "s.avsc")
json.dump({"type": "record", "name": "R", "fields": [
    {"name": "id", "type": "long"},
    {"name": "f", "type": {"type": "fixed", "name": "D16", "size": 16, "logicalType": "decimal",
                           "precision": 38, "scale": 4}},
    {"name": "g", "type": ["null", {"type": "fixed", "name": "D3", "size": 3,
                                    "logicalType": "decimal", "precision": 6, "scale": 0}]},
    {"name": "b", "type": {"type": "bytes", "logicalType": "decimal", "precision": 76,
                           "scale": 0}}]}, open(avsc, "w"))
p2 = os.path.join(T, "f.csv")
vals = [("9" * 34 + "." + "9" * 4, "999999", "9" * 76),
        ("-" + "9" * 34 + ".9999", "-999999", "-" + "9" * 76),
        ("0", "0", "0"), ("-0.0001", "-1", "-128"), ("0.0001", "1", "128"),
        ("00012.3400", "0065535", "-32768"), ("-12.3", "", "255")]
with open(p2, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "f", "g", "b"])
    for i, v in enumerate(vals):
        w.writerow([i, *v])
out = os.path.join(T, "f.avro")
run("convert", p2, out, "--schema", avsc, "-q", "--overwrite")
sch, rows = read(out)
check("fixed schema kept", sch["fields"][1]["type"]["size"] == 16 and
      sch["fields"][1]["type"]["name"] == "D16", sch)
want = [{"id": i, "f": Decimal(a).quantize(Decimal("0.0001")),
         "g": Decimal(b) if b else None, "b": Decimal(c)} for i, (a, b, c) in enumerate(vals)]
check("fixed/bytes decimals == Python Decimal", rows == want, f"{rows} vs {want}")
cat = run("cat", out).stdout.splitlines()
check("cat prints exact decimal text",
      [json.loads(l)["f"] for l in cat] == [str(x["f"]) for x in want], cat[:2])

# 3. errors: located (file, line, column, value), exit non-zero, no output
badp = os.path.join(T, "bad.csv")
open(badp, "w").write("id,amt\n1,1.5\n2,12.345\n")
out = os.path.join(T, "bad.avro")
e = run("convert", badp, out, "--type", "amt=decimal(10,2)", code=1).stderr
check("scale refusal located", "bad.csv:3" in e and "amt" in e and '"12.345"' in e and
      "fractional digits" in e, e)
check("no output after failure", not os.path.exists(out))
open(badp, "w").write("id,amt\n1,1000\n")
e = run("convert", badp, out, "--type", "amt=decimal(5,2)", code=1).stderr
check("precision refusal", '"1000"' in e and "precision" in e, e)
e = run("convert", badp, out, "--type", "amt=decimal(5,6)", code=2).stderr
check("scale > precision is a usage error", "scale" in e, e)
e = run("convert", badp, out, "--type", "amt=decimal", code=2).stderr
check("decimal without (P,S) is a usage error", "decimal(PRECISION,SCALE)" in e, e)
json.dump({"type": "record", "name": "R", "fields": [
    {"name": "id", "type": "long"},
    {"name": "amt", "type": {"type": "fixed", "name": "X", "size": 2, "logicalType": "decimal",
                             "precision": 5, "scale": 0}}]}, open(avsc, "w"))
e = run("convert", badp, out, "--schema", avsc, code=1).stderr
check("fixed too small for the precision", "at most 4" in e, e)
e = run("convert", badp, out, "--type", "amt=decimal(5,0)", "--where", "amt > 1",
        code=1).stderr
check("--where on a decimal is refused", "decimal" in e, e)

finish()
