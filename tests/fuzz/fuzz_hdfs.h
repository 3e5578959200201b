/*
 * fuzz_hdfs.h — serving recorded (and then fuzzed) server bytes to the HDFS client.
 *
 * The input after the target's option bytes is a list of segments, each BE u16 length + bytes:
 * segment i is everything "the server" sends on the i-th connection the client opens
 * (NameNode first, then DataNodes, retries included). cav_hdfs_connect_hook hands the client
 * one end of a socketpair whose other end already holds the segment and is shut for writing
 * (so the client reads the bytes, then EOF); what the client sends is left unread. A
 * connection past the last segment is refused.
 *
 * Seeds are recorded from csvavro-hdfsd: with FUZZ_HDFS_CAPTURE=127.0.0.1:PORT (its NameNode)
 * and FUZZ_HDFS_CAPTURE_OUT=FILE the hook connects for real (nn:8020 -> that address, DataNodes
 * as the NameNode names them), relays both ways on a thread per connection, and the target
 * writes FILE = its option bytes + the recorded server->client segments.
 */
#ifndef CAV_FUZZ_HDFS_H
#define CAV_FUZZ_HDFS_H

#include "fuzz_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define FZH_MAX_SEG 8

static struct {
    const uint8_t *seg[FZH_MAX_SEG];
    size_t seg_len[FZH_MAX_SEG];
    size_t n_seg, next;
    int peer[FZH_MAX_SEG]; /* our ends, closed after the iteration */
    /* capture mode */
    const char *capture;
    cav_buf rec[FZH_MAX_SEG];
    pthread_t relay[FZH_MAX_SEG];
    int relay_fd[FZH_MAX_SEG][2]; /* [0] our socketpair end, [1] the real server */
} fzh;

static int fzh_replay_hook(const char *hostport) {
    (void)hostport;
    if (fzh.next >= fzh.n_seg) return -1;
    size_t i = fzh.next++;
    return fz_sock_holding(fzh.seg[i], fzh.seg_len[i], &fzh.peer[i]);
}

static int fzh_tcp_connect(const char *hostport) {
    char host[256];
    const char *c = strrchr(hostport, ':');
    if (!c || (size_t)(c - hostport) >= sizeof host) return -1;
    memcpy(host, hostport, (size_t)(c - hostport));
    host[c - hostport] = '\0';
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, c + 1, &hints, &res) != 0) return -1;
    int fd = socket(res->ai_family, res->ai_socktype, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void *fzh_relay_main(void *arg) {
    size_t i = (size_t)arg;
    int a = fzh.relay_fd[i][0], b = fzh.relay_fd[i][1];
    uint8_t buf[65536];
    for (;;) {
        struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
        if (poll(p, 2, 5000) <= 0) break;
        if (p[0].revents) {
            ssize_t n = read(a, buf, sizeof buf);
            if (n <= 0 || write(b, buf, (size_t)n) != n) break;
        }
        if (p[1].revents) {
            ssize_t n = read(b, buf, sizeof buf);
            if (n <= 0) break;
            cav_buf_append(&fzh.rec[i], buf, (size_t)n, NULL);
            if (write(a, buf, (size_t)n) != n) break;
        }
    }
    close(b);
    shutdown(a, SHUT_RDWR);
    return NULL;
}

static int fzh_capture_hook(const char *hostport) {
    if (fzh.next >= FZH_MAX_SEG) return -1;
    const char *real = strcmp(hostport, "nn:8020") == 0 ? fzh.capture : hostport;
    int fd = fzh_tcp_connect(real);
    if (fd < 0) return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) abort();
    size_t i = fzh.next++;
    cav_buf_init(&fzh.rec[i], 0);
    fzh.relay_fd[i][0] = sv[1];
    fzh.relay_fd[i][1] = fd;
    pthread_create(&fzh.relay[i], NULL, fzh_relay_main, (void *)i);
    return sv[0];
}

/* Sets the environment (once) and the segments of this input; returns false if malformed. */
static bool fzh_begin(const uint8_t *p, size_t n) {
    static bool env;
    if (!env) {
        env = true;
        unsetenv("HADOOP_CONF_DIR");
        unsetenv("HADOOP_HOME");
        unsetenv("HADOOP_NAMENODE");
        setenv("HADOOP_USER_NAME", "fuzz", 1);
        setenv("CSVAVRO_HDFS_RETRIES", "1", 1);
        setenv("CSVAVRO_HDFS_BACKOFF_MS", "0", 1);
        setenv("CSVAVRO_HDFS_BACKOFF_MAX_MS", "0", 1);
        setenv("CSVAVRO_HDFS_TIMEOUT_MS", "3000", 1);
        setenv("CSVAVRO_HDFS_CONNECT_TIMEOUT_MS", "3000", 1);
        fzh.capture = getenv("FUZZ_HDFS_CAPTURE");
    }
    memset(fzh.seg, 0, sizeof fzh.seg);
    fzh.n_seg = fzh.next = 0;
    for (size_t i = 0; i < FZH_MAX_SEG; i++)
        fzh.peer[i] = -1;
    if (fzh.capture) {
        cav_hdfs_connect_hook = fzh_capture_hook;
        return true;
    }
    while (n >= 2 && fzh.n_seg < FZH_MAX_SEG) {
        size_t l = ((size_t)p[0] << 8) | p[1];
        p += 2, n -= 2;
        l = CAV_MIN(l, n);
        fzh.seg[fzh.n_seg] = p;
        fzh.seg_len[fzh.n_seg++] = l;
        p += l, n -= l;
    }
    cav_hdfs_connect_hook = fzh_replay_hook;
    return true;
}

/* Every status a client call may return is a known one, and a failure carries a message. */
static void fzh_check_status(csvavro_status st, const csvavro_error *err, const char *what) {
    FUZZ_CHECK(st >= CSVAVRO_OK && st <= CSVAVRO_E_CONNECT, "%s: status %d", what, st);
    if (st != CSVAVRO_OK) FUZZ_CHECK(err->message[0], "%s: status %d without message", what, st);
}

/* The client under test: a NameNode address the replay hook answers for (after fzh_begin). */
static csvavro_fs *fzh_open_fs(void) {
    csvavro_fs *fs = NULL;
    char *path = NULL;
    csvavro_error err;
    csvavro_status st = csvavro_fs_open_url("hdfs://nn:8020/", &fs, &path, &err);
    FUZZ_CHECK(st == CSVAVRO_OK, "open_url: %s", err.message);
    free(path);
    return fs;
}

/* After the client is closed: closes our socket ends; in capture mode joins the relays and
 * writes FUZZ_HDFS_CAPTURE_OUT (opts = the target's option bytes). */
static void fzh_end(const uint8_t *opts, size_t n_opts) {
    if (!fzh.capture) {
        for (size_t i = 0; i < FZH_MAX_SEG; i++)
            if (fzh.peer[i] >= 0) close(fzh.peer[i]);
        return;
    }
    const char *outp = getenv("FUZZ_HDFS_CAPTURE_OUT");
    FILE *o = outp ? fopen(outp, "wb") : NULL;
    if (o) fwrite(opts, 1, n_opts, o);
    for (size_t i = 0; i < fzh.next; i++) {
        pthread_join(fzh.relay[i], NULL);
        close(fzh.relay_fd[i][0]);
        size_t l = CAV_MIN(fzh.rec[i].len, (size_t)65535);
        uint8_t h[2] = {(uint8_t)(l >> 8), (uint8_t)l};
        if (o) fwrite(h, 1, 2, o), fwrite(fzh.rec[i].data, 1, l, o);
        fprintf(stderr, "capture: connection %zu: %zu bytes from the server\n", i, fzh.rec[i].len);
        cav_buf_free(&fzh.rec[i]);
    }
    if (o) fclose(o);
}

#endif /* CAV_FUZZ_HDFS_H */
