# Tests of src/csv (CSV scanner, typed values, inference) and of the head/schema commands.
cav_add_test(NAME test_csv SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_csv.c LABELS unit)
# Driver printing records as hex JSON; tests/csv/compare_python.py checks it against Python's
# csv module and runs its --sweep (SIMD vs scalar at every buffer size) and --splits modes.
add_executable(test_csv_dump ${CMAKE_SOURCE_DIR}/tests/unit/test_csv_dump.c)
target_link_libraries(test_csv_dump PRIVATE csvavro_static)
target_include_directories(test_csv_dump PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
cav_add_script_test(NAME csv_python_corpus
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/csv/compare_python.py $<TARGET_FILE:test_csv_dump>
  LABELS interop)
# Wide CSVs, big and non-UTF-8 headers; TIMEOUT bounds the 100 000-column runs (they took
# minutes when building the schema was quadratic; about a second now).
cav_add_script_test(NAME csv_limits
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/csv/limits.py LABELS golden TIMEOUT 120)
cav_add_script_test(NAME csv_cli_golden
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/csv/cli_golden.py
  LABELS golden)
add_executable(bench_csv_scan ${CMAKE_SOURCE_DIR}/bench/bench_csv_scan.c)
target_link_libraries(bench_csv_scan PRIVATE csvavro_static)
target_include_directories(bench_csv_scan PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
# The conversion's fast paths (per-batch ASCII check, typed loops, inference shortcuts) against
# Python's csv module, datetime and python3-avro (issue 17).
cav_add_script_test(NAME csv_fast_paths
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/csv/fast_paths.py LABELS interop)
# Projection pushdown into the scan (issue 17): generated CSVs with nasty quoting and bad records
# through filtered/projected jobs, with and without the pushdown (CSVAVRO_SCAN_ALL=1), against
# each other and against the test's own model checked by Python's csv module and python3-avro.
cav_add_script_test(NAME csv_pushdown
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/csv/pushdown.py LABELS interop)
# Schema inference on two threads (-j >= 2: the sample's windows split between the planning
# thread and a helper) against the one-thread schema and the test's own model of the rules;
# and under ThreadSanitizer
cav_add_script_test(NAME csv_infer_threads
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/csv/infer_threads.py LABELS interop)
cav_add_script_test(NAME csv_infer_threads_tsan
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/csv/infer_threads.py LABELS tsan)
