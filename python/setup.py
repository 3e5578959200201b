"""Builds the csvavro Python package: `pip install ./python` (offline: no pyproject.toml, so pip
uses the setuptools that is installed, Debian's python3-setuptools, and fetches nothing).

The extension links libcsvavro statically, taken from (first found): $CSVAVRO_LIB_DIR, the
source tree's build/ (after `make`), or a static-library-only CMake build of the source tree made
here (python/build/libcsvavro). The library's own dependencies come from pkg-config, as
cmake/csvavro.pc.in lists them.
"""
import os
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def version():
    with open(os.path.join(ROOT, "include", "csvavro.h")) as f:
        for line in f:
            if line.startswith("#define CSVAVRO_VERSION"):
                return line.split('"')[1]
    return "0"


def lib_dir():
    for d in (os.environ.get("CSVAVRO_LIB_DIR"), os.path.join(ROOT, "build")):
        if d and os.path.exists(os.path.join(d, "libcsvavro.a")):
            return d
    d = os.path.join(HERE, "build", "libcsvavro")
    if not os.path.exists(os.path.join(d, "libcsvavro.a")):
        subprocess.check_call(["cmake", "-S", ROOT, "-B", d, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                               "-DCSVAVRO_MPI=OFF"])
        subprocess.check_call(["cmake", "--build", d, "--target", "csvavro_static", "-j",
                               str(os.cpu_count() or 1)])
    return d


def pkg_libs():
    """The static library's own dependencies, as the pkg-config file lists them."""
    requires, private = [], []
    with open(os.path.join(ROOT, "cmake", "csvavro.pc.in")) as f:
        for line in f:
            if line.startswith("Requires.private:"):
                requires = line.split(":", 1)[1].split()
            elif line.startswith("Libs.private:"):
                private = line.split(":", 1)[1].split()
    out = subprocess.check_output(["pkg-config", "--libs"] + requires, text=True).split() + private
    return [x[2:] for x in out if x.startswith("-l")], [x[2:] for x in out if x.startswith("-L")]


libs, dirs = pkg_libs()
ext = Extension(
    "csvavro._native", sources=["csvavro/_native.c"], include_dirs=[os.path.join(ROOT, "include")],
    extra_objects=[os.path.join(lib_dir(), "libcsvavro.a")],
    libraries=libs, library_dirs=dirs,
    extra_compile_args=["-std=c11", "-Wall", "-Wno-missing-field-initializers",
                        "-Wno-cast-function-type"])

setup(
    name="csvavro", version=version(),
    description="CSV to Avro at C speed: pandas in, pandas out, hdfs:// for fsspec, dask",
    packages=["csvavro"], ext_modules=[ext], python_requires=">=3.9",
    install_requires=[],  # numpy, pandas, fsspec, tqdm, dask, distributed: from Debian
    entry_points={"fsspec.specs": ["hdfs = csvavro.fs:HDFileSystem"]},
)
