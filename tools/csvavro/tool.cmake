# The csvavro CLI: one file per subcommand (cmd_*.c), plus shared helpers (cli_*.c).
file(GLOB CAV_CLI_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/csvavro/*.c)
# Option tables, --help and man-page text: tools/opt (shared with csvavro-hdfsd).
add_executable(csvavro ${CAV_CLI_SRC} ${CMAKE_SOURCE_DIR}/tools/opt/opt.c)
target_include_directories(csvavro PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/tools)
target_link_libraries(csvavro PRIVATE csvavro_static)
if(CAV_CLI_EXTRA_LIBS)
  target_link_libraries(csvavro PRIVATE ${CAV_CLI_EXTRA_LIBS})
endif()
install(TARGETS csvavro RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
