/* as_common.c - the DPoP and client steps every authorization-server endpoint takes first,
 * in the reference's order: the proof (cheap, so a nonce round trip costs no fetch), then
 * the client. */
#include "oauth/endpoints.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "oauth/client_fetch.h"
#include "oauth/oauth.h"
#include "oauth/replay.h"
#include "oauth/reply.h"

int oauth_as_dpop(struct xrpc_req *rq, struct dpop_proof *out)
{
    size_t n = strlen(rq->cfg->public_url) + strlen(rq->path) + 1;
    char *htu = arena_alloc(rq->arena, n);
    snprintf(htu, n, "%s%s", rq->cfg->public_url, rq->path);
    const char *why;
    enum dpop_result res = dpop_check(rq->arena, xrpc_header(rq, "dpop"), rq->method, htu, NULL,
                                      oauth_now(), out, &why);
    switch (res) {
    case DPOP_OK:
        break;
    case DPOP_ABSENT:
        return oauth_fail_dpop(rq, "invalid_dpop_proof", "DPoP proof required");
    case DPOP_NONCE:
        /* 400 at the authorization server (RFC 9449 §8); the fresh nonce is in the headers */
        return oauth_fail(rq, 400, "use_dpop_nonce", "%s", why);
    default:
        return oauth_fail_dpop(rq, "invalid_dpop_proof", "%s", why);
    }
    char ns[JWK_THUMBPRINT_CHARS + 16];
    snprintf(ns, sizeof ns, "%s:%s", REPLAY_NS_DPOP, out->jkt);
    bool fresh;
    if (replay_use(rq->db, ns, out->jti, DPOP_REPLAY_TTL_S, &fresh)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    if (!fresh) {
        return oauth_fail_dpop(rq, "invalid_dpop_proof", "DPoP proof replayed");
    }
    return 0;
}

int oauth_as_client(struct xrpc_req *rq, const struct xrpc_param *p, size_t n,
                    const struct dpop_proof *dpop, bool fresh, struct oauth_client *client,
                    struct oauth_client_auth *auth)
{
    int st = 0;
    const char *client_id = oauth_param(rq, p, n, "client_id", &st);
    if (st) {
        return st;
    }
    if (!client_id) {
        return oauth_fail(rq, 400, "invalid_client", "Client credentials missing: client_id");
    }
    if ((st = oauth_client_load(rq, client_id, fresh, client))) {
        return st;
    }
    return oauth_client_authenticate(rq, client, p, n, dpop, auth);
}
