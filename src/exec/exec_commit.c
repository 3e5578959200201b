/*
 * exec_commit.c — safe output: the temporary directory, stale-run cleanup, commit (renames,
 * the single-file concatenation, the reject file, the _SUCCESS manifest) and discard.
 *
 * Every file a job writes first lives in <dest-dir>/.csvavro-tmp-<host>-<pid>-<random>/.
 * Commit order: drop an old _SUCCESS, rename every output to its final name (replacing old ones
 * only with overwrite), remove old outputs of the same pattern that this run did not produce,
 * write the reject file, write _SUCCESS (via a temporary name), remove the temporary directory.
 * A reader that waits for _SUCCESS therefore never sees a mix of old and new files.
 *
 * The single-file form concatenates the split files (blocks only) behind one header in
 * tmp_dir/single.avro. Without --limit (and without MPI) the workers do it as they go, for
 * the leading splits that are finished and verified (cav_job_single_advance), so the commit
 * only copies what is left after the verification walk, typically the last split.
 */
#include "exec.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TMP_PREFIX ".csvavro-tmp-"

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

static bool is_local(const csvavro_job *j) {
    return strcmp(csvavro_fs_scheme(j->out_fs), "file") == 0;
}

csvavro_status cav_job_make_tmp(csvavro_job *j, csvavro_error *err) {
    char host[128] = "host";
    gethostname(host, sizeof host - 1);
    for (char *c = host; *c; c++)
        if (*c == '-' || *c == '/' || *c == '.') *c = '_';
    uint32_t rnd = 0;
    CAV_TRY(cav_random_bytes(&rnd, sizeof rnd, err));
    char name[256];
    snprintf(name, sizeof name, TMP_PREFIX "%s-%ld-%08x", host, (long)getpid(), rnd);
    j->job_id = cav_strdup(name + strlen(TMP_PREFIX));
    j->tmp_dir = cav_path_join(j->out_dir, name);
    if (!j->job_id || !j->tmp_dir) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    return csvavro_fs_mkdir(j->out_fs, j->tmp_dir, 1, err);
}

void cav_job_clean_stale(csvavro_job *j) {
    csvavro_dirent *list = NULL;
    size_t n = 0;
    if (csvavro_fs_list(j->out_fs, j->out_dir, &list, &n, NULL) != CSVAVRO_OK) return;
    char host[128] = "host";
    gethostname(host, sizeof host - 1);
    for (char *c = host; *c; c++)
        if (*c == '-' || *c == '/' || *c == '.') *c = '_';
    int64_t now = cav_wall_ms();
    for (size_t i = 0; i < n; i++) {
        const char *nm = list[i].name;
        if (!list[i].st.is_dir || strncmp(nm, TMP_PREFIX, strlen(TMP_PREFIX)) != 0) continue;
        const char *rest = nm + strlen(TMP_PREFIX);
        bool stale = now - list[i].st.mtime_ms > (int64_t)j->o.stale_hours * 3600 * 1000;
        size_t hl = strlen(host);
        if (!stale && is_local(j) && !strncmp(rest, host, hl) && rest[hl] == '-') {
            long pid = strtol(rest + hl + 1, NULL, 10);
            if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) stale = true;
        }
        if (!stale) continue;
        char *p = cav_path_join(j->out_dir, nm);
        if (p) csvavro_fs_remove(j->out_fs, p, 1, NULL);
        cav_free(p);
    }
    csvavro_fs_free_list(list, n);
}

void cav_job_discard(csvavro_job *j) {
    if (j->single_f) csvavro_file_abort(j->single_f);
    j->single_f = NULL;
    cav_free(j->single_buf);
    j->single_buf = NULL;
    if (j->tmp_dir) csvavro_fs_remove(j->out_fs, j->tmp_dir, 1, NULL);
}

/* Appends the whole of file `from` to out. */
static csvavro_status append_file(csvavro_fs *fs, const char *from, csvavro_file *out, uint8_t *buf,
                                  size_t cap, uint64_t *total, csvavro_error *err) {
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
        *total += got;
    }
    csvavro_error e2;
    csvavro_file_close(f, &e2);
    return st;
}

static csvavro_status write_text(csvavro_fs *fs, const char *path, const char *text,
                                 csvavro_error *err) {
    csvavro_file *f = NULL;
    CAV_TRY(csvavro_fs_create(fs, path, 1, &f, err));
    csvavro_status st = csvavro_file_write(f, text, strlen(text), err);
    if (st == CSVAVRO_OK) return csvavro_file_close(f, err);
    csvavro_file_abort(f);
    return st;
}

#define SINGLE_BUF ((size_t)1 << 20)

/* Creates the single output under tmp_dir with its header (once) and appends split i. */
static csvavro_status single_append(csvavro_job *j, size_t i, csvavro_error *err) {
    if (!j->single_f) {
        char *tmp = cav_path_join(j->tmp_dir, "single.avro");
        j->single_buf = cav_malloc(SINGLE_BUF);
        csvavro_status st = tmp && j->single_buf
                                ? csvavro_fs_create(j->out_fs, tmp, 1, &j->single_f, err)
                                : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        cav_free(tmp);
        CAV_TRY(st);
        CAV_TRY(cav_avro_write_header(j->out_schema, &j->o.avro, j->single_sync, j->single_f, err));
    }
    if (i >= j->n_splits || !j->splits[i].has_output) return CSVAVRO_OK;
    uint64_t total = 0;
    return append_file(j->out_fs, j->splits[i].tmp_name, j->single_f, j->single_buf, SINGLE_BUF,
                       &total, err);
}

void cav_job_single_advance(csvavro_job *j) {
    pthread_mutex_lock(&j->single_mu);
    while (j->single_st == CSVAVRO_OK && j->single_next < j->n_splits) {
        size_t i = j->single_next;
        const cav_split *s = &j->splits[i];
        if (!atomic_load_explicit(&s->finished, memory_order_acquire) || s->st != CSVAVRO_OK) break;
        /* a speculative split stands only if it started where its predecessor ended (else
         * the verification re-runs it: the commit copies it and everything after it) */
        if (!s->first && s->range_start != j->splits[i - 1].range_end) break;
        j->single_st = single_append(j, i, &j->single_err);
        if (j->single_st == CSVAVRO_OK) j->single_next++;
    }
    pthread_mutex_unlock(&j->single_mu);
}

static csvavro_status build_single(csvavro_job *j, char **tmp_out, csvavro_error *err) {
    char *tmp = cav_path_join(j->tmp_dir, "single.avro");
    if (!tmp) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    *tmp_out = tmp;
    if (j->single_st != CSVAVRO_OK) {
        if (err) *err = j->single_err;
        return j->single_st;
    }
    /* the splits not copied during the run (all of them with --limit or MPI) */
    csvavro_status st = CSVAVRO_OK;
    for (size_t i = j->single_next; i < j->n_splits && st == CSVAVRO_OK; i++)
        st = single_append(j, i, err);
    if (st == CSVAVRO_OK && !j->single_f) st = single_append(j, j->n_splits, err); /* no split */
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

static csvavro_status write_rejects(csvavro_job *j, csvavro_error *err) {
    const char *dest = j->o.csv.reject_file;
    csvavro_fs *fs = NULL;
    char *path = NULL;
    CAV_TRY(csvavro_fs_open_url(dest, &fs, &path, err));
    size_t pl = strlen(path);
    char *tmp = cav_malloc(pl + strlen(j->job_id) + 16);
    csvavro_status st = CSVAVRO_OK;
    csvavro_file *out = NULL;
    uint8_t *buf = cav_malloc(1 << 20);
    if (!tmp || !buf) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    sprintf(tmp, "%s.tmp-%s", path, j->job_id);
    st = csvavro_fs_create(fs, tmp, 1, &out, err);
    uint64_t total = 0;
    for (size_t i = 0; i < j->n_splits && st == CSVAVRO_OK; i++)
        if (j->splits[i].has_rejects)
            st = append_file(j->out_fs, j->splits[i].rej_name, out, buf, 1 << 20, &total, err);
    if (out) {
        if (st == CSVAVRO_OK)
            st = csvavro_file_close(out, err);
        else
            csvavro_file_abort(out);
    }
    if (st == CSVAVRO_OK)
        st = csvavro_fs_rename(fs, tmp, path, 1, err);
    else
        csvavro_fs_remove(fs, tmp, 0, NULL);
done:
    cav_free(tmp);
    cav_free(buf);
    free(path);
    csvavro_fs_close(fs);
    return st;
}

static char *manifest(csvavro_job *j, csvavro_error *err) {
    char *plan = NULL;
    if (csvavro_job_plan_json(j, &plan, err) != CSVAVRO_OK) return NULL;
    json_t *pj = json_loads(plan, 0, NULL);
    free(plan);
    if (!pj) {
        cav_err(err, CSVAVRO_E_INTERNAL, "plan JSON does not parse");
        return NULL;
    }
    json_t *root = json_object();
    json_object_set_new(root, "producer", json_string("csvavro " CSVAVRO_VERSION));
    json_object_set(root, "inputs", json_object_get(pj, "inputs"));
    json_t *outs = json_array();
    uint64_t rows = 0, read = 0, rej = 0;
    for (size_t i = 0; i < j->n_splits; i++) {
        const cav_split *s = &j->splits[i];
        rows += s->rows_kept;
        read += s->rows_read;
        rej += s->rejected;
        if (j->form != CAV_OUT_SINGLE)
            json_array_append_new(outs, json_pack("{s:s,s:I,s:I}", "path", s->final_display, "rows",
                                                  (json_int_t)s->rows_kept, "bytes",
                                                  (json_int_t)s->bytes_out));
    }
    if (j->form == CAV_OUT_SINGLE) {
        char *d = cav_job_out_display(j, j->single_name);
        json_array_append_new(outs,
                              json_pack("{s:s,s:I,s:I}", "path", d ? d : j->single_name, "rows",
                                        (json_int_t)rows, "bytes", (json_int_t)j->committed_bytes));
        cav_free(d);
    }
    json_object_set_new(root, "outputs", outs);
    json_object_set_new(root, "splits", json_integer((json_int_t)j->n_splits));
    json_object_set_new(root, "rows_read", json_integer((json_int_t)read));
    json_object_set_new(root, "rows_kept", json_integer((json_int_t)rows));
    json_object_set_new(root, "rows_rejected", json_integer((json_int_t)rej));
    char *sj = NULL;
    if (csvavro_schema_to_json(j->out_schema, 0, &sj, err) != CSVAVRO_OK) {
        json_decref(pj);
        json_decref(root);
        return NULL;
    }
    char fp[40];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)cav_rabin64(sj, strlen(sj)));
    free(sj);
    json_object_set(root, "schema", json_object_get(pj, "schema"));
    json_object_set_new(root, "schema_fingerprint",
                        json_pack("{s:s,s:s}", "algorithm", "CRC-64-AVRO", "value", fp));
    json_object_set(root, "options", json_object_get(pj, "options"));
    char *txt = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(pj);
    json_decref(root);
    if (!txt) {
        cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        return NULL;
    }
    size_t n = strlen(txt);
    char *res = cav_malloc(n + 2);
    if (res) {
        memcpy(res, txt, n);
        res[n] = '\n';
        res[n + 1] = '\0';
    } else {
        cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    free(txt);
    return res;
}

csvavro_status cav_job_commit(csvavro_job *j, csvavro_error *err) {
    csvavro_fs *fs = j->out_fs;
    csvavro_status st = CSVAVRO_OK;
    char *single_tmp = NULL;
    char *man = NULL, *man_tmp = NULL;
    if (j->form == CAV_OUT_SINGLE) {
        st = build_single(j, &single_tmp, err);
    } else {
        j->committed_bytes = 0;
        for (size_t i = 0; i < j->n_splits; i++)
            j->committed_bytes += j->splits[i].bytes_out;
    }
    if (st == CSVAVRO_OK) {
        man = manifest(j, err);
        if (!man) st = err && err->status ? err->status : CSVAVRO_E_NOMEM;
    }
    if (st == CSVAVRO_OK) {
        man_tmp = cav_path_join(j->tmp_dir, "_SUCCESS");
        st = man_tmp ? write_text(fs, man_tmp, man, err)
                     : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    if (st != CSVAVRO_OK) goto done;
    /* from here on the destination changes */
    if (j->o.overwrite) csvavro_fs_remove(fs, j->success_name, 0, NULL);
    if (j->form == CAV_OUT_SINGLE) {
        st = csvavro_fs_rename(fs, single_tmp, j->single_name, j->o.overwrite, err);
    } else {
        size_t done = 0;
        for (; done < j->n_splits && st == CSVAVRO_OK; done++)
            st = csvavro_fs_rename(fs, j->splits[done].tmp_name, j->splits[done].final_name,
                                   j->o.overwrite, err);
        /* a rename failed (e.g. a file appeared since planning): take back the new files so
         * that no partial output stays (without --overwrite nothing old was replaced) */
        if (st != CSVAVRO_OK && !j->o.overwrite)
            for (size_t k = 0; k + 1 < done; k++)
                csvavro_fs_remove(fs, j->splits[k].final_name, 0, NULL);
        if (st == CSVAVRO_OK && j->o.overwrite) {
            csvavro_dirent *list = NULL;
            size_t n = 0;
            if (csvavro_fs_list(fs, j->out_dir, &list, &n, NULL) == CSVAVRO_OK) {
                for (size_t i = 0; i < n; i++) {
                    if (list[i].st.is_dir || !cav_job_name_matches(j, list[i].name)) continue;
                    char *p = cav_path_join(j->out_dir, list[i].name);
                    bool ours = false;
                    for (size_t k = 0; p && k < j->n_splits && !ours; k++)
                        ours = !strcmp(p, j->splits[k].final_name);
                    if (p && !ours) csvavro_fs_remove(fs, p, 0, NULL);
                    cav_free(p);
                }
                csvavro_fs_free_list(list, n);
            }
        }
    }
    if (st != CSVAVRO_OK) {
        cav_err_prefix(err, "commit");
        goto done;
    }
    if (j->o.csv.on_error == CSVAVRO_ON_ERROR_REJECT && j->o.csv.reject_file &&
        *j->o.csv.reject_file)
        st = write_rejects(j, err);
    if (st == CSVAVRO_OK) st = csvavro_fs_rename(fs, man_tmp, j->success_name, 1, err);
    if (st == CSVAVRO_OK) st = csvavro_fs_remove(fs, j->tmp_dir, 1, err);
done:
    cav_free(single_tmp);
    cav_free(man);
    cav_free(man_tmp);
    return st;
}
