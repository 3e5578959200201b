/*
 * fuzz_where.c — the --where parser, type checker and evaluator (src/filter) on arbitrary text.
 *
 * Fixed schema: one column of every type (nullable), plus a header with a space and a column
 * named like a keyword. For every input:
 *   - compile through the public API (csvavro_filter_compile) and the internal one; both agree
 *     on the status; an error is CSVAVRO_E_EXPR (or E_NOMEM) with 0 <= offset <= length and a
 *     message;
 *   - a compiled filter's canonical text compiles again to the same canonical text and the same
 *     column list (sorted, unique, in range);
 *   - evaluation over a fixed 40-row batch (nulls, extremes, NaN, -0.0, odd strings) gives the
 *     same selection with the AVX2 and the plain kernels, and for the canonical text.
 */
#include "fuzz_util.h"
#include "filter/filter.h"

#include <math.h>

#define NROWS 40

static const struct {
    const char *name, *orig;
    csvavro_type t;
} cols[] = {
    {"b", NULL, CSVAVRO_TYPE_BOOLEAN},
    {"i", NULL, CSVAVRO_TYPE_INT},
    {"l", NULL, CSVAVRO_TYPE_LONG},
    {"f", NULL, CSVAVRO_TYPE_FLOAT},
    {"d", NULL, CSVAVRO_TYPE_DOUBLE},
    {"s", NULL, CSVAVRO_TYPE_STRING},
    {"by", NULL, CSVAVRO_TYPE_BYTES},
    {"dt", NULL, CSVAVRO_TYPE_DATE},
    {"ts", NULL, CSVAVRO_TYPE_TIMESTAMP_MICROS},
    {"lts", NULL, CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS},
    {"tsm", NULL, CSVAVRO_TYPE_TIMESTAMP_MILLIS},
    {"ltsm", NULL, CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS},
    {"trip_time", "trip time", CSVAVRO_TYPE_LONG},
    {"and_", "and", CSVAVRO_TYPE_INT},
};
#define NCOLS (sizeof cols / sizeof cols[0])

static csvavro_schema *schema;
static cav_batch batch;
static const char *strs[] = {"",         "a",   "CMT",        "VTS", "x'y", "\xc3\xa9t\xc3\xa9",
                             "\xff\xfe", "zzz", "2013-01-05", "NULL"};

static void setup(void) {
    csvavro_error err;
    if (csvavro_schema_create(NULL, NULL, &schema, &err) != CSVAVRO_OK) abort();
    csvavro_type types[NCOLS];
    for (size_t c = 0; c < NCOLS; c++) {
        if (csvavro_schema_add_field(schema, cols[c].name, cols[c].orig, cols[c].t, 1, &err) !=
            CSVAVRO_OK)
            abort();
        types[c] = cols[c].t;
    }
    if (cav_batch_init(&batch, NCOLS, types, NROWS, 0, &err) != CSVAVRO_OK) abort();
    static const int64_t l_v[] = {
        0,   1,       -1,           3, 7, INT64_MAX, INT64_MIN, 1LL << 53, (1LL << 53) + 1, -42,
        100, 1000000, 86400000000LL};
    static const double d_v[] = {0.0,     -0.0, 1.5, -2.25, 3.0, 1e308, -1e-308, 9007199254740993.0,
                                 4.9e-324};
    batch.n_rows = NROWS;
    for (uint32_t r = 0; r < NROWS; r++) {
        int64_t lv = l_v[r % CAV_ARRAY_LEN(l_v)];
        double dv = r == 17   ? NAN
                    : r == 18 ? INFINITY
                    : r == 19 ? -INFINITY
                              : d_v[r % CAV_ARRAY_LEN(d_v)];
        for (size_t c = 0; c < NCOLS; c++) {
            cav_column *col = &batch.cols[c];
            col->loaded = true;
            col->valid[r] = (r + c) % 7 != 3;
            switch (cols[c].t) {
            case CSVAVRO_TYPE_BOOLEAN:
                col->v.b8[r] = (uint8_t)(r & 1);
                break;
            case CSVAVRO_TYPE_INT:
            case CSVAVRO_TYPE_DATE:
                col->v.i32[r] = r % 5 == 0 ? INT32_MIN + (int32_t)r : (int32_t)lv;
                break;
            case CSVAVRO_TYPE_FLOAT:
                col->v.f32[r] = (float)dv;
                break;
            case CSVAVRO_TYPE_DOUBLE:
                col->v.f64[r] = dv;
                break;
            case CSVAVRO_TYPE_STRING:
            case CSVAVRO_TYPE_BYTES: {
                const char *sv = strs[(r + c) % CAV_ARRAY_LEN(strs)];
                col->v.str[r].ptr = sv;
                col->v.str[r].len = (uint32_t)strlen(sv);
                break;
            }
            default: /* 64-bit: long and timestamps (2013-ish µs / ms and extremes) */
                col->v.i64[r] =
                    r % 4 == 0 ? lv : 1357344000000000LL / (c >= 10 ? 1000 : 1) + (int64_t)r * 999;
                break;
            }
        }
    }
}

/* Selection of e over the batch (as a row bitmap); plain selects the plain kernels. */
static void eval(const cav_filter *e, bool plain, uint8_t *out) {
    csvavro_error err;
    cav_filter_state *st;
    FUZZ_CHECK(cav_filter_state_create(e, NROWS, &st, &err) == CSVAVRO_OK, "state: %s",
               err.message);
    if (plain) cav_filter_state_use_plain(st);
    batch.sel = NULL;
    batch.n_sel = 0;
    csvavro_status s = cav_filter_apply(e, st, &batch, &err);
    FUZZ_CHECK(s == CSVAVRO_OK, "filter failed: %s", err.message);
    memset(out, 0, NROWS);
    for (uint32_t i = 0; i < cav_batch_selected(&batch); i++) {
        uint32_t r = cav_batch_row(&batch, i);
        FUZZ_CHECK(r < NROWS && (i == 0 || r > cav_batch_row(&batch, i - 1)), "bad selection");
        out[r] = 1;
    }
    cav_filter_state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!schema) setup();
    if (size > 8192) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t tlen = strlen(text);

    csvavro_error e1, e2;
    csvavro_error_clear(&e1);
    csvavro_error_clear(&e2);
    csvavro_filter *pf = NULL;
    cav_filter *e = NULL;
    csvavro_status s1 = csvavro_filter_compile(text, schema, &pf, &e1);
    csvavro_status s2 = cav_filter_compile(text, schema, &e, &e2);
    FUZZ_CHECK(s1 == s2, "public %d vs internal %d", s1, s2);
    if (s2 != CSVAVRO_OK) {
        FUZZ_CHECK(s2 == CSVAVRO_E_EXPR || s2 == CSVAVRO_E_NOMEM, "status %d", s2);
        FUZZ_CHECK(e2.offset >= 0 && (size_t)e2.offset <= tlen, "offset %lld of %zu",
                   (long long)e2.offset, tlen);
        FUZZ_CHECK(e2.message[0] != '\0', "empty message");
        free(text);
        return 0;
    }
    const char *canon = cav_filter_text(e);
    FUZZ_CHECK(strcmp(canon, csvavro_filter_text(pf)) == 0, "canonical texts differ");
    const uint32_t *cl;
    size_t nc = cav_filter_columns(e, &cl);
    FUZZ_CHECK(nc == csvavro_filter_column_count(pf), "column counts differ");
    for (size_t i = 0; i < nc; i++) {
        FUZZ_CHECK(cl[i] < NCOLS && (i == 0 || cl[i] > cl[i - 1]), "column list");
        FUZZ_CHECK(cl[i] == csvavro_filter_column(pf, i), "column lists differ");
    }

    cav_filter *e3 = NULL;
    csvavro_status s3 = cav_filter_compile(canon, schema, &e3, &e2);
    FUZZ_CHECK(s3 == CSVAVRO_OK, "canonical text '%s' of '%s' does not compile: %s", canon, text,
               e2.message);
    FUZZ_CHECK(strcmp(cav_filter_text(e3), canon) == 0, "canonical text not stable: '%s' -> '%s'",
               canon, cav_filter_text(e3));
    const uint32_t *cl3;
    size_t nc3 = cav_filter_columns(e3, &cl3);
    FUZZ_CHECK(nc3 == nc && (nc == 0 || !memcmp(cl, cl3, nc * sizeof *cl)), "columns change");

    uint8_t a[NROWS], b[NROWS], c[NROWS];
    eval(e, false, a);
    eval(e, true, b);
    eval(e3, false, c);
    FUZZ_CHECK(!memcmp(a, b, NROWS), "avx2 and plain kernels disagree on '%s'", text);
    FUZZ_CHECK(!memcmp(a, c, NROWS), "canonical '%s' selects other rows than '%s'", canon, text);

    cav_filter_free(e3);
    cav_filter_free(e);
    csvavro_filter_free(pf);
    free(text);
    return 0;
}
