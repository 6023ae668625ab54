/* resolver.c - DID and handle resolution with TTL caches.
 * Thread-safe: r->lock guards did_cache and handle_cache; network I/O runs unlocked. */
#include "identity/resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <time.h>

#include "identity/idfetch.h"
#include "identity/plc_client.h"

#define RESOLVER_BUCKETS     4096 /* hash buckets per cache (power of two) */
#define RESOLVER_URL_MAX     4096
#define DNS_ANSWER_MAX_BYTES 8192 /* a TXT answer holding a few did= records */
#define DNS_TXT_PREFIX       "did="

struct centry {
    char *key;
    json_t *doc; /* DID cache: the document (never handed out, only copies) */
    char *value; /* handle cache: the DID */
    int64_t at_ms;
    struct centry *next;
};

struct cache {
    struct centry *buckets[RESOLVER_BUCKETS];
    size_t count;
};

struct resolver {
    char *plc_url;
    long timeout_ms;
    int64_t stale_ms, max_ms, handle_ttl_ms;
    size_t max_entries;
    bool dev_mode;
    int dev_http_port;
    bool has_dns_server;
    struct sockaddr_in dns_server;
    int64_t (*now_ms)(void);

    pthread_mutex_t lock; /* guards did_cache and handle_cache */
    struct cache did_cache;
    struct cache handle_cache;
};

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool parse_dns_server(const char *s, struct sockaddr_in *out)
{
    const char *colon = strrchr(s, ':');
    char host[INET_ADDRSTRLEN];
    if (!colon || (size_t)(colon - s) >= sizeof(host)) {
        return false;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return *end == '\0' && port > 0 && port <= 65535 &&
           inet_pton(AF_INET, host, &out->sin_addr) == 1;
}

struct resolver *resolver_new(const struct resolver_config *cfg)
{
    struct resolver *r = xcalloc(1, sizeof(*r));
    if (cfg->dns_server && !parse_dns_server(cfg->dns_server, &r->dns_server)) {
        free(r);
        return NULL;
    }
    r->has_dns_server = cfg->dns_server != NULL;
    r->plc_url = cfg->plc_url ? xstrndup(cfg->plc_url, strlen(cfg->plc_url)) : NULL;
    r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : RESOLVER_TIMEOUT_MS_DEFAULT;
    r->stale_ms =
        cfg->did_stale_ttl_ms > 0 ? cfg->did_stale_ttl_ms : RESOLVER_DID_STALE_TTL_MS_DEFAULT;
    r->max_ms = cfg->did_max_ttl_ms > 0 ? cfg->did_max_ttl_ms : RESOLVER_DID_MAX_TTL_MS_DEFAULT;
    r->handle_ttl_ms = cfg->handle_ttl_ms > 0 ? cfg->handle_ttl_ms : RESOLVER_HANDLE_TTL_MS_DEFAULT;
    r->max_entries = cfg->max_entries ? cfg->max_entries : RESOLVER_CACHE_MAX_ENTRIES;
    r->dev_mode = cfg->dev_mode;
    r->dev_http_port = cfg->dev_http_port;
    r->now_ms = cfg->now_ms ? cfg->now_ms : monotonic_ms;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void centry_free(struct centry *e)
{
    free(e->key);
    json_decref(e->doc);
    free(e->value);
    free(e);
}

static void cache_clear(struct cache *c)
{
    for (size_t i = 0; i < RESOLVER_BUCKETS; i++) {
        while (c->buckets[i]) {
            struct centry *e = c->buckets[i];
            c->buckets[i] = e->next;
            centry_free(e);
        }
    }
    c->count = 0;
}

void resolver_free(struct resolver *r)
{
    if (!r) {
        return;
    }
    cache_clear(&r->did_cache);
    cache_clear(&r->handle_cache);
    pthread_mutex_destroy(&r->lock);
    free(r->plc_url);
    free(r);
}

/* ---- cache (callers hold r->lock) ---- */

static size_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    }
    return (size_t)(h & (RESOLVER_BUCKETS - 1));
}

static struct centry *cache_get(struct cache *c, const char *key)
{
    for (struct centry *e = c->buckets[key_hash(key)]; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            return e;
        }
    }
    return NULL;
}

static void cache_remove(struct cache *c, const char *key)
{
    for (struct centry **pp = &c->buckets[key_hash(key)]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0) {
            struct centry *e = *pp;
            *pp = e->next;
            centry_free(e);
            c->count--;
            return;
        }
    }
}

/* Makes room: drops entries older than max_age; if none was, the single oldest one. */
static void cache_evict(struct cache *c, int64_t now, int64_t max_age)
{
    struct centry **oldest = NULL;
    size_t before = c->count;
    for (size_t i = 0; i < RESOLVER_BUCKETS; i++) {
        struct centry **pp = &c->buckets[i];
        while (*pp) {
            if (now - (*pp)->at_ms >= max_age) {
                struct centry *e = *pp;
                *pp = e->next;
                centry_free(e);
                c->count--;
                continue;
            }
            if (!oldest || (*pp)->at_ms < (*oldest)->at_ms) {
                oldest = pp;
            }
            pp = &(*pp)->next;
        }
    }
    if (c->count == before && oldest) {
        struct centry *e = *oldest;
        *oldest = e->next;
        centry_free(e);
        c->count--;
    }
}

/* Stores (key -> doc or value), taking ownership of doc / value. */
static void cache_put(struct resolver *r, struct cache *c, const char *key, json_t *doc,
                      char *value, int64_t max_age)
{
    int64_t now = r->now_ms();
    cache_remove(c, key);
    if (c->count >= r->max_entries) {
        cache_evict(c, now, max_age);
    }
    struct centry *e = xcalloc(1, sizeof(*e));
    e->key = xstrndup(key, strlen(key));
    e->doc = doc;
    e->value = value;
    e->at_ms = now;
    size_t h = key_hash(key);
    e->next = c->buckets[h];
    c->buckets[h] = e;
    c->count++;
}

/* ---- DIDs ---- */

/* did:web:<host>[%3A<port>] -> its did.json URL. spec(did): atproto supports hostname-level
 * did:web only (no path segments). */
static enum err did_web_url(const struct resolver *r, const char *did, char url[RESOLVER_URL_MAX])
{
    const char *id = did + strlen("did:web:");
    if (strchr(id, ':') || strchr(id, '/')) {
        return ERR_INVALID;
    }
    const char *pct = strstr(id, "%3A");
    if (!pct) {
        pct = strstr(id, "%3a");
    }
    size_t host_len = pct ? (size_t)(pct - id) : strlen(id);
    char host[SYNTAX_HANDLE_BUF];
    if (host_len == 0 || host_len >= sizeof(host)) {
        return ERR_INVALID;
    }
    memcpy(host, id, host_len);
    host[host_len] = '\0';
    bool loopback = strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0;
    if (r->dev_mode && loopback) {
        const char *port = pct ? pct + 3 : "";
        for (const char *p = port; *p; p++) {
            if (*p < '0' || *p > '9') {
                return ERR_INVALID;
            }
        }
        snprintf(url, RESOLVER_URL_MAX, "http://%s%s%s/.well-known/did.json", host, pct ? ":" : "",
                 port);
        return ERR_OK;
    }
    if (pct || !syntax_handle_valid(bytes_str(host))) {
        return ERR_INVALID; /* ports only for localhost in dev mode */
    }
    snprintf(url, RESOLVER_URL_MAX, "https://%s/.well-known/did.json", host);
    return ERR_OK;
}

static enum err fetch_did_web(struct resolver *r, const char *did, json_t **doc)
{
    char url[RESOLVER_URL_MAX];
    enum err e = did_web_url(r, did, url);
    if (e != ERR_OK) {
        return e;
    }
    struct idfetch_req rq = {
        .method = "GET",
        .url = url,
        .timeout_ms = r->timeout_ms,
        .max_bytes = RESOLVER_DID_DOC_MAX_BYTES,
        .https_only = strncmp(url, "https:", 6) == 0,
    };
    struct buf body;
    buf_init(&body, RESOLVER_DID_DOC_MAX_BYTES);
    long status = 0;
    e = idfetch(&rq, &status, &body);
    if (e == ERR_OK) {
        if (status == 404 || status == 410) {
            e = ERR_NOT_FOUND;
        } else if (status != 200) {
            e = ERR_UPSTREAM;
        } else {
            *doc = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, NULL);
            e = *doc ? ERR_OK : ERR_UPSTREAM;
        }
    } else {
        e = ERR_UPSTREAM;
    }
    buf_clear(&body);
    return e;
}

/* Network resolution, no cache. */
static enum err fetch_did(struct resolver *r, const char *did, json_t **doc)
{
    *doc = NULL;
    enum err e;
    if (strncmp(did, "did:plc:", 8) == 0) {
        struct plc_client pc = {r->plc_url, r->timeout_ms};
        e = r->plc_url ? plc_get_document(&pc, did, doc) : ERR_UNSUPPORTED;
    } else if (strncmp(did, "did:web:", 8) == 0) {
        e = fetch_did_web(r, did, doc);
    } else {
        return ERR_INVALID;
    }
    if (e == ERR_OK) {
        const char *id = json_string_value(json_object_get(*doc, "id"));
        if (!json_is_object(*doc) || !id || strcmp(id, did) != 0) {
            e = ERR_UPSTREAM; /* spec(did): a document for another DID is an error */
        }
    }
    if (e != ERR_OK) {
        json_decref(*doc);
        *doc = NULL;
    }
    return e;
}

enum err resolver_resolve_did(struct resolver *r, const char *did, bool force_refresh, json_t **doc)
{
    *doc = NULL;
    if (!syntax_did_is_atproto(bytes_str(did)) &&
        !(r->dev_mode && syntax_did_valid(bytes_str(did)) && strncmp(did, "did:web:", 8) == 0)) {
        return ERR_INVALID;
    }
    json_t *fallback = NULL;
    pthread_mutex_lock(&r->lock);
    struct centry *c = cache_get(&r->did_cache, did);
    if (c) {
        int64_t age = r->now_ms() - c->at_ms;
        if (age < r->stale_ms && !force_refresh) {
            *doc = json_deep_copy(c->doc);
        } else if (age < r->max_ms) {
            fallback = json_deep_copy(c->doc);
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (*doc) {
        return ERR_OK;
    }

    json_t *fresh;
    enum err e = fetch_did(r, did, &fresh);
    pthread_mutex_lock(&r->lock);
    if (e == ERR_OK) {
        cache_put(r, &r->did_cache, did, json_deep_copy(fresh), NULL, r->max_ms);
    } else if (e == ERR_NOT_FOUND) {
        cache_remove(&r->did_cache, did);
    }
    pthread_mutex_unlock(&r->lock);
    if (e == ERR_OK) {
        json_decref(fallback);
        *doc = fresh;
        return ERR_OK;
    }
    if (fallback && e != ERR_NOT_FOUND && e != ERR_INVALID) {
        *doc = fallback; /* stale beats nothing while the source is down */
        return ERR_OK;
    }
    json_decref(fallback);
    return e;
}

enum err resolver_resolve_atproto(struct resolver *r, const char *did, bool force_refresh,
                                  struct did_doc *out)
{
    memset(out, 0, sizeof(*out));
    json_t *doc;
    enum err e = resolver_resolve_did(r, did, force_refresh, &doc);
    if (e != ERR_OK) {
        return e;
    }
    e = did_doc_parse(doc, did, out);
    json_decref(doc);
    return e;
}

void resolver_forget_did(struct resolver *r, const char *did)
{
    pthread_mutex_lock(&r->lock);
    cache_remove(&r->did_cache, did);
    pthread_mutex_unlock(&r->lock);
}

/* ---- handles ---- */

static bool accept_did(const struct resolver *r, struct bytes did)
{
    return syntax_did_is_atproto(did) || (r->dev_mode && syntax_did_valid(did) && did.len > 8 &&
                                          memcmp(did.ptr, "did:web:", 8) == 0);
}

/* One TXT record's character-strings, concatenated (as resolvers present them). */
static size_t txt_join(const uint8_t *rd, size_t rdlen, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < rdlen;) {
        size_t len = rd[i++];
        if (len > rdlen - i) {
            len = rdlen - i;
        }
        if (n + len >= cap) {
            return 0; /* longer than any DID record: ignore it */
        }
        memcpy(out + n, rd + i, len);
        n += len;
        i += len;
    }
    out[n] = '\0';
    return n;
}

static enum err dns_query(struct resolver *r, const char *name, uint8_t *ans, int *len)
{
    struct __res_state st;
    memset(&st, 0, sizeof(st));
    if (res_ninit(&st) != 0) {
        return ERR_UPSTREAM;
    }
    long secs = (r->timeout_ms + 999) / 1000;
    st.retrans = (int)(secs > 0 ? secs : 1);
    st.retry = 1;
    if (r->has_dns_server) {
        st.nsaddr_list[0] = r->dns_server;
        st.nscount = 1;
    }
    int n = res_nquery(&st, name, ns_c_in, ns_t_txt, ans, DNS_ANSWER_MAX_BYTES);
    int herr = st.res_h_errno;
    res_nclose(&st);
    if (n < 0) {
        return herr == HOST_NOT_FOUND || herr == NO_DATA ? ERR_NOT_FOUND : ERR_UPSTREAM;
    }
    if (n > DNS_ANSWER_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    *len = n;
    return ERR_OK;
}

enum err resolver_handle_dns(struct resolver *r, const char *handle, char did[RESOLVER_DID_MAX])
{
    char norm[SYNTAX_HANDLE_BUF];
    if (syntax_handle_normalize(bytes_str(handle), norm, sizeof(norm)) != ERR_OK) {
        return ERR_INVALID;
    }
    char name[SYNTAX_HANDLE_BUF + 16];
    snprintf(name, sizeof(name), "_atproto.%s", norm);
    return resolver_txt_did(r, name, did);
}

enum err resolver_txt_did(struct resolver *r, const char *name, char did[RESOLVER_DID_MAX])
{
    uint8_t *ans = xmalloc(DNS_ANSWER_MAX_BYTES);
    int len = 0;
    enum err e = dns_query(r, name, ans, &len);
    ns_msg msg;
    if (e == ERR_OK && ns_initparse(ans, len, &msg) != 0) {
        e = ERR_UPSTREAM;
    }
    bool found = false;
    for (int i = 0; e == ERR_OK && i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) {
            e = ERR_UPSTREAM;
            break;
        }
        char txt[RESOLVER_DID_MAX + sizeof(DNS_TXT_PREFIX)];
        if (ns_rr_type(rr) != ns_t_txt ||
            txt_join(ns_rr_rdata(rr), ns_rr_rdlen(rr), txt, sizeof(txt)) == 0 ||
            strncmp(txt, DNS_TXT_PREFIX, strlen(DNS_TXT_PREFIX)) != 0) {
            continue; /* spec(handle): ignore other TXT values */
        }
        const char *value = txt + strlen(DNS_TXT_PREFIX);
        if (!accept_did(r, bytes_str(value))) {
            continue;
        }
        if (found && strcmp(did, value) != 0) {
            e = ERR_CONFLICT; /* spec(handle): more than one distinct DID fails */
            break;
        }
        snprintf(did, RESOLVER_DID_MAX, "%s", value);
        found = true;
    }
    free(ans);
    if (e == ERR_OK && !found) {
        e = ERR_NOT_FOUND;
    }
    return e;
}

static void trim_first_line(char *s)
{
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
    }
    size_t start = 0, end = strlen(s);
    while (start < end && (s[start] == ' ' || s[start] == '\t' || s[start] == '\r')) {
        start++;
    }
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r')) {
        end--;
    }
    memmove(s, s + start, end - start);
    s[end - start] = '\0';
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

enum err resolver_handle_http(struct resolver *r, const char *handle, char did[RESOLVER_DID_MAX])
{
    char norm[SYNTAX_HANDLE_BUF];
    if (syntax_handle_normalize(bytes_str(handle), norm, sizeof(norm)) != ERR_OK) {
        return ERR_INVALID;
    }
    char url[RESOLVER_URL_MAX];
    bool dev_local = r->dev_mode && ends_with(norm, ".localhost");
    if (dev_local) {
        snprintf(url, sizeof(url), "http://%s:%d/.well-known/atproto-did", norm,
                 r->dev_http_port > 0 ? r->dev_http_port : 80);
    } else {
        snprintf(url, sizeof(url), "https://%s/.well-known/atproto-did", norm);
    }
    struct idfetch_req rq = {
        .method = "GET",
        .url = url,
        .timeout_ms = r->timeout_ms,
        .max_bytes = RESOLVER_HANDLE_BODY_MAX_BYTES,
        .max_redirects = RESOLVER_HANDLE_MAX_REDIRECTS,
        .https_only = !dev_local,
    };
    struct buf body;
    buf_init(&body, RESOLVER_HANDLE_BODY_MAX_BYTES);
    long status = 0;
    enum err e = idfetch(&rq, &status, &body);
    if (e == ERR_OK && (status < 200 || status > 299)) {
        e = ERR_NOT_FOUND;
    } else if (e == ERR_TOO_LARGE) {
        e = ERR_NOT_FOUND; /* not a DID: someone's web page */
    }
    if (e == ERR_OK) {
        char *text = (char *)body.ptr;
        if (memchr(text, '\0', body.len)) {
            e = ERR_NOT_FOUND;
        } else {
            trim_first_line(text);
            if (!accept_did(r, bytes_str(text)) || strlen(text) >= RESOLVER_DID_MAX) {
                e = ERR_NOT_FOUND;
            } else {
                snprintf(did, RESOLVER_DID_MAX, "%s", text);
            }
        }
    }
    buf_clear(&body);
    return e;
}

enum err resolver_resolve_handle(struct resolver *r, const char *handle, bool force_refresh,
                                 char did[RESOLVER_DID_MAX])
{
    char norm[SYNTAX_HANDLE_BUF];
    if (syntax_handle_normalize(bytes_str(handle), norm, sizeof(norm)) != ERR_OK) {
        return ERR_INVALID;
    }
    bool hit = false;
    pthread_mutex_lock(&r->lock);
    struct centry *c = cache_get(&r->handle_cache, norm);
    if (c && !force_refresh && r->now_ms() - c->at_ms < r->handle_ttl_ms) {
        snprintf(did, RESOLVER_DID_MAX, "%s", c->value);
        hit = true;
    }
    pthread_mutex_unlock(&r->lock);
    if (hit) {
        return ERR_OK;
    }
    /* spec(handle): DNS wins when both answer; so HTTPS is asked only when DNS has none.
     * A DNS conflict (two DIDs) is final, not a reason to try HTTPS. */
    enum err e = resolver_handle_dns(r, norm, did);
    if (e != ERR_OK && e != ERR_CONFLICT) {
        e = resolver_handle_http(r, norm, did);
        if (e != ERR_OK) {
            e = ERR_NOT_FOUND;
        }
    }
    pthread_mutex_lock(&r->lock);
    if (e == ERR_OK) {
        cache_put(r, &r->handle_cache, norm, NULL, xstrndup(did, strlen(did)), r->handle_ttl_ms);
    } else {
        cache_remove(&r->handle_cache, norm);
    }
    pthread_mutex_unlock(&r->lock);
    return e;
}

void resolver_forget_handle(struct resolver *r, const char *handle)
{
    char norm[SYNTAX_HANDLE_BUF];
    if (syntax_handle_normalize(bytes_str(handle), norm, sizeof(norm)) != ERR_OK) {
        return;
    }
    pthread_mutex_lock(&r->lock);
    cache_remove(&r->handle_cache, norm);
    pthread_mutex_unlock(&r->lock);
}
