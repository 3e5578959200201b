"""csvavro on a dask.distributed cluster: csvavro's splits as dask tasks.

    from distributed import Client, progress
    import csvavro.dask
    client = Client("scheduler:8786")
    job = csvavro.dask.convert(client, "hdfs://nn:8020/nyc/trip_data_1.csv",
                               "hdfs://nn:8020/nyc/avro/trip.*.avro",
                               where="passenger_count > 3", seed=1)
    progress(job.futures)            # or distributed.wait(job.futures)
    stats = job.result()             # verification and commit, here

How a job runs (the C core's "job in parts", include/csvavro.h):
  - plan in the caller: inputs, one schema, the filter, the splits, the destination check; the
    caller creates the temporary directory beside the destination;
  - one task per split on the workers, preferring the workers on the hosts holding the split's
    HDFS replicas (a preference, not a restriction); each task opens the plan with the same
    options and writes its split's file into the temporary directory through the C core;
  - the caller adds every task's result, verifies the splits in order (re-running here the rare
    split whose speculative start was wrong, docs/splits.md) and commits: renames to the final
    names, then _SUCCESS. The files are the CLI's, byte for byte with the same seed.
A worker lost mid-job: dask runs its tasks again on other workers (each run replaces the
previous run's files). When dask gives up (KilledWorker), a task fails, the caller is
interrupted (Ctrl-C) or job.cancel() is called, the temporary directory is removed and nothing is
committed; running tasks notice within ~0.5 s and stop.

The output (and the inputs) must be reachable from every worker at the same URL: hdfs://, or a
local path on one machine (a LocalCluster).
"""
import json
import os
import socket
import threading
import time

from . import Stats, _native, job_options, _fields, _frame

__all__ = ["convert", "read_csv", "ConvertJob"]


def _worker_options(opts):
    w = dict(opts)
    w["threads"] = 1  # a task is one split on one thread; dask runs several tasks per worker
    return w


def _watch(job, fs, tmp_dir, stop):
    """Cancels job when the driver removed the job's temporary directory."""
    while not stop.wait(0.25):
        try:
            fs.stat(tmp_dir)
        except _native.NotFoundError:
            job.cancel()
            return
        except Exception:
            pass


def _run_split(opts, plan, i, on_split=None):
    """The task: split i of the plan, run through the C core on this worker. Returns the split's
    result (bytes) for the driver; the split's own errors travel inside it."""
    if on_split is not None:
        on_split(i)
    job = _native.Job(_worker_options(opts), plan)
    stop = threading.Event()
    watcher = None
    try:
        tmp_dir = json.loads(plan)["tmp_dir"]
        fs, _ = _native.open_url(opts["output"])
        watcher = threading.Thread(target=_watch, args=(job, fs, tmp_dir, stop), daemon=True)
        watcher.start()
        result, _error = job.run_split(i)
        return result
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
        job.close()


def _host_workers(client):
    """{host name or address: [worker addresses]} of the cluster."""
    out = {}
    for addr, w in client.scheduler_info().get("workers", {}).items():
        host = w.get("host") or addr.split("://")[-1].rsplit(":", 1)[0]
        out.setdefault(host, []).append(addr)
    return out


def _resolve(h):
    try:
        return socket.gethostbyname(h)
    except OSError:
        return None


def _preferred(hosts, by_host):
    """Workers on any of the split's replica hosts (names or addresses)."""
    ws = []
    for h in hosts:
        for key in (h, h.split(".")[0], _resolve(h)):
            if key and key in by_host:
                ws.extend(a for a in by_host[key] if a not in ws)
    return ws


class ConvertJob:
    """A csvavro job running on a dask cluster. futures: one per split (for
    distributed.progress / wait); result(): waits, verifies, commits and returns Stats;
    cancel(): stops it and removes its temporary files."""

    def __init__(self, client, job, opts, plan, futures):
        self.client = client
        self._job = job
        self._opts = opts
        self._plan = plan
        self.futures = futures
        self._done = False
        self._stats = None

    def __len__(self):
        return len(self.futures)

    def result(self):
        if self._done:
            if self._stats is None:
                raise _native.Error("job was cancelled or failed")
            return self._stats
        from distributed import as_completed
        try:
            for fut, res in as_completed(self.futures, with_results=True):
                self._job.add_result(res)  # raises at a failure that certainly fails the job
            self._stats = Stats(self._job.finish())
        except BaseException:
            self.cancel()
            raise
        finally:
            self._done = True
            self._job.close()
        return self._stats

    def cancel(self):
        """Cancels the tasks and discards the temporary directory (nothing is committed)."""
        self._done = True
        try:
            self.client.cancel(self.futures)
        except Exception:
            pass
        tmp_dir = json.loads(self._plan)["tmp_dir"]
        self._job.close()  # removes the temporary directory
        # a task that was just starting may have created a file after that: once the running
        # tasks saw the directory gone (they poll every 0.25 s), sweep once more
        time.sleep(0.6)
        try:
            fs, _ = _native.open_url(self._opts["output"])
            fs.remove(tmp_dir, True)
        except _native.NotFoundError:
            pass


def convert(client, src, dst, *, on_split=None, retries=0, **options):
    """Runs csvavro.convert(src, dst, **options) on the dask.distributed client's cluster: one
    task per split (preferring the workers on its replica hosts), plan and commit in the caller.
    Returns a ConvertJob at once: job.futures for progress/wait, job.result() -> Stats.
    Options are csvavro.convert's (where, select, codec, seed, CSV options, ...); threads is per
    task and fixed to 1. on_split(i), if given, runs on the worker before split i (tests)."""
    options.pop("progress", None)
    opts = job_options(src, dst, **options)
    job = _native.Job(opts)
    try:
        job.plan()
        splits = job.splits()
        plan = job.begin()
    except BaseException:
        job.close()
        raise
    try:
        by_host = _host_workers(client)
        key = "csvavro-split-%s" % json.loads(plan)["job_id"]
        futures = []
        for i, (_path, _off, _len, hosts, _out) in enumerate(splits):
            ws = _preferred(hosts, by_host) if hosts else []
            where = {"workers": ws, "allow_other_workers": True} if ws else {}
            futures.append(client.submit(_run_split, opts, plan, i, on_split,
                                         key="%s-%d" % (key, i), pure=False, retries=retries,
                                         **where))
    except BaseException:
        job.close()
        raise
    return ConvertJob(client, job, opts, plan, futures)


def _read_part(url, columns=None):
    from . import _read_one
    return _read_one(url, columns)


def read_csv(src, *, client=None, tmpdir=None, **options):
    """CSV (files, directories, globs; local or hdfs://) as a dask.dataframe with one partition
    per csvavro split, typed by the job's schema and exact with quoted line breaks (the splits
    are verified as in convert). The rows are converted once on the cluster (csvavro.dask.convert,
    null codec) into tmpdir (default: a new directory in the system's temp directory; for a
    cluster of several machines pass an hdfs:// directory); each partition then decodes its
    split's Avro file column-wise. The caller removes tmpdir when done with the frame."""
    import dask.dataframe as dd
    from dask import delayed
    if client is None:
        from distributed import get_client
        client = get_client()
    if tmpdir is None:
        import tempfile
        tmpdir = tempfile.mkdtemp(prefix="csvavro-dask-")
    out = tmpdir.rstrip("/") + "/part.*.avro"
    options.setdefault("codec", "null")
    job = convert(client, src, out, **options)
    job.result()
    plan = json.loads(job._plan)
    fields = [(n, t) for n, t, _nl, _h in _fields(plan["output_schema"])]
    meta = _frame.empty(fields)
    n = len(job.futures)
    prefix = tmpdir.rstrip("/") + "/part."
    parts = [delayed(_read_part)("%s%d.avro" % (prefix, i)) for i in range(n)]
    if not parts:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_delayed(parts, meta=meta, verify_meta=False)
