/* reply.c - OAuth answers and form bodies. */
#include "oauth/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/form.h"
#include "oauth/dpop_nonce.h"
#include "oauth/oauth.h"

#define DESC_MAX 512

void oauth_reply_headers(struct xrpc_req *rq)
{
    xrpc_set_header(rq, "Cache-Control", "no-store");
    xrpc_set_header(rq, "Pragma", "no-cache");
    char nonce[DPOP_NONCE_CHARS + 1];
    dpop_nonce_next(oauth_now(), nonce);
    xrpc_set_header(rq, "DPoP-Nonce", nonce);
}

int oauth_reply_json(struct xrpc_req *rq, int status, json_t *body)
{
    oauth_reply_headers(rq);
    return xrpc_reply_json(rq, status, body);
}

static int fail_v(struct xrpc_req *rq, int status, const char *error, const char *fmt, va_list ap)
{
    char desc[DESC_MAX];
    vsnprintf(desc, sizeof desc, fmt, ap);
    return oauth_reply_json(rq, status,
                            json_pack("{s:s,s:s}", "error", error, "error_description", desc));
}

int oauth_fail(struct xrpc_req *rq, int status, const char *error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = fail_v(rq, status, error, fmt, ap);
    va_end(ap);
    return st;
}

const char *oauth_www_authenticate(struct xrpc_req *rq, const char *error, const char *desc)
{
    size_t n = strlen(error) + strlen(desc) + 64;
    char *h = arena_alloc(rq->arena, n);
    snprintf(h, n, "DPoP algs=\"ES256\", error=\"%s\", error_description=\"%s\"", error, desc);
    return h;
}

int oauth_fail_dpop(struct xrpc_req *rq, const char *error, const char *fmt, ...)
{
    char desc[DESC_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    for (char *p = desc; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *p = '\''; /* keep the header's quoted-string well formed */
        }
    }
    xrpc_set_header(rq, "WWW-Authenticate", oauth_www_authenticate(rq, error, desc));
    return oauth_fail(rq, 401, error, "%s", desc);
}

int oauth_read_form(struct xrpc_req *rq, struct xrpc_param **params, size_t *n)
{
    *params = NULL;
    *n = 0;
    if (!rq->content_type || strcmp(rq->content_type, "application/x-www-form-urlencoded") != 0) {
        return oauth_fail(rq, 400, "invalid_request",
                          "Content-Type must be application/x-www-form-urlencoded");
    }
    if (rq->body.len > OAUTH_FORM_BODY_MAX) {
        return oauth_fail(rq, 400, "invalid_request", "Request body is too large");
    }
    enum err e = form_parse(rq->arena, rq->body, OAUTH_FORM_PARAMS_MAX, params, n);
    if (e) {
        return oauth_fail(rq, 400, "invalid_request", "%s",
                          e == ERR_TOO_LARGE ? "Too many parameters" : "Malformed form body");
    }
    return 0;
}

const char *oauth_param(struct xrpc_req *rq, const struct xrpc_param *p, size_t n, const char *name,
                        int *st)
{
    const char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].name, name) != 0) {
            continue;
        }
        if (found && !*st) {
            *st = oauth_fail(rq, 400, "invalid_request", "Parameter \"%s\" is repeated", name);
            return NULL;
        }
        found = p[i].value;
    }
    return found && *found ? found : NULL;
}
