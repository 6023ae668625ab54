/* routes.c - the bsky route table: one line per NSID, sorted by name. */
#include "api/bsky/bsky.h"

#include "core/err.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"app.bsky.actor.getPreferences",           HTTP_GET,  api_actor_get_preferences,           NO_INPUT, 0, 0, NULL},
    {"app.bsky.actor.putPreferences",           HTTP_POST, api_actor_put_preferences,           JSON,     0, 0, NULL},
    /* read-after-write through the AppView (reads helper) */
    {"app.bsky.actor.getProfile",               HTTP_GET,  api_actor_get_profile,               NO_INPUT, 0, 0, NULL},
    {"app.bsky.actor.getProfiles",              HTTP_GET,  api_actor_get_profiles,              NO_INPUT, 0, 0, NULL},
    {"app.bsky.feed.getActorLikes",             HTTP_GET,  api_feed_get_actor_likes,            NO_INPUT, 0, 0, NULL},
    {"app.bsky.feed.getAuthorFeed",             HTTP_GET,  api_feed_get_author_feed,            NO_INPUT, 0, 0, NULL},
    {"app.bsky.feed.getPostThread",             HTTP_GET,  api_feed_get_post_thread,            NO_INPUT, 0, 0, NULL},
    {"app.bsky.feed.getTimeline",               HTTP_GET,  api_feed_get_timeline,               NO_INPUT, 0, 0, NULL},
};
/* clang-format on */

const struct route_table api_bsky_routes = {rows, ARRAY_LEN(rows)};
