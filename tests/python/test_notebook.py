#!/usr/bin/python3
"""examples/notebook.py runs from start to end against csvavro-hdfsd (a LocalCluster of two
worker processes, a generated NYC-taxi-like file at hdfs://…/nyc/trip_data_1.csv), and the Avro
it commits holds the rows Python's csv module selects (passenger_count > 3), read back with
python3-avro."""
import csv
import os
import subprocess
import sys

from pyhelp import BUILD, Hdfsd, check, done, equal, need, tmpdir

need("numpy", "pandas", "dask.dataframe", "distributed", "fsspec", "avro")
import avro.datafile  # noqa: E402
import avro.io  # noqa: E402
import fsspec  # noqa: E402

import csvavro  # noqa: E402,F401

T = tmpdir()
srv = Hdfsd("--block-size", "1M")
local = os.path.join(T, "trip.csv")
with open(local, "wb") as f:
    subprocess.run([os.path.join(BUILD, "gen_taxi"), "--bytes", "1500000", "--seed", "7"],
                   stdout=f, check=True)
with open(local, newline="") as f:
    r = csv.reader(f)
    h = next(r)
    i = h.index("passenger_count")
    want = sum(1 for row in r if row[i].strip() and int(row[i]) > 3)
fs = fsspec.filesystem("hdfs")
fs.mkdir("/nyc")
fs.put_file(local, "/nyc/trip_data_1.csv")
src = os.environ.get("CSVAVRO_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
env = dict(os.environ, NYC="hdfs://%s/nyc" % srv.nn,
           PYTHONPATH=os.path.join(BUILD, "python"))
p = subprocess.run([sys.executable, os.path.join(src, "examples", "notebook.py")], env=env,
                   capture_output=True, text=True, timeout=240)
check(p.returncode == 0, "examples/notebook.py ran to the end%s" % (
    "" if p.returncode == 0 else ":\n" + p.stdout[-2000:] + p.stderr[-4000:]))
n = 0
for name in fs.ls("/nyc/avro", detail=False):
    if name.endswith(".avro"):
        with fs.open(name, "rb") as f:
            rd = avro.datafile.DataFileReader(f, avro.io.DatumReader())
            n += sum(1 for _ in rd)
equal(n, want, "the committed Avro holds the rows with passenger_count > 3 (python3-avro)")
check(fs.exists("/nyc/avro/_SUCCESS") and not fs.exists("/nyc/tmp-notebook"),
      "committed with _SUCCESS; the scratch directory was removed")
done()
