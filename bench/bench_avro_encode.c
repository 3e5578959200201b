/*
 * bench_avro_encode.c — encoding throughput of the Avro container writer, per codec.
 *
 * The data is the reference job's output: 3 columns, a local-timestamp-micros (pickup time,
 * increasing with jitter), a long (passenger count, 1..6) and a long (trip time in seconds,
 * 0..3600). Batches are built once (cav_batch columns, 64 Ki rows each, several distinct
 * batches cycled) and appended to a writer whose output file discards the bytes (counting
 * them), so the numbers are encoding + compression + block framing, not disk or CSV parsing.
 *
 * usage: bench_avro_encode [ROWS (default 20000000)] [--nullable] [--block-size N]
 *                          [--zstd-level N]
 * Prints, per codec: records/s, MB/s of uncompressed Avro (the encoded blocks), MB/s of
 * output, compression ratio and throughput relative to the null codec.
 */
#include "avro/avro.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink_file {
    csvavro_file base;
    uint64_t bytes;
} sink_file;

static csvavro_status s_pread(csvavro_file *f, void *b, size_t n, int64_t off, size_t *got,
                              csvavro_error *err) {
    return cav_err(err, CSVAVRO_E_UNSUPPORTED, "write-only");
}
static csvavro_status s_write(csvavro_file *f, const void *b, size_t n, csvavro_error *err) {
    ((sink_file *)f)->bytes += n;
    return CSVAVRO_OK;
}
static csvavro_status s_close(csvavro_file *f, csvavro_error *err) {
    return CSVAVRO_OK;
}
static void s_abort(csvavro_file *f) {}
static const cav_file_ops sink_ops = {s_pread, s_write, s_close, s_abort};

#define NBATCH 8
#define BROWS 65536

int main(int argc, char **argv) {
    uint64_t rows = 20000000;
    int nullable = 0;
    int zstd_level = INT32_MIN;
    size_t block_size = CAV_AVRO_DEFAULT_BLOCK_SIZE;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nullable") == 0)
            nullable = 1;
        else if (strcmp(argv[i], "--zstd-level") == 0 && i + 1 < argc)
            zstd_level = atoi(argv[++i]);
        else if (strcmp(argv[i], "--block-size") == 0 && i + 1 < argc)
            block_size = strtoull(argv[++i], NULL, 10);
        else
            rows = strtoull(argv[i], NULL, 10);
    }
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_schema *s = NULL;
    if (csvavro_schema_create("Trip", "nyc.taxi", &s, &err) ||
        csvavro_schema_add_field(s, "pickup_datetime", NULL, CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS,
                                 nullable, &err) ||
        csvavro_schema_add_field(s, "passenger_count", NULL, CSVAVRO_TYPE_LONG, nullable, &err) ||
        csvavro_schema_add_field(s, "trip_time_in_secs", NULL, CSVAVRO_TYPE_LONG, nullable, &err)) {
        fprintf(stderr, "schema: %s\n", err.message);
        return 1;
    }
    csvavro_type types[3] = {CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS, CSVAVRO_TYPE_LONG,
                             CSVAVRO_TYPE_LONG};
    static cav_batch batches[NBATCH];
    uint64_t st = 12345;
    int64_t t = 1357000000000000ll; /* 2013-01-01 */
    for (int b = 0; b < NBATCH; b++) {
        if (cav_batch_init(&batches[b], 3, types, BROWS, 0, &err)) {
            fprintf(stderr, "batch: %s\n", err.message);
            return 1;
        }
        cav_batch *bt = &batches[b];
        bt->n_rows = BROWS;
        for (uint32_t r = 0; r < BROWS; r++) {
            uint64_t x = cav_splitmix64(&st);
            t += (int64_t)(x % 2000000); /* a pickup every ~1 s, whole seconds mostly */
            bt->cols[0].v.i64[r] = t - t % 1000000;
            bt->cols[1].v.i64[r] = 1 + (int64_t)((x >> 20) % 6);
            bt->cols[2].v.i64[r] = (int64_t)((x >> 32) % 3600);
            for (int c = 0; c < 3; c++)
                bt->cols[c].valid[r] = 1;
        }
        for (int c = 0; c < 3; c++)
            bt->cols[c].loaded = true;
    }
    uint32_t map[3] = {0, 1, 2};
    printf("rows %llu, 3 columns (local-timestamp-micros, long, long)%s, block %zu bytes\n",
           (unsigned long long)rows, nullable ? " nullable" : "", block_size);
    printf("%-10s %12s %14s %12s %8s %10s\n", "codec", "records/s", "avro MB/s", "out MB/s",
           "ratio", "vs null");
    double null_rate = 0;
    for (int c = 0; c <= CSVAVRO_CODEC_XZ; c++) {
        csvavro_avro_options o;
        csvavro_avro_options_init(&o);
        o.codec = (csvavro_codec)c;
        o.block_size = block_size;
        o.has_seed = 1;
        if (c == CSVAVRO_CODEC_ZSTANDARD) o.level = zstd_level;
        uint64_t n = rows;
        if (c == CSVAVRO_CODEC_BZIP2 || c == CSVAVRO_CODEC_XZ) n = rows / 10; /* slow codecs */
        sink_file f = {{.ops = &sink_ops, .path = "sink"}, 0};
        uint8_t sync[16];
        cav_avro_writer *w = NULL;
        if (cav_avro_sync_marker(&o, 0, sync, &err) ||
            cav_avro_writer_create(s, &o, sync, &f.base, true, &w, &err)) {
            fprintf(stderr, "writer: %s\n", err.message);
            return 1;
        }
        /* Uncompressed size: encode once with the null codec is what "avro MB/s" counts. */
        uint64_t t0 = cav_now_ns();
        uint64_t done = 0;
        for (int b = 0; done < n; b = (b + 1) % NBATCH) {
            cav_batch *bt = &batches[b];
            bt->n_rows = (uint32_t)(n - done < BROWS ? n - done : BROWS);
            if (cav_avro_writer_append(w, bt, map, &err)) {
                fprintf(stderr, "append: %s\n", err.message);
                return 1;
            }
            done += bt->n_rows;
        }
        if (cav_avro_writer_finish(w, &err)) {
            fprintf(stderr, "finish: %s\n", err.message);
            return 1;
        }
        double secs = (double)(cav_now_ns() - t0) / 1e9;
        uint64_t out = cav_avro_writer_bytes(w);
        cav_avro_writer_free(w);
        static double raw_per_row;
        if (c == CSVAVRO_CODEC_NULL) raw_per_row = (double)out / (double)n;
        double rate = (double)n / secs;
        if (c == CSVAVRO_CODEC_NULL) null_rate = rate;
        printf("%-10s %12.0f %14.1f %12.1f %8.2f %9.0f%%\n", csvavro_codec_name(o.codec), rate,
               rate * raw_per_row / 1e6, (double)out / secs / 1e6,
               raw_per_row * (double)n / (double)out, 100.0 * rate / null_rate);
        fflush(stdout);
    }
    for (int b = 0; b < NBATCH; b++) {
        batches[b].n_rows = BROWS;
        cav_batch_free(&batches[b]);
    }
    csvavro_schema_free(s);
    return 0;
}
