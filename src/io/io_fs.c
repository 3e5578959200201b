/*
 * io_fs.c — the public csvavro_fs_* calls: URL dispatch over a table of backends (given by
 * src/backend), then thin wrappers over the backend vtable that add the path to errors.
 */
#include "io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cav_url_split(const char *url, char **scheme, char **authority, char **path) {
    const char *sch = "file", *auth = "", *p = url;
    size_t auth_len = 0;
    char schbuf[16];
    const char *colon = strchr(url, ':');
    const char *slash = strchr(url, '/');
    if (colon && (!slash || colon < slash) && colon > url &&
        (size_t)(colon - url) < sizeof schbuf) {
        size_t n = (size_t)(colon - url);
        bool alpha = true;
        for (size_t i = 0; i < n; i++)
            if (!((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z')))
                alpha = false;
        if (alpha && n > 1) { /* n == 1 could be a Windows drive; never a scheme here */
            memcpy(schbuf, url, n);
            schbuf[n] = '\0';
            for (size_t i = 0; i < n; i++)
                if (schbuf[i] >= 'A' && schbuf[i] <= 'Z') schbuf[i] = (char)(schbuf[i] - 'A' + 'a');
            sch = schbuf;
            p = colon + 1;
            if (p[0] == '/' && p[1] == '/') {
                p += 2;
                const char *e = strchr(p, '/');
                auth = p;
                auth_len = e ? (size_t)(e - p) : strlen(p);
                p = e ? e : "/";
            }
        }
    }
    *scheme = cav_strdup(sch);
    *authority = cav_strndup(auth, auth_len);
    *path = cav_strdup(*p ? p : "/");
    if (!*scheme || !*authority || !*path) {
        cav_free(*scheme);
        cav_free(*authority);
        cav_free(*path);
        *scheme = *authority = *path = NULL;
        return false;
    }
    return true;
}

csvavro_status cav_fs_open_url(const cav_fs_backend *table, size_t n, const char *url,
                               csvavro_fs **fs, char **path_out, csvavro_error *err) {
    char *sch, *auth, *path;
    *fs = NULL;
    if (path_out) *path_out = NULL;
    if (!cav_url_split(url, &sch, &auth, &path)) {
        cav_err_path(err, url);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    const cav_fs_backend *be = NULL;
    for (size_t i = 0; i < n && !be; i++)
        if (strcmp(sch, table[i].scheme) == 0) be = &table[i];
    csvavro_status st = CSVAVRO_OK;
    if (!be) {
        cav_err_path(err, url);
        st = cav_err(err, CSVAVRO_E_USAGE,
                     "unsupported URL scheme (use a path, file:// or hdfs://)");
    } else {
        st = be->create(auth, fs, err);
        if (st != CSVAVRO_OK) cav_err_path(err, url);
    }
    cav_free(sch);
    cav_free(auth);
    if (st == CSVAVRO_OK && path_out) {
        /* backend paths are plain C strings owned by the caller (csvavro_free()) */
        *path_out = cav_malloc(strlen(path) + 1);
        if (!*path_out)
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        else
            strcpy(*path_out, path);
    }
    cav_free(path);
    if (st != CSVAVRO_OK && *fs) {
        csvavro_fs_close(*fs);
        *fs = NULL;
    }
    return st;
}

void csvavro_fs_close(csvavro_fs *fs) {
    if (fs && fs->ops->destroy) fs->ops->destroy(fs);
}

const char *csvavro_fs_scheme(const csvavro_fs *fs) {
    return fs->ops->scheme;
}

char *csvavro_fs_url(const csvavro_fs *fs, const char *path) {
    return fs->ops->url(fs, path);
}

#define ADD_PATH(call, p)                                                                          \
    do {                                                                                           \
        csvavro_status s_ = (call);                                                                \
        if (s_ != CSVAVRO_OK && err && !err->path[0]) {                                            \
            char *u_ = csvavro_fs_url(fs, (p));                                                    \
            cav_err_path(err, u_ ? u_ : (p));                                                      \
            cav_free(u_);                                                                          \
        }                                                                                          \
        return s_;                                                                                 \
    } while (0)

csvavro_status csvavro_fs_stat(csvavro_fs *fs, const char *path, csvavro_stat *st,
                               csvavro_error *err) {
    ADD_PATH(fs->ops->stat(fs, path, st, err), path);
}

csvavro_status csvavro_fs_list(csvavro_fs *fs, const char *path, csvavro_dirent **out, size_t *n,
                               csvavro_error *err) {
    ADD_PATH(fs->ops->list(fs, path, out, n, err), path);
}

void csvavro_fs_free_list(csvavro_dirent *list, size_t n) {
    if (!list) return;
    for (size_t i = 0; i < n; i++)
        cav_free(list[i].name);
    cav_free(list);
}

csvavro_status csvavro_fs_mkdir(csvavro_fs *fs, const char *path, int parents, csvavro_error *err) {
    ADD_PATH(fs->ops->mkdir(fs, path, parents, err), path);
}

csvavro_status csvavro_fs_remove(csvavro_fs *fs, const char *path, int recursive,
                                 csvavro_error *err) {
    ADD_PATH(fs->ops->remove(fs, path, recursive, err), path);
}

csvavro_status csvavro_fs_rename(csvavro_fs *fs, const char *from, const char *to, int overwrite,
                                 csvavro_error *err) {
    ADD_PATH(fs->ops->rename(fs, from, to, overwrite, err), from);
}

csvavro_status csvavro_fs_blocks(csvavro_fs *fs, const char *path, csvavro_block **out, size_t *n,
                                 csvavro_error *err) {
    ADD_PATH(fs->ops->blocks(fs, path, out, n, err), path);
}

csvavro_status csvavro_fs_space(csvavro_fs *fs, const char *path, int64_t *capacity, int64_t *used,
                                int64_t *remaining, csvavro_error *err) {
    ADD_PATH(fs->ops->space(fs, path, capacity, used, remaining, err), path);
}

csvavro_status csvavro_fs_content_summary(csvavro_fs *fs, const char *path, int64_t *length,
                                          int64_t *files, int64_t *dirs, csvavro_error *err) {
    *length = *files = *dirs = 0;
    ADD_PATH(fs->ops->content_summary(fs, path, length, files, dirs, err), path);
}

static csvavro_status du_walk(csvavro_fs *fs, const char *path, int depth, int64_t *len,
                              int64_t *files, int64_t *dirs, csvavro_error *err) {
    csvavro_stat st;
    CAV_TRY(csvavro_fs_stat(fs, path, &st, err));
    if (!st.is_dir) {
        *len += st.size;
        (*files)++;
        return CSVAVRO_OK;
    }
    (*dirs)++;
    if (depth > 256) return cav_err(err, CSVAVRO_E_LIMIT, "directory tree deeper than 256");
    csvavro_dirent *list;
    size_t n;
    CAV_TRY(csvavro_fs_list(fs, path, &list, &n, err));
    csvavro_status s = CSVAVRO_OK;
    for (size_t i = 0; i < n && s == CSVAVRO_OK; i++) {
        size_t pl = strlen(path) + strlen(list[i].name) + 2;
        char *child = cav_malloc(pl);
        if (!child) {
            s = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            break;
        }
        snprintf(child, pl, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", list[i].name);
        if (list[i].st.is_dir)
            s = du_walk(fs, child, depth + 1, len, files, dirs, err);
        else {
            *len += list[i].st.size;
            (*files)++;
        }
        cav_free(child);
    }
    csvavro_fs_free_list(list, n);
    return s;
}

csvavro_status cav_fs_du_walk(csvavro_fs *fs, const char *path, int64_t *length, int64_t *files,
                              int64_t *dirs, csvavro_error *err) {
    *length = *files = *dirs = 0;
    return du_walk(fs, path, 0, length, files, dirs, err);
}

csvavro_status csvavro_fs_open_read(csvavro_fs *fs, const char *path, csvavro_file **f,
                                    csvavro_error *err) {
    ADD_PATH(fs->ops->open_read(fs, path, f, err), path);
}

csvavro_status csvavro_fs_create(csvavro_fs *fs, const char *path, int overwrite, csvavro_file **f,
                                 csvavro_error *err) {
    ADD_PATH(fs->ops->create(fs, path, overwrite, f, err), path);
}

csvavro_status csvavro_file_pread(csvavro_file *f, void *buf, size_t len, int64_t offset,
                                  size_t *got, csvavro_error *err) {
    csvavro_status s = f->ops->pread(f, buf, len, offset, got, err);
    if (s != CSVAVRO_OK && err && !err->path[0]) cav_err_path(err, f->path);
    return s;
}

int64_t csvavro_file_size(const csvavro_file *f) {
    return f->size;
}

csvavro_status csvavro_file_write(csvavro_file *f, const void *buf, size_t len,
                                  csvavro_error *err) {
    csvavro_status s = f->ops->write(f, buf, len, err);
    if (s != CSVAVRO_OK && err && !err->path[0]) cav_err_path(err, f->path);
    return s;
}

csvavro_status csvavro_file_close(csvavro_file *f, csvavro_error *err) {
    if (!f) return CSVAVRO_OK;
    return f->ops->close(f, err);
}

void csvavro_file_abort(csvavro_file *f) {
    if (f) f->ops->abort(f);
}
