#!/bin/bash
# hdfs_dtoken.sh — delegation tokens against a real MIT KDC (scripts/testkdc.sh) and
# csvavro-hdfsd in secure mode, at each hadoop.rpc.protection:
#  * `csvavro fs token get` writes a Hadoop token storage file; an independent reader (Python,
#    written here from Hadoop's Credentials/Token/AbstractDelegationTokenIdentifier Writable
#    layout) decodes it: kind, service = the NameNode's ip:port, owner, renewer, the 7-day
#    maximum lifetime; `fs token print` says the same;
#  * with HADOOP_TOKEN_FILE_LOCATION the token works after kdestroy (TOKEN / DIGEST-MD5 auth):
#    put, cat, ls, mv, rm, the files owned by the token's owner and equal byte for byte when read
#    back by Debian's Go client (kinit'd again); without it the same call is refused;
#  * a token-authenticated caller cannot get another token; a non-renewer's renew is refused,
#    the renewer's moves the expiry; cancel by a stranger refused, by the owner accepted, and
#    afterwards the token is refused with "cancelled"; an expired token (short renew interval)
#    is refused with "is expired"; a malformed token file is refused naming file and offset;
#    an unloadable Cyrus SASL library fails the token login naming the library;
#  * clock skew beyond krb5's tolerance (default 300 s), with Debian's faketime moving one
#    process's clock an hour ahead: the client's (the KDC refuses the service-ticket request) and
#    the server's (its GSS acceptor refuses the authenticator) — both "Clock skew too great";
#    the skewed client still works with a delegation token (DIGEST-MD5 has no timestamp).
. "$(dirname "$0")/lib.sh"
command -v faketime >/dev/null || { echo "SKIP: faketime (libfaketime) is not installed"; exit 77; }
. "$(dirname "$0")/secure_lib.sh"
# Cyrus's DIGEST-MD5 privacy layer (delegation tokens at privacy)
digest_privacy_leaks
ALICE_CC=$KRB5CCNAME
BOB_CC=FILE:$T/bob.cc
EMPTY_CC=FILE:$T/empty.cc
KRB5CCNAME=$BOB_CC kinit -kt "$KDC/bob.keytab" bob || fail "kinit bob"

# check_tokfile FILE OWNER RENEWER PORT: decode the token file independently
check_tokfile() {
  $PY - "$@" <<'PYEOF' || fail "token file $1 does not decode as expected"
import sys
data = open(sys.argv[1], "rb").read()
owner, renewer, port = sys.argv[2], sys.argv[3], sys.argv[4]
pos = 0
def take(n):
    global pos
    b = data[pos:pos + n]
    assert len(b) == n, "truncated"
    pos += n
    return b
def vlong():  # org.apache.hadoop.io.WritableUtils.readVLong
    first = int.from_bytes(take(1), "big", signed=True)
    if first >= -112:
        return first
    neg = first < -120
    n = -(first + 120) if neg else -(first + 112)
    v = int.from_bytes(take(n), "big")
    return ~v if neg else v
def text():
    return take(vlong()).decode()
assert take(4) == b"HDTS" and take(1) == b"\0"
n = vlong()
assert n == 1, n
alias = text()
ident = take(vlong())
pw = take(vlong())
kind, service = text(), text()
assert vlong() == 0 and pos == len(data)
assert kind == "HDFS_DELEGATION_TOKEN", kind
assert service == "127.0.0.1:" + port and alias == service, (service, alias)
assert len(pw) == 20  # HMAC-SHA1
data, pos = ident, 0
assert take(1) == b"\0"
o, r, real = text(), text(), text()
issue, mx, seq, key = vlong(), vlong(), vlong(), vlong()
assert pos == len(data)
assert o == owner and r == renewer and real == "", (o, r, real)
assert mx - issue == 7 * 86400 * 1000, (issue, mx)
assert seq >= 1
print("token", seq, o, r, service)
PYEOF
}

mkdata "$T/d1" 1500000 1
for q in authentication integrity privacy; do
  secure_start "$q"
  PORT=${NN##*:}
  export KRB5CCNAME=$ALICE_CC
  kinit -kt "$KDC/alice.keytab" alice || fail "kinit alice"
  $C fs token get "$T/tok" >"$T/get.out" || fail "$q: fs token get"
  check_tokfile "$T/tok" alice@CSVAVRO.TEST alice "$PORT" >/dev/null
  [ "$(stat -c %a "$T/tok")" = 600 ] || fail "$q: the token file is not mode 0600"
  $C fs token print "$T/tok" >"$T/print" || fail "$q: fs token print"
  grep -q "Kind: HDFS_DELEGATION_TOKEN, Service: 127.0.0.1:$PORT, .*owner=alice@CSVAVRO.TEST, renewer=alice," "$T/print" ||
    fail "$q: fs token print: $(cat "$T/print")"
  $C fs mkdir -p hdfs:///tmp/t || fail "$q: mkdir"
  # no ticket from here on: the token alone
  kdestroy -q
  export KRB5CCNAME=$EMPTY_CC
  if $C fs ls hdfs:///tmp 2>"$T/err"; then fail "$q: a call without ticket or token succeeded"; fi
  grep -q "no usable ticket" "$T/err" || fail "$q: no-ticket message: $(cat "$T/err")"
  export HADOOP_TOKEN_FILE_LOCATION=$T/tok
  $C fs put "$T/d1" hdfs:///tmp/t/f1 || fail "$q: put with the token"
  $C fs cat hdfs:///tmp/t/f1 | cmp -s - "$T/d1" || fail "$q: cat with the token"
  $C fs mv hdfs:///tmp/t/f1 hdfs:///tmp/t/f2 || fail "$q: mv with the token"
  $C fs ls -l hdfs:///tmp/t >"$T/ls" || fail "$q: ls with the token"
  grep -q " alice .*/tmp/t/f2" "$T/ls" || fail "$q: owner is not alice: $(cat "$T/ls")"
  if $C fs token get "$T/tok2" 2>"$T/err"; then fail "$q: a token-authenticated get succeeded"; fi
  grep -q "only with kerberos" "$T/err" || fail "$q: get over a token: $(cat "$T/err")"
  unset HADOOP_TOKEN_FILE_LOCATION
  # Go (with a ticket again) reads what the token-authenticated client wrote
  export KRB5CCNAME=$ALICE_CC
  kinit -kt "$KDC/alice.keytab" alice || fail "kinit alice again"
  hdfs cat /tmp/t/f2 | cmp -s - "$T/d1" || fail "$q: Go reads the file written with the token"
  hdfs ls -l /tmp/t | grep -q " alice " || fail "$q: Go sees another owner"
  HADOOP_TOKEN_FILE_LOCATION=$T/tok KRB5CCNAME=$EMPTY_CC $C fs rm hdfs:///tmp/t/f2 ||
    fail "$q: rm with the token"
  ok "rpc protection $q: token file decoded independently; put/cat/mv/ls/rm with the token after kdestroy, read back by Go"

  # renew: bob is not the renewer; alice is
  if KRB5CCNAME=$BOB_CC $C fs token renew "$T/tok" 2>"$T/err"; then fail "$q: bob renewed alice's token"; fi
  grep -q "bob tries to renew a token .* with non-matching renewer alice" "$T/err" ||
    fail "$q: non-renewer message: $(cat "$T/err")"
  $C fs token renew "$T/tok" >"$T/renew" || fail "$q: renew by alice"
  grep -q "^Renewed the tokens in $T/tok until [0-9]" "$T/renew" || fail "$q: renew output: $(cat "$T/renew")"
  # a token bob may renew
  $C fs token get "$T/tokb" --renewer bob >/dev/null || fail "$q: get --renewer bob"
  check_tokfile "$T/tokb" alice@CSVAVRO.TEST bob "$PORT" >/dev/null
  KRB5CCNAME=$BOB_CC $C fs token renew "$T/tokb" >/dev/null || fail "$q: renew by the renewer bob"
  # cancel: a stranger cannot; the owner can; then the token is dead
  if KRB5CCNAME=$BOB_CC $C fs token cancel "$T/tok" 2>"$T/err"; then fail "$q: bob cancelled alice's token"; fi
  grep -q "bob is not authorized to cancel the token" "$T/err" || fail "$q: cancel message: $(cat "$T/err")"
  $C fs token cancel "$T/tok" >/dev/null || fail "$q: cancel by alice"
  if HADOOP_TOKEN_FILE_LOCATION=$T/tok KRB5CCNAME=$EMPTY_CC $C fs ls hdfs:///tmp 2>"$T/err"; then
    fail "$q: a cancelled token still works"
  fi
  grep -q "can't be found in cache (it was cancelled)" "$T/err" || fail "$q: cancelled-token message: $(cat "$T/err")"
  grep -q "HADOOP_TOKEN_FILE_LOCATION=$T/tok" "$T/err" || fail "$q: the message does not name the token file"
  # the renewer may cancel too
  KRB5CCNAME=$BOB_CC $C fs token cancel "$T/tokb" >/dev/null || fail "$q: cancel by the renewer"
  ok "rpc protection $q: renew only by the renewer; cancel by owner or renewer, not a stranger; a cancelled token refused"
  stop_hdfsd
done

# an expired token: renew interval 2 s
secure_start privacy --delegation-token-renew-interval 2
export KRB5CCNAME=$ALICE_CC
$C fs token get "$T/tok" >/dev/null || fail "expiry: get"
HADOOP_TOKEN_FILE_LOCATION=$T/tok KRB5CCNAME=$EMPTY_CC $C fs ls hdfs:/// >/dev/null || fail "expiry: a fresh token is refused"
# Cyrus SASL is loaded on first use (src/core/core_dl.h): an unloadable one (an empty file by
# its soname first on LD_LIBRARY_PATH) fails the token login with a message naming it
S=${CSVAVRO_SONAME_LIBSASL2:?}
mkdir -p "$T/nolib" && : >"$T/nolib/$S"
if LD_LIBRARY_PATH=$T/nolib HADOOP_TOKEN_FILE_LOCATION=$T/tok KRB5CCNAME=$EMPTY_CC $C fs ls hdfs:/// 2>"$T/err"; then
  fail "a token login without $S succeeded"
fi
grep -q "HADOOP_TOKEN_FILE_LOCATION=$T/tok: SASL DIGEST-MD5 (tokens) needs $S: $T/nolib/$S: file too short" "$T/err" || fail "no-$S message: $(cat "$T/err")"
ok "token login without $S refused: $(head -c 300 "$T/err")"
sleep 3
if HADOOP_TOKEN_FILE_LOCATION=$T/tok KRB5CCNAME=$EMPTY_CC $C fs ls hdfs:/// 2>"$T/err"; then fail "an expired token works"; fi
grep -q "is expired, current time: .* expected renewal time: " "$T/err" || fail "expired-token message: $(cat "$T/err")"
if $C fs token renew "$T/tok" 2>"$T/err"; then fail "an expired token was renewed"; fi
grep -q "tried to renew an expired token" "$T/err" || fail "renew-expired message: $(cat "$T/err")"
ok "an expired token is refused (use and renew) with the times"

# malformed token files
printf 'HDTS\0\5' >"$T/bad"
if HADOOP_TOKEN_FILE_LOCATION=$T/bad $C fs ls hdfs:/// 2>"$T/err"; then fail "a truncated token file was accepted"; fi
grep -q "token file $T/bad: byte offset 5: the token count says 5 (0 bytes left" "$T/err" ||
  grep -q "token file $T/bad: byte offset [0-9]*:" "$T/err" || fail "bad token file message: $(cat "$T/err")"
printf 'JUNK' >"$T/bad2"
if $C fs token print "$T/bad2" 2>"$T/err"; then fail "junk printed as a token file"; fi
grep -q "not a Hadoop token storage file" "$T/err" || fail "junk message: $(cat "$T/err")"
ok "malformed token files refused naming the file and the offset"

stop_hdfsd

# clock skew (krb5's default tolerance, 300 s): faketime (libfaketime) moves one process's clock
secure_start authentication
export KRB5CCNAME=$ALICE_CC
kinit -kt "$KDC/alice.keytab" alice || fail "skew: kinit"
$C fs token get "$T/tok" >/dev/null || fail "skew: get"
# only a TGT in the cache: the service ticket is asked for under the skewed clock
kdestroy -q && kinit -kt "$KDC/alice.keytab" alice || fail "skew: kinit again"
# the client an hour ahead: the KDC refuses its service-ticket request
if env ASAN_OPTIONS="verify_asan_link_order=0:${ASAN_OPTIONS:-}" faketime -f '+1h' $C fs ls hdfs:/// 2>"$T/err"; then
  fail "skew: a client an hour ahead was let in"
fi
grep -q "Clock skew too great" "$T/err" || fail "skew (client): $(cat "$T/err")"
ok "client clock an hour ahead: $(head -c 200 "$T/err")"
# the same client with the delegation token: DIGEST-MD5 has no timestamp, the NameNode's clock rules
HADOOP_TOKEN_FILE_LOCATION=$T/tok KRB5CCNAME=$EMPTY_CC \
  env ASAN_OPTIONS="verify_asan_link_order=0:${ASAN_OPTIONS:-}" faketime -f '+1h' $C fs ls hdfs:/// >/dev/null ||
  fail "skew: the token does not work from a client an hour ahead"
ok "a delegation token works from a client whose clock is an hour ahead"
stop_hdfsd
# the NameNode an hour ahead: its GSS acceptor refuses the authenticator
HDFSD_WRAP=(env ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 faketime -f '+1h')
secure_start authentication
if $C fs ls hdfs:/// 2>"$T/err"; then fail "skew: a NameNode an hour ahead let the client in"; fi
grep -q "Clock skew too great" "$T/err" || fail "skew (server): $(cat "$T/err")"
ok "NameNode clock an hour ahead: $(head -c 200 "$T/err")"
stop_hdfsd
