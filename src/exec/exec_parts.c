/*
 * exec_parts.c — a job whose splits run in other processes that the caller schedules (the
 * Python package's dask integration, or any scheduler): csvavro_job_begin, _open_plan,
 * _run_split, _add_result and _finish of the public header.
 *
 * Main idea: the same three stages as csvavro_job_execute, cut where the work can move. The
 * driver plans and starts the job (temporary directory beside the destination), then hands the
 * plan out as JSON text. A worker rebuilds a job from the plan and its own copy of the options
 * with the MPI ranks' plan codec (exec_plan_codec.c), runs one split into the shared temporary
 * directory and returns the split's outcome (ranges, counts, status, error) as JSON text. The
 * driver merges the outcomes into its job and runs the rest exactly as execute does after its pool
 * joined: splits without an outcome are run here, the verification walk (docs/splits.md), --limit,
 * --max-errors, the commit. So the output is the same files a one-process run writes.
 *
 * Invariants: a split's outcome describes one complete run, so running a split again (a lost
 * worker, a retry) and adding the newer outcome is always safe; the files of a run replace the
 * previous run's. A begun job that is freed without a commit removes its temporary directory.
 * The worker checks that its options give the driver's output schema and filter.
 */
#include "exec.h"
#include "exec_plan_codec.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAN_FORMAT 1

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

static csvavro_status dump(json_t *root, void **out, size_t *len, csvavro_error *err) {
    char *txt = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    char *copy = txt ? cav_strdup(txt) : NULL; /* the caller frees it with csvavro_free */
    cav_free(txt);
    if (!copy) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    *out = copy;
    *len = strlen(copy);
    return CSVAVRO_OK;
}

static json_t *load(const void *p, size_t n, const char *what, csvavro_error *err) {
    json_error_t je;
    json_t *root = p ? json_loadb(p, n, 0, &je) : NULL;
    if (!root || !json_is_object(root)) {
        json_decref(root);
        cav_err(err, CSVAVRO_E_USAGE, "not a csvavro %s (malformed JSON)", what);
        return NULL;
    }
    return root;
}

/* ------------------------------------------------------------------ driver: begin */

/* The plan: JSON with what the caller and the worker check (format, output schema, filter,
 * temporary directory, job id) and, as hex, the job's encoding by exec_plan_codec.c (the MPI
 * ranks' plan). */
static csvavro_status export_plan(const csvavro_job *j, void **plan, size_t *len,
                                  csvavro_error *err) {
    cav_buf b;
    cav_buf_init(&b, 0);
    char *outs = NULL, *hex = NULL;
    csvavro_status st = cav_plan_encode(j, &b, err);
    if (st == CSVAVRO_OK) st = csvavro_schema_to_json(j->out_schema, 0, &outs, err);
    if (st == CSVAVRO_OK && !(hex = cav_malloc(2 * b.len + 1)))
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    if (st == CSVAVRO_OK) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < b.len; i++) {
            hex[2 * i] = digits[b.data[i] >> 4];
            hex[2 * i + 1] = digits[b.data[i] & 15];
        }
        hex[2 * b.len] = '\0';
        json_t *root = json_object();
        json_object_set_new(root, "csvavro_plan", json_integer(PLAN_FORMAT));
        json_object_set_new(root, "job_id", json_string(j->job_id));
        json_object_set_new(root, "tmp_dir", json_string(j->tmp_dir));
        json_object_set_new(root, "output_schema", json_string(outs));
        json_object_set_new(root, "where", str_or_null(csvavro_job_where_text(j)));
        json_object_set_new(root, "plan", json_string(hex));
        st = dump(root, plan, len, err);
    }
    cav_buf_free(&b);
    cav_free(outs);
    cav_free(hex);
    return st;
}

csvavro_status csvavro_job_begin(csvavro_job *j, void **plan, size_t *plan_len,
                                 csvavro_error *err) {
    *plan = NULL;
    *plan_len = 0;
    if (err) csvavro_error_clear(err);
    CAV_RETURN_IF(j->parts_worker, err, CSVAVRO_E_USAGE, "a job opened from a plan cannot begin");
    CAV_RETURN_IF(j->dist, err, CSVAVRO_E_USAGE, "an MPI job cannot be run in parts");
    CAV_RETURN_IF(j->skip, err, CSVAVRO_E_EXISTS,
                  "the output exists and the mode is ignore: there is nothing to run");
    CAV_TRY(cav_job_start(j, err));
    j->parts_driver = true; /* from here on, freeing it without a commit discards */
    return export_plan(j, plan, plan_len, err);
}

/* ------------------------------------------------------------------ worker: open, run */

static const char *get_s(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}
static int64_t get_i(json_t *o, const char *k) {
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The worker's options must give the driver's output schema and filter. */
static csvavro_status check_same(csvavro_job *j, json_t *root, csvavro_error *err) {
    char *outs = NULL;
    CAV_TRY(csvavro_schema_to_json(j->out_schema, 0, &outs, err));
    const char *want = get_s(root, "output_schema");
    bool same = want && !strcmp(want, outs);
    cav_free(outs);
    CAV_RETURN_IF(!same, err, CSVAVRO_E_USAGE,
                  "these options give another output schema than the plan's (the worker must "
                  "use the driver's options)");
    const char *w = get_s(root, "where"), *mine = csvavro_job_where_text(j);
    CAV_RETURN_IF((w == NULL) != (mine == NULL) || (w && strcmp(w, mine)), err, CSVAVRO_E_USAGE,
                  "these options give another filter than the plan's (the worker must use the "
                  "driver's options)");
    return CSVAVRO_OK;
}

static csvavro_status import_plan(csvavro_job *j, json_t *root, csvavro_error *err) {
    CAV_RETURN_IF(get_i(root, "csvavro_plan") != PLAN_FORMAT, err, CSVAVRO_E_USAGE,
                  "not a csvavro plan of this version");
    const char *hex = get_s(root, "plan");
    size_t n = hex ? strlen(hex) : 1;
    CAV_RETURN_IF(n % 2, err, CSVAVRO_E_USAGE, "malformed csvavro plan");
    uint8_t *bin = cav_malloc(n / 2 + 1);
    if (!bin) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            cav_free(bin);
            return cav_err(err, CSVAVRO_E_USAGE, "malformed csvavro plan");
        }
        bin[i] = (uint8_t)(hi << 4 | lo);
    }
    csvavro_status st = cav_plan_decode(j, bin, n / 2, err);
    cav_free(bin);
    CAV_TRY(st);
    CAV_TRY(check_same(j, root, err));
    j->threads = 1;
    return CSVAVRO_OK;
}

csvavro_status csvavro_job_open_plan(const csvavro_job_options *o, const void *plan,
                                     size_t plan_len, csvavro_job **out, csvavro_error *err) {
    *out = NULL;
    if (err) csvavro_error_clear(err);
    json_t *root = load(plan, plan_len, "plan", err);
    if (!root) return CSVAVRO_E_USAGE;
    csvavro_job *j = NULL;
    csvavro_status st = csvavro_job_create(o, &j, err);
    if (st == CSVAVRO_OK) {
        j->parts_worker = true;
        st = import_plan(j, root, err);
    }
    json_decref(root);
    if (st != CSVAVRO_OK) {
        csvavro_job_free(j);
        return st;
    }
    *out = j;
    return CSVAVRO_OK;
}

static json_t *error_json(const csvavro_error *e) {
    return json_pack("{s:i,s:s,s:I,s:I,s:I,s:i,s:s,s:s,s:s}", "status", (int)e->status, "path",
                     e->path, "offset", (json_int_t)e->offset, "line", (json_int_t)e->line,
                     "record", (json_int_t)e->record, "column", (int)e->column, "column_name",
                     e->column_name, "value", e->value, "message", e->message);
}

/* Runs split i writing its files under names unique to this run, then renames each complete
 * file over split.I.avro / rejects.I: a run that dask started again (a worker wrongly declared
 * dead) may write the same split at the same time as the first one; each writes its own file,
 * the last complete run wins, and the driver never sees a half-written file. A run that
 * failed leaves nothing. */
static csvavro_status run_unique(csvavro_job *j, size_t i, csvavro_error *err) {
    cav_split *s = &j->splits[i];
    uint8_t rnd[8];
    CAV_TRY(cav_random_bytes(rnd, sizeof rnd, err));
    char tag[64], nm[128];
    snprintf(tag, sizeof tag, "%ld-%02x%02x%02x%02x%02x%02x%02x%02x", (long)getpid(), rnd[0],
             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    char *final_out = NULL, *final_rej = NULL;
    snprintf(nm, sizeof nm, "split.%zu.avro", i);
    final_out = cav_path_join(j->tmp_dir, nm);
    snprintf(nm, sizeof nm, "rejects.%zu", i);
    final_rej = final_out ? cav_path_join(j->tmp_dir, nm) : NULL;
    snprintf(nm, sizeof nm, ".run-%s.split.%zu.avro", tag, i);
    char *tmp_out = final_rej ? cav_path_join(j->tmp_dir, nm) : NULL;
    snprintf(nm, sizeof nm, ".run-%s.rejects.%zu", tag, i);
    char *tmp_rej = tmp_out ? cav_path_join(j->tmp_dir, nm) : NULL;
    if (!tmp_rej) {
        cav_free(final_out);
        cav_free(final_rej);
        cav_free(tmp_out);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    cav_free(s->tmp_name);
    cav_free(s->rej_name);
    s->tmp_name = tmp_out;
    s->rej_name = tmp_rej;
    s->has_output = s->has_rejects = false; /* the last run's files are in place: keep them */
    if (j->n_parts) { /* part files and their list: p.I.<run>.K.avro, p.I.<run>.list */
        cav_split_free_pfiles(s, NULL);
        cav_free(s->pf_base);
        snprintf(nm, sizeof nm, "p.%zu.%s", i, tag);
        s->pf_base = cav_path_join(j->tmp_dir, nm);
        if (!s->pf_base) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    csvavro_status st = cav_job_run_one(j, i, err);
    csvavro_error e2;
    if (st != CSVAVRO_OK || s->st != CSVAVRO_OK) { /* nothing of a failed run is left */
        if (s->has_output) csvavro_fs_remove(j->out_fs, s->tmp_name, 0, &e2);
        if (s->has_rejects) csvavro_fs_remove(j->out_fs, s->rej_name, 0, &e2);
        s->has_output = s->has_rejects = false;
        cav_split_free_pfiles(s, j->out_fs);
    }
    if (st == CSVAVRO_OK && s->has_rejects)
        st = csvavro_fs_rename(j->out_fs, s->rej_name, final_rej, 1, err);
    if (st == CSVAVRO_OK && s->has_output)
        st = csvavro_fs_rename(j->out_fs, s->tmp_name, final_out, 1, err);
    if (st != CSVAVRO_OK) { /* a rename failed: remove what is left of this run */
        if (s->has_output) csvavro_fs_remove(j->out_fs, s->tmp_name, 0, &e2);
        if (s->has_rejects) csvavro_fs_remove(j->out_fs, s->rej_name, 0, &e2);
    }
    cav_free(s->tmp_name);
    cav_free(s->rej_name);
    s->tmp_name = final_out; /* the names the driver reads (csvavro_job_add_result) */
    s->rej_name = final_rej;
    return st;
}

csvavro_status csvavro_job_run_split(csvavro_job *j, size_t i, void **result, size_t *result_len,
                                     csvavro_error *err) {
    *result = NULL;
    *result_len = 0;
    if (err) csvavro_error_clear(err);
    CAV_RETURN_IF(!j->parts_worker, err, CSVAVRO_E_USAGE,
                  "only a job opened from a plan runs single splits");
    CAV_RETURN_IF(i >= j->n_splits, err, CSVAVRO_E_USAGE, "split %zu of %zu does not exist", i,
                  j->n_splits);
    /* a driver that gave up removed the temporary directory: do not create it again */
    csvavro_stat sb;
    csvavro_error e2;
    if (csvavro_fs_stat(j->out_fs, j->tmp_dir, &sb, &e2) != CSVAVRO_OK || !sb.is_dir) {
        char *d = cav_job_out_display(j, j->tmp_dir);
        cav_err_path(err, d ? d : j->tmp_dir);
        cav_free(d);
        return cav_err(err, CSVAVRO_E_NOT_FOUND,
                       "the job's temporary directory is gone (the driver ended the job) or not "
                       "visible here (the output must be on a file system every worker shares)");
    }
    CAV_TRY(run_unique(j, i, err));
    const cav_split *s = &j->splits[i];
    json_t *r =
        json_pack("{s:I,s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:b,s:b}", "split", (json_int_t)i,
                  "run_start", (json_int_t)s->run_start, "aligned", s->run_aligned, "range_start",
                  (json_int_t)s->range_start, "range_end", (json_int_t)s->range_end, "rows_read",
                  (json_int_t)s->rows_read, "rows_kept", (json_int_t)s->rows_kept, "rejected",
                  (json_int_t)s->rejected, "bytes_out", (json_int_t)s->bytes_out, "bytes_in",
                  (json_int_t)s->bytes_in, "capped", s->capped, "has_rejects", s->has_rejects,
                  "has_output", s->has_output);
    if (r) json_object_set_new(r, "error", error_json(&s->err));
    if (r) json_object_set_new(r, "own_len", json_integer((json_int_t)s->own_len));
    if (r && s->n_pfiles) { /* partitioned: where the run's part files and their list are */
        const char *b = strrchr(s->pf_base, '/');
        json_object_set_new(r, "parts",
                            json_pack("{s:s,s:I}", "base", b ? b + 1 : s->pf_base, "files",
                                      (json_int_t)s->n_pfiles));
    }
    if (r && s->st != CSVAVRO_OK && err) *err = s->err;
    return dump(r, result, result_len, err);
}

/* ------------------------------------------------------------------ driver: results, finish */

static void copy_str(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

csvavro_status csvavro_job_add_result(csvavro_job *j, const void *result, size_t len,
                                      csvavro_error *err) {
    if (err) csvavro_error_clear(err);
    CAV_RETURN_IF(!j->parts_driver || j->committed, err, CSVAVRO_E_USAGE,
                  "results are added to a begun, unfinished job");
    json_t *r = load(result, len, "split result", err);
    if (!r) return CSVAVRO_E_USAGE;
    int64_t i = get_i(r, "split");
    json_t *e = json_object_get(r, "error");
    if (i < 0 || (uint64_t)i >= j->n_splits || !json_is_object(e)) {
        json_decref(r);
        return cav_err(err, CSVAVRO_E_USAGE, "malformed csvavro split result");
    }
    cav_split *s = &j->splits[i];
    s->ran = true;
    s->run_start = get_i(r, "run_start");
    s->run_aligned = json_is_true(json_object_get(r, "aligned"));
    s->range_start = get_i(r, "range_start");
    s->range_end = get_i(r, "range_end");
    s->own_len = json_is_integer(json_object_get(r, "own_len")) ? get_i(r, "own_len") : -1;
    s->rows_read = (uint64_t)get_i(r, "rows_read");
    s->rows_kept = (uint64_t)get_i(r, "rows_kept");
    s->rejected = (uint64_t)get_i(r, "rejected");
    s->bytes_out = (uint64_t)get_i(r, "bytes_out");
    s->bytes_in = (uint64_t)get_i(r, "bytes_in");
    s->capped = json_is_true(json_object_get(r, "capped"));
    s->has_rejects = json_is_true(json_object_get(r, "has_rejects"));
    s->has_output = json_is_true(json_object_get(r, "has_output"));
    csvavro_error_clear(&s->err);
    s->err.status = s->st = (csvavro_status)get_i(e, "status");
    copy_str(s->err.path, sizeof s->err.path, get_s(e, "path"));
    s->err.offset = get_i(e, "offset");
    s->err.line = get_i(e, "line");
    s->err.record = get_i(e, "record");
    s->err.column = (int32_t)get_i(e, "column");
    copy_str(s->err.column_name, sizeof s->err.column_name, get_s(e, "column_name"));
    copy_str(s->err.value, sizeof s->err.value, get_s(e, "value"));
    copy_str(s->err.message, sizeof s->err.message, get_s(e, "message"));
    /* partitioned: the run's part files (their list is read at commit) */
    cav_split_free_pfiles(s, NULL);
    json_t *pj = json_object_get(r, "parts");
    const char *pb = get_s(pj, "base");
    int64_t npf = get_i(pj, "files");
    if (pj && (!pb || strchr(pb, '/') || strncmp(pb, "p.", 2) || npf <= 0 || !j->n_parts)) {
        json_decref(r);
        return cav_err(err, CSVAVRO_E_USAGE, "malformed csvavro split result (parts)");
    }
    if (pb) {
        cav_free(s->pf_base);
        s->pf_base = cav_path_join(j->tmp_dir, pb);
        s->n_pfiles = (uint64_t)npf;
        if (!s->pf_base) {
            json_decref(r);
            return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        }
    }
    json_decref(r);
    /* the names the worker used (exec_run.c names a split's files so) */
    char nm[64];
    if (!s->tmp_name) {
        snprintf(nm, sizeof nm, "split.%zu.avro", (size_t)i);
        s->tmp_name = cav_path_join(j->tmp_dir, nm);
    }
    if (s->has_rejects && !s->rej_name) {
        snprintf(nm, sizeof nm, "rejects.%zu", (size_t)i);
        s->rej_name = cav_path_join(j->tmp_dir, nm);
    }
    if (!s->tmp_name || (s->has_rejects && !s->rej_name))
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    /* as in the pool: a data error of a speculative split (or under --limit) is judged at
     * verification; any other failure fails the job now */
    bool deferred = cav_job_data_error(s->st) && (!s->first || j->o.limit != UINT64_MAX);
    if (s->st == CSVAVRO_OK || deferred) return CSVAVRO_OK;
    if (err) *err = s->err;
    cav_err_prefix(err, "split %zu", (size_t)i);
    return s->st;
}

csvavro_status csvavro_job_finish(csvavro_job *j, csvavro_job_stats *stats, csvavro_error *err) {
    if (stats) memset(stats, 0, sizeof *stats);
    if (err) csvavro_error_clear(err);
    CAV_RETURN_IF(!j->parts_driver || j->committed, err, CSVAVRO_E_USAGE,
                  "only a begun, unfinished job can be finished");
    csvavro_status st = cav_job_settle_here(j, err);
    st = cav_job_conclude(j, st, stats, err);
    if (!j->committed) j->parts_driver = false; /* concluded: already discarded */
    return st;
}
