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
 *   - Memory the library hands to the caller (strings, arrays) is released with
 *     csvavro_free(), never with the C library's free() (the library's allocator may differ).
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

/* Everything declared here is the library's interface: the shared library is built with
 * -fvisibility=hidden and exports exactly these (tests/check_exports.sh). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define CSVAVRO_VERSION "0.1.0"

/* ======================================================================================
 * Status and errors
 * ==================================================================================== */

/* Status codes. The numeric values are stable and never reused. */
typedef enum csvavro_status {
    CSVAVRO_OK = 0,
    CSVAVRO_E_USAGE = 1,        /* bad argument or option */
    CSVAVRO_E_NOMEM = 2,        /* allocation failed */
    CSVAVRO_E_IO = 3,           /* read/write/system call failed */
    CSVAVRO_E_NOT_FOUND = 4,    /* path does not exist */
    CSVAVRO_E_EXISTS = 5,       /* destination exists */
    CSVAVRO_E_CSV = 6,          /* CSV syntax: open quote at EOF, ragged row, ... */
    CSVAVRO_E_VALUE = 7,        /* a value does not fit its column type */
    CSVAVRO_E_SCHEMA = 8,       /* invalid or unusable schema */
    CSVAVRO_E_EXPR = 9,         /* --where expression: syntax or type error */
    CSVAVRO_E_CORRUPT = 10,     /* corrupt or truncated Avro data */
    CSVAVRO_E_LIMIT = 11,       /* a configured ceiling was reached (record size, errors) */
    CSVAVRO_E_PROTOCOL = 12,    /* malformed reply from a server */
    CSVAVRO_E_REMOTE = 13,      /* the server reported an error (see message) */
    CSVAVRO_E_PERMISSION = 14,  /* permission denied */
    CSVAVRO_E_INTERRUPTED = 15, /* cancelled (signal) */
    CSVAVRO_E_UNSUPPORTED = 16, /* feature not supported */
    CSVAVRO_E_TIMEOUT = 17,     /* a network operation timed out */
    CSVAVRO_E_ENCODING = 18,    /* invalid UTF-8 (or other encoding error) */
    CSVAVRO_E_NOT_EMPTY = 19,   /* directory not empty */
    CSVAVRO_E_INTERNAL = 20,    /* a bug: please report */
    CSVAVRO_E_CONNECT = 21      /* could not connect to a server */
} csvavro_status;

/* Error details. Every field except status and message is optional: numbers are -1 and
 * strings are empty when unknown. Filled through an out-parameter, never global state. */
typedef struct csvavro_error {
    csvavro_status status;
    char path[1024];       /* file or URL the error is about */
    int64_t offset;        /* byte offset in path */
    int64_t line;          /* 1-based physical line in path */
    int64_t record;        /* 1-based data record (header excluded) */
    int32_t column;        /* 0-based column index */
    char column_name[128]; /* column name, when known */
    char value[256];       /* the offending value, truncated, printable */
    char message[768];     /* what went wrong, one line */
} csvavro_error;

/* Resets e to "no error" (status OK, numbers -1, strings empty). */
void csvavro_error_clear(csvavro_error *e);

/* Releases memory the library returned to the caller (a URL, a path, JSON text, an array of
 * blocks). NULL is a no-op. */
void csvavro_free(void *p);

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
    CSVAVRO_TYPE_INT = 2,  /* int32 */
    CSVAVRO_TYPE_LONG = 3, /* int64 */
    CSVAVRO_TYPE_FLOAT = 4,
    CSVAVRO_TYPE_DOUBLE = 5,
    CSVAVRO_TYPE_STRING = 6,
    CSVAVRO_TYPE_BYTES = 7,
    CSVAVRO_TYPE_DATE = 8,                    /* int32 days since 1970-01-01 */
    CSVAVRO_TYPE_TIMESTAMP_MICROS = 9,        /* instant, int64 µs since epoch UTC */
    CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS = 10, /* naive wall clock, int64 µs */
    CSVAVRO_TYPE_TIMESTAMP_MILLIS = 11,       /* instant, int64 ms */
    CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS = 12, /* naive, int64 ms */
    /* exact decimal(precision, scale): the unscaled integer as big-endian two's complement,
     * in Avro bytes (DECIMAL) or fixed (DECIMAL_FIXED); see csvavro_schema_set_decimal */
    CSVAVRO_TYPE_DECIMAL = 13,
    CSVAVRO_TYPE_DECIMAL_FIXED = 14
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
csvavro_status csvavro_schema_create(const char *record_name, const char *ns, csvavro_schema **out,
                                     csvavro_error *err);
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
/* Decimal parameters of field i (a DECIMAL or DECIMAL_FIXED field): precision 1..76, scale
 * 0..precision; fixed_size the fixed's byte count (0 for bytes) and fixed_name its Avro name
 * (NULL: "<field>_decimal"). Sets the field's type. Fails on out-of-range parameters or a
 * fixed too small for the precision. */
csvavro_status csvavro_schema_set_decimal(csvavro_schema *s, size_t i, int precision, int scale,
                                          int fixed_size, const char *fixed_name,
                                          csvavro_error *err);
/* 0 if field i is not a decimal, else 1 with its parameters (sizes/names may be NULL). */
int csvavro_schema_field_decimal(const csvavro_schema *s, size_t i, int *precision, int *scale,
                                 int *fixed_size, const char **fixed_name);
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
    int64_t size;     /* bytes; 0 for directories */
    int64_t mtime_ms; /* modification time, ms since epoch */
    uint32_t mode;    /* permission bits (07777) */
    char owner[64];
    char group[64];
    int replication;    /* HDFS replication; 1 locally */
    int64_t block_size; /* HDFS block size; 0 locally */
} csvavro_stat;

typedef struct csvavro_dirent {
    char *name; /* base name (owned by the array) */
    csvavro_stat st;
} csvavro_dirent;

/* A block of a file and the hosts holding a replica of it (HDFS); locally one block. */
typedef struct csvavro_block {
    int64_t offset;
    int64_t length;
    int n_hosts;
    char hosts[8][256]; /* host names, nearest first */
} csvavro_block;

/* Opens the backend for url. *path_out receives a newly allocated backend path (free with
 * csvavro_free()). Local backends are cheap; an HDFS backend connects lazily on the first call. */
csvavro_status csvavro_fs_open_url(const char *url, csvavro_fs **fs, char **path_out,
                                   csvavro_error *err);
void csvavro_fs_close(csvavro_fs *fs);
/* "file" or "hdfs". */
const char *csvavro_fs_scheme(const csvavro_fs *fs);
/* Rebuilds a URL for a backend path (for messages): "/a/b" or "hdfs://nn:8020/a/b". Returns a
 * newly allocated string (csvavro_free()) or NULL on allocation failure. */
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
/* Blocks of a file with replica hosts. *out is allocated (csvavro_free()). */
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
csvavro_status csvavro_fs_create(csvavro_fs *fs, const char *path, int overwrite, csvavro_file **f,
                                 csvavro_error *err);
csvavro_status csvavro_file_write(csvavro_file *f, const void *buf, size_t len, csvavro_error *err);
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
/* HDFS delegation tokens (docs/security.md), in Hadoop's token storage file format ("HDTS";
 * written as version 0, versions 0 and 1 read). They need a Kerberos cluster
 * (hadoop.security.authentication=kerberos); get and renew authenticate with Kerberos (a ticket
 * or keytab), cancel also with the token itself. A client whose HADOOP_TOKEN_FILE_LOCATION
 * holds an HDFS_DELEGATION_TOKEN for a NameNode (service "ip:port" or "ha-hdfs:NAMESERVICE")
 * authenticates with it (SASL DIGEST-MD5) instead of Kerberos.
 * fetch: a new token from the NameNode of url (hdfs://…) that renewer (a user's short name;
 * NULL = the caller) may renew, written to file (mode 0600, replaced whole).
 * renew: every HDFS delegation token in file; *expiry_ms (may be NULL) the last new expiry.
 * cancel: every HDFS delegation token in file; the file is left as it is.
 * describe: one line per token (kind, service, decoded identifier) in *text (csvavro_free). */
csvavro_status csvavro_hdfs_token_fetch(const char *url, const char *renewer, const char *file,
                                        csvavro_error *err);
csvavro_status csvavro_hdfs_token_renew(const char *file, int64_t *expiry_ms, csvavro_error *err);
csvavro_status csvavro_hdfs_token_cancel(const char *file, csvavro_error *err);
csvavro_status csvavro_hdfs_token_describe(const char *file, char **text, csvavro_error *err);
/* The committed files of the dataset in directory dir (a backend path of fs), in manifest
 * order (job by job, each job's files in split order), as backend paths (csvavro's allocator). The
 * manifest is trusted, not the listing: a file no committed job wrote is never returned. A
 * commit that was interrupted (its job died) is first rolled forward or back, which needs
 * write access to the directory; a commit in progress is waited for. Errors:
 * CSVAVRO_E_NOT_FOUND (no manifest), CSVAVRO_E_CORRUPT (damaged manifest). Free with
 * csvavro_dataset_files_free. */
csvavro_status csvavro_dataset_files(csvavro_fs *fs, const char *dir, char ***files, size_t *n,
                                     csvavro_error *err);
void csvavro_dataset_files_free(char **files, size_t n);
/* The same, pruning partitions before any file is opened: keeps only the files whose Hive
 * partition values (from their paths, unescaped, __HIVE_DEFAULT_PARTITION__ = null; a key
 * whose values are all integers is a long, else a string) satisfy the top-level `and` terms of
 * where that are over partition columns only. The other terms (record columns) prune nothing:
 * csvavro_record_filter applies the whole expression to the records. where NULL or "", or no
 * such term, or a dataset without partitions keeps every file. Errors: those of
 * csvavro_dataset_files. */
csvavro_status csvavro_dataset_files_where(csvavro_fs *fs, const char *dir, const char *where,
                                           char ***files, size_t *n, csvavro_error *err);
/* The schema of a dataset (its manifest's "schema": the latest job's, which reads every file
 * of the dataset) as Avro JSON text (*json: csvavro_free()). CSVAVRO_E_NOT_FOUND without a
 * manifest. */
csvavro_status csvavro_dataset_schema(csvavro_fs *fs, const char *dir, char **json,
                                      csvavro_error *err);

/* A filter expression (the language of csvavro_filter_compile) over the records of the Avro
 * file path, read as the reader schema json `schema` (a dataset's, csvavro_dataset_schema:
 * under Avro's schema resolution, a field the file lacks reads as null) or, NULL, as the file's
 * writer schema; and over the Hive partition columns of rel, the file's name relative to its
 * dataset ("year=2013/month=01/part-0.avro"; NULL for none; a key the records hold is the
 * records'). Columns: the top-level fields of a record schema whose values are scalars
 * (boolean, int, long, float, double, string, bytes, fixed, enum as its symbol, date,
 * timestamp-millis/-micros and the local ones; or a union of null and one of these), and the
 * same inside nested records as dotted paths ("address.city"; null when a record on the path is
 * null); other fields are skipped. Errors at open: CSVAVRO_E_EXPR (with the did-you-mean of
 * csvavro_filter_compile; a term on a field that is no scalar names it and its type),
 * CSVAVRO_E_SCHEMA when the file does not resolve to the reader schema, the reader's errors.
 * With a schema and an expression over partition columns only, the file is not opened. */
typedef struct csvavro_record_filter csvavro_record_filter;
csvavro_status csvavro_record_filter_open(csvavro_fs *fs, const char *path, const char *rel,
                                          const char *schema, const char *where,
                                          csvavro_record_filter **out, csvavro_error *err);
/* 1: every record matches, 0: none (the expression is over partition columns only and nothing
 * is decoded), -1: decided record by record with csvavro_record_filter_next. */
int csvavro_record_filter_constant(const csvavro_record_filter *f);
/* Whether the file's next record matches (*keep 1 or 0), in file order; *keep = -1 after the
 * last. Decodes only the columns the expression names, a block at a time. */
csvavro_status csvavro_record_filter_next(csvavro_record_filter *f, int *keep, csvavro_error *err);
void csvavro_record_filter_close(csvavro_record_filter *f);
/* @@END storage */

/* @@SECTION csv (src/csv) */
/* ======================================================================================
 * CSV reading options (dialect, typing, error policy, inference)
 * ==================================================================================== */

typedef enum csvavro_encoding {
    CSVAVRO_ENCODING_UTF8 = 0,  /* input is UTF-8; invalid UTF-8 in a string column is an error */
    CSVAVRO_ENCODING_LATIN1 = 1 /* input is ISO-8859-1; transcoded to UTF-8 */
} csvavro_encoding;

typedef enum csvavro_on_error {
    CSVAVRO_ON_ERROR_FAIL = 0,  /* stop at the first bad record (default) */
    CSVAVRO_ON_ERROR_SKIP = 1,  /* drop bad records, count them */
    CSVAVRO_ON_ERROR_REJECT = 2 /* drop bad records and write them to reject_file */
} csvavro_on_error;

/* Compression of a CSV input (see csvavro(1), CSV INPUT, "Compressed input and streams"). */
typedef enum csvavro_compression {
    CSVAVRO_COMPRESSION_AUTO = 0, /* magic bytes first, then the file name's extension */
    CSVAVRO_COMPRESSION_NONE = 1,
    CSVAVRO_COMPRESSION_GZIP = 2,  /* gzip, multi-member too (zlib) */
    CSVAVRO_COMPRESSION_BZIP2 = 3, /* bzip2, multi-stream too (libbz2) */
    CSVAVRO_COMPRESSION_ZSTD = 4,  /* zstd, multi-frame too (libzstd) */
    CSVAVRO_COMPRESSION_XZ = 5,    /* xz, concatenated streams too (liblzma) */
    CSVAVRO_COMPRESSION_ZIP = 6    /* a zip archive's one file, or zip_entry (libzip) */
} csvavro_compression;

/* "auto", "none", "gzip", "bzip2", "zstd", "xz", "zip" (and "gz", "bz2", "zst"). */
csvavro_status csvavro_compression_parse(const char *name, csvavro_compression *out);
const char *csvavro_compression_name(csvavro_compression c);

typedef struct csvavro_csv_options {
    /* dialect */
    char delimiter;           /* default ',' ; any single byte */
    char quote;               /* default '"' ; 0 disables quoting */
    char escape;              /* default 0 (RFC 4180: doubled quotes); e.g. '\\' */
    char comment;             /* default 0 (none); lines starting with it are skipped */
    int header;               /* default 1: the first record holds the column names */
    const char *const *names; /* --names: explicit column names (n_names of them) */
    size_t n_names;
    uint64_t skip_rows;             /* lines skipped before the header/data (default 0) */
    const char *const *null_values; /* null markers; default: only the empty field */
    size_t n_null_values;
    csvavro_encoding encoding; /* default UTF-8 */
    size_t max_record_bytes;   /* ceiling on one record (default 64 MiB) */
    /* bad records */
    csvavro_on_error on_error; /* default FAIL */
    const char *reject_file;   /* for REJECT: raw record, reason, location (one per line) */
    uint64_t max_errors;       /* with SKIP/REJECT: fail after this many (0 = unlimited) */
    /* typing and inference */
    uint64_t infer_rows;               /* rows sampled for inference (default 20000);
                                          UINT64_MAX = "all": an exact full pass */
    const char *const *type_overrides; /* "COL=TYPE" strings (--type) */
    size_t n_type_overrides;
    const char *const *not_null; /* columns declared non-nullable (--not-null) */
    size_t n_not_null;
    const char *record_name; /* Avro record name (default "Row") */
    const char *ns;          /* Avro namespace (default "csvavro") */
    /* input decoding */
    csvavro_compression compression; /* default AUTO */
    const char *zip_entry;           /* entry of a zip archive (default: its only file) */
    /* values and columns */
    int skip_initial_space;  /* spaces right after a delimiter are not part of the value (and a
                                quote after them opens a quoted field), as pandas'
                                skipinitialspace; uses the scalar scanner */
    int trim;                /* unquoted values lose surrounding spaces and tabs */
    int keep_empty_columns;  /* keep a last header column with an empty name (default: such a
                                column is dropped and must be empty on every row) */
    csvavro_type timestamps; /* the type of inferred timestamp columns without a zone:
                                0 = LOCAL_TIMESTAMP_MICROS (exact, the default),
                                TIMESTAMP_MILLIS or TIMESTAMP_MICROS (the naive text taken as
                                UTC, as Hive and Spark <= 3.1 read Avro), or STRING */
    int union_by_name;       /* inputs with different headers: one schema, their columns unioned by
                                trimmed header text in first-seen order, types widened (int -> long
                                -> double, other mixes -> string), nullable where some input lacks
                                the column (needs a header; csvavro_csv_infer and jobs) */
} csvavro_csv_options;

/* Fills defaults (see each field). */
void csvavro_csv_options_init(csvavro_csv_options *o);

/* Dialect, as implemented (see csvavro(1), CSV INPUT): CR, LF and CRLF end records; empty lines
 * are skipped; a quote opens a quoted field only at the start of a field (elsewhere it is
 * data); after a closing quote only the delimiter, a line end or a second quote may follow,
 * else the record is bad (CSVAVRO_E_CSV, handled by on_error). A UTF-8 BOM is dropped. Null
 * markers match unquoted fields only; a quoted empty field is "" in string columns and null in
 * the others. With escape set, escape+X stands for X (inside and outside quotes). */

/* Infers a table schema from the inputs (paths on fs, all with the same columns, or any
 * columns with o->union_by_name): header
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
/* Makes csvavro_csv_next_row report as NULL what convert writes as null under schema s (one
 * field per column, e.g. from csvavro_csv_infer): besides null markers, a quoted empty field
 * ("") in a column whose type is neither string nor bytes. s is not kept. CSVAVRO_E_USAGE when
 * the field count differs from the column count. */
csvavro_status csvavro_csv_use_schema(csvavro_csv_reader *r, const csvavro_schema *s,
                                      csvavro_error *err);
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
    csvavro_codec codec; /* default: snappy, see csvavro(1) (chosen by the avro module) */
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
 * ["null", T] with "default": null; logical types as in csvavro(1), AVRO OUTPUT; each field carries
 * the original CSV header in "csvavro.header" when it differs from the name. pretty = 1 indents.
 * *json is allocated (csvavro_free()). */
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

/* Next record (any writer schema: records, enums, arrays, maps, unions of any shape, fixed,
 * logical types) as one line of JSON (no newline), record fields in schema order. *line is
 * borrowed until the next call. At the end of the file returns CSVAVRO_OK with *line = NULL
 * and *len = 0. JSON mapping (Avro's JSON encoding, with readable logical types): null ->
 * null; boolean; int/long -> number; float/double -> shortest round-trip number, NaN and
 * infinities as the strings "NaN", "Infinity", "-Infinity"; string -> JSON string; bytes and
 * fixed -> JSON string with one code point U+0000..U+00FF per byte; record -> object; enum ->
 * its symbol; array -> array; map -> object; union -> the value itself when the union has at
 * most one non-null branch (["null", T], [T, "null"], [T]), else {"branch": value} with the
 * branch's type name (full name for named types) as in Avro's JSON encoding; date ->
 * "YYYY-MM-DD"; time-millis / time-micros -> "HH:MM:SS.fff" / ".ffffff"; timestamp-millis /
 * -micros / -nanos -> "YYYY-MM-DDTHH:MM:SS.fffZ" (3, 6, 9 digits); local-timestamp-* -> the same
 * without "Z"; decimal -> the exact decimal as a string ("-12.30"); uuid -> the string; other
 * logical types -> their base type. CSVAVRO_E_CORRUPT names the record, field and byte. An
 * unknown codec fails here (CSVAVRO_E_UNSUPPORTED), not at open. */
csvavro_status csvavro_avro_reader_next_json(csvavro_avro_reader *r, const char **line, size_t *len,
                                             csvavro_error *err);
/* CSV output: the header line (the top-level record's field names; "value" for a schema that
 * is not a record) and the next record as one CSV line (no newline; NULL at the end), cells as
 * in next_json but strings unquoted as text, null as an empty cell, an empty string as "",
 * nested values as their JSON text; RFC 4180 quoting. Lines are borrowed until the next call. */
csvavro_status csvavro_avro_reader_csv_header(csvavro_avro_reader *r, const char **line,
                                              size_t *len, csvavro_error *err);
csvavro_status csvavro_avro_reader_next_csv(csvavro_avro_reader *r, const char **line, size_t *len,
                                            csvavro_error *err);
/* Reads every record as the reader schema json (e.g. a dataset's: csvavro_dataset_schema)
 * under Avro's schema resolution rules, as csvavro_avro_merge_create describes them: next_json,
 * next_csv and csv_header then follow its fields (a field the file lacks is null). NULL goes
 * back to the writer schema, and so does the writer schema's very text (nothing to resolve).
 * CSVAVRO_E_SCHEMA when the file's schema does not resolve. */
csvavro_status csvavro_avro_reader_use_schema(csvavro_avro_reader *r, const char *json,
                                              csvavro_error *err);
/* Counts the records from the current position to the end without decoding or
 * decompressing: reads each block's count and size and checks its sync marker. */
csvavro_status csvavro_avro_reader_count(csvavro_avro_reader *r, uint64_t *count,
                                         csvavro_error *err);
/* Blocks read so far (the 1-based number of the current block). */
uint64_t csvavro_avro_reader_blocks(const csvavro_avro_reader *r);

/* Column-wise reading: one block at a time, every field (or the chosen ones) as one typed
 * array, for callers that build data frames. A file is read either as JSON records or as
 * columns, not both. */
typedef struct csvavro_column {
    const char *name; /* field name */
    csvavro_type type;
    int nullable;
    const uint8_t *valid;    /* [n_rows] 1 = value, 0 = null; NULL when the field is not nullable */
    const void *values;      /* [n_rows] by type: boolean uint8_t (0/1); int, date int32_t; long
                                and timestamps int64_t; float; double; NULL for string/bytes and
                                null. A null row holds 0. */
    const uint64_t *offsets; /* string/bytes/decimals: [n_rows + 1] offsets into data (value i
                                is data[offsets[i] .. offsets[i+1])); else NULL */
    const char *data;        /* string (valid UTF-8) / bytes contents, not NUL-terminated; a
                                decimal (bytes or fixed) is its unscaled integer as stored:
                                big-endian two's complement (scale: the writer schema's) */
} csvavro_column;

/* Reads only these fields, in this order (names as in the writer schema). CSVAVRO_E_SCHEMA for
 * an unknown or repeated name. n = 0 restores every field. Call before the first block. */
csvavro_status csvavro_avro_reader_select(csvavro_avro_reader *r, const char *const *names,
                                          size_t n, csvavro_error *err);
/* Decodes the next block: *cols gets *n_cols columns of *n_rows rows each, borrowed until the
 * next call or close. At the end of the file *n_rows = 0. Errors as csvavro_avro_reader_next_json
 * (CSVAVRO_E_CORRUPT with offset and record). Memory: about the block's decoded size. */
csvavro_status csvavro_avro_reader_next_columns(csvavro_avro_reader *r, const csvavro_column **cols,
                                                size_t *n_cols, size_t *n_rows, csvavro_error *err);
/* Merging container files into one (csvavro cat --format avro). Every record is decoded with
 * its file's writer schema and encoded for the output schema: schema_json, or NULL for the
 * first added file's writer schema. A file whose schema does not resolve to it under Avro's
 * schema resolution rules (records by field name, a field missing from the file read as null
 * when its type is a union whose first branch is null, promotions int -> long -> float ->
 * double and string <-> bytes, enums by symbol) fails with CSVAVRO_E_SCHEMA before its first
 * record. extra_names (n_extra) are fields appended to the top-level record, ["null", "long"]
 * when extra_long[i] else ["null", "string"], default null, one value per file (a dataset's
 * partition columns); a name the record already has is not added. The output goes through
 * write(ctx, bytes, n, err) (returning CSVAVRO_OK, or a csvavro_status with err set) in order:
 * header, then blocks of about o->block_size bytes compressed with o->codec (o->meta is ignored).
 * Damaged input fails as the reader does. */
typedef int (*csvavro_avro_write_fn)(void *ctx, const void *p, size_t n, csvavro_error *err);
typedef struct csvavro_avro_merge csvavro_avro_merge;
csvavro_status csvavro_avro_merge_create(csvavro_avro_write_fn write, void *ctx,
                                         const char *schema_json, const char *const *extra_names,
                                         const int *extra_long, size_t n_extra,
                                         const csvavro_avro_options *o, csvavro_avro_merge **m,
                                         csvavro_error *err);
/* Appends every record of the file; extra_values[i] NULL is null (extra_long: decimal text). */
csvavro_status csvavro_avro_merge_add(csvavro_avro_merge *m, csvavro_fs *fs, const char *path,
                                      const char *const *extra_values, csvavro_error *err);
/* The same keeping only some records: keep(keep_ctx, &k, err) is called once per record of the
 * file, in file order, after the record was decoded; it is written when k is 1, dropped when 0
 * (e.g. csvavro_record_filter_next's answer). A status other than CSVAVRO_OK (err set), or k
 * -1 (the filter ended before the records: CSVAVRO_E_INTERNAL), stops with that error. */
typedef int (*csvavro_avro_keep_fn)(void *keep_ctx, int *keep, csvavro_error *err);
csvavro_status csvavro_avro_merge_add_filtered(csvavro_avro_merge *m, csvavro_fs *fs,
                                               const char *path, const char *const *extra_values,
                                               csvavro_avro_keep_fn keep, void *keep_ctx,
                                               csvavro_error *err);
/* Writes the last block (and the header when no file was added); *records: records written. */
csvavro_status csvavro_avro_merge_finish(csvavro_avro_merge *m, uint64_t *records,
                                         csvavro_error *err);
void csvavro_avro_merge_free(csvavro_avro_merge *m);
/* @@END avro */

/* @@SECTION filter (src/filter) */
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
 * The man page csvavro(1), FILTER EXPRESSIONS, has the full grammar and more examples.
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
/* Canonical text, parenthesised only where needed, e.g. "passenger_count > 3 and (a or b)";
 * it compiles again to the same filter. Borrowed from f. */
const char *csvavro_filter_text(const csvavro_filter *f);
/* The schema columns (field indexes) the filter reads, ascending and unique. */
size_t csvavro_filter_column_count(const csvavro_filter *f);
size_t csvavro_filter_column(const csvavro_filter *f, size_t i);
/* @@END filter */

/* @@SECTION job (src/exec) */
/* ======================================================================================
 * Jobs: CSV in, filtered and projected Avro out
 *
 * A job converts one or more CSV inputs (files, directories, globs; local or hdfs://) into
 * Avro object container files. It runs in two stages:
 *
 *   planning   (csvavro_job_plan)     lists the inputs, reads each header once, infers the
 *              schema (or parses options.schema_json), applies select/exclude/rename,
 *              compiles the where expression, cuts the inputs into splits and checks the
 *              destination. Nothing is written and no data beyond the header and the inference
 *              sample is read. Every error a user can make in options surfaces here.
 *   execution  (csvavro_job_execute)  runs the splits on a pool of worker threads, writes
 *              every output under a temporary directory beside the destination and commits
 *              (renames to the final names, then writes _SUCCESS) only when every split
 *              succeeded. On failure or cancellation the temporary directory is removed and
 *              nothing is left where a finished file is expected.
 *
 * csvavro_job_run() does both in one call. Output forms (options.output):
 *   "dir/trip.*.avro"  a pattern: one file per split, '*' replaced by the split number counted
 *                      across all inputs in order, without padding (trip.0.avro, trip.1.avro…);
 *   "dir/" or an existing directory: one file per split named part-NNNNN.avro (5 digits,
 *                      zero-padded, more digits only past 99999 splits) inside it;
 *   "dir/trip.avro"    a single file: the blocks of all splits, in split order, behind one
 *                      header (one sync marker).
 * _SUCCESS (a JSON manifest) goes into the output directory (the directory form) or beside the
 * output files (the other forms). See csvavro(1), OUTPUT, for the manifest and docs/splits.md for
 * how splits are cut and verified.
 * ==================================================================================== */

typedef struct csvavro_job csvavro_job;

/* How progress is shown on stderr while csvavro_job_execute runs. */
typedef enum csvavro_progress_mode {
    CSVAVRO_PROGRESS_NONE = 0,  /* nothing (the default for library callers) */
    CSVAVRO_PROGRESS_AUTO = 1,  /* BAR when stderr is a terminal, else LINES */
    CSVAVRO_PROGRESS_BAR = 2,   /* one live line redrawn in place (\r), summary at the end */
    CSVAVRO_PROGRESS_LINES = 3, /* a plain line every progress_interval_ms, summary at the end */
    CSVAVRO_PROGRESS_JSON = 4   /* one JSON object per line ("event":"progress"/"done") */
} csvavro_progress_mode;

/* Counters of a job. Live values (progress callback) are approximate: they are updated once
 * per batch and include splits that are later re-run (see docs/splits.md); the values returned
 * by csvavro_job_execute are exact and describe the committed output. */
typedef struct csvavro_job_stats {
    uint64_t inputs;        /* input files */
    uint64_t splits;        /* splits planned */
    uint64_t splits_done;   /* splits finished (live) */
    uint64_t splits_rerun;  /* speculative splits re-run after a failed verification */
    uint64_t bytes_total;   /* input bytes to read (sum of input sizes) */
    uint64_t bytes_read;    /* input bytes consumed */
    uint64_t rows_read;     /* data records parsed (rejected ones included) */
    uint64_t rows_kept;     /* rows written */
    uint64_t rows_rejected; /* bad records skipped or rejected (--on-error) */
    uint64_t files_written; /* output files committed */
    uint64_t bytes_written; /* output bytes committed (Avro files) */
    double elapsed_s;       /* wall time of execute */
    int output_existed;     /* mode IGNORE: the output existed, nothing was written */
} csvavro_job_stats;

/* Progress callback: called from the thread that runs csvavro_job_execute (never from a worker)
 * about every progress_interval_ms with live counters, and once more with final = 1. */
typedef void (*csvavro_progress_fn)(const csvavro_job_stats *stats, int final, void *user);

/* What a job does with an existing output (Spark's save modes). For pattern and directory
 * outputs the output is the dataset in that directory (its manifest _SUCCESS, docs/datasets.md);
 * for a single file, that file.
 *   ERROR     refuse (CSVAVRO_E_EXISTS) when the dataset or file exists, or a file this job
 *             would write is already there
 *   OVERWRITE replace the whole dataset (or the file) at commit: the old manifest's files
 *             are deleted once the new manifest is in place; files no manifest lists stay
 *   APPEND    add this job's files (names carry a tag unique to the job) and list them in
 *             the manifest beside the earlier jobs'; the job's schema must read every earlier
 *             schema under Avro's resolution rules (checked before any byte is written).
 *             Not for single files.
 *   IGNORE    write nothing and succeed when the output exists (stats.output_existed) */
typedef enum csvavro_write_mode {
    CSVAVRO_MODE_ERROR = 0,
    CSVAVRO_MODE_OVERWRITE = 1,
    CSVAVRO_MODE_APPEND = 2,
    CSVAVRO_MODE_IGNORE = 3
} csvavro_write_mode;

typedef struct csvavro_job_options {
    /* inputs: files, directories (their files in name order, names starting with '.' or '_'
     * skipped) or globs ('*', '?', '[...]' in the last path component); URLs or local paths.
     * All inputs must have the same columns. Borrowed until csvavro_job_free. */
    const char *const *inputs;
    size_t n_inputs;
    const char *output;        /* pattern with '*', directory, or file (see above) */
    csvavro_csv_options csv;   /* dialect, typing, --on-error, --reject-file, inference */
    csvavro_avro_options avro; /* codec, level, block size, seed, metadata */
    const char *schema_json;   /* NULL: infer; else an Avro record schema (.avsc text): with a
                                  header its fields take the CSV columns by name (trimmed
                                  header text, or the Avro name inference would give it, or
                                  the field's csvavro.header attribute), a field no column
                                  has takes its "default" (none: CSVAVRO_E_SCHEMA), columns
                                  no field takes are dropped (a note); without a header
                                  (csv.header 0) the fields are the columns in order */
    const char *schema_source; /* where schema_json came from (a path), for messages */
    int strict_schema;         /* 1: a CSV column the schema lacks is an error, not dropped */
    const char *where;         /* NULL or a filter expression (csvavro(1)) */
    const char *const *select; /* output columns in this order (Avro name or header text) */
    size_t n_select;
    const char *const *exclude; /* columns dropped (after select) */
    size_t n_exclude;
    const char *const *rename; /* "old=new" output renames (after select/exclude) */
    size_t n_rename;
    uint64_t limit;          /* at most this many rows, the first ones in input order
                                (UINT64_MAX = no limit, the default) */
    uint64_t split_size;     /* bytes per split (default 64 MiB) */
    int threads;             /* worker threads (default 0 = all online CPUs) */
    uint32_t batch_rows;     /* rows per column batch (default 16384) */
    size_t read_buffer;      /* CSV read buffer per worker, bytes (default 1 MiB) */
    csvavro_write_mode mode; /* what to do when the output exists (default ERROR) */
    int overwrite;           /* 1: the same as mode OVERWRITE (kept for callers) */
    /* Hive-style partitions (docs/datasets.md "Partitioned output"): each spec is COL,
     * year(COL), month(COL), day(COL), hour(COL) (of a date or timestamp column) or
     * NAME=FUNC(COL); files go to OUT/name=value/.../part-<split>-<seq>.avro. Plain partition
     * columns are left out of the records unless keep_partition_columns. Each worker buffers
     * at most partition_buffer bytes of encoded rows (default 32 MiB) and then writes one file
     * per buffered partition, so memory is bounded whatever the number of partitions. Not for
     * single-file outputs. */
    const char *const *partition_by;
    size_t n_partition_by;
    int keep_partition_columns;
    uint64_t partition_buffer;
    /* Single-file output with several threads: the encoded blocks of the splits that run ahead
     * of the one being written are kept in memory, at most reorder_buffer bytes for the whole
     * job (default 64 MiB; below 4096 nothing is kept), and past that in a split file that is
     * copied into the output when its turn comes. With the default split_size such a job is
     * cut into splits small enough for it (docs/splits.md). */
    uint64_t reorder_buffer;
    int dry_run;                     /* 1: execute only plans (csvavro_job_run returns after it) */
    int stale_hours;                 /* temporary dirs of dead runs older than this are removed
                                        (default 24; those of dead local pids at once) */
    csvavro_progress_mode progress;  /* default NONE */
    int progress_interval_ms;        /* default 1000 (BAR: 200) */
    csvavro_progress_fn progress_fn; /* optional callback (any mode) */
    void *progress_user;
    const volatile int *cancel; /* optional: when *cancel becomes nonzero (e.g. set by a
                                   signal handler) the job stops within one batch, removes its
                                   temporary files and returns CSVAVRO_E_INTERRUPTED */
} csvavro_job_options;

/* Fills defaults: csv and avro options initialised by their own init functions, limit
 * UINT64_MAX, split_size 64 MiB, threads 0, batch_rows 16384, read_buffer 1 MiB,
 * stale_hours 24, progress NONE, everything else 0/NULL. */
void csvavro_job_options_init(csvavro_job_options *o);

/* One call: create, plan, execute (unless o->dry_run), free. stats may be NULL. */
csvavro_status csvavro_job_run(const csvavro_job_options *o, csvavro_job_stats *stats,
                               csvavro_error *err);

/* Creates a job. The options struct is copied; every pointer inside it (strings, lists) is
 * borrowed and must stay valid until csvavro_job_free. Errors: CSVAVRO_E_USAGE for missing
 * inputs/output or out-of-range numbers. */
csvavro_status csvavro_job_create(const csvavro_job_options *o, csvavro_job **out,
                                  csvavro_error *err);
/* Plans the job (see above). Errors: CSVAVRO_E_NOT_FOUND (an input or glob matched nothing),
 * CSVAVRO_E_CSV (no input has a header and no schema was given; inputs with different
 * columns), CSVAVRO_E_SCHEMA (bad schema_json, unknown or duplicate column in select/exclude/
 * rename), CSVAVRO_E_EXPR (where: syntax or type error, err->offset = position),
 * CSVAVRO_E_EXISTS (output exists and overwrite is 0), I/O errors. May be called once. */
csvavro_status csvavro_job_plan(csvavro_job *job, csvavro_error *err);
/* Runs a planned job. stats (may be NULL) receives the final counters. The first error of any
 * split is returned with its location (path, line, byte offset, column, value) and prefixed by
 * "split N: "; CSVAVRO_E_INTERRUPTED when cancelled. After an error nothing is committed.
 * May be called once. */
csvavro_status csvavro_job_execute(csvavro_job *job, csvavro_job_stats *stats, csvavro_error *err);
void csvavro_job_free(csvavro_job *job);

/* ---- plan inspection (after csvavro_job_plan; results borrowed from the job) ---- */

/* One split: a byte range of one input. The range is cut at byte positions; the records it
 * yields are those starting inside it (docs/splits.md). */
typedef struct csvavro_split_info {
    size_t input;   /* index into the input files (csvavro_job_input_path) */
    int64_t offset; /* first byte */
    int64_t length; /* bytes */
    int n_hosts;    /* replica hosts of the HDFS block holding it (0 locally) */
    const char *hosts[8];
    const char *output; /* final output file of this split (the single file in that form) */
    /* a split of a bzip2 or multi-frame zstd input (offset/length: compressed bytes): the
     * zstd frames / bzip2 block markers starting in it (-1: not counted), else -1 */
    int64_t chunks;
} csvavro_split_info;

size_t csvavro_job_input_count(const csvavro_job *job);
/* Backend path (or URL for hdfs) of input i and its size in bytes. */
const char *csvavro_job_input_path(const csvavro_job *job, size_t i);
int64_t csvavro_job_input_size(const csvavro_job *job, size_t i); /* -1: decoded or a stream */
/* Notes from planning a person should see (one per line, e.g. a dropped empty column), or
 * NULL. */
const char *csvavro_job_notes(const csvavro_job *job);
/* With schema_json and a header, or csv.union_by_name: which CSV column (or default) each
 * schema field takes, per distinct input layout, as text lines (what --dry-run prints);
 * else NULL. */
const char *csvavro_job_mapping(const csvavro_job *job);
/* "none", "gzip", "bzip2", "zstd", "xz" or "zip": how input i is decoded. */
const char *csvavro_job_input_codec(const csvavro_job *job, size_t i);
/* Whether input i is cut into several splits at bzip2 block / zstd frame boundaries (1) or not
 * (0); *compressed_size gets its size in compressed bytes when 1 (may be NULL). */
int csvavro_job_input_split_compressed(const csvavro_job *job, size_t i, int64_t *compressed_size);
size_t csvavro_job_split_count(const csvavro_job *job);
/* Returns 0 and fills *out, or -1 when i is out of range. */
int csvavro_job_split(const csvavro_job *job, size_t i, csvavro_split_info *out);
/* The output schema (after select/exclude/rename), fixed for every output file. */
const csvavro_schema *csvavro_job_schema(const csvavro_job *job);
/* The canonical text of the compiled filter, or NULL without one. */
const char *csvavro_job_where_text(const csvavro_job *job);
/* Worker threads that execute will use. */
int csvavro_job_threads(const csvavro_job *job);
/* With --partition-by: the layout rule of the output files, e.g.
 * "out/year=<year(pickup_datetime)>/month=<month(pickup_datetime)>/part-<split>-<seq>.avro"
 * (borrowed from the job); NULL otherwise. */
const char *csvavro_job_partition_layout(csvavro_job *job);
/* The whole plan as JSON (inputs, splits, schema, outputs, options), as --dry-run prints it.
 * *json is allocated (csvavro_free()). */
csvavro_status csvavro_job_plan_json(const csvavro_job *job, char **json, csvavro_error *err);

/* ---- a job run in parts: splits in other processes (Python's dask integration uses this) ----
 *
 * The process that plans (the driver) begins the job and hands out its plan; any process that
 * reaches the inputs and the destination (the same machine, or HDFS for both) opens the plan
 * with the driver's options and runs splits; each run gives a result that the driver adds; the
 * driver then finishes: splits without a result run there, the verification walk, --limit and
 * --max-errors follow (docs/splits.md), and the commit is csvavro_job_execute's. The files are
 * those one csvavro_job_execute writes (byte for byte with avro.has_seed). A split may run more
 * than once (a lost worker, a retry): each run replaces the files of the previous one and the
 * result added last counts (with partition_by: each run's part files have names unique to the
 * run, and the result tells the driver where they are). Plans and results are JSON text,
 * allocated (csvavro_free()). */

/* Driver, after csvavro_job_plan (instead of csvavro_job_execute): creates the temporary
 * directory beside the destination and returns the plan. From here on, csvavro_job_free
 * removes the temporary directory unless csvavro_job_finish committed. */
csvavro_status csvavro_job_begin(csvavro_job *job, void **plan, size_t *plan_len,
                                 csvavro_error *err);
/* Worker: a job that runs splits of the plan. o must be the driver's options (same where,
 * select, CSV and Avro options; threads and progress may differ): CSVAVRO_E_USAGE when they
 * give another output schema or filter. The inputs are not read here. */
csvavro_status csvavro_job_open_plan(const csvavro_job_options *o, const void *plan,
                                     size_t plan_len, csvavro_job **out, csvavro_error *err);
/* Worker: runs split i on the calling thread (polling o->cancel) and returns its result. The
 * split's own failure (bad data, I/O, cancel) is inside the result, for the driver to judge,
 * and is also copied to err while the return value stays CSVAVRO_OK; other statuses (bad i,
 * CSVAVRO_E_NOT_FOUND when the driver already removed the temporary directory) give no result. */
csvavro_status csvavro_job_run_split(csvavro_job *job, size_t i, void **result, size_t *result_len,
                                     csvavro_error *err);
/* Driver: adds a split's result. Returns the split's failure (prefixed "split N: ") when it
 * certainly fails the job (then free the job: nothing is committed); a data error of a split
 * that started speculatively returns CSVAVRO_OK here and is judged by csvavro_job_finish. */
csvavro_status csvavro_job_add_result(csvavro_job *job, const void *result, size_t len,
                                      csvavro_error *err);
/* Driver: runs here the splits that have no result, verifies, commits (or discards) and fills
 * stats, as csvavro_job_execute does. May be called once. */
csvavro_status csvavro_job_finish(csvavro_job *job, csvavro_job_stats *stats, csvavro_error *err);
/* @@END job */

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* CSVAVRO_H */
