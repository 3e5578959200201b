"""HDFileSystem: an fsspec file system for hdfs:// over csvavro's native HDFS client.

No JVM, no libhdfs: every call goes to libcsvavro's own Hadoop RPC and data-transfer client
(the same one `csvavro convert hdfs://…` uses), with the GIL released. Importing csvavro
registers it for the "hdfs" protocol, so pandas and dask open hdfs:// URLs through it:

    pd.read_csv("hdfs://nn:8020/nyc/trip_data_1.csv", nrows=5)
    dask.dataframe.read_csv("hdfs://nn:8020/nyc/*.csv")

The NameNode comes from the URL (hdfs://host:port/path), else from HADOOP_NAMENODE or
fs.defaultFS in $HADOOP_CONF_DIR/core-site.xml, as for the CLI. Files open for reading
("rb": positioned reads of block_size) and writing ("wb": streamed; the file is complete and
visible only after close()). A file opened for writing that is garbage-collected unclosed, or
whose writer raises, is aborted (removed), never left half-written.
"""
import posixpath

from fsspec.spec import AbstractBufferedFile, AbstractFileSystem
from fsspec.utils import infer_storage_options

from . import _native
from ._native import NotFoundError


class HDFileSystem(AbstractFileSystem):
    """fsspec file system for hdfs:// (csvavro's native client)."""

    protocol = ("hdfs",)
    root_marker = "/"

    def __init__(self, host=None, port=None, **kwargs):
        super().__init__(**kwargs)
        self.host = host
        self.port = port
        self._fs = None

    @property
    def _backend(self):
        if self._fs is None:  # connects lazily (and again in each process it is sent to)
            if self.host:
                url = "hdfs://%s:%d/" % (self.host, int(self.port or 8020))
            else:
                url = "hdfs:///"
            self._fs, _ = _native.open_url(url)
        return self._fs

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        if path.startswith("hdfs:"):
            path = infer_storage_options(path)["path"]
        path = path.rstrip("/") or "/"
        return path if path.startswith("/") else "/" + path

    @staticmethod
    def _get_kwargs_from_urls(path):
        o = infer_storage_options(path)
        out = {}
        if o.get("host"):
            out["host"] = o["host"]
        if o.get("port"):
            out["port"] = o["port"]
        return out

    def unstrip_protocol(self, name):
        return self._backend.url(name)

    def _entry(self, path, st):
        return {"name": path, "size": st["size"], "type": "directory" if st["is_dir"] else "file",
                "mtime": st["mtime_ms"] / 1000.0, "mode": st["mode"], "owner": st["owner"],
                "group": st["group"], "replication": st["replication"],
                "block_size": st["block_size"]}

    def info(self, path, **kwargs):
        path = self._strip_protocol(path)
        return self._entry(path, self._backend.stat(path))

    def ls(self, path, detail=True, **kwargs):
        path = self._strip_protocol(path)
        st = self._backend.stat(path)
        if not st["is_dir"]:
            entries = [self._entry(path, st)]
        else:
            entries = [self._entry(posixpath.join(path, name), s)
                       for name, s in self._backend.list(path)]
        return entries if detail else [e["name"] for e in entries]

    def mkdir(self, path, create_parents=True, **kwargs):
        self._backend.mkdir(self._strip_protocol(path), bool(create_parents))
        self.invalidate_cache(path)

    def makedirs(self, path, exist_ok=False):
        path = self._strip_protocol(path)
        if not exist_ok and self.exists(path):
            raise FileExistsError(path)
        self._backend.mkdir(path, True)

    def rm_file(self, path):
        self._backend.remove(self._strip_protocol(path), False)
        self.invalidate_cache(path)

    def _rm(self, path):
        self.rm_file(path)

    def rm(self, path, recursive=False, maxdepth=None):
        paths = path if isinstance(path, list) else [path]
        for p in paths:
            p = self._strip_protocol(p)
            if maxdepth is not None:
                raise NotImplementedError("maxdepth")
            self._backend.remove(p, bool(recursive))
        self.invalidate_cache()

    def rmdir(self, path):
        self._backend.remove(self._strip_protocol(path), False)

    def mv(self, path1, path2, recursive=False, maxdepth=None, **kwargs):
        self._backend.rename(self._strip_protocol(path1), self._strip_protocol(path2), False)
        self.invalidate_cache()

    def du(self, path, total=True, maxdepth=None, **kwargs):
        if not total:
            return super().du(path, total=False, maxdepth=maxdepth, **kwargs)
        return self._backend.content_summary(self._strip_protocol(path))[0]

    def get_block_locations(self, path):
        """[{'offset', 'length', 'hosts'}] of a file's blocks (replica hosts, nearest first)."""
        return [{"offset": o, "length": n, "hosts": h}
                for o, n, h in self._backend.blocks(self._strip_protocol(path))]

    def created(self, path):
        raise NotImplementedError("HDFS keeps no creation time")

    def modified(self, path):
        import datetime
        return datetime.datetime.utcfromtimestamp(self.info(path)["mtime"])

    def _open(self, path, mode="rb", block_size=None, autocommit=True, cache_options=None,
              **kwargs):
        path = self._strip_protocol(path)
        if mode not in ("rb", "wb"):
            raise ValueError("HDFileSystem opens files with mode 'rb' or 'wb', not %r" % mode)
        return HDFile(self, path, mode, block_size=block_size or "default",
                      autocommit=autocommit, cache_options=cache_options, **kwargs)


class HDFile(AbstractBufferedFile):
    """A file of HDFileSystem: positioned reads, or one streamed write completed by close()."""

    DEFAULT_BLOCK_SIZE = 4 * 2**20

    def __init__(self, fs, path, mode="rb", **kwargs):
        self._f = None
        if mode == "rb":
            self._f = fs._backend.open_read(path)
            kwargs["size"] = self._f.size()
        super().__init__(fs, path, mode, **kwargs)

    def _fetch_range(self, start, end):
        return self._f.pread(max(0, end - start), start)

    def _initiate_upload(self):
        self._f = self.fs._backend.create(self.path, True)

    def _upload_chunk(self, final=False):
        data = self.buffer.getvalue()
        if data:
            self._f.write(data)
        if final:
            f, self._f = self._f, None
            f.close()  # complete and visible; raises when it is not
        return True

    def discard(self):
        if self._f is not None and self.mode == "wb":
            self._f.abort()
            self._f = None

    def close(self):
        try:
            super().close()
        except BaseException:
            self.discard()
            raise
        finally:
            if self._f is not None and self.mode == "rb":
                self._f.close()
                self._f = None

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.mode == "wb":
            self.discard()  # the writer failed: no half-written file
            self.closed = True
            return
        self.close()

    def __del__(self):
        if getattr(self, "_f", None) is not None and self.mode == "wb" and not self.closed:
            self._f.abort()  # never leave a half-written file
            self._f = None


__all__ = ["HDFileSystem", "HDFile", "NotFoundError"]
