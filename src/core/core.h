/*
 * core.h — internal foundation shared by every module: error helpers, the allocator (with a
 * fault-injection hook for the failing-allocation tests), growable byte buffers with ceilings,
 * CPU feature detection and small utilities.
 *
 * Invariants: nothing here keeps global mutable state except the allocation-failure counter
 * (test-only) and the cached CPUID result (computed once, read-only afterwards).
 */
#ifndef CAV_CORE_H
#define CAV_CORE_H

#include "csvavro.h"

#include <assert.h> /* invariants: kept in every build type (docs/ARCHITECTURE.md) */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CAV_LIKELY(x) __builtin_expect(!!(x), 1)
#define CAV_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define CAV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CAV_LIKELY(x) (x)
#define CAV_UNLIKELY(x) (x)
#define CAV_PRINTF(a, b)
#endif

#define CAV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CAV_MAX(a, b) ((a) > (b) ? (a) : (b))
#define CAV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- errors */

/* Sets status and message (printf-style); keeps the other fields of e as they are.
 * e may be NULL. Returns status so that `return cav_err(e, ...)` reads naturally. */
csvavro_status cav_err(csvavro_error *e, csvavro_status status, const char *fmt, ...)
    CAV_PRINTF(3, 4);
csvavro_status cav_verr(csvavro_error *e, csvavro_status status, const char *fmt, va_list ap)
    CAV_PRINTF(3, 0);

/* Prepends context to an existing message: "split 12 of trip.csv: <old message>". */
void cav_err_prefix(csvavro_error *e, const char *fmt, ...) CAV_PRINTF(2, 3);

/* Setters for the location fields (no-ops when e is NULL). Values are copied and made
 * printable (control bytes and invalid UTF-8 escaped as \xNN), truncated to fit. */
void cav_err_path(csvavro_error *e, const char *path);
void cav_err_value(csvavro_error *e, const char *value, size_t len);
void cav_err_column(csvavro_error *e, int32_t column, const char *name);

/* Sets status from errno with "what: strerror" and the path. */
csvavro_status cav_err_errno(csvavro_error *e, int errnum, const char *path, const char *what);

/* Return early on failure; propagates the status. */
#define CAV_TRY(expr)                                                                              \
    do {                                                                                           \
        csvavro_status cav_try_s_ = (expr);                                                        \
        if (CAV_UNLIKELY(cav_try_s_ != CSVAVRO_OK)) return cav_try_s_;                             \
    } while (0)

#define CAV_RETURN_IF(cond, err, status, ...)                                                      \
    do {                                                                                           \
        if (CAV_UNLIKELY(cond)) return cav_err((err), (status), __VA_ARGS__);                      \
    } while (0)

/* ---------------------------------------------------------------- allocation */

/* All library allocations go through these, so that tests can fail the n-th one.
 * They return NULL on failure (never abort). */
void *cav_malloc(size_t n);
void *cav_calloc(size_t count, size_t size);
void *cav_realloc(void *p, size_t n);
void cav_free(void *p);
char *cav_strdup(const char *s);
char *cav_strndup(const char *s, size_t n);

/* Heap-allocated pthread mutexes behind void pointers, for libraries that take mutex hooks
 * (Cyrus SASL's sasl_set_mutex, client and test server): lock/unlock return 0, or -1 (Cyrus's
 * SASL_FAIL) on failure. cav_mutex_new returns NULL when out of memory. */
void *cav_mutex_new(void);
int cav_mutex_lock(void *m);
int cav_mutex_unlock(void *m);
void cav_mutex_free(void *m);

/* Test hook: make the n-th allocation from now on fail (1 = the next one); 0 disables.
 * Returns how many allocations happened since the last call (for enumerating n).
 * Also read once from the environment variable CSVAVRO_FAIL_ALLOC=N at first use. */
uint64_t cav_alloc_fail_after(uint64_t n);

/* ---------------------------------------------------------------- byte buffers */

/* A growable byte buffer with a hard ceiling (max == 0 means SIZE_MAX). Growth past max fails
 * with CSVAVRO_E_LIMIT. Memory is reused: cav_buf_reset keeps the allocation. */
typedef struct cav_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
} cav_buf;

void cav_buf_init(cav_buf *b, size_t max);
void cav_buf_free(cav_buf *b);
static inline void cav_buf_reset(cav_buf *b) {
    b->len = 0;
}
/* Ensures room for `extra` more bytes (plus 64 bytes of zeroed-allowed padding for SIMD). */
csvavro_status cav_buf_reserve(cav_buf *b, size_t extra, csvavro_error *err);
csvavro_status cav_buf_append(cav_buf *b, const void *p, size_t n, csvavro_error *err);
csvavro_status cav_buf_append_str(cav_buf *b, const char *s, csvavro_error *err);
csvavro_status cav_buf_printf(cav_buf *b, csvavro_error *err, const char *fmt, ...)
    CAV_PRINTF(3, 4);

/* ---------------------------------------------------------------- CPU features */

enum {
    CAV_CPU_SSE2 = 1u << 0,
    CAV_CPU_SSE42 = 1u << 1,
    CAV_CPU_AVX2 = 1u << 2,
    CAV_CPU_PCLMUL = 1u << 3,
    CAV_CPU_BMI2 = 1u << 4,
    CAV_CPU_AVX512BW = 1u << 5,
    CAV_CPU_POPCNT = 1u << 6,
    CAV_CPU_BMI1 = 1u << 7,
    CAV_CPU_AVX512VBMI2 = 1u << 8, /* AVX512_VBMI2, and AVX-512BW with it */
    CAV_CPU_VPCLMUL = 1u << 9      /* VPCLMULQDQ on 512-bit registers (with AVX-512F) */
};
/* Bit set of the features above, detected once by CPUID (and OS support for AVX state). */
uint32_t cav_cpu_features(void);

/* ---------------------------------------------------------------- misc */

/* Monotonic clock in nanoseconds. */
uint64_t cav_now_ns(void);
/* Wall clock in milliseconds since the epoch. */
int64_t cav_wall_ms(void);
/* Number of online CPUs (>= 1). */
int cav_cpu_count(void);
/* Fills out with n random bytes from the OS (getrandom). */
csvavro_status cav_random_bytes(void *out, size_t n, csvavro_error *err);
/* Parses a size like "64M", "4MiB", "1048576", "1G". Returns false on syntax errors. */
bool cav_parse_size(const char *s, uint64_t *out);
/* Parses a non-negative decimal integer (whole string). */
bool cav_parse_u64(const char *s, uint64_t *out);
/* Validates UTF-8; returns the byte index of the first invalid sequence, or len if valid. */
size_t cav_utf8_check(const uint8_t *p, size_t len);
/* SplitMix64: deterministic 64-bit mixing, for seeded sync markers and the generator. */
static inline uint64_t cav_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif /* CAV_CORE_H */
