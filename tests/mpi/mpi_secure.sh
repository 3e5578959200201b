#!/bin/bash
# mpi_secure.sh — a convert job over `mpirun -np 2` on a secure csvavro-hdfsd (real MIT KDC,
# Kerberos, privacy) where only rank 0 has a ticket: every rank runs through a wrapper that
# points the other ranks' KRB5CCNAME at an empty cache (Open MPI's OMPI_COMM_WORLD_RANK). Rank 0
# gets one delegation token and hands it to rank 1, which authenticates with it (the server log
# says so) and runs splits; the output rows, fetched by Debian's Go client and read by
# python3-avro, equal Python's csv module's filter of the input; the token is cancelled at the
# end (also when the job fails) and no token file is left behind. Control: a single process with
# the empty cache is refused.
. "$(dirname "$0")/lib.sh"
have_go_hdfs || { echo "SKIP: Debian's hdfs (hdfs-cli) is not installed"; exit 77; }
# ASan builds: the stacks of Cyrus's DIGEST-MD5 cipher leak reach its plugin (lsan.supp)
export ASAN_OPTIONS="fast_unwind_on_malloc=0:$ASAN_OPTIONS"
KDC=$T/kdc
rc=0
bash "$CSVAVRO_SRC/scripts/testkdc.sh" start "$KDC" >"$T/kdc.env" || rc=$?
[ $rc -eq 77 ] && { echo "SKIP: MIT krb5-kdc is not installed"; exit 77; }
[ $rc -eq 0 ] || fail "the test KDC did not start"
. "$T/kdc.env"
trap 'r=$?; bash "$CSVAVRO_SRC/scripts/testkdc.sh" stop "$KDC"; (exit $r); cleanup' EXIT
kinit -kt "$KDC/alice.keytab" alice || fail "kinit alice"
start_hdfsd --block-size 256K --replication 2 --keytab "$KDC/hdfs.keytab" \
  --kerberos-principal hdfs/localhost@CSVAVRO.TEST --rpc-protection privacy --conf-dir "$T/conf" -v
unset HADOOP_NAMENODE
export HADOOP_CONF_DIR=$T/conf
EMPTY=FILE:$T/empty.cc
cat >"$T/rank.sh" <<WEOF
#!/bin/bash
# ranks other than 0: no Kerberos ticket at all
if [ "\${OMPI_COMM_WORLD_RANK:-0}" != 0 ]; then export KRB5CCNAME=$EMPTY; fi
exec "\$@"
WEOF
chmod +x "$T/rank.sh"

"$CSVAVRO_BUILD/gen_taxi" --bytes 1500000 --seed 9 >"$T/t.csv"
$C fs mkdir -p hdfs:///tmp/in || fail mkdir
$C fs put "$T/t.csv" hdfs:///tmp/in/t.csv || fail put
JOB=(--where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs
     --split-size 128K -j1)

# control: without a ticket (and no token) nothing is read
if KRB5CCNAME=$EMPTY $C convert hdfs:///tmp/in/t.csv "$T/x/t.*.avro" "${JOB[@]}" -q 2>"$T/err"; then
  fail "a job without a ticket succeeded"
fi
grep -q "no usable ticket" "$T/err" || fail "no-ticket message: $(cat "$T/err")"

mpi 2 "$T/rank.sh" $C convert hdfs:///tmp/in/t.csv 'hdfs:///tmp/out/t.*.avro' "${JOB[@]}" \
  --progress lines 2>"$T/log" || { cat "$T/log" >&2; fail "mpirun -np 2 on the secure server"; }
splits_by_rank "$T/log" >"$T/ranks"
[ "$(wc -l <"$T/ranks")" -eq 2 ] || fail "summary: $(cat "$T/log")"
r1=$(awk -F: '$1 == 1 {print $2}' "$T/ranks")
[ "${r1:-0}" -gt 0 ] || fail "rank 1 ran no split: $(cat "$T/ranks")"
grep -q "authenticated as alice (privacy, delegation token)" "$T/srv/err" ||
  fail "no connection authenticated with the delegation token"
grep -q "alice getDelegationToken ok" "$T/srv/err" || fail "no token was issued"
grep -q "alice cancelDelegationToken ok" "$T/srv/err" || fail "the token was not cancelled"
ls "$T/o"/csvavro-token-* >/dev/null 2>&1 && fail "token files left: $(ls "$T/o")"
mkdir "$T/out"
for f in $(hdfs ls /tmp/out | grep '\.avro$'); do hdfs get "/tmp/out/$f" "$T/out/$f" || fail "hdfs get $f"; done
$PY - "$T/t.csv" "$T/out" <<'PYEOF' || fail "rows"
import csv, datetime, glob, re, sys, warnings
warnings.filterwarnings("ignore")
from avro.datafile import DataFileReader
from avro.io import DatumReader
ep = datetime.datetime(1970, 1, 1)
def us(s):
    d = datetime.datetime(*(int(x) for x in (s[0:4], s[5:7], s[8:10], s[11:13], s[14:16], s[17:19])))
    return (d - ep) // datetime.timedelta(microseconds=1)
with open(sys.argv[1], newline="") as f:
    rd = csv.reader(f); h = next(rd)
    ip, ic, it = h.index("pickup_datetime"), h.index("passenger_count"), h.index("trip_time_in_secs")
    exp = [(us(r[ip]), int(r[ic]), int(r[it])) for r in rd if r[ic] and int(r[ic]) > 3]
got = []
key = lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]
for p in sorted(glob.glob(sys.argv[2] + "/*.avro"), key=key):
    with open(p, "rb") as fh:
        for r in DataFileReader(fh, DatumReader()):
            got.append((r["pickup_datetime"], r["passenger_count"], r["trip_time_in_secs"]))
print(f"{len(exp)} rows expected, {len(got)} read back")
assert exp == got and len(exp) > 0
PYEOF
ok "np 2, only rank 0 with a ticket: rank 1 ran $r1 splits with rank 0's delegation token; rows = Python's csv filter; token cancelled, no token file left"

# a failing job (rank 1 fails a split): the token is cancelled all the same
n0=$(grep -c "alice cancelDelegationToken ok" "$T/srv/err")
if CSVAVRO_FAIL_RANK=1 mpi 2 "$T/rank.sh" $C convert hdfs:///tmp/in/t.csv 'hdfs:///tmp/out2/t.*.avro' \
  "${JOB[@]}" -q 2>"$T/log2"; then fail "the failing job succeeded"; fi
[ "$(grep -c "alice cancelDelegationToken ok" "$T/srv/err")" -gt "$n0" ] ||
  fail "the failed job's token was not cancelled: $(cat "$T/log2")"
ls "$T/o"/csvavro-token-* >/dev/null 2>&1 && fail "token files left after the failure"
ok "a failed job cancels its token too"
echo OK
