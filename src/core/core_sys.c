/*
 * core_sys.c — CPU feature detection, clocks, randomness and small parsers.
 *
 * CPUID is read once; AVX2/AVX-512 also need the OS to save their register state (XGETBV),
 * which is checked before the bits are reported.
 */
#include "core.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
static uint32_t detect(void) {
    uint32_t f = 0, a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (d & (1u << 26)) f |= CAV_CPU_SSE2;
    if (c & (1u << 20)) f |= CAV_CPU_SSE42;
    if (c & (1u << 1)) f |= CAV_CPU_PCLMUL;
    if (c & (1u << 23)) f |= CAV_CPU_POPCNT;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    uint64_t xcr0 = 0;
    if (osxsave) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((uint64_t)hi << 32) | lo;
    }
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (avx && (xcr0 & 6) == 6 && (b & (1u << 5))) f |= CAV_CPU_AVX2;
        if (b & (1u << 3)) f |= CAV_CPU_BMI1;
        if (b & (1u << 8)) f |= CAV_CPU_BMI2;
        bool avx512 = (xcr0 & 0xe6) == 0xe6; /* the OS saves the AVX-512 state */
        if (avx512 && (b & (1u << 30))) f |= CAV_CPU_AVX512BW;
        if (avx512 && (b & (1u << 30)) && (c & (1u << 6))) f |= CAV_CPU_AVX512VBMI2;
        if (avx512 && (b & (1u << 16)) && (c & (1u << 10))) f |= CAV_CPU_VPCLMUL;
    }
    return f;
}
#else
static uint32_t detect(void) {
    return 0;
}
#endif

static _Atomic uint32_t cpu_cached; /* bit 31 marks "computed" */

uint32_t cav_cpu_features(void) {
    uint32_t v = atomic_load_explicit(&cpu_cached, memory_order_relaxed);
    if (!(v & 0x80000000u)) {
        v = detect() | 0x80000000u;
        atomic_store_explicit(&cpu_cached, v, memory_order_relaxed);
    }
    return v & 0x7fffffffu;
}

uint64_t cav_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t cav_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cav_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

csvavro_status cav_random_bytes(void *out, size_t n, csvavro_error *err) {
    uint8_t *p = out;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return cav_err_errno(err, errno, NULL, "getrandom");
        }
        p += r;
        n -= (size_t)r;
    }
    return CSVAVRO_OK;
}

bool cav_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool cav_parse_size(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    uint64_t v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9') return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    uint64_t mul = 1;
    switch (*p) {
    case '\0':
        break;
    case 'k':
    case 'K':
        mul = 1ull << 10;
        p++;
        break;
    case 'm':
    case 'M':
        mul = 1ull << 20;
        p++;
        break;
    case 'g':
    case 'G':
        mul = 1ull << 30;
        p++;
        break;
    case 't':
    case 'T':
        mul = 1ull << 40;
        p++;
        break;
    case 'b':
    case 'B':
        p++;
        break;
    default:
        return false;
    }
    if (mul > 1) {
        if (*p == 'i' && p[1] == 'B')
            p += 2;
        else if (*p == 'B' || *p == 'b')
            p++;
    }
    if (*p) return false;
    if (v > UINT64_MAX / mul) return false;
    *out = v * mul;
    return true;
}

size_t cav_utf8_check(const uint8_t *p, size_t len) {
    size_t i = 0;
    while (i < len) {
        /* fast path: 8 ASCII bytes at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= len) break;
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else
            return i;
        if (i + n > len) return i;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += n;
    }
    return len;
}
