#!/usr/bin/env bash
# The commit is crash-safe: a job killed (SIGKILL) at EVERY step of its commit, driven by the
# fault point CSVAVRO_COMMIT_FAULT=N (not by timing), leaves the dataset as it was before the
# job (killed before the manifest was renamed into place) or as it is after it (killed later):
# never a mix. The interrupted commit is rolled forward or back by the next reader (`csvavro
# cat DIR`) or by the next job. Four jobs are killed at every step: a first job into an empty
# directory (--mode error), an append with a reject file, an overwrite, and a partitioned
# overwrite of a partitioned dataset. After each kill the dataset is checked independently
# (tests/convert/check_dataset.py: manifest = files on disk, rows read back with python3-avro,
# no intent/lock/temp entry and no empty partition directory left); the reject file exists
# exactly when its job committed; row counts come from Python's csv module.
#
# commit_crash.sh            local directories
# commit_crash.sh hdfs       the same against csvavro-hdfsd; the datasets are fetched for the
#                            checks with Debian's Go `hdfs` client
. "$(dirname "$0")/dataset_lib.sh" "${1:-}" ds
: "${BUILD:?}"
export CSVAVRO_LEASE_MS=1000
"$BUILD/gen_taxi" --rows 1200 --seed 1 > a.csv
"$BUILD/gen_taxi" --rows 900 --seed 2 > b.csv
na=$($DS count a.csv) nb=$($DS count b.csv)
OPTS=(--split-size 40K -q --seed 5)
REJ=(--type store_and_fwd_flag=boolean --on-error reject)

rmds() { if [ "$ON_HDFS" = hdfs ]; then "$BIN" fs rm -r -f "$1"; else rm -rf "$1"; fi; }
cpds() { # a copy of dataset $1 at $2
  rmds "$2"
  if [ "$ON_HDFS" = hdfs ]; then
    "$BIN" fs mkdir -p "$2"
    fetch "$1" "$W/cp.tmp"
    (cd "$W/cp.tmp" && find . -type f) | while read -r f; do
      f=${f#./}
      [ "$(dirname "$f")" = . ] || "$BIN" fs mkdir -p "$2/$(dirname "$f")"
      "$BIN" fs put -f "$W/cp.tmp/$f" "$2/$f"
    done
    return 0
  fi
  if [ -d "$1" ]; then cp -a "$1" "$2"; else mkdir -p "$2"; fi
}
# the records of a dataset after the checks, sorted (state DS --allow-tmp: after a reader,
# which leaves dead jobs' temporary directories to the next job)
state() { fetch "$1" "$W/st"; $DS "$W/st" ${2:-} > "$W/st.json"; sort "$W/st.json"; }

# reference states, each checked against Python's row counts
"$BIN" convert a.csv "$BASE/refA/t.*.avro" "${OPTS[@]}" "${REJ[@]}" --reject-file "$W/refA.rej"
state "$BASE/refA" > A.json
[ $(($(wc -l < A.json) + $(wc -l < refA.rej))) -eq "$na" ] || fail "A: $(wc -l < A.json) rows, expected $na"
"$BIN" convert b.csv "$BASE/refB/t.*.avro" "${OPTS[@]}" "${REJ[@]}" --reject-file "$W/refB.rej"
state "$BASE/refB" > B.json
nbk=$(wc -l < B.json) nbr=$(wc -l < "$W/refB.rej")
[ $((nbk + nbr)) -eq "$nb" ] && [ "$nbr" -gt 0 ] || fail "B: $nbk kept + $nbr rejected != $nb"
sort -m A.json B.json > AB.json
: > empty.json

# crash_every MODE BEFORE AFTER [SETUP]: kills the job at every step of its commit
crash_every() {
  local mode=$1 before=$2 after=$3 setup=${4:-} n=1 killed=0
  # the step numbers: the trace of one undisturbed commit
  rmds "$BASE/d"
  if [ -n "$setup" ]; then cpds "$BASE/$setup" "$BASE/d"; fi
  CSVAVRO_COMMIT_TRACE=1 "$BIN" convert b.csv "$BASE/d/t.*.avro" "${OPTS[@]}" "${XOPTS[@]}" "${REJ[@]}" \
    --reject-file "$W/trace.rej" --mode "$mode" 2> trace.txt
  commit_step=$(grep -n 'manifest in place' trace.txt | cut -d: -f1)
  [ -n "$commit_step" ] && [ "$(wc -l < trace.txt)" -ge 10 ] || fail "trace: $(cat trace.txt)"
  while :; do
    rmds "$BASE/d"
    if [ -n "$setup" ]; then cpds "$BASE/$setup" "$BASE/d"; fi
    rm -f "$W/d.rej"
    set +e
    CSVAVRO_COMMIT_FAULT=$n "$BIN" convert b.csv "$BASE/d/t.*.avro" "${OPTS[@]}" "${XOPTS[@]}" "${REJ[@]}" \
      --reject-file "$W/d.rej" --mode "$mode" 2> err.txt
    rc=$?
    set -e
    [ $rc -eq 0 ] && break
    [ $rc -eq 137 ] || fail "$mode step $n: exit $rc: $(cat err.txt)"
    killed=$((killed + 1))
    if [ $((n % 2)) -eq 1 ]; then
      # a reader recovers (cat DIR trusts the manifest, rolls the commit forward or back)
      got=$("$BIN" cat "$BASE/d" --count 2> err.txt || echo "cat failed: $(cat err.txt)")
      state "$BASE/d" --allow-tmp > got.json || fail "$mode step $n: dataset check"
      if [ "$n" -lt "$commit_step" ]; then
        exp=$before
        [ ! -e d.rej ] || fail "$mode step $n: the reject file of a job that did not commit"
      else
        exp=$after
        [ "$(wc -l < d.rej)" -eq "$nbr" ] || fail "$mode step $n: reject file of the committed job"
      fi
      cmp -s got.json "$exp" || fail "$mode killed at step $n ($(sed -n ${n}p trace.txt)): $(wc -l < got.json) rows, expected $(wc -l < "$exp") ($exp)"
      if [ "$exp" = empty.json ]; then
        case $got in "cat failed: "*"no *.avro files"*) got=0 ;; esac
      fi
      [ "$got" = "$(wc -l < "$exp")" ] || fail "$mode step $n: cat --count says $got"
    else
      # the next job recovers: the same job again, without a fault
      set +e
      "$BIN" convert b.csv "$BASE/d/t.*.avro" "${OPTS[@]}" "${XOPTS[@]}" "${REJ[@]}" --reject-file "$W/d.rej" \
        --mode "$mode" 2> err.txt
      rc=$?
      set -e
      # (a refused rerun runs no job: dead jobs' temporary directories may stay)
      state "$BASE/d" --allow-tmp > got.json || fail "$mode step $n: dataset check after the rerun"
      if [ $rc -eq 0 ]; then state "$BASE/d" > /dev/null || fail "$mode step $n: leftovers after the rerun"; fi
      if [ "$mode" = error ] && [ "$n" -ge "$commit_step" ]; then
        [ $rc -eq 1 ] && grep -q exists err.txt || fail "error mode rerun after a committed job: $rc $(cat err.txt)"
        cmp -s got.json "$after" || fail "error mode step $n: rerun changed the dataset"
      else
        [ $rc -eq 0 ] || fail "$mode step $n: rerun failed: $(cat err.txt)"
        if [ "$mode" = append ]; then
          # rolled back: A+B; rolled forward: A+B+B
          if [ "$n" -lt "$commit_step" ]; then exp=AB.json; else sort -m AB.json B.json > ABB.json; exp=ABB.json; fi
        else exp=$after; fi
        cmp -s got.json "$exp" || fail "$mode killed at step $n, rerun: $(wc -l < got.json) rows, expected $(wc -l < "$exp")"
      fi
    fi
    n=$((n + 1))
    [ $n -le 200 ] || fail "$mode: the commit never ended"
  done
  [ "$killed" -ge 8 ] || fail "$mode: only $killed steps"
  ok "$mode: killed at each of $killed commit steps, every dataset was the one before or after"
}

XOPTS=()
crash_every append A.json AB.json refA
crash_every error empty.json B.json
crash_every overwrite A.json B.json refA
# partitioned: a dataset of A partitioned by passenger_count replaced by B partitioned by
# vendor_id (partition columns kept in the records, so the states compare with A and B); the
# dataset check (check_dataset.py) also fails on an empty directory: a rolled back commit
# removes the partition directories it created, the roll forward those it emptied
"$BIN" convert a.csv "$BASE/refPA/t.*.avro" "${OPTS[@]}" "${REJ[@]}" --reject-file "$W/refPA.rej" --split-size 1M \
  --partition-by passenger_count --keep-partition-columns
state "$BASE/refPA" | cmp -s - A.json || fail "partitioned A differs from A"
XOPTS=(--partition-by vendor_id --keep-partition-columns --split-size 1M)
crash_every overwrite A.json B.json refPA
echo OK
