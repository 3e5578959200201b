/*
 * avro_write.c — the Avro object container file writer.
 *
 * Layout written (Avro 1.11 specification): "Obj\x01", the metadata map (avro.schema,
 * avro.codec, user keys), the 16-byte sync marker, then blocks of
 * `zigzag-varint count, zigzag-varint size, data, sync`.
 *
 * Encoding is row at a time: per batch, each field gets its storage kind (nullable or not) and
 * its column's vectors (enc_field); one pass over the selected rows then writes each record's
 * fields back to back at the end of the block (encode_row, a switch per field). Writes stay
 * sequential, and only the strings' payloads need a room check: the block buffer keeps room
 * for every field's fixed part (row_fixed). A record that would not fit below that limit, or
 * has a null in a non-nullable field, takes the exact path: its size first by the column loops
 * (size_column, which reports the null), then its bytes (write_column) — the same bytes.
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

/* One field of the row loop: its storage kind (ENC_*, times two, plus one when nullable), the
 * column's validity bytes and values. */
enum { ENC_BOOL, ENC_I32, ENC_I64, ENC_F32, ENC_F64, ENC_STR, ENC_FIXED };
typedef struct enc_field {
    const void *target; /* encode_row's code for the kind */
    unsigned kind;
    const uint8_t *valid;
    const void *v;
} enc_field;

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
    enc_field *fl;    /* the row loop's fields, set per batch */
    size_t row_fixed; /* bytes a record can take besides its strings' payloads (row loop) */
    size_t fast_room; /* block.data[0..fast_room) is always allocated (row loop) */
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

/* Bytes of a value of type t besides a string's payload (the union branch byte not counted). */
static size_t fixed_max(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_BOOLEAN:
        return 1;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE:
    case CSVAVRO_TYPE_STRING: /* the length: a uint32 doubled by zigzag, 33 bits */
    case CSVAVRO_TYPE_BYTES:
    case CSVAVRO_TYPE_DECIMAL:
        return 5;
    case CSVAVRO_TYPE_FLOAT:
        return 4;
    case CSVAVRO_TYPE_DOUBLE:
        return 8;
    case CSVAVRO_TYPE_DECIMAL_FIXED:
        return 0;
    default: /* long and the timestamps */
        return 10;
    }
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
    w->fl = cav_calloc(nf, sizeof *w->fl);
    if (!w->types || !w->nullable || !w->names || !w->fl) {
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
        w->row_fixed += w->nullable[i] + fixed_max(w->types[i]);
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
    w->fast_room = CAV_MIN(w->block_size + (w->block_size >> 4) + 4096 + 2 * w->row_fixed,
                           CAV_AVRO_DEFAULT_MAX_BLOCK);
    if (st == CSVAVRO_OK) st = cav_buf_reserve(&w->block, w->fast_room, err);
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
    cav_free(w->fl);
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

/* ---------------------------------------------------------------- row loop */

static unsigned enc_kind(csvavro_type t) {
    switch (storage_class(t)) {
    case 1:
        return ENC_I32;
    case 2:
        return ENC_I64;
    case 3:
        return ENC_STR;
    default:
        break;
    }
    switch (t) {
    case CSVAVRO_TYPE_BOOLEAN:
        return ENC_BOOL;
    case CSVAVRO_TYPE_FLOAT:
        return ENC_F32;
    case CSVAVRO_TYPE_DOUBLE:
        return ENC_F64;
    case CSVAVRO_TYPE_DECIMAL_FIXED:
        return ENC_FIXED;
    default: /* decimal (bytes) */
        return ENC_STR;
    }
}

/* n bytes from s to d with no access outside either: two overlapping moves of 8 or 16 bytes
 * for the short strings a CSV column mostly holds, memcpy for the long ones */
static inline void copy_bytes(uint8_t *d, const char *s, uint32_t n) {
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n > 16 && n <= 32) {
        uint8_t a[16], b[16];
        memcpy(a, s, 16);
        memcpy(b, s + n - 16, 16);
        memcpy(d, a, 16);
        memcpy(d + n - 16, b, 16);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0 && n < 4) {
        d[0] = (uint8_t)s[0];
        d[n >> 1] = (uint8_t)s[n >> 1];
        d[n - 1] = (uint8_t)s[n - 1];
    } else if (n) {
        memcpy(d, s, n);
    }
}

/* Encodes batch row r at p, field after field, and returns the end of the record; NULL when a
 * string's payload would pass lim (lim leaves room for every field's fixed part, row_fixed, so
 * only payloads are checked) or a non-nullable field is null: the caller then takes the exact
 * path for this row. The bytes are the column loops' (write_column), value for value.
 * With fl == NULL it only fills targets[] (the code address of each kind). The fields jump
 * from one to the next through their own indirect jump each (threaded code), so the branch
 * predictor learns the schema's sequence of kinds. */
static uint8_t *encode_row(const enc_field *fl, size_t nf, uint32_t r, uint8_t *p,
                           const uint8_t *lim, const void **targets) {
    if (!fl) {
        static const void *const t[2 * (ENC_FIXED + 1)] = {
            &&bool0, &&bool1, &&i32_0, &&i32_1, &&i64_0, &&i64_1, &&f32_0,
            &&f32_1, &&f64_0, &&f64_1, &&str0,  &&str1,  &&fix0,  &&fix1};
        memcpy(targets, t, sizeof t);
        return NULL;
    }
    const enc_field *e = fl, *const end = fl + nf;
    const cav_strview *sv;
#define NEXT                                                                                       \
    do {                                                                                           \
        if (++e == end) return p;                                                                  \
        goto * e->target;                                                                          \
    } while (0)
#define HEAD_NULLABLE                                                                              \
    if (!e->valid[r]) {                                                                            \
        *p++ = 0;                                                                                  \
        NEXT;                                                                                      \
    }                                                                                              \
    *p++ = 2
#define HEAD_REQUIRED                                                                              \
    if (CAV_UNLIKELY(!e->valid[r])) return NULL
    goto * e->target;
bool1:
    HEAD_NULLABLE;
    *p++ = ((const uint8_t *)e->v)[r] != 0;
    NEXT;
bool0:
    HEAD_REQUIRED;
    *p++ = ((const uint8_t *)e->v)[r] != 0;
    NEXT;
i32_1:
    HEAD_NULLABLE;
    p += cav_varint_put(p, cav_zigzag64(((const int32_t *)e->v)[r]));
    NEXT;
i32_0:
    HEAD_REQUIRED;
    p += cav_varint_put(p, cav_zigzag64(((const int32_t *)e->v)[r]));
    NEXT;
i64_1:
    HEAD_NULLABLE;
    p += cav_varint_put(p, cav_zigzag64(((const int64_t *)e->v)[r]));
    NEXT;
i64_0:
    HEAD_REQUIRED;
    p += cav_varint_put(p, cav_zigzag64(((const int64_t *)e->v)[r]));
    NEXT;
f32_1:
    HEAD_NULLABLE;
    memcpy(p, (const float *)e->v + r, 4);
    p += 4;
    NEXT;
f32_0:
    HEAD_REQUIRED;
    memcpy(p, (const float *)e->v + r, 4);
    p += 4;
    NEXT;
f64_1:
    HEAD_NULLABLE;
    memcpy(p, (const double *)e->v + r, 8);
    p += 8;
    NEXT;
f64_0:
    HEAD_REQUIRED;
    memcpy(p, (const double *)e->v + r, 8);
    p += 8;
    NEXT;
str1:
    HEAD_NULLABLE;
    goto str;
str0:
    HEAD_REQUIRED;
str:
    sv = (const cav_strview *)e->v + r;
    if (CAV_UNLIKELY((ptrdiff_t)sv->len > lim - p)) return NULL;
    p += cav_varint_put(p, (uint64_t)sv->len * 2);
    copy_bytes(p, sv->ptr, sv->len);
    p += sv->len;
    NEXT;
fix1:
    HEAD_NULLABLE;
    goto fix;
fix0:
    HEAD_REQUIRED;
fix:
    sv = (const cav_strview *)e->v + r;
    if (CAV_UNLIKELY((ptrdiff_t)sv->len > lim - p)) return NULL;
    copy_bytes(p, sv->ptr, sv->len);
    p += sv->len;
    NEXT;
#undef NEXT
#undef HEAD_NULLABLE
#undef HEAD_REQUIRED
}

/* Row r the exact way (sizes first): for a record the row loop could not place below its limit,
 * or with a null in a non-nullable field (reported by size_column). A record that does not fit
 * the block ceiling after what the block holds flushes the block first; alone, it is an error. */
static csvavro_status append_row_exact(cav_avro_writer *w, const cav_batch *b,
                                       const uint32_t *col_map, uint32_t r, csvavro_error *err) {
    uint64_t size = 0;
    for (size_t f = 0; f < w->n_fields; f++)
        CAV_TRY(size_column(w, f, &b->cols[col_map[f]], &r, 1, &size, err));
    if (size > CAV_AVRO_DEFAULT_MAX_BLOCK - w->block.len && w->block_rows > 0)
        CAV_TRY(flush_block(w, err));
    if (size > CAV_AVRO_DEFAULT_MAX_BLOCK - w->block.len)
        return cav_err(err, CSVAVRO_E_LIMIT,
                       "one record encodes to %llu bytes, over the %zu byte block ceiling",
                       (unsigned long long)size, CAV_AVRO_DEFAULT_MAX_BLOCK);
    CAV_TRY(cav_buf_reserve(&w->block, (size_t)size, err));
    uint64_t pos = w->block.len;
    for (size_t f = 0; f < w->n_fields; f++)
        write_column(w, f, &b->cols[col_map[f]], &r, 1, w->block.data, &pos);
    w->block.len = (size_t)pos;
    w->block_rows++;
    return CSVAVRO_OK;
}

/* Encoding is row at a time (encode_row): one pass over the batch, each record's fields back to
 * back, which keeps the writes sequential and each row's values in registers. The block policy
 * is the one described at the top: after each record, a block that reached block_size is
 * flushed (so the record that crosses the target is in it). */
csvavro_status cav_avro_writer_append(cav_avro_writer *w, const cav_batch *b,
                                      const uint32_t *col_map, csvavro_error *err) {
    enc_field *fl = w->fl;
    const void *targets[2 * (ENC_FIXED + 1)];
    encode_row(NULL, 0, 0, NULL, NULL, targets);
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
        fl[f].kind = enc_kind(w->types[f]) * 2 + (w->nullable[f] ? 1u : 0u);
        fl[f].target = targets[fl[f].kind];
        fl[f].valid = c->valid;
        fl[f].v = c->v.str; /* the union's members share one address */
    }
    const uint32_t sel = cav_batch_selected(b);
    const size_t nf = w->n_fields;
    uint8_t *data = w->block.data;
    const uint8_t *lim = w->fast_room >= w->row_fixed
                             ? data + (w->fast_room - w->row_fixed)
                             : data; /* a block that small: every row the exact way */
    for (uint32_t i = 0; i < sel; i++) {
        uint32_t r = cav_batch_row(b, i);
        if (b->row_error && b->row_error[r]) continue;
        uint8_t *p = data + w->block.len;
        uint8_t *end = p <= lim ? encode_row(fl, nf, r, p, lim, targets) : NULL;
        if (end) {
            w->block.len = (size_t)(end - data);
            w->block_rows++;
        } else {
            CAV_TRY(append_row_exact(w, b, col_map, r, err));
            data = w->block.data; /* the buffer may have moved */
            lim = w->fast_room >= w->row_fixed ? data + (w->fast_room - w->row_fixed) : data;
        }
        if (w->block.len >= w->block_size) CAV_TRY(flush_block(w, err));
    }
    return CSVAVRO_OK;
}
