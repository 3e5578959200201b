/*
 * core_datetime.h — the one date/time text parser of csvavro, shared by CSV values
 * (src/csv/csv_value.c: date and timestamp columns, inference) and `--where` literals
 * (src/filter/filter_types.c). Inline, because the CSV column loader calls it per value.
 *
 * One grammar:
 *   date      := YYYY '-' MM '-' DD                      (proleptic Gregorian, year 0000..9999)
 *   timestamp := date ('T' | ' ') HH ':' MM [':' SS ['.' fraction]] [zone]
 *   zone      := 'Z' | ('+' | '-') HH [':'] MM
 * Each caller states what it stores on top of the grammar: a CSV value must carry the seconds
 * and at most 6 fraction digits (microseconds: nothing is silently cut); a filter literal may
 * omit the seconds and carry any number of digits (it compares exactly, cav_dt_time.sub_ns).
 */
#ifndef CAV_CORE_DATETIME_H
#define CAV_CORE_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation; any year, floor
 * division, so year 0 and negative years are right). */
static inline int64_t cav_days_from_civil(int64_t y, unsigned m, unsigned d) {
    /* shift the year to start in March so the leap day is the last day of the year */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                            /* 0..399 */
    int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static inline bool cav_dt_two(const char *s, unsigned *v) {
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return false;
    *v = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    return true;
}

/* The date s[0..10) (the caller checked that 10 bytes are there) as days since 1970-01-01. */
static inline bool cav_dt_date(const char *s, int64_t *days) {
    unsigned y1, y2, mo, d;
    if (!cav_dt_two(s, &y1) || !cav_dt_two(s + 2, &y2) || s[4] != '-' || !cav_dt_two(s + 5, &mo) ||
        s[7] != '-' || !cav_dt_two(s + 8, &d))
        return false;
    unsigned y = y1 * 100 + y2;
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > (unsigned)dim[mo - 1] + (mo == 2 && leap)) return false;
    *days = cav_days_from_civil(y, mo, d);
    return true;
}

typedef struct cav_dt_time {
    int64_t secs;         /* seconds of the day minus the zone offset (UTC when has_zone) */
    uint32_t nanos;       /* the first 9 fraction digits, as nanoseconds */
    unsigned frac_digits; /* fraction digits written (0: none) */
    bool has_seconds, has_zone;
    bool sub_ns; /* a nonzero digit past the 9th: the value lies strictly after nanos */
} cav_dt_time;

/* The part of a timestamp after its date, s[10..n) (n > 10): separator, time, zone. */
static inline bool cav_dt_time_of(const char *s, size_t n, cav_dt_time *t) {
    unsigned hh, mi, ss = 0;
    if (n < 16 || (s[10] != ' ' && s[10] != 'T') || !cav_dt_two(s + 11, &hh) || s[13] != ':' ||
        !cav_dt_two(s + 14, &mi))
        return false;
    size_t i = 16;
    t->nanos = 0;
    t->frac_digits = 0;
    t->sub_ns = false;
    t->has_seconds = false;
    if (i < n && s[i] == ':') {
        if (n < 19 || !cav_dt_two(s + 17, &ss)) return false;
        t->has_seconds = true;
        i = 19;
        if (i < n && s[i] == '.') {
            i++;
            uint32_t f = 0;
            unsigned k = 0;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (k < 9)
                    f = f * 10 + (uint32_t)(s[i] - '0');
                else if (s[i] != '0')
                    t->sub_ns = true;
                if (k < 1000) k++;
                i++;
            }
            if (k == 0) return false;
            for (unsigned z = k; z < 9; z++)
                f *= 10;
            t->nanos = f;
            t->frac_digits = k;
        }
    }
    if (hh > 23 || mi > 59 || ss > 59) return false;
    int64_t off = 0;
    t->has_zone = false;
    if (i < n) {
        if (s[i] == 'Z' && i + 1 == n) {
            t->has_zone = true;
        } else if (s[i] == '+' || s[i] == '-') {
            unsigned oh, om;
            size_t rest = n - i - 1;
            const char *z = s + i + 1;
            if (rest == 5 && z[2] == ':' && cav_dt_two(z, &oh) && cav_dt_two(z + 3, &om)) {
            } else if (rest == 4 && cav_dt_two(z, &oh) && cav_dt_two(z + 2, &om)) {
            } else {
                return false;
            }
            if (oh > 23 || om > 59) return false;
            off = (int64_t)(oh * 60 + om) * 60;
            if (s[i] == '-') off = -off;
            t->has_zone = true;
        } else {
            return false;
        }
    }
    t->secs = (int64_t)(hh * 3600 + mi * 60 + ss) - off;
    return true;
}

#endif /* CAV_CORE_DATETIME_H */
