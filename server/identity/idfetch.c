/* idfetch.c - one bounded HTTP request with libcurl for the identity layer.
 * Thread-safe: curl_global_init runs once (pthread_once); each call owns its easy handle. */
#include "identity/idfetch.h"

#include <curl/curl.h>
#include <pthread.h>

#define IDFETCH_CONNECT_TIMEOUT_MS 2000 /* below the whole-request default */

static pthread_once_t idfetch_once = PTHREAD_ONCE_INIT;
static CURLcode idfetch_global_rc;

static void idfetch_global_init(void)
{
    idfetch_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
    struct buf *body;
    bool too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    if (buf_append(s->body, p, len) != ERR_OK) {
        s->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

enum err idfetch(const struct idfetch_req *rq, long *status, struct buf *body)
{
    pthread_once(&idfetch_once, idfetch_global_init);
    if (idfetch_global_rc != CURLE_OK) {
        return ERR_INTERNAL;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        return ERR_INTERNAL;
    }
    buf_reset(body);
    body->max = rq->max_bytes ? rq->max_bytes : IDFETCH_BODY_MAX_BYTES;
    struct sink s = {body, false};
    struct curl_slist *headers = NULL;
    long timeout = rq->timeout_ms > 0 ? rq->timeout_ms : IDFETCH_TIMEOUT_MS_DEFAULT;
    const char *protocols = rq->https_only ? "https" : "http,https";

    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM: we are multi-threaded */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout < IDFETCH_CONNECT_TIMEOUT_MS ? timeout : IDFETCH_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, rq->max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)rq->max_redirects);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pds/" PDS_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body->max);
    headers = curl_slist_append(headers, "Accept: application/json, text/plain;q=0.9");
    if (strcmp(rq->method, "POST") == 0) {
        char ct[256];
        snprintf(ct, sizeof(ct), "Content-Type: %s",
                 rq->content_type ? rq->content_type : "application/json");
        headers = curl_slist_append(headers, ct);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)rq->body.ptr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body.len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    CURLcode rc = curl_easy_perform(c);
    enum err e = ERR_OK;
    if (s.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        e = ERR_TOO_LARGE;
    } else if (rc != CURLE_OK) {
        e = ERR_UPSTREAM;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (buf_reserve(body, 0) != ERR_OK) { /* ensure ptr exists (NUL) for empty bodies */
            e = ERR_INTERNAL;
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return e;
}
