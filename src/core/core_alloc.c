/*
 * core_alloc.c — the library allocator.
 *
 * Every allocation of the library passes here so that the failing-allocation test can make
 * the n-th one fail and check that each run ends in a clean error (tests/check_layers.py
 * rejects raw malloc/calloc/realloc/strdup/free anywhere else in src/). What the library hands
 * to a caller is released with csvavro_free(). The counter is atomic so
 * that threaded runs stay well-defined; when injection is off it costs one relaxed load.
 */
#include "core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t alloc_count;
static _Atomic uint64_t fail_at; /* absolute allocation number to fail, 0 = never */
static atomic_int env_read;

static void read_env(void) {
    if (atomic_load_explicit(&env_read, memory_order_acquire)) return;
    const char *s = getenv("CSVAVRO_FAIL_ALLOC");
    uint64_t n = 0;
    if (s && cav_parse_u64(s, &n) && n > 0) atomic_store(&fail_at, n);
    atomic_store_explicit(&env_read, 1, memory_order_release);
}

static bool should_fail(void) {
    read_env();
    uint64_t f = atomic_load_explicit(&fail_at, memory_order_relaxed);
    uint64_t c = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;
    return f != 0 && c == f;
}

uint64_t cav_alloc_fail_after(uint64_t n) {
    read_env();
    uint64_t c = atomic_exchange(&alloc_count, 0);
    atomic_store(&fail_at, n);
    return c;
}

void *cav_malloc(size_t n) {
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *cav_calloc(size_t count, size_t size) {
    if (should_fail()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *cav_realloc(void *p, size_t n) {
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void cav_free(void *p) {
    free(p);
}

void csvavro_free(void *p) {
    free(p);
}

char *cav_strndup(const char *s, size_t n) {
    char *d = cav_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *cav_strdup(const char *s) {
    return cav_strndup(s, strlen(s));
}

void *cav_mutex_new(void) {
    pthread_mutex_t *m = cav_malloc(sizeof *m);
    if (m && pthread_mutex_init(m, NULL) != 0) {
        cav_free(m);
        return NULL;
    }
    return m;
}

int cav_mutex_lock(void *m) {
    return pthread_mutex_lock(m) ? -1 : 0;
}

int cav_mutex_unlock(void *m) {
    return pthread_mutex_unlock(m) ? -1 : 0;
}

void cav_mutex_free(void *m) {
    if (!m) return;
    pthread_mutex_destroy(m);
    cav_free(m);
}
