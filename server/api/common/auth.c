/* auth.c - legacy session JWTs, OAuth access tokens and admin auth, as the reference PDS
 * checks them, and the one permission check every endpoint calls. */
#include "api/common/auth.h"

#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "api/common/app.h"
#include "core/base.h"
#include "core/syntax.h"
#include "crypto/jwt.h"
#include "config/config.h"
#include "oauth/access_token.h"
#include "oauth/resource.h"
#include "oauth/scope_needed.h"
#include "http/ratelimit.h"

static const char *const scope_names[] = {
    [AUTH_SCOPE_UNKNOWN] = "",
    [AUTH_SCOPE_ACCESS] = "com.atproto.access",
    [AUTH_SCOPE_APP_PASS_PRIVILEGED] = "com.atproto.appPassPrivileged",
    [AUTH_SCOPE_APP_PASS] = "com.atproto.appPass",
    [AUTH_SCOPE_REFRESH] = "com.atproto.refresh",
    [AUTH_SCOPE_TAKENDOWN] = "com.atproto.takendown",
    [AUTH_SCOPE_SIGNUP_QUEUED] = "com.atproto.signupQueued",
};

const char *auth_scope_name(enum auth_scope s)
{
    return (unsigned)s < ARRAY_LEN(scope_names) ? scope_names[s] : "";
}

enum auth_scope auth_scope_parse(const char *s)
{
    for (size_t i = 1; s && i < ARRAY_LEN(scope_names); i++) {
        if (strcmp(s, scope_names[i]) == 0) {
            return (enum auth_scope)i;
        }
    }
    return AUTH_SCOPE_UNKNOWN;
}

/* What each legacy tier may do, in the scope model, so that legacy sessions go through the
 * same permission checks as OAuth tokens. Every access tier holds every permission; what
 * app passwords and taken-down sessions may not do is what the reference refuses them by
 * tier, and so do we: the route's AUTH_* flags (a route of ACCESS_FULL refuses app
 * passwords) and the list of privileged methods (server/service_auth.c). A signup-queued
 * session holds identity and its email only. */
#define FULL_SCOPES                                                                                \
    "atproto transition:generic transition:chat.bsky transition:email"                             \
    " account:email?action=manage account:repo?action=manage identity:*"
static const char *const tier_scopes[] = {
    [AUTH_SCOPE_UNKNOWN] = "",
    [AUTH_SCOPE_ACCESS] = FULL_SCOPES,
    [AUTH_SCOPE_APP_PASS_PRIVILEGED] = FULL_SCOPES,
    [AUTH_SCOPE_APP_PASS] = FULL_SCOPES,
    [AUTH_SCOPE_REFRESH] = "",
    [AUTH_SCOPE_TAKENDOWN] = FULL_SCOPES,
    [AUTH_SCOPE_SIGNUP_QUEUED] = "atproto transition:email",
};

static unsigned scope_flag(enum auth_scope s)
{
    switch (s) {
    case AUTH_SCOPE_ACCESS:
        return AUTH_FULL;
    case AUTH_SCOPE_APP_PASS_PRIVILEGED:
        return AUTH_PRIVILEGED;
    case AUTH_SCOPE_APP_PASS:
        return AUTH_APP_PASS;
    case AUTH_SCOPE_TAKENDOWN:
        return AUTH_TAKENDOWN;
    case AUTH_SCOPE_SIGNUP_QUEUED:
        return AUTH_SIGNUP_QUEUED;
    default:
        return 0;
    }
}

/* The Authorization header split into scheme and credentials; 0, or the error status. */
static int split_authorization(struct xrpc_req *rq, const char **scheme, const char **cred)
{
    const char *h = xrpc_header(rq, "authorization");
    *scheme = *cred = NULL;
    if (!h) {
        return 0;
    }
    const char *sp = strchr(h, ' ');
    if (!sp || strchr(sp + 1, ' ') || sp == h || sp[1] == '\0') {
        return xrpc_fail(rq, 400, "InvalidToken", "Malformed authorization header");
    }
    *scheme = arena_strndup(rq->arena, h, (size_t)(sp - h));
    *cred = sp + 1;
    if (strcasecmp(*scheme, "bearer") && strcasecmp(*scheme, "basic") &&
        strcasecmp(*scheme, "dpop")) {
        return xrpc_fail(rq, 400, "InvalidToken", "Unsupported authorization type: %s", *scheme);
    }
    return 0;
}

static void set_auth_headers(struct xrpc_req *rq)
{
    xrpc_set_header(rq, "Cache-Control", "private");
    xrpc_set_header(rq, "Vary", "Authorization");
}

/* Authorization: DPoP <token>: the OAuth resource-server checks, then the token's scope. */
static int verify_oauth(struct xrpc_req *rq, const char *token, const struct auth **out)
{
    struct oauth_caller c;
    int st = oauth_resource_check(rq, token, &c);
    if (st) {
        return st;
    }
    struct auth *a = arena_zalloc(rq->arena, sizeof(*a));
    a->kind = AUTH_KIND_OAUTH;
    a->did = c.did;
    a->client_id = c.client_id;
    if (scope_set_parse(rq->arena, bytes_str(c.scope), &a->perms) || !a->perms.atproto) {
        return xrpc_fail(rq, 400, "InvalidToken", "OAuth token does not have \"atproto\" scope");
    }
    *out = a;
    rq->auth = a;
    rq->log.did = a->did;
    return 0;
}

/* Verifies an HS256 session JWT of typ `typ` whose scope is allowed by `allowed`
 * (allowed == 0: exactly AUTH_SCOPE_REFRESH). */
static int verify_bearer(struct xrpc_req *rq, const char *typ, unsigned allowed,
                         enum auth_kind kind, const struct auth **out)
{
    set_auth_headers(rq);
    const char *scheme, *token;
    int st = split_authorization(rq, &scheme, &token);
    if (st) {
        return st;
    }
    if (!scheme) {
        return xrpc_fail(rq, 401, "AuthMissing", "Authentication Required");
    }
    if (kind == AUTH_KIND_ACCESS && strcasecmp(scheme, "dpop") == 0) {
        return verify_oauth(rq, token, out);
    }
    if (strcasecmp(scheme, "bearer") != 0) {
        return xrpc_fail(rq, 400, "InvalidToken", "Unexpected authorization type");
    }
    const struct config *cfg = app_get()->cfg;
    struct jwt j;
    if (jwt_decode_hs256(bytes_str(token), bytes_str(cfg->jwt_secret), &j)) {
        if (kind == AUTH_KIND_ACCESS && access_token_looks_bound(token)) {
            /* 401, not the reference's 400: RFC 9449 §7.1 */
            return oauth_resource_fail(rq, "invalid_token",
                                       "DPoP-bound access tokens must be sent with the DPoP "
                                       "authorization scheme and a DPoP proof");
        }
        return xrpc_fail(rq, 400, "InvalidToken", "Token could not be verified");
    }
    int status = 0;
    int64_t exp = 0, now = (int64_t)time(NULL);
    const char *sub = jwt_claim_str(&j, "sub");
    const char *aud = jwt_claim_str(&j, "aud"), *scope = jwt_claim_str(&j, "scope");
    const char *jti = jwt_claim_str(&j, "jti");
    json_t *jti_json = json_object_get(j.claims, "jti");
    /* In the reference's order: jose's jwtVerify checks the signature, then "typ" (a token
     * without one is refused), then the audience, then expiry; all but expiry fail as
     * "could not be verified". Then its own checks. */
    if (!jwt_typ_is(&j, typ) || !aud || strcmp(aud, cfg->service_did) != 0) {
        status = xrpc_fail(rq, 400, "InvalidToken", "Token could not be verified");
    } else if (!jwt_claim_int(&j, "exp", &exp) || exp <= now) {
        /* 400, not 401: clients refresh on exactly 400 ExpiredToken */
        status = xrpc_fail(rq, 400, "ExpiredToken", "Token has expired");
    } else if (json_object_get(j.claims, "lxm") || json_object_get(j.claims, "cnf") || !sub ||
               !syntax_did_valid(bytes_str(sub)) || (jti_json && !jti)) {
        status = xrpc_fail(rq, 400, "InvalidToken", "Malformed token");
    } else {
        enum auth_scope s = auth_scope_parse(scope);
        bool ok = allowed ? (scope_flag(s) & allowed) != 0 : s == AUTH_SCOPE_REFRESH;
        if (!ok) {
            status = xrpc_fail(rq, 400, "InvalidToken", "Bad token scope");
        } else {
            struct auth *a = arena_zalloc(rq->arena, sizeof(*a));
            a->kind = kind;
            a->scope = s;
            a->did = arena_strndup(rq->arena, sub, strlen(sub));
            a->jti = jti ? arena_strndup(rq->arena, jti, strlen(jti)) : NULL;
            a->exp = exp;
            if (scope_set_parse(rq->arena, bytes_str(tier_scopes[s]), &a->perms)) {
                memset(&a->perms, 0, sizeof a->perms);
            }
            *out = a;
            rq->auth = a;
            rq->log.did = a->did;
        }
    }
    jwt_clear(&j);
    return status;
}

/* 401 AccountTakedown / AccountDeactivated, 403 AccountNotFound, as the reference. */
static int check_status(struct xrpc_req *rq, const char *did, unsigned flags)
{
    if (!(flags & (AUTH_CHECK_TAKEDOWN | AUTH_CHECK_DEACTIVATED))) {
        return 0;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    static const struct db_stmt status_stmt = {
        "auth_account_status", "SELECT takedown_ref IS NOT NULL, deactivated_at IS NOT NULL"
                               " FROM account WHERE did = $1"};
    PGresult *r;
    if (db_query_stmt_in(rq->db, rq->arena, &status_stmt, &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 403, "AccountNotFound", "Account not found");
    }
    if ((flags & AUTH_CHECK_TAKEDOWN) && db_col_bool(r, 0, 0)) {
        return xrpc_fail(rq, 401, "AccountTakedown", "Account has been taken down");
    }
    if ((flags & AUTH_CHECK_DEACTIVATED) && db_col_bool(r, 0, 1)) {
        return xrpc_fail(rq, 401, "AccountDeactivated", "Account is deactivated");
    }
    return 0;
}

int auth_access(struct xrpc_req *rq, unsigned flags, const struct auth **out)
{
    unsigned scopes = flags & 0xff;
    /* a taken-down session is refused outright where takedowns are checked */
    if (flags & AUTH_CHECK_TAKEDOWN) {
        scopes &= ~(unsigned)AUTH_TAKENDOWN;
    }
    int st = verify_bearer(rq, "at+jwt", scopes, AUTH_KIND_ACCESS, out);
    /* the route's per-account limits, before any database work: a refused client costs
     * one HMAC */
    if (!st) {
        st = ratelimit_on_account(rq, (*out)->did);
    }
    if (!st) {
        st = check_status(rq, (*out)->did, flags);
    }
    /* as the reference: the account's state first, then the route's refusal of OAuth */
    if (!st && (*out)->kind == AUTH_KIND_OAUTH && !(flags & AUTH_OAUTH)) {
        st = xrpc_fail(rq, 403, "Forbidden",
                       "OAuth credentials are not supported for this endpoint");
    }
    return st;
}

int auth_refresh(struct xrpc_req *rq, const struct auth **out)
{
    int st = verify_bearer(rq, "refresh+jwt", 0, AUTH_KIND_REFRESH, out);
    if (!st && !(*out)->jti) {
        return xrpc_fail(rq, 401, "MissingTokenId", "Unexpected missing refresh token id");
    }
    return st;
}

int auth_admin(struct xrpc_req *rq, const struct auth **out)
{
    /* the admin console signed this request in with its session (api/console) and calls
     * the admin handlers on it: nothing else sets an admin auth */
    const struct auth *already = rq->auth;
    if (already && already->kind == AUTH_KIND_ADMIN) {
        *out = already;
        return 0;
    }
    set_auth_headers(rq);
    const char *scheme, *cred;
    int st = split_authorization(rq, &scheme, &cred);
    if (st) {
        return st;
    }
    if (!scheme || strcasecmp(scheme, "basic") != 0) {
        return xrpc_fail(rq, 401, "AuthenticationRequired", "Authentication Required");
    }
    struct buf dec;
    buf_init(&dec, 4096);
    bool ok = base64_decode(bytes_str(cred), &dec) == ERR_OK;
    const char *colon = ok ? memchr(dec.ptr, ':', dec.len) : NULL;
    const char *want = app_get()->cfg->admin_password;
    if (colon && want && (size_t)(colon - (const char *)dec.ptr) == 5 &&
        memcmp(dec.ptr, "admin", 5) == 0) {
        /* hash both sides so the comparison takes the same time whatever the lengths */
        uint8_t a[32], b[32];
        size_t plen = dec.len - 6;
        crypto_generichash(a, sizeof(a), (const uint8_t *)colon + 1, plen, NULL, 0);
        crypto_generichash(b, sizeof(b), (const uint8_t *)want, strlen(want), NULL, 0);
        ok = sodium_memcmp(a, b, sizeof(a)) == 0;
    } else {
        ok = false;
    }
    sodium_memzero(dec.ptr, dec.cap);
    buf_clear(&dec);
    if (!ok) {
        return xrpc_fail(rq, 401, "AuthenticationRequired", "Authentication Required");
    }
    struct auth *au = arena_zalloc(rq->arena, sizeof(*au));
    au->kind = AUTH_KIND_ADMIN;
    *out = au;
    rq->auth = au;
    return 0;
}

void auth_console_admin(struct xrpc_req *rq)
{
    struct auth *au = arena_zalloc(rq->arena, sizeof(*au));
    au->kind = AUTH_KIND_ADMIN;
    rq->auth = au;
}

int auth_optional(struct xrpc_req *rq, unsigned flags, const struct auth **out)
{
    *out = NULL;
    const char *scheme, *cred;
    int st = split_authorization(rq, &scheme, &cred);
    if (st || !scheme) {
        return st;
    }
    if (strcasecmp(scheme, "basic") == 0) {
        return auth_admin(rq, out);
    }
    return auth_access(rq, flags, out);
}

/* ---- the permission check ---- */

static int missing(struct xrpc_req *rq, const char *scope)
{
    return xrpc_fail(rq, 403, "ScopeMissingError", "Missing required scope \"%s\"", scope);
}

int auth_permit_repo(struct xrpc_req *rq, const struct auth *a, const char *collection,
                     unsigned actions)
{
    if (a->kind == AUTH_KIND_ADMIN) {
        return 0;
    }
    /* one action at a time, so the message names the first one missing (putRecord: create) */
    static const unsigned order[] = {SCOPE_REPO_CREATE, SCOPE_REPO_UPDATE, SCOPE_REPO_DELETE};
    for (size_t i = 0; i < ARRAY_LEN(order); i++) {
        if ((actions & order[i]) &&
            !scope_allows_repo_write(&a->perms, bytes_str(collection), order[i])) {
            return missing(rq, scope_needed_repo(rq->arena, collection, order[i]));
        }
    }
    return 0;
}

int auth_permit_blob(struct xrpc_req *rq, const struct auth *a, const char *mime)
{
    if (a->kind == AUTH_KIND_ADMIN) {
        return 0;
    }
    mime = mime ? mime : "";
    if (!scope_allows_blob(&a->perms, bytes_str(mime))) {
        size_t n = strcspn(mime, "; ");
        return missing(rq, scope_needed_blob(rq->arena, arena_strndup(rq->arena, mime, n)));
    }
    return 0;
}

int auth_permit_rpc(struct xrpc_req *rq, const struct auth *a, const char *aud, const char *lxm)
{
    if (a->kind == AUTH_KIND_ADMIN) {
        return 0;
    }
    if (!scope_allows_rpc(&a->perms, bytes_str(aud), bytes_str(lxm))) {
        return missing(rq, scope_needed_rpc(rq->arena, aud, lxm));
    }
    return 0;
}

bool auth_allows_account(const struct auth *a, enum scope_account_attr attr,
                         enum scope_account_action action)
{
    return a->kind == AUTH_KIND_ADMIN || scope_allows_account(&a->perms, attr, action);
}

int auth_permit_account(struct xrpc_req *rq, const struct auth *a, enum scope_account_attr attr,
                        enum scope_account_action action)
{
    if (!auth_allows_account(a, attr, action)) {
        return missing(rq, scope_needed_account(rq->arena, attr, action));
    }
    return 0;
}

int auth_permit_identity(struct xrpc_req *rq, const struct auth *a, enum scope_identity_attr attr)
{
    if (a->kind != AUTH_KIND_ADMIN && !scope_allows_identity(&a->perms, attr)) {
        return missing(rq, scope_needed_identity(rq->arena, attr));
    }
    return 0;
}

enum err auth_sign_session(const char *did, enum auth_scope scope, const char *jti, int64_t now,
                           char **access, char **refresh)
{
    const struct config *cfg = app_get()->cfg;
    struct bytes secret = bytes_str(cfg->jwt_secret);
    json_t *ah = json_pack("{s:s}", "typ", "at+jwt");
    json_t *ac = json_pack("{s:s,s:s,s:s,s:I,s:I}", "scope", auth_scope_name(scope), "sub", did,
                           "aud", cfg->service_did, "iat", (json_int_t)now, "exp",
                           (json_int_t)(now + AUTH_ACCESS_TTL_S));
    json_t *rh = json_pack("{s:s}", "typ", "refresh+jwt");
    json_t *rc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "scope", "com.atproto.refresh", "sub", did,
                           "aud", cfg->service_did, "jti", jti, "iat", (json_int_t)now, "exp",
                           (json_int_t)(now + AUTH_REFRESH_TTL_S));
    enum err e = ERR_INTERNAL;
    *access = *refresh = NULL;
    if (ah && ac && rh && rc && !(e = jwt_sign_hs256(ah, ac, secret, access))) {
        e = jwt_sign_hs256(rh, rc, secret, refresh);
        if (e) {
            free(*access);
            *access = NULL;
        }
    }
    json_decref(ah);
    json_decref(ac);
    json_decref(rh);
    json_decref(rc);
    return e;
}
