/*
 * test_parts.c — the public "job in parts" API (csvavro_job_begin / _open_plan / _run_split /
 * _add_result / _finish) and column-wise Avro reading (csvavro_avro_reader_select /
 * _next_columns), through the public header only, as the Python package uses them.
 *
 * A CSV full of quoted line breaks is converted with tiny splits once by csvavro_job_execute
 * and once in parts (splits run in reverse order by separate worker jobs, one split left for
 * finish to run): the files must be byte-identical (seed). Then: a worker with other options
 * is refused; a begun job freed unfinished leaves no temporary directory; a worker cannot run a
 * split once the driver gave up. The column reader gives back the generated values (numbers,
 * strings with line breaks, nulls) and fails cleanly on corrupt data; decimal columns (bytes
 * and fixed) come back as the unscaled integers' two's complement bytes. A split run twice at
 * the same time (dask re-running the task of a worker it wrongly declared dead) never shows a
 * half-written split file: each run writes a name of its own and renames it into place.
 * Partitioned jobs in parts: the driver commits the part files of the runs it was given, and
 * two appends into one dataset never replace each other's files.
 */
#include "check.h"

#include <csvavro.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 300

static char dir[256];

static char *p(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

/* Row k: k, a string (null every 5th, a quoted line break every 3rd), a double. */
static void gen(const char *path) {
    FILE *f = fopen(path, "wb");
    fputs("k,s,x\n", f);
    for (int k = 0; k < ROWS; k++) {
        if (k % 5 == 0)
            fprintf(f, "%d,,%d.5\n", k, k);
        else if (k % 3 == 0)
            fprintf(f, "%d,\"line %d\nnext, \"\"q\"\"\",%d.5\r\n", k, k, k);
        else
            fprintf(f, "%d,s%d,%d.5\n", k, k, k);
    }
    fclose(f);
}

static int count_tmp(const char *d) {
    DIR *dd = opendir(d);
    int n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)))
        n += strncmp(e->d_name, ".csvavro-tmp-", 13) == 0;
    if (dd) closedir(dd);
    return n;
}

static void options(csvavro_job_options *o, const char **in, const char *out) {
    csvavro_job_options_init(o);
    o->inputs = in;
    o->n_inputs = 1;
    o->output = out;
    o->split_size = 61; /* boundaries inside quoted fields: some speculative starts are wrong */
    o->threads = 2;
    o->avro.has_seed = 1;
    o->avro.seed = 9;
    o->where = "k >= 0";
}

static char in_path[512];

static void test_parts(void) {
    snprintf(in_path, sizeof in_path, "%s", p("in.csv"));
    const char *in[] = {in_path};
    gen(in[0]);
    csvavro_job_options o;
    csvavro_error err;
    options(&o, in, p("a/t.*.avro"));
    csvavro_job_stats sa, sb;
    CHECK_INT(csvavro_job_run(&o, &sa, &err), CSVAVRO_OK);

    options(&o, in, p("b/t.*.avro"));
    csvavro_job *drv = NULL;
    CHECK_INT(csvavro_job_create(&o, &drv, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_job_plan(drv, &err), CSVAVRO_OK);
    void *plan = NULL;
    size_t plan_len = 0;
    CHECK_INT(csvavro_job_begin(drv, &plan, &plan_len, &err), CSVAVRO_OK);
    CHECK_INT(count_tmp(p("b")), 1);
    size_t n = csvavro_job_split_count(drv);
    CHECK(n > 10);
    for (size_t i = n; i-- > 1;) { /* split 0 is left for finish */
        csvavro_job *w = NULL;
        csvavro_job_options wo = o;
        wo.threads = 1;
        CHECK_INT(csvavro_job_open_plan(&wo, plan, plan_len, &w, &err), CSVAVRO_OK);
        void *res = NULL;
        size_t len = 0;
        CHECK_INT(csvavro_job_run_split(w, i, &res, &len, &err), CSVAVRO_OK);
        csvavro_job_free(w);
        CHECK_INT(csvavro_job_add_result(drv, res, len, &err), CSVAVRO_OK);
        free(res);
    }
    /* a worker whose options differ is refused */
    csvavro_job_options bad = o;
    bad.where = "k > 1";
    csvavro_job *w = NULL;
    CHECK_INT(csvavro_job_open_plan(&bad, plan, plan_len, &w, &err), CSVAVRO_E_USAGE);
    CHECK(w == NULL);
    CHECK_INT(csvavro_job_add_result(drv, "{]", 2, &err), CSVAVRO_E_USAGE);
    CHECK_INT(csvavro_job_finish(drv, &sb, &err), CSVAVRO_OK);
    CHECK_INT(sb.rows_kept, ROWS);
    CHECK_INT(sb.rows_kept, sa.rows_kept);
    CHECK_INT(sb.files_written, sa.files_written);
    CHECK_INT(sb.splits_rerun, sa.splits_rerun);
    CHECK(sb.splits_rerun > 0);
    csvavro_job_free(drv);
    free(plan);
    CHECK_INT(count_tmp(p("b")), 0);
    for (size_t i = 0; i < n; i++) {
        char na[64], nb[64];
        snprintf(na, sizeof na, "a/t.%zu.avro", i);
        snprintf(nb, sizeof nb, "b/t.%zu.avro", i);
        size_t la = 0, lb = 0;
        char *ba = slurp(p(na), &la), *bb = slurp(p(nb), &lb);
        CHECK(ba && bb);
        if (ba && bb) CHECK_MEM(ba, la, bb, lb);
        free(ba);
        free(bb);
    }

    /* a begun job freed unfinished removes its temporary directory; its workers then fail */
    options(&o, in, p("c/t.*.avro"));
    CHECK_INT(csvavro_job_create(&o, &drv, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_job_plan(drv, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_job_begin(drv, &plan, &plan_len, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_job_open_plan(&o, plan, plan_len, &w, &err), CSVAVRO_OK);
    CHECK_INT(count_tmp(p("c")), 1);
    if (!w) {
        csvavro_job_free(drv);
        free(plan);
        return;
    }
    csvavro_job_free(drv);
    CHECK_INT(count_tmp(p("c")), 0);
    void *res = NULL;
    size_t len = 0;
    CHECK_INT(csvavro_job_run_split(w, 1, &res, &len, &err), CSVAVRO_E_NOT_FOUND);
    CHECK(res == NULL);
    CHECK_INT(count_tmp(p("c")), 0);
    csvavro_job_free(w);
    free(plan);
}

/* ------------------------------------------------------------ a split run twice at once */

typedef struct rerun_arg {
    const csvavro_job_options *o;
    const void *plan;
    size_t plan_len, split;
    void *res;
    size_t len;
    csvavro_status st;
} rerun_arg;

static void *rerun_main(void *arg) {
    rerun_arg *a = arg;
    csvavro_job *w = NULL;
    csvavro_error err;
    a->st = csvavro_job_open_plan(a->o, a->plan, a->plan_len, &w, &err);
    if (a->st == CSVAVRO_OK) a->st = csvavro_job_run_split(w, a->split, &a->res, &a->len, &err);
    csvavro_job_free(w);
    return NULL;
}

typedef struct watch_arg {
    const char *path;
    const char *want;
    size_t want_len;
    atomic_int stop;
    int seen, bad;
} watch_arg;

/* Reads the split file over and over while the runs write: it is absent or complete. */
static void *watch_main(void *arg) {
    watch_arg *a = arg;
    while (!atomic_load(&a->stop)) {
        size_t n = 0;
        char *b = slurp(a->path, &n);
        if (!b) continue;
        a->seen++;
        if (n != a->want_len || memcmp(b, a->want, n) != 0) a->bad++;
        free(b);
    }
    return NULL;
}

/* The job's temporary directory inside d (the first .csvavro-tmp-*). */
static int tmp_dir_of(const char *d, char *out, size_t cap) {
    DIR *dd = opendir(d);
    struct dirent *e;
    int found = 0;
    while (dd && !found && (e = readdir(dd)))
        if (strncmp(e->d_name, ".csvavro-tmp-", 13) == 0)
            found = snprintf(out, cap, "%s/%s", d, e->d_name) > 0;
    if (dd) closedir(dd);
    return found;
}

static int count_prefix(const char *d, const char *prefix) {
    DIR *dd = opendir(d);
    int n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (dd) closedir(dd);
    return n;
}

static void test_rerun(void) {
    const char *in[] = {in_path};
    csvavro_job_options o;
    csvavro_error err;
    options(&o, in, p("d/t.*.avro"));
    o.split_size = 1 << 20; /* one split: the whole input */
    o.threads = 1;
    csvavro_job *drv = NULL;
    void *plan = NULL;
    size_t plan_len = 0;
    CHECK_INT(csvavro_job_create(&o, &drv, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_job_plan(drv, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_job_begin(drv, &plan, &plan_len, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_job_split_count(drv), 1);
    char tmp[600], split[700];
    CHECK(tmp_dir_of(p("d"), tmp, sizeof tmp));
    snprintf(split, sizeof split, "%s/split.0.avro", tmp);
    /* one run alone: the complete file every later run must leave */
    rerun_arg a0 = {.o = &o, .plan = plan, .plan_len = plan_len, .split = 0};
    rerun_main(&a0);
    CHECK_INT(a0.st, CSVAVRO_OK);
    watch_arg wa = {.path = split};
    wa.want = slurp(split, &wa.want_len);
    CHECK(wa.want && wa.want_len > 1000);
    atomic_init(&wa.stop, 0);
    pthread_t wt;
    CHECK_INT(pthread_create(&wt, NULL, watch_main, &wa), 0);
    for (int it = 0; it < 15; it++) {
        rerun_arg a[2] = {{.o = &o, .plan = plan, .plan_len = plan_len, .split = 0},
                          {.o = &o, .plan = plan, .plan_len = plan_len, .split = 0}};
        pthread_t t[2];
        for (int k = 0; k < 2; k++)
            CHECK_INT(pthread_create(&t[k], NULL, rerun_main, &a[k]), 0);
        for (int k = 0; k < 2; k++) {
            pthread_join(t[k], NULL);
            CHECK_INT(a[k].st, CSVAVRO_OK);
            if (it == 14 && k == 1 && a[k].res)
                CHECK_INT(csvavro_job_add_result(drv, a[k].res, a[k].len, &err), CSVAVRO_OK);
            free(a[k].res);
        }
    }
    atomic_store(&wa.stop, 1);
    pthread_join(wt, NULL);
    CHECK(wa.seen > 0);
    CHECK_INT(wa.bad, 0);
    CHECK_INT(count_prefix(tmp, ".run-"), 0); /* no file of a run is left behind */
    csvavro_job_stats st;
    CHECK_INT(csvavro_job_finish(drv, &st, &err), CSVAVRO_OK);
    CHECK_INT(st.rows_kept, ROWS);
    size_t n = 0;
    char *b = slurp(p("d/t.0.avro"), &n);
    CHECK(b != NULL);
    if (b && wa.want) CHECK_MEM(b, n, wa.want, wa.want_len);
    free(b);
    free(a0.res);
    free((void *)wa.want);
    csvavro_job_free(drv);
    free(plan);
}

static void test_columns(void) {
    csvavro_job_options o;
    csvavro_error err;
    const char *in[] = {in_path};
    csvavro_job_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output = p("one.avro");
    o.avro.block_size = 512; /* several blocks */
    CHECK_INT(csvavro_job_run(&o, NULL, &err), CSVAVRO_OK);
    csvavro_fs *fs;
    char *path;
    CHECK_INT(csvavro_fs_open_url(p("one.avro"), &fs, &path, &err), CSVAVRO_OK);
    csvavro_avro_reader *r;
    CHECK_INT(csvavro_avro_reader_open(fs, path, &r, &err), CSVAVRO_OK);
    const char *sel[] = {"s", "k"};
    CHECK_INT(csvavro_avro_reader_select(r, (const char *const[]){"nope"}, 1, &err),
              CSVAVRO_E_SCHEMA);
    CHECK_INT(csvavro_avro_reader_select(r, sel, 2, &err), CSVAVRO_OK);
    int row = 0, blocks = 0, bad = 0;
    for (;;) {
        const csvavro_column *c;
        size_t nc, nr;
        if (csvavro_avro_reader_next_columns(r, &c, &nc, &nr, &err) != CSVAVRO_OK) {
            bad++;
            break;
        }
        if (nr == 0) break;
        blocks++;
        CHECK_INT(nc, 2);
        CHECK_STR(c[0].name, "s");
        CHECK_INT(c[1].type, CSVAVRO_TYPE_LONG);
        for (size_t i = 0; i < nr; i++, row++) {
            char want[64];
            if (row % 5 == 0)
                want[0] = '\0';
            else if (row % 3 == 0)
                snprintf(want, sizeof want, "line %d\nnext, \"q\"", row);
            else
                snprintf(want, sizeof want, "s%d", row);
            bad += ((const int64_t *)c[1].values)[i] != row;
            bad += (c[0].valid[i] != 0) != (row % 5 != 0);
            size_t l = (size_t)(c[0].offsets[i + 1] - c[0].offsets[i]);
            bad += l != strlen(want) || memcmp(c[0].data + c[0].offsets[i], want, l) != 0;
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(row, ROWS);
    CHECK(blocks > 1);
    csvavro_avro_reader_close(r);

    /* corrupt data: a clean CSVAVRO_E_CORRUPT, never a crash */
    size_t len = 0;
    char *b = slurp(path, &len);
    for (size_t i = len / 3; i < len / 3 + 64 && i < len; i++)
        b[i] = (char)0xff;
    FILE *f = fopen(p("bad.avro"), "wb");
    fwrite(b, 1, len, f);
    fclose(f);
    free(b);
    free(path);
    CHECK_INT(csvavro_avro_reader_open(fs, p("bad.avro"), &r, &err), CSVAVRO_OK);
    csvavro_status st = CSVAVRO_OK;
    for (;;) {
        const csvavro_column *c;
        size_t nc, nr;
        st = csvavro_avro_reader_next_columns(r, &c, &nc, &nr, &err);
        if (st != CSVAVRO_OK || nr == 0) break;
    }
    CHECK_INT(st, CSVAVRO_E_CORRUPT);
    CHECK(err.offset > 0);
    csvavro_avro_reader_close(r);
    csvavro_fs_close(fs);
}

/* The signed big-endian two's complement integer of b[0..n) (n <= 8 here). */
static int64_t twos(const char *b, size_t n) {
    uint64_t v = n && (b[0] & 0x80) ? UINT64_MAX : 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | (uint8_t)b[i];
    return (int64_t)v;
}

static void test_decimal_columns(void) {
    FILE *f = fopen(p("dec.csv"), "wb");
    fputs("a,b\n1.50,-2.5\n-0.01,\n0,12.7\n,-0.1\n", f);
    fclose(f);
    const char *in[] = {p("dec.csv")};
    csvavro_job_options o;
    csvavro_error err;
    csvavro_job_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output = p("dec.avro");
    o.schema_json = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                    "{\"name\":\"a\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":"
                    "\"decimal\",\"precision\":10,\"scale\":2}]},"
                    "{\"name\":\"b\",\"type\":[{\"type\":\"fixed\",\"name\":\"F\",\"size\":4,"
                    "\"logicalType\":\"decimal\",\"precision\":9,\"scale\":1},\"null\"]}]}";
    CHECK_INT(csvavro_job_run(&o, NULL, &err), CSVAVRO_OK);
    csvavro_fs *fs;
    char *path;
    CHECK_INT(csvavro_fs_open_url(p("dec.avro"), &fs, &path, &err), CSVAVRO_OK);
    csvavro_avro_reader *r;
    CHECK_INT(csvavro_avro_reader_open(fs, path, &r, &err), CSVAVRO_OK);
    const csvavro_column *c;
    size_t nc = 0, nr = 0;
    CHECK_INT(csvavro_avro_reader_next_columns(r, &c, &nc, &nr, &err), CSVAVRO_OK);
    CHECK_INT(nc, 2);
    CHECK_INT(nr, 4);
    if (nc == 2 && nr == 4) {
        static const int64_t a[] = {150, -1, 0, 0}, b[] = {-25, 0, 127, -1};
        static const uint8_t va[] = {1, 1, 1, 0}, vb[] = {1, 0, 1, 1};
        CHECK_INT(c[0].type, CSVAVRO_TYPE_DECIMAL);
        CHECK_INT(c[1].type, CSVAVRO_TYPE_DECIMAL_FIXED);
        CHECK(c[0].values == NULL && c[1].values == NULL);
        for (size_t i = 0; i < 4; i++) {
            size_t la = (size_t)(c[0].offsets[i + 1] - c[0].offsets[i]);
            size_t lb = (size_t)(c[1].offsets[i + 1] - c[1].offsets[i]);
            CHECK_INT(c[0].valid[i], va[i]);
            CHECK_INT(c[1].valid[i], vb[i]);
            if (va[i]) CHECK_INT(twos(c[0].data + c[0].offsets[i], la), a[i]);
            CHECK_INT(lb, vb[i] ? 4 : 0);
            if (vb[i]) CHECK_INT(twos(c[1].data + c[1].offsets[i], lb), b[i]);
        }
    }
    CHECK_INT(csvavro_avro_reader_next_columns(r, &c, &nc, &nr, &err), CSVAVRO_OK);
    CHECK_INT(nr, 0);
    csvavro_avro_reader_close(r);
    free(path);
    csvavro_fs_close(fs);
}

/* ------------------------------------------------------------ partitioned, in parts */

#define PROWS 400
#define PVALS 7

/* The *.avro files under d (recursively, not in '.' or '_' entries): their paths into out. */
static void walk(const char *d, char (*out)[512], size_t *n, size_t cap) {
    DIR *dd = opendir(d);
    struct dirent *e;
    while (dd && (e = readdir(dd))) {
        if (e->d_name[0] == '.' || e->d_name[0] == '_') continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", d, e->d_name);
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".avro")) {
            if (*n < cap) snprintf(out[(*n)++], 512, "%s", sub);
        } else {
            walk(sub, out, n, cap);
        }
    }
    if (dd) closedir(dd);
}

/* One partitioned job run in parts: every split by a worker of its own (split 1 twice, the
 * second result replacing the first), the driver finishes. */
static void partitioned_in_parts(const char *in, const char *out) {
    const char *in_l[] = {in};
    const char *by[] = {"p"};
    csvavro_job_options o;
    csvavro_error err;
    csvavro_job_options_init(&o);
    o.inputs = in_l;
    o.n_inputs = 1;
    o.output = out;
    o.split_size = 700;
    o.partition_by = by;
    o.n_partition_by = 1;
    o.partition_buffer = 1024; /* several part files per partition and split */
    o.mode = CSVAVRO_MODE_APPEND;
    csvavro_job *drv = NULL;
    CHECK_INT(csvavro_job_create(&o, &drv, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_job_plan(drv, &err), CSVAVRO_OK);
    void *plan = NULL;
    size_t plan_len = 0;
    CHECK_INT(csvavro_job_begin(drv, &plan, &plan_len, &err), CSVAVRO_OK);
    size_t n = csvavro_job_split_count(drv);
    CHECK(n > 3);
    for (size_t i = 0; i < n + 1; i++) {
        size_t si = i == n ? 1 : i;
        csvavro_job *w = NULL;
        CHECK_INT(csvavro_job_open_plan(&o, plan, plan_len, &w, &err), CSVAVRO_OK);
        void *res = NULL;
        size_t len = 0;
        CHECK_INT(csvavro_job_run_split(w, si, &res, &len, &err), CSVAVRO_OK);
        csvavro_job_free(w);
        CHECK_INT(csvavro_job_add_result(drv, res, len, &err), CSVAVRO_OK);
        free(res);
    }
    csvavro_job_stats st;
    CHECK_INT(csvavro_job_finish(drv, &st, &err), CSVAVRO_OK);
    CHECK_INT(st.rows_kept, PROWS);
    csvavro_job_free(drv);
    free(plan);
}

/* --partition-by through the parts API (the library/Python path): the driver learns each
 * split's part files from the run that it was given, and two appends into one dataset give
 * names unique to each job, so neither replaces the other's files. Checked against the
 * generated rows' own grouping. */
static void test_partitioned_parts(void) {
    FILE *f = fopen(p("pin.csv"), "wb");
    fputs("k,p,x\n", f);
    int want[PVALS] = {0};
    for (int k = 0; k < PROWS; k++) {
        int v = (k * 7 + k / 3) % PVALS;
        want[v]++;
        fprintf(f, "%d,v%d,%d.25\n", k, v, k);
    }
    fclose(f);
    partitioned_in_parts(p("pin.csv"), p("pd/"));
    partitioned_in_parts(p("pin.csv"), p("pd/"));
    CHECK_INT(count_tmp(p("pd")), 0);
    static char disk[4096][512];
    size_t nd = 0;
    walk(p("pd"), disk, &nd, 4096);
    csvavro_fs *fs = NULL;
    char *path = NULL, **files = NULL;
    size_t nf = 0;
    csvavro_error err;
    CHECK_INT(csvavro_fs_open_url(p("pd"), &fs, &path, &err), CSVAVRO_OK);
    CHECK_INT(csvavro_dataset_files(fs, path, &files, &nf, &err), CSVAVRO_OK);
    CHECK(nf > 2 * PVALS);
    CHECK_INT(nf, nd); /* every file on disk is listed (none replaced by the second job) */
    int got[PVALS] = {0}, dup = 0, unknown = 0;
    for (size_t i = 0; i < nf; i++) {
        for (size_t k = 0; k < i; k++)
            dup += !strcmp(files[i], files[k]);
        const char *pv = strstr(files[i], "/p=v");
        int v = pv ? pv[4] - '0' : -1;
        if (v < 0 || v >= PVALS) {
            unknown++;
            continue;
        }
        csvavro_avro_reader *r = NULL;
        uint64_t c = 0;
        CHECK_INT(csvavro_avro_reader_open(fs, files[i], &r, &err), CSVAVRO_OK);
        if (r) CHECK_INT(csvavro_avro_reader_count(r, &c, &err), CSVAVRO_OK);
        csvavro_avro_reader_close(r);
        got[v] += (int)c;
    }
    CHECK_INT(dup, 0);
    CHECK_INT(unknown, 0);
    for (int v = 0; v < PVALS; v++)
        CHECK_INT(got[v], 2 * want[v]);
    csvavro_dataset_files_free(files, nf);
    free(path);
    csvavro_fs_close(fs);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/csvavro-test-parts-%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0) return 1;
    test_parts();
    test_rerun();
    test_columns();
    test_decimal_columns();
    test_partitioned_parts();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return CHECK_DONE();
}
