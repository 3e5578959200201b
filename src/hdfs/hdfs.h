/*
 * hdfs.h — internals of the native HDFS client (an io backend, see src/io/io.h).
 *
 * Layers, bottom up:
 *   hdfs_crc.c    CRC32C (SSE4.2 instruction chosen at run time, table fallback) and CRC32.
 *   hdfs_wire.c   varints, delimited messages, the data-transfer packet header codec — every
 *                 decoder is bounds-checked and treats its input as untrusted.
 *   hdfs_conf.c   NameNode address / user / tunables from the environment and core-site.xml.
 *   hdfs_net.c    TCP connect with a timeout, buffered reads and full writes with socket
 *                 timeouts (a stalled peer becomes CSVAVRO_E_TIMEOUT, never a hang).
 *   hdfs_rpc.c    Hadoop IPC v9 (SIMPLE auth) to the NameNode: one connection per fs, calls
 *                 serialised by a mutex, reconnect + bounded exponential back-off, HA failover
 *                 over the configured addresses, Java exception class -> csvavro_status.
 *   hdfs_read.c   positioned reads block by block from DataNodes (READ_BLOCK), checksum
 *                 verification, replica failover, a kept-open stream for sequential preads.
 *   hdfs_write.c  create/addBlock/WRITE_BLOCK pipeline/complete, lease renewer thread.
 *   hdfs_fs.c     the cav_fs_ops vtable.
 */
#ifndef CAV_HDFS_H
#define CAV_HDFS_H

#include "../core/core_varint.h"
#include "../io/io.h"

#include <protobuf-c/protobuf-c.h>
#include <pthread.h>

/* The backend for hdfs:// URLs (src/backend's table): given "host:port" (or "" for the default
 * NameNode from the environment/config) connects and creates an fs. */
csvavro_status cav_hdfs_fs_create(const char *authority, csvavro_fs **fs, csvavro_error *err);

/* ---------------------------------------------------------------- checksums */

enum { CAV_HDFS_CSUM_NULL = 0, CAV_HDFS_CSUM_CRC32 = 1, CAV_HDFS_CSUM_CRC32C = 2 };

/* crc is the running value, 0 to start (init/final xor handled inside). */
uint32_t cav_crc32c(uint32_t crc, const void *p, size_t n);
uint32_t cav_crc32c_sw(uint32_t crc, const void *p, size_t n);
/* NULL when the CPU has no SSE4.2 (tests compare both paths). */
uint32_t (*cav_crc32c_hw_fn(void))(uint32_t, const void *, size_t);
uint32_t cav_crc32(uint32_t crc, const void *p, size_t n);

/* Verifies n bytes of data cut into chunks of bpc bytes against big-endian 4-byte sums.
 * Returns the index of the first bad chunk, or -1 when all match. */
long cav_hdfs_csum_verify(int type, uint32_t bpc, const uint8_t *data, size_t n,
                          const uint8_t *sums);
/* Writes ceil(n/bpc) big-endian sums for data into sums. */
void cav_hdfs_csum_compute(int type, uint32_t bpc, const uint8_t *data, size_t n, uint8_t *sums);

/* ---------------------------------------------------------------- wire helpers */

static inline void cav_be32_put(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}
static inline uint32_t cav_be32_get(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Packet header (PacketHeaderProto; fixed-width fields). */
typedef struct cav_hdfs_pkt {
    int64_t offset; /* offsetInBlock */
    int64_t seqno;
    int last; /* lastPacketInBlock */
    int32_t data_len;
    int sync;
} cav_hdfs_pkt;

#define CAV_HDFS_PKT_PREFIX 6                /* BE u32 PLEN + BE u16 HLEN */
#define CAV_HDFS_PKT_MAX_HEADER 64           /* HLEN ceiling we accept */
#define CAV_HDFS_PKT_MAX_PAYLOAD (16u << 20) /* PLEN ceiling we accept */

/* Encodes the 6-byte prefix + header for a packet whose checksums take csum_len bytes.
 * out must hold CAV_HDFS_PKT_PREFIX + 27 bytes; returns the bytes written. */
size_t cav_hdfs_pkt_encode(const cav_hdfs_pkt *h, size_t csum_len, uint8_t *out);
/* Parses PLEN/HLEN (6 bytes) and checks them against the ceilings. */
csvavro_status cav_hdfs_pkt_prefix(const uint8_t *p6, uint32_t *plen, uint16_t *hlen,
                                   csvavro_error *err);
/* Decodes a PacketHeaderProto of hlen bytes (any field order, unknown fields skipped,
 * required fields checked). */
csvavro_status cav_hdfs_pkt_decode(const uint8_t *p, size_t hlen, cav_hdfs_pkt *h,
                                   csvavro_error *err);
/* Checks a decoded header against its PLEN for checksum type/bytes-per-checksum:
 * PLEN - 4 == ceil(dataLen/bpc) * sumsize + dataLen. Sets *csum_len. */
csvavro_status cav_hdfs_pkt_check(const cav_hdfs_pkt *h, uint32_t plen, int csum_type, uint32_t bpc,
                                  size_t *csum_len, csvavro_error *err);

/* ---------------------------------------------------------------- configuration */

/* SASL security layers (RFC 4752 bits), i.e. hadoop.rpc.protection values. */
enum { CAV_QOP_AUTH = 1, CAV_QOP_INTEGRITY = 2, CAV_QOP_PRIVACY = 4 };

/* Delegation tokens (hdfs_token.c): one token of a token storage file. */
#define CAV_HDFS_DT_KIND "HDFS_DELEGATION_TOKEN"
#define CAV_HDFS_TOKEN_MAX_ID 4096 /* identifier bytes accepted from a token file */
#define CAV_HDFS_TOKEN_MAX_PW 256  /* password bytes */
typedef struct cav_hdfs_token {
    uint8_t *id, *pw;
    size_t id_len, pw_len;
    char *kind, *service, *alias;
} cav_hdfs_token;
typedef struct cav_hdfs_creds {
    cav_hdfs_token *t;
    size_t n;
    size_t n_secrets; /* secret keys in the file (kept there, not used) */
} cav_hdfs_creds;
/* A decoded HDFS_DELEGATION_TOKEN identifier. */
typedef struct cav_hdfs_dtid {
    char owner[512], renewer[512], real_user[512];
    int64_t issue_ms, max_ms;
    int32_t seq, key_id;
} cav_hdfs_dtid;

typedef struct cav_hdfs_conf {
    char **nn; /* NameNode addresses "host:port" (n_nn of them; HA: several) */
    size_t n_nn;
    char user[256];
    /* security (hadoop.security.authentication=kerberos) */
    int kerberos;
    char nn_principal[512]; /* dfs.namenode.kerberos.principal, may hold _HOST */
    unsigned rpc_qop;       /* accepted CAV_QOP_* bits (hadoop.rpc.protection) */
    char keytab[1024];      /* CSVAVRO_KEYTAB: log in from it instead of the ticket cache */
    char principal[512];    /* CSVAVRO_PRINCIPAL: who to log in as from the keytab */
    char nameservice[128];  /* the HA nameservice the NameNodes came from ("" if none) */
    char token_file[1024];  /* HADOOP_TOKEN_FILE_LOCATION (Kerberos clusters) */
    cav_hdfs_creds tokens;  /* its tokens: TOKEN authentication where one fits the NameNode */
    unsigned dt_qop;        /* dfs.data.transfer.protection: accepted CAV_QOP_* (0 = none) */
    int dt_encrypt;         /* dfs.encrypt.data.transfer=true */
    int dt_aes;             /* dfs.encrypt.data.transfer.cipher.suites has AES/CTR/NoPadding */
    int retries;            /* connection attempts beyond the first (CSVAVRO_HDFS_RETRIES) */
    int backoff_ms;         /* first back-off, doubled per attempt (CSVAVRO_HDFS_BACKOFF_MS) */
    int backoff_max_ms;
    int connect_timeout_ms; /* CSVAVRO_HDFS_CONNECT_TIMEOUT_MS */
    int timeout_ms;         /* socket read/write timeout (CSVAVRO_HDFS_TIMEOUT_MS) */
    int lease_renew_ms;     /* CSVAVRO_HDFS_LEASE_RENEW_MS */
    int use_dn_hostname;    /* dfs.client.use.datanode.hostname */
    int complete_retries;   /* complete()==false retries */
    uint32_t replication;   /* CSVAVRO_HDFS_REPLICATION (0 = server default) */
    uint64_t block_size;    /* CSVAVRO_HDFS_BLOCK_SIZE (0 = server default) */
} cav_hdfs_conf;

/* Fills conf for authority ("host:port", "host" = port 8020, or "" = default from
 * HADOOP_NAMENODE / fs.defaultFS). */
csvavro_status cav_hdfs_conf_load(const char *authority, cav_hdfs_conf *conf, csvavro_error *err);
void cav_hdfs_conf_free(cav_hdfs_conf *conf);
/* "authentication,integrity,privacy" (any subset) -> CAV_QOP_* bits. */
csvavro_status cav_hdfs_parse_qop(const char *v, unsigned *bits, csvavro_error *err);
/* Reads property `name` from a Hadoop *-site.xml text. Returns a newly allocated value or
 * NULL. Exposed for tests. */
char *cav_hdfs_xml_get(const char *xml, size_t len, const char *name);
/* Directory with the config: HADOOP_CONF_DIR, else $HADOOP_HOME/etc/hadoop; NULL if none. */
char *cav_hdfs_conf_dir(void);

/* Token storage files (format versions 0 and 1): parse (untrusted bytes; errors name file and
 * byte offset), load (at most 1 MiB), free. */
csvavro_status cav_hdfs_creds_parse(const uint8_t *p, size_t n, const char *file, cav_hdfs_creds *c,
                                    csvavro_error *err);
csvavro_status cav_hdfs_creds_load(const char *path, cav_hdfs_creds *c, csvavro_error *err);
void cav_hdfs_creds_free(cav_hdfs_creds *c);
/* Decodes an HDFS_DELEGATION_TOKEN identifier; 0 when it does not decode exactly. */
int cav_hdfs_dtid_decode(const uint8_t *id, size_t n, cav_hdfs_dtid *d);
/* The token service of a NameNode: "ha-hdfs:NS" for a nameservice, else its "ip:port". */
void cav_hdfs_token_service(const cav_hdfs_conf *c, const char *nn_addr, char *out, size_t cap);
/* The delegation token in c->tokens for the NameNode nn_addr, or NULL. */
const cav_hdfs_token *cav_hdfs_token_for(const cav_hdfs_conf *c, const char *nn_addr);
/* Loads HADOOP_TOKEN_FILE_LOCATION into c->tokens (Kerberos clusters only). */
csvavro_status cav_hdfs_conf_tokens(cav_hdfs_conf *c, csvavro_error *err);

/* ---------------------------------------------------------------- sockets */

struct cav_digest;
struct evp_cipher_ctx_st;
/* Socket reads of at least this many bytes that find nothing buffered go straight into the
 * caller's memory; smaller ones through the socket's 64 KiB buffer. */
#define CAV_HDFS_SOCK_DIRECT (32u << 10)
#define CAV_HDFS_SOCK_LOWAT (256u << 10)
/* The receive buffer asked for before connecting (the kernel caps it at net.core.rmem_max and
 * doubles it for its own bookkeeping): set before connect, so the window scale of the SYN allows a
 * DataNode to send megabytes ahead from a connection's first packet. Left to autotuning, each new
 * block's connection starts at tcp_rmem's default (128 KiB here), which the 256 KiB low-water
 * mark above clamps: on loopback, 256 MiB of READ_BLOCK took 0.112 s with it and 0.089 s with
 * 4 MiB (bench/RESULTS.md). Memory is the kernel's and used only while bytes wait unread. */
#define CAV_HDFS_SOCK_RCVBUF (4 << 20)
typedef struct cav_hdfs_sock {
    int fd;
    int timeout_ms;
    uint8_t *rbuf;
    size_t rpos, rlen, rcap;
    /* read-ahead hint (0 = none): how many bytes the reader wants after a large read (the
     * next packet's header and checksums). A large read (>= CAV_HDFS_SOCK_DIRECT) then
     * receives them into rbuf in the same call (recvmsg, two buffers), and a buffer refill
     * asks for about that much instead of 64 KiB, so packet data is not pulled into rbuf only
     * to be copied out again. Only worth setting when large reads follow. */
    size_t ahead;
    /* bytes the peer is certain to send from the first byte of the next read on (0 = not
     * known; set by the block reader: the range's data still to come). A read that finds the
     * socket empty then sleeps until up to CAV_HDFS_SOCK_LOWAT of them are there (SO_RCVLOWAT),
     * not until the first segment: one wake-up per several packets. lowat = what is set. */
    size_t expect;
    int lowat;
    char peer[300]; /* "host:port" for messages */
    /* data transfer protection (hdfs_dtp.c), applied to every read and write: DIGEST-MD5
     * frames (integrity/privacy) or an AES/CTR stream (negotiated cipher option) */
    struct cav_digest *dig;
    struct evp_cipher_ctx_st *enc, *dec;
    uint8_t *lbuf; /* layer scratch: a received frame / encrypted output */
    size_t lcap;
    cav_buf wb;          /* DIGEST-MD5 frames being sent */
    const uint8_t *dptr; /* decoded plaintext not delivered yet: [dpos, dlen) */
    size_t dpos, dlen;
} cav_hdfs_sock;

/* Test hook (the HDFS fuzz targets): when set, cav_hdfs_sock_connect does not connect but
 * takes the stream socket this returns (e.g. one end of a socketpair holding a recorded server
 * reply) or fails with CSVAVRO_E_CONNECT when it returns -1. NULL (the default) in programs. */
extern int (*cav_hdfs_connect_hook)(const char *hostport);
/* Connects to "host:port". On failure returns CSVAVRO_E_CONNECT or E_TIMEOUT. */
csvavro_status cav_hdfs_sock_connect(cav_hdfs_sock *s, const char *hostport, int connect_ms,
                                     int io_ms, csvavro_error *err);
void cav_hdfs_sock_close(cav_hdfs_sock *s);
csvavro_status cav_hdfs_sock_write(cav_hdfs_sock *s, const void *p, size_t n, csvavro_error *err);
csvavro_status cav_hdfs_sock_read(cav_hdfs_sock *s, void *p, size_t n, csvavro_error *err);
/* The layers (owned by the socket afterwards; freed by cav_hdfs_sock_close). AES: this side
 * encrypts with wkey/wiv and decrypts with rkey/riv (16-byte IVs, keylen 16, 24 or 32). */
csvavro_status cav_hdfs_sock_set_digest(cav_hdfs_sock *s, struct cav_digest *d, csvavro_error *err);
csvavro_status cav_hdfs_sock_set_aes(cav_hdfs_sock *s, const uint8_t *wkey, const uint8_t *wiv,
                                     const uint8_t *rkey, const uint8_t *riv, size_t keylen,
                                     csvavro_error *err);
/* True when bytes already received wait to be read (no need to poll). */
int cav_hdfs_sock_pending(const cav_hdfs_sock *s);
/* The varint at p[0..n): its byte count, 0 when truncated or malformed. */
static inline size_t cav_hdfs_varint_at(const uint8_t *p, size_t n, uint64_t *v) {
    const uint8_t *q = p;
    return cav_varint_get(&q, p + n, v) ? (size_t)(q - p) : 0;
}
/* Reads a delimited message (varint length + bytes, length <= max) into out. */
csvavro_status cav_hdfs_sock_read_delimited(cav_hdfs_sock *s, cav_buf *out, size_t max,
                                            csvavro_error *err);

/* ---------------------------------------------------------------- NameNode RPC */

/* protobuf-c allocator routed through cav_malloc/cav_free. */
extern ProtobufCAllocator cav_pb_alloc;

typedef struct cav_hdfs_rpc cav_hdfs_rpc;

csvavro_status cav_hdfs_rpc_create(const cav_hdfs_conf *conf, cav_hdfs_rpc **out,
                                   csvavro_error *err);
void cav_hdfs_rpc_free(cav_hdfs_rpc *r);
/* One call: sends req, unpacks the response with resp_desc into *resp (free with
 * protobuf_c_message_free_unpacked(*resp, &cav_pb_alloc)). Thread-safe. */
csvavro_status cav_hdfs_rpc_call(cav_hdfs_rpc *r, const char *method, const ProtobufCMessage *req,
                                 const ProtobufCMessageDescriptor *resp_desc,
                                 ProtobufCMessage **resp, csvavro_error *err);
/* Builds one request frame into b: BE u32 length, delimited RpcRequestHeaderProto (callId,
 * retry count, clientId cid), delimited m2, delimited m3 (when not NULL). */
csvavro_status cav_hdfs_rpc_frame(cav_buf *b, int32_t call_id, int32_t retry,
                                  const ProtobufCMessage *m2, const ProtobufCMessage *m3,
                                  const uint8_t cid[16], csvavro_error *err);
/* Client name for leases and data-transfer headers ("csvavro-<16 chars>"). */
const char *cav_hdfs_rpc_client_name(const cav_hdfs_rpc *r);
/* Maps a Java exception class name to a status (exposed for tests). */
csvavro_status cav_hdfs_exception_status(const char *cls);

/* ---------------------------------------------------------------- Kerberos / SASL (hdfs_sasl.c) */

struct Hadoop__Common__RpcResponseHeaderProto;
typedef struct cav_hdfs_sasl cav_hdfs_sasl;
/* Runs the SASL GSSAPI exchange on a connection that has sent the preamble with auth 0xDF.
 * On success *out holds the security context and user the client's principal. */
csvavro_status cav_hdfs_sasl_handshake(cav_hdfs_sock *s, const cav_hdfs_conf *c,
                                       const char *nn_addr, const uint8_t cid[16],
                                       cav_hdfs_sasl **out, char *user, size_t user_cap,
                                       csvavro_error *err);
/* The negotiated CAV_QOP_* layer (0 for NULL). */
int cav_hdfs_sasl_layer(const cav_hdfs_sasl *x);
const char *cav_hdfs_qop_name(int layer);
/* Wraps a whole frame (with its length) into a WRAP frame in out. */
csvavro_status cav_hdfs_sasl_wrap(cav_hdfs_sasl *x, const uint8_t cid[16], const cav_buf *frame,
                                  cav_buf *out, csvavro_error *err);
/* Unwraps the body of a WRAP frame (delimited RpcSaslProto) into out (the inner frame). */
csvavro_status cav_hdfs_sasl_unwrap(cav_hdfs_sasl *x, const uint8_t *body, size_t blen,
                                    const char *peer, cav_buf *out, csvavro_error *err);
void cav_hdfs_sasl_free(cav_hdfs_sasl *x);
/* Reads one response frame of at most max bytes; *hdr must be freed by the caller (also on
 * error, when not NULL). */
csvavro_status cav_hdfs_read_frame(cav_hdfs_sock *s, cav_buf *b, size_t max,
                                   struct Hadoop__Common__RpcResponseHeaderProto **hdr,
                                   const uint8_t **body, size_t *blen, csvavro_error *err);
/* Principal of the default ticket cache ("" when none). */
void cav_hdfs_ccache_principal(char *out, size_t cap);

/* ---------------------------------------------------------------- the backend */

typedef struct cav_hdfs_dek {
    int have;
    uint32_t keyid;
    char bpid[256];
    uint8_t nonce[64], key[64];
    size_t nlen, klen;
    uint64_t expiry; /* ms since the epoch */
} cav_hdfs_dek;

typedef struct cav_hdfs_fs {
    csvavro_fs base;
    cav_hdfs_conf conf;
    cav_hdfs_rpc *rpc;
    char *authority; /* for URLs */
    /* lease renewer */
    pthread_mutex_t lease_mu;
    pthread_cond_t lease_cv;
    pthread_t lease_thread;
    int lease_running;
    int lease_stop;
    int writers; /* files open for writing */
    /* server defaults, fetched once */
    int have_defaults;
    uint64_t def_block_size;
    uint32_t def_replication;
    int def_encrypt; /* encryptDataTransfer */
    /* the data encryption key (dfs.encrypt.data.transfer), under lease_mu */
    cav_hdfs_dek dek;
} cav_hdfs_fs;

/* Normalised absolute HDFS path (relative paths go under /user/<user>); allocated. */
char *cav_hdfs_norm_path(const cav_hdfs_fs *h, const char *path);
/* Sends a data-transfer op: BE u16 version 28, op code, delimited(m). tmp is scratch. */
csvavro_status cav_hdfs_dn_send_op(cav_hdfs_sock *s, uint8_t op, const ProtobufCMessage *m,
                                   cav_buf *tmp, csvavro_error *err);
csvavro_status cav_hdfs_open_read(csvavro_fs *fs, const char *path, csvavro_file **f,
                                  csvavro_error *err);
csvavro_status cav_hdfs_create_file(csvavro_fs *fs, const char *path, int overwrite,
                                    csvavro_file **f, csvavro_error *err);
csvavro_status cav_hdfs_server_defaults(cav_hdfs_fs *h, csvavro_error *err);
void cav_hdfs_lease_acquire(cav_hdfs_fs *h);
void cav_hdfs_lease_release(cav_hdfs_fs *h);
/* Files csvavro cannot read correctly: encryption zones (FileEncryptionInfo, HAS_CRYPT) and
 * erasure-coded files (an EC policy, HAS_EC). Any of them -> CSVAVRO_E_UNSUPPORTED with a
 * message saying why; else CSVAVRO_OK. */
struct Hadoop__Hdfs__FileEncryptionInfoProto;
struct Hadoop__Hdfs__ErasureCodingPolicyProto;
struct Hadoop__Hdfs__HdfsFileStatusProto;
csvavro_status cav_hdfs_refuse_unreadable(const struct Hadoop__Hdfs__FileEncryptionInfoProto *fe,
                                          const struct Hadoop__Hdfs__ErasureCodingPolicyProto *ec,
                                          uint32_t flags, int is_dir, csvavro_error *err);
/* Data transfer protection (hdfs_dtp.c): on a fresh DataNode connection, before the op, the
 * SASL handshake the configuration (or the NameNode's defaults) asks for, authenticated by the
 * block token tok or the data encryption key; then s carries the negotiated layer. Nothing
 * when no protection is asked for. */
struct Hadoop__Common__TokenProto;
csvavro_status cav_hdfs_dn_protect(cav_hdfs_fs *h, cav_hdfs_sock *s,
                                   const struct Hadoop__Common__TokenProto *tok,
                                   csvavro_error *err);
/* The handshake itself with explicit credentials (user/password as DIGEST-MD5 takes them,
 * acceptable CAV_QOP_* levels, whether to ask for AES/CTR); *unknown_key is set when the
 * DataNode does not know the data encryption key. Exposed for the fuzz target. */
csvavro_status cav_hdfs_dt_handshake(cav_hdfs_sock *s, const char *user, const char *password,
                                     unsigned qops, int want_aes, int *unknown_key,
                                     csvavro_error *err);
/* stat for opening: also refuses encrypted and erasure-coded files. */
csvavro_status cav_hdfs_stat_for_read(cav_hdfs_fs *h, const char *path, csvavro_stat *st,
                                      csvavro_error *err);
/* After create: refuses a new file the NameNode placed in an encryption zone or under an EC
 * policy (the caller deletes it). */
csvavro_status cav_hdfs_check_created(const struct Hadoop__Hdfs__HdfsFileStatusProto *f,
                                      csvavro_error *err);
/* "ip:port" (or "host:port" with use_dn_hostname) of a DatanodeInfoProto. */
struct Hadoop__Hdfs__DatanodeInfoProto;
void cav_hdfs_dn_addr(const cav_hdfs_conf *c, const struct Hadoop__Hdfs__DatanodeInfoProto *dn,
                      char *out, size_t cap);

#endif /* CAV_HDFS_H */
