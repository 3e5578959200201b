/*
 * batch_schema.c — the table schema (csvavro_schema) and type names.
 *
 * The schema is the contract between every stage: the CSV reader converts to its types, the
 * filter is type-checked against it, the Avro writer encodes it. It is small and copied by
 * value into each worker (clone), so no locking is ever needed.
 */
#include "batch.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    csvavro_type type;
} type_names[] = {
    {"null", CSVAVRO_TYPE_NULL},
    {"boolean", CSVAVRO_TYPE_BOOLEAN},
    {"int", CSVAVRO_TYPE_INT},
    {"long", CSVAVRO_TYPE_LONG},
    {"float", CSVAVRO_TYPE_FLOAT},
    {"double", CSVAVRO_TYPE_DOUBLE},
    {"string", CSVAVRO_TYPE_STRING},
    {"bytes", CSVAVRO_TYPE_BYTES},
    {"date", CSVAVRO_TYPE_DATE},
    {"timestamp", CSVAVRO_TYPE_TIMESTAMP_MICROS},
    {"local-timestamp", CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS},
    {"timestamp-millis", CSVAVRO_TYPE_TIMESTAMP_MILLIS},
    {"local-timestamp-millis", CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS},
    {"decimal", CSVAVRO_TYPE_DECIMAL},
    {"decimal-fixed", CSVAVRO_TYPE_DECIMAL_FIXED},
    /* aliases accepted by csvavro_type_parse only */
    {"timestamp-micros", CSVAVRO_TYPE_TIMESTAMP_MICROS},
    {"local-timestamp-micros", CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS},
    {"bool", CSVAVRO_TYPE_BOOLEAN},
    {"int64", CSVAVRO_TYPE_LONG},
    {"int32", CSVAVRO_TYPE_INT},
    {"text", CSVAVRO_TYPE_STRING},
};

const char *csvavro_type_name(csvavro_type t) {
    for (size_t i = 0; i < CAV_ARRAY_LEN(type_names); i++)
        if (type_names[i].type == t) return type_names[i].name;
    return "?";
}

csvavro_status csvavro_type_parse(const char *name, csvavro_type *out) {
    for (size_t i = 0; i < CAV_ARRAY_LEN(type_names); i++) {
        /* a decimal needs its precision and scale: --type COL=decimal(P,S) (csv_infer.c) */
        if (type_names[i].type == CSVAVRO_TYPE_DECIMAL ||
            type_names[i].type == CSVAVRO_TYPE_DECIMAL_FIXED)
            continue;
        if (strcmp(type_names[i].name, name) == 0) {
            *out = type_names[i].type;
            return CSVAVRO_OK;
        }
    }
    return CSVAVRO_E_USAGE;
}

static bool name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
static bool name_char(char c) {
    return name_start(c) || (c >= '0' && c <= '9');
}

bool cav_avro_name_valid(const char *s) {
    if (!s || !name_start(*s)) return false;
    for (s++; *s; s++)
        if (!name_char(*s)) return false;
    return true;
}

bool cav_avro_namespace_valid(const char *s) {
    if (!s) return false;
    if (!*s) return true;
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || !name_start(p[0])) return false;
        for (size_t i = 1; i < n; i++)
            if (!name_char(p[i])) return false;
        if (!dot) return true;
        p = dot + 1;
    }
}

void csvavro_avro_name(const char *text, char *out, size_t cap) {
    if (cap == 0) return;
    size_t o = 0;
    if (!text || !*text) {
        snprintf(out, cap, "_");
        return;
    }
    if (text[0] >= '0' && text[0] <= '9' && o + 1 < cap) out[o++] = '_';
    for (const char *p = text; *p && o + 1 < cap; p++)
        out[o++] = name_char(*p) ? *p : '_';
    out[o] = '\0';
}

csvavro_status csvavro_schema_create(const char *record_name, const char *ns, csvavro_schema **out,
                                     csvavro_error *err) {
    *out = NULL;
    if (!record_name) record_name = "Row";
    if (!ns) ns = "csvavro";
    if (!cav_avro_name_valid(record_name))
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "invalid record name \"%s\" (want [A-Za-z_][A-Za-z0-9_]*)", record_name);
    /* Avro specification (Names): primitive type names may not be defined in any namespace;
     * readers such as avsc refuse a record that tries. */
    static const char *const prims[] = {"null",  "boolean", "int",    "long",
                                        "float", "double",  "string", "bytes"};
    for (size_t i = 0; i < CAV_ARRAY_LEN(prims); i++)
        if (strcmp(record_name, prims[i]) == 0)
            return cav_err(err, CSVAVRO_E_SCHEMA,
                           "invalid record name \"%s\": the Avro primitive type names (null, "
                           "boolean, int, long, float, double, bytes, string) cannot name a record",
                           record_name);
    if (!cav_avro_namespace_valid(ns))
        return cav_err(err, CSVAVRO_E_SCHEMA, "invalid namespace \"%s\"", ns);
    csvavro_schema *s = cav_calloc(1, sizeof *s);
    if (!s) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    s->record_name = cav_strdup(record_name);
    s->ns = cav_strdup(ns);
    if (!s->record_name || !s->ns) {
        csvavro_schema_free(s);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    *out = s;
    return CSVAVRO_OK;
}

void csvavro_schema_free(csvavro_schema *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_fields; i++) {
        cav_free(s->fields[i].name);
        cav_free(s->fields[i].original);
        cav_free(s->fields[i].fixed_name);
    }
    cav_free(s->fields);
    cav_free(s->by_name);
    cav_free(s->by_original);
    cav_free(s->record_name);
    cav_free(s->ns);
    cav_free(s);
}

static uint64_t str_hash(const char *p) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h;
}

/* Adds key -> slot unless the key is already there: lookups answer the first field of a name,
 * and many equal header texts (originals) stay one entry instead of one long probe chain. */
static void index_put(const cav_field *fields, uint32_t *t, size_t cap, const char *key,
                      uint32_t slot, bool original) {
    for (size_t i = (size_t)str_hash(key) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (!t[i]) {
            t[i] = slot;
            return;
        }
        const cav_field *f = &fields[t[i] - 1];
        if (strcmp(original ? f->original : f->name, key) == 0) return;
    }
}

static long index_get(const csvavro_schema *s, const uint32_t *t, const char *key, bool original) {
    if (!t) return -1;
    for (size_t i = (size_t)str_hash(key) & (s->hcap - 1); t[i]; i = (i + 1) & (s->hcap - 1)) {
        const cav_field *f = &s->fields[t[i] - 1];
        if (strcmp(original ? f->original : f->name, key) == 0) return (long)t[i] - 1;
    }
    return -1;
}

/* Grows the indexes to hold n fields (rebuilt from the fields). */
static csvavro_status index_reserve(csvavro_schema *s, size_t n, csvavro_error *err) {
    if (n * 2 < s->hcap) return CSVAVRO_OK;
    size_t cap = s->hcap ? s->hcap : 32;
    while (n * 2 >= cap)
        cap *= 2;
    uint32_t *a = cav_calloc(cap, sizeof *a), *b = cav_calloc(cap, sizeof *b);
    if (!a || !b) {
        cav_free(a);
        cav_free(b);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->n_fields; i++) {
        index_put(s->fields, a, cap, s->fields[i].name, (uint32_t)i + 1, false);
        index_put(s->fields, b, cap, s->fields[i].original, (uint32_t)i + 1, true);
    }
    cav_free(s->by_name);
    cav_free(s->by_original);
    s->by_name = a;
    s->by_original = b;
    s->hcap = cap;
    return CSVAVRO_OK;
}

long cav_schema_name_index(const csvavro_schema *s, const char *name) {
    return index_get(s, s->by_name, name, false);
}

long cav_schema_original_index(const csvavro_schema *s, const char *text) {
    return index_get(s, s->by_original, text, true);
}

csvavro_status csvavro_schema_add_field(csvavro_schema *s, const char *name, const char *original,
                                        csvavro_type type, int nullable, csvavro_error *err) {
    if (!cav_avro_name_valid(name))
        return cav_err(err, CSVAVRO_E_SCHEMA, "invalid field name \"%s\"", name);
    if (cav_schema_name_index(s, name) >= 0)
        return cav_err(err, CSVAVRO_E_SCHEMA, "duplicate field name \"%s\"", name);
    if (s->n_fields >= UINT32_MAX - 1) return cav_err(err, CSVAVRO_E_LIMIT, "too many fields");
    CAV_TRY(index_reserve(s, s->n_fields + 1, err));
    if (s->n_fields == s->cap_fields) {
        size_t nc = s->cap_fields ? s->cap_fields * 2 : 16;
        cav_field *f = cav_realloc(s->fields, nc * sizeof *f);
        if (!f) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        s->fields = f;
        s->cap_fields = nc;
    }
    cav_field *f = &s->fields[s->n_fields];
    f->name = cav_strdup(name);
    f->original = cav_strdup(original ? original : name);
    if (!f->name || !f->original) {
        cav_free(f->name);
        cav_free(f->original);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    f->type = type;
    f->nullable = nullable != 0;
    f->precision = f->scale = f->fixed_size = 0;
    f->fixed_name = NULL;
    index_put(s->fields, s->by_name, s->hcap, f->name, (uint32_t)s->n_fields + 1, false);
    index_put(s->fields, s->by_original, s->hcap, f->original, (uint32_t)s->n_fields + 1, true);
    s->n_fields++;
    return CSVAVRO_OK;
}

csvavro_status csvavro_schema_clone(const csvavro_schema *s, csvavro_schema **out,
                                    csvavro_error *err) {
    CAV_TRY(csvavro_schema_create(s->record_name, s->ns, out, err));
    for (size_t i = 0; i < s->n_fields; i++) {
        const cav_field *f = &s->fields[i];
        csvavro_status st =
            csvavro_schema_add_field(*out, f->name, f->original, f->type, f->nullable, err);
        if (st == CSVAVRO_OK) st = cav_schema_copy_decimal(*out, i, s, i, err);
        if (st != CSVAVRO_OK) {
            csvavro_schema_free(*out);
            *out = NULL;
            return st;
        }
    }
    return CSVAVRO_OK;
}

/* Largest precision a two's-complement integer of n bytes always holds: floor(log10(2^(8n-1)-1)).
 */
static int fixed_max_precision(int n) {
    /* 8n-1 bits * log10(2), rounded down; exact enough for n <= 64 (checked against the
     * Avro specification's table: 1->2, 2->4, 4->9, 8->18, 16->38, 32->76) */
    return (int)((double)(8 * n - 1) * 0.30102999566398119521);
}

csvavro_status csvavro_schema_set_decimal(csvavro_schema *s, size_t i, int precision, int scale,
                                          int fixed_size, const char *fixed_name,
                                          csvavro_error *err) {
    if (i >= s->n_fields) return cav_err(err, CSVAVRO_E_USAGE, "decimal: no field %zu", i);
    cav_field *f = &s->fields[i];
    if (precision < 1 || precision > CAV_DECIMAL_MAX_PRECISION)
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": decimal precision %d is out of range (1..%d)", f->name,
                       precision, CAV_DECIMAL_MAX_PRECISION);
    if (scale < 0 || scale > precision)
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": decimal scale %d is out of range (0..precision %d)", f->name,
                       scale, precision);
    if (fixed_size < 0 || fixed_size > 64)
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": decimal fixed size %d is out of range (1..64)", f->name,
                       fixed_size);
    if (fixed_size && fixed_max_precision(fixed_size) < precision)
        return cav_err(err, CSVAVRO_E_SCHEMA,
                       "field \"%s\": a fixed of %d bytes holds at most %d decimal digits, not "
                       "precision %d",
                       f->name, fixed_size, fixed_max_precision(fixed_size), precision);
    char *fn = NULL;
    if (fixed_name) {
        fn = cav_strdup(fixed_name);
        if (!fn) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    cav_free(f->fixed_name);
    f->fixed_name = fn;
    f->precision = precision;
    f->scale = scale;
    f->fixed_size = fixed_size;
    f->type = fixed_size ? CSVAVRO_TYPE_DECIMAL_FIXED : CSVAVRO_TYPE_DECIMAL;
    return CSVAVRO_OK;
}

csvavro_status cav_schema_copy_decimal(csvavro_schema *dst, size_t di, const csvavro_schema *src,
                                       size_t si, csvavro_error *err) {
    const cav_field *f = &src->fields[si];
    if (f->type != CSVAVRO_TYPE_DECIMAL && f->type != CSVAVRO_TYPE_DECIMAL_FIXED) return CSVAVRO_OK;
    return csvavro_schema_set_decimal(dst, di, f->precision, f->scale, f->fixed_size, f->fixed_name,
                                      err);
}

int csvavro_schema_field_decimal(const csvavro_schema *s, size_t i, int *precision, int *scale,
                                 int *fixed_size, const char **fixed_name) {
    const cav_field *f = &s->fields[i];
    if (f->type != CSVAVRO_TYPE_DECIMAL && f->type != CSVAVRO_TYPE_DECIMAL_FIXED) return 0;
    if (precision) *precision = f->precision;
    if (scale) *scale = f->scale;
    if (fixed_size) *fixed_size = f->fixed_size;
    if (fixed_name) *fixed_name = f->fixed_name;
    return 1;
}

size_t csvavro_schema_field_count(const csvavro_schema *s) {
    return s->n_fields;
}
const char *csvavro_schema_field_name(const csvavro_schema *s, size_t i) {
    return s->fields[i].name;
}
const char *csvavro_schema_field_original(const csvavro_schema *s, size_t i) {
    return s->fields[i].original;
}
csvavro_type csvavro_schema_field_type(const csvavro_schema *s, size_t i) {
    return s->fields[i].type;
}
int csvavro_schema_field_nullable(const csvavro_schema *s, size_t i) {
    return s->fields[i].nullable;
}
const char *csvavro_schema_record_name(const csvavro_schema *s) {
    return s->record_name;
}
const char *csvavro_schema_namespace(const csvavro_schema *s) {
    return s->ns;
}

static bool ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* true if text, without its surrounding ASCII whitespace, is name */
static bool trimmed_equal(const char *text, const char *name) {
    while (ascii_space(*text))
        text++;
    size_t n = strlen(text), k = strlen(name);
    while (n && ascii_space(text[n - 1]))
        n--;
    return n == k && memcmp(text, name, n) == 0;
}

bool cav_schema_field_matches(const csvavro_schema *s, size_t i, const char *name) {
    return !strcmp(s->fields[i].name, name) || !strcmp(s->fields[i].original, name) ||
           trimmed_equal(s->fields[i].original, name);
}

static size_t edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > 127 || m > 127) return SIZE_MAX;
    size_t row[128];
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            int ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z') ca += 32;
            if (cb >= 'A' && cb <= 'Z') cb += 32;
            size_t best = diag + (ca != cb);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

const char *cav_schema_suggest(const csvavro_schema *s, const char *name) {
    const char *best = NULL;
    size_t bd = SIZE_MAX, nl = strlen(name);
    size_t limit = nl < 6 ? 2 : nl / 3 + 1;
    for (size_t i = 0; i < s->n_fields; i++) {
        const char *cand[2] = {s->fields[i].name, s->fields[i].original};
        for (int k = 0; k < 2; k++) {
            if (!cand[k]) continue;
            size_t d = edit_distance(name, cand[k]);
            if (d < bd) {
                bd = d;
                best = s->fields[i].name;
            }
        }
    }
    return bd <= limit ? best : NULL;
}

long csvavro_schema_find(const csvavro_schema *s, const char *name) {
    long i = index_get(s, s->by_name, name, false);
    if (i < 0) i = index_get(s, s->by_original, name, true);
    if (i >= 0) return i;
    for (size_t k = 0; k < s->n_fields; k++)
        if (trimmed_equal(s->fields[k].original, name)) return (long)k;
    return -1;
}
