# Benchmark helpers built with the project (the generator is used by tests and the demo too).
add_executable(gen_taxi ${CMAKE_SOURCE_DIR}/bench/gen_taxi.c)
add_executable(gen_wide ${CMAKE_SOURCE_DIR}/bench/gen_wide.c)
include(${CMAKE_SOURCE_DIR}/bench/tools.cmake)
