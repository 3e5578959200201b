/*
 * hdfs_sasl.c — Kerberos for NameNode RPC: the SASL GSSAPI exchange (RFC 4752) inside Hadoop's
 * RpcSaslProto frames, and the security layer (hadoop.rpc.protection) that wraps every frame
 * afterwards. All the cryptography is MIT krb5's GSS-API (gss_init_sec_context, gss_wrap,
 * gss_unwrap); this file only moves tokens and picks the protection level.
 *
 * Exchange (client side), after the preamble "hrpc" 9 0 0xDF; every message is a frame whose
 * header carries callId -33:
 *   C: NEGOTIATE                S: NEGOTIATE {auths: TOKEN/DIGEST-MD5, KERBEROS/GSSAPI …}
 *   C: INITIATE {auth KERBEROS, token = first GSS token}
 *   S: CHALLENGE {token} / C: RESPONSE {token}   … until the GSS context is established
 *   S: CHALLENGE {wrap(offer: layer bits, max buffer)}
 *   C: RESPONSE {wrap(choice: one layer bit, max buffer)}
 *   S: SUCCESS
 * A SIMPLE-only server answers the NEGOTIATE with SUCCESS ("use SIMPLE"): refused, like a Java
 * client without ipc.client.fallback-to-simple-auth-allowed. A server error arrives as a FATAL
 * response header (AccessControlException, …) and is reported with its message.
 *
 * Credentials: the default ticket cache (KRB5CCNAME, filled by kinit), or a keytab
 * (CSVAVRO_KEYTAB + CSVAVRO_PRINCIPAL, or --keytab/--principal): then MIT's client-keytab
 * support gets the initial ticket into a private in-memory cache and gets a fresh one when it
 * nears its end, so long jobs re-login on their own.
 *
 * Security layer: integrity (2) or privacy (4) wraps every later frame, whole (with its length
 * prefix), as RpcSaslProto{WRAP, token} in a frame with callId -33, in both directions.
 *
 * Bounds: SASL frames are capped at 1 MiB; tokens are passed to GSS-API with their lengths.
 */
#include "hdfs.h"
#include "hdfs_digest.h"

#include "hdfs/RpcHeader.pb-c.h"

#include "../core/core_dl.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <string.h>

/* MIT krb5's GSS-API (with libkrb5, libk5crypto, ...), loaded when a NameNode connection uses
 * Kerberos (core_dl.h): only secure clusters need it, and loading it costs every start-up about
 * a millisecond. gss_mech_krb5 and GSS_KRB5_NT_PRINCIPAL_NAME are the library's objects. */
/* clang-format off */
#define GSS_FUNCS(X) \
    X(gss_acquire_cred) X(gss_acquire_cred_from) X(gss_import_name) X(gss_init_sec_context) \
    X(gss_wrap) X(gss_unwrap) X(gss_inquire_context) X(gss_inquire_cred) X(gss_display_name) \
    X(gss_display_status) X(gss_release_buffer) X(gss_release_name) X(gss_release_cred) \
    X(gss_delete_sec_context) X(gss_mech_krb5) X(GSS_KRB5_NT_PRINCIPAL_NAME)
/* clang-format on */
struct gss_api {
    GSS_FUNCS(CAV_DL_FIELD)
};
#define GSS_SYM(f) CAV_DL_SYM(struct gss_api, f)
static const cav_dl_sym gss_syms[] = {GSS_FUNCS(GSS_SYM)};
static struct gss_api gk; /* written once by cav_dl_load, read-only afterwards */
static cav_dl_lib gss_lib = CAV_DL_LIB(CAV_SONAME_GSSAPI, 0, gss_syms, &gk);
#define KERBEROS "Kerberos"

#define MAX_SASL_FRAME (1u << 20)
#define SASL_CALL_ID (-33)

struct cav_hdfs_sasl {
    gss_ctx_id_t ctx; /* Kerberos */
    cav_digest *dg;   /* or TOKEN (DIGEST-MD5 with a delegation token) */
    int layer;        /* CAV_QOP_* chosen */
};

const char *cav_hdfs_qop_name(int layer) {
    return layer == CAV_QOP_PRIVACY     ? "privacy"
           : layer == CAV_QOP_INTEGRITY ? "integrity"
                                        : "authentication";
}

/* "minor status text (major status text)" of a GSS failure. */
static void gss_text(OM_uint32 maj, OM_uint32 min, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        OM_uint32 code = pass == 0 ? min : maj;
        int type = pass == 0 ? GSS_C_MECH_CODE : GSS_C_GSS_CODE;
        if (pass == 0 && min == 0) continue;
        /* "Unspecified GSS failure.  Minor code may provide more information" says nothing */
        if (pass == 1 && n && GSS_ROUTINE_ERROR(maj) == GSS_S_FAILURE) continue;
        OM_uint32 ctx = 0, m2;
        do {
            gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
            if (GSS_ERROR(gk.gss_display_status(&m2, code, type, GSS_C_NO_OID, &ctx, &b))) break;
            int w = snprintf(out + n, cap - n, "%s%s%.*s%s", n ? (pass ? " (" : "; ") : "", "",
                             (int)b.length, (const char *)b.value, n && pass ? ")" : "");
            gk.gss_release_buffer(&m2, &b);
            if (w < 0 || (size_t)w >= cap - n) return;
            n += (size_t)w;
        } while (ctx != 0);
    }
}

static csvavro_status gss_fail(csvavro_error *err, csvavro_status st, OM_uint32 maj, OM_uint32 min,
                               const char *what) {
    char t[768];
    gss_text(maj, min, t, sizeof t);
    return cav_err(err, st, "Kerberos: %s: %s", what, t);
}

/* Appends text to err's message; returns its status. */
static csvavro_status hint(csvavro_error *err, const char *text) {
    if (!err) return CSVAVRO_E_PERMISSION;
    size_t n = strlen(err->message);
    snprintf(err->message + n, sizeof err->message - n, "%s", text);
    return err->status;
}

/* ---------------------------------------------------------------- frames */

static csvavro_status send_sasl(cav_hdfs_sock *s, const uint8_t cid[16],
                                const Hadoop__Common__RpcSaslProto *m, cav_buf *b,
                                csvavro_error *err) {
    CAV_TRY(cav_hdfs_rpc_frame(b, SASL_CALL_ID, -1, &m->base, NULL, cid, err));
    return cav_hdfs_sock_write(s, b->data, b->len, err);
}

/* Reads one frame (<= max bytes) into b; on success *hdr is its decoded header and
 * [*body, *body + *blen) the bytes after it. */
csvavro_status cav_hdfs_read_frame(cav_hdfs_sock *s, cav_buf *b, size_t max,
                                   Hadoop__Common__RpcResponseHeaderProto **hdr,
                                   const uint8_t **body, size_t *blen, csvavro_error *err) {
    *hdr = NULL;
    uint8_t lb[4];
    CAV_TRY(cav_hdfs_sock_read(s, lb, 4, err));
    uint32_t flen = cav_be32_get(lb);
    if (flen == 0 || flen > max)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent a frame of %u bytes", s->peer,
                       flen);
    cav_buf_reset(b);
    while (b->len < flen) { /* memory follows the bytes that arrive */
        size_t k = CAV_MIN((size_t)flen - b->len, (size_t)1 << 20);
        CAV_TRY(cav_buf_reserve(b, k, err));
        CAV_TRY(cav_hdfs_sock_read(s, b->data + b->len, k, err));
        b->len += k;
    }
    uint64_t hl;
    size_t k = cav_hdfs_varint_at(b->data, flen, &hl);
    if (k == 0 || hl > flen - k)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent a malformed response header",
                       s->peer);
    *hdr =
        hadoop__common__rpc_response_header_proto__unpack(&cav_pb_alloc, (size_t)hl, b->data + k);
    if (!*hdr)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent an undecodable response header",
                       s->peer);
    *body = b->data + k + (size_t)hl;
    *blen = flen - k - (size_t)hl;
    return CSVAVRO_OK;
}

static void free_hdr(Hadoop__Common__RpcResponseHeaderProto *h) {
    if (h) protobuf_c_message_free_unpacked(&h->base, &cav_pb_alloc);
}

/* A delimited message at the start of [p, p+n): its bytes. */
static int take_delimited(const uint8_t *p, size_t n, const uint8_t **m, size_t *ml) {
    uint64_t l;
    size_t k = cav_hdfs_varint_at(p, n, &l);
    if (k == 0 || l > n - k) return 0;
    *m = p + k;
    *ml = (size_t)l;
    return 1;
}

/* Server error header -> status with its message. Hadoop's authentication failures are
 * AccessControlException (or SaslException inside it). */
static csvavro_status remote_error(const Hadoop__Common__RpcResponseHeaderProto *h,
                                   const char *peer, csvavro_error *err) {
    const char *cls = h->exceptionclassname ? h->exceptionclassname : "";
    const char *sc = strrchr(cls, '.');
    sc = sc ? sc + 1 : cls;
    char line[600];
    size_t n = 0;
    const char *m = h->errormsg ? h->errormsg : "";
    while (m[n] && m[n] != '\n' && n + 1 < sizeof line)
        n++;
    memcpy(line, m, n);
    line[n] = '\0';
    csvavro_status st = cav_hdfs_exception_status(cls);
    if (st == CSVAVRO_E_REMOTE && strstr(cls, "Sasl")) st = CSVAVRO_E_PERMISSION;
    return cav_err(err, st, "NameNode %s refused the connection: %s%s%s", peer, *sc ? sc : "error",
                   line[0] ? ": " : "", line);
}

/* Reads the next SASL message (callId -33) into *out. */
static csvavro_status read_sasl(cav_hdfs_sock *s, cav_buf *b, Hadoop__Common__RpcSaslProto **out,
                                csvavro_error *err) {
    *out = NULL;
    Hadoop__Common__RpcResponseHeaderProto *h = NULL;
    const uint8_t *body, *m;
    size_t blen, ml;
    csvavro_status st = cav_hdfs_read_frame(s, b, MAX_SASL_FRAME, &h, &body, &blen, err);
    if (st != CSVAVRO_OK) {
        free_hdr(h);
        return st;
    }
    if (h->status != HADOOP__COMMON__RPC_RESPONSE_HEADER_PROTO__RPC_STATUS_PROTO__SUCCESS)
        st = remote_error(h, s->peer, err);
    else if ((int32_t)h->callid != SASL_CALL_ID)
        st = cav_err(err, CSVAVRO_E_PROTOCOL,
                     "NameNode %s answered SASL with call id %d instead of -33", s->peer,
                     (int32_t)h->callid);
    else if (!take_delimited(body, blen, &m, &ml) ||
             !(*out = hadoop__common__rpc_sasl_proto__unpack(&cav_pb_alloc, ml, m)))
        st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent an undecodable SASL message",
                     s->peer);
    free_hdr(h);
    return st;
}

static void free_sasl(Hadoop__Common__RpcSaslProto *m) {
    if (m) protobuf_c_message_free_unpacked(&m->base, &cav_pb_alloc);
}

static const char *state_name(int s) {
    static const char *const n[] = {"SUCCESS",   "NEGOTIATE", "INITIATE",
                                    "CHALLENGE", "RESPONSE",  "WRAP"};
    return s >= 0 && s < 6 ? n[s] : "?";
}

/* ---------------------------------------------------------------- credentials */

/* The NameNode's principal: dfs.namenode.kerberos.principal with _HOST replaced by the host
 * we connect to; else protocol/serverId from the server's offer. */
static void service_principal(const cav_hdfs_conf *c, const char *nn_addr,
                              const Hadoop__Common__RpcSaslProto__SaslAuth *a, char *out,
                              size_t cap) {
    char host[300];
    snprintf(host, sizeof host, "%s", nn_addr);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    if (host[0] == '[') { /* [v6] */
        memmove(host, host + 1, strlen(host));
        char *rb = strchr(host, ']');
        if (rb) *rb = '\0';
    }
    if (c->nn_principal[0]) {
        const char *p = c->nn_principal, *hp = strstr(p, "_HOST");
        if (hp && hp > p && hp[-1] == '/' && (hp[5] == '\0' || hp[5] == '@'))
            snprintf(out, cap, "%.*s%s%s", (int)(hp - p), p, host, hp + 5);
        else
            snprintf(out, cap, "%s", p);
        return;
    }
    snprintf(out, cap, "%s/%s", a->protocol && *a->protocol ? a->protocol : "hdfs",
             a->serverid && *a->serverid ? a->serverid : host);
}

static csvavro_status acquire_cred(const cav_hdfs_conf *c, gss_cred_id_t *cred,
                                   csvavro_error *err) {
    *cred = GSS_C_NO_CREDENTIAL;
    CAV_TRY(cav_dl_load(&gss_lib, KERBEROS, err)); /* the first GSS-API call of a handshake */
    OM_uint32 maj, min;
    if (!c->keytab[0]) { /* the default ticket cache (KRB5CCNAME) */
        maj = gk.gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
                                  GSS_C_INITIATE, cred, NULL, NULL);
        if (GSS_ERROR(maj)) {
            gss_fail(err, CSVAVRO_E_PERMISSION, maj, min,
                     "hadoop.security.authentication=kerberos but no usable ticket");
            return hint(err, " (run kinit, or set CSVAVRO_KEYTAB and CSVAVRO_PRINCIPAL / "
                             "--keytab and --principal)");
        }
        return CSVAVRO_OK;
    }
    if (!c->principal[0])
        return cav_err(err, CSVAVRO_E_USAGE,
                       "a keytab (%s) needs a principal too (CSVAVRO_PRINCIPAL or --principal)",
                       c->keytab);
    gss_buffer_desc nb = {strlen(c->principal), (void *)c->principal};
    gss_name_t name = GSS_C_NO_NAME;
    maj = gk.gss_import_name(&min, &nb, *gk.GSS_KRB5_NT_PRINCIPAL_NAME, &name);
    if (GSS_ERROR(maj)) return gss_fail(err, CSVAVRO_E_USAGE, maj, min, c->principal);
    /* a private memory cache per process and principal, filled from the keytab on demand */
    char ccname[600];
    snprintf(ccname, sizeof ccname, "MEMORY:csvavro-%s", c->principal);
    gss_key_value_element_desc el[2] = {{"client_keytab", c->keytab}, {"ccache", ccname}};
    gss_key_value_set_desc store = {2, el};
    maj = gk.gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_INITIATE,
                                   &store, cred, NULL, NULL);
    gk.gss_release_name(&min, &name);
    if (GSS_ERROR(maj)) {
        char what[sizeof c->keytab + sizeof c->principal + 32];
        snprintf(what, sizeof what, "cannot log in as %s from keytab %s", c->principal, c->keytab);
        return gss_fail(err, CSVAVRO_E_PERMISSION, maj, min, what);
    }
    return CSVAVRO_OK;
}

/* ---------------------------------------------------------------- the handshake */

/* Highest layer in want that offered has. */
static int pick_layer(unsigned offered, unsigned want) {
    static const int order[] = {CAV_QOP_PRIVACY, CAV_QOP_INTEGRITY, CAV_QOP_AUTH};
    for (size_t i = 0; i < 3; i++)
        if ((offered & want & (unsigned)order[i])) return order[i];
    return 0;
}

static void layers_text(unsigned bits, char *out, size_t cap) {
    snprintf(out, cap, "%s%s%s%s%s", bits & CAV_QOP_AUTH ? "authentication" : "",
             (bits & CAV_QOP_AUTH) && (bits & 6) ? "," : "",
             bits & CAV_QOP_INTEGRITY ? "integrity" : "",
             (bits & CAV_QOP_INTEGRITY) && (bits & CAV_QOP_PRIVACY) ? "," : "",
             bits & CAV_QOP_PRIVACY ? "privacy" : "");
    if (!bits) snprintf(out, cap, "none");
}

/* TOKEN authentication: DIGEST-MD5 (Cyrus SASL) with the delegation token t, answering the
 * challenge the NameNode put in its NEGOTIATE:
 *   C: INITIATE {auth TOKEN/DIGEST-MD5, token = digest response}
 *   S: SUCCESS {rspauth}  (or CHALLENGE / RESPONSE rounds first)
 * The user is the token's owner. */
static csvavro_status token_handshake(cav_hdfs_sock *s, const cav_hdfs_conf *c,
                                      const uint8_t cid[16], const char *proto,
                                      const char *server_id, const uint8_t *chal, size_t chal_len,
                                      const cav_hdfs_token *t, cav_hdfs_sasl **out, char *user,
                                      size_t user_cap, cav_buf *b, csvavro_error *err) {
    cav_hdfs_dtid d;
    if (!cav_hdfs_dtid_decode(t->id, t->id_len, &d))
        return cav_err(err, CSVAVRO_E_CORRUPT,
                       "the token for %s has an identifier that is not an "
                       "HDFS_DELEGATION_TOKEN's",
                       t->service);
    /* Hadoop's convention: user = base64(identifier), password = base64(password) */
    cav_buf u, p;
    cav_buf_init(&u, 16384);
    cav_buf_init(&p, 16384);
    cav_digest *dg = NULL;
    csvavro_status st = cav_base64(t->id, t->id_len, &u, err);
    if (st == CSVAVRO_OK) st = cav_base64(t->pw, t->pw_len, &p, err);
    if (st == CSVAVRO_OK)
        st = cav_digest_client_new(proto, server_id, (const char *)u.data, (const char *)p.data,
                                   c->rpc_qop, &dg, err);
    cav_buf_free(&u);
    if (p.data) memset(p.data, 0, p.len);
    cav_buf_free(&p);
    if (st != CSVAVRO_OK) return st;
    Hadoop__Common__RpcSaslProto *in = NULL;
    const uint8_t *o;
    size_t ol;
    int done = 0;
    st = cav_digest_step(dg, chal, chal_len, &o, &ol, &done, err);
    for (int round = 0; st == CSVAVRO_OK; round++) {
        if (round > 4) {
            st = cav_err(err, CSVAVRO_E_PROTOCOL, "DIGEST-MD5 exchange with %s does not end",
                         s->peer);
            break;
        }
        Hadoop__Common__RpcSaslProto m = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
        Hadoop__Common__RpcSaslProto__SaslAuth a = HADOOP__COMMON__RPC_SASL_PROTO__SASL_AUTH__INIT;
        Hadoop__Common__RpcSaslProto__SaslAuth *ap = &a;
        m.state = round == 0 ? HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__INITIATE
                             : HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__RESPONSE;
        m.has_token = 1;
        m.token.data = (uint8_t *)o;
        m.token.len = ol;
        if (round == 0) {
            a.method = "TOKEN";
            a.mechanism = "DIGEST-MD5";
            a.protocol = (char *)proto;
            a.serverid = (char *)server_id;
            m.n_auths = 1;
            m.auths = &ap;
        }
        free_sasl(in);
        in = NULL;
        st = send_sasl(s, cid, &m, b, err);
        if (st == CSVAVRO_OK) st = read_sasl(s, b, &in, err);
        if (st != CSVAVRO_OK) break;
        if (in->state == HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__SUCCESS) {
            /* the rspauth (the server knows the password too) comes with the SUCCESS */
            if (!done)
                st = cav_digest_step(dg, in->has_token ? in->token.data : NULL,
                                     in->has_token ? in->token.len : 0, &o, &ol, &done, err);
            if (st == CSVAVRO_OK && !done)
                st = cav_err(err, CSVAVRO_E_PROTOCOL,
                             "NameNode %s ended the DIGEST-MD5 exchange without its rspauth",
                             s->peer);
            break;
        }
        if (in->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__CHALLENGE) {
            st = cav_err(err, CSVAVRO_E_PROTOCOL,
                         "NameNode %s answered a DIGEST-MD5 response with SASL state %s", s->peer,
                         state_name((int)in->state));
            break;
        }
        st = cav_digest_step(dg, in->token.data, in->token.len, &o, &ol, &done, err);
    }
    free_sasl(in);
    if (st == CSVAVRO_OK) {
        cav_hdfs_sasl *x = cav_calloc(1, sizeof *x);
        if (!x) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        } else {
            x->ctx = GSS_C_NO_CONTEXT;
            x->dg = dg;
            x->layer = (int)cav_digest_layer(dg);
            dg = NULL;
            *out = x;
            snprintf(user, user_cap, "%s", d.owner);
        }
    }
    cav_digest_free(dg);
    return st;
}

csvavro_status cav_hdfs_sasl_handshake(cav_hdfs_sock *s, const cav_hdfs_conf *c,
                                       const char *nn_addr, const uint8_t cid[16],
                                       cav_hdfs_sasl **out, char *user, size_t user_cap,
                                       csvavro_error *err) {
    *out = NULL;
    cav_buf b;
    cav_buf_init(&b, MAX_SASL_FRAME + 64);
    Hadoop__Common__RpcSaslProto *in = NULL;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    gss_name_t target = GSS_C_NO_NAME;
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    OM_uint32 maj, min;
    char spn[700];
    csvavro_status st;

    Hadoop__Common__RpcSaslProto neg = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
    neg.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__NEGOTIATE;
    st = send_sasl(s, cid, &neg, &b, err);
    if (st == CSVAVRO_OK) st = read_sasl(s, &b, &in, err);
    if (st != CSVAVRO_OK) goto out;
    if (in->state == HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__SUCCESS) {
        st = cav_err(err, CSVAVRO_E_PERMISSION,
                     "NameNode %s does not use Kerberos (it answered the SASL negotiation with "
                     "\"use SIMPLE\") but hadoop.security.authentication=kerberos in the Hadoop "
                     "config: refusing to fall back to SIMPLE authentication",
                     s->peer);
        goto out;
    }
    if (in->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__NEGOTIATE) {
        st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s answered NEGOTIATE with %s", s->peer,
                     state_name((int)in->state));
        goto out;
    }
    const Hadoop__Common__RpcSaslProto__SaslAuth *krb = NULL, *tok = NULL; /* point into in */
    char offered[256] = "";
    for (size_t i = 0; i < in->n_auths; i++) {
        const Hadoop__Common__RpcSaslProto__SaslAuth *a = in->auths[i];
        size_t ol = strlen(offered);
        snprintf(offered + ol, sizeof offered - ol, "%s%s", ol ? ", " : "",
                 a->method ? a->method : "?");
        if (a->method && a->mechanism && !strcmp(a->method, "KERBEROS") &&
            !strcmp(a->mechanism, "GSSAPI"))
            krb = a;
        if (a->method && a->mechanism && !strcmp(a->method, "TOKEN") &&
            !strcmp(a->mechanism, "DIGEST-MD5") && a->has_challenge)
            tok = a;
    }
    const cav_hdfs_token *dt = cav_hdfs_token_for(c, nn_addr);
    if (dt && tok) {
        char t_proto[256], t_server[256];
        snprintf(t_proto, sizeof t_proto, "%s", tok->protocol ? tok->protocol : "");
        snprintf(t_server, sizeof t_server, "%s", tok->serverid ? tok->serverid : "default");
        st = token_handshake(s, c, cid, t_proto, t_server, tok->challenge.data, tok->challenge.len,
                             dt, out, user, user_cap, &b, err);
        if (st != CSVAVRO_OK && st != CSVAVRO_E_IO && st != CSVAVRO_E_TIMEOUT)
            cav_err_prefix(err, "delegation token %s from HADOOP_TOKEN_FILE_LOCATION=%s",
                           dt->service, c->token_file);
        goto out;
    }
    if (dt && !tok) {
        st = cav_err(err, CSVAVRO_E_PERMISSION,
                     "NameNode %s offers no TOKEN (DIGEST-MD5) authentication for the delegation "
                     "token in HADOOP_TOKEN_FILE_LOCATION=%s (offers: %s)",
                     s->peer, c->token_file, offered[0] ? offered : "nothing");
        goto out;
    }
    if (!krb) {
        st = cav_err(err, CSVAVRO_E_PERMISSION,
                     "NameNode %s offers no Kerberos (GSSAPI) authentication (offers: %s)", s->peer,
                     offered[0] ? offered : "nothing");
        goto out;
    }
    service_principal(c, nn_addr, krb, spn, sizeof spn);
    /* the auth to echo in INITIATE (in is freed below) */
    char k_proto[256], k_server[256];
    snprintf(k_proto, sizeof k_proto, "%s", krb->protocol ? krb->protocol : "");
    snprintf(k_server, sizeof k_server, "%s", krb->serverid ? krb->serverid : "");
    st = acquire_cred(c, &cred, err);
    if (st != CSVAVRO_OK) goto out;
    gss_buffer_desc nb = {strlen(spn), spn};
    maj = gk.gss_import_name(&min, &nb, *gk.GSS_KRB5_NT_PRINCIPAL_NAME, &target);
    if (GSS_ERROR(maj)) {
        st = gss_fail(err, CSVAVRO_E_USAGE, maj, min, "bad NameNode principal");
        goto out;
    }
    /* context tokens until established */
    gss_buffer_desc itok = GSS_C_EMPTY_BUFFER;
    int first = 1;
    for (int round = 0;; round++) {
        gss_buffer_desc otok = GSS_C_EMPTY_BUFFER;
        OM_uint32 flags = 0;
        maj = gk.gss_init_sec_context(
            &min, cred, &ctx, target, *gk.gss_mech_krb5,
            GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG | GSS_C_SEQUENCE_FLAG, 0,
            GSS_C_NO_CHANNEL_BINDINGS, first ? GSS_C_NO_BUFFER : &itok, NULL, &otok, &flags, NULL);
        free_sasl(in);
        in = NULL;
        if (GSS_ERROR(maj)) {
            char what[800];
            snprintf(what, sizeof what, "cannot authenticate to %s (NameNode %s)", spn, s->peer);
            st = gss_fail(err, CSVAVRO_E_PERMISSION, maj, min, what);
            gk.gss_release_buffer(&min, &otok);
            goto out;
        }
        /* send: the first token; any later one; and, once a later round completes the
         * context (after the server's mutual-auth reply), an empty RESPONSE that asks for the
         * security-layer offer */
        if (otok.length || first || maj == GSS_S_COMPLETE) {
            Hadoop__Common__RpcSaslProto m = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
            Hadoop__Common__RpcSaslProto__SaslAuth a =
                HADOOP__COMMON__RPC_SASL_PROTO__SASL_AUTH__INIT;
            m.state = first ? HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__INITIATE
                            : HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__RESPONSE;
            m.has_token = 1;
            m.token.data = otok.value;
            m.token.len = otok.length;
            Hadoop__Common__RpcSaslProto__SaslAuth *ap = &a;
            if (first) {
                a.method = "KERBEROS";
                a.mechanism = "GSSAPI";
                a.protocol = k_proto;
                a.serverid = k_server;
                m.n_auths = 1;
                m.auths = &ap;
            }
            st = send_sasl(s, cid, &m, &b, err);
            gk.gss_release_buffer(&min, &otok);
            if (st != CSVAVRO_OK) goto out;
            st = read_sasl(s, &b, &in, err);
            if (st != CSVAVRO_OK) goto out;
            if (in->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__CHALLENGE) {
                st = cav_err(err, CSVAVRO_E_PROTOCOL,
                             "NameNode %s answered a GSSAPI token with SASL state %s", s->peer,
                             state_name((int)in->state));
                goto out;
            }
        } else {
            gk.gss_release_buffer(&min, &otok);
        }
        first = 0;
        if (maj == GSS_S_COMPLETE) break;
        if (round > 8) {
            st = cav_err(err, CSVAVRO_E_PROTOCOL, "GSSAPI exchange with %s does not end", s->peer);
            goto out;
        }
        itok.value = in->token.data;
        itok.length = in->token.len;
    }
    /* `in` is the CHALLENGE carrying the wrapped security-layer offer (RFC 4752 §3.1) */
    gss_buffer_desc wtok = {in->token.len, in->token.data}, plain = GSS_C_EMPTY_BUFFER;
    maj = gk.gss_unwrap(&min, ctx, &wtok, &plain, NULL, NULL);
    if (GSS_ERROR(maj)) {
        st = gss_fail(err, CSVAVRO_E_PROTOCOL, maj, min, "bad security-layer offer");
        goto out;
    }
    if (plain.length != 4) {
        gk.gss_release_buffer(&min, &plain);
        st = cav_err(err, CSVAVRO_E_PROTOCOL,
                     "NameNode %s sent a %zu-byte security-layer offer (want 4)", s->peer,
                     (size_t)plain.length);
        goto out;
    }
    unsigned offer = ((const uint8_t *)plain.value)[0];
    gk.gss_release_buffer(&min, &plain);
    int layer = pick_layer(offer, c->rpc_qop);
    if (!layer) {
        char a[64], w[64];
        layers_text(offer & 7, a, sizeof a);
        layers_text(c->rpc_qop, w, sizeof w);
        st = cav_err(err, CSVAVRO_E_PERMISSION,
                     "hadoop.rpc.protection mismatch: NameNode %s offers %s, this client accepts "
                     "%s",
                     s->peer, a, w);
        goto out;
    }
    uint8_t choice[4] = {(uint8_t)layer, 0x00, 0xFF, 0xFF}; /* max buffer 64 KiB - 1 */
    gss_buffer_desc cb = {4, choice}, wrapped = GSS_C_EMPTY_BUFFER;
    maj = gk.gss_wrap(&min, ctx, 0, GSS_C_QOP_DEFAULT, &cb, NULL, &wrapped);
    if (GSS_ERROR(maj)) {
        st = gss_fail(err, CSVAVRO_E_PROTOCOL, maj, min, "cannot wrap the security-layer choice");
        goto out;
    }
    Hadoop__Common__RpcSaslProto resp = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
    resp.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__RESPONSE;
    resp.has_token = 1;
    resp.token.data = wrapped.value;
    resp.token.len = wrapped.length;
    st = send_sasl(s, cid, &resp, &b, err);
    gk.gss_release_buffer(&min, &wrapped);
    free_sasl(in);
    in = NULL;
    if (st == CSVAVRO_OK) st = read_sasl(s, &b, &in, err);
    if (st != CSVAVRO_OK) goto out;
    if (in->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__SUCCESS) {
        st = cav_err(err, CSVAVRO_E_PROTOCOL,
                     "NameNode %s ended the SASL exchange with %s instead of SUCCESS", s->peer,
                     state_name((int)in->state));
        goto out;
    }
    /* who we are: the initiator's principal */
    gss_name_t src = GSS_C_NO_NAME;
    maj = gk.gss_inquire_context(&min, ctx, &src, NULL, NULL, NULL, NULL, NULL, NULL);
    if (!GSS_ERROR(maj)) {
        gss_buffer_desc dn = GSS_C_EMPTY_BUFFER;
        if (!GSS_ERROR(gk.gss_display_name(&min, src, &dn, NULL))) {
            snprintf(user, user_cap, "%.*s", (int)dn.length, (const char *)dn.value);
            gk.gss_release_buffer(&min, &dn);
        }
        gk.gss_release_name(&min, &src);
    }
    cav_hdfs_sasl *r = cav_calloc(1, sizeof *r);
    if (!r) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto out;
    }
    r->ctx = ctx;
    r->layer = layer;
    ctx = GSS_C_NO_CONTEXT;
    *out = r;
out:
    free_sasl(in);
    if (ctx != GSS_C_NO_CONTEXT) gk.gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
    if (target != GSS_C_NO_NAME) gk.gss_release_name(&min, &target);
    if (cred != GSS_C_NO_CREDENTIAL) gk.gss_release_cred(&min, &cred);
    cav_buf_free(&b);
    return st;
}

int cav_hdfs_sasl_layer(const cav_hdfs_sasl *x) {
    return x ? x->layer : 0;
}

csvavro_status cav_hdfs_sasl_wrap(cav_hdfs_sasl *x, const uint8_t cid[16], const cav_buf *frame,
                                  cav_buf *out, csvavro_error *err) {
    if (x->dg) {
        cav_buf w;
        cav_buf_init(&w, (size_t)256 << 20);
        csvavro_status st = cav_digest_wrap(x->dg, frame->data, frame->len, &w, err);
        if (st == CSVAVRO_OK) {
            Hadoop__Common__RpcSaslProto m = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
            m.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__WRAP;
            m.has_token = 1;
            m.token.data = w.data;
            m.token.len = w.len;
            st = cav_hdfs_rpc_frame(out, SASL_CALL_ID, -1, &m.base, NULL, cid, err);
        }
        cav_buf_free(&w);
        return st;
    }
    OM_uint32 maj, min;
    gss_buffer_desc in = {frame->len, frame->data}, w = GSS_C_EMPTY_BUFFER;
    maj = gk.gss_wrap(&min, x->ctx, x->layer == CAV_QOP_PRIVACY, GSS_C_QOP_DEFAULT, &in, NULL, &w);
    if (GSS_ERROR(maj)) return gss_fail(err, CSVAVRO_E_IO, maj, min, "cannot wrap an RPC");
    Hadoop__Common__RpcSaslProto m = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
    m.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__WRAP;
    m.has_token = 1;
    m.token.data = w.value;
    m.token.len = w.length;
    csvavro_status st = cav_hdfs_rpc_frame(out, SASL_CALL_ID, -1, &m.base, NULL, cid, err);
    gk.gss_release_buffer(&min, &w);
    return st;
}

csvavro_status cav_hdfs_sasl_unwrap(cav_hdfs_sasl *x, const uint8_t *body, size_t blen,
                                    const char *peer, cav_buf *out, csvavro_error *err) {
    const uint8_t *m;
    size_t ml;
    Hadoop__Common__RpcSaslProto *sp = NULL;
    if (!take_delimited(body, blen, &m, &ml) ||
        !(sp = hadoop__common__rpc_sasl_proto__unpack(&cav_pb_alloc, ml, m)))
        return cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent an undecodable wrapped frame",
                       peer);
    csvavro_status st = CSVAVRO_OK;
    if (sp->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__WRAP) {
        st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent SASL %s where WRAP was due", peer,
                     state_name((int)sp->state));
    } else if (x->dg) {
        const uint8_t *o;
        size_t ol;
        st = cav_digest_unwrap(x->dg, sp->token.data, sp->token.len, &o, &ol, err);
        if (st != CSVAVRO_OK) {
            cav_err_prefix(err, "NameNode %s: a wrapped RPC response", peer);
        } else {
            cav_buf_reset(out);
            st = cav_buf_append(out, o, ol, err);
        }
    } else {
        OM_uint32 maj, min;
        int conf = 0;
        gss_buffer_desc in = {sp->token.len, sp->token.data}, p = GSS_C_EMPTY_BUFFER;
        maj = gk.gss_unwrap(&min, x->ctx, &in, &p, &conf, NULL);
        if (GSS_ERROR(maj)) {
            st = gss_fail(err, CSVAVRO_E_PROTOCOL, maj, min, "a wrapped RPC response fails");
        } else if (x->layer == CAV_QOP_PRIVACY && !conf) {
            st = cav_err(err, CSVAVRO_E_PROTOCOL,
                         "NameNode %s sent an unencrypted frame on a privacy connection", peer);
        } else {
            cav_buf_reset(out);
            st = cav_buf_append(out, p.value, p.length, err);
        }
        gk.gss_release_buffer(&min, &p);
    }
    protobuf_c_message_free_unpacked(&sp->base, &cav_pb_alloc);
    return st;
}

void cav_hdfs_sasl_free(cav_hdfs_sasl *x) {
    if (!x) return;
    OM_uint32 min;
    if (x->ctx != GSS_C_NO_CONTEXT) gk.gss_delete_sec_context(&min, &x->ctx, GSS_C_NO_BUFFER);
    cav_digest_free(x->dg);
    cav_free(x);
}

/* The principal of the default ticket cache, or "" (used for the /user/<name> home). */
void cav_hdfs_ccache_principal(char *out, size_t cap) {
    out[0] = '\0';
    if (cav_dl_load(&gss_lib, KERBEROS, NULL) != CSVAVRO_OK) return; /* the handshake says why */
    OM_uint32 maj, min;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    gss_name_t name = GSS_C_NO_NAME;
    OM_uint32 life = 0;
    maj = gk.gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
                              GSS_C_INITIATE, &cred, NULL, &life);
    if (GSS_ERROR(maj)) return;
    /* MIT's gss_inquire_cred leaks the name it made when the ticket has expired: ask only
     * about a live one */
    if (life == 0) {
        gk.gss_release_cred(&min, &cred);
        return;
    }
    maj = gk.gss_inquire_cred(&min, cred, &name, NULL, NULL, NULL);
    if (!GSS_ERROR(maj)) {
        gss_buffer_desc dn = GSS_C_EMPTY_BUFFER;
        if (!GSS_ERROR(gk.gss_display_name(&min, name, &dn, NULL))) {
            snprintf(out, cap, "%.*s", (int)dn.length, (const char *)dn.value);
            gk.gss_release_buffer(&min, &dn);
        }
    }
    /* gss_inquire_cred can fail (an expired ticket) after it has made the name */
    if (name != GSS_C_NO_NAME) gk.gss_release_name(&min, &name);
    gk.gss_release_cred(&min, &cred);
}
