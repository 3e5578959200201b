/*
 * exec_mpi.c — one `convert` job over the ranks of an MPI job (Open MPI from Debian): the only
 * part of csvavro that knows MPI. Linked into the csvavro CLI only (src/exec/module.cmake);
 * without MPI in the build it compiles to stubs that refuse several ranks.
 *
 * Roles. Rank 0 plans as in one process (inputs, headers, schema, filter, splits, destination
 * check), creates the temporary directory, then broadcasts the plan (a small binary encoding:
 * inputs with their header offsets, the reader schema as Avro JSON, the splits, the output
 * names, tmp_dir, the single-file sync marker); every other rank rebuilds a job from it without
 * touching the inputs. Each rank runs its own worker pool (exec_run.c) through the cav_dist
 * hooks of exec.h:
 *   - next: rank 0's workers take splits from the dispenser directly (a mutex); the other
 *     ranks' workers send a request (carrying the rank's live counters) and wait for a split
 *     number, one request at a time per rank;
 *   - a dispenser thread on rank 0 answers requests, stores progress and final results, and
 *     broadcasts an abort when any rank failed (polling with MPI_Improbe and short naps, so an
 *     idle dispenser costs no CPU; Open MPI's blocking calls would spin);
 *   - gather: after its pool joined, a rank > 0 sends every result of the splits it ran (ranges,
 *     counts, status, error; with --partition-by the part files it wrote, which carry the
 *     split number in their names) and then waits for rank 0's verdict; rank 0 merges them into its
 *     job, so the verification walk (docs/splits.md), --limit, the summary, the commit and the
 *     manifest run exactly as in one process. Output names depend on split numbers only.
 * Locality: the dispenser hands a requesting rank the lowest-numbered split with an HDFS
 * replica on its host (gethostname, or CSVAVRO_HOSTNAME); only when none is left, a split that
 * no rank can read locally, else one from the host with the most local work left per rank
 * (its highest-numbered one). The summary shows, per rank, local / remote / no-host splits.
 * Failure: any rank's failure aborts every rank; rank 0 waits for all of them before it
 * removes the temporary directory, so nothing is written after the discard.
 *
 * Every MPI call is nonblocking plus a polling wait with naps (MPI_THREAD_MULTIPLE: workers,
 * the dispenser and the main thread call MPI concurrently). Test-only fault injection:
 * CSVAVRO_FAIL_RANK=r [CSVAVRO_FAIL_AFTER_SPLITS=k] makes rank r fail the split it is handed
 * after k splits (without running it), as a failing disk or DataNode would.
 */
#include "csvavro_mpi.h"

#include "exec.h"
#include "exec_locality.h"
#include "exec_plan_codec.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HOST_LEN 256

#ifdef CAV_HAVE_MPI
#include <mpi.h>

#include "../core/core_dl.h"

/* Open MPI (libmpi and, through it, open-rte, open-pal, hwloc, libevent, libudev) is loaded only
 * when csvavro_mpi_init finds an MPI launcher (core_dl.h): a run in one process never needs it,
 * and loading it costs every start-up about a millisecond. RTLD_GLOBAL: Open MPI's own plugins
 * (mca_*.so) resolve libmpi's symbols through the global scope. Open MPI's predefined handles
 * (MPI_COMM_WORLD, MPI_BYTE, MPI_INT32_T, MPI_INT64_T) are addresses of the library's objects,
 * which the table resolves too; MPI_STATUS_IGNORE and the integer constants are plain values of
 * mpi.h. */
#ifdef OPEN_MPI
#define MPI_OBJECTS(X)                                                                             \
    X(ompi_mpi_comm_world) X(ompi_mpi_byte) X(ompi_mpi_int32_t) X(ompi_mpi_int64_t)
#else
#define MPI_OBJECTS(X)
#endif
/* clang-format off */
#define MPI_FUNCS(X) \
    X(MPI_Init_thread) X(MPI_Finalize) X(MPI_Abort) X(MPI_Comm_dup) X(MPI_Comm_free) \
    X(MPI_Comm_rank) X(MPI_Comm_size) X(MPI_Test) X(MPI_Isend) X(MPI_Irecv) X(MPI_Recv) \
    X(MPI_Iprobe) X(MPI_Improbe) X(MPI_Mrecv) X(MPI_Get_count) X(MPI_Ibcast) X(MPI_Igather) \
    X(MPI_Ibarrier) MPI_OBJECTS(X)
/* clang-format on */
struct mpi_api {
    MPI_FUNCS(CAV_DL_FIELD)
};
#define MPI_SYM(f) CAV_DL_SYM(struct mpi_api, f)
static const cav_dl_sym mpi_syms[] = {MPI_FUNCS(MPI_SYM)};
static struct mpi_api mp; /* written once by cav_dl_load, read-only afterwards */
static cav_dl_lib mpi_lib = CAV_DL_LIB(CAV_SONAME_MPI, 1, mpi_syms, &mp);
#ifdef OPEN_MPI
#undef MPI_COMM_WORLD
#define MPI_COMM_WORLD ((MPI_Comm)(void *)mp.ompi_mpi_comm_world)
#undef MPI_BYTE
#define MPI_BYTE ((MPI_Datatype)(void *)mp.ompi_mpi_byte)
#undef MPI_INT32_T
#define MPI_INT32_T ((MPI_Datatype)(void *)mp.ompi_mpi_int32_t)
#undef MPI_INT64_T
#define MPI_INT64_T ((MPI_Datatype)(void *)mp.ompi_mpi_int64_t)
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CAV_LSAN_BEFORE_FINALIZE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CAV_LSAN_BEFORE_FINALIZE 1
#endif
#endif
#ifdef CAV_LSAN_BEFORE_FINALIZE
#include <sanitizer/lsan_interface.h>
/* MPI_Init loads plugins and unloads the ones it does not select: what they keep has stacks
 * nobody can name after the unload, so LeakSanitizer ignores MPI_Init's own allocations */
#define LSAN_OFF() __lsan_disable()
#define LSAN_ON() __lsan_enable()
#else
#define LSAN_OFF() ((void)0)
#define LSAN_ON() ((void)0)
#endif

static void nap(unsigned *us) {
    if (*us < 20) *us = 20;
    struct timespec ts = {0, (long)*us * 1000L};
    nanosleep(&ts, NULL);
    if (*us < 2000) *us += *us / 2;
}

enum { T_REQ = 11, T_GIVE, T_PROG, T_RESULT, T_ABORT };

static struct {
    bool on;
    MPI_Comm comm;
    int rank, size;
    char host[HOST_LEN];
    char *hosts;    /* rank 0: size * HOST_LEN */
    bool released;  /* rank 0: the plan header went out */
    bool plan_sent; /* rank 0: ... with a plan (the others will wait for the verdict) */
    int fail_rank;  /* fault injection (-1: off) */
    uint64_t fail_after;
    uint64_t locality_wait_ns; /* delay scheduling (CSVAVRO_LOCALITY_WAIT_MS, default 0) */
} G = {.fail_rank = -1};

static void wait_req(MPI_Request *rq) {
    unsigned us = 0;
    for (;;) {
        int done = 0;
        mp.MPI_Test(rq, &done, MPI_STATUS_IGNORE);
        if (done) return;
        nap(&us);
    }
}

static void bcast(void *p, int n) {
    MPI_Request rq;
    mp.MPI_Ibcast(p, n, MPI_BYTE, 0, G.comm, &rq);
    wait_req(&rq);
}

static const char *host_of(int r) {
    return G.hosts ? G.hosts + (size_t)r * HOST_LEN : G.host;
}

int csvavro_mpi_init(csvavro_error *err) {
    const char *force = getenv("CSVAVRO_MPI");
    bool launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
    if (force && !strcmp(force, "0")) return -1;
    if (!launched && !(force && !strcmp(force, "1"))) return -1;
    if (cav_dl_load(&mpi_lib, "MPI (started by an MPI launcher, or CSVAVRO_MPI=1)", err) !=
        CSVAVRO_OK)
        return -2;
    int provided = 0;
    LSAN_OFF();
    int rc = mp.MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided);
    LSAN_ON();
    if (rc != MPI_SUCCESS) {
        cav_err(err, CSVAVRO_E_INTERNAL, "MPI_Init_thread failed");
        return -2;
    }
    if (provided < MPI_THREAD_MULTIPLE) {
        mp.MPI_Finalize();
        cav_err(err, CSVAVRO_E_INTERNAL,
                "the MPI library does not provide MPI_THREAD_MULTIPLE (needed by convert)");
        return -2;
    }
    mp.MPI_Comm_dup(MPI_COMM_WORLD, &G.comm);
    mp.MPI_Comm_rank(G.comm, &G.rank);
    mp.MPI_Comm_size(G.comm, &G.size);
    const char *h = getenv("CSVAVRO_HOSTNAME");
    if (h && *h)
        snprintf(G.host, sizeof G.host, "%s", h);
    else if (gethostname(G.host, sizeof G.host - 1) != 0)
        snprintf(G.host, sizeof G.host, "unknown");
    G.host[HOST_LEN - 1] = '\0';
    const char *fr = getenv("CSVAVRO_FAIL_RANK"), *fa = getenv("CSVAVRO_FAIL_AFTER_SPLITS");
    if (fr && *fr) {
        G.fail_rank = atoi(fr);
        G.fail_after = fa ? strtoull(fa, NULL, 10) : 0;
    }
    const char *lw = getenv("CSVAVRO_LOCALITY_WAIT_MS");
    if (lw && *lw) G.locality_wait_ns = strtoull(lw, NULL, 10) * 1000000ull;
    if (G.rank == 0) G.hosts = cav_calloc((size_t)G.size, HOST_LEN);
    MPI_Request rq;
    mp.MPI_Igather(G.host, HOST_LEN, MPI_BYTE, G.hosts, HOST_LEN, MPI_BYTE, 0, G.comm, &rq);
    wait_req(&rq);
    G.on = true;
    return G.rank;
}

/* ------------------------------------------------------------------ delegation token */

/* The token file of this rank: rank 0's own fetch (cancelled at the end when tok_owned), or
 * another rank's private copy of what rank 0 sent (removed at the end). */
static char tok_path[4096];
static bool tok_owned, tok_copy;

/* A private file in $TMPDIR (else /tmp) for the token: its path into tok_path, the fd. */
static int tok_tmpfile(void) {
    const char *d = getenv("TMPDIR");
    snprintf(tok_path, sizeof tok_path, "%s/csvavro-token-XXXXXX", d && *d ? d : "/tmp");
    return mkstemp(tok_path); /* mode 0600 */
}

/* Rank 0: the token file's bytes (fetched for url, or HADOOP_TOKEN_FILE_LOCATION's) into
 * *out; *n = 0 when the cluster does not use Kerberos. */
static csvavro_status tok_lead(const char *url, uint8_t **out, size_t *n, csvavro_error *err) {
    *out = NULL;
    *n = 0;
    const char *given = getenv("HADOOP_TOKEN_FILE_LOCATION");
    const char *file = given;
    if (!given || !*given) {
        int fd = tok_tmpfile();
        if (fd < 0)
            return cav_err(err, CSVAVRO_E_IO, "cannot create a token file in %s: %s", tok_path,
                           strerror(errno));
        close(fd);
        csvavro_status st = csvavro_hdfs_token_fetch(url, NULL, tok_path, err);
        if (st == CSVAVRO_E_UNSUPPORTED) { /* not a Kerberos cluster: nothing to share */
            unlink(tok_path);
            tok_path[0] = '\0';
            csvavro_error_clear(err);
            return CSVAVRO_OK;
        }
        if (st != CSVAVRO_OK) {
            unlink(tok_path);
            tok_path[0] = '\0';
            cav_err_prefix(err, "MPI: rank 0 cannot get a delegation token for the other ranks");
            return st;
        }
        tok_owned = true;
        file = tok_path;
    }
    FILE *f = fopen(file, "rb");
    if (!f) return cav_err(err, CSVAVRO_E_IO, "token file %s: %s", file, strerror(errno));
    size_t cap = 1u << 20;
    uint8_t *b = cav_malloc(cap);
    if (!b) {
        fclose(f);
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    *n = fread(b, 1, cap, f);
    bool bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad || *n == 0) {
        cav_free(b);
        *n = 0;
        return cav_err(err, CSVAVRO_E_IO, "token file %s: unreadable, empty or over 1 MiB", file);
    }
    *out = b;
    return CSVAVRO_OK;
}

/* Other ranks: a private copy of the bytes, named by HADOOP_TOKEN_FILE_LOCATION. */
static csvavro_status tok_follow(const uint8_t *b, size_t n, csvavro_error *err) {
    int fd = tok_tmpfile();
    if (fd < 0)
        return cav_err(err, CSVAVRO_E_IO, "rank %d: cannot create a token file in %s: %s", G.rank,
                       tok_path, strerror(errno));
    tok_copy = true;
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, b + off, n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            close(fd);
            return cav_err(err, CSVAVRO_E_IO, "rank %d: token file %s: %s", G.rank, tok_path,
                           strerror(errno));
        }
        off += (size_t)k;
    }
    close(fd);
    setenv("HADOOP_TOKEN_FILE_LOCATION", tok_path, 1);
    return CSVAVRO_OK;
}

typedef struct tok_head {
    int32_t status; /* rank 0's */
    int32_t pad;
    uint64_t len; /* bytes of the token file that follow, 0 = none */
} tok_head;

csvavro_status csvavro_mpi_share_token(const char *const *urls, size_t n, csvavro_error *err) {
    if (!G.on) return CSVAVRO_OK;
    tok_head h = {0, 0, 0};
    uint8_t *b = NULL;
    size_t len = 0;
    if (G.rank == 0) {
        const char *url = NULL;
        for (size_t i = 0; i < n && !url; i++)
            if (urls[i] && !strncmp(urls[i], "hdfs://", 7)) url = urls[i];
        csvavro_status st = url ? tok_lead(url, &b, &len, err) : CSVAVRO_OK;
        h.status = st;
        h.len = st == CSVAVRO_OK ? len : 0;
    }
    bcast(&h, (int)sizeof h);
    if (h.status != CSVAVRO_OK) {
        cav_free(b);
        if (G.rank != 0)
            cav_err(err, (csvavro_status)h.status, "rank 0 could not share a delegation token");
        return (csvavro_status)h.status;
    }
    if (!h.len) return CSVAVRO_OK;
    if (h.len > (1u << 20)) return cav_err(err, CSVAVRO_E_INTERNAL, "token file too large");
    if (G.rank != 0 && !(b = cav_malloc((size_t)h.len))) {
        /* still take part in the broadcast */
        uint8_t sink[4096];
        for (uint64_t off = 0; off < h.len; off += sizeof sink)
            bcast(sink, (int)CAV_MIN(sizeof sink, h.len - off));
        return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    bcast(b, (int)h.len);
    csvavro_status st = G.rank != 0 ? tok_follow(b, (size_t)h.len, err) : CSVAVRO_OK;
    cav_free(b);
    return st;
}

/* At the end (every path through csvavro_mpi_finalize): once all ranks are here, rank 0
 * cancels the token it obtained; every rank removes its file. */
static void tok_end(void) {
    if (!tok_owned && !tok_copy) return;
    MPI_Request rq;
    mp.MPI_Ibarrier(G.comm, &rq);
    wait_req(&rq);
    if (tok_owned) {
        csvavro_error e;
        csvavro_error_clear(&e);
        if (csvavro_hdfs_token_cancel(tok_path, &e) != CSVAVRO_OK)
            fprintf(stderr,
                    "csvavro: warning: the job's delegation token was not cancelled "
                    "(it expires on its own): %s\n",
                    e.message);
    }
    unlink(tok_path);
    tok_owned = tok_copy = false;
}

void csvavro_mpi_finalize(void) {
    if (!G.on) return;
    tok_end();
    cav_free(G.hosts);
    G.hosts = NULL;
    mp.MPI_Comm_free(&G.comm);
#ifdef CAV_LSAN_BEFORE_FINALIZE
    /* ASan builds: check for leaks now, while Open MPI's plugins are still loaded (after
     * MPI_Finalize unloads them, their allocations have stacks nobody can name or suppress);
     * what Open MPI itself keeps is suppressed by tests/mpi/lsan.supp. Later checks are off. */
    __lsan_do_leak_check();
#endif
    mp.MPI_Finalize();
    G.on = false;
}

/* ------------------------------------------------------------------ messages */

typedef struct live_ctr {
    uint64_t bytes, rows, kept, rejected, done;
} live_ctr;

typedef struct split_res {
    uint64_t index;
    int64_t run_start, range_start, range_end, own_len;
    uint64_t rows_read, rows_kept, rejected, bytes_out, bytes_in;
    uint64_t n_pfiles; /* --partition-by: the part files the split wrote */
    int32_t st;
    uint8_t run_aligned, ran, capped, has_rejects, has_output;
} split_res; /* followed, for each result with st != OK, by its csvavro_error, then by
              * the base name of its part files when n_pfiles > 0 (a u64 length and its
              * bytes; their list is in tmp_dir) */

typedef struct res_head {
    int32_t status; /* the rank's failure outside its splits */
    int32_t failed; /* the rank stopped early (any failure) */
    uint64_t n;     /* split results */
    csvavro_error err;
} res_head;

typedef struct plan_head {
    int32_t status; /* planning failed (or dry run: OK) when len is 0 */
    int32_t pad;
    uint64_t len;
} plan_head;

typedef struct verdict {
    int32_t status;
    csvavro_error err;
} verdict;

static void live_now(const csvavro_job *j, live_ctr *c) {
    csvavro_job *m = (csvavro_job *)j;
    c->bytes = atomic_load_explicit(&m->live_bytes, memory_order_relaxed);
    c->rows = atomic_load_explicit(&m->live_rows, memory_order_relaxed);
    c->kept = atomic_load_explicit(&m->live_kept, memory_order_relaxed);
    c->rejected = atomic_load_explicit(&m->live_rejected, memory_order_relaxed);
    c->done = atomic_load_explicit(&m->live_done, memory_order_relaxed);
}

/* The failure of split si, handed to this rank as its (fail_after + 1)-th (test only). */
static void inject_failure(csvavro_job *j, size_t si) {
    cav_split *s = &j->splits[si];
    s->ran = true;
    csvavro_error_clear(&s->err);
    s->st = cav_err(&s->err, CSVAVRO_E_IO,
                    "injected failure (CSVAVRO_FAIL_RANK=%d, CSVAVRO_FAIL_AFTER_SPLITS=%llu)",
                    G.fail_rank, (unsigned long long)G.fail_after);
    atomic_store(&j->abort_flag, 1);
}

static bool fault_due(uint64_t handed) {
    return G.fail_rank == G.rank && handed == G.fail_after + 1;
}

/* ------------------------------------------------------------------ rank 0 */

typedef struct lead {
    cav_dist base;
    csvavro_job *j;
    pthread_mutex_t mu;
    pthread_t thr;
    bool thr_on;
    cav_locality loc;       /* split placement (exec_locality.c) */
    const char **rank_host; /* per rank: its host name (points into G.hosts) */
    uint64_t handed0;
    /* the other ranks */
    live_ctr *live;
    uint8_t **res;
    size_t *res_len;
    int results_in;
    bool abort, abort_sent;
} lead;

static bool lead_stopping(lead *L) {
    return L->abort || atomic_load(&L->j->abort_flag) || cav_job_cancelled(L->j);
}

static size_t lead_next(cav_dist *d, csvavro_job *j) {
    lead *L = (lead *)d;
    size_t si;
    bool fail;
    for (;;) {
        pthread_mutex_lock(&L->mu);
        si = lead_stopping(L) ? SIZE_MAX : cav_locality_pick(&L->loc, 0, cav_now_ns());
        fail = si < CAV_PICK_WAIT && fault_due(++L->handed0);
        pthread_mutex_unlock(&L->mu);
        if (si != CAV_PICK_WAIT) break;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    if (fail) {
        inject_failure(j, si);
        return SIZE_MAX;
    }
    return si;
}

/* Tells the ranks that are still running to stop (dispenser thread). */
static void send_aborts(lead *L) {
    pthread_mutex_lock(&L->mu);
    bool go = !L->abort_sent && lead_stopping(L);
    if (go) L->abort_sent = true;
    pthread_mutex_unlock(&L->mu);
    if (!go) return;
    static const int32_t one = 1;
    for (int r = 1; r < G.size; r++) {
        if (L->res[r]) continue;
        MPI_Request rq;
        mp.MPI_Isend(&one, 1, MPI_INT32_T, r, T_ABORT, G.comm, &rq);
        wait_req(&rq);
    }
}

static void *dispenser(void *arg) {
    lead *L = arg;
    csvavro_job *j = L->j;
    unsigned us = 0;
    while (L->results_in < G.size - 1) {
        int flag = 0;
        MPI_Message msg;
        MPI_Status mst;
        mp.MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, G.comm, &flag, &msg, &mst);
        if (!flag) {
            send_aborts(L);
            nap(&us);
            continue;
        }
        us = 0;
        int src = mst.MPI_SOURCE, cnt = 0;
        mp.MPI_Get_count(&mst, MPI_BYTE, &cnt);
        uint8_t *buf = cav_malloc(cnt > 0 ? (size_t)cnt : 1);
        if (!buf) {
            fprintf(stderr, "csvavro convert: out of memory in the MPI dispenser\n");
            mp.MPI_Abort(MPI_COMM_WORLD, 1);
        }
        mp.MPI_Mrecv(buf, cnt, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
        if (src <= 0 || src >= G.size) {
            cav_free(buf);
            continue;
        }
        if (mst.MPI_TAG == T_REQ || mst.MPI_TAG == T_PROG) {
            pthread_mutex_lock(&L->mu);
            if ((size_t)cnt == sizeof(live_ctr) && !L->res[src])
                memcpy(&L->live[src], buf, sizeof(live_ctr));
            size_t si = SIZE_MAX;
            if (mst.MPI_TAG == T_REQ && !lead_stopping(L))
                si = cav_locality_pick(&L->loc, src, cav_now_ns());
            pthread_mutex_unlock(&L->mu);
            if (mst.MPI_TAG == T_REQ) {
                int64_t v = si == SIZE_MAX ? -1 : si == CAV_PICK_WAIT ? -2 : (int64_t)si;
                MPI_Request rq;
                mp.MPI_Isend(&v, 1, MPI_INT64_T, src, T_GIVE, G.comm, &rq);
                wait_req(&rq);
            }
            cav_free(buf);
        } else if (mst.MPI_TAG == T_RESULT && !L->res[src]) {
            pthread_mutex_lock(&L->mu);
            L->res[src] = buf;
            L->res_len[src] = (size_t)cnt;
            L->results_in++;
            res_head h;
            if ((size_t)cnt < sizeof h) {
                L->abort = true;
            } else {
                memcpy(&h, buf, sizeof h);
                if (h.failed || h.status != CSVAVRO_OK) L->abort = true;
            }
            if (L->abort) atomic_store(&j->abort_flag, 1);
            pthread_mutex_unlock(&L->mu);
        } else {
            cav_free(buf);
        }
        send_aborts(L);
    }
    return NULL;
}

static csvavro_status lead_start(cav_dist *d, csvavro_job *j, csvavro_error *err) {
    lead *L = (lead *)d;
    cav_buf b;
    cav_buf_init(&b, 0);
    csvavro_status st = cav_plan_encode(j, &b, err);
    if (st == CSVAVRO_OK && b.len > (size_t)INT32_MAX)
        st = cav_err(err, CSVAVRO_E_LIMIT, "plan too large for one MPI message");
    plan_head h = {st == CSVAVRO_OK ? CSVAVRO_OK : st, 0, st == CSVAVRO_OK ? b.len : 0};
    if (st == CSVAVRO_OK && h.len == 0) h.status = CSVAVRO_E_INTERNAL;
    bcast(&h, sizeof h);
    if (h.len) bcast(b.data, (int)h.len);
    G.released = true;
    G.plan_sent = h.len != 0;
    cav_buf_free(&b);
    CAV_TRY(st);
    if (G.size > 1) {
        if (pthread_create(&L->thr, NULL, dispenser, L) != 0) {
            /* the others are already asking for splits: answer "none" until all reported */
            L->abort = true;
            atomic_store(&j->abort_flag, 1);
            dispenser(L);
            return cav_err(err, CSVAVRO_E_INTERNAL, "cannot start the MPI dispenser thread");
        }
        L->thr_on = true;
    }
    return CSVAVRO_OK;
}

/* A string of a result message (bounds-checked; NULL when short or out of memory). */
static char *get_str(const uint8_t *p, size_t n, size_t *off) {
    uint64_t len;
    if (n - *off < sizeof len) return NULL;
    memcpy(&len, p + *off, sizeof len);
    *off += sizeof len;
    if (len > n - *off) return NULL;
    char *s = cav_strndup((const char *)p + *off, (size_t)len);
    *off += (size_t)len;
    return s;
}

/* The part files of split s that a rank wrote under tmp_dir: their count and where they are
 * (pf_base; their list is read from tmp_dir at commit), replacing what rank 0 knew. */
static csvavro_status get_pfiles(csvavro_job *j, cav_split *s, uint64_t n_pf, const uint8_t *p,
                                 size_t n, size_t *off) {
    cav_split_free_pfiles(s, NULL);
    if (n_pf == 0) return CSVAVRO_OK;
    char *base = get_str(p, n, off);
    if (!base || strchr(base, '/') || strncmp(base, "p.", 2)) {
        cav_free(base);
        return CSVAVRO_E_INTERNAL;
    }
    cav_free(s->pf_base);
    s->pf_base = cav_path_join(j->tmp_dir, base);
    cav_free(base);
    if (!s->pf_base) return CSVAVRO_E_NOMEM;
    s->n_pfiles = n_pf;
    return CSVAVRO_OK;
}

static void merge_results(lead *L, csvavro_job *j) {
    for (int r = 1; r < G.size; r++) {
        const uint8_t *p = L->res[r];
        size_t n = L->res_len[r];
        if (!p || n < sizeof(res_head)) continue;
        res_head h;
        memcpy(&h, p, sizeof h);
        size_t off = sizeof h;
        for (uint64_t k = 0; k < h.n && n - off >= sizeof(split_res); k++) {
            split_res x;
            memcpy(&x, p + off, sizeof x);
            off += sizeof x;
            if (x.index >= j->n_splits) break;
            cav_split *s = &j->splits[x.index];
            s->run_start = x.run_start;
            s->range_start = x.range_start;
            s->range_end = x.range_end;
            s->own_len = x.own_len;
            s->rows_read = x.rows_read;
            s->rows_kept = x.rows_kept;
            s->rejected = x.rejected;
            s->bytes_out = x.bytes_out;
            s->bytes_in = x.bytes_in;
            s->st = (csvavro_status)x.st;
            s->run_aligned = x.run_aligned;
            s->ran = x.ran;
            s->capped = x.capped;
            s->has_rejects = x.has_rejects;
            s->has_output = x.has_output;
            csvavro_error_clear(&s->err);
            if (x.st != CSVAVRO_OK && n - off >= sizeof(csvavro_error)) {
                memcpy(&s->err, p + off, sizeof s->err);
                off += sizeof s->err;
                s->err.message[sizeof s->err.message - 1] = '\0';
                s->err.path[sizeof s->err.path - 1] = '\0';
                s->err.column_name[sizeof s->err.column_name - 1] = '\0';
                s->err.value[sizeof s->err.value - 1] = '\0';
            }
            if (x.n_pfiles || s->n_pfiles) {
                csvavro_status ps = get_pfiles(j, s, x.n_pfiles, p, n, &off);
                if (ps != CSVAVRO_OK && s->st == CSVAVRO_OK) { /* the split fails: no commit */
                    cav_split_free_pfiles(s, NULL);
                    s->st =
                        cav_err(&s->err, ps, "rank %d: the list of its part files is damaged", r);
                }
                if (ps != CSVAVRO_OK) break; /* the rest of the message cannot be read */
            }
            /* the names the rank used (exec_run.c names its files the same way) */
            char nm[64];
            if (!s->tmp_name) {
                snprintf(nm, sizeof nm, "split.%zu.avro", (size_t)x.index);
                s->tmp_name = cav_path_join(j->tmp_dir, nm);
            }
            if (s->has_rejects && !s->rej_name) {
                snprintf(nm, sizeof nm, "rejects.%zu", (size_t)x.index);
                s->rej_name = cav_path_join(j->tmp_dir, nm);
            }
        }
    }
}

static csvavro_status lead_gather(cav_dist *d, csvavro_job *j, csvavro_status st,
                                  csvavro_error *err) {
    lead *L = (lead *)d;
    if (st != CSVAVRO_OK) {
        pthread_mutex_lock(&L->mu);
        L->abort = true;
        pthread_mutex_unlock(&L->mu);
        atomic_store(&j->abort_flag, 1);
    }
    if (L->thr_on) {
        pthread_join(L->thr, NULL);
        L->thr_on = false;
    }
    merge_results(L, j);
    for (size_t i = 0; i < j->n_splits; i++) { /* say where a failed split ran */
        cav_split *s = &j->splits[i];
        if (s->ran && s->st != CSVAVRO_OK && L->loc.taken[i])
            cav_err_prefix(&s->err, "rank %d (%s)", L->loc.owner[i], host_of(L->loc.owner[i]));
    }
    if (st != CSVAVRO_OK) {
        cav_err_prefix(err, "rank 0 (%s)", host_of(0));
        return st;
    }
    for (int r = 1; r < G.size; r++) {
        res_head h;
        if (!L->res[r] || L->res_len[r] < sizeof h) {
            return cav_err(err, CSVAVRO_E_INTERNAL, "rank %d (%s) sent no result", r, host_of(r));
        }
        memcpy(&h, L->res[r], sizeof h);
        if (h.status != CSVAVRO_OK) {
            if (err) {
                *err = h.err;
                err->message[sizeof err->message - 1] = '\0';
                err->path[sizeof err->path - 1] = '\0';
                err->column_name[sizeof err->column_name - 1] = '\0';
                err->value[sizeof err->value - 1] = '\0';
                err->status = (csvavro_status)h.status;
            }
            cav_err_prefix(err, "rank %d (%s)", r, host_of(r));
            return (csvavro_status)h.status;
        }
    }
    return CSVAVRO_OK;
}

static void lead_live(cav_dist *d, const csvavro_job *j, csvavro_job_stats *s) {
    lead *L = (lead *)d;
    pthread_mutex_lock(&L->mu);
    for (int r = 1; r < G.size; r++) {
        s->bytes_read += L->live[r].bytes;
        s->rows_read += L->live[r].rows;
        s->rows_kept += L->live[r].kept;
        s->rows_rejected += L->live[r].rejected;
        s->splits_done += L->live[r].done;
    }
    pthread_mutex_unlock(&L->mu);
}

static void lead_summary(cav_dist *d, const csvavro_job *j, bool json) {
    lead *L = (lead *)d;
    for (int r = 0; r < G.size; r++) {
        const uint64_t *c = L->loc.counts[r];
        unsigned long long tot = c[0] + c[1] + c[2];
        if (json)
            fprintf(
                stderr,
                "{\"event\":\"rank\",\"rank\":%d,\"host\":\"%s\",\"splits\":%llu,\"local\":%llu,"
                "\"remote\":%llu,\"no_hosts\":%llu}\n",
                r, host_of(r), tot, (unsigned long long)c[0], (unsigned long long)c[1],
                (unsigned long long)c[2]);
        else
            fprintf(stderr,
                    "csvavro convert: rank %d (%s): %llu split%s: %llu local, %llu remote, %llu "
                    "without hosts\n",
                    r, host_of(r), tot, tot == 1 ? "" : "s", (unsigned long long)c[0],
                    (unsigned long long)c[1], (unsigned long long)c[2]);
    }
}

static void lead_free(lead *L) {
    if (!L) return;
    pthread_mutex_destroy(&L->mu);
    cav_locality_free(&L->loc);
    cav_free(L->rank_host);
    cav_free(L->live);
    if (L->res)
        for (int r = 0; r < G.size; r++)
            cav_free(L->res[r]);
    cav_free(L->res);
    cav_free(L->res_len);
    cav_free(L);
}

static lead *lead_new(csvavro_job *j) {
    lead *L = cav_calloc(1, sizeof *L);
    if (!L) return NULL;
    pthread_mutex_init(&L->mu, NULL);
    L->j = j;
    size_t nr = (size_t)G.size;
    L->rank_host = cav_calloc(nr, sizeof *L->rank_host);
    L->live = cav_calloc(nr, sizeof *L->live);
    L->res = cav_calloc(nr, sizeof *L->res);
    L->res_len = cav_calloc(nr, sizeof *L->res_len);
    if (!L->rank_host || !L->live || !L->res || !L->res_len) {
        lead_free(L);
        return NULL;
    }
    for (int r = 0; r < G.size; r++)
        L->rank_host[r] = host_of(r);
    if (cav_locality_init(&L->loc, G.size, L->rank_host, j->splits, j->n_splits,
                          G.locality_wait_ns) != CSVAVRO_OK) {
        lead_free(L);
        return NULL;
    }
    L->base.rank = 0;
    L->base.start = lead_start;
    L->base.next = lead_next;
    L->base.gather = lead_gather;
    L->base.live = lead_live;
    L->base.summary = lead_summary;
    return L;
}

void csvavro_mpi_release(csvavro_status st) {
    if (!G.on || G.rank != 0 || G.released) return;
    plan_head h = {st == CSVAVRO_OK ? CSVAVRO_OK : st, 0, 0};
    bcast(&h, sizeof h);
    G.released = true;
}

csvavro_status csvavro_mpi_lead(csvavro_job *job, csvavro_job_stats *stats, csvavro_error *err) {
    lead *L = lead_new(job);
    if (!L) {
        csvavro_status st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        csvavro_mpi_release(st);
        return st;
    }
    job->dist = &L->base;
    csvavro_status st = csvavro_job_execute(job, stats, err);
    if (!G.released) csvavro_mpi_release(st != CSVAVRO_OK ? st : CSVAVRO_E_INTERNAL);
    if (L->thr_on) { /* the pool never reached its gather step: stop the others, wait */
        pthread_mutex_lock(&L->mu);
        L->abort = true;
        pthread_mutex_unlock(&L->mu);
        pthread_join(L->thr, NULL);
        L->thr_on = false;
    }
    job->dist = NULL;
    if (G.plan_sent) { /* the others ran splits and wait for the outcome */
        verdict v;
        memset(&v, 0, sizeof v);
        v.status = st;
        if (st != CSVAVRO_OK && err) v.err = *err;
        bcast(&v, sizeof v);
    }
    lead_free(L);
    return st;
}

/* ------------------------------------------------------------------ ranks > 0 */

typedef struct follow {
    cav_dist base;
    pthread_mutex_t mu; /* one request at a time */
    bool no_more;
    size_t *mine; /* splits handed to this rank */
    size_t n_mine;
    uint64_t last_prog_ns;
} follow;

static size_t follow_next(cav_dist *d, csvavro_job *j) {
    follow *F = (follow *)d;
    if (atomic_load(&j->abort_flag) || cav_job_cancelled(j)) return SIZE_MAX;
    pthread_mutex_lock(&F->mu);
    if (F->no_more) {
        pthread_mutex_unlock(&F->mu);
        return SIZE_MAX;
    }
    int64_t v = -2;
    while (v == -2) { /* -2: ask again later (delay scheduling) */
        live_ctr c;
        live_now(j, &c);
        MPI_Request rq[2];
        mp.MPI_Irecv(&v, 1, MPI_INT64_T, 0, T_GIVE, G.comm, &rq[1]);
        mp.MPI_Isend(&c, sizeof c, MPI_BYTE, 0, T_REQ, G.comm, &rq[0]);
        wait_req(&rq[0]);
        wait_req(&rq[1]);
        if (v == -2 && (atomic_load(&j->abort_flag) || cav_job_cancelled(j))) v = -1;
        if (v == -2) {
            struct timespec ts = {0, 10000000L};
            nanosleep(&ts, NULL);
        }
    }
    size_t si = SIZE_MAX;
    bool fail = false;
    if (v < 0 || (uint64_t)v >= j->n_splits || F->n_mine >= j->n_splits) {
        F->no_more = true;
    } else {
        si = (size_t)v;
        F->mine[F->n_mine++] = si;
        fail = fault_due(F->n_mine);
    }
    pthread_mutex_unlock(&F->mu);
    if (fail) {
        inject_failure(j, si);
        return SIZE_MAX;
    }
    return si;
}

static void follow_tick(cav_dist *d, csvavro_job *j) {
    follow *F = (follow *)d;
    uint64_t now = cav_now_ns();
    if (now - F->last_prog_ns >= 250000000ull) {
        F->last_prog_ns = now;
        live_ctr c;
        live_now(j, &c);
        MPI_Request rq;
        mp.MPI_Isend(&c, sizeof c, MPI_BYTE, 0, T_PROG, G.comm, &rq);
        wait_req(&rq);
    }
    int flag = 0;
    mp.MPI_Iprobe(0, T_ABORT, G.comm, &flag, MPI_STATUS_IGNORE);
    if (flag) {
        int32_t x;
        mp.MPI_Recv(&x, 1, MPI_INT32_T, 0, T_ABORT, G.comm, MPI_STATUS_IGNORE);
        atomic_store(&j->abort_flag, 1);
    }
}

static bool put_str(cav_buf *b, const char *str) {
    uint64_t n = strlen(str);
    return cav_buf_append(b, &n, sizeof n, NULL) == CSVAVRO_OK &&
           cav_buf_append(b, str, (size_t)n, NULL) == CSVAVRO_OK;
}

/* The rank's result: its status and the results of the splits it was handed. */
static void send_result(follow *F, csvavro_job *j, csvavro_status st, const csvavro_error *err) {
    cav_buf b;
    cav_buf_init(&b, 0);
    res_head h;
    memset(&h, 0, sizeof h);
    h.status = st;
    h.failed =
        st != CSVAVRO_OK || (j && atomic_load(&j->abort_flag)) || (j && cav_job_cancelled(j));
    if (st != CSVAVRO_OK && err) h.err = *err;
    size_t n = F && j ? F->n_mine : 0;
    h.n = n;
    bool ok = cav_buf_append(&b, &h, sizeof h, NULL) == CSVAVRO_OK;
    for (size_t k = 0; k < n && ok; k++) {
        const cav_split *s = &j->splits[F->mine[k]];
        split_res x;
        memset(&x, 0, sizeof x);
        x.index = F->mine[k];
        x.run_start = s->run_start;
        x.range_start = s->range_start;
        x.range_end = s->range_end;
        x.own_len = s->own_len;
        x.rows_read = s->rows_read;
        x.rows_kept = s->rows_kept;
        x.rejected = s->rejected;
        x.bytes_out = s->bytes_out;
        x.bytes_in = s->bytes_in;
        x.st = s->st;
        x.run_aligned = s->run_aligned;
        x.ran = s->ran;
        x.capped = s->capped;
        x.has_rejects = s->has_rejects;
        x.has_output = s->has_output;
        x.n_pfiles = s->n_pfiles;
        ok = cav_buf_append(&b, &x, sizeof x, NULL) == CSVAVRO_OK;
        if (ok && s->st != CSVAVRO_OK)
            ok = cav_buf_append(&b, &s->err, sizeof s->err, NULL) == CSVAVRO_OK;
        if (ok && s->n_pfiles) {
            const char *pb = strrchr(s->pf_base, '/');
            ok = put_str(&b, pb ? pb + 1 : s->pf_base);
        }
    }
    if (!ok || b.len > (size_t)INT32_MAX) { /* send at least the failure */
        memset(&h, 0, sizeof h);
        h.status = CSVAVRO_E_NOMEM;
        h.failed = 1;
        cav_err(&h.err, CSVAVRO_E_NOMEM, "out of memory sending the split results");
        cav_buf_reset(&b);
        if (cav_buf_append(&b, &h, sizeof h, NULL) != CSVAVRO_OK) {
            MPI_Request rq;
            mp.MPI_Isend(&h, sizeof h, MPI_BYTE, 0, T_RESULT, G.comm, &rq);
            wait_req(&rq);
            cav_buf_free(&b);
            return;
        }
    }
    MPI_Request rq;
    mp.MPI_Isend(b.data, (int)b.len, MPI_BYTE, 0, T_RESULT, G.comm, &rq);
    wait_req(&rq);
    cav_buf_free(&b);
}

static csvavro_status follow_gather(cav_dist *d, csvavro_job *j, csvavro_status st,
                                    csvavro_error *err) {
    send_result((follow *)d, j, st, err);
    return st;
}

csvavro_status csvavro_mpi_follow(const csvavro_job_options *o, csvavro_error *err) {
    if (!G.on) return cav_err(err, CSVAVRO_E_USAGE, "MPI is not initialised");
    plan_head h;
    bcast(&h, sizeof h);
    if (h.len == 0) return h.status == CSVAVRO_OK ? CSVAVRO_OK : (csvavro_status)h.status;
    uint8_t *plan = h.len <= (uint64_t)INT32_MAX ? cav_malloc((size_t)h.len) : NULL;
    if (!plan) { /* cannot even receive it: the collective still has to complete */
        fprintf(stderr, "csvavro convert: rank %d: out of memory for the plan\n", G.rank);
        mp.MPI_Abort(MPI_COMM_WORLD, 1);
    }
    bcast(plan, (int)h.len);
    csvavro_job_options fo = *o;
    fo.progress = CSVAVRO_PROGRESS_NONE;
    fo.progress_fn = NULL;
    fo.dry_run = 0;
    csvavro_job *j = NULL;
    csvavro_error lerr;
    csvavro_error_clear(&lerr);
    follow F;
    memset(&F, 0, sizeof F);
    pthread_mutex_init(&F.mu, NULL);
    F.base.rank = G.rank;
    F.base.next = follow_next;
    F.base.tick = follow_tick;
    F.base.gather = follow_gather;
    csvavro_status st = csvavro_job_create(&fo, &j, &lerr);
    if (st == CSVAVRO_OK) st = cav_plan_decode(j, plan, (size_t)h.len, &lerr);
    cav_free(plan);
    if (st == CSVAVRO_OK) {
        F.mine = cav_calloc(j->n_splits ? j->n_splits : 1, sizeof *F.mine);
        if (!F.mine) st = cav_err(&lerr, CSVAVRO_E_NOMEM, "out of memory");
    }
    if (st == CSVAVRO_OK) {
        j->dist = &F.base;
        j->start_ns = cav_now_ns();
        F.last_prog_ns = j->start_ns;
        st = cav_job_run_splits(j, &lerr); /* sends the results (follow_gather) */
    } else {
        send_result(&F, NULL, st, &lerr);
    }
    verdict v;
    bcast(&v, sizeof v);
    /* an abort notice that crossed our result */
    for (;;) {
        int flag = 0;
        mp.MPI_Iprobe(0, T_ABORT, G.comm, &flag, MPI_STATUS_IGNORE);
        if (!flag) break;
        int32_t x;
        mp.MPI_Recv(&x, 1, MPI_INT32_T, 0, T_ABORT, G.comm, MPI_STATUS_IGNORE);
    }
    if (j) j->dist = NULL;
    csvavro_job_free(j);
    cav_free(F.mine);
    pthread_mutex_destroy(&F.mu);
    if (err) {
        *err = v.err;
        err->message[sizeof err->message - 1] = '\0';
        err->path[sizeof err->path - 1] = '\0';
    }
    return (csvavro_status)v.status;
}

#else /* no MPI in this build */

static long env_long(const char *name, long dflt) {
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : dflt;
}

int csvavro_mpi_init(csvavro_error *err) {
    const char *force = getenv("CSVAVRO_MPI");
    if (force && !strcmp(force, "0")) return -1;
    bool several = env_long("OMPI_COMM_WORLD_SIZE", 1) > 1 || env_long("PMI_SIZE", 1) > 1 ||
                   env_long("PMIX_RANK", 0) > 0 || env_long("PMI_RANK", 0) > 0;
    if (several || (force && !strcmp(force, "1"))) {
        cav_err(err, CSVAVRO_E_USAGE,
                "this csvavro was built without MPI: one job cannot run over several ranks "
                "(rebuild with libopenmpi-dev installed)");
        return -2;
    }
    return -1;
}
csvavro_status csvavro_mpi_lead(csvavro_job *job, csvavro_job_stats *stats, csvavro_error *err) {
    return csvavro_job_execute(job, stats, err);
}
void csvavro_mpi_release(csvavro_status st) {
    (void)st;
}
csvavro_status csvavro_mpi_follow(const csvavro_job_options *o, csvavro_error *err) {
    return cav_err(err, CSVAVRO_E_USAGE, "this csvavro was built without MPI");
}
csvavro_status csvavro_mpi_share_token(const char *const *urls, size_t n, csvavro_error *err) {
    (void)urls;
    (void)n;
    (void)err;
    return CSVAVRO_OK;
}
void csvavro_mpi_finalize(void) {}

#endif
