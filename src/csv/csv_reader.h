/*
 * csv_reader.h — the layout of cav_csv_reader, shared by the scanner (csv_scan.c) and the
 * column loader (csv_load.c). Nothing outside src/csv includes it.
 *
 * Rows of the current batch are stored as `stride` uint32 buffer offsets each: field i < keep
 * spans [offs[i], offs[i+1] - 1) — the byte at offs[i+1] - 1 is its delimiter or line end —
 * and offs[end_slot] - 1 is the record's line end (the last real field's delimiter after a
 * dropped empty trailing field). Without a projection keep = n_cols, stride = n_cols + 1 and
 * end_slot = n_cols (the end of the last field is the record end); with one (projection
 * pushdown, cav_csv_reader_set_needed) only the fields up to the last one the job needs are
 * stored, stride = keep + 2, and the scanner only counts the fields after them.
 */
#ifndef CAV_CSV_READER_H
#define CAV_CSV_READER_H

#include "csv.h"

struct cav_csv_reader {
    csvavro_csv_options o; /* copy; list pointers borrowed from the caller */
    uint32_t n_cols;       /* fields of a record (the input's columns) */
    uint32_t n_out;        /* batch columns (the schema's fields) */
    uint32_t offs_cols;    /* n_cols the offs array was sized for */
    uint32_t keep;         /* fields whose offsets are stored (see above): <= n_cols */
    uint32_t stride;       /* uint32 offsets per row: min(keep, n_cols - 1) + 2 */
    uint32_t end_slot;     /* stride - 1: the record end's slot */
    uint8_t *need;         /* [n_out] batch columns the job loads (NULL: all) */
    bool pushdown;         /* projection honoured (off: CSVAVRO_SCAN_ALL=1 in the environment) */
    const int32_t *map;    /* NULL: batch column c is field c; else field map[c], -1: absent */
    const cav_const_value *defs; /* [n_out] the value of an absent column (map[c] < 0) */
    csvavro_type *types;
    char **col_names;
    uint32_t batch_rows;
    int kind; /* CAV_CSV_SCALAR / SSE2 / AVX2 */
    bool pclmul;
    size_t buf_bytes; /* configured buffer size */

    /* buffer: bytes [0, len) hold the file from buf_off; 128 bytes of padding after cap */
    uint8_t *buf;
    size_t cap;
    size_t len;
    int64_t buf_off;
    bool eof;   /* buf holds the file up to its end (a virtual '\n' sits at buf[len]) */
    size_t pos; /* next record start, relative to buf */
    size_t lim; /* len, or len + 1 with the virtual line end */

    bool trailing_empty; /* see cav_csv_reader_allow_trailing_empty */

    csvavro_file *f;
    char *path;
    int64_t file_size;
    int64_t start, end;
    const int64_t *end_src; /* cav_csv_reader_set_end_source */
    int64_t range_start;    /* -1 until the first record is seen */
    bool done;
    bool opened;

    /* current batch */
    uint32_t *offs;    /* batch_rows * stride (+ slack) */
    uint64_t *row_rec; /* 0-based record index within the range of each row */
    uint32_t n_rows;
    int8_t ascii; /* the current batch's bytes: 1 all ASCII, 0 not, -1 not looked at yet */
    bool plain;   /* options under which a field is its raw bytes (see cav_csv_reader_create) */
    /* the current batch's bytes may hold the quote character: set by the mask scanner for a
     * block that has one and whenever the scalar machine scans; false means no field of the
     * batch is quoted, so a column load need not look at a field's first byte */
    bool quotes;
    uint64_t rec_seen; /* records seen in the range (rejected ones included) */
    int64_t first_record, first_line;

    uint64_t rejected;
    cav_buf *sink;
    /* Bad records of the current batch, in the order they were found: the scanner finds the
     * structural ones (ragged, quoting) while filling the batch, the column loads find the value
     * ones afterwards, column by column. cav_csv_reader_batch_done puts their reject lines into
     * input order and applies --max-errors to the records in that order. */
    struct cav_csv_bad *bad;
    size_t n_bad, cap_bad;
    uint64_t rejected_before;      /* r->rejected when the batch's first bad record came */
    bool over_limit;               /* more than max_errors: the scanner ends the batch here */
    int64_t line_at_off, line_off; /* cached: physical line of byte line_off (0 = unknown) */

    csvavro_status pending; /* a deferred FAIL error (returned by the next call) */
    csvavro_error pending_err;
};

typedef struct cav_csv_bad {
    uint64_t rec_index; /* input order */
    int64_t offset;
    size_t at, len; /* its reject line in the sink */
    int32_t column;
    csvavro_status st;
    char *reason, *value; /* copies, only with max_errors */
    size_t value_len;
} cav_csv_bad;

/* Reports a bad record (ragged, bad quoting, bad value) according to the policy: FAIL returns
 * the error; SKIP/REJECT count it (and write a reject line) and return OK unless max_errors is
 * exceeded. raw = the record bytes. */
csvavro_status cav_csv_bad_record(cav_csv_reader *r, int64_t rec_off, const uint8_t *raw,
                                  size_t raw_len, uint64_t rec_index, int32_t column,
                                  const char *value, size_t value_len, csvavro_status st,
                                  const char *reason, csvavro_error *err);

/* True when every byte of the current batch's rows is ASCII, so that every field (and any
 * unescaped copy of one) is valid UTF-8; computed once per batch, on the first call. */
bool cav_csv_reader_batch_ascii(cav_csv_reader *r);
/* The same with the cached answer read inline: it is asked once per field. */
static inline bool cav_csv_batch_ascii(cav_csv_reader *r) {
    return r->ascii >= 0 ? r->ascii == 1 : cav_csv_reader_batch_ascii(r);
}

#endif
