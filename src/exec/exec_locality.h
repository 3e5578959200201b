/*
 * exec_locality.h — which split a rank runs next (the MPI dispenser's policy, exec_mpi.c), as
 * pure logic: no MPI, no threads, no clock of its own (the caller passes the time), so that unit
 * tests drive it directly (tests/unit/test_locality.c).
 *
 * Policy: a requesting rank gets the lowest-numbered split with a replica on its host; only when
 * none is left, a split that no rank can read locally; else (after waiting up to wait_ns for
 * local work when delay scheduling is on) one from the host with the most local work left per
 * rank, its highest-numbered one. Host names match case-insensitively, and a short name matches
 * a fully qualified name that starts with it.
 */
#ifndef CAV_EXEC_LOCALITY_H
#define CAV_EXEC_LOCALITY_H

#include "exec.h"

#define CAV_PICK_WAIT (SIZE_MAX - 1) /* ask again later (delay scheduling) */

enum { CAV_LOC_LOCAL, CAV_LOC_REMOTE, CAV_LOC_NOHOST };

typedef struct cav_locality {
    int n_ranks;
    size_t n_splits;
    uint64_t wait_ns; /* delay scheduling (CSVAVRO_LOCALITY_WAIT_MS): 0 = off */
    /* hosts: every distinct rank host once */
    int n_uh;
    int *rank_uh;    /* rank -> distinct host */
    int *uh_ranks;   /* distinct host -> ranks on it */
    int64_t *uh_rem; /* scratch: splits left per distinct host */
    /* splits */
    uint8_t *taken;
    int *owner;            /* rank that was handed it */
    int16_t *sh;           /* split i: up to 8 distinct hosts holding a replica (sh[i*8+k]) */
    uint8_t *n_sh;         /* ... how many */
    uint8_t *has_hosts;    /* split i's block names any host at all */
    uint64_t (*counts)[3]; /* per rank: local, remote, no hosts (CAV_LOC_*) */
    uint64_t *idle_since;  /* per rank: when it first found no local split left (delay) */
} cav_locality;

/* Host names match when equal (case-insensitive), or when one is a short name and the other a
 * fully qualified name starting with it (HDFS may report either form). */
bool cav_host_eq(const char *a, const char *b);

/* Builds the tables for n_ranks ranks on the hosts rank_host[r] and the n_splits splits (their
 * blocks' replica hosts). CSVAVRO_E_NOMEM on allocation failure (L is then freed). */
csvavro_status cav_locality_init(cav_locality *L, int n_ranks, const char *const *rank_host,
                                 const cav_split *splits, size_t n_splits, uint64_t wait_ns);
void cav_locality_free(cav_locality *L);

/* The next split for rank r at time now_ns: its index (marked taken, owner and counts
 * updated), SIZE_MAX when none is left, CAV_PICK_WAIT when the rank should ask again later. */
size_t cav_locality_pick(cav_locality *L, int r, uint64_t now_ns);

#endif /* CAV_EXEC_LOCALITY_H */
