/*
 * test_locality.c — the MPI dispenser's locality policy (src/exec/exec_locality.c) without
 * mpirun: hand-built ranks, hosts and replica lists, expectations worked out from the policy
 * as exec_locality.h states it (local first, then splits nobody reads locally, then the
 * highest-numbered split of the host with the most local work left per rank; delay
 * scheduling).
 */
#include "check.h"
#include "exec/exec_locality.h"

#include <string.h>

static void host_names(void) {
    CHECK(cav_host_eq("dn1", "DN1"));
    CHECK(cav_host_eq("dn1", "dn1.example.org"));
    CHECK(cav_host_eq("dn1.example.org", "dn1"));
    CHECK(!cav_host_eq("dn1.a.org", "dn1.b.org"));
    CHECK(!cav_host_eq("dn1", "dn10"));
    CHECK(!cav_host_eq("dn1", "dn10.example.org"));
    CHECK(!cav_host_eq("dn", "dn1"));
}

static csvavro_block blk(int n, const char *h0, const char *h1) {
    csvavro_block b;
    memset(&b, 0, sizeof b);
    b.n_hosts = n;
    if (h0) snprintf(b.hosts[0], sizeof b.hosts[0], "%s", h0);
    if (h1) snprintf(b.hosts[1], sizeof b.hosts[1], "%s", h1);
    return b;
}

/* Ranks 0 and 1 on host a, rank 2 on host b. Splits: 0 on a, 1 on b, 2 without hosts,
 * 3 on a and b, 4 on a host no rank runs on (remote for everyone). */
static void order(void) {
    const char *hosts[3] = {"a", "A.cluster", "b"};
    csvavro_block b0 = blk(1, "a", NULL), b1 = blk(1, "b.cluster", NULL), b3 = blk(2, "b", "a");
    csvavro_block b4 = blk(1, "c", NULL);
    cav_split sp[5];
    memset(sp, 0, sizeof sp);
    sp[0].blk = &b0;
    sp[1].blk = &b1;
    sp[2].blk = NULL;
    sp[3].blk = &b3;
    sp[4].blk = &b4;
    cav_locality L;
    CHECK(cav_locality_init(&L, 3, hosts, sp, 5, 0) == CSVAVRO_OK);
    CHECK_INT(L.n_uh, 2);                      /* "a" and "A.cluster" are one host */
    CHECK_INT(cav_locality_pick(&L, 2, 1), 1); /* b's lowest local split */
    CHECK_INT(cav_locality_pick(&L, 0, 2), 0);
    CHECK_INT(cav_locality_pick(&L, 1, 3), 3); /* local to a too */
    CHECK_INT(cav_locality_pick(&L, 2, 4), 2); /* no local split left: one nobody reads locally */
    CHECK_INT(cav_locality_pick(&L, 0, 5), 4);
    CHECK(cav_locality_pick(&L, 1, 6) == SIZE_MAX);
    CHECK(cav_locality_pick(&L, 2, 7) == SIZE_MAX);
    for (int i = 0; i < 5; i++)
        CHECK(L.taken[i]);
    CHECK_INT(L.owner[3], 1);
    CHECK_INT(L.counts[0][CAV_LOC_LOCAL], 1);
    CHECK_INT(L.counts[0][CAV_LOC_REMOTE], 1); /* split 4: its host c runs no rank */
    CHECK_INT(L.counts[0][CAV_LOC_NOHOST], 0);
    CHECK_INT(L.counts[1][CAV_LOC_LOCAL], 1);
    CHECK_INT(L.counts[2][CAV_LOC_LOCAL], 1);
    CHECK_INT(L.counts[2][CAV_LOC_NOHOST], 1);
    cav_locality_free(&L);
}

/* Stealing: rank 2 (host b) has nothing local; hosts a (1 rank, 3 splits) and c (2 ranks,
 * 4 splits): a has 3 splits per rank left, c 2, so b steals a's highest-numbered split. With
 * delay scheduling it first waits wait_ns. */
static void stealing(void) {
    const char *hosts[4] = {"a", "c", "b", "c"};
    csvavro_block ba = blk(1, "a", NULL), bc = blk(1, "c", NULL);
    cav_split sp[7];
    memset(sp, 0, sizeof sp);
    for (int i = 0; i < 7; i++)
        sp[i].blk = i < 3 ? &ba : &bc; /* 0,1,2 on a; 3,4,5,6 on c */
    cav_locality L;
    CHECK(cav_locality_init(&L, 4, hosts, sp, 7, 0) == CSVAVRO_OK);
    CHECK_INT(cav_locality_pick(&L, 2, 0), 2);
    CHECK_INT(L.counts[2][CAV_LOC_REMOTE], 1);
    /* now a has 2 per rank, c 4/2 = 2: a tie keeps the first host (a) */
    CHECK_INT(cav_locality_pick(&L, 2, 0), 1);
    /* a 1, c 2 per rank: c's highest-numbered split */
    CHECK_INT(cav_locality_pick(&L, 2, 0), 6);
    cav_locality_free(&L);

    CHECK(cav_locality_init(&L, 4, hosts, sp, 7, 100) == CSVAVRO_OK);
    CHECK(cav_locality_pick(&L, 2, 1000) == CAV_PICK_WAIT);
    CHECK(cav_locality_pick(&L, 2, 1099) == CAV_PICK_WAIT);
    CHECK_INT(cav_locality_pick(&L, 2, 1100), 2);
    CHECK(cav_locality_pick(&L, 2, 1101) == CAV_PICK_WAIT); /* the wait starts again */
    CHECK_INT(cav_locality_pick(&L, 0, 1102), 0);           /* local work needs no wait */
    cav_locality_free(&L);
}

static void alloc_failures(void) {
    const char *hosts[2] = {"a", "b"};
    csvavro_block ba = blk(1, "a", NULL);
    cav_split sp[3];
    memset(sp, 0, sizeof sp);
    for (int i = 0; i < 3; i++)
        sp[i].blk = &ba;
    int failed = 0;
    for (uint64_t n = 1; n < 100; n++) {
        cav_alloc_fail_after(n);
        cav_locality L;
        csvavro_status st = cav_locality_init(&L, 2, hosts, sp, 3, 0);
        cav_alloc_fail_after(0);
        if (st != CSVAVRO_OK) {
            CHECK_INT(st, CSVAVRO_E_NOMEM);
            failed++;
            continue;
        }
        CHECK_INT(cav_locality_pick(&L, 1, 0), 2);
        cav_locality_free(&L);
        break;
    }
    CHECK(failed > 0);
}

int main(void) {
    CHECK_RUN(host_names());
    CHECK_RUN(order());
    CHECK_RUN(stealing());
    CHECK_RUN(alloc_failures());
    return CHECK_DONE();
}
