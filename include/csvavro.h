/*
 * csvavro.h — the one public header of libcsvavro.
 *
 * csvavro turns CSV (local files or hdfs://) into Avro object container files, filtered and
 * projected on the way. This header is the whole library surface, read it like a manual:
 *
 *   1. One call.      csvavro_job_run() runs a complete conversion (see "Jobs").
 *   2. A configured job: csvavro_job_options_init(), set fields, csvavro_job_create(),
 *                     csvavro_job_plan(), csvavro_job_execute(), csvavro_job_free().
 *   3. Low-level stages: the storage layer (csvavro_fs_*), the CSV reader (csvavro_csv_*),
 *                     schema inference and JSON (csvavro_schema_*), the Avro container reader
 *                     (csvavro_avro_reader_*).
 *
 * Conventions, for every function below:
 *   - Handles are opaque. Each create/open has a matching free/close; free(NULL) is a no-op.
 *   - Functions that can fail return csvavro_status and fill a caller-owned csvavro_error
 *     (may be NULL when the caller does not want details). Nothing is kept in global or
 *     thread-local state.
 *   - Option structs are plain structs: call the *_init() function first, then set fields.
 *   - Strings are UTF-8 and NUL-terminated unless a length is given. Borrowed pointers live as
 *     long as the handle they came from unless said otherwise.
 *   - A handle is used by one thread at a time; distinct handles may be used concurrently.
 */
#ifndef CSVAVRO_H
#define CSVAVRO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSVAVRO_VERSION "0.1.0"

/* ======================================================================================
 * Status and errors
 * ==================================================================================== */

/* Status codes. The numeric values are stable and never reused. */
typedef enum csvavro_status {
    CSVAVRO_OK = 0,
    CSVAVRO_E_USAGE = 1,       /* bad argument or option */
    CSVAVRO_E_NOMEM = 2,       /* allocation failed */
    CSVAVRO_E_IO = 3,          /* read/write/system call failed */
    CSVAVRO_E_NOT_FOUND = 4,   /* path does not exist */
    CSVAVRO_E_EXISTS = 5,      /* destination exists */
    CSVAVRO_E_CSV = 6,         /* CSV syntax: open quote at EOF, ragged row, ... */
    CSVAVRO_E_VALUE = 7,       /* a value does not fit its column type */
    CSVAVRO_E_SCHEMA = 8,      /* invalid or unusable schema */
    CSVAVRO_E_EXPR = 9,        /* --where expression: syntax or type error */
    CSVAVRO_E_CORRUPT = 10,    /* corrupt or truncated Avro data */
    CSVAVRO_E_LIMIT = 11,      /* a configured ceiling was reached (record size, errors) */
    CSVAVRO_E_PROTOCOL = 12,   /* malformed reply from a server */
    CSVAVRO_E_REMOTE = 13,     /* the server reported an error (see message) */
    CSVAVRO_E_PERMISSION = 14, /* permission denied */
    CSVAVRO_E_INTERRUPTED = 15,/* cancelled (signal) */
    CSVAVRO_E_UNSUPPORTED = 16,/* feature not supported */
    CSVAVRO_E_TIMEOUT = 17,    /* a network operation timed out */
    CSVAVRO_E_ENCODING = 18,   /* invalid UTF-8 (or other encoding error) */
    CSVAVRO_E_NOT_EMPTY = 19,  /* directory not empty */
    CSVAVRO_E_INTERNAL = 20,   /* a bug: please report */
    CSVAVRO_E_CONNECT = 21     /* could not connect to a server */
} csvavro_status;

/* Error details. Every field except status and message is optional: numbers are -1 and
 * strings are empty when unknown. Filled through an out-parameter, never global state. */
typedef struct csvavro_error {
    csvavro_status status;
    char path[1024];        /* file or URL the error is about */
    int64_t offset;         /* byte offset in path */
    int64_t line;           /* 1-based physical line in path */
    int64_t record;         /* 1-based data record (header excluded) */
    int32_t column;         /* 0-based column index */
    char column_name[128];  /* column name, when known */
    char value[256];        /* the offending value, truncated, printable */
    char message[768];      /* what went wrong, one line */
} csvavro_error;

/* Resets e to "no error" (status OK, numbers -1, strings empty). */
void csvavro_error_clear(csvavro_error *e);

/* Short stable name of a status, e.g. "CSVAVRO_E_CSV". Never NULL. */
const char *csvavro_status_name(csvavro_status s);

/* Formats e as one line a person can act on, e.g.
 *   trip.csv:1207: byte 98231, column 7 (passenger_count): value "x" is not a long
 * Writes at most cap bytes including the NUL; returns the length it wanted (like snprintf). */
size_t csvavro_error_format(const csvavro_error *e, char *buf, size_t cap);

/* ======================================================================================
 * Value types
 * ==================================================================================== */

/* Logical column types, shared by the CSV reader, the filter and the Avro writer. */
typedef enum csvavro_type {
    CSVAVRO_TYPE_NULL = 0,
    CSVAVRO_TYPE_BOOLEAN = 1,
    CSVAVRO_TYPE_INT = 2,       /* int32 */
    CSVAVRO_TYPE_LONG = 3,      /* int64 */
    CSVAVRO_TYPE_FLOAT = 4,
    CSVAVRO_TYPE_DOUBLE = 5,
    CSVAVRO_TYPE_STRING = 6,
    CSVAVRO_TYPE_BYTES = 7,
    CSVAVRO_TYPE_DATE = 8,                   /* int32 days since 1970-01-01 */
    CSVAVRO_TYPE_TIMESTAMP_MICROS = 9,       /* instant, int64 µs since epoch UTC */
    CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS = 10,/* naive wall clock, int64 µs */
    CSVAVRO_TYPE_TIMESTAMP_MILLIS = 11,      /* instant, int64 ms */
    CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS = 12 /* naive, int64 ms */
} csvavro_type;

/* Name used in options and in `head` output: "boolean", "int", "long", "float", "double",
 * "string", "bytes", "date", "timestamp", "local-timestamp", "timestamp-millis",
 * "local-timestamp-millis", "null". */
const char *csvavro_type_name(csvavro_type t);

/* Parses a type name (as above; "timestamp-micros"/"local-timestamp-micros" accepted too).
 * Returns CSVAVRO_E_USAGE for unknown names. */
csvavro_status csvavro_type_parse(const char *name, csvavro_type *out);

/* ======================================================================================
 * Table schema
 *
 * A csvavro_schema is the list of output fields: Avro-valid name, original CSV header text,
 * type and nullability, plus the record name and namespace. It is produced by inference
 * (csvavro_csv_infer) or parsed from an .avsc file, and turned into Avro JSON.
 * ==================================================================================== */

typedef struct csvavro_schema csvavro_schema;

/* Creates an empty schema with the given record name and namespace (NULL: defaults
 * "Row" / "csvavro"). Names must be valid Avro names. */
csvavro_status csvavro_schema_create(const char *record_name, const char *ns,
                                     csvavro_schema **out, csvavro_error *err);
void csvavro_schema_free(csvavro_schema *s);
csvavro_status csvavro_schema_clone(const csvavro_schema *s, csvavro_schema **out,
                                    csvavro_error *err);

/* Appends a field. name must be a valid Avro name unique in the schema; original may be NULL
 * (defaults to name). */
csvavro_status csvavro_schema_add_field(csvavro_schema *s, const char *name, const char *original,
                                        csvavro_type type, int nullable, csvavro_error *err);

size_t csvavro_schema_field_count(const csvavro_schema *s);
const char *csvavro_schema_field_name(const csvavro_schema *s, size_t i);
const char *csvavro_schema_field_original(const csvavro_schema *s, size_t i);
csvavro_type csvavro_schema_field_type(const csvavro_schema *s, size_t i);
int csvavro_schema_field_nullable(const csvavro_schema *s, size_t i);
/* Index of the field named name (Avro name first, then original header), or -1. */
long csvavro_schema_find(const csvavro_schema *s, const char *name);
const char *csvavro_schema_record_name(const csvavro_schema *s);
const char *csvavro_schema_namespace(const csvavro_schema *s);

/* Turns arbitrary header text into a valid Avro name: invalid bytes become '_', a leading
 * digit gets a '_' prefix, the empty string becomes "_". Writes at most cap bytes. */
void csvavro_avro_name(const char *text, char *out, size_t cap);

/* ---- per-module sections follow; each module owns its own section ---- */

/* @@SECTION storage (src/io, src/hdfs) */
/* ======================================================================================
 * Storage
 *
 * A csvavro_fs is one storage backend instance: the local file system, or one HDFS NameNode
 * (with its DataNodes). csvavro_fs_open_url picks the backend from a URL:
 *   plain path, file:///path             local
 *   hdfs://host:port/path                HDFS NameNode host:port
 *   hdfs:///path, hdfs:/path             HDFS NameNode from HADOOP_NAMENODE or fs.defaultFS in
 *                                        $HADOOP_CONF_DIR/core-site.xml
 * Paths passed to the other calls are backend paths (what csvavro_fs_open_url returned in
 * path_out), never URLs. A csvavro_fs may be shared by threads (calls are serialised inside
 * the backend where needed); a csvavro_file is used by one thread at a time.
 * ==================================================================================== */

typedef struct csvavro_fs csvavro_fs;
typedef struct csvavro_file csvavro_file;

typedef struct csvavro_stat {
    int is_dir;
    int64_t size;        /* bytes; 0 for directories */
    int64_t mtime_ms;    /* modification time, ms since epoch */
    uint32_t mode;       /* permission bits (07777) */
    char owner[64];
    char group[64];
    int replication;     /* HDFS replication; 1 locally */
    int64_t block_size;  /* HDFS block size; 0 locally */
} csvavro_stat;

typedef struct csvavro_dirent {
    char *name;          /* base name (owned by the array) */
    csvavro_stat st;
} csvavro_dirent;

/* A block of a file and the hosts holding a replica of it (HDFS); locally one block. */
typedef struct csvavro_block {
    int64_t offset;
    int64_t length;
    int n_hosts;
    char hosts[8][256];  /* host names, nearest first */
} csvavro_block;

/* Opens the backend for url. *path_out receives a newly allocated backend path (free with
 * free()). Local backends are cheap; an HDFS backend connects lazily on the first call. */
csvavro_status csvavro_fs_open_url(const char *url, csvavro_fs **fs, char **path_out,
                                   csvavro_error *err);
void csvavro_fs_close(csvavro_fs *fs);
/* "file" or "hdfs". */
const char *csvavro_fs_scheme(const csvavro_fs *fs);
/* Rebuilds a URL for a backend path (for messages): "/a/b" or "hdfs://nn:8020/a/b". Returns a
 * newly allocated string (free()) or NULL on allocation failure. */
char *csvavro_fs_url(const csvavro_fs *fs, const char *path);

/* CSVAVRO_E_NOT_FOUND when path does not exist. */
csvavro_status csvavro_fs_stat(csvavro_fs *fs, const char *path, csvavro_stat *st,
                               csvavro_error *err);
/* Lists a directory, sorted by name (byte order). Free with csvavro_fs_free_list. */
csvavro_status csvavro_fs_list(csvavro_fs *fs, const char *path, csvavro_dirent **out, size_t *n,
                               csvavro_error *err);
void csvavro_fs_free_list(csvavro_dirent *list, size_t n);
csvavro_status csvavro_fs_mkdir(csvavro_fs *fs, const char *path, int parents, csvavro_error *err);
/* Removes a file or (with recursive) a directory tree. CSVAVRO_E_NOT_FOUND if missing. */
csvavro_status csvavro_fs_remove(csvavro_fs *fs, const char *path, int recursive,
                                 csvavro_error *err);
/* Renames; with overwrite an existing destination file is replaced atomically. */
csvavro_status csvavro_fs_rename(csvavro_fs *fs, const char *from, const char *to, int overwrite,
                                 csvavro_error *err);
/* Blocks of a file with replica hosts. *out is allocated (free()). */
csvavro_status csvavro_fs_blocks(csvavro_fs *fs, const char *path, csvavro_block **out, size_t *n,
                                 csvavro_error *err);
/* Space: capacity, used and remaining bytes (df). */
csvavro_status csvavro_fs_space(csvavro_fs *fs, const char *path, int64_t *capacity, int64_t *used,
                                int64_t *remaining, csvavro_error *err);

/* Opens a file for positioned reads. */
csvavro_status csvavro_fs_open_read(csvavro_fs *fs, const char *path, csvavro_file **f,
                                    csvavro_error *err);
/* Reads up to len bytes at offset; *got < len only at end of file. */
csvavro_status csvavro_file_pread(csvavro_file *f, void *buf, size_t len, int64_t offset,
                                  size_t *got, csvavro_error *err);
int64_t csvavro_file_size(const csvavro_file *f);
/* Creates a file for sequential writing (fails with CSVAVRO_E_EXISTS unless overwrite).
 * Missing parent directories are created. */
csvavro_status csvavro_fs_create(csvavro_fs *fs, const char *path, int overwrite,
                                 csvavro_file **f, csvavro_error *err);
csvavro_status csvavro_file_write(csvavro_file *f, const void *buf, size_t len,
                                  csvavro_error *err);
/* Closes a file. For written files this flushes and makes the data durable and visible; an
 * error here means the file is not complete. */
csvavro_status csvavro_file_close(csvavro_file *f, csvavro_error *err);
/* Closes without completing (written files are removed where the backend allows). */
void csvavro_file_abort(csvavro_file *f);

/* Content summary of a file or directory tree (du): total bytes of its files, number of files
 * and of directories (the path itself included). HDFS answers in one getContentSummary call;
 * locally the tree is walked. */
csvavro_status csvavro_fs_content_summary(csvavro_fs *fs, const char *path, int64_t *length,
                                          int64_t *files, int64_t *dirs, csvavro_error *err);
/* @@END storage */

/* @@SECTION csv (src/csv) */
/* ======================================================================================
 * CSV reading options (dialect, typing, error policy, inference)
 * ==================================================================================== */

typedef enum csvavro_encoding {
    CSVAVRO_ENCODING_UTF8 = 0,   /* input is UTF-8; invalid UTF-8 in a string column is an error */
    CSVAVRO_ENCODING_LATIN1 = 1  /* input is ISO-8859-1; transcoded to UTF-8 */
} csvavro_encoding;

typedef enum csvavro_on_error {
    CSVAVRO_ON_ERROR_FAIL = 0,   /* stop at the first bad record (default) */
    CSVAVRO_ON_ERROR_SKIP = 1,   /* drop bad records, count them */
    CSVAVRO_ON_ERROR_REJECT = 2  /* drop bad records and write them to reject_file */
} csvavro_on_error;

typedef struct csvavro_csv_options {
    /* dialect */
    char delimiter;               /* default ',' ; any single byte */
    char quote;                   /* default '"' ; 0 disables quoting */
    char escape;                  /* default 0 (RFC 4180: doubled quotes); e.g. '\\' */
    char comment;                 /* default 0 (none); lines starting with it are skipped */
    int header;                   /* default 1: the first record holds the column names */
    const char *const *names;     /* --names: explicit column names (n_names of them) */
    size_t n_names;
    uint64_t skip_rows;           /* lines skipped before the header/data (default 0) */
    const char *const *null_values; /* null markers; default: only the empty field */
    size_t n_null_values;
    csvavro_encoding encoding;    /* default UTF-8 */
    size_t max_record_bytes;      /* ceiling on one record (default 64 MiB) */
    /* bad records */
    csvavro_on_error on_error;    /* default FAIL */
    const char *reject_file;      /* for REJECT: raw record, reason, location (one per line) */
    uint64_t max_errors;          /* with SKIP/REJECT: fail after this many (0 = unlimited) */
    /* typing and inference */
    uint64_t infer_rows;          /* rows sampled for inference (default 20000);
                                     UINT64_MAX = "all": an exact full pass */
    const char *const *type_overrides; /* "COL=TYPE" strings (--type) */
    size_t n_type_overrides;
    const char *const *not_null;  /* columns declared non-nullable (--not-null) */
    size_t n_not_null;
    const char *record_name;      /* Avro record name (default "Row") */
    const char *ns;               /* Avro namespace (default "csvavro") */
} csvavro_csv_options;

/* Fills defaults (see each field). */
void csvavro_csv_options_init(csvavro_csv_options *o);

/* Dialect, as implemented (see README "CSV input"): CR, LF and CRLF end records; empty lines
 * are skipped; a quote opens a quoted field only at the start of a field (elsewhere it is
 * data); after a closing quote only the delimiter, a line end or a second quote may follow,
 * else the record is bad (CSVAVRO_E_CSV, handled by on_error). A UTF-8 BOM is dropped. Null
 * markers match unquoted fields only; a quoted empty field is "" in string columns and null in
 * the others. With escape set, escape+X stands for X (inside and outside quotes). */

/* Infers a table schema from the inputs (paths on fs, all with the same columns): header
 * names mapped to unique Avro names (original text kept), types from a sample of about
 * o->infer_rows rows taken at several places of each input (o->infer_rows == UINT64_MAX:
 * every row, which also makes columns without nulls non-nullable), then o->type_overrides
 * and o->not_null applied. Errors: CSVAVRO_E_CSV (empty input, bad records under
 * on_error fail), CSVAVRO_E_USAGE (unknown column in an override), I/O errors. *out is
 * freed with csvavro_schema_free. */
csvavro_status csvavro_csv_infer(csvavro_fs *fs, const char *const *paths, size_t n_paths,
                                 const csvavro_csv_options *o, csvavro_schema **out,
                                 csvavro_error *err);

/* A simple row reader over one input (what `csvavro head` uses): every field as text
 * (quotes and escapes resolved, latin-1 transcoded to UTF-8). Not the fast path: convert
 * uses the internal column reader. */
typedef struct csvavro_csv_reader csvavro_csv_reader;

/* Opens path on fs and reads the header. CSVAVRO_E_CSV for an empty input. */
csvavro_status csvavro_csv_open(csvavro_fs *fs, const char *path, const csvavro_csv_options *o,
                                csvavro_csv_reader **out, csvavro_error *err);
/* Number of columns and their header texts (or --names, or c1..cN). Borrowed. */
size_t csvavro_csv_column_count(const csvavro_csv_reader *r);
const char *csvavro_csv_column_name(const csvavro_csv_reader *r, size_t i);
/* Next data row: *fields[i] points to lens[i] bytes (not NUL-terminated) or is NULL for a null
 * field; all borrowed until the next call. At the end *fields is NULL and *n_fields 0. Bad
 * records follow o->on_error (skipped rows are not returned); errors carry path, line, byte
 * offset, record and column. */
csvavro_status csvavro_csv_next_row(csvavro_csv_reader *r, const char *const **fields,
                                    const size_t **lens, size_t *n_fields, csvavro_error *err);
void csvavro_csv_close(csvavro_csv_reader *r);
/* @@END csv */

/* @@SECTION avro (src/avro) */
/* ======================================================================================
 * Avro writing options and schema JSON
 * ==================================================================================== */

typedef enum csvavro_codec {
    CSVAVRO_CODEC_NULL = 0,
    CSVAVRO_CODEC_DEFLATE = 1,
    CSVAVRO_CODEC_SNAPPY = 2,
    CSVAVRO_CODEC_ZSTANDARD = 3,
    CSVAVRO_CODEC_BZIP2 = 4,
    CSVAVRO_CODEC_XZ = 5
} csvavro_codec;

typedef struct csvavro_avro_options {
    csvavro_codec codec; /* default: see README (chosen by the avro module) */
    int level;           /* codec level; INT32_MIN = codec default */
    size_t block_size;   /* target uncompressed block size in bytes */
    int has_seed;        /* 1: sync markers derived from seed (reproducible files) */
    uint64_t seed;
    const char *const *meta; /* user metadata "KEY=VALUE" strings (--meta) */
    size_t n_meta;
} csvavro_avro_options;

void csvavro_avro_options_init(csvavro_avro_options *o);
/* "null", "deflate", "snappy", "zstandard" (also "zstd"), "bzip2", "xz". */
csvavro_status csvavro_codec_parse(const char *name, csvavro_codec *out);
const char *csvavro_codec_name(csvavro_codec c);

/* The Avro schema JSON of s: a record with one field per column; nullable fields are
 * ["null", T] with "default": null; logical types as in the README; each field carries the
 * original CSV header in "csvavro.header" when it differs from the name. pretty = 1 indents.
 * *json is allocated (free()). */
csvavro_status csvavro_schema_to_json(const csvavro_schema *s, int pretty, char **json,
                                      csvavro_error *err);
/* Parses and validates an Avro schema JSON (a record of supported field types) into a
 * csvavro_schema. */
csvavro_status csvavro_schema_from_json(const char *json, csvavro_schema **out, csvavro_error *err);

/* ======================================================================================
 * Avro container reader
 *
 * Reads Avro object container files written by csvavro or by any other Avro writer, as long
 * as the writer schema is a record of primitive or logical fields (unions with "null" in
 * either order). Every codec of csvavro_codec is supported. The reader reads through a
 * csvavro_fs (local or hdfs://), one block at a time into reused buffers; blocks larger than a
 * ceiling (default 1 GiB) are refused. Untrusted bytes are decoded with bounds checks: a
 * corrupt or truncated file gives CSVAVRO_E_CORRUPT with err->offset (byte offset in the
 * file), err->record (1-based record, when known) and the block number in the message; never
 * a crash. A block's size, sync marker and snappy CRC are checked before its first record is
 * returned; its record count is checked against its bytes as the records are decoded (the
 * records must end exactly at the block's end).
 * ==================================================================================== */

typedef struct csvavro_avro_reader csvavro_avro_reader;

/* Opens path on fs and reads the header (magic, metadata, sync marker, writer schema). */
csvavro_status csvavro_avro_reader_open(csvavro_fs *fs, const char *path, csvavro_avro_reader **r,
                                        csvavro_error *err);
/* Like csvavro_avro_reader_open with a block size ceiling in bytes (compressed and
 * uncompressed; 0 = default 1 GiB). Larger blocks fail with CSVAVRO_E_LIMIT. */
csvavro_status csvavro_avro_reader_open_ex(csvavro_fs *fs, const char *path, size_t max_block_bytes,
                                           csvavro_avro_reader **r, csvavro_error *err);
void csvavro_avro_reader_close(csvavro_avro_reader *r);

/* The writer schema JSON exactly as stored in the file (borrowed, NUL-terminated). */
const char *csvavro_avro_reader_schema_json(const csvavro_avro_reader *r);
/* The codec name from avro.codec ("null" when absent). Borrowed. */
const char *csvavro_avro_reader_codec(const csvavro_avro_reader *r);
/* Header metadata entries in file order (avro.schema and avro.codec included). Key is
 * NUL-terminated; value is value_len bytes (NUL-terminated too, for convenience). Borrowed. */
size_t csvavro_avro_reader_meta_count(const csvavro_avro_reader *r);
void csvavro_avro_reader_meta(const csvavro_avro_reader *r, size_t i, const char **key,
                              const char **value, size_t *value_len);

/* Next record as one JSON object (no newline), field order as in the schema. *line is
 * borrowed until the next call. At the end of the file returns CSVAVRO_OK with *line = NULL
 * and *len = 0. JSON mapping: null -> null; boolean; int/long -> number; float/double ->
 * shortest round-trip number, NaN and infinities as the strings "NaN", "Infinity",
 * "-Infinity"; string -> JSON string; bytes -> JSON string with one code point U+0000..U+00FF
 * per byte (the Avro JSON encoding); unions -> the value itself (no {"type": value} wrapper);
 * date -> "YYYY-MM-DD"; timestamp-micros -> "YYYY-MM-DDTHH:MM:SS.ffffffZ"; timestamp-millis
 * -> "...SS.fffZ"; local-timestamp-* -> the same without "Z". */
csvavro_status csvavro_avro_reader_next_json(csvavro_avro_reader *r, const char **line, size_t *len,
                                             csvavro_error *err);
/* Counts the records from the current position to the end without decoding or
 * decompressing: reads each block's count and size and checks its sync marker. */
csvavro_status csvavro_avro_reader_count(csvavro_avro_reader *r, uint64_t *count,
                                         csvavro_error *err);
/* Blocks read so far (the 1-based number of the current block). */
uint64_t csvavro_avro_reader_blocks(const csvavro_avro_reader *r);
/* @@END avro */

/* @@SECTION filter (src/ops) */
/* ======================================================================================
 * Filter expressions (--where)
 *
 * A filter is a condition over the columns of a schema, e.g.
 *   passenger_count > 3 and pickup_datetime >= '2013-01-05'
 *   vendor_id in ('CMT', 'VTS') or `trip time` / 60 > 1.5
 * Operators, loosest first: or; and; not; comparisons (= == != <> < <= > >=, [not] in (…),
 * is [not] null — they do not chain); + -; * /; unary -. Keywords are case-insensitive.
 * Columns: bare words, or in `backticks` / "double quotes" (the Avro name or the original CSV
 * header). Literals: integers (int64), decimals (double, 1.5, 2e3), 'strings' ('' is a quote),
 * true, false. A string literal compared with a date column must be 'YYYY-MM-DD'; with a
 * timestamp column 'YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]]' plus, for non-local timestamps, an
 * optional 'Z' or ±HH:MM (UTC otherwise); it is converted at compile time.
 * NULL follows SQL: a comparison with a null operand is null, `null and false` is false,
 * `null or true` is true, and a row is kept only when the condition is true. Integer + - * are
 * exact; a result outside int64 is null. `/` always divides as doubles; division by zero is
 * null. Integers and doubles compare exactly (2^53 + 1 != 2^53 as a double). Strings compare
 * as bytes. The job compiles the filter while planning, so a bad filter fails before any data
 * is read; evaluation is vectorised over column batches and reads only the columns it names.
 * README "Filter" has the full grammar and more examples.
 * ==================================================================================== */

typedef struct csvavro_filter csvavro_filter;

/* Parses and type-checks expr against schema. Errors are CSVAVRO_E_EXPR with err->offset =
 * 0-based character offset of the offending token and a message of three lines: what is
 * wrong (with a did-you-mean for unknown columns), the expression, and a caret line under the
 * token, e.g.
 *   unknown column `pasenger_count` (did you mean `passenger_count`?)
 *     pasenger_count > 3
 *     ^~~~~~~~~~~~~~
 * The schema is only read during the call. A compiled filter is immutable and may be shared
 * by threads. */
csvavro_status csvavro_filter_compile(const char *expr, const csvavro_schema *schema,
                                      csvavro_filter **out, csvavro_error *err);
void csvavro_filter_free(csvavro_filter *f);
/* Canonical, fully parenthesised text, e.g. "(passenger_count > 3)". Borrowed from f. */
const char *csvavro_filter_text(const csvavro_filter *f);
/* The schema columns (field indexes) the filter reads, ascending and unique. */
size_t csvavro_filter_column_count(const csvavro_filter *f);
size_t csvavro_filter_column(const csvavro_filter *f, size_t i);
/* @@END filter */

/* @@SECTION job (src/exec) */
/* @@END job */

#ifdef __cplusplus
}
#endif
#endif /* CSVAVRO_H */
