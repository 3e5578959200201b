# %% [markdown]
# # NYC taxi CSV on HDFS → Avro, with csvavro on dask.distributed
#
# The seed notebook did this with `distributed.Executor`, `hdfs3`, `read_binary` + `pd.read_csv`
# per block, `futures_to_dask_dataframe`, and a cyavro/fastavro writer per block. Here is the same
# workflow, step by step, with csvavro: the same cluster and the same futures, but no JVM, no
# libhdfs3, one schema for every file, exact rows when quotes hold line breaks, and the C core
# doing the parsing, filtering and Avro writing.
#
# Cells are marked `# %%` (Jupyter, VS Code and jupytext open this file as a notebook); it also
# runs as a script: `python3 examples/notebook.py`. Set `NYC` to your data, e.g.
# `NYC=hdfs://nn:8020/nyc` (default: `hdfs:///nyc`, the NameNode from HADOOP_NAMENODE or
# `$HADOOP_CONF_DIR/core-site.xml`), and `DASK_SCHEDULER` to a scheduler address (default: a
# LocalCluster of two worker processes).

# %%
import os

import pandas as pd
from distributed import Client, LocalCluster, progress, wait

import csvavro
import csvavro.dask

NYC = os.environ.get("NYC", "hdfs:///nyc").rstrip("/")
SRC = NYC + "/trip_data_1.csv"
OUT = NYC + "/avro/trip.*.avro"

# %% [markdown]
# ## 1. Connect to the cluster
# Seed: `e = Executor('127.0.0.1:8786')`. Here: a `Client` (the same cluster), or a local one.

# %%
if __name__ == "__main__":
    if os.environ.get("DASK_SCHEDULER"):
        client = Client(os.environ["DASK_SCHEDULER"])
    else:
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))
    print(client)

    # %% [markdown]
    # ## 2. Look at HDFS
    # Seed: `hdfs = HDFileSystem(host=..., port=8020); hdfs.ls('/nyc')`. csvavro's fsspec file
    # system speaks the HDFS protocols itself; importing csvavro registers it for `hdfs://`.

    # %%
    import fsspec

    fs = fsspec.filesystem("hdfs")  # csvavro.HDFileSystem
    print(fs.ls(NYC, detail=False))
    print(fs.info(SRC)["size"], "bytes in", len(fs.get_block_locations(SRC)), "blocks")

    # %% [markdown]
    # ## 3. Peek at the first rows
    # Seed: `with hdfs.open(...) as f: pd.read_csv(f, nrows=5)` — still works through fsspec.
    # `csvavro.head` also shows the types csvavro infers (the schema every Avro file will get).

    # %%
    print(pd.read_csv(SRC, nrows=5))
    print(csvavro.head(SRC, n=5).dtypes)
    print(csvavro.schema(SRC, select=["pickup_datetime", "passenger_count",
                                      "trip_time_in_secs"]))

    # %% [markdown]
    # ## 4. The CSV as a dask dataframe
    # Seed: `read_binary(..., delimiter=b'\n')`, `e.map(pd.read_csv, blocks)`,
    # `futures_to_dask_dataframe(futures)`. Here one call: one partition per csvavro split,
    # typed by the job's schema, exact even when quoted fields hold line breaks. The frame is
    # lazy (only the plan is made here); persist() converts once on the cluster.

    # %%
    scratch = NYC + "/tmp-notebook"
    df = csvavro.dask.read_csv(SRC, tmpdir=scratch).persist()
    print(df.npartitions, "partitions;", len(df), "rows")
    print(df.groupby("passenger_count").trip_time_in_secs.mean().compute())

    # %% [markdown]
    # ## 5. Filter, project and write Avro, one file per split, on the cluster
    # Seed: filter in pandas, `cyavro` per block (a schema per block), `e.map(write, ...)`,
    # `progress(futures)`. Here the filter and projection run in C, every file gets the same
    # schema, and the commit (renames, then `_SUCCESS`) happens only when every split succeeded.

    # %%
    job = csvavro.dask.convert(client, SRC, OUT, where="passenger_count > 3",
                               select=["pickup_datetime", "passenger_count",
                                       "trip_time_in_secs"],
                               codec="snappy", seed=1, overwrite=True)
    progress(job.futures)  # the seed's progress bar, on csvavro's futures
    wait(job.futures)
    stats = job.result()   # verification and commit, in this process
    print(stats)

    # %% [markdown]
    # ## 6. Read the Avro back
    # Seed: `hdfs.ls('/nyc/avro')` and fastavro. Here `read_avro` decodes column-wise in C the
    # files the `_SUCCESS` manifest lists.

    # %%
    print(fs.ls(NYC + "/avro", detail=False)[:5])
    trips = csvavro.read_avro(NYC + "/avro/")
    print(trips.dtypes)
    print(trips.describe())

    # %% [markdown]
    # ## 7. The same job without a cluster
    # `csvavro.convert` runs the job in this process on every core, with a progress bar;
    # Ctrl-C cancels it cleanly.

    # %%
    st = csvavro.convert(SRC, NYC + "/avro-local/trip.*.avro", where="passenger_count > 3",
                         select=["pickup_datetime", "passenger_count", "trip_time_in_secs"],
                         codec="snappy", seed=1, overwrite=True)
    print(st)
    fs.rm(scratch, recursive=True)
    client.close()
