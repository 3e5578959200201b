#!/usr/bin/python3
"""Independent checks for the convert tests: reads Avro files with python3-avro and compares
their records with an expectation computed from the CSV with Python's csv module.

  check_avro.py rows CSV [--where-gt COL N] [--select a,b] [--limit N] [--types col=long,...]
        prints the expected records as JSON lines (strings; '' -> null; typed cols converted)
  check_avro.py read FILE_OR_DIR_OR_GLOB...
        prints the records of the Avro files (part-number order) as JSON lines
"""
import glob
import json
import os
import re
import sys
import warnings

warnings.filterwarnings("ignore")


def natural(s):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def avro_files(args):
    out = []
    for a in args:
        if os.path.isdir(a):
            out += sorted((os.path.join(a, n) for n in os.listdir(a) if n.endswith(".avro")), key=natural)
        elif any(c in a for c in "*?["):
            out += sorted(glob.glob(a), key=natural)
        else:
            out.append(a)
    return out


def cmd_read(args):
    from avro.datafile import DataFileReader
    from avro.io import DatumReader

    for p in avro_files(args):
        with open(p, "rb") as f:
            r = DataFileReader(f, DatumReader())
            for rec in r:
                print(json.dumps(rec, sort_keys=False, default=str, ensure_ascii=False))
            r.close()


def cmd_rows(args):
    import csv

    path = args[0]
    opts = {"where_gt": None, "select": None, "limit": None, "types": {}}
    i = 1
    while i < len(args):
        if args[i] == "--where-gt":
            opts["where_gt"] = (args[i + 1], int(args[i + 2]))
            i += 3
        elif args[i] == "--select":
            opts["select"] = args[i + 1].split(",")
            i += 2
        elif args[i] == "--limit":
            opts["limit"] = int(args[i + 1])
            i += 2
        elif args[i] == "--types":
            for kv in args[i + 1].split(","):
                k, v = kv.split("=")
                opts["types"][k] = v
            i += 2
        else:
            raise SystemExit("bad arg " + args[i])
    n = 0
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f)
        header = next(rd)
        for row in rd:
            if not row:
                continue
            rec = {}
            for k, v in zip(header, row):
                t = opts["types"].get(k, "string")
                if v == "":
                    rec[k] = None
                elif t == "long":
                    rec[k] = int(v)
                elif t == "double":
                    rec[k] = float(v)
                elif t == "timestamp":
                    rec[k] = v
                else:
                    rec[k] = v
            wg = opts["where_gt"]
            if wg and not (rec[wg[0]] is not None and rec[wg[0]] > wg[1]):
                continue
            cols = opts["select"] or header
            print(json.dumps({c: rec[c] for c in cols}, ensure_ascii=False))
            n += 1
            if opts["limit"] is not None and n >= opts["limit"]:
                break


if __name__ == "__main__":
    {"read": cmd_read, "rows": cmd_rows}[sys.argv[1]](sys.argv[2:])
