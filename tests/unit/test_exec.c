/*
 * test_exec.c — unit tests of the job module: option defaults and validation, planning (split
 * cutting, output naming and matching, destination refusal), the CRC-64-AVRO fingerprint, the
 * public staged API with the progress callback and cancellation, and exactness of speculative
 * splits against a single-split run on a CSV full of quoted line breaks (read back with the
 * public Avro reader).
 */
#include "check.h"
#include "exec/exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static char *p(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* All records of an Avro file as JSON lines (allocated). */
static char *read_all(const char *path, uint64_t *n) {
    csvavro_fs *fs;
    char *bp;
    csvavro_error err;
    *n = 0;
    if (csvavro_fs_open_url(path, &fs, &bp, &err) != CSVAVRO_OK) return NULL;
    csvavro_avro_reader *r;
    cav_buf out;
    cav_buf_init(&out, 0);
    if (csvavro_avro_reader_open(fs, bp, &r, &err) == CSVAVRO_OK) {
        const char *line;
        size_t len;
        while (csvavro_avro_reader_next_json(r, &line, &len, &err) == CSVAVRO_OK && line) {
            cav_buf_append(&out, line, len, NULL);
            cav_buf_append(&out, "\n", 1, NULL);
            (*n)++;
        }
        csvavro_avro_reader_close(r);
    }
    cav_buf_append(&out, "", 1, NULL);
    free(bp);
    csvavro_fs_close(fs);
    char *s = cav_strdup((char *)out.data);
    cav_buf_free(&out);
    return s;
}

static void test_defaults(void) {
    csvavro_job_options o;
    csvavro_job_options_init(&o);
    CHECK_INT(o.split_size, 64ull << 20);
    CHECK_INT(o.threads, 0);
    CHECK(o.limit == UINT64_MAX);
    CHECK_INT(o.batch_rows, 16384);
    CHECK_INT(o.csv.delimiter, ',');
    csvavro_job *j = NULL;
    csvavro_error err;
    CHECK_INT(csvavro_job_create(&o, &j, &err), CSVAVRO_E_USAGE); /* no inputs */
    const char *in[] = {"x.csv"};
    o.inputs = in;
    o.n_inputs = 1;
    CHECK_INT(csvavro_job_create(&o, &j, &err), CSVAVRO_E_USAGE); /* no output */
    o.output = "y.avro";
    o.split_size = 0;
    CHECK_INT(csvavro_job_create(&o, &j, &err), CSVAVRO_E_USAGE);
    o.split_size = 10;
    CHECK_OK(csvavro_job_create(&o, &j, &err), &err);
    CHECK_INT(csvavro_job_plan(j, &err), CSVAVRO_E_NOT_FOUND);
    csvavro_job_free(j);
    csvavro_job_free(NULL);
}

static void test_rabin(void) {
    CHECK(cav_rabin64("", 0) == 0xc15d213aa4d7a795ull);
    CHECK(cav_rabin64("\"int\"", 5) != cav_rabin64("\"long\"", 6));
}

static csvavro_job *plan(const char *input, const char *output, uint64_t split,
                         csvavro_status want) {
    static const char *in[1];
    in[0] = input;
    csvavro_job_options o;
    csvavro_job_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output = output;
    o.split_size = split;
    csvavro_job *j = NULL;
    csvavro_error err;
    CHECK_OK(csvavro_job_create(&o, &j, &err), &err);
    csvavro_status st = csvavro_job_plan(j, &err);
    CHECK_INT(st, want);
    return j;
}

static void test_planning(void) {
    /* header 6 bytes + 10 records of 4 bytes */
    write_file(p("a.csv"), "xy,z\n1,2\n3,4\n5,6\n7,8\n9,0\n1,2\n3,4\n5,6\n7,8\n9,0\n");
    csvavro_job *j = plan(p("a.csv"), p("o/t.*.avro"), 16, CSVAVRO_OK);
    CHECK_INT(csvavro_job_input_count(j), 1);
    CHECK_INT(csvavro_job_input_size(j, 0), 45);
    CHECK_INT(csvavro_job_split_count(j), 3); /* data 5..45 = 40 bytes: 16 + 16 + 8 */
    csvavro_split_info si;
    int64_t at = 5;
    for (size_t i = 0; i < csvavro_job_split_count(j); i++) {
        CHECK_INT(csvavro_job_split(j, i, &si), 0);
        CHECK_INT(si.offset, at);
        at += si.length;
        CHECK_INT(si.n_hosts, 0);
    }
    CHECK_INT(at, 45);
    CHECK_INT(csvavro_job_split(j, 3, &si), -1);
    csvavro_job_split(j, 2, &si);
    CHECK_STR(si.output, p("o/t.2.avro"));
    CHECK(cav_job_name_matches(j, "t.12.avro"));
    CHECK(!cav_job_name_matches(j, "t..avro"));
    CHECK(!cav_job_name_matches(j, "t.1x.avro"));
    CHECK(!cav_job_name_matches(j, "u.1.avro"));
    CHECK_INT(csvavro_schema_field_count(csvavro_job_schema(j)), 2);
    char *json = NULL;
    csvavro_error err;
    CHECK_OK(csvavro_job_plan_json(j, &json, &err), &err);
    CHECK(json && strstr(json, "\"splits\""));
    free(json);
    csvavro_job_free(j);

    j = plan(p("a.csv"), p("d/"), 1000, CSVAVRO_OK);
    csvavro_job_split(j, 0, &si);
    CHECK_STR(si.output, p("d/part-00000.avro"));
    CHECK(cav_job_name_matches(j, "part-00007.avro"));
    csvavro_job_free(j);

    j = plan(p("a.csv"), p("one.avro"), 8, CSVAVRO_OK);
    csvavro_job_split(j, 4, &si);
    CHECK_STR(si.output, p("one.avro"));
    csvavro_job_free(j);

    j = plan(p("a.csv"), p("x/a*b*.avro"), 8, CSVAVRO_E_USAGE);
    csvavro_job_free(j);
    /* an existing output is refused */
    write_file(p("exists.avro"), "x");
    j = plan(p("a.csv"), p("exists.avro"), 8, CSVAVRO_E_EXISTS);
    csvavro_job_free(j);
    mkdir(p("pat"), 0755);
    write_file(p("pat/t.3.avro"), "x");
    j = plan(p("a.csv"), p("pat/t.*.avro"), 8, CSVAVRO_E_EXISTS);
    csvavro_job_free(j);
    j = plan(p("a.csv"), p("pat/u.*.avro"), 8, CSVAVRO_OK);
    csvavro_job_free(j);
}

static int calls, finals;
static void on_progress(const csvavro_job_stats *s, int final, void *user) {
    (void)user;
    calls++;
    if (final) {
        finals++;
        CHECK(s->rows_read > 0);
    }
}

/* CSV with quoted fields holding commas, CR, LF and CRLF; blank lines between records. */
static void quoted_csv(const char *path, int rows) {
    FILE *f = fopen(path, "wb");
    fputs("id,text,n\r\n", f);
    static const char *texts[] = {"\"a,b\"", "\"x\ny\"", "\"\r\n\"", "plain",     "\"q\"\"\r\"",
                                  "",        "\",\n,\"", "\"\"",     "\"\n\n\n\""};
    for (int i = 0; i < rows; i++) {
        fprintf(f, "%d,%s,%d%s", i, texts[(i * 7) % 9], i % 5 - 2, (i % 3) ? "\n" : "\r\n");
        if (i % 11 == 0) fputs("\n", f);
    }
    fclose(f);
}

static void test_speculation(void) {
    quoted_csv(p("q.csv"), 120);
    char qpath[512];
    snprintf(qpath, sizeof qpath, "%s", p("q.csv"));
    const char *in[] = {qpath};
    csvavro_job_options o;
    csvavro_job_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output = p("ref.avro");
    o.split_size = 1 << 30;
    o.threads = 1;
    o.batch_rows = 7;
    csvavro_job_stats st;
    csvavro_error err;
    CHECK_OK(csvavro_job_run(&o, &st, &err), &err);
    CHECK_INT(st.rows_read, 120);
    CHECK_INT(st.rows_kept, 120);
    uint64_t n_ref;
    char *ref = read_all(p("ref.avro"), &n_ref);
    CHECK_INT(n_ref, 120);
    uint64_t reruns = 0;
    static const uint64_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 13, 21, 34, 55};
    for (size_t si = 0; si < CAV_ARRAY_LEN(sizes); si++) {
        uint64_t ss = sizes[si];
        char out[64];
        snprintf(out, sizeof out, "s%llu.avro", (unsigned long long)ss);
        o.output = p(out);
        o.split_size = ss;
        o.threads = 1 + (int)(ss % 2);
        CHECK_OK(csvavro_job_run(&o, &st, &err), &err);
        CHECK_INT(st.rows_kept, 120);
        reruns += st.splits_rerun;
        uint64_t n;
        char *got = read_all(p(out), &n);
        CHECK_INT(n, 120);
        CHECK(got && ref && strcmp(got, ref) == 0);
        free(got);
    }
    CHECK(reruns > 0); /* the file does make speculation fail: the check has teeth */
    free(ref);

    /* staged API: progress callback, then a cancelled job leaves nothing */
    o.output = p("staged.avro");
    o.split_size = 64;
    o.progress_fn = on_progress;
    o.progress_interval_ms = 1;
    csvavro_job *j = NULL;
    CHECK_OK(csvavro_job_create(&o, &j, &err), &err);
    CHECK_OK(csvavro_job_plan(j, &err), &err);
    CHECK_OK(csvavro_job_execute(j, &st, &err), &err);
    CHECK_INT(csvavro_job_execute(j, &st, &err), CSVAVRO_E_USAGE);
    csvavro_job_free(j);
    CHECK_INT(finals, 1);
    CHECK(calls >= 1);
    volatile int cancel = 1;
    o.output = p("cancelled/t.*.avro");
    o.cancel = &cancel;
    CHECK_INT(csvavro_job_run(&o, &st, &err), CSVAVRO_E_INTERRUPTED);
    struct stat sb;
    CHECK(stat(p("cancelled/t.0.avro"), &sb) != 0);
    CHECK(stat(p("cancelled/_SUCCESS"), &sb) != 0);
}

/* An output that appears between planning and commit: the job fails with E_EXISTS and takes
 * back the files it had already renamed. */
static void test_commit_race(void) {
    write_file(p("r.csv"), "a,b\n1,x\n2,y\n3,z\n4,w\n5,v\n6,u\n");
    char in0[512], out[512];
    snprintf(in0, sizeof in0, "%s", p("r.csv"));
    snprintf(out, sizeof out, "%s", p("race/t.*.avro"));
    const char *in[] = {in0};
    csvavro_job_options o;
    csvavro_job_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output = out;
    o.split_size = 8;
    csvavro_job *j = NULL;
    csvavro_error err;
    csvavro_job_stats st;
    CHECK_OK(csvavro_job_create(&o, &j, &err), &err);
    CHECK_OK(csvavro_job_plan(j, &err), &err);
    CHECK(csvavro_job_split_count(j) >= 3);
    mkdir(p("race"), 0755);
    write_file(p("race/t.2.avro"), "someone else's");
    CHECK_INT(csvavro_job_execute(j, &st, &err), CSVAVRO_E_EXISTS);
    csvavro_job_free(j);
    struct stat sb;
    CHECK(stat(p("race/t.0.avro"), &sb) != 0);
    CHECK(stat(p("race/t.1.avro"), &sb) != 0);
    CHECK(stat(p("race/t.2.avro"), &sb) == 0 && sb.st_size == 14);
    CHECK(stat(p("race/_SUCCESS"), &sb) != 0);
}

/* Every allocation of a small job fails in turn: the job reports an error (or, when the
 * failing allocation was optional, succeeds), never crashes, leaks (ASan) or leaves output. */
static void test_alloc_failures(void) {
    write_file(p("f.csv"), "a,b\n1,x\n2,\"y,\n\"\n3,z\n4,w\n");
    char in0[512];
    snprintf(in0, sizeof in0, "%s", p("f.csv"));
    const char *in[] = {in0};
    const char *sel[] = {"b"};
    csvavro_job_options o;
    csvavro_job_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.split_size = 9;
    o.threads = 1;
    o.batch_rows = 2;
    o.where = "a > 1";
    o.select = sel;
    o.n_select = 1;
    o.avro.has_seed = 1;
    csvavro_job_stats st;
    csvavro_error err;
    int failures = 0, n;
    for (n = 1; n < 5000; n++) {
        char out[64];
        snprintf(out, sizeof out, "af/%d/t.*.avro", n);
        o.output = p(out);
        cav_alloc_fail_after((uint64_t)n);
        csvavro_status s = csvavro_job_run(&o, &st, &err);
        uint64_t used = cav_alloc_fail_after(0);
        if (s == CSVAVRO_OK) {
            CHECK_INT(st.rows_kept, 3);
            if (used < (uint64_t)n) break; /* the n-th allocation never happened: all covered */
        } else {
            failures++;
            char succ[128];
            struct stat sb;
            snprintf(succ, sizeof succ, "af/%d/_SUCCESS", n);
            CHECK(stat(p(succ), &sb) != 0);
        }
    }
    CHECK(n < 5000);
    CHECK(failures > 10);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_exec.%d", (int)getpid());
    mkdir(dir, 0755);
    CHECK_RUN(test_defaults());
    CHECK_RUN(test_rabin());
    CHECK_RUN(test_planning());
    CHECK_RUN(test_speculation());
    CHECK_RUN(test_commit_race());
    CHECK_RUN(test_alloc_failures());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return CHECK_DONE();
}
