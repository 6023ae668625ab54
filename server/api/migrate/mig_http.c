/* mig_http.c - one bounded HTTP call for the migration worker (mig_http.h). */
#include "api/migrate/mig_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "blob/httppull.h"
#include "http/ratelimit.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mig_http_req_init(struct mig_http_req *rq, const char *method, const char *url)
{
    memset(rq, 0, sizeof *rq);
    rq->method = method;
    rq->url = url;
    rq->body_fd = -1;
    rq->out_fd = -1;
}

void mig_http_resp_init(struct mig_http_resp *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body, MIG_HTTP_JSON_MAX_BYTES);
}

void mig_http_resp_clear(struct mig_http_resp *r)
{
    buf_clear(&r->body);
}

struct transfer {
    const struct mig_http_req *rq;
    struct mig_http_resp *r;
    uint64_t cap;
    struct sha256_ctx hash;
    bool write_failed;
    uint64_t sent; /* request body bytes read from body_fd */
};

static size_t on_write(char *p, size_t size, size_t n, void *ctx)
{
    struct transfer *t = ctx;
    size_t len = size * n;
    if (t->r->bytes + len > t->cap) {
        t->r->too_large = true;
        return 0; /* aborts the transfer */
    }
    if (t->rq->hash) {
        sha256_update(&t->hash, p, len);
    }
    if (t->rq->out_fd >= 0) {
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(t->rq->out_fd, p + off, len - off);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                t->write_failed = true;
                return 0;
            }
            off += (size_t)w;
        }
    } else if (buf_append(&t->r->body, p, len) != ERR_OK) {
        t->r->too_large = true;
        return 0;
    }
    t->r->bytes += len;
    if (t->rq->on_bytes) {
        t->rq->on_bytes(t->rq->ctx, t->r->bytes);
    }
    return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ctx)
{
    struct transfer *t = ctx;
    size_t want = size * n;
    uint64_t left = t->rq->body_len - t->sent;
    if (want > left) {
        want = (size_t)left;
    }
    if (want == 0) {
        return 0;
    }
    ssize_t got;
    do {
        got = pread(t->rq->body_fd, p, want, (off_t)t->sent);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        return CURL_READFUNC_ABORT;
    }
    t->sent += (uint64_t)got;
    return (size_t)got;
}

static curl_socket_t open_socket_checked(void *ctx, curlsocktype purpose,
                                         struct curl_sockaddr *addr)
{
    if (httppull_addr_is_private(&addr->addr)) {
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

/* {error, message} of an XRPC failure, when the body is JSON. */
static void read_error(struct mig_http_resp *r)
{
    if (r->status >= 200 && r->status < 300) {
        return;
    }
    json_t *j = r->body.len ? json_loadb((const char *)r->body.ptr, r->body.len, 0, NULL) : NULL;
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *m = json_string_value(json_object_get(j, "message"));
    snprintf(r->error, sizeof r->error, "%s", e ? e : "");
    snprintf(r->message, sizeof r->message, "%s", m ? m : "");
    json_decref(j);
}

static struct curl_slist *headers_for(const struct mig_http_req *rq)
{
    struct curl_slist *h = curl_slist_append(NULL, "Expect:"); /* no 100-continue wait */
    char line[8192];
    if (rq->bearer) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", rq->bearer);
        h = curl_slist_append(h, line);
        sodium_memzero(line, sizeof line); /* a token: leave no copy on the stack */
    }
    const char *key = rq->to_self ? ratelimit_internal_key() : "";
    if (*key) {
        /* the job's own uploads and imports are the account's, already admitted once: the
         * host's per-address limits (1,000 blobs a day) must not stall a move */
        snprintf(line, sizeof line, "x-ratelimit-bypass: %s", key);
        h = curl_slist_append(h, line);
        sodium_memzero(line, sizeof line);
    }
    if (rq->content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", rq->content_type);
        h = curl_slist_append(h, line);
    } else {
        h = curl_slist_append(h, "Content-Type:"); /* not libcurl's form type on a bare POST */
    }
    return h;
}

enum err mig_http_do(const struct mig_http_req *rq, struct mig_http_resp *r)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(r->why, sizeof r->why, "could not start an HTTP transfer");
        return ERR_UPSTREAM;
    }
    struct transfer t = {.rq = rq, .r = r};
    t.cap = rq->max_bytes ? rq->max_bytes : MIG_HTTP_JSON_MAX_BYTES;
    r->body.max = (size_t)t.cap + 1;
    if (rq->hash) {
        sha256_init(&t.hash);
    }
    struct curl_slist *h = headers_for(rq);
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)MIG_HTTP_CONNECT_MS);
    if (rq->timeout_ms > 0) {
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    }
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)MIG_HTTP_LOW_SPEED_BYTES);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)MIG_HTTP_LOW_SPEED_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* whatever libcurl can decode */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, rq->ssrf_protect ? "https" : "http,https");
    if (rq->ssrf_protect) {
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket_checked);
    }
    if (strcmp(rq->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        if (rq->body_fd >= 0) {
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &t);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body.len ? (const char *)rq->body.ptr : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body.len);
        }
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
        snprintf(r->content_type, sizeof r->content_type, "%s", ct);
    }
    if (rq->hash) {
        sha256_final(&t.hash, r->sha256);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (r->too_large) {
        snprintf(r->why, sizeof r->why, "the answer is larger than %llu bytes",
                 (unsigned long long)t.cap);
        return ERR_TOO_LARGE;
    }
    if (rc != CURLE_OK || t.write_failed) {
        r->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        snprintf(r->why, sizeof r->why, "%s",
                 t.write_failed ? "could not write the download" : curl_easy_strerror(rc));
        return ERR_UPSTREAM;
    }
    read_error(r);
    return ERR_OK;
}

char *mig_http_escape(const char *value)
{
    pthread_once(&curl_once, curl_init_once);
    char *e = curl_easy_escape(NULL, value, 0);
    char *out = xstrndup(e ? e : "", e ? strlen(e) : 0);
    curl_free(e);
    return out;
}
