/*
 * csv.h — the internal CSV reader: header reading, the range scanner and lazy typed columns.
 *
 * Main idea: one reused buffer per reader is refilled by pread; the scanner (AVX-512BW, AVX2,
 * SSE2 or scalar, picked once per reader) turns each 64-byte block into quote/delimiter/line-end
 * bit masks, derives the in-quote mask by prefix-XOR and walks the structural bits to record, per
 * row, the buffer offsets where fields begin. Nothing is converted while scanning: a column is
 * converted to its schema type only when cav_csv_reader_load_column asks for it.
 *
 * The scalar state machine (csv_scan.c: scalar_records) is the reference semantics. The SIMD
 * path handles only "regular" quoting (a quote opens only at a field start, a closing quote is
 * followed by a delimiter, a line end or a doubled quote); any other block falls back to the
 * scalar machine from the start of the current record, so both paths agree byte for byte.
 *
 * Invariants: a scan always starts at a record start (outside quotes); the buffer keeps 128
 * bytes of padding so 64-byte loads need no tail case; every field of a committed row lies in
 * the buffer until the next cav_csv_reader_next.
 */
#ifndef CAV_CSV_H
#define CAV_CSV_H

#include "../batch/batch.h"
#include "../core/core.h"
#include "../core/core_datetime.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct cav_csv_header {
    bool trailing_empty; /* the header ended with an empty name, dropped (keep_empty_columns
                            off): rows may carry that one empty field more */
    uint32_t n_cols;
    char **names;            /* original header texts (or --names / c1..cN) */
    int64_t data_start;      /* byte offset of the first data record */
    int64_t data_start_line; /* 1-based physical line of it */
} cav_csv_header;

/* Reads BOM, skip_rows, comment/blank lines and the header record (or the first record, to
 * count columns, with --no-header). An input without any record gives n_cols = 0 unless
 * names were given. */
csvavro_status cav_csv_read_header(csvavro_file *f, const csvavro_csv_options *o, cav_csv_header *h,
                                   csvavro_error *err);
void cav_csv_header_free(cav_csv_header *h);
/* OK when h has ref's columns (trimmed header texts, in order); else CSVAVRO_E_CSV naming file
 * `name` and how it differs from `ref_name`: columns added, removed, renamed (another name at
 * the same position) or the same ones in another order. */
csvavro_status cav_csv_header_diff(const cav_csv_header *ref, const char *ref_name,
                                   const cav_csv_header *h, const char *name, csvavro_error *err);

typedef struct cav_csv_reader cav_csv_reader;

csvavro_status cav_csv_reader_create(const csvavro_csv_options *o, const csvavro_schema *schema,
                                     uint32_t batch_rows, cav_csv_reader **out, csvavro_error *err);
void cav_csv_reader_free(cav_csv_reader *r);
csvavro_status cav_csv_reader_open_range(cav_csv_reader *r, csvavro_file *f,
                                         const char *display_path, int64_t start, int64_t end,
                                         bool aligned, csvavro_error *err);
csvavro_status cav_csv_reader_next(cav_csv_reader *r, cav_batch *b, csvavro_error *err);
/* How the next range's records map onto the batch columns (the schema's fields), set before
 * cav_csv_reader_open_range: records have n_fields fields; batch column c is field map[c], or
 * when map[c] < 0 (the input lacks it) the constant defs[c] on every row. map NULL: the
 * identity (n_fields must be the schema's field count). map and defs are borrowed until the
 * next call. Errors of a mapped column name the input's column position and the field's name.
 * Grows the offsets array when n_fields needs more (bounded by the caller's batch rows). */
csvavro_status cav_csv_reader_set_layout(cav_csv_reader *r, uint32_t n_fields, const int32_t *map,
                                         const cav_const_value *defs, csvavro_error *err);
/* Projection pushdown: need[c] (c < the schema's field count) tells whether the job loads batch
 * column c; NULL: every column (the default). The scanner then stores the field offsets of a
 * record only up to the last input field a needed column maps to and just counts the fields
 * after it (every record's field count is still checked: ragged records are found and reported
 * exactly as without it). Loading, or asking the text of, a column not needed is an error.
 * Applies to the next ranges (with their layouts); need is copied. CSVAVRO_SCAN_ALL=1 in the
 * environment turns the pushdown off (tests compare both). */
csvavro_status cav_csv_reader_set_needed(cav_csv_reader *r, const bool *need, csvavro_error *err);
/* Converts column col of the current batch for the rows of its selection (all rows when
 * b->sel is NULL): load the filter's columns before filtering and the output columns after,
 * and rows the filter dropped are never converted (nor their bad values reported). */
csvavro_status cav_csv_reader_load_column(cav_csv_reader *r, cav_batch *b, uint32_t col,
                                          csvavro_error *err);
/* Ends the current batch's bad-record bookkeeping (call after its column loads, before taking
 * reject lines out of the sink; cav_csv_reader_next calls it too): the batch's reject lines
 * are put into input order, and with max_errors the error names the first record over the
 * limit in input order. */
csvavro_status cav_csv_reader_batch_done(cav_csv_reader *r, csvavro_error *err);
void cav_csv_reader_set_reject_sink(cav_csv_reader *r, cav_buf *sink);
/* The range end is not known when the range opens (a split of a compressed input): give end
 * CAV_SIZE_UNKNOWN-like and a place the file fills in once it knows (-1 until then); the
 * reader takes *end_src + 1 as its end after every read (records starting at or before the
 * last own byte are the range's). NULL: the end given to open_range stays. */
void cav_csv_reader_set_end_source(cav_csv_reader *r, const int64_t *end_src);
/* From the header (cav_csv_header.trailing_empty): accept rows with one more field when that
 * field is empty (a non-empty one is a ragged record, never dropped silently). */
void cav_csv_reader_allow_trailing_empty(cav_csv_reader *r, bool on);
uint64_t cav_csv_reader_rejected(const cav_csv_reader *r);
int64_t cav_csv_reader_range_start(const cav_csv_reader *r);
int64_t cav_csv_reader_range_end(const cav_csv_reader *r);
int64_t cav_csv_reader_bytes_done(const cav_csv_reader *r);
csvavro_status cav_csv_count_lines(csvavro_file *f, int64_t offset, int64_t *line,
                                   csvavro_error *err);

/* ---- extras (tests, inference, the public row reader) ---- */

/* Scanner kinds. CSVAVRO_SIMD=scalar|sse2|avx2|avx512|vbmi2 in the environment forces one (if
 * the CPU has it); --escape always uses the scalar machine. AVX-512 means AVX-512BW; VBMI2 is
 * AVX-512BW with AVX512_VBMI2, whose byte compress stores a record's field ends at once. */
enum {
    CAV_CSV_SCALAR = 0,
    CAV_CSV_SSE2 = 1,
    CAV_CSV_AVX2 = 2,
    CAV_CSV_AVX512 = 3,
    CAV_CSV_VBMI2 = 4
};
/* Forces a scanner kind and a buffer size (bytes, >= 1) before open_range: tests use tiny
 * buffers to hit every refill boundary. */
void cav_csv_reader_tune(cav_csv_reader *r, int kind, size_t buffer_bytes);
int cav_csv_reader_kind(const cav_csv_reader *r);
/* 1-based number of the first record of the range (0 = unknown, the default: err->record is
 * then -1) and 1-based physical line of the range start (0 = unknown: computed on demand). */
void cav_csv_reader_set_base(cav_csv_reader *r, int64_t first_record, int64_t first_line);
/* Raw field of the current batch: bytes as in the file (quotes included) and whether the
 * field starts with the quote character. */
void cav_csv_reader_raw(const cav_csv_reader *r, uint32_t row, uint32_t col, const char **p,
                        size_t *len);
/* Field content: quotes stripped, doubled quotes/escapes resolved (into the batch heap when
 * needed), latin-1 transcoded. *is_null is set for null markers (unquoted fields only). */
csvavro_status cav_csv_reader_text(cav_csv_reader *r, cav_batch *b, uint32_t row, uint32_t col,
                                   const char **p, size_t *len, bool *is_null, csvavro_error *err);
/* Ceilings of the header (the first record when there is one): its column names end up in
 * every schema, manifest and output file header, copied several times, so a header is bounded
 * far below max-record-bytes; beyond them reading fails with CSVAVRO_E_LIMIT. */
#define CAV_CSV_MAX_HEADER_BYTES ((size_t)4 << 20)
#define CAV_CSV_MAX_COLUMNS 100000u
/* Rows per batch for a table of n_cols columns: at most want, and at most what keeps a batch
 * under CAV_CSV_MAX_BATCH_CELLS cells (row offsets, column values), so that a very wide CSV
 * (100 000 columns) takes memory bounded by configuration, not by its width times the rows. */
#define CAV_CSV_MAX_BATCH_CELLS ((size_t)1 << 20)
static inline uint32_t cav_csv_batch_rows(uint32_t want, size_t n_cols) {
    size_t max = CAV_CSV_MAX_BATCH_CELLS / (n_cols + 1);
    if (max < 1) max = 1;
    return want < max ? want : (uint32_t)max;
}
/* Whether the field starts with the quote character (a quoted field). */
bool cav_csv_reader_is_quoted(const cav_csv_reader *r, uint32_t row, uint32_t col);
/* The one rule for a quoted empty field (""): it is the empty value of a string or bytes
 * column and null in every other type (there is no empty number, date or boolean). convert
 * (csv_load.c), inference and `head` (csvavro_csv_use_schema) all apply it. */
static inline bool cav_csv_quoted_empty_is_null(csvavro_type t) {
    return t != CSVAVRO_TYPE_STRING && t != CSVAVRO_TYPE_BYTES;
}
/* Like cav_csv_reader_text without the UTF-8 check (bytes as they are; tests, inference). */
csvavro_status cav_csv_reader_field(cav_csv_reader *r, cav_batch *b, uint32_t row, uint32_t col,
                                    const char **p, size_t *len, bool *is_null, csvavro_error *err);
/* File offset of row `row` of the current batch. */
int64_t cav_csv_reader_row_offset(const cav_csv_reader *r, uint32_t row);

/* ---- Latin-1 (csv_value.c) ---- */

/* Bytes of the UTF-8 form of the Latin-1 text s[0..n) (n plus one per byte >= 0x80). */
size_t cav_latin1_utf8_len(const char *s, size_t n);
/* Writes the UTF-8 form of s[0..n) to out (cav_latin1_utf8_len bytes); returns its length. */
size_t cav_latin1_to_utf8(const char *s, size_t n, char *out);

/* ---- typed value parsing (csv_value.c) ---- */

/* Each returns true and the value when s[0..n) is exactly a value of the type. */
bool cav_parse_bool(const char *s, size_t n, uint8_t *out);
bool cav_parse_long(const char *s, size_t n, int64_t *out);
/* Like cav_parse_long but tells an all-digit integer that overflows int64 (*overflow). */
bool cav_parse_long_ex(const char *s, size_t n, int64_t *out, bool *overflow);
/* cav_parse_long with its fast path inline (the column loader's loop): up to 18 digits after
 * an optional sign cannot overflow; anything else goes to cav_parse_long_ex. */
static inline bool cav_parse_long_inline(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i < n && n - i <= 18) {
        int64_t v = 0;
        for (size_t k = i; k < n; k++) {
            unsigned d = (unsigned)(s[k] - '0');
            if (d > 9) return false;
            v = v * 10 + d;
        }
        *out = neg ? -v : v;
        return true;
    }
    bool ovf;
    return cav_parse_long_ex(s, n, out, &ovf);
}
bool cav_parse_double(const char *s, size_t n, double *out);

/* Eight digits, one per byte as 0..9 with the most significant in the lowest byte (the text
 * order of a little-endian load), as their value: pairs, then quads, then the whole (SWAR). */
static inline uint64_t cav_swar_digits8(uint64_t x) {
    x = x * 10 + (x >> 8); /* bytes 0, 2, 4, 6: the two-digit groups */
    return ((x & 0x000000FF000000FFull) * (100 + (1000000ull << 32)) +
            ((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32))) >>
           32;
}
/* High bit of every byte of x (a text word XOR '0' in every byte) that is not a digit 0..9. */
static inline uint64_t cav_swar_nondigit(uint64_t x) {
    return (((x & 0x7F7F7F7F7F7F7F7Full) + 0x7676767676767676ull) | x) & 0x8080808080808080ull;
}

/* cav_parse_double for a field in a padded buffer: s[0..n + 17) must be readable (the CSV
 * reader's buffer has 128 bytes of padding after its data). The shapes [+-]?D{1,7}.D{1,8} and
 * [+-]?D{1,7} are read 8 bytes at a time: the integer m of their digits is below 10^15
 * (exact as a double) and the scale at most 10^8 (exact), so one correctly rounded division
 * gives strtod's result, as cav_parse_double's own fast path does with the same m and scale.
 * Every other text goes to cav_parse_double. */
static inline bool cav_parse_double_padded(const char *s, size_t n, double *out) {
    static const double p10[9] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    static const uint64_t u10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    const uint64_t zeros = 0x3030303030303030ull;
    const bool neg = n && s[0] == '-';
    const size_t sg = n && (s[0] == '-' || s[0] == '+');
    const char *t = s + sg;
    const size_t len = n - sg;
    uint64_t a;
    memcpy(&a, t, 8);
    a ^= zeros;
    const uint64_t nd = cav_swar_nondigit(a);
    const unsigned p = nd ? (unsigned)__builtin_ctzll(nd) >> 3 : 8; /* first non-digit */
    uint64_t m;
    unsigned q = 0;
    if (len >= 1 && len <= 7 && p >= len) { /* an integer of len digits */
        m = cav_swar_digits8(a << (8 * (8 - len)));
    } else if (p >= 1 && p <= 7 && t[p] == '.' && len >= p + 2 && len <= p + 9) {
        q = (unsigned)(len - p - 1); /* 1..8 fraction digits */
        uint64_t f;
        memcpy(&f, t + p + 1, 8);
        f = (f ^ zeros) << (8 * (8 - q));
        if (cav_swar_nondigit(f)) return cav_parse_double(s, n, out);
        m = cav_swar_digits8(a << (8 * (8 - p))) * u10[q] + cav_swar_digits8(f);
    } else {
        return cav_parse_double(s, n, out);
    }
    double v = (double)m / p10[q];
    *out = neg ? -v : v;
    return true;
}
bool cav_parse_float(const char *s, size_t n, float *out);
bool cav_parse_date(const char *s, size_t n, int32_t *days);
/* Exact decimal text [+-]?(D+(.D*)?|.D+) of at most `precision` significant integer+scale digits
 * and at most `scale` fractional digits -> the unscaled integer as big-endian two's complement
 * in out[0..*len): the fewest bytes (fixed_size 0, Avro bytes) or exactly fixed_size bytes.
 * No rounding, no exponent. Returns NULL, or why the text is refused. */
const char *cav_parse_decimal(const char *s, size_t n, int precision, int scale, int fixed_size,
                              uint8_t out[64], size_t *len);
/* Timestamp in µs since the epoch; *has_zone tells whether a Z/±HH:MM was present (then the
 * value is UTC). A bare date is not a timestamp here. */
bool cav_parse_timestamp(const char *s, size_t n, int64_t *micros, bool *has_zone);
/* The two halves of a timestamp s[0..n): the date (s[0..10)) as days, and the rest
 * (separator, time, fraction, zone) as µs to add (the zone offset already subtracted). */
bool cav_parse_ts_date(const char *s, size_t n, int64_t *days);
bool cav_parse_ts_tail(const char *s, size_t n, int64_t *tod, bool *has_zone);

/* "HH:MM:SS" at s as seconds of the day, eight bytes tested at once (SWAR): digits at bytes
 * 0,1,3,4,6,7, ':' at 2 and 5, hours <= 23, minutes and seconds <= 59 — what cav_dt_time_of
 * accepts there. False means "not this shape", not "invalid": the caller falls back. */
static inline bool cav_hms_swar(const char *s, int64_t *secs) {
    const uint64_t dig = 0xFFFF00FFFF00FFFFull, zeros = 0x3030003030003030ull;
    uint64_t w;
    memcpy(&w, s, 8);
    uint64_t x = w & dig;
    if ((w & ~dig) != 0x00003A00003A0000ull || (x & 0xF0F000F0F000F0F0ull) != zeros ||
        ((x + 0x0606000606000606ull) & 0xF0F000F0F000F0F0ull) != zeros)
        return false;
    x -= zeros; /* each digit byte now 0..9, no borrow */
    unsigned hh = (unsigned)(x & 0xFF) * 10 + (unsigned)(x >> 8 & 0xFF);
    unsigned mi = (unsigned)(x >> 24 & 0xFF) * 10 + (unsigned)(x >> 32 & 0xFF);
    unsigned ss = (unsigned)(x >> 48 & 0xFF) * 10 + (unsigned)(x >> 56 & 0xFF);
    if (hh > 23 || mi > 59 || ss > 59) return false;
    *secs = (int64_t)(hh * 3600 + mi * 60 + ss);
    return true;
}

/* "YYYY-MM-DD" at s (10 bytes) checked 8 + 2 bytes at once: the first eight are the word
 * date8 (as loaded, little-endian), the day's two digits dd2 (bytes 8 and 9). Digits where
 * digits belong, '-' at 4 and 7, a real proleptic Gregorian day (what cav_dt_date accepts);
 * *days since 1970-01-01. */
static inline bool cav_date_swar(uint64_t date8, unsigned dd2, int64_t *days) {
    const uint64_t zeros = 0x3030303030303030ull;
    uint64_t x = date8 ^ zeros;
    /* bytes 4 and 7 must be '-' (0x2D ^ 0x30 = 0x1D); the others digits */
    if ((x & 0xFF0000FF00000000ull) != 0x1D00001D00000000ull ||
        (cav_swar_nondigit(x) & 0x0080800080808080ull) ||
        (cav_swar_nondigit((dd2 ^ 0x3030u)) & 0x8080u))
        return false;
    unsigned y = (unsigned)(x & 0xFF) * 1000 + (unsigned)(x >> 8 & 0xFF) * 100 +
                 (unsigned)(x >> 16 & 0xFF) * 10 + (unsigned)(x >> 24 & 0xFF);
    unsigned mo = (unsigned)(x >> 40 & 0xFF) * 10 + (unsigned)(x >> 48 & 0xFF);
    unsigned dd = dd2 ^ 0x3030u;
    unsigned d = (dd & 0xFF) * 10 + (dd >> 8);
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    /* days of the year before the first of each month, February counted as 28 days */
    static const unsigned short before[12] = {0,   31,  59,  90,  120, 151,
                                              181, 212, 243, 273, 304, 334};
    if (mo - 1 > 11 || d < 1) return false;
    if (y - 1901 <= 2099 - 1901) {
        /* 1901..2099: every fourth year is a leap year (2000 by its 400 rule), so the days come
         * without the general formula: 365 a year plus the leap days since 1970, which
         * floor((y - 1969) / 4) counts on both sides of 1970 (written with a positive
         * dividend: (y - 1569) / 4 - 100) */
        bool leap = (y & 3) == 0;
        if (d > (unsigned)dim[mo - 1] + (mo == 2 && leap)) return false;
        *days = ((int64_t)y - 1970) * 365 + (int64_t)((y - 1569) / 4) - 100 + before[mo - 1] +
                (mo > 2 && leap) + d - 1;
        return true;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > (unsigned)dim[mo - 1] + (mo == 2 && leap)) return false;
    *days = cav_days_from_civil(y, mo, d);
    return true;
}

/* Inference classes of one text value, ordered for widening (csv_infer.c). */
typedef enum cav_infer_class {
    CAV_INFER_NONE = 0, /* only nulls so far */
    CAV_INFER_BOOL,
    CAV_INFER_LONG,
    CAV_INFER_DOUBLE,
    CAV_INFER_DATE,
    CAV_INFER_LOCAL_TS,
    CAV_INFER_INSTANT,
    CAV_INFER_STRING
} cav_infer_class;
cav_infer_class cav_infer_classify(const char *s, size_t n);
cav_infer_class cav_infer_join(cav_infer_class a, cav_infer_class b);
/* csvavro_csv_infer with `threads` (>= 2: a sampled input's windows on two threads; the
 * schema is the one-thread one) */
csvavro_status cav_csv_infer_threads(csvavro_fs *fs, const char *const *paths, size_t n_paths,
                                     const csvavro_csv_options *o, int threads,
                                     csvavro_schema **out, csvavro_error *err);

/* Options: validation and null markers (csv_options.c). */
csvavro_status cav_csv_options_check(const csvavro_csv_options *o, csvavro_error *err);
bool cav_csv_is_null(const csvavro_csv_options *o, const char *s, size_t n);

#endif /* CAV_CSV_H */
