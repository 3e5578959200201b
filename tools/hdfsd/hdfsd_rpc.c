/*
 * hdfsd_rpc.c — the NameNode side of csvavro-hdfsd: one thread per client connection speaking
 * Hadoop IPC v9 (preamble "hrpc" 9 0 auth; BE u32 frames of delimited protobuf messages),
 * SIMPLE authentication (the user comes from the connection context; a SASL NEGOTIATE is
 * answered with SUCCESS, i.e. "use simple"), and the ClientProtocol methods in the table at the
 * bottom. Errors carry the Java exception class names a real NameNode uses.
 *
 * Invariants: every frame is bounded by g_hd.max_frame; every length inside a frame is checked
 * against what is left of it; a frame that cannot be decoded gets a FATAL response and the
 * connection is closed; the namespace is touched only under g_hd.ns_lock and saved before the
 * lock is released after a mutation. Responses fill every required field, recursively.
 */
#include "hdfsd.h"
#include "core/core.h"

#include "hdfs/ClientNamenodeProtocol.pb-c.h"
#include "hdfs/IpcConnectionContext.pb-c.h"
#include "hdfs/ProtobufRpcEngine.pb-c.h"
#include "hdfs/RpcHeader.pb-c.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define EXC_FNF "java.io.FileNotFoundException"
#define EXC_EXISTS "org.apache.hadoop.fs.FileAlreadyExistsException"
#define EXC_PARENT_NOT_DIR "org.apache.hadoop.fs.ParentNotDirectoryException"
#define EXC_NOT_EMPTY "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException"
#define EXC_ACCESS "org.apache.hadoop.security.AccessControlException"
#define EXC_INVALID_PATH "org.apache.hadoop.fs.InvalidPathException"
#define EXC_BEING_CREATED "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"
#define EXC_LEASE "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException"
#define EXC_ILLEGAL_ARG "org.apache.hadoop.HadoopIllegalArgumentException"
#define EXC_IO "java.io.IOException"
#define EXC_RETRIABLE "org.apache.hadoop.ipc.RetriableException"

typedef struct call {
    const char *user;
    const uint8_t *data; /* method request bytes */
    size_t len;
    /* results */
    bool fatal;
    const char *exc;
    char msg[1024];
    uint8_t *out; /* packed response (cav_malloc) */
    size_t outlen;
} call;

static void fail(call *k, const char *exc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(call *k, const char *exc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->msg, sizeof k->msg, fmt, ap);
    va_end(ap);
    k->exc = exc;
}

static void reply(call *k, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    k->out = cav_malloc(n ? n : 1);
    if (!k->out) {
        fail(k, EXC_IO, "out of memory");
        return;
    }
    k->outlen = protobuf_c_message_pack(m, k->out);
}

static bool is_super(const call *k) {
    return !strcmp(k->user, g_hd.superuser);
}

static void mode_string(const hd_inode *n, char out[11]) {
    const char *rwx = "rwxrwxrwx";
    out[0] = n->type == 1 ? 'd' : '-';
    for (int i = 0; i < 9; i++)
        out[1 + i] = (n->perm >> (8 - i)) & 1 ? rwx[i] : '-';
    if (n->perm & 01000) out[9] = (n->perm & 1) ? 't' : 'T';
    out[10] = 0;
}

/* bits: 4 read, 2 write, 1 execute. Sets an AccessControlException on refusal. */
static bool check_access(call *k, const hd_inode *n, int bits) {
    if (is_super(k)) return true;
    uint32_t p;
    if (!strcmp(n->owner, k->user))
        p = (n->perm >> 6) & 7;
    else if (!strcmp(n->group, k->user))
        p = (n->perm >> 3) & 7;
    else
        p = n->perm & 7;
    if ((p & (uint32_t)bits) == (uint32_t)bits) return true;
    char path[HD_MAX_PATH + 2], mode[11];
    hd_ns_path_of(n, path, sizeof path);
    mode_string(n, mode);
    const char *acc = bits == 4   ? "READ"
                      : bits == 2 ? "WRITE"
                      : bits == 1 ? "EXECUTE"
                      : bits == 3 ? "WRITE_EXECUTE"
                                  : "ALL";
    fail(k, EXC_ACCESS, "Permission denied: user=%s, access=%s, inode=\"%s\":%s:%s:%s", k->user,
         acc, path, n->owner, n->group, mode);
    return false;
}

/* Resolves; on anything but FOUND/MISSING sets the matching exception and returns false. */
static bool resolve(call *k, const char *path, hd_res *r) {
    hd_ns_resolve(path, r);
    if (r->status == HD_INVALID) {
        fail(k, EXC_INVALID_PATH, "Invalid path name %s", path);
        return false;
    }
    if (r->status == HD_PARENT_FILE) {
        fail(k, EXC_PARENT_NOT_DIR, "Parent path is not a directory: %s", path);
        return false;
    }
    return true;
}

static void save_or_fail(call *k) {
    if (hd_ns_save()) fail(k, EXC_IO, "cannot write the namespace snapshot");
}

/* ---------------------------------------------------------------- building replies */

typedef struct status_buf {
    Hadoop__Hdfs__HdfsFileStatusProto st;
    Hadoop__Hdfs__FsPermissionProto perm;
} status_buf;

static uint64_t file_length(const hd_inode *n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n->nblocks; i++)
        s += n->blocks[i].len;
    return s;
}

static void fill_status(status_buf *b, const hd_inode *n, bool with_name) {
    Hadoop__Hdfs__HdfsFileStatusProto st = HADOOP__HDFS__HDFS_FILE_STATUS_PROTO__INIT;
    Hadoop__Hdfs__FsPermissionProto pm = HADOOP__HDFS__FS_PERMISSION_PROTO__INIT;
    b->st = st;
    b->perm = pm;
    b->perm.perm = n->perm;
    b->st.filetype = n->type == 1 ? HADOOP__HDFS__HDFS_FILE_STATUS_PROTO__FILE_TYPE__IS_DIR
                                  : HADOOP__HDFS__HDFS_FILE_STATUS_PROTO__FILE_TYPE__IS_FILE;
    const char *nm = with_name ? n->name : "";
    b->st.path.data = (uint8_t *)nm;
    b->st.path.len = strlen(nm);
    b->st.length = n->type == 2 ? file_length(n) : 0;
    b->st.permission = &b->perm;
    b->st.owner = n->owner;
    b->st.group = n->group;
    b->st.modification_time = n->mtime;
    b->st.access_time = n->atime;
    b->st.has_fileid = 1;
    b->st.fileid = n->id;
    if (n->type == 2) {
        b->st.has_block_replication = 1;
        b->st.block_replication = n->repl;
        b->st.has_blocksize = 1;
        b->st.blocksize = n->bsize;
    } else {
        b->st.has_childrennum = 1;
        b->st.childrennum = (int32_t)n->nkids;
    }
}

typedef struct dn_buf {
    Hadoop__Hdfs__DatanodeInfoProto info;
    Hadoop__Hdfs__DatanodeIDProto id;
} dn_buf;

typedef struct lb_buf {
    Hadoop__Hdfs__LocatedBlockProto lb;
    Hadoop__Hdfs__ExtendedBlockProto b;
    Hadoop__Common__TokenProto tok;
    dn_buf dn[HD_MAX_DATANODES];
    Hadoop__Hdfs__DatanodeInfoProto *locs[HD_MAX_DATANODES];
    protobuf_c_boolean cached[HD_MAX_DATANODES];
    Hadoop__Hdfs__StorageTypeProto types[HD_MAX_DATANODES];
    char *sids[HD_MAX_DATANODES];
} lb_buf;

static void fill_dn(dn_buf *d, int i) {
    const hd_datanode *n = &g_hd.dn[i];
    Hadoop__Hdfs__DatanodeInfoProto info = HADOOP__HDFS__DATANODE_INFO_PROTO__INIT;
    Hadoop__Hdfs__DatanodeIDProto id = HADOOP__HDFS__DATANODE_IDPROTO__INIT;
    d->info = info;
    d->id = id;
    d->id.ipaddr = (char *)n->ip;
    d->id.hostname = (char *)n->host;
    d->id.datanodeuuid = (char *)n->uuid;
    d->id.xferport = (uint32_t)n->port;
    d->id.infoport = 0;
    d->id.ipcport = 0;
    d->info.id = &d->id;
    d->info.location = "/default-rack";
    d->info.has_capacity = 1;
    d->info.capacity = 1ull << 40;
    d->info.has_remaining = 1;
    d->info.remaining = 1ull << 40;
}

static void fill_lb(lb_buf *L, uint64_t id, uint64_t gs, uint64_t len, uint64_t off, const int *dns,
                    int ndns) {
    Hadoop__Hdfs__LocatedBlockProto lb = HADOOP__HDFS__LOCATED_BLOCK_PROTO__INIT;
    Hadoop__Hdfs__ExtendedBlockProto b = HADOOP__HDFS__EXTENDED_BLOCK_PROTO__INIT;
    Hadoop__Common__TokenProto t = HADOOP__COMMON__TOKEN_PROTO__INIT;
    L->lb = lb;
    L->b = b;
    L->tok = t;
    L->b.poolid = HD_POOL_ID;
    L->b.blockid = id;
    L->b.generationstamp = gs;
    L->b.has_numbytes = 1;
    L->b.numbytes = len;
    L->tok.kind = "";
    L->tok.service = "";
    L->lb.b = &L->b;
    L->lb.offset = off;
    L->lb.corrupt = 0;
    L->lb.blocktoken = &L->tok;
    for (int i = 0; i < ndns; i++) {
        fill_dn(&L->dn[i], dns[i]);
        L->locs[i] = &L->dn[i].info;
        L->cached[i] = 0;
        L->types[i] = HADOOP__HDFS__STORAGE_TYPE_PROTO__DISK;
        L->sids[i] = (char *)g_hd.dn[dns[i]].uuid;
    }
    L->lb.n_locs = (size_t)ndns;
    L->lb.locs = L->locs;
    L->lb.n_iscached = (size_t)ndns;
    L->lb.iscached = L->cached;
    L->lb.n_storagetypes = (size_t)ndns;
    L->lb.storagetypes = L->types;
    L->lb.n_storageids = (size_t)ndns;
    L->lb.storageids = L->sids;
}

/* Datanodes holding a finalized replica of blk, in datanode order. */
static int replica_holders(uint64_t blk, int *out, int64_t *maxlen) {
    int n = 0;
    if (maxlen) *maxlen = -1;
    for (int d = 0; d < g_hd.ndn; d++) {
        int64_t l = hd_replica_len(d, blk);
        if (l >= 0) {
            out[n++] = d;
            if (maxlen && l > *maxlen) *maxlen = l;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- methods */

#define UNPACK(T, fn)                                                                              \
    T *r = fn##__unpack(NULL, k->len, k->data);                                                    \
    if (!r) {                                                                                      \
        k->fatal = true;                                                                           \
        return;                                                                                    \
    }

static void m_getFileInfo(call *k) {
    UNPACK(Hadoop__Hdfs__GetFileInfoRequestProto, hadoop__hdfs__get_file_info_request_proto)
    Hadoop__Hdfs__GetFileInfoResponseProto resp = HADOOP__HDFS__GET_FILE_INFO_RESPONSE_PROTO__INIT;
    hd_res res;
    status_buf sb;
    hd_ns_resolve(r->src, &res);
    if (res.status == HD_INVALID) {
        fail(k, EXC_INVALID_PATH, "Invalid path name %s", r->src);
    } else {
        if (res.status == HD_FOUND) {
            fill_status(&sb, res.node, false);
            resp.fs = &sb.st;
        }
        reply(k, &resp.base);
    }
    hadoop__hdfs__get_file_info_request_proto__free_unpacked(r, NULL);
}

static void m_getListing(call *k) {
    UNPACK(Hadoop__Hdfs__GetListingRequestProto, hadoop__hdfs__get_listing_request_proto)
    Hadoop__Hdfs__GetListingResponseProto resp = HADOOP__HDFS__GET_LISTING_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__DirectoryListingProto dl = HADOOP__HDFS__DIRECTORY_LISTING_PROTO__INIT;
    hd_res res;
    status_buf *sb = NULL;
    Hadoop__Hdfs__HdfsFileStatusProto **ptrs = NULL;
    hd_ns_resolve(r->src, &res);
    if (res.status == HD_INVALID) {
        fail(k, EXC_INVALID_PATH, "Invalid path name %s", r->src);
        goto out;
    }
    if (res.status != HD_FOUND) {
        reply(k, &resp.base);
        goto out;
    }
    hd_inode *d = res.node;
    if (d->type != 1) {
        sb = cav_calloc(1, sizeof *sb);
        ptrs = cav_calloc(1, sizeof *ptrs);
        if (!sb || !ptrs) {
            fail(k, EXC_IO, "out of memory");
            goto out;
        }
        fill_status(sb, d, false);
        ptrs[0] = &sb->st;
        dl.n_partiallisting = 1;
    } else {
        if (!check_access(k, d, 4)) goto out;
        char after[256];
        size_t al = r->startafter.len < sizeof after ? r->startafter.len : sizeof after - 1;
        if (al) memcpy(after, r->startafter.data, al);
        after[al] = 0;
        size_t start = 0;
        if (al) {
            bool found;
            start = hd_ns_child_index(d, after, &found);
            if (found) start++;
        }
        size_t n = d->nkids - start;
        if (n > g_hd.ls_limit) n = g_hd.ls_limit;
        sb = cav_calloc(n ? n : 1, sizeof *sb);
        ptrs = cav_calloc(n ? n : 1, sizeof *ptrs);
        if (!sb || !ptrs) {
            fail(k, EXC_IO, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            fill_status(&sb[i], d->kids[start + i], true);
            ptrs[i] = &sb[i].st;
        }
        dl.n_partiallisting = n;
        dl.remainingentries = (uint32_t)(d->nkids - start - n);
    }
    dl.partiallisting = ptrs;
    resp.dirlist = &dl;
    reply(k, &resp.base);
out:
    cav_free(sb);
    cav_free(ptrs);
    hadoop__hdfs__get_listing_request_proto__free_unpacked(r, NULL);
}

/* Creates the missing directories of path (createParent semantics); returns the directory
 * that will hold the last component, or NULL with k->exc set. */
static hd_inode *make_parents(call *k, const char *path, uint32_t perm, bool create_parent) {
    hd_inode *cur = g_hd.root;
    const char *p = path;
    char name[256];
    for (;;) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        if (!e) return cur; /* p is the last component */
        const char *q = e;
        while (*q == '/')
            q++;
        if (!*q) return cur; /* trailing slash */
        size_t len = (size_t)(e - p);
        if (len >= sizeof name) {
            fail(k, EXC_INVALID_PATH, "Invalid path name %s", path);
            return NULL;
        }
        memcpy(name, p, len);
        name[len] = 0;
        bool found;
        size_t i = hd_ns_child_index(cur, name, &found);
        if (found) {
            cur = cur->kids[i];
            if (cur->type != 1) {
                fail(k, EXC_PARENT_NOT_DIR, "Parent path is not a directory: %s", path);
                return NULL;
            }
        } else {
            if (!create_parent) {
                fail(k, EXC_FNF, "Parent directory doesn't exist: %s", path);
                return NULL;
            }
            if (!check_access(k, cur, 3)) return NULL;
            if (g_hd.ninodes >= g_hd.max_inodes) {
                fail(k, EXC_IO, "inode limit reached");
                return NULL;
            }
            /* implicitly created parents get u+wx like Hadoop */
            cur = hd_ns_new_inode(cur, name, 1, perm | 0300, k->user, cur->group);
            if (!cur) {
                fail(k, EXC_IO, "out of memory");
                return NULL;
            }
        }
        p = e;
    }
}

static void m_mkdirs(call *k) {
    UNPACK(Hadoop__Hdfs__MkdirsRequestProto, hadoop__hdfs__mkdirs_request_proto)
    Hadoop__Hdfs__MkdirsResponseProto resp = HADOOP__HDFS__MKDIRS_RESPONSE_PROTO__INIT;
    hd_res res;
    if (!resolve(k, r->src, &res)) goto out;
    uint32_t perm = r->masked->perm & 07777; /* Go sets bit 31 (its directory flag) */
    if (res.status == HD_FOUND) {
        if (res.node->type != 1) {
            fail(k, EXC_EXISTS, "Path is not a directory: %s", r->src);
            goto out;
        }
        resp.result = 1;
        reply(k, &resp.base);
        goto out;
    }
    if (res.status == HD_NO_PARENT && !r->createparent) {
        fail(k, EXC_FNF, "Parent directory doesn't exist: %s", r->src);
        goto out;
    }
    hd_inode *parent = make_parents(k, r->src, perm, r->createparent);
    if (!parent) {
        save_or_fail(k);
        goto out;
    }
    if (!check_access(k, parent, 3)) goto out;
    if (g_hd.ninodes >= g_hd.max_inodes) {
        fail(k, EXC_IO, "inode limit reached");
        goto out;
    }
    hd_ns_resolve(r->src, &res);
    if (!hd_ns_new_inode(parent, res.name, 1, perm, k->user, parent->group)) {
        fail(k, EXC_IO, "out of memory");
        goto out;
    }
    parent->mtime = hd_now_ms();
    save_or_fail(k);
    if (!k->exc) {
        resp.result = 1;
        reply(k, &resp.base);
    }
out:
    hadoop__hdfs__mkdirs_request_proto__free_unpacked(r, NULL);
}

static void m_delete(call *k) {
    UNPACK(Hadoop__Hdfs__DeleteRequestProto, hadoop__hdfs__delete_request_proto)
    Hadoop__Hdfs__DeleteResponseProto resp = HADOOP__HDFS__DELETE_RESPONSE_PROTO__INIT;
    hd_res res;
    if (!resolve(k, r->src, &res)) goto out;
    if (res.status == HD_FOUND && res.node != g_hd.root) {
        hd_inode *n = res.node;
        if (n->type == 1 && n->nkids > 0 && !r->recursive) {
            fail(k, EXC_NOT_EMPTY, "%s is non empty", r->src);
            goto out;
        }
        if (!check_access(k, n->parent, 3)) goto out;
        if ((n->parent->perm & 01000) && !is_super(k) && strcmp(n->owner, k->user) &&
            strcmp(n->parent->owner, k->user)) {
            fail(k, EXC_ACCESS, "Permission denied by sticky bit: user=%s, path=\"%s\"", k->user,
                 r->src);
            goto out;
        }
        n->parent->mtime = hd_now_ms();
        hd_ns_unlink(n);
        hd_ns_free_tree(n, true);
        resp.result = 1;
        save_or_fail(k);
    }
    if (!k->exc) reply(k, &resp.base);
out:
    hadoop__hdfs__delete_request_proto__free_unpacked(r, NULL);
}

static bool is_ancestor(const hd_inode *a, const hd_inode *n) {
    for (; n; n = n->parent)
        if (n == a) return true;
    return false;
}

/* Shared by rename and rename2. Returns 1 done, 0 refused (k->exc may be set). */
static int do_rename(call *k, const char *src, const char *dst, bool v2, bool overwrite) {
    hd_res s, d;
    if (!resolve(k, src, &s)) return 0;
    if (s.status != HD_FOUND) {
        if (v2) fail(k, EXC_FNF, "rename source %s is not found.", src);
        return 0;
    }
    if (s.node == g_hd.root) {
        if (v2) fail(k, EXC_IO, "Rename source / is the root.");
        return 0;
    }
    hd_ns_resolve(dst, &d);
    if (d.status == HD_INVALID) {
        fail(k, EXC_INVALID_PATH, "Invalid path name %s", dst);
        return 0;
    }
    if (d.status == HD_PARENT_FILE) {
        if (v2) fail(k, EXC_PARENT_NOT_DIR, "Parent path is not a directory: %s", dst);
        return 0;
    }
    if (d.status == HD_NO_PARENT) {
        if (v2) fail(k, EXC_FNF, "rename destination parent %s not found.", dst);
        return 0;
    }
    hd_inode *target_dir;
    const char *name;
    hd_inode *victim = NULL;
    if (d.status == HD_FOUND) {
        if (!v2 && d.node->type == 1) { /* old rename: move into the directory */
            target_dir = d.node;
            name = s.node->name;
            bool found;
            size_t i = hd_ns_child_index(target_dir, name, &found);
            if (found) {
                if (target_dir->kids[i] == s.node) return 1;
                return 0;
            }
        } else if (!v2) {
            return 0;
        } else {
            if (d.node == s.node) {
                fail(k, EXC_EXISTS, "The source %s and destination %s are the same", src, dst);
                return 0;
            }
            if (!overwrite) {
                fail(k, EXC_EXISTS, "rename destination %s already exists.", dst);
                return 0;
            }
            if (d.node->type == 1 && s.node->type != 1) {
                fail(k, EXC_IO, "Source %s is not a directory, destination %s is", src, dst);
                return 0;
            }
            if (d.node->type != 1 && s.node->type == 1) {
                fail(k, EXC_IO, "Source %s is a directory, destination %s is not", src, dst);
                return 0;
            }
            if (d.node->type == 1 && d.node->nkids) {
                fail(k, EXC_IO, "rename destination directory is not empty: %s", dst);
                return 0;
            }
            victim = d.node;
            target_dir = d.parent;
            name = d.name;
        }
    } else {
        target_dir = d.parent;
        name = d.name;
    }
    if (is_ancestor(s.node, target_dir)) {
        if (v2)
            fail(k, EXC_IO, "Rename destination %s is a directory or file under source %s", dst,
                 src);
        return 0;
    }
    if (!check_access(k, s.node->parent, 3) || !check_access(k, target_dir, 3)) return 0;
    char *nm = hd_strdup(name);
    uint64_t now = hd_now_ms();
    s.node->parent->mtime = now;
    hd_ns_unlink(s.node);
    if (victim) {
        hd_ns_unlink(victim);
        hd_ns_free_tree(victim, true);
    }
    hd_ns_attach(target_dir, s.node, nm);
    cav_free(nm);
    target_dir->mtime = now;
    save_or_fail(k);
    return k->exc ? 0 : 1;
}

static void m_rename(call *k) {
    UNPACK(Hadoop__Hdfs__RenameRequestProto, hadoop__hdfs__rename_request_proto)
    Hadoop__Hdfs__RenameResponseProto resp = HADOOP__HDFS__RENAME_RESPONSE_PROTO__INIT;
    resp.result = do_rename(k, r->src, r->dst, false, false) == 1;
    if (!k->exc) reply(k, &resp.base);
    hadoop__hdfs__rename_request_proto__free_unpacked(r, NULL);
}

static void m_rename2(call *k) {
    UNPACK(Hadoop__Hdfs__Rename2RequestProto, hadoop__hdfs__rename2_request_proto)
    Hadoop__Hdfs__Rename2ResponseProto resp = HADOOP__HDFS__RENAME2_RESPONSE_PROTO__INIT;
    if (do_rename(k, r->src, r->dst, true, r->overwritedest) && !k->exc)
        reply(k, &resp.base);
    else if (!k->exc)
        fail(k, EXC_IO, "rename %s to %s failed", r->src, r->dst);
    hadoop__hdfs__rename2_request_proto__free_unpacked(r, NULL);
}

static void m_create(call *k) {
    UNPACK(Hadoop__Hdfs__CreateRequestProto, hadoop__hdfs__create_request_proto)
    Hadoop__Hdfs__CreateResponseProto resp = HADOOP__HDFS__CREATE_RESPONSE_PROTO__INIT;
    hd_res res;
    status_buf sb;
    if (!resolve(k, r->src, &res)) goto out;
    if (r->blocksize == 0 || r->blocksize % 512 != 0) {
        fail(k, EXC_IO, "Invalid block size %llu: it must be a positive multiple of 512",
             (unsigned long long)r->blocksize);
        goto out;
    }
    if (res.status == HD_FOUND) {
        hd_inode *n = res.node;
        if (n->type == 1) {
            fail(k, EXC_EXISTS, "%s already exists as a directory", r->src);
            goto out;
        }
        if (n->holder && strcmp(n->holder, r->clientname) && hd_lease_alive(n->holder)) {
            fail(k, EXC_BEING_CREATED,
                 "Failed to CREATE_FILE %s for %s because this file lease is currently owned by "
                 "%s",
                 r->src, r->clientname, n->holder);
            goto out;
        }
        if (!(r->createflag & 2)) {
            fail(k, EXC_EXISTS, "%s for client 127.0.0.1 already exists", r->src);
            goto out;
        }
        if (!check_access(k, n->parent, 3)) goto out;
        hd_inode *p = n->parent;
        hd_ns_unlink(n);
        hd_ns_free_tree(n, true);
        hd_ns_resolve(r->src, &res);
        res.parent = p;
    } else if (res.status == HD_NO_PARENT && !r->createparent) {
        fail(k, EXC_FNF, "Parent directory doesn't exist: %s", r->src);
        goto out;
    }
    hd_inode *parent = res.status == HD_MISSING ? res.parent : NULL;
    if (!parent) {
        parent = make_parents(k, r->src, 0755, r->createparent);
        if (!parent) {
            save_or_fail(k);
            goto out;
        }
    }
    if (!check_access(k, parent, 3)) goto out;
    if (g_hd.ninodes >= g_hd.max_inodes) {
        fail(k, EXC_IO, "inode limit reached");
        goto out;
    }
    hd_ns_resolve(r->src, &res);
    hd_inode *f =
        hd_ns_new_inode(parent, res.name, 2, r->masked->perm & 07777, k->user, parent->group);
    if (!f) {
        fail(k, EXC_IO, "out of memory");
        goto out;
    }
    uint32_t repl = r->replication ? r->replication : g_hd.replication;
    f->repl = repl;
    f->bsize = r->blocksize;
    f->holder = hd_strdup(r->clientname);
    hd_lease_renew(r->clientname);
    parent->mtime = f->mtime;
    save_or_fail(k);
    if (!k->exc) {
        fill_status(&sb, f, false);
        resp.fs = &sb.st;
        reply(k, &resp.base);
    }
out:
    hadoop__hdfs__create_request_proto__free_unpacked(r, NULL);
}

/* Looks up a file under construction held by client. */
static hd_inode *leased_file(call *k, const char *src, const char *client) {
    hd_res res;
    if (!resolve(k, src, &res)) return NULL;
    if (res.status != HD_FOUND || res.node->type != 2) {
        fail(k, EXC_FNF, "File does not exist: %s", src);
        return NULL;
    }
    if (!res.node->holder || strcmp(res.node->holder, client)) {
        fail(
            k, EXC_LEASE,
            "No lease on %s: File is not open for writing. Holder %s does not have any open files.",
            src, client);
        return NULL;
    }
    return res.node;
}

/* Commits the client's view of the last block (id must match; GS may be the original one
 * even after updateBlockForPipeline, see the Go client). */
static bool commit_block(call *k, hd_inode *f, const Hadoop__Hdfs__ExtendedBlockProto *b) {
    if (!b) return true;
    if (f->nblocks == 0 || f->blocks[f->nblocks - 1].id != b->blockid) {
        fail(k, EXC_IO, "Block blk_%llu does not match the last block of the file",
             (unsigned long long)b->blockid);
        return false;
    }
    hd_block *last = &f->blocks[f->nblocks - 1];
    if (b->generationstamp > last->gs) {
        fail(k, EXC_IO,
             "Commit block with mismatching GS. NN has blk_%llu_%llu, client submits %llu",
             (unsigned long long)last->id, (unsigned long long)last->gs,
             (unsigned long long)b->generationstamp);
        return false;
    }
    if (b->has_numbytes) last->len = b->numbytes;
    return true;
}

static int choose_targets(int want, int *out, Hadoop__Hdfs__DatanodeInfoProto **excl,
                          size_t nexcl) {
    static unsigned rot;
    int n = 0;
    unsigned start = rot++;
    for (int j = 0; j < g_hd.ndn && n < want; j++) {
        int d = (int)((start + (unsigned)j) % (unsigned)g_hd.ndn);
        if (atomic_load(&g_hd.dn[d].stopped)) continue;
        bool ex = false;
        for (size_t e = 0; e < nexcl; e++)
            if (excl[e] && excl[e]->id && excl[e]->id->xferport == (uint32_t)g_hd.dn[d].port &&
                !strcmp(excl[e]->id->ipaddr, g_hd.dn[d].ip))
                ex = true;
        if (!ex) out[n++] = d;
    }
    return n;
}

static void m_addBlock(call *k) {
    UNPACK(Hadoop__Hdfs__AddBlockRequestProto, hadoop__hdfs__add_block_request_proto)
    Hadoop__Hdfs__AddBlockResponseProto resp = HADOOP__HDFS__ADD_BLOCK_RESPONSE_PROTO__INIT;
    lb_buf *L = cav_calloc(1, sizeof *L);
    hd_inode *f = L ? leased_file(k, r->src, r->clientname) : NULL;
    if (!L) fail(k, EXC_IO, "out of memory");
    if (!f || !commit_block(k, f, r->previous)) goto out;
    int dns[HD_MAX_DATANODES];
    int want = (int)(f->repl < (uint32_t)g_hd.ndn ? f->repl : (uint32_t)g_hd.ndn);
    if (want < 1) want = 1;
    int n = choose_targets(want, dns, r->excludenodes, r->n_excludenodes);
    if (n == 0) {
        fail(k, EXC_IO,
             "File %s could only be written to 0 of the 1 minReplication nodes. There are %d "
             "datanode(s) running and %zu node(s) are excluded in this operation.",
             r->src, g_hd.ndn, r->n_excludenodes);
        goto out;
    }
    uint64_t off = file_length(f);
    uint64_t id = g_hd.next_block++, gs = g_hd.next_gs++;
    if (!hd_ns_block_add(f, id, gs)) {
        fail(k, EXC_IO, "out of memory");
        goto out;
    }
    hd_lease_renew(r->clientname);
    save_or_fail(k);
    if (k->exc) goto out;
    fill_lb(L, id, gs, 0, off, dns, n);
    resp.block = &L->lb;
    reply(k, &resp.base);
out:
    cav_free(L);
    hadoop__hdfs__add_block_request_proto__free_unpacked(r, NULL);
}

static bool blocks_replicated(const hd_inode *f) {
    for (size_t i = 0; i < f->nblocks; i++) {
        bool ok = false;
        for (int d = 0; d < g_hd.ndn && !ok; d++)
            ok = hd_replica_len(d, f->blocks[i].id) == (int64_t)f->blocks[i].len;
        if (!ok) return false;
    }
    return true;
}

static void m_complete(call *k) {
    UNPACK(Hadoop__Hdfs__CompleteRequestProto, hadoop__hdfs__complete_request_proto)
    Hadoop__Hdfs__CompleteResponseProto resp = HADOOP__HDFS__COMPLETE_RESPONSE_PROTO__INIT;
    hd_inode *f = leased_file(k, r->src, r->clientname);
    if (!f || !commit_block(k, f, r->last)) goto out;
    int cf = atomic_load(&g_hd.complete_false);
    if (cf > 0) {
        atomic_fetch_sub(&g_hd.complete_false, 1);
        reply(k, &resp.base);
        goto out;
    }
    /* give the datanodes a moment to finalize (the lock is dropped while waiting) */
    for (int i = 0; i < 50 && !blocks_replicated(f); i++) {
        uint64_t fid = f->id;
        pthread_mutex_unlock(&g_hd.ns_lock);
        usleep(20000);
        pthread_mutex_lock(&g_hd.ns_lock);
        f = leased_file(k, r->src, r->clientname);
        if (!f || f->id != fid) {
            if (f) fail(k, EXC_FNF, "File does not exist: %s", r->src);
            goto out;
        }
    }
    if (blocks_replicated(f)) {
        cav_free(f->holder);
        f->holder = NULL;
        f->mtime = hd_now_ms();
        resp.result = 1;
        save_or_fail(k);
    }
    if (!k->exc) reply(k, &resp.base);
out:
    hadoop__hdfs__complete_request_proto__free_unpacked(r, NULL);
}

static void m_abandonBlock(call *k) {
    UNPACK(Hadoop__Hdfs__AbandonBlockRequestProto, hadoop__hdfs__abandon_block_request_proto)
    Hadoop__Hdfs__AbandonBlockResponseProto resp = HADOOP__HDFS__ABANDON_BLOCK_RESPONSE_PROTO__INIT;
    hd_inode *f = leased_file(k, r->src, r->holder);
    if (!f) goto out;
    if (f->nblocks && f->blocks[f->nblocks - 1].id == r->b->blockid) {
        char buf[4200];
        for (int d = 0; d < g_hd.ndn; d++)
            for (int rb = 0; rb < 2; rb++)
                for (int m = 0; m < 2; m++)
                    unlink(hd_replica_path(d, r->b->blockid, rb, m, buf, sizeof buf));
        f->nblocks--;
        save_or_fail(k);
    }
    if (!k->exc) reply(k, &resp.base);
out:
    hadoop__hdfs__abandon_block_request_proto__free_unpacked(r, NULL);
}

static void m_getBlockLocations(call *k) {
    UNPACK(Hadoop__Hdfs__GetBlockLocationsRequestProto,
           hadoop__hdfs__get_block_locations_request_proto)
    Hadoop__Hdfs__GetBlockLocationsResponseProto resp =
        HADOOP__HDFS__GET_BLOCK_LOCATIONS_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__LocatedBlocksProto lbs = HADOOP__HDFS__LOCATED_BLOCKS_PROTO__INIT;
    lb_buf *L = NULL, *last = NULL;
    Hadoop__Hdfs__LocatedBlockProto **ptrs = NULL;
    hd_res res;
    if (!resolve(k, r->src, &res)) goto out;
    if (res.status != HD_FOUND) {
        fail(k, EXC_FNF, "File does not exist: %s", r->src);
        goto out;
    }
    hd_inode *f = res.node;
    if (f->type != 2) {
        fail(k, EXC_FNF, "Path is not a file: %s", r->src);
        goto out;
    }
    if (!check_access(k, f, 4)) goto out;
    size_t nb = f->nblocks;
    L = cav_calloc(nb ? nb : 1, sizeof *L);
    last = cav_calloc(1, sizeof *last);
    ptrs = cav_calloc(nb ? nb : 1, sizeof *ptrs);
    if (!L || !last || !ptrs) {
        fail(k, EXC_IO, "out of memory");
        goto out;
    }
    uint64_t off = 0, end = r->offset + r->length;
    if (end < r->offset) end = UINT64_MAX;
    size_t n = 0;
    for (size_t i = 0; i < nb; i++) {
        int dns[HD_MAX_DATANODES];
        int64_t maxlen;
        int nd = replica_holders(f->blocks[i].id, dns, &maxlen);
        uint64_t len = f->blocks[i].len;
        if (f->holder && i + 1 == nb && maxlen > (int64_t)len) len = (uint64_t)maxlen;
        bool overlap = off < end && off + len > r->offset;
        if (overlap || (len == 0 && off >= r->offset && off <= end)) {
            fill_lb(&L[n], f->blocks[i].id, f->blocks[i].gs, len, off, dns, nd);
            ptrs[n] = &L[n].lb;
            n++;
        }
        if (i + 1 == nb) {
            fill_lb(last, f->blocks[i].id, f->blocks[i].gs, len, off, dns, nd);
            lbs.lastblock = &last->lb;
        }
        off += len;
    }
    lbs.filelength = off;
    lbs.n_blocks = n;
    lbs.blocks = ptrs;
    lbs.underconstruction = f->holder != NULL;
    lbs.islastblockcomplete = f->holder == NULL;
    resp.locations = &lbs;
    reply(k, &resp.base);
out:
    cav_free(L);
    cav_free(last);
    cav_free(ptrs);
    hadoop__hdfs__get_block_locations_request_proto__free_unpacked(r, NULL);
}

static void m_getServerDefaults(call *k) {
    Hadoop__Hdfs__GetServerDefaultsResponseProto resp =
        HADOOP__HDFS__GET_SERVER_DEFAULTS_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__FsServerDefaultsProto d = HADOOP__HDFS__FS_SERVER_DEFAULTS_PROTO__INIT;
    d.blocksize = g_hd.block_size;
    d.bytesperchecksum = 512;
    d.writepacketsize = 65536;
    d.replication = g_hd.replication;
    d.filebuffersize = 4096;
    d.has_encryptdatatransfer = 1;
    d.encryptdatatransfer = 0;
    d.has_trashinterval = 1;
    d.trashinterval = 0;
    d.has_checksumtype = 1;
    d.checksumtype = HADOOP__HDFS__CHECKSUM_TYPE_PROTO__CHECKSUM_CRC32C;
    resp.serverdefaults = &d;
    reply(k, &resp.base);
}

static void m_renewLease(call *k) {
    UNPACK(Hadoop__Hdfs__RenewLeaseRequestProto, hadoop__hdfs__renew_lease_request_proto)
    Hadoop__Hdfs__RenewLeaseResponseProto resp = HADOOP__HDFS__RENEW_LEASE_RESPONSE_PROTO__INIT;
    hd_lease_renew(r->clientname);
    reply(k, &resp.base);
    hadoop__hdfs__renew_lease_request_proto__free_unpacked(r, NULL);
}

static hd_inode *existing(call *k, const char *src) {
    hd_res res;
    if (!resolve(k, src, &res)) return NULL;
    if (res.status != HD_FOUND) {
        fail(k, EXC_FNF, "File does not exist: %s", src);
        return NULL;
    }
    return res.node;
}

static void m_setReplication(call *k) {
    UNPACK(Hadoop__Hdfs__SetReplicationRequestProto, hadoop__hdfs__set_replication_request_proto)
    Hadoop__Hdfs__SetReplicationResponseProto resp =
        HADOOP__HDFS__SET_REPLICATION_RESPONSE_PROTO__INIT;
    hd_inode *n = existing(k, r->src);
    if (n && n->type == 2 && check_access(k, n, 2)) {
        if (r->replication < 1 || r->replication > 512) {
            fail(k, EXC_IO, "Requested replication factor of %u is out of range", r->replication);
        } else {
            n->repl = r->replication;
            resp.result = 1;
            save_or_fail(k);
        }
    }
    if (!k->exc && n) reply(k, &resp.base);
    hadoop__hdfs__set_replication_request_proto__free_unpacked(r, NULL);
}

static bool owner_or_super(call *k, hd_inode *n) {
    if (is_super(k) || !strcmp(n->owner, k->user)) return true;
    char path[HD_MAX_PATH + 2];
    hd_ns_path_of(n, path, sizeof path);
    fail(k, EXC_ACCESS, "Permission denied. user=%s is not the owner of inode=%s", k->user, path);
    return false;
}

static void m_setPermission(call *k) {
    UNPACK(Hadoop__Hdfs__SetPermissionRequestProto, hadoop__hdfs__set_permission_request_proto)
    Hadoop__Hdfs__SetPermissionResponseProto resp =
        HADOOP__HDFS__SET_PERMISSION_RESPONSE_PROTO__INIT;
    hd_inode *n = existing(k, r->src);
    if (n && owner_or_super(k, n)) {
        n->perm = r->permission->perm & 07777;
        save_or_fail(k);
        if (!k->exc) reply(k, &resp.base);
    }
    hadoop__hdfs__set_permission_request_proto__free_unpacked(r, NULL);
}

static void m_setOwner(call *k) {
    UNPACK(Hadoop__Hdfs__SetOwnerRequestProto, hadoop__hdfs__set_owner_request_proto)
    Hadoop__Hdfs__SetOwnerResponseProto resp = HADOOP__HDFS__SET_OWNER_RESPONSE_PROTO__INIT;
    hd_inode *n = existing(k, r->src);
    if (n && owner_or_super(k, n)) {
        if (r->username && *r->username && strcmp(r->username, n->owner) && !is_super(k)) {
            fail(k, EXC_ACCESS, "User %s is not a super user (non-super user cannot change owner).",
                 k->user);
        } else {
            if (r->username && *r->username) {
                cav_free(n->owner);
                n->owner = hd_strdup(r->username);
            }
            if (r->groupname && *r->groupname) {
                cav_free(n->group);
                n->group = hd_strdup(r->groupname);
            }
            save_or_fail(k);
            if (!k->exc) reply(k, &resp.base);
        }
    }
    hadoop__hdfs__set_owner_request_proto__free_unpacked(r, NULL);
}

static void m_setTimes(call *k) {
    UNPACK(Hadoop__Hdfs__SetTimesRequestProto, hadoop__hdfs__set_times_request_proto)
    Hadoop__Hdfs__SetTimesResponseProto resp = HADOOP__HDFS__SET_TIMES_RESPONSE_PROTO__INIT;
    hd_inode *n = existing(k, r->src);
    if (n && (strcmp(n->owner, k->user) == 0 || check_access(k, n, 2))) {
        if (r->mtime != UINT64_MAX) n->mtime = r->mtime;
        if (r->atime != UINT64_MAX) n->atime = r->atime;
        save_or_fail(k);
        if (!k->exc) reply(k, &resp.base);
    }
    hadoop__hdfs__set_times_request_proto__free_unpacked(r, NULL);
}

static void summarize(const hd_inode *n, uint64_t *len, uint64_t *files, uint64_t *dirs,
                      uint64_t *space) {
    if (n->type == 1) {
        (*dirs)++;
        for (size_t i = 0; i < n->nkids; i++)
            summarize(n->kids[i], len, files, dirs, space);
    } else {
        uint64_t l = file_length(n);
        (*files)++;
        *len += l;
        *space += l * n->repl;
    }
}

static void m_getContentSummary(call *k) {
    UNPACK(Hadoop__Hdfs__GetContentSummaryRequestProto,
           hadoop__hdfs__get_content_summary_request_proto)
    Hadoop__Hdfs__GetContentSummaryResponseProto resp =
        HADOOP__HDFS__GET_CONTENT_SUMMARY_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__ContentSummaryProto cs = HADOOP__HDFS__CONTENT_SUMMARY_PROTO__INIT;
    hd_inode *n = existing(k, r->path);
    if (n) {
        summarize(n, &cs.length, &cs.filecount, &cs.directorycount, &cs.spaceconsumed);
        cs.quota = UINT64_MAX;
        cs.spacequota = UINT64_MAX;
        resp.summary = &cs;
        reply(k, &resp.base);
    }
    hadoop__hdfs__get_content_summary_request_proto__free_unpacked(r, NULL);
}

static void m_getFsStats(call *k) {
    Hadoop__Hdfs__GetFsStatsResponseProto resp = HADOOP__HDFS__GET_FS_STATS_RESPONSE_PROTO__INIT;
    struct statvfs sv;
    uint64_t cap = 1ull << 40, rem = 1ull << 39;
    if (statvfs(g_hd.data_dir, &sv) == 0 && sv.f_blocks) {
        cap = (uint64_t)sv.f_blocks * sv.f_frsize;
        rem = (uint64_t)sv.f_bavail * sv.f_frsize;
    }
    uint64_t len = 0, files = 0, dirs = 0, space = 0;
    summarize(g_hd.root, &len, &files, &dirs, &space);
    resp.capacity = cap ? cap : 1;
    resp.used = space;
    resp.remaining = rem;
    reply(k, &resp.base);
}

static void m_updateBlockForPipeline(call *k) {
    UNPACK(Hadoop__Hdfs__UpdateBlockForPipelineRequestProto,
           hadoop__hdfs__update_block_for_pipeline_request_proto)
    Hadoop__Hdfs__UpdateBlockForPipelineResponseProto resp =
        HADOOP__HDFS__UPDATE_BLOCK_FOR_PIPELINE_RESPONSE_PROTO__INIT;
    lb_buf *L = cav_calloc(1, sizeof *L);
    if (!L) {
        fail(k, EXC_IO, "out of memory");
    } else {
        int dns[HD_MAX_DATANODES];
        int nd = replica_holders(r->block->blockid, dns, NULL);
        /* a new stamp for the client; the stored one changes only in updatePipeline */
        uint64_t gs = g_hd.next_gs++;
        save_or_fail(k);
        fill_lb(L, r->block->blockid, gs, r->block->has_numbytes ? r->block->numbytes : 0, 0, dns,
                nd);
        resp.block = &L->lb;
        if (!k->exc) reply(k, &resp.base);
    }
    cav_free(L);
    hadoop__hdfs__update_block_for_pipeline_request_proto__free_unpacked(r, NULL);
}

static hd_block *find_block(hd_inode *n, uint64_t id) {
    if (n->type == 2)
        for (size_t i = 0; i < n->nblocks; i++)
            if (n->blocks[i].id == id) return &n->blocks[i];
    for (size_t i = 0; i < n->nkids; i++) {
        hd_block *b = find_block(n->kids[i], id);
        if (b) return b;
    }
    return NULL;
}

static void m_updatePipeline(call *k) {
    UNPACK(Hadoop__Hdfs__UpdatePipelineRequestProto, hadoop__hdfs__update_pipeline_request_proto)
    Hadoop__Hdfs__UpdatePipelineResponseProto resp =
        HADOOP__HDFS__UPDATE_PIPELINE_RESPONSE_PROTO__INIT;
    hd_block *b = find_block(g_hd.root, r->oldblock->blockid);
    if (!b || r->newblock->blockid != r->oldblock->blockid) {
        fail(k, EXC_IO, "updatePipeline: unknown block blk_%llu",
             (unsigned long long)r->oldblock->blockid);
    } else {
        b->gs = r->newblock->generationstamp;
        if (r->newblock->has_numbytes) b->len = r->newblock->numbytes;
        save_or_fail(k);
        if (!k->exc) reply(k, &resp.base);
    }
    hadoop__hdfs__update_pipeline_request_proto__free_unpacked(r, NULL);
}

static void m_getAdditionalDatanode(call *k) {
    UNPACK(Hadoop__Hdfs__GetAdditionalDatanodeRequestProto,
           hadoop__hdfs__get_additional_datanode_request_proto)
    Hadoop__Hdfs__GetAdditionalDatanodeResponseProto resp =
        HADOOP__HDFS__GET_ADDITIONAL_DATANODE_RESPONSE_PROTO__INIT;
    lb_buf *L = cav_calloc(1, sizeof *L);
    Hadoop__Hdfs__DatanodeInfoProto *ex[2 * HD_MAX_DATANODES + 2];
    size_t nex = 0;
    for (size_t i = 0; i < r->n_existings && nex < CAV_ARRAY_LEN(ex); i++)
        ex[nex++] = r->existings[i];
    for (size_t i = 0; i < r->n_excludes && nex < CAV_ARRAY_LEN(ex); i++)
        ex[nex++] = r->excludes[i];
    int dns[HD_MAX_DATANODES], nd = 0;
    /* existing nodes first, in the client's order */
    for (size_t i = 0; i < r->n_existings; i++)
        for (int d = 0; d < g_hd.ndn && nd < HD_MAX_DATANODES; d++)
            if (r->existings[i]->id && r->existings[i]->id->xferport == (uint32_t)g_hd.dn[d].port &&
                !strcmp(r->existings[i]->id->ipaddr, g_hd.dn[d].ip))
                dns[nd++] = d;
    int want = (int)r->numadditionalnodes;
    if (want > HD_MAX_DATANODES - nd) want = HD_MAX_DATANODES - nd;
    int got = choose_targets(want, dns + nd, ex, nex);
    if (!L) {
        fail(k, EXC_IO, "out of memory");
    } else if (got < (int)r->numadditionalnodes) {
        fail(k, EXC_IO, "Failed to find %u additional datanode(s)", r->numadditionalnodes);
    } else {
        fill_lb(L, r->blk->blockid, r->blk->generationstamp,
                r->blk->has_numbytes ? r->blk->numbytes : 0, 0, dns, nd + got);
        resp.block = &L->lb;
        reply(k, &resp.base);
    }
    cav_free(L);
    hadoop__hdfs__get_additional_datanode_request_proto__free_unpacked(r, NULL);
}

static void m_recoverLease(call *k) {
    UNPACK(Hadoop__Hdfs__RecoverLeaseRequestProto, hadoop__hdfs__recover_lease_request_proto)
    Hadoop__Hdfs__RecoverLeaseResponseProto resp = HADOOP__HDFS__RECOVER_LEASE_RESPONSE_PROTO__INIT;
    hd_inode *f = existing(k, r->src);
    if (f && f->type != 2) {
        fail(k, EXC_FNF, "Path is not a file: %s", r->src);
    } else if (f && check_access(k, f, 2)) {
        if (f->holder) { /* close it with what the datanodes have */
            if (f->nblocks) {
                int dns[HD_MAX_DATANODES];
                int64_t ml;
                replica_holders(f->blocks[f->nblocks - 1].id, dns, &ml);
                if (ml < 0)
                    f->nblocks--;
                else
                    f->blocks[f->nblocks - 1].len = (uint64_t)ml;
            }
            cav_free(f->holder);
            f->holder = NULL;
            save_or_fail(k);
        }
        resp.result = 1;
        if (!k->exc) reply(k, &resp.base);
    }
    hadoop__hdfs__recover_lease_request_proto__free_unpacked(r, NULL);
}

typedef struct method {
    const char *name;
    void (*fn)(call *);
} method;

static const method methods[] = {
    {"getFileInfo", m_getFileInfo},
    {"getListing", m_getListing},
    {"mkdirs", m_mkdirs},
    {"delete", m_delete},
    {"rename", m_rename},
    {"rename2", m_rename2},
    {"create", m_create},
    {"addBlock", m_addBlock},
    {"complete", m_complete},
    {"abandonBlock", m_abandonBlock},
    {"getBlockLocations", m_getBlockLocations},
    {"getServerDefaults", m_getServerDefaults},
    {"renewLease", m_renewLease},
    {"setReplication", m_setReplication},
    {"setPermission", m_setPermission},
    {"setOwner", m_setOwner},
    {"setTimes", m_setTimes},
    {"getContentSummary", m_getContentSummary},
    {"getFsStats", m_getFsStats},
    {"updateBlockForPipeline", m_updateBlockForPipeline},
    {"updatePipeline", m_updatePipeline},
    {"getAdditionalDatanode", m_getAdditionalDatanode},
    {"recoverLease", m_recoverLease},
};

/* ---------------------------------------------------------------- connection */

typedef struct conn {
    int fd;
    uint8_t *buf; /* current frame */
    char user[256];
    bool have_context;
} conn;

static bool send_frame(int fd, const ProtobufCMessage *hdr, const uint8_t *body, size_t blen,
                       bool has_body) {
    size_t hl = protobuf_c_message_get_packed_size(hdr);
    size_t total = 10 + hl + (has_body ? 10 + blen : 0);
    uint8_t *b = cav_malloc(4 + total);
    if (!b) return false;
    size_t p = 4;
    p += hd_put_varint(b + p, hl);
    p += protobuf_c_message_pack(hdr, b + p);
    if (has_body) {
        p += hd_put_varint(b + p, blen);
        if (blen) memcpy(b + p, body, blen);
        p += blen;
    }
    uint32_t L = (uint32_t)(p - 4);
    b[0] = (uint8_t)(L >> 24);
    b[1] = (uint8_t)(L >> 16);
    b[2] = (uint8_t)(L >> 8);
    b[3] = (uint8_t)L;
    bool ok = hd_write_full(fd, b, p);
    cav_free(b);
    return ok;
}

static bool respond(conn *c, const Hadoop__Common__RpcRequestHeaderProto *rq, int32_t callid,
                    int status, const char *exc, const char *msg, int detail, const uint8_t *body,
                    size_t blen) {
    Hadoop__Common__RpcResponseHeaderProto h = HADOOP__COMMON__RPC_RESPONSE_HEADER_PROTO__INIT;
    h.callid = (uint32_t)callid;
    h.status = (Hadoop__Common__RpcResponseHeaderProto__RpcStatusProto)status;
    h.has_serveripcversionnum = 1;
    h.serveripcversionnum = 9;
    if (exc) {
        h.exceptionclassname = (char *)exc;
        h.errormsg = (char *)msg;
        h.has_errordetail = 1;
        h.errordetail = (Hadoop__Common__RpcResponseHeaderProto__RpcErrorCodeProto)detail;
    }
    if (rq) {
        h.has_clientid = 1;
        h.clientid = rq->clientid;
        if (rq->has_retrycount) {
            h.has_retrycount = 1;
            h.retrycount = rq->retrycount;
        }
    }
    return send_frame(c->fd, &h.base, body, blen, status == 0);
}

static void fatal(conn *c, int32_t callid, const char *exc, const char *msg, int detail) {
    respond(c, NULL, callid, 2, exc, msg, detail, NULL, 0);
}

/* Takes one delimited message out of [*p, end). */
static bool take(const uint8_t **p, const uint8_t *end, const uint8_t **m, size_t *len) {
    uint64_t l;
    size_t used = hd_get_varint(*p, (size_t)(end - *p), &l);
    if (!used || l > (uint64_t)(end - *p - (ptrdiff_t)used)) return false;
    *m = *p + used;
    *len = (size_t)l;
    *p = *m + l;
    return true;
}

static bool handle_frame(conn *c, const uint8_t *f, size_t flen) {
    const uint8_t *p = f, *end = f + flen, *m;
    size_t ml;
    if (!take(&p, end, &m, &ml)) {
        fatal(c, -1, "org.apache.hadoop.ipc.RpcServerException", "Invalid RPC header", 12);
        return false;
    }
    Hadoop__Common__RpcRequestHeaderProto *rq =
        hadoop__common__rpc_request_header_proto__unpack(NULL, ml, m);
    if (!rq) {
        fatal(c, -1, "org.apache.hadoop.ipc.RpcServerException", "Invalid RPC header", 12);
        return false;
    }
    bool keep = true;
    int32_t cid = rq->callid;
    if (cid == -4) goto done; /* ping */
    if (cid == -33) {         /* SASL: answer "use SIMPLE" */
        Hadoop__Common__RpcSaslProto *s =
            take(&p, end, &m, &ml) ? hadoop__common__rpc_sasl_proto__unpack(NULL, ml, m) : NULL;
        if (s && s->state == HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__NEGOTIATE &&
            !c->have_context) {
            Hadoop__Common__RpcSaslProto ok = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
            ok.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__SUCCESS;
            uint8_t tmp[16];
            size_t tl = protobuf_c_message_pack(&ok.base, tmp);
            keep = respond(c, rq, -33, 0, NULL, NULL, 0, tmp, tl);
        } else {
            fatal(c, -33, "org.apache.hadoop.security.AccessControlException",
                  "SASL is not supported by this server except the SIMPLE fallback", 15);
            keep = false;
        }
        if (s) hadoop__common__rpc_sasl_proto__free_unpacked(s, NULL);
        goto done;
    }
    if (cid == -3) {
        Hadoop__Common__IpcConnectionContextProto *ctx =
            take(&p, end, &m, &ml)
                ? hadoop__common__ipc_connection_context_proto__unpack(NULL, ml, m)
                : NULL;
        if (!ctx || c->have_context) {
            fatal(c, -3, "org.apache.hadoop.ipc.RpcServerException",
                  ctx ? "Connection context already processed" : "Invalid connection context", 13);
            keep = false;
        } else {
            const char *u =
                ctx->userinfo && ctx->userinfo->effectiveuser ? ctx->userinfo->effectiveuser : "";
            if (!*u || strlen(u) >= sizeof c->user ||
                (ctx->protocol && strcmp(ctx->protocol, HD_PROTOCOL))) {
                fatal(c, -3, EXC_ACCESS,
                      !*u ? "no user in the connection context" : "unknown protocol or user", 15);
                keep = false;
            } else {
                snprintf(c->user, sizeof c->user, "%s", u);
                c->have_context = true;
            }
        }
        if (ctx) hadoop__common__ipc_connection_context_proto__free_unpacked(ctx, NULL);
        goto done;
    }
    if (cid < 0) {
        fatal(c, cid, "org.apache.hadoop.ipc.RpcServerException", "Invalid call id", 12);
        keep = false;
        goto done;
    }
    if (!c->have_context) {
        fatal(c, cid, "org.apache.hadoop.ipc.RpcServerException",
              "Connection context not established", 12);
        keep = false;
        goto done;
    }
    Hadoop__Common__RequestHeaderProto *rh =
        take(&p, end, &m, &ml) ? hadoop__common__request_header_proto__unpack(NULL, ml, m) : NULL;
    if (!rh) {
        fatal(c, cid, "org.apache.hadoop.ipc.RpcServerException", "Invalid request header", 13);
        keep = false;
        goto done;
    }
    const uint8_t *body = NULL;
    size_t blen = 0;
    if (!take(&p, end, &body, &blen)) {
        body = p;
        blen = 0;
        if (p != end) {
            fatal(c, cid, "org.apache.hadoop.ipc.RpcServerException", "Truncated request", 13);
            keep = false;
            hadoop__common__request_header_proto__free_unpacked(rh, NULL);
            goto done;
        }
    }
    if (strcmp(rh->declaringclassprotocolname, HD_PROTOCOL)) {
        char msg[512];
        snprintf(msg, sizeof msg, "Unknown protocol: %.300s", rh->declaringclassprotocolname);
        keep = respond(c, rq, cid, 1, "org.apache.hadoop.ipc.RpcNoSuchProtocolException", msg, 3,
                       NULL, 0);
    } else if (hd_now_ms() < (uint64_t)atomic_load(&g_hd.nn_refuse_until_ms)) {
        keep = respond(c, rq, cid, 1, EXC_RETRIABLE, "NameNode is refusing calls (fault injection)",
                       1, NULL, 0);
    } else {
        const method *mt = NULL;
        for (size_t i = 0; i < CAV_ARRAY_LEN(methods); i++)
            if (!strcmp(methods[i].name, rh->methodname)) mt = &methods[i];
        if (!mt) {
            char msg[512];
            snprintf(msg, sizeof msg, "Unknown method %.200s called on %s protocol.",
                     rh->methodname, HD_PROTOCOL);
            keep = respond(c, rq, cid, 1, "org.apache.hadoop.ipc.RpcNoSuchMethodException", msg, 2,
                           NULL, 0);
        } else {
            call k = {.user = c->user, .data = body, .len = blen};
            pthread_mutex_lock(&g_hd.ns_lock);
            mt->fn(&k);
            pthread_mutex_unlock(&g_hd.ns_lock);
            hd_log("%s %s %s", c->user, mt->name, k.fatal ? "FATAL" : k.exc ? k.exc : "ok");
            if (k.fatal) {
                char msg[300];
                snprintf(msg, sizeof msg,
                         "Failed to parse the request of %s (missing required fields?)", mt->name);
                fatal(c, cid, "org.apache.hadoop.ipc.RpcServerException", msg, 13);
                keep = false;
            } else if (k.exc) {
                keep = respond(c, rq, cid, 1, k.exc, k.msg, 1, NULL, 0);
            } else {
                keep = respond(c, rq, cid, 0, NULL, NULL, 0, k.out, k.outlen);
            }
            cav_free(k.out);
        }
    }
    hadoop__common__request_header_proto__free_unpacked(rh, NULL);
done:
    hadoop__common__rpc_request_header_proto__free_unpacked(rq, NULL);
    return keep;
}

void *hd_nn_conn_thread(void *arg) {
    hd_conn_arg *a = arg;
    conn c = {.fd = a->fd};
    cav_free(a);
    uint8_t pre[7];
    if (hd_now_ms() < (uint64_t)atomic_load(&g_hd.nn_refuse_until_ms)) goto out;
    if (!hd_read_full(c.fd, pre, 7)) goto out;
    if (memcmp(pre, "hrpc", 4)) {
        if (!memcmp(pre, "GET ", 4)) {
            const char *t =
                "HTTP/1.1 404 Not Found\r\nContent-type: text/plain\r\n\r\n"
                "It looks like you are making an HTTP request to a Hadoop IPC port. "
                "This is not the correct port for the web interface on this daemon.\r\n";
            hd_write_full(c.fd, t, strlen(t));
        }
        goto out;
    }
    if (pre[4] != 9) {
        fatal(&c, -1, "org.apache.hadoop.ipc.RPC$VersionMismatch",
              "Server IPC version 9 cannot communicate with client version", 14);
        goto out;
    }
    if (pre[6] != 0 && pre[6] != 0xDF) {
        fatal(&c, -1, EXC_ACCESS, "Unknown authentication protocol", 15);
        goto out;
    }
    for (;;) {
        uint8_t lb[4];
        if (!hd_read_full(c.fd, lb, 4)) break;
        uint32_t len = (uint32_t)lb[0] << 24 | (uint32_t)lb[1] << 16 | (uint32_t)lb[2] << 8 | lb[3];
        if (len == 0 || len > g_hd.max_frame) {
            fatal(&c, -1, "org.apache.hadoop.ipc.RpcServerException",
                  "RPC data length is out of range", 12);
            break;
        }
        c.buf = cav_malloc(len);
        if (!c.buf || !hd_read_full(c.fd, c.buf, len)) break;
        bool keep = handle_frame(&c, c.buf, len);
        cav_free(c.buf);
        c.buf = NULL;
        if (!keep) break;
    }
out:
    cav_free(c.buf);
    close(c.fd);
    return NULL;
}
