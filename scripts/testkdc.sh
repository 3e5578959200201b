#!/usr/bin/env bash
# testkdc.sh — a throwaway MIT Kerberos KDC on loopback, for the secure-HDFS tests, the demo
# and developers. Everything (database, stash, krb5.conf, keytabs, ticket caches, replay cache)
# lives in one directory; nothing outside it is read or written (the system /etc/krb5.conf is
# not used: KRB5_CONFIG and KRB5_KDC_PROFILE point into the directory).
#
#   scripts/testkdc.sh start DIR [USER...]   create realm CSVAVRO.TEST in DIR, start krb5kdc on
#                                            a free 127.0.0.1 port, print `export …` lines
#   scripts/testkdc.sh stop DIR              stop that KDC (the directory is left in place)
#   scripts/testkdc.sh env DIR               print the `export …` lines again
#
# Principals: hdfs/localhost (the NameNode/DataNode service, keytab DIR/hdfs.keytab) and one
# per USER (default: alice bob), each with a random key in DIR/USER.keytab and the password
# "USER-pw" (for `kinit USER` by hand). Typical use:
#
#   eval "$(scripts/testkdc.sh start /tmp/kdc)"
#   kinit -kt /tmp/kdc/alice.keytab alice            # ticket cache: $KRB5CCNAME
#   csvavro-hdfsd --data /tmp/d --keytab /tmp/kdc/hdfs.keytab \
#       --kerberos-principal hdfs/localhost@CSVAVRO.TEST --conf-dir /tmp/conf
#   HADOOP_CONF_DIR=/tmp/conf csvavro fs ls hdfs:///
#   scripts/testkdc.sh stop /tmp/kdc
#
# Needs Debian's krb5-kdc, krb5-admin-server (kadmin.local) and krb5-user (kinit); exits 77
# when they are missing (the test suite's "skipped" code).
set -euo pipefail
REALM=CSVAVRO.TEST
SERVICE=hdfs/localhost

die() { echo "testkdc: $*" >&2; exit 1; }

need() {
  local p
  for p in krb5kdc kdb5_util kadmin.local kinit; do
    command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$p" >/dev/null 2>&1 ||
      { echo "testkdc: $p not found (install krb5-kdc krb5-admin-server krb5-user)" >&2; exit 77; }
  done
  export PATH=$PATH:/usr/sbin:/sbin
}

print_env() {
  local d=$1
  cat <<EOF
export KRB5_CONFIG='$d/krb5.conf'
export KRB5_KDC_PROFILE='$d/kdc.conf'
export KRB5CCNAME='FILE:$d/ccache'
export KRB5RCACHEDIR='$d/rcache'
export CSVAVRO_TESTKDC_DIR='$d'
export CSVAVRO_TESTKDC_REALM='$REALM'
EOF
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# write_conf DIR PORT: krb5.conf (clients) and kdc.conf (the KDC) for a KDC on 127.0.0.1:PORT
write_conf() {
  local d=$1 port=$2
  cat >"$d/krb5.conf" <<EOF
[libdefaults]
  default_realm = $REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  ignore_acceptor_hostname = false
  ticket_lifetime = 10h
  renew_lifetime = 7d
  forwardable = false
  udp_preference_limit = 1
  default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
  default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
  permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96

[realms]
  $REALM = {
    kdc = 127.0.0.1:$port
  }

[domain_realm]
  localhost = $REALM
  127.0.0.1 = $REALM
EOF
  cat >"$d/kdc.conf" <<EOF
[kdcdefaults]
  kdc_ports = $port
  kdc_tcp_ports = $port
  kdc_listen = 127.0.0.1:$port
  kdc_tcp_listen = 127.0.0.1:$port

[realms]
  $REALM = {
    database_name = $d/principal
    key_stash_file = $d/stash
    acl_file = $d/kadm5.acl
    admin_keytab = $d/kadm5.keytab
    max_life = 10h
    max_renewable_life = 7d
    master_key_type = aes256-cts-hmac-sha1-96
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }

[logging]
  kdc = FILE:$d/kdc.log
EOF
}

start() {
  local d=$1; shift
  local users=("$@")
  [ ${#users[@]} -gt 0 ] || users=(alice bob)
  need
  mkdir -p "$d"
  d=$(cd "$d" && pwd)
  [ -e "$d/kdc.pid" ] && die "$d already holds a KDC (stop it first)"
  mkdir -p "$d/rcache"
  # the database needs no port: it is chosen right before the KDC starts (below)
  write_conf "$d" 0
  : >"$d/kadm5.acl"
  export KRB5_CONFIG=$d/krb5.conf KRB5_KDC_PROFILE=$d/kdc.conf
  local mpw
  mpw=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  kdb5_util -r "$REALM" create -s -P "$mpw" >"$d/setup.log" 2>&1 || { cat "$d/setup.log" >&2; die "kdb5_util create failed"; }
  {
    echo "addprinc -randkey $SERVICE"
    echo "ktadd -k $d/hdfs.keytab $SERVICE"
    for u in "${users[@]}"; do
      echo "addprinc -pw $u-pw $u"
      echo "ktadd -k $d/$u.keytab -norandkey $u"
    done
  } | kadmin.local -r "$REALM" >>"$d/setup.log" 2>&1 || { cat "$d/setup.log" >&2; die "kadmin.local failed"; }
  # a free port, and the KDC at once; another program on this machine may still bind or connect
  # from that port in between (krb5kdc then exits: "Address already in use"): a new port then
  local port try
  for try in 1 2 3 4 5; do
    port=$(free_port)
    write_conf "$d" "$port"
    : >"$d/kdc.log"
    krb5kdc -r "$REALM" -P "$d/kdc.pid" >>"$d/setup.log" 2>&1 && break
    grep -q "Address already in use" "$d/kdc.log" 2>/dev/null && [ "$try" -lt 5 ] ||
      { cat "$d/setup.log" "$d/kdc.log" >&2 2>/dev/null; die "krb5kdc did not start"; }
    echo "testkdc: 127.0.0.1:$port was taken before the KDC bound it; another port" >&2
  done
  # wait until it answers (a kinit from a keytab)
  local u=${users[0]} i
  for i in $(seq 1 100); do
    if KRB5CCNAME=FILE:$d/probe.ccache kinit -kt "$d/$u.keytab" "$u" >/dev/null 2>&1; then
      rm -f "$d/probe.ccache"
      print_env "$d"
      return 0
    fi
    sleep 0.05
  done
  cat "$d/setup.log" "$d/kdc.log" >&2 2>/dev/null || true
  stop "$d"
  die "the KDC on 127.0.0.1:$port does not answer"
}

stop() {
  local d=$1 pid
  [ -f "$d/kdc.pid" ] || return 0
  pid=$(cat "$d/kdc.pid")
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -f "$d/kdc.pid"
}

case "${1:-}" in
  start) [ $# -ge 2 ] || die "usage: $0 start DIR [USER...]"; shift; start "$@" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  env) [ $# -eq 2 ] || die "usage: $0 env DIR"; print_env "$(cd "$2" && pwd)" ;;
  *) echo "usage: $0 start DIR [USER...] | stop DIR | env DIR" >&2; exit 2 ;;
esac
