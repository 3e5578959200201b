/*
 * csv_scan.c — the CSV range reader: buffer management, the scalar reference scanner, the
 * SIMD mask scanner, header reading and line counting.
 *
 * Buffer: one allocation per reader (default 1 MiB, grown only for a record longer than the
 * buffer, never past max_record_bytes), refilled by pread; the unparsed tail (a partial
 * record) is moved to the front first. At end of file a virtual '\n' is placed after the last
 * byte so the last record always has a line end; 128 padding bytes let 64-byte loads run past
 * the data (those bits are masked off).
 *
 * Records: CR, LF and CRLF end a record; empty lines are skipped (so CRLF is one line end: the
 * LF is an empty line); a record that starts with the comment byte is skipped to its line end.
 * A range takes the records that start before `end` (blank and comment lines are skipped before
 * that test, so neighbouring ranges agree on the boundary).
 *
 * Scalar machine (the reference): states START, UNQ (unquoted), INQ (quoted), QQ (quote seen in
 * a quoted field), ESC_UNQ/ESC_Q (after the escape byte). A quote opens a quoted field only at
 * the field start; elsewhere it is data. After a closing quote only a delimiter, a line end or
 * a second quote (doubled quote) may follow: anything else makes the record bad (it is then
 * read on as unquoted text to find its end, and reported by the on-error policy).
 *
 * Mask scanner: per 64-byte block, bit masks of quote, delimiter and CR/LF bytes (AVX2 or
 * SSE2 compare+movemask); in-quote = prefix-XOR of the quote mask (carried between blocks);
 * structural = (delimiter | line end) & ~in-quote. The same quote regularity rules as the
 * scalar machine are checked with mask shifts; a block that breaks them (or a comment line,
 * or an open quote at end of file) is handed to the scalar machine from the start of the
 * current record up to the end of the block, after which masks resume at a record start.
 */
#include "csv_reader.h"

#include "../io/io.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CAV_X86 1
#endif

#define PAD 128
/* 1 MiB: the copy out of the page cache lands in cache and the scanner reads it from there
 * (8 MiB cost ~10% more CPU on the reference job, more at -j2); a batch ends where the
 * buffer's data does, so batches of wide records are smaller than --batch-rows */
#define DEFAULT_BUF ((size_t)1 << 20)
#define OFFS_SLACK 24
/* A batch also ends once its records span this many bytes: the column loads that follow the
 * scan then find the batch's text and offsets still in the core's L2 cache (the reference job
 * at 1 GB: ~5% less CPU than batches filling the whole 1 MiB buffer, interleaved pairs) */
#define BATCH_BYTES ((size_t)256 << 10)

enum { R_FULL, R_DONE, R_MORE, R_FALLBACK, R_UNTIL, R_ERR };

/* ------------------------------------------------------------------ classification */

/* One 64-byte block -> bit masks of quote (none when q is 0), delimiter and CR/LF bytes. Inlined
 * into each scanner's block loop (mask_records_*), so the masks never leave registers. (unused:
 * on x86 no scanner uses it, and clang warns about unused static inline functions.) */
static inline __attribute__((always_inline, unused)) void
classify_scalar(const uint8_t *p, uint8_t q, uint8_t d, uint64_t *mq, uint64_t *md, uint64_t *mn) {
    uint64_t a = 0, b = 0, c = 0;
    for (unsigned i = 0; i < 64; i++) {
        a |= (uint64_t)(p[i] == q) << i;
        b |= (uint64_t)(p[i] == d) << i;
        c |= (uint64_t)(p[i] == '\n' || p[i] == '\r') << i;
    }
    *mq = q ? a : 0;
    *md = b;
    *mn = c;
}

#ifdef CAV_X86
__attribute__((target("sse2"), always_inline)) static inline void
classify_sse2(const uint8_t *p, uint8_t q, uint8_t d, uint64_t *mq, uint64_t *md, uint64_t *mn) {
    const __m128i vq = _mm_set1_epi8((char)q), vd = _mm_set1_epi8((char)d);
    const __m128i vl = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r');
    uint64_t a = 0, b = 0, c = 0;
    for (unsigned j = 0; j < 4; j++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(p + 16 * j));
        a |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq)) << (16 * j);
        b |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vd)) << (16 * j);
        c |= (uint64_t)(uint16_t)_mm_movemask_epi8(
                 _mm_or_si128(_mm_cmpeq_epi8(x, vl), _mm_cmpeq_epi8(x, vr)))
             << (16 * j);
    }
    *mq = q ? a : 0;
    *md = b;
    *mn = c;
}

__attribute__((target("avx2"), always_inline)) static inline void
classify_avx2(const uint8_t *p, uint8_t q, uint8_t d, uint64_t *mq, uint64_t *md, uint64_t *mn) {
    const __m256i vq = _mm256_set1_epi8((char)q), vd = _mm256_set1_epi8((char)d);
    const __m256i vl = _mm256_set1_epi8('\n'), vr = _mm256_set1_epi8('\r');
    __m256i x0 = _mm256_loadu_si256((const __m256i *)p);
    __m256i x1 = _mm256_loadu_si256((const __m256i *)(p + 32));
    uint64_t a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x0, vq)) |
                 (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x1, vq)) << 32;
    uint64_t b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x0, vd)) |
                 (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x1, vd)) << 32;
    __m256i n0 = _mm256_or_si256(_mm256_cmpeq_epi8(x0, vl), _mm256_cmpeq_epi8(x0, vr));
    __m256i n1 = _mm256_or_si256(_mm256_cmpeq_epi8(x1, vl), _mm256_cmpeq_epi8(x1, vr));
    *mq = q ? a : 0;
    *md = b;
    *mn = (uint32_t)_mm256_movemask_epi8(n0) | (uint64_t)(uint32_t)_mm256_movemask_epi8(n1) << 32;
}

/* AVX-512BW: one load, the compares go straight to 64-bit masks */
__attribute__((target("avx512bw"), always_inline)) static inline void
classify_avx512(const uint8_t *p, uint8_t q, uint8_t d, uint64_t *mq, uint64_t *md, uint64_t *mn) {
    const __m512i x = _mm512_loadu_si512((const void *)p);
    uint64_t a = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8((char)q));
    *md = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8((char)d));
    *mn = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\n')) |
          _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\r'));
    *mq = q ? a : 0;
}

/* AVX512_VBMI2: the positions of f's set bits plus base, stored as uint32 at w, 16 at a time
 * while there is room (room >= 1 slots wanted: a chunk starting at or past it is not stored);
 * the entries past the last set bit are garbage (slots written later, or the slack) */
__attribute__((target("avx512bw,avx512vbmi2"), always_inline)) static inline void
store_ends_vbmi2(uint32_t *w, uint64_t f, uint32_t base, uint32_t cnt, uint32_t room) {
    const __m512i iota = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41,
        40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18,
        17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i c = _mm512_maskz_compress_epi8(f, iota), b = _mm512_set1_epi32((int)base);
    _mm512_storeu_si512((void *)w,
                        _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(c)), b));
    if (CAV_LIKELY(cnt <= 16 || room <= 16)) return; /* short fields: a wide table's blocks */
    _mm512_storeu_si512((void *)(w + 16),
                        _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(c, 1)), b));
    if (cnt <= 32 || room <= 32) return;
    _mm512_storeu_si512((void *)(w + 32),
                        _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(c, 2)), b));
    if (cnt <= 48 || room <= 48) return;
    _mm512_storeu_si512((void *)(w + 48),
                        _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(c, 3)), b));
}

__attribute__((target("pclmul,sse2"))) static uint64_t pxor_clmul(uint64_t x) {
    __m128i v = _mm_set_epi64x(0, (long long)x);
    __m128i ones = _mm_set1_epi8((char)0xFF);
    return (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(v, ones, 0));
}
#endif

/* bit i of the result = XOR of bits 0..i of x */
static inline uint64_t pxor_shift(uint64_t x) {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* ------------------------------------------------------------------ scalar machine */

enum { S_START, S_UNQ, S_INQ, S_QQ, S_ESC_UNQ, S_ESC_Q };

/* Parses one record starting at rs (not blank, not a comment). Field ends go to
 * row[min(fc, cap)]. Returns 1 (complete: *t = line end position), 0 (needs more data) or -1
 * (quote open at end of input). *bad = first byte after a closing quote that is not allowed,
 * or SIZE_MAX. */
static int scalar_one(const uint8_t *b, size_t rs, size_t lim, bool eof, uint8_t D, uint8_t Q,
                      uint8_t E, bool sk, uint32_t *row, uint32_t cap, size_t *t, uint32_t *fc_out,
                      size_t *bad) {
    uint32_t fc = 0;
    int st = S_START;
    *bad = SIZE_MAX;
    row[0] = (uint32_t)rs;
    for (size_t i = rs; i < lim; i++) {
        uint8_t c = b[i];
        switch (st) {
        case S_START:
            if (Q && c == Q) {
                st = S_INQ;
                break;
            }
            if (sk && c == ' ') break; /* --skip-initial-space: still at the field start */
            /* fall through */
        case S_UNQ:
        unq:
            if (c == D) {
                fc++;
                row[fc < cap ? fc : cap] = (uint32_t)(i + 1);
                st = S_START;
            } else if (c == '\n' || c == '\r') {
                fc++;
                row[fc < cap ? fc : cap] = (uint32_t)(i + 1);
                *t = i;
                *fc_out = fc;
                return 1;
            } else if (E && c == E) {
                st = S_ESC_UNQ;
            } else {
                st = S_UNQ;
            }
            break;
        case S_ESC_UNQ:
            st = S_UNQ;
            break;
        case S_INQ:
            if (E && c == E)
                st = S_ESC_Q;
            else if (c == Q)
                st = S_QQ;
            break;
        case S_ESC_Q:
            st = S_INQ;
            break;
        case S_QQ:
            if (c == Q) {
                st = S_INQ;
                break;
            }
            if (c != D && c != '\n' && c != '\r' && *bad == SIZE_MAX) *bad = i;
            goto unq;
        }
    }
    return eof ? -1 : 0;
}

/* Skips blank and comment lines from r->pos. Returns R_MORE if more data is needed, else -1
 * with r->pos at a record start (or at lim at the end of the input). */
static int skip_blank_comment(cav_csv_reader *r) {
    const uint8_t *b = r->buf;
    size_t p = r->pos, lim = r->lim;
    for (;;) {
        while (p < lim && (b[p] == '\n' || b[p] == '\r'))
            p++;
        r->pos = p;
        if (p >= lim) return r->eof ? -1 : R_MORE;
        if (!r->o.comment || b[p] != (uint8_t)r->o.comment) return -1;
        size_t q = p;
        while (q < lim && b[q] != '\n' && b[q] != '\r')
            q++;
        if (q >= lim) return R_MORE; /* (eof always has the virtual line end) */
        p = q + 1;
    }
}

/* Row done, the uncommon cases: one more (empty) field under a dropped empty header name, or a
 * bad record (reported). rec: its index in the range. */
static __attribute__((noinline)) int commit_slow(cav_csv_reader *r, uint32_t *n_rows, size_t rs,
                                                 size_t t, uint32_t fc, size_t bad, uint64_t rec,
                                                 csvavro_error *err) {
    if (r->trailing_empty && fc == r->n_cols + 1 && bad == SIZE_MAX && t > rs &&
        r->buf[t - 1] == (uint8_t)r->o.delimiter) {
        /* one more field, empty, under a dropped empty header name: the last real field ends
         * at that delimiter (a delimiter just before the line end is never inside quotes) */
        r->offs[(size_t)*n_rows * r->stride + r->end_slot] = (uint32_t)t;
        fc = r->n_cols;
    }
    if (fc == r->n_cols && bad == SIZE_MAX && t - rs < r->o.max_record_bytes) {
        r->row_rec[*n_rows] = rec;
        (*n_rows)++;
        return -1;
    }
    char reason[160];
    csvavro_status st = CSVAVRO_E_CSV;
    int64_t off = r->buf_off + (int64_t)rs;
    size_t rawlen = t - rs;
    if (t - rs >= r->o.max_record_bytes) {
        snprintf(reason, sizeof reason, "record of %zu bytes is longer than max-record-bytes (%zu)",
                 t - rs, r->o.max_record_bytes);
        st = CSVAVRO_E_LIMIT;
        rawlen = CAV_MIN(rawlen, 4096);
    } else if (bad != SIZE_MAX) {
        snprintf(reason, sizeof reason, "unexpected character '%c' after a closing quote",
                 r->buf[bad] >= 32 && r->buf[bad] < 127 ? r->buf[bad] : '?');
        off = r->buf_off + (int64_t)bad;
    } else {
        snprintf(reason, sizeof reason, "record has %u field%s, expected %u", fc,
                 fc == 1 ? "" : "s", r->n_cols);
    }
    csvavro_status s =
        cav_csv_bad_record(r, off, r->buf + rs, rawlen, rec, -1, NULL, 0, st, reason, err);
    return s == CSVAVRO_OK ? -1 : R_ERR;
}

/* Row done: checks it and either keeps it or reports it (the common case inline: a record of
 * exactly n_cols fields, well quoted, not too long). */
static inline __attribute__((always_inline)) int commit(cav_csv_reader *r, uint32_t *n_rows,
                                                        size_t rs, size_t t, uint32_t fc,
                                                        size_t bad, csvavro_error *err) {
    if (CAV_UNLIKELY(r->range_start < 0)) r->range_start = r->buf_off + (int64_t)rs;
    uint64_t rec = r->rec_seen++;
    if (CAV_LIKELY(fc == r->n_cols && bad == SIZE_MAX && t - rs < r->o.max_record_bytes)) {
        r->row_rec[*n_rows] = rec;
        (*n_rows)++;
        return -1;
    }
    return commit_slow(r, n_rows, rs, t, fc, bad, rec, err);
}

/* Scalar records from r->pos while r->pos < until. */
static int scalar_records(cav_csv_reader *r, size_t until, uint32_t *n_rows, csvavro_error *err) {
    const uint32_t W = r->stride;
    const uint8_t D = (uint8_t)r->o.delimiter, Q = (uint8_t)r->o.quote, E = (uint8_t)r->o.escape;
    for (;;) {
        if (r->pos >= until) return R_UNTIL;
        int s = skip_blank_comment(r);
        if (s == R_MORE) return R_MORE;
        if (r->pos >= r->lim) return R_DONE;
        size_t rs = r->pos;
        if (r->buf_off + (int64_t)rs >= r->end) return R_DONE;
        if (*n_rows == r->batch_rows || r->over_limit ||
            (*n_rows && rs - r->offs[0] >= BATCH_BYTES))
            return R_FULL;
        uint32_t *row = r->offs + (size_t)*n_rows * W;
        size_t t, bad;
        uint32_t fc;
        /* cap end_slot: the fields after the kept ones all land in the end slot, the last of
         * them (the line end) stays there */
        int k = scalar_one(r->buf, rs, r->lim, r->eof, D, Q, E, r->o.skip_initial_space != 0, row,
                           r->end_slot, &t, &fc, &bad);
        if (k == 0) {
            if (r->lim - rs < r->o.max_record_bytes) return R_MORE;
            /* too long and still no end in sight: always fatal (its end is unknown) */
            cav_err_path(err, r->path);
            if (err) err->offset = r->buf_off + (int64_t)rs;
            cav_err(err, CSVAVRO_E_LIMIT, "a record is longer than max-record-bytes (%zu bytes)",
                    r->o.max_record_bytes);
            return R_ERR;
        }
        if (k < 0) {
            if (r->range_start < 0) r->range_start = r->buf_off + (int64_t)rs;
            uint64_t rec = r->rec_seen++;
            size_t rawlen = CAV_MIN(r->len - rs, (size_t)4096);
            csvavro_status st =
                cav_csv_bad_record(r, r->buf_off + (int64_t)rs, r->buf + rs, rawlen, rec, -1, NULL,
                                   0, CSVAVRO_E_CSV, "quote left open at end of input", err);
            if (st != CSVAVRO_OK) return R_ERR;
            r->pos = r->lim;
            return R_DONE;
        }
        if (commit(r, n_rows, rs, t, fc, bad, err) == R_ERR) return R_ERR;
        r->pos = t + 1;
    }
}

typedef void (*classify_fn)(const uint8_t *, uint8_t, uint8_t, uint64_t *, uint64_t *, uint64_t *);
typedef void (*store_fn)(uint32_t *, uint64_t, uint32_t, uint32_t, uint32_t);

/* Mask records from r->pos. On R_FALLBACK, r->pos is a record start and *until the position
 * up to which the scalar machine must take over. */
static inline __attribute__((always_inline)) int
mask_records(cav_csv_reader *r, classify_fn classify, store_fn store16, size_t *until,
             uint32_t *n_rows_p, csvavro_error *err) {
    const uint8_t *buf = r->buf;
    const size_t lim = r->lim;
    const uint32_t keep = r->keep, W = r->stride, E = r->end_slot;
    const uint8_t Q = (uint8_t)r->o.quote, D = (uint8_t)r->o.delimiter, C = (uint8_t)r->o.comment;
    const int64_t stop = r->end - r->buf_off; /* record starts at or after this are not ours */
    const uint32_t batch_rows = r->batch_rows;
    const bool clmul = r->pclmul;
    uint32_t n_rows = *n_rows_p;
    size_t rs = r->pos;
    uint32_t *row = r->offs + (size_t)n_rows * W;
    uint32_t fc = 0;
    bool started = false, inq = false, pend = false;
    uint64_t carry = 1;
    int res;

    /* record starts from here on end the batch (BATCH_BYTES past its first row) */
    const size_t bend = (n_rows ? r->offs[0] : rs) + BATCH_BYTES;
    if (n_rows == batch_rows || r->over_limit || (n_rows && rs >= bend)) {
        /* the scalar fallback may have filled it */
        res = R_FULL;
        goto out;
    }
    if (C && rs < lim && buf[rs] == C) {
        *until = rs + 1;
        res = R_FALLBACK;
        goto out;
    }
    for (size_t blk = rs; blk < lim; blk += 64) {
        {
            uint64_t q, d, nl;
            classify(buf + blk, Q, D, &q, &d, &nl);
            if (CAV_UNLIKELY(lim - blk < 64)) { /* the last block: bytes past lim are padding */
                const uint64_t valid = (1ull << (lim - blk)) - 1;
                q &= valid;
                d &= valid;
                nl &= valid;
            }
            uint64_t inside = inq ? ~0ull : 0;
            if (CAV_UNLIKELY(q | pend)) {
                r->quotes = true;
#ifdef CAV_X86
                inside ^= clmul ? pxor_clmul(q) : pxor_shift(q);
#else
                inside ^= pxor_shift(q);
#endif
                uint64_t so = (d | nl) & ~inside;
                uint64_t open = q & inside, close = q & ~inside;
                uint64_t before = ((so | close) << 1) | carry;
                uint64_t after = so | open;
                uint64_t bad = (open & ~before) | (close & ~(after >> 1) & ~(1ull << 63));
                if (pend && !(after & 1)) bad = 1;
                if (bad) {
                    *until = blk + 64;
                    res = R_FALLBACK;
                    goto out;
                }
                pend = close >> 63;
                carry = (so | close) >> 63;
            } else {
                carry = ((d | nl) & ~inside) >> 63;
            }
            inq = inside >> 63;
            uint64_t s = (d | nl) & ~inside; /* field ends (delimiters and line ends) */
            const uint64_t ends = nl & ~inside;
            const uint32_t base = (uint32_t)(blk + 1);
            while (s) {
                if (!started) {
                    unsigned bit = (unsigned)__builtin_ctzll(s);
                    size_t p = blk + bit;
                    if (((ends >> bit) & 1) && p == rs) { /* blank line */
                        s &= s - 1;
                        rs = p + 1;
                        if (C && rs < lim && buf[rs] == C) {
                            *until = rs + 1;
                            res = R_FALLBACK;
                            goto out;
                        }
                        continue;
                    }
                    if ((int64_t)rs >= stop) {
                        res = R_DONE;
                        goto out;
                    }
                    started = true;
                    row[0] = (uint32_t)rs;
                    fc = 0;
                }
                /* the field ends of this record in this block: up to and including its line
                 * end, or all the bits left when the record goes on in the next block */
                uint64_t e = s & ends;
                uint64_t f = e ? s & (e ^ (e - 1)) : s;
                s &= ~f;
                uint32_t cnt = (uint32_t)__builtin_popcountll(f);
                if (store16) {
                    /* 16 at a time (the row's slots past keep are written later: its end slot
                     * at its end, the next row's as it is scanned; the slack after the last row
                     * takes the rest); past keep they are only counted */
                    if (fc < keep) store16(row + fc + 1, f, base, cnt, keep - fc);
                    fc += cnt;
                } else if (CAV_LIKELY(fc + cnt <= keep)) {
                    /* four at a time, unconditionally: the writes past the last one land in
                     * slots written later (or in the slack after the last row); the OR keeps
                     * ctz defined when f runs out */
                    uint32_t *w = row + fc + 1;
                    fc += cnt;
                    for (;;) {
                        w[0] = base + (uint32_t)__builtin_ctzll(f | (1ull << 63));
                        f &= f - 1;
                        w[1] = base + (uint32_t)__builtin_ctzll(f | (1ull << 63));
                        f &= f - 1;
                        w[2] = base + (uint32_t)__builtin_ctzll(f | (1ull << 63));
                        f &= f - 1;
                        w[3] = base + (uint32_t)__builtin_ctzll(f | (1ull << 63));
                        f &= f - 1;
                        if (!f) break;
                        w += 4;
                    }
                } else {
                    /* past the last field the job needs (projection pushdown), or more fields
                     * than columns: the rest are only counted (f has more than keep - fc bits) */
                    for (; fc < keep; f &= f - 1)
                        row[++fc] = base + (uint32_t)__builtin_ctzll(f);
                    fc += (uint32_t)__builtin_popcountll(f);
                }
                if (e) {
                    size_t p = blk + (size_t)__builtin_ctzll(e);
                    row[E] = (uint32_t)(p + 1); /* the record end (already there when keep = nc
                                                   and the row has its nc fields) */
                    if (CAV_UNLIKELY(commit(r, &n_rows, rs, p, fc, SIZE_MAX, err) == R_ERR)) {
                        res = R_ERR;
                        goto out;
                    }
                    rs = p + 1;
                    started = false;
                    row = r->offs + (size_t)n_rows * W;
                    if (n_rows == batch_rows || (rs >= bend && n_rows) ||
                        CAV_UNLIKELY(r->over_limit)) {
                        res = R_FULL;
                        goto out;
                    }
                    if (C && rs < lim && buf[rs] == C) {
                        *until = rs + 1;
                        res = R_FALLBACK;
                        goto out;
                    }
                }
            }
        }
    }
    if (rs >= lim) {
        res = r->eof ? R_DONE : R_MORE;
    } else if (r->eof || lim - rs >= r->o.max_record_bytes) {
        *until = lim + 1; /* open quote at the end, or an oversized record: scalar reports it */
        res = R_FALLBACK;
    } else {
        res = R_MORE;
    }
out:
    r->pos = rs;
    *n_rows_p = n_rows;
    return res;
}

/* The scanner of each kind: mask_records with its block classifier inlined. */
#ifndef CAV_X86
static int mask_records_scalar(cav_csv_reader *r, size_t *until, uint32_t *n_rows_p,
                               csvavro_error *err) {
    return mask_records(r, classify_scalar, NULL, until, n_rows_p, err);
}
#else
__attribute__((target("sse2"))) static int
mask_records_sse2(cav_csv_reader *r, size_t *until, uint32_t *n_rows_p, csvavro_error *err) {
    return mask_records(r, classify_sse2, NULL, until, n_rows_p, err);
}
/* The AVX2 and AVX-512 scanners are compiled with POPCNT and TZCNT (every such CPU has them;
 * checked at run time all the same): without them each popcount is a libgcc call. */
__attribute__((target("avx2,popcnt,bmi"))) static int
mask_records_avx2(cav_csv_reader *r, size_t *until, uint32_t *n_rows_p, csvavro_error *err) {
    return mask_records(r, classify_avx2, NULL, until, n_rows_p, err);
}
__attribute__((target("avx512bw,avx2,popcnt,bmi"))) static int
mask_records_avx512(cav_csv_reader *r, size_t *until, uint32_t *n_rows_p, csvavro_error *err) {
    return mask_records(r, classify_avx512, NULL, until, n_rows_p, err);
}
__attribute__((target("avx512bw,avx512vbmi2,avx2,popcnt,bmi"))) static int
mask_records_vbmi2(cav_csv_reader *r, size_t *until, uint32_t *n_rows_p, csvavro_error *err) {
    return mask_records(r, classify_avx512, store_ends_vbmi2, until, n_rows_p, err);
}
#endif

/* Fills the batch rows from the buffer; returns R_FULL, R_DONE, R_MORE or R_ERR. */
static int scan(cav_csv_reader *r, csvavro_error *err) {
    uint32_t n_rows = r->n_rows;
    int res;
#ifdef CAV_X86
    int (*mask)(cav_csv_reader *, size_t *, uint32_t *, csvavro_error *) = mask_records_sse2;
    const uint32_t cpu = cav_cpu_features(), fast = CAV_CPU_AVX2 | CAV_CPU_POPCNT | CAV_CPU_BMI1;
    if (r->kind == CAV_CSV_VBMI2 &&
        (cpu & (fast | CAV_CPU_AVX512VBMI2)) == (fast | CAV_CPU_AVX512VBMI2))
        mask = mask_records_vbmi2;
    else if (r->kind >= CAV_CSV_AVX512 &&
             (cpu & (fast | CAV_CPU_AVX512BW)) == (fast | CAV_CPU_AVX512BW))
        mask = mask_records_avx512;
    else if (r->kind >= CAV_CSV_AVX2 && (cpu & fast) == fast)
        mask = mask_records_avx2;
#else
    int (*mask)(cav_csv_reader *, size_t *, uint32_t *, csvavro_error *) = mask_records_scalar;
#endif
    for (;;) {
        if (r->kind == CAV_CSV_SCALAR) {
            r->quotes = true;
            res = scalar_records(r, SIZE_MAX, &n_rows, err);
            break;
        }
        size_t until = 0;
        res = mask(r, &until, &n_rows, err);
        if (res != R_FALLBACK) break;
        r->quotes = true;
        res = scalar_records(r, until, &n_rows, err);
        if (res != R_UNTIL) break;
    }
    r->n_rows = n_rows;
    return res;
}

/* ------------------------------------------------------------------ buffer */

static csvavro_status refill(cav_csv_reader *r, csvavro_error *err) {
    if (r->pos > 0) {
        size_t keep = r->len > r->pos ? r->len - r->pos : 0;
        memmove(r->buf, r->buf + r->pos, keep);
        r->buf_off += (int64_t)(r->len - keep);
        r->len = keep;
        r->pos = 0;
    }
    if (r->len == r->cap) {
        size_t want = r->cap * 2;
        size_t ceil = r->o.max_record_bytes + 65536;
        if (want > ceil) want = ceil;
        if (want <= r->cap) {
            cav_err_path(err, r->path);
            if (err) err->offset = r->buf_off;
            return cav_err(err, CSVAVRO_E_LIMIT,
                           "a record is longer than max-record-bytes (%zu bytes)",
                           r->o.max_record_bytes);
        }
        uint8_t *nb = cav_realloc(r->buf, want + PAD);
        if (!nb) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory growing the CSV buffer");
        r->buf = nb;
        r->cap = want;
    }
    int64_t fpos = r->buf_off + (int64_t)r->len;
    int64_t left = r->file_size - fpos;
    /* read little past the range end: the last record rarely needs more than 64 KiB */
    int64_t soft =
        r->end > fpos && r->end - fpos < INT64_MAX - 65536 ? r->end - fpos + 65536 : INT64_MAX;
    if (r->end <= fpos) soft = 65536;
    /* a record still open past the end: at least double what is held, so that re-scanning
     * the partial record after each read stays linear overall */
    if (soft < (int64_t)r->len) soft = (int64_t)r->len;
    size_t n = r->cap - r->len;
    if ((int64_t)n > left) n = left > 0 ? (size_t)left : 0;
    if ((int64_t)n > soft) n = (size_t)soft;
    size_t len0 = r->len;
    while (n > 0) {
        size_t got = 0, step = n;
        if (r->end_src) {
            /* an end the file tells (end_src): small reads while it is unknown, then as little
             * past it as above (every byte more is decoded for nothing) */
            int64_t want = 65536;
            if (*r->end_src >= 0) {
                want = *r->end_src + 1 + 65536 - fpos;
                int64_t twice = (int64_t)len0 - (int64_t)(r->len - len0);
                if (want < twice) want = twice;
                if (want <= 0) break;
            }
            if ((int64_t)step > want) step = (size_t)want;
        }
        csvavro_status st = csvavro_file_pread(r->f, r->buf + r->len, step, fpos, &got, err);
        if (st != CSVAVRO_OK) return st;
        if (got == 0) {
            r->file_size = fpos; /* the file shrank */
            break;
        }
        r->len += got;
        fpos += (int64_t)got;
        n -= got;
    }
    /* a range whose end its file tells once it has decoded that far (a split of a compressed
     * input): known before any byte past it was handed out */
    if (r->end_src && *r->end_src >= 0) r->end = *r->end_src + 1;
    r->eof = r->buf_off + (int64_t)r->len >= r->file_size;
    r->lim = r->len;
    if (r->eof) r->buf[r->lim++] = '\n';
    memset(r->buf + r->lim, 0, PAD - 1);
    return CSVAVRO_OK;
}

/* ------------------------------------------------------------------ reader API */

static int pick_kind(void) {
    uint32_t cpu = cav_cpu_features();
    int best = CAV_CSV_SCALAR;
#ifdef CAV_X86
    best = (cpu & CAV_CPU_AVX512VBMI2) ? CAV_CSV_VBMI2
           : (cpu & CAV_CPU_AVX512BW)  ? CAV_CSV_AVX512
           : (cpu & CAV_CPU_AVX2)      ? CAV_CSV_AVX2
                                       : CAV_CSV_SSE2;
#endif
    const char *env = getenv("CSVAVRO_SIMD");
    if (env) {
        if (!strcmp(env, "scalar")) return CAV_CSV_SCALAR;
#ifdef CAV_X86
        if (!strcmp(env, "sse2")) return CAV_CSV_SSE2;
        if (!strcmp(env, "avx2") && (cpu & CAV_CPU_AVX2)) return CAV_CSV_AVX2;
        if (!strcmp(env, "avx512") && (cpu & CAV_CPU_AVX512BW)) return CAV_CSV_AVX512;
        if (!strcmp(env, "vbmi2") && (cpu & CAV_CPU_AVX512VBMI2)) return CAV_CSV_VBMI2;
#endif
    }
    return best;
}

csvavro_status cav_csv_reader_create(const csvavro_csv_options *o, const csvavro_schema *schema,
                                     uint32_t batch_rows, cav_csv_reader **out,
                                     csvavro_error *err) {
    *out = NULL;
    CAV_TRY(cav_csv_options_check(o, err));
    CAV_RETURN_IF(batch_rows == 0 || schema->n_fields == 0 ||
                      schema->n_fields > CAV_CSV_MAX_COLUMNS,
                  err, CSVAVRO_E_USAGE, "CSV reader: bad batch size or column count");
    cav_csv_reader *r = cav_calloc(1, sizeof *r);
    if (!r) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    r->o = *o;
    if (r->o.escape == r->o.quote) r->o.escape = 0;
    r->n_cols = (uint32_t)schema->n_fields;
    r->n_out = r->n_cols;
    r->offs_cols = r->n_cols;
    r->keep = r->n_cols;
    r->stride = r->n_cols + 1;
    r->end_slot = r->n_cols;
    const char *all = getenv("CSVAVRO_SCAN_ALL");
    r->pushdown = !(all && *all && strcmp(all, "0") != 0);
    r->batch_rows = batch_rows;
    /* a field is its raw bytes unless quoted: no null markers but the empty field, no escapes,
     * no transcoding, no trimming */
    r->plain = r->o.n_null_values == 0 && !r->o.escape && r->o.encoding == CSVAVRO_ENCODING_UTF8 &&
               !r->o.skip_initial_space && !r->o.trim;
    r->ascii = -1;
    r->quotes = true;
    r->kind = r->o.escape || r->o.skip_initial_space ? CAV_CSV_SCALAR : pick_kind();
    r->pclmul = (cav_cpu_features() & CAV_CPU_PCLMUL) != 0;
    r->buf_bytes = DEFAULT_BUF;
    r->types = cav_calloc(r->n_cols, sizeof *r->types);
    r->col_names = cav_calloc(r->n_cols, sizeof *r->col_names);
    /* + OFFS_SLACK: the mask scanner writes field ends four at a time, up to 3 past a row, or
     * (VBMI2) sixteen at a time, up to 15 past its keep */
    r->offs = cav_malloc(((size_t)batch_rows * (r->n_cols + 1) + OFFS_SLACK) * sizeof *r->offs);
    r->row_rec = cav_malloc((size_t)batch_rows * sizeof *r->row_rec);
    if (!r->types || !r->col_names || !r->offs || !r->row_rec) goto nomem;
    for (uint32_t i = 0; i < r->n_cols; i++) {
        r->types[i] = schema->fields[i].type;
        r->col_names[i] = cav_strdup(schema->fields[i].name);
        if (!r->col_names[i]) goto nomem;
    }
    *out = r;
    return CSVAVRO_OK;
nomem:
    cav_csv_reader_free(r);
    return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
}

/* keep, stride and end_slot from the needed columns and the layout (see csv_reader.h) */
static void project(cav_csv_reader *r) {
    uint32_t keep = r->n_cols;
    if (r->need && r->pushdown) {
        keep = 0;
        for (uint32_t c = 0; c < r->n_out; c++) {
            int32_t f = r->map ? r->map[c] : (int32_t)c;
            if (r->need[c] && f >= 0 && (uint32_t)f + 1 > keep) keep = (uint32_t)f + 1;
        }
    }
    r->keep = keep;
    r->stride = CAV_MIN(keep, r->n_cols - 1) + 2;
    r->end_slot = r->stride - 1;
}

csvavro_status cav_csv_reader_set_layout(cav_csv_reader *r, uint32_t n_fields, const int32_t *map,
                                         const cav_const_value *defs, csvavro_error *err) {
    CAV_RETURN_IF(n_fields == 0 || n_fields > CAV_CSV_MAX_COLUMNS || (!map && n_fields != r->n_out),
                  err, CSVAVRO_E_USAGE, "CSV reader: bad layout of %u fields", n_fields);
    if (map)
        for (uint32_t c = 0; c < r->n_out; c++)
            CAV_RETURN_IF(map[c] >= (int32_t)n_fields || (map[c] < 0 && !defs), err,
                          CSVAVRO_E_USAGE, "CSV reader: bad layout for column %u", c);
    if (n_fields > r->offs_cols) {
        uint32_t *o =
            cav_realloc(r->offs, ((size_t)r->batch_rows * (n_fields + 1) + OFFS_SLACK) * sizeof *o);
        if (!o) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        r->offs = o;
        r->offs_cols = n_fields;
    }
    r->n_cols = n_fields;
    r->map = map;
    r->defs = defs;
    project(r);
    return CSVAVRO_OK;
}

csvavro_status cav_csv_reader_set_needed(cav_csv_reader *r, const bool *need, csvavro_error *err) {
    cav_free(r->need);
    r->need = NULL;
    if (need) {
        r->need = cav_malloc(r->n_out);
        if (!r->need) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (uint32_t c = 0; c < r->n_out; c++)
            r->need[c] = need[c];
    }
    project(r);
    return CSVAVRO_OK;
}

void cav_csv_reader_free(cav_csv_reader *r) {
    if (!r) return;
    if (r->col_names)
        for (uint32_t i = 0; i < r->n_out; i++)
            cav_free(r->col_names[i]);
    cav_free(r->col_names);
    cav_free(r->types);
    cav_free(r->need);
    cav_free(r->offs);
    cav_free(r->row_rec);
    cav_free(r->buf);
    cav_free(r->path);
    for (size_t i = 0; i < r->n_bad; i++) {
        cav_free(r->bad[i].reason);
        cav_free(r->bad[i].value);
    }
    cav_free(r->bad);
    cav_free(r);
}

void cav_csv_reader_tune(cav_csv_reader *r, int kind, size_t buffer_bytes) {
    if (kind >= 0 && !r->o.escape && !r->o.skip_initial_space) {
#ifdef CAV_X86
        if (kind == CAV_CSV_VBMI2 && !(cav_cpu_features() & CAV_CPU_AVX512VBMI2))
            kind = CAV_CSV_AVX512;
        if (kind == CAV_CSV_AVX512 && !(cav_cpu_features() & CAV_CPU_AVX512BW)) kind = CAV_CSV_AVX2;
        if (kind == CAV_CSV_AVX2 && !(cav_cpu_features() & CAV_CPU_AVX2)) kind = CAV_CSV_SSE2;
#else
        kind = CAV_CSV_SCALAR;
#endif
        r->kind = kind;
    }
    if (buffer_bytes) {
        r->buf_bytes = buffer_bytes;
        cav_free(r->buf);
        r->buf = NULL;
    }
}

int cav_csv_reader_kind(const cav_csv_reader *r) {
    return r->kind;
}

void cav_csv_reader_set_base(cav_csv_reader *r, int64_t first_record, int64_t first_line) {
    r->first_record = first_record;
    r->first_line = first_line;
    if (first_line > 0) {
        r->line_off = r->start;
        r->line_at_off = first_line;
    }
}

csvavro_status cav_csv_reader_open_range(cav_csv_reader *r, csvavro_file *f,
                                         const char *display_path, int64_t start, int64_t end,
                                         bool aligned, csvavro_error *err) {
    if (!r->buf) {
        r->cap = r->buf_bytes;
        r->buf = cav_malloc(r->cap + PAD);
        if (!r->buf) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory for the CSV buffer");
    }
    cav_free(r->path);
    r->path = cav_strdup(display_path ? display_path : (f->path ? f->path : ""));
    if (!r->path) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    r->f = f;
    r->file_size = csvavro_file_size(f);
    if (start < 0) start = 0;
    r->start = start;
    r->end = end;
    r->range_start = -1;
    r->done = false;
    r->n_rows = 0;
    r->ascii = -1;
    r->quotes = false;
    r->rec_seen = 0;
    r->rejected = 0;
    for (size_t i = 0; i < r->n_bad; i++) {
        cav_free(r->bad[i].reason);
        cav_free(r->bad[i].value);
    }
    r->n_bad = 0;
    r->over_limit = false;
    r->line_off = 0;
    r->line_at_off = 0;
    r->first_record = 0;
    r->first_line = 0;
    r->pending = CSVAVRO_OK;
    r->len = r->pos = r->lim = 0;
    r->eof = false;
    r->opened = true;
    if (aligned || start == 0) {
        r->buf_off = start;
        return CSVAVRO_OK;
    }
    /* speculate: the first line end at or after start - 1 ends the previous split's record */
    r->buf_off = start - 1;
    for (;;) {
        CAV_TRY(refill(r, err));
        const uint8_t *b = r->buf;
        size_t p = r->pos;
        while (p < r->len && b[p] != '\n' && b[p] != '\r')
            p++;
        if (p < r->len) {
            r->pos = p + 1;
            return CSVAVRO_OK;
        }
        r->pos = r->len;
        if (r->eof) {
            r->pos = r->lim;
            return CSVAVRO_OK;
        }
    }
}

csvavro_status cav_csv_reader_next(cav_csv_reader *r, cav_batch *b, csvavro_error *err) {
    CAV_TRY(cav_csv_reader_batch_done(r, err)); /* the previous batch's bad records */
    cav_batch_reset(b);
    r->n_rows = 0;
    r->ascii = -1;
    r->quotes = false;
    if (r->pending != CSVAVRO_OK) {
        if (err) *err = r->pending_err;
        return r->pending;
    }
    if (!r->opened) return cav_err(err, CSVAVRO_E_USAGE, "CSV reader: no range opened");
    if (r->done) return CSVAVRO_OK;
    /* (a range whose file tells its end: not when the buffer already holds 64 KiB past it,
     * every byte more is decoded for nothing; the scan below still asks when a record needs) */
    /* (refilling moves the unscanned rest to the front: not while a batch's worth is left,
     * BATCH_BYTES ends batches before the buffer's end; a short last batch refills next) */
    if (!r->eof && (r->len == 0 || r->len - r->pos < CAV_MIN(r->cap / 4, (size_t)65536)) &&
        !(r->end_src && r->buf_off + (int64_t)r->len >= r->end + 65536))
        CAV_TRY(refill(r, err));
    for (;;) {
        int res = scan(r, err);
        if (res == R_ERR) {
            r->n_rows = 0;
            csvavro_status st = err ? err->status : CSVAVRO_E_CSV;
            if (st == CSVAVRO_OK) st = CSVAVRO_E_CSV;
            return st;
        }
        if (res == R_FULL) break;
        if (res == R_DONE) {
            r->done = true;
            break;
        }
        /* R_MORE */
        if (r->n_rows > 0) break;
        CAV_TRY(refill(r, err));
    }
    /* over --max-errors before any row: report it now (a batch of 0 rows ends the input) */
    if (r->over_limit && r->n_rows == 0) return cav_csv_reader_batch_done(r, err);
    b->n_rows = r->n_rows;
    return CSVAVRO_OK;
}

void cav_csv_reader_set_end_source(cav_csv_reader *r, const int64_t *end_src) {
    r->end_src = end_src;
}

void cav_csv_reader_set_reject_sink(cav_csv_reader *r, cav_buf *sink) {
    r->sink = sink;
}
void cav_csv_reader_allow_trailing_empty(cav_csv_reader *r, bool on) {
    r->trailing_empty = on;
}
uint64_t cav_csv_reader_rejected(const cav_csv_reader *r) {
    return r->rejected;
}

int64_t cav_csv_reader_range_start(const cav_csv_reader *r) {
    return r->range_start >= 0 ? r->range_start : cav_csv_reader_range_end(r);
}

int64_t cav_csv_reader_range_end(const cav_csv_reader *r) {
    int64_t e = r->buf_off + (int64_t)r->pos;
    return e > r->file_size ? r->file_size : e;
}

int64_t cav_csv_reader_bytes_done(const cav_csv_reader *r) {
    int64_t e = cav_csv_reader_range_end(r) - r->start;
    return e < 0 ? 0 : e;
}

void cav_csv_reader_raw(const cav_csv_reader *r, uint32_t row, uint32_t col, const char **p,
                        size_t *len) {
    const uint32_t *o = r->offs + (size_t)row * r->stride;
    *p = (const char *)r->buf + o[col];
    *len = o[col + 1] - 1 - o[col];
}

bool cav_csv_reader_batch_ascii(cav_csv_reader *r) {
    if (r->ascii < 0) {
        /* the rows of a batch lie in order in the buffer: check from the first row's start to
         * the last row's line end in one pass (8-byte words, four at a time) */
        const size_t W = r->stride;
        size_t a = r->n_rows ? r->offs[0] : 0;
        size_t e = r->n_rows ? r->offs[(size_t)(r->n_rows - 1) * W + r->end_slot] : 0;
        const uint8_t *p = r->buf + a;
        size_t n = e > a ? e - a : 0, i = 0;
        const uint64_t hi = 0x8080808080808080ull;
        uint64_t acc = 0;
        for (; i + 32 <= n && !(acc & hi); i += 32) {
            uint64_t w[4];
            memcpy(w, p + i, sizeof w);
            acc |= w[0] | w[1] | w[2] | w[3];
        }
        for (; i < n; i++)
            acc |= p[i];
        r->ascii = (acc & hi) == 0;
    }
    return r->ascii == 1;
}

int64_t cav_csv_reader_row_offset(const cav_csv_reader *r, uint32_t row) {
    return r->buf_off + r->offs[(size_t)row * r->stride];
}

/* ------------------------------------------------------------------ lines */

csvavro_status cav_csv_count_lines(csvavro_file *f, int64_t offset, int64_t *line,
                                   csvavro_error *err) {
    enum { CH = 1 << 20 };
    /* no bigger than needed: called once per bad record, on small inputs too */
    size_t cap = (size_t)CAV_MAX((int64_t)0, CAV_MIN((int64_t)CH, offset));
    uint8_t *b = cav_malloc(cap + 1);
    if (!b) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    int64_t n = 0, pos = 0;
    bool prev_cr = false;
    while (pos < offset) {
        size_t want = (size_t)CAV_MIN((int64_t)cap, offset - pos), got = 0;
        csvavro_status st = csvavro_file_pread(f, b, want, pos, &got, err);
        if (st != CSVAVRO_OK) {
            cav_free(b);
            return st;
        }
        if (got == 0) break;
        for (size_t i = 0; i < got; i++) {
            if (b[i] == '\n')
                n++;
            else if (prev_cr)
                n++; /* lone CR before this byte */
            prev_cr = b[i] == '\r';
            if (b[i] == '\n') prev_cr = false;
        }
        pos += (int64_t)got;
    }
    if (prev_cr) n++; /* a CR right before offset ends a line (a following LF starts none) */
    cav_free(b);
    *line = n + 1;
    return CSVAVRO_OK;
}

/* ------------------------------------------------------------------ header */

csvavro_status cav_csv_unescape(const csvavro_csv_options *o, const char *raw, size_t len,
                                char *out, size_t *out_len);

void cav_csv_header_free(cav_csv_header *h) {
    if (!h) return;
    if (h->names)
        for (uint32_t i = 0; i < h->n_cols; i++)
            cav_free(h->names[i]);
    cav_free(h->names);
    h->names = NULL;
    h->n_cols = 0;
}

/* Text of a header field as UTF-8 (unescaped; latin-1 transcoded). */
static char *header_text(const csvavro_csv_options *o, const uint8_t *raw, size_t len) {
    while (o->skip_initial_space && len && *raw == ' ')
        raw++, len--;
    char *tmp = cav_malloc(len + 1);
    if (!tmp) return NULL;
    size_t n;
    cav_csv_unescape(o, (const char *)raw, len, tmp, &n);
    if (o->encoding == CSVAVRO_ENCODING_LATIN1) {
        char *u = cav_malloc(cav_latin1_utf8_len(tmp, n) + 1);
        if (!u) {
            cav_free(tmp);
            return NULL;
        }
        size_t k = cav_latin1_to_utf8(tmp, n, u);
        cav_free(tmp);
        tmp = u;
        n = k;
    }
    tmp[n] = '\0';
    return tmp;
}

csvavro_status cav_csv_read_header(csvavro_file *f, const csvavro_csv_options *o, cav_csv_header *h,
                                   csvavro_error *err) {
    memset(h, 0, sizeof *h);
    CAV_TRY(cav_csv_options_check(o, err));
    csvavro_csv_options oo = *o;
    if (oo.escape == oo.quote) oo.escape = 0;
    int64_t size = csvavro_file_size(f);
    size_t cap = (size_t)CAV_MIN((int64_t)65536, size > 0 ? size : 1);
    uint8_t *b = NULL;
    size_t len = 0;
    bool eof = false;
    csvavro_status st = CSVAVRO_OK;
    uint32_t *row = NULL;
    size_t p = 0, lim = 0;
    int64_t lines = 0;
    for (;;) { /* read until the header record (and the byte after it) is in memory */
        uint8_t *nb = cav_realloc(b, cap + 2);
        if (!nb) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            goto done;
        }
        b = nb;
        while (len < cap && !eof) {
            size_t got = 0;
            st = csvavro_file_pread(f, b + len, cap - len, (int64_t)len, &got, err);
            if (st != CSVAVRO_OK) goto done;
            len += got;
            if (got == 0 || (int64_t)len >= size) {
                eof = true;
                size = (int64_t)len; /* a decoded input's size is known only here */
            }
        }
        lim = len;
        if (eof) b[lim++] = '\n';
        /* BOM, skip_rows, blank and comment lines */
        p = 0;
        lines = 0;
        if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) p = 3;
        bool need_more = false;
        for (uint64_t k = 0; k < oo.skip_rows && !need_more; k++) {
            while (p < len && b[p] != '\n' && b[p] != '\r')
                p++;
            if (p >= len) {
                need_more = !eof;
                p = len;
                break;
            }
            if (b[p] == '\r' && p + 1 < len && b[p + 1] == '\n')
                p++;
            else if (b[p] == '\r' && p + 1 >= len && !eof)
                need_more = true;
            p++;
            lines++;
        }
        while (!need_more && p < len) {
            if (b[p] == '\n' || b[p] == '\r') {
                if (b[p] == '\r' && p + 1 >= len && !eof)
                    need_more = true;
                else {
                    if (b[p] == '\r' && b[p + 1] == '\n') p++;
                    p++;
                    lines++;
                }
            } else if (oo.comment && b[p] == (uint8_t)oo.comment) {
                size_t q = p;
                while (q < len && b[q] != '\n' && b[q] != '\r')
                    q++;
                if (q >= len) {
                    if (!eof) need_more = true;
                    p = len;
                } else {
                    p = q;
                }
            } else {
                break;
            }
        }
        if (!need_more && p >= len) {
            /* no record at all */
            h->data_start = size;
            h->data_start_line = lines + 1;
            break;
        }
        if (!need_more) {
            size_t t, bad;
            uint32_t fc, dummy[1];
            int k =
                scalar_one(b, p, lim, eof, (uint8_t)oo.delimiter, (uint8_t)oo.quote,
                           (uint8_t)oo.escape, oo.skip_initial_space != 0, dummy, 0, &t, &fc, &bad);
            if (k < 0) {
                cav_err_path(err, f->path);
                if (err) err->offset = (int64_t)p, err->line = lines + 1;
                st = cav_err(err, CSVAVRO_E_CSV, "quote left open at end of input (header)");
                goto done;
            }
            if (k == 1 && (t + 1 < len || eof)) {
                if (bad != SIZE_MAX) {
                    cav_err_path(err, f->path);
                    if (err) err->offset = (int64_t)bad, err->line = lines + 1;
                    st = cav_err(err, CSVAVRO_E_CSV,
                                 "unexpected character after a closing quote in the first record");
                    goto done;
                }
                row = cav_malloc(((size_t)fc + 1) * sizeof *row);
                if (!row) {
                    st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                    goto done;
                }
                scalar_one(b, p, lim, eof, (uint8_t)oo.delimiter, (uint8_t)oo.quote,
                           (uint8_t)oo.escape, oo.skip_initial_space != 0, row, fc, &t, &fc, &bad);
                /* a last header field with an empty name (e.g. "a,b,") is no column */
                if (oo.header && !oo.n_names && !oo.keep_empty_columns && fc > 1) {
                    const uint8_t *lf = b + row[fc - 1];
                    size_t ll = row[fc] - 1 - row[fc - 1], k0 = 0;
                    while (k0 < ll && (lf[k0] == ' ' || lf[k0] == '\t'))
                        k0++;
                    if (k0 == ll) {
                        fc--;
                        h->trailing_empty = true;
                    }
                }
                uint32_t n = oo.n_names ? (uint32_t)oo.n_names : fc;
                if (n > CAV_CSV_MAX_COLUMNS) {
                    cav_err_path(err, f->path);
                    if (err) err->offset = (int64_t)p, err->line = lines + 1;
                    st = cav_err(err, CSVAVRO_E_LIMIT,
                                 "the first record has %u fields, more than the %u columns csvavro "
                                 "supports",
                                 n, CAV_CSV_MAX_COLUMNS);
                    goto done;
                }
                if (oo.n_names && oo.header && fc != oo.n_names) {
                    cav_err_path(err, f->path);
                    if (err) err->offset = (int64_t)p, err->line = lines + 1;
                    st = cav_err(err, CSVAVRO_E_CSV,
                                 "--names gives %zu names but the header has %u fields", oo.n_names,
                                 fc);
                    goto done;
                }
                h->names = cav_calloc(n, sizeof *h->names);
                if (!h->names) {
                    st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                    goto done;
                }
                h->n_cols = n;
                for (uint32_t i = 0; i < n; i++) {
                    if (oo.n_names) {
                        h->names[i] = cav_strdup(oo.names[i]);
                    } else if (oo.header) {
                        size_t fl = row[i + 1] - 1 - row[i];
                        size_t bad_at = oo.encoding == CSVAVRO_ENCODING_UTF8
                                            ? cav_utf8_check(b + row[i], fl)
                                            : fl;
                        if (bad_at < fl) {
                            cav_err_path(err, f->path);
                            if (err)
                                err->offset = (int64_t)(row[i] + bad_at), err->line = lines + 1;
                            if (err) err->column = (int32_t)i;
                            st = cav_err(err, CSVAVRO_E_ENCODING,
                                         "header field %u is not valid UTF-8 (byte 0x%02x; use "
                                         "--encoding latin-1?)",
                                         i + 1, b[row[i] + bad_at]);
                            goto done;
                        }
                        h->names[i] = header_text(&oo, b + row[i], fl);
                    } else {
                        char tmp[32];
                        snprintf(tmp, sizeof tmp, "c%u", i + 1);
                        h->names[i] = cav_strdup(tmp);
                    }
                    if (!h->names[i]) {
                        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                        goto done;
                    }
                }
                if (oo.header) {
                    size_t q = t + 1;
                    if (b[t] == '\r' && q < len && b[q] == '\n') q++;
                    h->data_start = CAV_MIN((int64_t)q, size);
                    /* physical lines inside the header record */
                    int64_t extra = 0;
                    for (size_t i = p; i < t; i++)
                        if (b[i] == '\n' || (b[i] == '\r' && b[i + 1] != '\n')) extra++;
                    h->data_start_line = lines + extra + 2;
                } else {
                    h->data_start = (int64_t)p;
                    h->data_start_line = lines + 1;
                }
                break;
            }
        }
        /* need more bytes */
        size_t ceiling = oo.header ? CAV_MIN(o->max_record_bytes, CAV_CSV_MAX_HEADER_BYTES)
                                   : o->max_record_bytes;
        if (eof || cap >= ceiling) {
            cav_err_path(err, f->path);
            if (err) err->offset = 0;
            if (oo.header && ceiling < o->max_record_bytes)
                st = cav_err(err, CSVAVRO_E_LIMIT,
                             "the header record is longer than the %zu MiB header ceiling",
                             CAV_CSV_MAX_HEADER_BYTES >> 20);
            else
                st = cav_err(err, CSVAVRO_E_LIMIT,
                             "the header record is longer than max-record-bytes (%zu)",
                             o->max_record_bytes);
            goto done;
        }
        cap = CAV_MIN(cap * 4, ceiling);
    }
    if (!h->names && oo.n_names) {
        h->names = cav_calloc(oo.n_names, sizeof *h->names);
        if (!h->names) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            goto done;
        }
        h->n_cols = (uint32_t)oo.n_names;
        for (uint32_t i = 0; i < h->n_cols; i++)
            if (!(h->names[i] = cav_strdup(oo.names[i]))) {
                st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                goto done;
            }
    }
done:
    cav_free(row);
    cav_free(b);
    if (st != CSVAVRO_OK) cav_csv_header_free(h);
    return st;
}
