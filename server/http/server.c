/* server.c - libmicrohttpd lifecycle and request flow: parse the URI, route, check method and
 * body against the route, gather the body, run the handler, send its response.
 *
 * libmicrohttpd calls on_request several times per request: once when the headers are in
 * (we route and refuse early there, before reading any body), once per body chunk, and once
 * more when the body is complete (we run the handler). Per-request state is created by the
 * URI-log callback, which runs first, and freed by the completion callback. */
#include "http/server.h"

#include "core/hex.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/cidr.h"
#include "http/cors.h"
#include "http/edge.h"
#include "http/head.h"
#include "http/listen.h"
#include "http/peer.h"
#include "http/request_done.h"
#include "http/hostbudget.h"
#include "http/overload.h"
#include "http/ratelimit.h"
#include "http/router.h"
#include "http/xrpc.h"
#include "http/xrpc_error.h"
#include "db/replica.h"
#include "config/config.h"

#define STREAM_BLOCK_BYTES (64 << 10) /* chunk size asked of streaming responses */
#define XRPC_PREFIX        "/xrpc/"
#define NSID_MAX_LEN       317 /* spec(nsid): at most 317 characters */
#define CLIENT_IP_MAX      INET6_ADDRSTRLEN
/* Body bytes read and dropped after a refusal, so the client can read our answer. */
#define HTTP_DISCARD_MAX_BYTES ((uint64_t)8 << 20)

struct http_server {
    struct MHD_Daemon *daemon;
    struct edge *edge; /* per-address caps, request deadlines, lingering close */
    const struct config *cfg;
    struct cidr_list trusted_proxies; /* PDS_TRUSTED_PROXIES, parsed */
    atomic_uint_fast64_t next_id;
    uint32_t id_base; /* random per process, so ids differ across restarts */
};

/* One request's state: the public xrpc_req plus what only this file needs. */
struct req_state {
    struct xrpc_req rq;
    struct arena arena;
    struct buf body;
    struct http_server *srv;
    struct edge_conn *conn; /* this connection's bookkeeping */
    char *raw_uri;          /* the request target as sent (our copy) */
    size_t raw_uri_len;     /* up to its first NUL byte */
    const char *wire_uri;   /* the target inside the library's buffer, for the NUL check */
    uint64_t body_seen;     /* bytes received, buffered or streamed */
    size_t body_max;
    struct timespec started_at;
    bool headers_done; /* the first on_request call has run */
    bool queued;       /* a response was handed to libmicrohttpd */
    bool handled;      /* a handler thread ran the handler (the connection was suspended) */
    bool has_body;     /* Content-Length > 0 or Transfer-Encoding sent */
    char client_ip[CLIENT_IP_MAX];
};

/* URI and query parsing */

/* Form-style decoding as URLSearchParams: "+" is a space, %XX a byte, a stray % stays.
 * NULL when the result would hold a NUL byte (%00): handlers see C strings, which would
 * silently end at it ("repo=<did>%00junk" read as the DID). */
static char *form_decode(struct arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[k++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hex_digit((uint8_t)s[i + 1]) >= 0 &&
                   hex_digit((uint8_t)s[i + 2]) >= 0) {
            out[k++] = (char)(hex_digit((uint8_t)s[i + 1]) << 4 | hex_digit((uint8_t)s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    return memchr(out, '\0', k) ? NULL : out;
}

enum query_status {
    QUERY_OK,
    QUERY_TOO_MANY, /* more than XRPC_PARAMS_MAX parameters */
    QUERY_NUL,      /* a name or value decodes to a NUL byte */
};

/* Splits the query into rq->params. */
static enum query_status parse_query(struct req_state *st, const char *query)
{
    struct xrpc_req *rq = &st->rq;
    size_t count = 0;
    for (const char *p = query; *p; p++) {
        count += *p == '&';
    }
    count++;
    if (count > XRPC_PARAMS_MAX) {
        return QUERY_TOO_MANY;
    }
    struct xrpc_param *params = arena_alloc(&st->arena, count * sizeof *params);
    size_t n = 0;
    const char *p = query;
    while (*p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t name_len = eq ? (size_t)(eq - p) : len;
        if (name_len > 0) {
            params[n].name = form_decode(&st->arena, p, name_len);
            params[n].value = eq ? form_decode(&st->arena, eq + 1, len - name_len - 1)
                                 : arena_strndup(&st->arena, "", 0);
            if (!params[n].name || !params[n].value) {
                return QUERY_NUL;
            }
            n++;
        }
        p += len;
        if (*p == '&') {
            p++;
        }
    }
    rq->params = params;
    rq->n_params = n;
    return QUERY_OK;
}

static bool nsid_chars_ok(const char *s, size_t n)
{
    if (n == 0 || n > NSID_MAX_LEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-') {
            return false;
        }
    }
    return true;
}

/* Client address */

static bool addr_is_trusted_proxy(const struct http_server *srv, const char *ip)
{
    return cidr_list_contains(&srv->trusted_proxies, ip);
}

/* The peer's address; behind a trusted reverse proxy (PDS_TRUSTED_PROXIES), the nearest
 * untrusted address of X-Forwarded-For, read from the right as proxies append to it. */
static void find_client_ip(struct req_state *st, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(st->client_ip, sizeof st->client_ip, "unknown");
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;
        if (sa->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, st->client_ip,
                      sizeof st->client_ip);
        } else if (sa->sa_family == AF_INET6) {
            const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
            if (IN6_IS_ADDR_V4MAPPED(a6)) {
                inet_ntop(AF_INET, &a6->s6_addr[12], st->client_ip, sizeof st->client_ip);
            } else {
                inet_ntop(AF_INET6, a6, st->client_ip, sizeof st->client_ip);
            }
        }
    }
    st->rq.client_ip = st->client_ip;
    const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-forwarded-for");
    if (!xff || !addr_is_trusted_proxy(st->srv, st->client_ip)) {
        return;
    }
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',') {
            start--;
        }
        char ip[CLIENT_IP_MAX];
        const char *s = xff + start;
        size_t n = end - start;
        while (n && isspace((unsigned char)*s)) {
            s++;
            n--;
        }
        while (n && isspace((unsigned char)s[n - 1])) {
            n--;
        }
        if (n == 0 || n >= sizeof ip) {
            return; /* malformed: keep the peer */
        }
        memcpy(ip, s, n);
        ip[n] = '\0';
        struct in6_addr probe;
        if (inet_pton(AF_INET, ip, &probe) != 1 && inet_pton(AF_INET6, ip, &probe) != 1) {
            return;
        }
        memcpy(st->client_ip, ip, n + 1);
        if (!addr_is_trusted_proxy(st->srv, ip)) {
            return;
        }
        end = start > 0 ? start - 1 : 0;
    }
}

/* Responses */

/* Owned by the libmicrohttpd response, which may outlive the request state. */
struct stream_box {
    xrpc_stream_fn *fn;
    void *ctx;
    void (*free_ctx)(void *ctx);
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_box *r = cls;
    ssize_t n = r->fn(r->ctx, pos, (uint8_t *)buf, max);
    if (n == XRPC_STREAM_END) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (n < 0) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    return n;
}

static void stream_done(void *cls)
{
    struct stream_box *r = cls;
    if (r->free_ctx) {
        r->free_ctx(r->ctx);
    }
    free(r);
}

/* Carries the upgrade callback past the request state, which is freed at completion. */
struct upgrade_box {
    xrpc_upgrade_fn *fn;
    void *ctx;
};

static void on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh)
{
    struct upgrade_box box = *(struct upgrade_box *)cls;
    free(cls);
    box.fn(box.ctx, sock, (const uint8_t *)extra_in, extra_in_size, urh);
}

void xrpc_upgrade_close(void *handle)
{
    MHD_upgrade_action(handle, MHD_UPGRADE_ACTION_CLOSE);
}

static enum MHD_Result send_response(struct req_state *st, struct MHD_Connection *conn)
{
    struct xrpc_resp *r = &st->rq.resp;
    struct MHD_Response *resp;
    if (r->upgrade) {
        edge_conn_upgraded(st->srv->edge, st->conn);
        struct upgrade_box *box = xmalloc(sizeof *box);
        *box = (struct upgrade_box){r->upgrade, r->upgrade_ctx};
        resp = MHD_create_response_for_upgrade(on_upgraded, box);
        if (!resp) {
            free(box);
            return MHD_NO;
        }
    } else if (r->stream) {
        uint64_t size = r->stream_size < 0 ? MHD_SIZE_UNKNOWN : (uint64_t)r->stream_size;
        struct stream_box *box = xmalloc(sizeof *box);
        *box = (struct stream_box){r->stream, r->stream_ctx, r->stream_free};
        resp = MHD_create_response_from_callback(size, STREAM_BLOCK_BYTES, stream_reader, box,
                                                 stream_done);
        if (!resp) {
            free(box);
            return MHD_NO; /* on_completed frees the context */
        }
        r->stream_free = NULL; /* the response owns the context now */
    } else if (r->body_malloced) {
        resp = MHD_create_response_from_buffer(r->body_len, (void *)r->body, MHD_RESPMEM_MUST_FREE);
        r->body_malloced = false; /* libmicrohttpd frees it now */
    } else {
        resp = MHD_create_response_from_buffer(r->body_len, (void *)(r->body ? r->body : NULL),
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        return MHD_NO;
    }
    if (r->content_type) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    }
    cors_add(resp);
    ratelimit_add_headers(&st->rq); /* before the loop below sends the headers */
    for (size_t i = 0; i < r->n_headers; i++) {
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    }
    if (st->rq.method_bit == HTTP_OTHER && strcmp(st->rq.method, "OPTIONS") == 0) {
        cors_add_preflight(resp, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                             "access-control-request-headers"));
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    st->queued = true;
    return ret;
}

/* Request flow */

static enum http_method method_bit(const char *m)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        return HTTP_GET;
    }
    if (strcmp(m, "POST") == 0) {
        return HTTP_POST;
    }
    if (strcmp(m, "PUT") == 0) {
        return HTTP_PUT;
    }
    if (strcmp(m, "DELETE") == 0) {
        return HTTP_DELETE;
    }
    return HTTP_OTHER;
}

static const char *content_type_of(struct req_state *st, struct MHD_Connection *conn)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "content-type");
    if (!ct) {
        return NULL;
    }
    size_t n = strcspn(ct, ";");
    while (n && isspace((unsigned char)ct[n - 1])) {
        n--;
    }
    while (n && isspace((unsigned char)*ct)) {
        ct++;
        n--;
    }
    if (n == 0) {
        return NULL;
    }
    char *out = arena_strndup(&st->arena, ct, n);
    for (char *p = out; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return out;
}

/* Whether the route's comma-separated input list accepts media type ct. */
static bool input_accepts(const char *list, const char *ct)
{
    size_t ct_len = strlen(ct);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && p[m - 1] == ' ') {
            m--;
        }
        if ((m == 3 && memcmp(p, "*/*", 3) == 0) || (m == ct_len && strncmp(p, ct, m) == 0)) {
            return true;
        }
        p += n;
    }
    return false;
}

/* spec(xrpc) as the reference checks it: a body is allowed only where the method declares
 * input, must then be present, and must carry a declared Content-Type. */
static int check_input(struct req_state *st, struct MHD_Connection *conn, bool has_body,
                       uint64_t content_length)
{
    struct xrpc_req *rq = &st->rq;
    const struct xrpc_route *route = rq->route;
    if (!route->input) {
        if (has_body) {
            return xrpc_fail(rq, 400, "InvalidRequest",
                             "A request body was provided when none was expected");
        }
        return 0;
    }
    if (!has_body) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "A request body is expected but none was provided");
    }
    if (!rq->content_type) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Request encoding (Content-Type) required but not provided");
    }
    if (!input_accepts(route->input, rq->content_type)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Wrong request encoding (Content-Type): %s",
                         rq->content_type);
    }
    if (content_length > st->body_max) {
        return xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
    }
    return 0;
}

static enum MHD_Result count_transfer_encodings(void *cls, enum MHD_ValueKind kind, const char *key,
                                                const char *value)
{
    if (strcasecmp(key, "transfer-encoding") == 0) {
        (*(unsigned *)cls)++;
    }
    return MHD_YES;
}

/* Checks of the head as a whole (http/head.h), before routing; true when a refusal was set. */
static bool refuse_head(struct req_state *st, struct MHD_Connection *conn, const char *method,
                        const char *version)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    struct head_facts f = {
        .method = method,
        .target = st->wire_uri,
        .target_len = st->raw_uri_len,
        .version = version,
        .head_bytes = info ? info->header_size : 0,
        .transfer_encoding =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "transfer-encoding"),
        .line_buffer_max = HTTP_CONN_MEMORY_BYTES,
    };
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_transfer_encodings,
                              &f.n_transfer_encodings);
    const char *why;
    int status = head_refusal(&f, &why);
    if (status) {
        xrpc_fail(&st->rq, status, status == 501 ? "NotImplemented" : "InvalidRequest", "%s", why);
    }
    return status != 0;
}

static void start_request(struct req_state *st, struct MHD_Connection *conn, const char *method,
                          const char *version)
{
    struct xrpc_req *rq = &st->rq;
    rq->_conn = conn;
    rq->method = method;
    rq->method_bit = method_bit(method);
    find_client_ip(st, conn);

    const char *uri = st->raw_uri ? st->raw_uri : "/";
    size_t path_len = strcspn(uri, "?#");
    rq->path = arena_strndup(&st->arena, uri, path_len);
    rq->log.nsid = rq->path;

    const char *len_hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "content-length");
    uint64_t content_length = len_hdr ? strtoull(len_hdr, NULL, 10) : 0;
    bool has_body = content_length > 0 ||
                    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "transfer-encoding");
    st->has_body = has_body;
    if (refuse_head(st, conn, method, version)) {
        return;
    }
    if (uri[path_len] == '?') {
        const char *q = uri + path_len + 1;
        enum query_status qs = parse_query(st, arena_strndup(&st->arena, q, strcspn(q, "#")));
        if (qs != QUERY_OK) {
            xrpc_fail(rq, 400, "InvalidRequest", "%s",
                      qs == QUERY_NUL ? "query parameters must not contain NUL bytes"
                                      : "too many query parameters");
            return;
        }
    }
    rq->content_type = content_type_of(st, conn);

    if (strcmp(method, "OPTIONS") == 0) {
        xrpc_reply_empty(rq, 204); /* CORS preflight; headers added in send_response */
        return;
    }

    rq->route = router_find_path(rq->path);
    if (rq->route) {
        if (!(rq->route->methods & rq->method_bit)) {
            xrpc_reply_static(rq, 405, "text/plain; charset=utf-8", "Method Not Allowed\n");
            return;
        }
        st->body_max = rq->route->body_max ? rq->route->body_max : XRPC_BODY_MAX_DEFAULT;
        if (content_length > st->body_max) {
            xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
        }
        return;
    }
    if (strncmp(rq->path, XRPC_PREFIX, strlen(XRPC_PREFIX)) != 0) {
        xrpc_reply_static(rq, 404, "text/plain; charset=utf-8", "Not Found\n");
        return;
    }

    const char *nsid = rq->path + strlen(XRPC_PREFIX);
    size_t nsid_len = strlen(nsid);
    if (nsid_len > 0 && nsid[nsid_len - 1] == '/') {
        nsid_len--; /* "/xrpc/<nsid>/" routes like "/xrpc/<nsid>", as in express */
    }
    if (!nsid_chars_ok(nsid, nsid_len)) {
        xrpc_fail(rq, 400, "InvalidRequest", "invalid xrpc path");
        return;
    }
    rq->nsid = arena_strndup(&st->arena, nsid, nsid_len);
    rq->log.nsid = rq->nsid;
    rq->route = router_find_xrpc(rq->nsid);
    if (!rq->route) {
        rq->route = router_fallback();
        if (!rq->route) {
            xrpc_fail(rq, 501, "MethodNotImplemented", "Method Not Implemented");
            return;
        }
        st->body_max = rq->route->body_max ? rq->route->body_max : XRPC_BODY_MAX_DEFAULT;
        return; /* the fallback (a proxy) judges method and body itself */
    }
    if (!(rq->route->methods & rq->method_bit)) {
        xrpc_fail(rq, 400, "InvalidRequest", "Incorrect HTTP method (%s) expected %s", method,
                  rq->route->methods & HTTP_POST ? "POST" : "GET");
        return;
    }
    st->body_max = rq->route->body_max ? rq->route->body_max : XRPC_BODY_MAX_DEFAULT;
    (void)check_input(st, conn, has_body, content_length);
}

/* Takes one chunk of body; sets an error response when over the limit or refused. */
static void take_chunk(struct req_state *st, const char *data, size_t len)
{
    struct xrpc_req *rq = &st->rq;
    st->body_seen += len;
    if (st->body_seen > st->body_max) {
        xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
        return;
    }
    if (rq->route && rq->route->on_body) {
        (void)rq->route->on_body(rq, (const uint8_t *)data, len);
        return;
    }
    if (buf_append(&st->body, data, len) != ERR_OK) {
        xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
    }
}

static void json_free(void *p)
{
    json_decref(p);
}

/* Admission (http/overload.h, http/ratelimit.h): refusals that cost nothing, taken when the
 * headers are in so a refused client's body is never read; then, once the body is parsed,
 * the limits keyed by its content and a slot of the request's class of work. */
static void admit_on_headers(struct req_state *st)
{
    struct xrpc_req *rq = &st->rq;
    if (!rq->resp.status && !overload_peek(rq) && !hostbudget_peek(rq)) {
        (void)ratelimit_on_headers(rq);
    }
}

static bool admit_on_body(struct req_state *st)
{
    return !ratelimit_on_input(&st->rq);
}

/* Forgets a response a handler set (its body and stream), keeping the first keep headers:
 * those set before the handler ran. */
static void reset_response(struct xrpc_req *rq, size_t keep)
{
    struct xrpc_resp *r = &rq->resp;
    if (r->stream_free && r->stream_ctx) {
        r->stream_free(r->stream_ctx);
    }
    if (r->body_malloced) {
        free((void *)r->body);
    }
    r->status = 0;
    r->content_type = NULL;
    r->body = NULL;
    r->body_len = 0;
    r->body_malloced = false;
    r->stream = NULL;
    r->stream_ctx = NULL;
    r->stream_free = NULL;
    r->stream_size = -1;
    r->n_headers = keep < r->n_headers ? keep : r->n_headers;
}

static void run_handler(struct req_state *st)
{
    struct xrpc_req *rq = &st->rq;
    rq->body = buf_bytes(&st->body);
    if (rq->nsid && rq->route->input && !(rq->route->flags & ROUTE_RAW_BODY) && rq->content_type &&
        strcmp(rq->content_type, "application/json") == 0 && !rq->route->on_body) {
        json_error_t jerr;
        rq->json = json_loadb((const char *)rq->body.ptr, rq->body.len, 0, &jerr);
        if (!rq->json) {
            xrpc_fail(rq, 400, "InvalidRequest", "Request body is not valid JSON");
            return;
        }
        arena_defer(rq->arena, json_free, rq->json);
        if (!json_is_object(rq->json)) {
            xrpc_fail(rq, 400, "InvalidRequest", "Input must be an object");
            return;
        }
    }
    rq->db = db_thread();
    if (!admit_on_body(st)) {
        return;
    }
    struct db *replica = NULL;
    if ((rq->route->flags & ROUTE_REPLICA) && !xrpc_header(rq, "authorization") &&
        !xrpc_header(rq, "atproto-repo-rev") && (replica = replica_thread())) {
        rq->db = replica; /* read-your-writes: a caller who wrote is signed in, or names the rev */
    }
    size_t headers_before = rq->resp.n_headers;
    int status = rq->route->handler(rq);
    if (replica) {
        rq->db = db_thread(); /* what runs after the handler (limits, logs) uses the primary */
        if (rq->resp.status >= 500 && !rq->resp.upgrade) {
            /* the replica failed under this read (stopped, or dropped the connection): the
             * client gets the primary's answer, and the thread leaves the replica alone
             * until the checker finds it fresh again */
            log_warn(&rq->log, "a read from a replica failed; answered from the primary");
            replica_thread_failed();
            reset_response(rq, headers_before);
            status = rq->route->handler(rq);
        } else {
            replica_count_served();
        }
    }
    if (rq->resp.status == 0) {
        log_error(&rq->log, "handler returned %d without a response", status);
        xrpc_fail(rq, 500, NULL, NULL);
    }
}

/* Handing a request to the handler threads (http/overload.h): this HTTP thread suspends the
 * connection and goes on with others; the handler thread runs the handler and resumes the
 * connection, and libmicrohttpd calls on_request again, which sends the answer. */
static void suspend_for_handler(void *ctx)
{
    struct req_state *st = ctx;
    MHD_suspend_connection(st->rq._conn);
}

static void run_on_handler_thread(void *ctx)
{
    struct req_state *st = ctx;
    run_handler(st);
    st->handled = true;
    MHD_resume_connection(st->rq._conn);
}

/* True when queued (the connection is suspended); false to answer now: inline work, or a
 * refusal already set. */
static bool hand_over(struct req_state *st)
{
    return overload_submit(&st->rq, suspend_for_handler, run_on_handler_thread, st) ==
           OVERLOAD_QUEUED;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    struct req_state *st = *req_cls;
    if (!st) {
        return MHD_NO; /* the URI-log callback always runs first; never reached */
    }
    struct edge *edge = st->srv->edge;
    if (!st->headers_done) {
        st->headers_done = true;
        if (!edge_head_done(edge, st->conn)) {
            return MHD_NO; /* cut by the watchdog meanwhile */
        }
        start_request(st, conn, method, version);
        admit_on_headers(st);
        const struct xrpc_route *route = st->rq.route;
        if (!st->rq.resp.status && route && (route->flags & ROUTE_ON_HEAD) && route->on_body) {
            (void)route->on_body(&st->rq, NULL, 0); /* may refuse from the headers */
        }
        if (st->rq.resp.status && st->has_body) {
            /* refused before reading the body: libmicrohttpd then sends no 100 Continue and
             * closes the connection instead of reading what we do not want; the closing
             * lingers so that our answer is not lost to a reset */
            edge_conn_linger(edge, st->conn);
            if (!edge_body_done(edge, st->conn)) {
                return MHD_NO;
            }
            return send_response(st, conn);
        }
        return MHD_YES; /* bodiless refusals wait for the last call, keeping the connection */
    }
    if (*upload_size) {
        if (!st->rq.resp.status) {
            take_chunk(st, upload_data, *upload_size);
        } else {
            /* Refused mid-body (over the limit, or on_body said no). libmicrohttpd cannot
             * answer before the body is read, so the rest is discarded, up to a bound past
             * which the connection is cut without an answer. */
            st->body_seen += *upload_size;
            if (st->body_seen > st->body_max + HTTP_DISCARD_MAX_BYTES) {
                return MHD_NO;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->queued) {
        return MHD_YES;
    }
    if (!edge_body_done(edge, st->conn)) {
        return MHD_NO; /* cut by the watchdog while the body came in */
    }
    if (!st->rq.resp.status && !st->handled && hand_over(st)) {
        return MHD_YES; /* suspended: a handler thread runs it and resumes the connection */
    }
    if (!st->rq.resp.status && !st->handled) {
        run_handler(st);
    }
    return send_response(st, conn);
}

/* libmicrohttpd 0.9.75 calls this with the target still in its buffer, then splits the
 * query there into one header record per parameter, allocated from the connection's memory
 * pool. Enough parameters exhaust the pool, and that error path leaves the connection
 * waiting with no answer sent (the 431 is logged, never written). We parse the query
 * ourselves from a copy, so the library is given an empty one: the NUL written after the
 * '?' ends the string it is about to split. (A '?' behind a NUL byte escapes this; such a
 * request gets its 400, or is cut at the headers deadline.) */
static void hide_query_from_library(const char *uri)
{
    char *q = strchr(uri, '?');
    if (q) {
        q[1] = '\0'; /* writable: the library's own read buffer, passed as const */
    }
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *srv = cls;
    struct req_state *st = xcalloc(1, sizeof *st);
    arena_init(&st->arena);
    buf_init(&st->body, BUF_MAX_HUGE);
    st->srv = srv;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    st->conn = info ? info->socket_context : NULL;
    st->raw_uri_len = uri ? strlen(uri) : 1;
    st->raw_uri = arena_strndup(&st->arena, uri ? uri : "/", st->raw_uri_len);
    st->wire_uri = uri;
    if (uri) {
        hide_query_from_library(uri);
    }
    st->body_max = XRPC_BODY_MAX_DEFAULT;
    st->rq.arena = &st->arena;
    st->rq.cfg = srv->cfg;
    st->rq.resp.stream_size = -1;
    uint64_t n = atomic_fetch_add(&srv->next_id, 1);
    snprintf(st->rq.request_id, sizeof st->rq.request_id, "%08x%08llx", srv->id_base,
             (unsigned long long)(n & 0xffffffffu));
    st->rq.log.request_id = st->rq.request_id;
    clock_gettime(CLOCK_MONOTONIC, &st->started_at);
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req_state *st = *req_cls;
    if (!st) {
        return;
    }
    *req_cls = NULL;
    edge_request_done(st->srv->edge, st->conn);
    struct xrpc_req *rq = &st->rq;
    overload_leave(rq);
    if (rq->method) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double ms = (double)(now.tv_sec - st->started_at.tv_sec) * 1e3 +
                    (double)(now.tv_nsec - st->started_at.tv_nsec) / 1e6;
        /* metrics and the access-log line (the path only: queries may carry tokens) */
        http_request_done(rq, ms, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    }
    if (rq->resp.body_malloced) {
        free((void *)rq->resp.body);
    }
    if (rq->resp.stream_free) {
        rq->resp.stream_free(rq->resp.stream_ctx); /* the response was never created */
    }
    arena_clear(&st->arena);
    buf_clear(&st->body);
    free(st);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_warn(NULL, "http: %s", msg);
}

/* Accept policy: a new connection is refused outright when its address is at its cap.
 * (libmicrohttpd's own MHD_OPTION_PER_IP_CONNECTION_LIMIT puts one cap on every address,
 * a local reverse proxy's included, which carries everyone's connections.) */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addr_len)
{
    struct http_server *srv = cls;
    return edge_admit(srv->edge, addr) ? MHD_YES : MHD_NO;
}

/* The connection's bookkeeping lives in its socket context, from accept to close; the
 * library calls CLOSED before it closes the socket, so the watchdog never touches a
 * descriptor that may have been reused. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *addr =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        *socket_context =
            fd ? edge_conn_open(srv->edge, fd->connect_fd, addr ? addr->client_addr : NULL) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        edge_conn_close(srv->edge, *socket_context);
        *socket_context = NULL;
    }
}

unsigned http_connection_budget(unsigned worker_threads)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        rl.rlim_cur = HTTP_CONNECTIONS_FALLBACK + HTTP_FD_RESERVE;
    }
    uint64_t reserve = HTTP_FD_RESERVE + (uint64_t)worker_threads * HTTP_FD_PER_WORKER;
    uint64_t n =
        rl.rlim_cur > reserve + HTTP_CONNECTIONS_MIN ? rl.rlim_cur - reserve : HTTP_CONNECTIONS_MIN;
    return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (unsigned)n;
}

static struct MHD_Daemon *start_daemon(struct http_server *srv, const struct listen_addr *la,
                                       unsigned max_connections)
{
    const struct config *cfg = srv->cfg;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_UPGRADE | MHD_ALLOW_SUSPEND_RESUME;
    if (la->family == AF_INET6) {
        /* "::" takes IPv4 too (v4-mapped), as the reference's listen() does */
        flags |= la->scope == LISTEN_ALL ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    }
    /* the logger first, so libmicrohttpd reports option problems through it */
    return MHD_start_daemon(
        flags, (uint16_t)cfg->port, on_accept, srv, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, srv, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&la->sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->worker_threads, MHD_OPTION_CONNECTION_LIMIT,
        max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY_BYTES,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_END);
}

/* The connection limit: the setting, or what the open-file limit leaves room for. */
static unsigned connection_limit(const struct config *cfg)
{
    unsigned threads = cfg->worker_threads > 0 ? (unsigned)cfg->worker_threads : 1;
    unsigned budget = http_connection_budget(threads);
    if (cfg->http_max_connections <= 0) {
        return budget;
    }
    if ((unsigned)cfg->http_max_connections > budget) {
        log_warn(NULL,
                 "PDS_HTTP_MAX_CONNECTIONS=%d is more than the open-file limit leaves room "
                 "for (%u): connections past that will wait to be accepted",
                 cfg->http_max_connections, budget);
    }
    /* at least one per worker thread: the library divides the limit among them */
    return (unsigned)cfg->http_max_connections < threads ? threads
                                                         : (unsigned)cfg->http_max_connections;
}

enum err http_server_start(const struct config *cfg, struct http_server **out)
{
    *out = NULL;
    struct http_server *srv = xcalloc(1, sizeof *srv);
    srv->cfg = cfg;
    for (size_t i = 0; i < cfg->trusted_proxies.len; i++) {
        if (cidr_list_add(&srv->trusted_proxies, cfg->trusted_proxies.items[i])) {
            log_error(NULL, "PDS_TRUSTED_PROXIES: \"%s\" is not an address or range",
                      cfg->trusted_proxies.items[i]);
            free(srv);
            return ERR_INVALID;
        }
    }
    if (getrandom(&srv->id_base, sizeof srv->id_base, 0) != sizeof srv->id_base) {
        srv->id_base = (uint32_t)time(NULL);
    }
    atomic_init(&srv->next_id, 1);
    struct edge_limits lim = {
        .per_ip =
            cfg->http_max_connections_per_ip > 0 ? (unsigned)cfg->http_max_connections_per_ip : 0,
        .per_local_ip = cfg->http_max_connections_per_local_ip > 0
                            ? (unsigned)cfg->http_max_connections_per_local_ip
                            : 0,
        .headers_timeout_ms = cfg->http_headers_timeout_ms,
        .request_timeout_ms = cfg->http_request_timeout_ms,
    };
    if (overload_pool_start() != ERR_OK) { /* the handler threads (http/overload.h) */
        free(srv);
        return ERR_INTERNAL;
    }
    if (edge_start(&lim, &srv->edge) != ERR_OK) {
        overload_pool_stop();
        free(srv);
        return ERR_INTERNAL;
    }
    struct listen_addr la;
    if (listen_addr_parse(cfg->listen_address, cfg->port, &la) != ERR_OK) {
        log_error(NULL, "PDS_LISTEN_ADDRESS \"%s\" is not an IP address", cfg->listen_address);
        edge_stop(srv->edge);
        overload_pool_stop();
        free(srv);
        return ERR_INVALID;
    }
    unsigned max_connections = connection_limit(cfg);
    srv->daemon = start_daemon(srv, &la, max_connections);
    if (!srv->daemon && la.family == AF_INET6 && la.scope == LISTEN_ALL &&
        listen_addr_parse("0.0.0.0", cfg->port, &la) == ERR_OK) {
        srv->daemon = start_daemon(srv, &la, max_connections); /* no IPv6: every IPv4 interface */
    }
    if (!srv->daemon) {
        log_error(NULL, "could not listen on %s (in use, not permitted, or not an address here)",
                  la.text);
        edge_stop(srv->edge);
        overload_pool_stop();
        free(srv);
        return ERR_INTERNAL;
    }
    const char *reach = la.scope == LISTEN_LOOPBACK ? "; PDS_LISTEN_ADDRESS=:: opens it to others"
                        : la.scope != LISTEN_ALL    ? ""
                        : la.family == AF_INET6     ? ", IPv6 and IPv4"
                                                    : ", IPv4 only";
    log_info(NULL, "listening on %s (%s%s)", la.text, listen_scope_str(la.scope), reach);
    log_info(NULL,
             "HTTP: at most %u connections; per client address %u, per local one %u (0: no cap)",
             max_connections, lim.per_ip, lim.per_local_ip);
    *out = srv;
    return ERR_OK;
}

void http_server_stop(struct http_server *s)
{
    if (!s) {
        return;
    }
    /* handler threads first: they finish what is queued and resume every suspended
     * connection, which libmicrohttpd requires before it stops */
    MHD_socket listener = MHD_quiesce_daemon(s->daemon); /* ours to close from now on */
    overload_pool_stop();
    MHD_stop_daemon(s->daemon);
    if (listener != MHD_INVALID_SOCKET) {
        close(listener);
    }
    edge_stop(s->edge); /* after the daemon: every connection has been closed */
    free(s);
}
