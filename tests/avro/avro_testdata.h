/*
 * avro_testdata.h — a deterministic table covering every csvavro type (nullable and not),
 * built directly as cav_batch columns (no CSV reader involved), plus its expected values as
 * JSON lines written straight from the C values. Used by the interop writer (avro_testwrite)
 * and the unit tests. Floats are given by bit pattern in the expected file so that the
 * comparison is exact (NaN, -0.0, denormals included).
 *
 * Row r of the batch goes to the output unless it is deselected (r % 7 == 3) or flagged in
 * row_error (r % 11 == 5): the expected file lists only the rows that must appear.
 */
#ifndef AVRO_TESTDATA_H
#define AVRO_TESTDATA_H

#include "avro/avro.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct td_field {
    const char *name;
    const char *header;
    csvavro_type type;
    int nullable;
} td_field;

static const td_field td_fields[] = {
    {"b", NULL, CSVAVRO_TYPE_BOOLEAN, 0},
    {"b_n", NULL, CSVAVRO_TYPE_BOOLEAN, 1},
    {"i", NULL, CSVAVRO_TYPE_INT, 0},
    {"i_n", NULL, CSVAVRO_TYPE_INT, 1},
    {"l", NULL, CSVAVRO_TYPE_LONG, 0},
    {"Trip_Distance", "Trip Distance", CSVAVRO_TYPE_LONG, 1},
    {"f", NULL, CSVAVRO_TYPE_FLOAT, 0},
    {"f_n", NULL, CSVAVRO_TYPE_FLOAT, 1},
    {"d", NULL, CSVAVRO_TYPE_DOUBLE, 0},
    {"d_n", NULL, CSVAVRO_TYPE_DOUBLE, 1},
    {"s", NULL, CSVAVRO_TYPE_STRING, 0},
    {"s_n", NULL, CSVAVRO_TYPE_STRING, 1},
    {"by", NULL, CSVAVRO_TYPE_BYTES, 0},
    {"by_n", NULL, CSVAVRO_TYPE_BYTES, 1},
    {"dt", NULL, CSVAVRO_TYPE_DATE, 1},
    {"ts", NULL, CSVAVRO_TYPE_TIMESTAMP_MICROS, 1},
    {"lts", NULL, CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS, 0},
    {"tsm", NULL, CSVAVRO_TYPE_TIMESTAMP_MILLIS, 1},
    {"ltsm", NULL, CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS, 1},
};
#define TD_NF (sizeof td_fields / sizeof td_fields[0])

static inline csvavro_status td_schema(csvavro_schema **s, csvavro_error *err) {
    CAV_TRY(csvavro_schema_create("TestRow", "csvavro.test", s, err));
    for (size_t i = 0; i < TD_NF; i++)
        CAV_TRY(csvavro_schema_add_field(*s, td_fields[i].name, td_fields[i].header,
                                         td_fields[i].type, td_fields[i].nullable, err));
    return CSVAVRO_OK;
}

static const char *const td_strings[] = {"",
                                         "a",
                                         "hello, world",
                                         "quote \" and backslash \\",
                                         "tab\tnew\nline\r",
                                         "\x01\x1f ctl",
                                         "héllo wörld",
                                         "日本語テキスト",
                                         "emoji \xF0\x9F\x98\x80",
                                         "0123456789012345678901234567890123456789"};

static inline uint64_t td_rand(uint64_t *st) {
    return cav_splitmix64(st);
}

/* AVRO_TESTWRITE_FINITE=1 in the environment: no NaN or infinities and no NUL in bytes (for
 * avrocat, whose JSON printer cannot represent the first and cuts bytes at a NUL). */
static inline int td_finite(void) {
    const char *e = getenv("AVRO_TESTWRITE_FINITE");
    return e && *e == '1';
}

static inline float td_float(uint64_t r, uint32_t row) {
    static const float special[] = {0.0f,          -0.0f,  1.5f,           -2.25f,
                                    3.4028235e38f, 1e-45f, 1.17549435e-38f};
    if (row % 13 == 0 && !td_finite()) return NAN;
    if (row % 17 == 0 && !td_finite()) return (row & 1) ? INFINITY : -INFINITY;
    if (row % 5 == 0) return special[r % (sizeof special / sizeof special[0])];
    return (float)((int64_t)(r % 2000001) - 1000000) / 1024.0f;
}

static inline double td_double(uint64_t r, uint32_t row) {
    static const double special[] = {0.0, -0.0, 0.1, -1e308, 5e-324, 2.2250738585072014e-308, 1e22};
    if (row % 19 == 0 && !td_finite()) return NAN;
    if (row % 23 == 0 && !td_finite()) return (row & 1) ? INFINITY : -INFINITY;
    if (row % 5 == 0) return special[r % (sizeof special / sizeof special[0])];
    double v;
    uint64_t bits = (r & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(1023 - 200 + (r >> 52) % 400) << 52);
    memcpy(&v, &bits, 8);
    return v;
}

/* Fills batch b (TD_NF columns, initialised by the caller with capacity >= n) with rows
 * [first, first+n) of the table. */
static inline csvavro_status td_fill(cav_batch *b, uint64_t first, uint32_t n, csvavro_error *err) {
    cav_batch_reset(b);
    b->n_rows = n;
    for (uint32_t k = 0; k < n; k++) {
        uint64_t row = first + k;
        uint64_t st = row * 7919 + 17;
        for (size_t f = 0; f < TD_NF; f++) {
            cav_column *c = &b->cols[f];
            uint64_t r = td_rand(&st);
            int valid = !td_fields[f].nullable || (r % 5) != 1;
            c->valid[k] = (uint8_t)valid;
            switch (td_fields[f].type) {
            case CSVAVRO_TYPE_BOOLEAN:
                c->v.b8[k] = (uint8_t)((r >> 8) & 1);
                break;
            case CSVAVRO_TYPE_INT: {
                static const int32_t ext[] = {INT32_MIN, INT32_MAX, 0, -1, 63, -64, 64};
                c->v.i32[k] = row % 4 == 0 ? ext[(r >> 8) % 7] : (int32_t)(uint32_t)(r >> 16);
                break;
            }
            case CSVAVRO_TYPE_DATE:
                c->v.i32[k] = (int32_t)((r >> 8) % 80000) - 25567;
                break;
            case CSVAVRO_TYPE_LONG: {
                static const int64_t ext[] = {INT64_MIN, INT64_MAX, 0, -1, 63, -64, 1ll << 35};
                c->v.i64[k] = row % 4 == 0 ? ext[(r >> 8) % 7] : (int64_t)(r >> (r & 63));
                if ((r >> 7) & 1) c->v.i64[k] = -c->v.i64[k] - 1;
                break;
            }
            case CSVAVRO_TYPE_TIMESTAMP_MICROS:
            case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
                /* 1900 .. 2100 */
                c->v.i64[k] = (int64_t)((r >> 4) % 6311433600000000ull) - 2208988800000000ll;
                break;
            case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
            case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS:
                c->v.i64[k] = (int64_t)((r >> 4) % 6311433600000ull) - 2208988800000ll;
                break;
            case CSVAVRO_TYPE_FLOAT:
                c->v.f32[k] = td_float(r, (uint32_t)row + (uint32_t)f);
                break;
            case CSVAVRO_TYPE_DOUBLE:
                c->v.f64[k] = td_double(r, (uint32_t)row + (uint32_t)f);
                break;
            case CSVAVRO_TYPE_STRING: {
                const char *s = td_strings[(r >> 8) % (sizeof td_strings / sizeof td_strings[0])];
                c->v.str[k].ptr = s;
                c->v.str[k].len = (uint32_t)strlen(s);
                break;
            }
            case CSVAVRO_TYPE_BYTES: {
                uint32_t len = (uint32_t)((r >> 8) % 9);
                char *p = cav_batch_heap_alloc(b, len ? len : 1, err);
                if (!p) return err ? err->status : CSVAVRO_E_NOMEM;
                for (uint32_t j = 0; j < len; j++) {
                    p[j] = (char)(uint8_t)(r >> (8 * (j % 8)) ^ j);
                    if (p[j] == 0 && td_finite()) p[j] = 1;
                }
                c->v.str[k].ptr = p;
                c->v.str[k].len = len;
                break;
            }
            default:
                break;
            }
        }
        b->row_error[k] = (uint8_t)(row % 11 == 5);
    }
    for (size_t f = 0; f < TD_NF; f++)
        b->cols[f].loaded = true;
    /* Selection: every row except row % 7 == 3. */
    b->sel = b->sel_store;
    b->n_sel = 0;
    for (uint32_t k = 0; k < n; k++)
        if ((first + k) % 7 != 3) b->sel[b->n_sel++] = k;
    return CSVAVRO_OK;
}

static inline csvavro_status td_batch_init(cav_batch *b, uint32_t cap, csvavro_error *err) {
    csvavro_type types[TD_NF];
    for (size_t i = 0; i < TD_NF; i++)
        types[i] = td_fields[i].type;
    return cav_batch_init(b, TD_NF, types, cap, 0, err);
}

/* Writes the expected JSON line of batch row k (ints as numbers, floats as bit patterns,
 * strings as JSON strings with \u escapes, bytes as hex). */
static inline void td_expect(FILE *f, const cav_batch *b, uint32_t k) {
    fputc('{', f);
    for (size_t i = 0; i < TD_NF; i++) {
        const cav_column *c = &b->cols[i];
        fprintf(f, "%s\"%s\":", i ? "," : "", td_fields[i].name);
        if (!c->valid[k]) {
            fputs("null", f);
            continue;
        }
        switch (td_fields[i].type) {
        case CSVAVRO_TYPE_BOOLEAN:
            fputs(c->v.b8[k] ? "true" : "false", f);
            break;
        case CSVAVRO_TYPE_INT:
        case CSVAVRO_TYPE_DATE:
            fprintf(f, "%" PRId32, c->v.i32[k]);
            break;
        case CSVAVRO_TYPE_FLOAT: {
            uint32_t u;
            memcpy(&u, &c->v.f32[k], 4);
            fprintf(f, "%" PRIu32, u);
            break;
        }
        case CSVAVRO_TYPE_DOUBLE: {
            uint64_t u;
            memcpy(&u, &c->v.f64[k], 8);
            fprintf(f, "%" PRIu64, u);
            break;
        }
        case CSVAVRO_TYPE_STRING: {
            fputc('"', f);
            for (uint32_t j = 0; j < c->v.str[k].len; j++) {
                unsigned char ch = (unsigned char)c->v.str[k].ptr[j];
                if (ch == '"' || ch == '\\')
                    fprintf(f, "\\%c", ch);
                else if (ch < 0x20)
                    fprintf(f, "\\u%04x", ch);
                else
                    fputc(ch, f);
            }
            fputc('"', f);
            break;
        }
        case CSVAVRO_TYPE_BYTES:
            fputc('"', f);
            for (uint32_t j = 0; j < c->v.str[k].len; j++)
                fprintf(f, "%02x", (unsigned char)c->v.str[k].ptr[j]);
            fputc('"', f);
            break;
        default:
            fprintf(f, "%" PRId64, c->v.i64[k]);
            break;
        }
    }
    fputs("}\n", f);
}

#endif
