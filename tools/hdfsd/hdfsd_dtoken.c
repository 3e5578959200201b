/*
 * hdfsd_dtoken.c — delegation tokens (HDFS_DELEGATION_TOKEN) of csvavro-hdfsd's NameNode:
 * what getDelegationToken / renewDelegationToken / cancelDelegationToken do, and the password
 * lookup of TOKEN (DIGEST-MD5) authentication.
 *
 * Identifier: Hadoop's AbstractDelegationTokenIdentifier, Writable encoding — byte version 0,
 * Text owner, Text renewer, Text realUser, vlong issueDate, vlong maxDate, vint
 * sequenceNumber, vint masterKeyId. Password: HMAC-SHA1 of the identifier bytes under the
 * master key (64 random bytes from OpenSSL, one per server run, id 1).
 * Store: sequence number -> renew date (expiry), cancelled; a token is valid while it is in the
 * store, not cancelled and not past its renew date. A renewal by the token's renewer moves the
 * renew date to min(now + renew interval, maxDate). Cancel by owner or renewer. The store is
 * bounded (HD_DT_MAX_TOKENS; entries past their maxDate are dropped first) and lives in
 * memory: tokens do not survive a restart (the master key is new).
 * Messages follow Hadoop's (InvalidToken "can't be found in cache", "is expired", …).
 */
#include "core/core.h"
#include "core/core_varint.h"
#include "hdfsd.h"
#include "hdfsd_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HD_DT_MAX_TOKENS 65536
#define KEY_ID 1
#define EXC_INVALID_TOKEN "org.apache.hadoop.security.token.SecretManager$InvalidToken"
#define EXC_ACCESS_DT "org.apache.hadoop.security.AccessControlException"

typedef struct dt_entry {
    int32_t seq;
    int64_t renew_ms, max_ms;
    bool cancelled;
} dt_entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static dt_entry *store;
static size_t n_store, cap_store;
static int32_t next_seq = 1;
static uint8_t master[64];
static bool have_master;

typedef struct dt_id {
    char owner[HD_MAX_PRINCIPAL + 1], renewer[HD_MAX_PRINCIPAL + 1], real[HD_MAX_PRINCIPAL + 1];
    int64_t issue, max;
    int64_t seq, key;
} dt_id;

static bool get_text(const uint8_t **p, const uint8_t *end, char *out, size_t cap) {
    int64_t l;
    if (!cav_hadoop_vlong_get(p, end, &l) || l < 0 || l > end - *p || (size_t)l >= cap)
        return false;
    memcpy(out, *p, (size_t)l);
    out[l] = '\0';
    if (memchr(out, 0, (size_t)l)) return false;
    *p += l;
    return true;
}

static bool decode(const uint8_t *id, size_t n, dt_id *d) {
    const uint8_t *p = id, *end = id + n;
    if (n < 1 || *p++ != 0) return false;
    return get_text(&p, end, d->owner, sizeof d->owner) &&
           get_text(&p, end, d->renewer, sizeof d->renewer) &&
           get_text(&p, end, d->real, sizeof d->real) && cav_hadoop_vlong_get(&p, end, &d->issue) &&
           cav_hadoop_vlong_get(&p, end, &d->max) && cav_hadoop_vlong_get(&p, end, &d->seq) &&
           cav_hadoop_vlong_get(&p, end, &d->key) && d->seq >= 0 && d->seq <= INT32_MAX && p == end;
}

int hd_dt_decode(const uint8_t *id, size_t idlen, char *owner, size_t ocap, int32_t *seq) {
    dt_id d;
    if (!decode(id, idlen, &d)) return 0;
    snprintf(owner, ocap, "%s", d.owner);
    *seq = (int32_t)d.seq;
    return 1;
}

static bool mac(const uint8_t *id, size_t n, uint8_t out[20]) {
    unsigned ol = 0;
    return HMAC(EVP_sha1(), master, sizeof master, id, n, out, &ol) && ol == 20;
}

static void fmt_ms(int64_t ms, char *out, size_t cap) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t k = strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + k, cap - k, ",%03d+0000", (int)(ms % 1000));
}

/* "(HDFS_DELEGATION_TOKEN token 3 for alice)" */
static void fmt_id(const dt_id *d, char *out, size_t cap) {
    char shortn[HD_MAX_PRINCIPAL + 1];
    snprintf(shortn, sizeof shortn, "%s", d->owner);
    shortn[strcspn(shortn, "/@")] = '\0';
    snprintf(out, cap, "(%s token %lld for %s)", HD_DT_KIND, (long long)d->seq, shortn);
}

static dt_entry *find_locked(int64_t seq) {
    for (size_t i = 0; i < n_store; i++)
        if (store[i].seq == seq) return &store[i];
    return NULL;
}

size_t hd_dt_issue(const char *owner, const char *renewer, uint8_t *id, uint8_t pw[20], char *msg,
                   size_t cap) {
    size_t ol = strlen(owner), rl = strlen(renewer);
    if (ol == 0 || ol > HD_MAX_PRINCIPAL || rl > HD_MAX_PRINCIPAL) {
        snprintf(msg, cap, "owner or renewer name out of range");
        return 0;
    }
    uint64_t now = hd_now_ms();
    pthread_mutex_lock(&mu);
    if (!have_master) {
        if (RAND_bytes(master, sizeof master) != 1) {
            pthread_mutex_unlock(&mu);
            snprintf(msg, cap, "no random bytes for the master key");
            return 0;
        }
        have_master = true;
    }
    /* drop what can never be valid again; when still full, the cancelled ones too */
    for (int pass = 0; pass < 2 && (pass == 0 || n_store == HD_DT_MAX_TOKENS); pass++) {
        size_t j = 0;
        for (size_t i = 0; i < n_store; i++)
            if (store[i].max_ms > (int64_t)now && !(pass && store[i].cancelled))
                store[j++] = store[i];
        n_store = j;
    }
    if (n_store == HD_DT_MAX_TOKENS) {
        pthread_mutex_unlock(&mu);
        snprintf(msg, cap, "too many live delegation tokens (%d)", HD_DT_MAX_TOKENS);
        return 0;
    }
    if (n_store == cap_store) {
        size_t nc = cap_store ? cap_store * 2 : 64;
        dt_entry *ns = cav_realloc(store, nc * sizeof *ns);
        if (!ns) {
            pthread_mutex_unlock(&mu);
            snprintf(msg, cap, "out of memory");
            return 0;
        }
        store = ns;
        cap_store = nc;
    }
    int32_t seq = next_seq++;
    dt_entry *e = &store[n_store++];
    e->seq = seq;
    e->max_ms = (int64_t)now + g_sec.dt_max_ms;
    e->renew_ms = CAV_MIN((int64_t)now + g_sec.dt_renew_ms, e->max_ms);
    e->cancelled = false;
    size_t n = 0;
    id[n++] = 0; /* version */
    n += cav_hadoop_vlong_put(id + n, (int64_t)ol);
    memcpy(id + n, owner, ol), n += ol;
    n += cav_hadoop_vlong_put(id + n, (int64_t)rl);
    memcpy(id + n, renewer, rl), n += rl;
    n += cav_hadoop_vlong_put(id + n, 0); /* realUser: no proxy users here */
    n += cav_hadoop_vlong_put(id + n, (int64_t)now);
    n += cav_hadoop_vlong_put(id + n, e->max_ms);
    n += cav_hadoop_vlong_put(id + n, seq);
    n += cav_hadoop_vlong_put(id + n, KEY_ID);
    bool ok = mac(id, n, pw);
    pthread_mutex_unlock(&mu);
    if (!ok) {
        snprintf(msg, cap, "HMAC failed");
        return 0;
    }
    return n;
}

/* Checks the identifier decodes and was signed by us; fills d. */
static bool verify(const uint8_t *id, size_t idlen, const uint8_t *pw, size_t pwlen, dt_id *d,
                   char *msg, size_t cap) {
    if (!decode(id, idlen, d)) {
        snprintf(msg, cap, "the token identifier does not decode as an %s", HD_DT_KIND);
        return false;
    }
    uint8_t want[20];
    if (d->key != KEY_ID || !have_master || !mac(id, idlen, want) ||
        (pw && (pwlen != 20 || CRYPTO_memcmp(want, pw, 20) != 0))) {
        char f[400];
        fmt_id(d, f, sizeof f);
        snprintf(msg, cap,
                 "token %s: master key %lld or password doesn't match (not issued by "
                 "this NameNode, or before its restart)",
                 f, (long long)d->key);
        return false;
    }
    return true;
}

int hd_dt_renew(const char *caller, const uint8_t *id, size_t idlen, const uint8_t *pw,
                size_t pwlen, int64_t *expiry_ms, const char **exc, char *msg, size_t cap) {
    dt_id d;
    char f[400];
    int64_t now = (int64_t)hd_now_ms();
    pthread_mutex_lock(&mu);
    int r = -1;
    *exc = EXC_INVALID_TOKEN;
    if (!verify(id, idlen, pw, pwlen, &d, msg, cap)) goto out;
    fmt_id(&d, f, sizeof f);
    if (!d.renewer[0]) {
        *exc = EXC_ACCESS_DT;
        snprintf(msg, cap, "%s tried to renew a token %s without a renewer", caller, f);
        goto out;
    }
    if (strcmp(d.renewer, caller)) {
        *exc = EXC_ACCESS_DT;
        snprintf(msg, cap, "%s tries to renew a token %s with non-matching renewer %s", caller, f,
                 d.renewer);
        goto out;
    }
    dt_entry *e = find_locked(d.seq);
    if (!e || e->cancelled) {
        snprintf(msg, cap, "Renewal request for unknown token %s%s", f,
                 e ? " (it was cancelled)" : "");
        goto out;
    }
    if (e->max_ms < now || e->renew_ms < now) {
        char a[64], b[64];
        fmt_ms(e->max_ms < now ? e->max_ms : e->renew_ms, a, sizeof a);
        fmt_ms(now, b, sizeof b);
        snprintf(msg, cap, "%s tried to renew an expired token %s expiryTime of %s currentTime: %s",
                 caller, f, a, b);
        goto out;
    }
    e->renew_ms = CAV_MIN(now + g_sec.dt_renew_ms, e->max_ms);
    *expiry_ms = e->renew_ms;
    r = 0;
out:
    pthread_mutex_unlock(&mu);
    return r;
}

int hd_dt_cancel(const char *caller, const uint8_t *id, size_t idlen, const char **exc, char *msg,
                 size_t cap) {
    dt_id d;
    char f[400];
    pthread_mutex_lock(&mu);
    int r = -1;
    *exc = EXC_INVALID_TOKEN;
    if (!decode(id, idlen, &d)) {
        snprintf(msg, cap, "the token identifier does not decode as an %s", HD_DT_KIND);
        goto out;
    }
    fmt_id(&d, f, sizeof f);
    char owner_short[HD_MAX_PRINCIPAL + 1];
    snprintf(owner_short, sizeof owner_short, "%s", d.owner);
    owner_short[strcspn(owner_short, "/@")] = '\0';
    dt_entry *e = find_locked(d.seq);
    if (!e || e->cancelled) {
        snprintf(msg, cap, "Token not found %s%s", f, e ? " (already cancelled)" : "");
        goto out;
    }
    if (strcmp(caller, owner_short) && strcmp(caller, d.owner) && strcmp(caller, d.renewer)) {
        *exc = EXC_ACCESS_DT;
        snprintf(msg, cap, "%s is not authorized to cancel the token %s", caller, f);
        goto out;
    }
    e->cancelled = true; /* kept (bounded) so that its use says "cancelled" */
    r = 0;
out:
    pthread_mutex_unlock(&mu);
    return r;
}

int hd_dt_password(const uint8_t *id, size_t idlen, uint8_t pw[20], char *owner, char *msg,
                   size_t cap) {
    dt_id d;
    char f[400];
    int64_t now = (int64_t)hd_now_ms();
    pthread_mutex_lock(&mu);
    int r = -1;
    if (!verify(id, idlen, NULL, 0, &d, msg, cap)) goto out;
    fmt_id(&d, f, sizeof f);
    dt_entry *e = find_locked(d.seq);
    if (!e || e->cancelled) {
        snprintf(msg, cap, "token %s can't be found in cache%s", f, e ? " (it was cancelled)" : "");
        goto out;
    }
    if (e->renew_ms < now) {
        char a[64], b[64];
        fmt_ms(now, a, sizeof a);
        fmt_ms(e->renew_ms, b, sizeof b);
        snprintf(msg, cap, "token %s is expired, current time: %s expected renewal time: %s", f, a,
                 b);
        goto out;
    }
    mac(id, idlen, pw);
    snprintf(owner, HD_MAX_PRINCIPAL + 1, "%s", d.owner);
    r = 0;
out:
    pthread_mutex_unlock(&mu);
    return r;
}
