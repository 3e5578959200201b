/*
 * hdfsd_auth.c — the server half of Kerberos on NameNode RPC (see hdfsd_auth.h).
 *
 * Handshake per connection (client frames carry callId -33, so do ours):
 *   C NEGOTIATE            -> S NEGOTIATE {auths: KERBEROS/GSSAPI, protocol/serverId = our
 *                             principal's two components}
 *   C INITIATE {token}     -> gss_accept_sec_context; S CHALLENGE {its output token} while the
 *   C RESPONSE {token}        context needs more (or to deliver a mutual-auth reply, answered
 *                             by an empty RESPONSE)
 *   once established       -> S CHALLENGE {wrap(offer: the one configured layer, max buffer)}
 *   C RESPONSE {wrap(choice)} -> the choice must be a layer we offered (the highest bit set
 *                             wins, as in Java); an authorization id other than the
 *                             authenticated principal is refused (no impersonation)
 *                          -> S SUCCESS
 * The principal -> user mapping is Hadoop's DEFAULT auth_to_local rule: a principal of our realm
 * maps to its first component (alice@R -> alice, alice/admin@R -> alice); other realms are
 * refused. Every token goes to GSS-API with its length; nothing here parses Kerberos bytes.
 */
#include "hdfsd_auth.h"
#include "hdfsd_digest.h"
#include "core/core.h"
#include "hdfsd.h"

#include "hdfs/RpcHeader.pb-c.h"

#include <openssl/evp.h>
#include <sasl/sasl.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

hd_sec g_sec;

struct hd_auth_conn {
    int state; /* 0 want NEGOTIATE, 1 want INITIATE, 2 context tokens, 3 want layer choice, 4 done
                */
    hd_digest *dg;  /* DIGEST-MD5 server of the TOKEN method (delegation tokens) */
    bool via_token; /* authenticated by TOKEN: the layer is dg's, not the GSS context's */
    gss_ctx_id_t ctx;
    int layer;
    char principal[512];
    char user[256];
};

int hd_qop_parse(const char *s) {
    if (!s) return 0;
    if (!strcasecmp(s, "authentication")) return HD_QOP_AUTH;
    if (!strcasecmp(s, "integrity")) return HD_QOP_INTEGRITY;
    if (!strcasecmp(s, "privacy")) return HD_QOP_PRIVACY;
    return 0;
}

const char *hd_qop_name(int q) {
    return q == HD_QOP_PRIVACY ? "privacy" : q == HD_QOP_INTEGRITY ? "integrity" : "authentication";
}

static void gss_text(OM_uint32 maj, OM_uint32 min, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        OM_uint32 code = pass == 0 ? min : maj, ctx = 0, m2;
        if (pass == 0 && min == 0) continue;
        do {
            gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
            if (GSS_ERROR(gss_display_status(&m2, code, pass ? GSS_C_GSS_CODE : GSS_C_MECH_CODE,
                                             GSS_C_NO_OID, &ctx, &b)))
                break;
            int w = snprintf(out + n, cap - n, "%s%.*s", n ? "; " : "", (int)b.length,
                             (const char *)b.value);
            gss_release_buffer(&m2, &b);
            if (w < 0 || (size_t)w >= cap - n) return;
            n += (size_t)w;
        } while (ctx != 0);
    }
}

/* The acceptor credentials from the keytab, acquired once at startup and shared by every
 * connection (MIT's credential handles are thread-safe). */
static gss_cred_id_t g_cred = GSS_C_NO_CREDENTIAL;

static int acquire(gss_cred_id_t *cred, char *msg, size_t cap) {
    OM_uint32 maj, min;
    gss_buffer_desc nb = {strlen(g_sec.principal), g_sec.principal};
    gss_name_t name = GSS_C_NO_NAME;
    maj = gss_import_name(&min, &nb, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
    if (GSS_ERROR(maj)) {
        char t[512];
        gss_text(maj, min, t, sizeof t);
        snprintf(msg, cap, "bad principal %s: %s", g_sec.principal, t);
        return -1;
    }
    gss_key_value_element_desc el[1] = {{"keytab", g_sec.keytab}};
    gss_key_value_set_desc store = {1, el};
    maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_ACCEPT,
                                &store, cred, NULL, NULL);
    gss_release_name(&min, &name);
    if (GSS_ERROR(maj)) {
        char t[512];
        gss_text(maj, min, t, sizeof t);
        snprintf(msg, cap, "no key for %s in keytab %s: %s", g_sec.principal, g_sec.keytab, t);
        if (*cred != GSS_C_NO_CREDENTIAL) gss_release_cred(&min, cred);
        return -1;
    }
    return 0;
}

int hd_auth_init(char *msg, size_t cap) {
    const char *at = strrchr(g_sec.principal, '@');
    if (!at || !at[1] || !strchr(g_sec.principal, '/') || strchr(g_sec.principal, '/') > at) {
        snprintf(msg, cap, "--kerberos-principal %s: want service/host@REALM", g_sec.principal);
        return -1;
    }
    snprintf(g_sec.realm, sizeof g_sec.realm, "%s", at + 1);
    if (acquire(&g_cred, msg, cap)) return -1;
    return hd_digest_init(msg, cap);
}

/* The password of a delegation token for Cyrus: the DIGEST-MD5 user name is the base64 of the
 * token identifier, the password the base64 of the token's HMAC (Hadoop's convention). */
static int token_password(void *ctx, const char *user, char *pw, size_t cap, char *msg,
                          size_t msgcap) {
    hd_auth_conn *a = ctx;
    size_t n = strcspn(user, "@");
    if (n == 0 || n % 4 || n > (HD_DT_ID_MAX + 2) / 3 * 4) {
        snprintf(msg, msgcap, "the DIGEST-MD5 user name is not a delegation token identifier");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = user[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i + 2 >= n))) {
            snprintf(msg, msgcap, "the DIGEST-MD5 user name is not base64");
            return -1;
        }
    }
    uint8_t id[HD_DT_ID_MAX + 3];
    int dl = EVP_DecodeBlock(id, (const unsigned char *)user, (int)n);
    if (dl < 0) {
        snprintf(msg, msgcap, "the DIGEST-MD5 user name is not base64");
        return -1;
    }
    dl -= (user[n - 1] == '=') + (user[n - 2] == '=');
    uint8_t p20[20];
    char owner[HD_MAX_PRINCIPAL + 1];
    if (hd_dt_password(id, (size_t)dl, p20, owner, msg, msgcap)) return -1;
    if (cap < 29) {
        snprintf(msg, msgcap, "password buffer too small");
        return -1;
    }
    EVP_EncodeBlock((unsigned char *)pw, p20, 20);
    snprintf(a->principal, sizeof a->principal, "%s", owner);
    return 0;
}

/* The TOKEN method's DIGEST-MD5 challenge, as a real NameNode sends it in its NEGOTIATE
 * (protocol "", server id and realm "default", so the digest-uri is "/default"). Clients read
 * the offered protection from its qop list (the Go client decides from it whether to unwrap
 * responses); a client holding a delegation token answers it in its INITIATE. */
static int digest_challenge(hd_auth_conn *a, const uint8_t **ch, size_t *chlen, char *msg,
                            size_t cap) {
    a->dg = hd_digest_new("", "default", "default", g_sec.rpc_qop, token_password, a, msg, cap);
    if (!a->dg) return -1;
    return hd_digest_challenge(a->dg, ch, chlen, msg, cap);
}

hd_auth_conn *hd_auth_conn_new(void) {
    hd_auth_conn *a = cav_calloc(1, sizeof *a);
    if (!a) return NULL;
    a->ctx = GSS_C_NO_CONTEXT;
    return a;
}

void hd_auth_conn_free(hd_auth_conn *a) {
    if (!a) return;
    OM_uint32 min;
    if (a->ctx != GSS_C_NO_CONTEXT) gss_delete_sec_context(&min, &a->ctx, GSS_C_NO_BUFFER);
    hd_digest_free(a->dg);
    cav_free(a);
}

bool hd_auth_done(const hd_auth_conn *a) {
    return a && a->state == 4;
}
const char *hd_auth_principal(const hd_auth_conn *a) {
    return a->principal;
}
const char *hd_auth_user(const hd_auth_conn *a) {
    return a->user;
}
int hd_auth_layer(const hd_auth_conn *a) {
    return a ? a->layer : 0;
}

static bool pack(const Hadoop__Common__RpcSaslProto *m, uint8_t **out, size_t *outlen) {
    size_t n = protobuf_c_message_get_packed_size(&m->base);
    *out = cav_malloc(n ? n : 1);
    if (!*out) return false;
    *outlen = protobuf_c_message_pack(&m->base, *out);
    return true;
}

/* Sends a CHALLENGE with tok (or fails). */
static int challenge(const void *tok, size_t n, uint8_t **out, size_t *outlen, char *msg,
                     size_t cap) {
    Hadoop__Common__RpcSaslProto m = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
    m.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__CHALLENGE;
    m.has_token = 1;
    m.token.data = (uint8_t *)tok;
    m.token.len = n;
    if (!pack(&m, out, outlen)) {
        snprintf(msg, cap, "out of memory");
        return HD_AUTH_FAIL;
    }
    return HD_AUTH_REPLY;
}

/* The context is established: check who it is, then offer the security layer. */
static int offer_layer(hd_auth_conn *a, gss_name_t src, uint8_t **out, size_t *outlen, char *msg,
                       size_t cap) {
    OM_uint32 maj, min;
    gss_buffer_desc dn = GSS_C_EMPTY_BUFFER;
    maj = gss_display_name(&min, src, &dn, NULL);
    if (GSS_ERROR(maj)) {
        snprintf(msg, cap, "cannot name the authenticated client");
        return HD_AUTH_FAIL;
    }
    snprintf(a->principal, sizeof a->principal, "%.*s", (int)dn.length, (const char *)dn.value);
    gss_release_buffer(&min, &dn);
    const char *at = strrchr(a->principal, '@');
    if (!at || strcmp(at + 1, g_sec.realm)) {
        snprintf(msg, cap,
                 "No rules applied to %s (auth_to_local DEFAULT maps only principals of realm "
                 "%s)",
                 a->principal, g_sec.realm);
        return HD_AUTH_FAIL;
    }
    size_t ul = strcspn(a->principal, "/@");
    if (ul == 0 || ul >= sizeof a->user) {
        snprintf(msg, cap, "bad client principal %s", a->principal);
        return HD_AUTH_FAIL;
    }
    memcpy(a->user, a->principal, ul);
    a->user[ul] = '\0';
    uint8_t offer[4] = {(uint8_t)g_sec.rpc_qop, 0xFF, 0xFF, 0xFF};
    gss_buffer_desc ob = {4, offer}, w = GSS_C_EMPTY_BUFFER;
    maj = gss_wrap(&min, a->ctx, 0, GSS_C_QOP_DEFAULT, &ob, NULL, &w);
    if (GSS_ERROR(maj)) {
        gss_text(maj, min, msg, cap);
        return HD_AUTH_FAIL;
    }
    int r = challenge(w.value, w.length, out, outlen, msg, cap);
    gss_release_buffer(&min, &w);
    a->state = 3;
    return r;
}

/* Feeds a context token to gss_accept_sec_context. */
static int accept_token(hd_auth_conn *a, const uint8_t *tok, size_t n, uint8_t **out,
                        size_t *outlen, char *msg, size_t cap) {
    OM_uint32 maj, min;
    gss_buffer_desc in = {n, (void *)tok}, o = GSS_C_EMPTY_BUFFER;
    gss_name_t src = GSS_C_NO_NAME;
    maj = gss_accept_sec_context(&min, &a->ctx, g_cred, &in, GSS_C_NO_CHANNEL_BINDINGS, &src, NULL,
                                 &o, NULL, NULL, NULL);
    if (GSS_ERROR(maj)) {
        char t[600];
        gss_text(maj, min, t, sizeof t);
        snprintf(msg, cap, "GSS initiate failed: %s", t);
        gss_release_buffer(&min, &o);
        return HD_AUTH_FAIL;
    }
    int r;
    if (maj & GSS_S_CONTINUE_NEEDED) {
        r = challenge(o.value, o.length, out, outlen, msg, cap);
        a->state = 2;
    } else if (o.length) { /* mutual authentication: the AP-REP first; an empty RESPONSE next */
        r = challenge(o.value, o.length, out, outlen, msg, cap);
        a->state = 2;
    } else {
        r = offer_layer(a, src, out, outlen, msg, cap);
    }
    if (src != GSS_C_NO_NAME) gss_release_name(&min, &src);
    gss_release_buffer(&min, &o);
    return r;
}

static int context_complete(const hd_auth_conn *a) {
    OM_uint32 min, maj;
    int open = 0;
    maj = gss_inquire_context(&min, a->ctx, NULL, NULL, NULL, NULL, NULL, NULL, &open);
    return !GSS_ERROR(maj) && open;
}

/* TOKEN: the client's DIGEST-MD5 response (in its INITIATE) to our NEGOTIATE challenge;
 * Cyrus checks it with the token's password; the SUCCESS carries the rspauth. */
static int token_step(hd_auth_conn *a, const uint8_t *tok, size_t n, uint8_t **out, size_t *outlen,
                      char *msg, size_t cap) {
    const uint8_t *o = NULL;
    size_t ol = 0;
    a->principal[0] = '\0';
    if (hd_digest_step(a->dg, tok, n, &o, &ol, msg, cap) != 1) return HD_AUTH_FAIL;
    size_t ul = strcspn(a->principal, "/@");
    if (!a->principal[0] || ul == 0 || ul >= sizeof a->user) {
        snprintf(msg, cap, "the token names no owner");
        return HD_AUTH_FAIL;
    }
    memcpy(a->user, a->principal, ul);
    a->user[ul] = '\0';
    Hadoop__Common__RpcSaslProto ok = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
    ok.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__SUCCESS;
    ok.has_token = ol > 0;
    ok.token.data = (uint8_t *)o;
    ok.token.len = ol;
    if (!pack(&ok, out, outlen)) {
        snprintf(msg, cap, "out of memory");
        return HD_AUTH_FAIL;
    }
    a->layer = hd_digest_layer(a->dg);
    a->via_token = true;
    a->state = 4;
    return HD_AUTH_DONE;
}

int hd_auth_step(hd_auth_conn *a, const uint8_t *m, size_t ml, uint8_t **out, size_t *outlen,
                 char *msg, size_t cap) {
    *out = NULL;
    *outlen = 0;
    Hadoop__Common__RpcSaslProto *s = hadoop__common__rpc_sasl_proto__unpack(NULL, ml, m);
    if (!s) {
        snprintf(msg, cap, "undecodable SASL message");
        return HD_AUTH_FAIL;
    }
    int r = HD_AUTH_FAIL;
    OM_uint32 min, maj;
    switch (a->state) {
    case 0:
        if (s->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__NEGOTIATE) {
            snprintf(msg, cap, "SASL negotiation must start with NEGOTIATE");
            break;
        }
        {
            char proto[256];
            snprintf(proto, sizeof proto, "%s", g_sec.principal);
            proto[strcspn(proto, "/@")] = '\0';
            char host[256];
            const char *sl = strchr(g_sec.principal, '/');
            snprintf(host, sizeof host, "%s", sl ? sl + 1 : "");
            host[strcspn(host, "@")] = '\0';
            Hadoop__Common__RpcSaslProto__SaslAuth k =
                HADOOP__COMMON__RPC_SASL_PROTO__SASL_AUTH__INIT;
            k.method = "KERBEROS";
            k.mechanism = "GSSAPI";
            k.protocol = proto;
            k.serverid = host;
            const uint8_t *ch = NULL;
            size_t chlen = 0;
            if (digest_challenge(a, &ch, &chlen, msg, cap)) break;
            Hadoop__Common__RpcSaslProto__SaslAuth t =
                HADOOP__COMMON__RPC_SASL_PROTO__SASL_AUTH__INIT;
            t.method = "TOKEN";
            t.mechanism = "DIGEST-MD5";
            t.protocol = "";
            t.serverid = "default";
            t.has_challenge = 1;
            t.challenge.data = (uint8_t *)ch;
            t.challenge.len = chlen;
            Hadoop__Common__RpcSaslProto__SaslAuth *auths[2] = {&t, &k};
            Hadoop__Common__RpcSaslProto n = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
            n.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__NEGOTIATE;
            n.n_auths = 2;
            n.auths = auths;
            if (!pack(&n, out, outlen)) {
                snprintf(msg, cap, "out of memory");
                break;
            }
            a->state = 1;
            r = HD_AUTH_REPLY;
        }
        break;
    case 1:
        if (s->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__INITIATE || s->n_auths != 1 ||
            !s->auths[0]->method || !s->auths[0]->mechanism) {
            snprintf(msg, cap, "expected SASL INITIATE with one auth");
            break;
        }
        if (!strcmp(s->auths[0]->method, "TOKEN") &&
            !strcmp(s->auths[0]->mechanism, "DIGEST-MD5") && a->dg) {
            r = token_step(a, s->token.data, s->token.len, out, outlen, msg, cap);
            break;
        }
        if (strcmp(s->auths[0]->method, "KERBEROS") || strcmp(s->auths[0]->mechanism, "GSSAPI")) {
            char meth[64];
            size_t i = 0;
            for (; s->auths[0]->method[i] && i + 1 < sizeof meth; i++) {
                char ch = s->auths[0]->method[i];
                meth[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
            }
            meth[i] = '\0';
            snprintf(msg, cap,
                     "Client cannot authenticate via:[%s] (server offers TOKEN, KERBEROS)", meth);
            break;
        }
        if (g_cred == GSS_C_NO_CREDENTIAL) {
            snprintf(msg, cap, "the server has no Kerberos credentials");
            break;
        }
        r = accept_token(a, s->token.data, s->token.len, out, outlen, msg, cap);
        break;
    case 2:
        if (s->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__RESPONSE) {
            snprintf(msg, cap, "expected SASL RESPONSE");
            break;
        }
        if (!context_complete(a)) {
            r = accept_token(a, s->token.data, s->token.len, out, outlen, msg, cap);
        } else { /* the empty answer to our mutual-auth token */
            gss_name_t src = GSS_C_NO_NAME;
            maj = gss_inquire_context(&min, a->ctx, &src, NULL, NULL, NULL, NULL, NULL, NULL);
            if (GSS_ERROR(maj)) {
                snprintf(msg, cap, "lost the GSS context");
                break;
            }
            r = offer_layer(a, src, out, outlen, msg, cap);
            gss_release_name(&min, &src);
        }
        break;
    case 3: {
        if (s->state != HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__RESPONSE) {
            snprintf(msg, cap, "expected SASL RESPONSE with the security layer choice");
            break;
        }
        gss_buffer_desc in = {s->token.len, s->token.data}, p = GSS_C_EMPTY_BUFFER;
        maj = gss_unwrap(&min, a->ctx, &in, &p, NULL, NULL);
        if (GSS_ERROR(maj)) {
            char t[500];
            gss_text(maj, min, t, sizeof t);
            snprintf(msg, cap, "bad security layer choice: %s", t);
            break;
        }
        const uint8_t *c = p.value;
        int chosen = 0;
        if (p.length >= 4) {
            unsigned bits = c[0] & (unsigned)g_sec.rpc_qop;
            chosen = bits & HD_QOP_PRIVACY     ? HD_QOP_PRIVACY
                     : bits & HD_QOP_INTEGRITY ? HD_QOP_INTEGRITY
                     : bits & HD_QOP_AUTH      ? HD_QOP_AUTH
                                               : 0;
        }
        size_t azl = p.length > 4 ? p.length - 4 : 0;
        bool az_ok = azl == 0 || (azl == strlen(a->principal) &&
                                  !memcmp((const char *)p.value + 4, a->principal, azl));
        if (!chosen) {
            snprintf(msg, cap,
                     "No common protection layer between client and server (server offers "
                     "%s)",
                     hd_qop_name(g_sec.rpc_qop));
        } else if (!az_ok) {
            snprintf(msg, cap, "User: %s is not allowed to impersonate %.*s", a->principal,
                     (int)CAV_MIN(azl, (size_t)200), (const char *)p.value + 4);
        } else {
            Hadoop__Common__RpcSaslProto ok = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
            ok.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__SUCCESS;
            if (pack(&ok, out, outlen)) {
                a->layer = chosen;
                a->state = 4;
                r = HD_AUTH_DONE;
            } else {
                snprintf(msg, cap, "out of memory");
            }
        }
        gss_release_buffer(&min, &p);
        break;
    }
    default:
        snprintf(msg, cap, "SASL message after authentication");
    }
    hadoop__common__rpc_sasl_proto__free_unpacked(s, NULL);
    return r;
}

bool hd_auth_via_token(const hd_auth_conn *a) {
    return a && a->via_token;
}

bool hd_auth_wrap(hd_auth_conn *a, const uint8_t *p, size_t n, uint8_t **out, size_t *outlen) {
    if (a->via_token) {
        uint8_t *w = NULL;
        size_t wl = 0;
        if (!hd_digest_wrap(a->dg, p, n, &w, &wl)) return false;
        Hadoop__Common__RpcSaslProto m = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
        m.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__WRAP;
        m.has_token = 1;
        m.token.data = w;
        m.token.len = wl;
        bool ok = pack(&m, out, outlen);
        cav_free(w);
        return ok;
    }
    OM_uint32 maj, min;
    gss_buffer_desc in = {n, (void *)p}, w = GSS_C_EMPTY_BUFFER;
    maj = gss_wrap(&min, a->ctx, a->layer == HD_QOP_PRIVACY, GSS_C_QOP_DEFAULT, &in, NULL, &w);
    if (GSS_ERROR(maj)) return false;
    Hadoop__Common__RpcSaslProto m = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
    m.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__WRAP;
    m.has_token = 1;
    m.token.data = w.value;
    m.token.len = w.length;
    bool ok = pack(&m, out, outlen);
    gss_release_buffer(&min, &w);
    return ok;
}

int hd_auth_unwrap(hd_auth_conn *a, const uint8_t *m, size_t ml, uint8_t **out, size_t *outlen) {
    Hadoop__Common__RpcSaslProto *s = hadoop__common__rpc_sasl_proto__unpack(NULL, ml, m);
    if (!s) return -1;
    int r = 0;
    if (s->state == HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__WRAP && a->via_token) {
        const uint8_t *o = NULL;
        size_t ol = 0;
        r = -1;
        if (hd_digest_unwrap(a->dg, s->token.data, s->token.len, &o, &ol)) {
            *out = cav_malloc(ol ? ol : 1);
            if (*out) {
                if (ol) memcpy(*out, o, ol);
                *outlen = ol;
                r = 1;
            }
        }
    } else if (s->state == HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__WRAP) {
        OM_uint32 maj, min;
        int conf = 0;
        gss_buffer_desc in = {s->token.len, s->token.data}, p = GSS_C_EMPTY_BUFFER;
        maj = gss_unwrap(&min, a->ctx, &in, &p, &conf, NULL);
        r = -1;
        if (!GSS_ERROR(maj) && (conf || a->layer != HD_QOP_PRIVACY)) {
            *out = cav_malloc(p.length ? p.length : 1);
            if (*out) {
                if (p.length) memcpy(*out, p.value, p.length);
                *outlen = p.length;
                r = 1;
            }
        }
        gss_release_buffer(&min, &p);
    }
    hadoop__common__rpc_sasl_proto__free_unpacked(s, NULL);
    return r;
}
