/*
 * csv_infer.c — schema inference, header-to-Avro name mapping, and the public row reader.
 *
 * Inference samples rows from several places of each input: the first window starts at the
 * data start (aligned, read under the caller's on-error policy); further windows start at
 * evenly spaced byte offsets, the last one ending at the end of the input, and skip to the
 * next line end (speculative: a window that lands
 * inside a quoted field just yields ragged rows, which are ignored). Small inputs (< 4 MiB of
 * data) and --infer-rows all are read from the start. Every value is classified (boolean,
 * long, double, date, local timestamp, instant, string) and classes are widened per column:
 * long+double -> double, date+local timestamp -> local timestamp, anything else mixed ->
 * string; integers that overflow int64 are strings; all-null columns are strings.
 */
#include "csv_reader.h"

#include "../io/io.h"

#include <stdio.h>
#include <string.h>

#define SAMPLE_WINDOWS 8
#define SMALL_INPUT ((int64_t)4 << 20)
#define INFER_BATCH 1024

cav_infer_class cav_infer_classify(const char *s, size_t n) {
    if (n == 0) return CAV_INFER_STRING;
    char c = s[0];
    if (n >= 10 && s[4] == '-' && (unsigned)(c - '0') < 10 && (unsigned)(s[1] - '0') < 10 &&
        (unsigned)(s[2] - '0') < 10 && (unsigned)(s[3] - '0') < 10) {
        /* four digits and a '-': not a long nor a double (their grammars allow a '-' only at
         * the start or right after the exponent's e), so only a date or a timestamp */
        int32_t days;
        if (cav_parse_date(s, n, &days)) return CAV_INFER_DATE;
        int64_t us;
        bool zone;
        if (cav_parse_timestamp(s, n, &us, &zone))
            return zone ? CAV_INFER_INSTANT : CAV_INFER_LOCAL_TS;
        return CAV_INFER_STRING;
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
        int64_t l;
        bool ovf;
        if (cav_parse_long_ex(s, n, &l, &ovf)) return CAV_INFER_LONG;
        if (ovf) return CAV_INFER_STRING;
        double d;
        if (cav_parse_double(s, n, &d)) return CAV_INFER_DOUBLE;
        int32_t days;
        if (cav_parse_date(s, n, &days)) return CAV_INFER_DATE;
        int64_t us;
        bool zone;
        if (cav_parse_timestamp(s, n, &us, &zone))
            return zone ? CAV_INFER_INSTANT : CAV_INFER_LOCAL_TS;
        return CAV_INFER_STRING;
    }
    uint8_t b;
    if (cav_parse_bool(s, n, &b)) return CAV_INFER_BOOL;
    double d;
    if ((c == 'n' || c == 'N' || c == 'i' || c == 'I') && cav_parse_double(s, n, &d))
        return CAV_INFER_DOUBLE;
    return CAV_INFER_STRING;
}

cav_infer_class cav_infer_join(cav_infer_class a, cav_infer_class b) {
    if (a == b) return a;
    if (a == CAV_INFER_NONE) return b;
    if (b == CAV_INFER_NONE) return a;
    if (a > b) {
        cav_infer_class t = a;
        a = b;
        b = t;
    }
    if (a == CAV_INFER_LONG && b == CAV_INFER_DOUBLE) return CAV_INFER_DOUBLE;
    if (a == CAV_INFER_DATE && b == CAV_INFER_LOCAL_TS) return CAV_INFER_LOCAL_TS;
    return CAV_INFER_STRING;
}

static csvavro_type class_type(cav_infer_class c) {
    switch (c) {
    case CAV_INFER_BOOL:
        return CSVAVRO_TYPE_BOOLEAN;
    case CAV_INFER_LONG:
        return CSVAVRO_TYPE_LONG;
    case CAV_INFER_DOUBLE:
        return CSVAVRO_TYPE_DOUBLE;
    case CAV_INFER_DATE:
        return CSVAVRO_TYPE_DATE;
    case CAV_INFER_LOCAL_TS:
        return CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS;
    case CAV_INFER_INSTANT:
        return CSVAVRO_TYPE_TIMESTAMP_MICROS;
    default:
        return CSVAVRO_TYPE_STRING;
    }
}

/* Builds a schema with Avro-valid unique names for the header texts (all STRING). */
static csvavro_status names_schema(const cav_csv_header *h, const csvavro_csv_options *o,
                                   csvavro_schema **out, csvavro_error *err) {
    CAV_TRY(csvavro_schema_create(o->record_name, o->ns, out, err));
    csvavro_schema *s = *out;
    for (uint32_t i = 0; i < h->n_cols; i++) {
        char base[200], name[220], trimmed[200];
        /* surrounding ASCII whitespace is not part of the name ("a, b" headers); the original
         * text stays in the field's csvavro.header attribute */
        const char *t = h->names[i];
        size_t tl = strlen(t);
        while (tl &&
               (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n' || *t == '\v' || *t == '\f'))
            t++, tl--;
        while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t' || t[tl - 1] == '\r' ||
                      t[tl - 1] == '\n' || t[tl - 1] == '\v' || t[tl - 1] == '\f'))
            tl--;
        snprintf(trimmed, sizeof trimmed, "%.*s", (int)CAV_MIN(tl, sizeof trimmed - 1), t);
        csvavro_avro_name(trimmed, base, sizeof base);
        snprintf(name, sizeof name, "%s", base);
        for (unsigned k = 2; cav_schema_name_index(s, name) >= 0; k++) /* Avro names only */
            snprintf(name, sizeof name, "%s_%u", base, k);
        csvavro_status st =
            csvavro_schema_add_field(s, name, h->names[i], CSVAVRO_TYPE_STRING, 1, err);
        if (st != CSVAVRO_OK) {
            csvavro_schema_free(s);
            *out = NULL;
            return st;
        }
    }
    return CSVAVRO_OK;
}

/* Fills err->line from err->offset when it is unknown (error path only). */
static void fill_line(csvavro_file *f, csvavro_error *err) {
    if (!err || err->line >= 0 || err->offset < 0 || !f) return;
    int64_t l;
    csvavro_error e;
    if (cav_csv_count_lines(f, err->offset, &l, &e) == CSVAVRO_OK) err->line = l;
}

typedef struct infer_state {
    cav_infer_class *cls;
    uint64_t *nulls;
    uint64_t rows;
} infer_state;

static csvavro_status sample_range(cav_csv_reader *r, cav_batch *b, csvavro_file *f,
                                   const char *path, int64_t start, int64_t end, bool aligned,
                                   uint64_t quota, infer_state *is, csvavro_error *err) {
    CAV_TRY(cav_csv_reader_open_range(r, f, path, start, end, aligned, err));
    uint64_t got = 0;
    while (got < quota) {
        CAV_TRY(cav_csv_reader_next(r, b, err));
        if (b->n_rows == 0) break;
        for (uint32_t i = 0; i < b->n_rows && got < quota; i++, got++) {
            for (uint32_t c = 0; c < b->n_cols; c++) {
                const char *p;
                size_t n;
                bool is_null;
                CAV_TRY(cav_csv_reader_text(r, b, i, c, &p, &n, &is_null, err));
                if (is_null || n == 0) { /* "" is null in every type but string */
                    is->nulls[c]++;
                    continue;
                }
                if (is->cls[c] != CAV_INFER_STRING)
                    is->cls[c] = cav_infer_join(is->cls[c], cav_infer_classify(p, n));
            }
            is->rows++;
        }
    }
    return CSVAVRO_OK;
}

static csvavro_status infer_file(csvavro_file *f, const char *path, const csvavro_csv_options *o,
                                 const cav_csv_header *h, const csvavro_schema *names,
                                 uint64_t quota, infer_state *is, csvavro_error *err) {
    cav_csv_reader *r = NULL;
    cav_batch b;
    memset(&b, 0, sizeof b);
    /* --max-errors counts the bad records of the conversion, where values are checked against
     * their types: the sample sees only the structural ones, and counting those would name a
     * record that is not the first over the limit */
    csvavro_csv_options so0 = *o;
    so0.max_errors = 0;
    csvavro_status st =
        cav_csv_reader_create(&so0, names, cav_csv_batch_rows(INFER_BATCH, h->n_cols), &r, err);
    if (st != CSVAVRO_OK) return st;
    cav_csv_reader_allow_trailing_empty(r, h->trailing_empty);
    st = cav_batch_init(&b, h->n_cols, NULL, cav_csv_batch_rows(INFER_BATCH, h->n_cols), 0, err);
    if (st != CSVAVRO_OK) goto done;
    int64_t size = csvavro_file_size(f);
    int64_t data = size - h->data_start;
    if (quota == UINT64_MAX && f->stream) {
        st = cav_err(err, CSVAVRO_E_USAGE,
                     "--infer-rows all needs the whole input before converting it, but %s is a "
                     "stream, read once: give a number of rows or --schema",
                     f->path);
        goto done;
    }
    if (quota == UINT64_MAX || data < SMALL_INPUT || f->sequential) {
        /* a decoded or streamed input: the first rows (no seeking into it) */
        cav_csv_reader_set_base(r, 1, h->data_start_line);
        st = sample_range(r, &b, f, path, h->data_start, INT64_MAX, true, quota, is, err);
        goto done;
    }
    uint64_t per = quota / SAMPLE_WINDOWS + 1;
    int64_t window_bytes = 0;
    for (int w = 0; w < SAMPLE_WINDOWS && st == CSVAVRO_OK; w++) {
        /* window 0 at the data start, the last one ending at the end of the input */
        int64_t span = data - window_bytes;
        if (span < 0) span = 0;
        int64_t start = h->data_start + span / (SAMPLE_WINDOWS - 1) * w;
        uint64_t rows_before = is->rows;
        csvavro_csv_options so = *o;
        so.max_errors = 0; /* as above */
        if (w > 0) so.on_error = CSVAVRO_ON_ERROR_SKIP;
        cav_csv_reader *wr = NULL;
        st =
            cav_csv_reader_create(&so, names, cav_csv_batch_rows(INFER_BATCH, h->n_cols), &wr, err);
        if (st != CSVAVRO_OK) break;
        cav_csv_reader_allow_trailing_empty(wr, h->trailing_empty);
        cav_csv_reader_tune(wr, -1, (size_t)1 << 20); /* a window is ~0.5 MB of rows */
        if (w == 0) cav_csv_reader_set_base(wr, 1, h->data_start_line);
        st = sample_range(wr, &b, f, path, start, INT64_MAX, w == 0, per, is, err);
        if (w == 0 && is->rows > rows_before) window_bytes = cav_csv_reader_bytes_done(wr) + 4096;
        cav_csv_reader_free(wr);
    }
done:
    if (st != CSVAVRO_OK) fill_line(f, err);
    cav_batch_free(&b);
    cav_csv_reader_free(r);
    return st;
}

/* --type COL=decimal(P,S) or decimal(P) (scale 0): an Avro bytes decimal. */
static csvavro_status decimal_override(csvavro_schema *s, size_t ci, const char *col,
                                       const char *spec, csvavro_error *err) {
    int p = 0, sc = 0, used = 0;
    const char *a = spec + 7;
    if (!((sscanf(a, "(%d,%d)%n", &p, &sc, &used) == 2 && a[used] == '\0') ||
          (sscanf(a, "(%d)%n", &p, &used) == 1 && a[used] == '\0' && (sc = 0, true))))
        return cav_err(err, CSVAVRO_E_USAGE,
                       "--type %s=%s: expected decimal(PRECISION,SCALE), e.g. decimal(10,2)", col,
                       spec);
    csvavro_status st = csvavro_schema_set_decimal(s, ci, p, sc, 0, NULL, err);
    if (st != CSVAVRO_OK) {
        if (err) err->status = CSVAVRO_E_USAGE;
        return CSVAVRO_E_USAGE;
    }
    return CSVAVRO_OK;
}

csvavro_status csvavro_csv_infer(csvavro_fs *fs, const char *const *paths, size_t n_paths,
                                 const csvavro_csv_options *o, csvavro_schema **out,
                                 csvavro_error *err) {
    *out = NULL;
    CAV_RETURN_IF(n_paths == 0, err, CSVAVRO_E_USAGE, "no input to infer a schema from");
    CAV_TRY(cav_csv_options_check(o, err));
    CAV_RETURN_IF(o->timestamps && o->timestamps != CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS &&
                      o->timestamps != CSVAVRO_TYPE_TIMESTAMP_MILLIS &&
                      o->timestamps != CSVAVRO_TYPE_TIMESTAMP_MICROS &&
                      o->timestamps != CSVAVRO_TYPE_STRING,
                  err, CSVAVRO_E_USAGE,
                  "timestamps: local-timestamp-micros, timestamp-millis, timestamp-micros or "
                  "string");
    csvavro_status st = CSVAVRO_OK;
    cav_csv_header h;
    memset(&h, 0, sizeof h);
    csvavro_schema *s = NULL;
    infer_state is = {0};
    uint64_t quota =
        o->infer_rows == UINT64_MAX ? UINT64_MAX : CAV_MAX(o->infer_rows / n_paths, (uint64_t)1);
    for (size_t k = 0; k < n_paths; k++) {
        csvavro_file *f = NULL;
        st = cav_input_open(fs, paths[k], o->compression, o->zip_entry, &f, err);
        if (st != CSVAVRO_OK) break;
        cav_csv_header hk;
        st = cav_csv_read_header(f, o, &hk, err);
        if (st == CSVAVRO_OK && k == 0) {
            h = hk;
            if (h.n_cols == 0) {
                cav_err_path(err, paths[k]);
                st = cav_err(err, CSVAVRO_E_CSV, "no header and no records: the input is empty");
            } else {
                st = names_schema(&h, o, &s, err);
                if (st == CSVAVRO_OK) {
                    is.cls = cav_calloc(h.n_cols, sizeof *is.cls);
                    is.nulls = cav_calloc(h.n_cols, sizeof *is.nulls);
                    if (!is.cls || !is.nulls) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                }
            }
        } else if (st == CSVAVRO_OK) {
            if (hk.n_cols != h.n_cols && hk.n_cols != 0) {
                cav_err_path(err, paths[k]);
                st = cav_err(err, CSVAVRO_E_CSV, "has %u columns but %s has %u", hk.n_cols,
                             paths[0], h.n_cols);
            }
        }
        if (st == CSVAVRO_OK && (k == 0 || hk.n_cols))
            st = infer_file(f, paths[k], o, k == 0 ? &h : &hk, s, quota, &is, err);
        if (k > 0) cav_csv_header_free(&hk);
        csvavro_file_close(f, NULL);
        if (st != CSVAVRO_OK) break;
    }
    if (st == CSVAVRO_OK) {
        bool exact = o->infer_rows == UINT64_MAX;
        for (uint32_t c = 0; c < h.n_cols; c++) {
            s->fields[c].type = class_type(is.cls[c]);
            /* --timestamps: what inferred timestamps become for readers without local-timestamp */
            if (o->timestamps &&
                (is.cls[c] == CAV_INFER_LOCAL_TS || is.cls[c] == CAV_INFER_INSTANT)) {
                if (o->timestamps == CSVAVRO_TYPE_STRING)
                    s->fields[c].type = CSVAVRO_TYPE_STRING;
                else if (is.cls[c] == CAV_INFER_LOCAL_TS ||
                         o->timestamps == CSVAVRO_TYPE_TIMESTAMP_MILLIS)
                    s->fields[c].type = o->timestamps;
            }
            s->fields[c].nullable = !(exact && is.nulls[c] == 0 && is.rows > 0);
        }
        for (size_t i = 0; i < o->n_type_overrides && st == CSVAVRO_OK; i++) {
            const char *eq = strrchr(o->type_overrides[i], '=');
            if (!eq) {
                st = cav_err(err, CSVAVRO_E_USAGE, "--type %s: expected COLUMN=TYPE",
                             o->type_overrides[i]);
                break;
            }
            char col[256];
            snprintf(col, sizeof col, "%.*s", (int)(eq - o->type_overrides[i]),
                     o->type_overrides[i]);
            long ci = csvavro_schema_find(s, col);
            csvavro_type t;
            const char *sg = ci < 0 ? cav_schema_suggest(s, col) : NULL;
            if (ci < 0 && sg)
                st = cav_err(err, CSVAVRO_E_USAGE,
                             "--type: no column named '%s' (did you mean '%s'?)", col, sg);
            else if (ci < 0)
                st = cav_err(err, CSVAVRO_E_USAGE, "--type: no column named '%s'", col);
            else if (strncmp(eq + 1, "decimal", 7) == 0)
                st = decimal_override(s, (size_t)ci, col, eq + 1, err);
            else if (csvavro_type_parse(eq + 1, &t) != CSVAVRO_OK || t == CSVAVRO_TYPE_NULL)
                st = cav_err(err, CSVAVRO_E_USAGE, "--type %s: unknown type '%s'", col, eq + 1);
            else
                s->fields[ci].type = t;
        }
        for (size_t i = 0; i < o->n_not_null && st == CSVAVRO_OK; i++) {
            long ci = csvavro_schema_find(s, o->not_null[i]);
            if (ci < 0)
                st = cav_err(err, CSVAVRO_E_USAGE, "--not-null: no column named '%s'",
                             o->not_null[i]);
            else
                s->fields[ci].nullable = false;
        }
    }
    cav_free(is.cls);
    cav_free(is.nulls);
    cav_csv_header_free(&h);
    if (st != CSVAVRO_OK) {
        csvavro_schema_free(s);
        return st;
    }
    *out = s;
    return CSVAVRO_OK;
}

/* ------------------------------------------------------------------ public row reader */

#define ROW_BATCH 256

struct csvavro_csv_reader {
    csvavro_fs *fs;
    csvavro_file *f;
    cav_csv_header h;
    csvavro_schema *names;
    cav_csv_reader *r;
    cav_batch b;
    uint32_t row;
    const char **fields;
    size_t *lens;
    csvavro_type *types; /* csvavro_csv_use_schema: the column types, else NULL */
};

void csvavro_csv_close(csvavro_csv_reader *cr) {
    if (!cr) return;
    cav_batch_free(&cr->b);
    cav_csv_reader_free(cr->r);
    csvavro_schema_free(cr->names);
    cav_csv_header_free(&cr->h);
    if (cr->f) csvavro_file_close(cr->f, NULL);
    cav_free(cr->fields);
    cav_free(cr->lens);
    cav_free(cr->types);
    cav_free(cr);
}

csvavro_status csvavro_csv_open(csvavro_fs *fs, const char *path, const csvavro_csv_options *o,
                                csvavro_csv_reader **out, csvavro_error *err) {
    *out = NULL;
    csvavro_csv_reader *cr = cav_calloc(1, sizeof *cr);
    if (!cr) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    csvavro_status st = cav_input_open(fs, path, o->compression, o->zip_entry, &cr->f, err);
    if (st == CSVAVRO_OK) st = cav_csv_read_header(cr->f, o, &cr->h, err);
    if (st == CSVAVRO_OK && cr->h.n_cols == 0) {
        cav_err_path(err, path);
        st = cav_err(err, CSVAVRO_E_CSV, "no header and no records: the input is empty");
    }
    if (st == CSVAVRO_OK) st = names_schema(&cr->h, o, &cr->names, err);
    if (st == CSVAVRO_OK)
        st = cav_csv_reader_create(o, cr->names, cav_csv_batch_rows(ROW_BATCH, cr->h.n_cols),
                                   &cr->r, err);
    if (st == CSVAVRO_OK) cav_csv_reader_allow_trailing_empty(cr->r, cr->h.trailing_empty);
    if (st == CSVAVRO_OK)
        st = cav_batch_init(&cr->b, cr->h.n_cols, NULL, cav_csv_batch_rows(ROW_BATCH, cr->h.n_cols),
                            0, err);
    if (st == CSVAVRO_OK) {
        cr->fields = cav_calloc(cr->h.n_cols, sizeof *cr->fields);
        cr->lens = cav_calloc(cr->h.n_cols, sizeof *cr->lens);
        if (!cr->fields || !cr->lens) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    if (st == CSVAVRO_OK)
        st = cav_csv_reader_open_range(cr->r, cr->f, path, cr->h.data_start, INT64_MAX, true, err);
    if (st == CSVAVRO_OK) cav_csv_reader_set_base(cr->r, 1, cr->h.data_start_line);
    if (st != CSVAVRO_OK) {
        fill_line(cr->f, err);
        csvavro_csv_close(cr);
        return st;
    }
    *out = cr;
    return CSVAVRO_OK;
}

csvavro_status csvavro_csv_use_schema(csvavro_csv_reader *cr, const csvavro_schema *s,
                                      csvavro_error *err) {
    if (csvavro_schema_field_count(s) != cr->h.n_cols)
        return cav_err(err, CSVAVRO_E_USAGE, "schema has %zu fields, the input %zu columns",
                       csvavro_schema_field_count(s), (size_t)cr->h.n_cols);
    if (!cr->types) {
        cr->types = cav_calloc(cr->h.n_cols ? cr->h.n_cols : 1, sizeof *cr->types);
        if (!cr->types) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    for (size_t c = 0; c < cr->h.n_cols; c++)
        cr->types[c] = csvavro_schema_field_type(s, c);
    return CSVAVRO_OK;
}

size_t csvavro_csv_column_count(const csvavro_csv_reader *cr) {
    return cr->h.n_cols;
}

const char *csvavro_csv_column_name(const csvavro_csv_reader *cr, size_t i) {
    return i < cr->h.n_cols ? cr->h.names[i] : NULL;
}

csvavro_status csvavro_csv_next_row(csvavro_csv_reader *cr, const char *const **fields,
                                    const size_t **lens, size_t *n_fields, csvavro_error *err) {
    *fields = NULL;
    *lens = NULL;
    *n_fields = 0;
    for (;;) {
        if (cr->row >= cr->b.n_rows) {
            cr->row = 0;
            csvavro_status st = cav_csv_reader_next(cr->r, &cr->b, err);
            if (st != CSVAVRO_OK) {
                fill_line(cr->f, err);
                return st;
            }
            if (cr->b.n_rows == 0) return CSVAVRO_OK;
        }
        uint32_t i = cr->row++;
        for (uint32_t c = 0; c < cr->h.n_cols; c++) {
            bool is_null;
            csvavro_status st = cav_csv_reader_text(cr->r, &cr->b, i, c, &cr->fields[c],
                                                    &cr->lens[c], &is_null, err);
            if (st != CSVAVRO_OK) {
                fill_line(cr->f, err);
                return st;
            }
            if (!is_null && cr->lens[c] == 0 && cr->types &&
                cav_csv_quoted_empty_is_null(cr->types[c]) && cav_csv_reader_is_quoted(cr->r, i, c))
                is_null = true;
            if (is_null) cr->fields[c] = NULL, cr->lens[c] = 0;
        }
        if (cr->b.row_error[i]) continue; /* rejected under skip/reject */
        *fields = (const char *const *)cr->fields;
        *lens = cr->lens;
        *n_fields = cr->h.n_cols;
        return CSVAVRO_OK;
    }
}
