/*
 * io_input.c — CSV inputs as users have them: compressed files and streams.
 *
 * A chain of sequential sources produces the bytes of an input: the raw bytes (pread on a
 * csvavro_file, or read(2) on a stream's descriptor), then at most one decoder (zlib for
 * gzip, libbz2, libzstd, liblzma; libzip for a zip archive's entry). On top sits a window: a
 * buffer holding the most recent bytes of the chain, which serves the CSV reader's preads.
 * Reads that move forward pull more bytes through the chain; a read before the window
 * restarts the chain from the beginning (files) or fails with a clear message (streams,
 * whose head is kept up to CAV_STREAM_HEAD bytes so that header reading and schema inference
 * can be replayed by the conversion). Memory per open input: the window (1 MiB for files,
 * up to CAV_STREAM_HEAD for a stream), 256 KiB of compressed input, and the decoder's own
 * state (zstd window at most 128 MiB as libzstd's default limit; xz: memlimit 256 MiB).
 *
 * Detection (AUTO): magic bytes first (gzip 1f 8b, bzip2 "BZh1".."BZh9", zstd 28 b5 2f fd or
 * a skippable frame, xz fd 37 7a 58 5a 00, zip "PK\3\4" / "PK\5\6"); if none matches, a name
 * ending in .gz/.bz2/.zst/.xz/.zip is an error (the file is not what its name says), any
 * other input is plain text.
 */
#include "io.h"
#include "io_src.h"

#include "../core/core_dl.h"

#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>
#include <zstd.h>

#define IN_CHUNK ((size_t)256 << 10)
#define FILE_WINDOW ((size_t)1 << 20)
#define KEEP_TAIL ((size_t)64 << 10) /* bytes kept when a full window slides */
#define XZ_MEMLIMIT ((uint64_t)256 << 20)

/* ------------------------------------------------------------------ names */

static const char *const comp_names[] = {"auto", "none", "gzip", "bzip2", "zstd", "xz", "zip"};

const char *csvavro_compression_name(csvavro_compression c) {
    return (unsigned)c < sizeof comp_names / sizeof *comp_names ? comp_names[c] : "?";
}

csvavro_status csvavro_compression_parse(const char *name, csvavro_compression *out) {
    static const struct {
        const char *n;
        csvavro_compression c;
    } alias[] = {{"gz", CSVAVRO_COMPRESSION_GZIP},
                 {"bz2", CSVAVRO_COMPRESSION_BZIP2},
                 {"zst", CSVAVRO_COMPRESSION_ZSTD},
                 {"zstandard", CSVAVRO_COMPRESSION_ZSTD}};
    for (unsigned i = 0; i < sizeof comp_names / sizeof *comp_names; i++)
        if (name && !strcmp(name, comp_names[i])) {
            *out = (csvavro_compression)i;
            return CSVAVRO_OK;
        }
    for (unsigned i = 0; i < sizeof alias / sizeof *alias; i++)
        if (name && !strcmp(name, alias[i].n)) {
            *out = alias[i].c;
            return CSVAVRO_OK;
        }
    return CSVAVRO_E_USAGE;
}

static csvavro_compression from_magic(const uint8_t *b, size_t n) {
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return CSVAVRO_COMPRESSION_GZIP;
    if (n >= 4 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9')
        return CSVAVRO_COMPRESSION_BZIP2;
    if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
        return CSVAVRO_COMPRESSION_ZSTD;
    if (n >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18)
        return CSVAVRO_COMPRESSION_ZSTD; /* a skippable frame (seekable-format files end so) */
    if (n >= 6 && !memcmp(b,
                          "\xfd"
                          "7zXZ\0",
                          6))
        return CSVAVRO_COMPRESSION_XZ;
    if (n >= 4 && b[0] == 'P' && b[1] == 'K' &&
        ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6)))
        return CSVAVRO_COMPRESSION_ZIP;
    return CSVAVRO_COMPRESSION_NONE;
}

static csvavro_compression from_name(const char *path) {
    static const struct {
        const char *ext;
        csvavro_compression c;
    } ext[] = {{".gz", CSVAVRO_COMPRESSION_GZIP},   {".gzip", CSVAVRO_COMPRESSION_GZIP},
               {".bz2", CSVAVRO_COMPRESSION_BZIP2}, {".zst", CSVAVRO_COMPRESSION_ZSTD},
               {".zstd", CSVAVRO_COMPRESSION_ZSTD}, {".xz", CSVAVRO_COMPRESSION_XZ},
               {".zip", CSVAVRO_COMPRESSION_ZIP}};
    size_t n = strlen(path);
    for (unsigned i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t k = strlen(ext[i].ext);
        if (n > k && !strcasecmp(path + n - k, ext[i].ext)) return ext[i].c;
    }
    return CSVAVRO_COMPRESSION_NONE;
}

/* ------------------------------------------------------------------ sources */

typedef cav_src src; /* io_src.h */

static csvavro_status src_read(src *s, uint8_t *buf, size_t cap, size_t *got, csvavro_error *err) {
    *got = 0;
    csvavro_status st = s->read(s, buf, cap, got, err);
    if (st == CSVAVRO_OK) s->consumed += (int64_t)*got;
    return st;
}

/* raw bytes of a csvavro_file, or of a stream descriptor; the first `pre` bytes (already read
 * for detection) come from a small prefix */
typedef struct raw_src {
    src base;
    csvavro_file *f; /* owned; NULL for a descriptor */
    int fd;
    int64_t off;
    uint8_t pre[8];
    size_t pre_len, pre_pos;
    const char *path;
} raw_src;

static csvavro_status raw_read(src *s, uint8_t *buf, size_t cap, size_t *got, csvavro_error *err) {
    raw_src *r = (raw_src *)s;
    if (r->pre_pos < r->pre_len) {
        size_t n = CAV_MIN(cap, r->pre_len - r->pre_pos);
        memcpy(buf, r->pre + r->pre_pos, n);
        r->pre_pos += n;
        *got = n;
        return CSVAVRO_OK;
    }
    if (r->f) {
        CAV_TRY(csvavro_file_pread(r->f, buf, cap, r->off, got, err));
        r->off += (int64_t)*got;
        return CSVAVRO_OK;
    }
    for (;;) {
        ssize_t k = read(r->fd, buf, cap);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return cav_err_errno(err, errno, r->path, "read");
        *got = (size_t)k;
        r->off += k;
        return CSVAVRO_OK;
    }
}

static void raw_destroy(src *s) {
    raw_src *r = (raw_src *)s;
    if (r->f) csvavro_file_close(r->f, NULL);
    if (!r->f && r->fd > 2) close(r->fd);
    cav_free(r);
}

/* a decoder over another source */
typedef struct dec_src {
    src base;
    src *in;
    csvavro_compression c;
    const char *path;
    uint8_t *ib;
    size_t ilen, ipos;
    bool in_eof;
    bool member_done; /* the current member/stream/frame ended; more may follow */
    bool started;     /* the current member has consumed input */
    z_stream z;
    bool z_init;
    bz_stream bz;
    bool bz_init;
    ZSTD_DStream *zs;
    size_t zs_hint; /* last ZSTD_decompressStream result: 0 = at a frame boundary */
    lzma_stream lz;
    bool lz_init;
} dec_src;

static csvavro_status dec_fail(dec_src *d, csvavro_error *err, const char *what) {
    cav_err_path(err, d->path);
    int64_t at = d->in->consumed - (int64_t)(d->ilen - d->ipos);
    return cav_err(err, CSVAVRO_E_CORRUPT, "%s data: %s (at compressed byte %lld)",
                   csvavro_compression_name(d->c), what, (long long)at);
}

static csvavro_status dec_fill(dec_src *d, csvavro_error *err) {
    if (d->ipos < d->ilen || d->in_eof) return CSVAVRO_OK;
    size_t got = 0;
    CAV_TRY(src_read(d->in, d->ib, IN_CHUNK, &got, err));
    d->ilen = got;
    d->ipos = 0;
    if (got == 0) d->in_eof = true;
    return CSVAVRO_OK;
}

static csvavro_status member_start(dec_src *d, csvavro_error *err) {
    d->started = false;
    d->member_done = false;
    switch (d->c) {
    case CSVAVRO_COMPRESSION_GZIP:
        if (d->z_init) {
            if (inflateReset(&d->z) != Z_OK) return dec_fail(d, err, "inflateReset failed");
        } else {
            memset(&d->z, 0, sizeof d->z);
            if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
                return cav_err(err, CSVAVRO_E_NOMEM, "out of memory for the gzip decoder");
            d->z_init = true;
        }
        return CSVAVRO_OK;
    case CSVAVRO_COMPRESSION_BZIP2:
        if (d->bz_init) BZ2_bzDecompressEnd(&d->bz);
        memset(&d->bz, 0, sizeof d->bz);
        d->bz_init = false;
        if (BZ2_bzDecompressInit(&d->bz, 0, 0) != BZ_OK)
            return cav_err(err, CSVAVRO_E_NOMEM, "out of memory for the bzip2 decoder");
        d->bz_init = true;
        return CSVAVRO_OK;
    default:
        return CSVAVRO_OK;
    }
}

static csvavro_status dec_read(src *s, uint8_t *buf, size_t cap, size_t *got, csvavro_error *err) {
    dec_src *d = (dec_src *)s;
    size_t out = 0;
    while (out == 0 && cap > 0) {
        CAV_TRY(dec_fill(d, err));
        if (d->member_done) {
            /* another member/stream may follow (gzip, bzip2); zstd/xz handle this inside */
            if (d->ipos == d->ilen && d->in_eof) break;
            CAV_TRY(member_start(d, err));
        }
        const uint8_t *ip = d->ib + d->ipos;
        size_t avail = d->ilen - d->ipos;
        bool at_end = d->in_eof && avail == 0;
        size_t used = 0, made = 0;
        switch (d->c) {
        case CSVAVRO_COMPRESSION_GZIP: {
            d->z.next_in = (Bytef *)ip;
            d->z.avail_in = (uInt)CAV_MIN(avail, (size_t)UINT32_MAX);
            d->z.next_out = buf;
            d->z.avail_out = (uInt)CAV_MIN(cap, (size_t)UINT32_MAX);
            int r = inflate(&d->z, Z_NO_FLUSH);
            used = (size_t)(d->z.next_in - ip);
            made = (size_t)(d->z.next_out - buf);
            if (r == Z_STREAM_END) {
                d->member_done = true;
            } else if (r == Z_BUF_ERROR && at_end) {
                return dec_fail(d, err,
                                d->started || used ? "truncated (the file ends inside "
                                                     "a gzip member)"
                                                   : "empty gzip file");
            } else if (r != Z_OK && r != Z_BUF_ERROR) {
                return dec_fail(d, err, d->z.msg ? d->z.msg : "corrupt");
            }
            break;
        }
        case CSVAVRO_COMPRESSION_BZIP2: {
            d->bz.next_in = (char *)ip;
            d->bz.avail_in = (unsigned)CAV_MIN(avail, (size_t)UINT32_MAX);
            d->bz.next_out = (char *)buf;
            d->bz.avail_out = (unsigned)CAV_MIN(cap, (size_t)UINT32_MAX);
            int r = BZ2_bzDecompress(&d->bz);
            used = (size_t)((const uint8_t *)d->bz.next_in - ip);
            made = (size_t)((uint8_t *)d->bz.next_out - buf);
            if (r == BZ_STREAM_END)
                d->member_done = true;
            else if (r != BZ_OK)
                return dec_fail(d, err,
                                r == BZ_DATA_ERROR_MAGIC ? "not bzip2 (bad magic)" : "corrupt");
            else if (at_end && made == 0)
                return dec_fail(d, err, "truncated (the file ends inside a bzip2 stream)");
            break;
        }
        case CSVAVRO_COMPRESSION_ZSTD: {
            ZSTD_inBuffer zi = {ip, avail, 0};
            ZSTD_outBuffer zo = {buf, cap, 0};
            size_t prev = d->zs_hint;
            size_t r = ZSTD_decompressStream(d->zs, &zo, &zi);
            if (ZSTD_isError(r)) return dec_fail(d, err, ZSTD_getErrorName(r));
            used = zi.pos;
            made = zo.pos;
            if (used || made) d->zs_hint = r;
            if (at_end && made == 0) {
                /* the last call that did something ended a frame (hint 0), or not */
                if (prev != 0) return dec_fail(d, err, "truncated (the file ends inside a frame)");
                d->member_done = true; /* end of the input at a frame boundary */
            }
            break;
        }
        case CSVAVRO_COMPRESSION_XZ: {
            d->lz.next_in = ip;
            d->lz.avail_in = avail;
            d->lz.next_out = buf;
            d->lz.avail_out = cap;
            lzma_ret r = lzma_code(&d->lz, at_end ? LZMA_FINISH : LZMA_RUN);
            used = (size_t)(d->lz.next_in - ip);
            made = (size_t)(d->lz.next_out - buf);
            if (r == LZMA_STREAM_END)
                d->member_done = true;
            else if (r == LZMA_MEMLIMIT_ERROR)
                return dec_fail(d, err, "needs more than 256 MiB of decoder memory");
            else if (r == LZMA_BUF_ERROR && at_end)
                return dec_fail(d, err, "truncated (the file ends inside an xz stream)");
            else if (r == LZMA_FORMAT_ERROR)
                return dec_fail(d, err, "not xz (bad magic)");
            else if (r != LZMA_OK && r != LZMA_BUF_ERROR)
                return dec_fail(d, err, r == LZMA_DATA_ERROR ? "corrupt" : "decoder error");
            break;
        }
        default:
            return cav_err(err, CSVAVRO_E_INTERNAL, "decoder: codec %d", (int)d->c);
        }
        d->ipos += used;
        if (used) d->started = true;
        out += made;
        if (made == 0 && used == 0 && !d->member_done && at_end)
            return dec_fail(d, err, "truncated");
        if (d->member_done && d->c == CSVAVRO_COMPRESSION_GZIP) {
            /* a next gzip member must start with the magic; anything else is junk */
            CAV_TRY(dec_fill(d, err));
            if (d->ipos < d->ilen && d->ib[d->ipos] != 0x1f)
                return dec_fail(d, err, "trailing bytes after the last gzip member");
        }
        if (d->member_done && (d->c == CSVAVRO_COMPRESSION_XZ)) {
            CAV_TRY(dec_fill(d, err));
            if (d->ipos < d->ilen) return dec_fail(d, err, "trailing bytes after the xz data");
        }
        if (made == 0 && d->member_done && d->ipos == d->ilen && d->in_eof) break;
    }
    *got = out;
    return CSVAVRO_OK;
}

static void dec_destroy(src *s) {
    dec_src *d = (dec_src *)s;
    if (d->z_init) inflateEnd(&d->z);
    if (d->bz_init) BZ2_bzDecompressEnd(&d->bz);
    if (d->zs) ZSTD_freeDStream(d->zs);
    if (d->lz_init) lzma_end(&d->lz);
    if (d->in) d->in->destroy(d->in);
    cav_free(d->ib);
    cav_free(d);
}

static csvavro_status dec_create(src *in, csvavro_compression c, const char *path, src **out,
                                 csvavro_error *err) {
    dec_src *d = cav_calloc(1, sizeof *d);
    if (!d || !(d->ib = cav_malloc(IN_CHUNK))) {
        cav_free(d);
        in->destroy(in);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory for a decoder");
    }
    d->base.read = dec_read;
    d->base.destroy = dec_destroy;
    d->in = in;
    d->c = c;
    d->path = path;
    csvavro_status st = CSVAVRO_OK;
    if (c == CSVAVRO_COMPRESSION_ZSTD) {
        d->zs = ZSTD_createDStream();
        d->zs_hint = 1; /* no frame yet: an empty input is not zstd */
        if (!d->zs) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory for the zstd decoder");
    } else if (c == CSVAVRO_COMPRESSION_XZ) {
        lzma_stream init = LZMA_STREAM_INIT;
        d->lz = init;
        if (lzma_stream_decoder(&d->lz, XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK)
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory for the xz decoder");
        else
            d->lz_init = true;
    } else {
        st = member_start(d, err);
    }
    if (st != CSVAVRO_OK) {
        dec_destroy(&d->base);
        return st;
    }
    *out = &d->base;
    return CSVAVRO_OK;
}

/* ---- zip: libzip over a csvavro_file (random access: the directory is at the end) */

/* libzip is loaded on the first zip input (core_dl.h): most runs never read one, and it pulls
 * in libcrypto, which costs every start-up about a millisecond */
/* clang-format off */
#define ZIP_FUNCS(X) \
    X(zip_error_set) X(zip_stat_init) X(zip_error_to_data) X(zip_source_seek_compute_offset) \
    X(zip_source_make_command_bitmap) X(zip_fread) X(zip_error_strerror) X(zip_file_get_error) \
    X(zip_fclose) X(zip_discard) X(zip_error_fini) X(zip_error_init) \
    X(zip_source_function_create) X(zip_open_from_source) X(zip_source_free) \
    X(zip_get_num_entries) X(zip_get_name) X(zip_fopen_index) X(zip_strerror)
/* clang-format on */
struct zip_api {
    ZIP_FUNCS(CAV_DL_FIELD)
};
#define ZIP_SYM(f) CAV_DL_SYM(struct zip_api, f)
static const cav_dl_sym zip_syms[] = {ZIP_FUNCS(ZIP_SYM)};
static struct zip_api zl; /* written once by cav_dl_load, read-only afterwards */
static cav_dl_lib zip_lib = CAV_DL_LIB(CAV_SONAME_LIBZIP, 0, zip_syms, &zl);

typedef struct zip_src {
    src base;
    csvavro_file *f; /* owned */
    int64_t pos;
    zip_error_t zerr;
    zip_t *za;
    zip_file_t *zf;
    const char *path;
} zip_src;

static zip_int64_t zcb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd) {
    zip_src *z = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        z->pos = 0;
        return 0;
    case ZIP_SOURCE_READ: {
        int64_t left = z->f->size - z->pos;
        if (left <= 0) return 0;
        size_t n = (size_t)CAV_MIN((int64_t)len, left), got = 0;
        csvavro_error e;
        if (csvavro_file_pread(z->f, data, n, z->pos, &got, &e) != CSVAVRO_OK) {
            zl.zip_error_set(&z->zerr, ZIP_ER_READ, EIO);
            return -1;
        }
        z->pos += (int64_t)got;
        return (zip_int64_t)got;
    }
    case ZIP_SOURCE_CLOSE:
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zl.zip_stat_init(st);
        st->size = (zip_uint64_t)z->f->size;
        st->valid |= ZIP_STAT_SIZE;
        return sizeof *st;
    }
    case ZIP_SOURCE_ERROR:
        return zl.zip_error_to_data(&z->zerr, data, len);
    case ZIP_SOURCE_SEEK: {
        zip_int64_t np = zl.zip_source_seek_compute_offset(
            (zip_uint64_t)z->pos, (zip_uint64_t)z->f->size, data, len, &z->zerr);
        if (np < 0) return -1;
        z->pos = np;
        return 0;
    }
    case ZIP_SOURCE_TELL:
        return z->pos;
    case ZIP_SOURCE_FREE:
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zl.zip_source_make_command_bitmap(
            ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR,
            ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL, ZIP_SOURCE_SUPPORTS, ZIP_SOURCE_FREE, -1);
    default:
        zl.zip_error_set(&z->zerr, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

static csvavro_status zip_read_cb(src *s, uint8_t *buf, size_t cap, size_t *got,
                                  csvavro_error *err) {
    zip_src *z = (zip_src *)s;
    zip_int64_t n = zl.zip_fread(z->zf, buf, cap);
    if (n < 0) {
        cav_err_path(err, z->path);
        return cav_err(err, CSVAVRO_E_CORRUPT, "zip data: %s",
                       zl.zip_error_strerror(zl.zip_file_get_error(z->zf)));
    }
    *got = (size_t)n;
    return CSVAVRO_OK;
}

static void zip_destroy(src *s) {
    zip_src *z = (zip_src *)s;
    if (z->zf) zl.zip_fclose(z->zf);
    if (z->za) zl.zip_discard(z->za);
    zl.zip_error_fini(&z->zerr);
    if (z->f) csvavro_file_close(z->f, NULL);
    cav_free(z);
}

static csvavro_status zip_create(csvavro_file *f, const char *entry, const char *path, src **out,
                                 csvavro_error *err) {
    csvavro_status lst = cav_dl_load(&zip_lib, "zip input", err);
    if (lst != CSVAVRO_OK) {
        csvavro_file_close(f, NULL);
        cav_err_path(err, path);
        return lst;
    }
    zip_src *z = cav_calloc(1, sizeof *z);
    if (!z) {
        csvavro_file_close(f, NULL);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    z->base.read = zip_read_cb;
    z->base.destroy = zip_destroy;
    z->f = f;
    z->path = path;
    zl.zip_error_init(&z->zerr);
    csvavro_status st = CSVAVRO_OK;
    zip_error_t ze;
    zl.zip_error_init(&ze);
    zip_source_t *zs = zl.zip_source_function_create(zcb, z, &ze);
    if (zs) {
        z->za = zl.zip_open_from_source(zs, ZIP_RDONLY, &ze);
        if (!z->za) zl.zip_source_free(zs);
    }
    if (!z->za) {
        cav_err_path(err, path);
        st = cav_err(err, CSVAVRO_E_CORRUPT, "not a readable zip archive: %s",
                     zl.zip_error_strerror(&ze));
        goto done;
    }
    zip_int64_t n = zl.zip_get_num_entries(z->za, 0), pick = -1, files = 0;
    char names[512] = "";
    size_t nl = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *nm = zl.zip_get_name(z->za, (zip_uint64_t)i, 0);
        if (!nm) continue;
        size_t l = strlen(nm);
        if (l && nm[l - 1] == '/') continue; /* a directory */
        if (entry ? !strcmp(nm, entry) : true) {
            if (!entry || pick < 0) pick = i;
        }
        files++;
        if (nl < sizeof names - 1) {
            int k = snprintf(names + nl, sizeof names - nl, "%s\"%s\"", nl ? ", " : "", nm);
            if (k > 0) nl = CAV_MIN(nl + (size_t)k, sizeof names - 1);
        }
    }
    cav_err_path(err, path);
    if (entry && pick < 0) {
        st = cav_err(err, CSVAVRO_E_NOT_FOUND, "zip archive has no entry \"%s\" (it holds %s)",
                     entry, files ? names : "no files");
        goto done;
    }
    if (!entry && files != 1) {
        st = files ? cav_err(err, CSVAVRO_E_USAGE,
                             "zip archive holds %lld files (%s): pick one with --zip-entry",
                             (long long)files, names)
                   : cav_err(err, CSVAVRO_E_CSV, "zip archive holds no file");
        goto done;
    }
    if (err) csvavro_error_clear(err);
    z->zf = zl.zip_fopen_index(z->za, (zip_uint64_t)pick, 0);
    if (!z->zf) {
        cav_err_path(err, path);
        st = cav_err(err, CSVAVRO_E_UNSUPPORTED, "zip entry \"%s\": %s",
                     zl.zip_get_name(z->za, (zip_uint64_t)pick, 0), zl.zip_strerror(z->za));
    }
done:
    zl.zip_error_fini(&ze);
    if (st != CSVAVRO_OK) {
        zip_destroy(&z->base);
        return st;
    }
    *out = &z->base;
    return CSVAVRO_OK;
}

/* ------------------------------------------------------------------ window */

typedef struct win {
    pthread_mutex_t mu;
    int refs;
    src *s;
    bool stream; /* read once: cannot restart */
    csvavro_fs *fs;
    char *path; /* backend path (restart), display for messages */
    csvavro_compression comp;
    char *zip_entry;
    uint8_t *buf;
    size_t cap, max_cap, len;
    int64_t off; /* buf holds [off, off + len) */
    bool eof;
    bool head_lost; /* the stream's window has slid */
    /* a custom source (cav_input_view_make): rebuilt with mk(mk_arg) on a restart */
    cav_src_make mk;
    void *mk_arg;
    void (*mk_free)(void *arg);
} win;

static csvavro_status build_chain(win *w, csvavro_compression *detected, csvavro_error *err);

static csvavro_status win_pull(win *w, csvavro_error *err) {
    if (w->len == w->cap) {
        if (w->cap < w->max_cap) {
            size_t nc = CAV_MIN(w->cap * 2, w->max_cap);
            uint8_t *nb = cav_realloc(w->buf, nc);
            if (!nb) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory for the input window");
            w->buf = nb;
            w->cap = nc;
        } else {
            size_t keep = CAV_MIN(KEEP_TAIL, w->len);
            memmove(w->buf, w->buf + w->len - keep, keep);
            w->off += (int64_t)(w->len - keep);
            w->len = keep;
            if (w->stream) w->head_lost = true;
        }
    }
    size_t got = 0;
    CAV_TRY(src_read(w->s, w->buf + w->len, w->cap - w->len, &got, err));
    if (got == 0) w->eof = true;
    w->len += got;
    return CSVAVRO_OK;
}

static csvavro_status win_pread(win *w, uint8_t *out, size_t n, int64_t off, size_t *got,
                                csvavro_error *err) {
    *got = 0;
    if (off < w->off) {
        if (w->stream) {
            cav_err_path(err, w->path);
            return cav_err(err, CSVAVRO_E_LIMIT,
                           "a stream is read once and only its first %zu MiB are kept for "
                           "replay: cannot go back to byte %lld (give --schema or fewer "
                           "--infer-rows)",
                           CAV_STREAM_HEAD >> 20, (long long)off);
        }
        w->s->destroy(w->s);
        w->s = NULL;
        w->off = 0;
        w->len = 0;
        w->eof = false;
        CAV_TRY(build_chain(w, NULL, err));
    }
    size_t done = 0;
    while (done < n) {
        int64_t pos = off + (int64_t)done;
        int64_t end = w->off + (int64_t)w->len;
        if (pos < end) {
            size_t k = CAV_MIN(n - done, (size_t)(end - pos));
            memcpy(out + done, w->buf + (pos - w->off), k);
            done += k;
            continue;
        }
        if (w->eof) break;
        if (pos > end && !w->stream && w->len == w->cap) {
            /* skipping forward over bytes nobody asked for: keep only a tail */
            w->off += (int64_t)w->len;
            w->len = 0;
        }
        CAV_TRY(win_pull(w, err));
    }
    *got = done;
    return CSVAVRO_OK;
}

static void win_unref(win *w) {
    pthread_mutex_lock(&w->mu);
    int left = --w->refs;
    pthread_mutex_unlock(&w->mu);
    if (left > 0) return;
    if (w->s) w->s->destroy(w->s);
    if (w->mk_free) w->mk_free(w->mk_arg);
    pthread_mutex_destroy(&w->mu);
    cav_free(w->buf);
    cav_free(w->path);
    cav_free(w->zip_entry);
    cav_free(w);
}

static bool is_stdin_name(const char *path) {
    return !strcmp(path, "-");
}

static csvavro_status build_chain(win *w, csvavro_compression *detected, csvavro_error *err) {
    if (w->mk) return w->mk(w->mk_arg, &w->s, err);
    raw_src *r = cav_calloc(1, sizeof *r);
    if (!r) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    r->base.read = raw_read;
    r->base.destroy = raw_destroy;
    r->path = w->path;
    r->fd = -1;
    csvavro_status st = CSVAVRO_OK;
    if (w->stream) {
        if (is_stdin_name(w->path)) {
            r->fd = 0;
        } else {
            r->fd = open(w->path, O_RDONLY | O_CLOEXEC);
            if (r->fd < 0) st = cav_err_errno(err, errno, w->path, "open");
        }
    } else {
        st = csvavro_fs_open_read(w->fs, w->path, &r->f, err);
    }
    if (st != CSVAVRO_OK) {
        cav_free(r);
        return st;
    }
    /* detection: the first bytes (the whole of them, a stream may deliver them in pieces) */
    while (r->pre_len < sizeof r->pre) {
        size_t got = 0;
        if (r->f)
            st = csvavro_file_pread(r->f, r->pre + r->pre_len, sizeof r->pre - r->pre_len,
                                    (int64_t)r->pre_len, &got, err);
        else {
            ssize_t k;
            do
                k = read(r->fd, r->pre + r->pre_len, sizeof r->pre - r->pre_len);
            while (k < 0 && errno == EINTR);
            if (k < 0) st = cav_err_errno(err, errno, w->path, "read");
            got = k > 0 ? (size_t)k : 0;
        }
        if (st != CSVAVRO_OK || got == 0) break;
        r->pre_len += got;
    }
    r->off = (int64_t)r->pre_len;
    if (st != CSVAVRO_OK) {
        raw_destroy(&r->base);
        return st;
    }
    csvavro_compression c = w->comp;
    if (c == CSVAVRO_COMPRESSION_AUTO) {
        c = from_magic(r->pre, r->pre_len);
        csvavro_compression by_name = from_name(w->path);
        if (c == CSVAVRO_COMPRESSION_NONE && by_name != CSVAVRO_COMPRESSION_NONE) {
            raw_destroy(&r->base);
            cav_err_path(err, w->path);
            return cav_err(err, CSVAVRO_E_CORRUPT,
                           "the name says %s but the data does not start like %s (give "
                           "--compression none to read it as plain text)",
                           csvavro_compression_name(by_name), csvavro_compression_name(by_name));
        }
    }
    if (detected) *detected = c;
    if (c == CSVAVRO_COMPRESSION_NONE) {
        w->s = &r->base;
        return CSVAVRO_OK;
    }
    if (c == CSVAVRO_COMPRESSION_ZIP) {
        if (!r->f) {
            raw_destroy(&r->base);
            cav_err_path(err, w->path);
            return cav_err(err, CSVAVRO_E_UNSUPPORTED,
                           "a zip archive keeps its directory at its end: it cannot be read "
                           "from a stream (unzip -p it into the pipe instead)");
        }
        csvavro_file *f = r->f;
        r->f = NULL;
        r->fd = -1;
        raw_destroy(&r->base);
        return zip_create(f, w->zip_entry, w->path, &w->s, err);
    }
    return dec_create(&r->base, c, w->path, &w->s, err);
}

/* ------------------------------------------------------------------ files */

typedef struct in_file {
    csvavro_file base;
    win *w;
} in_file;

static csvavro_status if_pread(csvavro_file *f, void *buf, size_t len, int64_t off, size_t *got,
                               csvavro_error *err) {
    in_file *x = (in_file *)f;
    pthread_mutex_lock(&x->w->mu);
    csvavro_status st = win_pread(x->w, buf, len, off, got, err);
    pthread_mutex_unlock(&x->w->mu);
    return st;
}

static csvavro_status if_write(csvavro_file *f, const void *buf, size_t len, csvavro_error *err) {
    (void)f, (void)buf, (void)len;
    return cav_err(err, CSVAVRO_E_USAGE, "file is not open for writing");
}

static void if_abort(csvavro_file *f) {
    in_file *x = (in_file *)f;
    win_unref(x->w);
    cav_free(f->path);
    cav_free(x);
}

static csvavro_status if_close(csvavro_file *f, csvavro_error *err) {
    (void)err;
    if_abort(f);
    return CSVAVRO_OK;
}

static const cav_file_ops in_file_ops = {if_pread, if_write, if_close, if_abort};

static csvavro_status view(win *w, csvavro_compression c, csvavro_file **out, csvavro_error *err) {
    in_file *x = cav_calloc(1, sizeof *x);
    char *p = cav_strdup(is_stdin_name(w->path) ? "stdin" : w->path);
    if (!x || !p) {
        cav_free(x);
        cav_free(p);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    x->base.ops = &in_file_ops;
    x->base.size = CAV_SIZE_UNKNOWN;
    x->base.path = p;
    x->base.sequential = true;
    x->base.codec = (uint8_t)c;
    x->base.stream = w->stream;
    x->w = w;
    pthread_mutex_lock(&w->mu);
    w->refs++;
    pthread_mutex_unlock(&w->mu);
    *out = &x->base;
    return CSVAVRO_OK;
}

static csvavro_status win_new(csvavro_fs *fs, const char *path, csvavro_compression comp,
                              const char *zip_entry, bool stream, win **out,
                              csvavro_compression *detected, csvavro_error *err) {
    win *w = cav_calloc(1, sizeof *w);
    if (!w) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    pthread_mutex_init(&w->mu, NULL);
    w->refs = 1;
    w->fs = fs;
    w->stream = stream;
    w->comp = comp;
    w->path = cav_strdup(path);
    w->zip_entry = zip_entry ? cav_strdup(zip_entry) : NULL;
    w->cap = stream ? FILE_WINDOW : FILE_WINDOW / 4;
    w->max_cap = stream ? CAV_STREAM_HEAD : FILE_WINDOW;
    w->buf = cav_malloc(w->cap);
    csvavro_status st = CSVAVRO_OK;
    if (!w->path || !w->buf || (zip_entry && !w->zip_entry))
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    else
        st = build_chain(w, detected, err);
    if (st != CSVAVRO_OK) {
        win_unref(w);
        return st;
    }
    *out = w;
    return CSVAVRO_OK;
}

csvavro_status cav_input_view_make(const char *display, csvavro_compression c, cav_src_make mk,
                                   void *arg, void (*arg_free)(void *), csvavro_file **out,
                                   csvavro_error *err) {
    *out = NULL;
    win *w = cav_calloc(1, sizeof *w);
    if (!w) {
        if (arg_free) arg_free(arg);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&w->mu, NULL);
    w->refs = 1;
    w->comp = c;
    w->mk = mk;
    w->mk_arg = arg;
    w->mk_free = arg_free;
    w->path = cav_strdup(display);
    w->cap = FILE_WINDOW / 4;
    w->max_cap = FILE_WINDOW;
    w->buf = cav_malloc(w->cap);
    csvavro_status st = CSVAVRO_OK;
    if (!w->path || !w->buf)
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    else
        st = build_chain(w, NULL, err);
    if (st == CSVAVRO_OK) st = view(w, c, out, err);
    win_unref(w);
    return st;
}

void *cav_input_view_arg(csvavro_file *f) {
    if (!f || f->ops != &in_file_ops) return NULL;
    return ((in_file *)f)->w->mk_arg;
}

/* streams: one shared window per path for the whole process */
typedef struct stream_ent {
    char *path;
    win *w;
    csvavro_compression c;
    csvavro_compression asked;
} stream_ent;
static pthread_mutex_t streams_mu = PTHREAD_MUTEX_INITIALIZER;
static stream_ent streams[8];
static size_t n_streams;

bool cav_input_is_stream(csvavro_fs *fs, const char *path) {
    if (!fs || strcmp(fs->ops->scheme, "file") != 0) return false;
    if (is_stdin_name(path)) return true;
    struct stat sb;
    if (stat(path, &sb) != 0) return false;
    return S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode) || S_ISSOCK(sb.st_mode);
}

csvavro_status cav_input_open(csvavro_fs *fs, const char *path, csvavro_compression comp,
                              const char *zip_entry, csvavro_file **out, csvavro_error *err) {
    *out = NULL;
    if (!cav_input_is_stream(fs, path)) {
        if (comp == CSVAVRO_COMPRESSION_NONE) return csvavro_fs_open_read(fs, path, out, err);
        csvavro_file *f = NULL;
        if (comp == CSVAVRO_COMPRESSION_AUTO) {
            /* plain files stay plain files (random access, exact splits) */
            CAV_TRY(csvavro_fs_open_read(fs, path, &f, err));
            uint8_t pre[8];
            size_t got = 0;
            csvavro_status st = csvavro_file_pread(f, pre, sizeof pre, 0, &got, err);
            if (st != CSVAVRO_OK) {
                csvavro_file_close(f, NULL);
                return st;
            }
            if (from_magic(pre, got) == CSVAVRO_COMPRESSION_NONE &&
                from_name(path) == CSVAVRO_COMPRESSION_NONE) {
                *out = f;
                return CSVAVRO_OK;
            }
            csvavro_file_close(f, NULL);
        }
        win *w = NULL;
        csvavro_compression c;
        CAV_TRY(win_new(fs, path, comp, zip_entry, false, &w, &c, err));
        if (c == CSVAVRO_COMPRESSION_NONE) {
            win_unref(w);
            return csvavro_fs_open_read(fs, path, out, err);
        }
        csvavro_status st = view(w, c, out, err);
        win_unref(w);
        return st;
    }
    pthread_mutex_lock(&streams_mu);
    csvavro_status st = CSVAVRO_OK;
    stream_ent *e = NULL;
    for (size_t i = 0; i < n_streams; i++)
        if (!strcmp(streams[i].path, path)) e = &streams[i];
    if (e && e->asked != comp) {
        cav_err_path(err, path);
        st = cav_err(err, CSVAVRO_E_USAGE, "a stream is read once: opened again as %s",
                     csvavro_compression_name(comp));
    } else if (!e && n_streams == sizeof streams / sizeof *streams) {
        st = cav_err(err, CSVAVRO_E_LIMIT, "too many stream inputs");
    } else if (!e) {
        e = &streams[n_streams];
        e->path = cav_strdup(path);
        if (!e->path) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        if (st == CSVAVRO_OK) st = win_new(fs, path, comp, zip_entry, true, &e->w, &e->c, err);
        if (st == CSVAVRO_OK) {
            e->asked = comp;
            n_streams++;
        } else {
            cav_free(e->path);
            e->path = NULL;
        }
    }
    if (st == CSVAVRO_OK) st = view(e->w, e->c, out, err);
    pthread_mutex_unlock(&streams_mu);
    return st;
}

/* ------------------------------------------------------------------ in memory (fuzzing) */

typedef struct mem_src {
    src base;
    const uint8_t *p;
    size_t n, pos;
} mem_src;

static csvavro_status mem_read(src *s, uint8_t *buf, size_t cap, size_t *got, csvavro_error *err) {
    (void)err;
    mem_src *m = (mem_src *)s;
    size_t k = CAV_MIN(cap, m->n - m->pos);
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    *got = k;
    return CSVAVRO_OK;
}

static void mem_destroy(src *s) {
    cav_free(s);
}

/* a read-only csvavro_file over memory (zip needs random access) */
typedef struct mem_file {
    csvavro_file base;
    const uint8_t *p;
} mem_file;

static csvavro_status mf_pread(csvavro_file *f, void *buf, size_t len, int64_t off, size_t *got,
                               csvavro_error *err) {
    (void)err;
    mem_file *m = (mem_file *)f;
    size_t k = off >= f->size ? 0 : (size_t)CAV_MIN((int64_t)len, f->size - off);
    if (k) memcpy(buf, m->p + off, k);
    *got = k;
    return CSVAVRO_OK;
}

static void mf_abort(csvavro_file *f) {
    cav_free(f);
}

static csvavro_status mf_close(csvavro_file *f, csvavro_error *err) {
    (void)err;
    cav_free(f);
    return CSVAVRO_OK;
}

static const cav_file_ops mem_file_ops = {mf_pread, if_write, mf_close, mf_abort};

csvavro_status cav_input_decode_buffer(const uint8_t *data, size_t len, csvavro_compression comp,
                                       uint8_t *out, size_t cap, size_t *out_len,
                                       csvavro_error *err) {
    *out_len = 0;
    if (comp == CSVAVRO_COMPRESSION_AUTO) comp = from_magic(data, len);
    if (comp == CSVAVRO_COMPRESSION_NONE)
        return cav_err(err, CSVAVRO_E_USAGE, "decode_buffer: not compressed");
    src *d = NULL;
    if (comp == CSVAVRO_COMPRESSION_ZIP) {
        mem_file *f = cav_calloc(1, sizeof *f);
        if (!f) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        f->base.ops = &mem_file_ops;
        f->base.size = (int64_t)len;
        f->p = data;
        CAV_TRY(zip_create(&f->base, NULL, "buffer", &d, err));
    } else {
        mem_src *m = cav_calloc(1, sizeof *m);
        if (!m) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        m->base.read = mem_read;
        m->base.destroy = mem_destroy;
        m->p = data;
        m->n = len;
        CAV_TRY(dec_create(&m->base, comp, "buffer", &d, err));
    }
    csvavro_status st = CSVAVRO_OK;
    for (;;) {
        size_t got = 0;
        uint8_t probe;
        /* at the cap, one more byte tells "exactly cap" from "longer" */
        st = *out_len < cap ? src_read(d, out + *out_len, cap - *out_len, &got, err)
                            : src_read(d, &probe, 1, &got, err);
        if (st != CSVAVRO_OK || got == 0) break;
        if (*out_len == cap) {
            st = cav_err(err, CSVAVRO_E_LIMIT, "more than %zu decoded bytes", cap);
            break;
        }
        *out_len += got;
    }
    d->destroy(d);
    return st;
}
