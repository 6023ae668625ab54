/* relays.c - each configured relay's view of this host (PDS_CRAWLERS): its
 * com.atproto.sync.getHostStatus answer for our hostname, beside our own head and account
 * count, and asking one to crawl (com.atproto.sync.requestCrawl). Calls go out with libcurl,
 * bounded by CONSOLE_RELAY_TIMEOUT_MS each, outside any transaction. */
#include "api/console/console.h"

#include "web/page.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "db/metrics.h"
#include "db/outbox.h"

#define RELAY_ANSWER_MAX (64 << 10)

struct answer {
    struct buf body;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    return buf_append(&a->body, p, size * n) == ERR_OK ? size * n : 0;
}

/* One call: GET url, or POST body (JSON). *status gets the HTTP status (0: none); *out the
 * parsed JSON answer or NULL; why a reason when the relay could not be reached. */
static void relay_call(const char *url, const char *body, long *status, json_t **out, char *why,
                       size_t why_len)
{
    *status = 0;
    *out = NULL;
    why[0] = '\0';
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, why_len, "could not start a request");
        return;
    }
    struct answer a;
    buf_init(&a.body, RELAY_ANSWER_MAX);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)CONSOLE_RELAY_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc != CURLE_OK) {
        snprintf(why, why_len, "%s", curl_easy_strerror(rc));
        metrics_outbound("relay", "error", secs);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        json_error_t jerr;
        *out = a.body.len ? json_loadb((const char *)a.body.ptr, a.body.len, 0, &jerr) : NULL;
        metrics_outbound("relay", *status >= 200 && *status < 300 ? "ok" : "refused", secs);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    buf_clear(&a.body);
}

static char *relay_url(struct xrpc_req *rq, const char *base, const char *nsid, const char *query)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') {
        n--;
    }
    size_t cap = n + strlen(nsid) + (query ? strlen(query) : 0) + 16;
    char *url = arena_alloc(rq->arena, cap);
    snprintf(url, cap, "%.*s/xrpc/%s%s%s", (int)n, base, nsid, query ? "?" : "",
             query ? query : "");
    return url;
}

/* GET /admin/api/relays */
int console_api_relays(struct xrpc_req *rq)
{
    struct console_session s;
    int st = console_session_require(rq, false, false, &s);
    if (st) {
        return st;
    }
    const struct config *cfg = rq->cfg;
    int64_t head = 0, pruned = 0;
    PGresult *r;
    if (outbox_head(rq->db, &head, &pruned) ||
        db_query_in(rq->db, rq->arena,
                    "SELECT count(*) FROM account WHERE takedown_ref IS NULL"
                    " AND deactivated_at IS NULL",
                    NULL, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    char *host = curl_easy_escape(NULL, cfg->hostname, 0);
    size_t qn = strlen(host) + 16;
    char *query = arena_alloc(rq->arena, qn);
    snprintf(query, qn, "hostname=%s", host);
    curl_free(host);
    json_t *list = json_array();
    for (size_t i = 0; i < cfg->crawlers.len; i++) {
        const char *base = cfg->crawlers.items[i];
        long status;
        json_t *ans;
        char why[256];
        relay_call(relay_url(rq, base, "com.atproto.sync.getHostStatus", query), NULL, &status,
                   &ans, why, sizeof why);
        json_t *o = json_pack("{s:s,s:I}", "url", base, "httpStatus", (json_int_t)status);
        if (why[0]) {
            json_object_set_new(o, "error", json_string(why));
        } else if (status != 200) {
            const char *name = json_string_value(json_object_get(ans, "error"));
            const char *msg = json_string_value(json_object_get(ans, "message"));
            json_object_set_new(o, "error", json_string(name ? name : "request failed"));
            if (msg) {
                json_object_set_new(o, "message", json_string(msg));
            }
        } else {
            /* whatever the relay reports: status, seq, accountCount, and any limits it
             * adds beyond the lexicon (accountLimit, throttled counts) */
            json_object_set(o, "view", ans);
        }
        json_decref(ans);
        json_array_append_new(list, o);
    }
    return xrpc_reply_json(rq, 200,
                           json_pack("{s:s,s:I,s:I,s:o}", "hostname", cfg->hostname, "headSeq",
                                     (json_int_t)head, "activeAccounts",
                                     (json_int_t)db_col_i64(r, 0, 0), "relays", list));
}

/* POST /admin/api/relays/crawl {url}: the URL must be one of PDS_CRAWLERS, so the console
 * cannot be made to post anywhere else. */
int console_api_relay_crawl(struct xrpc_req *rq)
{
    struct console_session s;
    int st;
    if ((st = console_session_require(rq, false, true, &s)) || (st = web_json_body(rq, true))) {
        return st;
    }
    const struct config *cfg = rq->cfg;
    const char *url = json_string_value(json_object_get(rq->json, "url"));
    const char *base = NULL;
    for (size_t i = 0; url && i < cfg->crawlers.len && !base; i++) {
        if (strcmp(url, cfg->crawlers.items[i]) == 0) {
            base = cfg->crawlers.items[i];
        }
    }
    if (!base) {
        return xrpc_fail(rq, 400, "InvalidRequest", "not a relay of PDS_CRAWLERS: %s",
                         url ? url : "(none)");
    }
    json_t *body = json_pack("{s:s}", "hostname", cfg->hostname);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    long status;
    json_t *ans;
    char why[256];
    relay_call(relay_url(rq, base, "com.atproto.sync.requestCrawl", NULL), text, &status, &ans, why,
               sizeof why);
    free(text);
    const char *err = json_string_value(json_object_get(ans, "error"));
    const char *outcome = why[0] ? "Unreachable" : status == 200 ? "ok" : err ? err : "Refused";
    outcome = arena_strndup(rq->arena, outcome, strlen(outcome));
    json_decref(ans);
    console_audit(rq, s.actor, "request_crawl", base, outcome, NULL);
    if (why[0]) {
        return xrpc_fail(rq, 502, "UpstreamFailure", "could not reach the relay: %s", why);
    }
    if (status != 200) {
        return xrpc_fail(rq, 502, "UpstreamFailure", "the relay answered %ld (%s)", status,
                         outcome);
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:b}", "ok", 1));
}
