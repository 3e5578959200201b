# The pure parts of the MPI driver, tested without mpirun: the locality policy of rank 0's
# split dispenser (src/exec/exec_locality.c) and the plan codec (src/exec/exec_plan_codec.c:
# round trip, every truncation, byte corruptions, allocation failures).
cav_add_test(NAME test_locality SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_locality.c LABELS unit exec)
cav_add_test(NAME test_plan_codec SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_plan_codec.c LABELS unit exec)
