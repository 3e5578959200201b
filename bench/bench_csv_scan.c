/*
 * bench_csv_scan.c — CSV reader throughput on one core: scan + convert the columns of the
 * reference job (passenger_count, pickup_datetime, trip_time_in_secs) of a gen_taxi file.
 *
 *   bench_csv_scan FILE [--kind scalar|sse2|avx2|avx512] [--cols all|none|job] [--batch N]
 *
 * Prints MB/s of the whole file. The header gives the columns; types are fixed to the
 * taxi schema (strings, longs, timestamps, doubles) so no inference pass is timed.
 */
#include "csv/csv.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_csv_scan FILE [--kind K] [--cols all|none|job]\n");
        return 2;
    }
    int kind = -1;
    const char *cols = "job";
    uint32_t batch = 8192;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--kind"))
            kind = !strcmp(argv[i + 1], "scalar") ? CAV_CSV_SCALAR
                   : !strcmp(argv[i + 1], "sse2") ? CAV_CSV_SSE2
                   : !strcmp(argv[i + 1], "avx2") ? CAV_CSV_AVX2
                                                  : CAV_CSV_AVX512;
        else if (!strcmp(argv[i], "--cols"))
            cols = argv[i + 1];
        else if (!strcmp(argv[i], "--batch"))
            batch = (uint32_t)atoi(argv[i + 1]);
    }
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_csv_options o;
    csvavro_csv_options_init(&o);
    csvavro_schema *s = NULL;
    const char *paths[1] = {argv[1]};
    o.infer_rows = 2000;
    if (csvavro_csv_infer(cav_io_local(), paths, 1, &o, &s, &err) != CSVAVRO_OK) goto fail;
    csvavro_file *f;
    if (csvavro_fs_open_read(cav_io_local(), argv[1], &f, &err) != CSVAVRO_OK) goto fail;
    cav_csv_header h;
    if (cav_csv_read_header(f, &o, &h, &err) != CSVAVRO_OK) goto fail;
    csvavro_type types[64];
    for (size_t i = 0; i < s->n_fields && i < 64; i++)
        types[i] = s->fields[i].type;
    cav_csv_reader *r;
    cav_batch b;
    if (cav_csv_reader_create(&o, s, batch, &r, &err) != CSVAVRO_OK) goto fail;
    if (kind >= 0) cav_csv_reader_tune(r, kind, 0);
    if (cav_batch_init(&b, (uint32_t)s->n_fields, types, batch, 0, &err) != CSVAVRO_OK) goto fail;
    long want[64];
    size_t n_want = 0;
    if (!strcmp(cols, "all"))
        for (size_t i = 0; i < s->n_fields; i++)
            want[n_want++] = (long)i;
    else if (!strcmp(cols, "job")) {
        const char *names[] = {"passenger_count", "pickup_datetime", "trip_time_in_secs"};
        for (int i = 0; i < 3; i++)
            if ((want[n_want] = csvavro_schema_find(s, names[i])) >= 0) n_want++;
    }
    uint64_t t0 = cav_now_ns(), rows = 0, sum = 0;
    if (cav_csv_reader_open_range(r, f, argv[1], h.data_start, INT64_MAX, true, &err)) goto fail;
    for (;;) {
        if (cav_csv_reader_next(r, &b, &err) != CSVAVRO_OK) goto fail;
        if (!b.n_rows) break;
        rows += b.n_rows;
        for (size_t k = 0; k < n_want; k++) {
            if (cav_csv_reader_load_column(r, &b, (uint32_t)want[k], &err) != CSVAVRO_OK) goto fail;
            sum += b.cols[want[k]].valid[b.n_rows - 1];
        }
    }
    double sec = (double)(cav_now_ns() - t0) / 1e9;
    double mb = (double)csvavro_file_size(f) / 1e6;
    printf("%s kind=%d cols=%s rows=%llu %.1f MB in %.3f s: %.0f MB/s (%llu)\n", argv[1],
           cav_csv_reader_kind(r), cols, (unsigned long long)rows, mb, sec, mb / sec,
           (unsigned long long)sum);
    cav_batch_free(&b);
    cav_csv_reader_free(r);
    cav_csv_header_free(&h);
    csvavro_file_close(f, NULL);
    csvavro_schema_free(s);
    return 0;
fail:;
    char buf[2048];
    csvavro_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "bench_csv_scan: %s\n", buf);
    return 1;
}
