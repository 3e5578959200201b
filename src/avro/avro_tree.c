/*
 * avro_tree.c — any Avro writer schema as a tree of nodes, for the reader (avro_read.c).
 *
 * The reader decodes every valid Avro container, so its schema model is the whole type system:
 * primitives, records, enums, arrays, maps, unions of any shape, fixed, and the logical types
 * the JSON mapping renders (date, time-*, timestamp-*, local-timestamp-*, decimal). Named types
 * follow the specification's namespace rules and may be referred to by name later, also from
 * inside themselves (a recursive record): nodes therefore form a graph, owned by the tree's
 * `all` array and freed together. A logical type on the wrong base type, or a decimal with
 * invalid precision/scale, is ignored (the specification says so): the value reads as its base.
 *
 * Bounds: the JSON depth is jansson's; the decoder bounds the data nesting separately.
 */
#include "avro/avro.h"

#include <jansson.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {"null",   "boolean", "int",    "long",   "float",
                                         "double", "bytes",   "string", "record", "enum",
                                         "array",  "map",     "union",  "fixed"};

const char *cav_avro_kind_name(cav_avro_kind k) {
    return (unsigned)k < CAV_ARRAY_LEN(kind_names) ? kind_names[k] : "?";
}

typedef struct pstate {
    cav_avro_tree *t;
    csvavro_error *err;
} pstate;

static cav_avro_node *new_node(pstate *P, cav_avro_kind k) {
    cav_avro_tree *t = P->t;
    if (t->n_all == t->cap_all) {
        size_t nc = t->cap_all ? t->cap_all * 2 : 16;
        cav_avro_node **na = cav_realloc(t->all, nc * sizeof *na);
        if (!na) return NULL;
        t->all = na;
        t->cap_all = nc;
    }
    cav_avro_node *n = cav_calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = k;
    n->null_branch = -1;
    t->all[t->n_all++] = n;
    return n;
}

void cav_avro_tree_free(cav_avro_tree *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_all; i++) {
        cav_avro_node *n = t->all[i];
        if (n->labels)
            for (size_t k = 0; k < n->n; k++)
                cav_free(n->labels[k]);
        cav_free(n->labels);
        cav_free(n->kids);
        cav_free(n->name);
        cav_free(n);
    }
    cav_free(t->all);
    memset(t, 0, sizeof *t);
}

static csvavro_status bad(pstate *P, const char *fmt, ...) CAV_PRINTF(2, 3);
static csvavro_status bad(pstate *P, const char *fmt, ...) {
    char m[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return cav_err(P->err, CSVAVRO_E_CORRUPT, "writer schema: %s", m);
}

static int primitive_kind(const char *s) {
    for (int k = CAV_AK_NULL; k <= CAV_AK_STRING; k++)
        if (strcmp(s, kind_names[k]) == 0) return k;
    return -1;
}

static cav_avro_node *lookup(pstate *P, const char *name, const char *ns) {
    char full[1024];
    if (!strchr(name, '.') && ns && *ns) {
        snprintf(full, sizeof full, "%s.%s", ns, name);
        for (size_t i = 0; i < P->t->n_all; i++)
            if (P->t->all[i]->name && strcmp(P->t->all[i]->name, full) == 0) return P->t->all[i];
    }
    for (size_t i = 0; i < P->t->n_all; i++)
        if (P->t->all[i]->name && strcmp(P->t->all[i]->name, name) == 0) return P->t->all[i];
    return NULL;
}

static csvavro_status parse(pstate *P, const json_t *j, const char *ns, int depth,
                            cav_avro_node **out);

/* Names a record/enum/fixed node: fullname from name + namespace (or the enclosing one);
 * *node_ns receives the namespace for names inside it. */
static csvavro_status set_name(pstate *P, cav_avro_node *n, const json_t *j, const char *ns,
                               char **node_ns) {
    const json_t *nm = json_object_get(j, "name");
    if (!json_is_string(nm) || !json_string_length(nm))
        return bad(P, "a %s without a name", cav_avro_kind_name(n->kind));
    const char *name = json_string_value(nm);
    const json_t *jns = json_object_get(j, "namespace");
    const char *use_ns = json_is_string(jns) ? json_string_value(jns) : ns;
    const char *dot = strrchr(name, '.');
    size_t len;
    if (dot) {
        n->name = cav_strdup(name);
        *node_ns = cav_strndup(name, (size_t)(dot - name));
    } else if (use_ns && *use_ns) {
        len = strlen(use_ns) + strlen(name) + 2;
        n->name = cav_malloc(len);
        if (n->name) snprintf(n->name, len, "%s.%s", use_ns, name);
        *node_ns = cav_strdup(use_ns);
    } else {
        n->name = cav_strdup(name);
        *node_ns = cav_strdup("");
    }
    if (!n->name || !*node_ns) return cav_err(P->err, CSVAVRO_E_NOMEM, "out of memory");
    if (primitive_kind(dot ? dot + 1 : name) >= 0)
        return bad(P, "a named type called \"%s\" (a primitive type name)", name);
    for (size_t i = 0; i < P->t->n_all; i++)
        if (P->t->all[i]->name && P->t->all[i] != n && strcmp(P->t->all[i]->name, n->name) == 0)
            return bad(P, "the name \"%s\" is defined twice", n->name);
    return CSVAVRO_OK;
}

static bool logical_on(cav_avro_node *n, const json_t *j) {
    const json_t *lt = json_object_get(j, "logicalType");
    if (!json_is_string(lt)) return false;
    const char *l = json_string_value(lt);
    static const struct {
        const char *name;
        cav_avro_kind base;
        cav_avro_logical lt;
    } map[] = {{"date", CAV_AK_INT, CAV_AL_DATE},
               {"time-millis", CAV_AK_INT, CAV_AL_TIME_MILLIS},
               {"time-micros", CAV_AK_LONG, CAV_AL_TIME_MICROS},
               {"timestamp-millis", CAV_AK_LONG, CAV_AL_TS_MILLIS},
               {"timestamp-micros", CAV_AK_LONG, CAV_AL_TS_MICROS},
               {"timestamp-nanos", CAV_AK_LONG, CAV_AL_TS_NANOS},
               {"local-timestamp-millis", CAV_AK_LONG, CAV_AL_LTS_MILLIS},
               {"local-timestamp-micros", CAV_AK_LONG, CAV_AL_LTS_MICROS},
               {"local-timestamp-nanos", CAV_AK_LONG, CAV_AL_LTS_NANOS}};
    for (size_t i = 0; i < CAV_ARRAY_LEN(map); i++)
        if (strcmp(l, map[i].name) == 0 && n->kind == map[i].base) {
            n->logical = map[i].lt;
            return true;
        }
    if (strcmp(l, "decimal") == 0 && (n->kind == CAV_AK_BYTES || n->kind == CAV_AK_FIXED)) {
        const json_t *p = json_object_get(j, "precision"), *s = json_object_get(j, "scale");
        json_int_t prec = json_is_integer(p) ? json_integer_value(p) : 0;
        json_int_t scale = s == NULL ? 0 : json_is_integer(s) ? json_integer_value(s) : -1;
        if (prec <= 0 || scale < 0 || scale > prec) return false;
        /* a fixed of n bytes holds at most floor(log10(2^(8n-1) - 1)) digits */
        if (n->kind == CAV_AK_FIXED &&
            (n->size == 0 || (double)prec > floor(log10(2.0) * (8.0 * (double)n->size - 1))))
            return false;
        n->logical = CAV_AL_DECIMAL;
        n->precision = (int32_t)CAV_MIN(prec, (json_int_t)INT32_MAX);
        n->scale = (int32_t)scale;
        return true;
    }
    return false;
}

static csvavro_status parse_object(pstate *P, const json_t *j, const char *ns, int depth,
                                   cav_avro_node **out) {
    const json_t *tj = json_object_get(j, "type");
    if (!json_is_string(tj)) {
        if (json_is_object(tj) || json_is_array(tj)) return parse(P, tj, ns, depth + 1, out);
        return bad(P, "a schema object without a \"type\"");
    }
    const char *type = json_string_value(tj);
    int pk = primitive_kind(type);
    cav_avro_node *n = NULL;
    if (pk >= 0) {
        if (!(n = new_node(P, (cav_avro_kind)pk))) goto nomem;
        logical_on(n, j);
        *out = n;
        return CSVAVRO_OK;
    }
    if (!strcmp(type, "array") || !strcmp(type, "map")) {
        bool arr = type[0] == 'a';
        const json_t *sub = json_object_get(j, arr ? "items" : "values");
        if (!sub) return bad(P, "an %s without its item type", type);
        if (!(n = new_node(P, arr ? CAV_AK_ARRAY : CAV_AK_MAP))) goto nomem;
        n->kids = cav_calloc(1, sizeof *n->kids);
        if (!n->kids) goto nomem;
        n->n = 1;
        *out = n;
        return parse(P, sub, ns, depth + 1, &n->kids[0]);
    }
    bool rec = !strcmp(type, "record") || !strcmp(type, "error");
    if (rec || !strcmp(type, "enum") || !strcmp(type, "fixed")) {
        if (!(n = new_node(P, rec ? CAV_AK_RECORD : type[0] == 'e' ? CAV_AK_ENUM : CAV_AK_FIXED)))
            goto nomem;
        char *inner = NULL;
        csvavro_status st = set_name(P, n, j, ns, &inner);
        *out = n;
        if (st == CSVAVRO_OK && n->kind == CAV_AK_FIXED) {
            const json_t *sz = json_object_get(j, "size");
            if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
                json_integer_value(sz) > (json_int_t)1 << 30)
                st = bad(P, "fixed \"%s\" without a valid size", n->name);
            else
                n->size = (uint64_t)json_integer_value(sz);
            if (st == CSVAVRO_OK) logical_on(n, j);
        } else if (st == CSVAVRO_OK) {
            const json_t *arr = json_object_get(j, rec ? "fields" : "symbols");
            if (!json_is_array(arr))
                st = bad(P, rec ? "record \"%s\" without fields" : "enum \"%s\" without symbols",
                         n->name);
            size_t k = st == CSVAVRO_OK ? json_array_size(arr) : 0;
            if (st == CSVAVRO_OK) {
                n->labels = cav_calloc(k + 1, sizeof *n->labels);
                n->kids = rec ? cav_calloc(k + 1, sizeof *n->kids) : NULL;
                if (!n->labels || (rec && !n->kids)) st = cav_err(P->err, CSVAVRO_E_NOMEM, "oom");
            }
            for (size_t i = 0; st == CSVAVRO_OK && i < k; i++) {
                const json_t *e = json_array_get(arr, i);
                const json_t *label = rec ? json_object_get(e, "name") : e;
                if (!json_is_string(label)) {
                    st = bad(P,
                             rec ? "a field of \"%s\" without a name"
                                 : "enum \"%s\": a symbol "
                                   "is not a string",
                             n->name);
                    break;
                }
                n->labels[i] = cav_strdup(json_string_value(label));
                if (!n->labels[i]) {
                    st = cav_err(P->err, CSVAVRO_E_NOMEM, "out of memory");
                    break;
                }
                n->n = i + 1;
                if (rec) {
                    const json_t *ft = json_object_get(e, "type");
                    if (!ft) {
                        st = bad(P, "field \"%s\" without a type", n->labels[i]);
                        break;
                    }
                    st = parse(P, ft, inner, depth + 1, &n->kids[i]);
                }
            }
        }
        cav_free(inner);
        return st;
    }
    /* a reference by name written as {"type": "Name"} */
    cav_avro_node *ref = lookup(P, type, ns);
    if (!ref) return bad(P, "unknown type \"%s\"", type);
    *out = ref;
    return CSVAVRO_OK;
nomem:
    return cav_err(P->err, CSVAVRO_E_NOMEM, "out of memory");
}

static csvavro_status parse(pstate *P, const json_t *j, const char *ns, int depth,
                            cav_avro_node **out) {
    if (depth > 1000) return bad(P, "nested deeper than 1000 levels");
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        int pk = primitive_kind(s);
        if (pk >= 0) {
            if (!(*out = new_node(P, (cav_avro_kind)pk)))
                return cav_err(P->err, CSVAVRO_E_NOMEM, "out of memory");
            return CSVAVRO_OK;
        }
        if (!(*out = lookup(P, s, ns))) return bad(P, "unknown type \"%s\"", s);
        return CSVAVRO_OK;
    }
    if (json_is_object(j)) return parse_object(P, j, ns, depth, out);
    if (json_is_array(j)) {
        size_t k = json_array_size(j);
        if (k == 0) return bad(P, "an empty union");
        cav_avro_node *n = new_node(P, CAV_AK_UNION);
        if (!n || !(n->kids = cav_calloc(k, sizeof *n->kids)))
            return cav_err(P->err, CSVAVRO_E_NOMEM, "out of memory");
        *out = n;
        size_t nonnull = 0;
        for (size_t i = 0; i < k; i++) {
            CAV_TRY(parse(P, json_array_get(j, i), ns, depth + 1, &n->kids[i]));
            n->n = i + 1;
            if (n->kids[i]->kind == CAV_AK_UNION) return bad(P, "a union inside a union");
            if (n->kids[i]->kind == CAV_AK_NULL && n->null_branch < 0)
                n->null_branch = (int)i;
            else
                nonnull++;
        }
        n->wrap = nonnull > 1;
        return CSVAVRO_OK;
    }
    return bad(P, "a type must be a name, an object or a union");
}

/* Whether a value of n may take 0 bytes (null, an empty record, fixed of size 0). */
static bool min0(cav_avro_node *n, int depth) {
    switch (n->kind) {
    case CAV_AK_NULL:
        return true;
    case CAV_AK_FIXED:
        return n->size == 0;
    case CAV_AK_RECORD:
        if (depth > 64) return false;
        for (size_t i = 0; i < n->n; i++)
            if (!min0(n->kids[i], depth + 1)) return false;
        return true;
    default:
        return false;
    }
}

csvavro_status cav_avro_tree_parse(const char *json, size_t len, cav_avro_tree *t,
                                   csvavro_error *err) {
    memset(t, 0, sizeof *t);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY, &je);
    if (!root)
        return cav_err(err, CSVAVRO_E_CORRUPT, "writer schema (avro.schema) is not valid JSON: %s",
                       je.text);
    pstate P = {t, err};
    csvavro_status st = parse(&P, root, "", 0, &t->root);
    json_decref(root);
    if (st != CSVAVRO_OK) {
        cav_avro_tree_free(t);
        return st;
    }
    for (size_t i = 0; i < t->n_all; i++)
        t->all[i]->min0 = min0(t->all[i], 0);
    return CSVAVRO_OK;
}
