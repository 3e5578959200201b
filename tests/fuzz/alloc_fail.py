#!/usr/bin/env python3
"""alloc_fail.py — the failing-allocation test of the CLI, end to end.

Runs `csvavro convert` on a small job (two inputs, several splits, quoted fields, a bad record
skipped, --where, --select, deflate, the single-file output form) once per allocation number n
with CSVAVRO_FAIL_ALLOC=n (the n-th library allocation fails), for n = 1, 2, ... until the runs
have succeeded for 40 allocation numbers in a row (the job makes fewer allocations than that
n: nothing failed any more). Every run must either
  - fail cleanly: exit status 1..127 (no signal), a "csvavro: ..." message naming the failure,
    no sanitizer report (under ASan: no leak), and nothing left in the output directory
    (no partial file, no temporary directory, no _SUCCESS); or
  - succeed (the failed allocation had a fallback) with output identical to the reference run.
Single-threaded (-j 1) so that allocation numbers are reproducible.
"""
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ["CSVAVRO_BIN"]
T = tempfile.mkdtemp(prefix="csvavro-allocfail.")
try:
    with open(os.path.join(T, "a.csv"), "w") as f:
        f.write('id,name,price,day\n1,"Smith, J",1.5,2013-01-05\n2,"multi\nline",2.25,2013-01-06\n'
                "x,bad,3,2013-01-07\n4,plain,-7,2013-01-08\n")
    with open(os.path.join(T, "b.csv"), "w") as f:
        f.write('id,name,price,day\n' + '5,"q""q",9e3,2020-02-29\n6,,0,1970-01-01\n' * 3)

    def run(n, out_dir):
        out = os.path.join(out_dir, "t.avro")
        env = dict(os.environ)
        if n:
            env["CSVAVRO_FAIL_ALLOC"] = str(n)
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=99:" + env.get("ASAN_OPTIONS", "")
        p = subprocess.run(
            [BIN, "convert", os.path.join(T, "a.csv"), os.path.join(T, "b.csv"), out,
             "--where", "price > 0 or name is null", "--select", "day,id,name",
             "--type", "id=long", "--on-error", "skip", "--codec", "deflate", "--seed", "7",
             "--split-size", "40", "-j", "1", "-q"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        return p.returncode, p.stderr.decode("utf-8", "replace"), out

    ref_dir = os.path.join(T, "ref")
    os.mkdir(ref_dir)
    rc, err, ref_out = run(0, ref_dir)
    if rc != 0:
        sys.exit("reference run failed: " + err)
    ref = open(ref_out, "rb").read()

    problems = []
    failures = 0
    ok_streak = 0
    n = 0
    while ok_streak < 40 and n < 20000:
        n += 1
        d = os.path.join(T, "o%d" % n)
        os.mkdir(d)
        rc, err, out = run(n, d)
        if rc == 0:
            ok_streak += 1
            if open(out, "rb").read() != ref:
                problems.append("n=%d: success with different output" % n)
        else:
            ok_streak = 0
            failures += 1
            left = sorted(os.listdir(d))
            if rc < 0 or rc >= 99:
                problems.append("n=%d: exit %d\n%s" % (n, rc, err[-2000:]))
            elif "Sanitizer" in err or "runtime error" in err:
                problems.append("n=%d: sanitizer report\n%s" % (n, err[-3000:]))
            elif not err.startswith("csvavro:") or not err.strip():
                problems.append("n=%d: no clear message: %r" % (n, err[:300]))
            elif left:
                problems.append("n=%d: left behind after failure: %s" % (n, left))
        shutil.rmtree(d)
        if len(problems) > 10:
            break
    print("alloc_fail: %d allocation numbers tried, %d runs failed cleanly, %d problems"
          % (n, failures, len(problems)))
    for p in problems:
        print("PROBLEM " + p)
    if n >= 20000:
        problems.append("never reached the end of the allocations")
    if failures < 20:
        problems.append("suspiciously few injected failures (%d): is CSVAVRO_FAIL_ALLOC honoured?" % failures)
    sys.exit(1 if problems else 0)
finally:
    shutil.rmtree(T, ignore_errors=True)
