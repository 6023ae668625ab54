/* ratelimit.c - the limits engine: the table made live (with overrides), bypasses, the
 * lease cache in front of the shared counters, per-request status and the headers. */
#include "http/ratelimit.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "config/config.h"
#include "core/base.h"
#include "core/cidr.h"
#include "core/sha256.h"
#include "db/metrics.h"
#include "db/ratelimit_store.h"
#include "http/ratelimit_math.h"

#define RL_SHARDS       32
#define RL_SHARD_SLOTS  1024 /* 32 x 1024 keys cached; a key pushed out loses its lease only */
#define RL_PROBES       8
#define RL_EXTRA_MAX    16 /* limits outside the table's (hostbudget, overload counters) */
#define RL_LOG_EVERY_MS RL_MINUTE_MS /* a failing store is logged once a minute */

struct limit_rt {
    const char *name;
    const char *what;
    int64_t points;
    int64_t window_ms;
    bool off;
    atomic_int_fast64_t admitted, refused; /* since the last flush */
    int64_t admitted_total, refused_total; /* this process, flushed */
};

struct group_rt {
    const struct rl_group_def *def;
    int limits[RL_GROUP_LIMITS_MAX];
    int n;
};

struct route_rt {
    const char *nsid;
    const struct group_rt *group; /* NULL: none of its own */
    enum rl_class cls;
    unsigned flags;
};

struct entry {
    uint16_t limit; /* index + 1; 0: a free slot */
    uint32_t hash;
    char key[RL_STORE_KEY_MAX];
    int64_t start_ms, end_ms; /* the window as the store last told us */
    int64_t total;            /* granted to every process, as of our last lease */
    int64_t lease;            /* ours, not yet spent */
    int64_t touched_ms;
};

struct shard {
    pthread_mutex_t lock; /* guards slots */
    struct entry slots[RL_SHARD_SLOTS];
};

/* The request's view: the tightest status seen, and whether it bypasses. */
struct rl_req {
    int8_t bypass; /* -1: not decided yet */
    bool internal; /* bypassing with the internal key: the host's own call to itself */
    bool has;
    bool refused;
    int64_t limit, window_ms, remaining, reset_at_ms;
};

static struct {
    bool started;
    bool enabled;
    char *bypass_key;
    char internal_key[RL_INTERNAL_KEY_HEX + 1]; /* ratelimit_internal_key */
    struct cidr_list bypass_ips;
    struct limit_rt limits[64 + RL_EXTRA_MAX];
    size_t n_limits;
    pthread_mutex_t extra_lock; /* guards adding to limits past the table's */
    struct group_rt groups[32];
    size_t n_groups;
    struct route_rt routes[64];
    size_t n_routes;
    int global_ip; /* group index */
    struct shard *shards;
    atomic_int_fast64_t last_log_ms;
} rl = {.extra_lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- building the tables ---- */

static int find_limit(const char *name)
{
    for (size_t i = 0; i < rl.n_limits; i++) {
        if (strcmp(rl.limits[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static const struct group_rt *find_group(const char *name)
{
    for (size_t i = 0; i < rl.n_groups; i++) {
        if (strcmp(rl.groups[i].def->name, name) == 0) {
            return &rl.groups[i];
        }
    }
    return NULL;
}

/* "name=points/window" or "name=off" (PDS_RATE_LIMITS). */
static enum err apply_override(const char *item, char *why, size_t why_len)
{
    const char *eq = strchr(item, '=');
    char name[RL_STORE_NAME_MAX];
    if (!eq || (size_t)(eq - item) >= sizeof name || eq == item) {
        snprintf(why, why_len, "PDS_RATE_LIMITS: \"%s\" is not name=points/window or name=off",
                 item);
        return ERR_INVALID;
    }
    memcpy(name, item, (size_t)(eq - item));
    name[eq - item] = '\0';
    int li = find_limit(name);
    if (li < 0) {
        snprintf(why, why_len, "PDS_RATE_LIMITS: no limit is named \"%s\"", name);
        return ERR_INVALID;
    }
    struct limit_rt *l = &rl.limits[li];
    if (strcmp(eq + 1, "off") == 0) {
        l->off = true;
        return ERR_OK;
    }
    char *end;
    long long points = strtoll(eq + 1, &end, 10);
    int64_t window;
    if (end == eq + 1 || *end != '/' || points < 1 || rl_parse_duration(end + 1, &window)) {
        snprintf(why, why_len,
                 "PDS_RATE_LIMITS: \"%s\" is not name=points/window (e.g. %s=3000/5m) or "
                 "name=off",
                 item, name);
        return ERR_INVALID;
    }
    l->points = points;
    l->window_ms = window;
    l->off = false;
    return ERR_OK;
}

static enum err build_tables(const struct config *cfg, char *why, size_t why_len)
{
    rl.n_limits = 0;
    for (size_t i = 0; i < ratelimit_limit_defs_len; i++) {
        struct limit_rt *l = &rl.limits[rl.n_limits++];
        l->name = ratelimit_limit_defs[i].name;
        l->what = ratelimit_limit_defs[i].what;
        l->points = ratelimit_limit_defs[i].points;
        l->window_ms = ratelimit_limit_defs[i].window_ms;
    }
    for (size_t i = 0; i < cfg->rate_limits.len; i++) {
        enum err e = apply_override(cfg->rate_limits.items[i], why, why_len);
        if (e) {
            return e;
        }
    }
    rl.n_groups = 0;
    for (size_t i = 0; i < ratelimit_group_defs_len; i++) {
        struct group_rt *g = &rl.groups[rl.n_groups++];
        g->def = &ratelimit_group_defs[i];
        g->n = 0;
        for (int k = 0; k < RL_GROUP_LIMITS_MAX && g->def->limits[k]; k++) {
            int li = find_limit(g->def->limits[k]);
            if (li < 0) {
                snprintf(why, why_len, "rate limit table: group %s names no limit %s", g->def->name,
                         g->def->limits[k]);
                return ERR_INTERNAL;
            }
            g->limits[g->n++] = li;
        }
        if (strcmp(g->def->name, "global-ip") == 0) {
            rl.global_ip = (int)i;
        }
    }
    rl.n_routes = 0;
    for (size_t i = 0; i < ratelimit_route_defs_len; i++) {
        const struct rl_route_def *d = &ratelimit_route_defs[i];
        struct route_rt *r = &rl.routes[rl.n_routes++];
        r->nsid = d->nsid;
        r->group = d->group ? find_group(d->group) : NULL;
        r->cls = d->cls;
        r->flags = d->flags;
        if (d->group && !r->group) {
            snprintf(why, why_len, "rate limit table: route %s names no group %s", d->nsid,
                     d->group);
            return ERR_INTERNAL;
        }
    }
    return ERR_OK;
}

/* ratelimit_internal_key: HMAC-SHA256(PDS_JWT_SECRET, label), hex. */
static void internal_key_derive(const struct config *cfg)
{
    static const char label[] = "pds/ratelimit/internal-bypass/v1";
    rl.internal_key[0] = '\0';
    if (!cfg->jwt_secret || !*cfg->jwt_secret) {
        return;
    }
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)cfg->jwt_secret, strlen(cfg->jwt_secret));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    sodium_bin2hex(rl.internal_key, sizeof rl.internal_key, mac, sizeof mac);
    sodium_memzero(mac, sizeof mac);
}

enum err ratelimit_start(const struct config *cfg, char *why, size_t why_len)
{
    ratelimit_stop();
    if (sodium_init() < 0) {
        snprintf(why, why_len, "libsodium could not start");
        return ERR_INTERNAL;
    }
    enum err e = build_tables(cfg, why, why_len);
    memset(&rl.bypass_ips, 0, sizeof rl.bypass_ips);
    for (size_t i = 0; !e && i < cfg->rate_limit_bypass_ips.len; i++) {
        if (cidr_list_add(&rl.bypass_ips, cfg->rate_limit_bypass_ips.items[i])) {
            snprintf(why, why_len, "PDS_RATE_LIMIT_BYPASS_IPS: \"%s\" is not an address or range",
                     cfg->rate_limit_bypass_ips.items[i]);
            e = ERR_INVALID;
        }
    }
    if (e) {
        return e;
    }
    internal_key_derive(cfg);
    rl.bypass_key = cfg->rate_limit_bypass_key && *cfg->rate_limit_bypass_key
                        ? xstrndup(cfg->rate_limit_bypass_key, strlen(cfg->rate_limit_bypass_key))
                        : NULL;
    rl.shards = xcalloc(RL_SHARDS, sizeof *rl.shards);
    for (int i = 0; i < RL_SHARDS; i++) {
        pthread_mutex_init(&rl.shards[i].lock, NULL);
    }
    rl.enabled = cfg->rate_limits_enabled;
    rl.started = true;
    return ERR_OK;
}

void ratelimit_stop(void)
{
    if (!rl.started) {
        return;
    }
    rl.started = false;
    rl.enabled = false;
    for (int i = 0; i < RL_SHARDS; i++) {
        pthread_mutex_destroy(&rl.shards[i].lock);
    }
    free(rl.shards);
    rl.shards = NULL;
    sodium_memzero(rl.internal_key, sizeof rl.internal_key);
    if (rl.bypass_key) {
        sodium_memzero(rl.bypass_key, strlen(rl.bypass_key));
        free(rl.bypass_key);
        rl.bypass_key = NULL;
    }
}

bool ratelimit_enabled(void)
{
    return rl.started && rl.enabled;
}

/* ---- requests ---- */

static struct rl_req *req_state(struct xrpc_req *rq)
{
    if (!rq->ratelimit) {
        struct rl_req *s = arena_zalloc(rq->arena, sizeof *s);
        s->bypass = -1;
        rq->ratelimit = s;
    }
    return rq->ratelimit;
}

static const struct route_rt *route_of(const struct xrpc_req *rq)
{
    if (!rq->nsid) {
        return NULL;
    }
    for (size_t i = 0; i < rl.n_routes; i++) {
        if (strcmp(rl.routes[i].nsid, rq->nsid) == 0) {
            return &rl.routes[i];
        }
    }
    return NULL;
}

enum rl_class ratelimit_class(const struct xrpc_req *rq)
{
    const struct route_rt *r = route_of(rq);
    if (r && r->cls != RL_CLASS_BY_METHOD) {
        return r->cls;
    }
    if (!rq->nsid) {
        /* plain paths: the OAuth endpoints sign in, the rest are pages and host routes */
        return rq->path && strncmp(rq->path, "/oauth/", 7) == 0 ? RL_CLASS_AUTH : RL_CLASS_NONE;
    }
    return rq->method_bit == HTTP_GET ? RL_CLASS_READ : RL_CLASS_WRITE;
}

const char *ratelimit_internal_key(void)
{
    return rl.internal_key;
}

/* Constant-time equality of a header value with a key (both hashed, so the time does not
 * depend on the lengths either). */
static bool key_matches(const char *h, const char *key)
{
    uint8_t a[32], b[32];
    crypto_generichash(a, sizeof a, (const uint8_t *)h, strlen(h), NULL, 0);
    crypto_generichash(b, sizeof b, (const uint8_t *)key, strlen(key), NULL, 0);
    return sodium_memcmp(a, b, sizeof a) == 0;
}

bool ratelimit_bypassed(struct xrpc_req *rq)
{
    struct rl_req *s = req_state(rq);
    if (s->bypass >= 0) {
        return s->bypass;
    }
    bool by = rq->client_ip && cidr_list_contains(&rl.bypass_ips, rq->client_ip);
    const char *h = xrpc_header(rq, "x-ratelimit-bypass");
    if (!by && h) {
        by = rl.bypass_key && key_matches(h, rl.bypass_key);
        if (!by && rl.internal_key[0] && key_matches(h, rl.internal_key)) {
            by = s->internal = true;
        }
    }
    s->bypass = by;
    return by;
}

bool ratelimit_bypassed_by_operator(struct xrpc_req *rq)
{
    return ratelimit_bypassed(rq) && !req_state(rq)->internal;
}

void ratelimit_note(struct xrpc_req *rq, int64_t limit, int64_t window_ms, int64_t remaining,
                    int64_t reset_ms)
{
    struct rl_req *s = req_state(rq);
    if (remaining < 0) {
        remaining = 0;
    }
    if (s->has && (s->refused || s->remaining <= remaining)) {
        return;
    }
    s->has = true;
    s->limit = limit;
    s->window_ms = window_ms;
    s->remaining = remaining;
    s->reset_at_ms = now_ms() + (reset_ms > 0 ? reset_ms : 0);
}

static void note_refused(struct xrpc_req *rq, int64_t limit, int64_t window_ms, int64_t reset_ms)
{
    struct rl_req *s = req_state(rq);
    s->has = true;
    s->refused = true;
    s->limit = limit;
    s->window_ms = window_ms;
    s->remaining = 0;
    s->reset_at_ms = now_ms() + (reset_ms > 0 ? reset_ms : 0);
}

void ratelimit_add_headers(struct xrpc_req *rq)
{
    struct rl_req *s = rq->ratelimit;
    if (!s || !s->has) {
        return;
    }
    char v[64];
    snprintf(v, sizeof v, "%" PRId64, s->limit);
    xrpc_set_header(rq, "RateLimit-Limit", v);
    snprintf(v, sizeof v, "%" PRId64, s->remaining);
    xrpc_set_header(rq, "RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%" PRId64, s->reset_at_ms / 1000);
    xrpc_set_header(rq, "RateLimit-Reset", v);
    snprintf(v, sizeof v, "%" PRId64 ";w=%" PRId64, s->limit, s->window_ms / 1000);
    xrpc_set_header(rq, "RateLimit-Policy", v);
    if (s->refused) {
        int64_t wait = s->reset_at_ms - now_ms();
        snprintf(v, sizeof v, "%" PRId64, wait > 0 ? (wait + 999) / 1000 : 1);
        xrpc_set_header(rq, "Retry-After", v);
    }
}

int ratelimit_refuse(struct xrpc_req *rq, int64_t limit, int64_t window_ms, int64_t remaining,
                     int64_t reset_ms, const char *message)
{
    (void)remaining;
    note_refused(rq, limit, window_ms, reset_ms);
    return xrpc_fail(rq, 429, "RateLimitExceeded", "%s", message ? message : "Rate Limit Exceeded");
}

/* ---- the lease cache ---- */

/* The stored form of a key: itself when short, else "h:" and its SHA-256 in hex. */
static void stored_key(const char *key, char out[RL_STORE_KEY_MAX])
{
    size_t n = strlen(key);
    if (n < RL_STORE_KEY_MAX) {
        memcpy(out, key, n + 1);
        return;
    }
    uint8_t h[SHA256_BYTES];
    sha256(key, n, h);
    static const char hex[] = "0123456789abcdef";
    out[0] = 'h';
    out[1] = ':';
    for (int i = 0; i < SHA256_BYTES; i++) {
        out[2 + 2 * i] = hex[h[i] >> 4];
        out[3 + 2 * i] = hex[h[i] & 15];
    }
    out[2 + 2 * SHA256_BYTES] = '\0';
}

static uint32_t hash_of(int limit, const char *key)
{
    uint32_t h = 2166136261u ^ (uint32_t)limit; /* FNV-1a */
    for (const char *p = key; *p; p++) {
        h = (h ^ (uint8_t)*p) * 16777619u;
    }
    return h;
}

/* The entry of (limit, key) in its locked shard, made if absent (evicting the least
 * recently used of the probed slots). */
static struct entry *entry_of(struct shard *sh, int limit, const char *key, uint32_t h, int64_t now)
{
    struct entry *victim = NULL; /* a free slot, else the least recently used */
    for (int i = 0; i < RL_PROBES; i++) {
        struct entry *e = &sh->slots[(h / RL_SHARDS + (uint32_t)i) % RL_SHARD_SLOTS];
        if (e->limit == limit + 1 && e->hash == h && strcmp(e->key, key) == 0) {
            e->touched_ms = now;
            return e;
        }
        if (e->limit == 0) {
            if (!victim || victim->limit != 0) {
                victim = e;
            }
        } else if (!victim || (victim->limit != 0 && e->touched_ms < victim->touched_ms)) {
            victim = e;
        }
    }
    memset(victim, 0, sizeof *victim);
    victim->limit = (uint16_t)(limit + 1);
    victim->hash = h;
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->touched_ms = now;
    return victim;
}

/* What one limit said about one check. */
struct verdict {
    int limit;
    bool taken;   /* points spent from our lease */
    bool refused; /* spent: no points left in this window */
    bool lease;   /* ask the store */
    int64_t want;
    int64_t remaining, end_ms;
};

static struct shard *shard_for(uint32_t h)
{
    return &rl.shards[h % RL_SHARDS];
}

/* Spends from the lease if it can; else says whether the window is spent or a lease is
 * needed. Called with the shard locked. */
static void judge(struct entry *e, const struct limit_rt *l, int64_t points, int64_t now,
                  struct verdict *v)
{
    bool live = e->end_ms > now;
    if (live && e->lease >= points) {
        e->lease -= points;
        v->taken = true;
    } else if (live && l->points - e->total + e->lease < points) {
        v->refused = true; /* no process can have more: refuse without asking */
    } else {
        int64_t left = live ? l->points - e->total + e->lease : l->points;
        v->lease = true;
        v->want = rl_lease_chunk(l->points, left, points);
    }
    v->remaining = live ? l->points - e->total + e->lease : l->points - points;
    v->end_ms = live ? e->end_ms : now + l->window_ms;
}

static void refund(int limit, const char *key, int64_t points)
{
    uint32_t h = hash_of(limit, key);
    struct shard *sh = shard_for(h);
    pthread_mutex_lock(&sh->lock);
    struct entry *e = entry_of(sh, limit, key, h, now_ms());
    if (e->end_ms > now_ms()) {
        e->lease += points;
    }
    pthread_mutex_unlock(&sh->lock);
}

static void log_store_failure(void)
{
    int64_t now = now_ms(), last = atomic_load(&rl.last_log_ms);
    if (now - last >= RL_LOG_EVERY_MS &&
        atomic_compare_exchange_strong(&rl.last_log_ms, &last, now)) {
        log_warn(NULL, "rate limits: the shared counters cannot be reached; admitting meanwhile");
    }
}

static int cmp_verdict_name(const void *a, const void *b)
{
    const struct verdict *x = *(const struct verdict *const *)a;
    const struct verdict *y = *(const struct verdict *const *)b;
    return strcmp(rl.limits[x->limit].name, rl.limits[y->limit].name);
}

/* Leases for the verdicts that need it (one round trip) and spends from the new leases. */
static void lease_and_take(struct db *db, struct verdict *v, int n, const char *key, int64_t points)
{
    struct verdict *todo[RL_GROUP_LIMITS_MAX];
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (v[i].lease) {
            todo[k++] = &v[i];
        }
    }
    if (k == 0) {
        return;
    }
    qsort(todo, (size_t)k, sizeof *todo, cmp_verdict_name);
    struct rl_lease_req req[RL_GROUP_LIMITS_MAX];
    struct rl_lease_res res[RL_GROUP_LIMITS_MAX];
    for (int i = 0; i < k; i++) {
        const struct limit_rt *l = &rl.limits[todo[i]->limit];
        req[i] =
            (struct rl_lease_req){l->name, key, l->points, l->window_ms, todo[i]->want, points};
    }
    if (!db || db_in_tx(db) || rl_store_lease(db, req, (size_t)k, res)) {
        log_store_failure();
        for (int i = 0; i < k; i++) {
            todo[i]->lease = false; /* fail open: admitted, nothing spent */
        }
        return;
    }
    for (int i = 0; i < k; i++) {
        struct verdict *t = todo[i];
        const struct limit_rt *l = &rl.limits[t->limit];
        uint32_t h = hash_of(t->limit, key);
        struct shard *sh = shard_for(h);
        pthread_mutex_lock(&sh->lock);
        struct entry *e = entry_of(sh, t->limit, key, h, now_ms());
        int64_t end = res[i].start_ms + l->window_ms;
        if (e->start_ms != res[i].start_ms) {
            e->start_ms = res[i].start_ms; /* a new window: what we held is gone */
            e->end_ms = end;
            e->lease = 0;
            e->total = 0;
        }
        e->lease += res[i].granted;
        if (res[i].total > e->total) {
            e->total = res[i].total;
        }
        if (e->lease >= points) {
            e->lease -= points;
            t->taken = true;
        } else {
            t->refused = true;
        }
        t->lease = false;
        t->remaining = l->points - e->total + e->lease;
        t->end_ms = e->end_ms;
        pthread_mutex_unlock(&sh->lock);
    }
}

/* Checks every limit of group g for key: 0 and the tightest status noted, or the refusal
 * (headers noted, counts kept; the caller answers). Points taken from earlier limits are
 * given back when a later one refuses. */
static bool check_group(struct xrpc_req *rq, const struct group_rt *g, const char *raw_key,
                        int64_t points)
{
    if (!ratelimit_enabled() || !g || g->n == 0 || points < 1 || ratelimit_bypassed(rq)) {
        return true;
    }
    char key[RL_STORE_KEY_MAX];
    stored_key(raw_key, key);
    struct verdict v[RL_GROUP_LIMITS_MAX];
    int n = 0;
    int64_t now = now_ms();
    bool refused = false;
    for (int i = 0; i < g->n; i++) {
        const struct limit_rt *l = &rl.limits[g->limits[i]];
        if (l->off) {
            continue;
        }
        struct verdict *t = &v[n++];
        memset(t, 0, sizeof *t);
        t->limit = g->limits[i];
        uint32_t h = hash_of(t->limit, key);
        struct shard *sh = shard_for(h);
        pthread_mutex_lock(&sh->lock);
        judge(entry_of(sh, t->limit, key, h, now), l, points, now, t);
        pthread_mutex_unlock(&sh->lock);
        refused = refused || t->refused;
    }
    if (!refused) {
        lease_and_take(db_thread(), v, n, key, points); /* the primary, never a replica */
    }
    /* the status sent: the refusing limit, else the one with the fewest points left */
    const struct verdict *tight = NULL;
    for (int i = 0; i < n; i++) {
        refused = refused || v[i].refused;
        if (v[i].refused) {
            if (!tight || !tight->refused) {
                tight = &v[i];
            }
        } else if (!tight || (!tight->refused && v[i].remaining < tight->remaining)) {
            tight = &v[i];
        }
    }
    for (int i = 0; i < n; i++) {
        struct limit_rt *l = &rl.limits[v[i].limit];
        if (refused && v[i].taken) {
            refund(v[i].limit, key, points);
        }
        if (refused && v[i].refused) {
            atomic_fetch_add(&l->refused, 1);
        } else if (!refused) {
            atomic_fetch_add(&l->admitted, 1);
        }
    }
    if (!tight) {
        return true;
    }
    const struct limit_rt *tl = &rl.limits[tight->limit];
    if (refused) {
        note_refused(rq, tl->points, tl->window_ms, tight->end_ms - now);
        return false;
    }
    ratelimit_note(rq, tl->points, tl->window_ms, tight->remaining, tight->end_ms - now);
    return true;
}

/* The client address as a key: an IPv6 address by its /64 (one subscriber's usual
 * allocation, so walking through its addresses buys nothing). */
static void ip_key(const struct xrpc_req *rq, char out[CIDR_ADDR_STR_MAX])
{
    struct cidr c;
    if (!rq->client_ip || !cidr_addr_parse(rq->client_ip, &c)) {
        snprintf(out, CIDR_ADDR_STR_MAX, "%s", rq->client_ip ? rq->client_ip : "unknown");
        return;
    }
    if (c.family == 6) {
        memset(c.addr + 8, 0, 8);
    }
    cidr_format_addr(&c, out);
}

/* The key of group g for the request and subject (NULL for keys that need none). */
static const char *key_of(struct xrpc_req *rq, const struct group_rt *g, const char *subject)
{
    char ip[CIDR_ADDR_STR_MAX];
    switch (g->def->key) {
    case RL_KEY_IP:
        ip_key(rq, ip);
        return arena_strndup(rq->arena, ip, strlen(ip));
    case RL_KEY_DID:
        return subject;
    case RL_KEY_SUBJECT_IP:
        if (!subject) {
            return NULL;
        }
        ip_key(rq, ip);
        size_t n = strlen(subject) + 1 + strlen(ip) + 1;
        char *k = arena_alloc(rq->arena, n);
        snprintf(k, n, "%s-%s", subject, ip);
        return k;
    }
    return NULL;
}

static int refuse_answer(struct xrpc_req *rq)
{
    return xrpc_fail(rq, 429, "RateLimitExceeded", "Rate Limit Exceeded");
}

#define PEEK_JWT_MAX 8192 /* bytes of a token we bother to peek into */

const char *ratelimit_peek_did(struct xrpc_req *rq)
{
    const struct route_rt *r = route_of(rq);
    const char *h = r && (r->flags & RL_ROUTE_WRITES) ? xrpc_header(rq, "authorization") : NULL;
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || strlen(h) > PEEK_JWT_MAX) {
        return NULL;
    }
    const char *dot1 = strchr(h + 7, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2) {
        return NULL;
    }
    struct buf b;
    buf_init(&b, PEEK_JWT_MAX);
    const char *did = NULL;
    if (!base64url_decode(bytes_of((const uint8_t *)dot1 + 1, (size_t)(dot2 - dot1 - 1)), &b)) {
        json_error_t jerr;
        json_t *claims = json_loadb((const char *)b.ptr, b.len, 0, &jerr);
        const char *sub = json_string_value(json_object_get(claims, "sub"));
        if (sub && strncmp(sub, "did:", 4) == 0 && strlen(sub) < RL_STORE_KEY_MAX) {
            did = arena_strndup(rq->arena, sub, strlen(sub));
        }
        json_decref(claims);
    }
    buf_clear(&b);
    return did;
}

/* Whether some limit of group g is spent for key in this process (nothing consumed);
 * *reset_ms and *limit describe it. */
static bool group_spent(const struct group_rt *g, const char *raw_key, int64_t *reset_ms,
                        const struct limit_rt **limit)
{
    char key[RL_STORE_KEY_MAX];
    stored_key(raw_key, key);
    int64_t now = now_ms();
    for (int i = 0; i < g->n; i++) {
        const struct limit_rt *l = &rl.limits[g->limits[i]];
        if (l->off) {
            continue;
        }
        uint32_t h = hash_of(g->limits[i], key);
        struct shard *sh = shard_for(h);
        pthread_mutex_lock(&sh->lock);
        struct entry *e = entry_of(sh, g->limits[i], key, h, now);
        bool spent = e->end_ms > now && l->points - e->total + e->lease < 1;
        int64_t end = e->end_ms;
        pthread_mutex_unlock(&sh->lock);
        if (spent) {
            *reset_ms = end - now;
            *limit = l;
            return true;
        }
    }
    return false;
}

int ratelimit_on_headers(struct xrpc_req *rq)
{
    if (!ratelimit_enabled() || !rq->nsid) {
        return 0;
    }
    const struct route_rt *r = route_of(rq);
    /* an account whose write points are spent is refused before anything else, so a
     * writer that ignores 429s from many addresses costs no lease of a new address */
    const char *did = r && (r->flags & RL_ROUTE_WRITES) && !ratelimit_bypassed(rq)
                          ? ratelimit_peek_did(rq)
                          : NULL;
    int64_t reset;
    const struct limit_rt *spent;
    if (did && group_spent(find_group(RL_GROUP_REPO_WRITE), did, &reset, &spent)) {
        atomic_fetch_add(&rl.limits[spent - rl.limits].refused, 1);
        note_refused(rq, spent->points, spent->window_ms, reset);
        return refuse_answer(rq);
    }
    if (!(r && (r->flags & RL_ROUTE_OWN_BUCKET))) {
        const struct group_rt *g = &rl.groups[rl.global_ip];
        if (!check_group(rq, g, key_of(rq, g, NULL), 1)) {
            return refuse_answer(rq);
        }
    }
    if (r && r->group && r->group->def->key == RL_KEY_IP &&
        !check_group(rq, r->group, key_of(rq, r->group, NULL), 1)) {
        return refuse_answer(rq);
    }
    return 0;
}

int ratelimit_on_input(struct xrpc_req *rq)
{
    if (!ratelimit_enabled()) {
        return 0;
    }
    const struct route_rt *r = route_of(rq);
    if (!r || !r->group || r->group->def->key != RL_KEY_SUBJECT_IP ||
        !r->group->def->subject_field) {
        return 0;
    }
    /* the reference keys by the input as sent; a missing field is the handler's 400 */
    const char *subject =
        json_string_value(json_object_get(rq->json, r->group->def->subject_field));
    const char *key = subject ? key_of(rq, r->group, subject) : NULL;
    if (key && !check_group(rq, r->group, key, 1)) {
        return refuse_answer(rq);
    }
    return 0;
}

int ratelimit_on_account(struct xrpc_req *rq, const char *did)
{
    if (!ratelimit_enabled() || !did) {
        return 0;
    }
    const struct route_rt *r = route_of(rq);
    if (r && r->group && r->group->def->key == RL_KEY_DID && !check_group(rq, r->group, did, 1)) {
        return refuse_answer(rq);
    }
    return 0;
}

bool ratelimit_try(struct xrpc_req *rq, const char *group, const char *subject, int64_t points)
{
    if (!ratelimit_enabled()) {
        return true;
    }
    const struct group_rt *g = find_group(group);
    if (!g) {
        log_error(&rq->log, "rate limits: no group named %s", group);
        return true;
    }
    const char *key = key_of(rq, g, subject);
    return !key || check_group(rq, g, key, points);
}

int ratelimit_consume(struct xrpc_req *rq, const char *group, const char *subject, int64_t points)
{
    return ratelimit_try(rq, group, subject, points) ? 0 : refuse_answer(rq);
}

/* ---- counts ---- */

/* What the counts kept for other limiters mean, for the admin API. */
static const char *counted_what(const char *name)
{
    static const struct {
        const char *name, *what;
    } rows[] = {
        {"host-share", "writes refused: the account asks for more than its fair share of the "
                       "host's event budget"},
        {"host-budget", "writes refused: the host's event budget is spent for the moment"},
        {"overload-read", "reads handed to handler threads (admitted) or answered 503"},
        {"overload-auth", "sign-ins handed to handler threads (admitted) or answered 503"},
        {"overload-write", "writes handed to handler threads (admitted) or answered 503"},
        {"overload-bulk", "bulk work handed to handler threads (admitted) or answered 503"},
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        if (strcmp(rows[i].name, name) == 0) {
            return rows[i].what;
        }
    }
    return "";
}

void ratelimit_count(const char *name, bool refused)
{
    if (!rl.started) {
        return;
    }
    int li = find_limit(name);
    if (li < 0) {
        pthread_mutex_lock(&rl.extra_lock);
        li = find_limit(name);
        if (li < 0 && rl.n_limits < ARRAY_LEN(rl.limits)) {
            struct limit_rt *l = &rl.limits[rl.n_limits];
            memset(l, 0, sizeof *l);
            l->name = name; /* callers pass literals */
            l->what = counted_what(name);
            li = (int)rl.n_limits++;
        }
        pthread_mutex_unlock(&rl.extra_lock);
        if (li < 0) {
            return;
        }
    }
    atomic_fetch_add(refused ? &rl.limits[li].refused : &rl.limits[li].admitted, 1);
    if (refused) {
        static const char *const labels[] = {"limit"};
        struct metrics_family *f =
            metrics_family(METRICS_RATE_LIMIT_REFUSED, "Requests refused by a rate limit, by limit",
                           METRICS_COUNTER, labels, 1, NULL, 0);
        const char *values[] = {name};
        metrics_inc(metrics_series(f, values));
    }
}

enum err ratelimit_flush(struct db *db)
{
    if (!rl.started) {
        return ERR_OK;
    }
    const char *names[ARRAY_LEN(rl.limits)] = {0};
    int64_t admitted[ARRAY_LEN(rl.limits)] = {0}, refused[ARRAY_LEN(rl.limits)] = {0};
    size_t n = 0, count = rl.n_limits;
    for (size_t i = 0; i < count; i++) {
        struct limit_rt *l = &rl.limits[i];
        int64_t a = atomic_exchange(&l->admitted, 0), r = atomic_exchange(&l->refused, 0);
        if (a || r) {
            names[n] = l->name;
            admitted[n] = a;
            refused[n] = r;
            l->admitted_total += a;
            l->refused_total += r;
            n++;
        }
    }
    enum err e = rl_store_stats_add(db, names, admitted, refused, n);
    if (e) {
        /* put them back for the next flush */
        for (size_t i = 0; i < n; i++) {
            int li = find_limit(names[i]);
            atomic_fetch_add(&rl.limits[li].admitted, admitted[i]);
            atomic_fetch_add(&rl.limits[li].refused, refused[i]);
            rl.limits[li].admitted_total -= admitted[i];
            rl.limits[li].refused_total -= refused[i];
        }
    }
    return e;
}

json_t *ratelimit_status_json(struct db *db)
{
    json_t *out = json_array();
    PGresult *r = NULL;
    if (db && db_query(db, "SELECT name, admitted, refused, last_refused_at FROM rate_limit_stats",
                       NULL, &r)) {
        r = NULL;
    }
    for (size_t i = 0; i < rl.n_limits; i++) {
        const struct limit_rt *l = &rl.limits[i];
        json_t *o = json_pack("{s:s,s:s}", "name", l->name, "what", l->what);
        if (l->points > 0) {
            json_object_set_new(o, "points", json_integer(l->points));
            json_object_set_new(o, "windowSeconds", json_integer(l->window_ms / 1000));
            json_object_set_new(o, "enabled", json_boolean(rl.enabled && !l->off));
        }
        int64_t adm = l->admitted_total + atomic_load(&l->admitted);
        int64_t ref = l->refused_total + atomic_load(&l->refused);
        if (r) {
            adm = ref = 0; /* the database's counts cover every process, this one's flushed */
            for (int k = 0; k < PQntuples(r); k++) {
                if (strcmp(db_col_text(r, k, 0), l->name) == 0) {
                    adm = db_col_i64(r, k, 1);
                    ref = db_col_i64(r, k, 2);
                    if (!db_col_null(r, k, 3)) {
                        json_object_set_new(o, "lastRefusedAt",
                                            json_integer(db_col_time_us(r, k, 3) / 1000000));
                    }
                }
            }
            adm += atomic_load(&l->admitted);
            ref += atomic_load(&l->refused);
        }
        json_object_set_new(o, "admitted", json_integer(adm));
        json_object_set_new(o, "refused", json_integer(ref));
        json_array_append_new(out, o);
    }
    PQclear(r);
    return out;
}
