# The module graph and the allocator contract, checked on every run of the suite: an #include
# across an edge CMakeLists.txt does not state (CAV_DEPS_<m>, CAV_LIBS_<m>), or a raw
# malloc/calloc/realloc/strdup/free in src/ outside core_alloc.c, fails this test.
cav_add_script_test(NAME check_layers
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/check_layers.py ${CMAKE_SOURCE_DIR} LABELS lint)

# libcsvavro.so exports the public API only (hidden visibility).
add_test(NAME check_exports COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/check_exports.py
         ${CMAKE_SOURCE_DIR} $<TARGET_FILE:csvavro_shared>)
set_tests_properties(check_exports PROPERTIES LABELS lint)
