/*
 * hdfs_rpc.c — Hadoop IPC version 9 to the NameNode, SIMPLE authentication.
 *
 * One TCP connection per fs, opened lazily: preamble "hrpc" 9 0 0, then the connection context
 * (callId -3, effectiveUser). Every call is one frame (BE u32 length, delimited
 * RpcRequestHeaderProto, RequestHeaderProto, request) answered by one frame (delimited
 * RpcResponseHeaderProto, then the response on success). Calls are serialised by a mutex
 * (write then read), so the fs can be shared by threads and by the lease renewer.
 *
 * Failures: connection errors (refused, reset, EOF, timeout) close the connection and retry
 * the same call — same clientId and callId, retryCount + 1, so the NameNode's retry cache
 * answers re-sent non-idempotent calls — after an exponential back-off (conf->backoff_ms
 * doubling up to backoff_max_ms), at most conf->retries times, rotating over the configured
 * NameNodes (HA). StandbyException fails over to the next NameNode; RetriableException and
 * SafeModeException retry the same one. A stale kept-open connection gets one free reconnect.
 * Garbage (bad lengths, undecodable headers, wrong callId) is CSVAVRO_E_PROTOCOL and drops the
 * connection without retrying. Frame size is capped at 128 MiB like a Java server.
 */
#include "hdfs.h"

#include "hdfs/IpcConnectionContext.pb-c.h"
#include "hdfs/ProtobufRpcEngine.pb-c.h"
#include "hdfs/RpcHeader.pb-c.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_FRAME (128u << 20)
#define PROTOCOL_NAME "org.apache.hadoop.hdfs.protocol.ClientProtocol"

static void *pb_alloc(void *d, size_t n) {
    (void)d;
    return cav_malloc(n ? n : 1);
}
static void pb_free(void *d, void *p) {
    (void)d;
    cav_free(p);
}
ProtobufCAllocator cav_pb_alloc = {pb_alloc, pb_free, NULL};

struct cav_hdfs_rpc {
    const cav_hdfs_conf *conf;
    pthread_mutex_t mu;
    cav_hdfs_sock sock;
    int connected;
    cav_hdfs_sasl *sasl; /* Kerberos connections: the GSS context and its layer */
    char principal[512]; /* who we authenticated as */
    cav_buf xbuf;        /* wrapped request / unwrapped response */
    size_t nn_index;
    uint8_t client_id[16];
    char client_name[64];
    int32_t next_call_id;
    cav_buf wbuf, rbuf;
};

static const struct {
    const char *cls;
    csvavro_status st;
} exc_map[] = {
    {"java.io.FileNotFoundException", CSVAVRO_E_NOT_FOUND},
    {"org.apache.hadoop.fs.FileAlreadyExistsException", CSVAVRO_E_EXISTS},
    {"org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException", CSVAVRO_E_EXISTS},
    {"org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", CSVAVRO_E_NOT_EMPTY},
    {"org.apache.hadoop.security.AccessControlException", CSVAVRO_E_PERMISSION},
    {"org.apache.hadoop.fs.permission.AccessControlException", CSVAVRO_E_PERMISSION},
    {"org.apache.hadoop.security.token.SecretManager$InvalidToken", CSVAVRO_E_PERMISSION},
    {"org.apache.hadoop.HadoopIllegalArgumentException", CSVAVRO_E_USAGE},
    {"org.apache.hadoop.fs.InvalidPathException", CSVAVRO_E_USAGE},
    {"java.lang.IllegalArgumentException", CSVAVRO_E_USAGE},
    {"org.apache.hadoop.ipc.RpcNoSuchMethodException", CSVAVRO_E_UNSUPPORTED},
    /* create in an encryption zone by a client that offers no crypto protocol (csvavro) */
    {"org.apache.hadoop.hdfs.UnknownCryptoProtocolVersionException", CSVAVRO_E_UNSUPPORTED},
    {"org.apache.hadoop.hdfs.protocol.DSQuotaExceededException", CSVAVRO_E_LIMIT},
    {"org.apache.hadoop.hdfs.protocol.NSQuotaExceededException", CSVAVRO_E_LIMIT},
};

csvavro_status cav_hdfs_exception_status(const char *cls) {
    if (!cls) return CSVAVRO_E_REMOTE;
    for (size_t i = 0; i < CAV_ARRAY_LEN(exc_map); i++)
        if (strcmp(cls, exc_map[i].cls) == 0) return exc_map[i].st;
    return CSVAVRO_E_REMOTE;
}

csvavro_status cav_hdfs_rpc_create(const cav_hdfs_conf *conf, cav_hdfs_rpc **out,
                                   csvavro_error *err) {
    cav_hdfs_rpc *r = cav_calloc(1, sizeof *r);
    if (!r) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    r->conf = conf;
    r->sock.fd = -1;
    pthread_mutex_init(&r->mu, NULL);
    cav_buf_init(&r->wbuf, MAX_FRAME + 64);
    cav_buf_init(&r->rbuf, MAX_FRAME + 64);
    cav_buf_init(&r->xbuf, MAX_FRAME + 64);
    uint8_t rnd[16];
    csvavro_status st = cav_random_bytes(rnd, sizeof rnd, err);
    if (st != CSVAVRO_OK) {
        cav_hdfs_rpc_free(r);
        return st;
    }
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char tail[17];
    for (int i = 0; i < 16; i++) {
        r->client_id[i] = rnd[i];
        tail[i] = alnum[rnd[i] % 62];
    }
    tail[16] = '\0';
    snprintf(r->client_name, sizeof r->client_name, "csvavro-%s", tail);
    *out = r;
    return CSVAVRO_OK;
}

void cav_hdfs_rpc_free(cav_hdfs_rpc *r) {
    if (!r) return;
    cav_hdfs_sock_close(&r->sock);
    cav_hdfs_sasl_free(r->sasl);
    cav_buf_free(&r->wbuf);
    cav_buf_free(&r->rbuf);
    cav_buf_free(&r->xbuf);
    pthread_mutex_destroy(&r->mu);
    cav_free(r);
}

const char *cav_hdfs_rpc_client_name(const cav_hdfs_rpc *r) {
    return r->client_name;
}

/* Appends delimited(m) to b (room reserved by the caller). */
static void put_delimited(cav_buf *b, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    b->len += cav_varint_put(b->data + b->len, n);
    b->len += protobuf_c_message_pack(m, b->data + b->len);
}

csvavro_status cav_hdfs_rpc_frame(cav_buf *b, int32_t call_id, int32_t retry,
                                  const ProtobufCMessage *m2, const ProtobufCMessage *m3,
                                  const uint8_t cid[16], csvavro_error *err) {
    Hadoop__Common__RpcRequestHeaderProto h = HADOOP__COMMON__RPC_REQUEST_HEADER_PROTO__INIT;
    h.has_rpckind = 1;
    h.rpckind = HADOOP__COMMON__RPC_KIND_PROTO__RPC_PROTOCOL_BUFFER;
    h.has_rpcop = 1;
    h.rpcop = HADOOP__COMMON__RPC_REQUEST_HEADER_PROTO__OPERATION_PROTO__RPC_FINAL_PACKET;
    h.callid = call_id;
    h.clientid.data = (uint8_t *)cid;
    h.clientid.len = 16;
    h.has_retrycount = 1;
    h.retrycount = retry;
    size_t need = 4 + 30 + protobuf_c_message_get_packed_size(&h.base) +
                  protobuf_c_message_get_packed_size(m2) +
                  (m3 ? protobuf_c_message_get_packed_size(m3) : 0);
    if (need > MAX_FRAME) return cav_err(err, CSVAVRO_E_LIMIT, "RPC request too large");
    cav_buf_reset(b);
    CAV_TRY(cav_buf_reserve(b, need, err));
    b->len = 4;
    put_delimited(b, &h.base);
    put_delimited(b, m2);
    if (m3) put_delimited(b, m3);
    cav_be32_put(b->data, (uint32_t)(b->len - 4));
    return CSVAVRO_OK;
}

static int wrapping(const cav_hdfs_rpc *r) {
    return cav_hdfs_sasl_layer(r->sasl) > CAV_QOP_AUTH;
}

/* Writes the frame in r->wbuf, wrapped when the connection has a security layer. */
static csvavro_status send_wbuf(cav_hdfs_rpc *r, csvavro_error *err) {
    if (!wrapping(r)) return cav_hdfs_sock_write(&r->sock, r->wbuf.data, r->wbuf.len, err);
    CAV_TRY(cav_hdfs_sasl_wrap(r->sasl, r->client_id, &r->wbuf, &r->xbuf, err));
    return cav_hdfs_sock_write(&r->sock, r->xbuf.data, r->xbuf.len, err);
}

static void drop(cav_hdfs_rpc *r) {
    cav_hdfs_sock_close(&r->sock);
    cav_hdfs_sasl_free(r->sasl);
    r->sasl = NULL;
    r->connected = 0;
}

/* Connects and authenticates. *auth_failed tells a refusal (not worth retrying) from a
 * network failure. */
static csvavro_status connect_nn(cav_hdfs_rpc *r, int *auth_failed, csvavro_error *err) {
    *auth_failed = 0;
    const char *addr = r->conf->nn[r->nn_index % r->conf->n_nn];
    CAV_TRY(cav_hdfs_sock_connect(&r->sock, addr, r->conf->connect_timeout_ms, r->conf->timeout_ms,
                                  err));
    uint8_t preamble[7] = {'h', 'r', 'p', 'c', 9, 0, 0};
    if (r->conf->kerberos) preamble[6] = 0xDF; /* SASL */
    csvavro_status st = cav_hdfs_sock_write(&r->sock, preamble, sizeof preamble, err);
    const char *user = r->conf->user;
    if (st == CSVAVRO_OK && r->conf->kerberos) {
        st = cav_hdfs_sasl_handshake(&r->sock, r->conf, addr, r->client_id, &r->sasl, r->principal,
                                     sizeof r->principal, err);
        if (st != CSVAVRO_OK && st != CSVAVRO_E_IO && st != CSVAVRO_E_TIMEOUT &&
            st != CSVAVRO_E_CONNECT)
            *auth_failed = 1;
        if (r->principal[0]) user = r->principal;
    }
    if (st == CSVAVRO_OK) {
        Hadoop__Common__UserInformationProto ui = HADOOP__COMMON__USER_INFORMATION_PROTO__INIT;
        ui.effectiveuser = (char *)user;
        Hadoop__Common__IpcConnectionContextProto ctx =
            HADOOP__COMMON__IPC_CONNECTION_CONTEXT_PROTO__INIT;
        ctx.userinfo = &ui;
        ctx.protocol = (char *)PROTOCOL_NAME;
        st = cav_hdfs_rpc_frame(&r->wbuf, -3, -1, &ctx.base, NULL, r->client_id, err);
        if (st == CSVAVRO_OK) st = send_wbuf(r, err);
    }
    if (st != CSVAVRO_OK) {
        drop(r);
        return st;
    }
    r->connected = 1;
    return CSVAVRO_OK;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* First line of s, at most cap-1 bytes. */
static void first_line(const char *s, char *out, size_t cap) {
    size_t n = 0;
    if (s)
        while (s[n] && s[n] != '\n' && s[n] != '\r' && n + 1 < cap)
            n++;
    if (s) memcpy(out, s, n);
    out[n] = '\0';
}

typedef enum { OUT_DONE, OUT_RETRY_CONN, OUT_RETRY_SAME, OUT_FAILOVER } outcome;

/* One attempt on an open connection. */
static outcome attempt(cav_hdfs_rpc *r, int32_t call_id, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **resp, csvavro_status *st, csvavro_error *err) {
    *st = send_wbuf(r, err);
    if (*st != CSVAVRO_OK) return OUT_RETRY_CONN;
    uint8_t lb[4];
    *st = cav_hdfs_sock_read(&r->sock, lb, 4, err);
    if (*st != CSVAVRO_OK) return OUT_RETRY_CONN;
    uint32_t flen = cav_be32_get(lb);
    if (flen == 0 || flen > MAX_FRAME) {
        *st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent a response frame of %u bytes",
                      r->sock.peer, flen);
        return OUT_DONE;
    }
    /* memory follows the bytes that arrive (1 MiB steps), not the length the peer claims */
    cav_buf_reset(&r->rbuf);
    while (r->rbuf.len < flen) {
        size_t k = CAV_MIN((size_t)flen - r->rbuf.len, (size_t)1 << 20);
        *st = cav_buf_reserve(&r->rbuf, k, err);
        if (*st != CSVAVRO_OK) return OUT_DONE;
        *st = cav_hdfs_sock_read(&r->sock, r->rbuf.data + r->rbuf.len, k, err);
        if (*st != CSVAVRO_OK) return OUT_RETRY_CONN;
        r->rbuf.len += k;
    }
    const uint8_t *p = r->rbuf.data;
    uint64_t hl;
    size_t k;
    if (wrapping(r)) { /* RpcResponseHeader{callId -33} + RpcSaslProto{WRAP, token} */
        k = cav_hdfs_varint_at(p, flen, &hl);
        Hadoop__Common__RpcResponseHeaderProto *wh =
            k > 0 && hl <= flen - k ? hadoop__common__rpc_response_header_proto__unpack(
                                          &cav_pb_alloc, (size_t)hl, p + k)
                                    : NULL;
        if (!wh) {
            *st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent a malformed wrapped frame",
                          r->sock.peer);
            drop(r);
            return OUT_DONE;
        }
        int sasl_frame =
            (int32_t)wh->callid == -33 &&
            wh->status == HADOOP__COMMON__RPC_RESPONSE_HEADER_PROTO__RPC_STATUS_PROTO__SUCCESS;
        protobuf_c_message_free_unpacked(&wh->base, &cav_pb_alloc);
        if (sasl_frame) {
            size_t off = k + (size_t)hl;
            *st = cav_hdfs_sasl_unwrap(r->sasl, p + off, flen - off, r->sock.peer, &r->xbuf, err);
            if (*st == CSVAVRO_OK &&
                (r->xbuf.len < 5 || cav_be32_get(r->xbuf.data) != r->xbuf.len - 4))
                *st = cav_err(err, CSVAVRO_E_PROTOCOL,
                              "NameNode %s sent a wrapped frame with a bad inner length",
                              r->sock.peer);
            if (*st != CSVAVRO_OK) {
                drop(r);
                return OUT_DONE;
            }
            p = r->xbuf.data + 4;
            flen = (uint32_t)(r->xbuf.len - 4);
        } /* else an unwrapped error (e.g. FATAL before the layer took over): read as is */
    }
    k = cav_hdfs_varint_at(p, flen, &hl);
    if (k == 0 || hl > flen - k) {
        *st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent a malformed response header",
                      r->sock.peer);
        return OUT_DONE;
    }
    Hadoop__Common__RpcResponseHeaderProto *h =
        hadoop__common__rpc_response_header_proto__unpack(&cav_pb_alloc, (size_t)hl, p + k);
    if (!h) {
        *st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent an undecodable response header",
                      r->sock.peer);
        return OUT_DONE;
    }
    size_t body_off = (size_t)k + (size_t)hl;
    outcome oc = OUT_DONE;
    if (h->status != HADOOP__COMMON__RPC_RESPONSE_HEADER_PROTO__RPC_STATUS_PROTO__SUCCESS) {
        const char *cls = h->exceptionclassname ? h->exceptionclassname : "";
        const char *shortc = strrchr(cls, '.');
        shortc = shortc ? shortc + 1 : cls;
        char line[512];
        first_line(h->errormsg, line, sizeof line);
        *st = cav_err(err, cav_hdfs_exception_status(cls), "%s%s%s", *shortc ? shortc : "error",
                      line[0] ? ": " : "", line);
        if (strcmp(cls, "org.apache.hadoop.ipc.StandbyException") == 0)
            oc = OUT_FAILOVER;
        else if (strcmp(cls, "org.apache.hadoop.ipc.RetriableException") == 0 ||
                 strcmp(cls, "org.apache.hadoop.hdfs.server.namenode.SafeModeException") == 0)
            oc = OUT_RETRY_SAME;
        if (h->status == HADOOP__COMMON__RPC_RESPONSE_HEADER_PROTO__RPC_STATUS_PROTO__FATAL) {
            drop(r);
            if (oc == OUT_DONE && (int32_t)h->callid == -1 && *st == CSVAVRO_E_PERMISSION &&
                !r->conf->kerberos && strstr(line, "SIMPLE authentication is not enabled"))
                cav_err(err, CSVAVRO_E_PERMISSION,
                        "%s: %s (the NameNode requires Kerberos: set "
                        "hadoop.security.authentication=kerberos in core-site.xml and kinit)",
                        shortc, line);
        }
    } else if ((int32_t)h->callid != call_id) {
        *st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s answered call %d, expected %d",
                      r->sock.peer, (int32_t)h->callid, call_id);
    } else {
        uint64_t bl = 0;
        const uint8_t *bp = p + body_off;
        if (body_off < flen) {
            k = cav_hdfs_varint_at(bp, flen - body_off, &bl);
            if (k == 0 || bl > flen - body_off - k) {
                *st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent a malformed %s response",
                              r->sock.peer, desc->short_name);
                goto out;
            }
            bp += k;
        }
        *resp = protobuf_c_message_unpack(desc, &cav_pb_alloc, (size_t)bl, bp);
        if (!*resp)
            *st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent an undecodable %s",
                          r->sock.peer, desc->short_name);
        else
            *st = CSVAVRO_OK;
    }
out:
    protobuf_c_message_free_unpacked(&h->base, &cav_pb_alloc);
    if (*st == CSVAVRO_E_PROTOCOL) drop(r);
    return oc;
}

csvavro_status cav_hdfs_rpc_call(cav_hdfs_rpc *r, const char *method, const ProtobufCMessage *req,
                                 const ProtobufCMessageDescriptor *resp_desc,
                                 ProtobufCMessage **resp, csvavro_error *err) {
    *resp = NULL;
    Hadoop__Common__RequestHeaderProto rh = HADOOP__COMMON__REQUEST_HEADER_PROTO__INIT;
    rh.methodname = (char *)method;
    rh.declaringclassprotocolname = (char *)PROTOCOL_NAME;
    rh.clientprotocolversion = 1;
    pthread_mutex_lock(&r->mu);
    int32_t call_id = r->next_call_id;
    r->next_call_id = r->next_call_id == INT32_MAX ? 0 : r->next_call_id + 1;
    csvavro_status st = CSVAVRO_OK;
    int backoff = r->conf->backoff_ms;
    int free_reconnect = 1;
    for (int tries = 0;; tries++) {
        int fresh = 0;
        outcome oc;
        if (!r->connected) {
            int auth_failed;
            st = connect_nn(r, &auth_failed, err);
            fresh = 1;
            oc = st == CSVAVRO_OK || auth_failed ? OUT_DONE : OUT_RETRY_CONN;
            if (st != CSVAVRO_OK) goto decide;
        }
        st = cav_hdfs_rpc_frame(&r->wbuf, call_id, tries, &rh.base, req, r->client_id, err);
        if (st != CSVAVRO_OK) break;
        oc = attempt(r, call_id, resp_desc, resp, &st, err);
    decide:
        if (st == CSVAVRO_OK || oc == OUT_DONE) break;
        if (oc == OUT_RETRY_CONN) {
            drop(r);
            if (!fresh && free_reconnect) { /* a kept-open connection went stale */
                free_reconnect = 0;
                tries--;
                continue;
            }
            if (r->conf->n_nn > 1) r->nn_index++;
        } else if (oc == OUT_FAILOVER) {
            drop(r);
            r->nn_index++;
        }
        if (tries >= r->conf->retries) {
            if (oc == OUT_RETRY_CONN || oc == OUT_FAILOVER)
                cav_err_prefix(err, "NameNode unreachable after %d attempt%s", tries + 1,
                               tries ? "s" : "");
            break;
        }
        sleep_ms(backoff);
        backoff = CAV_MIN(backoff * 2, r->conf->backoff_max_ms);
        if (backoff == 0) backoff = 1;
    }
    pthread_mutex_unlock(&r->mu);
    return st;
}
