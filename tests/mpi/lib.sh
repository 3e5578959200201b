# lib.sh — shared by the MPI tests (label mpi): skips (exit 77) when mpirun is absent or this
# build has no MPI; `mpi NP CMD…` runs CMD over NP ranks with the flags that work on a small
# machine, as root and in containers; temp dir, csvavro-hdfsd and sanitizer logs come from
# tests/hdfs/lib.sh.
set -euo pipefail
: "${CSVAVRO_BIN:?}" "${CSVAVRO_BUILD:?}" "${CSVAVRO_SRC:?}"
if [ "${CSVAVRO_MPI_BUILD:-OFF}" != ON ]; then echo "skipped: this build has no MPI support"; exit 77; fi
if ! command -v mpirun >/dev/null 2>&1; then echo "skipped: mpirun not found (openmpi-bin)"; exit 77; fi
. "$CSVAVRO_SRC/tests/hdfs/lib.sh"
C=$CSVAVRO_BIN
# each test its own Open MPI session directory: two mpiruns starting at once (ctest -j) can
# race on creating /tmp/ompi.<host>.<uid> ("mkdir ... File exists", orte_init failed)
mkdir -p "$T/o" && export TMPDIR="$T/o"
# --oversubscribe: more ranks than cores; --bind-to none: ranks (and their threads) are not
# pinned to one core each; no single-copy shared memory (CMA needs ptrace rights containers
# often lack); as root Open MPI wants both ALLOW variables.
MPIRUN=(mpirun --oversubscribe --bind-to none --mca btl_vader_single_copy_mechanism none)
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# Open MPI leaks a little at MPI_Finalize: known, suppressed for LeakSanitizer (ASan builds)
export LSAN_OPTIONS="suppressions=$CSVAVRO_SRC/tests/mpi/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
# rank counts to try: 1 2 3; under the sanitizer build (slow start-up) only 3
NPS="1 2 3"
[ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && NPS=3
mpi() {
  local np=$1
  shift
  timeout 180 "${MPIRUN[@]}" -np "$np" "$@"
}
# manifest_norm: a manifest (stdin) without what differs between any two runs (job ids, time)
manifest_norm() {
  /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
for o in m.get("outputs", []): o.pop("job", None)
for j in m.get("jobs", []): j.pop("job", None); j.pop("committed_ms", None)
print(json.dumps(m, indent=1))'
}
# same_tree A B: the same file names with the same bytes (_SUCCESS: after replacing A by B,
# without job ids and times)
same_tree() {
  local a=$1 b=$2
  diff -rq --exclude=_SUCCESS "$a" "$b" >&2 || fail "$b differs from $a"
  if [ -e "$a/_SUCCESS" ]; then
    sed "s#$a/#$b/#g" "$a/_SUCCESS" | manifest_norm > "$b.man.a"
    manifest_norm < "$b/_SUCCESS" > "$b.man.b"
    cmp -s "$b.man.a" "$b.man.b" || fail "_SUCCESS differs: $(diff "$b.man.a" "$b.man.b" | head -5)"
    rm -f "$b.man.a" "$b.man.b"
  fi
}
# splits_by_rank LOG: "rank:splits:local:remote:nohost" lines from a summary
splits_by_rank() {
  sed -n 's/^csvavro convert: rank \([0-9]*\) ([^)]*): \([0-9]*\) splits\{0,1\}: \([0-9]*\) local, \([0-9]*\) remote, \([0-9]*\) without hosts$/\1:\2:\3:\4:\5/p' "$1"
}
