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


def _executing(prefix, dask_worker=None):
    """On a worker (client.run): the keys starting with prefix that it is executing."""
    state = getattr(dask_worker, "state", dask_worker)
    return [ts.key for ts in list(getattr(state, "executing", ()))
            if isinstance(ts.key, str) and ts.key.startswith(prefix)]


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


def _preferred(hosts, by_host, host_map=None):
    """Workers on any of the split's replica hosts. A replica host (as the NameNode names it)
    matches a worker host by name, by its short name, through host_map ({DataNode host: worker
    host}) or through DNS."""
    ws = []
    for h in hosts:
        keys = [h, h.split(".")[0]]
        if host_map:
            keys += [host_map.get(h), host_map.get(h.split(".")[0])]
        keys.append(_resolve(h))
        for key in keys:
            if key and key in by_host:
                ws.extend(a for a in by_host[key] if a not in ws)
    return ws


def split_workers(splits, by_host, host_map=None):
    """For each split of a plan (Job.splits() tuples), the workers preferred for it (maybe none):
    the placement csvavro.dask.convert asks the scheduler for (workers=..., allow_other_workers=
    True). by_host: {worker host: [worker addresses]}."""
    return [_preferred(s[3], by_host, host_map) if s[3] else [] for s in splits]


class ConvertJob:
    """A csvavro job running on a dask cluster. futures: one per split (for
    distributed.progress / wait); result(): waits, verifies, commits and returns Stats;
    cancel(): stops it and removes its temporary files."""

    def __init__(self, client, job, opts, plan, futures, splits=(), workers=()):
        self._key = "csvavro-split-%s" % json.loads(plan)["job_id"]
        self.client = client
        self._job = job
        self._opts = opts
        self._plan = plan
        self.futures = futures
        self.splits = list(splits)     # Job.splits(): (path, offset, length, hosts, output)
        self.workers = list(workers)   # the preferred workers asked for, per split
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
                # the result is here: dask must not run the split again when the worker holding
                # it dies (a re-run would rewrite the split's file during the commit)
                fut.release()
            self._quiet()
            self._stats = Stats(self._job.finish())
        except BaseException:
            self.cancel()
            raise
        finally:
            self._done = True
            self._job.close()
        return self._stats

    def _quiet(self, limit=600.0):
        """Waits until no worker still executes a split of this job: a run dask started again
        (its first worker was lost after the result came) is let finish before the commit
        renames the files. Raises rather than commit while one runs past limit seconds."""
        prefix = self._key + "-"
        end = time.monotonic() + limit
        while True:
            try:  # a worker that cannot answer (lost, restarting) writes nothing any more
                running = self.client.run(_executing, prefix, on_error="ignore")
            except Exception:
                return
            if not any(running.values()):
                return
            if time.monotonic() > end:
                raise _native.Error("a re-run of split(s) %s is still running after %.0f s; "
                                    "nothing committed" % (sorted(set(
                                        k for ks in running.values() for k in ks)), limit))
            time.sleep(0.1)

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


def convert(client, src, dst, *, on_split=None, retries=0, host_map=None, **options):
    """Runs csvavro.convert(src, dst, **options) on the dask.distributed client's cluster: one
    task per split (preferring the workers on its replica hosts), plan and commit in the caller.
    Returns a ConvertJob at once: job.futures for progress/wait, job.result() -> Stats.
    Options are csvavro.convert's (where, select, codec, seed, CSV options, ...); threads is per
    task and fixed to 1. host_map: {DataNode host name: worker host} where the NameNode's names
    for the DataNodes are not the workers' addresses and do not resolve to them. on_split(i), if
    given, runs on the worker before split i (tests)."""
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
        placement = split_workers(splits, by_host, host_map)
        futures = []
        for i, ws in enumerate(placement):
            where = {"workers": ws, "allow_other_workers": True} if ws else {}
            futures.append(client.submit(_run_split, opts, plan, i, on_split,
                                         key="%s-%d" % (key, i), pure=False, retries=retries,
                                         **where))
    except BaseException:
        job.close()
        raise
    return ConvertJob(client, job, opts, plan, futures, splits, placement)


def _convert_task(src, out_dir, options, n_planned):
    """The one conversion behind a read_csv frame, run when the frame is computed: on a
    dask.distributed worker, csvavro.dask.convert over the cluster (the task secedes while its
    splits run); under another scheduler, csvavro.convert here. Each run writes a new
    directory under out_dir. Returns the split files' URLs, in split order."""
    import uuid
    out = "%s/%s/part.*.avro" % (out_dir.rstrip("/"), uuid.uuid4().hex)
    try:
        from distributed import get_worker, worker_client
        get_worker()
    except (ImportError, ValueError):
        worker_client = None
    if worker_client is None:
        opts = dict(options)
        opts.pop("on_split", None)
        job = _native.Job(job_options(src, out, **opts))
        try:
            job.plan()
            files = [s[4] for s in job.splits()]
            if len(files) == n_planned:
                job.execute(None)
        finally:
            job.close()
    else:
        with worker_client() as client:
            job = convert(client, src, out, **options)
            files = [s[4] for s in job.splits]
            if len(files) != n_planned:
                job.cancel()
            else:
                job.result()
    if len(files) != n_planned:
        raise _native.Error("%s: the input changed after read_csv planned it (%d splits now, %d "
                            "partitions planned): call read_csv again" % (src, len(files),
                                                                         n_planned))
    return files


def _read_part(files, i):
    from . import _read_one
    return _read_one(files[i], None)


def read_csv(src, *, client=None, tmpdir=None, **options):
    """CSV (files, directories, globs; local or hdfs://) as a lazy dask.dataframe with one
    partition per csvavro split, typed by the job's schema and exact with quoted line breaks.

    Here, in the caller, the job is only planned (the headers and the inference sample are
    read: the schema gives the frame's dtypes, the splits its partitions); no rows are read
    until the frame is computed. Computing it runs one task that converts the rows (null codec)
    with csvavro.dask.convert on the cluster the task runs on (every split verified, as in
    convert), into a new directory under tmpdir; each partition then decodes its split's Avro
    file column-wise. Each compute converts again (persist() the frame to convert once).
    tmpdir: default a new directory in the system's temp directory; for a cluster of several
    machines pass an hdfs:// directory. The caller removes tmpdir when done with the frame.
    client is accepted for compatibility and not needed: the frame runs wherever it is computed.
    """
    import shutil
    import tempfile

    import dask.dataframe as dd
    from dask import delayed
    del client
    if tmpdir is None:
        tmpdir = tempfile.mkdtemp(prefix="csvavro-dask-")
    options.setdefault("codec", "null")
    options.pop("progress", None)
    plan_opts = {k: v for k, v in options.items() if k not in ("on_split", "retries",
                                                              "host_map")}
    scratch = tempfile.mkdtemp(prefix="csvavro-plan-")
    try:  # the plan as the task will make it (same options, the same output form)
        job = _native.Job(job_options(src, scratch + "/part.*.avro", **plan_opts))
        try:
            job.plan()
            sj = job.schema_json()
            n = len(job.splits())
        finally:
            job.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    meta = _frame.empty([(name, t) for name, t, _nl, _h in _fields(sj)])
    if n == 0:
        return dd.from_pandas(meta, npartitions=1)
    files = delayed(_convert_task, pure=False)(src, tmpdir, options, n)
    parts = [delayed(_read_part, pure=True)(files, i) for i in range(n)]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)
