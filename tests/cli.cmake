# Tests of the command-line surface shared by all commands: every --help, the option tables
# (tools/opt) and the man pages generated from them.
cav_add_script_test(NAME cli_help
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/cli/help_test.py
  LABELS cli)
