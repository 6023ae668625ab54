/* proxy.c - the XRPC proxy (the reference's pipethrough.ts): the router's fallback for
 * methods we do not serve, and forwarding for the preference endpoints.
 *
 * Which calls are forwarded (methods served here are always served here, header or not,
 * as in the reference, whose routes come before its catch-all):
 * - any unknown method with an `atproto-proxy: <did>#<serviceId>` header, to that DID
 *   document's service (the configured AppView's own `<did>#bsky_appview` without a lookup);
 * - without the header: app.bsky.* and com.atproto.identity.{resolveDid,resolveIdentity,
 *   refreshIdentity} to PDS_BSKY_APP_VIEW_URL, tools.ozone.* to the moderation service,
 *   com.atproto.moderation.createReport to the report service; chat.bsky.* needs the
 *   header. Other unknown methods answer 501 MethodNotImplemented (the reference sends
 *   them to the AppView too).
 * Refusals, as the reference: PROTECTED methods (400 InvalidToken "Bad token method"),
 * PRIVILEGED methods without a privileged session (same), only GET/HEAD/POST.
 *
 * The upstream call is made on the worker thread: it waits for the response headers (at
 * most PDS_PROXY_HEADERS_TIMEOUT), then the body is streamed to the client a chunk at a
 * time as the client takes it (each wait at most PDS_PROXY_BODY_TIMEOUT). A POST body is
 * collected first (in memory up to PROXY_SPOOL_MEMORY_BYTES, else in an unlinked temporary
 * file), since request bodies arrive before the handler runs. */
#include "api/proxy/proxy.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/proxy/proxy.h"
#include "api/common/app.h"
#include "api/common/auth.h"
#include "api/console/console.h"
#include "api/server/service_auth.h"
#include "blob/blobstore.h"
#include "blob/httppull.h"
#include "blob/sigv4.h"
#include "core/syntax.h"
#include "identity/resolver.h"
#include "config/config.h"
#include "db/metrics.h"

#define SVC_APPVIEW     "bsky_appview"
#define SVC_LABELER     "atproto_labeler"
#define URL_MAX         8192
#define FWD_HEADERS_MAX 8

const char *api_proxy_parse_header(const char *value, char did[PROXY_DID_MAX],
                                   char svc[PROXY_SERVICE_MAX])
{
    const char *hash = strchr(value, '#');
    if (hash == value) {
        return "no did specified in proxy header";
    }
    if (!hash || hash[1] == '\0') {
        return "no service id specified in proxy header";
    }
    if (strchr(hash + 1, '#')) {
        return "invalid proxy header format";
    }
    if (strchr(value, ' ')) {
        return "proxy header cannot contain spaces";
    }
    size_t dn = (size_t)(hash - value), sn = strlen(hash + 1);
    if (dn >= PROXY_DID_MAX || sn >= PROXY_SERVICE_MAX) {
        return "invalid proxy header format";
    }
    memcpy(did, value, dn);
    did[dn] = '\0';
    memcpy(svc, hash + 1, sn + 1);
    return NULL;
}

/* ---- where a call goes ---- */

struct target {
    const char *url; /* service base URL */
    const char *aud; /* the service's bare DID (phase 1 of service auth: no #fragment) */
};

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool forwarded_without_header(const char *nsid)
{
    return starts_with(nsid, "app.bsky.") || starts_with(nsid, "chat.bsky.") ||
           starts_with(nsid, "tools.ozone.") ||
           strcmp(nsid, "com.atproto.moderation.createReport") == 0 ||
           strcmp(nsid, "com.atproto.identity.resolveDid") == 0 ||
           strcmp(nsid, "com.atproto.identity.resolveIdentity") == 0 ||
           strcmp(nsid, "com.atproto.identity.refreshIdentity") == 0;
}

/* The reference's defaultService: 0 with *t, or 400 set. */
static int default_target(struct xrpc_req *rq, const char *nsid, struct target *t)
{
    const struct config *cfg = rq->cfg;
    if (starts_with(nsid, "tools.ozone.")) {
        t->url = cfg->mod_service_url;
        t->aud = cfg->mod_service_did;
    } else if (strcmp(nsid, "com.atproto.moderation.createReport") == 0) {
        t->url = cfg->report_service_url;
        t->aud = cfg->report_service_did;
    } else if (!starts_with(nsid, "chat.bsky.")) { /* chat: the client names the service */
        t->url = cfg->bsky_app_view_url;
        t->aud = cfg->bsky_app_view_did;
    }
    if (!t->url || !t->aud) {
        return xrpc_fail(rq, 400, "InvalidRequest", "No service configured for %s", nsid);
    }
    return 0;
}

int api_proxy_permit(struct xrpc_req *rq, const struct auth *a, const char *lxm)
{
    const char *header = xrpc_header(rq, "atproto-proxy");
    const char *aud = header;
    if (!aud) {
        struct target t = {NULL, NULL};
        const struct config *cfg = rq->cfg;
        const char *svc = starts_with(lxm, "tools.ozone.") ||
                                  strcmp(lxm, "com.atproto.moderation.createReport") == 0
                              ? SVC_LABELER
                              : SVC_APPVIEW;
        /* default_target with its own error muted: forwarding reports it */
        if (starts_with(lxm, "tools.ozone.")) {
            t.aud = cfg->mod_service_did;
        } else if (strcmp(lxm, "com.atproto.moderation.createReport") == 0) {
            t.aud = cfg->report_service_did;
        } else if (!starts_with(lxm, "chat.bsky.")) {
            t.aud = cfg->bsky_app_view_did;
        }
        if (!t.aud) {
            return 0;
        }
        size_t n = strlen(t.aud) + strlen(svc) + 2;
        char *s = arena_alloc(rq->arena, n);
        snprintf(s, n, "%s#%s", t.aud, svc);
        aud = s;
    }
    return auth_permit_rpc(rq, a, aud, lxm);
}

/* The target a header names: 0 with *t (strings in the arena), or 400 set. */
static int header_target(struct xrpc_req *rq, const char *value, struct target *t)
{
    char did[PROXY_DID_MAX], svc[PROXY_SERVICE_MAX];
    const char *why = api_proxy_parse_header(value, did, svc);
    if (why) {
        return xrpc_fail(rq, 400, "InvalidRequest", "%s", why);
    }
    t->aud = arena_strndup(rq->arena, did, strlen(did));
    const struct config *cfg = rq->cfg;
    if (cfg->bsky_app_view_did && strcmp(did, cfg->bsky_app_view_did) == 0 &&
        strcmp(svc, SVC_APPVIEW) == 0 && cfg->bsky_app_view_url) {
        t->url = cfg->bsky_app_view_url;
        return 0;
    }
    json_t *doc = NULL;
    if (!syntax_did_valid(bytes_str(did)) ||
        resolver_resolve_did(app_get()->resolver, did, false, &doc) != ERR_OK) {
        return xrpc_fail(rq, 400, "InvalidRequest", "could not resolve proxy did");
    }
    const char *url = did_doc_service_endpoint(doc, did, svc, NULL);
    t->url = url ? arena_strndup(rq->arena, url, strlen(url)) : NULL;
    json_decref(doc); /* url pointed into it */
    if (!t->url || !(starts_with(t->url, "https://") || starts_with(t->url, "http://"))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "could not resolve proxy did service url");
    }
    return 0;
}

/* ---- the request body of the fallback route ---- */

struct proxy_state {
    const struct auth *auth;
    bool ready; /* checks done */
    struct buf mem;
    int fd; /* spool file once the body outgrew mem, else -1 */
    uint64_t len;
};

static void proxy_state_free(void *p)
{
    struct proxy_state *s = p;
    buf_clear(&s->mem);
    if (s->fd >= 0) {
        close(s->fd);
    }
}

/* An unlinked temporary file in the blob temporary directory. */
static int spool_open(struct xrpc_req *rq)
{
    const char *dir = rq->cfg->blobstore_disk_tmp;
    if (blobstore_mkdirs(dir)) {
        return -1;
    }
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
        return fd;
    }
    char path[URL_MAX];
    snprintf(path, sizeof path, "%s/proxy-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) {
        unlink(path);
    }
    return fd;
}

static int spool(struct xrpc_req *rq, struct proxy_state *s, const uint8_t *p, size_t n)
{
    if (s->fd < 0 && s->mem.len + n > PROXY_SPOOL_MEMORY_BYTES) {
        s->fd = spool_open(rq);
        if (s->fd < 0 ||
            (s->mem.len && write(s->fd, s->mem.ptr, s->mem.len) != (ssize_t)s->mem.len)) {
            log_error(&rq->log, "could not spool a proxied request body");
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        buf_clear(&s->mem);
    }
    if (s->fd >= 0) {
        if (write(s->fd, p, n) != (ssize_t)n) {
            log_error(&rq->log, "could not spool a proxied request body");
            return xrpc_fail(rq, 500, NULL, NULL);
        }
    } else if (buf_append(&s->mem, p, n)) {
        return xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
    }
    s->len += n;
    return 0;
}

/* The reference's checks before forwarding; once per request (first body chunk or the
 * handler). */
static int proxy_prepare(struct xrpc_req *rq, struct proxy_state **out)
{
    *out = NULL; /* set on every path: gcc cannot see that xrpc_fail never returns 0 */
    struct proxy_state *s = rq->body_sink;
    if (s) {
        *out = s;
        return 0;
    }
    if (!rq->db) {
        rq->db = db_thread();
    }
    const char *nsid = rq->nsid;
    const char *header = xrpc_header(rq, "atproto-proxy");
    if (!header && !forwarded_without_header(nsid)) {
        return xrpc_fail(rq, 501, "MethodNotImplemented", "Method Not Implemented");
    }
    if (rq->method_bit != HTTP_GET && rq->method_bit != HTTP_POST) {
        return xrpc_fail(rq, 400, "InvalidRequest", "XRPC requests only supports GET and POST");
    }
    if (api_lxm_is_protected(nsid)) {
        return xrpc_fail(rq, 400, "InvalidToken", "Bad token method");
    }
    s = arena_zalloc(rq->arena, sizeof *s);
    s->fd = -1;
    buf_init(&s->mem, PROXY_SPOOL_MEMORY_BYTES);
    arena_defer(rq->arena, proxy_state_free, s);
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH, &s->auth);
    if (st || (st = api_proxy_permit(rq, s->auth, nsid))) {
        return st;
    }
    /* OAuth tokens were judged by their scopes (api_proxy_permit); legacy tiers by the list */
    bool privileged = s->auth->kind == AUTH_KIND_OAUTH || s->auth->scope == AUTH_SCOPE_ACCESS ||
                      s->auth->scope == AUTH_SCOPE_APP_PASS_PRIVILEGED;
    if (api_lxm_is_privileged(nsid) && !privileged) {
        return xrpc_fail(rq, 400, "InvalidToken", "Bad token method");
    }
    s->ready = true;
    rq->body_sink = s;
    *out = s;
    return 0;
}

int api_proxy_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len)
{
    struct proxy_state *s = NULL;
    int st = proxy_prepare(rq, &s);
    return st ? st : spool(rq, s, chunk, len);
}

/* ---- forwarding ---- */

/* Query string re-encoded from the parsed parameters (the server keeps no raw copy). */
static enum err append_query(struct xrpc_req *rq, struct buf *url)
{
    enum err e = ERR_OK;
    for (size_t i = 0; i < rq->n_params && !e; i++) {
        if (!(e = buf_append_byte(url, i == 0 ? '?' : '&')) &&
            !(e = sigv4_uri_encode(rq->params[i].name, false, url)) &&
            !(e = buf_append_byte(url, '='))) {
            e = sigv4_uri_encode(rq->params[i].value, false, url);
        }
    }
    return e;
}

struct fwd_headers {
    const char *ptrs[FWD_HEADERS_MAX];
    size_t n;
};

static void fwd_add(struct xrpc_req *rq, struct fwd_headers *h, const char *name, const char *value)
{
    if (!value || h->n == FWD_HEADERS_MAX) {
        return;
    }
    size_t n = strlen(name) + 2 + strlen(value) + 1;
    char *line = arena_alloc(rq->arena, n);
    snprintf(line, n, "%s: %s", name, value);
    h->ptrs[h->n++] = line;
}

struct proxy_stream {
    struct httppull *pull;
};

static ssize_t proxy_stream_read(void *ctx, uint64_t pos, uint8_t *buf, size_t max)
{
    struct proxy_stream *s = ctx;
    ssize_t n = httppull_read(s->pull, buf, max);
    if (n == 0) {
        return XRPC_STREAM_END;
    }
    return n < 0 ? XRPC_STREAM_ERROR : n;
}

static void proxy_stream_free(void *ctx)
{
    struct proxy_stream *s = ctx;
    httppull_free(s->pull);
    free(s);
}

/* The reference's forwarded response headers (besides content type and length). */
static void copy_response_headers(struct xrpc_req *rq, struct httppull *p, bool content)
{
    static const char *const always[] = {"atproto-repo-rev", "atproto-content-labelers",
                                         "retry-after"};
    static const char *const content_headers[] = {"content-encoding", "content-language"};
    for (size_t i = 0; i < ARRAY_LEN(always); i++) {
        const char *v = httppull_header(p, always[i]);
        if (v) {
            xrpc_set_header(rq, always[i], v);
        }
    }
    for (size_t i = 0; content && i < ARRAY_LEN(content_headers); i++) {
        const char *v = httppull_header(p, content_headers[i]);
        if (v) {
            xrpc_set_header(rq, content_headers[i], v);
        }
    }
}

/* ---- a forwarded call, for callers that look at the answer (read-after-write) ---- */

struct proxy_call {
    struct httppull *pull;
    bool err_read; /* the error body was read into err (once) */
    json_t *err;   /* the upstream's XRPC error body, or NULL */
};

void api_proxy_call_free(struct proxy_call *c)
{
    if (c) {
        httppull_free(c->pull);
        json_decref(c->err);
        free(c);
    }
}

long api_proxy_call_status(const struct proxy_call *c)
{
    return httppull_status(c->pull);
}

const char *api_proxy_call_header(const struct proxy_call *c, const char *name)
{
    return httppull_header(c->pull, name);
}

enum err api_proxy_call_body(struct proxy_call *c, struct buf *out)
{
    const char *ce = httppull_header(c->pull, "content-encoding");
    if (ce && strcasecmp(ce, "identity") != 0) {
        return ERR_INVALID; /* we asked for identity; a coded body is not read here */
    }
    return httppull_read_all(c->pull, out);
}

/* Reads and parses an upstream error body once (JSON only, bounded). */
static const json_t *call_error(struct proxy_call *c)
{
    if (c->err_read) {
        return c->err;
    }
    c->err_read = true;
    const char *ct = httppull_header(c->pull, "content-type");
    struct buf body;
    buf_init(&body, PROXY_ERROR_BODY_MAX);
    if (ct && strcasestr(ct, "json") && !httppull_header(c->pull, "content-encoding") &&
        httppull_read_all(c->pull, &body) == ERR_OK) {
        c->err = json_loadb(body.ptr ? (const char *)body.ptr : "", body.len, 0, NULL);
    }
    buf_clear(&body);
    return c->err;
}

const char *api_proxy_call_error_name(struct proxy_call *c)
{
    return json_string_value(json_object_get(call_error(c), "error"));
}

/* An upstream XRPC error passed on: its status (500 becomes 502), name and message. */
static int upstream_error(struct xrpc_req *rq, struct proxy_call *c)
{
    long status = httppull_status(c->pull);
    const json_t *j = call_error(c);
    const char *name = json_string_value(json_object_get(j, "error"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    copy_response_headers(rq, c->pull, false);
    int out = status == 500 ? 502 : (int)status;
    return msg ? xrpc_fail(rq, out, name, "%s", msg) : xrpc_fail(rq, out, name, NULL);
}

int api_proxy_call_reply(struct xrpc_req *rq, struct proxy_call *c)
{
    const struct config *cfg = rq->cfg;
    int st;
    if (httppull_status(c->pull) >= 400) {
        st = upstream_error(rq, c);
        api_proxy_call_free(c);
        return st;
    }
    int64_t len = httppull_content_length(c->pull);
    if (cfg->proxy_max_response_size > 0 && len > cfg->proxy_max_response_size) {
        api_proxy_call_free(c);
        return xrpc_fail(rq, 502, "UpstreamFailure", "Upstream response too large");
    }
    copy_response_headers(rq, c->pull, true);
    struct proxy_stream *ps = xcalloc(1, sizeof *ps);
    ps->pull = c->pull;
    long status = httppull_status(c->pull);
    const char *type = httppull_header(c->pull, "content-type");
    c->pull = NULL; /* the stream owns it now */
    st = xrpc_reply_stream(rq, (int)status, type, len, proxy_stream_read, ps, proxy_stream_free);
    api_proxy_call_free(c);
    return st;
}

int api_proxy_call_reply_buffered(struct xrpc_req *rq, struct proxy_call *c, struct buf *body)
{
    copy_response_headers(rq, c->pull, false); /* no content-encoding: the body is decoded */
    const char *lang = httppull_header(c->pull, "content-language");
    if (lang) {
        xrpc_set_header(rq, "content-language", lang);
    }
    const char *type = httppull_header(c->pull, "content-type");
    int st =
        xrpc_reply_buf(rq, (int)httppull_status(c->pull), type ? type : "application/json", body);
    api_proxy_call_free(c);
    return st;
}

static int open_to(struct xrpc_req *rq, const char *iss, const struct target *t,
                   const struct proxy_state *s, bool identity, struct proxy_call **out)
{
    const struct config *cfg = rq->cfg;
    const char *nsid = rq->nsid;
    *out = NULL;
    struct buf url;
    buf_init(&url, URL_MAX);
    size_t base = strlen(t->url);
    while (base && t->url[base - 1] == '/') {
        base--;
    }
    if (buf_append(&url, t->url, base) || buf_append_str(&url, rq->path) ||
        append_query(rq, &url)) {
        buf_clear(&url);
        return xrpc_fail(rq, 400, "InvalidRequest", "request too long to forward");
    }
    bool post = rq->method_bit == HTTP_POST;
    struct fwd_headers h = {.n = 0};
    if (iss) { /* without a caller, as the reference's pipethrough without `iss`: no auth */
        const char *jwt;
        int st = api_service_jwt(rq, iss, t->aud, nsid, 0, &jwt);
        if (st) {
            buf_clear(&url);
            return st;
        }
        size_t an = strlen("Bearer ") + strlen(jwt) + 1;
        char *auth = arena_alloc(rq->arena, an);
        snprintf(auth, an, "Bearer %s", jwt);
        fwd_add(rq, &h, "authorization", auth);
    }
    const char *ae = identity ? NULL : xrpc_header(rq, "accept-encoding");
    fwd_add(rq, &h, "accept-encoding", ae ? ae : "identity");
    fwd_add(rq, &h, "accept-language", xrpc_header(rq, "accept-language"));
    fwd_add(rq, &h, "atproto-accept-labelers", xrpc_header(rq, "atproto-accept-labelers"));
    fwd_add(rq, &h, "x-bsky-topics", xrpc_header(rq, "x-bsky-topics"));
    if (post) {
        fwd_add(rq, &h, "content-type", xrpc_header(rq, "content-type"));
        fwd_add(rq, &h, "content-encoding", xrpc_header(rq, "content-encoding"));
    }
    bool head = strcmp(rq->method, "HEAD") == 0;
    struct httppull_opts o = {
        .method = post   ? "POST"
                  : head ? "HEAD"
                         : "GET",
        .url = (const char *)url.ptr,
        .headers = h.ptrs,
        .n_headers = h.n,
        .body_fd = s && s->fd >= 0 ? s->fd : -1,
        .body_len = s ? s->len : 0,
        .body = s && s->fd < 0 ? buf_bytes(&s->mem) : rq->body,
        .headers_timeout_ms = (long)cfg->proxy_headers_timeout_ms,
        .body_timeout_ms = (long)cfg->proxy_body_timeout_ms,
        .max_body_bytes = (uint64_t)cfg->proxy_max_response_size,
        .ssrf_protect = !cfg->disable_ssrf_protection,
    };
    struct httppull *p;
    bool timed_out;
    char why[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum err e = httppull_start(&o, &p, &timed_out, why, sizeof why);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    buf_clear(&url);
    bool report = strcmp(nsid, "com.atproto.moderation.createReport") == 0;
    const char *target = report ? "moderation"
                         : cfg->bsky_app_view_did && strcmp(t->aud, cfg->bsky_app_view_did) == 0
                             ? "appview"
                             : "service";
    metrics_outbound(target,
                     e                          ? "error"
                     : httppull_status(p) < 400 ? "ok"
                                                : "refused",
                     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (report && post) {
        console_report_forwarded(rq, iss, s && s->fd < 0 ? buf_bytes(&s->mem) : rq->body, t->aud,
                                 e ? 0 : httppull_status(p));
    }
    if (e) {
        log_warn(&rq->log, "proxy to %s failed: %s", t->aud, why);
        return timed_out ? xrpc_fail(rq, 504, "UpstreamTimeout", "Upstream service timed out")
                         : xrpc_fail(rq, 502, "UpstreamFailure", "Upstream service unreachable");
    }
    struct proxy_call *c = xcalloc(1, sizeof *c);
    c->pull = p;
    *out = c;
    return 0;
}

static int open_call(struct xrpc_req *rq, const char *iss, const struct proxy_state *s,
                     bool identity, struct proxy_call **out)
{
    struct target t = {NULL, NULL};
    const char *header = xrpc_header(rq, "atproto-proxy");
    *out = NULL;
    int st = header ? header_target(rq, header, &t) : default_target(rq, rq->nsid, &t);
    return st ? st : open_to(rq, iss, &t, s, identity, out);
}

int api_proxy_open(struct xrpc_req *rq, const char *iss, struct proxy_call **out)
{
    return open_call(rq, iss, NULL, true, out);
}

static int forward(struct xrpc_req *rq, const char *iss, const struct proxy_state *s)
{
    struct proxy_call *c;
    int st = open_call(rq, iss, s, false, &c);
    return st ? st : api_proxy_call_reply(rq, c);
}

int api_proxy_forward(struct xrpc_req *rq, const char *iss)
{
    return forward(rq, iss, NULL);
}

/* The router's fallback: methods we do not serve. */
int api_proxy(struct xrpc_req *rq)
{
    struct proxy_state *s = NULL;
    int st = proxy_prepare(rq, &s);
    if (st) {
        return st;
    }
    return forward(rq, s->auth->did, s);
}

enum err api_proxy_appview_get(struct xrpc_req *rq, const char *iss, const char *nsid,
                               const char *const *params, size_t n_params, struct buf *out)
{
    const struct config *cfg = rq->cfg;
    if (!cfg->bsky_app_view_url || !cfg->bsky_app_view_did) {
        return ERR_NOT_FOUND;
    }
    const char *jwt;
    if (api_service_jwt(rq, iss, cfg->bsky_app_view_did, nsid, 0, &jwt)) {
        return ERR_AUTH; /* the 500 it set is overwritten by the caller's own answer */
    }
    struct buf url;
    buf_init(&url, URL_MAX);
    size_t base = strlen(cfg->bsky_app_view_url);
    while (base && cfg->bsky_app_view_url[base - 1] == '/') {
        base--;
    }
    enum err e = buf_append(&url, cfg->bsky_app_view_url, base);
    if (!e && !(e = buf_append_str(&url, "/xrpc/"))) {
        e = buf_append_str(&url, nsid);
    }
    for (size_t i = 0; i + 1 < n_params && !e; i += 2) {
        if (!(e = buf_append_byte(&url, i == 0 ? '?' : '&')) &&
            !(e = sigv4_uri_encode(params[i], false, &url)) && !(e = buf_append_byte(&url, '='))) {
            e = sigv4_uri_encode(params[i + 1], false, &url);
        }
    }
    struct fwd_headers h = {.n = 0};
    size_t an = strlen("Bearer ") + strlen(jwt) + 1;
    char *auth = arena_alloc(rq->arena, an);
    snprintf(auth, an, "Bearer %s", jwt);
    fwd_add(rq, &h, "authorization", auth);
    fwd_add(rq, &h, "accept-encoding", "identity");
    struct httppull_opts o = {
        .method = "GET",
        .url = (const char *)url.ptr,
        .headers = h.ptrs,
        .n_headers = h.n,
        .body_fd = -1,
        .headers_timeout_ms = (long)cfg->proxy_headers_timeout_ms,
        .body_timeout_ms = (long)cfg->proxy_body_timeout_ms,
        .max_body_bytes = (uint64_t)cfg->proxy_max_response_size,
        .ssrf_protect = !cfg->disable_ssrf_protection,
    };
    struct httppull *p = NULL;
    bool timed_out;
    char why[256];
    if (!e && (e = httppull_start(&o, &p, &timed_out, why, sizeof why))) {
        log_warn(&rq->log, "AppView call %s failed: %s", nsid, why);
    }
    buf_clear(&url);
    if (!e && httppull_status(p) != 200) {
        e = ERR_UPSTREAM;
    }
    if (!e) {
        e = httppull_read_all(p, out);
    }
    httppull_free(p);
    return e;
}
