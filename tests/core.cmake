# Unit tests of src/core and src/batch.
cav_add_test(NAME test_core SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_core.c MODULES core batch)
