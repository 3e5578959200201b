#!/usr/bin/python3
"""libcsvavro.so exports exactly the functions include/csvavro.h declares (the objects are
built with -fvisibility=hidden; the header switches visibility back on for its declarations):
every dynamic symbol the library defines is declared there, and every declared function is
exported.

usage: check_exports.py SOURCE_DIR LIBCSVAVRO_SO
"""
import re
import subprocess
import sys

src, lib = sys.argv[1], sys.argv[2]
header = open(f"{src}/include/csvavro.h").read()
code = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
declared = set(re.findall(r"\b(csvavro_\w+)\s*\(", code))
out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True,
                     check=True).stdout
exported = set()
for line in out.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "TtDdBbRrVWiu":
        exported.add(parts[2].split("@")[0])
extra = sorted(exported - declared)
missing = sorted(declared - exported)
for s in extra:
    print(f"exported but not in csvavro.h: {s}")
for s in missing:
    print(f"declared in csvavro.h but not exported: {s}")
print(f"check_exports: {len(exported)} exported, {len(declared)} declared, "
      f"{len(extra)} extra, {len(missing)} missing")
sys.exit(1 if extra or missing or not declared else 0)
