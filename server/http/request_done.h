/* request_done.h - what the server does when a request ends: counts it in the request
 * metrics (db/metrics.h: requests by method name and status, latency histogram, bytes out)
 * and writes its access-log line (db/log.h log_request). One call from the completion path
 * of http/server.c. Thread-safe: atomic counters, one write(2). */
#ifndef PDS_HTTP_REQUEST_DONE_H
#define PDS_HTTP_REQUEST_DONE_H

#include <stdbool.h>

#include "http/xrpc.h"

#define HTTP_METRIC_NAME_MAX 64 /* bytes of an NSID or route name used as a label */

/* rq has finished (completed: its response was sent whole) after duration_ms. */
void http_request_done(const struct xrpc_req *rq, double duration_ms, bool completed);

/* The label a request is counted under: its NSID when a route serves it, the namespace of
 * a proxied NSID ("app.bsky.feed.*"), the name of its path route ("/static/"), or
 * "unmatched". Written into out (HTTP_METRIC_NAME_MAX bytes). Pure. */
void http_metric_name(const struct xrpc_req *rq, char out[HTTP_METRIC_NAME_MAX]);

#endif
