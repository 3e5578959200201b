/*
 * filter_split.c — cav_filter_conjuncts: the top-level `and` terms of an expression, found by
 * the lexer alone (no schema), so that a caller can evaluate some terms early (cat prunes a
 * dataset's partitions with the terms over partition columns) and the whole expression later.
 */
#include "filter_front.h"

#include <string.h>

size_t cav_filter_conjuncts(const char *text, uint32_t *starts, uint32_t *ends, size_t max) {
    size_t n = text ? strlen(text) : 0;
    if (!text || max == 0 || n > EXPR_MAX_LEN) return 0;
    csvavro_error err;
    csvavro_error_clear(&err);
    parser P = {.text = text, .n = (uint32_t)n, .err = &err};
    cav_buf_init(&P.sbuf, EXPR_MAX_LEN + 16);
    size_t k = 0;
    int depth = 0;
    bool ok = true, any = false;
    uint32_t from = 0, last_end = 0;
    while (ok && (ok = cav_filter_lex(&P)) && P.tok.kind != K_EOF) {
        int kind = P.tok.kind;
        if (kind == K_LP) depth++;
        if (kind == K_RP && --depth < 0) ok = false;
        if (depth == 0 && kind == K_OR) ok = false; /* `a and b or c`: one term */
        if (depth == 0 && kind == K_AND) {
            if (!any || k + 1 >= max) {
                ok = false;
                break;
            }
            starts[k] = from;
            ends[k++] = last_end;
            from = P.tok.pos + P.tok.len;
            any = false;
            continue;
        }
        any = true;
        last_end = P.tok.pos + P.tok.len;
    }
    cav_buf_free(&P.sbuf);
    if (!ok || !any || depth != 0) { /* no split: the whole text is the one term */
        starts[0] = 0;
        ends[0] = (uint32_t)n;
        return 1;
    }
    starts[k] = from;
    ends[k++] = last_end;
    return k;
}
