/* resource.h - the resource server's side of OAuth: checking an XRPC call made with
 * Authorization: DPoP <access token> (RFC 9449 §7): the proof (htm, htu, iat, nonce, ath,
 * its jti used once), the token (ours, for our audience, unexpired), the binding of one to
 * the other (cnf.jkt), and the session the token names (so a revoked or superseded token
 * fails at once). Failures are 401 with WWW-Authenticate: DPoP error="..." and an XRPC body
 * naming the OAuth error; every call gets a fresh DPoP-Nonce. Used by api/common/auth.c,
 * which then applies the scope. Request-scoped; thread-safe. */
#ifndef PDS_OAUTH_RESOURCE_H
#define PDS_OAUTH_RESOURCE_H

#include <stdint.h>

#include "http/xrpc.h"

struct oauth_caller {
    const char *did;
    const char *scope; /* the granted scope, as the session holds it now */
    const char *client_id;
    int64_t session_id;
};

/* 0 and *out filled, or the error set and its status returned. */
int oauth_resource_check(struct xrpc_req *rq, const char *access_token, struct oauth_caller *out);

/* Sets 401 with WWW-Authenticate: DPoP error=<error> and the XRPC body
 * {"error": error, "message": desc}; returns 401. For the auth layer's own refusals of
 * OAuth-shaped requests (a DPoP-bound token sent as Bearer). */
int oauth_resource_fail(struct xrpc_req *rq, const char *error, const char *desc);

#endif
