/*
 * exec_commit.c — safe output: the temporary directory and its heartbeat, the commit
 * (renames, the single-file concatenation, the reject file, the dataset manifest) and discard.
 *
 * Every file a job writes first lives in <dest-dir>/.csvavro-tmp-<host>-<pid>-<random>/, and
 * everything (every part file, the single file, the complete reject file, the new manifest)
 * is finished there before anything final changes. Pattern and directory outputs are
 * datasets: the commit runs under the dataset's commit lock and follows the crash-safe
 * protocol of exec_dataset.c (intent record, backups, the manifest renamed last as the commit
 * point, roll forward or back by the next run or any reader). A single-file output is one
 * rename (after the reject file's) and writes no manifest beside it. The manifest and the
 * intent record are written as text, one entry at a time, from the splits (a partitioned
 * split's part files from its list file, exec_partition.c): the commit's memory does not grow
 * with the number of files (an append's earlier manifest is the one thing held whole).
 *
 * The single-file form's blocks go behind one header in tmp_dir/single.avro. Without --limit
 * (and without MPI) the workers assemble it as they go (exec_single.c), so the commit only
 * appends what the verification walk re-ran or judged (nothing in the common case) and
 * closes it (fsync); otherwise it appends every split's blocks here, in split order.
 */
#include "exec.h"

#include "../io/io.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* CRC-64-AVRO: the Rabin fingerprint of the Avro specification (empty = 0xc15d213aa4d7a795). */
uint64_t cav_rabin64(const void *p, size_t n) {
    static uint64_t table[256];
    static _Atomic int ready;
    const uint64_t EMPTY = 0xc15d213aa4d7a795ull;
    if (!atomic_load(&ready)) {
        for (int i = 0; i < 256; i++) {
            uint64_t fp = (uint64_t)i;
            for (int k = 0; k < 8; k++)
                fp = (fp >> 1) ^ (EMPTY & -(fp & 1));
            table[i] = fp;
        }
        atomic_store(&ready, 1);
    }
    uint64_t fp = EMPTY;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        fp = (fp >> 8) ^ table[(fp ^ b[i]) & 0xff];
    return fp;
}

/* The heartbeat: renames a file inside tmp_dir back and forth, which moves the directory's
 * mtime on every backend (exec_dataset.c judges liveness by it). It waits on a condition
 * variable, so that stopping it (every job's last step before the temporary directory goes)
 * does not wait out a sleep: it cost up to 25 ms at the end of every job. */
static void *hb_main(void *arg) {
    csvavro_job *j = arg;
    const int64_t every = CAV_MAX((int64_t)50, cav_ds_lease_ms() / 5);
    char *a = cav_path_join(j->tmp_dir, ".hb-a"), *b = cav_path_join(j->tmp_dir, ".hb-b");
    bool at_a = true;
    pthread_mutex_lock(&j->hb_mu);
    while (a && b && !atomic_load(&j->hb_stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + every * 1000000;
        ts.tv_sec += (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        while (!atomic_load(&j->hb_stop) &&
               pthread_cond_timedwait(&j->hb_cv, &j->hb_mu, &ts) != ETIMEDOUT) {
        }
        if (atomic_load(&j->hb_stop)) break;
        pthread_mutex_unlock(&j->hb_mu);
        if (csvavro_fs_rename(j->out_fs, at_a ? a : b, at_a ? b : a, 1, NULL) == CSVAVRO_OK)
            at_a = !at_a;
        pthread_mutex_lock(&j->hb_mu);
    }
    pthread_mutex_unlock(&j->hb_mu);
    cav_free(a);
    cav_free(b);
    return NULL;
}

static void heartbeat_stop(csvavro_job *j) {
    if (!j->hb_running) return;
    pthread_mutex_lock(&j->hb_mu);
    atomic_store(&j->hb_stop, 1);
    pthread_cond_signal(&j->hb_cv);
    pthread_mutex_unlock(&j->hb_mu);
    pthread_join(j->hb_thread, NULL);
    pthread_cond_destroy(&j->hb_cv);
    pthread_mutex_destroy(&j->hb_mu);
    j->hb_running = false;
}

csvavro_status cav_job_make_tmp(csvavro_job *j, csvavro_error *err) {
    char host[128];
    cav_ds_host_name(host, sizeof host);
    uint32_t rnd = 0;
    CAV_TRY(cav_random_bytes(&rnd, sizeof rnd, err));
    char name[256];
    snprintf(name, sizeof name, CAV_TMP_PREFIX "%s-%ld-%08x", host, (long)getpid(), rnd);
    j->job_id = cav_strdup(name + strlen(CAV_TMP_PREFIX));
    j->tmp_base = cav_strdup(name);
    j->tmp_dir = cav_path_join(j->out_dir, name);
    if (!j->job_id || !j->tmp_base || !j->tmp_dir)
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    CAV_TRY(csvavro_fs_mkdir(j->out_fs, j->tmp_dir, 1, err));
    /* the heartbeat's file: empty, renamed, removed with the directory; not synced (a crash
     * ends the job anyway), which saved an fsync before the first split could start */
    char *hb = cav_path_join(j->tmp_dir, ".hb-a");
    csvavro_file *hf = NULL;
    csvavro_status st = hb ? csvavro_fs_create(j->out_fs, hb, 1, &hf, err)
                           : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    cav_free(hb);
    CAV_TRY(st);
    hf->scratch = true;
    CAV_TRY(csvavro_file_close(hf, err));
    atomic_store(&j->hb_stop, 0);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->hb_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->hb_mu, NULL);
    if (pthread_create(&j->hb_thread, NULL, hb_main, j) != 0) {
        pthread_cond_destroy(&j->hb_cv);
        pthread_mutex_destroy(&j->hb_mu);
        return cav_err(err, CSVAVRO_E_INTERNAL, "cannot start the heartbeat thread");
    }
    j->hb_running = true;
    return CSVAVRO_OK;
}

csvavro_status cav_job_clean_stale(csvavro_job *j, csvavro_error *err) {
    return cav_ds_settle(j->out_fs, j->out_dir, j->tmp_base, err);
}

static void remove_url(const char *url) {
    csvavro_fs *fs = NULL;
    char *p = NULL;
    if (url && csvavro_fs_open_url(url, &fs, &p, NULL) == CSVAVRO_OK)
        csvavro_fs_remove(fs, p, 0, NULL);
    cav_free(p);
    csvavro_fs_close(fs);
}

void cav_job_discard(csvavro_job *j) {
    heartbeat_stop(j);
    if (j->single_f) csvavro_file_abort(j->single_f);
    j->single_f = NULL;
    cav_free(j->single_buf);
    j->single_buf = NULL;
    if (j->rej_tmp) remove_url(j->rej_tmp);
    if (j->tmp_dir) csvavro_fs_remove(j->out_fs, j->tmp_dir, 1, NULL);
}

/* Line numbers at increasing offsets of an input, counted in one forward pass. */
typedef struct line_cursor {
    csvavro_file *f;
    int64_t pos, lines; /* line ends before pos */
    bool prev_cr;
    uint8_t *b;
} line_cursor;

static int64_t cursor_line(line_cursor *c, int64_t off) {
    while (c->pos < off) {
        size_t want = (size_t)CAV_MIN((int64_t)1 << 20, off - c->pos), got = 0;
        csvavro_error e;
        if (csvavro_file_pread(c->f, c->b, want, c->pos, &got, &e) != CSVAVRO_OK || got == 0)
            return -1;
        for (size_t i = 0; i < got; i++) {
            if (c->b[i] == '\n' || c->prev_cr) c->lines++;
            c->prev_cr = c->b[i] == '\r';
        }
        c->pos += (int64_t)got;
    }
    return c->lines + (c->prev_cr ? 1 : 0) + 1;
}

/* One reject line of a chunked split: its offset (local to the split's view) and line made
 * those of the whole decoded input; the rest is copied. */
static csvavro_status fix_reject_line(const char *l, size_t n, int64_t base, line_cursor *c,
                                      csvavro_file *out, uint64_t *total, csvavro_error *err) {
    const char *lk = NULL, *ok = NULL;
    for (size_t i = 0; i + 10 < n && !ok; i++) {
        if (!lk && !memcmp(l + i, ",\"line\":", 8)) lk = l + i;
        if (lk && !memcmp(l + i, ",\"offset\":", 10)) ok = l + i;
    }
    if (!lk || !ok) {
        *total += n;
        return csvavro_file_write(out, l, n, err);
    }
    char *end = NULL;
    long long local = strtoll(ok + 10, &end, 10);
    int64_t g = base + local;
    long long line = c->f ? cursor_line(c, g) : -1;
    char mid[96];
    int k = snprintf(mid, sizeof mid, ",\"line\":%lld,\"offset\":%lld", line, (long long)g);
    CAV_TRY(csvavro_file_write(out, l, (size_t)(lk - l), err));
    CAV_TRY(csvavro_file_write(out, mid, (size_t)k, err));
    size_t rest = n - (size_t)(end - l);
    CAV_TRY(csvavro_file_write(out, end, rest, err));
    *total += (size_t)(lk - l) + (size_t)k + rest;
    return CSVAVRO_OK;
}

/* The reject lines of split i of a chunked input (docs/input.md), rewritten line by line. */
static csvavro_status append_rejects_chunked(csvavro_job *j, size_t i, line_cursor *c,
                                             csvavro_file *out, uint64_t *total,
                                             csvavro_error *err) {
    const cav_input *in = &j->inputs[j->splits[i].input];
    int64_t base = 0;
    for (size_t k = in->first_split; k < i; k++)
        base += CAV_MAX((int64_t)0, j->splits[k].own_len);
    csvavro_file *f = NULL;
    CAV_TRY(csvavro_fs_open_read(j->out_fs, j->splits[i].rej_name, &f, err));
    cav_buf line;
    cav_buf_init(&line, (size_t)64 << 20);
    uint8_t *buf = cav_malloc(1 << 16);
    csvavro_status st = buf ? CSVAVRO_OK : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    int64_t off = 0;
    while (st == CSVAVRO_OK) {
        size_t got = 0;
        st = csvavro_file_pread(f, buf, 1 << 16, off, &got, err);
        if (st != CSVAVRO_OK || got == 0) break;
        off += (int64_t)got;
        size_t p = 0;
        while (st == CSVAVRO_OK && p < got) {
            uint8_t *nl = memchr(buf + p, '\n', got - p);
            size_t q = nl ? (size_t)(nl - buf) + 1 : got;
            st = cav_buf_append(&line, buf + p, q - p, err);
            p = q;
            if (st == CSVAVRO_OK && nl) {
                st = fix_reject_line((const char *)line.data, line.len, base, c, out, total, err);
                line.len = 0;
            }
        }
    }
    if (st == CSVAVRO_OK && line.len)
        st = fix_reject_line((const char *)line.data, line.len, base, c, out, total, err);
    cav_buf_free(&line);
    cav_free(buf);
    csvavro_error e2;
    csvavro_file_close(f, &e2);
    return st;
}

/* The complete reject file under a temporary name beside its destination (j->rej_tmp). */
static csvavro_status prepare_rejects(csvavro_job *j, csvavro_error *err) {
    const char *dest = j->o.csv.reject_file;
    size_t dl = strlen(dest);
    j->rej_tmp = cav_malloc(dl + strlen(j->job_id) + 16);
    if (!j->rej_tmp) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    sprintf(j->rej_tmp, "%s.tmp-%s", dest, j->job_id);
    csvavro_fs *fs = NULL;
    char *path = NULL;
    CAV_TRY(csvavro_fs_open_url(j->rej_tmp, &fs, &path, err));
    csvavro_status st = CSVAVRO_OK;
    csvavro_file *out = NULL;
    uint8_t *buf = cav_malloc(1 << 20);
    if (!buf) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    st = csvavro_fs_create(fs, path, 1, &out, err);
    uint64_t total = 0;
    line_cursor c = {0};
    size_t c_input = SIZE_MAX;
    for (size_t i = 0; i < j->n_splits && st == CSVAVRO_OK; i++) {
        if (!j->splits[i].has_rejects) continue;
        const cav_input *in = &j->inputs[j->splits[i].input];
        if (!in->chunked) {
            st = cav_job_append_file(j->out_fs, j->splits[i].rej_name, out, buf, 1 << 20, err);
            continue;
        }
        if (c_input != j->splits[i].input) { /* line numbers: one pass over the input */
            csvavro_error e2;
            if (c.f) csvavro_file_close(c.f, &e2);
            memset(&c, 0, sizeof c);
            c.b = buf;
            c_input = j->splits[i].input;
            if (cav_input_open(in->fs, in->path, j->o.csv.compression, j->o.csv.zip_entry, &c.f,
                               &e2) != CSVAVRO_OK)
                c.f = NULL;
        }
        st = append_rejects_chunked(j, i, &c, out, &total, err);
    }
    if (c.f) csvavro_file_close(c.f, NULL);
    if (out) {
        if (st == CSVAVRO_OK)
            st = csvavro_file_close(out, err);
        else
            csvavro_file_abort(out);
    }
    if (st != CSVAVRO_OK) csvavro_fs_remove(fs, path, 0, NULL);
done:
    cav_free(buf);
    cav_free(path);
    csvavro_fs_close(fs);
    return st;
}

static csvavro_status rename_url(const char *from, const char *to, csvavro_error *err) {
    csvavro_fs *fs = NULL, *fs2 = NULL;
    char *pf = NULL, *pt = NULL;
    CAV_TRY(csvavro_fs_open_url(from, &fs, &pf, err));
    csvavro_status st = csvavro_fs_open_url(to, &fs2, &pt, err);
    if (st == CSVAVRO_OK) st = csvavro_fs_rename(fs, pf, pt, 1, err);
    cav_free(pf);
    cav_free(pt);
    csvavro_fs_close(fs);
    csvavro_fs_close(fs2);
    return st;
}

static const char *mode_name(int m) {
    static const char *names[] = {"error", "overwrite", "append", "ignore"};
    return names[m & 3];
}

/* Name of a final file relative to the output directory. */
static const char *rel_name(const csvavro_job *j, const char *path) {
    size_t dl = strlen(j->out_dir);
    if (strncmp(path, j->out_dir, dl) != 0) return path;
    return path + dl + (dl && j->out_dir[dl - 1] == '/' ? 0 : 1);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* A final output of the job: a split's file, or a part file of a partitioned split. */
typedef struct out_file {
    const char *tmp, *final, *display, *key;
    uint64_t rows, bytes;
} out_file;

/* The job's outputs one at a time, in manifest order (split by split; a partitioned split's
 * part files from its list file), so the commit's memory does not grow with their number. */
typedef struct out_iter {
    csvavro_job *j;
    size_t si; /* the split being read */
    bool open; /* its list is open */
    cav_pf_reader r;
    out_file cur;
    char *tmp, *final, *display; /* cur's names (partitioned) */
    uint64_t n;                  /* outputs so far */
} out_iter;

static void it_init(out_iter *it, csvavro_job *j) {
    memset(it, 0, sizeof *it);
    it->j = j;
}

static void it_free_names(out_iter *it) {
    cav_free(it->tmp);
    cav_free(it->final);
    cav_free(it->display);
    it->tmp = it->final = it->display = NULL;
}

static void it_close(out_iter *it) {
    it_free_names(it);
    if (it->open) cav_pf_close(&it->r);
    it->open = false;
}

/* The next output (*o), NULL after the last. */
static csvavro_status it_next(out_iter *it, const out_file **o, csvavro_error *err) {
    csvavro_job *j = it->j;
    *o = NULL;
    it_free_names(it);
    while (it->si < j->n_splits) {
        const cav_split *s = &j->splits[it->si];
        if (!j->n_parts) {
            it->cur = (out_file){s->tmp_name, s->final_name, s->final_display,
                                 NULL,        s->rows_kept,  s->bytes_out};
            it->si++;
            it->n++;
            *o = &it->cur;
            return CSVAVRO_OK;
        }
        if (!it->open) {
            CAV_TRY(cav_pf_open(j->out_fs, s, &it->r, err));
            it->open = true;
        }
        cav_part_file pf;
        bool done = false;
        CAV_TRY(cav_pf_next(&it->r, &pf, &done, err));
        if (done) {
            cav_pf_close(&it->r);
            it->open = false;
            it->si++;
            continue;
        }
        it->tmp = cav_pf_tmp_name(s, pf.k);
        it->final = cav_pf_final_name(j, it->si, pf.key, pf.seq);
        it->display = it->final ? cav_job_out_display(j, it->final) : NULL;
        if (!it->tmp || !it->final || !it->display)
            return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        it->cur = (out_file){it->tmp, it->final, it->display, pf.key, pf.rows, pf.bytes};
        it->n++;
        *o = &it->cur;
        return CSVAVRO_OK;
    }
    return CSVAVRO_OK;
}

/* {"year": "2013", "month": "01"} of a key "year=2013/month=01" (values unescaped; null for
 * Hive's default partition) */
static json_t *partition_json(const char *key) {
    json_t *o = json_object();
    while (key && *key) {
        const char *end = strchr(key, '/');
        size_t len = end ? (size_t)(end - key) : strlen(key);
        const char *eq = memchr(key, '=', len);
        if (eq) {
            char name[256], val[1024];
            size_t nl = CAV_MIN((size_t)(eq - key), sizeof name - 1), vl = 0;
            memcpy(name, key, nl);
            name[nl] = '\0';
            for (const char *c = eq + 1; c < key + len && vl + 1 < sizeof val; c++) {
                unsigned x;
                if (*c == '%' && c + 2 < key + len + 1 && sscanf(c + 1, "%2X", &x) == 1) {
                    val[vl++] = (char)x;
                    c += 2;
                } else {
                    val[vl++] = *c;
                }
            }
            val[vl] = '\0';
            json_object_set_new(o, name,
                                strcmp(val, "__HIVE_DEFAULT_PARTITION__") ? json_stringn(val, vl)
                                                                          : json_null());
        }
        key = end ? end + 1 : NULL;
    }
    return o;
}

/* A JSON text written out as it is made, through a 64 KiB buffer (the manifest, the intent). */
typedef struct text_out {
    csvavro_file *f;
    cav_buf b;
    csvavro_status st;
    csvavro_error *err;
} text_out;

static void tw_open(text_out *w, csvavro_fs *fs, const char *path, csvavro_error *err) {
    memset(w, 0, sizeof *w);
    w->err = err;
    cav_buf_init(&w->b, 0);
    w->st = csvavro_fs_create(fs, path, 1, &w->f, err);
}

static void tw_put(text_out *w, const char *s, size_t n) {
    if (w->st != CSVAVRO_OK) return;
    w->st = cav_buf_append(&w->b, s, n, w->err);
    if (w->st == CSVAVRO_OK && w->b.len >= ((size_t)64 << 10)) {
        w->st = csvavro_file_write(w->f, w->b.data, w->b.len, w->err);
        cav_buf_reset(&w->b);
    }
}

static void tw_s(text_out *w, const char *s) {
    tw_put(w, s, strlen(s));
}

/* v as JSON (one line); steals v. without_close: leaves the closing '}' of an object out. */
static void tw_json(text_out *w, json_t *v, bool without_close) {
    char *t =
        v && w->st == CSVAVRO_OK ? json_dumps(v, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (w->st != CSVAVRO_OK) {
        cav_free(t);
        return;
    }
    if (!t) {
        w->st = cav_err(w->err, CSVAVRO_E_NOMEM, "out of memory (or a name that is not UTF-8)");
        return;
    }
    size_t n = strlen(t);
    tw_put(w, t, without_close && n ? n - 1 : n);
    cav_free(t);
}

static json_t *json_or_null(json_t *v) {
    return v ? json_incref(v) : json_null();
}

static csvavro_status tw_close(text_out *w) {
    if (w->st == CSVAVRO_OK && w->b.len)
        w->st = csvavro_file_write(w->f, w->b.data, w->b.len, w->err);
    if (w->f) {
        if (w->st == CSVAVRO_OK)
            w->st = csvavro_file_close(w->f, w->err);
        else
            csvavro_file_abort(w->f);
    }
    w->f = NULL;
    cav_buf_free(&w->b);
    return w->st;
}

/* The new dataset manifest (dataset forms), streamed to path: this job's record added to the
 * earlier ones (append) or alone. Top-level inputs/options/rows_* describe this job (csvavro
 * 1's layout); outputs and jobs the whole dataset. Our outputs come from the splits' lists, so
 * memory does not grow with their number (an append's earlier entries come from j->prev). */
static csvavro_status write_manifest(csvavro_job *j, const char *path, csvavro_error *err) {
    char *plan = NULL;
    CAV_TRY(csvavro_job_plan_json(j, &plan, err));
    json_t *pj = json_loads(plan, 0, NULL);
    cav_free(plan);
    char *sj = NULL;
    if (!pj || csvavro_schema_to_json(j->out_schema, 0, &sj, err) != CSVAVRO_OK) {
        json_decref(pj);
        if (!sj) return cav_err(err, CSVAVRO_E_INTERNAL, "plan JSON does not parse");
        cav_free(sj);
        return CSVAVRO_E_INTERNAL;
    }
    char fp[40];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)cav_rabin64(sj, strlen(sj)));
    cav_free(sj);
    bool append = j->mode == CSVAVRO_MODE_APPEND && j->prev;
    uint64_t rows = 0, read = 0, rej = 0, total = 0;
    for (size_t i = 0; i < j->n_splits; i++) {
        const cav_split *s = &j->splits[i];
        rows += s->rows_kept;
        read += s->rows_read;
        rej += s->rejected;
    }
    text_out w;
    tw_open(&w, j->out_fs, path, err);
    tw_s(&w, "{\n  \"format\": \"csvavro-dataset/1\",\n  \"producer\": \"csvavro " CSVAVRO_VERSION
             "\",\n  \"inputs\": ");
    tw_json(&w, json_or_null(json_object_get(pj, "inputs")), false);
    tw_s(&w, ",\n  \"outputs\": [");
    const char *sep = "\n    ";
    json_t *legacy = NULL;
    if (append) {
        size_t i;
        json_t *v;
        legacy = json_object_get(j->prev, "jobs") ? NULL : json_array();
        json_array_foreach(json_object_get(j->prev, "outputs"), i, v) {
            json_t *c = json_deep_copy(v);
            const char *nm = cav_ds_output_name(v);
            if (nm && !json_object_get(c, "name")) json_object_set_new(c, "name", json_string(nm));
            if (legacy && nm) json_array_append_new(legacy, json_string(nm));
            total += (uint64_t)json_integer_value(json_object_get(v, "rows"));
            tw_s(&w, sep);
            tw_json(&w, c, false);
            sep = ",\n    ";
        }
    }
    out_iter it;
    it_init(&it, j);
    const out_file *o = NULL;
    while (w.st == CSVAVRO_OK) {
        w.st = it_next(&it, &o, err);
        if (w.st != CSVAVRO_OK || !o) break;
        json_t *e =
            json_pack("{s:s,s:s,s:I,s:I,s:s}", "path", o->display, "name", rel_name(j, o->final),
                      "rows", (json_int_t)o->rows, "bytes", (json_int_t)o->bytes, "job", j->job_id);
        if (e && o->key) json_object_set_new(e, "partition", partition_json(o->key));
        tw_s(&w, sep);
        tw_json(&w, e, false);
        sep = ",\n    ";
    }
    it_close(&it);
    total += rows;
    json_t *fpj = json_pack("{s:s,s:s}", "algorithm", "CRC-64-AVRO", "value", fp);
    char nums[512];
    snprintf(nums, sizeof nums,
             "\n  ],\n  \"splits\": %zu,\n  \"rows_read\": %llu,\n  \"rows_kept\": %llu,\n"
             "  \"rows_rejected\": %llu,\n  \"rows\": %llu,\n  \"schema\": ",
             j->n_splits, (unsigned long long)read, (unsigned long long)rows,
             (unsigned long long)rej, (unsigned long long)total);
    tw_s(&w, nums);
    tw_json(&w, json_or_null(json_object_get(pj, "schema")), false);
    tw_s(&w, ",\n  \"schema_fingerprint\": ");
    tw_json(&w, json_incref(fpj), false);
    tw_s(&w, ",\n  \"options\": ");
    tw_json(&w, json_or_null(json_object_get(pj, "options")), false);
    tw_s(&w, ",\n  \"jobs\": [");
    sep = "\n    ";
    if (legacy) {
        tw_s(&w, sep);
        tw_json(&w, json_pack("{s:s,s:o}", "job", "csvavro-1", "files", legacy), false);
        sep = ",\n    ";
    } else if (append) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(j->prev, "jobs"), i, v) {
            tw_s(&w, sep);
            tw_json(&w, json_incref(v), false);
            sep = ",\n    ";
        }
    }
    json_t *job = json_object();
    json_object_set_new(job, "job", json_string(j->job_id));
    json_object_set_new(job, "mode", json_string(mode_name(j->mode)));
    json_object_set_new(job, "committed_ms", json_integer((json_int_t)cav_wall_ms()));
    json_object_set_new(job, "producer", json_string("csvavro " CSVAVRO_VERSION));
    json_object_set(job, "inputs", json_object_get(pj, "inputs"));
    json_object_set(job, "options", json_object_get(pj, "options"));
    json_object_set(job, "schema", json_object_get(pj, "schema"));
    json_object_set(job, "schema_fingerprint", fpj);
    json_object_set_new(job, "splits", json_integer((json_int_t)j->n_splits));
    json_object_set_new(job, "rows_read", json_integer((json_int_t)read));
    json_object_set_new(job, "rows_kept", json_integer((json_int_t)rows));
    json_object_set_new(job, "rows_rejected", json_integer((json_int_t)rej));
    tw_s(&w, sep);
    tw_json(&w, job, true); /* its "files" follow, one at a time */
    tw_s(&w, ", \"files\": [");
    it_init(&it, j);
    sep = "\n      ";
    while (w.st == CSVAVRO_OK) {
        w.st = it_next(&it, &o, err);
        if (w.st != CSVAVRO_OK || !o) break;
        tw_s(&w, sep);
        tw_json(&w, json_string(rel_name(j, o->final)), false);
        sep = ", ";
        if (it.n % 8 == 0) sep = ",\n      ";
    }
    it_close(&it);
    tw_s(&w, "]}\n  ]\n}\n");
    json_decref(fpj);
    json_decref(pj);
    return tw_close(&w);
}

static bool path_exists(csvavro_fs *fs, const char *p) {
    csvavro_stat sb;
    return csvavro_fs_stat(fs, p, &sb, NULL) == CSVAVRO_OK;
}

/* Length of the directory part of a relative name ("a=1/b=2/part-0.avro": "a=1/b=2"), 0
 * when it has none. */
static size_t dir_len(const char *rel) {
    const char *s = strrchr(rel, '/');
    return s ? (size_t)(s - rel) : 0;
}

/* The commit's intent record (exec_dataset.c reads it), streamed to path: our renames, an
 * overwrite's old files (moved aside into tmp_dir as old.<i>), the partition directories that
 * do not exist yet (parents first; a directory may be listed more than once, recovery removes
 * them deepest first when empty), the reject file. */
static csvavro_status write_intent(csvavro_job *j, json_t *olds, const char *path,
                                   csvavro_error *err) {
    csvavro_fs *fs = j->out_fs;
    text_out w;
    tw_open(&w, fs, path, err);
    tw_s(&w, "{\"job\": ");
    tw_json(&w, json_string(j->job_id), false);
    tw_s(&w, ", \"tmp\": ");
    tw_json(&w, json_string(j->tmp_base), false);
    tw_s(&w, ",\n\"renames\": [");
    bool over = j->mode == CSVAVRO_MODE_OVERWRITE;
    out_iter it;
    it_init(&it, j);
    const out_file *o = NULL;
    const char *sep = "\n";
    while (w.st == CSVAVRO_OK) {
        w.st = it_next(&it, &o, err);
        if (w.st != CSVAVRO_OK || !o) break;
        /* overwrite: whatever is at our name goes to replaced.<i> first (if it is there) */
        char bak[48];
        snprintf(bak, sizeof bak, "replaced.%llu", (unsigned long long)(it.n - 1));
        tw_s(&w, sep);
        tw_json(&w,
                json_pack("[s,s,o]", base_name(o->tmp), rel_name(j, o->final),
                          over ? json_string(bak) : json_null()),
                false);
        sep = ",\n";
    }
    it_close(&it);
    tw_s(&w, "],\n\"olds\": [");
    sep = "\n";
    size_t i;
    json_t *v;
    json_array_foreach(olds, i, v) {
        const char *nm = cav_ds_output_name(v);
        tw_s(&w, sep);
        tw_json(&w, nm && !strstr(nm, "..") && nm[0] != '/' ? json_string(nm) : json_null(), false);
        sep = ",\n";
    }
    tw_s(&w, "],\n\"mkdirs\": [");
    /* the ancestors of each part file's directory that do not exist, looked at once per
     * change of directory (a split's files come in key order) */
    char *prev = NULL;
    size_t prev_len = 0;
    it_init(&it, j);
    sep = "\n";
    while (w.st == CSVAVRO_OK && j->n_parts) {
        w.st = it_next(&it, &o, err);
        if (w.st != CSVAVRO_OK || !o) break;
        const char *rel = rel_name(j, o->final);
        size_t dl = dir_len(rel);
        if (!dl || (prev && dl == prev_len && !memcmp(prev, rel, dl))) continue;
        bool missing = false;
        for (size_t e = 1; e <= dl && w.st == CSVAVRO_OK; e++) {
            if (e < dl && rel[e] != '/') continue;
            /* an ancestor the previous directory shares was looked at then */
            bool shared =
                prev && e <= prev_len && !memcmp(prev, rel, e) && (e == prev_len || prev[e] == '/');
            if (shared) continue;
            char *sub = cav_strndup(rel, e);
            char *full = sub ? cav_path_join(j->out_dir, sub) : NULL;
            if (!full) {
                w.st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            } else {
                if (!missing) missing = !path_exists(fs, full);
                if (missing) {
                    tw_s(&w, sep);
                    tw_json(&w, json_string(sub), false);
                    sep = ",\n";
                }
            }
            cav_free(sub);
            cav_free(full);
        }
        cav_free(prev);
        prev = cav_strndup(rel, dl);
        prev_len = dl;
        if (!prev) w.st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    cav_free(prev);
    it_close(&it);
    tw_s(&w, "]");
    if (j->rej_tmp) {
        tw_s(&w, ",\n\"reject\": ");
        tw_json(&w, json_pack("[s,s]", j->rej_tmp, j->o.csv.reject_file), false);
    }
    tw_s(&w, "}\n");
    return tw_close(&w);
}

/* The single-file form: the reject file, then the output, each by one rename. */
/* Output "-": the finished single file, copied to stdout (no rename, no manifest). */
static csvavro_status copy_to_stdout(csvavro_job *j, const char *single_tmp, csvavro_error *err) {
    csvavro_file *f = NULL;
    CAV_TRY(csvavro_fs_open_read(j->out_fs, single_tmp, &f, err));
    uint8_t *buf = cav_malloc(1 << 20);
    csvavro_status st = buf ? CSVAVRO_OK : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (int64_t off = 0; st == CSVAVRO_OK;) {
        size_t got = 0;
        st = csvavro_file_pread(f, buf, 1 << 20, off, &got, err);
        if (st != CSVAVRO_OK || got == 0) break;
        off += (int64_t)got;
        for (size_t k = 0; k < got && st == CSVAVRO_OK;) {
            ssize_t w = write(1, buf + k, got - k);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0)
                st = cav_err_errno(err, errno, "stdout", "write");
            else
                k += (size_t)w;
        }
    }
    cav_free(buf);
    csvavro_file_close(f, NULL);
    return st;
}

static csvavro_status commit_single(csvavro_job *j, const char *single_tmp, csvavro_error *err) {
    csvavro_fs *fs = j->out_fs;
    bool replace = j->mode == CSVAVRO_MODE_OVERWRITE;
    if (j->to_stdout) {
        if (j->rej_tmp) {
            CAV_TRY(rename_url(j->rej_tmp, j->o.csv.reject_file, err));
            cav_free(j->rej_tmp);
            j->rej_tmp = NULL;
        }
        return copy_to_stdout(j, single_tmp, err);
    }
    if (!replace && path_exists(fs, j->single_name)) {
        if (j->mode == CSVAVRO_MODE_IGNORE) {
            j->skip = true;
            return CSVAVRO_OK;
        }
        cav_err_path(err, j->o.output);
        return cav_err(err, CSVAVRO_E_EXISTS, "output exists (it appeared while the job ran)");
    }
    if (j->rej_tmp) {
        CAV_TRY(rename_url(j->rej_tmp, j->o.csv.reject_file, err));
        cav_free(j->rej_tmp);
        j->rej_tmp = NULL;
        cav_ds_fault("single: reject file renamed");
    }
    csvavro_status st = csvavro_fs_rename(fs, single_tmp, j->single_name, replace, err);
    if (st != CSVAVRO_OK) {
        if (err && !strcmp(err->path, single_tmp)) cav_err_path(err, j->o.output);
        return st;
    }
    cav_ds_fault("single: output renamed");
    return CSVAVRO_OK;
}

/* The dataset forms, under the commit lock (exec_dataset.c describes the protocol). The job's
 * outputs are read from the splits (a partitioned split's from its list file) in each pass,
 * never held all at once. */
static csvavro_status commit_dataset(csvavro_job *j, csvavro_error *err) {
    csvavro_fs *fs = j->out_fs;
    const char *dir = j->out_dir;
    CAV_TRY(cav_ds_lock(fs, dir, j->tmp_base, err));
    cav_ds_fault("lock taken");
    char *ip = NULL, *ip_tmp = NULL, *mp = NULL, *mp_tmp = NULL;
    bool intent_placed = false;
    out_iter it;
    it_init(&it, j);
    csvavro_status st = cav_ds_recover(fs, dir, err); /* a dead job's commit */
    if (st == CSVAVRO_OK) st = cav_job_check_destination(j, err);
    if (st != CSVAVRO_OK || j->skip) goto out;
    /* overwrite: every file of the previous manifest is moved aside before ours come in, so
     * none of ours is ever taken for an old one (and no set of our names is needed) */
    json_t *olds =
        j->mode == CSVAVRO_MODE_OVERWRITE && j->prev ? json_object_get(j->prev, "outputs") : NULL;
    ip = cav_path_join(dir, CAV_DS_INTENT);
    ip_tmp = cav_path_join(j->tmp_dir, "intent");
    mp = cav_path_join(dir, CAV_DS_MANIFEST);
    mp_tmp = cav_path_join(j->tmp_dir, "manifest");
    if (!ip || !ip_tmp || !mp || !mp_tmp) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto out;
    }
    st = write_manifest(j, mp_tmp, err);
    if (st == CSVAVRO_OK) st = write_intent(j, olds, ip_tmp, err);
    if (st != CSVAVRO_OK) goto out;
    cav_ds_fault("manifest and intent written in the temporary directory");
    /* from here on the destination changes: a failure is rolled back, a crash recovered */
    st = csvavro_fs_rename(fs, ip_tmp, ip, 0, err);
    if (st != CSVAVRO_OK) goto out;
    intent_placed = true;
    cav_ds_fault("intent record in place");
    size_t i;
    json_t *v;
    json_array_foreach(olds, i, v) {
        const char *nm = cav_ds_output_name(v);
        if (!nm || strstr(nm, "..") || nm[0] == '/') continue;
        char b[48];
        snprintf(b, sizeof b, "old.%zu", i);
        char *p = cav_path_join(dir, nm), *pb = cav_path_join(j->tmp_dir, b);
        if (!p || !pb)
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        else if (path_exists(fs, p))
            st = csvavro_fs_rename(fs, p, pb, 0, err);
        cav_free(p);
        cav_free(pb);
        if (st != CSVAVRO_OK) goto out;
        cav_ds_fault("an old file moved aside");
    }
    /* our files, each into its partition directory (created once per change of directory:
     * the intent lists those that did not exist) */
    const out_file *o = NULL;
    char *made = NULL;
    while (st == CSVAVRO_OK) {
        st = it_next(&it, &o, err);
        if (st != CSVAVRO_OK || !o) break;
        if (o->key && (!made || strcmp(made, o->key))) {
            cav_free(made);
            made = cav_strdup(o->key);
            char *pd = made ? cav_path_join(dir, made) : NULL;
            st = pd ? csvavro_fs_mkdir(fs, pd, 1, err) : cav_err(err, CSVAVRO_E_NOMEM, "oom");
            cav_free(pd);
            if (st != CSVAVRO_OK) break;
            cav_ds_fault("a partition directory created");
        }
        if (path_exists(fs, o->final)) {
            if (j->mode != CSVAVRO_MODE_OVERWRITE) {
                cav_err_path(err, o->display);
                st = cav_err(err, CSVAVRO_E_EXISTS, "output file appeared while the job ran");
                break;
            }
            char b[48];
            snprintf(b, sizeof b, "replaced.%llu", (unsigned long long)(it.n - 1));
            char *pb = cav_path_join(j->tmp_dir, b);
            st = pb ? csvavro_fs_rename(fs, o->final, pb, 0, err)
                    : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            cav_free(pb);
            if (st != CSVAVRO_OK) break;
            cav_ds_fault("an old file moved aside");
        }
        st = csvavro_fs_rename(fs, o->tmp, o->final, 0, err);
        if (st == CSVAVRO_OK) cav_ds_fault("a file renamed to its final name");
    }
    cav_free(made);
    it_close(&it);
    if (st == CSVAVRO_OK) st = csvavro_fs_rename(fs, mp_tmp, mp, 1, err);
    if (st != CSVAVRO_OK) goto out;
    cav_ds_fault("manifest in place (committed)");
    /* committed: the rest is the roll-forward that recovery would do too (the old files go
     * with the temporary directory; their partition directories when that left them empty) */
    const char *last = NULL;
    json_array_foreach(olds, i, v) {
        const char *nm = cav_ds_output_name(v);
        if (!nm || strstr(nm, "..") || nm[0] == '/') continue;
        if (last && dir_len(nm) == dir_len(last) && !memcmp(nm, last, dir_len(nm))) continue;
        cav_ds_prune_dirs(fs, dir, nm);
        last = nm;
    }
    if (olds && json_array_size(olds))
        cav_ds_fault("the replaced dataset's empty directories removed");
    if (j->rej_tmp) {
        st = rename_url(j->rej_tmp, j->o.csv.reject_file, err);
        if (st != CSVAVRO_OK) goto out;
        cav_free(j->rej_tmp);
        j->rej_tmp = NULL;
        cav_ds_fault("reject file renamed");
    }
    st = csvavro_fs_remove(fs, ip, 0, err);
    if (st == CSVAVRO_OK) {
        intent_placed = false;
        cav_ds_fault("intent removed");
    }
out:
    it_close(&it);
    if (intent_placed) {
        /* an error (not a crash) after the intent was placed: recover now */
        csvavro_error e2;
        csvavro_status r = cav_ds_recover(fs, dir, &e2);
        if (r != CSVAVRO_OK && st == CSVAVRO_OK) {
            st = r;
            if (err) *err = e2;
        }
    }
    cav_ds_unlock(fs, dir, j->tmp_base);
    if (st == CSVAVRO_OK) cav_ds_fault("lock released");
    cav_free(ip);
    cav_free(ip_tmp);
    cav_free(mp);
    cav_free(mp_tmp);
    return st;
}

csvavro_status cav_job_commit(csvavro_job *j, csvavro_error *err) {
    csvavro_status st = CSVAVRO_OK;
    char *single_tmp = NULL;
    if (j->form == CAV_OUT_SINGLE) {
        st = cav_single_build(j, &single_tmp, err);
    } else {
        j->committed_bytes = 0;
        for (size_t i = 0; i < j->n_splits; i++)
            j->committed_bytes += j->splits[i].bytes_out;
    }
    /* everything the job writes is complete before the first rename */
    if (st == CSVAVRO_OK && j->o.csv.on_error == CSVAVRO_ON_ERROR_REJECT && j->o.csv.reject_file &&
        *j->o.csv.reject_file)
        st = prepare_rejects(j, err);
    if (st == CSVAVRO_OK) cav_ds_fault("every file complete in the temporary directory");
    if (st == CSVAVRO_OK)
        st = j->form == CAV_OUT_SINGLE ? commit_single(j, single_tmp, err) : commit_dataset(j, err);
    if (st != CSVAVRO_OK) cav_err_prefix(err, "commit");
    cav_free(single_tmp);
    if (st == CSVAVRO_OK) {
        heartbeat_stop(j);
        if (j->rej_tmp) remove_url(j->rej_tmp); /* skipped (--mode ignore) */
        st = csvavro_fs_remove(j->out_fs, j->tmp_dir, 1, err);
    }
    return st;
}
