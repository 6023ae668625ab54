/* manage.c - what /account revokes: an app (every session it holds, and its remembered
 * consent), a browser's sign-in, an app password (and the sessions it opened). Each one
 * statement, so nothing is left half-revoked. */
#include "api/webaccount/webaccount.h"

#include <string.h>

/* POST /account/revoke-app {did, clientId} */
int api_web_revoke_app(struct xrpc_req *rq)
{
    json_t *in;
    const char *did;
    int st = webaccount_begin(rq, &in, &did);
    if (st) {
        return st;
    }
    const char *client = json_string_value(json_object_get(in, "clientId"));
    if (!client) {
        return xrpc_fail(rq, 400, "InvalidRequest", "clientId is required");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, client);
    int64_t n = 0;
    if (db_exec(rq->db,
                "WITH s AS (DELETE FROM oauth_session WHERE did = $1 AND client_id = $2)"
                " DELETE FROM oauth_authorized_client WHERE did = $1 AND client_id = $2",
                &p, &n)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    log_info(&rq->log, "account page: revoked app %s", client);
    return xrpc_reply_json(rq, 200, json_pack("{s:b}", "revoked", n > 0));
}

/* POST /account/revoke-device {did, device} */
int api_web_revoke_device(struct xrpc_req *rq)
{
    json_t *in;
    const char *did;
    int st = webaccount_begin(rq, &in, &did);
    if (st) {
        return st;
    }
    const char *device = json_string_value(json_object_get(in, "device"));
    if (!device) {
        return xrpc_fail(rq, 400, "InvalidRequest", "device is required");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, device);
    int64_t n = 0;
    if (db_exec(rq->db, "DELETE FROM web_device_account WHERE did = $1 AND device_hash = $2", &p,
                &n)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:b}", "revoked", n > 0));
}

/* POST /account/revoke-app-password {did, name} */
int api_web_revoke_app_password(struct xrpc_req *rq)
{
    json_t *in;
    const char *did;
    int st = webaccount_begin(rq, &in, &did);
    if (st) {
        return st;
    }
    const char *name = json_string_value(json_object_get(in, "name"));
    if (!name) {
        return xrpc_fail(rq, 400, "InvalidRequest", "name is required");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, name);
    /* as revokeAppPassword: the password and the sessions it opened go together */
    if (db_exec(rq->db,
                "WITH d AS (DELETE FROM app_password WHERE did = $1 AND name = $2)"
                " DELETE FROM refresh_token WHERE did = $1 AND app_password_name = $2",
                &p, NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_json(rq, 200, json_object());
}
