/* create_account.c - com.atproto.server.createAccount: a new account with a new did:plc.
 * Order matters: every check that can fail cheaply runs first, then the password is hashed
 * and the PLC genesis op is sent (network I/O, outside any transaction), and only then does
 * one transaction write the account, its first commit, the session and the outbox events. */
#include <stdlib.h>

#include "api/account/account_ops.h"
#include "api/server/server.h"
#include "api/common/app.h"
#include "api/common/input.h"
#include "api/server/server_common.h"
#include "core/syntax.h"
#include "db/outbox.h"
#include "db/repo_store.h"
#include "identity/did_doc.h"
#include "identity/plc_client.h"
#include "identity/resolver.h"
#include "config/config.h"
#include "repo/events.h"

#define EMAIL_UNSUPPORTED  "This email address is not supported, please use a different email."
#define INVITE_UNAVAILABLE "Provided invite code not available"

/* 0 when the code exists, is not disabled, belongs to no taken-down account and has uses
 * left; else 400 InvalidInviteCode. In a transaction, locks the code's row first so two
 * sign-ups cannot both take its last use. */
static int check_invite(struct xrpc_req *rq, const char *code, bool lock)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, code);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    lock ? "SELECT available_uses FROM invite_code c WHERE code = $1"
                           " AND NOT disabled AND NOT EXISTS (SELECT 1 FROM account a"
                           " WHERE a.did = c.for_account AND a.takedown_ref IS NOT NULL)"
                           " FOR UPDATE"
                         : "SELECT available_uses FROM invite_code c WHERE code = $1"
                           " AND NOT disabled AND NOT EXISTS (SELECT 1 FROM account a"
                           " WHERE a.did = c.for_account AND a.takedown_ref IS NOT NULL)",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidInviteCode", INVITE_UNAVAILABLE);
    }
    int64_t available = db_col_i64(r, 0, 0);
    /* a separate statement: under READ COMMITTED it sees uses committed while we waited */
    PGresult *u;
    if (db_query_in(rq->db, rq->arena, "SELECT count(*) FROM invite_code_use WHERE code = $1", &p,
                    &u)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (db_col_i64(u, 0, 0) >= available) {
        return xrpc_fail(rq, 400, "InvalidInviteCode", INVITE_UNAVAILABLE);
    }
    return 0;
}

/* 400 when the handle or the email already has an account (reference wording). */
static int check_available(struct xrpc_req *rq, const char *handle, const char *email)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, handle);
    db_param_text(&p, email);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT EXISTS (SELECT 1 FROM account WHERE handle = $1),"
                    " EXISTS (SELECT 1 FROM account WHERE lower(email) = lower($2))",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (db_col_bool(r, 0, 0)) {
        return xrpc_fail(rq, 400, "HandleNotAvailable", "Handle already taken: %s", handle);
    }
    if (db_col_bool(r, 0, 1)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Email already taken: %s", email);
    }
    return 0;
}

/* The signed genesis op (reference formatDidAndPlcOp): rotation keys in authority order
 * [user recovery key, PDS_RECOVERY_DID_KEY, our rotation key]. */
static int build_genesis(struct xrpc_req *rq, const char *handle, const char *recovery_key,
                         const struct sigkey *signing, struct plc_op *op, char did[PLC_DID_MAX])
{
    const struct app *app = app_get();
    char rotation[SIGKEY_DID_KEY_MAX], atproto[SIGKEY_DID_KEY_MAX];
    sigkey_did_key(&app->rotation_key, rotation);
    sigkey_did_key(signing, atproto);
    size_t aka_len = strlen(handle) + 6;
    char *aka = arena_alloc(rq->arena, aka_len);
    snprintf(aka, aka_len, "at://%s", handle);
    plc_op_init(op, PLC_OP_OPERATION);
    enum err e = ERR_OK;
    if (recovery_key) {
        e = plc_op_add_rotation_key(op, recovery_key);
    }
    if (!e && rq->cfg->recovery_did_key) {
        e = plc_op_add_rotation_key(op, rq->cfg->recovery_did_key);
    }
    if (!e) {
        e = plc_op_add_rotation_key(op, rotation);
    }
    if (e && recovery_key) {
        /* not a k256/p256 did:key, or the same as one of ours */
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid recoveryKey: %s", recovery_key);
    }
    if (e || (e = plc_op_set_verification_method(op, DID_DOC_KEY_ID, atproto)) ||
        (e = plc_op_add_also_known_as(op, aka)) ||
        (e = plc_op_set_service(op, DID_DOC_PDS_SERVICE_ID, DID_DOC_PDS_TYPE,
                                rq->cfg->public_url)) ||
        (e = plc_op_set_prev(op, NULL)) || (e = plc_op_sign(op, &app->rotation_key)) ||
        (e = plc_op_did(op, did))) {
        log_error(&rq->log, "could not build the PLC genesis op: %s", err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return 0;
}

static int submit_genesis(struct xrpc_req *rq, const struct plc_op *op, const char *did)
{
    struct plc_client pc = {rq->cfg->did_plc_url, (long)rq->cfg->id_resolver_timeout_ms};
    json_t *j = plc_op_to_json(op);
    char msg[PLC_ERROR_MESSAGE_MAX] = "";
    rq->log.action = "submitting the PLC genesis op";
    enum err e = plc_submit(&pc, did, j, msg);
    rq->log.action = NULL;
    json_decref(j);
    if (e == ERR_INVALID) {
        log_warn(&rq->log, "PLC directory refused the genesis op of %s: %s", did, msg);
        return xrpc_fail(rq, 400, "InvalidRequest", "The PLC directory refused the DID: %s", msg);
    }
    if (e) {
        log_error(&rq->log, "PLC directory unreachable for %s: %s", did, err_str(e));
        return xrpc_fail(rq, 502, "UpstreamFailure", "Could not reach the PLC directory");
    }
    return 0;
}

/* Best effort after a failed sign-up: retire the DID we just registered (reference). */
static void tombstone_genesis(struct xrpc_req *rq, const struct plc_op *genesis, const char *did)
{
    char prev[CID_STR_MAX];
    struct plc_op t;
    plc_op_init(&t, PLC_OP_TOMBSTONE);
    if (plc_op_cid_str(genesis, prev) || plc_op_set_prev(&t, prev) ||
        plc_op_sign(&t, &app_get()->rotation_key)) {
        log_warn(&rq->log, "could not sign a tombstone for %s", did);
    } else {
        struct plc_client pc = {rq->cfg->did_plc_url, (long)rq->cfg->id_resolver_timeout_ms};
        json_t *j = plc_op_to_json(&t);
        if (plc_submit(&pc, did, j, NULL)) {
            log_warn(&rq->log, "could not tombstone %s after a failed sign-up", did);
        }
        json_decref(j);
    }
    plc_op_clear(&t);
}

struct new_account {
    const char *did, *handle, *email, *password_hash, *invite;
    /* issue 6: the caller brought its own DID (migration in, did:web), proved by service
     * auth: the account starts deactivated and nothing is announced until activateAccount */
    bool brought_did;
    struct bytes sealed_key;
    const struct repo_commit *commit;
    int64_t now_ms;
};

/* Everything the sign-up writes, inside the open transaction. ERR_CONFLICT: the handle or
 * email was taken meanwhile; a non-zero *status: an error response is already set. */
static enum err write_account(struct xrpc_req *rq, const struct new_account *na, json_t *body,
                              int *status)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, na->did);
    db_param_text(&p, na->handle);
    db_param_text(&p, na->email);
    db_param_text(&p, na->password_hash);
    db_param_bytes(&p, na->sealed_key);
    db_param_bool(&p, na->brought_did);
    db_param_i64(&p, ACCOUNT_MIGRATION_DELETE_AFTER_S);
    /* reference registerActor: created deactivated, it goes after 3 days unless activated */
    enum err e = db_exec(rq->db,
                         "INSERT INTO account (did, handle, email, password_hash, signing_key,"
                         " deactivated_at, delete_after) VALUES ($1, $2, $3, $4, $5,"
                         " CASE WHEN $6 THEN now() END,"
                         " CASE WHEN $6 THEN now() + make_interval(secs => $7) END)",
                         &p, NULL);
    if (e) {
        return e;
    }
    if (na->invite) {
        if ((*status = check_invite(rq, na->invite, true))) {
            return ERR_INVALID;
        }
        db_params_init(&p);
        db_param_text(&p, na->invite);
        db_param_text(&p, na->did);
        if ((e = db_exec(rq->db, "INSERT INTO invite_code_use (code, used_by) VALUES ($1, $2)", &p,
                         NULL))) {
            return e;
        }
    }
    /* spec(sync): account creation emits #identity, #account, #commit, #sync in this order */
    struct buf ev;
    buf_init(&ev, BUF_MAX_DEFAULT);
    if (!na->brought_did && !(e = events_identity(na->did, na->handle, na->now_ms, &ev))) {
        e = outbox_insert(rq->db, na->did, "identity", buf_bytes(&ev));
    }
    buf_reset(&ev);
    if (!e && !na->brought_did && !(e = events_account(na->did, true, NULL, na->now_ms, &ev))) {
        e = outbox_insert(rq->db, na->did, "account", buf_bytes(&ev));
    }
    struct repo_head head = {.did = bytes_str(na->did), .exists = false};
    bool raced = false;
    if (!e &&
        !(e = repo_store_apply(rq->db, &head, na->commit, NULL, 0, app_get()->blocks, &raced)) &&
        raced) {
        e = ERR_CONFLICT; /* a repository for a brand-new DID: cannot happen */
    }
    const struct blockmap_entry *cb =
        e ? NULL : blockmap_get(&na->commit->blocks, &na->commit->commit);
    buf_reset(&ev);
    if (!e && !cb) {
        e = ERR_INTERNAL;
    }
    if (!e && na->brought_did) {
        /* the write path queued a #commit for the first commit: a deactivated account
         * announces nothing (reference), so take it back in this same transaction */
        struct db_params d;
        db_params_init(&d);
        db_param_text(&d, na->did);
        e = db_exec(rq->db,
                    "DELETE FROM repo_seq WHERE did = $1 AND seq IS NULL AND event_type = 'commit'",
                    &d, NULL);
    } else if (!e && !(e = events_sync(na->did, na->commit->rev, &na->commit->commit,
                                       bytes_of(cb->data, cb->len), na->now_ms, &ev))) {
        e = outbox_insert(rq->db, na->did, "sync", buf_bytes(&ev));
    }
    buf_clear(&ev);
    if (!e &&
        (*status = server_issue_session(rq, na->did, AUTH_SCOPE_ACCESS, NULL, NULL, true, body))) {
        e = ERR_DB;
    }
    return e;
}

/* Runs write_account in one transaction; maps a lost handle/email race to its error. */
static int store_account(struct xrpc_req *rq, const struct new_account *na, json_t *body)
{
    int status = 0;
    enum err e = db_begin(rq->db);
    if (!e) {
        e = write_account(rq, na, body, &status);
    }
    if (!e) {
        e = db_commit(rq->db);
    }
    if (!e) {
        return 0;
    }
    db_rollback(rq->db);
    if (status) {
        return status;
    }
    if (e == ERR_CONFLICT) {
        int st = check_available(rq, na->handle, na->email);
        return st ? st
                  : xrpc_fail(rq, 400, "HandleNotAvailable", "Handle already taken: %s",
                              na->handle);
    }
    log_error(&rq->log, "could not store the new account %s: %s", na->did, err_str(e));
    return xrpc_fail(rq, 500, NULL, NULL);
}

/* 400 when an account with this DID is already here. */
static int check_new_did(struct xrpc_req *rq, const char *did)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT 1 FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) > 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Account already exists: %s", did);
    }
    return 0;
}

/* The input checks, in the reference's order. */
static int read_input(struct xrpc_req *rq, struct new_account *na, const char **password,
                      const char **recovery_key, char handle[SYNTAX_HANDLE_BUF])
{
    const char *in_handle, *did, *email;
    int st;
    if ((st = input_require_object(rq)) || (st = input_str(rq, "handle", true, &in_handle)) ||
        (st = input_str(rq, "email", false, &email)) ||
        (st = input_str(rq, "password", false, password)) ||
        (st = input_str(rq, "did", false, &did)) ||
        (st = input_str(rq, "inviteCode", false, &na->invite)) ||
        (st = input_str(rq, "recoveryKey", false, recovery_key))) {
        return st;
    }
    /* reference (not an entryway): a signed plcOp is refused; a DID must come with service
     * auth from that DID (migration in, or a did:web the user controls) */
    if (json_object_get(rq->json, "plcOp")) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Unsupported input: \"plcOp\"");
    }
    if (did && (st = account_service_auth(rq, did, "com.atproto.server.createAccount"))) {
        return st;
    }
    na->did = did;
    na->brought_did = did != NULL;
    if (did && (st = check_new_did(rq, did))) {
        return st;
    }
    if (*password && account_password_chars(*password) > ACCOUNT_NEW_PASSWORD_MAX_CHARS) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Password too long. Maximum length is %d characters.",
                         ACCOUNT_NEW_PASSWORD_MAX_CHARS);
    }
    if (rq->cfg->invite_required && !na->invite) {
        return xrpc_fail(rq, 400, "InvalidInviteCode", "No invite code provided");
    }
    if (!email) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Email is required");
    }
    if (!account_email_valid(email)) {
        return xrpc_fail(rq, 400, "InvalidRequest", EMAIL_UNSUPPORTED);
    }
    /* the reference lets an account be made without a password (and so without a way to
     * log in); a local sign-up here must set one */
    if (!*password || !**password) {
        return xrpc_fail(rq, 400, "InvalidPassword", "Password is required");
    }
    if ((st = account_check_handle(rq, did, in_handle, false, handle))) {
        return st;
    }
    size_t n = strlen(email);
    char *lower = arena_strndup(rq->arena, email, n);
    for (size_t i = 0; i < n; i++) {
        lower[i] = (lower[i] >= 'A' && lower[i] <= 'Z') ? (char)(lower[i] + 32) : lower[i];
    }
    na->email = lower;
    na->handle = handle;
    /* an invite code given when none is required is still checked and used (reference) */
    if (na->invite && (st = check_invite(rq, na->invite, false))) {
        return st;
    }
    return check_available(rq, handle, na->email);
}

/* com.atproto.server.createAccount */
int api_server_create_account(struct xrpc_req *rq)
{
    struct new_account na = {0};
    const char *password = NULL, *recovery_key = NULL;
    char handle[SYNTAX_HANDLE_BUF];
    int st = read_input(rq, &na, &password, &recovery_key, handle);
    if (st) {
        return st;
    }
    char hash[PASSWORD_HASH_MAX];
    if (account_password_hash(password, hash)) {
        log_error(&rq->log, "could not hash a password");
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    na.password_hash = hash;
    struct sigkey signing;
    /* a brought DID gets the key reserveSigningKey announced for it (account_ops.h) */
    if (na.brought_did ? account_reserved_key(na.did, &signing)
                       : sigkey_generate(SIGKEY_K256, &signing)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct plc_op op = {0};
    struct repo_commit commit;
    repo_commit_init(&commit);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    json_t *body = NULL;
    char did[RESOLVER_DID_MAX];
    if (na.brought_did) {
        snprintf(did, sizeof(did), "%s", na.did);
    } else if ((st = build_genesis(rq, handle, recovery_key, &signing, &op, did))) {
        goto out;
    }
    na.did = did;
    rq->log.did = did;
    struct app *app = app_get();
    struct repo_source src = {rq->db, did, app->blocks};
    struct repo_head head = {.did = bytes_str(did), .exists = false};
    na.now_ms = account_now_ms();
    enum err e =
        repo_apply_empty(repo_source(&src), &head, &signing, &app->tids, na.now_ms, &commit);
    if (e || (e = app_seal_signing_key(&signing, &sealed, &sealed_len))) {
        log_error(&rq->log, "could not make the first commit: %s", err_str(e));
        st = xrpc_fail(rq, 500, NULL, NULL);
        goto out;
    }
    na.sealed_key = bytes_of(sealed, sealed_len);
    na.commit = &commit;
    /* the directory first, outside any transaction: no lock waits on the network */
    if (!na.brought_did && (st = submit_genesis(rq, &op, did))) {
        goto out;
    }
    body = json_object();
    if ((st = store_account(rq, &na, body))) {
        if (!na.brought_did) {
            tombstone_genesis(rq, &op, did); /* never someone else's DID */
        }
        goto out;
    }
    json_object_set_new(body, "handle", json_string(handle));
    json_object_set_new(body, "did", json_string(did));
    json_t *doc = NULL;
    if (!na.brought_did) {
        doc = did_doc_build(did, handle, &signing, rq->cfg->public_url);
    } else if (resolver_resolve_did(app->resolver, did, true, &doc)) {
        doc = NULL; /* reference: the document as it stands, when it resolves */
    }
    if (doc) {
        json_object_set_new(body, "didDoc", doc);
    }
    log_info(&rq->log, "created account %s (%s)%s", did, handle,
             na.brought_did ? ", deactivated until activateAccount" : "");
    st = xrpc_reply_json(rq, 200, body);
    body = NULL;
out:
    json_decref(body);
    free(sealed);
    repo_commit_clear(&commit);
    plc_op_clear(&op);
    sigkey_clear(&signing);
    return st;
}
