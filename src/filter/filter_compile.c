/*
 * filter_compile.c — cav_filter_compile and the accessors of a compiled filter: lex, parse, print,
 * lower, count scratch slots, collect the columns read.
 */
#include "filter_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static csvavro_status collect_cols(cav_filter *e, const cav_node *n, size_t *cap) {
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

csvavro_status cav_filter_compile(const char *text, const csvavro_schema *schema, cav_filter **out,
                                  csvavro_error *err) {
    *out = NULL;
    if (!text || !schema) return cav_err(err, CSVAVRO_E_USAGE, "cav_filter_compile: NULL argument");
    size_t n = strlen(text);
    if (n > EXPR_MAX_LEN)
        return cav_err(err, CSVAVRO_E_EXPR, "filter expression longer than %u bytes", EXPR_MAX_LEN);
    parser P = {.text = text, .n = (uint32_t)n, .schema = schema, .err = err};
    cav_buf_init(&P.sbuf, EXPR_MAX_LEN + 16);
    cav_filter *e = NULL;
    cav_node *root = NULL;
    cav_buf tb;
    cav_buf_init(&tb, 0);
    if (cav_filter_lex(&P)) root = cav_filter_parse_or(&P);
    if (root && P.tok.kind != K_EOF) {
        if (P.tok.kind == K_RP)
            cav_filter_perr(&P, P.tok.pos, P.tok.len, "unmatched `)`");
        else
            cav_filter_perr(&P, P.tok.pos, P.tok.len,
                            "unexpected `%.*s` after a complete expression", (int)P.tok.len,
                            text + P.tok.pos);
        root = NULL;
    }
    if (root && root->ty != TY_BOOL) {
        char a[256];
        cav_filter_describe(&P, root, a, sizeof a);
        cav_filter_perr(&P, root->pos, root->len,
                        "the filter must be a condition (true/false), not %s", a);
        root = NULL;
    }
    if (root && cav_filter_print(root, schema, &tb) != CSVAVRO_OK) root = cav_filter_nomem(&P);
    if (root && cav_buf_append(&tb, "", 1, NULL) != CSVAVRO_OK) root = cav_filter_nomem(&P);
    if (root && !cav_filter_lower(&P, root)) root = NULL;
    if (root) {
        e = cav_calloc(1, sizeof *e);
        if (!e) root = cav_filter_nomem(&P);
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
            cav_filter_free(e);
            e = NULL;
            cav_filter_nomem(&P);
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

void cav_filter_free(cav_filter *e) {
    if (!e) return;
    free_nodes(e->nodes);
    cav_free(e->cols);
    cav_free(e->text);
    cav_free(e);
}

size_t cav_filter_columns(const cav_filter *e, const uint32_t **cols) {
    *cols = e->cols;
    return e->n_cols;
}

const char *cav_filter_text(const cav_filter *e) {
    return e->text;
}
