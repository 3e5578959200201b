/*
 * cli_csvopts.h — the CSV, typing and error-policy options shared by `head`, `schema` and
 * `convert`. Lists (--names, --null, --type, --not-null) are stored here and stay valid until
 * cli_csv_options_release().
 */
#ifndef CSVAVRO_CLI_CSVOPTS_H
#define CSVAVRO_CLI_CSVOPTS_H

#include "csvavro.h"

#include <stdio.h>

/* If argv[*i] is a CSV option, consumes it (and its value: "--opt VALUE" or "--opt=VALUE"),
 * advances *i to the last argument used and returns 1; returns 0 if it is not a CSV option and
 * -1 after printing a message for a bad value. */
int cli_csv_option(int argc, char **argv, int *i, csvavro_csv_options *o);
/* Prints the help of every CSV option. */
void cli_csv_usage(FILE *f);
/* Frees the list storage of the options parsed so far. */
void cli_csv_options_release(void);

#endif
