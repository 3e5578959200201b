/*
 * cli_csvopts.c — parsing of the CSV options shared by head, schema and convert.
 *
 * Every option takes "--opt VALUE" or "--opt=VALUE". List options (--names, --null, --type,
 * --not-null) accept comma-separated lists and may be repeated; their strings are copied into
 * lists owned by this file (one set per process: the CLI parses one command line).
 */
#include "cli_csvopts.h"

#include <stdint.h>
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

int cli_csv_option(int argc, char **argv, int *i, csvavro_csv_options *o) {
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0) return 0;
    static const char *const with_value[] = {"--delimiter",   "--quote",       "--escape",
                                             "--names",       "--skip-rows",   "--comment",
                                             "--null",        "--encoding",    "--max-record-bytes",
                                             "--on-error",    "--reject-file", "--max-errors",
                                             "--infer-rows",  "--type",        "--not-null",
                                             "--record-name", "--namespace"};
    char name[64];
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a) : strlen(a);
    if (nl >= sizeof name) return 0;
    memcpy(name, a, nl);
    name[nl] = '\0';
    if (!strcmp(name, "--no-header")) {
        if (eq) {
            fprintf(stderr, "csvavro: --no-header takes no value\n");
            return -1;
        }
        o->header = 0;
        return 1;
    }
    int known = 0;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
        if (!strcmp(name, with_value[k])) known = 1;
    if (!known) return 0;
    const char *v;
    if (eq) {
        v = eq + 1;
    } else {
        if (*i + 1 >= argc) {
            fprintf(stderr, "csvavro: %s needs a value\n", name);
            return -1;
        }
        v = argv[++*i];
    }
    int rc = 0;
    uint64_t u = 0;
    if (!strcmp(name, "--delimiter"))
        rc = one_byte(name, v, 0, &o->delimiter);
    else if (!strcmp(name, "--quote"))
        rc = one_byte(name, v, 1, &o->quote);
    else if (!strcmp(name, "--escape"))
        rc = one_byte(name, v, 1, &o->escape);
    else if (!strcmp(name, "--comment"))
        rc = one_byte(name, v, 1, &o->comment);
    else if (!strcmp(name, "--names"))
        rc = push_list(&names_l, v);
    else if (!strcmp(name, "--null"))
        rc = push_list(&nulls_l, v);
    else if (!strcmp(name, "--type"))
        rc = push_list(&types_l, v);
    else if (!strcmp(name, "--not-null"))
        rc = push_list(&notnull_l, v);
    else if (!strcmp(name, "--skip-rows")) {
        rc = parse_u64(name, v, &u);
        o->skip_rows = u;
    } else if (!strcmp(name, "--max-errors")) {
        rc = parse_u64(name, v, &u);
        o->max_errors = u;
    } else if (!strcmp(name, "--max-record-bytes")) {
        rc = parse_size(name, v, &u);
        if (!rc && (u < 16 || u > (1u << 30))) {
            fprintf(stderr, "csvavro: --max-record-bytes must be between 16 and 1G\n");
            rc = -1;
        }
        o->max_record_bytes = (size_t)u;
    } else if (!strcmp(name, "--infer-rows")) {
        if (!strcmp(v, "all"))
            o->infer_rows = UINT64_MAX;
        else if (!(rc = parse_u64(name, v, &u))) {
            if (u == 0) {
                fprintf(stderr, "csvavro: --infer-rows must be at least 1 (or 'all')\n");
                rc = -1;
            }
            o->infer_rows = u;
        }
    } else if (!strcmp(name, "--encoding")) {
        if (!strcasecmp(v, "utf-8") || !strcasecmp(v, "utf8"))
            o->encoding = CSVAVRO_ENCODING_UTF8;
        else if (!strcasecmp(v, "latin-1") || !strcasecmp(v, "latin1") ||
                 !strcasecmp(v, "iso-8859-1"))
            o->encoding = CSVAVRO_ENCODING_LATIN1;
        else {
            fprintf(stderr, "csvavro: --encoding must be utf-8 or latin-1, got '%s'\n", v);
            rc = -1;
        }
    } else if (!strcmp(name, "--on-error")) {
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
    } else if (!strcmp(name, "--reject-file"))
        o->reject_file = v;
    else if (!strcmp(name, "--record-name"))
        o->record_name = v;
    else if (!strcmp(name, "--namespace"))
        o->ns = v;
    if (rc) return -1;
    sync_lists(o);
    return 1;
}

void cli_csv_usage(FILE *f) {
    fprintf(
        f, "CSV options:\n"
           "  --delimiter C          field delimiter, one byte (default ','; '\\t' or tab)\n"
           "  --quote C              quote character (default '\"'; '' disables quoting)\n"
           "  --escape C             escape character, e.g. '\\\\' (default none: doubled quotes)\n"
           "  --no-header            the first record is data; columns are c1..cN\n"
           "  --names A,B,...        column names (replace the header, or name headerless data)\n"
           "  --skip-rows N          skip N lines before the header/data\n"
           "  --comment C            skip lines starting with C\n"
           "  --null X[,Y...]        null markers, repeatable (default: the empty field)\n"
           "  --encoding E           utf-8 (default; invalid UTF-8 in a string is an error)\n"
           "                         or latin-1 (transcoded to UTF-8)\n"
           "  --max-record-bytes N   ceiling on one record (default 64M)\n"
           "Bad records (values not fitting the schema, ragged rows, bad quoting):\n"
           "  --on-error P           fail (default), skip or reject\n"
           "  --reject-file PATH     with reject: JSON lines with the raw record and reason\n"
           "  --max-errors N         with skip/reject: fail after N bad records (0 = no limit)\n"
           "Types and schema:\n"
           "  --infer-rows N|all     rows sampled for inference (default 20000; all = exact\n"
           "                         full pass, also tightens nullability)\n"
           "  --type COL=TYPE        force a column type (boolean, int, long, float, double,\n"
           "                         string, bytes, date, timestamp, local-timestamp,\n"
           "                         timestamp-millis, local-timestamp-millis); repeatable\n"
           "  --not-null COL         declare a column non-nullable; repeatable\n"
           "  --record-name NAME     Avro record name (default Row)\n"
           "  --namespace NS         Avro namespace (default csvavro)\n");
}
