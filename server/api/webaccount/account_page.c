/* account_page.c - /account: the page, the accounts signed in on this browser, and for one
 * of them what it has granted: apps (OAuth clients) with the permissions each holds, the
 * browsers signed in, app passwords, and whether TOTP is on. */
#include "api/webaccount/webaccount.h"

#include <string.h>

#include "api/account/totp.h"
#include "oauth/scope_text.h"
#include "oauth/url.h"
#include "web/csrf.h"
#include "web/page.h"
#include "web/session.h"

/* GET /account */
int api_web_account_page(struct xrpc_req *rq)
{
    return web_reply_page(rq, 200, "account/account.html", NULL, 0);
}

/* GET /account/sessions: the accounts signed in here (the chooser of the page). */
int api_web_account_sessions(struct xrpc_req *rq)
{
    web_page_headers(rq);
    int st = web_csrf_require(rq, NULL);
    if (st) {
        return st;
    }
    struct web_account *accts;
    size_t n;
    if (web_session_list(rq, &accts, &n)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *a =
            json_pack("{s:s,s:b}", "did", accts[i].did, "deactivated", accts[i].deactivated);
        if (accts[i].handle) {
            json_object_set_new(a, "handle", json_string(accts[i].handle));
        }
        json_array_append_new(list, a);
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "accounts", list));
}

static const char *iso(struct arena *a, const PGresult *r, int row, int col)
{
    const char *t = db_col_text(r, row, col);
    return t ? arena_strndup(a, t, strlen(t)) : "";
}

static int apps(struct xrpc_req *rq, const char *did, json_t *out)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT c.client_id, c.scope, to_char(c.created_at AT TIME ZONE 'UTC',"
                    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), count(s.id)::int8"
                    " FROM oauth_authorized_client c LEFT JOIN oauth_session s"
                    " ON s.did = c.did AND s.client_id = c.client_id"
                    " WHERE c.did = $1 GROUP BY c.client_id, c.scope, c.created_at"
                    " ORDER BY c.created_at",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = db_col_text(r, i, 0);
        struct url u;
        const char *host = url_parse(rq->arena, id, &u) == ERR_OK && u.host[0] ? u.host : id;
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:o,s:s,s:I}", "clientId", id, "host",
                                              host, "scope", db_col_text(r, i, 1), "permissions",
                                              scope_text_list(rq->arena, db_col_text(r, i, 1)),
                                              "createdAt", iso(rq->arena, r, i, 2),
                                              "activeSessions", (json_int_t)db_col_i64(r, i, 3)));
    }
    json_object_set_new(out, "apps", list);
    return 0;
}

static int devices(struct xrpc_req *rq, const char *did, json_t *out)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(
            rq->db, rq->arena,
            "SELECT device_hash, user_agent, ip_address,"
            " to_char(authenticated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
            " to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            " FROM web_device_account WHERE did = $1 ORDER BY last_used_at DESC",
            &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    const char *mine = web_device_hash(rq, false);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *dev = db_col_text(r, i, 0);
        json_t *d = json_pack("{s:s,s:s,s:s,s:b}", "device", dev, "signedInAt",
                              iso(rq->arena, r, i, 3), "lastUsedAt", iso(rq->arena, r, i, 4),
                              "current", mine && strcmp(mine, dev) == 0);
        if (!db_col_null(r, i, 1)) {
            json_object_set_new(d, "userAgent", json_string(db_col_text(r, i, 1)));
        }
        if (!db_col_null(r, i, 2)) {
            json_object_set_new(d, "ipAddress", json_string(db_col_text(r, i, 2)));
        }
        json_array_append_new(list, d);
    }
    json_object_set_new(out, "devices", list);
    return 0;
}

static int app_passwords(struct xrpc_req *rq, const char *did, json_t *out)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT name, privileged, to_char(created_at AT TIME ZONE 'UTC',"
                    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM app_password WHERE did = $1"
                    " ORDER BY created_at",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_array_append_new(list, json_pack("{s:s,s:b,s:s}", "name", db_col_text(r, i, 0),
                                              "privileged", db_col_bool(r, i, 1), "createdAt",
                                              iso(rq->arena, r, i, 2)));
    }
    json_object_set_new(out, "appPasswords", list);
    return 0;
}

/* GET /account/data?did= */
int api_web_account_data(struct xrpc_req *rq)
{
    json_t *body;
    const char *did;
    int st = webaccount_begin(rq, &body, &did);
    if (st) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT handle, email FROM account WHERE did = $1", &p,
                    &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) != 1) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account not found");
    }
    bool totp;
    if (account_totp_enabled(rq->db, did, &totp)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *out = json_pack("{s:s,s:{s:b}}", "did", did, "totp", "enabled", totp);
    if (!db_col_null(r, 0, 0)) {
        json_object_set_new(out, "handle", json_string(db_col_text(r, 0, 0)));
    }
    if (!db_col_null(r, 0, 1)) {
        json_object_set_new(out, "email", json_string(db_col_text(r, 0, 1)));
    }
    if ((st = apps(rq, did, out)) || (st = devices(rq, did, out)) ||
        (st = app_passwords(rq, did, out))) {
        json_decref(out);
        return st;
    }
    return xrpc_reply_json(rq, 200, out);
}
