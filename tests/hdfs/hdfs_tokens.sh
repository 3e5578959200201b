#!/bin/bash
# hdfs_tokens.sh — block access tokens (csvavro-hdfsd --block-tokens): both clients read and
# write through tokens the NameNode signs, and a DataNode refuses, with ERROR_ACCESS_TOKEN and a
# reason, a READ_BLOCK whose token is forged, for another block, for another access mode,
# missing, or expired; a token signed before a key roll stays valid for its lifetime. The raw
# READ_BLOCK requests are written here in Python from the protocol (independent of both the C
# client and the server's codec); tokens to tamper with come from the control port.
. "$(dirname "$0")/lib.sh"
have_go_hdfs || { echo "SKIP: Debian's hdfs (hdfs-cli) is not installed"; exit 77; }
start_hdfsd --datanodes 1 --replication 1 --block-size 1M --block-tokens \
  --block-token-lifetime 4 --block-key-roll 1 -v
C=$CSVAVRO_BIN
mkdata "$T/d" 1500000 3
$C fs put "$T/d" hdfs:///tmp/c || fail "csvavro put with block tokens"
hdfs put "$T/d" /tmp/g || fail "hdfs put with block tokens"
$C fs cat hdfs:///tmp/g | cmp -s - "$T/d" || fail "csvavro read with block tokens"
hdfs cat /tmp/c | cmp -s - "$T/d" || fail "hdfs read with block tokens"
ok "both clients read and write through block tokens"
DN=$(awk '$1 == "datanode" {print $3; exit}' "$T/srv/out")
$PY - "$CTL" "$DN" <<'PYEOF' || fail "raw token checks"
import socket, sys, time

ctl, dn = sys.argv[1], sys.argv[2]

def control(cmd):
    h, p = ctl.rsplit(":", 1)
    s = socket.create_connection((h, int(p)), timeout=10)
    s.sendall((cmd + "\n").encode())
    line = s.makefile().readline().split()
    assert line[0] == "ok", line
    blk, gs, ln, idh, pwh = line[1:6]
    return int(blk), int(gs), int(ln), bytes.fromhex(idh), bytes.fromhex(pwh)

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def field(num, wt, payload):
    key = varint(num << 3 | wt)
    return key + (varint(payload) if wt == 0 else varint(len(payload)) + payload)

def read_block(blk, gs, ln, ident, pw):
    """READ_BLOCK of the whole block; returns (status, message)."""
    eb = field(1, 2, b"BP-1-127.0.0.1-1700000000000") + field(2, 0, blk) + field(3, 0, gs) + field(4, 0, ln)
    tok = field(1, 2, ident) + field(2, 2, pw) + field(3, 2, b"HDFS_BLOCK_TOKEN") + field(4, 2, b"")
    base = field(1, 2, eb) + field(2, 2, tok)
    hdr = field(1, 2, base) + field(2, 2, b"tokens-test")
    op = field(1, 2, hdr) + field(2, 0, 0) + field(3, 0, ln) + field(4, 0, 1)
    h, p = dn.rsplit(":", 1)
    s = socket.create_connection((h, int(p)), timeout=10)
    s.sendall(b"\x00\x1c\x51" + varint(len(op)) + op)
    f = s.makefile("rb")
    n = shift = 0
    while True:
        b = f.read(1)[0]
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    msg = f.read(n)
    status, text, i = None, "", 0
    while i < len(msg):  # BlockOpResponseProto: 1 status (varint), 5 message (string)
        key = msg[i]; i += 1
        if key & 7 == 0:
            v = shift = 0
            while True:
                b = msg[i]; i += 1
                v |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
            if key >> 3 == 1:
                status = v
        elif key & 7 == 2:
            l = shift = 0
            while True:
                b = msg[i]; i += 1
                l |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
            if key >> 3 == 5:
                text = msg[i:i + l].decode()
            i += l
        else:
            raise SystemExit(f"unexpected wire type in {msg!r}")
    s.close()
    return status, text

SUCCESS, ERROR_ACCESS_TOKEN = 0, 5
blk, gs, ln, ident, pw = control("block-token /tmp/c 0 read")
blk1, gs1, ln1, ident1, pw1 = control("block-token /tmp/c 1 read")
st, m = read_block(blk, gs, ln, ident, pw)
assert st == SUCCESS, (st, m)
print("ok: a genuine token is accepted")

def refused(what, expect, *args):
    st, m = read_block(*args)
    assert st == ERROR_ACCESS_TOKEN and expect in m, (what, st, m)
    print(f"ok: {what} refused: {m}")

bad = bytes([pw[0] ^ 1]) + pw[1:]
refused("a forged password", "doesn't verify", blk, gs, ln, ident, bad)
tampered = ident[:-1] + bytes([ident[-1] ^ 0x20])  # the mode name changed
refused("a tampered identifier", "doesn't verify", blk, gs, ln, tampered, pw)
refused("a token for another block", "not", blk, gs, ln, ident1, pw1)
wblk, wgs, wln, wid, wpw = control("block-token /tmp/c 0 write")
refused("a WRITE token used to read", "READ permission", blk, gs, ln, wid, wpw)
refused("no token", "missing", blk, gs, ln, b"", b"")
time.sleep(1.5)  # the key rolls (every 1 s); the old token is still within its 4 s lifetime
blk2, _, _, ident2, pw2 = control("block-token /tmp/c 0 read")
def key_id(ident):  # after the vlong expiry (a length byte, then that many bytes); small ids
    n = -((ident[0] ^ 0x80) - 0x80) - 112
    return ident[1 + n]
assert key_id(ident2) > key_id(ident), (key_id(ident), key_id(ident2))  # a newer key signed it
st, m = read_block(blk, gs, ln, ident, pw)
assert st == SUCCESS, ("old-key token within its lifetime", st, m)
print("ok: a token signed before a key roll stays valid for its lifetime")
time.sleep(3.5)
refused("an expired token", "expired", blk, gs, ln, ident, pw)
PYEOF
ok "block token refusals"
# a reader whose tokens expire between open and read fetches new ones
"${HDFS_LIVE:?}" --stale-token "hdfs://$NN/tmp/c" "$T/d" 5 || fail "read with expired tokens"
grep -q "block token refused: Block token is expired" "$T/srv/err" ||
  fail "the DataNode did not refuse the stale tokens (log: $(tail -3 "$T/srv/err"))"
