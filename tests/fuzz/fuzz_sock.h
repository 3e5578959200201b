/*
 * fuzz_sock.h — the connection of the handshake and replay targets: one end of a socketpair
 * whose other end already holds the bytes "the peer" sends and is shut for writing, so the code
 * under test reads them, then EOF; what it writes is left unread (both ends buffer up to 1 MiB;
 * bytes past the buffer are cut).
 *
 * Header-only (static inline), like fuzz_util.h.
 */
#ifndef CAV_FUZZ_SOCK_H
#define CAV_FUZZ_SOCK_H

#include "fuzz_util.h"
#include "hdfs/hdfs.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Returns the end to read; *peer = the other end (the caller closes both). */
static inline int fz_sock_holding(const uint8_t *p, size_t n, int *peer) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) abort();
    int sz = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(sv[1], p + off, n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    *peer = sv[1];
    return sv[0];
}

/* The HDFS client's socket over such a connection to "peer_name" (1 s I/O timeout); close it
 * with cav_hdfs_sock_close, and *peer with close. */
static inline void fz_hdfs_sock_holding(cav_hdfs_sock *s, const uint8_t *p, size_t n,
                                        const char *peer_name, int *peer) {
    memset(s, 0, sizeof *s);
    s->fd = fz_sock_holding(p, n, peer);
    s->timeout_ms = 1000;
    snprintf(s->peer, sizeof s->peer, "%s", peer_name);
}

#endif /* CAV_FUZZ_SOCK_H */
