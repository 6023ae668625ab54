/* resource.c - DPoP-bound access tokens at the resource server. */
#include "oauth/resource.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "oauth/access_token.h"
#include "oauth/dpop.h"
#include "oauth/dpop_nonce.h"
#include "oauth/oauth.h"
#include "oauth/replay.h"
#include "oauth/reply.h"
#include "oauth/session.h"

int oauth_resource_fail(struct xrpc_req *rq, const char *error, const char *desc)
{
    xrpc_set_header(rq, "WWW-Authenticate", oauth_www_authenticate(rq, error, desc));
    return xrpc_fail(rq, 401, error, "%s", desc);
}

int oauth_resource_check(struct xrpc_req *rq, const char *access_token, struct oauth_caller *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = oauth_now();
    char nonce[DPOP_NONCE_CHARS + 1];
    dpop_nonce_next(now, nonce);
    xrpc_set_header(rq, "DPoP-Nonce", nonce); /* RFC 9449 §8.2: on every answer */
    size_t n = strlen(rq->cfg->public_url) + strlen(rq->path) + 1;
    char *htu = arena_alloc(rq->arena, n);
    snprintf(htu, n, "%s%s", rq->cfg->public_url, rq->path);
    struct dpop_proof proof;
    const char *why;
    switch (dpop_check(rq->arena, xrpc_header(rq, "dpop"), rq->method, htu, access_token, now,
                       &proof, &why)) {
    case DPOP_OK:
        break;
    case DPOP_ABSENT:
        return oauth_resource_fail(rq, "invalid_dpop_proof", "DPoP proof required");
    case DPOP_NONCE:
        /* 401 at a resource server (RFC 9449 §9), unlike the authorization server's 400 */
        return oauth_resource_fail(rq, "use_dpop_nonce", why);
    default:
        return oauth_resource_fail(rq, "invalid_dpop_proof", why);
    }
    struct access_token t;
    if (access_token_verify(rq->arena, access_token, rq->cfg->public_url, rq->cfg->service_did, now,
                            &t, &why)) {
        return oauth_resource_fail(rq, "invalid_token", why);
    }
    if (strcmp(t.jkt, proof.jkt) != 0) {
        return oauth_resource_fail(rq, "invalid_token", "Invalid DPoP key binding");
    }
    char ns[JWK_THUMBPRINT_CHARS + 16];
    snprintf(ns, sizeof ns, "%s:%s", REPLAY_NS_DPOP, proof.jkt);
    bool fresh;
    if (replay_use(rq->db, ns, proof.jti, DPOP_REPLAY_TTL_S, &fresh)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (!fresh) {
        return oauth_resource_fail(rq, "invalid_dpop_proof", "DPoP proof replayed");
    }
    struct oauth_session s;
    bool found;
    if (session_by_token(rq->db, rq->arena, t.jti, &s, &found)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (!found || strcmp(s.did, t.sub) != 0 || strcmp(s.dpop_jkt, proof.jkt) != 0) {
        return oauth_resource_fail(rq, "invalid_token", "Token was revoked or replaced");
    }
    if (s.access_expired || s.session_expired) {
        return oauth_resource_fail(rq, "invalid_token", "Token expired");
    }
    out->did = s.did;
    out->scope = s.scope;
    out->client_id = s.client_id;
    out->session_id = s.id;
    return 0;
}
