#!/usr/bin/python3
"""Interop tests of csvavro-hdfsd, driven only by Debian's Go `hdfs` command (hdfs-cli).

Usage: hdfsd_test.py GROUP   (roundtrip1, roundtrip3, namespace, restart, confdir, garbage,
faults). Each group starts its own server on --port 0 in a temporary directory and stops it at
the end. Expectations are independent of our code: byte-identical round trips (files compared
with the originals), the Go client's own error texts, and the file checksum recomputed here in
Python (MD5 over per-block MD5s of big-endian CRC32s, as the Go client documents it).
"""
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

BUILD = os.environ.get("CSVAVRO_BUILD", "build")
SERVER = os.path.join(BUILD, "csvavro-hdfsd")
HDFS = shutil.which("hdfs")
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, flush=True)


class Server:
    def __init__(self, tmp, *args, data=None):
        self.data = data or os.path.join(tmp, "data")
        self.args = list(args)
        self.start()

    def start(self):
        self.p = subprocess.Popen([SERVER, "--data", self.data, "--port", "0"] + self.args,
                                  stdout=subprocess.PIPE, text=True)
        self.nn = self.p.stdout.readline().strip()
        ctl = self.p.stdout.readline().split()[1]
        self.dns = []
        while len(self.dns) < self.ndn():
            self.dns.append(self.p.stdout.readline().split())
        host, port = ctl.split(":")
        self.ctl = (host, int(port))

    def ndn(self):
        return int(self.args[self.args.index("--datanodes") + 1]) if "--datanodes" in self.args else 3

    def control(self, line):
        with socket.create_connection(self.ctl, timeout=5) as s:
            s.sendall((line + "\n").encode())
            return s.makefile().readline().strip()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def hdfs(srv, *args, user="tester", env_extra=None, stdin=None):
    env = dict(os.environ, HADOOP_NAMENODE=srv.nn, HADOOP_USER_NAME=user)
    env.pop("HADOOP_CONF_DIR", None)
    if env_extra:
        env.update(env_extra)
    r = subprocess.run([HDFS] + list(args), env=env, capture_output=True, timeout=60,
                       input=stdin)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def file_checksum(data, block_size, crc):
    """Go client's file checksum: MD5 of concatenated block MD5s (padded to a power of 2 >= 32)."""
    md = b""
    for b in range(0, len(data), block_size):
        blk = data[b:b + block_size]
        crcs = b"".join(struct.pack(">I", crc(blk[i:i + 512])) for i in range(0, len(blk), 512))
        md += hashlib.md5(crcs).digest()
    pad = 32
    while pad < len(md):
        pad *= 2
    return hashlib.md5(md + b"\0" * (pad - len(md))).hexdigest()


def roundtrip(tmp, repl):
    bs = 1048576
    srv = Server(tmp, "--block-size", str(bs), "--replication", str(repl), "--read-packet", "1536")
    try:
        su = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True,
                                                       text=True).stdout.strip()
        rc, _, err = hdfs(srv, "mkdir", "-p", "/data/in", user=su)
        check(rc == 0, "mkdir -p as superuser: " + err)
        rc, _, err = hdfs(srv, "chown", "tester", "/data/in", user=su)
        check(rc == 0, "chown: " + err)
        sizes = [0, 1, 511, 512, 513, 100000, bs, bs + 1, 3 * bs + 777]
        rnd = os.urandom(3 * bs + 777)
        for n in sizes:
            local = os.path.join(tmp, "f%d" % n)
            with open(local, "wb") as f:
                f.write(rnd[:n])
            rc, _, err = hdfs(srv, "put", local, "/data/in/f%d" % n)
            check(rc == 0, "put %d: %s" % (n, err))
            rc, out, err = hdfs(srv, "cat", "/data/in/f%d" % n)
            check(rc == 0 and out == rnd[:n], "cat %d round trip (rc %d, %d bytes) %s" % (n, rc, len(out), err))
            back = os.path.join(tmp, "g%d" % n)
            rc, _, err = hdfs(srv, "get", "/data/in/f%d" % n, back)
            check(rc == 0 and open(back, "rb").read() == rnd[:n], "get %d: %s" % (n, err))
            if n >= 700:  # (the Go client prints nothing when -c exceeds the size)
                rc, out, err = hdfs(srv, "tail", "-c", "700", "/data/in/f%d" % n)
                check(out == rnd[:n][-700:], "tail -c 700 of %d" % n)
            if n:
                rc, out, err = hdfs(srv, "checksum", "/data/in/f%d" % n)
                want = file_checksum(rnd[:n], bs, zlib.crc32)
                check(rc == 0 and out.decode().split()[0] == want,
                      "checksum %d: got %r want %s %s" % (n, out, want, err))
        rc, out, _ = hdfs(srv, "ls", "-l", "/data/in")
        lines = out.decode().splitlines()
        check(len(lines) == len(sizes), "ls -l lists %d entries: %r" % (len(sizes), lines))
        for ln in lines:
            parts = ln.split()
            check(parts[0] == "-rw-r--r--" and parts[1] == "tester" and
                  int(parts[3]) == int(parts[-1][1:]), "ls -l line %r" % ln)
        # replicas on disk: every block of the 3-block file on `repl` datanodes
        nblk = sum(len([f for f in os.listdir(os.path.join(srv.data, d, "current"))
                        if not f.endswith(".meta")]) for d in os.listdir(srv.data) if d.startswith("dn"))
        want_blocks = sum((n + bs - 1) // bs for n in sizes)
        check(nblk == want_blocks * repl, "replica files %d, want %d" % (nblk, want_blocks * repl))
        rc, out, _ = hdfs(srv, "du", "-s", "/data/in")
        check(rc == 0 and int(out.split()[0]) == sum(sizes), "du -s: %r" % out)
        merged = os.path.join(tmp, "merged")
        rc, _, err = hdfs(srv, "getmerge", "/data/in", merged)
        want = b"".join(rnd[:n] for n in sorted(sizes, key=lambda n: "f%d" % n))
        check(rc == 0 and open(merged, "rb").read() == want, "getmerge: " + err)
        rc, _, err = hdfs(srv, "put", "-", "/data/in/stdin", stdin=rnd[:5000])
        rc2, out, _ = hdfs(srv, "cat", "/data/in/stdin")
        check(rc == 0 and out == rnd[:5000], "put - (stdin): " + err)
    finally:
        check(srv.stop() == 0, "server exit status")


def namespace(tmp):
    srv = Server(tmp, "--block-size", "1M", "--replication", "1", "--ls-limit", "7")
    try:
        rc, _, err = hdfs(srv, "mkdir", "-p", "/tmp/t/a/b/c")
        check(rc == 0, "mkdir -p: " + err)
        rc, out, _ = hdfs(srv, "ls", "-l", "/tmp/t/a")
        check(out.decode().split()[0] == "drwxr-xr-x" and out.decode().split()[1] == "tester",
              "mkdir mode masked (bit 31): %r" % out)
        names = ["n%03d" % i for i in range(30)]
        for n in names:
            rc, _, err = hdfs(srv, "touch", "/tmp/t/" + n)
            check(rc == 0, "touch %s: %s" % (n, err))
        rc, out, _ = hdfs(srv, "ls", "/tmp/t")
        check(out.decode().split() == ["a"] + names, "ls paging (limit 7): %r" % out)
        rc, _, err = hdfs(srv, "touch", "/tmp/t/n000")
        check(rc == 0, "touch existing (setTimes): " + err)
        # errors as the Go client prints them for a real cluster
        rc, _, err = hdfs(srv, "cat", "/tmp/t/missing")
        check(rc == 1 and "open /tmp/t/missing: file does not exist" in err, "missing: " + err)
        rc, _, err = hdfs(srv, "ls", "/tmp/nope")
        check(rc == 1 and "stat /tmp/nope: file does not exist" in err, "ls missing: " + err)
        rc, _, err = hdfs(srv, "mkdir", "/tmp/t/a")
        check(rc == 1 and "mkdir /tmp/t/a: file already exists" in err, "mkdir existing: " + err)
        rc, _, err = hdfs(srv, "mv", "-n", "/tmp/t/n001", "/tmp/t/n002")
        check(rc == 1 and "file already exists" in err, "mv -n existing: " + err)
        rc, _, err = hdfs(srv, "rm", "/tmp/t/a")
        check(rc == 1 and "remove /tmp/t/a: file is a directory" in err, "rm dir: " + err)
        rc, _, err = hdfs(srv, "mkdir", "/tmp/t/n003/x")
        check(rc == 1 and "ParentNotDirectoryException" in err, "parent not dir: " + err)
        rc, _, err = hdfs(srv, "mkdir", "/forbidden")
        check(rc == 1 and "mkdir /forbidden: permission denied" in err, "permission: " + err)
        rc, _, err = hdfs(srv, "rm", "/tmp/t/n004", user="mallory")
        check(rc == 1 and "permission denied" in err, "rm as other user: " + err)
        # mv: rename, into a directory, overwrite
        rc, _, err = hdfs(srv, "mv", "/tmp/t/n005", "/tmp/t/renamed")
        check(rc == 0, "mv: " + err)
        rc, _, err = hdfs(srv, "mv", "/tmp/t/renamed", "/tmp/t/a")
        check(rc == 0, "mv into dir: " + err)
        rc, out, _ = hdfs(srv, "ls", "/tmp/t/a")
        check(out.decode().split() == ["b", "renamed"], "after mv: %r" % out)
        rc, _, err = hdfs(srv, "mv", "/tmp/t/n006", "/tmp/t/n007")
        check(rc == 0, "mv overwrite: " + err)
        rc, _, err = hdfs(srv, "rm", "-r", "/tmp/t/a")
        check(rc == 0, "rm -r: " + err)
        rc, _, err = hdfs(srv, "ls", "/tmp/t/a")
        check(rc == 1, "rm -r removed the tree")
        rc, _, err = hdfs(srv, "chmod", "700", "/tmp/t/n008")
        rc, out, _ = hdfs(srv, "ls", "-l", "/tmp/t/n008")
        check(out.decode().startswith("-rwx------"), "chmod: %r" % out)
        rc, out, err = hdfs(srv, "df")
        fields = out.decode().splitlines()[-1].split()
        check(rc == 0 and int(fields[1]) > 0, "df capacity: %r %s" % (out, err))
        rc, out, _ = hdfs(srv, "du", "-s", "/tmp/t")
        check(rc == 0 and out.split()[0] == b"0", "du -s of empty files: %r" % out)
    finally:
        check(srv.stop() == 0, "server exit status")


def restart(tmp):
    srv = Server(tmp, "--block-size", "1M", "--replication", "2")
    data = os.urandom(2 * 1048576 + 99)
    local = os.path.join(tmp, "f")
    open(local, "wb").write(data)
    hdfs(srv, "mkdir", "-p", "/tmp/r/d")
    rc, _, err = hdfs(srv, "put", local, "/tmp/r/d/f")
    check(rc == 0, "put: " + err)
    hdfs(srv, "chmod", "640", "/tmp/r/d/f")
    rc, before, _ = hdfs(srv, "ls", "-l", "/tmp/r/d")
    srv.stop()
    srv.start()
    try:
        rc, after, _ = hdfs(srv, "ls", "-l", "/tmp/r/d")
        check(before == after and b"-rw-r-----" in after, "ls -l after restart: %r vs %r" % (before, after))
        rc, out, err = hdfs(srv, "cat", "/tmp/r/d/f")
        check(rc == 0 and out == data, "data after restart: " + err)
    finally:
        check(srv.stop() == 0, "server exit status")


def confdir(tmp):
    conf = os.path.join(tmp, "conf")
    srv = Server(tmp, "--conf-dir", conf, "--replication", "1")
    try:
        env = dict(os.environ, HADOOP_USER_NAME="tester", HADOOP_CONF_DIR=conf)
        env.pop("HADOOP_NAMENODE", None)
        r = subprocess.run([HDFS, "mkdir", "-p", "/tmp/c"], env=env, capture_output=True, timeout=30)
        check(r.returncode == 0, "mkdir via core-site.xml: %r" % r.stderr)
        r = subprocess.run([HDFS, "ls", "/tmp"], env=env, capture_output=True, timeout=30)
        check(r.stdout.split() == [b"c"], "ls via core-site.xml: %r" % r.stdout)
    finally:
        check(srv.stop() == 0, "server exit status")


def garbage(tmp):
    srv = Server(tmp, "--replication", "1", "--max-frame", "65536")
    host, port = srv.nn.split(":")
    dnh, dnp = srv.dns[0][2].split(":")
    payloads = [
        b"", b"hr", b"hrpc", b"hrpc\x09\x00\x00", b"hrpc\x07\x00\x00\x00\x00\x00\x10",
        b"GET / HTTP/1.0\r\n\r\n", b"hrpc\x09\x00\x00\x00\x00\x00\x05\xff\xff\xff\xff\xff",
        b"hrpc\x09\x00\x00\x7f\xff\xff\xff", b"hrpc\x09\x00\x00\x00\x00\x00\x03\x02\x08",
        b"hrpc\x09\x00\xdf\x00\x00\x00\x02\x00\x00",
        # valid header with callId 1 but no connection context
        b"hrpc\x09\x00\x00\x00\x00\x00\x19\x18\x08\x02\x10\x00\x18\x02\x22\x10" + b"a" * 16,
        os.urandom(300), b"hrpc\x09\x00\x00" + os.urandom(500),
    ]
    dn_payloads = [b"\x00\x1c\x51\xff\xff\xff\xff\x0f", b"\x00\x1c\x50\x05\x01\x02\x03",
                   b"\x00\x1c\x51\x03\x0a\x01\x00", b"\x00\x1d\x51", os.urandom(200),
                   b"\x00\x1c\x55\x02\x0a\x00", b"\x00\x1c\x7f\x00"]
    for h, p, pls in ((host, port, payloads), (dnh, dnp, dn_payloads)):
        for pl in pls:
            try:
                with socket.create_connection((h, int(p)), timeout=5) as s:
                    s.sendall(pl)
                    s.shutdown(socket.SHUT_WR)
                    s.settimeout(5)
                    while s.recv(4096):
                        pass
            except OSError:
                pass
            check(srv.p.poll() is None, "server alive after %r" % pl[:20])
    try:
        rc, _, err = hdfs(srv, "mkdir", "-p", "/tmp/g")
        check(rc == 0, "still serving after garbage: " + err)
        rc, _, err = hdfs(srv, "put", __file__, "/tmp/g/x")
        rc, out, _ = hdfs(srv, "cat", "/tmp/g/x")
        check(out == open(__file__, "rb").read(), "data path still works after garbage")
    finally:
        check(srv.stop() == 0, "server exit status")


def faults(tmp):
    srv = Server(tmp, "--block-size", "1M", "--replication", "3")
    try:
        data = os.urandom(1048576 + 4000)
        local = os.path.join(tmp, "f")
        open(local, "wb").write(data)
        hdfs(srv, "mkdir", "-p", "/tmp/f")
        rc, _, err = hdfs(srv, "put", local, "/tmp/f/x")
        check(rc == 0, "put: " + err)
        check(srv.control("corrupt /tmp/f/x 0 0") == "ok", "corrupt command")
        # The Go client 2.3.0 passes the bad chunk on before failing over (its BlockReader
        # returns the bytes read with the error), so check the fault on disk instead: exactly
        # one replica's first chunk no longer matches its stored CRC32 (the Go client writes CRC32).
        bad = 0
        for d in sorted(x for x in os.listdir(srv.data) if x.startswith("dn")):
            cur = os.path.join(srv.data, d, "current")
            for f in os.listdir(cur):
                if not f.endswith(".meta"):
                    chunk = open(os.path.join(cur, f), "rb").read(512)
                    stored = struct.unpack(">I", open(os.path.join(cur, f + ".meta"), "rb").read(16)[12:16])[0]
                    bad += zlib.crc32(chunk) != stored
        check(bad == 1, "exactly one corrupt replica on disk (found %d)" % bad)
        rc, _, err = hdfs(srv, "put", local, "/tmp/f/y")
        check(srv.control("dn-stop 2") == "ok", "dn-stop")
        rc, out, err = hdfs(srv, "cat", "/tmp/f/y")
        check(rc == 0 and out == data, "cat with a stopped datanode: " + err)
        check(srv.control("dn-start 2") == "ok", "dn-start")
        check(srv.control("dn-fail-write 1 1").startswith("ok"), "dn-fail-write")
        check(srv.control("bogus").startswith("error"), "unknown control command")
        check(srv.control("reset") == "ok", "reset")
        check(srv.control("nn-refuse 1") == "ok", "nn-refuse")
        rc, _, err = hdfs(srv, "ls", "/tmp/f")
        check(rc != 0, "NameNode refuses while told to")
        time.sleep(1.2)
        rc, out, err = hdfs(srv, "ls", "/tmp/f")
        check(rc == 0 and out.split() == [b"x", b"y"], "NameNode serves again: " + err)
    finally:
        check(srv.stop() == 0, "server exit status")


def main():
    if not HDFS:
        print("SKIP: Debian's hdfs command (hdfs-cli) is not installed")
        return 77  # CTest SKIP_RETURN_CODE: a skip, never a pass
    group = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="hdfsd-test-")
    try:
        {"roundtrip1": lambda: roundtrip(tmp, 1), "roundtrip3": lambda: roundtrip(tmp, 3),
         "namespace": lambda: namespace(tmp), "restart": lambda: restart(tmp),
         "confdir": lambda: confdir(tmp), "garbage": lambda: garbage(tmp),
         "faults": lambda: faults(tmp)}[group]()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d failure(s)" % (group, len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
