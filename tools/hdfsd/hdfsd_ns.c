/*
 * hdfsd_ns.c — the NameNode's namespace: a tree of inodes (directories keep their children
 * sorted by byte-wise name, like HDFS), files' block lists, leases, and the snapshot that makes
 * it all survive a restart.
 *
 * Snapshot format (DATA/namespace.img, text, rewritten atomically via namespace.img.tmp +
 * rename on every mutation): a header line `hdfsd-namespace 1 <next_inode> <next_block>
 * <next_gs>`, then one `I` line per inode in pre-order (parent before children) and one `B`
 * line per block after its file. Strings are hex-encoded so any byte is safe. All functions
 * here run under g_hd.ns_lock.
 */
#include "hdfsd.h"
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

hd_inode *hd_ns_new_inode(hd_inode *parent, const char *name, int type, uint32_t perm,
                          const char *owner, const char *group) {
    hd_inode *n = cav_calloc(1, sizeof *n);
    if (!n) return NULL;
    n->id = g_hd.next_inode++;
    n->type = type;
    n->perm = perm & 07777;
    n->owner = hd_strdup(owner);
    n->group = hd_strdup(group);
    n->mtime = n->atime = hd_now_ms();
    n->name = hd_strdup(name);
    g_hd.ninodes++;
    if (parent) hd_ns_attach(parent, n, name);
    return n;
}

size_t hd_ns_child_index(const hd_inode *dir, const char *name, bool *found) {
    size_t lo = 0, hi = dir->nkids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(dir->kids[mid]->name, name); /* byte-wise on UTF-8 */
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

void hd_ns_attach(hd_inode *parent, hd_inode *n, const char *name) {
    if (n->name != name) {
        char *nn = hd_strdup(name);
        cav_free(n->name);
        n->name = nn;
    }
    bool found;
    size_t i = hd_ns_child_index(parent, n->name, &found);
    if (parent->nkids == parent->capkids) {
        size_t cap = parent->capkids ? parent->capkids * 2 : 8;
        hd_inode **k = cav_realloc(parent->kids, cap * sizeof *k);
        if (!k) {
            fprintf(stderr, "hdfsd: out of memory\n");
            _exit(70);
        }
        parent->kids = k;
        parent->capkids = cap;
    }
    memmove(parent->kids + i + 1, parent->kids + i, (parent->nkids - i) * sizeof *parent->kids);
    parent->kids[i] = n;
    parent->nkids++;
    n->parent = parent;
}

void hd_ns_unlink(hd_inode *n) {
    hd_inode *p = n->parent;
    if (!p) return;
    bool found;
    size_t i = hd_ns_child_index(p, n->name, &found);
    if (found) {
        memmove(p->kids + i, p->kids + i + 1, (p->nkids - i - 1) * sizeof *p->kids);
        p->nkids--;
    }
    n->parent = NULL;
}

static void delete_replicas(uint64_t blk) {
    char buf[4200];
    for (int d = 0; d < g_hd.ndn; d++) {
        for (int rbw = 0; rbw < 2; rbw++) {
            unlink(hd_replica_path(d, blk, rbw, false, buf, sizeof buf));
            unlink(hd_replica_path(d, blk, rbw, true, buf, sizeof buf));
        }
    }
}

void hd_ns_free_tree(hd_inode *n, bool del) {
    if (!n) return;
    for (size_t i = 0; i < n->nkids; i++)
        hd_ns_free_tree(n->kids[i], del);
    if (del)
        for (size_t i = 0; i < n->nblocks; i++)
            delete_replicas(n->blocks[i].id);
    cav_free(n->kids);
    cav_free(n->blocks);
    cav_free(n->name);
    cav_free(n->owner);
    cav_free(n->group);
    cav_free(n->holder);
    cav_free(n);
    g_hd.ninodes--;
}

bool hd_ns_block_add(hd_inode *f, uint64_t id, uint64_t gs) {
    if (f->nblocks == f->capblocks) {
        size_t cap = f->capblocks ? f->capblocks * 2 : 4;
        hd_block *b = cav_realloc(f->blocks, cap * sizeof *b);
        if (!b) return false;
        f->blocks = b;
        f->capblocks = cap;
    }
    f->blocks[f->nblocks++] = (hd_block){.id = id, .gs = gs, .len = 0};
    return true;
}

void hd_ns_resolve(const char *path, hd_res *r) {
    memset(r, 0, sizeof *r);
    size_t plen = strlen(path);
    if (plen == 0 || path[0] != '/' || plen > HD_MAX_PATH) {
        r->status = HD_INVALID;
        return;
    }
    hd_inode *cur = g_hd.root;
    hd_inode *parent = NULL;
    const char *p = path;
    bool missing = false;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= sizeof r->name || (len == 1 && p[0] == '.') ||
            (len == 2 && p[0] == '.' && p[1] == '.') || memchr(p, ':', len)) {
            r->status = HD_INVALID;
            return;
        }
        if (missing) { /* an ancestor is missing */
            r->status = HD_NO_PARENT;
            return;
        }
        if (cur->type != 1) {
            r->status = HD_PARENT_FILE;
            return;
        }
        memcpy(r->name, p, len);
        r->name[len] = 0;
        bool found;
        size_t i = hd_ns_child_index(cur, r->name, &found);
        parent = cur;
        if (found)
            cur = cur->kids[i];
        else
            missing = true;
        p += len;
    }
    r->parent = parent;
    if (missing) {
        r->status = HD_MISSING;
        return;
    }
    r->status = HD_FOUND;
    r->node = cur;
}

void hd_ns_path_of(const hd_inode *n, char *buf, size_t cap) {
    if (!n->parent) {
        snprintf(buf, cap, "/");
        return;
    }
    char tmp[HD_MAX_PATH + 2];
    size_t pos = sizeof tmp - 1;
    tmp[pos] = 0;
    for (const hd_inode *c = n; c && c->parent; c = c->parent) {
        size_t l = strlen(c->name);
        if (l + 1 > pos) break;
        pos -= l;
        memcpy(tmp + pos, c->name, l);
        tmp[--pos] = '/';
    }
    snprintf(buf, cap, "%s", tmp + pos);
}

/* ---------------------------------------------------------------- leases */

static hd_lease *lease_find(const char *client) {
    for (size_t i = 0; i < g_hd.nleases; i++)
        if (!strcmp(g_hd.leases[i].client, client)) return &g_hd.leases[i];
    return NULL;
}

void hd_lease_renew(const char *client) {
    hd_lease *l = lease_find(client);
    uint64_t now = hd_now_ms();
    if (!l) {
        /* drop expired entries first so the table stays bounded by live clients */
        size_t w = 0;
        for (size_t i = 0; i < g_hd.nleases; i++) {
            if (now - g_hd.leases[i].renewed_ms > 3600u * 1000u)
                cav_free(g_hd.leases[i].client);
            else
                g_hd.leases[w++] = g_hd.leases[i];
        }
        g_hd.nleases = w;
        if (g_hd.nleases == g_hd.capleases) {
            size_t cap = g_hd.capleases ? g_hd.capleases * 2 : 16;
            hd_lease *n = cav_realloc(g_hd.leases, cap * sizeof *n);
            if (!n) return;
            g_hd.leases = n;
            g_hd.capleases = cap;
        }
        l = &g_hd.leases[g_hd.nleases++];
        l->client = hd_strdup(client);
    }
    l->renewed_ms = now;
}

bool hd_lease_alive(const char *client) {
    hd_lease *l = lease_find(client);
    return l && hd_now_ms() - l->renewed_ms < 60u * 1000u; /* soft limit 60 s */
}

/* ---------------------------------------------------------------- snapshot */

static void put_hex(FILE *f, const char *s) {
    if (!s) {
        fputc('-', f);
        return;
    }
    fputc('x', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fprintf(f, "%02x", *p);
}

static char *get_hex(const char *tok) {
    if (!strcmp(tok, "-")) return NULL;
    if (tok[0] != 'x') return NULL;
    size_t n = strlen(tok + 1) / 2;
    char *s = cav_malloc(n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(tok + 1 + 2 * i, "%2x", &v) != 1) v = '?';
        s[i] = (char)v;
    }
    s[n] = 0;
    return s;
}

static void save_tree(FILE *f, const hd_inode *n) {
    fprintf(f, "I %llu %llu %d %o %llu %llu %u %llu ", (unsigned long long)n->id,
            (unsigned long long)(n->parent ? n->parent->id : 0), n->type, n->perm,
            (unsigned long long)n->mtime, (unsigned long long)n->atime, n->repl,
            (unsigned long long)n->bsize);
    put_hex(f, n->name);
    fputc(' ', f);
    put_hex(f, n->owner);
    fputc(' ', f);
    put_hex(f, n->group);
    fputc(' ', f);
    put_hex(f, n->holder);
    fputc('\n', f);
    for (size_t i = 0; i < n->nblocks; i++)
        fprintf(f, "B %llu %llu %llu\n", (unsigned long long)n->blocks[i].id,
                (unsigned long long)n->blocks[i].gs, (unsigned long long)n->blocks[i].len);
    for (size_t i = 0; i < n->nkids; i++)
        save_tree(f, n->kids[i]);
}

int hd_ns_save(void) {
    char tmp[4200], fin[4200];
    snprintf(tmp, sizeof tmp, "%s/namespace.img.tmp", g_hd.data_dir);
    snprintf(fin, sizeof fin, "%s/namespace.img", g_hd.data_dir);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "hdfsd-namespace 1 %llu %llu %llu\n", (unsigned long long)g_hd.next_inode,
            (unsigned long long)g_hd.next_block, (unsigned long long)g_hd.next_gs);
    save_tree(f, g_hd.root);
    if (fflush(f) || ferror(f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    return rename(tmp, fin) ? -1 : 0;
}

static int load(FILE *f) {
    char line[40000];
    unsigned long long a, b, c;
    if (!fgets(line, sizeof line, f) ||
        sscanf(line, "hdfsd-namespace 1 %llu %llu %llu", &a, &b, &c) != 3)
        return -1;
    g_hd.next_inode = a;
    g_hd.next_block = b;
    g_hd.next_gs = c;
    hd_inode *stack[4096];
    int depth = 0;
    hd_inode *last = NULL;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == 'B') {
            unsigned long long id, gs, len;
            if (!last || sscanf(line, "B %llu %llu %llu", &id, &gs, &len) != 3) return -1;
            if (!hd_ns_block_add(last, id, gs)) return -1;
            last->blocks[last->nblocks - 1].len = len;
            continue;
        }
        unsigned long long id, pid, mt, at, bs;
        int type;
        unsigned perm, repl;
        char name[20000], owner[300], group[300], holder[2000];
        if (sscanf(line, "I %llu %llu %d %o %llu %llu %u %llu %19999s %299s %299s %1999s", &id,
                   &pid, &type, &perm, &mt, &at, &repl, &bs, name, owner, group, holder) != 12)
            return -1;
        hd_inode *n = cav_calloc(1, sizeof *n);
        if (!n) return -1;
        n->id = id;
        n->type = type;
        n->perm = perm;
        n->mtime = mt;
        n->atime = at;
        n->repl = repl;
        n->bsize = bs;
        n->name = get_hex(name);
        if (!n->name) n->name = hd_strdup("");
        n->owner = get_hex(owner);
        n->group = get_hex(group);
        if (!n->owner) n->owner = hd_strdup("");
        if (!n->group) n->group = hd_strdup("");
        n->holder = get_hex(holder);
        g_hd.ninodes++;
        if (pid == 0) {
            if (g_hd.root) {
                hd_ns_free_tree(n, false);
                return -1;
            }
            g_hd.root = n;
            depth = 0;
            stack[depth++] = n;
        } else {
            while (depth > 0 && stack[depth - 1]->id != pid)
                depth--;
            if (depth == 0 || depth >= (int)CAV_ARRAY_LEN(stack)) {
                hd_ns_free_tree(n, false);
                return -1;
            }
            hd_ns_attach(stack[depth - 1], n, n->name);
            stack[depth++] = n;
        }
        last = n;
    }
    return g_hd.root ? 0 : -1;
}

int hd_ns_open(void) {
    char p[4200];
    snprintf(p, sizeof p, "%s/namespace.img", g_hd.data_dir);
    FILE *f = fopen(p, "r");
    if (f) {
        int r = load(f);
        fclose(f);
        if (r) {
            fprintf(stderr, "hdfsd: %s is damaged\n", p);
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) return -1;
    /* format: "/" owned by the superuser (0755) and a world-writable sticky /tmp */
    g_hd.next_inode = HD_ROOT_ID;
    g_hd.next_block = 1073741825ull;
    g_hd.next_gs = 1001;
    g_hd.root = hd_ns_new_inode(NULL, "", 1, 0755, g_hd.superuser, g_hd.supergroup);
    if (!g_hd.root) return -1;
    if (!hd_ns_new_inode(g_hd.root, "tmp", 1, 01777, g_hd.superuser, g_hd.supergroup)) return -1;
    return hd_ns_save();
}

void hd_ns_free(void) {
    hd_ns_free_tree(g_hd.root, false);
    g_hd.root = NULL;
    for (size_t i = 0; i < g_hd.nleases; i++)
        cav_free(g_hd.leases[i].client);
    cav_free(g_hd.leases);
    g_hd.leases = NULL;
    g_hd.nleases = g_hd.capleases = 0;
}

int64_t hd_replica_len(int dn, uint64_t blk) {
    char buf[4200];
    struct stat st;
    if (stat(hd_replica_path(dn, blk, false, false, buf, sizeof buf), &st)) return -1;
    return (int64_t)st.st_size;
}
