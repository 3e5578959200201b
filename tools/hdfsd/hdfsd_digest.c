/*
 * hdfsd_digest.c — SASL DIGEST-MD5 server through Cyrus SASL (see hdfsd_digest.h).
 *
 * Cyrus's DIGEST-MD5 server takes the password from an auxiliary property ("userPassword"):
 * an in-process auxprop plugin ("csvavro") answers it by calling the password callback of the
 * hd_digest whose step runs on this thread (a thread-local pointer set around
 * sasl_server_step; Cyrus looks the password up synchronously inside it). Only that plugin is
 * consulted (option auxprop_plugin), nothing is read from a sasldb, and Cyrus's log (syslog by
 * default) goes nowhere unless -v.
 */
#include "hdfsd_digest.h"
#include "core/core.h"
#include "hdfsd.h"
#include "hdfsd_auth.h"

#include <pthread.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cyrus keeps every callback as int (*)(void) (the real type depends on the id). */
#define CB(f) ((int (*)(void))(void (*)(void))(f))

struct hd_digest {
    sasl_conn_t *conn;
    hd_digest_pw_fn fn;
    void *ctx;
    int qops;
    bool done, refused;
    char realm[64];
    char user[2048]; /* the authenticated user, realm suffix removed */
    char why[300];   /* the password callback's refusal */
    sasl_callback_t cb[2];
};

static __thread hd_digest *tl_cur;

/* ---------------------------------------------------------------- the auxprop plugin */

static int ap_lookup(void *glob, sasl_server_params_t *sp, unsigned flags, const char *user,
                     unsigned ulen) {
    (void)glob;
    hd_digest *d = tl_cur;
    if (!d || !sp || !user) return SASL_NOUSER;
    if (flags & SASL_AUXPROP_AUTHZID) return SASL_OK; /* only the authentication id */
    char u[2048];
    if (ulen >= sizeof u) {
        snprintf(d->why, sizeof d->why, "user name too long");
        d->refused = true;
        return SASL_NOUSER;
    }
    memcpy(u, user, ulen);
    u[ulen] = 0;
    /* Cyrus qualifies the name with the realm: user@realm */
    char *at = strrchr(u, '@');
    if (at && !strcmp(at + 1, d->realm)) *at = 0;
    const struct propval *want = sp->utils->prop_get(sp->propctx);
    for (const struct propval *c = want; c && c->name; c++) {
        if (c->name[0] != '*' || strcmp(c->name + 1, SASL_AUX_PASSWORD_PROP)) continue;
        if (c->values && !(flags & SASL_AUXPROP_OVERRIDE)) continue;
        if (c->values) sp->utils->prop_erase(sp->propctx, c->name);
        char pw[512];
        if (d->fn(d->ctx, u, pw, sizeof pw, d->why, sizeof d->why)) {
            d->refused = true;
            return SASL_NOUSER;
        }
        sp->utils->prop_set(sp->propctx, c->name, pw, (unsigned)strlen(pw));
        memset(pw, 0, sizeof pw);
    }
    return SASL_OK;
}

static sasl_auxprop_plug_t ap_plug = {
    .features = 0,
    .auxprop_lookup = ap_lookup,
    .name = "csvavro",
};

static int ap_init(const sasl_utils_t *utils, int max_version, int *out_version,
                   sasl_auxprop_plug_t **plug, const char *plugname) {
    (void)utils, (void)plugname;
    if (max_version < SASL_AUXPROP_PLUG_VERSION) return SASL_BADVERS;
    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *plug = &ap_plug;
    return SASL_OK;
}

/* ---------------------------------------------------------------- process-wide set-up */

static int cb_log(void *ctx, int level, const char *msg) {
    (void)ctx;
    if (g_hd.verbose && level <= SASL_LOG_WARN) hd_log("Cyrus SASL: %s", msg);
    return SASL_OK;
}

static int cb_getopt(void *ctx, const char *plugin, const char *option, const char **result,
                     unsigned *len) {
    (void)ctx, (void)plugin;
    if (!strcmp(option, "auxprop_plugin")) {
        *result = "csvavro";
        if (len) *len = 7;
        return SASL_OK;
    }
    return SASL_FAIL;
}

static const sasl_callback_t g_callbacks[] = {
    {SASL_CB_LOG, CB(cb_log), NULL},
    {SASL_CB_GETOPT, CB(cb_getopt), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_rc = SASL_FAIL;
static const char *g_what = "";

static void init_once(void) {
    sasl_set_mutex(cav_mutex_new, cav_mutex_lock, cav_mutex_unlock, cav_mutex_free);
    g_what = "sasl_server_init";
    g_rc = sasl_server_init(g_callbacks, "csvavro-hdfsd");
    if (g_rc != SASL_OK) return;
    g_what = "adding the password plugin";
    g_rc = sasl_auxprop_add_plugin("csvavro", ap_init);
}

int hd_digest_init(char *msg, size_t cap) {
    pthread_once(&g_once, init_once);
    if (g_rc == SASL_OK) return 0;
    snprintf(msg, cap, "Cyrus SASL: %s: %s", g_what, sasl_errstring(g_rc, NULL, NULL));
    return -1;
}

/* ---------------------------------------------------------------- per connection */

hd_digest *hd_digest_new(const char *service, const char *server_fqdn, const char *realm, int qops,
                         hd_digest_pw_fn fn, void *ctx, char *msg, size_t cap) {
    if (hd_digest_init(msg, cap)) return NULL;
    hd_digest *d = cav_calloc(1, sizeof *d);
    if (!d) {
        snprintf(msg, cap, "out of memory");
        return NULL;
    }
    d->fn = fn;
    d->ctx = ctx;
    d->qops = qops;
    snprintf(d->realm, sizeof d->realm, "%s", realm);
    d->cb[0] = (sasl_callback_t){SASL_CB_GETOPT, CB(cb_getopt), NULL};
    d->cb[1] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    int r = sasl_server_new(service, server_fqdn, realm, NULL, NULL, d->cb, SASL_SUCCESS_DATA,
                            &d->conn);
    if (r == SASL_OK) {
        sasl_security_properties_t sp;
        memset(&sp, 0, sizeof sp);
        sp.min_ssf = qops & HD_QOP_AUTH ? 0 : qops & HD_QOP_INTEGRITY ? 1 : 2;
        sp.max_ssf = qops & HD_QOP_PRIVACY ? 256 : qops & HD_QOP_INTEGRITY ? 1 : 0;
        sp.maxbufsize = HD_DIGEST_MAXBUF;
        r = sasl_setprop(d->conn, SASL_SEC_PROPS, &sp);
    }
    if (r != SASL_OK) {
        snprintf(msg, cap, "DIGEST-MD5 server: %s",
                 d->conn ? sasl_errdetail(d->conn) : sasl_errstring(r, NULL, NULL));
        hd_digest_free(d);
        return NULL;
    }
    return d;
}

void hd_digest_free(hd_digest *d) {
    if (!d) return;
    if (d->conn) sasl_dispose(&d->conn);
    cav_free(d);
}

int hd_digest_challenge(hd_digest *d, const uint8_t **out, size_t *outlen, char *msg, size_t cap) {
    const char *o = NULL;
    unsigned ol = 0;
    int r = sasl_server_start(d->conn, "DIGEST-MD5", NULL, 0, &o, &ol);
    if (r != SASL_CONTINUE) {
        snprintf(msg, cap, "DIGEST-MD5 challenge: %s", sasl_errdetail(d->conn));
        return -1;
    }
    *out = (const uint8_t *)o;
    *outlen = ol;
    return 0;
}

int hd_digest_step(hd_digest *d, const uint8_t *in, size_t n, const uint8_t **out, size_t *outlen,
                   char *msg, size_t cap) {
    *out = NULL;
    *outlen = 0;
    if (d->done || n > 65535) {
        snprintf(msg, cap,
                 d->done ? "DIGEST-MD5 already complete" : "DIGEST-MD5 response too long");
        return -1;
    }
    const char *o = NULL;
    unsigned ol = 0;
    tl_cur = d;
    int r = sasl_server_step(d->conn, (const char *)in, (unsigned)n, &o, &ol);
    tl_cur = NULL;
    if (r != SASL_OK) {
        if (d->refused)
            snprintf(msg, cap, "%s", d->why);
        else
            snprintf(msg, cap, "DIGEST-MD5 authentication failed: %s",
                     r == SASL_CONTINUE ? "unexpected continuation" : sasl_errdetail(d->conn));
        return -1;
    }
    int layer = hd_digest_layer(d);
    if (!(layer & d->qops)) {
        snprintf(msg, cap, "DIGEST-MD5: negotiated %s, not offered", hd_qop_name(layer));
        return -1;
    }
    const void *u = NULL;
    if (sasl_getprop(d->conn, SASL_USERNAME, &u) == SASL_OK && u) {
        snprintf(d->user, sizeof d->user, "%s", (const char *)u);
        char *at = strrchr(d->user, '@');
        if (at && !strcmp(at + 1, d->realm)) *at = 0;
    }
    d->done = true;
    *out = (const uint8_t *)o;
    *outlen = ol;
    return 1;
}

int hd_digest_layer(const hd_digest *d) {
    const void *v = NULL;
    if (!d || sasl_getprop(d->conn, SASL_SSF, &v) != SASL_OK || !v) return HD_QOP_AUTH;
    sasl_ssf_t ssf = *(const sasl_ssf_t *)v;
    return ssf == 0 ? HD_QOP_AUTH : ssf == 1 ? HD_QOP_INTEGRITY : HD_QOP_PRIVACY;
}

const char *hd_digest_user(const hd_digest *d) {
    return d && d->done ? d->user : "";
}

bool hd_digest_user_refused(const hd_digest *d) {
    return d && d->refused;
}

size_t hd_digest_maxout(hd_digest *d) {
    const void *v = NULL;
    if (sasl_getprop(d->conn, SASL_MAXOUTBUF, &v) != SASL_OK || !v) return 4096;
    unsigned m = *(const unsigned *)v;
    return m ? m : 4096;
}

static unsigned maxout(hd_digest *d) {
    const void *v = NULL;
    if (sasl_getprop(d->conn, SASL_MAXOUTBUF, &v) != SASL_OK || !v) return 4096;
    unsigned m = *(const unsigned *)v;
    return m ? m : 4096;
}

bool hd_digest_encode(hd_digest *d, const uint8_t *p, size_t n, uint8_t **out, size_t *outlen) {
    size_t max = maxout(d), cap = n + (n / max + 1) * 64, len = 0;
    uint8_t *b = cav_malloc(cap);
    if (!b) return false;
    while (n) {
        size_t k = n < max ? n : max;
        const char *o = NULL;
        unsigned ol = 0;
        if (sasl_encode(d->conn, (const char *)p, (unsigned)k, &o, &ol) != SASL_OK ||
            len + ol > cap) {
            cav_free(b);
            return false;
        }
        memcpy(b + len, o, ol);
        len += ol;
        p += k;
        n -= k;
    }
    *out = b;
    *outlen = len;
    return true;
}

bool hd_digest_decode(hd_digest *d, const uint8_t *frame, size_t n, const uint8_t **out,
                      size_t *outlen) {
    if (n < 4 || ((uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 | (uint32_t)frame[2] << 8 |
                  frame[3]) != n - 4)
        return false;
    const char *o = NULL;
    unsigned ol = 0;
    if (sasl_decode(d->conn, (const char *)frame, (unsigned)n, &o, &ol) != SASL_OK) return false;
    *out = (const uint8_t *)o;
    *outlen = ol;
    return true;
}

bool hd_digest_wrap(hd_digest *d, const uint8_t *p, size_t n, uint8_t **out, size_t *outlen) {
    if (n > maxout(d)) return false;
    uint8_t *b;
    size_t bl;
    if (!hd_digest_encode(d, p, n, &b, &bl) || bl < 4) return false;
    memmove(b, b + 4, bl - 4);
    *out = b;
    *outlen = bl - 4;
    return true;
}

bool hd_digest_unwrap(hd_digest *d, const uint8_t *tok, size_t n, const uint8_t **out,
                      size_t *outlen) {
    if (n > HD_DIGEST_MAXBUF) return false;
    uint8_t *f = cav_malloc(n + 4);
    if (!f) return false;
    f[0] = (uint8_t)(n >> 24), f[1] = (uint8_t)(n >> 16), f[2] = (uint8_t)(n >> 8),
    f[3] = (uint8_t)n;
    if (n) memcpy(f + 4, tok, n);
    bool ok = hd_digest_decode(d, f, n + 4, out, outlen);
    cav_free(f);
    return ok;
}
