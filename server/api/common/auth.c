/* auth.c - legacy session JWTs and admin auth, as the reference PDS checks them. */
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
    if (strcasecmp(scheme, "bearer") != 0) {
        return xrpc_fail(rq, 400, "InvalidToken", "Unexpected authorization type");
    }
    const struct config *cfg = app_get()->cfg;
    struct jwt j;
    if (jwt_decode_hs256(bytes_str(token), bytes_str(cfg->jwt_secret), &j)) {
        return xrpc_fail(rq, 400, "InvalidToken", "Token could not be verified");
    }
    int status = 0;
    int64_t exp = 0, now = (int64_t)time(NULL);
    const char *htyp = jwt_typ(&j), *sub = jwt_claim_str(&j, "sub");
    const char *aud = jwt_claim_str(&j, "aud"), *scope = jwt_claim_str(&j, "scope");
    const char *jti = jwt_claim_str(&j, "jti");
    if (!jwt_claim_int(&j, "exp", &exp) || exp <= now) {
        /* 400, not 401: clients refresh on exactly 400 ExpiredToken */
        status = xrpc_fail(rq, 400, "ExpiredToken", "Token has expired");
    } else if (htyp && strcmp(htyp, typ) != 0) {
        status = xrpc_fail(rq, 400, "InvalidToken", "Invalid token type");
    } else if (json_object_get(j.claims, "lxm") || json_object_get(j.claims, "cnf") || !sub ||
               !syntax_did_valid(bytes_str(sub)) || !aud || strcmp(aud, cfg->service_did) != 0) {
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
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT takedown_ref IS NOT NULL, deactivated_at IS NOT NULL FROM account"
                    " WHERE did = $1",
                    &p, &r)) {
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
    return st ? st : check_status(rq, (*out)->did, flags);
}

int auth_refresh(struct xrpc_req *rq, const struct auth **out)
{
    return verify_bearer(rq, "refresh+jwt", 0, AUTH_KIND_REFRESH, out);
}

int auth_admin(struct xrpc_req *rq, const struct auth **out)
{
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
