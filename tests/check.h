/*
 * check.h — the tiny assert header of the unit tests. Each check prints both values and the
 * place on failure and counts failures; CHECK_DONE's return value fails the test. A test
 * function run by CHECK_RUN stops at its first failed check (the next one still runs), so a
 * failure is not followed by checks on state it already broke.
 */
#ifndef CAV_CHECK_H
#define CAV_CHECK_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;
/* Where a failed check jumps to: set by CHECK_RUN in the thread that runs the test function
 * (checks in other threads only count). */
static _Thread_local jmp_buf *check_stop;

#define CHECK_STOP()                                                                               \
    do {                                                                                           \
        if (check_stop) longjmp(*check_stop, 1);                                                   \
    } while (0)

/* Runs the test function call `call` (e.g. CHECK_RUN(test_dates())); its first failed check
 * ends it. */
#define CHECK_RUN(call)                                                                            \
    do {                                                                                           \
        jmp_buf cj_;                                                                               \
        if (setjmp(cj_) == 0) {                                                                    \
            check_stop = &cj_;                                                                     \
            call;                                                                                  \
        } else {                                                                                   \
            fprintf(stderr, "%s: stopped at its first failed check\n", #call);                     \
        }                                                                                          \
        check_stop = NULL;                                                                         \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            CHECK_STOP();                                                                          \
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
            CHECK_STOP();                                                                          \
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
            CHECK_STOP();                                                                          \
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
            CHECK_STOP();                                                                          \
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
            CHECK_STOP();                                                                          \
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
            CHECK_STOP();                                                                          \
        }                                                                                          \
    } while (0)

#define CHECK_DONE()                                                                               \
    (fprintf(stderr, "%d checks, %d failures\n", check_count, check_failures),                     \
     check_failures ? 1 : 0)

#endif
