/*
 * filter_types.c — typed nodes of the `--where` tree: construction, type names, the comparison
 * type rules and the coercion of date/timestamp string literals.
 */
#include "filter_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

cav_node *cav_filter_new_node(parser *P, int op, int ty, uint32_t pos, uint32_t len) {
    if (++P->n_nodes > EXPR_MAX_NODES)
        return cav_filter_perr(P, pos, len, "expression too large (more than %u terms)",
                               EXPR_MAX_NODES);
    cav_node *n = cav_calloc(1, sizeof *n);
    if (!n) return cav_filter_nomem(P);
    n->op = (uint8_t)op;
    n->ty = (uint8_t)ty;
    n->pos = pos;
    n->len = len;
    n->next_alloc = P->nodes;
    P->nodes = n;
    return n;
}

void cav_filter_span(cav_node *n, const cav_node *a, const cav_node *b) {
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
void cav_filter_describe(parser *P, const cav_node *n, char *out, size_t cap) {
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

int cav_filter_col_ty(csvavro_type t) {
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
            cav_filter_perr(P, c->pos, c->len, "bad date literal %.*s (expected 'YYYY-MM-DD')",
                            (int)CAV_MIN(c->len, 80u), P->text + c->pos);
            return false;
        }
        c->ty = TY_DATE;
        c->ci = v.days;
        return true;
    }
    if (!ok) {
        cav_filter_perr(
            P, c->pos, c->len,
            "bad timestamp literal %.*s (expected 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.ffffff]]'"
            "%s)",
            (int)CAV_MIN(c->len, 80u), P->text + c->pos,
            ts_local(target->ctype) ? "" : " with an optional 'Z' or +HH:MM");
        return false;
    }
    if (v.has_zone && ts_local(target->ctype)) {
        cav_filter_perr(P, c->pos, c->len, "a %s column takes a time without a zone, not %.*s",
                        csvavro_type_name(target->ctype), (int)CAV_MIN(c->len, 80u),
                        P->text + c->pos);
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
bool cav_filter_check_cmp(parser *P, cav_node *l, cav_node *r, int op, uint32_t op_pos,
                          uint32_t op_len) {
    char a[256], b[256];
    if (l->ty == TY_NULL || r->ty == TY_NULL) {
        cav_node *x = l->ty == TY_NULL ? l : r;
        cav_filter_perr(P, x->pos, x->len,
                        "column `%s` has type null: only `is null` and `is not null` apply",
                        csvavro_schema_field_name(P->schema, x->col));
        return false;
    }
    if (is_num(l->ty) && is_num(r->ty)) return true;
    if (l->ty == TY_STR && r->ty == TY_STR) return true;
    if (l->ty == TY_BOOL && r->ty == TY_BOOL) {
        if (op == C_EQ || op == C_NE) return true;
        cav_filter_perr(P, op_pos, op_len, "booleans can only be compared with = and !=");
        return false;
    }
    if ((l->ty == TY_DATE || l->ty == TY_TS) && r->op == N_CONST && r->lit && r->ty == TY_STR)
        return coerce_literal(P, r, l);
    if ((r->ty == TY_DATE || r->ty == TY_TS) && l->op == N_CONST && l->lit && l->ty == TY_STR)
        return coerce_literal(P, l, r);
    if (l->ty == TY_DATE && r->ty == TY_DATE) return true;
    if (l->ty == TY_TS && r->ty == TY_TS) {
        if (l->ctype == r->ctype) return true;
        cav_filter_describe(P, l, a, sizeof a);
        cav_filter_describe(P, r, b, sizeof b);
        cav_filter_perr(P, r->pos, r->len, "cannot compare %s with %s (different timestamp kinds)",
                        a, b);
        return false;
    }
    cav_filter_describe(P, l, a, sizeof a);
    cav_filter_describe(P, r, b, sizeof b);
    const cav_node *at = (r->op == N_CONST || l->op != N_CONST) ? r : l;
    cav_filter_perr(P, at->pos, at->len, "cannot compare %s with %s", a, b);
    return false;
}
