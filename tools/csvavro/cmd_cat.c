/*
 * cmd_cat.c — `csvavro cat`: print Avro object container files as JSON lines.
 *
 *   csvavro cat FILE.avro… [-n N] [--schema] [--meta] [--count]
 *
 * Each argument is a file, a directory (its *.avro files) or a glob in the last path component
 * (e.g. 'out/trip.*.avro'); local paths and hdfs:// URLs alike. The files of a directory or a
 * glob are read in part-number order: a natural sort, where runs of digits compare as numbers
 * (trip.2.avro before trip.10.avro). Records print one JSON object per line, in the mapping
 * documented in csvavro.h (csvavro_avro_reader_next_json) and csvavro(1).
 */
#include "cli.h"

#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { K_LIMIT = 1, K_SCHEMA, K_META, K_COUNT, K_WHERE, K_FORMAT, K_OUTPUT, K_CODEC };

static const opt_spec cat_table[] = {
    {K_LIMIT, "-n, --limit", "N", "print at most N records in total", NULL},
    {K_SCHEMA, "--schema", NULL, "print the writer schema (of the first file) instead of records",
     NULL},
    {K_META, "--meta", NULL, "print the header metadata (of the first file) as a JSON object",
     NULL},
    {K_COUNT, "--count", NULL, "print only the number of records (fast: no decoding)",
     "Reads only block headers and sync markers: no decompression, no decoding. With --where "
     "over record columns the records are decoded (only the columns named) and the matching "
     "ones counted."},
    {K_WHERE, "--where", "EXPR",
     "keep the records where EXPR is true (the filter language\nof convert --where); a "
     "dataset's partitions that its\npartition terms rule out are pruned before any file is "
     "opened",
     "EXPR names fields of the records and, in a dataset, its partition columns (integers as "
     "numbers, __HIVE_DEFAULT_PARTITION__ as null). Record fields: the top-level fields of any "
     "record schema whose values are scalars (boolean, int, long, float, double, string, bytes, "
     "fixed, an enum as its symbol, date, timestamp-millis/-micros and the local ones, or a union "
     "of null and one of these), and the same inside nested records as dotted paths "
     "(loc.city, or `loc.city` quoted; null when a record on the path is null); the other "
     "fields (arrays, maps, unions of several types, decimals) are carried along, and a term "
     "on one is an error naming it. A dataset's files are read as the dataset's schema (its "
     "manifest's): a column a later append added is null in the older files, and, as in SQL, a "
     "comparison with null is false while `is null` is true. Top-level `and` terms over "
     "partition columns only prune partitions before any file is opened; the whole expression "
     "then filters the records, of a dataset, a file or a glob alike, with the semantics of "
     "convert --where (dates, timestamps, SQL nulls), for every --format."},
    {K_FORMAT, "--format", "jsonl|csv|avro",
     "output format: JSON lines (default), CSV with a header line (strings as text, null as an "
     "empty cell, nested values as JSON), or one Avro container file merging every input",
     "avro: every record is decoded and encoded again with the output schema: a dataset's "
     "schema (its manifest's), else the first file's; each file's schema must resolve to it "
     "under Avro's rules (fields by name, a missing field read as its null default, promotions "
     "int to long, float, double and string to bytes). A dataset's partition columns are "
     "appended to the records as [\"null\", \"long\"] when every value is an integer, else "
     "[\"null\", \"string\"]. With --where only the matching records are written. Written to -o "
     "FILE (a temporary name, renamed when complete; "
     "an existing FILE is replaced) or to standard output when it is not a terminal."},
    {K_OUTPUT, "-o, --output", "FILE",
     "--format avro: write to FILE (local or hdfs://) instead of standard output", NULL},
    {K_CODEC, "--codec", "NAME",
     "--format avro: block codec (null, deflate, snappy, zstandard, bzip2, xz; default as "
     "convert's)",
     NULL},
    OPT_END,
};

static const opt_spec *const cat_tables[] = {cat_table, NULL};

const opt_cmd cli_cat_cmd = {
    .prog = "csvavro cat",
    .synopsis = "FILE.avro|DIR|'GLOB'... [-n N] [--schema] [--meta] [--count] [--format F] "
                "[-o FILE]",
    .summary = "print Avro container files as JSON lines",
    .help = "Prints the records of Avro container files as JSON lines (one object each).\n"
            "A glob reads its part files in part-number order. A dataset directory (with a\n"
            "csvavro manifest, _SUCCESS) reads the files the manifest lists, in its order, with\n"
            "Hive partition columns restored from the paths; another directory its *.avro.\n"
            "--format avro merges everything into one Avro file (-o FILE or stdout).",
    .man = "Local paths and hdfs:// URLs alike. A directory without a manifest (its *.avro files; "
           "names starting with . or _ are skipped) or a glob in the last path component reads "
           "in part-number order: a natural sort in which runs of digits compare as numbers, so "
           "trip.2.avro comes before trip.10.avro. The JSON mapping of each Avro type and the "
           "checks made on damaged files are under AVRO OUTPUT; datasets and partitions under "
           "OUTPUT.",
    .tables = cat_tables,
};

/* Natural order: digit runs compare by numeric value, other bytes by byte value. */
static int natural_cmp(const char *a, const char *b) {
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            while (*a == '0' && a[1] >= '0' && a[1] <= '9')
                a++;
            while (*b == '0' && b[1] >= '0' && b[1] <= '9')
                b++;
            size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c) return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int cmp_names(const void *x, const void *y) {
    const char *const *a = x, *const *b = y;
    int c = natural_cmp(*a, *b);
    return c ? c : strcmp(*a, *b);
}

typedef struct input {
    csvavro_fs *fs;
    char **paths; /* backend paths, in reading order */
    size_t n;
    size_t dataset_dir_len; /* a dataset: its directory's length + 1 (the relative names) */
    char *schema;           /* a dataset: its schema (the reader schema of every file) */
} input;

static int add_path(input *in, char *p) {
    char **np = realloc(in->paths, (in->n + 1) * sizeof *np);
    if (!np) {
        free(p);
        return -1;
    }
    in->paths = np;
    in->paths[in->n++] = p;
    return 0;
}

static char *join(const char *dir, const char *name) {
    size_t ld = strlen(dir), ln = strlen(name);
    char *p = malloc(ld + ln + 2);
    if (!p) return NULL;
    memcpy(p, dir, ld);
    size_t o = ld;
    if (ld == 0 || dir[ld - 1] != '/') p[o++] = '/';
    memcpy(p + o, name, ln + 1);
    return p;
}

/* Lists dir; keeps the regular files matching pattern (NULL: *.avro, not hidden), sorted. */
static csvavro_status list_matching(input *in, const char *dir, const char *pattern,
                                    csvavro_error *err) {
    csvavro_dirent *ents = NULL;
    size_t n = 0;
    csvavro_status st = csvavro_fs_list(in->fs, dir, &ents, &n, err);
    if (st != CSVAVRO_OK) return st;
    char **names = calloc(n ? n : 1, sizeof *names);
    size_t k = 0;
    if (!names) {
        csvavro_fs_free_list(ents, n);
        err->status = CSVAVRO_E_NOMEM;
        snprintf(err->message, sizeof err->message, "out of memory");
        return CSVAVRO_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const char *nm = ents[i].name;
        if (ents[i].st.is_dir) continue;
        if (pattern) {
            if (fnmatch(pattern, nm, FNM_PERIOD) != 0) continue;
        } else {
            size_t l = strlen(nm);
            if (nm[0] == '.' || nm[0] == '_' || l < 5 || strcmp(nm + l - 5, ".avro") != 0) continue;
        }
        names[k++] = ents[i].name;
    }
    qsort(names, k, sizeof *names, cmp_names);
    for (size_t i = 0; i < k && st == CSVAVRO_OK; i++) {
        char *p = join(dir, names[i]);
        if (!p || add_path(in, p) != 0) {
            err->status = st = CSVAVRO_E_NOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
    }
    if (st == CSVAVRO_OK && k == 0) {
        err->status = st = CSVAVRO_E_NOT_FOUND;
        snprintf(err->path, sizeof err->path, "%s", dir);
        snprintf(err->message, sizeof err->message, "no %s files in %s",
                 pattern ? pattern : "*.avro", dir);
    }
    free(names);
    csvavro_fs_free_list(ents, n);
    return st;
}

/* Expands one argument (file, directory or glob) into in->paths. */
static csvavro_status expand(input *in, const char *path, const char *where, csvavro_error *err) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strpbrk(base, "*?[")) {
        char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
        if (!dir) return CSVAVRO_E_NOMEM;
        csvavro_status st = list_matching(in, dir, base, err);
        free(dir);
        return st;
    }
    csvavro_stat s;
    csvavro_status st = csvavro_fs_stat(in->fs, path, &s, err);
    if (st != CSVAVRO_OK) return st;
    if (s.is_dir) { /* a dataset: the files its manifest lists; else every *.avro */
        char **files = NULL;
        size_t nf = 0;
        st = csvavro_dataset_files_where(in->fs, path, where, &files, &nf, err);
        if (st == CSVAVRO_E_NOT_FOUND && !where) return list_matching(in, path, NULL, err);
        size_t dl = strlen(path);
        while (dl > 1 && path[dl - 1] == '/')
            dl--;
        in->dataset_dir_len = dl + 1;
        for (size_t i = 0; st == CSVAVRO_OK && i < nf; i++) { /* own copies: free() */
            char *p = strdup(files[i]);
            if (!p || add_path(in, p) != 0) st = CSVAVRO_E_NOMEM;
        }
        csvavro_dataset_files_free(files, nf);
        return st;
    }
    char *p = strdup(path);
    if (!p || add_path(in, p) != 0) return CSVAVRO_E_NOMEM;
    return CSVAVRO_OK;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
    unsigned char c = p[0];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (len == 2 && c < 0xc2) return 0;                  /* overlong */
    if (len == 3 && c == 0xe0 && p[1] < 0xa0) return 0;  /* overlong */
    if (len == 3 && c == 0xed && p[1] >= 0xa0) return 0; /* surrogate */
    if (len == 4 && (c > 0xf4 || (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
        return 0;
    return len;
}

/* A JSON string of metadata bytes: UTF-8 text as is; bytes that are not valid UTF-8 as
 * \u00XX (one code point per byte, as Avro's JSON encoding of bytes). */
static void json_str(FILE *f, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t l = utf8_seq(p + i, n - i);
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f || l == 0)
            fprintf(f, "\\u%04x", c);
        else {
            fwrite(p + i, 1, l, f);
            i += l;
            continue;
        }
        i++;
    }
    fputc('"', f);
}

/* The Hive partition columns of a dataset file's relative name ("year=2013/month=01/x.avro"):
 * keys with their unescaped values (is_null for Hive's default partition). */
typedef struct pcol {
    char key[256];
    char val[1024];
    size_t vl;
    int is_null;
} pcol;

#define MAX_PCOLS 64

static size_t parse_partitions(const char *rel, pcol *out) {
    size_t n = 0;
    const char *p = rel;
    for (const char *slash; n < MAX_PCOLS && (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        const char *eq = memchr(p, '=', (size_t)(slash - p));
        if (!eq) continue;
        pcol *c = &out[n++];
        size_t kl = (size_t)(eq - p) < sizeof c->key - 1 ? (size_t)(eq - p) : sizeof c->key - 1;
        memcpy(c->key, p, kl);
        c->key[kl] = '\0';
        c->vl = 0;
        for (const char *q = eq + 1; q < slash && c->vl + 1 < sizeof c->val; q++) {
            unsigned x;
            if (*q == '%' && slash - q > 2 && sscanf(q + 1, "%2X", &x) == 1) {
                c->val[c->vl++] = (char)x;
                q += 2;
            } else {
                c->val[c->vl++] = *q;
            }
        }
        c->val[c->vl] = '\0';
        c->is_null = !strcmp(c->val, "__HIVE_DEFAULT_PARTITION__");
    }
    return n;
}

/* An integer partition value ("01" as 1, as Spark and Hive infer it). */
static int pval_int(const pcol *c, long long *v) {
    char *end;
    if (c->is_null || !c->vl || c->val[0] == '+' || c->val[0] == ' ') return 0;
    *v = strtoll(c->val, &end, 10);
    return !*end;
}

/* A key the records already hold (a field of that name in the schema). */
static int in_schema(const char *key, const char *schema_json) {
    char pat[300], pat2[300];
    snprintf(pat, sizeof pat, "\"name\":\"%s\"", key);
    snprintf(pat2, sizeof pat2, "\"name\": \"%s\"", key);
    return strstr(schema_json, pat) || strstr(schema_json, pat2);
}

/* The partition columns as JSON members (",\"year\":2013,\"month\":1"): integers as numbers,
 * the default partition as null, other values as strings; keys the records hold left out. */
static char *partition_members(const char *rel, const char *schema_json) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    pcol pc[MAX_PCOLS];
    size_t n = parse_partitions(rel, pc);
    for (size_t i = 0; i < n; i++) {
        if (in_schema(pc[i].key, schema_json)) continue;
        fputc(',', f);
        json_str(f, pc[i].key, strlen(pc[i].key));
        fputc(':', f);
        long long num;
        if (pc[i].is_null)
            fputs("null", f);
        else if (pval_int(&pc[i], &num))
            fprintf(f, "%lld", num);
        else
            json_str(f, pc[i].val, pc[i].vl);
    }
    fclose(f);
    return buf;
}

/* One CSV cell of text (quoted as the reader quotes: a delimiter, quote, CR or LF, or empty). */
static void csv_cell(FILE *f, const char *s, size_t n) {
    int q = n == 0;
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!q) {
        fwrite(s, 1, n, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

/* The partition columns of a whole dataset argument, in order of first appearance: those the
 * records do not hold (the first file's schema decides); is_long when every value is an
 * integer (Avro output). */
typedef struct pkeys {
    char (*key)[256];
    int *is_long;
    size_t n;
} pkeys;

static int collect_keys_of(pkeys *k, const char *rel, const char *schema_json) {
    pcol pc[MAX_PCOLS];
    size_t n = parse_partitions(rel, pc);
    for (size_t i = 0; i < n; i++) {
        if (in_schema(pc[i].key, schema_json)) continue;
        size_t j = 0;
        while (j < k->n && strcmp(k->key[j], pc[i].key))
            j++;
        if (j == k->n) {
            char(*nk)[256] = realloc(k->key, (k->n + 1) * sizeof *nk);
            if (!nk) return -1;
            k->key = nk;
            int *nl = realloc(k->is_long, (k->n + 1) * sizeof *nl);
            if (!nl) return -1;
            k->is_long = nl;
            memcpy(k->key[k->n], pc[i].key, sizeof pc[i].key);
            k->is_long[k->n++] = 1;
        }
        long long v;
        if (!pc[i].is_null && !pval_int(&pc[i], &v)) k->is_long[j] = 0;
    }
    return 0;
}

/* The keys of every file of the dataset arguments among ins[0..n_in) (other inputs have
 * none); CSVAVRO_E_NOMEM when out of memory. */
static csvavro_status collect_keys(pkeys *k, const input *ins, size_t n_in,
                                   const char *schema_json) {
    for (size_t a = 0; a < n_in; a++) {
        if (!ins[a].dataset_dir_len) continue;
        for (size_t i = 0; i < ins[a].n; i++)
            if (collect_keys_of(k, ins[a].paths[i] + ins[a].dataset_dir_len, schema_json) != 0)
                return CSVAVRO_E_NOMEM;
    }
    return CSVAVRO_OK;
}

/* A file's values of the keys (NULL: null, or absent from its path). */
static void key_values(const pkeys *k, const char *rel, pcol *pc, const char **vals) {
    size_t n = parse_partitions(rel, pc);
    for (size_t j = 0; j < k->n; j++) {
        vals[j] = NULL;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(pc[i].key, k->key[j]) && !pc[i].is_null) vals[j] = pc[i].val;
    }
}

/* ------------------------------------------------------------------ --format avro */

typedef struct avro_out {
    csvavro_file *f; /* -o FILE, else stdout */
} avro_out;

static int avro_write(void *ctx, const void *p, size_t n, csvavro_error *err) {
    avro_out *o = ctx;
    if (o->f) return csvavro_file_write(o->f, p, n, err);
    if (fwrite(p, 1, n, stdout) == n) return CSVAVRO_OK;
    snprintf(err->path, sizeof err->path, "stdout");
    snprintf(err->message, sizeof err->message, "write failed");
    return err->status = CSVAVRO_E_IO;
}

/* The merge's keep callback: the record filter's answer for the next record. */
static int keep_record(void *ctx, int *keep, csvavro_error *err) {
    return csvavro_record_filter_next(ctx, keep, err);
}

/* Merges every input into one Avro file (-o out, or stdout). */
static csvavro_status cat_avro(input *ins, size_t n_in, const char *where, const char *out,
                               const char *codec, csvavro_error *err) {
    csvavro_avro_options ao;
    csvavro_avro_options_init(&ao);
    if (codec && csvavro_codec_parse(codec, &ao.codec) != CSVAVRO_OK) {
        snprintf(err->message, sizeof err->message, "unknown codec '%s'", codec);
        return err->status = CSVAVRO_E_USAGE;
    }
    /* the output schema: the first argument's dataset schema, else the first file's */
    const char *schema = n_in ? ins[0].schema : NULL;
    csvavro_status st = CSVAVRO_OK;
    /* partition columns over every dataset file (their type needs every value) */
    pkeys k = {0};
    const char *first_schema = schema;
    csvavro_avro_reader *r0 = NULL;
    if (!first_schema) {
        for (size_t a = 0; a < n_in && !r0 && st == CSVAVRO_OK; a++)
            if (ins[a].n) st = csvavro_avro_reader_open(ins[a].fs, ins[a].paths[0], &r0, err);
        first_schema = r0 ? csvavro_avro_reader_schema_json(r0) : "";
    }
    if (st == CSVAVRO_OK) st = collect_keys(&k, ins, n_in, first_schema);
    csvavro_avro_reader_close(r0);
    csvavro_fs *ofs = NULL;
    char *opath = NULL, *tmp = NULL;
    avro_out ctx = {0};
    if (st == CSVAVRO_OK && out) {
        st = csvavro_fs_open_url(out, &ofs, &opath, err);
        if (st == CSVAVRO_OK) {
            const char *slash = strrchr(opath, '/');
            size_t dl = slash ? (size_t)(slash - opath) + 1 : 0;
            tmp = malloc(strlen(opath) + 64);
            if (!tmp)
                st = CSVAVRO_E_NOMEM;
            else
                snprintf(tmp, strlen(opath) + 64, "%.*s.%s.csvavro-tmp-%ld", (int)dl, opath,
                         opath + dl, (long)getpid());
        }
        if (st == CSVAVRO_OK) st = csvavro_fs_create(ofs, tmp, 1, &ctx.f, err);
    }
    csvavro_avro_merge *m = NULL;
    char **names = NULL;
    const char **vals = NULL;
    if (st == CSVAVRO_OK) {
        names = calloc(k.n + 1, sizeof *names);
        vals = calloc(k.n + 1, sizeof *vals);
        if (!names || !vals) st = CSVAVRO_E_NOMEM;
        for (size_t j = 0; names && j < k.n; j++)
            names[j] = k.key[j];
    }
    if (st == CSVAVRO_OK)
        st = csvavro_avro_merge_create(avro_write, &ctx, schema, (const char *const *)names,
                                       k.is_long, k.n, &ao, &m, err);
    for (size_t a = 0; a < n_in && st == CSVAVRO_OK; a++) {
        for (size_t i = 0; i < ins[a].n && st == CSVAVRO_OK; i++) {
            pcol pc[MAX_PCOLS];
            for (size_t j = 0; j < k.n; j++)
                vals[j] = NULL;
            if (ins[a].dataset_dir_len)
                key_values(&k, ins[a].paths[i] + ins[a].dataset_dir_len, pc, vals);
            csvavro_record_filter *rf = NULL;
            if (where) { /* partition terms decide per file, record terms per record */
                const char *rel =
                    ins[a].dataset_dir_len ? ins[a].paths[i] + ins[a].dataset_dir_len : NULL;
                st = csvavro_record_filter_open(ins[a].fs, ins[a].paths[i], rel, ins[a].schema,
                                                where, &rf, err);
                int c = st == CSVAVRO_OK ? csvavro_record_filter_constant(rf) : 1;
                if (st != CSVAVRO_OK || c >= 0) {
                    csvavro_record_filter_close(rf);
                    rf = NULL;
                }
                if (st != CSVAVRO_OK || c == 0) continue;
            }
            st = csvavro_avro_merge_add_filtered(m, ins[a].fs, ins[a].paths[i], vals,
                                                 rf ? keep_record : NULL, rf, err);
            csvavro_record_filter_close(rf);
        }
    }
    if (st == CSVAVRO_OK) st = csvavro_avro_merge_finish(m, NULL, err);
    csvavro_avro_merge_free(m);
    if (ctx.f) {
        if (st == CSVAVRO_OK)
            st = csvavro_file_close(ctx.f, err);
        else
            csvavro_file_abort(ctx.f);
    }
    if (st == CSVAVRO_OK && ofs) st = csvavro_fs_rename(ofs, tmp, opath, 1, err);
    if (st != CSVAVRO_OK && ofs && tmp) csvavro_fs_remove(ofs, tmp, 0, NULL);
    if (st == CSVAVRO_E_NOMEM && !err->message[0])
        snprintf(err->message, sizeof err->message, "out of memory");
    free(names);
    free(vals);
    free(k.key);
    free(k.is_long);
    free(tmp);
    free(opath);
    csvavro_fs_close(ofs);
    return st;
}

int cli_cmd_cat(int argc, char **argv) {
    uint64_t limit = UINT64_MAX;
    const char *where = NULL, *out = NULL, *codec = NULL;
    int want_schema = 0, want_meta = 0, want_count = 0, fmt = 0, header_done = 0, limited = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0;
    if (!files) return CLI_FAIL;
    opt_parser p;
    opt_init(&p, &cli_cat_cmd, argc, argv);
    const char *val;
    int id;
    while ((id = opt_next(&p, &val)) != OPT_DONE) {
        char *end;
        switch (id) {
        case OPT_OPERAND:
            files[n_files++] = (char *)val;
            continue;
        case K_LIMIT:
            limited = 1;
            if (*val && val[0] != '-' && (limit = strtoull(val, &end, 10), !*end)) continue;
            free(files);
            return cli_usage_error("cat", "-n wants a non-negative number");
        case K_SCHEMA:
            want_schema = 1;
            continue;
        case K_META:
            want_meta = 1;
            continue;
        case K_COUNT:
            want_count = 1;
            continue;
        case K_WHERE:
            where = val;
            continue;
        case K_OUTPUT:
            out = val;
            continue;
        case K_CODEC:
            codec = val;
            continue;
        case K_FORMAT:
            if (!strcmp(val, "csv") || !strcmp(val, "jsonl") || !strcmp(val, "json") ||
                !strcmp(val, "avro")) {
                fmt = val[0] == 'c' ? 1 : val[0] == 'a' ? 2 : 0;
                continue;
            }
            free(files);
            return cli_usage_error("cat", "--format wants jsonl, csv or avro, not '%s'", val);
        default: /* OPT_HELP, OPT_ERROR */
            free(files);
            return id == OPT_HELP ? CLI_OK : CLI_USAGE;
        }
    }
    const char *bad = NULL;
    if (n_files == 0)
        bad = "no input files";
    else if (fmt != 2 && (out || codec))
        bad = "-o and --codec go with --format avro";
    else if (fmt == 2 && (want_schema || want_meta || want_count || limited))
        bad = "--format avro writes every record: not with --schema, --meta, --count or -n";
    else if (fmt == 2 && !out && isatty(1))
        bad = "--format avro: binary output to a terminal (use -o FILE or redirect)";
    if (bad) {
        free(files);
        return cli_usage_error("cat", "%s", bad);
    }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_status st = CSVAVRO_OK;
    uint64_t printed = 0, counted = 0;
    int done = 0;
    /* every argument expanded first (csv: the partition columns of every file) */
    input *ins = calloc(n_files, sizeof *ins);
    char **bpaths = calloc(n_files, sizeof *bpaths);
    if (!ins || !bpaths) st = CSVAVRO_E_NOMEM;
    for (size_t fi = 0; fi < n_files && st == CSVAVRO_OK; fi++) {
        st = csvavro_fs_open_url(files[fi], &ins[fi].fs, &bpaths[fi], &err);
        if (st == CSVAVRO_OK) st = expand(&ins[fi], bpaths[fi], where, &err);
        if (st == CSVAVRO_OK && ins[fi].dataset_dir_len) /* a dataset: read as its schema */
            st = csvavro_dataset_schema(ins[fi].fs, bpaths[fi], &ins[fi].schema, &err);
        if (st != CSVAVRO_OK && err.path[0] == '\0')
            snprintf(err.path, sizeof err.path, "%s", files[fi]);
    }
    if (st == CSVAVRO_OK && fmt == 2) {
        st = cat_avro(ins, n_files, where, out, codec, &err);
        done = 1;
    }
    pkeys ck = {0}; /* csv: the partition columns of every dataset file */
    const char **cvals = NULL;
    for (size_t fi = 0; fi < n_files && st == CSVAVRO_OK && !done; fi++) {
        input *in = &ins[fi];
        for (size_t k = 0; k < in->n && st == CSVAVRO_OK && !done; k++) {
            csvavro_record_filter *rf = NULL; /* --where over this file's records */
            if (where && !want_schema && !want_meta) {
                st = csvavro_record_filter_open(
                    in->fs, in->paths[k],
                    in->dataset_dir_len ? in->paths[k] + in->dataset_dir_len : NULL, in->schema,
                    where, &rf, &err);
                if (st != CSVAVRO_OK) break;
                int c = csvavro_record_filter_constant(rf);
                if (c >= 0) { /* decided by the partition columns: no decoding */
                    csvavro_record_filter_close(rf);
                    rf = NULL;
                    if (c == 0) continue;
                }
            }
            if (rf && want_count) { /* decode the columns named, count the matches */
                int keep;
                while ((st = csvavro_record_filter_next(rf, &keep, &err)) == CSVAVRO_OK &&
                       keep >= 0)
                    counted += (uint64_t)keep;
                csvavro_record_filter_close(rf);
                continue;
            }
            csvavro_avro_reader *r = NULL;
            st = csvavro_avro_reader_open(in->fs, in->paths[k], &r, &err);
            if (st != CSVAVRO_OK) {
                csvavro_record_filter_close(rf);
                break;
            }
            if (want_schema || want_meta) {
                if (want_schema) printf("%s\n", csvavro_avro_reader_schema_json(r));
                if (want_meta) {
                    size_t nm = csvavro_avro_reader_meta_count(r);
                    fputc('{', stdout);
                    for (size_t m = 0; m < nm; m++) {
                        const char *key, *mval;
                        size_t vl;
                        csvavro_avro_reader_meta(r, m, &key, &mval, &vl);
                        if (m) fputs(", ", stdout);
                        json_str(stdout, key, strlen(key));
                        fputs(": ", stdout);
                        json_str(stdout, mval, vl);
                    }
                    fputs("}\n", stdout);
                }
                done = 1; /* the first file's header only */
            } else if (want_count) {
                uint64_t c = 0;
                st = csvavro_avro_reader_count(r, &c, &err);
                counted += c;
            } else {
                int csv = fmt == 1;
                if (in->schema) st = csvavro_avro_reader_use_schema(r, in->schema, &err);
                if (st != CSVAVRO_OK) {
                    csvavro_avro_reader_close(r);
                    break;
                }
                const char *rschema = in->schema ? in->schema : csvavro_avro_reader_schema_json(r);
                /* a dataset's partition columns, from the path (Hive convention) */
                char *extra = !csv && in->dataset_dir_len
                                  ? partition_members(in->paths[k] + in->dataset_dir_len, rschema)
                                  : NULL;
                if (csv && !header_done) { /* the first file's fields name the columns */
                    if (st == CSVAVRO_OK) st = collect_keys(&ck, ins, n_files, rschema);
                    cvals = calloc(ck.n + 1, sizeof *cvals);
                    if (!cvals) st = CSVAVRO_E_NOMEM;
                    const char *line;
                    size_t len;
                    if (st == CSVAVRO_OK) st = csvavro_avro_reader_csv_header(r, &line, &len, &err);
                    if (st == CSVAVRO_OK) {
                        fwrite(line, 1, len, stdout);
                        for (size_t j = 0; j < ck.n; j++) {
                            fputc(',', stdout);
                            csv_cell(stdout, ck.key[j], strlen(ck.key[j]));
                        }
                        fputc('\n', stdout);
                    }
                    header_done = 1;
                }
                /* csv: this file's partition cells, the same on each of its lines */
                char *cells = NULL;
                size_t cells_len = 0;
                if (csv && ck.n && st == CSVAVRO_OK) {
                    FILE *cf = open_memstream(&cells, &cells_len);
                    pcol pc[MAX_PCOLS];
                    for (size_t j = 0; j < ck.n; j++)
                        cvals[j] = NULL;
                    if (in->dataset_dir_len)
                        key_values(&ck, in->paths[k] + in->dataset_dir_len, pc, cvals);
                    for (size_t j = 0; cf && j < ck.n; j++) {
                        fputc(',', cf);
                        long long num;
                        pcol one = {0};
                        if (!cvals[j]) continue;
                        one.vl = strlen(cvals[j]);
                        memcpy(one.val, cvals[j], one.vl + 1);
                        if (pval_int(&one, &num))
                            fprintf(cf, "%lld", num);
                        else
                            csv_cell(cf, cvals[j], one.vl);
                    }
                    if (!cf || fclose(cf) != 0) st = CSVAVRO_E_NOMEM;
                }
                while (printed < limit && st == CSVAVRO_OK) {
                    const char *line;
                    size_t len;
                    st = csv ? csvavro_avro_reader_next_csv(r, &line, &len, &err)
                             : csvavro_avro_reader_next_json(r, &line, &len, &err);
                    if (st != CSVAVRO_OK || !line) break;
                    int keep = 1;
                    if (rf && (st = csvavro_record_filter_next(rf, &keep, &err)) != CSVAVRO_OK)
                        break;
                    if (keep < 0) {
                        snprintf(err.path, sizeof err.path, "%s", in->paths[k]);
                        snprintf(err.message, sizeof err.message,
                                 "--where: the filter's reader ended before the records");
                        st = err.status = CSVAVRO_E_INTERNAL;
                        break;
                    }
                    if (!keep) continue;
                    if (!csv && extra && *extra && len >= 2 && line[len - 1] == '}') {
                        fwrite(line, 1, len - 1, stdout);
                        fputs(len == 2 ? extra + 1 : extra, stdout); /* {} has no member yet */
                        fputs("}\n", stdout);
                    } else {
                        fwrite(line, 1, len, stdout);
                        if (cells) fwrite(cells, 1, cells_len, stdout);
                        fputc('\n', stdout);
                    }
                    printed++;
                }
                free(extra);
                free(cells);
                if (printed >= limit) done = 1;
                csvavro_record_filter_close(rf);
            }
            csvavro_avro_reader_close(r);
        }
    }
    for (size_t fi = 0; ins && fi < n_files; fi++) {
        for (size_t k = 0; k < ins[fi].n; k++)
            free(ins[fi].paths[k]);
        free(ins[fi].paths);
        free(bpaths[fi]);
        csvavro_free(ins[fi].schema);
        csvavro_fs_close(ins[fi].fs);
    }
    free(ins);
    free(bpaths);
    free(ck.key);
    free(ck.is_long);
    free(cvals);
    if (st == CSVAVRO_OK && want_count && !want_schema && !want_meta)
        printf("%llu\n", (unsigned long long)counted);
    free(files);
    if (fflush(stdout) != 0 && st == CSVAVRO_OK) {
        perror("csvavro cat: stdout");
        return CLI_FAIL;
    }
    if (st != CSVAVRO_OK) {
        if (err.status == CSVAVRO_OK) err.status = st;
        if (st == CSVAVRO_E_NOMEM && !err.message[0])
            snprintf(err.message, sizeof err.message, "out of memory");
        return cli_report(&err);
    }
    return CLI_OK;
}
