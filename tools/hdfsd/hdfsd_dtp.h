/*
 * hdfsd_dtp.h — the DataNode side of data transfer protection (dfs.data.transfer.protection,
 * dfs.encrypt.data.transfer): the SASL handshake a client starts with 0xDEADBEEF, and the
 * layer it leaves on the connection (DIGEST-MD5 frames or AES/CTR), used by every read and
 * write of hdfsd_dn.c. Also the NameNode's getDataEncryptionKey.
 */
#ifndef CAV_HDFSD_DTP_H
#define CAV_HDFSD_DTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HD_DT_MAGIC 0xDEADBEEFu

struct hd_digest;
struct evp_cipher_ctx_st;
typedef struct hd_dtp {
    struct hd_digest *dig;               /* integrity/privacy: DIGEST-MD5 frames */
    struct evp_cipher_ctx_st *enc, *dec; /* AES/CTR */
    uint8_t *buf;                        /* a received frame / encrypted output */
    size_t cap;
    const uint8_t *dptr; /* decoded plaintext not read yet: [dpos, dlen) */
    size_t dpos, dlen;
} hd_dtp;

/* True when DataNode connections must start with the handshake. */
bool hd_dtp_required(void);
/* The handshake on fd, whose first 4 bytes (the magic) are read. Reads the client's messages,
 * answers them; refusals are sent to the client (ERROR / ERROR_UNKNOWN_KEY with the reason)
 * and return false with why in msg. On success L holds the layer (maybe none). */
bool hd_dtp_accept(int fd, hd_dtp *L, char *msg, size_t cap);
/* The DIGEST-MD5 password of a handshake's user name (base64 block token identifier, or with
 * encrypt "keyId pool base64(nonce)"): 0, or -1 with why in msg and which kind of refusal.
 * (What the handshake uses; exposed for the fuzz target.) */
int hd_dtp_password(bool encrypt, const char *user, char *pw, size_t cap, char *msg, size_t mc,
                    bool *unknown_key, bool *token_error);
/* Answers a handshake this DataNode does not take with ERROR and why (after the magic). */
void hd_dtp_refuse(int fd, const char *why);
/* I/O through the layer (plain when L has none). */
bool hd_dtp_send(hd_dtp *L, int fd, const void *p, size_t n);
bool hd_dtp_recv(hd_dtp *L, int fd, void *p, size_t n);
void hd_dtp_free(hd_dtp *L);
/* The largest write that goes out as one DIGEST-MD5 frame (0: no frames, any size). */
size_t hd_dtp_max_send(const hd_dtp *L);

/* Pipeline forwarding between this process's DataNodes skips the handshake: the forwarding
 * side registers its socket before sending, the accepting side recognises the peer address
 * (the socket, not anything sent on it). */
void hd_dtp_internal_add(int fd);
void hd_dtp_internal_remove(int fd);
bool hd_dtp_is_internal(int fd);

#endif /* CAV_HDFSD_DTP_H */
