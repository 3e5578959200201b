# Tests of the `--where` expression language (src/ops): unit tests with hand-computed
# expectations and a randomized cross-check against a scalar evaluator; and the filter
# benchmark (built, never run as a test).
cav_add_test(NAME test_ops SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_ops.c MODULES core batch ops)

add_executable(bench_filter ${CMAKE_SOURCE_DIR}/bench/bench_filter.c $<TARGET_OBJECTS:cav_core>
               $<TARGET_OBJECTS:cav_batch> $<TARGET_OBJECTS:cav_ops>)
target_link_libraries(bench_filter PRIVATE ${CAV_EXTERNAL_LIBS})
target_include_directories(bench_filter PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
