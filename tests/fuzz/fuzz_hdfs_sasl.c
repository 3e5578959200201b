/*
 * fuzz_hdfs_sasl.c — the HDFS client's side of the Kerberos handshake (src/hdfs/hdfs_sasl.c):
 * what it makes of the NameNode's SASL frames — frame lengths, RpcResponseHeaderProto (FATAL
 * errors included), RpcSaslProto states and the offered auths — before any credential is used.
 *
 * Input: byte 0 picks the accepted protections (hadoop.rpc.protection bits) and whether a
 * NameNode principal with _HOST is configured; the rest is everything the server sends.
 * Oracle: no crash, leak or sanitizer report; the handshake fails (there is no ticket: the
 * ticket cache points nowhere) with a known status and a message, never succeeds.
 */
#include "fuzz_sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    static int env;
    if (!env) {
        env = 1;
        setenv("KRB5CCNAME", "FILE:/nonexistent/csvavro-fuzz-ccache", 1);
        setenv("KRB5_CONFIG", "/dev/null", 1);
    }
    int peer;
    cav_hdfs_sock s;
    fz_hdfs_sock_holding(&s, data + 1, size - 1, "nn:8020", &peer);
    cav_hdfs_conf c;
    memset(&c, 0, sizeof c);
    c.kerberos = 1;
    c.rpc_qop = data[0] & 7;
    if (data[0] & 8) snprintf(c.nn_principal, sizeof c.nn_principal, "nn/_HOST@FUZZ.TEST");
    uint8_t cid[16] = {0};
    cav_hdfs_sasl *x = NULL;
    char user[256];
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_status st =
        cav_hdfs_sasl_handshake(&s, &c, "nn:8020", cid, &x, user, sizeof user, &err);
    FUZZ_CHECK(st != CSVAVRO_OK && x == NULL, "handshake succeeded without credentials");
    FUZZ_CHECK(st > CSVAVRO_OK && st <= CSVAVRO_E_CONNECT, "status %d", st);
    FUZZ_CHECK(err.message[0], "status %d without message", st);
    if (getenv("FUZZ_DEBUG")) fprintf(stderr, "status %d: %s\n", st, err.message);
    cav_hdfs_sasl_free(x);
    cav_hdfs_sock_close(&s);
    close(peer);
    return 0;
}
