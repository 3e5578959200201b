/*
 * fuzz_hdfsd.h — the secure mode the csvavro-hdfsd targets (hdfsd_sasl, hdfsd_dtoken) start
 * from: Kerberos on for hdfs/localhost@FUZZ.TEST with no usable krb5.conf (so no GSS-API
 * exchange can succeed), RPC protection privacy, the DIGEST-MD5 server half initialised.
 *
 * Header-only (static inline), like fuzz_util.h.
 */
#ifndef CAV_FUZZ_HDFSD_H
#define CAV_FUZZ_HDFSD_H

#include "fuzz_util.h"
#include "hdfsd.h"
#include "hdfsd_auth.h"
#include "hdfsd_digest.h"

/* Call once, after setting the target's own g_sec fields. */
static inline void fz_hdfsd_secure(void) {
    setenv("KRB5_CONFIG", "/dev/null", 1);
    snprintf(g_sec.principal, sizeof g_sec.principal, "hdfs/localhost@FUZZ.TEST");
    snprintf(g_sec.realm, sizeof g_sec.realm, "FUZZ.TEST");
    g_sec.on = true;
    g_sec.rpc_qop = HD_QOP_PRIVACY;
    char m[300];
    hd_digest_init(m, sizeof m);
}

#endif /* CAV_FUZZ_HDFSD_H */
