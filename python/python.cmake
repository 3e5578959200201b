# The Python package (python/csvavro): the CPython extension csvavro._native, built against
# Debian's Python 3 (/usr/bin/python3 + python3-dev) and linked with the static library, so the
# module carries libcsvavro inside it. The build tree gets an importable copy in
# build/python/csvavro (tests run it with PYTHONPATH=build/python); `make install` puts the same
# files into Debian's site directory for the prefix (/usr/local/lib/python3.X/dist-packages).
# `pip install ./python` builds the same extension through python/setup.py instead.
# Not built in sanitizer/fuzz builds: the interpreter is not instrumented.
if(CSVAVRO_SANITIZE OR CSVAVRO_TSAN OR CSVAVRO_FUZZ)
  return()
endif()
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3)
endif()
find_package(Python3 3.9 COMPONENTS Interpreter Development.Module)
if(NOT Python3_FOUND)
  message(STATUS "csvavro: Python 3 development files not found; python/ is not built (scripts/deps.sh installs python3-dev)")
  return()
endif()
set(CAV_PY_OUT ${CMAKE_BINARY_DIR}/python/csvavro)
Python3_add_library(csvavro_python MODULE WITH_SOABI ${CMAKE_SOURCE_DIR}/python/csvavro/_native.c)
target_link_libraries(csvavro_python PRIVATE csvavro_static)
target_include_directories(csvavro_python PRIVATE ${CMAKE_SOURCE_DIR}/include)
# the Python C API's macros trip -Wextra's cast checks; the rest of the flags stay
target_compile_options(csvavro_python PRIVATE -Wno-cast-function-type -Wno-missing-field-initializers)
set_target_properties(csvavro_python PROPERTIES OUTPUT_NAME _native LIBRARY_OUTPUT_DIRECTORY ${CAV_PY_OUT}
                      C_VISIBILITY_PRESET hidden)
file(GLOB CAV_PY_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/python/csvavro/*.py)
set(_copies)
foreach(f IN LISTS CAV_PY_SOURCES)
  get_filename_component(_n ${f} NAME)
  add_custom_command(OUTPUT ${CAV_PY_OUT}/${_n} COMMAND ${CMAKE_COMMAND} -E copy ${f} ${CAV_PY_OUT}/${_n}
                     DEPENDS ${f} VERBATIM)
  list(APPEND _copies ${CAV_PY_OUT}/${_n})
endforeach()
add_custom_target(csvavro_python_files ALL DEPENDS ${_copies})
add_dependencies(csvavro_python csvavro_python_files)

set(CSVAVRO_PYTHON_SITE "" CACHE PATH "where make install puts the csvavro package (default: Debian's dist-packages of the prefix)")
if(NOT CSVAVRO_PYTHON_SITE)
  set(CSVAVRO_PYTHON_SITE "lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/dist-packages")
endif()
install(TARGETS csvavro_python LIBRARY DESTINATION ${CSVAVRO_PYTHON_SITE}/csvavro)
install(FILES ${CAV_PY_SOURCES} DESTINATION ${CSVAVRO_PYTHON_SITE}/csvavro)
set(CAV_PYTHON_BUILT ON)
