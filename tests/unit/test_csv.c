/*
 * test_csv.c — unit tests of src/csv: typed value parsing (checked against libc's strtod and
 * timegm), inference rules and sampling, field-name mapping, typed column loading and the
 * on-error policy (fail / skip / reject lines / max-errors), limits, line numbers, and
 * allocation failures.
 */
#include "check.h"
#include "core/core_datetime.h"
#include "csv/csv.h"
#include "io/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S(x) x, strlen(x)

static char tmpdir[256];

static const char *write_file(const char *name, const char *data, size_t len) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

static void test_long(void) {
    int64_t v;
    bool ovf;
    CHECK(cav_parse_long(S("0"), &v) && v == 0);
    CHECK(cav_parse_long(S("-42"), &v) && v == -42);
    CHECK(cav_parse_long(S("+7"), &v) && v == 7);
    CHECK(cav_parse_long(S("9223372036854775807"), &v) && v == INT64_MAX);
    CHECK(cav_parse_long(S("-9223372036854775808"), &v) && v == INT64_MIN);
    CHECK(!cav_parse_long(S("9223372036854775808"), &v));
    CHECK(!cav_parse_long(S("-9223372036854775809"), &v));
    CHECK(!cav_parse_long(S("99999999999999999999999"), &v));
    CHECK(!cav_parse_long_ex(S("99999999999999999999999"), &v, &ovf) && ovf);
    CHECK(!cav_parse_long_ex(S("9999999999999999999999x"), &v, &ovf) && !ovf);
    CHECK(cav_parse_long(S("000000000000000000000000012"), &v) && v == 12);
    CHECK(!cav_parse_long(S(""), &v));
    CHECK(!cav_parse_long(S("-"), &v));
    CHECK(!cav_parse_long(S("1.0"), &v));
    CHECK(!cav_parse_long(S(" 1"), &v));
    CHECK(!cav_parse_long(S("1e3"), &v));
    /* against strtoll on random strings: digit runs of 1..24 (leading zeros, either sign, around
     * the int64 limits) and strings over [0-9+- x]: accepted exactly when strtoll consumes
     * the whole string without ERANGE (and no leading space), the same value; the overflow
     * flag exactly for an all-digit string out of range */
    uint64_t seed = 41;
    int mism = 0;
    for (int i = 0; i < 300000; i++) {
        char buf[32];
        size_t k = 0;
        uint64_t r = cav_splitmix64(&seed), r2 = cav_splitmix64(&seed);
        if (i & 1) {
            static const char alpha[] = "0123456789+- x9";
            size_t len = 1 + r % 22;
            for (size_t j = 0; j < len; j++, r2 = j % 8 ? r2 >> 4 : cav_splitmix64(&seed))
                buf[k++] = alpha[(r2 & 15) % (sizeof alpha - 1)];
        } else {
            if (r & 1) buf[k++] = (r & 2) ? '-' : '+';
            size_t digits = 1 + (r >> 8) % 24;
            if ((r >> 16) % 4 == 0) { /* near the limits: 922337203685477580x */
                const char *lim = "9223372036854775807";
                memcpy(buf + k, lim, 19);
                buf[k + 18] = (char)('0' + (r2 % 10));
                k += 19;
            } else {
                for (size_t j = 0; j < digits; j++, r2 /= 10)
                    buf[k++] = (char)('0' + (j < 3 && (r >> 24) % 3 == 0 ? 0 : r2 % 10));
            }
        }
        buf[k] = '\0';
        errno = 0;
        char *end;
        long long want = strtoll(buf, &end, 10);
        bool wok = end == buf + k && errno != ERANGE && buf[0] != ' ' && k > 0;
        bool alldig = true;
        size_t st = (buf[0] == '-' || buf[0] == '+') ? 1 : 0;
        for (size_t j = st; j < k; j++)
            alldig = alldig && buf[j] >= '0' && buf[j] <= '9';
        bool wovf = errno == ERANGE && alldig && k > st;
        int64_t got = 0, got2 = 0;
        bool ovf2, ok2 = cav_parse_long_ex(buf, k, &got2, &ovf2), ok = cav_parse_long(buf, k, &got);
        if (ok != wok || ok2 != wok || (ok && (got != want || got2 != want)) ||
            (!ok2 && ovf2 != wovf)) {
            if (mism++ < 5) fprintf(stderr, "  long '%s': %d %d ovf %d\n", buf, ok, ok2, ovf2);
        }
    }
    CHECK_INT(mism, 0);
}

static void test_double(void) {
    double d;
    CHECK(cav_parse_double(S("1.5"), &d) && d == 1.5);
    CHECK(cav_parse_double(S("-0"), &d) && d == 0 && signbit(d));
    CHECK(cav_parse_double(S("1e3"), &d) && d == 1000);
    CHECK(cav_parse_double(S("1E-3"), &d) && d == 1e-3);
    CHECK(cav_parse_double(S(".5"), &d) && d == 0.5);
    CHECK(cav_parse_double(S("5."), &d) && d == 5);
    CHECK(cav_parse_double(S("1.7976931348623157e308"), &d) && d == 1.7976931348623157e308);
    CHECK(cav_parse_double(S("4.9e-324"), &d) && d == 4.9e-324);
    CHECK(cav_parse_double(S("nan"), &d) && isnan(d));
    CHECK(cav_parse_double(S("NaN"), &d) && isnan(d));
    CHECK(cav_parse_double(S("-inf"), &d) && isinf(d) && d < 0);
    CHECK(cav_parse_double(S("Infinity"), &d) && isinf(d) && d > 0);
    CHECK(cav_parse_double(S("0.1"), &d) && d == 0.1);
    CHECK(cav_parse_double(S("-73.932302"), &d) && d == -73.932302);
    const char *bad[] = {"",   "1e", "1e+", "1.2.3", "0x10",   " 1",  "1 ", "--1",
                         "e5", ".",  "+",   "inf1",  "nan(1)", "1,5", "1d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!cav_parse_double(bad[i], strlen(bad[i]), &d));
        if (cav_parse_double(bad[i], strlen(bad[i]), &d))
            fprintf(stderr, "  accepted %s\n", bad[i]);
    }
    /* random decimals: bit-identical to strtod (fast path and slow path) */
    uint64_t seed = 7;
    char buf[64];
    int mism = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t r = cav_splitmix64(&seed);
        int digits = 1 + (int)(r % 19), point = (int)((r >> 8) % (digits + 1));
        int e = (int)((r >> 16) % 80) - 40;
        size_t k = 0;
        if (r >> 63) buf[k++] = '-';
        uint64_t r2 = cav_splitmix64(&seed);
        for (int j = 0; j < digits; j++) {
            if (j == point && j) buf[k++] = '.';
            buf[k++] = (char)('0' + (r2 % 10));
            r2 = r2 / 10 ? r2 / 10 : cav_splitmix64(&seed);
        }
        if ((r >> 24) & 1) k += (size_t)sprintf(buf + k, "e%d", e);
        buf[k] = '\0';
        double want = strtod(buf, NULL);
        if (!cav_parse_double(buf, k, &d) || memcmp(&d, &want, sizeof d) != 0) {
            if (mism++ < 5)
                fprintf(stderr, "  double mismatch on %s: %.17g vs %.17g\n", buf, d, want);
        }
    }
    CHECK_INT(mism, 0);
    /* the fast path's edges: 19/20-digit mantissas, leading zeros, 2^53 +- 1, 10^22 / 10^23,
     * subnormals, halfway cases: bit-identical to strtod */
    const char *edge[] = {"9007199254740992",
                          "9007199254740993",
                          "9007199254740991",
                          "-9007199254740993e3",
                          "1234567890123456789",
                          "12345678901234567890",
                          "1.234567890123456789",
                          "0.00000000000000000000000000001",
                          "0000000000000000000000000000123.5",
                          "000000000000000000001",
                          "1e22",
                          "1e23",
                          "9007199254740992e22",
                          "9007199254740993e-22",
                          "123456789e-22",
                          "123456789e-23",
                          "2.2250738585072011e-308",
                          "2.2250738585072014e-308",
                          "4.9406564584124654e-324",
                          "2.4703282292062327e-324",
                          "1.7976931348623158e308",
                          "9.999999999999999e22",
                          "0.30000000000000004",
                          "18446744073709551615",
                          "18446744073709551616",
                          "99999999999999999999999999",
                          "7.2057594037927933e16",
                          "1e0000",
                          "1e-0",
                          "+.5e+1"};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        double want = strtod(edge[i], NULL);
        bool ok = cav_parse_double(edge[i], strlen(edge[i]), &d);
        CHECK(ok && memcmp(&d, &want, sizeof d) == 0);
        if (!ok || memcmp(&d, &want, sizeof d) != 0)
            fprintf(stderr, "  double mismatch on %s: %.17g vs %.17g\n", edge[i], d, want);
    }
    /* random decimals up to 26 digits with leading zeros and wide exponents, and random strings
     * over [0-9.eE+-]: accepted exactly when strtod consumes the whole string, bit-identical */
    mism = 0;
    for (int i = 0; i < 300000; i++) {
        uint64_t r = cav_splitmix64(&seed), r2 = cav_splitmix64(&seed);
        size_t k = 0;
        if (i & 1) {
            static const char alpha[] = "0123456789.eE+-00112233..";
            size_t len = 1 + r % 12;
            for (size_t j = 0; j < len; j++, r2 >>= 5)
                buf[k++] = alpha[(r2 & 31) % (sizeof alpha - 1)];
        } else {
            if (r & 1) buf[k++] = (r & 2) ? '-' : '+';
            size_t zeros = (r >> 2) % 4 == 0 ? (r >> 4) % 8 : 0;
            size_t digits = 1 + (r >> 8) % 26, point = (r >> 16) % (digits + 2);
            for (size_t j = 0; j < zeros; j++)
                buf[k++] = '0';
            for (size_t j = 0; j < digits; j++) {
                if (j == point) buf[k++] = '.';
                buf[k++] = (char)('0' + r2 % 10);
                r2 = r2 / 10 ? r2 / 10 : cav_splitmix64(&seed);
            }
            if ((r >> 24) & 1) k += (size_t)sprintf(buf + k, "e%d", (int)((r >> 32) % 700) - 350);
        }
        buf[k] = '\0';
        char *end;
        double want = strtod(buf, &end);
        bool want_ok = end == buf + k, ok = cav_parse_double(buf, k, &d);
        if (ok != want_ok || (ok && memcmp(&d, &want, sizeof d) != 0)) {
            if (mism++ < 5)
                fprintf(stderr, "  double mismatch on '%s': %d %.17g vs %d %.17g\n", buf, ok, d,
                        want_ok, want);
        }
    }
    CHECK_INT(mism, 0);
    float f;
    CHECK(cav_parse_float(S("0.1"), &f) && f == 0.1f);
    CHECK(!cav_parse_float(S("x"), &f));
}

static void test_dates(void) {
    int32_t days;
    CHECK(cav_parse_date(S("1970-01-01"), &days) && days == 0);
    CHECK(cav_parse_date(S("1969-12-31"), &days) && days == -1);
    CHECK(cav_parse_date(S("2000-02-29"), &days));
    CHECK(!cav_parse_date(S("1900-02-29"), &days));
    CHECK(!cav_parse_date(S("2013-02-30"), &days));
    CHECK(!cav_parse_date(S("2013-13-01"), &days));
    CHECK(!cav_parse_date(S("2013-00-01"), &days));
    CHECK(!cav_parse_date(S("2013-1-01"), &days));
    CHECK(!cav_parse_date(S("2013-01-01 "), &days));
    /* every day from 1800 to 2200 against timegm */
    int mism = 0;
    for (int64_t t = -5364662400LL; t < 7258118400LL; t += 86400) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char b[16];
        snprintf(b, sizeof b, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        if (!cav_parse_date(b, 10, &days) || days != t / 86400) mism++;
    }
    CHECK_INT(mism, 0);
    int64_t us;
    bool zone;
    CHECK(cav_parse_timestamp(S("2013-01-07 23:54:15"), &us, &zone) && !zone &&
          us == 1357602855LL * 1000000);
    CHECK(cav_parse_timestamp(S("2013-01-07T23:54:15.5"), &us, &zone) &&
          us == 1357602855LL * 1000000 + 500000);
    CHECK(cav_parse_timestamp(S("2013-01-07T23:54:15.000001Z"), &us, &zone) && zone &&
          us == 1357602855LL * 1000000 + 1);
    CHECK(cav_parse_timestamp(S("2013-01-08T01:54:15+02:00"), &us, &zone) && zone &&
          us == 1357602855LL * 1000000);
    CHECK(cav_parse_timestamp(S("2013-01-07 18:54:15-0500"), &us, &zone) && zone &&
          us == 1357602855LL * 1000000);
    CHECK(cav_parse_timestamp(S("1969-12-31 23:59:59.999999"), &us, &zone) && us == -1);
    const char *bad[] = {"2013-01-07",
                         "2013-01-07 24:00:00",
                         "2013-01-07 23:60:00",
                         "2013-01-07 23:54:15.",
                         "2013-01-07 23:54:15.1234567",
                         "2013-01-07 23:54",
                         "2013-01-07x23:54:15",
                         "2013-01-07 23:54:15 Z",
                         "2013-01-07 23:54:15+2",
                         "2013-01-07 23:54:15+25:00",
                         "2013-02-30 00:00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!cav_parse_timestamp(bad[i], strlen(bad[i]), &us, &zone));
}

/* the definition: "true"/"false" compared letter by letter, A-Z folded to a-z */
static int bool_ref(const char *s, size_t n) {
    static const char *lit[2] = {"false", "true"};
    for (int v = 0; v < 2; v++) {
        size_t l = strlen(lit[v]), i = 0;
        if (n != l) continue;
        while (i < n && (s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]) == lit[v][i])
            i++;
        if (i == n) return v;
    }
    return -1;
}

/* cav_parse_ts_tail's fast path (exactly 19 bytes, SWAR) against the general parser of
 * core_datetime.h, which stays the definition: every byte value at every position of
 * timestamp templates, and 300,000 random times (valid and out of range) */
static void test_ts_tail_fast(void) {
    static const char *tmpl[] = {"2013-01-07 23:54:15", "2013-01-07T00:00:00",
                                 "1999-12-31 19:59:59", "2013-01-07 09:09:09"};
    int mism = 0;
    uint64_t seed = 23;
    for (int i = 0; i < 300000 + 4 * 19 * 256; i++) {
        char buf[20];
        if (i < 4 * 19 * 256) {
            memcpy(buf, tmpl[i / (19 * 256)], 19);
            buf[i / 256 % 19] = (char)(i % 256);
        } else {
            uint64_t r = cav_splitmix64(&seed);
            snprintf(buf, sizeof buf, "2013-01-07%c%02u:%02u:%02u", (r & 1) ? ' ' : 'T',
                     (unsigned)(r >> 8) % 30, (unsigned)(r >> 16) % 70, (unsigned)(r >> 24) % 70);
        }
        int64_t tod = -1, want = -1;
        bool zone = true, wz = true;
        bool ok = cav_parse_ts_tail(buf, 19, &tod, &zone);
        cav_dt_time t;
        bool wok = cav_dt_time_of(buf, 19, &t) && t.has_seconds && t.frac_digits <= 6;
        if (wok) want = t.secs * 1000000 + t.nanos / 1000, wz = t.has_zone;
        if (ok != wok || (ok && (tod != want || zone != wz))) {
            if (mism++ < 5)
                fprintf(stderr, "  ts tail '%.19s': %d %lld, want %d %lld\n", buf, ok,
                        (long long)tod, wok, (long long)want);
        }
    }
    CHECK_INT(mism, 0);
}

/* cav_parse_double_padded (the column loader's 8-bytes-at-a-time path) against strtod: every
 * string over an alphabet of digits, '.', signs, 'e' and a letter up to 5 bytes, then 300,000
 * random decimals of 0..10 integer and 0..10 fraction digits (some with exponents), each followed
 * by random bytes in the padding the function may read: accepted exactly when strtod consumes
 * the whole text, bit-identical, and the same answer as cav_parse_double */
static int padded_one(const char *txt, size_t k, uint64_t *seed) {
    char field[64], z[64];
    static const char tail[] = "0123456789.,\n\r\t\"e-+ Z";
    memcpy(field, txt, k);
    for (size_t j = k; j < sizeof field; j++)
        field[j] = tail[cav_splitmix64(seed) % (sizeof tail - 1)];
    memcpy(z, txt, k);
    z[k] = '\0';
    char *end;
    double want = strtod(z, &end), d = -1, d2 = -2;
    bool want_ok = k > 0 && end == z + k;
    bool ok = cav_parse_double_padded(field, k, &d);
    bool ok2 = cav_parse_double(z, k, &d2);
    if (ok != want_ok || (ok && memcmp(&d, &want, sizeof d) != 0) || ok2 != ok ||
        (ok && memcmp(&d, &d2, sizeof d) != 0)) {
        fprintf(stderr, "  padded double '%s': %d %.17g, strtod %d %.17g\n", z, ok, d, want_ok,
                want);
        return 1;
    }
    return 0;
}

static void test_double_padded(void) {
    uint64_t seed = 77;
    int mism = 0;
    static const char alpha[] = "0159.-+eZ";
    char buf[48];
    mism += padded_one("", 0, &seed);
    for (size_t len = 1; len <= 5; len++) {
        size_t total = 1;
        for (size_t j = 0; j < len; j++)
            total *= sizeof alpha - 1;
        for (size_t c = 0; c < total; c++) {
            size_t x = c;
            for (size_t j = 0; j < len; j++, x /= sizeof alpha - 1)
                buf[j] = alpha[x % (sizeof alpha - 1)];
            if (mism < 5) mism += padded_one(buf, len, &seed);
        }
    }
    for (int i = 0; i < 300000 && mism < 5; i++) {
        uint64_t r = cav_splitmix64(&seed);
        size_t k = 0;
        if (r & 1) buf[k++] = (r & 2) ? '-' : '+';
        size_t ip = (r >> 2) % 11, fp = (r >> 6) % 11;
        for (size_t j = 0; j < ip; j++)
            buf[k++] = (char)('0' + cav_splitmix64(&seed) % 10);
        if (((r >> 10) & 7) != 0) buf[k++] = '.';
        for (size_t j = 0; j < fp; j++)
            buf[k++] = (char)('0' + cav_splitmix64(&seed) % 10);
        if (((r >> 13) & 15) == 0) k += (size_t)sprintf(buf + k, "e%d", (int)((r >> 17) % 40) - 20);
        if (((r >> 21) & 31) == 0 && k) buf[(r >> 26) % k] = "q:/_"[(r >> 40) & 3]; /* a bad byte */
        mism += padded_one(buf, k, &seed);
    }
    /* the taxi columns' shapes */
    for (int i = 0; i < 100000 && mism < 5; i++) {
        uint64_t r = cav_splitmix64(&seed);
        int k = sprintf(buf, "%s%u.%0*u", (r & 1) ? "-" : "", (unsigned)(r >> 1) % 200,
                        (int)(1 + (r >> 9) % 8), (unsigned)(r >> 16) % 100000000u);
        mism += padded_one(buf, (size_t)k, &seed);
    }
    CHECK_INT(mism, 0);
}

/* cav_date_swar against cav_dt_date (the definition, checked against timegm in test_dates):
 * every year 0000..9999 with months 00..13 and days 00..32, and every byte value at every
 * position of date templates */
static void test_date_swar(void) {
    int mism = 0;
    char s[10];
    for (unsigned y = 0; y <= 9999; y++)
        for (unsigned m = 0; m <= 13; m++)
            for (unsigned d = 0; d <= 32; d++) {
                s[0] = (char)('0' + y / 1000), s[1] = (char)('0' + y / 100 % 10);
                s[2] = (char)('0' + y / 10 % 10), s[3] = (char)('0' + y % 10);
                s[4] = '-', s[5] = (char)('0' + m / 10), s[6] = (char)('0' + m % 10);
                s[7] = '-', s[8] = (char)('0' + d / 10), s[9] = (char)('0' + d % 10);
                uint64_t w;
                memcpy(&w, s, 8);
                int64_t a = -7, b = -7;
                bool ok =
                    cav_date_swar(w, (unsigned)(uint8_t)s[8] | (unsigned)(uint8_t)s[9] << 8, &a);
                bool want = cav_dt_date(s, &b);
                if (ok != want || (ok && a != b)) {
                    if (mism++ < 5)
                        fprintf(stderr, "  date swar '%.10s': %d %lld, want %d %lld\n", s, ok,
                                (long long)a, want, (long long)b);
                }
            }
    static const char *tmpl[] = {"2013-01-07", "2000-02-29", "1970-01-01",
                                 "2099-12-31", "1900-02-28", "0000-03-01"};
    for (size_t t = 0; t < sizeof tmpl / sizeof tmpl[0]; t++)
        for (int pos = 0; pos < 10; pos++)
            for (int v = 0; v < 256; v++) {
                memcpy(s, tmpl[t], 10);
                s[pos] = (char)v;
                uint64_t w;
                memcpy(&w, s, 8);
                int64_t a = -7, b = -7;
                bool ok =
                    cav_date_swar(w, (unsigned)(uint8_t)s[8] | (unsigned)(uint8_t)s[9] << 8, &a);
                bool want = cav_dt_date(s, &b);
                if (ok != want || (ok && a != b)) {
                    if (mism++ < 5)
                        fprintf(stderr, "  date swar byte %d=%d of %s: %d, want %d\n", pos, v,
                                tmpl[t], ok, want);
                }
            }
    CHECK_INT(mism, 0);
}

static void test_bool_exhaustive(void) {
    /* every case mix of true/false, and every byte value at every position of each of them */
    int mism = 0;
    for (int v = 0; v < 2; v++) {
        const char *lit = v ? "true" : "false";
        size_t n = strlen(lit);
        for (unsigned mix = 0; mix < (1u << n); mix++) {
            char buf[8];
            for (size_t i = 0; i < n; i++)
                buf[i] = (char)((mix >> i & 1) ? lit[i] - 32 : lit[i]);
            for (size_t pos = 0; pos <= n; pos++)
                for (int c = 0; c < 256; c++) {
                    char t[8];
                    memcpy(t, buf, n);
                    if (pos < n) t[pos] = (char)c;
                    uint8_t got = 7;
                    bool ok = cav_parse_bool(t, n, &got);
                    int want = bool_ref(t, n);
                    if (ok != (want >= 0) || (ok && got != want)) mism++;
                }
            uint8_t got;
            CHECK(!cav_parse_bool(buf, n - 1, &got)); /* a prefix */
        }
    }
    CHECK_INT(mism, 0);
    uint8_t b;
    CHECK(!cav_parse_bool("", 0, &b) && !cav_parse_bool("truee", 5, &b) &&
          !cav_parse_bool("tru", 3, &b) && !cav_parse_bool("falsee", 6, &b));
}

static void test_infer_rules(void) {
    CHECK_INT(cav_infer_classify(S("12")), CAV_INFER_LONG);
    CHECK_INT(cav_infer_classify(S("12.5")), CAV_INFER_DOUBLE);
    CHECK_INT(cav_infer_classify(S("nan")), CAV_INFER_DOUBLE);
    CHECK_INT(cav_infer_classify(S("TRUE")), CAV_INFER_BOOL);
    CHECK_INT(cav_infer_classify(S("2013-01-01")), CAV_INFER_DATE);
    CHECK_INT(cav_infer_classify(S("2013-01-01 00:00:00")), CAV_INFER_LOCAL_TS);
    CHECK_INT(cav_infer_classify(S("2013-01-01T00:00:00Z")), CAV_INFER_INSTANT);
    CHECK_INT(cav_infer_classify(S("123456789012345678901234")), CAV_INFER_STRING);
    CHECK_INT(cav_infer_classify(S("N")), CAV_INFER_STRING);
    CHECK_INT(cav_infer_join(CAV_INFER_LONG, CAV_INFER_DOUBLE), CAV_INFER_DOUBLE);
    CHECK_INT(cav_infer_join(CAV_INFER_DATE, CAV_INFER_LOCAL_TS), CAV_INFER_LOCAL_TS);
    CHECK_INT(cav_infer_join(CAV_INFER_DATE, CAV_INFER_INSTANT), CAV_INFER_STRING);
    CHECK_INT(cav_infer_join(CAV_INFER_BOOL, CAV_INFER_LONG), CAV_INFER_STRING);
    CHECK_INT(cav_infer_join(CAV_INFER_NONE, CAV_INFER_BOOL), CAV_INFER_BOOL);
    CHECK_INT(cav_infer_join(CAV_INFER_STRING, CAV_INFER_LONG), CAV_INFER_STRING);
    /* the join is a semilattice (NONE the bottom, STRING the top): commutative, associative,
     * idempotent, so windows sampled on two threads and joined give the serial fold (every
     * triple of classes) */
    for (int a = CAV_INFER_NONE; a <= CAV_INFER_STRING; a++)
        for (int b = CAV_INFER_NONE; b <= CAV_INFER_STRING; b++) {
            cav_infer_class ab = cav_infer_join((cav_infer_class)a, (cav_infer_class)b);
            CHECK_INT(ab, cav_infer_join((cav_infer_class)b, (cav_infer_class)a));
            CHECK_INT(cav_infer_join((cav_infer_class)a, (cav_infer_class)a), a);
            CHECK_INT(cav_infer_join(CAV_INFER_NONE, (cav_infer_class)a), a);
            CHECK_INT(cav_infer_join(CAV_INFER_STRING, (cav_infer_class)a), CAV_INFER_STRING);
            for (int c = CAV_INFER_NONE; c <= CAV_INFER_STRING; c++)
                CHECK_INT(cav_infer_join(ab, (cav_infer_class)c),
                          cav_infer_join((cav_infer_class)a,
                                         cav_infer_join((cav_infer_class)b, (cav_infer_class)c)));
        }
    /* the classification is the first of long, double, date, timestamp, boolean that parses
     * (docs/input.md); cav_infer_classify takes shortcuts (a '-' after four digits is neither
     * a long nor a double): the same class as that definition on edge cases and 200,000
     * random strings shaped like numbers, dates and timestamps */
    static const char *edge[] = {"2013-01-01",
                                 "2013-01-01 00:00:00",
                                 "2013-01-01T00:00:00Z",
                                 "2013-13-01",
                                 "1e-5",
                                 "1234-",
                                 "1234-5678-90",
                                 "1234e-5678",
                                 "1234.-5",
                                 "+2013-01-01",
                                 "-2013-01-01",
                                 "2013-01-01 00:00:00.",
                                 "12345-01-01",
                                 "2013-1-01 00:00:00",
                                 "2013-01-01x",
                                 "0000-01-01",
                                 "9999-12-31 23:59:59.999999+14:00"};
    uint64_t seed = 17;
    char buf[40];
    int mism = 0;
    for (int i = 0; i < 200000 + (int)(sizeof edge / sizeof edge[0]); i++) {
        size_t k;
        if (i < (int)(sizeof edge / sizeof edge[0])) {
            k = strlen(edge[i]);
            memcpy(buf, edge[i], k);
        } else {
            uint64_t r = cav_splitmix64(&seed), r2 = cav_splitmix64(&seed);
            static const char tmpl[] = "2013-01-07 23:54:15.123456+01:00";
            static const char alpha[] = "0123456789-:. TZ+eE.01-";
            k = 8 + r % 25; /* lengths 8..32 around the date and timestamp lengths */
            memcpy(buf, tmpl, k);
            /* mutate one to three positions */
            for (int m = 0; m < 1 + (int)((r >> 8) % 3); m++, r2 >>= 10)
                buf[(r2 & 31) % k] = alpha[((r2 >> 5) & 31) % (sizeof alpha - 1)];
        }
        int64_t l, us;
        bool ovf, zone;
        double d;
        int32_t days;
        uint8_t b8;
        cav_infer_class want = CAV_INFER_STRING;
        bool num =
            buf[0] == '-' || buf[0] == '+' || buf[0] == '.' || (buf[0] >= '0' && buf[0] <= '9');
        if (num && cav_parse_long_ex(buf, k, &l, &ovf))
            want = CAV_INFER_LONG;
        else if (num && ovf)
            want = CAV_INFER_STRING;
        else if (num && cav_parse_double(buf, k, &d))
            want = CAV_INFER_DOUBLE;
        else if (num && cav_parse_date(buf, k, &days))
            want = CAV_INFER_DATE;
        else if (num && cav_parse_timestamp(buf, k, &us, &zone))
            want = zone ? CAV_INFER_INSTANT : CAV_INFER_LOCAL_TS;
        else if (!num && cav_parse_bool(buf, k, &b8))
            want = CAV_INFER_BOOL;
        cav_infer_class got = cav_infer_classify(buf, k);
        if (got != want && mism++ < 5)
            fprintf(stderr, "  classify '%.*s': %d, want %d\n", (int)k, buf, (int)got, (int)want);
    }
    CHECK_INT(mism, 0);
}

static csvavro_schema *infer(const char *path, csvavro_csv_options *o, csvavro_status *st,
                             csvavro_error *err) {
    csvavro_schema *s = NULL;
    const char *p[1] = {path};
    *st = csvavro_csv_infer(cav_io_local(), p, 1, o, &s, err);
    return s;
}

static void test_infer_file(void) {
    csvavro_error err;
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    const char *d = "1st col,a b,a,a,,x,big,t,mix,nulls\n"
                    "1,2.5,true,2013-01-01,q,1,99999999999999999999,2013-01-01 00:00:00,1,\n"
                    "2,3,false,2013-01-02,,2,1,2013-01-01,2.5,\n";
    const char *path = write_file("infer.csv", d, strlen(d));
    csvavro_status st;
    csvavro_schema *s = infer(path, &o, &st, &err);
    CHECK_OK(st, &err);
    if (!s) return;
    CHECK_INT(csvavro_schema_field_count(s), 10);
    CHECK_STR(csvavro_schema_field_name(s, 0), "_1st_col");
    CHECK_STR(csvavro_schema_field_original(s, 0), "1st col");
    CHECK_STR(csvavro_schema_field_name(s, 1), "a_b");
    CHECK_STR(csvavro_schema_field_name(s, 2), "a");
    CHECK_STR(csvavro_schema_field_name(s, 3), "a_2");
    CHECK_STR(csvavro_schema_field_name(s, 4), "_");
    CHECK_INT(csvavro_schema_field_type(s, 0), CSVAVRO_TYPE_LONG);
    CHECK_INT(csvavro_schema_field_type(s, 1), CSVAVRO_TYPE_DOUBLE);
    CHECK_INT(csvavro_schema_field_type(s, 2), CSVAVRO_TYPE_BOOLEAN);
    CHECK_INT(csvavro_schema_field_type(s, 3), CSVAVRO_TYPE_DATE);
    CHECK_INT(csvavro_schema_field_type(s, 4), CSVAVRO_TYPE_STRING);
    CHECK_INT(csvavro_schema_field_type(s, 6), CSVAVRO_TYPE_STRING);
    CHECK_INT(csvavro_schema_field_type(s, 7), CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS);
    CHECK_INT(csvavro_schema_field_type(s, 8), CSVAVRO_TYPE_DOUBLE);
    CHECK_INT(csvavro_schema_field_type(s, 9), CSVAVRO_TYPE_STRING);
    CHECK(csvavro_schema_field_nullable(s, 0));
    CHECK_STR(csvavro_schema_record_name(s), "Row");
    csvavro_schema_free(s);
    /* full pass tightens nullability; overrides */
    const char *ov[] = {"1st col=string", "x=int"};
    const char *nn[] = {"mix"};
    o.infer_rows = UINT64_MAX;
    o.type_overrides = ov;
    o.n_type_overrides = 2;
    o.not_null = nn;
    o.n_not_null = 1;
    o.record_name = "Trip";
    o.ns = "nyc.taxi";
    s = infer(path, &o, &st, &err);
    CHECK_OK(st, &err);
    if (!s) return;
    CHECK(!csvavro_schema_field_nullable(s, 1));
    CHECK(csvavro_schema_field_nullable(s, 4));
    CHECK(!csvavro_schema_field_nullable(s, 8));
    CHECK_INT(csvavro_schema_field_type(s, 0), CSVAVRO_TYPE_STRING);
    CHECK_INT(csvavro_schema_field_type(s, 5), CSVAVRO_TYPE_INT);
    CHECK_STR(csvavro_schema_namespace(s), "nyc.taxi");
    csvavro_schema_free(s);
    const char *ov2[] = {"nope=long"};
    o.type_overrides = ov2;
    o.n_type_overrides = 1;
    s = infer(path, &o, &st, &err);
    CHECK_INT(st, CSVAVRO_E_USAGE);
    csvavro_schema_free(s);
    /* empty input */
    csvavro_csv_options_init(&o);
    s = infer(write_file("empty.csv", "", 0), &o, &st, &err);
    CHECK_INT(st, CSVAVRO_E_CSV);
    csvavro_schema_free(s);
}

/* Sampling at several places: the column is a long everywhere but in the last part. */
/* Duplicate header names get "_k" suffixes that skip names already taken; 100,000 identical
 * names stay linear (a quadratic search would run into the test's timeout). */
static void test_infer_duplicate_names(void) {
    csvavro_error err;
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    const char *d = "a,a_3,a,a,a\n1,2,3,4,5\n";
    const char *path = write_file("dups.csv", d, strlen(d));
    csvavro_status st;
    csvavro_schema *s = infer(path, &o, &st, &err);
    CHECK_OK(st, &err);
    if (s) {
        const char *want[] = {"a", "a_3", "a_2", "a_4", "a_5"};
        for (size_t i = 0; i < 5; i++)
            CHECK_STR(csvavro_schema_field_name(s, i), want[i]);
        csvavro_schema_free(s);
    }
    enum { N = 100000 };
    char *big = malloc(4 * N + 8);
    CHECK(big != NULL);
    if (!big) return;
    size_t len = 0;
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < N; i++) {
            big[len++] = r ? '1' : 'x';
            big[len++] = i + 1 < N ? ',' : '\n';
        }
    path = write_file("dups_big.csv", big, len);
    free(big);
    s = infer(path, &o, &st, &err);
    CHECK_OK(st, &err);
    if (!s) return;
    CHECK_INT(csvavro_schema_field_count(s), N);
    CHECK_STR(csvavro_schema_field_name(s, 1), "x_2");
    CHECK_STR(csvavro_schema_field_name(s, N - 1), "x_100000");
    csvavro_schema_free(s);
}

static void test_infer_sampling(void) {
    size_t rows = 1300000;
    size_t cap = rows * 16 + 64;
    char *d = malloc(cap);
    size_t k = (size_t)sprintf(d, "id,v\n");
    for (size_t i = 0; i < rows; i++)
        k += (size_t)sprintf(d + k, "%zu,%s\n", i % 100000, i > rows * 9 / 10 ? "x" : "7");
    const char *path = write_file("sample.csv", d, k);
    free(d);
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    csvavro_error err;
    csvavro_status st;
    csvavro_schema *s = infer(path, &o, &st, &err);
    CHECK_OK(st, &err);
    if (s) CHECK_INT(csvavro_schema_field_type(s, 1), CSVAVRO_TYPE_STRING);
    csvavro_schema_free(s);
    unlink(path);
}

/* Opens a reader over a file with a given schema. */
typedef struct rd {
    csvavro_file *f;
    cav_csv_header h;
    cav_csv_reader *r;
    cav_batch b;
    csvavro_schema *s;
} rd;

static csvavro_status rd_open(rd *x, const char *path, const csvavro_csv_options *o,
                              const csvavro_type *types, csvavro_error *err) {
    memset(x, 0, sizeof *x);
    CAV_TRY(csvavro_fs_open_read(cav_io_local(), path, &x->f, err));
    CAV_TRY(cav_csv_read_header(x->f, o, &x->h, err));
    CAV_TRY(csvavro_schema_create(NULL, NULL, &x->s, err));
    for (uint32_t i = 0; i < x->h.n_cols; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "c%u", i);
        CAV_TRY(csvavro_schema_add_field(x->s, nm, x->h.names[i], types[i], 1, err));
    }
    CAV_TRY(cav_csv_reader_create(o, x->s, 64, &x->r, err));
    CAV_TRY(cav_batch_init(&x->b, x->h.n_cols, types, 64, 0, err));
    CAV_TRY(cav_csv_reader_open_range(x->r, x->f, "t.csv", x->h.data_start, INT64_MAX, true, err));
    cav_csv_reader_set_base(x->r, 1, x->h.data_start_line);
    return CSVAVRO_OK;
}

static void rd_close(rd *x) {
    cav_batch_free(&x->b);
    cav_csv_reader_free(x->r);
    csvavro_schema_free(x->s);
    cav_csv_header_free(&x->h);
    if (x->f) csvavro_file_close(x->f, NULL);
}

static void test_load(void) {
    const char *d = "l,d,s,t,z,b,dt\n"
                    "1,1.5,abc,2013-01-07 23:54:15,2013-01-07T23:54:15Z,true,2013-01-07\n"
                    ",,,,,,\n"
                    "\"-3\",\"2e2\",\"q\"\"x\",\"2013-01-07T23:54:15.5\",2013-01-07T23:54:15+01:00,"
                    "FALSE,\"\"\n"
                    "NA,NA,\"\",NA,NA,NA,NA\n";
    const char *path = write_file("load.csv", d, strlen(d));
    csvavro_type types[] = {CSVAVRO_TYPE_LONG,
                            CSVAVRO_TYPE_DOUBLE,
                            CSVAVRO_TYPE_STRING,
                            CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS,
                            CSVAVRO_TYPE_TIMESTAMP_MILLIS,
                            CSVAVRO_TYPE_BOOLEAN,
                            CSVAVRO_TYPE_DATE};
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    const char *nulls[] = {"", "NA"};
    o.null_values = nulls;
    o.n_null_values = 2;
    csvavro_error err;
    rd x;
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    CHECK_INT(x.b.n_rows, 4);
    for (uint32_t c = 0; c < 7; c++)
        CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, c, &err), &err);
    cav_column *C = x.b.cols;
    CHECK(C[0].valid[0] && C[0].v.i64[0] == 1 && !C[0].valid[1] && C[0].v.i64[2] == -3 &&
          !C[0].valid[3]);
    CHECK(C[1].v.f64[0] == 1.5 && C[1].v.f64[2] == 200 && !C[1].valid[3]);
    CHECK_MEM(C[2].v.str[0].ptr, C[2].v.str[0].len, "abc", 3);
    CHECK(!C[2].valid[1]);
    CHECK_MEM(C[2].v.str[2].ptr, C[2].v.str[2].len, "q\"x", 3);
    CHECK(C[2].valid[3] && C[2].v.str[3].len == 0); /* quoted "" is the empty string */
    CHECK(C[3].v.i64[0] == 1357602855LL * 1000000 && C[3].v.i64[2] == 1357602855500000LL);
    CHECK(C[4].v.i64[0] == 1357602855000LL && C[4].v.i64[2] == 1357599255000LL);
    CHECK(C[5].v.b8[0] == 1 && C[5].v.b8[2] == 0);
    CHECK(C[6].v.i32[0] == 15712 && !C[6].valid[2]); /* quoted "" is null in a date column */
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    CHECK_INT(x.b.n_rows, 0);
    rd_close(&x);
}

/* The loader's fast paths in plain mode (no null markers): doubles of many shapes next to
 * timestamps that mix the 19-byte form with fractions, 'T', bare dates, dates outside
 * 1901..2099 and runs of one date (the loader remembers the last date across both of its
 * timestamp paths). Expected values from strtod and timegm on the generated parts. */
static void test_load_fast_shapes(void) {
    enum { N = 20000 };
    static char text[N * 64 + 64];
    static double want_d[N];
    static int64_t want_t[N];
    size_t k = (size_t)sprintf(text, "d,t\n");
    uint64_t seed = 4242;
    unsigned y = 2013, mo = 1, dd = 7;
    for (int i = 0; i < N; i++) {
        uint64_t r = cav_splitmix64(&seed), r2 = cav_splitmix64(&seed);
        char num[48];
        switch (r % 6) {
        case 0:
            snprintf(num, sizeof num, "%s%u.%0*u", (r & 8) ? "-" : "", (unsigned)(r2 % 200),
                     (int)(1 + (r2 >> 8) % 8), (unsigned)((r2 >> 16) % 100000000u));
            break;
        case 1:
            snprintf(num, sizeof num, "%u", (unsigned)(r2 % 100000000u));
            break;
        case 2:
            snprintf(num, sizeof num, "%.17g", (double)(int64_t)r2 / 1e9);
            break;
        case 3:
            snprintf(num, sizeof num, "%ue%d", (unsigned)(r2 % 1000), (int)((r2 >> 20) % 60) - 30);
            break;
        case 4:
            snprintf(num, sizeof num, "%s%llu.%u", (r & 8) ? "-" : "",
                     (unsigned long long)(r2 % 1000000000000ull), (unsigned)(r2 >> 44) % 1000);
            break;
        default:
            snprintf(num, sizeof num, "%s.%u", (r & 8) ? "-" : "", (unsigned)(r2 % 1000));
            break;
        }
        want_d[i] = strtod(num, NULL);
        if ((r >> 8) % 4 != 0) { /* a new date; else the previous row's */
            static const unsigned years[] = {1850, 1900, 1901, 1969, 1970,
                                             2000, 2013, 2099, 2100, 2400};
            y = (r >> 12) % 3 ? 2013 : years[(r >> 14) % 10];
            mo = 1 + (unsigned)(r >> 20) % 12;
            dd = 1 + (unsigned)(r >> 24) % 28;
        }
        unsigned hh = (unsigned)(r >> 32) % 24, mi = (unsigned)(r >> 40) % 60,
                 ss = (unsigned)(r >> 48) % 60, shape = (unsigned)(r >> 56) % 8;
        struct tm tm = {0};
        tm.tm_year = (int)y - 1900, tm.tm_mon = (int)mo - 1, tm.tm_mday = (int)dd;
        tm.tm_hour = (int)hh, tm.tm_min = (int)mi, tm.tm_sec = (int)ss;
        char ts[40];
        if (shape == 0) { /* a bare date is midnight */
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
            snprintf(ts, sizeof ts, "%04u-%02u-%02u", y, mo, dd);
            want_t[i] = (int64_t)timegm(&tm) * 1000000;
        } else if (shape == 1) { /* a fraction */
            snprintf(ts, sizeof ts, "%04u-%02u-%02u %02u:%02u:%02u.%03u", y, mo, dd, hh, mi, ss,
                     (unsigned)(r2 % 1000));
            want_t[i] = (int64_t)timegm(&tm) * 1000000 + (int64_t)(r2 % 1000) * 1000;
        } else {
            snprintf(ts, sizeof ts, "%04u-%02u-%02u%c%02u:%02u:%02u", y, mo, dd,
                     shape == 2 ? 'T' : ' ', hh, mi, ss);
            want_t[i] = (int64_t)timegm(&tm) * 1000000;
        }
        k += (size_t)sprintf(text + k, "%s,%s\n", num, ts);
    }
    const char *path = write_file("fast_shapes.csv", text, k);
    csvavro_type types[] = {CSVAVRO_TYPE_DOUBLE, CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS};
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    csvavro_error err;
    rd x;
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    int row = 0, mism = 0;
    for (;;) {
        CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
        if (x.b.n_rows == 0) break;
        for (uint32_t c = 0; c < 2; c++)
            CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, c, &err), &err);
        for (uint32_t i = 0; i < x.b.n_rows && row < N; i++, row++) {
            double d = x.b.cols[0].v.f64[i];
            int64_t t = x.b.cols[1].v.i64[i];
            if (!x.b.cols[0].valid[i] || !x.b.cols[1].valid[i] ||
                memcmp(&d, &want_d[row], sizeof d) != 0 || t != want_t[row]) {
                if (mism++ < 5)
                    fprintf(stderr, "  row %d: %.17g %lld, want %.17g %lld\n", row, d, (long long)t,
                            want_d[row], (long long)want_t[row]);
            }
        }
    }
    CHECK_INT(row, N);
    CHECK_INT(mism, 0);
    rd_close(&x);
}

/* String columns in plain mode over many 64-row batches: most batches hold no quote character
 * (the loader then takes each field from its offsets alone), some hold quoted fields (with the
 * delimiter, a doubled quote, or empty), and empty unquoted fields (null) everywhere. Expected
 * values from the generator. */
static void test_load_strings_quotes(void) {
    enum { N = 3000 };
    static char text[N * 48 + 64];
    static char want[N][24];
    static int want_null[N];
    size_t k = (size_t)sprintf(text, "a,s\n");
    uint64_t seed = 99;
    for (int i = 0; i < N; i++) {
        uint64_t r = cav_splitmix64(&seed);
        bool quoted_batch = (i / 64) % 5 == 2; /* every fifth batch has quoted fields */
        want_null[i] = 0;
        if (r % 7 == 0) {
            want_null[i] = 1;
            want[i][0] = '\0';
            k += (size_t)sprintf(text + k, "%d,\n", i);
        } else if (quoted_batch && r % 3 == 0) {
            static const char *q[] = {"\"x,y\"", "\"say \"\"hi\"\"\"", "\"\"", "\"plain\""};
            static const char *v[] = {"x,y", "say \"hi\"", "", "plain"};
            unsigned j = (unsigned)(r >> 8) % 4;
            snprintf(want[i], sizeof want[i], "%s", v[j]);
            k += (size_t)sprintf(text + k, "%d,%s\n", i, q[j]);
        } else {
            snprintf(want[i], sizeof want[i], "v%llu", (unsigned long long)(r >> 20) % 100000);
            k += (size_t)sprintf(text + k, "%d,%s\n", i, want[i]);
        }
    }
    const char *path = write_file("strings_quotes.csv", text, k);
    csvavro_type types[] = {CSVAVRO_TYPE_LONG, CSVAVRO_TYPE_STRING};
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    csvavro_error err;
    rd x;
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    int row = 0, mism = 0;
    for (;;) {
        CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
        if (x.b.n_rows == 0) break;
        CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 1, &err), &err);
        for (uint32_t i = 0; i < x.b.n_rows && row < N; i++, row++) {
            const cav_column *c = &x.b.cols[1];
            bool ok = want_null[row] ? !c->valid[i]
                                     : c->valid[i] && c->v.str[i].len == strlen(want[row]) &&
                                           memcmp(c->v.str[i].ptr, want[row], c->v.str[i].len) == 0;
            if (!ok && mism++ < 5)
                fprintf(stderr, "  row %d: valid %d '%.*s', want %s'%s'\n", row, c->valid[i],
                        (int)c->v.str[i].len, c->valid[i] ? c->v.str[i].ptr : "",
                        want_null[row] ? "null " : "", want[row]);
        }
    }
    CHECK_INT(row, N);
    CHECK_INT(mism, 0);
    rd_close(&x);
}

static void test_errors(void) {
    const char *d = "a,b\n1,x\n2,3\n\"q\nq\",y,z\n4,5\n6,zz\n";
    const char *path = write_file("err.csv", d, strlen(d));
    csvavro_type types[] = {CSVAVRO_TYPE_STRING, CSVAVRO_TYPE_LONG};
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    csvavro_error err;
    rd x;
    /* fail: the ragged record stops next() */
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    csvavro_status st = cav_csv_reader_next(x.r, &x.b, &err);
    CHECK_INT(st, CSVAVRO_E_CSV);
    CHECK_INT(err.offset, 12);
    CHECK_INT(err.record, 3);
    CHECK_INT(err.line, 4);
    CHECK(strstr(err.message, "3 fields") != NULL);
    rd_close(&x);
    /* fail on a value */
    const char *d2 = "a,b\n1,2\n2,x y\n";
    path = write_file("err2.csv", d2, strlen(d2));
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    st = cav_csv_reader_load_column(x.r, &x.b, 1, &err);
    CHECK_INT(st, CSVAVRO_E_VALUE);
    CHECK_INT(err.offset, 10);
    CHECK_INT(err.record, 2);
    CHECK_INT(err.column, 1);
    CHECK_STR(err.column_name, "c1");
    CHECK_STR(err.value, "x y");
    char msg[1024];
    csvavro_error_format(&err, msg, sizeof msg);
    CHECK(strstr(msg, "t.csv") != NULL);
    rd_close(&x);
    /* reject: rows and reject lines */
    path = write_file("err.csv", d, strlen(d));
    o.on_error = CSVAVRO_ON_ERROR_REJECT;
    cav_buf sink;
    cav_buf_init(&sink, 0);
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    cav_csv_reader_set_reject_sink(x.r, &sink);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    CHECK_INT(x.b.n_rows, 4);
    CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 1, &err), &err);
    CHECK_INT(x.b.n_row_errors, 2);
    CHECK(x.b.row_error[0] && !x.b.row_error[1] && x.b.row_error[3]);
    CHECK_INT(cav_csv_reader_rejected(x.r), 3);
    cav_buf_append(&sink, "", 1, &err);
    const char *want1 = "{\"path\":\"t.csv\",\"line\":4,\"offset\":12,\"record\":3,\"column\":null,"
                        "\"value\":null,\"reason\":\"record has 3 fields, expected 2\","
                        "\"raw\":\"\\\"q\\nq\\\",y,z\"}\n";
    CHECK(strstr((char *)sink.data, want1) != NULL);
    CHECK(strstr((char *)sink.data, "\"line\":2,\"offset\":6,\"record\":1,\"column\":\"c1\","
                                    "\"value\":\"x\"") != NULL);
    if (!strstr((char *)sink.data, want1)) fprintf(stderr, "%s", (char *)sink.data);
    /* in input order once the batch is done: record 1 (a value) before record 3 (ragged) */
    sink.len--; /* the NUL appended above */
    CHECK_OK(cav_csv_reader_batch_done(x.r, &err), &err);
    cav_buf_append(&sink, "", 1, &err);
    const char *r1 = strstr((char *)sink.data, "\"record\":1,");
    const char *r3 = strstr((char *)sink.data, "\"record\":3,");
    CHECK(r1 && r3 && r1 < r3);
    rd_close(&x);
    cav_buf_free(&sink);
    /* max errors */
    o.on_error = CSVAVRO_ON_ERROR_SKIP;
    o.max_errors = 1;
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err); /* 1 bad record: allowed */
    /* the 2nd and 3rd come from the values; the limit is applied when the batch is done, to the
     * records in input order: record 1 (value) is allowed, record 3 (ragged) is over */
    CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 1, &err), &err);
    CHECK_INT(cav_csv_reader_batch_done(x.r, &err), CSVAVRO_E_LIMIT);
    CHECK_INT(err.record, 3);
    CHECK_INT(err.line, 4);
    CHECK(strstr(err.message, "3 fields") != NULL);
    rd_close(&x);
    o.max_errors = 0;
    /* invalid UTF-8 in a string column; latin-1 transcoding */
    const char *d3 = "a,b\ncaf\xe9,1\n";
    path = write_file("l1.csv", d3, strlen(d3));
    o.on_error = CSVAVRO_ON_ERROR_FAIL;
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    st = cav_csv_reader_load_column(x.r, &x.b, 0, &err);
    CHECK_INT(st, CSVAVRO_E_ENCODING);
    CHECK_INT(err.offset, 7); /* the invalid byte itself */
    rd_close(&x);
    o.encoding = CSVAVRO_ENCODING_LATIN1;
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 0, &err), &err);
    CHECK_MEM(x.b.cols[0].v.str[0].ptr, x.b.cols[0].v.str[0].len, "caf\xc3\xa9", 5);
    rd_close(&x);
    /* record ceiling */
    csvavro_csv_options_init(&o);
    o.max_record_bytes = 64;
    char big[400];
    size_t k = (size_t)sprintf(big, "a,b\n1,");
    memset(big + k, 'x', 300);
    k += 300;
    big[k++] = '\n';
    path = write_file("big.csv", big, k);
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    st = cav_csv_reader_next(x.r, &x.b, &err);
    CHECK_INT(st, CSVAVRO_E_LIMIT);
    rd_close(&x);
    /* open quote at the end */
    csvavro_csv_options_init(&o);
    const char *d4 = "a,b\n1,2\n3,\"open\n";
    path = write_file("open.csv", d4, strlen(d4));
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    st = cav_csv_reader_next(x.r, &x.b, &err);
    CHECK_INT(st, CSVAVRO_E_CSV);
    CHECK(strstr(err.message, "quote left open") != NULL);
    rd_close(&x);
}

/* Columns loaded after a filter are converted only for the selected rows: a bad value in a
 * row outside the selection is neither an error nor a reject; one inside it is. */
static void test_load_selected(void) {
    const char *d = "a,b,t\n1,x,2013-01-07 23:54:15\n2,3,bad\n3,4,2013-01-08 00:00:01\n";
    const char *path = write_file("sel.csv", d, strlen(d));
    csvavro_type types[] = {CSVAVRO_TYPE_LONG, CSVAVRO_TYPE_LONG,
                            CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS};
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    csvavro_error err;
    rd x;
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    CHECK_INT(x.b.n_rows, 3);
    CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 0, &err), &err);
    x.b.sel = x.b.sel_store; /* as the filter leaves it: row 2 only */
    x.b.sel[0] = 2;
    x.b.n_sel = 1;
    CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 1, &err), &err);
    CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 2, &err), &err);
    CHECK(x.b.cols[1].valid[2] && x.b.cols[1].v.i64[2] == 4);
    CHECK(x.b.cols[2].valid[2] && x.b.cols[2].v.i64[2] == 1357603201LL * 1000000);
    CHECK_INT(x.b.n_row_errors, 0);
    rd_close(&x);
    /* the bad values in selected rows: the first one fails */
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    x.b.sel = x.b.sel_store;
    x.b.sel[0] = 1;
    x.b.sel[1] = 2;
    x.b.n_sel = 2;
    CHECK_INT(cav_csv_reader_load_column(x.r, &x.b, 2, &err), CSVAVRO_E_VALUE);
    CHECK_INT(err.record, 2);
    CHECK_STR(err.value, "bad");
    rd_close(&x);
    /* reject: only the selected bad row is rejected */
    o.on_error = CSVAVRO_ON_ERROR_SKIP;
    CHECK_OK(rd_open(&x, path, &o, types, &err), &err);
    CHECK_OK(cav_csv_reader_next(x.r, &x.b, &err), &err);
    x.b.sel = x.b.sel_store;
    x.b.sel[0] = 1;
    x.b.n_sel = 1;
    CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 1, &err), &err);
    CHECK_OK(cav_csv_reader_load_column(x.r, &x.b, 2, &err), &err);
    CHECK_INT(x.b.n_row_errors, 1);
    CHECK(x.b.row_error[1] && !x.b.row_error[0]);
    CHECK_INT(cav_csv_reader_rejected(x.r), 1);
    rd_close(&x);
}

static void test_lines_and_rows(void) {
    const char *d = "a,b\r\n1,\"x\r\ny\"\r2,3\n\n4,5";
    const char *path = write_file("lines.csv", d, strlen(d));
    csvavro_file *f;
    csvavro_error err;
    CHECK_OK(csvavro_fs_open_read(cav_io_local(), path, &f, &err), &err);
    int64_t l;
    CHECK_OK(cav_csv_count_lines(f, 0, &l, &err), &err);
    CHECK_INT(l, 1);
    CHECK_OK(cav_csv_count_lines(f, 5, &l, &err), &err);
    CHECK_INT(l, 2);
    CHECK_OK(cav_csv_count_lines(f, 15, &l, &err), &err); /* after "\r\ny\"\r" */
    CHECK_INT(l, 4);
    CHECK_OK(cav_csv_count_lines(f, 20, &l, &err), &err);
    CHECK_INT(l, 6);
    csvavro_file_close(f, NULL);
    /* public row reader */
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    csvavro_csv_reader *r;
    CHECK_OK(csvavro_csv_open(cav_io_local(), path, &o, &r, &err), &err);
    if (!r) return;
    CHECK_INT(csvavro_csv_column_count(r), 2);
    CHECK_STR(csvavro_csv_column_name(r, 1), "b");
    const char *const *fl;
    const size_t *ln;
    size_t n, rows = 0;
    while (csvavro_csv_next_row(r, &fl, &ln, &n, &err) == CSVAVRO_OK && fl) {
        if (rows == 0) CHECK_MEM(fl[1], ln[1], "x\r\ny", 4);
        rows++;
    }
    CHECK_INT(rows, 3);
    csvavro_csv_close(r);
}

/* Every allocation failing in turn: no crash, no leak, an error status. */
static void test_alloc_failures(void) {
    const char *d = "a,b\n1,\"x\"\"y\"\n2,3\n";
    const char *path = write_file("alloc.csv", d, strlen(d));
    int failures_seen = 0;
    for (uint64_t n = 1; n < 200; n++) {
        csvavro_csv_options o;
        csvavro_csv_options_init(&o);
        csvavro_error err;
        cav_alloc_fail_after(n);
        csvavro_schema *s = NULL;
        const char *p[1] = {path};
        csvavro_status st = csvavro_csv_infer(cav_io_local(), p, 1, &o, &s, &err);
        csvavro_csv_reader *r = NULL;
        if (st == CSVAVRO_OK) st = csvavro_csv_open(cav_io_local(), path, &o, &r, &err);
        const char *const *fl;
        const size_t *ln;
        size_t nf;
        while (st == CSVAVRO_OK) {
            st = csvavro_csv_next_row(r, &fl, &ln, &nf, &err);
            if (!fl) break;
        }
        cav_alloc_fail_after(0);
        csvavro_csv_close(r);
        csvavro_schema_free(s);
        if (st != CSVAVRO_OK)
            failures_seen++;
        else
            break;
    }
    CHECK(failures_seen > 5);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_csv_XXXXXX");
    if (!mkdtemp(tmpdir)) return 2;
    CHECK_RUN(test_long());
    CHECK_RUN(test_double());
    CHECK_RUN(test_dates());
    CHECK_RUN(test_double_padded());
    CHECK_RUN(test_date_swar());
    CHECK_RUN(test_bool_exhaustive());
    CHECK_RUN(test_ts_tail_fast());
    CHECK_RUN(test_infer_rules());
    CHECK_RUN(test_infer_file());
    CHECK_RUN(test_infer_duplicate_names());
    CHECK_RUN(test_infer_sampling());
    CHECK_RUN(test_load());
    CHECK_RUN(test_load_fast_shapes());
    CHECK_RUN(test_load_strings_quotes());
    CHECK_RUN(test_errors());
    CHECK_RUN(test_load_selected());
    CHECK_RUN(test_lines_and_rows());
    CHECK_RUN(test_alloc_failures());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    printf("test_csv: %d checks, %d failures\n", check_count, check_failures);
    return check_failures != 0;
}
