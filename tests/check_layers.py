#!/usr/bin/python3
"""The module graph as the build states it (CAV_DEPS_<m> / CAV_LIBS_<m> in CMakeLists.txt) is the
one the code uses: fails on any #include across an edge that is not stated.

  src/<m>/*      may include its own files, the public headers (include/csvavro.h), the headers
                 of the modules in CAV_DEPS_<m>, and the headers of the external libraries in
                 CAV_LIBS_<m> (linked, PkgConfig::X, or loaded on first use, cav_dl_X; plus the
                 C library and the OS); <mpi.h> only in exec_mpi.c.
  tools/csvavro  the public headers only (include/), and tools/opt.
  tools/opt      the public headers only.
  tools/hdfsd    core and the generated protobuf headers (it is independent of the client).

Also rejects raw allocation calls (malloc, calloc, realloc, strdup, strndup, free,
aligned_alloc, posix_memalign) in src/ outside src/core/core_alloc.c: every library allocation
goes through cav_* so that the failing-allocation sweep reaches it.

usage: check_layers.py [SOURCE_DIR]
"""
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CSVAVRO_SRC", ".")

# external headers -> the CMake name of their library
EXTERNAL = {
    "jansson.h": "PkgConfig::JANSSON", "zstd.h": "PkgConfig::ZSTD",
    "libdeflate.h": "PkgConfig::DEFLATE", "lzma.h": "PkgConfig::LZMA",
    "snappy-c.h": "PkgConfig::SNAPPY", "zlib.h": "PkgConfig::ZLIB", "zip.h": "PkgConfig::LIBZIP",
    "protobuf-c/protobuf-c.h": "PkgConfig::PROTOBUFC", "bzlib.h": "${BZ2_LIB}",
    "mpi.h": "MPI",
}
PREFIXES = {"gssapi/": "PkgConfig::GSSAPI", "openssl/": "PkgConfig::LIBCRYPTO",
            "sasl/": "PkgConfig::LIBSASL2"}


def external(target):
    """The CMake library an external header belongs to, or None (C library, OS)."""
    if target in EXTERNAL:
        return EXTERNAL[target]
    for prefix, lib in PREFIXES.items():
        if target.startswith(prefix):
            return lib
    return None


def dlopened(lib):
    """The CMake name of a library's headers when the module loads it on first use (dlopen)."""
    return "cav_dl_" + lib.split("::")[-1]


RAW_ALLOC = re.compile(
    r"(?<![\w.>])(malloc|calloc|realloc|strdup|strndup|free|aligned_alloc|posix_memalign)\s*\(")


def cmake_lists():
    text = open(os.path.join(SRC, "CMakeLists.txt")).read()
    sets = {}
    for m in re.finditer(r"^set\((CAV_(?:DEPS|LIBS)_\w+|CAV_MODULES)\b([^)]*)\)", text, re.M):
        sets[m.group(1)] = m.group(2).split()
    return sets


def strip_comments(code):
    code = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), code, flags=re.S)
    code = re.sub(r"//[^\n]*", "", code)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', code)


def includes(path):
    out = []
    with open(path, errors="replace") as f:
        for no, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
            if m:
                out.append((no, m.group(1), m.group(2)))
    return out


def module_of(target, here_mod, path):
    """The src module a quoted include names, or None (own dir / public / generated)."""
    if target.endswith(".pb-c.h"):
        return "hdfs"
    if target in ("csvavro.h", "csvavro_mpi.h"):
        return "public"
    norm = os.path.normpath(os.path.join(os.path.dirname(path), target))
    rel = os.path.relpath(norm, os.path.join(SRC, "src"))
    if not rel.startswith(".."):
        return rel.split(os.sep)[0]
    parts = target.split("/")
    if len(parts) > 1:  # "core/core.h" relative to src/
        return parts[0]
    return here_mod


def main():
    sets = cmake_lists()
    modules = sets.get("CAV_MODULES", [])
    errors = []
    n_files = 0
    for mod in modules:
        d = os.path.join(SRC, "src", mod)
        deps = set(sets.get(f"CAV_DEPS_{mod}", []))
        libs = set(sets.get(f"CAV_LIBS_{mod}", []))
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(d, name)
            n_files += 1
            where = os.path.relpath(path, SRC)
            for no, kind, target in includes(path):
                if kind == '"':
                    m = module_of(target, mod, path)
                    if m == "public":
                        if target == "csvavro_mpi.h" and name != "exec_mpi.c":
                            errors.append(f"{where}:{no}: only exec_mpi.c implements {target}")
                    elif m != mod and m not in deps:
                        errors.append(f"{where}:{no}: module {mod} includes {target} of module "
                                      f"{m}, not in CAV_DEPS_{mod} {sorted(deps)}")
                elif external(target):
                    lib = external(target)
                    if lib == "MPI":
                        if name != "exec_mpi.c":
                            errors.append(f"{where}:{no}: only src/exec/exec_mpi.c knows MPI")
                    elif lib not in libs and dlopened(lib) not in libs:
                        errors.append(f"{where}:{no}: module {mod} includes <{target}> but "
                                      f"CAV_LIBS_{mod} lists neither {lib} nor {dlopened(lib)}")
            if name != "core_alloc.c":
                code = strip_comments(open(path, errors="replace").read())
                for k, line in enumerate(code.split("\n"), 1):
                    for m in RAW_ALLOC.finditer(line):
                        errors.append(f"{where}:{k}: raw {m.group(1)}() (use cav_{m.group(1)} "
                                      "or csvavro_free: src/core/core_alloc.c)")
    rules = {"csvavro": ("public", "opt"), "opt": ("public",), "hdfsd": ("core", "hdfs-pb", "opt")}
    for tool, allowed in rules.items():
        d = os.path.join(SRC, "tools", tool)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(d, name)
            n_files += 1
            where = os.path.relpath(path, SRC)
            for no, kind, target in includes(path):
                if kind != '"':
                    continue
                if os.path.exists(os.path.join(d, target)):
                    continue  # the tool's own files
                if target in ("csvavro.h", "csvavro_mpi.h") and "public" in allowed:
                    continue
                if target.startswith("opt/") and "opt" in allowed:
                    continue
                if target.startswith("core/") and "core" in allowed:
                    continue
                if target.endswith(".pb-c.h") and "hdfs-pb" in allowed:
                    continue
                errors.append(f"{where}:{no}: tools/{tool} may not include {target} "
                              f"(allowed: {', '.join(allowed)})")
    for e in errors:
        print(e)
    print(f"check_layers: {n_files} files, {len(modules)} modules, {len(errors)} problems")
    return 1 if errors or n_files == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
