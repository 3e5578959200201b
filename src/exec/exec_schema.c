/*
 * exec_schema.c — how each input's columns become the job's schema fields when they are matched
 * by name: --schema FILE.avsc with a header, and --union-by-name.
 *
 * A field takes the input column whose header text (without surrounding ASCII whitespace)
 * equals, in this order: the field's original header text (the csvavro.header attribute, or
 * its name); its Avro name; or whose header, made an Avro name as inference does, is the
 * field's name; or one of the field's Avro "aliases" (a column's earlier names: a 2013
 * vendor_id for VendorID). A column serves one field. A field no column serves takes its default (a
 * --schema "default", null under --union-by-name); without one planning fails naming the
 * field and the input. Columns no field takes are dropped with a note (--strict-schema: an
 * error). The result is per input a map (field -> column, -1 = default) that the CSV reader
 * applies (cav_csv_reader_set_layout), and the defaults as constant values.
 */
#include "exec.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static bool space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* the header text without its surrounding ASCII whitespace (allocated) */
static char *trimmed(const char *t) {
    size_t n = strlen(t);
    while (n && space(*t))
        t++, n--;
    while (n && space(t[n - 1]))
        n--;
    return cav_strndup(t, n);
}

/* A lookup of an input's columns: two schemas whose field i is column i, with "original" the
 * trimmed header text (hdr) and the Avro name inference would give it (san); their indexes
 * make every lookup O(1). */
typedef struct col_index {
    csvavro_schema *hdr, *san;
} col_index;

static void index_free(col_index *x) {
    csvavro_schema_free(x->hdr);
    csvavro_schema_free(x->san);
}

static csvavro_status index_build(const cav_csv_header *h, col_index *x, csvavro_error *err) {
    memset(x, 0, sizeof *x);
    CAV_TRY(csvavro_schema_create(NULL, NULL, &x->hdr, err));
    csvavro_status st = csvavro_schema_create(NULL, NULL, &x->san, err);
    for (uint32_t c = 0; st == CSVAVRO_OK && c < h->n_cols; c++) {
        char nm[24], av[256];
        snprintf(nm, sizeof nm, "c%u", c);
        char *t = trimmed(h->names[c]);
        if (!t) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            break;
        }
        csvavro_avro_name(t, av, sizeof av);
        st = csvavro_schema_add_field(x->hdr, nm, t, CSVAVRO_TYPE_STRING, 1, err);
        if (st == CSVAVRO_OK)
            st = csvavro_schema_add_field(x->san, nm, av, CSVAVRO_TYPE_STRING, 1, err);
        cav_free(t);
    }
    if (st != CSVAVRO_OK) index_free(x);
    return st;
}

/* the column whose indexed text is key, or -1 (exact, the first of duplicates) */
static long index_find(const csvavro_schema *s, const char *key) {
    return cav_schema_original_index(s, key);
}

static const char *schema_source(const csvavro_job *j) {
    return j->o.schema_source && *j->o.schema_source ? j->o.schema_source : "the --schema";
}

/* One input's map (NULL when it is the identity); *extra gets the columns no field takes. */
static csvavro_status map_input(csvavro_job *j, cav_input *in, const json_t *aliases,
                                cav_buf *extra, size_t *n_extra, csvavro_error *err) {
    const csvavro_schema *s = j->full;
    size_t nf = csvavro_schema_field_count(s);
    uint32_t n = in->h.n_cols;
    col_index x;
    CAV_TRY(index_build(&in->h, &x, err));
    int32_t *map = cav_calloc(nf ? nf : 1, sizeof *map);
    uint32_t *taken = cav_calloc(n ? n : 1, sizeof *taken); /* field + 1 */
    csvavro_status st = CSVAVRO_OK;
    if (!map || !taken) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t f = 0; f < nf; f++)
        map[f] = -1;
    for (int pass = 0; pass < 4 && st == CSVAVRO_OK; pass++) {
        for (size_t f = 0; f < nf && st == CSVAVRO_OK; f++) {
            if (map[f] >= 0) continue;
            long c = -1;
            if (pass == 3) { /* the field's Avro "aliases" (a column's earlier names) */
                const json_t *al = aliases ? json_array_get(aliases, f) : NULL;
                for (size_t a = 0; a < json_array_size(al) && c < 0; a++) {
                    const char *an = json_string_value(json_array_get(al, a));
                    if (!an) continue;
                    c = index_find(x.hdr, an);
                    if (c < 0) c = index_find(x.san, an);
                    if (c >= 0 && taken[c]) c = -1;
                }
            } else if (pass == 0) {
                char *t = trimmed(csvavro_schema_field_original(s, f));
                if (!t) {
                    st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                    break;
                }
                c = index_find(x.hdr, t);
                cav_free(t);
            } else {
                c = index_find(pass == 1 ? x.hdr : x.san, csvavro_schema_field_name(s, f));
            }
            if (c < 0 || taken[c]) continue;
            map[f] = (int32_t)c;
            taken[c] = (uint32_t)f + 1;
        }
    }
    /* two columns with one name: which one a field means is not known */
    for (uint32_t c = 0; st == CSVAVRO_OK && c < n; c++) {
        long k = index_find(x.hdr, csvavro_schema_field_original(x.hdr, c));
        if (k < 0 || (uint32_t)k == c || (!taken[c] && !taken[k])) continue;
        cav_err_path(err, in->display);
        cav_err_column(err, (int32_t)c, csvavro_schema_field_original(x.hdr, c));
        st = cav_err(err, CSVAVRO_E_CSV,
                     "columns %ld and %u are both named \"%s\": the field \"%s\" cannot be matched "
                     "by name",
                     k + 1, c + 1, csvavro_schema_field_original(x.hdr, c),
                     csvavro_schema_field_name(s, taken[c] ? taken[c] - 1 : taken[k] - 1));
    }
    for (size_t f = 0; f < nf && st == CSVAVRO_OK; f++) {
        if (map[f] >= 0) continue;
        if (j->o.schema_json && (!j->def_json || !j->def_json[f])) {
            const char *sg = cav_schema_suggest(x.hdr, csvavro_schema_field_name(s, f));
            long si = sg ? cav_schema_name_index(x.hdr, sg) : -1;
            cav_err_path(err, in->display);
            st = cav_err(err, CSVAVRO_E_SCHEMA,
                         "no column for field \"%s\" of %s, and the field has no \"default\" "
                         "(give it one, or the input the column)%s%s%s",
                         csvavro_schema_field_name(s, f), schema_source(j),
                         si >= 0 ? " (a column is named \"" : "",
                         si >= 0 ? csvavro_schema_field_original(x.hdr, (size_t)si) : "",
                         si >= 0 ? "\": a typo?)" : "");
        }
    }
    *n_extra = 0;
    for (uint32_t c = 0; st == CSVAVRO_OK && c < n; c++) {
        if (taken[c]) continue;
        if (*n_extra < 12)
            st = cav_buf_printf(extra, err, "%s\"%s\"", *n_extra ? ", " : "",
                                csvavro_schema_field_original(x.hdr, c));
        else if (*n_extra == 12)
            st = cav_buf_append_str(extra, " ...", err);
        (*n_extra)++;
    }
    if (st != CSVAVRO_OK) goto done;
    bool identity = n == nf;
    for (size_t f = 0; identity && f < nf; f++)
        identity = map[f] == (int32_t)f;
    if (!identity) {
        in->map = map;
        map = NULL;
    }
done:
    cav_free(map);
    cav_free(taken);
    index_free(&x);
    return st;
}

csvavro_status cav_job_build_defaults(csvavro_job *j, csvavro_error *err) {
    size_t nf = csvavro_schema_field_count(j->full);
    j->defs = cav_calloc(nf ? nf : 1, sizeof *j->defs);
    j->def_store = cav_calloc(nf ? nf : 1, sizeof *j->def_store);
    if (!j->defs || !j->def_store) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    j->n_defs = nf;
    for (size_t f = 0; f < nf; f++) {
        if (j->def_json && j->def_json[f]) {
            csvavro_status st = cav_avro_default_value(j->full, f, j->def_json[f], &j->defs[f],
                                                       &j->def_store[f], err);
            if (st != CSVAVRO_OK) {
                cav_err_prefix(err, "%s", schema_source(j));
                return st;
            }
        } else {
            j->defs[f].valid = false; /* null (a field without a default is never absent) */
        }
    }
    return CSVAVRO_OK;
}

static csvavro_status note(csvavro_job *j, const char *text, csvavro_error *err) {
    size_t a = j->notes ? strlen(j->notes) : 0, b = strlen(text);
    char *n = cav_realloc(j->notes, a + b + 2);
    if (!n) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    if (a) n[a++] = '\n';
    memcpy(n + a, text, b + 1);
    j->notes = n;
    return CSVAVRO_OK;
}

/* The mapping as --dry-run shows it: one block per distinct map, naming its inputs. */
static csvavro_status describe(csvavro_job *j, csvavro_error *err) {
    const csvavro_schema *s = j->full;
    size_t nf = csvavro_schema_field_count(s);
    size_t *rep = cav_calloc(j->n_inputs + 1, sizeof *rep); /* block representatives */
    size_t n_rep = 0;
    cav_buf b;
    cav_buf_init(&b, (size_t)64 << 20);
    csvavro_status st = rep ? CSVAVRO_OK : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < j->n_inputs && st == CSVAVRO_OK; i++) {
        const cav_input *in = &j->inputs[i];
        if (in->h.n_cols == 0) continue;
        bool found = false;
        for (size_t r = 0; r < n_rep && !found; r++) {
            const cav_input *o = &j->inputs[rep[r]];
            found = o->h.n_cols == in->h.n_cols && !o->map == !in->map &&
                    (!in->map || !memcmp(o->map, in->map, nf * sizeof *in->map));
        }
        if (!found) rep[n_rep++] = i;
    }
    for (size_t r = 0; r < n_rep && st == CSVAVRO_OK; r++) {
        const cav_input *in = &j->inputs[rep[r]];
        st = cav_buf_append_str(&b, "mapping by name, input", err);
        size_t shown = 0, more = 0;
        for (size_t i = rep[r]; i < j->n_inputs && st == CSVAVRO_OK; i++) {
            const cav_input *o = &j->inputs[i];
            bool same = o->h.n_cols == in->h.n_cols && !o->map == !in->map &&
                        (!in->map || !memcmp(o->map, in->map, nf * sizeof *in->map));
            if (!same) continue;
            if (shown < 8)
                st = cav_buf_printf(&b, err, "%s %zu (%s)", shown ? "," : "", i, o->display);
            else
                more++;
            shown++;
        }
        if (more && st == CSVAVRO_OK) st = cav_buf_printf(&b, err, " and %zu more", more);
        if (st == CSVAVRO_OK) st = cav_buf_append_str(&b, ":\n", err);
        char *used = cav_calloc(in->h.n_cols + 1, 1);
        if (!used && st == CSVAVRO_OK) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (size_t f = 0; f < nf && st == CSVAVRO_OK; f++) {
            int32_t c = in->map ? in->map[f] : (int32_t)f;
            if (c >= 0) {
                used[c] = 1;
                st = cav_buf_printf(&b, err, "  %s <- column %d \"%s\"\n",
                                    csvavro_schema_field_name(s, f), c + 1, in->h.names[c]);
            } else if (j->def_json && j->def_json[f]) {
                st = cav_buf_printf(&b, err, "  %s <- default %s\n",
                                    csvavro_schema_field_name(s, f), j->def_json[f]);
            } else {
                st = cav_buf_printf(&b, err, "  %s <- null (not in this input)\n",
                                    csvavro_schema_field_name(s, f));
            }
        }
        for (uint32_t c = 0; st == CSVAVRO_OK && c < in->h.n_cols; c++)
            if (!used[c])
                st = cav_buf_printf(&b, err, "  (dropped) column %u \"%s\"\n", c + 1,
                                    in->h.names[c]);
        cav_free(used);
    }
    if (st == CSVAVRO_OK && b.len) {
        b.data[b.len - 1] = '\0'; /* the last line end */
        j->mapping = cav_strdup((const char *)b.data);
        if (!j->mapping) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    cav_buf_free(&b);
    cav_free(rep);
    return st;
}

csvavro_status cav_job_map_inputs(csvavro_job *j, csvavro_error *err) {
    size_t nf = csvavro_schema_field_count(j->full);
    if (j->o.schema_json) {
        CAV_TRY(cav_avro_field_defaults(j->o.schema_json, nf, &j->def_json, err));
        j->n_def_json = nf;
    }
    /* each field's "aliases" array (or null), from the schema's JSON */
    json_t *aliases = NULL;
    if (j->o.schema_json) {
        json_t *root = json_loads(j->o.schema_json, JSON_ALLOW_NUL, NULL);
        const json_t *fields = json_object_get(root, "fields");
        aliases = json_array();
        for (size_t f = 0; aliases && f < json_array_size(fields); f++) {
            json_t *a = json_object_get(json_array_get(fields, f), "aliases");
            json_array_append(aliases, json_is_array(a) ? a : json_null());
        }
        json_decref(root);
        if (!aliases) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    cav_buf extra;
    cav_buf_init(&extra, (size_t)1 << 20);
    size_t first_extra = SIZE_MAX, n_with_extra = 0;
    char first_list[1024] = "";
    size_t first_n = 0;
    bool any_map = false;
    csvavro_status st = CSVAVRO_OK;
    for (size_t i = 0; i < j->n_inputs && st == CSVAVRO_OK; i++) {
        cav_input *in = &j->inputs[i];
        if (in->h.n_cols == 0) continue;
        size_t n_extra = 0;
        cav_buf_reset(&extra);
        st = map_input(j, in, aliases, &extra, &n_extra, err);
        if (st != CSVAVRO_OK) break;
        any_map = any_map || in->map;
        if (!n_extra) continue;
        if (cav_buf_append(&extra, "", 1, err) != CSVAVRO_OK) {
            st = CSVAVRO_E_NOMEM;
            break;
        }
        if (j->o.strict_schema) {
            cav_err_path(err, in->display);
            st = cav_err(err, CSVAVRO_E_SCHEMA,
                         "column%s %s not in %s (--strict-schema; without it %s dropped)",
                         n_extra == 1 ? "" : "s", (const char *)extra.data, schema_source(j),
                         n_extra == 1 ? "it is" : "they are");
            break;
        }
        if (first_extra == SIZE_MAX) {
            first_extra = i;
            first_n = n_extra;
            snprintf(first_list, sizeof first_list, "%s", (const char *)extra.data);
        }
        n_with_extra++;
    }
    cav_buf_free(&extra);
    json_decref(aliases);
    CAV_TRY(st);
    if (first_extra != SIZE_MAX) {
        char text[1400];
        char others[64] = "";
        if (n_with_extra > 1)
            snprintf(others, sizeof others, " (and %zu more input%s)", n_with_extra - 1,
                     n_with_extra == 2 ? "" : "s");
        snprintf(text, sizeof text,
                 "%s%s: column%s %s not in %s: dropped (--strict-schema: an error)",
                 j->inputs[first_extra].display, others, first_n == 1 ? "" : "s", first_list,
                 schema_source(j));
        CAV_TRY(note(j, text, err));
    }
    /* every given default is checked, used or not */
    if (any_map || j->def_json) CAV_TRY(cav_job_build_defaults(j, err));
    return describe(j, err);
}

const char *csvavro_job_mapping(const csvavro_job *j) {
    return j->mapping;
}
