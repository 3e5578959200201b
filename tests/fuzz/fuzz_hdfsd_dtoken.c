/*
 * fuzz_hdfsd_dtoken.c — csvavro-hdfsd's handling of untrusted delegation-token bytes
 * (tools/hdfsd/hdfsd_dtoken.c, the TOKEN path of hdfsd_auth.c):
 *   mode 0: a DIGEST-MD5 response (Cyrus SASL parses it) in a TOKEN INITIATE after a genuine
 *           NEGOTIATE, with the fuzz bytes as the whole response;
 *   mode 1: a well-formed response whose user name is the base64 of the fuzz bytes, so that the
 *           password lookup (base64, identifier decoder, token store) sees arbitrary identifiers;
 *   mode 2: renew / cancel / password lookup of arbitrary identifiers, and of a genuine issued
 *           token XORed with the input.
 * Oracle: no crash, leak or sanitizer report; a refusal always says why; nobody authenticates
 * without the token's password; a forged token (bytes that differ from a genuine one) is never
 * renewed.
 */
#include "fuzz_hdfsd.h"

#include "hdfs/RpcHeader.pb-c.h"

#include <openssl/evp.h>

hd_server g_hd;

static void init(void) {
    static int done;
    if (done) return;
    done = 1;
    g_sec.dt_renew_ms = 3600 * 1000;
    g_sec.dt_max_ms = 7200 * 1000;
    fz_hdfsd_secure();
}

static size_t pack_sasl(const Hadoop__Common__RpcSaslProto *m, uint8_t *out, size_t cap) {
    size_t n = protobuf_c_message_get_packed_size(&m->base);
    if (n > cap) return 0;
    return protobuf_c_message_pack(&m->base, out);
}

/* NEGOTIATE, then INITIATE {TOKEN, resp}; resp built from the challenge when user is set. */
static void digest(const uint8_t *p, size_t n, bool as_user) {
    hd_auth_conn *a = hd_auth_conn_new();
    FUZZ_CHECK(a != NULL, "conn");
    static uint8_t buf[1 << 18];
    Hadoop__Common__RpcSaslProto neg = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
    neg.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__NEGOTIATE;
    size_t bl = pack_sasl(&neg, buf, sizeof buf);
    uint8_t *out = NULL;
    size_t outlen = 0;
    char msg[900] = "";
    int r = hd_auth_step(a, buf, bl, &out, &outlen, msg, sizeof msg);
    FUZZ_CHECK(r == HD_AUTH_REPLY, "NEGOTIATE: %s", msg);
    Hadoop__Common__RpcSaslProto *rep = hadoop__common__rpc_sasl_proto__unpack(NULL, outlen, out);
    FUZZ_CHECK(rep != NULL, "NEGOTIATE reply");
    char nonce[128] = "";
    for (size_t i = 0; i < rep->n_auths; i++)
        if (rep->auths[i]->has_challenge) {
            const char *c = (const char *)rep->auths[i]->challenge.data;
            size_t cl = rep->auths[i]->challenge.len;
            const char *k = memmem(c, cl, "nonce=\"", 7);
            if (k) {
                k += 7;
                size_t j = 0;
                while (k + j < c + cl && k[j] != '"' && j + 1 < sizeof nonce)
                    j++;
                memcpy(nonce, k, j);
                nonce[j] = '\0';
            }
        }
    hadoop__common__rpc_sasl_proto__free_unpacked(rep, NULL);
    cav_free(out);
    out = NULL;
    static char resp[1 << 17];
    size_t rl;
    if (as_user) {
        static char b64[(1 << 15) / 3 * 4 + 8];
        size_t m = n > (1u << 14) ? (1u << 14) : n;
        EVP_EncodeBlock((unsigned char *)b64, p, (int)m);
        rl =
            (size_t)snprintf(resp, sizeof resp,
                             "charset=utf-8,username=\"%s\",realm=\"default\",nonce=\"%s\","
                             "nc=00000001,cnonce=\"fuzzcnonce\",digest-uri=\"/default\","
                             "maxbuf=65536,response=00112233445566778899aabbccddeeff,qop=auth-conf,"
                             "cipher=\"rc4\"",
                             b64, nonce);
        if (rl >= sizeof resp) rl = sizeof resp - 1;
    } else {
        rl = n > sizeof resp ? sizeof resp : n;
        memcpy(resp, p, rl);
    }
    Hadoop__Common__RpcSaslProto ini = HADOOP__COMMON__RPC_SASL_PROTO__INIT;
    Hadoop__Common__RpcSaslProto__SaslAuth au = HADOOP__COMMON__RPC_SASL_PROTO__SASL_AUTH__INIT;
    Hadoop__Common__RpcSaslProto__SaslAuth *ap = &au;
    au.method = "TOKEN";
    au.mechanism = "DIGEST-MD5";
    au.protocol = "";
    au.serverid = "default";
    ini.state = HADOOP__COMMON__RPC_SASL_PROTO__SASL_STATE__INITIATE;
    ini.n_auths = 1;
    ini.auths = &ap;
    ini.has_token = 1;
    ini.token.data = (uint8_t *)resp;
    ini.token.len = rl;
    bl = pack_sasl(&ini, buf, sizeof buf);
    msg[0] = '\0';
    r = hd_auth_step(a, buf, bl, &out, &outlen, msg, sizeof msg);
    FUZZ_CHECK(r != HD_AUTH_DONE, "authenticated without the token's password");
    FUZZ_CHECK(r != HD_AUTH_FAIL || msg[0], "a refusal without a reason");
    cav_free(out);
    hd_auth_conn_free(a);
}

static void store(const uint8_t *p, size_t n) {
    const char *exc = NULL;
    char msg[900];
    int64_t exp;
    uint8_t pw[20];
    char owner[HD_MAX_PRINCIPAL + 1];
    size_t cut = n ? p[0] % 21 : 0;
    if (n) p++, n--;
    if (cut > n) cut = n;
    msg[0] = '\0';
    FUZZ_CHECK(hd_dt_renew("fuzz", p, n - cut, p + n - cut, cut, &exp, &exc, msg, sizeof msg) != 0,
               "renewed an arbitrary token");
    FUZZ_CHECK(msg[0] && exc, "a refusal without a reason");
    msg[0] = '\0';
    if (hd_dt_password(p, n, pw, owner, msg, sizeof msg) != 0)
        FUZZ_CHECK(msg[0], "a refusal without a reason");
    /* a genuine token, XORed with the input */
    uint8_t id[HD_DT_ID_MAX], gpw[20], id2[HD_DT_ID_MAX], pw2[20];
    size_t il = hd_dt_issue("fuzz@FUZZ.TEST", "fuzz", id, gpw, msg, sizeof msg);
    FUZZ_CHECK(il > 0, "cannot issue: %s", msg);
    memcpy(id2, id, il);
    memcpy(pw2, gpw, 20);
    for (size_t i = 0; i < n; i++) {
        size_t k = i % (il + 20);
        uint8_t *b = k < il ? &id2[k] : &pw2[k - il];
        *b ^= p[i];
    }
    bool differs = memcmp(id, id2, il) != 0 || memcmp(gpw, pw2, 20) != 0;
    int rr = hd_dt_renew("fuzz", id2, il, pw2, 20, &exp, &exc, msg, sizeof msg);
    FUZZ_CHECK(!(rr == 0 && differs), "a forged token was renewed");
    /* keep the store small: cancel what was issued */
    FUZZ_CHECK(hd_dt_cancel("fuzz", id, il, &exc, msg, sizeof msg) == 0, "cancel: %s", msg);
    if (n) (void)hd_dt_cancel("fuzz", p, n, &exc, msg, sizeof msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    init();
    switch (data[0] % 3) {
    case 0:
        digest(data + 1, size - 1, false);
        break;
    case 1:
        digest(data + 1, size - 1, true);
        break;
    default:
        store(data + 1, size - 1);
        break;
    }
    return 0;
}
