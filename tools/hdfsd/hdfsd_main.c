/*
 * hdfsd_main.c — csvavro-hdfsd entry point: command line, the data directory, the NameNode
 * and DataNode listeners (one accept thread per DataNode; the NameNode and the control port are
 * polled by the main thread), connection threads (detached, one per connection) and the
 * control port for fault injection.
 *
 * Startup prints, in order and flushed: `127.0.0.1:<nn port>`, `control 127.0.0.1:<port>`, and
 * one `datanode <i> <ip>:<port> <hostname>` line per DataNode. SIGINT/SIGTERM end the process.
 */
#include "core/core.h"
#include "hdfsd.h"
#include "hdfsd_auth.h"
#include "hdfsd_digest.h"
#include "opt/opt.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

hd_server g_hd;

enum {
    O_DATA = 1,
    O_PORT,
    O_DATANODES,
    O_DATANODE_HOSTS,
    O_BLOCK_SIZE,
    O_REPLICATION,
    O_LS_LIMIT,
    O_READ_PACKET,
    O_MAX_FRAME,
    O_MAX_INODES,
    O_MAX_DIR_ITEMS,
    O_IDLE_TIMEOUT,
    O_SUPERUSER,
    O_GROUPS,
    O_CONTROL_PORT,
    O_CONF_DIR,
    O_VERBOSE,
    O_KEYTAB,
    O_KRB_PRINCIPAL,
    O_RPC_PROTECTION,
    O_BLOCK_TOKENS,
    O_TOKEN_LIFETIME,
    O_DT_RENEW,
    O_DT_MAX,
    O_KEY_ROLL,
    O_DT_PROTECTION,
    O_ENCRYPT_DT,
    O_DT_AES,
};

static const opt_spec hdfsd_table[] = {
    {O_DATA, "--data", "DIR", "namespace snapshot and replicas (created; survives restarts)", NULL},
    {O_PORT, "--port", "PORT", "NameNode RPC port on 127.0.0.1 (0 = any free port; default 0)",
     NULL},
    {O_DATANODES, "--datanodes", "K", "number of DataNodes (default 3, at most 16)", NULL},
    {O_DATANODE_HOSTS, "--datanode-hosts", NULL,
     "put DataNode i on 127.0.0.<i+1> with host name dn<i>\n"
     "(default: all on 127.0.0.1, host name localhost)",
     NULL},
    {O_BLOCK_SIZE, "--block-size", "BYTES", "default block size (default 134217728; e.g. 1M)",
     NULL},
    {O_REPLICATION, "--replication", "R", "default replication (default 3)", NULL},
    {O_LS_LIMIT, "--ls-limit", "N", "getListing page size (default 1000)", NULL},
    {O_READ_PACKET, "--read-packet", "BYTES", "data bytes per READ_BLOCK packet (default 65536)",
     NULL},
    {O_MAX_FRAME, "--max-frame", "BYTES", "largest RPC frame accepted (default 64M)", NULL},
    {O_MAX_INODES, "--max-inodes", "N", "namespace size limit (default 1000000)", NULL},
    {O_MAX_DIR_ITEMS, "--max-dir-items", "N",
     "entries per directory (default and maximum 1048576, as HDFS's\n"
     "dfs.namenode.fs-limits.max-directory-items)",
     NULL},
    {O_IDLE_TIMEOUT, "--idle-timeout", "SEC",
     "close a NameNode connection silent for SEC seconds (default 60; 0 = never);\n"
     "a new connection must finish its handshake within min(SEC, 10) seconds",
     NULL},
    {O_GROUPS, "--groups", "MAP",
     "group membership, as Hadoop's static mapping: \"alice=staff,supergroup;bob=\"\n"
     "(a user listed is in exactly those groups; others in the group of their own\n"
     "name; members of supergroup are superusers)",
     NULL},
    {O_SUPERUSER, "--superuser", "NAME", "HDFS superuser (default: the user running the server)",
     NULL},
    {O_CONTROL_PORT, "--control-port", "P",
     "fault-injection control port on 127.0.0.1 (default 0 = any)", NULL},
    {O_CONF_DIR, "--conf-dir", "DIR",
     "also write DIR/core-site.xml and DIR/hdfs-site.xml with every key a client needs\n"
     "(fs.defaultFS; in secure mode the Kerberos and protection keys too)",
     NULL},
    {O_KEYTAB, "--keytab", "FILE",
     "secure mode: the service keytab (with --kerberos-principal): Kerberos-only RPC,\n"
     "SIMPLE clients refused; KRB5_CONFIG from the environment",
     NULL},
    {O_KRB_PRINCIPAL, "--kerberos-principal", "P",
     "secure mode: the service principal, e.g. hdfs/localhost@REALM; users are\n"
     "principals of REALM, mapped to their first component (alice@REALM -> alice)",
     NULL},
    {O_RPC_PROTECTION, "--rpc-protection", "Q",
     "secure mode: authentication (default), integrity or privacy: the SASL security\n"
     "layer offered on NameNode RPC (hadoop.rpc.protection)",
     NULL},
    {O_BLOCK_TOKENS, "--block-tokens", NULL,
     "block access tokens (HMAC-SHA1, rolling keys) on every block handed out, checked by\n"
     "every DataNode (ERROR_ACCESS_TOKEN otherwise); on by default in secure mode",
     NULL},
    {O_TOKEN_LIFETIME, "--block-token-lifetime", "SECONDS",
     "how long a block token is valid (default 36000)", NULL},
    {O_KEY_ROLL, "--block-key-roll", "SECONDS",
     "a new block-token key this often; old keys stay valid while their tokens can\n"
     "(default 36000)",
     NULL},
    {O_DT_RENEW, "--delegation-token-renew-interval", "SECONDS",
     "secure mode: a delegation token expires this long after it is issued or renewed\n"
     "(dfs.namenode.delegation.token.renew-interval; default 86400)",
     NULL},
    {O_DT_MAX, "--delegation-token-max-lifetime", "SECONDS",
     "secure mode: no renewal takes a delegation token past this age\n"
     "(dfs.namenode.delegation.token.max-lifetime; default 604800)",
     NULL},
    {O_DT_PROTECTION, "--data-transfer-protection", "Q",
     "authentication, integrity or privacy: DataNode connections must start with the\n"
     "SASL handshake (DIGEST-MD5 with the block token) and then carry that layer\n"
     "(dfs.data.transfer.protection); needs block tokens (secure mode or --block-tokens)",
     NULL},
    {O_ENCRYPT_DT, "--encrypt-data-transfer", NULL,
     "dfs.encrypt.data.transfer: the handshake authenticates with the NameNode's data\n"
     "encryption key (getDataEncryptionKey) and the layer is privacy; needs block tokens",
     NULL},
    {O_DT_AES, "--data-transfer-aes", NULL,
     "with a privacy layer, switch to AES/CTR/NoPadding when the client asks for it\n"
     "(dfs.encrypt.data.transfer.cipher.suites); otherwise DIGEST-MD5's own cipher",
     NULL},
    {O_VERBOSE, "-v, --verbose", NULL, "log calls to stderr", NULL},
    OPT_END,
};

static const opt_spec *const hdfsd_tables[] = {hdfsd_table, NULL};

static const opt_cmd hdfsd_cmd = {
    .prog = "csvavro-hdfsd",
    .synopsis = "--data DIR [options]",
    .summary = "an HDFS-compatible NameNode and DataNodes in one process",
    .help =
        "An HDFS-compatible NameNode + DataNodes in one process, for tests and local use.\n"
        "\n"
        "stdout, once accepting: `127.0.0.1:PORT`, `control 127.0.0.1:PORT`, then\n"
        "`datanode I IP:PORT HOST` per DataNode. Point clients at it with\n"
        "HADOOP_NAMENODE=127.0.0.1:PORT (and HADOOP_USER_NAME=...).\n"
        "\n"
        "Control port: one command per line, answer `ok` or `error <why>`:\n"
        "  dn-stop I | dn-start I          stop (connections refused) / restart DataNode I\n"
        "                                  (1-based)\n"
        "  slow I MS                       DataNode I sleeps MS ms before each packet\n"
        "  drop-after I BYTES              DataNode I cuts connections after BYTES (-1 = off)\n"
        "  dn-fail-write I 0|1             DataNode I answers WRITE_BLOCK with ERROR\n"
        "  dn-fail-read I 0|1              DataNode I answers READ_BLOCK with ERROR\n"
        "  corrupt PATH BLOCK# REPLICA#    flip a byte of a replica (0-based, location order)\n"
        "  nn-refuse SECONDS               NameNode refuses connections / calls\n"
        "                                  (RetriableException)\n"
        "  complete-false N                the next N complete calls return false\n"
        "  block-token PATH BLOCK# read|write  sign a block token: `ok ID GS LEN IDHEX PWHEX`\n"
        "  mark PATH crypt|ec|none         report PATH (and what is created under it) as in an\n"
        "                                  encryption zone / erasure-coded / plain (not saved)\n"
        "  reset                           clear every fault\n"
        "  cpu                             `ok US`: this process's CPU time so far (user +\n"
        "                                  system, microseconds, every thread; benchmarks)",
    .tables = hdfsd_tables,
};

static void on_signal(int s) {
    (void)s;
    atomic_store(&g_hd.quit, true);
}

static int mkdir_p(const char *p) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s", p);
    for (char *s = tmp + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *s = '/';
        }
    }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static void spawn(void *(*fn)(void *), int fd, int dn) {
    hd_conn_arg *a = cav_malloc(sizeof *a);
    pthread_t t;
    pthread_attr_t at;
    if (!a) {
        close(fd);
        return;
    }
    a->fd = fd;
    a->dn = dn;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 1u << 20);
    if (pthread_create(&t, &at, fn, a)) {
        close(fd);
        cav_free(a);
    }
    pthread_attr_destroy(&at);
}

/* accept4 that backs off when the process (or system) is out of file descriptors or memory:
 * the listener stays readable then, so retrying at once would spin a core. One message per
 * episode; 100 ms pauses until an accept succeeds again (idle connections time out meanwhile,
 * see --idle-timeout). Returns the fd or -1. */
static int accept_or_back_off(int lfd, const char *what) {
    static _Thread_local bool reported;
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0) {
        reported = false;
        /* like a Hadoop DataNode (dfs.data.transfer.server.tcpnodelay, default true): a small
         * write (the empty last packet of a READ_BLOCK range, a reply) must not wait for the
         * peer's delayed ACK, up to 40 ms on Linux */
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return c;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (!reported)
            fprintf(stderr, "csvavro-hdfsd: %s: cannot accept (%s); retrying every 100 ms\n", what,
                    strerror(errno));
        reported = true;
        usleep(100000);
    }
    return -1;
}

static void *dn_accept_thread(void *arg) {
    hd_datanode *d = arg;
    while (!atomic_load(&g_hd.quit)) {
        bool stop = atomic_load(&d->stopped);
        if (stop && d->fd >= 0) {
            close(d->fd);
            d->fd = -1;
        } else if (!stop && d->fd < 0) {
            d->fd = hd_listen(d->ip, d->port);
        }
        if (d->fd < 0) {
            usleep(50000);
            continue;
        }
        struct pollfd pf = {.fd = d->fd, .events = POLLIN};
        if (poll(&pf, 1, 100) != 1) continue;
        int c = accept_or_back_off(d->fd, "datanode");
        if (c < 0) continue;
        if (atomic_load(&d->stopped)) {
            close(c);
            continue;
        }
        spawn(hd_dn_conn_thread, c, d->index);
    }
    if (d->fd >= 0) close(d->fd);
    return NULL;
}

static int dn_arg(const char *s) {
    long i = strtol(s ? s : "", NULL, 10);
    return i >= 1 && i <= g_hd.ndn ? (int)i - 1 : -1;
}

static void control_line(char *line, char *out, size_t cap) {
    char *argv[6] = {0};
    int n = 0;
    for (char *t = strtok(line, " \t\r\n"); t && n < 6; t = strtok(NULL, " \t\r\n"))
        argv[n++] = t;
    snprintf(out, cap, "ok\n");
    if (n == 0) {
        snprintf(out, cap, "error empty command\n");
        return;
    }
    const char *c = argv[0];
    int d = n > 1 ? dn_arg(argv[1]) : -1;
    bool needs_dn = !strcmp(c, "dn-stop") || !strcmp(c, "dn-start") || !strcmp(c, "slow") ||
                    !strcmp(c, "drop-after") || !strcmp(c, "dn-fail-write") ||
                    !strcmp(c, "dn-fail-read");
    if (needs_dn && d < 0) {
        snprintf(out, cap, "error bad datanode number\n");
        return;
    }
    if (!strcmp(c, "dn-stop")) {
        atomic_store(&g_hd.dn[d].stopped, true);
        for (int i = 0; i < 40 && g_hd.dn[d].fd >= 0; i++)
            usleep(10000);
    } else if (!strcmp(c, "dn-start")) {
        atomic_store(&g_hd.dn[d].stopped, false);
        for (int i = 0; i < 40 && g_hd.dn[d].fd < 0; i++)
            usleep(10000);
    } else if (!strcmp(c, "slow") && n == 3) {
        atomic_store(&g_hd.dn[d].slow_ms, atoi(argv[2]));
    } else if (!strcmp(c, "drop-after") && n == 3) {
        atomic_store(&g_hd.dn[d].drop_after, atoll(argv[2]));
    } else if (!strcmp(c, "dn-fail-write")) {
        atomic_store(&g_hd.dn[d].fail_write, n < 3 || atoi(argv[2]) != 0);
    } else if (!strcmp(c, "dn-fail-read")) {
        atomic_store(&g_hd.dn[d].fail_read, n < 3 || atoi(argv[2]) != 0);
    } else if (!strcmp(c, "nn-refuse") && n == 2) {
        atomic_store(&g_hd.nn_refuse_until_ms,
                     (long long)(hd_now_ms() + 1000ull * (uint64_t)atoi(argv[1])));
    } else if (!strcmp(c, "complete-false") && n == 2) {
        atomic_store(&g_hd.complete_false, atoi(argv[1]));
    } else if (!strcmp(c, "reset")) {
        for (int i = 0; i < g_hd.ndn; i++) {
            atomic_store(&g_hd.dn[i].stopped, false);
            atomic_store(&g_hd.dn[i].slow_ms, 0);
            atomic_store(&g_hd.dn[i].drop_after, -1);
            atomic_store(&g_hd.dn[i].fail_write, false);
            atomic_store(&g_hd.dn[i].fail_read, false);
        }
        atomic_store(&g_hd.nn_refuse_until_ms, 0);
        atomic_store(&g_hd.complete_false, 0);
    } else if (!strcmp(c, "block-token") && n == 4) { /* for token tests: sign one */
        long bi = atol(argv[2]);
        unsigned mode = !strcmp(argv[3], "write") ? HD_TOK_WRITE : HD_TOK_READ;
        pthread_mutex_lock(&g_hd.ns_lock);
        hd_res res;
        hd_ns_resolve(argv[1], &res);
        if (!g_sec.block_tokens) {
            snprintf(out, cap, "error block tokens are off\n");
        } else if (res.status != HD_FOUND || res.node->type != 2 || bi < 0 ||
                   (size_t)bi >= res.node->nblocks) {
            snprintf(out, cap, "error no such file or block\n");
        } else {
            uint8_t id[HD_TOKEN_ID_MAX], pw[20];
            const hd_block *b = &res.node->blocks[bi];
            size_t il = hd_block_token("control", b->id, mode, id, pw);
            int k = snprintf(out, cap, "ok %llu %llu %llu ", (unsigned long long)b->id,
                             (unsigned long long)b->gs, (unsigned long long)b->len);
            for (size_t i = 0; i < il && (size_t)k + 3 < cap; i++)
                k += snprintf(out + k, cap - (size_t)k, "%02x", id[i]);
            if ((size_t)k + 1 < cap) out[k++] = ' ';
            for (size_t i = 0; i < 20 && (size_t)k + 3 < cap; i++)
                k += snprintf(out + k, cap - (size_t)k, "%02x", pw[i]);
            snprintf(out + k, cap - (size_t)k, "\n");
        }
        pthread_mutex_unlock(&g_hd.ns_lock);
    } else if (!strcmp(c, "mark") && n == 3) {
        uint32_t x = !strcmp(argv[2], "crypt") ? HD_X_CRYPT : !strcmp(argv[2], "ec") ? HD_X_EC : 0;
        pthread_mutex_lock(&g_hd.ns_lock);
        hd_res res;
        hd_ns_resolve(argv[1], &res);
        if (res.status != HD_FOUND)
            snprintf(out, cap, "error no such path\n");
        else if (x == 0 && strcmp(argv[2], "none"))
            snprintf(out, cap, "error want crypt, ec or none\n");
        else
            res.node->xflags = x;
        pthread_mutex_unlock(&g_hd.ns_lock);
    } else if (!strcmp(c, "corrupt") && n == 4) {
        long bi = atol(argv[2]), ri = atol(argv[3]);
        pthread_mutex_lock(&g_hd.ns_lock);
        hd_res res;
        hd_ns_resolve(argv[1], &res);
        if (res.status != HD_FOUND || res.node->type != 2 || bi < 0 ||
            (size_t)bi >= res.node->nblocks) {
            snprintf(out, cap, "error no such file or block\n");
        } else {
            uint64_t id = res.node->blocks[bi].id;
            int seen = 0, done = 0;
            for (int i = 0; i < g_hd.ndn && !done; i++) {
                if (hd_replica_len(i, id) < 0) continue;
                if (seen++ != ri) continue;
                char p[4200];
                FILE *f = fopen(hd_replica_path(i, id, false, false, p, sizeof p), "r+b");
                int ch = f ? fgetc(f) : EOF;
                if (f && ch != EOF) {
                    fseek(f, 0, SEEK_SET);
                    fputc(ch ^ 0xff, f);
                    done = 1;
                }
                if (f) fclose(f);
            }
            if (!done) snprintf(out, cap, "error no such (non-empty) replica\n");
        }
        pthread_mutex_unlock(&g_hd.ns_lock);
    } else if (!strcmp(c, "cpu") && n == 1) { /* benchmarks: this process's CPU so far */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        long long us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
        snprintf(out, cap, "ok %lld\n", us);
    } else {
        snprintf(out, cap, "error unknown command\n");
    }
}

static void *control_thread(void *arg) {
    hd_conn_arg *a = arg;
    int fd = a->fd;
    cav_free(a);
    char line[8400];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, line + len, sizeof line - 1 - len);
        if (r <= 0) break;
        len += (size_t)r;
        char *nl;
        while ((nl = memchr(line, '\n', len))) {
            *nl = 0;
            char out[2048];
            control_line(line, out, sizeof out);
            if (!hd_write_full(fd, out, strlen(out))) goto done;
            size_t used = (size_t)(nl + 1 - line);
            memmove(line, nl + 1, len - used);
            len -= used;
        }
        if (len == sizeof line - 1) break;
    }
done:
    close(fd);
    return NULL;
}

static void free_groups(void) {
    for (size_t i = 0; i < g_hd.ngroup_map; i++) {
        for (size_t j = 0; j < g_hd.group_map[i].ngroups; j++)
            cav_free(g_hd.group_map[i].groups[j]);
        cav_free(g_hd.group_map[i].groups);
        cav_free(g_hd.group_map[i].user);
    }
    cav_free(g_hd.group_map);
    g_hd.group_map = NULL;
    g_hd.ngroup_map = 0;
}

/* --groups "user=g1,g2;user2=": names as the RPCs accept them (hdfsd.h). */
static bool parse_groups(const char *spec) {
    if (!g_hd.group_map) atexit(free_groups);
    char *copy = hd_strdup(spec), *save = NULL;
    bool ok = true;
    for (char *ent = strtok_r(copy, ";", &save); ent && ok; ent = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(ent, '=');
        if (!eq) {
            ok = false;
            break;
        }
        *eq = 0;
        struct hd_user_groups *m =
            cav_realloc(g_hd.group_map, (g_hd.ngroup_map + 1) * sizeof *g_hd.group_map);
        if (!m || hd_check_principal(ent)) {
            if (m) g_hd.group_map = m;
            ok = false;
            break;
        }
        g_hd.group_map = m;
        m = &g_hd.group_map[g_hd.ngroup_map++];
        *m = (struct hd_user_groups){.user = hd_strdup(ent)};
        char *gsave = NULL;
        for (char *g = strtok_r(eq + 1, ",", &gsave); g && ok; g = strtok_r(NULL, ",", &gsave)) {
            char **gs = cav_realloc(m->groups, (m->ngroups + 1) * sizeof *gs);
            ok = gs && !hd_check_principal(g);
            if (gs) m->groups = gs;
            if (ok) m->groups[m->ngroups++] = hd_strdup(g);
        }
    }
    cav_free(copy);
    return ok;
}

static bool parse_u64(const char *s, uint64_t *v) {
    return s && cav_parse_size(s, v);
}

/* One <property> of a Hadoop *-site.xml (values here never need escaping). */
static void conf_prop(FILE *f, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conf_prop(FILE *f, const char *name, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(f, "  <property>\n    <name>%s</name>\n    <value>", name);
    vfprintf(f, fmt, ap);
    fprintf(f, "</value>\n  </property>\n");
    va_end(ap);
}

int main(int argc, char **argv) {
    uint64_t port = 0, ndn = 3, cport = 0, v;
    bool dn_hosts = false;
    const char *conf_dir = NULL;
    g_hd.block_size = 134217728;
    g_hd.replication = 3;
    g_hd.ls_limit = 1000;
    g_hd.read_packet = 65536;
    g_hd.max_frame = 64u << 20;
    g_hd.max_inodes = 1000000;
    g_hd.idle_ms = 60000;
    g_hd.max_dir_items = HD_MAX_DIR_ITEMS;
    struct passwd *pw = getpwuid(getuid());
    snprintf(g_hd.superuser, sizeof g_hd.superuser, "%s", pw ? pw->pw_name : "hdfs");
    snprintf(g_hd.supergroup, sizeof g_hd.supergroup, "supergroup");
    if (argc == 2 && !strcmp(argv[1], "--man")) { /* build time: the man page's options */
        opt_man_page(&hdfsd_cmd, stdout);
        return fflush(stdout) != 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--list-options")) { /* for the help test */
        opt_list(&hdfsd_cmd, stdout);
        return fflush(stdout) != 0;
    }
    opt_parser p;
    opt_init(&p, &hdfsd_cmd, argc, argv);
    const char *n;
    int id;
    while ((id = opt_next(&p, &n)) != OPT_DONE) {
        bool ok = true;
        switch (id) {
        case OPT_HELP:
            return 0;
        case OPT_ERROR:
            return 2;
        case OPT_OPERAND:
            return opt_usage_error(&hdfsd_cmd, "unexpected argument '%s'", n);
        case O_DATA:
            g_hd.data_dir = (char *)n;
            break;
        case O_PORT:
            ok = parse_u64(n, &port) && port < 65536;
            break;
        case O_DATANODES:
            ok = parse_u64(n, &ndn) && ndn >= 1 && ndn <= HD_MAX_DATANODES;
            break;
        case O_DATANODE_HOSTS:
            dn_hosts = true;
            break;
        case O_BLOCK_SIZE:
            ok = parse_u64(n, &g_hd.block_size) && g_hd.block_size >= 512 &&
                 g_hd.block_size % 512 == 0;
            break;
        case O_REPLICATION:
            ok = parse_u64(n, &v) && v >= 1 && v <= 512;
            g_hd.replication = (uint32_t)v;
            break;
        case O_LS_LIMIT:
            ok = parse_u64(n, &v) && v >= 1 && v <= 100000;
            g_hd.ls_limit = (uint32_t)v;
            break;
        case O_READ_PACKET:
            ok = parse_u64(n, &v) && v >= 512 && v <= (16u << 20);
            g_hd.read_packet = (uint32_t)v;
            break;
        case O_MAX_FRAME:
            ok = parse_u64(n, &v) && v >= 1024 && v <= (1u << 30);
            g_hd.max_frame = (uint32_t)v;
            break;
        case O_MAX_INODES:
            ok = parse_u64(n, &g_hd.max_inodes) && g_hd.max_inodes >= 2;
            break;
        case O_MAX_DIR_ITEMS:
            ok = parse_u64(n, &v) && v >= 1 && v <= HD_MAX_DIR_ITEMS;
            g_hd.max_dir_items = (uint32_t)v;
            break;
        case O_IDLE_TIMEOUT:
            ok = parse_u64(n, &v) && v <= 86400;
            g_hd.idle_ms = (int)v * 1000;
            break;
        case O_GROUPS:
            ok = parse_groups(n);
            break;
        case O_SUPERUSER: /* a user name as the RPCs accept them (hdfsd.h) */
            ok = hd_check_principal(n) == NULL;
            snprintf(g_hd.superuser, sizeof g_hd.superuser, "%s", n);
            break;
        case O_CONTROL_PORT:
            ok = parse_u64(n, &cport) && cport < 65536;
            break;
        case O_CONF_DIR:
            conf_dir = n;
            break;
        case O_VERBOSE:
            g_hd.verbose = 1;
            break;
        case O_KEYTAB:
            ok = strlen(n) < sizeof g_sec.keytab;
            snprintf(g_sec.keytab, sizeof g_sec.keytab, "%s", n);
            break;
        case O_KRB_PRINCIPAL:
            ok = strlen(n) < sizeof g_sec.principal;
            snprintf(g_sec.principal, sizeof g_sec.principal, "%s", n);
            break;
        case O_RPC_PROTECTION:
            ok = (g_sec.rpc_qop = hd_qop_parse(n)) != 0;
            break;
        case O_BLOCK_TOKENS:
            g_sec.block_tokens = true;
            break;
        case O_TOKEN_LIFETIME:
            ok = parse_u64(n, &v) && v >= 1 && v <= 10u * 365 * 86400;
            g_sec.token_lifetime_ms = (int64_t)v * 1000;
            break;
        case O_DT_PROTECTION:
            ok = (g_sec.dt_qop = hd_qop_parse(n)) != 0;
            break;
        case O_ENCRYPT_DT:
            g_sec.encrypt_dt = true;
            break;
        case O_DT_AES:
            g_sec.dt_aes = true;
            break;
        case O_KEY_ROLL:
            ok = parse_u64(n, &v) && v >= 1 && v <= 10u * 365 * 86400;
            g_sec.key_roll_ms = (int64_t)v * 1000;
            break;
        case O_DT_RENEW:
            ok = parse_u64(n, &v) && v >= 1 && v <= 10u * 365 * 86400;
            g_sec.dt_renew_ms = (int64_t)v * 1000;
            break;
        case O_DT_MAX:
            ok = parse_u64(n, &v) && v >= 1 && v <= 10u * 365 * 86400;
            g_sec.dt_max_ms = (int64_t)v * 1000;
            break;
        }
        if (!ok) return opt_usage_error(&hdfsd_cmd, "bad value for %s: '%s'", p.name, n);
    }
    if (!g_hd.data_dir) {
        return opt_usage_error(&hdfsd_cmd, "--data DIR is required");
    }
    if (!g_sec.keytab[0] != !g_sec.principal[0])
        return opt_usage_error(&hdfsd_cmd, "--keytab and --kerberos-principal go together");
    if (g_sec.rpc_qop && !g_sec.keytab[0])
        return opt_usage_error(&hdfsd_cmd, "--rpc-protection needs secure mode (--keytab)");
    if ((g_sec.dt_qop || g_sec.encrypt_dt) && !g_sec.keytab[0] && !g_sec.block_tokens)
        return opt_usage_error(&hdfsd_cmd, "%s needs block tokens (secure mode or --block-tokens)",
                               g_sec.dt_qop ? "--data-transfer-protection"
                                            : "--encrypt-data-transfer");
    if (g_sec.dt_qop || g_sec.encrypt_dt) {
        char msg[400];
        if (hd_digest_init(msg, sizeof msg)) {
            fprintf(stderr, "csvavro-hdfsd: %s\n", msg);
            return 1;
        }
    }
    if (!g_sec.token_lifetime_ms) g_sec.token_lifetime_ms = 36000 * 1000LL;
    if (!g_sec.key_roll_ms) g_sec.key_roll_ms = 36000 * 1000LL;
    if (!g_sec.dt_renew_ms) g_sec.dt_renew_ms = 86400 * 1000LL;
    if (!g_sec.dt_max_ms) g_sec.dt_max_ms = 7 * 86400 * 1000LL;
    if (g_sec.keytab[0]) {
        char msg[1200];
        g_sec.on = true;
        g_sec.block_tokens = true;
        if (!g_sec.rpc_qop) g_sec.rpc_qop = HD_QOP_AUTH;
        if (hd_auth_init(msg, sizeof msg)) {
            fprintf(stderr, "csvavro-hdfsd: Kerberos: %s\n", msg);
            return 1;
        }
    }
    g_hd.ndn = (int)ndn;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pthread_mutex_init(&g_hd.ns_lock, NULL);
    atomic_store(&g_hd.nn_refuse_until_ms, 0);
    if (mkdir_p(g_hd.data_dir)) {
        fprintf(stderr, "csvavro-hdfsd: cannot create %s: %s\n", g_hd.data_dir, strerror(errno));
        return 1;
    }
    for (int i = 0; i < g_hd.ndn; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/dn%d/current", g_hd.data_dir, i + 1);
        if (mkdir_p(dir)) return 1;
        snprintf(dir, sizeof dir, "%s/dn%d/rbw", g_hd.data_dir, i + 1);
        if (mkdir_p(dir)) return 1;
    }
    if (hd_ns_open()) {
        fprintf(stderr, "csvavro-hdfsd: cannot open the namespace under %s\n", g_hd.data_dir);
        return 1;
    }
    g_hd.nn_fd = hd_listen("127.0.0.1", (int)port);
    int cfd = hd_listen("127.0.0.1", (int)cport);
    if (g_hd.nn_fd < 0 || cfd < 0) {
        fprintf(stderr, "csvavro-hdfsd: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < g_hd.ndn; i++) {
        hd_datanode *d = &g_hd.dn[i];
        d->index = i;
        snprintf(d->ip, sizeof d->ip, dn_hosts ? "127.0.0.%d" : "127.0.0.1", i + 2);
        snprintf(d->host, sizeof d->host, dn_hosts ? "dn%d" : "localhost", i + 1);
        snprintf(d->uuid, sizeof d->uuid, "hdfsd-dn%d-uuid", i + 1);
        atomic_store(&d->drop_after, -1);
        d->fd = hd_listen(d->ip, 0);
        if (d->fd < 0) {
            fprintf(stderr, "csvavro-hdfsd: cannot listen on %s: %s\n", d->ip, strerror(errno));
            return 1;
        }
        d->port = hd_local_port(d->fd);
    }
    int nport = hd_local_port(g_hd.nn_fd);
    if (conf_dir) {
        char path[4200];
        mkdir_p(conf_dir);
        snprintf(path, sizeof path, "%s/core-site.xml", conf_dir);
        FILE *f = fopen(path, "w");
        if (!f) return 1;
        fprintf(f, "<?xml version=\"1.0\"?>\n<configuration>\n");
        conf_prop(f, "fs.defaultFS", "hdfs://127.0.0.1:%d", nport);
        if (g_sec.on) {
            conf_prop(f, "hadoop.security.authentication", "kerberos");
            conf_prop(f, "hadoop.rpc.protection", "%s", hd_qop_name(g_sec.rpc_qop));
        }
        fprintf(f, "</configuration>\n");
        if (fclose(f)) return 1;
        snprintf(path, sizeof path, "%s/hdfs-site.xml", conf_dir);
        if (!(f = fopen(path, "w"))) return 1;
        fprintf(f, "<?xml version=\"1.0\"?>\n<configuration>\n");
        if (g_sec.on) conf_prop(f, "dfs.namenode.kerberos.principal", "%s", g_sec.principal);
        if (g_sec.block_tokens) conf_prop(f, "dfs.block.access.token.enable", "true");
        if (g_sec.dt_qop)
            conf_prop(f, "dfs.data.transfer.protection", "%s", hd_qop_name(g_sec.dt_qop));
        if (g_sec.encrypt_dt) conf_prop(f, "dfs.encrypt.data.transfer", "true");
        if (g_sec.dt_aes)
            conf_prop(f, "dfs.encrypt.data.transfer.cipher.suites", "AES/CTR/NoPadding");
        fprintf(f, "</configuration>\n");
        if (fclose(f)) return 1;
    }
    for (int i = 0; i < g_hd.ndn; i++)
        if (pthread_create(&g_hd.dn[i].thread, NULL, dn_accept_thread, &g_hd.dn[i])) return 1;
    printf("127.0.0.1:%d\ncontrol 127.0.0.1:%d\n", nport, hd_local_port(cfd));
    for (int i = 0; i < g_hd.ndn; i++)
        printf("datanode %d %s:%d %s\n", i + 1, g_hd.dn[i].ip, g_hd.dn[i].port, g_hd.dn[i].host);
    fflush(stdout);
    while (!atomic_load(&g_hd.quit)) {
        struct pollfd pf[2] = {{.fd = g_hd.nn_fd, .events = POLLIN}, {.fd = cfd, .events = POLLIN}};
        if (poll(pf, 2, 200) <= 0) continue;
        if (pf[0].revents & POLLIN) {
            int c = accept_or_back_off(g_hd.nn_fd, "namenode");
            if (c >= 0) spawn(hd_nn_conn_thread, c, -1);
        }
        if (pf[1].revents & POLLIN) {
            int c = accept_or_back_off(cfd, "control port");
            if (c >= 0) spawn(control_thread, c, -1);
        }
    }
    for (int i = 0; i < g_hd.ndn; i++)
        pthread_join(g_hd.dn[i].thread, NULL);
    close(g_hd.nn_fd);
    close(cfd);
    /* connection threads may still run: leave the namespace to the OS rather than race them */
    pthread_mutex_lock(&g_hd.ns_lock);
    hd_ns_save();
    hd_ns_free();
    _exit(0);
}
