/*
 * fuzz_util.h — shared helpers of the libFuzzer targets in tests/fuzz/: a check that aborts
 * (so libFuzzer records the input), a reader over the fuzz bytes, and an in-memory storage
 * backend (csvavro_fs / csvavro_file) so that targets never touch the disk.
 *
 * Header-only (static functions): each target is one .c file linked either with libFuzzer
 * (build-fuzz) or with replay_main.c (the CTest regression driver, any compiler).
 */
#ifndef CAV_FUZZ_UTIL_H
#define CAV_FUZZ_UTIL_H

#include "core/core.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding: print and abort so that libFuzzer (or the replay driver) reports the input. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FUZZ CHECK FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---------------------------------------------------------------- fuzz byte reader */

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}
static inline uint32_t fz_u32(fz_in *in) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | fz_u8(in);
    return v;
}
/* Up to n bytes (fewer at the end of the input). */
static inline const uint8_t *fz_take(fz_in *in, size_t n, size_t *got) {
    const uint8_t *p = in->p;
    *got = CAV_MIN(n, in->n);
    in->p += *got;
    in->n -= *got;
    return p;
}

/* ---------------------------------------------------------------- in-memory storage */

typedef struct fz_mfile {
    csvavro_file base;
    cav_buf *data; /* the file's bytes (owned by the fs entry) */
    int writable;
} fz_mfile;

static csvavro_status fz_m_pread(csvavro_file *file, void *buf, size_t len, int64_t off,
                                 size_t *got, csvavro_error *err) {
    fz_mfile *f = (fz_mfile *)file;
    *got = 0;
    if (off < 0) return cav_err(err, CSVAVRO_E_USAGE, "negative offset");
    if ((uint64_t)off >= f->data->len) return CSVAVRO_OK;
    size_t k = CAV_MIN(len, f->data->len - (size_t)off);
    if (k) memcpy(buf, f->data->data + off, k);
    *got = k;
    return CSVAVRO_OK;
}
static csvavro_status fz_m_write(csvavro_file *file, const void *buf, size_t len,
                                 csvavro_error *err) {
    fz_mfile *f = (fz_mfile *)file;
    if (!f->writable) return cav_err(err, CSVAVRO_E_USAGE, "read-only");
    CAV_TRY(cav_buf_append(f->data, buf, len, err));
    f->base.size = (int64_t)f->data->len;
    return CSVAVRO_OK;
}
static csvavro_status fz_m_close(csvavro_file *file, csvavro_error *err) {
    (void)err;
    free(file);
    return CSVAVRO_OK;
}
static void fz_m_abort(csvavro_file *file) {
    free(file);
}
static const cav_file_ops fz_mfile_ops = {fz_m_pread, fz_m_write, fz_m_close, fz_m_abort};

/* A file over data (not copied; must outlive the file). */
static inline csvavro_file *fz_mem_file(cav_buf *data, int writable) {
    fz_mfile *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->base.ops = &fz_mfile_ops;
    f->base.size = (int64_t)data->len;
    f->base.path = (char *)"mem";
    f->data = data;
    f->writable = writable;
    return &f->base;
}

/* A one-file fs: every path names the same buffer. */
typedef struct fz_mfs {
    csvavro_fs base;
    cav_buf data;
} fz_mfs;

static csvavro_status fz_fs_stat(csvavro_fs *fs, const char *path, csvavro_stat *st,
                                 csvavro_error *err) {
    (void)path, (void)err;
    memset(st, 0, sizeof *st);
    st->size = (int64_t)((fz_mfs *)fs)->data.len;
    return CSVAVRO_OK;
}
static csvavro_status fz_fs_open_read(csvavro_fs *fs, const char *path, csvavro_file **f,
                                      csvavro_error *err) {
    (void)path, (void)err;
    *f = fz_mem_file(&((fz_mfs *)fs)->data, 0);
    return CSVAVRO_OK;
}
static csvavro_status fz_fs_create(csvavro_fs *fs, const char *path, int overwrite,
                                   csvavro_file **f, csvavro_error *err) {
    (void)path, (void)overwrite, (void)err;
    cav_buf_reset(&((fz_mfs *)fs)->data);
    *f = fz_mem_file(&((fz_mfs *)fs)->data, 1);
    return CSVAVRO_OK;
}
static char *fz_fs_url(const csvavro_fs *fs, const char *path) {
    (void)fs;
    return strdup(path);
}
static void fz_fs_destroy(csvavro_fs *fs) {
    (void)fs;
}
static const cav_fs_ops fz_fs_ops = {
    .scheme = "file",
    .stat = fz_fs_stat,
    .open_read = fz_fs_open_read,
    .create = fz_fs_create,
    .url = fz_fs_url,
    .destroy = fz_fs_destroy,
};

static inline void fz_mfs_init(fz_mfs *m) {
    m->base.ops = &fz_fs_ops;
    cav_buf_init(&m->data, 0);
}
static inline void fz_mfs_set(fz_mfs *m, const uint8_t *p, size_t n) {
    cav_buf_reset(&m->data);
    if (cav_buf_append(&m->data, p, n, NULL) != CSVAVRO_OK) abort();
}
static inline void fz_mfs_free(fz_mfs *m) {
    cav_buf_free(&m->data);
}

#endif /* CAV_FUZZ_UTIL_H */
