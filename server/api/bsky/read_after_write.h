/* read_after_write.h - the reference's read-after-write (packages/pds/src/read-after-write):
 * for a few AppView reads, the account's own records written after the revision the AppView
 * says it has seen (its `atproto-repo-rev` answer header) are merged into the answer, so a
 * user sees a post or a profile change at once while the AppView lags. The driver
 * (read_after_write.c) forwards the call, reads the local records and hands the parsed answer
 * to a method's munge; the local viewer (raw_viewer.c) builds the views the munges insert.
 * Methods: raw_feed.c (getTimeline, getAuthorFeed, getActorLikes), raw_thread.c
 * (getPostThread), raw_profile.c (getProfile, getProfiles). Request-scoped; thread-safe. */
#ifndef PDS_API_BSKY_READ_AFTER_WRITE_H
#define PDS_API_BSKY_READ_AFTER_WRITE_H

#include "http/xrpc.h"

#define RAW_LOCAL_MAX   10                 /* records read since the rev: the reference's limit */
#define RAW_BODY_MAX    ((size_t)10 << 20) /* largest upstream answer buffered to be merged */
#define RAW_TIME_MAX    32                 /* "2026-01-01T00:00:00.000Z" */
#define RAW_PROFILE     "app.bsky.actor.profile"
#define RAW_POST        "app.bsky.feed.post"
#define RAW_THREAD_VIEW "app.bsky.feed.defs#threadViewPost"

/* One of the account's records written since the rev (the reference's RecordDescript). */
struct raw_record {
    const char *uri, *cid;         /* arena strings */
    char indexed_at[RAW_TIME_MAX]; /* when this server stored it, ISO 8601 UTC with ms */
    int64_t indexed_ms;            /* the same, Unix ms */
    json_t *record;                /* its value as JSON; owned by the raw_local */
};

/* The reference's LocalRecords: how many records were written since the rev (any
 * collection), the profile among them and the posts, oldest first. */
struct raw_local {
    size_t count;
    struct raw_record *profile; /* NULL when the profile was not written since the rev */
    struct raw_record posts[RAW_LOCAL_MAX];
    size_t n_posts;
    struct raw_record profile_rec;
};

void raw_local_clear(struct raw_local *l);
/* Reads the records of did written after rev (at most RAW_LOCAL_MAX, oldest first); none at
 * all when the account has no record at or before rev (the reference's sanity check: a rev
 * from before every local record, as after a migration, says nothing). */
enum err raw_local_since(struct xrpc_req *rq, const char *did, const char *rev,
                         struct raw_local *out) MUST_CHECK;
/* Milliseconds since the oldest local record (the Atproto-Upstream-Lag header), -1: none. */
int64_t raw_local_lag_ms(const struct raw_local *l);

/* The reference's LocalViewer for the requesting account. */
struct raw_viewer {
    struct xrpc_req *rq;
    const char *did;
    bool loaded;        /* account and profile read */
    bool exists;        /* the account row is there */
    const char *handle; /* or "handle.invalid" */
    json_t *profile;    /* its current profile record, or NULL; owned */
};

void raw_viewer_init(struct raw_viewer *v, struct xrpc_req *rq, const char *did);
void raw_viewer_clear(struct raw_viewer *v);
/* ImageUrlBuilder: PDS_BSKY_APP_VIEW_CDN_URL_PATTERN formatted with (pattern, did, cid) as
 * node's util.format does, else this host's sync.getBlob URL. An arena string. */
const char *raw_image_url(struct raw_viewer *v, const char *pattern, const char *cid);
/* An app.bsky.feed.defs#postView of a local post (counts 0, the local author) in *out (a new
 * reference), NULL when the account is gone. -1 when an AppView call for an embedded record
 * failed (the reference's munge then fails and the answer goes out unchanged). */
int raw_post_view(struct raw_viewer *v, const struct raw_record *post, json_t **out);
/* A #threadViewPost holding raw_post_view; as raw_post_view. */
int raw_thread_post_view(struct raw_viewer *v, const struct raw_record *post, json_t **out);
/* updateProfileViewBasic / updateProfileView / updateProfileDetailed: a profile view's
 * displayName and avatar (and description; and banner) set from a profile record, or removed
 * when the record has none. In place. */
void raw_update_profile_basic(struct raw_viewer *v, json_t *view, const json_t *record);
void raw_update_profile_view(struct raw_viewer *v, json_t *view, const json_t *record);
void raw_update_profile_detailed(struct raw_viewer *v, json_t *view, const json_t *record);
/* formatAndInsertPostsInFeed: the local posts newer than the feed's last item, inserted by
 * indexedAt as {post} items. In place; -1 as raw_post_view. */
int raw_insert_posts_in_feed(struct raw_viewer *v, json_t *feed, const struct raw_local *l);

/* A method: munge changes the parsed answer in place (0), or fails (-1: the answer goes
 * out unchanged). not_found, when set, may answer an upstream NotFound error that carries a
 * rev itself: it returns the status it set, or 0 to pass the error on. */
struct raw_method {
    int (*munge)(struct raw_viewer *v, json_t *body, const struct raw_local *l);
    int (*not_found)(struct raw_viewer *v, const char *rev);
};

/* The handler of a read-after-write method: without an AppView the plain proxy (the
 * reference registers these only with one); else access auth, the forwarded call, and the
 * merge when the answer is JSON with an atproto-repo-rev and local records are newer. */
int raw_serve(struct xrpc_req *rq, const struct raw_method *m);
/* A munged answer: 200 JSON with Atproto-Upstream-Lag when lag_ms >= 0 (as the reference's
 * formatMungedResponse, which sends no other upstream header). Takes body. */
int raw_reply(struct xrpc_req *rq, json_t *body, int64_t lag_ms);

#endif
