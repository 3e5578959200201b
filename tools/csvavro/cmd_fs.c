/*
 * cmd_fs.c — `csvavro fs`: file operations on local paths and hdfs:// URLs, through the public
 * storage API only (csvavro_fs_*). Output is shaped like `hdfs dfs` (the man page has it, from the
 * tables below):
 *
 *   ls [-l] PATH...      names (one per line); -l: "Found N items" then
 *                        "drwxr-xr-x   - owner group          0 2026-01-31 12:00 /dir/name"
 *   stat PATH...         "%F %b %r %o %u %g %y %n" of hdfs dfs -stat
 *   cat PATH...          bytes to stdout;   head [-c N] PATH  the first N bytes (1024)
 *   put [-f] LOCAL DEST  get [-f] SRC LOCAL  (into DEST/basename when DEST is a directory)
 *   rm [-r] [-f] PATH... "Deleted PATH";  mkdir [-p] PATH...;  mv SRC DST
 *   du [-s] PATH...      "SIZE  PATH" per entry (per child, or the path itself with -s)
 *   df [PATH]            "Filesystem  Size  Used  Available  Use%"
 *
 * put/get/cat stream through one reused 4 MiB buffer (large sequential preads, which the HDFS
 * reader serves on one DataNode connection per block).
 */
#include "cli.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IOBUF (4u << 20)

static int fail(const csvavro_error *e) {
    return cli_report(e);
}

typedef struct fsref {
    csvavro_fs *fs;
    char *path;
} fsref;

static int open_ref(const char *url, fsref *r, csvavro_error *e) {
    r->fs = NULL;
    r->path = NULL;
    return csvavro_fs_open_url(url, &r->fs, &r->path, e) == CSVAVRO_OK ? 0 : -1;
}

static void close_ref(fsref *r) {
    csvavro_free(r->path);
    csvavro_fs_close(r->fs);
    r->fs = NULL;
    r->path = NULL;
}

static void mode_string(const csvavro_stat *st, char out[11]) {
    static const char rwx[] = "rwxrwxrwx";
    out[0] = st->is_dir ? 'd' : '-';
    for (int i = 0; i < 9; i++)
        out[i + 1] = (st->mode & (1u << (8 - i))) ? rwx[i] : '-';
    if (st->mode & 01000) out[9] = (st->mode & 1) ? 't' : 'T';
    out[10] = '\0';
}

/* Local time of ms: "YYYY-MM-DD HH:MM", with ":SS" when seconds is set. */
static void time_string(int64_t ms, bool seconds, char *out, size_t cap) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (seconds)
        strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
    else
        strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
}

static void print_long(const csvavro_stat *st, const char *shown) {
    char m[11], t[32];
    mode_string(st, m);
    time_string(st->mtime_ms, false, t, sizeof t);
    char repl[16];
    if (st->is_dir)
        snprintf(repl, sizeof repl, "-");
    else
        snprintf(repl, sizeof repl, "%d", st->replication);
    printf("%s %3s %s %s %10" PRId64 " %s %s\n", m, repl, st->owner, st->group, st->size, t, shown);
}

/* a + "/" + b, allocated */
static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *o = malloc(n);
    if (o) snprintf(o, n, "%s%s%s", a, (a[0] && a[strlen(a) - 1] == '/') ? "" : "/", b);
    return o;
}

static const char *base_name(const char *p) {
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    const char *s = p + n;
    while (s > p && s[-1] != '/')
        s--;
    return s;
}

/* The parsed command line of one fs command: flags and values by option id, operands. */
enum { F_L = 1, F_C, F_F, F_R, F_P, F_S, F_RENEWER, F_N };

typedef struct fs_args {
    int flag[F_N];
    const char *val[F_N];
    char **ops;
    int n;
} fs_args;

/* ------------------------------------------------------------------ ls */

static int cmd_ls(const fs_args *a) {
    int lng = a->flag[F_L], rc = CLI_OK;
    char **argv = a->ops;
    if (a->n == 0) return cli_usage_error("fs ls", "missing PATH");
    for (int i = 0; i < a->n; i++) {
        csvavro_error e;
        csvavro_error_clear(&e);
        fsref r;
        if (open_ref(argv[i], &r, &e) != 0) {
            rc = fail(&e);
            continue;
        }
        csvavro_stat st;
        if (csvavro_fs_stat(r.fs, r.path, &st, &e) != CSVAVRO_OK) {
            rc = fail(&e);
            close_ref(&r);
            continue;
        }
        if (!st.is_dir) {
            if (lng)
                print_long(&st, argv[i]);
            else
                printf("%s\n", argv[i]);
            close_ref(&r);
            continue;
        }
        csvavro_dirent *list;
        size_t n;
        if (csvavro_fs_list(r.fs, r.path, &list, &n, &e) != CSVAVRO_OK) {
            rc = fail(&e);
            close_ref(&r);
            continue;
        }
        if (lng) printf("Found %zu items\n", n);
        for (size_t k = 0; k < n; k++) {
            char *shown = join(argv[i], list[k].name);
            if (!shown) break;
            if (lng)
                print_long(&list[k].st, shown);
            else
                printf("%s\n", shown);
            free(shown);
        }
        csvavro_fs_free_list(list, n);
        close_ref(&r);
    }
    return rc;
}

static int cmd_stat(const fs_args *a) {
    char **argv = a->ops;
    if (a->n == 0) return cli_usage_error("fs stat", "missing PATH");
    int rc = CLI_OK;
    for (int i = 0; i < a->n; i++) {
        csvavro_error e;
        csvavro_error_clear(&e);
        fsref r;
        csvavro_stat st;
        if (open_ref(argv[i], &r, &e) != 0 ||
            csvavro_fs_stat(r.fs, r.path, &st, &e) != CSVAVRO_OK) {
            rc = fail(&e);
            close_ref(&r);
            continue;
        }
        char t[32];
        time_string(st.mtime_ms, true, t, sizeof t);
        printf("%s %" PRId64 " %d %" PRId64 " %s %s %s %s\n",
               st.is_dir ? "directory" : (st.size ? "regular file" : "regular empty file"), st.size,
               st.is_dir ? 0 : st.replication, st.block_size, st.owner, st.group, t,
               base_name(r.path));
        close_ref(&r);
    }
    return rc;
}

/* ------------------------------------------------------------------ cat / head / get / put */

/* Copies up to limit bytes (-1 = all) of src to the open FILE or csvavro_file. */
static csvavro_status copy_out(csvavro_file *in, FILE *out, csvavro_file *outf, int64_t limit,
                               uint8_t *buf, csvavro_error *e) {
    int64_t off = 0, size = csvavro_file_size(in);
    if (limit >= 0 && limit < size) size = limit;
    while (off < size) {
        size_t want = (size_t)((size - off) < IOBUF ? (size - off) : IOBUF), got = 0;
        csvavro_status s = csvavro_file_pread(in, buf, want, off, &got, e);
        if (s != CSVAVRO_OK) return s;
        if (got == 0) break;
        if (out) {
            if (fwrite(buf, 1, got, out) != got) {
                e->status = CSVAVRO_E_IO;
                snprintf(e->message, sizeof e->message, "write error on output");
                return CSVAVRO_E_IO;
            }
        } else {
            s = csvavro_file_write(outf, buf, got, e);
            if (s != CSVAVRO_OK) return s;
        }
        off += (int64_t)got;
    }
    return CSVAVRO_OK;
}

static int cat_one(const char *url, int64_t limit, uint8_t *buf) {
    csvavro_error e;
    csvavro_error_clear(&e);
    fsref r;
    csvavro_file *f = NULL;
    int rc = CLI_OK;
    if (open_ref(url, &r, &e) != 0 || csvavro_fs_open_read(r.fs, r.path, &f, &e) != CSVAVRO_OK ||
        copy_out(f, stdout, NULL, limit, buf, &e) != CSVAVRO_OK)
        rc = fail(&e);
    if (f) csvavro_file_close(f, NULL);
    close_ref(&r);
    return rc;
}

static int cmd_cat(const fs_args *a) {
    if (a->n == 0) return cli_usage_error("fs cat", "missing PATH");
    uint8_t *buf = malloc(IOBUF);
    if (!buf) return CLI_FAIL;
    int rc = CLI_OK;
    for (int i = 0; i < a->n; i++)
        if (cat_one(a->ops[i], -1, buf) != CLI_OK) rc = CLI_FAIL;
    fflush(stdout);
    free(buf);
    return rc;
}

static int cmd_head(const fs_args *a) {
    int64_t n = 1024;
    if (a->val[F_C]) {
        char *end;
        long long v = strtoll(a->val[F_C], &end, 10);
        if (*end || v < 0 || !a->val[F_C][0])
            return cli_usage_error("fs head", "bad count %s", a->val[F_C]);
        n = v;
    }
    if (a->n != 1) return cli_usage_error("fs head", "want exactly one PATH");
    uint8_t *buf = malloc(IOBUF);
    if (!buf) return CLI_FAIL;
    int rc = cat_one(a->ops[0], n, buf);
    fflush(stdout);
    free(buf);
    return rc;
}

/* Copies url `from` to url `to` (to = a directory: to/basename). */
static int copy_cmd(const char *name, const fs_args *args) {
    int force = args->flag[F_F], i = 0;
    char **argv = args->ops;
    if (args->n != 2) return cli_usage_error(name, "want SRC and DEST");
    csvavro_error e;
    csvavro_error_clear(&e);
    fsref a, b;
    if (open_ref(argv[i], &a, &e) != 0) return fail(&e);
    if (open_ref(argv[i + 1], &b, &e) != 0) {
        close_ref(&a);
        return fail(&e);
    }
    int rc = CLI_OK;
    csvavro_file *in = NULL, *out = NULL;
    char *dest = NULL;
    uint8_t *buf = malloc(IOBUF);
    csvavro_stat st;
    if (!buf) goto done;
    if (csvavro_fs_stat(b.fs, b.path, &st, NULL) == CSVAVRO_OK && st.is_dir)
        dest = join(b.path, base_name(a.path));
    else
        dest = strdup(b.path);
    if (!dest) goto done;
    if (csvavro_fs_open_read(a.fs, a.path, &in, &e) != CSVAVRO_OK ||
        csvavro_fs_create(b.fs, dest, force, &out, &e) != CSVAVRO_OK) {
        rc = fail(&e);
        goto done;
    }
    if (copy_out(in, NULL, out, -1, buf, &e) != CSVAVRO_OK) {
        csvavro_file_abort(out);
        out = NULL;
        rc = fail(&e);
        goto done;
    }
    csvavro_file *o = out;
    out = NULL;
    if (csvavro_file_close(o, &e) != CSVAVRO_OK) rc = fail(&e);
done:
    if (!buf || !dest) rc = CLI_FAIL;
    if (out) csvavro_file_abort(out);
    if (in) csvavro_file_close(in, NULL);
    free(dest);
    free(buf);
    close_ref(&a);
    close_ref(&b);
    return rc;
}

/* ------------------------------------------------------------------ rm / mkdir / mv */

static int cmd_rm(const fs_args *a) {
    int rec = a->flag[F_R], force = a->flag[F_F], rc = CLI_OK;
    char **argv = a->ops;
    if (a->n == 0) return cli_usage_error("fs rm", "missing PATH");
    for (int i = 0; i < a->n; i++) {
        csvavro_error e;
        csvavro_error_clear(&e);
        fsref r;
        csvavro_stat st;
        if (open_ref(argv[i], &r, &e) != 0) {
            rc = fail(&e);
            continue;
        }
        csvavro_status s = csvavro_fs_stat(r.fs, r.path, &st, &e);
        if (s == CSVAVRO_E_NOT_FOUND && force) {
            close_ref(&r);
            continue;
        }
        if (s == CSVAVRO_OK && st.is_dir && !rec) {
            fprintf(stderr, "csvavro: %s: is a directory (use rm -r)\n", argv[i]);
            rc = CLI_FAIL;
        } else if (s != CSVAVRO_OK || csvavro_fs_remove(r.fs, r.path, rec, &e) != CSVAVRO_OK) {
            rc = fail(&e);
        } else {
            printf("Deleted %s\n", argv[i]);
        }
        close_ref(&r);
    }
    return rc;
}

static int cmd_mkdir(const fs_args *a) {
    int parents = a->flag[F_P], rc = CLI_OK;
    char **argv = a->ops;
    if (a->n == 0) return cli_usage_error("fs mkdir", "missing PATH");
    for (int i = 0; i < a->n; i++) {
        csvavro_error e;
        csvavro_error_clear(&e);
        fsref r;
        if (open_ref(argv[i], &r, &e) != 0 ||
            csvavro_fs_mkdir(r.fs, r.path, parents, &e) != CSVAVRO_OK)
            rc = fail(&e);
        close_ref(&r);
    }
    return rc;
}

static int cmd_mv(const fs_args *args) {
    if (args->n != 2) return cli_usage_error("fs mv", "want SRC and DST");
    csvavro_error e;
    csvavro_error_clear(&e);
    fsref a, b;
    if (open_ref(args->ops[0], &a, &e) != 0) return fail(&e);
    if (open_ref(args->ops[1], &b, &e) != 0) {
        close_ref(&a);
        return fail(&e);
    }
    int rc = CLI_OK;
    if (strcmp(csvavro_fs_scheme(a.fs), csvavro_fs_scheme(b.fs)) != 0) {
        fprintf(stderr, "csvavro: mv across file systems is not supported (use put/get + rm)\n");
        rc = CLI_FAIL;
    } else {
        csvavro_stat st;
        char *dest = NULL;
        if (csvavro_fs_stat(b.fs, b.path, &st, NULL) == CSVAVRO_OK && st.is_dir)
            dest = join(b.path, base_name(a.path));
        else
            dest = strdup(b.path);
        if (!dest || csvavro_fs_rename(a.fs, a.path, dest, 0, &e) != CSVAVRO_OK)
            rc = dest ? fail(&e) : CLI_FAIL;
        free(dest);
    }
    close_ref(&a);
    close_ref(&b);
    return rc;
}

/* ------------------------------------------------------------------ du / df */

static int cmd_du(const fs_args *a) {
    int summary = a->flag[F_S], rc = CLI_OK;
    char **argv = a->ops;
    if (a->n == 0) return cli_usage_error("fs du", "missing PATH");
    for (int i = 0; i < a->n; i++) {
        csvavro_error e;
        csvavro_error_clear(&e);
        fsref r;
        csvavro_stat st;
        if (open_ref(argv[i], &r, &e) != 0 ||
            csvavro_fs_stat(r.fs, r.path, &st, &e) != CSVAVRO_OK) {
            rc = fail(&e);
            close_ref(&r);
            continue;
        }
        int64_t len, files, dirs;
        if (summary || !st.is_dir) {
            if (csvavro_fs_content_summary(r.fs, r.path, &len, &files, &dirs, &e) != CSVAVRO_OK)
                rc = fail(&e);
            else
                printf("%-10" PRId64 "  %s\n", len, argv[i]);
        } else {
            csvavro_dirent *list;
            size_t n;
            if (csvavro_fs_list(r.fs, r.path, &list, &n, &e) != CSVAVRO_OK) {
                rc = fail(&e);
            } else {
                for (size_t k = 0; k < n; k++) {
                    char *child = join(r.path, list[k].name), *shown = join(argv[i], list[k].name);
                    if (!child || !shown) {
                        free(child);
                        free(shown);
                        rc = CLI_FAIL;
                        break;
                    }
                    len = list[k].st.size;
                    if (list[k].st.is_dir && csvavro_fs_content_summary(r.fs, child, &len, &files,
                                                                        &dirs, &e) != CSVAVRO_OK)
                        rc = fail(&e);
                    else
                        printf("%-10" PRId64 "  %s\n", len, shown);
                    free(child);
                    free(shown);
                }
                csvavro_fs_free_list(list, n);
            }
        }
        close_ref(&r);
    }
    return rc;
}

static int cmd_df(const fs_args *a) {
    if (a->n > 1) return cli_usage_error("fs df", "want at most one PATH");
    const char *url = a->n ? a->ops[0] : "hdfs:///";
    csvavro_error e;
    csvavro_error_clear(&e);
    fsref r;
    int64_t cap, used, rem;
    int rc = CLI_OK;
    if (open_ref(url, &r, &e) != 0 ||
        csvavro_fs_space(r.fs, r.path, &cap, &used, &rem, &e) != CSVAVRO_OK) {
        rc = fail(&e);
    } else {
        char *u = csvavro_fs_url(r.fs, "/");
        printf("%-30s %15s %15s %15s %5s\n", "Filesystem", "Size", "Used", "Available", "Use%");
        printf("%-30s %15" PRId64 " %15" PRId64 " %15" PRId64 " %4d%%\n", u ? u : url, cap, used,
               rem, cap > 0 ? (int)(used * 100 / cap) : 0);
        csvavro_free(u);
    }
    close_ref(&r);
    return rc;
}

/* ------------------------------------------------------------------ token */

/* fs token get|renew|cancel|print FILE [URL]: HDFS delegation tokens in a Hadoop token storage
 * file (csvavro.h: csvavro_hdfs_token_*). */
static int cmd_token(const fs_args *a) {
    if (a->n < 2) return cli_usage_error("fs token", "want get|renew|cancel|print FILE");
    const char *act = a->ops[0], *file = a->ops[1];
    int get = !strcmp(act, "get");
    if (!get && a->n > 2)
        return cli_usage_error("fs token", "too many operands (only get takes a URL)");
    if (get && a->n > 3) return cli_usage_error("fs token", "too many operands");
    if (!get && a->flag[F_RENEWER])
        return cli_usage_error("fs token", "--renewer goes with get only");
    csvavro_error e;
    csvavro_error_clear(&e);
    if (get) {
        const char *url = a->n > 2 ? a->ops[2] : "hdfs:///";
        if (csvavro_hdfs_token_fetch(url, a->val[F_RENEWER], file, &e) != CSVAVRO_OK)
            return fail(&e);
        char *t = NULL;
        if (csvavro_hdfs_token_describe(file, &t, &e) != CSVAVRO_OK) return fail(&e);
        printf("Fetched token into %s\n%s", file, t);
        csvavro_free(t);
        return CLI_OK;
    }
    if (!strcmp(act, "renew")) {
        int64_t exp = 0;
        if (csvavro_hdfs_token_renew(file, &exp, &e) != CSVAVRO_OK) return fail(&e);
        char ts[40];
        time_t t = (time_t)(exp / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("Renewed the tokens in %s until %" PRId64 " (%s)\n", file, exp, ts);
        return CLI_OK;
    }
    if (!strcmp(act, "cancel")) {
        if (csvavro_hdfs_token_cancel(file, &e) != CSVAVRO_OK) return fail(&e);
        printf("Cancelled the tokens in %s\n", file);
        return CLI_OK;
    }
    if (!strcmp(act, "print")) {
        char *t = NULL;
        if (csvavro_hdfs_token_describe(file, &t, &e) != CSVAVRO_OK) return fail(&e);
        fputs(t, stdout);
        csvavro_free(t);
        return CLI_OK;
    }
    return cli_usage_error("fs token", "unknown action (want get, renew, cancel or print)");
}

/* ------------------------------------------------------------------ commands */

static int cmd_put(const fs_args *a) {
    return copy_cmd("fs put", a);
}

static int cmd_get(const fs_args *a) {
    return copy_cmd("fs get", a);
}

static const opt_spec ls_table[] = {
    {F_L, "-l", NULL, "long listing: mode, replication, owner, group, size, mtime", NULL},
    OPT_END,
};
static const opt_spec head_table[] = {
    {F_C, "-c", "N", "number of bytes (default 1024)", NULL},
    OPT_END,
};
static const opt_spec force_table[] = {
    {F_F, "-f", NULL, "overwrite an existing destination", NULL},
    OPT_END,
};
static const opt_spec rm_table[] = {
    {F_R, "-r, -R", NULL, "remove directories and their contents", NULL},
    {F_F, "-f", NULL, "no error for a missing PATH", NULL},
    OPT_END,
};
static const opt_spec mkdir_table[] = {
    {F_P, "-p", NULL, "create parents; no error if the directory exists", NULL},
    OPT_END,
};
static const opt_spec token_table[] = {
    {F_RENEWER, "--renewer", "USER",
     "get: who may renew the token (a user's short name; default: the caller)", NULL},
    OPT_END,
};
static const opt_spec du_table[] = {
    {F_S, "-s", NULL, "one total per PATH instead of one line per entry", NULL},
    OPT_END,
};

#define TABLES(t) ((const opt_spec *const[]){t, NULL})

static const opt_cmd fs_ls = {
    .prog = "csvavro fs ls",
    .synopsis = "[-l] PATH...",
    .summary = "list a directory (or show a file)",
    .man = "One name per line (PATH/name). With -l: \"Found N items\", then one line per entry "
           "as hdfs dfs -ls prints it:\n"
           "  drwxr-xr-x   - owner group          0 2026-01-31 12:00 /dir/name\n"
           "(mode, replication or - for a directory, owner, group, size, modification time).",
    .tables = TABLES(ls_table),
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_stat = {
    .prog = "csvavro fs stat",
    .synopsis = "PATH...",
    .summary = "type size replication blocksize owner group mtime name",
    .man = "The fields of hdfs dfs -stat \"%F %b %r %o %u %g %y %n\": type (directory, regular "
           "file, regular empty file), size, replication, block size, owner, group, modification "
           "time, base name.",
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_cat = {
    .prog = "csvavro fs cat",
    .synopsis = "PATH...",
    .summary = "write files to stdout",
    .man = "Streams through one reused 4 MiB buffer (on HDFS, large sequential reads served by "
           "one DataNode connection per block).",
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_head = {
    .prog = "csvavro fs head",
    .synopsis = "[-c N] PATH",
    .summary = "the first N bytes of a file",
    .tables = TABLES(head_table),
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_put = {
    .prog = "csvavro fs put",
    .synopsis = "[-f] LOCAL DEST",
    .summary = "copy a local file to DEST (into DEST/ if a directory)",
    .man = "Into an existing directory DEST the file keeps its base name. An existing file is "
           "refused without -f. Any two paths work (local or hdfs://, either side).",
    .tables = TABLES(force_table),
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_get = {
    .prog = "csvavro fs get",
    .synopsis = "[-f] SRC LOCAL",
    .summary = "copy SRC to a local file (into LOCAL/ if a directory)",
    .man = "The mirror of put: into an existing directory the file keeps its base name; an "
           "existing file is refused without -f.",
    .tables = TABLES(force_table),
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_rm = {
    .prog = "csvavro fs rm",
    .synopsis = "[-r] [-f] PATH...",
    .summary = "remove files and directories",
    .man = "Prints \"Deleted PATH\" per path. A directory needs -r.",
    .tables = TABLES(rm_table),
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_mkdir = {
    .prog = "csvavro fs mkdir",
    .synopsis = "[-p] PATH...",
    .summary = "create directories",
    .tables = TABLES(mkdir_table),
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_mv = {
    .prog = "csvavro fs mv",
    .synopsis = "SRC DST",
    .summary = "rename within one file system",
    .man = "Into DST/basename when DST is a directory. Across file systems use put or get, "
           "then rm.",
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_du = {
    .prog = "csvavro fs du",
    .synopsis = "[-s] PATH...",
    .summary = "bytes used per entry",
    .man = "\"SIZE  PATH\" per child of a directory (a directory's size is its content summary), "
           "or for the path itself with -s (from getContentSummary on HDFS).",
    .tables = TABLES(du_table),
    .flags = OPT_OPERANDS_END,
};
static const opt_cmd fs_df = {
    .prog = "csvavro fs df",
    .synopsis = "[PATH]",
    .summary = "capacity, used, available (default hdfs:///)",
    .man = "Prints \"Filesystem  Size  Used  Available  Use%\" and one line for the file system "
           "of PATH.",
    .flags = OPT_OPERANDS_END,
};

static const opt_cmd fs_token = {
    .prog = "csvavro fs token",
    .synopsis = "get|renew|cancel|print FILE [URL] [--renewer USER]",
    .summary = "HDFS delegation tokens in a Hadoop token file",
    .man = "get FILE [URL]: asks the NameNode of URL (default hdfs:///) for a delegation token "
           "and writes it to FILE (Hadoop's token storage format, mode 0600), then prints it; "
           "needs a Kerberos ticket or keytab. renew FILE: renews every HDFS token in FILE (only "
           "the token's renewer may) and prints the new expiry. cancel FILE: cancels them (the "
           "owner or the renewer). print FILE: one line per token: kind, service, owner, "
           "renewer, issue and maximum dates, sequence number and key id.\n\n"
           "A program whose HADOOP_TOKEN_FILE_LOCATION names such a file authenticates to the "
           "NameNode of the token's service with it (SASL DIGEST-MD5) instead of Kerberos, so it "
           "needs no ticket.",
    .tables = TABLES(token_table),
};

static const struct {
    const opt_cmd *cmd;
    int (*fn)(const fs_args *);
} ops[] = {
    {&fs_ls, cmd_ls},   {&fs_stat, cmd_stat}, {&fs_cat, cmd_cat}, {&fs_head, cmd_head},
    {&fs_put, cmd_put}, {&fs_get, cmd_get},   {&fs_rm, cmd_rm},   {&fs_mkdir, cmd_mkdir},
    {&fs_mv, cmd_mv},   {&fs_du, cmd_du},     {&fs_df, cmd_df},   {&fs_token, cmd_token},
};

static const opt_cmd *const fs_subs[] = {&fs_ls,  &fs_stat,  &fs_cat,   &fs_head, &fs_put,
                                         &fs_get, &fs_rm,    &fs_mkdir, &fs_mv,   &fs_du,
                                         &fs_df,  &fs_token, NULL};

const opt_cmd cli_fs_cmd = {
    .prog = "csvavro fs",
    .synopsis = "COMMAND [options] PATH...",
    .summary = "file operations on local paths and hdfs:// (ls, cat, put, get, ...)",
    .help = "File operations on local paths and hdfs://host:port/path URLs, with output shaped\n"
            "like `hdfs dfs`. Options come before the operands.\n"
            "HDFS: HADOOP_NAMENODE, HADOOP_CONF_DIR, HADOOP_USER_NAME, CSVAVRO_HDFS_* (man page).",
    .man = "Exit status 0, 1 (runtime error, also when one of several PATHs failed) or 2 (usage). "
           "See HDFS for addresses and configuration, and EXAMPLES.",
    .subs = fs_subs,
};

int cli_cmd_fs(int argc, char **argv) {
    if (argc < 2) {
        opt_help(&cli_fs_cmd, stderr);
        return CLI_USAGE;
    }
    if (argv[1][0] == '-') {
        opt_parser p;
        opt_init(&p, &cli_fs_cmd, 2, argv);
        const char *val;
        return opt_next(&p, &val) == OPT_HELP ? CLI_OK : CLI_USAGE;
    }
    const char *op = argv[1];
    argc--, argv++;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        if (strcmp(op, ops[k].cmd->prog + strlen("csvavro fs ")) != 0) continue;
        fs_args a = {.ops = calloc((size_t)argc + 1, sizeof(char *))};
        if (!a.ops) return CLI_FAIL;
        opt_parser p;
        opt_init(&p, ops[k].cmd, argc, argv);
        const char *val;
        int id, rc = -1;
        while (rc < 0 && (id = opt_next(&p, &val)) != OPT_DONE) {
            if (id == OPT_OPERAND)
                a.ops[a.n++] = (char *)val;
            else if (id > 0) {
                a.flag[id] = 1;
                a.val[id] = val;
            } else
                rc = id == OPT_HELP ? CLI_OK : CLI_USAGE;
        }
        if (rc < 0) rc = ops[k].fn(&a);
        free(a.ops);
        return rc;
    }
    fprintf(stderr, "csvavro fs: unknown command '%s'\n", op);
    opt_help(&cli_fs_cmd, stderr);
    return CLI_USAGE;
}
