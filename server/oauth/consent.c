/* consent.c - the authorize page's JSON endpoints: what to show (the client, the accounts
 * signed in on this browser, each permission in plain words), and the user's answer. Every
 * answer needs the browser that holds the request; the answer also needs the page's CSRF
 * token and a fresh sign-in of the chosen account on this browser (web/session.h). */
#include "oauth/authorize.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "oauth/client_fetch.h"
#include "oauth/endpoints.h"
#include "oauth/include.h"
#include "oauth/oauth.h"
#include "oauth/scope_text.h"
#include "oauth/url.h"
#include "web/csrf.h"
#include "web/page.h"
#include "web/session.h"

static void set_opt(json_t *o, const char *k, const char *v)
{
    if (v) {
        json_object_set_new(o, k, json_string(v));
    }
}

static json_t *client_json(struct xrpc_req *rq, const struct oauth_client *c)
{
    json_t *o = json_object();
    struct url u;
    json_object_set_new(o, "clientId", json_string(c->id));
    json_object_set_new(
        o, "host",
        json_string(c->loopback || url_parse(rq->arena, c->id, &u) ? "localhost" : u.host));
    json_object_set_new(o, "loopback", json_boolean(c->loopback));
    json_object_set_new(o, "trusted", json_boolean(c->trusted));
    if (c->trusted) { /* spec(oauth): names and logos only for clients the operator trusts */
        set_opt(o, "name", c->client_name);
        set_opt(o, "logoUri", c->logo_uri);
        set_opt(o, "clientUri", c->client_uri);
    }
    /* terms and policy links are the client's own documents: shown as links for everyone */
    set_opt(o, "tosUri", c->tos_uri);
    set_opt(o, "policyUri", c->policy_uri);
    return o;
}

/* GET /oauth/authorize/info?request_uri= */
int oauth_authorize_info(struct xrpc_req *rq)
{
    web_page_headers(rq);
    struct oauth_request req;
    struct oauth_client c;
    int st = authorize_load(rq, xrpc_param(rq, "request_uri"), &req, &c);
    if (st) {
        return st;
    }
    struct web_account *accts;
    size_t n;
    if (web_session_list(rq, &accts, &n)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    const char *hint = json_string_value(json_object_get(req.params, "login_hint"));
    const char *prompt = json_string_value(json_object_get(req.params, "prompt"));
    bool force_login = prompt && strcmp(prompt, "login") == 0;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        bool stale =
            force_login || oauth_now() - accts[i].authenticated_at >= OAUTH_SIGN_IN_MAX_AGE_S;
        json_t *a = json_pack("{s:s,s:b,s:b}", "did", accts[i].did, "loginRequired", stale,
                              "deactivated", accts[i].deactivated);
        set_opt(a, "handle", accts[i].handle);
        json_array_append_new(list, a);
    }
    const char *scope = json_string_value(json_object_get(req.params, "scope"));
    json_t *perms = scope_text_list(rq->arena, scope);
    /* permission sets: the set's own title and detail, in the user's language */
    json_t *sets =
        oauth_include_texts(rq->db, rq->arena, scope, xrpc_header(rq, "accept-language"));
    size_t i, k;
    json_t *set, *perm;
    json_array_foreach(sets, i, set)
    {
        bool placed = false;
        json_array_foreach(perms, k, perm)
        {
            if (!placed &&
                json_equal(json_object_get(perm, "scope"), json_object_get(set, "scope"))) {
                json_array_set(perms, k, set); /* the set's own words for the generic ones */
                placed = true;
            }
        }
        if (!placed) {
            json_array_append(perms, set);
        }
    }
    json_decref(sets);
    json_t *body = json_pack("{s:o,s:o,s:o}", "client", client_json(rq, &c), "accounts", list,
                             "permissions", perms);
    set_opt(body, "loginHint", hint);
    if (prompt) {
        json_object_set_new(body, "prompt", json_string(prompt));
    }
    return xrpc_reply_json(rq, 200, body);
}

/* The granted scope: the request's values that the user kept ("atproto" always). */
static const char *granted(struct xrpc_req *rq, const char *requested, const json_t *kept)
{
    size_t cap = strlen(requested) + 1;
    char *out = arena_alloc(rq->arena, cap), *o = out;
    for (const char *p = requested; *p;) {
        size_t len = strcspn(p, " ");
        const char *v = arena_strndup(rq->arena, p, len);
        p += len;
        p += strspn(p, " ");
        bool keep = strcmp(v, "atproto") == 0;
        size_t i;
        json_t *k;
        json_array_foreach(kept, i, k)
        {
            keep |= json_is_string(k) && strcmp(json_string_value(k), v) == 0;
        }
        if (len && keep) {
            if (o > out) {
                *o++ = ' ';
            }
            memcpy(o, v, len);
            o += len;
        }
    }
    *o = '\0';
    return out;
}

/* POST /oauth/authorize/accept {request_uri, did, scope: [kept values]} */
int oauth_authorize_accept(struct xrpc_req *rq)
{
    json_t *in;
    int st = web_page_post(rq, &in);
    if (st) {
        return st;
    }
    const char *did = json_string_value(json_object_get(in, "did"));
    json_t *kept = json_object_get(in, "scope");
    struct oauth_request req;
    struct oauth_client c;
    if ((st =
             authorize_load(rq, json_string_value(json_object_get(in, "request_uri")), &req, &c))) {
        return st;
    }
    if (!did || !json_is_array(kept)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "did and scope are required");
    }
    bool signed_in;
    if (web_session_check(rq, did, OAUTH_SIGN_IN_MAX_AGE_S, &signed_in)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (!signed_in) {
        return xrpc_fail(rq, 401, "LoginRequired", "Sign in to this account first.");
    }
    /* login_hint: only that account may answer */
    const char *hint = json_string_value(json_object_get(req.params, "login_hint"));
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT handle, deactivated_at IS NOT NULL, takedown_ref IS NOT NULL"
                    " FROM account WHERE did = $1",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) != 1 || db_col_bool(r, 0, 2)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "This account is not available.");
    }
    const char *handle = db_col_null(r, 0, 0) ? NULL : db_col_text(r, 0, 0);
    if (hint && strcmp(hint, did) != 0 && !(handle && strcmp(hint, handle) == 0)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "The app asked for another account (%s).",
                         hint);
    }
    if (db_col_bool(r, 0, 1)) {
        return xrpc_fail(rq, 400, "AccountDeactivated", "This account has been deactivated.");
    }
    const char *scope = granted(rq, json_string_value(json_object_get(req.params, "scope")), kept);
    const char *redirect;
    if ((st = authorize_grant(rq, &req, did, scope, &redirect))) {
        return st;
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "redirect", redirect));
}

/* POST /oauth/authorize/reject {request_uri}: the user said no; the client hears
 * access_denied. */
int oauth_authorize_reject(struct xrpc_req *rq)
{
    json_t *in;
    int st = web_page_post(rq, &in);
    if (st) {
        return st;
    }
    struct oauth_request req;
    struct oauth_client c;
    if ((st =
             authorize_load(rq, json_string_value(json_object_get(in, "request_uri")), &req, &c))) {
        return st;
    }
    if (request_delete(rq->db, req.id)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    const char *redirect =
        authorize_redirect(rq, req.params, NULL, "access_denied", "The user denied access");
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "redirect", redirect));
}
