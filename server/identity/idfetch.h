/* idfetch.h - the identity layer's one HTTP client call (libcurl): bounded time, bounded
 * body, http(s) only. Internal to server/identity. Thread-safe: one easy handle per call,
 * curl_global_init once per process. */
#ifndef PDS_IDENTITY_IDFETCH_H
#define PDS_IDENTITY_IDFETCH_H

#include "core/bytes.h"
#include "core/err.h"

#define IDFETCH_TIMEOUT_MS_DEFAULT 3000         /* PDS_ID_RESOLVER_TIMEOUT's default */
#define IDFETCH_BODY_MAX_BYTES     (256u << 10) /* DID documents and PLC answers are small */

struct idfetch_req {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *content_type; /* POST body type, or NULL */
    struct bytes body;        /* POST body */
    long timeout_ms;          /* whole transfer; <= 0 means IDFETCH_TIMEOUT_MS_DEFAULT */
    size_t max_bytes;         /* response cap; 0 means IDFETCH_BODY_MAX_BYTES */
    int max_redirects;        /* 0: redirects are not followed */
    bool https_only;          /* refuse plain http, also on redirects */
};

/* Performs the request. body is reset and its max set to the request's cap. On ERR_OK
 * *status is the final HTTP status (any) and body holds the response (NUL-terminated).
 * ERR_TOO_LARGE when the body passes the cap; ERR_UPSTREAM for network failures, timeouts and
 * refused URLs. */
enum err idfetch(const struct idfetch_req *rq, long *status, struct buf *body) MUST_CHECK;

#endif
