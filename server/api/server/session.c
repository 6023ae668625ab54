/* session.c - com.atproto.server.{createSession,getSession,refreshSession,deleteSession}
 * and the session helpers the account handlers share (server_common.h). */
#include "api/server/server_common.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "api/account/account_ops.h"
#include "api/account/login.h"
#include "api/server/server.h"
#include "api/common/app.h"
#include "api/common/input.h"
#include "core/syntax.h"
#include "identity/did_doc.h"
#include "config/config.h"
#include "repo/writes.h"

#define INVALID_HANDLE   "handle.invalid" /* reference: shown for an account without one */
#define ROTATE_RETRIES   3                /* concurrent refreshes of one token: re-read */
#define LOGIN_FAILED_MSG "Invalid identifier or password"

int server_issue_session(struct xrpc_req *rq, const char *did, enum auth_scope scope,
                         const char *app_password_name, const char *jti, bool store, json_t *body)
{
    char id[ACCOUNT_TOKEN_ID_CHARS + 1];
    if (!jti) {
        account_token_id(id);
        jti = id;
    }
    int64_t now = (int64_t)time(NULL);
    char *access = NULL, *refresh = NULL;
    if (auth_sign_session(did, scope, jti, now, &access, &refresh)) {
        log_error(&rq->log, "could not sign session tokens");
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_object_set_new(body, "accessJwt", json_string(access));
    json_object_set_new(body, "refreshJwt", json_string(refresh));
    free(access);
    free(refresh);
    if (!store) {
        return 0;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, jti);
    db_param_text(&p, did);
    db_param_text(&p, app_password_name);
    db_param_i64(&p, now + AUTH_REFRESH_TTL_S);
    /* ON CONFLICT: the same successor may be granted twice within the grace period */
    if (db_exec(rq->db,
                "INSERT INTO refresh_token (id, did, app_password_name, expires_at)"
                " VALUES ($1, $2, $3, to_timestamp($4::bigint)) ON CONFLICT (id) DO NOTHING",
                &p, NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return 0;
}

/* The DID document of one of our accounts, rendered from what we hold (the directory has
 * the same content: we wrote it). NULL when the key cannot be read. */
static json_t *local_did_doc(struct xrpc_req *rq, const char *did, const char *handle,
                             struct bytes sealed)
{
    struct sigkey key;
    if (!sealed.ptr || app_unseal_signing_key(sealed, &key)) {
        log_warn(&rq->log, "signing key of %s cannot be unsealed for its DID document", did);
        return NULL;
    }
    json_t *doc = did_doc_build(did, handle, &key, rq->cfg->public_url);
    sigkey_clear(&key);
    return doc;
}

int server_session_fields(struct xrpc_req *rq, const char *did, json_t *body, bool *found)
{
    *found = false;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT handle, email, email_confirmed_at IS NOT NULL, email_auth_factor,"
                    " takedown_ref IS NOT NULL, deactivated_at IS NOT NULL, signing_key"
                    " FROM account WHERE did = $1",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return 0;
    }
    *found = true;
    const char *handle = db_col_text(r, 0, 0), *email = db_col_text(r, 0, 1);
    json_object_set_new(body, "did", json_string(did));
    json_object_set_new(body, "handle", json_string(handle ? handle : INVALID_HANDLE));
    if (email) {
        json_object_set_new(body, "email", json_string(email));
    }
    json_object_set_new(body, "emailConfirmed", json_boolean(db_col_bool(r, 0, 2)));
    json_object_set_new(body, "emailAuthFactor", json_boolean(db_col_bool(r, 0, 3)));
    const char *status = db_col_bool(r, 0, 4)   ? "takendown"
                         : db_col_bool(r, 0, 5) ? "deactivated"
                                                : NULL;
    json_object_set_new(body, "active", json_boolean(status == NULL));
    if (status) {
        json_object_set_new(body, "status", json_string(status));
    }
    if (rq->cfg->enable_did_doc_with_session) {
        json_t *doc = local_did_doc(rq, did, handle, db_col_bytes(r, 0, 6));
        if (doc) {
            json_object_set_new(body, "didDoc", doc);
        }
    }
    return 0;
}

/* ---- createSession --------------------------------------------------------------------- */

/* An app password of did matching pw: *name set (NULL when none). */
static int app_password_lookup(struct xrpc_req *rq, const char *did, const char *pw,
                               const char **name, bool *privileged)
{
    *name = NULL;
    char digest[ACCOUNT_APP_DIGEST_MAX];
    account_app_password_digest(did, pw, digest);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, digest);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT name, privileged FROM app_password"
                    " WHERE did = $1 AND password_hash = $2",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) > 0) {
        *name = db_col_text(r, 0, 0);
        *privileged = db_col_bool(r, 0, 1);
    }
    return 0;
}

/* com.atproto.server.createSession */
int api_server_create_session(struct xrpc_req *rq)
{
    const char *identifier, *password, *factor_token;
    bool allow_takendown;
    int st;
    if ((st = input_require_object(rq)) || (st = input_str(rq, "identifier", true, &identifier)) ||
        (st = input_str(rq, "password", true, &password)) ||
        (st = input_str(rq, "authFactorToken", false, &factor_token)) ||
        (st = input_bool(rq, "allowTakendown", false, &allow_takendown))) {
        return st;
    }
    if (account_password_chars(password) > ACCOUNT_OLD_PASSWORD_MAX_CHARS) {
        return xrpc_fail(rq, 401, "AuthenticationRequired",
                         "Password too long. Consider resetting your password.");
    }
    bool found;
    struct account_login acct = {0};
    if ((st = account_login_lookup(rq, identifier, &found, &acct))) {
        return st;
    }
    if (!found || !acct.password_hash) {
        account_password_burn(password); /* same time as a wrong password */
        return xrpc_fail(rq, 401, "AuthenticationRequired", LOGIN_FAILED_MSG);
    }
    rq->log.did = acct.did;
    const char *app_name = NULL;
    bool privileged = false;
    if (!account_password_verify(acct.password_hash, password)) {
        /* taken-down accounts cannot log in with an app password (reference) */
        if (!acct.takendown &&
            (st = app_password_lookup(rq, acct.did, password, &app_name, &privileged))) {
            return st;
        }
        if (!app_name) {
            return xrpc_fail(rq, 401, "AuthenticationRequired", LOGIN_FAILED_MSG);
        }
    }
    if (acct.takendown && !allow_takendown) {
        return xrpc_fail(rq, 401, "AccountTakedown", "Account has been taken down");
    }
    /* issue 6: email two-factor sign-in for password logins (app passwords skip it, as on
     * Bluesky's entryway); see account_sign_in_factor in api/account_ops.h */
    if (!app_name && (st = account_sign_in_factor(rq, acct.did, factor_token))) {
        return st;
    }
    enum auth_scope scope = acct.takendown ? AUTH_SCOPE_TAKENDOWN
                            : !app_name    ? AUTH_SCOPE_ACCESS
                            : privileged   ? AUTH_SCOPE_APP_PASS_PRIVILEGED
                                           : AUTH_SCOPE_APP_PASS;
    json_t *body = json_object();
    /* a taken-down session is not stored, so it can never be refreshed (reference) */
    if ((st = server_issue_session(rq, acct.did, scope, app_name, NULL, !acct.takendown, body)) ||
        (st = server_session_fields(rq, acct.did, body, &found))) {
        json_decref(body);
        return st;
    }
    return xrpc_reply_json(rq, 200, body);
}

/* ---- getSession ------------------------------------------------------------------------ */

/* com.atproto.server.getSession */
int api_server_get_session(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_SIGNUP_QUEUED, &a);
    if (st) {
        return st;
    }
    json_t *body = json_object();
    bool found;
    if ((st = server_session_fields(rq, a->did, body, &found))) {
        json_decref(body);
        return st;
    }
    /* the reference reads the account without taken-down ones here */
    json_t *status = json_object_get(body, "status");
    if (!found || (status && strcmp(json_string_value(status), "takendown") == 0)) {
        json_decref(body);
        return xrpc_fail(rq, 400, "InvalidRequest", "Could not find user info for account: %s",
                         a->did);
    }
    /* reference getSession.ts: the email only for credentials that may read it */
    if (!auth_allows_account(a, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_READ)) {
        json_object_del(body, "email");
        json_object_del(body, "emailConfirmed");
        json_object_del(body, "emailAuthFactor");
    }
    return xrpc_reply_json(rq, 200, body);
}

/* ---- refreshSession -------------------------------------------------------------------- */

/* Rotates refresh token `id` (reference rotateRefreshToken): the successor id is the one
 * already recorded in next_id if the token was rotated before (so concurrent refreshes get
 * the same successor), the old token lives on for the grace period, and the new one keeps
 * the app password. *revoked when the token is unknown or past its (grace) expiry. */
static int rotate_refresh(struct xrpc_req *rq, const char *id, const char *did, json_t *body,
                          bool *revoked)
{
    *revoked = false;
    for (int attempt = 0; attempt < ROTATE_RETRIES; attempt++) {
        struct db_params p;
        db_params_init(&p);
        db_param_text(&p, id);
        PGresult *r;
        if (db_query_in(rq->db, rq->arena,
                        "SELECT rt.did, rt.app_password_name, rt.next_id, ap.privileged,"
                        " rt.expires_at > now()"
                        " FROM refresh_token rt LEFT JOIN app_password ap"
                        " ON ap.did = rt.did AND ap.name = rt.app_password_name"
                        " WHERE rt.id = $1",
                        &p, &r)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        if (PQntuples(r) == 0 || strcmp(db_col_text(r, 0, 0), did) != 0) {
            *revoked = true;
            return 0;
        }
        const char *app_name = db_col_text(r, 0, 1), *next_id = db_col_text(r, 0, 2);
        bool privileged = db_col_bool(r, 0, 3), live = db_col_bool(r, 0, 4);
        /* best effort tidying, as the reference: the account's expired tokens go */
        db_params_init(&p);
        db_param_text(&p, did);
        if (db_exec(rq->db, "DELETE FROM refresh_token WHERE did = $1 AND expires_at <= now()", &p,
                    NULL)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        if (!live) {
            *revoked = true;
            return 0;
        }
        char fresh[ACCOUNT_TOKEN_ID_CHARS + 1];
        if (!next_id) {
            account_token_id(fresh);
            next_id = fresh;
        }
        enum auth_scope scope = !app_name    ? AUTH_SCOPE_ACCESS
                                : privileged ? AUTH_SCOPE_APP_PASS_PRIVILEGED
                                             : AUTH_SCOPE_APP_PASS;
        json_object_clear(body);
        int st = server_issue_session(rq, did, scope, app_name, next_id, false, body);
        if (st) {
            return st;
        }
        /* one statement: shorten the old token to the grace period and store its successor,
         * unless another refresh recorded a different successor first (then re-read) */
        db_params_init(&p);
        db_param_text(&p, id);
        db_param_text(&p, next_id);
        db_param_i64(&p, AUTH_REFRESH_GRACE_S);
        db_param_i64(&p, (int64_t)time(NULL) + AUTH_REFRESH_TTL_S);
        if (db_query_in(rq->db, rq->arena,
                        "WITH u AS (UPDATE refresh_token"
                        "   SET expires_at = LEAST(expires_at, now() + make_interval(secs => $3)),"
                        "       next_id = $2"
                        "   WHERE id = $1 AND (next_id IS NULL OR next_id = $2)"
                        "   RETURNING did, app_password_name),"
                        " i AS (INSERT INTO refresh_token (id, did, app_password_name, expires_at)"
                        "   SELECT $2, u.did, u.app_password_name, to_timestamp($4::bigint)"
                        "   FROM u ON CONFLICT (id) DO NOTHING)"
                        " SELECT count(*) FROM u",
                        &p, &r)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        if (db_col_i64(r, 0, 0) > 0) {
            return 0;
        }
    }
    log_warn(&rq->log, "refresh token kept changing under %d attempts", ROTATE_RETRIES);
    return xrpc_fail(rq, 500, NULL, NULL);
}

/* com.atproto.server.refreshSession */
int api_server_refresh_session(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_refresh(rq, &a);
    if (st) {
        return st;
    }
    json_t *fields = json_object();
    bool found;
    if ((st = server_session_fields(rq, a->did, fields, &found))) {
        json_decref(fields);
        return st;
    }
    json_t *status = json_object_get(fields, "status");
    if (!found) {
        json_decref(fields);
        return xrpc_fail(rq, 400, "InvalidRequest", "Could not find user info for account: %s",
                         a->did);
    }
    if (status && strcmp(json_string_value(status), "takendown") == 0) {
        json_decref(fields);
        return xrpc_fail(rq, 401, "AccountTakedown", "Account has been taken down");
    }
    json_t *body = json_object();
    bool revoked;
    if ((st = rotate_refresh(rq, a->jti, a->did, body, &revoked))) {
        json_decref(fields);
        json_decref(body);
        return st;
    }
    if (revoked) {
        json_decref(fields);
        json_decref(body);
        /* 400 ExpiredToken: clients drop the session on it (reference wording) */
        return xrpc_fail(rq, 400, "ExpiredToken", "Token has been revoked");
    }
    json_object_update(body, fields);
    json_decref(fields);
    return xrpc_reply_json(rq, 200, body);
}

/* ---- deleteSession --------------------------------------------------------------------- */

/* com.atproto.server.deleteSession */
int api_server_delete_session(struct xrpc_req *rq)
{
    /* the reference also accepts an expired refresh token here; auth_refresh does not */
    const struct auth *a;
    int st = auth_refresh(rq, &a);
    if (st) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->jti); /* never NULL: auth_refresh refuses tokens without one */
    if (db_exec(rq->db, "DELETE FROM refresh_token WHERE id = $1", &p, NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_empty(rq, 200);
}
