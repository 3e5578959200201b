# secure_lib.sh — the set-up shared by the tests against a real MIT KDC (hdfs_secure, hdfs_dtp,
# hdfs_dtoken, mpi_secure); sourced after tests/hdfs/lib.sh (directly or through
# tests/mpi/lib.sh). Skips (77) without Debian's Go hdfs client or MIT krb5-kdc. Starts a
# throwaway KDC in $KDC=$T/kdc (scripts/testkdc.sh: realm CSVAVRO.TEST on a free loopback port;
# principals hdfs/localhost, alice and bob, keytabs $KDC/NAME.keytab), exports its environment
# (KRB5_CONFIG, KRB5RCACHEDIR, KRB5CCNAME = alice's cache, all inside $KDC) and kinits alice.
# The KDC is stopped on exit; a failing test prints the tail of the KDC's log too.
#   secure_start QOP [ARGS...]   a Kerberos csvavro-hdfsd at hadoop.rpc.protection QOP (keytab
#                                $KDC/hdfs.keytab, principal $PRINC, -v, replication 2,
#                                SECURE_BLOCK-byte blocks, default 1M; ARGS added), from an
#                                empty data dir; clients take everything from its conf dir
#                                (HADOOP_CONF_DIR=$T/conf; HADOOP_NAMENODE unset)
#   cross_ops NAME DIR           csvavro and Go each mkdir, put, cat, ls, mv and rm in DIR, and
#                                each reads the other's file byte for byte ($T/d1 written by
#                                csvavro, $T/d2 by Go); both owned by alice
#   digest_privacy_leaks         LeakSanitizer: Cyrus SASL's DIGEST-MD5 privacy layer leaks
#                                (tests/hdfs/lsan.supp), for tests that use it
#   prop NAME VALUE              one Hadoop configuration <property>
#   refused WHAT PATTERN CMD...  CMD must fail with PATTERN (grep -i) in its stderr
#   check_ref_rows CSV HDFS-DIR  the reference job's output files in HDFS-DIR, fetched by the Go
#                                client and read by python3-avro, hold the rows Python's csv
#                                module gives for CSV (tests/convert/reference_rows.py)
#   reference_job BYTES SPLIT    the reference job hdfs -> hdfs (-j2, SPLIT-byte splits) on a
#                                BYTES-byte gen_taxi input put by Go, checked by check_ref_rows
have_go_hdfs || { echo "SKIP: Debian's hdfs (hdfs-cli) is not installed"; exit 77; }
KDC=$T/kdc
PRINC=hdfs/localhost@CSVAVRO.TEST
SECURE_BLOCK=1M
C=$CSVAVRO_BIN
secure_rc=0
bash "$CSVAVRO_SRC/scripts/testkdc.sh" start "$KDC" >"$T/kdc.env" || secure_rc=$?
[ $secure_rc -eq 77 ] && { echo "SKIP: MIT krb5-kdc is not installed"; exit 77; }
[ $secure_rc -eq 0 ] || fail "the test KDC did not start"
. "$T/kdc.env"
AT_EXIT+=('[ $rc -eq 0 ] || [ $rc -eq 77 ] || [ ! -s "$KDC/kdc.log" ] ||
  { echo "--- the last 20 lines of the KDC log ($KDC/kdc.log):"; tail -n 20 "$KDC/kdc.log"; } >&2'
  'bash "$CSVAVRO_SRC/scripts/testkdc.sh" stop "$KDC"')
kinit -kt "$KDC/alice.keytab" alice || fail "kinit alice"

secure_start() {
  local q=$1
  shift
  rm -rf "$T/conf" "$T/srv"
  start_hdfsd -v --block-size "$SECURE_BLOCK" --replication 2 --keytab "$KDC/hdfs.keytab" \
    --kerberos-principal "$PRINC" --rpc-protection "$q" --conf-dir "$T/conf" "$@"
  unset HADOOP_NAMENODE # everything from the conf dir, as users would do it
  export HADOOP_CONF_DIR=$T/conf
}

cross_ops() {
  local n=$1 d=$2
  $C fs mkdir -p "hdfs://$d" || fail "$n: csvavro mkdir"
  $C fs put "$T/d1" "hdfs://$d/c1" || fail "$n: csvavro put"
  hdfs put "$T/d2" "$d/g2" || fail "$n: hdfs put"
  hdfs cat "$d/c1" >"$T/o1" || fail "$n: hdfs cat"
  same "$T/d1" "$T/o1" "$n: csvavro-written file read by Go"
  $C fs cat "hdfs://$d/g2" >"$T/o2" || fail "$n: csvavro cat"
  same "$T/d2" "$T/o2" "$n: Go-written file read by csvavro"
  hdfs ls -l "$d" >"$T/ls" || fail "$n: hdfs ls"
  [ "$(awk '{print $NF}' "$T/ls" | tr '\n' ' ')" = "c1 g2 " ] || fail "$n: hdfs ls: $(cat "$T/ls")"
  [ "$(grep -c ' alice ' "$T/ls")" = 2 ] || fail "$n: owners are not alice: $(cat "$T/ls")"
  $C fs ls "hdfs://$d" >"$T/ls2" || fail "$n: csvavro ls"
  grep -q c1 "$T/ls2" && grep -q g2 "$T/ls2" || fail "$n: csvavro ls: $(cat "$T/ls2")"
  $C fs mv "hdfs://$d/c1" "hdfs://$d/c1m" || fail "$n: csvavro mv"
  hdfs mv "$d/g2" "$d/g2m" || fail "$n: hdfs mv"
  hdfs cat "$d/c1m" | cmp -s - "$T/d1" || fail "$n: moved file (Go)"
  $C fs cat "hdfs://$d/g2m" | cmp -s - "$T/d2" || fail "$n: moved file (csvavro)"
  $C fs rm "hdfs://$d/g2m" || fail "$n: csvavro rm"
  hdfs rm "$d/c1m" || fail "$n: hdfs rm"
  [ -z "$(hdfs ls "$d")" ] || fail "$n: directory not empty after rm"
}

digest_privacy_leaks() {
  # Cyrus SASL's DIGEST-MD5 plugin leaks a fetched cipher per privacy connection
  # (library-internal: tests/hdfs/lsan.supp); its frames are found only with the slow unwinder
  export ASAN_OPTIONS="fast_unwind_on_malloc=0:$ASAN_OPTIONS"
  export LSAN_OPTIONS="suppressions=$CSVAVRO_SRC/tests/hdfs/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
}

prop() { printf '<property><name>%s</name><value>%s</value></property>' "$1" "$2"; }

refused() {
  local what=$1 pat=$2
  shift 2
  if "$@" >"$T/out" 2>"$T/err"; then fail "$what: succeeded"; fi
  grep -q -i -- "$pat" "$T/err" || fail "$what: unexpected message: $(cat "$T/err")"
  ok "$what refused: $(head -c 300 "$T/err" | tr '\n' ' ')"
}

check_ref_rows() {
  local d f
  d=$(mktemp -d "$T/refout.XXXX")
  for f in $(hdfs ls "$2" | grep '\.avro$'); do hdfs get "$2/$f" "$d/$f" || fail "hdfs get $2/$f"; done
  $PY "$CSVAVRO_SRC/tests/convert/reference_rows.py" "$1" "$d" || fail "reference job rows"
}

reference_job() {
  "$CSVAVRO_BUILD/gen_taxi" --bytes "$1" --seed 7 >"$T/trip.csv"
  hdfs mkdir -p /tmp/ref && hdfs put "$T/trip.csv" /tmp/ref/trip_data.csv || fail "ref input"
  $C convert hdfs:///tmp/ref/trip_data.csv 'hdfs:///tmp/ref/out/trip.*.avro' \
    --where 'passenger_count > 3' --select pickup_datetime,passenger_count,trip_time_in_secs \
    --split-size "$2" -j2 2>"$T/summary" || { cat "$T/summary" >&2; fail "reference job"; }
  check_ref_rows "$T/trip.csv" /tmp/ref/out
}
