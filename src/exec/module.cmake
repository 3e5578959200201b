# src/exec: exec_mpi.c (one convert job over MPI ranks) is not part of libcsvavro: it becomes
# its own library libcsvavro_mpi.a (target csvavro_mpi, public header include/csvavro_mpi.h),
# linked into the csvavro CLI (CAV_CLI_EXTRA_LIBS), with MPI when CSVAVRO_MPI is ON and MPI
# (libopenmpi-dev) is found, as stubs otherwise. It compiles against MPI's headers but loads
# libmpi only when run under an MPI launcher (dlopen, src/core/core_dl.h): nothing links MPI.
list(REMOVE_ITEM _src ${CMAKE_SOURCE_DIR}/src/exec/exec_mpi.c)
set(CAV_HAVE_MPI OFF)
if(CSVAVRO_MPI)
  find_package(MPI COMPONENTS C QUIET)
  if(MPI_C_FOUND)
    set(CAV_HAVE_MPI ON)
    message(STATUS "csvavro: MPI ${MPI_C_VERSION} found: convert runs over mpirun ranks")
    cav_dlopen_lib(MPI "${MPI_C_LIBRARIES}" ${MPI_C_INCLUDE_DIRS})
  else()
    message(STATUS "csvavro: MPI not found (libopenmpi-dev): convert runs in one process only")
  endif()
endif()

function(cav_exec_configure)
  add_library(csvavro_mpi STATIC ${CMAKE_SOURCE_DIR}/src/exec/exec_mpi.c)
  target_include_directories(csvavro_mpi PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
                             ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(csvavro_mpi PUBLIC csvavro_static)
  if(CAV_HAVE_MPI)
    target_compile_definitions(csvavro_mpi PRIVATE CAV_HAVE_MPI=1)
    target_link_libraries(csvavro_mpi PRIVATE cav_dl_MPI)
  endif()
endfunction()
list(APPEND CAV_CLI_EXTRA_LIBS csvavro_mpi)
