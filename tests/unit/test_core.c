/* test_core.c — core: errors, buffers, sizes, UTF-8, CPU features; batch: schema names. */
#include "batch/batch.h"
#include "check.h"
#include "core/core.h"

static void test_error_format(void) {
    csvavro_error e;
    csvavro_error_clear(&e);
    cav_err(&e, CSVAVRO_E_VALUE, "not a long");
    cav_err_path(&e, "trip.csv");
    e.line = 12;
    e.offset = 345;
    cav_err_column(&e, 6, "passenger_count");
    cav_err_value(&e, "x\x01y", 3);
    char buf[512];
    csvavro_error_format(&e, buf, sizeof buf);
    CHECK_STR(buf,
              "trip.csv:12: byte 345, column 7 (passenger_count): not a long (value \"x\\x01y\")");
    cav_err_prefix(&e, "split %d", 3);
    CHECK_STR(e.message, "split 3: not a long");
    CHECK_STR(csvavro_status_name(CSVAVRO_E_CSV), "CSVAVRO_E_CSV");
}

static void test_buf(void) {
    cav_buf b;
    csvavro_error e;
    csvavro_error_clear(&e);
    cav_buf_init(&b, 100);
    CHECK_INT(cav_buf_append(&b, "hello", 5, &e), CSVAVRO_OK);
    CHECK_INT(cav_buf_printf(&b, &e, " %d", 42), CSVAVRO_OK);
    CHECK_MEM(b.data, b.len, "hello 42", 8);
    char big[200] = {0};
    CHECK_INT(cav_buf_append(&b, big, sizeof big, &e), CSVAVRO_E_LIMIT);
    cav_buf_free(&b);
}

static void test_parse(void) {
    uint64_t v = 0;
    CHECK(cav_parse_size("64M", &v) && v == 64ull << 20);
    CHECK(cav_parse_size("4MiB", &v) && v == 4ull << 20);
    CHECK(cav_parse_size("1048576", &v) && v == 1048576);
    CHECK(!cav_parse_size("12x", &v));
    CHECK(!cav_parse_size("", &v));
    CHECK(!cav_parse_u64("18446744073709551616", &v));
    CHECK(cav_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
}

static void test_utf8(void) {
    CHECK_INT(cav_utf8_check((const uint8_t *)"abc", 3), 3);
    CHECK_INT(cav_utf8_check((const uint8_t *)"a\xc3\xa9z", 4), 4);
    CHECK_INT(cav_utf8_check((const uint8_t *)"abcdefgh\xff", 9), 8);
    CHECK_INT(cav_utf8_check((const uint8_t *)"\xed\xa0\x80", 3), 0); /* surrogate */
    CHECK_INT(cav_utf8_check((const uint8_t *)"\xc0\x80", 2), 0);     /* overlong */
    CHECK_INT(cav_utf8_check((const uint8_t *)"ab\xe2\x82", 4), 2);   /* truncated */
}

static void test_names(void) {
    char out[64];
    csvavro_avro_name("pickup datetime", out, sizeof out);
    CHECK_STR(out, "pickup_datetime");
    csvavro_avro_name("1st", out, sizeof out);
    CHECK_STR(out, "_1st");
    csvavro_avro_name("", out, sizeof out);
    CHECK_STR(out, "_");
    CHECK(cav_avro_name_valid("a_1"));
    CHECK(!cav_avro_name_valid("1a"));
    CHECK(cav_avro_namespace_valid("org.example"));
    CHECK(!cav_avro_namespace_valid("org..x"));
    csvavro_schema *s = NULL;
    csvavro_error e;
    csvavro_error_clear(&e);
    CHECK_OK(csvavro_schema_create(NULL, NULL, &s, &e), &e);
    CHECK_STR(csvavro_schema_record_name(s), "Row");
    CHECK_OK(csvavro_schema_add_field(s, "a", "A col", CSVAVRO_TYPE_LONG, 1, &e), &e);
    CHECK_INT(csvavro_schema_add_field(s, "a", NULL, CSVAVRO_TYPE_LONG, 1, &e), CSVAVRO_E_SCHEMA);
    CHECK_INT(csvavro_schema_find(s, "A col"), 0);
    CHECK_INT(csvavro_schema_find(s, "b"), -1);
    csvavro_schema_free(s);
    CHECK_INT(csvavro_schema_create("", NULL, &s, &e), CSVAVRO_E_SCHEMA);
}

static void test_alloc_fail(void) {
    cav_alloc_fail_after(1);
    void *p = cav_malloc(10);
    CHECK(p == NULL);
    cav_alloc_fail_after(0);
    p = cav_malloc(10);
    CHECK(p != NULL);
    cav_free(p);
}

static void test_batch(void) {
    cav_batch b;
    csvavro_error e;
    csvavro_type types[2] = {CSVAVRO_TYPE_LONG, CSVAVRO_TYPE_STRING};
    CHECK_OK(cav_batch_init(&b, 2, types, 1024, 1 << 20, &e), &e);
    char *p1 = cav_batch_heap_alloc(&b, 100, &e);
    char *p2 = cav_batch_heap_alloc(&b, 300000, &e);
    CHECK(p1 && p2);
    memset(p1, 'a', 100);
    memset(p2, 'b', 300000);
    CHECK(p1[99] == 'a');
    CHECK(cav_batch_heap_alloc(&b, 2 << 20, &e) == NULL && e.status == CSVAVRO_E_LIMIT);
    cav_batch_reset(&b);
    CHECK_OK(cav_batch_set_type(&b, 1, CSVAVRO_TYPE_DOUBLE, &e), &e);
    b.cols[1].v.f64[1023] = 1.5;
    cav_batch_free(&b);
}

int main(void) {
    CHECK_RUN(test_error_format());
    CHECK_RUN(test_buf());
    CHECK_RUN(test_parse());
    CHECK_RUN(test_utf8());
    CHECK_RUN(test_names());
    CHECK_RUN(test_alloc_fail());
    CHECK_RUN(test_batch());
    printf("cpu features: %#x\n", cav_cpu_features());
    return CHECK_DONE();
}
