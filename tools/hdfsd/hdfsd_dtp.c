/*
 * hdfsd_dtp.c — the DataNode side of data transfer protection (see hdfsd_dtp.h).
 *
 * Handshake, after the client's BE u32 0xDEADBEEF (messages are varint-delimited
 * DataTransferEncryptorMessageProto, at most 64 KiB):
 *   C {SUCCESS, payload ""}                       S {SUCCESS, payload = DIGEST-MD5 challenge}
 *   C {SUCCESS, payload = response, cipherOption*} S {SUCCESS, payload = rspauth,
 *                                                    cipherOption = [AES keys, wrapped]}
 * The DIGEST-MD5 user is base64(block token identifier) with password base64(its HMAC) —
 * with --encrypt-data-transfer instead "keyId blockPoolId base64(nonce)" with password
 * base64(HMAC(block key keyId, nonce)), the data encryption key the NameNode hands out. The
 * offered layer is --data-transfer-protection (privacy only with --encrypt-data-transfer);
 * with --data-transfer-aes and a privacy layer, a client offering AES/CTR/NoPadding gets
 * random 128-bit keys and IVs (keys wrapped by DIGEST-MD5) and the stream is AES/CTR from
 * then on. Refusals: ERROR_UNKNOWN_KEY for a data encryption key whose block key is gone
 * (the client fetches a new one), ERROR with the reason otherwise (accessTokenError for a bad
 * block token).
 */
#include "hdfsd_dtp.h"
#include "core/core.h"
#include "hdfsd.h"
#include "hdfsd_auth.h"
#include "hdfsd_digest.h"
#include "hdfsd_nn.h"

#include "hdfs/datatransfer.pb-c.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_HS_MSG (1u << 16)
#define CHUNK (64u << 10)

typedef Hadoop__Hdfs__DataTransferEncryptorMessageProto dtmsg;
#define ST(x)                                                                                      \
    HADOOP__HDFS__DATA_TRANSFER_ENCRYPTOR_MESSAGE_PROTO__DATA_TRANSFER_ENCRYPTOR_STATUS__##x

bool hd_dtp_required(void) {
    return g_sec.dt_qop != 0 || g_sec.encrypt_dt;
}

/* ---------------------------------------------------------------- messages */

static dtmsg *read_msg(int fd) {
    uint32_t n;
    if (!hd_read_varint32(fd, &n) || n > MAX_HS_MSG) return NULL;
    uint8_t *b = cav_malloc(n ? n : 1);
    if (!b) return NULL;
    dtmsg *m = hd_read_full(fd, b, n)
                   ? hadoop__hdfs__data_transfer_encryptor_message_proto__unpack(NULL, n, b)
                   : NULL;
    cav_free(b);
    return m;
}

static bool send_msg(int fd, int status, const uint8_t *payload, size_t plen, const char *message,
                     bool token_error, Hadoop__Hdfs__CipherOptionProto *opt) {
    dtmsg m = HADOOP__HDFS__DATA_TRANSFER_ENCRYPTOR_MESSAGE_PROTO__INIT;
    m.status = status;
    if (payload) {
        m.has_payload = 1;
        m.payload.data = (uint8_t *)payload;
        m.payload.len = plen;
    }
    m.message = (char *)message;
    if (token_error) m.has_accesstokenerror = m.accesstokenerror = 1;
    if (opt) {
        m.n_cipheroption = 1;
        m.cipheroption = &opt;
    }
    size_t n = protobuf_c_message_get_packed_size(&m.base);
    uint8_t *b = cav_malloc(n + 10);
    if (!b) return false;
    size_t k = hd_put_varint(b, n);
    k += protobuf_c_message_pack(&m.base, b + k);
    bool ok = hd_write_full(fd, b, k);
    cav_free(b);
    return ok;
}

/* ---------------------------------------------------------------- passwords */

typedef struct pwctx {
    bool encrypt;
    bool unknown_key;
    bool token_error;
} pwctx;

static int pw_cb(void *ctx, const char *user, char *pw, size_t cap, char *msg, size_t mc);

/* Base64 (padded) into out (cap bytes); the decoded length, or -1. */
static long unb64(const char *s, size_t n, uint8_t *out, size_t cap) {
    if (n % 4 || n / 4 * 3 > cap || n > (1u << 20)) return -1;
    int r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (r < 0) return -1;
    size_t pad = (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
    return (long)r - (long)pad;
}

static void b64(const uint8_t *p, size_t n, char *out) {
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

int hd_dtp_password(bool encrypt, const char *user, char *pw, size_t cap, char *msg, size_t mc,
                    bool *unknown_key, bool *token_error) {
    pwctx c = {.encrypt = encrypt};
    int r = pw_cb(&c, user, pw, cap, msg, mc);
    *unknown_key = c.unknown_key;
    *token_error = c.token_error;
    return r;
}

static int pw_cb(void *ctx, const char *user, char *pw, size_t cap, char *msg, size_t mc) {
    pwctx *c = ctx;
    uint8_t key[20];
    if (cap < 64) return -1;
    if (c->encrypt) { /* "keyId blockPoolId base64(nonce)" */
        char *end;
        long id = strtol(user, &end, 10);
        const char *sp = *end == ' ' ? strchr(end + 1, ' ') : NULL;
        uint8_t nonce[64];
        long nl = -1;
        if (sp && (size_t)(sp - end - 1) == strlen(HD_POOL_ID) &&
            !memcmp(end + 1, HD_POOL_ID, strlen(HD_POOL_ID)))
            nl = unb64(sp + 1, strlen(sp + 1), nonce, sizeof nonce);
        if (end == user || nl <= 0) {
            snprintf(msg, mc, "not a data encryption key user name: '%.80s'", user);
            c->unknown_key = true;
            return -1;
        }
        if (!hd_data_key_lookup((int32_t)id, nonce, (size_t)nl, key)) {
            snprintf(msg, mc,
                     "Can't re-compute encryption key for nonce, since the required block key "
                     "(keyID=%ld) doesn't exist.",
                     id);
            c->unknown_key = true;
            return -1;
        }
    } else { /* base64(block token identifier) */
        uint8_t id[2 * HD_TOKEN_ID_MAX];
        long il = unb64(user, strlen(user), id, sizeof id);
        if (il <= 0) {
            snprintf(msg, mc, "the SASL user is not a base64 block token identifier");
            c->token_error = true;
            return -1;
        }
        if (!hd_block_token_password(id, (size_t)il, key, msg, mc)) {
            c->token_error = true;
            return -1;
        }
    }
    b64(key, sizeof key, pw);
    OPENSSL_cleanse(key, sizeof key);
    return 0;
}

/* ---------------------------------------------------------------- the handshake */

static bool aes_setup(hd_dtp *L, const uint8_t *rkey, const uint8_t *riv, const uint8_t *wkey,
                      const uint8_t *wiv) {
    L->enc = EVP_CIPHER_CTX_new();
    L->dec = EVP_CIPHER_CTX_new();
    return L->enc && L->dec &&
           EVP_EncryptInit_ex(L->enc, EVP_aes_128_ctr(), NULL, wkey, wiv) == 1 &&
           EVP_DecryptInit_ex(L->dec, EVP_aes_128_ctr(), NULL, rkey, riv) == 1;
}

bool hd_dtp_accept(int fd, hd_dtp *L, char *msg, size_t cap) {
    memset(L, 0, sizeof *L);
    pwctx pc = {.encrypt = g_sec.encrypt_dt};
    int qops = g_sec.encrypt_dt ? HD_QOP_PRIVACY : g_sec.dt_qop;
    bool ok = false;
    hd_digest *d = NULL;
    dtmsg *m = read_msg(fd);
    if (!m || m->status != ST(SUCCESS)) {
        snprintf(msg, cap, "bad first SASL handshake message");
        goto out;
    }
    hadoop__hdfs__data_transfer_encryptor_message_proto__free_unpacked(m, NULL);
    m = NULL;
    d = hd_digest_new("hdfs", "0", "0", qops, pw_cb, &pc, msg, cap);
    const uint8_t *o;
    size_t ol;
    if (!d || hd_digest_challenge(d, &o, &ol, msg, cap)) {
        send_msg(fd, ST(ERROR), NULL, 0, msg, false, NULL);
        goto out;
    }
    if (!send_msg(fd, ST(SUCCESS), o, ol, NULL, false, NULL)) goto out;
    m = read_msg(fd);
    if (!m || m->status != ST(SUCCESS)) {
        snprintf(msg, cap, "bad second SASL handshake message");
        goto out;
    }
    if (hd_digest_step(d, m->has_payload ? m->payload.data : NULL,
                       m->has_payload ? m->payload.len : 0, &o, &ol, msg, cap) != 1) {
        send_msg(fd, pc.unknown_key ? ST(ERROR_UNKNOWN_KEY) : ST(ERROR), NULL, 0, msg,
                 pc.token_error, NULL);
        goto out;
    }
    int layer = hd_digest_layer(d);
    bool client_aes = false;
    for (size_t i = 0; i < m->n_cipheroption; i++)
        client_aes |=
            m->cipheroption[i]->suite == HADOOP__HDFS__CIPHER_SUITE_PROTO__AES_CTR_NOPADDING;
    if (layer == HD_QOP_PRIVACY && client_aes && g_sec.dt_aes) {
        uint8_t k[4][16], *wi = NULL, *wo = NULL;
        size_t wil = 0, wol = 0;
        Hadoop__Hdfs__CipherOptionProto co = HADOOP__HDFS__CIPHER_OPTION_PROTO__INIT;
        co.suite = HADOOP__HDFS__CIPHER_SUITE_PROTO__AES_CTR_NOPADDING;
        bool kok = RAND_bytes(&k[0][0], sizeof k) == 1 && hd_digest_wrap(d, k[0], 16, &wi, &wil) &&
                   hd_digest_wrap(d, k[2], 16, &wo, &wol);
        if (kok) {
            co.has_inkey = co.has_iniv = co.has_outkey = co.has_outiv = 1;
            co.inkey = (ProtobufCBinaryData){wil, wi};
            co.iniv = (ProtobufCBinaryData){16, k[1]};
            co.outkey = (ProtobufCBinaryData){wol, wo};
            co.outiv = (ProtobufCBinaryData){16, k[3]};
            /* the server reads with in*, writes with out* */
            kok = send_msg(fd, ST(SUCCESS), o, ol, NULL, false, &co) &&
                  aes_setup(L, k[0], k[1], k[2], k[3]);
        }
        cav_free(wi);
        cav_free(wo);
        OPENSSL_cleanse(k, sizeof k);
        if (!kok) {
            snprintf(msg, cap, "AES/CTR set-up failed");
            goto out;
        }
    } else {
        if (!send_msg(fd, ST(SUCCESS), o, ol, NULL, false, NULL)) goto out;
        if (layer > HD_QOP_AUTH) L->dig = d, d = NULL;
    }
    hd_log("datanode SASL handshake: %s, layer %s%s",
           pc.encrypt ? "data encryption key" : "block token", hd_qop_name(layer),
           L->enc   ? " with AES/CTR"
           : L->dig ? " (DIGEST-MD5 frames)"
                    : "");
    ok = true;
out:
    if (m) hadoop__hdfs__data_transfer_encryptor_message_proto__free_unpacked(m, NULL);
    hd_digest_free(d);
    if (!ok) {
        if (!msg[0]) snprintf(msg, cap, "SASL handshake failed");
        hd_dtp_free(L);
    }
    return ok;
}

void hd_dtp_refuse(int fd, const char *why) {
    uint8_t b;
    if (!hd_read_full(fd, &b, 1) || b != 0xEF) return;
    dtmsg *m = read_msg(fd);
    if (m) hadoop__hdfs__data_transfer_encryptor_message_proto__free_unpacked(m, NULL);
    send_msg(fd, ST(ERROR), NULL, 0, why, false, NULL);
}

/* ---------------------------------------------------------------- the layer */

static bool reserve(hd_dtp *L, size_t n) {
    if (L->cap >= n) return true;
    uint8_t *b = cav_realloc(L->buf, n);
    if (!b) return false;
    L->buf = b;
    L->cap = n;
    return true;
}

bool hd_dtp_send(hd_dtp *L, int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    if (L->dig) {
        uint8_t *o;
        size_t ol;
        if (!hd_digest_encode(L->dig, b, n, &o, &ol)) return false;
        bool ok = hd_write_full(fd, o, ol);
        cav_free(o);
        return ok;
    }
    if (!L->enc) return hd_write_full(fd, p, n);
    if (!reserve(L, CHUNK)) return false;
    while (n) {
        size_t k = n < CHUNK ? n : CHUNK;
        int ol = 0;
        if (EVP_EncryptUpdate(L->enc, L->buf, &ol, b, (int)k) != 1 || (size_t)ol != k ||
            !hd_write_full(fd, L->buf, k))
            return false;
        b += k;
        n -= k;
    }
    return true;
}

bool hd_dtp_recv(hd_dtp *L, int fd, void *p, size_t n) {
    uint8_t *o = p;
    if (L->dec) {
        int ol = 0;
        return hd_read_full(fd, p, n) &&
               (n == 0 || (EVP_DecryptUpdate(L->dec, o, &ol, o, (int)n) == 1 && (size_t)ol == n));
    }
    if (!L->dig) return hd_read_full(fd, p, n);
    while (n) {
        if (L->dpos < L->dlen) {
            size_t k = n < L->dlen - L->dpos ? n : L->dlen - L->dpos;
            memcpy(o, L->dptr + L->dpos, k);
            L->dpos += k;
            o += k;
            n -= k;
            continue;
        }
        uint8_t h[4];
        if (!hd_read_full(fd, h, 4)) return false;
        uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        if (len < 16 || len > HD_DIGEST_MAXBUF || !reserve(L, (size_t)len + 4)) return false;
        memcpy(L->buf, h, 4);
        L->dpos = L->dlen = 0;
        if (!hd_read_full(fd, L->buf + 4, len) ||
            !hd_digest_decode(L->dig, L->buf, (size_t)len + 4, &L->dptr, &L->dlen))
            return false;
    }
    return true;
}

size_t hd_dtp_max_send(const hd_dtp *L) {
    return L->dig ? hd_digest_maxout(L->dig) : 0;
}

void hd_dtp_free(hd_dtp *L) {
    hd_digest_free(L->dig);
    EVP_CIPHER_CTX_free(L->enc);
    EVP_CIPHER_CTX_free(L->dec);
    cav_free(L->buf);
    memset(L, 0, sizeof *L);
}

/* ---------------------------------------------------------------- internal connections */

#define MAX_INTERNAL 256
static pthread_mutex_t int_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sockaddr_in int_addr[MAX_INTERNAL];
static int n_int;

static bool addr_of(int fd, bool peer, struct sockaddr_in *a) {
    socklen_t l = sizeof *a;
    memset(a, 0, sizeof *a);
    int r = peer ? getpeername(fd, (struct sockaddr *)a, &l)
                 : getsockname(fd, (struct sockaddr *)a, &l);
    return r == 0 && a->sin_family == AF_INET;
}

static bool same(const struct sockaddr_in *a, const struct sockaddr_in *b) {
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

void hd_dtp_internal_add(int fd) {
    struct sockaddr_in a;
    if (!addr_of(fd, false, &a)) return;
    pthread_mutex_lock(&int_mu);
    if (n_int < MAX_INTERNAL) int_addr[n_int++] = a;
    pthread_mutex_unlock(&int_mu);
}

void hd_dtp_internal_remove(int fd) {
    struct sockaddr_in a;
    if (!addr_of(fd, false, &a)) return;
    pthread_mutex_lock(&int_mu);
    for (int i = 0; i < n_int; i++)
        if (same(&int_addr[i], &a)) {
            int_addr[i] = int_addr[--n_int];
            break;
        }
    pthread_mutex_unlock(&int_mu);
}

bool hd_dtp_is_internal(int fd) {
    struct sockaddr_in a;
    if (!addr_of(fd, true, &a)) return false;
    bool found = false;
    pthread_mutex_lock(&int_mu);
    for (int i = 0; i < n_int && !found; i++)
        found = same(&int_addr[i], &a);
    pthread_mutex_unlock(&int_mu);
    return found;
}

/* ---------------------------------------------------------------- NameNode */

void nn_getDataEncryptionKey(call *k) {
    Hadoop__Hdfs__GetDataEncryptionKeyResponseProto resp =
        HADOOP__HDFS__GET_DATA_ENCRYPTION_KEY_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__DataEncryptionKeyProto key = HADOOP__HDFS__DATA_ENCRYPTION_KEY_PROTO__INIT;
    uint8_t nonce[8], secret[20];
    if (g_sec.encrypt_dt) { /* else no key: the client authenticates with block tokens */
        int32_t id;
        uint64_t expiry;
        if (!hd_data_key(&id, nonce, secret, &expiry)) {
            nn_fail(k, EXC_IO, "cannot make a data encryption key");
            return;
        }
        key.keyid = (uint32_t)id;
        key.blockpoolid = HD_POOL_ID;
        key.nonce = (ProtobufCBinaryData){sizeof nonce, nonce};
        key.encryptionkey = (ProtobufCBinaryData){sizeof secret, secret};
        key.expirydate = expiry;
        key.encryptionalgorithm = "rc4";
        resp.dataencryptionkey = &key;
    }
    nn_reply(k, &resp.base);
    OPENSSL_cleanse(secret, sizeof secret);
}
