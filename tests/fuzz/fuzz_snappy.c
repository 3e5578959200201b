/*
 * fuzz_snappy.c — our snappy encoder (src/avro/avro_snappy.c) against libsnappy's decoder.
 *
 * Input: 1 option byte, then data. Option bit 0 clear: the data is compressed as it is. Set:
 * the data is repeated (with byte i of repetition r xor'ed by r & (option >> 1), so copies
 * differ a little or not at all) to 1..255 KiB (second byte), so matches cross the encoder's
 * 64 KiB fragments and literals reach every tag size. Checks: the output fits
 * cav_snappy_bound() - 16, libsnappy validates it, reports the input's length and
 * decompresses it to exactly the input; the whole Avro codec path (CRC appended) decodes
 * through cav_avro_decompress to the input as well.
 */
#include "avro/avro.h"
#include "fuzz_util.h"

#include <snappy-c.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t opt = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    uint8_t *in = NULL;
    if ((opt & 1) && n >= 2) {
        size_t want = ((size_t)p[0] + 1) * 1024;
        p++;
        n--;
        in = malloc(want);
        FUZZ_CHECK(in != NULL, "malloc");
        for (size_t i = 0; i < want; i++)
            in[i] = p[i % n] ^ (uint8_t)((i / n) & (opt >> 1));
        p = in;
        n = want;
    }
    size_t bound = cav_snappy_bound(n);
    uint8_t *out = malloc(bound);
    uint8_t *back = malloc(n ? n : 1);
    FUZZ_CHECK(out && back, "malloc");
    size_t got = cav_snappy_compress(p, n, out, bound);
    FUZZ_CHECK(got + 16 <= bound, "%zu bytes of output for %zu of input (bound %zu)", got, n,
               bound);
    FUZZ_CHECK(snappy_validate_compressed_buffer((const char *)out, got) == SNAPPY_OK,
               "libsnappy rejects the output of %zu input bytes", n);
    size_t ulen = 0;
    FUZZ_CHECK(snappy_uncompressed_length((const char *)out, got, &ulen) == SNAPPY_OK && ulen == n,
               "preamble says %zu, input %zu", ulen, n);
    size_t bl = n;
    FUZZ_CHECK(snappy_uncompress((const char *)out, got, (char *)back, &bl) == SNAPPY_OK &&
                   bl == n && (n == 0 || memcmp(back, p, n) == 0),
               "libsnappy decodes %zu input bytes to something else", n);

    /* The codec path: our encoder + CRC, libsnappy + CRC check back. */
    cav_avro_codec_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    cav_buf c, d;
    cav_buf_init(&c, (size_t)1 << 30);
    cav_buf_init(&d, (size_t)1 << 30);
    csvavro_error err;
    csvavro_error_clear(&err);
    FUZZ_CHECK(cav_avro_compress(&ctx, CSVAVRO_CODEC_SNAPPY, INT32_MIN, p, n, &c, &err) ==
                   CSVAVRO_OK,
               "%s", err.message);
    FUZZ_CHECK(c.len == got + 4 && memcmp(c.data, out, got) == 0, "codec output differs");
    FUZZ_CHECK(cav_avro_decompress(&ctx, CSVAVRO_CODEC_SNAPPY, c.data, c.len, &d, n, &err) ==
                   CSVAVRO_OK,
               "%s", err.message);
    FUZZ_CHECK(d.len == n && (n == 0 || memcmp(d.data, p, n) == 0), "codec round trip differs");
    cav_buf_free(&c);
    cav_buf_free(&d);
    cav_avro_codec_ctx_free(&ctx);
    free(out);
    free(back);
    free(in);
    return 0;
}
