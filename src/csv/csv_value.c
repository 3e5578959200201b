/*
 * csv_value.c — exact parsing of typed CSV values: boolean, long/int, double/float, date and
 * timestamp.
 *
 * Doubles: a fast path takes plain decimals whose digits form an integer m <= 2^53 and whose
 * decimal exponent e satisfies |e| <= 22; then m and 10^|e| are exact doubles and one IEEE
 * multiply or divide rounds correctly, so the result equals strtod's. Everything else (more
 * digits, big exponents) is validated against the decimal grammar and handed to strtod on a
 * NUL-terminated copy. Hex floats and other strtod extensions are refused.
 *
 * Dates/timestamps use the proleptic Gregorian calendar; days come from a closed formula over
 * 400-year eras (no tables, no time zone database, no libc time functions).
 */
#include "csv.h"
#include "../core/core_datetime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline bool is_digit(char c) {
    return (unsigned)(c - '0') < 10;
}
static inline char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool ieq(const char *s, size_t n, const char *lit) {
    size_t l = strlen(lit);
    if (n != l) return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != lit[i]) return false;
    return true;
}

bool cav_parse_bool(const char *s, size_t n, uint8_t *out) {
    /* true/false in any case. OR-ing 0x20 into a byte gives the lowercase letter t exactly
     * when the byte is t or its uppercase form (every target byte is a lowercase letter): the
     * case-insensitive comparison with four bytes at a time */
    if (n != 4 && n != 5) return false;
    uint32_t w;
    memcpy(&w, s, 4);
    w |= 0x20202020u;
    if (n == 4 && memcmp(&w, "true", 4) == 0) {
        *out = 1;
        return true;
    }
    if (n == 5 && memcmp(&w, "fals", 4) == 0 && (s[4] | 0x20) == 'e') {
        *out = 0;
        return true;
    }
    return false;
}

bool cav_parse_long_ex(const char *s, size_t n, int64_t *out, bool *overflow) {
    *overflow = false;
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n) return false;
    uint64_t v = 0;
    if (n - i <= 18) {
        /* up to 18 digits cannot overflow: no range test per digit */
        for (; i < n; i++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (d > 9) return false;
            v = v * 10 + d;
        }
        *out = neg ? -(int64_t)v : (int64_t)v;
        return true;
    }
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return false;
        if (v > (limit - d) / 10) {
            /* keep validating: only an all-digit string counts as an overflowing integer */
            for (i++; i < n; i++)
                if (!is_digit(s[i])) return false;
            *overflow = true;
            return false;
        }
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

bool cav_parse_long(const char *s, size_t n, int64_t *out) {
    return cav_parse_long_inline(s, n, out);
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Checks the decimal grammar [+-]?(D+(.D*)?|.D+)([eE][+-]?D+)? or nan/inf/infinity. */
static bool decimal_syntax(const char *s, size_t n, bool *special) {
    size_t i = 0;
    *special = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (ieq(s + i, n - i, "nan") || ieq(s + i, n - i, "inf") || ieq(s + i, n - i, "infinity")) {
        *special = true;
        return true;
    }
    size_t digits = 0;
    while (i < n && is_digit(s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, digits++;
    }
    if (digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t ed = 0;
        while (i < n && is_digit(s[i]))
            i++, ed++;
        if (ed == 0) return false;
    }
    return i == n;
}

static bool strtod_copy(const char *s, size_t n, double *out) {
    char stack[128];
    char *p = n < sizeof stack ? stack : cav_malloc(n + 1);
    if (!p) return false;
    memcpy(p, s, n);
    p[n] = '\0';
    char *end;
    *out = strtod(p, &end);
    bool ok = end == p + n;
    if (p != stack) cav_free(p);
    return ok;
}

/* Fast path (Clinger): at most 19 mantissa digits (leading zeros included: no overflow), exact
 * as an integer m <= 2^53, times or divided by an exact power of ten 10^0..10^22 — one
 * correctly rounded operation on exact operands, so the result is strtod's. Everything else
 * (longer mantissas, large exponents, nan/inf) goes to the grammar check and strtod. */
bool cav_parse_double(const char *s, size_t n, double *out) {
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    uint64_t m = 0;
    size_t start = i;
    unsigned d;
    while (i < n && (d = (unsigned)(s[i] - '0')) <= 9) {
        m = m * 10 + d;
        i++;
    }
    size_t digits = i - start, frac = 0;
    if (i < n && s[i] == '.') {
        size_t fs = ++i;
        while (i < n && (d = (unsigned)(s[i] - '0')) <= 9) {
            m = m * 10 + d;
            i++;
        }
        frac = i - fs;
        digits += frac;
    }
    int e10 = 0;
    bool fast = digits >= 1 && digits <= 19;
    if (fast && i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        bool eneg = false;
        if (j < n && (s[j] == '+' || s[j] == '-')) eneg = s[j++] == '-';
        int ev = 0, ed = 0;
        while (j < n && is_digit(s[j]) && ed < 4)
            ev = ev * 10 + (s[j++] - '0'), ed++;
        if (ed == 0 || ed == 4) fast = false;
        e10 = eneg ? -ev : ev;
        i = j;
    }
    if (fast && i == n && m <= (1ull << 53)) {
        int e = e10 - (int)frac;
        if (e >= -22 && e <= 22) {
            double v = (double)m;
            v = e >= 0 ? v * pow10_exact[e] : v / pow10_exact[-e];
            *out = neg ? -v : v;
            return true;
        }
    }
    bool special;
    if (!decimal_syntax(s, n, &special)) return false;
    return strtod_copy(s, n, out);
}

bool cav_parse_float(const char *s, size_t n, float *out) {
    bool special;
    if (!decimal_syntax(s, n, &special)) return false;
    char stack[128];
    char *p = n < sizeof stack ? stack : cav_malloc(n + 1);
    if (!p) return false;
    memcpy(p, s, n);
    p[n] = '\0';
    char *end;
    *out = strtof(p, &end);
    bool ok = end == p + n;
    if (p != stack) cav_free(p);
    return ok;
}

size_t cav_latin1_utf8_len(const char *s, size_t n) {
    size_t hi = 0;
    for (size_t i = 0; i < n; i++)
        hi += (uint8_t)s[i] >> 7;
    return n + hi;
}

size_t cav_latin1_to_utf8(const char *s, size_t n, char *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c < 0x80) {
            out[k++] = (char)c;
        } else {
            out[k++] = (char)(0xC0 | (c >> 6));
            out[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    return k;
}

bool cav_parse_date(const char *s, size_t n, int32_t *days) {
    /* the only shape a date has, "YYYY-MM-DD": checked whole, word-wise (as the timestamps'
     * fast path does; the same answers as cav_dt_date, differential-tested) */
    if (n != 10) return false;
    uint64_t d8;
    memcpy(&d8, s, 8);
    unsigned d2 = (unsigned)(uint8_t)s[8] | (unsigned)(uint8_t)s[9] << 8;
    int64_t d;
    if (!cav_date_swar(d8, d2, &d)) return false;
    *days = (int32_t)d;
    return true;
}

bool cav_parse_timestamp(const char *s, size_t n, int64_t *micros, bool *has_zone) {
    int64_t days, tod;
    if (n < 19 || !cav_dt_date(s, &days) || !cav_parse_ts_tail(s, n, &tod, has_zone)) return false;
    *micros = days * 86400 * 1000000 + tod;
    return true;
}

bool cav_parse_ts_date(const char *s, size_t n, int64_t *days) {
    return n >= 10 && cav_dt_date(s, days);
}

bool cav_parse_ts_tail(const char *s, size_t n, int64_t *tod, bool *has_zone) {
    int64_t secs;
    /* fast path: exactly "YYYY-MM-DD HH:MM:SS" (or with 'T'), no fraction, no zone */
    if (n == 19 && (s[10] == ' ' || s[10] == 'T') && cav_hms_swar(s + 11, &secs)) {
        *has_zone = false;
        *tod = secs * 1000000;
        return true;
    }
    cav_dt_time t;
    /* a CSV value carries the seconds and at most microseconds (nothing is silently cut) */
    if (n < 19 || !cav_dt_time_of(s, n, &t) || !t.has_seconds || t.frac_digits > 6) return false;
    *has_zone = t.has_zone;
    *tod = t.secs * 1000000 + t.nanos / 1000;
    return true;
}

/* ---------------------------------------------------------------- exact decimals */

const char *cav_parse_decimal(const char *s, size_t n, int precision, int scale, int fixed_size,
                              uint8_t out[64], size_t *len) {
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    size_t int_start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t int_end = i, frac_start = i, frac_end = i;
    if (i < n && s[i] == '.') {
        frac_start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        frac_end = i;
    }
    if (i != n || (int_end == int_start && frac_end == frac_start))
        return "is not a decimal number ([+-]digits[.digits], no exponent)";
    /* the integer part without its leading zeros; the fraction without trailing zeros */
    while (int_start < int_end && s[int_start] == '0')
        int_start++;
    size_t frac_sig = frac_end;
    while (frac_sig > frac_start && s[frac_sig - 1] == '0')
        frac_sig--;
    if (frac_sig - frac_start > (size_t)scale) return "has more fractional digits than the scale";
    if (int_end - int_start > (size_t)(precision - scale))
        return "has more digits than the precision allows";
    /* magnitude in a 64-byte big-endian accumulator: acc = acc * 10 + d, for the integer
     * digits, then the fraction padded with zeros to `scale` digits */
    uint8_t acc[64] = {0};
    for (size_t k = int_start; k < int_end + (size_t)scale; k++) {
        unsigned d = 0;
        if (k < int_end)
            d = (unsigned)(s[k] - '0');
        else {
            size_t f = frac_start + (k - int_end);
            d = f < frac_end ? (unsigned)(s[f] - '0') : 0;
        }
        unsigned carry = d;
        for (int b = 63; b >= 0; b--) {
            unsigned v = (unsigned)acc[b] * 10u + carry;
            acc[b] = (uint8_t)(v & 0xff);
            carry = v >> 8;
        }
    }
    if (neg) { /* two's complement: invert and add one (a zero stays zero) */
        unsigned carry = 1;
        for (int b = 63; b >= 0; b--) {
            unsigned v = (unsigned)(uint8_t)~acc[b] + carry;
            acc[b] = (uint8_t)(v & 0xff);
            carry = v >> 8;
        }
    }
    size_t start;
    if (fixed_size) {
        start = 64 - (size_t)fixed_size; /* the precision check guarantees it fits */
    } else {
        start = 0;
        while (start < 63 && ((acc[start] == 0 && !(acc[start + 1] & 0x80)) ||
                              (acc[start] == 0xff && (acc[start + 1] & 0x80))))
            start++;
    }
    *len = 64 - start;
    memcpy(out, acc + start, *len);
    return NULL;
}
