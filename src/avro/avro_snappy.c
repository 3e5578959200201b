/*
 * avro_snappy.c — our own encoder of the snappy raw format (the format's public description:
 * google/snappy format_description.txt). Decoding stays with libsnappy (avro_codec.c, through
 * the table of libsnappy's functions here, loaded on first use).
 *
 * Output: the uncompressed length as a little-endian base-128 varint, then elements:
 *   literal  tag (len-1)<<2 | 0 when len <= 60, else tag (59+k)<<2 followed by len-1 in k
 *            little-endian bytes (k = 1..4), then the len bytes themselves
 *   copy-1   tag (offset>>8)<<5 | (len-4)<<2 | 1, then offset&255: len 4..11, offset < 2048
 *   copy-2   tag (len-1)<<2 | 2, then the offset in 2 little-endian bytes: len 1..64,
 *            offset < 65536
 * (copy-4 is never needed: matches are looked for only inside the current fragment.)
 *
 * Why our own: row-oriented Avro blocks of typical CSV data (identifiers, timestamps, doubles)
 * are mostly incompressible for snappy: libsnappy spends ~2 ns per byte on the taxi data to
 * save 11%, most of it on 4- and 5-byte chance matches (inside random hex identifiers, double
 * mantissas) that save a byte each and cost a branch miss and an element each. Our fast mode
 * takes only matches of 8 bytes or more, which are the structure that repeats from record to
 * record (a short string field with its neighbours, a constant run of varints): about 8 times
 * libsnappy's speed there (4 GB/s against 0.5 per core), for output ~9% larger than
 * libsnappy's (files 3% smaller than the null codec's instead of 11%). Data that does repeat
 * gets libsnappy's full effort (bench/RESULTS.md, issue 17, the snappy codec).
 *
 * Fast mode: the input is cut into 64 KiB fragments, each compressed on its own with a small
 * hash table of 16-bit fragment offsets (4,096 entries, 8 KiB: it stays in L1) keyed by a
 * multiplicative hash of 8 bytes. Probes start 4 bytes apart after a match and the step grows
 * by 1 every 16 misses, so incompressible stretches are crossed quickly. Probing every 4th
 * byte still finds the repeats that matter: a repeated run of 11 bytes or more holds a probed
 * position whose 8 bytes are in the table from an earlier copy (the copies are probed at
 * varying phases), and the match found there is extended backwards over the pending literal to
 * the run's start, and forwards 8 bytes at a time (the first differing byte from the XOR's
 * trailing zeros). On the taxi data this saves as much as probing every byte, at 1/4 of the
 * probes.
 *
 * Thorough mode: once a fragment compresses to less than 92% in the fast mode, the data has
 * real repeats (text, categories) and the rest of the input goes to libsnappy (snappy_compress),
 * whose elements are appended after ours without its length preamble: it too compresses each
 * 64 KiB on its own, so its offsets never reach back into our part. (libsnappy is loaded then,
 * on first use; where it cannot be loaded the fast mode goes on: valid output, only larger.)
 *
 * Bounds: every load of the input stays inside the fragment (4- and 8-byte loads only where
 * they fit); literals are copied with memcpy, except short ones, copied 16 bytes at a time when
 * 16 input bytes are readable and the output has the slack that cav_snappy_bound() includes.
 */
#include "avro/avro.h"

#include "../core/core_dl.h"

#include <snappy-c.h>
#include <string.h>

/* libsnappy (and through it libstdc++), loaded on first use (core_dl.h): typical CSV data
 * never reaches the thorough mode, and only reading a snappy file decodes, while loading it costs
 * every start-up about half a millisecond. */
/* clang-format off */
#define SNAPPY_FUNCS(X) \
    X(snappy_compress) X(snappy_max_compressed_length) X(snappy_uncompressed_length) \
    X(snappy_uncompress)
/* clang-format on */
struct snappy_api {
    SNAPPY_FUNCS(CAV_DL_FIELD)
};
#define SNAPPY_SYM(f) CAV_DL_SYM(struct snappy_api, f)
static const cav_dl_sym snappy_syms[] = {SNAPPY_FUNCS(SNAPPY_SYM)};
static struct snappy_api sn; /* written once by cav_dl_load, read-only afterwards */
static cav_dl_lib snappy_lib = CAV_DL_LIB(CAV_SONAME_SNAPPY, 0, snappy_syms, &sn);

csvavro_status cav_snappy_load(csvavro_error *err) {
    return cav_dl_load(&snappy_lib, "the snappy codec", err);
}

bool cav_snappy_uncompressed_length(const uint8_t *src, size_t n, size_t *len) {
    return sn.snappy_uncompressed_length((const char *)src, n, len) == SNAPPY_OK;
}

bool cav_snappy_uncompress(const uint8_t *src, size_t n, uint8_t *dst, size_t *len) {
    return sn.snappy_uncompress((const char *)src, n, (char *)dst, len) == SNAPPY_OK;
}

#define FRAG_SIZE 65536u
#define HASH_BITS 12
#define HASH_SIZE (1u << HASH_BITS)

/* The fast mode (see the top of the file): the bytes a match needs at least (and hashes), the
 * first probe step, and its growth (by 1 every 2^FAST_SHIFT misses). */
#define FAST_MIN 8
#define FAST_STEP0 4u
#define FAST_SHIFT 4
/* A fragment compressed to less than FAST_LEAVE/64 of its size in the fast mode (8% saved by
 * long repeats alone) sends the rest of the input to libsnappy. */
#define FAST_LEAVE 59 /* 92% */

/* Room for a wide literal copy past the last byte written. */
#define OUT_SLACK 16

size_t cav_snappy_bound(size_t n) {
    /* Our fragments: the first literal costs its bytes + a tag of <= 3. Every later literal
     * follows a copy of m >= 4 input bytes written in <= m - 1 bytes, which pays for a 1-byte
     * tag (literal <= 60 bytes); a 2- or 3-byte tag comes with >= 61 literal bytes: at most
     * len + len/61 + 3. libsnappy's fragments are compressed in place and need its own bound
     * (32 + len + len/6) before the preamble is dropped. Plus 5 for our preamble and the
     * slack of the wide literal copies. */
    size_t frags = n / FRAG_SIZE + 1;
    return n + n / 6 + 32 * frags + 5 + OUT_SLACK;
}

static inline uint32_t load32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Hash of the first min bytes at p (min 4..8; 8 bytes are readable at p). */
static inline uint32_t hash_at(const uint8_t *p, unsigned min) {
    if (min == 4) return (load32(p) * 0x9E3779B1u) >> (32 - HASH_BITS);
    return (uint32_t)(((load64(p) << (64 - 8 * min)) * 0x9E3779B97F4A7C15ull) >> (64 - HASH_BITS));
}

/* Literal src[0..len), 1 <= len <= FRAG_SIZE. wide: 16 bytes at src are readable. */
static inline uint8_t *emit_literal(uint8_t *op, const uint8_t *src, size_t len, bool wide) {
    size_t n = len - 1;
    if (n < 60) {
        *op++ = (uint8_t)(n << 2);
        if (wide && len <= 16) {
            memcpy(op, src, 16); /* the output bound has OUT_SLACK bytes past the end */
            return op + len;
        }
    } else if (n < 256) {
        op[0] = 60 << 2;
        op[1] = (uint8_t)n;
        op += 2;
    } else { /* a literal never exceeds a fragment: n < 65536 */
        op[0] = 61 << 2;
        op[1] = (uint8_t)n;
        op[2] = (uint8_t)(n >> 8);
        op += 3;
    }
    memcpy(op, src, len);
    return op + len;
}

/* One copy element, 4 <= len <= 64, 1 <= off < 65536. */
static inline uint8_t *emit_copy_upto64(uint8_t *op, size_t off, size_t len) {
    if (len <= 11 && off < 2048) {
        op[0] = (uint8_t)(1 | ((len - 4) << 2) | ((off >> 8) << 5));
        op[1] = (uint8_t)off;
        return op + 2;
    }
    op[0] = (uint8_t)(2 | ((len - 1) << 2));
    op[1] = (uint8_t)off;
    op[2] = (uint8_t)(off >> 8);
    return op + 3;
}

/* A match of any length >= 4: copies of 64, then the rest (never a piece shorter than 4). */
static inline uint8_t *emit_copy(uint8_t *op, size_t off, size_t len) {
    while (len >= 68) {
        op = emit_copy_upto64(op, off, 64);
        len -= 64;
    }
    if (len > 64) { /* 65..67: 60 now leaves 5..7 */
        op = emit_copy_upto64(op, off, 60);
        len -= 60;
    }
    return emit_copy_upto64(op, off, len);
}

/* Length of the common prefix of s and t, s < t, reading no byte at or past end. */
static inline size_t match_len(const uint8_t *s, const uint8_t *t, const uint8_t *end) {
    const uint8_t *t0 = t;
    while (t + 8 <= end) {
        uint64_t x = load64(s) ^ load64(t);
        if (x) return (size_t)(t - t0) + ((unsigned)__builtin_ctzll(x) >> 3);
        s += 8;
        t += 8;
    }
    while (t < end && *s == *t) {
        s++;
        t++;
    }
    return (size_t)(t - t0);
}

/* Compresses the fragment base[0..len) (len <= FRAG_SIZE) to op with matches of >= min bytes
 * and a probe step of step0 bytes growing by 1 every 2^shift misses (constants, inlined).
 * src_end: the end of the whole input (wide literal copies may read up to it). */
static inline __attribute__((always_inline)) uint8_t *
compress_fragment(const uint8_t *base, size_t len, const uint8_t *src_end, uint8_t *op,
                  uint16_t *table, const unsigned min, const uint32_t step0, const unsigned shift) {
    const uint8_t *end = base + len, *lit = base;
    if (len < 16) goto tail; /* too short to be worth a match */
    memset(table, 0, HASH_SIZE * sizeof *table);
    /* The last position probed: 8-byte loads fit. */
    const uint8_t *limit = end - 8;
    const uint8_t *ip = base + 1;
    const uint64_t mask = ~0ull >> (64 - 8 * min);
    for (;;) {
        /* Look for a match at ip. Every table entry is a position before ip (0 at first). */
        uint32_t misses = step0 << shift;
        const uint8_t *cand;
        for (;;) {
            uint32_t h = hash_at(ip, min);
            cand = base + table[h];
            table[h] = (uint16_t)(ip - base);
            if (((load64(cand) ^ load64(ip)) & mask) == 0 && cand < ip) break;
            ip += misses++ >> shift;
            if (CAV_UNLIKELY(ip > limit)) goto tail;
        }
        /* Extend backwards over the pending literal, then forwards. */
        while (ip > lit && cand > base && ip[-1] == cand[-1]) {
            ip--;
            cand--;
        }
        size_t m = min + match_len(cand + min, ip + min, end);
        if (ip > lit) op = emit_literal(op, lit, (size_t)(ip - lit), src_end - lit >= 16);
        op = emit_copy(op, (size_t)(ip - cand), m);
        ip += m;
        lit = ip;
        if (ip > limit) break;
        /* Seed the table with the two positions before the new ip, so a repeat of what was
         * just matched is found at once. */
        table[hash_at(ip - 2, min)] = (uint16_t)(ip - 2 - base);
        table[hash_at(ip - 1, min)] = (uint16_t)(ip - 1 - base);
    }
tail:
    if (lit < end) op = emit_literal(op, lit, (size_t)(end - lit), src_end - lit >= 16);
    return op;
}

/* The thorough mode: libsnappy on the rest of the input, its output moved over its length
 * preamble. libsnappy too compresses 64 KiB fragments on their own: its offsets point inside
 * that input, so its elements stand as they are after ours. */
static uint8_t *libsnappy_rest(const uint8_t *base, size_t len, uint8_t *op, size_t room) {
    size_t got = room;
    if (sn.snappy_compress((const char *)base, len, (char *)op, &got) != SNAPPY_OK) return NULL;
    size_t pre = 1;
    while (pre < got && (op[pre - 1] & 128))
        pre++;
    memmove(op, op + pre, got - pre);
    return op + (got - pre);
}

size_t cav_snappy_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap) {
    assert(cap >= cav_snappy_bound(n));
    uint8_t *dst_end = dst + cap;
    uint8_t *op = dst;
    uint64_t v = n;
    while (v >= 128) {
        *op++ = (uint8_t)(v | 128);
        v >>= 7;
    }
    *op++ = (uint8_t)v;
    uint16_t table[HASH_SIZE];
    const uint8_t *end = src + n;
    for (size_t at = 0; at < n; at += FRAG_SIZE) {
        size_t len = n - at < FRAG_SIZE ? n - at : FRAG_SIZE;
        uint8_t *o = op;
        op = compress_fragment(src + at, len, end, o, table, FAST_MIN, FAST_STEP0, FAST_SHIFT);
        if ((size_t)(op - o) * 64 < len * FAST_LEAVE && n - at > len) {
            /* this data repeats: libsnappy for the rest, if it gets the room it asks for
             * (cav_snappy_bound keeps it) */
            size_t rest = n - at - len;
            if (cav_snappy_load(NULL) == CSVAVRO_OK &&
                (size_t)(dst_end - op) >= sn.snappy_max_compressed_length(rest)) {
                uint8_t *done = libsnappy_rest(src + at + len, rest, op, (size_t)(dst_end - op));
                if (done) return (size_t)(done - dst);
            }
        }
    }
    return (size_t)(op - dst);
}
