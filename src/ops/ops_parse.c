/*
 * ops_parse.c — the `--where` language front end: lexer, recursive-descent parser with type
 * checking as nodes are built, canonical text, and lowering (constant folding, literal
 * conversion, exact integer/fraction rewrites, scratch-slot count).
 *
 * Grammar, lowest precedence first (keywords case-insensitive):
 *   or_expr  := and_expr { OR and_expr }
 *   and_expr := not_expr { AND not_expr }
 *   not_expr := NOT not_expr | cmp_expr
 *   cmp_expr := add [ cmpop add | IS [NOT] NULL | [NOT] IN '(' add {',' add} ')' ]
 *   add      := mul { ('+'|'-') mul }
 *   mul      := unary { ('*'|'/') unary }
 *   unary    := '-' unary | primary
 *   primary  := number | 'string' | TRUE | FALSE | column | `column` | "column" | '(' or_expr ')'
 * Comparisons do not chain (`a < b < c` is an error). Every error is CSVAVRO_E_EXPR with the
 * expression and a caret line in the message and err->offset = character offset.
 */
#include "ops_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXPR_MAX_LEN (64u * 1024u) /* ceiling on the expression text */
#define EXPR_MAX_DEPTH 50u         /* ceiling on nesting: bounds scratch slots */
#define EXPR_MAX_NODES 2000u       /* ceiling on tree size: bounds recursion */

enum {
    K_EOF,
    K_INT,
    K_FLT,
    K_STR,
    K_IDENT,
    K_QIDENT,
    K_AND,
    K_OR,
    K_NOT,
    K_IN,
    K_IS,
    K_NULL,
    K_TRUE,
    K_FALSE,
    K_CMP,
    K_PLUS,
    K_MINUS,
    K_STAR,
    K_SLASH,
    K_LP,
    K_RP,
    K_COMMA
};

typedef struct token {
    int kind;
    int cmp; /* K_CMP: C_* */
    uint32_t pos, len;
    int64_t ival;
    double fval;
    char *s; /* K_STR / K_QIDENT / K_IDENT: decoded text (parser-owned, reused) */
    uint32_t slen;
} token;

typedef struct parser {
    const char *text;
    uint32_t n;
    uint32_t at; /* lexer position */
    token tok;
    cav_buf sbuf; /* decoded token text */
    const csvavro_schema *schema;
    csvavro_error *err;
    csvavro_status st;
    cav_node *nodes;
    unsigned depth;
    unsigned n_nodes;
} parser;

/* ---------------------------------------------------------------- errors */

static uint32_t cp_count(const char *s, uint32_t from, uint32_t to) {
    uint32_t c = 0;
    for (uint32_t i = from; i < to; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static void *perr(parser *P, uint32_t pos, uint32_t len, const char *fmt, ...) CAV_PRINTF(4, 5);
static void *perr(parser *P, uint32_t pos, uint32_t len, const char *fmt, ...) {
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
    if (cp_count(P->text, 0, P->n) > 150) {
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
    uint32_t sp = cp_count(P->text, start, pos);
    for (uint32_t i = 0; i < sp && o + 2 < sizeof msg; i++)
        msg[o++] = ' ';
    if (o + 2 < sizeof msg) msg[o++] = '^';
    uint32_t tl = cp_count(P->text, pos, CAV_MIN(pos + len, end));
    for (uint32_t i = 1; i < tl && o + 2 < sizeof msg; i++)
        msg[o++] = '~';
    msg[o < sizeof msg ? o : sizeof msg - 1] = 0;
    cav_err(P->err, CSVAVRO_E_EXPR, "%s", msg);
    P->err->offset = cp_count(P->text, 0, pos);
    cav_err_value(P->err, P->text + pos, len);
    P->st = CSVAVRO_E_EXPR;
    return NULL;
}

static void *pnomem(parser *P) {
    if (P->st == CSVAVRO_OK) {
        cav_err(P->err, CSVAVRO_E_NOMEM, "out of memory compiling the filter expression");
        P->st = CSVAVRO_E_NOMEM;
    }
    return NULL;
}

/* ---------------------------------------------------------------- lexer */

static bool is_word_start(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_word(int c) {
    return is_word_start(c) || (c >= '0' && c <= '9');
}

static const struct {
    const char *w;
    int kind;
} keywords[] = {{"and", K_AND}, {"or", K_OR},     {"not", K_NOT},   {"in", K_IN},
                {"is", K_IS},   {"null", K_NULL}, {"true", K_TRUE}, {"false", K_FALSE}};

static int keyword_kind(const char *s, size_t n) {
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
            perr(P, start, 1, "unterminated %s (missing closing %c)", what, q);
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
            pnomem(P);
            return false;
        }
    }
    if (cav_buf_append(&P->sbuf, "", 1, NULL) != CSVAVRO_OK) {
        pnomem(P);
        return false;
    }
    P->tok.s = (char *)P->sbuf.data;
    P->tok.slen = (uint32_t)(P->sbuf.len - 1);
    return true;
}

static bool lex(parser *P) {
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
            perr(P, s, e - s, "bad number `%.*s`", (int)(e - s), t + s);
            return false;
        }
        k->pos = s;
        k->len = P->at - s;
        char tmp[512];
        if (k->len >= sizeof tmp) {
            perr(P, s, k->len, "number literal too long");
            return false;
        }
        memcpy(tmp, t + s, k->len);
        tmp[k->len] = 0;
        if (flt) {
            k->kind = K_FLT;
            k->fval = strtod(tmp, NULL);
            if (isinf(k->fval)) {
                perr(P, s, k->len, "number %s is out of range", tmp);
                return false;
            }
        } else {
            uint64_t v;
            if (!cav_parse_u64(tmp, &v) || v > (uint64_t)INT64_MAX) {
                perr(P, s, k->len,
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
        while (P->at < P->n && is_word((unsigned char)t[P->at]))
            P->at++;
        k->len = P->at - s;
        int kw = keyword_kind(t + s, k->len);
        k->kind = kw >= 0 ? kw : K_IDENT;
        cav_buf_reset(&P->sbuf);
        if (cav_buf_append(&P->sbuf, t + s, k->len, NULL) != CSVAVRO_OK ||
            cav_buf_append(&P->sbuf, "", 1, NULL) != CSVAVRO_OK) {
            pnomem(P);
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
            perr(P, k->pos, k->len, "empty column name");
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
    perr(P, k->pos, cl, "unexpected character `%.*s`", (int)cl, t + k->pos);
    return false;
}

/* ---------------------------------------------------------------- nodes and types */

static cav_node *new_node(parser *P, int op, int ty, uint32_t pos, uint32_t len) {
    if (++P->n_nodes > EXPR_MAX_NODES)
        return perr(P, pos, len, "expression too large (more than %u terms)", EXPR_MAX_NODES);
    cav_node *n = cav_calloc(1, sizeof *n);
    if (!n) return pnomem(P);
    n->op = (uint8_t)op;
    n->ty = (uint8_t)ty;
    n->pos = pos;
    n->len = len;
    n->next_alloc = P->nodes;
    P->nodes = n;
    return n;
}

static void span(cav_node *n, const cav_node *a, const cav_node *b) {
    uint32_t s = CAV_MIN(a->pos, b->pos);
    uint32_t e = CAV_MAX(a->pos + a->len, b->pos + b->len);
    n->pos = s;
    n->len = e - s;
}

static const char *ty_word(int ty) {
    switch (ty) {
    case TY_BOOL:
        return "boolean";
    case TY_INT:
        return "integer";
    case TY_FLOAT:
        return "floating-point";
    case TY_STR:
        return "string";
    case TY_DATE:
        return "date";
    case TY_TS:
        return "timestamp";
    default:
        return "null";
    }
}

/* "string column `vendor_id`", "number 3", "string 'abc'", "integer expression `a + 1`". */
static void describe(parser *P, const cav_node *n, char *out, size_t cap) {
    if (n->op == N_COL) {
        snprintf(out, cap, "%s column `%s`", csvavro_type_name(n->ctype),
                 csvavro_schema_field_name(P->schema, n->col));
    } else if (n->op == N_CONST && n->ty == TY_STR) {
        snprintf(out, cap, "string %.*s", (int)CAV_MIN(n->len, 80u), P->text + n->pos);
    } else if (n->op == N_CONST && (n->ty == TY_INT || n->ty == TY_FLOAT)) {
        snprintf(out, cap, "number %.*s", (int)CAV_MIN(n->len, 80u), P->text + n->pos);
    } else if (n->op == N_CONST && n->ty == TY_BOOL) {
        snprintf(out, cap, "boolean %.*s", (int)CAV_MIN(n->len, 80u), P->text + n->pos);
    } else {
        snprintf(out, cap, "%s expression `%.*s`", ty_word(n->ty), (int)CAV_MIN(n->len, 80u),
                 P->text + n->pos);
    }
}

static bool is_num(int ty) {
    return ty == TY_INT || ty == TY_FLOAT;
}

static int col_ty(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_BOOLEAN:
        return TY_BOOL;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_LONG:
        return TY_INT;
    case CSVAVRO_TYPE_FLOAT:
    case CSVAVRO_TYPE_DOUBLE:
        return TY_FLOAT;
    case CSVAVRO_TYPE_STRING:
    case CSVAVRO_TYPE_BYTES:
        return TY_STR;
    case CSVAVRO_TYPE_DATE:
        return TY_DATE;
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS:
        return TY_TS;
    default:
        return TY_NULL;
    }
}

static bool ts_local(csvavro_type t) {
    return t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS || t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
}
static bool ts_millis(csvavro_type t) {
    return t == CSVAVRO_TYPE_TIMESTAMP_MILLIS || t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
}

/* ---------------------------------------------------------------- date/time literals */

/* Days since 1970-01-01 of a proleptic Gregorian date (valid for any year >= 0). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits(const char *s, size_t n, size_t at, size_t k, int *out) {
    if (at + k > n) return false;
    int v = 0;
    for (size_t i = 0; i < k; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

typedef struct dt {
    int64_t days;
    int64_t secs; /* seconds of day, minus the zone offset */
    int64_t nanos;
    bool has_time, has_zone;
    bool sub_ns; /* nonzero digits past the 9th fraction digit */
} dt;

/* 'YYYY-MM-DD' [('T'|' ') HH:MM [:SS [.fraction]]] ['Z' | ('+'|'-') HH[:]MM] */
static bool parse_dt(const char *s, size_t n, dt *o) {
    memset(o, 0, sizeof *o);
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || !digits(s, n, 8, 2, &d))
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap)) return false;
    o->days = days_from_civil(y, mo, d);
    size_t i = 10;
    if (i == n) return true;
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
    i++;
    if (!digits(s, n, i, 2, &h) || i + 2 >= n || s[i + 2] != ':' || !digits(s, n, i + 3, 2, &mi))
        return false;
    i += 5;
    if (i < n && s[i] == ':') {
        if (!digits(s, n, i + 1, 2, &se)) return false;
        i += 3;
        if (i < n && s[i] == '.') {
            i++;
            size_t k = 0;
            int64_t f = 0;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (k < 9)
                    f = f * 10 + (s[i] - '0');
                else if (s[i] != '0')
                    o->sub_ns = true; /* finer than a nanosecond: only "in between" matters */
                k++;
                i++;
            }
            if (k == 0) return false;
            for (size_t z = k; z < 9; z++)
                f *= 10;
            o->nanos = f;
        }
    }
    if (h > 23 || mi > 59 || se > 59) return false;
    o->has_time = true;
    o->secs = (int64_t)h * 3600 + mi * 60 + se;
    if (i < n) {
        o->has_zone = true;
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) return true;
        if (s[i] != '+' && s[i] != '-') return false;
        int sign = s[i] == '-' ? -1 : 1, oh, om;
        i++;
        if (!digits(s, n, i, 2, &oh)) return false;
        i += 2;
        if (i < n && s[i] == ':') i++;
        if (!digits(s, n, i, 2, &om) || i + 2 != n || oh > 23 || om > 59) return false;
        o->secs -= sign * ((int64_t)oh * 3600 + om * 60);
    }
    return true;
}

/* Converts string literal node c in place to the type of column-ish node target (date or
 * timestamp). */
static bool coerce_literal(parser *P, cav_node *c, const cav_node *target) {
    dt v;
    bool ok = parse_dt(c->cs, c->cslen, &v);
    if (target->ty == TY_DATE) {
        if (!ok || v.has_time) {
            perr(P, c->pos, c->len, "bad date literal %.*s (expected 'YYYY-MM-DD')",
                 (int)CAV_MIN(c->len, 80u), P->text + c->pos);
            return false;
        }
        c->ty = TY_DATE;
        c->ci = v.days;
        return true;
    }
    if (!ok) {
        perr(P, c->pos, c->len,
             "bad timestamp literal %.*s (expected 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.ffffff]]'"
             "%s)",
             (int)CAV_MIN(c->len, 80u), P->text + c->pos,
             ts_local(target->ctype) ? "" : " with an optional 'Z' or +HH:MM");
        return false;
    }
    if (v.has_zone && ts_local(target->ctype)) {
        perr(P, c->pos, c->len, "a %s column takes a time without a zone, not %.*s",
             csvavro_type_name(target->ctype), (int)CAV_MIN(c->len, 80u), P->text + c->pos);
        return false;
    }
    int64_t secs = v.days * 86400 + v.secs;
    c->ty = TY_TS;
    c->ctype = target->ctype;
    if (ts_millis(target->ctype)) {
        c->ci = secs * 1000 + v.nanos / 1000000;
        c->cfrac = v.nanos % 1000000 != 0 || v.sub_ns;
    } else {
        c->ci = secs * 1000000 + v.nanos / 1000;
        c->cfrac = v.nanos % 1000 != 0 || v.sub_ns;
    }
    return true;
}

/* Checks that l and r can be compared with op (coercing string literals met by date and
 * timestamp operands). */
static bool check_cmp(parser *P, cav_node *l, cav_node *r, int op, uint32_t op_pos,
                      uint32_t op_len) {
    char a[256], b[256];
    if (l->ty == TY_NULL || r->ty == TY_NULL) {
        cav_node *x = l->ty == TY_NULL ? l : r;
        perr(P, x->pos, x->len, "column `%s` has type null: only `is null` and `is not null` apply",
             csvavro_schema_field_name(P->schema, x->col));
        return false;
    }
    if (is_num(l->ty) && is_num(r->ty)) return true;
    if (l->ty == TY_STR && r->ty == TY_STR) return true;
    if (l->ty == TY_BOOL && r->ty == TY_BOOL) {
        if (op == C_EQ || op == C_NE) return true;
        perr(P, op_pos, op_len, "booleans can only be compared with = and !=");
        return false;
    }
    if ((l->ty == TY_DATE || l->ty == TY_TS) && r->op == N_CONST && r->lit && r->ty == TY_STR)
        return coerce_literal(P, r, l);
    if ((r->ty == TY_DATE || r->ty == TY_TS) && l->op == N_CONST && l->lit && l->ty == TY_STR)
        return coerce_literal(P, l, r);
    if (l->ty == TY_DATE && r->ty == TY_DATE) return true;
    if (l->ty == TY_TS && r->ty == TY_TS) {
        if (l->ctype == r->ctype) return true;
        describe(P, l, a, sizeof a);
        describe(P, r, b, sizeof b);
        perr(P, r->pos, r->len, "cannot compare %s with %s (different timestamp kinds)", a, b);
        return false;
    }
    describe(P, l, a, sizeof a);
    describe(P, r, b, sizeof b);
    const cav_node *at = (r->op == N_CONST || l->op != N_CONST) ? r : l;
    perr(P, at->pos, at->len, "cannot compare %s with %s", a, b);
    return false;
}

/* ---------------------------------------------------------------- did you mean */

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

static const char *suggest(const csvavro_schema *s, const char *name) {
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

/* ---------------------------------------------------------------- parser */

static cav_node *parse_or(parser *P);

static cav_node *parse_primary(parser *P) {
    token t = P->tok;
    cav_node *n;
    switch (t.kind) {
    case K_INT:
    case K_FLT:
        n = new_node(P, N_CONST, t.kind == K_INT ? TY_INT : TY_FLOAT, t.pos, t.len);
        if (!n) return NULL;
        n->ci = t.ival;
        n->cf = t.fval;
        return lex(P) ? n : NULL;
    case K_TRUE:
    case K_FALSE:
        n = new_node(P, N_CONST, TY_BOOL, t.pos, t.len);
        if (!n) return NULL;
        n->cb = t.kind == K_TRUE;
        return lex(P) ? n : NULL;
    case K_STR:
        n = new_node(P, N_CONST, TY_STR, t.pos, t.len);
        if (!n) return NULL;
        n->lit = true;
        n->cs = cav_strndup(t.s, t.slen);
        if (!n->cs) return pnomem(P);
        n->cslen = t.slen;
        return lex(P) ? n : NULL;
    case K_IDENT:
    case K_QIDENT: {
        long idx = csvavro_schema_find(P->schema, t.s);
        if (idx < 0) {
            const char *sg = suggest(P->schema, t.s);
            if (sg)
                return perr(P, t.pos, t.len, "unknown column `%s` (did you mean `%s`?)", t.s, sg);
            return perr(P, t.pos, t.len, "unknown column `%s`", t.s);
        }
        csvavro_type ct = csvavro_schema_field_type(P->schema, (size_t)idx);
        n = new_node(P, N_COL, col_ty(ct), t.pos, t.len);
        if (!n) return NULL;
        n->col = (uint32_t)idx;
        n->ctype = ct;
        return lex(P) ? n : NULL;
    }
    case K_LP: {
        if (++P->depth > EXPR_MAX_DEPTH)
            return perr(P, t.pos, 1, "expression nested too deeply (more than %u levels)",
                        EXPR_MAX_DEPTH);
        if (!lex(P)) return NULL;
        n = parse_or(P);
        if (!n) return NULL;
        P->depth--;
        if (P->tok.kind != K_RP)
            return perr(P, P->tok.pos, P->tok.len, "expected `)` to close the `(` at character %u",
                        cp_count(P->text, 0, t.pos) + 1);
        /* the parenthesised span includes the parentheses, for messages */
        uint32_t end = P->tok.pos + 1;
        if (!lex(P)) return NULL;
        if (n->op != N_COL) {
            n->len = end - t.pos;
            n->pos = t.pos;
        }
        return n;
    }
    case K_NULL:
        return perr(P, t.pos, t.len,
                    "`null` is not a value here: comparisons with null are never true; write "
                    "`x is null` or `x is not null`");
    case K_EOF:
        if (strspn(P->text, " \t\r\n") == P->n) return perr(P, t.pos, 0, "empty expression");
        return perr(P, t.pos, 0, "unexpected end of expression: expected a value or column");
    default:
        return perr(P, t.pos, t.len, "expected a value or column, found `%.*s`", (int)t.len,
                    P->text + t.pos);
    }
}

static cav_node *parse_unary(parser *P) {
    if (P->tok.kind == K_MINUS) {
        uint32_t pos = P->tok.pos;
        if (++P->depth > EXPR_MAX_DEPTH)
            return perr(P, pos, 1, "expression nested too deeply (more than %u levels)",
                        EXPR_MAX_DEPTH);
        if (!lex(P)) return NULL;
        cav_node *x = parse_unary(P);
        if (!x) return NULL;
        P->depth--;
        if (!is_num(x->ty)) {
            char a[256];
            describe(P, x, a, sizeof a);
            return perr(P, x->pos, x->len, "unary `-` needs a number, not %s", a);
        }
        cav_node *n = new_node(P, N_NEG, x->ty, pos, x->pos + x->len - pos);
        if (!n) return NULL;
        n->l = x;
        return n;
    }
    return parse_primary(P);
}

static cav_node *make_arith(parser *P, int op, const token *optok, cav_node *l, cav_node *r) {
    static const char *names[] = {[N_ADD] = "+", [N_SUB] = "-", [N_MUL] = "*", [N_DIV] = "/"};
    for (int k = 0; k < 2; k++) {
        cav_node *x = k ? r : l;
        if (!is_num(x->ty)) {
            char a[256];
            describe(P, x, a, sizeof a);
            return perr(P, x->pos, x->len, "`%s` needs numbers, not %s", names[op], a);
        }
    }
    int ty = (op == N_DIV || l->ty == TY_FLOAT || r->ty == TY_FLOAT) ? TY_FLOAT : TY_INT;
    cav_node *n = new_node(P, op, ty, 0, 0);
    if (!n) return NULL;
    n->l = l;
    n->r = r;
    span(n, l, r);
    (void)optok;
    return n;
}

static cav_node *parse_mul(parser *P) {
    cav_node *l = parse_unary(P);
    while (l && (P->tok.kind == K_STAR || P->tok.kind == K_SLASH)) {
        token t = P->tok;
        if (!lex(P)) return NULL;
        cav_node *r = parse_unary(P);
        if (!r) return NULL;
        l = make_arith(P, t.kind == K_STAR ? N_MUL : N_DIV, &t, l, r);
    }
    return l;
}

static cav_node *parse_add(parser *P) {
    cav_node *l = parse_mul(P);
    while (l && (P->tok.kind == K_PLUS || P->tok.kind == K_MINUS)) {
        token t = P->tok;
        if (!lex(P)) return NULL;
        cav_node *r = parse_mul(P);
        if (!r) return NULL;
        l = make_arith(P, t.kind == K_PLUS ? N_ADD : N_SUB, &t, l, r);
    }
    return l;
}

static bool is_cmp_start(parser *P) {
    return P->tok.kind == K_CMP || P->tok.kind == K_IS || P->tok.kind == K_IN;
}

static cav_node *parse_in_list(parser *P, cav_node *l, bool neg, uint32_t pos) {
    if (P->tok.kind != K_LP) return perr(P, P->tok.pos, P->tok.len, "expected `(` after `in`");
    if (l->ty == TY_NULL) {
        return perr(P, l->pos, l->len,
                    "column `%s` has type null: only `is null` and `is not null` apply",
                    csvavro_schema_field_name(P->schema, l->col));
    }
    if (!lex(P)) return NULL;
    cav_node *n = new_node(P, N_IN, TY_BOOL, pos, 0);
    if (!n) return NULL;
    n->l = l;
    n->neg = neg;
    uint32_t cap = 0;
    for (;;) {
        cav_node *it = parse_add(P);
        if (!it) return NULL;
        if (!check_cmp(P, l, it, C_EQ, it->pos, it->len)) return NULL;
        if (n->n_items == cap) {
            uint32_t nc = cap ? cap * 2 : 8;
            cav_node **ni = cav_realloc(n->items, nc * sizeof *ni);
            if (!ni) return pnomem(P);
            n->items = ni;
            cap = nc;
        }
        n->items[n->n_items++] = it;
        if (P->tok.kind == K_COMMA) {
            if (!lex(P)) return NULL;
            continue;
        }
        if (P->tok.kind == K_RP) break;
        return perr(P, P->tok.pos, P->tok.len, "expected `,` or `)` in the `in` list");
    }
    n->len = P->tok.pos + 1 - n->pos;
    return lex(P) ? n : NULL;
}

static cav_node *parse_cmp(parser *P) {
    cav_node *l = parse_add(P);
    if (!l) return NULL;
    cav_node *n = NULL;
    token t = P->tok;
    if (t.kind == K_CMP) {
        if (!lex(P)) return NULL;
        cav_node *r = parse_add(P);
        if (!r) return NULL;
        if (!check_cmp(P, l, r, t.cmp, t.pos, t.len)) return NULL;
        n = new_node(P, N_CMP, TY_BOOL, 0, 0);
        if (!n) return NULL;
        n->cmp = (uint8_t)t.cmp;
        n->l = l;
        n->r = r;
        span(n, l, r);
    } else if (t.kind == K_IS) {
        if (!lex(P)) return NULL;
        bool neg = false;
        if (P->tok.kind == K_NOT) {
            neg = true;
            if (!lex(P)) return NULL;
        }
        if (P->tok.kind != K_NULL)
            return perr(P, P->tok.pos, P->tok.len, "expected `null` after `is%s`",
                        neg ? " not" : "");
        n = new_node(P, N_ISNULL, TY_BOOL, l->pos, P->tok.pos + P->tok.len - l->pos);
        if (!n) return NULL;
        n->l = l;
        n->neg = neg;
        if (!lex(P)) return NULL;
    } else if (t.kind == K_IN) {
        if (!lex(P)) return NULL;
        n = parse_in_list(P, l, false, l->pos);
    } else if (t.kind == K_NOT) {
        /* `x not in (…)`: look ahead for `in` */
        uint32_t save = P->at;
        if (!lex(P)) return NULL;
        if (P->tok.kind != K_IN) {
            P->at = save;
            P->tok = t;
            return perr(P, t.pos, t.len, "unexpected `not` (did you mean `not in`?)");
        }
        if (!lex(P)) return NULL;
        n = parse_in_list(P, l, true, l->pos);
    } else {
        return l;
    }
    if (n && is_cmp_start(P))
        return perr(P, P->tok.pos, P->tok.len,
                    "comparisons do not chain: combine them with `and`, or use parentheses");
    return n;
}

static cav_node *need_bool(parser *P, cav_node *x, const char *op) {
    if (!x || x->ty == TY_BOOL) return x;
    char a[256];
    describe(P, x, a, sizeof a);
    return perr(P, x->pos, x->len, "`%s` needs a condition (true/false), not %s", op, a);
}

static cav_node *parse_not(parser *P) {
    if (P->tok.kind == K_NOT) {
        uint32_t pos = P->tok.pos;
        if (++P->depth > EXPR_MAX_DEPTH)
            return perr(P, pos, 3, "expression nested too deeply (more than %u levels)",
                        EXPR_MAX_DEPTH);
        if (!lex(P)) return NULL;
        cav_node *x = need_bool(P, parse_not(P), "not");
        if (!x) return NULL;
        P->depth--;
        cav_node *n = new_node(P, N_NOT, TY_BOOL, pos, x->pos + x->len - pos);
        if (!n) return NULL;
        n->l = x;
        return n;
    }
    return parse_cmp(P);
}

static cav_node *parse_and(parser *P) {
    cav_node *l = parse_not(P);
    while (l && P->tok.kind == K_AND) {
        if (!need_bool(P, l, "and") || !lex(P)) return NULL;
        cav_node *r = need_bool(P, parse_not(P), "and");
        if (!r) return NULL;
        cav_node *n = new_node(P, N_AND, TY_BOOL, 0, 0);
        if (!n) return NULL;
        n->l = l;
        n->r = r;
        span(n, l, r);
        l = n;
    }
    return l;
}

static cav_node *parse_or(parser *P) {
    cav_node *l = parse_and(P);
    while (l && P->tok.kind == K_OR) {
        if (!need_bool(P, l, "or") || !lex(P)) return NULL;
        cav_node *r = need_bool(P, parse_and(P), "or");
        if (!r) return NULL;
        cav_node *n = new_node(P, N_OR, TY_BOOL, 0, 0);
        if (!n) return NULL;
        n->l = l;
        n->r = r;
        span(n, l, r);
        l = n;
    }
    return l;
}

/* ---------------------------------------------------------------- canonical text */

/* Binding strength of a node's printed form, as the grammar ranks it (higher binds tighter). */
enum { PR_OR = 1, PR_AND, PR_NOT, PR_CMP, PR_ADD, PR_MUL, PR_NEG, PR_ATOM };

static int prec(const cav_node *n) {
    switch (n->op) {
    case N_OR:
        return PR_OR;
    case N_AND:
        return PR_AND;
    case N_NOT:
        return PR_NOT;
    case N_CMP:
    case N_ISNULL:
    case N_IN:
        return PR_CMP;
    case N_ADD:
    case N_SUB:
        return PR_ADD;
    case N_MUL:
    case N_DIV:
        return PR_MUL;
    case N_NEG:
        return PR_NEG;
    case N_CONST: /* a negative number prints with its sign, like a unary minus */
        return (!n->lit &&
                ((n->ty == TY_INT && n->ci < 0) || (n->ty == TY_FLOAT && signbit(n->cf))))
                   ? PR_NEG
                   : PR_ATOM;
    default:
        return PR_ATOM;
    }
}

static csvavro_status print_prec(const cav_node *n, const csvavro_schema *s, int min, cav_buf *b);

/* The canonical text: keywords in lower case, one space around binary operators, columns by
 * their schema names, and parentheses exactly where the grammar needs them (left-associative
 * chains print flat, so the text nests no deeper than the source did and compiles again). */
static csvavro_status print_node(const cav_node *n, const csvavro_schema *s, cav_buf *b) {
    static const char *cmps[] = {"=", "!=", "<", "<=", ">", ">="};
    static const char *ariths[] = {[N_ADD] = "+", [N_SUB] = "-", [N_MUL] = "*", [N_DIV] = "/"};
    int p = prec(n);
    switch (n->op) {
    case N_COL: {
        const char *name = csvavro_schema_field_name(s, n->col);
        bool plain = is_word_start((unsigned char)name[0]) && keyword_kind(name, strlen(name)) < 0;
        for (const char *p = name; *p && plain; p++)
            plain = is_word((unsigned char)*p);
        if (plain) return cav_buf_append_str(b, name, NULL);
        CAV_TRY(cav_buf_append(b, "`", 1, NULL));
        for (const char *p = name; *p; p++) {
            CAV_TRY(cav_buf_append(b, p, 1, NULL));
            if (*p == '`') CAV_TRY(cav_buf_append(b, "`", 1, NULL));
        }
        return cav_buf_append(b, "`", 1, NULL);
    }
    case N_CONST:
        if (n->lit) { /* string literal (date/timestamp literals keep their text) */
            CAV_TRY(cav_buf_append(b, "'", 1, NULL));
            for (uint32_t i = 0; i < n->cslen; i++) {
                CAV_TRY(cav_buf_append(b, n->cs + i, 1, NULL));
                if (n->cs[i] == '\'') CAV_TRY(cav_buf_append(b, "'", 1, NULL));
            }
            return cav_buf_append(b, "'", 1, NULL);
        }
        if (n->ty == TY_BOOL) return cav_buf_append_str(b, n->cb ? "true" : "false", NULL);
        if (n->ty == TY_INT) return cav_buf_printf(b, NULL, "%lld", (long long)n->ci);
        {
            char tmp[64];
            for (int prec = 15; prec <= 17; prec++) {
                snprintf(tmp, sizeof tmp, "%.*g", prec, n->cf);
                if (strtod(tmp, NULL) == n->cf) break;
            }
            if (!strpbrk(tmp, ".e")) strcat(tmp, ".0");
            return cav_buf_append_str(b, tmp, NULL);
        }
    case N_NEG: /* "- -x", not "--x" */
        CAV_TRY(cav_buf_append(b, "-", 1, NULL));
        if (prec(n->l) == PR_NEG) CAV_TRY(cav_buf_append(b, " ", 1, NULL));
        return print_prec(n->l, s, PR_NEG, b);
    case N_NOT:
        CAV_TRY(cav_buf_append(b, "not ", 4, NULL));
        return print_prec(n->l, s, PR_NOT, b);
    case N_ISNULL:
        CAV_TRY(print_prec(n->l, s, PR_ADD, b));
        return cav_buf_append_str(b, n->neg ? " is not null" : " is null", NULL);
    case N_IN:
        CAV_TRY(print_prec(n->l, s, PR_ADD, b));
        CAV_TRY(cav_buf_append_str(b, n->neg ? " not in (" : " in (", NULL));
        for (uint32_t i = 0; i < n->n_items; i++) {
            if (i) CAV_TRY(cav_buf_append(b, ", ", 2, NULL));
            CAV_TRY(print_prec(n->items[i], s, PR_ADD, b));
        }
        return cav_buf_append(b, ")", 1, NULL);
    default: {
        const char *op = n->op == N_CMP   ? cmps[n->cmp]
                         : n->op == N_AND ? "and"
                         : n->op == N_OR  ? "or"
                                          : ariths[n->op];
        /* left-associative: the left side may be the same operator, the right side binds
         * tighter; comparisons do not chain, so both of their sides bind tighter */
        CAV_TRY(print_prec(n->l, s, p == PR_CMP ? PR_ADD : p, b));
        CAV_TRY(cav_buf_printf(b, NULL, " %s ", op));
        return print_prec(n->r, s, p + 1, b);
    }
    }
}

/* n printed where the grammar expects binding strength min: in parentheses when weaker. */
static csvavro_status print_prec(const cav_node *n, const csvavro_schema *s, int min, cav_buf *b) {
    if (prec(n) >= min) return print_node(n, s, b);
    CAV_TRY(cav_buf_append(b, "(", 1, NULL));
    CAV_TRY(print_node(n, s, b));
    return cav_buf_append(b, ")", 1, NULL);
}

/* ---------------------------------------------------------------- lowering */

int cav_cmp_f64(double a, double b) {
    if (a != a || b != b) return 2;
    return a < b ? -1 : a > b ? 1 : 0;
}

int cav_cmp_i64_f64(int64_t a, double d) {
    if (d != d) return 2;
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (a != ti) return a < ti ? -1 : 1;
    return d > t ? -1 : d < t ? 1 : 0;
}

static int flip(int op) {
    switch (op) {
    case C_LT:
        return C_GT;
    case C_LE:
        return C_GE;
    case C_GT:
        return C_LT;
    case C_GE:
        return C_LE;
    default:
        return op;
    }
}

static void make_const_bool(cav_node *n, int v) /* v: 0, 1, or -1 = null */
{
    n->op = N_CONST;
    n->ty = TY_BOOL;
    n->cnull = v < 0;
    n->cb = v > 0;
    n->lit = false;
}

/* Three-way comparison of two non-null constants of comparable types. */
static int const_cmp(const cav_node *a, const cav_node *b) {
    if (a->ty == TY_STR) {
        uint32_t m = CAV_MIN(a->cslen, b->cslen);
        int c = memcmp(a->cs, b->cs, m);
        if (c == 0) c = a->cslen < b->cslen ? -1 : a->cslen > b->cslen;
        return c < 0 ? -1 : c > 0;
    }
    if (a->ty == TY_BOOL) return a->cb < b->cb ? -1 : a->cb > b->cb;
    if (a->ty == TY_FLOAT && b->ty == TY_FLOAT) return cav_cmp_f64(a->cf, b->cf);
    if (a->ty == TY_FLOAT) {
        int c = cav_cmp_i64_f64(b->ci, a->cf);
        return c == 2 ? 2 : -c;
    }
    if (b->ty == TY_FLOAT) return cav_cmp_i64_f64(a->ci, b->cf);
    /* integers, dates, timestamps (a fractional literal lies between ci and ci+1) */
    if (a->ci != b->ci) return a->ci < b->ci ? -1 : 1;
    if (a->cfrac != b->cfrac) return a->cfrac ? 1 : -1;
    return 0;
}

/* Integer-valued left operand vs a constant r known to lie strictly between f and f+1:
 * rewrite into an exact integer comparison. */
static void frac_rewrite(cav_node *n, int64_t f) {
    cav_node *r = n->r;
    switch (n->cmp) {
    case C_EQ:
        n->cmp = C_NEVER;
        break;
    case C_NE:
        n->cmp = C_ALWAYS;
        break;
    case C_LT:
    case C_LE:
        n->cmp = C_LE;
        break;
    default:
        n->cmp = C_GT;
        break;
    }
    r->ty = TY_INT;
    r->ci = f;
    r->cfrac = false;
}

/* Int-valued left vs float constant: returns false if the constant was replaced by an integer
 * (or the comparison fixed); the constant becomes TY_INT. */
static void int_vs_float_const(cav_node *n) {
    cav_node *r = n->r;
    double c = r->cf;
    if (c != c) {
        n->cmp = n->cmp == C_NE ? C_ALWAYS : C_NEVER;
        r->ty = TY_INT;
        r->ci = 0;
        return;
    }
    if (c >= 9223372036854775808.0 || c < -9223372036854775808.0) {
        bool big = c > 0;
        int op = n->cmp;
        bool t = op == C_NE || (big ? (op == C_LT || op == C_LE) : (op == C_GT || op == C_GE));
        n->cmp = t ? C_ALWAYS : C_NEVER;
        r->ty = TY_INT;
        r->ci = 0;
        return;
    }
    double fl = floor(c);
    if (fl == c) {
        r->ty = TY_INT;
        r->ci = (int64_t)c;
        return;
    }
    frac_rewrite(n, (int64_t)fl);
}

static bool exact_double(int64_t v, double *out) {
    double d = (double)v;
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) return false;
    if ((int64_t)d != v) return false;
    *out = d;
    return true;
}

static bool lower(parser *P, cav_node *n);

static bool lower_cmp(parser *P, cav_node *n) {
    cav_node *l = n->l, *r = n->r;
    n->mode = l->ty == TY_BOOL ? CM_BOOL : l->ty == TY_STR ? CM_STR : CM_NUM;
    if (l->op == N_CONST && r->op == N_CONST) {
        if (l->cnull || r->cnull) {
            make_const_bool(n, -1);
            return true;
        }
        int c = const_cmp(l, r);
        int op = n->cmp;
        make_const_bool(n, cav_cmp_apply(c, op));
        return true;
    }
    if (l->op == N_CONST) {
        n->l = r;
        n->r = l;
        n->cmp = (uint8_t)flip(n->cmp);
        l = n->l;
        r = n->r;
    }
    if (r->op != N_CONST) return true;
    if (r->cnull) {
        make_const_bool(n, -1);
        return true;
    }
    if (n->mode != CM_NUM) return true;
    bool int_left = l->ty == TY_INT || l->ty == TY_DATE || l->ty == TY_TS;
    if (int_left && r->ty == TY_FLOAT)
        int_vs_float_const(n);
    else if (int_left && r->cfrac)
        frac_rewrite(n, r->ci);
    else if (l->ty == TY_FLOAT && r->ty == TY_INT) {
        double d;
        if (exact_double(r->ci, &d)) {
            r->ty = TY_FLOAT;
            r->cf = d;
        }
    }
    return true;
}

static bool lower_in(parser *P, cav_node *n) {
    cav_node *l = n->l;
    uint32_t k = 0;
    bool has_null = false;
    for (uint32_t i = 0; i < n->n_items; i++) {
        cav_node *it = n->items[i];
        if (!lower(P, it)) return false;
        if (it->op != N_CONST) {
            perr(P, it->pos, it->len, "`in` lists hold constants (literals), not columns");
            return false;
        }
        if (it->cnull) {
            has_null = true;
            continue;
        }
        /* normalise to the left operand's representation; drop items nothing can equal */
        bool int_left = l->ty == TY_INT || l->ty == TY_DATE || l->ty == TY_TS;
        if (int_left) {
            if (it->ty == TY_FLOAT) {
                double c = it->cf;
                if (c != c || floor(c) != c || c >= 9223372036854775808.0 ||
                    c < -9223372036854775808.0)
                    continue;
                it->ty = TY_INT;
                it->ci = (int64_t)c;
            } else if (it->cfrac) {
                continue;
            }
        } else if (l->ty == TY_FLOAT && it->ty == TY_INT) {
            double d;
            if (!exact_double(it->ci, &d)) continue;
            it->ty = TY_FLOAT;
            it->cf = d;
        }
        n->items[k++] = it;
    }
    n->n_items = k;
    n->cnull = has_null; /* unmatched rows are null rather than false */
    if (l->op == N_CONST) {
        if (l->cnull) {
            make_const_bool(n, -1);
            return true;
        }
        bool hit = false;
        for (uint32_t i = 0; i < k && !hit; i++)
            hit = const_cmp(l, n->items[i]) == 0;
        int v = hit ? 1 : has_null ? -1 : 0;
        if (v >= 0 && n->neg) v = !v;
        make_const_bool(n, v);
    }
    return true;
}

static bool lower(parser *P, cav_node *n) {
    if (n->l && !lower(P, n->l)) return false;
    if (n->r && n->op != N_IN && !lower(P, n->r)) return false;
    cav_node *l = n->l, *r = n->r;
    switch (n->op) {
    case N_NEG:
    case N_ADD:
    case N_SUB:
    case N_MUL:
    case N_DIV: {
        if (l->op != N_CONST || (r && r->op != N_CONST)) return true;
        int op = n->op;
        n->op = N_CONST;
        n->lit = false;
        if (l->cnull || (r && r->cnull)) {
            n->cnull = true;
            return true;
        }
        if (n->ty == TY_INT) {
            bool ovf = false;
            switch (op) {
            case N_NEG:
                ovf = __builtin_sub_overflow((int64_t)0, l->ci, &n->ci);
                break;
            case N_ADD:
                ovf = __builtin_add_overflow(l->ci, r->ci, &n->ci);
                break;
            case N_SUB:
                ovf = __builtin_sub_overflow(l->ci, r->ci, &n->ci);
                break;
            default:
                ovf = __builtin_mul_overflow(l->ci, r->ci, &n->ci);
                break;
            }
            n->cnull = ovf;
            return true;
        }
        double a = l->ty == TY_INT ? (double)l->ci : l->cf;
        double b = r ? (r->ty == TY_INT ? (double)r->ci : r->cf) : 0;
        switch (op) {
        case N_NEG:
            n->cf = -a;
            break;
        case N_ADD:
            n->cf = a + b;
            break;
        case N_SUB:
            n->cf = a - b;
            break;
        case N_MUL:
            n->cf = a * b;
            break;
        default:
            if (b == 0)
                n->cnull = true;
            else
                n->cf = a / b;
            break;
        }
        return true;
    }
    case N_CMP:
        return lower_cmp(P, n);
    case N_IN:
        return lower_in(P, n);
    case N_NOT:
        if (l->op == N_CONST) make_const_bool(n, l->cnull ? -1 : !l->cb);
        return true;
    case N_ISNULL:
        if (l->op == N_CONST) make_const_bool(n, l->cnull != n->neg);
        return true;
    case N_AND:
    case N_OR: {
        bool is_and = n->op == N_AND;
        /* false and x = false; true or x = true (whatever x is, null included) */
        for (int k = 0; k < 2; k++) {
            cav_node *c = k ? r : l;
            if (c->op == N_CONST && !c->cnull && c->cb == !is_and) {
                make_const_bool(n, !is_and);
                return true;
            }
        }
        if (l->op == N_CONST && r->op == N_CONST) { /* both true/null (and) or false/null (or) */
            make_const_bool(n, (l->cnull || r->cnull) ? -1 : is_and);
        }
        return true;
    }
    default:
        return true;
    }
}

static uint32_t count_slots(const cav_node *n) {
    switch (n->op) {
    case N_CONST:
    case N_COL:
        return 1;
    case N_NEG:
    case N_NOT:
    case N_ISNULL:
        return count_slots(n->l);
    case N_IN: {
        uint32_t l = count_slots(n->l); /* not inside CAV_MAX: it evaluates twice */
        return CAV_MAX(l, 2u);
    }
    default: {
        uint32_t l = count_slots(n->l), r = 1 + count_slots(n->r);
        return CAV_MAX(l, r);
    }
    }
}

static csvavro_status collect_cols(cav_expr *e, const cav_node *n, size_t *cap) {
    if (!n) return CSVAVRO_OK;
    if (n->op == N_COL) {
        for (size_t i = 0; i < e->n_cols; i++)
            if (e->cols[i] == n->col) return CSVAVRO_OK;
        if (e->n_cols == *cap) {
            size_t nc = *cap ? *cap * 2 : 8;
            uint32_t *p = cav_realloc(e->cols, nc * sizeof *p);
            if (!p) return CSVAVRO_E_NOMEM;
            e->cols = p;
            *cap = nc;
        }
        e->cols[e->n_cols++] = n->col;
        return CSVAVRO_OK;
    }
    if (n->op == N_CONST) return CSVAVRO_OK;
    CAV_TRY(collect_cols(e, n->l, cap));
    if (n->op != N_IN) CAV_TRY(collect_cols(e, n->r, cap));
    return CSVAVRO_OK;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void free_nodes(cav_node *n) {
    while (n) {
        cav_node *next = n->next_alloc;
        cav_free(n->cs);
        cav_free(n->items);
        cav_free(n);
        n = next;
    }
}

csvavro_status cav_expr_compile(const char *text, const csvavro_schema *schema, cav_expr **out,
                                csvavro_error *err) {
    *out = NULL;
    if (!text || !schema) return cav_err(err, CSVAVRO_E_USAGE, "cav_expr_compile: NULL argument");
    size_t n = strlen(text);
    if (n > EXPR_MAX_LEN)
        return cav_err(err, CSVAVRO_E_EXPR, "filter expression longer than %u bytes", EXPR_MAX_LEN);
    parser P = {.text = text, .n = (uint32_t)n, .schema = schema, .err = err};
    cav_buf_init(&P.sbuf, EXPR_MAX_LEN + 16);
    cav_expr *e = NULL;
    cav_node *root = NULL;
    cav_buf tb;
    cav_buf_init(&tb, 0);
    if (lex(&P)) root = parse_or(&P);
    if (root && P.tok.kind != K_EOF) {
        if (P.tok.kind == K_RP)
            perr(&P, P.tok.pos, P.tok.len, "unmatched `)`");
        else
            perr(&P, P.tok.pos, P.tok.len, "unexpected `%.*s` after a complete expression",
                 (int)P.tok.len, text + P.tok.pos);
        root = NULL;
    }
    if (root && root->ty != TY_BOOL) {
        char a[256];
        describe(&P, root, a, sizeof a);
        perr(&P, root->pos, root->len, "the filter must be a condition (true/false), not %s", a);
        root = NULL;
    }
    if (root && print_node(root, schema, &tb) != CSVAVRO_OK) root = pnomem(&P);
    if (root && cav_buf_append(&tb, "", 1, NULL) != CSVAVRO_OK) root = pnomem(&P);
    if (root && !lower(&P, root)) root = NULL;
    if (root) {
        e = cav_calloc(1, sizeof *e);
        if (!e) root = pnomem(&P);
    }
    if (root) {
        e->root = root;
        e->nodes = P.nodes;
        P.nodes = NULL;
        e->text = (char *)tb.data;
        tb.data = NULL;
        e->n_slots = count_slots(root);
        size_t cap = 0;
        if (collect_cols(e, root, &cap) != CSVAVRO_OK) {
            cav_expr_free(e);
            e = NULL;
            pnomem(&P);
        } else if (e->n_cols) {
            qsort(e->cols, e->n_cols, sizeof *e->cols, cmp_u32);
        }
    }
    free_nodes(P.nodes);
    cav_buf_free(&P.sbuf);
    cav_buf_free(&tb);
    if (!e) return P.st != CSVAVRO_OK ? P.st : CSVAVRO_E_INTERNAL;
    *out = e;
    return CSVAVRO_OK;
}

void cav_expr_free(cav_expr *e) {
    if (!e) return;
    free_nodes(e->nodes);
    cav_free(e->cols);
    cav_free(e->text);
    cav_free(e);
}

size_t cav_expr_columns(const cav_expr *e, const uint32_t **cols) {
    *cols = e->cols;
    return e->n_cols;
}

const char *cav_expr_text(const cav_expr *e) {
    return e->text;
}
