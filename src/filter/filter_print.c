/*
 * filter_print.c — the canonical text of a parsed `--where` expression.
 */
#include "filter_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
csvavro_status cav_filter_print(const cav_node *n, const csvavro_schema *s, cav_buf *b) {
    static const char *cmps[] = {"=", "!=", "<", "<=", ">", ">="};
    static const char *ariths[] = {[N_ADD] = "+", [N_SUB] = "-", [N_MUL] = "*", [N_DIV] = "/"};
    int p = prec(n);
    switch (n->op) {
    case N_COL: {
        const char *name = csvavro_schema_field_name(s, n->col);
        bool plain = is_word_start((unsigned char)name[0]) &&
                     cav_filter_keyword_kind(name, strlen(name)) < 0;
        for (const char *q = name; *q && plain; q++)
            plain = is_word((unsigned char)*q);
        if (plain) return cav_buf_append_str(b, name, NULL);
        CAV_TRY(cav_buf_append(b, "`", 1, NULL));
        for (const char *q = name; *q; q++) {
            CAV_TRY(cav_buf_append(b, q, 1, NULL));
            if (*q == '`') CAV_TRY(cav_buf_append(b, "`", 1, NULL));
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
    if (prec(n) >= min) return cav_filter_print(n, s, b);
    CAV_TRY(cav_buf_append(b, "(", 1, NULL));
    CAV_TRY(cav_filter_print(n, s, b));
    return cav_buf_append(b, ")", 1, NULL);
}
