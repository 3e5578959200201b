/*
 * filter_public.c — the public face of the filter language (csvavro_filter_*): compile and check
 * an expression against a schema without evaluating it (for tools: --dry-run, validation).
 * A csvavro_filter is a thin wrapper around the internal cav_filter.
 */
#include "filter.h"

struct csvavro_filter {
    cav_filter *e;
};

csvavro_status csvavro_filter_compile(const char *expr, const csvavro_schema *schema,
                                      csvavro_filter **out, csvavro_error *err) {
    if (!out) return cav_err(err, CSVAVRO_E_USAGE, "csvavro_filter_compile: NULL out");
    *out = NULL;
    csvavro_filter *f = cav_calloc(1, sizeof *f);
    if (!f) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory compiling the filter expression");
    csvavro_status st = cav_filter_compile(expr, schema, &f->e, err);
    if (st != CSVAVRO_OK) {
        cav_free(f);
        return st;
    }
    *out = f;
    return CSVAVRO_OK;
}

void csvavro_filter_free(csvavro_filter *f) {
    if (!f) return;
    cav_filter_free(f->e);
    cav_free(f);
}

const char *csvavro_filter_text(const csvavro_filter *f) {
    return cav_filter_text(f->e);
}

size_t csvavro_filter_column_count(const csvavro_filter *f) {
    const uint32_t *cols;
    return cav_filter_columns(f->e, &cols);
}

size_t csvavro_filter_column(const csvavro_filter *f, size_t i) {
    const uint32_t *cols;
    size_t n = cav_filter_columns(f->e, &cols);
    return i < n ? cols[i] : (size_t)-1;
}
