/*
 * core_varint.h — the one unsigned LEB128 varint of csvavro (7 bits a byte, low groups first,
 * high bit = more), as Avro (src/avro, with zigzag on top) and protobuf (src/hdfs) both write
 * it. Inline: the Avro writer and reader call it per value.
 */
#ifndef CAV_CORE_VARINT_H
#define CAV_CORE_VARINT_H

#include <stdbool.h>
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

#endif /* CAV_CORE_VARINT_H */
