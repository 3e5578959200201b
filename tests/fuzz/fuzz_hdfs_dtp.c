/*
 * fuzz_hdfs_dtp.c — the HDFS client's side of the DataNode SASL handshake (src/hdfs/hdfs_dtp.c,
 * hdfs_digest.c): what it makes of the DataNode's DataTransferEncryptorMessageProto messages —
 * varint lengths, statuses and refusals, the DIGEST-MD5 challenge (Cyrus SASL's parser and our
 * qop scan), the rspauth, cipher options — and, after a genuine handshake, of the frames of the
 * security layer (DIGEST-MD5 frame lengths and integrity checks, the AES/CTR stream).
 *
 * Input: byte 0: bits 0-2 the accepted protection levels, bit 3 ask for AES, bit 7 the layer
 * mode. Handshake mode: the rest is everything the DataNode sends; the handshake must fail (the
 * rspauth depends on the client's random cnonce, which bytes written in advance cannot know),
 * with a message. Layer mode: a real handshake with the test server's DIGEST-MD5 half
 * (tools/hdfsd/hdfsd_digest.c) at the level of bits 0-2 — or AES/CTR with a fixed key when bit
 * 3 is set — then the rest is read through the layer in pieces of varying size: any failure
 * must say why, and nothing may be read that was not sent.
 * Oracle: no crash, leak or sanitizer report; the above.
 */
#include "fuzz_sock.h"
#include "hdfs/hdfs_digest.h"
#include "hdfsd.h"
#include "hdfsd_auth.h"
#include "hdfsd_digest.h"

hd_server g_hd; /* hdfsd_digest.c reads g_hd.verbose */
hd_sec g_sec;
const char *hd_qop_name(int q) {
    return q == HD_QOP_PRIVACY ? "privacy" : q == HD_QOP_INTEGRITY ? "integrity" : "authentication";
}

static int pw(void *ctx, const char *user, char *p, size_t cap, char *msg, size_t mc) {
    (void)ctx, (void)user, (void)msg, (void)mc;
    snprintf(p, cap, "c2VjcmV0");
    return 0;
}

/* A cav_digest that finished a real exchange with an hdfsd_digest server at level q. */
static cav_digest *handshake(int q) {
    char msg[300];
    hd_digest *srv = hd_digest_new("hdfs", "0", "0", q, pw, NULL, msg, sizeof msg);
    FUZZ_CHECK(srv != NULL, "server: %s", msg);
    const uint8_t *ch, *r, *ra;
    size_t chl, rl, ral;
    FUZZ_CHECK(hd_digest_challenge(srv, &ch, &chl, msg, sizeof msg) == 0, "challenge: %s", msg);
    cav_digest *d = NULL;
    csvavro_error e;
    int done = 0;
    FUZZ_CHECK(cav_digest_client_new("hdfs", "0", "dXNlcg==", "c2VjcmV0", (unsigned)q, &d, &e) ==
                   CSVAVRO_OK,
               "client: %s", e.message);
    FUZZ_CHECK(cav_digest_step(d, ch, chl, &r, &rl, &done, &e) == CSVAVRO_OK, "step: %s",
               e.message);
    FUZZ_CHECK(hd_digest_step(srv, r, rl, &ra, &ral, msg, sizeof msg) == 1, "server: %s", msg);
    FUZZ_CHECK(cav_digest_step(d, ra, ral, &r, &rl, &done, &e) == CSVAVRO_OK && done, "rspauth");
    hd_digest_free(srv);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    int peer;
    cav_hdfs_sock s;
    fz_hdfs_sock_holding(&s, data + 1, size - 1, "dn:9866", &peer);
    unsigned q = data[0] & 7;
    csvavro_error err;
    csvavro_error_clear(&err);
    if (!(data[0] & 0x80)) {
        int unknown = 0;
        csvavro_status st = cav_hdfs_dt_handshake(&s, "dXNlcg==", "c2VjcmV0", q ? q : CAV_QOP_AUTH,
                                                  (data[0] >> 3) & 1, &unknown, &err);
        FUZZ_CHECK(st != CSVAVRO_OK, "handshake succeeded against recorded bytes");
        FUZZ_CHECK(err.message[0], "status %d without message", st);
        if (getenv("FUZZ_DEBUG")) fprintf(stderr, "status %d: %s\n", st, err.message);
    } else {
        if (data[0] & 8) {
            static const uint8_t k[16] = "0123456789abcdef", iv[16] = "fedcba9876543210";
            FUZZ_CHECK(cav_hdfs_sock_set_aes(&s, k, iv, k, iv, 16, &err) == CSVAVRO_OK, "aes");
        } else {
            cav_digest *d = handshake(q & 6 ? (int)(q & 6) : CAV_QOP_INTEGRITY);
            FUZZ_CHECK(cav_hdfs_sock_set_digest(&s, d, &err) == CSVAVRO_OK, "digest");
        }
        uint8_t buf[4096];
        size_t got = 0, piece = 1;
        for (;;) {
            csvavro_status st = cav_hdfs_sock_read(&s, buf, piece, &err);
            if (st != CSVAVRO_OK) {
                FUZZ_CHECK(err.message[0], "status %d without message", st);
                break;
            }
            got += piece;
            piece = piece * 3 % sizeof buf + 1;
        }
        FUZZ_CHECK(s.dig || got <= size - 1, "read %zu bytes of %zu sent", got, size - 1);
    }
    cav_hdfs_sock_close(&s);
    close(peer);
    return 0;
}
