/*
 * fuzz_roundtrip.c — CSV -> typed batches -> Avro container (memory) -> Avro reader, compared.
 *
 * Input: 10 option bytes, then CSV text with a header.
 *   byte 0: codec (null, deflate, snappy, zstandard, bzip2, xz) and target block size
 *   bytes 1-8: type of columns 1..8 (12 types) and nullability (bit 7 = not null)
 *   byte 9: batch rows (1..16) and on_error (skip or reject)
 * The CSV is read with the internal column reader (what convert uses), every column loaded,
 * rows the loader rejected are dropped, the rest written by the Avro writer to memory. The
 * file is read back with the public reader: the record count and every value must match the
 * batch values (JSON parsed with jansson; doubles/floats exactly, NaN/Infinity as strings,
 * bytes one code point per byte, dates and timestamps re-parsed).
 */
#include "avro/avro.h"
#include "csv/csv.h"
#include "fuzz_util.h"

#include <jansson.h>
#include <math.h>

typedef struct cell {
    bool valid;
    int64_t i;
    double d;
    float f;
    char *s;
    size_t sl;
} cell;

static const csvavro_type types[] = {
    CSVAVRO_TYPE_LONG,
    CSVAVRO_TYPE_INT,
    CSVAVRO_TYPE_DOUBLE,
    CSVAVRO_TYPE_FLOAT,
    CSVAVRO_TYPE_STRING,
    CSVAVRO_TYPE_BYTES,
    CSVAVRO_TYPE_BOOLEAN,
    CSVAVRO_TYPE_DATE,
    CSVAVRO_TYPE_TIMESTAMP_MICROS,
    CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS,
    CSVAVRO_TYPE_TIMESTAMP_MILLIS,
    CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS,
};

/* µs of 0000-01-01 and 10000-01-01: outside, the reader's text form is not YYYY-... */
#define MIN_US (-62167219200LL * 1000000)
#define MAX_US (253402300800LL * 1000000)

static void check_value(csvavro_type t, const cell *c, json_t *v, uint64_t rec, size_t col) {
#define BAD(...)                                                                                   \
    do {                                                                                           \
        fprintf(stderr, "record %llu column %zu: ", (unsigned long long)rec, col);                 \
        FUZZ_CHECK(0, __VA_ARGS__);                                                                \
    } while (0)
    if (!c->valid) {
        if (!json_is_null(v)) BAD("want null");
        return;
    }
    switch (t) {
    case CSVAVRO_TYPE_BOOLEAN:
        if (!json_is_boolean(v) || json_is_true(v) != (c->i != 0)) BAD("boolean");
        break;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_LONG:
        if (!json_is_integer(v) || json_integer_value(v) != c->i)
            BAD("integer %lld", (long long)c->i);
        break;
    case CSVAVRO_TYPE_DOUBLE:
    case CSVAVRO_TYPE_FLOAT: {
        double want = t == CSVAVRO_TYPE_FLOAT ? (double)c->f : c->d;
        if (isnan(want) || isinf(want)) {
            const char *s = json_string_value(v);
            const char *exp = isnan(want) ? "NaN" : want > 0 ? "Infinity" : "-Infinity";
            if (!s || strcmp(s, exp) != 0) BAD("want %s", exp);
            break;
        }
        if (!json_is_number(v)) BAD("not a number");
        double got = json_number_value(v);
        if (t == CSVAVRO_TYPE_FLOAT ? (float)got != c->f : got != c->d)
            BAD("number %.17g, got %.17g", want, got);
        break;
    }
    case CSVAVRO_TYPE_STRING: {
        if (!json_is_string(v) || json_string_length(v) != c->sl ||
            (c->sl && memcmp(json_string_value(v), c->s, c->sl) != 0))
            BAD("string '%.*s'", (int)c->sl, c->s);
        break;
    }
    case CSVAVRO_TYPE_BYTES: {
        if (!json_is_string(v)) BAD("bytes: not a string");
        const uint8_t *p = (const uint8_t *)json_string_value(v);
        size_t n = json_string_length(v), k = 0;
        for (size_t i = 0; i < n; k++) {
            unsigned cp = 0;
            if (p[i] < 0x80) {
                cp = p[i++];
            } else if ((p[i] == 0xC2 || p[i] == 0xC3) && i + 1 < n) {
                cp = ((p[i] & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
                i += 2;
            } else {
                BAD("bytes: code point above U+00FF");
            }
            if (k >= c->sl || (uint8_t)c->s[k] != cp) BAD("bytes differ at %zu", k);
        }
        if (k != c->sl) BAD("bytes length %zu, want %zu", k, c->sl);
        break;
    }
    case CSVAVRO_TYPE_DATE: {
        const char *s = json_string_value(v);
        int32_t d;
        if (c->i < -719528 || c->i > 2932896) break; /* outside years 0..9999 */
        if (!s || !cav_parse_date(s, strlen(s), &d) || d != c->i) BAD("date %lld", (long long)c->i);
        break;
    }
    default: { /* timestamps */
        bool millis =
            t == CSVAVRO_TYPE_TIMESTAMP_MILLIS || t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
        bool local =
            t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS || t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
        int64_t us = millis ? c->i * 1000 : c->i;
        if ((millis && (c->i < MIN_US / 1000 || c->i >= MAX_US / 1000)) ||
            (!millis && (us < MIN_US || us >= MAX_US)))
            break;
        const char *s = json_string_value(v);
        int64_t got;
        bool zone;
        if (!s || !cav_parse_timestamp(s, strlen(s), &got, &zone) || got != us || zone == local)
            BAD("timestamp %lld: '%s'", (long long)c->i, s ? s : "(not a string)");
        break;
    }
    }
#undef BAD
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 10 || size > 8192) return 0;
    static const size_t blocks[] = {64, 300, 4096, 0};
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    o.on_error = (data[9] & 0x10) ? CSVAVRO_ON_ERROR_REJECT : CSVAVRO_ON_ERROR_SKIP;
    csvavro_avro_options ao;
    csvavro_avro_options_init(&ao);
    ao.codec = (csvavro_codec)(data[0] % 6);
    if (blocks[(data[0] >> 4) & 3]) ao.block_size = blocks[(data[0] >> 4) & 3];
    /* low levels: xz -6 / bzip2 -9 allocate ~100 MB and 8 MB per file (exec/s drops 50x) */
    if (ao.codec != CSVAVRO_CODEC_NULL && ao.codec != CSVAVRO_CODEC_SNAPPY)
        ao.level = ao.codec == CSVAVRO_CODEC_XZ ? 0 : 1;
    ao.has_seed = 1;
    ao.seed = 1;
    uint32_t batch_rows = (uint32_t)(data[9] & 15) + 1;

    cav_buf text;
    cav_buf_init(&text, 0);
    cav_buf_append(&text, data + 10, size - 10, NULL);
    csvavro_file *in = fz_mem_file(&text, 0);
    csvavro_error err;
    cav_csv_header h;
    if (cav_csv_read_header(in, &o, &h, &err) != CSVAVRO_OK) {
        csvavro_file_close(in, NULL);
        cav_buf_free(&text);
        return 0;
    }
    uint32_t nc = h.n_cols;
    if (nc == 0 || nc > 8) {
        cav_csv_header_free(&h);
        csvavro_file_close(in, NULL);
        cav_buf_free(&text);
        return 0;
    }
    csvavro_schema *s;
    csvavro_schema_create(NULL, NULL, &s, &err);
    csvavro_type ct[8];
    uint32_t col_map[8];
    for (uint32_t c = 0; c < nc; c++) {
        char nm[8];
        snprintf(nm, sizeof nm, "c%u", c);
        ct[c] = types[(data[1 + c] & 0x7f) % CAV_ARRAY_LEN(types)];
        col_map[c] = c;
        FUZZ_CHECK(csvavro_schema_add_field(s, nm, NULL, ct[c], !(data[1 + c] & 0x80), &err) ==
                       CSVAVRO_OK,
                   "schema");
    }

    cav_csv_reader *r;
    FUZZ_CHECK(cav_csv_reader_create(&o, s, batch_rows, &r, &err) == CSVAVRO_OK, "reader");
    cav_csv_reader_tune(r, -1, 4096); /* not the 8 MiB default buffer per input */
    cav_buf rejects;
    cav_buf_init(&rejects, 0);
    cav_csv_reader_set_reject_sink(r, &rejects);
    cav_batch b;
    FUZZ_CHECK(cav_batch_init(&b, nc, ct, batch_rows, 0, &err) == CSVAVRO_OK, "batch");
    cav_buf outb;
    cav_buf_init(&outb, 0);
    csvavro_file *out = fz_mem_file(&outb, 1);
    uint8_t sync[16];
    cav_avro_sync_marker(&ao, 0, sync, &err);
    cav_avro_writer *w;
    FUZZ_CHECK(cav_avro_writer_create(s, &ao, sync, out, true, &w, &err) == CSVAVRO_OK,
               "writer: %s", err.message);

    cell *cells = NULL;
    size_t n_rows = 0, cap_rows = 0;
    csvavro_status st =
        cav_csv_reader_open_range(r, in, "in.csv", h.data_start, INT64_MAX, true, &err);
    while (st == CSVAVRO_OK) {
        st = cav_csv_reader_next(r, &b, &err);
        if (st != CSVAVRO_OK || b.n_rows == 0) break;
        for (uint32_t c = 0; c < nc && st == CSVAVRO_OK; c++)
            st = cav_csv_reader_load_column(r, &b, c, &err);
        if (st != CSVAVRO_OK) break;
        st = cav_avro_writer_append(w, &b, col_map, &err);
        /* a null in a not-null column fails the job (even under skip/reject): E_VALUE */
        if (st == CSVAVRO_E_VALUE && strstr(err.message, "non-nullable")) break;
        FUZZ_CHECK(st == CSVAVRO_OK, "append: %s", err.message);
        for (uint32_t i = 0; i < b.n_rows; i++) {
            if (b.row_error && b.row_error[i]) continue;
            if (n_rows == cap_rows) {
                cap_rows = cap_rows ? cap_rows * 2 : 64;
                cells = realloc(cells, cap_rows * 8 * sizeof *cells);
            }
            for (uint32_t c = 0; c < nc; c++) {
                cell *x = &cells[n_rows * 8 + c];
                memset(x, 0, sizeof *x);
                const cav_column *col = &b.cols[c];
                x->valid = col->valid[i] != 0;
                if (!x->valid) continue;
                switch (ct[c]) {
                case CSVAVRO_TYPE_BOOLEAN:
                    x->i = col->v.b8[i];
                    break;
                case CSVAVRO_TYPE_INT:
                case CSVAVRO_TYPE_DATE:
                    x->i = col->v.i32[i];
                    break;
                case CSVAVRO_TYPE_FLOAT:
                    x->f = col->v.f32[i];
                    break;
                case CSVAVRO_TYPE_DOUBLE:
                    x->d = col->v.f64[i];
                    break;
                case CSVAVRO_TYPE_STRING:
                case CSVAVRO_TYPE_BYTES:
                    x->sl = col->v.str[i].len;
                    x->s = malloc(x->sl + 1);
                    if (x->sl) memcpy(x->s, col->v.str[i].ptr, x->sl);
                    break;
                default:
                    x->i = col->v.i64[i];
                    break;
                }
            }
            n_rows++;
        }
    }
    if (st == CSVAVRO_OK) st = cav_avro_writer_finish(w, &err);
    cav_avro_writer_free(w);
    csvavro_file_close(out, NULL);

    if (st == CSVAVRO_OK) {
        static fz_mfs fs;
        if (!fs.base.ops) fz_mfs_init(&fs);
        fz_mfs_set(&fs, outb.data, outb.len);
        csvavro_avro_reader *ar;
        st = csvavro_avro_reader_open(&fs.base, "out.avro", &ar, &err);
        FUZZ_CHECK(st == CSVAVRO_OK, "reading our own file: %s", err.message);
        uint64_t rec = 0;
        for (;;) {
            const char *line;
            size_t len;
            st = csvavro_avro_reader_next_json(ar, &line, &len, &err);
            FUZZ_CHECK(st == CSVAVRO_OK, "record %llu of our own file: %s", (unsigned long long)rec,
                       err.message);
            if (!line) break;
            FUZZ_CHECK(rec < n_rows, "more records than written (%zu)", n_rows);
            json_error_t je;
            json_t *obj = json_loadb(line, len, JSON_ALLOW_NUL, &je);
            FUZZ_CHECK(obj && json_is_object(obj) && json_object_size(obj) == nc,
                       "record %llu: bad JSON: %s", (unsigned long long)rec, je.text);
            for (uint32_t c = 0; c < nc; c++) {
                char nm[8];
                snprintf(nm, sizeof nm, "c%u", c);
                json_t *v = json_object_get(obj, nm);
                FUZZ_CHECK(v, "record %llu: no field %s", (unsigned long long)rec, nm);
                check_value(ct[c], &cells[rec * 8 + c], v, rec, c);
            }
            json_decref(obj);
            rec++;
        }
        FUZZ_CHECK(rec == n_rows, "read %llu records, wrote %zu", (unsigned long long)rec, n_rows);
        csvavro_avro_reader_close(ar);
    } else {
        /* a data error under skip/reject: only these statuses */
        FUZZ_CHECK(st == CSVAVRO_E_CSV || st == CSVAVRO_E_VALUE || st == CSVAVRO_E_ENCODING ||
                       st == CSVAVRO_E_LIMIT,
                   "status %d: %s", st, err.message);
    }
    for (size_t i = 0; i < n_rows * 8; i++)
        if (i % 8 < nc) free(cells[i].s);
    free(cells);
    cav_buf_free(&outb);
    cav_buf_free(&rejects);
    cav_batch_free(&b);
    cav_csv_reader_free(r);
    csvavro_schema_free(s);
    cav_csv_header_free(&h);
    csvavro_file_close(in, NULL);
    cav_buf_free(&text);
    return 0;
}
