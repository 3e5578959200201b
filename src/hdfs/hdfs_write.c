/*
 * hdfs_write.c — sequential writes: create → (addBlock → WRITE_BLOCK pipeline)* → complete.
 *
 * Each block is streamed to the first DataNode of the pipeline the NameNode chose (the others
 * are `targets`; the DataNodes forward). Data goes out in packets of 126 chunks × 512 bytes
 * (64 512 bytes, like Java) with one CRC32C per chunk; packets never cross the block size. Up to
 * 80 packets are in flight; their acks are read when the window is full and at the end of the
 * block. The end of a block is: the partial last data packet, all acks, then the empty packet
 * with lastPacketInBlock and its ack; then addBlock(previous = that block) or complete.
 *
 * DataNode failure (connect-ack not SUCCESS, an ack with a non-SUCCESS reply, a dead or silent
 * socket): the block is abandoned (abandonBlock), the failed node — from firstBadLink or the
 * failing reply's index, else the first node — is added to excludeNodes, addBlock gives a new
 * pipeline, and the block is re-sent from its start. For that the current block's bytes are kept
 * in memory until the block is finished: memory per open file is bounded by the block size (the
 * buffer grows with the data, so small files stay small). At most MAX_RECOVER recoveries per
 * block. complete() returning false is retried with back-off (conf.complete_retries);
 * NotReplicatedYetException from addBlock likewise. The lease is renewed by the fs's renewer
 * thread while the file is open.
 */
#include "hdfs_pb.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PKT_CHUNKS 126
#define BPC 512u
#define PKT_DATA (PKT_CHUNKS * BPC)
#define MAX_INFLIGHT 80
#define MAX_RECOVER 5
#define MAX_EXCLUDE 32

typedef struct hdfs_wfile {
    csvavro_file base;
    cav_hdfs_fs *h;
    char *src;
    uint64_t file_id;
    uint64_t block_size;
    /* the block being written */
    Hadoop__Hdfs__AddBlockResponseProto *cur;
    cav_buf blk;   /* its bytes so far (kept for re-sending after a pipeline failure) */
    size_t sent;   /* bytes of blk sent in packets */
    int64_t seqno; /* next packet seqno */
    int64_t acked; /* next seqno whose ack we expect */
    int recoveries;
    cav_hdfs_sock sock;
    int open;
    int bad_index; /* pipeline index of the node to blame, -1 unknown */
    /* the previous, finished block */
    int has_prev;
    char prev_pool[256];
    uint64_t prev_id, prev_gs, prev_len;
    /* excluded DataNodes: the responses that own them stay alive */
    Hadoop__Hdfs__AddBlockResponseProto *dead[MAX_EXCLUDE];
    Hadoop__Hdfs__DatanodeInfoProto *exclude[MAX_EXCLUDE];
    size_t n_exclude;
    uint8_t hdr[CAV_HDFS_PKT_PREFIX + 32 + 4 * PKT_CHUNKS];
    cav_buf msg;
    int failed;
    int leased;
    char last_dn[600]; /* the last DataNode failure, for the final message */
} hdfs_wfile;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void close_pipe(hdfs_wfile *f) {
    if (f->open) cav_hdfs_sock_close(&f->sock);
    f->open = 0;
}

static Hadoop__Hdfs__LocatedBlockProto *cur_block(hdfs_wfile *f) {
    return f->cur->block;
}

/* Opens WRITE_BLOCK to the pipeline of the current block; sets bad_index on failure. */
static csvavro_status open_pipe(hdfs_wfile *f, csvavro_error *err) {
    Hadoop__Hdfs__LocatedBlockProto *b = cur_block(f);
    f->bad_index = 0;
    if (b->n_locs == 0 || !b->locs[0]->id) {
        f->bad_index = -1;
        return cav_err(err, CSVAVRO_E_REMOTE, "NameNode gave a block without DataNodes");
    }
    char addr[300];
    cav_hdfs_dn_addr(&f->h->conf, b->locs[0], addr, sizeof addr);
    CAV_TRY(cav_hdfs_sock_connect(&f->sock, addr, f->h->conf.connect_timeout_ms,
                                  f->h->conf.timeout_ms, err));
    f->open = 1;
    CAV_TRY(cav_hdfs_dn_protect(f->h, &f->sock, b->blocktoken, err));
    cav_hdfs_op_header oh;
    cav_hdfs_op_header_init(&oh, b, cav_hdfs_rpc_client_name(f->h->rpc));
    Hadoop__Hdfs__ChecksumProto cs = HADOOP__HDFS__CHECKSUM_PROTO__INIT;
    cs.type = HADOOP__HDFS__CHECKSUM_TYPE_PROTO__CHECKSUM_CRC32C;
    cs.bytesperchecksum = BPC;
    Hadoop__Hdfs__OpWriteBlockProto op = HADOOP__HDFS__OP_WRITE_BLOCK_PROTO__INIT;
    op.header = &oh.client;
    op.n_targets = b->n_locs - 1;
    op.targets = b->locs + 1;
    op.stage = HADOOP__HDFS__OP_WRITE_BLOCK_PROTO__BLOCK_CONSTRUCTION_STAGE__PIPELINE_SETUP_CREATE;
    op.pipelinesize = (uint32_t)b->n_locs;
    op.minbytesrcvd = 0;
    op.maxbytesrcvd = 0;
    op.latestgenerationstamp = b->b->generationstamp;
    op.requestedchecksum = &cs;
    if (b->n_storagetypes == b->n_locs && b->n_locs) {
        op.has_storagetype = 1;
        op.storagetype = b->storagetypes[0];
        op.n_targetstoragetypes = b->n_locs - 1;
        op.targetstoragetypes = b->storagetypes + 1;
    }
    if (b->n_storageids == b->n_locs && b->n_locs) {
        op.storageid = b->storageids[0];
        op.n_targetstorageids = b->n_locs - 1;
        op.targetstorageids = b->storageids + 1;
    }
    CAV_TRY(cav_hdfs_dn_send_op(&f->sock, 80, &op.base, &f->msg, err));
    CAV_TRY(cav_hdfs_sock_read_delimited(&f->sock, &f->msg, 1u << 20, err));
    Hadoop__Hdfs__BlockOpResponseProto *r =
        hadoop__hdfs__block_op_response_proto__unpack(&cav_pb_alloc, f->msg.len, f->msg.data);
    if (!r) return cav_err(err, CSVAVRO_E_PROTOCOL, "undecodable WRITE_BLOCK connect-ack");
    csvavro_status st = CSVAVRO_OK;
    if (r->status != HADOOP__HDFS__STATUS__SUCCESS || (r->firstbadlink && *r->firstbadlink)) {
        if (r->firstbadlink && *r->firstbadlink) {
            for (size_t i = 0; i < b->n_locs; i++) {
                cav_hdfs_dn_addr(&f->h->conf, b->locs[i], addr, sizeof addr);
                char ipport[300];
                snprintf(ipport, sizeof ipport, "%s:%u", b->locs[i]->id->ipaddr,
                         b->locs[i]->id->xferport);
                if (strcmp(addr, r->firstbadlink) == 0 || strcmp(ipport, r->firstbadlink) == 0)
                    f->bad_index = (int)i;
            }
        }
        st = cav_err(err, CSVAVRO_E_REMOTE, "WRITE_BLOCK refused (status %d)%s%s%s%s",
                     (int)r->status, r->firstbadlink && *r->firstbadlink ? ", bad link " : "",
                     r->firstbadlink ? r->firstbadlink : "", r->message ? ": " : "",
                     r->message ? r->message : "");
    }
    protobuf_c_message_free_unpacked(&r->base, &cav_pb_alloc);
    return st;
}

static csvavro_status send_packet(hdfs_wfile *f, size_t off, size_t n, int last,
                                  csvavro_error *err) {
    cav_hdfs_pkt ph = {
        .offset = (int64_t)off, .seqno = f->seqno, .last = last, .data_len = (int32_t)n};
    size_t chunks = (n + BPC - 1) / BPC;
    size_t hl = cav_hdfs_pkt_encode(&ph, chunks * 4, f->hdr);
    cav_hdfs_csum_compute(CAV_HDFS_CSUM_CRC32C, BPC, f->blk.data + off, n, f->hdr + hl);
    f->bad_index = 0;
    CAV_TRY(cav_hdfs_sock_write(&f->sock, f->hdr, hl + chunks * 4, err));
    if (n) CAV_TRY(cav_hdfs_sock_write(&f->sock, f->blk.data + off, n, err));
    f->seqno++;
    return CSVAVRO_OK;
}

static csvavro_status read_ack(hdfs_wfile *f, csvavro_error *err) {
    for (;;) {
        f->bad_index = 0;
        CAV_TRY(cav_hdfs_sock_read_delimited(&f->sock, &f->msg, 1u << 16, err));
        Hadoop__Hdfs__PipelineAckProto *a =
            hadoop__hdfs__pipeline_ack_proto__unpack(&cav_pb_alloc, f->msg.len, f->msg.data);
        if (!a) return cav_err(err, CSVAVRO_E_PROTOCOL, "undecodable pipeline ack");
        csvavro_status st = CSVAVRO_OK;
        int heartbeat = a->seqno == -1;
        size_t n = a->n_reply ? a->n_reply : a->n_flag;
        for (size_t i = 0; i < n; i++) {
            int s = a->n_reply ? (int)a->reply[i] : (int)(a->flag[i] & 0xF);
            if (s != HADOOP__HDFS__STATUS__SUCCESS) {
                f->bad_index = (int)i;
                st = cav_err(err, CSVAVRO_E_REMOTE, "DataNode %zu of the pipeline acked status %d",
                             i, s);
                break;
            }
        }
        if (st == CSVAVRO_OK && !heartbeat && a->seqno != f->acked) {
            f->bad_index = -1;
            st = cav_err(err, CSVAVRO_E_PROTOCOL, "ack for packet %lld, expected %lld",
                         (long long)a->seqno, (long long)f->acked);
        }
        protobuf_c_message_free_unpacked(&a->base, &cav_pb_alloc);
        CAV_TRY(st);
        if (!heartbeat) {
            f->acked++;
            return CSVAVRO_OK;
        }
    }
}

static int ack_ready(hdfs_wfile *f) {
    if (cav_hdfs_sock_pending(&f->sock)) return 1;
    struct pollfd p = {.fd = f->sock.fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* After a failed send: an error ack may already be waiting; it tells which node failed. */
static void blame_from_acks(hdfs_wfile *f) {
    csvavro_error e;
    int saved = f->sock.timeout_ms;
    f->sock.timeout_ms = 200;
    while (f->acked < f->seqno && read_ack(f, &e) == CSVAVRO_OK) {
    }
    f->sock.timeout_ms = saved;
}

/* Sends what is ready; with finishing, also the tail, waits for every ack, and ends the block. */
static csvavro_status pump(hdfs_wfile *f, int finishing, csvavro_error *err) {
    while (f->blk.len - f->sent >= PKT_DATA || (finishing && f->sent < f->blk.len)) {
        size_t n = CAV_MIN((size_t)PKT_DATA, f->blk.len - f->sent);
        /* read the acks already here (an error ack names the failed node); wait for one when
         * the window is full */
        while (f->acked < f->seqno && (f->seqno - f->acked >= MAX_INFLIGHT || ack_ready(f)))
            CAV_TRY(read_ack(f, err));
        csvavro_status st = send_packet(f, f->sent, n, 0, err);
        if (st != CSVAVRO_OK) {
            blame_from_acks(f);
            return st;
        }
        f->sent += n;
    }
    if (!finishing) return CSVAVRO_OK;
    while (f->acked < f->seqno)
        CAV_TRY(read_ack(f, err));
    CAV_TRY(send_packet(f, f->blk.len, 0, 1, err));
    return read_ack(f, err);
}

static csvavro_status add_block(hdfs_wfile *f, csvavro_error *err) {
    Hadoop__Hdfs__ExtendedBlockProto prev = HADOOP__HDFS__EXTENDED_BLOCK_PROTO__INIT;
    Hadoop__Hdfs__AddBlockRequestProto req = HADOOP__HDFS__ADD_BLOCK_REQUEST_PROTO__INIT;
    req.src = f->src;
    req.clientname = (char *)cav_hdfs_rpc_client_name(f->h->rpc);
    if (f->has_prev) {
        prev.poolid = f->prev_pool;
        prev.blockid = f->prev_id;
        prev.generationstamp = f->prev_gs;
        prev.has_numbytes = 1;
        prev.numbytes = f->prev_len;
        req.previous = &prev;
    }
    req.n_excludenodes = f->n_exclude;
    req.excludenodes = f->exclude;
    if (f->file_id) {
        req.has_fileid = 1;
        req.fileid = f->file_id;
    }
    int backoff = 400;
    for (int i = 0;; i++) {
        csvavro_status st = CALL(f->h, "addBlock", req, add_block_response_proto, &f->cur, err);
        if (st == CSVAVRO_OK) {
            if (!f->cur->block || !f->cur->block->b) {
                FREE_PB(f->cur);
                f->cur = NULL;
                return cav_err(err, CSVAVRO_E_PROTOCOL, "addBlock answer without a block");
            }
            return CSVAVRO_OK;
        }
        if (!(err && strstr(err->message, "NotReplicatedYetException")) || i >= 5) return st;
        sleep_ms(backoff);
        backoff *= 2;
    }
}

static void abandon(hdfs_wfile *f) {
    Hadoop__Hdfs__AbandonBlockRequestProto req = HADOOP__HDFS__ABANDON_BLOCK_REQUEST_PROTO__INIT;
    req.b = cur_block(f)->b;
    req.src = f->src;
    req.holder = (char *)cav_hdfs_rpc_client_name(f->h->rpc);
    if (f->file_id) {
        req.has_fileid = 1;
        req.fileid = f->file_id;
    }
    Hadoop__Hdfs__AbandonBlockResponseProto *resp = NULL;
    csvavro_error e;
    if (CALL(f->h, "abandonBlock", req, abandon_block_response_proto, &resp, &e) == CSVAVRO_OK)
        FREE_PB(resp);
}

/* Runs pump on the current block, recovering from DataNode failures. */
static csvavro_status run(hdfs_wfile *f, int finishing, csvavro_error *err) {
    for (;;) {
        csvavro_status st = CSVAVRO_OK;
        if (!f->cur) {
            st = add_block(f, err);
            if (st != CSVAVRO_OK && st != CSVAVRO_E_NOMEM && f->n_exclude > 0 &&
                f->recoveries < MAX_RECOVER) {
                /* a wrongly blamed node may leave too few: forgive the oldest exclusion */
                f->recoveries++;
                FREE_PB(f->dead[0]);
                memmove(f->dead, f->dead + 1, (f->n_exclude - 1) * sizeof *f->dead);
                memmove(f->exclude, f->exclude + 1, (f->n_exclude - 1) * sizeof *f->exclude);
                f->n_exclude--;
                continue;
            }
            if (st != CSVAVRO_OK && f->last_dn[0] && err) {
                char m[sizeof err->message];
                snprintf(m, sizeof m, "%s", err->message);
                return cav_err(err, st, "%s (the last DataNode failure: %s)", m, f->last_dn);
            }
            CAV_TRY(st);
            f->sent = 0;
            f->seqno = f->acked = 0;
            st = open_pipe(f, err);
        }
        if (st == CSVAVRO_OK) st = pump(f, finishing, err);
        if (st == CSVAVRO_OK) return CSVAVRO_OK;
        if (st == CSVAVRO_E_NOMEM || st == CSVAVRO_E_LIMIT) return st;
        /* a DataNode failed: abandon the block, exclude the node, start the block over */
        close_pipe(f);
        if (err) snprintf(f->last_dn, sizeof f->last_dn, "%s", err->message);
        Hadoop__Hdfs__LocatedBlockProto *b = cur_block(f);
        int bi = f->bad_index >= 0 && (size_t)f->bad_index < b->n_locs ? f->bad_index : 0;
        if (f->recoveries >= MAX_RECOVER || f->n_exclude >= MAX_EXCLUDE || b->n_locs == 0) {
            cav_err_prefix(err, "writing block %llu failed after %d pipeline recoveries",
                           (unsigned long long)b->b->blockid, f->recoveries);
            return st;
        }
        f->recoveries++;
        abandon(f);
        f->dead[f->n_exclude] = f->cur;
        f->exclude[f->n_exclude++] = b->locs[bi];
        f->cur = NULL;
    }
}

/* Ends the current block and remembers it as `previous`. */
static csvavro_status end_block(hdfs_wfile *f, csvavro_error *err) {
    CAV_TRY(run(f, 1, err));
    close_pipe(f);
    Hadoop__Hdfs__ExtendedBlockProto *b = cur_block(f)->b;
    f->has_prev = 1;
    snprintf(f->prev_pool, sizeof f->prev_pool, "%s", b->poolid ? b->poolid : "");
    f->prev_id = b->blockid;
    f->prev_gs = b->generationstamp;
    f->prev_len = f->blk.len;
    FREE_PB(f->cur);
    f->cur = NULL;
    cav_buf_reset(&f->blk);
    f->sent = 0;
    f->recoveries = 0;
    return CSVAVRO_OK;
}

static csvavro_status w_write(csvavro_file *file, const void *buf, size_t len, csvavro_error *err) {
    hdfs_wfile *f = (hdfs_wfile *)file;
    if (f->failed) return cav_err(err, CSVAVRO_E_IO, "an earlier write failed");
    const uint8_t *p = buf;
    while (len) {
        if (f->blk.len == f->block_size) {
            csvavro_status st = end_block(f, err);
            if (st != CSVAVRO_OK) {
                f->failed = 1;
                return st;
            }
        }
        size_t k = (size_t)CAV_MIN((uint64_t)len, f->block_size - f->blk.len);
        csvavro_status st = cav_buf_append(&f->blk, p, k, err);
        if (st == CSVAVRO_OK) st = run(f, 0, err);
        if (st != CSVAVRO_OK) {
            f->failed = 1;
            return st;
        }
        p += k;
        len -= k;
    }
    return CSVAVRO_OK;
}

static void w_free(hdfs_wfile *f) {
    close_pipe(f);
    FREE_PB(f->cur);
    for (size_t i = 0; i < f->n_exclude; i++)
        FREE_PB(f->dead[i]);
    if (f->leased) cav_hdfs_lease_release(f->h);
    cav_buf_free(&f->blk);
    cav_buf_free(&f->msg);
    cav_free(f->src);
    cav_free(f->base.path);
    cav_free(f);
}

static csvavro_status w_close(csvavro_file *file, csvavro_error *err) {
    hdfs_wfile *f = (hdfs_wfile *)file;
    csvavro_status st = CSVAVRO_OK;
    if (f->failed) st = cav_err(err, CSVAVRO_E_IO, "an earlier write failed; file not completed");
    if (st == CSVAVRO_OK && (f->cur || f->blk.len)) st = end_block(f, err);
    if (st == CSVAVRO_OK) {
        Hadoop__Hdfs__ExtendedBlockProto last = HADOOP__HDFS__EXTENDED_BLOCK_PROTO__INIT;
        Hadoop__Hdfs__CompleteRequestProto req = HADOOP__HDFS__COMPLETE_REQUEST_PROTO__INIT;
        req.src = f->src;
        req.clientname = (char *)cav_hdfs_rpc_client_name(f->h->rpc);
        if (f->has_prev) {
            last.poolid = f->prev_pool;
            last.blockid = f->prev_id;
            last.generationstamp = f->prev_gs;
            last.has_numbytes = 1;
            last.numbytes = f->prev_len;
            req.last = &last;
        }
        if (f->file_id) {
            req.has_fileid = 1;
            req.fileid = f->file_id;
        }
        int backoff = 100;
        for (int i = 0;; i++) {
            Hadoop__Hdfs__CompleteResponseProto *resp = NULL;
            st = CALL(f->h, "complete", req, complete_response_proto, &resp, err);
            int done = st == CSVAVRO_OK && resp->result;
            FREE_PB(resp);
            if (st != CSVAVRO_OK || done) break;
            if (i >= f->h->conf.complete_retries) {
                st = cav_err(err, CSVAVRO_E_REMOTE,
                             "complete() still false after %d attempts (blocks not replicated)",
                             i + 1);
                break;
            }
            sleep_ms(backoff);
            backoff = CAV_MIN(backoff * 2, 5000);
        }
    }
    w_free(f);
    return st;
}

static void w_abort(csvavro_file *file) {
    hdfs_wfile *f = (hdfs_wfile *)file;
    close_pipe(f);
    Hadoop__Hdfs__DeleteRequestProto req = HADOOP__HDFS__DELETE_REQUEST_PROTO__INIT;
    req.src = f->src;
    req.recursive = 0;
    Hadoop__Hdfs__DeleteResponseProto *resp = NULL;
    csvavro_error e;
    if (CALL(f->h, "delete", req, delete_response_proto, &resp, &e) == CSVAVRO_OK) FREE_PB(resp);
    w_free(f);
}

static csvavro_status w_pread(csvavro_file *file, void *buf, size_t len, int64_t off, size_t *got,
                              csvavro_error *err) {
    (void)file, (void)buf, (void)len, (void)off;
    *got = 0;
    return cav_err(err, CSVAVRO_E_USAGE, "file is open for writing");
}

static const cav_file_ops wfile_ops = {w_pread, w_write, w_close, w_abort};

csvavro_status cav_hdfs_create_file(csvavro_fs *fs, const char *path, int overwrite,
                                    csvavro_file **out, csvavro_error *err) {
    cav_hdfs_fs *h = (cav_hdfs_fs *)fs;
    *out = NULL;
    CAV_TRY(cav_hdfs_server_defaults(h, err));
    hdfs_wfile *f = cav_calloc(1, sizeof *f);
    if (!f) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    f->base.ops = &wfile_ops;
    f->h = h;
    f->sock.fd = -1;
    f->src = cav_hdfs_norm_path(h, path);
    f->base.path = cav_strdup(path);
    uint64_t bs = h->conf.block_size ? h->conf.block_size : h->def_block_size;
    bs = bs / BPC * BPC;
    if (bs < BPC) bs = BPC;
    f->block_size = bs;
    cav_buf_init(&f->blk, (size_t)bs + 64);
    cav_buf_init(&f->msg, (1u << 20) + 64);
    if (!f->src || !f->base.path) {
        w_free(f);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    Hadoop__Hdfs__FsPermissionProto perm = HADOOP__HDFS__FS_PERMISSION_PROTO__INIT;
    perm.perm = 0644;
    Hadoop__Hdfs__CreateRequestProto req = HADOOP__HDFS__CREATE_REQUEST_PROTO__INIT;
    req.src = f->src;
    req.masked = &perm;
    req.clientname = (char *)cav_hdfs_rpc_client_name(h->rpc);
    req.createflag = 1u | (overwrite ? 2u : 0u);
    req.createparent = 1;
    req.replication = h->conf.replication ? h->conf.replication : h->def_replication;
    req.blocksize = bs;
    Hadoop__Hdfs__CreateResponseProto *resp = NULL;
    csvavro_status st = CALL(h, "create", req, create_response_proto, &resp, err);
    if (st != CSVAVRO_OK) {
        w_free(f);
        return st;
    }
    if (resp->fs && resp->fs->has_fileid) f->file_id = resp->fs->fileid;
    st = cav_hdfs_check_created(resp->fs, err);
    FREE_PB(resp);
    if (st != CSVAVRO_OK) { /* remove the empty file we were given, then refuse */
        Hadoop__Hdfs__DeleteRequestProto dreq = HADOOP__HDFS__DELETE_REQUEST_PROTO__INIT;
        dreq.src = f->src;
        Hadoop__Hdfs__DeleteResponseProto *dresp = NULL;
        csvavro_error e;
        if (CALL(h, "delete", dreq, delete_response_proto, &dresp, &e) == CSVAVRO_OK)
            FREE_PB(dresp);
        w_free(f);
        return st;
    }
    cav_hdfs_lease_acquire(h);
    f->leased = 1;
    *out = &f->base;
    return CSVAVRO_OK;
}
