#!/usr/bin/python3
"""`csvavro fs ls -l` on a local directory: each entry's owner and group name as Python's pwd
and grp modules give them for os.stat's ids (the numbers when the databases have no name),
with entries of several owners interleaved in name order (the listing remembers the last ids
looked up: io_local.c). Needs root to chown; exits 77 otherwise."""
import grp, os, pwd, re, subprocess, sys, tempfile

BIN = os.environ["CSVAVRO_BIN"]
if os.geteuid() != 0:
    print("SKIP: chown needs root")
    sys.exit(77)


def name(db, i):
    try:
        return db(i)[0]
    except KeyError:
        return str(i)


d = tempfile.mkdtemp()
ids = [(0, 0), (1, 2), (1, 2), (0, 0), (65534, 1), (4242, 4343), (4242, 4343), (1, 4343), (0, 2)]
for k, (u, g) in enumerate(ids):
    p = os.path.join(d, "f%02d" % k)
    open(p, "w").close()
    os.chown(p, u, g)
os.mkdir(os.path.join(d, "sub"))
os.chown(os.path.join(d, "sub"), 4242, 0)
out = subprocess.run([BIN, "fs", "ls", "-l", d], capture_output=True, text=True, check=True).stdout
got = {}
for line in out.splitlines()[1:]:
    f = line.split()
    got[os.path.basename(f[-1])] = (f[2], f[3])
want = {}
for e in sorted(os.listdir(d)):
    st = os.stat(os.path.join(d, e))
    want[e] = (name(pwd.getpwuid, st.st_uid), name(grp.getgrgid, st.st_gid))
subprocess.run(["rm", "-rf", d])
if got != want:
    sys.exit("FAIL: owners/groups differ:\n got  %s\n want %s" % (got, want))
print("OK: %d entries, owners and groups as pwd/grp name them" % len(want))
