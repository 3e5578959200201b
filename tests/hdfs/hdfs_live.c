/*
 * hdfs_live.c — library-level checks against a running csvavro-hdfsd (driven by
 * hdfs_multiblock.sh): usage `hdfs_live URL LOCAL_COPY NBLOCKS BLOCKSIZE REPLICATION`.
 *   - csvavro_fs_blocks: block count, offsets, lengths, replica host names;
 *   - one csvavro_fs shared by 4 threads, each with its own file handle doing random preads
 *     (unaligned, crossing blocks) compared with the local copy;
 *   - sequential 4 MiB preads (the split reader's pattern) and a pread past the end;
 *   - a slow write (several seconds with CSVAVRO_HDFS_LEASE_RENEW_MS small) that completes;
 *   - with --idle: ranged reads on reused DataNode connections, and after one timed out.
 */
#include "csvavro.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
#define EXPECT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c);                        \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static csvavro_fs *fs;
static char *path;
static uint8_t *local;
static long local_len;

static void report(const char *what, const csvavro_error *e) {
    char b[2048];
    csvavro_error_format(e, b, sizeof b);
    fprintf(stderr, "%s: %s\n", what, b);
    failures++;
}

static void *reader(void *arg) {
    uint64_t s = (uint64_t)(uintptr_t)arg * 7919 + 1;
    csvavro_file *f;
    csvavro_error e;
    csvavro_error_clear(&e);
    if (csvavro_fs_open_read(fs, path, &f, &e) != CSVAVRO_OK) {
        report("open", &e);
        return NULL;
    }
    uint8_t *buf = malloc(3 << 20);
    for (int i = 0; i < 25; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        long off = (long)((s >> 17) % (uint64_t)local_len);
        size_t len = (size_t)((s >> 40) % (3u << 20));
        size_t got = 0;
        if (csvavro_file_pread(f, buf, len, off, &got, &e) != CSVAVRO_OK) {
            report("pread", &e);
            break;
        }
        size_t want = (size_t)(local_len - off) < len ? (size_t)(local_len - off) : len;
        EXPECT(got == want);
        EXPECT(memcmp(buf, local + off, got) == 0);
    }
    free(buf);
    csvavro_file_close(f, &e);
    return NULL;
}

/* A writer thread: its own file, 2.5 MB in odd-sized writes, then read back and compared. */
static void *writer(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    char wpath[4200];
    snprintf(wpath, sizeof wpath, "%s.w%u", path, (unsigned)id);
    size_t total = 2500000 < (size_t)local_len ? 2500000 : (size_t)local_len;
    csvavro_file *f;
    csvavro_error e;
    csvavro_error_clear(&e);
    if (csvavro_fs_create(fs, wpath, 1, &f, &e) != CSVAVRO_OK) {
        report("create (thread)", &e);
        return NULL;
    }
    for (size_t off = 0; off < total;) {
        size_t n = 7777 * (id + 1);
        if (n > total - off) n = total - off;
        if (csvavro_file_write(f, local + off, n, &e) != CSVAVRO_OK) {
            report("write (thread)", &e);
            csvavro_file_abort(f);
            return NULL;
        }
        off += n;
    }
    if (csvavro_file_close(f, &e) != CSVAVRO_OK) {
        report("close (thread)", &e);
        return NULL;
    }
    if (csvavro_fs_open_read(fs, wpath, &f, &e) != CSVAVRO_OK) {
        report("reopen (thread)", &e);
        return NULL;
    }
    uint8_t *buf = malloc(total);
    size_t got = 0;
    EXPECT(csvavro_file_pread(f, buf, total, 0, &got, &e) == CSVAVRO_OK && got == total);
    EXPECT(memcmp(buf, local, total) == 0);
    free(buf);
    csvavro_file_close(f, &e);
    return NULL;
}

/* `hdfs_live --stale-token URL LOCAL SECONDS`: opens the file (block locations and tokens are
 * fetched), waits past the server's block-token lifetime, then reads it all: the DataNode refuses
 * the expired tokens and the client must fetch new ones and succeed. */
static int stale_token(char **argv) {
    csvavro_error e;
    csvavro_error_clear(&e);
    FILE *lf = fopen(argv[3], "rb");
    if (!lf) return 2;
    uint8_t *want = malloc(4u << 20), *got = malloc(4u << 20);
    size_t wl = fread(want, 1, 4u << 20, lf), n = 0;
    fclose(lf);
    csvavro_file *f = NULL;
    if (csvavro_fs_open_url(argv[2], &fs, &path, &e) != CSVAVRO_OK ||
        csvavro_fs_open_read(fs, path, &f, &e) != CSVAVRO_OK) {
        report("open", &e);
        return 1;
    }
    sleep((unsigned)atoi(argv[4]));
    if (csvavro_file_pread(f, got, 4u << 20, 0, &n, &e) != CSVAVRO_OK) report("pread", &e);
    EXPECT(n == wl && memcmp(got, want, wl) == 0);
    csvavro_file_close(f, &e);
    csvavro_fs_close(fs);
    free(path);
    free(want);
    free(got);
    if (!failures) printf("ok: a read after the block tokens expired fetched new ones\n");
    return failures ? 1 : 0;
}

/* One pread compared with the local copy. */
static void pread_check(csvavro_file *f, const uint8_t *want, long want_len, long off, size_t len) {
    uint8_t *buf = malloc(len ? len : 1);
    size_t got = 0;
    csvavro_error e;
    csvavro_error_clear(&e);
    if (csvavro_file_pread(f, buf, len, off, &got, &e) != CSVAVRO_OK) {
        report("pread", &e);
    } else {
        size_t exp = off >= want_len                  ? 0
                     : (size_t)(want_len - off) < len ? (size_t)(want_len - off)
                                                      : len;
        EXPECT(got == exp);
        EXPECT(got == 0 || memcmp(buf, want + off, got) == 0);
    }
    free(buf);
}

/* `hdfs_live --idle URL LOCAL`: the ranges a split reader asks for (small reads at chunk edges,
 * a sequential continuation, a jump back), each request sent on the connection the previous
 * range left idle; then a pause past the DataNode's keep-alive (4 s) and reads again: the idle
 * connection was closed by the DataNode and the request must go out on a new one. Run with one
 * live DataNode: failing over elsewhere would hide a client that gave up on the closed one. */
static int idle(char **argv) {
    csvavro_error e;
    csvavro_error_clear(&e);
    FILE *lf = fopen(argv[3], "rb");
    if (!lf) return 2;
    fseek(lf, 0, SEEK_END);
    long n = ftell(lf);
    rewind(lf);
    uint8_t *want = malloc((size_t)n);
    if (fread(want, 1, (size_t)n, lf) != (size_t)n) return 2;
    fclose(lf);
    csvavro_file *f = NULL;
    if (csvavro_fs_open_url(argv[2], &fs, &path, &e) != CSVAVRO_OK ||
        csvavro_fs_open_read(fs, path, &f, &e) != CSVAVRO_OK) {
        report("open", &e);
        return 1;
    }
    static const long offs[][2] = {
        {0, 8},           {511, 2},     {513, 1000}, {1513, 300000},   {301513, 1},
        {301514, 900000}, {1048575, 2}, {50, 10},    {1048577, 70000}, {2097151, 1048578}};
    for (size_t i = 0; i < sizeof offs / sizeof *offs; i++)
        pread_check(f, want, n, offs[i][0], (size_t)offs[i][1]);
    sleep(5);
    pread_check(f, want, n, 3000000, 100);     /* a new range, the idle connection is gone */
    pread_check(f, want, n, 3000100, 2000000); /* and on */
    csvavro_file_close(f, &e);
    csvavro_fs_close(fs);
    free(path);
    free(want);
    if (!failures) printf("ok: ranges on reused connections, and after the DataNode closed one\n");
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--stale-token")) return stale_token(argv);
    if (argc == 4 && !strcmp(argv[1], "--idle")) return idle(argv);
    if (argc != 6) {
        fprintf(stderr, "usage: hdfs_live URL LOCAL NBLOCKS BLOCKSIZE REPLICATION\n");
        return 2;
    }
    long nblocks = atol(argv[3]), bsize = atol(argv[4]), repl = atol(argv[5]);
    FILE *lf = fopen(argv[2], "rb");
    if (!lf) return 2;
    fseek(lf, 0, SEEK_END);
    local_len = ftell(lf);
    rewind(lf);
    local = malloc((size_t)local_len);
    if (fread(local, 1, (size_t)local_len, lf) != (size_t)local_len) return 2;
    fclose(lf);
    csvavro_error e;
    csvavro_error_clear(&e);
    if (csvavro_fs_open_url(argv[1], &fs, &path, &e) != CSVAVRO_OK) {
        report("open_url", &e);
        return 1;
    }
    /* content summary of the file (this call also pulls the HDFS backend out of the static
     * library: io refers to it only weakly) */
    int64_t len, files, dirs;
    EXPECT(csvavro_fs_content_summary(fs, path, &len, &files, &dirs, &e) == CSVAVRO_OK);
    EXPECT(len == local_len && files == 1 && dirs == 0);
    /* blocks and replica hosts */
    csvavro_block *bl;
    size_t nb;
    if (csvavro_fs_blocks(fs, path, &bl, &nb, &e) != CSVAVRO_OK) {
        report("blocks", &e);
    } else {
        EXPECT((long)nb == nblocks);
        for (size_t i = 0; i < nb; i++) {
            EXPECT(bl[i].offset == (int64_t)i * bsize);
            EXPECT(bl[i].length == (i + 1 < nb ? bsize : local_len - (long)i * bsize));
            EXPECT(bl[i].n_hosts == repl);
            for (int h = 0; h < bl[i].n_hosts; h++)
                EXPECT(bl[i].hosts[h][0] != '\0');
        }
        printf("blocks: %zu, block 0 on %d hosts (%s, ...)\n", nb, bl[0].n_hosts, bl[0].hosts[0]);
        free(bl);
    }
    /* threads sharing the fs */
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, reader, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("4 threads x 25 random preads: done\n");
    /* three writers at once on the shared fs */
    for (uintptr_t i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, writer, (void *)i);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    printf("3 concurrent writers: done\n");
    /* sequential 4 MiB preads */
    csvavro_file *f;
    if (csvavro_fs_open_read(fs, path, &f, &e) == CSVAVRO_OK) {
        uint8_t *buf = malloc(4 << 20);
        long off = 0;
        for (;;) {
            size_t got;
            if (csvavro_file_pread(f, buf, 4 << 20, off, &got, &e) != CSVAVRO_OK) {
                report("seq pread", &e);
                break;
            }
            if (!got) break;
            EXPECT(memcmp(buf, local + off, got) == 0);
            off += (long)got;
        }
        EXPECT(off == local_len);
        size_t got = 1;
        EXPECT(csvavro_file_pread(f, buf, 10, local_len + 5, &got, &e) == CSVAVRO_OK && got == 0);
        free(buf);
        csvavro_file_close(f, &e);
    } else {
        report("open seq", &e);
    }
    /* a slow write: the lease renewer runs meanwhile */
    char *wpath = malloc(strlen(path) + 8);
    sprintf(wpath, "%s.slow", path);
    if (csvavro_fs_create(fs, wpath, 1, &f, &e) == CSVAVRO_OK) {
        for (int i = 0; i < 12 && failures == 0; i++) {
            if (csvavro_file_write(f, local + i * 1000, 1000, &e) != CSVAVRO_OK)
                report("write", &e);
            usleep(100000);
        }
        if (csvavro_file_close(f, &e) != CSVAVRO_OK) report("close", &e);
        csvavro_stat st;
        EXPECT(csvavro_fs_stat(fs, wpath, &st, &e) == CSVAVRO_OK && st.size == 12000);
    } else {
        report("create", &e);
    }
    free(wpath);
    free(path);
    csvavro_fs_close(fs);
    free(local);
    printf("%s\n", failures ? "FAILED" : "all ok");
    return failures != 0;
}
