/*
 * hdfs_digest.h — the client side of SASL DIGEST-MD5 (RFC 2831), made by Cyrus SASL, for the
 * places Hadoop uses it with a token: DataNode connections (dfs.data.transfer.protection, with
 * the block token or the data encryption key) and TOKEN authentication on NameNode RPC
 * (delegation tokens). Hadoop's convention for a token: user = base64(identifier), password =
 * base64(password); on DataNodes service "hdfs" and server "0" (digest-uri "hdfs/0", realm "0"),
 * on the NameNode server "default".
 *
 * Nothing of DIGEST-MD5 is done here: Cyrus computes the response, checks the server's
 * rspauth, and does the security layers (integrity: HMAC-MD5; privacy: RC4/3DES with Cyrus's
 * OpenSSL). This file only feeds it the credentials and frames its output.
 */
#ifndef CAV_HDFS_DIGEST_H
#define CAV_HDFS_DIGEST_H

#include "hdfs.h"

/* Largest wrapped frame accepted from a peer (Cyrus's own ceiling, MAX_SASL_BUFSIZE). */
#define CAV_DIGEST_MAXBUF 0xFFFFFFu

typedef struct cav_digest cav_digest;

/* A DIGEST-MD5 client for service/server (e.g. "hdfs", "0") with these credentials; qops are
 * the acceptable CAV_QOP_* layers (the highest one the server also offers is chosen). */
csvavro_status cav_digest_client_new(const char *service, const char *server, const char *user,
                                     const char *password, unsigned qops, cav_digest **out,
                                     csvavro_error *err);
void cav_digest_free(cav_digest *d);
/* One step: in is the server's challenge (the first one, then its rspauth). *out, *outlen is the
 * response to send (valid until the next call; may be empty); *done becomes 1 once the server
 * has proved it knows the password too (rspauth verified): the exchange is complete. */
csvavro_status cav_digest_step(cav_digest *d, const uint8_t *in, size_t n, const uint8_t **out,
                               size_t *outlen, int *done, csvavro_error *err);
/* After completion: the negotiated CAV_QOP_* layer, and the largest plaintext one frame
 * carries toward the server. */
unsigned cav_digest_layer(const cav_digest *d);
size_t cav_digest_maxout(const cav_digest *d);
/* Stream framing (SaslOutputStream/SaslInputStream): appends to out the frames (BE u32 length +
 * wrapped bytes) carrying p[0..n), cut at cav_digest_maxout. */
csvavro_status cav_digest_encode(cav_digest *d, const uint8_t *p, size_t n, cav_buf *out,
                                 csvavro_error *err);
/* One frame received whole (its BE u32 length included): *out, *outlen the plaintext, valid
 * until the next call. A frame that does not verify is CSVAVRO_E_PROTOCOL. */
csvavro_status cav_digest_decode(cav_digest *d, const uint8_t *frame, size_t n, const uint8_t **out,
                                 size_t *outlen, csvavro_error *err);
/* Single tokens without the length (RPC WRAP tokens, the CipherOption keys): wrap appends to
 * out; unwrap sets *out, *outlen (valid until the next call). */
csvavro_status cav_digest_wrap(cav_digest *d, const uint8_t *p, size_t n, cav_buf *out,
                               csvavro_error *err);
csvavro_status cav_digest_unwrap(cav_digest *d, const uint8_t *tok, size_t n, const uint8_t **out,
                                 size_t *outlen, csvavro_error *err);
/* The CAV_QOP_* levels a DIGEST-MD5 challenge offers (its qop directive; "auth" when absent, as
 * RFC 2831 says); 0 when the text is not a challenge. For messages: which level the server
 * wants when negotiation fails. Bounded, never reads past n. */
unsigned cav_digest_offered(const uint8_t *ch, size_t n);
/* Base64 (RFC 4648, padded) of p into out (appended, NUL-terminated, len excludes the NUL). */
csvavro_status cav_base64(const uint8_t *p, size_t n, cav_buf *out, csvavro_error *err);

#endif /* CAV_HDFS_DIGEST_H */
