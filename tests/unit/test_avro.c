/*
 * test_avro.c — unit tests of the avro module: options and codec names, schema <-> JSON,
 * writer/reader round trips for every codec (selection and row errors honoured, multi-block
 * files, a record larger than the block target), seeded sync markers, error paths of the
 * writer (nulls in non-nullable fields, bad metadata). Interop with independent readers is in
 * the Python scripts under tests/avro.
 */
#include "avro/avro.h"
#include "avro_testdata.h"
#include "check.h"
#include "io/io.h"

#include <stdlib.h>
#include <unistd.h>

static char tmpdir[256];
static uint64_t last_bytes; /* cav_avro_writer_bytes of the last write_table */

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void test_options(void) {
    csvavro_avro_options o;
    csvavro_avro_options_init(&o);
    CHECK_INT(o.codec, CSVAVRO_CODEC_SNAPPY);
    CHECK_INT(o.block_size, 1 << 20);
    CHECK_INT(o.level, INT32_MIN);
    const char *names[] = {"null", "deflate", "snappy", "zstandard", "bzip2", "xz"};
    for (int i = 0; i < 6; i++) {
        csvavro_codec c;
        CHECK_INT(csvavro_codec_parse(names[i], &c), CSVAVRO_OK);
        CHECK_INT(c, i);
        CHECK_STR(csvavro_codec_name(c), names[i]);
    }
    csvavro_codec c;
    CHECK_INT(csvavro_codec_parse("zstd", &c), CSVAVRO_OK);
    CHECK_INT(c, CSVAVRO_CODEC_ZSTANDARD);
    CHECK_INT(csvavro_codec_parse("lz4", &c), CSVAVRO_E_USAGE);
}

static void test_schema_json(void) {
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_schema *s = NULL;
    CHECK_OK(csvavro_schema_create(NULL, NULL, &s, &err), &err);
    CHECK_OK(csvavro_schema_add_field(s, "pickup", "Pickup Time",
                                      CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS, 0, &err),
             &err);
    CHECK_OK(csvavro_schema_add_field(s, "n", NULL, CSVAVRO_TYPE_LONG, 1, &err), &err);
    CHECK_OK(csvavro_schema_add_field(s, "day", NULL, CSVAVRO_TYPE_DATE, 1, &err), &err);
    CHECK_OK(csvavro_schema_add_field(s, "t", NULL, CSVAVRO_TYPE_TIMESTAMP_MILLIS, 0, &err), &err);
    char *json = NULL;
    CHECK_OK(csvavro_schema_to_json(s, 0, &json, &err), &err);
    CHECK_STR(json, "{\"type\":\"record\",\"name\":\"Row\",\"namespace\":\"csvavro\",\"fields\":["
                    "{\"name\":\"pickup\",\"type\":{\"type\":\"long\",\"logicalType\":"
                    "\"local-timestamp-micros\"},\"csvavro.header\":\"Pickup Time\"},"
                    "{\"name\":\"n\",\"type\":[\"null\",\"long\"],\"default\":null},"
                    "{\"name\":\"day\",\"type\":[\"null\",{\"type\":\"int\",\"logicalType\":"
                    "\"date\"}],\"default\":null},"
                    "{\"name\":\"t\",\"type\":{\"type\":\"long\",\"logicalType\":"
                    "\"timestamp-millis\"}}]}");
    /* Round trip through from_json. */
    csvavro_schema *back = NULL;
    CHECK_OK(csvavro_schema_from_json(json, &back, &err), &err);
    if (back) {
        CHECK_INT(csvavro_schema_field_count(back), 4);
        CHECK_STR(csvavro_schema_field_original(back, 0), "Pickup Time");
        CHECK_INT(csvavro_schema_field_type(back, 0), CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS);
        CHECK_INT(csvavro_schema_field_nullable(back, 1), 1);
        CHECK_INT(csvavro_schema_field_type(back, 2), CSVAVRO_TYPE_DATE);
        CHECK_STR(csvavro_schema_record_name(back), "Row");
        CHECK_STR(csvavro_schema_namespace(back), "csvavro");
    }
    free(json);
    json = NULL;
    CHECK_OK(csvavro_schema_to_json(s, 1, &json, &err), &err);
    CHECK(json && strchr(json, '\n'));
    free(json);
    csvavro_schema_free(back);
    csvavro_schema_free(s);

    /* Hand-written schemas: [T, "null"] order, dotted names, unknown logical types. */
    s = NULL;
    CHECK_OK(csvavro_schema_from_json(
                 "{\"type\":\"record\",\"name\":\"a.b.Trip\",\"fields\":["
                 "{\"name\":\"x\",\"type\":[\"double\",\"null\"]},"
                 "{\"name\":\"u\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
                 "{\"name\":\"d\",\"type\":{\"type\":\"long\",\"logicalType\":\"date\"}}]}",
                 &s, &err),
             &err);
    if (s) {
        CHECK_STR(csvavro_schema_record_name(s), "Trip");
        CHECK_STR(csvavro_schema_namespace(s), "a.b");
        CHECK_INT(csvavro_schema_field_type(s, 0), CSVAVRO_TYPE_DOUBLE);
        CHECK_INT(csvavro_schema_field_nullable(s, 0), 1);
        CHECK_INT(csvavro_schema_field_type(s, 1), CSVAVRO_TYPE_STRING);
        CHECK_INT(csvavro_schema_field_type(s, 2), CSVAVRO_TYPE_LONG);
    }
    csvavro_schema_free(s);

    static const char *const bad[] = {
        "not json",
        "[\"int\"]",
        "{\"type\":\"record\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":[\"int\","
        "\"string\"]}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
        "\"array\",\"items\":\"int\"}}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{"
        "\"name\":\"a\",\"type\":\"int\"}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"1a\",\"type\":\"int\"}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"null\"}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":[\"null\","
        "\"null\"]}]}",
    };
    for (size_t i = 0; i < CAV_ARRAY_LEN(bad); i++) {
        s = NULL;
        csvavro_error_clear(&err);
        csvavro_status st = csvavro_schema_from_json(bad[i], &s, &err);
        CHECK_INT(st, CSVAVRO_E_SCHEMA);
        CHECK(s == NULL);
        CHECK(err.message[0] != '\0');
    }
}

/* Writes rows of the test table with o into path; returns the number of records written. */
static uint64_t write_table(const char *path, const csvavro_avro_options *o, uint64_t rows,
                            uint64_t file_index) {
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_schema *s = NULL;
    cav_batch b;
    memset(&b, 0, sizeof b);
    cav_avro_writer *w = NULL;
    csvavro_file *out = NULL;
    uint8_t sync[16];
    uint64_t n = 0;
    CHECK_OK(td_schema(&s, &err), &err);
    CHECK_OK(td_batch_init(&b, 500, &err), &err);
    CHECK_OK(cav_avro_sync_marker(o, file_index, sync, &err), &err);
    CHECK_OK(csvavro_fs_create(cav_io_local(), path, 1, &out, &err), &err);
    CHECK_OK(cav_avro_writer_create(s, o, sync, out, true, &w, &err), &err);
    uint32_t map[TD_NF];
    for (uint32_t i = 0; i < TD_NF; i++)
        map[i] = i;
    for (uint64_t first = 0; w && first < rows; first += 500) {
        uint32_t k = (uint32_t)(rows - first < 500 ? rows - first : 500);
        CHECK_OK(td_fill(&b, first, k, &err), &err);
        CHECK_OK(cav_avro_writer_append(w, &b, map, &err), &err);
    }
    if (w) {
        CHECK_OK(cav_avro_writer_finish(w, &err), &err);
        n = cav_avro_writer_rows(w);
        last_bytes = cav_avro_writer_bytes(w);
    }
    cav_avro_writer_free(w);
    if (out) CHECK_OK(csvavro_file_close(out, &err), &err);
    cav_batch_free(&b);
    csvavro_schema_free(s);
    return n;
}

static uint64_t expected_rows(uint64_t rows) {
    uint64_t n = 0;
    for (uint64_t r = 0; r < rows; r++)
        n += r % 7 != 3 && r % 11 != 5;
    return n;
}

static void test_roundtrip(void) {
    for (int c = 0; c <= CSVAVRO_CODEC_XZ; c++) {
        csvavro_avro_options o;
        csvavro_avro_options_init(&o);
        o.codec = (csvavro_codec)c;
        o.block_size = 2000;
        char path[512];
        path_of(path, sizeof path, "rt.avro");
        uint64_t n = write_table(path, &o, 1200, 0);
        CHECK_INT(n, expected_rows(1200));
        csvavro_error err;
        csvavro_error_clear(&err);
        csvavro_stat st0;
        CHECK_OK(csvavro_fs_stat(cav_io_local(), path, &st0, &err), &err);
        CHECK_INT(st0.size, last_bytes);
        csvavro_avro_reader *r = NULL;
        CHECK_OK(csvavro_avro_reader_open(cav_io_local(), path, &r, &err), &err);
        if (!r) continue;
        CHECK_STR(csvavro_avro_reader_codec(r), csvavro_codec_name(o.codec));
        uint64_t lines = 0;
        for (;;) {
            const char *line;
            size_t len;
            csvavro_status st = csvavro_avro_reader_next_json(r, &line, &len, &err);
            CHECK_OK(st, &err);
            if (st != CSVAVRO_OK || !line) break;
            CHECK(len > 2 && line[0] == '{' && line[len - 1] == '}');
            lines++;
        }
        CHECK_INT(lines, n);
        CHECK(csvavro_avro_reader_blocks(r) > 5);
        csvavro_avro_reader_close(r);
        r = NULL;
        CHECK_OK(csvavro_avro_reader_open(cav_io_local(), path, &r, &err), &err);
        uint64_t cnt = 0;
        if (r) CHECK_OK(csvavro_avro_reader_count(r, &cnt, &err), &err);
        CHECK_INT(cnt, n);
        csvavro_avro_reader_close(r);
    }
}

static void slurp(const char *path, uint8_t **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    *data = NULL;
    *len = 0;
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)n + 1);
    *len = fread(*data, 1, (size_t)n, f);
    fclose(f);
}

static void test_seed(void) {
    csvavro_avro_options o;
    csvavro_avro_options_init(&o);
    o.has_seed = 1;
    o.seed = 99;
    o.block_size = 4096;
    char p1[512], p2[512], p3[512];
    path_of(p1, sizeof p1, "s1.avro");
    path_of(p2, sizeof p2, "s2.avro");
    path_of(p3, sizeof p3, "s3.avro");
    write_table(p1, &o, 300, 4);
    write_table(p2, &o, 300, 4);
    write_table(p3, &o, 300, 5);
    uint8_t *a, *b, *c;
    size_t la, lb, lc;
    slurp(p1, &a, &la);
    slurp(p2, &b, &lb);
    slurp(p3, &c, &lc);
    CHECK(la > 0);
    CHECK_INT(la, lb);
    CHECK(a && b && memcmp(a, b, la) == 0);
    CHECK_INT(la, lc);
    CHECK(a && c && memcmp(a, c, la) != 0); /* different sync marker */
    free(a);
    free(b);
    free(c);
    uint8_t s1[16], s2[16];
    csvavro_error err;
    o.has_seed = 0;
    CHECK_OK(cav_avro_sync_marker(&o, 0, s1, &err), &err);
    CHECK_OK(cav_avro_sync_marker(&o, 0, s2, &err), &err);
    CHECK(memcmp(s1, s2, 16) != 0);
}

/* A writer restarted onto a new file (after a finished file, then after an abandoned one with
 * a pending block) writes exactly what a fresh writer writes: header with the new sync
 * marker, no leftover rows, counters from 0. */
static void test_restart(void) {
    const csvavro_codec codecs[] = {CSVAVRO_CODEC_NULL, CSVAVRO_CODEC_SNAPPY,
                                    CSVAVRO_CODEC_DEFLATE};
    for (size_t ci = 0; ci < CAV_ARRAY_LEN(codecs); ci++) {
        csvavro_avro_options o;
        csvavro_avro_options_init(&o);
        o.codec = codecs[ci];
        o.has_seed = 1;
        o.seed = 7;
        o.block_size = 3000;
        char ref[512], p1[512], p2[512], p3[512];
        path_of(ref, sizeof ref, "re0.avro");
        path_of(p1, sizeof p1, "re1.avro");
        path_of(p2, sizeof p2, "re2.avro");
        path_of(p3, sizeof p3, "re3.avro");
        uint64_t n = write_table(ref, &o, 1000, 4);
        uint64_t ref_bytes = last_bytes;
        csvavro_error err;
        csvavro_error_clear(&err);
        csvavro_schema *s = NULL;
        cav_batch b;
        memset(&b, 0, sizeof b);
        cav_avro_writer *w = NULL;
        uint8_t sync[16], sync4[16];
        CHECK_OK(td_schema(&s, &err), &err);
        CHECK_OK(td_batch_init(&b, 500, &err), &err);
        CHECK_OK(cav_avro_sync_marker(&o, 9, sync, &err), &err);
        CHECK_OK(cav_avro_sync_marker(&o, 4, sync4, &err), &err);
        uint32_t map[TD_NF];
        for (uint32_t i = 0; i < TD_NF; i++)
            map[i] = i;
        const char *paths[] = {p1, p2, p3};
        for (int f = 0; f < 3; f++) {
            csvavro_file *out = NULL;
            CHECK_OK(csvavro_fs_create(cav_io_local(), paths[f], 1, &out, &err), &err);
            if (!out) break;
            if (f == 0)
                CHECK_OK(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), &err);
            else
                CHECK_OK(cav_avro_writer_restart(w, f == 1 ? sync : sync4, out, true, &err), &err);
            if (!w) break;
            /* file 0: finished normally; file 1: abandoned with a pending block; file 2: the
             * reference table again */
            uint64_t rows = f == 1 ? 700 : 1000;
            for (uint64_t first = 0; first < rows; first += 500) {
                uint32_t k = (uint32_t)(rows - first < 500 ? rows - first : 500);
                CHECK_OK(td_fill(&b, first, k, &err), &err);
                CHECK_OK(cav_avro_writer_append(w, &b, map, &err), &err);
            }
            if (f != 1) CHECK_OK(cav_avro_writer_finish(w, &err), &err);
            if (f == 2) {
                CHECK_INT(cav_avro_writer_rows(w), n);
                CHECK_INT(cav_avro_writer_bytes(w), ref_bytes);
            }
            CHECK_OK(csvavro_file_close(out, &err), &err);
        }
        cav_avro_writer_free(w);
        cav_batch_free(&b);
        csvavro_schema_free(s);
        uint8_t *a, *c;
        size_t la, lc;
        slurp(ref, &a, &la);
        slurp(p3, &c, &lc);
        CHECK(la > 0);
        CHECK_INT(la, lc);
        CHECK(a && c && la == lc && memcmp(a, c, la) == 0);
        free(a);
        free(c);
    }
}

/* A record much larger than the block target is written as its own block. */
static void test_big_record(void) {
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_schema *s = NULL;
    CHECK_OK(csvavro_schema_create("Big", NULL, &s, &err), &err);
    CHECK_OK(csvavro_schema_add_field(s, "s", NULL, CSVAVRO_TYPE_STRING, 0, &err), &err);
    csvavro_type t = CSVAVRO_TYPE_STRING;
    cav_batch b;
    CHECK_OK(cav_batch_init(&b, 1, &t, 4, 0, &err), &err);
    static char big[100000];
    memset(big, 'x', sizeof big);
    b.n_rows = 3;
    for (int i = 0; i < 3; i++) {
        b.cols[0].valid[i] = 1;
        b.cols[0].v.str[i].ptr = big;
        b.cols[0].v.str[i].len = i == 1 ? (uint32_t)sizeof big : 3;
    }
    b.cols[0].loaded = true;
    csvavro_avro_options o;
    csvavro_avro_options_init(&o);
    o.codec = CSVAVRO_CODEC_NULL;
    o.block_size = 64;
    const char *meta[] = {"k=v"};
    o.meta = meta;
    o.n_meta = 1;
    char path[512];
    path_of(path, sizeof path, "big.avro");
    csvavro_file *out = NULL;
    cav_avro_writer *w = NULL;
    uint8_t sync[16] = {0};
    uint32_t map[1] = {0};
    CHECK_OK(csvavro_fs_create(cav_io_local(), path, 1, &out, &err), &err);
    CHECK_OK(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), &err);
    if (w) {
        CHECK_OK(cav_avro_writer_append(w, &b, map, &err), &err);
        CHECK_OK(cav_avro_writer_finish(w, &err), &err);
        CHECK_INT(cav_avro_writer_rows(w), 3);
    }
    cav_avro_writer_free(w);
    if (out) CHECK_OK(csvavro_file_close(out, &err), &err);
    csvavro_avro_reader *r = NULL;
    CHECK_OK(csvavro_avro_reader_open(cav_io_local(), path, &r, &err), &err);
    size_t lens[3] = {0};
    for (int i = 0; r && i < 4; i++) {
        const char *line;
        size_t len;
        CHECK_OK(csvavro_avro_reader_next_json(r, &line, &len, &err), &err);
        if (i < 3)
            lens[i] = len;
        else
            CHECK(line == NULL);
    }
    CHECK_INT(lens[0], strlen("{\"s\":\"xxx\"}"));
    CHECK_INT(lens[1], sizeof big + 8);
    if (r) {
        CHECK_INT(csvavro_avro_reader_blocks(r), 2); /* row 0+1 cross the target; row 2 alone */
        size_t nm = csvavro_avro_reader_meta_count(r);
        int found = 0;
        for (size_t i = 0; i < nm; i++) {
            const char *k, *v;
            size_t vl;
            csvavro_avro_reader_meta(r, i, &k, &v, &vl);
            if (strcmp(k, "k") == 0 && vl == 1 && v[0] == 'v') found = 1;
        }
        CHECK(found);
    }
    csvavro_avro_reader_close(r);

    /* Errors: a null in a non-nullable field; reserved metadata keys. */
    b.cols[0].valid[2] = 0;
    out = NULL;
    w = NULL;
    o.n_meta = 0;
    CHECK_OK(csvavro_fs_create(cav_io_local(), path, 1, &out, &err), &err);
    CHECK_OK(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), &err);
    if (w) {
        csvavro_error_clear(&err);
        CHECK_INT(cav_avro_writer_append(w, &b, map, &err), CSVAVRO_E_VALUE);
        CHECK_INT(err.column, 0);
        CHECK_STR(err.column_name, "s");
    }
    cav_avro_writer_free(w);
    w = NULL;
    o.n_meta = 0;
    o.codec = CSVAVRO_CODEC_ZSTANDARD;
    o.level = 99;
    CHECK_INT(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), CSVAVRO_E_USAGE);
    CHECK(strstr(err.message, "level") != NULL);
    o.codec = CSVAVRO_CODEC_DEFLATE;
    o.level = 13;
    CHECK_INT(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), CSVAVRO_E_USAGE);
    o.codec = (csvavro_codec)42;
    o.level = INT32_MIN;
    CHECK_INT(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), CSVAVRO_E_USAGE);
    o.codec = CSVAVRO_CODEC_NULL;
    const char *badmeta[] = {"avro.codec=x"};
    o.meta = badmeta;
    o.n_meta = 1;
    CHECK_INT(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), CSVAVRO_E_USAGE);
    const char *badmeta2[] = {"novalue"};
    o.meta = badmeta2;
    CHECK_INT(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), CSVAVRO_E_USAGE);
    CHECK(w == NULL);
    if (out) csvavro_file_abort(out);
    cav_batch_free(&b);
    csvavro_schema_free(s);
}

/* Single-output-file mode: one header, then the blocks of several writers with the same sync. */
static void test_append_mode(void) {
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_schema *s = NULL;
    cav_batch b;
    memset(&b, 0, sizeof b);
    csvavro_avro_options o;
    csvavro_avro_options_init(&o);
    o.codec = CSVAVRO_CODEC_ZSTANDARD;
    o.block_size = 1000;
    uint8_t sync[16];
    char path[512];
    path_of(path, sizeof path, "one.avro");
    csvavro_file *out = NULL;
    uint32_t map[TD_NF];
    for (uint32_t i = 0; i < TD_NF; i++)
        map[i] = i;
    CHECK_OK(td_schema(&s, &err), &err);
    CHECK_OK(td_batch_init(&b, 300, &err), &err);
    CHECK_OK(cav_avro_sync_marker(&o, 0, sync, &err), &err);
    CHECK_OK(csvavro_fs_create(cav_io_local(), path, 1, &out, &err), &err);
    if (!out || !s) return;
    CHECK_OK(cav_avro_write_header(s, &o, sync, out, &err), &err);
    uint64_t total = 0;
    for (int split = 0; split < 3; split++) {
        cav_avro_writer *w = NULL;
        CHECK_OK(cav_avro_writer_create(s, &o, sync, out, false, &w, &err), &err);
        if (!w) break;
        CHECK_OK(td_fill(&b, (uint64_t)split * 300, 300, &err), &err);
        CHECK_OK(cav_avro_writer_append(w, &b, map, &err), &err);
        CHECK_OK(cav_avro_writer_finish(w, &err), &err);
        total += cav_avro_writer_rows(w);
        cav_avro_writer_free(w);
    }
    CHECK_OK(csvavro_file_close(out, &err), &err);
    CHECK_INT(total, expected_rows(900));
    csvavro_avro_reader *r = NULL;
    CHECK_OK(csvavro_avro_reader_open(cav_io_local(), path, &r, &err), &err);
    uint64_t n = 0;
    for (;;) {
        const char *line;
        size_t len;
        if (!r || csvavro_avro_reader_next_json(r, &line, &len, &err) != CSVAVRO_OK || !line) break;
        n++;
    }
    CHECK_INT(n, total);
    csvavro_avro_reader_close(r);
    cav_batch_free(&b);
    csvavro_schema_free(s);
}

/* Every allocation of a write + read round trip failing in turn: an error, never a crash or a
 * leak (the suite runs this under ASan). */
static void test_alloc_failures(void) {
    char path[512];
    path_of(path, sizeof path, "af.avro");
    uint64_t k, failed = 0;
    for (k = 1; k < 400; k++) {
        csvavro_error err;
        csvavro_error_clear(&err);
        csvavro_schema *s = NULL;
        cav_batch b;
        memset(&b, 0, sizeof b);
        csvavro_avro_options o;
        csvavro_avro_options_init(&o);
        o.block_size = 500;
        uint8_t sync[16] = {1};
        uint32_t map[TD_NF];
        for (uint32_t i = 0; i < TD_NF; i++)
            map[i] = i;
        csvavro_file *out = NULL;
        cav_avro_writer *w = NULL;
        csvavro_avro_reader *r = NULL;
        cav_alloc_fail_after(k);
        csvavro_status st = td_schema(&s, &err);
        if (st == CSVAVRO_OK) st = td_batch_init(&b, 50, &err);
        if (st == CSVAVRO_OK) st = csvavro_fs_create(cav_io_local(), path, 1, &out, &err);
        if (st == CSVAVRO_OK) st = cav_avro_writer_create(s, &o, sync, out, true, &w, &err);
        if (st == CSVAVRO_OK) st = td_fill(&b, 0, 50, &err);
        if (st == CSVAVRO_OK) st = cav_avro_writer_append(w, &b, map, &err);
        if (st == CSVAVRO_OK) st = cav_avro_writer_finish(w, &err);
        cav_avro_writer_free(w);
        if (out) {
            csvavro_status cs = csvavro_file_close(out, &err);
            if (st == CSVAVRO_OK) st = cs;
        }
        if (st == CSVAVRO_OK) st = csvavro_avro_reader_open(cav_io_local(), path, &r, &err);
        while (st == CSVAVRO_OK) {
            const char *line;
            size_t len;
            st = csvavro_avro_reader_next_json(r, &line, &len, &err);
            if (!line) break;
        }
        csvavro_avro_reader_close(r);
        cav_batch_free(&b);
        csvavro_schema_free(s);
        uint64_t used = cav_alloc_fail_after(0);
        if (st == CSVAVRO_OK && used < k) break; /* the whole round trip needed fewer */
        CHECK(st == CSVAVRO_OK || st == CSVAVRO_E_NOMEM || err.message[0]);
        failed += st != CSVAVRO_OK;
    }
    CHECK(k < 400);     /* reached a run with no injected failure */
    CHECK(failed > 10); /* and failures were injected before that */
    fprintf(stderr, "allocation failures: %llu runs, %llu failed\n", (unsigned long long)k,
            (unsigned long long)failed);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_avro.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    CHECK_RUN(test_options());
    CHECK_RUN(test_schema_json());
    CHECK_RUN(test_roundtrip());
    CHECK_RUN(test_seed());
    CHECK_RUN(test_restart());
    CHECK_RUN(test_big_record());
    CHECK_RUN(test_append_mode());
    CHECK_RUN(test_alloc_failures());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return CHECK_DONE();
}
