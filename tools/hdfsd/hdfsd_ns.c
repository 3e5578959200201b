/*
 * hdfsd_ns.c — the NameNode's namespace: a tree of inodes (directories keep their children
 * sorted by byte-wise name, like HDFS), files' block lists, leases, and the snapshot that makes
 * it all survive a restart.
 *
 * Snapshot format (DATA/namespace.img, text, rewritten atomically via namespace.img.tmp +
 * rename on every mutation): a header line `hdfsd-namespace 1 <next_inode> <next_block>
 * <next_gs>`, then one `I` line per inode in pre-order (parent before children) and one `B`
 * line per block after its file. Strings are hex-encoded (`x` + two lowercase hex digits per
 * byte; `-` for no lease holder). The loader checks every field against the rules the RPCs
 * enforce (hdfsd.h), so an image the server saved always loads again, and a damaged one is an
 * error naming its line. All functions here run under g_hd.ns_lock.
 */
#include "hdfsd.h"
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
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
    n->xflags = parent ? parent->xflags : 0;
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
    if (path[0] != '/') {
        r->status = HD_INVALID;
        return;
    }
    hd_inode *cur = g_hd.root;
    hd_inode *parent = NULL;
    const char *p = path;
    bool missing = false;
    r->deepest = cur;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *why = hd_check_component(p, len);
        if (why && len <= HD_MAX_COMPONENT) {
            r->status = HD_INVALID;
            return;
        }
        r->depth++;
        p += len;
        if (len > HD_MAX_COMPONENT) r->too_long = true;
        if (missing) { /* an ancestor is missing (or a file); the rest must still be valid */
            if (r->status == 0) r->status = HD_NO_PARENT;
            continue;
        }
        if (cur->type != 1) {
            r->status = HD_PARENT_FILE;
            missing = true;
            continue;
        }
        size_t keep = len <= HD_MAX_COMPONENT ? len : HD_MAX_COMPONENT;
        memcpy(r->name, p - len, keep);
        r->name[keep] = 0;
        parent = cur;
        if (len > HD_MAX_COMPONENT) {
            missing = true;
            continue;
        }
        bool found;
        size_t i = hd_ns_child_index(cur, r->name, &found);
        if (found) {
            cur = cur->kids[i];
            r->deepest = cur;
        } else {
            missing = true;
        }
    }
    if (r->status) return; /* HD_NO_PARENT or HD_PARENT_FILE */
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

static int block_state(const hd_inode *n, uint64_t id) {
    if (n->type == 2) {
        for (size_t i = 0; i < n->nblocks; i++)
            if (n->blocks[i].id == id) return n->holder && i + 1 == n->nblocks ? 2 : 1;
        return 0;
    }
    for (size_t i = 0; i < n->nkids; i++) {
        int st = block_state(n->kids[i], id);
        if (st) return st;
    }
    return 0;
}

int hd_ns_block_state(uint64_t id) {
    return g_hd.root ? block_state(g_hd.root, id) : 0;
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

/* ---------------------------------------------------------------- name rules */

const char *hd_check_principal(const char *s) {
    size_t n = strlen(s);
    if (n == 0) return "is empty";
    if (n > HD_MAX_PRINCIPAL) return "is longer than 255 bytes";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) return "holds a control character";
        if (c == ':') return "holds ':'";
    }
    return NULL;
}

const char *hd_check_client_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0) return "is empty";
    if (n > HD_MAX_CLIENT_NAME) return "is longer than 1024 bytes";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return "holds a control character";
    return NULL;
}

const char *hd_check_component(const char *s, size_t len) {
    if (len == 0) return "is empty";
    if (len > HD_MAX_COMPONENT) return "is longer than 255 bytes";
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return "is \".\" or \"..\"";
    if (memchr(s, '/', len) || memchr(s, ':', len) || memchr(s, 0, len))
        return "holds '/', ':' or NUL";
    return NULL;
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

int hd_ns_save_stream(FILE *f) {
    fprintf(f, "hdfsd-namespace 1 %llu %llu %llu\n", (unsigned long long)g_hd.next_inode,
            (unsigned long long)g_hd.next_block, (unsigned long long)g_hd.next_gs);
    save_tree(f, g_hd.root);
    return fflush(f) || ferror(f) ? -1 : 0;
}

int hd_ns_save(void) {
    char tmp[4200], fin[4200];
    snprintf(tmp, sizeof tmp, "%s/namespace.img.tmp", g_hd.data_dir);
    snprintf(fin, sizeof fin, "%s/namespace.img", g_hd.data_dir);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    if (hd_ns_save_stream(f)) {
        fclose(f);
        return -1;
    }
    if (fclose(f)) return -1;
    return rename(tmp, fin) ? -1 : 0;
}

/* The loader reads lines of any length (getline) and checks every field: the names with the
 * rules the RPCs apply, numbers in range, the tree shape (pre-order, parents are directories,
 * names unique per directory, depth and directory size within HDFS's limits) and the counters
 * (every inode id, block id and generation stamp below the next one handed out, block ids
 * unique). Anything else is an error naming the line. */

typedef struct loader {
    char *err;
    size_t errcap;
    unsigned long long line;
    hd_inode **stack; /* the path from the root to the last inode */
    size_t depth, capstack;
    uint64_t *ids, *blks; /* for the uniqueness checks */
    size_t nids, capids, nblks, capblks;
} loader;

static int bad(loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(loader *L, const char *fmt, ...) {
    int k = snprintf(L->err, L->errcap, "line %llu: ", L->line);
    if (k >= 0 && (size_t)k < L->errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->err + k, L->errcap - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Next space-separated token of *p (the line has no '\n' left); NULL at the end. */
static char *token(char **p) {
    char *s = *p;
    if (!*s) return NULL;
    char *e = strchr(s, ' ');
    if (e) {
        *e = 0;
        *p = e + 1;
    } else {
        *p = s + strlen(s);
    }
    return s;
}

static bool num(const char *t, int base, uint64_t max, uint64_t *out) {
    if (!t || !*t || t[0] == '-' || t[0] == '+' || t[0] == ' ') return false;
    for (const char *c = t; *c; c++)
        if (!(base == 8 ? (*c >= '0' && *c <= '7') : (*c >= '0' && *c <= '9'))) return false;
    if (strlen(t) > 1 && t[0] == '0' && base == 10) return false; /* one spelling per value */
    errno = 0;
    unsigned long long v = strtoull(t, NULL, base);
    if (errno || v > max) return false;
    *out = v;
    return true;
}

/* "-" → *out NULL; "x" + hex pairs → the decoded string (no NUL inside). */
static bool unhex(const char *t, char **out) {
    *out = NULL;
    if (!t) return false;
    if (!strcmp(t, "-")) return true;
    if (t[0] != 'x') return false;
    size_t n = strlen(t + 1);
    if (n % 2) return false;
    char *s = cav_malloc(n / 2 + 1);
    if (!s) return false;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = t[1 + 2 * i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) {
                cav_free(s);
                return false;
            }
            v = v * 16 + d;
        }
        if (v == 0) {
            cav_free(s);
            return false;
        }
        s[i] = (char)v;
    }
    s[n / 2] = 0;
    *out = s;
    return true;
}

static bool push_u64(uint64_t **a, size_t *n, size_t *cap, uint64_t v) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        uint64_t *b = cav_realloc(*a, c * sizeof *b);
        if (!b) return false;
        *a = b;
        *cap = c;
    }
    (*a)[(*n)++] = v;
    return true;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool has_dup(uint64_t *a, size_t n, uint64_t *dup) {
    if (n < 2) return false;
    qsort(a, n, sizeof *a, cmp_u64);
    for (size_t i = 1; i < n; i++)
        if (a[i] == a[i - 1]) {
            *dup = a[i];
            return true;
        }
    return false;
}

static int load_block(loader *L, char *rest) {
    hd_inode *f = L->depth ? L->stack[L->depth - 1] : NULL;
    uint64_t id, gs, len;
    if (!f || f->type != 2) return bad(L, "a block line that does not follow a file");
    if (!num(token(&rest), 10, UINT64_MAX, &id) || !num(token(&rest), 10, UINT64_MAX, &gs) ||
        !num(token(&rest), 10, INT64_MAX, &len) || *rest)
        return bad(L, "a block line is not `B <id> <gs> <length>`");
    if (id >= g_hd.next_block || gs >= g_hd.next_gs)
        return bad(L, "block %llu (stamp %llu) is not below the header's next block/stamp",
                   (unsigned long long)id, (unsigned long long)gs);
    if (!push_u64(&L->blks, &L->nblks, &L->capblks, id) || !hd_ns_block_add(f, id, gs))
        return bad(L, "out of memory");
    f->blocks[f->nblocks - 1].len = len;
    return 0;
}

static int load_inode(loader *L, char *rest) {
    uint64_t id, pid, type, perm, mt, at, repl, bs;
    if (!num(token(&rest), 10, UINT64_MAX, &id) || !num(token(&rest), 10, UINT64_MAX, &pid) ||
        !num(token(&rest), 10, 2, &type) || type < 1 || !num(token(&rest), 8, 07777, &perm) ||
        !num(token(&rest), 10, UINT64_MAX, &mt) || !num(token(&rest), 10, UINT64_MAX, &at) ||
        !num(token(&rest), 10, HD_MAX_REPLICATION, &repl) || !num(token(&rest), 10, INT64_MAX, &bs))
        return bad(L, "an inode line does not start with `I <id> <parent> <type 1|2> <octal "
                      "mode> <mtime> <atime> <replication> <block size>`");
    char *name = NULL, *owner = NULL, *group = NULL, *holder = NULL;
    const char *why = NULL;
    bool ok = unhex(token(&rest), &name) && unhex(token(&rest), &owner) &&
              unhex(token(&rest), &group) && unhex(token(&rest), &holder) && !*rest && name &&
              owner && group;
    if (!ok) {
        why = "an inode line needs four more fields: name, owner, group (x + hex) and lease "
              "holder (x + hex, or -)";
    } else if ((pid == 0) != (L->depth == 0 && !g_hd.root)) {
        why = pid == 0 ? "a second root" : "the first inode is not the root (parent 0)";
    } else if (pid == 0 ? (*name != 0 || type != 1)
                        : hd_check_component(name, strlen(name)) != NULL) {
        why = pid == 0 ? "the root must be a directory named \"\"" : "a file name breaks the rules";
    } else if (hd_check_principal(owner) || hd_check_principal(group)) {
        why = "an owner or group name breaks the rules (1-255 bytes, no control character or "
              "':')";
    } else if (holder && (type != 2 || hd_check_client_name(holder))) {
        why = "a lease holder on a directory, or a lease holder name breaking the rules";
    } else if (id >= g_hd.next_inode || id == 0) {
        why = "an inode id that is 0 or not below the header's next inode id";
    }
    hd_inode *n = NULL;
    if (!why) {
        n = cav_calloc(1, sizeof *n);
        if (!n || !push_u64(&L->ids, &L->nids, &L->capids, id)) why = "out of memory";
    }
    if (why) {
        cav_free(n);
        cav_free(name);
        cav_free(owner);
        cav_free(group);
        cav_free(holder);
        return bad(L, "%s", why);
    }
    n->id = id;
    n->type = (int)type;
    n->perm = (uint32_t)perm;
    n->mtime = mt;
    n->atime = at;
    n->repl = (uint32_t)repl;
    n->bsize = bs;
    n->name = name;
    n->owner = owner;
    n->group = group;
    n->holder = holder;
    g_hd.ninodes++;
    if (pid == 0) {
        g_hd.root = n;
    } else {
        while (L->depth > 0 && L->stack[L->depth - 1]->id != pid)
            L->depth--;
        hd_inode *p = L->depth ? L->stack[L->depth - 1] : NULL;
        bool found = false;
        if (p && p->type == 1) hd_ns_child_index(p, n->name, &found);
        if (!p || p->type != 1 || found || p->nkids >= HD_MAX_DIR_ITEMS ||
            L->depth > HD_MAX_DEPTH) {
            hd_ns_free_tree(n, false);
            return bad(L, "%s",
                       !p                        ? "the parent is not an ancestor of this line"
                       : p->type != 1            ? "the parent is a file"
                       : found                   ? "a second entry of this name in its directory"
                       : L->depth > HD_MAX_DEPTH ? "deeper than 1000 levels"
                                                 : "more than 1048576 entries in one directory");
        }
        hd_ns_attach(p, n, n->name);
    }
    if (L->depth == L->capstack) {
        size_t c = L->capstack ? L->capstack * 2 : 64;
        hd_inode **s = cav_realloc(L->stack, c * sizeof *s);
        if (!s) return bad(L, "out of memory");
        L->stack = s;
        L->capstack = c;
    }
    L->stack[L->depth++] = n;
    return 0;
}

int hd_ns_load_stream(FILE *f, char *err, size_t errcap) {
    loader L = {.err = err, .errcap = errcap};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    hd_ns_free();
    g_hd.ninodes = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        L.line++;
        if (len == 0 || line[len - 1] != '\n') {
            rc = bad(&L, "the last line is cut (no newline)");
            break;
        }
        line[--len] = 0;
        if ((size_t)len != strlen(line)) {
            rc = bad(&L, "a NUL byte");
            break;
        }
        char *rest = line;
        char *kind = token(&rest);
        if (L.line == 1) {
            char *v = token(&rest);
            if (!kind || strcmp(kind, "hdfsd-namespace") || !v || strcmp(v, "1") ||
                !num(token(&rest), 10, UINT64_MAX, &g_hd.next_inode) ||
                !num(token(&rest), 10, UINT64_MAX, &g_hd.next_block) ||
                !num(token(&rest), 10, UINT64_MAX, &g_hd.next_gs) || *rest)
                rc = bad(&L, "not an hdfsd namespace image, version 1");
        } else if (kind && !strcmp(kind, "I")) {
            rc = load_inode(&L, rest);
        } else if (kind && !strcmp(kind, "B")) {
            rc = load_block(&L, rest);
        } else {
            rc = bad(&L, "neither an inode (I) nor a block (B) line");
        }
    }
    cav_free(line);
    if (rc == 0 && ferror(f)) rc = bad(&L, "read error");
    if (rc == 0 && !g_hd.root) rc = bad(&L, "no root directory");
    uint64_t dup;
    if (rc == 0 && has_dup(L.ids, L.nids, &dup))
        rc = bad(&L, "inode id %llu is used twice", (unsigned long long)dup);
    if (rc == 0 && has_dup(L.blks, L.nblks, &dup))
        rc = bad(&L, "block id %llu is used twice", (unsigned long long)dup);
    cav_free(L.stack);
    cav_free(L.ids);
    cav_free(L.blks);
    if (rc) hd_ns_free();
    return rc;
}

int hd_ns_open(void) {
    char p[4200];
    snprintf(p, sizeof p, "%s/namespace.img", g_hd.data_dir);
    FILE *f = fopen(p, "r");
    if (f) {
        char err[512];
        int r = hd_ns_load_stream(f, err, sizeof err);
        fclose(f);
        if (r) {
            fprintf(stderr, "hdfsd: %s is damaged: %s\n", p, err);
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        fprintf(stderr, "hdfsd: %s: %s\n", p, strerror(errno));
        return -1;
    }
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
    if (g_hd.root) hd_ns_free_tree(g_hd.root, false);
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
