/*
 * core_varint.h — the one unsigned LEB128 varint of csvavro (7 bits a byte, low groups first,
 * high bit = more), as Avro (src/avro, with zigzag on top) and protobuf (src/hdfs) both write
 * it. Inline: the Avro writer and reader call it per value.
 */
#ifndef CAV_CORE_VARINT_H
#define CAV_CORE_VARINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the varint of u (1..10). */
static inline unsigned cav_varint_len(uint64_t u) {
    /* bits needed / 7, rounded up; u|1 makes clz defined for 0. */
    unsigned bits = 64u - (unsigned)__builtin_clzll(u | 1);
    return (bits + 6) / 7;
}

/* Writes the varint of u at p; returns the byte count. */
static inline unsigned cav_varint_put(uint8_t *p, uint64_t u) {
    unsigned n = 0;
    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

/* Reads a varint from [*p, end). Returns false on truncation or more than 10 bytes. */
static inline bool cav_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    const uint8_t *q = *p;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (q >= end) return false;
        uint8_t c = *q++;
        if (shift == 63 && (c & 0x7e)) return false; /* overflows 64 bits */
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *p = q;
            *out = v;
            return true;
        }
    }
    return false;
}

/* Hadoop's WritableUtils vlong (token files and identifiers, src/hdfs and csvavro-hdfsd): one
 * byte for -112..127, else a length byte (-113..-120 positive, -121..-128 negative, the ones'
 * complement) followed by 1..8 big-endian bytes. p needs room for 9 bytes. */
static inline size_t cav_hadoop_vlong_put(uint8_t *p, int64_t v) {
    if (v >= -112 && v <= 127) {
        p[0] = (uint8_t)(int8_t)v;
        return 1;
    }
    int len = -112;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        u = ~u;
        len = -120;
    }
    int n = 0;
    for (uint64_t t = u; t; t >>= 8)
        n++;
    p[0] = (uint8_t)(int8_t)(len - n);
    for (int i = 0; i < n; i++)
        p[1 + i] = (uint8_t)(u >> (8 * (n - 1 - i)));
    return (size_t)n + 1;
}

/* Reads a WritableUtils vlong from [*p, end). Returns false on truncation or a bad length. */
static inline bool cav_hadoop_vlong_get(const uint8_t **p, const uint8_t *end, int64_t *v) {
    if (*p >= end) return false;
    int8_t first = (int8_t) * (*p)++;
    if (first >= -112) {
        *v = first;
        return true;
    }
    bool neg = first < -120;
    int n = neg ? -(first + 120) : -(first + 112);
    if (n < 1 || n > 8 || end - *p < n) return false;
    uint64_t u = 0;
    for (int i = 0; i < n; i++)
        u = (u << 8) | *(*p)++;
    *v = (int64_t)(neg ? ~u : u);
    return true;
}

#endif /* CAV_CORE_VARINT_H */
