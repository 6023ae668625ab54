/* authorize.c - GET /oauth/authorize: the page a client sends the user to, with the
 * request_uri PAR returned. It checks the request, binds it to this browser, answers
 * prompt=none without a page, and otherwise renders admin-ui/oauth/authorize.html, whose
 * script asks consent.c what to show (account chooser, sign-in, consent). */
#include "oauth/authorize.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "oauth/client_fetch.h"
#include "oauth/endpoints.h"
#include "oauth/oauth.h"
#include "oauth/url.h"
#include "web/page.h"
#include "web/session.h"

/* The part of the page that names the client: its host, and for a trusted client its name.
 * spec(oauth): an untrusted client's name and logo are its own claims, so only the host
 * (which the client_id URL proves) is shown. */
static const char *client_host(struct xrpc_req *rq, const struct oauth_client *c)
{
    struct url u;
    if (c->loopback || url_parse(rq->arena, c->id, &u)) {
        return "a development app on this computer (http://localhost)";
    }
    return u.host;
}

static int error_page(struct xrpc_req *rq, int status, const char *message)
{
    return web_error_page(rq, status, "Sign-in could not continue", message);
}

/* prompt=none (OIDC Core §3.1.2.1): no page; sign in silently only when one fresh session
 * matches and the client may skip consent (confidential or trusted, and the scopes were
 * granted before), else tell the client why not. */
static int prompt_none(struct xrpc_req *rq, const struct oauth_request *req,
                       const struct oauth_client *c)
{
    struct web_account *accts;
    size_t n;
    if (web_session_list(rq, &accts, &n)) {
        return error_page(rq, 500, "Something went wrong on this server. Try again later.");
    }
    const char *hint = json_string_value(json_object_get(req->params, "login_hint"));
    const char *did = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < n; i++) {
        bool match = !hint || strcmp(hint, accts[i].did) == 0 ||
                     (accts[i].handle && strcmp(hint, accts[i].handle) == 0);
        if (match && !accts[i].deactivated &&
            oauth_now() - accts[i].authenticated_at < OAUTH_SIGN_IN_MAX_AGE_S) {
            did = accts[i].did;
            matches++;
        }
    }
    const char *error = matches == 0  ? "login_required"
                        : matches > 1 ? "account_selection_required"
                                      : NULL;
    const char *scope = json_string_value(json_object_get(req->params, "scope"));
    if (!error) {
        bool consented = false;
        if (c->confidential || c->trusted) {
            struct db_params p;
            db_params_init(&p);
            db_param_text(&p, did);
            db_param_text(&p, c->id);
            db_param_text(&p, scope);
            PGresult *r;
            if (db_query_in(rq->db, rq->arena,
                            "SELECT 1 FROM oauth_authorized_client WHERE did = $1 AND"
                            " client_id = $2 AND string_to_array($3, ' ') <@"
                            " string_to_array(scope, ' ')",
                            &p, &r)) {
                return error_page(rq, 500, "Something went wrong on this server.");
            }
            consented = PQntuples(r) == 1;
        }
        if (!consented) {
            error = "consent_required";
        }
    }
    const char *redirect;
    if (error) {
        (void)!request_delete(rq->db, req->id);
        redirect = authorize_redirect(rq, req->params, NULL, error, NULL);
    } else {
        int st = authorize_grant(rq, req, did, scope, &redirect);
        if (st) {
            return st;
        }
    }
    web_page_headers(rq);
    xrpc_set_header(rq, "Location", redirect);
    return xrpc_reply_empty(rq, 303);
}

int oauth_authorize(struct xrpc_req *rq)
{
    const char *client_id = xrpc_param(rq, "client_id");
    const char *request_uri = xrpc_param(rq, "request_uri");
    if (!request_uri) {
        return error_page(rq, 400,
                          "This sign-in link has no request_uri: the app must push its "
                          "authorization request first (pushed authorization requests are "
                          "required here).");
    }
    const char *id = request_id_from_uri(rq->arena, request_uri);
    struct oauth_request req;
    bool found = false;
    if (!id || request_load(rq->db, rq->arena, id, &req, &found)) {
        return error_page(rq, 400,
                          "This sign-in link is not valid. Go back to the app and "
                          "start again.");
    }
    if (!found || req.expired) {
        return error_page(rq, 400,
                          "This sign-in request has expired or was already used. Go "
                          "back to the app and start again.");
    }
    if (!client_id || strcmp(client_id, req.client_id) != 0) {
        (void)!request_delete(rq->db, id);
        return error_page(rq, 400, "This sign-in request was started by another app.");
    }
    if (req.did) {
        return error_page(rq, 400, "This sign-in request was already approved.");
    }
    struct oauth_client c;
    if (oauth_client_load(rq, client_id, false, &c)) {
        /* the page replaces the JSON error oauth_client_load set */
        return error_page(rq, 400,
                          "The app's registration (its client metadata) could not be "
                          "read, so it cannot sign you in now.");
    }
    bool ok;
    const char *dev = web_device_hash(rq, true);
    if (request_touch(rq->db, id, dev, OAUTH_AUTHORIZE_IDLE_S, &ok)) {
        return error_page(rq, 500, "Something went wrong on this server. Try again later.");
    }
    if (!ok) {
        (void)!request_delete(rq->db, id);
        return error_page(rq, 400,
                          "This sign-in request was opened in another browser. Go "
                          "back to the app and start again.");
    }
    req.device_hash = dev;
    const char *prompt = json_string_value(json_object_get(req.params, "prompt"));
    if (prompt && strcmp(prompt, "none") == 0) {
        return prompt_none(rq, &req, &c);
    }
    const struct web_var vars[] = {
        {"request_uri", request_uri},
        {"client_host", client_host(rq, &c)},
    };
    return web_reply_page(rq, 200, "oauth/authorize.html", vars, ARRAY_LEN(vars));
}
