/* test_server.c - the HTTP server end to end over a real socket with libcurl: routing, the
 * reference's method/body/Content-Type checks, limits, JSON parsing, query parameters, CORS,
 * streamed bodies both ways, the client address behind a proxy, and health with no database.
 *
 * This file defines the router functions itself (a link seam): the linker then never pulls
 * router.o from libpds_http, so the server runs against the test routes below. */
#include "http/server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/host/host.h"
#include "api/server/server.h"
#include "http/router.h"
#include "config/config.h"
#include "unit/test.h"

/* Handlers of the test routes */

static int echo_json(struct xrpc_req *rq)
{
    return xrpc_reply_json(rq, 200, json_incref(rq->json));
}

static int echo_any(struct xrpc_req *rq)
{
    return xrpc_reply_bytes(rq, 200, rq->content_type, rq->body.ptr, rq->body.len);
}

static int no_body(struct xrpc_req *rq)
{
    return xrpc_reply_empty(rq, 200);
}

static int no_reply(struct xrpc_req *rq)
{
    return 200; /* forgot to reply: the server answers 500 */
}

static int params(struct xrpc_req *rq)
{
    int64_t limit;
    bool flag;
    const char *q;
    int st = xrpc_param_int(rq, "limit", 1, 100, 50, &limit);
    if (!st) {
        st = xrpc_param_bool(rq, "flag", false, &flag);
    }
    if (!st) {
        st = xrpc_param_str(rq, "q", false, &q);
    }
    if (st) {
        return st;
    }
    const char **uris;
    size_t n;
    xrpc_param_all(rq, "uris", &uris, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_string(uris[i]));
    }
    return xrpc_reply_json(rq, 200,
                           json_pack("{s:I, s:b, s:s?, s:o}", "limit", (json_int_t)limit, "flag",
                                     flag, "q", q, "uris", arr));
}

static int required_param(struct xrpc_req *rq)
{
    const char *repo;
    int st = xrpc_param_str(rq, "repo", true, &repo);
    if (st) {
        return st;
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "repo", repo));
}

static int whoami(struct xrpc_req *rq)
{
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "ip", rq->client_ip));
}

#define STREAM_OUT_BYTES 200000

static ssize_t produce(void *ctx, uint64_t pos, uint8_t *buf, size_t max)
{
    if (pos >= STREAM_OUT_BYTES) {
        return XRPC_STREAM_END;
    }
    size_t n = STREAM_OUT_BYTES - pos < max ? STREAM_OUT_BYTES - pos : max;
    memset(buf, 'a', n);
    return (ssize_t)n;
}

static int stream_out(struct xrpc_req *rq)
{
    int *freed = xcalloc(1, sizeof *freed);
    return xrpc_reply_stream(rq, 200, "application/octet-stream", -1, produce, freed, free);
}

struct sink {
    uint64_t bytes;
    int chunks;
};

static int count_chunk(struct xrpc_req *rq, const uint8_t *chunk, size_t len)
{
    if (!rq->body_sink) {
        rq->body_sink = arena_zalloc(rq->arena, sizeof(struct sink));
    }
    struct sink *s = rq->body_sink;
    s->bytes += len;
    s->chunks++;
    return 0;
}

static int stream_in(struct xrpc_req *rq)
{
    struct sink *s = rq->body_sink;
    return xrpc_reply_json(rq, 200,
                           json_pack("{s:I, s:I}", "bytes", (json_int_t)(s ? s->bytes : 0),
                                     "buffered", (json_int_t)rq->body.len));
}

static void upgraded(void *ctx, int fd, const uint8_t *extra, size_t extra_len, void *handle)
{
    static const char hello[] = "hello over the upgraded socket";
    ssize_t w = write(fd, hello, sizeof hello - 1);
    (void)w;
    xrpc_upgrade_close(handle);
}

static int upgrade(struct xrpc_req *rq)
{
    const char *up = xrpc_header(rq, "upgrade");
    if (!up || strcasecmp(up, "websocket") != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "expected a WebSocket upgrade");
    }
    xrpc_set_header(rq, "Upgrade", "websocket");
    xrpc_set_header(rq, "Connection", "Upgrade");
    return xrpc_reply_upgrade(rq, upgraded, NULL);
}

/* The routes this test installs in place of the program's. */

static const struct xrpc_route test_xrpc[] = {
    {"com.atproto.server.describeServer", HTTP_GET, api_server_describe_server, NULL, 0, 0, NULL},
    {"test.echo.json", HTTP_POST, echo_json, XRPC_INPUT_JSON, 64, 0, NULL},
    {"test.echo.any", HTTP_POST, echo_any, XRPC_INPUT_ANY, 0, 0, NULL},
    {"test.nobody", HTTP_POST, no_body, NULL, 0, 0, NULL},
    {"test.noreply", HTTP_GET, no_reply, NULL, 0, 0, NULL},
    {"test.params", HTTP_GET, params, NULL, 0, 0, NULL},
    {"test.required", HTTP_GET, required_param, NULL, 0, 0, NULL},
    {"test.whoami", HTTP_GET, whoami, NULL, 0, 0, NULL},
    {"test.stream.out", HTTP_GET, stream_out, NULL, 0, 0, NULL},
    {"test.upgrade", HTTP_GET, upgrade, NULL, 0, 0, NULL},
    {"test.stream.in", HTTP_POST, stream_in, XRPC_INPUT_ANY, 1 << 20, 0, count_chunk},
    {"/", HTTP_GET, api_basic_root, NULL, 0, 0, NULL},
    {"/xrpc/_health", HTTP_GET, api_basic_health, NULL, 0, 0, NULL},
};
static const struct route_table test_table = {test_xrpc, ARRAY_LEN(test_xrpc)};
static const struct route_table *const test_tables[] = {&test_table};

/* Client side */

static int port;

struct reply {
    long status;
    struct buf body;
    struct buf headers;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    return buf_append(b, p, size * n) == ERR_OK ? size * n : 0;
}

/* One request; extra_headers is a NULL-terminated list (may be NULL). */
static void call(const char *method, const char *path, const char *const *extra_headers,
                 const void *body, size_t body_len, struct reply *out)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    buf_init(&out->body, BUF_MAX_DEFAULT);
    buf_init(&out->headers, BUF_MAX_DEFAULT);
    out->status = 0;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    struct curl_slist *h = NULL;
    for (size_t i = 0; extra_headers && extra_headers[i]; i++) {
        h = curl_slist_append(h, extra_headers[i]);
    }
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    } else {
        fprintf(stderr, "curl %s %s: %s\n", method, path, curl_easy_strerror(rc));
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void reply_clear(struct reply *r)
{
    buf_clear(&r->body);
    buf_clear(&r->headers);
}

static const char *body_str(struct reply *r)
{
    return r->body.ptr ? (const char *)r->body.ptr : "";
}

/* The "error" and "message" of an XRPC error body, checked together. */
static void check_error(struct reply *r, long status, const char *name, const char *message)
{
    CHECK_EQ(r->status, status);
    json_t *j = json_loadb(body_str(r), r->body.len, 0, NULL);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "error")), name);
    if (message) {
        CHECK_STR(json_string_value(json_object_get(j, "message")), message);
    }
    json_decref(j);
}

static bool has_header(struct reply *r, const char *needle)
{
    return r->headers.ptr && strcasestr((const char *)r->headers.ptr, needle) != NULL;
}

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

static void test_server_routes_and_unknown_methods(void)
{
    struct reply r;
    call("GET", "/", NULL, NULL, 0, &r);
    CHECK_EQ(r.status, 200);
    CHECK(strstr(body_str(&r), "Personal Data Server") != NULL);
    CHECK(has_header(&r, "access-control-allow-origin: *"));
    reply_clear(&r);

    call("HEAD", "/", NULL, NULL, 0, &r);
    CHECK_EQ(r.status, 200);
    reply_clear(&r);

    call("GET", "/xrpc/com.atproto.server.describeServer", NULL, NULL, 0, &r);
    CHECK_EQ(r.status, 200);
    json_t *j = json_loadb(body_str(&r), r.body.len, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(j, "did")), "did:web:example.test");
    CHECK_STR(json_string_value(json_array_get(json_object_get(j, "availableUserDomains"), 0)),
              ".example.test");
    CHECK(json_is_true(json_object_get(j, "inviteCodeRequired")));
    CHECK(json_is_false(json_object_get(j, "phoneVerificationRequired")));
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "links"), "privacyPolicy")),
              "https://example.test/privacy");
    CHECK(json_is_object(json_object_get(j, "contact")));
    json_decref(j);
    reply_clear(&r);

    call("GET", "/xrpc/com.example.nothing", NULL, NULL, 0, &r);
    check_error(&r, 501, "MethodNotImplemented", "Method Not Implemented");
    reply_clear(&r);

    call("POST", "/xrpc/com.atproto.server.describeServer", NULL, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "Incorrect HTTP method (POST) expected GET");
    reply_clear(&r);

    call("GET", "/xrpc/test.echo.json", NULL, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "Incorrect HTTP method (GET) expected POST");
    reply_clear(&r);

    call("GET", "/xrpc/bad$path", NULL, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "invalid xrpc path");
    reply_clear(&r);

    call("GET", "/no/such/page", NULL, NULL, 0, &r);
    CHECK_EQ(r.status, 404);
    reply_clear(&r);

    call("GET", "/xrpc/test.noreply", NULL, NULL, 0, &r);
    check_error(&r, 500, "InternalServerError", "Internal Server Error");
    reply_clear(&r);
}

static void test_server_checks_bodies_like_the_reference(void)
{
    struct reply r;
    call("POST", "/xrpc/test.echo.json", json_ct, "{\"a\":[1,\"x\"]}", 13, &r);
    CHECK_EQ(r.status, 200);
    CHECK_STR(body_str(&r), "{\"a\":[1,\"x\"]}");
    reply_clear(&r);

    static const char *const json_ct_params[] = {"Content-Type: Application/JSON; charset=utf-8",
                                                 NULL};
    call("POST", "/xrpc/test.echo.json", json_ct_params, "{}", 2, &r);
    CHECK_EQ(r.status, 200);
    reply_clear(&r);

    call("POST", "/xrpc/test.echo.json", json_ct, "{\"a\":", 5, &r);
    check_error(&r, 400, "InvalidRequest", NULL);
    reply_clear(&r);

    call("POST", "/xrpc/test.echo.json", json_ct, "[1,2]", 5, &r);
    check_error(&r, 400, "InvalidRequest", "Input must be an object");
    reply_clear(&r);

    call("POST", "/xrpc/test.echo.json", json_ct, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "A request body is expected but none was provided");
    reply_clear(&r);

    static const char *const no_ct[] = {"Content-Type:", NULL};
    call("POST", "/xrpc/test.echo.json", no_ct, "{}", 2, &r);
    check_error(&r, 400, "InvalidRequest",
                "Request encoding (Content-Type) required but not provided");
    reply_clear(&r);

    static const char *const text_ct[] = {"Content-Type: text/plain", NULL};
    call("POST", "/xrpc/test.echo.json", text_ct, "{}", 2, &r);
    check_error(&r, 400, "InvalidRequest", "Wrong request encoding (Content-Type): text/plain");
    reply_clear(&r);

    call("POST", "/xrpc/test.nobody", json_ct, "{}", 2, &r);
    check_error(&r, 400, "InvalidRequest", "A request body was provided when none was expected");
    reply_clear(&r);

    call("POST", "/xrpc/test.nobody", NULL, NULL, 0, &r);
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.body.len, 0);
    reply_clear(&r);

    char big[100];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    call("POST", "/xrpc/test.echo.json", json_ct, big, sizeof big, &r);
    check_error(&r, 413, "PayloadTooLarge", NULL);
    reply_clear(&r);

    /* no Content-Length: the limit is enforced while reading */
    static const char *const chunked[] = {"Content-Type: application/json",
                                          "Transfer-Encoding: chunked", NULL};
    call("POST", "/xrpc/test.echo.json", chunked, big, sizeof big, &r);
    check_error(&r, 413, "PayloadTooLarge", NULL);
    reply_clear(&r);

    static const char *const cbor_ct[] = {"Content-Type: application/vnd.ipld.car", NULL};
    static const uint8_t bin[] = {0x00, 0xff, 0x10, 0x00};
    call("POST", "/xrpc/test.echo.any", cbor_ct, bin, sizeof bin, &r);
    CHECK_EQ(r.status, 200);
    CHECK(r.body.len == sizeof bin && memcmp(r.body.ptr, bin, sizeof bin) == 0);
    CHECK(has_header(&r, "content-type: application/vnd.ipld.car"));
    reply_clear(&r);
}

static void test_server_query_parameters(void)
{
    struct reply r;
    call("GET", "/xrpc/test.params?limit=5&flag=true&uris=a&uris=b+c&uris=%2Fd%zz&q=%C3%A9", NULL,
         NULL, 0, &r);
    CHECK_EQ(r.status, 200);
    json_t *j = json_loadb(body_str(&r), r.body.len, 0, NULL);
    CHECK_EQ(json_integer_value(json_object_get(j, "limit")), 5);
    CHECK(json_is_true(json_object_get(j, "flag")));
    json_t *uris = json_object_get(j, "uris");
    CHECK_EQ(json_array_size(uris), 3);
    CHECK_STR(json_string_value(json_array_get(uris, 0)), "a");
    CHECK_STR(json_string_value(json_array_get(uris, 1)), "b c");
    CHECK_STR(json_string_value(json_array_get(uris, 2)), "/d%zz");
    CHECK_STR(json_string_value(json_object_get(j, "q")), "\xc3\xa9");
    json_decref(j);
    reply_clear(&r);

    call("GET", "/xrpc/test.params?limit=&unknown=1", NULL, NULL, 0, &r);
    CHECK_EQ(r.status, 200); /* empty means absent; unknown names are ignored */
    CHECK(strstr(body_str(&r), "\"limit\":50") != NULL);
    reply_clear(&r);

    call("GET", "/xrpc/test.params?limit=500", NULL, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "Params/limit can not be greater than 100");
    reply_clear(&r);
    call("GET", "/xrpc/test.params?limit=0", NULL, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "Params/limit can not be less than 1");
    reply_clear(&r);
    call("GET", "/xrpc/test.params?limit=ten", NULL, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "Params/limit must be an integer");
    reply_clear(&r);
    call("GET", "/xrpc/test.params?flag=yes", NULL, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "Params/flag must be a boolean");
    reply_clear(&r);
    call("GET", "/xrpc/test.required", NULL, NULL, 0, &r);
    check_error(&r, 400, "InvalidRequest", "Params must have the property \"repo\"");
    reply_clear(&r);
}

static void test_server_cors_preflight(void)
{
    struct reply r;
    static const char *const pre[] = {"Origin: https://app.example",
                                      "Access-Control-Request-Method: POST",
                                      "Access-Control-Request-Headers: authorization,dpop", NULL};
    call("OPTIONS", "/xrpc/test.echo.json", pre, NULL, 0, &r);
    CHECK_EQ(r.status, 204);
    CHECK(has_header(&r, "access-control-allow-origin: *"));
    CHECK(has_header(&r, "access-control-allow-headers: authorization,dpop"));
    CHECK(has_header(&r, "access-control-allow-methods:"));
    reply_clear(&r);
}

static void test_server_streams_both_ways(void)
{
    struct reply r;
    call("GET", "/xrpc/test.stream.out", NULL, NULL, 0, &r);
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.body.len, STREAM_OUT_BYTES);
    reply_clear(&r);

    size_t n = 300000;
    char *data = xmalloc(n);
    memset(data, 'z', n);
    static const char *const octet[] = {"Content-Type: application/octet-stream", NULL};
    call("POST", "/xrpc/test.stream.in", octet, data, n, &r);
    CHECK_EQ(r.status, 200);
    CHECK_STR(body_str(&r), "{\"bytes\":300000,\"buffered\":0}");
    reply_clear(&r);
    free(data);
}

static void test_server_client_ip_behind_a_local_proxy(void)
{
    struct reply r;
    call("GET", "/xrpc/test.whoami", NULL, NULL, 0, &r);
    CHECK_STR(body_str(&r), "{\"ip\":\"127.0.0.1\"}");
    reply_clear(&r);
    static const char *const xff[] = {"X-Forwarded-For: 203.0.113.7, 10.0.0.2", NULL};
    call("GET", "/xrpc/test.whoami", xff, NULL, 0, &r);
    CHECK_STR(body_str(&r), "{\"ip\":\"203.0.113.7\"}");
    reply_clear(&r);
    static const char *const bad[] = {"X-Forwarded-For: not-an-ip", NULL};
    call("GET", "/xrpc/test.whoami", bad, NULL, 0, &r);
    CHECK_STR(body_str(&r), "{\"ip\":\"127.0.0.1\"}");
    reply_clear(&r);
}

static void test_server_upgrades_connections(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    static const char req[] = "GET /xrpc/test.upgrade HTTP/1.1\r\nHost: x\r\n"
                              "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
    CHECK_EQ(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char got[1024];
    size_t n = 0;
    for (;;) {
        ssize_t k = read(fd, got + n, sizeof got - 1 - n);
        if (k <= 0) {
            break;
        }
        n += (size_t)k;
    }
    got[n] = '\0';
    close(fd);
    CHECK(strncmp(got, "HTTP/1.1 101", 12) == 0);
    CHECK(strstr(got, "hello over the upgraded socket") != NULL);
}

static void test_server_health_without_database_is_503(void)
{
    struct reply r;
    call("GET", "/xrpc/_health", NULL, NULL, 0, &r);
    CHECK_EQ(r.status, 503);
    CHECK_STR(body_str(&r), "{\"version\":\"9.9.9-test\",\"error\":\"Service Unavailable\"}");
    reply_clear(&r);
}

int main(void)
{
    log_set_level(LOG_LEVEL_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *domain = ".example.test";
    char *proxies[] = {"loopback", "uniquelocal"}; /* PDS_TRUSTED_PROXIES' default but one */
    struct config cfg = {
        .hostname = "example.test",
        .version = "9.9.9-test",
        .service_did = "did:web:example.test",
        .worker_threads = 2,
        .invite_required = true,
        .privacy_policy_url = "https://example.test/privacy",
        .handle_domains = {.items = &domain, .len = 1},
        .listen_address = "127.0.0.1", /* a test server: this machine only */
        .trusted_proxies = {.items = proxies, .len = ARRAY_LEN(proxies)},
    };
    /* nothing listens there: handlers see a database that is down */
    db_thread_set_url("postgresql:///none?host=/nonexistent-pds-test&connect_timeout=1");
    struct http_server *srv = NULL;
    for (int attempt = 0; attempt < 20 && !srv; attempt++) {
        port = 20000 + (int)((getpid() * 7 + attempt * 131) % 30000);
        cfg.port = port;
        router_install(test_tables, ARRAY_LEN(test_tables), NULL);
        if (http_server_start(&cfg, &srv) != ERR_OK) {
            srv = NULL;
        }
    }
    CHECK(srv != NULL);
    if (srv) {
        RUN(test_server_routes_and_unknown_methods);
        RUN(test_server_checks_bodies_like_the_reference);
        RUN(test_server_query_parameters);
        RUN(test_server_cors_preflight);
        RUN(test_server_streams_both_ways);
        RUN(test_server_client_ip_behind_a_local_proxy);
        RUN(test_server_upgrades_connections);
        RUN(test_server_health_without_database_is_503);
    }
    http_server_stop(srv);
    curl_global_cleanup();
    return test_report();
}
