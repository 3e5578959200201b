/*
 * io.h — the storage interface behind csvavro_fs: a small vtable per backend.
 *
 * Every fs operation is a slot of cav_fs_ops; the public csvavro_fs_* calls (io_fs.c) only add
 * the path to errors. The local backend lives in io_local.c, the HDFS backend in src/hdfs. io
 * knows no backend but its own: the table of backends by URL scheme lives above both layers
 * (src/backend/backend.c, as curl's TLS backends), which calls cav_fs_open_url() with it.
 * URL parsing is here too.
 */
#ifndef CAV_IO_H
#define CAV_IO_H

#include "../core/core.h"

typedef struct cav_fs_ops {
    const char *scheme;
    csvavro_status (*stat)(csvavro_fs *fs, const char *path, csvavro_stat *st, csvavro_error *err);
    csvavro_status (*list)(csvavro_fs *fs, const char *path, csvavro_dirent **out, size_t *n,
                           csvavro_error *err);
    csvavro_status (*mkdir)(csvavro_fs *fs, const char *path, int parents, csvavro_error *err);
    csvavro_status (*remove)(csvavro_fs *fs, const char *path, int recursive, csvavro_error *err);
    csvavro_status (*rename)(csvavro_fs *fs, const char *from, const char *to, int overwrite,
                             csvavro_error *err);
    csvavro_status (*blocks)(csvavro_fs *fs, const char *path, csvavro_block **out, size_t *n,
                             csvavro_error *err);
    csvavro_status (*space)(csvavro_fs *fs, const char *path, int64_t *cap, int64_t *used,
                            int64_t *remaining, csvavro_error *err);
    csvavro_status (*open_read)(csvavro_fs *fs, const char *path, csvavro_file **f,
                                csvavro_error *err);
    csvavro_status (*create)(csvavro_fs *fs, const char *path, int overwrite, csvavro_file **f,
                             csvavro_error *err);
    /* total length, files and directories under path (cav_fs_du_walk is the generic one) */
    csvavro_status (*content_summary)(csvavro_fs *fs, const char *path, int64_t *length,
                                      int64_t *files, int64_t *dirs, csvavro_error *err);
    char *(*url)(const csvavro_fs *fs, const char *path);
    void (*destroy)(csvavro_fs *fs);
} cav_fs_ops;

/* Every backend's fs struct starts with this header. */
struct csvavro_fs {
    const cav_fs_ops *ops;
};

typedef struct cav_file_ops {
    csvavro_status (*pread)(csvavro_file *f, void *buf, size_t len, int64_t off, size_t *got,
                            csvavro_error *err);
    csvavro_status (*write)(csvavro_file *f, const void *buf, size_t len, csvavro_error *err);
    csvavro_status (*close)(csvavro_file *f, csvavro_error *err);
    void (*abort)(csvavro_file *f);
} cav_file_ops;

/* Every backend's file struct starts with this header. */
struct csvavro_file {
    const cav_file_ops *ops;
    int64_t size;    /* for reads: file size at open */
    char *path;      /* for messages (owned by the backend file) */
    bool scratch;    /* set after create: an intermediate file that is copied into the real
                        output before anyone relies on it, so close need not make it durable
                        (the local backend skips the fsync) */
    bool sequential; /* a decoded or streamed input (io_input.c): size is CAV_SIZE_UNKNOWN,
                        reads should move forward (going back restarts the decoder, or fails
                        on a stream) */
    uint8_t codec;   /* csvavro_compression of a decoded input (NONE otherwise) */
    bool stream;     /* read once (stdin, a pipe): going back before the kept head fails */
};

/* The size of a sequential input: not known before it has been read to its end. Far from
 * INT64_MAX so that offset arithmetic cannot overflow. */
#define CAV_SIZE_UNKNOWN (INT64_MAX / 4)

/* A backend for the URLs of one scheme: create makes an fs for the URL's authority ("" when
 * the URL has none, e.g. the default NameNode). */
typedef struct cav_fs_backend {
    const char *scheme;
    csvavro_status (*create)(const char *authority, csvavro_fs **fs, csvavro_error *err);
} cav_fs_backend;

/* csvavro_fs_open_url over the n backends of table (the caller is the layer that knows them:
 * src/backend). Unknown schemes are CSVAVRO_E_USAGE. */
csvavro_status cav_fs_open_url(const cav_fs_backend *table, size_t n, const char *url,
                               csvavro_fs **fs, char **path_out, csvavro_error *err);

/* The local backend (a process-wide singleton; close is a no-op), and its factory. */
csvavro_fs *cav_io_local(void);
csvavro_status cav_io_local_create(const char *authority, csvavro_fs **fs, csvavro_error *err);

/* Content summary by walking the tree with stat and list (backends without a cheaper way). */
csvavro_status cav_fs_du_walk(csvavro_fs *fs, const char *path, int64_t *length, int64_t *files,
                              int64_t *dirs, csvavro_error *err);

/* Splits a URL into scheme (lower case; plain paths are "file"), authority and path. Returns
 * false when out of memory. Outputs are newly allocated. */
bool cav_url_split(const char *url, char **scheme, char **authority, char **path);

/* ---- CSV inputs (io_input.c) ----
 * Opens an input for CSV reading: comp AUTO detects gzip/bzip2/zstd/xz/zip by magic bytes,
 * then by the name's extension (a .gz that is not gzip is an error); a compressed input is
 * decoded as a stream with bounded memory (the returned file is sequential, size
 * CAV_SIZE_UNKNOWN). A stream path ("-" = stdin, /dev/stdin, a FIFO, any non-seekable local
 * file) is read once for the whole process: every open returns a view on one shared
 * reader that keeps the stream's head (up to CAV_STREAM_HEAD bytes) so that the header and
 * schema inference can be replayed by the conversion. */
#define CAV_STREAM_HEAD ((size_t)64 << 20)
csvavro_status cav_input_open(csvavro_fs *fs, const char *path, csvavro_compression comp,
                              const char *zip_entry, csvavro_file **f, csvavro_error *err);
/* True if path on fs is read as a stream (see above). */
bool cav_input_is_stream(csvavro_fs *fs, const char *path);
/* Decodes a whole in-memory input (gzip, bzip2, zstd, xz or zip; AUTO detects) with the same
 * decoders, into out[0..cap); CSVAVRO_E_LIMIT when the output is longer than cap (fuzzing and
 * tests: truncated, corrupt and bomb inputs). */
csvavro_status cav_input_decode_buffer(const uint8_t *data, size_t len, csvavro_compression comp,
                                       uint8_t *out, size_t cap, size_t *out_len,
                                       csvavro_error *err);

/* ---- exact splits of compressed inputs (io_chunks.c: bzip2 blocks, zstd frames) ----
 * An input is cut into compressed byte ranges start[0] = 0 < start[1] < …; a chunk (bzip2
 * block, zstd frame) belongs to the range holding its first byte. */
typedef struct cav_chunk_cuts {
    csvavro_compression codec; /* BZIP2 or ZSTD */
    int64_t csize;             /* compressed size */
    int64_t *start;            /* n range starts */
    int64_t *chunks;           /* per range: zstd frames, bzip2 candidate block magics (-1: not
                                  counted) */
    size_t n;
    bool seek_table; /* zstd: the cuts come from the seekable format's seek table */
} cav_chunk_cuts;
/* Cuts path (bzip2: ranges of split_size bytes, block magics counted only if count; zstd:
 * ranges of whole frames, a new range at the first frame starting split_size bytes after the
 * current range's start, from the seek table or by walking the frames). */
csvavro_status cav_chunks_cut(csvavro_fs *fs, const char *path, const char *display,
                              csvavro_compression c, int64_t split_size, bool count,
                              cav_chunk_cuts *out, csvavro_error *err);
void cav_chunk_cuts_free(cav_chunk_cuts *c);
/* The decoded view of range own: local offset 0 = the first byte of its first chunk; it goes on
 * through the later ranges' chunks to the end of the input (size CAV_SIZE_UNKNOWN). */
csvavro_status cav_chunks_open(csvavro_fs *fs, const char *path, const char *display,
                               const cav_chunk_cuts *cuts, size_t own, csvavro_file **f,
                               csvavro_error *err);
/* Where the view's own bytes end (local), -1 until the view has decoded that far: it is known
 * before any later range's byte is handed out. */
const int64_t *cav_chunks_own_end(csvavro_file *f);
/* True when range own holds no chunk at all (known at open, nothing decoded). */
bool cav_chunks_own_empty(csvavro_file *f);
/* Local offset -> (range, offset in that range's decoded bytes), for a local offset the view
 * has decoded up to. A boundary between two ranges is the end of the first: off is in
 * (0, bytes of the range], or 0 only at the very start of range own. */
void cav_chunks_locate(csvavro_file *f, int64_t local, size_t *owner, int64_t *off);
/* Fuzzing and tests: cuts an in-memory input (codec BZIP2 or ZSTD) at split_size and decodes
 * every range's own bytes through its view, concatenated into out[0..cap). */
csvavro_status cav_chunks_decode_buffer(const uint8_t *data, size_t len, csvavro_compression c,
                                        int64_t split_size, uint8_t *out, size_t cap,
                                        size_t *out_len, size_t *n_splits, csvavro_error *err);

#endif /* CAV_IO_H */
