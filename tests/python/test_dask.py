#!/usr/bin/python3
"""csvavro.dask on a cluster of two worker processes (one on 127.0.0.2, one on 127.0.0.3):
  - convert gives the CLI's files byte for byte (same seed), one task per split;
  - read_csv is lazy: the frame has one partition per split (the CLI's split count), nothing
    is read or written before compute (no split ran, the CSV rewritten after read_csv is what
    compute returns, a CSV removed after read_csv fails only at compute), and compute gives the
    rows Python's csv module reads (quoted line breaks, splits cut inside them);
  - replica hosts: which workers a split prefers, from fake block locations (names, short
    names, host_map, DNS); on csvavro-hdfsd with its DataNodes on 127.0.0.2 / 127.0.0.3, every
    split is asked for (workers=) and, with work stealing off, runs on the worker on its
    replica's host;
  - Ctrl-C in the caller while job.result() waits: KeyboardInterrupt, the futures cancelled,
    nothing committed and nothing left once the workers are idle;
  - a worker killed in the middle of a split is replaced and the output is still the CLI's; a
    split that kills every worker it runs on fails the job cleanly (KilledWorker, nothing
    committed, no temporary files).
Robust under load: free ports, the test waits for both workers (at start and after the kills),
waits without time limits where a loaded machine is only slow, and closing the cluster cannot
turn a passed run into a failure. dask's default comm timeouts stay: a longer connect timeout
only stalls a gather from a killed worker longer."""
import csv
import filecmp
import os
import signal
import sys
import threading
import time

from pyhelp import Hdfsd, check, cli, done, equal, gen_csv, need, tmpdir


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


def mark(d):
    """on_split hook: records that split i ran (a file d/i)."""
    def hook(i):
        open(os.path.join(d, str(i)), "a").close()
    return hook


def slow(d):
    """on_split hook: records that split i started, then takes a second."""
    def hook(i):
        open(os.path.join(d, str(i)), "a").close()
        time.sleep(1.0)
    return hook


def avro_files(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".avro"))


def same_files(a, b):
    fa, fb = avro_files(a), avro_files(b)
    return fa == fb and all(filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False)
                            for n in fa)


def wait_until(cond, what, limit=120.0):
    """Polls cond() (no timing assertion: the limit only keeps a broken run from hanging)."""
    end = time.monotonic() + limit
    while not cond():
        if time.monotonic() > end:
            raise RuntimeError("gave up waiting for: " + what)
        time.sleep(0.05)


def test_placement_unit():
    """split_workers from fake block locations: by name, short name, host_map and DNS."""
    from csvavro.dask import split_workers
    by_host = {"10.0.0.1": ["tcp://10.0.0.1:4001"], "10.0.0.2": ["tcp://10.0.0.2:4001",
                                                                  "tcp://10.0.0.2:4002"],
               "node3": ["tcp://node3:4001"], "127.0.0.1": ["tcp://127.0.0.1:4001"]}
    splits = [("f", 0, 1, ["10.0.0.2"], "o0"),              # the worker's address
              ("f", 1, 1, ["node3.example.com"], "o1"),     # a short name
              ("f", 2, 1, ["dn9.example.com", "10.0.0.1"], "o2"),  # host_map + address
              ("f", 3, 1, ["localhost"], "o3"),             # DNS
              ("f", 4, 1, ["unknown-host.invalid"], "o4"),  # no worker there
              ("f", 5, 1, [], "o5")]                        # no locations (a local file)
    got = split_workers(splits, by_host, {"dn9": "10.0.0.2"})
    equal(got, [["tcp://10.0.0.2:4001", "tcp://10.0.0.2:4002"], ["tcp://node3:4001"],
                ["tcp://10.0.0.2:4001", "tcp://10.0.0.2:4002", "tcp://10.0.0.1:4001"],
                ["tcp://127.0.0.1:4001"], [], []],
          "split -> preferred workers from fake locations")


def main():
    need("numpy", "pandas", "dask.dataframe", "distributed")
    import dask
    import pandas as pd
    from distributed import Client, Nanny, Scheduler, SpecCluster, wait
    from distributed.scheduler import KilledWorker

    import csvavro
    import csvavro.dask

    test_placement_unit()

    T = tmpdir()
    src = os.path.join(T, "t.csv")
    gen_csv(src, 6000, seed=5)
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    opts = dict(split_size=20000, seed=42, where="count > 0", select=["id", "name", "at"])
    cli("convert", src, os.path.join(T, "cli", "t.*.avro"), "--split-size", 20000, "--seed", 42,
        "--where", "count > 0", "--select", "id,name,at", "-q")
    cli("convert", src, os.path.join(T, "cli-all", "t.*.avro"), "--split-size", 20000, "-q")
    n_splits = len(avro_files(os.path.join(T, "cli-all")))

    # csvavro-hdfsd with two DataNodes on their own loopback addresses (dn1 127.0.0.2, dn2
    # 127.0.0.3), one replica per block: each block lives on exactly one of them
    hd = Hdfsd("--datanodes", "2", "--datanode-hosts", "--replication", "1",
               "--block-size", "1M")
    dn = {}  # DataNode host name -> address, as the server reports them

    def datanodes():
        hd.out.seek(0)
        for line in hd.out.read().splitlines():
            if line.startswith("datanode ") and len(line.split()) == 4:
                _, _i, ipport, name = line.split()
                dn[name] = ipport.rsplit(":", 1)[0]
        return len(dn) == 2
    wait_until(datanodes, "csvavro-hdfsd to list its DataNodes")
    equal(sorted(dn.values()), ["127.0.0.2", "127.0.0.3"], "hdfsd DataNodes on 127.0.0.2/.3")
    big = os.path.join(T, "big.csv")
    with open(big, "w") as f:
        f.write("k,v,w\n")
        f.writelines("%d,v%d,%d\n" % (k, k * 7, k % 13) for k in range(260000))  # ~4 MB
    hbig = "hdfs://%s/big.csv" % hd.nn
    cli("fs", "put", big, hbig)

    cfg = {"distributed.scheduler.allowed-failures": 1,
           # placement is checked exactly: a busy worker's tasks must not be stolen
           "distributed.scheduler.work-stealing": False}
    with dask.config.set(cfg):
        cluster = SpecCluster(
            scheduler={"cls": Scheduler, "options": {"host": "127.0.0.1", "port": 0,
                                                     "dashboard_address": None}},
            workers={w: {"cls": Nanny, "options": {"host": h, "nthreads": 2,
                                                   "dashboard_address": None,
                                                   "silence_logs": 40}}
                     for w, h in (("a", "127.0.0.2"), ("b", "127.0.0.3"))},
            silence_logs=40)
        client = Client(cluster, timeout="90s")
        try:
            client.wait_for_workers(2, timeout=180)
            run(client, T, src, rows, opts, n_splits, hbig, dn, pd, wait, KilledWorker, csvavro)
        finally:
            for c in (client, cluster):
                try:
                    c.close(timeout=60)
                except Exception as e:  # the checks are made; a slow shutdown is not a failure
                    print("note: closing %s: %r" % (type(c).__name__, e))
    done()


def run(client, T, src, rows, opts, n_splits, hbig, dn, pd, wait, KilledWorker, csvavro):
    import csvavro.dask

    hosts = {a: w["host"] for a, w in client.scheduler_info()["workers"].items()}
    equal(sorted(hosts.values()), ["127.0.0.2", "127.0.0.3"], "workers on 127.0.0.2 and .3")

    # convert: the CLI's bytes
    job = csvavro.dask.convert(client, src, os.path.join(T, "dask", "t.*.avro"), **opts)
    equal(len(job.futures), len(avro_files(os.path.join(T, "cli"))), "one task per split")
    wait(job.futures)
    st = job.result()
    check(same_files(os.path.join(T, "dask"), os.path.join(T, "cli")),
          "dask.convert writes the CLI's files, byte for byte")
    keep = [r for r in rows if r[6] != "" and int(r[6]) > 0]
    equal((st.rows_read, st.rows_kept), (len(rows), len(keep)), "stats rows read/kept")

    # read_csv is lazy: nothing runs before compute
    marks = os.path.join(T, "marks")
    os.mkdir(marks)
    rd = os.path.join(T, "rd")
    lsrc = os.path.join(T, "lazy.csv")
    with open(src, "rb") as f:
        data = f.read()
    with open(lsrc, "wb") as f:
        f.write(data)
    ddf = csvavro.dask.read_csv(lsrc, split_size=20000, tmpdir=rd, on_split=mark(marks))
    equal(ddf.npartitions, n_splits, "read_csv: one partition per split (the CLI's %d)" % n_splits)
    equal(str(ddf.dtypes["at"]), "datetime64[ns]", "read_csv meta typed by the job's schema")
    equal(str(ddf.dtypes["id"]), "Int64", "read_csv meta: id Int64")
    equal((os.listdir(marks), os.listdir(rd) if os.path.isdir(rd) else []), ([], []),
          "read_csv returned: no split ran, nothing written")
    # the CSV changes after read_csv (same bytes count, same layout): compute reads the new one
    new = data.replace(b"plain", b"PLAIN")
    check(new != data and len(new) == len(data), "the rewritten CSV differs, same size")
    with open(lsrc, "wb") as f:
        f.write(new)
    with open(lsrc, newline="", encoding="utf-8") as f:
        nrows = list(csv.reader(f))[1:]
    df = ddf.compute()
    equal(len(os.listdir(marks)), n_splits, "compute ran every split")
    equal([None if pd.isna(v) else v for v in df["name"].tolist()],
          [r[1] if r[1] != "" else None for r in nrows],
          "read_csv names (quoted breaks) are the CSV's at compute time")
    equal([int(v) for v in df["id"].tolist()], [int(r[0]) for r in nrows], "read_csv ids")
    equal({c: str(t) for c, t in df.dtypes.items()}, {c: str(t) for c, t in ddf.dtypes.items()},
          "computed dtypes == meta")
    gone = os.path.join(T, "gone.csv")
    with open(gone, "wb") as f:
        f.write(data)
    ddf2 = csvavro.dask.read_csv(gone, split_size=20000, tmpdir=os.path.join(T, "rd2"))
    os.remove(gone)
    try:
        ddf2.compute()
        check(False, "a CSV removed after read_csv fails at compute")
    except FileNotFoundError as e:
        check(isinstance(e, csvavro.Error), "a CSV removed after read_csv: NotFoundError at "
              "compute (%s)" % e)

    # replica hosts: each split asked for, and run on, the worker on its DataNode's address
    addr_of = {h: a for a, h in hosts.items()}
    job = csvavro.dask.convert(client, hbig, "hdfs://%s/out/t.*.avro" % hbig.split("/")[2],
                               host_map=dn, seed=3)
    check(len(job.splits) >= 3 and all(len(s[3]) == 1 for s in job.splits),
          "hdfs input: %d splits, each with one replica host" % len(job.splits))
    want = [[addr_of[dn[s[3][0]]]] for s in job.splits]
    equal(job.workers, want, "workers= asked for each split: the one on its replica's host")
    check(len(set(w[0] for w in want)) == 2, "the splits' replicas are on both DataNodes")
    wait(job.futures)
    who = client.who_has(job.futures)
    equal([list(who[f.key]) for f in job.futures], want,
          "each split ran on the worker on its replica's host (work stealing off)")
    st = job.result()
    equal(st.rows_read, 260000, "hdfs job rows")

    # Ctrl-C in the caller while job.result() waits
    started = os.path.join(T, "started")
    os.mkdir(started)
    out = os.path.join(T, "intr")

    def in_result(ident):
        """The main thread is inside ConvertJob.result() (so the SIGINT lands there)."""
        f = sys._current_frames().get(ident)
        while f is not None:
            if f.f_code.co_name == "result" and f.f_code.co_filename.endswith("dask.py"):
                return True
            f = f.f_back
        return False

    def interrupt(ident):
        wait_until(lambda: len(os.listdir(started)) > 0 and in_result(ident),
                   "a split to start while the caller waits in job.result()")
        os.kill(os.getpid(), signal.SIGINT)
    job = csvavro.dask.convert(client, src, out + "/t.*.avro", on_split=slow(started), **opts)
    threading.Thread(target=interrupt, args=(threading.get_ident(),), daemon=True).start()
    try:
        job.result()
        check(False, "Ctrl-C during job.result() raises KeyboardInterrupt")
    except KeyboardInterrupt:
        check(True, "Ctrl-C during job.result(): KeyboardInterrupt")
    st = [f.status for f in job.futures]
    check(set(st) <= {"cancelled", "finished"} and "cancelled" in st,
          "the futures not finished are cancelled (%s)" % sorted(set(st)))
    wait_until(lambda: not any(client.processing().values()), "the workers to be idle")
    equal(os.listdir(out) if os.path.isdir(out) else [], [],
          "interrupted: nothing committed, no temporary directory (workers idle)")
    check(len(os.listdir(started)) < len(job.futures), "interrupted before every split ran "
          "(%d of %d started)" % (len(os.listdir(started)), len(job.futures)))

    # a worker killed mid-split
    out = os.path.join(T, "killed")
    job = csvavro.dask.convert(client, src, out + "/t.*.avro",
                               on_split=kill_once(os.path.join(T, "marker")), **opts)
    job.result()
    check(os.path.exists(os.path.join(T, "marker")), "a worker was killed during split 2")
    check(same_files(out, os.path.join(T, "cli")),
          "after the worker loss the output is still the CLI's")
    client.wait_for_workers(2, timeout=180)

    out = os.path.join(T, "fails")
    job = csvavro.dask.convert(client, src, out + "/t.*.avro", on_split=kill_always, **opts)
    try:
        job.result()
        check(False, "a split that always kills its worker fails the job")
    except KilledWorker:
        check(True, "a split that always kills its worker: KilledWorker")
    left = os.listdir(out) if os.path.isdir(out) else []
    equal(left, [], "nothing committed and no temporary directory left")


if __name__ == "__main__":
    main()
