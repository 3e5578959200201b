/*
 * filter_front.h — internals shared by the files of the `--where` front end: the token and
 * parser state, the limits, and the functions one part of the front end calls in another
 * (lexer: filter_lex.c, errors: filter_error.c, typed nodes and literals: filter_types.c,
 * did-you-mean: cav_schema_suggest in batch, parser: filter_parse.c, canonical text:
 * filter_print.c, lowering: filter_lower.c, the compile driver: filter_compile.c).
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
#ifndef CAV_FILTER_FRONT_H
#define CAV_FILTER_FRONT_H

#include "filter_internal.h"

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

/* filter_error.c: the first error wins; the message shows the expression with a caret line. */
uint32_t cav_filter_cp_count(const char *s, uint32_t from, uint32_t to);
void *cav_filter_perr(parser *P, uint32_t pos, uint32_t len, const char *fmt, ...) CAV_PRINTF(4, 5);
void *cav_filter_nomem(parser *P);

/* filter_lex.c: reads the next token into P->tok. */
bool cav_filter_lex(parser *P);
int cav_filter_keyword_kind(const char *s, size_t n); /* K_* of a keyword, or -1 */

/* filter_types.c: typed nodes, type rules, date/time literal coercion. */
cav_node *cav_filter_new_node(parser *P, int op, int ty, uint32_t pos, uint32_t len);
void cav_filter_span(cav_node *n, const cav_node *a, const cav_node *b);
void cav_filter_describe(parser *P, const cav_node *n, char *out, size_t cap);
int cav_filter_col_ty(csvavro_type t);
bool cav_filter_check_cmp(parser *P, cav_node *l, cav_node *r, int op, uint32_t op_pos,
                          uint32_t op_len);

/* filter_parse.c: or_expr (the whole grammar). */
cav_node *cav_filter_parse_or(parser *P);

/* filter_print.c: appends the canonical text of n to b. */
csvavro_status cav_filter_print(const cav_node *n, const csvavro_schema *s, cav_buf *b);

/* filter_lower.c: folds constants and fixes every node's evaluation kind. */
bool cav_filter_lower(parser *P, cav_node *n);

static inline bool is_word_start(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool is_word(int c) {
    return is_word_start(c) || (c >= '0' && c <= '9');
}

static inline bool is_num(int ty) {
    return ty == TY_INT || ty == TY_FLOAT;
}

static inline bool ts_local(csvavro_type t) {
    return t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS || t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
}

static inline bool ts_millis(csvavro_type t) {
    return t == CSVAVRO_TYPE_TIMESTAMP_MILLIS || t == CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
}

#endif /* CAV_FILTER_FRONT_H */
