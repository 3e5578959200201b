# Avro encoding benchmark (records/s and MB/s per codec). Built, never run as a test.
if(NOT TARGET bench_avro_encode)
  add_executable(bench_avro_encode ${CMAKE_SOURCE_DIR}/bench/bench_avro_encode.c)
  target_link_libraries(bench_avro_encode PRIVATE csvavro_static)
  target_include_directories(bench_avro_encode PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
endif()
