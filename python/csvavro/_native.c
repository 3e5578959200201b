/*
 * _native.c — the CPython extension under the csvavro package: a thin layer over the public C
 * API (include/csvavro.h) and nothing else. The Python modules beside it (__init__.py, fs.py,
 * dask.py) give it its Pythonic shape; this file only moves data across.
 *
 * Main idea: every call into libcsvavro that can take time runs with the GIL released
 * (Py_BEGIN_ALLOW_THREADS), so other Python threads, dask's worker threads and a notebook's
 * event loop keep running. Data crosses as whole columns — fixed-width values appended to one
 * bytearray per column (numpy views it without a copy), strings as one list per column — never
 * as one Python object per record.
 *
 * Errors: a failed call raises csvavro.Error (or a subclass that is also the matching builtin:
 * NotFoundError is a FileNotFoundError, ExistsError a FileExistsError, PermissionDeniedError a
 * PermissionError) carrying every field of csvavro_error as attributes.
 *
 * Cancellation: a Job owns the cancel flag its options point to. While a job executes on the
 * calling thread, the progress callback (every ~100 ms, GIL taken) runs Python's signal handlers,
 * so Ctrl-C sets the flag; the job then removes its temporary files and KeyboardInterrupt is
 * raised. Job.cancel() sets the flag from any thread.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <csvavro.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ errors */

static PyObject *Error, *NotFoundError, *ExistsError, *PermissionDeniedError;

/* An error struct in the "no error" state: every call starts from it, so that a field a failing
 * call did not set is "unknown", never stale stack bytes. */
static csvavro_error no_error(void) {
    csvavro_error e;
    csvavro_error_clear(&e);
    return e;
}

static PyObject *raise_error(const csvavro_error *e, csvavro_status st) {
    char msg[2400];
    csvavro_error copy = *e;
    if (copy.status == CSVAVRO_OK) copy.status = st;
    csvavro_error_format(&copy, msg, sizeof msg);
    PyObject *cls = Error;
    if (copy.status == CSVAVRO_E_NOT_FOUND)
        cls = NotFoundError;
    else if (copy.status == CSVAVRO_E_EXISTS)
        cls = ExistsError;
    else if (copy.status == CSVAVRO_E_PERMISSION)
        cls = PermissionDeniedError;
    PyObject *text = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
    PyObject *exc = text ? PyObject_CallFunctionObjArgs(cls, text, NULL) : NULL;
    Py_XDECREF(text);
    if (!exc) return NULL;
#define SET(name, val)                                                                             \
    do {                                                                                           \
        PyObject *v_ = (val);                                                                      \
        if (v_) {                                                                                  \
            PyObject_SetAttrString(exc, name, v_);                                                 \
            Py_DECREF(v_);                                                                         \
        }                                                                                          \
    } while (0)
#define STR_OR_NONE(s)                                                                             \
    ((s)[0] ? PyUnicode_DecodeUTF8((s), strlen(s), "replace") : Py_NewRef(Py_None))
#define NUM_OR_NONE(n) ((n) >= 0 ? PyLong_FromLongLong((long long)(n)) : Py_NewRef(Py_None))
    SET("status", PyLong_FromLong((long)copy.status));
    SET("status_name", PyUnicode_FromString(csvavro_status_name(copy.status)));
    SET("path", STR_OR_NONE(copy.path));
    SET("offset", NUM_OR_NONE(copy.offset));
    SET("line", NUM_OR_NONE(copy.line));
    SET("record", NUM_OR_NONE(copy.record));
    SET("column", NUM_OR_NONE(copy.column));
    SET("column_name", STR_OR_NONE(copy.column_name));
    SET("value", STR_OR_NONE(copy.value));
    SET("message", PyUnicode_DecodeUTF8(copy.message, strlen(copy.message), "replace"));
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
    return NULL;
}

static PyObject *usage_error(const char *msg) {
    csvavro_error e = no_error();
    e.status = CSVAVRO_E_USAGE;
    snprintf(e.message, sizeof e.message, "%s", msg);
    return raise_error(&e, CSVAVRO_E_USAGE);
}

/* ------------------------------------------------------------------ option strings */

/* Every string an options struct points to, owned for the struct's lifetime. */
typedef struct strpool {
    char **v;
    size_t n, cap;
} strpool;

static const char *pool_add(strpool *p, PyObject *s) {
    const char *u = PyUnicode_AsUTF8(s);
    if (!u) return NULL;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        char **nv = realloc(p->v, nc * sizeof *nv);
        if (!nv) {
            PyErr_NoMemory();
            return NULL;
        }
        p->v = nv;
        p->cap = nc;
    }
    char *c = strdup(u);
    if (!c) {
        PyErr_NoMemory();
        return NULL;
    }
    p->v[p->n++] = c;
    return c;
}

static void pool_free(strpool *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* A string list option: a NULL-terminated array kept in the pool (the array itself too). */
typedef struct strlists {
    const char ***v;
    size_t n;
} strlists;

static int get_list(PyObject *d, const char *key, strpool *p, strlists *ls, const char *const **out,
                    size_t *n) {
    PyObject *o = PyDict_GetItemString(d, key);
    if (!o || o == Py_None) return 0;
    PyObject *seq = PySequence_Fast(o, key);
    if (!seq) return -1;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    const char **arr = calloc((size_t)k + 1, sizeof *arr);
    const char ***nl = realloc(ls->v, (ls->n + 1) * sizeof *nl);
    if (!arr || !nl) {
        free(arr);
        if (nl) ls->v = nl;
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    ls->v = nl;
    ls->v[ls->n++] = arr;
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *it = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(it)) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_TypeError, "%s: expected strings", key);
            return -1;
        }
        if (!(arr[i] = pool_add(p, it))) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    *out = arr;
    *n = (size_t)k;
    return 0;
}

static int get_str(PyObject *d, const char *key, strpool *p, const char **out) {
    PyObject *o = PyDict_GetItemString(d, key);
    if (!o || o == Py_None) return 0;
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a string", key);
        return -1;
    }
    return (*out = pool_add(p, o)) ? 0 : -1;
}

static int get_char(PyObject *d, const char *key, char *out) {
    PyObject *o = PyDict_GetItemString(d, key);
    if (!o) return 0;
    if (o == Py_None) {
        *out = 0;
        return 0;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8AndSize(o, &n) : NULL;
    if (!s || n > 1) {
        PyErr_Format(PyExc_ValueError, "%s: expected one ASCII character or ''", key);
        return -1;
    }
    *out = n ? s[0] : 0;
    return 0;
}

static int get_u64(PyObject *d, const char *key, uint64_t *out) {
    PyObject *o = PyDict_GetItemString(d, key);
    if (!o || o == Py_None) return 0;
    unsigned long long v = PyLong_AsUnsignedLongLong(o);
    if (PyErr_Occurred()) {
        PyErr_Format(PyExc_ValueError, "%s: expected a non-negative integer", key);
        return -1;
    }
    *out = v;
    return 0;
}

static int get_int(PyObject *d, const char *key, int *out) {
    PyObject *o = PyDict_GetItemString(d, key);
    if (!o || o == Py_None) return 0;
    long v = PyLong_AsLong(o);
    if (PyErr_Occurred()) return -1;
    if (v < INT32_MIN || v > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "%s: out of range", key);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int get_bool(PyObject *d, const char *key, int *out) {
    PyObject *o = PyDict_GetItemString(d, key);
    if (!o || o == Py_None) return 0;
    int t = PyObject_IsTrue(o);
    if (t < 0) return -1;
    *out = t;
    return 0;
}

/* The CSV options of dict d (keys as in csvavro.convert's **csv). */
static int csv_options(PyObject *d, strpool *p, strlists *ls, csvavro_csv_options *o) {
    csvavro_csv_options_init(o);
    const char *enc = NULL, *onerr = NULL, *comp = NULL;
    uint64_t mrb = o->max_record_bytes;
    if (get_char(d, "delimiter", &o->delimiter) || get_char(d, "quote", &o->quote) ||
        get_char(d, "escape", &o->escape) || get_char(d, "comment", &o->comment) ||
        get_bool(d, "header", &o->header) || get_list(d, "names", p, ls, &o->names, &o->n_names) ||
        get_u64(d, "skip_rows", &o->skip_rows) ||
        get_list(d, "null_values", p, ls, &o->null_values, &o->n_null_values) ||
        get_str(d, "encoding", p, &enc) || get_u64(d, "max_record_bytes", &mrb) ||
        get_str(d, "on_error", p, &onerr) || get_str(d, "reject_file", p, &o->reject_file) ||
        get_u64(d, "max_errors", &o->max_errors) || get_u64(d, "infer_rows", &o->infer_rows) ||
        get_list(d, "types", p, ls, &o->type_overrides, &o->n_type_overrides) ||
        get_list(d, "not_null", p, ls, &o->not_null, &o->n_not_null) ||
        get_str(d, "record_name", p, &o->record_name) || get_str(d, "namespace", p, &o->ns) ||
        get_str(d, "compression", p, &comp) || get_str(d, "zip_entry", p, &o->zip_entry) ||
        get_bool(d, "skip_initial_space", &o->skip_initial_space) ||
        get_bool(d, "trim", &o->trim) ||
        get_bool(d, "keep_empty_columns", &o->keep_empty_columns) ||
        get_bool(d, "union_by_name", &o->union_by_name))
        return -1;
    if (comp) {
        csvavro_status st = csvavro_compression_parse(comp, &o->compression);
        if (st != CSVAVRO_OK) {
            csvavro_error e = no_error();
            snprintf(e.message, sizeof e.message, "unknown compression \"%s\"", comp);
            raise_error(&e, st);
            return -1;
        }
    }
    o->max_record_bytes = (size_t)mrb;
    if (enc) {
        if (!strcmp(enc, "utf-8") || !strcmp(enc, "utf8"))
            o->encoding = CSVAVRO_ENCODING_UTF8;
        else if (!strcmp(enc, "latin-1") || !strcmp(enc, "latin1") || !strcmp(enc, "iso-8859-1"))
            o->encoding = CSVAVRO_ENCODING_LATIN1;
        else {
            usage_error("encoding must be 'utf-8' or 'latin-1'");
            return -1;
        }
    }
    if (onerr) {
        if (!strcmp(onerr, "fail"))
            o->on_error = CSVAVRO_ON_ERROR_FAIL;
        else if (!strcmp(onerr, "skip"))
            o->on_error = CSVAVRO_ON_ERROR_SKIP;
        else if (!strcmp(onerr, "reject"))
            o->on_error = CSVAVRO_ON_ERROR_REJECT;
        else {
            usage_error("on_error must be 'fail', 'skip' or 'reject'");
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ Job */

typedef struct JobObject {
    PyObject_HEAD csvavro_job *job;
    csvavro_job_options o;
    strpool pool;
    strlists lists;
    volatile int cancel;
    PyObject *progress; /* callable(stats dict, final) or None */
    int interrupted;    /* Ctrl-C seen in the progress callback */
    int in_call;        /* a call without the GIL is running: refuse a second one */
} JobObject;

static PyObject *stats_dict(const csvavro_job_stats *s) {
    return Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:d,s:O}", "inputs",
        (unsigned long long)s->inputs, "splits", (unsigned long long)s->splits, "splits_done",
        (unsigned long long)s->splits_done, "splits_rerun", (unsigned long long)s->splits_rerun,
        "bytes_total", (unsigned long long)s->bytes_total, "bytes_read",
        (unsigned long long)s->bytes_read, "rows_read", (unsigned long long)s->rows_read,
        "rows_kept", (unsigned long long)s->rows_kept, "rows_rejected",
        (unsigned long long)s->rows_rejected, "files_written", (unsigned long long)s->files_written,
        "bytes_written", (unsigned long long)s->bytes_written, "elapsed_s", s->elapsed_s,
        "output_existed", s->output_existed ? Py_True : Py_False);
}

/* From the thread running execute, GIL released: take it, run signal handlers (Ctrl-C), call
 * the Python progress callback. An exception from either cancels the job. */
static void on_progress(const csvavro_job_stats *s, int final, void *user) {
    JobObject *self = user;
    PyGILState_STATE g = PyGILState_Ensure();
    if (!self->interrupted && PyErr_CheckSignals() < 0) {
        self->interrupted = 1;
        self->cancel = 1;
    }
    if (!self->interrupted && self->progress && self->progress != Py_None) {
        PyObject *d = stats_dict(s);
        PyObject *r = d ? PyObject_CallFunction(self->progress, "Oi", d, final) : NULL;
        Py_XDECREF(d);
        if (!r) {
            self->interrupted = 1;
            self->cancel = 1;
        }
        Py_XDECREF(r);
    }
    PyGILState_Release(g);
}

static int job_options(JobObject *self, PyObject *d) {
    csvavro_job_options *o = &self->o;
    csvavro_job_options_init(o);
    strpool *p = &self->pool;
    strlists *ls = &self->lists;
    PyObject *csv = PyDict_GetItemString(d, "csv");
    PyObject *empty = NULL;
    if (!csv) csv = empty = PyDict_New();
    int rc = csv ? csv_options(csv, p, ls, &o->csv) : -1;
    Py_XDECREF(empty);
    if (rc) return -1;
    const char *codec = NULL, *mode = NULL;
    uint64_t seed = 0, block = 0;
    int has_seed = PyDict_GetItemString(d, "seed") && PyDict_GetItemString(d, "seed") != Py_None;
    uint64_t rb = o->read_buffer;
    uint64_t br = o->batch_rows;
    if (get_list(d, "inputs", p, ls, &o->inputs, &o->n_inputs) ||
        get_str(d, "output", p, &o->output) || get_str(d, "where", p, &o->where) ||
        get_list(d, "select", p, ls, &o->select, &o->n_select) ||
        get_list(d, "exclude", p, ls, &o->exclude, &o->n_exclude) ||
        get_list(d, "rename", p, ls, &o->rename, &o->n_rename) || get_u64(d, "limit", &o->limit) ||
        get_u64(d, "split_size", &o->split_size) || get_int(d, "threads", &o->threads) ||
        get_u64(d, "batch_rows", &br) || get_u64(d, "read_buffer", &rb) ||
        get_bool(d, "overwrite", &o->overwrite) || get_str(d, "schema_json", p, &o->schema_json) ||
        get_str(d, "codec", p, &codec) || get_int(d, "level", &o->avro.level) ||
        get_u64(d, "block_size", &block) || get_u64(d, "seed", &seed) ||
        get_list(d, "meta", p, ls, &o->avro.meta, &o->avro.n_meta) ||
        get_int(d, "progress_interval_ms", &o->progress_interval_ms) ||
        get_str(d, "mode", p, &mode))
        return -1;
    if (mode) {
        static const char *const modes[] = {"error", "overwrite", "append", "ignore"};
        int m = 0;
        while (m < 4 && strcmp(modes[m], mode) != 0)
            m++;
        if (m == 4) {
            usage_error("mode must be 'error', 'overwrite', 'append' or 'ignore'");
            return -1;
        }
        o->mode = (csvavro_write_mode)m;
    }
    o->batch_rows = (uint32_t)(br > UINT32_MAX ? UINT32_MAX : br);
    o->read_buffer = (size_t)rb;
    if (block) o->avro.block_size = (size_t)block;
    if (has_seed) {
        o->avro.has_seed = 1;
        o->avro.seed = seed;
    }
    if (codec) {
        csvavro_error e = no_error();
        csvavro_status st = csvavro_codec_parse(codec, &o->avro.codec);
        if (st != CSVAVRO_OK) {
            snprintf(e.message, sizeof e.message, "unknown codec \"%s\"", codec);
            raise_error(&e, st);
            return -1;
        }
    }
    o->cancel = &self->cancel;
    o->progress_fn = on_progress;
    o->progress_user = self;
    if (o->progress_interval_ms <= 0) o->progress_interval_ms = 100;
    return 0;
}

static void job_release(JobObject *self) {
    csvavro_job_free(self->job); /* a begun, unfinished job removes its temporary directory */
    self->job = NULL;
    pool_free(&self->pool);
    for (size_t i = 0; i < self->lists.n; i++)
        free((void *)self->lists.v[i]);
    free(self->lists.v);
    memset(&self->lists, 0, sizeof self->lists);
}

static void Job_dealloc(JobObject *self) {
    job_release(self);
    Py_XDECREF(self->progress);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Job(options: dict, plan: bytes | None = None): a job to plan and run here, or (with plan) a
 * worker's job that runs splits of a plan made elsewhere. */
static int Job_init(JobObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"options", "plan", NULL};
    PyObject *d;
    Py_buffer plan = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|z*", kwlist, &PyDict_Type, &d, &plan)) return -1;
    job_release(self);
    int rc = job_options(self, d);
    csvavro_error e = no_error();
    csvavro_status st = CSVAVRO_OK;
    if (rc == 0) {
        if (plan.buf) {
            Py_BEGIN_ALLOW_THREADS st =
                csvavro_job_open_plan(&self->o, plan.buf, (size_t)plan.len, &self->job, &e);
            Py_END_ALLOW_THREADS
        } else {
            st = csvavro_job_create(&self->o, &self->job, &e);
        }
        if (st != CSVAVRO_OK) {
            raise_error(&e, st);
            rc = -1;
        }
    }
    if (plan.buf) PyBuffer_Release(&plan);
    return rc;
}

static int job_usable(JobObject *self) {
    if (!self->job) {
        PyErr_SetString(PyExc_ValueError, "job is closed");
        return 0;
    }
    if (self->in_call) {
        PyErr_SetString(PyExc_RuntimeError, "job is busy in another thread");
        return 0;
    }
    return 1;
}

static PyObject *Job_plan(JobObject *self, PyObject *unused) {
    if (!job_usable(self)) return NULL;
    csvavro_error e = no_error();
    csvavro_status st;
    self->in_call = 1;
    Py_BEGIN_ALLOW_THREADS st = csvavro_job_plan(self->job, &e);
    Py_END_ALLOW_THREADS self->in_call = 0;
    if (st != CSVAVRO_OK) return raise_error(&e, st);
    Py_RETURN_NONE;
}

static PyObject *Job_plan_json(JobObject *self, PyObject *unused) {
    if (!job_usable(self)) return NULL;
    char *json = NULL;
    csvavro_error e = no_error();
    csvavro_status st = csvavro_job_plan_json(self->job, &json, &e);
    if (st != CSVAVRO_OK) return raise_error(&e, st);
    PyObject *r = PyUnicode_FromString(json);
    csvavro_free(json);
    return r;
}

static PyObject *Job_schema_json(JobObject *self, PyObject *unused) {
    if (!job_usable(self)) return NULL;
    const csvavro_schema *s = csvavro_job_schema(self->job);
    if (!s) return usage_error("job not planned");
    char *json = NULL;
    csvavro_error e = no_error();
    csvavro_status st = csvavro_schema_to_json(s, 0, &json, &e);
    if (st != CSVAVRO_OK) return raise_error(&e, st);
    PyObject *r = PyUnicode_FromString(json);
    csvavro_free(json);
    return r;
}

/* [(input, offset, length, [hosts], output)] of a planned job. */
static PyObject *Job_splits(JobObject *self, PyObject *unused) {
    if (!job_usable(self)) return NULL;
    size_t n = csvavro_job_split_count(self->job);
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++) {
        csvavro_split_info si;
        if (csvavro_job_split(self->job, i, &si) != 0) break;
        PyObject *hosts = PyList_New(si.n_hosts);
        for (int h = 0; hosts && h < si.n_hosts; h++)
            PyList_SET_ITEM(hosts, h, PyUnicode_FromString(si.hosts[h]));
        PyObject *t = Py_BuildValue("(sLLNs)", csvavro_job_input_path(self->job, si.input),
                                    (long long)si.offset, (long long)si.length, hosts,
                                    si.output ? si.output : "");
        if (!t) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, t);
    }
    return l;
}

/* execute(progress=None) -> stats dict. Ctrl-C cancels (KeyboardInterrupt after clean-up). */
static PyObject *Job_execute(JobObject *self, PyObject *args) {
    PyObject *progress = Py_None;
    if (!PyArg_ParseTuple(args, "|O", &progress)) return NULL;
    if (!job_usable(self)) return NULL;
    Py_XSETREF(self->progress, Py_NewRef(progress));
    csvavro_job_stats stats;
    csvavro_error e = no_error();
    csvavro_status st;
    self->in_call = 1;
    self->interrupted = 0;
    Py_BEGIN_ALLOW_THREADS st = csvavro_job_execute(self->job, &stats, &e);
    Py_END_ALLOW_THREADS self->in_call = 0;
    Py_CLEAR(self->progress);
    if (self->interrupted && PyErr_Occurred())
        return NULL; /* KeyboardInterrupt, or the
                        callback's own exception */
    if (st != CSVAVRO_OK) return raise_error(&e, st);
    return stats_dict(&stats);
}

static PyObject *Job_begin(JobObject *self, PyObject *unused) {
    if (!job_usable(self)) return NULL;
    void *plan = NULL;
    size_t n = 0;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_job_begin(self->job, &plan, &n, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) {
        csvavro_free(plan);
        return raise_error(&e, st);
    }
    PyObject *r = PyBytes_FromStringAndSize(plan, (Py_ssize_t)n);
    csvavro_free(plan);
    return r;
}

/* run_split(i) -> (result bytes, error or None): the split's own failure is returned as an
 * exception object (not raised), since the driver judges it. */
static PyObject *Job_run_split(JobObject *self, PyObject *args) {
    Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "n", &i)) return NULL;
    if (!job_usable(self)) return NULL;
    if (i < 0) return usage_error("split index must be >= 0");
    void *res = NULL;
    size_t n = 0;
    csvavro_error e = no_error();
    csvavro_status st;
    self->in_call = 1;
    Py_BEGIN_ALLOW_THREADS st = csvavro_job_run_split(self->job, (size_t)i, &res, &n, &e);
    Py_END_ALLOW_THREADS self->in_call = 0;
    if (st != CSVAVRO_OK) return raise_error(&e, st);
    PyObject *r = PyBytes_FromStringAndSize(res, (Py_ssize_t)n);
    csvavro_free(res);
    if (!r) return NULL;
    PyObject *exc = Py_NewRef(Py_None);
    if (e.status != CSVAVRO_OK) {
        raise_error(&e, e.status);
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        Py_XDECREF(t);
        Py_XDECREF(tb);
        Py_SETREF(exc, v ? v : Py_NewRef(Py_None));
    }
    return Py_BuildValue("(NN)", r, exc);
}

static PyObject *Job_add_result(JobObject *self, PyObject *args) {
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "y*", &b)) return NULL;
    if (!job_usable(self)) {
        PyBuffer_Release(&b);
        return NULL;
    }
    csvavro_error e = no_error();
    csvavro_status st = csvavro_job_add_result(self->job, b.buf, (size_t)b.len, &e);
    PyBuffer_Release(&b);
    if (st != CSVAVRO_OK) return raise_error(&e, st);
    Py_RETURN_NONE;
}

static PyObject *Job_finish(JobObject *self, PyObject *unused) {
    if (!job_usable(self)) return NULL;
    csvavro_job_stats stats;
    csvavro_error e = no_error();
    csvavro_status st;
    self->in_call = 1;
    self->interrupted = 0;
    Py_BEGIN_ALLOW_THREADS st = csvavro_job_finish(self->job, &stats, &e);
    Py_END_ALLOW_THREADS self->in_call = 0;
    if (self->interrupted && PyErr_Occurred()) return NULL;
    if (st != CSVAVRO_OK) return raise_error(&e, st);
    return stats_dict(&stats);
}

static PyObject *Job_cancel(JobObject *self, PyObject *unused) {
    self->cancel = 1;
    Py_RETURN_NONE;
}

/* close(): frees the job now (a begun, unfinished job removes its temporary directory). */
static PyObject *Job_close(JobObject *self, PyObject *unused) {
    if (self->in_call) {
        PyErr_SetString(PyExc_RuntimeError, "job is busy in another thread");
        return NULL;
    }
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    Py_BEGIN_ALLOW_THREADS job_release(self);
    Py_END_ALLOW_THREADS PyErr_Restore(t, v, tb);
    Py_RETURN_NONE;
}

static PyMethodDef Job_methods[] = {
    {"plan", (PyCFunction)Job_plan, METH_NOARGS, "Plans the job (inputs, schema, splits)."},
    {"plan_json", (PyCFunction)Job_plan_json, METH_NOARGS, "The plan as JSON text."},
    {"schema_json", (PyCFunction)Job_schema_json, METH_NOARGS, "Output schema (Avro JSON)."},
    {"splits", (PyCFunction)Job_splits, METH_NOARGS, "Planned splits."},
    {"execute", (PyCFunction)Job_execute, METH_VARARGS, "Runs the planned job here."},
    {"begin", (PyCFunction)Job_begin, METH_NOARGS, "Starts a job run in parts; plan bytes."},
    {"run_split", (PyCFunction)Job_run_split, METH_VARARGS, "Worker: runs split i."},
    {"add_result", (PyCFunction)Job_add_result, METH_VARARGS, "Driver: adds a split result."},
    {"finish", (PyCFunction)Job_finish, METH_NOARGS, "Driver: verifies and commits."},
    {"cancel", (PyCFunction)Job_cancel, METH_NOARGS, "Asks a running call to stop."},
    {"close", (PyCFunction)Job_close, METH_NOARGS, "Frees the job."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject JobType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "csvavro._native.Job",
    .tp_basicsize = sizeof(JobObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Job_init,
    .tp_dealloc = (destructor)Job_dealloc,
    .tp_methods = Job_methods,
    .tp_doc = "A csvavro job (csvavro_job_*).",
};

/* ------------------------------------------------------------------ CSV: infer, head rows */

/* csv_infer(url, csv_options) -> Avro schema JSON of the inferred table. */
static PyObject *py_csv_infer(PyObject *m, PyObject *args) {
    const char *url;
    PyObject *d;
    if (!PyArg_ParseTuple(args, "sO!", &url, &PyDict_Type, &d)) return NULL;
    strpool p = {0};
    strlists ls = {0};
    csvavro_csv_options o;
    PyObject *res = NULL;
    if (csv_options(d, &p, &ls, &o) == 0) {
        csvavro_error e = no_error();
        csvavro_status st;
        char *json = NULL;
        Py_BEGIN_ALLOW_THREADS csvavro_fs *fs = NULL;
        char *path = NULL;
        csvavro_schema *s = NULL;
        st = csvavro_fs_open_url(url, &fs, &path, &e);
        if (st == CSVAVRO_OK) {
            const char *paths[] = {path};
            st = csvavro_csv_infer(fs, paths, 1, &o, &s, &e);
        }
        if (st == CSVAVRO_OK) st = csvavro_schema_to_json(s, 0, &json, &e);
        csvavro_schema_free(s);
        csvavro_free(path);
        csvavro_fs_close(fs);
        Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) raise_error(&e, st);
        else res = PyUnicode_FromString(json);
        csvavro_free(json);
    }
    pool_free(&p);
    for (size_t i = 0; i < ls.n; i++)
        free((void *)ls.v[i]);
    free(ls.v);
    return res;
}

/* csv_rows(url, csv_options, n) -> (header names, [row: [str | None]]) — the first n rows as
 * text (head). */
static PyObject *py_csv_rows(PyObject *m, PyObject *args) {
    const char *url;
    PyObject *d;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "sO!n", &url, &PyDict_Type, &d, &n)) return NULL;
    strpool p = {0};
    strlists ls = {0};
    csvavro_csv_options o;
    PyObject *res = NULL, *names = NULL, *rows = NULL;
    csvavro_fs *fs = NULL;
    char *path = NULL;
    csvavro_csv_reader *r = NULL;
    csvavro_error e = no_error();
    csvavro_status st = CSVAVRO_OK;
    if (csv_options(d, &p, &ls, &o) != 0) goto done;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_open_url(url, &fs, &path, &e);
    if (st == CSVAVRO_OK) st = csvavro_csv_open(fs, path, &o, &r, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) {
        raise_error(&e, st);
        goto done;
    }
    size_t nc = csvavro_csv_column_count(r);
    names = PyList_New((Py_ssize_t)nc);
    rows = PyList_New(0);
    if (!names || !rows) goto done;
    for (size_t i = 0; i < nc; i++) {
        const char *s = csvavro_csv_column_name(r, i);
        PyList_SET_ITEM(names, (Py_ssize_t)i, PyUnicode_DecodeUTF8(s, strlen(s), "replace"));
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        const char *const *fields;
        const size_t *lens;
        size_t nf = 0;
        Py_BEGIN_ALLOW_THREADS st = csvavro_csv_next_row(r, &fields, &lens, &nf, &e);
        Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) {
            raise_error(&e, st);
            goto done;
        }
        if (!fields) break;
        PyObject *row = PyList_New((Py_ssize_t)nf);
        if (!row) goto done;
        for (size_t i = 0; i < nf; i++)
            PyList_SET_ITEM(row, (Py_ssize_t)i,
                            fields[i]
                                ? PyUnicode_DecodeUTF8(fields[i], (Py_ssize_t)lens[i], "replace")
                                : Py_NewRef(Py_None));
        int rc = PyList_Append(rows, row);
        Py_DECREF(row);
        if (rc) goto done;
    }
    res = Py_BuildValue("(OO)", names, rows);
done:
    Py_XDECREF(names);
    Py_XDECREF(rows);
    csvavro_csv_close(r);
    csvavro_free(path);
    csvavro_fs_close(fs);
    pool_free(&p);
    for (size_t i = 0; i < ls.n; i++)
        free((void *)ls.v[i]);
    free(ls.v);
    return res;
}

/* ------------------------------------------------------------------ Avro: columns */

static size_t type_width(csvavro_type t) {
    switch (t) {
    case CSVAVRO_TYPE_BOOLEAN:
        return 1;
    case CSVAVRO_TYPE_INT:
    case CSVAVRO_TYPE_DATE:
    case CSVAVRO_TYPE_FLOAT:
        return 4;
    case CSVAVRO_TYPE_LONG:
    case CSVAVRO_TYPE_DOUBLE:
    case CSVAVRO_TYPE_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS:
    case CSVAVRO_TYPE_TIMESTAMP_MILLIS:
    case CSVAVRO_TYPE_LOCAL_TIMESTAMP_MILLIS:
        return 8;
    default: /* string, bytes, decimals (offsets + data), null: no fixed-width values */
        return 0;
    }
}

static int bytearray_append(PyObject *ba, const void *p, size_t n) {
    Py_ssize_t old = PyByteArray_GET_SIZE(ba);
    if (PyByteArray_Resize(ba, old + (Py_ssize_t)n) < 0) return -1;
    memcpy(PyByteArray_AS_STRING(ba) + old, p, n);
    return 0;
}

/* avro_columns(url, columns or None) -> (schema JSON, [(name, type name, nullable, values
 * bytearray | None, valid bytearray | None, strings list | None)], rows). Whole file. The
 * "strings" of a bytes or decimal column are bytes objects (a decimal's unscaled two's
 * complement, which the Python side turns into decimal.Decimal with the schema's scale). */
static PyObject *py_avro_columns(PyObject *m, PyObject *args) {
    const char *url;
    PyObject *want = Py_None;
    if (!PyArg_ParseTuple(args, "s|O", &url, &want)) return NULL;
    strpool p = {0};
    strlists ls = {0};
    const char *const *names = NULL;
    size_t n_names = 0;
    PyObject *res = NULL, *cols = NULL;
    csvavro_fs *fs = NULL;
    char *path = NULL;
    csvavro_avro_reader *r = NULL;
    csvavro_error e = no_error();
    csvavro_status st = CSVAVRO_OK;
    uint64_t total = 0;
    if (want != Py_None) {
        PyObject *d = Py_BuildValue("{sO}", "c", want);
        int rc = d ? get_list(d, "c", &p, &ls, &names, &n_names) : -1;
        Py_XDECREF(d);
        if (rc) goto done;
    }
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_open_url(url, &fs, &path, &e);
    if (st == CSVAVRO_OK) st = csvavro_avro_reader_open(fs, path, &r, &e);
    if (st == CSVAVRO_OK && names) st = csvavro_avro_reader_select(r, names, n_names, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) {
        raise_error(&e, st);
        goto done;
    }
    for (;;) {
        const csvavro_column *c;
        size_t nc, nr;
        Py_BEGIN_ALLOW_THREADS st = csvavro_avro_reader_next_columns(r, &c, &nc, &nr, &e);
        Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) {
            raise_error(&e, st);
            goto done;
        }
        if (!cols) {
            cols = PyList_New((Py_ssize_t)nc);
            if (!cols) goto done;
            for (size_t i = 0; i < nc; i++) {
                int var = c[i].type == CSVAVRO_TYPE_STRING || c[i].type == CSVAVRO_TYPE_BYTES ||
                          c[i].type == CSVAVRO_TYPE_DECIMAL ||
                          c[i].type == CSVAVRO_TYPE_DECIMAL_FIXED;
                PyObject *t = Py_BuildValue(
                    "[siNNN]", c[i].name, (int)c[i].type,
                    type_width(c[i].type) ? PyByteArray_FromStringAndSize(NULL, 0)
                                          : Py_NewRef(Py_None),
                    c[i].nullable ? PyByteArray_FromStringAndSize(NULL, 0) : Py_NewRef(Py_None),
                    var ? PyList_New(0) : Py_NewRef(Py_None));
                if (!t) goto done;
                PyList_SET_ITEM(cols, (Py_ssize_t)i, t);
            }
        }
        if (nr == 0) break;
        total += nr;
        for (size_t i = 0; i < nc; i++) {
            PyObject *t = PyList_GET_ITEM(cols, (Py_ssize_t)i);
            PyObject *vals = PyList_GET_ITEM(t, 2), *valid = PyList_GET_ITEM(t, 3),
                     *strs = PyList_GET_ITEM(t, 4);
            if (vals != Py_None && c[i].values &&
                bytearray_append(vals, c[i].values, nr * type_width(c[i].type)))
                goto done;
            if (valid != Py_None && bytearray_append(valid, c[i].valid, nr)) goto done;
            if (strs != Py_None) {
                for (size_t k = 0; k < nr; k++) {
                    PyObject *s;
                    if (c[i].valid && !c[i].valid[k]) {
                        s = Py_NewRef(Py_None);
                    } else {
                        const char *b = c[i].data + c[i].offsets[k];
                        Py_ssize_t l = (Py_ssize_t)(c[i].offsets[k + 1] - c[i].offsets[k]);
                        s = c[i].type == CSVAVRO_TYPE_STRING ? PyUnicode_DecodeUTF8(b, l, "strict")
                                                             : PyBytes_FromStringAndSize(b, l);
                    }
                    if (!s || PyList_Append(strs, s)) {
                        Py_XDECREF(s);
                        goto done;
                    }
                    Py_DECREF(s);
                }
            }
        }
    }
    res =
        Py_BuildValue("(sOK)", csvavro_avro_reader_schema_json(r), cols, (unsigned long long)total);
done:
    Py_XDECREF(cols);
    csvavro_avro_reader_close(r);
    csvavro_free(path);
    csvavro_fs_close(fs);
    pool_free(&p);
    for (size_t i = 0; i < ls.n; i++)
        free((void *)ls.v[i]);
    free(ls.v);
    return res;
}

/* ------------------------------------------------------------------ storage */

typedef struct FsObject {
    PyObject_HEAD csvavro_fs *fs;
} FsObject;

typedef struct FileObject {
    PyObject_HEAD csvavro_file *f;
    PyObject *owner; /* keeps the Fs alive */
    int writing;
    PyThread_type_lock lock; /* one thread at a time per file */
} FileObject;

static PyTypeObject FileType;

static void Fs_dealloc(FsObject *self) {
    csvavro_fs_close(self->fs);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Fs(url) -> backend for url; open_url(url) -> (Fs, path). */
static PyObject *py_open_url(PyObject *m, PyObject *args);

static PyObject *stat_dict(const csvavro_stat *st) {
    return Py_BuildValue("{s:O,s:L,s:L,s:I,s:s,s:s,s:i,s:L}", "is_dir",
                         st->is_dir ? Py_True : Py_False, "size", (long long)st->size, "mtime_ms",
                         (long long)st->mtime_ms, "mode", (unsigned)st->mode, "owner", st->owner,
                         "group", st->group, "replication", st->replication, "block_size",
                         (long long)st->block_size);
}

static PyObject *Fs_stat(FsObject *self, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    csvavro_stat sb;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_stat(self->fs, path, &sb, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    return stat_dict(&sb);
}

static PyObject *Fs_list(FsObject *self, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    csvavro_dirent *list = NULL;
    size_t n = 0;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_list(self->fs, path, &list, &n, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++) {
        PyObject *d = stat_dict(&list[i].st);
        PyObject *t = d ? Py_BuildValue("(sN)", list[i].name, d) : NULL;
        if (!t) {
            Py_CLEAR(l);
            break;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, t);
    }
    csvavro_fs_free_list(list, n);
    return l;
}

/* The methods taking (path, flag=default) and returning None: the arguments converted once
 * here, the storage call made without the GIL, its error raised. */
typedef csvavro_status (*fs_path_flag_fn)(csvavro_fs *fs, const char *path, int flag,
                                          csvavro_error *err);

static PyObject *fs_path_flag(FsObject *self, PyObject *args, int flag, fs_path_flag_fn fn) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s|p", &path, &flag)) return NULL;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = fn(self->fs, path, flag, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    Py_RETURN_NONE;
}

/* mkdir(path, parents=True) */
static PyObject *Fs_mkdir(FsObject *self, PyObject *args) {
    return fs_path_flag(self, args, 1, csvavro_fs_mkdir);
}

/* remove(path, recursive=False) */
static PyObject *Fs_remove(FsObject *self, PyObject *args) {
    return fs_path_flag(self, args, 0, csvavro_fs_remove);
}

static PyObject *Fs_rename(FsObject *self, PyObject *args) {
    const char *from, *to;
    int overwrite = 0;
    if (!PyArg_ParseTuple(args, "ss|p", &from, &to, &overwrite)) return NULL;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_rename(self->fs, from, to, overwrite, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    Py_RETURN_NONE;
}

static PyObject *Fs_blocks(FsObject *self, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    csvavro_block *b = NULL;
    size_t n = 0;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_blocks(self->fs, path, &b, &n, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++) {
        PyObject *hosts = PyList_New(b[i].n_hosts);
        for (int h = 0; hosts && h < b[i].n_hosts; h++)
            PyList_SET_ITEM(hosts, h, PyUnicode_FromString(b[i].hosts[h]));
        PyObject *t =
            hosts ? Py_BuildValue("(LLN)", (long long)b[i].offset, (long long)b[i].length, hosts)
                  : NULL;
        if (!t) {
            Py_CLEAR(l);
            break;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, t);
    }
    csvavro_free(b);
    return l;
}

static PyObject *Fs_scheme(FsObject *self, PyObject *unused) {
    return PyUnicode_FromString(csvavro_fs_scheme(self->fs));
}

static PyObject *Fs_url(FsObject *self, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    char *u = csvavro_fs_url(self->fs, path);
    if (!u) return PyErr_NoMemory();
    PyObject *r = PyUnicode_FromString(u);
    csvavro_free(u);
    return r;
}

static PyObject *new_file(FsObject *owner, csvavro_file *f, int writing) {
    FileObject *fo = PyObject_New(FileObject, &FileType);
    if (!fo) {
        if (writing)
            csvavro_file_abort(f);
        else {
            csvavro_error e = no_error();
            csvavro_file_close(f, &e);
        }
        return NULL;
    }
    fo->f = f;
    fo->owner = Py_NewRef((PyObject *)owner);
    fo->writing = writing;
    fo->lock = PyThread_allocate_lock();
    return (PyObject *)fo;
}

static PyObject *Fs_open_read(FsObject *self, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    csvavro_file *f = NULL;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_open_read(self->fs, path, &f, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    return new_file(self, f, 0);
}

static PyObject *Fs_create(FsObject *self, PyObject *args) {
    const char *path;
    int overwrite = 0;
    if (!PyArg_ParseTuple(args, "s|p", &path, &overwrite)) return NULL;
    csvavro_file *f = NULL;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_create(self->fs, path, overwrite, &f, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    return new_file(self, f, 1);
}

static PyObject *Fs_content_summary(FsObject *self, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    int64_t len = 0, files = 0, dirs = 0;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_content_summary(self->fs, path, &len, &files, &dirs, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    return Py_BuildValue("(LLL)", (long long)len, (long long)files, (long long)dirs);
}

static PyMethodDef Fs_methods[] = {
    {"stat", (PyCFunction)Fs_stat, METH_VARARGS, "stat(path) -> dict"},
    {"list", (PyCFunction)Fs_list, METH_VARARGS, "list(path) -> [(name, stat dict)]"},
    {"mkdir", (PyCFunction)Fs_mkdir, METH_VARARGS, "mkdir(path, parents=True)"},
    {"remove", (PyCFunction)Fs_remove, METH_VARARGS, "remove(path, recursive=False)"},
    {"rename", (PyCFunction)Fs_rename, METH_VARARGS, "rename(from, to, overwrite=False)"},
    {"blocks", (PyCFunction)Fs_blocks, METH_VARARGS, "blocks(path) -> [(offset, length, hosts)]"},
    {"scheme", (PyCFunction)Fs_scheme, METH_NOARGS, "'file' or 'hdfs'"},
    {"url", (PyCFunction)Fs_url, METH_VARARGS, "url(path) -> URL of a backend path"},
    {"open_read", (PyCFunction)Fs_open_read, METH_VARARGS, "open_read(path) -> File"},
    {"create", (PyCFunction)Fs_create, METH_VARARGS, "create(path, overwrite=False) -> File"},
    {"content_summary", (PyCFunction)Fs_content_summary, METH_VARARGS,
     "content_summary(path) -> (bytes, files, dirs)"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject FsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "csvavro._native.Fs",
    .tp_basicsize = sizeof(FsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)Fs_dealloc,
    .tp_methods = Fs_methods,
    .tp_doc = "A storage backend (csvavro_fs).",
};

static PyObject *py_open_url(PyObject *m, PyObject *args) {
    const char *url;
    if (!PyArg_ParseTuple(args, "s", &url)) return NULL;
    csvavro_fs *fs = NULL;
    char *path = NULL;
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS st = csvavro_fs_open_url(url, &fs, &path, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    FsObject *o = PyObject_New(FsObject, &FsType);
    if (!o) {
        csvavro_fs_close(fs);
        csvavro_free(path);
        return NULL;
    }
    o->fs = fs;
    PyObject *r = Py_BuildValue("(Ns)", (PyObject *)o, path);
    csvavro_free(path);
    return r;
}

/* ---- File */

static void file_finish(FileObject *self, int abort_it) {
    if (!self->f) return;
    if (self->writing && abort_it) {
        csvavro_file_abort(self->f);
    } else {
        csvavro_error e = no_error();
        csvavro_file_close(self->f, &e);
    }
    self->f = NULL;
}

static void File_dealloc(FileObject *self) {
    file_finish(self, 1); /* an unclosed written file is not complete: abort it */
    Py_XDECREF(self->owner);
    if (self->lock) PyThread_free_lock(self->lock);
    PyObject_Free(self);
}

static int file_open(FileObject *self) {
    if (!self->f) {
        PyErr_SetString(PyExc_ValueError, "I/O operation on closed file");
        return 0;
    }
    return 1;
}

/* pread(n, offset) -> bytes (shorter only at the end of the file). */
static PyObject *File_pread(FileObject *self, PyObject *args) {
    Py_ssize_t n;
    long long off;
    if (!PyArg_ParseTuple(args, "nL", &n, &off)) return NULL;
    if (!file_open(self)) return NULL;
    if (n < 0 || off < 0) return usage_error("negative size or offset");
    PyObject *b = PyBytes_FromStringAndSize(NULL, n);
    if (!b) return NULL;
    size_t got = 0;
    csvavro_error e = no_error();
    csvavro_status st;
    char *buf = PyBytes_AS_STRING(b);
    Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, 1);
    st = csvavro_file_pread(self->f, buf, (size_t)n, (int64_t)off, &got, &e);
    PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) {
        Py_DECREF(b);
        return raise_error(&e, st);
    }
    if ((Py_ssize_t)got != n) _PyBytes_Resize(&b, (Py_ssize_t)got);
    return b;
}

static PyObject *File_write(FileObject *self, PyObject *args) {
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "y*", &b)) return NULL;
    if (!file_open(self) || !self->writing) {
        PyBuffer_Release(&b);
        if (self->f) PyErr_SetString(PyExc_ValueError, "file not open for writing");
        return NULL;
    }
    csvavro_error e = no_error();
    csvavro_status st;
    Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, 1);
    st = csvavro_file_write(self->f, b.buf, (size_t)b.len, &e);
    PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS Py_ssize_t len = b.len;
    PyBuffer_Release(&b);
    if (st != CSVAVRO_OK) return raise_error(&e, st);
    return PyLong_FromSsize_t(len);
}

static PyObject *File_size(FileObject *self, PyObject *unused) {
    if (!file_open(self)) return NULL;
    return PyLong_FromLongLong((long long)csvavro_file_size(self->f));
}

/* close(): completes a written file (an error means it is not complete). */
static PyObject *File_close(FileObject *self, PyObject *unused) {
    if (!self->f) Py_RETURN_NONE;
    csvavro_error e = no_error();
    csvavro_status st;
    csvavro_file *f = self->f;
    self->f = NULL;
    Py_BEGIN_ALLOW_THREADS st = csvavro_file_close(f, &e);
    Py_END_ALLOW_THREADS if (st != CSVAVRO_OK) return raise_error(&e, st);
    Py_RETURN_NONE;
}

static PyObject *File_abort(FileObject *self, PyObject *unused) {
    Py_BEGIN_ALLOW_THREADS file_finish(self, 1);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyMethodDef File_methods[] = {
    {"pread", (PyCFunction)File_pread, METH_VARARGS, "pread(n, offset) -> bytes"},
    {"write", (PyCFunction)File_write, METH_VARARGS, "write(data) -> bytes written"},
    {"size", (PyCFunction)File_size, METH_NOARGS, "size of a file opened for reading"},
    {"close", (PyCFunction)File_close, METH_NOARGS, "close (completes a written file)"},
    {"abort", (PyCFunction)File_abort, METH_NOARGS, "close without completing"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject FileType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "csvavro._native.File",
    .tp_basicsize = sizeof(FileObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)File_dealloc,
    .tp_methods = File_methods,
    .tp_doc = "A file of a storage backend (csvavro_file).",
};

/* ------------------------------------------------------------------ module */

static PyObject *py_type_name(PyObject *m, PyObject *args) {
    int t;
    if (!PyArg_ParseTuple(args, "i", &t)) return NULL;
    return PyUnicode_FromString(csvavro_type_name((csvavro_type)t));
}

static PyMethodDef module_methods[] = {
    {"open_url", py_open_url, METH_VARARGS, "open_url(url) -> (Fs, backend path)"},
    {"csv_infer", py_csv_infer, METH_VARARGS, "csv_infer(url, csv) -> schema JSON"},
    {"csv_rows", py_csv_rows, METH_VARARGS, "csv_rows(url, csv, n) -> (names, rows)"},
    {"avro_columns", py_avro_columns, METH_VARARGS,
     "avro_columns(url, columns=None) -> (schema JSON, columns, rows)"},
    {"type_name", py_type_name, METH_VARARGS, "type_name(csvavro_type) -> str"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_native",
                                       "csvavro's C core (libcsvavro).", -1, module_methods};

PyMODINIT_FUNC PyInit__native(void); /* the entry point Python looks up (-Wmissing-prototypes) */
PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&JobType) < 0 || PyType_Ready(&FsType) < 0 || PyType_Ready(&FileType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Error = PyErr_NewExceptionWithDoc(
        "csvavro.Error",
        "A csvavro failure. Attributes: status, status_name, path, offset, line, record, "
        "column, column_name, value, message (None when unknown).",
        NULL, NULL);
    PyObject *b1 = Py_BuildValue("(OO)", Error, PyExc_FileNotFoundError);
    PyObject *b2 = Py_BuildValue("(OO)", Error, PyExc_FileExistsError);
    PyObject *b3 = Py_BuildValue("(OO)", Error, PyExc_PermissionError);
    NotFoundError = b1 ? PyErr_NewException("csvavro.NotFoundError", b1, NULL) : NULL;
    ExistsError = b2 ? PyErr_NewException("csvavro.ExistsError", b2, NULL) : NULL;
    PermissionDeniedError =
        b3 ? PyErr_NewException("csvavro.PermissionDeniedError", b3, NULL) : NULL;
    Py_XDECREF(b1);
    Py_XDECREF(b2);
    Py_XDECREF(b3);
    if (!Error || !NotFoundError || !ExistsError || !PermissionDeniedError ||
        PyModule_AddObjectRef(m, "Error", Error) < 0 ||
        PyModule_AddObjectRef(m, "NotFoundError", NotFoundError) < 0 ||
        PyModule_AddObjectRef(m, "ExistsError", ExistsError) < 0 ||
        PyModule_AddObjectRef(m, "PermissionDeniedError", PermissionDeniedError) < 0 ||
        PyModule_AddObjectRef(m, "Job", (PyObject *)&JobType) < 0 ||
        PyModule_AddObjectRef(m, "Fs", (PyObject *)&FsType) < 0 ||
        PyModule_AddObjectRef(m, "File", (PyObject *)&FileType) < 0 ||
        PyModule_AddStringConstant(m, "VERSION", CSVAVRO_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
