/*
 * test_core_dl.c — the loader of optional libraries (src/core/core_dl.h) on zlib, which every
 * build has: 8 threads load the same table at once and each computes CRC-32s through it,
 * checked against a bitwise CRC-32 written here (the independent expectation) and the table's
 * pointers against the linked functions; a library that does not exist and a symbol the
 * library lacks fail with "<what> needs <soname>: <the loader's reason>", the same message on
 * every call. Also run under ThreadSanitizer (test_core_dl_tsan).
 */
#include "check.h"
#include "core/core_dl.h"

#include <pthread.h>
#include <zlib.h>

/* declared, never defined anywhere: its lookup must fail */
int cav_test_no_such_symbol(void);

#define Z_FUNCS(X) X(zlibVersion) X(crc32)
struct z_api {
    Z_FUNCS(CAV_DL_FIELD)
};
#define Z_SYM(f) CAV_DL_SYM(struct z_api, f)
static const cav_dl_sym z_syms[] = {Z_FUNCS(Z_SYM)};
static struct z_api zt;
static cav_dl_lib z_lib = CAV_DL_LIB("libz.so.1", 0, z_syms, &zt);

static uint32_t bitwise_crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void *worker(void *arg) {
    uintptr_t seed = (uintptr_t)arg;
    csvavro_error err = {0};
    if (cav_dl_load(&z_lib, "zlib test", &err) != CSVAVRO_OK) return (void *)1;
    uint8_t buf[257];
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)(seed * 31 + (size_t)round * 7 + i * i);
        size_t n = (size_t)round * 5 % sizeof buf;
        if ((uint32_t)zt.crc32(0, buf, (uInt)n) != bitwise_crc32(buf, n)) return (void *)2;
    }
    return NULL;
}

static void test_threads(void) {
    pthread_t t[8];
    for (uintptr_t i = 0; i < 8; i++)
        CHECK_INT(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 8; i++) {
        void *r = (void *)9;
        CHECK_INT(pthread_join(t[i], &r), 0);
        CHECK(r == NULL);
    }
    /* the table holds the very functions the linker resolved */
    CHECK(zt.crc32 == crc32);
    CHECK(zt.zlibVersion == zlibVersion);
    CHECK_STR(zt.zlibVersion(), ZLIB_VERSION);
    CHECK_INT(bitwise_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u); /* the check value */
}

#define NONE_FUNCS(X) X(zlibVersion)
struct none_api {
    NONE_FUNCS(CAV_DL_FIELD)
};
#define NONE_SYM(f) CAV_DL_SYM(struct none_api, f)
static const cav_dl_sym none_syms[] = {NONE_FUNCS(NONE_SYM)};
static struct none_api nt;
static cav_dl_lib none_lib = CAV_DL_LIB("libcsvavro-test-no-such-library.so.0", 0, none_syms, &nt);

#define BAD_FUNCS(X) X(zlibVersion) X(cav_test_no_such_symbol)
struct bad_api {
    BAD_FUNCS(CAV_DL_FIELD)
};
#define BAD_SYM(f) CAV_DL_SYM(struct bad_api, f)
static const cav_dl_sym bad_syms[] = {BAD_FUNCS(BAD_SYM)};
static struct bad_api bt;
static cav_dl_lib bad_lib = CAV_DL_LIB("libz.so.1", 0, bad_syms, &bt);

static void test_failures(void) {
    char first[512];
    for (int i = 0; i < 2; i++) {
        csvavro_error err = {0};
        CHECK_INT(cav_dl_load(&none_lib, "the test feature", &err), CSVAVRO_E_UNSUPPORTED);
        CHECK_INT(err.status, CSVAVRO_E_UNSUPPORTED);
        const char *want = "the test feature needs libcsvavro-test-no-such-library.so.0: "
                           "libcsvavro-test-no-such-library.so.0: cannot open shared object file";
        CHECK(!strncmp(err.message, want, strlen(want)));
        if (i == 0)
            snprintf(first, sizeof first, "%s", err.message);
        else
            CHECK_STR(err.message, first);
    }
    csvavro_error err = {0};
    CHECK_INT(cav_dl_load(&bad_lib, "another feature", &err), CSVAVRO_E_UNSUPPORTED);
    const char *want = "another feature needs libz.so.1: ";
    CHECK(!strncmp(err.message, want, strlen(want)));
    CHECK(strstr(err.message, "undefined symbol: cav_test_no_such_symbol") != NULL);
    /* NULL err: the status alone */
    CHECK_INT(cav_dl_load(&bad_lib, "another feature", NULL), CSVAVRO_E_UNSUPPORTED);
}

int main(void) {
    CHECK_RUN(test_threads());
    CHECK_RUN(test_failures());
    return CHECK_DONE();
}
