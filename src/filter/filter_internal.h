/*
 * filter_internal.h — the compiled expression tree shared by the parser (filter_parse.c) and the
 * vectorised evaluator (filter_eval.c).
 *
 * The parser builds typed nodes (types checked as they are built), prints the canonical text,
 * then "lowers" the tree: constants are folded, a constant operand of a comparison is moved to
 * the right, literals are converted to the representation of the column they meet (dates to
 * days, timestamps to the column's unit) and comparisons of integers with fractional constants
 * are rewritten into exact integer comparisons. After lowering every node's evaluation kind is
 * known, so the evaluator only dispatches once per node per batch.
 */
#ifndef CAV_FILTER_INTERNAL_H
#define CAV_FILTER_INTERNAL_H

#include "filter.h"

/* Value types of the language. */
enum {
    TY_BOOL,
    TY_INT,   /* INT, LONG columns; integer literals (int64) */
    TY_FLOAT, /* FLOAT, DOUBLE columns; decimal literals (double) */
    TY_STR,   /* STRING, BYTES columns; string literals */
    TY_DATE,  /* DATE columns (int32 days) */
    TY_TS,    /* timestamp columns (int64 in the unit of node->ctype) */
    TY_NULL   /* a column of type null: only `is [not] null` applies */
};

/* Node operators. */
enum {
    N_CONST,
    N_COL,
    N_NEG,
    N_ADD,
    N_SUB,
    N_MUL,
    N_DIV,
    N_CMP,
    N_AND,
    N_OR,
    N_NOT,
    N_ISNULL,
    N_IN
};

/* Comparison operators. C_NEVER / C_ALWAYS: false / true whenever the operand is not null
 * (what exact rewrites of `int = 2.5` and the like leave). */
enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_NEVER, C_ALWAYS };

/* Comparison modes (chosen at lowering). */
enum { CM_NUM, CM_STR, CM_BOOL };

typedef struct cav_node {
    uint8_t op, ty, cmp, mode;
    bool neg;   /* N_ISNULL: `is not null`; N_IN: `not in` */
    bool lit;   /* N_CONST written as a string literal (date/timestamp coercion applies) */
    bool cnull; /* N_CONST: the null value (from folding 1/0 and the like) */
    bool cfrac; /* integer constant whose true value lies strictly between ci and ci+1 */
    bool cb;    /* TY_BOOL constant */
    int64_t ci; /* TY_INT/DATE/TS constant */
    double cf;  /* TY_FLOAT constant */
    char *cs;   /* TY_STR constant (owned) */
    uint32_t cslen;
    csvavro_type ctype; /* N_COL: storage type; TY_TS nodes: timestamp type (unit) */
    uint32_t col;
    struct cav_node *l, *r;
    struct cav_node **items; /* N_IN: constant items */
    uint32_t n_items;
    uint32_t pos, len; /* source span (bytes) */
    struct cav_node *next_alloc;
} cav_node;

struct cav_filter {
    cav_node *root;
    cav_node *nodes; /* every node, for freeing */
    char *text;      /* canonical text */
    uint32_t *cols;
    size_t n_cols;
    uint32_t n_slots; /* scratch vectors the evaluation needs */
    const csvavro_schema *schema_unused;
};

/* Exact comparison helpers shared by constant folding and the evaluator. */
static inline int cav_cmp_apply(int c, int op) /* c: -1, 0, 1, or 2 = unordered (NaN) */
{
    switch (op) {
    case C_EQ:
        return c == 0;
    case C_NE:
        return c != 0;
    case C_LT:
        return c == -1;
    case C_LE:
        return c == -1 || c == 0;
    case C_GT:
        return c == 1;
    case C_GE:
        return c == 1 || c == 0;
    case C_NEVER:
        return 0;
    default:
        return 1;
    }
}
int cav_cmp_i64_f64(int64_t a, double d);
int cav_cmp_f64(double a, double b);

#endif /* CAV_FILTER_INTERNAL_H */
