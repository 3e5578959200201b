/*
 * hdfsd_dn.c — the DataNode side of csvavro-hdfsd: one thread per connection speaking data
 * transfer protocol version 28. READ_BLOCK streams a replica from a chunk-aligned start in
 * packets of g_hd.read_packet bytes with the stored checksums (read from the .meta file in
 * batches, never recomputed; sixteen packets per preadv and per write), then an empty last
 * packet;
 * WRITE_BLOCK receives packets, verifies every chunk's CRC32/CRC32C, forwards them to the next
 * datanode of the pipeline (real forwarding: connect-ack relayed, acks merged with this node's
 * status first), and finalizes the replica on the empty last packet; BLOCK_CHECKSUM answers
 * the MD5 of the replica's CRCs.
 *
 * Access: like an HDFS DataNode without block tokens (SIMPLE mode), any client may read or write
 * any block id. What it checks: only the block the NameNode is having written (the last block
 * of a file under construction) may be written; pipeline targets are this cluster's
 * DataNodes; a new replica must not exist yet; only an unfinalized (rbw) replica can be
 * recovered, and a refused request changes nothing on disk.
 *
 * Replica files: DATA/dn<i>/rbw/blk_<id> while being written, renamed to current/ when
 * finalized; blk_<id>.meta = "HDM1", type (1 byte), 3 zero bytes, BE u32 bytes per checksum,
 * then one BE u32 checksum per chunk. Every length read from the socket is checked against a
 * ceiling before anything is allocated; any protocol violation closes the connection.
 */
#include "hdfsd.h"
#include "hdfsd_auth.h"
#include "hdfsd_dtp.h"
#include "core/core.h"

#include "hdfs/datatransfer.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DT_VERSION 28
#define OP_WRITE_BLOCK 80
#define OP_READ_BLOCK 81
#define OP_BLOCK_CHECKSUM 85
#define MAX_OP_MSG (1u << 20)
#define MAX_PACKET (16u << 20)
#define META_HDR 12
#define CRC_BATCH 4096 /* stored checksums read at a time (16 KiB: 2 MiB of data) */
#define PKT_BATCH 16   /* READ_BLOCK packets read and sent per system call */

typedef struct dconn {
    int fd;
    int dn;
    long long sent, rcvd; /* for drop-after */
    hd_dtp L;             /* data transfer protection layer (none: plain) */
    uint8_t pre[4];       /* bytes read before knowing whether the handshake comes */
    size_t npre, ppos;
} dconn;

static bool dropped(dconn *c) {
    long long lim = atomic_load(&g_hd.dn[c->dn].drop_after);
    return lim >= 0 && c->sent + c->rcvd > lim;
}

static bool dsend(dconn *c, const void *p, size_t n) {
    long long lim = atomic_load(&g_hd.dn[c->dn].drop_after);
    if (lim >= 0 && c->sent + c->rcvd + (long long)n > lim) {
        size_t part = c->sent + c->rcvd < lim ? (size_t)(lim - c->sent - c->rcvd) : 0;
        if (part) hd_dtp_send(&c->L, c->fd, p, part);
        c->sent += (long long)part + 1;
        return false;
    }
    c->sent += (long long)n;
    return hd_dtp_send(&c->L, c->fd, p, n);
}

static bool drecv(dconn *c, void *p, size_t n) {
    uint8_t *o = p;
    size_t k = c->npre - c->ppos < n ? c->npre - c->ppos : n;
    memcpy(o, c->pre + c->ppos, k);
    c->ppos += k;
    if (!hd_dtp_recv(&c->L, c->fd, o + k, n - k)) return false;
    c->rcvd += (long long)n;
    return !dropped(c);
}

/* A delimited message of at most max bytes from the client (through the layer). */
static uint8_t *read_delimited_c(dconn *c, size_t max, size_t *len) {
    uint64_t v = 0;
    for (int i = 0;; i++) {
        uint8_t b;
        if (i == 5 || !drecv(c, &b, 1)) return NULL;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) break;
    }
    if (v > max) return NULL;
    uint8_t *b = cav_malloc(v ? v : 1);
    if (b && !drecv(c, b, v)) {
        cav_free(b);
        b = NULL;
    }
    *len = v;
    return b;
}

static bool send_delimited(dconn *c, const ProtobufCMessage *m) {
    uint8_t stack[512];
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = n + 10 <= sizeof stack ? stack : cav_malloc(n + 10);
    if (!b) return false;
    size_t p = hd_put_varint(b, n);
    p += protobuf_c_message_pack(m, b + p);
    bool ok = dsend(c, b, p);
    if (b != stack) cav_free(b);
    return ok;
}

static bool send_status(dconn *c, Hadoop__Hdfs__Status st, const char *bad, const char *msg) {
    Hadoop__Hdfs__BlockOpResponseProto r = HADOOP__HDFS__BLOCK_OP_RESPONSE_PROTO__INIT;
    r.status = st;
    r.firstbadlink = (char *)(bad ? bad : ""); /* always present: Go reads >= 5 bytes */
    r.message = (char *)msg;
    return send_delimited(c, &r.base);
}

/* Reads one delimited message of at most max bytes into a fresh buffer. */
static uint8_t *read_delimited_fd(int fd, size_t max, size_t *len) {
    uint32_t n;
    if (!hd_read_varint32(fd, &n) || n > max) return NULL;
    uint8_t *b = cav_malloc(n ? n : 1);
    if (!b) return NULL;
    if (!hd_read_full(fd, b, n)) {
        cav_free(b);
        return NULL;
    }
    *len = n;
    return b;
}

static void put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Packet header + length prefixes, written by hand (25-byte PacketHeaderProto). */
static size_t packet_prefix(uint8_t out[31], int64_t off, int64_t seq, bool last, uint32_t dlen,
                            uint32_t crcbytes) {
    uint32_t plen = 4 + crcbytes + dlen;
    out[0] = (uint8_t)(plen >> 24);
    out[1] = (uint8_t)(plen >> 16);
    out[2] = (uint8_t)(plen >> 8);
    out[3] = (uint8_t)plen;
    out[4] = 0;
    out[5] = 25;
    out[6] = 0x09;
    put_le64(out + 7, (uint64_t)off);
    out[15] = 0x11;
    put_le64(out + 16, (uint64_t)seq);
    out[24] = 0x18;
    out[25] = last ? 1 : 0;
    out[26] = 0x25;
    for (int i = 0; i < 4; i++)
        out[27 + i] = (uint8_t)(dlen >> (8 * i));
    return 31;
}

typedef struct meta {
    int type;
    uint32_t bpc;
} meta;

static bool read_meta_hdr(int fd, meta *m) {
    uint8_t h[META_HDR];
    if (pread(fd, h, META_HDR, 0) != META_HDR || memcmp(h, "HDM1", 4)) return false;
    m->type = h[4];
    m->bpc = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
    return (m->type == 0 || m->type == 1 || m->type == 2) && m->bpc > 0 && m->bpc <= (1u << 20);
}

static void slow(dconn *c) {
    int ms = atomic_load(&g_hd.dn[c->dn].slow_ms);
    if (ms > 0) usleep((useconds_t)ms * 1000u);
}

/* ---------------------------------------------------------------- READ_BLOCK */

/* Block access tokens: false (after answering ERROR_ACCESS_TOKEN) when tok does not grant
 * mode on blk. */
static bool token_ok(dconn *c, const Hadoop__Common__TokenProto *tok, uint64_t blk, unsigned mode) {
    if (!g_sec.block_tokens) return true;
    char why[300];
    if (hd_block_token_check(tok ? tok->identifier.data : NULL, tok ? tok->identifier.len : 0,
                             tok ? tok->password.data : NULL, tok ? tok->password.len : 0, blk,
                             mode, why, sizeof why))
        return true;
    hd_log("datanode %d: block token refused: %s", c->dn + 1, why);
    send_status(c, HADOOP__HDFS__STATUS__ERROR_ACCESS_TOKEN, NULL, why);
    return false;
}

static bool op_read(dconn *c, const uint8_t *msg, size_t mlen) {
    Hadoop__Hdfs__OpReadBlockProto *r = hadoop__hdfs__op_read_block_proto__unpack(NULL, mlen, msg);
    if (!r) return false;
    bool keep = false;
    int dfd = -1, mfd = -1;
    uint8_t *buf = NULL, *crcs = NULL;
    char path[4200], err[256];
    uint64_t blk = r->header->baseheader->block->blockid;
    if (!token_ok(c, r->header->baseheader->token, blk, HD_TOK_READ)) goto out;
    if (atomic_load(&g_hd.dn[c->dn].fail_read)) {
        send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, "read refused (fault injection)");
        goto out;
    }
    dfd = open(hd_replica_path(c->dn, blk, false, false, path, sizeof path), O_RDONLY | O_CLOEXEC);
    mfd = open(hd_replica_path(c->dn, blk, false, true, path, sizeof path), O_RDONLY | O_CLOEXEC);
    meta m;
    struct stat st;
    if (dfd < 0 || mfd < 0 || fstat(dfd, &st) || !read_meta_hdr(mfd, &m)) {
        snprintf(err, sizeof err, "Replica not found for BP:%s:blk_%llu", HD_POOL_ID,
                 (unsigned long long)blk);
        send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, err);
        goto out;
    }
    uint64_t rlen = (uint64_t)st.st_size;
    if (r->offset > rlen || r->len > rlen - r->offset) {
        snprintf(err, sizeof err,
                 "Offset %llu and length %llu don't match block blk_%llu (len %llu)",
                 (unsigned long long)r->offset, (unsigned long long)r->len, (unsigned long long)blk,
                 (unsigned long long)rlen);
        send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, err);
        goto out;
    }
    bool sums = (!r->has_sendchecksums || r->sendchecksums) && m.type != 0;
    uint32_t bpc = m.bpc;
    uint64_t start = r->offset / bpc * bpc;
    uint64_t end = r->offset + r->len;
    end = (end + bpc - 1) / bpc * bpc;
    if (end > rlen) end = rlen;
    if (r->len == 0) end = start;
    Hadoop__Hdfs__BlockOpResponseProto resp = HADOOP__HDFS__BLOCK_OP_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__ReadOpChecksumInfoProto ci = HADOOP__HDFS__READ_OP_CHECKSUM_INFO_PROTO__INIT;
    Hadoop__Hdfs__ChecksumProto ck = HADOOP__HDFS__CHECKSUM_PROTO__INIT;
    ck.type = sums ? (Hadoop__Hdfs__ChecksumTypeProto)m.type
                   : HADOOP__HDFS__CHECKSUM_TYPE_PROTO__CHECKSUM_NULL;
    ck.bytesperchecksum = bpc;
    ci.checksum = &ck;
    ci.chunkoffset = start;
    resp.status = HADOOP__HDFS__STATUS__SUCCESS;
    resp.readopchecksuminfo = &ci;
    if (!send_delimited(c, &resp.base)) goto out;
    uint32_t per = g_hd.read_packet / bpc * bpc;
    /* under a DIGEST-MD5 layer, one packet per frame of at most the client's buffer (the Go
     * client mis-counts a read that spans two frames) */
    size_t fmax = hd_dtp_max_send(&c->L);
    while (fmax && per > bpc && 31 + (size_t)per / bpc * 4 + 4 + per > fmax)
        per -= bpc;
    if (per == 0) per = bpc;
    uint32_t maxcrc = (per / bpc + 1) * 4;
    /* the stored checksums of up to CRC_BATCH chunks at a time: [cfirst, cfirst + cn) */
    size_t ccap = CAV_MAX((size_t)maxcrc, (size_t)CRC_BATCH * 4);
    /* PKT_BATCH packets at a time: their data read with one preadv into place between the
     * headers and stored CRCs, and the run sent with one write (the same bytes as one write per
     * packet, in a sixteenth of the system calls); one packet per write under DIGEST-MD5 frames,
     * and when the slow-DataNode fault injection is on */
    int batch = fmax || atomic_load(&g_hd.dn[c->dn].slow_ms) > 0 ? 1 : PKT_BATCH;
    size_t pmax = 31 + maxcrc + per;
    buf = cav_malloc(pmax * (size_t)batch);
    crcs = cav_malloc(ccap);
    if (!buf || !crcs) goto out;
    uint64_t cfirst = 0, cn = 0;
    int64_t seq = 0;
    for (uint64_t pos = start; pos < end;) {
        struct iovec rv[PKT_BATCH];
        int nr = 0;
        size_t bl = 0, dl = 0;
        uint64_t p0 = pos;
        for (; nr < batch && pos < end; nr++) {
            uint32_t n = (uint32_t)CAV_MIN((uint64_t)per, end - pos);
            uint32_t nc = (n + bpc - 1) / bpc;
            uint32_t cb = sums ? nc * 4 : 0;
            size_t h = packet_prefix(buf + bl, (int64_t)pos, seq++, false, n, cb);
            uint64_t c0 = pos / bpc;
            if (sums && (c0 < cfirst || c0 + nc > cfirst + cn)) {
                uint64_t last = (end + bpc - 1) / bpc;
                size_t want = (size_t)CAV_MIN((uint64_t)(ccap / 4), last - c0) * 4;
                if (pread(mfd, crcs, want, META_HDR + (off_t)c0 * 4) != (ssize_t)want) goto out;
                cfirst = c0;
                cn = want / 4;
            }
            if (sums) memcpy(buf + bl + h, crcs + (c0 - cfirst) * 4, cb);
            rv[nr].iov_base = buf + bl + h + cb;
            rv[nr].iov_len = n;
            bl += h + cb + n;
            dl += n;
            pos += n;
            slow(c);
        }
        /* read and sent, not sendfile: measured on loopback, sendfile saved this server
         * ~25% of its CPU but cost the reading client 8-30% more (its copy then reads the
         * page cache, not socket buffers this server just wrote: here the copy out of the page
         * cache costs 3.5x the copy into the socket; sending from an mmap of the replica was
         * no cheaper either: page faults and munmap ate the copy saved; bench/RESULTS.md,
         * issue 17) */
        if (preadv(dfd, rv, nr, (off_t)p0) != (ssize_t)dl) goto out;
        if (!dsend(c, buf, bl)) goto out;
    }
    size_t h = packet_prefix(buf, (int64_t)end, seq, true, 0, 0);
    if (!dsend(c, buf, h)) goto out;
    /* optional ClientReadStatusProto; the Go client just closes */
    hd_set_timeout(c->fd, 3000);
    size_t sl;
    uint8_t *s = read_delimited_c(c, 64, &sl);
    if (s) {
        Hadoop__Hdfs__ClientReadStatusProto *rs =
            hadoop__hdfs__client_read_status_proto__unpack(NULL, sl, s);
        keep = rs != NULL;
        if (rs) hadoop__hdfs__client_read_status_proto__free_unpacked(rs, NULL);
        cav_free(s);
    }
out:
    cav_free(buf);
    cav_free(crcs);
    if (dfd >= 0) close(dfd);
    if (mfd >= 0) close(mfd);
    hadoop__hdfs__op_read_block_proto__free_unpacked(r, NULL);
    return keep;
}

/* ---------------------------------------------------------------- BLOCK_CHECKSUM */

static bool op_checksum(dconn *c, const uint8_t *msg, size_t mlen) {
    Hadoop__Hdfs__OpBlockChecksumProto *r =
        hadoop__hdfs__op_block_checksum_proto__unpack(NULL, mlen, msg);
    if (!r) return false;
    char path[4200];
    uint64_t blk = r->header->block->blockid;
    if (!token_ok(c, r->header->token, blk, HD_TOK_READ)) {
        hadoop__hdfs__op_block_checksum_proto__free_unpacked(r, NULL);
        return false;
    }
    int dfd =
        open(hd_replica_path(c->dn, blk, false, false, path, sizeof path), O_RDONLY | O_CLOEXEC);
    int mfd =
        open(hd_replica_path(c->dn, blk, false, true, path, sizeof path), O_RDONLY | O_CLOEXEC);
    meta m;
    struct stat st, ms;
    uint8_t *crcs = NULL;
    bool ok = false;
    if (dfd < 0 || mfd < 0 || fstat(dfd, &st) || fstat(mfd, &ms) || !read_meta_hdr(mfd, &m)) {
        send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, "Replica not found");
        goto out;
    }
    uint64_t nchunks = ((uint64_t)st.st_size + m.bpc - 1) / m.bpc;
    size_t cl = (size_t)nchunks * 4;
    if ((uint64_t)ms.st_size < META_HDR + cl || !(crcs = cav_malloc(cl ? cl : 1)) ||
        pread(mfd, crcs, cl, META_HDR) != (ssize_t)cl) {
        send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, "Replica metadata unreadable");
        goto out;
    }
    uint8_t md5[16];
    hd_md5(crcs, cl, md5);
    Hadoop__Hdfs__BlockOpResponseProto resp = HADOOP__HDFS__BLOCK_OP_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__OpBlockChecksumResponseProto cr =
        HADOOP__HDFS__OP_BLOCK_CHECKSUM_RESPONSE_PROTO__INIT;
    cr.bytespercrc = m.bpc;
    cr.crcperblock = nchunks;
    cr.blockchecksum.data = md5;
    cr.blockchecksum.len = 16;
    cr.has_crctype = 1;
    cr.crctype = (Hadoop__Hdfs__ChecksumTypeProto)m.type;
    resp.status = HADOOP__HDFS__STATUS__SUCCESS;
    resp.checksumresponse = &cr;
    ok = send_delimited(c, &resp.base);
out:
    cav_free(crcs);
    if (dfd >= 0) close(dfd);
    if (mfd >= 0) close(mfd);
    hadoop__hdfs__op_block_checksum_proto__free_unpacked(r, NULL);
    return ok;
}

/* ---------------------------------------------------------------- WRITE_BLOCK */

static bool send_ack(dconn *c, int64_t seq, const Hadoop__Hdfs__Status *st, size_t n) {
    Hadoop__Hdfs__PipelineAckProto a = HADOOP__HDFS__PIPELINE_ACK_PROTO__INIT;
    uint32_t flags[HD_MAX_DATANODES + 1];
    for (size_t i = 0; i < n; i++)
        flags[i] = (uint32_t)st[i];
    a.seqno = seq;
    a.n_reply = n;
    a.reply = (Hadoop__Hdfs__Status *)st;
    a.has_downstreamacktimenanos = 1;
    a.downstreamacktimenanos = 0;
    a.n_flag = n;
    a.flag = flags;
    return send_delimited(c, &a.base);
}

/* Reads the downstream ack for seq into st[0..n); failures become ERROR entries. */
static bool read_down_ack(int fd, int64_t seq, Hadoop__Hdfs__Status *st, size_t n) {
    for (size_t i = 0; i < n; i++)
        st[i] = HADOOP__HDFS__STATUS__ERROR;
    size_t len;
    uint8_t *b = read_delimited_fd(fd, 4096, &len);
    if (!b) return false;
    Hadoop__Hdfs__PipelineAckProto *a = hadoop__hdfs__pipeline_ack_proto__unpack(NULL, len, b);
    cav_free(b);
    if (!a) return false;
    bool ok = a->seqno == seq;
    for (size_t i = 0; i < n; i++) {
        if (i < a->n_reply)
            st[i] = a->reply[i];
        else if (i < a->n_flag)
            st[i] = (Hadoop__Hdfs__Status)(a->flag[i] & 0xf);
    }
    hadoop__hdfs__pipeline_ack_proto__free_unpacked(a, NULL);
    return ok;
}

static bool op_write(dconn *c, const uint8_t *msg, size_t mlen) {
    Hadoop__Hdfs__OpWriteBlockProto *r =
        hadoop__hdfs__op_write_block_proto__unpack(NULL, mlen, msg);
    if (!r) return false;
    int dfd = -1, mfd = -1, down = -1;
    uint8_t *pkt = NULL;
    bool finalized = false;
    char dpath[4200], mpath[4200], err[300], bad[64] = "";
    uint64_t blk = r->header->baseheader->block->blockid;
    size_t ntargets = r->n_targets < HD_MAX_DATANODES ? r->n_targets : HD_MAX_DATANODES;
    size_t plen = 1 + ntargets; /* this node + downstream */
    int type = r->requestedchecksum->type;
    uint32_t bpc = r->requestedchecksum->bytesperchecksum;
    hd_replica_path(c->dn, blk, true, false, dpath, sizeof dpath);
    hd_replica_path(c->dn, blk, true, true, mpath, sizeof mpath);
    if (!token_ok(c, r->header->baseheader->token, blk, HD_TOK_WRITE)) goto out;
    if (atomic_load(&g_hd.dn[c->dn].fail_write)) {
        send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, "write refused (fault injection)");
        goto out;
    }
    if ((type != 1 && type != 2 && type != 0) || bpc == 0 || bpc > (1u << 20)) {
        send_status(c, HADOOP__HDFS__STATUS__ERROR_INVALID, NULL, "unsupported checksum");
        goto out;
    }
    bool recovery =
        r->stage ==
        HADOOP__HDFS__OP_WRITE_BLOCK_PROTO__BLOCK_CONSTRUCTION_STAGE__PIPELINE_SETUP_STREAMING_RECOVERY;
    if (r->stage !=
            HADOOP__HDFS__OP_WRITE_BLOCK_PROTO__BLOCK_CONSTRUCTION_STAGE__PIPELINE_SETUP_CREATE &&
        !recovery) {
        send_status(c, HADOOP__HDFS__STATUS__ERROR_UNSUPPORTED, NULL, "unsupported stage");
        goto out;
    }
    /* Only this cluster's other DataNodes may be pipeline targets: a client must not make a
     * DataNode connect to an address of its choosing. */
    for (size_t i = 0; i < r->n_targets; i++) {
        const Hadoop__Hdfs__DatanodeIDProto *t = r->targets[i]->id;
        int d = hd_dn_by_addr(t->ipaddr, t->xferport);
        if (d < 0 || d == c->dn) {
            snprintf(err, sizeof err,
                     "pipeline target %.64s:%u is not another DataNode of this cluster", t->ipaddr,
                     t->xferport);
            send_status(c, HADOOP__HDFS__STATUS__ERROR_INVALID, NULL, err);
            goto out;
        }
    }
    /* Only a block the NameNode handed out for writing (the last block of a file under
     * construction) may be written: without block tokens, this is what keeps a client from
     * writing replicas of complete files, which this server would then serve. */
    pthread_mutex_lock(&g_hd.ns_lock);
    int bstate = hd_ns_block_state(blk);
    pthread_mutex_unlock(&g_hd.ns_lock);
    if (bstate != 2) {
        snprintf(err, sizeof err, "BP:%s:blk_%llu is %s", HD_POOL_ID, (unsigned long long)blk,
                 bstate ? "a complete block: its replicas cannot be written again"
                        : "not a block of this NameNode");
        send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, err);
        goto out;
    }
    /* As a Java DataNode: a new replica must not exist yet on this node (in HDFS,
     * ReplicaAlreadyExistsException), and only a replica being written (rbw) can be recovered
     * (a finalized one is never reopened). Both are checked before anything is touched. */
    {
        char cur[4200];
        bool fin = access(hd_replica_path(c->dn, blk, false, false, cur, sizeof cur), F_OK) == 0;
        bool rbw = access(dpath, F_OK) == 0;
        if (!recovery && (fin || rbw)) {
            snprintf(err, sizeof err,
                     "Block BP:%s:blk_%llu already exists in state %s and thus cannot be created.",
                     HD_POOL_ID, (unsigned long long)blk, fin ? "FINALIZED" : "RBW");
            send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, err);
            goto out;
        }
        if (recovery && !rbw) {
            snprintf(err, sizeof err, "Cannot recover a non-RBW replica BP:%s:blk_%llu%s",
                     HD_POOL_ID, (unsigned long long)blk, fin ? " (it is FINALIZED)" : "");
            send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, err);
            goto out;
        }
    }
    /* downstream first, like a Java DN: relay its connect-ack */
    if (ntargets > 0) {
        Hadoop__Hdfs__DatanodeInfoProto *t0 = r->targets[0];
        snprintf(bad, sizeof bad, "%s:%u", t0->id->ipaddr, t0->id->xferport);
        down = hd_connect(t0->id->ipaddr, (int)t0->id->xferport, 5000);
        bool ok = down >= 0;
        if (ok) hd_dtp_internal_add(down); /* no handshake between our own DataNodes */
        if (ok) {
            hd_set_timeout(down, 60000);
            Hadoop__Hdfs__OpWriteBlockProto fw = *r;
            fw.n_targets = r->n_targets - 1;
            fw.targets = r->targets + 1;
            if (fw.n_targetstoragetypes > 0) {
                fw.n_targetstoragetypes--;
                fw.targetstoragetypes++;
            }
            if (fw.n_targetstorageids > 0) {
                fw.n_targetstorageids--;
                fw.targetstorageids++;
            }
            if (fw.n_targetpinnings > 0) {
                fw.n_targetpinnings--;
                fw.targetpinnings++;
            }
            size_t n = protobuf_c_message_get_packed_size(&fw.base);
            uint8_t *b = cav_malloc(n + 13);
            ok = b != NULL;
            if (ok) {
                b[0] = 0;
                b[1] = DT_VERSION;
                b[2] = OP_WRITE_BLOCK;
                size_t p = 3 + hd_put_varint(b + 3, n);
                p += protobuf_c_message_pack(&fw.base, b + p);
                ok = hd_write_full(down, b, p);
                cav_free(b);
            }
            size_t al;
            uint8_t *ab = ok ? read_delimited_fd(down, 4096, &al) : NULL;
            Hadoop__Hdfs__BlockOpResponseProto *ack =
                ab ? hadoop__hdfs__block_op_response_proto__unpack(NULL, al, ab) : NULL;
            cav_free(ab);
            ok = ack && ack->status == HADOOP__HDFS__STATUS__SUCCESS;
            if (ack && !ok && ack->firstbadlink && *ack->firstbadlink)
                snprintf(bad, sizeof bad, "%s", ack->firstbadlink);
            if (ack) hadoop__hdfs__block_op_response_proto__free_unpacked(ack, NULL);
        }
        if (!ok) {
            send_status(c, HADOOP__HDFS__STATUS__ERROR, bad, "downstream datanode failed");
            goto out;
        }
    }
    uint64_t have = 0;
    if (recovery) { /* continue a replica being written (rbw) from minBytesRcvd */
        dfd = open(dpath, O_RDWR | O_CLOEXEC);
        mfd = open(mpath, O_RDWR | O_CLOEXEC);
        meta m;
        struct stat st;
        if (dfd < 0 || mfd < 0 || !read_meta_hdr(mfd, &m) || fstat(dfd, &st) ||
            (uint64_t)st.st_size < r->minbytesrcvd || m.type != type || m.bpc != bpc ||
            r->minbytesrcvd % bpc) {
            send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, "cannot recover this replica");
            goto out;
        }
        have = r->minbytesrcvd;
        if (ftruncate(dfd, (off_t)have) || ftruncate(mfd, META_HDR + (off_t)(have / bpc) * 4))
            goto out;
    } else {
        dfd = open(dpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        mfd = open(mpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        uint8_t h[META_HDR] = {'H',
                               'D',
                               'M',
                               '1',
                               (uint8_t)type,
                               0,
                               0,
                               0,
                               (uint8_t)(bpc >> 24),
                               (uint8_t)(bpc >> 16),
                               (uint8_t)(bpc >> 8),
                               (uint8_t)bpc};
        if (dfd < 0 || mfd < 0 || pwrite(mfd, h, META_HDR, 0) != META_HDR) {
            send_status(c, HADOOP__HDFS__STATUS__ERROR, NULL, "cannot create the replica");
            goto out;
        }
    }
    if (!send_status(c, HADOOP__HDFS__STATUS__SUCCESS, "", NULL)) goto out;
    bool partial_seen = false;
    int64_t expect = -1;
    size_t pcap = 0;
    for (;;) {
        uint8_t pre[6];
        if (!drecv(c, pre, 6)) goto out;
        uint32_t plen4 =
            (uint32_t)pre[0] << 24 | (uint32_t)pre[1] << 16 | (uint32_t)pre[2] << 8 | pre[3];
        uint32_t hlen = (uint32_t)pre[4] << 8 | pre[5];
        if (plen4 < 4 || plen4 > MAX_PACKET || hlen == 0 || hlen > 256) goto out;
        size_t need = 6 + hlen + (plen4 - 4);
        if (need > pcap) {
            uint8_t *np = cav_realloc(pkt, need);
            if (!np) goto out;
            pkt = np;
            pcap = need;
        }
        memcpy(pkt, pre, 6);
        if (!drecv(c, pkt + 6, need - 6)) goto out;
        Hadoop__Hdfs__PacketHeaderProto *ph =
            hadoop__hdfs__packet_header_proto__unpack(NULL, hlen, pkt + 6);
        if (!ph) goto out;
        int64_t seq = ph->seqno, off = ph->offsetinblock;
        bool last = ph->lastpacketinblock;
        int32_t dlen = ph->datalen;
        hadoop__hdfs__packet_header_proto__free_unpacked(ph, NULL);
        uint32_t nch = dlen > 0 ? ((uint32_t)dlen + bpc - 1) / bpc : 0;
        uint32_t csz = type == 0 ? 0 : 4;
        if (dlen < 0 || (uint64_t)plen4 - 4 != (uint64_t)nch * csz + (uint64_t)dlen) goto out;
        slow(c);
        if (down >= 0 && !hd_write_full(down, pkt, need)) { /* forward before storing */
            close(down);
            down = -1;
        }
        Hadoop__Hdfs__Status st[HD_MAX_DATANODES + 1];
        st[0] = HADOOP__HDFS__STATUS__SUCCESS;
        if (seq == -1) { /* heartbeat */
            if (dlen != 0) goto out;
        } else {
            if (expect == -1 && (seq == 0 || seq == 1)) expect = seq;
            if (seq != expect) goto out;
            expect++;
            if (dlen > 0) {
                if ((uint64_t)off != have || partial_seen) goto out;
                const uint8_t *crc = pkt + 6 + hlen;
                const uint8_t *data = crc + (size_t)nch * csz;
                for (uint32_t i = 0; i < nch && csz; i++) {
                    size_t cl = CAV_MIN((size_t)bpc, (size_t)dlen - (size_t)i * bpc);
                    uint32_t got = hd_chunk_crc(type, data + (size_t)i * bpc, cl);
                    uint32_t want = (uint32_t)crc[4 * i] << 24 | (uint32_t)crc[4 * i + 1] << 16 |
                                    (uint32_t)crc[4 * i + 2] << 8 | crc[4 * i + 3];
                    if (got != want) st[0] = HADOOP__HDFS__STATUS__ERROR_CHECKSUM;
                }
                if (st[0] == HADOOP__HDFS__STATUS__SUCCESS) {
                    if (pwrite(dfd, data, (size_t)dlen, (off_t)have) != dlen ||
                        (csz && pwrite(mfd, crc, (size_t)nch * 4,
                                       META_HDR + (off_t)(have / bpc) * 4) != (ssize_t)nch * 4))
                        st[0] = HADOOP__HDFS__STATUS__ERROR;
                    have += (uint64_t)dlen;
                    if ((uint64_t)dlen % bpc) partial_seen = true;
                }
            }
            if (last && st[0] == HADOOP__HDFS__STATUS__SUCCESS) {
                char cur[4200], curm[4200];
                close(dfd);
                close(mfd);
                dfd = mfd = -1;
                if (rename(mpath, hd_replica_path(c->dn, blk, false, true, curm, sizeof curm)) ||
                    rename(dpath, hd_replica_path(c->dn, blk, false, false, cur, sizeof cur)))
                    st[0] = HADOOP__HDFS__STATUS__ERROR;
                else
                    finalized = true;
            }
        }
        for (size_t i = 1; i < plen; i++)
            st[i] = HADOOP__HDFS__STATUS__ERROR;
        if (ntargets > 0 && down >= 0) read_down_ack(down, seq, st + 1, ntargets);
        if (!send_ack(c, seq, st, plen)) goto out;
        bool all_ok = true;
        for (size_t i = 0; i < plen; i++)
            all_ok &= st[i] == HADOOP__HDFS__STATUS__SUCCESS;
        if (!all_ok) {
            snprintf(err, sizeof err, "blk_%llu: pipeline error", (unsigned long long)blk);
            hd_log("%s", err);
            goto out;
        }
        if (last && seq != -1) break;
    }
out:
    if (!finalized && dfd >= 0)
        hd_log("dn%d: blk_%llu left unfinalized", c->dn + 1, (unsigned long long)blk);
    cav_free(pkt);
    if (dfd >= 0) close(dfd);
    if (mfd >= 0) close(mfd);
    if (down >= 0) {
        hd_dtp_internal_remove(down);
        close(down);
    }
    hadoop__hdfs__op_write_block_proto__free_unpacked(r, NULL);
    return false; /* one write per connection */
}

void *hd_dn_conn_thread(void *arg) {
    hd_conn_arg *a = arg;
    dconn c = {.fd = a->fd, .dn = a->dn};
    cav_free(a);
    hd_set_timeout(c.fd, 60000);
    bool refuse = false; /* protection required but the client sent an op in clear */
    if (hd_dtp_required()) {
        char why[400] = "";
        if (!hd_read_full(c.fd, c.pre, 4)) goto done;
        /* (checked once bytes arrived: the forwarding side registers before it sends) */
        if (hd_dtp_is_internal(c.fd)) {
            c.npre = 4;
        } else if (((uint32_t)c.pre[0] << 24 | (uint32_t)c.pre[1] << 16 | (uint32_t)c.pre[2] << 8 |
                    c.pre[3]) == HD_DT_MAGIC) {
            if (!hd_dtp_accept(c.fd, &c.L, why, sizeof why)) {
                hd_log("datanode %d: SASL handshake refused: %s", c.dn + 1, why);
                goto done;
            }
        } else {
            c.npre = 4;
            refuse = true;
        }
    }
    for (;;) {
        uint8_t hdr[3];
        if (!drecv(&c, hdr, 3)) break;
        if (hdr[0] == 0xDE && hdr[1] == 0xAD && hdr[2] == 0xBE && c.rcvd == 3 &&
            !hd_dtp_required()) { /* a client doing SASL with a DataNode that does not */
            hd_dtp_refuse(c.fd, "this DataNode does not use data transfer protection (neither "
                                "dfs.data.transfer.protection nor dfs.encrypt.data.transfer)");
            break;
        }
        if (hdr[0] != 0 || hdr[1] != DT_VERSION) break;
        size_t len;
        uint8_t *msg = read_delimited_c(&c, MAX_OP_MSG, &len);
        if (!msg) break;
        bool keep = false;
        if (refuse) {
            char why[300];
            snprintf(why, sizeof why,
                     "this DataNode requires SASL data transfer protection (%s%s): the client "
                     "sent its request without the handshake",
                     g_sec.encrypt_dt ? "dfs.encrypt.data.transfer=true"
                                      : "dfs.data.transfer.protection=",
                     g_sec.encrypt_dt ? "" : hd_qop_name(g_sec.dt_qop));
            hd_log("datanode %d: %s", c.dn + 1, why);
            send_status(&c, HADOOP__HDFS__STATUS__ERROR, NULL, why);
        } else if (hdr[2] == OP_READ_BLOCK)
            keep = op_read(&c, msg, len);
        else if (hdr[2] == OP_WRITE_BLOCK)
            keep = op_write(&c, msg, len);
        else if (hdr[2] == OP_BLOCK_CHECKSUM)
            keep = op_checksum(&c, msg, len);
        else
            send_status(&c, HADOOP__HDFS__STATUS__ERROR_UNSUPPORTED, NULL, "unsupported op");
        cav_free(msg);
        if (!keep) break;
        hd_set_timeout(c.fd, 4000); /* keep-alive for another op */
    }
done:
    hd_dtp_free(&c.L);
    close(c.fd);
    return NULL;
}

int hd_dn_by_addr(const char *ip, uint32_t port) {
    for (int d = 0; d < g_hd.ndn; d++)
        if (ip && (uint32_t)g_hd.dn[d].port == port && !strcmp(g_hd.dn[d].ip, ip)) return d;
    return -1;
}
