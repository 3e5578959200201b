/*
 * hdfsd_nn_ns.c — the namespace methods of the NameNode: getFileInfo, getListing, mkdirs,
 * delete, rename, rename2, getServerDefaults, setReplication, setPermission, setOwner,
 * setTimes, getContentSummary, getFsStats.
 */
#include "hdfsd_nn.h"
#include "hdfsd_auth.h"
#include "core/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

void nn_getFileInfo(call *k) {
    UNPACK(Hadoop__Hdfs__GetFileInfoRequestProto, hadoop__hdfs__get_file_info_request_proto)
    Hadoop__Hdfs__GetFileInfoResponseProto resp = HADOOP__HDFS__GET_FILE_INFO_RESPONSE_PROTO__INIT;
    hd_res res;
    status_buf sb;
    hd_ns_resolve(r->src, &res);
    if (res.status == HD_INVALID) {
        nn_fail(k, EXC_INVALID_PATH, "Invalid path name %s", r->src);
    } else if (nn_permit(k, &res, (nn_perm){0})) { /* traverse */
        if (res.status == HD_FOUND) {
            nn_fill_status(&sb, res.node, false);
            resp.fs = &sb.st;
        }
        nn_reply(k, &resp.base);
    }
    hadoop__hdfs__get_file_info_request_proto__free_unpacked(r, NULL);
}

void nn_getListing(call *k) {
    UNPACK(Hadoop__Hdfs__GetListingRequestProto, hadoop__hdfs__get_listing_request_proto)
    Hadoop__Hdfs__GetListingResponseProto resp = HADOOP__HDFS__GET_LISTING_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__DirectoryListingProto dl = HADOOP__HDFS__DIRECTORY_LISTING_PROTO__INIT;
    hd_res res;
    status_buf *sb = NULL;
    Hadoop__Hdfs__HdfsFileStatusProto **ptrs = NULL;
    hd_ns_resolve(r->src, &res);
    if (res.status == HD_INVALID) {
        nn_fail(k, EXC_INVALID_PATH, "Invalid path name %s", r->src);
        goto out;
    }
    /* a directory needs READ_EXECUTE, anything else the traverse check only */
    if (!nn_permit(k, &res,
                   (nn_perm){.self = res.status == HD_FOUND && res.node->type == 1 ? 5 : 0}))
        goto out;
    if (res.status != HD_FOUND) {
        nn_reply(k, &resp.base);
        goto out;
    }
    hd_inode *d = res.node;
    if (d->type != 1) {
        sb = cav_calloc(1, sizeof *sb);
        ptrs = cav_calloc(1, sizeof *ptrs);
        if (!sb || !ptrs) {
            nn_fail(k, EXC_IO, "out of memory");
            goto out;
        }
        nn_fill_status(sb, d, false);
        ptrs[0] = &sb->st;
        dl.n_partiallisting = 1;
    } else {
        char after[HD_MAX_COMPONENT + 1];
        size_t al = r->startafter.len < sizeof after ? r->startafter.len : sizeof after - 1;
        if (al) memcpy(after, r->startafter.data, al);
        after[al] = 0;
        size_t start = 0;
        if (al) {
            bool found;
            start = hd_ns_child_index(d, after, &found);
            if (found) start++;
        }
        size_t n = d->nkids - start;
        if (n > g_hd.ls_limit) n = g_hd.ls_limit;
        sb = cav_calloc(n ? n : 1, sizeof *sb);
        ptrs = cav_calloc(n ? n : 1, sizeof *ptrs);
        if (!sb || !ptrs) {
            nn_fail(k, EXC_IO, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            nn_fill_status(&sb[i], d->kids[start + i], true);
            ptrs[i] = &sb[i].st;
        }
        dl.n_partiallisting = n;
        dl.remainingentries = (uint32_t)(d->nkids - start - n);
    }
    dl.partiallisting = ptrs;
    resp.dirlist = &dl;
    nn_reply(k, &resp.base);
out:
    cav_free(sb);
    cav_free(ptrs);
    hadoop__hdfs__get_listing_request_proto__free_unpacked(r, NULL);
}

/* Creates the missing directories of path (createParent semantics); returns the directory
 * that will hold the last component, or NULL with k->exc set. */
hd_inode *nn_make_parents(call *k, const char *path, uint32_t perm, bool create_parent) {
    hd_inode *cur = g_hd.root;
    const char *p = path;
    char name[HD_MAX_COMPONENT + 1];
    for (;;) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        if (!e) return cur; /* p is the last component */
        const char *q = e;
        while (*q == '/')
            q++;
        if (!*q) return cur; /* trailing slash */
        size_t len = (size_t)(e - p);
        if (len >= sizeof name) {
            nn_fail(k, EXC_INVALID_PATH, "Invalid path name %s", path);
            return NULL;
        }
        memcpy(name, p, len);
        name[len] = 0;
        bool found;
        size_t i = hd_ns_child_index(cur, name, &found);
        if (found) {
            cur = cur->kids[i];
            if (cur->type != 1) {
                nn_fail(k, EXC_PARENT_NOT_DIR, "Parent path is not a directory: %s", path);
                return NULL;
            }
        } else {
            if (!create_parent) {
                nn_fail(k, EXC_FNF, "Parent directory doesn't exist: %s", path);
                return NULL;
            }
            /* (the caller checked WRITE on the last existing ancestor; what is created here
             * belongs to the caller) */
            if (!nn_can_add_child(k, cur)) return NULL;
            /* implicitly created parents get u+wx like Hadoop */
            cur = hd_ns_new_inode(cur, name, 1, perm | 0300, k->user, cur->group);
            if (!cur) {
                nn_fail(k, EXC_IO, "out of memory");
                return NULL;
            }
        }
        p = e;
    }
}

void nn_mkdirs(call *k) {
    UNPACK(Hadoop__Hdfs__MkdirsRequestProto, hadoop__hdfs__mkdirs_request_proto)
    Hadoop__Hdfs__MkdirsResponseProto resp = HADOOP__HDFS__MKDIRS_RESPONSE_PROTO__INIT;
    hd_res res;
    if (!nn_resolve(k, r->src, &res) || !nn_permit(k, &res, (nn_perm){0})) goto out;
    uint32_t perm = r->masked->perm & 07777; /* Go sets bit 31 (its directory flag) */
    if (res.status == HD_FOUND) {
        if (res.node->type != 1) {
            nn_fail(k, EXC_EXISTS, "Path is not a directory: %s", r->src);
            goto out;
        }
        resp.result = 1;
        nn_reply(k, &resp.base);
        goto out;
    }
    if (res.status == HD_NO_PARENT && !r->createparent) {
        nn_fail(k, EXC_FNF, "Parent directory doesn't exist: %s", r->src);
        goto out;
    }
    if (!nn_check_new_path(k, r->src, &res) || !nn_permit(k, &res, (nn_perm){.ancestor = 2}))
        goto out;
    hd_inode *parent = nn_make_parents(k, r->src, perm, r->createparent);
    if (!parent) {
        nn_save_or_fail(k);
        goto out;
    }
    if (!nn_can_add_child(k, parent)) {
        nn_save_or_fail(k); /* keep the parents made so far */
        goto out;
    }
    hd_ns_resolve(r->src, &res);
    if (!hd_ns_new_inode(parent, res.name, 1, perm, k->user, parent->group)) {
        nn_fail(k, EXC_IO, "out of memory");
        goto out;
    }
    parent->mtime = hd_now_ms();
    nn_save_or_fail(k);
    if (!k->exc) {
        resp.result = 1;
        nn_reply(k, &resp.base);
    }
out:
    hadoop__hdfs__mkdirs_request_proto__free_unpacked(r, NULL);
}

void nn_delete(call *k) {
    UNPACK(Hadoop__Hdfs__DeleteRequestProto, hadoop__hdfs__delete_request_proto)
    Hadoop__Hdfs__DeleteResponseProto resp = HADOOP__HDFS__DELETE_RESPONSE_PROTO__INIT;
    hd_res res;
    if (!nn_resolve(k, r->src, &res)) goto out;
    /* WRITE on the parent (and its sticky bit), ALL on every non-empty directory below */
    if (!nn_permit(k, &res, (nn_perm){.parent = 2, .sub = 7, .sub_skip_empty = true})) goto out;
    if (res.status == HD_FOUND && res.node != g_hd.root) {
        hd_inode *n = res.node;
        if (n->type == 1 && n->nkids > 0 && !r->recursive) {
            nn_fail(k, EXC_NOT_EMPTY, "%s is non empty", r->src);
            goto out;
        }
        n->parent->mtime = hd_now_ms();
        hd_ns_unlink(n);
        hd_ns_free_tree(n, true);
        resp.result = 1;
        nn_save_or_fail(k);
    }
    if (!k->exc) nn_reply(k, &resp.base);
out:
    hadoop__hdfs__delete_request_proto__free_unpacked(r, NULL);
}

static bool is_ancestor(const hd_inode *a, const hd_inode *n) {
    for (; n; n = n->parent)
        if (n == a) return true;
    return false;
}

static size_t depth_of(const hd_inode *n) {
    size_t d = 0;
    for (; n->parent; n = n->parent)
        d++;
    return d;
}

static size_t height_of(const hd_inode *n) {
    size_t h = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        size_t c = 1 + height_of(n->kids[i]);
        if (c > h) h = c;
    }
    return h;
}

/* Shared by rename and rename2. Returns 1 done, 0 refused (k->exc may be set).
 * Permissions as HDFS: the source needs WRITE on its parent and passes its sticky bit; the
 * destination needs WRITE on its last existing ancestor. Stricter than HDFS, as POSIX
 * rename(2): an entry that rename2 replaces must pass the sticky bit of its directory too
 * (replacing is deleting). */
static int do_rename(call *k, const char *src, const char *dst, bool v2, bool overwrite) {
    hd_res s, d;
    if (!nn_resolve(k, src, &s) || !nn_permit(k, &s, (nn_perm){.parent = 2})) return 0;
    if (s.status != HD_FOUND) {
        if (v2) nn_fail(k, EXC_FNF, "rename source %s is not found.", src);
        return 0;
    }
    if (s.node == g_hd.root) {
        if (v2) nn_fail(k, EXC_IO, "Rename source / is the root.");
        return 0;
    }
    if (!nn_resolve(k, dst, &d)) {
        if (!v2 && !strcmp(k->exc, EXC_PARENT_NOT_DIR)) k->exc = NULL; /* plain false */
        return 0;
    }
    if (!nn_permit(k, &d, (nn_perm){0})) return 0; /* traverse */
    if (d.status == HD_NO_PARENT) {
        if (v2) nn_fail(k, EXC_FNF, "rename destination parent %s not found.", dst);
        return 0;
    }
    hd_inode *target_dir;
    const char *name;
    hd_inode *victim = NULL;
    if (d.status == HD_FOUND) {
        if (!v2 && d.node->type == 1) { /* old rename: move into the directory */
            target_dir = d.node;
            name = s.node->name;
            bool found;
            size_t i = hd_ns_child_index(target_dir, name, &found);
            if (found) {
                if (target_dir->kids[i] == s.node) return 1;
                return 0;
            }
        } else if (!v2) {
            return 0;
        } else {
            if (d.node == s.node) {
                nn_fail(k, EXC_EXISTS, "The source %s and destination %s are the same", src, dst);
                return 0;
            }
            if (!overwrite) {
                nn_fail(k, EXC_EXISTS, "rename destination %s already exists.", dst);
                return 0;
            }
            if (d.node->type == 1 && s.node->type != 1) {
                nn_fail(k, EXC_IO, "Source %s is not a directory, destination %s is", src, dst);
                return 0;
            }
            if (d.node->type != 1 && s.node->type == 1) {
                nn_fail(k, EXC_IO, "Source %s is a directory, destination %s is not", src, dst);
                return 0;
            }
            if (d.node->type == 1 && d.node->nkids) {
                nn_fail(k, EXC_IO, "rename destination directory is not empty: %s", dst);
                return 0;
            }
            victim = d.node;
            target_dir = d.parent;
            name = d.name;
        }
    } else {
        if (!nn_check_new_path(k, dst, &d)) return 0;
        target_dir = d.parent;
        name = d.name;
    }
    if (is_ancestor(s.node, target_dir)) {
        if (v2)
            nn_fail(k, EXC_IO, "Rename destination %s is a directory or file under source %s", dst,
                    src);
        return 0;
    }
    hd_res t = {.status = HD_MISSING, .deepest = target_dir};
    if (!nn_permit(k, &t, (nn_perm){.ancestor = 2})) return 0;
    if (victim && !nn_check_sticky(k, target_dir, victim)) return 0;
    if (!victim && target_dir != s.node->parent && !nn_check_dir_items(k, target_dir)) return 0;
    if (depth_of(target_dir) + 1 + height_of(s.node) > HD_MAX_DEPTH) {
        nn_fail(k, EXC_IO, "Pathname too long.  Limit %d characters, %d levels.", HD_MAX_PATH,
                HD_MAX_DEPTH);
        return 0;
    }
    char *nm = hd_strdup(name);
    uint64_t now = hd_now_ms();
    s.node->parent->mtime = now;
    hd_ns_unlink(s.node);
    if (victim) {
        hd_ns_unlink(victim);
        hd_ns_free_tree(victim, true);
    }
    hd_ns_attach(target_dir, s.node, nm);
    cav_free(nm);
    target_dir->mtime = now;
    nn_save_or_fail(k);
    return k->exc ? 0 : 1;
}

void nn_rename(call *k) {
    UNPACK(Hadoop__Hdfs__RenameRequestProto, hadoop__hdfs__rename_request_proto)
    Hadoop__Hdfs__RenameResponseProto resp = HADOOP__HDFS__RENAME_RESPONSE_PROTO__INIT;
    resp.result = do_rename(k, r->src, r->dst, false, false) == 1;
    if (!k->exc) nn_reply(k, &resp.base);
    hadoop__hdfs__rename_request_proto__free_unpacked(r, NULL);
}

void nn_rename2(call *k) {
    UNPACK(Hadoop__Hdfs__Rename2RequestProto, hadoop__hdfs__rename2_request_proto)
    Hadoop__Hdfs__Rename2ResponseProto resp = HADOOP__HDFS__RENAME2_RESPONSE_PROTO__INIT;
    if (do_rename(k, r->src, r->dst, true, r->overwritedest) && !k->exc)
        nn_reply(k, &resp.base);
    else if (!k->exc)
        nn_fail(k, EXC_IO, "rename %s to %s failed", r->src, r->dst);
    hadoop__hdfs__rename2_request_proto__free_unpacked(r, NULL);
}

void nn_getServerDefaults(call *k) {
    Hadoop__Hdfs__GetServerDefaultsResponseProto resp =
        HADOOP__HDFS__GET_SERVER_DEFAULTS_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__FsServerDefaultsProto d = HADOOP__HDFS__FS_SERVER_DEFAULTS_PROTO__INIT;
    d.blocksize = g_hd.block_size;
    d.bytesperchecksum = 512;
    d.writepacketsize = 65536;
    d.replication = g_hd.replication;
    d.filebuffersize = 4096;
    d.has_encryptdatatransfer = 1;
    d.encryptdatatransfer = g_sec.encrypt_dt;
    d.has_trashinterval = 1;
    d.trashinterval = 0;
    d.has_checksumtype = 1;
    d.checksumtype = HADOOP__HDFS__CHECKSUM_TYPE_PROTO__CHECKSUM_CRC32C;
    resp.serverdefaults = &d;
    nn_reply(k, &resp.base);
}

hd_inode *nn_existing(call *k, const char *src, nn_perm want) {
    hd_res res;
    if (!nn_resolve(k, src, &res) || !nn_permit(k, &res, want)) return NULL;
    if (res.status != HD_FOUND) {
        nn_fail(k, EXC_FNF, "File does not exist: %s", src);
        return NULL;
    }
    return res.node;
}

void nn_setReplication(call *k) {
    UNPACK(Hadoop__Hdfs__SetReplicationRequestProto, hadoop__hdfs__set_replication_request_proto)
    Hadoop__Hdfs__SetReplicationResponseProto resp =
        HADOOP__HDFS__SET_REPLICATION_RESPONSE_PROTO__INIT;
    hd_inode *n = nn_existing(k, r->src, (nn_perm){.self = 2});
    if (n && n->type == 2) {
        if (r->replication < 1 || r->replication > HD_MAX_REPLICATION) {
            nn_fail(k, EXC_IO,
                    "Requested replication factor of %u is out of range (1 to %d, "
                    "dfs.replication.max)",
                    r->replication, HD_MAX_REPLICATION);
        } else {
            n->repl = r->replication;
            resp.result = 1;
            nn_save_or_fail(k);
        }
    }
    if (!k->exc && n) nn_reply(k, &resp.base);
    hadoop__hdfs__set_replication_request_proto__free_unpacked(r, NULL);
}

void nn_setPermission(call *k) {
    UNPACK(Hadoop__Hdfs__SetPermissionRequestProto, hadoop__hdfs__set_permission_request_proto)
    Hadoop__Hdfs__SetPermissionResponseProto resp =
        HADOOP__HDFS__SET_PERMISSION_RESPONSE_PROTO__INIT;
    hd_inode *n = nn_existing(k, r->src, (nn_perm){.owner = true});
    if (n) {
        n->perm = r->permission->perm & 07777;
        nn_save_or_fail(k);
        if (!k->exc) nn_reply(k, &resp.base);
    }
    hadoop__hdfs__set_permission_request_proto__free_unpacked(r, NULL);
}

void nn_setOwner(call *k) {
    UNPACK(Hadoop__Hdfs__SetOwnerRequestProto, hadoop__hdfs__set_owner_request_proto)
    Hadoop__Hdfs__SetOwnerResponseProto resp = HADOOP__HDFS__SET_OWNER_RESPONSE_PROTO__INIT;
    const char *u = r->username && *r->username ? r->username : NULL;
    const char *g = r->groupname && *r->groupname ? r->groupname : NULL;
    const char *why;
    hd_inode *n = nn_existing(k, r->src, (nn_perm){.owner = true});
    if (!n) {
        /* k->exc set */
    } else if (u && (why = hd_check_principal(u))) {
        nn_fail(k, EXC_ILLEGAL_ARG,
                "Invalid user name: it %s (user and group names: 1 to %d "
                "bytes, no control character or ':')",
                why, HD_MAX_PRINCIPAL);
    } else if (g && (why = hd_check_principal(g))) {
        nn_fail(k, EXC_ILLEGAL_ARG,
                "Invalid group name: it %s (user and group names: 1 to %d "
                "bytes, no control character or ':')",
                why, HD_MAX_PRINCIPAL);
    } else if (u && strcmp(u, k->user) && !nn_is_super(k)) {
        /* (HDFS compares with the caller, not with the current owner) */
        nn_fail(k, EXC_ACCESS, "User %s is not a super user (non-super user cannot change owner).",
                k->user);
    } else if (g && !nn_is_super(k) && !nn_in_group(k, g)) {
        nn_fail(k, EXC_ACCESS, "User %s does not belong to %s", k->user, g);
    } else {
        if (u) {
            cav_free(n->owner);
            n->owner = hd_strdup(u);
        }
        if (g) {
            cav_free(n->group);
            n->group = hd_strdup(g);
        }
        nn_save_or_fail(k);
        if (!k->exc) nn_reply(k, &resp.base);
    }
    hadoop__hdfs__set_owner_request_proto__free_unpacked(r, NULL);
}

void nn_setTimes(call *k) {
    UNPACK(Hadoop__Hdfs__SetTimesRequestProto, hadoop__hdfs__set_times_request_proto)
    Hadoop__Hdfs__SetTimesResponseProto resp = HADOOP__HDFS__SET_TIMES_RESPONSE_PROTO__INIT;
    hd_inode *n =
        nn_existing(k, r->src, (nn_perm){.self = 2}); /* HDFS: WRITE, even for the owner */
    if (n) {
        if (r->mtime != UINT64_MAX) n->mtime = r->mtime;
        if (r->atime != UINT64_MAX) n->atime = r->atime;
        nn_save_or_fail(k);
        if (!k->exc) nn_reply(k, &resp.base);
    }
    hadoop__hdfs__set_times_request_proto__free_unpacked(r, NULL);
}

static void summarize(const hd_inode *n, uint64_t *len, uint64_t *files, uint64_t *dirs,
                      uint64_t *space) {
    if (n->type == 1) {
        (*dirs)++;
        for (size_t i = 0; i < n->nkids; i++)
            summarize(n->kids[i], len, files, dirs, space);
    } else {
        uint64_t l = nn_file_length(n);
        (*files)++;
        *len += l;
        *space += l * n->repl;
    }
}

void nn_getContentSummary(call *k) {
    UNPACK(Hadoop__Hdfs__GetContentSummaryRequestProto,
           hadoop__hdfs__get_content_summary_request_proto)
    Hadoop__Hdfs__GetContentSummaryResponseProto resp =
        HADOOP__HDFS__GET_CONTENT_SUMMARY_RESPONSE_PROTO__INIT;
    Hadoop__Hdfs__ContentSummaryProto cs = HADOOP__HDFS__CONTENT_SUMMARY_PROTO__INIT;
    hd_inode *n = nn_existing(k, r->path, (nn_perm){.sub = 5}); /* READ_EXECUTE on every dir */
    if (n) {
        summarize(n, &cs.length, &cs.filecount, &cs.directorycount, &cs.spaceconsumed);
        cs.quota = UINT64_MAX;
        cs.spacequota = UINT64_MAX;
        resp.summary = &cs;
        nn_reply(k, &resp.base);
    }
    hadoop__hdfs__get_content_summary_request_proto__free_unpacked(r, NULL);
}

void nn_getFsStats(call *k) {
    Hadoop__Hdfs__GetFsStatsResponseProto resp = HADOOP__HDFS__GET_FS_STATS_RESPONSE_PROTO__INIT;
    struct statvfs sv;
    uint64_t cap = 1ull << 40, rem = 1ull << 39;
    if (statvfs(g_hd.data_dir, &sv) == 0 && sv.f_blocks) {
        cap = (uint64_t)sv.f_blocks * sv.f_frsize;
        rem = (uint64_t)sv.f_bavail * sv.f_frsize;
    }
    uint64_t len = 0, files = 0, dirs = 0, space = 0;
    summarize(g_hd.root, &len, &files, &dirs, &space);
    resp.capacity = cap ? cap : 1;
    resp.used = space;
    resp.remaining = rem;
    nn_reply(k, &resp.base);
}
