/* request_done.c - request metrics and the access log. */
#include "http/request_done.h"

#include <stdio.h>
#include <string.h>

#include "db/metrics.h"
#include "http/router.h"

struct request_metrics {
    struct metrics_family *requests, *duration;
    struct metrics_series *bytes_out;
};

/* Made on first use: the registry's own lock makes concurrent first calls agree. */
static const struct request_metrics *families(void)
{
    static struct request_metrics m;
    static _Atomic int ready;
    if (!ready) {
        static const char *const req_labels[] = {"nsid", "status"};
        static const char *const dur_labels[] = {"nsid"};
        m.requests = metrics_family("pds_http_requests_total",
                                    "HTTP requests answered, by XRPC method (or route) and status",
                                    METRICS_COUNTER, req_labels, 2, NULL, 0);
        m.duration = metrics_family(
            "pds_http_request_duration_seconds",
            "Time from a request's first byte to its response being handed over", METRICS_HISTOGRAM,
            dur_labels, 1, metrics_latency_buckets, metrics_latency_buckets_len);
        m.bytes_out = metrics_counter("pds_http_response_bytes_total",
                                      "Response body bytes of buffered (non-streamed) answers");
        ready = 1;
    }
    return &m;
}

void http_metric_name(const struct xrpc_req *rq, char out[HTTP_METRIC_NAME_MAX])
{
    const struct xrpc_route *route = rq->route;
    if (route && route == router_fallback() && rq->nsid) {
        /* proxied: the namespace only, so random names cannot each make a series */
        const char *last = strrchr(rq->nsid, '.');
        int n = last ? (int)(last - rq->nsid) : (int)strlen(rq->nsid);
        snprintf(out, HTTP_METRIC_NAME_MAX, "%.*s.*", n > 48 ? 48 : n, rq->nsid);
    } else if (route) {
        snprintf(out, HTTP_METRIC_NAME_MAX, "%s", route->name);
    } else {
        snprintf(out, HTTP_METRIC_NAME_MAX, "unmatched");
    }
}

void http_request_done(const struct xrpc_req *rq, double duration_ms, bool completed)
{
    const struct request_metrics *m = families();
    char name[HTTP_METRIC_NAME_MAX], status[8];
    http_metric_name(rq, name);
    snprintf(status, sizeof status, "%d", rq->resp.status);
    const char *req_values[] = {name, status};
    const char *dur_values[] = {name};
    metrics_inc(metrics_series(m->requests, req_values));
    metrics_observe(metrics_series(m->duration, dur_values), duration_ms / 1000.0);
    if (!rq->resp.stream) {
        metrics_add(m->bytes_out, rq->resp.body_len);
    }
    struct log_request line = {
        .request_id = rq->request_id,
        .method = rq->method,
        .path = rq->path,
        .nsid = rq->nsid,
        .did = rq->log.did,
        .client_ip = rq->client_ip,
        .status = rq->resp.status,
        .duration_ms = duration_ms,
        .cut_short = !completed,
    };
    log_request(&line);
}
