# Tests of issue 13's input handling (src/io/io_input.c, header names): real TLC headers,
# compressed files and streams, checked against Python's csv module and python3-avro.
cav_add_script_test(NAME input_real_header
                    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/input/real_header.sh LABELS convert input)
set_tests_properties(input_real_header PROPERTIES SKIP_RETURN_CODE 77)
cav_add_script_test(NAME input_values
                    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/input/values.py LABELS convert input)
cav_add_script_test(NAME input_decimal
                    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/input/decimals.py LABELS convert input)
cav_add_script_test(NAME input_schema_map
                    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/input/schema_map.py LABELS convert input)
cav_add_script_test(NAME input_compressed_splits
                    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/input/compressed_splits.py LABELS convert input)
set_tests_properties(input_compressed_splits PROPERTIES SKIP_RETURN_CODE 77)
if(TARGET csvavro-hdfsd)
  cav_add_script_test(NAME input_hdfs_compressed
                      COMMAND /bin/bash ${CMAKE_SOURCE_DIR}/tests/input/hdfs_compressed.sh LABELS hdfs input TIMEOUT 300)
  set_property(TEST input_hdfs_compressed APPEND PROPERTY ENVIRONMENT
               "CSVAVRO_HDFSD=$<TARGET_FILE:csvavro-hdfsd>")
  set_tests_properties(input_hdfs_compressed PROPERTIES SKIP_RETURN_CODE 77)
endif()
