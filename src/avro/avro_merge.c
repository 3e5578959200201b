/*
 * avro_merge.c — many Avro container files into one (csvavro_avro_merge_*, `csvavro cat
 * --format avro`).
 *
 * Every record is decoded with its file's writer schema and encoded again for the output
 * schema (avro_read.c, cav_avro_reader_next_resolved), so any valid file of any schema merges,
 * and every byte is checked as cat checks it. The output schema is the one given (a dataset's
 * schema) or the first file's; each file's schema must resolve to it under Avro's schema
 * resolution rules (cav_avro_resolves, checked before the file's first record): records by
 * field name (a field only the output has must be a union whose first branch is null, read as
 * null — the default csvavro gives new nullable fields; a field only the file has is dropped),
 * the promotions int -> long -> float -> double and string <-> bytes, enums by symbol, fixed by
 * size, unions branch by branch, named types by unqualified name (the top-level record's name
 * may differ). Extra fields (a dataset's partition columns) are appended to the top-level
 * record as ["null", "long"] or ["null", "string"] with a null default, one value per file.
 * A keep callback (csvavro_avro_merge_add_filtered: cat --where) drops records after they are
 * decoded, so a dropped record is checked as a kept one is.
 * Records are re-blocked to the block size and compressed with the chosen codec. Memory: one
 * block plus one record, whatever the number and size of the files.
 */
#include "avro/avro.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csvavro_avro_merge {
    csvavro_avro_write_fn write;
    void *ctx;
    csvavro_avro_options o;
    char *schema_json;  /* the output (reader) schema as given, or NULL until the first file */
    cav_avro_tree base; /* its tree (without the extra fields) */
    bool have_base;
    bool started;       /* header written */
    char **extra_names; /* extra fields to add (those not in the base record) */
    int *extra_long;
    size_t n_extra;
    bool *extra_skip; /* a field the base record already has */
    cav_buf block, packed, extra;
    uint64_t block_count, records;
    uint8_t sync[16];
    cav_avro_codec_ctx cctx;
};

/* ------------------------------------------------------------------ resolution rules */

static const char *short_name(const char *n) {
    const char *d = n ? strrchr(n, '.') : NULL;
    return d ? d + 1 : n ? n : "";
}

static bool promotes(cav_avro_kind w, cav_avro_kind r) {
    switch (w) {
    case CAV_AK_INT:
        return r == CAV_AK_LONG || r == CAV_AK_FLOAT || r == CAV_AK_DOUBLE;
    case CAV_AK_LONG:
        return r == CAV_AK_FLOAT || r == CAV_AK_DOUBLE;
    case CAV_AK_FLOAT:
        return r == CAV_AK_DOUBLE;
    case CAV_AK_STRING:
        return r == CAV_AK_BYTES;
    case CAV_AK_BYTES:
        return r == CAV_AK_STRING;
    default:
        return false;
    }
}

static bool same_type(const cav_avro_node *w, const cav_avro_node *r) {
    if (w->kind != r->kind) return false;
    if (w->kind == CAV_AK_RECORD || w->kind == CAV_AK_ENUM || w->kind == CAV_AK_FIXED)
        return !strcmp(short_name(w->name), short_name(r->name));
    return true;
}

int cav_avro_union_branch(const cav_avro_node *r, const cav_avro_node *w) {
    for (size_t i = 0; i < r->n; i++)
        if (same_type(w, r->kids[i])) return (int)i;
    for (size_t i = 0; i < r->n; i++)
        if (promotes(w->kind, r->kids[i]->kind)) return (int)i;
    return -1;
}

typedef struct rstack {
    const cav_avro_node *w[256], *r[256];
    int n;
} rstack;

static bool resolves(rstack *S, const cav_avro_node *w, const cav_avro_node *r, bool root,
                     char *why, size_t cap) {
    for (int i = 0; i < S->n; i++) /* a recursive type met again: assumed (it is being checked) */
        if (S->w[i] == w && S->r[i] == r) return true;
    if (S->n == 256) {
        snprintf(why, cap, "the schemas are nested deeper than 256 levels");
        return false;
    }
    S->w[S->n] = w;
    S->r[S->n] = r;
    S->n++;
    bool ok = true;
    if (w->kind == CAV_AK_UNION) {
        for (size_t i = 0; i < w->n && ok; i++)
            ok = resolves(S, w->kids[i], r, false, why, cap);
    } else if (r->kind == CAV_AK_UNION) {
        int b = cav_avro_union_branch(r, w);
        if (b < 0) {
            snprintf(why, cap, "%s %s is not among the output union's branches",
                     cav_avro_kind_name(w->kind), w->name ? w->name : "");
            ok = false;
        } else {
            ok = resolves(S, w, r->kids[b], false, why, cap);
        }
    } else if (w->kind != r->kind) {
        ok = promotes(w->kind, r->kind);
        if (!ok)
            snprintf(why, cap, "%s cannot be read as %s", cav_avro_kind_name(w->kind),
                     cav_avro_kind_name(r->kind));
    } else if ((w->kind == CAV_AK_ENUM || w->kind == CAV_AK_FIXED ||
                (w->kind == CAV_AK_RECORD && !root)) &&
               strcmp(short_name(w->name), short_name(r->name))) {
        snprintf(why, cap, "%s \"%s\" is called \"%s\" in the output schema",
                 cav_avro_kind_name(w->kind), w->name, r->name);
        ok = false;
    } else if (w->kind == CAV_AK_FIXED && w->size != r->size) {
        snprintf(why, cap, "fixed \"%s\" has %llu bytes, the output schema's %llu", w->name,
                 (unsigned long long)w->size, (unsigned long long)r->size);
        ok = false;
    } else if (w->kind == CAV_AK_ARRAY || w->kind == CAV_AK_MAP) {
        ok = resolves(S, w->kids[0], r->kids[0], false, why, cap);
    } else if (w->kind == CAV_AK_RECORD) {
        for (size_t k = 0; k < r->n && ok; k++) {
            size_t i = 0;
            while (i < w->n && strcmp(w->labels[i], r->labels[k]))
                i++;
            if (i < w->n) {
                ok = resolves(S, w->kids[i], r->kids[k], false, why, cap);
                if (!ok) {
                    size_t l = strlen(why);
                    snprintf(why + l, cap - l, " (field \"%s\")", r->labels[k]);
                }
            } else if (r->kids[k]->kind != CAV_AK_UNION ||
                       r->kids[k]->kids[0]->kind != CAV_AK_NULL) {
                snprintf(why, cap,
                         "field \"%s\" of the output schema is missing and has no null default "
                         "(a union whose first branch is null)",
                         r->labels[k]);
                ok = false;
            }
        }
    }
    S->n--;
    return ok;
}

bool cav_avro_resolves(const cav_avro_node *w, const cav_avro_node *r, char *why, size_t cap) {
    rstack *S = cav_calloc(1, sizeof *S);
    if (!S) {
        snprintf(why, cap, "out of memory");
        return false;
    }
    why[0] = '\0';
    bool ok = resolves(S, w, r, true, why, cap);
    cav_free(S);
    return ok;
}

/* ------------------------------------------------------------------ output */

static csvavro_status put_varint(cav_buf *b, int64_t v, csvavro_error *err) {
    CAV_TRY(cav_buf_reserve(b, 10, err));
    b->len += cav_varint_put(b->data + b->len, cav_zigzag64(v));
    return CSVAVRO_OK;
}

static csvavro_status put_bytes(cav_buf *b, const void *p, size_t n, csvavro_error *err) {
    CAV_TRY(put_varint(b, (int64_t)n, err));
    return cav_buf_append(b, p, n, err);
}

csvavro_status csvavro_avro_merge_create(csvavro_avro_write_fn write, void *ctx,
                                         const char *schema_json, const char *const *extra_names,
                                         const int *extra_long, size_t n_extra,
                                         const csvavro_avro_options *o, csvavro_avro_merge **out,
                                         csvavro_error *err) {
    *out = NULL;
    if (!write || !o) return cav_err(err, CSVAVRO_E_USAGE, "csvavro_avro_merge_create: no writer");
    if (o->block_size == 0 || o->block_size > CAV_AVRO_DEFAULT_MAX_BLOCK)
        return cav_err(err, CSVAVRO_E_USAGE, "block size %zu out of range 1..%zu", o->block_size,
                       CAV_AVRO_DEFAULT_MAX_BLOCK);
    if ((unsigned)o->codec > CSVAVRO_CODEC_XZ)
        return cav_err(err, CSVAVRO_E_USAGE, "unknown codec %d", (int)o->codec);
    csvavro_avro_merge *m = cav_calloc(1, sizeof *m);
    if (!m) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    *out = m;
    m->write = write;
    m->ctx = ctx;
    m->o = *o;
    m->o.meta = NULL;
    m->o.n_meta = 0;
    cav_buf_init(&m->block, CAV_AVRO_DEFAULT_MAX_BLOCK);
    cav_buf_init(&m->packed, 0);
    cav_buf_init(&m->extra, 0);
    m->extra_names = cav_calloc(n_extra + 1, sizeof *m->extra_names);
    m->extra_long = cav_calloc(n_extra + 1, sizeof *m->extra_long);
    m->extra_skip = cav_calloc(n_extra + 1, sizeof *m->extra_skip);
    if (!m->extra_names || !m->extra_long || !m->extra_skip)
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n_extra; i++) {
        m->extra_names[i] = cav_strdup(extra_names[i]);
        if (!m->extra_names[i]) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        m->extra_long[i] = extra_long ? extra_long[i] : 0;
        m->n_extra++;
    }
    CAV_TRY(cav_avro_sync_marker(&m->o, 0, m->sync, err));
    if (schema_json) {
        m->schema_json = cav_strdup(schema_json);
        if (!m->schema_json) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    return CSVAVRO_OK;
}

/* The output schema (the base with the extra fields) and the header. */
static csvavro_status start(csvavro_avro_merge *m, csvavro_error *err) {
    CAV_TRY(cav_avro_tree_parse(m->schema_json, strlen(m->schema_json), &m->base, err));
    m->have_base = true;
    const cav_avro_node *root = m->base.root;
    char *text = NULL;
    size_t n_add = 0;
    for (size_t i = 0; i < m->n_extra; i++) {
        for (size_t k = 0; root->kind == CAV_AK_RECORD && k < root->n; k++)
            if (!strcmp(root->labels[k], m->extra_names[i])) m->extra_skip[i] = true;
        n_add += !m->extra_skip[i];
    }
    if (n_add && root->kind != CAV_AK_RECORD)
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "the schema is not a record: partition columns cannot be added");
    if (n_add) {
        json_t *j = json_loads(m->schema_json, 0, NULL);
        json_t *fields = j ? json_object_get(j, "fields") : NULL;
        for (size_t i = 0; fields && i < m->n_extra; i++) {
            if (m->extra_skip[i]) continue;
            json_array_append_new(
                fields, json_pack("{s:s,s:[s,s],s:n}", "name", m->extra_names[i], "type", "null",
                                  m->extra_long[i] ? "long" : "string", "default"));
        }
        char *d = fields ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        if (!d) return cav_err(err, CSVAVRO_E_NOMEM, "cannot add the partition columns");
        text = cav_strdup(d);
        cav_free(d); /* jansson allocates with malloc, as cav_malloc does */
        if (!text) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    const char *sj = text ? text : m->schema_json;
    const char *cn = csvavro_codec_name(m->o.codec);
    cav_buf h;
    cav_buf_init(&h, CAV_AVRO_MAX_HEADER);
    csvavro_status st = cav_buf_append(&h, "Obj\x01", 4, err);
    if (st == CSVAVRO_OK) st = put_varint(&h, 2, err);
    if (st == CSVAVRO_OK) st = put_bytes(&h, "avro.schema", 11, err);
    if (st == CSVAVRO_OK) st = put_bytes(&h, sj, strlen(sj), err);
    if (st == CSVAVRO_OK) st = put_bytes(&h, "avro.codec", 10, err);
    if (st == CSVAVRO_OK) st = put_bytes(&h, cn, strlen(cn), err);
    if (st == CSVAVRO_OK) st = put_varint(&h, 0, err);
    if (st == CSVAVRO_OK) st = cav_buf_append(&h, m->sync, 16, err);
    if (st == CSVAVRO_OK) st = (csvavro_status)m->write(m->ctx, h.data, h.len, err);
    cav_buf_free(&h);
    cav_free(text);
    if (st == CSVAVRO_OK) m->started = true;
    return st;
}

static csvavro_status flush_block(csvavro_avro_merge *m, csvavro_error *err) {
    if (m->block_count == 0) return CSVAVRO_OK;
    const cav_buf *data = &m->block;
    if (m->o.codec != CSVAVRO_CODEC_NULL) {
        CAV_TRY(cav_avro_compress(&m->cctx, m->o.codec, m->o.level, m->block.data, m->block.len,
                                  &m->packed, err));
        data = &m->packed;
    }
    uint8_t head[20];
    unsigned n = cav_varint_put(head, cav_zigzag64((int64_t)m->block_count));
    n += cav_varint_put(head + n, cav_zigzag64((int64_t)data->len));
    CAV_TRY((csvavro_status)m->write(m->ctx, head, n, err));
    CAV_TRY((csvavro_status)m->write(m->ctx, data->data, data->len, err));
    CAV_TRY((csvavro_status)m->write(m->ctx, m->sync, 16, err));
    cav_buf_reset(&m->block);
    m->block_count = 0;
    return CSVAVRO_OK;
}

csvavro_status csvavro_avro_merge_add(csvavro_avro_merge *m, csvavro_fs *fs, const char *path,
                                      const char *const *extra_values, csvavro_error *err) {
    return csvavro_avro_merge_add_filtered(m, fs, path, extra_values, NULL, NULL, err);
}

csvavro_status csvavro_avro_merge_add_filtered(csvavro_avro_merge *m, csvavro_fs *fs,
                                               const char *path, const char *const *extra_values,
                                               csvavro_avro_keep_fn keep, void *keep_ctx,
                                               csvavro_error *err) {
    csvavro_avro_reader *r = NULL;
    CAV_TRY(csvavro_avro_reader_open(fs, path, &r, err));
    csvavro_status st = CSVAVRO_OK;
    if (!m->schema_json) {
        m->schema_json = cav_strdup(csvavro_avro_reader_schema_json(r));
        if (!m->schema_json) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    if (st == CSVAVRO_OK && !m->started) st = start(m, err);
    char why[600];
    if (st == CSVAVRO_OK &&
        !cav_avro_resolves(cav_avro_reader_tree(r), m->base.root, why, sizeof why)) {
        cav_err_path(err, path);
        st = cav_err(err, CSVAVRO_E_SCHEMA,
                     "its schema does not resolve to the output schema (Avro's rules): %s", why);
    }
    /* the extra fields' bytes, the same for every record of the file */
    cav_buf_reset(&m->extra);
    for (size_t i = 0; i < m->n_extra && st == CSVAVRO_OK; i++) {
        if (m->extra_skip[i]) continue;
        const char *v = extra_values ? extra_values[i] : NULL;
        if (!v) {
            st = put_varint(&m->extra, 0, err);
        } else if (m->extra_long[i]) {
            char *end;
            long long x = strtoll(v, &end, 10);
            if (!*v || *end) {
                st = cav_err(err, CSVAVRO_E_USAGE, "partition value \"%s\" of %s is not an integer",
                             v, m->extra_names[i]);
                break;
            }
            st = put_varint(&m->extra, 1, err);
            if (st == CSVAVRO_OK) st = put_varint(&m->extra, x, err);
        } else {
            st = put_varint(&m->extra, 1, err);
            if (st == CSVAVRO_OK) st = put_bytes(&m->extra, v, strlen(v), err);
        }
    }
    while (st == CSVAVRO_OK) {
        bool eof = false;
        size_t before = m->block.len;
        st = cav_avro_reader_next_resolved(r, m->base.root, &m->block, &eof, err);
        if (st != CSVAVRO_OK || eof) {
            m->block.len = before;
            break;
        }
        if (keep) {
            int k = -1;
            st = (csvavro_status)keep(keep_ctx, &k, err);
            if (st == CSVAVRO_OK && k < 0) {
                cav_err_path(err, path);
                st = cav_err(err, CSVAVRO_E_INTERNAL,
                             "the record filter ended before the file's records");
            }
            if (st != CSVAVRO_OK || k == 0) {
                m->block.len = before;
                continue;
            }
        }
        st = cav_buf_append(&m->block, m->extra.data, m->extra.len, err);
        m->block_count++;
        m->records++;
        if (st == CSVAVRO_OK && m->block.len >= m->o.block_size) st = flush_block(m, err);
    }
    csvavro_avro_reader_close(r);
    return st;
}

csvavro_status csvavro_avro_merge_finish(csvavro_avro_merge *m, uint64_t *records,
                                         csvavro_error *err) {
    if (!m->started) {
        if (!m->schema_json)
            return cav_err(err, CSVAVRO_E_USAGE, "no input file and no schema: nothing to write");
        CAV_TRY(start(m, err));
    }
    CAV_TRY(flush_block(m, err));
    if (records) *records = m->records;
    return CSVAVRO_OK;
}

void csvavro_avro_merge_free(csvavro_avro_merge *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_extra; i++)
        cav_free(m->extra_names[i]);
    cav_free(m->extra_names);
    cav_free(m->extra_long);
    cav_free(m->extra_skip);
    cav_free(m->schema_json);
    if (m->have_base) cav_avro_tree_free(&m->base);
    cav_buf_free(&m->block);
    cav_buf_free(&m->packed);
    cav_buf_free(&m->extra);
    cav_avro_codec_ctx_free(&m->cctx);
    cav_free(m);
}
