/*
 * csv_load.c — lazy conversion of one column of the current batch to its schema type, field
 * text extraction (quotes, escapes, latin-1), and the on-error policy (errors, reject lines).
 *
 * Hot loops are per type: the common field (unquoted, not empty, a valid value) takes a fast
 * parse straight from the reader's buffer; anything else (quoted, null marker, escape, parse
 * failure) goes to a slow path that extracts the text first and then decides. String fields
 * are views into the buffer unless they need unescaping or transcoding (then the batch heap).
 *
 * Null rules: null markers (default: only the empty field) match unquoted fields; a quoted
 * field is never null in a string or bytes column ("" is the empty value) but an empty quoted
 * field is null in every other type (cav_csv_quoted_empty_is_null: there is no empty number).
 */
#include "csv_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ text */

csvavro_status cav_csv_unescape(const csvavro_csv_options *o, const char *raw, size_t len,
                                char *out, size_t *out_len);

csvavro_status cav_csv_unescape(const csvavro_csv_options *o, const char *raw, size_t len,
                                char *out, size_t *out_len) {
    const char Q = o->quote, E = o->escape == o->quote ? 0 : o->escape;
    size_t k = 0;
    if (Q && len >= 1 && raw[0] == Q) {
        size_t end = (len >= 2 && raw[len - 1] == Q) ? len - 1 : len;
        for (size_t i = 1; i < end; i++) {
            char c = raw[i];
            if (E && c == E && i + 1 < end)
                c = raw[++i];
            else if (c == Q && i + 1 < end && raw[i + 1] == Q)
                i++;
            out[k++] = c;
        }
    } else {
        for (size_t i = 0; i < len; i++) {
            char c = raw[i];
            if (E && c == E && i + 1 < len) c = raw[++i];
            out[k++] = c;
        }
    }
    *out_len = k;
    return CSVAVRO_OK;
}

/* The position in the input's records of batch column col (they differ under a layout map). */
static int32_t input_column(const cav_csv_reader *r, int32_t col) {
    return r->map && r->map[col] >= 0 ? r->map[col] : col;
}

static int64_t rec_number(const cav_csv_reader *r, uint64_t rec_index) {
    return r->first_record > 0 ? r->first_record + (int64_t)rec_index : -1;
}

/* Physical line of byte off (error path): counts line ends from a cached point. */
static int64_t line_of(cav_csv_reader *r, int64_t off) {
    if (r->line_at_off <= 0 || off < r->line_off) {
        int64_t l;
        csvavro_error e;
        if (cav_csv_count_lines(r->f, off, &l, &e) != CSVAVRO_OK) return -1;
        r->line_off = off;
        r->line_at_off = l;
        return l;
    }
    /* count [line_off, off) */
    uint8_t tmp[65536];
    int64_t pos = r->line_off, n = 0;
    bool prev_cr = false;
    while (pos < off) {
        size_t want = (size_t)CAV_MIN((int64_t)sizeof tmp, off - pos), got = 0;
        csvavro_error e;
        if (csvavro_file_pread(r->f, tmp, want, pos, &got, &e) != CSVAVRO_OK || got == 0) return -1;
        for (size_t i = 0; i < got; i++) {
            if (tmp[i] == '\n')
                n++;
            else if (prev_cr)
                n++;
            prev_cr = tmp[i] == '\r';
        }
        pos += (int64_t)got;
    }
    if (prev_cr) n++;
    r->line_at_off += n;
    r->line_off = off;
    return r->line_at_off;
}

static csvavro_status json_str(cav_buf *b, const char *s, size_t n, csvavro_error *err) {
    CAV_TRY(cav_buf_append(b, "\"", 1, err));
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t j = i;
            while (j < n && (uint8_t)s[j] >= 0x20 && (uint8_t)s[j] < 0x80 && s[j] != '"' &&
                   s[j] != '\\')
                j++;
            CAV_TRY(cav_buf_append(b, s + i, j - i, err));
            i = j;
        } else if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            CAV_TRY(cav_buf_append(b, e, 2, err));
            i++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            char e[2] = {'\\', c == '\n' ? 'n' : c == '\r' ? 'r' : 't'};
            CAV_TRY(cav_buf_append(b, e, 2, err));
            i++;
        } else if (c < 0x20) {
            CAV_TRY(cav_buf_printf(b, err, "\\u%04x", c));
            i++;
        } else {
            size_t v = cav_utf8_check((const uint8_t *)s + i, CAV_MIN(n - i, (size_t)4));
            size_t seq = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if (seq > 1 && v >= seq) {
                CAV_TRY(cav_buf_append(b, s + i, seq, err));
                i += seq;
            } else {
                CAV_TRY(cav_buf_printf(b, err, "\\u%04x", c)); /* invalid byte: latin-1 */
                i++;
            }
        }
    }
    return cav_buf_append(b, "\"", 1, err);
}

csvavro_status cav_csv_bad_record(cav_csv_reader *r, int64_t rec_off, const uint8_t *raw,
                                  size_t raw_len, uint64_t rec_index, int32_t column,
                                  const char *value, size_t value_len, csvavro_status st,
                                  const char *reason, csvavro_error *err) {
    if (r->o.on_error == CSVAVRO_ON_ERROR_FAIL) {
        if (err) {
            csvavro_error_clear(err);
            cav_err_path(err, r->path);
            err->offset = rec_off;
            err->record = rec_number(r, rec_index);
            if (r->first_line > 0) err->line = line_of(r, rec_off);
            if (column >= 0) cav_err_column(err, input_column(r, column), r->col_names[column]);
            if (value) cav_err_value(err, value, value_len);
        }
        return cav_err(err, st, "%s", reason);
    }
    r->rejected++;
    size_t at = r->sink ? r->sink->len : 0;
    if (r->sink) {
        cav_buf *s = r->sink;
        int64_t line = line_of(r, rec_off);
        CAV_TRY(cav_buf_append_str(s, "{\"path\":", err));
        CAV_TRY(json_str(s, r->path, strlen(r->path), err));
        CAV_TRY(cav_buf_printf(
            s, err, ",\"line\":%lld,\"offset\":%lld,\"record\":%lld,\"column\":", (long long)line,
            (long long)rec_off, (long long)rec_number(r, rec_index)));
        if (column >= 0)
            CAV_TRY(json_str(s, r->col_names[column], strlen(r->col_names[column]), err));
        else
            CAV_TRY(cav_buf_append_str(s, "null", err));
        CAV_TRY(cav_buf_append_str(s, ",\"value\":", err));
        if (value)
            CAV_TRY(json_str(s, value, value_len, err));
        else
            CAV_TRY(cav_buf_append_str(s, "null", err));
        CAV_TRY(cav_buf_append_str(s, ",\"reason\":", err));
        CAV_TRY(json_str(s, reason, strlen(reason), err));
        CAV_TRY(cav_buf_append_str(s, ",\"raw\":", err));
        CAV_TRY(json_str(s, (const char *)raw, raw_len, err));
        CAV_TRY(cav_buf_append_str(s, "}\n", err));
    }
    if (r->o.max_errors && r->rejected > r->o.max_errors) r->over_limit = true;
    if (!r->sink && !r->o.max_errors) return CSVAVRO_OK;
    /* remember it for cav_csv_reader_batch_done (input order, --max-errors) */
    if (r->n_bad == 0) r->rejected_before = r->rejected - 1;
    if (r->n_bad == r->cap_bad) {
        size_t nc = r->cap_bad ? r->cap_bad * 2 : 16;
        cav_csv_bad *nb = cav_realloc(r->bad, nc * sizeof *nb);
        if (!nb) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        r->bad = nb;
        r->cap_bad = nc;
    }
    cav_csv_bad *e = &r->bad[r->n_bad];
    memset(e, 0, sizeof *e);
    e->rec_index = rec_index;
    e->offset = rec_off;
    e->at = at;
    e->len = r->sink ? r->sink->len - at : 0;
    e->column = column;
    e->st = st;
    r->n_bad++;
    if (r->o.max_errors) {
        e->reason = cav_strdup(reason);
        e->value = value ? cav_strndup(value, value_len) : NULL;
        e->value_len = value_len;
        if (!e->reason || (value && !e->value))
            return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    return CSVAVRO_OK;
}

static void free_bad(cav_csv_reader *r) {
    for (size_t i = 0; i < r->n_bad; i++) {
        cav_free(r->bad[i].reason);
        cav_free(r->bad[i].value);
    }
    r->n_bad = 0;
}

static int bad_cmp(const void *a, const void *b) {
    const cav_csv_bad *x = a, *y = b;
    if (x->rec_index != y->rec_index) return x->rec_index < y->rec_index ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at; /* one record is reported once: never equal */
}

csvavro_status cav_csv_reader_batch_done(cav_csv_reader *r, csvavro_error *err) {
    if (r->n_bad == 0) return CSVAVRO_OK;
    bool sorted = true;
    for (size_t i = 1; i < r->n_bad && sorted; i++)
        sorted = r->bad[i - 1].rec_index < r->bad[i].rec_index;
    csvavro_status st = CSVAVRO_OK;
    if (!sorted) {
        qsort(r->bad, r->n_bad, sizeof *r->bad, bad_cmp);
        if (r->sink) {
            /* rewrite the batch's reject lines (contiguous at the end of the sink) in order */
            size_t from = r->bad[0].at;
            for (size_t i = 1; i < r->n_bad; i++)
                from = CAV_MIN(from, r->bad[i].at);
            size_t n = r->sink->len - from;
            uint8_t *tmp = cav_malloc(n ? n : 1);
            if (!tmp) {
                free_bad(r);
                return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            }
            memcpy(tmp, r->sink->data + from, n);
            size_t o = from;
            for (size_t i = 0; i < r->n_bad; i++) {
                memcpy(r->sink->data + o, tmp + (r->bad[i].at - from), r->bad[i].len);
                r->bad[i].at = o;
                o += r->bad[i].len;
            }
            cav_free(tmp);
        }
    }
    if (r->o.max_errors && r->rejected > r->o.max_errors) {
        /* the first record over the limit, in input order */
        size_t k = (size_t)(r->o.max_errors - r->rejected_before);
        const cav_csv_bad *e = &r->bad[k < r->n_bad ? k : r->n_bad - 1];
        if (err) {
            csvavro_error_clear(err);
            cav_err_path(err, r->path);
            err->offset = e->offset;
            err->record = rec_number(r, e->rec_index);
            if (r->first_line > 0) err->line = line_of(r, e->offset);
            if (e->column >= 0)
                cav_err_column(err, input_column(r, e->column), r->col_names[e->column]);
            if (e->value) cav_err_value(err, e->value, e->value_len);
        }
        st = cav_err(err, CSVAVRO_E_LIMIT,
                     "more than %llu bad records (--max-errors); the first one over: %s",
                     (unsigned long long)r->o.max_errors, e->reason ? e->reason : "");
    }
    free_bad(r);
    return st;
}

/* Content of a field. *quoted tells a quoted field. Heap copies for unescape/latin-1. */
static csvavro_status field_text(cav_csv_reader *r, cav_batch *b, uint32_t row, uint32_t col,
                                 const char **p, size_t *n, bool *quoted, bool *is_null,
                                 csvavro_error *err) {
    const char *s;
    size_t len;
    cav_csv_reader_raw(r, row, col, &s, &len);
    const char Q = r->o.quote, E = r->o.escape;
    if (r->o.skip_initial_space)
        while (len && *s == ' ')
            s++, len--;
    *quoted = Q && len && s[0] == Q;
    if (r->o.trim && !*quoted) {
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
    }
    *is_null = false;
    bool copy = false;
    if (*quoted) {
        const char *c = s + 1;
        size_t cl = len >= 2 ? len - 2 : 0;
        copy = memchr(c, Q, cl) || (E && memchr(c, E, cl));
        if (!copy) s = c, len = cl;
    } else {
        if (cav_csv_is_null(&r->o, s, len)) {
            *is_null = true;
            *p = s;
            *n = 0;
            return CSVAVRO_OK;
        }
        copy = E && memchr(s, E, len);
    }
    if (copy) {
        char *h = cav_batch_heap_alloc(b, len, err);
        if (!h) return err ? err->status : CSVAVRO_E_NOMEM;
        size_t k;
        cav_csv_unescape(&r->o, s, len, h, &k);
        s = h;
        len = k;
    }
    if (r->o.encoding == CSVAVRO_ENCODING_LATIN1) {
        size_t u = cav_latin1_utf8_len(s, len);
        if (u != len) {
            char *h = cav_batch_heap_alloc(b, u, err);
            if (!h) return err ? err->status : CSVAVRO_E_NOMEM;
            size_t k = cav_latin1_to_utf8(s, len, h);
            s = h;
            len = k;
        }
    }
    *p = s;
    *n = len;
    return CSVAVRO_OK;
}

/* at: the offending byte when it lies in the reader's buffer (else the field start is used). */
static csvavro_status value_error(cav_csv_reader *r, cav_batch *b, uint32_t row, uint32_t col,
                                  const char *v, size_t n, const char *at, csvavro_status st,
                                  const char *what, csvavro_error *err) {
    const char *raw;
    size_t rawlen;
    cav_csv_reader_raw(r, row, (uint32_t)input_column(r, (int32_t)col), &raw, &rawlen);
    int64_t off = r->buf_off + (raw - (const char *)r->buf);
    if (at && at >= raw && at < raw + rawlen) off = r->buf_off + (at - (const char *)r->buf);
    char reason[256];
    char shown[64];
    size_t sn = CAV_MIN(n, sizeof shown - 1);
    for (size_t i = 0; i < sn; i++)
        shown[i] = (v[i] >= 32 && v[i] < 127) ? v[i] : '?';
    shown[sn] = '\0';
    snprintf(reason, sizeof reason, "value \"%s%s\" %s", shown, n > sn ? "..." : "", what);
    if (r->o.on_error == CSVAVRO_ON_ERROR_FAIL)
        return cav_csv_bad_record(r, off, NULL, 0, r->row_rec[row], (int32_t)col, v, n, st, reason,
                                  err);
    if (b->row_error[row]) return CSVAVRO_OK; /* one reject line per record */
    b->row_error[row] = 1;
    b->n_row_errors++;
    const uint32_t *o = r->offs + (size_t)row * r->stride;
    const uint8_t *rec = r->buf + o[0];
    size_t reclen = o[r->end_slot] - 1 - o[0];
    return cav_csv_bad_record(r, off, rec, reclen, r->row_rec[row], (int32_t)col, v, n, st, reason,
                              err);
}

static const char *type_what(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_BOOLEAN:
        return "is not a boolean (true/false)";
    case CSVAVRO_TYPE_INT:
        return "is not an int (32-bit)";
    case CSVAVRO_TYPE_LONG:
        return "is not a long (64-bit integer)";
    case CSVAVRO_TYPE_FLOAT:
        return "is not a float";
    case CSVAVRO_TYPE_DOUBLE:
        return "is not a double";
    case CSVAVRO_TYPE_DATE:
        return "is not a date (YYYY-MM-DD)";
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS:
        return "is not a local timestamp (YYYY-MM-DD HH:MM:SS[.ffffff], no zone)";
    default:
        return "is not a timestamp (YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|+HH:MM])";
    }
}

static inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0)) ? q - 1 : q;
}

/* Converts text s[0..n) to column c row i. Returns false if the text is not of the type. */
static bool convert(cav_column *c, uint32_t i, const char *s, size_t n) {
    switch (c->type) {
    case CSVAVRO_TYPE_BOOLEAN:
        return cav_parse_bool(s, n, &c->v.b8[i]);
    case CSVAVRO_TYPE_INT: {
        int64_t v;
        if (!cav_parse_long(s, n, &v) || v < INT32_MIN || v > INT32_MAX) return false;
        c->v.i32[i] = (int32_t)v;
        return true;
    }
    case CSVAVRO_TYPE_LONG:
        return cav_parse_long(s, n, &c->v.i64[i]);
    case CSVAVRO_TYPE_FLOAT:
        return cav_parse_float(s, n, &c->v.f32[i]);
    case CSVAVRO_TYPE_DOUBLE:
        return cav_parse_double(s, n, &c->v.f64[i]);
    case CSVAVRO_TYPE_DATE:
        return cav_parse_date(s, n, &c->v.i32[i]);
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS: {
        int64_t us;
        bool zone = false;
        int32_t days;
        if (cav_parse_date(s, n, &days))
            us = (int64_t)days * 86400 * 1000000;
        else if (!cav_parse_timestamp(s, n, &us, &zone))
            return false;
        bool local = c->type == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS ||
                     c->type == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
        if (local && zone) return false;
        bool millis = c->type == CSVAVRO_TYPE_TIMESTAMP_MILLIS ||
                      c->type == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
        c->v.i64[i] = millis ? floor_div(us, 1000) : us;
        return true;
    }
    default:
        return false;
    }
}

static csvavro_status load_slow(cav_csv_reader *r, cav_batch *b, uint32_t col, uint32_t i,
                                csvavro_error *err) {
    cav_column *c = &b->cols[col];
    const char *s;
    size_t n;
    bool quoted, is_null;
    CAV_TRY(field_text(r, b, i, (uint32_t)input_column(r, (int32_t)col), &s, &n, &quoted, &is_null,
                       err));
    if (is_null || (quoted && n == 0 && cav_csv_quoted_empty_is_null(c->type))) {
        c->valid[i] = 0;
        return CSVAVRO_OK;
    }
    c->valid[i] = 1;
    if (c->type == CSVAVRO_TYPE_STRING || c->type == CSVAVRO_TYPE_BYTES) {
        if (c->type == CSVAVRO_TYPE_STRING && r->o.encoding == CSVAVRO_ENCODING_UTF8 &&
            !cav_csv_batch_ascii(r)) {
            size_t bad = cav_utf8_check((const uint8_t *)s, n);
            if (bad < n) {
                c->valid[i] = 0;
                return value_error(r, b, i, col, s, n, s + bad, CSVAVRO_E_ENCODING,
                                   "is not valid UTF-8 (use --encoding latin-1?)", err);
            }
        }
        c->v.str[i].ptr = s;
        c->v.str[i].len = (uint32_t)n;
        return CSVAVRO_OK;
    }
    if (c->type == CSVAVRO_TYPE_DECIMAL || c->type == CSVAVRO_TYPE_DECIMAL_FIXED) {
        uint8_t enc[64];
        size_t len;
        const char *why =
            cav_parse_decimal(s, n, c->dec_precision, c->dec_scale,
                              c->type == CSVAVRO_TYPE_DECIMAL_FIXED ? c->dec_size : 0, enc, &len);
        if (!why) {
            char *p = cav_batch_heap_alloc(b, len, err);
            if (!p) return err ? err->status : CSVAVRO_E_NOMEM;
            memcpy(p, enc, len);
            c->v.str[i].ptr = p;
            c->v.str[i].len = (uint32_t)len;
            return CSVAVRO_OK;
        }
        c->valid[i] = 0;
        char what[160];
        snprintf(what, sizeof what, "%s (decimal(%u,%u))", why, (unsigned)c->dec_precision,
                 (unsigned)c->dec_scale);
        return value_error(r, b, i, col, s, n, NULL, CSVAVRO_E_VALUE, what, err);
    }
    if (convert(c, i, s, n)) return CSVAVRO_OK;
    c->valid[i] = 0;
    return value_error(r, b, i, col, s, n, NULL, CSVAVRO_E_VALUE, type_what(c->type), err);
}

/* The same value (or null) on the selected rows of c. */
static void fill_const(cav_column *c, const cav_const_value *v, const uint32_t *sel,
                       uint32_t n_sel) {
    for (uint32_t k = 0; k < n_sel; k++) {
        uint32_t i = sel ? sel[k] : k;
        c->valid[i] = v->valid;
        if (!v->valid) continue;
        switch (c->type) {
        case CSVAVRO_TYPE_BOOLEAN:
            c->v.b8[i] = v->v.b8;
            break;
        case CSVAVRO_TYPE_INT:
        case CSVAVRO_TYPE_DATE:
            c->v.i32[i] = v->v.i32;
            break;
        case CSVAVRO_TYPE_FLOAT:
            c->v.f32[i] = v->v.f32;
            break;
        case CSVAVRO_TYPE_DOUBLE:
            c->v.f64[i] = v->v.f64;
            break;
        case CSVAVRO_TYPE_STRING:
        case CSVAVRO_TYPE_BYTES:
        case CSVAVRO_TYPE_DECIMAL:
        case CSVAVRO_TYPE_DECIMAL_FIXED:
            c->v.str[i] = v->v.str;
            break;
        default: /* LONG and the timestamps */
            c->v.i64[i] = v->v.i64;
            break;
        }
    }
}

/* Converts column col for the rows of the batch's selection (every row when b->sel is NULL).
 * Rows outside the selection are not looked at: their values, validity and errors stay
 * undefined, so a bad value in a row the filter dropped is never reported (docs/splits.md). */
csvavro_status cav_csv_reader_load_column(cav_csv_reader *r, cav_batch *b, uint32_t col,
                                          csvavro_error *err) {
    CAV_RETURN_IF(col >= r->n_out || col >= b->n_cols, err, CSVAVRO_E_USAGE,
                  "load_column: column %u out of range", col);
    cav_column *c = &b->cols[col];
    if (c->loaded) return CSVAVRO_OK;
    const uint32_t *sel = b->sel;
    const uint32_t n_sel = sel ? b->n_sel : b->n_rows;
    if (r->map && r->map[col] < 0) { /* the input lacks the column: its constant */
        fill_const(c, &r->defs[col], sel, n_sel);
        c->loaded = true;
        return CSVAVRO_OK;
    }
    const size_t W = r->stride;
    const uint32_t field = r->map ? (uint32_t)r->map[col] : col;
    /* a column the projection left out has no offsets (cav_csv_reader_set_needed) */
    CAV_RETURN_IF(field >= r->keep, err, CSVAVRO_E_USAGE,
                  "load_column: column %u was not declared needed", col);
    const uint32_t *offs = r->offs + field;
    const char *buf = (const char *)r->buf;
    const char Q = r->o.quote;
    const bool plain = r->o.n_null_values == 0 && !r->o.escape &&
                       r->o.encoding == CSVAVRO_ENCODING_UTF8 && !r->o.skip_initial_space &&
                       !r->o.trim;
    uint8_t *valid = c->valid;
/* row i of the k-th selected row, its field s[0..n); the field PF rows ahead is prefetched:
 * the scan has moved on by a whole batch since, so the bytes are rarely still in L1/L2 and
 * one miss per row would otherwise be paid in sequence */
#define PF 16
#define CAV_FIELD(k)                                                                               \
    if ((k) + PF < n_sel) {                                                                        \
        uint32_t ip = sel ? sel[(k) + PF] : (k) + PF;                                              \
        __builtin_prefetch(buf + offs[ip * W]);                                                    \
    }                                                                                              \
    uint32_t i = sel ? sel[k] : (k);                                                               \
    const uint32_t *o = offs + i * W;                                                              \
    const char *s = buf + o[0];                                                                    \
    size_t n = o[1] - 1 - o[0]
    switch (c->type) {
    case CSVAVRO_TYPE_LONG: {
        int64_t *v = c->v.i64;
        for (uint32_t k = 0; k < n_sel; k++) {
            CAV_FIELD(k);
            if (plain && n && s[0] != Q && cav_parse_long_inline(s, n, &v[i])) {
                valid[i] = 1;
                continue;
            }
            if (plain && n == 0) {
                valid[i] = 0;
                continue;
            }
            CAV_TRY(load_slow(r, b, col, i, err));
        }
        break;
    }
    case CSVAVRO_TYPE_DOUBLE: {
        double *v = c->v.f64;
        for (uint32_t k = 0; k < n_sel; k++) {
            CAV_FIELD(k);
            /* the field lies in the reader's buffer (128 bytes of padding after its data) */
            if (plain && n && s[0] != Q && cav_parse_double_padded(s, n, &v[i])) {
                valid[i] = 1;
                continue;
            }
            if (plain && n == 0) {
                valid[i] = 0;
                continue;
            }
            CAV_TRY(load_slow(r, b, col, i, err));
        }
        break;
    }
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS: {
        int64_t *v = c->v.i64;
        /* neighbouring rows mostly share the date: remember the last one parsed (as its
         * first eight bytes and the two day digits; it starts as a real date, 1970-01-01) */
        int64_t last_days = 0;
        uint64_t last8;
        memcpy(&last8, "1970-01-", 8);
        unsigned last2 = (unsigned)'0' | (unsigned)'1' << 8;
        for (uint32_t k = 0; k < n_sel; k++) {
            CAV_FIELD(k);
            bool zone;
            int64_t tod;
            if (plain && n == 19) {
                /* the common shape "YYYY-MM-DD HH:MM:SS" (or 'T'), checked whole, word-wise */
                uint64_t d8;
                memcpy(&d8, s, 8);
                unsigned d2 = (unsigned)(uint8_t)s[8] | (unsigned)(uint8_t)s[9] << 8;
                int64_t secs, days = last_days;
                if ((s[10] == ' ' || s[10] == 'T') && cav_hms_swar(s + 11, &secs) &&
                    ((d8 == last8 && d2 == last2) || cav_date_swar(d8, d2, &days))) {
                    last8 = d8;
                    last2 = d2;
                    last_days = days;
                    v[i] = (days * 86400 + secs) * 1000000;
                    valid[i] = 1;
                    continue;
                }
            }
            if (plain && n >= 19 && s[0] != Q) {
                bool date_ok = true;
                uint64_t d8;
                memcpy(&d8, s, 8);
                unsigned d2 = (unsigned)(uint8_t)s[8] | (unsigned)(uint8_t)s[9] << 8;
                if (d8 != last8 || d2 != last2) {
                    date_ok = cav_parse_ts_date(s, n, &last_days);
                    if (date_ok) {
                        last8 = d8;
                        last2 = d2;
                    }
                }
                if (date_ok && cav_parse_ts_tail(s, n, &tod, &zone) && !zone) {
                    v[i] = last_days * 86400 * 1000000 + tod;
                    valid[i] = 1;
                    continue;
                }
            }
            if (plain && n == 0) {
                valid[i] = 0;
                continue;
            }
            CAV_TRY(load_slow(r, b, col, i, err));
        }
        break;
    }
    case CSVAVRO_TYPE_STRING: {
        cav_strview *v = c->v.str;
        /* an all-ASCII batch (the common case, checked once) needs no per-field UTF-8 check */
        const bool ascii = plain && cav_csv_batch_ascii(r);
        if (ascii && !r->quotes) {
            /* and in a batch without a quote character no field is quoted: a field is its raw
             * bytes (empty: null), known from its offsets alone, its text is not read here */
            for (uint32_t k = 0; k < n_sel; k++) {
                uint32_t i = sel ? sel[k] : k;
                const uint32_t *o = offs + i * W;
                uint32_t n = o[1] - 1 - o[0];
                v[i].ptr = buf + o[0];
                v[i].len = n;
                valid[i] = n != 0;
            }
            break;
        }
        for (uint32_t k = 0; k < n_sel; k++) {
            CAV_FIELD(k);
            if (plain && n && s[0] != Q) {
                size_t a = 0;
                if (ascii)
                    a = n;
                else
                    while (a < n && (signed char)s[a] >= 0)
                        a++;
                if (a == n || cav_utf8_check((const uint8_t *)s + a, n - a) == n - a) {
                    v[i].ptr = s;
                    v[i].len = (uint32_t)n;
                    valid[i] = 1;
                    continue;
                }
            }
            if (plain && n == 0) { /* unquoted and empty: null, as in every type */
                valid[i] = 0;
                continue;
            }
            CAV_TRY(load_slow(r, b, col, i, err));
        }
        break;
    }
    default:
        /* the other types (boolean, int, float, date, timestamps but local micros): the common
         * field is converted straight from the buffer too; convert() refuses bytes and
         * decimals, which take the slow path */
        for (uint32_t k = 0; k < n_sel; k++) {
            CAV_FIELD(k);
            if (plain && n && s[0] != Q && convert(c, i, s, n)) {
                valid[i] = 1;
                continue;
            }
            if (plain && n == 0) {
                valid[i] = 0;
                continue;
            }
            CAV_TRY(load_slow(r, b, col, i, err));
        }
        break;
    }
#undef CAV_FIELD
#undef PF
    if (c->not_null) {
        /* a null in a non-nullable field is a bad value of its record, under --on-error like
         * any other, with its place in the file (not an encoder failure later) */
        for (uint32_t k = 0; k < n_sel; k++) {
            uint32_t i = sel ? sel[k] : k;
            if (valid[i] || b->row_error[i]) continue;
            const char *s;
            size_t n;
            bool quoted, is_null;
            CAV_TRY(field_text(r, b, i, (uint32_t)input_column(r, (int32_t)col), &s, &n, &quoted,
                               &is_null, err));
            CAV_TRY(value_error(r, b, i, col, s, n, NULL, CSVAVRO_E_VALUE,
                                "is null in a non-nullable field (--not-null or --schema)", err));
        }
    }
    c->loaded = true;
    return CSVAVRO_OK;
}

bool cav_csv_reader_is_quoted(const cav_csv_reader *r, uint32_t row, uint32_t col) {
    const char *s;
    size_t len;
    cav_csv_reader_raw(r, row, col, &s, &len);
    if (r->o.skip_initial_space)
        while (len && *s == ' ')
            s++, len--;
    return r->o.quote && len && s[0] == r->o.quote;
}

csvavro_status cav_csv_reader_field(cav_csv_reader *r, cav_batch *b, uint32_t row, uint32_t col,
                                    const char **p, size_t *len, bool *is_null,
                                    csvavro_error *err) {
    CAV_RETURN_IF(col >= r->keep, err, CSVAVRO_E_USAGE, "CSV reader: field %u was not needed", col);
    bool quoted;
    return field_text(r, b, row, col, p, len, &quoted, is_null, err);
}

csvavro_status cav_csv_reader_text(cav_csv_reader *r, cav_batch *b, uint32_t row, uint32_t col,
                                   const char **p, size_t *len, bool *is_null, csvavro_error *err) {
    CAV_RETURN_IF(col >= r->keep, err, CSVAVRO_E_USAGE, "CSV reader: field %u was not needed", col);
    if (r->plain) {
        /* the common field: unquoted, its raw bytes; in an all-ASCII batch valid UTF-8 too */
        const uint32_t *o = r->offs + (size_t)row * r->stride + col;
        const char *s = (const char *)r->buf + o[0];
        size_t n = o[1] - 1 - o[0];
        if (n == 0 || (s[0] != r->o.quote && cav_csv_batch_ascii(r))) {
            *p = s;
            *len = n;
            *is_null = n == 0;
            return CSVAVRO_OK;
        }
    }
    bool quoted;
    CAV_TRY(field_text(r, b, row, col, p, len, &quoted, is_null, err));
    if (!*is_null && r->o.encoding == CSVAVRO_ENCODING_UTF8 && !cav_csv_batch_ascii(r)) {
        size_t bad = cav_utf8_check((const uint8_t *)*p, *len);
        if (bad < *len) {
            return value_error(r, b, row, col, *p, *len, *p + bad, CSVAVRO_E_ENCODING,
                               "is not valid UTF-8 (use --encoding latin-1?)", err);
        }
    }
    return CSVAVRO_OK;
}
