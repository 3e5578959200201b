/*
 * test_avro_corrupt.c — the container reader on corrupt and truncated files: every byte
 * flipped, truncation at every byte (block boundaries included), a wrong sync marker, bad
 * varints, oversized lengths, a bad snappy CRC, garbage inside each codec's blocks. Each case
 * must end in an error with a byte offset inside the file and a block number in the message
 * (or, for a cut exactly at a block boundary, in a shorter valid file), never a crash or an
 * out-of-bounds read — the suite runs this under ASan+UBSan.
 *
 * The many variants are read from memory through a minimal csvavro_fs backend; the hand-made
 * cases through real files and the local backend.
 *
 * Block boundaries are found independently of the reader: they are the ends of the
 * occurrences of the sync marker (taken from the header) in the file.
 */
#include "avro/avro.h"
#include "avro_testdata.h"
#include "check.h"
#include "io/io.h"

#include <stdlib.h>
#include <unistd.h>

static char tmpdir[256];
static char fpath[512];

/* The files under test live in memory: a minimal read-only csvavro_fs backend (positioned
 * reads over a byte array), so that thousands of variants cost no disk I/O. The reader sees
 * exactly the same interface as for local or HDFS files. put_file also writes a real file
 * as well when test_fs is the local backend. */
static uint8_t *mem_data;
static size_t mem_len;

typedef struct mem_file {
    csvavro_file base;
} mem_file;

static csvavro_status m_pread(csvavro_file *f, void *buf, size_t len, int64_t off, size_t *got,
                              csvavro_error *err) {
    (void)f;
    (void)err;
    *got = 0;
    if (off < 0 || (size_t)off >= mem_len) return CSVAVRO_OK;
    size_t n = mem_len - (size_t)off < len ? mem_len - (size_t)off : len;
    memcpy(buf, mem_data + off, n);
    *got = n;
    return CSVAVRO_OK;
}
static csvavro_status m_write(csvavro_file *f, const void *b, size_t n, csvavro_error *err) {
    return cav_err(err, CSVAVRO_E_UNSUPPORTED, "read-only");
}
static csvavro_status m_close(csvavro_file *f, csvavro_error *err) {
    free(f);
    return CSVAVRO_OK;
}
static void m_abort(csvavro_file *f) {
    free(f);
}
static const cav_file_ops mem_file_ops = {m_pread, m_write, m_close, m_abort};

static csvavro_status m_open_read(csvavro_fs *fs, const char *path, csvavro_file **f,
                                  csvavro_error *err) {
    mem_file *m = calloc(1, sizeof *m);
    if (!m) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    m->base.ops = &mem_file_ops;
    m->base.size = (int64_t)mem_len;
    m->base.path = fpath;
    *f = &m->base;
    return CSVAVRO_OK;
}
static const cav_fs_ops mem_fs_ops = {.scheme = "mem", .open_read = m_open_read};
static csvavro_fs mem_fs = {&mem_fs_ops};
static csvavro_fs *test_fs = &mem_fs;

static void put_file(const uint8_t *d, size_t n) {
    free(mem_data);
    mem_data = malloc(n ? n : 1);
    if (n) memcpy(mem_data, d, n);
    mem_len = n;
    if (test_fs == &mem_fs) return;
    FILE *f = fopen(fpath, "wb");
    if (!f) return;
    if (n) fwrite(d, 1, n, f);
    fclose(f);
}

/* Reads the whole file in fpath: records through next_json (and separately through count).
 * Returns the status; *records the records read before the end or the error. */
static csvavro_status read_all(uint64_t *records, csvavro_error *err, size_t max_block) {
    csvavro_error_clear(err);
    *records = 0;
    csvavro_avro_reader *r = NULL;
    csvavro_status st = csvavro_avro_reader_open_ex(test_fs, fpath, max_block, &r, err);
    if (st != CSVAVRO_OK) return st;
    for (;;) {
        const char *line;
        size_t len;
        st = csvavro_avro_reader_next_json(r, &line, &len, err);
        if (st != CSVAVRO_OK || !line) break;
        (*records)++;
    }
    csvavro_avro_reader_close(r);
    return st;
}

static csvavro_status count_all(uint64_t *n, csvavro_error *err) {
    csvavro_error_clear(err);
    *n = 0;
    csvavro_avro_reader *r = NULL;
    csvavro_status st = csvavro_avro_reader_open(test_fs, fpath, &r, err);
    if (st == CSVAVRO_OK) st = csvavro_avro_reader_count(r, n, err);
    csvavro_avro_reader_close(r);
    return st;
}

/* A failing read must say where: offset inside the file, path, "block N" or "header". */
static void check_error(csvavro_status st, const csvavro_error *err, size_t file_len,
                        const char *what, size_t at) {
    CHECK(st != CSVAVRO_OK);
    if (st == CSVAVRO_OK) {
        fprintf(stderr, "  %s at %zu: no error\n", what, at);
        return;
    }
    CHECK(st == CSVAVRO_E_CORRUPT || st == CSVAVRO_E_LIMIT || st == CSVAVRO_E_UNSUPPORTED);
    if (!(err->offset >= 0 && err->offset <= (int64_t)file_len) ||
        !(strstr(err->message, "block ") || strstr(err->message, "header")))
        fprintf(stderr, "  %s at %zu: offset %lld: %s\n", what, at, (long long)err->offset,
                err->message);
    CHECK(err->offset >= 0 && err->offset <= (int64_t)file_len);
    CHECK(strstr(err->message, "block ") || strstr(err->message, "header"));
    CHECK(strcmp(err->path, fpath) == 0);
    if (st != CSVAVRO_E_CORRUPT && st != CSVAVRO_E_LIMIT && st != CSVAVRO_E_UNSUPPORTED)
        fprintf(stderr, "  %s at %zu: %s: %s\n", what, at, csvavro_status_name(st), err->message);
}

static void make_file(csvavro_codec c, uint64_t rows, size_t block, uint8_t **data, size_t *len,
                      uint64_t *n_written) {
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_avro_options o;
    csvavro_avro_options_init(&o);
    o.codec = c;
    o.block_size = block;
    /* Small-memory levels: bzip2 -9 needs 3.6 MiB to decode each block, which under ASan makes
     * the thousands of variants slow; the format is the same at every level. */
    if (c == CSVAVRO_CODEC_BZIP2) o.level = 1;
    if (c == CSVAVRO_CODEC_XZ) o.level = 0;
    o.has_seed = 1;
    o.seed = 5;
    csvavro_schema *s = NULL;
    cav_batch b;
    memset(&b, 0, sizeof b);
    cav_avro_writer *w = NULL;
    csvavro_file *out = NULL;
    uint8_t sync[16];
    uint32_t map[TD_NF];
    for (uint32_t i = 0; i < TD_NF; i++)
        map[i] = i;
    CHECK_OK(td_schema(&s, &err), &err);
    CHECK_OK(td_batch_init(&b, (uint32_t)rows, &err), &err);
    CHECK_OK(cav_avro_sync_marker(&o, 0, sync, &err), &err);
    CHECK_OK(csvavro_fs_create(cav_io_local(), fpath, 1, &out, &err), &err);
    CHECK_OK(cav_avro_writer_create(s, &o, sync, out, true, &w, &err), &err);
    CHECK_OK(td_fill(&b, 0, (uint32_t)rows, &err), &err);
    if (w) {
        CHECK_OK(cav_avro_writer_append(w, &b, map, &err), &err);
        CHECK_OK(cav_avro_writer_finish(w, &err), &err);
        *n_written = cav_avro_writer_rows(w);
    }
    cav_avro_writer_free(w);
    if (out) CHECK_OK(csvavro_file_close(out, &err), &err);
    cav_batch_free(&b);
    csvavro_schema_free(s);
    FILE *f = fopen(fpath, "rb");
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(*len);
    CHECK(fread(*data, 1, *len, f) == *len);
    fclose(f);
}

/* Ends of the block boundaries: header end and the end of each later sync occurrence. */
static size_t boundaries(const uint8_t *d, size_t n, size_t *out, size_t cap, uint8_t sync[16]) {
    /* The header ends with the first 16-byte sequence that reoccurs at the end of the file. */
    memcpy(sync, d + n - 16, 16);
    size_t k = 0;
    for (size_t i = 4; i + 16 <= n && k < cap; i++)
        if (memcmp(d + i, sync, 16) == 0) out[k++] = i + 16;
    return k;
}

static void test_codec(csvavro_codec c) {
    uint8_t *good = NULL;
    size_t n = 0;
    uint64_t rows = 0;
    make_file(c, 12, 200, &good, &n, &rows);
    if (!good) return;
    size_t bnd[256];
    uint8_t sync[16];
    size_t nb = boundaries(good, n, bnd, 256, sync);
    CHECK(nb >= 4); /* header + at least 3 blocks */
    uint8_t *buf = malloc(n);
    csvavro_error err;
    uint64_t recs;

    /* The intact file. */
    put_file(good, n);
    CHECK_OK(read_all(&recs, &err, 0), &err);
    CHECK_INT(recs, rows);

    /* Truncation at every byte. At a block boundary the file is a valid shorter file (Avro
     * has no trailer); anywhere else it is an error. */
    uint64_t recs_at_boundary = 0;
    for (size_t cut = 0; cut < n; cut++) {
        put_file(good, cut);
        csvavro_status st = read_all(&recs, &err, 0);
        bool at_boundary = false;
        for (size_t k = 0; k < nb; k++)
            at_boundary |= bnd[k] == cut;
        if (at_boundary) {
            CHECK_OK(st, &err);
            CHECK(recs >= recs_at_boundary);
            recs_at_boundary = recs;
            uint64_t cnt;
            CHECK_OK(count_all(&cnt, &err), &err);
            CHECK_INT(cnt, recs);
        } else {
            check_error(st, &err, cut, "truncation", cut);
            uint64_t cnt;
            check_error(count_all(&cnt, &err), &err, cut, "truncation (count)", cut);
        }
    }

    /* Every byte flipped: never a crash; errors carry a location. For snappy (CRC-32) and
     * xz (CRC-64), every flip after the header is an error. */
    for (size_t i = 0; i < n; i++) {
        memcpy(buf, good, n);
        buf[i] ^= 0x5a;
        put_file(buf, n);
        csvavro_status st = read_all(&recs, &err, 0);
        if (st != CSVAVRO_OK) check_error(st, &err, n, "flip", i);
        /* (Not bzip2: the padding bits at the end of its stream are outside its CRC.) */
        bool checked = c == CSVAVRO_CODEC_SNAPPY || c == CSVAVRO_CODEC_XZ;
        if (checked && i >= bnd[0]) {
            if (st == CSVAVRO_OK)
                fprintf(stderr, "  %s: flip at %zu not detected\n", csvavro_codec_name(c), i);
            CHECK(st != CSVAVRO_OK);
        }
        uint64_t cnt;
        st = count_all(&cnt, &err);
        if (st != CSVAVRO_OK) check_error(st, &err, n, "flip (count)", i);
    }

    /* Wrong sync marker after block 2. */
    memcpy(buf, good, n);
    buf[bnd[2] - 1] ^= 1;
    put_file(buf, n);
    csvavro_status st = read_all(&recs, &err, 0);
    CHECK_INT(st, CSVAVRO_E_CORRUPT);
    CHECK(strstr(err.message, "sync") && strstr(err.message, "block 2"));
    CHECK_INT(err.offset, (int64_t)bnd[2] - 16);
    free(buf);
    free(good);
}

/* Hand-made files: bad varints, oversized lengths, bad CRC. */
static void test_crafted(void) {
    uint8_t *good = NULL;
    size_t n = 0;
    uint64_t rows = 0;
    make_file(CSVAVRO_CODEC_NULL, 24, 300, &good, &n, &rows);
    if (!good) return;
    size_t bnd[256];
    uint8_t sync[16];
    size_t nb = boundaries(good, n, bnd, 256, sync);
    CHECK(nb >= 3);
    size_t h = bnd[0];
    uint8_t *buf = malloc(n + 64);
    csvavro_error err;
    uint64_t recs;

    /* Block count: eleven continuation bytes. */
    memcpy(buf, good, h);
    memset(buf + h, 0xff, 11);
    memcpy(buf + h + 11, sync, 16);
    put_file(buf, h + 27);
    csvavro_status st = read_all(&recs, &err, 0);
    CHECK_INT(st, CSVAVRO_E_CORRUPT);
    CHECK(strstr(err.message, "varint") && strstr(err.message, "block 1"));
    CHECK_INT(err.offset, (int64_t)h);

    /* Block size of 2^40 bytes: over the ceiling. */
    memcpy(buf, good, h);
    size_t k = h;
    k += cav_varint_put(buf + k, cav_zigzag64(3));
    k += cav_varint_put(buf + k, cav_zigzag64((int64_t)1 << 40));
    memcpy(buf + k, sync, 16);
    put_file(buf, k + 16);
    st = read_all(&recs, &err, 0);
    CHECK_INT(st, CSVAVRO_E_LIMIT);
    CHECK(strstr(err.message, "ceiling") != NULL);

    /* A negative block size and a negative count. */
    k = h;
    k += cav_varint_put(buf + k, cav_zigzag64(3));
    k += cav_varint_put(buf + k, cav_zigzag64(-5));
    put_file(buf, k + 16);
    CHECK_INT(read_all(&recs, &err, 0), CSVAVRO_E_CORRUPT);
    k = h;
    k += cav_varint_put(buf + k, cav_zigzag64(-3));
    k += cav_varint_put(buf + k, cav_zigzag64(0));
    memcpy(buf + k, sync, 16);
    put_file(buf, k + 16);
    CHECK_INT(read_all(&recs, &err, 0), CSVAVRO_E_CORRUPT);

    /* A configured ceiling smaller than the file's blocks. */
    put_file(good, n);
    st = read_all(&recs, &err, 100);
    CHECK_INT(st, CSVAVRO_E_LIMIT);
    CHECK(strstr(err.message, "block 1") != NULL);

    /* A string length that runs past its block: one record {"s": len 1000} in 3 bytes. */
    {
        csvavro_error e2;
        csvavro_schema *s = NULL;
        CHECK_OK(csvavro_schema_create("R", NULL, &s, &e2), &e2);
        CHECK_OK(csvavro_schema_add_field(s, "s", NULL, CSVAVRO_TYPE_STRING, 0, &e2), &e2);
        csvavro_avro_options o;
        csvavro_avro_options_init(&o);
        o.codec = CSVAVRO_CODEC_NULL;
        cav_buf hb;
        cav_buf_init(&hb, 0);
        csvavro_file *f = NULL;
        CHECK_OK(csvavro_fs_create(cav_io_local(), fpath, 1, &f, &e2), &e2);
        if (f) {
            CHECK_OK(cav_avro_write_header(s, &o, sync, f, &e2), &e2);
            uint8_t blk[64];
            size_t m = 0;
            m += cav_varint_put(blk + m, cav_zigzag64(1));
            m += cav_varint_put(blk + m, cav_zigzag64(3));
            m += cav_varint_put(blk + m, cav_zigzag64(1000));
            blk[m++] = 'a';
            memcpy(blk + m, sync, 16);
            m += 16;
            CHECK_OK(csvavro_file_write(f, blk, m, &e2), &e2);
            CHECK_OK(csvavro_file_close(f, &e2), &e2);
        }
        cav_buf_free(&hb);
        csvavro_schema_free(s);
        st = read_all(&recs, &err, 0);
        CHECK_INT(st, CSVAVRO_E_CORRUPT);
        CHECK(strstr(err.message, "runs past") && strstr(err.message, "block 1"));
        CHECK_INT(err.record, 1);
    }

    /* Not Avro at all; empty file. */
    put_file((const uint8_t *)"PAR1xxxxxxxxxxxxxxxxxxxxxxxxxxxx", 32);
    st = read_all(&recs, &err, 0);
    CHECK_INT(st, CSVAVRO_E_CORRUPT);
    CHECK(strstr(err.message, "magic") != NULL);
    put_file(good, 0);
    CHECK_INT(read_all(&recs, &err, 0), CSVAVRO_E_CORRUPT);
    free(buf);
    free(good);

    /* Snappy: flip a byte of the CRC of block 1. */
    make_file(CSVAVRO_CODEC_SNAPPY, 24, 300, &good, &n, &rows);
    if (!good) return;
    nb = boundaries(good, n, bnd, 256, sync);
    good[bnd[1] - 16 - 1] ^= 0x01;
    put_file(good, n);
    st = read_all(&recs, &err, 0);
    CHECK_INT(st, CSVAVRO_E_CORRUPT);
    CHECK(strstr(err.message, "CRC") && strstr(err.message, "block 1"));
    free(good);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_avro_corrupt.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    snprintf(fpath, sizeof fpath, "%s/f.avro", tmpdir);
    for (int c = 0; c <= CSVAVRO_CODEC_XZ; c++)
        CHECK_RUN(test_codec((csvavro_codec)c));
    /* The hand-made cases go through the local file backend. */
    test_fs = cav_io_local();
    CHECK_RUN(test_crafted());
    free(mem_data);
    unlink(fpath);
    rmdir(tmpdir);
    return CHECK_DONE();
}
