/*
 * check.h — the tiny assert header of the unit tests. Each check prints both values and the
 * place on failure and counts failures; CHECK_MAIN's return value fails the test.
 */
#ifndef CAV_CHECK_H
#define CAV_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long ca_ = (long long)(a), cb_ = (long long)(b);                                      \
        check_count++;                                                                             \
        if (ca_ != cb_) {                                                                          \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    ca_, cb_);                                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_DBL(a, b)                                                                            \
    do {                                                                                           \
        double ca_ = (double)(a), cb_ = (double)(b);                                               \
        check_count++;                                                                             \
        if (!(ca_ == cb_ || (ca_ != ca_ && cb_ != cb_))) {                                         \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: %.17g != %.17g\n", __FILE__, __LINE__, #a,    \
                    #b, ca_, cb_);                                                                 \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *ca_ = (a), *cb_ = (b);                                                         \
        check_count++;                                                                             \
        if (!ca_ || !cb_ || strcmp(ca_, cb_) != 0) {                                               \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,  \
                    #b, ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");                               \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(a, alen, b, blen)                                                                \
    do {                                                                                           \
        size_t cal_ = (size_t)(alen), cbl_ = (size_t)(blen);                                       \
        check_count++;                                                                             \
        if (cal_ != cbl_ || memcmp((a), (b), cal_) != 0) {                                         \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%.*s\" != \"%.*s\"\n", __FILE__, __LINE__,  \
                    #a, #b, (int)cal_, (const char *)(a), (int)cbl_, (const char *)(b));           \
        }                                                                                          \
    } while (0)

/* Checks that a call returned CSVAVRO_OK and prints the error otherwise. */
#define CHECK_OK(call, errp)                                                                       \
    do {                                                                                           \
        csvavro_status cs_ = (call);                                                               \
        check_count++;                                                                             \
        if (cs_ != CSVAVRO_OK) {                                                                   \
            char cb_[2048];                                                                        \
            csvavro_error_format((errp), cb_, sizeof cb_);                                         \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #call,               \
                    csvavro_status_name(cs_), cb_);                                                \
        }                                                                                          \
    } while (0)

#define CHECK_DONE()                                                                               \
    (fprintf(stderr, "%d checks, %d failures\n", check_count, check_failures),                     \
     check_failures ? 1 : 0)

#endif
