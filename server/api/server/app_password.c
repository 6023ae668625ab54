/* app_password.c - com.atproto.server.{createAppPassword,listAppPasswords,
 * revokeAppPassword}. App passwords are stored as keyed digests (server_common.h): they are
 * random, so a slow hash would only slow logins down. */
#include <sodium.h>

#include "api/server/server.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/server/server_common.h"
#include "repo/writes.h"

#define APP_PASSWORD_NAME_MAX_BYTES 256 /* not in the lexicon; keeps listings small */

static const char *format_time(struct xrpc_req *rq, int64_t unix_us)
{
    char *s = arena_alloc(rq->arena, 32);
    repo_format_time(unix_us / 1000, s);
    return s;
}

/* com.atproto.server.createAppPassword */
int api_server_create_app_password(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *name;
    bool privileged;
    /* full access only: an app password cannot mint more app passwords */
    int st = auth_access(rq, AUTH_FULL | AUTH_CHECK_TAKEDOWN, &a);
    if (st || (st = input_require_object(rq)) || (st = input_str(rq, "name", true, &name)) ||
        (st = input_bool(rq, "privileged", false, &privileged))) {
        return st;
    }
    if (strlen(name) > APP_PASSWORD_NAME_MAX_BYTES) {
        return xrpc_fail(rq, 400, "InvalidRequest", "App password name is too long");
    }
    char password[PASSWORD_APP_MAX], digest[ACCOUNT_APP_DIGEST_MAX];
    password_app_generate(password);
    account_app_password_digest(a->did, password, digest);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    db_param_text(&p, name);
    db_param_text(&p, digest);
    db_param_bool(&p, privileged);
    PGresult *r;
    enum err e = db_query_in(rq->db, rq->arena,
                             "INSERT INTO app_password (did, name, password_hash, privileged)"
                             " VALUES ($1, $2, $3, $4) RETURNING created_at",
                             &p, &r);
    if (e == ERR_CONFLICT) {
        /* the reference fails with a 500 here; a named 400 tells the user what to change */
        return xrpc_fail(rq, 400, "InvalidRequest", "An app password named \"%s\" already exists",
                         name);
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:b}", "name", name, "password", password, "createdAt",
                  format_time(rq, db_col_time_us(r, 0, 0)), "privileged", privileged);
    sodium_memzero(password, sizeof(password));
    return xrpc_reply_json(rq, 200, body);
}

/* com.atproto.server.listAppPasswords */
int api_server_list_app_passwords(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_access(rq, AUTH_STANDARD, &a);
    if (st) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT name, created_at, privileged FROM app_password WHERE did = $1"
                    " ORDER BY created_at DESC, name",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "name", db_col_text(r, i, 0),
                                              "createdAt", format_time(rq, db_col_time_us(r, i, 1)),
                                              "privileged", db_col_bool(r, i, 2)));
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "passwords", list));
}

/* com.atproto.server.revokeAppPassword */
int api_server_revoke_app_password(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *name;
    int st = auth_access(rq, AUTH_STANDARD, &a);
    if (st || (st = input_require_object(rq)) || (st = input_str(rq, "name", true, &name))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    db_param_text(&p, name);
    /* one statement, so the password and the sessions it opened go together */
    if (db_exec(rq->db,
                "WITH d AS (DELETE FROM app_password WHERE did = $1 AND name = $2)"
                " DELETE FROM refresh_token WHERE did = $1 AND app_password_name = $2",
                &p, NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_empty(rq, 200);
}
