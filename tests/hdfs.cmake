# HDFS client tests (label hdfs): codec unit tests, the RPC client against a fake server that
# sends junk, and script tests over real sockets against csvavro-hdfsd, cross-checked with
# Debian's independent `hdfs` client (skipped with a message when it is not installed).
cav_add_test(NAME test_hdfs SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_hdfs.c
  MODULES core io hdfs LABELS hdfs unit)
cav_add_test(NAME test_hdfs_garbage SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_hdfs_garbage.c
  MODULES core io hdfs LABELS hdfs TIMEOUT 60)

if(TARGET csvavro-hdfsd)
  foreach(_t basic interop multiblock faults refuse secure tokens dtoken dtp)
    cav_add_script_test(NAME hdfs_${_t}
      COMMAND /bin/bash ${CMAKE_SOURCE_DIR}/tests/hdfs/hdfs_${_t}.sh LABELS hdfs TIMEOUT 300)
    set_property(TEST hdfs_${_t} APPEND PROPERTY ENVIRONMENT
      "CSVAVRO_HDFSD=$<TARGET_FILE:csvavro-hdfsd>")
    set_tests_properties(hdfs_${_t} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
endif()

# Library-level checks against a live server (run by hdfs_multiblock.sh, not a test itself).
add_executable(hdfs_live ${CMAKE_SOURCE_DIR}/tests/hdfs/hdfs_live.c)
target_link_libraries(hdfs_live PRIVATE csvavro_static)
target_include_directories(hdfs_live PRIVATE ${CMAKE_SOURCE_DIR}/include)
if(TEST hdfs_multiblock)
  set_property(TEST hdfs_multiblock APPEND PROPERTY ENVIRONMENT "HDFS_LIVE=$<TARGET_FILE:hdfs_live>")
endif()
foreach(_t hdfs_tokens hdfs_dtp)
  if(TEST ${_t})
    set_property(TEST ${_t} APPEND PROPERTY ENVIRONMENT "HDFS_LIVE=$<TARGET_FILE:hdfs_live>")
  endif()
endforeach()
