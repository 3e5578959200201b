/*
 * hdfs_dtp.c — data transfer protection: the SASL handshake on DataNode connections
 * (dfs.data.transfer.protection, dfs.encrypt.data.transfer), before the op is sent.
 *
 *   C: BE u32 0xDEADBEEF, delimited DataTransferEncryptorMessageProto{SUCCESS, payload ""}
 *   S: {SUCCESS, payload = DIGEST-MD5 challenge}
 *   C: {SUCCESS, payload = response, cipherOption = [AES/CTR/NoPadding] when privacy is offered
 *      and AES is wanted}
 *   S: {SUCCESS, payload = rspauth, cipherOption = [the chosen one, keys SASL-wrapped]}
 * (S answers ERROR / ERROR_UNKNOWN_KEY with a message instead when it refuses.)
 *
 * Credentials (Hadoop's): with dfs.encrypt.data.transfer (from the configuration, or the
 * NameNode's server defaults) the data encryption key from getDataEncryptionKey — user
 * "keyId blockPoolId base64(nonce)", password base64(key), privacy required; otherwise the
 * block access token — user base64(identifier), password base64(password), the levels of
 * dfs.data.transfer.protection. DIGEST-MD5 itself is Cyrus SASL (hdfs_digest.c).
 *
 * Afterwards the socket carries the layer: privacy with a negotiated cipher option = AES/CTR
 * (OpenSSL) keyed by the unwrapped keys; integrity or privacy without = DIGEST-MD5 frames;
 * authentication = nothing (hdfs_net.c applies it on every read and write).
 */
#include "hdfs_digest.h"
#include "hdfs_pb.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DT_MAGIC 0xDEADBEEFu
#define MAX_HS_MSG (1u << 16)
#define DEK_MARGIN_MS (60 * 1000)

typedef Hadoop__Hdfs__DataTransferEncryptorMessageProto dtmsg;

static csvavro_status send_msg(cav_hdfs_sock *s, const uint8_t *payload, size_t n,
                               Hadoop__Hdfs__CipherOptionProto *opt, int magic,
                               csvavro_error *err) {
    dtmsg m = HADOOP__HDFS__DATA_TRANSFER_ENCRYPTOR_MESSAGE_PROTO__INIT;
    m.status =
        HADOOP__HDFS__DATA_TRANSFER_ENCRYPTOR_MESSAGE_PROTO__DATA_TRANSFER_ENCRYPTOR_STATUS__SUCCESS;
    m.has_payload = 1;
    m.payload.data = (uint8_t *)payload;
    m.payload.len = n;
    if (opt) {
        m.n_cipheroption = 1;
        m.cipheroption = &opt;
    }
    size_t len = protobuf_c_message_get_packed_size(&m.base);
    uint8_t stack[1024], *b = len + 16 <= sizeof stack ? stack : cav_malloc(len + 16);
    if (!b) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    size_t k = 0;
    if (magic) cav_be32_put(b, DT_MAGIC), k = 4;
    k += cav_varint_put(b + k, len);
    k += protobuf_c_message_pack(&m.base, b + k);
    csvavro_status st = cav_hdfs_sock_write(s, b, k, err);
    if (b != stack) cav_free(b);
    return st;
}

/* Reads the server's next message; its refusals become errors (*unknown_key set for
 * ERROR_UNKNOWN_KEY: the data encryption key is stale). */
static csvavro_status read_msg(cav_hdfs_sock *s, cav_buf *tmp, dtmsg **out, int *unknown_key,
                               csvavro_error *err) {
    *out = NULL;
    CAV_TRY(cav_hdfs_sock_read_delimited(s, tmp, MAX_HS_MSG, err));
    dtmsg *m = hadoop__hdfs__data_transfer_encryptor_message_proto__unpack(&cav_pb_alloc, tmp->len,
                                                                           tmp->data);
    if (!m)
        return cav_err(err, CSVAVRO_E_PROTOCOL,
                       "DataNode %s: undecodable SASL handshake message (%zu bytes)", s->peer,
                       tmp->len);
    if (m->status !=
        HADOOP__HDFS__DATA_TRANSFER_ENCRYPTOR_MESSAGE_PROTO__DATA_TRANSFER_ENCRYPTOR_STATUS__SUCCESS) {
        int unknown =
            m->status ==
            HADOOP__HDFS__DATA_TRANSFER_ENCRYPTOR_MESSAGE_PROTO__DATA_TRANSFER_ENCRYPTOR_STATUS__ERROR_UNKNOWN_KEY;
        if (unknown_key) *unknown_key = unknown;
        csvavro_status st = cav_err(err,
                                    (m->has_accesstokenerror && m->accesstokenerror) || unknown
                                        ? CSVAVRO_E_PERMISSION
                                        : CSVAVRO_E_REMOTE,
                                    "DataNode %s refused the SASL handshake%s: %.400s", s->peer,
                                    unknown ? " (unknown data encryption key)" : "",
                                    m->message ? m->message : "(no reason given)");
        protobuf_c_message_free_unpacked(&m->base, &cav_pb_alloc);
        return st;
    }
    *out = m;
    return CSVAVRO_OK;
}

/* The AES/CTR layer from a negotiated cipher option whose keys are DIGEST-MD5 wrapped. */
static csvavro_status aes_layer(cav_hdfs_sock *s, cav_digest *d,
                                const Hadoop__Hdfs__CipherOptionProto *o, csvavro_error *err) {
    uint8_t in_key[32], out_key[32];
    size_t ik = 0, ok = 0;
    const uint8_t *p;
    size_t n;
    if (!o->has_inkey || !o->has_outkey || !o->has_iniv || !o->has_outiv || o->iniv.len != 16 ||
        o->outiv.len != 16)
        return cav_err(err, CSVAVRO_E_PROTOCOL,
                       "DataNode %s: AES cipher option without keys or 16-byte IVs", s->peer);
    CAV_TRY(cav_digest_unwrap(d, o->inkey.data, o->inkey.len, &p, &n, err));
    if (n != 16 && n != 24 && n != 32)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "DataNode %s: AES key of %zu bytes", s->peer, n);
    memcpy(in_key, p, n), ik = n;
    CAV_TRY(cav_digest_unwrap(d, o->outkey.data, o->outkey.len, &p, &n, err));
    if (n != ik)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "DataNode %s: AES keys of different sizes",
                       s->peer);
    memcpy(out_key, p, n), ok = n;
    /* the client writes with in*, reads with out* */
    csvavro_status st =
        cav_hdfs_sock_set_aes(s, in_key, o->iniv.data, out_key, o->outiv.data, ik, err);
    explicit_bzero(in_key, sizeof in_key);
    explicit_bzero(out_key, sizeof out_key);
    (void)ok;
    return st;
}

csvavro_status cav_hdfs_dt_handshake(cav_hdfs_sock *s, const char *user, const char *password,
                                     unsigned qops, int want_aes, int *unknown_key,
                                     csvavro_error *err) {
    if (unknown_key) *unknown_key = 0;
    cav_digest *d = NULL;
    cav_buf tmp;
    cav_buf_init(&tmp, MAX_HS_MSG + 16);
    dtmsg *m = NULL;
    csvavro_status st = cav_digest_client_new("hdfs", "0", user, password, qops, &d, err);
    if (st == CSVAVRO_OK) st = send_msg(s, NULL, 0, NULL, 1, err);
    if (st == CSVAVRO_OK) st = read_msg(s, &tmp, &m, unknown_key, err);
    const uint8_t *r = NULL;
    size_t rl = 0;
    int done = 0;
    unsigned offered = 0;
    if (st == CSVAVRO_OK) {
        offered = cav_digest_offered(m->payload.data, m->payload.len);
        st = cav_digest_step(d, m->payload.data, m->payload.len, &r, &rl, &done, err);
    }
    if (st == CSVAVRO_OK && done)
        st = cav_err(err, CSVAVRO_E_PROTOCOL, "DataNode %s: DIGEST-MD5 ended after one step",
                     s->peer);
    if (m) protobuf_c_message_free_unpacked(&m->base, &cav_pb_alloc);
    m = NULL;
    if (st == CSVAVRO_OK) {
        Hadoop__Hdfs__CipherOptionProto aes = HADOOP__HDFS__CIPHER_OPTION_PROTO__INIT;
        aes.suite = HADOOP__HDFS__CIPHER_SUITE_PROTO__AES_CTR_NOPADDING;
        int offer = want_aes && (offered & CAV_QOP_PRIVACY) && (qops & CAV_QOP_PRIVACY);
        st = send_msg(s, r, rl, offer ? &aes : NULL, 0, err);
    }
    if (st == CSVAVRO_OK) st = read_msg(s, &tmp, &m, unknown_key, err);
    if (st == CSVAVRO_OK)
        st = cav_digest_step(d, m->payload.data, m->payload.len, &r, &rl, &done, err);
    if (st == CSVAVRO_OK && !done)
        st = cav_err(err, CSVAVRO_E_PROTOCOL,
                     "DataNode %s: DIGEST-MD5 incomplete after the server's second message",
                     s->peer);
    if (st == CSVAVRO_OK) {
        unsigned layer = cav_digest_layer(d);
        const Hadoop__Hdfs__CipherOptionProto *o = m->n_cipheroption ? m->cipheroption[0] : NULL;
        if (o && layer != CAV_QOP_PRIVACY)
            st = cav_err(err, CSVAVRO_E_PROTOCOL,
                         "DataNode %s: a cipher option without the privacy layer", s->peer);
        else if (o && o->suite != HADOOP__HDFS__CIPHER_SUITE_PROTO__AES_CTR_NOPADDING)
            st = cav_err(err, CSVAVRO_E_PROTOCOL, "DataNode %s: unknown cipher suite %d", s->peer,
                         (int)o->suite);
        else if (o)
            st = aes_layer(s, d, o, err);
        else if (layer > CAV_QOP_AUTH) {
            st = cav_hdfs_sock_set_digest(s, d, err);
            if (st == CSVAVRO_OK) d = NULL; /* the socket owns it */
        }
    }
    if (m) protobuf_c_message_free_unpacked(&m->base, &cav_pb_alloc);
    cav_digest_free(d);
    cav_buf_free(&tmp);
    return st;
}

/* ---------------------------------------------------------------- credentials */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The data encryption key, fetched once and again near its expiry (or after a DataNode did not
 * know it). Copies it out under the fs's mutex. */
static csvavro_status get_dek(cav_hdfs_fs *h, int refresh, cav_hdfs_dek *out, csvavro_error *err) {
    pthread_mutex_lock(&h->lease_mu);
    int fresh = h->dek.have && !refresh && h->dek.expiry > now_ms() + DEK_MARGIN_MS;
    if (fresh) *out = h->dek;
    pthread_mutex_unlock(&h->lease_mu);
    if (fresh) return CSVAVRO_OK;
    Hadoop__Hdfs__GetDataEncryptionKeyRequestProto req =
        HADOOP__HDFS__GET_DATA_ENCRYPTION_KEY_REQUEST_PROTO__INIT;
    Hadoop__Hdfs__GetDataEncryptionKeyResponseProto *resp = NULL;
    CAV_TRY(
        CALL(h, "getDataEncryptionKey", req, get_data_encryption_key_response_proto, &resp, err));
    const Hadoop__Hdfs__DataEncryptionKeyProto *k = resp->dataencryptionkey;
    csvavro_status st = CSVAVRO_OK;
    if (!k)
        st = cav_err(err, CSVAVRO_E_REMOTE,
                     "dfs.encrypt.data.transfer is on, but the NameNode gave no data encryption "
                     "key (its dfs.encrypt.data.transfer is off?)");
    else if (!k->blockpoolid || strlen(k->blockpoolid) >= sizeof out->bpid ||
             k->nonce.len > sizeof out->nonce || k->encryptionkey.len > sizeof out->key ||
             !k->encryptionkey.len)
        st = cav_err(err, CSVAVRO_E_PROTOCOL, "malformed data encryption key from the NameNode");
    if (st == CSVAVRO_OK) {
        cav_hdfs_dek d;
        memset(&d, 0, sizeof d);
        d.have = 1;
        d.keyid = k->keyid;
        snprintf(d.bpid, sizeof d.bpid, "%s", k->blockpoolid);
        memcpy(d.nonce, k->nonce.data, k->nonce.len);
        d.nlen = k->nonce.len;
        memcpy(d.key, k->encryptionkey.data, k->encryptionkey.len);
        d.klen = k->encryptionkey.len;
        d.expiry = k->expirydate;
        pthread_mutex_lock(&h->lease_mu);
        h->dek = d;
        pthread_mutex_unlock(&h->lease_mu);
        *out = d;
        explicit_bzero(&d, sizeof d);
    }
    FREE_PB(resp);
    return st;
}

csvavro_status cav_hdfs_dn_protect(cav_hdfs_fs *h, cav_hdfs_sock *s,
                                   const Hadoop__Common__TokenProto *tok, csvavro_error *err) {
    const cav_hdfs_conf *c = &h->conf;
    int encrypt = c->dt_encrypt;
    int have_token = tok && tok->identifier.len > 0;
    if (!encrypt && !c->dt_qop) {
        /* nothing configured: as Java's client, the NameNode's defaults may still ask for
         * encryption (only secure clusters hand out block tokens) */
        if (!have_token) return CSVAVRO_OK;
        CAV_TRY(cav_hdfs_server_defaults(h, err));
        encrypt = h->def_encrypt;
        if (!encrypt) return CSVAVRO_OK;
    }
    cav_buf user, pw;
    cav_buf_init(&user, 1u << 20);
    cav_buf_init(&pw, 1u << 20);
    csvavro_status st = CSVAVRO_OK;
    for (int attempt = 0;; attempt++) {
        cav_buf_reset(&user);
        cav_buf_reset(&pw);
        unsigned qops;
        if (encrypt) {
            cav_hdfs_dek k;
            st = get_dek(h, attempt > 0, &k, err);
            if (st == CSVAVRO_OK)
                st = cav_buf_printf(&user, err, "%d %s ", (int32_t)k.keyid, k.bpid);
            if (st == CSVAVRO_OK) st = cav_base64(k.nonce, k.nlen, &user, err);
            if (st == CSVAVRO_OK) st = cav_base64(k.key, k.klen, &pw, err);
            explicit_bzero(&k, sizeof k);
            qops = CAV_QOP_PRIVACY;
        } else {
            if (!have_token) {
                st = cav_err(err, CSVAVRO_E_PERMISSION,
                             "dfs.data.transfer.protection is set, but the NameNode handed out "
                             "no block access token to authenticate to DataNode %s with (is "
                             "dfs.block.access.token.enable on?)",
                             s->peer);
                break;
            }
            st = cav_base64(tok->identifier.data, tok->identifier.len, &user, err);
            if (st == CSVAVRO_OK) st = cav_base64(tok->password.data, tok->password.len, &pw, err);
            qops = c->dt_qop;
        }
        int unknown = 0;
        if (st == CSVAVRO_OK)
            st = cav_hdfs_dt_handshake(s, (const char *)user.data, (const char *)pw.data, qops,
                                       encrypt || c->dt_aes, &unknown, err);
        if (st == CSVAVRO_OK || !(encrypt && unknown && attempt == 0)) break;
        /* a stale data encryption key: fetch a new one and reconnect, once */
        char peer[sizeof s->peer];
        snprintf(peer, sizeof peer, "%s", s->peer);
        int cms = c->connect_timeout_ms, ims = s->timeout_ms;
        cav_hdfs_sock_close(s);
        st = cav_hdfs_sock_connect(s, peer, cms, ims, err);
        if (st != CSVAVRO_OK) break;
    }
    if (pw.data) explicit_bzero(pw.data, pw.len);
    cav_buf_free(&user);
    cav_buf_free(&pw);
    if (st != CSVAVRO_OK && encrypt)
        cav_err_prefix(err, "dfs.encrypt.data.transfer");
    else if (st != CSVAVRO_OK)
        cav_err_prefix(err, "dfs.data.transfer.protection");
    return st;
}
