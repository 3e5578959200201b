/*
 * avro_write.c — the Avro object container file writer.
 *
 * Layout written (Avro 1.11 specification): "Obj\x01", the metadata map (avro.schema,
 * avro.codec, user keys), the 16-byte sync marker, then blocks of
 * `zigzag-varint count, zigzag-varint size, data, sync`.
 *
 * Encoding is column at a time. For the rows of a batch that go into the current block:
 *   1. size pass: per column, a typed loop adds each row's encoded size of that field to
 *      row_size[k];
 *   2. the row start offsets in the block buffer follow by a prefix sum (row_pos[k]);
 *   3. write pass: per column, a typed loop writes each row's value at row_pos[k] and advances
 *      row_pos[k].
 * After the last column every row_pos[k] equals the start of row k+1, so the block is the
 * rows back to back, exactly as a row-at-a-time encoder would have produced it. The loops touch
 * one typed vector and two offset arrays at a time, with no per-value dispatch.
 *
 * Block policy: rows are appended until the uncompressed block reaches block_size; the row
 * that crosses the target is still included, so a record larger than the target becomes its own
 * block. The block buffer's ceiling is the reader's default ceiling (1 GiB) so every block we
 * write can be read back with default settings.
 */
#include "avro/avro.h"

#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "avro_write.c assumes a little-endian host (float/double are copied as is)"
#endif

struct cav_avro_writer {
    csvavro_file *out;
    csvavro_codec codec;
    int level;
    size_t block_size;
    uint8_t sync[16];
    size_t n_fields;
    csvavro_type *types;
    uint8_t *nullable;
    const char **names; /* borrowed from the schema: for error messages */
    cav_buf header;     /* the file header; its last 16 bytes are the sync marker */
    cav_buf block;      /* uncompressed block being filled */
    cav_buf packed;     /* compressed block (unused by the null codec) */
    uint64_t block_rows;
    uint32_t *rows; /* selected row indices of the current batch */
    uint64_t *row_size;
    uint64_t *row_pos;
    uint32_t rows_cap;
    cav_avro_codec_ctx ctx;
    uint64_t total_rows;
    uint64_t total_bytes;
    uint64_t blocks;
};

static csvavro_status put(cav_avro_writer *w, const void *p, size_t n, csvavro_error *err) {
    CAV_TRY(csvavro_file_write(w->out, p, n, err));
    w->total_bytes += n;
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- header */

static csvavro_status buf_varint(cav_buf *b, int64_t v, csvavro_error *err) {
    CAV_TRY(cav_buf_reserve(b, 10, err));
    b->len += cav_varint_put(b->data + b->len, cav_zigzag64(v));
    return CSVAVRO_OK;
}

static csvavro_status buf_bytes(cav_buf *b, const void *p, size_t n, csvavro_error *err) {
    CAV_TRY(buf_varint(b, (int64_t)n, err));
    return cav_buf_append(b, p, n, err);
}

/* Builds the header bytes into b. */
static csvavro_status build_header(const csvavro_schema *schema, const csvavro_avro_options *o,
                                   const uint8_t sync[16], cav_buf *b, csvavro_error *err) {
    for (size_t i = 0; i < o->n_meta; i++) {
        const char *kv = o->meta[i];
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq || eq == kv)
            return cav_err(err, CSVAVRO_E_USAGE, "metadata \"%s\" is not KEY=VALUE",
                           kv ? kv : "(null)");
        if ((size_t)(eq - kv) >= 5 && strncmp(kv, "avro.", 5) == 0)
            return cav_err(err, CSVAVRO_E_USAGE,
                           "metadata key \"%.*s\": keys starting with \"avro.\" are reserved",
                           (int)(eq - kv), kv);
        for (size_t j = 0; j < i; j++) {
            const char *e2 = strchr(o->meta[j], '=');
            if (e2 && e2 - o->meta[j] == eq - kv && memcmp(o->meta[j], kv, (size_t)(eq - kv)) == 0)
                return cav_err(err, CSVAVRO_E_USAGE, "metadata key \"%.*s\" given twice",
                               (int)(eq - kv), kv);
        }
    }
    if ((unsigned)o->codec > CSVAVRO_CODEC_XZ)
        return cav_err(err, CSVAVRO_E_USAGE, "unknown codec %d", (int)o->codec);
    char *json = NULL;
    CAV_TRY(csvavro_schema_to_json(schema, 0, &json, err));
    csvavro_status st = cav_buf_append(b, "Obj\x01", 4, err);
    if (st == CSVAVRO_OK) st = buf_varint(b, (int64_t)(2 + o->n_meta), err);
    if (st == CSVAVRO_OK) st = buf_bytes(b, "avro.schema", 11, err);
    if (st == CSVAVRO_OK) st = buf_bytes(b, json, strlen(json), err);
    cav_free(json);
    const char *cn = csvavro_codec_name(o->codec);
    if (st == CSVAVRO_OK) st = buf_bytes(b, "avro.codec", 10, err);
    if (st == CSVAVRO_OK) st = buf_bytes(b, cn, strlen(cn), err);
    for (size_t i = 0; st == CSVAVRO_OK && i < o->n_meta; i++) {
        const char *kv = o->meta[i], *eq = strchr(kv, '=');
        st = buf_bytes(b, kv, (size_t)(eq - kv), err);
        if (st == CSVAVRO_OK) st = buf_bytes(b, eq + 1, strlen(eq + 1), err);
    }
    if (st == CSVAVRO_OK) st = buf_varint(b, 0, err);
    if (st == CSVAVRO_OK) st = cav_buf_append(b, sync, 16, err);
    return st;
}

csvavro_status cav_avro_write_header(const csvavro_schema *schema, const csvavro_avro_options *o,
                                     const uint8_t sync[16], csvavro_file *out,
                                     csvavro_error *err) {
    cav_buf b;
    cav_buf_init(&b, CAV_AVRO_MAX_HEADER);
    csvavro_status st = build_header(schema, o, sync, &b, err);
    if (st == CSVAVRO_OK) st = csvavro_file_write(out, b.data, b.len, err);
    cav_buf_free(&b);
    return st;
}

csvavro_status cav_avro_sync_marker(const csvavro_avro_options *o, uint64_t file_index,
                                    uint8_t out[16], csvavro_error *err) {
    if (!o->has_seed) return cav_random_bytes(out, 16, err);
    uint64_t s = o->seed;
    uint64_t a = cav_splitmix64(&s);
    uint64_t t = a ^ (file_index * 0xD1B54A32D192ED03ull);
    uint64_t x = cav_splitmix64(&t), y = cav_splitmix64(&t);
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(x >> (8 * i));
        out[8 + i] = (uint8_t)(y >> (8 * i));
    }
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- create / free */

csvavro_status cav_avro_writer_create(const csvavro_schema *schema, const csvavro_avro_options *o,
                                      const uint8_t sync[16], csvavro_file *out, bool write_header,
                                      cav_avro_writer **wp, csvavro_error *err) {
    *wp = NULL;
    if (o->block_size == 0 || o->block_size > CAV_AVRO_DEFAULT_MAX_BLOCK)
        return cav_err(err, CSVAVRO_E_USAGE, "block size %zu out of range 1..%zu", o->block_size,
                       CAV_AVRO_DEFAULT_MAX_BLOCK);
    cav_avro_writer *w = cav_calloc(1, sizeof *w);
    if (!w) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    w->out = out;
    w->codec = o->codec;
    w->level = o->level;
    w->block_size = o->block_size;
    memcpy(w->sync, sync, 16);
    w->n_fields = schema->n_fields;
    cav_buf_init(&w->header, CAV_AVRO_MAX_HEADER);
    cav_buf_init(&w->block, CAV_AVRO_DEFAULT_MAX_BLOCK);
    cav_buf_init(&w->packed, 0);
    size_t nf = schema->n_fields ? schema->n_fields : 1;
    w->types = cav_calloc(nf, sizeof *w->types);
    w->nullable = cav_calloc(nf, 1);
    w->names = cav_calloc(nf, sizeof *w->names);
    if (!w->types || !w->nullable || !w->names) {
        cav_avro_writer_free(w);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < schema->n_fields; i++) {
        w->types[i] = schema->fields[i].type;
        w->nullable[i] = schema->fields[i].nullable;
        w->names[i] = schema->fields[i].name;
        if (w->types[i] == CSVAVRO_TYPE_NULL) {
            cav_avro_writer_free(w);
            return cav_err(err, CSVAVRO_E_SCHEMA, "field \"%s\" has type null",
                           schema->fields[i].name);
        }
    }
    /* Compressing an empty block checks the codec and level now rather than at the first
     * flush, and sets up the codec's context once. */
    csvavro_status st = (unsigned)o->codec > CSVAVRO_CODEC_XZ
                            ? cav_err(err, CSVAVRO_E_USAGE, "unknown codec %d", (int)o->codec)
                            : cav_avro_compress(&w->ctx, o->codec, o->level, (const uint8_t *)"", 0,
                                                &w->packed, err);
    if (st == CSVAVRO_OK) st = build_header(schema, o, sync, &w->header, err);
    /* a full block plus the row that crosses the target, in one allocation: growing it by
     * doubling would copy it and touch twice the memory */
    if (st == CSVAVRO_OK)
        st = cav_buf_reserve(
            &w->block,
            CAV_MIN(w->block_size + (w->block_size >> 4) + 4096, CAV_AVRO_DEFAULT_MAX_BLOCK), err);
    if (st == CSVAVRO_OK && write_header) st = put(w, w->header.data, w->header.len, err);
    if (st != CSVAVRO_OK) {
        cav_avro_writer_free(w);
        return st;
    }
    *wp = w;
    return CSVAVRO_OK;
}

csvavro_status cav_avro_writer_restart(cav_avro_writer *w, const uint8_t sync[16],
                                       csvavro_file *out, bool write_header, csvavro_error *err) {
    w->out = out;
    memcpy(w->sync, sync, 16);
    memcpy(w->header.data + w->header.len - 16, sync, 16);
    cav_buf_reset(&w->block);
    w->block_rows = 0;
    w->total_rows = w->total_bytes = w->blocks = 0;
    if (write_header) return put(w, w->header.data, w->header.len, err);
    return CSVAVRO_OK;
}

void cav_avro_writer_free(cav_avro_writer *w) {
    if (!w) return;
    cav_buf_free(&w->header);
    cav_buf_free(&w->block);
    cav_buf_free(&w->packed);
    cav_avro_codec_ctx_free(&w->ctx);
    cav_free(w->types);
    cav_free(w->nullable);
    cav_free(w->names);
    cav_free(w->rows);
    cav_free(w->row_size);
    cav_free(w->row_pos);
    cav_free(w);
}

uint64_t cav_avro_writer_rows(const cav_avro_writer *w) {
    return w->total_rows;
}
uint64_t cav_avro_writer_bytes(const cav_avro_writer *w) {
    return w->total_bytes;
}

/* ---------------------------------------------------------------- blocks */

static csvavro_status flush_block(cav_avro_writer *w, csvavro_error *err) {
    if (w->block_rows == 0) return CSVAVRO_OK;
    const cav_buf *data = &w->block; /* the null codec writes the block as it is */
    if (w->codec != CSVAVRO_CODEC_NULL) {
        CAV_TRY(cav_avro_compress(&w->ctx, w->codec, w->level, w->block.data, w->block.len,
                                  &w->packed, err));
        data = &w->packed;
    }
    uint8_t head[20];
    unsigned h = cav_varint_put(head, cav_zigzag64((int64_t)w->block_rows));
    h += cav_varint_put(head + h, cav_zigzag64((int64_t)data->len));
    CAV_TRY(put(w, head, h, err));
    CAV_TRY(put(w, data->data, data->len, err));
    CAV_TRY(put(w, w->sync, 16, err));
    w->total_rows += w->block_rows;
    w->blocks++;
    w->block_rows = 0;
    cav_buf_reset(&w->block);
    return CSVAVRO_OK;
}

csvavro_status cav_avro_writer_finish(cav_avro_writer *w, csvavro_error *err) {
    return flush_block(w, err);
}

/* ---------------------------------------------------------------- column loops */

static csvavro_status null_error(cav_avro_writer *w, size_t f, uint32_t row, csvavro_error *err) {
    cav_err_column(err, (int32_t)f, w->names[f]);
    return cav_err(err, CSVAVRO_E_VALUE, "null value in non-nullable field \"%s\" (batch row %u)",
                   w->names[f], row);
}

/* Size pass for field f over rows[0..n). */
static csvavro_status size_column(cav_avro_writer *w, size_t f, const cav_column *c,
                                  const uint32_t *rows, uint32_t n, uint64_t *sz,
                                  csvavro_error *err) {
    const uint8_t *valid = c->valid;
    const bool nul = w->nullable[f];
    if (!nul) {
        for (uint32_t k = 0; k < n; k++)
            if (CAV_UNLIKELY(!valid[rows[k]])) return null_error(w, f, rows[k], err);
    }
    switch (w->types[f]) {
    case CSVAVRO_TYPE_BOOLEAN:
        for (uint32_t k = 0; k < n; k++)
            sz[k] += nul ? 1u + valid[rows[k]] : 1u;
        break;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE: {
        const int32_t *v = c->v.i32;
        if (nul)
            for (uint32_t k = 0; k < n; k++) {
                uint32_t r = rows[k];
                sz[k] += valid[r] ? 1u + cav_varint_len(cav_zigzag64(v[r])) : 1u;
            }
        else
            for (uint32_t k = 0; k < n; k++)
                sz[k] += cav_varint_len(cav_zigzag64(v[rows[k]]));
        break;
    }
    case CSVAVRO_TYPE_LONG:
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS: {
        const int64_t *v = c->v.i64;
        if (nul)
            for (uint32_t k = 0; k < n; k++) {
                uint32_t r = rows[k];
                sz[k] += valid[r] ? 1u + cav_varint_len(cav_zigzag64(v[r])) : 1u;
            }
        else
            for (uint32_t k = 0; k < n; k++)
                sz[k] += cav_varint_len(cav_zigzag64(v[rows[k]]));
        break;
    }
    case CSVAVRO_TYPE_FLOAT:
        for (uint32_t k = 0; k < n; k++)
            sz[k] += nul ? (valid[rows[k]] ? 5u : 1u) : 4u;
        break;
    case CSVAVRO_TYPE_DOUBLE:
        for (uint32_t k = 0; k < n; k++)
            sz[k] += nul ? (valid[rows[k]] ? 9u : 1u) : 8u;
        break;
    case CSVAVRO_TYPE_STRING:
    case CSVAVRO_TYPE_BYTES:
    case CSVAVRO_TYPE_DECIMAL: {
        const cav_strview *v = c->v.str;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t r = rows[k];
            if (nul && !valid[r]) {
                sz[k] += 1;
                continue;
            }
            sz[k] += (uint64_t)nul + cav_varint_len((uint64_t)v[r].len * 2) + v[r].len;
        }
        break;
    }
    case CSVAVRO_TYPE_DECIMAL_FIXED: { /* no length: the fixed's bytes only */
        const cav_strview *v = c->v.str;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t r = rows[k];
            sz[k] += (nul && !valid[r]) ? 1u : (uint64_t)nul + v[r].len;
        }
        break;
    }
    case CSVAVRO_TYPE_NULL:
        break;
    }
    return CSVAVRO_OK;
}

/* Write pass for field f: row k's bytes go to base + pos[k]; pos[k] advances. */
static void write_column(cav_avro_writer *w, size_t f, const cav_column *c, const uint32_t *rows,
                         uint32_t n, uint8_t *base, uint64_t *pos) {
    const uint8_t *valid = c->valid;
    const bool nul = w->nullable[f];
    /* Union branch bytes: zigzag(0) = 0 for null, zigzag(1) = 2 for the value. */
    switch (w->types[f]) {
    case CSVAVRO_TYPE_BOOLEAN: {
        const uint8_t *v = c->v.b8;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t r = rows[k];
            uint8_t *p = base + pos[k];
            if (nul) {
                if (!valid[r]) {
                    p[0] = 0;
                    pos[k] += 1;
                    continue;
                }
                *p++ = 2;
                pos[k] += 1;
            }
            *p = v[r] != 0;
            pos[k] += 1;
        }
        break;
    }
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE: {
        const int32_t *v = c->v.i32;
        if (nul)
            for (uint32_t k = 0; k < n; k++) {
                uint32_t r = rows[k];
                uint8_t *p = base + pos[k];
                if (!valid[r]) {
                    p[0] = 0;
                    pos[k] += 1;
                } else {
                    p[0] = 2;
                    pos[k] += 1 + cav_varint_put(p + 1, cav_zigzag64(v[r]));
                }
            }
        else
            for (uint32_t k = 0; k < n; k++)
                pos[k] += cav_varint_put(base + pos[k], cav_zigzag64(v[rows[k]]));
        break;
    }
    case CSVAVRO_TYPE_LONG:
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS: {
        const int64_t *v = c->v.i64;
        if (nul)
            for (uint32_t k = 0; k < n; k++) {
                uint32_t r = rows[k];
                uint8_t *p = base + pos[k];
                if (!valid[r]) {
                    p[0] = 0;
                    pos[k] += 1;
                } else {
                    p[0] = 2;
                    pos[k] += 1 + cav_varint_put(p + 1, cav_zigzag64(v[r]));
                }
            }
        else
            for (uint32_t k = 0; k < n; k++)
                pos[k] += cav_varint_put(base + pos[k], cav_zigzag64(v[rows[k]]));
        break;
    }
    case CSVAVRO_TYPE_FLOAT: {
        const float *v = c->v.f32;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t r = rows[k];
            uint8_t *p = base + pos[k];
            if (nul) {
                if (!valid[r]) {
                    p[0] = 0;
                    pos[k] += 1;
                    continue;
                }
                *p++ = 2;
                pos[k] += 1;
            }
            memcpy(p, &v[r], 4);
            pos[k] += 4;
        }
        break;
    }
    case CSVAVRO_TYPE_DOUBLE: {
        const double *v = c->v.f64;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t r = rows[k];
            uint8_t *p = base + pos[k];
            if (nul) {
                if (!valid[r]) {
                    p[0] = 0;
                    pos[k] += 1;
                    continue;
                }
                *p++ = 2;
                pos[k] += 1;
            }
            memcpy(p, &v[r], 8);
            pos[k] += 8;
        }
        break;
    }
    case CSVAVRO_TYPE_STRING:
    case CSVAVRO_TYPE_BYTES:
    case CSVAVRO_TYPE_DECIMAL:
    case CSVAVRO_TYPE_DECIMAL_FIXED: {
        const cav_strview *v = c->v.str;
        bool fixed = c->type == CSVAVRO_TYPE_DECIMAL_FIXED;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t r = rows[k];
            uint8_t *p = base + pos[k];
            if (nul) {
                if (!valid[r]) {
                    p[0] = 0;
                    pos[k] += 1;
                    continue;
                }
                *p++ = 2;
                pos[k] += 1;
            }
            unsigned h = fixed ? 0 : cav_varint_put(p, (uint64_t)v[r].len * 2);
            if (v[r].len) memcpy(p + h, v[r].ptr, v[r].len);
            pos[k] += h + v[r].len;
        }
        break;
    }
    case CSVAVRO_TYPE_NULL:
        break;
    }
}

/* Storage class of a type: the writer reads INT and DATE alike, LONG and the timestamps alike. */
static int storage_class(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE:
        return 1;
    case CSVAVRO_TYPE_LONG:
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS:
        return 2;
    case CSVAVRO_TYPE_STRING:
    case CSVAVRO_TYPE_BYTES:
        return 3;
    default:
        return 10 + (int)t;
    }
}

static bool storage_compatible(csvavro_type field, csvavro_type col) {
    return storage_class(field) == storage_class(col);
}

csvavro_status cav_avro_writer_append(cav_avro_writer *w, const cav_batch *b,
                                      const uint32_t *col_map, csvavro_error *err) {
    for (size_t f = 0; f < w->n_fields; f++) {
        uint32_t ci = col_map[f];
        if (ci >= b->n_cols)
            return cav_err(err, CSVAVRO_E_INTERNAL, "field %zu maps to column %u of %u", f, ci,
                           b->n_cols);
        const cav_column *c = &b->cols[ci];
        if (!c->loaded || !storage_compatible(w->types[f], c->type))
            return cav_err(err, CSVAVRO_E_INTERNAL, "field \"%s\" (%s): batch column %u is %s%s",
                           w->names[f], csvavro_type_name(w->types[f]), ci,
                           csvavro_type_name(c->type), c->loaded ? "" : " and not loaded");
    }
    uint32_t sel = cav_batch_selected(b);
    if (sel > w->rows_cap) {
        uint32_t nc = sel;
        uint32_t *r = cav_realloc(w->rows, (size_t)nc * sizeof *r);
        if (r) w->rows = r;
        uint64_t *s = cav_realloc(w->row_size, (size_t)nc * sizeof *s);
        if (s) w->row_size = s;
        uint64_t *p = cav_realloc(w->row_pos, (size_t)nc * sizeof *p);
        if (p) w->row_pos = p;
        if (!r || !s || !p) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        w->rows_cap = nc;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < sel; i++) {
        uint32_t r = cav_batch_row(b, i);
        if (b->row_error && b->row_error[r]) continue;
        w->rows[n++] = r;
    }
    if (n == 0) return CSVAVRO_OK;
    memset(w->row_size, 0, (size_t)n * sizeof *w->row_size);
    for (size_t f = 0; f < w->n_fields; f++)
        CAV_TRY(size_column(w, f, &b->cols[col_map[f]], w->rows, n, w->row_size, err));

    uint32_t start = 0;
    while (start < n) {
        /* Rows [start, end) fill the block to its target (the crossing row included). */
        size_t room = w->block.len < w->block_size ? w->block_size - w->block.len : 0;
        size_t limit = CAV_AVRO_DEFAULT_MAX_BLOCK - w->block.len;
        uint64_t chunk = 0;
        uint32_t end = start;
        while (end < n && (chunk < room || end == start)) {
            if (end > start && chunk + w->row_size[end] > limit) break;
            chunk += w->row_size[end++];
        }
        if (chunk > limit) {
            if (w->block_rows > 0) {
                /* Flush what we have, then retry the same row into an empty block. */
                CAV_TRY(flush_block(w, err));
                continue;
            }
            return cav_err(err, CSVAVRO_E_LIMIT,
                           "one record encodes to %llu bytes, over the %zu byte block ceiling",
                           (unsigned long long)chunk, CAV_AVRO_DEFAULT_MAX_BLOCK);
        }
        CAV_TRY(cav_buf_reserve(&w->block, (size_t)chunk, err));
        uint64_t off = w->block.len;
        for (uint32_t k = start; k < end; k++) {
            w->row_pos[k] = off;
            off += w->row_size[k];
        }
        for (size_t f = 0; f < w->n_fields; f++)
            write_column(w, f, &b->cols[col_map[f]], w->rows + start, end - start, w->block.data,
                         w->row_pos + start);
        w->block.len = (size_t)off;
        w->block_rows += end - start;
        start = end;
        if (w->block.len >= w->block_size) CAV_TRY(flush_block(w, err));
    }
    return CSVAVRO_OK;
}
