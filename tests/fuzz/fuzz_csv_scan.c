/*
 * fuzz_csv_scan.c — differential fuzzing of the CSV scanner (src/csv/csv_scan.c).
 *
 * Input: 6 option bytes, then the CSV text.
 *   byte 0: delimiter (, ; TAB |), quote (" ' none), escape (none or \), comment (none or #)
 *   byte 1: header yes/no, latin-1, null marker "NA", skip_rows 0..3
 *   byte 2: buffer size for the variants (1..256, or 64 KiB)
 *   byte 3: batch rows for the variants (1..16)
 *   byte 4-5: split point (offset into the data part) and the record whose suffix is checked
 * The reference is the scalar machine with the default buffer and 4096-row batches, rejects
 * kept (on_error reject). The same input is read with every scanner (scalar, SSE2, AVX2,
 * AVX-512, VBMI2; a kind the CPU lacks falls back to the next one down) with
 * the fuzzed buffer size (every refill boundary) and batch size: records, null flags and
 * reject lines (offset + reason) must be identical. Then a split at the fuzzed offset, run and
 * verified as the job does (aligned [start, k), speculative [k, end), re-run aligned from the
 * first range's end when the second did not start there) must give the same records and
 * rejects; and an aligned range opened at a record start must give exactly the records from
 * there on.
 */
#include "csv/csv.h"
#include "fuzz_util.h"

typedef struct variant {
    int kind;
    size_t buf;
    uint32_t batch;
} variant;

static csvavro_csv_options opt;

/* Appends the records of [start, end) as "len:bytes|" fields with N for null and one line per
 * record; reject lines "R offset reason" are collected in rej (if given). Returns the status;
 * offs receives up to max_offs record offsets. */
static csvavro_status read_range(csvavro_file *f, const csvavro_schema *s, const variant *v,
                                 int64_t start, int64_t end, bool aligned, cav_buf *out,
                                 cav_buf *rej, int64_t *offs, size_t *outpos, size_t max_offs,
                                 size_t *n_offs, int64_t *rs, int64_t *re) {
    csvavro_error err;
    cav_csv_reader *r;
    cav_batch b;
    cav_buf sink;
    cav_buf_init(&sink, 0);
    csvavro_status st = cav_csv_reader_create(&opt, s, v->batch, &r, &err);
    FUZZ_CHECK(st == CSVAVRO_OK, "reader create: %s", err.message);
    cav_csv_reader_tune(r, v->kind, v->buf);
    cav_csv_reader_set_reject_sink(r, &sink);
    st = cav_batch_init(&b, (uint32_t)s->n_fields, NULL, v->batch, 0, &err);
    FUZZ_CHECK(st == CSVAVRO_OK, "batch init");
    st = cav_csv_reader_open_range(r, f, "in", start, end, aligned, &err);
    while (st == CSVAVRO_OK) {
        st = cav_csv_reader_next(r, &b, &err);
        if (st != CSVAVRO_OK || b.n_rows == 0) break;
        for (uint32_t i = 0; i < b.n_rows; i++) {
            if (offs && *n_offs < max_offs) {
                outpos[*n_offs] = out->len;
                offs[(*n_offs)++] = cav_csv_reader_row_offset(r, i);
            }
            for (uint32_t c = 0; c < b.n_cols && st == CSVAVRO_OK; c++) {
                const char *p;
                size_t n;
                bool isnull;
                st = cav_csv_reader_field(r, &b, i, c, &p, &n, &isnull, &err);
                if (st != CSVAVRO_OK) break;
                if (isnull)
                    cav_buf_append(out, "N|", 2, NULL);
                else {
                    cav_buf_printf(out, NULL, "%zu:", n);
                    cav_buf_append(out, p, n, NULL);
                    cav_buf_append(out, "|", 1, NULL);
                }
            }
            cav_buf_append(out, "\n", 1, NULL);
        }
    }
    if (st != CSVAVRO_OK) cav_buf_printf(out, NULL, "ERROR %d\n", (int)st);
    if (rs) *rs = cav_csv_reader_range_start(r);
    if (re) *re = cav_csv_reader_range_end(r);
    if (rej) {
        /* reject lines: offset and reason only (the rest repeats the record) */
        for (size_t i = 0; i < sink.len;) {
            const char *line = (const char *)sink.data + i;
            const char *nl = memchr(line, '\n', sink.len - i);
            size_t e = nl ? (size_t)(nl - (const char *)sink.data) : sink.len;
            char *copy = cav_strndup(line, e - i);
            const char *o = strstr(copy, "\"offset\":"), *rsn = strstr(copy, "\"reason\":");
            cav_buf_printf(rej, NULL, "R %lld %.*s\n", o ? atoll(o + 9) : -1LL,
                           rsn ? (int)strcspn(rsn + 10, "\"") : 0, rsn ? rsn + 10 : "");
            cav_free(copy);
            i = e + 1;
        }
    }
    cav_buf_free(&sink);
    cav_batch_free(&b);
    cav_csv_reader_free(r);
    return st;
}

static bool same(const cav_buf *a, const cav_buf *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6 || size > 8192) return 0;
    static const char delims[] = {',', ';', '\t', '|'};
    static const char quotes[] = {'"', '\'', 0, '"'};
    static const char *const na[] = {"NA"};
    uint8_t o0 = data[0], o1 = data[1], o2 = data[2], o3 = data[3], o4 = data[4], o5 = data[5];
    csvavro_csv_options_init(&opt);
    opt.delimiter = delims[o0 & 3];
    opt.quote = quotes[(o0 >> 2) & 3];
    opt.escape = (o0 & 0x10) ? '\\' : 0;
    opt.comment = (o0 & 0x20) ? '#' : 0;
    opt.header = !(o1 & 1);
    opt.encoding = (o1 & 2) ? CSVAVRO_ENCODING_LATIN1 : CSVAVRO_ENCODING_UTF8;
    if (o1 & 4) opt.null_values = na, opt.n_null_values = 1;
    opt.skip_rows = (o1 >> 3) & 3;
    opt.on_error = CSVAVRO_ON_ERROR_REJECT;
    opt.reject_file = NULL;
    size_t vbuf = o2 == 255 ? 65536 : (size_t)o2 + 1;
    uint32_t vbatch = (uint32_t)(o3 & 15) + 1;

    cav_buf text;
    cav_buf_init(&text, 0);
    cav_buf_append(&text, data + 6, size - 6, NULL);
    csvavro_file *f = fz_mem_file(&text, 0);
    csvavro_error err;
    cav_csv_header h;
    memset(&h, 0, sizeof h);
    csvavro_status st = cav_csv_read_header(f, &opt, &h, &err);
    if (st != CSVAVRO_OK || h.n_cols == 0 || h.n_cols > 64) {
        if (st == CSVAVRO_OK) cav_csv_header_free(&h);
        csvavro_file_close(f, NULL);
        cav_buf_free(&text);
        return 0;
    }
    csvavro_schema *s;
    csvavro_schema_create(NULL, NULL, &s, &err);
    for (uint32_t c = 0; c < h.n_cols; c++) {
        char nm[16];
        snprintf(nm, sizeof nm, "c%u", c);
        csvavro_schema_add_field(s, nm, NULL, CSVAVRO_TYPE_STRING, 1, &err);
    }
    int64_t fsize = (int64_t)text.len;

    /* the reference */
    cav_buf ref, ref_rej;
    cav_buf_init(&ref, 0);
    cav_buf_init(&ref_rej, 0);
    int64_t offs[512];
    size_t outpos[512];
    size_t n_offs = 0;
    variant rv = {CAV_CSV_SCALAR, 65536, 4096}; /* not the 8 MiB default: exec/s */
    st = read_range(f, s, &rv, h.data_start, INT64_MAX, true, &ref, &ref_rej, offs, outpos, 512,
                    &n_offs, NULL, NULL);

    /* every scanner with the fuzzed buffer and batch sizes */
    for (int kind = CAV_CSV_SCALAR; kind <= CAV_CSV_VBMI2; kind++) {
        variant v = {kind, vbuf, vbatch};
        cav_buf o, orej;
        cav_buf_init(&o, 0);
        cav_buf_init(&orej, 0);
        read_range(f, s, &v, h.data_start, INT64_MAX, true, &o, &orej, NULL, NULL, 0, NULL, NULL,
                   NULL);
        FUZZ_CHECK(same(&o, &ref),
                   "records differ: kind %d buffer %zu batch %u\n--- ref\n%.*s--- got\n%.*s", kind,
                   vbuf, vbatch, (int)ref.len, (char *)ref.data, (int)o.len, (char *)o.data);
        FUZZ_CHECK(same(&orej, &ref_rej),
                   "rejects differ: kind %d buffer %zu batch %u\n%.*s--\n%.*s", kind, vbuf, vbatch,
                   (int)ref_rej.len, (char *)ref_rej.data, (int)orej.len, (char *)orej.data);
        cav_buf_free(&o);
        cav_buf_free(&orej);
    }

    if (st == CSVAVRO_OK) {
        /* split at k as the job runs it (docs/splits.md): [data_start, k) aligned, [k, end)
         * speculative; verification keeps the second only if it starts where the first ended,
         * else re-runs it aligned from there. Records and rejects must equal the reference. */
        int64_t span = fsize - h.data_start;
        int64_t k = h.data_start + (span > 0 ? (int64_t)o4 % (span + 1) : 0);
        int kind = o5 % (CAV_CSV_VBMI2 + 1);
        variant v = {kind, vbuf, vbatch};
        cav_buf o, orej, ob2, orej2;
        cav_buf_init(&o, 0);
        cav_buf_init(&orej, 0);
        cav_buf_init(&ob2, 0);
        cav_buf_init(&orej2, 0);
        int64_t s1, e1, s2, e2;
        read_range(f, s, &v, h.data_start, k, true, &o, &orej, NULL, NULL, 0, NULL, &s1, &e1);
        read_range(f, s, &v, k, INT64_MAX, false, &ob2, &orej2, NULL, NULL, 0, NULL, &s2, &e2);
        bool rerun = s2 != e1;
        if (rerun) {
            cav_buf_reset(&ob2);
            cav_buf_reset(&orej2);
            read_range(f, s, &v, e1, INT64_MAX, true, &ob2, &orej2, NULL, NULL, 0, NULL, &s2, &e2);
        }
        cav_buf_append(&o, ob2.data, ob2.len, NULL);
        cav_buf_append(&orej, orej2.data, orej2.len, NULL);
        FUZZ_CHECK(same(&o, &ref),
                   "split at %lld (kind %d, re-run %d) gives other records\n--- ref\n%.*s--- "
                   "got\n%.*s",
                   (long long)k, kind, rerun, (int)ref.len, (char *)ref.data, (int)o.len,
                   (char *)o.data);
        FUZZ_CHECK(same(&orej, &ref_rej),
                   "split at %lld (kind %d, re-run %d) gives other rejects\n%.*s--\n%.*s",
                   (long long)k, kind, rerun, (int)ref_rej.len, (char *)ref_rej.data, (int)orej.len,
                   (char *)orej.data);
        cav_buf_free(&o);
        cav_buf_free(&orej);
        cav_buf_free(&ob2);
        cav_buf_free(&orej2);
    }
    if (st == CSVAVRO_OK && n_offs > 0 && n_offs < 512) {
        /* an aligned range at record j's start gives the suffix of the reference from j */
        size_t j = o5 % n_offs;
        const char *p = (const char *)ref.data + outpos[j],
                   *endp = (const char *)ref.data + ref.len;
        variant v = {(o5 >> 4) % 3, vbuf, vbatch};
        cav_buf o;
        cav_buf_init(&o, 0);
        read_range(f, s, &v, offs[j], INT64_MAX, true, &o, NULL, NULL, NULL, 0, NULL, NULL, NULL);
        size_t want = (size_t)(endp - p);
        FUZZ_CHECK(
            o.len == want && (!want || !memcmp(o.data, p, want)),
            "range from record %zu (offset %lld) is not the suffix\n--- want\n%.*s--- got\n%.*s", j,
            (long long)offs[j], (int)want, p, (int)o.len, (char *)o.data);
        cav_buf_free(&o);
    }
    cav_buf_free(&ref);
    cav_buf_free(&ref_rej);
    csvavro_schema_free(s);
    cav_csv_header_free(&h);
    csvavro_file_close(f, NULL);
    cav_buf_free(&text);
    return 0;
}
