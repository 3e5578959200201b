/*
 * batch.h — column batches: where the CSV reader, the filter and the Avro writer meet.
 *
 * A cav_batch holds up to `cap` rows of `n_cols` columns. Each column is a typed vector plus a
 * validity byte per row (1 = present, 0 = null); one byte per row rather than a bitmap keeps
 * the typed loops branch-free and simple. A column may be "unloaded" (loaded == false): the
 * CSV reader converts lazily, only the columns the filter and the projection need.
 *
 * Strings are views (pointer + length). They borrow either from the CSV split buffer (plain
 * fields) or from the batch's string heap (fields that needed unescaping or transcoding).
 * Lifetime: views are valid until the batch is reset or the split buffer is refilled,
 * whichever comes first.
 *
 * A selection vector (sel, n_sel) lists the row indices that survive the filter, ascending;
 * when sel == NULL every row 0..n_rows-1 is selected.
 *
 * Memory is reused: cav_batch_reset keeps every allocation, so the steady state of a worker
 * allocates nothing.
 */
#ifndef CAV_BATCH_H
#define CAV_BATCH_H

#include "../core/core.h"

typedef struct cav_strview {
    const char *ptr;
    uint32_t len;
} cav_strview;

typedef struct cav_column {
    csvavro_type type; /* storage: BOOLEAN->b8, INT/DATE->i32, LONG/TIMESTAMP*->i64,
                          FLOAT->f32, DOUBLE->f64, STRING/BYTES->str */
    bool loaded;       /* values converted for the current rows */
    bool not_null;     /* the field is non-nullable: a null here is a bad value of its record */
    uint8_t dec_precision, dec_scale; /* DECIMAL*: the field's precision and scale */
    uint16_t dec_size;                /* DECIMAL_FIXED: the fixed's size in bytes */
    uint8_t *valid;                   /* [cap] 1 = present, 0 = null */
    union {
        uint8_t *b8;
        int32_t *i32;
        int64_t *i64;
        float *f32;
        double *f64;
        cav_strview *str;
        void *any;
    } v;
} cav_column;

typedef struct cav_batch {
    uint32_t n_rows; /* rows currently held */
    uint32_t cap;    /* row capacity of every column */
    uint32_t n_cols;
    cav_column *cols;
    uint32_t *sel; /* selection vector (NULL = all rows); capacity cap */
    uint32_t n_sel;
    uint32_t *sel_store; /* owned storage for sel */
    /* Rows the CSV reader rejected while converting a column (on_error skip/reject): nonzero
     * = drop this row. Consumers AND it into the selection before output. */
    uint8_t *row_error; /* [cap] */
    uint32_t n_row_errors;
    /* string heap for unescaped/transcoded strings: a list of chunks that never move, so
     * views into it stay valid until reset; reset keeps the chunks for reuse */
    struct cav_heap_chunk *heap;
    size_t heap_used_total;
    size_t heap_max;
} cav_batch;

/* One value of a column's storage type, the same on every row: the value of a column an input
 * lacks (a --schema field's default, or null under --union-by-name). A string/bytes value
 * borrows its bytes from whoever built it (the job's plan), for as long as it is used. */
typedef struct cav_const_value {
    bool valid; /* false: null */
    union {
        uint8_t b8;
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        cav_strview str;
    } v;
} cav_const_value;

/* Element size in bytes of the storage of type t (0 for NULL). */
size_t cav_type_width(csvavro_type t);

/* Creates a batch of n_cols columns with the given types (types may be NULL: all STRING) and
 * row capacity cap. heap_max is the ceiling of the string heap (0 = unlimited). */
csvavro_status cav_batch_init(cav_batch *b, uint32_t n_cols, const csvavro_type *types,
                              uint32_t cap, size_t heap_max, csvavro_error *err);
void cav_batch_free(cav_batch *b);
/* Keeps allocations; marks all columns unloaded, n_rows = 0, sel = NULL, heap emptied. */
void cav_batch_reset(cav_batch *b);
/* Changes the type of a column (reallocating its storage if the width differs). */
csvavro_status cav_batch_set_type(cav_batch *b, uint32_t col, csvavro_type t, csvavro_error *err);
/* Returns len bytes of stable storage from the string heap (valid until reset/free), or NULL
 * with err set (CSVAVRO_E_LIMIT past heap_max, CSVAVRO_E_NOMEM). */
char *cav_batch_heap_alloc(cav_batch *b, size_t len, csvavro_error *err);

/* Number of selected rows and the i-th selected row index. */
static inline uint32_t cav_batch_selected(const cav_batch *b) {
    return b->sel ? b->n_sel : b->n_rows;
}
static inline uint32_t cav_batch_row(const cav_batch *b, uint32_t i) {
    return b->sel ? b->sel[i] : i;
}

/* ---------------------------------------------------------------- the schema object */

/* Largest decimal precision (digits) accepted: 10^76 fits 32 bytes of two's complement. */
#define CAV_DECIMAL_MAX_PRECISION 76

/* Internal layout of the public csvavro_schema (implemented in batch_schema.c). */
typedef struct cav_field {
    char *name;     /* valid Avro name */
    char *original; /* original header text */
    csvavro_type type;
    bool nullable;
    int precision, scale, fixed_size; /* DECIMAL, DECIMAL_FIXED */
    char *fixed_name;                 /* DECIMAL_FIXED: the fixed's name (NULL: derived) */
} cav_field;

struct csvavro_schema {
    char *record_name;
    char *ns;
    cav_field *fields;
    size_t n_fields;
    size_t cap_fields;
    /* open-addressing indexes (slot = field index + 1, 0 = empty; hcap a power of two, at
     * least twice n_fields): lookups by Avro name and by original text stay O(1), so that a
     * schema of 100 000 columns builds in linear time */
    uint32_t *by_name, *by_original;
    size_t hcap;
};

/* Index of the field whose Avro name is name, or -1 (exact match only; O(1)). */
long cav_schema_name_index(const csvavro_schema *s, const char *name);
/* Index of the first field whose original text is text, or -1 (exact match only; O(1)). */
long cav_schema_original_index(const csvavro_schema *s, const char *text);

/* True if name is field i's Avro name, its original header text, or that text without its
 * surrounding ASCII whitespace (what csvavro_schema_find matches). */
bool cav_schema_field_matches(const csvavro_schema *s, size_t i, const char *name);
/* The Avro name of the field closest to name (edit distance, case-insensitive), or NULL when
 * nothing is close: the "did you mean" of unknown column names. */
const char *cav_schema_suggest(const csvavro_schema *s, const char *name);

/* Gives field di of dst the decimal parameters of field si of src, when that is a decimal. */
csvavro_status cav_schema_copy_decimal(csvavro_schema *dst, size_t di, const csvavro_schema *src,
                                       size_t si, csvavro_error *err);

/* True if s is a valid Avro name: [A-Za-z_][A-Za-z0-9_]*. */
bool cav_avro_name_valid(const char *s);
/* True if s is a valid dotted namespace (each part a valid name); "" is valid. */
bool cav_avro_namespace_valid(const char *s);

#endif /* CAV_BATCH_H */
