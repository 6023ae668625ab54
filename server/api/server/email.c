/* email.c - com.atproto.server.{requestEmailConfirmation, confirmEmail,
 * requestEmailUpdate, updateEmail, requestPasswordReset, resetPassword} and the emailed
 * sign-in code of createSession (account_sign_in_factor). Each code is mailed, single-use and
 * short-lived (account_ops.h); a code is used up in the transaction that acts on it. */
#include <ctype.h>
#include <string.h>

#include "api/account/account_ops.h"
#include "api/server/server.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/server/server_common.h"
#include "core/syntax.h"

#define EMAIL_UNSUPPORTED "This email address is not supported, please use a different email."

static char *lower_dup(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_strndup(a, s, n);
    for (size_t i = 0; i < n; i++) {
        out[i] = (char)tolower((unsigned char)out[i]);
    }
    return out;
}

/* Inside an open transaction: uses up the token, or rolls back and sets the error. */
static int consume_in_tx(struct xrpc_req *rq, const char *did, const char *purpose,
                         const char *token, const char **did_out)
{
    enum account_token_result tr;
    if (account_token_check(rq->db, rq->arena, did, purpose, token, true, &tr, did_out)) {
        db_rollback(rq->db);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (tr != ACCOUNT_TOKEN_OK) {
        db_rollback(rq->db);
        return account_token_fail(rq, tr);
    }
    return 0;
}

/* Runs sql ($1 = did, then extra) and commits; 500 on failure. ERR_CONFLICT is returned to
 * the caller through *conflict (a unique email) instead of failing. */
static int finish_tx(struct xrpc_req *rq, const char *sql, const struct db_params *p,
                     bool *conflict)
{
    enum err e = db_exec(rq->db, sql, p, NULL);
    if (!e) {
        e = db_commit(rq->db);
    }
    if (e) {
        db_rollback(rq->db);
        if (e == ERR_CONFLICT && conflict) {
            *conflict = true;
            return 0;
        }
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return 0;
}

/* ---- confirmation ---------------------------------------------------------------------- */

/* com.atproto.server.requestEmailConfirmation */
int api_server_request_email_confirmation(struct xrpc_req *rq)
{
    const struct auth *a;
    struct account_email acct;
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_CHECK_TAKEDOWN, &a);
    if (st || (st = auth_permit_account(rq, a, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_MANAGE)) ||
        (st = account_email_load(rq, a->did, &acct))) {
        return st;
    }
    if (!acct.email) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account does not have an email address");
    }
    if ((st = account_mail_new_token(rq, a->did, ACCOUNT_TOKEN_CONFIRM_EMAIL,
                                     ACCOUNT_MAIL_CONFIRM_EMAIL, acct.email, acct.handle))) {
        return st;
    }
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.server.confirmEmail */
int api_server_confirm_email(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *email, *token;
    struct account_email acct;
    int st;
    if ((st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_CHECK_TAKEDOWN, &a)) ||
        (st = auth_permit_account(rq, a, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_MANAGE)) ||
        (st = input_require_object(rq)) || (st = input_str(rq, "email", true, &email)) ||
        (st = input_str(rq, "token", true, &token)) ||
        (st = account_email_load(rq, a->did, &acct))) {
        return st;
    }
    if (!acct.email || strcmp(acct.email, lower_dup(rq->arena, email)) != 0) {
        return xrpc_fail(rq, 400, "InvalidEmail", "invalid email");
    }
    if (db_begin(rq->db)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if ((st = consume_in_tx(rq, a->did, ACCOUNT_TOKEN_CONFIRM_EMAIL, token, NULL))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    if ((st = finish_tx(rq, "UPDATE account SET email_confirmed_at = now() WHERE did = $1", &p,
                        NULL))) {
        return st;
    }
    return xrpc_reply_empty(rq, 200);
}

/* ---- email change ---------------------------------------------------------------------- */

/* The reference refuses OAuth for changing the address, with its own words. */
static int no_oauth(struct xrpc_req *rq, const struct auth *a)
{
    if (a->kind != AUTH_KIND_OAUTH) {
        return 0;
    }
    return xrpc_fail(rq, 403, "Forbidden",
                     "Use the account manager interface to update email address associated "
                     "with an account");
}

/* com.atproto.server.requestEmailUpdate */
int api_server_request_email_update(struct xrpc_req *rq)
{
    const struct auth *a;
    struct account_email acct;
    int st = auth_access(rq, AUTH_FULL | AUTH_OAUTH | AUTH_CHECK_TAKEDOWN, &a);
    if (st || (st = no_oauth(rq, a)) || (st = account_email_load(rq, a->did, &acct))) {
        return st;
    }
    if (!acct.email) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account does not have an email address");
    }
    /* an unconfirmed address proves nothing, so changing it needs no code (reference) */
    if (acct.confirmed &&
        (st = account_mail_new_token(rq, a->did, ACCOUNT_TOKEN_UPDATE_EMAIL,
                                     ACCOUNT_MAIL_UPDATE_EMAIL, acct.email, acct.handle))) {
        return st;
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:b}", "tokenRequired", acct.confirmed));
}

/* com.atproto.server.updateEmail: a new address (unconfirmed until confirmEmail), and the
 * emailAuthFactor switch, which may only be turned on for a confirmed address that stays. */
int api_server_update_email(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *email, *token;
    struct account_email acct;
    int st;
    if ((st = auth_access(rq, AUTH_FULL | AUTH_OAUTH | AUTH_CHECK_TAKEDOWN, &a)) ||
        (st = no_oauth(rq, a)) || (st = input_require_object(rq)) ||
        (st = input_str(rq, "email", true, &email)) ||
        (st = input_str(rq, "token", false, &token))) {
        return st;
    }
    json_t *factor = json_object_get(rq->json, "emailAuthFactor");
    if (factor && !json_is_boolean(factor)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/emailAuthFactor must be a boolean");
    }
    if (!account_email_valid(email)) {
        return xrpc_fail(rq, 400, "InvalidRequest", EMAIL_UNSUPPORTED);
    }
    if ((st = account_email_load(rq, a->did, &acct))) {
        return st;
    }
    if (token && !*token) {
        token = NULL;
    }
    if (!token && acct.confirmed) {
        return xrpc_fail(rq, 400, "TokenRequired", "confirmation token required");
    }
    const char *lower = lower_dup(rq->arena, email);
    bool same = acct.email && strcmp(acct.email, lower) == 0;
    if (factor && json_is_true(factor) && !(same && acct.confirmed)) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Confirm the email address before turning on sign-in codes");
    }
    if (db_begin(rq->db)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (token && (st = consume_in_tx(rq, a->did, ACCOUNT_TOKEN_UPDATE_EMAIL, token, NULL))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    db_param_text(&p, lower);
    if (factor) {
        db_param_bool(&p, json_is_true(factor));
    } else {
        db_param_text(&p, NULL);
    }
    /* a new address starts unconfirmed, and codes mailed to the old one die (reference) */
    bool conflict = false;
    if ((st = finish_tx(rq,
                        same ? "UPDATE account SET"
                               " email_auth_factor = coalesce($3::boolean, email_auth_factor)"
                               " WHERE did = $1 AND email = $2"
                             : "WITH t AS (DELETE FROM email_token WHERE did = $1)"
                               " UPDATE account SET email = $2, email_confirmed_at = NULL,"
                               " email_auth_factor = coalesce($3::boolean, email_auth_factor)"
                               " WHERE did = $1",
                        &p, &conflict))) {
        return st;
    }
    if (conflict) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Email already taken: %s", lower);
    }
    return xrpc_reply_empty(rq, 200);
}

/* ---- password reset -------------------------------------------------------------------- */

/* com.atproto.server.requestPasswordReset */
int api_server_request_password_reset(struct xrpc_req *rq)
{
    const char *email;
    int st;
    if ((st = input_require_object(rq)) || (st = input_str(rq, "email", true, &email))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, lower_dup(rq->arena, email));
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT did, handle, email FROM account WHERE lower(email) = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account does not have an email address");
    }
    const char *did = db_col_text(r, 0, 0), *handle = db_col_text(r, 0, 1);
    rq->log.did = did;
    if ((st = account_mail_new_token(rq, did, ACCOUNT_TOKEN_RESET_PASSWORD,
                                     ACCOUNT_MAIL_RESET_PASSWORD, db_col_text(r, 0, 2), handle))) {
        return st;
    }
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.server.resetPassword: the token names the account; every session ends. */
int api_server_reset_password(struct xrpc_req *rq)
{
    const char *token, *password;
    int st;
    if ((st = input_require_object(rq)) || (st = input_str(rq, "token", true, &token)) ||
        (st = input_str(rq, "password", true, &password))) {
        return st;
    }
    if (account_password_chars(password) > ACCOUNT_NEW_PASSWORD_MAX_CHARS || !*password) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid password length.");
    }
    /* look first (cheap), hash (slow, outside any transaction), then use the token up */
    enum account_token_result tr;
    const char *did = NULL;
    if (account_token_check(rq->db, rq->arena, NULL, ACCOUNT_TOKEN_RESET_PASSWORD, token, false,
                            &tr, &did)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (tr != ACCOUNT_TOKEN_OK) {
        return account_token_fail(rq, tr);
    }
    rq->log.did = did;
    char hash[PASSWORD_HASH_MAX];
    if (account_password_hash(password, hash)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (db_begin(rq->db)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if ((st = consume_in_tx(rq, did, ACCOUNT_TOKEN_RESET_PASSWORD, token, NULL))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, hash);
    if ((st = finish_tx(rq,
                        "WITH t AS (DELETE FROM refresh_token WHERE did = $1)"
                        " UPDATE account SET password_hash = $2 WHERE did = $1",
                        &p, NULL))) {
        return st;
    }
    log_info(&rq->log, "password of %s reset; sessions revoked", did);
    return xrpc_reply_empty(rq, 200);
}
