/*
 * cmd_schema.c — `csvavro schema INPUT... [options]`: infers the table schema of CSV inputs
 * (local paths or hdfs:// URLs, all on one file system) and prints it as pretty Avro JSON.
 */
#include "cli.h"
#include "cli_csvopts.h"

#include <stdlib.h>
#include <string.h>

static const opt_spec *const schema_tables[] = {cli_csv_table, NULL};

const opt_cmd cli_schema_cmd = {
    .prog = "csvavro schema",
    .synopsis = "INPUT... [options]",
    .summary = "print the inferred Avro schema as JSON",
    .help = "Prints the Avro schema inferred from CSV INPUT (a path or hdfs:// URL).",
    .man = "The JSON is indented. Several inputs (at most 64, all on one file system) must share "
           "their columns; they are sampled together. It is the schema convert writes with the "
           "same CSV options.",
    .tables = schema_tables,
};

int cli_cmd_schema(int argc, char **argv) {
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    const char *inputs[64];
    int n_in = 0, rc = CLI_OK;
    opt_parser p;
    opt_init(&p, &cli_schema_cmd, argc, argv);
    const char *val;
    int id;
    while ((id = opt_next(&p, &val)) != OPT_DONE) {
        if (id == OPT_OPERAND && n_in < 64) {
            inputs[n_in++] = val;
            continue;
        }
        if (id > 0 && cli_csv_apply(id, p.name, val, &o) > 0) continue;
        cli_csv_options_release();
        if (id == OPT_HELP) return CLI_OK;
        if (id == OPT_OPERAND) return cli_usage_error("schema", "too many inputs (at most 64)");
        return CLI_USAGE;
    }
    if (n_in == 0) {
        cli_csv_options_release();
        return cli_usage_error("schema", "missing INPUT");
    }
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_fs *fs = NULL;
    char *paths[64] = {0};
    csvavro_schema *s = NULL;
    char *json = NULL;
    csvavro_status st = CSVAVRO_OK;
    for (int i = 0; i < n_in && st == CSVAVRO_OK; i++) {
        csvavro_fs *fsi = NULL;
        st = csvavro_fs_open_url(inputs[i], &fsi, &paths[i], &err);
        if (st != CSVAVRO_OK) break;
        if (!fs) {
            fs = fsi;
        } else {
            int same = !strcmp(csvavro_fs_scheme(fs), csvavro_fs_scheme(fsi));
            csvavro_fs_close(fsi); /* inputs share the first one's file system */
            if (!same) {
                for (int k = 0; k <= i; k++)
                    csvavro_free(paths[k]);
                csvavro_fs_close(fs);
                cli_csv_options_release();
                return cli_usage_error("schema", "all inputs must be on one file system");
            }
        }
    }
    if (st == CSVAVRO_OK)
        st = csvavro_csv_infer(fs, (const char *const *)paths, (size_t)n_in, &o, &s, &err);
    if (st == CSVAVRO_OK) st = csvavro_schema_to_json(s, 1, &json, &err);
    if (st == CSVAVRO_OK)
        printf("%s\n", json);
    else
        rc = cli_report(&err);
    csvavro_free(json);
    csvavro_schema_free(s);
    for (int i = 0; i < n_in; i++)
        csvavro_free(paths[i]);
    csvavro_fs_close(fs);
    cli_csv_options_release();
    return rc;
}
