/*
 * memchr_count.c — the one-pass ceiling of bench/run.sh: counts the newlines of a file on one
 * core, streaming it through one reused 4 MiB buffer with read(2) and memchr(3).
 *
 *   memchr_count FILE     prints the number of '\n' bytes
 *
 * Nothing is parsed: any CSV tool has to at least look at every byte once, so this is the
 * speed no single-threaded one-pass converter can beat on this machine (with the file in the
 * page cache: the cost is the copy out of the cache plus the byte search).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BUF_SIZE = 4 << 20 };

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: memchr_count FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "memchr_count: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char *buf = malloc(BUF_SIZE);
    if (!buf) {
        fprintf(stderr, "memchr_count: out of memory\n");
        close(fd);
        return 1;
    }
    unsigned long long lines = 0;
    for (;;) {
        ssize_t n = read(fd, buf, BUF_SIZE);
        if (n < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "memchr_count: %s: %s\n", argv[1], strerror(errno));
            free(buf);
            close(fd);
            return 1;
        }
        if (n == 0) break;
        const char *p = buf, *end = buf + n;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lines++;
            p++;
        }
    }
    free(buf);
    close(fd);
    printf("%llu\n", lines);
    return 0;
}
