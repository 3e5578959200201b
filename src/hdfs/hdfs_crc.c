/*
 * hdfs_crc.c — the two checksums HDFS stores per 512-byte chunk: CRC32C (Castagnoli, what
 * Hadoop 2+ and csvavro write) and CRC32 (zlib's polynomial, what the Go client writes).
 *
 * CRC32C uses the SSE4.2 `crc32` instruction when cav_cpu_features() reports it (chosen once,
 * at run time; the function carries __attribute__((target("sse4.2"))) so the rest of the
 * build stays baseline x86-64), else a slicing-by-8 table built on first use. CRC32 is zlib's.
 * Both take and return the finished value (init and final xor inside), so crc(crc(a), b) ==
 * crc(a‖b).
 *
 * Chunked sums (HDFS packets: one CRC per 512-byte chunk) are independent, so the hardware path
 * runs three chunks at once: the `crc32` instruction has a latency of about three cycles and a
 * throughput of one per cycle, and one chunk alone is a single dependency chain that leaves
 * two thirds of it idle.
 */
#include "hdfs.h"

#include <pthread.h>
#include <string.h>
#include <zlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <nmmintrin.h>
#define CAV_HAVE_SSE42_PATH 1
#endif

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
}

uint32_t cav_crc32c_sw(uint32_t crc, const void *data, size_t n) {
    pthread_once(&table_once, table_init);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (n && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
        n--;
    }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= c; /* little-endian host assumed (x86/arm64) */
        c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^
            table[4][lo >> 24] ^ table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^
            table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
    return ~c;
}

#ifdef CAV_HAVE_SSE42_PATH
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *data,
                                                            size_t n) {
    const uint8_t *p = data;
    uint64_t c = (uint32_t)~crc;
    while (n && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    while (n--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
/* The CRC32C of three chunks of n bytes each, at p, p + stride and p + 2 * stride. */
__attribute__((target("sse4.2"))) static void crc32c_hw_x3(const uint8_t *p, size_t stride,
                                                           size_t n, uint32_t out[3]) {
    const uint8_t *a = p, *b = p + stride, *c = p + 2 * stride;
    uint64_t ca = 0xFFFFFFFFu, cb = 0xFFFFFFFFu, cc = 0xFFFFFFFFu;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t va, vb, vc;
        memcpy(&va, a + i, 8);
        memcpy(&vb, b + i, 8);
        memcpy(&vc, c + i, 8);
        ca = _mm_crc32_u64(ca, va);
        cb = _mm_crc32_u64(cb, vb);
        cc = _mm_crc32_u64(cc, vc);
    }
    for (; i < n; i++) {
        ca = _mm_crc32_u8((uint32_t)ca, a[i]);
        cb = _mm_crc32_u8((uint32_t)cb, b[i]);
        cc = _mm_crc32_u8((uint32_t)cc, c[i]);
    }
    out[0] = ~(uint32_t)ca;
    out[1] = ~(uint32_t)cb;
    out[2] = ~(uint32_t)cc;
}
#endif

#ifdef CAV_HAVE_SSE42_PATH
/* The CRC32C of eight chunks of n bytes each (n a multiple of 16, at least 32), at p, p +
 * stride, ... p + 7 * stride, with VPCLMULQDQ: each 128-bit lane of two registers holds one
 * chunk's state, folded 16 bytes at a time (state = lo * K1 + hi * K2 + next 16 bytes,
 * carry-less: congruent to the state times x^128 modulo the polynomial), then the 128 bits
 * left are run through the crc32 instruction. K1 and K2 were solved for over GF(2) so that the
 * fold keeps the CRC of what was read (bench/RESULTS.md, issue 17, session 5) and are checked
 * against the table-driven CRC in test_hdfs. The crc32 instruction alone does 8 bytes per
 * cycle at best, three chunks at a time; this does two 64-byte folds per step. */
#define CRC32C_K1 0x3743f7bd00000000ull
#define CRC32C_K2 0x3171d43000000000ull
__attribute__((target("avx512f,vpclmulqdq,sse4.2"))) static inline __m512i ld4(const uint8_t *p,
                                                                               size_t stride) {
    __m512i z = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p));
    z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + stride)), 1);
    z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + 2 * stride)), 2);
    return _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + 3 * stride)), 3);
}
__attribute__((target("avx512f,vpclmulqdq,sse4.2"))) static void
crc32c_clmul_x8(const uint8_t *p, size_t stride, size_t n, uint32_t out[8]) {
    const __m512i k = _mm512_set_epi64(
        (long long)CRC32C_K2, (long long)CRC32C_K1, (long long)CRC32C_K2, (long long)CRC32C_K1,
        (long long)CRC32C_K2, (long long)CRC32C_K1, (long long)CRC32C_K2, (long long)CRC32C_K1);
    /* the initial CRC (all ones) goes into each chunk's first four bytes */
    const __m512i init =
        _mm512_set_epi64(0, 0xFFFFFFFF, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF);
    const uint8_t *q = p + 4 * stride;
    __m512i a = _mm512_xor_si512(ld4(p, stride), init), b = _mm512_xor_si512(ld4(q, stride), init);
    for (size_t off = 16; off < n; off += 16) {
        a = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(a, k, 0x00),
                                      _mm512_clmulepi64_epi128(a, k, 0x11), ld4(p + off, stride),
                                      0x96);
        b = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(b, k, 0x00),
                                      _mm512_clmulepi64_epi128(b, k, 0x11), ld4(q + off, stride),
                                      0x96);
    }
    uint64_t v[16];
    _mm512_storeu_si512((void *)v, a);
    _mm512_storeu_si512((void *)(v + 8), b);
    for (int i = 0; i < 8; i++)
        out[i] = ~(uint32_t)_mm_crc32_u64(_mm_crc32_u64(0, v[2 * i]), v[2 * i + 1]);
}

/* cav_cpu_features() is itself computed once */
static int have_clmul(void) {
    const uint32_t want = CAV_CPU_SSE42 | CAV_CPU_VPCLMUL;
    return (cav_cpu_features() & want) == want;
}
#endif

static int have_hw(void) {
#ifdef CAV_HAVE_SSE42_PATH
    static int have = -1; /* benign race: every thread computes the same value */
    int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
    if (h < 0) {
        h = (cav_cpu_features() & CAV_CPU_SSE42) ? 1 : 0;
        __atomic_store_n(&have, h, __ATOMIC_RELAXED);
    }
    return h;
#else
    return 0;
#endif
}

uint32_t (*cav_crc32c_hw_fn(void))(uint32_t, const void *, size_t) {
#ifdef CAV_HAVE_SSE42_PATH
    if (cav_cpu_features() & CAV_CPU_SSE42) return crc32c_hw;
#endif
    return NULL;
}

uint32_t cav_crc32c(uint32_t crc, const void *p, size_t n) {
#ifdef CAV_HAVE_SSE42_PATH
    if (have_hw()) return crc32c_hw(crc, p, n);
#endif
    return cav_crc32c_sw(crc, p, n);
}

uint32_t cav_crc32(uint32_t crc, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) { /* zlib takes uInt lengths */
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, b, k);
        b += k;
        n -= k;
    }
    return crc;
}

static inline uint32_t sum_of(int type, const uint8_t *p, size_t n) {
    return type == CAV_HDFS_CSUM_CRC32 ? cav_crc32(0, p, n) : cav_crc32c(0, p, n);
}

long cav_hdfs_csum_verify(int type, uint32_t bpc, const uint8_t *data, size_t n,
                          const uint8_t *sums) {
    if (type == CAV_HDFS_CSUM_NULL) return -1;
    long i = 0;
    size_t off = 0;
#ifdef CAV_HAVE_SSE42_PATH
    if (type == CAV_HDFS_CSUM_CRC32C && bpc % 16 == 0 && bpc >= 32 && have_clmul())
        for (; n - off >= 8 * (size_t)bpc; off += 8 * (size_t)bpc, i += 8) {
            uint32_t c[8];
            crc32c_clmul_x8(data + off, bpc, bpc, c);
            for (int k = 0; k < 8; k++)
                if (c[k] != cav_be32_get(sums + 4 * (size_t)(i + k))) return i + k;
        }
    if (type == CAV_HDFS_CSUM_CRC32C && have_hw())
        for (; n - off >= 3 * (size_t)bpc; off += 3 * (size_t)bpc, i += 3) {
            uint32_t c[3];
            crc32c_hw_x3(data + off, bpc, bpc, c);
            for (int k = 0; k < 3; k++)
                if (c[k] != cav_be32_get(sums + 4 * (size_t)(i + k))) return i + k;
        }
#endif
    for (; off < n; off += bpc, i++) {
        size_t k = CAV_MIN((size_t)bpc, n - off);
        if (sum_of(type, data + off, k) != cav_be32_get(sums + 4 * (size_t)i)) return i;
    }
    return -1;
}

void cav_hdfs_csum_compute(int type, uint32_t bpc, const uint8_t *data, size_t n, uint8_t *sums) {
    size_t i = 0, off = 0;
#ifdef CAV_HAVE_SSE42_PATH
    if (type == CAV_HDFS_CSUM_CRC32C && bpc % 16 == 0 && bpc >= 32 && have_clmul())
        for (; n - off >= 8 * (size_t)bpc; off += 8 * (size_t)bpc, i += 8) {
            uint32_t c[8];
            crc32c_clmul_x8(data + off, bpc, bpc, c);
            for (int k = 0; k < 8; k++)
                cav_be32_put(sums + 4 * (i + (size_t)k), c[k]);
        }
    if (type == CAV_HDFS_CSUM_CRC32C && have_hw())
        for (; n - off >= 3 * (size_t)bpc; off += 3 * (size_t)bpc, i += 3) {
            uint32_t c[3];
            crc32c_hw_x3(data + off, bpc, bpc, c);
            for (int k = 0; k < 3; k++)
                cav_be32_put(sums + 4 * (i + (size_t)k), c[k]);
        }
#endif
    for (; off < n; off += bpc, i++) {
        size_t k = CAV_MIN((size_t)bpc, n - off);
        cav_be32_put(sums + 4 * i, sum_of(type, data + off, k));
    }
}
