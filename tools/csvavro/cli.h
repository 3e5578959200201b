/*
 * cli.h — shared pieces of the csvavro command line. The CLI uses only the public header.
 *
 * Exit codes: 0 success, 1 runtime error (bad data, I/O, remote), 2 usage error,
 * 130 interrupted by a signal.
 */
#ifndef CSVAVRO_CLI_H
#define CSVAVRO_CLI_H

#include "csvavro.h"
#include "opt/opt.h"

#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_INTERRUPTED = 130 };

/* Subcommands: argv[0] is the subcommand name. Each has an option table and description in
 * an opt_cmd (tools/opt/opt.h) that drives its parsing, its --help and its man-page section. */
extern const opt_cmd cli_head_cmd, cli_schema_cmd, cli_cat_cmd, cli_convert_cmd, cli_fs_cmd;

int cli_cmd_head(int argc, char **argv);
int cli_cmd_schema(int argc, char **argv);
int cli_cmd_cat(int argc, char **argv);
int cli_cmd_convert(int argc, char **argv);
int cli_cmd_fs(int argc, char **argv);

/* Prints "csvavro: <formatted error>" to stderr and returns the exit code for it. */
int cli_report(const csvavro_error *err);
/* Prints "csvavro <cmd>: <message>" and a hint to use --help; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit code for a status (CLI_USAGE for E_USAGE, CLI_INTERRUPTED for E_INTERRUPTED, else 1). */
int cli_exit_code(csvavro_status st);

#endif
