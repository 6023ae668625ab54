/* cookie.h - reading the request's Cookie header and setting cookies with the attributes
 * every cookie of ours carries (HttpOnly, SameSite, Path, Secure outside localhost).
 * Request-scoped; thread-safe. */
#ifndef PDS_WEB_COOKIE_H
#define PDS_WEB_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "http/xrpc.h"

enum web_same_site {
    WEB_SAME_SITE_LAX,    /* sign-in and device cookies: survive a top-level redirect back */
    WEB_SAME_SITE_STRICT, /* the admin console */
};

/* The value of cookie name (in rq->arena), NULL when absent. */
const char *web_cookie(struct xrpc_req *rq, const char *name);

/* Adds a Set-Cookie header: name=value; Path=path; HttpOnly; SameSite=...; Max-Age=max_age_s
 * (0: a session cookie; negative: delete it), and Secure unless the server is localhost.
 * name and value must be cookie-safe tokens (we only set base64url values). */
void web_set_cookie(struct xrpc_req *rq, const char *name, const char *value, const char *path,
                    enum web_same_site same_site, int64_t max_age_s);

#endif
