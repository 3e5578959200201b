/*
 * exec_single.c — the single-file output assembled while the pool runs, in split order,
 * without copying the splits that ran ahead of it.
 *
 * The output (tmp_dir/single.avro, one header) holds splits [0, single_next) — the *head* is
 * single_next. Exactly one thread writes the output at any time (it holds the "token"): the
 * worker running the head split, or the worker that just finished it and flushes the finished
 * splits after it. Every hand-over happens under single_mu, which also orders the output
 * file's own state between the threads; nothing else happens under that mutex (no I/O).
 *
 * A worker that takes split si (cav_single_claim) either finds it the head — it then starts
 * aligned where split si-1 ended and its writer writes straight into the output — or runs it
 * speculatively *ahead*: its writer writes into a sink (cav_osink) that keeps the encoded
 * blocks in chunks of the reorder buffer (at most --reorder-buffer bytes for the whole job)
 * and, when the buffer has no free chunk, in the split's own scratch file (tmp_name) after
 * them. When the split before it ends, the ahead split is *granted* the head: its worker
 * checks at its next write that it started where the split before ended (the speculation of
 * docs/splits.md), writes what it holds (memory, then its scratch file: the only copy left,
 * and only for a worker that ran far ahead) and goes on straight into the output. A split
 * that finished ahead is written by the worker that ran it, when the token is handed to it
 * (its kick, seen at its next write, at the end of its split, or while it waits with no split
 * left): so each worker does the kernel writes of its own blocks, and the worker holding the
 * token does not end up writing everybody's while the other runs ahead — an imbalance that
 * fed on itself (the writer slower, the other further ahead: 0.38 s of one thread alone at
 * the end of a 200 MB job, strace).
 *
 * Per split (ostate, under single_mu):
 *   IDLE     not claimed yet: the claimer finds out whether it is the head
 *   AHEAD    running, buffering                 -> GRANTED, DONE, FAILED
 *   GRANTED  running, may take over the output  -> HEAD (its start checked), AHEAD (stall)
 *   HEAD     its worker writes the output       -> OUT
 *   DONE     finished ahead, complete           -> OUT (its worker holds the token), or
 *   DONE_GRANTED  handed to its worker (kick)   -> OUT (written by that worker)
 *   FAILED   finished ahead with an error
 *   OUT      in the output
 * A split that cannot stand where it ran (its start does not match, an error, a chunked
 * split's empty range) *stalls* the assembly: everything after it stays buffered and the
 * commit appends it after the verification walk (exec_run.c settle) has re-run or judged it,
 * as the commit did for every split before (build_single, exec_commit.c). An error of the
 * output itself (single_st) fails the job: the output is never committed with a hole.
 *
 * Memory: the reorder buffer's chunks are allocated on first use and reused (a fresh page
 * costs a fault on these VMs), never more than order_max of them: bounded by configuration
 * whatever the input size. With the default split size the planner cuts single-file jobs of
 * several threads into pieces that fit the buffer (exec_plan.c), so on a balanced machine
 * nothing is spilled.
 */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef struct cav_ochunk {
    struct cav_ochunk *next;
    size_t len;
    uint8_t data[];
} cav_ochunk;

enum { O_IDLE = 0, O_AHEAD, O_GRANTED, O_HEAD, O_DONE, O_DONE_GRANTED, O_FAILED, O_OUT };

#define ORDER_DEFAULT ((uint64_t)64 << 20)
#define ORDER_CHUNK_MIN ((size_t)4 << 10)
#define ORDER_CHUNK_MAX ((size_t)1 << 20)
#define SINGLE_BUF ((size_t)1 << 20)

uint64_t cav_job_reorder_buffer(const csvavro_job *j) {
    return j->o.reorder_buffer ? j->o.reorder_buffer : ORDER_DEFAULT;
}

/* Test hooks (read once per job): CSVAVRO_TEST_SPLIT_FAIL=N makes split N's first write to
 * its sink fail; CSVAVRO_ORDER_TRACE=1 prints the reorder buffer's use at the end. */
static long env_long(const char *name, long dflt) {
    const char *e = getenv(name);
    if (!e || !*e) return dflt;
    char *end = NULL;
    long v = strtol(e, &end, 10);
    return end && !*end ? v : dflt;
}

/* ------------------------------------------------------------------ the output */

/* Appends the whole of file `from` to out through buf. */
csvavro_status cav_job_append_file(csvavro_fs *fs, const char *from, csvavro_file *out,
                                   uint8_t *buf, size_t cap, csvavro_error *err) {
    csvavro_file *f = NULL;
    CAV_TRY(csvavro_fs_open_read(fs, from, &f, err));
    int64_t off = 0;
    csvavro_status st = CSVAVRO_OK;
    for (;;) {
        size_t got = 0;
        st = csvavro_file_pread(f, buf, cap, off, &got, err);
        if (st != CSVAVRO_OK || got == 0) break;
        st = csvavro_file_write(out, buf, got, err);
        if (st != CSVAVRO_OK) break;
        off += (int64_t)got;
    }
    csvavro_error e2;
    csvavro_file_close(f, &e2);
    return st;
}

csvavro_status cav_single_open(csvavro_job *j, csvavro_error *err) {
    if (j->single_f) return CSVAVRO_OK;
    char *tmp = cav_path_join(j->tmp_dir, "single.avro");
    if (!j->single_buf) j->single_buf = cav_malloc(SINGLE_BUF);
    csvavro_status st = tmp && j->single_buf
                            ? csvavro_fs_create(j->out_fs, tmp, 1, &j->single_f, err)
                            : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    cav_free(tmp);
    CAV_TRY(st);
    return cav_avro_write_header(j->out_schema, &j->o.avro, j->single_sync, j->single_f, err);
}

/* Whatever split s holds outside the output (its chunks, then its closed split file) appended
 * to the output; the caller holds the token (or runs alone, at commit). */
csvavro_status cav_single_flush(csvavro_job *j, cav_split *s, csvavro_error *err) {
    csvavro_status st = cav_single_open(j, err);
    for (cav_ochunk *c = s->oc_head; c && st == CSVAVRO_OK; c = c->next)
        st = csvavro_file_write(j->single_f, c->data, c->len, err);
    cav_single_drop(j, s);
    if (st == CSVAVRO_OK && s->has_output) {
        st = cav_job_append_file(j->out_fs, s->tmp_name, j->single_f, j->single_buf, SINGLE_BUF,
                                 err);
        if (st == CSVAVRO_OK) {
            csvavro_fs_remove(j->out_fs, s->tmp_name, 0, NULL); /* its space, at once */
            s->has_output = false;
        }
    }
    return st;
}

void cav_single_drop(csvavro_job *j, cav_split *s) {
    if (s->spill_f) csvavro_file_abort(s->spill_f);
    s->spill_f = NULL;
    if (!s->oc_head) return;
    size_t n = 0;
    for (cav_ochunk *c = s->oc_head; c; c = c->next)
        n++;
    pthread_mutex_lock(&j->single_mu);
    s->oc_tail->next = j->order_free;
    j->order_free = s->oc_head;
    j->order_used -= n;
    pthread_mutex_unlock(&j->single_mu);
    s->oc_head = s->oc_tail = NULL;
}

void cav_single_free(csvavro_job *j) {
    for (size_t i = 0; i < j->n_splits; i++) {
        cav_split *s = &j->splits[i];
        if (s->spill_f) csvavro_file_abort(s->spill_f);
        s->spill_f = NULL;
        for (cav_ochunk *c = s->oc_head, *n; c && !j->order_region; c = n) {
            n = c->next;
            cav_free(c);
        }
        s->oc_head = s->oc_tail = NULL;
    }
    for (cav_ochunk *c = j->order_free, *n; c && !j->order_region; c = n) {
        n = c->next;
        cav_free(c);
    }
    if (j->order_region) munmap(j->order_region, j->order_region_len);
    j->order_region = NULL;
    j->order_free = NULL;
    j->order_n = 0;
}

/* The chunks' memory: one reservation of the whole buffer, touched only as far as chunks are
 * taken, with transparent huge pages asked for (a fault per 2 MiB instead of per 4 KiB: the
 * buffer's first use cost ~7,000 page faults per 200 MB job at -j2, about a tenth of its CPU
 * on these VMs); separate allocations when the reservation fails. */
static void reserve_region(csvavro_job *j) {
    j->order_stride = (sizeof(cav_ochunk) + j->order_chunk + 63) & ~(size_t)63;
    j->order_region = NULL;
    if (j->order_max == 0 || j->order_max > SIZE_MAX / j->order_stride) return;
    size_t len = j->order_max * j->order_stride;
    void *p =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE); /* a hint: ignored where THP is off */
#endif
    j->order_region = p;
    j->order_region_len = len;
}

/* ------------------------------------------------------------------ the pool's side */

csvavro_status cav_single_start(csvavro_job *j, csvavro_error *err) {
    uint64_t m = cav_job_reorder_buffer(j);
    size_t chunk = (size_t)CAV_MIN((uint64_t)ORDER_CHUNK_MAX, m / 8) & ~(ORDER_CHUNK_MIN - 1);
    if (chunk < ORDER_CHUNK_MIN) chunk = ORDER_CHUNK_MIN;
    j->order_chunk = chunk;
    j->order_max = (size_t)CAV_MIN(m / chunk, (uint64_t)SIZE_MAX / 2);
    j->order_n = j->order_peak = j->order_used = 0;
    j->order_heads = j->order_takeovers = j->order_handed = 0;
    j->order_spilled = j->order_mem = 0;
    reserve_region(j);
    j->single_next = 0;
    j->single_stalled = false;
    j->order_fail_split = env_long("CSVAVRO_TEST_SPLIT_FAIL", -1);
    /* the output and its header before the first split */
    return cav_single_open(j, err);
}

void cav_single_trace(const csvavro_job *j) {
    if (env_long("CSVAVRO_ORDER_TRACE", 0) <= 0) return;
    fprintf(stderr,
            "csvavro: reorder buffer: %zu chunks of %zu bytes (at most %zu), peak %zu in use, "
            "%llu bytes through memory, %llu bytes spilled to split files, %zu of %zu splits "
            "in the output before the commit%s; splits: %zu the head when claimed, %zu granted "
            "while running, %zu written by their worker after finishing ahead\n",
            j->order_n, j->order_chunk, j->order_max, j->order_peak,
            (unsigned long long)j->order_mem, (unsigned long long)j->order_spilled, j->single_next,
            j->n_splits, j->single_stalled ? " (stalled)" : "", j->order_heads, j->order_takeovers,
            j->order_handed);
}

/* Split i can stand where it ran: it starts its input or where split i-1 ended. */
static bool fits(const csvavro_job *j, size_t i, int64_t start) {
    const cav_split *s = &j->splits[i];
    return s->first || start == j->splits[i - 1].range_end;
}

/* The output cannot be completed (under single_mu). */
static void fail_output(csvavro_job *j, csvavro_status st, const csvavro_error *err) {
    if (j->single_st != CSVAVRO_OK) return;
    j->single_st = st;
    if (err) j->single_err = *err;
    pthread_cond_broadcast(&j->single_cv);
}

static void stall(csvavro_job *j) {
    j->single_stalled = true; /* the commit sorts the rest out after verification */
    pthread_cond_broadcast(&j->single_cv);
}

/* Flushes split t (the head, finished ahead by k's worker) with single_mu held (released
 * while writing); then t is in the output. */
static csvavro_status flush_own_locked(cav_osink *k, cav_split *t, csvavro_error *err) {
    csvavro_job *j = k->job;
    t->ostate = O_HEAD;
    j->order_handed++;
    pthread_mutex_unlock(&j->single_mu);
    csvavro_status st = cav_single_flush(j, t, err);
    pthread_mutex_lock(&j->single_mu);
    k->pending--;
    if (st != CSVAVRO_OK) {
        fail_output(j, st, err);
        return st;
    }
    t->ostate = O_OUT;
    j->single_next = (size_t)(t - j->splits) + 1;
    return CSVAVRO_OK;
}

/* With the token and single_mu held by k's worker, split single_next - 1 just completed: the
 * next splits go on. A split k's worker finished ahead is flushed here; one another worker
 * finished ahead is handed to that worker (its kick: each worker writes its own blocks, so
 * that the one holding the token does not end up writing everybody's while the other runs
 * ahead, the imbalance that grows on itself); a running one is granted the head; an
 * unclaimed one is left to its claimer. */
static csvavro_status advance_locked(cav_osink *k, csvavro_error *err) {
    csvavro_job *j = k->job;
    while (!j->single_stalled && j->single_st == CSVAVRO_OK && j->single_next < j->n_splits) {
        size_t i = j->single_next;
        cav_split *t = &j->splits[i];
        if (t->ostate == O_IDLE) break;
        if (t->ostate == O_AHEAD) {
            t->granted_start = j->splits[i - 1].range_end;
            t->ostate = O_GRANTED;
            atomic_store_explicit(&t->o_granted, 1, memory_order_release);
            break;
        }
        if (t->ostate != O_DONE || !fits(j, i, t->range_start)) {
            stall(j);
            break;
        }
        if (t->o_owner != k) { /* the token goes to the worker that ran it */
            t->ostate = O_DONE_GRANTED;
            atomic_store_explicit(&t->o_owner->kick, 1, memory_order_release);
            pthread_cond_broadcast(&j->single_cv);
            break;
        }
        CAV_TRY(flush_own_locked(k, t, err));
    }
    return CSVAVRO_OK;
}

/* k's worker was handed the token for a split it finished ahead (single_mu held). */
static csvavro_status serve_locked(cav_osink *k, csvavro_error *err) {
    csvavro_job *j = k->job;
    if (!atomic_exchange_explicit(&k->kick, 0, memory_order_acquire)) return CSVAVRO_OK;
    if (j->single_next >= j->n_splits) return CSVAVRO_OK;
    cav_split *t = &j->splits[j->single_next];
    if (t->ostate != O_DONE_GRANTED || t->o_owner != k) return CSVAVRO_OK;
    CAV_TRY(flush_own_locked(k, t, err));
    return advance_locked(k, err);
}

static csvavro_status sink_write(csvavro_file *f, const void *buf, size_t len, csvavro_error *err);

static csvavro_status sink_pread(csvavro_file *f, void *buf, size_t len, int64_t off, size_t *got,
                                 csvavro_error *err) {
    (void)f, (void)buf, (void)len, (void)off;
    *got = 0;
    return cav_err(err, CSVAVRO_E_INTERNAL, "the output sink is not readable");
}
static csvavro_status sink_close(csvavro_file *f, csvavro_error *err) {
    (void)f, (void)err;
    return CSVAVRO_OK;
}
static void sink_abort(csvavro_file *f) {
    (void)f;
}
static const cav_file_ops sink_ops = {sink_pread, sink_write, sink_close, sink_abort};

void cav_single_sink_init(cav_osink *k, csvavro_job *j) {
    memset(k, 0, sizeof *k);
    k->base.ops = &sink_ops;
    k->job = j;
    atomic_store_explicit(&k->kick, 0, memory_order_relaxed);
}

bool cav_single_claim(csvavro_job *j, size_t si, cav_osink *k, int64_t *start) {
    cav_split *s = &j->splits[si];
    k->base.path = s->tmp_name;
    k->si = si;
    k->head = false;
    k->range_start = -1;
    k->mem = k->spilled = 0;
    k->checkable = !j->inputs[s->input].chunked; /* chunked: positions final only at the end */
    atomic_store_explicit(&s->o_granted, 0, memory_order_relaxed);
    pthread_mutex_lock(&j->single_mu);
    s->o_owner = k;
    bool head = !j->single_stalled && j->single_st == CSVAVRO_OK && j->single_next == si;
    s->ostate = head ? O_HEAD : O_AHEAD;
    j->order_heads += head;
    if (head) *start = s->first ? cav_split_first_start(j, si) : j->splits[si - 1].range_end;
    pthread_mutex_unlock(&j->single_mu);
    k->head = head;
    return head;
}

/* A granted split's worker, at a write: when the split starts where the one before it ended,
 * it takes the output over (what it holds first); else the assembly stalls. */
static csvavro_status take_over(cav_osink *k, csvavro_error *err) {
    csvavro_job *j = k->job;
    cav_split *s = &j->splits[k->si];
    pthread_mutex_lock(&j->single_mu);
    atomic_store_explicit(&s->o_granted, 0, memory_order_relaxed);
    bool ok = s->ostate == O_GRANTED && j->single_st == CSVAVRO_OK &&
              (s->first || k->range_start == s->granted_start);
    if (s->ostate == O_GRANTED) s->ostate = ok ? O_HEAD : O_AHEAD;
    j->order_takeovers += ok;
    if (!ok) stall(j);
    pthread_mutex_unlock(&j->single_mu);
    if (!ok) return CSVAVRO_OK;
    csvavro_status st = CSVAVRO_OK;
    if (s->spill_f) {
        st = csvavro_file_close(s->spill_f, err);
        s->spill_f = NULL;
    }
    if (st == CSVAVRO_OK) st = cav_single_flush(j, s, err);
    if (st != CSVAVRO_OK) {
        pthread_mutex_lock(&j->single_mu);
        fail_output(j, st, err);
        pthread_mutex_unlock(&j->single_mu);
        return st;
    }
    k->head = true;
    return CSVAVRO_OK;
}

/* Buffers bytes of an ahead split: its chunks, then (no free chunk) its split file. */
static csvavro_status buffer_write(cav_osink *k, const uint8_t *p, size_t n, csvavro_error *err) {
    csvavro_job *j = k->job;
    cav_split *s = &j->splits[k->si];
    while (n > 0) {
        if (s->spill_f) {
            k->spilled += n;
            return csvavro_file_write(s->spill_f, p, n, err);
        }
        cav_ochunk *t = s->oc_tail;
        if (t && t->len < j->order_chunk) {
            size_t m = CAV_MIN(n, j->order_chunk - t->len);
            memcpy(t->data + t->len, p, m);
            t->len += m;
            k->mem += m;
            p += m;
            n -= m;
            continue;
        }
        pthread_mutex_lock(&j->single_mu);
        cav_ochunk *c = j->order_free;
        if (c)
            j->order_free = c->next;
        else if (j->order_n < j->order_max && j->order_region)
            c = (cav_ochunk *)((uint8_t *)j->order_region + j->order_n++ * j->order_stride);
        else if (j->order_n < j->order_max && (c = cav_malloc(sizeof *c + j->order_chunk)))
            j->order_n++;
        if (c && ++j->order_used > j->order_peak) j->order_peak = j->order_used;
        pthread_mutex_unlock(&j->single_mu);
        if (c) {
            c->next = NULL;
            c->len = 0;
            if (t)
                t->next = c;
            else
                s->oc_head = c;
            s->oc_tail = c;
            continue;
        }
        /* the buffer is full: the rest of this run goes to its split file */
        CAV_TRY(csvavro_fs_create(j->out_fs, s->tmp_name, 1, &s->spill_f, err));
        s->spill_f->scratch = true; /* copied into the output, which is synced */
        s->has_output = true;
    }
    return CSVAVRO_OK;
}

static csvavro_status sink_write(csvavro_file *f, const void *buf, size_t len, csvavro_error *err) {
    cav_osink *k = (cav_osink *)f;
    csvavro_job *j = k->job;
    if (CAV_UNLIKELY(j->order_fail_split >= 0 && (size_t)j->order_fail_split == k->si)) {
        cav_err_path(err, k->base.path);
        return cav_err(err, CSVAVRO_E_IO, "write: injected failure (CSVAVRO_TEST_SPLIT_FAIL)");
    }
    if (atomic_load_explicit(&k->kick, memory_order_relaxed)) { /* splits of ours, finished */
        pthread_mutex_lock(&j->single_mu);
        csvavro_status st = serve_locked(k, err);
        pthread_mutex_unlock(&j->single_mu);
        CAV_TRY(st);
    }
    if (!k->head && k->checkable &&
        atomic_load_explicit(&j->splits[k->si].o_granted, memory_order_acquire))
        CAV_TRY(take_over(k, err));
    if (k->head) return csvavro_file_write(j->single_f, buf, len, err);
    return buffer_write(k, buf, len, err);
}

csvavro_status cav_single_done(cav_osink *k, csvavro_status st, csvavro_error *err) {
    csvavro_job *j = k->job;
    cav_split *s = &j->splits[k->si];
    if (s->spill_f) { /* scratch: no fsync */
        csvavro_error e2;
        csvavro_status cs = csvavro_file_close(s->spill_f, st == CSVAVRO_OK ? err : &e2);
        s->spill_f = NULL;
        if (st == CSVAVRO_OK) st = cs;
    }
    pthread_mutex_lock(&j->single_mu);
    j->order_mem += k->mem;
    j->order_spilled += k->spilled;
    bool mine = k->head; /* this worker holds the token */
    if (!mine && s->ostate == O_GRANTED) {
        /* granted while it ran, and no write came after: check it now, take the output over */
        mine = st == CSVAVRO_OK && j->single_st == CSVAVRO_OK && fits(j, k->si, s->range_start);
        if (mine) {
            s->ostate = O_HEAD;
            j->order_takeovers++;
            pthread_mutex_unlock(&j->single_mu);
            csvavro_status fs = cav_single_flush(j, s, err);
            pthread_mutex_lock(&j->single_mu);
            if (fs != CSVAVRO_OK) {
                fail_output(j, fs, err);
                st = fs;
            }
        } else {
            stall(j);
        }
    }
    if (mine) {
        if (st == CSVAVRO_OK) {
            s->ostate = O_OUT;
            j->single_next = k->si + 1;
            st = advance_locked(k, err);
        } else {
            fail_output(j, st, err); /* the output holds part of the split: unusable */
        }
    } else if (s->ostate != O_GRANTED && s->ostate != O_HEAD) {
        s->ostate = st == CSVAVRO_OK ? O_DONE : O_FAILED;
        if (st == CSVAVRO_OK) k->pending++;
    }
    if (st == CSVAVRO_OK) st = serve_locked(k, err); /* handed a finished split meanwhile */
    pthread_mutex_unlock(&j->single_mu);
    return st;
}

csvavro_status cav_single_leave(cav_osink *k, csvavro_error *err) {
    csvavro_job *j = k->job;
    csvavro_status st = CSVAVRO_OK;
    pthread_mutex_lock(&j->single_mu);
    while (st == CSVAVRO_OK && k->pending && !j->single_stalled && j->single_st == CSVAVRO_OK &&
           !atomic_load(&j->abort_flag) && !cav_job_cancelled(j)) {
        if (atomic_load_explicit(&k->kick, memory_order_relaxed)) {
            st = serve_locked(k, err);
            continue;
        }
        struct timespec ts; /* a timeout: an abort or a cancellation only sets a flag */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 100 * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&j->single_cv, &j->single_mu, &ts);
    }
    pthread_mutex_unlock(&j->single_mu);
    return st;
}

/* ------------------------------------------------------------------ the commit's side */

csvavro_status cav_single_build(csvavro_job *j, char **tmp_out, csvavro_error *err) {
    char *tmp = cav_path_join(j->tmp_dir, "single.avro");
    if (!tmp) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    *tmp_out = tmp;
    if (j->single_st != CSVAVRO_OK) {
        if (err) *err = j->single_err;
        return j->single_st;
    }
    /* the splits not in the output yet (all of them with --limit or MPI): what each holds in
     * memory and in its split file, in split order, after the verification walk */
    csvavro_status st = cav_single_open(j, err);
    for (size_t i = j->single_next; i < j->n_splits && st == CSVAVRO_OK; i++)
        st = cav_single_flush(j, &j->splits[i], err);
    csvavro_file *out = j->single_f;
    j->single_f = NULL;
    cav_free(j->single_buf);
    j->single_buf = NULL;
    if (st == CSVAVRO_OK)
        st = csvavro_file_close(out, err);
    else if (out)
        csvavro_file_abort(out);
    if (st == CSVAVRO_OK) {
        csvavro_stat sb;
        st = csvavro_fs_stat(j->out_fs, tmp, &sb, err);
        j->committed_bytes = (uint64_t)sb.size;
    }
    return st;
}
