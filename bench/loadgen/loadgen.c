/* loadgen.c - write load against a running PDS: creates N accounts, then N clients (one
 * thread and one kept-alive connection each) call createRecord for T seconds. Prints
 * records/s and latency percentiles, then reads every account back to prove that each
 * acknowledged write is there. A benchmark: it prints figures and fails only if an
 * acknowledged write is missing.
 *   loadgen --url http://127.0.0.1:2583 --clients 8 --seconds 30 [--domain .test]
 *           [--bypass-key KEY]   (sent as x-ratelimit-bypass: the reference's per-account
 *                                 write points would stop a flat-out writer within seconds) */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOADGEN_CLIENTS_MAX 256
#define LOADGEN_SAMPLES_MAX (1u << 22) /* latencies kept per client */
#define LOADGEN_BODY_MAX    (1u << 20)

struct client {
    int id;
    char did[128], jwt[2048];
    double *lat_ms;
    size_t n, failed;
    char **rkeys; /* acknowledged writes */
    pthread_t th;
};

static const char *base_url = "http://127.0.0.1:2583";
static const char *domain = ".test";
static const char *bypass_key;
static double seconds = 10;
static volatile int stop_flag;

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
    if (b->n + n + 1 > LOADGEN_BODY_MAX) {
        return 0;
    }
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

/* POST (json != NULL) or GET nsid?query; returns the HTTP status, body in out. */
static long xrpc(CURL *c, const char *nsid, const char *query, const char *json, const char *jwt,
                 struct body *out)
{
    char url[4096], auth[2100];
    snprintf(url, sizeof(url), "%s/xrpc/%s%s%s", base_url, nsid, query ? "?" : "",
             query ? query : "");
    struct curl_slist *h = NULL;
    if (json) {
        h = curl_slist_append(h, "Content-Type: application/json");
    }
    if (jwt) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", jwt);
        h = curl_slist_append(h, auth);
    }
    char bypass[256];
    if (bypass_key) {
        snprintf(bypass, sizeof(bypass), "x-ratelimit-bypass: %s", bypass_key);
        h = curl_slist_append(h, bypass);
    }
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
    curl_slist_free_all(h);
    return status;
}

static int create_account(CURL *c, struct client *cl, unsigned run)
{
    struct body b = {malloc(LOADGEN_BODY_MAX), 0};
    char json[512];
    snprintf(json, sizeof(json),
             "{\"handle\":\"lg%u-%d%s\",\"email\":\"lg%u-%d@example.com\",\"password\":\"pw-%u\"}",
             run, cl->id, domain, run, cl->id, run);
    long st = xrpc(c, "com.atproto.server.createAccount", NULL, json, NULL, &b);
    json_t *j = json_loads(b.p, 0, NULL);
    const char *did = json_string_value(json_object_get(j, "did"));
    const char *jwt = json_string_value(json_object_get(j, "accessJwt"));
    int ok = st == 200 && did && jwt;
    if (ok) {
        snprintf(cl->did, sizeof(cl->did), "%s", did);
        snprintf(cl->jwt, sizeof(cl->jwt), "%s", jwt);
    } else {
        fprintf(stderr, "createAccount failed (%ld): %s\n", st, b.p);
    }
    json_decref(j);
    free(b.p);
    return ok;
}

static void *run_client(void *arg)
{
    struct client *cl = arg;
    CURL *c = curl_easy_init();
    struct body b = {malloc(LOADGEN_BODY_MAX), 0};
    char json[1024];
    unsigned seq = 0;
    while (!stop_flag && cl->n < LOADGEN_SAMPLES_MAX) {
        snprintf(json, sizeof(json),
                 "{\"repo\":\"%s\",\"collection\":\"app.bsky.feed.post\",\"record\":{\"$type\":"
                 "\"app.bsky.feed.post\",\"text\":\"load %d/%u: a post of ordinary length, about "
                 "as long as people write them\",\"createdAt\":\"2026-11-24T10:00:00.000Z\"}}",
                 cl->did, cl->id, seq++);
        double t0 = now_s();
        long st = xrpc(c, "com.atproto.repo.createRecord", NULL, json, cl->jwt, &b);
        double ms = (now_s() - t0) * 1e3;
        if (st != 200) {
            cl->failed++;
            continue;
        }
        json_t *j = json_loads(b.p, 0, NULL);
        const char *uri = json_string_value(json_object_get(j, "uri"));
        const char *rkey = uri ? strrchr(uri, '/') : NULL;
        if (rkey) {
            cl->lat_ms[cl->n] = ms;
            cl->rkeys[cl->n] = strdup(rkey + 1);
            cl->n++;
        } else {
            cl->failed++;
        }
        json_decref(j);
    }
    free(b.p);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists every record of the client's repo and checks each acknowledged rkey is there. */
static size_t verify(CURL *c, struct client *cl)
{
    struct body b = {malloc(LOADGEN_BODY_MAX), 0};
    size_t cap = cl->n + 16, have = 0;
    char **seen = malloc(cap * sizeof(*seen));
    char cursor[64] = "", q[512];
    for (;;) {
        snprintf(q, sizeof(q), "repo=%s&collection=app.bsky.feed.post&limit=100%s%s", cl->did,
                 *cursor ? "&cursor=" : "", cursor);
        if (xrpc(c, "com.atproto.repo.listRecords", q, NULL, NULL, &b) != 200) {
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
        int more = next && json_array_size(recs) > 0;
        if (more) {
            snprintf(cursor, sizeof(cursor), "%s", next);
        }
        json_decref(j);
        if (!more) {
            break;
        }
    }
    qsort(seen, have, sizeof(*seen), cmp_str);
    size_t missing = 0;
    for (size_t i = 0; i < cl->n; i++) {
        if (!bsearch(&cl->rkeys[i], seen, have, sizeof(*seen), cmp_str)) {
            missing++;
        }
    }
    for (size_t i = 0; i < have; i++) {
        free(seen[i]);
    }
    free(seen);
    free(b.p);
    return missing;
}

int main(int argc, char **argv)
{
    int clients = 8;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url")) {
            base_url = argv[i + 1];
        } else if (!strcmp(argv[i], "--clients")) {
            clients = (int)strtol(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--seconds")) {
            seconds = strtod(argv[i + 1], NULL);
        } else if (!strcmp(argv[i], "--domain")) {
            domain = argv[i + 1];
        } else if (!strcmp(argv[i], "--bypass-key")) {
            bypass_key = argv[i + 1];
        }
    }
    if (clients < 1 || clients > LOADGEN_CLIENTS_MAX || seconds <= 0 || seconds > 3600) {
        fprintf(stderr, "loadgen: --clients 1..%d, --seconds 0..3600\n", LOADGEN_CLIENTS_MAX);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    unsigned run = (unsigned)time(NULL) % 100000;
    struct client *cl = calloc((size_t)clients, sizeof(*cl));
    CURL *c = curl_easy_init();
    for (int i = 0; i < clients; i++) {
        cl[i].id = i;
        cl[i].lat_ms = malloc(LOADGEN_SAMPLES_MAX * sizeof(double));
        cl[i].rkeys = malloc(LOADGEN_SAMPLES_MAX * sizeof(char *));
        if (!create_account(c, &cl[i], run)) {
            return 1;
        }
    }
    printf("loadgen: %d accounts created; %d clients write for %.0f s\n", clients, clients,
           seconds);
    double t0 = now_s();
    for (int i = 0; i < clients; i++) {
        pthread_create(&cl[i].th, NULL, run_client, &cl[i]);
    }
    struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&nap, NULL);
    stop_flag = 1;
    size_t total = 0, failed = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(cl[i].th, NULL);
        total += cl[i].n;
        failed += cl[i].failed;
    }
    double elapsed = now_s() - t0;
    double *all = malloc((total ? total : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, cl[i].lat_ms, cl[i].n * sizeof(double));
        k += cl[i].n;
    }
    qsort(all, total, sizeof(double), cmp_double);
    printf("records/s %.0f  (%zu records in %.1f s, %zu failed)\n", (double)total / elapsed, total,
           elapsed, failed);
    if (total) {
        printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", all[total / 2],
               all[total * 9 / 10], all[total * 99 / 100], all[total - 1]);
    }
    size_t missing = 0;
    for (int i = 0; i < clients; i++) {
        missing += verify(c, &cl[i]);
    }
    printf("read back: %zu acknowledged records checked, %zu missing\n", total, missing);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return missing ? 1 : 0;
}
