/*
 * test_plan_codec.c — the plan rank 0 of an MPI job broadcasts (src/exec/exec_plan_codec.c),
 * without mpirun: a job planned here is encoded and decoded into a second job created with the
 * same options, which must hold the same inputs, splits, schema and output names; every
 * truncation and a sweep of single-byte corruptions of the plan must fail cleanly
 * (CSVAVRO_E_INTERNAL "malformed plan", no crash, no leak under ASan); allocation failures too.
 */
#include "check.h"
#include "exec/exec.h"
#include "exec/exec_plan_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], in1[300], in2[300], out[300];
static const char *inputs[2];
static const char *g_schema; /* roundtrip_by_name: --schema matched by name */

static void options(csvavro_job_options *o) {
    csvavro_job_options_init(o);
    inputs[0] = in1;
    inputs[1] = in2;
    o->inputs = inputs;
    o->n_inputs = 2;
    o->output = out;
    o->split_size = 100;
    o->where = "n > 2";
    o->schema_json = g_schema;
}

/* A planned job with a temporary directory, as rank 0 has it when it broadcasts. */
static csvavro_job *planned(void) {
    csvavro_job_options o;
    options(&o);
    csvavro_job *j = NULL;
    csvavro_error err;
    csvavro_error_clear(&err);
    CHECK_OK(csvavro_job_create(&o, &j, &err), &err);
    if (!j) return NULL;
    CHECK_OK(csvavro_job_plan(j, &err), &err);
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s/out", dir);
    mkdir(tmp, 0755);
    snprintf(tmp, sizeof tmp, "%s/out/_tmp-test", dir);
    mkdir(tmp, 0755);
    j->tmp_dir = cav_strdup(tmp);
    j->job_id = cav_strdup("test");
    CHECK(j->planned && j->tmp_dir && j->job_id);
    return j;
}

static csvavro_status decode(const uint8_t *p, size_t n, csvavro_job **job, csvavro_error *err) {
    csvavro_job_options o;
    options(&o);
    CAV_TRY(csvavro_job_create(&o, job, err));
    return cav_plan_decode(*job, p, n, err);
}

static char *schema_text(const csvavro_schema *s) {
    char *t = NULL;
    csvavro_error err;
    csvavro_error_clear(&err);
    CHECK_OK(csvavro_schema_to_json(s, 0, &t, &err), &err);
    return t;
}

/* Every truncation, a sweep of corrupted bytes and allocation failures while decoding b fail
 * cleanly (no crash, no leak). */
static void abuse(cav_buf *b) {
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_job *c = NULL;
    for (size_t n = 0; n < b->len; n++) {
        c = NULL;
        csvavro_status st = decode(b->data, n, &c, &err);
        CHECK(st != CSVAVRO_OK);
        if (st != CSVAVRO_OK && st != CSVAVRO_E_INTERNAL) CHECK_INT(st, CSVAVRO_E_INTERNAL);
        csvavro_job_free(c);
    }
    for (size_t i = 8; i < b->len; i += i < 200 ? 1 : 7) {
        uint8_t keep = b->data[i];
        b->data[i] = 0xFF;
        c = NULL;
        decode(b->data, b->len, &c, &err); /* OK or an error: never a crash or a leak */
        csvavro_job_free(c);
        b->data[i] = keep;
    }
    int failed = 0;
    for (uint64_t n = 1; n < 2000; n++) {
        c = NULL;
        csvavro_job_options o;
        options(&o);
        if (csvavro_job_create(&o, &c, &err) != CSVAVRO_OK) break;
        cav_alloc_fail_after(n);
        csvavro_status st = cav_plan_decode(c, b->data, b->len, &err);
        cav_alloc_fail_after(0);
        csvavro_job_free(c);
        if (st == CSVAVRO_OK) break;
        failed++;
    }
    CHECK(failed > 5);
}

static void roundtrip(void) {
    csvavro_job *a = planned();
    CHECK(a != NULL);
    cav_buf b;
    cav_buf_init(&b, 0);
    csvavro_error err;
    csvavro_error_clear(&err);
    CHECK_OK(cav_plan_encode(a, &b, &err), &err);
    csvavro_job *c = NULL;
    CHECK_OK(decode(b.data, b.len, &c, &err), &err);
    CHECK_INT(c->n_inputs, 2);
    CHECK_INT(a->n_inputs, 2);
    for (size_t i = 0; i < 2; i++) {
        CHECK_STR(c->inputs[i].path, a->inputs[i].path);
        CHECK_STR(c->inputs[i].display, a->inputs[i].display);
        CHECK_INT(c->inputs[i].size, a->inputs[i].size);
        CHECK_INT(c->inputs[i].h.data_start, a->inputs[i].h.data_start);
        CHECK_INT(c->inputs[i].h.n_cols, 3);
    }
    CHECK(a->n_splits > 2); /* 100-byte splits over two files of several hundred bytes */
    CHECK_INT(c->n_splits, a->n_splits);
    for (size_t i = 0; i < a->n_splits && i < c->n_splits; i++) {
        CHECK_INT(c->splits[i].input, a->splits[i].input);
        CHECK_INT(c->splits[i].start, a->splits[i].start);
        CHECK_INT(c->splits[i].end, a->splits[i].end);
        CHECK_INT(c->splits[i].first, a->splits[i].first);
    }
    char *sa = schema_text(a->full), *sc = schema_text(c->full);
    CHECK_STR(sc, sa);
    csvavro_free(sa);
    csvavro_free(sc);
    CHECK_STR(c->out_dir, a->out_dir);
    CHECK_STR(c->tmp_dir, a->tmp_dir);
    CHECK_STR(c->job_id, "test");
    CHECK_STR(c->success_name, a->success_name);
    CHECK_INT(c->form, a->form);
    CHECK(memcmp(c->single_sync, a->single_sync, sizeof a->single_sync) == 0);
    CHECK(c->filter != NULL); /* the where expression compiled against the decoded schema */
    CHECK(c->planned);
    csvavro_job_free(c);

    /* every truncation, and corrupted length/count fields, fail cleanly */
    for (size_t n = 0; n < b.len; n++) {
        c = NULL;
        csvavro_status st = decode(b.data, n, &c, &err);
        CHECK(st != CSVAVRO_OK);
        if (st != CSVAVRO_OK && st != CSVAVRO_E_INTERNAL) CHECK_INT(st, CSVAVRO_E_INTERNAL);
        csvavro_job_free(c);
    }
    for (size_t i = 8; i < b.len && i < 200; i++) {
        uint8_t keep = b.data[i];
        b.data[i] = 0xFF;
        c = NULL;
        decode(b.data, b.len, &c, &err); /* OK or an error: never a crash or a leak */
        csvavro_job_free(c);
        b.data[i] = keep;
    }
    /* allocation failures while decoding */
    int failed = 0;
    for (uint64_t n = 1; n < 2000; n++) {
        c = NULL;
        csvavro_job_options o;
        options(&o);
        if (csvavro_job_create(&o, &c, &err) != CSVAVRO_OK) break;
        cav_alloc_fail_after(n);
        csvavro_status st = cav_plan_decode(c, b.data, b.len, &err);
        cav_alloc_fail_after(0);
        csvavro_job_free(c);
        if (st == CSVAVRO_OK) break;
        failed++;
    }
    CHECK(failed > 5);
    cav_buf_free(&b);
    csvavro_job_free(a);
}

static void write_file(const char *path, int from, int rows) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "n,name,day\n");
    for (int i = from; i < from + rows; i++)
        fprintf(f, "%d,\"name %d, quoted\",2013-01-%02d\n", i, i, 1 + i % 28);
    fclose(f);
}

/* --schema matched by name over inputs with other column orders and a column more: each
 * input's map and the defaults travel in the plan. */
static void roundtrip_by_name(void) {
    FILE *f = fopen(in2, "w"); /* reordered, with a column the schema lacks */
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "day,n,extra,name\n");
    for (int i = 0; i < 30; i++)
        fprintf(f, "2013-02-%02d,%d,x,\"name %d\"\n", 1 + i % 28, i, i);
    fclose(f);
    g_schema = "{\"type\": \"record\", \"name\": \"R\", \"fields\": ["
               "{\"name\": \"n\", \"type\": \"long\"}, {\"name\": \"name\", \"type\": \"string\"},"
               "{\"name\": \"tip\", \"type\": \"double\", \"default\": 1.5},"
               "{\"name\": \"note\", \"type\": [\"null\", \"string\"], \"default\": null},"
               "{\"name\": \"day\", \"type\": {\"type\": \"int\", \"logicalType\": \"date\"}}]}";
    csvavro_job *a = planned();
    CHECK(a != NULL);
    if (!a) return;
    static const int32_t want[2][5] = {{0, 1, -1, -1, 2}, {1, 3, -1, -1, 0}};
    for (size_t i = 0; i < 2; i++) {
        CHECK(a->inputs[i].map != NULL);
        for (size_t k = 0; a->inputs[i].map && k < 5; k++)
            CHECK_INT(a->inputs[i].map[k], want[i][k]);
    }
    cav_buf b;
    cav_buf_init(&b, 0);
    csvavro_error err;
    csvavro_error_clear(&err);
    CHECK_OK(cav_plan_encode(a, &b, &err), &err);
    csvavro_job *c = NULL;
    CHECK_OK(decode(b.data, b.len, &c, &err), &err);
    if (c && c->planned) {
        for (size_t i = 0; i < 2; i++) {
            CHECK(c->inputs[i].map != NULL);
            for (size_t k = 0; c->inputs[i].map && k < 5; k++)
                CHECK_INT(c->inputs[i].map[k], want[i][k]);
        }
        CHECK_INT(c->n_def_json, 5);
        CHECK(c->def_json && !c->def_json[0] && !c->def_json[4]);
        if (c->def_json && c->def_json[2]) CHECK_STR(c->def_json[2], "1.5");
        CHECK(c->defs != NULL && c->n_defs == 5);
        if (c->defs) {
            CHECK(c->defs[2].valid && c->defs[2].v.f64 == 1.5);
            CHECK(!c->defs[3].valid);
        }
    }
    csvavro_job_free(c);
    abuse(&b);
    cav_buf_free(&b);
    csvavro_job_free(a);
    g_schema = NULL;
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_plan_codec.%d", (int)getpid());
    mkdir(dir, 0755);
    snprintf(in1, sizeof in1, "%s/a.csv", dir);
    snprintf(in2, sizeof in2, "%s/b.csv", dir);
    snprintf(out, sizeof out, "%s/out/p.*.avro", dir);
    write_file(in1, 0, 20);
    write_file(in2, 100, 30);
    CHECK_RUN(roundtrip());
    CHECK_RUN(roundtrip_by_name());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return CHECK_DONE();
}
