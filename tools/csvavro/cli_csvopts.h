/*
 * cli_csvopts.h — the CSV, typing and error-policy options shared by `head`, `schema` and
 * `convert`: one option table (cli_csv_table, part of each of those commands' tables) and the
 * function that applies a parsed option. Lists (--names, --null, --type, --not-null) are stored
 * here and stay valid until cli_csv_options_release().
 */
#ifndef CSVAVRO_CLI_CSVOPTS_H
#define CSVAVRO_CLI_CSVOPTS_H

#include "csvavro.h"
#include "opt/opt.h"

/* Option ids of cli_csv_table; a command's own ids stay below CLI_CSV_FIRST. */
enum {
    CLI_CSV_FIRST = 100,
    CLI_CSV_DELIMITER = CLI_CSV_FIRST,
    CLI_CSV_QUOTE,
    CLI_CSV_ESCAPE,
    CLI_CSV_NO_HEADER,
    CLI_CSV_NAMES,
    CLI_CSV_SKIP_ROWS,
    CLI_CSV_COMMENT,
    CLI_CSV_NULL,
    CLI_CSV_ENCODING,
    CLI_CSV_MAX_RECORD,
    CLI_CSV_ON_ERROR,
    CLI_CSV_REJECT_FILE,
    CLI_CSV_MAX_ERRORS,
    CLI_CSV_INFER_ROWS,
    CLI_CSV_TYPE,
    CLI_CSV_NOT_NULL,
    CLI_CSV_RECORD_NAME,
    CLI_CSV_NAMESPACE,
    CLI_CSV_COMPRESSION,
    CLI_CSV_ZIP_ENTRY,
    CLI_CSV_SKIP_INITIAL_SPACE,
    CLI_CSV_TRIM,
    CLI_CSV_KEEP_EMPTY,
    CLI_CSV_TIMESTAMPS,
    CLI_CSV_UNION_BY_NAME,
};

extern const opt_spec cli_csv_table[];

/* Applies option `id` (named `name` as typed, value v) to o. Returns 1 when id is a CSV
 * option, 0 when it is not, -1 after printing a message for a bad value. */
int cli_csv_apply(int id, const char *name, const char *v, csvavro_csv_options *o);
/* Frees the list storage of the options parsed so far. */
void cli_csv_options_release(void);

#endif
