/*
 * exec_run.c — execution: the worker pool, the per-split pipeline, speculative-split
 * verification and the --limit walk.
 *
 * Pipeline per batch (one reader, one batch, one filter state, one writer per worker, all
 * reused across splits): next -> load the filter's columns -> filter -> load the output columns
 * -> drop rows with conversion errors -> cap at the split's row budget -> append. Progress
 * counters are relaxed atomics added once per batch; nothing is locked per row.
 *
 * Closing a finished split's own output file (the forms with one file per split) means its
 * fsync (local) or the end of its write pipeline (HDFS): a worker hands the open file to the
 * closer thread and goes on with its next split, so those waits overlap with the conversion and
 * only the last files' are waited for, when the pool has joined. At most CLOSE_QUEUE files wait
 * (a worker blocks when that many are pending: each holds its write buffer). The closer is
 * drained before anything reads or renames the files (verification, commit), and a failed
 * close fails the job like a failure in the worker itself, so nothing is committed that was
 * not durably closed. The single-file form has no split files unless a worker runs far ahead
 * or the job runs with --limit or MPI: its blocks go to the output as the pool runs
 * (exec_single.c); split files there are scratch files (no fsync), closed in the worker.
 *
 * After the pool joined, the main thread walks the splits in order (docs/splits.md): a
 * speculative split whose first record does not start where its predecessor's last record
 * ended is re-run aligned from there; a data error of a speculative split counts only once the
 * split is verified; --limit keeps the first `limit` rows in split order, re-running the split
 * that crosses it with a smaller budget and emptying the splits after it.
 */
#include "exec.h"

#include "../io/io.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pool_sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done; /* workers finished */
} pool_sync;

#define CLOSE_QUEUE 4

/* The closer thread and its queue of finished output files (see the top). */
typedef struct closer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    csvavro_file *q[CLOSE_QUEUE];
    size_t q_si[CLOSE_QUEUE];
    size_t head, n; /* n files queued from head (the first one possibly being closed) */
    bool stop;
    pthread_t th;
    csvavro_job *job;
    size_t bad_si; /* the first failed close, in completion order */
    csvavro_status bad_st;
    csvavro_error bad_err;
} closer;

static void *closer_main(void *arg) {
    closer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->n == 0 && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->n == 0) break;
        csvavro_file *f = c->q[c->head];
        size_t si = c->q_si[c->head];
        pthread_mutex_unlock(&c->mu);
        csvavro_error e;
        csvavro_error_clear(&e);
        csvavro_status st = csvavro_file_close(f, &e);
        pthread_mutex_lock(&c->mu);
        c->head = (c->head + 1) % CLOSE_QUEUE;
        c->n--;
        if (st != CSVAVRO_OK && c->bad_st == CSVAVRO_OK) {
            c->bad_si = si;
            c->bad_st = st;
            c->bad_err = e;
            atomic_store(&c->job->abort_flag, 1); /* the others stop early */
        }
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Queues f (split si's finished output) for closing; waits while the queue is full. */
static void closer_put(closer *c, csvavro_file *f, size_t si) {
    pthread_mutex_lock(&c->mu);
    while (c->n == CLOSE_QUEUE)
        pthread_cond_wait(&c->cv, &c->mu);
    size_t k = (c->head + c->n) % CLOSE_QUEUE;
    c->q[k] = f;
    c->q_si[k] = si;
    c->n++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Closes what is queued, stops the thread; a failed close becomes its split's status. */
static void closer_drain(closer *c) {
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    if (c->bad_st != CSVAVRO_OK) {
        cav_split *s = &c->job->splits[c->bad_si];
        s->st = c->bad_st;
        s->err = c->bad_err;
    }
}

typedef struct worker {
    csvavro_job *job;
    cav_csv_reader *r;
    cav_batch b;
    cav_filter_state *es;
    cav_buf rej;
    cav_avro_writer *wr; /* kept across splits (restarted per file): buffers allocated once */
    cav_pw *pw;          /* --partition-by: the partitions' writers */
    csvavro_status st;   /* fatal status of the worker (non-data errors) */
    csvavro_error err;
    pool_sync *ps;
    closer *cl;     /* NULL: close output files here */
    cav_osink sink; /* the single-file form's live assembly: the split's sink (exec_single.c) */
} worker;

static csvavro_status worker_init(worker *w, csvavro_job *j, csvavro_error *err) {
    memset(w, 0, sizeof *w);
    w->job = j;
    cav_buf_init(&w->rej, (size_t)256 << 20);
    size_t nf = csvavro_schema_field_count(j->full);
    csvavro_type *types = cav_calloc(nf, sizeof *types);
    if (!types) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nf; i++)
        types[i] = csvavro_schema_field_type(j->full, i);
    /* the offsets of a record take the input's width, which matching by name may make wider */
    size_t width = nf;
    for (size_t i = 0; i < j->n_inputs; i++)
        if (j->inputs[i].map && j->inputs[i].h.n_cols > width) width = j->inputs[i].h.n_cols;
    uint32_t rows = cav_csv_batch_rows(j->o.batch_rows, width);
    csvavro_status st = cav_batch_init(&w->b, (uint32_t)nf, types, rows, 0, err);
    cav_free(types);
    CAV_TRY(st);
    for (size_t i = 0; i < nf; i++) {
        w->b.cols[i].not_null = !csvavro_schema_field_nullable(j->full, i);
        int p, s, fs;
        if (csvavro_schema_field_decimal(j->full, i, &p, &s, &fs, NULL)) {
            w->b.cols[i].dec_precision = (uint8_t)p;
            w->b.cols[i].dec_scale = (uint8_t)s;
            w->b.cols[i].dec_size = (uint16_t)fs;
        }
    }
    CAV_TRY(cav_csv_reader_create(&j->o.csv, j->full, rows, &w->r, err));
    /* projection pushdown: the scanner stores offsets only up to the last column loaded below
     * (run_split: the filter's, the output's and the partition columns) */
    bool *need = cav_calloc(nf ? nf : 1, sizeof *need);
    if (!need) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t c = 0; c < j->n_where_cols; c++)
        need[j->where_cols[c]] = true;
    for (size_t c = 0; c < csvavro_schema_field_count(j->out_schema); c++)
        need[j->col_map[c]] = true;
    for (size_t p = 0; p < j->n_parts; p++)
        need[j->parts[p].col] = true;
    st = cav_csv_reader_set_needed(w->r, need, err);
    cav_free(need);
    CAV_TRY(st);
    int kind = cav_csv_reader_kind(w->r);
    cav_csv_reader_tune(w->r, kind, j->o.read_buffer);
    if (j->filter) CAV_TRY(cav_filter_state_create(j->filter, j->o.batch_rows, &w->es, err));
    if (j->n_parts) CAV_TRY(cav_pw_create(j, &w->pw, err));
    cav_single_sink_init(&w->sink, j);
    return CSVAVRO_OK;
}

static void worker_free(worker *w) {
    cav_csv_reader_free(w->r);
    cav_batch_free(&w->b);
    cav_filter_state_free(w->es);
    cav_buf_free(&w->rej);
    cav_avro_writer_free(w->wr);
    cav_pw_free(w->pw);
}

static csvavro_status spill_rejects(worker *w, cav_split *s, csvavro_file **rf,
                                    csvavro_error *err) {
    if (w->rej.len == 0) return CSVAVRO_OK;
    csvavro_job *j = w->job;
    if (!*rf) {
        if (!s->rej_name) {
            char nm[64];
            snprintf(nm, sizeof nm, "rejects.%zu", (size_t)(s - j->splits));
            s->rej_name = cav_path_join(j->tmp_dir, nm);
            if (!s->rej_name) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        }
        CAV_TRY(csvavro_fs_create(j->out_fs, s->rej_name, 1, rf, err));
        s->has_rejects = true;
    }
    CAV_TRY(csvavro_file_write(*rf, w->rej.data, w->rej.len, err));
    cav_buf_reset(&w->rej);
    return CSVAVRO_OK;
}

/* Keeps only selected rows without a conversion error; returns the selected count. */
static uint32_t settle_selection(cav_batch *b) {
    if (b->n_row_errors == 0) return cav_batch_selected(b);
    uint32_t n = cav_batch_selected(b), k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = cav_batch_row(b, i);
        if (!b->row_error[r]) b->sel_store[k++] = r;
    }
    b->sel = b->sel_store;
    b->n_sel = k;
    return k;
}

static void cap_selection(cav_batch *b, uint32_t keep) {
    if (!b->sel) {
        for (uint32_t i = 0; i < keep; i++)
            b->sel_store[i] = i;
        b->sel = b->sel_store;
    }
    b->n_sel = keep;
}

static csvavro_status open_output(worker *w, cav_split *s, const uint8_t sync[16],
                                  csvavro_file **out_f, cav_avro_writer **wr, bool sink,
                                  csvavro_error *err) {
    csvavro_job *j = w->job;
    if (sink) { /* the single output assembled live: blocks into the split's sink */
        *out_f = NULL;
        w->sink.range_start = cav_csv_reader_range_start(w->r); /* a record was read */
        if (!w->wr)
            CAV_TRY(cav_avro_writer_create(j->out_schema, &j->o.avro, sync, &w->sink.base, false,
                                           &w->wr, err));
        else
            CAV_TRY(cav_avro_writer_restart(w->wr, sync, &w->sink.base, false, err));
        *wr = w->wr;
        return CSVAVRO_OK;
    }
    CAV_TRY(csvavro_fs_create(j->out_fs, s->tmp_name, 1, out_f, err));
    s->has_output = true;
    bool header = j->form != CAV_OUT_SINGLE;
    /* the single-file form copies the split files into the output at commit (and syncs that):
     * syncing each split file too cost ~5 ms apiece here */
    (*out_f)->scratch = j->form == CAV_OUT_SINGLE;
    if (!w->wr)
        CAV_TRY(
            cav_avro_writer_create(j->out_schema, &j->o.avro, sync, *out_f, header, &w->wr, err));
    else
        CAV_TRY(cav_avro_writer_restart(w->wr, sync, *out_f, header, err));
    *wr = w->wr;
    return CSVAVRO_OK;
}

/* A chunked split's reader positions (local to its view) as positions every split agrees on:
 * (owning split, offset in its own decoded bytes). */
static csvavro_status chunk_positions(csvavro_job *j, size_t si, csvavro_file *f,
                                      csvavro_error *err) {
    cav_split *s = &j->splits[si];
    const cav_input *in = &j->inputs[s->input];
    int64_t *pos[2] = {&s->range_start, &s->range_end};
    for (int k = 0; k < 2; k++) {
        size_t owner;
        int64_t off;
        cav_chunks_locate(f, *pos[k], &owner, &off);
        if (off > CAV_VPOS_MASK) {
            cav_err_path(err, in->display);
            return cav_err(err, CSVAVRO_E_LIMIT,
                           "split %zu decodes to more than 1 TiB: give a smaller --split-size",
                           in->first_split + owner);
        }
        *pos[k] = (int64_t)(in->first_split + owner) << CAV_VPOS_BITS | off;
    }
    return CSVAVRO_OK;
}

/* A data error's byte offset in a chunked split's view as a position every split agrees on
 * (split_failed turns it into an offset in the whole decoded input). */
static void chunk_error_offset(csvavro_job *j, size_t si, csvavro_file *f, csvavro_error *err) {
    const cav_input *in = &j->inputs[j->splits[si].input];
    size_t owner;
    int64_t off;
    cav_chunks_locate(f, err->offset, &owner, &off);
    err->offset = (int64_t)(in->first_split + owner) << CAV_VPOS_BITS | (off & CAV_VPOS_MASK);
    err->line = -1;
}

/* The offset in the whole decoded input of position v of a chunked input: the own bytes of the
 * splits before v's split (known once they ran), else by decoding from the start. -1 if that
 * fails. */
static int64_t chunk_global_offset(csvavro_job *j, const cav_input *in, int64_t v) {
    size_t owner = (size_t)((uint64_t)v >> CAV_VPOS_BITS) - in->first_split;
    int64_t off = v & CAV_VPOS_MASK, total = 0;
    for (size_t k = 0; k < owner && total >= 0; k++) {
        int64_t n = j->splits[in->first_split + k].own_len;
        total = n >= 0 ? total + n : -1;
    }
    if (total >= 0) return total + off;
    csvavro_file *f = NULL;
    csvavro_error e2;
    if (cav_chunks_open(in->fs, in->path, in->display, &in->cuts, 0, &f, &e2) != CSVAVRO_OK)
        return -1;
    uint8_t *tmp = cav_malloc((size_t)1 << 20);
    int64_t local = 0, at = -1;
    while (tmp) { /* read until the owner's bytes reach off */
        size_t o2, got = 0;
        int64_t x;
        if (csvavro_file_pread(f, tmp, (size_t)1 << 20, local, &got, &e2) != CSVAVRO_OK || got == 0)
            break;
        local += (int64_t)got;
        cav_chunks_locate(f, local, &o2, &x);
        if (o2 > owner || (o2 == owner && x >= off)) {
            at = local - x + off;
            break;
        }
    }
    cav_free(tmp);
    csvavro_file_close(f, &e2);
    return at;
}

/* Runs split si from `start` (aligned or speculative) keeping at most `cap` rows. Results go
 * into the split; the return value is the split's status. sink: the single output is assembled
 * live and its blocks go to w->sink (cav_single_claim), no file of its own unless it spills. */
static csvavro_status run_split(worker *w, size_t si, int64_t start, bool aligned, uint64_t cap,
                                bool live, bool sink) {
    csvavro_job *j = w->job;
    cav_split *s = &j->splits[si];
    const cav_input *in = &j->inputs[s->input];
    csvavro_error *err = &s->err;
    csvavro_error_clear(err);
    s->ran = true;
    s->run_start = start;
    s->run_aligned = aligned;
    s->capped = false;
    s->rows_read = s->rows_kept = s->rejected = s->bytes_out = s->bytes_in = 0;
    uint64_t value_rejects = 0; /* rows dropped while converting (counted in rows_read) */
    s->range_start = s->range_end = start;
    cav_buf_reset(&w->rej);
    if (!s->tmp_name) {
        char nm[64];
        snprintf(nm, sizeof nm, "split.%zu.avro", si);
        s->tmp_name = cav_path_join(j->tmp_dir, nm);
        if (!s->tmp_name) return s->st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    /* a re-run replaces the files of the previous run */
    if (s->has_rejects) csvavro_fs_remove(j->out_fs, s->rej_name, 0, NULL);
    cav_single_drop(j, s); /* what the previous run kept in memory */
    if (s->has_output) csvavro_fs_remove(j->out_fs, s->tmp_name, 0, NULL);
    cav_split_free_pfiles(s, j->out_fs);
    if (j->n_parts && !s->pf_base) {
        char nm[64];
        snprintf(nm, sizeof nm, "p.%zu", si);
        s->pf_base = cav_path_join(j->tmp_dir, nm);
        if (!s->pf_base) return s->st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    s->has_rejects = false;
    s->has_output = false;

    csvavro_file *in_f = NULL, *out_f = NULL, *rej_f = NULL;
    cav_avro_writer *wr = NULL;
    uint8_t sync[16];
    csvavro_status st = CSVAVRO_OK;
    if (j->form == CAV_OUT_SINGLE)
        memcpy(sync, j->single_sync, 16);
    else
        st = cav_avro_sync_marker(&j->o.avro, si, sync, err);
    /* the output file is created at the first kept row (or at the end in the forms with one
     * file per split): a split that keeps nothing in the single-file form writes no file */
    if (st != CSVAVRO_OK || cap == 0) goto finish;
    int64_t lstart = start; /* where the reader starts in in_f */
    const int64_t *own_end = NULL;
    if (in->chunked) {
        /* start names a split and an offset in its own bytes (docs/input.md) */
        if ((size_t)((uint64_t)start >> CAV_VPOS_BITS) != si) goto finish; /* none of ours */
        lstart = start & CAV_VPOS_MASK;
        st = cav_chunks_open(in->fs, in->path, in->display, &in->cuts, si - in->first_split, &in_f,
                             err);
        if (st != CSVAVRO_OK) goto finish;
        /* no block starts in its range: nothing of ours (the first split still reads on: its
         * start, after the header, is a position in a later split's bytes) */
        if (cav_chunks_own_empty(in_f) && !s->first) {
            /* speculative: passes through at verification; aligned: from where it starts */
            s->range_start = s->range_end = aligned ? start : CAV_RANGE_EMPTY;
            s->own_len = 0;
            goto finish;
        }
        own_end = cav_chunks_own_end(in_f);
    } else {
        st = cav_input_open(in->fs, in->path, j->o.csv.compression, j->o.csv.zip_entry, &in_f, err);
        if (st != CSVAVRO_OK) goto finish;
    }
    cav_csv_reader_allow_trailing_empty(w->r, in->h.trailing_empty);
    st = cav_csv_reader_set_layout(
        w->r, in->map ? in->h.n_cols : (uint32_t)csvavro_schema_field_count(j->full), in->map,
        j->defs, err);
    if (st != CSVAVRO_OK) goto finish;
    cav_csv_reader_set_reject_sink(w->r,
                                   j->o.csv.on_error == CSVAVRO_ON_ERROR_REJECT ? &w->rej : NULL);
    cav_csv_reader_set_end_source(w->r, own_end);
    st = cav_csv_reader_open_range(w->r, in_f, in->display, lstart,
                                   in->chunked ? CAV_SIZE_UNKNOWN : s->end, aligned, err);
    if (st != CSVAVRO_OK) goto finish;
    if (s->first) cav_csv_reader_set_base(w->r, 1, in->h.data_start_line);
    int64_t done_prev = 0;
    cav_batch *b = &w->b;
    uint32_t n_out = (uint32_t)csvavro_schema_field_count(j->out_schema);
    while (st == CSVAVRO_OK) {
        if (cav_job_cancelled(j) || atomic_load_explicit(&j->abort_flag, memory_order_relaxed)) {
            st = cav_err(err, CSVAVRO_E_INTERRUPTED, "interrupted");
            break;
        }
        st = cav_csv_reader_next(w->r, b, err);
        if (st != CSVAVRO_OK || b->n_rows == 0) break;
        uint32_t nr = b->n_rows;
        for (size_t c = 0; c < j->n_where_cols && st == CSVAVRO_OK; c++)
            st = cav_csv_reader_load_column(w->r, b, j->where_cols[c], err);
        if (st == CSVAVRO_OK && j->filter) st = cav_filter_apply(j->filter, w->es, b, err);
        for (uint32_t c = 0; c < n_out && st == CSVAVRO_OK; c++)
            st = cav_csv_reader_load_column(w->r, b, j->col_map[c], err);
        for (size_t p = 0; p < j->n_parts && st == CSVAVRO_OK; p++)
            st = cav_csv_reader_load_column(w->r, b, j->parts[p].col, err);
        /* the batch's reject lines in input order; --max-errors in that order */
        if (st == CSVAVRO_OK) st = cav_csv_reader_batch_done(w->r, err);
        if (st != CSVAVRO_OK) break;
        value_rejects += b->n_row_errors;
        uint32_t keep = settle_selection(b);
        if ((uint64_t)keep > cap - s->rows_kept) {
            keep = (uint32_t)(cap - s->rows_kept);
            cap_selection(b, keep);
            s->capped = true;
        }
        if (keep && w->pw) {
            st = cav_pw_append(w->pw, s, si, b, err);
        } else {
            if (keep && !wr) st = open_output(w, s, sync, &out_f, &wr, sink, err);
            if (keep && st == CSVAVRO_OK) st = cav_avro_writer_append(wr, b, j->col_map, err);
        }
        s->rows_read += nr;
        s->rows_kept += keep;
        if (w->rej.len >= CAV_JOB_REJECT_SPILL && st == CSVAVRO_OK)
            st = spill_rejects(w, s, &rej_f, err);
        if (CAV_UNLIKELY(j->delay_ms > 0) && live && (long)si % j->delay_mod == j->delay_rem) {
            struct timespec ts = {j->delay_ms / 1000, (j->delay_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL); /* test hook: a slow worker (CSVAVRO_TEST_SPLIT_DELAY) */
        }
        if (live) {
            int64_t done = cav_csv_reader_bytes_done(w->r);
            atomic_fetch_add_explicit(&j->live_bytes, (uint64_t)(done - done_prev),
                                      memory_order_relaxed);
            done_prev = done;
            atomic_fetch_add_explicit(&j->live_rows, nr, memory_order_relaxed);
            atomic_fetch_add_explicit(&j->live_kept, keep, memory_order_relaxed);
        }
        if (s->capped || (cap != UINT64_MAX && s->rows_kept >= cap)) {
            s->capped = true;
            break;
        }
    }
    if (st == CSVAVRO_OK) st = cav_csv_reader_batch_done(w->r, err); /* after --limit's break */
    s->range_start = cav_csv_reader_range_start(w->r);
    s->range_end = cav_csv_reader_range_end(w->r);
    s->rejected = cav_csv_reader_rejected(w->r);
    /* records the scanner rejected (ragged, bad quoting) never reached a batch */
    if (s->rejected > value_rejects) s->rows_read += s->rejected - value_rejects;
    s->bytes_in = (uint64_t)CAV_MAX((int64_t)0, s->range_end - lstart);
    if (in->chunked && st == CSVAVRO_OK) {
        s->own_len = *own_end;
        st = chunk_positions(j, si, in_f, err);
    }
    if (live) {
        if (!in->chunked)
            atomic_fetch_add_explicit(&j->live_bytes,
                                      (uint64_t)CAV_MAX((int64_t)0, s->end - start - done_prev),
                                      memory_order_relaxed);
        atomic_fetch_add_explicit(&j->live_rejected, s->rejected, memory_order_relaxed);
    }
    if (st == CSVAVRO_OK) st = spill_rejects(w, s, &rej_f, err);
finish:
    if (w->pw) { /* partitioned: a file per partition (and LRU reopening), none when empty */
        st = cav_pw_finish_split(w->pw, s, si, st, err); /* bytes_out: its part files' */
    } else if (st == CSVAVRO_OK && !wr && j->form != CAV_OUT_SINGLE) {
        st = open_output(w, s, sync, &out_f, &wr, false, err);
    }
    if (st == CSVAVRO_OK && wr) st = cav_avro_writer_finish(wr, err);
    if (wr) s->bytes_out = cav_avro_writer_bytes(wr); /* the worker keeps the writer */
    if (out_f) {
        csvavro_error e2;
        if (st == CSVAVRO_OK && live && w->cl)
            closer_put(w->cl, out_f, si); /* fsynced while the next split runs */
        else if (st == CSVAVRO_OK)
            st = csvavro_file_close(out_f, err);
        else
            csvavro_file_close(out_f, &e2);
    }
    if (rej_f) {
        csvavro_error e2;
        if (st == CSVAVRO_OK)
            st = csvavro_file_close(rej_f, err);
        else
            csvavro_file_close(rej_f, &e2);
    }
    if (in_f && in->chunked && st != CSVAVRO_OK && err->offset >= 0 && cav_job_data_error(st))
        chunk_error_offset(j, si, in_f, err);
    if (in_f) {
        csvavro_error e2;
        csvavro_file_close(in_f, &e2);
    }
    if (st != CSVAVRO_OK && st != CSVAVRO_E_INTERRUPTED) {
        if (err->line < 0 && err->offset >= 0 && cav_job_data_error(st) && !in->chunked) {
            /* line numbers only on the error path */
            csvavro_file *f = NULL;
            csvavro_error e2;
            if (cav_input_open(in->fs, in->path, j->o.csv.compression, j->o.csv.zip_entry, &f,
                               &e2) == CSVAVRO_OK) {
                int64_t line;
                if (cav_csv_count_lines(f, err->offset, &line, &e2) == CSVAVRO_OK) err->line = line;
                csvavro_file_close(f, &e2);
            }
        }
        if (!err->path[0]) cav_err_path(err, in->display);
    }
    if (live) atomic_fetch_add_explicit(&j->live_done, 1, memory_order_relaxed);
    return s->st = st;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    csvavro_job *j = w->job;
    for (;;) {
        if (atomic_load_explicit(&j->abort_flag, memory_order_relaxed) || cav_job_cancelled(j))
            break;
        size_t si = j->dist && j->dist->next ? j->dist->next(j->dist, j)
                                             : atomic_fetch_add(&j->next_split, 1);
        if (si >= j->n_splits) break;
        cav_split *s = &j->splits[si];
        int64_t start = cav_split_first_start(j, si);
        /* the head split (all before it in the output) writes straight into it, aligned at
         * its verified start: at -j1 every split; one that runs ahead keeps its blocks until
         * its turn (exec_single.c) */
        bool sink = j->single_live, head = sink && cav_single_claim(j, si, &w->sink, &start);
        csvavro_status st = run_split(w, si, start, s->first || head, j->o.limit, true, sink);
        if (sink) {
            csvavro_status st2 = cav_single_done(&w->sink, st, &s->err);
            if (st == CSVAVRO_OK && st2 != CSVAVRO_OK) st = s->st = st2; /* the output failed */
        }
        /* a data error of a speculative split is judged at verification; the others stop all */
        /* a data error stops the job at once only where it is certain to count: an aligned
         * split without --limit (with a limit, rows past the N-th kept one are never judged) */
        bool deferred = cav_job_data_error(st) && (!s->first || j->o.limit != UINT64_MAX);
        if (st != CSVAVRO_OK && !deferred) {
            atomic_store(&j->abort_flag, 1);
            break;
        }
    }
    if (j->single_live) { /* the splits it finished ahead: written by this worker in turn */
        csvavro_error e;
        if (cav_single_leave(&w->sink, &e) != CSVAVRO_OK) atomic_store(&j->abort_flag, 1);
    }
    pthread_mutex_lock(&w->ps->mu);
    w->ps->done++;
    pthread_cond_signal(&w->ps->cv);
    pthread_mutex_unlock(&w->ps->mu);
    return NULL;
}

/* Test hook: CSVAVRO_TEST_SPLIT_DELAY=MOD:REM:MS makes the splits si with si % MOD == REM
 * sleep MS ms after each batch (slow and fast workers in the ordering tests). */
static void test_delay(csvavro_job *j) {
    j->delay_ms = 0;
    const char *e = getenv("CSVAVRO_TEST_SPLIT_DELAY");
    long m, r, ms;
    if (e && sscanf(e, "%ld:%ld:%ld", &m, &r, &ms) == 3 && m > 0 && ms > 0 && ms < 10000) {
        j->delay_mod = m;
        j->delay_rem = r;
        j->delay_ms = ms;
    }
}

/* Waits until every started worker finished or ms elapsed; returns true when all finished. */
static bool wait_workers(pool_sync *ps, int n, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&ps->mu);
    while (ps->done < n)
        if (pthread_cond_timedwait(&ps->cv, &ps->mu, &ts) != 0) break;
    bool all = ps->done >= n;
    pthread_mutex_unlock(&ps->mu);
    return all;
}

/* Whether column col's type came from the inference sample (no --schema, no --type for it). */
static bool type_inferred(const csvavro_job *j, int32_t col) {
    if (j->o.schema_json || j->o.csv.infer_rows == UINT64_MAX || col < 0 ||
        (size_t)col >= csvavro_schema_field_count(j->full))
        return false;
    const char *name = csvavro_schema_field_name(j->full, (size_t)col);
    const char *orig = csvavro_schema_field_original(j->full, (size_t)col);
    for (size_t i = 0; i < j->o.csv.n_type_overrides; i++) {
        const char *t = j->o.csv.type_overrides[i], *eq = strrchr(t, '=');
        size_t n = eq ? (size_t)(eq - t) : strlen(t);
        if ((strlen(name) == n && !strncmp(t, name, n)) ||
            (orig && strlen(orig) == n && !strncmp(t, orig, n)))
            return false;
    }
    return true;
}

static csvavro_status split_failed(csvavro_job *j, size_t si, csvavro_error *err) {
    cav_split *s = &j->splits[si];
    if (!err) return s->st;
    const cav_input *in = &j->inputs[s->input];
    if (in->chunked && s->err.offset >= 0 && cav_job_data_error(s->st) &&
        (size_t)((uint64_t)s->err.offset >> CAV_VPOS_BITS) >= in->first_split) {
        /* the offset and line in the whole decoded input (the error path only) */
        s->err.offset = chunk_global_offset(j, in, s->err.offset);
        csvavro_file *f = NULL;
        csvavro_error e2;
        if (s->err.offset >= 0 && cav_input_open(in->fs, in->path, j->o.csv.compression,
                                                 j->o.csv.zip_entry, &f, &e2) == CSVAVRO_OK) {
            int64_t line;
            if (cav_csv_count_lines(f, s->err.offset, &line, &e2) == CSVAVRO_OK) s->err.line = line;
            csvavro_file_close(f, &e2);
        }
    }
    *err = s->err;
    /* an error located in the input (file, byte) needs no internal split number */
    if (!err->path[0] || err->offset < 0) cav_err_prefix(err, "split %zu", si);
    /* a value that contradicts a type guessed from a sample: say how to widen it */
    /* the column by its name: matched by name, err->column is the input's position */
    long col = err->column_name[0] ? csvavro_schema_find(j->full, err->column_name) : err->column;
    if (err->status == CSVAVRO_E_VALUE && err->value[0] && type_inferred(j, (int32_t)col)) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n,
                 " (the column's type was inferred from a sample: --type '%s=string' keeps it as "
                 "text, --infer-rows all reads every row)",
                 err->column_name[0] ? err->column_name : "COL");
    }
    return s->st;
}

/* After every split ran once: the first fatal error in split order, then verification and
 * --limit in split order on this thread with w0's resources, then --max-errors. */
static csvavro_status settle(csvavro_job *j, worker *w0, csvavro_error *err) {
    csvavro_status st = CSVAVRO_OK;
    if (cav_job_cancelled(j)) return cav_err(err, CSVAVRO_E_INTERRUPTED, "interrupted");
    /* the first fatal error in split order; splits that only stopped because another one
     * failed (E_INTERRUPTED from the abort flag) do not hide the cause */
    size_t first_bad = SIZE_MAX, first_stopped = SIZE_MAX;
    for (size_t i = 0; i < j->n_splits && first_bad == SIZE_MAX; i++) {
        cav_split *s = &j->splits[i];
        bool deferred = cav_job_data_error(s->st) && (!s->first || j->o.limit != UINT64_MAX);
        if (!s->ran || s->st == CSVAVRO_OK || deferred) continue;
        if (s->st != CSVAVRO_E_INTERRUPTED)
            first_bad = i;
        else if (first_stopped == SIZE_MAX)
            first_stopped = i;
    }
    if (first_bad != SIZE_MAX || first_stopped != SIZE_MAX)
        return split_failed(j, first_bad != SIZE_MAX ? first_bad : first_stopped, err);
    /* a worker failed outside any split (cannot happen) */
    if (atomic_load(&j->abort_flag)) return cav_err(err, CSVAVRO_E_INTERNAL, "job aborted");
    /* verification and --limit, in split order */
    uint64_t remaining = j->o.limit;
    for (size_t i = 0; i < j->n_splits; i++) {
        cav_split *s = &j->splits[i];
        if (cav_job_cancelled(j)) return cav_err(err, CSVAVRO_E_INTERRUPTED, "interrupted");
        if (remaining == 0) {
            /* past the limit: an empty file (cap 0 reads nothing) */
            if (s->rows_kept || s->rows_read || s->rejected || s->st != CSVAVRO_OK)
                st = run_split(w0, i, s->start, true, 0, false, false);
            if (st != CSVAVRO_OK) goto fail_split;
            continue;
        }
        /* the verified start: where the previous split's last record ended */
        int64_t vstart = s->first ? s->run_start : j->splits[i - 1].range_end;
        if (!s->first) {
            const cav_split *p = &j->splits[i - 1];
            if (s->range_start == CAV_RANGE_EMPTY) /* a range without a block: passes through */
                s->range_start = s->range_end = p->range_end;
            if (s->range_start != p->range_end) {
                j->splits_rerun++;
                st = run_split(w0, i, p->range_end, true, j->o.limit, false, false);
                if (st != CSVAVRO_OK) goto fail_split;
            } else if (s->st != CSVAVRO_OK) {
                st = s->st;
                goto fail_split;
            }
        } else if (s->st != CSVAVRO_OK) {
            st = s->st;
            goto fail_split;
        }
        if (s->rows_kept > remaining) {
            st = run_split(w0, i, vstart, true, remaining, false, false);
            if (st != CSVAVRO_OK) goto fail_split;
        }
        remaining -= CAV_MIN(remaining, s->rows_kept);
        if (remaining == 0 && j->o.limit != UINT64_MAX) s->capped = true;
        continue;
    fail_split:
        return split_failed(j, i, err);
    }
    /* --max-errors over the whole job */
    if (j->o.csv.max_errors && j->o.csv.on_error != CSVAVRO_ON_ERROR_FAIL) {
        uint64_t total = 0;
        for (size_t i = 0; i < j->n_splits; i++)
            total += j->splits[i].rejected;
        if (total > j->o.csv.max_errors)
            st = cav_err(err, CSVAVRO_E_LIMIT, "%llu bad records, more than --max-errors %llu",
                         (unsigned long long)total, (unsigned long long)j->o.csv.max_errors);
    }
    return st;
}

csvavro_status cav_job_run_splits(csvavro_job *j, csvavro_error *err) {
    int nt = j->threads;
    worker *ws = cav_calloc((size_t)nt, sizeof *ws);
    pthread_t *th = cav_calloc((size_t)nt, sizeof *th);
    bool *started = cav_calloc((size_t)nt, sizeof *started);
    pool_sync ps;
    pthread_mutex_init(&ps.mu, NULL);
    pthread_cond_init(&ps.cv, NULL);
    ps.done = 0;
    /* the single output is assembled while the pool runs, except where the verification
     * walk may still change or drop splits anywhere (--limit) or other processes write them
     * (MPI) */
    j->single_live = j->form == CAV_OUT_SINGLE && j->o.limit == UINT64_MAX && !j->dist;
    test_delay(j);
    csvavro_status st = CSVAVRO_OK;
    if (!ws || !th || !started) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto out;
    }
    if (j->single_live) st = cav_single_start(j, err);
    int live_workers = 0;
    for (int t = 0; t < nt && st == CSVAVRO_OK; t++) {
        st = worker_init(&ws[t], j, err);
        ws[t].ps = &ps;
    }
    /* the closer: for the forms with a file per split, in this process's pool */
    closer cl;
    memset(&cl, 0, sizeof cl);
    bool cl_running = false;
    if (st == CSVAVRO_OK && j->form != CAV_OUT_SINGLE && !j->n_parts && !j->dist) {
        pthread_mutex_init(&cl.mu, NULL);
        pthread_cond_init(&cl.cv, NULL);
        cl.job = j;
        cl_running = pthread_create(&cl.th, NULL, closer_main, &cl) == 0;
        if (!cl_running) {
            pthread_mutex_destroy(&cl.mu);
            pthread_cond_destroy(&cl.cv);
        }
        for (int t = 0; t < nt && cl_running; t++)
            ws[t].cl = &cl;
    }
    for (int t = 0; t < nt && st == CSVAVRO_OK; t++) {
        if (pthread_create(&th[t], NULL, worker_main, &ws[t]) != 0) {
            st = cav_err(err, CSVAVRO_E_INTERNAL, "cannot start a worker thread");
            atomic_store(&j->abort_flag, 1);
            break;
        }
        started[t] = true;
        live_workers++;
    }
    /* progress loop on this thread; cancellation is polled at least every 100 ms */
    int tick = 0;
    const int step = CAV_MIN(100, j->o.progress_interval_ms);
    while (!wait_workers(&ps, live_workers, step)) {
        tick += step;
        if (cav_job_cancelled(j)) atomic_store(&j->abort_flag, 1);
        if (j->dist && j->dist->tick) j->dist->tick(j->dist, j);
        if (tick >= j->o.progress_interval_ms) {
            tick = 0;
            csvavro_job_stats ls;
            cav_job_live_stats(j, &ls);
            cav_job_progress(j, &ls, false);
        }
    }
    for (int t = 0; t < nt; t++)
        if (started[t]) pthread_join(th[t], NULL);
    if (cl_running) {
        closer_drain(&cl);
        pthread_mutex_destroy(&cl.mu);
        pthread_cond_destroy(&cl.cv);
        for (int t = 0; t < nt; t++)
            ws[t].cl = NULL;
    }
    if (j->dist) { /* several processes: rank 0 collects every split's result, then goes on */
        if (j->dist->gather) st = j->dist->gather(j->dist, j, st, err);
        if (j->dist->rank != 0) goto out;
    }
    if (j->single_live) cav_single_trace(j);
    if (st != CSVAVRO_OK) goto out;
    st = settle(j, &ws[0], err);
out:
    if (ws)
        for (int t = 0; t < nt; t++)
            worker_free(&ws[t]);
    cav_free(ws);
    cav_free(th);
    cav_free(started);
    pthread_mutex_destroy(&ps.mu);
    j->single_live = false;
    pthread_cond_destroy(&ps.cv);
    return st;
}

void cav_job_live_stats(const csvavro_job *j, csvavro_job_stats *s) {
    memset(s, 0, sizeof *s);
    s->inputs = j->n_inputs;
    s->splits = j->n_splits;
    for (size_t i = 0; i < j->n_inputs; i++)
        if (!j->inputs[i].sequential || j->inputs[i].size != CAV_SIZE_UNKNOWN)
            s->bytes_total += (uint64_t)j->inputs[i].size; /* decoded sizes: known once read */
    s->bytes_read = atomic_load_explicit(&((csvavro_job *)j)->live_bytes, memory_order_relaxed);
    s->rows_read = atomic_load_explicit(&((csvavro_job *)j)->live_rows, memory_order_relaxed);
    s->rows_kept = atomic_load_explicit(&((csvavro_job *)j)->live_kept, memory_order_relaxed);
    s->rows_rejected =
        atomic_load_explicit(&((csvavro_job *)j)->live_rejected, memory_order_relaxed);
    s->splits_done = atomic_load_explicit(&((csvavro_job *)j)->live_done, memory_order_relaxed);
    s->elapsed_s = (double)(cav_now_ns() - j->start_ns) / 1e9;
    if (j->dist && j->dist->live) j->dist->live(j->dist, j, s);
}

csvavro_status cav_job_start(csvavro_job *j, csvavro_error *err) {
    CAV_RETURN_IF(!j->planned || !j->out_schema, err, CSVAVRO_E_USAGE, "job not planned");
    CAV_RETURN_IF(j->executed, err, CSVAVRO_E_USAGE, "job already executed");
    j->executed = true;
    j->start_ns = cav_now_ns();
    if (j->form == CAV_OUT_SINGLE)
        CAV_TRY(cav_avro_sync_marker(&j->o.avro, 0, j->single_sync, err));
    csvavro_status st = cav_job_make_tmp(j, err);
    if (st == CSVAVRO_OK) st = cav_job_clean_stale(j, err);
    if (st != CSVAVRO_OK) cav_job_discard(j);
    return st;
}

csvavro_status cav_job_conclude(csvavro_job *j, csvavro_status st, csvavro_job_stats *stats,
                                csvavro_error *err) {
    for (size_t i = 0; st == CSVAVRO_OK && i < j->n_splits; i++) {
        cav_input *in = &j->inputs[j->splits[i].input];
        if (in->chunked) continue;
        if (in->sequential && in->size == CAV_SIZE_UNKNOWN && j->splits[i].range_end >= 0)
            in->size = j->splits[i].range_end; /* the decoded size, now known */
    }
    for (size_t i = 0; st == CSVAVRO_OK && i < j->n_inputs; i++) {
        cav_input *in = &j->inputs[i];
        if (!in->chunked) continue;
        int64_t total = 0; /* the decoded size: every split's own bytes */
        for (size_t k = 0; k < in->cuts.n && total >= 0; k++) {
            const cav_split *s = &j->splits[in->first_split + k];
            total = s->own_len >= 0 ? total + s->own_len : -1;
        }
        if (total >= 0) in->size = total;
    }
    if (st == CSVAVRO_OK && cav_job_cancelled(j))
        st = cav_err(err, CSVAVRO_E_INTERRUPTED, "interrupted");
    if (st == CSVAVRO_OK) st = cav_job_commit(j, err);
    csvavro_job_stats fs;
    cav_job_live_stats(j, &fs);
    if (st == CSVAVRO_OK) {
        fs.bytes_read = fs.rows_read = fs.rows_kept = fs.rows_rejected = 0;
        for (size_t i = 0; i < j->n_inputs; i++)
            fs.bytes_read += (uint64_t)CAV_MIN(j->inputs[i].h.data_start, j->inputs[i].size);
        for (size_t i = 0; i < j->n_splits; i++) {
            const cav_split *s = &j->splits[i];
            fs.bytes_read += s->bytes_in;
            fs.rows_read += s->rows_read;
            fs.rows_kept += s->rows_kept;
            fs.rows_rejected += s->rejected;
        }
        if (fs.bytes_read > fs.bytes_total) fs.bytes_read = fs.bytes_total;
        fs.splits_done = j->n_splits;
        fs.splits_rerun = j->splits_rerun;
        if (j->form == CAV_OUT_SINGLE) {
            fs.files_written = 1;
        } else if (j->n_parts) {
            fs.files_written = 0;
            for (size_t i = 0; i < j->n_splits; i++)
                fs.files_written += j->splits[i].n_pfiles;
        } else {
            fs.files_written = j->n_splits;
        }
        fs.bytes_written = j->committed_bytes;
        fs.elapsed_s = (double)(cav_now_ns() - j->start_ns) / 1e9;
        if (j->skip) { /* --mode ignore: the output appeared while the job ran */
            fs.output_existed = 1;
            fs.files_written = fs.bytes_written = 0;
        }
        cav_job_progress(j, &fs, true);
        j->committed = true;
    } else {
        cav_job_discard(j);
    }
    if (stats) *stats = fs;
    return st;
}

csvavro_status csvavro_job_execute(csvavro_job *j, csvavro_job_stats *stats, csvavro_error *err) {
    if (stats) memset(stats, 0, sizeof *stats);
    if (err) csvavro_error_clear(err);
    if (j->skip && j->planned && !j->executed) { /* --mode ignore: the output exists */
        j->executed = true;
        if (stats) stats->output_existed = 1;
        return CSVAVRO_OK;
    }
    CAV_TRY(cav_job_start(j, err));
    csvavro_status st = CSVAVRO_OK;
    if (j->dist && j->dist->start) st = j->dist->start(j->dist, j, err); /* other MPI ranks */
    if (st == CSVAVRO_OK) st = cav_job_run_splits(j, err);
    return cav_job_conclude(j, st, stats, err);
}

/* ------------------------------------------------------------------ one split at a time */

csvavro_status cav_job_run_one(csvavro_job *j, size_t si, csvavro_error *err) {
    worker w;
    csvavro_status st = worker_init(&w, j, err);
    if (st == CSVAVRO_OK) {
        cav_split *s = &j->splits[si];
        run_split(&w, si, cav_split_first_start(j, si), s->first, j->o.limit, true, false);
    }
    worker_free(&w);
    return st;
}

csvavro_status cav_job_settle_here(csvavro_job *j, csvavro_error *err) {
    worker w;
    csvavro_status st = worker_init(&w, j, err);
    for (size_t i = 0; i < j->n_splits && st == CSVAVRO_OK; i++) {
        cav_split *s = &j->splits[i];
        if (s->ran) continue;
        if (cav_job_cancelled(j)) st = cav_err(err, CSVAVRO_E_INTERRUPTED, "interrupted");
        if (st == CSVAVRO_OK)
            run_split(&w, i, cav_split_first_start(j, i), s->first, j->o.limit, true, false);
    }
    if (st == CSVAVRO_OK) st = settle(j, &w, err);
    worker_free(&w);
    return st;
}
