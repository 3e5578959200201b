/*
 * gen_wide.c — deterministic generator of a wide CSV for bench/bench_full.sh (issue 17): 300
 * columns of mixed types, LF line endings, a header row.
 *
 *   gen_wide [--bytes N] [--cols C] [--seed S]        (CSV on stdout)
 *
 * Column k has the type k % 6: 0 integer (signed, up to 9 digits), 1 double (fixed point, 1 to
 * 6 decimals, signed), 2 timestamp (2013-01-07 23:54:15), 3 short string (letters, 3 to 12),
 * 4 boolean (true/false), 5 date (2013-01-07). About 1 value in 50 is empty (a null) except in
 * the first column. Rows are written until at least N bytes are out. Same arguments give
 * byte-identical output.
 */
#include "gen_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *put_date(char *p) {
    p = gen_put_uint(p, 2010 + gen_below(6));
    *p++ = '-';
    p = gen_put2(p, 1 + gen_below(12));
    *p++ = '-';
    return gen_put2(p, 1 + gen_below(28));
}

int main(int argc, char **argv) {
    uint64_t bytes = 10000000, seed = 17;
    unsigned cols = 300;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
            bytes = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--cols") && i + 1 < argc)
            cols = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: gen_wide [--bytes N] [--cols C] [--seed S]\n");
            return 2;
        }
    }
    if (cols < 1 || cols > 10000) {
        fprintf(stderr, "gen_wide: --cols must be 1..10000\n");
        return 2;
    }
    gen_state = seed;
    static const char *const kind[6] = {"i", "d", "ts", "s", "b", "dt"};
    for (unsigned k = 0; k < cols; k++)
        printf("%s%s_%u", k ? "," : "", kind[k % 6], k);
    printf("\n");
    size_t cap = (size_t)cols * 32 + 64;
    char *buf = malloc(cap);
    if (!buf) return 1;
    uint64_t out = 0;
    while (out < bytes) {
        char *p = buf;
        for (unsigned k = 0; k < cols; k++) {
            if (k) *p++ = ',';
            if (k && gen_below(50) == 0) continue;
            switch (k % 6) {
            case 0: {
                uint64_t v = gen_rnd() % 1000000000u;
                if (gen_below(4) == 0) *p++ = '-';
                p = gen_put_uint(p, v >> gen_below(24));
                break;
            }
            case 1: {
                unsigned dec = 1 + gen_below(6);
                if (gen_below(3) == 0) *p++ = '-';
                p = gen_put_uint(p, gen_below(100000));
                *p++ = '.';
                for (unsigned d = 0; d < dec; d++)
                    *p++ = (char)('0' + gen_below(10));
                break;
            }
            case 2:
                p = put_date(p);
                *p++ = ' ';
                p = gen_put2(p, gen_below(24));
                *p++ = ':';
                p = gen_put2(p, gen_below(60));
                *p++ = ':';
                p = gen_put2(p, gen_below(60));
                break;
            case 3: {
                unsigned n = 3 + gen_below(10);
                for (unsigned d = 0; d < n; d++)
                    *p++ = (char)('a' + gen_below(26));
                break;
            }
            case 4:
                if (gen_below(2)) {
                    memcpy(p, "true", 4);
                    p += 4;
                } else {
                    memcpy(p, "false", 5);
                    p += 5;
                }
                break;
            default:
                p = put_date(p);
                break;
            }
        }
        *p++ = '\n';
        size_t n = (size_t)(p - buf);
        if (fwrite(buf, 1, n, stdout) != n) {
            perror("gen_wide: write");
            free(buf);
            return 1;
        }
        out += n;
    }
    free(buf);
    if (fflush(stdout) != 0) {
        perror("gen_wide: write");
        return 1;
    }
    return 0;
}
