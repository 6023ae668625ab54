/* par.c - POST /oauth/par, pushed authorization requests (RFC 9126), validated as the
 * reference's RequestManager.validate and Client.validateRequest do, with their messages:
 * the parameters are checked against the server, then the client's metadata, then the
 * atproto profile (PKCE S256, the atproto scope, DPoP), and stored for the authorize
 * page. Answers 201 {request_uri, expires_in}. */
#include "oauth/endpoints.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/syntax.h"
#include "http/ratelimit.h"
#include "oauth/include.h"
#include "oauth/oauth.h"
#include "oauth/reply.h"
#include "oauth/request.h"
#include "oauth/scope.h"

struct par_in {
    const char *response_type, *redirect_uri, *scope, *state, *challenge, *method;
    const char *response_mode, *login_hint, *prompt, *dpop_jkt;
};

static bool challenge_ok(const char *c)
{
    size_t n = strlen(c);
    if (n < 43 || n > 128) { /* spec(RFC 7636 §4.2) */
        return false;
    }
    for (const char *p = c; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("-._~", *p)) {
            return false;
        }
    }
    return true;
}

/* The requested scope with values that are not atproto scopes dropped (the reference's
 * isAtprotoOauthScope filter: an app may ask for scopes this server does not know), and
 * repeats removed. */
static const char *filter_scope(struct arena *a, const char *scope)
{
    size_t n = strlen(scope);
    char *out = arena_alloc(a, n + 1), *o = out;
    for (const char *p = scope; *p;) {
        size_t len = strcspn(p, " ");
        const char *v = arena_strndup(a, p, len);
        p += len;
        p += strspn(p, " ");
        if (!len) {
            continue;
        }
        bool known = strcmp(v, "atproto") == 0 || strncmp(v, "transition:", 11) == 0;
        struct scope_perm perm;
        if (!known && scope_perm_parse(a, bytes_str(v), &perm) == ERR_OK) {
            known = true;
        }
        if (strcmp(v, "transition:generic") && strcmp(v, "transition:email") &&
            strcmp(v, "transition:chat.bsky") && strncmp(v, "transition:", 11) == 0) {
            known = false;
        }
        /* skip a repeat */
        *o = '\0';
        for (const char *q = out; known && q < o;) {
            size_t l2 = strcspn(q, " ");
            if (l2 == len && memcmp(q, v, len) == 0) {
                known = false;
            }
            q += l2 + (q[l2] == ' ');
        }
        if (known) {
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

static bool scope_has(const char *scope, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = scope; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && memcmp(p, v, n) == 0) {
            return true;
        }
        p += len;
        p += strspn(p, " ");
    }
    return false;
}

/* Parameter checks; 0 or the error set. in->redirect_uri, scope, login_hint normalised. */
static int validate(struct xrpc_req *rq, const struct oauth_client *c, struct par_in *in)
{
    const char *bad;
    if (!in->response_type) {
        return oauth_fail(rq, 400, "invalid_request", "Missing \"response_type\"");
    }
    if (strcmp(in->response_type, "code") != 0) {
        return oauth_fail(rq, 400, "unsupported_response_type", "Unsupported response_type \"%s\"",
                          in->response_type);
    }
    if (in->scope && strlen(in->scope) > OAUTH_SCOPE_MAX_BYTES) {
        return oauth_fail(rq, 400, "invalid_scope", "The scope is too long");
    }
    if (in->scope && !oauth_client_scope_ok(rq->arena, c, in->scope, &bad)) {
        return oauth_fail(rq, 400, "invalid_scope",
                          "Scope \"%s\" is not declared in the client metadata", bad);
    }
    if (in->redirect_uri) {
        if (strlen(in->redirect_uri) > OAUTH_URL_MAX_BYTES ||
            !oauth_client_redirect_ok(rq->arena, c, in->redirect_uri)) {
            return oauth_fail(rq, 400, "invalid_request", "Invalid redirect_uri %s",
                              in->redirect_uri);
        }
    } else if (c->n_redirect_uris == 1) {
        in->redirect_uri = c->redirect_uris[0];
    } else {
        return oauth_fail(rq, 400, "invalid_request", "redirect_uri is required");
    }
    if (!in->challenge) {
        return oauth_fail(rq, 400, "invalid_request", "%s",
                          in->method ? "code_challenge is required when code_challenge_method "
                                       "is provided"
                                     : "Use of PKCE is required");
    }
    if (!in->method || strcmp(in->method, "S256") != 0) {
        return oauth_fail(rq, 400, "invalid_request",
                          "atproto requires use of \"S256\" code_challenge_method");
    }
    if (!challenge_ok(in->challenge)) {
        return oauth_fail(rq, 400, "invalid_request", "Invalid code_challenge");
    }
    in->scope = filter_scope(rq->arena, in->scope ? in->scope : "");
    if (!scope_has(in->scope, "atproto")) {
        return oauth_fail(rq, 400, "invalid_scope", "The \"atproto\" scope is required");
    }
    if (in->state && strlen(in->state) > OAUTH_STATE_MAX_BYTES) {
        return oauth_fail(rq, 400, "invalid_request", "state is too long");
    }
    if (in->response_mode && strcmp(in->response_mode, "query") != 0 &&
        strcmp(in->response_mode, "fragment") != 0) {
        return oauth_fail(rq, 400, "invalid_request", "Unsupported response_mode \"%s\"",
                          in->response_mode);
    }
    if (in->prompt && strcmp(in->prompt, "none") && strcmp(in->prompt, "login") &&
        strcmp(in->prompt, "consent") && strcmp(in->prompt, "select_account")) {
        return oauth_fail(rq, 400, "invalid_request", "Unsupported prompt \"%s\"", in->prompt);
    }
    if (in->login_hint) {
        size_t n = strlen(in->login_hint);
        char *h = arena_strndup(rq->arena, in->login_hint, n);
        for (size_t i = 0; i < n; i++) {
            h[i] = (char)tolower((unsigned char)h[i]);
        }
        if (!syntax_did_valid(bytes_str(h)) && !syntax_handle_valid(bytes_str(h))) {
            return oauth_fail(rq, 400, "invalid_request", "Invalid login_hint \"%s\"", h);
        }
        in->login_hint = h;
    }
    const char *expanded, *why;
    if (oauth_expand_includes(rq->db, rq->arena, in->scope, &expanded, &why)) {
        return oauth_fail(rq, 400, "invalid_scope", "%s", why);
    }
    return 0;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v) {
        json_object_set_new(o, k, json_string(v));
    }
}

int oauth_par(struct xrpc_req *rq)
{
    struct xrpc_param *p;
    size_t n;
    struct dpop_proof proof;
    struct oauth_client client;
    struct oauth_client_auth auth;
    int st;
    /* ours (the reference does not limit its OAuth endpoints): before any work */
    if (!ratelimit_try(rq, RL_GROUP_OAUTH_PAR, NULL, 1)) {
        return oauth_fail(rq, 429, "rate_limit_exceeded",
                          "Too many authorization requests from this address: try again later");
    }
    if ((st = oauth_read_form(rq, &p, &n)) || (st = oauth_as_dpop(rq, &proof)) ||
        (st = oauth_as_client(rq, p, n, &proof, false, &client, &auth))) {
        return st;
    }
    oauth_maybe_sweep(rq->db);
    static const char *const unsupported[] = {
        "request", "request_uri", "claims", "id_token_hint", "nonce", "authorization_details"};
    for (size_t i = 0; i < ARRAY_LEN(unsupported); i++) {
        if (oauth_param(rq, p, n, unsupported[i], &st) || st) {
            return st ? st
                      : oauth_fail(rq, 400, "invalid_request", "Unsupported \"%s\" parameter",
                                   unsupported[i]);
        }
    }
    struct par_in in = {
        .response_type = oauth_param(rq, p, n, "response_type", &st),
        .redirect_uri = oauth_param(rq, p, n, "redirect_uri", &st),
        .scope = oauth_param(rq, p, n, "scope", &st),
        .state = oauth_param(rq, p, n, "state", &st),
        .challenge = oauth_param(rq, p, n, "code_challenge", &st),
        .method = oauth_param(rq, p, n, "code_challenge_method", &st),
        .response_mode = oauth_param(rq, p, n, "response_mode", &st),
        .login_hint = oauth_param(rq, p, n, "login_hint", &st),
        .prompt = oauth_param(rq, p, n, "prompt", &st),
        .dpop_jkt = oauth_param(rq, p, n, "dpop_jkt", &st),
    };
    if (st || (st = validate(rq, &client, &in))) {
        return st;
    }
    if (in.dpop_jkt && strcmp(in.dpop_jkt, proof.jkt) != 0) {
        return oauth_fail_dpop(rq, "invalid_token", "Invalid DPoP key binding");
    }
    json_t *params = json_object();
    set_str(params, "response_type", in.response_type);
    set_str(params, "redirect_uri", in.redirect_uri);
    set_str(params, "scope", in.scope);
    set_str(params, "state", in.state);
    set_str(params, "code_challenge", in.challenge);
    set_str(params, "code_challenge_method", in.method);
    set_str(params, "response_mode", in.response_mode ? in.response_mode : "query");
    set_str(params, "login_hint", in.login_hint);
    set_str(params, "prompt", in.prompt);
    set_str(params, "dpop_jkt", proof.jkt);
    json_t *auth_json = oauth_client_auth_json(&auth);
    char id[REQUEST_ID_CHARS + 1];
    enum err e = request_create(rq->db, client.id, auth_json, params, OAUTH_PAR_TTL_S, id);
    json_decref(auth_json);
    json_decref(params);
    if (e) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    char uri[sizeof REQUEST_URI_PREFIX + REQUEST_ID_CHARS];
    snprintf(uri, sizeof uri, "%s%s", REQUEST_URI_PREFIX, id);
    return oauth_reply_json(
        rq, 201,
        json_pack("{s:s,s:I}", "request_uri", uri, "expires_in", (json_int_t)OAUTH_PAR_TTL_S));
}
