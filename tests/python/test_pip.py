#!/usr/bin/python3
"""`pip install ./python` works offline: into a fresh venv (with Debian's site packages for
numpy/pandas), with no index reachable (PIP_NO_INDEX); the installed package converts a CSV and
reads it back, and fsspec finds HDFileSystem for hdfs:// through the entry point alone."""
import os
import subprocess
import sys

from pyhelp import BUILD, check, done, need, tmpdir

need("numpy", "pandas", "fsspec", "venv", "setuptools")
T = tmpdir()
SRC = os.environ.get("CSVAVRO_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
venv = os.path.join(T, "venv")
subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
py = os.path.join(venv, "bin", "python")
env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
           CSVAVRO_LIB_DIR=BUILD)
# pip builds in place (python/build/): work on a copy so the source tree stays clean
work = os.path.join(T, "src")
os.makedirs(work)
for part in ("python", "include", "cmake"):
    subprocess.run(["cp", "-r", os.path.join(SRC, part), work], check=True)
r = subprocess.run([py, "-m", "pip", "install", "-q", os.path.join(work, "python")], env=env,
                   capture_output=True, text=True)
check(r.returncode == 0, "pip install ./python (offline)%s" % ("" if r.returncode == 0 else
                                                                ":\n" + r.stdout + r.stderr))
csvf = os.path.join(T, "a.csv")
with open(csvf, "w") as f:
    f.write("x,y\n1,a\n2,b\n3,\n")
prog = """
import fsspec
print(fsspec.get_filesystem_class("hdfs").__module__)
import csvavro
assert csvavro.__file__.startswith(%r), csvavro.__file__
st = csvavro.convert(%r, %r, progress=False)
df = csvavro.read_avro(%r)
assert st.rows_kept == 3 and df["x"].tolist() == [1, 2, 3], (st, df)
""" % (venv, csvf, os.path.join(T, "o.avro"), os.path.join(T, "o.avro"))
r = subprocess.run([py, "-c", prog], capture_output=True, text=True, cwd=T,
                   env=dict(os.environ, PYTHONPATH=""))
check(r.returncode == 0, "the installed package runs%s" % ("" if r.returncode == 0 else
                                                          ":\n" + r.stderr))
check(r.stdout.strip() == "csvavro.fs", "fsspec's hdfs entry point is csvavro's (%s)"
      % r.stdout.strip())
done()
