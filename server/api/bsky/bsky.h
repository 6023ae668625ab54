/* bsky.h - app.bsky.* methods served here rather than proxied (preferences).
 * Handlers (actor_prefs.c) run on HTTP worker threads, each using only its request's state; the
 * route table is in routes.c. */
#ifndef PDS_API_BSKY_BSKY_H
#define PDS_API_BSKY_BSKY_H

#include "http/router.h"

extern const struct route_table api_bsky_routes;

int api_actor_get_preferences(struct xrpc_req *rq);
int api_actor_put_preferences(struct xrpc_req *rq);

#endif
