/*
 * hdfsd_nn.c — what every NameNode method uses (hdfsd_nn.h): failures with the Java
 * exception class a real NameNode uses, packed replies, permission checks, path resolution,
 * file statuses and located blocks.
 */
#include "hdfsd_auth.h"
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

/* The groups of user from --groups, or NULL when it is not listed there. */
static const struct hd_user_groups *mapped(const char *user) {
    for (size_t i = 0; i < g_hd.ngroup_map; i++)
        if (!strcmp(g_hd.group_map[i].user, user)) return &g_hd.group_map[i];
    return NULL;
}

static bool member(const char *user, const char *group) {
    const struct hd_user_groups *m = mapped(user);
    if (!m) return !strcmp(group, user);
    for (size_t i = 0; i < m->ngroups; i++)
        if (!strcmp(m->groups[i], group)) return true;
    return false;
}

/* Walks the fields of one message; false at the first string field holding a NUL (name set). */
static bool clean(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, int depth,
                  const char **bad) {
    size_t i = 0;
    while (i < n) {
        uint64_t tag, len;
        size_t u = hd_get_varint(p + i, n - i, &tag);
        if (!u) return true; /* malformed: unpack already judged the bytes */
        i += u;
        switch (tag & 7) {
        case 0:
            u = hd_get_varint(p + i, n - i, &len);
            if (!u) return true;
            i += u;
            break;
        case 1:
            i += 8;
            break;
        case 5:
            i += 4;
            break;
        case 2: {
            u = hd_get_varint(p + i, n - i, &len);
            if (!u || len > n - i - u) return true;
            i += u;
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
            if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p + i, 0, (size_t)len)) {
                *bad = f->name;
                return false;
            }
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 8 &&
                !clean(f->descriptor, p + i, (size_t)len, depth + 1, bad))
                return false;
            i += (size_t)len;
            break;
        }
        default:
            return true;
        }
    }
    return true;
}

bool nn_strings_clean(call *k, const ProtobufCMessageDescriptor *d) {
    const char *bad = NULL;
    if (clean(d, k->data, k->len, 0, &bad)) return true;
    bool path = !strcmp(bad, "src") || !strcmp(bad, "dst") || !strcmp(bad, "path");
    nn_fail(k, path ? EXC_INVALID_PATH : EXC_ILLEGAL_ARG, "Invalid %s: it holds a NUL byte", bad);
    return false;
}

/* HDFS: the NameNode's user, or any member of dfs.permissions.superusergroup (supergroup). */
bool nn_is_super(const call *k) {
    return !strcmp(k->user, g_hd.superuser) || member(k->user, g_hd.supergroup);
}

static void mode_string(const hd_inode *n, char out[11]) {
    const char *rwx = "rwxrwxrwx";
    out[0] = n->type == 1 ? 'd' : '-';
    for (int i = 0; i < 9; i++)
        out[1 + i] = (n->perm >> (8 - i)) & 1 ? rwx[i] : '-';
    if (n->perm & 01000) out[9] = (n->perm & 1) ? 't' : 'T';
    out[10] = 0;
}

/* ---------------------------------------------------------------- permissions
 * HDFS's model (FSPermissionChecker): the superuser passes every check; otherwise the owner's
 * bits apply to the owner, the group's bits to members of the inode's group, the other bits to
 * everyone else. Group mapping: --groups (Hadoop's static mapping), else a user is a member of
 * the group of her own name only (this server has no directory of users; HDFS asks the OS by
 * default). */

bool nn_in_group(const call *k, const char *group) {
    return member(k->user, group);
}

static const char *access_name(int bits) {
    static const char *const names[8] = {"NONE", "EXECUTE",      "WRITE",      "WRITE_EXECUTE",
                                         "READ", "READ_EXECUTE", "READ_WRITE", "ALL"};
    return names[bits & 7];
}

/* bits: 4 read, 2 write, 1 execute. Sets an AccessControlException on refusal. */
bool nn_check_access(call *k, const hd_inode *n, int bits) {
    if (nn_is_super(k)) return true;
    uint32_t p;
    if (!strcmp(n->owner, k->user))
        p = (n->perm >> 6) & 7;
    else if (nn_in_group(k, n->group))
        p = (n->perm >> 3) & 7;
    else
        p = n->perm & 7;
    if ((p & (uint32_t)bits) == (uint32_t)bits) return true;
    char path[HD_MAX_PATH + 2], mode[11];
    hd_ns_path_of(n, path, sizeof path);
    mode_string(n, mode);
    nn_fail(k, EXC_ACCESS, "Permission denied: user=%s, access=%s, inode=\"%s\":%s:%s:%s", k->user,
            access_name(bits), path, n->owner, n->group, mode);
    return false;
}

/* EXECUTE on dir and every directory above it, checked from the root down (the message names
 * the topmost refusal, as HDFS's). */
static bool traverse(call *k, const hd_inode *dir) {
    if (!dir) return true;
    if (!traverse(k, dir->parent)) return false;
    return nn_check_access(k, dir, 1);
}

bool nn_check_sticky(call *k, const hd_inode *parent, const hd_inode *n) {
    if (!(parent->perm & 01000) || nn_is_super(k) || !strcmp(parent->owner, k->user) ||
        !strcmp(n->owner, k->user))
        return true;
    char path[HD_MAX_PATH + 2], ppath[HD_MAX_PATH + 2], mode[11], pmode[11];
    hd_ns_path_of(n, path, sizeof path);
    hd_ns_path_of(parent, ppath, sizeof ppath);
    mode_string(n, mode);
    mode_string(parent, pmode);
    nn_fail(k, EXC_ACCESS,
            "Permission denied by sticky bit: user=%s, path=\"%s\":%s:%s:%s, "
            "parent=\"%s\":%s:%s:%s",
            k->user, path, n->owner, n->group, mode, ppath, parent->owner, parent->group, pmode);
    return false;
}

/* bits on every directory of the subtree of n (n included); empty ones skipped if asked. */
static bool check_sub(call *k, const hd_inode *n, int bits, bool skip_empty) {
    if (n->type != 1) return true;
    if (!(skip_empty && n->nkids == 0) && !nn_check_access(k, n, bits)) return false;
    for (size_t i = 0; i < n->nkids; i++)
        if (!check_sub(k, n->kids[i], bits, skip_empty)) return false;
    return true;
}

bool nn_check_owner(call *k, const hd_inode *n) {
    if (nn_is_super(k) || !strcmp(n->owner, k->user)) return true;
    char path[HD_MAX_PATH + 2];
    hd_ns_path_of(n, path, sizeof path);
    nn_fail(k, EXC_ACCESS, "Permission denied. user=%s is not the owner of inode=%s", k->user,
            path);
    return false;
}

bool nn_permit(call *k, const hd_res *r, nn_perm want) {
    if (nn_is_super(k)) return true;
    const hd_inode *last = r->status == HD_FOUND ? r->node : NULL;
    /* the last existing ancestor of the final component */
    const hd_inode *anc = last ? last->parent : r->deepest;
    if (anc && anc->type != 1) anc = anc->parent; /* HD_PARENT_FILE: the file's directory */
    if (!traverse(k, anc)) return false;
    const hd_inode *par = last ? last->parent : NULL;
    if (want.parent && par && (want.parent & 2) && !nn_check_sticky(k, par, last)) return false;
    if (want.ancestor && anc && !nn_check_access(k, anc, want.ancestor)) return false;
    if (want.parent && par && !nn_check_access(k, par, want.parent)) return false;
    if (want.self && last && !nn_check_access(k, last, want.self)) return false;
    if (want.sub && last && !check_sub(k, last, want.sub, want.sub_skip_empty)) return false;
    if (want.owner && last && !nn_check_owner(k, last)) return false;
    return true;
}

/* Resolves; on anything but FOUND/MISSING/NO_PARENT sets the matching exception (after the
 * traverse check, as HDFS) and returns false. */
bool nn_resolve(call *k, const char *path, hd_res *r) {
    hd_ns_resolve(path, r);
    if (r->status == HD_INVALID) {
        nn_fail(k, EXC_INVALID_PATH, "Invalid path name %s", path);
        return false;
    }
    if (r->status == HD_PARENT_FILE) {
        if (nn_permit(k, r, (nn_perm){0}))
            nn_fail(k, EXC_PARENT_NOT_DIR, "Parent path is not a directory: %s", path);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- limits */

bool nn_check_new_path(call *k, const char *path, const hd_res *r) {
    if (strlen(path) > HD_MAX_PATH || r->depth > HD_MAX_DEPTH) {
        nn_fail(k, EXC_IO, "Pathname too long.  Limit %d characters, %d levels.", HD_MAX_PATH,
                HD_MAX_DEPTH);
        return false;
    }
    if (r->too_long) {
        /* find the offending component for the message */
        const char *p = path, *dir_end = path;
        size_t len = 0;
        while (*p) {
            while (*p == '/')
                p++;
            const char *e = strchr(p, '/');
            len = e ? (size_t)(e - p) : strlen(p);
            if (len > HD_MAX_COMPONENT) break;
            dir_end = p + len;
            p += len;
        }
        nn_fail(k, EXC_COMPONENT_TOO_LONG,
                "The maximum path component name limit of %.*s in directory %.*s is exceeded: "
                "limit=%d length=%zu",
                (int)CAV_MIN(len, (size_t)300), p, (int)(dir_end - path),
                dir_end == path ? "/" : path, HD_MAX_COMPONENT, len);
        return false;
    }
    return true;
}

bool nn_check_dir_items(call *k, const hd_inode *dir) {
    if (dir->nkids < g_hd.max_dir_items) return true;
    char path[HD_MAX_PATH + 2];
    hd_ns_path_of(dir, path, sizeof path);
    nn_fail(k, EXC_MAX_ITEMS, "The directory item limit of %s is exceeded: limit=%u items=%zu",
            path, g_hd.max_dir_items, dir->nkids);
    return false;
}

bool nn_can_add_child(call *k, const hd_inode *dir) {
    if (!nn_check_dir_items(k, dir)) return false;
    if (g_hd.ninodes >= g_hd.max_inodes) {
        nn_fail(k, EXC_IO, "inode limit reached (--max-inodes %llu)",
                (unsigned long long)g_hd.max_inodes);
        return false;
    }
    return true;
}

bool nn_check_client(call *k, const char *client) {
    const char *why = hd_check_client_name(client);
    if (!why) return true;
    nn_fail(k, EXC_ILLEGAL_ARG, "Invalid clientName: it %s (this server's limit is %d bytes)", why,
            HD_MAX_CLIENT_NAME);
    return false;
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
    if (n->xflags) {
        b->st.has_flags = 1;
        b->st.flags = n->xflags & (n->type == 2 ? (HD_X_CRYPT | HD_X_EC) : HD_X_EC);
        b->st.fileencryptioninfo = nn_fill_crypt(b, n);
        b->st.ecpolicy = nn_fill_ec(b, n);
    }
}

/* Fixed, made-up key material: a marked file is never really encrypted; the point is that a
 * client sees the marks and refuses. */
Hadoop__Hdfs__FileEncryptionInfoProto *nn_fill_crypt(status_buf *b, const hd_inode *n) {
    if (n->type != 2 || !(n->xflags & HD_X_CRYPT)) return NULL;
    static const uint8_t key[16] = {0x6b, 0x65, 0x79}, iv[16] = {0x69, 0x76};
    Hadoop__Hdfs__FileEncryptionInfoProto fe = HADOOP__HDFS__FILE_ENCRYPTION_INFO_PROTO__INIT;
    b->fe = fe;
    b->fe.suite = HADOOP__HDFS__CIPHER_SUITE_PROTO__AES_CTR_NOPADDING;
    b->fe.cryptoprotocolversion = HADOOP__HDFS__CRYPTO_PROTOCOL_VERSION_PROTO__ENCRYPTION_ZONES;
    b->fe.key.data = (uint8_t *)key;
    b->fe.key.len = sizeof key;
    b->fe.iv.data = (uint8_t *)iv;
    b->fe.iv.len = sizeof iv;
    b->fe.keyname = "hdfsd-zone-key";
    b->fe.ezkeyversionname = "hdfsd-zone-key@0";
    return &b->fe;
}

Hadoop__Hdfs__ErasureCodingPolicyProto *nn_fill_ec(status_buf *b, const hd_inode *n) {
    if (!(n->xflags & HD_X_EC)) return NULL;
    Hadoop__Hdfs__ErasureCodingPolicyProto ec = HADOOP__HDFS__ERASURE_CODING_POLICY_PROTO__INIT;
    Hadoop__Hdfs__ECSchemaProto sc = HADOOP__HDFS__ECSCHEMA_PROTO__INIT;
    b->ec = ec;
    b->schema = sc;
    b->schema.codecname = "rs";
    b->schema.dataunits = 6;
    b->schema.parityunits = 3;
    b->ec.name = "RS-6-3-1024k";
    b->ec.schema = &b->schema;
    b->ec.has_cellsize = 1;
    b->ec.cellsize = 1024 * 1024;
    b->ec.id = 1;
    return &b->ec;
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
    if (g_sec.block_tokens) {
        size_t n = hd_block_token(hd_tls_user ? hd_tls_user : "", id,
                                  hd_tls_modes ? hd_tls_modes : HD_TOK_READ, L->tok_id, L->tok_pw);
        if (n) {
            L->tok.identifier.data = L->tok_id;
            L->tok.identifier.len = n;
            L->tok.password.data = L->tok_pw;
            L->tok.password.len = 20;
            L->tok.kind = "HDFS_BLOCK_TOKEN";
        }
    }
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
