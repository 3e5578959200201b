# The Python package (python/csvavro, label python): each script is one CTest entry, run with
# Debian's /usr/bin/python3 against build/python. Values are checked against Python's csv
# module, python3-avro and the CLI; hdfs:// against csvavro-hdfsd; dask on a LocalCluster of two
# worker processes; examples/notebook.py end to end. Only in the normal build (python/python.cmake builds the extension there).
if(CAV_PYTHON_BUILT)
  foreach(_t frame avro interrupt hdfs dask pip notebook)
    cav_add_script_test(NAME python_${_t}
      COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/python/test_${_t}.py LABELS python
      TIMEOUT 300)
    set_property(TEST python_${_t} APPEND PROPERTY ENVIRONMENT
      "CSVAVRO_HDFSD=$<TARGET_FILE:csvavro-hdfsd>" "HADOOP_USER_NAME=tester" "TZ=UTC")
    set_tests_properties(python_${_t} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
  # the dask tests start worker processes: not beside the other heavy tests
  set_tests_properties(python_dask python_notebook PROPERTIES RUN_SERIAL ON)
endif()
