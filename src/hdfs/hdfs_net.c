/*
 * hdfs_net.c — TCP for the HDFS client: connect with a timeout (non-blocking connect + poll,
 * trying every address getaddrinfo returns), then blocking I/O bounded by poll() timeouts so
 * that a peer that stops talking becomes CSVAVRO_E_TIMEOUT, not a hang.
 *
 * Reads go through a 64 KiB buffer (small messages: acks, headers), but large reads that find
 * the buffer empty go straight into the caller's memory (packet data lands in the caller's
 * pread buffer without a copy). With a read-ahead hint (s->ahead, set by the block reader to
 * the size of a packet's header and checksums) a large read also takes the next packet's
 * header into the buffer in the same recvmsg, and refills ask for about that much: one system
 * call per packet when the data is there, and no packet data copied through the buffer.
 * A read that finds the socket empty sleeps until the bytes the block reader knows are coming
 * (s->expect, at most CAV_HDFS_SOCK_LOWAT) are there, via SO_RCVLOWAT, in 20 ms slices: one
 * wake-up per several packets, not one per packet.
 * Writes are full writes with MSG_NOSIGNAL (no SIGPIPE).
 *
 * Data transfer protection layers (set after the DataNode SASL handshake, hdfs_dtp.c): AES/CTR
 * encrypts what is sent (in LAYER_CHUNK pieces) and decrypts what arrives in place, right
 * where it is received; DIGEST-MD5 sends every write as frames and reads whole frames (BE u32
 * length, at most CAV_DIGEST_MAXBUF) whose verified plaintext is then handed out.
 */
#include "hdfs_digest.h"

#include "../core/core_dl.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* OpenSSL's libcrypto, loaded when a DataNode connection negotiates AES/CTR (core_dl.h): no
 * other run needs it, and loading it costs every start-up more than half a millisecond */
/* clang-format off */
#define CRYPTO_FUNCS(X) \
    X(EVP_CIPHER_CTX_new) X(EVP_CIPHER_CTX_free) X(EVP_EncryptInit_ex) X(EVP_DecryptInit_ex) \
    X(EVP_EncryptUpdate) X(EVP_DecryptUpdate) X(EVP_aes_128_ctr) X(EVP_aes_192_ctr) \
    X(EVP_aes_256_ctr)
/* clang-format on */
struct crypto_api {
    CRYPTO_FUNCS(CAV_DL_FIELD)
};
#define CRYPTO_SYM(f) CAV_DL_SYM(struct crypto_api, f)
static const cav_dl_sym crypto_syms[] = {CRYPTO_FUNCS(CRYPTO_SYM)};
static struct crypto_api ossl; /* written once by cav_dl_load, read-only afterwards */
static cav_dl_lib crypto_lib = CAV_DL_LIB(CAV_SONAME_LIBCRYPTO, 0, crypto_syms, &ossl);

#define RBUF_SIZE (64u << 10)
#define LAYER_CHUNK (256u << 10)

static csvavro_status wait_fd(cav_hdfs_sock *s, short ev, csvavro_error *err) {
    struct pollfd pfd = {.fd = s->fd, .events = ev};
    for (;;) {
        int r = poll(&pfd, 1, s->timeout_ms > 0 ? s->timeout_ms : -1);
        if (r > 0) return CSVAVRO_OK;
        if (r == 0)
            return cav_err(err, CSVAVRO_E_TIMEOUT, "%s: no data for %d ms", s->peer, s->timeout_ms);
        if (errno != EINTR) return cav_err_errno(err, errno, NULL, "poll");
    }
}

/* Waits for data; done = bytes this read has delivered so far (see cav_hdfs_sock.expect).
 * With a low-water mark above one byte the wait is cut into LOWAT_SLICE_MS slices, and data
 * short of the mark ends it after a slice: a peer that sends slowly is read as it sends and
 * only one that stops talking for timeout_ms is a timeout, as without the mark. */
#define LOWAT_SLICE_MS 20
static csvavro_status wait_in(cav_hdfs_sock *s, size_t done, csvavro_error *err) {
    /* not under DIGEST-MD5 frames: expect counts plaintext, and a frame's bytes are read in
     * several calls */
    size_t want = !s->dig && s->expect > done ? CAV_MIN(s->expect - done, CAV_HDFS_SOCK_LOWAT) : 1;
    if ((int)want != s->lowat) {
        int v = (int)want;
        if (setsockopt(s->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) == 0)
            s->lowat = v;
        else
            s->lowat = -1; /* unknown: wait in slices */
    }
    if (s->lowat == 1) return wait_fd(s, POLLIN, err);
    struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
    for (long waited = 0;;) {
        int slice = LOWAT_SLICE_MS;
        if (s->timeout_ms > 0 && s->timeout_ms - waited < slice)
            slice = (int)(s->timeout_ms - waited);
        int r = poll(&pfd, 1, slice);
        if (r > 0) return CSVAVRO_OK;
        if (r < 0 && errno != EINTR) return cav_err_errno(err, errno, NULL, "poll");
        int avail = 0;
        if (ioctl(s->fd, FIONREAD, &avail) == 0 && avail > 0) return CSVAVRO_OK;
        if (r == 0) waited += slice;
        if (s->timeout_ms > 0 && waited >= s->timeout_ms)
            return cav_err(err, CSVAVRO_E_TIMEOUT, "%s: no data for %d ms", s->peer, s->timeout_ms);
    }
}

int (*cav_hdfs_connect_hook)(const char *hostport) = NULL;

csvavro_status cav_hdfs_sock_connect(cav_hdfs_sock *s, const char *hostport, int connect_ms,
                                     int io_ms, csvavro_error *err) {
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->timeout_ms = io_ms;
    snprintf(s->peer, sizeof s->peer, "%s", hostport);
    if (cav_hdfs_connect_hook) {
        s->fd = cav_hdfs_connect_hook(hostport);
        if (s->fd < 0)
            return cav_err(err, CSVAVRO_E_CONNECT, "cannot connect to %s (test hook)", hostport);
        return CSVAVRO_OK;
    }
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host || !colon[1])
        return cav_err(err, CSVAVRO_E_USAGE, "bad address '%s' (want host:port)", hostport);
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [v6]:port */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gr = getaddrinfo(host, colon + 1, &hints, &res);
    if (gr != 0)
        return cav_err(err, CSVAVRO_E_CONNECT, "cannot resolve %s: %s", hostport, gai_strerror(gr));
    csvavro_status st = CSVAVRO_E_CONNECT;
    int last_errno = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int rcvbuf = CAV_HDFS_SOCK_RCVBUF; /* a hint: a smaller buffer still works */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int pr;
            do
                pr = poll(&pfd, 1, connect_ms > 0 ? connect_ms : -1);
            while (pr < 0 && errno == EINTR);
            if (pr == 0) {
                close(fd);
                last_errno = ETIMEDOUT;
                continue;
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            r = soerr ? -1 : 0;
            if (soerr) errno = soerr;
        }
        if (r != 0) {
            last_errno = errno;
            close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s->fd = fd;
        st = CSVAVRO_OK;
        break;
    }
    freeaddrinfo(res);
    if (st != CSVAVRO_OK)
        return cav_err(err, last_errno == ETIMEDOUT ? CSVAVRO_E_TIMEOUT : CSVAVRO_E_CONNECT,
                       "cannot connect to %s: %s", hostport, strerror(last_errno));
    return CSVAVRO_OK;
}

void cav_hdfs_sock_close(cav_hdfs_sock *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    cav_free(s->rbuf);
    s->rbuf = NULL;
    s->rpos = s->rlen = s->rcap = 0;
    cav_digest_free(s->dig);
    s->dig = NULL;
    if (s->enc || s->dec) { /* made only after libcrypto was loaded */
        ossl.EVP_CIPHER_CTX_free(s->enc);
        ossl.EVP_CIPHER_CTX_free(s->dec);
    }
    s->enc = s->dec = NULL;
    cav_free(s->lbuf);
    s->lbuf = NULL;
    s->lcap = 0;
    cav_buf_free(&s->wb);
    s->dptr = NULL;
    s->dpos = s->dlen = 0;
}

static csvavro_status raw_write(cav_hdfs_sock *s, const void *p, size_t n, csvavro_error *err) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(s->fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            b += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            CAV_TRY(wait_fd(s, POLLOUT, err));
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        return cav_err(err, CSVAVRO_E_IO, "%s: send: %s", s->peer, strerror(errno));
    }
    return CSVAVRO_OK;
}

static csvavro_status lbuf_reserve(cav_hdfs_sock *s, size_t n, csvavro_error *err) {
    if (s->lcap >= n) return CSVAVRO_OK;
    uint8_t *b = cav_realloc(s->lbuf, n);
    if (!b) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    s->lbuf = b;
    s->lcap = n;
    return CSVAVRO_OK;
}

csvavro_status cav_hdfs_sock_write(cav_hdfs_sock *s, const void *p, size_t n, csvavro_error *err) {
    const uint8_t *b = p;
    if (!s->dig && !s->enc) return raw_write(s, p, n, err);
    while (n) {
        size_t k = CAV_MIN(n, (size_t)LAYER_CHUNK);
        if (s->dig) {
            cav_buf_reset(&s->wb);
            CAV_TRY(cav_digest_encode(s->dig, b, k, &s->wb, err));
            CAV_TRY(raw_write(s, s->wb.data, s->wb.len, err));
        } else {
            int ol = 0;
            CAV_TRY(lbuf_reserve(s, LAYER_CHUNK, err));
            if (ossl.EVP_EncryptUpdate(s->enc, s->lbuf, &ol, b, (int)k) != 1 || (size_t)ol != k)
                return cav_err(err, CSVAVRO_E_IO, "%s: AES/CTR encryption failed", s->peer);
            CAV_TRY(raw_write(s, s->lbuf, k, err));
        }
        b += k;
        n -= k;
    }
    return CSVAVRO_OK;
}

/* One recv into p (up to n bytes); 0 bytes means EOF (an error here). */
static csvavro_status recv_some(cav_hdfs_sock *s, uint8_t *p, size_t n, size_t done, size_t *got,
                                csvavro_error *err) {
    for (;;) {
        ssize_t r = recv(s->fd, p, n, MSG_DONTWAIT);
        if (r > 0) {
            *got = (size_t)r;
            int ol = 0;
            if (s->dec && (ossl.EVP_DecryptUpdate(s->dec, p, &ol, p, (int)r) != 1 || ol != (int)r))
                return cav_err(err, CSVAVRO_E_IO, "%s: AES/CTR decryption failed", s->peer);
            return CSVAVRO_OK;
        }
        if (r == 0) return cav_err(err, CSVAVRO_E_IO, "%s: connection closed by peer", s->peer);
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            CAV_TRY(wait_in(s, done, err));
            continue;
        }
        if (errno == EINTR) continue;
        return cav_err(err, CSVAVRO_E_IO, "%s: recv: %s", s->peer, strerror(errno));
    }
}

/* One recvmsg into p (up to n bytes) and on into rbuf (up to extra bytes): the tail of a
 * large read and the start of what follows it, in one call. *got counts the bytes in p; the
 * bytes that reached rbuf become its content (rbuf was empty). */
static csvavro_status recv_two(cav_hdfs_sock *s, uint8_t *p, size_t n, size_t extra, size_t done,
                               size_t *got, csvavro_error *err) {
    struct iovec iov[2] = {{.iov_base = p, .iov_len = n}, {.iov_base = s->rbuf, .iov_len = extra}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    for (;;) {
        ssize_t r = recvmsg(s->fd, &mh, MSG_DONTWAIT);
        if (r > 0) {
            size_t a = CAV_MIN((size_t)r, n), b = (size_t)r - a;
            int ol = 0;
            if (s->dec &&
                ((ossl.EVP_DecryptUpdate(s->dec, p, &ol, p, (int)a) != 1 || ol != (int)a) ||
                 (b && (ossl.EVP_DecryptUpdate(s->dec, s->rbuf, &ol, s->rbuf, (int)b) != 1 ||
                        ol != (int)b))))
                return cav_err(err, CSVAVRO_E_IO, "%s: AES/CTR decryption failed", s->peer);
            *got = a;
            s->rpos = 0;
            s->rlen = b;
            return CSVAVRO_OK;
        }
        if (r == 0) return cav_err(err, CSVAVRO_E_IO, "%s: connection closed by peer", s->peer);
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            CAV_TRY(wait_in(s, done, err));
            continue;
        }
        if (errno == EINTR) continue;
        return cav_err(err, CSVAVRO_E_IO, "%s: recv: %s", s->peer, strerror(errno));
    }
}

static csvavro_status raw_read(cav_hdfs_sock *s, void *p, size_t n, csvavro_error *err) {
    uint8_t *o = p;
    size_t have = s->rlen - s->rpos;
    if (have) {
        size_t k = CAV_MIN(have, n);
        memcpy(o, s->rbuf + s->rpos, k);
        s->rpos += k;
        o += k;
        n -= k;
    }
    while (n) {
        size_t got = 0;
        if (!s->rbuf && (n < CAV_HDFS_SOCK_DIRECT || s->ahead)) {
            s->rbuf = cav_malloc(RBUF_SIZE);
            if (!s->rbuf) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            s->rcap = RBUF_SIZE;
        }
        if (n >= CAV_HDFS_SOCK_DIRECT) { /* large: straight into the caller's memory */
            if (s->ahead)                /* (rbuf is empty here) */
                CAV_TRY(recv_two(s, o, n, CAV_MIN(s->ahead, s->rcap), (size_t)(o - (uint8_t *)p),
                                 &got, err));
            else
                CAV_TRY(recv_some(s, o, n, (size_t)(o - (uint8_t *)p), &got, err));
            o += got;
            n -= got;
            continue;
        }
        /* with a hint, about what the reader wants next, not data it will want in its own
         * memory */
        size_t ask = s->ahead ? CAV_MIN(CAV_MAX(n, s->ahead), s->rcap) : s->rcap;
        CAV_TRY(recv_some(s, s->rbuf, ask, (size_t)(o - (uint8_t *)p), &got, err));
        s->rpos = 0;
        s->rlen = got;
        size_t k = CAV_MIN(got, n);
        memcpy(o, s->rbuf, k);
        s->rpos = k;
        o += k;
        n -= k;
    }
    return CSVAVRO_OK;
}

csvavro_status cav_hdfs_sock_read(cav_hdfs_sock *s, void *p, size_t n, csvavro_error *err) {
    if (!s->dig) return raw_read(s, p, n, err);
    uint8_t *o = p;
    while (n) {
        if (s->dpos < s->dlen) {
            size_t k = CAV_MIN(n, s->dlen - s->dpos);
            memcpy(o, s->dptr + s->dpos, k);
            s->dpos += k;
            o += k;
            n -= k;
            continue;
        }
        uint8_t h[4];
        CAV_TRY(raw_read(s, h, 4, err));
        uint32_t len = cav_be32_get(h);
        if (len > CAV_DIGEST_MAXBUF || len < 16)
            return cav_err(err, CSVAVRO_E_PROTOCOL, "%s: SASL frame of %u bytes", s->peer, len);
        CAV_TRY(lbuf_reserve(s, (size_t)len + 4, err));
        memcpy(s->lbuf, h, 4);
        CAV_TRY(raw_read(s, s->lbuf + 4, len, err));
        s->dpos = s->dlen = 0;
        csvavro_status st =
            cav_digest_decode(s->dig, s->lbuf, (size_t)len + 4, &s->dptr, &s->dlen, err);
        if (st != CSVAVRO_OK) {
            cav_err_prefix(err, "%s", s->peer);
            return st;
        }
    }
    return CSVAVRO_OK;
}

int cav_hdfs_sock_pending(const cav_hdfs_sock *s) {
    return s->rpos < s->rlen || s->dpos < s->dlen;
}

csvavro_status cav_hdfs_sock_set_digest(cav_hdfs_sock *s, struct cav_digest *d,
                                        csvavro_error *err) {
    (void)err;
    s->dig = d;
    cav_buf_init(&s->wb, 2 * (size_t)LAYER_CHUNK + 4096);
    return CSVAVRO_OK;
}

csvavro_status cav_hdfs_sock_set_aes(cav_hdfs_sock *s, const uint8_t *wkey, const uint8_t *wiv,
                                     const uint8_t *rkey, const uint8_t *riv, size_t keylen,
                                     csvavro_error *err) {
    CAV_TRY(cav_dl_load(&crypto_lib, "data transfer encryption (AES/CTR)", err));
    const EVP_CIPHER *c = keylen == 16   ? ossl.EVP_aes_128_ctr()
                          : keylen == 24 ? ossl.EVP_aes_192_ctr()
                          : keylen == 32 ? ossl.EVP_aes_256_ctr()
                                         : NULL;
    if (!c) return cav_err(err, CSVAVRO_E_PROTOCOL, "%s: AES key of %zu bytes", s->peer, keylen);
    s->enc = ossl.EVP_CIPHER_CTX_new();
    s->dec = ossl.EVP_CIPHER_CTX_new();
    if (!s->enc || !s->dec || ossl.EVP_EncryptInit_ex(s->enc, c, NULL, wkey, wiv) != 1 ||
        ossl.EVP_DecryptInit_ex(s->dec, c, NULL, rkey, riv) != 1)
        return cav_err(err, CSVAVRO_E_NOMEM, "%s: cannot set up AES/CTR", s->peer);
    /* bytes received but not read yet arrived after the handshake: decrypt them now */
    int ol = 0;
    if (s->rpos < s->rlen &&
        ossl.EVP_DecryptUpdate(s->dec, s->rbuf + s->rpos, &ol, s->rbuf + s->rpos,
                               (int)(s->rlen - s->rpos)) != 1)
        return cav_err(err, CSVAVRO_E_IO, "%s: AES/CTR decryption failed", s->peer);
    return CSVAVRO_OK;
}

csvavro_status cav_hdfs_sock_read_delimited(cav_hdfs_sock *s, cav_buf *out, size_t max,
                                            csvavro_error *err) {
    uint8_t b;
    uint64_t len = 0;
    for (int i = 0;; i++) {
        if (i >= 10) return cav_err(err, CSVAVRO_E_PROTOCOL, "%s: bad length varint", s->peer);
        CAV_TRY(cav_hdfs_sock_read(s, &b, 1, err));
        len |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) break;
    }
    if (len > max)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "%s: message of %llu bytes exceeds %zu", s->peer,
                       (unsigned long long)len, max);
    cav_buf_reset(out);
    CAV_TRY(cav_buf_reserve(out, (size_t)len, err));
    CAV_TRY(cav_hdfs_sock_read(s, out->data, (size_t)len, err));
    out->len = (size_t)len;
    return CSVAVRO_OK;
}
