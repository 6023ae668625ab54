/* grant.c - what the authorize page and its endpoints share: loading the request a
 * browser holds, giving it to an account (the code, the remembered consent), and the
 * redirect back to the client. */
#include "oauth/authorize.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "oauth/client_fetch.h"
#include "oauth/oauth.h"
#include "web/session.h"

int authorize_load(struct xrpc_req *rq, const char *request_uri, struct oauth_request *req,
                   struct oauth_client *client)
{
    const char *id = request_id_from_uri(rq->arena, request_uri);
    bool found = false;
    if (!id) {
        return xrpc_fail(rq, 400, "InvalidRequest", "invalid request_uri");
    }
    if (request_load(rq->db, rq->arena, id, req, &found)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    const char *dev = web_device_hash(rq, false);
    if (!found || req->expired || req->did) {
        return xrpc_fail(rq, 400, "ExpiredRequest",
                         "This sign-in request has expired or was already used. Go back to "
                         "the app and start again.");
    }
    if (!dev || !req->device_hash || strcmp(dev, req->device_hash) != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "This sign-in request belongs to another browser.");
    }
    if (oauth_client_load(rq, req->client_id, false, client)) {
        return xrpc_fail(rq, 400, "InvalidClient", "The app's client metadata cannot be read.");
    }
    return 0;
}

static void append_param(struct buf *b, const char *name, const char *value, bool *first, char sep)
{
    static const char hex[] = "0123456789ABCDEF";
    (void)!buf_append_byte(b, *first ? (uint8_t)sep : '&');
    *first = false;
    (void)!buf_append_str(b, name);
    (void)!buf_append_byte(b, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            (void)!buf_append_byte(b, *p);
        } else {
            char t[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            (void)!buf_append(b, t, 3);
        }
    }
}

const char *authorize_redirect(struct xrpc_req *rq, const json_t *params, const char *code,
                               const char *error, const char *error_description)
{
    const char *uri = json_string_value(json_object_get(params, "redirect_uri"));
    const char *mode = json_string_value(json_object_get(params, "response_mode"));
    const char *state = json_string_value(json_object_get(params, "state"));
    bool fragment = mode && strcmp(mode, "fragment") == 0;
    struct buf b;
    buf_init(&b, 16384);
    (void)!buf_append_str(&b, uri ? uri : "");
    bool first = fragment || !strchr(uri ? uri : "", '?');
    char sep = fragment ? '#' : '?';
    if (code) {
        append_param(&b, "code", code, &first, sep);
    } else {
        append_param(&b, "error", error, &first, sep);
        if (error_description) {
            append_param(&b, "error_description", error_description, &first, sep);
        }
    }
    if (state) {
        append_param(&b, "state", state, &first, sep);
    }
    append_param(&b, "iss", rq->cfg->public_url, &first, sep);
    const char *out = arena_strndup(rq->arena, (const char *)b.ptr, b.len);
    buf_clear(&b);
    return out;
}

int authorize_grant(struct xrpc_req *rq, const struct oauth_request *req, const char *did,
                    const char *scope, const char **redirect)
{
    json_t *params = json_deep_copy(req->params);
    json_object_set_new(params, "scope", json_string(scope));
    char code[CODE_CHARS + 1];
    bool ok;
    enum err e = request_authorize(rq->db, req->id, req->device_hash, did, params, OAUTH_CODE_TTL_S,
                                   code, &ok);
    json_t *p2 = params;
    if (e) {
        json_decref(p2);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (!ok) {
        json_decref(p2);
        return xrpc_fail(rq, 400, "ExpiredRequest",
                         "This sign-in request has expired or was already used.");
    }
    /* remember the consent: what the account has let this client do, in its own words */
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, req->client_id);
    db_param_text(&p, scope);
    if (db_exec(rq->db,
                "INSERT INTO oauth_authorized_client (did, client_id, scope) VALUES ($1, $2, $3)"
                " ON CONFLICT (did, client_id) DO UPDATE SET updated_at = now(), scope ="
                " (SELECT string_agg(DISTINCT s, ' ') FROM unnest(string_to_array("
                "   oauth_authorized_client.scope || ' ' || EXCLUDED.scope, ' ')) s)",
                &p, NULL)) {
        json_decref(p2);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *redirect = authorize_redirect(rq, params, code, NULL, NULL);
    json_decref(p2);
    return 0;
}
