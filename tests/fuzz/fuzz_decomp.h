/*
 * fuzz_decomp.h — the shared body of the decompressor front-end targets (fuzz_gunzip.c,
 * fuzz_bunzip2.c, fuzz_unzstd.c, fuzz_unxz.c, fuzz_unzip.c): src/io/io_input.c's decoders on
 * untrusted bytes. FUZZ_CODEC names the codec. The first input byte picks the mode:
 *   even  the rest is a compressed file (random, truncated, corrupt, a bomb): decoding ends in
 *         success or a clear error (a known status and a message), never past OUT_CAP bytes of
 *         output (CSVAVRO_E_LIMIT) — the decoders' memory is bounded by their own limits;
 *   odd   the rest is plain text, compressed here with the codec's library in one or two
 *         members/frames (split at the second byte's position): decoding must give back the
 *         text exactly; the same stream cut short must fail as truncated (gzip/bzip2/zstd/xz).
 */
#include "fuzz_util.h"

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#define OUT_CAP ((size_t)8 << 20)

static uint8_t *out_buf;

static size_t compress_one(const uint8_t *p, size_t n, uint8_t *dst, size_t cap) {
    switch (FUZZ_CODEC) {
    case CSVAVRO_COMPRESSION_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
        z.next_in = (Bytef *)p;
        z.avail_in = (uInt)n;
        z.next_out = dst;
        z.avail_out = (uInt)cap;
        int r = deflate(&z, Z_FINISH);
        FUZZ_CHECK(r == Z_STREAM_END, "deflate %d", r);
        size_t k = z.total_out;
        deflateEnd(&z);
        return k;
    }
    case CSVAVRO_COMPRESSION_BZIP2: {
        unsigned k = (unsigned)cap;
        int r = BZ2_bzBuffToBuffCompress((char *)dst, &k, (char *)p, (unsigned)n, 1, 0, 0);
        FUZZ_CHECK(r == BZ_OK, "bzip2 %d", r);
        return k;
    }
    case CSVAVRO_COMPRESSION_ZSTD: {
        size_t k = ZSTD_compress(dst, cap, p, n, 1);
        FUZZ_CHECK(!ZSTD_isError(k), "zstd %s", ZSTD_getErrorName(k));
        return k;
    }
    case CSVAVRO_COMPRESSION_XZ: {
        size_t k = 0;
        lzma_ret r = lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, NULL, p, n, dst, &k, cap);
        FUZZ_CHECK(r == LZMA_OK, "xz %d", (int)r);
        return k;
    }
    default:
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!out_buf && !(out_buf = malloc(OUT_CAP))) abort();
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++, size--;
    csvavro_error err;
    csvavro_error_clear(&err);
    size_t got = 0;
    if (!(mode & 1) || FUZZ_CODEC == CSVAVRO_COMPRESSION_ZIP) {
        csvavro_status st =
            cav_input_decode_buffer(data, size, FUZZ_CODEC, out_buf, OUT_CAP, &got, &err);
        FUZZ_CHECK(st == CSVAVRO_OK || st == CSVAVRO_E_CORRUPT || st == CSVAVRO_E_LIMIT ||
                       st == CSVAVRO_E_USAGE || st == CSVAVRO_E_CSV ||
                       st == CSVAVRO_E_UNSUPPORTED || st == CSVAVRO_E_NOT_FOUND,
                   "status %s: %s", csvavro_status_name(st), err.message);
        FUZZ_CHECK(st == CSVAVRO_OK || err.message[0], "error without a message");
        FUZZ_CHECK(got <= OUT_CAP, "output past the cap");
        return 0;
    }
    /* round trip */
    if (size > (1u << 16)) size = 1u << 16;
    size_t cut = size ? (mode >> 1) % (size + 1) : 0;
    size_t zcap = 2 * size + 1024;
    uint8_t *z = malloc(zcap);
    if (!z) abort();
    size_t zn = compress_one(data, cut, z, zcap);
    if (cut < size) zn += compress_one(data + cut, size - cut, z + zn, zcap - zn);
    csvavro_status st = cav_input_decode_buffer(z, zn, FUZZ_CODEC, out_buf, OUT_CAP, &got, &err);
    FUZZ_CHECK(st == CSVAVRO_OK, "round trip: %s", err.message);
    FUZZ_CHECK(got == size && (size == 0 || memcmp(out_buf, data, size) == 0),
               "round trip: %zu bytes back, %zu in", got, size);
    if (zn > 1) {
        st = cav_input_decode_buffer(z, zn - 1, FUZZ_CODEC, out_buf, OUT_CAP, &got, &err);
        FUZZ_CHECK(st == CSVAVRO_E_CORRUPT, "cut short by one byte: %s (%s)",
                   csvavro_status_name(st), err.message);
    }
    free(z);
    return 0;
}
