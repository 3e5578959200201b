/*
 * hdfsd_rpc.c — the NameNode side of csvavro-hdfsd: one thread per client connection speaking
 * Hadoop IPC v9 (preamble "hrpc" 9 0 auth; BE u32 frames of delimited protobuf messages),
 * SIMPLE authentication (the user comes from the connection context; a SASL NEGOTIATE is
 * answered with SUCCESS, i.e. "use simple"), and dispatch through the method table
 * to the ClientProtocol methods (hdfsd_nn_ns.c, hdfsd_nn_blocks.c; hdfsd_nn.h). Errors carry
 * the Java exception class names a real NameNode uses.
 *
 * Invariants: every frame is bounded by g_hd.max_frame; every length inside a frame is checked
 * against what is left of it; a frame that cannot be decoded gets a FATAL response and the
 * connection is closed; the namespace is touched only under g_hd.ns_lock and saved before the
 * lock is released after a mutation. Responses fill every required field, recursively.
 */
#include "core/core.h"
#include "hdfsd_auth.h"
#include "hdfsd_nn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

typedef struct method {
    const char *name;
    void (*fn)(call *);
} method;

static const method methods[] = {
    {"getFileInfo", nn_getFileInfo},
    {"getListing", nn_getListing},
    {"mkdirs", nn_mkdirs},
    {"delete", nn_delete},
    {"rename", nn_rename},
    {"rename2", nn_rename2},
    {"create", nn_create},
    {"addBlock", nn_addBlock},
    {"complete", nn_complete},
    {"abandonBlock", nn_abandonBlock},
    {"getBlockLocations", nn_getBlockLocations},
    {"getServerDefaults", nn_getServerDefaults},
    {"getDataEncryptionKey", nn_getDataEncryptionKey},
    {"renewLease", nn_renewLease},
    {"setReplication", nn_setReplication},
    {"setPermission", nn_setPermission},
    {"setOwner", nn_setOwner},
    {"setTimes", nn_setTimes},
    {"getContentSummary", nn_getContentSummary},
    {"getFsStats", nn_getFsStats},
    {"updateBlockForPipeline", nn_updateBlockForPipeline},
    {"updatePipeline", nn_updatePipeline},
    {"getAdditionalDatanode", nn_getAdditionalDatanode},
    {"recoverLease", nn_recoverLease},
    {"getDelegationToken", nn_getDelegationToken},
    {"renewDelegationToken", nn_renewDelegationToken},
    {"cancelDelegationToken", nn_cancelDelegationToken},
};

/* ---------------------------------------------------------------- connection */

typedef struct conn {
    int fd;
    uint8_t *buf; /* current frame */
    char user[HD_MAX_PRINCIPAL + 1];
    bool have_context;
    hd_auth_conn *auth; /* secure mode: the SASL state and security layer */
} conn;

static bool send_frame(conn *c, const ProtobufCMessage *hdr, const uint8_t *body, size_t blen,
                       bool has_body);

/* With integrity/privacy, every response goes out whole inside RpcSaslProto{WRAP}. */
static bool send_wrapped(conn *c, const uint8_t *frame, size_t n) {
    uint8_t *w = NULL;
    size_t wl = 0;
    if (!hd_auth_wrap(c->auth, frame, n, &w, &wl)) return false;
    Hadoop__Common__RpcResponseHeaderProto h = HADOOP__COMMON__RPC_RESPONSE_HEADER_PROTO__INIT;
    h.callid = (uint32_t)-33;
    h.status = HADOOP__COMMON__RPC_RESPONSE_HEADER_PROTO__RPC_STATUS_PROTO__SUCCESS;
    h.has_serveripcversionnum = 1;
    h.serveripcversionnum = 9;
    hd_auth_conn *a = c->auth;
    c->auth = NULL; /* the WRAP frame itself goes out as is */
    bool ok = send_frame(c, &h.base, w, wl, true);
    c->auth = a;
    cav_free(w);
    return ok;
}

static bool send_frame(conn *c, const ProtobufCMessage *hdr, const uint8_t *body, size_t blen,
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
    bool ok = c->auth && hd_auth_layer(c->auth) > HD_QOP_AUTH ? send_wrapped(c, b, p)
                                                              : hd_write_full(c->fd, b, p);
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
    return send_frame(c, &h.base, body, blen, status == 0);
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

static bool handle_frame(conn *c, const uint8_t *f, size_t flen);

/* Secure mode, a callId -33 frame: a SASL handshake step, or (once authenticated) a wrapped
 * frame, which is unwrapped and handled like any other. */
static bool sasl_frame(conn *c, const Hadoop__Common__RpcRequestHeaderProto *rq, const uint8_t *p,
                       const uint8_t *end) {
    const uint8_t *m;
    size_t ml;
    if (!take(&p, end, &m, &ml)) {
        fatal(c, -33, EXC_ACCESS, "undecodable SASL message", 15);
        return false;
    }
    uint8_t *out = NULL;
    size_t outlen = 0;
    if (hd_auth_done(c->auth)) {
        int u = hd_auth_unwrap(c->auth, m, ml, &out, &outlen);
        bool keep = false;
        if (u <= 0 || outlen < 5 ||
            ((uint32_t)out[0] << 24 | (uint32_t)out[1] << 16 | (uint32_t)out[2] << 8 | out[3]) !=
                outlen - 4)
            fatal(c, -33, EXC_ACCESS,
                  u == 0 ? "SASL message after authentication" : "a wrapped frame does not verify",
                  15);
        else
            keep = handle_frame(c, out + 4, outlen - 4);
        cav_free(out);
        return keep;
    }
    if (!c->auth && !(c->auth = hd_auth_conn_new())) return false;
    char msg[900];
    int r = hd_auth_step(c->auth, m, ml, &out, &outlen, msg, sizeof msg);
    if (r == HD_AUTH_FAIL) {
        hd_log("SASL refused: %s", msg);
        fatal(c, -33, EXC_ACCESS, msg, 15);
        return false;
    }
    /* the SUCCESS that ends the exchange still goes out unwrapped */
    hd_auth_conn *a = c->auth;
    if (r == HD_AUTH_DONE) c->auth = NULL;
    bool keep = respond(c, rq, -33, 0, NULL, NULL, 0, out, outlen);
    c->auth = a;
    if (r == HD_AUTH_DONE)
        hd_log("SASL: %s authenticated as %s (%s%s)", hd_auth_principal(a), hd_auth_user(a),
               hd_qop_name(hd_auth_layer(a)), hd_auth_via_token(a) ? ", delegation token" : "");
    cav_free(out);
    return keep;
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
    if (cid == -33 && g_sec.on) {
        keep = sasl_frame(c, rq, p, end);
        goto done;
    }
    if (cid == -33) { /* SASL on a SIMPLE server: answer "use SIMPLE" */
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
            const char *why = hd_check_principal(u);
            if (g_sec.on && !why) { /* the user is who Kerberos says, never whom the client names */
                char msg[700];
                if (!hd_auth_done(c->auth)) {
                    fatal(c, -3, EXC_ACCESS, "Connection context before SASL authentication", 15);
                    keep = false;
                } else if (strcmp(u, hd_auth_principal(c->auth)) &&
                           strcmp(u, hd_auth_user(c->auth))) {
                    snprintf(msg, sizeof msg, "User: %s is not allowed to impersonate %.300s",
                             hd_auth_principal(c->auth), u);
                    fatal(c, -3, EXC_ACCESS, msg, 15);
                    keep = false;
                }
                u = hd_auth_user(c->auth);
                if (!keep) goto ctx_done;
            }
            if (why || (ctx->protocol && strcmp(ctx->protocol, HD_PROTOCOL))) {
                char msg[200];
                if (why)
                    snprintf(msg, sizeof msg,
                             "Invalid user name in the connection context: it %s (1 to %d bytes, "
                             "no control character or ':')",
                             why, HD_MAX_PRINCIPAL);
                else
                    snprintf(msg, sizeof msg, "Unknown protocol %.100s", ctx->protocol);
                fatal(c, -3, EXC_ACCESS, msg, 15);
                keep = false;
            } else {
                snprintf(c->user, sizeof c->user, "%s", u);
                c->have_context = true;
            }
        }
    ctx_done:
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
            call k = {.user = c->user,
                      .principal = c->auth ? hd_auth_principal(c->auth) : c->user,
                      .via_token = c->auth && hd_auth_via_token(c->auth),
                      .data = body,
                      .len = blen};
            hd_tls_user = c->user; /* block tokens are issued to the caller */
            hd_tls_modes =
                !strcmp(mt->name, "getBlockLocations") ? HD_TOK_READ : HD_TOK_READ | HD_TOK_WRITE;
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

/* Before its connection context (SIMPLE) or SASL exchange is done, a connection is
 * unauthenticated: its frames are bounded by HD_PREAUTH_FRAME (not --max-frame), and the whole
 * handshake must finish within HD_HANDSHAKE_MS (or the idle timeout when shorter). After it,
 * the connection is closed when silent for g_hd.idle_ms. Frame buffers grow with the bytes
 * that actually arrive, never with the length a peer announces. */
#define HD_PREAUTH_FRAME (256u << 10)
#define HD_HANDSHAKE_MS 10000

static int handshake_ms(void) {
    return g_hd.idle_ms > 0 && g_hd.idle_ms < HD_HANDSHAKE_MS ? g_hd.idle_ms : HD_HANDSHAKE_MS;
}

static uint8_t *read_frame(int fd, uint32_t len) {
    size_t cap = len < 65536 ? len : 65536, got = 0;
    uint8_t *b = cav_malloc(cap);
    while (b && got < len) {
        if (got == cap) {
            size_t ncap = cap * 2 < len ? cap * 2 : len;
            uint8_t *nb = cav_realloc(b, ncap);
            if (!nb) break;
            b = nb;
            cap = ncap;
        }
        if (!hd_read_full(fd, b + got, cap - got)) break;
        got = cap;
    }
    if (b && got < len) {
        cav_free(b);
        return NULL;
    }
    return b;
}

void *hd_nn_conn_thread(void *arg) {
    hd_conn_arg *a = arg;
    conn c = {.fd = a->fd};
    cav_free(a);
    uint8_t pre[7];
    uint64_t t0 = hd_now_ms();
    bool authed = false;
    hd_set_timeout(c.fd, handshake_ms());
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
    if (g_sec.on && pre[6] == 0) { /* a SIMPLE client of a Kerberos-only server */
        fatal(&c, -1, EXC_ACCESS, HD_SIMPLE_REFUSED, 15);
        goto out;
    }
    for (;;) {
        if (!authed && c.have_context) { /* handshake done: the idle timeout from now on */
            authed = true;
            hd_set_timeout(c.fd, g_hd.idle_ms);
        }
        if (!authed && hd_now_ms() - t0 > (uint64_t)handshake_ms()) {
            hd_log("connection closed: no connection context after %d ms", handshake_ms());
            break;
        }
        uint8_t lb[4];
        if (!hd_read_full(c.fd, lb, 4)) break;
        uint32_t len = (uint32_t)lb[0] << 24 | (uint32_t)lb[1] << 16 | (uint32_t)lb[2] << 8 | lb[3];
        uint32_t max = authed ? g_hd.max_frame : HD_PREAUTH_FRAME;
        if (len == 0 || len > max) {
            char msg[160];
            snprintf(msg, sizeof msg, "RPC data length %u is out of range (at most %u bytes%s)",
                     len, max, authed ? "" : " before the connection context");
            fatal(&c, -1, "org.apache.hadoop.ipc.RpcServerException", msg, 12);
            break;
        }
        c.buf = read_frame(c.fd, len);
        if (!c.buf) break;
        bool keep = handle_frame(&c, c.buf, len);
        cav_free(c.buf);
        c.buf = NULL;
        if (!keep) break;
    }
out:
    cav_free(c.buf);
    hd_auth_conn_free(c.auth);
    close(c.fd);
    return NULL;
}
