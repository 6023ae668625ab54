/* accounts.c - the console's accounts: search by part of a handle, email or DID (keyset
 * paging by DID, trigram indexes from migration 0040), one account's details, and the
 * actions on it. Every action is an account operation of api/account or an admin XRPC
 * handler run on this request, and is written to the audit log with its outcome. */
#include "api/console/console.h"

#include "web/page.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/account/account_ops.h"
#include "api/admin/admin.h"
#include "api/admin/admin_common.h"
#include "core/base.h"
#include "core/syntax.h"
#include "crypto/ready.h"
#include "repo/writes.h"

#define SEARCH_DEFAULT       25
#define SEARCH_MAX           100
#define QUERY_MAX_BYTES      254
#define RESET_PASSWORD_BYTES 18 /* 24 base64url characters */

/* A LIKE pattern matching s (lower-cased) anywhere, its own wildcards escaped. */
static char *like_contains(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_alloc(a, 2 * n + 3), *o = out;
    *o++ = '%';
    for (size_t i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c == '%' || c == '_' || c == '\\') {
            *o++ = '\\';
        }
        *o++ = c;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

/* GET /admin/api/accounts?q=&cursor=&limit= */
int console_api_accounts(struct xrpc_req *rq)
{
    struct console_session s;
    const char *q, *cursor;
    int64_t limit;
    int st;
    if ((st = console_session_require(rq, false, false, &s)) ||
        (st = xrpc_param_str(rq, "q", false, &q)) ||
        (st = xrpc_param_str(rq, "cursor", false, &cursor)) ||
        (st = xrpc_param_int(rq, "limit", 1, SEARCH_MAX, SEARCH_DEFAULT, &limit))) {
        return st;
    }
    if ((q && strlen(q) > QUERY_MAX_BYTES) || (cursor && strlen(cursor) > QUERY_MAX_BYTES)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "search text is too long");
    }
    struct db_params p;
    db_params_init(&p);
    /* a whole DID can only match itself: the primary key finds it at once */
    bool exact = q && syntax_did_valid(bytes_str(q));
    db_param_text(&p, q && !exact ? like_contains(rq->arena, q) : NULL);
    db_param_text(&p, cursor);
    db_param_i64(&p, limit + 1); /* one more: is there a next page? */
    db_param_text(&p, exact ? q : NULL);
    /* The planner guesses a pattern whose trigrams are common (every DID starts with
     * "did:plc:", most emails share a domain) matches most rows and scans the whole table
     * (75 ms at 100,000 accounts); the trigram indexes answer those in a few ms. So no
     * sequential scan for this one statement; a text that really matches most rows still
     * takes the primary key in order and stops at a page. */
    PGresult *r = NULL;
    enum err e = db_begin(rq->db);
    if (!e) {
        e = db_exec(rq->db, "SET LOCAL enable_seqscan = off", NULL, NULL);
    }
    if (!e) {
        e = db_query_in(
            rq->db, rq->arena,
            "SELECT json_strip_nulls(json_build_object('did', a.did,"
            " 'handle', coalesce(a.handle, 'handle.invalid'), 'email', a.email,"
            " 'createdAt', " ADMIN_SQL_TIME(
                "a.created_at") ","
                                " 'status', CASE WHEN a.takedown_ref IS NOT NULL THEN 'takendown'"
                                " WHEN a.deactivated_at IS NOT NULL THEN 'deactivated' ELSE "
                                "'active' END))::text,"
                                " a.did FROM account a"
                                " WHERE ($1::text IS NULL OR a.handle LIKE $1 OR lower(a.email) "
                                "LIKE $1"
                                " OR a.did LIKE $1) AND ($2::text IS NULL OR a.did > $2)"
                                " AND ($4::text IS NULL OR a.did = $4)"
                                " ORDER BY a.did LIMIT $3",
            &p, &r);
    }
    if (!e) {
        e = db_commit(rq->db);
    }
    if (e) {
        db_rollback(rq->db);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int rows = PQntuples(r);
    json_t *list = admin_json_rows(rq, r, (int)limit);
    if (!list) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *out = json_pack("{s:o}", "accounts", list);
    if (rows > limit) {
        json_object_set_new(out, "cursor", json_string(db_col_text(r, (int)limit - 1, 1)));
    }
    return xrpc_reply_json(rq, 200, out);
}

/* GET /admin/api/account?did= */
int console_api_account(struct xrpc_req *rq)
{
    struct console_session s;
    const char *did;
    int st;
    if ((st = console_session_require(rq, false, false, &s)) ||
        (st = xrpc_param_str(rq, "did", true, &did))) {
        return st;
    }
    if (!syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid did: %s", did);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    /* clang-format off */
    if (db_query_in(rq->db, rq->arena,
            "SELECT " ADMIN_SQL_ACCOUNT_VIEW ", json_strip_nulls(json_build_object("
            " 'takedownRef', a.takedown_ref,"
            " 'deactivatedAt', " ADMIN_SQL_TIME("a.deactivated_at") ","
            " 'deleteAfter', " ADMIN_SQL_TIME("a.delete_after") ","
            " 'emailAuthFactor', a.email_auth_factor,"
            " 'rev', (SELECT rev FROM repo_root WHERE did = a.did),"
            " 'collections', coalesce((SELECT json_agg(json_build_object('collection', c.collection,"
            "   'records', c.n) ORDER BY c.collection) FROM (SELECT collection, count(*) AS n"
            "   FROM record WHERE did = a.did GROUP BY collection) c), '[]'::json),"
            " 'blobs', (SELECT json_build_object('count', count(*), 'bytes', coalesce(sum(size), 0),"
            "   'pending', count(*) FILTER (WHERE temp_key IS NOT NULL)) FROM blob WHERE did = a.did),"
            " 'sessions', coalesce((SELECT json_agg(json_build_object('appPassword',"
            "   t.app_password_name, 'expiresAt', " ADMIN_SQL_TIME("t.expires_at") ")"
            "   ORDER BY t.expires_at DESC) FROM refresh_token t WHERE t.did = a.did"
            "   AND t.expires_at > now()), '[]'::json),"
            " 'appPasswords', coalesce((SELECT json_agg(json_build_object('name', ap.name,"
            "   'privileged', ap.privileged, 'createdAt', " ADMIN_SQL_TIME("ap.created_at") ")"
            "   ORDER BY ap.created_at) FROM app_password ap WHERE ap.did = a.did), '[]'::json)"
            "))::text FROM account a WHERE a.did = $1",
            &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    /* clang-format on */
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 404, "NotFound", "Account not found");
    }
    json_t *view = admin_json_column(rq, db_col_text(r, 0, 0));
    json_t *more = admin_json_column(rq, db_col_text(r, 0, 1));
    if (!view || !more) {
        json_decref(view);
        json_decref(more);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_object_update(view, more);
    json_decref(more);
    return xrpc_reply_json(rq, 200, view);
}

/* The outcome for the audit log: "ok", or the error name the response carries. */
static const char *outcome_of(struct xrpc_req *rq)
{
    if (rq->resp.status > 0 && rq->resp.status < 400) {
        return "ok";
    }
    json_error_t jerr;
    json_t *j =
        rq->resp.body ? json_loadb((const char *)rq->resp.body, rq->resp.body_len, 0, &jerr) : NULL;
    const char *name = json_string_value(json_object_get(j, "error"));
    const char *out =
        arena_strndup(rq->arena, name ? name : "Error", strlen(name ? name : "Error"));
    json_decref(j);
    return out;
}

/* Replaces rq->json with a new body for an admin handler (owned by the arena). */
static void set_body(struct xrpc_req *rq, json_t *body)
{
    arena_defer(rq->arena, (void (*)(void *))json_decref, body);
    rq->json = body;
}

static int fail_err(struct xrpc_req *rq, enum err e)
{
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 404, "NotFound", "Account not found");
    }
    return xrpc_fail(rq, 500, NULL, NULL);
}

static int done(struct xrpc_req *rq, enum err e)
{
    return e ? fail_err(rq, e) : xrpc_reply_json(rq, 200, json_pack("{s:b}", "ok", 1));
}

static int reset_password(struct xrpc_req *rq, const char *did)
{
    ready_sodium();
    uint8_t rnd[RESET_PASSWORD_BYTES];
    randombytes_buf(rnd, sizeof rnd);
    struct buf pw;
    buf_init(&pw, 64);
    enum err e = base64url_encode(bytes_of(rnd, sizeof rnd), &pw);
    sodium_memzero(rnd, sizeof rnd);
    if (e) {
        buf_clear(&pw);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    char *password = arena_strndup(rq->arena, (const char *)pw.ptr, pw.len);
    sodium_memzero(pw.ptr, pw.len);
    buf_clear(&pw);
    set_body(rq, json_pack("{s:s,s:s}", "did", did, "password", password));
    int st = api_admin_update_account_password(rq);
    if (st != 200) {
        return st;
    }
    /* shown once to the operator, who hands it to the account holder; never logged */
    return xrpc_reply_json(rq, 200, json_pack("{s:b,s:s}", "ok", 1, "password", password));
}

static int send_reset_email(struct xrpc_req *rq, const char *did)
{
    struct account_email em;
    int st = account_email_load(rq, did, &em);
    if (st) {
        return st;
    }
    if (!em.email) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account does not have an email address");
    }
    st = account_mail_new_token(rq, did, ACCOUNT_TOKEN_RESET_PASSWORD, ACCOUNT_MAIL_RESET_PASSWORD,
                                em.email, em.handle);
    return st ? st : xrpc_reply_json(rq, 200, json_pack("{s:b,s:s}", "ok", 1, "sentTo", em.email));
}

static int change_handle(struct xrpc_req *rq, const char *did, const char *handle)
{
    if (!handle) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input must have the property \"handle\"");
    }
    const char *now;
    int st = account_update_handle(rq, did, handle, true, &now);
    return st ? st : xrpc_reply_json(rq, 200, json_pack("{s:b,s:s}", "ok", 1, "handle", now));
}

/* Deletion needs the account's handle (or DID) typed again. */
static int delete_account(struct xrpc_req *rq, const char *did, const char *confirm)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT handle FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 404, "NotFound", "Account not found");
    }
    const char *handle = db_col_text(r, 0, 0);
    if (!confirm || (strcmp(confirm, did) != 0 && (!handle || strcmp(confirm, handle) != 0))) {
        return xrpc_fail(rq, 400, "ConfirmationRequired",
                         "type the account's handle to confirm the deletion");
    }
    return done(rq, account_delete(rq->db, did));
}

static int invites(struct xrpc_req *rq, const char *did, bool disable)
{
    set_body(rq, json_pack("{s:s}", "account", did));
    int st = disable ? api_admin_disable_account_invites(rq) : api_admin_enable_account_invites(rq);
    return st == 200 ? xrpc_reply_json(rq, 200, json_pack("{s:b}", "ok", 1)) : st;
}

static int run_action(struct xrpc_req *rq, const char *action, const char *did, json_t *in)
{
    const char *arg = json_string_value(json_object_get(in, "value"));
    if (strcmp(action, "takedown") == 0) {
        char ref[32];
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        repo_format_time((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, ref);
        return done(rq, account_set_takedown(rq->db, did, arg && *arg ? arg : ref));
    }
    if (strcmp(action, "untakedown") == 0) {
        return done(rq, account_set_takedown(rq->db, did, NULL));
    }
    if (strcmp(action, "deactivate") == 0) {
        return done(rq, account_deactivate(rq->db, did, 0));
    }
    if (strcmp(action, "activate") == 0) {
        return done(rq, account_activate(rq->db, did));
    }
    if (strcmp(action, "reset-password") == 0) {
        return reset_password(rq, did);
    }
    if (strcmp(action, "send-reset-email") == 0) {
        return send_reset_email(rq, did);
    }
    if (strcmp(action, "change-handle") == 0) {
        return change_handle(rq, did, arg);
    }
    if (strcmp(action, "disable-invites") == 0 || strcmp(action, "enable-invites") == 0) {
        return invites(rq, did, action[0] == 'd');
    }
    if (strcmp(action, "delete") == 0) {
        return delete_account(rq, did, arg);
    }
    return xrpc_fail(rq, 400, "InvalidRequest", "unknown action: %s", action);
}

/* POST /admin/api/account/action {did, action, value?} */
int console_api_account_action(struct xrpc_req *rq)
{
    struct console_session s;
    int st;
    if ((st = console_session_require(rq, false, true, &s)) || (st = web_json_body(rq, true))) {
        return st;
    }
    json_t *in = json_incref(rq->json);
    arena_defer(rq->arena, (void (*)(void *))json_decref, in);
    const char *did = json_string_value(json_object_get(in, "did"));
    const char *action = json_string_value(json_object_get(in, "action"));
    if (!did || !action || !syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input must have a did and an action");
    }
    const char *value = json_string_value(json_object_get(in, "value"));
    st = run_action(rq, action, did, in);
    json_t *detail = NULL;
    if (value && strcmp(action, "change-handle") == 0) {
        detail = json_pack("{s:s}", "handle", value);
    } else if (value && strcmp(action, "takedown") == 0) {
        detail = json_pack("{s:s}", "ref", value);
    }
    console_audit(rq, s.actor, action, did, outcome_of(rq), detail);
    return st;
}
