/*
 * hdfsd.h — csvavro-hdfsd, a small HDFS-compatible server for tests and local development:
 * one NameNode (Hadoop RPC v9, SIMPLE auth, ClientProtocol) and K DataNodes (data transfer
 * protocol v28) in one process, over real sockets.
 *
 *   hdfsd_main.c  command line, listeners, control port (fault injection), startup/shutdown
 *   hdfsd_ns.c    the namespace model (inodes, blocks, leases, permissions) and its snapshot
 *   hdfsd_rpc.c   NameNode connections: preamble, framing, headers, method dispatch
 *   hdfsd_nn*.c   NameNode methods: hdfsd_nn.c (shared helpers), hdfsd_nn_ns.c (namespace),
 *                 hdfsd_nn_blocks.c (write/read path, leases, pipelines); see hdfsd_nn.h
 *   hdfsd_dn.c    DataNode connections: READ_BLOCK, WRITE_BLOCK (+ pipeline), BLOCK_CHECKSUM
 *   hdfsd_util.c  socket I/O, varints, CRC32/CRC32C, MD5
 *
 * Invariants: the namespace is only touched under g_hd.ns_lock, and every mutation rewrites
 * the snapshot file (write to a temporary file, then rename) before the lock is released.
 * Replicas live in DATA/dn<i>/current/blk_<id> (+ .meta: checksum type, bytes per checksum,
 * big-endian CRCs); a replica is visible only once finalized (renamed out of rbw/). Block
 * locations are derived from which datanode holds a finalized replica. This code is
 * deliberately independent of the client in src/hdfs (its own framing, packets and CRCs).
 */
#ifndef CAV_HDFSD_H
#define CAV_HDFSD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HD_MAX_DATANODES 16

/* Namespace limits: HDFS's own (hdfs-default.xml, HdfsServerConstants) where it has one, enforced
 * at the RPC with HDFS's exception classes; the loader checks the same rules, so whatever an RPC
 * accepts survives a save/load round trip. */
#define HD_MAX_COMPONENT 255            /* dfs.namenode.fs-limits.max-component-length */
#define HD_MAX_DIR_ITEMS 1048576u       /* dfs.namenode.fs-limits.max-directory-items */
#define HD_MAX_PATH 8000                /* MAX_PATH_LENGTH (characters of a path) */
#define HD_MAX_DEPTH 1000               /* MAX_PATH_DEPTH (levels) */
#define HD_MAX_REPLICATION 512          /* dfs.replication.max */
#define HD_MAX_BLOCK_SIZE (32ull << 30) /* dfs.namenode.fs-limits.max-block-size */
/* HDFS has no length limit of its own for these; ours (LOGIN_NAME_MAX - 1 for names): */
#define HD_MAX_PRINCIPAL 255    /* user and group names */
#define HD_MAX_CLIENT_NAME 1024 /* clientName (lease holder) */
#define HD_POOL_ID "BP-1-127.0.0.1-1700000000000"
#define HD_ROOT_ID 16385u
#define HD_PROTOCOL "org.apache.hadoop.hdfs.protocol.ClientProtocol"

typedef struct hd_block {
    uint64_t id, gs, len;
} hd_block;

typedef struct hd_inode {
    uint64_t id;
    struct hd_inode *parent;
    char *name; /* "" for the root */
    int type;   /* 1 dir, 2 file (HdfsFileStatusProto.FileType) */
    uint32_t perm;
    char *owner, *group;
    uint64_t mtime, atime; /* ms */
    uint32_t repl;
    uint64_t bsize;
    hd_block *blocks;
    size_t nblocks, capblocks;
    struct hd_inode **kids; /* sorted by byte-wise name */
    size_t nkids, capkids;
    char *holder;    /* lease holder (client name) while under construction, else NULL */
    uint32_t xflags; /* HD_X_*: what a real cluster would mark it as (test knob, not persisted;
                      * new inodes inherit their parent's) */
} hd_inode;

/* hd_inode.xflags: the HdfsFileStatusProto.flags bits they report */
enum { HD_X_CRYPT = 2, HD_X_EC = 4 };

typedef struct hd_datanode {
    int index; /* 0-based; reported as dn<index+1> */
    char ip[32];
    char host[32];
    char uuid[64];
    int port;
    int fd; /* listening socket, -1 while stopped */
    atomic_bool stopped;
    atomic_int slow_ms;      /* sleep before each packet */
    atomic_llong drop_after; /* close data connections after this many bytes (-1 off) */
    atomic_bool fail_write;  /* answer WRITE_BLOCK with ERROR */
    atomic_bool fail_read;   /* answer READ_BLOCK with ERROR */
    pthread_t thread;
} hd_datanode;

typedef struct hd_lease {
    char *client;
    uint64_t renewed_ms;
} hd_lease;

typedef struct hd_server {
    /* configuration */
    char *data_dir;
    int ndn;
    uint64_t block_size;
    uint32_t replication;
    uint32_t ls_limit;
    uint32_t read_packet; /* data bytes per READ_BLOCK packet */
    uint32_t max_frame;   /* RPC frame ceiling */
    uint64_t max_inodes;
    int idle_ms; /* NameNode connections: close after this long without a byte (0 = never) */
    uint32_t max_dir_items; /* entries per directory (<= HD_MAX_DIR_ITEMS) */
    char superuser[HD_MAX_PRINCIPAL + 1];
    /* --groups "user=g1,g2;user2=": a user listed there is a member of exactly those groups
     * (Hadoop's hadoop.user.group.static.mapping.overrides); anyone else of the group of the
     * same name only. The superuser is also whoever is a member of supergroup. */
    struct hd_user_groups {
        char *user;
        char **groups;
        size_t ngroups;
    } * group_map;
    size_t ngroup_map;
    char supergroup[HD_MAX_PRINCIPAL + 1];
    int verbose;
    /* namespace */
    pthread_mutex_t ns_lock;
    hd_inode *root;
    uint64_t ninodes;
    uint64_t next_inode, next_block, next_gs;
    hd_lease *leases;
    size_t nleases, capleases;
    /* faults */
    atomic_llong nn_refuse_until_ms;
    atomic_int complete_false; /* answer complete=false this many times */
    /* datanodes */
    hd_datanode dn[HD_MAX_DATANODES];
    int nn_fd;
    atomic_bool quit;
} hd_server;

extern hd_server g_hd;

/* ---- hdfsd_util.c */
uint64_t hd_now_ms(void);
bool hd_read_full(int fd, void *p, size_t n);
bool hd_write_full(int fd, const void *p, size_t n);
/* Reads a varint-delimited message length byte by byte from fd (at most 5 bytes). */
bool hd_read_varint32(int fd, uint32_t *out);
/* Decodes a varint from p[0..n) into *out; returns bytes used, 0 if malformed/truncated. */
size_t hd_get_varint(const uint8_t *p, size_t n, uint64_t *out);
size_t hd_put_varint(uint8_t *p, uint64_t v);
uint32_t hd_crc32(const uint8_t *p, size_t n);
uint32_t hd_crc32c(const uint8_t *p, size_t n);
/* Checksum of one chunk for ChecksumTypeProto type (1 CRC32, 2 CRC32C). */
uint32_t hd_chunk_crc(int type, const uint8_t *p, size_t n);
void hd_md5(const uint8_t *p, size_t n, uint8_t out[16]);
int hd_listen(const char *ip, int port);
int hd_local_port(int fd);
int hd_connect(const char *ip, int port, int timeout_ms);
void hd_set_timeout(int fd, int ms);
void hd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *hd_strdup(const char *s);
char *hd_replica_path(int dn, uint64_t blk, bool rbw, bool meta, char *buf, size_t cap);

/* ---- hdfsd_ns.c */
int hd_ns_open(void);
int hd_ns_save(void); /* under ns_lock */
void hd_ns_free(void);
/* The snapshot as a stream (the fuzz target and hd_ns_open/hd_ns_save use these): load replaces
 * g_hd's namespace and returns 0, or -1 with "line N: why" in err and the namespace empty. */
int hd_ns_load_stream(FILE *f, char *err, size_t errcap);
int hd_ns_save_stream(FILE *f);
/* Name rules; each returns NULL when s is acceptable, else why not (a static string).
 * User and group names: 1..HD_MAX_PRINCIPAL bytes, no control character, no ':' (the
 * owner:group separator of every chown). Client names: 1..HD_MAX_CLIENT_NAME bytes, no
 * control character. Path components: 1..HD_MAX_COMPONENT bytes, not "." or "..", no '/',
 * ':' or NUL (DFSUtil.isValidName). */
const char *hd_check_principal(const char *s);
const char *hd_check_client_name(const char *s);
const char *hd_check_component(const char *s, size_t len);
/* Finalized replica length on datanode dn, or -1 when it has none. */
int64_t hd_replica_len(int dn, uint64_t blk);

/* Path resolution (under ns_lock). path must be absolute; components "." and ".." and names
 * with ':' are invalid; empty components are skipped. A component longer than
 * HD_MAX_COMPONENT cannot exist: it resolves as missing, with too_long set (creators refuse
 * it). */
enum { HD_FOUND = 0, HD_MISSING = 1, HD_NO_PARENT = 2, HD_PARENT_FILE = 3, HD_INVALID = -1 };
typedef struct hd_res {
    int status;
    hd_inode *node;    /* HD_FOUND */
    hd_inode *parent;  /* HD_FOUND (NULL for "/") and HD_MISSING */
    hd_inode *deepest; /* the deepest inode on the path that exists (the root at least) */
    char name[HD_MAX_COMPONENT + 1]; /* last component (cut when too_long) */
    bool too_long;                   /* a component is longer than HD_MAX_COMPONENT */
    size_t depth;                    /* number of components */
} hd_res;
void hd_ns_resolve(const char *path, hd_res *r);
hd_inode *hd_ns_new_inode(hd_inode *parent, const char *name, int type, uint32_t perm,
                          const char *owner, const char *group);
void hd_ns_unlink(hd_inode *n); /* detaches from its parent */
void hd_ns_attach(hd_inode *parent, hd_inode *n, const char *name);
void hd_ns_free_tree(hd_inode *n, bool delete_replicas);
size_t hd_ns_child_index(const hd_inode *dir, const char *name, bool *found);
void hd_ns_path_of(const hd_inode *n, char *buf, size_t cap);
bool hd_ns_block_add(hd_inode *f, uint64_t id, uint64_t gs);
/* 0: no file has block id; 1: a complete block; 2: the last block of a file under
 * construction (the only kind a DataNode may write). */
int hd_ns_block_state(uint64_t id);
/* Leases */
void hd_lease_renew(const char *client);
bool hd_lease_alive(const char *client);

/* ---- hdfsd_rpc.c */
void *hd_nn_conn_thread(void *arg);

/* ---- hdfsd_dn.c */
void *hd_dn_conn_thread(void *arg);
/* Index of the DataNode listening on ip:port, or -1. */
int hd_dn_by_addr(const char *ip, uint32_t port);

/* Passed to connection threads (freed by the thread). */
typedef struct hd_conn_arg {
    int fd;
    int dn;
} hd_conn_arg;

#endif /* CAV_HDFSD_H */
