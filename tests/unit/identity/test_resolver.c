/* test_resolver.c - DID and handle resolution against servers on loopback only: a tiny UDP
 * DNS responder (TXT _atproto.<handle>) and a libmicrohttpd server (did:web documents and
 * /.well-known/atproto-did), with a stepped clock for the cache TTLs. */
#include "identity/resolver.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit/test.h"

#define DID_A "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
#define DID_B "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"

/* ---- stepped clock ---- */
static _Atomic int64_t fake_now = 1000000;
static int64_t fake_clock(void)
{
    return fake_now;
}

/* ---- DNS responder ---- */
struct txt_answer {
    const char *name;          /* query name, e.g. "_atproto.dns.test" */
    const char *records[3][2]; /* each TXT record: up to 2 character-strings */
};
static const struct txt_answer dns_zone[] = {
    {"_atproto.dns.test", {{"did=" DID_A, NULL}, {"other=thing", NULL}}},
    {"_atproto.split.test", {{"did=did:plc:", "aaaaaaaaaaaaaaaaaaaaaaaa"}}},
    {"_atproto.two.test", {{"did=" DID_A, NULL}, {"did=" DID_B, NULL}}},
    {"_atproto.same.test", {{"did=" DID_A, NULL}, {"did=" DID_A, NULL}}},
    {"_atproto.both.localhost", {{"did=" DID_A, NULL}}},
    {"_atproto.junk.test", {{"did=not a did", NULL}}},
};
static int dns_fd = -1;
static atomic_bool dns_stop;
static atomic_int dns_queries;

/* Reads the question name at q (labels) into out as dotted text; returns bytes consumed. */
static size_t read_qname(const uint8_t *q, size_t len, char *out, size_t cap)
{
    size_t i = 0, n = 0;
    while (i < len && q[i] != 0) {
        size_t l = q[i++];
        if (i + l > len || n + l + 2 > cap) {
            return 0;
        }
        if (n) {
            out[n++] = '.';
        }
        memcpy(out + n, q + i, l);
        n += l;
        i += l;
    }
    out[n] = '\0';
    return i < len ? i + 1 : 0;
}

static void *dns_main(void *arg)
{
    uint8_t in[512], out[1024];
    while (!dns_stop) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(dns_fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
        if (n < 12) {
            continue; /* timeout (SO_RCVTIMEO) or runt */
        }
        dns_queries++;
        char name[256];
        size_t ql = read_qname(in + 12, (size_t)n - 12, name, sizeof(name));
        if (ql == 0 || 12 + ql + 4 > (size_t)n) {
            continue;
        }
        size_t qend = 12 + ql + 4;
        const struct txt_answer *ans = NULL;
        for (size_t i = 0; i < ARRAY_LEN(dns_zone); i++) {
            if (strcasecmp(dns_zone[i].name, name) == 0) {
                ans = &dns_zone[i];
            }
        }
        memcpy(out, in, qend);
        out[2] = 0x81;              /* QR, RD */
        out[3] = ans ? 0x80 : 0x83; /* RA; NXDOMAIN when unknown */
        out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
        size_t o = qend;
        int count = 0;
        for (int r = 0; ans && r < 3 && ans->records[r][0]; r++) {
            uint8_t rdata[300];
            size_t rl = 0;
            for (int s = 0; s < 2 && ans->records[r][s]; s++) {
                size_t l = strlen(ans->records[r][s]);
                rdata[rl++] = (uint8_t)l;
                memcpy(rdata + rl, ans->records[r][s], l);
                rl += l;
            }
            const uint8_t rr[] = {0xc0,       0x0c, 0, 16, 0, 1, 0, 0, 0, 60, (uint8_t)(rl >> 8),
                                  (uint8_t)rl};
            memcpy(out + o, rr, sizeof(rr));
            o += sizeof(rr);
            memcpy(out + o, rdata, rl);
            o += rl;
            count++;
        }
        out[7] = (uint8_t)count;
        sendto(dns_fd, out, o, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

static int dns_start(pthread_t *t)
{
    dns_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {0, 100000};
    setsockopt(dns_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(dns_fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        return -1;
    }
    socklen_t al = sizeof(a);
    getsockname(dns_fd, (struct sockaddr *)&a, &al);
    pthread_create(t, NULL, dns_main, NULL);
    return ntohs(a.sin_port);
}

/* ---- HTTP server ---- */
static atomic_int did_json_hits;
static atomic_bool http_fail; /* answer 500 to everything */
static int http_port;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    char hostname[256] = "";
    if (host) {
        snprintf(hostname, sizeof(hostname), "%s", host);
        char *colon = strchr(hostname, ':');
        if (colon) {
            *colon = '\0';
        }
    }
    if (http_fail) {
        return reply(c, 500, "text/plain", "down");
    }
    if (strcmp(url, "/.well-known/did.json") == 0 && strcmp(hostname, "localhost") == 0) {
        did_json_hits++;
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"id\":\"did:web:localhost%%3A%d\",\"alsoKnownAs\":[\"at://web.localhost\"],"
                 "\"verificationMethod\":[{\"id\":\"#atproto\",\"type\":\"Multikey\","
                 "\"publicKeyMultibase\":\"zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme\"}],"
                 "\"service\":[{\"id\":\"#atproto_pds\",\"type\":\"AtprotoPersonalDataServer\","
                 "\"serviceEndpoint\":\"http://localhost:%d\"}],\"n\":%d}",
                 http_port, http_port, (int)did_json_hits);
        return reply(c, 200, "application/json", body);
    }
    if (strcmp(url, "/.well-known/atproto-did") == 0) {
        if (strcmp(hostname, "http.localhost") == 0) {
            return reply(c, 200, "text/plain", "  " DID_B "\r\nignored second line\n");
        }
        if (strcmp(hostname, "both.localhost") == 0) {
            return reply(c, 200, "text/plain", DID_B);
        }
        if (strcmp(hostname, "moved.localhost") == 0) {
            struct MHD_Response *r =
                MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            char loc[128];
            snprintf(loc, sizeof(loc), "http://http.localhost:%d/.well-known/atproto-did",
                     http_port);
            MHD_add_response_header(r, "Location", loc);
            enum MHD_Result ret = MHD_queue_response(c, 302, r);
            MHD_destroy_response(r);
            return ret;
        }
        if (strcmp(hostname, "page.localhost") == 0) {
            return reply(c, 200, "text/html", "<html>did:plc:x</html>");
        }
    }
    return reply(c, 404, "text/plain", "not found");
}

static struct resolver *make(int dns_port)
{
    char dns[64];
    snprintf(dns, sizeof(dns), "127.0.0.1:%d", dns_port);
    struct resolver_config cfg = {
        .plc_url = "http://127.0.0.1:1", /* nothing listens: did:plc lookups fail fast */
        .timeout_ms = 2000,
        .did_stale_ttl_ms = 1000,
        .did_max_ttl_ms = 5000,
        .handle_ttl_ms = 1000,
        .dev_mode = true,
        .dev_http_port = http_port,
        .dns_server = dns,
        .now_ms = fake_clock,
    };
    return resolver_new(&cfg);
}

static int dns_port;

static void test_resolver_dns_txt(void)
{
    struct resolver *r = make(dns_port);
    char did[RESOLVER_DID_MAX];
    CHECK_EQ(resolver_handle_dns(r, "dns.test", did), ERR_OK);
    CHECK_STR(did, DID_A);
    CHECK_EQ(resolver_handle_dns(r, "DNS.Test", did), ERR_OK);   /* case-blind */
    CHECK_EQ(resolver_handle_dns(r, "split.test", did), ERR_OK); /* strings joined */
    CHECK_STR(did, DID_A);
    CHECK_EQ(resolver_handle_dns(r, "same.test", did), ERR_OK); /* duplicates agree */
    CHECK_EQ(resolver_handle_dns(r, "two.test", did), ERR_CONFLICT);
    CHECK_EQ(resolver_handle_dns(r, "junk.test", did), ERR_NOT_FOUND);
    CHECK_EQ(resolver_handle_dns(r, "nothing.test", did), ERR_NOT_FOUND);
    CHECK_EQ(resolver_handle_dns(r, "not a handle", did), ERR_INVALID);
    resolver_free(r);
}

static void test_resolver_http_well_known(void)
{
    struct resolver *r = make(dns_port);
    char did[RESOLVER_DID_MAX];
    CHECK_EQ(resolver_handle_http(r, "http.localhost", did), ERR_OK);
    CHECK_STR(did, DID_B);                                             /* first line, trimmed */
    CHECK_EQ(resolver_handle_http(r, "moved.localhost", did), ERR_OK); /* one redirect */
    CHECK_STR(did, DID_B);
    CHECK_EQ(resolver_handle_http(r, "page.localhost", did), ERR_NOT_FOUND);
    CHECK_EQ(resolver_handle_http(r, "missing.localhost", did), ERR_NOT_FOUND);
    resolver_free(r);
}

static void test_resolver_handle_dns_wins_and_caches(void)
{
    struct resolver *r = make(dns_port);
    char did[RESOLVER_DID_MAX];
    CHECK_EQ(resolver_resolve_handle(r, "both.localhost", false, did), ERR_OK);
    CHECK_STR(did, DID_A); /* DNS says A, HTTP says B */
    CHECK_EQ(resolver_resolve_handle(r, "http.localhost", false, did), ERR_OK);
    CHECK_STR(did, DID_B); /* no TXT: HTTP answers */
    CHECK_EQ(resolver_resolve_handle(r, "two.test", false, did), ERR_CONFLICT);
    CHECK_EQ(resolver_resolve_handle(r, "nothing.localhost", false, did), ERR_NOT_FOUND);
    int before = dns_queries;
    CHECK_EQ(resolver_resolve_handle(r, "dns.test", false, did), ERR_OK);
    CHECK_EQ(resolver_resolve_handle(r, "dns.test", false, did), ERR_OK);
    CHECK_EQ(dns_queries - before, 1); /* second from cache */
    CHECK_EQ(resolver_resolve_handle(r, "dns.test", true, did), ERR_OK);
    CHECK_EQ(dns_queries - before, 2); /* forced */
    fake_now += 1500;                  /* past the handle TTL */
    CHECK_EQ(resolver_resolve_handle(r, "dns.test", false, did), ERR_OK);
    CHECK_EQ(dns_queries - before, 3);
    resolver_free(r);
}

static void test_resolver_did_web_cache_ttls(void)
{
    struct resolver *r = make(dns_port);
    char did[64];
    snprintf(did, sizeof(did), "did:web:localhost%%3A%d", http_port);
    int base = did_json_hits;
    struct did_doc d;
    CHECK_EQ(resolver_resolve_atproto(r, did, false, &d), ERR_OK);
    CHECK_STR(d.handle, "web.localhost");
    CHECK(d.has_signing_key);
    CHECK(d.pds_endpoint != NULL);
    did_doc_clear(&d);
    json_t *doc;
    CHECK_EQ(resolver_resolve_did(r, did, false, &doc), ERR_OK); /* fresh: cached */
    json_decref(doc);
    CHECK_EQ(did_json_hits - base, 1);
    CHECK_EQ(resolver_resolve_did(r, did, true, &doc), ERR_OK); /* forced refresh */
    json_decref(doc);
    CHECK_EQ(did_json_hits - base, 2);
    fake_now += 1500; /* stale: re-resolves */
    CHECK_EQ(resolver_resolve_did(r, did, false, &doc), ERR_OK);
    CHECK_EQ(json_integer_value(json_object_get(doc, "n")), base + 3);
    json_decref(doc);
    CHECK_EQ(did_json_hits - base, 3);
    fake_now += 1500; /* stale again, and the server is down: the stale copy is served */
    http_fail = true;
    CHECK_EQ(resolver_resolve_did(r, did, false, &doc), ERR_OK);
    CHECK_EQ(json_integer_value(json_object_get(doc, "n")), base + 3);
    json_decref(doc);
    fake_now += 6000; /* past the max TTL: nothing to serve */
    CHECK_EQ(resolver_resolve_did(r, did, false, &doc), ERR_UPSTREAM);
    CHECK(doc == NULL);
    http_fail = false;
    resolver_forget_did(r, did);
    CHECK_EQ(resolver_resolve_did(r, did, false, &doc), ERR_OK);
    json_decref(doc);
    resolver_free(r);
}

static void test_resolver_refuses_what_it_cannot_resolve(void)
{
    struct resolver *r = make(dns_port);
    json_t *doc;
    CHECK_EQ(resolver_resolve_did(r, "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
                                  false, &doc),
             ERR_INVALID);
    CHECK_EQ(resolver_resolve_did(r, "did:web:example.com:path", false, &doc), ERR_INVALID);
    CHECK_EQ(resolver_resolve_did(r, "not a did", false, &doc), ERR_INVALID);
    /* did:plc with a directory that is not there */
    CHECK_EQ(resolver_resolve_did(r, DID_A, false, &doc), ERR_UPSTREAM);
    resolver_free(r);
    /* outside dev mode, did:web with a port is refused before any request */
    struct resolver_config cfg = {.plc_url = "http://127.0.0.1:1"};
    r = resolver_new(&cfg);
    CHECK_EQ(resolver_resolve_did(r, "did:web:localhost%3A1234", false, &doc), ERR_INVALID);
    resolver_free(r);
    struct resolver_config bad = {.dns_server = "127.0.0.1"};
    CHECK(resolver_new(&bad) == NULL);
}

int main(void)
{
    pthread_t dns_thread;
    dns_port = dns_start(&dns_thread);
    if (dns_port <= 0) {
        fprintf(stderr, "cannot bind a loopback UDP port\n");
        return 1;
    }
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&lo, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "cannot start the HTTP server\n");
        return 1;
    }
    http_port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    RUN(test_resolver_dns_txt);
    RUN(test_resolver_http_well_known);
    RUN(test_resolver_handle_dns_wins_and_caches);
    RUN(test_resolver_did_web_cache_ttls);
    RUN(test_resolver_refuses_what_it_cannot_resolve);
    MHD_stop_daemon(d);
    dns_stop = true;
    pthread_join(dns_thread, NULL);
    close(dns_fd);
    return test_report();
}
