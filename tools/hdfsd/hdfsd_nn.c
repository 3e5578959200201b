/*
 * hdfsd_nn.c — what every NameNode method uses (hdfsd_nn.h): failures with the Java
 * exception class a real NameNode uses, packed replies, permission checks, path resolution,
 * file statuses and located blocks.
 */
#include "hdfsd_nn.h"
#include "core/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

void nn_fail(call *k, const char *exc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->msg, sizeof k->msg, fmt, ap);
    va_end(ap);
    k->exc = exc;
}

void nn_reply(call *k, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    k->out = cav_malloc(n ? n : 1);
    if (!k->out) {
        nn_fail(k, EXC_IO, "out of memory");
        return;
    }
    k->outlen = protobuf_c_message_pack(m, k->out);
}

bool nn_is_super(const call *k) {
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
bool nn_check_access(call *k, const hd_inode *n, int bits) {
    if (nn_is_super(k)) return true;
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
    nn_fail(k, EXC_ACCESS, "Permission denied: user=%s, access=%s, inode=\"%s\":%s:%s:%s", k->user,
            acc, path, n->owner, n->group, mode);
    return false;
}

/* Resolves; on anything but FOUND/MISSING sets the matching exception and returns false. */
bool nn_resolve(call *k, const char *path, hd_res *r) {
    hd_ns_resolve(path, r);
    if (r->status == HD_INVALID) {
        nn_fail(k, EXC_INVALID_PATH, "Invalid path name %s", path);
        return false;
    }
    if (r->status == HD_PARENT_FILE) {
        nn_fail(k, EXC_PARENT_NOT_DIR, "Parent path is not a directory: %s", path);
        return false;
    }
    return true;
}

void nn_save_or_fail(call *k) {
    if (hd_ns_save()) nn_fail(k, EXC_IO, "cannot write the namespace snapshot");
}

uint64_t nn_file_length(const hd_inode *n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n->nblocks; i++)
        s += n->blocks[i].len;
    return s;
}

void nn_fill_status(status_buf *b, const hd_inode *n, bool with_name) {
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
    b->st.length = n->type == 2 ? nn_file_length(n) : 0;
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

void nn_fill_lb(lb_buf *L, uint64_t id, uint64_t gs, uint64_t len, uint64_t off, const int *dns,
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
int nn_replica_holders(uint64_t blk, int *out, int64_t *maxlen) {
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
