/*
 * fuzz_csv_value.c — typed value parsing (src/csv/csv_value.c) and inference classes.
 *
 * The whole input is one field text. Checks, against independent references:
 *   long    accepted iff it is [+-]?digits within int64 (strtoll, errno); same value;
 *           cav_parse_long and cav_parse_long_ex agree; the overflow flag only for all-digit
 *           text outside int64.
 *   double  accepted iff it matches the decimal grammar (or nan/inf/infinity), checked here by
 *           a separate scanner; the value is bit-identical to strtod's.
 *   float   accepted iff double is; bit-identical to strtof.
 *   date    accepted iff YYYY-MM-DD names a real Gregorian day (checked here with a month
 *           table); days equal timegm()'s / 86400.
 *   timestamp = date part + tail; micros agree with the two halves; zone flag matches a suffix.
 *   inference: a value classified LONG/DOUBLE/DATE/... is accepted by that parser.
 */
#include "csv/csv.h"
#include "fuzz_util.h"

#include <errno.h>
#include <math.h>
#include <time.h>

static bool digits_only(const char *s, size_t n) {
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static bool ieq(const char *s, size_t n, const char *lit) {
    if (strlen(lit) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != lit[i]) return false;
    }
    return true;
}

/* [+-]? (D+ ('.' D*)? | '.' D+) ([eE] [+-]? D+)?  |  [+-]? (nan|inf|infinity) */
static bool ref_decimal(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (ieq(s + i, n - i, "nan") || ieq(s + i, n - i, "inf") || ieq(s + i, n - i, "infinity"))
        return true;
    size_t a = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t int_digits = i - a, frac_digits = 0;
    if (i < n && s[i] == '.') {
        size_t b = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        frac_digits = i - b;
    }
    if (int_digits + frac_digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t c = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == c) return false;
    }
    return i == n;
}

static int ref_date(const char *s, size_t n, int64_t *days) {
    if (n < 10) return 0;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) return 0;
    int y = atoi((char[]){s[0], s[1], s[2], s[3], 0});
    int m = atoi((char[]){s[5], s[6], 0});
    int d = atoi((char[]){s[8], s[9], 0});
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > dim[m - 1] + (m == 2 && leap)) return 0;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    *days = (int64_t)t / 86400;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *s = malloc(size + 1); /* exact size: ASan sees any read past n */
    memcpy(s, data, size);
    char *z = malloc(size + 1); /* NUL-terminated copy for libc */
    memcpy(z, data, size);
    z[size] = '\0';
    size_t n = size;
    bool has_nul = memchr(data, 0, size) != NULL;

    /* bool */
    uint8_t b = 7;
    bool okb = cav_parse_bool(s, n, &b);
    FUZZ_CHECK(okb == (ieq(s, n, "true") || ieq(s, n, "false")), "bool %d", okb);
    if (okb) FUZZ_CHECK(b == (ieq(s, n, "true") ? 1 : 0), "bool value");

    /* long */
    int64_t v1 = 0, v2 = 0;
    bool ovf = false;
    bool ok1 = cav_parse_long(s, n, &v1);
    bool ok2 = cav_parse_long_ex(s, n, &v2, &ovf);
    FUZZ_CHECK(ok1 == ok2, "parse_long %d vs parse_long_ex %d", ok1, ok2);
    if (ok1) FUZZ_CHECK(v1 == v2, "long values differ");
    size_t sign = n && (s[0] == '+' || s[0] == '-');
    bool intsyn = digits_only(s + sign, n - sign);
    if (intsyn && !has_nul) {
        errno = 0;
        char *end;
        long long r = strtoll(z, &end, 10);
        bool lok = errno == 0 && end == z + n;
        FUZZ_CHECK(ok1 == lok, "long '%s': ours %d, strtoll %d", z, ok1, lok);
        if (lok) FUZZ_CHECK(v1 == r, "long '%s': %lld vs %lld", z, (long long)v1, r);
        FUZZ_CHECK(ovf == !lok, "overflow flag '%s'", z);
    } else {
        FUZZ_CHECK(!ok1 && !ovf, "non-integer accepted as long");
    }

    /* double / float */
    double d = 0;
    bool okd = cav_parse_double(s, n, &d);
    bool dsyn = ref_decimal(s, n);
    FUZZ_CHECK(okd == dsyn, "double syntax '%s': ours %d, reference %d", z, okd, dsyn);
    if (okd) {
        char *end;
        double r = strtod(z, &end);
        FUZZ_CHECK(end == z + n, "strtod stops early on '%s'", z);
        FUZZ_CHECK((isnan(d) && isnan(r)) || memcmp(&d, &r, sizeof d) == 0,
                   "double '%s': %.17g vs strtod %.17g", z, d, r);
        float f = 0;
        FUZZ_CHECK(cav_parse_float(s, n, &f), "float rejects '%s'", z);
        float rf = strtof(z, &end);
        FUZZ_CHECK((isnan(f) && isnan(rf)) || memcmp(&f, &rf, sizeof f) == 0,
                   "float '%s': %.9g vs strtof %.9g", z, f, rf);
    } else {
        float f;
        FUZZ_CHECK(!cav_parse_float(s, n, &f), "float accepts what double refuses");
    }

    /* the column loader's padded double path (the field followed by 17 readable bytes, here
     * the input's own next bytes or zeros, as in the reader's padded buffer): the same answer
     * and the same bits as cav_parse_double */
    {
        char *pad = calloc(size + 17, 1);
        memcpy(pad, data, size);
        double dp = 0;
        bool okp = cav_parse_double_padded(pad, n, &dp);
        FUZZ_CHECK(okp == okd, "padded double '%s': %d vs %d", z, okp, okd);
        if (okp && okd)
            FUZZ_CHECK((isnan(d) && isnan(dp)) || memcmp(&d, &dp, sizeof d) == 0,
                       "padded double '%s': %.17g vs %.17g", z, dp, d);
        /* and on every prefix of the input, the rest of it in the padding */
        for (size_t k = 0; k < n && k < 24; k++) {
            double a = 0, b2 = 0;
            bool x = cav_parse_double_padded(pad, k, &a), y = cav_parse_double(pad, k, &b2);
            FUZZ_CHECK(x == y && (!x || (isnan(a) && isnan(b2)) || memcmp(&a, &b2, 8) == 0),
                       "padded double prefix %zu of '%s'", k, z);
        }
        free(pad);
    }

    /* date */
    int32_t days = 0;
    bool okdate = cav_parse_date(s, n, &days);
    int64_t rdays = 0;
    bool rdate = n == 10 && ref_date(s, n, &rdays);
    FUZZ_CHECK(okdate == rdate, "date '%s': ours %d, reference %d", z, okdate, rdate);
    if (okdate) FUZZ_CHECK(days == rdays, "date '%s': %d vs %lld", z, days, (long long)rdays);
    if (n >= 10) { /* the loader's word-wise date check, on the first ten bytes */
        uint64_t w;
        memcpy(&w, s, 8);
        int64_t sd = 0, rd = 0;
        bool oks = cav_date_swar(w, (unsigned)(uint8_t)s[8] | (unsigned)(uint8_t)s[9] << 8, &sd);
        bool okr = ref_date(s, 10, &rd);
        FUZZ_CHECK(oks == okr, "date swar '%.10s': %d, reference %d", z, oks, okr);
        if (oks)
            FUZZ_CHECK(sd == rd, "date swar '%.10s': %lld vs %lld", z, (long long)sd,
                       (long long)rd);
    }

    /* timestamp */
    int64_t us = 0, td = 0, tod = 0;
    bool zone = false, zone2 = false;
    bool okts = cav_parse_timestamp(s, n, &us, &zone);
    bool okd2 = cav_parse_ts_date(s, n, &td);
    bool okt2 = n >= 10 && cav_parse_ts_tail(s, n, &tod, &zone2);
    FUZZ_CHECK(okts == (okd2 && okt2), "timestamp halves disagree on '%s'", z);
    if (okts) {
        FUZZ_CHECK(us == td * 86400000000LL + tod && zone == zone2, "timestamp value '%s'", z);
        FUZZ_CHECK(ref_date(s, n, &rdays) && rdays == td, "timestamp date '%s'", z);
        bool suffix = s[n - 1] == 'Z' ||
                      (n > 19 && (memchr(s + 19, '+', n - 19) || memchr(s + 19, '-', n - 19)));
        FUZZ_CHECK(zone == suffix, "zone flag '%s'", z);
        /* the time of day before the zone: 0 <= tod + offset < one day */
        FUZZ_CHECK(tod > -86400000000LL * 2 && tod < 86400000000LL * 2, "tod range '%s'", z);
    }

    /* inference classes are promises about the parsers */
    cav_infer_class c = cav_infer_classify(s, n);
    switch (c) {
    case CAV_INFER_BOOL:
        FUZZ_CHECK(okb, "classified bool, not a bool");
        break;
    case CAV_INFER_LONG:
        FUZZ_CHECK(ok1, "classified long, not a long: '%s'", z);
        break;
    case CAV_INFER_DOUBLE:
        FUZZ_CHECK(okd, "classified double, not a double: '%s'", z);
        break;
    case CAV_INFER_DATE:
        FUZZ_CHECK(okdate, "classified date, not a date: '%s'", z);
        break;
    case CAV_INFER_LOCAL_TS:
        FUZZ_CHECK(okts && !zone, "classified local timestamp: '%s'", z);
        break;
    case CAV_INFER_INSTANT:
        FUZZ_CHECK(okts && zone, "classified instant: '%s'", z);
        break;
    default:
        break;
    }
    for (int k = CAV_INFER_NONE; k <= CAV_INFER_STRING; k++) {
        cav_infer_class j = cav_infer_join(c, (cav_infer_class)k);
        FUZZ_CHECK(j == cav_infer_join((cav_infer_class)k, c), "join not symmetric");
        FUZZ_CHECK(j >= c && j >= (cav_infer_class)k, "join narrows");
    }
    free(s);
    free(z);
    return 0;
}
