/*
 * fuzz_avro_read.c — the Avro container reader (src/avro/avro_read.c) on arbitrary bytes, every
 * codec (the seed corpus holds real files written by csvavro with each codec).
 *
 * The input is the whole file, served from memory. The reader is opened with a 4 MiB block
 * ceiling; every record is decoded to JSON, the metadata walked, and a second reader counts
 * the records without decoding, and a third decodes them column-wise (the Python package's
 * read_avro: every primitive and logical type, decimals as bytes or fixed). Checks: an error
 * is one of the documented data statuses (corrupt, limit, schema, unsupported, encoding, nomem)
 * with a message; when every record decoded cleanly the count agrees, and so do the columns'
 * rows when the schema is a flat record; string/bytes/decimal offsets start at 0 and never
 * decrease; each JSON line is one object ({...}). A fourth reader reads the file as its own
 * schema given as the reader schema (the re-encoding of Avro's resolution) and picks every
 * top-level field's value (cat --where's path: scalars kept, anything else parsed and skipped):
 * when both read every record, the same number. No crash, leak or out-of-bounds access
 * (ASan/UBSan).
 */
#include "fuzz_util.h"

#include "avro/avro.h"

static bool data_status(csvavro_status s) {
    return s == CSVAVRO_E_CORRUPT || s == CSVAVRO_E_LIMIT || s == CSVAVRO_E_SCHEMA ||
           s == CSVAVRO_E_UNSUPPORTED || s == CSVAVRO_E_ENCODING || s == CSVAVRO_E_NOMEM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fz_mfs fs;
    if (!fs.base.ops) fz_mfs_init(&fs);
    fz_mfs_set(&fs, data, size);
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_avro_reader *r;
    csvavro_status st = csvavro_avro_reader_open_ex(&fs.base, "in.avro", 4u << 20, &r, &err);
    if (st != CSVAVRO_OK) {
        FUZZ_CHECK(data_status(st), "open: status %d (%s)", st, err.message);
        FUZZ_CHECK(err.message[0], "open: no message");
        return 0;
    }
    FUZZ_CHECK(csvavro_avro_reader_schema_json(r) != NULL, "no schema");
    FUZZ_CHECK(csvavro_avro_reader_codec(r) != NULL, "no codec");
    size_t nm = csvavro_avro_reader_meta_count(r);
    for (size_t i = 0; i < nm; i++) {
        const char *k, *v;
        size_t vl;
        csvavro_avro_reader_meta(r, i, &k, &v, &vl);
        FUZZ_CHECK(k && v && v[vl] == '\0', "meta %zu", i);
    }
    uint64_t n = 0;
    for (;;) {
        const char *line;
        size_t len;
        st = csvavro_avro_reader_next_json(r, &line, &len, &err);
        if (st != CSVAVRO_OK) {
            FUZZ_CHECK(data_status(st), "next: status %d (%s)", st, err.message);
            FUZZ_CHECK(err.message[0], "next: no message");
            break;
        }
        if (!line) {
            FUZZ_CHECK(len == 0, "end with len");
            break;
        }
        /* one JSON value per line: an object for a record schema; any other writer schema
         * (a valid Avro file may have a double or an array at the top) gives its own value */
        FUZZ_CHECK(len >= 1 && !memchr(line, '\n', len), "json line");
        if (line[0] == '{') FUZZ_CHECK(line[len - 1] == '}', "json object line");
        if (line[0] == '[') FUZZ_CHECK(line[len - 1] == ']', "json array line");
        if (line[0] == '"') FUZZ_CHECK(len >= 2 && line[len - 1] == '"', "json string line");
        n++;
    }
    csvavro_status st_all = st;
    csvavro_avro_reader_close(r);

    st = csvavro_avro_reader_open_ex(&fs.base, "in.avro", 4u << 20, &r, &err);
    FUZZ_CHECK(st == CSVAVRO_OK, "second open failed: %s", err.message);
    uint64_t cnt = 0;
    st = csvavro_avro_reader_count(r, &cnt, &err);
    if (st_all == CSVAVRO_OK)
        FUZZ_CHECK(st == CSVAVRO_OK, "decoded all, count fails: %s", err.message);
    if (st == CSVAVRO_OK && st_all == CSVAVRO_OK)
        FUZZ_CHECK(cnt == n, "count %llu, decoded %llu", (unsigned long long)cnt,
                   (unsigned long long)n);
    if (st != CSVAVRO_OK) FUZZ_CHECK(data_status(st), "count: status %d (%s)", st, err.message);
    csvavro_avro_reader_close(r);

    st = csvavro_avro_reader_open_ex(&fs.base, "in.avro", 4u << 20, &r, &err);
    FUZZ_CHECK(st == CSVAVRO_OK, "third open failed: %s", err.message);
    uint64_t rows = 0;
    for (;;) {
        const csvavro_column *c;
        size_t nc = 0, nr = 0;
        st = csvavro_avro_reader_next_columns(r, &c, &nc, &nr, &err);
        if (st != CSVAVRO_OK) {
            FUZZ_CHECK(data_status(st), "columns: status %d (%s)", st, err.message);
            FUZZ_CHECK(err.message[0], "columns: no message");
            break;
        }
        if (nr == 0) break;
        rows += nr;
        for (size_t i = 0; i < nc; i++) {
            if (!c[i].offsets) continue;
            FUZZ_CHECK(c[i].offsets[0] == 0, "column %zu: first offset", i);
            for (size_t k = 0; k < nr; k++)
                FUZZ_CHECK(c[i].offsets[k + 1] >= c[i].offsets[k], "column %zu: offsets", i);
            volatile char last = nr && c[i].offsets[nr] ? c[i].data[c[i].offsets[nr] - 1] : 0;
            (void)last; /* the data runs to the last offset (ASan checks the read) */
        }
    }
    if (st == CSVAVRO_OK && st_all == CSVAVRO_OK)
        FUZZ_CHECK(rows == n, "columns %llu rows, decoded %llu", (unsigned long long)rows,
                   (unsigned long long)n);
    csvavro_avro_reader_close(r);

    st = csvavro_avro_reader_open_ex(&fs.base, "in.avro", 4u << 20, &r, &err);
    FUZZ_CHECK(st == CSVAVRO_OK, "fourth open failed: %s", err.message);
    /* its own schema with a space more: the same schema, but not the same text, so that the
     * records are re-encoded for it (the writer's very text reads records as written) */
    const char *own = csvavro_avro_reader_schema_json(r);
    char *spaced = malloc(strlen(own) + 2);
    FUZZ_CHECK(spaced, "out of memory");
    memcpy(spaced, own, strlen(own));
    memcpy(spaced + strlen(own), " ", 2);
    st = csvavro_avro_reader_use_schema(r, spaced, &err);
    free(spaced);
    if (st != CSVAVRO_OK)
        FUZZ_CHECK(data_status(st), "own schema: status %d (%s)", st, err.message);
    const cav_avro_node *root = cav_avro_reader_reading_tree(r);
    if (st == CSVAVRO_OK && root->kind == CAV_AK_RECORD) {
        size_t nf = root->n;
        cav_avro_pick p = {nf, calloc(nf + 1, sizeof(int32_t)), calloc(nf + 1, sizeof(void *))};
        cav_avro_val *vals = calloc(nf + 1, sizeof *vals);
        FUZZ_CHECK(p.leaf && p.sub && vals, "out of memory");
        for (size_t i = 0; i < nf; i++)
            p.leaf[i] = (int32_t)i;
        uint64_t picked = 0;
        for (;;) {
            bool eof = false;
            st = cav_avro_reader_next_picked(r, &p, vals, nf, &eof, &err);
            if (st != CSVAVRO_OK) {
                FUZZ_CHECK(data_status(st), "picked: status %d (%s)", st, err.message);
                FUZZ_CHECK(err.message[0], "picked: no message");
                break;
            }
            if (eof) break;
            for (size_t i = 0; i < nf; i++)
                if (vals[i].present && vals[i].len) {
                    volatile uint8_t last = vals[i].p[vals[i].len - 1];
                    (void)last;
                }
            picked++;
        }
        if (st == CSVAVRO_OK && st_all == CSVAVRO_OK)
            FUZZ_CHECK(picked == n, "picked %llu records, decoded %llu", (unsigned long long)picked,
                       (unsigned long long)n);
        free(p.leaf);
        free(p.sub);
        free(vals);
    }
    csvavro_avro_reader_close(r);
    return 0;
}
