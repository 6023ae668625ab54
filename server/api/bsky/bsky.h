/* bsky.h - app.bsky.* methods served here rather than only proxied (preferences, and the
 * AppView reads merged with the account's newest records).
 * Handlers (actor_prefs.c) run on HTTP worker threads, each using only its request's state; the
 * route table is in routes.c. */
#ifndef PDS_API_BSKY_BSKY_H
#define PDS_API_BSKY_BSKY_H

#include "http/router.h"

extern const struct route_table api_bsky_routes;

int api_actor_get_preferences(struct xrpc_req *rq);
int api_actor_put_preferences(struct xrpc_req *rq);

/* Read-after-write through the AppView (read_after_write.h): raw_profile.c, raw_feed.c,
 * raw_thread.c. */
int api_actor_get_profile(struct xrpc_req *rq);
int api_actor_get_profiles(struct xrpc_req *rq);
int api_feed_get_actor_likes(struct xrpc_req *rq);
int api_feed_get_author_feed(struct xrpc_req *rq);
int api_feed_get_post_thread(struct xrpc_req *rq);
int api_feed_get_timeline(struct xrpc_req *rq);

#endif
