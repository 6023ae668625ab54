/* revoke.c - POST /oauth/revoke (RFC 7009): a client ends a session with any of its tokens
 * (refresh token, access token, or the code it was exchanged for). An unknown token is not
 * an error (§2.2: the purpose is achieved); a token of another client is left alone. */
#include "oauth/endpoints.h"

#include <string.h>

#include "config/config.h"
#include "crypto/jwt.h"
#include "oauth/access_token.h"
#include "oauth/oauth.h"
#include "oauth/reply.h"
#include "oauth/request.h"
#include "oauth/session.h"

/* The session id a token names, 0 when none; the session's client_id in *client_id. */
static enum err find(struct xrpc_req *rq, const char *token, int64_t *id, const char **client_id)
{
    *id = 0;
    *client_id = NULL;
    struct oauth_session s;
    bool found = false, reused = false;
    enum err e = ERR_OK;
    if (strncmp(token, REFRESH_PREFIX, 4) == 0) {
        e = session_by_refresh(rq->db, rq->arena, token, &s, &found, &reused);
    } else if (strncmp(token, CODE_PREFIX, 4) == 0) {
        int64_t sid = 0;
        e = session_by_code(rq->db, token, &sid);
        if (!e && sid) {
            /* codes name no client in the session lookup: read it */
            struct db_params p;
            db_params_init(&p);
            db_param_i64(&p, sid);
            PGresult *r;
            e = db_query_in(rq->db, rq->arena, "SELECT client_id FROM oauth_session WHERE id = $1",
                            &p, &r);
            if (!e && PQntuples(r) == 1) {
                *id = sid;
                *client_id = db_col_text(r, 0, 0);
            }
        }
        return e;
    } else {
        struct jwt j;
        /* an expired access token still names its session */
        if (jwt_decode_hs256(bytes_str(token), bytes_of(oauth_access_key(), OAUTH_KEY_BYTES), &j) ==
            ERR_OK) {
            const char *jti = jwt_claim_str(&j, "jti");
            char *tid = jti ? arena_strndup(rq->arena, jti, strlen(jti)) : NULL;
            jwt_clear(&j);
            if (tid) {
                e = session_by_token(rq->db, rq->arena, tid, &s, &found);
            }
        }
    }
    if (!e && (found || reused)) {
        *id = s.id;
        *client_id = s.client_id;
    }
    return e;
}

int oauth_revoke(struct xrpc_req *rq)
{
    struct xrpc_param *p;
    size_t n;
    struct dpop_proof proof;
    struct oauth_client client;
    struct oauth_client_auth auth;
    int st = 0;
    if ((st = oauth_read_form(rq, &p, &n)) || (st = oauth_as_dpop(rq, &proof)) ||
        (st = oauth_as_client(rq, p, n, &proof, false, &client, &auth))) {
        return st;
    }
    const char *token = oauth_param(rq, p, n, "token", &st);
    if (st) {
        return st;
    }
    if (!token) {
        return oauth_fail(rq, 400, "invalid_request", "Missing \"token\"");
    }
    int64_t id;
    const char *owner;
    if (find(rq, token, &id, &owner)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    if (id && owner && strcmp(owner, client.id) == 0 && session_delete(rq->db, id)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    return oauth_reply_json(rq, 200, json_object());
}
