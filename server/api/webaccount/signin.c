/* signin.c - signing a browser in to an account (password, then the second factor if the
 * account has one) and out again. Only the account password signs in here: app passwords
 * are for legacy apps, and an OAuth app never sees the password. */
#include "api/webaccount/webaccount.h"

#include <string.h>

#include "api/account/account_ops.h"
#include "api/account/credentials.h"
#include "api/account/login.h"
#include "http/ratelimit.h"
#include "oauth/oauth.h"
#include "web/csrf.h"
#include "web/page.h"
#include "web/session.h"

#define LOGIN_FAILED_MSG "Invalid identifier or password"

int webaccount_begin(struct xrpc_req *rq, json_t **body, const char **did)
{
    web_page_headers(rq);
    *body = NULL;
    /* an <img> cannot send the header: GETs may carry the token as ?csrf_token= */
    int st = web_csrf_require(rq, xrpc_param(rq, WEB_CSRF_FIELD));
    if (st || (rq->method_bit == HTTP_POST && (st = web_read_json(rq, body)))) {
        return st;
    }
    *did = *body ? json_string_value(json_object_get(*body, "did")) : xrpc_param(rq, "did");
    if (!*did) {
        return xrpc_fail(rq, 400, "InvalidRequest", "did is required");
    }
    bool ok;
    if (web_session_check(rq, *did, OAUTH_SIGN_IN_MAX_AGE_S, &ok)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (!ok) {
        return xrpc_fail(rq, 401, "LoginRequired",
                         "Sign in to this account on this browser first.");
    }
    rq->log.did = *did;
    return 0;
}

/* POST /account/sign-in {identifier, password, code?} */
int api_web_sign_in(struct xrpc_req *rq)
{
    json_t *in;
    int st = web_page_post(rq, &in);
    if (st) {
        return st;
    }
    const char *identifier = json_string_value(json_object_get(in, "identifier"));
    const char *password = json_string_value(json_object_get(in, "password"));
    const char *code = json_string_value(json_object_get(in, "code"));
    if (!identifier || !*identifier || !password || !*password) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Enter your handle or email and password.");
    }
    /* as createSession: per identifier and address, before the password is hashed */
    if ((st = ratelimit_consume(rq, RL_GROUP_OAUTH_SIGNIN, identifier, 1))) {
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
        account_password_burn(password); /* the same time as a wrong password */
        return xrpc_fail(rq, 401, "AuthenticationRequired", LOGIN_FAILED_MSG);
    }
    rq->log.did = acct.did;
    if (!account_password_verify(acct.password_hash, password)) {
        return xrpc_fail(rq, 401, "AuthenticationRequired", LOGIN_FAILED_MSG);
    }
    if (acct.takendown) {
        return xrpc_fail(rq, 401, "AccountTakedown", "Account has been taken down");
    }
    enum account_factor factor;
    if ((st = account_sign_in_factor_kind(rq, acct.did, &factor)) ||
        (st = account_sign_in_factor(rq, acct.did, code))) {
        if (st == 401 && factor != ACCOUNT_FACTOR_NONE) {
            /* the page needs to know which code to ask for */
            return xrpc_reply_json(
                rq, 401,
                json_pack("{s:s,s:s,s:s}", "error", "AuthFactorTokenRequired", "message",
                          factor == ACCOUNT_FACTOR_TOTP
                              ? "Enter the code from your authenticator app (or a recovery code)."
                              : "A sign-in code has been sent to your email address.",
                          "factor", factor == ACCOUNT_FACTOR_TOTP ? "totp" : "email"));
        }
        return st;
    }
    if (web_session_add(rq, acct.did)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, acct.did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT handle FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *out = json_pack("{s:s,s:b}", "did", acct.did, "deactivated", acct.deactivated);
    if (PQntuples(r) == 1 && !db_col_null(r, 0, 0)) {
        json_object_set_new(out, "handle", json_string(db_col_text(r, 0, 0)));
    }
    return xrpc_reply_json(rq, 200, out);
}

/* POST /account/sign-out {did} */
int api_web_sign_out(struct xrpc_req *rq)
{
    json_t *in;
    int st = web_page_post(rq, &in);
    if (st) {
        return st;
    }
    const char *did = json_string_value(json_object_get(in, "did"));
    if (!did) {
        return xrpc_fail(rq, 400, "InvalidRequest", "did is required");
    }
    if (web_session_remove(rq, did)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_json(rq, 200, json_object());
}
