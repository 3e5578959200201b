/*
 * cmd_head.c — `csvavro head INPUT [-n 5] [options]`: the first rows of a CSV input as an
 * aligned table under the Avro column names and their inferred types (like pandas' head()).
 *
 * Values are shown as text (quotes and escapes resolved); null fields print as "null", line
 * ends and tabs inside values as \n, \r, \t; values longer than 40 characters are cut with
 * "...". Widths count UTF-8 code points.
 */
#include "cli.h"
#include "cli_csvopts.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SHOW 40

enum { H_ROWS = 1 };

static const opt_spec head_table[] = {
    {H_ROWS, "-n, --rows", "N", "number of rows to show (default 5)", NULL},
    OPT_END,
};

static const opt_spec *const head_tables[] = {head_table, cli_csv_table, NULL};

const opt_cmd cli_head_cmd = {
    .prog = "csvavro head",
    .synopsis = "INPUT [-n N] [options]",
    .summary = "show the first rows under column names and inferred types",
    .help = "Shows the first N rows (default 5) of CSV INPUT (a path or hdfs:// URL) under\n"
            "the column names and the inferred types.",
    .man = "Values are shown as text (quotes resolved); null marks a null field; line breaks "
           "and tabs inside values show as \\n, \\r, \\t, other control bytes as \\xNN; "
           "values are cut at 40 characters. A bad record stops head under the default "
           "--on-error fail (see EXAMPLES).",
    .tables = head_tables,
};

/* Printable cell text: escapes control bytes, cuts at MAX_SHOW code points. */
static char *cell(const char *p, size_t n, size_t *width) {
    if (!p) {
        *width = 4;
        return strdup("null");
    }
    char *o = malloc(n * 4 + 8);
    if (!o) return NULL;
    size_t k = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (w >= MAX_SHOW) {
            memcpy(o + k, "...", 3);
            k += 3;
            w += 3;
            break;
        }
        if (c == '\n' || c == '\r' || c == '\t') {
            o[k++] = '\\';
            o[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            w += 2;
        } else if (c < 0x20 || c == 0x7f) {
            k += (size_t)sprintf(o + k, "\\x%02x", c);
            w += 4;
        } else {
            o[k++] = (char)c;
            if ((c & 0xC0) != 0x80) w++;
        }
    }
    o[k] = '\0';
    *width = w;
    return o;
}

static void pad(size_t n) {
    for (size_t i = 0; i < n; i++)
        putchar(' ');
}

int cli_cmd_head(int argc, char **argv) {
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    const char *input = NULL;
    long n = 5;
    opt_parser p;
    opt_init(&p, &cli_head_cmd, argc, argv);
    const char *val;
    int id;
    while ((id = opt_next(&p, &val)) != OPT_DONE) {
        int rc = CLI_USAGE;
        if (id == OPT_HELP) {
            rc = CLI_OK;
        } else if (id == OPT_ERROR) {
        } else if (id == H_ROWS) {
            char *end;
            if (!val[0] || (n = strtol(val, &end, 10)) < 0 || *end)
                rc = cli_usage_error("head", "-n expects a non-negative number");
            else
                continue;
        } else if (id == OPT_OPERAND) {
            if (!input) {
                input = val;
                continue;
            }
            rc = cli_usage_error("head", "unexpected argument '%s'", val);
        } else if (cli_csv_apply(id, p.name, val, &o) > 0) {
            continue;
        }
        cli_csv_options_release();
        return rc;
    }
    if (!input) {
        cli_csv_options_release();
        return cli_usage_error("head", "missing INPUT");
    }
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_fs *fs = NULL;
    char *path = NULL;
    csvavro_schema *s = NULL;
    csvavro_csv_reader *r = NULL;
    char ***cells = NULL;
    size_t *widths = NULL, ncols = 0, nrows = 0;
    int rc = CLI_OK;
    csvavro_status st = csvavro_fs_open_url(input, &fs, &path, &err);
    const char *const paths[1] = {path};
    if (st == CSVAVRO_OK) st = csvavro_csv_infer(fs, paths, 1, &o, &s, &err);
    if (st == CSVAVRO_OK) st = csvavro_csv_open(fs, path, &o, &r, &err);
    if (st == CSVAVRO_OK) st = csvavro_csv_use_schema(r, s, &err); /* null as convert writes it */
    if (st == CSVAVRO_OK) {
        ncols = csvavro_schema_field_count(s);
        widths = calloc(ncols, sizeof *widths);
        cells = calloc((size_t)n + 2, sizeof *cells);
        if (!widths || !cells) {
            fprintf(stderr, "csvavro: out of memory\n");
            rc = CLI_FAIL;
            goto out;
        }
        /* rows 0 and 1: names and types */
        for (size_t row = 0; row < 2; row++) {
            cells[row] = calloc(ncols, sizeof **cells);
            if (!cells[row]) {
                fprintf(stderr, "csvavro: out of memory\n");
                rc = CLI_FAIL;
                goto out;
            }
            for (size_t c = 0; c < ncols; c++) {
                const char *t = row == 0 ? csvavro_schema_field_name(s, c)
                                         : csvavro_type_name(csvavro_schema_field_type(s, c));
                size_t w;
                cells[row][c] = cell(t, strlen(t), &w);
                if (w > widths[c]) widths[c] = w;
            }
        }
        nrows = 2;
        while (nrows < (size_t)n + 2) {
            const char *const *fields;
            const size_t *lens;
            size_t nf;
            st = csvavro_csv_next_row(r, &fields, &lens, &nf, &err);
            if (st != CSVAVRO_OK || !fields) break;
            cells[nrows] = calloc(ncols, sizeof **cells);
            if (!cells[nrows]) {
                fprintf(stderr, "csvavro: out of memory\n");
                rc = CLI_FAIL;
                goto out;
            }
            for (size_t c = 0; c < ncols && c < nf; c++) {
                size_t w;
                cells[nrows][c] = cell(fields[c], lens[c], &w);
                if (w > widths[c]) widths[c] = w;
            }
            nrows++;
        }
        if (st == CSVAVRO_OK) {
            for (size_t row = 0; row < nrows; row++) {
                for (size_t c = 0; c < ncols; c++) {
                    const char *t = cells[row][c] ? cells[row][c] : "";
                    size_t tw = 0;
                    for (const char *q = t; *q; q++)
                        tw += ((unsigned char)*q & 0xC0) != 0x80;
                    fputs(t, stdout);
                    if (c + 1 < ncols) pad(widths[c] - tw + 2);
                }
                putchar('\n');
            }
        }
    }
    if (st != CSVAVRO_OK) rc = cli_report(&err);
out:
    if (cells) /* every row slot: a failure may leave rows past nrows allocated */
        for (size_t row = 0; row < (size_t)n + 2; row++) {
            for (size_t c = 0; c < ncols && cells[row]; c++)
                free(cells[row][c]);
            free(cells[row]);
        }
    free(cells);
    free(widths);
    csvavro_csv_close(r);
    csvavro_schema_free(s);
    csvavro_free(path);
    csvavro_fs_close(fs);
    cli_csv_options_release();
    return rc;
}
