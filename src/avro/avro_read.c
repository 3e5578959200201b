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
    cav_avro_rfield *fields;
    size_t n_fields;
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
    cav_avro_codec_ctx ctx;
    cav_avro_cols *cols; /* column decoder state (avro_read_columns.c), made on first use */
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
    if (r->block_no > 0)
        cav_err(err, st, "%s (block %" PRIu64 ", byte %" PRId64 ")", msg, r->block_no, offset);
    else
        cav_err(err, st, "%s (header, byte %" PRId64 ")", msg, offset);
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
        if (!r->schema_json)
            st = fail(r, err, CSVAVRO_E_CORRUPT, 4, "header has no avro.schema");
        else if (csvavro_codec_parse(r->codec_name, &r->codec) != CSVAVRO_OK ||
                 strcmp(r->codec_name, "zstd") == 0)
            st = fail(r, err, CSVAVRO_E_UNSUPPORTED, codec_at, "unknown codec \"%s\"",
                      r->codec_name);
        if (st == CSVAVRO_OK) {
            st = cav_avro_parse_fields(r->schema_json, schema_len, &r->fields, &r->n_fields, err);
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
    cav_avro_free_fields(r->fields, r->n_fields);
    cav_buf_free(&r->raw);
    cav_buf_free(&r->data);
    cav_buf_free(&r->line);
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
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
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

csvavro_status csvavro_avro_reader_next_json(csvavro_avro_reader *r, const char **line, size_t *len,
                                             csvavro_error *err) {
    *line = NULL;
    *len = 0;
    if (r->left == 0) {
        if (r->cur != r->end)
            return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                        "block has %zu bytes left after its last record",
                        (size_t)(r->end - r->cur));
        bool eof;
        CAV_TRY(next_block(r, &eof, err));
        if (eof) return CSVAVRO_OK;
    }
    cav_buf *b = &r->line;
    cav_buf_reset(b);
    CAV_TRY(out(b, "{", 1, err));
    size_t fi = 0;
    for (fi = 0; fi < r->n_fields; fi++) {
        const cav_avro_rfield *f = &r->fields[fi];
        CAV_TRY(out(b, fi ? ",\"" : "\"", fi ? 2 : 1, err));
        CAV_TRY(out(b, f->name, strlen(f->name), err));
        CAV_TRY(out(b, "\":", 2, err));
        uint64_t u;
        if (f->branches) {
            /* The branch index, zigzag-encoded: 0 .. branches-1 only. */
            if (!cav_varint_get(&r->cur, r->end, &u)) goto bad_varint;
            if ((u & 1) || (u >> 1) >= f->branches) goto bad_branch;
            if (f->nullable && (u >> 1) == f->null_branch) {
                CAV_TRY(out(b, "null", 4, err));
                continue;
            }
        }
        char tmp[64];
        int n;
        switch (f->type) {
        case CSVAVRO_TYPE_NULL:
            CAV_TRY(out(b, "null", 4, err));
            break;
        case CSVAVRO_TYPE_BOOLEAN:
            NEED(1);
            if (*r->cur > 1) goto bad_value;
            CAV_TRY(*r->cur ? out(b, "true", 4, err) : out(b, "false", 5, err));
            r->cur++;
            break;
        case CSVAVRO_TYPE_INT:
        case CSVAVRO_TYPE_DATE: {
            if (!cav_varint_get(&r->cur, r->end, &u)) goto bad_varint;
            int64_t v = cav_unzigzag64(u);
            if (v < INT32_MIN || v > INT32_MAX) goto bad_value;
            if (f->type == CSVAVRO_TYPE_DATE) {
                tmp[0] = '"';
                n = fmt_date(tmp + 1, sizeof tmp - 2, v) + 1;
                tmp[n++] = '"';
            } else {
                n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
            }
            CAV_TRY(out(b, tmp, (size_t)n, err));
            break;
        }
        case CSVAVRO_TYPE_LONG:
        case CSVAVRO_TYPE_TIMESTAMP_MICROS:
        case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
        case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
        case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS: {
            if (!cav_varint_get(&r->cur, r->end, &u)) goto bad_varint;
            int64_t v = cav_unzigzag64(u);
            if (f->type == CSVAVRO_TYPE_LONG) {
                n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
            } else {
                bool micros = f->type == CSVAVRO_TYPE_TIMESTAMP_MICROS ||
                              f->type == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS;
                bool utc = f->type == CSVAVRO_TYPE_TIMESTAMP_MICROS ||
                           f->type == CSVAVRO_TYPE_TIMESTAMP_MILLIS;
                tmp[0] = '"';
                n = fmt_ts(tmp + 1, sizeof tmp - 2, v, micros ? 1000000 : 1000, micros ? 6 : 3,
                           utc) +
                    1;
                tmp[n++] = '"';
            }
            CAV_TRY(out(b, tmp, (size_t)n, err));
            break;
        }
        case CSVAVRO_TYPE_FLOAT: {
            NEED(4);
            float v;
            memcpy(&v, r->cur, 4);
            r->cur += 4;
            CAV_TRY(out_double(b, v, true, err));
            break;
        }
        case CSVAVRO_TYPE_DOUBLE: {
            NEED(8);
            double v;
            memcpy(&v, r->cur, 8);
            r->cur += 8;
            CAV_TRY(out_double(b, v, false, err));
            break;
        }
        case CSVAVRO_TYPE_STRING:
        case CSVAVRO_TYPE_BYTES: {
            const uint8_t *at = r->cur;
            if (!cav_varint_get(&r->cur, r->end, &u)) goto bad_varint;
            int64_t l = cav_unzigzag64(u);
            if (err) err->record = (int64_t)r->record + 1;
            if (l < 0 || (uint64_t)l > (uint64_t)(r->end - r->cur)) {
                r->cur = at;
                return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, at),
                            "record %" PRIu64 ", field \"%s\": length %" PRId64
                            " runs past the end of the block",
                            r->record + 1, f->name, l);
            }
            if (f->type == CSVAVRO_TYPE_STRING && cav_utf8_check(r->cur, (size_t)l) != (size_t)l)
                return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                            "record %" PRIu64 ", field \"%s\": string is not valid UTF-8",
                            r->record + 1, f->name);
            if (err) err->record = -1;
            CAV_TRY(out_string(b, r->cur, (size_t)l, f->type == CSVAVRO_TYPE_BYTES, err));
            r->cur += l;
            break;
        }
        }
    }
    CAV_TRY(out(b, "}", 1, err));
    r->left--;
    r->record++;
    if (r->left == 0 && r->cur != r->end)
        return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                    "block has %zu bytes left after its last record", (size_t)(r->end - r->cur));
    *line = (const char *)b->data;
    *len = b->len;
    return CSVAVRO_OK;

short_data:
    if (err) err->record = (int64_t)r->record + 1;
    return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                "record %" PRIu64 ", field \"%s\": block data ends inside the value", r->record + 1,
                r->fields[fi].name);
bad_varint:
    if (err) err->record = (int64_t)r->record + 1;
    return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                "record %" PRIu64 ", field \"%s\": bad or truncated varint", r->record + 1,
                r->fields[fi].name);
bad_branch:
    if (err) err->record = (int64_t)r->record + 1;
    return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                "record %" PRIu64 ", field \"%s\": union branch out of range", r->record + 1,
                r->fields[fi].name);
bad_value:
    if (err) err->record = (int64_t)r->record + 1;
    return fail(r, err, CSVAVRO_E_CORRUPT, data_off(r, r->cur),
                "record %" PRIu64 ", field \"%s\": value out of range for its type", r->record + 1,
                r->fields[fi].name);
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

cav_avro_cols **cav_avro_reader_cols(csvavro_avro_reader *r) {
    return &r->cols;
}
