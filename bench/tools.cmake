# Benchmark tools of bench/run.sh (the run script also builds them itself with `cc -O2` when the
# build directory has none): the single-core memchr newline-count ceiling.
add_executable(memchr_count ${CMAKE_SOURCE_DIR}/bench/memchr_count.c)
