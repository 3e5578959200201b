#!/usr/bin/env bash
# examples/reference_job.c: built by CMake and run ($1); then `make install PREFIX=…` into a
# temporary prefix and the example built again against the installed copy with
# `pkg-config --cflags --libs csvavro`, run, and its output compared with the CLI's.
set -euo pipefail
EXAMPLE=${1:?} BIN=${CSVAVRO_BIN:?} BUILD=${CSVAVRO_BUILD:?} SRC=${CSVAVRO_SRC:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$T"
"$BUILD/gen_taxi" --rows 20000 --seed 8 > trip.csv
"$EXAMPLE" trip.csv 'a/trip.*.avro' 2 > out.txt || fail "example failed"
"$BIN" convert trip.csv 'b/trip.*.avro' --where 'passenger_count > 3' \
  --select pickup_datetime,passenger_count,trip_time_in_secs -q
na=$("$BIN" cat 'a/trip.*.avro' --count) nb=$("$BIN" cat 'b/trip.*.avro' --count)
[ "$na" -eq "$nb" ] && [ "$na" -gt 0 ] || fail "example kept $na rows, the CLI $nb"
grep -q "kept $na" out.txt || fail "example output: $(cat out.txt)"

[ "${CSVAVRO_SANITIZE:-OFF}" = ON ] && { echo "OK (install part skipped under the sanitizer)"; exit 0; }
cmake --install "$BUILD" --prefix "$T/prefix" > install.log || fail "install: $(tail install.log)"
[ -x "$T/prefix/bin/csvavro" ] && [ -f "$T/prefix/include/csvavro.h" ] || fail "install layout"
pc=$(dirname "$(find "$T/prefix" -name csvavro.pc | head -n 1)")
[ -n "$pc" ] || fail "no csvavro.pc installed"
# --define-prefix: the .pc file was configured for CMAKE_INSTALL_PREFIX; the prefix of this
# copy is guessed from where the .pc file lies (<prefix>/lib/pkgconfig)
PC="pkg-config --define-prefix"
libdir=$(PKG_CONFIG_PATH=$pc $PC --variable=libdir csvavro)
ls "$libdir"/libcsvavro.a "$libdir"/libcsvavro.so > /dev/null || fail "libraries not installed"
cc -std=c11 -Wall -Werror "$SRC/examples/reference_job.c" \
  $(PKG_CONFIG_PATH=$pc $PC --cflags --libs csvavro) -Wl,-rpath,"$libdir" -o ex \
  || fail "example does not build against the installed copy"
./ex trip.csv 'c/trip.*.avro' > out2.txt || fail "installed example failed"
nc=$("$T/prefix/bin/csvavro" cat 'c/trip.*.avro' --count)
[ "$nc" -eq "$nb" ] || fail "installed example kept $nc rows, expected $nb"
echo OK
