/*
 * cmd_convert.c — `csvavro convert INPUT… OUTPUT [options]`: the whole job through the public
 * job API (csvavro_job_*). Options are parsed into csvavro_job_options; CSV options come from
 * cli_csvopts. SIGINT/SIGTERM set a flag the job polls (it then removes its temporary files
 * and returns CSVAVRO_E_INTERRUPTED: exit code 130); a second signal kills the process at once.
 * SIGPIPE is ignored: a closed stderr does not stop the job halfway.
 * Under mpirun (csvavro(1), RUNNING UNDER MPI) the job runs over every rank: rank 0 plans, reads
 * --schema, reports and commits; the other ranks run the splits it hands out (csvavro_mpi.h).
 */
#include "cli.h"
#include "cli_csvopts.h"
#include "csvavro_mpi.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t cancel_flag;

static void on_signal(int sig) {
    if (cancel_flag) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    cancel_flag = 1;
}

enum {
    C_WHERE = 1,
    C_SELECT,
    C_EXCLUDE,
    C_RENAME,
    C_LIMIT,
    C_SCHEMA,
    C_SPLIT_SIZE,
    C_THREADS,
    C_BATCH_ROWS,
    C_MODE,
    C_PARTITION_BY,
    C_KEEP_PART,
    C_PART_BUFFER,
    C_REORDER_BUFFER,
    C_OVERWRITE,
    C_DRY_RUN,
    C_PROGRESS,
    C_QUIET,
    C_CODEC,
    C_LEVEL,
    C_BLOCK_SIZE,
    C_SEED,
    C_META,
    C_STRICT_SCHEMA,
};

static const opt_spec convert_table[] = {
    OPT_HEADING("Job options"),
    {C_WHERE, "--where", "EXPR", "keep rows where EXPR is true (see FILTER EXPRESSIONS)", NULL},
    {C_SELECT, "--select", "A,B,...", "output columns, in this order (repeatable)",
     "A column is named by its Avro name or its header text."},
    {C_EXCLUDE, "--exclude", "A,B,...", "drop these columns (repeatable)",
     "Applied after --select."},
    {C_RENAME, "--rename", "OLD=NEW", "rename an output column (repeatable; comma lists too)",
     NULL},
    {C_LIMIT, "--limit", "N", "write at most N rows: the first N in input order",
     "Exact, and the same rows for any -j and split size."},
    {C_SCHEMA, "--schema", "FILE.avsc",
     "use this Avro schema: fields take the CSV columns by\nname, in the schema's order (by "
     "position with\n--no-header)",
     "Instead of inferring one; see AVRO OUTPUT for the field types it may hold. Under mpirun only "
     "rank 0 reads it. A field takes the CSV column whose header text (without surrounding "
     "spaces) is the field's name, its csvavro.header attribute (schemas written by csvavro "
     "keep the header text there), or becomes the field's name as an Avro name (\"fare "
     "amount\" -> fare_amount), or failing those one of the field's Avro \"aliases\" (a column's "
     "name in other files: \"aliases\": [\"tpep_pickup_datetime\"] on pickup_datetime). Records "
     "follow the "
     "schema's field order. A field the CSV "
     "lacks takes its \"default\" (null, a number, a string, true/false; bytes, fixed and "
     "decimals as a string of code points 0-255, dates and timestamps as the int or long); "
     "without a default the job stops before writing anything, naming the field and the "
     "input. A CSV column the schema lacks is dropped with a note on stderr (--strict-schema: "
     "an error). --dry-run prints the mapping. Example:\n\n  csvavro convert trips.csv.gz "
     "out.avro --schema trips.avsc --dry-run\n\nWith --no-header the fields are the columns "
     "in order and their count must match. Decimals as bytes or fixed:\n\n  {\"name\": \"fare\", "
     "\"type\": {\"type\": "
     "\"bytes\", \"logicalType\": \"decimal\", \"precision\": 8, \"scale\": 2}}\n  "
     "{\"name\": \"total\", \"type\": {\"type\": \"fixed\", \"name\": \"D16\", \"size\": 16, "
     "\"logicalType\": \"decimal\", \"precision\": 38, \"scale\": 4}}\n\nA fixed must hold "
     "the precision (16 bytes: 38 digits); decimal values follow --type COL=decimal(P,S)."},
    {C_STRICT_SCHEMA, "--strict-schema", NULL,
     "with --schema: a CSV column the schema lacks is an\nerror (default: dropped with a note)",
     "The error names the input and the columns; nothing is written."},
    {C_SPLIT_SIZE, "--split-size", "SIZE", "bytes per split (default 64M; K/M/G suffixes)",
     "Splits also end at HDFS block boundaries; see Splits and threads under OUTPUT. With the "
     "default, a local file is cut into a multiple of the thread count of equal splits (of at "
     "least 8M) so that the threads finish together; for a single output file (several "
     "threads) see --reorder-buffer. For a bzip2 or multi-frame zstd input SIZE "
     "counts compressed bytes: its splits start at bzip2 blocks / zstd frames "
     "(docs/input.md)."},
    {C_THREADS, "-j, --threads", "N", "worker threads (default: all cores)",
     "The online cores of the machine (under mpirun: of each rank's machine)."},
    {C_BATCH_ROWS, "--batch-rows", "N", "rows per column batch (default 16384)", NULL},
    {C_MODE, "--mode", "MODE",
     "when the output exists: error (default: refuse),\noverwrite (replace the dataset at "
     "commit), append (add\nthis job's files to the dataset), ignore (write nothing)",
     "See Safe output under OUTPUT: a pattern or directory output is a dataset whose manifest "
     "lists every committed job; append checks the schema under Avro's resolution rules before "
     "any byte is written; ignore exits 0."},
    {C_OVERWRITE, "--overwrite", NULL, "the same as --mode overwrite", NULL},
    {C_PARTITION_BY, "--partition-by", "K,...",
     "Hive-style partitions: OUT/K=value/...; K is a column,\nyear(C), month(C), day(C), "
     "hour(C) of a date/timestamp\ncolumn, or NAME=FUNC(C) (repeatable)",
     "See Datasets, append and partitions under OUTPUT."},
    {C_KEEP_PART, "--keep-partition-columns", NULL,
     "keep partition columns in the records too (default:\nonly in the paths)", NULL},
    {C_PART_BUFFER, "--partition-buffer", "SIZE",
     "partitioned: encoded rows buffered per worker before\neach partition is written to a "
     "file of its own\n(default 32M)",
     NULL},
    {C_REORDER_BUFFER, "--reorder-buffer", "SIZE",
     "single output, several threads: encoded blocks kept\nin memory for splits that run ahead "
     "of the one being\nwritten (default 64M)",
     "The output's blocks are in split order: a worker whose split is not next keeps its blocks "
     "in this buffer (shared by all threads) until the splits before it are written, and past "
     "it in a split file under the temporary directory that is copied in when its turn comes. "
     "With the default --split-size such a job is cut into splits of an eighth of the buffer "
     "per other thread (4M to 64M), so that on a balanced machine nothing is copied, and the "
     "job's last splits shrink (each a 1/(2 x threads) share of what is left, down to 1M) so "
     "that the threads finish within about a 1M split of each other. Below 4K nothing is kept "
     "in memory."},
    {C_DRY_RUN, "--dry-run", NULL, "print the plan (splits, schema, outputs); write nothing",
     "Inputs, splits with byte ranges and hosts, the canonical --where text, the schema and the "
     "output names; with --schema (and a header) or --union-by-name also which CSV column or "
     "default each field takes, per input layout (fare_amount <- column 3 \"fare "
     "amount\", tip <- default 0.0). With --progress json the plan is one JSON "
     "object (matched by name, each input has \"columns\": {field: 1-based column or null for "
     "the default})."},
    {C_PROGRESS, "--progress", "MODE", "auto (default), bar, lines, json, none",
     "auto: a live bar when stderr is a terminal, a plain line every second otherwise; json: one "
     "object per line (see Progress and summary under OUTPUT)."},
    {C_QUIET, "-q, --quiet", NULL, "no progress and no summary", "Errors still print."},
    OPT_HEADING("Avro options"),
    {C_CODEC, "--codec", "NAME", "null, deflate, snappy, zstandard (zstd), bzip2, xz",
     "Default snappy; see Codecs under AVRO OUTPUT."},
    {C_LEVEL, "--level", "N", "codec level",
     "deflate 0-12 (default 6), zstandard (default 1), bzip2 1-9 (default 9), xz 0-9 (default 6)."},
    {C_BLOCK_SIZE, "--block-size", "SIZE", "target uncompressed Avro block size",
     "Default 1M; see Blocks under AVRO OUTPUT."},
    {C_SEED, "--seed", "N", "reproducible sync markers (byte-identical reruns)", NULL},
    {C_META, "--meta", "KEY=VALUE", "user metadata in every file header (repeatable)",
     "Keys starting with avro. are reserved."},
    OPT_END,
};

static const opt_spec *const convert_tables[] = {convert_table, cli_csv_table, NULL};

const opt_cmd cli_convert_cmd = {
    .prog = "csvavro convert",
    .synopsis = "INPUT... OUTPUT [options]",
    .summary = "convert CSV to Avro: filter, project, one file per split",
    .help = "Converts CSV to Avro: filtered (--where), projected (--select), one file per split.\n"
            "INPUT: a file, a directory (its files in name order) or a glob; local or hdfs://.\n"
            "OUTPUT: 'dir/name.*.avro' (one file per split, * = split number), a directory\n"
            "(ending in / or existing: part-NNNNN.avro inside), or a single file name.",
    .man = "A directory INPUT reads its files in name order, skipping names that start with . "
           "or _ (such as _SUCCESS); a glob works in the last path component "
           "('data/trip_*.csv', quoted so that the shell leaves it alone). Several INPUTs must "
           "have the same columns (or --union-by-name, or --schema: matched by name); the header "
           "of each is read once, at planning. The output "
           "forms, the commit, the _SUCCESS manifest and the progress output are described "
           "under OUTPUT; the --where language under FILTER EXPRESSIONS; the CSV options "
           "under CSV INPUT.",
    .tables = convert_tables,
};

static int cli_u64(const char *s, uint64_t *out) {
    if (!*s || *s == '-' || *s == '+') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return 0;
    *out = v;
    return 1;
}

/* "64M", "4MiB", "1G", "1048576" (K, M, G, T: powers of 1024). */
static int cli_size(const char *s, uint64_t *out) {
    if (!*s || *s == '-' || *s == '+') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return 0;
    unsigned shift = 0;
    if (*end) {
        switch (*end) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        case 't':
        case 'T':
            shift = 40;
            break;
        default:
            return 0;
        }
        end++;
        if (!strcmp(end, "iB") || !strcmp(end, "B")) end += strlen(end);
        if (*end) return 0;
    }
    if (shift && v > (UINT64_MAX >> shift)) return 0;
    *out = (uint64_t)v << shift;
    return 1;
}

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

/* Adds the comma-separated parts of s (or s whole when split is 0). */
static int list_add(strlist *l, const char *s, int split) {
    const char *p = s;
    for (;;) {
        const char *c = split ? strchr(p, ',') : NULL;
        size_t n = c ? (size_t)(c - p) : strlen(p);
        char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->v[l->n] = strndup(p, n);
        if (!l->v[l->n]) return -1;
        l->n++;
        if (!c) return 0;
        p = c + 1;
    }
}

static void list_free(strlist *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static char *read_file(const char *url, csvavro_error *err) {
    csvavro_fs *fs = NULL;
    char *path = NULL;
    if (csvavro_fs_open_url(url, &fs, &path, err) != CSVAVRO_OK) return NULL;
    csvavro_file *f = NULL;
    char *buf = NULL;
    if (csvavro_fs_open_read(fs, path, &f, err) == CSVAVRO_OK) {
        int64_t n = csvavro_file_size(f);
        size_t got = 0;
        buf = n >= 0 && n < (64 << 20) ? malloc((size_t)n + 1) : NULL;
        if (buf && csvavro_file_pread(f, buf, (size_t)n, 0, &got, err) == CSVAVRO_OK)
            buf[got] = '\0';
        else {
            free(buf);
            buf = NULL;
        }
        csvavro_error e2;
        csvavro_file_close(f, &e2);
    }
    csvavro_free(path);
    csvavro_fs_close(fs);
    return buf;
}

static void print_plan(csvavro_job *job) {
    size_t ni = csvavro_job_input_count(job), ns = csvavro_job_split_count(job);
    printf("plan: %zu input%s, %zu split%s, %d thread%s\n", ni, ni == 1 ? "" : "s", ns,
           ns == 1 ? "" : "s", csvavro_job_threads(job), csvavro_job_threads(job) == 1 ? "" : "s");
    for (size_t i = 0; i < ni; i++) {
        const char *codec = csvavro_job_input_codec(job, i);
        int64_t csize = 0;
        size_t nsp = 0;
        for (size_t k = 0; k < ns; k++) {
            csvavro_split_info si;
            if (csvavro_job_split(job, k, &si) == 0 && si.input == i) nsp++;
        }
        if (csvavro_job_input_split_compressed(job, i, &csize))
            printf("input %zu: %s (%s, %" PRId64 " compressed bytes, %zu splits at %s "
                   "boundaries)\n",
                   i, csvavro_job_input_path(job, i), codec, csize, nsp,
                   strcmp(codec, "bzip2") ? "frame" : "block");
        else if (csvavro_job_input_size(job, i) < 0) /* decoded or a stream: one split */
            printf("input %zu: %s (%s, read as a stream: one split)\n", i,
                   csvavro_job_input_path(job, i), strcmp(codec, "none") ? codec : "uncompressed");
        else
            printf("input %zu: %s (%" PRId64 " bytes)\n", i, csvavro_job_input_path(job, i),
                   csvavro_job_input_size(job, i));
    }
    const char *w = csvavro_job_where_text(job);
    printf("where: %s\n", w ? w : "(none)");
    const char *lay = csvavro_job_partition_layout(job);
    if (lay) printf("partitions: %s (rows of a partition from one split in input order)\n", lay);
    for (size_t i = 0; i < ns; i++) {
        csvavro_split_info si;
        csvavro_job_split(job, i, &si);
        int64_t cs = 0;
        if (csvavro_job_input_split_compressed(job, si.input, &cs)) {
            const char *unit = strcmp(csvavro_job_input_codec(job, si.input), "bzip2")
                                   ? "frames"
                                   : "block markers";
            printf("split %zu: input %zu compressed bytes %" PRId64 "..%" PRId64 " (%" PRId64 ", ",
                   i, si.input, si.offset, si.offset + si.length, si.length);
            if (si.chunks >= 0)
                printf("%" PRId64 " %s", si.chunks, unit);
            else
                printf("%s found when run", unit);
            printf(") -> %s", si.output);
        } else if (si.length < 0)
            printf("split %zu: input %zu bytes %" PRId64 "..end (decoded) -> %s", i, si.input,
                   si.offset, si.output);
        else
            printf("split %zu: input %zu bytes %" PRId64 "..%" PRId64 " (%" PRId64 ") -> %s", i,
                   si.input, si.offset, si.offset + si.length, si.length, si.output);
        for (int h = 0; h < si.n_hosts; h++)
            printf("%s%s", h ? "," : " hosts ", si.hosts[h]);
        printf("\n");
    }
    if (csvavro_job_mapping(job)) printf("%s\n", csvavro_job_mapping(job));
    char *json = NULL;
    csvavro_error e;
    if (csvavro_schema_to_json(csvavro_job_schema(job), 1, &json, &e) == CSVAVRO_OK) {
        printf("schema:\n%s\n", json);
        csvavro_free(json);
    }
}

int cli_cmd_convert(int argc, char **argv) {
    csvavro_job_options o;
    csvavro_job_options_init(&o);
    o.progress = CSVAVRO_PROGRESS_AUTO;
    strlist pos = {0}, sel = {0}, exc = {0}, ren = {0}, meta = {0}, part = {0};
    char *schema_text = NULL;
    const char *schema_path = NULL;
    int rc = CLI_USAGE, mpi_rank = -1;
    int quiet = 0;
    csvavro_error err;
    csvavro_error_clear(&err);
    opt_parser p;
    opt_init(&p, &cli_convert_cmd, argc, argv);
    const char *val;
    int id;
    while ((id = opt_next(&p, &val)) != OPT_DONE) {
        uint64_t u;
        switch (id) {
        case OPT_HELP:
            rc = CLI_OK;
            goto out;
        case OPT_ERROR:
            goto out;
        case OPT_OPERAND:
            if (list_add(&pos, val, 0)) goto nomem;
            break;
        case C_OVERWRITE:
            o.overwrite = 1;
            break;
        case C_PARTITION_BY:
            if (list_add(&part, val, 1)) goto nomem;
            break;
        case C_KEEP_PART:
            o.keep_partition_columns = 1;
            break;
        case C_REORDER_BUFFER:
            if (!cli_size(val, &u) || u == 0) goto badval;
            o.reorder_buffer = u;
            break;
        case C_PART_BUFFER:
            if (!cli_size(val, &u) || u < 4096) goto badval;
            o.partition_buffer = u;
            break;
        case C_MODE:
            if (!strcmp(val, "error") || !strcmp(val, "errorifexists"))
                o.mode = CSVAVRO_MODE_ERROR;
            else if (!strcmp(val, "overwrite"))
                o.mode = CSVAVRO_MODE_OVERWRITE;
            else if (!strcmp(val, "append"))
                o.mode = CSVAVRO_MODE_APPEND;
            else if (!strcmp(val, "ignore"))
                o.mode = CSVAVRO_MODE_IGNORE;
            else
                goto badval;
            break;
        case C_DRY_RUN:
            o.dry_run = 1;
            break;
        case C_QUIET:
            quiet = 1;
            break;
        case C_WHERE:
            o.where = val;
            break;
        case C_SELECT:
            if (list_add(&sel, val, 1)) goto nomem;
            break;
        case C_EXCLUDE:
            if (list_add(&exc, val, 1)) goto nomem;
            break;
        case C_RENAME:
            if (list_add(&ren, val, 1)) goto nomem;
            break;
        case C_META:
            if (list_add(&meta, val, 0)) goto nomem;
            break;
        case C_LIMIT:
            if (!cli_u64(val, &u)) goto badval;
            o.limit = u;
            break;
        case C_SCHEMA:
            schema_path = val; /* read below (by rank 0 only under MPI) */
            o.schema_source = val;
            break;
        case C_STRICT_SCHEMA:
            o.strict_schema = 1;
            break;
        case C_SPLIT_SIZE:
            if (!cli_size(val, &u) || u == 0) goto badval;
            o.split_size = u;
            break;
        case C_THREADS:
            if (!cli_u64(val, &u) || u > 4096) goto badval;
            o.threads = (int)u;
            break;
        case C_BATCH_ROWS:
            if (!cli_u64(val, &u) || u == 0 || u > (1u << 22)) goto badval;
            o.batch_rows = (uint32_t)u;
            break;
        case C_PROGRESS:
            if (!strcmp(val, "auto"))
                o.progress = CSVAVRO_PROGRESS_AUTO;
            else if (!strcmp(val, "bar"))
                o.progress = CSVAVRO_PROGRESS_BAR;
            else if (!strcmp(val, "lines"))
                o.progress = CSVAVRO_PROGRESS_LINES;
            else if (!strcmp(val, "json"))
                o.progress = CSVAVRO_PROGRESS_JSON;
            else if (!strcmp(val, "none"))
                o.progress = CSVAVRO_PROGRESS_NONE;
            else
                goto badval;
            break;
        case C_CODEC:
            if (csvavro_codec_parse(val, &o.avro.codec) != CSVAVRO_OK) goto badval;
            break;
        case C_LEVEL: {
            char *end;
            long l = strtol(val, &end, 10);
            if (*end || end == val) goto badval;
            o.avro.level = (int)l;
            break;
        }
        case C_BLOCK_SIZE:
            if (!cli_size(val, &u) || u == 0) goto badval;
            o.avro.block_size = (size_t)u;
            break;
        case C_SEED:
            if (!cli_u64(val, &u)) goto badval;
            o.avro.has_seed = 1;
            o.avro.seed = u;
            break;
        default:
            if (cli_csv_apply(id, p.name, val, &o.csv) < 0) goto out;
            break;
        }
        continue;
    badval:
        rc = cli_usage_error("convert", "bad value for %s: '%s'", p.name, val);
        goto out;
    }
    if (pos.n < 2) {
        rc = cli_usage_error("convert", "need INPUT and OUTPUT");
        goto out;
    }
    if (o.strict_schema && !schema_path) {
        rc = cli_usage_error("convert", "--strict-schema goes with --schema FILE.avsc");
        goto out;
    }
    mpi_rank = csvavro_mpi_init(&err); /* -1: one process (not under mpirun) */
    if (mpi_rank == -2) {
        rc = cli_report(&err);
        goto out;
    }
    /* a Kerberos cluster: rank 0's delegation token for every rank (only rank 0 needs a ticket) */
    if (mpi_rank >= 0 &&
        csvavro_mpi_share_token((const char *const *)pos.v, pos.n, &err) != CSVAVRO_OK) {
        rc = mpi_rank == 0 ? cli_report(&err) : cli_exit_code(err.status);
        goto out;
    }
    if (schema_path && mpi_rank <= 0) {
        schema_text = read_file(schema_path, &err);
        if (!schema_text) {
            rc = cli_report(&err);
            csvavro_mpi_release(err.status);
            goto out;
        }
        o.schema_json = schema_text;
    }
    o.inputs = (const char *const *)pos.v;
    o.n_inputs = pos.n - 1;
    o.output = pos.v[pos.n - 1];
    o.select = (const char *const *)sel.v;
    o.n_select = sel.n;
    o.exclude = (const char *const *)exc.v;
    o.n_exclude = exc.n;
    o.rename = (const char *const *)ren.v;
    o.n_rename = ren.n;
    o.partition_by = (const char *const *)part.v;
    o.n_partition_by = part.n;
    o.avro.meta = (const char *const *)meta.v;
    o.avro.n_meta = meta.n;
    if (quiet) o.progress = CSVAVRO_PROGRESS_NONE;
    o.cancel = (const volatile int *)&cancel_flag;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a closed stderr (progress piped into `head`) must not kill the job before it cleans up */
    signal(SIGPIPE, SIG_IGN);

    csvavro_job *job = NULL;
    csvavro_status st = CSVAVRO_OK;
    if (mpi_rank > 0) { /* the splits rank 0 hands out; rank 0 reports errors */
        st = csvavro_mpi_follow(&o, &err);
        rc = st == CSVAVRO_OK ? CLI_OK : cli_exit_code(st);
        goto out;
    }
    st = csvavro_job_create(&o, &job, &err);
    if (st == CSVAVRO_OK) st = csvavro_job_plan(job, &err);
    if (st == CSVAVRO_OK && !quiet && mpi_rank <= 0 && csvavro_job_notes(job))
        fprintf(stderr, "csvavro: note: %s\n", csvavro_job_notes(job));
    if (st == CSVAVRO_OK && o.dry_run) {
        if (o.progress == CSVAVRO_PROGRESS_JSON) {
            char *json = NULL;
            st = csvavro_job_plan_json(job, &json, &err);
            if (st == CSVAVRO_OK) printf("%s\n", json);
            csvavro_free(json);
        } else {
            print_plan(job);
        }
    } else if (st == CSVAVRO_OK) {
        csvavro_job_stats stats;
        st = mpi_rank == 0 ? csvavro_mpi_lead(job, &stats, &err)
                           : csvavro_job_execute(job, &stats, &err);
        if (st == CSVAVRO_OK && stats.output_existed && !quiet)
            fprintf(stderr, "csvavro convert: %s exists: nothing written (--mode ignore)\n",
                    o.output);
    }
    csvavro_mpi_release(st); /* other ranks: no job (planning failed, dry run) */
    csvavro_job_free(job);
    rc = st == CSVAVRO_OK ? CLI_OK : cli_report(&err);
    goto out;
nomem:
    fprintf(stderr, "csvavro convert: out of memory\n");
    rc = CLI_FAIL;
out:
    if (mpi_rank >= 0) csvavro_mpi_finalize();
    cli_csv_options_release();
    list_free(&pos);
    list_free(&sel);
    list_free(&exc);
    list_free(&ren);
    list_free(&meta);
    list_free(&part);
    free(schema_text);
    return rc;
}
