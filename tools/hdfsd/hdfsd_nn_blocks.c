/*
 * hdfsd_nn_blocks.c — the write and read path methods of the NameNode: create, addBlock,
 * complete, abandonBlock, getBlockLocations, renewLease, updateBlockForPipeline,
 * updatePipeline, getAdditionalDatanode, recoverLease.
 */
#include "hdfsd_nn.h"
#include "core/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

void nn_create(call *k) {
    UNPACK(Hadoop__Hdfs__CreateRequestProto, hadoop__hdfs__create_request_proto)
    Hadoop__Hdfs__CreateResponseProto resp = HADOOP__HDFS__CREATE_RESPONSE_PROTO__INIT;
    hd_res res;
    status_buf sb;
    if (!nn_resolve(k, r->src, &res) || !nn_check_client(k, r->clientname)) goto out;
    /* HDFS: WRITE on the last existing ancestor, and on the file itself when it is replaced */
    bool replace = res.status == HD_FOUND && res.node->type == 2 && (r->createflag & 2);
    if (!nn_permit(k, &res, (nn_perm){.ancestor = 2, .self = replace ? 2 : 0})) goto out;
    if (r->blocksize == 0 || r->blocksize % 512 != 0 || r->blocksize > HD_MAX_BLOCK_SIZE) {
        nn_fail(k, EXC_IO,
                "Invalid block size %llu: it must be a positive multiple of 512, at most %llu "
                "(dfs.namenode.fs-limits.max-block-size)",
                (unsigned long long)r->blocksize, (unsigned long long)HD_MAX_BLOCK_SIZE);
        goto out;
    }
    if (r->replication > HD_MAX_REPLICATION) {
        nn_fail(k, EXC_IO, "Requested replication factor of %u exceeds maximum of %d for %s",
                r->replication, HD_MAX_REPLICATION, r->src);
        goto out;
    }
    if (res.status == HD_FOUND) {
        hd_inode *n = res.node;
        if (n->type == 1) {
            nn_fail(k, EXC_EXISTS, "%s already exists as a directory", r->src);
            goto out;
        }
        if (n->holder && strcmp(n->holder, r->clientname) && hd_lease_alive(n->holder)) {
            nn_fail(k, EXC_BEING_CREATED,
                    "Failed to CREATE_FILE %s for %s because this file lease is currently owned by "
                    "%s",
                    r->src, r->clientname, n->holder);
            goto out;
        }
        if (!(r->createflag & 2)) {
            nn_fail(k, EXC_EXISTS, "%s for client 127.0.0.1 already exists", r->src);
            goto out;
        }
        hd_inode *p = n->parent;
        hd_ns_unlink(n);
        hd_ns_free_tree(n, true);
        hd_ns_resolve(r->src, &res);
        res.parent = p;
    } else if (res.status == HD_NO_PARENT && !r->createparent) {
        nn_fail(k, EXC_FNF, "Parent directory doesn't exist: %s", r->src);
        goto out;
    } else if (!nn_check_new_path(k, r->src, &res)) {
        goto out;
    }
    hd_inode *parent = res.status == HD_MISSING ? res.parent : NULL;
    if (!parent) {
        parent = nn_make_parents(k, r->src, 0755, r->createparent);
        if (!parent) {
            nn_save_or_fail(k);
            goto out;
        }
    }
    if (!nn_can_add_child(k, parent)) {
        nn_save_or_fail(k); /* keep what was done */
        goto out;
    }
    hd_ns_resolve(r->src, &res);
    hd_inode *f =
        hd_ns_new_inode(parent, res.name, 2, r->masked->perm & 07777, k->user, parent->group);
    if (!f) {
        nn_fail(k, EXC_IO, "out of memory");
        goto out;
    }
    uint32_t repl = r->replication ? r->replication : g_hd.replication;
    f->repl = repl;
    f->bsize = r->blocksize;
    f->holder = hd_strdup(r->clientname);
    hd_lease_renew(r->clientname);
    parent->mtime = f->mtime;
    nn_save_or_fail(k);
    if (!k->exc) {
        nn_fill_status(&sb, f, false);
        resp.fs = &sb.st;
        nn_reply(k, &resp.base);
    }
out:
    hadoop__hdfs__create_request_proto__free_unpacked(r, NULL);
}

/* The lease of a file under construction: held by a client name (as HDFS) and, stricter than
 * HDFS (which trusts the client name alone), used only by the user who owns the file or the
 * superuser, so a client name seen elsewhere does not open another user's file. */
static bool lease_holder(call *k, const hd_inode *f, const char *client, const char *what) {
    if (f->holder && !strcmp(f->holder, client) && (nn_is_super(k) || !strcmp(f->owner, k->user)))
        return true;
    char path[HD_MAX_PATH + 2];
    hd_ns_path_of(f, path, sizeof path);
    if (!f->holder)
        nn_fail(k, EXC_LEASE, "No lease on %s (%s): File is not open for writing.", path, what);
    else if (strcmp(f->holder, client))
        nn_fail(k, EXC_LEASE, "No lease on %s (%s): client %s does not hold it.", path, what,
                client);
    else
        nn_fail(k, EXC_LEASE, "No lease on %s (%s): it is held by a client of user %s, not %s.",
                path, what, f->owner, k->user);
    return false;
}

/* Looks up a file under construction held by client. */
static hd_inode *leased_file(call *k, const char *src, const char *client) {
    hd_res res;
    if (!nn_resolve(k, src, &res)) return NULL;
    if (res.status != HD_FOUND || res.node->type != 2) {
        nn_fail(k, EXC_FNF, "File does not exist: %s", src);
        return NULL;
    }
    return lease_holder(k, res.node, client, "lease check") ? res.node : NULL;
}

/* Commits the client's view of the last block (id must match; GS may be the original one
 * even after updateBlockForPipeline, see the Go client). */
static bool commit_block(call *k, hd_inode *f, const Hadoop__Hdfs__ExtendedBlockProto *b) {
    if (!b) return true;
    if (f->nblocks == 0 || f->blocks[f->nblocks - 1].id != b->blockid) {
        nn_fail(k, EXC_IO, "Block blk_%llu does not match the last block of the file",
                (unsigned long long)b->blockid);
        return false;
    }
    hd_block *last = &f->blocks[f->nblocks - 1];
    if (b->generationstamp > last->gs) {
        nn_fail(k, EXC_IO,
                "Commit block with mismatching GS. NN has blk_%llu_%llu, client submits %llu",
                (unsigned long long)last->id, (unsigned long long)last->gs,
                (unsigned long long)b->generationstamp);
        return false;
    }
    if (b->has_numbytes && b->numbytes > f->bsize) {
        nn_fail(k, EXC_IO, "Block blk_%llu: length %llu exceeds the file's block size %llu",
                (unsigned long long)b->blockid, (unsigned long long)b->numbytes,
                (unsigned long long)f->bsize);
        return false;
    }
    if (b->has_numbytes) last->len = b->numbytes;
    return true;
}

static int choose_targets(int want, int *out, Hadoop__Hdfs__DatanodeInfoProto **excl,
                          size_t nexcl) {
    static unsigned rot;
    int n = 0;
    unsigned start = rot++;
    for (int j = 0; j < g_hd.ndn && n < want; j++) {
        int d = (int)((start + (unsigned)j) % (unsigned)g_hd.ndn);
        if (atomic_load(&g_hd.dn[d].stopped)) continue;
        bool ex = false;
        for (size_t e = 0; e < nexcl; e++)
            if (excl[e] && excl[e]->id && excl[e]->id->xferport == (uint32_t)g_hd.dn[d].port &&
                !strcmp(excl[e]->id->ipaddr, g_hd.dn[d].ip))
                ex = true;
        if (!ex) out[n++] = d;
    }
    return n;
}

void nn_addBlock(call *k) {
    UNPACK(Hadoop__Hdfs__AddBlockRequestProto, hadoop__hdfs__add_block_request_proto)
    Hadoop__Hdfs__AddBlockResponseProto resp = HADOOP__HDFS__ADD_BLOCK_RESPONSE_PROTO__INIT;
    lb_buf *L = cav_calloc(1, sizeof *L);
    hd_inode *f = L ? leased_file(k, r->src, r->clientname) : NULL;
    if (!L) nn_fail(k, EXC_IO, "out of memory");
    if (!f || !commit_block(k, f, r->previous)) goto out;
    int dns[HD_MAX_DATANODES];
    int want = (int)(f->repl < (uint32_t)g_hd.ndn ? f->repl : (uint32_t)g_hd.ndn);
    if (want < 1) want = 1;
    int n = choose_targets(want, dns, r->excludenodes, r->n_excludenodes);
    if (n == 0) {
        nn_fail(k, EXC_IO,
                "File %s could only be written to 0 of the 1 minReplication nodes. There are %d "
                "datanode(s) running and %zu node(s) are excluded in this operation.",
                r->src, g_hd.ndn, r->n_excludenodes);
        goto out;
    }
    uint64_t off = nn_file_length(f);
    uint64_t id = g_hd.next_block++, gs = g_hd.next_gs++;
    if (!hd_ns_block_add(f, id, gs)) {
        nn_fail(k, EXC_IO, "out of memory");
        goto out;
    }
    hd_lease_renew(r->clientname);
    nn_save_or_fail(k);
    if (k->exc) goto out;
    nn_fill_lb(L, id, gs, 0, off, dns, n);
    resp.block = &L->lb;
    nn_reply(k, &resp.base);
out:
    cav_free(L);
    hadoop__hdfs__add_block_request_proto__free_unpacked(r, NULL);
}

static bool blocks_replicated(const hd_inode *f) {
    for (size_t i = 0; i < f->nblocks; i++) {
        bool ok = false;
        for (int d = 0; d < g_hd.ndn && !ok; d++)
            ok = hd_replica_len(d, f->blocks[i].id) == (int64_t)f->blocks[i].len;
        if (!ok) return false;
    }
    return true;
}

void nn_complete(call *k) {
    UNPACK(Hadoop__Hdfs__CompleteRequestProto, hadoop__hdfs__complete_request_proto)
    Hadoop__Hdfs__CompleteResponseProto resp = HADOOP__HDFS__COMPLETE_RESPONSE_PROTO__INIT;
    hd_inode *f = leased_file(k, r->src, r->clientname);
    if (!f || !commit_block(k, f, r->last)) goto out;
    int cf = atomic_load(&g_hd.complete_false);
    if (cf > 0) {
        atomic_fetch_sub(&g_hd.complete_false, 1);
        nn_reply(k, &resp.base);
        goto out;
    }
    /* give the datanodes a moment to finalize (the lock is dropped while waiting) */
    for (int i = 0; i < 50 && !blocks_replicated(f); i++) {
        uint64_t fid = f->id;
        pthread_mutex_unlock(&g_hd.ns_lock);
        usleep(20000);
        pthread_mutex_lock(&g_hd.ns_lock);
        f = leased_file(k, r->src, r->clientname);
        if (!f || f->id != fid) {
            if (f) nn_fail(k, EXC_FNF, "File does not exist: %s", r->src);
            goto out;
        }
    }
    if (blocks_replicated(f)) {
        cav_free(f->holder);
        f->holder = NULL;
        f->mtime = hd_now_ms();
        resp.result = 1;
        nn_save_or_fail(k);
    }
    if (!k->exc) nn_reply(k, &resp.base);
out:
    hadoop__hdfs__complete_request_proto__free_unpacked(r, NULL);
}

void nn_abandonBlock(call *k) {
    UNPACK(Hadoop__Hdfs__AbandonBlockRequestProto, hadoop__hdfs__abandon_block_request_proto)
    Hadoop__Hdfs__AbandonBlockResponseProto resp = HADOOP__HDFS__ABANDON_BLOCK_RESPONSE_PROTO__INIT;
    hd_inode *f = leased_file(k, r->src, r->holder);
    if (!f) goto out;
    if (f->nblocks && f->blocks[f->nblocks - 1].id == r->b->blockid) {
        char buf[4200];
        for (int d = 0; d < g_hd.ndn; d++)
            for (int rb = 0; rb < 2; rb++)
                for (int m = 0; m < 2; m++)
                    unlink(hd_replica_path(d, r->b->blockid, rb, m, buf, sizeof buf));
        f->nblocks--;
        nn_save_or_fail(k);
    }
    if (!k->exc) nn_reply(k, &resp.base);
out:
    hadoop__hdfs__abandon_block_request_proto__free_unpacked(r, NULL);
}

void nn_getBlockLocations(call *k) {
    UNPACK(Hadoop__Hdfs__GetBlockLocationsRequestProto,
           hadoop__hdfs__get_block_locations_request_proto)
    Hadoop__Hdfs__GetBlockLocationsResponseProto resp =
        HADOOP__HDFS__GET_BLOCK_LOCATIONS_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__LocatedBlocksProto lbs = HADOOP__HDFS__LOCATED_BLOCKS_PROTO__INIT;
    lb_buf *L = NULL, *last = NULL;
    Hadoop__Hdfs__LocatedBlockProto **ptrs = NULL;
    hd_res res;
    if (!nn_resolve(k, r->src, &res) || !nn_permit(k, &res, (nn_perm){.self = 4})) goto out;
    if (res.status != HD_FOUND) {
        nn_fail(k, EXC_FNF, "File does not exist: %s", r->src);
        goto out;
    }
    hd_inode *f = res.node;
    if (f->type != 2) {
        nn_fail(k, EXC_FNF, "Path is not a file: %s", r->src);
        goto out;
    }
    size_t nb = f->nblocks;
    L = cav_calloc(nb ? nb : 1, sizeof *L);
    last = cav_calloc(1, sizeof *last);
    ptrs = cav_calloc(nb ? nb : 1, sizeof *ptrs);
    if (!L || !last || !ptrs) {
        nn_fail(k, EXC_IO, "out of memory");
        goto out;
    }
    uint64_t off = 0, end = r->offset + r->length;
    if (end < r->offset) end = UINT64_MAX;
    size_t n = 0;
    for (size_t i = 0; i < nb; i++) {
        int dns[HD_MAX_DATANODES];
        int64_t maxlen;
        int nd = nn_replica_holders(f->blocks[i].id, dns, &maxlen);
        uint64_t len = f->blocks[i].len;
        if (f->holder && i + 1 == nb && maxlen > (int64_t)len) len = (uint64_t)maxlen;
        bool overlap = off < end && off + len > r->offset;
        if (overlap || (len == 0 && off >= r->offset && off <= end)) {
            nn_fill_lb(&L[n], f->blocks[i].id, f->blocks[i].gs, len, off, dns, nd);
            ptrs[n] = &L[n].lb;
            n++;
        }
        if (i + 1 == nb) {
            nn_fill_lb(last, f->blocks[i].id, f->blocks[i].gs, len, off, dns, nd);
            lbs.lastblock = &last->lb;
        }
        off += len;
    }
    lbs.filelength = off;
    lbs.n_blocks = n;
    lbs.blocks = ptrs;
    lbs.underconstruction = f->holder != NULL;
    lbs.islastblockcomplete = f->holder == NULL;
    status_buf marks;
    lbs.fileencryptioninfo = nn_fill_crypt(&marks, f);
    lbs.ecpolicy = nn_fill_ec(&marks, f);
    resp.locations = &lbs;
    nn_reply(k, &resp.base);
out:
    cav_free(L);
    cav_free(last);
    cav_free(ptrs);
    hadoop__hdfs__get_block_locations_request_proto__free_unpacked(r, NULL);
}

void nn_renewLease(call *k) {
    UNPACK(Hadoop__Hdfs__RenewLeaseRequestProto, hadoop__hdfs__renew_lease_request_proto)
    Hadoop__Hdfs__RenewLeaseResponseProto resp = HADOOP__HDFS__RENEW_LEASE_RESPONSE_PROTO__INIT;
    if (nn_check_client(k, r->clientname)) {
        hd_lease_renew(r->clientname);
        nn_reply(k, &resp.base);
    }
    hadoop__hdfs__renew_lease_request_proto__free_unpacked(r, NULL);
}

static hd_inode *file_of_block(hd_inode *n, uint64_t id, size_t *idx) {
    if (n->type == 2)
        for (size_t i = 0; i < n->nblocks; i++)
            if (n->blocks[i].id == id) {
                *idx = i;
                return n;
            }
    for (size_t i = 0; i < n->nkids; i++) {
        hd_inode *f = file_of_block(n->kids[i], id, idx);
        if (f) return f;
    }
    return NULL;
}

/* As HDFS's checkUCBlock: the block exists, is the last block of a file under construction,
 * and the caller holds that file's lease. Returns the block or NULL with k->exc set. */
static hd_block *uc_block(call *k, uint64_t id, const char *client, const char *what,
                          uint64_t *bsize) {
    size_t i = 0;
    hd_inode *f = file_of_block(g_hd.root, id, &i);
    if (f) *bsize = f->bsize;
    if (!f) {
        nn_fail(k, EXC_IO, "%s: BP:%s:blk_%llu does not exist.", what, HD_POOL_ID,
                (unsigned long long)id);
        return NULL;
    }
    if (!f->holder || i + 1 != f->nblocks) {
        nn_fail(k, EXC_IO,
                "%s: Unexpected BlockUCState: blk_%llu is COMPLETE but not "
                "UNDER_CONSTRUCTION",
                what, (unsigned long long)id);
        return NULL;
    }
    return lease_holder(k, f, client, what) ? &f->blocks[i] : NULL;
}

void nn_updateBlockForPipeline(call *k) {
    UNPACK(Hadoop__Hdfs__UpdateBlockForPipelineRequestProto,
           hadoop__hdfs__update_block_for_pipeline_request_proto)
    Hadoop__Hdfs__UpdateBlockForPipelineResponseProto resp =
        HADOOP__HDFS__UPDATE_BLOCK_FOR_PIPELINE_RESPONSE_PROTO__INIT;
    lb_buf *L = cav_calloc(1, sizeof *L);
    uint64_t bs;
    if (!L) {
        nn_fail(k, EXC_IO, "out of memory");
    } else if (uc_block(k, r->block->blockid, r->clientname, "updateBlockForPipeline", &bs)) {
        int dns[HD_MAX_DATANODES];
        int nd = nn_replica_holders(r->block->blockid, dns, NULL);
        /* a new stamp for the client; the stored one changes only in updatePipeline */
        uint64_t gs = g_hd.next_gs++;
        nn_save_or_fail(k);
        nn_fill_lb(L, r->block->blockid, gs, r->block->has_numbytes ? r->block->numbytes : 0, 0,
                   dns, nd);
        resp.block = &L->lb;
        if (!k->exc) nn_reply(k, &resp.base);
    }
    cav_free(L);
    hadoop__hdfs__update_block_for_pipeline_request_proto__free_unpacked(r, NULL);
}

void nn_updatePipeline(call *k) {
    UNPACK(Hadoop__Hdfs__UpdatePipelineRequestProto, hadoop__hdfs__update_pipeline_request_proto)
    Hadoop__Hdfs__UpdatePipelineResponseProto resp =
        HADOOP__HDFS__UPDATE_PIPELINE_RESPONSE_PROTO__INIT;
    uint64_t bs = 0;
    hd_block *b = uc_block(k, r->oldblock->blockid, r->clientname, "updatePipeline", &bs);
    uint64_t ngs = r->newblock->generationstamp;
    uint64_t nlen = r->newblock->has_numbytes ? r->newblock->numbytes : 0;
    if (!b) {
        /* k->exc set */
    } else if (r->newblock->blockid != r->oldblock->blockid) {
        nn_fail(k, EXC_IO, "updatePipeline: the new block blk_%llu is not blk_%llu",
                (unsigned long long)r->newblock->blockid, (unsigned long long)b->id);
    } else if (ngs <= b->gs || ngs >= g_hd.next_gs) {
        nn_fail(k, EXC_IO,
                "Update blk_%llu but the new generation stamp %llu is not one handed out by "
                "updateBlockForPipeline after the stored %llu",
                (unsigned long long)b->id, (unsigned long long)ngs, (unsigned long long)b->gs);
    } else if (nlen < b->len || nlen > bs) {
        nn_fail(k, EXC_IO,
                "Update blk_%llu (size=%llu) to a block of size %llu: smaller, or larger than "
                "the block size %llu",
                (unsigned long long)b->id, (unsigned long long)b->len, (unsigned long long)nlen,
                (unsigned long long)bs);
    } else {
        b->gs = ngs;
        b->len = nlen;
        nn_save_or_fail(k);
        if (!k->exc) nn_reply(k, &resp.base);
    }
    hadoop__hdfs__update_pipeline_request_proto__free_unpacked(r, NULL);
}

void nn_getAdditionalDatanode(call *k) {
    UNPACK(Hadoop__Hdfs__GetAdditionalDatanodeRequestProto,
           hadoop__hdfs__get_additional_datanode_request_proto)
    Hadoop__Hdfs__GetAdditionalDatanodeResponseProto resp =
        HADOOP__HDFS__GET_ADDITIONAL_DATANODE_RESPONSE_PROTO__INIT;
    if (!leased_file(k, r->src, r->clientname)) {
        hadoop__hdfs__get_additional_datanode_request_proto__free_unpacked(r, NULL);
        return;
    }
    lb_buf *L = cav_calloc(1, sizeof *L);
    Hadoop__Hdfs__DatanodeInfoProto *ex[2 * HD_MAX_DATANODES + 2];
    size_t nex = 0;
    for (size_t i = 0; i < r->n_existings && nex < CAV_ARRAY_LEN(ex); i++)
        ex[nex++] = r->existings[i];
    for (size_t i = 0; i < r->n_excludes && nex < CAV_ARRAY_LEN(ex); i++)
        ex[nex++] = r->excludes[i];
    int dns[HD_MAX_DATANODES], nd = 0;
    /* existing nodes first, in the client's order */
    for (size_t i = 0; i < r->n_existings; i++)
        for (int d = 0; d < g_hd.ndn && nd < HD_MAX_DATANODES; d++)
            if (r->existings[i]->id && r->existings[i]->id->xferport == (uint32_t)g_hd.dn[d].port &&
                !strcmp(r->existings[i]->id->ipaddr, g_hd.dn[d].ip))
                dns[nd++] = d;
    int want = (int)r->numadditionalnodes;
    if (want > HD_MAX_DATANODES - nd) want = HD_MAX_DATANODES - nd;
    int got = choose_targets(want, dns + nd, ex, nex);
    if (!L) {
        nn_fail(k, EXC_IO, "out of memory");
    } else if (got < (int)r->numadditionalnodes) {
        nn_fail(k, EXC_IO, "Failed to find %u additional datanode(s)", r->numadditionalnodes);
    } else {
        nn_fill_lb(L, r->blk->blockid, r->blk->generationstamp,
                   r->blk->has_numbytes ? r->blk->numbytes : 0, 0, dns, nd + got);
        resp.block = &L->lb;
        nn_reply(k, &resp.base);
    }
    cav_free(L);
    hadoop__hdfs__get_additional_datanode_request_proto__free_unpacked(r, NULL);
}

void nn_recoverLease(call *k) {
    UNPACK(Hadoop__Hdfs__RecoverLeaseRequestProto, hadoop__hdfs__recover_lease_request_proto)
    Hadoop__Hdfs__RecoverLeaseResponseProto resp = HADOOP__HDFS__RECOVER_LEASE_RESPONSE_PROTO__INIT;
    hd_inode *f = nn_existing(k, r->src, (nn_perm){.self = 2});
    if (f && f->type != 2) {
        nn_fail(k, EXC_FNF, "Path is not a file: %s", r->src);
    } else if (f) {
        if (f->holder) { /* close it with what the datanodes have */
            if (f->nblocks) {
                int dns[HD_MAX_DATANODES];
                int64_t ml;
                nn_replica_holders(f->blocks[f->nblocks - 1].id, dns, &ml);
                if (ml < 0)
                    f->nblocks--;
                else
                    f->blocks[f->nblocks - 1].len = (uint64_t)ml;
            }
            cav_free(f->holder);
            f->holder = NULL;
            nn_save_or_fail(k);
        }
        resp.result = 1;
        if (!k->exc) nn_reply(k, &resp.base);
    }
    hadoop__hdfs__recover_lease_request_proto__free_unpacked(r, NULL);
}
