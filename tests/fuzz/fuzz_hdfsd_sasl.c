/*
 * fuzz_hdfsd_sasl.c — csvavro-hdfsd's parsers of untrusted handshake bytes: the SASL state
 * machine of secure NameNode connections (tools/hdfsd/hdfsd_auth.c: RpcSaslProto messages in
 * any order, WRAP frames) and the DataNode's block access token check (hdfsd_token.c: the
 * BlockTokenIdentifier decoder, key lookup, HMAC, expiry, block and mode).
 *
 * Input: byte 0 picks the part. Token check: the rest, cut at byte 1, is identifier and
 * password (tried as is, and XORed into a genuine token). SASL: the rest is a list of messages
 * (BE u16 length + bytes) fed to one connection until it fails, then tried as a WRAP frame.
 * Oracle: no crash, leak or sanitizer report; a refusal always says why; a forged token (bytes
 * that differ from a genuine one) is never accepted.
 */
#include "fuzz_hdfsd.h"

#include <sasl/sasl.h>

hd_server g_hd; /* the server's state; only what the auth layer reads */

static void init(void) {
    static int done;
    if (done) return;
    done = 1;
    snprintf(g_sec.keytab, sizeof g_sec.keytab, "/nonexistent/fuzz.keytab");
    g_sec.block_tokens = true;
    g_sec.token_lifetime_ms = 3600 * 1000;
    g_sec.key_roll_ms = 3600 * 1000;
    fz_hdfsd_secure();
}

static void tokens(const uint8_t *p, size_t n) {
    char msg[300];
    size_t cut = n ? p[0] : 0;
    if (n) p++, n--;
    if (cut > n) cut = n;
    msg[0] = '\0';
    if (!hd_block_token_check(p, n - cut, p + (n - cut), cut, 7, HD_TOK_READ, msg, sizeof msg))
        FUZZ_CHECK(msg[0], "refusal without a reason");
    /* XOR the input into a genuine READ token for block 7 */
    uint8_t id[HD_TOKEN_ID_MAX], pw[20], id2[HD_TOKEN_ID_MAX], pw2[20];
    size_t il = hd_block_token("fuzz", 7, HD_TOK_READ, id, pw);
    FUZZ_CHECK(il > 0, "cannot sign");
    memcpy(id2, id, il);
    memcpy(pw2, pw, 20);
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = i % (il + 20);
        uint8_t *b = k < il ? &id2[k] : &pw2[k - il];
        changed |= p[i] != 0;
        *b ^= p[i];
    }
    bool differs = memcmp(id, id2, il) != 0 || memcmp(pw, pw2, 20) != 0;
    bool ok = hd_block_token_check(id2, il, pw2, 20, 7, HD_TOK_READ, msg, sizeof msg);
    FUZZ_CHECK(!(ok && differs), "a forged token was accepted");
    FUZZ_CHECK(ok || msg[0], "refusal without a reason");
    (void)changed;
}

static void sasl(const uint8_t *p, size_t n) {
    hd_auth_conn *a = hd_auth_conn_new();
    FUZZ_CHECK(a != NULL, "conn");
    while (n >= 2) {
        size_t l = (size_t)p[0] << 8 | p[1];
        p += 2, n -= 2;
        if (l > n) l = n;
        uint8_t *out = NULL;
        size_t outlen = 0;
        char msg[900] = "";
        int r = hd_auth_step(a, p, l, &out, &outlen, msg, sizeof msg);
        FUZZ_CHECK(r == HD_AUTH_FAIL || out != NULL, "a reply without bytes");
        FUZZ_CHECK(r != HD_AUTH_FAIL || msg[0], "a failure without a reason");
        FUZZ_CHECK(r != HD_AUTH_DONE, "authenticated without a Kerberos context");
        cav_free(out);
        if (r == HD_AUTH_FAIL) {
            uint8_t *u = NULL;
            size_t ul = 0;
            FUZZ_CHECK(hd_auth_unwrap(a, p, l, &u, &ul) <= 0, "unwrapped without a context");
            cav_free(u);
            break;
        }
        p += l, n -= l;
    }
    hd_auth_conn_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    init();
    if (data[0] & 1)
        sasl(data + 1, size - 1);
    else
        tokens(data + 1, size - 1);
    return 0;
}
