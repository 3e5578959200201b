# src/hdfs: generate protobuf-c code from our own .proto files (src/hdfs/proto/*.proto) into
# build/generated/hdfs/, and compile it into cav_hdfs.
file(GLOB CAV_HDFS_PROTOS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/hdfs/proto/*.proto)
set(CAV_HDFS_GEN_DIR ${CMAKE_BINARY_DIR}/generated/hdfs)
file(MAKE_DIRECTORY ${CAV_HDFS_GEN_DIR})
foreach(p IN LISTS CAV_HDFS_PROTOS)
  get_filename_component(_n ${p} NAME_WE)
  set(_c ${CAV_HDFS_GEN_DIR}/${_n}.pb-c.c)
  set(_h ${CAV_HDFS_GEN_DIR}/${_n}.pb-c.h)
  add_custom_command(OUTPUT ${_c} ${_h}
    COMMAND ${PROTOC_C} --c_out=${CAV_HDFS_GEN_DIR} --proto_path=${CMAKE_SOURCE_DIR}/src/hdfs/proto ${p}
    DEPENDS ${p} ${CAV_HDFS_PROTOS} COMMENT "protoc-c ${_n}.proto")
  list(APPEND CAV_hdfs_EXTRA_SOURCES ${_c})
  set_source_files_properties(${_c} PROPERTIES COMPILE_OPTIONS "-Wno-unused-parameter")
endforeach()
