/*
 * exec_locality.c — the split dispenser's locality policy (exec_locality.h): pure logic, used
 * by rank 0 of an MPI job (exec_mpi.c) under its mutex.
 */
#include "exec_locality.h"

#include <string.h>
#include <strings.h>

bool cav_host_eq(const char *a, const char *b) {
    if (!strcasecmp(a, b)) return true;
    const char *da = strchr(a, '.'), *db = strchr(b, '.');
    if (da && db) return false;
    if (!da && db) return (size_t)(db - b) == strlen(a) && !strncasecmp(a, b, strlen(a));
    if (da && !db) return (size_t)(da - a) == strlen(b) && !strncasecmp(a, b, strlen(b));
    return false;
}

static bool on_host(const cav_locality *L, size_t i, int uh) {
    for (int k = 0; k < L->n_sh[i]; k++)
        if (L->sh[i * 8 + (size_t)k] == uh) return true;
    return false;
}

void cav_locality_free(cav_locality *L) {
    cav_free(L->rank_uh);
    cav_free(L->uh_ranks);
    cav_free(L->uh_rem);
    cav_free(L->taken);
    cav_free(L->owner);
    cav_free(L->sh);
    cav_free(L->n_sh);
    cav_free(L->has_hosts);
    cav_free(L->counts);
    cav_free(L->idle_since);
    memset(L, 0, sizeof *L);
}

csvavro_status cav_locality_init(cav_locality *L, int n_ranks, const char *const *rank_host,
                                 const cav_split *splits, size_t n_splits, uint64_t wait_ns) {
    memset(L, 0, sizeof *L);
    assert(n_ranks > 0 && rank_host && (splits || n_splits == 0));
    L->n_ranks = n_ranks;
    L->n_splits = n_splits;
    L->wait_ns = wait_ns;
    size_t ns = n_splits ? n_splits : 1, nr = (size_t)n_ranks;
    L->rank_uh = cav_calloc(nr, sizeof *L->rank_uh);
    L->uh_ranks = cav_calloc(nr, sizeof *L->uh_ranks);
    L->uh_rem = cav_calloc(nr, sizeof *L->uh_rem);
    L->taken = cav_calloc(ns, 1);
    L->owner = cav_calloc(ns, sizeof *L->owner);
    L->sh = cav_calloc(ns * 8, sizeof *L->sh);
    L->n_sh = cav_calloc(ns, 1);
    L->has_hosts = cav_calloc(ns, 1);
    L->counts = cav_calloc(nr, sizeof *L->counts);
    L->idle_since = cav_calloc(nr, sizeof *L->idle_since);
    /* distinct hosts: first rank on each */
    int *first = cav_calloc(nr, sizeof *first);
    if (!L->rank_uh || !L->uh_ranks || !L->uh_rem || !L->taken || !L->owner || !L->sh || !L->n_sh ||
        !L->has_hosts || !L->counts || !L->idle_since || !first) {
        cav_free(first);
        cav_locality_free(L);
        return CSVAVRO_E_NOMEM;
    }
    for (int r = 0; r < n_ranks; r++) {
        int u = 0;
        while (u < L->n_uh && !cav_host_eq(rank_host[r], rank_host[first[u]]))
            u++;
        if (u == L->n_uh) first[L->n_uh++] = r;
        L->rank_uh[r] = u;
        L->uh_ranks[u]++;
    }
    for (size_t i = 0; i < n_splits; i++) {
        const csvavro_block *b = splits[i].blk;
        L->has_hosts[i] = b && b->n_hosts > 0;
        for (int k = 0; b && k < b->n_hosts && k < 8; k++)
            for (int u = 0; u < L->n_uh; u++)
                if (cav_host_eq(b->hosts[k], rank_host[first[u]]) && !on_host(L, i, u)) {
                    L->sh[i * 8 + L->n_sh[i]] = (int16_t)u;
                    L->n_sh[i]++;
                }
    }
    cav_free(first);
    return CSVAVRO_OK;
}

size_t cav_locality_pick(cav_locality *L, int r, uint64_t now_ns) {
    assert(r >= 0 && r < L->n_ranks);
    size_t n = L->n_splits, best = SIZE_MAX;
    int uh = L->rank_uh[r];
    for (size_t i = 0; i < n && best == SIZE_MAX; i++)
        if (!L->taken[i] && on_host(L, i, uh)) best = i;
    for (size_t i = 0; i < n && best == SIZE_MAX; i++) /* nobody reads these locally */
        if (!L->taken[i] && L->n_sh[i] == 0) best = i;
    if (best == SIZE_MAX && L->wait_ns) {
        bool left = false;
        for (size_t i = 0; i < n && !left; i++)
            left = !L->taken[i];
        if (left && !L->idle_since[r]) L->idle_since[r] = now_ns;
        if (left && now_ns - L->idle_since[r] < L->wait_ns) return CAV_PICK_WAIT;
    }
    if (best == SIZE_MAX) { /* steal from the host with the most local work left per rank */
        memset(L->uh_rem, 0, (size_t)L->n_uh * sizeof *L->uh_rem);
        for (size_t i = 0; i < n; i++)
            if (!L->taken[i])
                for (int k = 0; k < L->n_sh[i]; k++)
                    L->uh_rem[L->sh[i * 8 + (size_t)k]]++;
        int hb = -1;
        for (int h = 0; h < L->n_uh; h++)
            if (L->uh_rem[h] > 0 &&
                (hb < 0 || L->uh_rem[h] * L->uh_ranks[hb] > L->uh_rem[hb] * L->uh_ranks[h]))
                hb = h;
        for (size_t i = n; hb >= 0 && i-- > 0;)
            if (!L->taken[i] && on_host(L, i, hb)) {
                best = i;
                break;
            }
    }
    if (best == SIZE_MAX) return best;
    assert(best < n && !L->taken[best]);
    L->idle_since[r] = 0;
    L->taken[best] = 1;
    L->owner[best] = r;
    int kind = on_host(L, best, uh) ? CAV_LOC_LOCAL
                                    : (L->has_hosts[best] ? CAV_LOC_REMOTE : CAV_LOC_NOHOST);
    L->counts[r][kind]++;
    return best;
}
