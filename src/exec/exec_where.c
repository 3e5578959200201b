/*
 * exec_where.c — csvavro_record_filter: a `--where` expression over the records of one Avro
 * container file (cat), with the Hive partition columns of the file's path as constant columns.
 *
 * Main idea: the same compiled filter as `convert --where` (src/filter), fed from the column
 * decoder: a second reader of the file decodes only the columns the expression names, block by
 * block, into a batch of at most CHUNK rows; the filter's selection becomes a keep byte per
 * record, which the caller consumes in record order beside its own reader of the same file
 * (the JSON or CSV one), or alone to count. An expression over partition columns only is
 * decided once per file (csvavro_record_filter_constant) and nothing is decoded.
 *
 * Invariants: memory is bounded by the block ceiling of the column decoder plus CHUNK rows of
 * the batch, whatever the file's size. Columns: the writer schema's fields (a flat record;
 * a nested schema is refused, naming the field, as soon as the expression names a record
 * column) then the partition keys the records do not hold (integer values as long, the
 * default partition as null).
 */
#include "exec.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 4096u

struct csvavro_record_filter {
    csvavro_avro_reader *r; /* the column reader (NULL when constant) */
    cav_filter *f;
    cav_filter_state *fs;
    cav_batch b;
    bool batch_ok;
    int constant; /* 1 every record, 0 none, -1 per record */
    size_t n_rec; /* record columns in the filter's schema */
    size_t n_used;
    uint32_t *used; /* filter's schema column of each selected reader column */
    char **pvals;   /* partition values (NULL = null), by schema column - n_rec */
    size_t n_part;
    const csvavro_column *cols;  /* the current block */
    size_t block_rows, block_at; /* rows of the block, first row of the current chunk */
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

/* Key and unescaped value of each key=value directory of rel ("year=2013/month=01/x.avro"). */
static csvavro_status add_partitions(csvavro_record_filter *w, csvavro_schema *sc, const char *rel,
                                     const csvavro_schema *rec, bool null_as_string,
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
        for (size_t i = 0; rec && i < csvavro_schema_field_count(rec) && !held; i++)
            held = !strcmp(csvavro_schema_field_name(rec, i), key);
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

/* The filter's schema: the records' fields (rec, may be NULL) then the partition columns. */
static csvavro_status build_schema(csvavro_record_filter *w, const csvavro_schema *rec,
                                   const char *rel, bool null_as_string, csvavro_schema **out,
                                   csvavro_error *err) {
    csvavro_schema *sc = NULL;
    CAV_TRY(csvavro_schema_create("records", NULL, &sc, err));
    csvavro_status st = CSVAVRO_OK;
    w->n_rec = rec ? csvavro_schema_field_count(rec) : 0;
    for (size_t i = 0; i < w->n_rec && st == CSVAVRO_OK; i++)
        st = csvavro_schema_add_field(
            sc, csvavro_schema_field_name(rec, i), csvavro_schema_field_original(rec, i),
            csvavro_schema_field_type(rec, i), csvavro_schema_field_nullable(rec, i), err);
    for (size_t i = 0; i < w->n_part; i++)
        cav_free(w->pvals[i]);
    w->n_part = 0;
    if (st == CSVAVRO_OK) st = add_partitions(w, sc, rel, rec, null_as_string, err);
    if (st != CSVAVRO_OK) {
        csvavro_schema_free(sc);
        return st;
    }
    *out = sc;
    return CSVAVRO_OK;
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

csvavro_status csvavro_record_filter_open(csvavro_fs *fs, const char *path, const char *rel,
                                          const char *where, csvavro_record_filter **out,
                                          csvavro_error *err) {
    *out = NULL;
    csvavro_record_filter *w = cav_calloc(1, sizeof *w);
    if (!w) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    w->constant = -1;
    csvavro_schema *rec = NULL, *sc = NULL;
    csvavro_error flat_err;
    csvavro_error_clear(&flat_err);
    csvavro_status st = csvavro_avro_reader_open(fs, path, &w->r, err);
    bool flat = st == CSVAVRO_OK && csvavro_schema_from_json(csvavro_avro_reader_schema_json(w->r),
                                                             &rec, &flat_err) == CSVAVRO_OK;
    /* a partition value that is null everywhere in this file may be compared as either type */
    for (int pass = 0; st == CSVAVRO_OK && pass < 2; pass++) {
        csvavro_schema_free(sc);
        sc = NULL;
        st = build_schema(w, rec, rel, pass == 1, &sc, err);
        if (st != CSVAVRO_OK) break;
        csvavro_error e2;
        csvavro_error_clear(&e2);
        st = cav_filter_compile(where, sc, &w->f, &e2);
        if (st == CSVAVRO_OK) break;
        bool has_null = false;
        for (size_t i = 0; i < w->n_part; i++)
            has_null |= w->pvals[i] == NULL;
        if (pass == 1 || !has_null) {
            *err = e2;
            if (!flat && st == CSVAVRO_E_EXPR) { /* perhaps a field of a nested schema */
                *err = flat_err;
                cav_err_path(err, path);
                cav_err_prefix(err, "--where filters on the fields of flat records (and partition "
                                    "columns), and this file's records are not flat");
                st = err->status = CSVAVRO_E_UNSUPPORTED;
            } else { /* "unknown column `x` … in the records of PATH", then the caret lines */
                char msg[sizeof err->message];
                const char *nl = strchr(err->message, '\n');
                int l1 = nl ? (int)(nl - err->message) : (int)strlen(err->message);
                snprintf(msg, sizeof msg, "%.*s, in the records of %s%s", l1, err->message, path,
                         nl ? nl : "");
                memcpy(err->message, msg, sizeof msg);
            }
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
        if (!types || !w->used) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
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
        const char **names = cav_calloc(n_rec_used, sizeof *names);
        if (!names) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (size_t i = 0, k = 0; names && i < nu; i++)
            if (used[i] < w->n_rec) {
                w->used[k] = used[i];
                names[k++] = csvavro_schema_field_name(sc, used[i]);
            }
        if (st == CSVAVRO_OK) st = csvavro_avro_reader_select(w->r, names, n_rec_used, err);
        cav_free(names);
    }
    cav_free(types);
    csvavro_schema_free(sc);
    csvavro_schema_free(rec);
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

/* Copies rows [at, at + n) of the block's columns into the batch. */
static csvavro_status load_chunk(csvavro_record_filter *w, size_t at, uint32_t n,
                                 csvavro_error *err) {
    for (size_t k = 0; k < w->n_used; k++) {
        const csvavro_column *s = &w->cols[k];
        cav_column *c = &w->b.cols[w->used[k]];
        if (s->valid)
            memcpy(c->valid, s->valid + at, n);
        else
            memset(c->valid, 1, n);
        if (s->offsets) {
            for (uint32_t i = 0; i < n; i++) {
                uint64_t o = s->offsets[at + i], e = s->offsets[at + i + 1];
                c->v.str[i].ptr = s->data + o;
                c->v.str[i].len = (uint32_t)(e - o);
            }
        } else {
            size_t wd = cav_type_width(c->type);
            if (!s->values || wd == 0)
                return cav_err(err, CSVAVRO_E_INTERNAL, "cat --where: column %s has no values",
                               s->name);
            memcpy(c->v.any, (const char *)s->values + at * wd, n * wd);
        }
        c->loaded = true;
    }
    return evaluate(w, n, err);
}

csvavro_status csvavro_record_filter_next(csvavro_record_filter *w, int *keep, csvavro_error *err) {
    *keep = -1;
    if (w->constant >= 0) return cav_err(err, CSVAVRO_E_USAGE, "record filter is constant");
    while (w->chunk_at >= w->chunk_rows) {
        size_t next = w->block_at + w->chunk_rows;
        if (next >= w->block_rows) { /* the next block */
            size_t ncols = 0, nrows = 0;
            CAV_TRY(csvavro_avro_reader_next_columns(w->r, &w->cols, &ncols, &nrows, err));
            if (nrows == 0) {
                w->chunk_rows = w->chunk_at = 0;
                w->block_rows = w->block_at = 0;
                return CSVAVRO_OK;
            }
            if (ncols != w->n_used)
                return cav_err(err, CSVAVRO_E_INTERNAL, "cat --where: %zu columns, not %zu", ncols,
                               w->n_used);
            w->block_rows = nrows;
            next = 0;
        }
        w->block_at = next;
        size_t left = w->block_rows - next;
        CAV_TRY(load_chunk(w, next, left < CHUNK ? (uint32_t)left : CHUNK, err));
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
    cav_free(w->used);
    cav_free(w);
}
