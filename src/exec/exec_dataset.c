/*
 * exec_dataset.c — datasets on any backend: the commit lock, liveness of running jobs, the
 * dataset manifest, the intent record and the recovery of an interrupted commit.
 *
 * A dataset is a directory D written by csvavro jobs (pattern and directory outputs). Its
 * manifest D/_SUCCESS lists every committed job and every file the jobs committed; a reader
 * that trusts it never sees a partial or foreign file. Files in D (all names starting with
 * '_' or '.', which Hive, Spark and csvavro's own readers skip):
 *   _SUCCESS              the manifest (JSON), replaced by one rename at each commit
 *   _csvavro.lock         the commit lock: created if absent, holds the holder's temp dir name
 *   _csvavro.intent       the commit in progress: renames, backups, old files, the reject file
 *   .csvavro-tmp-<id>/    a job's temporary directory; its mtime is the job's heartbeat
 *
 * Liveness works without shared clocks or pids: a running job renames a file inside its temp
 * directory every lease/5 ms, which moves the directory's mtime (on local disks and on HDFS).
 * A temp directory (or the lock of a holder without one) is stale when its mtime is older than
 * the backend's "now" minus the lease; "now" is the mtime of a probe file created for the
 * purpose, so only the file system's clock is compared with itself. A job on this host whose
 * pid is gone is stale at once.
 *
 * Commit (exec_commit.c drives it, under the lock): every file complete in the temp dir, the
 * new manifest written there; the intent record renamed into D; an overwrite moves every file
 * of the previous manifest into the temp dir (old.<i>); our files renamed to their final names
 * (a foreign file in the way of an overwrite moved aside as replaced.<i>); the new manifest
 * renamed over _SUCCESS (the commit point); the directories the old files left empty removed;
 * the reject file renamed; the intent removed; the lock released; the temp dir (with the old
 * files) removed. Recovery of an intent whose holder died (cav_ds_recover, by the next job or
 * any reader, under the lock): if the manifest names the intent's job the commit is rolled
 * forward (emptied directories, reject file; the "deletes" of older intents), else back (our
 * final files removed, backups and old files put back, created directories removed); then
 * intent and temp dir go. The intent is read whole: a few hundred bytes per file of the job.
 */
#include "exec.h"

#include "../io/io.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_META_BYTES ((int64_t)256 << 20)

int64_t cav_ds_lease_ms(void) {
    const char *e = getenv("CSVAVRO_LEASE_MS");
    uint64_t v = 0;
    if (e && cav_parse_u64(e, &v) && v >= 200 && v <= 86400000) return (int64_t)v;
    return 30000;
}

/* ------------------------------------------------------------------ fault points */

static _Atomic int fault_counter;

void cav_ds_fault(const char *step) {
    static int target = -1, trace = -1;
    if (target < 0) {
        const char *e = getenv("CSVAVRO_COMMIT_FAULT");
        target = e ? atoi(e) : 0;
        trace = getenv("CSVAVRO_COMMIT_TRACE") != NULL;
    }
    if (target <= 0 && !trace) return;
    int n = atomic_fetch_add(&fault_counter, 1) + 1;
    if (trace) fprintf(stderr, "csvavro: commit step %d: %s\n", n, step);
    if (n == target) {
        fflush(NULL);
        raise(SIGKILL);
    }
}

/* Test hook: CSVAVRO_LOCK_JITTER=N sleeps 0..N ms at the steps of a lock takeover, so that a
 * test races takers through every interleaving (tests/unit/test_lock.c). */
static void lock_jitter(void) {
    static int max_ms = -1;
    if (max_ms < 0) {
        const char *e = getenv("CSVAVRO_LOCK_JITTER");
        max_ms = e ? atoi(e) : 0;
        if (max_ms < 0 || max_ms > 1000) max_ms = 0;
    }
    if (max_ms == 0) return;
    uint32_t r = 0;
    if (cav_random_bytes(&r, sizeof r, NULL) != CSVAVRO_OK) return;
    struct timespec ts = {0, (long)(r % ((uint32_t)max_ms * 1000u)) * 1000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ small files */

csvavro_status cav_ds_read_text(csvavro_fs *fs, const char *path, char **out, csvavro_error *err) {
    *out = NULL;
    csvavro_file *f = NULL;
    CAV_TRY(csvavro_fs_open_read(fs, path, &f, err));
    int64_t size = csvavro_file_size(f);
    csvavro_status st = CSVAVRO_OK;
    char *buf = NULL;
    if (size < 0 || size > MAX_META_BYTES) {
        cav_err_path(err, path);
        st = cav_err(err, CSVAVRO_E_LIMIT, "metadata file larger than 256 MiB");
    } else if (!(buf = cav_malloc((size_t)size + 1))) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    } else {
        size_t got = 0;
        st = csvavro_file_pread(f, buf, (size_t)size, 0, &got, err);
        buf[st == CSVAVRO_OK ? got : 0] = '\0';
    }
    csvavro_error e2;
    csvavro_file_close(f, &e2);
    if (st != CSVAVRO_OK) {
        cav_free(buf);
        return st;
    }
    *out = buf;
    return CSVAVRO_OK;
}

csvavro_status cav_ds_write_text(csvavro_fs *fs, const char *path, const char *text, int overwrite,
                                 csvavro_error *err) {
    csvavro_file *f = NULL;
    CAV_TRY(csvavro_fs_create(fs, path, overwrite, &f, err));
    csvavro_status st = csvavro_file_write(f, text, strlen(text), err);
    if (st == CSVAVRO_OK) return csvavro_file_close(f, err);
    csvavro_file_abort(f);
    return st;
}

static bool exists(csvavro_fs *fs, const char *path) {
    csvavro_stat sb;
    return csvavro_fs_stat(fs, path, &sb, NULL) == CSVAVRO_OK;
}

static csvavro_status remove_if_there(csvavro_fs *fs, const char *path, int recursive,
                                      csvavro_error *err) {
    csvavro_error e2;
    csvavro_status st = csvavro_fs_remove(fs, path, recursive, &e2);
    if (st == CSVAVRO_OK || st == CSVAVRO_E_NOT_FOUND || !exists(fs, path)) return CSVAVRO_OK;
    if (err) *err = e2;
    return st;
}

/* Removes the directories of rel (a name relative to dir, "a=1/b=2/f.avro"), deepest first,
 * while they are empty (a non-recursive remove refuses a directory that is not): the partition
 * directories a rolled back commit or an overwrite's deletions left empty. */
void cav_ds_prune_dirs(csvavro_fs *fs, const char *dir, const char *rel) {
    char *p = cav_path_join(dir, rel);
    size_t base = strlen(dir);
    while (p && strlen(p) > base + 1) {
        char *slash = strrchr(p, '/');
        if (!slash || (size_t)(slash - p) <= base) break;
        *slash = '\0';
        if (csvavro_fs_remove(fs, p, 0, NULL) != CSVAVRO_OK) break;
    }
    cav_free(p);
}

/* ------------------------------------------------------------------ liveness */

void cav_ds_host_name(char *host, size_t cap) {
    snprintf(host, cap, "host");
    gethostname(host, cap - 1);
    host[cap - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '-' || *c == '/' || *c == '.') *c = '_';
}

/* A job of this host (by the name of its temp dir, host-pid-random) whose pid is gone. */
static bool dead_here(const char *tmp_name) {
    if (strncmp(tmp_name, CAV_TMP_PREFIX, strlen(CAV_TMP_PREFIX)) != 0) return false;
    const char *rest = tmp_name + strlen(CAV_TMP_PREFIX);
    char host[128];
    cav_ds_host_name(host, sizeof host);
    size_t hl = strlen(host);
    if (strncmp(rest, host, hl) != 0 || rest[hl] != '-') return false;
    long pid = strtol(rest + hl + 1, NULL, 10);
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* The backend's clock: the mtime of a probe file created and removed in dir. */
static csvavro_status fs_now(csvavro_fs *fs, const char *dir, int64_t *now, csvavro_error *err) {
    uint32_t rnd = 0;
    CAV_TRY(cav_random_bytes(&rnd, sizeof rnd, err));
    char name[64];
    snprintf(name, sizeof name, ".csvavro-now-%08x", rnd);
    char *p = cav_path_join(dir, name);
    if (!p) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    csvavro_status st = cav_ds_write_text(fs, p, "", 0, err);
    csvavro_stat sb;
    if (st == CSVAVRO_OK) st = csvavro_fs_stat(fs, p, &sb, err);
    if (st == CSVAVRO_OK) *now = sb.mtime_ms;
    csvavro_fs_remove(fs, p, 0, NULL);
    cav_free(p);
    return st;
}

/* A temp dir (or probe) named name in dir is stale: its job is dead. */
static bool entry_stale(const csvavro_dirent *d, int64_t now, int64_t lease) {
    return dead_here(d->name) || d->st.mtime_ms < now - lease;
}

/* ------------------------------------------------------------------ the lock */

static csvavro_status lock_path(const char *dir, char **out, csvavro_error *err) {
    *out = cav_path_join(dir, CAV_DS_LOCK);
    return *out ? CSVAVRO_OK : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
}

/* The holder named in a lock is dead: its temp dir is stale, or (no temp dir: a reader
 * recovering, or a job past its commit) the lock file itself is older than the lease. */
static bool holder_dead(csvavro_fs *fs, const char *dir, const char *holder,
                        const csvavro_stat *lock_st, int64_t now, int64_t lease) {
    if (*holder && dead_here(holder)) return true;
    csvavro_stat sb;
    char *t = *holder && !strchr(holder, '/') ? cav_path_join(dir, holder) : NULL;
    bool have = t && csvavro_fs_stat(fs, t, &sb, NULL) == CSVAVRO_OK && sb.is_dir;
    cav_free(t);
    int64_t beat = have ? CAV_MAX(sb.mtime_ms, lock_st->mtime_ms) : lock_st->mtime_ms;
    return beat < now - lease;
}

/* The name of the takeover token of one lock episode (its holder and mtime), generation g:
 * ".csvavro-lock-taken-<hash>-<g>" (settle removes it once stale). */
static char *token_path(const char *dir, const char *holder, int64_t mtime, unsigned g) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a over holder and mtime */
    for (const char *c = holder; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    for (int i = 0; i < 8; i++)
        h = (h ^ (uint8_t)((uint64_t)mtime >> (8 * i))) * 1099511628211ull;
    char nm[80];
    snprintf(nm, sizeof nm, ".csvavro-lock-taken-%016llx-%u", (unsigned long long)h, g);
    return cav_path_join(dir, nm);
}

/* The lock's holder (first line) and stat, or false when there is no readable lock. */
static bool read_lock(csvavro_fs *fs, const char *lp, char **holder, csvavro_stat *st) {
    *holder = NULL;
    if (csvavro_fs_stat(fs, lp, st, NULL) != CSVAVRO_OK ||
        cav_ds_read_text(fs, lp, holder, NULL) != CSVAVRO_OK)
        return false;
    char *nl = strchr(*holder, '\n');
    if (nl) *nl = '\0';
    return true;
}

/* Takes over the lock episode (other, lst) judged dead. Exclusive among takers: the token of
 * the episode is created only if absent (a generation further when the token's own creator is
 * dead), and under it the lock is removed only if it is still that episode — which nobody but
 * the token's holder can change (its holder is dead; a new lock needs the old one gone). Then
 * the lock is created if absent like any other. Returns true when it holds the lock. */
static bool take_over(csvavro_fs *fs, const char *dir, const char *lp, const char *text,
                      const char *other, const csvavro_stat *lst, int64_t now, int64_t lease) {
    bool got = false;
    for (unsigned g = 0; g < 64; g++) {
        char *tp = token_path(dir, other, lst->mtime_ms, g);
        if (!tp) return false;
        csvavro_error e2;
        csvavro_status st = cav_ds_write_text(fs, tp, text, 0, &e2);
        if (st == CSVAVRO_OK) {
            char *cur = NULL;
            csvavro_stat cst;
            lock_jitter();
            if (read_lock(fs, lp, &cur, &cst) && !strcmp(cur, other) &&
                cst.mtime_ms == lst->mtime_ms) { /* still the episode judged dead */
                lock_jitter();
                if (csvavro_fs_remove(fs, lp, 0, NULL) == CSVAVRO_OK)
                    got = cav_ds_write_text(fs, lp, text, 0, &e2) == CSVAVRO_OK;
            }
            cav_free(cur);
            csvavro_fs_remove(fs, tp, 0, NULL);
            cav_free(tp);
            return got;
        }
        if (st != CSVAVRO_E_EXISTS) {
            cav_free(tp);
            return false;
        }
        /* another taker holds the token: wait for it, unless it died holding it */
        char *tok = NULL;
        csvavro_stat tst;
        bool dead = read_lock(fs, tp, &tok, &tst) && holder_dead(fs, dir, tok, &tst, now, lease);
        cav_free(tok);
        cav_free(tp);
        if (!dead) return false;
    }
    return false;
}

csvavro_status cav_ds_lock(csvavro_fs *fs, const char *dir, const char *holder,
                           csvavro_error *err) {
    char *lp = NULL;
    CAV_TRY(lock_path(dir, &lp, err));
    size_t hl = strlen(holder);
    char *text = cav_malloc(hl + 2);
    csvavro_status st = CSVAVRO_OK;
    if (!text) {
        st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        goto done;
    }
    memcpy(text, holder, hl);
    text[hl] = '\n';
    text[hl + 1] = '\0';
    const int64_t lease = cav_ds_lease_ms();
    for (unsigned round = 0;; round++) {
        csvavro_error e2;
        st = cav_ds_write_text(fs, lp, text, 0, &e2);
        if (st == CSVAVRO_OK) break;
        if (st != CSVAVRO_E_EXISTS) {
            if (err) *err = e2;
            cav_err_prefix(err, "commit lock");
            goto done;
        }
        st = CSVAVRO_OK;
        /* held: by a live job (wait) or a dead one (take it over) */
        char *other = NULL;
        csvavro_stat lst;
        int64_t now = 0;
        if (read_lock(fs, lp, &other, &lst) && fs_now(fs, dir, &now, NULL) == CSVAVRO_OK &&
            holder_dead(fs, dir, other, &lst, now, lease) && (lock_jitter(), true) &&
            take_over(fs, dir, lp, text, other, &lst, now, lease)) {
            cav_free(other);
            break;
        }
        cav_free(other);
        struct timespec ts = {0, (long)(20 + (round < 10 ? round * 10 : 100)) * 1000000L};
        nanosleep(&ts, NULL);
    }
done:
    cav_free(lp);
    cav_free(text);
    return st;
}

void cav_ds_unlock(csvavro_fs *fs, const char *dir, const char *holder) {
    char *lp = cav_path_join(dir, CAV_DS_LOCK);
    char *text = NULL;
    if (lp && cav_ds_read_text(fs, lp, &text, NULL) == CSVAVRO_OK) {
        char *nl = strchr(text, '\n');
        if (nl) *nl = '\0';
        if (!strcmp(text, holder)) csvavro_fs_remove(fs, lp, 0, NULL);
    }
    cav_free(text);
    cav_free(lp);
}

/* ------------------------------------------------------------------ manifest */

csvavro_status cav_ds_manifest_load(csvavro_fs *fs, const char *dir, json_t **out,
                                    csvavro_error *err) {
    *out = NULL;
    char *p = cav_path_join(dir, CAV_DS_MANIFEST);
    if (!p) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    char *text = NULL;
    csvavro_error e2;
    csvavro_status st = cav_ds_read_text(fs, p, &text, &e2);
    if (st == CSVAVRO_E_NOT_FOUND || (st != CSVAVRO_OK && !exists(fs, p))) {
        cav_free(p);
        return CSVAVRO_OK;
    }
    if (st != CSVAVRO_OK) {
        if (err) *err = e2;
        cav_free(p);
        return st;
    }
    if (!*text) { /* Hadoop's FileOutputCommitter writes an empty _SUCCESS: no manifest */
        cav_free(text);
        cav_free(p);
        return CSVAVRO_OK;
    }
    json_error_t je;
    json_t *m = json_loads(text, 0, &je);
    cav_free(text);
    if (!m || !json_is_object(m) || !json_is_array(json_object_get(m, "outputs"))) {
        json_decref(m);
        cav_err_path(err, p);
        cav_free(p);
        return cav_err(err, CSVAVRO_E_CORRUPT, "not a csvavro manifest (%s)",
                       m ? "no \"outputs\" list" : je.text);
    }
    cav_free(p);
    *out = m;
    return CSVAVRO_OK;
}

const char *cav_ds_output_name(json_t *o) {
    const char *n = json_string_value(json_object_get(o, "name"));
    if (n) return n;
    /* manifests of csvavro 1: absolute paths or URLs of files in the directory itself */
    const char *p = json_string_value(json_object_get(o, "path"));
    if (!p) return NULL;
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

bool cav_ds_manifest_has_job(json_t *m, const char *job) {
    json_t *jobs = json_object_get(m, "jobs");
    size_t i;
    json_t *v;
    json_array_foreach(jobs, i, v) {
        const char *id = json_string_value(json_object_get(v, "job"));
        if (id && !strcmp(id, job)) return true;
    }
    return false;
}

/* ------------------------------------------------------------------ recovery */

static csvavro_status recover_reject(json_t *rj, bool forward, csvavro_error *err) {
    const char *from = json_string_value(json_array_get(rj, 0));
    const char *to = json_string_value(json_array_get(rj, 1));
    if (!from || !to) return CSVAVRO_OK;
    csvavro_fs *fs = NULL;
    char *pf = NULL, *pt = NULL;
    CAV_TRY(csvavro_fs_open_url(from, &fs, &pf, err));
    csvavro_status st = CSVAVRO_OK;
    if (!forward) {
        st = remove_if_there(fs, pf, 0, err);
    } else if (exists(fs, pf)) {
        csvavro_fs *fs2 = NULL;
        st = csvavro_fs_open_url(to, &fs2, &pt, err);
        if (st == CSVAVRO_OK) st = csvavro_fs_rename(fs, pf, pt, 1, err);
        csvavro_fs_close(fs2);
    }
    cav_free(pf);
    cav_free(pt);
    csvavro_fs_close(fs);
    return st;
}

csvavro_status cav_ds_recover(csvavro_fs *fs, const char *dir, csvavro_error *err) {
    char *ip = cav_path_join(dir, CAV_DS_INTENT);
    if (!ip) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    char *text = NULL;
    csvavro_error e2;
    csvavro_status st = cav_ds_read_text(fs, ip, &text, &e2);
    if (st != CSVAVRO_OK) {
        cav_free(ip);
        if (st == CSVAVRO_E_NOT_FOUND || !exists(fs, ip)) return CSVAVRO_OK;
        if (err) *err = e2;
        return st;
    }
    json_error_t je;
    json_t *in = json_loads(text, 0, &je);
    cav_free(text);
    const char *job = json_string_value(json_object_get(in, "job"));
    const char *tmp = json_string_value(json_object_get(in, "tmp"));
    if (!in || !job || !tmp || strchr(tmp, '/') ||
        strncmp(tmp, CAV_TMP_PREFIX, strlen(CAV_TMP_PREFIX))) {
        json_decref(in);
        cav_err_path(err, ip);
        cav_free(ip);
        return cav_err(err, CSVAVRO_E_CORRUPT, "damaged commit intent record");
    }
    json_t *man = NULL;
    st = cav_ds_manifest_load(fs, dir, &man, err);
    char *tdir = cav_path_join(dir, tmp);
    if (st == CSVAVRO_OK && !tdir) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    bool forward = st == CSVAVRO_OK && man && cav_ds_manifest_has_job(man, job);
    json_decref(man);
    if (st == CSVAVRO_OK && forward) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(in, "deletes"), i, v) {
            char *p = json_string_value(v) ? cav_path_join(dir, json_string_value(v)) : NULL;
            if (p) st = remove_if_there(fs, p, 0, err);
            cav_free(p);
            if (st != CSVAVRO_OK) break;
            cav_ds_prune_dirs(fs, dir, json_string_value(v));
            cav_ds_fault("recover: delete a file of the replaced dataset");
        }
        /* an overwrite's old files are in the temp dir (removed with it): their partition
         * directories that this left empty */
        json_array_foreach(json_object_get(in, "olds"), i, v) {
            const char *nm = json_string_value(v);
            if (nm && !strstr(nm, "..") && nm[0] != '/') cav_ds_prune_dirs(fs, dir, nm);
        }
    } else if (st == CSVAVRO_OK) {
        json_t *rn = json_object_get(in, "renames");
        for (size_t i = json_array_size(rn); i-- > 0 && st == CSVAVRO_OK;) {
            json_t *r = json_array_get(rn, i);
            const char *from = json_string_value(json_array_get(r, 0));
            const char *to = json_string_value(json_array_get(r, 1));
            const char *bak = json_string_value(json_array_get(r, 2));
            if (!from || !to) continue;
            char *pf = cav_path_join(tdir, from), *pt = cav_path_join(dir, to);
            char *pb = bak ? cav_path_join(tdir, bak) : NULL;
            if (!pf || !pt || (bak && !pb)) {
                st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            } else {
                /* moved already: the final file is ours */
                if (!exists(fs, pf) && exists(fs, pt)) st = csvavro_fs_remove(fs, pt, 0, err);
                if (st == CSVAVRO_OK && pb && exists(fs, pb))
                    st = csvavro_fs_rename(fs, pb, pt, 1, err);
            }
            cav_free(pf);
            cav_free(pt);
            cav_free(pb);
            if (st == CSVAVRO_OK) cav_ds_fault("recover: take back one file");
        }
        /* an overwrite's old files back at their names (tdir/old.<i> is olds[i]) */
        json_t *ol = json_object_get(in, "olds");
        for (size_t i = 0; i < json_array_size(ol) && st == CSVAVRO_OK; i++) {
            const char *nm = json_string_value(json_array_get(ol, i));
            if (!nm || strstr(nm, "..") || nm[0] == '/') continue;
            char b[48];
            snprintf(b, sizeof b, "old.%zu", i);
            char *pb = cav_path_join(tdir, b), *pt = cav_path_join(dir, nm);
            if (!pb || !pt)
                st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            else if (exists(fs, pb))
                st = csvavro_fs_rename(fs, pb, pt, 1, err);
            cav_free(pb);
            cav_free(pt);
            if (st == CSVAVRO_OK) cav_ds_fault("recover: put back an old file");
        }
        /* the partition directories the commit created, deepest first, when empty */
        json_t *md = json_object_get(in, "mkdirs");
        for (size_t i = json_array_size(md); i-- > 0 && st == CSVAVRO_OK;) {
            const char *d = json_string_value(json_array_get(md, i));
            char *pd = d && !strstr(d, "..") && d[0] != '/' ? cav_path_join(dir, d) : NULL;
            if (pd) csvavro_fs_remove(fs, pd, 0, NULL);
            cav_free(pd);
        }
    }
    json_t *rj = json_object_get(in, "reject");
    if (st == CSVAVRO_OK && json_is_array(rj)) {
        st = recover_reject(rj, forward, err);
        if (st == CSVAVRO_OK) cav_ds_fault("recover: reject file");
    }
    if (st == CSVAVRO_OK) st = csvavro_fs_remove(fs, ip, 0, err);
    if (st == CSVAVRO_OK) {
        cav_ds_fault("recover: intent removed");
        remove_if_there(fs, tdir, 1, NULL);
    }
    if (st != CSVAVRO_OK) cav_err_prefix(err, "recovering the interrupted commit of %s", job);
    json_decref(in);
    cav_free(tdir);
    cav_free(ip);
    return st;
}

/* ------------------------------------------------------------------ settle */

static bool is_tmp_name(const char *n) {
    return !strncmp(n, CAV_TMP_PREFIX, strlen(CAV_TMP_PREFIX)) ||
           !strncmp(n, ".csvavro-now-", 13) || !strncmp(n, ".csvavro-lock-taken", 19);
}

csvavro_status cav_ds_settle(csvavro_fs *fs, const char *dir, const char *self,
                             csvavro_error *err) {
    csvavro_dirent *list = NULL;
    size_t n = 0;
    if (csvavro_fs_list(fs, dir, &list, &n, NULL) != CSVAVRO_OK) return CSVAVRO_OK; /* no dir */
    bool intent = false, candidates = false;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(list[i].name, CAV_DS_INTENT)) intent = true;
        if (is_tmp_name(list[i].name) && (!self || strcmp(list[i].name, self))) candidates = true;
    }
    csvavro_status st = CSVAVRO_OK;
    int64_t now = 0;
    const int64_t lease = cav_ds_lease_ms();
    bool stale = false;
    /* readers and planning (no self) only recover an interrupted commit: the temp dirs of
     * dead jobs harm no reader, and a reader may have no write access */
    if (!self) candidates = false;
    if (candidates && !intent) {
        st = fs_now(fs, dir, &now, err);
        for (size_t i = 0; st == CSVAVRO_OK && i < n && !stale; i++)
            stale = is_tmp_name(list[i].name) && (!self || strcmp(list[i].name, self)) &&
                    entry_stale(&list[i], now, lease);
    }
    csvavro_fs_free_list(list, n);
    if (st != CSVAVRO_OK || (!intent && !stale)) return st;
    /* something to recover or remove: under the lock, looked at again */
    char holder[256];
    if (self) {
        snprintf(holder, sizeof holder, "%s", self);
    } else {
        char host[128];
        uint32_t rnd = 0;
        CAV_TRY(cav_random_bytes(&rnd, sizeof rnd, err));
        cav_ds_host_name(host, sizeof host);
        snprintf(holder, sizeof holder, CAV_TMP_PREFIX "%s-%ld-%08x", host, (long)getpid(), rnd);
    }
    CAV_TRY(cav_ds_lock(fs, dir, holder, err));
    st = cav_ds_recover(fs, dir, err);
    if (st == CSVAVRO_OK && fs_now(fs, dir, &now, NULL) == CSVAVRO_OK &&
        csvavro_fs_list(fs, dir, &list, &n, NULL) == CSVAVRO_OK) {
        for (size_t i = 0; i < n; i++) {
            if (!is_tmp_name(list[i].name) || !strcmp(list[i].name, holder) ||
                !entry_stale(&list[i], now, lease))
                continue;
            char *p = cav_path_join(dir, list[i].name);
            if (p) csvavro_fs_remove(fs, p, 1, NULL);
            cav_free(p);
        }
        csvavro_fs_free_list(list, n);
    }
    cav_ds_unlock(fs, dir, holder);
    return st;
}

/* ------------------------------------------------------------------ schema evolution */

static bool promotes(csvavro_type w, csvavro_type r) {
    if (w == r) return true;
    switch (w) {
    case CSVAVRO_TYPE_INT:
        return r == CSVAVRO_TYPE_LONG || r == CSVAVRO_TYPE_FLOAT || r == CSVAVRO_TYPE_DOUBLE;
    case CSVAVRO_TYPE_LONG:
        return r == CSVAVRO_TYPE_FLOAT || r == CSVAVRO_TYPE_DOUBLE;
    case CSVAVRO_TYPE_FLOAT:
        return r == CSVAVRO_TYPE_DOUBLE;
    case CSVAVRO_TYPE_STRING:
        return r == CSVAVRO_TYPE_BYTES;
    case CSVAVRO_TYPE_BYTES:
        return r == CSVAVRO_TYPE_STRING;
    default:
        return false;
    }
}

static bool same_name(const char *a, const char *b) {
    return !strcmp(a ? a : "", b ? b : "");
}

csvavro_status cav_ds_schema_check(const csvavro_schema *reader, const csvavro_schema *writer,
                                   csvavro_error *err) {
    if (!same_name(csvavro_schema_record_name(reader), csvavro_schema_record_name(writer)) ||
        !same_name(csvavro_schema_namespace(reader), csvavro_schema_namespace(writer)))
        return cav_err(
            err, CSVAVRO_E_SCHEMA, "the record is named \"%s%s%s\", the dataset's \"%s%s%s\"",
            csvavro_schema_namespace(reader) ? csvavro_schema_namespace(reader) : "",
            csvavro_schema_namespace(reader) ? "." : "", csvavro_schema_record_name(reader),
            csvavro_schema_namespace(writer) ? csvavro_schema_namespace(writer) : "",
            csvavro_schema_namespace(writer) ? "." : "", csvavro_schema_record_name(writer));
    size_t nr = csvavro_schema_field_count(reader);
    for (size_t i = 0; i < nr; i++) {
        const char *name = csvavro_schema_field_name(reader, i);
        csvavro_type rt = csvavro_schema_field_type(reader, i);
        long w = csvavro_schema_find(writer, name);
        if (w < 0) {
            if (!csvavro_schema_field_nullable(reader, i))
                return cav_err(err, CSVAVRO_E_SCHEMA,
                               "field \"%s\" is new and has no default (only a nullable field, "
                               "default null, can be added)",
                               name);
            continue;
        }
        csvavro_type wt = csvavro_schema_field_type(writer, (size_t)w);
        if (!promotes(wt, rt))
            return cav_err(err, CSVAVRO_E_SCHEMA,
                           "field \"%s\" is %s, the dataset has %s (Avro promotes only int to "
                           "long/float/double, long to float/double, float to double, string "
                           "to/from bytes)",
                           name, csvavro_type_name(rt), csvavro_type_name(wt));
        int rp = 0, rs = 0, rf = 0, wp = 0, ws = 0, wf = 0;
        if (csvavro_schema_field_decimal(reader, i, &rp, &rs, &rf, NULL) &&
            csvavro_schema_field_decimal(writer, (size_t)w, &wp, &ws, &wf, NULL) &&
            (rp != wp || rs != ws || rf != wf))
            return cav_err(err, CSVAVRO_E_SCHEMA,
                           "field \"%s\" is decimal(%d,%d)%s, the dataset has decimal(%d,%d)%s "
                           "(Avro resolves decimals only with the same precision, scale and "
                           "size)",
                           name, rp, rs, rf ? " fixed" : "", wp, ws, wf ? " fixed" : "");
        if (csvavro_schema_field_nullable(writer, (size_t)w) &&
            !csvavro_schema_field_nullable(reader, i))
            return cav_err(err, CSVAVRO_E_SCHEMA,
                           "field \"%s\" may be null in the dataset but not in this job's schema",
                           name);
    }
    return CSVAVRO_OK;
}

/* Every schema of the dataset's jobs (and its current one) can be read with `reader`. */
csvavro_status cav_ds_check_append(json_t *man, const csvavro_schema *reader, csvavro_error *err) {
    json_t *cur = json_object_get(man, "schema");
    size_t n = json_array_size(json_object_get(man, "jobs"));
    for (size_t i = 0; i <= n; i++) {
        json_t *sj =
            i < n ? json_object_get(json_array_get(json_object_get(man, "jobs"), i), "schema")
                  : cur;
        if (!sj) continue;
        char *txt = json_dumps(sj, JSON_COMPACT);
        csvavro_schema *w = NULL;
        csvavro_status st = txt ? csvavro_schema_from_json(txt, &w, err)
                                : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        cav_free(txt);
        if (st == CSVAVRO_OK) st = cav_ds_schema_check(reader, w, err);
        csvavro_schema_free(w);
        if (st != CSVAVRO_OK) {
            cav_err_prefix(err, "--mode append: this job's schema cannot read the dataset's "
                                "files under Avro's resolution rules");
            return st;
        }
    }
    return CSVAVRO_OK;
}

/* ------------------------------------------------------------------ readers */

csvavro_status csvavro_dataset_schema(csvavro_fs *fs, const char *dir, char **json,
                                      csvavro_error *err) {
    *json = NULL;
    json_t *m = NULL;
    CAV_TRY(cav_ds_manifest_load(fs, dir, &m, err));
    json_t *sj = json_object_get(m, "schema");
    csvavro_status st = CSVAVRO_OK;
    if (!m || !json_is_object(sj)) {
        cav_err_path(err, dir);
        st = cav_err(err, CSVAVRO_E_NOT_FOUND, "no dataset manifest (_SUCCESS) with a schema");
    } else {
        char *txt = json_dumps(sj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        *json = txt ? cav_strdup(txt) : NULL;
        cav_free(txt);
        if (!*json) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    json_decref(m);
    return st;
}

csvavro_status csvavro_dataset_files(csvavro_fs *fs, const char *dir_in, char ***files, size_t *n,
                                     csvavro_error *err) {
    *files = NULL;
    *n = 0;
    if (err) csvavro_error_clear(err);
    char *dir = cav_strdup(dir_in);
    if (!dir) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dir[--dl] = '\0';
    csvavro_status st = cav_ds_settle(fs, dir, NULL, err);
    json_t *m = NULL;
    if (st == CSVAVRO_OK) st = cav_ds_manifest_load(fs, dir, &m, err);
    if (st == CSVAVRO_OK && !m) {
        cav_err_path(err, dir_in);
        st = cav_err(err, CSVAVRO_E_NOT_FOUND, "no dataset manifest (_SUCCESS) in the directory");
    }
    json_t *outs = json_object_get(m, "outputs");
    size_t cnt = json_array_size(outs);
    char **list = st == CSVAVRO_OK ? cav_calloc(cnt ? cnt : 1, sizeof *list) : NULL;
    if (st == CSVAVRO_OK && !list) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; st == CSVAVRO_OK && i < cnt; i++) {
        const char *name = cav_ds_output_name(json_array_get(outs, i));
        if (!name || !*name || name[0] == '/' || strstr(name, "..")) {
            cav_err_path(err, dir_in);
            st = cav_err(err, CSVAVRO_E_CORRUPT, "manifest output %zu has no valid name", i);
            break;
        }
        char *p = cav_path_join(dir, name);
        list[i] = p ? cav_strdup(p) : NULL;
        cav_free(p);
        if (!list[i]) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    json_decref(m);
    cav_free(dir);
    if (st != CSVAVRO_OK) {
        for (size_t i = 0; list && i < cnt; i++)
            cav_free(list[i]);
        cav_free(list);
        return st;
    }
    *files = list;
    *n = cnt;
    return CSVAVRO_OK;
}

void csvavro_dataset_files_free(char **files, size_t n) {
    for (size_t i = 0; files && i < n; i++)
        cav_free(files[i]);
    cav_free(files);
}

/* ------------------------------------------------------------------ partition pruning */

char *cav_hive_unescape(char *v) {
    size_t k = 0;
    for (size_t i = 0; v[i]; i++) {
        unsigned x;
        if (v[i] == '%' && v[i + 1] && v[i + 2] && sscanf(v + i + 1, "%2X", &x) == 1) {
            v[k++] = (char)x;
            i += 2;
        } else {
            v[k++] = v[i];
        }
    }
    v[k] = '\0';
    if (!strcmp(v, "__HIVE_DEFAULT_PARTITION__")) {
        cav_free(v);
        return NULL;
    }
    return v;
}

/* Hive partition values of a file's name relative to its dataset ("year=2013/month=01/x"):
 * keys[i], vals[i] (unescaped, NULL for __HIVE_DEFAULT_PARTITION__), allocated. */
static csvavro_status split_partitions(const char *rel, char ***keys, char ***vals, size_t *n,
                                       csvavro_error *err) {
    *keys = *vals = NULL;
    *n = 0;
    const char *p = rel;
    for (const char *slash; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        const char *eq = memchr(p, '=', (size_t)(slash - p));
        if (!eq) continue;
        char **nk = cav_realloc(*keys, (*n + 1) * sizeof *nk);
        if (nk) *keys = nk;
        char **nv = nk ? cav_realloc(*vals, (*n + 1) * sizeof *nv) : NULL;
        if (nv) *vals = nv;
        if (!nk || !nv) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        (*keys)[*n] = cav_strndup(p, (size_t)(eq - p));
        char *v = cav_strndup(eq + 1, (size_t)(slash - eq - 1));
        if (v) v = cav_hive_unescape(v);
        (*vals)[*n] = v;
        (*n)++;
        if (!(*keys)[*n - 1]) return cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    }
    return CSVAVRO_OK;
}

static void free_strs(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++)
        cav_free(v[i]);
    cav_free(v);
}

static bool is_int(const char *s, int64_t *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno) return false;
    *out = v;
    return true;
}

/* The `and` of where's top-level terms that compile over the partition schema sc, as text
 * ("(t1) and (t2)"); *out NULL when none does. */
static csvavro_status prune_text(const char *where, const csvavro_schema *sc, char **out,
                                 csvavro_error *err) {
    enum { MAX_TERMS = 64 };
    uint32_t s[MAX_TERMS], e[MAX_TERMS];
    size_t nt = cav_filter_conjuncts(where, s, e, MAX_TERMS);
    cav_buf b;
    cav_buf_init(&b, 0);
    csvavro_status st = CSVAVRO_OK;
    *out = NULL;
    for (size_t i = 0; i < nt && st == CSVAVRO_OK; i++) {
        char *term = cav_strndup(where + s[i], e[i] - s[i]);
        if (!term) {
            st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
            break;
        }
        csvavro_error e2;
        csvavro_error_clear(&e2);
        cav_filter *f = NULL;
        if (cav_filter_compile(term, sc, &f, &e2) == CSVAVRO_OK) {
            const char *t = cav_filter_text(f);
            if ((b.len && cav_buf_append(&b, " and ", 5, err) != CSVAVRO_OK) ||
                cav_buf_append(&b, "(", 1, err) != CSVAVRO_OK ||
                cav_buf_append(&b, t, strlen(t), err) != CSVAVRO_OK ||
                cav_buf_append(&b, ")", 1, err) != CSVAVRO_OK)
                st = CSVAVRO_E_NOMEM;
        }
        cav_filter_free(f);
        cav_free(term);
    }
    if (st == CSVAVRO_OK && b.len && cav_buf_append(&b, "", 1, err) != CSVAVRO_OK)
        st = CSVAVRO_E_NOMEM;
    if (st == CSVAVRO_OK && b.len) {
        *out = (char *)b.data;
        b.data = NULL;
    }
    cav_buf_free(&b);
    return st;
}

csvavro_status csvavro_dataset_files_where(csvavro_fs *fs, const char *dir, const char *where,
                                           char ***files, size_t *n, csvavro_error *err) {
    CAV_TRY(csvavro_dataset_files(fs, dir, files, n, err));
    if (!where || !*where || *n == 0) return CSVAVRO_OK;
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    size_t nf = *n, nk = 0;
    char ***vals = cav_calloc(nf, sizeof *vals);
    char **keys = NULL;
    csvavro_status st = vals ? CSVAVRO_OK : cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nf && st == CSVAVRO_OK; i++) {
        const char *rel = (*files)[i] + dl + ((*files)[i][dl] == '/');
        char **k = NULL;
        size_t m = 0;
        st = split_partitions(rel, &k, &vals[i], &m, err);
        if (st == CSVAVRO_OK && i == 0) {
            keys = k;
            nk = m;
            k = NULL;
        } else if (st == CSVAVRO_OK && m != nk) {
            st = cav_err(err, CSVAVRO_E_CORRUPT, "files of the dataset differ in partition keys");
        }
        free_strs(k, m);
    }
    csvavro_schema *sc = NULL;
    csvavro_type *types = NULL;
    cav_filter *f = NULL;
    cav_filter_state *fst = NULL;
    cav_batch b;
    memset(&b, 0, sizeof b);
    bool batch_ok = false;
    if (st == CSVAVRO_OK && nk == 0) goto done; /* no partitions: nothing to prune */
    if (st == CSVAVRO_OK) st = csvavro_schema_create("partitions", NULL, &sc, err);
    types = st == CSVAVRO_OK ? cav_calloc(nk, sizeof *types) : NULL;
    if (st == CSVAVRO_OK && !types) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
    for (size_t k = 0; k < nk && st == CSVAVRO_OK; k++) {
        bool ints = true;
        for (size_t i = 0; i < nf && ints; i++) {
            int64_t v;
            ints = !vals[i][k] || is_int(vals[i][k], &v);
        }
        types[k] = ints ? CSVAVRO_TYPE_LONG : CSVAVRO_TYPE_STRING;
        st = csvavro_schema_add_field(sc, keys[k], keys[k], types[k], 1, err);
    }
    /* Prune with the top-level `and` terms that are over partition columns only; the other
     * terms (record columns, or errors the record filter reports) are left to the reader. */
    char *prune = NULL;
    if (st == CSVAVRO_OK) st = prune_text(where, sc, &prune, err);
    if (st == CSVAVRO_OK && !prune) goto done;
    if (st == CSVAVRO_OK) st = cav_filter_compile(prune, sc, &f, err);
    cav_free(prune);
    if (st == CSVAVRO_OK) st = cav_filter_state_create(f, (uint32_t)nf, &fst, err);
    if (st == CSVAVRO_OK) st = cav_batch_init(&b, (uint32_t)nk, types, (uint32_t)nf, 0, err);
    batch_ok = st == CSVAVRO_OK;
    if (st == CSVAVRO_OK) {
        for (size_t k = 0; k < nk; k++) {
            cav_column *c = &b.cols[k];
            for (size_t i = 0; i < nf; i++) {
                const char *v = vals[i][k];
                c->valid[i] = v != NULL;
                if (types[k] == CSVAVRO_TYPE_LONG) {
                    int64_t x = 0;
                    if (v) is_int(v, &x);
                    c->v.i64[i] = x;
                } else {
                    c->v.str[i].ptr = v ? v : "";
                    c->v.str[i].len = v ? (uint32_t)strlen(v) : 0;
                }
            }
            c->loaded = true;
        }
        b.n_rows = (uint32_t)nf;
        st = cav_filter_apply(f, fst, &b, err);
    }
    if (st == CSVAVRO_OK) { /* keep the selected files, in manifest order */
        uint32_t keep = cav_batch_selected(&b), k = 0;
        char *sel = cav_calloc(nf, 1);
        if (!sel) st = cav_err(err, CSVAVRO_E_NOMEM, "out of memory");
        for (uint32_t i = 0; sel && i < keep; i++)
            sel[cav_batch_row(&b, i)] = 1;
        for (size_t i = 0; sel && i < nf; i++) {
            if (sel[i])
                (*files)[k++] = (*files)[i];
            else
                cav_free((*files)[i]);
        }
        if (sel) *n = k;
        cav_free(sel);
    }
done:
    if (batch_ok) cav_batch_free(&b);
    cav_filter_state_free(fst);
    cav_filter_free(f);
    csvavro_schema_free(sc);
    cav_free(types);
    for (size_t i = 0; vals && i < nf; i++)
        free_strs(vals[i], nk);
    cav_free(vals);
    free_strs(keys, nk);
    if (st != CSVAVRO_OK) {
        csvavro_dataset_files_free(*files, *n);
        *files = NULL;
        *n = 0;
    }
    return st;
}
