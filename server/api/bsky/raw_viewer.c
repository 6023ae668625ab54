/* raw_viewer.c - the local viewer of read-after-write (the reference's
 * read-after-write/viewer.ts LocalViewer): views of the requester's own new posts and profile
 * in the shapes the AppView answers with, built from this server's records. */
#include "api/bsky/read_after_write.h"

#include <stdlib.h>

#include "api/common/repo_common.h"
#include "api/proxy/proxy.h"
#include "config/config.h"

#define RAW_URL_MAX ((size_t)4096)

void raw_viewer_init(struct raw_viewer *v, struct xrpc_req *rq, const char *did)
{
    memset(v, 0, sizeof(*v));
    v->rq = rq;
    v->did = did;
}

void raw_viewer_clear(struct raw_viewer *v)
{
    json_decref(v->profile);
    memset(v, 0, sizeof(*v));
}

/* The account's handle and current profile record, once. */
static void load(struct raw_viewer *v)
{
    if (v->loaded) {
        return;
    }
    v->loaded = true;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, v->did);
    PGresult *r;
    if (db_query_in(v->rq->db, v->rq->arena,
                    "SELECT a.handle, (SELECT b.data FROM record r JOIN repo_block b"
                    "   ON b.did = r.did AND b.cid = r.cid WHERE r.did = a.did"
                    "   AND r.collection = 'app.bsky.actor.profile' AND r.rkey = 'self')"
                    " FROM account a WHERE a.did = $1",
                    &p, &r) ||
        PQntuples(r) == 0) {
        return;
    }
    v->exists = true;
    v->handle = db_col_text(r, 0, 0) ? db_col_text(r, 0, 0) : "handle.invalid";
    if (!PQgetisnull(r, 0, 1)) {
        v->profile = api_record_json(v->rq->arena, db_col_bytes(r, 0, 1));
    }
}

/* node's util.format(pattern, a, b, c) for %s and %%; arguments left over are appended,
 * each after a space, as util.format does. */
static const char *format3(struct arena *a, const char *fmt, const char *args[3])
{
    struct buf b;
    buf_init(&b, RAW_URL_MAX);
    size_t used = 0;
    enum err e = ERR_OK; /* past RAW_URL_MAX the URL is cut: an operator's pattern, not input */
    for (const char *p = fmt; *p && !e; p++) {
        if (p[0] == '%' && p[1] == 's' && used < 3) {
            e = buf_append_str(&b, args[used++]);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            e = buf_append_byte(&b, '%');
            p++;
        } else {
            e = buf_append_byte(&b, (uint8_t)*p);
        }
    }
    for (; used < 3 && !e; used++) {
        if (!(e = buf_append_byte(&b, ' '))) {
            e = buf_append_str(&b, args[used]);
        }
    }
    const char *out = arena_strndup(a, b.ptr ? (const char *)b.ptr : "", b.len);
    buf_clear(&b);
    return out;
}

const char *raw_image_url(struct raw_viewer *v, const char *pattern, const char *cid)
{
    const struct config *cfg = v->rq->cfg;
    if (cfg->bsky_app_view_cdn_url_pattern) {
        const char *args[3] = {pattern, v->did, cid};
        return format3(v->rq->arena, cfg->bsky_app_view_cdn_url_pattern, args);
    }
    size_t n = strlen(cfg->hostname) + strlen(v->did) + strlen(cid) + 64;
    char *s = arena_alloc(v->rq->arena, n);
    snprintf(s, n, "https://%s/xrpc/com.atproto.sync.getBlob?did=%s&cid=%s", cfg->hostname, v->did,
             cid);
    return s;
}

/* getBlobCidString: a blob's CID, typed ({ref: {$link}}) or legacy ({cid}); NULL if not. */
static const char *blob_cid(const json_t *blob)
{
    const char *s = json_string_value(json_object_get(json_object_get(blob, "ref"), "$link"));
    return s ? s : json_string_value(json_object_get(blob, "cid"));
}

/* view[key] = the image URL of record[field], or no key when the record has none. */
static void set_image(struct raw_viewer *v, json_t *view, const char *key, const json_t *record,
                      const char *field, const char *pattern)
{
    const char *cid = blob_cid(json_object_get(record, field));
    if (cid) {
        json_object_set_new(view, key, json_string(raw_image_url(v, pattern, cid)));
    } else {
        json_object_del(view, key);
    }
}

/* view[key] = record[key] (a copy), or no key. */
static void set_copy(json_t *view, const json_t *record, const char *key)
{
    json_t *x = json_object_get(record, key);
    if (x) {
        json_object_set_new(view, key, json_deep_copy(x));
    } else {
        json_object_del(view, key);
    }
}

void raw_update_profile_basic(struct raw_viewer *v, json_t *view, const json_t *record)
{
    set_copy(view, record, "displayName");
    set_image(v, view, "avatar", record, "avatar", "avatar");
}

void raw_update_profile_view(struct raw_viewer *v, json_t *view, const json_t *record)
{
    raw_update_profile_basic(v, view, record);
    set_copy(view, record, "description");
}

void raw_update_profile_detailed(struct raw_viewer *v, json_t *view, const json_t *record)
{
    raw_update_profile_view(v, view, record);
    set_image(v, view, "banner", record, "banner", "banner");
}

/* getProfileBasic: the requester as a #profileViewBasic, or NULL when the account is gone. */
static json_t *profile_basic(struct raw_viewer *v)
{
    load(v);
    if (!v->exists) {
        return NULL;
    }
    json_t *out = json_pack("{s:s,s:s}", "did", v->did, "handle", v->handle);
    if (v->profile) {
        set_copy(out, v->profile, "displayName");
        set_image(v, out, "avatar", v->profile, "avatar", "avatar");
    }
    return out;
}

/* ---- embeds ---- */

static bool has_type(const json_t *x, const char *type)
{
    const char *t = json_string_value(json_object_get(x, "$type"));
    return t && strcmp(t, type) == 0;
}

static json_t *image_embed(struct raw_viewer *v, const json_t *embed)
{
    json_t *images = json_array();
    size_t i;
    json_t *img;
    json_array_foreach(json_object_get(embed, "images"), i, img)
    {
        const char *cid = blob_cid(json_object_get(img, "image"));
        json_t *view = json_object();
        if (cid) {
            json_object_set_new(view, "thumb",
                                json_string(raw_image_url(v, "feed_thumbnail", cid)));
            json_object_set_new(view, "fullsize",
                                json_string(raw_image_url(v, "feed_fullsize", cid)));
        }
        set_copy(view, img, "aspectRatio");
        set_copy(view, img, "alt");
        json_array_append_new(images, view);
    }
    return json_pack("{s:s,s:o}", "$type", "app.bsky.embed.images#view", "images", images);
}

static json_t *external_embed(struct raw_viewer *v, const json_t *embed)
{
    const json_t *ext = json_object_get(embed, "external");
    json_t *view = json_object();
    set_copy(view, ext, "uri");
    set_copy(view, ext, "title");
    set_copy(view, ext, "description");
    const char *cid = blob_cid(json_object_get(ext, "thumb"));
    if (cid) {
        json_object_set_new(view, "thumb", json_string(raw_image_url(v, "feed_thumbnail", cid)));
    }
    return json_pack("{s:s,s:o}", "$type", "app.bsky.embed.external#view", "external", view);
}

/* One AppView query's JSON answer; -1 when it failed (the reference's call throws). */
static int appview(struct raw_viewer *v, const char *nsid, const char *name, const char *value,
                   json_t **out)
{
    const char *params[2] = {name, value};
    struct buf b;
    buf_init(&b, RAW_BODY_MAX);
    enum err e = api_proxy_appview_get(v->rq, v->did, nsid, params, 2, &b);
    *out = e ? NULL : json_loadb(b.ptr ? (const char *)b.ptr : "", b.len, 0, NULL);
    buf_clear(&b);
    return *out ? 0 : -1;
}

/* The collection of an at:// URI (the segment after the authority), in buf. */
static const char *uri_collection(const char *uri, char *buf, size_t n)
{
    const char *p = strncmp(uri, "at://", 5) == 0 ? strchr(uri + 5, '/') : NULL;
    if (!p) {
        return "";
    }
    p++;
    size_t len = strcspn(p, "/");
    snprintf(buf, n, "%.*s", (int)len, p);
    return buf;
}

/* formatRecordEmbedInternal: the embedded record's view from the AppView, NULL when the
 * reference has none for it; -1 when the AppView failed. */
static int record_view(struct raw_viewer *v, const char *uri, json_t **out)
{
    *out = NULL;
    char coll[256];
    uri_collection(uri, coll, sizeof coll);
    json_t *data;
    if (strcmp(coll, RAW_POST) == 0) {
        if (appview(v, "app.bsky.feed.getPosts", "uris", uri, &data)) {
            return -1;
        }
        json_t *post = json_array_get(json_object_get(data, "posts"), 0);
        if (post) {
            json_t *view = json_pack("{s:s}", "$type", "app.bsky.embed.record#viewRecord");
            static const char *const same[] = {"uri", "cid", "author", "labels", "indexedAt"};
            for (size_t i = 0; i < ARRAY_LEN(same); i++) {
                set_copy(view, post, same[i]);
            }
            json_object_set(view, "value", json_object_get(post, "record"));
            json_t *embed = json_object_get(post, "embed");
            if (embed) {
                json_object_set_new(view, "embeds", json_pack("[O]", embed));
            }
            *out = view;
        }
    } else if (strcmp(coll, "app.bsky.feed.generator") == 0 ||
               strcmp(coll, "app.bsky.graph.list") == 0) {
        bool gen = coll[strlen("app.bsky.")] == 'f';
        if (appview(v, gen ? "app.bsky.feed.getFeedGenerator" : "app.bsky.graph.getList",
                    gen ? "feed" : "list", uri, &data)) {
            return -1;
        }
        json_t *view = json_object_get(data, gen ? "view" : "list");
        if (json_is_object(view)) {
            *out = json_deep_copy(view);
            json_object_set_new(*out, "$type",
                                json_string(gen ? "app.bsky.feed.defs#generatorView"
                                                : "app.bsky.graph.defs#listView"));
        }
    } else {
        return 0;
    }
    json_decref(data);
    return 0;
}

/* formatRecordEmbed: {$type: record#view, record: view or #viewNotFound}; -1: failed. */
static int record_embed(struct raw_viewer *v, const json_t *embed, json_t **out)
{
    const char *uri = json_string_value(json_object_get(json_object_get(embed, "record"), "uri"));
    json_t *view = NULL;
    if (uri && record_view(v, uri, &view)) {
        return -1;
    }
    if (!view) {
        view = json_pack("{s:s,s:s,s:b}", "$type", "app.bsky.embed.record#viewNotFound", "uri",
                         uri ? uri : "", "notFound", 1);
    }
    *out = json_pack("{s:s,s:o}", "$type", "app.bsky.embed.record#view", "record", view);
    return 0;
}

/* formatPostEmbed: the view of a post's embed, NULL for none or a kind it does not view. */
static int post_embed(struct raw_viewer *v, const json_t *record, json_t **out)
{
    const json_t *embed = json_object_get(record, "embed");
    *out = NULL;
    if (has_type(embed, "app.bsky.embed.images")) {
        *out = image_embed(v, embed);
    } else if (has_type(embed, "app.bsky.embed.external")) {
        *out = external_embed(v, embed);
    } else if (has_type(embed, "app.bsky.embed.record")) {
        return record_embed(v, embed, out);
    } else if (has_type(embed, "app.bsky.embed.recordWithMedia")) {
        const json_t *media = json_object_get(embed, "media");
        json_t *m = has_type(media, "app.bsky.embed.images")     ? image_embed(v, media)
                    : has_type(media, "app.bsky.embed.external") ? external_embed(v, media)
                                                                 : NULL;
        json_t *rec;
        if (!m) {
            return 0;
        }
        if (record_embed(v, json_object_get(embed, "record"), &rec)) {
            json_decref(m);
            return -1;
        }
        *out = json_pack("{s:s,s:o,s:o}", "$type", "app.bsky.embed.recordWithMedia#view", "record",
                         rec, "media", m);
    }
    return 0;
}

/* ---- posts ---- */

int raw_post_view(struct raw_viewer *v, const struct raw_record *post, json_t **out)
{
    *out = NULL;
    json_t *author = profile_basic(v);
    if (!author) {
        return 0;
    }
    json_t *embed;
    if (post_embed(v, post->record, &embed)) {
        json_decref(author);
        return -1;
    }
    /* counts presumed to be 0 directly after post creation (the reference's comment) */
    *out = json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:o,s:O,s:s}", "uri", post->uri, "cid", post->cid,
                     "likeCount", 0, "replyCount", 0, "repostCount", 0, "quoteCount", 0, "author",
                     author, "record", post->record, "indexedAt", post->indexed_at);
    if (embed) {
        json_object_set_new(*out, "embed", embed);
    }
    return 0;
}

int raw_thread_post_view(struct raw_viewer *v, const struct raw_record *post, json_t **out)
{
    json_t *pv;
    *out = NULL;
    if (raw_post_view(v, post, &pv)) {
        return -1;
    }
    if (pv) {
        *out = json_pack("{s:s,s:o}", "$type", RAW_THREAD_VIEW, "post", pv);
    }
    return 0;
}

static const char *item_indexed_at(const json_t *item)
{
    return json_string_value(json_object_get(json_object_get(item, "post"), "indexedAt"));
}

int raw_insert_posts_in_feed(struct raw_viewer *v, json_t *feed, const struct raw_local *l)
{
    if (l->n_posts == 0 || !json_is_array(feed)) {
        return 0;
    }
    size_t n = json_array_size(feed);
    const char *last = n ? item_indexed_at(json_array_get(feed, n - 1)) : NULL;
    if (!last) {
        last = "1970-01-01T00:00:00.000Z"; /* new Date(0).toISOString() */
    }
    /* newest to oldest, only those newer than the feed's last item */
    for (size_t k = l->n_posts; k-- > 0;) {
        const struct raw_record *p = &l->posts[k];
        if (strcmp(p->indexed_at, last) <= 0) {
            continue;
        }
        json_t *pv;
        if (raw_post_view(v, p, &pv)) {
            return -1;
        }
        if (!pv) {
            continue;
        }
        json_t *item = json_pack("{s:o}", "post", pv);
        size_t idx = json_array_size(feed);
        for (size_t i = 0; i < json_array_size(feed); i++) {
            const char *at = item_indexed_at(json_array_get(feed, i));
            if (at && strcmp(at, p->indexed_at) < 0) {
                idx = i;
                break;
            }
        }
        json_array_insert_new(feed, idx, item);
    }
    return 0;
}
