/* host.h - routes outside the lexicons: /, /robots.txt, /xrpc/_health, /.well-known/atproto-did,
 * and ours for running the host (/tls-check, /xrpc/_status). Handlers (basic.c, status.c) run on
 * HTTP worker threads, each using only its request's state; the route table is in routes.c. */
#ifndef PDS_API_HOST_HOST_H
#define PDS_API_HOST_HOST_H

#include "http/router.h"

extern const struct route_table api_host_routes;

int api_basic_root(struct xrpc_req *rq);        /* GET / */
int api_basic_robots(struct xrpc_req *rq);      /* GET /robots.txt */
int api_basic_health(struct xrpc_req *rq);      /* GET /xrpc/_health */
int api_basic_atproto_did(struct xrpc_req *rq); /* GET /.well-known/atproto-did */
int api_host_tls_check(struct xrpc_req *rq);    /* GET /tls-check?domain= (on-demand TLS) */
int api_host_status(struct xrpc_req *rq);       /* GET /xrpc/_status (admin) */
int api_host_rate_limits(struct xrpc_req *rq);  /* GET /xrpc/_rateLimits (admin) */
/* The rate limits' part of /xrpc/_status (limits.c): budget, use, slowed accounts,
 * refusals per limit, overload, relays. */
json_t *api_host_limits_summary(struct xrpc_req *rq);

#endif
