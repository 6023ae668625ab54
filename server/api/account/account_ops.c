/* account_ops.c - hosting status changes (deactivate, activate, takedown), account deletion,
 * outbox rows and emailed tokens (account_ops.h). */
#include "api/account/account_ops.h"

#include <string.h>

#include <sodium.h>

#include "api/common/app.h"
#include "api/server/server_common.h"
#include "core/base.h"
#include "db/outbox.h"
#include "db/repo_store.h"
#include "repo/events.h"

#define ACTIVATE_RETRIES   3 /* a concurrent commit (admin, import) moved the head: redo */
#define TOKEN_RANDOM_BYTES 8 /* 64 bits; the token shows the first 50 of them */
#define TOKEN_HALF         5

/* ---- outbox rows ----------------------------------------------------------------------- */

enum err account_emit_identity(struct db *db, const char *did, const char *handle)
{
    struct buf ev;
    buf_init(&ev, BUF_MAX_DEFAULT);
    enum err e = events_identity(did, handle, account_now_ms(), &ev);
    if (!e) {
        e = outbox_insert(db, did, "identity", buf_bytes(&ev));
    }
    buf_clear(&ev);
    return e;
}

enum err account_emit_account(struct db *db, const char *did, bool active, const char *status)
{
    struct buf ev;
    buf_init(&ev, BUF_MAX_DEFAULT);
    enum err e = events_account(did, active, status, account_now_ms(), &ev);
    if (!e) {
        e = outbox_insert(db, did, "account", buf_bytes(&ev));
    }
    buf_clear(&ev);
    return e;
}

/* ---- hosting status -------------------------------------------------------------------- */

enum err account_get_state(struct db *db, const char *did, struct account_state *out)
{
    memset(out, 0, sizeof(*out));
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    enum err e = db_query(db,
                          "SELECT takedown_ref IS NOT NULL, deactivated_at IS NOT NULL"
                          " FROM account WHERE did = $1",
                          &p, &r);
    if (e) {
        return e;
    }
    if (PQntuples(r) == 1) {
        out->exists = true;
        out->status = db_col_bool(r, 0, 0)   ? EVENT_STATUS_TAKENDOWN
                      : db_col_bool(r, 0, 1) ? EVENT_STATUS_DEACTIVATED
                                             : NULL;
        out->active = out->status == NULL;
    }
    PQclear(r);
    return ERR_OK;
}

/* Runs one UPDATE ... RETURNING (takedown, deactivated) and emits the #account event of the
 * resulting state, in one transaction. extra (may be NULL) runs first inside it. */
static enum err update_and_announce(struct db *db, const char *did, const char *sql,
                                    const struct db_params *p, const char *extra)
{
    enum err e = db_begin(db);
    if (e) {
        return e;
    }
    PGresult *r = NULL;
    if (extra) {
        struct db_params d;
        db_params_init(&d);
        db_param_text(&d, did);
        e = db_exec(db, extra, &d, NULL);
    }
    if (!e) {
        e = db_query(db, sql, p, &r);
    }
    if (!e && PQntuples(r) == 0) {
        e = ERR_NOT_FOUND;
    }
    if (!e) {
        const char *status = db_col_bool(r, 0, 0)   ? EVENT_STATUS_TAKENDOWN
                             : db_col_bool(r, 0, 1) ? EVENT_STATUS_DEACTIVATED
                                                    : NULL;
        e = account_emit_account(db, did, status == NULL, status);
    }
    PQclear(r);
    if (!e) {
        e = db_commit(db);
    }
    if (e) {
        db_rollback(db);
    }
    return e;
}

enum err account_deactivate(struct db *db, const char *did, int64_t delete_after_ms)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    if (delete_after_ms > 0) {
        db_param_i64(&p, delete_after_ms);
    } else {
        db_param_text(&p, NULL);
    }
    return update_and_announce(db, did,
                               "UPDATE account SET deactivated_at = now(),"
                               " delete_after = to_timestamp($2::bigint / 1000.0) WHERE did = $1"
                               " RETURNING takedown_ref IS NOT NULL, deactivated_at IS NOT NULL",
                               &p, NULL);
}

enum err account_set_takedown(struct db *db, const char *did, const char *ref)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, ref);
    /* reference takedownAccount: a takedown also ends every session */
    return update_and_announce(db, did,
                               "UPDATE account SET takedown_ref = $2 WHERE did = $1"
                               " RETURNING takedown_ref IS NOT NULL, deactivated_at IS NOT NULL",
                               &p, ref ? "DELETE FROM refresh_token WHERE did = $1" : NULL);
}

/* The empty commit and #sync of an activation, inside the open transaction. *raced: the
 * head moved under us (roll back and redo). */
static enum err activation_commit(struct db *db, const char *did, struct bytes sealed, bool *raced)
{
    struct app *app = app_get();
    struct sigkey key;
    struct repo_head head;
    enum err e = app_unseal_signing_key(sealed, &key);
    if (e) {
        return e;
    }
    if ((e = repo_store_head(db, did, &head))) {
        sigkey_clear(&key);
        return e;
    }
    head.did = bytes_str(did); /* repo_store_head leaves it empty */
    struct repo_commit c;
    repo_commit_init(&c);
    struct repo_source src = {db, did, app->blocks};
    int64_t now = account_now_ms();
    e = repo_apply_empty(repo_source(&src), &head, &key, &app->tids, now, &c);
    sigkey_clear(&key);
    if (!e) {
        e = repo_store_apply(db, &head, &c, NULL, 0, app->blocks, raced);
    }
    const struct blockmap_entry *cb = e || *raced ? NULL : blockmap_get(&c.blocks, &c.commit);
    struct buf ev;
    buf_init(&ev, BUF_MAX_DEFAULT);
    if (!e && !*raced) {
        e = cb ? events_sync(did, c.rev, &c.commit, bytes_of(cb->data, cb->len), now, &ev)
               : ERR_INTERNAL;
        if (!e) {
            e = outbox_insert(db, did, "sync", buf_bytes(&ev));
        }
    }
    buf_clear(&ev);
    repo_commit_clear(&c);
    return e;
}

static enum err activate_once(struct db *db, const char *did, bool *raced)
{
    *raced = false;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r = NULL;
    enum err e = db_begin(db);
    if (!e) {
        e = db_query(db,
                     "UPDATE account SET deactivated_at = NULL, delete_after = NULL"
                     " WHERE did = $1 RETURNING handle, takedown_ref IS NOT NULL, signing_key",
                     &p, &r);
    }
    if (!e && PQntuples(r) == 0) {
        e = ERR_NOT_FOUND;
    }
    if (!e && db_col_bool(r, 0, 1)) {
        /* still taken down: no #commit while inactive */
        e = account_emit_account(db, did, false, EVENT_STATUS_TAKENDOWN);
    } else if (!e) {
        const char *handle = db_col_text(r, 0, 0);
        if (!(e = account_emit_identity(db, did, handle ? handle : "handle.invalid")) &&
            !(e = account_emit_account(db, did, true, NULL))) {
            e = activation_commit(db, did, db_col_bytes(r, 0, 2), raced);
        }
    }
    PQclear(r);
    if (!e && !*raced) {
        e = db_commit(db);
    }
    if (e || *raced) {
        db_rollback(db);
    }
    return e;
}

enum err account_activate(struct db *db, const char *did)
{
    for (int i = 0; i < ACTIVATE_RETRIES; i++) {
        bool raced;
        enum err e = activate_once(db, did, &raced);
        if (e || !raced) {
            return e;
        }
    }
    return ERR_CONFLICT;
}

/* ---- deletion -------------------------------------------------------------------------- */

enum err account_delete(struct db *db, const char *did)
{
    /* Order: lock the account and its root first (writers lock the root too), then the
     * blob bytes are queued before the blob rows go, then the rows themselves. */
    static const char *const steps[] = {
        "SELECT 1 FROM repo_root WHERE did = $1 FOR UPDATE",
        "INSERT INTO blob_gc (did, cid) SELECT did, cid FROM blob WHERE did = $1",
        "DELETE FROM record_blob WHERE did = $1",
        "DELETE FROM blob WHERE did = $1",
        "DELETE FROM record WHERE did = $1",
        "DELETE FROM repo_block WHERE did = $1",
        "DELETE FROM repo_root WHERE did = $1",
        "DELETE FROM invite_code_use WHERE used_by = $1",
        /* codes it handed out stay, so its invitees' history stays; nobody may use them */
        "UPDATE invite_code SET disabled = true WHERE for_account = $1",
        /* preference, app_password, refresh_token, email_token cascade with the account */
        "DELETE FROM account WHERE did = $1",
    };
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    enum err e = db_begin(db);
    if (e) {
        return e;
    }
    PGresult *r = NULL;
    e = db_query(db, "SELECT 1 FROM account WHERE did = $1 FOR UPDATE", &p, &r);
    if (!e && PQntuples(r) == 0) {
        e = ERR_NOT_FOUND;
    }
    PQclear(r);
    for (size_t i = 0; !e && i < ARRAY_LEN(steps); i++) {
        e = db_exec(db, steps[i], &p, NULL);
    }
    /* the reference drops a deleted account's earlier events; the deletion event stays */
    if (!e) {
        e = outbox_delete_account_events(db, did);
    }
    if (!e) {
        e = account_emit_account(db, did, false, EVENT_STATUS_DELETED);
    }
    if (!e) {
        e = db_commit(db);
    }
    if (e) {
        db_rollback(db);
    }
    return e;
}

/* ---- emailed tokens -------------------------------------------------------------------- */

enum err account_token_create(struct db *db, const char *did, const char *purpose,
                              char out[ACCOUNT_TOKEN_BUF])
{
    uint8_t rnd[TOKEN_RANDOM_BYTES];
    randombytes_buf(rnd, sizeof(rnd));
    struct buf b32;
    buf_init(&b32, 64);
    enum err e = base32_encode(bytes_of(rnd, sizeof(rnd)), &b32);
    sodium_memzero(rnd, sizeof(rnd));
    if (e) {
        buf_clear(&b32);
        return e;
    }
    /* reference getRandomToken: 10 base32 characters as XXXXX-XXXXX, upper case */
    for (int i = 0, o = 0; i < 2 * TOKEN_HALF; i++) {
        if (i == TOKEN_HALF) {
            out[o++] = '-';
        }
        char c = (char)b32.ptr[i];
        out[o++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    out[ACCOUNT_TOKEN_CHARS] = '\0';
    sodium_memzero(b32.ptr, b32.len);
    buf_clear(&b32);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, purpose);
    db_param_text(&p, did);
    db_param_text(&p, out);
    return db_exec(db,
                   "INSERT INTO email_token (purpose, did, token, requested_at)"
                   " VALUES ($1, $2, $3, now()) ON CONFLICT (purpose, did)"
                   " DO UPDATE SET token = EXCLUDED.token, requested_at = now()",
                   &p, NULL);
}

/* The token as stored: trimmed and upper-cased; false when it cannot be one of ours. */
static bool normalize_token(const char *in, char out[ACCOUNT_TOKEN_BUF])
{
    while (*in == ' ' || *in == '\t') {
        in++;
    }
    size_t n = strlen(in);
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t')) {
        n--;
    }
    if (n != ACCOUNT_TOKEN_CHARS) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    out[n] = '\0';
    return true;
}

enum err account_token_check(struct db *db, struct arena *a, const char *did, const char *purpose,
                             const char *token, bool consume, enum account_token_result *result,
                             const char **did_out)
{
    *result = ACCOUNT_TOKEN_INVALID;
    char norm[ACCOUNT_TOKEN_BUF];
    if (!token || !normalize_token(token, norm)) {
        return ERR_OK;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, purpose);
    db_param_text(&p, norm);
    db_param_i64(&p, ACCOUNT_TOKEN_TTL_S);
    db_param_text(&p, did);
    /* $4 NULL: any account (the token alone names it, as resetPassword needs) */
    const char *sql =
        consume ? "DELETE FROM email_token WHERE purpose = $1 AND token = $2"
                  " AND ($4::text IS NULL OR did = $4)"
                  " RETURNING did, requested_at > now() - make_interval(secs => $3)"
                : "SELECT did, requested_at > now() - make_interval(secs => $3) FROM email_token"
                  " WHERE purpose = $1 AND token = $2 AND ($4::text IS NULL OR did = $4)";
    PGresult *r;
    enum err e = db_query(db, sql, &p, &r);
    if (e) {
        return e;
    }
    if (PQntuples(r) == 1) {
        *result = db_col_bool(r, 0, 1) ? ACCOUNT_TOKEN_OK : ACCOUNT_TOKEN_EXPIRED;
        if (did_out) {
            *did_out = arena_strndup(a, db_col_text(r, 0, 0), strlen(db_col_text(r, 0, 0)));
        }
    }
    PQclear(r);
    return ERR_OK;
}

int account_token_fail(struct xrpc_req *rq, enum account_token_result result)
{
    if (result == ACCOUNT_TOKEN_EXPIRED) {
        return xrpc_fail(rq, 400, "ExpiredToken", "Token is expired");
    }
    return xrpc_fail(rq, 400, "InvalidToken", "Token is invalid");
}
