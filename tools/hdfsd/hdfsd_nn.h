/*
 * hdfsd_nn.h — internals of the NameNode side of csvavro-hdfsd, shared by
 *   hdfsd_rpc.c       connections: preamble, framing, headers, the method table, dispatch
 *   hdfsd_nn.c        what every method uses: failures, replies, permission checks (HDFS's
 *                     model), limits, statuses
 *   hdfsd_nn_ns.c     namespace methods (file info, listing, mkdirs, delete, rename, set*,
 *                     content summary, stats, server defaults)
 *   hdfsd_nn_blocks.c write and read path methods (create, addBlock, complete, abandonBlock,
 *                     getBlockLocations, leases, pipeline recovery)
 *
 * Methods get the request bytes in a call, and leave either a packed reply or an exception
 * (k->exc, k->msg) or k->fatal (the request does not decode: the connection is closed). Errors
 * carry the Java exception class names a real NameNode uses.
 *
 * Invariants: every frame is bounded by g_hd.max_frame; every length inside a frame is checked
 * against what is left of it; a frame that cannot be decoded gets a FATAL response and the
 * connection is closed; the namespace is touched only under g_hd.ns_lock and saved before the
 * lock is released after a mutation. Responses fill every required field, recursively.
 */
#ifndef CAV_HDFSD_NN_H
#define CAV_HDFSD_NN_H

#include "hdfsd.h"

#include "hdfs/ClientNamenodeProtocol.pb-c.h"
#include "hdfs/IpcConnectionContext.pb-c.h"
#include "hdfs/ProtobufRpcEngine.pb-c.h"
#include "hdfs/RpcHeader.pb-c.h"

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
#define EXC_COMPONENT_TOO_LONG                                                                     \
    "org.apache.hadoop.hdfs.protocol.FSLimitException$PathComponentTooLongException"
#define EXC_MAX_ITEMS                                                                              \
    "org.apache.hadoop.hdfs.protocol.FSLimitException$MaxDirectoryItemsExceededException"

/* One method call: the request and, once the method ran, its outcome. */
typedef struct call {
    const char *user;
    const char *principal; /* secure mode: the authenticated principal (or token owner) */
    bool via_token;        /* authenticated with a delegation token (TOKEN/DIGEST-MD5) */
    const uint8_t *data;   /* method request bytes */
    size_t len;
    /* results */
    bool fatal;
    const char *exc;
    char msg[1024];
    uint8_t *out; /* packed response (cav_malloc) */
    size_t outlen;
} call;

/* Storage for the messages of one reply (they point into each other). */
typedef struct status_buf {
    Hadoop__Hdfs__HdfsFileStatusProto st;
    Hadoop__Hdfs__FsPermissionProto perm;
    Hadoop__Hdfs__FileEncryptionInfoProto fe;  /* files marked HD_X_CRYPT */
    Hadoop__Hdfs__ErasureCodingPolicyProto ec; /* inodes marked HD_X_EC */
    Hadoop__Hdfs__ECSchemaProto schema;
} status_buf;

typedef struct dn_buf {
    Hadoop__Hdfs__DatanodeInfoProto info;
    Hadoop__Hdfs__DatanodeIDProto id;
} dn_buf;

typedef struct lb_buf {
    Hadoop__Hdfs__LocatedBlockProto lb;
    Hadoop__Hdfs__ExtendedBlockProto b;
    Hadoop__Common__TokenProto tok;
    uint8_t tok_id[64 + 2 * 300]; /* block access token (HD_TOKEN_ID_MAX) */
    uint8_t tok_pw[20];
    dn_buf dn[HD_MAX_DATANODES];
    Hadoop__Hdfs__DatanodeInfoProto *locs[HD_MAX_DATANODES];
    protobuf_c_boolean cached[HD_MAX_DATANODES];
    Hadoop__Hdfs__StorageTypeProto types[HD_MAX_DATANODES];
    char *sids[HD_MAX_DATANODES];
} lb_buf;

/* The request message of method call k, or a fatal connection error when it does not decode;
 * a request whose strings hold a NUL byte is refused (see nn_strings_clean). */
#define UNPACK(T, fn)                                                                              \
    T *r = fn##__unpack(NULL, k->len, k->data);                                                    \
    if (!r) {                                                                                      \
        k->fatal = true;                                                                           \
        return;                                                                                    \
    }                                                                                              \
    if (!nn_strings_clean(k, &fn##__descriptor)) {                                                 \
        fn##__free_unpacked(r, NULL);                                                              \
        return;                                                                                    \
    }

/* ---- hdfsd_nn.c */
void nn_fail(call *k, const char *exc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void nn_reply(call *k, const ProtobufCMessage *m);
/* protobuf-c hands strings over as C strings: one holding a NUL byte would act on a shorter
 * name ("/a\0/../x" as "/a"). False, with InvalidPathException (paths) or
 * HadoopIllegalArgumentException, when a string field of the request (or of a message in it)
 * holds one. */
bool nn_strings_clean(call *k, const ProtobufCMessageDescriptor *d);
bool nn_is_super(const call *k);
bool nn_in_group(const call *k, const char *group);
/* Access bits (4 read, 2 write, 1 execute) on n for the caller; AccessControlException if not. */
bool nn_check_access(call *k, const hd_inode *n, int bits);
/* The sticky bit of parent allows removing/replacing its entry n (owner of n or of parent). */
bool nn_check_sticky(call *k, const hd_inode *parent, const hd_inode *n);
bool nn_check_owner(call *k, const hd_inode *n);
/* What an operation needs on a resolved path, as HDFS's FSPermissionChecker.checkPermission:
 * EXECUTE on every existing ancestor always; ancestor: bits on the last existing ancestor of
 * the final component; parent: bits on the final inode's parent (WRITE also checks its
 * sticky bit); self: bits on the final inode; sub: bits on every directory below it (empty
 * ones skipped when sub_skip_empty); owner: the caller owns the final inode. Checks that
 * name an inode that does not exist are skipped. The superuser passes. */
typedef struct nn_perm {
    int ancestor, parent, self, sub;
    bool sub_skip_empty, owner;
} nn_perm;
bool nn_permit(call *k, const hd_res *r, nn_perm want);
/* Resolves path; false with the exception set for an invalid path or one through a file. */
bool nn_resolve(call *k, const char *path, hd_res *r);
/* Limits of a path about to be created (length, depth, component length), of a directory
 * about to get one more entry (items, inodes), of a client name. */
bool nn_check_new_path(call *k, const char *path, const hd_res *r);
bool nn_check_dir_items(call *k, const hd_inode *dir);
bool nn_can_add_child(call *k, const hd_inode *dir);
bool nn_check_client(call *k, const char *client);
void nn_save_or_fail(call *k);
uint64_t nn_file_length(const hd_inode *n);
void nn_fill_status(status_buf *b, const hd_inode *n, bool with_name);
/* The encryption info / EC policy a marked inode reports (NULL when not marked so). */
Hadoop__Hdfs__FileEncryptionInfoProto *nn_fill_crypt(status_buf *b, const hd_inode *n);
Hadoop__Hdfs__ErasureCodingPolicyProto *nn_fill_ec(status_buf *b, const hd_inode *n);
void nn_fill_lb(lb_buf *L, uint64_t id, uint64_t gs, uint64_t len, uint64_t off, const int *dns,
                int ndns);
int nn_replica_holders(uint64_t blk, int *out, int64_t *maxlen);

/* ---- hdfsd_nn_ns.c */
void nn_getFileInfo(call *k);
void nn_getListing(call *k);
hd_inode *nn_make_parents(call *k, const char *path, uint32_t perm, bool create_parent);
void nn_mkdirs(call *k);
void nn_delete(call *k);
void nn_rename(call *k);
void nn_rename2(call *k);
void nn_getServerDefaults(call *k);
/* hdfsd_dtoken.c */
void nn_getDelegationToken(call *k);
void nn_renewDelegationToken(call *k);
void nn_cancelDelegationToken(call *k);
void nn_getDataEncryptionKey(call *k); /* hdfsd_dtp.c */
/* The inode at src after the permission check want; FileNotFoundException when missing. */
hd_inode *nn_existing(call *k, const char *src, nn_perm want);
void nn_setReplication(call *k);
void nn_setPermission(call *k);
void nn_setOwner(call *k);
void nn_setTimes(call *k);
void nn_getContentSummary(call *k);
void nn_getFsStats(call *k);

/* ---- hdfsd_nn_blocks.c */
void nn_create(call *k);
void nn_addBlock(call *k);
void nn_complete(call *k);
void nn_abandonBlock(call *k);
void nn_getBlockLocations(call *k);
void nn_renewLease(call *k);
void nn_updateBlockForPipeline(call *k);
void nn_updatePipeline(call *k);
void nn_getAdditionalDatanode(call *k);
void nn_recoverLease(call *k);

#endif /* CAV_HDFSD_NN_H */
