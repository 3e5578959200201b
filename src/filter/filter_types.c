/*
 * filter_types.c — typed nodes of the `--where` tree: construction, type names, the comparison
 * type rules and the coercion of date/timestamp string literals.
 */
#include "filter_front.h"
#include "../core/core_datetime.h"

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

typedef struct dt {
    int64_t days;
    int64_t secs; /* seconds of day, minus the zone offset */
    int64_t nanos;
    bool has_time, has_zone;
    bool sub_ns; /* nonzero digits past the 9th fraction digit */
} dt;

/* A date or timestamp literal in the one grammar of core_datetime.h; a literal may omit the
 * seconds and carry any number of fraction digits (it compares exactly). */
static bool parse_dt(const char *s, size_t n, dt *o) {
    memset(o, 0, sizeof *o);
    if (n < 10 || !cav_dt_date(s, &o->days)) return false;
    if (n == 10) return true;
    cav_dt_time t;
    if (!cav_dt_time_of(s, n, &t)) return false;
    o->has_time = true;
    o->secs = t.secs;
    o->nanos = t.nanos;
    o->has_zone = t.has_zone;
    o->sub_ns = t.sub_ns;
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
