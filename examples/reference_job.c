/*
 * reference_job.c — the reference job through the public API, in one call:
 *
 *   reference_job INPUT OUTPUT [THREADS]
 *
 * keeps the trips with more than three passengers and writes three columns, one Avro file per
 * split (OUTPUT is a pattern like 'out/trip.*.avro', a directory or a file name). Build against
 * an installed copy with:
 *
 *   cc reference_job.c $(pkg-config --cflags --libs csvavro) -o reference_job
 */
#include <csvavro.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s INPUT OUTPUT [THREADS]\n", argv[0]);
        return 2;
    }
    static const char *const select[] = {"pickup_datetime", "passenger_count", "trip_time_in_secs"};
    const char *inputs[] = {argv[1]};

    csvavro_job_options o;
    csvavro_job_options_init(&o); /* defaults: 64 MiB splits, all cores, CSV and Avro defaults */
    o.inputs = inputs;
    o.n_inputs = 1;
    o.output = argv[2];
    o.where = "passenger_count > 3";
    o.select = select;
    o.n_select = 3;
    if (argc > 3) o.threads = atoi(argv[3]);

    csvavro_job_stats st;
    csvavro_error err;
    if (csvavro_job_run(&o, &st, &err) != CSVAVRO_OK) {
        char msg[2048];
        csvavro_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "reference_job: %s\n", msg);
        return 1;
    }
    printf("rows read %llu, kept %llu, rejected %llu; %llu files, %llu bytes; %.2f s\n",
           (unsigned long long)st.rows_read, (unsigned long long)st.rows_kept,
           (unsigned long long)st.rows_rejected, (unsigned long long)st.files_written,
           (unsigned long long)st.bytes_written, st.elapsed_s);
    return 0;
}
