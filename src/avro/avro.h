/*
 * avro.h — internal interface of the avro module: the object container writer used by the
 * exec module, the block codecs, and the varint helpers shared by the writer and the reader.
 *
 * Writer model: rows of a cav_batch are encoded column by column into a block buffer (sizes
 * first, then every column writes at its row offsets), the block is compressed with the file's
 * codec and appended as `count, size, data, sync`. A block is flushed once its uncompressed size
 * reaches options.block_size; a single record larger than that is still written (its own block).
 * Memory is bounded by block_size plus one batch of encoded rows.
 */
#ifndef CAV_AVRO_H
#define CAV_AVRO_H

#include "batch/batch.h"
#include "core/core.h"
#include "core/core_varint.h"

/* Defaults (documented in csvavro(1), AVRO OUTPUT). */
#define CAV_AVRO_DEFAULT_BLOCK_SIZE ((size_t)1 << 20) /* 1 MiB uncompressed */
#define CAV_AVRO_DEFAULT_MAX_BLOCK ((size_t)1 << 30)  /* reader ceiling: 1 GiB */
#define CAV_AVRO_MAX_HEADER ((size_t)64 << 20)        /* header metadata ceiling */

typedef struct cav_avro_writer cav_avro_writer;

/* Writes an object container file to `out` (a csvavro_file opened for writing; not closed by the
 * writer). sync: the 16-byte marker. write_header=false writes only blocks (used to append the
 * blocks of many splits into one file whose header was written separately with the same sync). */
csvavro_status cav_avro_writer_create(const csvavro_schema *schema, const csvavro_avro_options *o,
                                      const uint8_t sync[16], csvavro_file *out, bool write_header,
                                      cav_avro_writer **w, csvavro_error *err);
/* Encodes the selected rows of b (cav_batch_selected/cav_batch_row, skipping rows with
 * b->row_error[row] != 0). Output field i of the schema takes batch column col_map[i]; those
 * columns are loaded (typed exactly as the schema field's type). Column-at-a-time typed loops. */
csvavro_status cav_avro_writer_append(cav_avro_writer *w, const cav_batch *b,
                                      const uint32_t *col_map, csvavro_error *err);
/* Starts a new file `out` with a writer whose previous file is finished (or abandoned after an
 * error): same schema and options, new sync marker; the pending block is dropped, the counters
 * restart at 0, and the buffers and codec context are kept, so a worker writing one file per
 * split allocates (and page-faults) its block buffers once. */
csvavro_status cav_avro_writer_restart(cav_avro_writer *w, const uint8_t sync[16],
                                       csvavro_file *out, bool write_header, csvavro_error *err);
/* Flushes the last block. The writer may be freed afterwards; `out` stays open. */
csvavro_status cav_avro_writer_finish(cav_avro_writer *w, csvavro_error *err);
void cav_avro_writer_free(cav_avro_writer *w);
uint64_t cav_avro_writer_rows(const cav_avro_writer *w);
uint64_t cav_avro_writer_bytes(const cav_avro_writer *w); /* bytes written to out */
/* Sync marker: random from the OS (getrandom) or derived from (seed, file_index)
 * deterministically. */
csvavro_status cav_avro_sync_marker(const csvavro_avro_options *o, uint64_t file_index,
                                    uint8_t out[16], csvavro_error *err);
/* Writes only the container header (magic, metadata, sync) — for the single-output-file mode. */
csvavro_status cav_avro_write_header(const csvavro_schema *schema, const csvavro_avro_options *o,
                                     const uint8_t sync[16], csvavro_file *out, csvavro_error *err);

/* ---------------------------------------------------------------- codecs (avro_codec.c) */

/* Reusable compressor/decompressor state (one per writer or reader; created lazily). */
typedef struct cav_avro_codec_ctx {
    void *deflate_c; /* struct libdeflate_compressor */
    int deflate_level;
    void *zstd_c; /* ZSTD_CCtx */
    void *zstd_d; /* ZSTD_DCtx */
} cav_avro_codec_ctx;

void cav_avro_codec_ctx_free(cav_avro_codec_ctx *ctx);
/* Compresses src into dst (reset first; grows within its ceiling). level INT32_MIN = default. */
csvavro_status cav_avro_compress(cav_avro_codec_ctx *ctx, csvavro_codec c, int level,
                                 const uint8_t *src, size_t n, cav_buf *dst, csvavro_error *err);
/* Decompresses a block into dst (reset first). The output may not exceed max bytes
 * (CSVAVRO_E_LIMIT otherwise); corrupt input (including a bad snappy CRC) is
 * CSVAVRO_E_CORRUPT. */
csvavro_status cav_avro_decompress(cav_avro_codec_ctx *ctx, csvavro_codec c, const uint8_t *src,
                                   size_t n, cav_buf *dst, size_t max, csvavro_error *err);

/* Our snappy raw-format encoder (avro_snappy.c; libsnappy decodes, and compresses the
 * fragments that repeat a lot). cav_snappy_bound(n): the output buffer size (cap, at least that)
 * cav_snappy_compress needs for n input bytes (n <= UINT32_MAX, the format's limit). Returns the
 * compressed size (<= cav_snappy_bound(n) - 16: the rest is write slack). Deterministic: the
 * same input gives the same bytes (where libsnappy can be loaded; see below). */
size_t cav_snappy_bound(size_t n);
size_t cav_snappy_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);
/* libsnappy is loaded on first use (core_dl.h): cav_snappy_load loads it (CSVAVRO_E_UNSUPPORTED
 * naming the library when it cannot be), after which the two decoding calls below are
 * libsnappy's snappy_uncompressed_length and snappy_uncompress (true: SNAPPY_OK). The encoder
 * loads it itself when a block repeats enough for libsnappy's thorough mode, and goes on in its
 * fast mode when it cannot (the output is valid either way, only larger). */
csvavro_status cav_snappy_load(csvavro_error *err);
bool cav_snappy_uncompressed_length(const uint8_t *src, size_t n, size_t *len);
bool cav_snappy_uncompress(const uint8_t *src, size_t n, uint8_t *dst, size_t *len);

/* ---------------------------------------------------------------- any writer schema (avro_tree.c)
 */

typedef enum cav_avro_kind {
    CAV_AK_NULL,
    CAV_AK_BOOLEAN,
    CAV_AK_INT,
    CAV_AK_LONG,
    CAV_AK_FLOAT,
    CAV_AK_DOUBLE,
    CAV_AK_BYTES,
    CAV_AK_STRING,
    CAV_AK_RECORD,
    CAV_AK_ENUM,
    CAV_AK_ARRAY,
    CAV_AK_MAP,
    CAV_AK_UNION,
    CAV_AK_FIXED
} cav_avro_kind;

typedef enum cav_avro_logical {
    CAV_AL_NONE,
    CAV_AL_DATE,
    CAV_AL_TIME_MILLIS,
    CAV_AL_TIME_MICROS,
    CAV_AL_TS_MILLIS,
    CAV_AL_TS_MICROS,
    CAV_AL_TS_NANOS,
    CAV_AL_LTS_MILLIS,
    CAV_AL_LTS_MICROS,
    CAV_AL_LTS_NANOS,
    CAV_AL_DECIMAL
} cav_avro_logical;

/* One type of a writer schema. Records: n fields, labels = names, kids = types. Enums: n
 * symbols in labels. Unions: n branches in kids, null_branch (or -1), wrap = more than one
 * non-null branch (the JSON then names the branch). Arrays/maps: kids[0] = items/values. */
typedef struct cav_avro_node {
    cav_avro_kind kind;
    cav_avro_logical logical;
    int32_t precision, scale; /* decimal */
    char *name;               /* full name of a record, enum or fixed */
    size_t n;
    struct cav_avro_node **kids;
    char **labels;
    uint64_t size; /* fixed */
    int null_branch;
    bool wrap;
    bool min0; /* a value may take 0 bytes */
} cav_avro_node;

typedef struct cav_avro_tree {
    cav_avro_node *root;
    cav_avro_node **all; /* every node (owned) */
    size_t n_all, cap_all;
} cav_avro_tree;

/* Parses any valid writer schema (JSON text of len bytes). CSVAVRO_E_CORRUPT names what is
 * wrong. Free with cav_avro_tree_free. */
csvavro_status cav_avro_tree_parse(const char *json, size_t len, cav_avro_tree *t,
                                   csvavro_error *err);
void cav_avro_tree_free(cav_avro_tree *t);
const char *cav_avro_kind_name(cav_avro_kind k);

/* ---------------------------------------------------------------- resolution (avro_merge.c) */

/* Data written as w reads as r under Avro's schema resolution (the subset avro_merge.c
 * describes); root: w and r are the top-level types (a top-level record's name may differ).
 * why gets the first reason when not. */
bool cav_avro_resolves(const cav_avro_node *w, const cav_avro_node *r, char *why, size_t cap);
/* The branch of union r that reads a value of writer type w (same type first, then a
 * promotion), or -1. */
int cav_avro_union_branch(const cav_avro_node *r, const cav_avro_node *w);
/* avro_read.c: the next record decoded with the file's writer schema and encoded for type t
 * (cav_avro_resolves(writer, t) holds), appended to o; *eof at the end of the file. */
csvavro_status cav_avro_reader_next_resolved(csvavro_avro_reader *r, const cav_avro_node *t,
                                             cav_buf *o, bool *eof, csvavro_error *err);
const cav_avro_node *cav_avro_reader_tree(const csvavro_avro_reader *r);

/* ---------------------------------------------------------------- picking scalars */

/* One scalar value picked from a record (cav_avro_reader_next_picked); present false: null (a
 * null value, or a null record on its path). i: boolean (0/1), int, long and their logical
 * types, an enum's index; d: float, double; p/len: string, bytes, fixed, an enum's symbol
 * (borrowed until the reader's next call). */
typedef struct cav_avro_val {
    bool present;
    int64_t i;
    double d;
    const uint8_t *p;
    size_t len;
} cav_avro_val;

/* What to pick from a record of the reading schema (cav_avro_reader_reading_tree): field f's
 * value goes to vals[leaf[f]] when leaf[f] >= 0 (a scalar, or a union holding one; any other
 * value is skipped and reads as null); sub[f] (not NULL) descends into field f, a record or a
 * union holding one (a null, or another branch, makes every value below it null); any other
 * field is skipped (parsed and checked, not kept). */
typedef struct cav_avro_pick {
    size_t n; /* the record's fields */
    int32_t *leaf;
    struct cav_avro_pick **sub;
} cav_avro_pick;

/* The next record (read as the reader schema when csvavro_avro_reader_use_schema set one),
 * with the values p picks in vals[0 .. n_vals) (each null first); *eof at the end of the file.
 * A file is read either this way or as JSON/CSV/columns, not mixed within a block. */
csvavro_status cav_avro_reader_next_picked(csvavro_avro_reader *r, const cav_avro_pick *p,
                                           cav_avro_val *vals, size_t n_vals, bool *eof,
                                           csvavro_error *err);
/* The schema records are read as: the reader schema (use_schema), else the writer's. */
const cav_avro_node *cav_avro_reader_reading_tree(const csvavro_avro_reader *r);

/* ---------------------------------------------------------------- flat record view */

/* One field as the reader sees it: its type; branches = the number of union branches (0: not a
 * union, 1: a single-branch union such as ["long"], whose index 0 is still encoded; 2: a union
 * of null and the type), and then which branch is null (0 or 1) when nullable. Filled from
 * writer schema JSON by cav_avro_parse_fields. */
typedef struct cav_avro_rfield {
    char *name;
    csvavro_type type;
    bool nullable;
    uint8_t null_branch;
    uint8_t branches;
    uint32_t fixed_size; /* DECIMAL_FIXED: bytes of the fixed */
    int32_t scale;       /* DECIMAL*: the scale */
} cav_avro_rfield;

/* Parses a writer schema (record of primitive/logical fields, unions with null in either
 * order) for the column decoder (avro_read_columns.c), which reads flat records only; cat
 * reads any schema through cav_avro_tree. *fields is allocated (cav_free each name and the array).
 */
/* Field defaults of a record schema's JSON (the text csvavro_schema_from_json parsed into a
 * schema of n_fields fields): (*out)[i] is field i's "default" as compact JSON text, NULL when
 * it has none. Free with cav_avro_free_defaults. */
csvavro_status cav_avro_field_defaults(const char *json, size_t n_fields, char ***out,
                                       csvavro_error *err);
void cav_avro_free_defaults(char **d, size_t n);
/* The value default JSON text `def` gives field i of s, checked against its type as the Avro
 * specification writes defaults: null (a nullable field), true/false, integers for int, long,
 * date and the timestamps (in range), numbers for float and double, a string for string, and
 * for bytes, fixed and the decimals a string whose code points 0-255 are the bytes (a fixed's
 * exactly its size). A nullable field takes null or a value of its type. Bytes go to *store
 * (cav_free; NULL when none), which out->v.str borrows. */
csvavro_status cav_avro_default_value(const csvavro_schema *s, size_t i, const char *def,
                                      cav_const_value *out, char **store, csvavro_error *err);
csvavro_status cav_avro_parse_fields(const char *json, size_t len, cav_avro_rfield **fields,
                                     size_t *n, csvavro_error *err);
void cav_avro_free_fields(cav_avro_rfield *f, size_t n);

/* ---------------------------------------------------------------- column decoding */

/* One decompressed, sync-checked block handed from the container reader (avro_read.c) to the
 * column decoder (avro_read_columns.c). data is borrowed until the reader's next call. */
typedef struct cav_avro_block {
    const uint8_t *data;
    size_t len;
    uint64_t count;    /* records; 0 (and data NULL) at the end of the file */
    int64_t data_at;   /* file offset of the block's data */
    uint64_t block_no; /* 1-based */
    uint64_t record0;  /* records before this block */
    bool null_codec;   /* offsets inside data are file offsets from data_at */
    const char *path;
} cav_avro_block;

typedef struct cav_avro_cols cav_avro_cols;
csvavro_status cav_avro_reader_take_block(csvavro_avro_reader *r, cav_avro_block *b,
                                          csvavro_error *err);
/* The flat view of the writer schema: NULL (and *n 0) when the schema is not a flat record;
 * cav_avro_reader_fields_error then gives the reason (a status and message for the caller). */
const cav_avro_rfield *cav_avro_reader_fields(const csvavro_avro_reader *r, size_t *n);
csvavro_status cav_avro_reader_fields_error(const csvavro_avro_reader *r, csvavro_error *err);
/* The reader's slot for the column decoder's state (freed by the reader's close). */
cav_avro_cols **cav_avro_reader_cols(csvavro_avro_reader *r);
void cav_avro_cols_free(cav_avro_cols *c);

/* ---------------------------------------------------------------- zigzag (varints: core_varint.h)
 */

static inline uint64_t cav_zigzag64(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t cav_unzigzag64(uint64_t u) {
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

#endif /* CAV_AVRO_H */
