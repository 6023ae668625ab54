/* client_fetch.c - client metadata and JWKS over HTTPS, cached in PostgreSQL. */
#include "oauth/client_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blob/httppull.h"
#include "config/config.h"
#include "db/log.h"
#include "oauth/reply.h"

static void json_free(void *p)
{
    json_decref(p);
}

/* Seconds the answer may be kept: -1 for no-store / no-cache (not kept at all). */
static int64_t cache_seconds(const char *cc)
{
    if (!cc) {
        return CLIENT_CACHE_DEFAULT_S;
    }
    if (strcasestr(cc, "no-store") || strcasestr(cc, "no-cache")) {
        return -1;
    }
    const char *m = strcasestr(cc, "max-age=");
    if (!m) {
        return CLIENT_CACHE_DEFAULT_S;
    }
    int64_t v = 0;
    for (const char *p = m + 8; *p >= '0' && *p <= '9' && v < CLIENT_CACHE_MAX_S; p++) {
        v = v * 10 + (*p - '0');
    }
    return v < CLIENT_CACHE_MIN_S   ? CLIENT_CACHE_MIN_S
           : v > CLIENT_CACHE_MAX_S ? CLIENT_CACHE_MAX_S
                                    : v;
}

static bool is_json_type(const char *ct)
{
    if (!ct) {
        return false;
    }
    size_t n = strcspn(ct, "; ");
    return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

/* A fetched answer the caller caches once it has found it valid. */
struct fetched {
    const char *url;
    const char *body; /* NULL: came from the cache, or must not be cached */
    size_t len;
    int64_t keep_s;
};

/* Keeps a validated document: as long as its Cache-Control allows, or not at all. */
static void cache_store(struct xrpc_req *rq, const struct fetched *f)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, f->url);
    if (!f->body) {
        if (f->keep_s < 0) { /* no-store: forget an older copy too */
            (void)!db_exec(rq->db, "DELETE FROM oauth_client_cache WHERE url = $1", &p, NULL);
        }
        return;
    }
    db_param_textn(&p, f->body, f->len);
    db_param_i64(&p, f->keep_s);
    /* best effort: an answer we could not cache is still good for this request */
    (void)!db_exec(rq->db,
                   "INSERT INTO oauth_client_cache (url, body, expires_at)"
                   " VALUES ($1, $2, now() + make_interval(secs => $3::bigint))"
                   " ON CONFLICT (url) DO UPDATE SET body = EXCLUDED.body,"
                   " fetched_at = now(), expires_at = EXCLUDED.expires_at",
                   &p, NULL);
}

/* GETs url into *doc (a JSON object, deferred to the arena); *f says how to cache it.
 * 0, or the error set. */
static int fetch_json(struct xrpc_req *rq, const char *what, const char *url, bool fresh,
                      json_t **doc, struct fetched *f)
{
    *doc = NULL;
    *f = (struct fetched){url, NULL, 0, 0};
    const struct config *cfg = rq->cfg;
    struct db_params p;
    PGresult *r;
    if (!fresh) {
        db_params_init(&p);
        db_param_text(&p, url);
        if (db_query_in(rq->db, rq->arena,
                        "SELECT body FROM oauth_client_cache WHERE url = $1 AND expires_at > now()",
                        &p, &r)) {
            return oauth_fail(rq, 500, "server_error", "Internal Server Error");
        }
        if (PQntuples(r) == 1) {
            struct bytes b = db_col_bytes(r, 0, 0);
            *doc = json_loadb((const char *)b.ptr, b.len, JSON_REJECT_DUPLICATES, NULL);
            if (json_is_object(*doc)) {
                arena_defer(rq->arena, json_free, *doc);
                return 0;
            }
            json_decref(*doc);
            *doc = NULL;
        }
    }
    static const char *const headers[] = {"Accept: application/json"};
    struct httppull_opts o = {
        .method = "GET",
        .url = url,
        .headers = headers,
        .n_headers = 1,
        .headers_timeout_ms = CLIENT_FETCH_TIMEOUT_MS,
        .body_timeout_ms = CLIENT_FETCH_TIMEOUT_MS,
        .max_body_bytes = (uint64_t)cfg->fetch_max_response_size,
        .ssrf_protect = !cfg->disable_ssrf_protection,
        .ca_file = cfg->oauth_client_ca_file,
        .body_fd = -1,
    };
    struct httppull *pull = NULL;
    bool timed_out = false;
    char why[256] = "";
    if (httppull_start(&o, &pull, &timed_out, why, sizeof why)) {
        log_info(&rq->log, "oauth: fetching %s %s failed: %s", what, url, why);
        return oauth_fail(
            rq, 400, "invalid_client_metadata", "Unable to obtain %s from %s: %s", what, url,
            timed_out ? "the server did not answer in time" : "the server could not be reached");
    }
    long status = httppull_status(pull);
    int64_t keep = cache_seconds(httppull_header(pull, "cache-control"));
    const char *ct = httppull_header(pull, "content-type");
    int st = 0;
    if (status != 200) {
        st = oauth_fail(rq, 400, "invalid_client_metadata",
                        "Unable to obtain %s from %s: unexpected status %ld%s", what, url, status,
                        status >= 300 && status < 400 ? " (redirects are not followed)" : "");
    } else if (!is_json_type(ct)) {
        st = oauth_fail(rq, 400, "invalid_client_metadata",
                        "Unable to obtain %s from %s: Content-Type must be application/json", what,
                        url);
    }
    struct buf body;
    buf_init(&body, (size_t)cfg->fetch_max_response_size);
    int64_t declared = httppull_content_length(pull);
    enum err e = st                                        ? ERR_OK
                 : declared > cfg->fetch_max_response_size ? ERR_TOO_LARGE
                                                           : httppull_read_all(pull, &body);
    bool slow = httppull_timed_out(pull);
    httppull_free(pull);
    if (!st && e) {
        st = oauth_fail(rq, 400, "invalid_client_metadata", "Unable to obtain %s from %s: %s", what,
                        url,
                        e == ERR_TOO_LARGE ? "the document is too large"
                        : slow             ? "the server did not answer in time"
                                           : "the transfer failed");
    }
    if (!st) {
        *doc = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(*doc)) {
            json_decref(*doc);
            *doc = NULL;
            st = oauth_fail(rq, 400, "invalid_client_metadata", "The %s at %s is not a JSON object",
                            what, url);
        } else {
            arena_defer(rq->arena, json_free, *doc);
        }
    }
    if (!st && keep > 0) {
        f->body = arena_strndup(rq->arena, (const char *)body.ptr, body.len);
        f->len = body.len;
    }
    f->keep_s = keep;
    buf_clear(&body);
    return st;
}

static bool listed(const struct config_list *l, const char *id)
{
    for (size_t i = 0; i < l->len; i++) {
        if (strcmp(l->items[i], id) == 0) {
            return true;
        }
    }
    return false;
}

int oauth_client_load(struct xrpc_req *rq, const char *client_id, bool fresh,
                      struct oauth_client *out)
{
    memset(out, 0, sizeof *out);
    const struct config *cfg = rq->cfg;
    bool loopback;
    const char *why = NULL;
    if (oauth_client_id_check(rq->arena, client_id, cfg->dev_mode, &loopback, &why)) {
        return oauth_fail(rq, 400, "invalid_client_metadata", "Invalid client_id: %s", why);
    }
    json_t *doc;
    struct fetched fdoc = {client_id, NULL, 0, 0}, fjwks = {NULL, NULL, 0, 0};
    int st;
    if (loopback) {
        doc = oauth_loopback_metadata(rq->arena, client_id, &why);
        if (!doc) {
            return oauth_fail(rq, 400, "invalid_client_metadata", "%s", why);
        }
        arena_defer(rq->arena, json_free, doc);
    } else if ((st = fetch_json(rq, "client metadata", client_id, fresh, &doc, &fdoc))) {
        return st;
    }
    if (oauth_client_validate(rq->arena, client_id, doc, cfg->dev_mode, out, &why)) {
        return oauth_fail(rq, 400, "invalid_client_metadata", "Invalid client metadata: %s", why);
    }
    out->trusted = listed(&cfg->oauth_trusted_clients, client_id);
    if (out->confidential && out->jwks_uri) {
        json_t *jwks;
        if ((st = fetch_json(rq, "client JWKS", out->jwks_uri, fresh, &jwks, &fjwks))) {
            return st;
        }
        if (!json_is_array(json_object_get(jwks, "keys"))) {
            return oauth_fail(rq, 400, "invalid_client_metadata", "The client JWKS has no keys");
        }
        out->jwks = jwks;
    }
    /* only now, valid: the reference's getter validates before it caches */
    if (!loopback) {
        cache_store(rq, &fdoc);
    }
    if (fjwks.url) {
        cache_store(rq, &fjwks);
    }
    return 0;
}
