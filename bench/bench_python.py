#!/usr/bin/python3
"""bench_python.py — the Python package against the stack it replaces (issue 16); run by
bench/run.sh (`make bench`, case id "python") or alone:

  bench_python.py --build build --csv FILE.csv [--runs 3] [--out bench/RESULTS-python.md]

Three pairs on the same NYC-taxi-like file (bench/gen_taxi), each run --runs times, the peer and
csvavro alternately (interleaved pairs: the machine's load drifts), medians and per-pair ratios:
  1. the notebook's pipeline on a LocalCluster of 2 worker processes (1 thread each): dask
     read_csv -> filter -> project -> python3-avro writer per partition, as the anchors run it,
     against csvavro.dask.convert on the same cluster (same splits size, deflate both);
  2. csvavro.read_csv (typed, all cores) against pandas.read_csv (dates parsed);
  3. csvavro.read_avro (column-wise, in C) against python3-avro's row decoding, on one file
     (the first --avro-rows rows of the CSV, all by default).
Every pair's row counts are compared before a time counts; a mismatch fails the run.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

# python3-avro 1.11 reads local-timestamp-micros as a long, with a warning per schema parse
warnings.filterwarnings("ignore", message="Unknown local-timestamp")

WHERE = "passenger_count > 3"
SELECT = ["pickup_datetime", "passenger_count", "trip_time_in_secs"]
SCHEMA = {"type": "record", "name": "Row", "namespace": "bench", "fields": [
    {"name": "pickup_datetime",
     "type": ["null", {"type": "long", "logicalType": "local-timestamp-micros"}], "default": None},
    {"name": "passenger_count", "type": ["null", "long"], "default": None},
    {"name": "trip_time_in_secs", "type": ["null", "long"], "default": None}]}


def timed_pair(runs, peer, ours):
    """Runs peer and ours alternately, runs times each (interleaved: a shared, busy machine's
    load drifts over minutes and hits both alike). Returns (median peer s, peer result,
    median ours s, our result, [(peer s, ours s)] per round)."""
    tp, to, rp, ro = [], [], None, None
    for _ in range(runs):
        t = time.perf_counter()
        rp = peer()
        tp.append(time.perf_counter() - t)
        t = time.perf_counter()
        ro = ours()
        to.append(time.perf_counter() - t)
    return statistics.median(tp), rp, statistics.median(to), ro, list(zip(tp, to))


def write_partition(df, out_dir, partition_info=None):
    """The anchors' per-partition writer: pandas rows into python3-avro (deflate)."""
    import avro.datafile
    import avro.io
    import avro.schema
    import pandas as pd
    i = partition_info["number"] if partition_info else 0
    sch = avro.schema.parse(json.dumps(SCHEMA))
    ts = pd.to_datetime(df["pickup_datetime"], format="%Y-%m-%d %H:%M:%S")
    us = (ts.astype("int64") // 1000).tolist()
    tn = ts.isna().tolist()
    with open(os.path.join(out_dir, "trip.%d.avro" % i), "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), sch, codec="deflate")
        for t, tnull, p, s in zip(us, tn, df["passenger_count"].tolist(),
                                  df["trip_time_in_secs"].tolist()):
            w.append({"pickup_datetime": None if tnull else int(t),
                      "passenger_count": None if p != p else int(p),
                      "trip_time_in_secs": None if s != s else int(s)})
        w.close()
    return pd.DataFrame({"n": [len(df)]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--split", type=int, default=64 << 20)
    ap.add_argument("--out", default=None)
    ap.add_argument("--avro-rows", type=int, default=0,
                    help="pair 3 on the first N rows only (python3-avro decodes ~10^4 rows/s: "
                    "keeps a short run short); 0 = all")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.build, "python"))
    import avro.datafile
    import avro.io
    import dask
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster

    import csvavro
    import csvavro.dask

    size = os.path.getsize(a.csv)
    tmp = tempfile.mkdtemp(prefix="csvavro-bench-py-")
    rows = []
    try:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)

        # 1. the notebook's pipeline vs csvavro.dask.convert on the same cluster
        def anchors():
            d = tempfile.mkdtemp(dir=tmp)
            df = dd.read_csv(a.csv, blocksize=a.split, usecols=SELECT)
            df = df[df["passenger_count"] > 3][SELECT]
            meta = pd.DataFrame({"n": pd.Series([], dtype="int64")})
            n = df.map_partitions(write_partition, d, meta=meta).compute()["n"].sum()
            shutil.rmtree(d)
            return int(n)

        def csvavro_dask():
            d = tempfile.mkdtemp(dir=tmp)
            st = csvavro.dask.convert(client, a.csv, d + "/trip.*.avro", where=WHERE,
                                      select=SELECT, split_size=a.split, codec="deflate").result()
            shutil.rmtree(d)
            return st.rows_kept

        with dask.config.set(scheduler=client):
            t_anchor, n_anchor, t_cav, n_cav, pairs = timed_pair(a.runs, anchors, csvavro_dask)
        if n_anchor != n_cav:
            raise SystemExit("row counts differ: anchors %d, csvavro.dask %d" % (n_anchor, n_cav))
        rows.append(("notebook pipeline (dask + pandas + python3-avro) vs csvavro.dask.convert, "
                     "LocalCluster 2x1", t_anchor, t_cav, n_cav, pairs))
        client.close()
        cluster.close()

        # 2. csvavro.read_csv vs pandas.read_csv
        t_pd, df_pd, t_cr, df_cr, pairs = timed_pair(
            a.runs, lambda: pd.read_csv(a.csv, parse_dates=["pickup_datetime",
                                                            "dropoff_datetime"]),
            lambda: csvavro.read_csv(a.csv))
        if len(df_pd) != len(df_cr):
            raise SystemExit("row counts differ: pandas %d, csvavro %d" % (len(df_pd), len(df_cr)))
        rows.append(("pandas.read_csv vs csvavro.read_csv (whole table, typed)", t_pd, t_cr,
                     len(df_cr), pairs))
        del df_pd, df_cr

        # 3. python3-avro row decoding vs csvavro.read_avro, on one file
        one = os.path.join(tmp, "all.avro")
        csvavro.convert(a.csv, one, codec="deflate", progress=False,
                        limit=a.avro_rows or None)

        def pyavro():
            n = 0
            with open(one, "rb") as f:
                r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
                for _ in r:
                    n += 1
                r.close()
            return n

        t_pa, n_pa, t_ra, df_ra, pairs = timed_pair(a.runs, pyavro,
                                                    lambda: csvavro.read_avro(one))
        if n_pa != len(df_ra):
            raise SystemExit("row counts differ: python3-avro %d, csvavro %d" % (n_pa, len(df_ra)))
        rows.append(("python3-avro (rows) vs csvavro.read_avro (columns), deflate", t_pa, t_ra,
                     n_pa, pairs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = ["# Python package benchmark (bench/bench_python.py)", "",
             "Input: %s (%d bytes); median of %d interleaved pair(s) (peer, csvavro, peer, "
             "...); %s; machine load at end %s." % (
                 os.path.basename(a.csv), size, a.runs, time.strftime("%Y-%m-%d %H:%M UTC",
                                                                       time.gmtime()),
                 open("/proc/loadavg").read().split()[0]), "",
             "| pair | peer s | csvavro s | ratio (peer / csvavro) | per-pair ratios | rows |",
             "| --- | ---: | ---: | ---: | --- | ---: |"]
    for what, tp, tc, n, pairs in rows:
        lines.append("| %s | %.3f | %.3f | %.1fx | %s | %d |" % (
            what, tp, tc, tp / tc, " ".join("%.1f" % (p / c) for p, c in pairs), n))
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
