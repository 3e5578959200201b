/*
 * fuzz_chunks.c — the exact-split front ends of src/io/io_chunks.c on untrusted bytes: the
 * bzip2 block finder (block magics at any bit, one-block decoding) and the zstd frame walker
 * (seek table, frame and block headers). The first byte picks the codec (bit 0: bzip2/zstd),
 * the mode (bit 1) and the split size (bits 2..7: 1 .. 6112 bytes; raw: at least 1/64 of the
 * input, so that one input opens at most 64 views).
 *   raw    the rest is a compressed file: cutting it and decoding every split's own bytes ends
 *          in success or a clear error, never past OUT_CAP bytes; when both this and the
 *          sequential decoder (cav_input_decode_buffer) succeed, they give the same bytes;
 *   round  the rest is plain text, compressed here in several streams/frames (pieces of
 *          1 + byte[1] bytes; zstd: a seek table appended when byte[1] is odd): the splits
 *          must give the text back exactly.
 */
#include "fuzz_util.h"

#include <bzlib.h>
#include <zstd.h>

#define OUT_CAP ((size_t)8 << 20)

static uint8_t *out_a, *out_b;

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!out_a && (!(out_a = malloc(OUT_CAP)) || !(out_b = malloc(OUT_CAP)))) abort();
    if (size < 2) return 0;
    uint8_t mode = data[0], piece_b = data[1];
    csvavro_compression c = (mode & 1) ? CSVAVRO_COMPRESSION_ZSTD : CSVAVRO_COMPRESSION_BZIP2;
    int64_t ss = 1 + (int64_t)(mode >> 2) * 97;
    data += 2, size -= 2;
    csvavro_error err;
    csvavro_error_clear(&err);
    size_t got = 0, n_splits = 0;
    if (!(mode & 2)) {
        if (ss < (int64_t)(size / 64) + 1) ss = (int64_t)(size / 64) + 1; /* <= 64 views */
        csvavro_status st =
            cav_chunks_decode_buffer(data, size, c, ss, out_a, OUT_CAP, &got, &n_splits, &err);
        FUZZ_CHECK(st == CSVAVRO_OK || st == CSVAVRO_E_CORRUPT || st == CSVAVRO_E_LIMIT ||
                       st == CSVAVRO_E_IO,
                   "status %s: %s", csvavro_status_name(st), err.message);
        FUZZ_CHECK(st == CSVAVRO_OK || err.message[0], "error without a message");
        FUZZ_CHECK(got <= OUT_CAP, "output past the cap");
        if (st == CSVAVRO_OK) {
            size_t got2 = 0;
            csvavro_error e2;
            if (cav_input_decode_buffer(data, size, c, out_b, OUT_CAP, &got2, &e2) == CSVAVRO_OK)
                FUZZ_CHECK(got == got2 && (got == 0 || memcmp(out_a, out_b, got) == 0),
                           "splits give %zu bytes, the sequential decoder %zu", got, got2);
        }
        return 0;
    }
    /* round trip through several streams / frames */
    if (size > (1u << 16)) size = 1u << 16;
    size_t piece = 1 + (size_t)piece_b * 16, zcap = 2 * size + 64 * (size / piece + 2) + 4096;
    uint8_t *z = malloc(zcap);
    uint32_t *sizes = malloc((size / piece + 2) * 2 * sizeof *sizes);
    if (!z || !sizes) abort();
    size_t zn = 0, nf = 0;
    for (size_t at = 0; at < size || (size == 0 && nf == 0); at += piece) {
        size_t k = CAV_MIN(piece, size - at);
        size_t made;
        if (c == CSVAVRO_COMPRESSION_BZIP2) {
            unsigned dl = (unsigned)(zcap - zn);
            int r = BZ2_bzBuffToBuffCompress((char *)z + zn, &dl, (char *)data + at, (unsigned)k, 1,
                                             0, 0);
            FUZZ_CHECK(r == BZ_OK, "bzip2 %d", r);
            made = dl;
        } else {
            made = ZSTD_compress(z + zn, zcap - zn, data + at, k, 1);
            FUZZ_CHECK(!ZSTD_isError(made), "zstd %s", ZSTD_getErrorName(made));
        }
        sizes[2 * nf] = (uint32_t)made, sizes[2 * nf + 1] = (uint32_t)k;
        nf++;
        zn += made;
        if (size == 0) break;
    }
    if (c == CSVAVRO_COMPRESSION_ZSTD && (piece_b & 1)) { /* the seekable format's table */
        uint32_t tsz = (uint32_t)(nf * 8 + 9);
        put_le32(z + zn, 0x184d2a5eu), put_le32(z + zn + 4, tsz);
        zn += 8;
        for (size_t i = 0; i < nf; i++, zn += 8)
            put_le32(z + zn, sizes[2 * i]), put_le32(z + zn + 4, sizes[2 * i + 1]);
        put_le32(z + zn, (uint32_t)nf), z[zn + 4] = 0, put_le32(z + zn + 5, 0x8f92eab1u);
        zn += 9;
    }
    csvavro_status st =
        cav_chunks_decode_buffer(z, zn, c, ss, out_a, OUT_CAP, &got, &n_splits, &err);
    FUZZ_CHECK(st == CSVAVRO_OK, "round trip: %s", err.message);
    FUZZ_CHECK(got == size && (size == 0 || memcmp(out_a, data, size) == 0),
               "round trip: %zu bytes back, %zu in (%zu splits)", got, size, n_splits);
    free(z);
    free(sizes);
    return 0;
}
