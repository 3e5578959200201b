/*
 * cli_csvopts.c — parsing of the CSV options shared by head, schema and convert.
 *
 * The table cli_csv_table drives parsing, --help and the man page (tools/opt/opt.h); this file
 * turns the values into csvavro_csv_options. List options (--names, --null, --type,
 * --not-null) accept comma-separated lists and may be repeated; their strings are copied into
 * lists owned by this file (one set per process: the CLI parses one command line).
 */
#include "cli_csvopts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static strlist names_l, nulls_l, types_l, notnull_l;

static int push(strlist *l, const char *s, size_t n) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    char *c = malloc(n + 1);
    if (!c) return -1;
    memcpy(c, s, n);
    c[n] = '\0';
    l->v[l->n++] = c;
    return 0;
}

/* Splits s at commas into l (an empty s gives one empty item). */
static int push_list(strlist *l, const char *s) {
    for (;;) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        if (push(l, s, n)) return -1;
        if (!c) return 0;
        s = c + 1;
    }
}

/* Like push_list, but a comma inside parentheses does not split: --type a=decimal(10,2),b=int. */
static int push_types(strlist *l, const char *s) {
    for (;;) {
        const char *c = s;
        int depth = 0;
        while (*c && (*c != ',' || depth > 0)) {
            depth += *c == '(' ? 1 : *c == ')' && depth > 0 ? -1 : 0;
            c++;
        }
        if (push(l, s, (size_t)(c - s))) return -1;
        if (!*c) return 0;
        s = c + 1;
    }
}

static void release(strlist *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

void cli_csv_options_release(void) {
    release(&names_l);
    release(&nulls_l);
    release(&types_l);
    release(&notnull_l);
}

/* One byte: "x", "\t", "tab", "\\"; empty allowed only where allow_none (returns 0). */
static int one_byte(const char *opt, const char *v, int allow_none, char *out) {
    if (!strcmp(v, "\\t") || !strcmp(v, "tab") || !strcmp(v, "\t")) {
        *out = '\t';
        return 0;
    }
    if (!strcmp(v, "\\\\")) {
        *out = '\\';
        return 0;
    }
    if (v[0] == '\0' && allow_none) {
        *out = 0;
        return 0;
    }
    if (strlen(v) != 1) {
        fprintf(stderr, "csvavro: %s expects one character (or \\t), got '%s'\n", opt, v);
        return -1;
    }
    *out = v[0];
    return 0;
}

static int parse_u64(const char *opt, const char *v, uint64_t *out) {
    char *end;
    if (!*v || *v == '-') goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end) goto bad;
    *out = x;
    return 0;
bad:
    fprintf(stderr, "csvavro: %s expects a non-negative integer, got '%s'\n", opt, v);
    return -1;
}

static int parse_size(const char *opt, const char *v, uint64_t *out) {
    char *end;
    if (!*v || *v == '-') goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    unsigned long long m = 1;
    if (*end == 'k' || *end == 'K')
        m = 1ull << 10, end++;
    else if (*end == 'm' || *end == 'M')
        m = 1ull << 20, end++;
    else if (*end == 'g' || *end == 'G')
        m = 1ull << 30, end++;
    if (m > 1 && (*end == 'i' || *end == 'I')) end++;
    if (m > 1 && (*end == 'b' || *end == 'B')) end++;
    if (*end) goto bad;
    *out = x * m;
    return 0;
bad:
    fprintf(stderr, "csvavro: %s expects a size like 1048576, 64M or 1G, got '%s'\n", opt, v);
    return -1;
}

static void sync_lists(csvavro_csv_options *o) {
    o->names = (const char *const *)names_l.v;
    o->n_names = names_l.n;
    o->null_values = (const char *const *)nulls_l.v;
    o->n_null_values = nulls_l.n;
    o->type_overrides = (const char *const *)types_l.v;
    o->n_type_overrides = types_l.n;
    o->not_null = (const char *const *)notnull_l.v;
    o->n_not_null = notnull_l.n;
}

const opt_spec cli_csv_table[] = {
    OPT_HEADING("CSV options"),
    {CLI_CSV_DELIMITER, "--delimiter", "C", "field delimiter, one byte (default ','; '\\t' or tab)",
     NULL},
    {CLI_CSV_QUOTE, "--quote", "C", "quote character (default '\"'; '' disables quoting)", NULL},
    {CLI_CSV_ESCAPE, "--escape", "C",
     "escape character, e.g. '\\\\' (default none: doubled quotes)", NULL},
    {CLI_CSV_NO_HEADER, "--no-header", NULL, "the first record is data; columns are c1..cN", NULL},
    {CLI_CSV_SKIP_INITIAL_SPACE, "--skip-initial-space", NULL,
     "spaces right after a delimiter are not part of the\nvalue (a quote after them opens a quoted "
     "field)",
     "As pandas' skipinitialspace. The record\n\n  1, \"Smith, J\", 2.50\n\nis 1, Smith, J and "
     "2.50 with it (without it the second field is ' \"Smith' and the record is ragged):\n\n"
     "  csvavro head quoted.csv --skip-initial-space"},
    {CLI_CSV_TRIM, "--trim", NULL, "unquoted values lose surrounding spaces and tabs",
     "Quoted values are kept as written. Example: an unquoted field of spaces, AB and "
     "spaces becomes AB:\n\n  csvavro convert padded.csv out.avro --trim"},
    {CLI_CSV_KEEP_EMPTY, "--keep-empty-columns", NULL,
     "keep a last column whose header name is empty (default:\ndropped with a note; its fields "
     "must be empty)",
     "A header ending in a delimiter (VendorID,fare_amount, as in the green-taxi files) names "
     "no last column; by default it is dropped with a note, and a row whose extra field holds "
     "a value is a ragged record. With this option the column is kept, named _:\n\n"
     "  csvavro head green.csv --keep-empty-columns"},
    {CLI_CSV_NAMES, "--names", "A,B,...",
     "column names (replace the header, or name headerless data)",
     "Replacing a header, the number of names must match its field count."},
    {CLI_CSV_SKIP_ROWS, "--skip-rows", "N", "skip N lines before the header/data", NULL},
    {CLI_CSV_COMMENT, "--comment", "C", "skip lines starting with C", NULL},
    {CLI_CSV_NULL, "--null", "X[,Y...]", "null markers, repeatable (default: the empty field)",
     NULL},
    {CLI_CSV_ENCODING, "--encoding", "E",
     "utf-8 (default; invalid UTF-8 in a string is an error)\nor latin-1 (transcoded to UTF-8)",
     NULL},
    {CLI_CSV_MAX_RECORD, "--max-record-bytes", "N", "ceiling on one record (default 64M)", NULL},
    {CLI_CSV_COMPRESSION, "--compression", "C",
     "auto (default: magic bytes, then the name), none, gzip,\nbzip2, zstd, xz or zip; a "
     "stream (-, /dev/stdin, a pipe)\nand a gzip, xz, zip or single-frame zstd input are read "
     "as\none split; bzip2 and multi-frame zstd files are split at\nblock/frame boundaries",
     "For a name that says nothing, or to read a .gz that holds plain text as it is:\n\n"
     "  csvavro head data.bin --compression gzip -n 5\n  csvavro convert misnamed.csv.gz out.avro "
     "--compression none"},
    {CLI_CSV_ZIP_ENTRY, "--zip-entry", "NAME",
     "the file of a zip archive to read (default: its only one)",
     "An archive of several files without it is an error listing them:\n\n"
     "  csvavro convert two.zip fares.avro --zip-entry fares.csv"},
    OPT_HEADING("Bad records (values not fitting the schema, ragged rows, bad quoting)"),
    {CLI_CSV_ON_ERROR, "--on-error", "P", "fail (default), skip or reject", NULL},
    {CLI_CSV_REJECT_FILE, "--reject-file", "PATH",
     "with reject: JSON lines with the raw record and reason", NULL},
    {CLI_CSV_MAX_ERRORS, "--max-errors", "N",
     "with skip/reject: fail after N bad records (0 = no limit)", NULL},
    OPT_HEADING("Types and schema"),
    {CLI_CSV_INFER_ROWS, "--infer-rows", "N|all",
     "rows sampled for inference (default 20000; all = exact\nfull pass, also tightens "
     "nullability)",
     NULL},
    {CLI_CSV_TYPE, "--type", "COL=TYPE",
     "force a column type (boolean, int, long, float, double,\nstring, bytes, date, timestamp, "
     "local-timestamp,\ntimestamp-millis, local-timestamp-millis, decimal(P,S));\nrepeatable",
     "decimal(P,S) (precision P 1..76, scale S 0..P) writes an Avro bytes decimal: the exact "
     "text [+-]digits[.digits] becomes the unscaled two's-complement integer, no floating "
     "point. A value with more fractional digits than S (trailing zeros aside) or more than "
     "P digits, or with an exponent, is a bad value under --on-error (never rounded, never "
     "written as text). Example:\n\n  csvavro convert trips.csv out.avro --type "
     "'fare_amount=decimal(8,2),tip_amount=decimal(8,2)'\n\nA decimal in fixed comes from "
     "--schema (see docs/input.md). --where and --partition-by refuse decimal columns."},
    {CLI_CSV_NOT_NULL, "--not-null", "COL", "declare a column non-nullable; repeatable", NULL},
    {CLI_CSV_TIMESTAMPS, "--timestamps", "T",
     "inferred timestamps without a zone: local-timestamp-micros\n(default, exact), "
     "timestamp-millis or timestamp-micros (the\ntext taken as UTC: Hive, Spark <= 3.1), or "
     "string",
     "Zoned columns stay timestamp-micros (timestamp-millis with that choice, string with "
     "string); --type COL=... still decides one column. Example:\n\n  csvavro convert "
     "trip_data_1.csv out.avro --timestamps timestamp-millis"},
    {CLI_CSV_UNION_BY_NAME, "--union-by-name", NULL,
     "inputs with different headers: one schema over all,\ncolumns matched by header name "
     "(first-seen order),\ntypes widened, missing values null",
     "Each group of inputs sharing a header is sampled on its own; a column's types are widened "
     "over the groups that saw a value in it (int, long, double: the widest of them; any "
     "other mix: string) and it is nullable when any input lacks it. Every input's columns "
     "are then matched by name (csvavro convert --dry-run shows the mapping). Without this "
     "option, inputs whose headers differ are an error that names the file and the columns "
     "added, removed, renamed or reordered. Example, three years of taxi files:\n\n"
     "  csvavro schema --union-by-name yellow_2013-01.csv yellow_2015-01.csv "
     "yellow_2019-01.csv\n  csvavro convert --union-by-name 'yellow_*.csv' yellow.avro\n\n"
     "Needs a header (not with --no-header or --names)."},
    {CLI_CSV_RECORD_NAME, "--record-name", "NAME", "Avro record name (default Row)", NULL},
    {CLI_CSV_NAMESPACE, "--namespace", "NS", "Avro namespace (default csvavro)", NULL},
    OPT_END,
};

int cli_csv_apply(int id, const char *name, const char *v, csvavro_csv_options *o) {
    int rc = 0;
    uint64_t u = 0;
    switch (id) {
    case CLI_CSV_NO_HEADER:
        o->header = 0;
        break;
    case CLI_CSV_SKIP_INITIAL_SPACE:
        o->skip_initial_space = 1;
        break;
    case CLI_CSV_TRIM:
        o->trim = 1;
        break;
    case CLI_CSV_KEEP_EMPTY:
        o->keep_empty_columns = 1;
        break;
    case CLI_CSV_UNION_BY_NAME:
        o->union_by_name = 1;
        break;
    case CLI_CSV_TIMESTAMPS:
        if (!strcmp(v, "local-timestamp-micros") || !strcmp(v, "local-timestamp"))
            o->timestamps = CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS;
        else if (!strcmp(v, "timestamp-millis"))
            o->timestamps = CSVAVRO_TYPE_TIMESTAMP_MILLIS;
        else if (!strcmp(v, "timestamp-micros") || !strcmp(v, "timestamp"))
            o->timestamps = CSVAVRO_TYPE_TIMESTAMP_MICROS;
        else if (!strcmp(v, "string"))
            o->timestamps = CSVAVRO_TYPE_STRING;
        else {
            fprintf(stderr,
                    "csvavro: --timestamps must be local-timestamp-micros, timestamp-millis, "
                    "timestamp-micros or string, got '%s'\n",
                    v);
            rc = -1;
        }
        break;
    case CLI_CSV_DELIMITER:
        rc = one_byte(name, v, 0, &o->delimiter);
        break;
    case CLI_CSV_QUOTE:
        rc = one_byte(name, v, 1, &o->quote);
        break;
    case CLI_CSV_ESCAPE:
        rc = one_byte(name, v, 1, &o->escape);
        break;
    case CLI_CSV_COMMENT:
        rc = one_byte(name, v, 1, &o->comment);
        break;
    case CLI_CSV_NAMES:
        rc = push_list(&names_l, v);
        break;
    case CLI_CSV_NULL:
        rc = push_list(&nulls_l, v);
        break;
    case CLI_CSV_TYPE:
        rc = push_types(&types_l, v);
        break;
    case CLI_CSV_NOT_NULL:
        rc = push_list(&notnull_l, v);
        break;
    case CLI_CSV_SKIP_ROWS:
        rc = parse_u64(name, v, &u);
        o->skip_rows = u;
        break;
    case CLI_CSV_MAX_ERRORS:
        rc = parse_u64(name, v, &u);
        o->max_errors = u;
        break;
    case CLI_CSV_MAX_RECORD:
        rc = parse_size(name, v, &u);
        if (!rc && (u < 16 || u > (1u << 30))) {
            fprintf(stderr, "csvavro: --max-record-bytes must be between 16 and 1G\n");
            rc = -1;
        }
        o->max_record_bytes = (size_t)u;
        break;
    case CLI_CSV_INFER_ROWS:
        if (!strcmp(v, "all"))
            o->infer_rows = UINT64_MAX;
        else if (!(rc = parse_u64(name, v, &u))) {
            if (u == 0) {
                fprintf(stderr, "csvavro: --infer-rows must be at least 1 (or 'all')\n");
                rc = -1;
            }
            o->infer_rows = u;
        }
        break;
    case CLI_CSV_ENCODING:
        if (!strcasecmp(v, "utf-8") || !strcasecmp(v, "utf8"))
            o->encoding = CSVAVRO_ENCODING_UTF8;
        else if (!strcasecmp(v, "latin-1") || !strcasecmp(v, "latin1") ||
                 !strcasecmp(v, "iso-8859-1"))
            o->encoding = CSVAVRO_ENCODING_LATIN1;
        else {
            fprintf(stderr, "csvavro: --encoding must be utf-8 or latin-1, got '%s'\n", v);
            rc = -1;
        }
        break;
    case CLI_CSV_ON_ERROR:
        if (!strcmp(v, "fail"))
            o->on_error = CSVAVRO_ON_ERROR_FAIL;
        else if (!strcmp(v, "skip"))
            o->on_error = CSVAVRO_ON_ERROR_SKIP;
        else if (!strcmp(v, "reject"))
            o->on_error = CSVAVRO_ON_ERROR_REJECT;
        else {
            fprintf(stderr, "csvavro: --on-error must be fail, skip or reject, got '%s'\n", v);
            rc = -1;
        }
        break;
    case CLI_CSV_REJECT_FILE:
        o->reject_file = v;
        break;
    case CLI_CSV_RECORD_NAME:
        o->record_name = v;
        break;
    case CLI_CSV_NAMESPACE:
        o->ns = v;
        break;
    case CLI_CSV_COMPRESSION:
        if (csvavro_compression_parse(v, &o->compression) != CSVAVRO_OK) {
            fprintf(stderr,
                    "csvavro: --compression must be auto, none, gzip, bzip2, zstd, xz or zip, "
                    "got '%s'\n",
                    v);
            rc = -1;
        }
        break;
    case CLI_CSV_ZIP_ENTRY:
        o->zip_entry = v;
        break;
    default:
        return 0;
    }
    if (rc) return -1;
    sync_lists(o);
    return 1;
}
