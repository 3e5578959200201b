/*
 * filter_eval.c — vectorised evaluation of a compiled filter over a column batch.
 *
 * Each node is evaluated once per batch by a typed loop over all rows. Boolean results are two
 * byte vectors, T (row is TRUE) and F (row is FALSE); a row with neither is NULL. That makes
 * SQL's three-valued logic branch-free: and = (Ta&Tb, Fa|Fb), or = (Ta|Tb, Fa&Fb), not = swap
 * the two pointers. Number results are a typed vector plus a validity byte vector. Columns are
 * read in place; constants are never broadcast on the hot path (`column op constant` kernels).
 *
 * Scratch: node evaluation uses "slots" like a register stack: a node at slot s evaluates its
 * left child at s and its right child at s+1, and writes its own result into slot s. Slots are
 * allocated once per state at the batch capacity (padded to 8 bytes for word-wise boolean
 * ops); the steady state allocates nothing.
 *
 * Hot kernels are compiled twice, plain and with AVX2 enabled, and picked once by CPUID.
 * Rows outside the current selection or flagged in row_error are "inactive": their values may
 * be garbage, so string kernels never dereference them and the final selection drops them.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize")
#endif

#include "filter_internal.h"

#include <string.h>

typedef struct slot {
    int64_t *di;
    double *df;
    uint8_t *v, *T, *F;
} slot;

typedef void (*vc_i32_fn)(const int32_t *, const uint8_t *, int32_t, int, uint8_t *, uint8_t *,
                          uint32_t);
typedef void (*vc_i64_fn)(const int64_t *, const uint8_t *, int64_t, int, uint8_t *, uint8_t *,
                          uint32_t);
typedef void (*vc_f32_fn)(const float *, const uint8_t *, double, int, uint8_t *, uint8_t *,
                          uint32_t);
typedef void (*vc_f64_fn)(const double *, const uint8_t *, double, int, uint8_t *, uint8_t *,
                          uint32_t);
typedef void (*vv_i64_fn)(const int64_t *, const uint8_t *, const int64_t *, const uint8_t *, int,
                          uint8_t *, uint8_t *, uint32_t);
typedef void (*vv_f64_fn)(const double *, const uint8_t *, const double *, const uint8_t *, int,
                          uint8_t *, uint8_t *, uint32_t);

typedef struct kernels {
    vc_i32_fn vc_i32;
    vc_i64_fn vc_i64;
    vc_f32_fn vc_f32;
    vc_f64_fn vc_f64;
    vv_i64_fn vv_i64;
    vv_f64_fn vv_f64;
} kernels;

struct cav_filter_state {
    uint32_t cap;
    uint32_t n_slots;
    slot *slots;
    uint8_t *ones, *zeros, *active;
    const kernels *k;
};

/* ---------------------------------------------------------------- typed kernels */

#define VC_LOOP(OP)                                                                                \
    for (uint32_t i = 0; i < n; i++) {                                                             \
        uint8_t ok = v[i] != 0;                                                                    \
        uint8_t r = x[i] OP c;                                                                     \
        To[i] = ok & r;                                                                            \
        Fo[i] = ok & (r ^ 1);                                                                      \
    }

#define VV_LOOP(OP)                                                                                \
    for (uint32_t i = 0; i < n; i++) {                                                             \
        uint8_t ok = (vx[i] != 0) & (vy[i] != 0);                                                  \
        uint8_t r = x[i] OP y[i];                                                                  \
        To[i] = ok & r;                                                                            \
        Fo[i] = ok & (r ^ 1);                                                                      \
    }

#define OP_SWITCH(LOOP)                                                                            \
    switch (op) {                                                                                  \
    case C_EQ:                                                                                     \
        LOOP(==) break;                                                                            \
    case C_NE:                                                                                     \
        LOOP(!=) break;                                                                            \
    case C_LT:                                                                                     \
        LOOP(<) break;                                                                             \
    case C_LE:                                                                                     \
        LOOP(<=) break;                                                                            \
    case C_GT:                                                                                     \
        LOOP(>) break;                                                                             \
    default:                                                                                       \
        LOOP(>=) break;                                                                            \
    }

#define DEF_VC(NAME, T, CT, ATTR)                                                                  \
    ATTR static void NAME(const T *restrict x, const uint8_t *restrict v, CT c, int op,            \
                          uint8_t *restrict To, uint8_t *restrict Fo, uint32_t n) {                \
        OP_SWITCH(VC_LOOP)                                                                         \
    }
#define DEF_VV(NAME, T, ATTR)                                                                      \
    ATTR static void NAME(const T *restrict x, const uint8_t *restrict vx, const T *restrict y,    \
                          const uint8_t *restrict vy, int op, uint8_t *restrict To,                \
                          uint8_t *restrict Fo, uint32_t n) {                                      \
        OP_SWITCH(VV_LOOP)                                                                         \
    }

#define DEF_KERNELS(SUFFIX, ATTR)                                                                  \
    DEF_VC(vc_i32_##SUFFIX, int32_t, int32_t, ATTR)                                                \
    DEF_VC(vc_i64_##SUFFIX, int64_t, int64_t, ATTR)                                                \
    DEF_VC(vc_f32_##SUFFIX, float, double, ATTR)                                                   \
    DEF_VC(vc_f64_##SUFFIX, double, double, ATTR)                                                  \
    DEF_VV(vv_i64_##SUFFIX, int64_t, ATTR)                                                         \
    DEF_VV(vv_f64_##SUFFIX, double, ATTR)                                                          \
    static const kernels kernels_##SUFFIX = {vc_i32_##SUFFIX, vc_i64_##SUFFIX, vc_f32_##SUFFIX,    \
                                             vc_f64_##SUFFIX, vv_i64_##SUFFIX, vv_f64_##SUFFIX};

DEF_KERNELS(plain, )
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_KERNELS 1
DEF_KERNELS(avx2, __attribute__((target("avx2"))))
#endif

static const kernels *pick_kernels(void) {
#ifdef HAVE_AVX2_KERNELS
    if (cav_cpu_features() & CAV_CPU_AVX2) return &kernels_avx2;
#endif
    return &kernels_plain;
}

/* ---------------------------------------------------------------- evaluation */

typedef struct boolv {
    const uint8_t *T, *F;
} boolv;

enum { NK_I32, NK_I64, NK_F32, NK_F64 };

typedef struct numv {
    int k;
    bool cnst;
    int64_t ci;
    double cf;
    const void *p;
    const uint8_t *v;
} numv;

typedef struct ctx {
    const cav_filter_state *s;
    const cav_batch *b;
    uint32_t n;
    uint32_t words;        /* (n + 7) / 8 */
    const uint8_t *active; /* NULL = every row active */
} ctx;

static inline uint64_t ld8(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}
static inline void st8(uint8_t *p, uint64_t w) {
    memcpy(p, &w, 8);
}
#define BYTES01 0x0101010101010101ull

static int storage_kind(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE:
        return NK_I32;
    case CSVAVRO_TYPE_FLOAT:
        return NK_F32;
    case CSVAVRO_TYPE_DOUBLE:
        return NK_F64;
    default:
        return NK_I64;
    }
}

static numv eval_num(const ctx *c, const cav_node *n, uint32_t s);
static boolv eval_bool(const ctx *c, const cav_node *n, uint32_t s);

/* Values of v as int64 (columns of int64 are read in place). */
static const int64_t *as_i64(const ctx *c, const numv *v, uint32_t s) {
    int64_t *o = c->s->slots[s].di;
    if (v->cnst) {
        for (uint32_t i = 0; i < c->n; i++)
            o[i] = v->ci;
    } else if (v->k == NK_I64) {
        return v->p;
    } else { /* NK_I32 */
        const int32_t *x = v->p;
        for (uint32_t i = 0; i < c->n; i++)
            o[i] = x[i];
    }
    return o;
}

static const double *as_f64(const ctx *c, const numv *v, uint32_t s) {
    double *o = c->s->slots[s].df;
    if (v->cnst) {
        double d = v->k == NK_F64 ? v->cf : (double)v->ci;
        for (uint32_t i = 0; i < c->n; i++)
            o[i] = d;
        return o;
    }
    switch (v->k) {
    case NK_F64:
        return v->p;
    case NK_F32: {
        const float *x = v->p;
        for (uint32_t i = 0; i < c->n; i++)
            o[i] = x[i];
        break;
    }
    case NK_I32: {
        const int32_t *x = v->p;
        for (uint32_t i = 0; i < c->n; i++)
            o[i] = x[i];
        break;
    }
    default: {
        const int64_t *x = v->p;
        for (uint32_t i = 0; i < c->n; i++)
            o[i] = (double)x[i];
        break;
    }
    }
    return o;
}

static numv eval_arith(const ctx *c, const cav_node *n, uint32_t s) {
    slot *o = &c->s->slots[s];
    numv l = eval_num(c, n->l, s);
    numv r = {0};
    if (n->r) r = eval_num(c, n->r, s + 1);
    const uint8_t *lv = l.v, *rv = n->r ? r.v : c->s->ones;
    uint8_t *ov = o->v;
    uint32_t N = c->n;
    numv res = {.v = ov};
    if (n->ty == TY_INT) {
        const int64_t *a = as_i64(c, &l, s);
        const int64_t *b = n->r ? as_i64(c, &r, s + 1) : NULL;
        int64_t *d = o->di;
        res.k = NK_I64;
        res.p = d;
        for (uint32_t i = 0; i < N; i++) {
            int64_t x;
            bool ovf;
            switch (n->op) {
            case N_NEG:
                ovf = __builtin_sub_overflow((int64_t)0, a[i], &x);
                break;
            case N_ADD:
                ovf = __builtin_add_overflow(a[i], b[i], &x);
                break;
            case N_SUB:
                ovf = __builtin_sub_overflow(a[i], b[i], &x);
                break;
            default:
                ovf = __builtin_mul_overflow(a[i], b[i], &x);
                break;
            }
            uint8_t ok = (lv[i] != 0) & (rv[i] != 0) & !ovf;
            ov[i] = ok;
            d[i] = ok ? x : 0;
        }
        return res;
    }
    const double *a = as_f64(c, &l, s);
    const double *b = n->r ? as_f64(c, &r, s + 1) : NULL;
    double *d = o->df;
    res.k = NK_F64;
    res.p = d;
    switch (n->op) {
    case N_NEG:
        for (uint32_t i = 0; i < N; i++)
            d[i] = -a[i], ov[i] = lv[i] != 0;
        break;
    case N_ADD:
        for (uint32_t i = 0; i < N; i++)
            d[i] = a[i] + b[i], ov[i] = (lv[i] != 0) & (rv[i] != 0);
        break;
    case N_SUB:
        for (uint32_t i = 0; i < N; i++)
            d[i] = a[i] - b[i], ov[i] = (lv[i] != 0) & (rv[i] != 0);
        break;
    case N_MUL:
        for (uint32_t i = 0; i < N; i++)
            d[i] = a[i] * b[i], ov[i] = (lv[i] != 0) & (rv[i] != 0);
        break;
    default: /* division by zero is null */
        for (uint32_t i = 0; i < N; i++) {
            uint8_t ok = (lv[i] != 0) & (rv[i] != 0) & (b[i] != 0);
            ov[i] = ok;
            d[i] = ok ? a[i] / b[i] : 0;
        }
        break;
    }
    return res;
}

static numv eval_num(const ctx *c, const cav_node *n, uint32_t s) {
    numv r = {0};
    if (n->op == N_CONST) {
        r.cnst = true;
        r.k = n->ty == TY_FLOAT ? NK_F64 : NK_I64;
        r.ci = n->ci;
        r.cf = n->cf;
        r.v = n->cnull ? c->s->zeros : c->s->ones;
        return r;
    }
    if (n->op == N_COL) {
        const cav_column *col = &c->b->cols[n->col];
        r.k = storage_kind(col->type);
        r.p = col->v.any;
        r.v = col->valid;
        return r;
    }
    return eval_arith(c, n, s);
}

/* T/F from a validity vector: T = v & cond-free constant result. */
static boolv cmp_fixed(const ctx *c, const uint8_t *v, bool t, uint32_t s) {
    slot *o = &c->s->slots[s];
    for (uint32_t i = 0; i < c->n; i++) {
        uint8_t ok = v[i] != 0;
        o->T[i] = t ? ok : 0;
        o->F[i] = t ? 0 : ok;
    }
    return (boolv){o->T, o->F};
}

static boolv eval_cmp_num(const ctx *c, const cav_node *n, uint32_t s) {
    slot *o = &c->s->slots[s];
    const kernels *K = c->s->k;
    numv l = eval_num(c, n->l, s);
    const cav_node *rn = n->r;
    if (n->cmp == C_NEVER || n->cmp == C_ALWAYS) return cmp_fixed(c, l.v, n->cmp == C_ALWAYS, s);
    if (rn->op == N_CONST) {
        bool rint = rn->ty != TY_FLOAT;
        if (l.k == NK_I32 && rint && rn->ci >= INT32_MIN && rn->ci <= INT32_MAX) {
            K->vc_i32(l.p, l.v, (int32_t)rn->ci, n->cmp, o->T, o->F, c->n);
            return (boolv){o->T, o->F};
        }
        if ((l.k == NK_I64 || l.k == NK_I32) && rint) {
            K->vc_i64(as_i64(c, &l, s), l.v, rn->ci, n->cmp, o->T, o->F, c->n);
            return (boolv){o->T, o->F};
        }
        if (l.k == NK_F32 && !rint) {
            K->vc_f32(l.p, l.v, rn->cf, n->cmp, o->T, o->F, c->n);
            return (boolv){o->T, o->F};
        }
        if (l.k == NK_F64 && !rint) {
            K->vc_f64(l.p, l.v, rn->cf, n->cmp, o->T, o->F, c->n);
            return (boolv){o->T, o->F};
        }
    }
    numv r = eval_num(c, rn, s + 1);
    bool lint = l.k == NK_I32 || l.k == NK_I64, rint = r.k == NK_I32 || r.k == NK_I64;
    if (lint && rint) {
        const int64_t *a = as_i64(c, &l, s), *b = as_i64(c, &r, s + 1);
        K->vv_i64(a, l.v, b, r.v, n->cmp, o->T, o->F, c->n);
    } else if (!lint && !rint) {
        const double *a = as_f64(c, &l, s), *b = as_f64(c, &r, s + 1);
        K->vv_f64(a, l.v, b, r.v, n->cmp, o->T, o->F, c->n);
    } else { /* exact int64 vs double */
        const int64_t *a = lint ? as_i64(c, &l, s) : as_i64(c, &r, s + 1);
        const double *b = lint ? as_f64(c, &r, s + 1) : as_f64(c, &l, s);
        const uint8_t *va = lint ? l.v : r.v, *vb = lint ? r.v : l.v;
        for (uint32_t i = 0; i < c->n; i++) {
            uint8_t ok = (va[i] != 0) & (vb[i] != 0);
            int cm = cav_cmp_i64_f64(a[i], b[i]);
            if (!lint && cm != 2) cm = -cm;
            uint8_t t = (uint8_t)cav_cmp_apply(cm, n->cmp);
            o->T[i] = ok & t;
            o->F[i] = ok & (t ^ 1);
        }
    }
    return (boolv){o->T, o->F};
}

static inline int str_cmp(const char *a, uint32_t al, const char *b, uint32_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c == 0) return al < bl ? -1 : al > bl;
    return c < 0 ? -1 : 1;
}

static boolv eval_cmp_str(const ctx *c, const cav_node *n, uint32_t s) {
    slot *o = &c->s->slots[s];
    const cav_column *lc = &c->b->cols[n->l->col];
    const cav_strview *x = lc->v.str;
    const uint8_t *vx = lc->valid;
    const cav_strview *y = NULL;
    const uint8_t *vy = c->s->ones;
    if (n->r->op == N_COL) {
        y = c->b->cols[n->r->col].v.str;
        vy = c->b->cols[n->r->col].valid;
    }
    const char *cs = n->r->cs;
    uint32_t cl = n->r->cslen;
    const uint8_t *act = c->active;
    if (!y && (n->cmp == C_EQ || n->cmp == C_NE)) { /* equality: lengths first */
        uint8_t want = n->cmp == C_EQ;
        for (uint32_t i = 0; i < c->n; i++) {
            uint8_t ok = (vx[i] != 0) & (act ? act[i] != 0 : 1);
            uint8_t t = 0;
            if (ok && x[i].len == cl) {
                if (cl <= 16) { /* short constants: a byte loop beats a memcmp call */
                    const char *p = x[i].ptr;
                    uint8_t diff = 0;
                    for (uint32_t j = 0; j < cl; j++)
                        diff |= (uint8_t)(p[j] ^ cs[j]);
                    t = diff == 0;
                } else {
                    t = memcmp(x[i].ptr, cs, cl) == 0;
                }
            }
            t = (uint8_t)(t == want);
            o->T[i] = ok & t;
            o->F[i] = ok & (t ^ 1);
        }
        return (boolv){o->T, o->F};
    }
    for (uint32_t i = 0; i < c->n; i++) {
        uint8_t ok = (vx[i] != 0) & (vy[i] != 0) & (act ? act[i] != 0 : 1);
        uint8_t t = 0;
        if (ok) {
            int cm = y ? str_cmp(x[i].ptr, x[i].len, y[i].ptr, y[i].len)
                       : str_cmp(x[i].ptr, x[i].len, cs, cl);
            t = (uint8_t)cav_cmp_apply(cm, n->cmp);
        }
        o->T[i] = ok & t;
        o->F[i] = ok & (t ^ 1);
    }
    return (boolv){o->T, o->F};
}

static boolv eval_in(const ctx *c, const cav_node *n, uint32_t s) {
    slot *o = &c->s->slots[s];
    const cav_node *l = n->l;
    uint32_t N = c->n, m = n->n_items;
    uint8_t nonhit_f = n->cnull ? 0 : 1; /* a null in the list makes non-matches null */
    if (l->ty == TY_BOOL) {
        bool want_t = false, want_f = false;
        for (uint32_t j = 0; j < m; j++) {
            if (n->items[j]->cb)
                want_t = true;
            else
                want_f = true;
        }
        boolv a = eval_bool(c, l, s);
        for (uint32_t i = 0; i < N; i++) {
            uint8_t known = a.T[i] | a.F[i];
            uint8_t hit = (want_t & a.T[i]) | (want_f & a.F[i]);
            o->T[i] = hit;
            o->F[i] = known & (hit ^ 1) & nonhit_f;
        }
    } else if (l->ty == TY_STR) {
        const cav_column *lc = &c->b->cols[l->col];
        const uint8_t *act = c->active;
        for (uint32_t i = 0; i < N; i++) {
            uint8_t ok = (lc->valid[i] != 0) & (act ? act[i] != 0 : 1);
            uint8_t hit = 0;
            for (uint32_t j = 0; ok && !hit && j < m; j++)
                hit = str_cmp(lc->v.str[i].ptr, lc->v.str[i].len, n->items[j]->cs,
                              n->items[j]->cslen) == 0;
            o->T[i] = ok & hit;
            o->F[i] = ok & (hit ^ 1) & nonhit_f;
        }
    } else {
        numv v = eval_num(c, l, s);
        bool isint = v.k == NK_I32 || v.k == NK_I64;
        const int64_t *xi = isint ? as_i64(c, &v, s) : NULL;
        const double *xf = isint ? NULL : as_f64(c, &v, s);
        uint8_t *hits = c->s->slots[s + 1].T; /* one pass per item: typed, vectorisable */
        memset(hits, 0, N);
        for (uint32_t j = 0; j < m; j++) {
            if (isint) {
                int64_t cj = n->items[j]->ci;
                for (uint32_t i = 0; i < N; i++)
                    hits[i] |= xi[i] == cj;
            } else {
                double cj = n->items[j]->cf;
                for (uint32_t i = 0; i < N; i++)
                    hits[i] |= xf[i] == cj;
            }
        }
        for (uint32_t i = 0; i < N; i++) {
            uint8_t hit = hits[i];
            uint8_t ok = v.v[i] != 0;
            o->T[i] = ok & hit;
            o->F[i] = ok & (hit ^ 1) & nonhit_f;
        }
    }
    if (n->neg) return (boolv){o->F, o->T};
    return (boolv){o->T, o->F};
}

static boolv eval_bool(const ctx *c, const cav_node *n, uint32_t s) {
    assert(s < c->s->n_slots); /* compile counted the scratch slots the tree needs */
    const cav_filter_state *st = c->s;
    slot *o = &st->slots[s];
    switch (n->op) {
    case N_CONST:
        if (n->cnull) return (boolv){st->zeros, st->zeros};
        return n->cb ? (boolv){st->ones, st->zeros} : (boolv){st->zeros, st->ones};
    case N_COL: {
        const cav_column *col = &c->b->cols[n->col];
        for (uint32_t i = 0; i < c->n; i++) {
            uint8_t ok = col->valid[i] != 0, x = col->v.b8[i] != 0;
            o->T[i] = ok & x;
            o->F[i] = ok & (x ^ 1);
        }
        return (boolv){o->T, o->F};
    }
    case N_NOT: {
        boolv a = eval_bool(c, n->l, s);
        return (boolv){a.F, a.T};
    }
    case N_AND:
    case N_OR: {
        boolv a = eval_bool(c, n->l, s);
        boolv b = eval_bool(c, n->r, s + 1);
        bool and_ = n->op == N_AND;
        for (uint32_t w = 0; w < c->words; w++) {
            uint64_t ta = ld8(a.T + 8 * w), fa = ld8(a.F + 8 * w);
            uint64_t tb = ld8(b.T + 8 * w), fb = ld8(b.F + 8 * w);
            st8(o->T + 8 * w, and_ ? ta & tb : ta | tb);
            st8(o->F + 8 * w, and_ ? fa | fb : fa & fb);
        }
        return (boolv){o->T, o->F};
    }
    case N_ISNULL: {
        if (n->l->ty == TY_BOOL) {
            boolv a = eval_bool(c, n->l, s);
            for (uint32_t w = 0; w < c->words; w++) {
                uint64_t known = ld8(a.T + 8 * w) | ld8(a.F + 8 * w);
                st8(o->T + 8 * w, known ^ BYTES01);
                st8(o->F + 8 * w, known);
            }
        } else {
            const uint8_t *v;
            if (n->l->op == N_COL)
                v = c->b->cols[n->l->col].valid;
            else
                v = eval_num(c, n->l, s).v;
            for (uint32_t i = 0; i < c->n; i++) {
                uint8_t ok = v[i] != 0;
                o->T[i] = ok ^ 1;
                o->F[i] = ok;
            }
        }
        if (n->neg) return (boolv){o->F, o->T};
        return (boolv){o->T, o->F};
    }
    case N_IN:
        return eval_in(c, n, s);
    case N_CMP:
        if (n->mode == CM_STR) return eval_cmp_str(c, n, s);
        if (n->mode == CM_BOOL) {
            boolv a = eval_bool(c, n->l, s);
            boolv b = eval_bool(c, n->r, s + 1);
            for (uint32_t w = 0; w < c->words; w++) {
                uint64_t ta = ld8(a.T + 8 * w), fa = ld8(a.F + 8 * w);
                uint64_t tb = ld8(b.T + 8 * w), fb = ld8(b.F + 8 * w);
                uint64_t eq = (ta & tb) | (fa & fb), ne = (ta & fb) | (fa & tb);
                st8(o->T + 8 * w, n->cmp == C_EQ ? eq : ne);
                st8(o->F + 8 * w, n->cmp == C_EQ ? ne : eq);
            }
            return (boolv){o->T, o->F};
        }
        return eval_cmp_num(c, n, s);
    default:
        return (boolv){st->zeros, st->zeros};
    }
}

/* ---------------------------------------------------------------- state and filter */

static size_t pad8(uint32_t n) {
    return ((size_t)n + 7) / 8 * 8 + 8;
}

csvavro_status cav_filter_state_create(const cav_filter *e, uint32_t batch_cap,
                                       cav_filter_state **out, csvavro_error *err) {
    *out = NULL;
    cav_filter_state *s = cav_calloc(1, sizeof *s);
    if (!s) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory creating a filter state");
    s->cap = batch_cap;
    s->n_slots = e->n_slots ? e->n_slots : 1;
    s->k = pick_kernels();
    size_t pb = pad8(batch_cap);
    s->slots = cav_calloc(s->n_slots, sizeof *s->slots);
    s->ones = cav_malloc(pb);
    s->zeros = cav_calloc(pb, 1);
    s->active = cav_calloc(pb, 1);
    bool ok = s->slots && s->ones && s->zeros && s->active;
    for (uint32_t i = 0; ok && i < s->n_slots; i++) {
        slot *sl = &s->slots[i];
        sl->di = cav_malloc(sizeof(int64_t) * (batch_cap ? batch_cap : 1));
        sl->df = cav_malloc(sizeof(double) * (batch_cap ? batch_cap : 1));
        sl->v = cav_calloc(pb, 1);
        sl->T = cav_calloc(pb, 1);
        sl->F = cav_calloc(pb, 1);
        ok = sl->di && sl->df && sl->v && sl->T && sl->F;
    }
    if (!ok) {
        cav_filter_state_free(s);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory creating a filter state");
    }
    memset(s->ones, 1, pb);
    *out = s;
    return CSVAVRO_OK;
}

void cav_filter_state_free(cav_filter_state *s) {
    if (!s) return;
    for (uint32_t i = 0; s->slots && i < s->n_slots; i++) {
        cav_free(s->slots[i].di);
        cav_free(s->slots[i].df);
        cav_free(s->slots[i].v);
        cav_free(s->slots[i].T);
        cav_free(s->slots[i].F);
    }
    cav_free(s->slots);
    cav_free(s->ones);
    cav_free(s->zeros);
    cav_free(s->active);
    cav_free(s);
}

const char *cav_filter_state_kernels(const cav_filter_state *s) {
    return s->k == &kernels_plain ? "plain" : "avx2";
}

void cav_filter_state_use_plain(cav_filter_state *s) {
    s->k = &kernels_plain;
}

/* Types stored alike (INT and DATE as int32, LONG and the timestamps as int64, ...). */
static int storage_class(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_BOOLEAN:
        return 1;
    case CSVAVRO_TYPE_STRING:
    case CSVAVRO_TYPE_BYTES:
        return 2;
    case CSVAVRO_TYPE_NULL:
        return 3;
    default:
        return 10 + storage_kind(t);
    }
}

/* The columns the tree reads must be loaded and stored as the schema said. */
static csvavro_status check_columns(const cav_node *n, const cav_batch *b, csvavro_error *err) {
    if (!n || n->op == N_CONST) return CSVAVRO_OK;
    if (n->op == N_COL) {
        if (n->col >= b->n_cols)
            return cav_err(err, CSVAVRO_E_INTERNAL, "filter reads column %u of a %u-column batch",
                           n->col, b->n_cols);
        const cav_column *c = &b->cols[n->col];
        if (!c->loaded)
            return cav_err(err, CSVAVRO_E_INTERNAL, "filter column %u is not loaded", n->col);
        if (storage_class(c->type) != storage_class(n->ctype))
            return cav_err(err, CSVAVRO_E_INTERNAL,
                           "filter column %u is %s in the batch but %s in the schema", n->col,
                           csvavro_type_name(c->type), csvavro_type_name(n->ctype));
        return CSVAVRO_OK;
    }
    CAV_TRY(check_columns(n->l, b, err));
    if (n->op != N_IN) CAV_TRY(check_columns(n->r, b, err));
    return CSVAVRO_OK;
}

csvavro_status cav_filter_apply(const cav_filter *e, cav_filter_state *s, cav_batch *b,
                                csvavro_error *err) {
    uint32_t n = b->n_rows;
    if (n > s->cap || n > b->cap)
        return cav_err(err, CSVAVRO_E_INTERNAL, "batch of %u rows exceeds the filter state's %u", n,
                       s->cap);
    CAV_TRY(check_columns(e->root, b, err));
    ctx c = {.s = s, .b = b, .n = n, .words = (n + 7) / 8, .active = NULL};
    if (b->sel || b->n_row_errors) {
        uint8_t *act = s->active;
        if (b->sel) {
            memset(act, 0, pad8(n));
            for (uint32_t k = 0; k < b->n_sel; k++)
                if (b->sel[k] < n) act[b->sel[k]] = 1;
        } else {
            memset(act, 1, n);
            memset(act + n, 0, pad8(n) - n);
        }
        if (b->n_row_errors)
            for (uint32_t i = 0; i < n; i++)
                act[i] &= b->row_error[i] == 0;
        c.active = act;
    }
    boolv r = eval_bool(&c, e->root, 0);
    /* T (& active) -> selection vector: 8 rows at a time, packed to bits by a multiply */
    uint32_t *sel = b->sel_store;
    uint32_t k = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = ld8(r.T + i);
        if (c.active) w &= ld8(c.active + i);
        if (!w) continue;
        unsigned bits = (unsigned)((w * 0x0102040810204080ull) >> 56);
        while (bits) {
            sel[k++] = i + (uint32_t)__builtin_ctz(bits);
            bits &= bits - 1;
        }
    }
    for (; i < n; i++) {
        sel[k] = i;
        k += r.T[i] & (c.active ? c.active[i] : 1);
    }
    assert(k <= n);
    b->sel = sel;
    b->n_sel = k;
    return CSVAVRO_OK;
}
