/*
 * filter_suggest.c — did-you-mean for unknown column names (case-insensitive edit distance).
 */
#include "filter_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > 127 || m > 127) return SIZE_MAX;
    size_t row[128];
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            int ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z') ca += 32;
            if (cb >= 'A' && cb <= 'Z') cb += 32;
            size_t best = diag + (ca != cb);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

const char *cav_filter_suggest(const csvavro_schema *s, const char *name) {
    const char *best = NULL;
    size_t bd = SIZE_MAX;
    size_t nl = strlen(name);
    size_t limit = nl < 6 ? 2 : nl / 3 + 1;
    for (size_t i = 0; i < csvavro_schema_field_count(s); i++) {
        const char *cand[2] = {csvavro_schema_field_name(s, i),
                               csvavro_schema_field_original(s, i)};
        for (int k = 0; k < 2; k++) {
            if (!cand[k]) continue;
            size_t d = edit_distance(name, cand[k]);
            if (d < bd) {
                bd = d;
                best = csvavro_schema_field_name(s, i);
            }
        }
    }
    return bd <= limit ? best : NULL;
}
