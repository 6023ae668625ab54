/* test_crawlers.c - requestCrawl against a tiny HTTP server in a thread: sent at start-up
 * with the hostname, retried with growing delays after failures, repeated on news at most
 * once per interval, and never blocking start or stop. */
#include "unit/test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/sync/crawlers.h"

#define MAX_HITS 64

/* The relay: answers `fail_first` requests with 500, the rest with 200; records each. */
struct relay_srv {
    int fd, port;
    pthread_t th;
    atomic_int hits;
    int fail_first;
    int64_t at_ms[MAX_HITS];
    char path[MAX_HITS][128];
    char body[MAX_HITS][256];
    bool json[MAX_HITS];
};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *relay_main(void *arg)
{
    struct relay_srv *r = arg;
    for (;;) {
        int c = accept(r->fd, NULL, NULL);
        if (c < 0) {
            return NULL;
        }
        char req[4096];
        size_t n = 0;
        char *end = NULL;
        long len = 0;
        while (n < sizeof req - 1) { /* headers, then Content-Length bytes of body */
            ssize_t k = read(c, req + n, sizeof req - 1 - n);
            if (k <= 0) {
                break;
            }
            n += (size_t)k;
            req[n] = 0;
            end = strstr(req, "\r\n\r\n");
            char *cl = strcasestr(req, "content-length:");
            len = cl ? strtol(cl + 15, NULL, 10) : 0;
            if (end && n >= (size_t)(end + 4 - req) + (size_t)len) {
                break;
            }
        }
        int i = atomic_load(&r->hits);
        if (end && i < MAX_HITS) {
            r->at_ms[i] = mono_ms();
            if (strncmp(req, "POST ", 5) == 0) {
                snprintf(r->path[i], sizeof r->path[i], "%.*s", (int)strcspn(req + 5, " "),
                         req + 5);
            }
            snprintf(r->body[i], sizeof r->body[i], "%.*s", (int)len, end + 4);
            r->json[i] = strcasestr(req, "content-type: application/json") != NULL;
        }
        bool fail = i < r->fail_first;
        atomic_fetch_add(&r->hits, 1);
        const char *ans =
            fail ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                   "Connection: close\r\n\r\n"
                 : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        (void)!write(c, ans, strlen(ans));
        close(c);
    }
}

static void relay_start(struct relay_srv *r, int fail_first)
{
    memset(r, 0, sizeof *r);
    r->fail_first = fail_first;
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(r->fd, (struct sockaddr *)&a, sizeof a) || listen(r->fd, 16)) {
        abort();
    }
    socklen_t al = sizeof a;
    getsockname(r->fd, (struct sockaddr *)&a, &al);
    r->port = ntohs(a.sin_port);
    pthread_create(&r->th, NULL, relay_main, r);
}

static void relay_stop(struct relay_srv *r)
{
    shutdown(r->fd, SHUT_RDWR);
    close(r->fd);
    pthread_join(r->th, NULL);
}

static bool wait_hits(struct relay_srv *r, int n, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 5) {
        if (atomic_load(&r->hits) >= n) {
            return true;
        }
        usleep(5000);
    }
    return atomic_load(&r->hits) >= n;
}

static void test_crawlers_request_at_start(void)
{
    struct relay_srv r;
    relay_start(&r, 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", r.port); /* trailing slash is dropped */
    char *relays[] = {url};
    struct crawlers *c = NULL;
    CHECK(crawlers_start("pds.example.com", relays, 1, NULL, &c) == ERR_OK);
    CHECK(wait_hits(&r, 1, 5000));
    CHECK_STR(r.path[0], "/xrpc/com.atproto.sync.requestCrawl");
    CHECK_STR(r.body[0], "{\"hostname\":\"pds.example.com\"}");
    CHECK(r.json[0]);
    for (int i = 0; i < 100 && crawlers_sent(c) < 1; i++) {
        usleep(10000);
    }
    CHECK_EQ(crawlers_sent(c), 1);
    /* no news: nothing more (the real interval is 20 minutes anyway) */
    usleep(200000);
    CHECK_EQ(atomic_load(&r.hits), 1);
    crawlers_stop(c);
    relay_stop(&r);
}

static void test_crawlers_retry_with_backoff(void)
{
    struct relay_srv r;
    relay_start(&r, 3);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", r.port);
    char *relays[] = {url};
    struct crawlers_opts o = {.interval_ms = 60000, .retry_first_ms = 50, .retry_max_ms = 120};
    struct crawlers *c = NULL;
    CHECK(crawlers_start("pds.example.com", relays, 1, &o, &c) == ERR_OK);
    CHECK(wait_hits(&r, 4, 5000));
    usleep(300000);
    CHECK_EQ(atomic_load(&r.hits), 4); /* three failures, one success, then quiet */
    CHECK_EQ(crawlers_sent(c), 1);
    /* delays 50, 100, then capped at 120 */
    CHECK(r.at_ms[1] - r.at_ms[0] >= 50);
    CHECK(r.at_ms[2] - r.at_ms[1] >= 100);
    CHECK(r.at_ms[3] - r.at_ms[2] >= 120);
    CHECK(r.at_ms[3] - r.at_ms[2] < 1000);
    crawlers_stop(c);
    relay_stop(&r);
}

static void test_crawlers_news_at_most_once_per_interval(void)
{
    struct relay_srv r1, r2;
    relay_start(&r1, 0);
    relay_start(&r2, 0);
    char u1[64], u2[64];
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d", r1.port);
    snprintf(u2, sizeof u2, "http://127.0.0.1:%d", r2.port);
    char *relays[] = {u1, u2};
    struct crawlers_opts o = {.interval_ms = 400, .retry_first_ms = 50, .retry_max_ms = 100};
    struct crawlers *c = NULL;
    CHECK(crawlers_start("pds.example.com", relays, 2, &o, &c) == ERR_OK);
    CHECK(wait_hits(&r1, 1, 5000) && wait_hits(&r2, 1, 5000));
    int64_t first = r1.at_ms[0];
    for (int i = 0; i < 50; i++) { /* a burst of news within the interval */
        crawlers_notify(c);
        usleep(2000);
    }
    CHECK(wait_hits(&r1, 2, 5000) && wait_hits(&r2, 2, 5000));
    CHECK(r1.at_ms[1] - first >= 400); /* waited for the interval, then asked once */
    usleep(600000);
    CHECK_EQ(atomic_load(&r1.hits), 2); /* no news since: no third request */
    CHECK_EQ(atomic_load(&r2.hits), 2);
    crawlers_notify(c); /* the interval has passed: at once */
    CHECK(wait_hits(&r1, 3, 2000));
    crawlers_stop(c);
    relay_stop(&r1);
    relay_stop(&r2);
}

static void test_crawlers_never_block(void)
{
    /* a port nobody listens on: requests fail and are retried in the background */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    char *relays[] = {url};
    int64_t t0 = mono_ms();
    struct crawlers *c = NULL;
    CHECK(crawlers_start("pds.example.com", relays, 1, NULL, &c) == ERR_OK);
    CHECK(mono_ms() - t0 < 100);
    usleep(100000);
    CHECK_EQ(crawlers_sent(c), 0);
    t0 = mono_ms();
    crawlers_stop(c); /* asleep until a retry 1 s away: stop wakes it */
    CHECK(mono_ms() - t0 < 500);
    close(fd);
    /* no relays: nothing runs */
    CHECK(crawlers_start("pds.example.com", NULL, 0, NULL, &c) == ERR_OK);
    CHECK(c == NULL);
    crawlers_notify(c);
    crawlers_stop(c);
}

int main(void)
{
    RUN(test_crawlers_request_at_start);
    RUN(test_crawlers_retry_with_backoff);
    RUN(test_crawlers_news_at_most_once_per_interval);
    RUN(test_crawlers_never_block);
    return test_report();
}
