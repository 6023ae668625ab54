/* endpoints.h - the authorization server's HTTP endpoints (their route table is
 * oauth_routes, registered by api/routes.c) and the steps they share: the request's DPoP
 * proof and its client. Handlers follow http/xrpc.h; every answer carries the headers of
 * reply.h. */
#ifndef PDS_OAUTH_ENDPOINTS_H
#define PDS_OAUTH_ENDPOINTS_H

#include "http/router.h"
#include "http/xrpc.h"
#include "oauth/client.h"
#include "oauth/client_auth.h"
#include "oauth/dpop.h"

extern const struct route_table oauth_routes;

int oauth_protected_resource(struct xrpc_req *rq); /* metadata.c */
int oauth_authorization_server(struct xrpc_req *rq);
int oauth_jwks(struct xrpc_req *rq);
int oauth_par(struct xrpc_req *rq);              /* par.c */
int oauth_token(struct xrpc_req *rq);            /* token.c */
int oauth_revoke(struct xrpc_req *rq);           /* revoke.c */
int oauth_authorize(struct xrpc_req *rq);        /* authorize.c: the page */
int oauth_authorize_info(struct xrpc_req *rq);   /* consent.c: what the page shows */
int oauth_authorize_accept(struct xrpc_req *rq); /* consent.c */
int oauth_authorize_reject(struct xrpc_req *rq);

/* The request's DPoP proof for this endpoint (htu = our public URL + the path), checked
 * and its jti used up: 0, or the error set (401 invalid_dpop_proof with WWW-Authenticate,
 * 400 use_dpop_nonce with a fresh DPoP-Nonce). A missing proof is invalid_dpop_proof
 * ("DPoP proof required"): every client of the atproto profile binds its tokens. */
int oauth_as_dpop(struct xrpc_req *rq, struct dpop_proof *out);

/* client_id from the form (400 invalid_client without one), the client loaded
 * (client_fetch.h; fresh skips the cache) and authenticated (client_auth.h). */
int oauth_as_client(struct xrpc_req *rq, const struct xrpc_param *p, size_t n,
                    const struct dpop_proof *dpop, bool fresh, struct oauth_client *client,
                    struct oauth_client_auth *auth);

#endif
