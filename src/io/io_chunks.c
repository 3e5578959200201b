/*
 * io_chunks.c — exact splits of compressed inputs: bzip2 at block boundaries, zstd made of
 * several frames at frame boundaries (docs/input.md, "Splits of compressed files").
 *
 * A splittable input is cut into compressed byte ranges starting at cuts[0] = 0 < cuts[1] < ….
 * A *chunk* (a bzip2 block, a zstd frame) belongs to the range holding its first byte (for
 * bzip2: the byte holding the first bit of its 48-bit block magic 0x314159265359, blocks are
 * not byte-aligned). The view of split k (cav_chunks_open) decodes the chunks of range k and
 * then goes on with the chunks after it (the CSV reader finishes its last record there); its
 * offsets are *local*: 0 = the first byte of range k's first chunk. It tells the reader where
 * range k's own bytes end once it knows (cav_chunks_own_end) and turns a local offset into
 * (owner range, offset in the owner's bytes) (cav_chunks_locate), which is how exec compares
 * positions found by different splits.
 *
 * bzip2 (as Hadoop's splittable BZip2Codec): the block magic can start at any bit and can occur
 * by chance inside compressed data. A block is accepted only when it decodes: its bits, from its
 * magic up to the next candidate (block magic or end-of-stream magic 0x177245385090), are put in
 * a one-block stream ("BZh9" + the block + end-of-stream magic + the block's CRC as the
 * stream CRC) and decoded with libbz2, which checks the block CRC and the stream CRC. A false
 * candidate as block end makes the block fail to decode and the next candidate is tried; a false
 * candidate as the first block of a range fails to decode and is skipped. The decoded block is
 * handed out only after its CRC matched. After an end-of-stream magic and its CRC the next stream
 * starts at the next byte ("BZh1".."BZh9"); anything else there is an error.
 * Limits: a block is at most 3 MiB of compressed bits (the format's worst case is about 2.3 MB
 * for 900k symbols of 20-bit codes) and 48 MiB decoded (900k bytes of run-length pairs); at most
 * 64 candidate ends per block and 64 false starts per range are tried (a clear error beyond).
 *
 * zstd: frame boundaries come from the seekable format's seek table when the file ends with a
 * valid one (skippable frame, footer magic 0x8F92EAB1, frame sizes summing to the file), else
 * from walking the frames (frame header, then block headers: 3 bytes each with size and type;
 * skippable frames by their size field), bounds-checked against the file size. The view decodes
 * from its first frame with one streaming decoder; a frame ends where the decoder reports it.
 *
 * Memory of a view: bzip2 3.25 MiB of compressed bytes + the block's copy + its decoded bytes
 * (typically 0.9 MiB, at most 48 MiB) + libbz2's 3.6 MiB; zstd 256 KiB + the decoder (window up
 * to 128 MiB as libzstd's default limit). Plus 16 bytes per range boundary the view crosses.
 */
#include "io.h"
#include "io_src.h"

#include <bzlib.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define BZ_BLOCK_MAGIC 0x314159265359ull
#define BZ_EOS_MAGIC 0x177245385090ull
#define M48 0xffffffffffffull
#define BZ_MAX_BLOCK_BYTES ((int64_t)3 << 20)
#define BZ_MAX_DECODED ((size_t)48 << 20)
#define BZ_MAX_TRIES 64
#define SCAN_STEP ((int64_t)64 << 10)
#define CB_CAP ((size_t)(BZ_MAX_BLOCK_BYTES + 2 * SCAN_STEP + 64))
#define ZIN ((int64_t)256 << 10)
#define ZSTD_SKIP_MASK 0xfffffff0u
#define ZSTD_SKIP_MAGIC 0x184d2a50u
#define ZSTD_MAGIC 0xfd2fb528u
#define SEEK_MAGIC 0x8f92eab1u

enum { K_NONE, K_BLOCK, K_EOS };

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------ compressed bytes */

/* a sliding buffer over the compressed file: b holds [off, off + len) */
typedef struct cbuf {
    csvavro_file *f;
    int64_t size;
    uint8_t *b;
    size_t cap, len;
    int64_t off;
    const char *path;
} cbuf;

/* Makes [keep, to) available (to is clipped to the file); bytes before keep may be dropped. */
static csvavro_status cb_need(cbuf *c, int64_t keep, int64_t to, csvavro_error *err) {
    if (to > c->size) to = c->size;
    if (keep > to) keep = to;
    if (keep < c->off || keep > c->off + (int64_t)c->len) {
        c->off = keep;
        c->len = 0;
    }
    if (to <= c->off + (int64_t)c->len) return CSVAVRO_OK;
    size_t drop = (size_t)(keep - c->off);
    if (drop) {
        memmove(c->b, c->b + drop, c->len - drop);
        c->len -= drop;
        c->off = keep;
    }
    size_t want = (size_t)(to - c->off);
    if (want > c->cap) {
        cav_err_path(err, c->path);
        return cav_err(err, CSVAVRO_E_INTERNAL, "compressed window of %zu bytes exceeded", c->cap);
    }
    while (c->off + (int64_t)c->len < to) {
        int64_t at = c->off + (int64_t)c->len;
        size_t n = (size_t)CAV_MIN((int64_t)(c->cap - c->len), c->size - at), got = 0;
        CAV_TRY(csvavro_file_pread(c->f, c->b + c->len, n, at, &got, err));
        if (got == 0) {
            cav_err_path(err, c->path);
            return cav_err(err, CSVAVRO_E_IO, "the file ends at byte %lld, before its size %lld",
                           (long long)at, (long long)c->size);
        }
        c->len += got;
    }
    return CSVAVRO_OK;
}

/* ------------------------------------------------------------------ bzip2 blocks */

/* First candidate magic (block or end of stream; block only if block_only) at a bit position in
 * [from, limit) of the bytes b[0, n) whose first byte is at file byte base: *pos (file bit) and
 * *kind, or K_NONE. Only magics that fit entirely in b are seen. */
static int scan_bits(const uint8_t *b, size_t n, int64_t base, int64_t from, int64_t limit,
                     bool block_only, int64_t *pos) {
    int64_t first = from / 8 - base;
    if (first < 0) first = 0;
    if ((size_t)first + 6 > n) return K_NONE;
    uint64_t w = 0; /* big-endian bytes i .. i + 7 (zeros past n) */
    for (size_t k = 0; k < 8; k++)
        w = w << 8 | ((size_t)first + k < n ? b[(size_t)first + k] : 0);
    for (size_t i = (size_t)first; i + 6 <= n; i++) {
        int64_t bit0 = (base + (int64_t)i) * 8;
        if (bit0 >= limit) return K_NONE;
        for (int sh = 0; sh < 8; sh++) {
            int64_t p = bit0 + sh;
            if (p < from || p >= limit) continue;
            if (i * 8 + (size_t)sh + 48 > n * 8) break;
            uint64_t v = (w >> (16 - sh)) & M48;
            if (v == BZ_BLOCK_MAGIC || (!block_only && v == BZ_EOS_MAGIC)) {
                *pos = p;
                return v == BZ_BLOCK_MAGIC ? K_BLOCK : K_EOS;
            }
        }
        w = w << 8 | (i + 8 < n ? b[i + 8] : 0);
    }
    return K_NONE;
}

typedef struct bzdec {
    uint8_t *syn; /* the one-block stream */
    size_t syn_cap;
    uint8_t *out; /* its decoded bytes */
    size_t out_cap, out_len;
} bzdec;

static void put_bits(uint8_t *o, int64_t *bitpos, uint64_t v, int nbits) {
    for (int i = nbits - 1; i >= 0; i--) {
        int64_t p = (*bitpos)++;
        if ((v >> i) & 1) o[p >> 3] |= (uint8_t)(0x80u >> (p & 7));
    }
}

static uint64_t get_bits(const uint8_t *b, int64_t bitpos, int nbits) {
    uint64_t v = 0;
    for (int i = 0; i < nbits; i++) {
        int64_t p = bitpos + i;
        v = v << 1 | ((b[p >> 3] >> (7 - (p & 7))) & 1);
    }
    return v;
}

/* Decodes the block whose bits are [s, e) of the file (relative bit positions rs, re in the
 * buffer b) as a one-block stream. Returns true when libbz2 accepts it (CRCs included); the
 * decoded bytes are then in d->out[0, d->out_len). */
static bool bz_decode_block(bzdec *d, const uint8_t *b, int64_t rs, int64_t re,
                            csvavro_status *fatal) {
    int64_t nbits = re - rs;
    if (nbits < 80) return false;
    size_t need = 4 + (size_t)((nbits + 80 + 7) / 8) + 1;
    if (need > d->syn_cap) {
        uint8_t *n = cav_realloc(d->syn, need);
        if (!n) {
            *fatal = CSVAVRO_E_NOMEM;
            return false;
        }
        d->syn = n;
        d->syn_cap = need;
    }
    memset(d->syn, 0, need);
    memcpy(d->syn, "BZh9", 4);
    /* the block's bits, shifted to start at bit 32 */
    int sh = (int)(rs & 7);
    const uint8_t *src = b + (rs >> 3);
    size_t whole = (size_t)(nbits / 8);
    for (size_t k = 0; k < whole; k++)
        d->syn[4 + k] = (uint8_t)(src[k] << sh | (sh ? src[k + 1] >> (8 - sh) : 0));
    int64_t bp = 32 + (int64_t)whole * 8;
    int rest = (int)(nbits & 7);
    if (rest) put_bits(d->syn, &bp, get_bits(b, rs + (int64_t)whole * 8, rest), rest);
    put_bits(d->syn, &bp, BZ_EOS_MAGIC, 48);
    put_bits(d->syn, &bp, get_bits(b, rs + 48, 32), 32); /* the stream CRC of one block */
    size_t syn_len = (size_t)((bp + 7) / 8);

    bz_stream z;
    memset(&z, 0, sizeof z);
    if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) {
        *fatal = CSVAVRO_E_NOMEM;
        return false;
    }
    z.next_in = (char *)d->syn;
    z.avail_in = (unsigned)syn_len;
    d->out_len = 0;
    bool ok = false;
    for (;;) {
        if (d->out_len == d->out_cap) {
            if (d->out_cap >= BZ_MAX_DECODED) break;
            size_t nc = d->out_cap ? CAV_MIN(d->out_cap * 2, BZ_MAX_DECODED) : (size_t)1 << 20;
            uint8_t *n = cav_realloc(d->out, nc);
            if (!n) {
                *fatal = CSVAVRO_E_NOMEM;
                break;
            }
            d->out = n;
            d->out_cap = nc;
        }
        z.next_out = (char *)d->out + d->out_len;
        z.avail_out = (unsigned)(d->out_cap - d->out_len);
        unsigned before_in = z.avail_in, before_out = z.avail_out;
        int r = BZ2_bzDecompress(&z);
        d->out_len = d->out_cap - z.avail_out;
        if (r == BZ_STREAM_END) {
            ok = true;
            break;
        }
        if (r != BZ_OK) break;
        if (z.avail_in == before_in && z.avail_out == before_out) break; /* wants more: cut */
        if (z.avail_in == 0 && z.avail_out > 0) break;                   /* truncated */
    }
    BZ2_bzDecompressEnd(&z);
    return ok;
}

/* ------------------------------------------------------------------ split views */

typedef struct crossing {
    size_t owner;
    int64_t local;
} crossing;

typedef struct chunk_ctx {
    csvavro_fs *fs;    /* NULL: mem (fuzzing) */
    csvavro_file *mem; /* the in-memory file (borrowed) */
    char *path, *display;
    csvavro_compression c;
    int64_t *cuts;
    size_t n, own;
    int64_t csize;
    int64_t own_end; /* local offset where range own's bytes end, -1 until known */
    bool own_empty;  /* range own holds no chunk (known at open) */
    crossing *x;
    size_t nx, cap_x;
} chunk_ctx;

static size_t owner_of(const chunk_ctx *x, int64_t byte) {
    size_t lo = 0, hi = x->n; /* largest k with cuts[k] <= byte */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->cuts[mid] <= byte)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int64_t range_end_byte(const chunk_ctx *x, size_t k) {
    return k + 1 < x->n ? x->cuts[k + 1] : x->csize;
}

typedef struct chunk_src {
    cav_src base;
    chunk_ctx *x;
    cbuf cb;
    csvavro_file *f; /* owned unless mem */
    int64_t local;
    /* bzip2 */
    int64_t next; /* bit position of the next block's magic; -1: no more */
    bool started;
    bzdec d;
    size_t dpos;
    /* zstd */
    ZSTD_DStream *zs;
    int64_t cpos;
    bool at_frame;
    size_t hint;
} chunk_src;

static csvavro_status note_owner(chunk_src *s, size_t owner, csvavro_error *err) {
    chunk_ctx *x = s->x;
    if (!x->nx || x->x[x->nx - 1].owner != owner) {
        if (x->nx == x->cap_x) {
            size_t nc = x->cap_x ? x->cap_x * 2 : 8;
            crossing *n = cav_realloc(x->x, nc * sizeof *n);
            if (!n) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            x->x = n;
            x->cap_x = nc;
        }
        x->x[x->nx++] = (crossing){owner, s->local};
    }
    if (x->own_end < 0 && owner > x->own) x->own_end = s->local;
    return CSVAVRO_OK;
}

static csvavro_status bz_corrupt(chunk_src *s, csvavro_error *err, int64_t bit, const char *what) {
    cav_err_path(err, s->x->display);
    return cav_err(err, CSVAVRO_E_CORRUPT, "bzip2 data: %s (at compressed byte %lld)", what,
                   (long long)(bit / 8));
}

/* Decodes the block starting at bit start: tries the candidates after it as its end. On
 * success *end is the end candidate and *kind its type; *found false when none decodes. */
static csvavro_status bz_block(chunk_src *s, int64_t start, int64_t *end, int *kind, bool *found,
                               csvavro_error *err) {
    *found = false;
    int64_t from = start + 80, limit = start + BZ_MAX_BLOCK_BYTES * 8;
    int64_t fbits = s->cb.size * 8;
    if (limit > fbits) limit = fbits;
    for (int tries = 0; tries < BZ_MAX_TRIES && from < limit;) {
        /* the next candidate end (scanning a step of bytes at a time) */
        int64_t pos = -1;
        int k = K_NONE;
        while (from < limit) {
            int64_t hi = CAV_MIN(limit / 8 + 8, from / 8 + SCAN_STEP);
            CAV_TRY(cb_need(&s->cb, start / 8, hi, err));
            k = scan_bits(s->cb.b, s->cb.len, s->cb.off, from, limit, false, &pos);
            if (k != K_NONE) break;
            int64_t covered = (s->cb.off + (int64_t)s->cb.len) * 8 - 47;
            if (hi >= s->cb.size || covered >= limit) {
                from = limit;
                break;
            }
            from = CAV_MAX(from, covered);
        }
        if (k == K_NONE) break;
        CAV_TRY(cb_need(&s->cb, start / 8, pos / 8 + 2, err));
        csvavro_status fatal = CSVAVRO_OK;
        int64_t base = s->cb.off * 8;
        if (bz_decode_block(&s->d, s->cb.b, start - base, pos - base, &fatal)) {
            *end = pos;
            *kind = k;
            *found = true;
            return CSVAVRO_OK;
        }
        if (fatal != CSVAVRO_OK) return cav_err(err, fatal, "out of memory for a bzip2 block");
        tries++;
        from = pos + 1;
    }
    /* the last block of the file may end with an end-of-stream magic only; nothing else */
    return CSVAVRO_OK;
}

/* After a block that ended at `end` (kind): the next block's magic, or -1 at the end. */
static csvavro_status bz_after(chunk_src *s, int64_t end, int kind, csvavro_error *err) {
    while (kind == K_EOS) {
        int64_t byte = (end + 80 + 7) / 8; /* magic + stream CRC, then padding */
        if (byte >= s->cb.size) {
            s->next = -1;
            return CSVAVRO_OK;
        }
        CAV_TRY(cb_need(&s->cb, byte, byte + 10, err));
        const uint8_t *p = s->cb.b + (byte - s->cb.off);
        size_t avail = s->cb.len - (size_t)(byte - s->cb.off);
        if (avail < 10 || p[0] != 'B' || p[1] != 'Z' || p[2] != 'h' || p[3] < '1' || p[3] > '9')
            return bz_corrupt(s, err, byte * 8, "trailing bytes after the last bzip2 stream");
        uint64_t m = get_bits(p, 32, 48);
        if (m == BZ_BLOCK_MAGIC) {
            s->next = byte * 8 + 32;
            return CSVAVRO_OK;
        }
        if (m != BZ_EOS_MAGIC) return bz_corrupt(s, err, byte * 8 + 32, "no block after a header");
        end = byte * 8 + 32; /* an empty stream */
    }
    s->next = end;
    return CSVAVRO_OK;
}

/* The first block of the view: the first candidate at or after the range start that decodes. */
static csvavro_status bz_first(chunk_src *s, csvavro_error *err) {
    int64_t from = s->x->cuts[s->x->own] * 8, fbits = s->cb.size * 8;
    int fakes = 0;
    s->started = true;
    s->next = -1;
    /* the first range starts with the file's first stream: its first block must decode (no
     * candidate is skipped there, a damaged first block is an error) */
    if (s->x->own == 0) return bz_after(s, -80, K_EOS, err);
    while (from < fbits) {
        int64_t pos = -1;
        int k = K_NONE;
        int64_t hi = CAV_MIN(s->cb.size, from / 8 + SCAN_STEP);
        CAV_TRY(cb_need(&s->cb, from / 8, hi, err));
        k = scan_bits(s->cb.b, s->cb.len, s->cb.off, from, fbits, true, &pos);
        if (k == K_NONE) {
            if (hi >= s->cb.size) break;
            from = CAV_MAX(from, (s->cb.off + (int64_t)s->cb.len) * 8 - 47);
            continue;
        }
        int64_t end;
        int kind;
        bool found;
        CAV_TRY(bz_block(s, pos, &end, &kind, &found, err));
        if (found) {
            s->next = pos;
            s->dpos = SIZE_MAX; /* decoded, not yet handed out */
            s->cpos = end;
            s->hint = (size_t)kind;
            return CSVAVRO_OK;
        }
        if (++fakes >= BZ_MAX_TRIES)
            return bz_corrupt(s, err, pos, "too many block markers that do not decode");
        from = pos + 1;
    }
    return CSVAVRO_OK;
}

static csvavro_status bz_read(chunk_src *s, uint8_t *buf, size_t cap, size_t *got,
                              csvavro_error *err) {
    for (;;) {
        if (s->dpos < s->d.out_len && s->dpos != SIZE_MAX) {
            size_t k = CAV_MIN(cap, s->d.out_len - s->dpos);
            memcpy(buf, s->d.out + s->dpos, k);
            s->dpos += k;
            s->local += (int64_t)k;
            *got = k;
            return CSVAVRO_OK;
        }
        if (!s->started) CAV_TRY(bz_first(s, err));
        if (s->dpos == SIZE_MAX) { /* bz_first decoded the block at s->next */
            s->dpos = 0;
        } else {
            if (s->next < 0) break;
            int64_t end;
            int kind;
            bool found;
            CAV_TRY(bz_block(s, s->next, &end, &kind, &found, err));
            if (!found)
                return bz_corrupt(s, err, s->next,
                                  "a block does not decode (damaged data, or the file is "
                                  "truncated)");
            s->cpos = end;
            s->hint = (size_t)kind;
            s->dpos = 0;
        }
        if (s->next < 0) break;
        CAV_TRY(note_owner(s, owner_of(s->x, s->next / 8), err));
        CAV_TRY(bz_after(s, s->cpos, (int)s->hint, err));
    }
    if (s->x->own_end < 0) s->x->own_end = s->local;
    *got = 0;
    return CSVAVRO_OK;
}

static csvavro_status z_read(chunk_src *s, uint8_t *buf, size_t cap, size_t *got,
                             csvavro_error *err) {
    for (;;) {
        if (s->at_frame) {
            if (s->cpos >= s->cb.size) {
                if (s->x->own_end < 0) s->x->own_end = s->local;
                *got = 0;
                return CSVAVRO_OK;
            }
            CAV_TRY(note_owner(s, owner_of(s->x, s->cpos), err));
            s->at_frame = false;
        }
        CAV_TRY(cb_need(&s->cb, s->cpos, s->cpos + ZIN, err));
        size_t avail = s->cb.len - (size_t)(s->cpos - s->cb.off);
        ZSTD_inBuffer zi = {s->cb.b + (s->cpos - s->cb.off), avail, 0};
        ZSTD_outBuffer zo = {buf, cap, 0};
        size_t r = ZSTD_decompressStream(s->zs, &zo, &zi);
        if (ZSTD_isError(r)) {
            cav_err_path(err, s->x->display);
            return cav_err(err, CSVAVRO_E_CORRUPT, "zstd data: %s (at compressed byte %lld)",
                           ZSTD_getErrorName(r), (long long)s->cpos);
        }
        s->cpos += (int64_t)zi.pos;
        if (r == 0) s->at_frame = true;
        if (zo.pos) {
            s->local += (int64_t)zo.pos;
            *got = zo.pos;
            return CSVAVRO_OK;
        }
        if (!s->at_frame && zi.pos == 0) {
            cav_err_path(err, s->x->display);
            return cav_err(err, CSVAVRO_E_CORRUPT,
                           avail ? "zstd data: the decoder made no progress (at compressed byte "
                                   "%lld)"
                                 : "zstd data: truncated (the file ends inside a frame, at "
                                   "compressed byte %lld)",
                           (long long)s->cpos);
        }
    }
}

static csvavro_status cs_read(cav_src *b, uint8_t *buf, size_t cap, size_t *got,
                              csvavro_error *err) {
    chunk_src *s = (chunk_src *)b;
    *got = 0;
    if (cap == 0) return CSVAVRO_OK;
    return s->x->c == CSVAVRO_COMPRESSION_BZIP2 ? bz_read(s, buf, cap, got, err)
                                                : z_read(s, buf, cap, got, err);
}

static void cs_destroy(cav_src *b) {
    chunk_src *s = (chunk_src *)b;
    if (s->f && s->f != s->x->mem) csvavro_file_close(s->f, NULL);
    if (s->zs) ZSTD_freeDStream(s->zs);
    cav_free(s->cb.b);
    cav_free(s->d.syn);
    cav_free(s->d.out);
    cav_free(s);
}

static csvavro_status cs_make(void *arg, cav_src **out, csvavro_error *err) {
    chunk_ctx *x = arg;
    chunk_src *s = cav_calloc(1, sizeof *s);
    if (!s) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    s->base.read = cs_read;
    s->base.destroy = cs_destroy;
    s->x = x;
    x->nx = 0; /* a restart finds the same crossings again */
    csvavro_status st = CSVAVRO_OK;
    if (x->mem)
        s->f = x->mem;
    else
        st = csvavro_fs_open_read(x->fs, x->path, &s->f, err);
    s->cb.f = s->f;
    s->cb.size = x->csize;
    s->cb.path = x->display;
    s->cb.cap = x->c == CSVAVRO_COMPRESSION_BZIP2 ? CB_CAP : (size_t)ZIN;
    if (st == CSVAVRO_OK && !(s->cb.b = cav_malloc(s->cb.cap)))
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    if (st == CSVAVRO_OK && x->c == CSVAVRO_COMPRESSION_ZSTD) {
        s->zs = ZSTD_createDStream();
        if (!s->zs)
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory for the zstd decoder");
        else
            ZSTD_initDStream(s->zs);
        s->cpos = x->cuts[x->own];
        s->at_frame = true;
    }
    if (st == CSVAVRO_OK && x->c == CSVAVRO_COMPRESSION_BZIP2) {
        /* a range without even a candidate block magic owns nothing: known without decoding */
        int64_t from = x->cuts[x->own] * 8, lim = range_end_byte(x, x->own) * 8, pos;
        bool any = false;
        while (from < lim && st == CSVAVRO_OK) {
            int64_t hi = CAV_MIN(x->csize, CAV_MIN(from / 8 + SCAN_STEP, lim / 8 + 8));
            st = cb_need(&s->cb, from / 8, hi, err);
            if (st != CSVAVRO_OK) break;
            if (scan_bits(s->cb.b, s->cb.len, s->cb.off, from, lim, true, &pos) != K_NONE) {
                any = true;
                break;
            }
            if (hi >= x->csize || hi >= lim / 8 + 8) break;
            from = CAV_MAX(from, (s->cb.off + (int64_t)s->cb.len) * 8 - 47);
        }
        if (st == CSVAVRO_OK && !any) {
            x->own_empty = true;
            x->own_end = 0;
        }
    }
    if (st != CSVAVRO_OK) {
        cs_destroy(&s->base);
        return st;
    }
    *out = &s->base;
    return CSVAVRO_OK;
}

static void ctx_free(void *arg) {
    chunk_ctx *x = arg;
    if (!x) return;
    cav_free(x->path);
    cav_free(x->display);
    cav_free(x->cuts);
    cav_free(x->x);
    cav_free(x);
}

static csvavro_status open_view(csvavro_fs *fs, csvavro_file *mem, const char *path,
                                const char *display, const cav_chunk_cuts *cuts, size_t own,
                                csvavro_file **out, csvavro_error *err) {
    *out = NULL;
    CAV_RETURN_IF(own >= cuts->n || cuts->n == 0 || cuts->start[0] != 0, err, CSVAVRO_E_INTERNAL,
                  "chunk view: bad range %zu of %zu", own, cuts->n);
    chunk_ctx *x = cav_calloc(1, sizeof *x);
    if (!x) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    x->fs = fs;
    x->mem = mem;
    x->path = cav_strdup(path);
    x->display = cav_strdup(display ? display : path);
    x->c = cuts->codec;
    x->n = cuts->n;
    x->own = own;
    x->csize = cuts->csize;
    x->own_end = -1;
    x->cuts = cav_malloc(cuts->n * sizeof *x->cuts);
    if (!x->path || !x->display || !x->cuts) {
        ctx_free(x);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    memcpy(x->cuts, cuts->start, cuts->n * sizeof *x->cuts);
    return cav_input_view_make(x->display, x->c, cs_make, x, ctx_free, out, err);
}

csvavro_status cav_chunks_open(csvavro_fs *fs, const char *path, const char *display,
                               const cav_chunk_cuts *cuts, size_t own, csvavro_file **out,
                               csvavro_error *err) {
    return open_view(fs, NULL, path, display, cuts, own, out, err);
}

const int64_t *cav_chunks_own_end(csvavro_file *f) {
    chunk_ctx *x = cav_input_view_arg(f);
    return x ? &x->own_end : NULL;
}

bool cav_chunks_own_empty(csvavro_file *f) {
    chunk_ctx *x = cav_input_view_arg(f);
    return x && x->own_empty;
}

void cav_chunks_locate(csvavro_file *f, int64_t local, size_t *owner, int64_t *off) {
    chunk_ctx *x = cav_input_view_arg(f);
    *owner = x ? x->own : 0;
    *off = local;
    if (!x) return;
    /* the last range whose bytes start before local: a position at a boundary is the end of
     * the range before it (ranges without bytes are never named) */
    for (size_t i = x->nx; i-- > 0;)
        if (x->x[i].local < local) {
            *owner = x->x[i].owner;
            *off = local - x->x[i].local;
            return;
        }
}

/* ------------------------------------------------------------------ cutting */

/* small cached reads at increasing positions */
typedef struct rd {
    csvavro_file *f;
    int64_t size;
    uint8_t buf[64 << 10];
    int64_t off;
    size_t len;
} rd;

/* Up to n (<= 64 KiB) bytes at pos: *p and *avail (less than n only at the end of the file). */
static csvavro_status rd_get(rd *r, int64_t pos, size_t n, const uint8_t **p, size_t *avail,
                             csvavro_error *err) {
    int64_t end = r->off + (int64_t)r->len;
    if (pos < r->off || (pos + (int64_t)n > end && end < r->size)) {
        /* reading on from the cached bytes: 64 KiB; a jump (the next block header of a frame
         * walk): 4 KiB, so that a walk reads about 3% of a file of 128 KiB blocks */
        int64_t chunk = pos >= r->off && pos <= end ? (int64_t)sizeof r->buf : 4096;
        if (chunk < (int64_t)n) chunk = (int64_t)n;
        r->off = pos;
        r->len = 0;
        size_t want = (size_t)CAV_MAX((int64_t)0, CAV_MIN(chunk, r->size - pos));
        while (r->len < want) {
            size_t got = 0;
            CAV_TRY(csvavro_file_pread(r->f, r->buf + r->len, want - r->len, pos + (int64_t)r->len,
                                       &got, err));
            if (got == 0) break;
            r->len += got;
        }
    }
    *p = r->buf + (pos - r->off);
    size_t have = pos <= r->off + (int64_t)r->len ? (size_t)(r->off + (int64_t)r->len - pos) : 0;
    *avail = CAV_MIN(have, n);
    return CSVAVRO_OK;
}

typedef struct cutter {
    cav_chunk_cuts *c;
    int64_t ss;
    size_t cap;
} cutter;

/* a chunk starting at pos (data: false for skippable frames, which never start a range) */
static csvavro_status cut_add(cutter *k, int64_t pos, bool data, csvavro_error *err) {
    cav_chunk_cuts *c = k->c;
    if (c->n == 0 || (data && pos >= c->start[c->n - 1] + k->ss)) {
        if (c->n == k->cap) {
            size_t nc = k->cap ? k->cap * 2 : 16;
            int64_t *a = cav_realloc(c->start, nc * sizeof *a);
            if (a) c->start = a;
            int64_t *b = a ? cav_realloc(c->chunks, nc * sizeof *b) : NULL;
            if (b) c->chunks = b;
            if (!a || !b) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            k->cap = nc;
        }
        c->start[c->n] = c->n ? pos : 0;
        c->chunks[c->n] = 0;
        c->n++;
    }
    c->chunks[c->n - 1]++;
    return CSVAVRO_OK;
}

static csvavro_status z_corrupt(rd *r, const char *path, int64_t at, const char *what,
                                csvavro_error *err) {
    (void)r;
    cav_err_path(err, path);
    return cav_err(err, CSVAVRO_E_CORRUPT, "zstd data: %s (at compressed byte %lld)", what,
                   (long long)at);
}

/* The seek table, when the file ends with a valid one: true and the cuts made. */
static csvavro_status z_seek_table(rd *r, cutter *k, bool *used, csvavro_error *err) {
    *used = false;
    if (r->size < 17) return CSVAVRO_OK;
    const uint8_t *p;
    size_t av;
    CAV_TRY(rd_get(r, r->size - 9, 9, &p, &av, err));
    if (av < 9 || le32(p + 5) != SEEK_MAGIC) return CSVAVRO_OK;
    uint64_t nframes = le32(p), desc = p[4];
    if (desc & 0x7c) return CSVAVRO_OK; /* reserved bits */
    uint64_t esz = (desc & 0x80) ? 12 : 8, tsz = nframes * esz + 9, total = tsz + 8;
    if (total > (uint64_t)r->size || tsz > UINT32_MAX) return CSVAVRO_OK;
    int64_t tstart = r->size - (int64_t)total;
    CAV_TRY(rd_get(r, tstart, 8, &p, &av, err));
    if (av < 8 || le32(p) != 0x184d2a5eu || le32(p + 4) != tsz) return CSVAVRO_OK;
    /* check the sizes first (nothing is cut from a table that does not add up) */
    uint64_t sum = 0;
    for (uint64_t i = 0; i < nframes; i++) {
        CAV_TRY(rd_get(r, tstart + 8 + (int64_t)(i * esz), 4, &p, &av, err));
        if (av < 4) return CSVAVRO_OK;
        uint32_t cs = le32(p);
        if (cs == 0) return CSVAVRO_OK;
        sum += cs;
        if (sum > (uint64_t)tstart) return CSVAVRO_OK;
    }
    if (sum != (uint64_t)tstart) return CSVAVRO_OK;
    int64_t pos = 0;
    for (uint64_t i = 0; i < nframes; i++) {
        CAV_TRY(rd_get(r, tstart + 8 + (int64_t)(i * esz), 4, &p, &av, err));
        CAV_TRY(cut_add(k, pos, true, err));
        pos += le32(p);
    }
    CAV_TRY(cut_add(k, tstart, false, err)); /* the table's own skippable frame */
    *used = true;
    return CSVAVRO_OK;
}

/* Walks the frames from the start (bounds-checked against the file size). */
static csvavro_status z_walk(rd *r, cutter *k, const char *path, csvavro_error *err) {
    int64_t pos = 0;
    while (pos < r->size) {
        const uint8_t *p;
        size_t av;
        CAV_TRY(rd_get(r, pos, 18, &p, &av, err));
        if (av < 8) return z_corrupt(r, path, pos, "truncated frame header", err);
        uint32_t magic = le32(p);
        if ((magic & ZSTD_SKIP_MASK) == ZSTD_SKIP_MAGIC) {
            int64_t end = pos + 8 + (int64_t)le32(p + 4);
            if (end > r->size) return z_corrupt(r, path, pos, "truncated skippable frame", err);
            CAV_TRY(cut_add(k, pos, false, err));
            pos = end;
            continue;
        }
        if (magic != ZSTD_MAGIC) return z_corrupt(r, path, pos, "not a zstd frame", err);
        /* Frame_Header_Descriptor (RFC 8878 3.1.1.1.1) */
        uint8_t d = p[4];
        if (d & 0x08) return z_corrupt(r, path, pos, "reserved bit set in a frame header", err);
        static const int did[4] = {0, 1, 2, 4}, fcs[4] = {0, 2, 4, 8};
        bool single = (d >> 5) & 1, checksum = (d >> 2) & 1;
        int hsize = 5 + (single ? 0 : 1) + did[d & 3] + ((d >> 6) == 0 && single ? 1 : fcs[d >> 6]);
        if ((size_t)hsize > av) return z_corrupt(r, path, pos, "truncated frame header", err);
        int64_t q = pos + hsize;
        for (;;) {
            CAV_TRY(rd_get(r, q, 3, &p, &av, err));
            if (av < 3) return z_corrupt(r, path, q, "truncated block header", err);
            uint32_t bh = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
            uint32_t type = (bh >> 1) & 3, bsz = bh >> 3;
            if (type == 3) return z_corrupt(r, path, q, "reserved block type", err);
            if (bsz > ZSTD_BLOCKSIZE_MAX) return z_corrupt(r, path, q, "block too large", err);
            q += 3 + (type == 1 ? 1 : (int64_t)bsz);
            if (q > r->size) return z_corrupt(r, path, pos, "truncated frame", err);
            if (bh & 1) break;
        }
        if (checksum) q += 4;
        if (q > r->size) return z_corrupt(r, path, pos, "truncated frame checksum", err);
        CAV_TRY(cut_add(k, pos, true, err));
        pos = q;
    }
    return CSVAVRO_OK;
}

static csvavro_status cut_file(csvavro_file *f, const char *display, csvavro_compression c,
                               int64_t split_size, bool count, cav_chunk_cuts *out,
                               csvavro_error *err) {
    memset(out, 0, sizeof *out);
    out->codec = c;
    out->csize = csvavro_file_size(f);
    cutter k = {out, split_size < 1 ? 1 : split_size, 0};
    csvavro_status st = CSVAVRO_OK;
    if (out->csize <= k.ss && !count) /* one range: nothing to find */
        return cut_add(&k, 0, true, err);
    if (c == CSVAVRO_COMPRESSION_ZSTD) {
        rd *r = cav_malloc(sizeof *r);
        if (!r) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        r->f = f;
        r->size = out->csize;
        r->off = 0;
        r->len = 0;
        bool used = false;
        st = z_seek_table(r, &k, &used, err);
        out->seek_table = used;
        if (st == CSVAVRO_OK && !used) {
            out->n = 0; /* a table that did not add up cut nothing */
            st = z_walk(r, &k, display, err);
        }
        cav_free(r);
    } else if (c == CSVAVRO_COMPRESSION_BZIP2) {
        /* byte ranges; the blocks are found by the views (count: candidate block magics) */
        int64_t ss = k.ss;
        if (out->csize / ss > ((int64_t)1 << 22)) ss = out->csize >> 22;
        k.ss = ss;
        for (int64_t p = 0; st == CSVAVRO_OK && p < out->csize; p += ss) {
            st = cut_add(&k, p, true, err);
            if (st == CSVAVRO_OK) out->chunks[out->n - 1] = count ? 0 : -1;
        }
        if (st == CSVAVRO_OK && count && out->n) {
            cbuf cb = {f, out->csize, NULL, CB_CAP, 0, 0, display};
            cb.b = cav_malloc(cb.cap);
            if (!cb.b) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            int64_t from = 0, fbits = out->csize * 8, pos;
            while (st == CSVAVRO_OK && from < fbits) {
                int64_t hi = CAV_MIN(out->csize, from / 8 + SCAN_STEP);
                st = cb_need(&cb, from / 8, hi, err);
                if (st != CSVAVRO_OK) break;
                if (scan_bits(cb.b, cb.len, cb.off, from, fbits, true, &pos) != K_NONE) {
                    out->chunks[(size_t)(pos / 8 / ss)]++;
                    from = pos + 1;
                    continue;
                }
                if (hi >= out->csize) break;
                from = CAV_MAX(from, (cb.off + (int64_t)cb.len) * 8 - 47);
            }
            cav_free(cb.b);
        }
    } else {
        st =
            cav_err(err, CSVAVRO_E_INTERNAL, "no exact splits for %s", csvavro_compression_name(c));
    }
    if (st != CSVAVRO_OK) cav_chunk_cuts_free(out);
    return st;
}

csvavro_status cav_chunks_cut(csvavro_fs *fs, const char *path, const char *display,
                              csvavro_compression c, int64_t split_size, bool count,
                              cav_chunk_cuts *out, csvavro_error *err) {
    memset(out, 0, sizeof *out);
    csvavro_file *f = NULL;
    CAV_TRY(csvavro_fs_open_read(fs, path, &f, err));
    csvavro_status st = cut_file(f, display ? display : path, c, split_size, count, out, err);
    csvavro_error e2;
    csvavro_file_close(f, &e2);
    return st;
}

void cav_chunk_cuts_free(cav_chunk_cuts *c) {
    cav_free(c->start);
    cav_free(c->chunks);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ in memory (fuzzing) */

typedef struct memf {
    csvavro_file base;
    const uint8_t *p;
} memf;

static csvavro_status mf_pread(csvavro_file *f, void *buf, size_t len, int64_t off, size_t *got,
                               csvavro_error *err) {
    (void)err;
    memf *m = (memf *)f;
    size_t k = off >= f->size ? 0 : (size_t)CAV_MIN((int64_t)len, f->size - off);
    if (k) memcpy(buf, m->p + off, k);
    *got = k;
    return CSVAVRO_OK;
}
static csvavro_status mf_write(csvavro_file *f, const void *b, size_t n, csvavro_error *err) {
    (void)f, (void)b, (void)n;
    return cav_err(err, CSVAVRO_E_USAGE, "read only");
}
static csvavro_status mf_close(csvavro_file *f, csvavro_error *err) {
    (void)f, (void)err;
    return CSVAVRO_OK;
}
static void mf_abort(csvavro_file *f) {
    (void)f;
}
static const cav_file_ops memf_ops = {mf_pread, mf_write, mf_close, mf_abort};

csvavro_status cav_chunks_decode_buffer(const uint8_t *data, size_t len, csvavro_compression c,
                                        int64_t split_size, uint8_t *out, size_t cap,
                                        size_t *out_len, size_t *n_splits, csvavro_error *err) {
    *out_len = 0;
    *n_splits = 0;
    memf m = {{&memf_ops, (int64_t)len, (char *)"buffer", false, false, 0, false}, data};
    cav_chunk_cuts cuts;
    CAV_TRY(cut_file(&m.base, "buffer", c, split_size, true, &cuts, err));
    *n_splits = cuts.n;
    csvavro_status st = CSVAVRO_OK;
    uint8_t *tmp = cav_malloc(64 << 10);
    if (!tmp) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    /* every range's own bytes, in order: together the whole decoded input */
    for (size_t i = 0; st == CSVAVRO_OK && i < cuts.n; i++) {
        csvavro_file *v = NULL;
        st = open_view(NULL, &m.base, "buffer", "buffer", &cuts, i, &v, err);
        if (st != CSVAVRO_OK) break;
        const int64_t *own_end = cav_chunks_own_end(v);
        int64_t local = 0;
        for (;;) {
            size_t got = 0;
            size_t want = 64 << 10;
            if (*own_end >= 0 && *own_end - local < (int64_t)want)
                want = (size_t)CAV_MAX((int64_t)0, *own_end - local);
            if (want == 0) break;
            st = csvavro_file_pread(v, tmp, want, local, &got, err);
            if (st != CSVAVRO_OK || got == 0) break;
            if (*own_end >= 0 && local + (int64_t)got > *own_end)
                got = (size_t)(*own_end - local); /* the bytes of the next range */
            if (*out_len + got > cap) {
                st = cav_err(err, CSVAVRO_E_LIMIT, "more than %zu decoded bytes", cap);
                break;
            }
            memcpy(out + *out_len, tmp, got);
            *out_len += got;
            local += (int64_t)got;
        }
        csvavro_file_close(v, NULL);
    }
    cav_free(tmp);
    cav_chunk_cuts_free(&cuts);
    return st;
}
