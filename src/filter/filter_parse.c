/*
 * filter_parse.c — the `--where` recursive-descent parser; types are checked as nodes are built.
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
#include "filter_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static cav_node *parse_primary(parser *P) {
    token t = P->tok;
    cav_node *n;
    switch (t.kind) {
    case K_INT:
    case K_FLT:
        n = cav_filter_new_node(P, N_CONST, t.kind == K_INT ? TY_INT : TY_FLOAT, t.pos, t.len);
        if (!n) return NULL;
        n->ci = t.ival;
        n->cf = t.fval;
        return cav_filter_lex(P) ? n : NULL;
    case K_TRUE:
    case K_FALSE:
        n = cav_filter_new_node(P, N_CONST, TY_BOOL, t.pos, t.len);
        if (!n) return NULL;
        n->cb = t.kind == K_TRUE;
        return cav_filter_lex(P) ? n : NULL;
    case K_STR:
        n = cav_filter_new_node(P, N_CONST, TY_STR, t.pos, t.len);
        if (!n) return NULL;
        n->lit = true;
        n->cs = cav_strndup(t.s, t.slen);
        if (!n->cs) return cav_filter_nomem(P);
        n->cslen = t.slen;
        return cav_filter_lex(P) ? n : NULL;
    case K_IDENT:
    case K_QIDENT: {
        long idx = csvavro_schema_find(P->schema, t.s);
        if (idx < 0) {
            const char *sg = cav_schema_suggest(P->schema, t.s);
            if (sg)
                return cav_filter_perr(P, t.pos, t.len, "unknown column `%s` (did you mean `%s`?)",
                                       t.s, sg);
            return cav_filter_perr(P, t.pos, t.len, "unknown column `%s`", t.s);
        }
        csvavro_type ct = csvavro_schema_field_type(P->schema, (size_t)idx);
        if (ct == CSVAVRO_TYPE_DECIMAL || ct == CSVAVRO_TYPE_DECIMAL_FIXED)
            return cav_filter_perr(P, t.pos, t.len,
                                   "column `%s` is a decimal: --where does not compare decimals "
                                   "yet",
                                   t.s);
        n = cav_filter_new_node(P, N_COL, cav_filter_col_ty(ct), t.pos, t.len);
        if (!n) return NULL;
        n->col = (uint32_t)idx;
        n->ctype = ct;
        return cav_filter_lex(P) ? n : NULL;
    }
    case K_LP: {
        if (++P->depth > EXPR_MAX_DEPTH)
            return cav_filter_perr(
                P, t.pos, 1, "expression nested too deeply (more than %u levels)", EXPR_MAX_DEPTH);
        if (!cav_filter_lex(P)) return NULL;
        n = cav_filter_parse_or(P);
        if (!n) return NULL;
        P->depth--;
        if (P->tok.kind != K_RP)
            return cav_filter_perr(P, P->tok.pos, P->tok.len,
                                   "expected `)` to close the `(` at character %u",
                                   cav_filter_cp_count(P->text, 0, t.pos) + 1);
        /* the parenthesised span includes the parentheses, for messages */
        uint32_t end = P->tok.pos + 1;
        if (!cav_filter_lex(P)) return NULL;
        if (n->op != N_COL) {
            n->len = end - t.pos;
            n->pos = t.pos;
        }
        return n;
    }
    case K_NULL:
        return cav_filter_perr(
            P, t.pos, t.len,
            "`null` is not a value here: comparisons with null are never true; write "
            "`x is null` or `x is not null`");
    case K_EOF:
        if (strspn(P->text, " \t\r\n") == P->n)
            return cav_filter_perr(P, t.pos, 0, "empty expression");
        return cav_filter_perr(P, t.pos, 0,
                               "unexpected end of expression: expected a value or column");
    default:
        return cav_filter_perr(P, t.pos, t.len, "expected a value or column, found `%.*s`",
                               (int)t.len, P->text + t.pos);
    }
}

static cav_node *parse_unary(parser *P) {
    if (P->tok.kind == K_MINUS) {
        uint32_t pos = P->tok.pos;
        if (++P->depth > EXPR_MAX_DEPTH)
            return cav_filter_perr(P, pos, 1, "expression nested too deeply (more than %u levels)",
                                   EXPR_MAX_DEPTH);
        if (!cav_filter_lex(P)) return NULL;
        cav_node *x = parse_unary(P);
        if (!x) return NULL;
        P->depth--;
        if (!is_num(x->ty)) {
            char a[256];
            cav_filter_describe(P, x, a, sizeof a);
            return cav_filter_perr(P, x->pos, x->len, "unary `-` needs a number, not %s", a);
        }
        cav_node *n = cav_filter_new_node(P, N_NEG, x->ty, pos, x->pos + x->len - pos);
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
            cav_filter_describe(P, x, a, sizeof a);
            return cav_filter_perr(P, x->pos, x->len, "`%s` needs numbers, not %s", names[op], a);
        }
    }
    int ty = (op == N_DIV || l->ty == TY_FLOAT || r->ty == TY_FLOAT) ? TY_FLOAT : TY_INT;
    cav_node *n = cav_filter_new_node(P, op, ty, 0, 0);
    if (!n) return NULL;
    n->l = l;
    n->r = r;
    cav_filter_span(n, l, r);
    (void)optok;
    return n;
}

static cav_node *parse_mul(parser *P) {
    cav_node *l = parse_unary(P);
    while (l && (P->tok.kind == K_STAR || P->tok.kind == K_SLASH)) {
        token t = P->tok;
        if (!cav_filter_lex(P)) return NULL;
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
        if (!cav_filter_lex(P)) return NULL;
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
    if (P->tok.kind != K_LP)
        return cav_filter_perr(P, P->tok.pos, P->tok.len, "expected `(` after `in`");
    if (l->ty == TY_NULL) {
        return cav_filter_perr(P, l->pos, l->len,
                               "column `%s` has type null: only `is null` and `is not null` apply",
                               csvavro_schema_field_name(P->schema, l->col));
    }
    if (!cav_filter_lex(P)) return NULL;
    cav_node *n = cav_filter_new_node(P, N_IN, TY_BOOL, pos, 0);
    if (!n) return NULL;
    n->l = l;
    n->neg = neg;
    uint32_t cap = 0;
    for (;;) {
        cav_node *it = parse_add(P);
        if (!it) return NULL;
        if (!cav_filter_check_cmp(P, l, it, C_EQ, it->pos, it->len)) return NULL;
        if (n->n_items == cap) {
            uint32_t nc = cap ? cap * 2 : 8;
            cav_node **ni = cav_realloc(n->items, nc * sizeof *ni);
            if (!ni) return cav_filter_nomem(P);
            n->items = ni;
            cap = nc;
        }
        n->items[n->n_items++] = it;
        if (P->tok.kind == K_COMMA) {
            if (!cav_filter_lex(P)) return NULL;
            continue;
        }
        if (P->tok.kind == K_RP) break;
        return cav_filter_perr(P, P->tok.pos, P->tok.len, "expected `,` or `)` in the `in` list");
    }
    n->len = P->tok.pos + 1 - n->pos;
    return cav_filter_lex(P) ? n : NULL;
}

static cav_node *parse_cmp(parser *P) {
    cav_node *l = parse_add(P);
    if (!l) return NULL;
    cav_node *n = NULL;
    token t = P->tok;
    if (t.kind == K_CMP) {
        if (!cav_filter_lex(P)) return NULL;
        cav_node *r = parse_add(P);
        if (!r) return NULL;
        if (!cav_filter_check_cmp(P, l, r, t.cmp, t.pos, t.len)) return NULL;
        n = cav_filter_new_node(P, N_CMP, TY_BOOL, 0, 0);
        if (!n) return NULL;
        n->cmp = (uint8_t)t.cmp;
        n->l = l;
        n->r = r;
        cav_filter_span(n, l, r);
    } else if (t.kind == K_IS) {
        if (!cav_filter_lex(P)) return NULL;
        bool neg = false;
        if (P->tok.kind == K_NOT) {
            neg = true;
            if (!cav_filter_lex(P)) return NULL;
        }
        if (P->tok.kind != K_NULL)
            return cav_filter_perr(P, P->tok.pos, P->tok.len, "expected `null` after `is%s`",
                                   neg ? " not" : "");
        n = cav_filter_new_node(P, N_ISNULL, TY_BOOL, l->pos, P->tok.pos + P->tok.len - l->pos);
        if (!n) return NULL;
        n->l = l;
        n->neg = neg;
        if (!cav_filter_lex(P)) return NULL;
    } else if (t.kind == K_IN) {
        if (!cav_filter_lex(P)) return NULL;
        n = parse_in_list(P, l, false, l->pos);
    } else if (t.kind == K_NOT) {
        /* `x not in (…)`: look ahead for `in` */
        uint32_t save = P->at;
        if (!cav_filter_lex(P)) return NULL;
        if (P->tok.kind != K_IN) {
            P->at = save;
            P->tok = t;
            return cav_filter_perr(P, t.pos, t.len, "unexpected `not` (did you mean `not in`?)");
        }
        if (!cav_filter_lex(P)) return NULL;
        n = parse_in_list(P, l, true, l->pos);
    } else {
        return l;
    }
    if (n && is_cmp_start(P))
        return cav_filter_perr(
            P, P->tok.pos, P->tok.len,
            "comparisons do not chain: combine them with `and`, or use parentheses");
    return n;
}

static cav_node *need_bool(parser *P, cav_node *x, const char *op) {
    if (!x || x->ty == TY_BOOL) return x;
    char a[256];
    cav_filter_describe(P, x, a, sizeof a);
    return cav_filter_perr(P, x->pos, x->len, "`%s` needs a condition (true/false), not %s", op, a);
}

static cav_node *parse_not(parser *P) {
    if (P->tok.kind == K_NOT) {
        uint32_t pos = P->tok.pos;
        if (++P->depth > EXPR_MAX_DEPTH)
            return cav_filter_perr(P, pos, 3, "expression nested too deeply (more than %u levels)",
                                   EXPR_MAX_DEPTH);
        if (!cav_filter_lex(P)) return NULL;
        cav_node *x = need_bool(P, parse_not(P), "not");
        if (!x) return NULL;
        P->depth--;
        cav_node *n = cav_filter_new_node(P, N_NOT, TY_BOOL, pos, x->pos + x->len - pos);
        if (!n) return NULL;
        n->l = x;
        return n;
    }
    return parse_cmp(P);
}

static cav_node *parse_and(parser *P) {
    cav_node *l = parse_not(P);
    while (l && P->tok.kind == K_AND) {
        if (!need_bool(P, l, "and") || !cav_filter_lex(P)) return NULL;
        cav_node *r = need_bool(P, parse_not(P), "and");
        if (!r) return NULL;
        cav_node *n = cav_filter_new_node(P, N_AND, TY_BOOL, 0, 0);
        if (!n) return NULL;
        n->l = l;
        n->r = r;
        cav_filter_span(n, l, r);
        l = n;
    }
    return l;
}

cav_node *cav_filter_parse_or(parser *P) {
    cav_node *l = parse_and(P);
    while (l && P->tok.kind == K_OR) {
        if (!need_bool(P, l, "or") || !cav_filter_lex(P)) return NULL;
        cav_node *r = need_bool(P, parse_and(P), "or");
        if (!r) return NULL;
        cav_node *n = cav_filter_new_node(P, N_OR, TY_BOOL, 0, 0);
        if (!n) return NULL;
        n->l = l;
        n->r = r;
        cav_filter_span(n, l, r);
        l = n;
    }
    return l;
}
