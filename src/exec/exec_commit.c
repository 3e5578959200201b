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
 * rename (after the reject file's) and writes no manifest beside it.
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
 * mtime on every backend (exec_dataset.c judges liveness by it). */
static void *hb_main(void *arg) {
    csvavro_job *j = arg;
    const int64_t every = CAV_MAX((int64_t)50, cav_ds_lease_ms() / 5);
    char *a = cav_path_join(j->tmp_dir, ".hb-a"), *b = cav_path_join(j->tmp_dir, ".hb-b");
    bool at_a = true;
    while (a && b && !atomic_load(&j->hb_stop)) {
        for (int64_t slept = 0; slept < every && !atomic_load(&j->hb_stop); slept += 25) {
            struct timespec ts = {0, 25 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (atomic_load(&j->hb_stop)) break;
        if (csvavro_fs_rename(j->out_fs, at_a ? a : b, at_a ? b : a, 1, NULL) == CSVAVRO_OK)
            at_a = !at_a;
    }
    cav_free(a);
    cav_free(b);
    return NULL;
}

static void heartbeat_stop(csvavro_job *j) {
    if (!j->hb_running) return;
    atomic_store(&j->hb_stop, 1);
    pthread_join(j->hb_thread, NULL);
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
    char *hb = cav_path_join(j->tmp_dir, ".hb-a");
    csvavro_status st =
        hb ? cav_ds_write_text(j->out_fs, hb, "", 1, err) : cav_err(err, CSVAVRO_E_NOMEM, "oom");
    cav_free(hb);
    CAV_TRY(st);
    atomic_store(&j->hb_stop, 0);
    if (pthread_create(&j->hb_thread, NULL, hb_main, j) != 0)
        return cav_err(err, CSVAVRO_E_INTERNAL, "cannot start the heartbeat thread");
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

static out_file *collect_outputs(const csvavro_job *j, size_t *n) {
    size_t cnt = 0;
    for (size_t i = 0; i < j->n_splits; i++)
        cnt += j->n_parts ? j->splits[i].n_pfiles : 1;
    out_file *o = cav_calloc(cnt ? cnt : 1, sizeof *o);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < j->n_splits; i++) {
        const cav_split *s = &j->splits[i];
        if (!j->n_parts) {
            o[k++] = (out_file){s->tmp_name, s->final_name, s->final_display,
                                NULL,        s->rows_kept,  s->bytes_out};
            continue;
        }
        for (size_t f = 0; f < s->n_pfiles; f++) {
            const cav_part_file *pf = &s->pfiles[f];
            o[k++] = (out_file){pf->tmp, pf->final, pf->display, pf->key, pf->rows, pf->bytes};
        }
    }
    *n = k;
    return o;
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

/* The new dataset manifest (dataset forms): this job's record added to the earlier ones
 * (append) or alone. Top-level inputs/options/rows_* describe this job (csvavro 1's layout);
 * outputs and jobs the whole dataset. */
static json_t *manifest(csvavro_job *j, const out_file *of, size_t n_of, csvavro_error *err) {
    char *plan = NULL;
    if (csvavro_job_plan_json(j, &plan, err) != CSVAVRO_OK) return NULL;
    json_t *pj = json_loads(plan, 0, NULL);
    cav_free(plan);
    char *sj = NULL;
    if (!pj || csvavro_schema_to_json(j->out_schema, 0, &sj, err) != CSVAVRO_OK) {
        json_decref(pj);
        if (!sj) cav_err(err, CSVAVRO_E_INTERNAL, "plan JSON does not parse");
        return NULL;
    }
    char fp[40];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)cav_rabin64(sj, strlen(sj)));
    cav_free(sj);
    json_t *fpj = json_pack("{s:s,s:s}", "algorithm", "CRC-64-AVRO", "value", fp);
    json_t *outs = json_array(), *files = json_array(), *jobs = json_array();
    bool append = j->mode == CSVAVRO_MODE_APPEND && j->prev;
    uint64_t total = 0;
    if (append) {
        json_t *po = json_object_get(j->prev, "outputs");
        size_t i;
        json_t *v;
        json_t *legacy = json_object_get(j->prev, "jobs") ? NULL : json_array();
        json_array_foreach(po, i, v) {
            json_t *c = json_deep_copy(v);
            const char *nm = cav_ds_output_name(v);
            if (nm && !json_object_get(c, "name")) json_object_set_new(c, "name", json_string(nm));
            if (legacy && nm) json_array_append_new(legacy, json_string(nm));
            total += (uint64_t)json_integer_value(json_object_get(v, "rows"));
            json_array_append_new(outs, c);
        }
        if (legacy)
            json_array_append_new(jobs,
                                  json_pack("{s:s,s:o}", "job", "csvavro-1", "files", legacy));
        else
            json_array_extend(jobs, json_object_get(j->prev, "jobs"));
    }
    uint64_t rows = 0, read = 0, rej = 0;
    for (size_t i = 0; i < j->n_splits; i++) {
        const cav_split *s = &j->splits[i];
        rows += s->rows_kept;
        read += s->rows_read;
        rej += s->rejected;
    }
    for (size_t i = 0; i < n_of; i++) {
        json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:s}", "path", of[i].display, "name",
                              rel_name(j, of[i].final), "rows", (json_int_t)of[i].rows, "bytes",
                              (json_int_t)of[i].bytes, "job", j->job_id);
        if (of[i].key) json_object_set_new(o, "partition", partition_json(of[i].key));
        json_array_append_new(outs, o);
        json_array_append_new(files, json_string(rel_name(j, of[i].final)));
    }
    total += rows;
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
    json_object_set_new(job, "files", files);
    json_array_append_new(jobs, job);
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("csvavro-dataset/1"));
    json_object_set_new(root, "producer", json_string("csvavro " CSVAVRO_VERSION));
    json_object_set(root, "inputs", json_object_get(pj, "inputs"));
    json_object_set_new(root, "outputs", outs);
    json_object_set_new(root, "splits", json_integer((json_int_t)j->n_splits));
    json_object_set_new(root, "rows_read", json_integer((json_int_t)read));
    json_object_set_new(root, "rows_kept", json_integer((json_int_t)rows));
    json_object_set_new(root, "rows_rejected", json_integer((json_int_t)rej));
    json_object_set_new(root, "rows", json_integer((json_int_t)total));
    json_object_set(root, "schema", json_object_get(pj, "schema"));
    json_object_set_new(root, "schema_fingerprint", fpj);
    json_object_set(root, "options", json_object_get(pj, "options"));
    json_object_set_new(root, "jobs", jobs);
    json_decref(pj);
    return root;
}

static char *dump(json_t *v, csvavro_error *err) {
    char *txt = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t n = txt ? strlen(txt) : 0;
    char *res = txt ? cav_malloc(n + 2) : NULL;
    if (res) {
        memcpy(res, txt, n);
        res[n] = '\n';
        res[n + 1] = '\0';
    } else {
        cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    cav_free(txt);
    return res;
}

static csvavro_status write_json(csvavro_fs *fs, const char *path, json_t *v, csvavro_error *err) {
    char *t = dump(v, err);
    if (!t) return CSVAVRO_E_NOMEM;
    csvavro_status st = cav_ds_write_text(fs, path, t, 1, err);
    cav_free(t);
    return st;
}

static bool path_exists(csvavro_fs *fs, const char *p) {
    csvavro_stat sb;
    return csvavro_fs_stat(fs, p, &sb, NULL) == CSVAVRO_OK;
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

/* The dataset forms, under the commit lock (exec_dataset.c describes the protocol). */
static csvavro_status commit_dataset(csvavro_job *j, csvavro_error *err) {
    csvavro_fs *fs = j->out_fs;
    const char *dir = j->out_dir;
    CAV_TRY(cav_ds_lock(fs, dir, j->tmp_base, err));
    cav_ds_fault("lock taken");
    json_t *intent = NULL, *man = NULL;
    out_file *of = NULL;
    char *ip = NULL, *ip_tmp = NULL, *mp = NULL, *mp_tmp = NULL;
    bool intent_placed = false;
    csvavro_status st = cav_ds_recover(fs, dir, err); /* a dead job's commit */
    if (st == CSVAVRO_OK) st = cav_job_check_destination(j, err);
    if (st != CSVAVRO_OK || j->skip) goto out;
    /* the renames: our files to their final names; a file there already is moved aside */
    json_t *renames = json_array(), *deletes = json_array();
    intent = json_pack("{s:s,s:s,s:o,s:o}", "job", j->job_id, "tmp", j->tmp_base, "renames",
                       renames, "deletes", deletes);
    size_t n_of = 0;
    of = collect_outputs(j, &n_of);
    if (!of) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_of && st == CSVAVRO_OK; i++) {
        json_t *bak = json_null();
        if (path_exists(fs, of[i].final)) {
            if (j->mode != CSVAVRO_MODE_OVERWRITE) {
                cav_err_path(err, of[i].display);
                st = cav_err(err, CSVAVRO_E_EXISTS, "output file appeared while the job ran");
                break;
            }
            char b[48];
            snprintf(b, sizeof b, "replaced.%zu", i);
            bak = json_string(b);
        }
        json_array_append_new(
            renames, json_pack("[s,s,o]", base_name(of[i].tmp), rel_name(j, of[i].final), bak));
    }
    /* overwrite: the previous manifest's files that our names do not replace */
    if (st == CSVAVRO_OK && j->mode == CSVAVRO_MODE_OVERWRITE && j->prev) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(j->prev, "outputs"), i, v) {
            const char *nm = cav_ds_output_name(v);
            if (!nm || strstr(nm, "..") || nm[0] == '/') continue;
            bool ours = false;
            for (size_t k = 0; k < n_of && !ours; k++)
                ours = !strcmp(nm, rel_name(j, of[k].final));
            if (!ours) json_array_append_new(deletes, json_string(nm));
        }
    }
    if (st == CSVAVRO_OK && j->rej_tmp)
        json_object_set_new(intent, "reject", json_pack("[s,s]", j->rej_tmp, j->o.csv.reject_file));
    if (st != CSVAVRO_OK) goto out;
    man = manifest(j, of, n_of, err);
    ip = cav_path_join(dir, CAV_DS_INTENT);
    ip_tmp = cav_path_join(j->tmp_dir, "intent");
    mp = cav_path_join(dir, CAV_DS_MANIFEST);
    mp_tmp = cav_path_join(j->tmp_dir, "manifest");
    if (!man || !ip || !ip_tmp || !mp || !mp_tmp) {
        st = man ? cav_err(err, CSVAVRO_E_NOMEM, "out of memory") : CSVAVRO_E_NOMEM;
        goto out;
    }
    /* partitioned: the directories to create, parents first (the intent lists them, so a
     * rolled back commit removes them again) */
    json_t *mkdirs = json_array();
    json_object_set_new(intent, "mkdirs", mkdirs);
    for (size_t i = 0; i < n_of && st == CSVAVRO_OK && of[i].key; i++) {
        if (i && !strcmp(of[i].key, of[i - 1].key)) continue;
        char *pd = cav_strdup(rel_name(j, of[i].final));
        if (!pd) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (char *c = pd ? strchr(pd, '/') : NULL; c && st == CSVAVRO_OK; c = strchr(c + 1, '/')) {
            *c = '\0';
            bool listed = false;
            for (size_t k = 0; k < json_array_size(mkdirs) && !listed; k++)
                listed = !strcmp(json_string_value(json_array_get(mkdirs, k)), pd);
            char *full = listed ? NULL : cav_path_join(dir, pd);
            if (full && !path_exists(fs, full)) json_array_append_new(mkdirs, json_string(pd));
            cav_free(full);
            *c = '/';
        }
        cav_free(pd);
    }
    if (st == CSVAVRO_OK) st = write_json(fs, mp_tmp, man, err);
    if (st == CSVAVRO_OK) st = write_json(fs, ip_tmp, intent, err);
    if (st != CSVAVRO_OK) goto out;
    cav_ds_fault("manifest and intent written in the temporary directory");
    /* from here on the destination changes: a failure is rolled back, a crash recovered */
    st = csvavro_fs_rename(fs, ip_tmp, ip, 0, err);
    if (st != CSVAVRO_OK) goto out;
    intent_placed = true;
    cav_ds_fault("intent record in place");
    for (size_t i = 0; i < json_array_size(mkdirs) && st == CSVAVRO_OK; i++) {
        char *pd = cav_path_join(dir, json_string_value(json_array_get(mkdirs, i)));
        st = pd ? csvavro_fs_mkdir(fs, pd, 1, err) : cav_err(err, CSVAVRO_E_NOMEM, "oom");
        cav_free(pd);
        if (st == CSVAVRO_OK) cav_ds_fault("a partition directory created");
    }
    for (size_t i = 0; i < n_of && st == CSVAVRO_OK; i++) {
        json_t *r = json_array_get(renames, i);
        const char *bak = json_string_value(json_array_get(r, 2));
        if (bak) {
            char *pb = cav_path_join(j->tmp_dir, bak);
            st = pb ? csvavro_fs_rename(fs, of[i].final, pb, 0, err)
                    : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            cav_free(pb);
            if (st != CSVAVRO_OK) break;
            cav_ds_fault("an old file moved aside");
        }
        st = csvavro_fs_rename(fs, of[i].tmp, of[i].final, 0, err);
        if (st == CSVAVRO_OK) cav_ds_fault("a file renamed to its final name");
    }
    if (st == CSVAVRO_OK) st = csvavro_fs_rename(fs, mp_tmp, mp, 1, err);
    if (st != CSVAVRO_OK) goto out;
    cav_ds_fault("manifest in place (committed)");
    /* committed: the rest is the roll-forward that recovery would do too */
    size_t i;
    json_t *v;
    json_array_foreach(deletes, i, v) {
        char *p = cav_path_join(dir, json_string_value(v));
        if (p) csvavro_fs_remove(fs, p, 0, NULL);
        cav_free(p);
        cav_ds_prune_dirs(fs, dir, json_string_value(v)); /* a partition left empty */
        cav_ds_fault("a file of the replaced dataset deleted");
    }
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
    json_decref(intent);
    json_decref(man);
    cav_free(of);
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
