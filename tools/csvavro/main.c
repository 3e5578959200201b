/*
 * main.c — csvavro command dispatch. The commands and their options are described by the
 * opt_cmd of each cmd_*.c; this file lists them (cli_main_cmd) for `csvavro --help`, and
 * writes the generated part of the man page (`csvavro --man`, run at build time; see
 * docs/man/) and the option list the help test checks (`csvavro --list-options`).
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const opt_cmd *cmd;
    int (*fn)(int, char **);
} commands[] = {
    {&cli_convert_cmd, cli_cmd_convert}, {&cli_head_cmd, cli_cmd_head},
    {&cli_schema_cmd, cli_cmd_schema},   {&cli_cat_cmd, cli_cmd_cat},
    {&cli_fs_cmd, cli_cmd_fs},
};

enum { MAIN_VERSION = 1, MAIN_KEYTAB, MAIN_PRINCIPAL };

static const opt_spec main_table[] = {
    {MAIN_VERSION, "--version", NULL, "print the version and exit", NULL},
    {MAIN_KEYTAB, "--keytab", "FILE",
     "before the command: log in to a kerberized HDFS from this keytab instead of the\n"
     "ticket cache (same as CSVAVRO_KEYTAB; needs --principal)",
     "Given before COMMAND, e.g. csvavro --keytab svc.keytab --principal svc@REALM convert ...; "
     "the ticket is renewed from the keytab as it nears its end, so long jobs keep going."},
    {MAIN_PRINCIPAL, "--principal", "NAME",
     "before the command: the principal to log in as from --keytab (same as\n"
     "CSVAVRO_PRINCIPAL)",
     NULL},
    OPT_END,
};

static const opt_spec *const main_tables[] = {main_table, NULL};
static const opt_cmd *const main_subs[] = {&cli_convert_cmd, &cli_head_cmd, &cli_schema_cmd,
                                           &cli_cat_cmd,     &cli_fs_cmd,   NULL};

static const opt_cmd cli_main_cmd = {
    .prog = "csvavro",
    .synopsis = "COMMAND [options]",
    .summary = "CSV (local or HDFS) to Avro, filtered and projected",
    .help = "csvavro " CSVAVRO_VERSION " - CSV (local or HDFS) to Avro, filtered and projected.",
    .tables = main_tables,
    .subs = main_subs,
};

int cli_exit_code(csvavro_status st) {
    if (st == CSVAVRO_OK) return CLI_OK;
    if (st == CSVAVRO_E_USAGE) return CLI_USAGE;
    if (st == CSVAVRO_E_INTERRUPTED) return CLI_INTERRUPTED;
    return CLI_FAIL;
}

int cli_report(const csvavro_error *err) {
    char buf[4096];
    csvavro_error_format(err, buf, sizeof buf);
    fprintf(stderr, "csvavro: %s\n", buf);
    return cli_exit_code(err->status);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "csvavro %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'csvavro %s --help' for usage.\n", cmd);
    return CLI_USAGE;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        opt_help(&cli_main_cmd, stderr);
        return CLI_USAGE;
    }
    /* build-time outputs, not listed in --help */
    if (strcmp(argv[1], "--man") == 0) {
        fputs(".SS \"Options before COMMAND\"\n", stdout);
        opt_man_options(&cli_main_cmd, stdout);
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            opt_man(commands[i].cmd, stdout);
        return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    }
    if (strcmp(argv[1], "--list-options") == 0) {
        opt_list(&cli_main_cmd, stdout);
        return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    }
    /* --keytab FILE / --principal NAME before the command: Kerberos login for hdfs:// */
    while (argc >= 3 && (!strcmp(argv[1], "--keytab") || !strcmp(argv[1], "--principal"))) {
        setenv(argv[1][2] == 'k' ? "CSVAVRO_KEYTAB" : "CSVAVRO_PRINCIPAL", argv[2], 1);
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    if (argc < 2) {
        opt_help(&cli_main_cmd, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "help") == 0) {
        opt_help(&cli_main_cmd, stdout);
        return CLI_OK;
    }
    if (argv[1][0] == '-') {
        opt_parser p;
        opt_init(&p, &cli_main_cmd, 2, argv);
        const char *val;
        int id = opt_next(&p, &val);
        if (id == OPT_HELP) return CLI_OK;
        if (id == OPT_ERROR) return CLI_USAGE;
        if (id == MAIN_VERSION) {
            printf("csvavro %s\n", CSVAVRO_VERSION);
            return CLI_OK;
        }
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].cmd->prog + strlen("csvavro ")) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "csvavro: unknown command '%s'\n\n", argv[1]);
    opt_help(&cli_main_cmd, stderr);
    return CLI_USAGE;
}
