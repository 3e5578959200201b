/*
 * fuzz_hdfsd_dtp.c — csvavro-hdfsd's DataNode side of the SASL handshake
 * (tools/hdfsd/hdfsd_dtp.c, hdfsd_digest.c): what it makes of a client's
 * DataTransferEncryptorMessageProto messages after the magic — varint lengths, statuses, the
 * DIGEST-MD5 response (Cyrus SASL's parser), the user name turned into a password (base64 block
 * token identifiers and their decoder, "keyId pool base64(nonce)" data encryption key names),
 * cipher options — and the refusal of a handshake to an unprotected DataNode.
 *
 * Input: byte 0: bits 0-1 the protection level (1 authentication, 2 integrity, 3 privacy),
 * bit 2 --encrypt-data-transfer, bit 3 --data-transfer-aes, bit 7 the refusal path, bit 6 the
 * user-name-to-password step alone (Cyrus checks the nonce before it asks for a password, so
 * fuzzed responses never get there); the rest is everything the client sends after
 * 0xDEADBEEF (or the user name). Oracle: no crash, leak or sanitizer report;
 * the handshake never succeeds (the response would have to match the server's random nonce)
 * and its refusal says why.
 */
#include "fuzz_sock.h"
#include "hdfsd.h"
#include "hdfsd_auth.h"
#include "hdfsd_digest.h"
#include "hdfsd_dtp.h"
#include "hdfsd_nn.h"

hd_server g_hd;
/* hdfsd_dtp.c also holds the NameNode's getDataEncryptionKey, never called here */
void nn_reply(call *k, const ProtobufCMessage *m) {
    (void)k, (void)m;
}
void nn_fail(call *k, const char *exc, const char *fmt, ...) {
    (void)k, (void)exc, (void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    static int init;
    if (!init) {
        init = 1;
        g_sec.block_tokens = true;
        g_sec.token_lifetime_ms = 3600 * 1000;
        g_sec.key_roll_ms = 3600 * 1000;
        char m[300];
        FUZZ_CHECK(hd_digest_init(m, sizeof m) == 0, "%s", m);
    }
    static const int lv[4] = {HD_QOP_AUTH, HD_QOP_AUTH, HD_QOP_INTEGRITY, HD_QOP_PRIVACY};
    g_sec.dt_qop = lv[data[0] & 3];
    g_sec.encrypt_dt = (data[0] >> 2) & 1;
    g_sec.dt_aes = (data[0] >> 3) & 1;
    int peer, fd = fz_sock_holding(data + 1, size - 1, &peer);
    hd_set_timeout(fd, 1000);
    if (data[0] & 0x40) { /* the rest as a user name (Cyrus checks the nonce first) */
        char user[4096], pw[512], msg[300] = "";
        size_t n = size - 1 < sizeof user - 1 ? size - 1 : sizeof user - 1;
        memcpy(user, data + 1, n);
        user[n] = 0;
        bool uk, te;
        if (hd_dtp_password((data[0] >> 2) & 1, user, pw, sizeof pw, msg, sizeof msg, &uk, &te))
            FUZZ_CHECK(msg[0] && (uk || te), "a refused user without a reason");
    } else if (data[0] & 0x80) {
        hd_dtp_refuse(fd, "not protected");
    } else {
        hd_dtp L;
        char msg[400] = "";
        bool ok = hd_dtp_accept(fd, &L, msg, sizeof msg);
        FUZZ_CHECK(!ok, "a handshake succeeded against bytes written in advance");
        FUZZ_CHECK(msg[0], "a refusal without a reason");
        if (getenv("FUZZ_DEBUG")) fprintf(stderr, "refused: %s\n", msg);
        if (ok) hd_dtp_free(&L);
    }
    close(fd);
    close(peer);
    return 0;
}
