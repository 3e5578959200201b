#!/usr/bin/env python3
"""bench_hdfs_ab.py — A/B of csvavro clients and csvavro-hdfsd servers on the hdfs:// reference job.

usage: bench/bench_hdfs_ab.py [--pairs N] [--mib M] CLIENT_BUILD:SERVER_BUILD ...

Each CLIENT_BUILD:SERVER_BUILD is one configuration (build directories holding csvavro and
csvavro-hdfsd; the first configuration's gen_taxi makes the file). One server per
configuration runs at once, all pinned to the last CPU, each holding the same gen_taxi file
(64 MiB blocks, replication 1); csvavro runs pinned to CPU 0. A round runs the job on the local
file (the first configuration's csvavro), then through each configuration, in that order;
N rounds (default 7). So a server change is measured against the old server in the same
minutes, with the same client (old:old new_client:old old:new new:new separates the two sides).

Per run: wall (around fork/exec), csvavro's CPU (user + sys of the process and its threads,
wait4) and the server's CPU (its own getrusage, all threads, from the control port `cpu`
command, before and after the run). Ratios local/hdfs per round, medians at the end. Job:
convert --where 'passenger_count > 3' --select 3 columns --split-size 64M -j1 (issue 17).
"""
import argparse, os, shutil, socket, statistics, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--pairs", type=int, default=7)
ap.add_argument("--mib", type=int, default=256)
ap.add_argument("configs", nargs="+")
a = ap.parse_args()
cfgs = [c.split(":") for c in a.configs]
if any(len(c) != 2 for c in cfgs):
    sys.exit("each configuration is CLIENT_BUILD:SERVER_BUILD")
ncpu = os.cpu_count() or 1
srv_cpu = {ncpu - 1} if ncpu >= 2 else {0}
T = tempfile.mkdtemp(prefix="csvavro-hdfs-ab.")
taxi = f"{T}/taxi.csv"
JOB = ["--where", "passenger_count > 3", "--select", "pickup_datetime,passenger_count,trip_time_in_secs",
       "--split-size", "64M", "--overwrite", "--seed", "1", "-q", "-j1"]
env = dict(os.environ, HADOOP_USER_NAME=os.environ.get("USER", "root"))
procs, servers = [], []


def start(i, build):
    d = f"{T}/s{i}"
    os.makedirs(d)
    out = open(f"{d}/out", "w")
    p = subprocess.Popen([f"{build}/csvavro-hdfsd", "--data", f"{d}/srv", "--port", "0", "--block-size",
                          "64M", "--replication", "1", "--datanodes", "1"], stdout=out,
                         stderr=subprocess.DEVNULL, preexec_fn=lambda: os.sched_setaffinity(0, srv_cpu))
    procs.append(p)
    txt = ""
    for _ in range(200):
        txt = open(f"{d}/out").read()
        if "control" in txt:
            break
        time.sleep(0.05)
    lines = txt.split("\n")
    cport = int([l for l in lines if l.startswith("control")][0].rsplit(":", 1)[1])
    e = dict(env, HADOOP_NAMENODE=lines[0])
    subprocess.run([f"{cfgs[i][0]}/csvavro", "fs", "put", taxi, "hdfs:///taxi.csv"], env=e, check=True)
    f = socket.create_connection(("127.0.0.1", cport)).makefile("rw")
    servers.append((e, f))


def cpu_of(f):
    f.write("cpu\n")
    f.flush()
    r = f.readline().split()
    return int(r[1]) / 1e6


def run(i):
    """i = -1: local file; else configuration i. Returns (wall, csvavro cpu, server cpu)."""
    cli = f"{cfgs[max(i, 0)][0]}/csvavro"
    e, f = (env, None) if i < 0 else servers[i]
    src = taxi if i < 0 else "hdfs:///taxi.csv"
    s0 = cpu_of(f) if f else 0.0
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.sched_setaffinity(0, {0})
            os.execve(cli, [cli, "convert", src, f"{T}/o{i}.avro"] + JOB, e)
        finally:
            os._exit(127)
    _, st, ru = os.wait4(pid, 0)
    w = time.perf_counter() - t
    if os.waitstatus_to_exitcode(st) != 0:
        raise SystemExit(f"{cli} failed on {src}")
    return w, ru.ru_utime + ru.ru_stime, (cpu_of(f) - s0) if f else 0.0


try:
    with open(taxi, "wb") as out:
        subprocess.run([f"{cfgs[0][0]}/gen_taxi", "--bytes", str(a.mib << 20), "--seed", "1"], stdout=out, check=True)
    for i, (_, srv) in enumerate(cfgs):
        start(i, srv)
    subprocess.run(["cat", taxi], stdout=subprocess.DEVNULL, check=True)
    for i in range(-1, len(cfgs)):
        run(i)  # warm-up round
    load0 = open("/proc/loadavg").read().split()[:3]
    res = {i: [] for i in range(-1, len(cfgs))}
    for p in range(a.pairs):
        for i in range(-1, len(cfgs)):
            res[i].append(run(i))
        lw, lc, _ = res[-1][-1]
        line = f"round {p + 1}: local wall {lw:.3f} cpu {lc:.3f}"
        for i in range(len(cfgs)):
            w, c, s = res[i][-1]
            line += f" | #{i + 1} wall {w:.3f} csvavro {c:.3f} server {s:.3f} (local/hdfs wall {lw / w:.2f} cpu {lc / c:.2f})"
        print(line, flush=True)
    load1 = open("/proc/loadavg").read().split()[:3]
    med = statistics.median
    print(f"load {' '.join(load0)} at start, {' '.join(load1)} at end; {a.mib} MiB, {a.pairs} rounds")
    print(f"local: median wall {med(r[0] for r in res[-1]):.3f} s, csvavro CPU {med(r[1] for r in res[-1]):.3f} s")
    for i, c in enumerate(cfgs):
        r = res[i]
        print(f"#{i + 1} client {c[0]}, server {c[1]}: median wall {med(x[0] for x in r):.3f} s, csvavro CPU "
              f"{med(x[1] for x in r):.3f} s, server CPU {med(x[2] for x in r):.3f} s; local/hdfs wall "
              f"{med(res[-1][k][0] / r[k][0] for k in range(a.pairs)):.2f}, CPU "
              f"{med(res[-1][k][1] / r[k][1] for k in range(a.pairs)):.2f}")
finally:
    for p in procs:
        p.terminate()
        p.wait()
    shutil.rmtree(T, ignore_errors=True)
