/*
 * avro_schema.c — Avro writing options, codec names, and the schema <-> Avro JSON mapping.
 *
 * A csvavro_schema is always a flat record of primitive (or logical) fields, each optionally
 * nullable. In JSON a nullable field is the union ["null", T] with "default": null; logical
 * types are the object form {"type": base, "logicalType": name}. The original CSV header is
 * kept in the field attribute "csvavro.header" when it differs from the Avro name, so that a
 * schema written by csvavro and read back (--schema FILE.avsc) maps CSV columns the same way.
 *
 * Parsing (csvavro_schema_from_json) accepts what a user is likely to hand-write: primitive
 * names as strings or objects, unions of "null" and one other type in either order (always
 * written back as ["null", T] — the values are the same), unknown logical types ignored as
 * the Avro specification says. Anything the encoder cannot write (nested records, arrays,
 * maps, enums, fixed, multi-branch unions) is rejected with the field named.
 */
#include "avro/avro.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void csvavro_avro_options_init(csvavro_avro_options *o) {
    memset(o, 0, sizeof *o);
    o->codec = CSVAVRO_CODEC_SNAPPY;
    o->level = INT32_MIN;
    o->block_size = CAV_AVRO_DEFAULT_BLOCK_SIZE;
    o->has_seed = 0;
    o->seed = 0;
    o->meta = NULL;
    o->n_meta = 0;
}

static const char *const codec_names[] = {"null", "deflate", "snappy", "zstandard", "bzip2", "xz"};

csvavro_status csvavro_codec_parse(const char *name, csvavro_codec *out) {
    if (!name) return CSVAVRO_E_USAGE;
    for (size_t i = 0; i < CAV_ARRAY_LEN(codec_names); i++) {
        if (strcmp(name, codec_names[i]) == 0) {
            *out = (csvavro_codec)i;
            return CSVAVRO_OK;
        }
    }
    if (strcmp(name, "zstd") == 0) {
        *out = CSVAVRO_CODEC_ZSTANDARD;
        return CSVAVRO_OK;
    }
    return CSVAVRO_E_USAGE;
}

const char *csvavro_codec_name(csvavro_codec c) {
    if ((unsigned)c < CAV_ARRAY_LEN(codec_names)) return codec_names[c];
    return "unknown";
}

/* ---------------------------------------------------------------- to JSON */

static json_t *type_json(const cav_field *f) {
    const char *base = NULL, *logical = NULL;
    csvavro_type t = f->type;
    switch (t) {
    case CSVAVRO_TYPE_DECIMAL:
        return json_pack("{s:s, s:s, s:i, s:i}", "type", "bytes", "logicalType", "decimal",
                         "precision", f->precision, "scale", f->scale);
    case CSVAVRO_TYPE_DECIMAL_FIXED: {
        char name[300];
        snprintf(name, sizeof name, "%s_decimal", f->name);
        return json_pack("{s:s, s:s, s:i, s:s, s:i, s:i}", "type", "fixed", "name",
                         f->fixed_name ? f->fixed_name : name, "size", f->fixed_size, "logicalType",
                         "decimal", "precision", f->precision, "scale", f->scale);
    }
    case CSVAVRO_TYPE_NULL:
        base = "null";
        break;
    case CSVAVRO_TYPE_BOOLEAN:
        base = "boolean";
        break;
    case CSVAVRO_TYPE_INT:
        base = "int";
        break;
    case CSVAVRO_TYPE_LONG:
        base = "long";
        break;
    case CSVAVRO_TYPE_FLOAT:
        base = "float";
        break;
    case CSVAVRO_TYPE_DOUBLE:
        base = "double";
        break;
    case CSVAVRO_TYPE_STRING:
        base = "string";
        break;
    case CSVAVRO_TYPE_BYTES:
        base = "bytes";
        break;
    case CSVAVRO_TYPE_DATE:
        base = "int", logical = "date";
        break;
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
        base = "long", logical = "timestamp-micros";
        break;
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
        base = "long", logical = "local-timestamp-micros";
        break;
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
        base = "long", logical = "timestamp-millis";
        break;
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS:
        base = "long", logical = "local-timestamp-millis";
        break;
    }
    if (!base) return NULL;
    if (!logical) return json_string(base);
    return json_pack("{s:s, s:s}", "type", base, "logicalType", logical);
}

csvavro_status csvavro_schema_to_json(const csvavro_schema *s, int pretty, char **json,
                                      csvavro_error *err) {
    *json = NULL;
    json_t *root = json_object();
    json_t *fields = json_array();
    if (!root || !fields) goto nomem;
    const char *name = s->record_name && s->record_name[0] ? s->record_name : "Row";
    const char *ns = s->ns && s->ns[0] ? s->ns : "csvavro";
    if (json_object_set_new(root, "type", json_string("record")) ||
        json_object_set_new(root, "name", json_string(name)) ||
        json_object_set_new(root, "namespace", json_string(ns)))
        goto nomem;
    for (size_t i = 0; i < s->n_fields; i++) {
        const cav_field *f = &s->fields[i];
        json_t *t = type_json(f);
        if (!t) {
            json_decref(fields);
            json_decref(root);
            cav_err_column(err, (int32_t)i, f->name);
            return cav_err(err, CSVAVRO_E_SCHEMA, "field \"%s\": type %d has no Avro form", f->name,
                           (int)f->type);
        }
        json_t *fo = json_object();
        if (!fo) {
            json_decref(t);
            goto nomem;
        }
        if (json_object_set_new(fo, "name", json_string(f->name))) goto nomem_fo;
        if (f->nullable && f->type != CSVAVRO_TYPE_NULL) {
            json_t *u = json_array();
            if (!u || json_array_append_new(u, json_string("null")) ||
                json_array_append_new(u, t)) {
                json_decref(u);
                json_decref(fo);
                goto nomem;
            }
            if (json_object_set_new(fo, "type", u) ||
                json_object_set_new(fo, "default", json_null()))
                goto nomem_fo;
        } else if (json_object_set_new(fo, "type", t)) {
            goto nomem_fo;
        }
        if (f->original && strcmp(f->original, f->name) != 0 &&
            json_object_set_new(fo, "csvavro.header", json_string(f->original)))
            goto nomem_fo;
        if (json_array_append_new(fields, fo)) goto nomem;
        continue;
    nomem_fo:
        json_decref(fo);
        goto nomem;
    }
    if (json_object_set_new(root, "fields", fields)) {
        fields = NULL;
        goto nomem;
    }
    fields = NULL;
    size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    *json = json_dumps(root, flags);
    json_decref(root);
    if (!*json) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory writing schema JSON");
    return CSVAVRO_OK;
nomem:
    json_decref(fields);
    json_decref(root);
    return cav_err(err, CSVAVRO_E_NOMEM, "out of memory writing schema JSON");
}

/* ---------------------------------------------------------------- from JSON */

/* The decimal parameters of a parsed type (precision 0: not a decimal). */
typedef struct dec_info {
    int precision, scale, size;
    const char *name; /* the fixed's name (borrowed from the JSON) */
} dec_info;

static csvavro_status parse_type(const json_t *t, const char *field, csvavro_type *out,
                                 dec_info *dec, csvavro_error *err);

static csvavro_status primitive(const char *n, const char *field, csvavro_type *out,
                                csvavro_error *err) {
    static const struct {
        const char *name;
        csvavro_type t;
    } prims[] = {{"null", CSVAVRO_TYPE_NULL},     {"boolean", CSVAVRO_TYPE_BOOLEAN},
                 {"int", CSVAVRO_TYPE_INT},       {"long", CSVAVRO_TYPE_LONG},
                 {"float", CSVAVRO_TYPE_FLOAT},   {"double", CSVAVRO_TYPE_DOUBLE},
                 {"string", CSVAVRO_TYPE_STRING}, {"bytes", CSVAVRO_TYPE_BYTES}};
    for (size_t i = 0; i < CAV_ARRAY_LEN(prims); i++) {
        if (strcmp(n, prims[i].name) == 0) {
            *out = prims[i].t;
            return CSVAVRO_OK;
        }
    }
    return cav_err(err, CSVAVRO_E_SCHEMA,
                   "field \"%s\": type \"%s\" is not supported (flat records of primitive and "
                   "logical types only)",
                   field, n);
}

/* {"type": "bytes"|"fixed", "logicalType": "decimal", "precision": P, "scale": S, ...} */
static csvavro_status parse_decimal(const json_t *t, const char *field, bool fixed,
                                    csvavro_type *out, dec_info *dec, csvavro_error *err) {
    const json_t *p = json_object_get(t, "precision"), *s = json_object_get(t, "scale");
    const json_t *sz = json_object_get(t, "size"), *nm = json_object_get(t, "name");
    if (!json_is_integer(p) || json_integer_value(p) < 1 ||
        json_integer_value(p) > CAV_DECIMAL_MAX_PRECISION)
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": decimal needs an integer \"precision\" in 1..%d", field,
                       CAV_DECIMAL_MAX_PRECISION);
    if (s && (!json_is_integer(s) || json_integer_value(s) < 0 ||
              json_integer_value(s) > json_integer_value(p)))
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": decimal \"scale\" must be an integer in 0..precision", field);
    if (fixed && (!json_is_integer(sz) || json_integer_value(sz) < 1 ||
                  json_integer_value(sz) > 64 || !json_is_string(nm)))
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": a decimal fixed needs a \"name\" and a \"size\" in 1..64",
                       field);
    dec->precision = (int)json_integer_value(p);
    dec->scale = s ? (int)json_integer_value(s) : 0;
    dec->size = fixed ? (int)json_integer_value(sz) : 0;
    dec->name = fixed ? json_string_value(nm) : NULL;
    *out = fixed ? CSVAVRO_TYPE_DECIMAL_FIXED : CSVAVRO_TYPE_DECIMAL;
    return CSVAVRO_OK;
}

static csvavro_status parse_type(const json_t *t, const char *field, csvavro_type *out,
                                 dec_info *dec, csvavro_error *err) {
    if (json_is_string(t)) return primitive(json_string_value(t), field, out, err);
    if (!json_is_object(t))
        return cav_err(err, CSVAVRO_E_SCHEMA, "field \"%s\": type must be a name or an object",
                       field);
    const json_t *bt = json_object_get(t, "type");
    if (!json_is_string(bt))
        return cav_err(err, CSVAVRO_E_SCHEMA, "field \"%s\": type object without a \"type\" name",
                       field);
    const json_t *lt = json_object_get(t, "logicalType");
    bool is_dec = json_is_string(lt) && strcmp(json_string_value(lt), "decimal") == 0;
    if (strcmp(json_string_value(bt), "fixed") == 0) {
        if (is_dec) return parse_decimal(t, field, true, out, dec, err);
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": type \"fixed\" is supported only as a decimal", field);
    }
    csvavro_type base;
    CAV_TRY(primitive(json_string_value(bt), field, &base, err));
    if (base == CSVAVRO_TYPE_BYTES && is_dec) return parse_decimal(t, field, false, out, dec, err);
    *out = base;
    if (!json_is_string(lt)) return CSVAVRO_OK;
    const char *l = json_string_value(lt);
    /* A logical type on the wrong base type is ignored (Avro specification). */
    if (base == CSVAVRO_TYPE_INT && strcmp(l, "date") == 0) *out = CSVAVRO_TYPE_DATE;
    if (base == CSVAVRO_TYPE_LONG) {
        if (strcmp(l, "timestamp-micros") == 0)
            *out = CSVAVRO_TYPE_TIMESTAMP_MICROS;
        else if (strcmp(l, "local-timestamp-micros") == 0)
            *out = CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS;
        else if (strcmp(l, "timestamp-millis") == 0)
            *out = CSVAVRO_TYPE_TIMESTAMP_MILLIS;
        else if (strcmp(l, "local-timestamp-millis") == 0)
            *out = CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS;
    }
    return CSVAVRO_OK;
}

/* *branches: 0 when t is not a union, else its branch count (1 or 2): a single-branch union
 * ["long"] holds the same values as "long" but its encoding carries the branch index. */
static csvavro_status parse_field_type(const json_t *t, const char *field, csvavro_type *type,
                                       int *nullable, int *null_branch, int *branches,
                                       dec_info *dec, csvavro_error *err) {
    memset(dec, 0, sizeof *dec);
    *nullable = 0;
    *null_branch = 0;
    *branches = 0;
    if (!json_is_array(t)) return parse_type(t, field, type, dec, err);
    size_t n = json_array_size(t);
    csvavro_type a, b;
    *branches = (int)n;
    if (n == 1) return parse_type(json_array_get(t, 0), field, type, dec, err);
    if (n != 2)
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": only unions of \"null\" and one type are supported", field);
    CAV_TRY(parse_type(json_array_get(t, 0), field, &a, dec, err));
    CAV_TRY(parse_type(json_array_get(t, 1), field, &b, dec, err));
    if ((a == CSVAVRO_TYPE_NULL) == (b == CSVAVRO_TYPE_NULL))
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": only unions of \"null\" and one type are supported", field);
    *type = a == CSVAVRO_TYPE_NULL ? b : a;
    *nullable = 1;
    *null_branch = a == CSVAVRO_TYPE_NULL ? 0 : 1;
    return CSVAVRO_OK;
}

csvavro_status csvavro_schema_from_json(const char *json, csvavro_schema **out,
                                        csvavro_error *err) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!root) {
        if (err) err->offset = je.position;
        if (err) err->line = je.line;
        return cav_err(err, CSVAVRO_E_SCHEMA, "schema JSON: %s (line %d, column %d)", je.text,
                       je.line, je.column);
    }
    csvavro_status st = CSVAVRO_OK;
    csvavro_schema *s = NULL;
    const json_t *type = json_object_get(root, "type");
    if (!json_is_object(root) || !json_is_string(type) ||
        strcmp(json_string_value(type), "record") != 0) {
        st = cav_err(err, CSVAVRO_E_SCHEMA,
                     "schema must be an Avro record ({\"type\": \"record\", ...})");
        goto done;
    }
    const json_t *name = json_object_get(root, "name");
    const json_t *ns = json_object_get(root, "namespace");
    const json_t *fields = json_object_get(root, "fields");
    if (!json_is_string(name) || json_string_length(name) == 0) {
        st = cav_err(err, CSVAVRO_E_SCHEMA, "schema record has no \"name\"");
        goto done;
    }
    if (ns && !json_is_string(ns) && !json_is_null(ns)) {
        st = cav_err(err, CSVAVRO_E_SCHEMA, "schema \"namespace\" must be a string");
        goto done;
    }
    if (!json_is_array(fields)) {
        st = cav_err(err, CSVAVRO_E_SCHEMA, "schema record has no \"fields\" array");
        goto done;
    }
    /* A dotted full name carries its own namespace. */
    const char *full = json_string_value(name);
    const char *dot = strrchr(full, '.');
    char *nsbuf = NULL;
    const char *rec = full, *nsv = json_is_string(ns) ? json_string_value(ns) : NULL;
    if (dot) {
        nsbuf = cav_strndup(full, (size_t)(dot - full));
        if (!nsbuf) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            goto done;
        }
        nsv = nsbuf;
        rec = dot + 1;
    }
    if (!nsv || !nsv[0]) nsv = "csvavro";
    st = csvavro_schema_create(rec, nsv, &s, err);
    cav_free(nsbuf);
    if (st != CSVAVRO_OK) goto done;
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const json_t *f = json_array_get(fields, i);
        const json_t *fn = json_object_get(f, "name");
        if (!json_is_object(f) || !json_is_string(fn)) {
            st = cav_err(err, CSVAVRO_E_SCHEMA, "field %zu has no \"name\"", i);
            goto done;
        }
        const char *fname = json_string_value(fn);
        csvavro_type t;
        int nullable, nb, branches;
        dec_info dec;
        st = parse_field_type(json_object_get(f, "type"), fname, &t, &nullable, &nb, &branches,
                              &dec, err);
        if (st == CSVAVRO_OK && t == CSVAVRO_TYPE_NULL)
            st = cav_err(err, CSVAVRO_E_SCHEMA,
                         "field \"%s\": a field of type null is not supported", fname);
        if (st != CSVAVRO_OK) {
            cav_err_column(err, (int32_t)i, fname);
            goto done;
        }
        const json_t *hdr = json_object_get(f, "csvavro.header");
        st = csvavro_schema_add_field(s, fname, json_is_string(hdr) ? json_string_value(hdr) : NULL,
                                      t, nullable, err);
        if (st == CSVAVRO_OK && dec.precision)
            st = csvavro_schema_set_decimal(s, s->n_fields - 1, dec.precision, dec.scale, dec.size,
                                            dec.name, err);
        if (st != CSVAVRO_OK) goto done;
    }
    if (s->n_fields == 0) {
        st = cav_err(err, CSVAVRO_E_SCHEMA, "schema record has no fields");
        goto done;
    }
done:
    json_decref(root);
    if (st != CSVAVRO_OK) {
        csvavro_schema_free(s);
        return st;
    }
    *out = s;
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- reader view */

void cav_avro_free_fields(cav_avro_rfield *f, size_t n) {
    if (!f) return;
    for (size_t i = 0; i < n; i++)
        cav_free(f[i].name);
    cav_free(f);
}

csvavro_status cav_avro_parse_fields(const char *json, size_t len, cav_avro_rfield **out,
                                     size_t *n_out, csvavro_error *err) {
    *out = NULL;
    *n_out = 0;
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root)
        return cav_err(err, CSVAVRO_E_CORRUPT, "writer schema (avro.schema) is not JSON: %s",
                       je.text);
    csvavro_status st = CSVAVRO_OK;
    cav_avro_rfield *fs = NULL;
    size_t n = 0;
    const json_t *type = json_object_get(root, "type");
    const json_t *fields = json_object_get(root, "fields");
    if (!json_is_string(type) || strcmp(json_string_value(type), "record") != 0 ||
        !json_is_array(fields)) {
        st = cav_err(err, CSVAVRO_E_UNSUPPORTED,
                     "writer schema is not a record with fields (csvavro reads flat records)");
        goto done;
    }
    fs = cav_calloc(json_array_size(fields) + 1, sizeof *fs);
    if (!fs) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const json_t *f = json_array_get(fields, i);
        const json_t *fn = json_object_get(f, "name");
        if (!json_is_string(fn)) {
            st = cav_err(err, CSVAVRO_E_CORRUPT, "writer schema: field %zu has no name", i);
            goto done;
        }
        csvavro_type t;
        int nullable, nb, branches;
        dec_info dec;
        st = parse_field_type(json_object_get(f, "type"), json_string_value(fn), &t, &nullable, &nb,
                              &branches, &dec, err);
        if (st != CSVAVRO_OK) {
            if (st == CSVAVRO_E_SCHEMA) {
                st = CSVAVRO_E_UNSUPPORTED;
                if (err) err->status = st;
            }
            goto done;
        }
        /* Names are printed into JSON unescaped by the reader: they must be valid Avro names. */
        if (!cav_avro_name_valid(json_string_value(fn))) {
            st = cav_err(err, CSVAVRO_E_CORRUPT, "writer schema: field %zu has an invalid name", i);
            goto done;
        }
        fs[n].name = cav_strdup(json_string_value(fn));
        if (!fs[n].name) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            goto done;
        }
        fs[n].type = t;
        fs[n].nullable = nullable && t != CSVAVRO_TYPE_NULL;
        fs[n].null_branch = (uint8_t)nb;
        fs[n].branches = (uint8_t)branches;
        fs[n].fixed_size = (uint32_t)dec.size;
        fs[n].scale = dec.scale;
        n++;
    }
done:
    json_decref(root);
    if (st != CSVAVRO_OK) {
        cav_avro_free_fields(fs, n);
        return st;
    }
    *out = fs;
    *n_out = n;
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- field defaults */

void cav_avro_free_defaults(char **d, size_t n) {
    if (!d) return;
    for (size_t i = 0; i < n; i++)
        cav_free(d[i]);
    cav_free(d);
}

csvavro_status cav_avro_field_defaults(const char *json, size_t n_fields, char ***out,
                                       csvavro_error *err) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loads(json, JSON_ALLOW_NUL, &je);
    const json_t *fields = root ? json_object_get(root, "fields") : NULL;
    if (!json_is_array(fields) || json_array_size(fields) != n_fields) {
        json_decref(root);
        return cav_err(err, CSVAVRO_E_SCHEMA, "schema JSON: no \"fields\" array of %zu fields",
                       n_fields);
    }
    char **d = cav_calloc(n_fields ? n_fields : 1, sizeof *d);
    csvavro_status st = d ? CSVAVRO_OK : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; st == CSVAVRO_OK && i < n_fields; i++) {
        const json_t *v = json_object_get(json_array_get(fields, i), "default");
        if (!v) continue;
        d[i] = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT); /* malloc: cav_free frees it */
        if (!d[i]) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    json_decref(root);
    if (st != CSVAVRO_OK) {
        cav_avro_free_defaults(d, n_fields);
        return st;
    }
    *out = d;
    return CSVAVRO_OK;
}

csvavro_status cav_avro_default_value(const csvavro_schema *s, size_t i, const char *def,
                                      cav_const_value *out, char **store, csvavro_error *err) {
    const cav_field *f = &s->fields[i];
    memset(out, 0, sizeof *out);
    *store = NULL;
    json_error_t je;
    json_t *v = json_loads(def, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v) return cav_err(err, CSVAVRO_E_SCHEMA, "field \"%s\": default is not JSON", f->name);
    csvavro_status st = CSVAVRO_OK;
    const char *want = NULL;
    out->valid = true;
    if (json_is_null(v)) {
        out->valid = false;
        if (!f->nullable) want = "a value of its type (null only in a union with \"null\")";
        goto done;
    }
    switch (f->type) {
    case CSVAVRO_TYPE_BOOLEAN:
        if (json_is_boolean(v))
            out->v.b8 = json_is_true(v);
        else
            want = "true or false";
        break;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE:
        if (json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
            json_integer_value(v) <= INT32_MAX)
            out->v.i32 = (int32_t)json_integer_value(v);
        else
            want = f->type == CSVAVRO_TYPE_DATE ? "an int (days since 1970-01-01)"
                                                : "an int (32-bit integer)";
        break;
    case CSVAVRO_TYPE_FLOAT:
    case CSVAVRO_TYPE_DOUBLE:
        if (json_is_number(v)) {
            double d = json_number_value(v);
            if (f->type == CSVAVRO_TYPE_FLOAT)
                out->v.f32 = (float)d;
            else
                out->v.f64 = d;
        } else {
            want = "a number";
        }
        break;
    case CSVAVRO_TYPE_STRING:
        if (json_is_string(v)) {
            size_t n = json_string_length(v);
            *store = cav_malloc(n ? n : 1);
            if (!*store) {
                st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                break;
            }
            memcpy(*store, json_string_value(v), n);
            out->v.str.ptr = *store;
            out->v.str.len = (uint32_t)n;
        } else {
            want = "a string";
        }
        break;
    case CSVAVRO_TYPE_BYTES:
    case CSVAVRO_TYPE_DECIMAL:
    case CSVAVRO_TYPE_DECIMAL_FIXED: {
        if (!json_is_string(v)) {
            want = "a string of code points 0-255 (the bytes)";
            break;
        }
        const unsigned char *p = (const unsigned char *)json_string_value(v);
        size_t n = json_string_length(v), k = 0;
        *store = cav_malloc(n ? n : 1);
        if (!*store) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < n && !want; j++) { /* UTF-8 of code points 0-255 */
            if (p[j] < 0x80)
                (*store)[k++] = (char)p[j];
            else if ((p[j] == 0xC2 || p[j] == 0xC3) && j + 1 < n && (p[j + 1] & 0xC0) == 0x80) {
                (*store)[k++] = (char)(((p[j] & 0x03) << 6) | (p[j + 1] & 0x3F));
                j++;
            } else {
                want = "a string of code points 0-255 (the bytes)";
            }
        }
        if (!want && f->type == CSVAVRO_TYPE_DECIMAL_FIXED && k != (size_t)f->fixed_size)
            want = "exactly the fixed's size in bytes (code points 0-255: the big-endian two's "
                   "complement of the unscaled value)";
        else if (!want && f->type == CSVAVRO_TYPE_DECIMAL && k == 0)
            want = "at least one byte (code points 0-255: the big-endian two's complement of "
                   "the unscaled value, e.g. \"\\u0000\" for 0)";
        out->v.str.ptr = *store;
        out->v.str.len = (uint32_t)k;
        break;
    }
    default: /* LONG and the timestamps */
        if (json_is_integer(v))
            out->v.i64 = (int64_t)json_integer_value(v);
        else
            want = "an integer (a long)";
        break;
    }
done:
    json_decref(v);
    if (want && st == CSVAVRO_OK) {
        cav_free(*store);
        *store = NULL;
        cav_err_column(err, (int32_t)i, f->name);
        st = cav_err(err, CSVAVRO_E_SCHEMA, "field \"%s\" (%s): default %s is not %s", f->name,
                     csvavro_type_name(f->type), def, want);
    }
    return st;
}
