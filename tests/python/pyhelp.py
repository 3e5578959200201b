"""pyhelp.py — shared helpers of the Python package tests (run with Debian's /usr/bin/python3).

The package under test is build/python/csvavro (CSVAVRO_BUILD/python on sys.path). A test that
cannot run (a Debian package missing) exits 77; scripts/deps.sh installs them all.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("CSVAVRO_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
CLI = os.environ.get("CSVAVRO_BIN", os.path.join(BUILD, "csvavro"))
HDFSD = os.environ.get("CSVAVRO_HDFSD", os.path.join(BUILD, "csvavro-hdfsd"))
sys.path.insert(0, os.path.join(BUILD, "python"))
os.environ.setdefault("TZ", "UTC")


def need(*modules):
    for m in modules:
        try:
            __import__(m)
        except ImportError as e:
            print("SKIP: %s (scripts/deps.sh installs it)" % e)
            sys.exit(77)


FAILS = []


def check(cond, what):
    if cond:
        print("ok: %s" % what)
    else:
        print("FAIL: %s" % what)
        FAILS.append(what)


def equal(a, b, what):
    if a == b:
        print("ok: %s" % what)
    else:
        print("FAIL: %s\n  got:      %r\n  expected: %r" % (what, a, b))
        FAILS.append(what)


def done():
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)


def tmpdir():
    d = tempfile.mkdtemp(prefix="csvavro-pytest-")
    import atexit
    atexit.register(shutil.rmtree, d, True)
    return d


def cli(*args):
    r = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("csvavro %s: %s" % (" ".join(map(str, args)), r.stderr))
    return r.stdout


class Hdfsd:
    """csvavro-hdfsd on free ports in a temp dir; HADOOP_NAMENODE points at it."""

    def __init__(self, *args):
        self.dir = tmpdir()
        self.out = open(os.path.join(self.dir, "out"), "w+")
        self.err = open(os.path.join(self.dir, "err"), "w+")
        env = dict(os.environ)
        env.pop("ASAN_OPTIONS", None)
        self.p = subprocess.Popen([HDFSD, "--data", os.path.join(self.dir, "data"), "--port", "0",
                                   "--superuser", os.environ.get("HADOOP_USER_NAME", "tester")]
                                  + list(args), stdout=self.out, stderr=self.err, env=env)
        for _ in range(200):
            self.out.seek(0)
            lines = self.out.read().splitlines()
            if len(lines) >= 2:
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("csvavro-hdfsd did not start")
        self.nn = lines[0].strip()
        os.environ["HADOOP_NAMENODE"] = self.nn
        import atexit
        atexit.register(self.stop)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait()


def gen_csv(path, rows, seed=1, quoted_newlines=True):
    """A CSV with every kind of value csvavro types: ints, doubles, strings with quotes, commas
    and line breaks, booleans, dates, timestamps, and empty (null) fields. Returns the rows."""
    import csv
    import random
    rnd = random.Random(seed)
    out = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n" if seed % 2 else "\n")
        w.writerow(["id", "name", "score", "flag", "day", "at", "count"])
        for i in range(rows):
            name = rnd.choice(["plain", "with, comma", 'say "hi"', "two\nlines", "crlf\r\nx",
                               "ünïcødé", ""]) if quoted_newlines else rnd.choice(["a", "b c", ""])
            row = [str(i), name,
                   "" if rnd.random() < 0.1 else repr(round(rnd.uniform(-1e6, 1e6), 3)),
                   rnd.choice(["true", "false", ""]),
                   "" if rnd.random() < 0.1 else "2013-%02d-%02d" % (rnd.randint(1, 12),
                                                                     rnd.randint(1, 28)),
                   "" if rnd.random() < 0.1 else "2013-01-%02d %02d:%02d:%02d" % (
                       rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59),
                       rnd.randint(0, 59)),
                   "" if rnd.random() < 0.1 else str(rnd.randint(-5, 2**40))]
            w.writerow(row)
            out.append(row)
    return out
