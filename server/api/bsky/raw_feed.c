/* raw_feed.c - read-after-write for feeds: app.bsky.feed.getTimeline, getAuthorFeed and
 * getActorLikes (the reference's api/app/bsky/feed munges). */
#include "api/bsky/bsky.h"
#include "api/bsky/read_after_write.h"

/* The requester's items get the author profile of the new local profile record. */
static void update_authors(struct raw_viewer *v, json_t *feed, const struct raw_local *l)
{
    if (!l->profile) {
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(feed, i, item)
    {
        json_t *author = json_object_get(json_object_get(item, "post"), "author");
        const char *did = json_string_value(json_object_get(author, "did"));
        if (json_is_object(author) && did && strcmp(did, v->did) == 0) {
            raw_update_profile_basic(v, author, l->profile->record);
        }
    }
}

static int timeline_munge(struct raw_viewer *v, json_t *body, const struct raw_local *l)
{
    return raw_insert_posts_in_feed(v, json_object_get(body, "feed"), l);
}

/* isUsersFeed: the first item is the requester's own post, or its repost. */
static bool users_feed(const json_t *feed, const char *did)
{
    const json_t *first = json_array_get(feed, 0);
    if (!first) {
        return false;
    }
    const json_t *reason = json_object_get(first, "reason");
    const char *by;
    if (!reason) {
        by = json_string_value(
            json_object_get(json_object_get(json_object_get(first, "post"), "author"), "did"));
    } else {
        const char *type = json_string_value(json_object_get(reason, "$type"));
        if (!type || strcmp(type, "app.bsky.feed.defs#reasonRepost") != 0) {
            return false;
        }
        by = json_string_value(json_object_get(json_object_get(reason, "by"), "did"));
    }
    return by && strcmp(by, did) == 0;
}

static int author_feed_munge(struct raw_viewer *v, json_t *body, const struct raw_local *l)
{
    json_t *feed = json_object_get(body, "feed");
    if (!users_feed(feed, v->did)) { /* only munge on own feed */
        return 0;
    }
    update_authors(v, feed, l);
    return raw_insert_posts_in_feed(v, feed, l);
}

static int actor_likes_munge(struct raw_viewer *v, json_t *body, const struct raw_local *l)
{
    update_authors(v, json_object_get(body, "feed"), l);
    return 0;
}

/* app.bsky.feed.getTimeline */
int api_feed_get_timeline(struct xrpc_req *rq)
{
    static const struct raw_method m = {timeline_munge, NULL};
    return raw_serve(rq, &m);
}

/* app.bsky.feed.getAuthorFeed */
int api_feed_get_author_feed(struct xrpc_req *rq)
{
    static const struct raw_method m = {author_feed_munge, NULL};
    return raw_serve(rq, &m);
}

/* app.bsky.feed.getActorLikes */
int api_feed_get_actor_likes(struct xrpc_req *rq)
{
    static const struct raw_method m = {actor_likes_munge, NULL};
    return raw_serve(rq, &m);
}
