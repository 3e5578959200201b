# Tests of src/exec (the job) and `csvavro convert`: unit tests of planning, naming, the
# committer and the public job API; script tests against Python's csv module and python3-avro;
# the example program (built here, and against an installed copy through pkg-config).
cav_add_test(NAME test_exec SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_exec.c LABELS unit exec)
# the same binary under ThreadSanitizer (`make test-tsan` runs label tsan): the worker pool
add_test(NAME test_exec_tsan COMMAND test_exec WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(test_exec_tsan PROPERTIES LABELS tsan TIMEOUT 300)
# the job run in parts and column-wise Avro reading (public API, as the Python package uses it)
# the commit lock: three takers of a dead lock at once, many rounds
cav_add_test(NAME test_lock SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_lock.c LABELS unit exec)
cav_add_test(NAME test_parts SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_parts.c LABELS unit exec)

add_executable(example_reference_job ${CMAKE_SOURCE_DIR}/examples/reference_job.c)
target_link_libraries(example_reference_job PRIVATE csvavro_static)

cav_add_script_test(NAME convert_splits COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/splits.sh
                    LABELS convert)
cav_add_script_test(NAME convert_forms COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/forms.sh
                    LABELS convert)
# the single-file output assembled live in split order (exec_single.c): slow/fast workers, the
# reorder buffer in memory / spilled / off, a failed middle split; and under ThreadSanitizer
cav_add_script_test(NAME convert_order COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/order.sh
                    LABELS convert)
set_tests_properties(convert_order PROPERTIES SKIP_RETURN_CODE 77)
cav_add_script_test(NAME convert_order_tsan
                    COMMAND env ORDER_QUICK=1 bash ${CMAKE_SOURCE_DIR}/tests/convert/order.sh
                    LABELS tsan)
set_tests_properties(convert_order_tsan PROPERTIES SKIP_RETURN_CODE 77)
cav_add_script_test(NAME convert_interrupt
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/interrupt.sh LABELS convert)
cav_add_script_test(NAME convert_reference
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/reference.sh LABELS convert)
# Errors that must not mislead: reject order, --max-errors, hints, usage errors.
cav_add_script_test(NAME convert_messages
                    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/convert/messages.py
                    LABELS convert)
cav_add_script_test(NAME convert_example
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/example.sh
                            $<TARGET_FILE:example_reference_job> LABELS convert)
if(TARGET csvavro-hdfsd)
  cav_add_script_test(NAME convert_hdfs COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/hdfs.sh
                      LABELS convert hdfs TIMEOUT 300)
  set_property(TEST convert_hdfs APPEND PROPERTY ENVIRONMENT
               "CSVAVRO_HDFSD=$<TARGET_FILE:csvavro-hdfsd>")
endif()
# The reference job on 1 GB (python's csv module and python3-avro take minutes): label `large`;
# `make test` leaves the label out and `make test-large` runs it; a plain `ctest` reports it
# skipped unless CSVAVRO_LARGE=1:  CSVAVRO_LARGE=1 ctest -L large
cav_add_script_test(NAME convert_reference_1g
                    COMMAND env REF_BYTES=1000000000
                            bash ${CMAKE_SOURCE_DIR}/tests/convert/reference.sh
                    LABELS large TIMEOUT 3600)
set_tests_properties(convert_reference_1g PROPERTIES SKIP_RETURN_CODE 77)
# kill -9 at every step of the commit (fault point), locally and on csvavro-hdfsd
cav_add_script_test(NAME convert_commit_crash
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/commit_crash.sh LABELS convert)
if(TARGET csvavro-hdfsd)
  cav_add_script_test(NAME convert_commit_crash_hdfs
                      COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/commit_crash.sh hdfs
                      LABELS convert hdfs TIMEOUT 600)
  set_property(TEST convert_commit_crash_hdfs APPEND PROPERTY ENVIRONMENT
               "CSVAVRO_HDFSD=$<TARGET_FILE:csvavro-hdfsd>")
  set_tests_properties(convert_commit_crash_hdfs PROPERTIES SKIP_RETURN_CODE 77)
endif()
# output modes, append's schema rules, the commit lock and leases (local and csvavro-hdfsd)
cav_add_script_test(NAME convert_modes COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/modes.sh
                    LABELS convert)
if(TARGET csvavro-hdfsd)
  cav_add_script_test(NAME convert_modes_hdfs
                      COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/modes.sh hdfs
                      LABELS convert hdfs TIMEOUT 300)
  set_property(TEST convert_modes_hdfs APPEND PROPERTY ENVIRONMENT
               "CSVAVRO_HDFSD=$<TARGET_FILE:csvavro-hdfsd>")
  set_tests_properties(convert_modes_hdfs PROPERTIES SKIP_RETURN_CODE 77)
endif()
# cat --where on record columns against python3-avro + a Python predicate
cav_add_script_test(NAME cat_where COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/cat_where.sh
                    LABELS convert)
set_tests_properties(cat_where PROPERTIES SKIP_RETURN_CODE 77)
# cat --where on nested records (dotted paths), --format avro with record terms, and a dataset
# whose later append added a column (read as null through the dataset's schema): python3-avro
cav_add_script_test(NAME cat_where_nested
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/cat_where_nested.sh
                    LABELS convert)
set_tests_properties(cat_where_nested PROPERTIES SKIP_RETURN_CODE 77)
# --partition-by against Python's csv grouping (local and csvavro-hdfsd)
cav_add_script_test(NAME convert_partition
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/partition.sh LABELS convert)
if(TARGET csvavro-hdfsd)
  cav_add_script_test(NAME convert_partition_hdfs
                      COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/partition.sh hdfs
                      LABELS convert hdfs TIMEOUT 300)
  set_property(TEST convert_partition_hdfs APPEND PROPERTY ENVIRONMENT
               "CSVAVRO_HDFSD=$<TARGET_FILE:csvavro-hdfsd>")
  set_tests_properties(convert_partition_hdfs PROPERTIES SKIP_RETURN_CODE 77)
endif()
# cat of a partitioned dataset as CSV and as one merged Avro file (python3-avro, avrocat)
cav_add_script_test(NAME convert_cat_dataset
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/cat_dataset.sh LABELS convert)
set_tests_properties(convert_cat_dataset PROPERTIES SKIP_RETURN_CODE 77)
# the streamed manifest and part-file lists at thousands of partitions, kills mid-commit
cav_add_script_test(NAME convert_manifest_many
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/convert/manifest_many.sh LABELS convert)
