#!/usr/bin/python3
"""csvavro-hdfsd as a shared server: permissions, limits, DataNode checks and connections.

Usage: hdfsd_security.py GROUP   (perms, lease, limits, datanode, conn). Each group starts its
own server (--port 0, temporary directory) and acts as several users with Debian's Go `hdfs`
command and `csvavro fs` (HADOOP_USER_NAME), plus a few raw protocol requests that no client
sends (other users' pipeline calls, hostile DataNode ops, silent or oversized connections),
encoded here by hand from the .proto field numbers. Expectations come from HDFS's permission
model (traverse, sticky bit, lease holder) and the Go client's own error texts, never from our
own client's view alone. Exit 77 when `hdfs` is missing.
"""
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hdfsd_test  # noqa: E402  (Server, hdfs(), check(), FAILS)
from hdfsd_test import Server, check, hdfs  # noqa: E402

BUILD = os.environ.get("CSVAVRO_BUILD", "build")
CSVAVRO = os.path.join(BUILD, "csvavro")
SU = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
POOL = b"BP-1-127.0.0.1-1700000000000"
PROTO = b"org.apache.hadoop.hdfs.protocol.ClientProtocol"


def fs(srv, *args, user="tester"):
    env = dict(os.environ, HADOOP_NAMENODE=srv.nn, HADOOP_USER_NAME=user)
    env.pop("HADOOP_CONF_DIR", None)
    r = subprocess.run([CSVAVRO, "fs"] + list(args), env=env, capture_output=True, timeout=60)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def denied(res):
    rc, _, err = res
    return rc != 0 and ("permission denied" in err or "AccessControlException" in err
                        or "Permission denied" in err)


# ---------------------------------------------------------------- protobuf by hand

def v(n):
    b = b""
    n &= (1 << 64) - 1
    while n > 127:
        b += bytes([n & 127 | 128])
        n >>= 7
    return b + bytes([n])


def f(k, x):
    """Field k: bytes → length-delimited, int → varint."""
    if isinstance(x, bytes):
        return v(k << 3 | 2) + v(len(x)) + x
    return v(k << 3) + v(x)


def parse(b):
    """Top-level fields of a message: {number: [values]} (varints as int, others as bytes)."""
    out, i = {}, 0
    while i < len(b):
        key, i = rv(b, i)
        wt = key & 7
        if wt == 0:
            val, i = rv(b, i)
        elif wt == 2:
            n, i = rv(b, i)
            val, i = b[i:i + n], i + n
        elif wt == 1:
            val, i = b[i:i + 8], i + 8
        elif wt == 5:
            val, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(key >> 3, []).append(val)
    return out


def rv(b, i):
    n = s = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 127) << s
        s += 7
        if c < 128:
            return n, i


def recv_all(s, n):
    d = b""
    while len(d) < n:
        c = s.recv(n - len(d))
        if not c:
            raise EOFError("closed")
        d += c
    return d


class Rpc:
    """One NameNode connection as USER; call() returns (exception class or None, body)."""

    def __init__(self, srv, user):
        h, p = srv.nn.split(":")
        self.s = socket.create_connection((h, int(p)), timeout=20)
        self.cid = 0
        self.client_id = b"0123456789abcdef"
        self.s.sendall(b"hrpc\x09\x00\x00")
        ctx = f(2, f(1, user.encode())) + f(3, PROTO)
        self.send(-3, ctx)

    def send(self, callid, *msgs):
        hdr = f(1, 2) + f(2, 0) + f(3, (callid << 1) ^ (callid >> 31)) + f(4, self.client_id)
        body = v(len(hdr)) + hdr + b"".join(v(len(m)) + m for m in msgs)
        self.s.sendall(struct.pack(">I", len(body)) + body)

    def call(self, method, req):
        self.cid += 1
        rh = f(1, method.encode()) + f(2, PROTO) + f(3, 1)
        self.send(self.cid, rh, req)
        n = struct.unpack(">I", recv_all(self.s, 4))[0]
        fr = recv_all(self.s, n)
        hl, i = rv(fr, 0)
        h = parse(fr[i:i + hl])
        if h.get(2, [0])[0] != 0:
            return h.get(4, [b"?"])[0].decode(), h.get(5, [b""])[0].decode()
        bl, j = rv(fr, i + hl)
        return None, fr[j:j + bl]

    def close(self):
        self.s.close()


def eblock(blk, gs, n=None):
    return f(1, POOL) + f(2, blk) + f(3, gs) + (f(4, n) if n is not None else b"")


def create_req(path, client, repl=1, perm=0o644):
    return (f(1, path.encode()) + f(2, f(1, perm)) + f(3, client.encode()) + f(4, 1) + f(5, 0)
            + f(6, repl) + f(7, 1048576))


def blocks_of(srv, path, user=None):
    """[(block id, gs, length)] of path, from getBlockLocations."""
    r = Rpc(srv, user or SU)
    exc, body = r.call("getBlockLocations", f(1, path.encode()) + f(2, 0) + f(3, 1 << 40))
    r.close()
    check(exc is None, "getBlockLocations %s: %r" % (path, body))
    out = []
    for lb in parse(parse(body)[1][0]).get(2, []):
        b = parse(parse(lb)[1][0])
        out.append((b[2][0], b[3][0], b.get(4, [0])[0]))
    return out


def put_bytes(srv, tmp, path, data, user=None):
    local = os.path.join(tmp, "put.tmp")
    with open(local, "wb") as fh:
        fh.write(data)
    rc, _, err = hdfs(srv, "put", local, path, user=user or SU)
    check(rc == 0, "put %s as %s: %s" % (path, user or SU, err))


# ---------------------------------------------------------------- groups

def perms(tmp):
    srv = Server(tmp, "--replication", "1", "--datanodes", "1",
                 "--groups", "alice=supergroup;carol=staff,audit")
    try:
        m = os.path.join(tmp, "m.txt")
        open(m, "wb").write(b"mallory was here\n")
        # root's tree: /secret 0700 (data.txt 0600, pub.txt 0644), sticky /pub 1777
        hdfs(srv, "mkdir", "/secret", user=SU)
        hdfs(srv, "chmod", "700", "/secret", user=SU)
        put_bytes(srv, tmp, "/secret/data.txt", b"top secret\n")
        put_bytes(srv, tmp, "/secret/pub.txt", b"public but behind 0700\n")
        hdfs(srv, "chmod", "600", "/secret/data.txt", user=SU)
        hdfs(srv, "mkdir", "/pub", user=SU)
        hdfs(srv, "chmod", "1777", "/pub", user=SU)
        for r in ("r1", "r2", "r3"):
            put_bytes(srv, tmp, "/pub/" + r, b"root's " + r.encode() + b"\n")
            hdfs(srv, "chmod", "600", "/pub/" + r, user=SU)
        mal = dict(user="mallory")
        # traverse (EXECUTE on every ancestor) for every path operation
        check(denied(hdfs(srv, "cat", "/secret/pub.txt", **mal)), "cat through a 0700 dir")
        check(denied(hdfs(srv, "ls", "/secret/pub.txt", **mal)), "getFileInfo through a 0700 dir")
        check(denied(hdfs(srv, "ls", "/secret", **mal)), "listing of a 0700 dir")
        check(denied(fs(srv, "stat", "hdfs:///secret/data.txt", **mal)), "csvavro fs stat")
        check(denied(fs(srv, "du", "-s", "hdfs:///secret", **mal)), "csvavro fs du -s (contentSummary)")
        check(denied(hdfs(srv, "du", "-s", "/secret", **mal)), "hdfs du -s")
        check(denied(fs(srv, "cat", "hdfs:///secret/pub.txt", **mal)), "csvavro fs cat")
        check(denied(hdfs(srv, "touch", "/secret/pub.txt", **mal)), "setTimes through a 0700 dir")
        # ... and the owner and the superuser still can
        rc, out, err = hdfs(srv, "cat", "/secret/data.txt", user=SU)
        check(rc == 0 and out == b"top secret\n", "superuser reads: " + err)
        hdfs(srv, "chown", "bob", "/secret", user=SU)
        rc, out, err = hdfs(srv, "cat", "/secret/pub.txt", user="bob")
        check(rc == 0 and out == b"public but behind 0700\n", "dir owner traverses: " + err)
        # a file in a dir with x but no r: reachable by name, not listable
        hdfs(srv, "chmod", "711", "/secret", user=SU)
        rc, out, err = hdfs(srv, "cat", "/secret/pub.txt", **mal)
        check(rc == 0 and out == b"public but behind 0700\n", "0711 dir: traverse allowed: " + err)
        check(denied(hdfs(srv, "ls", "/secret", **mal)), "0711 dir: listing refused")
        check(denied(hdfs(srv, "cat", "/secret/data.txt", **mal)), "0600 file: read refused")
        # sticky bit: put -f, mv (source), mv onto another user's file (replaced destination)
        check(denied(fs(srv, "put", "-f", m, "hdfs:///pub/r1", **mal)), "put -f over root's 0600 file")
        check(denied(hdfs(srv, "mv", "/pub/r2", "/pub/x", **mal)), "mv of root's file in a sticky dir")
        rc, _, err = hdfs(srv, "put", m, "/pub/mf", **mal)
        check(rc == 0, "mallory writes her own file into /pub: " + err)
        check(denied(hdfs(srv, "mv", "/pub/mf", "/pub/r3", **mal)), "mv onto root's file in a sticky dir")
        check(denied(hdfs(srv, "rm", "/pub/r1", **mal)), "rm of root's file in a sticky dir")
        for r in ("r1", "r2", "r3"):
            rc, out, _ = hdfs(srv, "cat", "/pub/" + r, user=SU)
            check(out == b"root's " + r.encode() + b"\n", "root's /pub/%s unchanged: %r" % (r, out))
        rc, out, _ = hdfs(srv, "ls", "/pub", user=SU)
        check(out.split() == [b"mf", b"r1", b"r2", b"r3"], "/pub listing: %r" % out)
        # what the sticky bit allows: the file owner, the directory owner, the superuser
        rc, _, err = hdfs(srv, "mv", "/pub/mf", "/pub/mg", **mal)
        check(rc == 0, "owner renames her file in a sticky dir: " + err)
        rc, _, err = fs(srv, "put", "-f", m, "hdfs:///pub/mg", **mal)
        check(rc == 0, "owner overwrites her file (put -f): " + err)
        hdfs(srv, "mkdir", "/bobs", user=SU)
        hdfs(srv, "chmod", "1777", "/bobs", user=SU)
        hdfs(srv, "chown", "bob", "/bobs", user=SU)
        rc, _, err = hdfs(srv, "put", m, "/bobs/m", **mal)
        rc, _, err = hdfs(srv, "rm", "/bobs/m", user="bob")
        check(rc == 0, "directory owner removes another user's file in a sticky dir: " + err)
        rc, _, err = hdfs(srv, "mv", "/pub/r2", "/pub/r2b", user=SU)
        check(rc == 0, "superuser renames in a sticky dir: " + err)
        # without the sticky bit, a writable directory lets anyone replace an entry (as HDFS)
        hdfs(srv, "mkdir", "/open", user=SU)
        hdfs(srv, "chmod", "777", "/open", user=SU)
        put_bytes(srv, tmp, "/open/o", b"root's o\n")
        hdfs(srv, "put", m, "/open/mo", **mal)
        rc, _, err = hdfs(srv, "mv", "/open/mo", "/open/o", **mal)
        check(rc == 0, "mv onto another user's file in a non-sticky writable dir: " + err)
        # group bits: a file of group "mallory" (her own group) readable through g+r
        put_bytes(srv, tmp, "/open/g", b"group readable\n")
        hdfs(srv, "chown", ":mallory", "/open/g", user=SU)
        hdfs(srv, "chmod", "640", "/open/g", user=SU)
        rc, out, err = hdfs(srv, "cat", "/open/g", **mal)
        check(rc == 0 and out == b"group readable\n", "group read: " + err)
        check(denied(hdfs(srv, "cat", "/open/g", user="eve")), "other read of a 0640 file")
        # --groups (Hadoop's static mapping): a member of supergroup is a superuser; group bits
        rc, out, err = hdfs(srv, "cat", "/secret/data.txt", user="alice")
        check(rc == 0 and out == b"top secret\n", "supergroup member reads as superuser: " + err)
        put_bytes(srv, tmp, "/open/staff", b"staff only\n")
        hdfs(srv, "chown", ":staff", "/open/staff", user=SU)
        hdfs(srv, "chmod", "640", "/open/staff", user=SU)
        rc, out, err = hdfs(srv, "cat", "/open/staff", user="carol")
        check(rc == 0 and out == b"staff only\n", "group member (mapped) reads: " + err)
        check(denied(hdfs(srv, "cat", "/open/staff", user="mallory")), "non-member of staff")
        rc, _, err = hdfs(srv, "put", m, "/open/carols", user="carol")
        rc, _, err = hdfs(srv, "chown", ":audit", "/open/carols", user="carol")
        check(rc == 0, "owner gives her file to one of her mapped groups: " + err)
        rc, _, err = hdfs(srv, "chown", ":carol", "/open/carols", user="carol")
        check(rc != 0, "a mapped user is not in the group of her own name")
        # owner-only operations
        check(denied(hdfs(srv, "chmod", "777", "/open/g", **mal)), "chmod by a non-owner")
        check(denied(hdfs(srv, "chown", "eve", "/open/o", user="eve")), "chown by a non-owner")
        rc, _, err = hdfs(srv, "chown", ":eve", "/pub/mg", **mal)
        check(denied((rc, b"", err)), "owner cannot give a file to a group she is not in: " + err)
        # recursive delete needs rwx on every non-empty directory below
        hdfs(srv, "mkdir", "-p", "/pub/tree/locked", **mal)
        put_bytes(srv, tmp, "/pub/tree/locked/f", b"x", user="mallory")
        hdfs(srv, "chown", "bob", "/pub/tree/locked", user=SU)
        hdfs(srv, "chmod", "755", "/pub/tree/locked", user=SU)
        check(denied(hdfs(srv, "rm", "-r", "/pub/tree", **mal)), "rm -r over a non-writable subdir")
        rc, out, _ = hdfs(srv, "ls", "/pub/tree/locked", user=SU)
        check(out.split() == [b"f"], "subtree intact after refused rm -r: %r" % out)
    finally:
        check(srv.stop() == 0, "server exit status")


def lease(tmp):
    """addBlock/complete/abandonBlock/updateBlockForPipeline/updatePipeline only by the holder."""
    srv = Server(tmp, "--replication", "1", "--datanodes", "1")
    try:
        put_bytes(srv, tmp, "/tmp/done", b"x" * 21)
        (blk, gs, n), = blocks_of(srv, "/tmp/done")
        check(n == 21, "block length 21: %d" % n)
        mal = Rpc(srv, "mallory")
        # the attack: a closed file's block, any client name
        exc, msg = mal.call("updatePipeline", f(1, b"x") + f(2, eblock(blk, gs)) +
                            f(3, eblock(blk, 99999, 5)))
        check(exc is not None, "updatePipeline on a closed file refused: %s %s" % (exc, msg))
        exc, msg = mal.call("updateBlockForPipeline", f(1, eblock(blk, gs, 21)) + f(2, b"x"))
        check(exc is not None, "updateBlockForPipeline on a closed file refused: %s" % exc)
        rc, out, _ = hdfs(srv, "ls", "-l", "/tmp/done", user=SU)
        check(b" 21 " in out, "length still 21: %r" % out)
        rc, out, _ = fs(srv, "cat", "hdfs:///tmp/done", user=SU)
        check(rc == 0 and out == b"x" * 21, "data intact")
        # a file under construction held by root's client
        root = Rpc(srv, SU)
        exc, _ = root.call("create", create_req("/tmp/uc", "root-client"))
        check(exc is None, "create /tmp/uc: %s" % exc)
        hdfs(srv, "chmod", "666", "/tmp/uc", user=SU)
        exc, body = root.call("addBlock", f(1, b"/tmp/uc") + f(2, b"root-client"))
        check(exc is None, "holder's addBlock: %s" % exc)
        b = parse(parse(parse(body)[1][0])[1][0])
        ub, ugs = b[2][0], b[3][0]
        for who, client in (("mallory", "mallory-client"), ("mallory", "root-client")):
            r = Rpc(srv, who)
            calls = [
                ("addBlock", f(1, b"/tmp/uc") + f(2, client.encode())),
                ("complete", f(1, b"/tmp/uc") + f(2, client.encode())),
                ("abandonBlock", f(1, eblock(ub, ugs)) + f(2, b"/tmp/uc") + f(3, client.encode())),
                ("updateBlockForPipeline", f(1, eblock(ub, ugs)) + f(2, client.encode())),
                ("updatePipeline", f(1, client.encode()) + f(2, eblock(ub, ugs)) +
                 f(3, eblock(ub, ugs + 100, 7))),
            ]
            for name, req in calls:
                exc, msg = r.call(name, req)
                check(exc is not None and ("LeaseExpired" in exc or "AccessControl" in exc),
                      "%s by %s as %s refused: %s %s" % (name, who, client, exc, msg))
            r.close()
        # the holder can: updateBlockForPipeline (new stamp), then updatePipeline to it
        exc, body = root.call("updateBlockForPipeline", f(1, eblock(ub, ugs)) + f(2, b"root-client"))
        check(exc is None, "holder's updateBlockForPipeline: %s" % exc)
        ngs = parse(parse(parse(body)[1][0])[1][0])[3][0] if exc is None else ugs + 1
        exc, msg = root.call("updatePipeline", f(1, b"root-client") + f(2, eblock(ub, ugs)) +
                             f(3, eblock(ub, ngs, 0)))
        check(exc is None, "holder's updatePipeline: %s %s" % (exc, msg))
        exc, msg = root.call("updatePipeline", f(1, b"root-client") + f(2, eblock(ub, ngs)) +
                             f(3, eblock(ub, ngs, 0)))
        check(exc is not None, "updatePipeline without a larger stamp refused: %s" % exc)
        exc, _ = root.call("abandonBlock", f(1, eblock(ub, ngs)) + f(2, b"/tmp/uc") + f(3, b"root-client"))
        check(exc is None, "holder's abandonBlock: %s" % exc)
        exc, body = root.call("complete", f(1, b"/tmp/uc") + f(2, b"root-client"))
        check(exc is None and parse(body).get(1) == [1], "holder's complete: %s" % exc)
        root.close()
        mal.close()
    finally:
        check(srv.stop() == 0, "server exit status")


def limits(tmp):
    srv = Server(tmp, "--replication", "1", "--datanodes", "1", "--max-dir-items", "4")
    try:
        m = os.path.join(tmp, "m.txt")
        open(m, "wb").write(b"m\n")
        hdfs(srv, "mkdir", "/pub", user=SU)
        hdfs(srv, "chmod", "1777", "/pub", user=SU)
        rc, _, err = hdfs(srv, "put", m, "/pub/m.txt", user="mallory")
        check(rc == 0, "put: " + err)
        g = "g" * 25000
        rc, _, err = hdfs(srv, "chown", "mallory:" + g, "/pub/m.txt", user="mallory")
        check(rc != 0, "chown to a 25 000-byte group refused for mallory")
        rc, _, err = hdfs(srv, "chown", "mallory:" + g, "/pub/m.txt", user=SU)
        check(rc != 0 and "invalid argument" in err, "... and for the superuser: " + err[:300])
        r = Rpc(srv, SU)  # (the Go client prints EINVAL only: the message, over the wire)
        exc, msg = r.call("setOwner", f(1, b"/pub/m.txt") + f(3, g.encode()))
        r.close()
        check(exc and "IllegalArgument" in exc and "255" in msg, "the limit named: %s %s" % (exc, msg))
        rc, _, err = hdfs(srv, "chown", "mallory:" + "g" * 255, "/pub/m.txt", user=SU)
        check(rc == 0, "a 255-byte group is accepted: " + err[:300])
        rc, _, err = hdfs(srv, "chown", "a:b:c", "/pub/m.txt", user=SU)
        check(rc != 0, "a group name with ':' refused")
        # a 200-byte user keeps her files across a restart; 256 bytes are refused
        u200 = "m" * 200
        rc, _, err = hdfs(srv, "put", m, "/pub/long", user=u200)
        check(rc == 0, "put as a 200-byte user: " + err)
        hdfs(srv, "chmod", "600", "/pub/long", user=u200)
        rc, _, err = hdfs(srv, "ls", "/pub", user="m" * 256)
        check(rc != 0, "a 256-byte user name refused")
        # a 25 000-byte clientName
        r = Rpc(srv, "mallory")
        exc, msg = r.call("create", create_req("/pub/c", "c" * 25000))
        check(exc is not None and "1024" in msg, "25 000-byte clientName refused: %s %s" % (exc, msg[:200]))
        exc, msg = r.call("create", create_req("/pub/c", "ok-client", repl=100000))
        check(exc is not None and "512" in msg, "replication 100000 refused: %s %s" % (exc, msg[:200]))
        r.close()
        # a NUL inside a string must not cut it ("/pub/EVIL\0/../../x" is not "/pub/EVIL")
        r = Rpc(srv, "mallory")
        exc, msg = r.call("mkdirs", f(1, b"/pub/EVIL\0/../../x") + f(2, f(1, 0o755)) + f(3, 1))
        check(exc and "InvalidPath" in exc, "a path with a NUL refused: %s %s" % (exc, msg))
        exc, msg = r.call("create", create_req("/pub/n", "cli\0ent"))
        check(exc and "IllegalArgument" in exc, "a client name with a NUL refused: %s %s" % (exc, msg))
        r.close()
        rc, out, _ = hdfs(srv, "ls", "/pub", user=SU)
        check(b"EVIL" not in out and b"\nn\n" not in out, "nothing created: %r" % out)
        # path components (255), path length (8000), depth (1000), directory items (4 here)
        rc, _, err = hdfs(srv, "mkdir", "/pub/" + "d" * 256, user="mallory")
        check(rc != 0 and "PathComponentTooLong" in err, "256-byte component: " + err[:300])
        rc, _, err = fs(srv, "mkdir", "-p", "hdfs:///pub/new/" + "d" * 256 + "/x", user="mallory")
        check(rc != 0 and "PathComponentTooLong" in err, "256-byte component below a new dir: " + err[:300])
        rc, _, err = hdfs(srv, "mkdir", "/pub/" + "d" * 255, user="mallory")
        check(rc == 0, "255-byte component accepted: " + err[:300])
        rc, _, err = hdfs(srv, "mkdir", "-p", "/pub" + "/a" * 1000, user="mallory")
        check(rc != 0, "1001 levels refused: " + err[:200])
        rc, _, err = fs(srv, "mkdir", "-p", "hdfs:///pub" + ("/" + "p" * 200) * 40, user="mallory")
        check(rc != 0, "8045-byte path refused: " + err[:200])
        for i in range(4):
            rc, _, err = hdfs(srv, "touch", "/tmp/i%d" % i, user="mallory")
            check(rc == 0, "item %d of /tmp: %s" % (i, err))
        rc, out, err = hdfs(srv, "touch", "/tmp/i4", user="mallory")
        check(rc != 0 and "MaxDirectoryItems" in err, "fifth item of /tmp refused: " + err[:300])
        # the extremes of every accepted value, for the round trip through the saved image
        ext = "/pub/" + "\u00e9" * 127  # 254 bytes of UTF-8
        big = "u" * 255
        r = Rpc(srv, big)
        exc, _ = r.call("create", create_req(ext, "k" * 1024, repl=512, perm=0o7777))
        check(exc is None, "create with a 254-byte UTF-8 name, 1024-byte client, replication 512: %s" % exc)
        exc, _ = r.call("setTimes", f(1, ext.encode()) + f(2, (1 << 64) - 2) + f(3, 0))
        check(exc is None, "setTimes to 2^64-2: %s" % exc)
        r.close()
        r = Rpc(srv, SU)
        exc, _ = r.call("setOwner", f(1, ext.encode()) + f(2, big.encode()) + f(3, ("g" * 255).encode()))
        check(exc is None, "setOwner to 255-byte user and group: %s" % exc)
        paths = ["/", "/pub", "/pub/long", ext, "/pub/" + "d" * 255]
        stats = [r.call("getFileInfo", f(1, x.encode())) for x in paths]
        r.close()
        rc, before, _ = hdfs(srv, "ls", "-l", "/pub", user=SU)
        check(srv.stop() == 0, "server exit status")
        srv.start()
        r = Rpc(srv, SU)
        again = [r.call("getFileInfo", f(1, x.encode())) for x in paths]
        r.close()
        check(stats == again and all(e is None and len(b) > 10 for e, b in stats),
              "file statuses identical after the restart: %r" % [a == b for a, b in zip(stats, again)])
        rc, after, err = hdfs(srv, "ls", "-l", "/pub", user=SU)
        check(rc == 0 and after == before and u200.encode() in before,
              "ls -l after restart: %r %s" % ([(a, b) for a, b in zip(before.split(b"\n"), after.split(b"\n")) if a != b], err))
        rc, out, err = hdfs(srv, "cat", "/pub/long", user=u200)
        check(rc == 0 and out == b"m\n", "the 200-byte user reads her 0600 file after restart: " + err)
        rc, out, _ = hdfs(srv, "ls", "-l", "/pub/long", user=u200)
        check(u200.encode() in out, "owner name complete after restart")
        r = Rpc(srv, big)  # the lease survived: its holder can close the file
        exc, body = r.call("complete", f(1, ext.encode()) + f(2, b"k" * 1024))
        check(exc is None and parse(body).get(1) == [1], "complete after restart: %s" % exc)
        r.close()
    finally:
        check(srv.stop() == 0, "server exit status")
    # a damaged image is refused with the line named
    img = os.path.join(srv.data, "namespace.img")
    lines = open(img, "rb").read().split(b"\n")
    lines[2] = lines[2].replace(b" x", b" xzz", 1)
    open(img, "wb").write(b"\n".join(lines))
    p = subprocess.run([hdfsd_test.SERVER, "--data", srv.data, "--port", "0"], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode != 0 and "line 3:" in p.stderr, "damaged image: %r" % p.stderr)


def dn_op(addr, op, msg):
    h, p = addr.split(":")
    s = socket.create_connection((h, int(p)), timeout=20)
    s.sendall(b"\x00\x1c" + bytes([op]) + v(len(msg)) + msg)
    return s


def read_delimited(s):
    n = 0
    sh = 0
    while True:
        c = recv_all(s, 1)[0]
        n |= (c & 127) << sh
        sh += 7
        if c < 128:
            break
    return parse(recv_all(s, n))


def dn_info(ip, port):
    return f(1, f(1, ip.encode()) + f(2, b"h") + f(3, b"u") + f(4, port) + f(5, 0) + f(6, 0))


def write_req(blk, gs, stage, targets=(), minb=0):
    hdr = f(1, f(1, eblock(blk, gs))) + f(2, b"mallory")
    return (f(1, hdr) + b"".join(f(2, t) for t in targets) + f(4, stage) + f(5, 1 + len(targets))
            + f(6, minb) + f(7, 0) + f(8, 0) + f(9, f(1, 1) + f(2, 512)))


def datanode(tmp):
    srv = Server(tmp, "--replication", "1", "--datanodes", "2")
    try:
        put_bytes(srv, tmp, "/tmp/f", b"top secret\n")
        (blk, gs, n), = blocks_of(srv, "/tmp/f")
        dn1, dn2 = srv.dns[0][2], srv.dns[1][2]
        # a block being written (root's client) for the pipeline checks
        root = Rpc(srv, SU)
        exc, _ = root.call("create", create_req("/tmp/uc", "root-client"))
        exc2, body = root.call("addBlock", f(1, b"/tmp/uc") + f(2, b"root-client"))
        check(exc is None and exc2 is None, "create + addBlock: %s %s" % (exc, exc2))
        b = parse(parse(parse(body)[1][0])[1][0])
        ucb, ucgs = b[2][0], b[3][0]
        root.close()
        # 1. a pipeline target outside the cluster: refused, and never connected to
        lst = socket.socket()
        lst.bind(("127.0.0.1", 0))
        lst.listen(4)
        lst.settimeout(0.5)
        port = lst.getsockname()[1]
        s = dn_op(dn1, 80, write_req(ucb, ucgs, 6, [dn_info("127.0.0.1", port)]))
        resp = read_delimited(s)
        s.close()
        check(resp.get(1, [0])[0] != 0, "WRITE_BLOCK towards 127.0.0.1:%d refused: %r" % (port, resp))
        try:
            c, _ = lst.accept()
            c.close()
            check(False, "the DataNode connected to an address the client named")
        except socket.timeout:
            pass
        lst.close()
        # ... while a pipeline towards the other DataNode is accepted
        h2, p2 = dn2.split(":")
        s = dn_op(dn1, 80, write_req(ucb, ucgs, 6, [dn_info(h2, int(p2))]))
        resp = read_delimited(s)
        s.close()
        check(resp.get(1, [1])[0] == 0, "a pipeline to the cluster's own DataNode: %r" % resp)
        s = dn_op(dn1, 80, write_req(1 << 41, 1, 6))
        resp = read_delimited(s)
        s.close()
        check(resp.get(1, [0])[0] != 0, "a block id the NameNode never handed out: %r" % resp)
        # 2. overwriting a finalized replica (PIPELINE_SETUP_CREATE of an existing block)
        for addr in (dn1, dn2):
            s = dn_op(addr, 80, write_req(blk, gs, 6))
            resp = read_delimited(s)
            check(resp.get(1, [0])[0] != 0, "PIPELINE_SETUP_CREATE of an existing block refused")
            if resp.get(1, [1])[0] == 0:  # accepted: write the block as the PoC did
                d = b"MALLORY!!!!"
                for seq, off, dd, cc, last in ((0, 0, d, struct.pack(">I", zlib.crc32(d)), 0),
                                               (1, len(d), b"", b"", 1)):
                    ph = (b"\x09" + struct.pack("<q", off) + b"\x11" + struct.pack("<q", seq) +
                          b"\x18" + bytes([last]) + b"\x25" + struct.pack("<i", len(dd)))
                    s.sendall(struct.pack(">IH", 4 + len(cc) + len(dd), len(ph)) + ph + cc + dd)
                    read_delimited(s)
            s.close()
        # 3. a recovery that is refused (minBytesRcvd 2^30) must leave the replica readable
        for addr in (dn1, dn2):
            s = dn_op(addr, 80, write_req(blk, gs, 3, minb=1 << 30))
            resp = read_delimited(s)
            s.close()
            check(resp.get(1, [0])[0] != 0, "recovery of a finalized replica refused: %r" % resp)
        rc, out, err = hdfs(srv, "cat", "/tmp/f", user=SU)
        check(rc == 0 and out == b"top secret\n", "replica intact and visible: %r %s" % (out, err))
        rc, out, err = fs(srv, "cat", "hdfs:///tmp/f", user=SU)
        check(rc == 0 and out == b"top secret\n", "csvavro fs cat: %r %s" % (out, err))
    finally:
        check(srv.stop() == 0, "server exit status")


def proc(pid, field):
    for ln in open("/proc/%d/status" % pid):
        if ln.startswith(field + ":"):
            return int(ln.split()[1])
    return -1


def cpu_seconds(pid):
    st = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def conn(tmp):
    # 1. memory before the handshake: 16 connections claiming 64 MiB frames, 4 MiB sent each
    srv = Server(tmp, "--replication", "1", "--datanodes", "1")
    try:
        h, p = srv.nn.split(":")
        rss0 = proc(srv.p.pid, "VmRSS")
        socks = []
        for _ in range(16):
            s = socket.create_connection((h, int(p)), timeout=10)
            s.sendall(b"hrpc\x09\x00\x00" + struct.pack(">I", (64 << 20) - 16))
            try:
                for _ in range(64):
                    s.sendall(b"\0" * 65536)
            except OSError:
                pass  # closed by the server: what we want
            socks.append(s)
        time.sleep(0.5)
        rss1 = proc(srv.p.pid, "VmRSS")
        print("RSS before %d KiB, after 16 x 4 MiB unauthenticated: %d KiB" % (rss0, rss1))
        check(rss1 - rss0 < 24 * 1024, "unauthenticated frames kept within bounds (+%d KiB)" % (rss1 - rss0))
        for s in socks:
            s.close()
        rc, _, err = hdfs(srv, "ls", "/", user=SU)
        check(rc == 0, "still serving: " + err)
    finally:
        check(srv.stop() == 0, "server exit status")
    # 2. idle connections are closed (handshake deadline and idle timeout)
    srv = Server(tmp, "--replication", "1", "--datanodes", "1", "--idle-timeout", "1",
                 data=os.path.join(tmp, "d2"))
    try:
        h, p = srv.nn.split(":")
        base = proc(srv.p.pid, "Threads")
        silent = [socket.create_connection((h, int(p)), timeout=15) for _ in range(16)]
        r = Rpc(srv, "idle-user")  # a full handshake, then nothing
        r.s.settimeout(15)
        closed = 0
        for s in silent + [r.s]:
            try:
                closed += s.recv(1) == b""
            except OSError:
                pass
        check(closed == 17, "16 silent and 1 idle connection closed by the server: %d" % closed)
        for s in silent + [r.s]:
            s.close()
        for _ in range(50):
            if proc(srv.p.pid, "Threads") <= base:
                break
            time.sleep(0.1)
        check(proc(srv.p.pid, "Threads") <= base, "connection threads gone")
        rc, _, err = hdfs(srv, "ls", "/", user=SU)
        check(rc == 0, "serving after idle closes: " + err)
        # a client that keeps working is not cut off: 3 calls over ~1.5 s on one connection
        r = Rpc(srv, SU)
        for _ in range(3):
            time.sleep(0.5)
            exc, _ = r.call("getFileInfo", f(1, b"/"))
            check(exc is None, "active connection kept: %s" % exc)
        r.close()
    finally:
        check(srv.stop() == 0, "server exit status")
    # 3. out of file descriptors: back off instead of spinning, serve again afterwards
    srv = low_fd_server(os.path.join(tmp, "d3"), "0")
    try:
        h, p = srv.nn.split(":")
        held = [socket.create_connection((h, int(p)), timeout=5) for _ in range(60)]
        time.sleep(0.5)
        c0 = cpu_seconds(srv.p.pid)
        time.sleep(2)
        used = cpu_seconds(srv.p.pid) - c0
        print("server CPU while out of descriptors: %.2f s in 2 s" % used)
        check(used < 0.5, "no busy accept loop when out of descriptors (%.2f s CPU in 2 s)" % used)
        for s in held:
            s.close()
        ok = False
        for _ in range(20):
            rc, _, err = hdfs(srv, "ls", "/", user=SU)
            if rc == 0:
                ok = True
                break
            time.sleep(0.5)
        check(ok, "serves again once descriptors are free: " + err)
    finally:
        check(srv.stop() == 0, "server exit status")
    # 4. ... and with an idle timeout, serves again while the silent sockets stay open
    srv = low_fd_server(os.path.join(tmp, "d4"), "1")
    try:
        h, p = srv.nn.split(":")
        held = [socket.create_connection((h, int(p)), timeout=5) for _ in range(60)]
        ok = False
        for _ in range(40):
            rc, _, err = hdfs(srv, "ls", "/", user=SU)
            if rc == 0:
                ok = True
                break
            time.sleep(0.5)
        check(ok, "serves other clients while 60 silent sockets are held: " + err)
        for s in held:
            s.close()
    finally:
        check(srv.stop() == 0, "server exit status")


def low_fd_server(data, idle):
    """A server limited to 48 file descriptors (ulimit -n 48)."""
    def low_fds():
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
    srv = Server.__new__(Server)
    srv.data = data
    srv.args = ["--replication", "1", "--datanodes", "1", "--idle-timeout", idle]
    srv.p = subprocess.Popen([hdfsd_test.SERVER, "--data", srv.data, "--port", "0"] + srv.args,
                             stdout=subprocess.PIPE, text=True, preexec_fn=low_fds)
    srv.nn = srv.p.stdout.readline().strip()
    srv.p.stdout.readline()
    srv.p.stdout.readline()
    return srv


def main():
    if not hdfsd_test.HDFS:
        print("SKIP: Debian's hdfs command (hdfs-cli) is not installed")
        return 77
    import tempfile
    group = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="hdfsd-sec-")
    try:
        {"perms": perms, "lease": lease, "limits": limits, "datanode": datanode,
         "conn": conn}[group](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d failure(s)" % (group, len(hdfsd_test.FAILS)))
    return 1 if hdfsd_test.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
