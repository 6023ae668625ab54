/* ratebench.c - figures for the rate limits and overload protection against a running PDS
 * (bench/ratelimit/run.sh starts it). Prints figures; fails only when an acknowledged write
 * is missing afterwards.
 *   ratebench fairness  --url U [--bypass-key K] [--light 10] [--pace-ms 500]
 *                       [--greedy-conns 8] [--greedy-rotates yes|no] [--seconds 20]
 *       ten accounts posting at a normal pace, alone and then beside one account writing
 *       flat out (from a new address each time, so only per-account limits hold it):
 *       their latency percentiles both times, and what the greedy one got (the key is only
 *       used to read everything back)
 *   ratebench overload  --url U --bypass-key K [--accounts 64] [--factor 3] [--seconds 20]
 *       the write capacity (closed loop), then an open-loop offered load of factor times it:
 *       admitted and refused rates and latencies, and a read-back of every admitted write
 *   ratebench writecost --url U --admin-password P [--writes 2000]
 *       one writer in sequence: mean latency and database statements per write */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX     (1u << 20)
#define SAMPLES_MAX  (1u << 21)
#define ACCOUNTS_MAX 512
#define INFLIGHT_MAX 1024
#define LIGHT_MAX    64

static const char *base_url = "http://127.0.0.1:2583";
static const char *bypass_key; /* sent on reads back, and on every call in overload mode */
static bool bypass_all;
static bool greedy_rotates = true; /* the greedy account writes from many addresses */
static const char *admin_password;
static unsigned run_id;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct body {
    char *p;
    size_t n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct body *b = ud;
    size_t n = size * nmemb;
    if (b->n + n + 1 > BODY_MAX) {
        return 0;
    }
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

struct account {
    char did[128], jwt[2048], ip[48];
    char **rkeys; /* acknowledged writes */
    size_t n_acked;
    pthread_mutex_t lock; /* guards rkeys and n_acked */
};

/* Headers of a call: JSON, the account's token, its address, the bypass key. */
static struct curl_slist *headers_with(const struct account *a, const char *ip, bool json,
                                       bool bypass)
{
    struct curl_slist *h = NULL;
    char line[2200];
    if (json) {
        h = curl_slist_append(h, "Content-Type: application/json");
    }
    if (a && a->jwt[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", a->jwt);
        h = curl_slist_append(h, line);
    }
    if (ip) {
        snprintf(line, sizeof line, "X-Forwarded-For: %s", ip);
        h = curl_slist_append(h, line);
    }
    if (bypass_key && bypass) {
        snprintf(line, sizeof line, "x-ratelimit-bypass: %s", bypass_key);
        h = curl_slist_append(h, line);
    }
    return h;
}

static struct curl_slist *headers_for(const struct account *a, const char *ip, bool json)
{
    return headers_with(a, ip, json, bypass_all);
}

static long call(CURL *c, const char *path, const char *json, struct curl_slist *h,
                 struct body *out)
{
    char url[4096];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    out->n = 0;
    out->p[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POST, json ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_HTTPGET, json ? 0L : 1L);
    if (json) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    return status;
}

static bool create_account(CURL *c, struct account *a, int i)
{
    struct body b = {malloc(BODY_MAX), 0};
    char json[512];
    /* carrier-grade NAT space: not a private range, so not a trusted proxy itself */
    snprintf(a->ip, sizeof a->ip, "100.%d.%d.%d", 64 + (int)(run_id % 64), i / 250, i % 250 + 1);
    snprintf(json, sizeof json,
             "{\"handle\":\"rb%u-%d.test\",\"email\":\"rb%u-%d@example.com\",\"password\":"
             "\"pw-%u\"}",
             run_id, i, run_id, i, run_id);
    struct curl_slist *h = headers_for(NULL, a->ip, true);
    long st = call(c, "/xrpc/com.atproto.server.createAccount", json, h, &b);
    curl_slist_free_all(h);
    json_t *j = json_loads(b.p, 0, NULL);
    const char *did = json_string_value(json_object_get(j, "did"));
    const char *jwt = json_string_value(json_object_get(j, "accessJwt"));
    bool ok = st == 200 && did && jwt;
    if (ok) {
        snprintf(a->did, sizeof a->did, "%s", did);
        snprintf(a->jwt, sizeof a->jwt, "%s", jwt);
    } else {
        fprintf(stderr, "createAccount failed (%ld): %s\n", st, b.p);
    }
    json_decref(j);
    free(b.p);
    a->rkeys = malloc(SAMPLES_MAX * sizeof(char *));
    pthread_mutex_init(&a->lock, NULL);
    return ok;
}

static void post_json(const struct account *a, unsigned seq, char *out, size_t n)
{
    snprintf(out, n,
             "{\"repo\":\"%s\",\"collection\":\"app.bsky.feed.post\",\"record\":{\"$type\":"
             "\"app.bsky.feed.post\",\"text\":\"bench %u: a post of ordinary length, about as "
             "long as people write them\",\"createdAt\":\"2026-11-24T10:00:00.000Z\"}}",
             a->did, seq);
}

/* Keeps the rkey of an acknowledged createRecord answer. */
static void keep_ack(struct account *a, const char *answer)
{
    json_t *j = json_loads(answer, 0, NULL);
    const char *uri = json_string_value(json_object_get(j, "uri"));
    const char *rkey = uri ? strrchr(uri, '/') : NULL;
    if (rkey) {
        pthread_mutex_lock(&a->lock);
        if (a->n_acked < SAMPLES_MAX) {
            a->rkeys[a->n_acked++] = strdup(rkey + 1);
        }
        pthread_mutex_unlock(&a->lock);
    }
    json_decref(j);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Every acknowledged rkey of a is listed by listRecords; returns how many are missing. */
static size_t verify(CURL *c, struct account *a)
{
    struct body b = {malloc(BODY_MAX), 0};
    size_t cap = a->n_acked + 16, have = 0;
    char **seen = malloc(cap * sizeof *seen);
    char cursor[64] = "", path[512];
    struct curl_slist *h = headers_with(NULL, a->ip, false, true);
    for (;;) {
        snprintf(path, sizeof path,
                 "/xrpc/com.atproto.repo.listRecords?repo=%s&collection=app.bsky.feed.post&"
                 "limit=100%s%s",
                 a->did, *cursor ? "&cursor=" : "", cursor);
        if (call(c, path, NULL, h, &b) != 200) {
            fprintf(stderr, "listRecords failed: %s\n", b.p);
            break;
        }
        json_t *j = json_loads(b.p, 0, NULL);
        json_t *recs = json_object_get(j, "records"), *r;
        size_t i;
        json_array_foreach(recs, i, r)
        {
            const char *uri = json_string_value(json_object_get(r, "uri"));
            if (uri && have < cap) {
                seen[have++] = strdup(strrchr(uri, '/') + 1);
            }
        }
        const char *next = json_string_value(json_object_get(j, "cursor"));
        bool more = next && json_array_size(recs) > 0;
        if (more) {
            snprintf(cursor, sizeof cursor, "%s", next);
        }
        json_decref(j);
        if (!more) {
            break;
        }
    }
    curl_slist_free_all(h);
    qsort(seen, have, sizeof *seen, cmp_str);
    size_t missing = 0;
    for (size_t i = 0; i < a->n_acked; i++) {
        missing += bsearch(&a->rkeys[i], seen, have, sizeof *seen, cmp_str) == NULL;
    }
    for (size_t i = 0; i < have; i++) {
        free(seen[i]);
    }
    free(seen);
    free(b.p);
    return missing;
}

/* Latencies, kept per kind of answer. */
struct samples {
    double *ms;
    size_t n;
    pthread_mutex_t lock;
};

static void samples_init(struct samples *s)
{
    s->ms = malloc(SAMPLES_MAX * sizeof(double));
    s->n = 0;
    pthread_mutex_init(&s->lock, NULL);
}

static void samples_add(struct samples *s, double ms)
{
    pthread_mutex_lock(&s->lock);
    if (s->n < SAMPLES_MAX) {
        s->ms[s->n++] = ms;
    }
    pthread_mutex_unlock(&s->lock);
}

static void samples_print(const char *what, struct samples *s)
{
    if (s->n == 0) {
        printf("  %-28s none\n", what);
        return;
    }
    qsort(s->ms, s->n, sizeof(double), cmp_double);
    printf("  %-28s n %-7zu p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", what, s->n,
           s->ms[s->n / 2], s->ms[s->n * 9 / 10], s->ms[s->n * 99 / 100], s->ms[s->n - 1]);
}

static double samples_p99(struct samples *s)
{
    if (s->n == 0) {
        return 0;
    }
    qsort(s->ms, s->n, sizeof(double), cmp_double);
    return s->ms[s->n * 99 / 100];
}

/* ---- fairness ---- */

struct light_ctx {
    struct account *a;
    int pace_ms;
    volatile int *stop;
    struct samples *lat;
    size_t refused, failed;
};

static void *light_main(void *arg)
{
    struct light_ctx *l = arg;
    CURL *c = curl_easy_init();
    struct body b = {malloc(BODY_MAX), 0};
    struct curl_slist *h = headers_for(l->a, l->a->ip, true);
    char json[1024];
    unsigned seq = 0;
    /* spread the first writes over one pace so the accounts do not march in step */
    usleep((useconds_t)(rand() % (l->pace_ms > 0 ? l->pace_ms : 1)) * 1000);
    while (!*l->stop) {
        post_json(l->a, seq++, json, sizeof json);
        double t0 = now_s();
        long st = call(c, "/xrpc/com.atproto.repo.createRecord", json, h, &b);
        double ms = (now_s() - t0) * 1e3;
        if (st == 200) {
            samples_add(l->lat, ms);
            keep_ack(l->a, b.p);
        } else if (st == 429 || st == 503) {
            l->refused++;
        } else {
            l->failed++;
        }
        double rest = l->pace_ms - ms;
        if (rest > 0) {
            usleep((useconds_t)(rest * 1000));
        }
    }
    curl_slist_free_all(h);
    free(b.p);
    curl_easy_cleanup(c);
    return NULL;
}

struct greedy_ctx {
    struct account *a;
    volatile int *stop;
    size_t ok, refused_429, refused_503, failed;
    char first_refusal[256];
};

static void *greedy_main(void *arg)
{
    struct greedy_ctx *g = arg;
    CURL *c = curl_easy_init();
    struct body b = {malloc(BODY_MAX), 0};
    struct curl_slist *h = headers_for(g->a, g->a->ip, true);
    char json[1024];
    unsigned seq = 1u << 20;
    while (!*g->stop) {
        post_json(g->a, seq++, json, sizeof json);
        if (greedy_rotates) {
            /* a new address each time, so only the per-account limits can hold it */
            char ip[48];
            snprintf(ip, sizeof ip, "198.18.%u.%u", (seq >> 8) & 255, seq & 255);
            curl_slist_free_all(h);
            h = headers_for(g->a, ip, true);
        }
        long st = call(c, "/xrpc/com.atproto.repo.createRecord", json, h, &b);
        if (st == 200) {
            g->ok++;
            keep_ack(g->a, b.p);
        } else if (st == 429 || st == 503) {
            st == 429 ? g->refused_429++ : g->refused_503++;
            if (!g->first_refusal[0]) {
                snprintf(g->first_refusal, sizeof g->first_refusal, "%s", b.p);
            }
        } else {
            g->failed++;
        }
    }
    curl_slist_free_all(h);
    free(b.p);
    curl_easy_cleanup(c);
    return NULL;
}

static void run_lights(struct account *lights, int n, int pace_ms, double seconds,
                       struct samples *lat, struct greedy_ctx *greedy, int greedy_conns)
{
    volatile int stop = 0;
    struct light_ctx lc[LIGHT_MAX];
    pthread_t lt[LIGHT_MAX], gt[64];
    for (int i = 0; i < n; i++) {
        lc[i] = (struct light_ctx){&lights[i], pace_ms, &stop, lat, 0, 0};
        pthread_create(&lt[i], NULL, light_main, &lc[i]);
    }
    for (int i = 0; greedy && i < greedy_conns; i++) {
        greedy[i].stop = &stop;
        pthread_create(&gt[i], NULL, greedy_main, &greedy[i]);
    }
    usleep((useconds_t)(seconds * 1e6));
    stop = 1;
    size_t refused = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(lt[i], NULL);
        refused += lc[i].refused;
        failed += lc[i].failed;
    }
    for (int i = 0; greedy && i < greedy_conns; i++) {
        pthread_join(gt[i], NULL);
    }
    printf("  light accounts: %zu refused, %zu failed\n", refused, failed);
}

static int fairness(int n_light, int pace_ms, int greedy_conns, double seconds)
{
    CURL *c = curl_easy_init();
    struct account *acc = calloc((size_t)n_light + 1, sizeof *acc);
    for (int i = 0; i <= n_light; i++) {
        if (!create_account(c, &acc[i], i)) {
            return 1;
        }
    }
    struct account *greedy_acct = &acc[n_light];
    printf("fairness: %d accounts writing every %d ms; %.0f s alone, then %.0f s beside one "
           "account writing flat out on %d connections%s\n",
           n_light, pace_ms, seconds, seconds, greedy_conns,
           greedy_rotates ? ", each request from a new address" : "");
    struct samples alone, beside;
    samples_init(&alone);
    samples_init(&beside);
    printf(" alone:\n");
    run_lights(acc, n_light, pace_ms, seconds, &alone, NULL, 0);
    samples_print("light writes", &alone);
    struct greedy_ctx *g = calloc((size_t)greedy_conns, sizeof *g);
    for (int i = 0; i < greedy_conns; i++) {
        g[i].a = greedy_acct;
    }
    printf(" beside the greedy account:\n");
    double t0 = now_s();
    run_lights(acc, n_light, pace_ms, seconds, &beside, g, greedy_conns);
    double el = now_s() - t0;
    samples_print("light writes", &beside);
    size_t ok = 0, r429 = 0, r503 = 0, failed = 0;
    for (int i = 0; i < greedy_conns; i++) {
        ok += g[i].ok;
        r429 += g[i].refused_429;
        r503 += g[i].refused_503;
        failed += g[i].failed;
    }
    printf("  greedy account: %zu written (%.1f/s), %zu refused 429 (%.0f/s), %zu refused 503,"
           " %zu failed\n",
           ok, (double)ok / el, r429, (double)r429 / el, r503, failed);
    if (g[0].first_refusal[0]) {
        printf("  greedy's first refusal: %s\n", g[0].first_refusal);
    }
    double p_alone = samples_p99(&alone), p_beside = samples_p99(&beside);
    printf(" light p99: alone %.2f ms, beside %.2f ms: %+.0f%%\n", p_alone, p_beside,
           p_alone > 0 ? (p_beside / p_alone - 1) * 100 : 0);
    size_t missing = 0;
    for (int i = 0; i <= n_light; i++) {
        missing += verify(c, &acc[i]);
    }
    size_t acked = 0;
    for (int i = 0; i <= n_light; i++) {
        acked += acc[i].n_acked;
    }
    printf(" read back: %zu acknowledged writes checked, %zu missing\n", acked, missing);
    curl_easy_cleanup(c);
    return missing ? 1 : 0;
}

/* ---- overload ---- */

struct closed_ctx {
    struct account *acc;
    int n_acc, id;
    volatile int *stop;
    size_t ok;
};

static void *closed_main(void *arg)
{
    struct closed_ctx *x = arg;
    CURL *c = curl_easy_init();
    struct body b = {malloc(BODY_MAX), 0};
    char json[1024];
    unsigned seq = (unsigned)x->id << 22;
    for (int k = x->id; !*x->stop; k += 16) {
        struct account *a = &x->acc[k % x->n_acc];
        struct curl_slist *h = headers_for(a, a->ip, true);
        post_json(a, seq++, json, sizeof json);
        if (call(c, "/xrpc/com.atproto.repo.createRecord", json, h, &b) == 200) {
            x->ok++;
            keep_ack(a, b.p);
        }
        curl_slist_free_all(h);
    }
    free(b.p);
    curl_easy_cleanup(c);
    return NULL;
}

/* Writes flat out from 16 connections for `seconds`: the admitted writes per second. */
static double capacity(struct account *acc, int n_acc, double seconds)
{
    enum { CONNS = 16 };
    volatile int stop = 0;
    struct closed_ctx x[CONNS];
    pthread_t t[CONNS];
    for (int i = 0; i < CONNS; i++) {
        x[i] = (struct closed_ctx){acc, n_acc, i, &stop, 0};
        pthread_create(&t[i], NULL, closed_main, &x[i]);
    }
    double t0 = now_s();
    usleep((useconds_t)(seconds * 1e6));
    stop = 1;
    size_t ok = 0;
    for (int i = 0; i < CONNS; i++) {
        pthread_join(t[i], NULL);
        ok += x[i].ok;
    }
    return (double)ok / (now_s() - t0);
}

struct inflight {
    CURL *easy;
    struct curl_slist *h;
    struct body b;
    struct account *a;
    double t0;
    char json[1024];
    bool busy;
};

static int overload(int n_acc, double factor, double seconds, int max_inflight)
{
    CURL *c = curl_easy_init();
    struct account *acc = calloc((size_t)n_acc, sizeof *acc);
    for (int i = 0; i < n_acc; i++) {
        if (!create_account(c, &acc[i], i)) {
            return 1;
        }
    }
    double cap = capacity(acc, n_acc, seconds / 2);
    double rate = cap * factor;
    printf("overload: capacity %.0f writes/s (16 connections, closed loop, %.0f s); offering %.0f"
           " writes/s (%.1f x) open loop for %.0f s, at most %d in flight\n",
           cap, seconds / 2, rate, factor, seconds, max_inflight);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_inflight);
    struct inflight *slots = calloc((size_t)max_inflight, sizeof *slots);
    for (int i = 0; i < max_inflight; i++) {
        slots[i].easy = curl_easy_init();
        slots[i].b.p = malloc(BODY_MAX);
    }
    struct samples ok, refused503, refused429, other;
    samples_init(&ok);
    samples_init(&refused503);
    samples_init(&refused429);
    samples_init(&other);
    size_t offered = 0, not_sent = 0, busy = 0;
    unsigned seq = 1u << 30;
    double t0 = now_s(), end = t0 + seconds, interval = 1.0 / rate;
    double next = t0;
    while (now_s() < end || busy > 0) {
        double now = now_s();
        while (now < end && next <= now) {
            next += interval;
            offered++;
            int free_slot = -1;
            for (int i = 0; i < max_inflight; i++) {
                if (!slots[i].busy) {
                    free_slot = i;
                    break;
                }
            }
            if (free_slot < 0) {
                not_sent++; /* the client is out of connections: the server is that far behind */
                continue;
            }
            struct inflight *s = &slots[free_slot];
            s->a = &acc[offered % (size_t)n_acc];
            post_json(s->a, seq++, s->json, sizeof s->json);
            s->h = headers_for(s->a, s->a->ip, true);
            char url[512];
            snprintf(url, sizeof url, "%s/xrpc/com.atproto.repo.createRecord", base_url);
            s->b.n = 0;
            s->b.p[0] = 0;
            curl_easy_setopt(s->easy, CURLOPT_URL, url);
            curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->h);
            curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->json);
            curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
            curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &s->b);
            curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
            s->t0 = now_s();
            s->busy = true;
            busy++;
            curl_multi_add_handle(m, s->easy);
        }
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            struct inflight *s;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long st = 0;
            if (msg->data.result == CURLE_OK) {
                curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &st);
            }
            double ms = (now_s() - s->t0) * 1e3;
            if (st == 200) {
                samples_add(&ok, ms);
                keep_ack(s->a, s->b.p);
            } else if (st == 503) {
                samples_add(&refused503, ms);
            } else if (st == 429) {
                samples_add(&refused429, ms);
            } else {
                samples_add(&other, ms);
            }
            curl_multi_remove_handle(m, s->easy);
            curl_slist_free_all(s->h);
            s->busy = false;
            busy--;
        }
        double wait_ms = (next - now_s()) * 1e3;
        curl_multi_poll(m, NULL, 0, wait_ms > 0 ? (int)(wait_ms < 1 ? 1 : wait_ms) : 0, NULL);
    }
    double el = now_s() - t0;
    printf(" offered %zu (%.0f/s); not sent for want of a free connection: %zu\n", offered,
           (double)offered / seconds, not_sent);
    printf(" admitted %.0f/s (%.0f%% of capacity); refused 503 %.0f/s, 429 %.0f/s; other %zu\n",
           (double)ok.n / el, (double)ok.n / el / cap * 100, (double)refused503.n / el,
           (double)refused429.n / el, other.n);
    samples_print("admitted (200)", &ok);
    samples_print("refused at once (503)", &refused503);
    samples_print("refused by a limit (429)", &refused429);
    samples_print("other answers or errors", &other);
    size_t missing = 0, acked = 0;
    for (int i = 0; i < n_acc; i++) {
        missing += verify(c, &acc[i]);
        acked += acc[i].n_acked;
    }
    printf(" read back: %zu acknowledged writes checked, %zu missing\n", acked, missing);
    for (int i = 0; i < max_inflight; i++) {
        curl_easy_cleanup(slots[i].easy);
        free(slots[i].b.p);
    }
    free(slots);
    curl_multi_cleanup(m);
    curl_easy_cleanup(c);
    return missing ? 1 : 0;
}

/* ---- write cost ---- */

static long long db_statements(CURL *c)
{
    struct body b = {malloc(BODY_MAX), 0};
    char auth[256];
    snprintf(auth, sizeof auth, "admin:%s", admin_password ? admin_password : "");
    curl_easy_setopt(c, CURLOPT_USERPWD, auth);
    long st = call(c, "/xrpc/_rateLimits", NULL, NULL, &b);
    curl_easy_setopt(c, CURLOPT_USERPWD, NULL);
    json_t *j = json_loads(b.p, 0, NULL);
    long long n = st == 200 ? (long long)json_integer_value(
                                  json_object_get(json_object_get(j, "overload"), "dbStatements"))
                            : -1;
    json_decref(j);
    free(b.p);
    return n;
}

static int writecost(int writes)
{
    CURL *c = curl_easy_init();
    struct account a = {0};
    if (!create_account(c, &a, 0)) {
        return 1;
    }
    struct body b = {malloc(BODY_MAX), 0};
    struct curl_slist *h = headers_for(&a, a.ip, true);
    char json[1024];
    long long s0 = db_statements(c);
    double t0 = now_s();
    size_t ok = 0;
    for (int i = 0; i < writes; i++) {
        post_json(&a, (unsigned)i, json, sizeof json);
        if (call(c, "/xrpc/com.atproto.repo.createRecord", json, h, &b) == 200) {
            ok++;
            keep_ack(&a, b.p);
        }
    }
    double el = now_s() - t0;
    long long s1 = db_statements(c);
    printf("writecost: %zu of %d sequential writes; mean %.3f ms per write; %.3f database"
           " statements per write (the admin read between excluded)\n",
           ok, writes, el / (double)writes * 1e3,
           s0 >= 0 && s1 >= 0 ? (double)(s1 - s0 - 1) / (double)writes : -1.0);
    size_t missing = verify(c, &a);
    printf(" read back: %zu acknowledged writes checked, %zu missing\n", a.n_acked, missing);
    curl_slist_free_all(h);
    free(b.p);
    curl_easy_cleanup(c);
    return missing ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ratebench fairness|overload|writecost --url URL [options]\n");
        return 2;
    }
    const char *mode = argv[1];
    int light = 10, pace = 500, conns = 8, accounts = 64, inflight = 512, writes = 2000;
    double seconds = 20, factor = 3;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--url")) {
            base_url = v;
        } else if (!strcmp(k, "--bypass-key")) {
            bypass_key = v;
        } else if (!strcmp(k, "--admin-password")) {
            admin_password = v;
        } else if (!strcmp(k, "--light")) {
            light = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--pace-ms")) {
            pace = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--greedy-conns")) {
            conns = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--accounts")) {
            accounts = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--max-inflight")) {
            inflight = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--writes")) {
            writes = (int)strtol(v, NULL, 10);
        } else if (!strcmp(k, "--seconds")) {
            seconds = strtod(v, NULL);
        } else if (!strcmp(k, "--factor")) {
            factor = strtod(v, NULL);
        } else if (!strcmp(k, "--greedy-rotates")) {
            greedy_rotates = strcmp(v, "no") != 0;
        }
    }
    if (light < 1 || light > LIGHT_MAX || conns < 1 || conns > 64 || accounts < 1 ||
        accounts > ACCOUNTS_MAX || inflight < 1 || inflight > INFLIGHT_MAX || seconds <= 0 ||
        factor <= 0 || writes < 1) {
        fprintf(stderr, "ratebench: an option is out of range\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srand((unsigned)time(NULL));
    run_id = (unsigned)time(NULL) % 100000 + (unsigned)getpid() % 1000 * 100000;
    int rc = 2;
    if (!strcmp(mode, "fairness")) {
        rc = fairness(light, pace, conns, seconds);
    } else if (!strcmp(mode, "overload")) {
        bypass_all = true; /* overload protection is what is measured, not the rate limits */
        rc = overload(accounts, factor, seconds, inflight);
    } else if (!strcmp(mode, "writecost")) {
        rc = writecost(writes);
    } else {
        fprintf(stderr, "ratebench: unknown mode %s\n", mode);
    }
    curl_global_cleanup();
    return rc;
}
