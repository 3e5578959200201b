/*
 * avro_testwrite.c — writes the test table of avro_testdata.h with the csvavro container writer
 * (cav_batch columns built in C, no CSV reader), and the expected values as JSON lines, for the
 * interop tests (python3-avro and avrocat read the file and compare field by field).
 *
 * usage: avro_testwrite OUT.avro EXPECTED.jsonl CODEC [ROWS [BLOCK_SIZE [SEED]]]
 */
#include "avro_testdata.h"
#include "io/io.h"

#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr,
                "usage: avro_testwrite OUT.avro EXPECTED.jsonl CODEC [ROWS [BLOCK [SEED]]]\n");
        return 2;
    }
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_avro_options o;
    csvavro_avro_options_init(&o);
    if (csvavro_codec_parse(argv[3], &o.codec) != CSVAVRO_OK) {
        fprintf(stderr, "unknown codec %s\n", argv[3]);
        return 2;
    }
    uint64_t rows = argc > 4 ? strtoull(argv[4], NULL, 10) : 2000;
    if (argc > 5) o.block_size = strtoull(argv[5], NULL, 10);
    o.has_seed = argc > 6;
    o.seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 0;
    const char *meta[] = {"test.key=test value", "other=ü"};
    o.meta = meta;
    o.n_meta = 2;
    csvavro_schema *s = NULL;
    cav_batch b;
    memset(&b, 0, sizeof b);
    cav_avro_writer *w = NULL;
    csvavro_file *out = NULL;
    FILE *exp = fopen(argv[2], "w");
    uint8_t sync[16];
    csvavro_status st = exp ? CSVAVRO_OK : cav_err(&err, CSVAVRO_E_IO, "cannot open %s", argv[2]);
    if (st == CSVAVRO_OK) st = td_schema(&s, &err);
    if (st == CSVAVRO_OK) st = td_batch_init(&b, 1000, &err);
    if (st == CSVAVRO_OK) st = cav_avro_sync_marker(&o, 0, sync, &err);
    if (st == CSVAVRO_OK) st = csvavro_fs_create(cav_io_local(), argv[1], 1, &out, &err);
    if (st == CSVAVRO_OK) st = cav_avro_writer_create(s, &o, sync, out, true, &w, &err);
    uint32_t map[TD_NF];
    for (uint32_t i = 0; i < TD_NF; i++)
        map[i] = i;
    for (uint64_t first = 0; st == CSVAVRO_OK && first < rows; first += 1000) {
        uint32_t n = (uint32_t)(rows - first < 1000 ? rows - first : 1000);
        st = td_fill(&b, first, n, &err);
        if (st == CSVAVRO_OK) st = cav_avro_writer_append(w, &b, map, &err);
        for (uint32_t i = 0; st == CSVAVRO_OK && i < b.n_sel; i++)
            if (!b.row_error[b.sel[i]]) td_expect(exp, &b, b.sel[i]);
    }
    if (st == CSVAVRO_OK) st = cav_avro_writer_finish(w, &err);
    cav_avro_writer_free(w);
    if (out) {
        if (st == CSVAVRO_OK)
            st = csvavro_file_close(out, &err);
        else
            csvavro_file_abort(out);
    }
    if (exp) fclose(exp);
    cav_batch_free(&b);
    csvavro_schema_free(s);
    if (st != CSVAVRO_OK) {
        char buf[2048];
        csvavro_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "avro_testwrite: %s\n", buf);
        return 1;
    }
    return 0;
}
