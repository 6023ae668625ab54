/* cors.c - Cross-Origin Resource Sharing headers: browsers' apps call any PDS directly. */
#include "http/cors.h"

#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "core/err.h"

/* Headers browser clients send: auth (legacy and DPoP-bound), proxying and labeler choice. */
static const char allow_headers[] =
    "authorization, content-type, dpop, atproto-proxy, atproto-accept-labelers, "
    "x-bsky-topics";

/* Response headers a browser script may read: rate limits, DPoP nonce, repo rev, labelers. */
static const char expose_headers[] =
    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, Retry-After, "
    "DPoP-Nonce, WWW-Authenticate, atproto-repo-rev, atproto-content-labelers";

void cors_add(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", expose_headers);
}

void cors_add_preflight(struct MHD_Response *r, const char *requested_headers)
{
    char max_age[16];
    snprintf(max_age, sizeof max_age, "%d", CORS_MAX_AGE_S);
    MHD_add_response_header(r, "Access-Control-Allow-Methods",
                            "GET, HEAD, PUT, PATCH, POST, DELETE");
    /* Reflecting the request's list (as the reference's cors middleware does) keeps headers
     * we have not heard of from failing preflight. CR/LF were already refused by MHD. */
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            requested_headers && *requested_headers ? requested_headers
                                                                    : allow_headers);
    MHD_add_response_header(r, "Access-Control-Max-Age", max_age);
    MHD_add_response_header(r, "Vary", "Access-Control-Request-Headers");
}
