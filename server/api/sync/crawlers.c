/* crawlers.c - requestCrawl to the configured relays: at start-up, then while there is news,
 * at most once per interval per relay, retrying failures with doubling delays. */
#include "api/sync/crawlers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/bytes.h"
#include "db/log.h"
#include "db/metrics.h"

#define REQUEST_CRAWL_PATH "/xrpc/com.atproto.sync.requestCrawl"

struct relay {
    char *url;    /* full requestCrawl URL */
    bool pending; /* a request is due at due_ms (retrying after failures) */
    int64_t due_ms;
    int64_t backoff_ms; /* next delay after a failure */
    int64_t sent_ms;    /* last success; INT64_MIN before the first */
    uint64_t covered;   /* the news generation the last success reported */
    int failures;
};

struct crawlers {
    char *body; /* {"hostname": ...} */
    struct crawlers_opts opts;
    struct relay *relays;
    size_t n;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop; with wake, the thread's sleep */
    pthread_cond_t wake;
    bool stop;
    atomic_uint_fast64_t news; /* generation: bumped by every crawlers_notify */
    atomic_bool wake_wanted;   /* the thread sleeps with a relay that news would schedule */
    atomic_uint_fast64_t sent;
    atomic_bool urged; /* the next news is due at once, whatever the interval */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    return size * n; /* the answer is not needed, only its status */
}

/* One POST; true on a 2xx answer. */
static bool post(const struct crawlers *c, const struct relay *r)
{
    CURL *h = curl_easy_init();
    if (!h) {
        return false;
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CRAWLERS_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CRAWLERS_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    metrics_outbound("relay",
                     rc != CURLE_OK      ? "error"
                     : status / 100 == 2 ? "ok"
                                         : "refused",
                     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || status < 200 || status > 299) {
        if (r->failures == 0) { /* once per outage, not per retry */
            log_warn(NULL, "crawlers: requestCrawl to %s failed (%s, HTTP %ld); retrying", r->url,
                     rc != CURLE_OK ? curl_easy_strerror(rc) : "status", status);
        }
        return false;
    }
    return true;
}

/* Whether some relay has no request scheduled (so news would schedule one). */
static bool any_idle(const struct crawlers *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!c->relays[i].pending) {
            return true;
        }
    }
    return false;
}

/* Runs due requests given news generation gen; returns when the next one is due
 * (INT64_MAX: none). A success covers the news that came before it was sent. */
static int64_t run_due(struct crawlers *c, uint64_t gen)
{
    int64_t next = INT64_MAX;
    bool urged = atomic_exchange(&c->urged, false);
    for (size_t i = 0; i < c->n; i++) {
        struct relay *r = &c->relays[i];
        int64_t now = now_ms();
        if (!r->pending && gen > r->covered) {
            /* news within the interval waits for its end, not for the next news */
            r->pending = true;
            r->due_ms = r->sent_ms == INT64_MIN ? now : r->sent_ms + c->opts.interval_ms;
        }
        if (urged && r->pending && r->failures == 0 && r->due_ms > now) {
            r->due_ms = now;
        }
        if (r->pending && now >= r->due_ms) {
            uint64_t covers = atomic_load(&c->news);
            if (post(c, r)) {
                if (r->failures) {
                    log_info(NULL, "crawlers: %s answered again", r->url);
                }
                r->pending = false;
                r->sent_ms = now_ms();
                r->covered = covers;
                r->failures = 0;
                r->backoff_ms = c->opts.retry_first_ms;
                atomic_fetch_add(&c->sent, 1);
            } else {
                r->failures++;
                r->due_ms = now_ms() + r->backoff_ms;
                r->backoff_ms = r->backoff_ms * 2 < c->opts.retry_max_ms ? r->backoff_ms * 2
                                                                         : c->opts.retry_max_ms;
            }
        }
        if (r->pending && r->due_ms < next) {
            next = r->due_ms;
        }
    }
    return next;
}

static void sleep_until(struct crawlers *c, int64_t next)
{
    if (next == INT64_MAX) {
        pthread_cond_wait(&c->wake, &c->lock);
        return;
    }
    int64_t wait = next - now_ms();
    if (wait <= 0) {
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += wait / 1000;
    ts.tv_nsec += (wait % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&c->wake, &c->lock, &ts);
}

static void *crawlers_main(void *arg)
{
    struct crawlers *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        pthread_mutex_unlock(&c->lock);
        uint64_t gen = atomic_load(&c->news);
        int64_t next = run_due(c, gen);
        pthread_mutex_lock(&c->lock);
        if (c->stop) {
            break;
        }
        /* Only a relay with nothing scheduled cares about news; crawlers_notify signals
         * only then, so a busy firehose does not wake this thread per batch. Checking the
         * generation after raising the flag closes the race with a notify in between. */
        bool idle = any_idle(c);
        atomic_store(&c->wake_wanted, idle);
        if ((idle && atomic_load(&c->news) != gen) || atomic_load(&c->urged)) {
            continue;
        }
        sleep_until(c, next);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static void crawlers_free(struct crawlers *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->relays[i].url);
    }
    free(c->relays);
    free(c->body);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    free(c);
}

enum err crawlers_start(const char *hostname, char *const *relays, size_t n,
                        const struct crawlers_opts *opts, struct crawlers **out)
{
    *out = NULL;
    if (n == 0) {
        return ERR_OK;
    }
    pthread_once(&curl_once, curl_setup);
    struct crawlers *c = xcalloc(1, sizeof *c);
    c->opts = opts ? *opts
                   : (struct crawlers_opts){CRAWLERS_INTERVAL_MS, CRAWLERS_RETRY_FIRST_MS,
                                            CRAWLERS_RETRY_MAX_MS};
    json_t *body = json_pack("{s:s}", "hostname", hostname);
    c->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &ca);
    pthread_condattr_destroy(&ca);
    c->relays = xcalloc(n, sizeof *c->relays);
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(relays[i]);
        while (len > 0 && relays[i][len - 1] == '/') {
            len--;
        }
        struct relay *r = &c->relays[i];
        r->url = xmalloc(len + sizeof REQUEST_CRAWL_PATH);
        memcpy(r->url, relays[i], len);
        memcpy(r->url + len, REQUEST_CRAWL_PATH, sizeof REQUEST_CRAWL_PATH);
        r->sent_ms = INT64_MIN;
        r->backoff_ms = c->opts.retry_first_ms;
    }
    atomic_init(&c->news, 1); /* start-up counts as news: relays hear of us at once */
    atomic_init(&c->wake_wanted, false);
    atomic_init(&c->sent, 0);
    atomic_init(&c->urged, false);
    if (!c->body || pthread_create(&c->thread, NULL, crawlers_main, c) != 0) {
        log_error(NULL, "crawlers: could not start");
        crawlers_free(c);
        return ERR_INTERNAL;
    }
    log_info(NULL, "crawlers: %zu relay%s will be asked to crawl %s", n, n == 1 ? "" : "s",
             hostname);
    *out = c;
    return ERR_OK;
}

void crawlers_notify(void *ctx)
{
    struct crawlers *c = ctx;
    if (!c) {
        return;
    }
    atomic_fetch_add(&c->news, 1);
    if (!atomic_exchange(&c->wake_wanted, false)) {
        return; /* the thread is busy or waiting for a scheduled request anyway */
    }
    pthread_mutex_lock(&c->lock);
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

void crawlers_urge(void *ctx)
{
    struct crawlers *c = ctx;
    if (c) {
        atomic_store(&c->urged, true);
        atomic_store(&c->wake_wanted, true); /* the sleeping thread must hear of it */
        crawlers_notify(c);
    }
}

uint64_t crawlers_sent(struct crawlers *c)
{
    return c ? atomic_load(&c->sent) : 0;
}

void crawlers_stop(struct crawlers *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    crawlers_free(c);
}
