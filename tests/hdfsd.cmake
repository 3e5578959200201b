# csvavro-hdfsd interop tests: each group starts its own server (--port 0, temp dir) and drives
# it with Debian's Go `hdfs` command only (hdfs-cli); they skip (exit 77) when `hdfs` is not
# installed (scripts/deps.sh installs it).
foreach(_g roundtrip1 roundtrip3 namespace restart confdir garbage faults)
  cav_add_script_test(NAME hdfsd_${_g}
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/hdfsd/hdfsd_test.py ${_g}
    LABELS hdfs interop TIMEOUT 300)
  set_tests_properties(hdfsd_${_g} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()
# csvavro-hdfsd as a shared server (tests/hdfsd/hdfsd_security.py): HDFS's permission model
# (traverse, sticky bit, lease holder) as other users, limits and the namespace image round
# trip, DataNode pipeline/replica checks, bounded unauthenticated connections, idle timeout,
# back-off when out of file descriptors.
foreach(_g perms lease limits datanode conn)
  cav_add_script_test(NAME hdfsd_sec_${_g}
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/hdfsd/hdfsd_security.py ${_g}
    LABELS hdfs interop TIMEOUT 300)
  set_tests_properties(hdfsd_sec_${_g} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()
