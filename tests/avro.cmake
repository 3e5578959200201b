# Avro module tests: unit tests (schema JSON, writer/reader round trip, corruption), the C test
# writer used by the interop scripts, interop with python3-avro and avrocat, and the encoding
# benchmark (built, not a test).
set(_avro_dir ${CMAKE_SOURCE_DIR}/tests/avro)

# Test-data writer: builds cav_batch columns in C and writes them with the container writer.
add_executable(avro_testwrite ${_avro_dir}/avro_testwrite.c)
target_link_libraries(avro_testwrite PRIVATE csvavro_static)
target_include_directories(avro_testwrite PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
                           ${_avro_dir})

# Interop: csvavro-written files (every type, every codec) read by python3-avro and avrocat.
cav_add_script_test(NAME avro_interop_python_reads
  COMMAND /usr/bin/python3 ${_avro_dir}/interop_read.py python LABELS interop)
cav_add_script_test(NAME avro_interop_avrocat_reads
  COMMAND /usr/bin/python3 ${_avro_dir}/interop_read.py avrocat LABELS interop)
# Interop: python3-avro-written files (every type, each codec it has) read by `csvavro cat`.
cav_add_script_test(NAME avro_interop_cat_reads_python
  COMMAND /usr/bin/python3 ${_avro_dir}/interop_cat.py LABELS interop)
# Interop: the Avro type system (unions of every shape, ...) written by python3-avro, read by
# `csvavro cat`, compared with python3-avro's own decoding.
cav_add_script_test(NAME avro_interop_cat_types
  COMMAND /usr/bin/python3 ${_avro_dir}/interop_cat_types.py LABELS interop)

# Damage detection: a flipped bit in a zstandard/snappy/xz/bzip2 file never prints other values.
cav_add_script_test(NAME avro_corrupt_codecs
  COMMAND /usr/bin/python3 ${_avro_dir}/corrupt_codecs.py LABELS interop)

# Unit tests: options, schema JSON, writer/reader round trips, corrupt files.
cav_add_test(NAME test_avro SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_avro.c)
target_include_directories(test_avro PRIVATE ${_avro_dir})
cav_add_test(NAME test_avro_corrupt SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_avro_corrupt.c)
target_include_directories(test_avro_corrupt PRIVATE ${_avro_dir})
# Our snappy encoder against libsnappy's decoder (and zlib's CRC-32); real taxi blocks against
# python-snappy, python3-avro and avrocat in snappy_readers.py.
cav_add_test(NAME test_avro_snappy SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_avro_snappy.c
  LIBS PkgConfig::SNAPPY)
cav_add_script_test(NAME avro_snappy_readers
  COMMAND /usr/bin/python3 ${_avro_dir}/snappy_readers.py LABELS interop)

# The encoding benchmark: bench/avro.cmake defines the target (built, not a test); it is
# included from here until bench/bench.cmake includes it.
include(${CMAKE_SOURCE_DIR}/bench/avro.cmake)
