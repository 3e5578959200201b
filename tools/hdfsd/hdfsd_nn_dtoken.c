/*
 * hdfsd_nn_dtoken.c — the NameNode methods of delegation tokens: getDelegationToken (Kerberos
 * callers only, as in Hadoop), renewDelegationToken (Kerberos, the token's renewer),
 * cancelDelegationToken (owner or renewer, any authentication). The token store is
 * hdfsd_dtoken.c.
 */
#include "hdfsd_auth.h"
#include "hdfsd_nn.h"

#include "hdfs/Security.pb-c.h"

#include <stdio.h>
#include <string.h>

void nn_getDelegationToken(call *k) {
    UNPACK(Hadoop__Common__GetDelegationTokenRequestProto,
           hadoop__common__get_delegation_token_request_proto)
    if (!g_sec.on || k->via_token) {
        nn_fail(k, "java.io.IOException",
                "Delegation Token can be issued only with kerberos or web authentication");
    } else {
        /* the renewer as a short name (Hadoop maps it through auth_to_local) */
        char renewer[HD_MAX_PRINCIPAL + 1];
        snprintf(renewer, sizeof renewer, "%s", r->renewer);
        renewer[strcspn(renewer, "/@")] = '\0';
        uint8_t id[HD_DT_ID_MAX], pw[20];
        char msg[300];
        size_t n = hd_dt_issue(k->principal, renewer, id, pw, msg, sizeof msg);
        if (!n) {
            nn_fail(k, "java.io.IOException", "cannot issue a delegation token: %s", msg);
        } else {
            Hadoop__Common__GetDelegationTokenResponseProto resp =
                HADOOP__COMMON__GET_DELEGATION_TOKEN_RESPONSE_PROTO__INIT;
            Hadoop__Common__TokenProto t = HADOOP__COMMON__TOKEN_PROTO__INIT;
            t.identifier.data = id;
            t.identifier.len = n;
            t.password.data = pw;
            t.password.len = 20;
            t.kind = HD_DT_KIND;
            t.service = ""; /* the client sets the NameNode's address, as Hadoop's does */
            resp.token = &t;
            nn_reply(k, &resp.base);
        }
    }
    hadoop__common__get_delegation_token_request_proto__free_unpacked(r, NULL);
}

void nn_renewDelegationToken(call *k) {
    UNPACK(Hadoop__Common__RenewDelegationTokenRequestProto,
           hadoop__common__renew_delegation_token_request_proto)
    const char *exc = NULL;
    char msg[900];
    int64_t exp = 0;
    if (!g_sec.on || k->via_token)
        nn_fail(k, "java.io.IOException",
                "Delegation Token can be renewed only with kerberos or web authentication");
    else if (hd_dt_renew(k->user, r->token->identifier.data, r->token->identifier.len,
                         r->token->password.data, r->token->password.len, &exp, &exc, msg,
                         sizeof msg))
        nn_fail(k, exc, "%s", msg);
    else {
        Hadoop__Common__RenewDelegationTokenResponseProto resp =
            HADOOP__COMMON__RENEW_DELEGATION_TOKEN_RESPONSE_PROTO__INIT;
        resp.newexpirytime = (uint64_t)exp;
        nn_reply(k, &resp.base);
    }
    hadoop__common__renew_delegation_token_request_proto__free_unpacked(r, NULL);
}

void nn_cancelDelegationToken(call *k) {
    UNPACK(Hadoop__Common__CancelDelegationTokenRequestProto,
           hadoop__common__cancel_delegation_token_request_proto)
    const char *exc = NULL;
    char msg[900];
    if (!g_sec.on)
        nn_fail(k, "java.io.IOException", "delegation tokens need secure mode");
    else if (hd_dt_cancel(k->user, r->token->identifier.data, r->token->identifier.len, &exc, msg,
                          sizeof msg))
        nn_fail(k, exc, "%s", msg);
    else {
        Hadoop__Common__CancelDelegationTokenResponseProto resp =
            HADOOP__COMMON__CANCEL_DELEGATION_TOKEN_RESPONSE_PROTO__INIT;
        nn_reply(k, &resp.base);
    }
    hadoop__common__cancel_delegation_token_request_proto__free_unpacked(r, NULL);
}
