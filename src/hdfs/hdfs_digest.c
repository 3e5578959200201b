/*
 * hdfs_digest.c — SASL DIGEST-MD5 client through Cyrus SASL (see hdfs_digest.h).
 *
 * Cyrus is initialised once per process (pthread_once): its mutex hooks become pthread
 * mutexes and its log goes nowhere (it would write to syslog). Each cav_digest is one
 * sasl_conn_t whose callbacks hand out this object's user name, password and the realm the
 * server offers. The acceptable layers become Cyrus's security strength bounds:
 * authentication = SSF 0, integrity = 1, privacy = 2..256 (a cipher); the layer Cyrus chose is
 * checked against the set afterwards (a set such as authentication+privacy is not a range).
 */
#include "hdfs_digest.h"

#include "../core/core_dl.h"

#include <pthread.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cyrus SASL, loaded when a connection authenticates with a token (DIGEST-MD5: delegation tokens
 * on a NameNode, block tokens on a DataNode; core_dl.h): only secure clusters need it. */
/* clang-format off */
#define SASL_FUNCS(X) \
    X(sasl_set_mutex) X(sasl_client_init) X(sasl_client_new) X(sasl_setprop) \
    X(sasl_client_start) X(sasl_client_step) X(sasl_getprop) X(sasl_encode) X(sasl_decode) \
    X(sasl_errdetail) X(sasl_errstring) X(sasl_dispose)
/* clang-format on */
struct sasl_api {
    SASL_FUNCS(CAV_DL_FIELD)
};
#define SASL_SYM(f) CAV_DL_SYM(struct sasl_api, f)
static const cav_dl_sym sasl_syms[] = {SASL_FUNCS(SASL_SYM)};
static struct sasl_api cy; /* written once by cav_dl_load, read-only afterwards */
static cav_dl_lib sasl_lib = CAV_DL_LIB(CAV_SONAME_LIBSASL2, 0, sasl_syms, &cy);

/* Cyrus keeps every callback as int (*)(void) (the real type depends on the id). */
#define CB(f) ((int (*)(void))(void (*)(void))(f))

struct cav_digest {
    sasl_conn_t *conn;
    char *user;
    sasl_secret_t *secret;
    unsigned qops;
    int done;
    sasl_callback_t cb[4];
};

/* ---------------------------------------------------------------- process-wide set-up */

static int log_quiet(void *ctx, int level, const char *msg) {
    (void)ctx, (void)level, (void)msg;
    return SASL_OK;
}

static const sasl_callback_t g_callbacks[] = {
    {SASL_CB_LOG, CB(log_quiet), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_rc = SASL_FAIL;

static void init_once(void) {
    cy.sasl_set_mutex(cav_mutex_new, cav_mutex_lock, cav_mutex_unlock, cav_mutex_free);
    g_init_rc = cy.sasl_client_init(g_callbacks);
}

/* ---------------------------------------------------------------- callbacks */

static int cb_simple(void *ctx, int id, const char **result, unsigned *len) {
    cav_digest *d = ctx;
    if (id != SASL_CB_AUTHNAME) return SASL_BADPARAM;
    *result = d->user;
    if (len) *len = (unsigned)strlen(d->user);
    return SASL_OK;
}

static int cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret) {
    (void)conn;
    cav_digest *d = ctx;
    if (id != SASL_CB_PASS) return SASL_BADPARAM;
    *psecret = d->secret;
    return SASL_OK;
}

/* Hadoop's servers offer one realm ("0" on DataNodes, "default" on NameNodes): take it. */
static int cb_realm(void *ctx, int id, const char **avail, const char **result) {
    (void)ctx;
    if (id != SASL_CB_GETREALM) return SASL_BADPARAM;
    *result = avail && avail[0] ? avail[0] : "";
    return SASL_OK;
}

/* ---------------------------------------------------------------- API */

/* "integrity or privacy" */
static const char *qop_set(unsigned q, char *buf, size_t cap) {
    static const char *const names[] = {"authentication", "integrity", "privacy"};
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < 3; i++)
        if (q & (1u << i))
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " or " : "", names[i]);
    return buf;
}

static csvavro_status sasl_fail(cav_digest *d, int r, const char *what, csvavro_error *err) {
    const char *why = d && d->conn ? cy.sasl_errdetail(d->conn) : cy.sasl_errstring(r, NULL, NULL);
    return cav_err(err, r == SASL_NOMEM ? CSVAVRO_E_NOMEM : CSVAVRO_E_PROTOCOL, "DIGEST-MD5 %s: %s",
                   what, why ? why : "failed");
}

csvavro_status cav_digest_client_new(const char *service, const char *server, const char *user,
                                     const char *password, unsigned qops, cav_digest **out,
                                     csvavro_error *err) {
    *out = NULL;
    CAV_TRY(cav_dl_load(&sasl_lib, "SASL DIGEST-MD5 (tokens)", err));
    pthread_once(&g_once, init_once);
    if (g_init_rc != SASL_OK)
        return cav_err(err, CSVAVRO_E_UNSUPPORTED, "Cyrus SASL client init: %s",
                       cy.sasl_errstring(g_init_rc, NULL, NULL));
    if (!(qops & (CAV_QOP_AUTH | CAV_QOP_INTEGRITY | CAV_QOP_PRIVACY)))
        return cav_err(err, CSVAVRO_E_USAGE, "DIGEST-MD5: no protection level accepted");
    cav_digest *d = cav_calloc(1, sizeof *d);
    size_t pl = strlen(password);
    if (d) d->user = cav_strdup(user);
    if (d) d->secret = cav_malloc(sizeof(sasl_secret_t) + pl + 1);
    if (!d || !d->user || !d->secret) {
        cav_digest_free(d);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    d->secret->len = pl;
    memcpy(d->secret->data, password, pl + 1);
    d->qops = qops;
    d->cb[0] = (sasl_callback_t){SASL_CB_AUTHNAME, CB(cb_simple), d};
    d->cb[1] = (sasl_callback_t){SASL_CB_PASS, CB(cb_pass), d};
    d->cb[2] = (sasl_callback_t){SASL_CB_GETREALM, CB(cb_realm), d};
    d->cb[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    int r = cy.sasl_client_new(service, server, NULL, NULL, d->cb, 0, &d->conn);
    if (r == SASL_OK) {
        sasl_security_properties_t sp;
        memset(&sp, 0, sizeof sp);
        sp.min_ssf = qops & CAV_QOP_AUTH ? 0 : qops & CAV_QOP_INTEGRITY ? 1 : 2;
        sp.max_ssf = qops & CAV_QOP_PRIVACY ? 256 : qops & CAV_QOP_INTEGRITY ? 1 : 0;
        sp.maxbufsize = CAV_DIGEST_MAXBUF;
        r = cy.sasl_setprop(d->conn, SASL_SEC_PROPS, &sp);
    }
    const char *o = NULL, *mech = NULL;
    unsigned ol = 0;
    if (r == SASL_OK) r = cy.sasl_client_start(d->conn, "DIGEST-MD5", NULL, &o, &ol, &mech);
    if (r != SASL_CONTINUE) { /* DIGEST-MD5 has no initial response: the server speaks first */
        csvavro_status st = sasl_fail(d, r, "client start", err);
        cav_digest_free(d);
        return st;
    }
    *out = d;
    return CSVAVRO_OK;
}

void cav_digest_free(cav_digest *d) {
    if (!d) return;
    if (d->conn) cy.sasl_dispose(&d->conn);
    if (d->secret) {
        explicit_bzero(d->secret->data, d->secret->len);
        cav_free(d->secret);
    }
    cav_free(d->user);
    cav_free(d);
}

csvavro_status cav_digest_step(cav_digest *d, const uint8_t *in, size_t n, const uint8_t **out,
                               size_t *outlen, int *done, csvavro_error *err) {
    *out = NULL;
    *outlen = 0;
    *done = 0;
    if (d->done) return cav_err(err, CSVAVRO_E_PROTOCOL, "DIGEST-MD5: exchange already complete");
    if (n > 65535) return cav_err(err, CSVAVRO_E_PROTOCOL, "DIGEST-MD5 challenge too long");
    const char *o = NULL;
    unsigned ol = 0;
    int r = cy.sasl_client_step(d->conn, (const char *)in, (unsigned)n, NULL, &o, &ol);
    if (r != SASL_OK && r != SASL_CONTINUE) {
        unsigned offered = cav_digest_offered(in, n);
        char a[64], b[64];
        if (offered && !(offered & d->qops))
            return cav_err(err, CSVAVRO_E_PERMISSION,
                           "protection mismatch: the server offers %s, this client accepts %s",
                           qop_set(offered, a, sizeof a), qop_set(d->qops, b, sizeof b));
        return sasl_fail(d, r, "authentication", err);
    }
    *out = (const uint8_t *)o;
    *outlen = ol;
    if (r == SASL_OK) {
        unsigned layer = cav_digest_layer(d);
        if (!(layer & d->qops))
            return cav_err(err, CSVAVRO_E_PERMISSION,
                           "protection mismatch: negotiated %s, which this client does not accept",
                           cav_hdfs_qop_name((int)layer));
        d->done = 1;
        *done = 1;
    }
    return CSVAVRO_OK;
}

unsigned cav_digest_layer(const cav_digest *d) {
    const void *v = NULL;
    if (!d || cy.sasl_getprop(d->conn, SASL_SSF, &v) != SASL_OK || !v) return CAV_QOP_AUTH;
    sasl_ssf_t ssf = *(const sasl_ssf_t *)v;
    return ssf == 0 ? CAV_QOP_AUTH : ssf == 1 ? CAV_QOP_INTEGRITY : CAV_QOP_PRIVACY;
}

size_t cav_digest_maxout(const cav_digest *d) {
    const void *v = NULL;
    if (cy.sasl_getprop(d->conn, SASL_MAXOUTBUF, &v) != SASL_OK || !v) return 4096;
    unsigned m = *(const unsigned *)v;
    return m ? m : 4096;
}

csvavro_status cav_digest_encode(cav_digest *d, const uint8_t *p, size_t n, cav_buf *out,
                                 csvavro_error *err) {
    size_t max = cav_digest_maxout(d);
    while (n) {
        size_t k = CAV_MIN(n, max);
        const char *o = NULL;
        unsigned ol = 0;
        int r = cy.sasl_encode(d->conn, (const char *)p, (unsigned)k, &o, &ol);
        if (r != SASL_OK) return sasl_fail(d, r, "encode", err);
        CAV_TRY(cav_buf_append(out, o, ol, err));
        p += k;
        n -= k;
    }
    return CSVAVRO_OK;
}

csvavro_status cav_digest_decode(cav_digest *d, const uint8_t *frame, size_t n, const uint8_t **out,
                                 size_t *outlen, csvavro_error *err) {
    *out = NULL;
    *outlen = 0;
    if (n < 4 || cav_be32_get(frame) != n - 4)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "DIGEST-MD5 frame length does not match");
    const char *o = NULL;
    unsigned ol = 0;
    int r = cy.sasl_decode(d->conn, (const char *)frame, (unsigned)n, &o, &ol);
    if (r != SASL_OK) return sasl_fail(d, r, "integrity check", err);
    *out = (const uint8_t *)o;
    *outlen = ol;
    return CSVAVRO_OK;
}

csvavro_status cav_digest_wrap(cav_digest *d, const uint8_t *p, size_t n, cav_buf *out,
                               csvavro_error *err) {
    if (n > cav_digest_maxout(d))
        return cav_err(err, CSVAVRO_E_LIMIT, "DIGEST-MD5: %zu bytes exceed the peer's buffer", n);
    const char *o = NULL;
    unsigned ol = 0;
    int r = cy.sasl_encode(d->conn, (const char *)p, (unsigned)n, &o, &ol);
    if (r != SASL_OK) return sasl_fail(d, r, "wrap", err);
    if (ol < 4) return cav_err(err, CSVAVRO_E_PROTOCOL, "DIGEST-MD5: short wrap");
    return cav_buf_append(out, o + 4, ol - 4, err);
}

csvavro_status cav_digest_unwrap(cav_digest *d, const uint8_t *tok, size_t n, const uint8_t **out,
                                 size_t *outlen, csvavro_error *err) {
    if (n > CAV_DIGEST_MAXBUF)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "DIGEST-MD5 token of %zu bytes too long", n);
    uint8_t *f = cav_malloc(n + 4);
    if (!f) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    cav_be32_put(f, (uint32_t)n);
    if (n) memcpy(f + 4, tok, n);
    csvavro_status st = cav_digest_decode(d, f, n + 4, out, outlen, err);
    cav_free(f);
    return st;
}

/* The value of directive name in a DIGEST-MD5 challenge ("k=v" or k="v", comma separated). */
static int directive(const uint8_t *s, size_t n, const char *name, const uint8_t **v, size_t *vl) {
    size_t nl = strlen(name), i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == ',' || s[i] == '\t'))
            i++;
        size_t k0 = i;
        while (i < n && s[i] != '=' && s[i] != ',')
            i++;
        size_t kl = i - k0;
        while (kl && s[k0 + kl - 1] == ' ')
            kl--;
        if (i >= n || s[i] != '=') continue;
        i++;
        while (i < n && s[i] == ' ')
            i++;
        size_t v0, v1;
        if (i < n && s[i] == '"') {
            v0 = ++i;
            while (i < n && s[i] != '"')
                i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
            v1 = CAV_MIN(i, n);
            if (i < n) i++;
        } else {
            v0 = i;
            while (i < n && s[i] != ',')
                i++;
            v1 = i;
        }
        if (kl == nl && !strncmp((const char *)s + k0, name, nl)) {
            *v = s + v0;
            *vl = v1 - v0;
            return 1;
        }
    }
    return 0;
}

unsigned cav_digest_offered(const uint8_t *ch, size_t n) {
    const uint8_t *v;
    size_t vl;
    if (!directive(ch, n, "nonce", &v, &vl)) return 0;
    if (!directive(ch, n, "qop", &v, &vl)) return CAV_QOP_AUTH;
    unsigned q = 0;
    for (size_t i = 0; i < vl;) {
        while (i < vl && (v[i] == ',' || v[i] == ' '))
            i++;
        size_t t0 = i;
        while (i < vl && v[i] != ',' && v[i] != ' ')
            i++;
        size_t tl = i - t0;
        if (tl == 4 && !memcmp(v + t0, "auth", 4)) q |= CAV_QOP_AUTH;
        if (tl == 8 && !memcmp(v + t0, "auth-int", 8)) q |= CAV_QOP_INTEGRITY;
        if (tl == 9 && !memcmp(v + t0, "auth-conf", 9)) q |= CAV_QOP_PRIVACY;
    }
    return q;
}

csvavro_status cav_base64(const uint8_t *p, size_t n, cav_buf *out, csvavro_error *err) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n > (1u << 20)) return cav_err(err, CSVAVRO_E_LIMIT, "base64 input too long");
    CAV_TRY(cav_buf_reserve(out, 4 * ((n + 2) / 3) + 1, err));
    uint8_t *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = (uint8_t)A[v >> 18];
        *o++ = (uint8_t)A[(v >> 12) & 63];
        *o++ = (uint8_t)A[(v >> 6) & 63];
        *o++ = (uint8_t)A[v & 63];
    }
    if (i < n) { /* one or two bytes left: "xx==" or "xxx=" */
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = (uint8_t)A[v >> 18];
        *o++ = (uint8_t)A[(v >> 12) & 63];
        *o++ = i + 1 < n ? (uint8_t)A[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = 0;
    out->len = (size_t)(o - out->data);
    return CSVAVRO_OK;
}
