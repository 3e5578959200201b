/*
 * csv_options.c — defaults and validation of csvavro_csv_options, and null-marker matching.
 *
 * The empty unquoted field is null unless null markers are given; given markers replace the
 * default (list "" among them to keep it).
 */
#include "csv.h"

#include <string.h>

void csvavro_csv_options_init(csvavro_csv_options *o) {
    memset(o, 0, sizeof *o);
    o->delimiter = ',';
    o->quote = '"';
    o->escape = 0;
    o->comment = 0;
    o->header = 1;
    o->encoding = CSVAVRO_ENCODING_UTF8;
    o->max_record_bytes = (size_t)64 << 20;
    o->on_error = CSVAVRO_ON_ERROR_FAIL;
    o->infer_rows = 20000;
    o->record_name = NULL;
    o->ns = NULL;
}

static bool is_line_end(char c) {
    return c == '\r' || c == '\n';
}

csvavro_status cav_csv_options_check(const csvavro_csv_options *o, csvavro_error *err) {
    CAV_RETURN_IF(o->delimiter == 0 || is_line_end(o->delimiter), err, CSVAVRO_E_USAGE,
                  "the delimiter must be one byte other than NUL, CR and LF");
    CAV_RETURN_IF(is_line_end(o->quote) || (o->quote && o->quote == o->delimiter), err,
                  CSVAVRO_E_USAGE, "the quote character must differ from the delimiter, CR, LF");
    CAV_RETURN_IF(o->escape && (is_line_end(o->escape) || o->escape == o->delimiter), err,
                  CSVAVRO_E_USAGE, "the escape character must differ from the delimiter, CR, LF");
    CAV_RETURN_IF(o->comment && (is_line_end(o->comment) || o->comment == o->delimiter ||
                                 o->comment == o->quote),
                  err, CSVAVRO_E_USAGE,
                  "the comment character must differ from the delimiter, quote, CR, LF");
    CAV_RETURN_IF(o->encoding != CSVAVRO_ENCODING_UTF8 && o->encoding != CSVAVRO_ENCODING_LATIN1,
                  err, CSVAVRO_E_USAGE, "unknown encoding");
    CAV_RETURN_IF(o->on_error > CSVAVRO_ON_ERROR_REJECT, err, CSVAVRO_E_USAGE,
                  "unknown on-error policy");
    CAV_RETURN_IF(o->max_record_bytes < 16 || o->max_record_bytes > ((size_t)1 << 30), err,
                  CSVAVRO_E_USAGE, "max-record-bytes must be between 16 bytes and 1 GiB");
    CAV_RETURN_IF(o->n_names && !o->names, err, CSVAVRO_E_USAGE, "names missing");
    return CSVAVRO_OK;
}

bool cav_csv_is_null(const csvavro_csv_options *o, const char *s, size_t n) {
    if (o->n_null_values == 0) return n == 0;
    for (size_t i = 0; i < o->n_null_values; i++) {
        const char *m = o->null_values[i];
        size_t ml = strlen(m);
        if (ml == n && memcmp(m, s, n) == 0) return true;
    }
    return false;
}
