/*
 * fuzz_hdfs_token.c — the client's parsers of delegation-token bytes (src/hdfs/hdfs_token.c):
 * Hadoop token storage files (HADOOP_TOKEN_FILE_LOCATION, `csvavro fs token print`; format
 * versions 0 and 1) and the HDFS_DELEGATION_TOKEN identifier decoder.
 *
 * Input: the bytes of a token file (also tried with "HDTS" 0 / "HDTS" 1 in front, so that the
 * fuzzer need not find the magic), and each token identifier found is decoded.
 * Oracle: no crash, leak or sanitizer report; a refusal names the file; every parsed token's
 * lengths are within the documented bounds; a decoded identifier's names are NUL-free strings.
 */
#include "fuzz_util.h"
#include "hdfs/hdfs.h"

static void check_creds(const uint8_t *p, size_t n) {
    cav_hdfs_creds c;
    csvavro_error e;
    csvavro_error_clear(&e);
    csvavro_status st = cav_hdfs_creds_parse(p, n, "fuzz.tok", &c, &e);
    if (st != CSVAVRO_OK) {
        FUZZ_CHECK(strstr(e.message, "fuzz.tok") != NULL, "a refusal that does not name the file");
        return;
    }
    for (size_t i = 0; i < c.n; i++) {
        const cav_hdfs_token *t = &c.t[i];
        FUZZ_CHECK(t->id_len <= CAV_HDFS_TOKEN_MAX_ID && t->pw_len <= CAV_HDFS_TOKEN_MAX_PW,
                   "a token over the bounds");
        FUZZ_CHECK(t->kind && t->service && t->alias, "a token without its strings");
        cav_hdfs_dtid d;
        if (cav_hdfs_dtid_decode(t->id, t->id_len, &d))
            FUZZ_CHECK(strlen(d.owner) < sizeof d.owner && strlen(d.renewer) < sizeof d.renewer,
                       "identifier strings");
    }
    cav_hdfs_creds_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0;
    check_creds(data, size);
    uint8_t *b = cav_malloc(size + 5);
    if (!b) return 0;
    memcpy(b, "HDTS", 4);
    memcpy(b + 5, data, size);
    for (int v = 0; v < 2; v++) {
        b[4] = (uint8_t)v;
        check_creds(b, size + 5);
    }
    cav_free(b);
    cav_hdfs_dtid d;
    (void)cav_hdfs_dtid_decode(data, size, &d);
    return 0;
}
