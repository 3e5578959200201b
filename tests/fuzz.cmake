# Fuzz targets (tests/fuzz/fuzz_<name>.c, README "Reliability"). In every build each target is
# linked with tests/fuzz/replay_main.c into fuzz_replay_<name>, and CTest replays the committed
# corpus tests/fuzz/corpus/<name>/ through it (label "fuzz"; any compiler, no libFuzzer). With
# -DCSVAVRO_FUZZ=ON (clang, build-fuzz/: `make fuzz`) the libFuzzer executables fuzz_<name> are
# built as well; `make fuzz-ci` runs each for a short fixed time, tests/fuzz/campaign.sh for long.
# The targets: tests/fuzz/targets.txt (also read by `make fuzz` and tests/fuzz/ci.sh).
file(STRINGS ${CMAKE_SOURCE_DIR}/tests/fuzz/targets.txt _lines REGEX "^[^#]")
string(REGEX REPLACE "[ \t;]+" ";" CAV_FUZZ_TARGETS "${_lines}")
list(REMOVE_ITEM CAV_FUZZ_TARGETS "")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/targets.txt)
foreach(t IN LISTS CAV_FUZZ_TARGETS)
  set(_src ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_${t}.c)
  set(_inc ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests/fuzz
           ${CMAKE_BINARY_DIR}/generated)
  add_executable(fuzz_replay_${t} ${_src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
  target_link_libraries(fuzz_replay_${t} PRIVATE csvavro_static)
  target_include_directories(fuzz_replay_${t} PRIVATE ${_inc})
  add_test(NAME fuzz_replay_${t} COMMAND fuzz_replay_${t} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${t}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(fuzz_replay_${t} PROPERTIES LABELS fuzz TIMEOUT 600)
  if(CSVAVRO_FUZZ)
    add_executable(fuzz_${t} ${_src})
    target_link_libraries(fuzz_${t} PRIVATE csvavro_static)
    target_include_directories(fuzz_${t} PRIVATE ${_inc})
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()
# hdfsd_image fuzzes the test server's namespace loader: it needs the server's own sources.
set(_hdfsd_img_src ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_ns.c ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_util.c)
foreach(_t fuzz_replay_hdfsd_image fuzz_hdfsd_image)
  if(TARGET ${_t})
    target_sources(${_t} PRIVATE ${_hdfsd_img_src})
    target_include_directories(${_t} PRIVATE ${CMAKE_SOURCE_DIR}/tools/hdfsd)
  endif()
endforeach()

# hdfsd_sasl fuzzes the server's secure-mode parsers (SASL state machine, block tokens),
# hdfsd_dtoken its delegation tokens (the TOKEN/DIGEST-MD5 path, identifiers, the token store).
set(_hdfsd_sasl_src ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_auth.c ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_digest.c
    ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_token.c ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_dtoken.c
    ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_util.c)
foreach(_t fuzz_replay_hdfsd_sasl fuzz_hdfsd_sasl fuzz_replay_hdfsd_dtoken fuzz_hdfsd_dtoken)
  if(TARGET ${_t})
    target_sources(${_t} PRIVATE ${_hdfsd_sasl_src})
    target_include_directories(${_t} PRIVATE ${CMAKE_SOURCE_DIR}/tools/hdfsd)
    target_link_libraries(${_t} PRIVATE PkgConfig::GSSAPI PkgConfig::LIBCRYPTO PkgConfig::LIBSASL2)
  endif()
endforeach()

# The DataNode SASL targets: the server's handshake (hdfsd_dtp) and, for genuine handshakes in
# the client's layer mode, the server's DIGEST-MD5 half (hdfs_dtp).
set(_hdfsd_dtp_src ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_dtp.c ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_digest.c
    ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_auth.c ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_token.c
    ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_dtoken.c ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_util.c)
foreach(_t fuzz_replay_hdfsd_dtp fuzz_hdfsd_dtp fuzz_replay_hdfs_dtp fuzz_hdfs_dtp)
  if(TARGET ${_t})
    if(_t MATCHES "hdfsd_dtp")
      target_sources(${_t} PRIVATE ${_hdfsd_dtp_src})
    else()
      target_sources(${_t} PRIVATE ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_digest.c
                     ${CMAKE_SOURCE_DIR}/tools/hdfsd/hdfsd_util.c)
    endif()
    target_include_directories(${_t} PRIVATE ${CMAKE_SOURCE_DIR}/tools/hdfsd)
    target_link_libraries(${_t} PRIVATE PkgConfig::GSSAPI PkgConfig::LIBCRYPTO PkgConfig::LIBSASL2)
  endif()
endforeach()

foreach(_t fuzz_replay_hdfs_dtp fuzz_replay_hdfsd_dtp fuzz_replay_hdfsd_dtoken)
  set_property(TEST ${_t} APPEND PROPERTY ENVIRONMENT
    "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/hdfs/lsan.supp:print_suppressions=0"
    "ASAN_OPTIONS=fast_unwind_on_malloc=0")
endforeach()

# The failing-allocation test of the CLI (README "Reliability").
cav_add_script_test(NAME fuzz_alloc_fail
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/fuzz/alloc_fail.py
  LABELS fault TIMEOUT 1200)

# snappy checks our encoder with libsnappy's decoder directly (the library loads libsnappy only
# on first use, src/avro/avro_snappy.c)
foreach(_t fuzz_replay_snappy fuzz_snappy)
  if(TARGET ${_t})
    target_link_libraries(${_t} PRIVATE PkgConfig::SNAPPY)
  endif()
endforeach()
