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
. "$CSVAVRO_SRC/tests/hdfs/secure_lib.sh"
# ASan builds: the stacks of Cyrus's DIGEST-MD5 cipher leak reach its plugin (tests/mpi/lsan.supp)
digest_privacy_leaks
SECURE_BLOCK=256K
secure_start privacy
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
# 48 splits: rank 1 joins after its first token login, which loads Cyrus SASL and its plugins
# (on first use, docs/internals/startup.md; slow under ASan), and must still find splits left
JOB=(--where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs
     --split-size 32K -j1)

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
check_ref_rows "$T/t.csv" /tmp/out
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
