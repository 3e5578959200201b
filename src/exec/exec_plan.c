/*
 * exec_plan.c — job options, creation and planning, plan inspection.
 *
 * Planning order: open every input's backend and expand it (file, directory in name order,
 * glob in the last component), read each header once, take the schema (given JSON, or
 * inferred from the inputs), apply select/exclude/rename, compile the filter, cut the splits
 * (HDFS block boundaries first, then split_size pieces), name the outputs and check the
 * destination. Nothing is written here.
 */
#include "exec.h"

#include "../io/io.h"

#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void csvavro_job_options_init(csvavro_job_options *o) {
    memset(o, 0, sizeof *o);
    csvavro_csv_options_init(&o->csv);
    csvavro_avro_options_init(&o->avro);
    o->limit = UINT64_MAX;
    o->split_size = CAV_JOB_DEFAULT_SPLIT;
    o->batch_rows = CAV_JOB_DEFAULT_BATCH;
    o->read_buffer = CAV_JOB_DEFAULT_BUFFER;
    o->stale_hours = 24;
    o->progress = CSVAVRO_PROGRESS_NONE;
    o->progress_interval_ms = 0;
}

bool cav_job_cancelled(const csvavro_job *job) {
    return job->o.cancel && *job->o.cancel;
}

bool cav_job_data_error(csvavro_status st) {
    return st == CSVAVRO_E_CSV || st == CSVAVRO_E_VALUE || st == CSVAVRO_E_LIMIT ||
           st == CSVAVRO_E_ENCODING;
}

char *cav_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = cav_malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

csvavro_status csvavro_job_create(const csvavro_job_options *o, csvavro_job **out,
                                  csvavro_error *err) {
    *out = NULL;
    CAV_RETURN_IF(!o->inputs || o->n_inputs == 0, err, CSVAVRO_E_USAGE, "no input given");
    for (size_t i = 0; i < o->n_inputs; i++)
        CAV_RETURN_IF(!o->inputs[i] || !*o->inputs[i], err, CSVAVRO_E_USAGE, "empty input name");
    CAV_RETURN_IF(!o->output || !*o->output, err, CSVAVRO_E_USAGE, "no output given");
    CAV_RETURN_IF(o->split_size == 0, err, CSVAVRO_E_USAGE, "split size must be at least 1 byte");
    CAV_RETURN_IF(o->threads < 0 || o->threads > 4096, err, CSVAVRO_E_USAGE,
                  "threads must be 0 (all cores) .. 4096, not %d", o->threads);
    CAV_RETURN_IF(o->batch_rows == 0 || o->batch_rows > (1u << 22), err, CSVAVRO_E_USAGE,
                  "batch rows must be 1 .. 4194304");
    /* rejected records must go somewhere: never drop them silently */
    CAV_RETURN_IF(o->csv.on_error == CSVAVRO_ON_ERROR_REJECT &&
                      (!o->csv.reject_file || !*o->csv.reject_file),
                  err, CSVAVRO_E_USAGE,
                  "--on-error reject needs --reject-file PATH (or --on-error skip to drop bad "
                  "records)");
    CAV_RETURN_IF(o->csv.union_by_name && (!o->csv.header || o->csv.n_names), err, CSVAVRO_E_USAGE,
                  "--union-by-name matches columns by their header names: not with --no-header "
                  "or --names");
    CAV_RETURN_IF((unsigned)o->mode > CSVAVRO_MODE_IGNORE, err, CSVAVRO_E_USAGE,
                  "unknown output mode %d", (int)o->mode);
    CAV_RETURN_IF(o->overwrite && o->mode != CSVAVRO_MODE_ERROR &&
                      o->mode != CSVAVRO_MODE_OVERWRITE,
                  err, CSVAVRO_E_USAGE, "--overwrite contradicts the output mode");
    csvavro_job *j = cav_calloc(1, sizeof *j);
    if (!j) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    j->o = *o;
    pthread_mutex_init(&j->single_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->single_cv, &ca);
    pthread_condattr_destroy(&ca);
    j->mode = o->overwrite ? CSVAVRO_MODE_OVERWRITE : (int)o->mode;
    if (!j->o.read_buffer) j->o.read_buffer = CAV_JOB_DEFAULT_BUFFER;
    if (j->o.progress_interval_ms <= 0)
        j->o.progress_interval_ms = j->o.progress == CSVAVRO_PROGRESS_BAR ? 200 : 1000;
    *out = j;
    return CSVAVRO_OK;
}

void csvavro_job_free(csvavro_job *j) {
    if (!j) return;
    if (j->parts_driver && !j->committed) cav_job_discard(j);
    cav_single_free(j);
    pthread_mutex_destroy(&j->single_mu);
    pthread_cond_destroy(&j->single_cv);
    for (size_t i = 0; i < j->n_inputs; i++) {
        cav_input *in = &j->inputs[i];
        cav_free(in->spec);
        cav_free(in->display);
        cav_free(in->path);
        cav_csv_header_free(&in->h);
        cav_free(in->blocks);
        cav_free(in->map);
        cav_chunk_cuts_free(&in->cuts);
    }
    cav_free(j->inputs);
    for (size_t i = 0; i < j->n_splits; i++) {
        cav_free(j->splits[i].final_name);
        cav_free(j->splits[i].final_display);
        cav_free(j->splits[i].tmp_name);
        cav_free(j->splits[i].rej_name);
        cav_split_free_pfiles(&j->splits[i], NULL);
        cav_free(j->splits[i].pf_base);
    }
    cav_job_free_partitions(j);
    cav_free(j->splits);
    csvavro_schema_free(j->full);
    csvavro_schema_free(j->out_schema);
    cav_free(j->col_map);
    cav_filter_free(j->filter);
    cav_free(j->out_dir);
    cav_free(j->pat_prefix);
    cav_free(j->pat_suffix);
    cav_free(j->single_name);
    cav_free(j->tmp_dir);
    cav_free(j->success_name);
    cav_free(j->job_id);
    cav_free(j->tmp_base);
    cav_free(j->rej_tmp);
    json_decref(j->prev);
    cav_free(j->notes);
    cav_avro_free_defaults(j->def_json, j->n_def_json);
    for (size_t i = 0; i < j->n_defs; i++)
        cav_free(j->def_store[i]);
    cav_free(j->def_store);
    cav_free(j->defs);
    cav_free(j->mapping);
    for (size_t i = 0; i < j->n_fss; i++)
        csvavro_fs_close(j->fss[i]);
    cav_free(j->fss);
    cav_free(j);
}

/* ------------------------------------------------------------------ inputs */

csvavro_status cav_job_add_fs(csvavro_job *j, csvavro_fs *fs, csvavro_error *err) {
    csvavro_fs **n = cav_realloc(j->fss, (j->n_fss + 1) * sizeof *n);
    if (!n) {
        csvavro_fs_close(fs);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    j->fss = n;
    j->fss[j->n_fss++] = fs;
    return CSVAVRO_OK;
}

static csvavro_status add_input(csvavro_job *j, const char *spec, csvavro_fs *fs, const char *path,
                                int64_t size, csvavro_error *err) {
    cav_input *n = cav_realloc(j->inputs, (j->n_inputs + 1) * sizeof *n);
    if (!n) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    j->inputs = n;
    cav_input *in = &j->inputs[j->n_inputs];
    memset(in, 0, sizeof *in);
    in->fs = fs;
    in->size = size;
    in->spec = cav_strdup(spec);
    in->path = cav_strdup(path);
    in->display =
        strcmp(csvavro_fs_scheme(fs), "file") ? csvavro_fs_url(fs, path) : cav_strdup(path);
    if (!in->spec || !in->path || !in->display) {
        cav_free(in->spec);
        cav_free(in->path);
        cav_free(in->display);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    j->n_inputs++;
    return CSVAVRO_OK;
}

static bool has_glob(const char *s) {
    return strpbrk(s, "*?[") != NULL;
}

static bool listed_name_ok(const csvavro_dirent *d) {
    return !d->st.is_dir && d->name[0] != '.' && d->name[0] != '_';
}

static csvavro_status expand_input(csvavro_job *j, const char *spec, csvavro_error *err) {
    csvavro_fs *fs = NULL;
    char *path = NULL;
    CAV_TRY(csvavro_fs_open_url(spec, &fs, &path, err));
    csvavro_status st = cav_job_add_fs(j, fs, err);
    if (st != CSVAVRO_OK) {
        cav_free(path);
        return st;
    }
    csvavro_stat sb;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (has_glob(base)) {
        char *dir = slash ? cav_strndup(path, (size_t)(slash - path)) : cav_strdup(".");
        if (dir && !*dir) {
            cav_free(dir);
            dir = cav_strdup("/");
        }
        if (!dir) {
            cav_free(path);
            return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        }
        csvavro_dirent *list = NULL;
        size_t n = 0, matched = 0;
        st = csvavro_fs_list(fs, dir, &list, &n, err);
        for (size_t i = 0; st == CSVAVRO_OK && i < n; i++) {
            if (list[i].st.is_dir || fnmatch(base, list[i].name, FNM_PERIOD) != 0) continue;
            char *p = cav_path_join(slash ? dir : "", list[i].name);
            if (!p) {
                st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                break;
            }
            st = add_input(j, spec, fs, p, list[i].st.size, err);
            cav_free(p);
            matched++;
        }
        csvavro_fs_free_list(list, n);
        cav_free(dir);
        if (st == CSVAVRO_OK && matched == 0) {
            cav_err_path(err, spec);
            st = cav_err(err, CSVAVRO_E_NOT_FOUND, "no file matches the pattern");
        }
        cav_free(path);
        return st;
    }
    if (cav_input_is_stream(fs, path)) { /* stdin, a pipe: read once, as one split */
        st = add_input(j, spec, fs, path, CAV_SIZE_UNKNOWN, err);
        if (st == CSVAVRO_OK && !strcmp(path, "-")) {
            cav_input *in = &j->inputs[j->n_inputs - 1];
            cav_free(in->display);
            in->display = cav_strdup("stdin");
            if (!in->display) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        }
        cav_free(path);
        return st;
    }
    st = csvavro_fs_stat(fs, path, &sb, err);
    if (st != CSVAVRO_OK) {
        cav_err_path(err, spec);
        if (st == CSVAVRO_E_NOT_FOUND && slash && has_glob(path) && !has_glob(base))
            cav_err(err, st,
                    "input does not exist (a glob such as '*' is expanded in the last path "
                    "component only, e.g. 'data/trip_*.csv'; give each directory instead)");
        else if (st == CSVAVRO_E_NOT_FOUND)
            cav_err(err, st, "input does not exist");
        cav_free(path);
        return st;
    }
    if (!sb.is_dir) {
        st = add_input(j, spec, fs, path, sb.size, err);
        cav_free(path);
        return st;
    }
    csvavro_dirent *list = NULL;
    size_t n = 0, matched = 0, subdirs = 0;
    st = csvavro_fs_list(fs, path, &list, &n, err);
    for (size_t i = 0; st == CSVAVRO_OK && i < n; i++) {
        if (list[i].st.is_dir && list[i].name[0] != '.' && list[i].name[0] != '_') subdirs++;
        if (!listed_name_ok(&list[i])) continue;
        char *p = cav_path_join(path, list[i].name);
        if (!p) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            break;
        }
        st = add_input(j, spec, fs, p, list[i].st.size, err);
        cav_free(p);
        matched++;
    }
    csvavro_fs_free_list(list, n);
    if (st == CSVAVRO_OK && matched == 0) {
        cav_err_path(err, spec);
        if (subdirs)
            st = cav_err(err, CSVAVRO_E_NOT_FOUND,
                         "input directory holds no files, only %zu subdirector%s: a directory "
                         "input reads the files directly in it, not in its subdirectories (give "
                         "them as inputs, or a glob in the last component: 'DIR/SUB/*.csv')",
                         subdirs, subdirs == 1 ? "y" : "ies");
        else
            st = cav_err(err, CSVAVRO_E_NOT_FOUND, "input directory holds no files");
    }
    cav_free(path);
    return st;
}

static csvavro_status read_headers(csvavro_job *j, csvavro_error *err) {
    for (size_t i = 0; i < j->n_inputs; i++) {
        cav_input *in = &j->inputs[i];
        csvavro_file *f = NULL;
        CAV_TRY(
            cav_input_open(in->fs, in->path, j->o.csv.compression, j->o.csv.zip_entry, &f, err));
        in->size = csvavro_file_size(f);
        in->sequential = f->sequential;
        in->codec = f->codec;
        csvavro_status st = cav_csv_read_header(f, &j->o.csv, &in->h, err);
        csvavro_error e2;
        csvavro_file_close(f, &e2);
        if (st != CSVAVRO_OK) {
            if (err && !err->path[0]) cav_err_path(err, in->display);
            return st;
        }
        bool stream = cav_input_is_stream(in->fs, in->path);
        if (!stream &&
            (in->codec == CSVAVRO_COMPRESSION_BZIP2 || in->codec == CSVAVRO_COMPRESSION_ZSTD)) {
            /* exact splits at bzip2 blocks / zstd frames when there are several ranges */
            int64_t ss = (int64_t)CAV_MIN(j->o.split_size, (uint64_t)INT64_MAX / 4);
            st = cav_chunks_cut(in->fs, in->path, in->display, (csvavro_compression)in->codec, ss,
                                j->o.dry_run != 0, &in->cuts, err);
            if (st != CSVAVRO_OK) return st;
            if (in->cuts.n > 1 && in->h.data_start < CAV_VPOS_MASK)
                in->chunked = true;
            else
                cav_chunk_cuts_free(&in->cuts);
        }
        if (strcmp(csvavro_fs_scheme(in->fs), "file") != 0 && in->size > 0 && !in->sequential) {
            st = csvavro_fs_blocks(in->fs, in->path, &in->blocks, &in->n_blocks, err);
            if (st != CSVAVRO_OK) return st;
        }
    }
    size_t first = SIZE_MAX, n_empty = 0;
    for (size_t i = 0; i < j->n_inputs; i++)
        if (j->inputs[i].h.trailing_empty) {
            if (first == SIZE_MAX) first = i;
            n_empty++;
        }
    if (n_empty) {
        char note[1200];
        snprintf(note, sizeof note,
                 "%s%s: the last header column has no name: dropped (its fields must be empty; "
                 "--keep-empty-columns keeps it)",
                 j->inputs[first].display, n_empty > 1 ? " and others" : "");
        j->notes = cav_strdup(note);
        if (!j->notes) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    return CSVAVRO_OK;
}

const char *csvavro_job_notes(const csvavro_job *j) {
    return j->notes;
}

/* ------------------------------------------------------------------ schema */

static csvavro_status take_schema(csvavro_job *j, csvavro_error *err) {
    const cav_input *ref = NULL;
    for (size_t i = 0; i < j->n_inputs; i++)
        if (j->inputs[i].h.n_cols > 0) {
            ref = &j->inputs[i];
            break;
        }
    if (j->o.schema_json) {
        CAV_TRY(csvavro_schema_from_json(j->o.schema_json, &j->full, err));
    } else {
        if (!ref) {
            cav_err_path(err, j->inputs[0].display);
            return cav_err(err, CSVAVRO_E_CSV,
                           "no header: every input is empty (give --schema to write empty output)");
        }
        /* infer from the inputs on the same backend as the first one with a header */
        const char **paths = cav_calloc(j->n_inputs, sizeof *paths);
        if (!paths) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        size_t n = 0;
        for (size_t i = 0; i < j->n_inputs; i++)
            if (j->inputs[i].h.n_cols > 0 && j->inputs[i].fs == ref->fs)
                paths[n++] = j->inputs[i].path;
        /* with several threads the sample's windows run on two (the same schema) */
        int t = j->o.threads ? j->o.threads : cav_cpu_count();
        csvavro_status st = cav_csv_infer_threads(ref->fs, paths, n, &j->o.csv, t, &j->full, err);
        cav_free(paths);
        CAV_TRY(st);
    }
    /* with header names: --schema fields and the union's columns are matched by name */
    bool names = j->o.csv.header && !j->o.csv.n_names;
    if (names && (j->o.schema_json || j->o.csv.union_by_name)) return cav_job_map_inputs(j, err);
    size_t nf = csvavro_schema_field_count(j->full);
    for (size_t i = 0; i < j->n_inputs; i++) {
        const cav_input *in = &j->inputs[i];
        if (in->h.n_cols == 0) continue;
        if (names && ref && in != ref)
            CAV_TRY(cav_csv_header_diff(&ref->h, ref->display, &in->h, in->display, err));
        if (in->h.n_cols != nf) {
            cav_err_path(err, in->display);
            return cav_err(err, j->o.schema_json ? CSVAVRO_E_SCHEMA : CSVAVRO_E_CSV,
                           "input has %u columns, the schema has %zu", in->h.n_cols, nf);
        }
    }
    return CSVAVRO_OK;
}

static long find_col(const csvavro_schema *s, const char *name) {
    return csvavro_schema_find(s, name);
}

/* Builds out_schema and col_map from select/exclude/rename. */
csvavro_status cav_job_project(csvavro_job *j, csvavro_error *err) {
    const csvavro_schema *s = j->full;
    size_t nf = csvavro_schema_field_count(s);
    uint32_t *cols = cav_calloc(nf ? nf : 1, sizeof *cols);
    char *used = cav_calloc(nf ? nf : 1, 1);
    size_t n = 0;
    csvavro_status st = CSVAVRO_OK;
    if (!cols || !used) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    if (j->o.n_select) {
        for (size_t i = 0; i < j->o.n_select; i++) {
            long c = find_col(s, j->o.select[i]);
            if (c < 0) {
                const char *sg = cav_schema_suggest(s, j->o.select[i]);
                st = sg ? cav_err(err, CSVAVRO_E_SCHEMA,
                                  "--select: unknown column \"%s\" (did you mean \"%s\"?)",
                                  j->o.select[i], sg)
                        : cav_err(err, CSVAVRO_E_SCHEMA, "--select: unknown column \"%s\"",
                                  j->o.select[i]);
                goto done;
            }
            if (used[c]) {
                st = cav_err(err, CSVAVRO_E_SCHEMA, "--select: column \"%s\" given twice",
                             j->o.select[i]);
                goto done;
            }
            used[c] = 1;
            cols[n++] = (uint32_t)c;
        }
    } else {
        for (size_t i = 0; i < nf; i++)
            cols[n++] = (uint32_t)i;
    }
    for (size_t i = 0; i < j->o.n_exclude; i++) {
        long c = find_col(s, j->o.exclude[i]);
        if (c < 0) {
            const char *sg = cav_schema_suggest(s, j->o.exclude[i]);
            st = sg ? cav_err(err, CSVAVRO_E_SCHEMA,
                              "--exclude: unknown column \"%s\" (did you mean \"%s\"?)",
                              j->o.exclude[i], sg)
                    : cav_err(err, CSVAVRO_E_SCHEMA, "--exclude: unknown column \"%s\"",
                              j->o.exclude[i]);
            goto done;
        }
        size_t k = 0;
        for (size_t m = 0; m < n; m++)
            if (cols[m] != (uint32_t)c) cols[k++] = cols[m];
        n = k;
    }
    if (n == 0) {
        st = cav_err(err, CSVAVRO_E_SCHEMA, "no output column left after --select/--exclude");
        goto done;
    }
    st = csvavro_schema_create(csvavro_schema_record_name(s), csvavro_schema_namespace(s),
                               &j->out_schema, err);
    if (st != CSVAVRO_OK) goto done;
    for (size_t i = 0; i < n && st == CSVAVRO_OK; i++) {
        const char *name = csvavro_schema_field_name(s, cols[i]);
        for (size_t r = 0; r < j->o.n_rename; r++) {
            const char *eq = strchr(j->o.rename[r], '=');
            if (!eq || eq == j->o.rename[r] || !eq[1]) {
                st = cav_err(err, CSVAVRO_E_USAGE, "--rename wants OLD=NEW, not \"%s\"",
                             j->o.rename[r]);
                goto done;
            }
            char old[256];
            snprintf(old, sizeof old, "%.*s", (int)(eq - j->o.rename[r]), j->o.rename[r]);
            if (cav_schema_field_matches(s, cols[i], old)) name = eq + 1;
        }
        st = csvavro_schema_add_field(
            j->out_schema, name, csvavro_schema_field_original(s, cols[i]),
            csvavro_schema_field_type(s, cols[i]), csvavro_schema_field_nullable(s, cols[i]), err);
        if (st == CSVAVRO_OK)
            st = cav_schema_copy_decimal(
                j->out_schema, csvavro_schema_field_count(j->out_schema) - 1, s, cols[i], err);
        if (st != CSVAVRO_OK) cav_err_prefix(err, "output column \"%s\"", name);
    }
    if (st != CSVAVRO_OK) goto done;
    for (size_t r = 0; r < j->o.n_rename; r++) {
        const char *eq = strchr(j->o.rename[r], '=');
        char old[256];
        snprintf(old, sizeof old, "%.*s", (int)(eq - j->o.rename[r]), j->o.rename[r]);
        bool hit = false;
        for (size_t i = 0; i < n && !hit; i++)
            hit = cav_schema_field_matches(s, cols[i], old);
        if (!hit) {
            const char *sg = cav_schema_suggest(s, old);
            st = sg ? cav_err(err, CSVAVRO_E_SCHEMA,
                              "--rename: no output column \"%s\" (did you mean \"%s\"?)", old, sg)
                    : cav_err(err, CSVAVRO_E_SCHEMA, "--rename: no output column \"%s\"", old);
            goto done;
        }
    }
    j->col_map = cols;
    cols = NULL;
done:
    cav_free(cols);
    cav_free(used);
    return st;
}

/* ------------------------------------------------------------------ splits and outputs */

static csvavro_status push_split(csvavro_job *j, size_t *cap, size_t input, int64_t a, int64_t b,
                                 const csvavro_block *blk, bool first, csvavro_error *err) {
    if (j->n_splits == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        cav_split *n = cav_realloc(j->splits, nc * sizeof *n);
        if (!n) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        j->splits = n;
        *cap = nc;
    }
    cav_split *s = &j->splits[j->n_splits++];
    memset(s, 0, sizeof *s);
    s->input = input;
    s->start = a;
    s->end = b;
    s->blk = blk;
    s->first = first;
    s->own_len = -1;
    return CSVAVRO_OK;
}

/* The split size for a byte range of len bytes cut in pieces of at most ss. With the default
 * split size and several threads, the piece count is rounded up to a multiple of the threads
 * (pieces of at least BALANCE_MIN bytes) so that the threads finish together: a 200 MB file
 * in 64 MiB pieces is 64+64+64+8 MB, and two threads do 128 and 72 of it (at best 1.56x one
 * thread); in four 50 MB pieces they do 100 each. */
#define BALANCE_MIN ((int64_t)8 << 20)
static int64_t piece_size(const csvavro_job *j, int64_t len, int64_t ss, int threads) {
    if (threads < 2 || j->o.split_size != CAV_JOB_DEFAULT_SPLIT || len <= 0) return ss;
    int64_t n = (len + ss - 1) / ss;
    int64_t m = (n + threads - 1) / threads * threads;
    if (m == n || len / m < BALANCE_MIN) return ss;
    return (len + m - 1) / m;
}

/* A single output with several threads and the default split size: splits small enough that
 * the ones running ahead of the split being written keep their blocks in the reorder buffer
 * (exec_single.c) rather than in a split file that is copied later. A local file's splits are
 * a thirty-second of the buffer per other thread, 2 to 64 MiB (2 MiB at -j2 with the default
 * 64 MiB buffer): the worker running ahead then holds a few MiB, still in the cache when it is
 * written, in a buffer that peaks at about 8 MiB of fresh memory instead of 20-27 (200 MB at
 * -j2: 0.92x the wall time of 8 MiB splits, 0.94x the CPU, in 11 interleaved pairs; -j1 with
 * 1 MiB splits against 64 MiB: equal within noise, a split costs no measurable CPU). A split
 * of a remote input costs a DataNode connection: those keep an eighth of the buffer per other
 * thread, 4 to 64 MiB (8 MiB at -j2). Smaller splits also shorten the tail where one thread
 * finishes its last split alone. */
#define SINGLE_PIECE_MIN ((uint64_t)2 << 20)
#define SINGLE_PIECE_MIN_REMOTE ((uint64_t)4 << 20)
static int64_t split_size_for(const csvavro_job *j, int threads, bool remote) {
    uint64_t ss = CAV_MIN(j->o.split_size, (uint64_t)INT64_MAX / 4);
    if (threads < 2 || j->form != CAV_OUT_SINGLE || j->o.split_size != CAV_JOB_DEFAULT_SPLIT)
        return (int64_t)ss;
    uint64_t piece = cav_job_reorder_buffer(j) / (remote ? 8 : 32) / (uint64_t)(threads - 1);
    return (int64_t)CAV_MIN(ss,
                            CAV_MAX(piece, remote ? SINGLE_PIECE_MIN_REMOTE : SINGLE_PIECE_MIN));
}

/* The tail of a single-output job of several threads (the default split size): the last
 * splits of the job shrink, each a 1/(2 x threads) share of what is left of the input's range
 * down to TAIL_MIN (at -j2: 8 MiB, 6, 4.5, 3.4, 2.5, 1.9, 1.4, 1.1, 1, 1, ... for a remote
 * input's 8 MiB splits; 2, 1.9, 1.4, 1.1, 1, 1 for a local file's 2 MiB ones), so that the
 * workers, which take splits in order, end within about a TAIL_MIN split of each other
 * instead of one running a whole split alone at the end (4-12 ms of a 160 ms -j2 job at
 * 200 MB with 8 MiB splits, half a split on average). A split costs ~0.1 ms (bench/RESULTS.md,
 * issue 17, session 4). Only the job's last range is cut so: its end is the job's end. */
#define TAIL_MIN ((int64_t)1 << 20)
static bool guided_tail(const csvavro_job *j, int threads) {
    return threads >= 2 && j->form == CAV_OUT_SINGLE && j->o.split_size == CAV_JOB_DEFAULT_SPLIT;
}

/* The end of the split starting at p of the range [p, e) cut in pieces of ss, guided when
 * `guided`. */
static int64_t piece_end(int64_t p, int64_t e, int64_t ss, bool guided, int threads) {
    int64_t step = ss;
    if (guided) {
        int64_t share = (e - p) / (2 * (int64_t)threads);
        if (share < step) step = CAV_MAX(share, TAIL_MIN);
    }
    if (e - p <= step) return e;
    if (guided && e - (p + step) < TAIL_MIN / 2) return e; /* no crumb of a split at the end */
    return p + step;
}

static csvavro_status cut_splits(csvavro_job *j, int threads, csvavro_error *err) {
    size_t cap = 0;
    for (size_t i = 0; i < j->n_inputs; i++) {
        cav_input *in = &j->inputs[i];
        if (in->h.n_cols == 0) continue; /* empty input: no records, no split */
        int64_t ds = in->h.data_start, size = in->size;
        if (ds > size) ds = size;
        if (in->chunked) { /* bzip2 blocks / zstd frames: a split per range of cuts */
            in->first_split = j->n_splits;
            for (size_t k = 0; k < in->cuts.n; k++) {
                int64_t e = k + 1 < in->cuts.n ? in->cuts.start[k + 1] : in->cuts.csize;
                CAV_TRY(push_split(j, &cap, i, in->cuts.start[k], e, NULL, k == 0, err));
            }
            CAV_RETURN_IF(j->n_splits >= ((size_t)1 << (62 - CAV_VPOS_BITS)), err, CSVAVRO_E_USAGE,
                          "too many splits (%zu): give a larger --split-size", j->n_splits);
            continue;
        }
        if (in->sequential) { /* decoded or streamed: one split, read to its end */
            CAV_TRY(push_split(j, &cap, i, ds, size, NULL, true, err));
            continue;
        }
        if (ds == size) {
            CAV_TRY(push_split(j, &cap, i, ds, size, NULL, true, err));
            continue;
        }
        bool first = true;
        size_t nb = in->n_blocks > 1 ? in->n_blocks : 1;
        bool remote = in->n_blocks > 1 || (in->n_blocks == 1 && in->blocks[0].n_hosts > 0);
        const int64_t ss0 = split_size_for(j, threads, remote);
        /* the job's last input with data ends the job: its last range gets the guided tail */
        bool last = guided_tail(j, threads);
        for (size_t k = i + 1; k < j->n_inputs && last; k++)
            last = j->inputs[k].h.n_cols == 0 || j->inputs[k].h.data_start >= j->inputs[k].size;
        /* a file without blocks (local): pieces balanced over the threads (unless guided) */
        const int64_t ss = nb == 1 && !last ? piece_size(j, size - ds, ss0, threads) : ss0;
        for (size_t b = 0; b < nb; b++) {
            int64_t a = ds, e = size;
            const csvavro_block *blk = NULL;
            if (remote) {
                blk = &in->blocks[b];
                a = CAV_MAX(ds, blk->offset);
                e = CAV_MIN(size, blk->offset + blk->length);
                if (b == nb - 1) e = size;
                if (a >= e) continue;
            }
            for (int64_t p = a, q; p < e; p = q) {
                q = piece_end(p, e, ss, last && b == nb - 1, threads);
                CAV_TRY(push_split(j, &cap, i, p, q, blk, first, err));
                first = false;
            }
        }
    }
    return CSVAVRO_OK;
}

int64_t cav_split_first_start(const csvavro_job *j, size_t si) {
    const cav_split *s = &j->splits[si];
    const cav_input *in = &j->inputs[s->input];
    if (in->chunked) /* speculative: after the first line end in the own bytes */
        return (int64_t)si << CAV_VPOS_BITS | (s->first ? in->h.data_start : 1);
    int64_t start = s->first ? in->h.data_start : s->start;
    if (start > s->end && s->first) start = s->end;
    return start;
}

csvavro_status cav_job_chunk_cuts_from_splits(csvavro_job *j, csvavro_error *err) {
    for (size_t i = 0; i < j->n_inputs; i++) {
        cav_input *in = &j->inputs[i];
        if (!in->chunked) continue;
        size_t n = 0, first = SIZE_MAX;
        for (size_t k = 0; k < j->n_splits; k++)
            if (j->splits[k].input == i) {
                if (first == SIZE_MAX) first = k;
                n++;
            }
        CAV_RETURN_IF(n == 0, err, CSVAVRO_E_INTERNAL, "chunked input without splits");
        in->cuts.codec = (csvavro_compression)in->codec;
        in->cuts.start = cav_malloc(n * sizeof *in->cuts.start);
        if (!in->cuts.start) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (size_t k = 0; k < n; k++)
            in->cuts.start[k] = j->splits[first + k].start;
        in->cuts.n = n;
        in->cuts.csize = j->splits[first + n - 1].end;
        in->first_split = first;
    }
    return CSVAVRO_OK;
}

char *cav_job_out_display(const csvavro_job *j, const char *path) {
    if (!strcmp(csvavro_fs_scheme(j->out_fs), "file")) return cav_strdup(path);
    char *u = csvavro_fs_url(j->out_fs, path);
    char *r = u ? cav_strdup(u) : NULL;
    cav_free(u);
    return r;
}

static bool has_star(const char *s) {
    return strchr(s, '*') != NULL;
}

char *cav_job_output_name(const csvavro_job *j, size_t i) {
    if (j->form == CAV_OUT_SINGLE) return cav_strdup(j->single_name);
    char num[48];
    const char *tag = j->mode == CSVAVRO_MODE_APPEND ? j->file_tag : "";
    if (j->form == CAV_OUT_DIR)
        snprintf(num, sizeof num, "%05zu%s%s", i, *tag ? "-" : "", tag);
    else
        snprintf(num, sizeof num, "%zu%s%s", i, *tag ? "-" : "", tag);
    size_t a = strlen(j->pat_prefix), b = strlen(num), c = strlen(j->pat_suffix);
    char *base = cav_malloc(a + b + c + 1);
    if (!base) return NULL;
    memcpy(base, j->pat_prefix, a);
    memcpy(base + a, num, b);
    memcpy(base + a + b, j->pat_suffix, c + 1);
    char *p = cav_path_join(j->out_dir, base);
    cav_free(base);
    return p;
}

bool cav_job_name_matches(const csvavro_job *j, const char *name) {
    if (j->form == CAV_OUT_SINGLE) return false;
    size_t a = strlen(j->pat_prefix), c = strlen(j->pat_suffix), n = strlen(name);
    if (n < a + c + 1 || memcmp(name, j->pat_prefix, a) || memcmp(name + n - c, j->pat_suffix, c))
        return false;
    /* DIGITS, or DIGITS-TAG with the 12 hex digits of an appending job */
    size_t k = a, e = n - c;
    while (k < e && name[k] >= '0' && name[k] <= '9')
        k++;
    if (k == a) return false;
    if (k == e) return true;
    if (name[k] != '-' || e - k != 13) return false;
    for (k++; k < e; k++)
        if (!((name[k] >= '0' && name[k] <= '9') || (name[k] >= 'a' && name[k] <= 'f')))
            return false;
    return true;
}

static csvavro_status check_destination(csvavro_job *j, csvavro_error *err);

static csvavro_status plan_output(csvavro_job *j, csvavro_error *err) {
    if (j->mode == CSVAVRO_MODE_APPEND) {
        uint8_t r[6];
        CAV_TRY(cav_random_bytes(r, sizeof r, err));
        snprintf(j->file_tag, sizeof j->file_tag, "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
                 r[3], r[4], r[5]);
    }
    char *path = NULL;
    csvavro_fs *fs = NULL;
    j->to_stdout = !strcmp(j->o.output, "-");
    CAV_TRY(csvavro_fs_open_url(j->o.output, &fs, &path, err));
    csvavro_status st = cav_job_add_fs(j, fs, err);
    if (st != CSVAVRO_OK) {
        cav_free(path);
        return st;
    }
    j->out_fs = fs;
    size_t len = strlen(path);
    csvavro_stat sb;
    bool is_dir = len > 1 && path[len - 1] == '/';
    if (!is_dir && !has_star(path) && csvavro_fs_stat(fs, path, &sb, NULL) == CSVAVRO_OK &&
        sb.is_dir)
        is_dir = true;
    if (is_dir) {
        while (len > 1 && path[len - 1] == '/')
            path[--len] = '\0';
        j->form = CAV_OUT_DIR;
        j->out_dir = path;
        j->pat_prefix = cav_strdup("part-");
        j->pat_suffix = cav_strdup(".avro");
    } else {
        char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        if (has_star(slash ? slash : path) && !has_star(base))
            return cav_err(err, CSVAVRO_E_USAGE, "output: '*' only in the file name part");
        if (!*base) return cav_err(err, CSVAVRO_E_USAGE, "output has no file name");
        char *dir = slash ? cav_strndup(path, (size_t)(slash - path)) : cav_strdup(".");
        if (dir && !*dir) {
            cav_free(dir);
            dir = cav_strdup("/");
        }
        if (!dir) {
            cav_free(path);
            return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        }
        j->out_dir = dir;
        if (has_star(base)) {
            const char *star = strchr(base, '*');
            if (strchr(star + 1, '*')) {
                cav_free(path);
                return cav_err(err, CSVAVRO_E_USAGE, "output pattern has more than one '*'");
            }
            j->form = CAV_OUT_PATTERN;
            j->pat_prefix = cav_strndup(base, (size_t)(star - base));
            j->pat_suffix = cav_strdup(star + 1);
        } else {
            j->form = CAV_OUT_SINGLE;
            j->single_name = cav_strdup(path);
        }
        cav_free(path);
    }
    if (j->to_stdout) { /* "-": built in a temporary directory, then copied to stdout */
        const char *t = getenv("TMPDIR");
        cav_free(j->out_dir);
        j->out_dir = cav_strdup(t && *t ? t : "/tmp");
        if (!j->out_dir) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    if ((j->form != CAV_OUT_SINGLE && (!j->pat_prefix || !j->pat_suffix)) ||
        (j->form == CAV_OUT_SINGLE && !j->single_name))
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    j->success_name = cav_path_join(j->out_dir, "_SUCCESS");
    if (!j->success_name) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    return CSVAVRO_OK;
}

/* After the splits are cut: their output names, partitions, the destination check. */
static csvavro_status name_outputs(csvavro_job *j, csvavro_error *err) {
    for (size_t i = 0; i < j->n_splits; i++) {
        j->splits[i].final_name = cav_job_output_name(j, i);
        if (!j->splits[i].final_name) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        j->splits[i].final_display = cav_job_out_display(j, j->splits[i].final_name);
        if (!j->splits[i].final_display) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    CAV_TRY(cav_job_plan_partitions(j, err));
    if (j->n_parts) { /* the splits' output: the layout rule */
        const char *lay = csvavro_job_partition_layout(j);
        if (!lay) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (size_t i = 0; i < j->n_splits; i++) {
            char *d = cav_job_out_display(j, lay);
            if (!d) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            cav_free(j->splits[i].final_display);
            j->splits[i].final_display = d;
        }
    }
    /* destination check (again under the commit lock at commit) */
    return check_destination(j, err);
}

static csvavro_status exists_error(csvavro_job *j, const char *what, csvavro_error *err) {
    cav_err_path(err, what);
    return cav_err(err, CSVAVRO_E_EXISTS,
                   j->form == CAV_OUT_SINGLE
                       ? "output exists (--mode overwrite replaces it, --mode ignore skips the job)"
                       : "output exists: the directory holds a dataset or files of this pattern "
                         "(--mode append adds to it, --mode overwrite replaces it, --mode "
                         "ignore skips the job)");
}

csvavro_status cav_job_check_destination(csvavro_job *j, csvavro_error *err) {
    return check_destination(j, err);
}

static csvavro_status check_destination(csvavro_job *j, csvavro_error *err) {
    csvavro_fs *fs = j->out_fs;
    csvavro_stat sb;
    if (j->form == CAV_OUT_SINGLE) {
        CAV_RETURN_IF(j->mode == CSVAVRO_MODE_APPEND, err, CSVAVRO_E_USAGE,
                      "--mode append needs a dataset (a directory or a pattern with '*'), not "
                      "a single file");
        if (j->to_stdout) return CSVAVRO_OK;
        if (csvavro_fs_stat(fs, j->single_name, &sb, NULL) != CSVAVRO_OK) return CSVAVRO_OK;
        if (j->mode == CSVAVRO_MODE_IGNORE) j->skip = true;
        if (j->mode == CSVAVRO_MODE_ERROR) return exists_error(j, j->o.output, err);
        return CSVAVRO_OK;
    }
    if (!j->o.dry_run && !j->executed) CAV_TRY(cav_ds_settle(fs, j->out_dir, NULL, err));
    json_decref(j->prev);
    j->prev = NULL;
    CAV_TRY(cav_ds_manifest_load(fs, j->out_dir, &j->prev, err));
    if (j->mode == CSVAVRO_MODE_APPEND) {
        if (j->prev) CAV_TRY(cav_ds_check_append(j->prev, j->out_schema, err));
    } else if (j->mode != CSVAVRO_MODE_OVERWRITE) {
        const char *hit = j->prev ? CAV_DS_MANIFEST : NULL;
        csvavro_dirent *list = NULL;
        size_t n = 0;
        if (!hit && csvavro_fs_list(fs, j->out_dir, &list, &n, NULL) == CSVAVRO_OK) {
            for (size_t i = 0; i < n && !hit; i++)
                if (cav_job_name_matches(j, list[i].name) ||
                    (j->form == CAV_OUT_DIR && !strcmp(list[i].name, CAV_DS_MANIFEST)) ||
                    (j->n_parts && list[i].st.is_dir &&
                     !strncmp(list[i].name, j->parts[0].name, strlen(j->parts[0].name)) &&
                     list[i].name[strlen(j->parts[0].name)] == '='))
                    hit = list[i].name;
        }
        char *p = hit ? cav_path_join(j->out_dir, hit) : NULL;
        csvavro_fs_free_list(list, n);
        if (hit && j->mode == CSVAVRO_MODE_IGNORE) j->skip = true;
        csvavro_status st = CSVAVRO_OK;
        if (hit && j->mode == CSVAVRO_MODE_ERROR) st = exists_error(j, p ? p : j->o.output, err);
        cav_free(p);
        return st;
    }
    /* the names this job writes must be cav_free (append: unique; overwrite: replaced) */
    for (size_t i = 0; j->mode == CSVAVRO_MODE_APPEND && i < j->n_splits; i++)
        if (csvavro_fs_stat(fs, j->splits[i].final_name, &sb, NULL) == CSVAVRO_OK)
            return exists_error(j, j->splits[i].final_display, err);
    return CSVAVRO_OK;
}

csvavro_status csvavro_job_plan(csvavro_job *j, csvavro_error *err) {
    if (err) csvavro_error_clear(err);
    CAV_RETURN_IF(j->planned, err, CSVAVRO_E_USAGE, "job already planned");
    j->planned = true;
    for (size_t i = 0; i < j->o.n_inputs; i++)
        CAV_TRY(expand_input(j, j->o.inputs[i], err));
    CAV_TRY(read_headers(j, err));
    CAV_TRY(take_schema(j, err));
    CAV_TRY(cav_job_project(j, err));
    if (j->o.where && *j->o.where) {
        CAV_TRY(cav_filter_compile(j->o.where, j->full, &j->filter, err));
        j->n_where_cols = cav_filter_columns(j->filter, &j->where_cols);
    }
    int t = j->o.threads ? j->o.threads : cav_cpu_count();
    CAV_TRY(plan_output(j, err)); /* the form first: it decides the split size */
    CAV_TRY(cut_splits(j, t, err));
    CAV_TRY(name_outputs(j, err));
    if ((size_t)t > j->n_splits) t = (int)(j->n_splits ? j->n_splits : 1);
    j->threads = t < 1 ? 1 : t;
    return CSVAVRO_OK;
}

/* ------------------------------------------------------------------ inspection */

size_t csvavro_job_input_count(const csvavro_job *j) {
    return j->n_inputs;
}
const char *csvavro_job_input_path(const csvavro_job *j, size_t i) {
    return i < j->n_inputs ? j->inputs[i].display : NULL;
}
int64_t csvavro_job_input_size(const csvavro_job *j, size_t i) {
    if (i >= j->n_inputs || j->inputs[i].size == CAV_SIZE_UNKNOWN) return -1;
    return j->inputs[i].size;
}
const char *csvavro_job_input_codec(const csvavro_job *j, size_t i) {
    if (i >= j->n_inputs) return NULL;
    return csvavro_compression_name(j->inputs[i].codec ? (csvavro_compression)j->inputs[i].codec
                                                       : CSVAVRO_COMPRESSION_NONE);
}
int csvavro_job_input_split_compressed(const csvavro_job *j, size_t i, int64_t *csize) {
    if (i >= j->n_inputs || !j->inputs[i].chunked) return 0;
    if (csize) *csize = j->inputs[i].cuts.csize;
    return 1;
}
size_t csvavro_job_split_count(const csvavro_job *j) {
    return j->n_splits;
}
int csvavro_job_split(const csvavro_job *j, size_t i, csvavro_split_info *out) {
    if (i >= j->n_splits) return -1;
    const cav_split *s = &j->splits[i];
    memset(out, 0, sizeof *out);
    out->input = s->input;
    out->offset = s->start;
    out->length = s->end == CAV_SIZE_UNKNOWN ? -1 : s->end - s->start;
    if (s->blk) {
        out->n_hosts = CAV_MIN(s->blk->n_hosts, 8);
        for (int h = 0; h < out->n_hosts; h++)
            out->hosts[h] = s->blk->hosts[h];
    }
    out->output = s->final_display;
    out->chunks = -1;
    const cav_input *in = &j->inputs[s->input];
    if (in->chunked && in->cuts.chunks && i >= in->first_split && i - in->first_split < in->cuts.n)
        out->chunks = in->cuts.chunks[i - in->first_split];
    return 0;
}
const csvavro_schema *csvavro_job_schema(const csvavro_job *j) {
    return j->out_schema;
}
const char *csvavro_job_where_text(const csvavro_job *j) {
    return j->filter ? cav_filter_text(j->filter) : NULL;
}
int csvavro_job_threads(const csvavro_job *j) {
    return j->threads;
}

static json_t *str_list(const char *const *l, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(l[i]));
    return a;
}

csvavro_status csvavro_job_plan_json(const csvavro_job *j, char **out, csvavro_error *err) {
    *out = NULL;
    CAV_RETURN_IF(!j->planned || !j->out_schema, err, CSVAVRO_E_USAGE, "job not planned");
    json_t *root = json_object();
    json_t *ins = json_array();
    for (size_t i = 0; i < j->n_inputs; i++) {
        json_t *in = json_pack("{s:s,s:o,s:I,s:s,s:b}", "path", j->inputs[i].display, "size",
                               j->inputs[i].size == CAV_SIZE_UNKNOWN
                                   ? json_null()
                                   : json_integer((json_int_t)j->inputs[i].size),
                               "data_start", (json_int_t)j->inputs[i].h.data_start, "compression",
                               csvavro_job_input_codec(j, i), "stream",
                               (int)(j->inputs[i].sequential && !j->inputs[i].codec));
        /* matched by name: each reader field's 1-based CSV column, or null (its default) */
        if (j->mapping && j->inputs[i].h.n_cols) {
            json_t *m = json_object();
            for (size_t f = 0; f < csvavro_schema_field_count(j->full); f++) {
                int32_t c = j->inputs[i].map ? j->inputs[i].map[f] : (int32_t)f;
                json_object_set_new(m, csvavro_schema_field_name(j->full, f),
                                    c >= 0 ? json_integer(c + 1) : json_null());
            }
            json_object_set_new(in, "columns", m);
        }
        json_array_append_new(ins, in);
    }
    for (size_t i = 0; i < j->n_inputs; i++)
        if (j->inputs[i].chunked) {
            json_t *o = json_array_get(ins, i);
            json_object_set_new(o, "compressed_size", json_integer(j->inputs[i].cuts.csize));
            json_object_set_new(o, "split_at",
                                json_string(j->inputs[i].codec == CSVAVRO_COMPRESSION_BZIP2
                                                ? "bzip2 blocks"
                                                : "zstd frames"));
            json_object_set_new(o, "seek_table", json_boolean(j->inputs[i].cuts.seek_table));
        }
    json_object_set_new(root, "inputs", ins);
    json_t *sp = json_array();
    for (size_t i = 0; i < j->n_splits; i++) {
        const cav_split *s = &j->splits[i];
        json_t *o =
            json_pack("{s:I,s:I,s:I,s:o,s:s}", "split", (json_int_t)i, "input",
                      (json_int_t)s->input, "offset", (json_int_t)s->start, "length",
                      s->end == CAV_SIZE_UNKNOWN ? json_null()
                                                 : json_integer((json_int_t)(s->end - s->start)),
                      "output", s->final_display);
        json_t *h = json_array();
        if (s->blk)
            for (int k = 0; k < s->blk->n_hosts && k < 8; k++)
                json_array_append_new(h, json_string(s->blk->hosts[k]));
        json_object_set_new(o, "hosts", h);
        csvavro_split_info si;
        csvavro_job_split(j, i, &si);
        if (j->inputs[s->input].chunked) {
            json_object_set_new(o, "length", json_integer((json_int_t)(s->end - s->start)));
            json_object_set_new(o, "compressed", json_true());
            json_object_set_new(o, si.chunks >= 0 ? "chunks" : "chunks_not_counted",
                                si.chunks >= 0 ? json_integer(si.chunks) : json_true());
        }
        json_array_append_new(sp, o);
    }
    json_object_set_new(root, "splits", sp);
    char *sj = NULL;
    csvavro_status st = csvavro_schema_to_json(j->out_schema, 0, &sj, err);
    if (st != CSVAVRO_OK) {
        json_decref(root);
        return st;
    }
    json_object_set_new(root, "schema", json_loads(sj, 0, NULL));
    cav_free(sj);
    static const char *forms[] = {"pattern", "directory", "file"};
    json_object_set_new(root, "output",
                        json_pack("{s:s,s:s,s:s}", "spec", j->o.output, "form", forms[j->form],
                                  "success", j->success_name));
    json_t *op = json_object();
    json_object_set_new(op, "where",
                        j->filter ? json_string(cav_filter_text(j->filter)) : json_null());
    json_object_set_new(op, "select", str_list(j->o.select, j->o.n_select));
    json_object_set_new(op, "exclude", str_list(j->o.exclude, j->o.n_exclude));
    json_object_set_new(op, "rename", str_list(j->o.rename, j->o.n_rename));
    json_object_set_new(
        op, "limit", j->o.limit == UINT64_MAX ? json_null() : json_integer((json_int_t)j->o.limit));
    json_object_set_new(op, "split_size", json_integer((json_int_t)j->o.split_size));
    json_object_set_new(op, "threads", json_integer(j->threads));
    json_object_set_new(op, "codec", json_string(csvavro_codec_name(j->o.avro.codec)));
    json_object_set_new(
        op, "seed", j->o.avro.has_seed ? json_integer((json_int_t)j->o.avro.seed) : json_null());
    static const char *oe[] = {"fail", "skip", "reject"};
    json_object_set_new(op, "on_error", json_string(oe[j->o.csv.on_error % 3]));
    static const char *modes[] = {"error", "overwrite", "append", "ignore"};
    json_object_set_new(op, "mode", json_string(modes[j->mode & 3]));
    if (j->n_parts) {
        json_object_set_new(op, "partition_by", str_list(j->o.partition_by, j->o.n_partition_by));
        json_object_set_new(op, "keep_partition_columns",
                            json_boolean(j->o.keep_partition_columns));
        json_object_set_new(op, "partition_buffer", json_integer((json_int_t)j->part_buffer));
        json_object_set_new(json_object_get(root, "output"), "layout",
                            json_string(csvavro_job_partition_layout((csvavro_job *)j)));
    }
    json_object_set_new(root, "options", op);
    char *txt = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!txt) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    *out = cav_strdup(txt);
    cav_free(txt);
    if (!*out) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    return CSVAVRO_OK;
}

csvavro_status csvavro_job_run(const csvavro_job_options *o, csvavro_job_stats *stats,
                               csvavro_error *err) {
    if (stats) memset(stats, 0, sizeof *stats);
    csvavro_job *j = NULL;
    CAV_TRY(csvavro_job_create(o, &j, err));
    csvavro_status st = csvavro_job_plan(j, err);
    if (st == CSVAVRO_OK && !o->dry_run) st = csvavro_job_execute(j, stats, err);
    csvavro_job_free(j);
    return st;
}
