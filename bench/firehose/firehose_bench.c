/* firehose_bench.c - subscribeRepos under load: N WebSocket subscribers read the firehose
 * while writer threads call createRecord at a target rate. Prints events/s delivered and
 * the delivery lag (receipt time minus the event's `time`, which the server stamps as it
 * builds the commit, before the commit's transaction) at p50/p90/p99/max, and checks that
 * every subscriber saw every event once, in order. A benchmark: figures, not pass/fail.
 *   firehose_bench --url http://127.0.0.1:2583 --subscribers 1000 --rate 1000 --seconds 20
 *                  [--writers 16] [--readers 2] [--warmup 3] [--domain .test]
 * Standalone (libcurl, jansson, pthreads): the frame parsing it needs is a few lines. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_READERS_MAX 16
#define BENCH_WRITERS_MAX 256
#define BENCH_BODY_MAX    (1u << 16)
#define LAG_BUCKET_US     100                  /* histogram resolution */
#define LAG_BUCKETS       (10 * 1000 * 10 + 1) /* 10 s of 100 us buckets, then overflow */
#define READ_CHUNK        (256 << 10)

struct sub {
    int fd;
    uint8_t *buf;
    size_t len, cap;
    int64_t last_seq;
    uint64_t events, gaps, dups;
    bool closed;
};

struct reader {
    pthread_t th;
    int ep;
    uint64_t frames, bytes; /* inside the measurement window */
    uint64_t *lag;          /* histogram of lag in LAG_BUCKET_US buckets */
};

static const char *base_url = "http://127.0.0.1:2583";
static const char *domain = ".test";
static char host[256] = "127.0.0.1", port[16] = "2583";
static int nsubs = 10, nwriters = 16, nreaders = 2;
static double rate = 1000, seconds = 20, warmup = 3;
static struct sub *subs;
static struct reader readers[BENCH_READERS_MAX];
static atomic_bool stop_readers, stop_writers;
static _Atomic int64_t window_start_us, window_end_us; /* receipt times that count */
static atomic_uint_fast64_t acked, failed;

static int64_t wall_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Minimal DAG-CBOR reading: heads, skipping, and the two body fields we need. */

static bool cbor_head(const uint8_t **p, const uint8_t *end, int *major, uint64_t *val)
{
    if (*p >= end) {
        return false;
    }
    uint8_t b = *(*p)++;
    *major = b >> 5;
    unsigned info = b & 31;
    if (info < 24) {
        *val = info;
        return true;
    }
    unsigned n = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 0;
    if (n == 0 || end - *p < (ptrdiff_t)n) {
        return false;
    }
    *val = 0;
    for (unsigned i = 0; i < n; i++) {
        *val = *val << 8 | *(*p)++;
    }
    return true;
}

static bool cbor_skip(const uint8_t **p, const uint8_t *end)
{
    int major;
    uint64_t v;
    if (!cbor_head(p, end, &major, &v)) {
        return false;
    }
    switch (major) {
    case 2:
    case 3:
        if ((uint64_t)(end - *p) < v) {
            return false;
        }
        *p += v;
        return true;
    case 4:
        for (uint64_t i = 0; i < v; i++) {
            if (!cbor_skip(p, end)) {
                return false;
            }
        }
        return true;
    case 5:
        for (uint64_t i = 0; i < 2 * v; i++) {
            if (!cbor_skip(p, end)) {
                return false;
            }
        }
        return true;
    case 6:
        return cbor_skip(p, end);
    default:
        return true;
    }
}

/* "2026-11-24T10:04:24.570Z" -> Unix microseconds; 0 if not that shape. */
static int64_t parse_time(const uint8_t *s, size_t n)
{
    if (n < 20) {
        return 0;
    }
    int f[6], at[6] = {0, 5, 8, 11, 14, 17}, w[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        for (int k = 0; k < w[i]; k++) {
            f[i] = f[i] * 10 + (s[at[i] + k] - '0');
        }
    }
    struct tm tm = {.tm_year = f[0] - 1900,
                    .tm_mon = f[1] - 1,
                    .tm_mday = f[2],
                    .tm_hour = f[3],
                    .tm_min = f[4],
                    .tm_sec = f[5]};
    int64_t us = (int64_t)timegm(&tm) * 1000000;
    if (n >= 23 && s[19] == '.') {
        us += ((s[20] - '0') * 100 + (s[21] - '0') * 10 + (s[22] - '0')) * 1000;
    }
    return us;
}

/* The frame's seq and time (0 when absent: #info, errors). */
static void frame_fields(const uint8_t *p, size_t n, int64_t *seq, int64_t *time_us)
{
    const uint8_t *end = p + n;
    *seq = *time_us = 0;
    int major;
    uint64_t count;
    if (!cbor_skip(&p, end) || !cbor_head(&p, end, &major, &count) || major != 5) {
        return; /* header, then the body map */
    }
    for (uint64_t i = 0; i < count; i++) {
        uint64_t klen, v;
        if (!cbor_head(&p, end, &major, &klen) || major != 3 || (uint64_t)(end - p) < klen) {
            return;
        }
        const uint8_t *key = p;
        p += klen;
        if (klen == 3 && memcmp(key, "seq", 3) == 0) {
            if (!cbor_head(&p, end, &major, &v)) {
                return;
            }
            *seq = (int64_t)v;
        } else if (klen == 4 && memcmp(key, "time", 4) == 0) {
            if (!cbor_head(&p, end, &major, &v) || (uint64_t)(end - p) < v) {
                return;
            }
            *time_us = parse_time(p, (size_t)v);
            p += v;
        } else if (!cbor_skip(&p, end)) {
            return;
        }
    }
}

/* Subscribers */

static int ws_connect(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        freeaddrinfo(ai);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    freeaddrinfo(ai);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /xrpc/com.atproto.sync.subscribeRepos HTTP/1.1\r\nHost: %s:%s\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     host, port);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    char resp[2048];
    size_t got = 0;
    while (got < sizeof resp - 1) { /* byte by byte: frames may follow the headers */
        ssize_t k = read(fd, resp + got, 1);
        if (k <= 0) {
            break;
        }
        got++;
        resp[got] = 0;
        if (got >= 4 && memcmp(resp + got - 4, "\r\n\r\n", 4) == 0) {
            break;
        }
    }
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "subscribe: no upgrade: %.60s\n", resp);
        close(fd);
        return -1;
    }
    return fd;
}

static void send_pong(struct sub *s, const uint8_t *p, size_t n)
{
    uint8_t f[2 + 4 + 125] = {0x8A, (uint8_t)(0x80 | n), 0, 0, 0, 0}; /* zero mask key */
    memcpy(f + 6, p, n);
    (void)!write(s->fd, f, 6 + n);
}

static void take_frames(struct reader *r, struct sub *s, int64_t now)
{
    size_t off = 0;
    bool in_window = now >= atomic_load(&window_start_us) && now < atomic_load(&window_end_us);
    while (s->len - off >= 2) {
        const uint8_t *b = s->buf + off;
        uint64_t len = b[1] & 0x7f;
        size_t hl = 2;
        if (len == 126 || len == 127) {
            size_t ext = len == 126 ? 2 : 8;
            if (s->len - off < 2 + ext) {
                break;
            }
            len = 0;
            for (size_t i = 0; i < ext; i++) {
                len = len << 8 | b[2 + i];
            }
            hl += ext;
        }
        if (s->len - off < hl + len) {
            break;
        }
        int op = b[0] & 0x0f;
        const uint8_t *payload = b + hl;
        if (op == 2) {
            int64_t seq, t;
            frame_fields(payload, (size_t)len, &seq, &t);
            if (seq) {
                if (s->last_seq && seq != s->last_seq + 1) {
                    seq <= s->last_seq ? s->dups++ : s->gaps++;
                }
                s->last_seq = seq;
                s->events++;
            }
            if (in_window && t) {
                int64_t lag = now - t;
                size_t bucket = lag < 0 ? 0 : (size_t)(lag / LAG_BUCKET_US);
                r->lag[bucket < LAG_BUCKETS ? bucket : LAG_BUCKETS - 1]++;
                r->frames++;
                r->bytes += hl + len;
            }
        } else if (op == 9 && len <= 125) {
            send_pong(s, payload, (size_t)len);
        } else if (op == 8) {
            s->closed = true;
        }
        off += hl + (size_t)len;
    }
    memmove(s->buf, s->buf + off, s->len - off);
    s->len -= off;
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    struct epoll_event evs[256];
    while (!atomic_load(&stop_readers)) {
        int n = epoll_wait(r->ep, evs, 256, 100);
        int64_t now = wall_us();
        for (int i = 0; i < n; i++) {
            struct sub *s = evs[i].data.ptr;
            for (;;) {
                if (s->cap - s->len < READ_CHUNK) {
                    s->cap = s->len + READ_CHUNK;
                    s->buf = realloc(s->buf, s->cap);
                }
                ssize_t k = recv(s->fd, s->buf + s->len, s->cap - s->len, MSG_DONTWAIT);
                if (k > 0) {
                    s->len += (size_t)k;
                    take_frames(r, s, now);
                    continue;
                }
                if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
                    s->closed = true;
                    epoll_ctl(r->ep, EPOLL_CTL_DEL, s->fd, NULL);
                }
                break;
            }
        }
    }
    return NULL;
}

/* Writers */

struct body {
    char p[BENCH_BODY_MAX];
    size_t n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct body *b = ud;
    size_t n = size * nmemb;
    size_t room = sizeof b->p - 1 - b->n;
    memcpy(b->p + b->n, ptr, n < room ? n : room);
    b->n += n < room ? n : room;
    b->p[b->n] = 0;
    return n;
}

static long post(CURL *c, const char *nsid, const char *json, const char *jwt, struct body *out)
{
    char url[1024], auth[2100];
    snprintf(url, sizeof url, "%s/xrpc/%s", base_url, nsid);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (jwt) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", jwt);
        h = curl_slist_append(h, auth);
    }
    out->n = 0;
    out->p[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    return status;
}

struct writer {
    pthread_t th;
    int id;
    char did[128], jwt[2048];
};

static struct writer writers[BENCH_WRITERS_MAX];

static bool create_account(struct writer *w, unsigned run)
{
    CURL *c = curl_easy_init();
    static struct body b; /* setup is single-threaded */
    char json[512];
    snprintf(json, sizeof json,
             "{\"handle\":\"fh%u-%d%s\",\"email\":\"fh%u-%d@example.com\",\"password\":\"pw-%u\"}",
             run, w->id, domain, run, w->id, run);
    long st = post(c, "com.atproto.server.createAccount", json, NULL, &b);
    curl_easy_cleanup(c);
    json_t *j = json_loads(b.p, 0, NULL);
    const char *did = json_string_value(json_object_get(j, "did"));
    const char *jwt = json_string_value(json_object_get(j, "accessJwt"));
    bool ok = st == 200 && did && jwt;
    if (ok) {
        snprintf(w->did, sizeof w->did, "%s", did);
        snprintf(w->jwt, sizeof w->jwt, "%s", jwt);
    } else {
        fprintf(stderr, "createAccount failed (%ld): %s\n", st, b.p);
    }
    json_decref(j);
    return ok;
}

static void sleep_until_us(int64_t t)
{
    int64_t d = t - wall_us();
    if (d > 0) {
        struct timespec ts = {d / 1000000, (d % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    CURL *c = curl_easy_init();
    struct body *b = malloc(sizeof *b);
    int64_t interval = (int64_t)(1e6 * nwriters / rate);
    int64_t next = wall_us() + (int64_t)(w->id * interval / nwriters); /* spread the starts */
    char json[1024];
    for (unsigned i = 0; !atomic_load(&stop_writers); i++) {
        sleep_until_us(next);
        int64_t now = wall_us();
        next += interval;
        if (next < now - 100000) {
            next = now; /* far behind (the server is saturated): do not burst to catch up */
        }
        snprintf(json, sizeof json,
                 "{\"repo\":\"%s\",\"collection\":\"app.bsky.feed.post\",\"record\":{\"$type\":"
                 "\"app.bsky.feed.post\",\"text\":\"firehose bench %d/%u, a post of ordinary "
                 "length\",\"createdAt\":\"2026-11-24T10:00:00.000Z\"}}",
                 w->did, w->id, i);
        if (post(c, "com.atproto.repo.createRecord", json, w->jwt, b) == 200) {
            atomic_fetch_add(&acked, 1);
        } else {
            atomic_fetch_add(&failed, 1);
        }
    }
    free(b);
    curl_easy_cleanup(c);
    return NULL;
}

/* Report */

static double percentile(const uint64_t *h, uint64_t total, double q)
{
    uint64_t want = (uint64_t)(q * (double)total), seen = 0;
    for (size_t i = 0; i < LAG_BUCKETS; i++) {
        seen += h[i];
        if (seen > want) {
            return (double)(i * LAG_BUCKET_US + LAG_BUCKET_US / 2) / 1000.0;
        }
    }
    return (double)(LAG_BUCKETS * LAG_BUCKET_US) / 1000.0;
}

static void report(double window_s, uint64_t acked_in_window)
{
    uint64_t *h = calloc(LAG_BUCKETS, sizeof *h);
    uint64_t frames = 0, bytes = 0;
    for (int i = 0; i < nreaders; i++) {
        frames += readers[i].frames;
        bytes += readers[i].bytes;
        for (size_t k = 0; k < LAG_BUCKETS; k++) {
            h[k] += readers[i].lag[k];
        }
    }
    uint64_t gaps = 0, dups = 0, closed = 0, minev = UINT64_MAX, maxev = 0;
    for (int i = 0; i < nsubs; i++) {
        gaps += subs[i].gaps;
        dups += subs[i].dups;
        closed += subs[i].closed;
        minev = subs[i].events < minev ? subs[i].events : minev;
        maxev = subs[i].events > maxev ? subs[i].events : maxev;
    }
    size_t maxb = 0;
    for (size_t k = 0; k < LAG_BUCKETS; k++) {
        maxb = h[k] ? k : maxb;
    }
    printf("subscribers %d, target %.0f writes/s, window %.1f s\n", nsubs, rate, window_s);
    printf("  writes acknowledged: %.0f/s (%llu failed overall)\n",
           (double)acked_in_window / window_s, (unsigned long long)atomic_load(&failed));
    printf("  delivered: %.0f frames/s in total, %.0f events/s per subscriber, %.1f MB/s\n",
           (double)frames / window_s, (double)frames / window_s / nsubs,
           (double)bytes / window_s / 1e6);
    printf("  lag (receipt - event time): p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
           percentile(h, frames, 0.50), percentile(h, frames, 0.90), percentile(h, frames, 0.99),
           (double)(maxb + 1) * LAG_BUCKET_US / 1000.0);
    printf("  per subscriber: %llu..%llu events; gaps %llu, duplicates %llu, closed %llu\n",
           (unsigned long long)minev, (unsigned long long)maxev, (unsigned long long)gaps,
           (unsigned long long)dups, (unsigned long long)closed);
    free(h);
}

static void parse_url(void)
{
    const char *p = strstr(base_url, "://");
    p = p ? p + 3 : base_url;
    size_t n = strcspn(p, ":/");
    snprintf(host, sizeof host, "%.*s", (int)n, p);
    if (p[n] == ':') {
        snprintf(port, sizeof port, "%.*s", (int)strcspn(p + n + 1, "/"), p + n + 1);
    }
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--url")) {
            base_url = v;
        } else if (!strcmp(k, "--subscribers")) {
            nsubs = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--rate")) {
            rate = strtod(v, NULL);
        } else if (!strcmp(k, "--seconds")) {
            seconds = strtod(v, NULL);
        } else if (!strcmp(k, "--warmup")) {
            warmup = strtod(v, NULL);
        } else if (!strcmp(k, "--writers")) {
            nwriters = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--readers")) {
            nreaders = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--domain")) {
            domain = v;
        } else {
            fprintf(stderr, "unknown option %s\n", k);
            return 2;
        }
    }
    if (nsubs < 1 || nwriters < 1 || nwriters > BENCH_WRITERS_MAX || nreaders < 1 ||
        nreaders > BENCH_READERS_MAX || rate <= 0) {
        fprintf(stderr, "bad options\n");
        return 2;
    }
    parse_url();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    unsigned run = (unsigned)time(NULL) % 100000;
    for (int i = 0; i < nwriters; i++) {
        writers[i].id = i;
        if (!create_account(&writers[i], run)) {
            return 1;
        }
    }
    subs = calloc((size_t)nsubs, sizeof *subs);
    for (int i = 0; i < nreaders; i++) {
        readers[i].ep = epoll_create1(0);
        readers[i].lag = calloc(LAG_BUCKETS, sizeof(uint64_t));
    }
    for (int i = 0; i < nsubs; i++) {
        subs[i].fd = ws_connect();
        if (subs[i].fd < 0) {
            fprintf(stderr, "subscriber %d could not connect\n", i);
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &subs[i]};
        epoll_ctl(readers[i % nreaders].ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
    }
    atomic_store(&window_start_us, INT64_MAX);
    atomic_store(&window_end_us, INT64_MAX);
    for (int i = 0; i < nreaders; i++) {
        pthread_create(&readers[i].th, NULL, reader_main, &readers[i]);
    }
    for (int i = 0; i < nwriters; i++) {
        pthread_create(&writers[i].th, NULL, writer_main, &writers[i]);
    }
    usleep((useconds_t)(warmup * 1e6));
    uint64_t acked0 = atomic_load(&acked);
    int64_t t0 = wall_us();
    atomic_store(&window_start_us, t0);
    atomic_store(&window_end_us, t0 + (int64_t)(seconds * 1e6));
    usleep((useconds_t)(seconds * 1e6));
    uint64_t acked1 = atomic_load(&acked);
    atomic_store(&stop_writers, true);
    for (int i = 0; i < nwriters; i++) {
        pthread_join(writers[i].th, NULL);
    }
    sleep(2); /* let the stream drain before checking continuity */
    atomic_store(&stop_readers, true);
    for (int i = 0; i < nreaders; i++) {
        pthread_join(readers[i].th, NULL);
    }
    report(seconds, acked1 - acked0);
    for (int i = 0; i < nsubs; i++) {
        close(subs[i].fd);
        free(subs[i].buf);
    }
    free(subs);
    curl_global_cleanup();
    return 0;
}
