/* service_auth.c - com.atproto.server.getServiceAuth and the service JWTs it and the
 * proxy mint, with the reference's refusals. */
#include "api/server/service_auth.h"

#include <stdlib.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "api/server/server.h"
#include "api/common/app.h"
#include "api/common/auth.h"
#include "blob/sigv4.h"
#include "core/syntax.h"
#include "crypto/jwt.h"

/* Account-management methods: used directly, never proxied or service-authed. */
static const char *const protected_methods[] = {
    "com.atproto.admin.sendEmail",
    "com.atproto.identity.requestPlcOperationSignature",
    "com.atproto.identity.signPlcOperation",
    "com.atproto.identity.updateHandle",
    "com.atproto.server.activateAccount",
    "com.atproto.server.confirmEmail",
    "com.atproto.server.createAppPassword",
    "com.atproto.server.deactivateAccount",
    "com.atproto.server.getAccountInviteCodes",
    "com.atproto.server.getSession",
    "com.atproto.server.listAppPasswords",
    "com.atproto.server.requestAccountDelete",
    "com.atproto.server.requestEmailConfirmation",
    "com.atproto.server.requestEmailUpdate",
    "com.atproto.server.revokeAppPassword",
    "com.atproto.server.updateEmail",
};

/* Full access or a privileged app password only: every chat.bsky method the reference
 * lists, and account creation (migration). */
static const char *const privileged_methods[] = {
    "chat.bsky.actor.deleteAccount",        "chat.bsky.actor.exportAccountData",
    "chat.bsky.convo.deleteMessageForSelf", "chat.bsky.convo.getConvo",
    "chat.bsky.convo.getConvoForMembers",   "chat.bsky.convo.getLog",
    "chat.bsky.convo.getMessages",          "chat.bsky.convo.leaveConvo",
    "chat.bsky.convo.listConvos",           "chat.bsky.convo.muteConvo",
    "chat.bsky.convo.sendMessage",          "chat.bsky.convo.sendMessageBatch",
    "chat.bsky.convo.unmuteConvo",          "chat.bsky.convo.updateRead",
    "com.atproto.server.createAccount",
};

static bool in_list(const char *const *list, size_t n, const char *lxm)
{
    for (size_t i = 0; lxm && i < n; i++) {
        if (strcasecmp(list[i], lxm) == 0) {
            return true;
        }
    }
    return false;
}

bool api_lxm_is_protected(const char *lxm)
{
    return in_list(protected_methods, ARRAY_LEN(protected_methods), lxm);
}

bool api_lxm_is_privileged(const char *lxm)
{
    return in_list(privileged_methods, ARRAY_LEN(privileged_methods), lxm);
}

static void free_str(void *p)
{
    free(p);
}

int api_service_jwt(struct xrpc_req *rq, const char *iss, const char *aud, const char *lxm,
                    int64_t exp, const char **out)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, iss);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT signing_key FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct sigkey key;
    if (PQntuples(r) == 0 || db_col_null(r, 0, 0) ||
        app_unseal_signing_key(db_col_bytes(r, 0, 0), &key)) {
        log_error(&rq->log, "no usable signing key for %s", iss);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    uint8_t rnd[SERVICE_JWT_JTI_BYTES];
    char jti[2 * SERVICE_JWT_JTI_BYTES + 1];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        sigkey_clear(&key);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    sigv4_hex(rnd, sizeof rnd, jti);
    int64_t iat = (int64_t)time(NULL);
    json_t *header = json_pack("{s:s}", "typ", "JWT");
    json_t *claims = json_pack("{s:I,s:s,s:s,s:I}", "iat", (json_int_t)iat, "iss", iss, "aud", aud,
                               "exp", (json_int_t)(exp ? exp : iat + SERVICE_JWT_TTL_S));
    if (lxm) {
        json_object_set_new(claims, "lxm", json_string(lxm));
    }
    json_object_set_new(claims, "jti", json_string(jti));
    char *token = NULL;
    enum err e = jwt_sign_sigkey(header, claims, &key, &token);
    sigkey_clear(&key);
    json_decref(header);
    json_decref(claims);
    if (e) {
        log_error(&rq->log, "could not sign a service token: %s", err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    arena_defer(rq->arena, free_str, token);
    *out = token;
    return 0;
}

/* aud: a DID, or a DID with a #service fragment (did:web:api.example.com#bsky_appview). */
static bool aud_valid(const char *aud)
{
    const char *hash = strchr(aud, '#');
    size_t n = hash ? (size_t)(hash - aud) : strlen(aud);
    if (!syntax_did_valid(bytes_of(aud, n))) {
        return false;
    }
    if (!hash) {
        return true;
    }
    const char *frag = hash + 1;
    if (!*frag || strchr(frag, '#')) {
        return false;
    }
    for (const char *c = frag; *c; c++) {
        if (*c <= ' ' || *c == 0x7f) {
            return false;
        }
    }
    return true;
}

/* com.atproto.server.getServiceAuth */
int api_server_get_service_auth(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *aud, *lxm;
    int64_t exp;
    int st;
    if ((st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_TAKENDOWN, &a)) ||
        (st = xrpc_param_str(rq, "aud", true, &aud)) ||
        (st = xrpc_param_int(rq, "exp", INT64_MIN / 1000, INT64_MAX / 1000, 0, &exp)) ||
        (st = xrpc_param_str(rq, "lxm", false, &lxm))) {
        return st;
    }
    if (!aud_valid(aud)) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "aud must be a valid atproto DID or did#serviceId reference");
    }
    /* a taken-down account may only mint the token that migrates it away */
    if (a->scope == AUTH_SCOPE_TAKENDOWN &&
        (!lxm || strcmp(lxm, "com.atproto.server.createAccount") != 0)) {
        return xrpc_fail(rq, 400, "InvalidToken", "Bad token scope");
    }
    /* the one permission check: a service token for (aud, lxm) is a call to that service */
    if ((st = auth_permit_rpc(rq, a, aud, lxm ? lxm : "*"))) {
        return st;
    }
    /* OAuth tokens were judged by their scopes just now; legacy tiers also by the list */
    bool privileged = a->kind == AUTH_KIND_OAUTH || a->scope == AUTH_SCOPE_ACCESS ||
                      a->scope == AUTH_SCOPE_APP_PASS_PRIVILEGED;
    if (lxm && api_lxm_is_privileged(lxm) && !privileged) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "insufficient access to request a service auth token for the following "
                         "method: %s",
                         lxm);
    }
    if (exp) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t diff_ms = exp * 1000 - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        if (diff_ms < 0) {
            return xrpc_fail(rq, 400, "BadExpiration", "expiration is in past");
        }
        if (diff_ms > (int64_t)SERVICE_JWT_MAX_TTL_S * 1000) {
            return xrpc_fail(rq, 400, "BadExpiration",
                             "cannot request a token with an expiration more than an hour in "
                             "the future");
        }
        if (!lxm && diff_ms > (int64_t)SERVICE_JWT_TTL_S * 1000) {
            return xrpc_fail(rq, 400, "BadExpiration",
                             "cannot request a method-less token with an expiration more than a "
                             "minute in the future");
        }
    }
    if (lxm && api_lxm_is_protected(lxm)) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "cannot request a service auth token for the following protected "
                         "method: %s",
                         lxm);
    }
    const char *token;
    if ((st = api_service_jwt(rq, a->did, aud, lxm, exp, &token))) {
        return st;
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "token", token));
}
