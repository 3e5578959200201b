/*
 * batch_column.c — typed column vectors, selection vectors and the string heap.
 *
 * Columns are allocated once at the batch's capacity and reused; the string heap is a list of
 * chunks so that handing out memory never moves earlier strings.
 */
#include "batch.h"

#include <string.h>

typedef struct cav_heap_chunk {
    struct cav_heap_chunk *next;
    size_t cap;
    size_t used;
    char data[];
} cav_heap_chunk;

#define HEAP_CHUNK_MIN (256u * 1024u)

size_t cav_type_width(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_NULL:
        return 0;
    case CSVAVRO_TYPE_BOOLEAN:
        return 1;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE:
        return 4;
    case CSVAVRO_TYPE_FLOAT:
        return 4;
    case CSVAVRO_TYPE_DOUBLE:
        return 8;
    case CSVAVRO_TYPE_LONG:
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS:
        return 8;
    case CSVAVRO_TYPE_STRING:
    case CSVAVRO_TYPE_BYTES:
    case CSVAVRO_TYPE_DECIMAL:
    case CSVAVRO_TYPE_DECIMAL_FIXED:
        return sizeof(cav_strview);
    }
    return 8;
}

static csvavro_status alloc_column(cav_column *c, csvavro_type t, uint32_t cap,
                                   csvavro_error *err) {
    c->type = t;
    c->loaded = false;
    size_t w = cav_type_width(t);
    c->v.any = cav_malloc((w ? w : 1) * (size_t)cap);
    if (!c->v.any) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory allocating a column");
    return CSVAVRO_OK;
}

csvavro_status cav_batch_init(cav_batch *b, uint32_t n_cols, const csvavro_type *types,
                              uint32_t cap, size_t heap_max, csvavro_error *err) {
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->n_cols = n_cols;
    b->heap_max = heap_max ? heap_max : SIZE_MAX;
    b->cols = cav_calloc(n_cols ? n_cols : 1, sizeof *b->cols);
    b->sel_store = cav_malloc(sizeof(uint32_t) * (cap ? cap : 1));
    b->row_error = cav_calloc(cap ? cap : 1, 1);
    if (!b->cols || !b->sel_store || !b->row_error) {
        cav_batch_free(b);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory allocating a batch");
    }
    for (uint32_t i = 0; i < n_cols; i++) {
        cav_column *c = &b->cols[i];
        c->valid = cav_malloc(cap ? cap : 1);
        csvavro_status st = c->valid
                                ? alloc_column(c, types ? types[i] : CSVAVRO_TYPE_STRING, cap, err)
                                : cav_err(err, CSVAVRO_E_NOMEM, "out of memory allocating a batch");
        if (st != CSVAVRO_OK) {
            cav_batch_free(b);
            return st;
        }
    }
    return CSVAVRO_OK;
}

void cav_batch_free(cav_batch *b) {
    if (!b) return;
    if (b->cols) {
        for (uint32_t i = 0; i < b->n_cols; i++) {
            cav_free(b->cols[i].valid);
            cav_free(b->cols[i].v.any);
        }
    }
    cav_free(b->cols);
    cav_free(b->sel_store);
    cav_free(b->row_error);
    cav_heap_chunk *h = b->heap;
    while (h) {
        cav_heap_chunk *n = h->next;
        cav_free(h);
        h = n;
    }
    memset(b, 0, sizeof *b);
}

void cav_batch_reset(cav_batch *b) {
    b->n_rows = 0;
    b->sel = NULL;
    b->n_sel = 0;
    if (b->n_row_errors) memset(b->row_error, 0, b->cap);
    b->n_row_errors = 0;
    for (uint32_t i = 0; i < b->n_cols; i++)
        b->cols[i].loaded = false;
    for (cav_heap_chunk *h = b->heap; h; h = h->next)
        h->used = 0;
    b->heap_used_total = 0;
}

csvavro_status cav_batch_set_type(cav_batch *b, uint32_t col, csvavro_type t, csvavro_error *err) {
    assert(col < b->n_cols);
    cav_column *c = &b->cols[col];
    if (cav_type_width(c->type) == cav_type_width(t)) {
        c->type = t;
        c->loaded = false;
        return CSVAVRO_OK;
    }
    void *old = c->v.any;
    CAV_TRY(alloc_column(c, t, b->cap, err));
    cav_free(old);
    return CSVAVRO_OK;
}

char *cav_batch_heap_alloc(cav_batch *b, size_t len, csvavro_error *err) {
    if (len > b->heap_max || b->heap_used_total > b->heap_max - len) {
        cav_err(err, CSVAVRO_E_LIMIT, "string heap ceiling of %zu bytes reached", b->heap_max);
        return NULL;
    }
    cav_heap_chunk **link = &b->heap;
    for (cav_heap_chunk *h = b->heap; h; h = h->next) {
        if (h->cap - h->used >= len) {
            char *p = h->data + h->used;
            h->used += len;
            b->heap_used_total += len;
            return p;
        }
        link = &h->next;
    }
    size_t cap = len > HEAP_CHUNK_MIN ? len : HEAP_CHUNK_MIN;
    cav_heap_chunk *h = cav_malloc(sizeof *h + cap);
    if (!h) {
        cav_err(err, CSVAVRO_E_NOMEM, "out of memory growing the string heap");
        return NULL;
    }
    h->next = NULL;
    h->cap = cap;
    h->used = len;
    *link = h;
    b->heap_used_total += len;
    return h->data;
}
