/*
 * hdfs_token.c — HDFS delegation tokens on the client: Hadoop's token storage file (the
 * Credentials of HADOOP_TOKEN_FILE_LOCATION), the HDFS_DELEGATION_TOKEN identifier, and the
 * ClientProtocol calls getDelegationToken / renewDelegationToken / cancelDelegationToken.
 *
 * Token storage file ("HDTS", a version byte, then):
 *   version 0 (Writable, what we write): vint n, n × (Text alias, Token), vint m,
 *     m × (Text alias, vint length, bytes) — Token = vint idlen, identifier, vint pwlen,
 *     password, Text kind, Text service; Text = vint length + UTF-8; vints are Hadoop's
 *     WritableUtils (one byte for -112..127, else a length byte and big-endian magnitude).
 *   version 1 (protobuf CredentialsProto, Hadoop 3's default): read too.
 * HDFS_DELEGATION_TOKEN identifier (AbstractDelegationTokenIdentifier.write): byte version 0,
 *   Text owner, Text renewer, Text realUser, vlong issueDate, vlong maxDate, vint
 *   sequenceNumber, vint masterKeyId.
 * The file is untrusted input: at most CAV_TOKEN_FILE_MAX bytes and CAV_TOKEN_MAX entries,
 * every length checked against what is left, errors name the file and the byte offset.
 *
 * Which token a connection uses (like Hadoop's client): the HDFS_DELEGATION_TOKEN whose
 * service is the NameNode's "ip:port" (the address resolved), its "host:port" as configured,
 * or "ha-hdfs:NAMESERVICE" when the NameNode was found through an HA nameservice.
 */
#include "hdfs.h"
#include "core/core_varint.h"

#include "hdfs/ClientNamenodeProtocol.pb-c.h"
#include "hdfs/Security.pb-c.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CAV_TOKEN_FILE_MAX (1u << 20)
#define CAV_TOKEN_MAX 1024
#define TEXT_MAX 4096

/* ---------------------------------------------------------------- Writable encoding */

typedef struct rd {
    const uint8_t *p, *start, *end;
    const char *file;
    csvavro_error *err;
} rd;

static csvavro_status rd_fail(rd *r, const char *what) {
    return cav_err(r->err, CSVAVRO_E_CORRUPT, "token file %s: byte offset %zu: %s", r->file,
                   (size_t)(r->p - r->start), what);
}

static csvavro_status rd_len(rd *r, size_t max, const char *what, size_t *n) {
    int64_t v;
    const uint8_t *at = r->p;
    if (!cav_hadoop_vlong_get(&r->p, r->end, &v)) {
        r->p = at;
        char m[128];
        snprintf(m, sizeof m, "truncated or malformed length of the %s", what);
        return rd_fail(r, m);
    }
    if (v < 0 || (uint64_t)v > max || (uint64_t)v > (uint64_t)(r->end - r->p)) {
        r->p = at;
        char m[160];
        snprintf(m, sizeof m, "the %s says %lld (%zu bytes left, at most %zu)", what, (long long)v,
                 (size_t)(r->end - at), max);
        return rd_fail(r, m);
    }
    *n = (size_t)v;
    return CSVAVRO_OK;
}

/* A Writable byte string into a new allocation (NUL-terminated for text). */
static csvavro_status rd_bytes(rd *r, size_t max, const char *what, uint8_t **out, size_t *n) {
    CAV_TRY(rd_len(r, max, what, n));
    *out = cav_malloc(*n + 1);
    if (!*out) return cav_err(r->err, CSVAVRO_E_NOMEM, "out of memory");
    memcpy(*out, r->p, *n);
    (*out)[*n] = '\0';
    r->p += *n;
    return CSVAVRO_OK;
}

static csvavro_status rd_text(rd *r, const char *what, char **out) {
    size_t n;
    uint8_t *b;
    CAV_TRY(rd_bytes(r, TEXT_MAX, what, &b, &n));
    if (memchr(b, 0, n)) {
        cav_free(b);
        char m[96];
        snprintf(m, sizeof m, "the %s holds a NUL byte", what);
        return rd_fail(r, m);
    }
    *out = (char *)b;
    return CSVAVRO_OK;
}

void cav_hdfs_creds_free(cav_hdfs_creds *c) {
    for (size_t i = 0; i < c->n; i++) {
        cav_free(c->t[i].id);
        cav_free(c->t[i].pw);
        cav_free(c->t[i].kind);
        cav_free(c->t[i].service);
        cav_free(c->t[i].alias);
    }
    cav_free(c->t);
    memset(c, 0, sizeof *c);
}

static csvavro_status parse_v0(rd *r, cav_hdfs_creds *c) {
    size_t n;
    CAV_TRY(rd_len(r, CAV_TOKEN_MAX, "token count", &n));
    if (n > (size_t)(r->end - r->p) / 5) return rd_fail(r, "more tokens than the file can hold");
    c->t = cav_calloc(n ? n : 1, sizeof *c->t);
    if (!c->t) return cav_err(r->err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        cav_hdfs_token *t = &c->t[i];
        c->n = i + 1;
        CAV_TRY(rd_text(r, "token alias", &t->alias));
        CAV_TRY(rd_bytes(r, CAV_HDFS_TOKEN_MAX_ID, "token identifier", &t->id, &t->id_len));
        CAV_TRY(rd_bytes(r, CAV_HDFS_TOKEN_MAX_PW, "token password", &t->pw, &t->pw_len));
        CAV_TRY(rd_text(r, "token kind", &t->kind));
        CAV_TRY(rd_text(r, "token service", &t->service));
    }
    size_t m;
    CAV_TRY(rd_len(r, CAV_TOKEN_MAX, "secret key count", &m));
    for (size_t i = 0; i < m; i++) {
        size_t l;
        CAV_TRY(rd_len(r, TEXT_MAX, "secret key alias", &l));
        r->p += l;
        CAV_TRY(rd_len(r, 1u << 16, "secret key", &l));
        r->p += l;
    }
    c->n_secrets = m;
    if (r->p != r->end) return rd_fail(r, "trailing bytes after the credentials");
    return CSVAVRO_OK;
}

static char *dup_bytes(const void *p, size_t n) {
    char *o = cav_malloc(n + 1);
    if (o) {
        if (n) memcpy(o, p, n);
        o[n] = '\0';
    }
    return o;
}

static csvavro_status parse_v1(rd *r, cav_hdfs_creds *c) {
    Hadoop__Common__CredentialsProto *cp =
        hadoop__common__credentials_proto__unpack(&cav_pb_alloc, (size_t)(r->end - r->p), r->p);
    if (!cp) return rd_fail(r, "the CredentialsProto (format version 1) does not decode");
    csvavro_status st = CSVAVRO_OK;
    if (cp->n_tokens > CAV_TOKEN_MAX) st = rd_fail(r, "too many tokens");
    if (st == CSVAVRO_OK && !(c->t = cav_calloc(cp->n_tokens ? cp->n_tokens : 1, sizeof *c->t)))
        st = cav_err(r->err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; st == CSVAVRO_OK && i < cp->n_tokens; i++) {
        const Hadoop__Common__CredentialsKVProto *kv = cp->tokens[i];
        if (!kv->token) continue;
        const Hadoop__Common__TokenProto *tp = kv->token;
        if (tp->identifier.len > CAV_HDFS_TOKEN_MAX_ID ||
            tp->password.len > CAV_HDFS_TOKEN_MAX_PW) {
            st = rd_fail(r, "a token identifier or password is too long");
            break;
        }
        cav_hdfs_token *t = &c->t[c->n++];
        t->alias = dup_bytes(kv->alias, strlen(kv->alias));
        t->id = (uint8_t *)dup_bytes(tp->identifier.data, tp->identifier.len);
        t->id_len = tp->identifier.len;
        t->pw = (uint8_t *)dup_bytes(tp->password.data, tp->password.len);
        t->pw_len = tp->password.len;
        t->kind = dup_bytes(tp->kind, strlen(tp->kind));
        t->service = dup_bytes(tp->service, strlen(tp->service));
        if (!t->alias || !t->id || !t->pw || !t->kind || !t->service)
            st = cav_err(r->err, CSVAVRO_E_NOMEM, "out of memory");
    }
    c->n_secrets = cp->n_secrets;
    protobuf_c_message_free_unpacked(&cp->base, &cav_pb_alloc);
    return st;
}

csvavro_status cav_hdfs_creds_parse(const uint8_t *p, size_t n, const char *file, cav_hdfs_creds *c,
                                    csvavro_error *err) {
    memset(c, 0, sizeof *c);
    rd r = {p, p, p + n, file, err};
    if (n < 5 || memcmp(p, "HDTS", 4))
        return cav_err(err, CSVAVRO_E_CORRUPT,
                       "token file %s: not a Hadoop token storage file (no \"HDTS\" magic)", file);
    r.p += 4;
    uint8_t version = *r.p++;
    csvavro_status st;
    if (version == 0)
        st = parse_v0(&r, c);
    else if (version == 1)
        st = parse_v1(&r, c);
    else
        st = cav_err(err, CSVAVRO_E_UNSUPPORTED,
                     "token file %s: byte offset 4: format version %u (this csvavro reads 0 and "
                     "1)",
                     file, version);
    if (st != CSVAVRO_OK) cav_hdfs_creds_free(c);
    return st;
}

csvavro_status cav_hdfs_creds_load(const char *path, cav_hdfs_creds *c, csvavro_error *err) {
    memset(c, 0, sizeof *c);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cav_err(err, errno == ENOENT ? CSVAVRO_E_NOT_FOUND : CSVAVRO_E_IO,
                       "token file %s: %s", path, strerror(errno));
    uint8_t *b = cav_malloc(CAV_TOKEN_FILE_MAX + 1);
    if (!b) {
        close(fd);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    size_t n = 0;
    csvavro_status st = CSVAVRO_OK;
    while (n <= CAV_TOKEN_FILE_MAX) {
        ssize_t k = read(fd, b + n, CAV_TOKEN_FILE_MAX + 1 - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            st = cav_err(err, CSVAVRO_E_IO, "token file %s: %s", path, strerror(errno));
            break;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    if (st == CSVAVRO_OK && n > CAV_TOKEN_FILE_MAX)
        st = cav_err(err, CSVAVRO_E_LIMIT, "token file %s: larger than %u bytes", path,
                     CAV_TOKEN_FILE_MAX);
    if (st == CSVAVRO_OK) st = cav_hdfs_creds_parse(b, n, path, c, err);
    cav_free(b);
    return st;
}

/* Version 0 bytes of c into out. */
static csvavro_status creds_encode(const cav_hdfs_creds *c, cav_buf *out, csvavro_error *err) {
    size_t need = 16;
    for (size_t i = 0; i < c->n; i++)
        need += 50 + strlen(c->t[i].alias) + c->t[i].id_len + c->t[i].pw_len +
                strlen(c->t[i].kind) + strlen(c->t[i].service);
    cav_buf_reset(out);
    CAV_TRY(cav_buf_reserve(out, need, err));
    uint8_t *p = out->data;
    memcpy(p, "HDTS", 4);
    p[4] = 0;
    size_t k = 5;
    k += cav_hadoop_vlong_put(p + k, (int64_t)c->n);
    for (size_t i = 0; i < c->n; i++) {
        const cav_hdfs_token *t = &c->t[i];
        const char *txt[3] = {t->alias, NULL, NULL};
        size_t al = strlen(txt[0]);
        k += cav_hadoop_vlong_put(p + k, (int64_t)al);
        memcpy(p + k, t->alias, al), k += al;
        k += cav_hadoop_vlong_put(p + k, (int64_t)t->id_len);
        memcpy(p + k, t->id, t->id_len), k += t->id_len;
        k += cav_hadoop_vlong_put(p + k, (int64_t)t->pw_len);
        memcpy(p + k, t->pw, t->pw_len), k += t->pw_len;
        txt[1] = t->kind;
        txt[2] = t->service;
        for (int j = 1; j < 3; j++) {
            size_t l = strlen(txt[j]);
            k += cav_hadoop_vlong_put(p + k, (int64_t)l);
            memcpy(p + k, txt[j], l), k += l;
        }
    }
    k += cav_hadoop_vlong_put(p + k, 0); /* no secret keys */
    out->len = k;
    return CSVAVRO_OK;
}

/* Writes the file whole (a temporary next to it, then rename), mode 0600: a token is a
 * credential. */
static csvavro_status write_file(const char *path, const cav_buf *b, csvavro_error *err) {
    size_t pl = strlen(path);
    char *tmp = cav_malloc(pl + 32);
    if (!tmp) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    csvavro_status st = CSVAVRO_OK;
    if (fd < 0) {
        st = cav_err(err, CSVAVRO_E_IO, "token file %s: %s", tmp, strerror(errno));
    } else {
        size_t off = 0;
        while (off < b->len && st == CSVAVRO_OK) {
            ssize_t k = write(fd, b->data + off, b->len - off);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0)
                st = cav_err(err, CSVAVRO_E_IO, "token file %s: %s", tmp, strerror(errno));
            else
                off += (size_t)k;
        }
        if (st == CSVAVRO_OK && fsync(fd) != 0)
            st = cav_err(err, CSVAVRO_E_IO, "token file %s: %s", tmp, strerror(errno));
        if (close(fd) != 0 && st == CSVAVRO_OK)
            st = cav_err(err, CSVAVRO_E_IO, "token file %s: %s", tmp, strerror(errno));
        if (st == CSVAVRO_OK && rename(tmp, path) != 0)
            st = cav_err(err, CSVAVRO_E_IO, "token file %s: %s", path, strerror(errno));
        if (st != CSVAVRO_OK) unlink(tmp);
    }
    cav_free(tmp);
    return st;
}

/* ---------------------------------------------------------------- identifiers */

static int get_text_fixed(const uint8_t **p, const uint8_t *end, char *out, size_t cap) {
    int64_t l;
    if (!cav_hadoop_vlong_get(p, end, &l) || l < 0 || l > end - *p || (size_t)l >= cap) return 0;
    memcpy(out, *p, (size_t)l);
    out[l] = '\0';
    if (memchr(out, 0, (size_t)l)) return 0;
    *p += l;
    return 1;
}

int cav_hdfs_dtid_decode(const uint8_t *id, size_t n, cav_hdfs_dtid *d) {
    memset(d, 0, sizeof *d);
    const uint8_t *p = id, *end = id + n;
    int64_t seq, key;
    if (n < 1 || *p++ != 0) return 0;
    if (!get_text_fixed(&p, end, d->owner, sizeof d->owner) ||
        !get_text_fixed(&p, end, d->renewer, sizeof d->renewer) ||
        !get_text_fixed(&p, end, d->real_user, sizeof d->real_user) ||
        !cav_hadoop_vlong_get(&p, end, &d->issue_ms) ||
        !cav_hadoop_vlong_get(&p, end, &d->max_ms) || !cav_hadoop_vlong_get(&p, end, &seq) ||
        !cav_hadoop_vlong_get(&p, end, &key) || seq < INT32_MIN || seq > INT32_MAX ||
        key < INT32_MIN || key > INT32_MAX || p != end)
        return 0;
    d->seq = (int32_t)seq;
    d->key_id = (int32_t)key;
    return 1;
}

/* ---------------------------------------------------------------- which token */

/* "a.b.c.d:port" of host:port (the first IPv4 or IPv6 address), else "". */
static void resolve_service(const char *hostport, char *out, size_t cap) {
    out[0] = '\0';
    char host[300];
    snprintf(host, sizeof host, "%s", hostport);
    char *colon = strrchr(host, ':');
    if (!colon) return;
    *colon = '\0';
    const char *port = colon + 1;
    char *h = host;
    if (*h == '[') {
        h++;
        char *rb = strchr(h, ']');
        if (rb) *rb = '\0';
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(h, NULL, &hints, &ai) != 0 || !ai) return;
    char ip[INET6_ADDRSTRLEN] = "";
    if (ai->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, ip, sizeof ip);
    else if (ai->ai_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, ip,
                  sizeof ip);
    freeaddrinfo(ai);
    if (ip[0]) snprintf(out, cap, "%s:%s", ip, port);
}

void cav_hdfs_token_service(const cav_hdfs_conf *c, const char *nn_addr, char *out, size_t cap) {
    if (c->nameservice[0]) {
        snprintf(out, cap, "ha-hdfs:%s", c->nameservice);
        return;
    }
    resolve_service(nn_addr, out, cap);
    if (!out[0]) snprintf(out, cap, "%s", nn_addr);
}

const cav_hdfs_token *cav_hdfs_token_for(const cav_hdfs_conf *c, const char *nn_addr) {
    if (!c->tokens.n) return NULL;
    char svc[400];
    cav_hdfs_token_service(c, nn_addr, svc, sizeof svc);
    for (size_t i = 0; i < c->tokens.n; i++) {
        const cav_hdfs_token *t = &c->tokens.t[i];
        if (strcmp(t->kind, CAV_HDFS_DT_KIND)) continue;
        if (!strcmp(t->service, svc) || !strcmp(t->service, nn_addr)) return t;
    }
    return NULL;
}

csvavro_status cav_hdfs_conf_tokens(cav_hdfs_conf *c, csvavro_error *err) {
    const char *f = getenv("HADOOP_TOKEN_FILE_LOCATION");
    if (!f || !*f || !c->kerberos) return CSVAVRO_OK;
    snprintf(c->token_file, sizeof c->token_file, "%s", f);
    csvavro_status st = cav_hdfs_creds_load(f, &c->tokens, err);
    if (st != CSVAVRO_OK) cav_err_prefix(err, "HADOOP_TOKEN_FILE_LOCATION");
    return st;
}

/* ---------------------------------------------------------------- the public calls */

static void fmt_time(int64_t ms, char *out, size_t cap) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* A connection for token management, authenticated like any other (with a token from
 * HADOOP_TOKEN_FILE_LOCATION when one fits; the NameNode then refuses get and renew, which need
 * Kerberos, as Hadoop's does). */
typedef struct mgr {
    cav_hdfs_conf conf;
    cav_hdfs_rpc *rpc;
} mgr;

static csvavro_status mgr_open(const char *authority, mgr *m, csvavro_error *err) {
    m->rpc = NULL;
    CAV_TRY(cav_hdfs_conf_load(authority, &m->conf, err));
    if (!m->conf.kerberos) {
        cav_hdfs_conf_free(&m->conf);
        return cav_err(
            err, CSVAVRO_E_UNSUPPORTED,
            "delegation tokens need a Kerberos cluster "
            "(hadoop.security.authentication=kerberos in $HADOOP_CONF_DIR/core-site.xml)");
    }
    csvavro_status st = cav_hdfs_rpc_create(&m->conf, &m->rpc, err);
    if (st != CSVAVRO_OK) cav_hdfs_conf_free(&m->conf);
    return st;
}

static void mgr_close(mgr *m) {
    cav_hdfs_rpc_free(m->rpc);
    cav_hdfs_conf_free(&m->conf);
}

csvavro_status csvavro_hdfs_token_fetch(const char *url, const char *renewer, const char *file,
                                        csvavro_error *err) {
    if (!url || strncmp(url, "hdfs://", 7))
        return cav_err(err, CSVAVRO_E_USAGE, "want an hdfs:// URL, got '%s'", url ? url : "");
    char auth[512];
    const char *a = url + 7, *sl = strchr(a, '/');
    snprintf(auth, sizeof auth, "%.*s", (int)(sl ? (size_t)(sl - a) : strlen(a)), a);
    mgr m;
    CAV_TRY(mgr_open(auth, &m, err));
    Hadoop__Common__GetDelegationTokenRequestProto rq =
        HADOOP__COMMON__GET_DELEGATION_TOKEN_REQUEST_PROTO__INIT;
    char me[256];
    snprintf(me, sizeof me, "%s", m.conf.user);
    rq.renewer = (char *)(renewer && *renewer ? renewer : me);
    ProtobufCMessage *resp = NULL;
    csvavro_status st = cav_hdfs_rpc_call(
        m.rpc, "getDelegationToken", &rq.base,
        &hadoop__common__get_delegation_token_response_proto__descriptor, &resp, err);
    cav_hdfs_token t = {0};
    char svc[400] = "";
    if (st == CSVAVRO_OK) {
        const Hadoop__Common__GetDelegationTokenResponseProto *r = (const void *)resp;
        if (!r->token)
            st = cav_err(err, CSVAVRO_E_PERMISSION,
                         "NameNode %s issued no delegation token (security is off there)",
                         m.conf.nn[0]);
        else if (r->token->identifier.len == 0 ||
                 r->token->identifier.len > CAV_HDFS_TOKEN_MAX_ID ||
                 r->token->password.len > CAV_HDFS_TOKEN_MAX_PW)
            st = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode %s sent a malformed token",
                         m.conf.nn[0]);
        if (st == CSVAVRO_OK) {
            cav_hdfs_token_service(&m.conf, m.conf.nn[0], svc, sizeof svc);
            t.id = r->token->identifier.data;
            t.id_len = r->token->identifier.len;
            t.pw = r->token->password.data;
            t.pw_len = r->token->password.len;
            t.kind = r->token->kind && *r->token->kind ? r->token->kind : CAV_HDFS_DT_KIND;
            t.service = svc;
            t.alias = svc;
            cav_hdfs_creds c = {&t, 1, 0};
            cav_buf b;
            cav_buf_init(&b, CAV_TOKEN_FILE_MAX);
            st = creds_encode(&c, &b, err);
            if (st == CSVAVRO_OK) st = write_file(file, &b, err);
            cav_buf_free(&b);
        }
    }
    if (resp) protobuf_c_message_free_unpacked(resp, &cav_pb_alloc);
    mgr_close(&m);
    return st;
}

/* The HDFS delegation tokens of file, each with the authority to reach its NameNode. */
static csvavro_status each_token(const char *file, int renew, int64_t *expiry, csvavro_error *err) {
    cav_hdfs_creds c;
    CAV_TRY(cav_hdfs_creds_load(file, &c, err));
    csvavro_status st = CSVAVRO_OK;
    size_t done = 0;
    for (size_t i = 0; i < c.n && st == CSVAVRO_OK; i++) {
        const cav_hdfs_token *t = &c.t[i];
        if (strcmp(t->kind, CAV_HDFS_DT_KIND)) continue;
        const char *svc = t->service;
        const char *authority = !strncmp(svc, "ha-hdfs:", 8) ? svc + 8 : svc;
        if (!*authority) {
            st = cav_err(err, CSVAVRO_E_USAGE,
                         "token file %s: token %zu has no service (no NameNode to ask)", file,
                         i + 1);
            break;
        }
        mgr m;
        st = mgr_open(authority, &m, err);
        if (st != CSVAVRO_OK) break;
        Hadoop__Common__TokenProto tp = HADOOP__COMMON__TOKEN_PROTO__INIT;
        tp.identifier.data = t->id;
        tp.identifier.len = t->id_len;
        tp.password.data = t->pw;
        tp.password.len = t->pw_len;
        tp.kind = t->kind;
        tp.service = t->service;
        ProtobufCMessage *resp = NULL;
        if (renew) {
            Hadoop__Common__RenewDelegationTokenRequestProto rq =
                HADOOP__COMMON__RENEW_DELEGATION_TOKEN_REQUEST_PROTO__INIT;
            rq.token = &tp;
            st = cav_hdfs_rpc_call(
                m.rpc, "renewDelegationToken", &rq.base,
                &hadoop__common__renew_delegation_token_response_proto__descriptor, &resp, err);
            if (st == CSVAVRO_OK)
                *expiry = (int64_t)((Hadoop__Common__RenewDelegationTokenResponseProto *)resp)
                              ->newexpirytime;
        } else {
            Hadoop__Common__CancelDelegationTokenRequestProto rq =
                HADOOP__COMMON__CANCEL_DELEGATION_TOKEN_REQUEST_PROTO__INIT;
            rq.token = &tp;
            st = cav_hdfs_rpc_call(
                m.rpc, "cancelDelegationToken", &rq.base,
                &hadoop__common__cancel_delegation_token_response_proto__descriptor, &resp, err);
        }
        if (st != CSVAVRO_OK)
            cav_err_prefix(err, "%s the token for %s", renew ? "renew" : "cancel", t->service);
        if (resp) protobuf_c_message_free_unpacked(resp, &cav_pb_alloc);
        mgr_close(&m);
        done++;
    }
    if (st == CSVAVRO_OK && !done)
        st = cav_err(err, CSVAVRO_E_NOT_FOUND, "token file %s holds no %s", file, CAV_HDFS_DT_KIND);
    cav_hdfs_creds_free(&c);
    return st;
}

csvavro_status csvavro_hdfs_token_renew(const char *file, int64_t *expiry_ms, csvavro_error *err) {
    int64_t e = 0;
    csvavro_status st = each_token(file, 1, &e, err);
    if (expiry_ms) *expiry_ms = e;
    return st;
}

csvavro_status csvavro_hdfs_token_cancel(const char *file, csvavro_error *err) {
    return each_token(file, 0, NULL, err);
}

csvavro_status csvavro_hdfs_token_describe(const char *file, char **text, csvavro_error *err) {
    *text = NULL;
    cav_hdfs_creds c;
    CAV_TRY(cav_hdfs_creds_load(file, &c, err));
    cav_buf b;
    cav_buf_init(&b, (size_t)64 << 20);
    csvavro_status st = CSVAVRO_OK;
    char line[2048];
    for (size_t i = 0; i < c.n && st == CSVAVRO_OK; i++) {
        const cav_hdfs_token *t = &c.t[i];
        cav_hdfs_dtid d;
        int n;
        if (!strcmp(t->kind, CAV_HDFS_DT_KIND) && cav_hdfs_dtid_decode(t->id, t->id_len, &d)) {
            char is[40], mx[40];
            fmt_time(d.issue_ms, is, sizeof is);
            fmt_time(d.max_ms, mx, sizeof mx);
            n = snprintf(line, sizeof line,
                         "Kind: %s, Service: %s, Ident: (token for %s: owner=%s, renewer=%s, "
                         "realUser=%s, issueDate=%lld (%s), maxDate=%lld (%s), "
                         "sequenceNumber=%d, masterKeyId=%d)\n",
                         t->kind, t->service, d.owner, d.owner, d.renewer, d.real_user,
                         (long long)d.issue_ms, is, (long long)d.max_ms, mx, (int)d.seq,
                         (int)d.key_id);
        } else {
            n = snprintf(line, sizeof line, "Kind: %s, Service: %s, Ident: %zu bytes\n", t->kind,
                         t->service, t->id_len);
        }
        st = cav_buf_append(&b, line, (size_t)CAV_MIN((size_t)n, sizeof line - 1), err);
    }
    if (st == CSVAVRO_OK && c.n_secrets) {
        int n = snprintf(line, sizeof line, "(%zu secret key%s not shown)\n", c.n_secrets,
                         c.n_secrets == 1 ? "" : "s");
        st = cav_buf_append(&b, line, (size_t)n, err);
    }
    if (st == CSVAVRO_OK) st = cav_buf_append(&b, "", 1, err);
    if (st == CSVAVRO_OK) {
        *text = (char *)b.data;
        b.data = NULL;
    }
    cav_buf_free(&b);
    cav_hdfs_creds_free(&c);
    return st;
}
