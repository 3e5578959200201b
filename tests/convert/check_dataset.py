#!/usr/bin/python3
"""Independent check of a csvavro dataset directory (a local copy): the manifest never lies.

  check_dataset.py DIR [--allow-tmp]
      fails unless: no intent, lock or temporary entry is left (--allow-tmp: the temporary
      directories and the lock of dead jobs may stay, never an intent: readers leave them to
      the next job); no empty directory (a rolled back partitioned commit or an overwrite
      removes the partition directories it emptied); the manifest (_SUCCESS, JSON)
      lists every *.avro file under DIR exactly once and no other; each listed file holds
      the rows the manifest says (read with python3-avro); the jobs' file lists add up to the
      outputs; each file's schema is its job's. Prints the records of the listed files in manifest order as JSON lines (dicts
      with sorted keys).
  check_dataset.py count CSV      data rows of a CSV (Python's csv module)
"""
import csv
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")


def fail(msg):
    sys.stderr.write("check_dataset: %s\n" % msg)
    sys.exit(1)


def main():
    if sys.argv[1] == "count":
        with open(sys.argv[2], newline="") as f:
            print(sum(1 for _ in csv.reader(f)) - 1)
        return
    d = sys.argv[1]
    allow_tmp = "--allow-tmp" in sys.argv
    on_disk = set()
    for root, dirs, files in os.walk(d):
        if allow_tmp and root == d:  # not descended into, not reported
            dirs[:] = [x for x in dirs if not x.startswith(".csvavro-tmp-")]
        for n in dirs + files:
            if allow_tmp and root == d and n == "_csvavro.lock":
                continue
            if n.startswith(".csvavro") or n in ("_csvavro.intent", "_csvavro.lock"):
                fail("left behind: %s" % os.path.join(root, n))
        if root != d and not dirs and not files:
            fail("empty directory left behind: %s" % root)
        for n in files:
            if n.endswith(".avro") and not n.startswith((".", "_")):
                on_disk.add(os.path.relpath(os.path.join(root, n), d))
    mp = os.path.join(d, "_SUCCESS")
    if not os.path.exists(mp):
        if on_disk:
            fail("files without a manifest: %s" % sorted(on_disk))
        return
    m = json.load(open(mp))
    names = [o["name"] for o in m["outputs"]]
    if len(names) != len(set(names)):
        fail("a file listed twice")
    if set(names) != on_disk:
        fail("manifest %s != files %s" % (sorted(set(names) - on_disk), sorted(on_disk - set(names))))
    jf = [n for j in m["jobs"] for n in j["files"]]
    if sorted(jf) != sorted(names):
        fail("jobs' files != outputs")
    if m["rows"] != sum(o["rows"] for o in m["outputs"]):
        fail("rows != sum of outputs")
    from avro.datafile import DataFileReader
    from avro.io import DatumReader

    jobs = {j["job"]: j for j in m["jobs"]}
    for o in m["outputs"]:
        with open(os.path.join(d, o["name"]), "rb") as f:
            n = 0
            rd = DataFileReader(f, DatumReader())
            js = jobs.get(o.get("job"), {}).get("schema")
            if js is not None and json.loads(rd.meta["avro.schema"]) != js:
                fail("%s: its schema is not its job's" % o["name"])
            for rec in rd:
                print(json.dumps(rec, sort_keys=True))
                n += 1
        if n != o["rows"]:
            fail("%s: %d rows, manifest says %d" % (o["name"], n, o["rows"]))

main()
