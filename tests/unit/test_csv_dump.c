/*
 * test_csv_dump.c — test driver for the CSV scanner (used by tests/csv/compare_python.py).
 *
 *   test_csv_dump FILE [dialect options] [--sweep] [--splits]
 *
 * Prints the header and every record as JSON arrays of hex-encoded field texts (null = null),
 * and rejected records as "REJECT <offset> <reason>" lines. --sweep re-reads the file with
 * every scanner kind (scalar, SSE2, AVX2, AVX-512BW), buffer sizes 1..96 bytes and several batch
 * sizes and fails on the first output that differs from the scalar reference; it also reads
 * with a projection (only the first field, or the first half, declared needed: the reader
 * stores no offsets past them) at every kind and many buffer sizes and compares with the
 * reference's records cut to those fields (rejects unchanged). --splits checks that
 * splitting the data at every byte offset k (aligned [start,k) + speculative [k,end)) gives
 * the same records when the file has no quoted line ends, and that a range opened aligned at
 * each record start gives exactly the records from there on.
 */
#include "csv/csv.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static csvavro_csv_options opt;
static const char *nulls[8];
/* > 0: read_range declares only field proj_keep - 1 needed (projection pushdown: the reader
 * keeps the offsets of fields 0..proj_keep-1 only) and prints those fields */
static uint32_t proj_keep;

static void die(const char *what, const csvavro_error *e) {
    char b[2048];
    csvavro_error_format(e, b, sizeof b);
    fprintf(stderr, "test_csv_dump: %s: %s\n", what, b);
    exit(2);
}

static void hex(cav_buf *o, const char *p, size_t n) {
    static const char d[] = "0123456789abcdef";
    cav_buf_append(o, "\"", 1, NULL);
    for (size_t i = 0; i < n; i++) {
        char h[2] = {d[(uint8_t)p[i] >> 4], d[(uint8_t)p[i] & 15]};
        cav_buf_append(o, h, 2, NULL);
    }
    cav_buf_append(o, "\"", 1, NULL);
}

/* Reads [start, end) and appends records (and offsets of their starts to offs if given). */
static csvavro_status read_range(csvavro_file *f, const csvavro_schema *s, int kind, size_t bufsz,
                                 uint32_t batch, int64_t start, int64_t end, bool aligned,
                                 cav_buf *out, int64_t *offs, size_t *n_offs, int64_t *rs,
                                 int64_t *re, csvavro_error *err) {
    cav_csv_reader *r;
    cav_batch b;
    cav_buf rej;
    cav_buf_init(&rej, 0);
    CAV_TRY(cav_csv_reader_create(&opt, s, batch, &r, err));
    cav_csv_reader_tune(r, kind, bufsz);
    uint32_t n_print = (uint32_t)s->n_fields;
    if (proj_keep && proj_keep < n_print) {
        bool need[64] = {0};
        need[proj_keep - 1] = true;
        n_print = proj_keep;
        csvavro_status ps = cav_csv_reader_set_needed(r, need, err);
        if (ps != CSVAVRO_OK) {
            cav_csv_reader_free(r);
            return ps;
        }
    }
    cav_csv_reader_set_reject_sink(r, &rej);
    csvavro_status st = cav_batch_init(&b, (uint32_t)s->n_fields, NULL, batch, 0, err);
    if (st == CSVAVRO_OK) st = cav_csv_reader_open_range(r, f, "in", start, end, aligned, err);
    while (st == CSVAVRO_OK) {
        st = cav_csv_reader_next(r, &b, err);
        if (st != CSVAVRO_OK || b.n_rows == 0) break;
        for (uint32_t i = 0; i < b.n_rows; i++) {
            if (offs) offs[(*n_offs)++] = cav_csv_reader_row_offset(r, i);
            cav_buf_append(out, "[", 1, NULL);
            for (uint32_t c = 0; c < n_print; c++) {
                const char *p;
                size_t n;
                bool isnull;
                st = cav_csv_reader_field(r, &b, i, c, &p, &n, &isnull, err);
                if (st != CSVAVRO_OK) break;
                if (c) cav_buf_append(out, ",", 1, NULL);
                if (isnull)
                    cav_buf_append_str(out, "null", NULL);
                else
                    hex(out, p, n);
            }
            cav_buf_append(out, "]\n", 2, NULL);
        }
    }
    if (rs) *rs = cav_csv_reader_range_start(r);
    if (re) *re = cav_csv_reader_range_end(r);
    /* reject lines: keep offset and reason only (stable across variants) */
    for (size_t i = 0; i < rej.len;) {
        char *nl = memchr(rej.data + i, '\n', rej.len - i);
        size_t e = nl ? (size_t)(nl - (char *)rej.data) : rej.len;
        char *line = cav_strndup((char *)rej.data + i, e - i);
        char *o = strstr(line, "\"offset\":"), *rsn = strstr(line, "\"reason\":");
        cav_buf_printf(out, NULL, "REJECT %lld %.*s\n", o ? atoll(o + 9) : -1LL,
                       rsn ? (int)(strcspn(rsn + 10, "\"")) : 0, rsn ? rsn + 10 : "");
        cav_free(line);
        i = e + 1;
    }
    cav_buf_free(&rej);
    cav_batch_free(&b);
    cav_csv_reader_free(r);
    return st;
}

/* The reference output with each record cut to its first keep fields (REJECT lines kept). */
static void truncated(const char *ref, size_t ref_len, uint32_t keep, cav_buf *out) {
    for (size_t i = 0; i < ref_len;) {
        const char *nl = memchr(ref + i, '\n', ref_len - i);
        size_t e = nl ? (size_t)(nl - ref) + 1 : ref_len;
        if (ref[i] != '[') {
            cav_buf_append(out, ref + i, e - i, NULL);
        } else { /* fields are "hex" or null: no comma inside one */
            size_t j = i;
            uint32_t commas = 0;
            while (j < e && ref[j] != ']' && !(ref[j] == ',' && ++commas == keep))
                j++;
            cav_buf_append(out, ref + i, j - i, NULL);
            cav_buf_append(out, "]\n", 2, NULL);
        }
        i = e;
    }
}

/* Same record lines (REJECT lines ignored: ranges print theirs after their records). */
static bool same_records(const cav_buf *a, const char *ref, size_t ref_len) {
    cav_buf x, y;
    cav_buf_init(&x, 0);
    cav_buf_init(&y, 0);
    const char *srcs[2] = {(const char *)a->data, ref};
    size_t lens[2] = {a->len, ref_len};
    cav_buf *dst[2] = {&x, &y};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < lens[k];) {
            const char *nl = memchr(srcs[k] + i, '\n', lens[k] - i);
            size_t e = nl ? (size_t)(nl - srcs[k]) + 1 : lens[k];
            if (srcs[k][i] == '[') cav_buf_append(dst[k], srcs[k] + i, e - i, NULL);
            i = e;
        }
    bool same = x.len == y.len && (x.len == 0 || !memcmp(x.data, y.data, x.len));
    cav_buf_free(&x);
    cav_buf_free(&y);
    return same;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    csvavro_csv_options_init(&opt);
    opt.on_error = CSVAVRO_ON_ERROR_REJECT;
    bool sweep = false, splits = false;
    size_t nn = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--delim"))
            opt.delimiter = !strcmp(v, "\\t") ? '\t' : v[0], i++;
        else if (!strcmp(a, "--quote"))
            opt.quote = v[0], i++;
        else if (!strcmp(a, "--escape"))
            opt.escape = v[0], i++;
        else if (!strcmp(a, "--comment"))
            opt.comment = v[0], i++;
        else if (!strcmp(a, "--skip"))
            opt.skip_rows = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--null") && nn < 8)
            nulls[nn++] = v, i++;
        else if (!strcmp(a, "--latin1"))
            opt.encoding = CSVAVRO_ENCODING_LATIN1;
        else if (!strcmp(a, "--no-header"))
            opt.header = 0;
        else if (!strcmp(a, "--sweep"))
            sweep = true;
        else if (!strcmp(a, "--splits"))
            splits = true;
        else
            return fprintf(stderr, "unknown option %s\n", a), 2;
    }
    opt.null_values = nulls;
    opt.n_null_values = nn;
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_file *f;
    if (csvavro_fs_open_read(cav_io_local(), argv[1], &f, &err) != CSVAVRO_OK) die("open", &err);
    cav_csv_header h;
    if (cav_csv_read_header(f, &opt, &h, &err) != CSVAVRO_OK) die("header", &err);
    cav_buf out;
    cav_buf_init(&out, 0);
    cav_buf_append(&out, "H[", 2, NULL);
    for (uint32_t c = 0; c < h.n_cols; c++) {
        if (c) cav_buf_append(&out, ",", 1, NULL);
        hex(&out, h.names[c], strlen(h.names[c]));
    }
    cav_buf_append(&out, "]\n", 2, NULL);
    if (h.n_cols == 0) {
        fwrite(out.data, 1, out.len, stdout);
        cav_buf_free(&out);
        csvavro_file_close(f, NULL);
        return 0;
    }
    csvavro_schema *s;
    csvavro_schema_create(NULL, NULL, &s, &err);
    for (uint32_t c = 0; c < h.n_cols; c++) {
        char nm[32];
        snprintf(nm, sizeof nm, "c%u", c);
        csvavro_schema_add_field(s, nm, NULL, CSVAVRO_TYPE_STRING, 1, &err);
    }
    size_t hlen = out.len;
    int64_t fsize = csvavro_file_size(f);
    int64_t *offs = malloc(sizeof(int64_t) * (size_t)(fsize + 2));
    size_t n_offs = 0;
    csvavro_status st = read_range(f, s, CAV_CSV_SCALAR, 0, 4096, h.data_start, INT64_MAX, true,
                                   &out, offs, &n_offs, NULL, NULL, &err);
    if (st != CSVAVRO_OK) {
        char b[2048];
        csvavro_error_format(&err, b, sizeof b);
        cav_buf_printf(&out, NULL, "ERROR %s\n", csvavro_status_name(st));
        fprintf(stderr, "%s\n", b);
    }
    fwrite(out.data, 1, out.len, stdout);
    cav_buf_append(&out, "", 1, NULL); /* NUL-terminate the reference for strstr/strchr */
    int fails = 0;
    const char *ref = (const char *)out.data + hlen;
    size_t ref_len = out.len - 1 - hlen;
    if (sweep && st == CSVAVRO_OK) {
        static const uint32_t batches[] = {1, 2, 7, 4096};
        /* small files: every buffer size 1..96; big ones: a spread of sizes */
        static const size_t big_sizes[] = {1, 2, 3, 5, 8, 13, 64, 100, 1000, 4096, 65536};
        bool small = fsize <= 16384;
        const char *san = getenv("CSVAVRO_SANITIZE");
        bool sanitized = san && !strcmp(san, "ON");
        size_t n_sizes = small ? 96 : sizeof big_sizes / sizeof big_sizes[0];
        for (int kind = 0; kind <= CAV_CSV_VBMI2; kind++)
            for (size_t si = 0; si < n_sizes; si++)
                for (size_t bi = 0; bi < 4; bi++) {
                    size_t bs = small ? si + 1 : big_sizes[si];
                    /* sanitizer builds are ~10x slower: every fourth size there */
                    if (small && sanitized && si % 4 != 0) continue;
                    if (!small && batches[bi] < 7 && bs < 64) continue;
                    cav_buf o2;
                    cav_buf_init(&o2, 0);
                    csvavro_status s2 =
                        read_range(f, s, kind, bs, batches[bi], h.data_start, INT64_MAX, true, &o2,
                                   NULL, NULL, NULL, NULL, &err);
                    if (s2 != CSVAVRO_OK || o2.len != ref_len ||
                        (ref_len && memcmp(o2.data, ref, ref_len))) {
                        if (fails++ < 3)
                            fprintf(stderr, "MISMATCH kind=%d buf=%zu batch=%u st=%d\n%.*s\n", kind,
                                    bs, batches[bi], s2, (int)o2.len, (char *)o2.data);
                    }
                    cav_buf_free(&o2);
                }
    }
    if (sweep && st == CSVAVRO_OK && h.n_cols >= 2 && h.n_cols <= 64) {
        /* projection pushdown: the first field only, and the first half, at every kind, many
         * buffer sizes and two batch sizes: the records cut to those fields, the same rejects */
        uint32_t keeps[2] = {1, (h.n_cols + 1) / 2};
        for (int ki = 0; ki < 2; ki++) {
            if (ki == 1 && keeps[1] == keeps[0]) continue;
            cav_buf want;
            cav_buf_init(&want, 0);
            truncated(ref, ref_len, keeps[ki], &want);
            proj_keep = keeps[ki];
            for (int kind = 0; kind <= CAV_CSV_VBMI2; kind++)
                for (size_t bs = 1; bs <= 4096; bs = bs < 96 ? bs + 5 : bs * 4)
                    for (uint32_t batch = 2; batch <= 4096; batch *= 2048) {
                        cav_buf o2;
                        cav_buf_init(&o2, 0);
                        csvavro_status s2 =
                            read_range(f, s, kind, bs, batch, h.data_start, INT64_MAX, true, &o2,
                                       NULL, NULL, NULL, NULL, &err);
                        if (s2 != CSVAVRO_OK || o2.len != want.len ||
                            (want.len && memcmp(o2.data, want.data, want.len))) {
                            if (fails++ < 3)
                                fprintf(stderr,
                                        "PROJECTION MISMATCH keep=%u kind=%d buf=%zu batch=%u "
                                        "st=%d\n%.*s\n",
                                        proj_keep, kind, bs, batch, s2, (int)o2.len,
                                        (char *)o2.data);
                        }
                        cav_buf_free(&o2);
                    }
            proj_keep = 0;
            cav_buf_free(&want);
        }
    }
    if (splits && st == CSVAVRO_OK) {
        /* aligned ranges from each record start give the suffix of records */
        for (size_t k = 0; k < n_offs; k++) {
            for (int kind = 0; kind <= CAV_CSV_VBMI2; kind++) {
                cav_buf o2;
                cav_buf_init(&o2, 0);
                read_range(f, s, kind, 64, 3, offs[k], INT64_MAX, true, &o2, NULL, NULL, NULL, NULL,
                           &err);
                /* the suffix of the reference starting at record k */
                const char *p = ref;
                for (size_t j = 0; j < k; j++)
                    p = strchr(p, '\n') + 1;
                size_t want = (size_t)(ref + ref_len - p);
                const char *rj = strstr(p, "REJECT");
                if (rj) want = (size_t)(rj - p);
                if (o2.len < want || (want && memcmp(o2.data, p, want))) {
                    if (fails++ < 3) fprintf(stderr, "SUFFIX MISMATCH at record %zu\n", k);
                }
                cav_buf_free(&o2);
            }
        }
        /* every split offset: two ranges = the whole (valid without quoted line ends) */
        for (int64_t k = h.data_start; k <= fsize; k++) {
            for (int kind = 0; kind <= CAV_CSV_VBMI2; kind++) {
                cav_buf o2;
                cav_buf_init(&o2, 0);
                int64_t s1, e1, s2, e2;
                read_range(f, s, kind, 32, 5, h.data_start, k, true, &o2, NULL, NULL, &s1, &e1,
                           &err);
                read_range(f, s, kind, 32, 5, k, INT64_MAX, false, &o2, NULL, NULL, &s2, &e2, &err);
                if (!same_records(&o2, ref, ref_len) || e1 != s2) {
                    if (fails++ < 3)
                        fprintf(stderr,
                                "SPLIT MISMATCH at %lld kind %d (end1 %lld start2 %lld)\n%.*s\n",
                                (long long)k, kind, (long long)e1, (long long)s2, (int)o2.len,
                                (char *)o2.data);
                }
                cav_buf_free(&o2);
            }
        }
    }
    free(offs);
    cav_buf_free(&out);
    csvavro_schema_free(s);
    cav_csv_header_free(&h);
    csvavro_file_close(f, NULL);
    if (fails) fprintf(stderr, "%d mismatches\n", fails);
    return fails ? 1 : 0;
}
