# Tests of the command-line surface shared by all commands: every --help, the option tables
# (tools/opt) and the man pages generated from them.
cav_add_script_test(NAME cli_help
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/cli/help_test.py
  LABELS cli)
# `fs ls -l` on a local directory: owner and group names against Python's pwd and grp
cav_add_script_test(NAME cli_fs_ls_local
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/cli/fs_ls_local.py LABELS cli)
set_tests_properties(cli_fs_ls_local PROPERTIES SKIP_RETURN_CODE 77)
