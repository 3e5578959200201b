/*
 * test_hdfs.c — unit tests of the HDFS client's codecs: CRC32C (published check values,
 * RFC 3720 vectors, hardware vs table on random data, chunked verification), CRC32, varints,
 * the packet header codec and its bounds checks (every truncation, corrupted lengths, missing
 * fields), Hadoop XML config parsing, NameNode address resolution from the environment and
 * core-site.xml (incl. an HA nameservice), the Java exception -> status map, and the base64
 * encoder of token user names and passwords (RFC 4648 section 10's vectors; a binary vector
 * from Python's base64 module).
 */
#include "check.h"
#include "hdfs/hdfs.h"
#include "hdfs/hdfs_digest.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* CRC32C sums of buf[0, len) in chunks of bpc (into sums) against the table-driven CRC, then
 * verification: clean, and with one damaged byte in each chunk in turn. */
static void check_crc32c_chunks(uint8_t *buf, size_t len, uint32_t bpc, uint8_t *sums) {
    cav_hdfs_csum_compute(2, bpc, buf, len, sums);
    int bad = 0;
    for (size_t c = 0; c * bpc < len; c++)
        if (cav_be32_get(sums + 4 * c) !=
            cav_crc32c_sw(0, buf + c * bpc, CAV_MIN((size_t)bpc, len - c * bpc)))
            bad++;
    CHECK_INT(bad, 0);
    CHECK_INT(cav_hdfs_csum_verify(2, bpc, buf, len, sums), -1);
    for (size_t c = 0; c * bpc < len; c++) {
        size_t at = c * bpc + (c * 37) % CAV_MIN((size_t)bpc, len - c * bpc);
        buf[at] ^= 0x40;
        CHECK_INT(cav_hdfs_csum_verify(2, bpc, buf, len, sums), (long)c);
        buf[at] ^= 0x40;
    }
}

static void test_crc(void) {
    const char *s = "123456789";
    CHECK_INT(cav_crc32c(0, s, 9), 0xE3069283u);
    CHECK_INT(cav_crc32c_sw(0, s, 9), 0xE3069283u);
    CHECK_INT(cav_crc32(0, s, 9), 0xCBF43926u);
    uint8_t z[32] = {0}, o[32], inc[32];
    memset(o, 0xFF, sizeof o);
    for (int i = 0; i < 32; i++)
        inc[i] = (uint8_t)i;
    /* RFC 3720 (iSCSI) B.4 vectors */
    CHECK_INT(cav_crc32c_sw(0, z, 32), 0x8A9136AAu);
    CHECK_INT(cav_crc32c_sw(0, o, 32), 0x62A8AB43u);
    CHECK_INT(cav_crc32c_sw(0, inc, 32), 0x46DD794Eu);
    CHECK_INT(cav_crc32c(0, "", 0), 0);
    /* incremental == one shot */
    CHECK_INT(cav_crc32c(cav_crc32c(0, s, 4), s + 4, 5), 0xE3069283u);
    CHECK_INT(cav_crc32c_sw(cav_crc32c_sw(0, s, 3), s + 3, 6), 0xE3069283u);
    /* hardware vs table on random data, every length and misalignment */
    uint32_t (*hw)(uint32_t, const void *, size_t) = cav_crc32c_hw_fn();
    uint8_t buf[4200];
    uint64_t seed = 42;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)cav_splitmix64(&seed);
    if (hw) {
        int bad = 0;
        for (size_t off = 0; off < 9; off++)
            for (size_t n = 0; n < 1100; n += 1 + n / 7)
                if (hw(0, buf + off, n) != cav_crc32c_sw(0, buf + off, n)) bad++;
        CHECK_INT(bad, 0);
        CHECK_INT(hw(0, s, 9), 0xE3069283u);
    } else {
        fprintf(stderr, "note: no SSE4.2 here, hardware CRC32C path not tested\n");
    }
    /* chunked sums and verification, both algorithms, a short last chunk */
    uint8_t sums[4 * 9];
    for (int type = 1; type <= 2; type++) {
        cav_hdfs_csum_compute(type, 512, buf, 4200, sums);
        CHECK_INT(cav_hdfs_csum_verify(type, 512, buf, 4200, sums), -1);
        uint32_t last = type == 1 ? cav_crc32(0, buf + 4096, 104) : cav_crc32c(0, buf + 4096, 104);
        CHECK_INT(cav_be32_get(sums + 32), last);
        buf[1500] ^= 1; /* chunk 2 */
        CHECK_INT(cav_hdfs_csum_verify(type, 512, buf, 4200, sums), 2);
        buf[1500] ^= 1;
    }
    /* the three-chunks-at-once path against the table, chunk sizes that are and are not
     * multiples of 8, a damaged byte in each chunk of a group of three and after it */
    static const uint32_t bpcs[] = {512, 8, 1, 7, 100, 513, 1031};
    uint8_t many[4 * 4200];
    for (size_t t = 0; t < CAV_ARRAY_LEN(bpcs); t++) /* 7.5 chunks */
        check_crc32c_chunks(buf, CAV_MIN(sizeof buf, (size_t)bpcs[t] * 7 + bpcs[t] / 2), bpcs[t],
                            many);
}

/* The eight-chunks-at-once path (VPCLMULQDQ, where the CPU has it; else the others) against the
 * table: chunk sizes that are multiples of 16 (the path) and not, 17.5 chunks (two groups of
 * eight, then the three-at-once path and a short last chunk), a damaged byte in every chunk. */
static void test_crc_wide(void) {
    static const uint32_t bpcs[] = {16, 32, 48, 512, 1024, 520, 24};
    static uint8_t big[1024 * 18], sums[4 * 19];
    uint64_t seed = 99;
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)cav_splitmix64(&seed);
    if (!(cav_cpu_features() & CAV_CPU_VPCLMUL))
        fprintf(stderr, "note: no VPCLMULQDQ here, the eight-chunk CRC32C path not tested\n");
    for (size_t t = 0; t < CAV_ARRAY_LEN(bpcs); t++) /* 17.5 chunks */
        check_crc32c_chunks(big, (size_t)bpcs[t] * 17 + bpcs[t] / 2, bpcs[t], sums);
}

/* The one varint (core_varint.h), as the protobuf code uses it. */
static void test_varint(void) {
    uint8_t b[10];
    uint64_t v;
    uint64_t vals[] = {0, 1, 127, 128, 300, 16383, 16384, 0xFFFFFFFFull, UINT64_MAX};
    for (size_t i = 0; i < CAV_ARRAY_LEN(vals); i++) {
        size_t n = cav_varint_put(b, vals[i]);
        CHECK_INT((int)cav_varint_len(vals[i]), (int)n);
        const uint8_t *q = b;
        CHECK(cav_varint_get(&q, b + n, &v));
        CHECK(q == b + n);
        CHECK(v == vals[i]);
        q = b;
        if (n > 1) CHECK(!cav_varint_get(&q, b + n - 1, &v)); /* truncated */
        CHECK(q == b);
    }
    uint8_t over[11];
    memset(over, 0x80, sizeof over);
    const uint8_t *q = over;
    CHECK(!cav_varint_get(&q, over + sizeof over, &v)); /* longer than 10 bytes */
    /* the 10th byte holds bit 63 only: 0x01 is UINT64_MAX's, 0x02 would overflow 64 bits */
    uint8_t ten[10];
    memset(ten, 0xFF, 9);
    ten[9] = 0x01;
    q = ten;
    CHECK(cav_varint_get(&q, ten + 10, &v) && v == UINT64_MAX);
    ten[9] = 0x02;
    q = ten;
    CHECK(!cav_varint_get(&q, ten + 10, &v));
}

static void test_packet(void) {
    csvavro_error e;
    uint8_t out[64];
    cav_hdfs_pkt h = {.offset = 200000, .seqno = 7, .last = 1, .data_len = 0};
    size_t n = cav_hdfs_pkt_encode(&h, 0, out);
    /* the end-of-block packet from the protocol brief */
    const uint8_t want[] = {0, 0, 0, 4, 0, 0x19, 0x09, 0x40, 0x0d, 0x03, 0,    0, 0, 0, 0, 0x11,
                            7, 0, 0, 0, 0, 0,    0,    0,    0x18, 1,    0x25, 0, 0, 0, 0};
    CHECK_MEM(out, n, want, sizeof want);
    uint32_t plen;
    uint16_t hlen;
    CHECK_OK(cav_hdfs_pkt_prefix(out, &plen, &hlen, &e), &e);
    CHECK_INT(plen, 4);
    CHECK_INT(hlen, 25);
    cav_hdfs_pkt d;
    CHECK_OK(cav_hdfs_pkt_decode(out + 6, hlen, &d, &e), &e);
    CHECK_INT(d.offset, 200000);
    CHECK_INT(d.seqno, 7);
    CHECK_INT(d.last, 1);
    CHECK_INT(d.data_len, 0);
    /* every truncation of the header is refused, never read past */
    for (size_t k = 0; k < hlen; k++) {
        uint8_t *cut = malloc(k ? k : 1); /* ASan sees any over-read */
        memcpy(cut, out + 6, k);
        CHECK(cav_hdfs_pkt_decode(cut, k, &d, &e) != CSVAVRO_OK);
        free(cut);
    }
    /* a data packet: PLEN must match chunks */
    cav_hdfs_pkt p2 = {.offset = 0, .seqno = 1, .data_len = 65536};
    n = cav_hdfs_pkt_encode(&p2, 512, out);
    CHECK_OK(cav_hdfs_pkt_prefix(out, &plen, &hlen, &e), &e);
    CHECK_INT(plen, 66052);
    CHECK_OK(cav_hdfs_pkt_decode(out + 6, hlen, &d, &e), &e);
    size_t cl;
    CHECK_OK(cav_hdfs_pkt_check(&d, plen, CAV_HDFS_CSUM_CRC32C, 512, &cl, &e), &e);
    CHECK_INT(cl, 512);
    CHECK(cav_hdfs_pkt_check(&d, plen + 4, CAV_HDFS_CSUM_CRC32C, 512, &cl, &e) ==
          CSVAVRO_E_PROTOCOL);
    CHECK(cav_hdfs_pkt_check(&d, plen, CAV_HDFS_CSUM_CRC32C, 0, &cl, &e) == CSVAVRO_E_PROTOCOL);
    /* out-of-range lengths */
    uint8_t bad[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 25};
    CHECK(cav_hdfs_pkt_prefix(bad, &plen, &hlen, &e) == CSVAVRO_E_PROTOCOL);
    uint8_t bad2[6] = {0, 0, 0, 3, 0, 25};
    CHECK(cav_hdfs_pkt_prefix(bad2, &plen, &hlen, &e) == CSVAVRO_E_PROTOCOL);
    uint8_t bad3[6] = {0, 0, 0, 4, 0x7F, 0xFF};
    CHECK(cav_hdfs_pkt_prefix(bad3, &plen, &hlen, &e) == CSVAVRO_E_PROTOCOL);
    /* missing required field (no dataLen) */
    CHECK(cav_hdfs_pkt_decode(out + 6, 20, &d, &e) == CSVAVRO_E_PROTOCOL);
    /* negative dataLen */
    uint8_t neg[25];
    memcpy(neg, out + 6, 25);
    neg[21] = neg[22] = neg[23] = neg[24] = 0xFF;
    CHECK(cav_hdfs_pkt_decode(neg, 25, &d, &e) == CSVAVRO_E_PROTOCOL);
    /* unknown fields are skipped: append a length-delimited field 9 */
    uint8_t ext[40];
    memcpy(ext, out + 6, 25);
    ext[25] = 0x4A, ext[26] = 2, ext[27] = 'h', ext[28] = 'i';
    CHECK_OK(cav_hdfs_pkt_decode(ext, 29, &d, &e), &e);
    ext[26] = 50; /* its length runs past the header */
    CHECK(cav_hdfs_pkt_decode(ext, 29, &d, &e) == CSVAVRO_E_PROTOCOL);
    /* random garbage never crashes */
    uint64_t seed = 7;
    for (int i = 0; i < 20000; i++) {
        uint8_t g[40];
        size_t len = (size_t)(cav_splitmix64(&seed) % 40);
        for (size_t k = 0; k < len; k++)
            g[k] = (uint8_t)cav_splitmix64(&seed);
        (void)cav_hdfs_pkt_decode(g, len, &d, &e);
    }
}

static void test_xml(void) {
    const char *x = "<?xml version=\"1.0\"?>\n<configuration>\n"
                    "  <property>\n    <name>fs.defaultFS</name>\n"
                    "    <value> hdfs://nn1.example:9000 </value>\n  </property>\n"
                    "  <property><name>a&amp;b</name><value>x&lt;y</value></property>\n"
                    "  <property><name>dup</name><value>1</value></property>\n"
                    "  <property><name>dup</name><value>2</value></property>\n"
                    "  <property><name>novalue</name></property>\n"
                    "</configuration>\n";
    char *v = cav_hdfs_xml_get(x, strlen(x), "fs.defaultFS");
    CHECK_STR(v, "hdfs://nn1.example:9000");
    cav_free(v);
    v = cav_hdfs_xml_get(x, strlen(x), "a&b");
    CHECK_STR(v, "x<y");
    cav_free(v);
    v = cav_hdfs_xml_get(x, strlen(x), "dup");
    CHECK_STR(v, "2");
    cav_free(v);
    CHECK(cav_hdfs_xml_get(x, strlen(x), "novalue") == NULL);
    CHECK(cav_hdfs_xml_get(x, strlen(x), "missing") == NULL);
    /* truncated document: no over-read */
    for (size_t k = 0; k < strlen(x); k += 3) {
        char *cut = malloc(k + 1);
        memcpy(cut, x, k);
        cut[k] = 0;
        cav_free(cav_hdfs_xml_get(cut, k, "fs.defaultFS"));
        free(cut);
    }
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_conf(void) {
    csvavro_error e;
    cav_hdfs_conf c;
    unsetenv("HADOOP_NAMENODE");
    unsetenv("HADOOP_HOME");
    setenv("HADOOP_CONF_DIR", "/nonexistent-csvavro", 1);
    setenv("HADOOP_USER_NAME", "alice", 1);
    setenv("CSVAVRO_HDFS_RETRIES", "2", 1);
    CHECK_OK(cav_hdfs_conf_load("nn:9000", &c, &e), &e);
    CHECK_INT(c.n_nn, 1);
    CHECK_STR(c.nn[0], "nn:9000");
    CHECK_STR(c.user, "alice");
    CHECK_INT(c.retries, 2);
    cav_hdfs_conf_free(&c);
    CHECK_OK(cav_hdfs_conf_load("nnhost", &c, &e), &e);
    CHECK_STR(c.nn[0], "nnhost:8020");
    cav_hdfs_conf_free(&c);
    /* nothing configured: a clear usage error */
    CHECK(cav_hdfs_conf_load("", &c, &e) == CSVAVRO_E_USAGE);
    CHECK(strstr(e.message, "HADOOP_NAMENODE") != NULL);
    /* HADOOP_NAMENODE list */
    setenv("HADOOP_NAMENODE", "a:1, b:2", 1);
    CHECK_OK(cav_hdfs_conf_load("", &c, &e), &e);
    CHECK_INT(c.n_nn, 2);
    if (c.n_nn == 2) {
        CHECK_STR(c.nn[0], "a:1");
        CHECK_STR(c.nn[1], "b:2");
    }
    cav_hdfs_conf_free(&c);
    unsetenv("HADOOP_NAMENODE");
    /* core-site.xml with fs.defaultFS, then an HA nameservice through hdfs-site.xml */
    char dir[] = "/tmp/test_hdfs_confXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char core[256], hsite[256];
    snprintf(core, sizeof core, "%s/core-site.xml", dir);
    snprintf(hsite, sizeof hsite, "%s/hdfs-site.xml", dir);
    write_file(core, "<configuration><property><name>fs.defaultFS</name>"
                     "<value>hdfs://127.0.0.1:4321/</value></property></configuration>");
    setenv("HADOOP_CONF_DIR", dir, 1);
    CHECK_OK(cav_hdfs_conf_load("", &c, &e), &e);
    CHECK_INT(c.n_nn, 1);
    if (c.n_nn) CHECK_STR(c.nn[0], "127.0.0.1:4321");
    cav_hdfs_conf_free(&c);
    write_file(core, "<configuration><property><name>fs.defaultFS</name>"
                     "<value>hdfs://mycluster</value></property></configuration>");
    write_file(hsite,
               "<configuration>"
               "<property><name>dfs.ha.namenodes.mycluster</name><value>nn1,nn2</value></property>"
               "<property><name>dfs.namenode.rpc-address.mycluster.nn1</name><value>h1:8020</"
               "value></property>"
               "<property><name>dfs.namenode.rpc-address.mycluster.nn2</name><value>h2:8020</"
               "value></property>"
               "</configuration>");
    CHECK_OK(cav_hdfs_conf_load("", &c, &e), &e);
    CHECK_INT(c.n_nn, 2);
    if (c.n_nn == 2) {
        CHECK_STR(c.nn[0], "h1:8020");
        CHECK_STR(c.nn[1], "h2:8020");
    }
    cav_hdfs_conf_free(&c);
    /* HADOOP_HOME/etc/hadoop when HADOOP_CONF_DIR is unset */
    unsetenv("HADOOP_CONF_DIR");
    setenv("HADOOP_HOME", "/opt/hadoop", 1);
    char *d = cav_hdfs_conf_dir();
    CHECK_STR(d, "/opt/hadoop/etc/hadoop");
    cav_free(d);
    unsetenv("HADOOP_HOME");
    /* Kerberos: the security keys are read; unknown mechanisms and protections are refused */
    write_file(core, "<configuration><property><name>hadoop.security.authentication</name>"
                     "<value>kerberos</value></property><property>"
                     "<name>hadoop.rpc.protection</name><value>integrity, privacy</value>"
                     "</property><property><name>dfs.namenode.kerberos.principal</name>"
                     "<value>nn/_HOST@EXAMPLE.COM</value></property></configuration>");
    setenv("HADOOP_CONF_DIR", dir, 1);
    setenv("CSVAVRO_KEYTAB", "/nonexistent.keytab", 1);
    setenv("CSVAVRO_PRINCIPAL", "carol/admin@EXAMPLE.COM", 1);
    CHECK_OK(cav_hdfs_conf_load("h:1", &c, &e), &e);
    CHECK_INT(c.kerberos, 1);
    CHECK_INT((int)c.rpc_qop, CAV_QOP_INTEGRITY | CAV_QOP_PRIVACY);
    CHECK_STR(c.nn_principal, "nn/_HOST@EXAMPLE.COM");
    CHECK_STR(c.user, "carol"); /* the principal's short name, not HADOOP_USER_NAME */
    cav_hdfs_conf_free(&c);
    unsetenv("CSVAVRO_PRINCIPAL");
    CHECK(cav_hdfs_conf_load("h:1", &c, &e) == CSVAVRO_E_USAGE); /* keytab without principal */
    CHECK(strstr(e.message, "CSVAVRO_PRINCIPAL") != NULL);
    unsetenv("CSVAVRO_KEYTAB");
    write_file(core, "<configuration><property><name>hadoop.security.authentication</name>"
                     "<value>kerberos</value></property><property>"
                     "<name>hadoop.rpc.protection</name><value>secret</value>"
                     "</property></configuration>");
    CHECK(cav_hdfs_conf_load("h:1", &c, &e) == CSVAVRO_E_USAGE);
    CHECK(strstr(e.message, "hadoop.rpc.protection") != NULL && strstr(e.message, "secret"));
    write_file(core, "<configuration><property><name>hadoop.security.authentication</name>"
                     "<value>ldap</value></property></configuration>");
    CHECK(cav_hdfs_conf_load("h:1", &c, &e) == CSVAVRO_E_UNSUPPORTED);
    CHECK(strstr(e.message, "ldap") != NULL);
    unsigned q = 0;
    CHECK_OK(cav_hdfs_parse_qop("authentication", &q, &e), &e);
    CHECK_INT((int)q, CAV_QOP_AUTH);
    CHECK(cav_hdfs_parse_qop("", &q, &e) == CSVAVRO_E_USAGE);
    CHECK(cav_hdfs_parse_qop("privacyx", &q, &e) == CSVAVRO_E_USAGE);
    unlink(core);
    unlink(hsite);
    rmdir(dir);
    unsetenv("HADOOP_CONF_DIR");
}

static void test_exceptions(void) {
    CHECK_INT(cav_hdfs_exception_status("java.io.FileNotFoundException"), CSVAVRO_E_NOT_FOUND);
    CHECK_INT(cav_hdfs_exception_status("org.apache.hadoop.fs.FileAlreadyExistsException"),
              CSVAVRO_E_EXISTS);
    CHECK_INT(cav_hdfs_exception_status("org.apache.hadoop.security.AccessControlException"),
              CSVAVRO_E_PERMISSION);
    CHECK_INT(cav_hdfs_exception_status("org.apache.hadoop.fs.PathIsNotEmptyDirectoryException"),
              CSVAVRO_E_NOT_EMPTY);
    CHECK_INT(cav_hdfs_exception_status("com.example.Whatever"), CSVAVRO_E_REMOTE);
    CHECK_INT(cav_hdfs_exception_status(NULL), CSVAVRO_E_REMOTE);
}

static void test_base64(void) {
    static const char *const rfc[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    csvavro_error err = {0};
    cav_buf b;
    cav_buf_init(&b, 0);
    for (size_t i = 0; i < CAV_ARRAY_LEN(rfc); i++) {
        cav_buf_reset(&b);
        CHECK_OK(cav_base64((const uint8_t *)rfc[i][0], strlen(rfc[i][0]), &b, &err), &err);
        CHECK_STR((const char *)b.data, rfc[i][1]);
        CHECK_INT(b.len, strlen(rfc[i][1]));
    }
    /* bytes 0, 7, 14, ..., 252 then ff fe 00, appended after "x=": python3 -c 'import base64;
     * print(base64.b64encode(bytes(range(256))[::7] + b"\xff\xfe\x00").decode())' */
    uint8_t bin[40];
    for (int i = 0; i < 37; i++)
        bin[i] = (uint8_t)(7 * i);
    bin[37] = 0xff, bin[38] = 0xfe, bin[39] = 0;
    cav_buf_reset(&b);
    CHECK_OK(cav_buf_append(&b, "x=", 2, &err), &err);
    CHECK_OK(cav_base64(bin, sizeof bin, &b, &err), &err);
    CHECK_STR((const char *)b.data, "x=AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tng5+71/P/+AA==");
    cav_buf_free(&b);
}

int main(void) {
    CHECK_RUN(test_crc());
    CHECK_RUN(test_crc_wide());
    CHECK_RUN(test_varint());
    CHECK_RUN(test_packet());
    CHECK_RUN(test_xml());
    CHECK_RUN(test_conf());
    CHECK_RUN(test_exceptions());
    CHECK_RUN(test_base64());
    printf("%d checks, %d failures\n", check_count, check_failures);
    return check_failures != 0;
}
