"""csvavro — CSV to Avro at C speed, from Python.

    import csvavro
    st = csvavro.convert("trip.csv", "out/trip.*.avro", where="passenger_count > 3",
                         select=["pickup_datetime", "passenger_count"], seed=1)
    df = csvavro.read_avro("out/")               # the committed dataset, as pandas
    csvavro.head("hdfs://nn:8020/nyc/trip_data_1.csv")

Everything runs in libcsvavro (the GIL is released while it works); this package only shapes
options and results. docs/python.md has the whole reference; csvavro.dask runs jobs on a
dask.distributed cluster; csvavro.HDFileSystem gives fsspec (pandas, dask) hdfs:// without a JVM.
"""
import fnmatch
import json
import os
import posixpath
import shutil
import tempfile

from . import _frame
from ._native import (Error, ExistsError, NotFoundError, PermissionDeniedError,  # noqa: F401
                      VERSION)
from . import _native

__version__ = VERSION
__all__ = ["convert", "head", "schema", "read_csv", "read_avro", "Stats", "Error",
           "NotFoundError", "ExistsError", "PermissionDeniedError", "HDFileSystem"]

# CSV options (the **csv of convert, head, schema, read_csv), as the CLI's --options
CSV_OPTIONS = ("delimiter", "quote", "escape", "comment", "header", "names", "skip_rows",
               "null_values", "encoding", "max_record_bytes", "on_error", "reject_file",
               "max_errors", "infer_rows", "types", "not_null", "record_name", "namespace",
               "compression", "zip_entry", "skip_initial_space", "trim", "keep_empty_columns",
               "union_by_name")


class Stats:
    """What a finished job did (csvavro_job_stats): rows read/kept/rejected, bytes, files,
    seconds. Attributes: inputs, splits, splits_rerun, bytes_total, bytes_read, rows_read,
    rows_kept, rows_rejected, files_written, bytes_written, elapsed_s, output_existed (mode
    "ignore" found the output and wrote nothing)."""

    __slots__ = ("inputs", "splits", "splits_done", "splits_rerun", "bytes_total",
                 "bytes_read", "rows_read", "rows_kept", "rows_rejected", "files_written",
                 "bytes_written", "elapsed_s", "output_existed")

    def __init__(self, d):
        for k in self.__slots__:
            setattr(self, k, d.get(k, 0))

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self):
        return ("Stats(rows_read=%d, rows_kept=%d, rows_rejected=%d, files_written=%d, "
                "bytes_written=%d, bytes_read=%d, splits=%d, elapsed_s=%.3f)" % (
                    self.rows_read, self.rows_kept, self.rows_rejected, self.files_written,
                    self.bytes_written, self.bytes_read, self.splits, self.elapsed_s))


def _list(v, name):
    if v is None:
        return None
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict) and name == "rename":
        return ["%s=%s" % kv for kv in v.items()]
    if isinstance(v, dict) and name == "types":
        return ["%s=%s" % kv for kv in v.items()]
    if isinstance(v, dict) and name == "meta":
        return ["%s=%s" % kv for kv in v.items()]
    return [str(x) for x in v]


def _csv(csv):
    unknown = set(csv) - set(CSV_OPTIONS)
    if unknown:
        raise TypeError("unknown option(s): %s (CSV options are: %s)" % (
            ", ".join(sorted(unknown)), ", ".join(CSV_OPTIONS)))
    d = {}
    for k, v in csv.items():
        if v is None:
            continue
        if k in ("names", "null_values", "types", "not_null"):
            v = _list(v, k)
        if k == "infer_rows" and v == "all":
            v = 2**64 - 1
        d[k] = v
    return d


def _schema_text(schema):
    if schema is None:
        return None
    if isinstance(schema, dict):
        return json.dumps(schema)
    if isinstance(schema, str) and schema.lstrip().startswith("{"):
        return schema
    with open(schema, encoding="utf-8") as f:  # a path to an .avsc file
        return f.read()


def job_options(src, dst, *, where=None, select=None, exclude=None, rename=None, limit=None,
                schema=None, split_size=None, threads=None, batch_rows=None, overwrite=False,
                mode=None, codec=None, level=None, block_size=None, seed=None, meta=None, **csv):
    """The options dict of the extension's Job from csvavro.convert's arguments."""
    srcs = [src] if isinstance(src, (str, os.PathLike)) else list(src)
    return {
        "inputs": [os.fspath(s) for s in srcs], "output": os.fspath(dst), "where": where,
        "select": _list(select, "select"), "exclude": _list(exclude, "exclude"),
        "rename": _list(rename, "rename"), "limit": limit, "schema_json": _schema_text(schema),
        "split_size": split_size, "threads": threads, "batch_rows": batch_rows,
        "overwrite": overwrite, "mode": mode, "codec": codec, "level": level, "block_size": block_size,
        "seed": seed, "meta": _list(meta, "meta"), "csv": _csv(csv),
    }


class _Bar:
    """tqdm progress (terminal or notebook) fed by the job's progress callback."""

    def __init__(self, desc):
        from tqdm.auto import tqdm
        self.tqdm = tqdm
        self.bar = None
        self.desc = desc

    def __call__(self, s, final):
        if self.bar is None:
            self.bar = self.tqdm(total=s["bytes_total"], unit="B", unit_scale=True,
                                 unit_divisor=1024, desc=self.desc, leave=True)
        self.bar.n = min(s["bytes_read"], s["bytes_total"])
        self.bar.set_postfix(rows=s["rows_read"], kept=s["rows_kept"], refresh=False)
        self.bar.refresh()
        if final:
            self.close()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def convert(src, dst, *, where=None, select=None, exclude=None, rename=None, limit=None,
            schema=None, split_size=None, threads=None, batch_rows=None, overwrite=False,
            mode=None, codec=None, level=None, block_size=None, seed=None, meta=None, progress=True,
            **csv):
    """Converts CSV (files, directories, globs; local or hdfs://) to Avro, as `csvavro convert`.

    dst: 'dir/name.*.avro' (one file per split), a directory ('dir/': part-NNNNN.avro), or one
    file. mode: what to do when the output exists: 'error' (default), 'overwrite', 'append' (add
    this job's files to the dataset), 'ignore' (write nothing). where: a filter expression; select/exclude: column lists; rename: {"old": "new"};
    codec: null, deflate, snappy, zstandard, bzip2, xz; seed: byte-identical reruns; **csv: the
    CSV options (delimiter, header, names, null_values, on_error, types={"col": "long"}, ...).
    progress: a tqdm bar (True), nothing (False), or a callable(stats_dict, final).
    Returns Stats. Ctrl-C cancels: temporary files are removed, KeyboardInterrupt is raised.
    Errors raise csvavro.Error with the C error's fields (path, line, offset, column, value)."""
    opts = job_options(src, dst, where=where, select=select, exclude=exclude, rename=rename,
                       limit=limit, schema=schema, split_size=split_size, threads=threads,
                       batch_rows=batch_rows, overwrite=overwrite, mode=mode, codec=codec,
                       level=level,
                       block_size=block_size, seed=seed, meta=meta, **csv)
    cb = _Bar("convert") if progress is True else (progress or None)
    job = _native.Job(opts)
    try:
        job.plan()
        return Stats(job.execute(cb))
    finally:
        if isinstance(cb, _Bar):
            cb.close()
        job.close()


def _plan(src, **kw):
    """A planned job (not run) for src with kw (select, where, ... and CSV options)."""
    tmp = tempfile.mkdtemp(prefix="csvavro-plan-")
    try:
        job = _native.Job(job_options(src, os.path.join(tmp, "x.avro"), **kw))
        job.plan()
        return job
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fields(schema_json):
    """[(name, csvavro type, nullable, header)] of a csvavro-written Avro schema."""
    names = {"boolean": _frame.BOOLEAN, "int": _frame.INT, "long": _frame.LONG,
             "float": _frame.FLOAT, "double": _frame.DOUBLE, "string": _frame.STRING,
             "bytes": _frame.BYTES, "null": _frame.NULL}
    logical = {"date": _frame.DATE, "timestamp-micros": _frame.TS_MICROS,
               "local-timestamp-micros": _frame.LOCAL_TS_MICROS,
               "timestamp-millis": _frame.TS_MILLIS,
               "local-timestamp-millis": _frame.LOCAL_TS_MILLIS}
    out = []
    for f in json.loads(schema_json)["fields"]:
        t = f["type"]
        nullable = isinstance(t, list)
        if nullable:
            t = [x for x in t if x != "null"][0]
        if isinstance(t, dict) and t.get("logicalType") == "decimal":
            typ = _frame.DECIMAL_FIXED if t.get("type") == "fixed" else _frame.DECIMAL
        elif isinstance(t, dict):
            typ = logical.get(t.get("logicalType"), names.get(t.get("type")))
        else:
            typ = names[t]
        out.append((f["name"], typ, nullable, f.get("csvavro.header", f["name"])))
    return out


def _scales(schema_json):
    """{field name: scale} of the decimal fields of an Avro record schema."""
    out = {}
    for f in json.loads(schema_json).get("fields", []):
        t = f["type"]
        for b in (t if isinstance(t, list) else [t]):
            if isinstance(b, dict) and b.get("logicalType") == "decimal":
                out[f["name"]] = int(b.get("scale", 0))
    return out


def schema(src, **kw):
    """The output schema a conversion of src would have (after select/exclude/rename and the CSV
    options), as `csvavro schema`: a DataFrame with one row per field (name, header, type,
    nullable); the Avro schema itself is in .attrs["avro_schema"]."""
    import pandas as pd
    job = _plan(src, **kw)
    try:
        sj = job.schema_json()
    finally:
        job.close()
    dec = {f["name"]: b for f in json.loads(sj)["fields"]
           for b in (f["type"] if isinstance(f["type"], list) else [f["type"]])
           if isinstance(b, dict) and b.get("logicalType") == "decimal"}
    rows = [(n, h, "decimal(%d,%d)" % (dec[n]["precision"], dec[n].get("scale", 0)) if n in dec
             else _native.type_name(t), nl) for n, t, nl, h in _fields(sj)]
    df = pd.DataFrame(rows, columns=["name", "header", "type", "nullable"])
    df.attrs["avro_schema"] = json.loads(sj)
    return df


def _typed_text(name, t, texts, scale=0):
    """pandas Series of csvavro type t from the text values of a few rows (head)."""
    import numpy as np
    import pandas as pd
    n = len(texts)
    if t in (_frame.DECIMAL, _frame.DECIMAL_FIXED):
        arr = np.empty(n, dtype=object)
        arr[:] = [None if v is None else _frame.decimal_text(v, scale) for v in texts]
        return pd.Series(arr, dtype="object")
    if t in (_frame.STRING, _frame.BYTES, _frame.NULL):
        return pd.Series(pd.array(texts, dtype="string" if t == _frame.STRING else object))
    if t == _frame.BOOLEAN:
        return pd.Series(pd.array([None if v is None else v.strip().lower() == "true"
                                   for v in texts], dtype="boolean"))
    if t in (_frame.INT, _frame.LONG):
        return pd.Series(pd.array([None if v is None else int(v) for v in texts],
                                  dtype="Int32" if t == _frame.INT else "Int64"))
    if t in (_frame.FLOAT, _frame.DOUBLE):
        return pd.Series(np.array([np.nan if v is None else float(v) for v in texts],
                                  dtype=np.float32 if t == _frame.FLOAT else np.float64))
    s = pd.to_datetime(pd.Series(texts, dtype=object), utc=t in (_frame.TS_MICROS,
                                                                  _frame.TS_MILLIS))
    del n
    return s


def head(src, n=5, **csv):
    """The first n rows of a CSV file (local or hdfs://) with the types inference gives them, as
    `csvavro head`: a DataFrame. Reads only the rows it shows plus the inference sample."""
    import pandas as pd
    c = _csv(csv)
    url = os.fspath(src)
    sj = _native.csv_infer(url, c)
    fields, scales = _fields(sj), _scales(sj)
    names, rows = _native.csv_rows(url, c, int(n))
    data = {}
    for i, (name, t, _nullable, _h) in enumerate(fields):
        texts = [r[i] if i < len(r) else None for r in rows]
        data[name] = _typed_text(name, t, texts, scales.get(name, 0))
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def read_csv(src, *, where=None, select=None, exclude=None, rename=None, limit=None,
             schema=None, threads=None, split_size=None, **csv):
    """CSV (files, directories, globs; local or hdfs://) as a pandas DataFrame, filtered and
    projected by the C core on all cores, exact with quoted line breaks. Columns are built from
    the C column arrays (dtypes: Int64/Int32, boolean, float64, string, datetime64[ns]).

    The rows go through a temporary Avro file (null codec) in the system's temp directory: the
    job's parallel, verified split reading and then one columnar decode."""
    tmp = tempfile.mkdtemp(prefix="csvavro-read-")
    try:
        out = os.path.join(tmp, "rows.avro")
        job = _native.Job(job_options(src, out, where=where, select=select, exclude=exclude,
                                      rename=rename, limit=limit, schema=schema, threads=threads,
                                      split_size=split_size, codec="null", **csv))
        try:
            job.plan()
            job.execute(None)
        finally:
            job.close()
        return _read_one(out, None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_one(url, columns):
    sj, cols, n = _native.avro_columns(url, columns)
    return _frame.frame([(c[0], c[1], c[2], c[3], c[4]) for c in cols], n, _scales(sj))


def _is_hdfs(p):
    return p.startswith("hdfs:")


def _dataset_files(path):
    """Avro files of path: a file, a glob, or a directory (its committed files: those the
    _SUCCESS manifest lists, else every *.avro not starting with '.' or '_')."""
    if _is_hdfs(path):
        fs, bpath = _native.open_url(path)

        def url(p):
            return fs.url(p)

        def stat(p):
            return fs.stat(p)

        def listdir(p):
            return [name for name, _st in fs.list(p)]

        def read_text(p):
            f = fs.open_read(p)
            try:
                return f.pread(f.size(), 0).decode("utf-8")
            finally:
                f.close()
        join = posixpath.join
    else:
        bpath = path

        def url(p):
            return p

        def stat(p):
            return {"is_dir": os.path.isdir(p)} if os.path.exists(p) else None

        def listdir(p):
            return sorted(os.listdir(p))

        def read_text(p):
            with open(p, encoding="utf-8") as f:
                return f.read()
        join = os.path.join
    base = posixpath.basename(bpath.rstrip("/"))
    if any(ch in base for ch in "*?["):
        d = posixpath.dirname(bpath) or "."
        return [url(join(d, n)) for n in listdir(d)
                if fnmatch.fnmatchcase(n, base) and not n.startswith((".", "_"))]
    try:
        st = stat(bpath)
    except NotFoundError:
        st = None
    if st is None:
        raise NotFoundError("%s: no such file, directory or glob match" % path)
    if not st["is_dir"]:
        return [url(bpath)]
    names = listdir(bpath)
    if "_SUCCESS" in names:
        man = json.loads(read_text(join(bpath, "_SUCCESS")))
        listed = [o["path"] for o in man.get("outputs", [])]
        if listed:
            return listed
    return [url(join(bpath, n)) for n in names
            if n.endswith(".avro") and not n.startswith((".", "_"))]


def read_avro(path, columns=None):
    """Avro data as a pandas DataFrame, decoded column by column in C: one file, a glob
    ('out/trip.*.avro'), or a dataset directory (the files its _SUCCESS manifest lists); local
    or hdfs://. Flat records of primitive and logical fields (any writer). columns: the fields
    to keep, in this order."""
    import pandas as pd
    files = _dataset_files(os.fspath(path))
    if not files:
        raise NotFoundError("%s: no Avro files" % path)
    frames = [_read_one(f, list(columns) if columns is not None else None) for f in files]
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def __getattr__(name):
    if name == "HDFileSystem":
        from .fs import HDFileSystem
        return HDFileSystem
    raise AttributeError(name)


def _register_fsspec():
    try:
        import fsspec
    except ImportError:
        return
    fsspec.register_implementation("hdfs", "csvavro.fs.HDFileSystem", clobber=True)


_register_fsspec()
