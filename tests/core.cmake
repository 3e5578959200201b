# Unit tests of src/core and src/batch.
cav_add_test(NAME test_core SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_core.c MODULES core batch)
# The loader of optional libraries (src/core/core_dl.h), also under ThreadSanitizer (label tsan):
# threads loading one table at once.
cav_add_test(NAME test_core_dl SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_core_dl.c MODULES core
  LIBS PkgConfig::ZLIB)
add_test(NAME test_core_dl_tsan COMMAND test_core_dl WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(test_core_dl_tsan PROPERTIES LABELS tsan TIMEOUT 120)
