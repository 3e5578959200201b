/*
 * hdfs_fs.c — the hdfs:// backend: csvavro_fs calls mapped onto ClientNamenodeProtocol.
 *
 * Backend paths are absolute HDFS paths; a relative one is taken under /user/<user> like the
 * Hadoop tools do; repeated and trailing slashes are dropped. Semantics follow the local
 * backend where the two differ: mkdir without parents fails on an existing path, list of a
 * file is "not a directory", remove of a missing path is NOT_FOUND. Listings are fetched in
 * pages (startAfter = last name) and capped. The lease renewer is a thread that exists while
 * at least one file is open for writing and calls renewLease every conf.lease_renew_ms.
 */
#include "hdfs_pb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LIST_ENTRIES (16u << 20)

/* Normalised absolute path (allocated). */
char *cav_hdfs_norm_path(const cav_hdfs_fs *h, const char *path) {
    size_t n = strlen(path), ul = strlen(h->conf.user);
    char *o = cav_malloc(n + ul + 16);
    if (!o) return NULL;
    size_t j = 0;
    if (path[0] != '/')
        j = (size_t)sprintf(o, "/user/%s/", h->conf.user);
    else
        o[j++] = '/';
    for (size_t i = 0; i < n; i++) {
        if (path[i] == '/' && j > 0 && o[j - 1] == '/') continue;
        o[j++] = path[i];
    }
    while (j > 1 && o[j - 1] == '/')
        j--;
    o[j] = '\0';
    return o;
}

#define NORM(var, p)                                                                               \
    char *var = cav_hdfs_norm_path(h, (p));                                                        \
    if (!var) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory")

static void fill_stat(const Hadoop__Hdfs__HdfsFileStatusProto *s, csvavro_stat *st) {
    memset(st, 0, sizeof *st);
    st->is_dir = s->filetype == HADOOP__HDFS__HDFS_FILE_STATUS_PROTO__FILE_TYPE__IS_DIR;
    st->size = st->is_dir ? 0 : (int64_t)s->length;
    st->mtime_ms = (int64_t)s->modification_time;
    st->mode = s->permission ? (s->permission->perm & 07777) : 0;
    snprintf(st->owner, sizeof st->owner, "%s", s->owner ? s->owner : "");
    snprintf(st->group, sizeof st->group, "%s", s->group ? s->group : "");
    st->replication = s->has_block_replication ? (int)s->block_replication : 0;
    st->block_size = s->has_blocksize ? (int64_t)s->blocksize : 0;
}

/* HdfsFileStatusProto.flags bits */
#define FLAG_HAS_CRYPT 2u
#define FLAG_HAS_EC 4u

csvavro_status cav_hdfs_refuse_unreadable(const Hadoop__Hdfs__FileEncryptionInfoProto *fe,
                                          const Hadoop__Hdfs__ErasureCodingPolicyProto *ec,
                                          uint32_t flags, int is_dir, csvavro_error *err) {
    const char *what = is_dir ? "directory" : "file";
    if (fe || (flags & FLAG_HAS_CRYPT))
        return cav_err(err, CSVAVRO_E_UNSUPPORTED,
                       "%s is in an HDFS encryption zone%s%s%s: its blocks hold AES/CTR "
                       "ciphertext whose key only a Hadoop KMS can unwrap, which csvavro does not "
                       "support; refusing rather than %s ciphertext",
                       what, fe && fe->keyname ? " (key '" : "",
                       fe && fe->keyname ? fe->keyname : "", fe && fe->keyname ? "')" : "",
                       is_dir ? "writing" : "reading");
    if (ec || (flags & FLAG_HAS_EC))
        return cav_err(err, CSVAVRO_E_UNSUPPORTED,
                       "%s is erasure-coded%s%s%s: csvavro reads and writes only replicated "
                       "files (striped blocks are not decoded); refusing rather than %s it wrongly",
                       what, ec && ec->name ? " (policy " : "", ec && ec->name ? ec->name : "",
                       ec && ec->name ? ")" : "", is_dir ? "writing into" : "reading");
    return CSVAVRO_OK;
}

/* getFileInfo; *resp is NULL-safe to free. Missing path -> CSVAVRO_E_NOT_FOUND. */
static csvavro_status file_info(cav_hdfs_fs *h, const char *path,
                                Hadoop__Hdfs__GetFileInfoResponseProto **resp, csvavro_error *err) {
    *resp = NULL;
    NORM(p, path);
    Hadoop__Hdfs__GetFileInfoRequestProto req = HADOOP__HDFS__GET_FILE_INFO_REQUEST_PROTO__INIT;
    req.src = p;
    csvavro_status s = CALL(h, "getFileInfo", req, get_file_info_response_proto, resp, err);
    if (s == CSVAVRO_OK && !(*resp)->fs)
        s = cav_err(err, CSVAVRO_E_NOT_FOUND, "no such file or directory");
    cav_free(p);
    return s;
}

static csvavro_status h_stat(csvavro_fs *fs, const char *path, csvavro_stat *st,
                             csvavro_error *err) {
    Hadoop__Hdfs__GetFileInfoResponseProto *resp = NULL;
    csvavro_status s = file_info((cav_hdfs_fs *)fs, path, &resp, err);
    if (s == CSVAVRO_OK) fill_stat(resp->fs, st);
    FREE_PB(resp);
    return s;
}

csvavro_status cav_hdfs_stat_for_read(cav_hdfs_fs *h, const char *path, csvavro_stat *st,
                                      csvavro_error *err) {
    Hadoop__Hdfs__GetFileInfoResponseProto *resp = NULL;
    csvavro_status s = file_info(h, path, &resp, err);
    if (s == CSVAVRO_OK) {
        const Hadoop__Hdfs__HdfsFileStatusProto *f = resp->fs;
        fill_stat(f, st);
        if (!st->is_dir)
            s = cav_hdfs_refuse_unreadable(f->fileencryptioninfo, f->ecpolicy,
                                           f->has_flags ? f->flags : 0, 0, err);
    }
    FREE_PB(resp);
    return s;
}

csvavro_status cav_hdfs_check_created(const Hadoop__Hdfs__HdfsFileStatusProto *f,
                                      csvavro_error *err) {
    if (!f) return CSVAVRO_OK;
    csvavro_status s = cav_hdfs_refuse_unreadable(f->fileencryptioninfo, f->ecpolicy,
                                                  f->has_flags ? f->flags : 0, 0, err);
    if (s != CSVAVRO_OK) {
        /* the NameNode put the new file in a zone: say so in writer's terms */
        int crypt = f->fileencryptioninfo || (f->has_flags && (f->flags & FLAG_HAS_CRYPT));
        cav_err(err, CSVAVRO_E_UNSUPPORTED,
                crypt ? "the target directory is an HDFS encryption zone: csvavro cannot encrypt "
                        "for it (no KMS support); refusing to write plaintext where ciphertext "
                        "is expected"
                      : "the target directory has an erasure-coding policy: csvavro writes only "
                        "replicated files; refusing to write a file readers would decode wrongly");
    }
    return s;
}

static int cmp_dirent(const void *a, const void *b) {
    return strcmp(((const csvavro_dirent *)a)->name, ((const csvavro_dirent *)b)->name);
}

static csvavro_status h_list(csvavro_fs *fs, const char *path, csvavro_dirent **out, size_t *n,
                             csvavro_error *err) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    *out = NULL;
    *n = 0;
    NORM(p, path);
    csvavro_dirent *list = NULL;
    size_t cnt = 0, cap = 0;
    char *after = NULL;
    csvavro_status s = CSVAVRO_OK;
    for (;;) {
        Hadoop__Hdfs__GetListingRequestProto req = HADOOP__HDFS__GET_LISTING_REQUEST_PROTO__INIT;
        req.src = p;
        req.startafter.data = (uint8_t *)(after ? after : "");
        req.startafter.len = after ? strlen(after) : 0;
        req.needlocation = 0;
        Hadoop__Hdfs__GetListingResponseProto *resp = NULL;
        s = CALL(h, "getListing", req, get_listing_response_proto, &resp, err);
        if (s != CSVAVRO_OK) break;
        if (!resp->dirlist) {
            FREE_PB(resp);
            s = cav_err(err, CSVAVRO_E_NOT_FOUND, "no such file or directory");
            break;
        }
        Hadoop__Hdfs__DirectoryListingProto *dl = resp->dirlist;
        if (!after && dl->n_partiallisting == 1 && dl->partiallisting[0]->path.len == 0 &&
            dl->partiallisting[0]->filetype !=
                HADOOP__HDFS__HDFS_FILE_STATUS_PROTO__FILE_TYPE__IS_DIR) {
            FREE_PB(resp);
            s = cav_err(err, CSVAVRO_E_USAGE, "not a directory");
            break;
        }
        if (cnt + dl->n_partiallisting > MAX_LIST_ENTRIES) {
            FREE_PB(resp);
            s = cav_err(err, CSVAVRO_E_LIMIT, "directory has more than %u entries",
                        MAX_LIST_ENTRIES);
            break;
        }
        if (cnt + dl->n_partiallisting > cap) {
            size_t nc = CAV_MAX(cap * 2, cnt + dl->n_partiallisting + 16);
            csvavro_dirent *nl = cav_realloc(list, nc * sizeof *nl);
            if (!nl) {
                FREE_PB(resp);
                s = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                break;
            }
            list = nl;
            cap = nc;
        }
        for (size_t i = 0; i < dl->n_partiallisting && s == CSVAVRO_OK; i++) {
            Hadoop__Hdfs__HdfsFileStatusProto *e = dl->partiallisting[i];
            list[cnt].name = cav_strndup((const char *)e->path.data, e->path.len);
            if (!list[cnt].name) {
                s = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                break;
            }
            fill_stat(e, &list[cnt].st);
            cnt++;
        }
        int more = s == CSVAVRO_OK && dl->remainingentries > 0 && dl->n_partiallisting > 0;
        if (more) {
            cav_free(after);
            after = cav_strdup(list[cnt - 1].name);
            if (!after) s = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        }
        FREE_PB(resp);
        if (!more || s != CSVAVRO_OK) break;
    }
    cav_free(after);
    cav_free(p);
    if (s != CSVAVRO_OK) {
        csvavro_fs_free_list(list, cnt);
        return s;
    }
    if (cnt) qsort(list, cnt, sizeof *list, cmp_dirent);
    *out = list;
    *n = cnt;
    return CSVAVRO_OK;
}

static csvavro_status h_mkdir(csvavro_fs *fs, const char *path, int parents, csvavro_error *err) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    if (!parents) {
        csvavro_stat st;
        csvavro_error e2;
        csvavro_status s = h_stat(fs, path, &st, &e2);
        if (s == CSVAVRO_OK) return cav_err(err, CSVAVRO_E_EXISTS, "mkdir: path exists");
        if (s != CSVAVRO_E_NOT_FOUND) {
            if (err) *err = e2;
            return s;
        }
    }
    NORM(p, path);
    Hadoop__Hdfs__FsPermissionProto perm = HADOOP__HDFS__FS_PERMISSION_PROTO__INIT;
    perm.perm = 0755;
    Hadoop__Hdfs__MkdirsRequestProto req = HADOOP__HDFS__MKDIRS_REQUEST_PROTO__INIT;
    req.src = p;
    req.masked = &perm;
    req.createparent = parents ? 1 : 0;
    Hadoop__Hdfs__MkdirsResponseProto *resp = NULL;
    csvavro_status s = CALL(h, "mkdirs", req, mkdirs_response_proto, &resp, err);
    if (s == CSVAVRO_OK && !resp->result)
        s = cav_err(err, CSVAVRO_E_REMOTE, "mkdirs returned false");
    FREE_PB(resp);
    cav_free(p);
    return s;
}

static csvavro_status h_remove(csvavro_fs *fs, const char *path, int recursive,
                               csvavro_error *err) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    NORM(p, path);
    if (strcmp(p, "/") == 0) {
        cav_free(p);
        return cav_err(err, CSVAVRO_E_USAGE, "refusing to remove /");
    }
    Hadoop__Hdfs__DeleteRequestProto req = HADOOP__HDFS__DELETE_REQUEST_PROTO__INIT;
    req.src = p;
    req.recursive = recursive ? 1 : 0;
    Hadoop__Hdfs__DeleteResponseProto *resp = NULL;
    csvavro_status s = CALL(h, "delete", req, delete_response_proto, &resp, err);
    if (s == CSVAVRO_OK && !resp->result)
        s = cav_err(err, CSVAVRO_E_NOT_FOUND, "no such file or directory");
    FREE_PB(resp);
    cav_free(p);
    return s;
}

static csvavro_status h_rename(csvavro_fs *fs, const char *from, const char *to, int overwrite,
                               csvavro_error *err) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    NORM(a, from);
    char *b = cav_hdfs_norm_path(h, to);
    if (!b) {
        cav_free(a);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    Hadoop__Hdfs__Rename2RequestProto req = HADOOP__HDFS__RENAME2_REQUEST_PROTO__INIT;
    req.src = a;
    req.dst = b;
    req.overwritedest = overwrite ? 1 : 0;
    Hadoop__Hdfs__Rename2ResponseProto *resp = NULL;
    csvavro_status s = CALL(h, "rename2", req, rename2_response_proto, &resp, err);
    FREE_PB(resp);
    cav_free(a);
    cav_free(b);
    return s;
}

static csvavro_status h_blocks(csvavro_fs *fs, const char *path, csvavro_block **out, size_t *n,
                               csvavro_error *err) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    *out = NULL;
    *n = 0;
    csvavro_stat st;
    CAV_TRY(h_stat(fs, path, &st, err));
    if (st.is_dir) return cav_err(err, CSVAVRO_E_USAGE, "is a directory");
    NORM(p, path);
    Hadoop__Hdfs__GetBlockLocationsRequestProto req =
        HADOOP__HDFS__GET_BLOCK_LOCATIONS_REQUEST_PROTO__INIT;
    req.src = p;
    req.offset = 0;
    req.length = (uint64_t)st.size;
    Hadoop__Hdfs__GetBlockLocationsResponseProto *resp = NULL;
    csvavro_status s =
        CALL(h, "getBlockLocations", req, get_block_locations_response_proto, &resp, err);
    cav_free(p);
    if (s != CSVAVRO_OK) return s;
    if (!resp->locations) {
        FREE_PB(resp);
        return cav_err(err, CSVAVRO_E_NOT_FOUND, "no such file");
    }
    Hadoop__Hdfs__LocatedBlocksProto *lb = resp->locations;
    csvavro_block *b =
        cav_calloc(lb->n_blocks ? lb->n_blocks : 1, sizeof *b); /* caller csvavro_free()s */
    if (!b) {
        FREE_PB(resp);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < lb->n_blocks; i++) {
        Hadoop__Hdfs__LocatedBlockProto *k = lb->blocks[i];
        b[i].offset = (int64_t)k->offset;
        b[i].length = k->b ? (int64_t)k->b->numbytes : 0;
        for (size_t j = 0; j < k->n_locs && b[i].n_hosts < 8; j++) {
            Hadoop__Hdfs__DatanodeIDProto *id = k->locs[j]->id;
            if (!id) continue;
            const char *nm = id->hostname && *id->hostname ? id->hostname : id->ipaddr;
            snprintf(b[i].hosts[b[i].n_hosts++], sizeof b[i].hosts[0], "%s", nm ? nm : "");
        }
    }
    *out = b;
    *n = lb->n_blocks;
    FREE_PB(resp);
    return CSVAVRO_OK;
}

static csvavro_status h_space(csvavro_fs *fs, const char *path, int64_t *cap, int64_t *used,
                              int64_t *remaining, csvavro_error *err) {
    (void)path;
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    Hadoop__Hdfs__GetFsStatusRequestProto req = HADOOP__HDFS__GET_FS_STATUS_REQUEST_PROTO__INIT;
    Hadoop__Hdfs__GetFsStatsResponseProto *resp = NULL;
    CAV_TRY(CALL(h, "getFsStats", req, get_fs_stats_response_proto, &resp, err));
    *cap = (int64_t)resp->capacity;
    *used = (int64_t)resp->used;
    *remaining = (int64_t)resp->remaining;
    FREE_PB(resp);
    return CSVAVRO_OK;
}

static char *h_url(const csvavro_fs *fs, const char *path) {
    const cav_hdfs_fs *h = (const cav_hdfs_fs *)fs;
    size_t n = strlen(h->authority) + strlen(path) + 16;
    char *o = cav_malloc(n); /* caller csvavro_free()s */
    if (o) snprintf(o, n, "hdfs://%s%s%s", h->authority, path[0] == '/' ? "" : "/", path);
    return o;
}

static void h_destroy(csvavro_fs *fs) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    pthread_mutex_lock(&h->lease_mu);
    h->lease_stop = 1;
    pthread_cond_broadcast(&h->lease_cv);
    int running = h->lease_running;
    pthread_mutex_unlock(&h->lease_mu);
    if (running) pthread_join(h->lease_thread, NULL);
    cav_hdfs_rpc_free(h->rpc);
    cav_hdfs_conf_free(&h->conf);
    cav_free(h->authority);
    pthread_mutex_destroy(&h->lease_mu);
    pthread_cond_destroy(&h->lease_cv);
    cav_free(h);
}

/* One getContentSummary call (the NameNode walks the tree). */
static csvavro_status h_content_summary(csvavro_fs *fs, const char *path, int64_t *length,
                                        int64_t *files, int64_t *dirs, csvavro_error *err) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    NORM(p, path);
    Hadoop__Hdfs__GetContentSummaryRequestProto req =
        HADOOP__HDFS__GET_CONTENT_SUMMARY_REQUEST_PROTO__INIT;
    req.path = p;
    Hadoop__Hdfs__GetContentSummaryResponseProto *resp = NULL;
    csvavro_status s =
        CALL(h, "getContentSummary", req, get_content_summary_response_proto, &resp, err);
    cav_free(p);
    if (s == CSVAVRO_OK && resp->summary) {
        *length = (int64_t)resp->summary->length;
        *files = (int64_t)resp->summary->filecount;
        *dirs = (int64_t)resp->summary->directorycount;
    }
    FREE_PB(resp);
    return s;
}

static const cav_fs_ops hdfs_ops = {
    .scheme = "hdfs",
    .stat = h_stat,
    .list = h_list,
    .mkdir = h_mkdir,
    .remove = h_remove,
    .rename = h_rename,
    .blocks = h_blocks,
    .space = h_space,
    .open_read = cav_hdfs_open_read,
    .create = cav_hdfs_create_file,
    .content_summary = h_content_summary,
    .url = h_url,
    .destroy = h_destroy,
};

csvavro_status cav_hdfs_fs_create(const char *authority, csvavro_fs **out, csvavro_error *err) {
    *out = NULL;
    cav_hdfs_fs *h = cav_calloc(1, sizeof *h);
    if (!h) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    h->base.ops = &hdfs_ops;
    pthread_mutex_init(&h->lease_mu, NULL);
    pthread_cond_init(&h->lease_cv, NULL);
    csvavro_status s = cav_hdfs_conf_load(authority, &h->conf, err);
    if (s != CSVAVRO_OK) {
        pthread_mutex_destroy(&h->lease_mu);
        pthread_cond_destroy(&h->lease_cv);
        cav_free(h);
        return s;
    }
    h->authority = cav_strdup(authority ? authority : "");
    if (!h->authority) s = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    if (s == CSVAVRO_OK) s = cav_hdfs_rpc_create(&h->conf, &h->rpc, err);
    if (s != CSVAVRO_OK) {
        h_destroy(&h->base);
        return s;
    }
    *out = &h->base;
    return CSVAVRO_OK;
}

csvavro_status cav_hdfs_server_defaults(cav_hdfs_fs *h, csvavro_error *err) {
    if (__atomic_load_n(&h->have_defaults, __ATOMIC_ACQUIRE)) return CSVAVRO_OK;
    Hadoop__Hdfs__GetServerDefaultsRequestProto req =
        HADOOP__HDFS__GET_SERVER_DEFAULTS_REQUEST_PROTO__INIT;
    Hadoop__Hdfs__GetServerDefaultsResponseProto *resp = NULL;
    CAV_TRY(CALL(h, "getServerDefaults", req, get_server_defaults_response_proto, &resp, err));
    pthread_mutex_lock(&h->lease_mu);
    if (resp->serverdefaults) {
        h->def_block_size = resp->serverdefaults->blocksize;
        h->def_replication = resp->serverdefaults->replication;
        h->def_encrypt = resp->serverdefaults->has_encryptdatatransfer &&
                         resp->serverdefaults->encryptdatatransfer;
    }
    if (!h->def_block_size) h->def_block_size = 128u << 20;
    if (!h->def_replication) h->def_replication = 3;
    __atomic_store_n(&h->have_defaults, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&h->lease_mu);
    FREE_PB(resp);
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- lease renewer */

static void *lease_main(void *arg) {
    cav_hdfs_fs *h = arg;
    pthread_mutex_lock(&h->lease_mu);
    while (!h->lease_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += h->conf.lease_renew_ms / 1000;
        ts.tv_nsec += (long)(h->conf.lease_renew_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        int r = 0;
        while (!h->lease_stop && r != ETIMEDOUT)
            r = pthread_cond_timedwait(&h->lease_cv, &h->lease_mu, &ts);
        if (h->lease_stop) break;
        if (h->writers > 0) {
            pthread_mutex_unlock(&h->lease_mu);
            Hadoop__Hdfs__RenewLeaseRequestProto req =
                HADOOP__HDFS__RENEW_LEASE_REQUEST_PROTO__INIT;
            req.clientname = (char *)cav_hdfs_rpc_client_name(h->rpc);
            Hadoop__Hdfs__RenewLeaseResponseProto *resp = NULL;
            csvavro_error e;
            csvavro_error_clear(&e);
            /* errors are ignored: the next renewal or the writer's own calls will tell */
            if (CALL(h, "renewLease", req, renew_lease_response_proto, &resp, &e) == CSVAVRO_OK)
                FREE_PB(resp);
            pthread_mutex_lock(&h->lease_mu);
        }
    }
    pthread_mutex_unlock(&h->lease_mu);
    return NULL;
}

void cav_hdfs_lease_acquire(cav_hdfs_fs *h) {
    pthread_mutex_lock(&h->lease_mu);
    h->writers++;
    if (!h->lease_running && !h->lease_stop) {
        if (pthread_create(&h->lease_thread, NULL, lease_main, h) == 0) h->lease_running = 1;
    }
    pthread_mutex_unlock(&h->lease_mu);
}

void cav_hdfs_lease_release(cav_hdfs_fs *h) {
    pthread_mutex_lock(&h->lease_mu);
    if (h->writers > 0) h->writers--;
    pthread_mutex_unlock(&h->lease_mu);
}

void cav_hdfs_dn_addr(const cav_hdfs_conf *c, const Hadoop__Hdfs__DatanodeInfoProto *dn, char *out,
                      size_t cap) {
    const Hadoop__Hdfs__DatanodeIDProto *id = dn->id;
    const char *host =
        c->use_dn_hostname && id->hostname && *id->hostname ? id->hostname : id->ipaddr;
    if (strchr(host ? host : "", ':'))
        snprintf(out, cap, "[%s]:%u", host, id->xferport);
    else
        snprintf(out, cap, "%s:%u", host ? host : "", id->xferport);
}
