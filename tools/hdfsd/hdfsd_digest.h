/*
 * hdfsd_digest.h — the server side of SASL DIGEST-MD5 (RFC 2831), made by Cyrus SASL, for
 * token authentication: DataNode connections (the block token or the data encryption key as
 * user/password) and TOKEN authentication on NameNode RPC (delegation tokens). The caller
 * supplies the password for a user name through a callback; Cyrus computes and checks the
 * digests and does the security layers (integrity HMAC-MD5, privacy RC4/3DES/DES via OpenSSL).
 */
#ifndef CAV_HDFSD_DIGEST_H
#define CAV_HDFSD_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest wrapped frame accepted from a client (Cyrus's own ceiling). */
#define HD_DIGEST_MAXBUF 0xFFFFFFu

/* Process-wide Cyrus server set-up (once; later calls return the first result): 0, or -1 with
 * a message. hd_digest_new calls it too. */
int hd_digest_init(char *msg, size_t cap);

/* Password lookup: the password of DIGEST-MD5 user `user` (NUL-terminated, < cap bytes) into
 * pw; 0 on success, else -1 with why in msg (sent to the client as the reason). */
typedef int (*hd_digest_pw_fn)(void *ctx, const char *user, char *pw, size_t cap, char *msg,
                               size_t msgcap);

typedef struct hd_digest hd_digest;
/* A DIGEST-MD5 server for service/server_fqdn in realm (DataNodes: "hdfs", "0", "0"); qops
 * are the HD_QOP_* layers offered (one level, or a range). NULL with msg on failure. */
hd_digest *hd_digest_new(const char *service, const char *server_fqdn, const char *realm, int qops,
                         hd_digest_pw_fn fn, void *ctx, char *msg, size_t cap);
void hd_digest_free(hd_digest *d);
/* The first challenge (valid until the next call). 0, or -1 with msg. */
int hd_digest_challenge(hd_digest *d, const uint8_t **out, size_t *outlen, char *msg, size_t cap);
/* The client's response: 1 = authenticated, *out is the rspauth to send back; -1 = refused,
 * msg says why (the password callback's reason when it failed). */
int hd_digest_step(hd_digest *d, const uint8_t *in, size_t n, const uint8_t **out, size_t *outlen,
                   char *msg, size_t cap);
/* After authentication: the negotiated HD_QOP_* layer, the user name, and whether the
 * password callback refused the user (an unknown or expired key/token). */
int hd_digest_layer(const hd_digest *d);
const char *hd_digest_user(const hd_digest *d);
bool hd_digest_user_refused(const hd_digest *d);
/* The largest plaintext one frame to the client carries (its maxbuf less the overhead). */
size_t hd_digest_maxout(hd_digest *d);
/* Frames (BE u32 length + wrapped bytes, as the SASL stream carries them): encode appends the
 * frames for p[0..n) (cut at the client's buffer size) to a cav_malloc'd *out; decode takes one
 * whole frame. The single-token forms have no length (CipherOption keys, RPC WRAP). All return
 * false on failure; decoded/unwrapped output is valid until the next call. */
bool hd_digest_encode(hd_digest *d, const uint8_t *p, size_t n, uint8_t **out, size_t *outlen);
bool hd_digest_decode(hd_digest *d, const uint8_t *frame, size_t n, const uint8_t **out,
                      size_t *outlen);
bool hd_digest_wrap(hd_digest *d, const uint8_t *p, size_t n, uint8_t **out, size_t *outlen);
bool hd_digest_unwrap(hd_digest *d, const uint8_t *tok, size_t n, const uint8_t **out,
                      size_t *outlen);

#endif /* CAV_HDFSD_DIGEST_H */
