/* token.c - POST /oauth/token: the authorization_code and refresh_token grants (RFC 6749
 * §4.1.3, §6; reference OAuthProvider.token). Codes and refresh tokens work once: a reused
 * code revokes the session it was exchanged for, a reused refresh token its session. The
 * answer always names sub (the DID) and scope (digest §10.2). */
#include "oauth/endpoints.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config/config.h"
#include "db/log.h"
#include "http/ratelimit.h"
#include "oauth/client_fetch.h"
#include "core/sha256.h"
#include "oauth/access_token.h"
#include "oauth/include.h"
#include "oauth/oauth.h"
#include "oauth/replay.h"
#include "oauth/reply.h"
#include "oauth/request.h"
#include "oauth/session.h"

static bool token_form(const char *s, const char *prefix, size_t chars)
{
    if (!s || strlen(s) != chars || strncmp(s, prefix, 4) != 0) {
        return false;
    }
    for (const char *p = s + 4; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            return false;
        }
    }
    return true;
}

static const char *pstr(const json_t *params, const char *k)
{
    return json_string_value(json_object_get(params, k));
}

/* PKCE (RFC 7636 §4.6): b64url(SHA-256(verifier)) == challenge, and the challenge unused. */
static int check_pkce(struct xrpc_req *rq, const json_t *params, const char *verifier)
{
    const char *challenge = pstr(params, "code_challenge");
    if (!verifier) {
        return oauth_fail(rq, 400, "invalid_grant", "code_verifier is required");
    }
    size_t n = strlen(verifier);
    if (n < 43) {
        return oauth_fail(rq, 400, "invalid_grant", "code_verifier too short");
    }
    if (n > 128) {
        return oauth_fail(rq, 400, "invalid_grant", "code_verifier too long");
    }
    uint8_t d[SHA256_BYTES];
    sha256(verifier, n, d);
    char want[64];
    sodium_bin2base64(want, sizeof want, d, sizeof d, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (!challenge || strlen(challenge) != strlen(want) ||
        sodium_memcmp(want, challenge, strlen(want)) != 0) {
        return oauth_fail(rq, 400, "invalid_grant", "Invalid code_verifier");
    }
    bool fresh;
    if (replay_use(rq->db, REPLAY_NS_PKCE, challenge, OAUTH_CODE_CHALLENGE_REPLAY_S, &fresh)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    return fresh ? 0 : oauth_fail(rq, 400, "invalid_grant", "Code challenge already used");
}

/* The account may receive tokens: it exists and is not taken down. */
static int check_account(struct xrpc_req *rq, const char *did)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT takedown_ref IS NOT NULL FROM account WHERE did = $1", &p, &r)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    if (PQntuples(r) == 0 || db_col_bool(r, 0, 0)) {
        return oauth_fail(rq, 400, "invalid_grant", "The account is not available");
    }
    return 0;
}

/* Same client, same client key, same DPoP key as when the grant began. */
static int same_client(struct xrpc_req *rq, const char *client_id, const json_t *stored_auth,
                       const json_t *params, const struct oauth_client *c,
                       const struct oauth_client_auth *auth, const struct dpop_proof *proof)
{
    if (strcmp(client_id, c->id) != 0) {
        return oauth_fail(rq, 400, "invalid_grant", "Token was not issued to this client");
    }
    if (!oauth_client_auth_same(stored_auth, auth)) {
        return oauth_fail(rq, 400, "invalid_grant",
                          "The session was initiated with a different key than the client "
                          "assertion currently used");
    }
    const char *jkt = pstr(params, "dpop_jkt");
    if (!jkt || strcmp(jkt, proof->jkt) != 0) {
        return oauth_fail(rq, 400, "invalid_grant", "DPoP proof does not match the expected JKT");
    }
    return 0;
}

static int64_t session_lifetime(const struct oauth_client *c)
{
    return c->confidential ? OAUTH_CONFIDENTIAL_SESSION_S : OAUTH_PUBLIC_SESSION_S;
}

/* The token answer for session tokens (token_id, refresh may be ""). */
static int answer(struct xrpc_req *rq, const char *did, const char *client_id, const char *jkt,
                  const char *scope, const char *token_id, const char *refresh, int64_t ttl)
{
    int64_t now = oauth_now();
    struct access_token_mint m = {
        rq->cfg->public_url, rq->cfg->service_did, did, token_id, client_id, jkt, now, now + ttl};
    char *at = access_token_sign(&m);
    if (!at) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    json_t *body = json_pack("{s:s,s:s,s:I,s:s,s:s}", "access_token", at, "token_type", "DPoP",
                             "expires_in", (json_int_t)ttl, "scope", scope, "sub", did);
    free(at);
    if (refresh && *refresh) {
        json_object_set_new(body, "refresh_token", json_string(refresh));
    }
    return oauth_reply_json(rq, 200, body);
}

static int code_grant(struct xrpc_req *rq, const struct xrpc_param *p, size_t n,
                      const struct oauth_client *c, const struct oauth_client_auth *auth,
                      const struct dpop_proof *proof)
{
    int st = 0;
    const char *code = oauth_param(rq, p, n, "code", &st);
    const char *redirect_uri = oauth_param(rq, p, n, "redirect_uri", &st);
    const char *verifier = oauth_param(rq, p, n, "code_verifier", &st);
    if (st) {
        return st;
    }
    if (!token_form(code, CODE_PREFIX, CODE_CHARS)) {
        return oauth_fail(rq, 400, "invalid_grant", "Invalid code");
    }
    struct oauth_request req;
    bool found;
    if (request_consume_code(rq->db, rq->arena, code, &req, &found)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    if (!found) {
        int64_t sid = 0;
        if (session_by_code(rq->db, code, &sid) || (sid && session_delete(rq->db, sid))) {
            return oauth_fail(rq, 500, "server_error", "Internal Server Error");
        }
        if (sid) {
            log_info(&rq->log, "oauth: a code was used twice; its session is revoked");
            return oauth_fail(rq, 400, "invalid_grant",
                              "Code already used: the session it was exchanged for is revoked");
        }
        return oauth_fail(rq, 400, "invalid_grant", "Invalid code");
    }
    /* from here the request row is gone: any failure leaves the code spent */
    if (req.expired) {
        return oauth_fail(rq, 400, "invalid_grant", "This code has expired");
    }
    if ((st = same_client(rq, req.client_id, req.client_auth, req.params, c, auth, proof))) {
        return st;
    }
    const char *want_redirect = pstr(req.params, "redirect_uri");
    if (!redirect_uri || !want_redirect || strcmp(redirect_uri, want_redirect) != 0) {
        return oauth_fail(rq, 400, "invalid_grant",
                          "The redirect_uri parameter must match the one used in the "
                          "authorization request");
    }
    if ((st = check_pkce(rq, req.params, verifier)) || (st = check_account(rq, req.did))) {
        return st;
    }
    const char *scope, *why;
    if (oauth_expand_includes(rq->db, rq->arena, pstr(req.params, "scope"), &scope, &why)) {
        return oauth_fail(rq, 400, "invalid_scope", "%s", why);
    }
    int64_t lifetime = session_lifetime(c);
    int64_t ttl = OAUTH_ACCESS_TOKEN_TTL_S < lifetime ? OAUTH_ACCESS_TOKEN_TTL_S : lifetime;
    struct session_new sn = {
        .did = req.did,
        .client_id = c->id,
        .device_hash = req.device_hash,
        .scope = scope,
        .dpop_jkt = proof->jkt,
        .code = code,
        .client_auth = req.client_auth,
        .params = req.params,
        .access_ttl_s = ttl,
        .session_ttl_s = lifetime,
        .refresh = c->refresh,
    };
    char token_id[TOKEN_ID_CHARS + 1], refresh[REFRESH_CHARS + 1];
    int64_t sid;
    if (session_create(rq->db, &sn, token_id, refresh, &sid)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    rq->log.did = req.did;
    return answer(rq, req.did, c->id, proof->jkt, scope, token_id, refresh, ttl);
}

static int refresh_grant(struct xrpc_req *rq, const struct xrpc_param *p, size_t n,
                         const struct oauth_client *c, const struct oauth_client_auth *auth,
                         const struct dpop_proof *proof)
{
    int st = 0;
    const char *refresh = oauth_param(rq, p, n, "refresh_token", &st);
    if (st) {
        return st;
    }
    if (!token_form(refresh, REFRESH_PREFIX, REFRESH_CHARS)) {
        return oauth_fail(rq, 400, "invalid_grant", "Invalid refresh token");
    }
    struct oauth_session s;
    bool found, reused;
    if (session_by_refresh(rq->db, rq->arena, refresh, &s, &found, &reused)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    if (reused) {
        if (session_delete(rq->db, s.id)) {
            return oauth_fail(rq, 500, "server_error", "Internal Server Error");
        }
        log_info(&rq->log, "oauth: a refresh token was used twice; its session is revoked");
        return oauth_fail(rq, 400, "invalid_grant", "Refresh token replayed");
    }
    if (!found) {
        return oauth_fail(rq, 400, "invalid_grant", "Invalid refresh token");
    }
    int64_t now = oauth_now();
    int64_t refresh_life = c->confidential ? OAUTH_CONFIDENTIAL_REFRESH_S : OAUTH_PUBLIC_REFRESH_S;
    int64_t lifetime = session_lifetime(c), left = s.created_at + lifetime - now;
    const char *scope = NULL, *why;
    if ((st = same_client(rq, s.client_id, s.client_auth, s.params, c, auth, proof))) {
    } else if (!c->refresh) {
        st = oauth_fail(rq, 400, "invalid_grant", "Refresh token grant not allowed");
    } else if (s.session_expired || left <= 1) {
        st = oauth_fail(rq, 400, "invalid_grant", "Session expired");
    } else if (now - s.updated_at > refresh_life) {
        st = oauth_fail(rq, 400, "invalid_grant", "Refresh token expired");
    } else if (oauth_expand_includes(rq->db, rq->arena, pstr(s.params, "scope"), &scope, &why)) {
        st = oauth_fail(rq, 400, "invalid_scope", "%s", why);
    } else {
        st = check_account(rq, s.did);
    }
    if (st) {
        /* as the reference: a failed refresh ends the session (a thief cannot retry) */
        (void)!session_delete(rq->db, s.id);
        return st;
    }
    int64_t ttl = OAUTH_ACCESS_TOKEN_TTL_S < left ? OAUTH_ACCESS_TOKEN_TTL_S : left;
    char token_id[TOKEN_ID_CHARS + 1], next[REFRESH_CHARS + 1];
    bool ok;
    if (session_rotate(rq->db, s.id, refresh, scope, ttl, token_id, next, &ok)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    if (!ok) { /* a concurrent refresh of the same token won */
        return oauth_fail(rq, 400, "invalid_grant", "Invalid refresh token");
    }
    rq->log.did = s.did;
    return answer(rq, s.did, c->id, proof->jkt, scope, token_id, next, ttl);
}

/* spec(oauth): a confidential client's session ends when the key it began with leaves the
 * client's JWKS. Read fresh (the cache is skipped on refresh), before the assertion is
 * checked, so the session goes even if the client still signs with the dropped key. */
static int revoke_if_key_dropped(struct xrpc_req *rq, const struct xrpc_param *p, size_t n,
                                 bool *loaded)
{
    int st = 0;
    const char *client_id = oauth_param(rq, p, n, "client_id", &st);
    const char *refresh = oauth_param(rq, p, n, "refresh_token", &st);
    if (st || !client_id || !token_form(refresh, REFRESH_PREFIX, REFRESH_CHARS)) {
        return st; /* the grant reports these */
    }
    struct oauth_session s;
    bool found, reused;
    if (session_by_refresh(rq->db, rq->arena, refresh, &s, &found, &reused)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    const char *kid = found ? pstr(s.client_auth, "kid") : NULL;
    if (!kid || strcmp(s.client_id, client_id) != 0) {
        return 0;
    }
    struct oauth_client c;
    if ((st = oauth_client_load(rq, client_id, true, &c))) {
        return st;
    }
    *loaded = true; /* the cache now holds what was just read */
    if (oauth_client_has_key(&c, kid)) {
        return 0;
    }
    if (session_delete(rq->db, s.id)) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    log_info(&rq->log, "oauth: a client dropped the key of a session; the session is revoked");
    return oauth_fail(rq, 400, "invalid_grant",
                      "The client no longer lists the key this session was started with: the "
                      "session is revoked");
}

int oauth_token(struct xrpc_req *rq)
{
    struct xrpc_param *p;
    size_t n;
    struct dpop_proof proof;
    struct oauth_client client;
    struct oauth_client_auth auth;
    int st = 0;
    if (!ratelimit_try(rq, RL_GROUP_OAUTH_TOKEN, NULL, 1)) {
        return oauth_fail(rq, 429, "rate_limit_exceeded",
                          "Too many token requests from this address: try again later");
    }
    if ((st = oauth_read_form(rq, &p, &n)) || (st = oauth_as_dpop(rq, &proof))) {
        return st;
    }
    const char *grant = oauth_param(rq, p, n, "grant_type", &st);
    if (st) {
        return st;
    }
    bool code = grant && strcmp(grant, "authorization_code") == 0;
    bool refresh = grant && strcmp(grant, "refresh_token") == 0;
    bool loaded = false;
    if (refresh && (st = revoke_if_key_dropped(rq, p, n, &loaded))) {
        return st;
    }
    /* a refresh re-reads the client's metadata and keys: a key it dropped must stop working */
    if ((st = oauth_as_client(rq, p, n, &proof, refresh && !loaded, &client, &auth))) {
        return st;
    }
    oauth_maybe_sweep(rq->db);
    if (!grant) {
        return oauth_fail(rq, 400, "invalid_request", "Missing \"grant_type\"");
    }
    if (!code && !refresh) {
        return oauth_fail(rq, 400, "unsupported_grant_type",
                          "Grant type \"%s\" is not supported by the server", grant);
    }
    if (refresh && !client.refresh) {
        return oauth_fail(rq, 400, "unauthorized_client",
                          "\"refresh_token\" grant type is not allowed for this client");
    }
    return code ? code_grant(rq, p, n, &client, &auth, &proof)
                : refresh_grant(rq, p, n, &client, &auth, &proof);
}
