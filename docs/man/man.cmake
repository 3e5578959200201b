# Man pages csvavro.1 and csvavro-hdfsd.1, built with the tools: each is a template in this
# folder (the prose: overview, CSV input, filter grammar, HDFS, environment, exit status)
# around the command sections that `csvavro --man` / `csvavro-hdfsd --man` write from the option
# tables that also drive parsing and --help. `make install` puts them in share/man/man1.
foreach(_page csvavro csvavro-hdfsd)
  set(_out ${CMAKE_BINARY_DIR}/man/${_page}.1)
  add_custom_command(OUTPUT ${_out}
    COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:${_page}> -DIN=${CMAKE_SOURCE_DIR}/docs/man/${_page}.1.in
            -DOUT=${_out} -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/man.cmake
    DEPENDS ${_page} ${CMAKE_SOURCE_DIR}/docs/man/${_page}.1.in ${CMAKE_SOURCE_DIR}/cmake/man.cmake
    COMMENT "Generating man page ${_page}.1")
  list(APPEND _man_pages ${_out})
endforeach()
add_custom_target(man ALL DEPENDS ${_man_pages})
install(FILES ${_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
