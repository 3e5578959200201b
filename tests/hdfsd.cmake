# csvavro-hdfsd interop tests: each group starts its own server (--port 0, temp dir) and drives
# it with Debian's Go `hdfs` command only (hdfs-cli); they skip when `hdfs` is not installed.
foreach(_g roundtrip1 roundtrip3 namespace restart confdir garbage faults)
  cav_add_script_test(NAME hdfsd_${_g}
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/hdfsd/hdfsd_test.py ${_g}
    LABELS hdfs interop TIMEOUT 300)
endforeach()
