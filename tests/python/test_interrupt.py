#!/usr/bin/python3
"""Ctrl-C in csvavro.convert: a SIGINT while the C core runs (GIL released) cancels the job
within one batch, removes its temporary directory and raises KeyboardInterrupt; nothing is left
where the output goes; the same call then runs to completion. Job.cancel() from another thread
stops a running split as well."""
import os
import signal
import subprocess
import sys
import threading
import time

from pyhelp import BUILD, check, done, equal, need, tmpdir

need("numpy", "pandas")
import csvavro  # noqa: E402
from csvavro import _native  # noqa: E402

T = tmpdir()
src = os.path.join(T, "in.csv")
with open(src, "w") as f:  # ~6 MB of varied text: xz -9 takes seconds over it on one thread
    f.write("k,v,w\n")
    f.writelines("%d,%x,%d\n" % (k, (k * 2654435761) % 2**32, k % 977) for k in range(400000))
out = os.path.join(T, "out")
prog = """
import sys
sys.path.insert(0, %r)
import csvavro
try:
    csvavro.convert(%r, %r, threads=1, codec="xz", level=9, progress=False)
except KeyboardInterrupt:
    print("KeyboardInterrupt")
    sys.exit(130)
print("finished")
""" % (os.path.join(BUILD, "python"), src, out + "/t.*.avro")
p = subprocess.Popen([sys.executable, "-c", prog], stdout=subprocess.PIPE, text=True)
seen = False
end = time.monotonic() + 300  # a loaded machine may take long to import pandas: no time limit
while p.poll() is None and time.monotonic() < end:  # wait for the job's temporary directory
    if os.path.isdir(out) and any(n.startswith(".csvavro-tmp-") for n in os.listdir(out)):
        seen = True
        break
    time.sleep(0.025)
check(seen, "job started (temporary directory exists)")
time.sleep(0.2)
t0 = time.time()
p.send_signal(signal.SIGINT)
stdout, _ = p.communicate(timeout=300)
equal((p.returncode, stdout.strip()), (130, "KeyboardInterrupt"),
      "SIGINT raised KeyboardInterrupt in the caller (after %.2f s)" % (time.time() - t0))
equal(sorted(os.listdir(out)) if os.path.isdir(out) else [], [],
      "nothing left in the output directory (no partial output, no temporary directory)")

st = csvavro.convert(src, out + "/t.*.avro", threads=2, progress=False, codec="null")
equal(st.rows_kept, 400000, "the same job then completes")

# Job.cancel() from another thread while a split runs (a worker's task)
opts = csvavro.job_options(src, os.path.join(T, "o2") + "/t.*.avro", codec="xz", level=9,
                           threads=1)
drv = _native.Job(opts)
drv.plan()
plan = drv.begin()
wk = _native.Job(dict(opts), plan)
threading.Timer(0.3, wk.cancel).start()
t0 = time.time()
res, err = wk.run_split(0)
check(err is not None and err.status_name == "CSVAVRO_E_INTERRUPTED",
      "Job.cancel() stops run_split (%s, %.2f s)" % (err, time.time() - t0))
wk.close()
drv.close()
equal([n for n in os.listdir(os.path.join(T, "o2"))], [],
      "closing the begun job removed its temporary directory")
done()
