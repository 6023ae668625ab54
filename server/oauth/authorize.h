/* authorize.h - what the authorize page and its JSON endpoints share (authorize.c,
 * consent.c): loading the request a page names, for this browser, and sending the user back
 * to the client with a code or an error (RFC 6749 §4.1.2, with iss per RFC 9207).
 * Request-scoped; thread-safe. */
#ifndef PDS_OAUTH_AUTHORIZE_H
#define PDS_OAUTH_AUTHORIZE_H

#include <jansson.h>

#include "http/xrpc.h"
#include "oauth/client.h"
#include "oauth/request.h"

/* The redirect back to the client: its redirect_uri with code (or error and
 * error_description), state and iss, in the query or the fragment as the request asked.
 * In rq's arena. */
const char *authorize_redirect(struct xrpc_req *rq, const json_t *params, const char *code,
                               const char *error, const char *error_description);

/* Loads the open request of request_uri that this browser holds, and its client.
 * 0, or 400 set (a JSON error: InvalidRequest, ExpiredRequest) when it is gone, expired,
 * authorized already or held by another browser. */
int authorize_load(struct xrpc_req *rq, const char *request_uri, struct oauth_request *req,
                   struct oauth_client *client);

/* Gives the request to did: the scope the user granted (every value one the request asked
 * for, "atproto" among them), a code, the consent remembered. *redirect gets the URL to
 * send the browser to. 0, or the error set. */
int authorize_grant(struct xrpc_req *rq, const struct oauth_request *req, const char *did,
                    const char *scope, const char **redirect);

#endif
