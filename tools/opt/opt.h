/*
 * opt.h — the option tables of the command-line tools (csvavro, csvavro-hdfsd) and the one
 * parser, `--help` printer and man-page writer that read them.
 *
 * Main idea: every command declares its options once, as an opt_spec array (names, value
 * placeholder, one-line help, longer man-page text). Parsing (opt_next), `--help` (opt_help) and
 * the man page (opt_man, written at build time into csvavro.1 / csvavro-hdfsd.1) all read that
 * array, so they cannot disagree. To add an option: add one entry with a new id to the
 * command's table, handle the id in the command's parse loop; help and man page follow.
 *
 * Syntax, the same for every command:
 *   --name VALUE, --name=VALUE    long option with a value
 *   -x VALUE, -xVALUE             short option with a value
 *   -abc                          several short flags at once (-rf)
 *   --                            every later argument is an operand
 *   -                             an operand (by convention stdin/stdout)
 *   -h, --help                    the command's help on stdout, exit 0 (every command)
 * Options and operands may be mixed, unless the command sets OPT_OPERANDS_END: then the first
 * operand ends the options (as in `hdfs dfs`, so a path may start with '-').
 *
 * Invariants: tables are static and end with OPT_END; ids are > 0 and unique within the tables
 * of one command; a name appears in at most one table of a command. The parser allocates
 * nothing and keeps no state outside the opt_parser.
 */
#ifndef CSVAVRO_TOOLS_OPT_H
#define CSVAVRO_TOOLS_OPT_H

#include <stdio.h>

typedef struct opt_spec {
    int id;            /* > 0, returned by opt_next(); 0 with help set: a heading; 0: the end */
    const char *names; /* "-j, --threads": short "-x" and/or long "--name", ", "-separated */
    const char *arg;   /* placeholder of the value ("N", "FILE"), NULL for a flag */
    const char *help;  /* one line (lines) for --help; for a heading, the heading */
    const char *man;   /* more text for the man page only, or NULL. Plain text: a blank line
                          starts a paragraph, lines indented by two spaces are shown as is */
} opt_spec;

#define OPT_HEADING(text)                                                                          \
    { 0, NULL, NULL, text, NULL }
#define OPT_END                                                                                    \
    { 0, NULL, NULL, NULL, NULL }

enum {
    OPT_OPERANDS_END = 1, /* the first operand ends the options */
};

typedef struct opt_cmd opt_cmd;
struct opt_cmd {
    const char *prog;              /* full name as typed: "csvavro fs ls", "csvavro-hdfsd" */
    const char *synopsis;          /* operands and options after prog: "[-l] PATH..." */
    const char *summary;           /* one line: what it does (command lists, man page NAME) */
    const char *help;              /* text shown by --help under the usage line, or NULL */
    const char *man;               /* more description for the man page only, or NULL */
    const opt_spec *const *tables; /* NULL-terminated; NULL: no options but -h/--help */
    const opt_cmd *const *subs;    /* NULL-terminated subcommands (csvavro fs), or NULL */
    unsigned flags;                /* OPT_* */
};

/* Results of opt_next() besides an option id (> 0). */
enum { OPT_DONE = 0, OPT_OPERAND = -1, OPT_HELP = -2, OPT_ERROR = -3 };

typedef struct opt_parser {
    const opt_cmd *cmd;
    int argc;
    char **argv;
    int i;               /* next argument */
    const char *cluster; /* rest of a "-abc" group, or NULL */
    int operands_only;   /* after "--" (or the first operand with OPT_OPERANDS_END) */
    char name[64];       /* the option just returned, as typed ("--split-size", "-j") */
} opt_parser;

/* Parses argv[1..argc-1] (argv[0] is the command's own name). */
void opt_init(opt_parser *p, const opt_cmd *cmd, int argc, char **argv);

/* The next option's id with its value in *val (NULL for a flag); OPT_OPERAND with the operand
 * in *val; OPT_DONE at the end. OPT_HELP after printing the help to stdout (exit 0), OPT_ERROR
 * after printing "PROG: message" and a hint to stderr (exit 2): unknown option, missing value,
 * a value given to a flag. */
int opt_next(opt_parser *p, const char **val);

/* Prints "PROG: message" and "Run 'PROG --help' for usage." to stderr; returns 2. */
int opt_usage_error(const opt_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The --help text: usage line, help text, options by heading, subcommands. */
void opt_help(const opt_cmd *cmd, FILE *f);

/* One man-page section for cmd (and its subcommands) in roff: .SS, synopsis, description,
 * options as .TP entries. The page around it is a template (docs/man/). */
void opt_man(const opt_cmd *cmd, FILE *f);

/* The options of cmd's tables alone, as .TP entries (csvavro's options before COMMAND). */
void opt_man_options(const opt_cmd *cmd, FILE *f);

/* DESCRIPTION and OPTIONS sections of a tool that is one command (csvavro-hdfsd). */
void opt_man_page(const opt_cmd *cmd, FILE *f);

/* Plain text as roff body text (escapes, paragraphs, literal blocks). */
void opt_man_text(const char *text, FILE *f);

/* "PROG<TAB><TAB>" per command, then "PROG<TAB>NAMES<TAB>ARG" per option (ARG empty for a
 * flag), for cmd and its subcommands: what the help test checks --help and the man page
 * against. */
void opt_list(const opt_cmd *cmd, FILE *f);

#endif
