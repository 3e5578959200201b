# csvavro-hdfsd: the HDFS-compatible test server (NameNode + DataNodes in one process).
# It uses only the core module (allocator, size parsing) and the protobuf-c code generated
# from src/hdfs/proto (compiled here again, so the server does not depend on the client's
# sources); framing, packets and CRCs are its own, so that it checks the client independently.
file(GLOB CAV_HDFSD_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/hdfsd/*.c)
set(_hdfsd_pb)
foreach(_n RpcHeader IpcConnectionContext ProtobufRpcEngine Security hdfs ClientNamenodeProtocol
        datatransfer)
  list(APPEND _hdfsd_pb ${CMAKE_BINARY_DIR}/generated/hdfs/${_n}.pb-c.c)
endforeach()
# Option table, --help and man-page text: tools/opt (shared with the csvavro CLI).
add_executable(csvavro-hdfsd ${CAV_HDFSD_SRC} ${CMAKE_SOURCE_DIR}/tools/opt/opt.c ${_hdfsd_pb}
               $<TARGET_OBJECTS:cav_core>)
target_include_directories(csvavro-hdfsd PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
                           ${CMAKE_SOURCE_DIR}/tools
                           ${CMAKE_BINARY_DIR}/generated ${CMAKE_BINARY_DIR}/generated/hdfs)
target_link_libraries(csvavro-hdfsd PRIVATE ${CAV_ALL_LIBS_core} PkgConfig::PROTOBUFC PkgConfig::ZLIB
                      PkgConfig::GSSAPI PkgConfig::LIBCRYPTO PkgConfig::LIBSASL2)
install(TARGETS csvavro-hdfsd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
