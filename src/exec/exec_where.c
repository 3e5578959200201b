/*
 * exec_where.c — csvavro_record_filter: a `--where` expression over the records of one Avro
 * container file (cat), with the Hive partition columns of the file's path as constant columns.
 *
 * Main idea: the same compiled filter as `convert --where` (src/filter), fed from a second
 * reader of the file that picks only the values the expression names (avro_read.c,
 * cav_avro_reader_next_picked: every other field is parsed and skipped, whatever its type)
 * into a batch of at most CHUNK rows; the filter's selection becomes a keep byte per record,
 * which the caller consumes in record order beside its own reader of the same file (JSON, CSV
 * or the Avro merge), or alone to count. The records are read as the reader schema given (a
 * dataset's, under Avro's schema resolution: a field an older file lacks reads as null), else
 * as the file's own. An expression over partition columns only is decided once per file
 * (csvavro_record_filter_constant) and the file is not even opened.
 *
 * Columns of the filter's schema: the top-level scalar fields of the reading schema (a union of
 * null and one scalar type counts; enums compare as their symbols, fixed as bytes), then the
 * scalar fields of nested records as dotted paths ("address.city", through unions of null and a
 * record too; null when a record on the path is null), then the partition keys the records do
 * not hold (integer values as long, the default partition as null). A term on any other field
 * (array, map, union of several types, decimal, time of day, nanosecond timestamp) is an error
 * that names the field and its type.
 *
 * Invariants: memory is bounded by the reader's block ceiling plus CHUNK rows of the batch and
 * the string bytes of at most ARENA_SOFT bytes (plus one record's) per chunk, whatever the
 * file's size; paths are at most MAX_DEPTH fields deep, at most MAX_LEAVES are offered and at
 * most MAX_VISITS fields are looked at to find them (a recursive schema has endless paths).
 */
#include "exec.h"

#include "avro/avro.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 4096u
#define ARENA_SOFT ((size_t)16 << 20)
#define MAX_DEPTH 8
#define MAX_LEAVES 4096
#define MAX_BAD 256
#define MAX_VISITS 100000 /* fields looked at while offering paths (recursive schemas) */

typedef struct leaf {
    uint32_t path[MAX_DEPTH]; /* field indexes from the root record */
    uint8_t depth;
} leaf;

typedef struct bad_field { /* a field --where cannot compare, for the error message */
    char *path;
    const char *why;
} bad_field;

struct csvavro_record_filter {
    csvavro_avro_reader *r; /* the picking reader (NULL when constant) */
    cav_filter *f;
    cav_filter_state *fs;
    cav_batch b;
    bool batch_ok;
    int constant; /* 1 every record, 0 none, -1 per record */
    size_t n_rec; /* record columns (leaves) in the filter's schema */
    leaf *leaves;
    bad_field bad[MAX_BAD];
    size_t n_bad;
    size_t visits;
    size_t n_used;
    uint32_t *used; /* filter's schema column of each picked value */
    cav_avro_pick *pick;
    cav_avro_val *vals;
    cav_buf arena; /* the chunk's string bytes */
    size_t *soff;  /* [n_used * CHUNK] offsets into arena */
    char **pvals;  /* partition values (NULL = null), by schema column - n_rec */
    size_t n_part;
    bool eof;
    uint8_t keep[CHUNK];
    uint32_t chunk_rows, chunk_at;
};

static bool is_long(const char *v, int64_t *out) {
    if (!v || !*v) return false;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end) return false;
    *out = x;
    return true;
}

/* ---------------------------------------------------------------- the filter's schema */

/* The scalar type the filter compares a value of node t as; CSVAVRO_TYPE_NULL with *why for
 * one it cannot, and *rec for a record (or a union of null and one) to descend into. */
static csvavro_type scalar_type(const cav_avro_node *t, const cav_avro_node **rec,
                                const char **why) {
    *rec = NULL;
    *why = NULL;
    if (t->kind == CAV_AK_UNION) {
        const cav_avro_node *one = NULL;
        size_t n = 0;
        for (size_t i = 0; i < t->n; i++)
            if (t->kids[i]->kind != CAV_AK_NULL) one = t->kids[i], n++;
        if (n == 0) return *why = "of type null", CSVAVRO_TYPE_NULL;
        if (n > 1) return *why = "a union of several types", CSVAVRO_TYPE_NULL;
        t = one;
    }
    switch (t->kind) {
    case CAV_AK_BOOLEAN:
        return CSVAVRO_TYPE_BOOLEAN;
    case CAV_AK_INT:
        if (t->logical == CAV_AL_DATE) return CSVAVRO_TYPE_DATE;
        if (t->logical == CAV_AL_TIME_MILLIS) return *why = "a time of day", CSVAVRO_TYPE_NULL;
        return CSVAVRO_TYPE_INT;
    case CAV_AK_LONG:
        switch (t->logical) {
        case CAV_AL_TS_MILLIS:
            return CSVAVRO_TYPE_TIMESTAMP_MILLIS;
        case CAV_AL_TS_MICROS:
            return CSVAVRO_TYPE_TIMESTAMP_MICROS;
        case CAV_AL_LTS_MILLIS:
            return CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
        case CAV_AL_LTS_MICROS:
            return CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS;
        case CAV_AL_TIME_MICROS:
            return *why = "a time of day", CSVAVRO_TYPE_NULL;
        case CAV_AL_TS_NANOS:
        case CAV_AL_LTS_NANOS:
            return *why = "a nanosecond timestamp", CSVAVRO_TYPE_NULL;
        default:
            return CSVAVRO_TYPE_LONG;
        }
    case CAV_AK_FLOAT:
        return CSVAVRO_TYPE_FLOAT;
    case CAV_AK_DOUBLE:
        return CSVAVRO_TYPE_DOUBLE;
    case CAV_AK_STRING:
    case CAV_AK_ENUM:
        return CSVAVRO_TYPE_STRING;
    case CAV_AK_BYTES:
    case CAV_AK_FIXED:
        if (t->logical == CAV_AL_DECIMAL) return *why = "a decimal", CSVAVRO_TYPE_NULL;
        return CSVAVRO_TYPE_BYTES;
    case CAV_AK_RECORD:
        *rec = t;
        return *why = "a record", CSVAVRO_TYPE_NULL;
    case CAV_AK_ARRAY:
        return *why = "an array", CSVAVRO_TYPE_NULL;
    case CAV_AK_MAP:
        return *why = "a map", CSVAVRO_TYPE_NULL;
    default:
        return *why = "of type null", CSVAVRO_TYPE_NULL;
    }
}

/* Adds a column named by its path (original) under a valid, unused Avro name. */
static csvavro_status add_column(csvavro_schema *sc, const char *path, csvavro_type type,
                                 csvavro_error *err) {
    size_t l = strlen(path);
    char *nm = cav_malloc(l + 24);
    if (!nm) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; i <= l; i++) {
        char c = path[i];
        nm[i] = !c || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                        (i && c >= '0' && c <= '9')
                    ? c
                    : '_';
    }
    csvavro_status st = CSVAVRO_E_SCHEMA;
    for (unsigned k = 1; st == CSVAVRO_E_SCHEMA && k < 100000; k++) {
        if (k > 1) snprintf(nm + l, 24, "_%u", k);
        if (csvavro_schema_find(sc, nm) >= 0) continue;
        st = csvavro_schema_add_field(sc, nm, path, type, 1, err);
    }
    cav_free(nm);
    return st;
}

/* The scalar fields of record t (prefix: its path, "" at the root) as columns, into sc and
 * w->leaves; top-level (pass 0) or nested (pass 1) ones. */
static csvavro_status add_fields(csvavro_record_filter *w, csvavro_schema *sc,
                                 const cav_avro_node *t, const char *prefix, const leaf *at,
                                 int pass, size_t *cap, csvavro_error *err) {
    for (size_t i = 0; i < t->n; i++) {
        if (++w->visits > MAX_VISITS) return CSVAVRO_OK; /* a recursive schema's paths */
        const cav_avro_node *rec;
        const char *why;
        csvavro_type ty = scalar_type(t->kids[i], &rec, &why);
        bool top = at->depth == 0;
        size_t pl = strlen(prefix) + strlen(t->labels[i]) + 2;
        char *path = cav_malloc(pl);
        if (!path) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        snprintf(path, pl, "%s%s%s", prefix, *prefix ? "." : "", t->labels[i]);
        leaf lf = *at;
        lf.path[lf.depth++] = (uint32_t)i;
        csvavro_status st = CSVAVRO_OK;
        if (ty != CSVAVRO_TYPE_NULL && (top ? pass == 0 : pass == 1)) {
            if (w->n_rec == MAX_LEAVES) {
                cav_free(path);
                return CSVAVRO_OK;
            }
            if (w->n_rec == *cap) {
                size_t nc = *cap ? *cap * 2 : 32;
                leaf *nl = cav_realloc(w->leaves, nc * sizeof *nl);
                if (!nl) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                if (nl) w->leaves = nl, *cap = nc;
            }
            if (st == CSVAVRO_OK) st = add_column(sc, path, ty, err);
            if (st == CSVAVRO_OK) w->leaves[w->n_rec++] = lf;
        }
        if (st == CSVAVRO_OK && rec && pass == 1 && lf.depth < MAX_DEPTH)
            st = add_fields(w, sc, rec, path, &lf, pass, cap, err);
        if (ty == CSVAVRO_TYPE_NULL && pass == 1 && w->n_bad < MAX_BAD) {
            w->bad[w->n_bad].path = path;
            w->bad[w->n_bad++].why = why;
            path = NULL;
        }
        cav_free(path);
        if (st != CSVAVRO_OK) return st;
    }
    return CSVAVRO_OK;
}

/* Key and unescaped value of each key=value directory of rel ("year=2013/month=01/x.avro"). */
static csvavro_status add_partitions(csvavro_record_filter *w, csvavro_schema *sc, const char *rel,
                                     const cav_avro_node *root, bool null_as_string,
                                     csvavro_error *err) {
    const char *p = rel;
    for (const char *slash; rel && (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        const char *eq = memchr(p, '=', (size_t)(slash - p));
        if (!eq) continue;
        char *key = cav_strndup(p, (size_t)(eq - p));
        char *v = cav_strndup(eq + 1, (size_t)(slash - eq - 1));
        char **nv = key && v ? cav_realloc(w->pvals, (w->n_part + 1) * sizeof *nv) : NULL;
        if (!nv) {
            cav_free(key);
            cav_free(v);
            return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        }
        w->pvals = nv;
        v = cav_hive_unescape(v);
        bool held = false; /* the records hold it: they win */
        for (size_t i = 0; root->kind == CAV_AK_RECORD && i < root->n && !held; i++)
            held = !strcmp(root->labels[i], key);
        int64_t x;
        csvavro_status st = CSVAVRO_OK;
        if (!held)
            st = csvavro_schema_add_field(
                sc, key, key,
                (v ? is_long(v, &x) : !null_as_string) ? CSVAVRO_TYPE_LONG : CSVAVRO_TYPE_STRING, 1,
                err);
        cav_free(key);
        if (held || st != CSVAVRO_OK) {
            cav_free(v);
            if (st != CSVAVRO_OK) return st;
            continue;
        }
        w->pvals[w->n_part++] = v;
    }
    return CSVAVRO_OK;
}

static void free_bad(csvavro_record_filter *w) {
    for (size_t i = 0; i < w->n_bad; i++)
        cav_free(w->bad[i].path);
    w->n_bad = 0;
}

/* The filter's schema: the records' columns (root, when a record) then the partition columns. */
static csvavro_status build_schema(csvavro_record_filter *w, const cav_avro_node *root,
                                   const char *rel, bool null_as_string, csvavro_schema **out,
                                   csvavro_error *err) {
    csvavro_schema *sc = NULL;
    CAV_TRY(csvavro_schema_create("records", NULL, &sc, err));
    csvavro_status st = CSVAVRO_OK;
    w->n_rec = 0;
    w->visits = 0;
    free_bad(w);
    size_t cap = 0;
    cav_free(w->leaves);
    w->leaves = NULL;
    leaf top = {{0}, 0};
    for (int pass = 0; root->kind == CAV_AK_RECORD && pass < 2 && st == CSVAVRO_OK; pass++)
        st = add_fields(w, sc, root, "", &top, pass, &cap, err);
    for (size_t i = 0; i < w->n_part; i++)
        cav_free(w->pvals[i]);
    w->n_part = 0;
    if (st == CSVAVRO_OK) st = add_partitions(w, sc, rel, root, null_as_string, err);
    if (st != CSVAVRO_OK) {
        csvavro_schema_free(sc);
        return st;
    }
    *out = sc;
    return CSVAVRO_OK;
}

/* An "unknown column `X`" error about a field --where cannot compare: says what it is. */
static void explain_bad(const csvavro_record_filter *w, csvavro_error *err) {
    const char *m = err->message, *a = strstr(m, "unknown column `");
    if (!a) return;
    a += strlen("unknown column `");
    const char *b = strchr(a, '`');
    if (!b) return;
    for (size_t i = 0; i < w->n_bad; i++) {
        if (strlen(w->bad[i].path) != (size_t)(b - a) || memcmp(w->bad[i].path, a, b - a)) continue;
        char msg[sizeof err->message];
        const char *nl = strchr(m, '\n');
        snprintf(msg, sizeof msg,
                 "field `%s` is %s: --where compares scalar fields (booleans, numbers, strings, "
                 "enums, bytes, dates, timestamps; a nested record's as `record.field`)%s",
                 w->bad[i].path, w->bad[i].why, nl ? nl : "");
        memcpy(err->message, msg, sizeof msg);
        return;
    }
}

/* ---------------------------------------------------------------- picking */

static void free_pick(cav_avro_pick *p) {
    if (!p) return;
    for (size_t i = 0; p->sub && i < p->n; i++)
        free_pick(p->sub[i]);
    cav_free(p->sub);
    cav_free(p->leaf);
    cav_free(p);
}

static cav_avro_pick *new_pick(size_t n) {
    cav_avro_pick *p = cav_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    p->leaf = cav_malloc((n ? n : 1) * sizeof *p->leaf);
    p->sub = cav_calloc(n ? n : 1, sizeof *p->sub);
    if (!p->leaf || !p->sub) {
        free_pick(p);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        p->leaf[i] = -1;
    return p;
}

/* The record node below field node t (itself, or the record branch of its union). */
static const cav_avro_node *record_of(const cav_avro_node *t) {
    if (t->kind == CAV_AK_UNION)
        for (size_t i = 0; i < t->n; i++)
            if (t->kids[i]->kind == CAV_AK_RECORD) return t->kids[i];
    return t;
}

/* Adds leaf lf (picked value slot) to the pick tree of root. */
static bool pick_add(cav_avro_pick *p, const cav_avro_node *root, const leaf *lf, int32_t slot) {
    const cav_avro_node *t = root;
    for (uint8_t d = 0; d + 1 < lf->depth; d++) {
        uint32_t i = lf->path[d];
        const cav_avro_node *rec = record_of(t->kids[i]);
        if (!p->sub[i] && !(p->sub[i] = new_pick(rec->n))) return false;
        p = p->sub[i];
        t = rec;
    }
    p->leaf[lf->path[lf->depth - 1]] = slot;
    return true;
}

/* Sets the partition columns (constant) on rows [0, n) of the batch. */
static void fill_partitions(csvavro_record_filter *w, uint32_t n) {
    for (size_t k = 0; k < w->n_part; k++) {
        cav_column *c = &w->b.cols[w->n_rec + k];
        const char *v = w->pvals[k];
        for (uint32_t i = 0; i < n; i++) {
            c->valid[i] = v != NULL;
            if (c->type == CSVAVRO_TYPE_LONG) {
                int64_t x = 0;
                if (v) is_long(v, &x);
                c->v.i64[i] = x;
            } else {
                c->v.str[i].ptr = v ? v : "";
                c->v.str[i].len = v ? (uint32_t)strlen(v) : 0;
            }
        }
        c->loaded = true;
    }
}

/* Evaluates the filter over the rows [0, n) already in the batch: keep[]. */
static csvavro_status evaluate(csvavro_record_filter *w, uint32_t n, csvavro_error *err) {
    fill_partitions(w, n);
    w->b.n_rows = n;
    w->b.sel = NULL;
    w->b.n_sel = 0;
    CAV_TRY(cav_filter_apply(w->f, w->fs, &w->b, err));
    memset(w->keep, 0, n);
    uint32_t ns = cav_batch_selected(&w->b);
    for (uint32_t i = 0; i < ns; i++)
        w->keep[cav_batch_row(&w->b, i)] = 1;
    w->chunk_rows = n;
    w->chunk_at = 0;
    return CSVAVRO_OK;
}

static csvavro_status open_reader(csvavro_record_filter *w, csvavro_fs *fs, const char *path,
                                  const char *schema, csvavro_error *err) {
    CAV_TRY(csvavro_avro_reader_open(fs, path, &w->r, err));
    if (schema) CAV_TRY(csvavro_avro_reader_use_schema(w->r, schema, err));
    return CSVAVRO_OK;
}

csvavro_status csvavro_record_filter_open(csvavro_fs *fs, const char *path, const char *rel,
                                          const char *schema, const char *where,
                                          csvavro_record_filter **out, csvavro_error *err) {
    *out = NULL;
    csvavro_record_filter *w = cav_calloc(1, sizeof *w);
    if (!w) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    w->constant = -1;
    cav_buf_init(&w->arena, 0);
    csvavro_schema *sc = NULL;
    cav_avro_tree own = {0};
    const cav_avro_node *root = NULL;
    csvavro_status st;
    if (schema) { /* the reader schema: the file is opened only if records are compared */
        st = cav_avro_tree_parse(schema, strlen(schema), &own, err);
        if (st != CSVAVRO_OK) cav_err_prefix(err, "reader schema");
        root = own.root;
    } else {
        st = open_reader(w, fs, path, NULL, err);
        if (st == CSVAVRO_OK) root = cav_avro_reader_reading_tree(w->r);
    }
    /* a partition value that is null everywhere in this file may be compared as either type */
    for (int pass = 0; st == CSVAVRO_OK && pass < 2; pass++) {
        csvavro_schema_free(sc);
        sc = NULL;
        st = build_schema(w, root, rel, pass == 1, &sc, err);
        if (st != CSVAVRO_OK) break;
        csvavro_error e2;
        csvavro_error_clear(&e2);
        st = cav_filter_compile(where, sc, &w->f, &e2);
        if (st == CSVAVRO_OK) break;
        bool has_null = false;
        for (size_t i = 0; i < w->n_part; i++)
            has_null |= w->pvals[i] == NULL;
        if (pass == 1 || !has_null) { /* "unknown column `x` … in the records of PATH" */
            *err = e2;
            explain_bad(w, err);
            char msg[sizeof err->message];
            const char *nl = strchr(err->message, '\n');
            int l1 = nl ? (int)(nl - err->message) : (int)strlen(err->message);
            snprintf(msg, sizeof msg, "%.*s, in the records of %s%s", l1, err->message, path,
                     nl ? nl : "");
            memcpy(err->message, msg, sizeof msg);
            break;
        }
        st = CSVAVRO_OK; /* retry with null partition values as strings */
    }
    const uint32_t *used = NULL;
    size_t nu = st == CSVAVRO_OK ? cav_filter_columns(w->f, &used) : 0;
    size_t n_rec_used = 0;
    for (size_t i = 0; i < nu; i++)
        n_rec_used += used[i] < w->n_rec;
    w->n_used = n_rec_used;
    uint32_t cap = n_rec_used ? CHUNK : 1;
    csvavro_type *types = NULL;
    size_t nc = sc ? csvavro_schema_field_count(sc) : 0;
    if (st == CSVAVRO_OK) {
        types = cav_calloc(nc ? nc : 1, sizeof *types);
        w->used = cav_calloc(n_rec_used ? n_rec_used : 1, sizeof *w->used);
        w->vals = cav_calloc(n_rec_used ? n_rec_used : 1, sizeof *w->vals);
        w->soff = cav_calloc(n_rec_used ? n_rec_used * CHUNK : 1, sizeof *w->soff);
        if (!types || !w->used || !w->vals || !w->soff)
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; st == CSVAVRO_OK && i < nc; i++)
        types[i] = csvavro_schema_field_type(sc, i);
    if (st == CSVAVRO_OK) st = cav_filter_state_create(w->f, cap, &w->fs, err);
    if (st == CSVAVRO_OK) st = cav_batch_init(&w->b, (uint32_t)nc, types, cap, 0, err);
    w->batch_ok = st == CSVAVRO_OK;
    if (st == CSVAVRO_OK && n_rec_used == 0) { /* decided by the partition columns alone */
        st = evaluate(w, 1, err);
        w->constant = w->keep[0];
        csvavro_avro_reader_close(w->r);
        w->r = NULL;
    } else if (st == CSVAVRO_OK) {
        w->pick = new_pick(root->n);
        if (!w->pick) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (size_t i = 0, k = 0; st == CSVAVRO_OK && i < nu; i++) {
            if (used[i] >= w->n_rec) continue;
            w->used[k] = used[i];
            if (!pick_add(w->pick, root, &w->leaves[used[i]], (int32_t)k))
                st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            k++;
        }
        if (st == CSVAVRO_OK && !w->r) st = open_reader(w, fs, path, schema, err);
    }
    cav_free(types);
    csvavro_schema_free(sc);
    if (own.root) cav_avro_tree_free(&own);
    free_bad(w);
    if (st != CSVAVRO_OK) {
        csvavro_record_filter_close(w);
        return st;
    }
    *out = w;
    return CSVAVRO_OK;
}

int csvavro_record_filter_constant(const csvavro_record_filter *w) {
    return w->constant;
}

/* Reads up to CHUNK records (fewer when their strings pass ARENA_SOFT) and evaluates them. */
static csvavro_status fill_chunk(csvavro_record_filter *w, csvavro_error *err) {
    cav_buf_reset(&w->arena);
    uint32_t n = 0;
    while (n < CHUNK && w->arena.len < ARENA_SOFT) {
        bool eof;
        CAV_TRY(cav_avro_reader_next_picked(w->r, w->pick, w->vals, w->n_used, &eof, err));
        if (eof) {
            w->eof = true;
            break;
        }
        for (size_t k = 0; k < w->n_used; k++) {
            cav_column *c = &w->b.cols[w->used[k]];
            const cav_avro_val *v = &w->vals[k];
            c->valid[n] = v->present;
            switch (c->type) {
            case CSVAVRO_TYPE_BOOLEAN:
                c->v.b8[n] = (uint8_t)v->i;
                break;
            case CSVAVRO_TYPE_INT:
            case CSVAVRO_TYPE_DATE:
                c->v.i32[n] = (int32_t)v->i;
                break;
            case CSVAVRO_TYPE_FLOAT:
                c->v.f32[n] = (float)v->d;
                break;
            case CSVAVRO_TYPE_DOUBLE:
                c->v.f64[n] = v->d;
                break;
            case CSVAVRO_TYPE_STRING:
            case CSVAVRO_TYPE_BYTES:
                if (v->len > UINT32_MAX)
                    return cav_err(err, CSVAVRO_E_LIMIT, "cat --where: a value of %zu bytes",
                                   v->len);
                w->soff[k * CHUNK + n] = w->arena.len;
                c->v.str[n].len = (uint32_t)v->len;
                if (v->len) CAV_TRY(cav_buf_append(&w->arena, v->p, v->len, err));
                break;
            default: /* long and the timestamps */
                c->v.i64[n] = v->i;
                break;
            }
        }
        n++;
    }
    for (size_t k = 0; k < w->n_used; k++) {
        cav_column *c = &w->b.cols[w->used[k]];
        if (c->type == CSVAVRO_TYPE_STRING || c->type == CSVAVRO_TYPE_BYTES)
            for (uint32_t i = 0; i < n; i++)
                c->v.str[i].ptr = (const char *)w->arena.data + w->soff[k * CHUNK + i];
        c->loaded = true;
    }
    if (n == 0) {
        w->chunk_rows = w->chunk_at = 0;
        return CSVAVRO_OK;
    }
    return evaluate(w, n, err);
}

csvavro_status csvavro_record_filter_next(csvavro_record_filter *w, int *keep, csvavro_error *err) {
    *keep = -1;
    if (w->constant >= 0) return cav_err(err, CSVAVRO_E_USAGE, "record filter is constant");
    if (w->chunk_at >= w->chunk_rows) {
        if (w->eof) return CSVAVRO_OK;
        CAV_TRY(fill_chunk(w, err));
        if (w->chunk_rows == 0) return CSVAVRO_OK;
    }
    *keep = w->keep[w->chunk_at++];
    return CSVAVRO_OK;
}

void csvavro_record_filter_close(csvavro_record_filter *w) {
    if (!w) return;
    csvavro_avro_reader_close(w->r);
    if (w->batch_ok) cav_batch_free(&w->b);
    cav_filter_state_free(w->fs);
    cav_filter_free(w->f);
    for (size_t i = 0; i < w->n_part; i++)
        cav_free(w->pvals[i]);
    cav_free(w->pvals);
    free_bad(w);
    free_pick(w->pick);
    cav_free(w->leaves);
    cav_free(w->used);
    cav_free(w->vals);
    cav_free(w->soff);
    cav_buf_free(&w->arena);
    cav_free(w);
}
