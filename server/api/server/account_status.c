/* account_status.c - com.atproto.server.{deactivateAccount, activateAccount,
 * checkAccountStatus, requestAccountDelete, deleteAccount, reserveSigningKey}: the hosting
 * status a user controls, and deletion with an emailed code and the password. */
#include <string.h>

#include "api/account/account_ops.h"
#include "api/server/server.h"
#include "api/common/app.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/server/server_common.h"
#include "core/syntax.h"
#include "identity/resolver.h"

/* com.atproto.server.deactivateAccount */
int api_server_deactivate_account(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *after = NULL;
    int st;
    /* reference: full access, also a taken-down session (to migrate away) */
    if ((st = auth_access(rq, AUTH_FULL | AUTH_TAKENDOWN, &a))) {
        return st;
    }
    if (rq->json && (st = input_str(rq, "deleteAfter", false, &after))) {
        return st;
    }
    int64_t after_ms = 0;
    if (after && syntax_datetime_parse(bytes_str(after), &after_ms)) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Input/deleteAfter must be an valid atproto datetime");
    }
    rq->log.did = a->did;
    enum err e = account_deactivate(rq->db, a->did, after_ms);
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Account not found");
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    log_info(&rq->log, "account %s deactivated", a->did);
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.server.activateAccount */
int api_server_activate_account(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_access(rq, AUTH_FULL, &a);
    if (st) {
        return st;
    }
    rq->log.did = a->did;
    struct account_state s;
    if (account_get_state(rq->db, a->did, &s)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    /* reference: a taken-down account cannot be activated */
    if (!s.exists || (s.status && strcmp(s.status, "takendown") == 0)) {
        return xrpc_fail(rq, 400, "AccountNotFound", "user not found");
    }
    /* the DID must already point here with our key, or relays would refuse our events */
    if ((st = account_check_did_doc(rq, a->did))) {
        return st;
    }
    enum err e = account_activate(rq->db, a->did);
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 400, "AccountNotFound", "user not found");
    }
    if (e) {
        log_error(&rq->log, "could not activate %s: %s", a->did, err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    resolver_forget_did(app_get()->resolver, a->did);
    log_info(&rq->log, "account %s activated", a->did);
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.server.checkAccountStatus: what a migration compares between the two hosts. */
int api_server_check_account_status(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_TAKENDOWN, &a);
    if (st) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT a.deactivated_at IS NULL, r.commit_cid, r.rev,"
                    " (SELECT count(*) FROM repo_block WHERE did = $1),"
                    " (SELECT count(*) FROM record WHERE did = $1),"
                    " (SELECT count(*) FROM preference WHERE did = $1),"
                    " (SELECT count(DISTINCT blob_cid) FROM record_blob WHERE did = $1),"
                    " (SELECT count(*) FROM blob WHERE did = $1)"
                    " FROM account a LEFT JOIN repo_root r ON r.did = a.did WHERE a.did = $1",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Account not found");
    }
    struct cid commit;
    char commit_str[CID_STR_MAX];
    if (db_col_null(r, 0, 1) || cid_from_bytes(db_col_bytes(r, 0, 1), &commit)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    cid_format(&commit, commit_str);
    bool valid_did = account_did_doc_is_valid(rq, a->did);
    json_t *body =
        json_pack("{s:b, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "activated",
                  db_col_bool(r, 0, 0), "validDid", valid_did, "repoCommit", commit_str, "repoRev",
                  db_col_text(r, 0, 2), "repoBlocks", (json_int_t)db_col_i64(r, 0, 3),
                  "indexedRecords", (json_int_t)db_col_i64(r, 0, 4), "privateStateValues",
                  (json_int_t)db_col_i64(r, 0, 5), "expectedBlobs", (json_int_t)db_col_i64(r, 0, 6),
                  "importedBlobs", (json_int_t)db_col_i64(r, 0, 7));
    return xrpc_reply_json(rq, 200, body);
}

/* com.atproto.server.requestAccountDelete */
int api_server_request_account_delete(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_access(rq, AUTH_FULL | AUTH_CHECK_TAKEDOWN, &a);
    if (st) {
        return st;
    }
    rq->log.did = a->did;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT email, handle FROM account WHERE did = $1", &p,
                    &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account not found");
    }
    const char *email = db_col_text(r, 0, 0);
    if (!email) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account does not have an email address");
    }
    char token[ACCOUNT_TOKEN_BUF];
    if (account_token_create(rq->db, a->did, ACCOUNT_TOKEN_DELETE_ACCOUNT, token)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if ((st = account_mail_token(rq, ACCOUNT_MAIL_DELETE_ACCOUNT, email, token,
                                 db_col_text(r, 0, 1)))) {
        return st;
    }
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.server.deleteAccount: {did, password, token}, no session needed. */
int api_server_delete_account(struct xrpc_req *rq)
{
    const char *did, *password, *token;
    int st;
    if ((st = input_require_object(rq)) || (st = input_str(rq, "did", true, &did)) ||
        (st = input_str(rq, "password", true, &password)) ||
        (st = input_str(rq, "token", true, &token))) {
        return st;
    }
    if (account_password_chars(password) > ACCOUNT_OLD_PASSWORD_MAX_CHARS) {
        return xrpc_fail(rq, 401, "AuthenticationRequired",
                         "Password too long. Consider resetting your password.");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT password_hash FROM account WHERE did = $1", &p,
                    &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account not found");
    }
    rq->log.did = did;
    const char *hash = db_col_text(r, 0, 0);
    if (!hash || !account_password_verify(hash, password)) {
        return xrpc_fail(rq, 401, "AuthenticationRequired", "Invalid did or password");
    }
    /* the code is checked, not used up: a failed deletion can be retried with it */
    enum account_token_result tr;
    if (account_token_check(rq->db, rq->arena, did, ACCOUNT_TOKEN_DELETE_ACCOUNT, token, false, &tr,
                            NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (tr != ACCOUNT_TOKEN_OK) {
        return account_token_fail(rq, tr);
    }
    enum err e = account_delete(rq->db, did);
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account not found");
    }
    if (e) {
        log_error(&rq->log, "could not delete account %s: %s", did, err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    resolver_forget_did(app_get()->resolver, did);
    log_info(&rq->log, "account %s deleted", did);
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.server.reserveSigningKey: the key a future account with this DID will sign
 * with (see account_reserved_key); without a DID, a key for nothing (the reference reserves
 * one by its own id for an entryway, which this server is not). */
int api_server_reserve_signing_key(struct xrpc_req *rq)
{
    const char *did = NULL;
    int st;
    if (rq->json && ((st = input_require_object(rq)) || (st = input_str(rq, "did", false, &did)))) {
        return st;
    }
    if (did && !syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/did must be a valid did");
    }
    struct sigkey key;
    enum err e = did ? account_reserved_key(did, &key) : sigkey_generate(SIGKEY_K256, &key);
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    char out[SIGKEY_DID_KEY_MAX];
    sigkey_did_key(&key, out);
    sigkey_clear(&key);
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "signingKey", out));
}
