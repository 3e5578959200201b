"""Helpers shared by the tests/input scripts (values.py, decimals.py, schema_map.py) and
tests/csv/fast_paths.py: run the CLI, read an Avro file back with python3-avro (the independent
reader), count failed checks, a temporary directory removed at exit."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader  # noqa: E402
from avro.io import DatumReader  # noqa: E402

BIN = os.environ["CSVAVRO_BIN"]
T = tempfile.mkdtemp(prefix="csvavro-input-")
atexit.register(shutil.rmtree, T, True)
_fails = 0


def run(*args, code=0, stdin=None, env=None):
    """The CLI with args; asserts its exit code (any with code=None); the CompletedProcess
    (text)."""
    p = subprocess.run([BIN, *args], capture_output=True, text=True, input=stdin,
                       env=None if env is None else {**os.environ, **env})
    assert code is None or p.returncode == code, \
        f"{args}: exit {p.returncode}, want {code}\n{p.stderr}"
    return p


def read(path):
    """(writer schema as a dict, records as dicts) of an Avro file, read by python3-avro."""
    with open(path, "rb") as f:
        r = DataFileReader(f, DatumReader())
        sch = json.loads(r.meta["avro.schema"])
        rows = [dict(x) for x in r]
        r.close()
    return sch, rows


def check(name, cond, msg=""):
    global _fails
    if not cond:
        _fails += 1
        print(f"FAIL {name}: {msg}"[:2000])
    else:
        print(f"ok {name}")


def finish():
    """Exits 1 when a check failed, else 0."""
    print("FAILED" if _fails else "OK")
    sys.exit(1 if _fails else 0)
