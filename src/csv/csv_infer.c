/*
 * csv_infer.c — schema inference, header-to-Avro name mapping, and the public row reader.
 *
 * Inference samples rows from several places of each input: the first window starts at the
 * data start (aligned, read under the caller's on-error policy); further windows start at
 * evenly spaced byte offsets, the last one ending at the end of the input, and skip to the
 * next line end (speculative: a window that lands
 * inside a quoted field just yields ragged rows, which are ignored). Small inputs (< 4 MiB of
 * data) and --infer-rows all are read from the start. Every value is classified (boolean,
 * long, double, date, local timestamp, instant, string) and classes are widened per column:
 * long+double -> double, date+local timestamp -> local timestamp, anything else mixed ->
 * string; integers that overflow int64 are strings; all-null columns are strings.
 */
#include "csv_reader.h"

#include "../io/io.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#define SAMPLE_WINDOWS 8
#define SMALL_INPUT ((int64_t)4 << 20)
#define INFER_BATCH 1024
#define WINDOW_BUF ((size_t)256 << 10)
/* with several threads, a helper samples windows HELPER_FIRST_WINDOW.. (after window 0, the
 * other thread has three and the helper four, less its start) */
#define HELPER_FIRST_WINDOW 4

cav_infer_class cav_infer_classify(const char *s, size_t n) {
    if (n == 0) return CAV_INFER_STRING;
    char c = s[0];
    if (n >= 10 && s[4] == '-' && (unsigned)(c - '0') < 10 && (unsigned)(s[1] - '0') < 10 &&
        (unsigned)(s[2] - '0') < 10 && (unsigned)(s[3] - '0') < 10) {
        /* four digits and a '-': not a long nor a double (their grammars allow a '-' only at
         * the start or right after the exponent's e), so only a date or a timestamp */
        int32_t days;
        if (cav_parse_date(s, n, &days)) return CAV_INFER_DATE;
        int64_t us;
        bool zone;
        if (cav_parse_timestamp(s, n, &us, &zone))
            return zone ? CAV_INFER_INSTANT : CAV_INFER_LOCAL_TS;
        return CAV_INFER_STRING;
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
        int64_t l;
        bool ovf;
        if (cav_parse_long_ex(s, n, &l, &ovf)) return CAV_INFER_LONG;
        if (ovf) return CAV_INFER_STRING;
        double d;
        if (cav_parse_double(s, n, &d)) return CAV_INFER_DOUBLE;
        int32_t days;
        if (cav_parse_date(s, n, &days)) return CAV_INFER_DATE;
        int64_t us;
        bool zone;
        if (cav_parse_timestamp(s, n, &us, &zone))
            return zone ? CAV_INFER_INSTANT : CAV_INFER_LOCAL_TS;
        return CAV_INFER_STRING;
    }
    uint8_t b;
    if (cav_parse_bool(s, n, &b)) return CAV_INFER_BOOL;
    double d;
    if ((c == 'n' || c == 'N' || c == 'i' || c == 'I') && cav_parse_double(s, n, &d))
        return CAV_INFER_DOUBLE;
    return CAV_INFER_STRING;
}

cav_infer_class cav_infer_join(cav_infer_class a, cav_infer_class b) {
    if (a == b) return a;
    if (a == CAV_INFER_NONE) return b;
    if (b == CAV_INFER_NONE) return a;
    if (a > b) {
        cav_infer_class t = a;
        a = b;
        b = t;
    }
    if (a == CAV_INFER_LONG && b == CAV_INFER_DOUBLE) return CAV_INFER_DOUBLE;
    if (a == CAV_INFER_DATE && b == CAV_INFER_LOCAL_TS) return CAV_INFER_LOCAL_TS;
    return CAV_INFER_STRING;
}

static csvavro_type class_type(cav_infer_class c) {
    switch (c) {
    case CAV_INFER_BOOL:
        return CSVAVRO_TYPE_BOOLEAN;
    case CAV_INFER_LONG:
        return CSVAVRO_TYPE_LONG;
    case CAV_INFER_DOUBLE:
        return CSVAVRO_TYPE_DOUBLE;
    case CAV_INFER_DATE:
        return CSVAVRO_TYPE_DATE;
    case CAV_INFER_LOCAL_TS:
        return CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS;
    case CAV_INFER_INSTANT:
        return CSVAVRO_TYPE_TIMESTAMP_MICROS;
    default:
        return CSVAVRO_TYPE_STRING;
    }
}

/* The next "_k" suffix to try per base name, so that n identical header names cost O(n) lookups
 * rather than O(n^2) (open addressing; keys borrowed from the caller's buffers, copied). */
typedef struct suffix_table {
    char **keys;
    unsigned *next;
    size_t cap;
} suffix_table;

static size_t suffix_slot(const suffix_table *t, const char *key) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    size_t i = (size_t)h & (t->cap - 1);
    while (t->keys[i] && strcmp(t->keys[i], key))
        i = (i + 1) & (t->cap - 1);
    return i;
}

static void suffix_table_free(suffix_table *t) {
    for (size_t i = 0; t->keys && i < t->cap; i++)
        cav_free(t->keys[i]);
    cav_free(t->keys);
    cav_free(t->next);
}

/* Builds a schema with Avro-valid unique names for the header texts (all STRING). */
static csvavro_status names_schema(const cav_csv_header *h, const csvavro_csv_options *o,
                                   csvavro_schema **out, csvavro_error *err) {
    CAV_TRY(csvavro_schema_create(o->record_name, o->ns, out, err));
    csvavro_schema *s = *out;
    suffix_table sfx = {0};
    sfx.cap = 16;
    while (sfx.cap < (size_t)h->n_cols * 2)
        sfx.cap *= 2;
    sfx.keys = cav_calloc(sfx.cap, sizeof *sfx.keys);
    sfx.next = cav_calloc(sfx.cap, sizeof *sfx.next);
    if (!sfx.keys || !sfx.next) {
        suffix_table_free(&sfx);
        csvavro_schema_free(s);
        *out = NULL;
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < h->n_cols; i++) {
        char base[200], name[220], trimmed[200];
        /* surrounding ASCII whitespace is not part of the name ("a, b" headers); the original
         * text stays in the field's csvavro.header attribute */
        const char *t = h->names[i];
        size_t tl = strlen(t);
        while (tl &&
               (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n' || *t == '\v' || *t == '\f'))
            t++, tl--;
        while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t' || t[tl - 1] == '\r' ||
                      t[tl - 1] == '\n' || t[tl - 1] == '\v' || t[tl - 1] == '\f'))
            tl--;
        snprintf(trimmed, sizeof trimmed, "%.*s", (int)CAV_MIN(tl, sizeof trimmed - 1), t);
        csvavro_avro_name(trimmed, base, sizeof base);
        snprintf(name, sizeof name, "%s", base);
        csvavro_status st = CSVAVRO_OK;
        if (cav_schema_name_index(s, name) >= 0) { /* Avro names only */
            size_t slot = suffix_slot(&sfx, base);
            if (!sfx.keys[slot]) {
                sfx.keys[slot] = cav_strdup(base);
                sfx.next[slot] = 2;
                if (!sfx.keys[slot]) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            }
            unsigned k = sfx.next[slot];
            do
                snprintf(name, sizeof name, "%s_%u", base, k++);
            while (st == CSVAVRO_OK && cav_schema_name_index(s, name) >= 0);
            sfx.next[slot] = k;
        }
        if (st == CSVAVRO_OK)
            st = csvavro_schema_add_field(s, name, h->names[i], CSVAVRO_TYPE_STRING, 1, err);
        if (st != CSVAVRO_OK) {
            suffix_table_free(&sfx);
            csvavro_schema_free(s);
            *out = NULL;
            return st;
        }
    }
    suffix_table_free(&sfx);
    return CSVAVRO_OK;
}

/* Fills err->line from err->offset when it is unknown (error path only). */
static void fill_line(csvavro_file *f, csvavro_error *err) {
    if (!err || err->line >= 0 || err->offset < 0 || !f) return;
    int64_t l;
    csvavro_error e;
    if (cav_csv_count_lines(f, err->offset, &l, &e) == CSVAVRO_OK) err->line = l;
}

typedef struct infer_state {
    cav_infer_class *cls;
    uint64_t *nulls;
    uint64_t rows;
} infer_state;

static csvavro_status sample_range(cav_csv_reader *r, cav_batch *b, csvavro_file *f,
                                   const char *path, int64_t start, int64_t end, bool aligned,
                                   uint64_t quota, infer_state *is, csvavro_error *err) {
    CAV_TRY(cav_csv_reader_open_range(r, f, path, start, end, aligned, err));
    uint64_t got = 0;
    while (got < quota) {
        CAV_TRY(cav_csv_reader_next(r, b, err));
        if (b->n_rows == 0) break;
        for (uint32_t i = 0; i < b->n_rows && got < quota; i++, got++) {
            for (uint32_t c = 0; c < b->n_cols; c++) {
                const char *p;
                size_t n;
                bool is_null;
                CAV_TRY(cav_csv_reader_text(r, b, i, c, &p, &n, &is_null, err));
                if (is_null || n == 0) { /* "" is null in every type but string */
                    is->nulls[c]++;
                    continue;
                }
                if (is->cls[c] != CAV_INFER_STRING)
                    is->cls[c] = cav_infer_join(is->cls[c], cav_infer_classify(p, n));
            }
            is->rows++;
        }
    }
    return CSVAVRO_OK;
}

/* One window of the sample: rows from byte `start` (window 0: aligned at the data start, under
 * the caller's on-error policy; the others skip to the next line end and skip bad records);
 * window 0 also measures the bytes its rows took (*window_bytes). */
static csvavro_status sample_window(csvavro_file *f, const char *path, const csvavro_csv_options *o,
                                    const cav_csv_header *h, const csvavro_schema *names,
                                    cav_batch *b, int w, int64_t start, uint64_t per,
                                    infer_state *is, int64_t *window_bytes, csvavro_error *err) {
    uint64_t rows_before = is->rows;
    csvavro_csv_options so = *o;
    so.max_errors = 0; /* as in infer_file */
    if (w > 0) so.on_error = CSVAVRO_ON_ERROR_SKIP;
    cav_csv_reader *wr = NULL;
    CAV_TRY(
        cav_csv_reader_create(&so, names, cav_csv_batch_rows(INFER_BATCH, h->n_cols), &wr, err));
    cav_csv_reader_allow_trailing_empty(wr, h->trailing_empty);
    /* a window is ~2,500 rows (0.4 MB of the 14-column taxi file): read in 256 KiB, not the
     * default 1 MiB (read and scanned past the rows taken); a longer record grows the buffer */
    cav_csv_reader_tune(wr, -1, WINDOW_BUF);
    if (w == 0) cav_csv_reader_set_base(wr, 1, h->data_start_line);
    csvavro_status st = sample_range(wr, b, f, path, start, INT64_MAX, w == 0, per, is, err);
    if (w == 0 && is->rows > rows_before) *window_bytes = cav_csv_reader_bytes_done(wr) + 4096;
    cav_csv_reader_free(wr);
    return st;
}

/* The windows [w0, w1) of a windowed sample into their own state, on a helper thread (its own
 * handle of the input, its own batch). */
typedef struct window_job {
    csvavro_fs *fs;
    const char *path;
    const csvavro_csv_options *o;
    const cav_csv_header *h;
    const csvavro_schema *names;
    int64_t data, window_bytes;
    uint64_t per;
    int w0, w1;
    infer_state is;
    csvavro_status st;
    csvavro_error err;
    /* the helper starts before window 0 is sampled (where its windows start depends on window
     * 0's length): it opens the input and sets its batch up meanwhile, then waits for `go` */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int go; /* 0 waiting, 1 window_bytes is set, -1 nothing to do (window 0 failed) */
} window_job;

static int64_t window_start(const cav_csv_header *h, int64_t data, int64_t window_bytes, int w) {
    /* window 0 at the data start, the last one ending at the end of the input */
    int64_t span = data - window_bytes;
    if (span < 0) span = 0;
    return h->data_start + span / (SAMPLE_WINDOWS - 1) * w;
}

static void *window_main(void *arg) {
    window_job *wj = arg;
    csvavro_file *f = NULL;
    cav_batch b;
    memset(&b, 0, sizeof b);
    const csvavro_csv_options *o = wj->o;
    uint32_t n_cols = wj->h->n_cols;
    wj->st = cav_input_open(wj->fs, wj->path, o->compression, o->zip_entry, &f, &wj->err);
    if (wj->st == CSVAVRO_OK)
        wj->st =
            cav_batch_init(&b, n_cols, NULL, cav_csv_batch_rows(INFER_BATCH, n_cols), 0, &wj->err);
    pthread_mutex_lock(&wj->mu);
    while (wj->go == 0)
        pthread_cond_wait(&wj->cv, &wj->mu);
    bool go = wj->go > 0;
    pthread_mutex_unlock(&wj->mu);
    for (int w = wj->w0; go && w < wj->w1 && wj->st == CSVAVRO_OK; w++)
        wj->st = sample_window(f, wj->path, o, wj->h, wj->names, &b, w,
                               window_start(wj->h, wj->data, wj->window_bytes, w), wj->per, &wj->is,
                               NULL, &wj->err);
    cav_batch_free(&b);
    if (f) csvavro_file_close(f, NULL);
    return NULL;
}

/* Starts the helper for the windows [w0, SAMPLE_WINDOWS); false when it cannot (the caller
 * then runs them itself: the same result). */
static bool helper_start(window_job *wj, pthread_t *tid) {
    uint32_t n = wj->h->n_cols;
    wj->is.cls = cav_calloc(n, sizeof *wj->is.cls);
    wj->is.nulls = cav_calloc(n, sizeof *wj->is.nulls);
    wj->is.rows = 0;
    wj->st = CSVAVRO_OK;
    wj->go = 0;
    if (wj->is.cls && wj->is.nulls && pthread_mutex_init(&wj->mu, NULL) == 0) {
        if (pthread_cond_init(&wj->cv, NULL) == 0) {
            /* on another core than this thread's: a new thread is queued on its creator's
             * core when the other looks busy (on these VMs an idle vCPU the host descheduled
             * does), and then starts only when this thread blocks in the join (1.2-1.9 ms
             * later, in half of the runs at -j2); it lives a few milliseconds */
            pthread_attr_t at;
            bool attr = pthread_attr_init(&at) == 0;
            cpu_set_t cs;
            int me = sched_getcpu();
            if (attr && me >= 0 && me < CPU_SETSIZE && sched_getaffinity(0, sizeof cs, &cs) == 0 &&
                CPU_COUNT(&cs) > 1 && CPU_ISSET(me, &cs)) {
                CPU_CLR(me, &cs);
                pthread_attr_setaffinity_np(&at, sizeof cs, &cs);
            }
            int rc = pthread_create(tid, attr ? &at : NULL, window_main, wj);
            if (attr) pthread_attr_destroy(&at);
            if (rc == 0) return true;
            pthread_cond_destroy(&wj->cv);
        }
        pthread_mutex_destroy(&wj->mu);
    }
    cav_free(wj->is.cls);
    cav_free(wj->is.nulls);
    return false;
}

/* Lets the waiting helper go: with window 0's length, or (ok false) with nothing to do. */
static void helper_go(window_job *wj, bool ok, int64_t window_bytes) {
    pthread_mutex_lock(&wj->mu);
    wj->window_bytes = window_bytes;
    wj->go = ok ? 1 : -1;
    pthread_cond_signal(&wj->cv);
    pthread_mutex_unlock(&wj->mu);
}

static csvavro_status infer_file(csvavro_fs *fs, csvavro_file *f, const char *path,
                                 const csvavro_csv_options *o, const cav_csv_header *h,
                                 const csvavro_schema *names, uint64_t quota, int threads,
                                 infer_state *is, csvavro_error *err) {
    cav_csv_reader *r = NULL;
    cav_batch b;
    memset(&b, 0, sizeof b);
    /* --max-errors counts the bad records of the conversion, where values are checked against
     * their types: the sample sees only the structural ones, and counting those would name a
     * record that is not the first over the limit */
    csvavro_csv_options so0 = *o;
    so0.max_errors = 0;
    csvavro_status st =
        cav_csv_reader_create(&so0, names, cav_csv_batch_rows(INFER_BATCH, h->n_cols), &r, err);
    if (st != CSVAVRO_OK) return st;
    cav_csv_reader_allow_trailing_empty(r, h->trailing_empty);
    st = cav_batch_init(&b, h->n_cols, NULL, cav_csv_batch_rows(INFER_BATCH, h->n_cols), 0, err);
    if (st != CSVAVRO_OK) goto done;
    int64_t size = csvavro_file_size(f);
    int64_t data = size - h->data_start;
    if (quota == UINT64_MAX && f->stream) {
        st = cav_err(err, CSVAVRO_E_USAGE,
                     "--infer-rows all needs the whole input before converting it, but %s is a "
                     "stream, read once: give a number of rows or --schema",
                     f->path);
        goto done;
    }
    if (quota == UINT64_MAX || data < SMALL_INPUT || f->sequential) {
        /* a decoded or streamed input: the first rows (no seeking into it) */
        cav_csv_reader_set_base(r, 1, h->data_start_line);
        st = sample_range(r, &b, f, path, h->data_start, INT64_MAX, true, quota, is, err);
        goto done;
    }
    /* Window 0 first (where windows 1.. start depends on its length); then, with several
     * threads, a helper samples the last windows into its own state while this thread samples
     * the first ones. The helper is started before window 0, on another core, so that its
     * start and its set-up overlap window 0. Classes join per column in a lattice
     * (cav_infer_join: commutative, associative, tested exhaustively in test_csv) and null and
     * row counts add up, so the merged state is the serial one (tests/csv/infer_threads.py). */
    uint64_t per = quota / SAMPLE_WINDOWS + 1;
    int64_t window_bytes = 0;
    window_job wj = {.fs = fs,
                     .path = path,
                     .o = o,
                     .h = h,
                     .names = names,
                     .data = data,
                     .per = per,
                     .w0 = HELPER_FIRST_WINDOW,
                     .w1 = SAMPLE_WINDOWS};
    pthread_t tid;
    bool helper = threads >= 2 && fs && helper_start(&wj, &tid);
    st = sample_window(f, path, o, h, names, &b, 0, h->data_start, per, is, &window_bytes, err);
    if (helper) helper_go(&wj, st == CSVAVRO_OK, window_bytes);
    int mine = helper ? HELPER_FIRST_WINDOW : SAMPLE_WINDOWS;
    for (int w = 1; w < mine && st == CSVAVRO_OK; w++)
        st = sample_window(f, path, o, h, names, &b, w, window_start(h, data, window_bytes, w), per,
                           is, NULL, err);
    if (helper) {
        pthread_join(tid, NULL);
        pthread_cond_destroy(&wj.cv);
        pthread_mutex_destroy(&wj.mu);
        if (st == CSVAVRO_OK && wj.st != CSVAVRO_OK) { /* the serial order's first error */
            st = wj.st;
            if (err) *err = wj.err;
        }
        if (st == CSVAVRO_OK) {
            for (uint32_t c = 0; c < h->n_cols; c++) {
                is->cls[c] = cav_infer_join(is->cls[c], wj.is.cls[c]);
                is->nulls[c] += wj.is.nulls[c];
            }
            is->rows += wj.is.rows;
        }
        cav_free(wj.is.cls);
        cav_free(wj.is.nulls);
    }
done:
    if (st != CSVAVRO_OK) fill_line(f, err);
    cav_batch_free(&b);
    cav_csv_reader_free(r);
    return st;
}

/* --type COL=decimal(P,S) or decimal(P) (scale 0): an Avro bytes decimal. */
static csvavro_status decimal_override(csvavro_schema *s, size_t ci, const char *col,
                                       const char *spec, csvavro_error *err) {
    int p = 0, sc = 0, used = 0;
    const char *a = spec + 7;
    if (!((sscanf(a, "(%d,%d)%n", &p, &sc, &used) == 2 && a[used] == '\0') ||
          (sscanf(a, "(%d)%n", &p, &used) == 1 && a[used] == '\0' && (sc = 0, true))))
        return cav_err(err, CSVAVRO_E_USAGE,
                       "--type %s=%s: expected decimal(PRECISION,SCALE), e.g. decimal(10,2)", col,
                       spec);
    csvavro_status st = csvavro_schema_set_decimal(s, ci, p, sc, 0, NULL, err);
    if (st != CSVAVRO_OK) {
        if (err) err->status = CSVAVRO_E_USAGE;
        return CSVAVRO_E_USAGE;
    }
    return CSVAVRO_OK;
}

/* --type and --not-null applied to s (inferred, or the union of several inferences). */
static csvavro_status apply_overrides(csvavro_schema *s, const csvavro_csv_options *o,
                                      csvavro_error *err) {
    csvavro_status st = CSVAVRO_OK;
    for (size_t i = 0; i < o->n_type_overrides && st == CSVAVRO_OK; i++) {
        const char *eq = strrchr(o->type_overrides[i], '=');
        if (!eq)
            return cav_err(err, CSVAVRO_E_USAGE, "--type %s: expected COLUMN=TYPE",
                           o->type_overrides[i]);
        char col[256];
        snprintf(col, sizeof col, "%.*s", (int)(eq - o->type_overrides[i]), o->type_overrides[i]);
        long ci = csvavro_schema_find(s, col);
        csvavro_type t;
        const char *sg = ci < 0 ? cav_schema_suggest(s, col) : NULL;
        if (ci < 0 && sg)
            st = cav_err(err, CSVAVRO_E_USAGE, "--type: no column named '%s' (did you mean '%s'?)",
                         col, sg);
        else if (ci < 0)
            st = cav_err(err, CSVAVRO_E_USAGE, "--type: no column named '%s'", col);
        else if (strncmp(eq + 1, "decimal", 7) == 0)
            st = decimal_override(s, (size_t)ci, col, eq + 1, err);
        else if (csvavro_type_parse(eq + 1, &t) != CSVAVRO_OK || t == CSVAVRO_TYPE_NULL)
            st = cav_err(err, CSVAVRO_E_USAGE, "--type %s: unknown type '%s'", col, eq + 1);
        else
            s->fields[ci].type = t;
    }
    for (size_t i = 0; i < o->n_not_null && st == CSVAVRO_OK; i++) {
        long ci = csvavro_schema_find(s, o->not_null[i]);
        if (ci < 0)
            st = cav_err(err, CSVAVRO_E_USAGE, "--not-null: no column named '%s'", o->not_null[i]);
        else
            s->fields[ci].nullable = false;
    }
    return st;
}

/* Inputs with the same columns sampled together; *only_null (when not NULL) gets a byte per
 * column: 1 when the sample saw no value in it (its type, string, says nothing). */
static csvavro_status infer_same(csvavro_fs *fs, const char *const *paths, size_t n_paths,
                                 const csvavro_csv_options *o, bool overrides, int threads,
                                 csvavro_schema **out, uint8_t **only_null, csvavro_error *err) {
    *out = NULL;
    csvavro_status st = CSVAVRO_OK;
    cav_csv_header h;
    memset(&h, 0, sizeof h);
    csvavro_schema *s = NULL;
    infer_state is = {0};
    uint64_t quota =
        o->infer_rows == UINT64_MAX ? UINT64_MAX : CAV_MAX(o->infer_rows / n_paths, (uint64_t)1);
    for (size_t k = 0; k < n_paths; k++) {
        csvavro_file *f = NULL;
        st = cav_input_open(fs, paths[k], o->compression, o->zip_entry, &f, err);
        if (st != CSVAVRO_OK) break;
        cav_csv_header hk;
        st = cav_csv_read_header(f, o, &hk, err);
        if (st == CSVAVRO_OK && k == 0) {
            h = hk;
            if (h.n_cols == 0) {
                cav_err_path(err, paths[k]);
                st = cav_err(err, CSVAVRO_E_CSV, "no header and no records: the input is empty");
            } else {
                st = names_schema(&h, o, &s, err);
                if (st == CSVAVRO_OK) {
                    is.cls = cav_calloc(h.n_cols, sizeof *is.cls);
                    is.nulls = cav_calloc(h.n_cols, sizeof *is.nulls);
                    if (!is.cls || !is.nulls) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
                }
            }
        } else if (st == CSVAVRO_OK && hk.n_cols != 0) {
            if (o->header && !o->n_names) {
                st = cav_csv_header_diff(&h, paths[0], &hk, paths[k], err);
            } else if (hk.n_cols != h.n_cols) {
                cav_err_path(err, paths[k]);
                st = cav_err(err, CSVAVRO_E_CSV, "has %u columns but %s has %u", hk.n_cols,
                             paths[0], h.n_cols);
            }
        }
        if (st == CSVAVRO_OK && (k == 0 || hk.n_cols))
            st = infer_file(fs, f, paths[k], o, k == 0 ? &h : &hk, s, quota, threads, &is, err);
        if (k > 0) cav_csv_header_free(&hk);
        csvavro_file_close(f, NULL);
        if (st != CSVAVRO_OK) break;
    }
    if (st == CSVAVRO_OK) {
        bool exact = o->infer_rows == UINT64_MAX;
        for (uint32_t c = 0; c < h.n_cols; c++) {
            s->fields[c].type = class_type(is.cls[c]);
            /* --timestamps: what inferred timestamps become for readers without local-timestamp */
            if (o->timestamps &&
                (is.cls[c] == CAV_INFER_LOCAL_TS || is.cls[c] == CAV_INFER_INSTANT)) {
                if (o->timestamps == CSVAVRO_TYPE_STRING)
                    s->fields[c].type = CSVAVRO_TYPE_STRING;
                else if (is.cls[c] == CAV_INFER_LOCAL_TS ||
                         o->timestamps == CSVAVRO_TYPE_TIMESTAMP_MILLIS)
                    s->fields[c].type = o->timestamps;
            }
            s->fields[c].nullable = !(exact && is.nulls[c] == 0 && is.rows > 0);
        }
        if (overrides) st = apply_overrides(s, o, err);
    }
    if (st == CSVAVRO_OK && only_null) {
        *only_null = cav_calloc(h.n_cols ? h.n_cols : 1, 1);
        if (!*only_null)
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        else
            for (uint32_t c = 0; c < h.n_cols; c++)
                (*only_null)[c] = is.cls[c] == CAV_INFER_NONE;
    }
    cav_free(is.cls);
    cav_free(is.nulls);
    cav_csv_header_free(&h);
    if (st != CSVAVRO_OK) {
        csvavro_schema_free(s);
        return st;
    }
    *out = s;
    return CSVAVRO_OK;
}

/* ------------------------------------------------------------------ union by name */

/* The text without its surrounding ASCII whitespace: [*p, *p + *n). */
static void trim_span(const char *t, const char **p, size_t *n) {
    size_t tl = strlen(t);
    while (tl && (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n' || *t == '\v' || *t == '\f'))
        t++, tl--;
    while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t' || t[tl - 1] == '\r' || t[tl - 1] == '\n' ||
                  t[tl - 1] == '\v' || t[tl - 1] == '\f'))
        tl--;
    *p = t;
    *n = tl;
}

static bool trimmed_eq(const char *a, const char *b) {
    const char *pa, *pb;
    size_t na, nb;
    trim_span(a, &pa, &na);
    trim_span(b, &pb, &nb);
    return na == nb && memcmp(pa, pb, na) == 0;
}

static uint64_t trimmed_hash(const char *t) {
    const char *p;
    size_t n;
    trim_span(t, &p, &n);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

/* A set of header texts keyed by their trimmed text: slot = index + 1 into names. */
typedef struct name_set {
    uint32_t *slot;
    size_t cap;
    const char *const *names;
} name_set;

static csvavro_status set_build(name_set *s, const char *const *names, size_t n,
                                csvavro_error *err) {
    s->cap = 16;
    while (s->cap < 2 * n + 2)
        s->cap *= 2;
    s->names = names;
    s->slot = cav_calloc(s->cap, sizeof *s->slot);
    if (!s->slot) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)trimmed_hash(names[i]) & (s->cap - 1);
        while (s->slot[k] && !trimmed_eq(names[s->slot[k] - 1], names[i]))
            k = (k + 1) & (s->cap - 1);
        if (!s->slot[k]) s->slot[k] = (uint32_t)i + 1; /* the first of duplicates */
    }
    return CSVAVRO_OK;
}

static long set_find(const name_set *s, const char *name) {
    for (size_t k = (size_t)trimmed_hash(name) & (s->cap - 1); s->slot[k];
         k = (k + 1) & (s->cap - 1))
        if (trimmed_eq(s->names[s->slot[k] - 1], name)) return (long)s->slot[k] - 1;
    return -1;
}

/* Appends "a", "b", ... (trimmed texts) to buf while it stays under cap bytes. */
static void list_names(char *buf, size_t cap, const char *const *names, const size_t *idx,
                       size_t n) {
    size_t len = strlen(buf);
    if (len + 40 >= cap) return;
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t pn;
        trim_span(names[idx[i]], &p, &pn);
        if (len + pn + 40 >= cap) {
            snprintf(buf + len, cap - len, " and %zu more", n - i);
            return;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s\"%.*s\"", i ? ", " : "", (int)pn, p);
    }
}

csvavro_status cav_csv_header_diff(const cav_csv_header *ref, const char *ref_name,
                                   const cav_csv_header *h, const char *name, csvavro_error *err) {
    bool same = ref->n_cols == h->n_cols;
    for (uint32_t c = 0; same && c < h->n_cols; c++)
        same = trimmed_eq(ref->names[c], h->names[c]);
    if (same) return CSVAVRO_OK;
    name_set a = {0}, b = {0};
    size_t *added = cav_calloc(h->n_cols + 1, sizeof *added);
    size_t *removed = cav_calloc(ref->n_cols + 1, sizeof *removed);
    size_t *ren_old = cav_calloc(ref->n_cols + 1, sizeof *ren_old);
    size_t *ren_new = cav_calloc(ref->n_cols + 1, sizeof *ren_new);
    csvavro_status st = CSVAVRO_OK;
    if (!added || !removed || !ren_old || !ren_new) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    st = set_build(&a, (const char *const *)ref->names, ref->n_cols, err);
    if (st == CSVAVRO_OK) st = set_build(&b, (const char *const *)h->names, h->n_cols, err);
    if (st != CSVAVRO_OK) goto done;
    size_t na = 0, nr = 0, nren = 0;
    /* a column gone and another new at the same position: most likely renamed */
    for (uint32_t c = 0; c < ref->n_cols; c++) {
        if (set_find(&b, ref->names[c]) >= 0) continue;
        if (c < h->n_cols && set_find(&a, h->names[c]) < 0) {
            ren_old[nren] = c;
            ren_new[nren++] = c;
        } else {
            removed[nr++] = c;
        }
    }
    for (uint32_t c = 0; c < h->n_cols; c++) {
        if (set_find(&a, h->names[c]) >= 0) continue;
        bool ren = c < ref->n_cols && set_find(&b, ref->names[c]) < 0;
        if (!ren) added[na++] = c;
    }
    char msg[700];
    snprintf(msg, sizeof msg, "header differs from %s:", ref_name);
    if (!na && !nr && !nren) {
        uint32_t c = 0;
        while (c < h->n_cols && trimmed_eq(ref->names[c], h->names[c]))
            c++;
        size_t len = strlen(msg);
        const char *p, *q;
        size_t pn, qn;
        trim_span(h->names[c], &p, &pn);
        trim_span(ref->names[c], &q, &qn);
        snprintf(msg + len, sizeof msg - len,
                 " the same columns in another order (column %u is \"%.*s\", not \"%.*s\")", c + 1,
                 (int)CAV_MIN(pn, (size_t)100), p, (int)CAV_MIN(qn, (size_t)100), q);
    } else {
        if (na) {
            strncat(msg, " added ", sizeof msg - strlen(msg) - 1);
            list_names(msg, sizeof msg - 320, (const char *const *)h->names, added, na);
        }
        if (nr) {
            strncat(msg, na ? "; removed " : " removed ", sizeof msg - strlen(msg) - 1);
            list_names(msg, sizeof msg - 200, (const char *const *)ref->names, removed, nr);
        }
        for (size_t i = 0; i < nren && strlen(msg) + 120 < sizeof msg; i++) {
            size_t len = strlen(msg);
            const char *p, *q;
            size_t pn, qn;
            trim_span(ref->names[ren_old[i]], &p, &pn);
            trim_span(h->names[ren_new[i]], &q, &qn);
            snprintf(msg + len, sizeof msg - len, "%s column %zu renamed \"%.*s\" -> \"%.*s\"",
                     (na || nr || i) ? ";" : "", ren_new[i] + 1, (int)CAV_MIN(pn, (size_t)40), p,
                     (int)CAV_MIN(qn, (size_t)40), q);
        }
    }
    cav_err_path(err, name);
    st = cav_err(err, CSVAVRO_E_CSV,
                 "%s (--union-by-name reads inputs with different columns as one schema)", msg);
done:
    cav_free(a.slot);
    cav_free(b.slot);
    cav_free(added);
    cav_free(removed);
    cav_free(ren_old);
    cav_free(ren_new);
    return st;
}

/* int -> long -> double; anything else mixed -> string. */
static csvavro_type widen(csvavro_type a, csvavro_type b) {
    if (a == b) return a;
    bool ia = a == CSVAVRO_TYPE_INT || a == CSVAVRO_TYPE_LONG;
    bool ib = b == CSVAVRO_TYPE_INT || b == CSVAVRO_TYPE_LONG;
    bool fa = a == CSVAVRO_TYPE_FLOAT || a == CSVAVRO_TYPE_DOUBLE;
    bool fb = b == CSVAVRO_TYPE_FLOAT || b == CSVAVRO_TYPE_DOUBLE;
    if (ia && ib) return CSVAVRO_TYPE_LONG;
    if ((ia || fa) && (ib || fb)) return CSVAVRO_TYPE_DOUBLE;
    return CSVAVRO_TYPE_STRING;
}

/* --union-by-name: inputs grouped by their header (trimmed texts, in order), each group
 * inferred on its own (without --type/--not-null), then one schema: columns by trimmed header
 * text in first-seen order, types widened over the groups that saw a value, nullable when a
 * group says so or some input lacks the column; then --type/--not-null. */
static csvavro_status infer_union(csvavro_fs *fs, const char *const *paths, size_t n_paths,
                                  const csvavro_csv_options *o, int threads, csvavro_schema **out,
                                  csvavro_error *err) {
    csvavro_status st = CSVAVRO_OK;
    cav_csv_header *hs = cav_calloc(n_paths, sizeof *hs);
    size_t *group = cav_calloc(n_paths, sizeof *group);
    const char **gp = cav_calloc(n_paths, sizeof *gp);
    csvavro_schema *u = NULL;
    uint32_t *cnt = NULL;
    uint8_t *seen = NULL;
    size_t cap_u = 0;
    name_set ks = {0};
    char **keys = NULL; /* the union's header texts (borrowed from hs) */
    if (!hs || !group || !gp) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    size_t total = 0, with_cols = 0;
    for (size_t k = 0; k < n_paths && st == CSVAVRO_OK; k++) {
        csvavro_file *f = NULL;
        st = cav_input_open(fs, paths[k], o->compression, o->zip_entry, &f, err);
        if (st != CSVAVRO_OK) break;
        st = cav_csv_read_header(f, o, &hs[k], err);
        csvavro_file_close(f, NULL);
        if (st != CSVAVRO_OK && err && !err->path[0]) cav_err_path(err, paths[k]);
        total += hs[k].n_cols;
        with_cols += hs[k].n_cols > 0;
    }
    if (st != CSVAVRO_OK) goto done;
    if (!with_cols) {
        cav_err_path(err, paths[0]);
        st = cav_err(err, CSVAVRO_E_CSV, "no header and no records: the inputs are empty");
        goto done;
    }
    keys = cav_calloc(total + 1, sizeof *keys);
    cnt = cav_calloc(total + 1, sizeof *cnt);
    seen = cav_calloc(total + 1, 1);
    ks.cap = 16;
    while (ks.cap < 2 * total + 2)
        ks.cap *= 2;
    ks.slot = cav_calloc(ks.cap, sizeof *ks.slot);
    ks.names = (const char *const *)keys;
    if (!keys || !cnt || !seen || !ks.slot) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    st = csvavro_schema_create(o->record_name, o->ns, &u, err);
    csvavro_csv_options go = *o;
    go.n_type_overrides = 0;
    go.n_not_null = 0;
    for (size_t k = 0; k < n_paths; k++)
        group[k] = SIZE_MAX;
    for (size_t k = 0; k < n_paths && st == CSVAVRO_OK; k++) {
        if (group[k] != SIZE_MAX || hs[k].n_cols == 0) continue;
        size_t ng = 0;
        for (size_t m = k; m < n_paths; m++) {
            if (group[m] != SIZE_MAX || hs[m].n_cols != hs[k].n_cols) continue;
            bool same = true;
            for (uint32_t c = 0; same && c < hs[k].n_cols; c++)
                same = trimmed_eq(hs[k].names[c], hs[m].names[c]);
            if (!same) continue;
            group[m] = k;
            gp[ng++] = paths[m];
        }
        csvavro_schema *g = NULL;
        uint8_t *none = NULL;
        st = infer_same(fs, gp, ng, &go, false, threads, &g, &none, err);
        for (size_t c = 0; st == CSVAVRO_OK && c < g->n_fields; c++) {
            const char *text = hs[k].names[c];
            size_t i = (size_t)trimmed_hash(text) & (ks.cap - 1);
            while (ks.slot[i] && !trimmed_eq(keys[ks.slot[i] - 1], text))
                i = (i + 1) & (ks.cap - 1);
            size_t ui;
            if (ks.slot[i]) {
                ui = ks.slot[i] - 1;
                if (seen[ui] >= 2) continue; /* a duplicate header name in this input */
            } else {
                ui = u->n_fields;
                char base[200], nm[220], trimmed[200];
                const char *p;
                size_t pn;
                trim_span(text, &p, &pn);
                snprintf(trimmed, sizeof trimmed, "%.*s", (int)CAV_MIN(pn, sizeof trimmed - 1), p);
                csvavro_avro_name(trimmed, base, sizeof base);
                snprintf(nm, sizeof nm, "%s", base);
                for (unsigned d = 2; cav_schema_name_index(u, nm) >= 0; d++)
                    snprintf(nm, sizeof nm, "%s_%u", base, d);
                st = csvavro_schema_add_field(u, nm, text, g->fields[c].type, g->fields[c].nullable,
                                              err);
                if (st != CSVAVRO_OK) break;
                keys[ui] = (char *)text;
                ks.slot[i] = (uint32_t)ui + 1;
                seen[ui] = none[c] ? 0 : 1;
                cnt[ui] += (uint32_t)ng;
                seen[ui] |= 2; /* marks "this group counted" until the group ends */
                continue;
            }
            cav_field *f = &u->fields[ui];
            if (!none[c]) {
                f->type = (seen[ui] & 1) ? widen(f->type, g->fields[c].type) : g->fields[c].type;
                seen[ui] |= 1;
            }
            f->nullable = f->nullable || g->fields[c].nullable;
            cnt[ui] += (uint32_t)ng;
            seen[ui] |= 2;
        }
        for (size_t ui = 0; ui < u->n_fields; ui++)
            seen[ui] &= 1;
        cav_free(none);
        csvavro_schema_free(g);
    }
    cap_u = u ? u->n_fields : 0;
    for (size_t ui = 0; st == CSVAVRO_OK && ui < cap_u; ui++) {
        if (!(seen[ui] & 1)) u->fields[ui].type = CSVAVRO_TYPE_STRING;
        if (cnt[ui] < with_cols) u->fields[ui].nullable = true; /* missing somewhere */
    }
    if (st == CSVAVRO_OK) st = apply_overrides(u, o, err);
done:
    for (size_t k = 0; hs && k < n_paths; k++)
        cav_csv_header_free(&hs[k]);
    cav_free(hs);
    cav_free(group);
    cav_free(gp);
    cav_free(keys);
    cav_free(cnt);
    cav_free(seen);
    cav_free(ks.slot);
    if (st != CSVAVRO_OK) {
        csvavro_schema_free(u);
        return st;
    }
    *out = u;
    return CSVAVRO_OK;
}

csvavro_status csvavro_csv_infer(csvavro_fs *fs, const char *const *paths, size_t n_paths,
                                 const csvavro_csv_options *o, csvavro_schema **out,
                                 csvavro_error *err) {
    return cav_csv_infer_threads(fs, paths, n_paths, o, 1, out, err);
}

csvavro_status cav_csv_infer_threads(csvavro_fs *fs, const char *const *paths, size_t n_paths,
                                     const csvavro_csv_options *o, int threads,
                                     csvavro_schema **out, csvavro_error *err) {
    *out = NULL;
    CAV_RETURN_IF(n_paths == 0, err, CSVAVRO_E_USAGE, "no input to infer a schema from");
    CAV_TRY(cav_csv_options_check(o, err));
    CAV_RETURN_IF(o->timestamps && o->timestamps != CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS &&
                      o->timestamps != CSVAVRO_TYPE_TIMESTAMP_MILLIS &&
                      o->timestamps != CSVAVRO_TYPE_TIMESTAMP_MICROS &&
                      o->timestamps != CSVAVRO_TYPE_STRING,
                  err, CSVAVRO_E_USAGE,
                  "timestamps: local-timestamp-micros, timestamp-millis, timestamp-micros or "
                  "string");
    if (o->union_by_name) {
        CAV_RETURN_IF(!o->header || o->n_names, err, CSVAVRO_E_USAGE,
                      "--union-by-name matches columns by their header names: not with "
                      "--no-header or --names");
        return infer_union(fs, paths, n_paths, o, threads, out, err);
    }
    return infer_same(fs, paths, n_paths, o, true, threads, out, NULL, err);
}

/* ------------------------------------------------------------------ public row reader */

#define ROW_BATCH 256

struct csvavro_csv_reader {
    csvavro_fs *fs;
    csvavro_file *f;
    cav_csv_header h;
    csvavro_schema *names;
    cav_csv_reader *r;
    cav_batch b;
    uint32_t row;
    const char **fields;
    size_t *lens;
    csvavro_type *types; /* csvavro_csv_use_schema: the column types, else NULL */
};

void csvavro_csv_close(csvavro_csv_reader *cr) {
    if (!cr) return;
    cav_batch_free(&cr->b);
    cav_csv_reader_free(cr->r);
    csvavro_schema_free(cr->names);
    cav_csv_header_free(&cr->h);
    if (cr->f) csvavro_file_close(cr->f, NULL);
    cav_free(cr->fields);
    cav_free(cr->lens);
    cav_free(cr->types);
    cav_free(cr);
}

csvavro_status csvavro_csv_open(csvavro_fs *fs, const char *path, const csvavro_csv_options *o,
                                csvavro_csv_reader **out, csvavro_error *err) {
    *out = NULL;
    csvavro_csv_reader *cr = cav_calloc(1, sizeof *cr);
    if (!cr) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    csvavro_status st = cav_input_open(fs, path, o->compression, o->zip_entry, &cr->f, err);
    if (st == CSVAVRO_OK) st = cav_csv_read_header(cr->f, o, &cr->h, err);
    if (st == CSVAVRO_OK && cr->h.n_cols == 0) {
        cav_err_path(err, path);
        st = cav_err(err, CSVAVRO_E_CSV, "no header and no records: the input is empty");
    }
    if (st == CSVAVRO_OK) st = names_schema(&cr->h, o, &cr->names, err);
    if (st == CSVAVRO_OK)
        st = cav_csv_reader_create(o, cr->names, cav_csv_batch_rows(ROW_BATCH, cr->h.n_cols),
                                   &cr->r, err);
    if (st == CSVAVRO_OK) cav_csv_reader_allow_trailing_empty(cr->r, cr->h.trailing_empty);
    if (st == CSVAVRO_OK)
        st = cav_batch_init(&cr->b, cr->h.n_cols, NULL, cav_csv_batch_rows(ROW_BATCH, cr->h.n_cols),
                            0, err);
    if (st == CSVAVRO_OK) {
        cr->fields = cav_calloc(cr->h.n_cols, sizeof *cr->fields);
        cr->lens = cav_calloc(cr->h.n_cols, sizeof *cr->lens);
        if (!cr->fields || !cr->lens) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    if (st == CSVAVRO_OK)
        st = cav_csv_reader_open_range(cr->r, cr->f, path, cr->h.data_start, INT64_MAX, true, err);
    if (st == CSVAVRO_OK) cav_csv_reader_set_base(cr->r, 1, cr->h.data_start_line);
    if (st != CSVAVRO_OK) {
        fill_line(cr->f, err);
        csvavro_csv_close(cr);
        return st;
    }
    *out = cr;
    return CSVAVRO_OK;
}

csvavro_status csvavro_csv_use_schema(csvavro_csv_reader *cr, const csvavro_schema *s,
                                      csvavro_error *err) {
    if (csvavro_schema_field_count(s) != cr->h.n_cols)
        return cav_err(err, CSVAVRO_E_USAGE, "schema has %zu fields, the input %zu columns",
                       csvavro_schema_field_count(s), (size_t)cr->h.n_cols);
    if (!cr->types) {
        cr->types = cav_calloc(cr->h.n_cols ? cr->h.n_cols : 1, sizeof *cr->types);
        if (!cr->types) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    for (size_t c = 0; c < cr->h.n_cols; c++)
        cr->types[c] = csvavro_schema_field_type(s, c);
    return CSVAVRO_OK;
}

size_t csvavro_csv_column_count(const csvavro_csv_reader *cr) {
    return cr->h.n_cols;
}

const char *csvavro_csv_column_name(const csvavro_csv_reader *cr, size_t i) {
    return i < cr->h.n_cols ? cr->h.names[i] : NULL;
}

csvavro_status csvavro_csv_next_row(csvavro_csv_reader *cr, const char *const **fields,
                                    const size_t **lens, size_t *n_fields, csvavro_error *err) {
    *fields = NULL;
    *lens = NULL;
    *n_fields = 0;
    for (;;) {
        if (cr->row >= cr->b.n_rows) {
            cr->row = 0;
            csvavro_status st = cav_csv_reader_next(cr->r, &cr->b, err);
            if (st != CSVAVRO_OK) {
                fill_line(cr->f, err);
                return st;
            }
            if (cr->b.n_rows == 0) return CSVAVRO_OK;
        }
        uint32_t i = cr->row++;
        for (uint32_t c = 0; c < cr->h.n_cols; c++) {
            bool is_null;
            csvavro_status st = cav_csv_reader_text(cr->r, &cr->b, i, c, &cr->fields[c],
                                                    &cr->lens[c], &is_null, err);
            if (st != CSVAVRO_OK) {
                fill_line(cr->f, err);
                return st;
            }
            if (!is_null && cr->lens[c] == 0 && cr->types &&
                cav_csv_quoted_empty_is_null(cr->types[c]) && cav_csv_reader_is_quoted(cr->r, i, c))
                is_null = true;
            if (is_null) cr->fields[c] = NULL, cr->lens[c] = 0;
        }
        if (cr->b.row_error[i]) continue; /* rejected under skip/reject */
        *fields = (const char *const *)cr->fields;
        *lens = cr->lens;
        *n_fields = cr->h.n_cols;
        return CSVAVRO_OK;
    }
}
