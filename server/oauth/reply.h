/* reply.h - answers of the authorization server's endpoints: the headers every one carries
 * (Cache-Control: no-store and Pragma: no-cache per RFC 6749 §5.1, a fresh DPoP-Nonce per
 * RFC 9449 §8.2; CORS comes from the HTTP layer), JSON bodies, and OAuth errors
 * {"error", "error_description"} in the statuses the RFCs give: 400 for most, 401 with
 * WWW-Authenticate for DPoP and token errors. Request-scoped; thread-safe. */
#ifndef PDS_OAUTH_REPLY_H
#define PDS_OAUTH_REPLY_H

#include <jansson.h>

#include "http/xrpc.h"

/* Sets the common headers; each oauth_reply_* / oauth_fail* calls it. */
void oauth_reply_headers(struct xrpc_req *rq);

/* JSON answer; steals body. */
int oauth_reply_json(struct xrpc_req *rq, int status, json_t *body);

/* {"error": error, "error_description": printf(fmt...)} with status. */
int oauth_fail(struct xrpc_req *rq, int status, const char *error, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* 401 with WWW-Authenticate: DPoP algs="ES256", error="<error>",
 * error_description="<desc>" (RFC 9449 §7.1, RFC 6750 §3) and the same JSON body. */
int oauth_fail_dpop(struct xrpc_req *rq, const char *error, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* The WWW-Authenticate value for a DPoP error (for the resource server's XRPC errors). The
 * description must not hold a double quote (ours never do). In rq's arena. */
const char *oauth_www_authenticate(struct xrpc_req *rq, const char *error, const char *desc);

/* Parses an application/x-www-form-urlencoded body (PAR, token, revoke) into *params.
 * 0, or 400 invalid_request set (also for a body of another type: JSON is not accepted,
 * clients send forms). */
int oauth_read_form(struct xrpc_req *rq, struct xrpc_param **params, size_t *n);

/* The first value of name; a parameter given twice is 400 invalid_request (RFC 6749 §3.1:
 * "parameters MUST NOT be included more than once"), reported through *st. NULL when
 * absent (an empty value counts as absent). */
const char *oauth_param(struct xrpc_req *rq, const struct xrpc_param *p, size_t n, const char *name,
                        int *st);

#endif
