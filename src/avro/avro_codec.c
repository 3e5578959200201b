/*
 * avro_codec.c — the block codecs of Avro object container files.
 *
 *   null       the block as is
 *   deflate    raw RFC 1951 (no zlib header): libdeflate to compress, zlib's inflate to
 *              decompress (streaming, so the unknown output size needs no guessing)
 *   snappy     snappy raw format followed by the 4-byte big-endian CRC-32 of the uncompressed
 *              block (the CRC is checked on reading): our own encoder (avro_snappy.c),
 *              libsnappy's decoder; the CRC-32 by libdeflate
 *   zstandard  one zstd frame with its content checksum (libzstd; verified on reading)
 *   bzip2      one bzip2 stream (libbz2)
 *   xz         one .xz stream with a CRC-64 check (liblzma)
 *
 * Decompression never writes past `max` bytes: every decoder is driven in streaming mode into
 * a buffer that grows (doubling) up to that ceiling, so a hostile block cannot make us allocate
 * more than the configured block ceiling. Compressor contexts are kept in cav_avro_codec_ctx
 * and reused across blocks. Each codec is a compress/decompress pair in the table at the end.
 */
#include "avro/avro.h"

#include <bzlib.h>
#include <libdeflate.h>
#include <limits.h>
#include <lzma.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

void cav_avro_codec_ctx_free(cav_avro_codec_ctx *ctx) {
    if (!ctx) return;
    if (ctx->deflate_c) libdeflate_free_compressor(ctx->deflate_c);
    if (ctx->zstd_c) ZSTD_freeCCtx(ctx->zstd_c);
    if (ctx->zstd_d) ZSTD_freeDCtx(ctx->zstd_d);
    memset(ctx, 0, sizeof *ctx);
}

static csvavro_status nomem(csvavro_error *err, const char *what) {
    return cav_err(err, CSVAVRO_E_NOMEM, "out of memory (%s)", what);
}

/* Grows dst so that at least some room is free, never past max. Returns false at the ceiling. */
static csvavro_status grow(cav_buf *dst, size_t max, size_t hint, csvavro_error *err) {
    if (dst->len >= max)
        return cav_err(err, CSVAVRO_E_LIMIT,
                       "decompressed block exceeds the block size ceiling of %zu bytes", max);
    size_t want = dst->cap > dst->len ? dst->cap - dst->len : 0;
    if (want < 65536) want = CAV_MAX(hint, (size_t)65536);
    if (want < dst->len) want = dst->len; /* double */
    if (want > max - dst->len) want = max - dst->len;
    return cav_buf_reserve(dst, want, err);
}

static size_t room(const cav_buf *b, size_t max) {
    size_t r = b->cap - b->len;
    return r > max - b->len ? max - b->len : r;
}

static csvavro_status corrupt(csvavro_error *err, const char *codec, const char *why) {
    return cav_err(err, CSVAVRO_E_CORRUPT, "%s block does not decompress: %s", codec, why);
}

/* ---------------------------------------------------------------- null */

static csvavro_status enc_null(cav_avro_codec_ctx *ctx, int level, const uint8_t *src, size_t n,
                               cav_buf *dst, csvavro_error *err) {
    return cav_buf_append(dst, src, n, err);
}

static csvavro_status dec_null(cav_avro_codec_ctx *ctx, const uint8_t *src, size_t n, cav_buf *dst,
                               size_t max, csvavro_error *err) {
    if (n > max)
        return cav_err(err, CSVAVRO_E_LIMIT,
                       "block of %zu bytes exceeds the block size ceiling of %zu", n, max);
    return cav_buf_append(dst, src, n, err);
}

/* ---------------------------------------------------------------- deflate */

static csvavro_status enc_deflate(cav_avro_codec_ctx *ctx, int level, const uint8_t *src, size_t n,
                                  cav_buf *dst, csvavro_error *err) {
    int lv = level == INT32_MIN ? 6 : level;
    if (lv < 0 || lv > 12)
        return cav_err(err, CSVAVRO_E_USAGE, "deflate level %d out of range 0..12", lv);
    if (!ctx->deflate_c || ctx->deflate_level != lv) {
        if (ctx->deflate_c) libdeflate_free_compressor(ctx->deflate_c);
        ctx->deflate_c = libdeflate_alloc_compressor(lv);
        if (!ctx->deflate_c) return nomem(err, "deflate compressor");
        ctx->deflate_level = lv;
    }
    size_t bound = libdeflate_deflate_compress_bound(ctx->deflate_c, n);
    CAV_TRY(cav_buf_reserve(dst, bound, err));
    size_t got = libdeflate_deflate_compress(ctx->deflate_c, src, n, dst->data, bound);
    if (got == 0 && n > 0)
        return cav_err(err, CSVAVRO_E_INTERNAL, "deflate: output bound too small");
    dst->len = got;
    return CSVAVRO_OK;
}

static csvavro_status dec_deflate(cav_avro_codec_ctx *ctx, const uint8_t *src, size_t n,
                                  cav_buf *dst, size_t max, csvavro_error *err) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK) return nomem(err, "inflate");
    z.next_in = (Bytef *)(uintptr_t)src;
    csvavro_status st = CSVAVRO_OK;
    size_t left = n;
    for (;;) {
        if (room(dst, max) == 0 && (st = grow(dst, max, n * 4, err)) != CSVAVRO_OK) break;
        size_t r = CAV_MIN(room(dst, max), (size_t)UINT_MAX);
        size_t in = CAV_MIN(left, (size_t)UINT_MAX);
        z.next_in = (Bytef *)(uintptr_t)(src + (n - left));
        z.avail_in = (uInt)in;
        z.next_out = dst->data + dst->len;
        z.avail_out = (uInt)r;
        int rc = inflate(&z, Z_NO_FLUSH);
        left -= in - z.avail_in;
        dst->len += r - z.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc == Z_BUF_ERROR && left == 0 && z.avail_out > 0) {
            st = corrupt(err, "deflate", "truncated stream");
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            st = corrupt(err, "deflate", z.msg ? z.msg : "invalid data");
            break;
        }
    }
    inflateEnd(&z);
    return st;
}

/* ---------------------------------------------------------------- snappy */

static csvavro_status enc_snappy(cav_avro_codec_ctx *ctx, int level, const uint8_t *src, size_t n,
                                 cav_buf *dst, csvavro_error *err) {
    if (n > UINT32_MAX)
        return cav_err(err, CSVAVRO_E_LIMIT, "snappy: block of %zu bytes over the format's 4 GiB",
                       n);
    size_t bound = cav_snappy_bound(n);
    CAV_TRY(cav_buf_reserve(dst, bound + 4, err));
    size_t got = cav_snappy_compress(src, n, dst->data, bound);
    assert(got + 16 <= bound);
    uint32_t crc = (uint32_t)libdeflate_crc32(0, src, n);
    dst->data[got] = (uint8_t)(crc >> 24);
    dst->data[got + 1] = (uint8_t)(crc >> 16);
    dst->data[got + 2] = (uint8_t)(crc >> 8);
    dst->data[got + 3] = (uint8_t)crc;
    dst->len = got + 4;
    return CSVAVRO_OK;
}

static csvavro_status dec_snappy(cav_avro_codec_ctx *ctx, const uint8_t *src, size_t n,
                                 cav_buf *dst, size_t max, csvavro_error *err) {
    if (n < 4) return corrupt(err, "snappy", "shorter than its CRC");
    CAV_TRY(cav_snappy_load(err));
    size_t ulen;
    if (!cav_snappy_uncompressed_length(src, n - 4, &ulen))
        return corrupt(err, "snappy", "bad length preamble");
    if (ulen > max)
        return cav_err(err, CSVAVRO_E_LIMIT,
                       "snappy block claims %zu bytes, over the block size ceiling of %zu", ulen,
                       max);
    CAV_TRY(cav_buf_reserve(dst, ulen, err));
    size_t got = ulen;
    if (!cav_snappy_uncompress(src, n - 4, dst->data, &got) || got != ulen)
        return corrupt(err, "snappy", "invalid data");
    dst->len = got;
    uint32_t want = (uint32_t)src[n - 4] << 24 | (uint32_t)src[n - 3] << 16 |
                    (uint32_t)src[n - 2] << 8 | src[n - 1];
    uint32_t crc = (uint32_t)libdeflate_crc32(0, dst->data, got);
    if (crc != want)
        return cav_err(err, CSVAVRO_E_CORRUPT,
                       "snappy block CRC mismatch (stored %08x, computed %08x)", want, crc);
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- zstd */

static csvavro_status enc_zstd(cav_avro_codec_ctx *ctx, int level, const uint8_t *src, size_t n,
                               cav_buf *dst, csvavro_error *err) {
    int lv = level == INT32_MIN ? 1 : level;
    if (lv < ZSTD_minCLevel() || lv > ZSTD_maxCLevel())
        return cav_err(err, CSVAVRO_E_USAGE, "zstandard level %d out of range %d..%d", lv,
                       ZSTD_minCLevel(), ZSTD_maxCLevel());
    if (!ctx->zstd_c && !(ctx->zstd_c = ZSTD_createCCtx())) return nomem(err, "zstd context");
    size_t bound = ZSTD_compressBound(n);
    CAV_TRY(cav_buf_reserve(dst, bound, err));
    /* with the frame's content checksum (XXH64): every zstd reader verifies it, so a damaged
     * block is an error instead of other values */
    size_t got = ZSTD_CCtx_setParameter(ctx->zstd_c, ZSTD_c_compressionLevel, lv);
    if (!ZSTD_isError(got)) got = ZSTD_CCtx_setParameter(ctx->zstd_c, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(got)) got = ZSTD_compress2(ctx->zstd_c, dst->data, bound, src, n);
    if (ZSTD_isError(got))
        return cav_err(err, CSVAVRO_E_INTERNAL, "zstd: %s", ZSTD_getErrorName(got));
    dst->len = got;
    return CSVAVRO_OK;
}

static csvavro_status dec_zstd(cav_avro_codec_ctx *ctx, const uint8_t *src, size_t n, cav_buf *dst,
                               size_t max, csvavro_error *err) {
    if (!ctx->zstd_d && !(ctx->zstd_d = ZSTD_createDCtx())) return nomem(err, "zstd context");
    ZSTD_DCtx_reset(ctx->zstd_d, ZSTD_reset_session_only);
    unsigned long long fsz = ZSTD_getFrameContentSize(src, n);
    if (fsz != ZSTD_CONTENTSIZE_UNKNOWN && fsz != ZSTD_CONTENTSIZE_ERROR && fsz > max)
        return cav_err(err, CSVAVRO_E_LIMIT,
                       "zstandard block claims %llu bytes, over the block size ceiling of %zu", fsz,
                       max);
    ZSTD_inBuffer in = {src, n, 0};
    for (;;) {
        if (room(dst, max) == 0) CAV_TRY(grow(dst, max, fsz <= max ? (size_t)fsz : n * 4, err));
        ZSTD_outBuffer out = {dst->data + dst->len, room(dst, max), 0};
        size_t rc = ZSTD_decompressStream(ctx->zstd_d, &out, &in);
        dst->len += out.pos;
        if (ZSTD_isError(rc)) return corrupt(err, "zstandard", ZSTD_getErrorName(rc));
        if (rc == 0) {
            if (in.pos != in.size)
                return corrupt(err, "zstandard", "trailing bytes after the frame");
            return CSVAVRO_OK;
        }
        if (in.pos == in.size && out.pos < out.size)
            return corrupt(err, "zstandard", "truncated frame");
    }
}

/* ---------------------------------------------------------------- bzip2 */

static csvavro_status enc_bzip2(cav_avro_codec_ctx *ctx, int level, const uint8_t *src, size_t n,
                                cav_buf *dst, csvavro_error *err) {
    int lv = level == INT32_MIN ? 9 : level;
    if (lv < 1 || lv > 9)
        return cav_err(err, CSVAVRO_E_USAGE, "bzip2 level %d out of range 1..9", lv);
    if (n > UINT_MAX / 2) return cav_err(err, CSVAVRO_E_LIMIT, "bzip2: block too large");
    size_t bound = n + n / 100 + 600;
    CAV_TRY(cav_buf_reserve(dst, bound, err));
    unsigned got = (unsigned)bound;
    int rc = BZ2_bzBuffToBuffCompress((char *)dst->data, &got, (char *)(uintptr_t)src, (unsigned)n,
                                      lv, 0, 0);
    if (rc == BZ_MEM_ERROR) return nomem(err, "bzip2");
    if (rc != BZ_OK) return cav_err(err, CSVAVRO_E_INTERNAL, "bzip2 compression failed (%d)", rc);
    dst->len = got;
    return CSVAVRO_OK;
}

static csvavro_status dec_bzip2(cav_avro_codec_ctx *ctx, const uint8_t *src, size_t n, cav_buf *dst,
                                size_t max, csvavro_error *err) {
    bz_stream z;
    memset(&z, 0, sizeof z);
    if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) return nomem(err, "bzip2");
    csvavro_status st = CSVAVRO_OK;
    size_t left = n;
    for (;;) {
        if (room(dst, max) == 0 && (st = grow(dst, max, n * 4, err)) != CSVAVRO_OK) break;
        size_t r = CAV_MIN(room(dst, max), (size_t)UINT_MAX);
        size_t inl = CAV_MIN(left, (size_t)UINT_MAX);
        z.next_in = (char *)(uintptr_t)(src + (n - left));
        z.avail_in = (unsigned)inl;
        z.next_out = (char *)dst->data + dst->len;
        z.avail_out = (unsigned)r;
        int rc = BZ2_bzDecompress(&z);
        left -= inl - z.avail_in;
        dst->len += r - z.avail_out;
        if (rc == BZ_STREAM_END) break;
        if (rc != BZ_OK) {
            st = corrupt(err, "bzip2", "invalid data");
            break;
        }
        if (left == 0 && z.avail_out > 0) {
            st = corrupt(err, "bzip2", "truncated stream");
            break;
        }
    }
    BZ2_bzDecompressEnd(&z);
    return st;
}

/* ---------------------------------------------------------------- xz */

static csvavro_status enc_xz(cav_avro_codec_ctx *ctx, int level, const uint8_t *src, size_t n,
                             cav_buf *dst, csvavro_error *err) {
    int lv = level == INT32_MIN ? 6 : level;
    if (lv < 0 || lv > 9) return cav_err(err, CSVAVRO_E_USAGE, "xz level %d out of range 0..9", lv);
    /* The preset's dictionary, but no larger than the block: the encoder's and every
     * reader's memory scale with it (preset 6 alone would mean 8 MiB to decode a block). */
    lzma_options_lzma opt;
    if (lzma_lzma_preset(&opt, (uint32_t)lv))
        return cav_err(err, CSVAVRO_E_INTERNAL, "xz: no preset %d", lv);
    uint32_t dict = 4096;
    while (dict < n && dict < opt.dict_size)
        dict <<= 1;
    if (dict < opt.dict_size) opt.dict_size = dict;
    lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    size_t bound = lzma_stream_buffer_bound(n);
    CAV_TRY(cav_buf_reserve(dst, bound, err));
    size_t pos = 0;
    lzma_ret rc =
        lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC64, NULL, src, n, dst->data, &pos, bound);
    if (rc == LZMA_MEM_ERROR) return nomem(err, "xz");
    if (rc != LZMA_OK)
        return cav_err(err, CSVAVRO_E_INTERNAL, "xz compression failed (%d)", (int)rc);
    dst->len = pos;
    return CSVAVRO_OK;
}

static csvavro_status dec_xz(cav_avro_codec_ctx *ctx, const uint8_t *src, size_t n, cav_buf *dst,
                             size_t max, csvavro_error *err) {
    lzma_stream z = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&z, UINT64_MAX, 0) != LZMA_OK) return nomem(err, "xz");
    csvavro_status st = CSVAVRO_OK;
    z.next_in = src;
    z.avail_in = n;
    for (;;) {
        if (room(dst, max) == 0 && (st = grow(dst, max, n * 4, err)) != CSVAVRO_OK) break;
        size_t r = room(dst, max);
        z.next_out = dst->data + dst->len;
        z.avail_out = r;
        lzma_ret rc = lzma_code(&z, LZMA_FINISH);
        dst->len += r - z.avail_out;
        if (rc == LZMA_STREAM_END) break;
        if (rc == LZMA_MEM_ERROR) {
            st = nomem(err, "xz");
            break;
        }
        if (rc != LZMA_OK) {
            st = corrupt(err, "xz", rc == LZMA_BUF_ERROR ? "truncated stream" : "invalid data");
            break;
        }
    }
    lzma_end(&z);
    return st;
}

/* ---------------------------------------------------------------- the table */

typedef struct codec_ops {
    /* dst is empty; level is INT32_MIN for the codec's default */
    csvavro_status (*compress)(cav_avro_codec_ctx *ctx, int level, const uint8_t *src, size_t n,
                               cav_buf *dst, csvavro_error *err);
    /* dst is empty; never writes past max bytes */
    csvavro_status (*decompress)(cav_avro_codec_ctx *ctx, const uint8_t *src, size_t n,
                                 cav_buf *dst, size_t max, csvavro_error *err);
} codec_ops;

static const codec_ops codecs[] = {
    [CSVAVRO_CODEC_NULL] = {enc_null, dec_null},
    [CSVAVRO_CODEC_DEFLATE] = {enc_deflate, dec_deflate},
    [CSVAVRO_CODEC_SNAPPY] = {enc_snappy, dec_snappy},
    [CSVAVRO_CODEC_ZSTANDARD] = {enc_zstd, dec_zstd},
    [CSVAVRO_CODEC_BZIP2] = {enc_bzip2, dec_bzip2},
    [CSVAVRO_CODEC_XZ] = {enc_xz, dec_xz},
};

csvavro_status cav_avro_compress(cav_avro_codec_ctx *ctx, csvavro_codec c, int level,
                                 const uint8_t *src, size_t n, cav_buf *dst, csvavro_error *err) {
    cav_buf_reset(dst);
    if ((unsigned)c >= CAV_ARRAY_LEN(codecs))
        return cav_err(err, CSVAVRO_E_USAGE, "unknown codec %d", (int)c);
    return codecs[c].compress(ctx, level, src, n, dst, err);
}

csvavro_status cav_avro_decompress(cav_avro_codec_ctx *ctx, csvavro_codec c, const uint8_t *src,
                                   size_t n, cav_buf *dst, size_t max, csvavro_error *err) {
    cav_buf_reset(dst);
    if ((unsigned)c >= CAV_ARRAY_LEN(codecs))
        return cav_err(err, CSVAVRO_E_CORRUPT, "unknown codec %d", (int)c);
    csvavro_status st = codecs[c].decompress(ctx, src, n, dst, max, err);
    assert(st != CSVAVRO_OK || dst->len <= max); /* no codec writes past the ceiling */
    return st;
}
