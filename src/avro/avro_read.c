/*
 * avro_read.c — the Avro object container file reader (public csvavro_avro_reader_*).
 *
 * Reading goes through csvavro_fs positioned reads, so local files and hdfs:// behave alike.
 * The header is read with a growing buffer (ceiling CAV_AVRO_MAX_HEADER). Then, per block:
 * read the two varints (count, size), check them against the ceiling and the file size, read
 * `size + 16` bytes into a reused raw buffer, compare the sync marker, decompress into a reused
 * data buffer (bounded by the same ceiling), and only then hand out records. Records are
 * decoded from [cur, end) with a bounds check before every read; a block whose records do not
 * use exactly its bytes is corrupt.
 *
 * Records are decoded by walking the writer schema's tree (avro_tree.c: any Avro type) into
 * JSON (next_json) or CSV cells (next_csv); nesting depth and zero-byte array items are
 * bounded, and every count is checked against the bytes left in the block.
 *
 * Error locations: err->offset is a byte offset in the file (for data inside a compressed
 * block, the offset of the block's data), err->record the 1-based record number, and the
 * message names the 1-based block number.
 */
#include "avro/avro.h"

#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct meta_entry {
    char *key;
    char *value;
    size_t value_len;
    int64_t value_at; /* file offset of the value */
} meta_entry;

struct csvavro_avro_reader {
    csvavro_file *file;
    char *path;
    int64_t size;
    size_t max_block;
    meta_entry *meta;
    size_t n_meta;
    const char *schema_json;
    const char *codec_name;
    csvavro_codec codec;
    cav_avro_tree tree;      /* the writer schema */
    cav_avro_rfield *fields; /* its flat view for the column decoder (NULL: not flat) */
    size_t n_fields;
    csvavro_error fields_err; /* why it is not flat */
    bool codec_known;         /* an unknown codec fails at the first block, not at open */
    int64_t codec_at;
    uint8_t sync[16];
    int64_t pos;           /* file offset of the next block */
    uint64_t block_no;     /* blocks started (1-based number of the current block) */
    int64_t block_data_at; /* file offset of the current block's data */
    cav_buf raw;           /* compressed block + sync */
    cav_buf data;          /* decompressed block */
    const uint8_t *cur, *end;
    uint64_t left;   /* records left in the current block */
    uint64_t record; /* records returned so far */
    cav_buf line;
    cav_buf cell;        /* one CSV cell's JSON while it is converted */
    const char *field;   /* the record field being decoded (error messages) */
    uint64_t zero_items; /* array/map items of 0 bytes in the current record */
    cav_avro_codec_ctx ctx;
    cav_avro_cols *cols; /* column decoder state (avro_read_columns.c), made on first use */
    cav_avro_tree rtree; /* csvavro_avro_reader_use_schema: the reader schema, else no root */
    cav_buf rbuf;        /* ... and one record encoded for it */
};

static csvavro_status fail(csvavro_avro_reader *r, csvavro_error *err, csvavro_status st,
                           int64_t offset, const char *fmt, ...) CAV_PRINTF(5, 6);

static csvavro_status fail(csvavro_avro_reader *r, csvavro_error *err, csvavro_status st,
                           int64_t offset, const char *fmt, ...) {
    if (!err) return st;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cav_err_path(err, r->path);
    err->offset = offset;
    /* the byte offset is err->offset (printed once, before the message) */
    if (r->block_no > 0)
        cav_err(err, st, "%s (block %" PRIu64 ")", msg, r->block_no);
    else
        cav_err(err, st, "%s (header)", msg);
    return st;
}

/* ---------------------------------------------------------------- header */

/* Cursor over an in-memory byte range, for the header. */
typedef struct cursor {
    const uint8_t *base, *p, *end;
} cursor;

enum { PARSE_OK = 0, PARSE_SHORT = 1, PARSE_BAD = 2 };

static int cur_long(cursor *c, int64_t *v) {
    uint64_t u;
    const uint8_t *p = c->p;
    if (!cav_varint_get(&p, c->end, &u)) return (c->end - c->p) >= 10 ? PARSE_BAD : PARSE_SHORT;
    c->p = p;
    *v = cav_unzigzag64(u);
    return PARSE_OK;
}

static void free_meta(csvavro_avro_reader *r) {
    for (size_t i = 0; i < r->n_meta; i++) {
        cav_free(r->meta[i].key);
        cav_free(r->meta[i].value);
    }
    cav_free(r->meta);
    r->meta = NULL;
    r->n_meta = 0;
}

/* Parses the header from buf[0..n). Returns PARSE_SHORT when more bytes are needed. */
static int parse_header(csvavro_avro_reader *r, const uint8_t *buf, size_t n, size_t *hlen,
                        csvavro_error *err, csvavro_status *st) {
    cursor c = {buf, buf, buf + n};
    *st = CSVAVRO_OK;
    free_meta(r);
    if (n < 4) return PARSE_SHORT;
    if (memcmp(buf, "Obj\x01", 4) != 0) {
        *st = fail(r, err, CSVAVRO_E_CORRUPT, 0, "not an Avro object container file (bad magic)");
        return PARSE_BAD;
    }
    c.p += 4;
    size_t cap = 0;
    for (;;) {
        int64_t cnt;
        int64_t at = c.p - c.base;
        int rc = cur_long(&c, &cnt);
        if (rc == PARSE_BAD) {
            *st = fail(r, err, CSVAVRO_E_CORRUPT, at, "bad varint in header metadata");
            return rc;
        }
        if (rc) return rc;
        if (cnt == 0) break;
        if (cnt < 0) {
            int64_t bsz;
            if (cnt == INT64_MIN) {
                *st = fail(r, err, CSVAVRO_E_CORRUPT, at, "bad metadata block count");
                return PARSE_BAD;
            }
            cnt = -cnt;
            rc = cur_long(&c, &bsz);
            if (rc) {
                if (rc == PARSE_BAD)
                    *st = fail(r, err, CSVAVRO_E_CORRUPT, at, "bad varint in header");
                return rc;
            }
        }
        /* Each entry takes at least 2 bytes: a bound on the count before allocating. */
        if ((uint64_t)cnt > (uint64_t)(c.end - c.p) / 2 + 1) {
            if ((uint64_t)cnt > CAV_AVRO_MAX_HEADER / 2) {
                *st = fail(r, err, CSVAVRO_E_CORRUPT, at,
                           "header metadata claims %" PRId64 " entries", cnt);
                return PARSE_BAD;
            }
            return PARSE_SHORT;
        }
        if (r->n_meta + (size_t)cnt > cap) {
            size_t nc = r->n_meta + (size_t)cnt;
            meta_entry *m = cav_realloc(r->meta, nc * sizeof *m);
            if (!m) {
                *st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                return PARSE_BAD;
            }
            r->meta = m;
            cap = nc;
        }
        for (int64_t i = 0; i < cnt; i++) {
            int64_t len[2];
            const uint8_t *s[2];
            for (int k = 0; k < 2; k++) {
                at = c.p - c.base;
                rc = cur_long(&c, &len[k]);
                if (rc == PARSE_BAD || (rc == PARSE_OK && len[k] < 0)) {
                    *st = fail(r, err, CSVAVRO_E_CORRUPT, at, "bad length in header metadata");
                    return PARSE_BAD;
                }
                if (rc) return rc;
                if ((uint64_t)len[k] > (uint64_t)(c.end - c.p)) {
                    if ((uint64_t)len[k] > CAV_AVRO_MAX_HEADER) {
                        *st = fail(r, err, CSVAVRO_E_LIMIT, at,
                                   "header metadata entry of %" PRId64 " bytes is over the %zu "
                                   "byte ceiling",
                                   len[k], CAV_AVRO_MAX_HEADER);
                        return PARSE_BAD;
                    }
                    return PARSE_SHORT;
                }
                s[k] = c.p;
                c.p += len[k];
            }
            meta_entry *e = &r->meta[r->n_meta];
            e->key = cav_strndup((const char *)s[0], (size_t)len[0]);
            e->value = cav_strndup((const char *)s[1], (size_t)len[1]);
            e->value_len = (size_t)len[1];
            e->value_at = s[1] - c.base;
            if (!e->key || !e->value) {
                cav_free(e->key);
                cav_free(e->value);
                *st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                return PARSE_BAD;
            }
            r->n_meta++;
        }
    }
    if (c.end - c.p < 16) return PARSE_SHORT;
    memcpy(r->sync, c.p, 16);
    c.p += 16;
    *hlen = (size_t)(c.p - c.base);
    return PARSE_OK;
}

static csvavro_status read_at(csvavro_avro_reader *r, void *buf, size_t len, int64_t off,
                              size_t *got, csvavro_error *err) {
    csvavro_status st = csvavro_file_pread(r->file, buf, len, off, got, err);
    if (st != CSVAVRO_OK && err) {
        cav_err_path(err, r->path);
        err->offset = off;
    }
    return st;
}

static csvavro_status read_header(csvavro_avro_reader *r, csvavro_error *err) {
    size_t want = 4096;
    cav_buf *b = &r->raw;
    for (;;) {
        if ((int64_t)want > r->size) want = (size_t)r->size;
        cav_buf_reset(b);
        CAV_TRY(cav_buf_reserve(b, want, err));
        size_t got = 0;
        CAV_TRY(read_at(r, b->data, want, 0, &got, err));
        b->len = got;
        size_t hlen = 0;
        csvavro_status st;
        int rc = parse_header(r, b->data, b->len, &hlen, err, &st);
        if (rc == PARSE_BAD) return st;
        if (rc == PARSE_OK) {
            r->pos = (int64_t)hlen;
            return CSVAVRO_OK;
        }
        if ((int64_t)got >= r->size || got < want)
            return fail(r, err, CSVAVRO_E_CORRUPT, (int64_t)got,
                        "file ends inside the header (%" PRId64 " bytes)", r->size);
        if (want >= CAV_AVRO_MAX_HEADER)
            return fail(r, err, CSVAVRO_E_LIMIT, (int64_t)want,
                        "header is larger than the %zu byte ceiling", CAV_AVRO_MAX_HEADER);
        want = CAV_MIN(want * 4, CAV_AVRO_MAX_HEADER);
    }
}

csvavro_status csvavro_avro_reader_open_ex(csvavro_fs *fs, const char *path, size_t max_block_bytes,
                                           csvavro_avro_reader **out, csvavro_error *err) {
    *out = NULL;
    csvavro_avro_reader *r = cav_calloc(1, sizeof *r);
    if (!r) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    r->max_block = max_block_bytes ? max_block_bytes : CAV_AVRO_DEFAULT_MAX_BLOCK;
    cav_buf_init(&r->raw,
                 r->max_block + 16 > CAV_AVRO_MAX_HEADER ? r->max_block + 16 : CAV_AVRO_MAX_HEADER);
    cav_buf_init(&r->data, r->max_block);
    cav_buf_init(&r->line, 0);
    cav_buf_init(&r->cell, 0);
    r->path = cav_strdup(path);
    csvavro_status st = r->path ? CSVAVRO_OK : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    if (st == CSVAVRO_OK) st = csvavro_fs_open_read(fs, path, &r->file, err);
    if (st == CSVAVRO_OK) {
        r->size = csvavro_file_size(r->file);
        st = read_header(r, err);
    }
    if (st == CSVAVRO_OK) {
        r->codec_name = "null";
        r->codec = CSVAVRO_CODEC_NULL;
        int64_t schema_at = 4, codec_at = 4;
        size_t schema_len = 0;
        for (size_t i = 0; i < r->n_meta; i++) {
            if (strcmp(r->meta[i].key, "avro.schema") == 0) {
                r->schema_json = r->meta[i].value;
                schema_len = r->meta[i].value_len;
                schema_at = r->meta[i].value_at;
            }
            if (strcmp(r->meta[i].key, "avro.codec") == 0) {
                r->codec_name = r->meta[i].value;
                codec_at = r->meta[i].value_at;
            }
        }
        if (!r->schema_json) st = fail(r, err, CSVAVRO_E_CORRUPT, 4, "header has no avro.schema");
        /* an unknown codec fails at the first block: --schema, --meta and --count need none */
        r->codec_known = csvavro_codec_parse(r->codec_name, &r->codec) == CSVAVRO_OK &&
                         strcmp(r->codec_name, "zstd") != 0;
        r->codec_at = codec_at;
        if (st == CSVAVRO_OK) {
            st = cav_avro_tree_parse(r->schema_json, schema_len, &r->tree, err);
            /* the flat view only where it applies: its refusal is kept for the column
             * decoder, and is no error for cat */
            if (st == CSVAVRO_OK &&
                cav_avro_parse_fields(r->schema_json, schema_len, &r->fields, &r->n_fields,
                                      &r->fields_err) != CSVAVRO_OK) {
                r->fields = NULL;
                r->n_fields = 0;
                cav_err_path(&r->fields_err, r->path);
            }
            if (st != CSVAVRO_OK && err) {
                char m[sizeof err->message];
                snprintf(m, sizeof m, "%s", err->message);
                fail(r, err, st, schema_at, "%s", m);
            }
        }
    }
    if (st != CSVAVRO_OK) {
        csvavro_avro_reader_close(r);
        return st;
    }
    /* The header buffer is not needed any more; keep the block buffer small until used. */
    cav_buf_free(&r->raw);
    cav_buf_init(&r->raw, r->max_block + 16);
    *out = r;
    return CSVAVRO_OK;
}

csvavro_status csvavro_avro_reader_open(csvavro_fs *fs, const char *path, csvavro_avro_reader **r,
                                        csvavro_error *err) {
    return csvavro_avro_reader_open_ex(fs, path, 0, r, err);
}

void csvavro_avro_reader_close(csvavro_avro_reader *r) {
    if (!r) return;
    if (r->file) {
        csvavro_error e;
        csvavro_file_close(r->file, &e);
    }
    free_meta(r);
    cav_avro_tree_free(&r->tree);
    cav_avro_free_fields(r->fields, r->n_fields);
    cav_buf_free(&r->cell);
    cav_buf_free(&r->raw);
    cav_buf_free(&r->data);
    cav_buf_free(&r->line);
    cav_avro_tree_free(&r->rtree);
    cav_buf_free(&r->rbuf);
    cav_avro_codec_ctx_free(&r->ctx);
    cav_avro_cols_free(r->cols);
    cav_free(r->path);
    cav_free(r);
}

const char *csvavro_avro_reader_schema_json(const csvavro_avro_reader *r) {
    return r->schema_json;
}
const char *csvavro_avro_reader_codec(const csvavro_avro_reader *r) {
    return r->codec_name;
}
size_t csvavro_avro_reader_meta_count(const csvavro_avro_reader *r) {
    return r->n_meta;
}
void csvavro_avro_reader_meta(const csvavro_avro_reader *r, size_t i, const char **key,
                              const char **value, size_t *value_len) {
    *key = r->meta[i].key;
    *value = r->meta[i].value;
    *value_len = r->meta[i].value_len;
}
uint64_t csvavro_avro_reader_blocks(const csvavro_avro_reader *r) {
    return r->block_no;
}

/* ---------------------------------------------------------------- blocks */

/* Reads the count and size of the block at r->pos. *eof is set at a clean end of file. */
static csvavro_status block_head(csvavro_avro_reader *r, int64_t *count, int64_t *size,
                                 int64_t *data_at, bool *eof, csvavro_error *err) {
    *eof = false;
    if (r->pos >= r->size) {
        *eof = true;
        return CSVAVRO_OK;
    }
    r->block_no++;
    uint8_t h[20];
    size_t got = 0;
    CAV_TRY(read_at(r, h, sizeof h, r->pos, &got, err));
    const uint8_t *p = h, *end = h + got;
    uint64_t u;
    if (!cav_varint_get(&p, end, &u))
        return fail(r, err, CSVAVRO_E_CORRUPT, r->pos,
                    got < 10 ? "file ends inside a block header" : "bad varint for block count");
    *count = cav_unzigzag64(u);
    int64_t at = r->pos + (p - h);
    if (!cav_varint_get(&p, end, &u))
        return fail(r, err, CSVAVRO_E_CORRUPT, at,
                    (size_t)(end - p) < 10 ? "file ends inside a block header"
                                           : "bad varint for block size");
    *size = cav_unzigzag64(u);
    if (*count < 0)
        return fail(r, err, CSVAVRO_E_CORRUPT, r->pos, "negative block count %" PRId64, *count);
    if (*size < 0)
        return fail(r, err, CSVAVRO_E_CORRUPT, at, "negative block size %" PRId64, *size);
    if ((uint64_t)*size > r->max_block)
        return fail(r, err, CSVAVRO_E_LIMIT, at,
                    "block size %" PRId64 " is over the %zu byte ceiling", *size, r->max_block);
    *data_at = r->pos + (p - h);
    if (*size > r->size - *data_at || r->size - *data_at - *size < 16)
        return fail(r, err, CSVAVRO_E_CORRUPT, *data_at,
                    "block of %" PRId64 " bytes runs past the end of the file (%" PRId64
                    " bytes): truncated",
                    *size, r->size);
    /* Every record takes at least 0 bytes, so the count alone is not bounded by the size;
     * bound it by the ceiling to keep a count loop finite in time. */
    if ((uint64_t)*count > (uint64_t)r->max_block * 8 + 1024)
        return fail(r, err, CSVAVRO_E_CORRUPT, r->pos, "implausible block count %" PRId64, *count);
    return CSVAVRO_OK;
}

static csvavro_status check_sync(csvavro_avro_reader *r, const uint8_t *s, int64_t at,
                                 csvavro_error *err) {
    if (memcmp(s, r->sync, 16) != 0)
        return fail(r, err, CSVAVRO_E_CORRUPT, at,
                    "sync marker after the block does not match the header's");
    return CSVAVRO_OK;
}

/* Loads the next non-empty block into data/cur/end. *eof at the end of the file. */
static csvavro_status next_block(csvavro_avro_reader *r, bool *eof, csvavro_error *err) {
    for (;;) {
        int64_t count, size, data_at;
        CAV_TRY(block_head(r, &count, &size, &data_at, eof, err));
        if (*eof) return CSVAVRO_OK;
        cav_buf_reset(&r->raw);
        CAV_TRY(cav_buf_reserve(&r->raw, (size_t)size + 16, err));
        size_t got = 0;
        CAV_TRY(read_at(r, r->raw.data, (size_t)size + 16, data_at, &got, err));
        if (got != (size_t)size + 16)
            return fail(r, err, CSVAVRO_E_CORRUPT, data_at + (int64_t)got,
                        "file ends inside a block (truncated)");
        CAV_TRY(check_sync(r, r->raw.data + size, data_at + size, err));
        if (!r->codec_known)
            return fail(r, err, CSVAVRO_E_UNSUPPORTED, r->codec_at,
                        "unknown codec \"%s\" (csvavro reads null, deflate, snappy, zstandard, "
                        "bzip2, xz)",
                        r->codec_name);
        csvavro_status st = cav_avro_decompress(&r->ctx, r->codec, r->raw.data, (size_t)size,
                                                &r->data, r->max_block, err);
        if (st != CSVAVRO_OK) {
            char m[sizeof err->message];
            snprintf(m, sizeof m, "%s", err ? err->message : "");
            return fail(r, err, st, data_at, "%s", m);
        }
        r->block_data_at = data_at;
        r->pos = data_at + size + 16;
        r->cur = r->data.data;
        r->end = r->data.data + r->data.len;
        r->left = (uint64_t)count;
        if (count == 0 && r->data.len != 0)
            return fail(r, err, CSVAVRO_E_CORRUPT, data_at,
                        "block has 0 records but %zu bytes of data", r->data.len);
        if (count > 0) return CSVAVRO_OK;
    }
}

csvavro_status csvavro_avro_reader_count(csvavro_avro_reader *r, uint64_t *count,
                                         csvavro_error *err) {
    uint64_t n = r->left; /* records left in a partly read block */
    r->left = 0;
    r->cur = r->end = NULL;
    for (;;) {
        int64_t c, size, data_at;
        bool eof;
        CAV_TRY(block_head(r, &c, &size, &data_at, &eof, err));
        if (eof) break;
        uint8_t s[16];
        size_t got = 0;
        CAV_TRY(read_at(r, s, 16, data_at + size, &got, err));
        if (got != 16)
            return fail(r, err, CSVAVRO_E_CORRUPT, data_at + size, "file ends inside a block");
        CAV_TRY(check_sync(r, s, data_at + size, err));
        n += (uint64_t)c;
        r->pos = data_at + size + 16;
    }
    *count = n;
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- records to JSON */

/* File offset for a position inside the current block's data: exact for the null codec, the
 * start of the block's data for compressed blocks (positions inside them have no file offset). */
static int64_t data_off(const csvavro_avro_reader *r, const uint8_t *p) {
    return r->codec == CSVAVRO_CODEC_NULL ? r->block_data_at + (p - r->data.data)
                                          : r->block_data_at;
}

#define NEED(n)                                                                                    \
    do {                                                                                           \
        if (CAV_UNLIKELY((size_t)(r->end - r->cur) < (size_t)(n))) goto short_data;                \
    } while (0)

static csvavro_status out(cav_buf *b, const char *s, size_t n, csvavro_error *err) {
    return cav_buf_append(b, s, n, err);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int fmt_date(char *o, size_t cap, int64_t days) {
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    if (y < 0) return snprintf(o, cap, "-%04" PRId64 "-%02u-%02u", -y, m, d);
    return snprintf(o, cap, "%04" PRId64 "-%02u-%02u", y, m, d);
}

static int fmt_ts(char *o, size_t cap, int64_t v, int64_t per_sec, int digits, bool utc) {
    int64_t frac = v % per_sec, secs = v / per_sec;
    if (frac < 0) {
        frac += per_sec;
        secs--;
    }
    int64_t sod = secs % 86400, days = secs / 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int n = fmt_date(o, cap, days);
    if (n < 0 || (size_t)n >= cap) return n;
    return n + snprintf(o + n, cap - (size_t)n, "T%02d:%02d:%02d.%0*" PRId64 "%s",
                        (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), digits, frac,
                        utc ? "Z" : "");
}

static csvavro_status out_double(cav_buf *b, double v, bool is_float, csvavro_error *err) {
    char tmp[40];
    if (isnan(v)) return out(b, "\"NaN\"", 5, err);
    if (isinf(v)) return v > 0 ? out(b, "\"Infinity\"", 10, err) : out(b, "\"-Infinity\"", 11, err);
    int n = 0;
    /* 6 (float) or 15 (double) digits are the shortest form of a normal value when they read
     * back; a subnormal has fewer significant bits, so its shortest form may be shorter */
    bool sub = is_float ? fpclassify((float)v) == FP_SUBNORMAL : fpclassify(v) == FP_SUBNORMAL;
    for (int prec = sub ? 1 : is_float ? 6 : 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (is_float ? (float)strtod(tmp, NULL) == (float)v : strtod(tmp, NULL) == v) break;
    }
    /* Always look like a floating-point number ("-0.0", "3.0"), so that JSON readers keep the
     * sign of zero and the float type. */
    if (!strpbrk(tmp, ".e") && n + 2 < (int)sizeof tmp) {
        memcpy(tmp + n, ".0", 3);
        n += 2;
    }
    return out(b, tmp, (size_t)n, err);
}

static const char hexd[] = "0123456789abcdef";

/* JSON string of raw bytes: as UTF-8 text (strings, validated) or one code point per byte. */
static csvavro_status out_string(cav_buf *b, const uint8_t *s, size_t n, bool bytes,
                                 csvavro_error *err) {
    CAV_TRY(cav_buf_reserve(b, n * 6 + 2, err));
    uint8_t *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = c;
        } else if (c >= 0x20 && c < 0x7f) {
            *o++ = c;
        } else if (c >= 0x80 && !bytes) {
            *o++ = c;
        } else if (c == '\n') {
            *o++ = '\\', *o++ = 'n';
        } else if (c == '\t') {
            *o++ = '\\', *o++ = 't';
        } else if (c == '\r') {
            *o++ = '\\', *o++ = 'r';
        } else {
            *o++ = '\\', *o++ = 'u', *o++ = '0', *o++ = '0';
            *o++ = (uint8_t)hexd[c >> 4];
            *o++ = (uint8_t)hexd[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return CSVAVRO_OK;
}

#define DEPTH_MAX 1000
#define ZERO_ITEMS_MAX ((uint64_t)1 << 20)

static csvavro_status corrupt(csvavro_avro_reader *r, csvavro_error *err, const uint8_t *at,
                              const char *what) {
    if (err) err->record = (int64_t)r->record + 1;
    if (r->field)
        return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, at), "field \"%s\": %s", r->field, what);
    return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, at), "%s", what);
}

/* A long (zigzag varint) from the block. */
static bool get_long(csvavro_avro_reader *r, int64_t *v) {
    uint64_t u;
    if (!cav_varint_get(&r->cur, r->end, &u)) return false;
    *v = cav_unzigzag64(u);
    return true;
}

static csvavro_status out_time(cav_buf *b, int64_t v, int64_t per_sec, int digits,
                               csvavro_error *err) {
    char tmp[48];
    int n;
    if (v < 0 || v >= 86400 * per_sec) { /* not a time of day: the number itself */
        n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    } else {
        int64_t s = v / per_sec;
        n = snprintf(tmp, sizeof tmp, "\"%02d:%02d:%02d.%0*" PRId64 "\"", (int)(s / 3600),
                     (int)(s / 60 % 60), (int)(s % 60), digits, v % per_sec);
    }
    return out(b, tmp, (size_t)n, err);
}

/* A decimal: big-endian two's complement unscaled value, as an exact JSON string. */
static csvavro_status out_decimal(cav_buf *b, const uint8_t *p, size_t len, int scale,
                                  csvavro_error *err) {
    uint8_t mag[256];
    char dig[700];
    if (len > sizeof mag) return out_string(b, p, len, true, err); /* beyond: the bytes */
    bool neg = len && (p[0] & 0x80);
    memcpy(mag, p, len);
    if (neg) { /* magnitude = two's complement negation */
        int carry = 1;
        for (size_t i = len; i-- > 0;) {
            int v = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    size_t nd = 0, start = 0;
    while (start < len && mag[start] == 0)
        start++;
    while (start < len) { /* divide by 10, collecting remainders */
        unsigned rem = 0;
        for (size_t i = start; i < len; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
        }
        dig[nd++] = (char)('0' + rem);
        while (start < len && mag[start] == 0)
            start++;
    }
    if (nd == 0) dig[nd++] = '0', neg = false;
    while ((int)nd <= scale)
        dig[nd++] = '0';
    char txt[720];
    size_t o = 0;
    txt[o++] = '"';
    if (neg) txt[o++] = '-';
    for (size_t i = nd; i-- > 0;) {
        txt[o++] = dig[i];
        if (scale > 0 && i == (size_t)scale) txt[o++] = '.';
    }
    txt[o++] = '"';
    return out(b, txt, o, err);
}

static csvavro_status decode(csvavro_avro_reader *r, const cav_avro_node *t, cav_buf *b, int depth,
                             csvavro_error *err);

/* Reads the header of the next block of array or map t: *count items (0: the end). A negative
 * count's byte size is read and skipped over; the count is checked against the bytes left (or,
 * for items that can take 0 bytes, against the per-record ceiling). */
static csvavro_status items_block(csvavro_avro_reader *r, const cav_avro_node *t, int64_t *count,
                                  csvavro_error *err) {
    const uint8_t *at = r->cur;
    int64_t bytes;
    if (!get_long(r, count)) return corrupt(r, err, at, "bad or truncated varint");
    if (*count == 0) return CSVAVRO_OK;
    if (*count < 0) {
        if (*count == INT64_MIN || !get_long(r, &bytes) || bytes < 0)
            return corrupt(r, err, at, "bad array or map block");
        *count = -*count;
    }
    /* every item takes a byte at least, or counts against the zero-size ceiling */
    if (!t->kids[0]->min0 || t->kind == CAV_AK_MAP) {
        if ((uint64_t)*count > (uint64_t)(r->end - r->cur))
            return corrupt(r, err, at, "array or map block count runs past the block");
    } else if ((r->zero_items += (uint64_t)*count) > ZERO_ITEMS_MAX) {
        return corrupt(r, err, at, "more than 2^20 array items of 0 bytes in one record");
    }
    return CSVAVRO_OK;
}

/* Reads one map key (a length-prefixed UTF-8 string inside the block): *key points at its
 * bytes in the block, *len is its length, and the reader is past it. */
static csvavro_status map_key(csvavro_avro_reader *r, const uint8_t **key, size_t *len,
                              csvavro_error *err) {
    const uint8_t *ka = r->cur;
    int64_t l;
    if (!get_long(r, &l) || l < 0 || (uint64_t)l > (uint64_t)(r->end - r->cur))
        return corrupt(r, err, ka, "map key runs past the end of the block");
    if (cav_utf8_check(r->cur, (size_t)l) != (size_t)l)
        return corrupt(r, err, r->cur, "map key is not valid UTF-8");
    *key = r->cur;
    *len = (size_t)l;
    r->cur += l;
    return CSVAVRO_OK;
}

static csvavro_status decode_items(csvavro_avro_reader *r, const cav_avro_node *t, cav_buf *b,
                                   int depth, csvavro_error *err) {
    bool map = t->kind == CAV_AK_MAP;
    CAV_TRY(out(b, map ? "{" : "[", 1, err));
    bool first = true;
    for (;;) {
        int64_t count;
        CAV_TRY(items_block(r, t, &count, err));
        if (count == 0) break;
        for (int64_t i = 0; i < count; i++) {
            if (!first) CAV_TRY(out(b, ",", 1, err));
            first = false;
            if (map) {
                const uint8_t *key;
                size_t l;
                CAV_TRY(map_key(r, &key, &l, err));
                CAV_TRY(out_string(b, key, l, false, err));
                CAV_TRY(out(b, ":", 1, err));
            }
            CAV_TRY(decode(r, t->kids[0], b, depth + 1, err));
        }
    }
    return out(b, map ? "}" : "]", 1, err);
}

static csvavro_status decode(csvavro_avro_reader *r, const cav_avro_node *t, cav_buf *b, int depth,
                             csvavro_error *err) {
    const uint8_t *at = r->cur;
    char tmp[64];
    int n;
    int64_t v;
    if (depth > DEPTH_MAX) return corrupt(r, err, at, "values nested deeper than 1000 levels");
    switch (t->kind) {
    case CAV_AK_NULL:
        return out(b, "null", 4, err);
    case CAV_AK_BOOLEAN:
        NEED(1);
        if (*r->cur > 1) return corrupt(r, err, at, "boolean byte is neither 0 nor 1");
        return *r->cur++ ? out(b, "true", 4, err) : out(b, "false", 5, err);
    case CAV_AK_INT:
        if (!get_long(r, &v)) goto bad_varint;
        if (v < INT32_MIN || v > INT32_MAX) return corrupt(r, err, at, "int out of range");
        if (t->logical == CAV_AL_DATE) {
            tmp[0] = '"';
            n = fmt_date(tmp + 1, sizeof tmp - 2, v) + 1;
            tmp[n++] = '"';
            return out(b, tmp, (size_t)n, err);
        }
        if (t->logical == CAV_AL_TIME_MILLIS) return out_time(b, v, 1000, 3, err);
        n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
        return out(b, tmp, (size_t)n, err);
    case CAV_AK_LONG: {
        if (!get_long(r, &v)) goto bad_varint;
        int64_t per = 0;
        int digits = 0;
        bool utc = false;
        switch (t->logical) {
        case CAV_AL_TIME_MICROS:
            return out_time(b, v, 1000000, 6, err);
        case CAV_AL_TS_MILLIS:
        case CAV_AL_LTS_MILLIS:
            per = 1000, digits = 3, utc = t->logical == CAV_AL_TS_MILLIS;
            break;
        case CAV_AL_TS_MICROS:
        case CAV_AL_LTS_MICROS:
            per = 1000000, digits = 6, utc = t->logical == CAV_AL_TS_MICROS;
            break;
        case CAV_AL_TS_NANOS:
        case CAV_AL_LTS_NANOS:
            per = 1000000000, digits = 9, utc = t->logical == CAV_AL_TS_NANOS;
            break;
        default:
            break;
        }
        if (per) {
            tmp[0] = '"';
            n = fmt_ts(tmp + 1, sizeof tmp - 2, v, per, digits, utc) + 1;
            tmp[n++] = '"';
        } else {
            n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
        }
        return out(b, tmp, (size_t)n, err);
    }
    case CAV_AK_FLOAT: {
        float f;
        NEED(4);
        memcpy(&f, r->cur, 4);
        r->cur += 4;
        return out_double(b, f, true, err);
    }
    case CAV_AK_DOUBLE: {
        double d;
        NEED(8);
        memcpy(&d, r->cur, 8);
        r->cur += 8;
        return out_double(b, d, false, err);
    }
    case CAV_AK_BYTES:
    case CAV_AK_STRING: {
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v > (uint64_t)(r->end - r->cur)) {
            snprintf(tmp, sizeof tmp, "length %" PRId64 " runs past the end of the block", v);
            return corrupt(r, err, at, tmp);
        }
        const uint8_t *p = r->cur;
        if (t->kind == CAV_AK_STRING && cav_utf8_check(p, (size_t)v) != (size_t)v)
            return corrupt(r, err, p, "string is not valid UTF-8");
        r->cur += v;
        if (t->logical == CAV_AL_DECIMAL) return out_decimal(b, p, (size_t)v, t->scale, err);
        return out_string(b, p, (size_t)v, t->kind == CAV_AK_BYTES, err);
    }
    case CAV_AK_FIXED: {
        NEED(t->size);
        const uint8_t *p = r->cur;
        r->cur += t->size;
        if (t->logical == CAV_AL_DECIMAL) return out_decimal(b, p, (size_t)t->size, t->scale, err);
        return out_string(b, p, (size_t)t->size, true, err);
    }
    case CAV_AK_ENUM:
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v >= t->n) return corrupt(r, err, at, "enum index out of range");
        return out_string(b, (const uint8_t *)t->labels[v], strlen(t->labels[v]), false, err);
    case CAV_AK_RECORD: {
        CAV_TRY(out(b, "{", 1, err));
        for (size_t i = 0; i < t->n; i++) {
            if (i) CAV_TRY(out(b, ",", 1, err));
            CAV_TRY(out_string(b, (const uint8_t *)t->labels[i], strlen(t->labels[i]), false, err));
            CAV_TRY(out(b, ":", 1, err));
            r->field = t->labels[i];
            CAV_TRY(decode(r, t->kids[i], b, depth + 1, err));
        }
        return out(b, "}", 1, err);
    }
    case CAV_AK_ARRAY:
    case CAV_AK_MAP:
        return decode_items(r, t, b, depth, err);
    case CAV_AK_UNION: {
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v >= t->n) return corrupt(r, err, at, "union branch out of range");
        const cav_avro_node *k = t->kids[v];
        if (!t->wrap || k->kind == CAV_AK_NULL) return decode(r, k, b, depth + 1, err);
        /* several non-null branches: Avro's JSON encoding names the branch */
        const char *nm = k->name ? k->name : cav_avro_kind_name(k->kind);
        CAV_TRY(out(b, "{", 1, err));
        CAV_TRY(out_string(b, (const uint8_t *)nm, strlen(nm), false, err));
        CAV_TRY(out(b, ":", 1, err));
        CAV_TRY(decode(r, k, b, depth + 1, err));
        return out(b, "}", 1, err);
    }
    }
    return corrupt(r, err, at, "unknown type");
short_data:
    return corrupt(r, err, r->cur, "block data ends inside the value");
bad_varint:
    return corrupt(r, err, at, "bad or truncated varint");
}

/* Positions the reader on the next record; *eof at the end. */
static csvavro_status next_record(csvavro_avro_reader *r, bool *eof, csvavro_error *err) {
    *eof = false;
    if (r->left == 0) {
        if (r->cur != r->end)
            return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                        "block has %zu bytes left after its last record",
                        (size_t)(r->end - r->cur));
        CAV_TRY(next_block(r, eof, err));
    }
    r->zero_items = 0;
    r->field = NULL;
    return CSVAVRO_OK;
}

static csvavro_status end_record(csvavro_avro_reader *r, csvavro_error *err) {
    r->left--;
    r->record++;
    if (r->left == 0 && r->cur != r->end)
        return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                    "block has %zu bytes left after its last record", (size_t)(r->end - r->cur));
    return CSVAVRO_OK;
}

static csvavro_status resolve(csvavro_avro_reader *r, const cav_avro_node *w,
                              const cav_avro_node *t, cav_buf *o, int depth, csvavro_error *err);

/* With a reader schema: the record re-encoded for it into rbuf, and the cursor moved there
 * (*saved_cur/end: where to go back in the block after decoding it). */
static csvavro_status to_reader(csvavro_avro_reader *r, const uint8_t **saved_cur,
                                const uint8_t **saved_end, csvavro_error *err) {
    *saved_cur = *saved_end = NULL;
    if (!r->rtree.root) return CSVAVRO_OK;
    cav_buf_reset(&r->rbuf);
    CAV_TRY(resolve(r, r->tree.root, r->rtree.root, &r->rbuf, 0, err));
    *saved_cur = r->cur;
    *saved_end = r->end;
    r->cur = r->rbuf.data;
    r->end = r->rbuf.data + r->rbuf.len;
    r->zero_items = 0; /* the re-encoded record's items count once more against the ceiling */
    return CSVAVRO_OK;
}

static void from_reader(csvavro_avro_reader *r, const uint8_t *saved_cur,
                        const uint8_t *saved_end) {
    if (!saved_end) return;
    r->cur = saved_cur;
    r->end = saved_end;
}

static const cav_avro_node *root_of(const csvavro_avro_reader *r) {
    return r->rtree.root ? r->rtree.root : r->tree.root;
}

csvavro_status csvavro_avro_reader_next_json(csvavro_avro_reader *r, const char **line, size_t *len,
                                             csvavro_error *err) {
    *line = NULL;
    *len = 0;
    bool eof;
    CAV_TRY(next_record(r, &eof, err));
    if (eof) return CSVAVRO_OK;
    cav_buf *b = &r->line;
    cav_buf_reset(b);
    const uint8_t *sc, *se;
    CAV_TRY(to_reader(r, &sc, &se, err));
    csvavro_status st = decode(r, root_of(r), b, 0, err);
    from_reader(r, sc, se);
    CAV_TRY(st);
    CAV_TRY(end_record(r, err));
    *line = (const char *)b->data;
    *len = b->len;
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- CSV */

/* Appends text as one CSV cell: quoted when it holds a delimiter, quote, CR or LF, or is
 * empty (so that an empty string differs from a null, which is an empty unquoted cell). */
static csvavro_status csv_cell(cav_buf *b, const char *s, size_t n, csvavro_error *err) {
    bool q = n == 0;
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!q) return out(b, s, n, err);
    CAV_TRY(out(b, "\"", 1, err));
    for (size_t i = 0; i < n; i++)
        CAV_TRY(s[i] == '"' ? out(b, "\"\"", 2, err) : out(b, s + i, 1, err));
    return out(b, "\"", 1, err);
}

/* One field's JSON (from decode) as a CSV cell: null empty, a string as its text, anything
 * else (numbers, booleans, nested values) as its JSON text. */
static csvavro_status json_to_cell(cav_buf *b, const cav_buf *j, cav_buf *tmp, csvavro_error *err) {
    const char *s = (const char *)j->data;
    size_t n = j->len;
    if (n == 4 && !memcmp(s, "null", 4)) return CSVAVRO_OK;
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') return csv_cell(b, s, n, err);
    /* decode's own escapes: \" \\ \n \t \r \u00XX */
    cav_buf_reset(tmp);
    CAV_TRY(cav_buf_reserve(tmp, n * 2, err));
    uint8_t *o = tmp->data;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = s[i];
        if (c != '\\') {
            *o++ = (uint8_t)c;
            continue;
        }
        c = s[++i];
        if (c == 'n')
            *o++ = '\n';
        else if (c == 't')
            *o++ = '\t';
        else if (c == 'r')
            *o++ = '\r';
        else if (c == 'u' && i + 4 < n) {
            unsigned cp =
                (unsigned)strtoul((char[5]){s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0}, NULL, 16);
            i += 4;
            if (cp < 0x80) {
                *o++ = (uint8_t)cp;
            } else { /* U+0080..U+00FF (bytes) */
                *o++ = (uint8_t)(0xC0 | (cp >> 6));
                *o++ = (uint8_t)(0x80 | (cp & 0x3F));
            }
        } else {
            *o++ = (uint8_t)c;
        }
    }
    return csv_cell(b, (const char *)tmp->data, (size_t)(o - tmp->data), err);
}

csvavro_status csvavro_avro_reader_csv_header(csvavro_avro_reader *r, const char **line,
                                              size_t *len, csvavro_error *err) {
    cav_buf *b = &r->line;
    cav_buf_reset(b);
    const cav_avro_node *t = root_of(r);
    if (t->kind != CAV_AK_RECORD) {
        CAV_TRY(out(b, "value", 5, err));
    } else {
        for (size_t i = 0; i < t->n; i++) {
            if (i) CAV_TRY(out(b, ",", 1, err));
            CAV_TRY(csv_cell(b, t->labels[i], strlen(t->labels[i]), err));
        }
    }
    *line = (const char *)b->data;
    *len = b->len;
    return CSVAVRO_OK;
}

csvavro_status csvavro_avro_reader_next_csv(csvavro_avro_reader *r, const char **line, size_t *len,
                                            csvavro_error *err) {
    *line = NULL;
    *len = 0;
    bool eof;
    CAV_TRY(next_record(r, &eof, err));
    if (eof) return CSVAVRO_OK;
    cav_buf *b = &r->line;
    cav_buf_reset(b);
    const uint8_t *sc, *se;
    CAV_TRY(to_reader(r, &sc, &se, err));
    const cav_avro_node *t = root_of(r);
    bool rec = t->kind == CAV_AK_RECORD;
    size_t nf = rec ? t->n : 1;
    cav_buf tmp;
    cav_buf_init(&tmp, 0);
    csvavro_status st = CSVAVRO_OK;
    for (size_t i = 0; i < nf && st == CSVAVRO_OK; i++) {
        if (i) st = out(b, ",", 1, err);
        cav_buf_reset(&r->cell);
        if (rec) r->field = t->labels[i];
        if (st == CSVAVRO_OK) st = decode(r, rec ? t->kids[i] : t, &r->cell, 1, err);
        if (st == CSVAVRO_OK) st = json_to_cell(b, &r->cell, &tmp, err);
    }
    cav_buf_free(&tmp);
    from_reader(r, sc, se);
    CAV_TRY(st);
    CAV_TRY(end_record(r, err));
    *line = (const char *)b->data;
    *len = b->len;
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- for the column decoder */

csvavro_status cav_avro_reader_take_block(csvavro_avro_reader *r, cav_avro_block *b,
                                          csvavro_error *err) {
    memset(b, 0, sizeof *b);
    b->path = r->path;
    b->null_codec = r->codec == CSVAVRO_CODEC_NULL;
    b->record0 = r->record;
    if (r->left != 0)
        return cav_err(err, CSVAVRO_E_USAGE,
                       "records of this block were already read as JSON: read a file either way");
    bool eof;
    CAV_TRY(next_block(r, &eof, err));
    if (eof) return CSVAVRO_OK;
    b->data = r->cur;
    b->len = (size_t)(r->end - r->cur);
    b->count = r->left;
    b->data_at = r->block_data_at;
    b->block_no = r->block_no;
    r->record += r->left;
    r->left = 0;
    r->cur = r->end;
    return CSVAVRO_OK;
}

const cav_avro_rfield *cav_avro_reader_fields(const csvavro_avro_reader *r, size_t *n) {
    *n = r->n_fields;
    return r->fields;
}

csvavro_status cav_avro_reader_fields_error(const csvavro_avro_reader *r, csvavro_error *err) {
    if (err) *err = r->fields_err;
    return r->fields_err.status != CSVAVRO_OK ? r->fields_err.status : CSVAVRO_E_UNSUPPORTED;
}

cav_avro_cols **cav_avro_reader_cols(csvavro_avro_reader *r) {
    return &r->cols;
}

/* ---------------------------------------------------------------- re-encoding (avro_merge.c) */

static csvavro_status put_long(cav_buf *o, int64_t v, csvavro_error *err) {
    CAV_TRY(cav_buf_reserve(o, 10, err));
    o->len += cav_varint_put(o->data + o->len, cav_zigzag64(v));
    return CSVAVRO_OK;
}

static csvavro_status resolve(csvavro_avro_reader *r, const cav_avro_node *w,
                              const cav_avro_node *t, cav_buf *o, int depth, csvavro_error *err);

static csvavro_status resolve_items(csvavro_avro_reader *r, const cav_avro_node *w,
                                    const cav_avro_node *t, cav_buf *o, int depth,
                                    csvavro_error *err) {
    bool map = w->kind == CAV_AK_MAP;
    for (;;) {
        int64_t count;
        CAV_TRY(items_block(r, w, &count, err));
        if (count == 0) break;
        CAV_TRY(put_long(o, count, err));
        for (int64_t i = 0; i < count; i++) {
            if (map) {
                const uint8_t *key;
                size_t l;
                CAV_TRY(map_key(r, &key, &l, err));
                CAV_TRY(put_long(o, (int64_t)l, err));
                CAV_TRY(cav_buf_append(o, key, l, err));
            }
            CAV_TRY(resolve(r, w->kids[0], t->kids[0], o, depth + 1, err));
        }
    }
    return put_long(o, 0, err);
}

/* A record: the writer's fields in its order, then re-ordered for the reader (fields only the
 * writer has dropped, fields only the reader has written as null: cav_avro_resolves checked
 * that their type is a union whose first branch is null). */
static csvavro_status resolve_record(csvavro_avro_reader *r, const cav_avro_node *w,
                                     const cav_avro_node *t, cav_buf *o, int depth,
                                     csvavro_error *err) {
    bool same = w->n == t->n;
    for (size_t i = 0; i < w->n && same; i++)
        same = !strcmp(w->labels[i], t->labels[i]);
    if (same) {
        for (size_t i = 0; i < w->n; i++) {
            r->field = w->labels[i];
            CAV_TRY(resolve(r, w->kids[i], t->kids[i], o, depth + 1, err));
        }
        return CSVAVRO_OK;
    }
    size_t spans_local[2 * 64];
    size_t *span = w->n <= 64 ? spans_local : cav_malloc(2 * w->n * sizeof *span);
    if (!span) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    size_t start = o->len;
    csvavro_status st = CSVAVRO_OK;
    for (size_t i = 0; i < w->n && st == CSVAVRO_OK; i++) { /* the writer's order */
        r->field = w->labels[i];
        const cav_avro_node *rt = w->kids[i]; /* a dropped field: itself, then discarded */
        for (size_t k = 0; k < t->n; k++)
            if (!strcmp(t->labels[k], w->labels[i])) rt = t->kids[k];
        span[2 * i] = o->len;
        st = resolve(r, w->kids[i], rt, o, depth + 1, err);
        span[2 * i + 1] = o->len - span[2 * i];
    }
    size_t mid = o->len;
    for (size_t k = 0; k < t->n && st == CSVAVRO_OK; k++) { /* the reader's order */
        size_t i = 0;
        while (i < w->n && strcmp(w->labels[i], t->labels[k]))
            i++;
        if (i == w->n) {
            st = put_long(o, 0, err); /* the null default: branch 0 */
        } else {
            st = cav_buf_reserve(o, span[2 * i + 1], err);
            if (st == CSVAVRO_OK) {
                memcpy(o->data + o->len, o->data + span[2 * i], span[2 * i + 1]);
                o->len += span[2 * i + 1];
            }
        }
    }
    if (st == CSVAVRO_OK) {
        memmove(o->data + start, o->data + mid, o->len - mid);
        o->len = start + (o->len - mid);
    }
    if (span != spans_local) cav_free(span);
    return st;
}

static csvavro_status put_float(cav_buf *o, double v, bool is_float, csvavro_error *err) {
    if (is_float) {
        float f = (float)v;
        return cav_buf_append(o, &f, 4, err);
    }
    return cav_buf_append(o, &v, 8, err);
}

static csvavro_status resolve(csvavro_avro_reader *r, const cav_avro_node *w,
                              const cav_avro_node *t, cav_buf *o, int depth, csvavro_error *err) {
    const uint8_t *at = r->cur;
    int64_t v;
    if (depth > DEPTH_MAX) return corrupt(r, err, at, "values nested deeper than 1000 levels");
    if (w->kind == CAV_AK_UNION) {
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v >= w->n) return corrupt(r, err, at, "union branch out of range");
        return resolve(r, w->kids[v], t, o, depth + 1, err);
    }
    if (t->kind == CAV_AK_UNION) {
        int b = cav_avro_union_branch(t, w);
        if (b < 0) return corrupt(r, err, at, "a value the output schema's union cannot hold");
        CAV_TRY(put_long(o, b, err));
        return resolve(r, w, t->kids[b], o, depth + 1, err);
    }
    switch (w->kind) {
    case CAV_AK_NULL:
        return CSVAVRO_OK;
    case CAV_AK_BOOLEAN:
        NEED(1);
        if (*r->cur > 1) return corrupt(r, err, at, "boolean byte is neither 0 nor 1");
        return cav_buf_append(o, r->cur++, 1, err);
    case CAV_AK_INT:
    case CAV_AK_LONG:
        if (!get_long(r, &v)) goto bad_varint;
        if (w->kind == CAV_AK_INT && (v < INT32_MIN || v > INT32_MAX))
            return corrupt(r, err, at, "int out of range");
        if (t->kind == CAV_AK_FLOAT || t->kind == CAV_AK_DOUBLE)
            return put_float(o, (double)v, t->kind == CAV_AK_FLOAT, err);
        return put_long(o, v, err);
    case CAV_AK_FLOAT: {
        float f;
        NEED(4);
        memcpy(&f, r->cur, 4);
        r->cur += 4;
        return put_float(o, f, t->kind == CAV_AK_FLOAT, err);
    }
    case CAV_AK_DOUBLE:
        NEED(8);
        r->cur += 8;
        return cav_buf_append(o, r->cur - 8, 8, err);
    case CAV_AK_BYTES:
    case CAV_AK_STRING: {
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v > (uint64_t)(r->end - r->cur))
            return corrupt(r, err, at, "length runs past the end of the block");
        const uint8_t *p = r->cur;
        if ((w->kind == CAV_AK_STRING || t->kind == CAV_AK_STRING) &&
            cav_utf8_check(p, (size_t)v) != (size_t)v)
            return corrupt(r, err, p, "string is not valid UTF-8");
        r->cur += v;
        CAV_TRY(put_long(o, v, err));
        return cav_buf_append(o, p, (size_t)v, err);
    }
    case CAV_AK_FIXED:
        NEED(w->size);
        r->cur += w->size;
        return cav_buf_append(o, r->cur - w->size, (size_t)w->size, err);
    case CAV_AK_ENUM: {
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v >= w->n) return corrupt(r, err, at, "enum index out of range");
        for (size_t k = 0; k < t->n; k++)
            if (!strcmp(t->labels[k], w->labels[v])) return put_long(o, (int64_t)k, err);
        char m[300];
        snprintf(m, sizeof m, "enum symbol \"%.200s\" is not in the output schema", w->labels[v]);
        return corrupt(r, err, at, m);
    }
    case CAV_AK_RECORD:
        return resolve_record(r, w, t, o, depth, err);
    case CAV_AK_ARRAY:
    case CAV_AK_MAP:
        return resolve_items(r, w, t, o, depth, err);
    case CAV_AK_UNION:
        break;
    }
    return corrupt(r, err, at, "unknown type");
short_data:
    return corrupt(r, err, r->cur, "block data ends inside the value");
bad_varint:
    return corrupt(r, err, at, "bad or truncated varint");
}

csvavro_status cav_avro_reader_next_resolved(csvavro_avro_reader *r, const cav_avro_node *t,
                                             cav_buf *o, bool *eof, csvavro_error *err) {
    CAV_TRY(next_record(r, eof, err));
    if (*eof) return CSVAVRO_OK;
    CAV_TRY(resolve(r, r->tree.root, t, o, 0, err));
    return end_record(r, err);
}

const cav_avro_node *cav_avro_reader_tree(const csvavro_avro_reader *r) {
    return r->tree.root;
}

csvavro_status csvavro_avro_reader_use_schema(csvavro_avro_reader *r, const char *json,
                                              csvavro_error *err) {
    if (r->rtree.root) cav_avro_tree_free(&r->rtree);
    /* no schema, or the writer's own text: records are read as written (no re-encoding) */
    if (!json || !strcmp(json, r->schema_json)) return CSVAVRO_OK;
    csvavro_status st = cav_avro_tree_parse(json, strlen(json), &r->rtree, err);
    if (st != CSVAVRO_OK) {
        cav_err_prefix(err, "reader schema");
        return st;
    }
    char why[600];
    if (!cav_avro_resolves(r->tree.root, r->rtree.root, why, sizeof why)) {
        cav_avro_tree_free(&r->rtree);
        cav_err_path(err, r->path);
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "its schema does not resolve to the reader schema (Avro's rules): %s", why);
    }
    cav_buf_free(&r->rbuf);
    cav_buf_init(&r->rbuf, r->max_block);
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- picking scalars (cat --where) */

/* Parses one value of type t and drops it (every check decode makes). */
static csvavro_status skip(csvavro_avro_reader *r, const cav_avro_node *t, int depth,
                           csvavro_error *err) {
    const uint8_t *at = r->cur;
    int64_t v;
    if (depth > DEPTH_MAX) return corrupt(r, err, at, "values nested deeper than 1000 levels");
    switch (t->kind) {
    case CAV_AK_NULL:
        return CSVAVRO_OK;
    case CAV_AK_BOOLEAN:
        NEED(1);
        if (*r->cur > 1) return corrupt(r, err, at, "boolean byte is neither 0 nor 1");
        r->cur++;
        return CSVAVRO_OK;
    case CAV_AK_INT:
    case CAV_AK_LONG:
        if (!get_long(r, &v)) goto bad_varint;
        if (t->kind == CAV_AK_INT && (v < INT32_MIN || v > INT32_MAX))
            return corrupt(r, err, at, "int out of range");
        return CSVAVRO_OK;
    case CAV_AK_FLOAT:
        NEED(4);
        r->cur += 4;
        return CSVAVRO_OK;
    case CAV_AK_DOUBLE:
        NEED(8);
        r->cur += 8;
        return CSVAVRO_OK;
    case CAV_AK_BYTES:
    case CAV_AK_STRING:
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v > (uint64_t)(r->end - r->cur))
            return corrupt(r, err, at, "length runs past the end of the block");
        if (t->kind == CAV_AK_STRING && cav_utf8_check(r->cur, (size_t)v) != (size_t)v)
            return corrupt(r, err, r->cur, "string is not valid UTF-8");
        r->cur += v;
        return CSVAVRO_OK;
    case CAV_AK_FIXED:
        NEED(t->size);
        r->cur += t->size;
        return CSVAVRO_OK;
    case CAV_AK_ENUM:
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v >= t->n) return corrupt(r, err, at, "enum index out of range");
        return CSVAVRO_OK;
    case CAV_AK_RECORD:
        for (size_t i = 0; i < t->n; i++) {
            r->field = t->labels[i];
            CAV_TRY(skip(r, t->kids[i], depth + 1, err));
        }
        return CSVAVRO_OK;
    case CAV_AK_ARRAY:
    case CAV_AK_MAP:
        for (;;) {
            int64_t count;
            CAV_TRY(items_block(r, t, &count, err));
            if (count == 0) return CSVAVRO_OK;
            for (int64_t i = 0; i < count; i++) {
                if (t->kind == CAV_AK_MAP) {
                    const uint8_t *key;
                    size_t l;
                    CAV_TRY(map_key(r, &key, &l, err));
                }
                CAV_TRY(skip(r, t->kids[0], depth + 1, err));
            }
        }
    case CAV_AK_UNION:
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v >= t->n) return corrupt(r, err, at, "union branch out of range");
        return skip(r, t->kids[v], depth + 1, err);
    }
    return corrupt(r, err, at, "unknown type");
short_data:
    return corrupt(r, err, r->cur, "block data ends inside the value");
bad_varint:
    return corrupt(r, err, at, "bad or truncated varint");
}

/* One scalar of type t into *o (a union: its branch; a value that is no scalar is skipped and
 * left null). */
static csvavro_status pick_scalar(csvavro_avro_reader *r, const cav_avro_node *t, cav_avro_val *o,
                                  int depth, csvavro_error *err) {
    const uint8_t *at = r->cur;
    int64_t v;
    if (depth > DEPTH_MAX) return corrupt(r, err, at, "values nested deeper than 1000 levels");
    switch (t->kind) {
    case CAV_AK_BOOLEAN:
        NEED(1);
        if (*r->cur > 1) return corrupt(r, err, at, "boolean byte is neither 0 nor 1");
        o->i = *r->cur++;
        break;
    case CAV_AK_INT:
    case CAV_AK_LONG:
        if (!get_long(r, &v)) goto bad_varint;
        if (t->kind == CAV_AK_INT && (v < INT32_MIN || v > INT32_MAX))
            return corrupt(r, err, at, "int out of range");
        o->i = v;
        break;
    case CAV_AK_FLOAT: {
        float f;
        NEED(4);
        memcpy(&f, r->cur, 4);
        r->cur += 4;
        o->d = f;
        break;
    }
    case CAV_AK_DOUBLE:
        NEED(8);
        memcpy(&o->d, r->cur, 8);
        r->cur += 8;
        break;
    case CAV_AK_BYTES:
    case CAV_AK_STRING:
    case CAV_AK_FIXED:
        if (t->kind == CAV_AK_FIXED) {
            v = (int64_t)t->size;
            NEED(t->size);
        } else {
            if (!get_long(r, &v)) goto bad_varint;
            if (v < 0 || (uint64_t)v > (uint64_t)(r->end - r->cur))
                return corrupt(r, err, at, "length runs past the end of the block");
            if (t->kind == CAV_AK_STRING && cav_utf8_check(r->cur, (size_t)v) != (size_t)v)
                return corrupt(r, err, r->cur, "string is not valid UTF-8");
        }
        o->p = r->cur;
        o->len = (size_t)v;
        r->cur += v;
        break;
    case CAV_AK_ENUM:
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v >= t->n) return corrupt(r, err, at, "enum index out of range");
        o->i = v;
        o->p = (const uint8_t *)t->labels[v];
        o->len = strlen(t->labels[v]);
        break;
    case CAV_AK_UNION:
        if (!get_long(r, &v)) goto bad_varint;
        if (v < 0 || (uint64_t)v >= t->n) return corrupt(r, err, at, "union branch out of range");
        return pick_scalar(r, t->kids[v], o, depth + 1, err);
    default: /* null, or not a scalar: null */
        return skip(r, t, depth, err);
    }
    o->present = true;
    return CSVAVRO_OK;
short_data:
    return corrupt(r, err, r->cur, "block data ends inside the value");
bad_varint:
    return corrupt(r, err, at, "bad or truncated varint");
}

static csvavro_status pick_record(csvavro_avro_reader *r, const cav_avro_node *t,
                                  const cav_avro_pick *p, cav_avro_val *vals, int depth,
                                  csvavro_error *err) {
    if (depth > DEPTH_MAX) return corrupt(r, err, r->cur, "values nested deeper than 1000 levels");
    for (size_t i = 0; i < t->n; i++) {
        const cav_avro_node *k = t->kids[i];
        r->field = t->labels[i];
        if (i < p->n && p->leaf[i] >= 0) {
            CAV_TRY(pick_scalar(r, k, &vals[p->leaf[i]], depth + 1, err));
        } else if (i < p->n && p->sub[i]) {
            if (k->kind == CAV_AK_UNION) {
                const uint8_t *at = r->cur;
                int64_t v;
                if (!get_long(r, &v)) return corrupt(r, err, at, "bad or truncated varint");
                if (v < 0 || (uint64_t)v >= k->n)
                    return corrupt(r, err, at, "union branch out of range");
                k = k->kids[v];
            }
            if (k->kind == CAV_AK_RECORD)
                CAV_TRY(pick_record(r, k, p->sub[i], vals, depth + 1, err));
            else /* a null record: the values below stay null */
                CAV_TRY(skip(r, k, depth + 1, err));
        } else {
            CAV_TRY(skip(r, k, depth + 1, err));
        }
    }
    return CSVAVRO_OK;
}

csvavro_status cav_avro_reader_next_picked(csvavro_avro_reader *r, const cav_avro_pick *p,
                                           cav_avro_val *vals, size_t n_vals, bool *eof,
                                           csvavro_error *err) {
    for (size_t i = 0; i < n_vals; i++)
        vals[i] = (cav_avro_val){0};
    CAV_TRY(next_record(r, eof, err));
    if (*eof) return CSVAVRO_OK;
    const cav_avro_node *t = root_of(r);
    if (t->kind != CAV_AK_RECORD)
        return cav_err(err, CSVAVRO_E_USAGE, "values are picked from records only");
    const uint8_t *sc, *se;
    CAV_TRY(to_reader(r, &sc, &se, err));
    csvavro_status st = pick_record(r, t, p, vals, 0, err);
    if (st == CSVAVRO_OK && se && r->cur != r->end)
        st = cav_err(err, CSVAVRO_E_INTERNAL, "a record read as the reader schema has bytes left");
    from_reader(r, sc, se);
    CAV_TRY(st);
    return end_record(r, err);
}

const cav_avro_node *cav_avro_reader_reading_tree(const csvavro_avro_reader *r) {
    return root_of(r);
}
