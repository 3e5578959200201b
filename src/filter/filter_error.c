/*
 * filter_error.c — errors of the `--where` front end: the message, the expression around the
 * offending token and a caret line under it.
 */
#include "filter_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

uint32_t cav_filter_cp_count(const char *s, uint32_t from, uint32_t to) {
    uint32_t c = 0;
    for (uint32_t i = from; i < to; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

void *cav_filter_perr(parser *P, uint32_t pos, uint32_t len, const char *fmt, ...) CAV_PRINTF(4, 5);
void *cav_filter_perr(parser *P, uint32_t pos, uint32_t len, const char *fmt, ...) {
    if (P->st != CSVAVRO_OK) return NULL; /* keep the first error */
    if (P->err == NULL) {
        P->st = CSVAVRO_E_EXPR;
        return NULL;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, 400, fmt, ap);
    va_end(ap);
    if (m < 0) m = 0;
    if (m > 399) m = 399;
    if (pos > P->n) pos = P->n;
    if (len == 0 || pos + len > P->n) len = pos < P->n ? 1 : 0;
    /* a window of the expression around pos, at most ~150 code points */
    uint32_t start = 0, end = P->n;
    if (cav_filter_cp_count(P->text, 0, P->n) > 150) {
        start = pos > 60 ? pos - 60 : 0;
        while (start > 0 && ((unsigned char)P->text[start] & 0xC0) == 0x80)
            start--;
        end = start;
        for (uint32_t c = 0; end < P->n && c < 150; end++)
            c += ((unsigned char)P->text[end] & 0xC0) != 0x80;
        while (end < P->n && ((unsigned char)P->text[end] & 0xC0) == 0x80)
            end++;
    }
    size_t o = (size_t)m;
    o += (size_t)snprintf(msg + o, sizeof msg - o, "\n  %s", start > 0 ? "..." : "");
    for (uint32_t i = start; i < end && o + 2 < sizeof msg; i++) {
        char c = P->text[i];
        msg[o++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    }
    if (end < P->n && o + 4 < sizeof msg) o += (size_t)snprintf(msg + o, sizeof msg - o, "...");
    o += (size_t)snprintf(msg + o, sizeof msg - o, "\n  %s", start > 0 ? "   " : "");
    uint32_t sp = cav_filter_cp_count(P->text, start, pos);
    for (uint32_t i = 0; i < sp && o + 2 < sizeof msg; i++)
        msg[o++] = ' ';
    if (o + 2 < sizeof msg) msg[o++] = '^';
    uint32_t tl = cav_filter_cp_count(P->text, pos, CAV_MIN(pos + len, end));
    for (uint32_t i = 1; i < tl && o + 2 < sizeof msg; i++)
        msg[o++] = '~';
    msg[o < sizeof msg ? o : sizeof msg - 1] = 0;
    cav_err(P->err, CSVAVRO_E_EXPR, "%s", msg);
    P->err->offset = cav_filter_cp_count(P->text, 0, pos);
    cav_err_value(P->err, P->text + pos, len);
    P->st = CSVAVRO_E_EXPR;
    return NULL;
}

void *cav_filter_nomem(parser *P) {
    if (P->st == CSVAVRO_OK) {
        cav_err(P->err, CSVAVRO_E_NOMEM, "out of memory compiling the filter expression");
        P->st = CSVAVRO_E_NOMEM;
    }
    return NULL;
}
