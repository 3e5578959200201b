/*
 * core_buf.c — growable byte buffers with a ceiling.
 *
 * Buffers double on growth and are reused between batches (reset keeps the memory), so the
 * steady state allocates nothing. Every buffer has a ceiling: growing past it is a
 * CSVAVRO_E_LIMIT error, never an unbounded allocation driven by input. 64 bytes of slack past
 * `len + extra` are always reserved so that SIMD loads near the end need no tail case.
 */
#include "core.h"

#include <stdio.h>
#include <string.h>

#define CAV_BUF_PAD 64

void cav_buf_init(cav_buf *b, size_t max) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SIZE_MAX;
}

void cav_buf_free(cav_buf *b) {
    cav_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

csvavro_status cav_buf_reserve(cav_buf *b, size_t extra, csvavro_error *err) {
    assert(b->len <= b->cap);
    if (extra > b->max || b->len > b->max - extra)
        return cav_err(err, CSVAVRO_E_LIMIT, "buffer ceiling of %zu bytes reached", b->max);
    size_t need = b->len + extra + CAV_BUF_PAD;
    if (need <= b->cap) return CSVAVRO_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    uint8_t *p = cav_realloc(b->data, ncap);
    if (!p)
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory growing a buffer to %zu bytes", ncap);
    b->data = p;
    b->cap = ncap;
    return CSVAVRO_OK;
}

csvavro_status cav_buf_append(cav_buf *b, const void *p, size_t n, csvavro_error *err) {
    assert(p || n == 0);
    CAV_TRY(cav_buf_reserve(b, n, err));
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return CSVAVRO_OK;
}

csvavro_status cav_buf_append_str(cav_buf *b, const char *s, csvavro_error *err) {
    return cav_buf_append(b, s, strlen(s), err);
}

csvavro_status cav_buf_printf(cav_buf *b, csvavro_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return cav_err(err, CSVAVRO_E_INTERNAL, "bad format");
    CAV_TRY(cav_buf_reserve(b, (size_t)n + 1, err));
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CSVAVRO_OK;
}
