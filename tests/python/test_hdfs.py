#!/usr/bin/python3
"""csvavro.HDFileSystem (fsspec, hdfs://) against csvavro-hdfsd, with no JVM and no libhdfs:
pandas.read_csv("hdfs://…") and dask.dataframe.read_csv("hdfs://…") give the rows Python's csv
module reads from the local copy; files written through fsspec are read back by Debian's Go
`hdfs` client and files it puts are read by ours; ls/info/exists/mkdir/mv/rm; block
locations; csvavro.convert and read_avro on hdfs:// URLs."""
import csv
import io
import os
import shutil
import subprocess

from pyhelp import Hdfsd, check, done, equal, need, tmpdir

need("numpy", "pandas", "fsspec", "dask.dataframe")
if not shutil.which("hdfs"):
    print("SKIP: Debian's Go hdfs client (hdfs-cli) is missing (scripts/deps.sh installs it)")
    raise SystemExit(77)
import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import fsspec  # noqa: E402
import pandas as pd  # noqa: E402

import csvavro  # noqa: E402

T = tmpdir()
srv = Hdfsd("--block-size", "1M")
NN = srv.nn
U = "hdfs://" + NN
fs = fsspec.filesystem("hdfs", host=NN.split(":")[0], port=int(NN.split(":")[1]))
check(isinstance(fs, csvavro.HDFileSystem), "fsspec's hdfs protocol is csvavro.HDFileSystem")

# a CSV with quoted line breaks, ~1.9 MB (two HDFS blocks of 1 MiB)
local = os.path.join(T, "trip.csv")
with open(local, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["medallion", "passenger_count", "note", "fare"])
    for k in range(60000):
        w.writerow(["M%05d" % (k % 977), k % 7, "n%d" % k if k % 11 else "multi\nline %d" % k,
                    "%.2f" % (k % 500 / 7)])
with open(local, newline="") as f:
    rows = list(csv.reader(f))

fs.mkdir("/nyc")
fs.put_file(local, "/nyc/trip_data_1.csv")
equal(fs.info("/nyc/trip_data_1.csv")["size"], os.path.getsize(local), "info size after put")
equal(fs.ls("/nyc", detail=False), ["/nyc/trip_data_1.csv"], "ls")
check(fs.exists(U + "/nyc/trip_data_1.csv") and not fs.exists("/nyc/none"), "exists")
blocks = fs.get_block_locations("/nyc/trip_data_1.csv")
equal(len(blocks), -(-os.path.getsize(local) // 2**20), "block locations: one per 1 MiB block")
check(len(blocks) > 1, "several blocks")
check(all(b["hosts"] for b in blocks), "every block has a replica host")
r = subprocess.run(["hdfs", "cat", "/nyc/trip_data_1.csv"], capture_output=True,
                   env=dict(os.environ, HADOOP_NAMENODE=NN))
check(r.returncode == 0 and r.stdout == open(local, "rb").read(),
      "a file written through fsspec reads back byte-identical with the Go client")
subprocess.run(["hdfs", "put", local, "/nyc/by_go.csv"], check=True,
               env=dict(os.environ, HADOOP_NAMENODE=NN))
with fs.open("/nyc/by_go.csv", "rb") as f:
    f.seek(1000)
    part = f.read(5000)
equal(part, open(local, "rb").read()[1000:6000], "a file the Go client put, read through fsspec")

# pandas through fsspec: the notebook's peek and a full read
head = pd.read_csv(U + "/nyc/trip_data_1.csv", nrows=5)
equal(head["medallion"].tolist(), [r_[0] for r_ in rows[1:6]], "pd.read_csv(hdfs://…, nrows=5)")
full = pd.read_csv(U + "/nyc/trip_data_1.csv")
equal(full["note"].tolist(), [r_[2] for r_ in rows[1:]], "pd.read_csv(hdfs://…) every note")

# dask.dataframe.read_csv over hdfs:// (byte-range partitions through the file system); no
# quoted line breaks here: dask's own block splitting cannot handle them (dask/dask#1284)
plain = os.path.join(T, "plain.csv")
with open(plain, "w") as f:
    f.write("a,b\n" + "".join("%d,x%d\n" % (k, k % 13) for k in range(100000)))
fs.put_file(plain, "/nyc/plain.csv")
with dask.config.set(scheduler="threads"):
    ddf = dd.read_csv(U + "/nyc/plain.csv", blocksize=300000)
    check(ddf.npartitions > 1, "dask: several partitions (%d)" % ddf.npartitions)
    equal(int(ddf["a"].sum().compute()), sum(range(100000)), "dask.dataframe.read_csv(hdfs://…)")

# writing: complete at close, aborted on error
with fs.open("/out/w.txt", "wb") as f:
    f.write(b"hello " * 100000)
equal(fs.cat_file("/out/w.txt"), b"hello " * 100000, "write then read back")
try:
    with fs.open("/out/half.txt", "wb") as f:
        f.write(b"x" * 10000000)
        raise RuntimeError("writer fails")
except RuntimeError:
    pass
check(not fs.exists("/out/half.txt"), "a writer that raises leaves no file")
fs.mv("/out/w.txt", "/out/moved.txt")
check(fs.exists("/out/moved.txt") and not fs.exists("/out/w.txt"), "mv")
fs.rm("/out", recursive=True)
check(not fs.exists("/out"), "rm recursive")
try:
    fs.info("/none")
    check(False, "info of a missing path raises")
except FileNotFoundError:
    check(True, "info of a missing path: FileNotFoundError")

# csvavro itself on hdfs:// URLs
st = csvavro.convert(U + "/nyc/trip_data_1.csv", U + "/nyc/avro/trip.*.avro",
                     where="passenger_count > 3", select=["medallion", "passenger_count"],
                     progress=False)
keep = [r_ for r_ in rows[1:] if int(r_[1]) > 3]
equal(st.rows_kept, len(keep), "convert hdfs:// -> hdfs:// rows kept")
df = csvavro.read_avro(U + "/nyc/avro/")
equal(df["medallion"].tolist(), [r_[0] for r_ in keep], "read_avro(hdfs:// dataset) values")
h = csvavro.head(U + "/nyc/trip_data_1.csv", n=3)
equal(h["note"].tolist(), [r_[2] for r_ in rows[1:4]], "head(hdfs://…)")
del io
done()
