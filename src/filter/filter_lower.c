/*
 * filter_lower.c — lowering of a checked `--where` tree: constant folding, literal conversion,
 * exact integer/fraction rewrites.
 */
#include "filter_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

bool cav_filter_lower(parser *P, cav_node *n);

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
        if (!cav_filter_lower(P, it)) return false;
        if (it->op != N_CONST) {
            cav_filter_perr(P, it->pos, it->len,
                            "`in` lists hold constants (literals), not columns");
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

bool cav_filter_lower(parser *P, cav_node *n) {
    if (n->l && !cav_filter_lower(P, n->l)) return false;
    if (n->r && n->op != N_IN && !cav_filter_lower(P, n->r)) return false;
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
