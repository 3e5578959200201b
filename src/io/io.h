/*
 * io.h — the storage interface behind csvavro_fs: a small vtable per backend.
 *
 * The local backend lives in io_local.c; the HDFS backend (src/hdfs) registers itself through
 * cav_io_register_hdfs() so that io never depends on hdfs. URL parsing is here too.
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
    int64_t size; /* for reads: file size at open */
    char *path;   /* for messages (owned by the backend file) */
    bool scratch; /* set after create: an intermediate file that is copied into the real
                     output before anyone relies on it, so close need not make it durable
                     (the local backend skips the fsync) */
};

/* Factory for hdfs:// URLs, implemented by src/hdfs: given "host:port" (or "" for the
 * default NameNode from the environment/config) creates a backend. A strong reference: any
 * program that links io links the HDFS client too, so hdfs:// works from libcsvavro.a. */
csvavro_status cav_hdfs_fs_create(const char *authority, csvavro_fs **fs, csvavro_error *err);

/* The local backend (a process-wide singleton; close is a no-op). */
csvavro_fs *cav_io_local(void);

/* Splits a URL into scheme ("file"/"hdfs"), authority and path. Plain paths are "file".
 * Returns false on unknown schemes. Outputs are newly allocated. */
bool cav_url_split(const char *url, char **scheme, char **authority, char **path);

/* True if url has a scheme other than file (e.g. hdfs://). */
bool cav_url_is_remote(const char *url);

#endif /* CAV_IO_H */
