/*
 * hdfsd_token.c — block access tokens (dfs.block.access.token.enable): the NameNode signs, per
 * block it hands out, an identifier saying who may do what with which block until when; every
 * DataNode checks the signature, the block, the access mode and the expiry before it serves an
 * op, and answers ERROR_ACCESS_TOKEN otherwise.
 *
 * Identifier: Hadoop's BlockTokenIdentifier, Writable encoding — expiryDate (vlong, ms),
 * keyId (vint), userId, blockPoolId (vint length + UTF-8 each), blockId (vlong), then the access
 * modes (vint count, each a vint-length name: READ, WRITE, COPY, REPLACE). Password: HMAC-SHA1
 * of the identifier bytes under the key keyId (OpenSSL). Keys roll: a new random key every
 * g_sec.key_roll_ms; an old key stays valid for the lifetime of the tokens it signed. The
 * parser is bounds-checked and takes only what it needs; the MAC is compared in constant time.
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

#define MAX_KEYS 8

typedef struct bkey {
    int32_t id;
    uint8_t secret[64];
    uint64_t created, valid_until; /* ms */
} bkey;

__thread const char *hd_tls_user;
__thread unsigned hd_tls_modes;

static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;
static bkey keys[MAX_KEYS];
static int nkeys;
static int32_t next_key_id = 1;

/* ---------------------------------------------------------------- Writable varints */

static size_t put_text(uint8_t *p, const char *s, size_t n) {
    size_t k = cav_hadoop_vlong_put(p, (int64_t)n);
    memcpy(p + k, s, n);
    return k + n;
}

static bool get_text(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n) {
    int64_t l;
    if (!cav_hadoop_vlong_get(p, end, &l) || l < 0 || l > end - *p) return false;
    *s = *p;
    *n = (size_t)l;
    *p += l;
    return true;
}

/* ---------------------------------------------------------------- keys */

/* A copy of the key with this id whose validity ends after valid_after (0: any), taken under
 * the lock; false when there is none. */
static bool key_copy(int64_t key_id, uint64_t valid_after, bkey *out) {
    bool found = false;
    pthread_mutex_lock(&keys_mu);
    for (int i = 0; i < nkeys; i++)
        if (keys[i].id == key_id && keys[i].valid_until > valid_after) *out = keys[i], found = true;
    pthread_mutex_unlock(&keys_mu);
    return found;
}

static void roll_locked(uint64_t now) {
    /* drop keys nobody can hold a valid token of any more */
    int j = 0;
    for (int i = 0; i < nkeys; i++)
        if (keys[i].valid_until > now) keys[j++] = keys[i];
    nkeys = j;
    if (nkeys && now - keys[nkeys - 1].created < (uint64_t)g_sec.key_roll_ms) return;
    if (nkeys == MAX_KEYS) memmove(keys, keys + 1, (MAX_KEYS - 1) * sizeof *keys), nkeys--;
    bkey *k = &keys[nkeys];
    if (RAND_bytes(k->secret, sizeof k->secret) != 1) return; /* keep the old keys */
    k->id = next_key_id++;
    k->created = now;
    k->valid_until = now + (uint64_t)g_sec.key_roll_ms + (uint64_t)g_sec.token_lifetime_ms;
    nkeys++;
}

static bool mac(const bkey *k, const uint8_t *id, size_t idlen, uint8_t out[20]) {
    unsigned ol = 0;
    return HMAC(EVP_sha1(), k->secret, sizeof k->secret, id, idlen, out, &ol) && ol == 20;
}

size_t hd_block_token(const char *user, uint64_t block_id, unsigned modes, uint8_t *id,
                      uint8_t pw[20]) {
    uint64_t now = hd_now_ms();
    pthread_mutex_lock(&keys_mu);
    roll_locked(now);
    if (!nkeys) {
        pthread_mutex_unlock(&keys_mu);
        return 0;
    }
    bkey k = keys[nkeys - 1];
    pthread_mutex_unlock(&keys_mu);
    size_t n = 0, ul = strnlen(user, HD_MAX_PRINCIPAL);
    n += cav_hadoop_vlong_put(id + n, (int64_t)(now + (uint64_t)g_sec.token_lifetime_ms));
    n += cav_hadoop_vlong_put(id + n, k.id);
    n += put_text(id + n, user, ul);
    n += put_text(id + n, HD_POOL_ID, strlen(HD_POOL_ID));
    n += cav_hadoop_vlong_put(id + n, (int64_t)block_id);
    static const char *const names[] = {"READ", "WRITE", "COPY", "REPLACE"};
    int cnt = 0;
    for (int i = 0; i < 4; i++)
        cnt += (modes >> i) & 1;
    n += cav_hadoop_vlong_put(id + n, cnt);
    for (int i = 0; i < 4; i++)
        if ((modes >> i) & 1) n += put_text(id + n, names[i], strlen(names[i]));
    if (!mac(&k, id, n, pw)) return 0;
    return n;
}

bool hd_block_token_check(const uint8_t *id, size_t idlen, const uint8_t *pw, size_t pwlen,
                          uint64_t block_id, unsigned mode, char *msg, size_t cap) {
    const uint8_t *p = id, *end = id + idlen, *s;
    size_t sl;
    int64_t expiry, key_id, blk, cnt;
    if (idlen == 0) {
        snprintf(msg, cap, "Block token is missing (block access tokens are enabled)");
        return false;
    }
    if (!cav_hadoop_vlong_get(&p, end, &expiry) || !cav_hadoop_vlong_get(&p, end, &key_id) ||
        !get_text(&p, end, &s, &sl) /* user */ || !get_text(&p, end, &s, &sl) /* pool */ ||
        !cav_hadoop_vlong_get(&p, end, &blk) || !cav_hadoop_vlong_get(&p, end, &cnt) || cnt < 0 ||
        cnt > 8) {
        snprintf(msg, cap, "Block token identifier does not decode");
        return false;
    }
    unsigned modes = 0;
    for (int64_t i = 0; i < cnt; i++) {
        if (!get_text(&p, end, &s, &sl)) {
            snprintf(msg, cap, "Block token identifier does not decode");
            return false;
        }
        static const char *const names[] = {"READ", "WRITE", "COPY", "REPLACE"};
        for (int j = 0; j < 4; j++)
            if (sl == strlen(names[j]) && !memcmp(s, names[j], sl)) modes |= 1u << j;
    }
    /* expiry first: an expired token is refused as such (its key may be gone already) */
    if ((uint64_t)expiry < hd_now_ms()) {
        snprintf(msg, cap, "Block token is expired (expiry %lld, now %llu)", (long long)expiry,
                 (unsigned long long)hd_now_ms());
        return false;
    }
    bkey k;
    bool found = key_copy(key_id, 0, &k);
    uint8_t want[20];
    if (!found || pwlen != 20 || !mac(&k, id, idlen, want) || CRYPTO_memcmp(want, pw, 20) != 0) {
        snprintf(msg, cap,
                 "Block token with key id %lld doesn't verify (forged, or its key was "
                 "retired)",
                 (long long)key_id);
        return false;
    }
    if ((uint64_t)blk != block_id) {
        snprintf(msg, cap, "Block token is for block %lld, not %llu", (long long)blk,
                 (unsigned long long)block_id);
        return false;
    }
    if (!(modes & mode)) {
        snprintf(msg, cap, "Block token doesn't have %s permission for block %llu",
                 mode == HD_TOK_WRITE ? "WRITE" : "READ", (unsigned long long)block_id);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- data transfer protection */

bool hd_block_token_password(const uint8_t *id, size_t idlen, uint8_t pw[20], char *msg,
                             size_t cap) {
    const uint8_t *p = id, *end = id + idlen;
    int64_t expiry, key_id;
    if (!cav_hadoop_vlong_get(&p, end, &expiry) || !cav_hadoop_vlong_get(&p, end, &key_id)) {
        snprintf(msg, cap, "Block token identifier does not decode");
        return false;
    }
    if ((uint64_t)expiry < hd_now_ms()) {
        snprintf(msg, cap, "Block token is expired (expiry %lld, now %llu)", (long long)expiry,
                 (unsigned long long)hd_now_ms());
        return false;
    }
    bkey k;
    bool found = key_copy(key_id, 0, &k);
    if (!found || !mac(&k, id, idlen, pw)) {
        snprintf(msg, cap, "Block token key id %lld is unknown (forged, or its key was retired)",
                 (long long)key_id);
        return false;
    }
    OPENSSL_cleanse(&k, sizeof k);
    return true;
}

bool hd_data_key(int32_t *key_id, uint8_t nonce[8], uint8_t key[20], uint64_t *expiry) {
    uint64_t now = hd_now_ms();
    pthread_mutex_lock(&keys_mu);
    roll_locked(now);
    if (!nkeys) {
        pthread_mutex_unlock(&keys_mu);
        return false;
    }
    bkey k = keys[nkeys - 1];
    pthread_mutex_unlock(&keys_mu);
    bool ok = RAND_bytes(nonce, 8) == 1 && mac(&k, nonce, 8, key);
    *key_id = k.id;
    *expiry = k.valid_until;
    OPENSSL_cleanse(&k, sizeof k);
    return ok;
}

bool hd_data_key_lookup(int32_t key_id, const uint8_t *nonce, size_t nlen, uint8_t key[20]) {
    bkey k;
    bool found = key_copy(key_id, hd_now_ms(), &k);
    bool ok = found && mac(&k, nonce, nlen, key);
    if (found) OPENSSL_cleanse(&k, sizeof k);
    return ok;
}
