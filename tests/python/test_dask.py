#!/usr/bin/python3
"""csvavro.dask on a LocalCluster of two worker processes: convert gives the CLI's files byte for
byte (same seed), one task per split; csvavro.dask.read_csv gives the rows Python's csv module
reads (quoted line breaks, splits cut inside them), one partition per split; a worker killed in
the middle of a split is replaced and the output is still the CLI's; a split that kills every
worker it runs on fails the job cleanly (KilledWorker, nothing committed, no temporary files)."""
import csv
import filecmp
import os
import signal
import threading

from pyhelp import check, cli, done, equal, gen_csv, need, tmpdir


def kill_once(marker):
    """on_split hook: on split 2, once, kill this worker process 50 ms into the split."""
    def hook(i):
        if i == 2 and not os.path.exists(marker):
            open(marker, "w").close()
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGKILL)).start()
    return hook


def kill_always(i):
    if i == 2:
        os.kill(os.getpid(), signal.SIGKILL)


def avro_files(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".avro"))


def same_files(a, b):
    fa, fb = avro_files(a), avro_files(b)
    return fa == fb and all(filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False)
                            for n in fa)


def main():
    need("numpy", "pandas", "dask.dataframe", "distributed")
    import dask
    import pandas as pd
    from distributed import Client, LocalCluster, wait
    from distributed.scheduler import KilledWorker

    import csvavro.dask

    T = tmpdir()
    src = os.path.join(T, "t.csv")
    gen_csv(src, 6000, seed=5)
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    opts = dict(split_size=20000, seed=42, where="count > 0", select=["id", "name", "at"])
    cli("convert", src, os.path.join(T, "cli", "t.*.avro"), "--split-size", 20000, "--seed", 42,
        "--where", "count > 0", "--select", "id,name,at", "-q")
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    try:
        job = csvavro.dask.convert(client, src, os.path.join(T, "dask", "t.*.avro"), **opts)
        equal(len(job.futures), len(avro_files(os.path.join(T, "cli"))), "one task per split")
        wait(job.futures)
        st = job.result()
        check(same_files(os.path.join(T, "dask"), os.path.join(T, "cli")),
              "dask.convert writes the CLI's files, byte for byte")
        keep = [r for r in rows if r[6] != "" and int(r[6]) > 0]
        equal((st.rows_read, st.rows_kept), (len(rows), len(keep)), "stats rows read/kept")

        ddf = csvavro.dask.read_csv(src, client=client, split_size=20000,
                                    tmpdir=os.path.join(T, "rd"))
        check(ddf.npartitions > 3, "read_csv: one partition per split (%d)" % ddf.npartitions)
        df = ddf.compute()
        equal([None if pd.isna(v) else v for v in df["name"].tolist()],
              [r[1] if r[1] != "" else None for r in rows], "read_csv names (quoted breaks)")
        equal([int(v) for v in df["id"].tolist()], [int(r[0]) for r in rows], "read_csv ids")
        equal(str(df["at"].dtype), "datetime64[ns]", "read_csv typed by the job's schema")

        out = os.path.join(T, "killed")
        job = csvavro.dask.convert(client, src, out + "/t.*.avro",
                                   on_split=kill_once(os.path.join(T, "marker")), **opts)
        job.result()
        check(os.path.exists(os.path.join(T, "marker")), "a worker was killed during split 2")
        check(same_files(out, os.path.join(T, "cli")),
              "after the worker loss the output is still the CLI's")

        out = os.path.join(T, "fails")
        job = csvavro.dask.convert(client, src, out + "/t.*.avro", on_split=kill_always, **opts)
        try:
            job.result()
            check(False, "a split that always kills its worker fails the job")
        except KilledWorker:
            check(True, "a split that always kills its worker: KilledWorker")
        left = os.listdir(out) if os.path.isdir(out) else []
        equal(left, [], "nothing committed and no temporary directory left")
    finally:
        client.close()
        cluster.close()
    done()


if __name__ == "__main__":
    main()
