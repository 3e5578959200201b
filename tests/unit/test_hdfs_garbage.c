/*
 * test_hdfs_garbage.c — the NameNode RPC client against a tiny fake server (a thread on a
 * loopback socket) that answers every call with junk: random bytes, a huge frame length, a
 * truncated frame, a frame whose header length overruns it, an undecodable header, a wrong
 * callId, an ERROR with a Java exception, a FATAL, and silence (timeout). Each must give a
 * clean error (right status, no crash, no leak under ASan), and a NameNode that is down must
 * fail after the bounded retries.
 */
#include "check.h"
#include "hdfs/hdfs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fake {
    int lfd;
    int port;
    int mode;
    volatile int stop;
} fake;

static void put_varint(uint8_t **p, uint64_t v) {
    *p += cav_varint_put(*p, v);
}

/* A response header: callId, status, optional exception class + message. */
static size_t resp_header(uint8_t *out, uint32_t call_id, int status, const char *cls,
                          const char *msg) {
    uint8_t h[512], *q = h;
    *q++ = 0x08;
    put_varint(&q, call_id);
    *q++ = 0x10;
    put_varint(&q, (uint64_t)status);
    if (cls) {
        *q++ = 0x22;
        put_varint(&q, strlen(cls));
        memcpy(q, cls, strlen(cls));
        q += strlen(cls);
        *q++ = 0x2A;
        put_varint(&q, strlen(msg));
        memcpy(q, msg, strlen(msg));
        q += strlen(msg);
    }
    size_t hl = (size_t)(q - h);
    uint8_t *o = out;
    put_varint(&o, hl);
    memcpy(o, h, hl);
    return (size_t)(o - out) + hl;
}

static void serve_one(fake *f, int c) {
    uint8_t buf[65536];
    /* preamble (7) + context frame */
    if (recv(c, buf, 7, MSG_WAITALL) != 7) return;
    uint8_t lb[4];
    if (recv(c, lb, 4, MSG_WAITALL) != 4) return;
    uint32_t n = cav_be32_get(lb);
    if (n > sizeof buf || recv(c, buf, n, MSG_WAITALL) != (ssize_t)n) return;
    /* the call */
    if (recv(c, lb, 4, MSG_WAITALL) != 4) return;
    n = cav_be32_get(lb);
    if (n > sizeof buf || recv(c, buf, n, MSG_WAITALL) != (ssize_t)n) return;
    /* callId is field 3 (zigzag) of the first delimited message; the client's first call is 0 */
    uint8_t out[4096];
    size_t k = 4;
    switch (f->mode) {
    case 0: { /* random bytes */
        uint64_t s = 99;
        for (int i = 0; i < 300; i++)
            out[i] = (uint8_t)cav_splitmix64(&s);
        send(c, out, 300, MSG_NOSIGNAL);
        return;
    }
    case 1: /* frame length 1 GiB */
        cav_be32_put(out, 1u << 30);
        send(c, out, 4, MSG_NOSIGNAL);
        return;
    case 2: /* truncated frame, then close */
        cav_be32_put(out, 100);
        memset(out + 4, 0, 10);
        send(c, out, 14, MSG_NOSIGNAL);
        return;
    case 3: /* header length overruns the frame */
        cav_be32_put(out, 3);
        out[4] = 0x7F, out[5] = 0x08, out[6] = 0;
        send(c, out, 7, MSG_NOSIGNAL);
        return;
    case 4: /* undecodable header (wire type 7) */
        cav_be32_put(out, 3);
        out[4] = 2, out[5] = 0x0F, out[6] = 0;
        send(c, out, 7, MSG_NOSIGNAL);
        return;
    case 5: /* wrong callId */
        k += resp_header(out + 4, 12345, 0, NULL, NULL);
        out[k++] = 0;
        break;
    case 6: /* ERROR with a Java exception */
        k += resp_header(out + 4, 0, 1, "org.apache.hadoop.security.AccessControlException",
                         "Permission denied: user=bob\n\tat org.apache.Foo(Foo.java:1)");
        break;
    case 7: /* FATAL */
        k += resp_header(out + 4, 0, 2, "org.apache.hadoop.ipc.RpcServerException",
                         "Unknown rpc kind");
        break;
    case 8: /* silence until the client gives up */
        while (!f->stop)
            usleep(10000);
        return;
    case 9: /* SUCCESS whose body overruns the frame */
        k += resp_header(out + 4, 0, 0, NULL, NULL);
        out[k++] = 0x50;
        out[k++] = 0x0A;
        break;
    }
    cav_be32_put(out, (uint32_t)(k - 4));
    send(c, out, k, MSG_NOSIGNAL);
    /* keep the connection until the client closes it */
    while (recv(c, buf, sizeof buf, 0) > 0) {
    }
}

static void *server(void *arg) {
    fake *f = arg;
    while (!f->stop) {
        int c = accept(f->lfd, NULL, NULL);
        if (c < 0) break;
        serve_one(f, c);
        close(c);
    }
    return NULL;
}

static csvavro_status stat_via(int port, csvavro_error *e) {
    char auth[64];
    snprintf(auth, sizeof auth, "127.0.0.1:%d", port);
    csvavro_fs *fs = NULL;
    csvavro_status s = cav_hdfs_fs_create(auth, &fs, e);
    if (s != CSVAVRO_OK) return s;
    csvavro_stat st;
    s = csvavro_fs_stat(fs, "/x", &st, e);
    csvavro_fs_close(fs);
    return s;
}

int main(void) {
    setenv("CSVAVRO_HDFS_RETRIES", "2", 1);
    setenv("CSVAVRO_HDFS_BACKOFF_MS", "20", 1);
    setenv("CSVAVRO_HDFS_TIMEOUT_MS", "400", 1);
    setenv("HADOOP_USER_NAME", "tester", 1);
    const csvavro_status want[] = {CSVAVRO_E_PROTOCOL,   CSVAVRO_E_PROTOCOL, CSVAVRO_E_IO,
                                   CSVAVRO_E_PROTOCOL,   CSVAVRO_E_PROTOCOL, CSVAVRO_E_PROTOCOL,
                                   CSVAVRO_E_PERMISSION, CSVAVRO_E_REMOTE,   CSVAVRO_E_TIMEOUT,
                                   CSVAVRO_E_PROTOCOL};
    for (int mode = 0; mode < 10; mode++) {
        fake f = {.mode = mode};
        f.lfd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        CHECK(bind(f.lfd, (struct sockaddr *)&a, sizeof a) == 0);
        socklen_t al = sizeof a;
        getsockname(f.lfd, (struct sockaddr *)&a, &al);
        f.port = ntohs(a.sin_port);
        listen(f.lfd, 8);
        pthread_t t;
        pthread_create(&t, NULL, server, &f);
        csvavro_error e;
        csvavro_error_clear(&e);
        csvavro_status s = stat_via(f.port, &e);
        fprintf(stderr, "mode %d: %s: %s\n", mode, csvavro_status_name(s), e.message);
        CHECK_INT(s, want[mode]);
        if (mode == 6) CHECK_STR(e.message, "AccessControlException: Permission denied: user=bob");
        f.stop = 1;
        shutdown(f.lfd, SHUT_RDWR);
        close(f.lfd);
        pthread_join(t, NULL);
    }
    /* NameNode down: a closed port, bounded retries, clear message */
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bind(fd, (struct sockaddr *)&a, sizeof a);
        socklen_t al = sizeof a;
        getsockname(fd, (struct sockaddr *)&a, &al);
        int port = ntohs(a.sin_port);
        close(fd);
        csvavro_error e;
        csvavro_error_clear(&e);
        csvavro_status s = stat_via(port, &e);
        fprintf(stderr, "down: %s: %s\n", csvavro_status_name(s), e.message);
        CHECK_INT(s, CSVAVRO_E_CONNECT);
        CHECK(strstr(e.message, "after 3 attempts") != NULL);
    }
    printf("%d checks, %d failures\n", check_count, check_failures);
    return check_failures != 0;
}
