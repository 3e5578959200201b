/*
 * fuzz_hdfsd_image.c — csvavro-hdfsd's namespace image loader (tools/hdfsd/hdfsd_ns.c): the file
 * DATA/namespace.img that the server reads at startup.
 *
 * Input: the image bytes, as they would be on disk.
 * Oracle: no crash, leak or sanitizer report; a refused image has a "line N: ..." reason; an
 * accepted image is a fixed point after one save: save → load → save gives the same bytes
 * (every value the loader accepts survives the round trip), and the loaded tree keeps the
 * invariants the server relies on (children sorted and unique, parents linked, names within
 * the rules of hdfsd.h).
 */
#include "fuzz_util.h"
#include "hdfsd.h"

hd_server g_hd; /* the server's state; only the namespace part is used here */

static void check_tree(const hd_inode *n, int depth) {
    FUZZ_CHECK(depth <= HD_MAX_DEPTH, "depth %d", depth);
    if (n->parent) {
        FUZZ_CHECK(hd_check_component(n->name, strlen(n->name)) == NULL, "name");
        FUZZ_CHECK(n->parent->type == 1, "parent is a directory");
    }
    FUZZ_CHECK(hd_check_principal(n->owner) == NULL && hd_check_principal(n->group) == NULL,
               "owner/group");
    FUZZ_CHECK(n->perm <= 07777, "perm %o", n->perm);
    FUZZ_CHECK(n->nkids <= HD_MAX_DIR_ITEMS, "items");
    for (size_t i = 0; i < n->nkids; i++) {
        FUZZ_CHECK(n->kids[i]->parent == n, "parent link");
        if (i) FUZZ_CHECK(strcmp(n->kids[i - 1]->name, n->kids[i]->name) < 0, "sorted, unique");
        check_tree(n->kids[i], depth + 1);
    }
}

/* Saves the current namespace into a malloc'd buffer. */
static char *save_mem(size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    FUZZ_CHECK(f != NULL, "open_memstream");
    FUZZ_CHECK(hd_ns_save_stream(f) == 0, "save");
    fclose(f);
    return buf;
}

static int load_mem(const char *p, size_t n, char *err, size_t cap) {
    FILE *f = fmemopen((void *)p, n, "r");
    FUZZ_CHECK(f != NULL, "fmemopen");
    int rc = hd_ns_load_stream(f, err, cap);
    fclose(f);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > (1u << 20)) return 0; /* fmemopen needs a non-empty buffer */
    char err[512] = "";
    if (load_mem((const char *)data, size, err, sizeof err)) {
        FUZZ_CHECK(!strncmp(err, "line ", 5), "reason: %s", err);
        FUZZ_CHECK(g_hd.root == NULL && g_hd.ninodes == 0, "a refused image leaves nothing");
        return 0;
    }
    check_tree(g_hd.root, 0);
    size_t l1, l2;
    char *s1 = save_mem(&l1);
    hd_ns_free();
    FUZZ_CHECK(load_mem(s1, l1, err, sizeof err) == 0, "the saved image reloads: %s", err);
    char *s2 = save_mem(&l2);
    FUZZ_CHECK(l1 == l2 && !memcmp(s1, s2, l1), "save/load/save is a fixed point");
    free(s1);
    free(s2);
    hd_ns_free();
    return 0;
}
