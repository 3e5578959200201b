/*
 * exec_plan_codec.c — encoding and decoding of a planned job (exec_plan_codec.h).
 */
#include "exec_plan_codec.h"

#include <stdlib.h>
#include <string.h>

static csvavro_status put(cav_buf *b, const void *p, size_t n, csvavro_error *err) {
    return cav_buf_append(b, p, n, err);
}
static csvavro_status put_u64(cav_buf *b, uint64_t v, csvavro_error *err) {
    return put(b, &v, sizeof v, err);
}
static csvavro_status put_str(cav_buf *b, const char *s, csvavro_error *err) {
    CAV_TRY(put_u64(b, s ? (uint64_t)strlen(s) : UINT64_MAX, err));
    return s ? put(b, s, strlen(s), err) : CSVAVRO_OK;
}

typedef struct rd {
    const uint8_t *p;
    size_t n, off;
    bool bad;
} rd;

static uint64_t get_u64(rd *r) {
    uint64_t v = 0;
    if (r->bad || r->n - r->off < sizeof v) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p + r->off, sizeof v);
    r->off += sizeof v;
    return v;
}
/* a copy with cav_malloc (NULL for a NULL string or a bad buffer) */
static char *get_str(rd *r) {
    uint64_t n = get_u64(r);
    if (r->bad || n == UINT64_MAX) return NULL;
    if (n > r->n - r->off) {
        r->bad = true;
        return NULL;
    }
    char *s = cav_malloc((size_t)n + 1);
    if (!s) {
        r->bad = true;
        return NULL;
    }
    memcpy(s, r->p + r->off, (size_t)n);
    s[n] = '\0';
    r->off += (size_t)n;
    return s;
}
static char *get_cav_str(rd *r) {
    char *s = get_str(r);
    char *c = s ? cav_strdup(s) : NULL;
    if (s && !c) r->bad = true;
    cav_free(s);
    return c;
}

static const char PLAN_MAGIC[8] = {'C', 'A', 'V', 'P', 'L', 'A', 'N', '1'};

csvavro_status cav_plan_encode(const csvavro_job *j, cav_buf *b, csvavro_error *err) {
    assert(j->planned);
    CAV_TRY(put(b, PLAN_MAGIC, sizeof PLAN_MAGIC, err));
    CAV_TRY(put_u64(b, j->n_inputs, err));
    for (size_t i = 0; i < j->n_inputs; i++) {
        const cav_input *in = &j->inputs[i];
        uint64_t spec = 0;
        while (spec + 1 < j->o.n_inputs && strcmp(j->o.inputs[spec], in->spec) != 0)
            spec++;
        CAV_TRY(put_u64(b, spec, err));
        CAV_TRY(put_str(b, in->path, err));
        CAV_TRY(put_str(b, in->display, err));
        CAV_TRY(put_u64(b, (uint64_t)in->size, err));
        CAV_TRY(put_u64(b, in->h.n_cols, err));
        CAV_TRY(put_u64(b, (uint64_t)in->h.data_start, err));
        CAV_TRY(put_u64(b, (uint64_t)in->h.data_start_line, err));
        /* flags: trailing empty column dropped, sequential (decoded/stream), codec */
        CAV_TRY(put_u64(b,
                        (uint64_t)in->h.trailing_empty | (uint64_t)in->sequential << 1 |
                            (uint64_t)in->chunked << 2 | (uint64_t)in->codec << 8,
                        err));
    }
    char *sj = NULL;
    CAV_TRY(csvavro_schema_to_json(j->full, 0, &sj, err));
    csvavro_status st = put_str(b, sj, err);
    cav_free(sj);
    CAV_TRY(st);
    /* fields matched by name: each input's map, the --schema defaults */
    size_t nf = csvavro_schema_field_count(j->full);
    for (size_t i = 0; i < j->n_inputs; i++) {
        const cav_input *in = &j->inputs[i];
        CAV_TRY(put_u64(b, in->map != NULL, err));
        for (size_t f = 0; in->map && f < nf; f++)
            CAV_TRY(put_u64(b, (uint64_t)(int64_t)in->map[f], err));
    }
    CAV_TRY(put_u64(b, j->def_json ? j->n_def_json : 0, err));
    for (size_t f = 0; j->def_json && f < j->n_def_json; f++)
        CAV_TRY(put_str(b, j->def_json[f], err));
    CAV_TRY(put_u64(b, j->defs != NULL, err));
    CAV_TRY(put_u64(b, j->n_splits, err));
    for (size_t i = 0; i < j->n_splits; i++) {
        const cav_split *s = &j->splits[i];
        CAV_TRY(put_u64(b, s->input, err));
        CAV_TRY(put_u64(b, (uint64_t)s->start, err));
        CAV_TRY(put_u64(b, (uint64_t)s->end, err));
        CAV_TRY(put_u64(b, s->first, err));
    }
    CAV_TRY(put_u64(b, (uint64_t)j->form, err));
    CAV_TRY(put_str(b, j->out_dir, err));
    CAV_TRY(put_str(b, j->pat_prefix, err));
    CAV_TRY(put_str(b, j->pat_suffix, err));
    CAV_TRY(put_str(b, j->single_name, err));
    CAV_TRY(put_str(b, j->success_name, err));
    CAV_TRY(put_str(b, j->tmp_dir, err));
    CAV_TRY(put_str(b, j->job_id, err));
    CAV_TRY(put_str(b, j->file_tag, err)); /* --mode append: in partitioned names, made there */
    return put(b, j->single_sync, sizeof j->single_sync, err);
}

static csvavro_status open_fs(csvavro_job *j, const char *url, csvavro_fs **fs,
                              csvavro_error *err) {
    char *path = NULL;
    CAV_TRY(csvavro_fs_open_url(url, fs, &path, err));
    cav_free(path);
    return cav_job_add_fs(j, *fs, err);
}

#define BAD_PLAN(r) ((r)->bad ? cav_err(err, CSVAVRO_E_INTERNAL, "malformed plan from rank 0") : 0)

/* Rebuilds a planned job from rank 0's plan (the job was created with the same options). */
csvavro_status cav_plan_decode(csvavro_job *j, const uint8_t *p, size_t n, csvavro_error *err) {
    rd r = {p, n, 0, false};
    if (n < sizeof PLAN_MAGIC || memcmp(p, PLAN_MAGIC, sizeof PLAN_MAGIC) != 0)
        return cav_err(err, CSVAVRO_E_INTERNAL, "malformed plan from rank 0");
    r.off = sizeof PLAN_MAGIC;
    /* one backend per input argument, as planning opened them */
    csvavro_fs **spec_fs = cav_calloc(j->o.n_inputs, sizeof *spec_fs);
    if (!spec_fs) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    csvavro_status st = CSVAVRO_OK;
    for (size_t k = 0; k < j->o.n_inputs && st == CSVAVRO_OK; k++)
        st = open_fs(j, j->o.inputs[k], &spec_fs[k], err);
    uint64_t ni = get_u64(&r);
    if (ni > n) r.bad = true; /* more inputs than bytes: malformed (was a NULL dereference) */
    if (st == CSVAVRO_OK && !r.bad) {
        j->inputs = cav_calloc(ni ? ni : 1, sizeof *j->inputs);
        if (!j->inputs) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    for (uint64_t i = 0; st == CSVAVRO_OK && !r.bad && i < ni; i++) {
        cav_input *in = &j->inputs[i];
        uint64_t spec = get_u64(&r);
        in->path = get_str(&r);
        in->display = get_str(&r);
        in->size = (int64_t)get_u64(&r);
        in->h.n_cols = (uint32_t)get_u64(&r);
        in->h.data_start = (int64_t)get_u64(&r);
        in->h.data_start_line = (int64_t)get_u64(&r);
        uint64_t flags = get_u64(&r);
        in->h.trailing_empty = (flags & 1) != 0;
        in->sequential = (flags & 2) != 0;
        in->chunked = (flags & 4) != 0;
        in->codec = (uint8_t)(flags >> 8);
        j->n_inputs++;
        if (r.bad || spec >= j->o.n_inputs || !in->path || !in->display) {
            r.bad = true;
            break;
        }
        in->fs = spec_fs[spec];
        in->spec = cav_strdup(j->o.inputs[spec]);
        if (!in->spec) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    cav_free(spec_fs);
    CAV_TRY(st);
    CAV_TRY(BAD_PLAN(&r));
    char *sj = get_str(&r);
    CAV_TRY(BAD_PLAN(&r));
    if (!sj) return cav_err(err, CSVAVRO_E_INTERNAL, "malformed plan from rank 0");
    st = csvavro_schema_from_json(sj, &j->full, err);
    cav_free(sj);
    CAV_TRY(st);
    size_t nf = csvavro_schema_field_count(j->full);
    for (size_t i = 0; i < j->n_inputs && !r.bad; i++) {
        cav_input *in = &j->inputs[i];
        if (!get_u64(&r)) continue;
        in->map = cav_calloc(nf ? nf : 1, sizeof *in->map);
        if (!in->map) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (size_t f = 0; f < nf; f++) {
            int64_t c = (int64_t)get_u64(&r);
            if (c < -1 || c >= (int64_t)in->h.n_cols) r.bad = true;
            in->map[f] = (int32_t)c;
        }
    }
    uint64_t nd = get_u64(&r);
    if (nd && nd != nf) r.bad = true;
    if (nd && !r.bad) {
        j->def_json = cav_calloc(nf, sizeof *j->def_json);
        if (!j->def_json) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        j->n_def_json = nf;
        for (size_t f = 0; f < nf; f++)
            j->def_json[f] = get_cav_str(&r);
    }
    bool defs = get_u64(&r) != 0;
    CAV_TRY(BAD_PLAN(&r));
    if (defs) CAV_TRY(cav_job_build_defaults(j, err));
    CAV_TRY(cav_job_project(j, err));
    if (j->o.where && *j->o.where) {
        CAV_TRY(cav_filter_compile(j->o.where, j->full, &j->filter, err));
        j->n_where_cols = cav_filter_columns(j->filter, &j->where_cols);
    }
    uint64_t ns = get_u64(&r);
    CAV_TRY(BAD_PLAN(&r));
    if (ns > n) return cav_err(err, CSVAVRO_E_INTERNAL, "malformed plan from rank 0");
    j->splits = cav_calloc(ns ? ns : 1, sizeof *j->splits);
    if (!j->splits) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < ns && !r.bad; i++) {
        cav_split *s = &j->splits[i];
        s->input = (size_t)get_u64(&r);
        s->start = (int64_t)get_u64(&r);
        s->end = (int64_t)get_u64(&r);
        s->first = get_u64(&r) != 0;
        if (s->input >= j->n_inputs) r.bad = true;
        j->n_splits++;
    }
    j->form = (int)get_u64(&r);
    j->out_dir = get_str(&r);
    j->pat_prefix = get_cav_str(&r);
    j->pat_suffix = get_cav_str(&r);
    j->single_name = get_cav_str(&r);
    j->success_name = get_cav_str(&r);
    j->tmp_dir = get_cav_str(&r);
    j->job_id = get_cav_str(&r);
    char *tag = get_str(&r);
    if (tag && strlen(tag) < sizeof j->file_tag)
        memcpy(j->file_tag, tag, strlen(tag) + 1);
    else
        r.bad = true;
    cav_free(tag);
    if (!r.bad && r.n - r.off == sizeof j->single_sync)
        memcpy(j->single_sync, r.p + r.off, sizeof j->single_sync);
    else
        r.bad = true;
    if (!r.bad && (!j->out_dir || !j->tmp_dir || !j->success_name)) r.bad = true;
    CAV_TRY(BAD_PLAN(&r));
    CAV_TRY(cav_job_chunk_cuts_from_splits(j, err));
    csvavro_fs *ofs = NULL;
    CAV_TRY(open_fs(j, j->o.output, &ofs, err));
    j->out_fs = ofs;
    /* --partition-by: the same keys and record schema as rank 0 (part files are named here) */
    CAV_TRY(cav_job_plan_partitions(j, err));
    /* the temporary directory rank 0 created must be visible here */
    csvavro_stat sb;
    csvavro_error e2;
    if (csvavro_fs_stat(ofs, j->tmp_dir, &sb, &e2) != CSVAVRO_OK || !sb.is_dir) {
        char *d = cav_job_out_display(j, j->tmp_dir);
        cav_err_path(err, d ? d : j->tmp_dir);
        cav_free(d);
        return cav_err(err, CSVAVRO_E_IO,
                       "rank 0's temporary output directory is not visible here: with ranks on "
                       "several machines the output must be on HDFS or a shared file system");
    }
    int t = j->o.threads ? j->o.threads : cav_cpu_count();
    if ((size_t)t > j->n_splits) t = (int)(j->n_splits ? j->n_splits : 1);
    j->threads = t < 1 ? 1 : t;
    j->planned = j->executed = true;
    return CSVAVRO_OK;
}
