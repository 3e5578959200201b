/*
 * gen_taxi.c — deterministic generator of NYC-taxi-like CSV (the 14 columns of the 2013
 * trip_data files), for tests, the demo and the benchmarks.
 *
 *   gen_taxi [--rows N | --bytes N] [--seed S] [--lf] [-o FILE]
 *
 * Same seed and size give byte-identical output. CRLF line endings by default (as the
 * original files). passenger_count is 0..6 with a skew like the real data (mostly 1);
 * store_and_fwd_flag is N, Y or empty (a null); datetimes look like 2013-01-07 23:54:15.
 * Written with hand-rolled formatting into one reused buffer: ~1 GB in a few seconds.
 */
#include "gen_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fixed-point decimal with `dec` digits, sign allowed */
static char *put_fixed(char *p, int64_t v, int dec) {
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    int64_t div = 1;
    for (int i = 0; i < dec; i++)
        div *= 10;
    p = gen_put_uint(p, (uint64_t)(v / div));
    *p++ = '.';
    int64_t frac = v % div;
    for (int i = dec - 1; i >= 0; i--) {
        p[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    return p + dec;
}
static char *put_hex32(char *p) {
    static const char hx[] = "0123456789ABCDEF";
    uint64_t a = gen_rnd(), b = gen_rnd();
    for (int i = 0; i < 16; i++)
        p[i] = hx[(a >> (i * 4)) & 15];
    for (int i = 0; i < 16; i++)
        p[16 + i] = hx[(b >> (i * 4)) & 15];
    return p + 32;
}

/* seconds since 2013-01-01 00:00:00 -> "2013-MM-DD HH:MM:SS" (2013 is not a leap year) */
static char *put_datetime(char *p, uint32_t s) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    uint32_t day = s / 86400, rem = s % 86400;
    int m = 0;
    while (m < 11 && day >= (uint32_t)mdays[m])
        day -= (uint32_t)mdays[m++];
    memcpy(p, "2013-", 5);
    p += 5;
    p = gen_put2(p, (unsigned)m + 1);
    *p++ = '-';
    p = gen_put2(p, day + 1);
    *p++ = ' ';
    p = gen_put2(p, rem / 3600);
    *p++ = ':';
    p = gen_put2(p, rem / 60 % 60);
    *p++ = ':';
    return gen_put2(p, rem % 60);
}

int main(int argc, char **argv) {
    uint64_t rows = 0, bytes = 0, seed = 1;
    int lf = 0;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
            bytes = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--lf"))
            lf = 1;
        else if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "usage: gen_taxi [--rows N | --bytes N] [--seed S] [--lf] [-o FILE]\n");
            return 2;
        }
    }
    if (!rows && !bytes) rows = 1000;
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        perror(out);
        return 1;
    }
    gen_state = seed * 0x2545F4914F6CDD1Dull + 7;
    const char *eol = lf ? "\n" : "\r\n";
    size_t eol_len = strlen(eol);
    static char buf[1 << 20];
    char *p = buf;
    p += sprintf(p,
                 "medallion,hack_license,vendor_id,rate_code,store_and_fwd_flag,pickup_datetime,"
                 "dropoff_datetime,passenger_count,trip_time_in_secs,trip_distance,"
                 "pickup_longitude,pickup_latitude,dropoff_longitude,dropoff_latitude%s",
                 eol);
    uint64_t written = 0;
    static const uint8_t pc_table[100] = {
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6};
    for (uint64_t r = 0;; r++) {
        if (rows && r >= rows) break;
        if (bytes && written + (uint64_t)(p - buf) >= bytes) break;
        if (p - buf > (long)sizeof buf - 512) {
            fwrite(buf, 1, (size_t)(p - buf), f);
            written += (uint64_t)(p - buf);
            p = buf;
        }
        p = put_hex32(p);
        *p++ = ',';
        p = put_hex32(p);
        *p++ = ',';
        memcpy(p, gen_below(2) ? "CMT," : "VTS,", 4);
        p += 4;
        uint32_t rc = gen_below(100);
        *p++ = (char)('0' + (rc < 97 ? 1 : rc < 99 ? 2 : 5));
        *p++ = ',';
        uint32_t sf = gen_below(100);
        if (sf < 48)
            *p++ = 'N';
        else if (sf < 50)
            *p++ = 'Y';
        *p++ = ',';
        uint32_t pickup = gen_below(365u * 86400u - 7200u);
        uint32_t tt = 60 + gen_below(3000);
        p = put_datetime(p, pickup);
        *p++ = ',';
        p = put_datetime(p, pickup + tt);
        *p++ = ',';
        *p++ = (char)('0' + pc_table[gen_below(100)]);
        *p++ = ',';
        p = gen_put_uint(p, tt);
        *p++ = ',';
        p = put_fixed(p, (int64_t)(tt / 120 * 100 + gen_below(100)), 2);
        *p++ = ',';
        p = put_fixed(p, -74000000 + (int64_t)gen_below(200000), 6);
        *p++ = ',';
        p = put_fixed(p, 40700000 + (int64_t)gen_below(150000), 6);
        *p++ = ',';
        p = put_fixed(p, -74000000 + (int64_t)gen_below(200000), 6);
        *p++ = ',';
        p = put_fixed(p, 40700000 + (int64_t)gen_below(150000), 6);
        memcpy(p, eol, eol_len);
        p += eol_len;
    }
    fwrite(buf, 1, (size_t)(p - buf), f);
    int bad = fflush(f) != 0 || ferror(f);
    if (f != stdout && fclose(f) != 0) bad = 1;
    if (bad) fprintf(stderr, "gen_taxi: write failed\n");
    return bad ? 1 : 0;
}
