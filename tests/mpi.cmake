# One convert job over MPI ranks (label mpi; src/exec/exec_mpi.c): outputs identical to the
# single-process run on local and csvavro-hdfsd input, HDFS locality, a failing rank, an
# interrupted job, --partition-by over the ranks. Each test exits 77 (skipped) when mpirun is absent or the build has no MPI.
if(TARGET csvavro-hdfsd)
  foreach(_t local hdfs locality failure interrupt partition secure)
    cav_add_script_test(NAME mpi_${_t} COMMAND /bin/bash ${CMAKE_SOURCE_DIR}/tests/mpi/mpi_${_t}.sh
                        LABELS mpi TIMEOUT 300)
    set_property(TEST mpi_${_t} APPEND PROPERTY ENVIRONMENT
                 "CSVAVRO_HDFSD=$<TARGET_FILE:csvavro-hdfsd>" "CSVAVRO_MPI_BUILD=${CAV_HAVE_MPI}")
    set_tests_properties(mpi_${_t} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
endif()
