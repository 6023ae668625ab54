/* raw_thread.c - read-after-write for app.bsky.feed.getPostThread (the reference's
 * api/app/bsky/feed/getPostThread.ts): the requester's new replies go into the thread, and a
 * thread the AppView does not know yet (NotFound) is built from the local post itself. */
#include "api/bsky/bsky.h"
#include "api/bsky/read_after_write.h"

#include "api/common/repo_common.h"
#include "api/proxy/proxy.h"

#define PARENT_HEIGHT_MAX 32 /* digits of the parentHeight parameter passed on */

static const char *str_at(const json_t *x, const char *a, const char *b, const char *c)
{
    const json_t *y = json_object_get(x, a);
    y = b ? json_object_get(y, b) : y;
    y = c ? json_object_get(y, c) : y;
    return json_string_value(y);
}

static bool is_thread_view(const json_t *x)
{
    const char *t = json_string_value(json_object_get(x, "$type"));
    return t && strcmp(t, RAW_THREAD_VIEW) == 0;
}

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* insertIntoThreadReplies: the post goes first among the replies of its parent. */
static int insert_reply(struct raw_viewer *v, json_t *view, const struct raw_record *post)
{
    if (same(str_at(post->record, "reply", "parent", "uri"), str_at(view, "post", "uri", NULL))) {
        json_t *tv;
        if (raw_thread_post_view(v, post, &tv)) {
            return -1;
        }
        if (!tv) {
            return 0;
        }
        json_t *replies = json_object_get(view, "replies");
        if (!json_is_array(replies)) {
            replies = json_array();
            json_object_set_new(view, "replies", replies);
        }
        json_array_insert_new(replies, 0, tv);
        return 0;
    }
    size_t i;
    json_t *reply;
    json_array_foreach(json_object_get(view, "replies"), i, reply)
    {
        if (is_thread_view(reply) && insert_reply(v, reply, post)) {
            return -1;
        }
    }
    return 0;
}

/* addPostsToThread: the local posts of this thread (same root), skipping one URI. */
static int add_posts(struct raw_viewer *v, json_t *thread, const struct raw_local *l,
                     const char *skip_uri)
{
    const char *thread_uri = str_at(thread, "post", "uri", NULL);
    const json_t *trec = json_object_get(json_object_get(thread, "post"), "record");
    const char *troot = str_at(trec, "reply", "root", "uri");
    for (size_t i = 0; i < l->n_posts; i++) {
        const struct raw_record *p = &l->posts[i];
        const char *root = str_at(p->record, "reply", "root", "uri");
        if (!root || same(p->uri, skip_uri) || !(same(root, thread_uri) || same(root, troot))) {
            continue;
        }
        if (insert_reply(v, thread, p)) {
            return -1;
        }
    }
    return 0;
}

static int thread_munge(struct raw_viewer *v, json_t *body, const struct raw_local *l)
{
    json_t *thread = json_object_get(body, "thread");
    if (!is_thread_view(thread)) {
        return 0;
    }
    return add_posts(v, thread, l, NULL);
}

/* The requested URI with a local handle resolved to its DID; NULL when not the requester's. */
static const char *requested_uri(struct raw_viewer *v)
{
    const char *uri;
    if (xrpc_param_str(v->rq, "uri", false, &uri) || !uri || strncmp(uri, "at://", 5) != 0) {
        return NULL;
    }
    const char *host = uri + 5;
    size_t hn = strcspn(host, "/");
    char *ident = arena_strndup(v->rq->arena, host, hn);
    const char *did = ident;
    if (strncmp(ident, "did:", 4) != 0) {
        bool found;
        struct api_account acct;
        if (api_account_find(v->rq, ident, &found, &acct) || !found) {
            return NULL;
        }
        did = acct.did;
    }
    if (strcmp(did, v->did) != 0) {
        return NULL;
    }
    size_t n = strlen("at://") + strlen(did) + strlen(host + hn) + 1;
    char *out = arena_alloc(v->rq->arena, n);
    snprintf(out, n, "at://%s%s", did, host + hn);
    return out;
}

/* readAfterWriteNotFound: the local post as the thread, its local replies, and its parents
 * from the AppView (depth 0) when it is a reply. */
static int thread_not_found(struct raw_viewer *v, const char *rev)
{
    const char *uri = requested_uri(v);
    if (!uri) {
        return 0;
    }
    struct raw_local l;
    if (raw_local_since(v->rq, v->did, rev, &l)) {
        return 0;
    }
    const struct raw_record *found = NULL;
    for (size_t i = 0; i < l.n_posts && !found; i++) {
        found = strcmp(l.posts[i].uri, uri) == 0 ? &l.posts[i] : NULL;
    }
    json_t *thread = NULL;
    if (!found || raw_thread_post_view(v, found, &thread) || !thread ||
        add_posts(v, thread, &l, found->uri)) {
        json_decref(thread);
        raw_local_clear(&l);
        return 0;
    }
    const char *parent = str_at(found->record, "reply", "parent", "uri");
    if (parent) {
        const char *ph;
        const char *params[6] = {"uri", parent, "depth", "0", NULL, NULL};
        size_t n = 4;
        if (!xrpc_param_str(v->rq, "parentHeight", false, &ph) && ph) {
            params[4] = "parentHeight";
            params[5] = ph;
            n = 6;
        }
        struct buf b;
        buf_init(&b, RAW_BODY_MAX);
        if (api_proxy_appview_get(v->rq, v->did, "app.bsky.feed.getPostThread", params, n, &b) ==
            ERR_OK) {
            json_t *res = json_loadb(b.ptr ? (const char *)b.ptr : "", b.len, 0, NULL);
            json_t *pt = json_object_get(res, "thread");
            if (pt) {
                json_object_set(thread, "parent", pt);
            }
            json_decref(res);
        } /* else: the reference does nothing */
        buf_clear(&b);
    }
    int64_t lag = raw_local_lag_ms(&l);
    raw_local_clear(&l);
    return raw_reply(v->rq, json_pack("{s:o}", "thread", thread), lag);
}

/* app.bsky.feed.getPostThread */
int api_feed_get_post_thread(struct xrpc_req *rq)
{
    static const struct raw_method m = {thread_munge, thread_not_found};
    return raw_serve(rq, &m);
}
