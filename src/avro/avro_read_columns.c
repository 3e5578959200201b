/*
 * avro_read_columns.c — the container reader's column-wise decode
 * (csvavro_avro_reader_select / csvavro_avro_reader_next_columns).
 *
 * Main idea: a block is decoded record by record (Avro's binary encoding has no other order),
 * but each value goes straight into its field's typed array — a validity byte, a fixed-width
 * value, or an offset plus the string bytes — so a caller gets whole columns per block and never
 * one object per record. Fields not selected are parsed (to find the next one) and dropped.
 *
 * Invariants: every read is bounds-checked against the block; a corrupt block gives
 * CSVAVRO_E_CORRUPT with the file offset (exact for the null codec, the block's data start
 * otherwise), the 1-based record and the block number, as the JSON path reports them; the
 * arrays are reused from block to block and are bounded by the block ceiling (a record takes
 * at least one byte, except in schemas of only null fields, whose count is capped).
 */
#include "avro.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct col_buf {
    cav_buf valid, values, offsets, data;
} col_buf;

struct cav_avro_cols {
    size_t n_fields;       /* writer fields */
    long *out_of;          /* writer field -> output column, or -1 when not selected */
    size_t n_out;          /* output columns */
    csvavro_column *views; /* [n_out] */
    col_buf *bufs;         /* [n_out] */
    bool started;          /* a block was decoded: the selection is fixed */
};

#define MAX_EMPTY_RECORDS ((uint64_t)1 << 24) /* records of zero bytes (all-null schemas) */

void cav_avro_cols_free(cav_avro_cols *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_out; i++) {
        cav_buf_free(&c->bufs[i].valid);
        cav_buf_free(&c->bufs[i].values);
        cav_buf_free(&c->bufs[i].offsets);
        cav_buf_free(&c->bufs[i].data);
    }
    cav_free(c->bufs);
    cav_free(c->views);
    cav_free(c->out_of);
    cav_free(c);
}

static size_t width(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_BOOLEAN:
        return 1;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE:
    case CSVAVRO_TYPE_FLOAT:
        return 4;
    case CSVAVRO_TYPE_LONG:
    case CSVAVRO_TYPE_DOUBLE:
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS:
        return 8;
    default:
        return 0;
    }
}

/* Types whose values are handed over as offsets into data: string, bytes, and the decimals
 * (the unscaled integer's big-endian two's complement bytes, as stored). */
static bool is_var(csvavro_type t) {
    return t == CSVAVRO_TYPE_STRING || t == CSVAVRO_TYPE_BYTES || t == CSVAVRO_TYPE_DECIMAL ||
           t == CSVAVRO_TYPE_DECIMAL_FIXED;
}

/* Builds the state for the chosen fields (names NULL: all of them). */
static csvavro_status make_cols(csvavro_avro_reader *r, const char *const *names, size_t n,
                                cav_avro_cols **out, csvavro_error *err) {
    size_t nf;
    const cav_avro_rfield *f = cav_avro_reader_fields(r, &nf);
    if (!f) return cav_avro_reader_fields_error(r, err); /* not a flat record */
    cav_avro_cols *c = cav_calloc(1, sizeof *c);
    if (!c) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    size_t n_out = names ? n : nf;
    c->n_fields = nf;
    c->out_of = cav_calloc(nf ? nf : 1, sizeof *c->out_of);
    c->views = cav_calloc(n_out ? n_out : 1, sizeof *c->views);
    c->bufs = cav_calloc(n_out ? n_out : 1, sizeof *c->bufs);
    if (!c->out_of || !c->views || !c->bufs) {
        cav_avro_cols_free(c);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    c->n_out = n_out;
    for (size_t i = 0; i < n_out; i++) {
        cav_buf_init(&c->bufs[i].valid, 0);
        cav_buf_init(&c->bufs[i].values, 0);
        cav_buf_init(&c->bufs[i].offsets, 0);
        cav_buf_init(&c->bufs[i].data, 0);
    }
    for (size_t k = 0; k < nf; k++)
        c->out_of[k] = names ? -1 : (long)k;
    for (size_t i = 0; names && i < n; i++) {
        size_t k = 0;
        while (k < nf && strcmp(f[k].name, names[i]) != 0)
            k++;
        if (k == nf || c->out_of[k] >= 0) {
            csvavro_status st = cav_err(err, CSVAVRO_E_SCHEMA,
                                        k == nf ? "no field \"%s\" in the file's schema"
                                                : "field \"%s\" selected twice",
                                        names[i]);
            cav_avro_cols_free(c);
            return st;
        }
        c->out_of[k] = (long)i;
    }
    for (size_t k = 0; k < nf; k++) {
        if (c->out_of[k] < 0) continue;
        csvavro_column *v = &c->views[c->out_of[k]];
        v->name = f[k].name;
        v->type = f[k].type;
        v->nullable = f[k].nullable;
    }
    *out = c;
    return CSVAVRO_OK;
}

csvavro_status csvavro_avro_reader_select(csvavro_avro_reader *r, const char *const *names,
                                          size_t n, csvavro_error *err) {
    cav_avro_cols **slot = cav_avro_reader_cols(r);
    CAV_RETURN_IF(*slot && (*slot)->started, err, CSVAVRO_E_USAGE,
                  "fields are selected before the first block is read");
    cav_avro_cols *c = NULL;
    CAV_TRY(make_cols(r, n ? names : NULL, n, &c, err));
    cav_avro_cols_free(*slot);
    *slot = c;
    return CSVAVRO_OK;
}

typedef struct dec {
    const uint8_t *base, *p, *end;
    const cav_avro_block *b;
    uint64_t record; /* 0-based within the block */
} dec;

static csvavro_status corrupt(const dec *d, const char *field, const char *what,
                              csvavro_error *err) {
    if (!err) return CSVAVRO_E_CORRUPT;
    int64_t off = d->b->null_codec ? d->b->data_at + (d->p - d->base) : d->b->data_at;
    cav_err_path(err, d->b->path);
    err->offset = off;
    err->record = (int64_t)(d->b->record0 + d->record + 1);
    return cav_err(err, CSVAVRO_E_CORRUPT,
                   "record %" PRIu64 ", field \"%s\": %s (block %" PRIu64 ", byte %" PRId64 ")",
                   d->b->record0 + d->record + 1, field, what, d->b->block_no, off);
}

/* Decodes one value of field f; keeps it in cb (NULL: parse and drop). */
static csvavro_status value(dec *d, const cav_avro_rfield *f, col_buf *cb, size_t row,
                            csvavro_error *err) {
    uint64_t u;
    bool present = true;
    if (f->nullable) {
        if (!cav_varint_get(&d->p, d->end, &u))
            return corrupt(d, f->name, "bad or truncated varint", err);
        if (u > 2 || (u & 1)) return corrupt(d, f->name, "union branch out of range", err);
        present = (u >> 1) != f->null_branch;
        if (cb) cb->valid.data[row] = present;
    }
    size_t w = width(f->type);
    uint8_t *slot = cb && w ? cb->values.data + row * w : NULL;
    if (!present || f->type == CSVAVRO_TYPE_NULL) {
        if (slot) memset(slot, 0, w);
        if (cb && is_var(f->type)) ((uint64_t *)(void *)cb->offsets.data)[row + 1] = cb->data.len;
        return CSVAVRO_OK;
    }
    switch (f->type) {
    case CSVAVRO_TYPE_BOOLEAN:
        if (d->p >= d->end) return corrupt(d, f->name, "block data ends inside the value", err);
        if (*d->p > 1) return corrupt(d, f->name, "value out of range for its type", err);
        if (slot) *slot = *d->p;
        d->p++;
        return CSVAVRO_OK;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE: {
        if (!cav_varint_get(&d->p, d->end, &u))
            return corrupt(d, f->name, "bad or truncated varint", err);
        int64_t v = cav_unzigzag64(u);
        if (v < INT32_MIN || v > INT32_MAX)
            return corrupt(d, f->name, "value out of range for its type", err);
        int32_t x = (int32_t)v;
        if (slot) memcpy(slot, &x, 4);
        return CSVAVRO_OK;
    }
    case CSVAVRO_TYPE_LONG:
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS: {
        if (!cav_varint_get(&d->p, d->end, &u))
            return corrupt(d, f->name, "bad or truncated varint", err);
        int64_t v = cav_unzigzag64(u);
        if (slot) memcpy(slot, &v, 8);
        return CSVAVRO_OK;
    }
    case CSVAVRO_TYPE_FLOAT:
    case CSVAVRO_TYPE_DOUBLE:
        if ((size_t)(d->end - d->p) < w)
            return corrupt(d, f->name, "block data ends inside the value", err);
        if (slot) memcpy(slot, d->p, w);
        d->p += w;
        return CSVAVRO_OK;
    case CSVAVRO_TYPE_STRING:
    case CSVAVRO_TYPE_BYTES:
    case CSVAVRO_TYPE_DECIMAL:
    case CSVAVRO_TYPE_DECIMAL_FIXED: {
        int64_t l = f->fixed_size;
        if (f->type != CSVAVRO_TYPE_DECIMAL_FIXED) {
            if (!cav_varint_get(&d->p, d->end, &u))
                return corrupt(d, f->name, "bad or truncated varint", err);
            l = cav_unzigzag64(u);
        }
        if (l < 0 || (uint64_t)l > (uint64_t)(d->end - d->p))
            return corrupt(d, f->name,
                           f->type == CSVAVRO_TYPE_DECIMAL_FIXED
                               ? "block data ends inside the value"
                               : "length runs past the end of the block",
                           err);
        if (f->type == CSVAVRO_TYPE_STRING && cav_utf8_check(d->p, (size_t)l) != (size_t)l)
            return corrupt(d, f->name, "string is not valid UTF-8", err);
        if (cb) {
            CAV_TRY(cav_buf_append(&cb->data, d->p, (size_t)l, err));
            ((uint64_t *)(void *)cb->offsets.data)[row + 1] = cb->data.len;
        }
        d->p += l;
        return CSVAVRO_OK;
    }
    default:
        return corrupt(d, f->name, "unsupported type", err);
    }
}

csvavro_status csvavro_avro_reader_next_columns(csvavro_avro_reader *r, const csvavro_column **cols,
                                                size_t *n_cols, size_t *n_rows,
                                                csvavro_error *err) {
    *cols = NULL;
    *n_cols = 0;
    *n_rows = 0;
    cav_avro_cols **slot = cav_avro_reader_cols(r);
    if (!*slot) CAV_TRY(make_cols(r, NULL, 0, slot, err));
    cav_avro_cols *c = *slot;
    c->started = true;
    *cols = c->views;
    *n_cols = c->n_out;
    cav_avro_block b;
    CAV_TRY(cav_avro_reader_take_block(r, &b, err));
    if (b.count == 0) return CSVAVRO_OK;
    size_t nf;
    const cav_avro_rfield *f = cav_avro_reader_fields(r, &nf);
    dec d = {b.data, b.data, b.data + b.len, &b, 0};
    if (b.count > b.len && b.count > MAX_EMPTY_RECORDS)
        return corrupt(&d, nf ? f[0].name : "", "implausible record count for the block's size",
                       err);
    size_t n = (size_t)b.count;
    for (size_t i = 0; i < c->n_out; i++) {
        col_buf *cb = &c->bufs[i];
        const csvavro_column *v = &c->views[i];
        cav_buf_reset(&cb->valid);
        cav_buf_reset(&cb->values);
        cav_buf_reset(&cb->offsets);
        cav_buf_reset(&cb->data);
        if (v->nullable) CAV_TRY(cav_buf_reserve(&cb->valid, n, err));
        CAV_TRY(cav_buf_reserve(&cb->values, n * width(v->type) + 1, err));
        if (is_var(v->type)) {
            CAV_TRY(cav_buf_reserve(&cb->offsets, (n + 1) * sizeof(uint64_t), err));
            ((uint64_t *)(void *)cb->offsets.data)[0] = 0;
        }
        CAV_TRY(cav_buf_reserve(&cb->data, 1, err));
    }
    for (d.record = 0; d.record < b.count; d.record++)
        for (size_t k = 0; k < nf; k++) {
            long o = c->out_of[k];
            CAV_TRY(value(&d, &f[k], o >= 0 ? &c->bufs[o] : NULL, (size_t)d.record, err));
        }
    if (d.p != d.end) {
        d.record = b.count - 1;
        return corrupt(&d, nf ? f[nf - 1].name : "", "block has bytes left after its last record",
                       err);
    }
    for (size_t i = 0; i < c->n_out; i++) {
        col_buf *cb = &c->bufs[i];
        csvavro_column *v = &c->views[i];
        v->valid = v->nullable ? cb->valid.data : NULL;
        v->values = width(v->type) ? cb->values.data : NULL;
        bool var = is_var(v->type);
        v->offsets = var ? (const uint64_t *)(const void *)cb->offsets.data : NULL;
        v->data = var ? (const char *)cb->data.data : NULL;
    }
    *n_rows = n;
    return CSVAVRO_OK;
}
