/*
 * bench_filter.c — cost per row of the vectorised `--where` filter on 64K-row batches.
 *
 * Builds one batch shaped like the NYC taxi data (passenger_count mostly 1, a few percent
 * of 4-6; trip_distance 0-20 miles; vendor_id "CMT"/"VTS"; ~1% nulls in trip_distance) and
 * times cav_filter_apply over it for the reference filter `passenger_count > 3` (with the
 * column stored as int and as long) and a few heavier expressions. Prints ns/row and
 * rows/s. Usage: bench_filter [iterations]  (default 2000 per expression); with
 * BENCH_FILTER_PLAIN=1 in the environment the plain (non-AVX2) kernels are timed.
 */
#include "filter/filter.h"

#include <stdio.h>
#include <stdlib.h>

#define ROWS 65536

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    csvavro_error err;
    csvavro_schema *s = NULL;
    csvavro_type types[] = {CSVAVRO_TYPE_INT, CSVAVRO_TYPE_LONG, CSVAVRO_TYPE_DOUBLE,
                            CSVAVRO_TYPE_STRING, CSVAVRO_TYPE_TIMESTAMP_MICROS};
    const char *names[] = {"passenger_count", "passenger_count_l", "trip_distance", "vendor_id",
                           "pickup_datetime"};
    if (csvavro_schema_create(NULL, NULL, &s, &err) != CSVAVRO_OK) return 1;
    for (int i = 0; i < 5; i++)
        if (csvavro_schema_add_field(s, names[i], NULL, types[i], 1, &err) != CSVAVRO_OK) return 1;
    cav_batch b;
    if (cav_batch_init(&b, 5, types, ROWS, 0, &err) != CSVAVRO_OK) return 1;
    uint64_t rng = 42;
    b.n_rows = ROWS;
    for (int c = 0; c < 5; c++)
        b.cols[c].loaded = true;
    for (uint32_t i = 0; i < ROWS; i++) {
        uint64_t r = cav_splitmix64(&rng);
        int p = (int)(r % 100);
        int pc = p < 70 ? 1 : p < 84 ? 2 : p < 88 ? 3 : p < 90 ? 4 : p < 96 ? 5 : 6;
        for (int c = 0; c < 5; c++)
            b.cols[c].valid[i] = 1;
        b.cols[0].v.i32[i] = pc;
        b.cols[1].v.i64[i] = pc;
        b.cols[2].v.f64[i] = (double)((r >> 8) % 2000) / 100.0;
        b.cols[2].valid[i] = (r >> 40) % 100 != 0;
        b.cols[3].v.str[i] = (cav_strview){(r >> 20) & 1 ? "CMT" : "VTS", 3};
        b.cols[4].v.i64[i] = (int64_t)(1356998400 + (int64_t)((r >> 24) % (31 * 86400))) * 1000000;
    }
    const char *exprs[] = {"passenger_count > 3", "passenger_count_l > 3",
                           "trip_distance > 3.5 and passenger_count in (1, 2)",
                           "vendor_id = 'CMT' and pickup_datetime >= '2013-01-15'",
                           "trip_distance / passenger_count > 2 or trip_distance is null"};
    printf("%-58s %10s %12s %8s %8s\n", "expression", "ns/row", "Mrows/s", "kept", "kernels");
    for (size_t k = 0; k < sizeof exprs / sizeof *exprs; k++) {
        cav_filter *e = NULL;
        cav_filter_state *st = NULL;
        if (cav_filter_compile(exprs[k], s, &e, &err) != CSVAVRO_OK ||
            cav_filter_state_create(e, ROWS, &st, &err) != CSVAVRO_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        if (getenv("BENCH_FILTER_PLAIN")) cav_filter_state_use_plain(st);
        b.sel = NULL;
        cav_filter_apply(e, st, &b, &err); /* warm up */
        uint64_t t0 = cav_now_ns();
        for (int it = 0; it < iters; it++) {
            b.sel = NULL;
            if (cav_filter_apply(e, st, &b, &err) != CSVAVRO_OK) return 1;
        }
        uint64_t t1 = cav_now_ns();
        double ns = (double)(t1 - t0) / ((double)iters * ROWS);
        printf("%-58s %10.3f %12.1f %7.1f%% %8s\n", exprs[k], ns, 1e3 / ns, 100.0 * b.n_sel / ROWS,
               cav_filter_state_kernels(st));
        cav_filter_state_free(st);
        cav_filter_free(e);
    }
    cav_batch_free(&b);
    csvavro_schema_free(s);
    return 0;
}
