/*
 * main.c — csvavro command dispatch.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"convert", cli_cmd_convert, "convert CSV to Avro: filter, project, one file per split"},
    {"head", cli_cmd_head, "show the first rows under column names and inferred types"},
    {"schema", cli_cmd_schema, "print the inferred Avro schema as JSON"},
    {"cat", cli_cmd_cat, "print Avro container files as JSON lines"},
    {"fs", cli_cmd_fs, "file operations on local paths and hdfs:// (ls, cat, put, get, ...)"},
};

static void usage(FILE *f) {
    fprintf(f,
            "csvavro %s — CSV (local or HDFS) to Avro, filtered and projected\n\n"
            "usage: csvavro <command> [options]\n\ncommands:\n",
            CSVAVRO_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'csvavro <command> --help' for the options of a command.\n");
}

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
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("csvavro %s\n", CSVAVRO_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "csvavro: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
