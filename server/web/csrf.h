/* csrf.h - the device cookie and CSRF tokens bound to it. Every browser that loads one of
 * our pages gets a random device id (cookie "pds-device", HttpOnly, SameSite=Lax, two years);
 * a page's CSRF token is HMAC(web key, device id), so it needs no storage, holds across
 * processes, and is useless in another browser. A state-changing request must carry the
 * token (header X-CSRF-Token, or form field csrf_token) and must not come from another
 * site (Origin and Sec-Fetch-Site are checked when the browser sends them).
 * Request-scoped; thread-safe once web_init has run. */
#ifndef PDS_WEB_CSRF_H
#define PDS_WEB_CSRF_H

#include <stdbool.h>

#include "http/xrpc.h"

#define WEB_DEVICE_COOKIE  "pds-device"
#define WEB_DEVICE_ID_LEN  43 /* base64url of 32 random bytes */
#define WEB_CSRF_TOKEN_LEN 43 /* base64url of an HMAC-SHA256 */
#define WEB_CSRF_HEADER    "x-csrf-token"
#define WEB_CSRF_FIELD     "csrf_token"

/* The request's device id (in rq->arena), NULL when it sent none (or a malformed one) and
 * create is false. With create, a missing id is made and its cookie set on the response. */
const char *web_device_id(struct xrpc_req *rq, bool create);

/* The CSRF token for device id: WEB_CSRF_TOKEN_LEN characters and a NUL. */
void web_csrf_token(const char *device_id, char out[WEB_CSRF_TOKEN_LEN + 1]);

/* Whether the request may change state: the device cookie is present, sent (the form
 * field's value; NULL: the X-CSRF-Token header) equals its token (constant-time), and
 * neither Origin nor Sec-Fetch-Site says it comes from another site. */
bool web_csrf_valid(struct xrpc_req *rq, const char *sent);

/* 0 when web_csrf_valid, else sets 403 {"error":"InvalidCsrfToken"} and returns 403. */
int web_csrf_require(struct xrpc_req *rq, const char *sent);

#endif
