/*
 * exec.h — internal layout of a csvavro_job: planning (exec_plan.c), the worker pool and the
 * per-split pipeline (exec_run.c), the committer and manifest (exec_commit.c) and progress
 * rendering (exec_progress.c).
 *
 * Main idea: planning fixes everything before data is read — inputs, one schema, the compiled
 * filter, the splits and their final output names. Execution runs every split once on a pool of
 * workers (split i > 0 of an input speculatively: it assumes its start is outside quotes), then
 * walks the splits in order on one thread: a split whose first record does not start where the
 * previous split ended is re-run from there (docs/splits.md), and --limit is applied in split
 * order. Only then is anything renamed to a final name.
 *
 * Invariants: workers share only the immutable plan, one atomic split counter, relaxed atomic
 * progress counters and an abort flag; each split's results are written by exactly one thread
 * (its worker, or the main thread after the pool joined). All output lives under tmp_dir until
 * commit.
 */
#ifndef CAV_EXEC_H
#define CAV_EXEC_H

#include "../avro/avro.h"
#include "../csv/csv.h"
#include "../filter/filter.h"
#include "../io/io.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#define CAV_JOB_DEFAULT_SPLIT ((uint64_t)64 << 20)
#define CAV_JOB_DEFAULT_BATCH 16384u
#define CAV_JOB_DEFAULT_BUFFER ((size_t)1 << 20)
#define CAV_JOB_REJECT_SPILL ((size_t)1 << 20) /* reject lines kept in memory per worker */

enum { CAV_OUT_PATTERN = 0, CAV_OUT_DIR = 1, CAV_OUT_SINGLE = 2 };

typedef struct cav_input {
    char *spec;     /* the string the user gave (for messages): URL or path */
    char *display;  /* URL of the file (hdfs) or its path (local) */
    char *path;     /* backend path */
    csvavro_fs *fs; /* borrowed from the job's fs table */
    int64_t size;
    cav_csv_header h;      /* read once at planning */
    csvavro_block *blocks; /* from csvavro_fs_blocks (malloc'd by the backend) */
    size_t n_blocks;
    bool sequential; /* compressed or a stream: one split, size unknown (io_input.c) */
    uint8_t codec;   /* csvavro_compression found at planning */
    int32_t *map;    /* fields matched by name (exec_schema.c): field f is column map[f], -1 =
                        its default; NULL: field f is column f */
    /* bzip2 / multi-frame zstd cut into several splits (io_chunks.c): one split per range of
     * cuts, splits first_split .. first_split + cuts.n - 1 */
    bool chunked;
    cav_chunk_cuts cuts;
    size_t first_split;
} cav_input;

/* Positions in a chunked input (docs/input.md): (split << CAV_VPOS_BITS) | offset in the
 * split's own decoded bytes; CAV_RANGE_EMPTY marks a split whose range holds no chunk. */
#define CAV_VPOS_BITS 40
#define CAV_VPOS_MASK (((int64_t)1 << CAV_VPOS_BITS) - 1)
#define CAV_RANGE_EMPTY INT64_MIN
/* Where split si's first run starts (and whether aligned: s->first). */
int64_t cav_split_first_start(const csvavro_job *j, size_t si);
/* Rebuilds the cuts of chunked inputs from their splits (MPI ranks > 0 get only the splits). */
csvavro_status cav_job_chunk_cuts_from_splits(csvavro_job *j, csvavro_error *err);

/* A job spread over several processes (exec_mpi.c: one per MPI rank); NULL in one process.
 * Rank 0 plans, hands out the splits, verifies and commits; the other ranks only run the splits
 * they are handed, into the same tmp_dir. Every hook may be NULL. */
typedef struct cav_dist cav_dist;
struct cav_dist {
    int rank;
    /* rank 0, once tmp_dir exists (csvavro_job_execute): hand the plan to the other ranks */
    csvavro_status (*start)(cav_dist *d, csvavro_job *j, csvavro_error *err);
    /* the next split for a worker of this process, SIZE_MAX when none is left (any thread) */
    size_t (*next)(cav_dist *d, csvavro_job *j);
    /* from the pool's progress loop, about every 100 ms (the thread running the pool) */
    void (*tick)(cav_dist *d, csvavro_job *j);
    /* after this process's pool joined, with its status st: rank 0 waits for every other rank
     * and merges their split results into j->splits (returns a rank's failure outside its
     * splits); the others send theirs. Then only rank 0 goes on (verification). */
    csvavro_status (*gather)(cav_dist *d, csvavro_job *j, csvavro_status st, csvavro_error *err);
    /* rank 0: adds the other ranks' live counters */
    void (*live)(cav_dist *d, const csvavro_job *j, csvavro_job_stats *s);
    /* rank 0: per-rank lines after the summary (json: as JSON lines) */
    void (*summary)(cav_dist *d, const csvavro_job *j, bool json);
};

/* --partition-by: one partition key (exec_partition.c) */
typedef struct cav_part_spec {
    char *name;   /* directory key name */
    int func;     /* 0 the column's value, 1 year, 2 month, 3 day, 4 hour */
    uint32_t col; /* column of the reader schema (full) */
} cav_part_spec;

/* A part file of a partitioned split, as its split's list file holds it (cav_pf_next). The
 * list, not memory, holds a split's part files: a line "SEQ ROWS BYTES KEY" per file, in the
 * order they were written (file k is <pf_base>.<k>.avro), so the job's bookkeeping does not
 * grow with the number of files (docs/datasets.md). */
typedef struct cav_part_file {
    uint64_t k;   /* its number in the split: <pf_base>.<k>.avro */
    uint32_t seq; /* files of its partition before it in the split */
    uint64_t rows, bytes;
    const char *key; /* "year=2013/month=01" (the reader's buffer, until the next line) */
} cav_part_file;

/* Reads the list file of a split, line by line, in bounded memory. */
typedef struct cav_pf_reader {
    csvavro_file *f;
    int64_t off;
    uint8_t *buf;
    size_t len, pos, cap;
    uint64_t k, n; /* lines read, lines expected (the split's n_pfiles) */
    char *path;
} cav_pf_reader;

typedef struct cav_pw cav_pw; /* a worker's partition writers */

typedef struct cav_split {
    size_t input;
    int64_t start, end;       /* planned byte range */
    const csvavro_block *blk; /* block holding it (hosts) or NULL */
    bool first;               /* first split of its input: starts at the data start, aligned */
    char *final_name;         /* final output path (backend); the single file in that form */
    char *final_display;      /* the same as a URL for remote outputs (plans, manifest) */
    char *tmp_name;           /* its file under tmp_dir */
    char *rej_name;           /* its reject lines under tmp_dir (when it had any) */
    /* results of the last run */
    int64_t run_start; /* where the last run started */
    bool run_aligned;
    bool ran;
    bool capped; /* stopped because it reached its row cap */
    int64_t range_start, range_end;
    int64_t own_len; /* chunked: the decoded bytes of its own range (-1 unknown) */
    uint64_t rows_read, rows_kept, rejected, bytes_out, bytes_in;
    bool has_rejects;
    bool has_output;   /* tmp_name exists */
    csvavro_status st; /* status of the last run */
    csvavro_error err;
    /* SINGLE form, live assembly (exec_single.c): the encoded blocks of a run that went ahead
     * of the output, first in memory (chunks of the reorder buffer), then in tmp_name
     * (has_output, spill_f while open); ostate and the granted start under single_mu */
    struct cav_ochunk *oc_head, *oc_tail;
    csvavro_file *spill_f;
    int ostate;
    struct cav_osink *o_owner; /* the sink of the worker running it */
    atomic_int o_granted;      /* ostate became GRANTED (the owner's lock-free look) */
    int64_t granted_start;     /* where the previous split ended, when GRANTED */
    /* partitioned: the part files of the last run are <pf_base>.<k>.avro, k < n_pfiles, and
     * <pf_base>.list lists them (cav_part_file); pf_base is <tmp_dir>/p.<split>[.<run>] */
    char *pf_base;
    uint64_t n_pfiles;
} cav_split;

struct csvavro_job {
    csvavro_job_options o;
    char *notes;    /* planning notes for the user (csvavro_job_notes) */
    bool to_stdout; /* output "-": the single file is copied to stdout at commit */
    bool planned, executed;
    csvavro_fs **fss;
    size_t n_fss;
    cav_input *inputs;
    size_t n_inputs;
    csvavro_schema *full; /* reader schema: one field per CSV column (or, matched by name,
                             the --schema / union fields: see cav_input.map) */
    char **def_json;      /* --schema: each field's "default" as JSON text, or NULL */
    size_t n_def_json;
    cav_const_value *defs; /* [n_defs] the value of a field an input lacks (NULL: none is) */
    char **def_store;      /* their bytes */
    size_t n_defs;
    char *mapping;              /* csvavro_job_mapping */
    csvavro_schema *out_schema; /* after select/exclude/rename */
    uint32_t *col_map;          /* output field i <- batch column col_map[i] */
    const uint32_t *where_cols;
    size_t n_where_cols;
    cav_filter *filter;
    cav_split *splits;
    size_t n_splits;
    int threads;
    /* output */
    int form;
    csvavro_fs *out_fs;
    char *out_dir;                 /* destination directory (backend path) */
    char *pat_prefix, *pat_suffix; /* base-name pattern around '*' (PATTERN, DIR) */
    char *single_name;             /* SINGLE: final path */
    char *tmp_dir;
    char *success_name;
    char *job_id;         /* host-pid-random: the temp dir is CAV_TMP_PREFIX job_id */
    char *tmp_base;       /* base name of tmp_dir */
    char file_tag[16];    /* --mode append: 12 hex digits in every output name of this job */
    int mode;             /* csvavro_write_mode (overwrite folded in) */
    cav_part_spec *parts; /* --partition-by */
    size_t n_parts;
    size_t part_buffer; /* partitioned: bytes of encoded rows buffered per worker */
    char *layout;       /* csvavro_job_partition_layout */
    bool skip;          /* --mode ignore and the output exists: nothing to do */
    char *rej_tmp;      /* URL of the complete reject file under its temporary name */
    json_t *prev;       /* the dataset manifest found at planning (append), or NULL */
    /* liveness: a thread renames a file in tmp_dir every lease/5 ms (exec_dataset.c) */
    pthread_t hb_thread;
    bool hb_running;
    atomic_int hb_stop;
    pthread_mutex_t hb_mu; /* the heartbeat's wait (hb_cv), stopped at once */
    pthread_cond_t hb_cv;
    uint8_t single_sync[16];
    /* live counters (relaxed atomics, per batch) */
    _Atomic uint64_t live_bytes, live_rows, live_kept, live_rejected, live_done;
    atomic_size_t next_split;
    atomic_int abort_flag;
    uint64_t start_ns;
    uint64_t splits_rerun;
    uint64_t committed_bytes; /* bytes of the committed Avro files */
    cav_dist *dist;           /* several processes (MPI), or NULL */
    bool committed;           /* cav_job_conclude committed the output */
    bool parts_driver;        /* begun by csvavro_job_begin: freeing it unfinished discards */
    bool parts_worker;        /* opened from a plan (csvavro_job_open_plan): runs splits only */
    /* SINGLE form: the output is assembled while the workers run (exec_single.c): splits
     * [0, single_next) are verified and in single_f; under single_mu */
    bool single_live;
    bool single_stalled; /* a split that cannot stand where it ran: the rest waits for commit */
    pthread_mutex_t single_mu;
    pthread_cond_t single_cv; /* a worker waiting at the end for its finished splits' turn */
    csvavro_file *single_f;
    uint8_t *single_buf;
    size_t single_next;
    csvavro_status single_st;
    csvavro_error single_err;
    /* the reorder buffer: chunks of order_chunk bytes, at most order_max of them (order_n
     * allocated, order_used holding data, order_peak the most at once) */
    size_t order_chunk, order_max, order_n, order_used, order_peak;
    void *order_region; /* the chunks' reservation (exec_single.c), or NULL */
    size_t order_region_len, order_stride;
    struct cav_ochunk *order_free;
    uint64_t order_mem, order_spilled; /* bytes through memory / split files (the trace) */
    long order_fail_split;             /* test hook: CSVAVRO_TEST_SPLIT_FAIL */
    size_t order_heads, order_takeovers, order_handed; /* how splits reached it (the trace) */
    long delay_mod, delay_rem, delay_ms; /* test hook: CSVAVRO_TEST_SPLIT_DELAY=MOD:REM:MS */
};

/* exec_plan.c */
bool cav_job_cancelled(const csvavro_job *job);
/* True for status codes that come from the data (a speculative split may see them wrongly). */
bool cav_job_data_error(csvavro_status st);
/* Output name of split i (allocated). */
char *cav_job_output_name(const csvavro_job *job, size_t i);
/* The output mode's check of the destination (planning, and again under the commit lock). */
csvavro_status cav_job_check_destination(csvavro_job *job, csvavro_error *err);
/* Base name matches the output pattern (prefix DIGITS suffix, or DIGITS-TAG of an append). */
bool cav_job_name_matches(const csvavro_job *job, const char *name);
char *cav_path_join(const char *dir, const char *name);
/* path on the output backend as users see it: the path locally, a URL for hdfs (allocated) */
char *cav_job_out_display(const csvavro_job *job, const char *path);
/* out_schema and col_map from full and select/exclude/rename */
csvavro_status cav_job_project(csvavro_job *job, csvavro_error *err);
/* Keeps fs open for the job's lifetime (closed by csvavro_job_free); on failure fs is closed. */
csvavro_status cav_job_add_fs(csvavro_job *j, csvavro_fs *fs, csvavro_error *err);

/* exec_schema.c: --schema by name, --union-by-name */
/* Maps every input with a header onto full by name (cav_input.map), the defaults, the notes
 * about dropped columns and the mapping text. */
csvavro_status cav_job_map_inputs(csvavro_job *job, csvavro_error *err);
/* defs from def_json (null where there is none) */
csvavro_status cav_job_build_defaults(csvavro_job *job, csvavro_error *err);

/* exec_run.c */
csvavro_status cav_job_run_splits(csvavro_job *job, csvavro_error *err);
/* The two ends of csvavro_job_execute: start (temporary directory, single-file sync marker,
 * stale cleanup) and conclude (commit when st is OK, else discard; final stats). */
csvavro_status cav_job_start(csvavro_job *job, csvavro_error *err);
csvavro_status cav_job_conclude(csvavro_job *job, csvavro_status st, csvavro_job_stats *stats,
                                csvavro_error *err);
/* Runs split i once on this thread as a pool worker would (aligned if it is the first split of
 * its input, else speculatively); the outcome is in job->splits[i]. Fails only when no worker
 * could be set up. */
csvavro_status cav_job_run_one(csvavro_job *job, size_t i, csvavro_error *err);
/* On this thread: runs every split that has not run yet, then the error check, verification
 * walk, --limit and --max-errors that follow the pool in cav_job_run_splits. */
csvavro_status cav_job_settle_here(csvavro_job *job, csvavro_error *err);

/* exec_commit.c */
csvavro_status cav_job_make_tmp(csvavro_job *job, csvavro_error *err);
/* Recovers an interrupted commit and removes the temp dirs of dead jobs in the output dir. */
csvavro_status cav_job_clean_stale(csvavro_job *job, csvavro_error *err);
csvavro_status cav_job_commit(csvavro_job *job, csvavro_error *err);
void cav_job_discard(csvavro_job *job);
/* CRC-64-AVRO (Rabin) fingerprint of bytes. */
uint64_t cav_rabin64(const void *p, size_t n);

/* exec_single.c: the single-file output assembled while the pool runs, in split order (see
 * the file). A worker's sink for one split: its writer writes into it. */
typedef struct cav_osink {
    csvavro_file base;
    csvavro_job *job;
    size_t si;
    bool head;           /* writes go straight into the output (this worker holds the token) */
    bool checkable;      /* its start can be checked before the run ends (not chunked) */
    int64_t range_start; /* the run's first record (set before the first write) */
    uint64_t mem, spilled;
    /* across the worker's splits: the token was handed to it for a split it finished ahead
     * (kick), and how many such splits wait for their turn (pending, under single_mu) */
    atomic_int kick;
    size_t pending;
} cav_osink;
/* --reorder-buffer, or its default */
uint64_t cav_job_reorder_buffer(const csvavro_job *job);
/* Before the pool: the output under tmp_dir with its header, the reorder buffer's bounds. */
csvavro_status cav_single_start(csvavro_job *job, csvavro_error *err);
/* Once per worker, before its first split. */
void cav_single_sink_init(cav_osink *k, csvavro_job *job);
/* A worker takes split si: sets up its sink k; true when si is the head (every split before it
 * is in the output): *start is then where split si-1 ended (run it aligned from there). */
bool cav_single_claim(csvavro_job *job, size_t si, cav_osink *k, int64_t *start);
/* After the run of k's split with status st (the split's results set): hands the output on
 * (or keeps the split's blocks for whoever makes it the head). Returns st, or the error of a
 * write into the output. */
csvavro_status cav_single_done(cav_osink *k, csvavro_status st, csvavro_error *err);
/* A worker with no split left: waits until the splits it finished ahead are written (by
 * itself, when their turn comes), the assembly stalls or fails, or the job stops. */
csvavro_status cav_single_leave(cav_osink *k, csvavro_error *err);
/* Returns what split s holds in memory to the buffer and abandons an open split file (a
 * re-run, a discarded job). */
void cav_single_drop(csvavro_job *job, cav_split *s);
/* What s holds (memory, then its split file) appended to the output (the token holder). */
csvavro_status cav_single_flush(csvavro_job *job, cav_split *s, csvavro_error *err);
/* Opens the output with its header when it is not yet. */
csvavro_status cav_single_open(csvavro_job *job, csvavro_error *err);
/* Commit: the splits not in the output yet, in order, then the output closed (fsync);
 * *tmp_out its path. */
csvavro_status cav_single_build(csvavro_job *job, char **tmp_out, csvavro_error *err);
/* CSVAVRO_ORDER_TRACE=1: one line on stderr about the reorder buffer's use. */
void cav_single_trace(const csvavro_job *job);
/* Frees the buffer's chunks (job free). */
void cav_single_free(csvavro_job *job);
csvavro_status cav_job_append_file(csvavro_fs *fs, const char *from, csvavro_file *out,
                                   uint8_t *buf, size_t cap, csvavro_error *err);

/* exec_dataset.c: datasets, the commit lock, liveness, intent and recovery (see the file) */
#define CAV_TMP_PREFIX ".csvavro-tmp-"
#define CAV_DS_MANIFEST "_SUCCESS"
#define CAV_DS_LOCK "_csvavro.lock"
#define CAV_DS_INTENT "_csvavro.intent"
/* The lease: a job whose heartbeat is older than this is dead (CSVAVRO_LEASE_MS, default
 * 30 000). */
int64_t cav_ds_lease_ms(void);
/* A numbered step of the commit: CSVAVRO_COMMIT_FAULT=N kills the process (SIGKILL) at the
 * N-th step, CSVAVRO_COMMIT_TRACE=1 prints each step on stderr (tests). */
void cav_ds_fault(const char *step);
void cav_ds_host_name(char *host, size_t cap);
/* Whole small file (at most 256 MiB) as a NUL-terminated string (cav_free). */
csvavro_status cav_ds_read_text(csvavro_fs *fs, const char *path, char **out, csvavro_error *err);
csvavro_status cav_ds_write_text(csvavro_fs *fs, const char *path, const char *text, int overwrite,
                                 csvavro_error *err);
/* Takes the commit lock of dir for holder (a temp dir name): waits while a live job holds
 * it, takes over the lock of a dead one. */
csvavro_status cav_ds_lock(csvavro_fs *fs, const char *dir, const char *holder, csvavro_error *err);
void cav_ds_unlock(csvavro_fs *fs, const char *dir, const char *holder);
/* The manifest of dir (NULL when there is none). */
csvavro_status cav_ds_manifest_load(csvavro_fs *fs, const char *dir, json_t **out,
                                    csvavro_error *err);
const char *cav_ds_output_name(json_t *output);
bool cav_ds_manifest_has_job(json_t *manifest, const char *job);
/* Removes the directories of rel (relative to dir) while they are empty, deepest first. */
void cav_ds_prune_dirs(csvavro_fs *fs, const char *dir, const char *rel);
/* Rolls an interrupted commit (intent record) forward or back (then removes the partition
 * directories it had created, "mkdirs", when empty); the caller holds the lock. */
csvavro_status cav_ds_recover(csvavro_fs *fs, const char *dir, csvavro_error *err);
/* When dir holds an intent (or, for a job, self = its own temp dir name, the temp dirs of
 * dead jobs): takes the lock, recovers, removes them. self NULL (readers, planning): only an
 * intent is acted on. */
csvavro_status cav_ds_settle(csvavro_fs *fs, const char *dir, const char *self, csvavro_error *err);
/* reader can read data written with writer under Avro's resolution rules */
csvavro_status cav_ds_schema_check(const csvavro_schema *reader, const csvavro_schema *writer,
                                   csvavro_error *err);
csvavro_status cav_ds_check_append(json_t *manifest, const csvavro_schema *reader,
                                   csvavro_error *err);

/* exec_dataset.c: a partition directory's value text unescaped in place (Hive's %XX); v itself,
 * or NULL (v freed) for __HIVE_DEFAULT_PARTITION__, the null value. */
char *cav_hive_unescape(char *v);

/* exec_partition.c */
csvavro_status cav_job_plan_partitions(csvavro_job *job, csvavro_error *err);
void cav_job_free_partitions(csvavro_job *job);
csvavro_status cav_pw_create(csvavro_job *job, cav_pw **out, csvavro_error *err);
void cav_pw_free(cav_pw *pw);
/* Appends the selected rows of b to their partitions' files of split s (index si). */
csvavro_status cav_pw_append(cav_pw *pw, cav_split *s, size_t si, cav_batch *b, csvavro_error *err);
/* Writes the split's buffered partitions (st OK) or drops them; returns the status. */
csvavro_status cav_pw_finish_split(cav_pw *pw, cav_split *s, size_t si, csvavro_status st,
                                   csvavro_error *err);
/* Removes the split's part files and their list (fs may be NULL: only forget them). */
void cav_split_free_pfiles(cav_split *s, csvavro_fs *fs);
/* Names of part file k of split s and of the split's list (allocated). */
char *cav_pf_tmp_name(const cav_split *s, uint64_t k);
char *cav_pf_list_name(const cav_split *s);
/* The final path of a part file: <out_dir>/<key>/part-<si>-<seq>[-tag].avro (allocated). */
char *cav_pf_final_name(const csvavro_job *job, size_t si, const char *key, uint32_t seq);
/* Opens the list of split s (fs: the output's), reads its part files one at a time: *done
 * after the last one; a list that is short, long or malformed is an error. */
csvavro_status cav_pf_open(csvavro_fs *fs, const cav_split *s, cav_pf_reader *r,
                           csvavro_error *err);
csvavro_status cav_pf_next(cav_pf_reader *r, cav_part_file *pf, bool *done, csvavro_error *err);
void cav_pf_close(cav_pf_reader *r);

/* exec_progress.c */
void cav_job_live_stats(const csvavro_job *job, csvavro_job_stats *s);
void cav_job_progress(csvavro_job *job, const csvavro_job_stats *s, bool final);

#endif /* CAV_EXEC_H */
