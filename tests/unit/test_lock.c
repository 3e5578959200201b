/*
 * test_lock.c — the commit lock of a dataset (cav_ds_lock / cav_ds_unlock, exec_dataset.c):
 * three takers released at once on a lock whose holder is dead (its pid is gone), over many
 * rounds: at most one of them ever believes it holds the lock (the lock file names it while it
 * does), every one of them gets it in turn, and no takeover token is left behind. No timing
 * assertions: the takers sleep a little while holding, and CSVAVRO_LOCK_JITTER makes them
 * pause at random at each step of a takeover, so that the rounds go through many interleavings.
 */
#include "check.h"
#include "exec/exec.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAKERS 3
#define ROUNDS 12

static char dir[256];
static csvavro_fs *fs;
static pthread_barrier_t start;
static atomic_int inside, violations, wrong_text, failures;

typedef struct taker {
    char holder[200];
} taker;

static void *taker_main(void *arg) {
    taker *t = arg;
    csvavro_error err;
    pthread_barrier_wait(&start);
    if (cav_ds_lock(fs, dir, t->holder, &err) != CSVAVRO_OK) {
        atomic_fetch_add(&failures, 1);
        return NULL;
    }
    if (atomic_fetch_add(&inside, 1) != 0) atomic_fetch_add(&violations, 1);
    char lp[400], *text = NULL;
    snprintf(lp, sizeof lp, "%s/%s", dir, CAV_DS_LOCK);
    if (cav_ds_read_text(fs, lp, &text, &err) != CSVAVRO_OK ||
        strncmp(text, t->holder, strlen(t->holder)) != 0)
        atomic_fetch_add(&wrong_text, 1);
    cav_free(text);
    struct timespec ts = {0, 3 * 1000000L};
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&inside, 1);
    cav_ds_unlock(fs, dir, t->holder);
    return NULL;
}

static int count_prefix(const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return n;
}

int main(void) {
    unsetenv("CSVAVRO_LEASE_MS");          /* live takers are never judged dead; the dead pid is */
    setenv("CSVAVRO_LOCK_JITTER", "4", 1); /* random pauses at each step of a takeover */
    snprintf(dir, sizeof dir, "/tmp/csvavro-test-lock-%d", (int)getpid());
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0) return 1;
    csvavro_error err;
    char *bp = NULL;
    CHECK_INT(csvavro_fs_open_url(dir, &fs, &bp, &err), CSVAVRO_OK);
    csvavro_free(bp);
    char host[128];
    cav_ds_host_name(host, sizeof host);
    for (int round = 0; round < ROUNDS; round++) {
        pid_t dead = fork(); /* a pid that is gone: its lock is dead at once */
        if (dead == 0) _exit(0);
        waitpid(dead, NULL, 0);
        char lp[400], text[300];
        snprintf(lp, sizeof lp, "%s/%s", dir, CAV_DS_LOCK);
        snprintf(text, sizeof text, CAV_TMP_PREFIX "%s-%ld-dead%04d\n", host, (long)dead, round);
        CHECK_INT(cav_ds_write_text(fs, lp, text, 0, &err), CSVAVRO_OK);
        pthread_barrier_init(&start, NULL, TAKERS);
        taker t[TAKERS];
        pthread_t th[TAKERS];
        for (int k = 0; k < TAKERS; k++) {
            snprintf(t[k].holder, sizeof t[k].holder, CAV_TMP_PREFIX "%s-%ld-r%02dt%d", host,
                     (long)getpid(), round, k);
            CHECK_INT(pthread_create(&th[k], NULL, taker_main, &t[k]), 0);
        }
        for (int k = 0; k < TAKERS; k++)
            pthread_join(th[k], NULL);
        pthread_barrier_destroy(&start);
        CHECK_INT(count_prefix(CAV_DS_LOCK), 0);           /* the last one released it */
        CHECK_INT(count_prefix(".csvavro-lock-taken"), 0); /* no token left */
    }
    CHECK_INT(atomic_load(&failures), 0);
    CHECK_INT(atomic_load(&violations), 0);
    CHECK_INT(atomic_load(&wrong_text), 0);
    csvavro_fs_close(fs);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return CHECK_DONE();
}
