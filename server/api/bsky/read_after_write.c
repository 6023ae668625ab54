/* read_after_write.c - the driver of read-after-write (the reference's
 * read-after-write/util.ts pipethroughReadAfterWrite) and the local records since a rev
 * (actor-store/record/reader.ts getRecordsSinceRev). */
#include "api/bsky/read_after_write.h"

#include <stdlib.h>
#include <strings.h>

#include "api/common/app.h"
#include "api/common/auth.h"
#include "api/common/repo_common.h"
#include "api/proxy/proxy.h"
#include "config/config.h"
#include "core/ipldjson.h"
#include "core/lexicon.h"
#include "core/tid.h"

/* ---- the local records ---- */

void raw_local_clear(struct raw_local *l)
{
    for (size_t i = 0; i < l->n_posts; i++) {
        json_decref(l->posts[i].record);
    }
    if (l->profile) {
        json_decref(l->profile->record);
    }
    memset(l, 0, sizeof(*l));
}

enum err raw_local_since(struct xrpc_req *rq, const char *did, const char *rev,
                         struct raw_local *out)
{
    memset(out, 0, sizeof(*out));
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, rev);
    db_param_i64(&p, RAW_LOCAL_MAX);
    PGresult *r;
    enum err e = db_query_in(
        rq->db, rq->arena,
        "SELECT r.collection, r.rkey, r.cid, b.data,"
        " to_char(r.indexed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        " (extract(epoch FROM r.indexed_at) * 1000)::bigint"
        " FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid"
        " WHERE r.did = $1 AND r.rev > $2 ORDER BY r.rev ASC LIMIT $3",
        &p, &r);
    if (e || PQntuples(r) == 0) {
        return e;
    }
    /* the reference's sanity check: a rev older than every local record (a repository
     * imported after a migration) says nothing about what the AppView has seen */
    PGresult *sane;
    struct db_params q;
    db_params_init(&q);
    db_param_text(&q, did);
    db_param_text(&q, rev);
    if ((e = db_query_in(rq->db, rq->arena,
                         "SELECT 1 FROM record WHERE did = $1 AND rev <= $2 LIMIT 1", &q, &sane))) {
        return e;
    }
    if (PQntuples(sane) == 0) {
        return ERR_OK;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        out->count++;
        const char *coll = db_col_text(r, i, 0), *rkey = db_col_text(r, i, 1);
        bool profile = strcmp(coll, RAW_PROFILE) == 0 && strcmp(rkey, "self") == 0;
        if (!profile && strcmp(coll, RAW_POST) != 0) {
            continue;
        }
        struct raw_record *rec = profile ? &out->profile_rec : &out->posts[out->n_posts];
        struct cid c;
        json_t *value = api_record_json(rq->arena, db_col_bytes(r, i, 3));
        if (!value || cid_from_bytes(db_col_bytes(r, i, 2), &c)) {
            json_decref(value);
            raw_local_clear(out);
            return ERR_INTERNAL;
        }
        if (profile && out->profile) {
            json_decref(out->profile->record); /* one profile row: cannot happen twice */
        }
        char cs[CID_STR_MAX];
        cid_format(&c, cs);
        rec->cid = arena_strndup(rq->arena, cs, strlen(cs));
        size_t n = strlen("at:///") + strlen(did) + strlen(coll) + 1 + strlen(rkey) + 1;
        char *uri = arena_alloc(rq->arena, n);
        snprintf(uri, n, "at://%s/%s/%s", did, coll, rkey);
        rec->uri = uri;
        snprintf(rec->indexed_at, sizeof(rec->indexed_at), "%s", db_col_text(r, i, 4));
        rec->indexed_ms = db_col_i64(r, i, 5);
        rec->record = value;
        if (profile) {
            out->profile = rec;
        } else {
            out->n_posts++;
        }
    }
    return ERR_OK;
}

int64_t raw_local_lag_ms(const struct raw_local *l)
{
    int64_t oldest = l->profile ? l->profile->indexed_ms : -1;
    for (size_t i = 0; i < l->n_posts; i++) {
        if (oldest < 0 || l->posts[i].indexed_ms < oldest) {
            oldest = l->posts[i].indexed_ms;
        }
    }
    if (oldest < 0) {
        return -1;
    }
    int64_t now = (int64_t)(tid_now_us() / 1000);
    return now > oldest ? now - oldest : 0;
}

/* ---- the driver ---- */

int raw_reply(struct xrpc_req *rq, json_t *body, int64_t lag_ms)
{
    if (lag_ms >= 0) {
        char lag[24];
        snprintf(lag, sizeof lag, "%lld", (long long)lag_ms);
        xrpc_set_header(rq, "Atproto-Upstream-Lag", lag);
    }
    return xrpc_reply_json(rq, 200, body);
}

/* The reference's isJsonContentType: /application\/(?:\w+\+)?json/i. */
static bool is_json_type(const char *ct)
{
    const char *a = strcasestr(ct, "application/");
    if (!a) {
        return false;
    }
    const char *t = a + strlen("application/");
    const char *plus = t;
    while ((*plus >= 'a' && *plus <= 'z') || (*plus >= 'A' && *plus <= 'Z') ||
           (*plus >= '0' && *plus <= '9') || *plus == '_') {
        plus++;
    }
    if (*plus == '+' && plus > t) {
        t = plus + 1;
    }
    return strncasecmp(t, "json", 4) == 0;
}

/* The answer checked (leniently) against the method's output schema before it is touched,
 * as the reference does (method.output.schema.safeValidate(…, { strict: false })). */
static bool output_valid(struct xrpc_req *rq, struct bytes text)
{
    const struct lexicon_catalog *lex = app_get()->lexicons;
    const struct lexicon_def *def = lex ? lexicon_catalog_lookup(lex, bytes_str(rq->nsid)) : NULL;
    if (!def || def->schema->type != LEXICON_QUERY || !def->schema->u.xrpc.output.schema) {
        return false;
    }
    struct dm_value *v;
    char msg[LEXICON_MSG_MAX] = "";
    enum err e = ipldjson_parse(text, rq->arena, &v);
    if (!e) {
        e = lexicon_validate_schema(lex, def->schema->u.xrpc.output.schema, v, "output", msg);
    }
    if (e) {
        log_warn(&rq->log, "read-after-write: upstream answer not merged: %s",
                 *msg ? msg : err_str(e));
    }
    return e == ERR_OK;
}

/* A successful upstream answer with a rev: merged when local records are newer. */
static int merge(struct xrpc_req *rq, const struct raw_method *m, const char *did,
                 struct proxy_call *c, const char *rev)
{
    struct raw_local local;
    enum err e = raw_local_since(rq, did, rev, &local);
    if (e) {
        log_warn(&rq->log, "read-after-write: local records unreadable: %s", err_str(e));
        return api_proxy_call_reply(rq, c);
    }
    if (local.count == 0) {
        return api_proxy_call_reply(rq, c); /* streamed as it came */
    }
    size_t max = RAW_BODY_MAX;
    if (rq->cfg->proxy_max_response_size > 0 && (size_t)rq->cfg->proxy_max_response_size < max) {
        max = (size_t)rq->cfg->proxy_max_response_size;
    }
    struct buf body;
    buf_init(&body, max);
    if ((e = api_proxy_call_body(c, &body))) {
        buf_clear(&body);
        api_proxy_call_free(c);
        raw_local_clear(&local);
        return xrpc_fail(rq, 502, "UpstreamFailure",
                         e == ERR_TOO_LARGE ? "Upstream response too large"
                                            : "unable to decode request body");
    }
    json_t *j = NULL;
    if (output_valid(rq, buf_bytes(&body))) {
        j = json_loadb(body.ptr ? (const char *)body.ptr : "", body.len, 0, NULL);
    }
    struct raw_viewer v;
    raw_viewer_init(&v, rq, did);
    int st;
    if (j && m->munge(&v, j, &local) == 0) {
        api_proxy_call_free(c);
        buf_clear(&body);
        st = raw_reply(rq, j, raw_local_lag_ms(&local));
    } else {
        json_decref(j);
        st = api_proxy_call_reply_buffered(rq, c, &body); /* as it came, decoded */
        buf_clear(&body);
    }
    raw_viewer_clear(&v);
    raw_local_clear(&local);
    return st;
}

int raw_serve(struct xrpc_req *rq, const struct raw_method *m)
{
    if (!rq->cfg->bsky_app_view_url || !rq->cfg->bsky_app_view_did) {
        return api_proxy(rq);
    }
    if (!rq->db) {
        rq->db = db_thread();
    }
    const struct auth *a;
    /* the proxy's own check: an OAuth token needs rpc:<method> for the AppView (scopes) */
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH, &a);
    if (st || (st = api_proxy_permit(rq, a, rq->nsid))) {
        return st;
    }
    struct proxy_call *c;
    if ((st = api_proxy_open(rq, a->did, &c))) {
        return st;
    }
    const char *rev = api_proxy_call_header(c, "atproto-repo-rev");
    if (api_proxy_call_status(c) >= 400) {
        /* getPostThread of a post the AppView has not seen yet */
        const char *name = m->not_found && rev ? api_proxy_call_error_name(c) : NULL;
        if (name && strcmp(name, "NotFound") == 0) {
            struct raw_viewer v;
            raw_viewer_init(&v, rq, a->did);
            char *rev_copy = arena_strndup(rq->arena, rev, strlen(rev));
            st = m->not_found(&v, rev_copy);
            raw_viewer_clear(&v);
            if (st) {
                api_proxy_call_free(c);
                return st;
            }
        }
        return api_proxy_call_reply(rq, c);
    }
    const char *ct = api_proxy_call_header(c, "content-type");
    const char *ce = api_proxy_call_header(c, "content-encoding");
    if (!rev || (ct && !is_json_type(ct)) || (ce && strcasecmp(ce, "identity") != 0)) {
        return api_proxy_call_reply(rq, c);
    }
    return merge(rq, m, a->did, c, arena_strndup(rq->arena, rev, strlen(rev)));
}
