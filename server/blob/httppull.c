/* httppull.c - libcurl multi transfer driven from the reading side: each read runs the
 * transfer until some body bytes are buffered; the write callback pauses the transfer
 * when the buffer is full, so memory stays at HTTPPULL_BUFFER_BYTES whatever the size. */
#include "blob/httppull.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define POLL_SLICE_MS 1000 /* longest single wait inside the multi loop */

struct httppull {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *req_headers;
    const struct httppull_opts *_o; /* valid during start only */
    /* request body */
    struct bytes body;
    int body_fd;
    uint64_t body_len, body_sent;
    /* response */
    long status;
    bool headers_done;
    size_t n_headers, header_bytes;
    char *hnames[HTTPPULL_HEADERS_MAX];
    char *hvalues[HTTPPULL_HEADERS_MAX];
    uint8_t *buf; /* body bytes received and not yet read: [off, off + len) */
    size_t off, len, cap;
    uint64_t received, max_body;
    bool paused, done, failed, timed_out, too_large;
    CURLcode result;
    long body_timeout_ms;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SSRF */

static bool v4_is_private(uint32_t a)
{
    return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
           (a >> 22) == (100u << 2 | 1) ||   /* 100.64/10 shared */
           (a >> 16) == (169u << 8 | 254) || /* link-local */
           (a >> 20) == (172u << 4 | 1) ||   /* 172.16/12 */
           (a >> 16) == (192u << 8 | 168) || (a >> 8) == (192u << 16 | 0 << 8 | 0) ||
           (a >> 28) >= 14; /* multicast 224/4 and reserved 240/4 */
}

bool httppull_addr_is_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        return v4_is_private(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
            uint32_t v4;
            memcpy(&v4, &a->s6_addr[12], 4);
            return v4_is_private(ntohl(v4));
        }
        return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
               IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a) ||
               (a->s6_addr[0] & 0xfe) == 0xfc;
    }
    return true; /* anything but IP: refused */
}

static curl_socket_t open_socket_checked(void *ctx, curlsocktype purpose,
                                         struct curl_sockaddr *addr)
{
    if (httppull_addr_is_private(&addr->addr)) {
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

/* Callbacks */

static void drop_headers(struct httppull *p)
{
    for (size_t i = 0; i < p->n_headers; i++) {
        free(p->hnames[i]);
        free(p->hvalues[i]);
    }
    p->n_headers = p->header_bytes = 0;
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    struct httppull *p = ctx;
    size_t len = size * n;
    size_t l = len;
    while (l && (line[l - 1] == '\r' || line[l - 1] == '\n')) {
        l--;
    }
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        drop_headers(p); /* a new response (after 1xx or a redirect) */
        const char *sp = memchr(line, ' ', l);
        p->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    if (l == 0) {
        if (p->status >= 200) {
            p->headers_done = true;
        }
        return len;
    }
    const char *colon = memchr(line, ':', l);
    if (!colon || p->n_headers == HTTPPULL_HEADERS_MAX ||
        p->header_bytes + l > HTTPPULL_HEADER_BYTES) {
        return len;
    }
    const char *v = colon + 1;
    while (v < line + l && (*v == ' ' || *v == '\t')) {
        v++;
    }
    p->hnames[p->n_headers] = xstrndup(line, (size_t)(colon - line));
    p->hvalues[p->n_headers] = xstrndup(v, (size_t)(line + l - v));
    p->n_headers++;
    p->header_bytes += l;
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct httppull *p = ctx;
    size_t len = size * n;
    p->headers_done = true;
    if (p->max_body && p->received + len > p->max_body) {
        p->too_large = true;
        return 0; /* aborts the transfer */
    }
    if (p->off > 0 && p->off + p->len + len > p->cap) {
        memmove(p->buf, p->buf + p->off, p->len);
        p->off = 0;
    }
    if (p->off + p->len + len > p->cap) {
        if (p->len > 0) {
            p->paused = true;
            return CURL_WRITEFUNC_PAUSE; /* curl hands the same bytes again on unpause */
        }
        p->cap = len; /* a single chunk larger than the buffer: hold it */
        p->buf = xrealloc(p->buf, p->cap);
    }
    memcpy(p->buf + p->off + p->len, data, len);
    p->len += len;
    p->received += len;
    return len;
}

static size_t on_read(char *out, size_t size, size_t n, void *ctx)
{
    struct httppull *p = ctx;
    size_t max = size * n;
    uint64_t left = p->body_len - p->body_sent;
    size_t k = left < max ? (size_t)left : max;
    if (k == 0) {
        return 0;
    }
    if (p->body_fd >= 0) {
        ssize_t got = pread(p->body_fd, out, k, (off_t)p->body_sent);
        if (got <= 0) {
            return CURL_READFUNC_ABORT;
        }
        k = (size_t)got;
    } else {
        memcpy(out, p->body.ptr + p->body_sent, k);
    }
    p->body_sent += k;
    return k;
}

/* The multi loop */

static void check_done(struct httppull *p)
{
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(p->multi, &left))) {
        if (m->msg == CURLMSG_DONE) {
            p->done = true;
            p->result = m->data.result;
            if (p->result != CURLE_OK) {
                p->failed = true;
                p->timed_out = p->result == CURLE_OPERATION_TIMEDOUT;
            }
        }
    }
}

/* Runs the transfer until want(p) holds, it ends, or deadline (monotonic ms) passes. */
static void pump(struct httppull *p, bool (*want)(const struct httppull *), int64_t deadline)
{
    while (!want(p) && !p->done) {
        int running = 0;
        if (curl_multi_perform(p->multi, &running) != CURLM_OK) {
            p->failed = p->done = true;
            return;
        }
        check_done(p);
        if (want(p) || p->done) {
            return;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            p->failed = p->timed_out = true;
            return;
        }
        int numfds;
        curl_multi_poll(p->multi, NULL, 0, (int)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS),
                        &numfds);
    }
}

static bool want_headers(const struct httppull *p)
{
    return p->headers_done;
}

static bool want_bytes(const struct httppull *p)
{
    return p->len > 0;
}

static void set_method(struct httppull *p, const struct httppull_opts *o)
{
    CURL *e = p->easy;
    if (strcmp(o->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(o->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(o->method, "DELETE") == 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else if (strcmp(o->method, "PUT") == 0) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)p->body_len);
    } else {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body_len);
        if (strcmp(o->method, "POST") != 0) {
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
        }
    }
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, p);
}

enum err httppull_start(const struct httppull_opts *o, struct httppull **out, bool *timed_out,
                        char *why, size_t why_len)
{
    pthread_once(&curl_once, curl_init_once);
    *out = NULL;
    *timed_out = false;
    struct httppull *p = xcalloc(1, sizeof *p);
    p->multi = curl_multi_init();
    p->easy = curl_easy_init();
    p->body = o->body;
    p->body_fd = o->body_fd;
    p->body_len = o->body_fd >= 0 ? o->body_len : o->body.len;
    p->max_body = o->max_body_bytes;
    p->cap = HTTPPULL_BUFFER_BYTES;
    p->buf = xmalloc(p->cap);
    long headers_ms = o->headers_timeout_ms > 0 ? o->headers_timeout_ms : HTTPPULL_TIMEOUT_MS;
    p->body_timeout_ms = o->body_timeout_ms > 0 ? o->body_timeout_ms : HTTPPULL_TIMEOUT_MS;
    if (!p->multi || !p->easy) {
        httppull_free(p);
        snprintf(why, why_len, "could not create a curl handle");
        return ERR_INTERNAL;
    }
    CURL *e = p->easy;
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, headers_ms);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, o->ssrf_protect ? "https" : "http,https");
    if (o->ssrf_protect) {
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket_checked);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, p);
    }
    if (o->ca_file) { /* CURLOPT_CAPATH (the system's directory) still applies */
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    }
    set_method(p, o);
    p->req_headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    for (size_t i = 0; i < o->n_headers; i++) {
        p->req_headers = curl_slist_append(p->req_headers, o->headers[i]);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->req_headers);
    curl_multi_add_handle(p->multi, e);
    pump(p, want_headers, now_ms() + headers_ms);
    if (!p->headers_done) {
        *timed_out = p->timed_out;
        snprintf(why, why_len, "%s",
                 p->timed_out ? "timed out"
                 : p->failed  ? curl_easy_strerror(p->result)
                              : "no response");
        httppull_free(p);
        return ERR_UPSTREAM;
    }
    *out = p;
    return ERR_OK;
}

long httppull_status(const struct httppull *p)
{
    return p->status;
}

const char *httppull_header(const struct httppull *p, const char *name)
{
    for (size_t i = p->n_headers; i > 0; i--) {
        if (strcasecmp(p->hnames[i - 1], name) == 0) {
            return p->hvalues[i - 1];
        }
    }
    return NULL;
}

int64_t httppull_content_length(const struct httppull *p)
{
    const char *v = httppull_header(p, "content-length");
    if (!v || *v < '0' || *v > '9') {
        return -1;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end == '\0' && n >= 0 ? (int64_t)n : -1;
}

ssize_t httppull_read(struct httppull *p, uint8_t *out, size_t max)
{
    if (p->len == 0) {
        if (p->paused) {
            p->paused = false;
            curl_easy_pause(p->easy, CURLPAUSE_CONT); /* may deliver bytes right away */
        }
        pump(p, want_bytes, now_ms() + p->body_timeout_ms);
    }
    if (p->len > 0) {
        size_t n = p->len < max ? p->len : max;
        memcpy(out, p->buf + p->off, n);
        p->off += n;
        p->len -= n;
        if (p->len == 0) {
            p->off = 0;
        }
        return (ssize_t)n;
    }
    if (p->failed || p->too_large || !p->done) {
        return -1;
    }
    return 0;
}

enum err httppull_read_all(struct httppull *p, struct buf *out)
{
    uint8_t chunk[16 << 10];
    for (;;) {
        ssize_t n = httppull_read(p, chunk, sizeof chunk);
        if (n == 0) {
            return ERR_OK;
        }
        if (n < 0) {
            return p->too_large ? ERR_TOO_LARGE : ERR_UPSTREAM; /* past max_body_bytes */
        }
        if (buf_append(out, chunk, (size_t)n)) {
            return ERR_TOO_LARGE;
        }
    }
}

bool httppull_timed_out(const struct httppull *p)
{
    return p->timed_out;
}

void httppull_free(struct httppull *p)
{
    if (!p) {
        return;
    }
    if (p->multi && p->easy) {
        curl_multi_remove_handle(p->multi, p->easy);
    }
    if (p->easy) {
        curl_easy_cleanup(p->easy);
    }
    if (p->multi) {
        curl_multi_cleanup(p->multi);
    }
    curl_slist_free_all(p->req_headers);
    drop_headers(p);
    free(p->buf);
    free(p);
}
