/*
 * hdfs_read.c — positioned reads of an HDFS file, block by block from the DataNodes.
 *
 * open: getFileInfo (size, "is a directory") + getBlockLocations for the whole file (kept for
 * the life of the handle). pread(off, len): for each block the range touches, READ_BLOCK asks
 * for a range of the block: the bytes this pread wants of it, or, when the pread continues
 * exactly where the previous range of the same block ended (a sequential reader), the rest of
 * the block. A range still being received when a pread stops continues with the next pread that
 * starts where it stopped, so a split reader's 1 MiB preads cost two requests per block (its
 * first pread, then the rest), and the small reads at a split's edges (the magic bytes, the byte
 * before the split, the record that runs past its end) no longer have the DataNode stream whole
 * blocks nobody reads. Packets whose data lies wholly inside the caller's range are received
 * straight into the caller's buffer and verified there; only edge packets (the chunk-aligned
 * head the DataNode adds before `off`, or a packet that runs past the caller's range) go
 * through a reused scratch buffer, whose unread tail serves the next sequential pread. When a
 * range's last data packet is in, the trailing empty packet is read and
 * ClientReadStatusProto{CHECKSUM_OK} is sent; the connection then stays open, idle, and the next
 * request to the same DataNode is sent on it (DataNodes keep a connection for another op for a
 * few seconds, dfs.datanode.socket.reuse.keepalive): a request on an idle connection that the
 * DataNode closed in the meantime is retried once on a new connection.
 *
 * Checksums: CRC32C or CRC32 (or none), whatever the DataNode reports for the replica.
 * Failover: connect failure, an error status, a socket timeout, a malformed packet or a checksum
 * mismatch marks that DataNode bad for this file and the read resumes at the same offset from
 * the next replica (NameNode order, known-bad nodes skipped); when every replica failed the
 * last error is returned, naming the block and the nodes tried.
 */
#include "hdfs_pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OP_REPLY (1u << 20)
#define MAX_BAD 64

typedef struct hdfs_rfile {
    csvavro_file base;
    cav_hdfs_fs *h;
    char *src; /* absolute HDFS path */
    Hadoop__Hdfs__GetBlockLocationsResponseProto *resp;
    Hadoop__Hdfs__LocatedBlocksProto *lbs;
    char *bad[MAX_BAD];
    size_t n_bad;
    /* the connection: open = a range is being received on sock; idle = sock is connected to
     * node, its last range finished (reusable); never both */
    cav_hdfs_sock sock;
    int open, idle;
    size_t blk;       /* index of the block of the range (and of the scratch bytes) */
    int64_t pos;      /* file offset of the next byte the stream delivers */
    int64_t next_pkt; /* block offset the next packet must start at */
    int64_t blk_end;  /* file offset of the block's end */
    int64_t rng_end;  /* block offset where the range's data ends (chunk-rounded, <= block) */
    int64_t req_end;  /* file offset where the requested range ends */
    int has_rng;      /* blk/pos describe the end of a range received earlier */
    int csum_type;
    uint32_t bpc;
    char node[300];  /* DataNode of the stream */
    cav_buf scratch; /* packet data not delivered yet: [spos, scratch.len) */
    size_t spos;
    cav_buf sums;
    cav_buf msg;
} hdfs_rfile;

csvavro_status cav_hdfs_dn_send_op(cav_hdfs_sock *s, uint8_t op, const ProtobufCMessage *m,
                                   cav_buf *tmp, csvavro_error *err) {
    size_t n = protobuf_c_message_get_packed_size(m);
    cav_buf_reset(tmp);
    CAV_TRY(cav_buf_reserve(tmp, n + 16, err));
    tmp->data[0] = 0;
    tmp->data[1] = 28; /* data transfer version */
    tmp->data[2] = op;
    size_t k = 3 + cav_varint_put(tmp->data + 3, n);
    k += protobuf_c_message_pack(m, tmp->data + k);
    return cav_hdfs_sock_write(s, tmp->data, k, err);
}

/* getBlockLocations for the whole file into f->resp/f->lbs (replacing what was there), checked:
 * no encryption or erasure coding, contiguous blocks. */
static csvavro_status fetch_locations(hdfs_rfile *f, csvavro_error *err) {
    Hadoop__Hdfs__GetBlockLocationsRequestProto req =
        HADOOP__HDFS__GET_BLOCK_LOCATIONS_REQUEST_PROTO__INIT;
    req.src = f->src;
    req.offset = 0;
    req.length = (uint64_t)f->base.size;
    Hadoop__Hdfs__GetBlockLocationsResponseProto *resp = NULL;
    csvavro_status s =
        cav_hdfs_rpc_call(f->h->rpc, "getBlockLocations", &req.base,
                          &hadoop__hdfs__get_block_locations_response_proto__descriptor,
                          (ProtobufCMessage **)&resp, err);
    if (s == CSVAVRO_OK && !resp->locations) s = cav_err(err, CSVAVRO_E_NOT_FOUND, "no such file");
    Hadoop__Hdfs__LocatedBlocksProto *lbs = s == CSVAVRO_OK ? resp->locations : NULL;
    if (s == CSVAVRO_OK)
        s = cav_hdfs_refuse_unreadable(lbs->fileencryptioninfo, lbs->ecpolicy, 0, 0, err);
    for (size_t i = 0; lbs && i < lbs->n_blocks && s == CSVAVRO_OK; i++)
        if (lbs->blocks[i]->has_blockindices || lbs->blocks[i]->n_blocktokens)
            s = cav_hdfs_refuse_unreadable(NULL, NULL, 4u, 0, err); /* striped block */
    for (size_t i = 0; lbs && i < lbs->n_blocks && s == CSVAVRO_OK; i++) {
        Hadoop__Hdfs__LocatedBlockProto *b = lbs->blocks[i];
        if (!b->b ||
            (i && b->offset != lbs->blocks[i - 1]->offset + lbs->blocks[i - 1]->b->numbytes))
            s = cav_err(err, CSVAVRO_E_PROTOCOL, "NameNode block list is not contiguous");
    }
    if (s != CSVAVRO_OK) {
        if (resp) protobuf_c_message_free_unpacked(&resp->base, &cav_pb_alloc);
        return s;
    }
    if (f->resp) protobuf_c_message_free_unpacked(&f->resp->base, &cav_pb_alloc);
    f->resp = resp;
    f->lbs = lbs;
    return CSVAVRO_OK;
}

static int is_bad(const hdfs_rfile *f, const char *node) {
    for (size_t i = 0; i < f->n_bad; i++)
        if (strcmp(f->bad[i], node) == 0) return 1;
    return 0;
}

static void mark_bad(hdfs_rfile *f, const char *node) {
    if (is_bad(f, node) || f->n_bad >= MAX_BAD) return;
    char *c = cav_strdup(node);
    if (c) f->bad[f->n_bad++] = c;
}

/* Closes the connection (a range being received, or an idle one); the scratch bytes stay. */
static void close_conn(hdfs_rfile *f) {
    if (f->open || f->idle) cav_hdfs_sock_close(&f->sock);
    f->open = f->idle = 0;
}

static void drop_scratch(hdfs_rfile *f) {
    cav_buf_reset(&f->scratch);
    f->spos = 0;
}

static void close_stream(hdfs_rfile *f) {
    close_conn(f);
    drop_scratch(f);
    f->has_rng = 0;
}

/* Sends READ_BLOCK for [off, off + len) of block b (len > 0, within the block) and reads the
 * reply: on f's idle connection when it goes to node, else on a new one. */
static csvavro_status send_read(hdfs_rfile *f, Hadoop__Hdfs__LocatedBlockProto *b, const char *node,
                                int64_t off, int64_t len, int *reused, csvavro_error *err) {
    const cav_hdfs_conf *c = &f->h->conf;
    *reused = f->idle && strcmp(f->node, node) == 0;
    if (!*reused) {
        close_conn(f);
        CAV_TRY(cav_hdfs_sock_connect(&f->sock, node, c->connect_timeout_ms, c->timeout_ms, err));
    }
    f->idle = 0;
    f->open = 1;
    snprintf(f->node, sizeof f->node, "%s", node);
    f->sock.expect = 0;
    CAV_TRY(cav_hdfs_dn_protect(f->h, &f->sock, b->blocktoken, err));
    uint64_t in_blk = (uint64_t)(off - (int64_t)b->offset);
    cav_hdfs_op_header oh;
    cav_hdfs_op_header_init(&oh, b, cav_hdfs_rpc_client_name(f->h->rpc));
    Hadoop__Hdfs__OpReadBlockProto op = HADOOP__HDFS__OP_READ_BLOCK_PROTO__INIT;
    op.header = &oh.client;
    op.offset = in_blk;
    op.len = (uint64_t)len;
    op.has_sendchecksums = 1;
    op.sendchecksums = 1;
    CAV_TRY(cav_hdfs_dn_send_op(&f->sock, 81, &op.base, &f->msg, err));
    return cav_hdfs_sock_read_delimited(&f->sock, &f->msg, MAX_OP_REPLY, err);
}

/* Opens READ_BLOCK on node for [off, off + len) of block b. */
static csvavro_status open_on(hdfs_rfile *f, Hadoop__Hdfs__LocatedBlockProto *b, const char *node,
                              int64_t off, int64_t len, csvavro_error *err) {
    int reused = 0;
    csvavro_status s0 = send_read(f, b, node, off, len, &reused, err);
    if (s0 != CSVAVRO_OK && reused && s0 != CSVAVRO_E_NOMEM) {
        /* the DataNode closed the idle connection (its keep-alive ran out): once more on a
         * new one; a failure there counts against the node */
        close_conn(f);
        s0 = send_read(f, b, node, off, len, &reused, err);
    }
    CAV_TRY(s0);
    uint64_t in_blk = (uint64_t)(off - (int64_t)b->offset);
    uint64_t end = in_blk + (uint64_t)len;
    Hadoop__Hdfs__BlockOpResponseProto *r =
        hadoop__hdfs__block_op_response_proto__unpack(&cav_pb_alloc, f->msg.len, f->msg.data);
    if (!r) return cav_err(err, CSVAVRO_E_PROTOCOL, "undecodable READ_BLOCK reply");
    csvavro_status st = CSVAVRO_OK;
    if (r->status == HADOOP__HDFS__STATUS__ERROR_ACCESS_TOKEN) {
        st = cav_err(err, CSVAVRO_E_PERMISSION, "DataNode %s refused the block access token%s%s",
                     node, r->message ? ": " : "", r->message ? r->message : "");
    } else if (r->status != HADOOP__HDFS__STATUS__SUCCESS) {
        st = cav_err(err, CSVAVRO_E_REMOTE, "READ_BLOCK refused (status %d)%s%s", (int)r->status,
                     r->message ? ": " : "", r->message ? r->message : "");
    } else if (!r->readopchecksuminfo || !r->readopchecksuminfo->checksum) {
        st = cav_err(err, CSVAVRO_E_PROTOCOL, "READ_BLOCK reply without checksum info");
    } else {
        Hadoop__Hdfs__ReadOpChecksumInfoProto *ci = r->readopchecksuminfo;
        f->csum_type = (int)ci->checksum->type;
        f->bpc = ci->checksum->bytesperchecksum;
        if (f->csum_type != CAV_HDFS_CSUM_CRC32 && f->csum_type != CAV_HDFS_CSUM_CRC32C &&
            f->csum_type != CAV_HDFS_CSUM_NULL)
            st = cav_err(err, CSVAVRO_E_UNSUPPORTED, "unknown checksum type %d", f->csum_type);
        else if (f->bpc == 0 || f->bpc > (16u << 20))
            st = cav_err(err, CSVAVRO_E_PROTOCOL, "bytesPerChecksum %u out of range", f->bpc);
        else if (ci->chunkoffset > in_blk || in_blk - ci->chunkoffset >= f->bpc)
            st = cav_err(err, CSVAVRO_E_PROTOCOL, "chunkOffset %llu does not cover offset %llu",
                         (unsigned long long)ci->chunkoffset, (unsigned long long)in_blk);
        else {
            f->next_pkt = (int64_t)ci->chunkoffset;
            /* the DataNode sends whole chunks: up to the chunk boundary after the range */
            uint64_t re = (end + f->bpc - 1) / f->bpc * f->bpc;
            f->rng_end = (int64_t)CAV_MIN(re, b->b->numbytes);
        }
    }
    protobuf_c_message_free_unpacked(&r->base, &cav_pb_alloc);
    return st;
}

/* Reads the next packet's header and checksums. Returns its header in *ph. */
static csvavro_status next_packet(hdfs_rfile *f, cav_hdfs_pkt *ph, size_t *csum_len,
                                  csvavro_error *err) {
    uint8_t pre[CAV_HDFS_PKT_PREFIX + CAV_HDFS_PKT_MAX_HEADER];
    uint32_t plen;
    uint16_t hlen;
    /* the range's data still to come: this packet's header, checksums and data, and the
     * packets after it, hold at least that many bytes */
    f->sock.expect = (size_t)(f->rng_end > f->next_pkt ? f->rng_end - f->next_pkt : 0);
    CAV_TRY(cav_hdfs_sock_read(&f->sock, pre, CAV_HDFS_PKT_PREFIX, err));
    CAV_TRY(cav_hdfs_pkt_prefix(pre, &plen, &hlen, err));
    CAV_TRY(cav_hdfs_sock_read(&f->sock, pre + CAV_HDFS_PKT_PREFIX, hlen, err));
    CAV_TRY(cav_hdfs_pkt_decode(pre + CAV_HDFS_PKT_PREFIX, hlen, ph, err));
    CAV_TRY(cav_hdfs_pkt_check(ph, plen, f->csum_type, f->bpc, csum_len, err));
    if (ph->data_len > 0 && ph->offset != f->next_pkt)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "packet at block offset %lld, expected %lld",
                       (long long)ph->offset, (long long)f->next_pkt);
    cav_buf_reset(&f->sums);
    CAV_TRY(cav_buf_reserve(&f->sums, *csum_len, err));
    CAV_TRY(cav_hdfs_sock_read(&f->sock, f->sums.data, *csum_len, err));
    /* the next packet is most likely the same shape: when its data is large (read straight
     * into the caller's memory), its header and checksums may come in with the end of this
     * one's data; small packets are read through the socket buffer, many at once */
    f->sock.ahead =
        ph->data_len >= (int32_t)CAV_HDFS_SOCK_DIRECT ? CAV_HDFS_PKT_PREFIX + hlen + *csum_len : 0;
    return CSVAVRO_OK;
}

static csvavro_status verify(hdfs_rfile *f, const uint8_t *data, size_t n, csvavro_error *err) {
    long bad = cav_hdfs_csum_verify(f->csum_type, f->bpc, data, n, f->sums.data);
    if (bad >= 0) {
        Hadoop__Hdfs__LocatedBlockProto *b = f->lbs->blocks[f->blk];
        return cav_err(err, CSVAVRO_E_CORRUPT,
                       "checksum mismatch in block %llu at block offset %lld from %s",
                       (unsigned long long)b->b->blockid,
                       (long long)(f->next_pkt + bad * (long)f->bpc), f->node);
    }
    return CSVAVRO_OK;
}

/* Every data packet of the range is in: the empty last packet, then CHECKSUM_OK; the
 * connection is then idle (reusable), or closed when the DataNode said anything else. The
 * scratch bytes stay for the next pread. */
static void finish_range(hdfs_rfile *f) {
    cav_hdfs_pkt ph;
    size_t cl;
    csvavro_error e;
    if (next_packet(f, &ph, &cl, &e) == CSVAVRO_OK && ph.last && ph.data_len == 0) {
        Hadoop__Hdfs__ClientReadStatusProto rs = HADOOP__HDFS__CLIENT_READ_STATUS_PROTO__INIT;
        rs.status = f->csum_type == CAV_HDFS_CSUM_NULL ? HADOOP__HDFS__STATUS__SUCCESS
                                                       : HADOOP__HDFS__STATUS__CHECKSUM_OK;
        uint8_t b[16];
        size_t n = protobuf_c_message_get_packed_size(&rs.base);
        size_t k = cav_varint_put(b, n);
        k += protobuf_c_message_pack(&rs.base, b + k);
        if (cav_hdfs_sock_write(&f->sock, b, k, &e) == CSVAVRO_OK) {
            f->open = 0;
            f->idle = 1;
            return;
        }
    }
    close_conn(f);
}

/* Delivers up to want bytes from the open stream into dst. */
static csvavro_status stream_read(hdfs_rfile *f, uint8_t *dst, size_t want, size_t *got,
                                  csvavro_error *err) {
    *got = 0;
    while (want) {
        if (f->spos < f->scratch.len) {
            size_t k = CAV_MIN(want, f->scratch.len - f->spos);
            memcpy(dst, f->scratch.data + f->spos, k);
            f->spos += k;
            f->pos += (int64_t)k;
            dst += k;
            want -= k;
            *got += k;
            continue;
        }
        if (f->next_pkt >= f->rng_end) break;
        cav_hdfs_pkt ph;
        size_t cl;
        CAV_TRY(next_packet(f, &ph, &cl, err));
        if (ph.data_len == 0) {
            return cav_err(err, CSVAVRO_E_PROTOCOL, "block stream from %s ended %lld bytes early",
                           f->node, (long long)(f->blk_end - f->pos));
        }
        Hadoop__Hdfs__LocatedBlockProto *b = f->lbs->blocks[f->blk];
        int64_t in_blk = f->pos - (int64_t)b->offset;
        int64_t skip = in_blk - ph.offset;
        size_t dl = (size_t)ph.data_len;
        if (skip < 0 || (size_t)skip >= dl || ph.offset + (int64_t)dl > f->rng_end)
            return cav_err(err, CSVAVRO_E_PROTOCOL, "packet [%lld, +%zu) does not fit the block",
                           (long long)ph.offset, dl);
        if (skip == 0 && dl <= want) { /* straight into the caller's buffer */
            CAV_TRY(cav_hdfs_sock_read(&f->sock, dst, dl, err));
            CAV_TRY(verify(f, dst, dl, err));
            f->pos += (int64_t)dl;
            dst += dl;
            want -= dl;
            *got += dl;
        } else {
            cav_buf_reset(&f->scratch);
            CAV_TRY(cav_buf_reserve(&f->scratch, dl, err));
            CAV_TRY(cav_hdfs_sock_read(&f->sock, f->scratch.data, dl, err));
            CAV_TRY(verify(f, f->scratch.data, dl, err));
            f->scratch.len = dl;
            f->spos = (size_t)skip;
        }
        f->next_pkt = ph.offset + (int64_t)dl;
    }
    return CSVAVRO_OK;
}

static size_t find_block(const hdfs_rfile *f, int64_t off) {
    size_t lo = 0, hi = f->lbs->n_blocks;
    while (lo < hi) { /* first block whose end is > off */
        size_t mid = (lo + hi) / 2;
        const Hadoop__Hdfs__LocatedBlockProto *b = f->lbs->blocks[mid];
        if ((int64_t)(b->offset + b->b->numbytes) <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static csvavro_status r_pread(csvavro_file *file, void *buf, size_t len, int64_t off, size_t *got,
                              csvavro_error *err) {
    hdfs_rfile *f = (hdfs_rfile *)file;
    *got = 0;
    if (off < 0) return cav_err(err, CSVAVRO_E_USAGE, "negative offset");
    if (off >= f->base.size || len == 0) return CSVAVRO_OK;
    if ((uint64_t)len > (uint64_t)(f->base.size - off)) len = (size_t)(f->base.size - off);
    uint8_t *dst = buf;
    int refetched = 0; /* block tokens expire: new ones once per pread, like Java's client */
    while (len) {
    again:;
        size_t bi = find_block(f, off);
        if (bi >= f->lbs->n_blocks)
            return cav_err(err, CSVAVRO_E_CORRUPT,
                           "no block covers offset %lld (file of %lld bytes)", (long long)off,
                           (long long)f->base.size);
        Hadoop__Hdfs__LocatedBlockProto *b = f->lbs->blocks[bi];
        int64_t bend = (int64_t)(b->offset + b->b->numbytes);
        size_t want = (size_t)CAV_MIN((int64_t)len, bend - off);
        int here = f->has_rng && f->blk == bi && f->pos == off;
        if (here && f->spos < f->scratch.len) { /* the rest of an edge packet */
            size_t k = CAV_MIN(want, f->scratch.len - f->spos);
            memcpy(dst, f->scratch.data + f->spos, k);
            f->spos += k;
            f->pos += (int64_t)k;
            dst += k;
            off += (int64_t)k;
            len -= k;
            *got += k;
            continue;
        }
        if (!here) { /* elsewhere: the range being received is abandoned */
            if (f->open) close_conn(f);
            drop_scratch(f);
        }
        /* a new range: what this pread wants of the block, or its rest when the pread goes on
         * where the previous range of this block ended */
        if (!f->open) f->req_end = here ? bend : off + (int64_t)want;
        size_t tried = 0;
        uint64_t tried_mask = 0;
        csvavro_status st = CSVAVRO_OK;
        for (;;) {
            if (!f->open) {
                /* next replica in NameNode order: first those never seen failing, then (a
                 * node bad for another block may be fine for this one) the known-bad ones;
                 * each at most once for this block */
                const char *node = NULL;
                char addr[300];
                for (int pass = 0; pass < 2 && !node; pass++) {
                    for (size_t j = 0; j < b->n_locs && j < 64; j++) {
                        if (!b->locs[j]->id || (tried_mask >> j) & 1) continue;
                        cav_hdfs_dn_addr(&f->h->conf, b->locs[j], addr, sizeof addr);
                        if (pass == 1 || !is_bad(f, addr)) {
                            node = addr;
                            tried_mask |= 1ull << j;
                            break;
                        }
                    }
                }
                if (!node) {
                    if (st == CSVAVRO_OK)
                        st = cav_err(err, CSVAVRO_E_IO, "no live replica (of %zu)", b->n_locs);
                    cav_err_prefix(err,
                                   "block %llu at offset %lld: every replica failed (%zu tried)",
                                   (unsigned long long)b->b->blockid, (long long)off, tried);
                    return st;
                }
                tried++;
                drop_scratch(f);
                f->blk = bi;
                f->pos = off;
                f->blk_end = bend;
                f->has_rng = 1;
                st = open_on(f, b, node, off, CAV_MAX(f->req_end, off + (int64_t)want) - off, err);
                if (st == CSVAVRO_E_PERMISSION && !refetched) {
                    close_stream(f);
                    refetched = 1;
                    CAV_TRY(fetch_locations(f, err));
                    goto again;
                }
                if (st != CSVAVRO_OK) {
                    mark_bad(f, node);
                    close_stream(f);
                    continue;
                }
            }
            size_t n = 0;
            st = stream_read(f, dst, want, &n, err);
            dst += n;
            off += (int64_t)n;
            len -= n;
            want -= n;
            *got += n;
            if (st == CSVAVRO_OK) break;
            mark_bad(f, f->node);
            close_stream(f);
            if (st == CSVAVRO_E_NOMEM) return st;
        }
        if (f->open && f->next_pkt >= f->rng_end) finish_range(f);
    }
    return CSVAVRO_OK;
}

static csvavro_status r_close(csvavro_file *file, csvavro_error *err) {
    (void)err;
    hdfs_rfile *f = (hdfs_rfile *)file;
    close_stream(f);
    if (f->resp) protobuf_c_message_free_unpacked(&f->resp->base, &cav_pb_alloc);
    for (size_t i = 0; i < f->n_bad; i++)
        cav_free(f->bad[i]);
    cav_buf_free(&f->scratch);
    cav_buf_free(&f->sums);
    cav_buf_free(&f->msg);
    cav_free(f->base.path);
    cav_free(f->src);
    cav_free(f);
    return CSVAVRO_OK;
}

static void r_abort(csvavro_file *file) {
    r_close(file, NULL);
}

static csvavro_status r_write(csvavro_file *file, const void *buf, size_t len, csvavro_error *err) {
    (void)file, (void)buf, (void)len;
    return cav_err(err, CSVAVRO_E_USAGE, "file is open for reading");
}

static const cav_file_ops rfile_ops = {r_pread, r_write, r_close, r_abort};

csvavro_status cav_hdfs_open_read(csvavro_fs *fs, const char *path, csvavro_file **out,
                                  csvavro_error *err) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    *out = NULL;
    csvavro_stat st;
    CAV_TRY(cav_hdfs_stat_for_read(h, path, &st, err));
    if (st.is_dir) return cav_err(err, CSVAVRO_E_USAGE, "is a directory");
    hdfs_rfile *f = cav_calloc(1, sizeof *f);
    if (!f) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    f->base.ops = &rfile_ops;
    f->base.size = st.size;
    f->h = h;
    f->sock.fd = -1;
    cav_buf_init(&f->scratch, CAV_HDFS_PKT_MAX_PAYLOAD + 64);
    cav_buf_init(&f->sums, CAV_HDFS_PKT_MAX_PAYLOAD + 64);
    cav_buf_init(&f->msg, MAX_OP_REPLY + 64);
    char *url = csvavro_fs_url(fs, path); /* messages name the URL */
    f->base.path = cav_strdup(url ? url : path);
    cav_free(url);
    if (!f->base.path) {
        r_close(&f->base, NULL);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    f->src = cav_hdfs_norm_path(h, path);
    if (!f->src) {
        r_close(&f->base, NULL);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    csvavro_status s = CSVAVRO_OK;
    if (st.size > 0) {
        s = fetch_locations(f, err);
    } else {
        static Hadoop__Hdfs__LocatedBlocksProto empty = HADOOP__HDFS__LOCATED_BLOCKS_PROTO__INIT;
        f->lbs = &empty;
    }
    if (s != CSVAVRO_OK) {
        r_close(&f->base, NULL);
        return s;
    }
    *out = &f->base;
    return CSVAVRO_OK;
}
