# Writes one man page (cmake -P): the template IN with its line `.\" @GENERATED@` replaced by
# the output of `TOOL --man` (the command sections generated from the option tables in
# tools/opt) and @VERSION@ by VERSION, into OUT. Rules: docs/man/man.cmake.
cmake_minimum_required(VERSION 3.18)
execute_process(COMMAND ${TOOL} --man OUTPUT_VARIABLE gen RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TOOL} --man failed (${rc})")
endif()
file(READ ${IN} page)
set(marker ".\\\" @GENERATED@\n")
string(FIND "${page}" "${marker}" at)
if(at LESS 0)
  message(FATAL_ERROR "${IN}: no '.\\\" @GENERATED@' line")
endif()
string(REPLACE "${marker}" "${gen}" page "${page}")
string(REPLACE "@VERSION@" "${VERSION}" page "${page}")
file(WRITE ${OUT} "${page}")
