/*
 * filter_lex.c — the `--where` lexer: numbers, quoted strings and names, keywords, operators.
 */
#include "filter_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *w;
    int kind;
} keywords[] = {{"and", K_AND}, {"or", K_OR},     {"not", K_NOT},   {"in", K_IN},
                {"is", K_IS},   {"null", K_NULL}, {"true", K_TRUE}, {"false", K_FALSE}};

int cav_filter_keyword_kind(const char *s, size_t n) {
    for (size_t k = 0; k < CAV_ARRAY_LEN(keywords); k++)
        if (strlen(keywords[k].w) == n && strncasecmp(keywords[k].w, s, n) == 0)
            return keywords[k].kind;
    return -1;
}

/* Decodes a quoted token (closing quote q, doubled q = one q) into P->sbuf. */
static bool lex_quoted(parser *P, char q, const char *what) {
    uint32_t start = P->at;
    cav_buf_reset(&P->sbuf);
    P->at++;
    for (;;) {
        if (P->at >= P->n) {
            cav_filter_perr(P, start, 1, "unterminated %s (missing closing %c)", what, q);
            return false;
        }
        char c = P->text[P->at++];
        if (c == q) {
            if (P->at < P->n && P->text[P->at] == q) {
                P->at++;
            } else {
                break;
            }
        }
        if (cav_buf_append(&P->sbuf, &c, 1, NULL) != CSVAVRO_OK) {
            cav_filter_nomem(P);
            return false;
        }
    }
    if (cav_buf_append(&P->sbuf, "", 1, NULL) != CSVAVRO_OK) {
        cav_filter_nomem(P);
        return false;
    }
    P->tok.s = (char *)P->sbuf.data;
    P->tok.slen = (uint32_t)(P->sbuf.len - 1);
    return true;
}

bool cav_filter_lex(parser *P) {
    const char *t = P->text;
    while (P->at < P->n &&
           (t[P->at] == ' ' || t[P->at] == '\t' || t[P->at] == '\n' || t[P->at] == '\r'))
        P->at++;
    token *k = &P->tok;
    memset(k, 0, sizeof *k);
    k->pos = P->at;
    if (P->at >= P->n) {
        k->kind = K_EOF;
        return true;
    }
    char c = t[P->at];
    char d = P->at + 1 < P->n ? t[P->at + 1] : 0;
    if ((c >= '0' && c <= '9') || (c == '.' && d >= '0' && d <= '9')) {
        uint32_t s = P->at;
        bool flt = false;
        while (P->at < P->n && t[P->at] >= '0' && t[P->at] <= '9')
            P->at++;
        if (P->at < P->n && t[P->at] == '.') {
            flt = true;
            P->at++;
            while (P->at < P->n && t[P->at] >= '0' && t[P->at] <= '9')
                P->at++;
        }
        if (P->at < P->n && (t[P->at] == 'e' || t[P->at] == 'E')) {
            uint32_t e = P->at + 1;
            if (e < P->n && (t[e] == '+' || t[e] == '-')) e++;
            if (e < P->n && t[e] >= '0' && t[e] <= '9') {
                flt = true;
                P->at = e;
                while (P->at < P->n && t[P->at] >= '0' && t[P->at] <= '9')
                    P->at++;
            }
        }
        if (P->at < P->n && (is_word(t[P->at]) || t[P->at] == '.')) {
            uint32_t e = P->at;
            while (e < P->n && (is_word(t[e]) || t[e] == '.'))
                e++;
            cav_filter_perr(P, s, e - s, "bad number `%.*s`", (int)(e - s), t + s);
            return false;
        }
        k->pos = s;
        k->len = P->at - s;
        char tmp[512];
        if (k->len >= sizeof tmp) {
            cav_filter_perr(P, s, k->len, "number literal too long");
            return false;
        }
        memcpy(tmp, t + s, k->len);
        tmp[k->len] = 0;
        if (flt) {
            k->kind = K_FLT;
            k->fval = strtod(tmp, NULL);
            if (isinf(k->fval)) {
                cav_filter_perr(P, s, k->len, "number %s is out of range", tmp);
                return false;
            }
        } else {
            uint64_t v;
            if (!cav_parse_u64(tmp, &v) || v > (uint64_t)INT64_MAX) {
                cav_filter_perr(P, s, k->len,
                                "integer %s is out of range (at most %lld; write %s.0 for a "
                                "floating-point number)",
                                tmp, (long long)INT64_MAX, tmp);
                return false;
            }
            k->kind = K_INT;
            k->ival = (int64_t)v;
        }
        return true;
    }
    if (is_word_start((unsigned char)c)) {
        uint32_t s = P->at;
        for (;;) { /* a dotted name (a nested record's field, in cat) is one name */
            while (P->at < P->n && is_word((unsigned char)t[P->at]))
                P->at++;
            if (P->at + 1 < P->n && t[P->at] == '.' && is_word_start((unsigned char)t[P->at + 1]))
                P->at++;
            else
                break;
        }
        k->len = P->at - s;
        int kw = cav_filter_keyword_kind(t + s, k->len);
        k->kind = kw >= 0 ? kw : K_IDENT;
        cav_buf_reset(&P->sbuf);
        if (cav_buf_append(&P->sbuf, t + s, k->len, NULL) != CSVAVRO_OK ||
            cav_buf_append(&P->sbuf, "", 1, NULL) != CSVAVRO_OK) {
            cav_filter_nomem(P);
            return false;
        }
        k->s = (char *)P->sbuf.data;
        k->slen = k->len;
        return true;
    }
    if (c == '\'' || c == '"' || c == '`') {
        if (!lex_quoted(P, c, c == '\'' ? "string" : "quoted column name")) return false;
        k->kind = c == '\'' ? K_STR : K_QIDENT;
        k->len = P->at - k->pos;
        if (k->kind == K_QIDENT && k->slen == 0) {
            cav_filter_perr(P, k->pos, k->len, "empty column name");
            return false;
        }
        return true;
    }
    P->at++;
    k->len = 1;
    switch (c) {
    case '(':
        k->kind = K_LP;
        return true;
    case ')':
        k->kind = K_RP;
        return true;
    case ',':
        k->kind = K_COMMA;
        return true;
    case '+':
        k->kind = K_PLUS;
        return true;
    case '-':
        k->kind = K_MINUS;
        return true;
    case '*':
        k->kind = K_STAR;
        return true;
    case '/':
        k->kind = K_SLASH;
        return true;
    case '=':
        k->kind = K_CMP;
        k->cmp = C_EQ;
        if (d == '=') P->at++, k->len = 2;
        return true;
    case '!':
        if (d == '=') {
            P->at++;
            k->len = 2;
            k->kind = K_CMP;
            k->cmp = C_NE;
            return true;
        }
        break;
    case '<':
        k->kind = K_CMP;
        k->cmp = C_LT;
        if (d == '=')
            P->at++, k->len = 2, k->cmp = C_LE;
        else if (d == '>')
            P->at++, k->len = 2, k->cmp = C_NE;
        return true;
    case '>':
        k->kind = K_CMP;
        k->cmp = C_GT;
        if (d == '=') P->at++, k->len = 2, k->cmp = C_GE;
        return true;
    default:
        break;
    }
    uint32_t cl = 1;
    while (k->pos + cl < P->n && ((unsigned char)t[k->pos + cl] & 0xC0) == 0x80)
        cl++;
    cav_filter_perr(P, k->pos, cl, "unexpected character `%.*s`", (int)cl, t + k->pos);
    return false;
}
