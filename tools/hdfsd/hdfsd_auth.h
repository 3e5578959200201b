/*
 * hdfsd_auth.h — secure mode of csvavro-hdfsd: Kerberos (SASL GSSAPI) authentication of NameNode
 * connections and the RPC security layer (hadoop.rpc.protection). The RPC code calls into this
 * layer for SASL frames (callId -33) and to wrap/unwrap frames; everything Kerberos is MIT
 * krb5's GSS-API.
 */
#ifndef CAV_HDFSD_AUTH_H
#define CAV_HDFSD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { HD_QOP_AUTH = 1, HD_QOP_INTEGRITY = 2, HD_QOP_PRIVACY = 4 };

typedef struct hd_sec {
    bool on;                   /* --keytab + --kerberos-principal given */
    char keytab[1024];         /* service keytab */
    char principal[512];       /* e.g. hdfs/localhost@CSVAVRO.TEST */
    char realm[256];           /* the principal's realm: users of other realms are refused */
    int rpc_qop;               /* the one layer offered (HD_QOP_*), --rpc-protection */
    int dt_qop;                /* --data-transfer-protection (0 = none) */
    bool encrypt_dt;           /* --encrypt-data-transfer */
    bool dt_aes;               /* --data-transfer-aes: AES/CTR when a client asks for it */
    bool block_tokens;         /* --block-tokens (on in secure mode) */
    int64_t token_lifetime_ms; /* --block-token-lifetime */
    int64_t key_roll_ms;       /* --block-key-roll */
    int64_t dt_renew_ms;       /* --delegation-token-renew-interval */
    int64_t dt_max_ms;         /* --delegation-token-max-lifetime */
} hd_sec;
extern hd_sec g_sec;

/* ---- hdfsd_token.c: block access tokens */
enum { HD_TOK_READ = 1, HD_TOK_WRITE = 2 };
#define HD_TOKEN_ID_MAX (64 + 2 * 300)
/* Signs a token for block_id with the HD_TOK_* modes for user: writes the identifier to id
 * (HD_TOKEN_ID_MAX bytes) and the HMAC-SHA1 password to pw. Returns the identifier length, 0
 * on failure. */
size_t hd_block_token(const char *user, uint64_t block_id, unsigned modes, uint8_t *id,
                      uint8_t pw[20]);
/* DataNode side: true when the token grants mode on block_id now; else msg says why. */
bool hd_block_token_check(const uint8_t *id, size_t idlen, const uint8_t *pw, size_t pwlen,
                          uint64_t block_id, unsigned mode, char *msg, size_t cap);
/* Data transfer protection (DataNode SASL): the password of a block token identifier (checks
 * expiry and key; false with why in msg), a new data encryption key (the current block key's
 * HMAC of a random nonce; NameNode getDataEncryptionKey), and the key of (key id, nonce)
 * (false when that block key is gone). */
bool hd_block_token_password(const uint8_t *id, size_t idlen, uint8_t pw[20], char *msg,
                             size_t cap);
bool hd_data_key(int32_t *key_id, uint8_t nonce[8], uint8_t key[20], uint64_t *expiry);
bool hd_data_key_lookup(int32_t key_id, const uint8_t *nonce, size_t nlen, uint8_t key[20]);
/* The caller of the NameNode method being run on this thread (set by the dispatcher): tokens
 * are issued to this user with these modes. */
extern __thread const char *hd_tls_user;
extern __thread unsigned hd_tls_modes;

/* ---- hdfsd_dtoken.c: delegation tokens (HDFS_DELEGATION_TOKEN) */
#define HD_DT_KIND "HDFS_DELEGATION_TOKEN"
#define HD_DT_ID_MAX 1024 /* 3 texts of <= HD_MAX_PRINCIPAL bytes, 4 varints */
/* Issues a token owned by owner (the caller's principal) that renewer (a short name; "" =
 * nobody) may renew: identifier into id (HD_DT_ID_MAX bytes), HMAC-SHA1 password into pw.
 * Returns the identifier length, 0 with msg on failure (the store is full). */
size_t hd_dt_issue(const char *owner, const char *renewer, uint8_t *id, uint8_t pw[20], char *msg,
                   size_t cap);
/* renew/cancel by caller (a short name): 0 with *expiry_ms (renew), or -1 with the Java
 * exception class in *exc and the reason in msg. */
int hd_dt_renew(const char *caller, const uint8_t *id, size_t idlen, const uint8_t *pw,
                size_t pwlen, int64_t *expiry_ms, const char **exc, char *msg, size_t cap);
int hd_dt_cancel(const char *caller, const uint8_t *id, size_t idlen, const char **exc, char *msg,
                 size_t cap);
/* TOKEN authentication: the password of a live token (0), or -1 with why (unknown, cancelled,
 * expired). *owner (HD_MAX_PRINCIPAL+1 bytes) gets the token's owner. */
int hd_dt_password(const uint8_t *id, size_t idlen, uint8_t pw[20], char *owner, char *msg,
                   size_t cap);
/* Decodes an identifier's owner and sequence number (for fuzzing and messages): 1 if it
 * decodes exactly. */
int hd_dt_decode(const uint8_t *id, size_t idlen, char *owner, size_t ocap, int32_t *seq);

/* "authentication" | "integrity" | "privacy" -> HD_QOP_*, 0 if none of them. */
int hd_qop_parse(const char *s);
const char *hd_qop_name(int qop);
/* Checks the keytab holds the principal's key (acquires acceptor credentials once). Returns 0,
 * or -1 with a message in msg. */
int hd_auth_init(char *msg, size_t cap);

/* Hadoop's answer to a SIMPLE client on a Kerberos-only server. */
#define HD_SIMPLE_REFUSED "SIMPLE authentication is not enabled.  Available:[KERBEROS]"

typedef struct hd_auth_conn hd_auth_conn;
hd_auth_conn *hd_auth_conn_new(void);
void hd_auth_conn_free(hd_auth_conn *a);

enum { HD_AUTH_REPLY = 0, HD_AUTH_DONE = 1, HD_AUTH_FAIL = -1 };
/* One SASL message from the client (the RpcSaslProto bytes of a callId -33 frame) during the
 * handshake. REPLY/DONE: *out (cav_malloc'd) is the RpcSaslProto to send back with callId -33,
 * DONE meaning the client is now authenticated. FAIL: msg says why (send a FATAL
 * AccessControlException and close). */
int hd_auth_step(hd_auth_conn *a, const uint8_t *m, size_t ml, uint8_t **out, size_t *outlen,
                 char *msg, size_t cap);
bool hd_auth_done(const hd_auth_conn *a);
/* Authenticated principal (alice@REALM) and its short name (alice). */
const char *hd_auth_principal(const hd_auth_conn *a);
const char *hd_auth_user(const hd_auth_conn *a);
/* Whether the client authenticated with a delegation token (TOKEN / DIGEST-MD5). */
bool hd_auth_via_token(const hd_auth_conn *a);
/* The negotiated layer (HD_QOP_*); frames are wrapped when it is above HD_QOP_AUTH. */
int hd_auth_layer(const hd_auth_conn *a);
/* Wraps bytes into a packed RpcSaslProto{WRAP, token} (*out cav_malloc'd). */
bool hd_auth_wrap(hd_auth_conn *a, const uint8_t *p, size_t n, uint8_t **out, size_t *outlen);
/* If m (an RpcSaslProto) is a WRAP, unwraps its token into *out (cav_malloc'd) and returns 1;
 * 0 when it is not a WRAP; -1 when it does not verify. */
int hd_auth_unwrap(hd_auth_conn *a, const uint8_t *m, size_t ml, uint8_t **out, size_t *outlen);

#endif /* CAV_HDFSD_AUTH_H */
