# lib.sh — shared helpers of the HDFS script tests: start csvavro-hdfsd in a temp dir on free
# ports (killed by an EXIT trap), talk to its control port, compare files, fail loudly: a
# failure names the script line, and the exit trap prints the tail of the server's log (and
# what the AT_EXIT hooks print, e.g. the test KDC's log: tests/hdfs/secure_lib.sh).
# Needs CSVAVRO_BIN and CSVAVRO_HDFSD (set by tests/hdfs.cmake).
set -euo pipefail
: "${CSVAVRO_BIN:?}" "${CSVAVRO_HDFSD:?}"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/csvavro-hdfs-test.XXXXXX)
HDFSD_PID=
# sanitizer reports of the client (also from runs expected to fail) land in $T/san.*
export ASAN_OPTIONS="log_path=$T/san:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="log_path=$T/san:print_stacktrace=1:${UBSAN_OPTIONS:-}"
# AT_EXIT: commands the exit trap runs first, with the exit status in $rc (set +e)
AT_EXIT=()
cleanup() {
  local rc=$? c
  set +e
  trap - ERR
  for c in "${AT_EXIT[@]}"; do eval "$c"; done
  [ -z "$HDFSD_PID" ] || stop_hdfsd
  [ -n "${KEEP_LOG:-}" ] && [ -f "$T/srv/err" ] && cp "$T/srv/err" "$KEEP_LOG"
  if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -s "$T/srv/err" ]; then
    echo "--- the last 40 lines of csvavro-hdfsd's log ($T/srv/err):" >&2
    tail -n 40 "$T/srv/err" >&2
  fi
  if ls "$T"/san.* >/dev/null 2>&1; then
    cat "$T"/san.* >&2
    echo "FAIL: sanitizer reports (above)" >&2
    rc=1
  fi
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
# a command that ends the test through errexit (not through fail) is named too (-E: also in
# functions; not from subshells, where a failure may be expected)
set -E
trap 'e_=$?; [ "$BASH_SUBSHELL" -ne 0 ] ||
  echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" exited $e_" >&2' ERR
export HADOOP_USER_NAME=tester TZ=UTC
unset HADOOP_CONF_DIR HADOOP_HOME
# bounded, fast retries for tests
export CSVAVRO_HDFS_RETRIES=${CSVAVRO_HDFS_RETRIES:-3} CSVAVRO_HDFS_BACKOFF_MS=${CSVAVRO_HDFS_BACKOFF_MS:-100}
export CSVAVRO_HDFS_TIMEOUT_MS=${CSVAVRO_HDFS_TIMEOUT_MS:-5000}

# fail MESSAGE: ends the test; says where (script:line, and the callers' lines)
fail() {
  local i at=
  for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do at+="${at:+ < }${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"; done
  echo "FAIL: $* ($at)" >&2
  exit 1
}
ok() { echo "ok: $*"; }

# start_hdfsd [extra args]: sets NN, CTL, exports HADOOP_NAMENODE. HDFSD_WRAP: a command the
# server runs under (e.g. faketime); its children are stopped with it.
HDFSD_WRAP=()
start_hdfsd() {
  mkdir -p "$T/srv"
  : >"$T/srv/out" # exists before the server's shell opens it: the wait below reads it at once
  env -u ASAN_OPTIONS -u UBSAN_OPTIONS "${HDFSD_WRAP[@]}" "$CSVAVRO_HDFSD" --data "$T/srv/data" --port 0 --superuser tester "$@" >"$T/srv/out" 2>"$T/srv/err" &
  HDFSD_PID=$!
  for _ in $(seq 1 600); do # up to 30 s on a loaded machine; stops early if the server died
    [ "$(wc -l <"$T/srv/out")" -ge 2 ] && break
    kill -0 "$HDFSD_PID" 2>/dev/null || break
    sleep 0.05
  done
  NN=$(sed -n 1p "$T/srv/out")
  CTL=$(sed -n 2p "$T/srv/out" | awk '{print $2}')
  [ -n "$NN" ] || { cat "$T/srv/err" >&2; fail "csvavro-hdfsd did not start"; }
  export HADOOP_NAMENODE=$NN
}

stop_hdfsd() {
  [ ${#HDFSD_WRAP[@]} -eq 0 ] || pkill -P "$HDFSD_PID" 2>/dev/null || true
  kill "$HDFSD_PID" 2>/dev/null || true
  wait "$HDFSD_PID" 2>/dev/null || true
  HDFSD_PID=
}

# ctl "command": one line to the control port, the answer must be ok
ctl() {
  local ans
  ans=$($PY - "$CTL" "$1" <<'PYEOF'
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=10)
s.sendall((sys.argv[2] + "\n").encode())
print(s.makefile().readline().strip())
PYEOF
)
  [ "$ans" = ok ] || fail "control '$1' answered '$ans'"
}

have_go_hdfs() { command -v hdfs >/dev/null 2>&1; }

# mkdata FILE BYTES SEED: deterministic pseudo-random bytes
mkdata() { $PY -c "import random,sys; r=random.Random(int(sys.argv[3])); open(sys.argv[1],'wb').write(r.randbytes(int(sys.argv[2])))" "$1" "$2" "$3"; }

same() { cmp -s "$1" "$2" || fail "$3: $1 and $2 differ"; }
