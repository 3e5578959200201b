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

enum { K_LIMIT = 1, K_SCHEMA, K_META, K_COUNT, K_WHERE, K_FORMAT };

static const opt_spec cat_table[] = {
    {K_LIMIT, "-n, --limit", "N", "print at most N records in total", NULL},
    {K_SCHEMA, "--schema", NULL, "print the writer schema (of the first file) instead of records",
     NULL},
    {K_META, "--meta", NULL, "print the header metadata (of the first file) as a JSON object",
     NULL},
    {K_COUNT, "--count", NULL, "print only the number of records (fast: no decoding)",
     "Reads only block headers and sync markers: no decompression, no decoding."},
    {K_WHERE, "--where", "EXPR",
     "a partitioned dataset: read only the partitions where\nEXPR (over partition columns) is "
     "true; the others are\npruned before any file is opened",
     NULL},
    {K_FORMAT, "--format", "jsonl|csv",
     "output format: JSON lines (default) or CSV with a header line (strings as text, null as an "
     "empty cell, nested values as JSON)",
     NULL},
    OPT_END,
};

static const opt_spec *const cat_tables[] = {cat_table, NULL};

const opt_cmd cli_cat_cmd = {
    .prog = "csvavro cat",
    .synopsis = "FILE.avro|DIR|'GLOB'... [-n N] [--schema] [--meta] [--count] [--format F]",
    .summary = "print Avro container files as JSON lines",
    .help = "Prints the records of Avro container files as JSON lines (one object each).\n"
            "A glob reads its part files in part-number order. A dataset directory (with a\n"
            "csvavro manifest, _SUCCESS) reads the files the manifest lists, in its order, with\n"
            "Hive partition columns restored from the paths; another directory its *.avro.",
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
    if (strpbrk(base, "*?[") && !where) {
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
    if (where) {
        snprintf(err->path, sizeof err->path, "%s", path);
        snprintf(err->message, sizeof err->message,
                 "--where selects partitions of a dataset directory, not records of a file");
        return err->status = CSVAVRO_E_USAGE;
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

/* The Hive partition columns of a dataset file's relative name ("year=2013/month=01/x.avro")
 * as JSON members (",\"year\":2013,\"month\":1"): integers as numbers, the default
 * partition as null, other values as strings; keys the records already hold are left out. */
static char *partition_members(const char *rel, const char *schema_json) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    const char *p = rel;
    for (const char *slash; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        const char *eq = memchr(p, '=', (size_t)(slash - p));
        if (!eq) continue;
        char key[256], val[1024], pat[300];
        size_t kl = (size_t)(eq - p) < sizeof key - 1 ? (size_t)(eq - p) : sizeof key - 1;
        memcpy(key, p, kl);
        key[kl] = '\0';
        snprintf(pat, sizeof pat, "\"name\":\"%s\"", key);
        char pat2[300];
        snprintf(pat2, sizeof pat2, "\"name\": \"%s\"", key);
        if (strstr(schema_json, pat) || strstr(schema_json, pat2)) continue;
        size_t vl = 0;
        for (const char *c = eq + 1; c < slash && vl + 1 < sizeof val; c++) {
            unsigned x;
            if (*c == '%' && slash - c > 2 && sscanf(c + 1, "%2X", &x) == 1) {
                val[vl++] = (char)x;
                c += 2;
            } else {
                val[vl++] = *c;
            }
        }
        val[vl] = '\0';
        fputc(',', f);
        json_str(f, key, kl);
        fputc(':', f);
        char *end;
        long long num = strtoll(val, &end, 10);
        if (!strcmp(val, "__HIVE_DEFAULT_PARTITION__"))
            fputs("null", f);
        else if (vl && !*end) /* an integer ("01" as 1, as Spark and Hive infer it) */
            fprintf(f, "%lld", num);
        else
            json_str(f, val, vl);
    }
    fclose(f);
    return buf;
}

int cli_cmd_cat(int argc, char **argv) {
    uint64_t limit = UINT64_MAX;
    const char *where = NULL;
    int want_schema = 0, want_meta = 0, want_count = 0, csv = 0, header_done = 0;
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
        case K_FORMAT:
            if (!strcmp(val, "csv") || !strcmp(val, "jsonl") || !strcmp(val, "json")) {
                csv = val[0] == 'c';
                continue;
            }
            free(files);
            return cli_usage_error("cat", "--format wants jsonl or csv, not '%s'", val);
        default: /* OPT_HELP, OPT_ERROR */
            free(files);
            return id == OPT_HELP ? CLI_OK : CLI_USAGE;
        }
    }
    if (n_files == 0) {
        free(files);
        return cli_usage_error("cat", "no input files");
    }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_status st = CSVAVRO_OK;
    uint64_t printed = 0, counted = 0;
    int done = 0;
    for (size_t fi = 0; fi < n_files && st == CSVAVRO_OK && !done; fi++) {
        input in = {0};
        char *bpath = NULL;
        st = csvavro_fs_open_url(files[fi], &in.fs, &bpath, &err);
        if (st == CSVAVRO_OK) st = expand(&in, bpath, where, &err);
        if (st != CSVAVRO_OK && err.path[0] == '\0')
            snprintf(err.path, sizeof err.path, "%s", files[fi]);
        for (size_t k = 0; k < in.n && st == CSVAVRO_OK && !done; k++) {
            csvavro_avro_reader *r = NULL;
            st = csvavro_avro_reader_open(in.fs, in.paths[k], &r, &err);
            if (st != CSVAVRO_OK) break;
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
                /* a dataset's partition columns, from the path (Hive convention) */
                char *extra = in.dataset_dir_len
                                  ? partition_members(in.paths[k] + in.dataset_dir_len,
                                                      csvavro_avro_reader_schema_json(r))
                                  : NULL;
                if (csv && !header_done) { /* the first file's fields name the columns */
                    const char *line;
                    size_t len;
                    st = csvavro_avro_reader_csv_header(r, &line, &len, &err);
                    if (st == CSVAVRO_OK) {
                        fwrite(line, 1, len, stdout);
                        fputc('\n', stdout);
                    }
                    header_done = 1;
                }
                while (printed < limit && st == CSVAVRO_OK) {
                    const char *line;
                    size_t len;
                    st = csv ? csvavro_avro_reader_next_csv(r, &line, &len, &err)
                             : csvavro_avro_reader_next_json(r, &line, &len, &err);
                    if (st != CSVAVRO_OK || !line) break;
                    if (!csv && extra && *extra && len >= 2 && line[len - 1] == '}') {
                        fwrite(line, 1, len - 1, stdout);
                        fputs(len == 2 ? extra + 1 : extra, stdout); /* {} has no member yet */
                        fputs("}\n", stdout);
                    } else {
                        fwrite(line, 1, len, stdout);
                        fputc('\n', stdout);
                    }
                    printed++;
                }
                free(extra);
                if (printed >= limit) done = 1;
            }
            csvavro_avro_reader_close(r);
        }
        for (size_t k = 0; k < in.n; k++)
            free(in.paths[k]);
        free(in.paths);
        csvavro_free(bpath);
        csvavro_fs_close(in.fs);
    }
    if (st == CSVAVRO_OK && want_count && !want_schema && !want_meta)
        printf("%llu\n", (unsigned long long)counted);
    free(files);
    if (fflush(stdout) != 0 && st == CSVAVRO_OK) {
        perror("csvavro cat: stdout");
        return CLI_FAIL;
    }
    if (st != CSVAVRO_OK) {
        if (err.status == CSVAVRO_OK) err.status = st;
        return cli_report(&err);
    }
    return CLI_OK;
}
