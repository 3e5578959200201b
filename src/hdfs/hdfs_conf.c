/*
 * hdfs_conf.c — where the NameNode is, who we are, and the client's tunables.
 *
 * Precedence for the NameNode (like Hadoop tools): the URL's authority; else HADOOP_NAMENODE
 * ("host:port", comma-separated for HA); else fs.defaultFS from core-site.xml in
 * $HADOOP_CONF_DIR (or $HADOOP_HOME/etc/hadoop). A nameservice without a port
 * (hdfs://mycluster) expands through dfs.ha.namenodes.<ns> and dfs.namenode.rpc-address.<ns>.<id>
 * (core-site.xml then hdfs-site.xml; the later file wins). User: HADOOP_USER_NAME, else the login
 * name; under Kerberos (hadoop.security.authentication=kerberos) the short name of the principal
 * (CSVAVRO_PRINCIPAL, else the ticket cache's), with hadoop.rpc.protection and
 * dfs.namenode.kerberos.principal. Tunables come from CSVAVRO_HDFS_* variables.
 *
 * The XML reader understands the flat <property><name/><value/></property> shape of Hadoop site
 * files only (no entities beyond &amp; &lt; &gt;, no includes); the files are size-capped.
 */
#include "hdfs.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_XML (4u << 20)

static const char *find_n(const char *s, const char *end, const char *needle) {
    size_t nl = strlen(needle);
    for (const char *p = s; p + nl <= end; p++)
        if (memcmp(p, needle, nl) == 0) return p;
    return NULL;
}

/* Text between <tag> and </tag> inside [s, end), trimmed and unescaped; NULL if absent. */
static char *tag_text(const char *s, const char *end, const char *tag) {
    char open[32], close[32];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = find_n(s, end, open);
    if (!a) return NULL;
    a += strlen(open);
    const char *b = find_n(a, end, close);
    if (!b) return NULL;
    while (a < b && (*a == ' ' || *a == '\t' || *a == '\n' || *a == '\r'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\n' || b[-1] == '\r'))
        b--;
    char *o = cav_malloc((size_t)(b - a) + 1);
    if (!o) return NULL;
    size_t j = 0;
    for (const char *p = a; p < b; p++) {
        if (*p == '&') {
            if (b - p >= 5 && memcmp(p, "&amp;", 5) == 0) {
                o[j++] = '&';
                p += 4;
                continue;
            }
            if (b - p >= 4 && memcmp(p, "&lt;", 4) == 0) {
                o[j++] = '<';
                p += 3;
                continue;
            }
            if (b - p >= 4 && memcmp(p, "&gt;", 4) == 0) {
                o[j++] = '>';
                p += 3;
                continue;
            }
        }
        o[j++] = *p;
    }
    o[j] = '\0';
    return o;
}

char *cav_hdfs_xml_get(const char *xml, size_t len, const char *name) {
    const char *p = xml, *end = xml + len;
    char *found = NULL;
    while ((p = find_n(p, end, "<property")) != NULL) {
        const char *q = find_n(p, end, "</property>");
        if (!q) break;
        char *n = tag_text(p, q, "name");
        if (n && strcmp(n, name) == 0) {
            char *v = tag_text(p, q, "value");
            if (v) {
                cav_free(found); /* the last definition wins */
                found = v;
            }
        }
        cav_free(n);
        p = q + 11;
    }
    return found;
}

char *cav_hdfs_conf_dir(void) {
    const char *d = getenv("HADOOP_CONF_DIR");
    if (d && *d) return cav_strdup(d);
    const char *h = getenv("HADOOP_HOME");
    if (h && *h) {
        size_t n = strlen(h) + 16;
        char *o = cav_malloc(n);
        if (o) snprintf(o, n, "%s/etc/hadoop", h);
        return o;
    }
    return NULL;
}

static char *read_file_capped(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = cav_malloc(MAX_XML + 1);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, MAX_XML, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Looks up name in core-site.xml then hdfs-site.xml (later wins). */
static char *conf_get(const char *dir, const char *name) {
    if (!dir) return NULL;
    static const char *const files[] = {"core-site.xml", "hdfs-site.xml"};
    char *val = NULL;
    for (size_t i = 0; i < 2; i++) {
        size_t len = 0;
        char *x = read_file_capped(dir, files[i], &len);
        if (!x) continue;
        char *v = cav_hdfs_xml_get(x, len, name);
        cav_free(x);
        if (v) {
            cav_free(val);
            val = v;
        }
    }
    return val;
}

static csvavro_status add_nn(cav_hdfs_conf *c, const char *s, size_t n, csvavro_error *err) {
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n) return CSVAVRO_OK;
    char **nv = cav_realloc(c->nn, (c->n_nn + 1) * sizeof *nv);
    if (!nv) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    c->nn = nv;
    /* default port 8020 when none is given */
    const char *colon = memchr(s, ':', n);
    char *a = cav_malloc(n + 6);
    if (!a) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    memcpy(a, s, n);
    a[n] = '\0';
    if (!colon || s[0] == '[') { /* (IPv6 literals must carry their port) */
        if (!colon) strcat(a, ":8020");
    }
    c->nn[c->n_nn++] = a;
    return CSVAVRO_OK;
}

static csvavro_status add_list(cav_hdfs_conf *c, const char *list, csvavro_error *err) {
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        CAV_TRY(add_nn(c, p, n, err));
        p += n;
        if (*p == ',') p++;
    }
    return CSVAVRO_OK;
}

/* host (no port) may be an HA nameservice: expand it; else host:8020. */
static csvavro_status add_host(cav_hdfs_conf *c, const char *dir, const char *host,
                               csvavro_error *err) {
    if (!strchr(host, ':') && dir) {
        char key[512];
        snprintf(key, sizeof key, "dfs.ha.namenodes.%s", host);
        char *ids = conf_get(dir, key);
        if (ids) {
            const char *p = ids;
            csvavro_status st = CSVAVRO_OK;
            while (*p && st == CSVAVRO_OK) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                char id[128];
                snprintf(id, sizeof id, "%.*s", (int)CAV_MIN(n, sizeof id - 1), p);
                char *t = id;
                while (*t == ' ')
                    t++;
                snprintf(key, sizeof key, "dfs.namenode.rpc-address.%s.%s", host, t);
                char *addr = conf_get(dir, key);
                if (addr) st = add_nn(c, addr, strlen(addr), err);
                cav_free(addr);
                p += n;
                if (*p == ',') p++;
            }
            cav_free(ids);
            if (st == CSVAVRO_OK && c->n_nn)
                snprintf(c->nameservice, sizeof c->nameservice, "%s", host);
            if (st != CSVAVRO_OK || c->n_nn) return st;
        }
    }
    return add_nn(c, host, strlen(host), err);
}

/* hadoop.rpc.protection: comma-separated authentication|integrity|privacy -> CAV_QOP_* bits. */
csvavro_status cav_hdfs_parse_qop(const char *v, unsigned *bits, csvavro_error *err) {
    *bits = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (!n) break;
        if (n == 14 && !strncasecmp(p, "authentication", n))
            *bits |= CAV_QOP_AUTH;
        else if (n == 9 && !strncasecmp(p, "integrity", n))
            *bits |= CAV_QOP_INTEGRITY;
        else if (n == 7 && !strncasecmp(p, "privacy", n))
            *bits |= CAV_QOP_PRIVACY;
        else
            return cav_err(err, CSVAVRO_E_USAGE,
                           "bad protection '%.*s' in '%s' (want authentication, integrity or "
                           "privacy)",
                           (int)n, p, v);
        p += n;
    }
    if (!*bits) return cav_err(err, CSVAVRO_E_USAGE, "empty protection list '%s'", v);
    return CSVAVRO_OK;
}

static csvavro_status security_conf(cav_hdfs_conf *c, const char *dir, csvavro_error *err) {
    c->rpc_qop = CAV_QOP_AUTH;
    char *v = conf_get(dir, "hadoop.rpc.protection");
    csvavro_status st = CSVAVRO_OK;
    if (v) {
        st = cav_hdfs_parse_qop(v, &c->rpc_qop, err);
        if (st != CSVAVRO_OK) cav_err_prefix(err, "hadoop.rpc.protection");
    }
    cav_free(v);
    v = conf_get(dir, "dfs.data.transfer.protection");
    if (v && *v && st == CSVAVRO_OK) {
        st = cav_hdfs_parse_qop(v, &c->dt_qop, err);
        if (st != CSVAVRO_OK) cav_err_prefix(err, "dfs.data.transfer.protection");
    }
    cav_free(v);
    v = conf_get(dir, "dfs.encrypt.data.transfer");
    c->dt_encrypt = v && !strcasecmp(v, "true");
    cav_free(v);
    v = conf_get(dir, "dfs.encrypt.data.transfer.cipher.suites");
    c->dt_aes = v && strstr(v, "AES/CTR/NoPadding") != NULL;
    cav_free(v);
    v = conf_get(dir, "dfs.namenode.kerberos.principal");
    if (v) snprintf(c->nn_principal, sizeof c->nn_principal, "%s", v);
    cav_free(v);
    const char *kt = getenv("CSVAVRO_KEYTAB"), *pr = getenv("CSVAVRO_PRINCIPAL");
    if (kt && *kt) snprintf(c->keytab, sizeof c->keytab, "%s", kt);
    if (pr && *pr) snprintf(c->principal, sizeof c->principal, "%s", pr);
    if (st == CSVAVRO_OK && c->kerberos && c->keytab[0] && !c->principal[0])
        st = cav_err(err, CSVAVRO_E_USAGE,
                     "CSVAVRO_KEYTAB=%s needs CSVAVRO_PRINCIPAL (or --principal) too", c->keytab);
    return st;
}

static int env_int(const char *name, int def, int lo, int hi) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *e;
    errno = 0;
    long x = strtol(v, &e, 10);
    if (errno || *e || x < lo || x > hi) return def;
    return (int)x;
}

csvavro_status cav_hdfs_conf_load(const char *authority, cav_hdfs_conf *c, csvavro_error *err) {
    memset(c, 0, sizeof *c);
    c->retries = env_int("CSVAVRO_HDFS_RETRIES", 5, 0, 1000);
    c->backoff_ms = env_int("CSVAVRO_HDFS_BACKOFF_MS", 100, 0, 600000);
    c->backoff_max_ms = env_int("CSVAVRO_HDFS_BACKOFF_MAX_MS", 2000, 0, 600000);
    c->connect_timeout_ms = env_int("CSVAVRO_HDFS_CONNECT_TIMEOUT_MS", 5000, 1, 3600000);
    c->timeout_ms = env_int("CSVAVRO_HDFS_TIMEOUT_MS", 60000, 1, 3600000);
    c->lease_renew_ms = env_int("CSVAVRO_HDFS_LEASE_RENEW_MS", 30000, 10, 3600000);
    c->complete_retries = env_int("CSVAVRO_HDFS_COMPLETE_RETRIES", 10, 0, 1000);
    c->replication = (uint32_t)env_int("CSVAVRO_HDFS_REPLICATION", 0, 0, 512);
    const char *bs = getenv("CSVAVRO_HDFS_BLOCK_SIZE");
    uint64_t bsv = 0;
    if (bs && *bs && cav_parse_size(bs, &bsv) && bsv >= 512) c->block_size = bsv / 512 * 512;

    char *dir = cav_hdfs_conf_dir();
    csvavro_status st = CSVAVRO_OK;
    char *auth = conf_get(dir, "hadoop.security.authentication");
    if (auth && !strcasecmp(auth, "kerberos"))
        c->kerberos = 1;
    else if (auth && strcasecmp(auth, "simple") != 0)
        st = cav_err(err, CSVAVRO_E_UNSUPPORTED,
                     "hadoop.security.authentication=%s in the Hadoop config: csvavro supports "
                     "simple and kerberos",
                     auth);
    cav_free(auth);
    if (st == CSVAVRO_OK) st = security_conf(c, dir, err);
    char *hn = st == CSVAVRO_OK ? conf_get(dir, "dfs.client.use.datanode.hostname") : NULL;
    c->use_dn_hostname = hn && strcmp(hn, "true") == 0;
    cav_free(hn);
    if (st == CSVAVRO_OK) {
        if (authority && *authority) {
            st = add_host(c, dir, authority, err);
        } else {
            const char *env = getenv("HADOOP_NAMENODE");
            if (env && *env) {
                st = add_list(c, env, err);
            } else {
                char *def = conf_get(dir, "fs.defaultFS");
                if (!def) def = conf_get(dir, "fs.default.name");
                if (def && strncmp(def, "hdfs://", 7) == 0) {
                    char *h = def + 7;
                    char *sl = strchr(h, '/');
                    if (sl) *sl = '\0';
                    if (*h) st = add_host(c, dir, h, err);
                }
                cav_free(def);
            }
        }
    }
    if (st == CSVAVRO_OK && c->n_nn == 0)
        st = cav_err(err, CSVAVRO_E_USAGE,
                     "no HDFS NameNode: use hdfs://host:port/path, set HADOOP_NAMENODE=host:port, "
                     "or fs.defaultFS in $HADOOP_CONF_DIR/core-site.xml");
    cav_free(dir);
    const char *u = getenv("HADOOP_USER_NAME");
    char kuser[512] = "";
    if (st == CSVAVRO_OK && c->kerberos) { /* the user is who the ticket or keytab says */
        if (c->principal[0])
            snprintf(kuser, sizeof kuser, "%s", c->principal);
        else
            cav_hdfs_ccache_principal(kuser, sizeof kuser);
        kuser[strcspn(kuser, "/@")] = '\0'; /* alice@R, alice/host@R -> alice */
    }
    if (st == CSVAVRO_OK && c->kerberos && !c->keytab[0]) st = cav_hdfs_conf_tokens(c, err);
    if (st == CSVAVRO_OK && c->kerberos && !c->keytab[0]) {
        /* a delegation token for this NameNode: its owner is who we are */
        const cav_hdfs_token *t = cav_hdfs_token_for(c, c->nn[0]);
        cav_hdfs_dtid d;
        if (t && cav_hdfs_dtid_decode(t->id, t->id_len, &d)) {
            snprintf(kuser, sizeof kuser, "%s", d.owner);
            kuser[strcspn(kuser, "/@")] = '\0';
        }
    }
    if (kuser[0]) {
        snprintf(c->user, sizeof c->user, "%s", kuser);
    } else if (u && *u) {
        snprintf(c->user, sizeof c->user, "%s", u);
    } else {
        struct passwd pw, *pwp = NULL;
        char buf[4096];
        if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &pwp) == 0 && pwp)
            snprintf(c->user, sizeof c->user, "%s", pwp->pw_name);
        else {
            const char *lg = getenv("USER");
            snprintf(c->user, sizeof c->user, "%s", lg && *lg ? lg : "csvavro");
        }
    }
    if (st != CSVAVRO_OK) cav_hdfs_conf_free(c);
    return st;
}

void cav_hdfs_conf_free(cav_hdfs_conf *c) {
    cav_hdfs_creds_free(&c->tokens);
    for (size_t i = 0; i < c->n_nn; i++)
        cav_free(c->nn[i]);
    cav_free(c->nn);
    c->nn = NULL;
    c->n_nn = 0;
}
