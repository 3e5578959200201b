# Tests of the `--where` expression language (src/filter): unit tests with hand-computed
# expectations and a randomized cross-check against a scalar evaluator; and the filter
# benchmark (built, never run as a test).
cav_add_test(NAME test_filter SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_filter.c MODULES core batch filter)

add_executable(bench_filter ${CMAKE_SOURCE_DIR}/bench/bench_filter.c $<TARGET_OBJECTS:cav_core>
               $<TARGET_OBJECTS:cav_batch> $<TARGET_OBJECTS:cav_filter>)
target_link_libraries(bench_filter PRIVATE ${CAV_ALL_LIBS_filter})
target_include_directories(bench_filter PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)

# Date and timestamp literals (year 0 included) against CSV values, checked with Python's csv
# and datetime, read back with python3-avro: the filter and the CSV reader share one parser.
cav_add_script_test(NAME filter_dates COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/filter/where_dates.py
  LABELS interop)
